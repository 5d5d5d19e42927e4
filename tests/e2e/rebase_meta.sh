# SPDX-License-Identifier: GPL-2.0-or-later
# rebase --files carries what a Windows file has besides bytes and times: its security descriptor (owner and
# permissions) and attribute bits (read-only, hidden, system). A child gets files and a folder with their own
# descriptors and bits (vk-gen meta), and a base file whose bits and descriptor the user changed; after rebase
# --files onto an updated base, ntfssecaudit (ntfs-3g) reads the same descriptor and bits in OUT as in the child.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:=$(dirname "$VHDKIT")/../tests/gen/vk-gen}"
[ -x "$VKGEN" ] || skip_all "vk-gen is not built ($VKGEN)"
for t in ntfssecaudit jq python3; do command -v $t >/dev/null || skip_all "$t is not installed"; done

# sd_hex RID: a self-relative descriptor owned by S-1-5-21-1111-2222-3333-RID, group SYSTEM, whose DACL grants full
# control to that user, SYSTEM and Administrators (what Windows gives a file in a user's profile)
sd_hex() {
    python3 - "$1" <<'EOF'
import struct, sys
def sid(subs):
    return struct.pack('<BB', 1, len(subs)) + (5).to_bytes(6, 'big') + b''.join(struct.pack('<I', s) for s in subs)
user, system, admins = sid([21, 1111, 2222, 3333, int(sys.argv[1])]), sid([18]), sid([32, 544])
aces = b''.join(struct.pack('<BBHI', 0, 0, 8 + len(s), 0x1f01ff) + s for s in (user, system, admins))
dacl = struct.pack('<BBHHH', 2, 0, 8 + len(aces), 3, 0) + aces
owner = 20 + len(dacl)
print((struct.pack('<BBHIIII', 1, 0, 0x8004, owner, owner + len(user), 0, 20) + dacl + user + system).hex())
EOF
}

# part IMAGE OUT: the NTFS partition of IMAGE's whole view (a chain flattened), cut out for ntfs-3g's tools
part() {
    vk convert --type raw "$1" "$T/whole.raw" >/dev/null &&
        set -- "$1" "$2" $(vk info --json "$1" |
            jq -r '.partitions.entries[] | select(.filesystem.type == "NTFS") | "\(.start_lba) \(.sectors)"' | head -n 1) &&
        dd if="$T/whole.raw" of="$2" bs=512 skip="$3" count="$4" status=none
    rm -f "$T/whole.raw"
}

# meta PARTITION PATH: the descriptor's bytes and the attribute bits as ntfssecaudit shows them
meta() { ntfssecaudit -v "$1" "$2" 2>/dev/null | sed -n 's/^ *[0-9a-f]\{6\}  //p; s/^Windows attrib : //p'; }

check "vk-gen builds the base" "$VKGEN" --quiet --out "$T/base.vhd" --size 128M --files 30 --seed 3 --manifest "$T/m"
check "snapshot: the user's child" vk snapshot "$T/base.vhd" "$T/child.vhd"
head -c 5000 /dev/urandom >"$T/secret"
head -c 700 /dev/urandom >"$T/notes"
old=/$(awk '$1 == "f" && $4 ~ /^Windows\// { print $4; exit }' "$T/m")
check "put a new file" vk put "$T/child.vhd" "$T/secret" /secret.txt
check "mkdir a new folder" vk mkdir "$T/child.vhd" /Private
check "put a file into it" vk put "$T/child.vhd" "$T/notes" /Private/notes.txt
# new file: read-only + hidden + archive, own descriptor; new folder: hidden, another descriptor; the file in it:
# read-only, libntfs-3g's default descriptor; a base file: hidden + system and a third descriptor (a change of the
# user's to a file the update leaves alone)
check "meta: the new file" "$VKGEN" meta "$T/child.vhd" /secret.txt 0x23 "$(sd_hex 1001)"
check "meta: the new folder" "$VKGEN" meta "$T/child.vhd" /Private 0x12 "$(sd_hex 1002)"
check "meta: the file in it" "$VKGEN" meta "$T/child.vhd" /Private/notes.txt 0x21 -
check "meta: a base file ($old)" "$VKGEN" meta "$T/child.vhd" "$old" 0x26 "$(sd_hex 1003)"
"$VKGEN" meta "$T/child.vhd" /secret.txt 0x20 0100048000 2>"$T/err" && not_ok "a descriptor that is not one is refused" ||
    { grep -q "/secret.txt: not a valid security descriptor" "$T/err" && ok "a descriptor that is not one is refused, saying so" ||
        not_ok "a descriptor that is not one is refused, saying so: $(cat "$T/err")"; }

cp "$T/base.vhd" "$T/new.vhd"
check "the update adds a file" vk put "$T/new.vhd" "$T/notes" /Windows/update.txt
is "$(status vk rebase --files "$T/child.vhd" "$T/new.vhd" -o "$T/out.vhd")" 0 "rebase --files exits 0"
sed 's/^/#   /' "$T/err" | head -5
is "$(status vk check "$T/out.vhd")" 0 "check finds nothing wrong in OUT"

part "$T/child.vhd" "$T/child.p"
part "$T/out.vhd" "$T/out.p"
part "$T/new.vhd" "$T/new.p"
for path in /secret.txt /Private /Private/notes.txt "$old"; do
    meta "$T/child.p" "$path" >"$T/m.child"
    meta "$T/out.p" "$path" >"$T/m.out"
    [ -s "$T/m.child" ] && cmp -s "$T/m.child" "$T/m.out" && ok "$path: same descriptor and attribute bits in OUT (ntfssecaudit)" ||
        { not_ok "$path: same descriptor and attribute bits in OUT (ntfssecaudit)"; diff "$T/m.child" "$T/m.out" | head -8 | sed 's/^/#   /'; }
done
is "$(meta "$T/out.p" /secret.txt | tail -n 1)" 0x23 "/secret.txt: read-only, hidden and archive"
is "$(meta "$T/out.p" "$old" | tail -n 1)" 0x26 "$old: hidden, system and archive"
# not a vacuous comparison: the user's descriptor is not what a new file gets by default
meta "$T/out.p" /Windows/update.txt >"$T/m.default"
cmp -s "$T/m.default" "$T/m.out" && not_ok "the user's descriptor differs from the default one" ||
    ok "the user's descriptor differs from the default one"
# what the user did not touch keeps the update's descriptor
meta "$T/new.p" /Windows/update.txt >"$T/m.new"
[ -s "$T/m.new" ] && cmp -s "$T/m.new" "$T/m.default" && ok "/Windows/update.txt keeps the update's descriptor" ||
    not_ok "/Windows/update.txt keeps the update's descriptor"
is "$(vk cat "$T/out.vhd" /secret.txt | sha256sum | cut -d' ' -f1)" "$(sum "$T/secret")" "/secret.txt: its bytes"

# stat shows the descriptor as SDDL, as Windows writes it; its owner and group agree with ntfssecaudit's
u=S-1-5-21-1111-2222-3333-1001
is "$(vk stat --json "$T/out.vhd" /secret.txt | jq -r .security)" "O:${u}G:SYD:(A;;FA;;;$u)(A;;FA;;;SY)(A;;FA;;;BA)" \
    "stat: /secret.txt's descriptor as SDDL"
is "$(ntfssecaudit "$T/out.p" /secret.txt 2>/dev/null | sed -n 's/^Windows owner //p; s/^Windows group //p' | tr '\n' ' ')" \
    "$u S-1-5-18 " "ntfssecaudit: the same owner and group (S-1-5-18 is SY)"
alias() { case $1 in S-1-5-18) echo SY ;; S-1-5-32-544) echo BA ;; *) echo "$1" ;; esac; }
root=$(ntfssecaudit "$T/out.p" / 2>/dev/null | sed -n 's/^Windows owner //p; s/^Windows group //p' | tr '\n' ' ')
set -- $root
is "$(vk stat "$T/out.vhd" / | sed -n 's/^security: \(O:[^G]*G:[^D]*\)D:.*/\1/p')" "O:$(alias "${1:-?}")G:$(alias "${2:-?}")" \
    "stat (text): the root folder's owner and group as ntfssecaudit reads them ($root)"
