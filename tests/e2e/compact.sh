#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit compact end to end on vk-gen disks (NTFS at 63 and 2048, GPT; half the files deleted): every file keeps its
# content (vhdkit cat of what tree lists, sleuthkit icat on a raw export, vk-gen's manifest) in place and with -o;
# check clean; qemu-img and libvhdi read the result; the file shrinks to the ideal (blocks holding a used cluster);
# --discard-pagefile (pagefile.sys, never hiberfil.sys); areas vhdkit does not map (BitLocker) kept but for zero
# blocks; refusals with exit 4 (fixed, saved state, hibernated, dirty, an unclean $LogFile), the image untouched.
. "$(dirname "$0")/compact_lib.sh"

jget() { json_get "$@"; }

for layout in mbr63 mbr2048 gpt; do
    check "$layout: vk-gen disk, half its files deleted" gen "$T/a.vhd" --layout $layout --size 128M --files 30 \
        --fill-mb 90 --deleted 0.5 --seed 11
    # vk-gen's deleted files are small: remove the largest user file too, so whole blocks become free.
    big=$(awk '$1 == "f" && $4 ~ /^Users\// { p = $4; for (i = 5; i <= NF; i++) p = p " " $i; print $3, p }' \
        "$T/a.vhd.man" | sort -n | tail -n 1 | cut -d' ' -f2-)
    check "$layout: rm the largest user file ($big)" vk rm "$T/a.vhd" "$big"
    grep -vF " $big" "$T/a.vhd.man" >"$T/a.man"
    start=$(ntfs_start "$T/a.vhd")
    man_hashes "$T/a.man" >"$T/want"
    man_files "$T/a.man" >"$T/want_files"
    is "$(raw_hashes "$T/a.vhd" "$start")" "$(cat "$T/want_files")" "$layout: icat reads the manifest's files before"
    cp "$T/a.vhd" "$T/b.vhd"
    vk compact --dry-run --json "$T/a.vhd" >"$T/dry.json"
    is "$?" 0 "$layout: dry run"
    freed=$(jget "$T/dry.json" freed.free.blocks)
    [ "$freed" -ge 3 ] && ok "$layout: dry run finds $freed free blocks" || not_ok "$layout: free blocks ($freed)"
    is "$(sum "$T/a.vhd")" "$(sum "$T/b.vhd")" "$layout: a dry run writes nothing"
    rm -f "$T/b.vhd"

    is "$(status vk compact --json -o "$T/o.vhd" "$T/a.vhd")" 0 "$layout: compact -o"
    is "$(status vk check "$T/o.vhd")" 0 "$layout: -o: check clean"

    before=$(stat -c %s "$T/a.vhd")
    vk compact --json "$T/a.vhd" >"$T/ip.json"
    is "$?" 0 "$layout: compact in place"
    after=$(stat -c %s "$T/a.vhd")
    is "$after" "$(jget "$T/ip.json" file_size_after)" "$layout: the report gives the new file size"
    is "$(jget "$T/ip.json" file_size_after)" "$(jget "$T/dry.json" file_size_after)" \
        "$layout: the dry run predicted that size"
    dropped=$(( $(jget "$T/ip.json" blocks_before) - $(jget "$T/ip.json" blocks_after) ))
    [ $((before - after)) -ge $((dropped * 2097664)) ] && [ "$dropped" -ge 3 ] &&
        ok "$layout: in place: file shrank by $((before - after)) bytes, the $dropped dropped blocks" ||
        not_ok "$layout: in place: file shrank by $((before - after)) bytes for $dropped dropped blocks"
    is "$(cat_hashes "$T/a.vhd" "$T/a.man")" "$(cat "$T/want")" \
        "$layout: in place: every file and stream identical (vhdkit tree + cat vs manifest)"
    is "$(raw_hashes "$T/a.vhd" "$start")" "$(cat "$T/want_files")" "$layout: in place: every file identical (icat)"
    is "$(status vk check "$T/a.vhd")" 0 "$layout: in place: check clean"
    peers_agree "$T/a.vhd" "$layout: in place"
    is "$(vk read "$T/o.vhd" | sha256sum | cut -d' ' -f1)" "$(cat "$T/vk.sum")" \
        "$layout: in place and -o give the same virtual disk"
    # The ideal: every block left holds a used cluster (or an area kept as it is): vhdkit map's totals.
    tot=$(vk map "$T/a.vhd" | sed -n 's/^totals: //p')
    is "$(echo "$tot" | awk '{ for (i = 1; i < NF; i += 2) if ($i != "unallocated" && $i != "used" && $i != "partly_used" && $(i + 1) > 0) printf "%s ", $i }')" "" \
        "$layout: map finds no free or zero block left ($tot)"
    is "$(echo "$tot" | awk '{ for (i = 1; i < NF; i += 2) if ($i == "used" || $i == "partly_used") n += $(i + 1); print n + 0 }')" \
        "$(jget "$T/ip.json" blocks_after)" "$layout: the blocks left are the used ones"
    is "$(stat -c %s "$T/o.vhd")" "$after" "$layout: -o and in place give files of the same size"
    vk compact --json "$T/a.vhd" >"$T/again.json"
    is "$(jget "$T/again.json" blocks_after)" "$(jget "$T/ip.json" blocks_after)" "$layout: a second run keeps every block"
    is "$(jget "$T/again.json" file_size_after)" "$after" "$layout: a second run does not change the size"
    rm -f "$T/a.vhd" "$T/o.vhd"
done

# --discard-pagefile: pagefile.sys clusters given back, never hiberfil.sys (a clean one is present); other files kept.
check "pagefile: vk-gen disk with a 24 MiB pagefile and a clean hiberfil.sys" gen "$T/p.vhd" --size 128M \
    --files 20 --pagefile 24M --hiberfil=clean --seed 12
vk compact --dry-run --json "$T/p.vhd" >"$T/nopf.json"
is "$(jget "$T/nopf.json" freed.pagefile.bytes)" 0 "pagefile: kept without --discard-pagefile"
vk compact --dry-run --json --discard-pagefile "$T/p.vhd" >"$T/pf.json"
pfb=$(jget "$T/pf.json" freed.pagefile.bytes)
[ "$pfb" -ge $((20 * 1048576)) ] && [ "$pfb" -le $((24 * 1048576)) ] &&
    ok "pagefile: --discard-pagefile frees its clusters ($pfb bytes)" || not_ok "pagefile: freed $pfb bytes"
grep -v ' pagefile.sys$' "$T/p.vhd.man" >"$T/p.man"
is "$(status vk compact --discard-pagefile "$T/p.vhd")" 0 "pagefile: compact --discard-pagefile in place"
start=$(ntfs_start "$T/p.vhd")
man_files "$T/p.man" >"$T/want"
is "$(raw_hashes "$T/p.vhd" "$start" | grep -v ' pagefile.sys$')" "$(cat "$T/want")" \
    "pagefile: every other file identical, hiberfil.sys too (icat)"
grep -q ' hiberfil.sys$' "$T/want" && ok "pagefile: hiberfil.sys was among them" || not_ok "pagefile: no hiberfil.sys"
is "$(vk cat "$T/p.vhd" pagefile.sys | wc -c)" $((24 * 1048576)) "pagefile: pagefile.sys keeps its size"
is "$(status vk check "$T/p.vhd")" 0 "pagefile: check clean"
rm -f "$T/p.vhd"

# BitLocker: the volume's boot sector says -FVE-FS-; vhdkit cannot see its free space and keeps it, dropping only
# all-zero blocks (two written with data, then with zeros, here).
check "bitlocker: vk-gen raw disk" gen "$T/bl.raw" --format raw --size 96M --files 20 --deleted 0.5 --seed 13
printf -- '-FVE-FS-' | dd of="$T/bl.raw" bs=1 seek=$((2048 * 512 + 3)) conv=notrunc status=none
vk convert "$T/bl.raw" "$T/bl.vhd" >/dev/null
head -c 4194304 /dev/urandom | vk write "$T/bl.vhd" --offset 88M
head -c 4194304 /dev/zero | vk write "$T/bl.vhd" --offset 88M
vk read "$T/bl.vhd" | sha256sum >"$T/bl.sum"
vk compact --json "$T/bl.vhd" >"$T/bl.json"
is "$?" 0 "bitlocker: compact runs"
is "$(jget "$T/bl.json" ntfs_volumes)" 0 "bitlocker: no volume mapped"
jq -r '.kept[].what' "$T/bl.json" | grep -q BitLocker && ok "bitlocker: the report says the volume is kept as is" ||
    not_ok "bitlocker: report"
is "$(jget "$T/bl.json" freed.zero.blocks)" 2 "bitlocker: only the two all-zero blocks dropped"
is "$(jget "$T/bl.json" freed.free.bytes)" 0 "bitlocker: no sector freed as free space"
is "$(vk read "$T/bl.vhd" | sha256sum)" "$(cat "$T/bl.sum")" "bitlocker: the virtual disk is unchanged"
is "$(status vk check "$T/bl.vhd")" 0 "bitlocker: check clean"
rm -f "$T/bl.raw" "$T/bl.vhd"

# Refusals.
check "refusals: vk-gen disk" gen "$T/r.vhd" --size 96M --files 10 --seed 14
vk convert --type fixed "$T/r.vhd" "$T/f.vhd" >/dev/null
is "$(status vk compact "$T/f.vhd")" 4 "fixed disk refused (exit 4)"
grep -q "convert --type dynamic" "$T/err" && ok "fixed: points to convert" || not_ok "fixed: message"
cp "$T/r.vhd" "$T/s.vhd"
python3 - "$T/s.vhd" <<'PY'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(-512, 2)
    ft = bytearray(f.read(512))
    ft[84] = 1
    ft[64:68] = b'\0\0\0\0'
    ft[64:68] = ((~sum(ft)) & 0xffffffff).to_bytes(4, 'big')
    f.seek(-512, 2)
    f.write(ft)
    f.seek(0)
    f.write(ft)
PY
is "$(status vk compact "$T/s.vhd")" 4 "saved-state image refused (exit 4)"
grep -q "saved state" "$T/err" && ok "saved state: says why" || not_ok "saved state: message"
check "hibernated: vk-gen disk" gen "$T/h.vhd" --size 96M --files 10 --hiberfil --seed 15
sum "$T/h.vhd" >"$T/h.sum"
is "$(status vk compact "$T/h.vhd")" 4 "hibernated volume refused (exit 4)"
grep -q "hibernated" "$T/err" && ok "hibernated: says why" || not_ok "hibernated: message"
is "$(status vk compact --dry-run "$T/h.vhd")" 4 "hibernated volume refused in a dry run too"
is "$(status vk compact -o "$T/h2.vhd" "$T/h.vhd")" 4 "hibernated volume refused with -o"
[ ! -e "$T/h2.vhd" ] && [ ! -e "$T/h2.vhd.tmp" ] && ok "hibernated: -o leaves no file" || not_ok "hibernated: -o file"
is "$(sum "$T/h.vhd")" "$(cat "$T/h.sum")" "hibernated: the image is untouched"
grep -q "shut it down fully" "$T/err" && ok "hibernated: says what to do" || not_ok "hibernated: remedy"
check "dirty: vk-gen disk" gen "$T/d.vhd" --size 96M --files 10 --dirty --seed 16
sum "$T/d.vhd" >"$T/d.sum"
is "$(status vk compact "$T/d.vhd")" 4 "dirty volume refused (exit 4)"
grep -q "marked dirty" "$T/err" && ok "dirty: says why" || not_ok "dirty: message"
grep -q "shut it down fully" "$T/err" && ok "dirty: says what to do" || not_ok "dirty: remedy"
is "$(status vk compact -o "$T/d2.vhd" "$T/d.vhd")" 4 "dirty volume refused with -o"
[ ! -e "$T/d2.vhd" ] && [ ! -e "$T/d2.vhd.tmp" ] && ok "dirty: -o leaves no file" || not_ok "dirty: -o file"
is "$(sum "$T/d.vhd")" "$(cat "$T/d.sum")" "dirty: the image is untouched"

# An unclean $LogFile on a volume not marked dirty (Windows stopped without a clean dismount): restart pages with a
# log client in use and RESTART_VOLUME_IS_CLEAN clear. The same pages with the bit set are the control: libntfs-3g
# must read them as valid restart pages, so the refusal comes from the clean bit and not from a log it cannot parse.
fsj() { vk info --json "$1" | jq -r ".partitions.entries[] | select(.filesystem.type == \"NTFS\") | .filesystem.$2"; }
cp "$T/r.vhd" "$T/l.vhd"
cp "$T/r.vhd" "$T/lc.vhd"
check "logfile: restart pages marked clean written (control)" restart_pages "$T/lc.vhd" clean
is "$(fsj "$T/lc.vhd" logfile_unclean)" false "logfile: control: libntfs-3g reads the pages as a clean log"
is "$(status vk compact --dry-run "$T/lc.vhd")" 0 "logfile: control: a clean \$LogFile is compacted (dry run)"
check "logfile: restart pages of an unclean stop written" restart_pages "$T/l.vhd" unclean
is "$(fsj "$T/l.vhd" logfile_unclean) $(fsj "$T/l.vhd" dirty) $(fsj "$T/l.vhd" hibernated)" "true false false" \
    "logfile: unclean, not marked dirty, not hibernated"
sum "$T/l.vhd" >"$T/l.sum"
is "$(status vk compact "$T/l.vhd")" 4 "logfile: unclean \$LogFile refused (exit 4)"
grep -q 'unclean (\$LogFile holds transactions' "$T/err" && ok "logfile: says why" || not_ok "logfile: message"
grep -q "shut it down fully" "$T/err" && ok "logfile: says what to do" || not_ok "logfile: remedy"
is "$(status vk compact --dry-run "$T/l.vhd")" 4 "logfile: refused in a dry run too"
is "$(status vk compact -o "$T/l2.vhd" "$T/l.vhd")" 4 "logfile: refused with -o"
[ ! -e "$T/l2.vhd" ] && [ ! -e "$T/l2.vhd.tmp" ] && ok "logfile: -o leaves no file" || not_ok "logfile: -o file"
is "$(sum "$T/l.vhd")" "$(cat "$T/l.sum")" "logfile: the image is untouched"
