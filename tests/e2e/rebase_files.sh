#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit rebase --files on a vk-gen Windows-like base: an "update" applied to a copy (NEWBASE), a user's child of the
# old base changed with put/rm/mkdir (new files and a folder tree with their times, a changed file, removals, a named
# stream, a volatile file), including the four overlaps (changed differently: conflict; changed identically: not a
# conflict; removed by the user and changed by the update; changed by the user and removed by the update; plus a file
# added under a folder the update removed). OUT must hold exactly the user's non-conflicting changes over NEWBASE
# (vhdkit diff, sleuthkit on libvhdi's flattening), the update's changes, the user's bytes and times; --prefer user
# flips the conflicts; exit codes 0/1/2/3/4; inputs never change; a crash at every write leaves no OUT. Registry: hives
# changed on both sides (reg set/del) are merged value by value, with the same conflict rules (vhdkit reg, hivex).
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name the vk-gen binary}"
: "${VHDI_CAT:?VHDI_CAT must name tests/peers/vhdi_cat}"
for tool in fls icat tsk_recover mmls vhdiinfo python3 jq flock; do
    command -v "$tool" >/dev/null 2>&1 || skip_all "$tool is not installed"
done
PEER="$VHDKIT_SRCDIR/tests/e2e/diff_peer.py"

"$VKGEN" --out "$T/old.vhd" --size 256M --files 40 --pagefile 4M --seed 3 --quiet --manifest "$T/man"
is "$?" 0 "vk-gen made the old base"
# The paths this script changes, as vk-gen (seed 3) makes them.
HOSTS=Windows/System32/drivers/etc/hosts INI=Users/alice/Documents/desktop.ini
SQM=Windows/SoftwareDistribution/Download/sqm.dat SETUP=Users/alice/Downloads/setup.exe
NOTES=Users/alice/Documents/notes.txt XLSX="Users/alice/Documents/Übersicht/Bericht 0008.xlsx"
WMS=Users/alice/AppData/Local/Temp/wmsetup.log P0="Users/alice/Documents/Projects/Project 0"
CONTOSO="Program Files/Contoso" CMD=Windows/System32/cmd.exe MPLOG=Windows/Temp/MpCmdRun.log
missing=0
for p in "$HOSTS" "$INI" "$SQM" "$SETUP" "$NOTES" "$XLSX" "$WMS" "$P0" "$CONTOSO" "$CMD" "$MPLOG" pagefile.sys; do
    cut -d' ' -f4- "$T/man" | grep -qxF "$p" || { missing=$((missing + 1)); echo "# not in the manifest: $p"; }
done
is "$missing" 0 "the base holds every path the script changes"

# ---- the update: NEWBASE is a copy of the old base with files changed, added and removed ----
vk convert "$T/old.vhd" "$T/new.vhd" >/dev/null
mk() { printf '%s\n' "$2" >"$T/$1"; touch -d "$3" "$T/$1"; }
mk upd_hosts "127.0.0.1 update" '2024-03-01 10:00:00 UTC'
mk same_ini "[.ShellClassInfo] same" '2024-03-02 10:00:00 UTC'
mk upd_sqm "sqm of the update" '2024-03-03 10:00:00 UTC'
mk upd_cmd "cmd of the update" '2024-03-04 10:00:00 UTC'
check "update: change hosts" vk put "$T/new.vhd" "$T/upd_hosts" "/$HOSTS"
check "update: change desktop.ini" vk put "$T/new.vhd" "$T/same_ini" "/$INI"
check "update: change sqm.dat" vk put "$T/new.vhd" "$T/upd_sqm" "/$SQM"
check "update: remove setup.exe" vk rm "$T/new.vhd" "/$SETUP"
check "update: remove a program folder" vk rm -r "$T/new.vhd" "/$CONTOSO"
check "update: change cmd.exe" vk put "$T/new.vhd" "$T/upd_cmd" "/$CMD"
check "update: add a patch folder" vk mkdir "$T/new.vhd" /Windows/Patches
check "update: add a file" vk put "$T/new.vhd" "$T/upd_cmd" /Windows/Patches/kb1.msu
check "update: remove a log" vk rm "$T/new.vhd" "/$MPLOG"

# ---- the user: a child of the old base ----
vk snapshot "$T/old.vhd" "$T/child.vhd" >/dev/null
mk usr_hosts "127.0.0.1 user" '2025-01-01 08:00:00 UTC'
mk usr_setup "setup patched by the user" '2025-01-02 08:00:00 UTC'
mk usr_cfg "editor settings" '2025-01-03 08:00:00 UTC'
mk usr_notes "the user's notes, longer than before? no: shorter" '2025-01-04 08:00:00 UTC'
mk zone "[ZoneTransfer] ZoneId=3" '2025-01-05 08:00:00 UTC'
pattern "$T/report" 70000 && touch -d '2025-01-06 08:00:00 UTC' "$T/report"
mkdir -p "$T/tree/Deep/Er" && pattern "$T/tree/Deep/a.bin" 5000 && pattern "$T/tree/Deep/Er/b.bin" 300 &&
    printf 'small\n' >"$T/tree/top.txt" && touch -d '2025-01-07 08:00:00 UTC' "$T/tree/Deep/a.bin" "$T/tree/Deep/Er/b.bin" \
    "$T/tree/top.txt" "$T/tree/Deep/Er" "$T/tree/Deep" "$T/tree"
check "user: change hosts (differently)" vk put "$T/child.vhd" "$T/usr_hosts" "/$HOSTS"
check "user: change desktop.ini (identically)" vk put "$T/child.vhd" "$T/same_ini" "/$INI"
check "user: remove sqm.dat (the update changed it)" vk rm "$T/child.vhd" "/$SQM"
check "user: change setup.exe (the update removed it)" vk put "$T/child.vhd" "$T/usr_setup" "/$SETUP"
check "user: add a file in the folder the update removed" vk put "$T/child.vhd" "$T/usr_cfg" "/$CONTOSO/Editor/user.cfg"
check "user: change notes.txt" vk put "$T/child.vhd" "$T/usr_notes" "/$NOTES"
check "user: add a file" vk put "$T/child.vhd" "$T/report" "/Users/alice/Documents/new report.docx"
check "user: add a folder tree" vk put "$T/child.vhd" "$T/tree" /Users/alice/Work
check "user: add a named stream" vk put "$T/child.vhd" "$T/zone" "/$XLSX:Zone.Identifier"
check "user: add a stream to the new file" vk put "$T/child.vhd" "$T/zone" "/Users/alice/Documents/new report.docx:Zone.Identifier"
check "user: remove a file" vk rm "$T/child.vhd" "/$WMS"
check "user: remove a folder" vk rm -r "$T/child.vhd" "/$P0"
check "user: mkdir an empty folder" vk mkdir "$T/child.vhd" /Users/alice/Empty
check "user: a volatile file changed" vk put "$T/child.vhd" "$T/zone" /pagefile.sys

inputs() { for f in old new child; do sum "$T/$f.vhd"; done | tr '\n' ' '; }
before=$(inputs)

# ---- rebase --files, default policy: the update wins conflicts ----
is "$(status vk rebase --files "$T/child.vhd" "$T/new.vhd" -o "$T/out.vhd")" 1 "conflicts resolved: exit 1"
cp "$T/out" "$T/text"
grep -q "^C /$HOSTS: user changed, update changed: kept the update's version" "$T/text" && ok "text: the hosts conflict" ||
    not_ok "text: the hosts conflict"
grep -q "^= /$INI: the same change" "$T/text" && ok "text: the identical change is not a conflict" ||
    not_ok "text: the identical change"
grep -q "^S /pagefile.sys: volatile" "$T/text" && ok "text: pagefile.sys skipped" || not_ok "text: pagefile.sys skipped"
grep -q "^+ /Users/alice/Work/Deep/Er/b.bin$" "$T/text" && ok "text: an added file" || not_ok "text: an added file"
is "$(tail -n 1 "$T/text" | sed 's/.*: new child/new child/')" \
    "new child of $T/new.vhd: 13 applied, 4 conflicts (kept the update's version), 1 same on both sides, 1 skipped" \
    "text: the summary"
is "$(inputs)" "$before" "CHILD, the old base and NEWBASE are unchanged (sha256)"

# exactly the user's non-conflicting changes over NEWBASE
changes() { vk diff "$1" "$2" --json | jq -r '.differences[] | .change + " " + .path' | sort; }
cat >"$T/want" <<EOF
added /Users/alice/Documents/new report.docx
added /Users/alice/Empty
added /Users/alice/Work
added /Users/alice/Work/Deep
added /Users/alice/Work/Deep/Er
added /Users/alice/Work/Deep/Er/b.bin
added /Users/alice/Work/Deep/a.bin
added /Users/alice/Work/top.txt
changed /$NOTES
changed /$XLSX
removed /$P0
removed /$P0/input notes 0006.txt
removed /$WMS
EOF
sort -o "$T/want" "$T/want"
changes "$T/new.vhd" "$T/out.vhd" >"$T/got"
if cmp -s "$T/got" "$T/want"; then ok "diff NEWBASE OUT: exactly the user's non-conflicting changes"; else
    not_ok "diff NEWBASE OUT"; diff "$T/want" "$T/got" | sed 's/^/#   /'; fi

# the update is in OUT, the user's bytes and times are too
is "$(vk cat "$T/out.vhd" "/$CMD" | sum /dev/stdin)" "$(sum "$T/upd_cmd")" "OUT: the update's cmd.exe"
is "$(vk cat "$T/out.vhd" /Windows/Patches/kb1.msu | sum /dev/stdin)" "$(sum "$T/upd_cmd")" "OUT: the update's new file"
is "$(status vk stat "$T/out.vhd" "/$MPLOG")" 3 "OUT: the log the update removed stays removed"
is "$(vk cat "$T/out.vhd" "/$HOSTS" | sum /dev/stdin)" "$(sum "$T/upd_hosts")" "OUT: conflict kept the update's hosts"
is "$(vk cat "$T/out.vhd" "/$SQM" | sum /dev/stdin)" "$(sum "$T/upd_sqm")" "OUT: conflict kept the update's sqm.dat"
is "$(status vk stat "$T/out.vhd" "/$SETUP")" 3 "OUT: conflict kept setup.exe removed"
is "$(status vk stat "$T/out.vhd" "/$CONTOSO")" 3 "OUT: conflict kept the program folder removed"
bad=0
for p in "/$NOTES" "/Users/alice/Documents/new report.docx" "/Users/alice/Documents/new report.docx:Zone.Identifier" \
    "/$XLSX:Zone.Identifier" "/$XLSX" /Users/alice/Work/Deep/a.bin /Users/alice/Work/Deep/Er/b.bin /Users/alice/Work/top.txt; do
    [ "$(vk cat "$T/out.vhd" "$p" | sum /dev/stdin)" = "$(vk cat "$T/child.vhd" "$p" | sum /dev/stdin)" ] ||
        { bad=$((bad + 1)); echo "# bytes differ: $p"; }
done
is "$bad" 0 "OUT: every replayed file and stream reads as in CHILD (sha256)"
bad=0
for p in "/$NOTES" "/Users/alice/Documents/new report.docx" "/$XLSX" /Users/alice/Work /Users/alice/Work/Deep \
    /Users/alice/Work/Deep/Er /Users/alice/Work/Deep/a.bin /Users/alice/Work/Deep/Er/b.bin /Users/alice/Empty; do
    t() { vk stat "$1" "$p" --json | jq -c '[.created, .modified, .accessed]'; }
    [ "$(t "$T/out.vhd")" = "$(t "$T/child.vhd")" ] || { bad=$((bad + 1)); echo "# times differ: $p"; }
done
is "$bad" 0 "OUT: created, modified and accessed times as in CHILD (files and folders)"
is "$(vk stat "$T/out.vhd" /Users/alice/Work/Deep/a.bin --json | jq -r .modified)" "2025-01-07T08:00:00.0000000Z" \
    "OUT: a file of the tree keeps its host time"

# OUT is a child of NEWBASE: vhdkit, libvhdi
is "$(vk info --json "$T/out.vhd" | jq -r '.chain[0].path + " " + (.chain[0].uuid_match | tostring)')" "$T/new.vhd true" \
    "info: OUT's parent is NEWBASE, UUID matching"
is "$(status vk check "$T/out.vhd")" 0 "check: OUT and its chain are clean"
new_uuid=$(vk info --json "$T/new.vhd" | jq -r .uuid)
is "$(vhdiinfo "$T/out.vhd" | sed -n 's/.*Parent identifier[^:]*: //p')" "$new_uuid" "vhdiinfo: OUT's parent is NEWBASE"
"$VHDI_CAT" "$T/out.vhd" "$T/new.vhd" >"$T/out.raw" 2>"$T/err"
vk convert "$T/out.vhd" "$T/out2.raw" --type raw >/dev/null
is "$(sum "$T/out.raw")" "$(sum "$T/out2.raw")" "libvhdi reads the chain OUT -> NEWBASE as vhdkit does"
vk convert "$T/new.vhd" "$T/new.raw" --type raw >/dev/null
off=$(mmls "$T/new.raw" | awk '/NTFS/ { print $3 + 0; exit }')
vk diff "$T/new.vhd" "$T/out.vhd" --json >"$T/d.json"
if python3 "$PEER" "$T/new.raw" "$off" "$T/out.raw" "$off" "$T/d.json" >"$T/peer"; then
    ok "sleuthkit (fls/icat on libvhdi's flattening) finds the same differences NEWBASE / OUT"
else not_ok "sleuthkit: NEWBASE / OUT"; sed 's/^/#   /' "$T/peer"; fi
rm -f "$T/out2.raw"

# JSON
is "$(status vk rebase --files --json --force "$T/child.vhd" "$T/new.vhd" -o "$T/out.vhd")" 1 "--json --force: exit 1"
is "$(jq -c '[(.applied|length), (.conflicts|length), (.same|length), (.skipped|length), .policy]' "$T/out")" \
    '[13,4,1,1,"update"]' "JSON: the counts and the policy"
is "$(jq -r '.conflicts[] | .user + " " + .update + " " + .kept + " " + .path' "$T/out" | sort | tr '\n' '|')" \
    "added removed update /$CONTOSO/Editor/user.cfg|changed changed update /$HOSTS|changed removed update /$SETUP|removed changed update /$SQM|" \
    "JSON: each conflict with what each side did and the version kept"
is "$(jq -r '.conflicts[] | select(.update_path) | .update_path' "$T/out")" "/$CONTOSO/Editor" \
    "JSON: the conflict through a removed folder names it"
is "$(jq -r '.same[0].path' "$T/out")" "/$INI" "JSON: the identical change"

# ---- --prefer user: the conflicts flip ----
is "$(status vk rebase --files "$T/child.vhd" "$T/new.vhd" -o "$T/outu.vhd" --prefer user)" 1 "--prefer user: exit 1"
grep -q "^C /$HOSTS: .*kept the user's version" "$T/out" && ok "--prefer user: text says the user's version was kept" ||
    not_ok "--prefer user text"
cat "$T/want" - >"$T/wantu" <<EOF
added /$CONTOSO
added /$CONTOSO/Editor
added /$CONTOSO/Editor/user.cfg
added /$SETUP
changed /$HOSTS
removed /$SQM
EOF
sort -o "$T/wantu" "$T/wantu"
changes "$T/new.vhd" "$T/outu.vhd" >"$T/got"
if cmp -s "$T/got" "$T/wantu"; then ok "--prefer user: diff NEWBASE OUT adds the user's side of each conflict"; else
    not_ok "--prefer user: diff NEWBASE OUT"; diff "$T/wantu" "$T/got" | sed 's/^/#   /'; fi
is "$(vk cat "$T/outu.vhd" "/$HOSTS" | sum /dev/stdin)" "$(sum "$T/usr_hosts")" "--prefer user: the user's hosts"
is "$(vk cat "$T/outu.vhd" "/$SETUP" | sum /dev/stdin)" "$(sum "$T/usr_setup")" "--prefer user: the user's setup.exe"
is "$(vk cat "$T/outu.vhd" "/$CMD" | sum /dev/stdin)" "$(sum "$T/upd_cmd")" "--prefer user: the update's other changes stay"
is "$(changes "$T/child.vhd" "$T/outu.vhd" | tr '\n' '|')" \
    "added /Windows/Patches|added /Windows/Patches/kb1.msu|changed /$CMD|changed /pagefile.sys|removed /$CONTOSO/Editor/print0016.dll|removed /$CONTOSO/Editor/sec0031.dll|removed /$MPLOG|" \
    "--prefer user: CHILD / OUT differ only by the update's own changes (and the skipped pagefile)"
is "$(inputs)" "$before" "inputs still unchanged"

# ---- the registry: hives the user changed are merged value by value, not copied ----
vk convert "$T/old.vhd" "$T/rnew.vhd" >/dev/null
vk snapshot "$T/old.vhd" "$T/rchild.vhd" >/dev/null
SW='HKLM\SOFTWARE\Contoso' ED='HKLM\SOFTWARE\Contoso\Editor' ENV='HKU\alice\Environment'
check "reg update: a value added" vk reg set "$T/rnew.vhd" "$SW" Ver --type dword 7
check "reg update: a value added (the user adds the same)" vk reg set "$T/rnew.vhd" "$SW" Same --type dword 3
check "reg update: a value changed" vk reg set "$T/rnew.vhd" "$ED" InstallDir --type sz 'D:\Contoso'
check "reg update: a user value changed" vk reg set "$T/rnew.vhd" 'HKU\alice\Control Panel\Desktop' Wallpaper --type sz upd.jpg
check "reg update: a key deleted" vk reg del -r "$T/rnew.vhd" "$ENV"
check "reg update: a SYSTEM value added" vk reg set "$T/rnew.vhd" 'HKLM\SYSTEM\CurrentControlSet\Services\Ntfs' UpdVal --type dword 1
check "reg user: a value added" vk reg set "$T/rchild.vhd" "$SW" UserVal --type sz hello
check "reg user: keys and a value added" vk reg set -p "$T/rchild.vhd" 'HKU\alice\Software\UserApp\Prefs' Theme --type sz dark
check "reg user: the value the update added, otherwise" vk reg set "$T/rchild.vhd" "$SW" Ver --type dword 9
check "reg user: the value the update added, the same" vk reg set "$T/rchild.vhd" "$SW" Same --type dword 3
check "reg user: the value the update changed, deleted" vk reg del "$T/rchild.vhd" "$ED" InstallDir
check "reg user: a value in the key the update deleted" vk reg set "$T/rchild.vhd" "$ENV" PATH --type sz 'C:\u'
check "reg user: a SYSTEM value added" vk reg set "$T/rchild.vhd" 'HKLM\SYSTEM\CurrentControlSet\Services\disk' UserStart --type dword 4
check "reg user: a key deleted" vk reg del -r "$T/rchild.vhd" 'HKU\alice\Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders'
rin=$(for f in old rnew rchild; do sum "$T/$f.vhd"; done | tr '\n' ' ')
is "$(status vk rebase --files --json "$T/rchild.vhd" "$T/rnew.vhd" -o "$T/rout.vhd")" 1 "registry conflicts: exit 1"
cp "$T/out" "$T/r.json"
is "$(jq -r '.conflicts[] | .path + " [" + .value + "] " + .user + "/" + .update + " " + .kept' "$T/r.json" | sort | tr '\n' '|')" \
    "$SW [Ver] added/added update|$ED [InstallDir] removed/changed update|$ENV [PATH] added/removed update|" \
    "JSON: the three registry conflicts"
is "$(jq -r '.same[] | .path + " [" + .value + "]"' "$T/r.json")" "$SW [Same]" "JSON: the same value set on both sides"
is "$(jq -r '[.applied[] | select(.type | startswith("registry")) | .path + (if .value then " [" + .value + "]" else "" end)] | sort | join("|")' "$T/r.json")" \
    "HKLM\SOFTWARE\Contoso [UserVal]|HKLM\SYSTEM\ControlSet001\Services\disk [UserStart]|HKU\alice\Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders|HKU\alice\Software\UserApp|HKU\alice\Software\UserApp\Prefs|HKU\alice\Software\UserApp\Prefs [Theme]" \
    "JSON: the registry changes applied (values, added keys, a deleted key)"
is "$(jq -c '[.hives_merged, .hives_not_merged]' "$T/r.json")" "[3,0]" "JSON: SOFTWARE, SYSTEM and alice's NTUSER.DAT merged"
is "$(changes "$T/rnew.vhd" "$T/rout.vhd" | tr '\n' '|')" \
    "changed /Users/alice/NTUSER.DAT|changed /Windows/System32/config/SOFTWARE|changed /Windows/System32/config/SYSTEM|" \
    "diff NEWBASE OUT: only the three merged hive files"
rg() { vk reg get "$1" "$2" "$3" 2>/dev/null; }
is "$(rg "$T/rout.vhd" "$SW" UserVal),$(rg "$T/rout.vhd" 'HKU\alice\Software\UserApp\Prefs' Theme),$(rg "$T/rout.vhd" 'HKLM\SYSTEM\CurrentControlSet\Services\disk' UserStart)" \
    "hello,dark,4" "OUT: the user's values"
is "$(rg "$T/rout.vhd" "$SW" Ver),$(rg "$T/rout.vhd" "$SW" Same),$(rg "$T/rout.vhd" "$ED" InstallDir),$(rg "$T/rout.vhd" 'HKU\alice\Control Panel\Desktop' Wallpaper),$(rg "$T/rout.vhd" 'HKLM\SYSTEM\CurrentControlSet\Services\Ntfs' UpdVal)" \
    "7,3,D:\Contoso,upd.jpg,1" "OUT: the update's values, conflicts kept for the update"
is "$(status vk reg ls "$T/rout.vhd" "$ENV"),$(status vk reg ls "$T/rout.vhd" 'HKU\alice\Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders')" \
    "3,3" "OUT: the key the update deleted and the key the user deleted are gone"
# hivex reads the merged hives
vk cat "$T/rout.vhd" /Windows/System32/config/SOFTWARE >"$T/SOFTWARE"
vk cat "$T/rout.vhd" /Users/alice/NTUSER.DAT >"$T/NTUSER.DAT"
is "$(hivexget "$T/SOFTWARE" 'Contoso' UserVal),$(hivexget "$T/SOFTWARE" 'Contoso' Ver),$(hivexget "$T/NTUSER.DAT" 'Software\UserApp\Prefs' Theme)" \
    "hello,7,dark" "hivex reads OUT's merged hives"
is "$(status vk rebase --files "$T/rchild.vhd" "$T/rnew.vhd" -o "$T/routu.vhd" --prefer user)" 1 "registry, --prefer user: exit 1"
is "$(rg "$T/routu.vhd" "$SW" Ver),$(status vk reg get "$T/routu.vhd" "$ED" InstallDir),$(rg "$T/routu.vhd" "$ENV" PATH),$(rg "$T/routu.vhd" "$SW" UserVal)" \
    "9,3,C:\u,hello" "--prefer user: the user's value, deletion and value in the deleted key"
is "$(for f in old rnew rchild; do sum "$T/$f.vhd"; done | tr '\n' ' ')" "$rin" "registry runs leave their inputs unchanged"
is "$(status vk check "$T/rout.vhd")" 0 "check: the registry OUT is clean"

# ---- exit 0, 2, 3 ----
vk snapshot "$T/old.vhd" "$T/calm.vhd" >/dev/null
vk put "$T/calm.vhd" "$T/report" /Users/alice/calm.bin >/dev/null
is "$(status vk rebase --files "$T/calm.vhd" "$T/new.vhd" -o "$T/calm_out.vhd")" 0 "no conflicts: exit 0"
is "$(changes "$T/new.vhd" "$T/calm_out.vhd")" "added /Users/alice/calm.bin" "no conflicts: OUT = NEWBASE + the new file"
# a hive vhdkit does not merge (SAM) that the user changed is neither copied (it would undo the update's) nor merged:
# reported, exit 1
vk snapshot "$T/old.vhd" "$T/hive.vhd" >/dev/null
check "user: a SAM key set" vk reg set -p "$T/hive.vhd" 'HKLM\SAM\SAM\Test' X --type dword 1
is "$(status vk rebase --files "$T/hive.vhd" "$T/new.vhd" -o "$T/hive_out.vhd")" 1 "a changed SAM hive: exit 1"
grep -q "^S /Windows/System32/config/SAM: registry hive: not copied as a file and not merged" "$T/out" &&
    grep -q "1 registry hive files the user changed were not merged" "$T/out" &&
    ok "a changed SAM hive: skipped and reported as not merged" || not_ok "a changed SAM hive: report"
is "$(changes "$T/new.vhd" "$T/hive_out.vhd" | wc -l)" 0 "a changed SAM hive: OUT's files are NEWBASE's"
is "$(status vk rebase --files "$T/calm.vhd" "$T/new.vhd" -o "$T/calm_out.vhd")" 2 "OUT exists: exit 2"
grep -q -- "--force" "$T/err" && ok "OUT exists: the message names --force" || not_ok "OUT exists: message"
is "$(status vk rebase --files "$T/calm.vhd" "$T/new.vhd")" 2 "--files without -o: exit 2"
is "$(status vk rebase --files "$T/calm.vhd" "$T/new.vhd" -o "$T/x.vhd" --prefer mine)" 2 "--prefer mine: exit 2"
is "$(status vk rebase "$T/calm.vhd" "$T/new.vhd" --prefer user)" 2 "--prefer without --files: exit 2"
is "$(status vk rebase --files "$T/calm.vhd" "$T/new.vhd" -o "$T/new.vhd" --force)" 2 "OUT = NEWBASE: exit 2"
is "$(status vk rebase --files "$T/old.vhd" "$T/new.vhd" -o "$T/x.vhd")" 3 "CHILD not a differencing image: exit 3"
grep -q "not a differencing image" "$T/err" && ok "not differencing: says so" || not_ok "not differencing: message"
is "$(status vk rebase --files "$T/calm.vhd" "$T/new.vhd" -o "$T/x.vhd" --old-base "$T/new.vhd")" 3 \
    "--old-base that is not CHILD's parent: exit 3"
grep -q "not the old base" "$T/err" && ok "--old-base mismatch: says so" || not_ok "--old-base mismatch: message"
is "$(status vk rebase --files "$T/calm.vhd" "$T/new.vhd" -o "$T/x.vhd" --old-base "$T/old.vhd")" 0 \
    "--old-base naming CHILD's parent: exit 0"
head -c 100000 "$T/calm.vhd" >"$T/trunc.vhd"
is "$(status vk rebase --files "$T/trunc.vhd" "$T/new.vhd" -o "$T/y.vhd")" 3 "a truncated CHILD: exit 3"
vk create "$T/blank.vhd" 64M >/dev/null && vk snapshot "$T/blank.vhd" "$T/blank_child.vhd" >/dev/null
is "$(status vk rebase --files "$T/blank_child.vhd" "$T/new.vhd" -o "$T/y.vhd")" 3 "no NTFS volume: exit 3"
[ ! -e "$T/x.vhd.tmp-rebase" ] && [ ! -e "$T/y.vhd" ] && [ ! -e "$T/y.vhd.tmp-rebase" ] &&
    ok "refused runs leave no OUT and no temporary file" || not_ok "refused runs left files"

# ---- help and man page ----
vk rebase --help >"$T/help" 2>&1
n=0
for o in --files --output --old-base --prefer --force --part; do grep -q -- "$o" "$T/help" && n=$((n + 1)); done
is "$n" 6 "rebase --help lists the --files options"
man_page="$VHDKIT_SRCDIR/man/vhdkit-rebase.1"
grep -q 'pagefile.sys' "$man_page" && grep -q -- 'prefer' "$man_page" && ok "the man page describes --files" ||
    not_ok "the man page describes --files"

# ---- crashes: a stop or torn write at every write point leaves the inputs and no OUT ----
n=$(VHDKIT_TEST_FAULT=count "$VHDKIT" rebase --files "$T/child.vhd" "$T/new.vhd" -o "$T/c.vhd" 2>&1 >/dev/null |
    sed -n 's/vhdkit-test-writes: //p')
[ "${n:-0}" -gt 10 ] && ok "rebase --files has $n write points" || not_ok "write points: '$n'"
rm -f "$T/c.vhd"
# A run cut short must say it was (the injected fault), exit neither 0 nor 1, leave no OUT and leak nothing: in the
# sanitizer build LeakSanitizer's report (any origin, libntfs-3g's too: lib/ntfs never shows it a failed write) fails.
for mode in stop torn; do
    bad=0
    i=0
    while [ "$i" -lt "${n:-0}" ]; do
        VHDKIT_TEST_FAULT=$mode:$i "$VHDKIT" rebase --files "$T/child.vhd" "$T/new.vhd" -o "$T/c.vhd" >/dev/null 2>"$T/cerr"
        st=$?
        if [ "$st" -eq 0 ] || [ "$st" -eq 1 ] || [ -e "$T/c.vhd" ] || ! grep -q "injected" "$T/cerr" ||
            grep -q "LeakSanitizer\|runtime error" "$T/cerr"; then
            bad=$((bad + 1))
            echo "# $mode:$i: exit $st, OUT $(test -e "$T/c.vhd" && echo exists || echo absent)"
            head -n 3 "$T/cerr" | sed 's/^/#   /'
            rm -f "$T/c.vhd"
        fi
        i=$((i + 1))
    done
    is "$bad" 0 "a $mode at each of the $n writes fails, says so and leaves no OUT"
    ls "$T"/c.vhd.tmp* >/dev/null 2>&1 && not_ok "$mode: a temporary file was left" || ok "$mode: no temporary file left"
done
is "$(inputs)" "$before" "after every crash: CHILD, the old base and NEWBASE unchanged"
# the registry merge too: a stop at each write of the registry run (its hives are written whole into OUT's volume)
nr=$(VHDKIT_TEST_FAULT=count "$VHDKIT" rebase --files "$T/rchild.vhd" "$T/rnew.vhd" -o "$T/rc.vhd" 2>&1 >/dev/null |
    sed -n 's/vhdkit-test-writes: //p')
rm -f "$T/rc.vhd"
bad=0
i=0
while [ "$i" -lt "${nr:-0}" ]; do
    VHDKIT_TEST_FAULT=stop:$i "$VHDKIT" rebase --files "$T/rchild.vhd" "$T/rnew.vhd" -o "$T/rc.vhd" >/dev/null 2>"$T/cerr"
    if [ -e "$T/rc.vhd" ] || ! grep -q "injected" "$T/cerr" || ls "$T"/rc.vhd.tmp* >/dev/null 2>&1 ||
        grep -q "LeakSanitizer\|runtime error" "$T/cerr"; then
        bad=$((bad + 1)); echo "# registry stop:$i left files, did not fail or leaked"; rm -f "$T"/rc.vhd*
    fi
    i=$((i + 1))
done
[ "${nr:-0}" -gt 10 ] && is "$bad" 0 "registry run: a stop at each of its $nr writes fails, leaks nothing and leaves no OUT, no temporary file" ||
    not_ok "registry run write points: '$nr'"
is "$(for f in old rnew rchild; do sum "$T/$f.vhd"; done | tr '\n' ' ')" "$rin" "registry crashes leave their inputs unchanged"
# A temporary file left by a crashed run (here: a cut copy) is replaced by the next run; one held by a running
# rebase (its lock) is not touched.
head -c 300000 "$T/out.vhd" >"$T/c.vhd.tmp-rebase"
head -c 1000 "$T/out.vhd" >"$T/c.vhd.tmp-rebase.tmp"
is "$(status vk rebase --files "$T/child.vhd" "$T/new.vhd" -o "$T/c.vhd")" 1 "a leftover temporary file: the rerun works"
[ ! -e "$T/c.vhd.tmp-rebase" ] && [ ! -e "$T/c.vhd.tmp-rebase.tmp" ] && ok "the leftover temporary files are gone" ||
    not_ok "a leftover is still there"
is "$(changes "$T/out.vhd" "$T/c.vhd" | wc -l)" 0 "the rerun's OUT has the same files as the first run's"
: >"$T/d.vhd.tmp-rebase"
is "$(flock -x "$T/d.vhd.tmp-rebase" "$VHDKIT" rebase --files "$T/child.vhd" "$T/new.vhd" -o "$T/d.vhd" >/dev/null 2>&1; echo $?)" \
    4 "a temporary file locked by a running rebase: exit 4"
[ -e "$T/d.vhd.tmp-rebase" ] && [ ! -e "$T/d.vhd" ] && ok "the locked temporary file is left alone" ||
    not_ok "the locked temporary file"
