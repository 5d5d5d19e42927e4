#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit align --fix: XP-style vk-gen disks (63) in place (raw, fixed, dynamic) and with -o (also a differencing
# child); a raw disk with a primary and two logical NTFS partitions (extended container, EBR chain); a GPT disk with
# nothing to do. After the move: every file's hash equal, fls -r equal, hidden sectors = new start (primary and backup
# boot sector), mmls agrees, align exits 0, qemu-img and libvhdi read the image. The XP disk also carries a
# Vista-style Boot/BCD (vk-gen --bcd) and an extra MountedDevices value that names no partition: hivexget on the
# SYSTEM and BCD hives taken out with `vhdkit cat` shows the new offset where the old one was and the extra value
# untouched (the two hive files change, so the hash and fls comparisons leave them out). Where the registry step writes
# nothing, in place (dynamic, fixed, raw, also the three-volume disk as a dynamic VHD) and -o give the same bytes.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name the vk-gen binary}"
: "${VHDI_CAT:?VHDI_CAT must name tests/peers/vhdi_cat}"
command -v mkntfs >/dev/null && command -v fls >/dev/null && command -v qemu-img >/dev/null &&
    command -v hivexget >/dev/null && command -v jq >/dev/null || skip_all "mkntfs, sleuthkit, qemu-utils, hivex tools and jq are test dependencies"

# files IMAGE [PART]: "path sha256" of every file of the volume
files() {
    vk tree --json ${2:+--part $2} "$1" | sed -n 's/^ *"path": "\(.*\)",*$/\1/p' | sort | while IFS= read -r p; do
        printf "%s %s\n" "$p" "$(vk cat ${2:+--part $2} "$1" "$p" 2>/dev/null | sha256sum | cut -c1-64)"
    done
}
# lba IMAGE N: start LBA of partition N from mmls on a raw export
# (mmls numbers table slots "T:E"; the N-th NTFS row in disk order is partition N's here: primaries 1, logicals 5, 6)
lba() {
    k=$2
    [ "$k" -ge 5 ] && k=$((k - 3))
    mmls -B "$1" | awk -v k="$k" '/NTFS/ {i++; if (i == k) print $3 + 0}'
}
# hidden RAW LBA: the boot sector's hidden-sectors field at LBA
hidden() { dd if="$1" bs=512 skip="$2" count=1 2>/dev/null | od -An -tu4 -j28 -N4 | tr -d ' '; }
# backup RAW LBA: hidden sectors of the backup boot sector (after the volume's total sectors)
backup() {
    ts=$(dd if="$1" bs=512 skip="$2" count=1 2>/dev/null | od -An -tu8 -j40 -N8 | tr -d ' ')
    hidden "$1" $(($2 + ts))
}
# flslist RAW LBA: fls -r listing of the volume at LBA, without the hives align rewrites (new MFT records)
flslist() { fls -r -o "$2" "$1" | grep -Ev 'SYSTEM|BCD' | sort; }
HIVES='^/(Windows/System32/config/SYSTEM|Boot/BCD) '
# regvals IMAGE: MountedDevices and every BCD device element, as hivexget prints them
regvals() {
    vk cat "$1" Windows/System32/config/SYSTEM >"$T/SYSTEM" && hivexget "$T/SYSTEM" MountedDevices
    vk cat "$1" Boot/BCD >"$T/BCD"
    for o in '{9dea862c-5cdd-4e70-acc1-f32b344d4795}\Elements\11000001' \
        '{6a6c1f1b-59d4-11dc-9a8b-0016d3cc1f53}\Elements\11000001' '{6a6c1f1b-59d4-11dc-9a8b-0016d3cc1f53}\Elements\21000001'; do
        printf 'BCD %s ' "$o"; hivexget "$T/BCD" "Objects\\$o" Element | od -An -tx1 | tr -d '\n'; echo
    done
}

"$VKGEN" --out "$T/xp.vhd" --layout mbr63 --size 160M --files 20 --bcd --quiet || not_ok "vk-gen xp disk"
vk reg set -t binary "$T/xp.vhd" 'HKLM\SYSTEM\MountedDevices' '\DosDevices\E:' "25 27 56 5c 00 7e 00 00 01 00 00 00" >/dev/null
regvals "$T/xp.vhd" >"$T/reg.before"
# What the values must become: the old offset 63 * 512 = 0x7e00 at byte 4 (MountedDevices) and at 0x20 (BCD
# elements, where od's line shows it as "00 7e 00 00") replaced by 1 MiB; E: names no partition and stays.
sed -e 's/^\("\\\\DosDevices\\\\C:"\|"\\\\??\\\\Volume{[^}]*}"\)=hex(3):\(.\{11\}\),00,7e,00,00,00,00,00,00$/\1=hex(3):\2,00,00,10,00,00,00,00,00/' \
    -e '/^BCD/s/ 48 00 00 00 00 00 00 00 00 7e 00 00 00 00 00 00 / 48 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 /' \
    "$T/reg.before" >"$T/reg.expect"
is "$(grep -c 'BCD.* 48 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 ' "$T/reg.expect") $(grep -c '00,00,10,00,00,00,00,00$' "$T/reg.expect")" "3 2" \
    "the BCD has 3 device elements and MountedDevices 2 values naming the partition at 63"
vk convert "$T/xp.vhd" "$T/xp.raw" --type raw >/dev/null
files "$T/xp.vhd" >"$T/files.before"
flslist "$T/xp.raw" 63 >"$T/fls.before"
test -s "$T/files.before" && ok "files listed before" || not_ok "files listed before"

# check_moved IMAGE NAME: the common proof after a fix of the XP disk
check_moved() {
    img=$1 name=$2
    is "$(status vk align "$img")" 0 "$name: align reports all aligned"
    files "$img" >"$T/files.after"
    grep -Ev "$HIVES" "$T/files.before" >"$T/f1"
    grep -Ev "$HIVES" "$T/files.after" >"$T/f2"
    cmp -s "$T/f1" "$T/f2" && ok "$name: every file identical (but the two hives)" ||
        { not_ok "$name: every file identical"; diff "$T/f1" "$T/f2" | head -5 | sed "s/^/#   /"; }
    regvals "$img" >"$T/reg.after"
    cmp -s "$T/reg.expect" "$T/reg.after" && ok "$name: hivexget: MountedDevices and BCD elements at the new offset" ||
        { not_ok "$name: MountedDevices and BCD"; diff "$T/reg.expect" "$T/reg.after" | head -6 | sed "s/^/#   /"; }
    rm -f "$T/after.raw"
    vk convert "$img" "$T/after.raw" --type raw >/dev/null
    new=$(lba "$T/after.raw" 1)
    is "$new" 2048 "$name: mmls sees partition 1 at 2048"
    flslist "$T/after.raw" 2048 >"$T/fls.after"
    cmp -s "$T/fls.before" "$T/fls.after" && ok "$name: fls -r listing equal" || not_ok "$name: fls -r listing equal"
    is "$(hidden "$T/after.raw" 2048)" 2048 "$name: NTFS hidden sectors = new start"
    is "$(backup "$T/after.raw" 2048)" 2048 "$name: backup boot sector's hidden sectors = new start"
    case $img in *.vhd)
        qemu-img convert -f vpc -O raw "$img" "$T/q.raw" 2>/dev/null
        cmp -s "$T/q.raw" "$T/after.raw" && ok "$name: qemu-img reads the same disk" || not_ok "$name: qemu-img reads the same disk"
        "$VHDI_CAT" "$img" >"$T/v.raw" 2>/dev/null
        cmp -s "$T/v.raw" "$T/after.raw" && ok "$name: libvhdi reads the same disk" || not_ok "$name: libvhdi reads the same disk"
        rm -f "$T/q.raw" "$T/v.raw" ;;
    esac
}

cp "$T/xp.vhd" "$T/dyn.vhd"
is "$(status vk align --fix --dry-run "$T/dyn.vhd")" 0 "dry run exits 0"
cmp -s "$T/xp.vhd" "$T/dyn.vhd" && ok "dry run writes nothing" || not_ok "dry run writes nothing"
is "$(status vk align --fix "$T/dyn.vhd")" 0 "dynamic in place: --fix exits 0"
test ! -e "$T/dyn.vhd.align-journal" && ok "journal removed at the end" || not_ok "journal removed at the end"
check_moved "$T/dyn.vhd" "dynamic in place"
vk check "$T/dyn.vhd" >"$T/chk" 2>&1 && ! grep -q "referenced by no BAT" "$T/chk" &&
    ok "dynamic in place: check clean, no unreferenced space" || { not_ok "dynamic in place: check"; sed 's/^/#   /' "$T/chk"; }
is "$(status vk align --fix "$T/dyn.vhd")" 0 "second --fix: nothing to move"
grep -q "nothing to move" "$T/out" && ok "second --fix says nothing to move" || not_ok "second --fix says nothing to move"

vk convert "$T/xp.vhd" "$T/fixed.vhd" --type fixed >/dev/null
is "$(status vk align --fix "$T/fixed.vhd")" 0 "fixed in place: --fix exits 0"
check_moved "$T/fixed.vhd" "fixed in place"
cp "$T/xp.raw" "$T/in.raw"
is "$(status vk align --fix "$T/in.raw")" 0 "raw in place: --fix exits 0"
check_moved "$T/in.raw" "raw in place"
is "$(status vk align --fix -o "$T/out.vhd" "$T/xp.vhd")" 0 "-o OUT: exits 0"
check_moved "$T/out.vhd" "-o dynamic"
cmp -s "$T/xp.vhd" "$T/xp.vhd" && test ! -e "$T/out.vhd.tmp" && ok "-o leaves no .tmp" || not_ok "-o leaves no .tmp"
vk snapshot "$T/xp.vhd" "$T/child.vhd" >/dev/null
is "$(status vk align --fix "$T/child.vhd")" 2 "differencing in place refused (usage: -o)"
is "$(status vk align --fix -o "$T/child-out.vhd" "$T/child.vhd")" 0 "differencing with -o: exits 0"
check_moved "$T/child-out.vhd" "-o from a differencing child"

# A raw disk: primary NTFS at 63, extended container with two logical NTFS volumes at odd places.
SZ=96
truncate -s ${SZ}M "$T/multi.raw"
python3 - "$T/multi.raw" <<'PY'
import struct, sys
def entry(boot, typ, lba, n):
    return bytes([boot, 0xfe, 0xff, 0xff, typ, 0xfe, 0xff, 0xff]) + struct.pack('<II', lba, n)
def sector(entries, sig=0):
    m = bytearray(512)
    m[440:444] = struct.pack('<I', sig)
    for i, e in enumerate(entries):
        m[446 + 16 * i:462 + 16 * i] = e
    m[510:512] = b'\x55\xaa'
    return m
ext, end = 40100, 96 * 2048
with open(sys.argv[1], 'r+b') as f:
    f.write(sector([entry(0x80, 7, 63, 40000), entry(0, 5, ext, end - ext)], 0x5eed1234))
    f.seek(ext * 512)   # XP style: each EBR one track (63 sectors) before its logical
    f.write(sector([entry(0, 7, 63, 30000), entry(0, 5, 70237 - ext, 63 + 20000)]))
    f.seek(70237 * 512)
    f.write(sector([entry(0, 7, 63, 20000)]))
PY
mm=$(mmls -B "$T/multi.raw" | awk '$2 ~ /^[0-9]+:$/ {printf "%s ", $3 + 0}')
mkvol() { # mkvol START NSEC LABEL: mkntfs on a file, a few files, copied into the disk
    rm -f "$T/v.img"
    truncate -s $(($2 * 512)) "$T/v.img"
    mkntfs -F -Q -s 512 -c 4096 -p "$1" -H 255 -S 63 -L "$3" "$T/v.img" >/dev/null 2>&1
    dd if="$T/v.img" of="$T/multi.raw" bs=512 seek="$1" conv=notrunc 2>/dev/null
}
mkvol 63 40000 P1
mkvol 40163 30000 L5
mkvol 70300 20000 L6
for n in 1 5 6; do
    head -c $((n * 70001)) /dev/urandom >"$T/blob$n"
    vk put --part $n "$T/multi.raw" "$T/blob$n" /blob$n.bin >/dev/null 2>&1
done
for n in 1 5 6; do files "$T/multi.raw" $n; done >"$T/mfiles.before"
grep -c blob "$T/mfiles.before" | grep -q 3 && ok "multi: files put in the three volumes ($mm)" || not_ok "multi: files put ($mm)"
is "$(status vk align "$T/multi.raw")" 1 "multi: misaligned (exit 1)"
vk convert "$T/multi.raw" "$T/multi.vhd" --type dynamic --block-size 512K >/dev/null
is "$(status vk align --fix "$T/multi.raw")" 0 "multi: --fix exits 0"
is "$(status vk align "$T/multi.raw")" 0 "multi: then all aligned"
for n in 1 5 6; do files "$T/multi.raw" $n; done >"$T/mfiles.after"
cmp -s "$T/mfiles.before" "$T/mfiles.after" && ok "multi: every file identical in the three volumes" ||
    not_ok "multi: every file identical in the three volumes"
for n in 1 5 6; do
    s=$(lba "$T/multi.raw" $n)
    is "$((s % 2048))" 0 "multi: mmls puts partition $n on 1 MiB ($s)"
    is "$(hidden "$T/multi.raw" "$s")" "$s" "multi: partition $n hidden sectors = $s"
done
is "$(mmls -B "$T/multi.raw" | grep -c 'NTFS')" 3 "multi: mmls still finds three NTFS partitions"
fsck_ok=1
for n in 1 5 6; do
    s=$(lba "$T/multi.raw" $n)
    fls -r -o "$s" "$T/multi.raw" >/dev/null 2>&1 || fsck_ok=0
done
is "$fsck_ok" 1 "multi: fls reads all three volumes at their new places"
# The same disk as a dynamic VHD (512 KiB blocks, so the three moves touch many blocks): in place it reads as the
# raw result byte for byte (no registry to patch there: the writes are the same), and -o of it too.
is "$(status vk align --fix "$T/multi.vhd")" 0 "multi dynamic: --fix in place exits 0"
vk read "$T/multi.vhd" | cmp -s - "$T/multi.raw" && ok "multi dynamic: in place reads as the raw result byte for byte" ||
    not_ok "multi dynamic: in place = raw in place"
qemu-img convert -f vpc -O raw "$T/multi.vhd" "$T/q.raw" && cmp -s "$T/q.raw" "$T/multi.raw" &&
    ok "multi dynamic: qemu-img reads the same bytes" || not_ok "multi dynamic: qemu-img reads the same bytes"
vk check "$T/multi.vhd" >"$T/chk" 2>&1 && ! grep -q "referenced by no BAT" "$T/chk" &&
    ok "multi dynamic: check clean, no unreferenced space" || { not_ok "multi dynamic: check"; sed 's/^/#   /' "$T/chk"; }
rm -f "$T/q.raw"

# In place on a dynamic VHD (blocks rebuilt in free slots), on a fixed VHD and on a raw image (rounds through the
# journal), and -o: the same disk byte for byte when the registry step has nothing to write (MountedDevices removed,
# no BCD), as vhdkit, qemu-img and libvhdi read them; the gap below the new start reads as zeros; the dynamic file
# is as large as -o's and check finds nothing unreferenced.
"$VKGEN" --out "$T/s.vhd" --layout mbr63 --size 96M --files 30 --seed 5 --quiet || not_ok "vk-gen s.vhd"
vk reg del -r "$T/s.vhd" 'HKLM\SYSTEM\MountedDevices' >/dev/null
vk convert "$T/s.vhd" "$T/s.raw" --type raw >/dev/null
vk convert "$T/s.vhd" "$T/s.fixed" --type fixed >/dev/null
for k in vhd raw fixed; do
    cp "$T/s.$k" "$T/si.$k"
    chmod 640 "$T/si.$k"
    vk align --fix --json "$T/si.$k" >"$T/si.$k.json"
    is "$?" 0 "same bytes: $k in place exits 0"
done
# raw and fixed: copied beside and renamed over (room here), mode kept, nothing left; --no-copy moves inside the file
for k in raw fixed; do
    grep -q '"method": "copy"' "$T/si.$k.json" && ok "same bytes: $k in place went by copy" || not_ok "same bytes: $k method"
    is "$(stat -c %a "$T/si.$k")" 640 "same bytes: $k keeps its mode through the copy"
    test -e "$T/si.$k.vhdkit-align-tmp" && not_ok "same bytes: $k copy left behind" || ok "same bytes: $k no copy left behind"
    cp "$T/s.$k" "$T/sj.$k"
    vk align --fix --no-copy --json "$T/sj.$k" >"$T/sj.json"
    grep -q '"method": "journal"' "$T/sj.json" && ok "same bytes: $k --no-copy went by the journal" ||
        not_ok "same bytes: $k --no-copy method"
    cmp -s "$T/sj.$k" "$T/si.$k" && ok "same bytes: $k by copy = by journal, byte for byte" || not_ok "same bytes: $k copy != journal"
done
grep -q '"method": "blocks"' "$T/si.vhd.json" && ok "same bytes: dynamic in place went by blocks" || not_ok "same bytes: dynamic method"
# a copy a killed run left behind (SIGKILL skips the cleanup) is replaced by the next copy run, removed by a journaled one
for how in "" --no-copy; do
    cp "$T/s.raw" "$T/sk.raw"
    head -c 1048576 /dev/urandom >"$T/sk.raw.vhdkit-align-tmp"
    vk align --fix $how "$T/sk.raw" >/dev/null
    test -e "$T/sk.raw.vhdkit-align-tmp" && not_ok "leftover copy stays after align --fix $how" ||
        ok "leftover copy removed by align --fix ${how:-(copy)}"
    cmp -s "$T/sk.raw" "$T/si.raw" && ok "leftover copy: align --fix ${how:-(copy)} gives the same disk" ||
        not_ok "leftover copy: align --fix $how result differs"
done
is "$(vk info --json "$T/si.fixed" | sed -n 's/.*"uuid": "\(.*\)".*/\1/p' | head -1)" \
    "$(vk info --json "$T/s.fixed" | sed -n 's/.*"uuid": "\(.*\)".*/\1/p' | head -1)" "same bytes: the fixed VHD keeps its UUID"
is "$(status vk align --fix -o "$T/so.vhd" "$T/s.vhd")" 0 "same bytes: -o exits 0"
vk read "$T/si.vhd" | cmp -s - "$T/si.raw" && ok "same bytes: dynamic in place = raw in place" || not_ok "same bytes: dynamic = raw"
vk read "$T/si.fixed" | cmp -s - "$T/si.raw" && ok "same bytes: fixed in place = raw in place" || not_ok "same bytes: fixed = raw"
vk read "$T/so.vhd" | cmp -s - "$T/si.raw" && ok "same bytes: -o = raw in place" || not_ok "same bytes: -o = raw"
qemu-img convert -f vpc -O raw "$T/si.vhd" "$T/q.raw" && cmp -s "$T/q.raw" "$T/si.raw" &&
    ok "same bytes: qemu-img reads the dynamic in-place result as raw" || not_ok "same bytes: qemu-img"
"$VHDI_CAT" "$T/si.vhd" | cmp -s - "$T/si.raw" && ok "same bytes: libvhdi reads the dynamic in-place result as raw" ||
    not_ok "same bytes: libvhdi"
cmp -s "$T/si.raw" "$T/s.raw" && not_ok "same bytes: the disk changed" || ok "same bytes: the disk changed"
is "$(dd if="$T/si.raw" bs=512 skip=63 count=1985 2>/dev/null | tr -d '\000' | wc -c)" 0 \
    "same bytes: sectors 63-2047 (left by the move) read as zeros"
is "$(stat -c %s "$T/si.vhd")" "$(stat -c %s "$T/so.vhd")" "same bytes: the dynamic file is as large as -o's"
vk check "$T/si.vhd" >"$T/chk" 2>&1 && ! grep -q "referenced by no BAT" "$T/chk" &&
    ok "same bytes: check clean, no unreferenced space" || { not_ok "same bytes: check"; sed 's/^/#   /' "$T/chk"; }
rm -f "$T/q.raw" "$T"/s.* "$T"/si.* "$T"/sj.* "$T"/sk.* "$T/so.vhd"

"$VKGEN" --out "$T/gpt.vhd" --layout gpt --size 160M --files 3 --quiet
cp "$T/gpt.vhd" "$T/gpt0.vhd"
is "$(status vk align --fix "$T/gpt.vhd")" 0 "gpt: --fix exits 0"
cmp -s "$T/gpt.vhd" "$T/gpt0.vhd" && ok "gpt already aligned: nothing written" || not_ok "gpt already aligned: nothing written"

# A dynamic VHD whose partition no longer fits once moved to 8 MiB grows in place (vk_resize) before the move.
"$VKGEN" --out "$T/grow.vhd" --layout mbr63 --size 64M --files 5 --bcd --quiet
files "$T/grow.vhd" | grep -Ev "$HIVES" >"$T/g1"
is "$(status vk align --fix --to 8M "$T/grow.vhd")" 0 "grow: --fix --to 8M in place exits 0"
grep -q "disk grows from 67108864" "$T/out" && ok "grow: the disk grew" || not_ok "grow: the disk grew"
is "$(status vk align --to 8M "$T/grow.vhd")" 0 "grow: then aligned on 8 MiB"
files "$T/grow.vhd" | grep -Ev "$HIVES" >"$T/g2"
cmp -s "$T/g1" "$T/g2" && ok "grow: every file identical" || not_ok "grow: every file identical"
vk cat "$T/grow.vhd" Windows/System32/config/SYSTEM >"$T/SYSTEM"
hivexget "$T/SYSTEM" MountedDevices | grep -q '^"\\\\DosDevices\\\\C:"=hex(3):.\{11\},00,00,80,00,00,00,00,00$' &&
    ok "grow: hivexget shows C: at 8 MiB" || not_ok "grow: hivexget shows C: at 8 MiB"
qemu-img convert -f vpc -O raw "$T/grow.vhd" "$T/q.raw" 2>/dev/null
test "$(stat -c %s "$T/q.raw")" -ge $((64 * 1048576 + 8 * 1048576 - 63 * 512)) && ok "grow: qemu-img reads the grown disk" ||
    not_ok "grow: qemu-img reads the grown disk"
# The footer after growth: CHS geometry as the VHD specification's appendix computes it from the new current size
# (an independent implementation below; a "win " creator's disk is sized by its current-size field, and the
# geometry rounds that size down), holding the whole partition; qemu-img, libvhdi and vhdkit agree on the size.
# The same for a grown -o image.
spec_chs() {
    python3 - "$1" <<'PY'
import sys
t = int(sys.argv[1]) // 512
t = min(t, 65535 * 16 * 255)
if t >= 65535 * 16 * 63:
    spt, heads = 255, 16
    cth = t // spt
else:
    spt = 17
    cth = t // spt
    heads = max((cth + 1023) // 1024, 4)
    if cth >= heads * 1024 or heads > 16:
        spt, heads = 31, 16
        cth = t // spt
    if cth >= heads * 1024:
        spt, heads = 63, 16
        cth = t // spt
print('%04x%02x%02x' % (cth // heads, heads, spt))
PY
}
footer_chs() { tail -c 512 "$1" | od -An -tx1 -j56 -N4 | tr -d ' \n'; }
footer_size() { printf '%d' "0x$(tail -c 512 "$1" | od -An -tx1 -j48 -N8 | tr -d ' \n')"; }
vk align --fix --to 8M -o "$T/grow-o.vhd" "$T/xp.vhd" >/dev/null
for g in grow grow-o; do
    f=$T/$g.vhd
    sz=$(footer_size "$f")
    is "$(footer_chs "$f")" "$(spec_chs "$sz")" "$g: footer CHS is the spec's geometry for the grown size $sz"
    c=$(footer_chs "$f")
    chs_bytes=$(( 0x${c%????} * 0x$(echo "$c" | cut -c5-6) * 0x$(echo "$c" | cut -c7-8) * 512 ))
    pend=$(vk info --json "$f" | jq -r '[.partitions.entries[] | .start_lba + .sectors] | max')
    [ -n "$pend" ] && [ $((pend * 512)) -le "$chs_bytes" ] && ok "$g: the CHS size $chs_bytes holds the partition (ends at $((pend * 512)))" ||
        not_ok "$g: the CHS size $chs_bytes holds the partition (ends at $((pend * 512)))"
    is "$(qemu-img info --output=json "$f" | jq -r '."virtual-size"') $("$VHDI_CAT" "$f" | wc -c)" "$sz $sz" \
        "$g: qemu-img and libvhdi see $sz bytes"
done
