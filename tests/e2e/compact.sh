#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit compact end to end: NTFS disks (partition at 63 and 2048, half the files deleted, a differencing chain) keep
# every file (sleuthkit fls/icat on raw exports by vhdkit, qemu-img and libvhdi) in place and with -o; check stays
# clean; the file shrinks by the freed blocks; refusals (fixed, saved state, hibernated, parent of a child) exit 4.
. "$(dirname "$0")/lib.sh"
: "${VHDI_CAT:?VHDI_CAT must name tests/peers/vhdi_cat}"
command -v mkntfs >/dev/null && command -v ntfs-3g >/dev/null && command -v icat >/dev/null ||
    skip_all "mkntfs, ntfs-3g and sleuthkit are test dependencies (scripts/install-deps.sh)"

SIZE_MB=96
# jget FILE A.B: a member by its full path (lib.sh's json_get matches the last key only; compact's report nests).
jget() { python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }
# mkdisk RAW START [HIBER]: MBR disk, one NTFS partition at START holding 24 files, every second one deleted.
mkdisk() {
    raw=$1 start=$2
    nsec=$((SIZE_MB * 2048 - start - 1))
    rm -f "$T/part.img"
    truncate -s $((nsec * 512)) "$T/part.img"
    mkntfs -F -Q -s 512 -p "$start" -H 255 -S 63 "$T/part.img" >/dev/null 2>&1 || return 1
    mkdir -p "$T/mnt"
    ntfs-3g "$T/part.img" "$T/mnt" || return 1
    i=1
    while [ $i -le 24 ]; do
        head -c $((i * 137000 + 511)) /dev/urandom >"$T/mnt/f$i.bin"
        i=$((i + 1))
    done
    [ "${3:-}" = hiber ] && { printf 'hibr' >"$T/mnt/hiberfil.sys"; head -c 8192 /dev/zero >>"$T/mnt/hiberfil.sys"; }
    i=2
    while [ $i -le 24 ]; do rm "$T/mnt/f$i.bin"; i=$((i + 2)); done
    fusermount -u "$T/mnt" 2>/dev/null || umount "$T/mnt"
    truncate -s $((SIZE_MB * 1048576)) "$raw"
    python3 - "$raw" "$start" "$nsec" <<'PY'
import struct, sys
raw, start, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
m = bytearray(512)
m[440:444] = struct.pack('<I', 0x1234abcd)
m[446:462] = bytes([0x80, 0xfe, 0xff, 0xff, 7, 0xfe, 0xff, 0xff]) + struct.pack('<II', start, n)
m[510:512] = b'\x55\xaa'
with open(raw, 'r+b') as f:
    f.write(m)
PY
    dd if="$T/part.img" of="$raw" bs=512 seek="$start" conv=notrunc status=none
    rm -f "$T/part.img"
}

# filehashes RAW START: "name sha256" of every file sleuthkit lists, sorted.
filehashes() {
    fls -r -p -F -u -o "$2" "$1" | while IFS="$(printf '\t')" read -r meta name; do
        inode=${meta##* }
        inode=${inode%:}
        case "$name" in \$*|*/\$*) continue ;; esac
        echo "$name $(icat -o "$2" "$1" "$inode" | sha256sum | cut -d' ' -f1)"
    done | sort
}

# vhashes IMAGE START: file hashes through vhdkit's raw export.
vhashes() {
    rm -f "$T/x.raw"
    vk convert --type raw "$1" "$T/x.raw" >/dev/null && filehashes "$T/x.raw" "$2"
    rm -f "$T/x.raw"
}

for start in 63 2048; do
    mkdisk "$T/d$start.raw" $start
    filehashes "$T/d$start.raw" $start >"$T/want"
    is "$(wc -l <"$T/want")" 12 "start $start: 12 files left on the generated disk"
    vk convert "$T/d$start.raw" "$T/a.vhd" >/dev/null
    cp "$T/a.vhd" "$T/b.vhd"
    vk compact --dry-run --json "$T/a.vhd" >"$T/dry.json"
    is "$?" 0 "start $start: dry run"
    freed_blocks=$(jget "$T/dry.json" freed.free.blocks)
    [ "$freed_blocks" -gt 5 ] && ok "start $start: dry run finds $freed_blocks free blocks" ||
        not_ok "start $start: dry run finds free blocks ($freed_blocks)"
    is "$(sum "$T/a.vhd")" "$(sum "$T/b.vhd")" "start $start: dry run writes nothing"

    vk compact --json -o "$T/o.vhd" "$T/a.vhd" >"$T/o.json"
    is "$?" 0 "start $start: compact -o"
    is "$(vhashes "$T/o.vhd" $start)" "$(cat "$T/want")" "start $start: -o: every file identical (vhdkit raw + icat)"
    is "$(status vk check "$T/o.vhd")" 0 "start $start: -o: check clean"

    before=$(stat -c %s "$T/a.vhd")
    vk compact --json "$T/a.vhd" >"$T/ip.json"
    is "$?" 0 "start $start: compact in place"
    after=$(stat -c %s "$T/a.vhd")
    dropped=$(( $(jget "$T/ip.json" blocks_before) - $(jget "$T/ip.json" blocks_after) ))
    [ $((before - after)) -ge $((dropped * 2097664)) ] && [ "$dropped" -gt 5 ] &&
        ok "start $start: in place: file shrank by $((before - after)) bytes, at least the $dropped dropped blocks" ||
        not_ok "start $start: in place: file shrank by $((before - after)) bytes for $dropped dropped blocks"
    is "$after" "$(jget "$T/ip.json" file_size_after)" "start $start: report gives the new file size"
    is "$(vhashes "$T/a.vhd" $start)" "$(cat "$T/want")" "start $start: in place: every file identical (vhdkit + icat)"
    is "$(status vk check "$T/a.vhd")" 0 "start $start: in place: check clean"
    qemu-img convert -f vpc -O raw "$T/a.vhd" "$T/q.raw"
    is "$(filehashes "$T/q.raw" $start)" "$(cat "$T/want")" "start $start: qemu-img reads every file of the result"
    "$VHDI_CAT" "$T/a.vhd" >"$T/v.raw"
    is "$(filehashes "$T/v.raw" $start)" "$(cat "$T/want")" "start $start: libvhdi reads every file of the result"
    is "$(vk read "$T/a.vhd" | sum /dev/stdin)" "$(vk read "$T/o.vhd" | sum /dev/stdin)" \
        "start $start: in place and -o give the same virtual disk"
    vk compact --json "$T/a.vhd" >"$T/again.json"
    is "$(jget "$T/again.json" blocks_after)" "$(jget "$T/ip.json" blocks_after)" \
        "start $start: a second run keeps every block"
    rm -f "$T/q.raw" "$T/v.raw" "$T/o.vhd"
    if [ $start = 2048 ]; then mv "$T/b.vhd" "$T/orig.vhd"; else rm -f "$T/b.vhd"; fi
    [ $start = 2048 ] || rm -f "$T/a.vhd" "$T/d$start.raw"
done

# Crash safety: stop (and tear) the in-place run after each of its writes in turn (a sample of about 30 points
# plus the first and last 5); every stopped copy opens, checks clean, keeps every file, and compacts again.
filehashes "$T/d2048.raw" 2048 >"$T/want"
cp "$T/orig.vhd" "$T/w.vhd"
W=$(VHDKIT_TEST_FAULT=count "$VHDKIT" compact "$T/w.vhd" 2>&1 >/dev/null | sed -n 's/^vhdkit-test-writes: //p')
[ "${W:-0}" -gt 10 ] && ok "crash: compact makes $W writes" || not_ok "crash: write count '$W'"
points=$(python3 -c 'import sys
w=int(sys.argv[1]); s=set(range(0,min(w,5)+1))|set(range(max(0,w-5),w+1))
s|={round(i*w/30) for i in range(31)}
print(" ".join(str(x) for x in sorted(s)))' "${W:-0}")
bad=0
n=0
for N in $points; do
    for mode in stop torn; do
        [ $mode = torn ] && [ $((N % 4)) -ne 0 ] && continue
        cp "$T/orig.vhd" "$T/w.vhd"
        VHDKIT_TEST_FAULT=$mode:$N "$VHDKIT" compact "$T/w.vhd" >/dev/null 2>&1
        n=$((n + 1))
        if [ "$(status vk check "$T/w.vhd")" != 0 ]; then bad=$((bad + 1)); echo "# $mode:$N: check"; sed 's/^/#   /' "$T/out" | head -5; continue; fi
        if [ "$(vhashes "$T/w.vhd" 2048)" != "$(cat "$T/want")" ]; then bad=$((bad + 1)); echo "# $mode:$N: files differ"; continue; fi
        if [ "$(status vk compact "$T/w.vhd")" != 0 ]; then bad=$((bad + 1)); echo "# $mode:$N: second run failed"; fi
    done
done
is "$bad" 0 "crash: $n stopped or torn runs all left a clean image with every file, and compacted again"
rm -f "$T/w.vhd"

# Differencing chain: a child that rewrote 4 MiB of the parent's bytes unchanged, filled free space, and changed
# 1 MiB of file data (the child's view, taken before compacting, is what must survive).
mv "$T/a.vhd" "$T/p.vhd"
rm -f "$T/orig.vhd"
vk snapshot "$T/p.vhd" "$T/c.vhd" >/dev/null
# firstclu NAME: first cluster of a file on the generated 2048 disk
firstclu() {
    ino=$(fls -p -F -u -o 2048 "$T/d2048.raw" | grep "	$1\$" | cut -f1 | sed 's/.* //; s/:$//')
    istat -o 2048 "$T/d2048.raw" "$ino" | awk '/^Type: \$DATA/{getline; print $1; exit}'
}
o1=$((1048576 + $(firstclu f1.bin) * 4096))
vk read "$T/p.vhd" | dd bs=4096 skip=$((o1 / 4096)) count=1024 status=none >"$T/same"
vk write "$T/c.vhd" --offset $o1 <"$T/same"
head -c 1048576 /dev/urandom >"$T/junk"
# The last MiBs of the volume before its backup boot sector are free (mkntfs puts nothing there, files went lower).
vk write "$T/c.vhd" --offset $((SIZE_MB - 3))M <"$T/junk"
vk write "$T/c.vhd" --offset $((1048576 + $(firstclu f23.bin) * 4096)) <"$T/junk"
vhashes "$T/c.vhd" 2048 >"$T/want"
vk read "$T/c.vhd" | sum /dev/stdin >"$T/view"
vk compact --dry-run --json "$T/c.vhd" >"$T/cd.json"
pb=$(jget "$T/cd.json" freed.parent.bytes)
fb=$(jget "$T/cd.json" freed.free.bytes)
[ "$pb" -gt 0 ] && ok "chain: dry run finds sectors equal to the parent ($pb bytes)" || not_ok "chain: equal-to-parent bytes $pb"
[ "$fb" -ge 1048576 ] &&
    ok "chain: dry run gives back the rewrites and the free-space writes ($fb bytes free)" ||
    not_ok "chain: free bytes $fb, parent bytes $pb"
is "$(status vk compact "$T/p.vhd")" 4 "chain: the parent of c.vhd is refused (exit 4)"
grep -q "names this image as its parent" "$T/err" && ok "chain: the refusal names the child" || not_ok "chain: refusal message"
is "$(status vk compact --dry-run "$T/p.vhd")" 0 "chain: a dry run of the parent is allowed"
vk compact -o "$T/c2.vhd" "$T/c.vhd" >/dev/null
is "$?" 0 "chain: compact -o of the child"
is "$(vhashes "$T/c2.vhd" 2048)" "$(cat "$T/want")" "chain: -o child: every file identical"
vk compact --json "$T/c.vhd" >"$T/c.json"
is "$?" 0 "chain: compact the child in place"
kept=$(jget "$T/c.json" blocks_after)
[ "$kept" -ge 1 ] && [ "$kept" -le 2 ] && ok "chain: the child keeps only the blocks of its changed file data ($kept)" ||
    not_ok "chain: the child keeps $kept blocks"
is "$(vhashes "$T/c.vhd" 2048)" "$(cat "$T/want")" "chain: in place: every file identical"
is "$(status vk check "$T/c.vhd")" 0 "chain: check clean"
rm -f "$T/c.vhd" "$T/c2.vhd" "$T/same" "$T/junk"

# Refusals.
vk convert --type fixed --fill sparse "$T/d2048.raw" "$T/f.vhd" >/dev/null
is "$(status vk compact "$T/f.vhd")" 4 "fixed disk refused (exit 4)"
grep -q "convert --type dynamic" "$T/err" && ok "fixed: points to convert" || not_ok "fixed: message"
cp "$T/p.vhd" "$T/s.vhd"
python3 - "$T/s.vhd" <<'PY'
import sys
p = sys.argv[1]
with open(p, 'r+b') as f:
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
mkdisk "$T/h.raw" 2048 hiber
vk convert "$T/h.raw" "$T/h.vhd" >/dev/null
is "$(status vk compact "$T/h.vhd")" 4 "hibernated volume refused (exit 4)"
grep -q "hibernated" "$T/err" && ok "hibernated: says why" || not_ok "hibernated: message"
is "$(status vk compact --dry-run "$T/h.vhd")" 4 "hibernated volume refused in a dry run too"
