#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 4: compact a 4 GiB NTFS disk with half its files deleted: vhdkit compact (-o and in place) against qemu-img
# convert -O vpc (drops zero blocks only), virt-sparsify when it runs here, and cp of the compacted bytes (the floor).
set -e
. bench/lib.sh
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'fusermount -u "$W/mnt" 2>/dev/null || true; rm -rf "$W"' EXIT

# The disk: MBR, NTFS at 2048, 48 files of 48 MiB (about 2.3 GiB), every second one deleted.
start=2048
nsec=$((4 * 1024 * 2048 - start - 1))
truncate -s $((nsec * 512)) "$W/part.img"
mkntfs -F -Q -s 512 -p $start -H 255 -S 63 "$W/part.img" >/dev/null 2>&1
mkdir "$W/mnt"
ntfs-3g "$W/part.img" "$W/mnt"
i=1
while [ $i -le 48 ]; do head -c 50331648 /dev/urandom >"$W/mnt/f$i.bin"; i=$((i + 1)); done
i=2
while [ $i -le 48 ]; do rm "$W/mnt/f$i.bin"; i=$((i + 2)); done
fusermount -u "$W/mnt"
truncate -s 4G "$W/disk.raw"
python3 - "$W/disk.raw" $start $nsec <<'PY'
import struct, sys
m = bytearray(512)
m[446:462] = bytes([0x80, 0xfe, 0xff, 0xff, 7, 0xfe, 0xff, 0xff]) + struct.pack('<II', int(sys.argv[2]), int(sys.argv[3]))
m[510:512] = b'\x55\xaa'
open(sys.argv[1], 'r+b').write(m)
PY
dd if="$W/part.img" of="$W/disk.raw" bs=1M seek=1 conv=notrunc status=none
rm "$W/part.img"
"$VHDKIT" convert "$W/disk.raw" "$W/src.vhd" >/dev/null
rm "$W/disk.raw"
size() { stat -c %s "$1"; }

measure compact-o "$VHDKIT" compact -o "$W/o.vhd" "$W/src.vhd"; o=$REPLY_SECS; ok=$REPLY_KB
measure qemu-vpc qemu-img convert -f vpc -O vpc "$W/src.vhd" "$W/q.vhd"; p=$REPLY_SECS; pk=$REPLY_KB
row "compact -o, 4 GiB disk, half deleted" "$o" "$ok" "qemu-img convert -O vpc" "$p" "$pk"
cp "$W/src.vhd" "$W/ip.vhd"
sync
measure compact-in-place "$VHDKIT" compact "$W/ip.vhd"; i=$REPLY_SECS; ik=$REPLY_KB
row "compact in place, same disk" "$i" "$ik" "qemu-img convert -O vpc" "$p" "$pk"
measure cp-floor cp "$W/o.vhd" "$W/floor.vhd"; f=$REPLY_SECS; fk=$REPLY_KB
row "compact -o vs cp of the bytes kept (floor)" "$o" "$ok" "cp" "$f" "$fk"
sparsify="not run: virt-sparsify is not installed"
if command -v virt-sparsify >/dev/null 2>&1 && virt-sparsify --version >/dev/null 2>&1; then
    if LIBGUESTFS_BACKEND=direct measure virt-sparsify virt-sparsify -q --convert vpc "$W/src.vhd" "$W/s.vhd"; then
        row "compact -o, same disk" "$o" "$ok" "virt-sparsify" "$REPLY_SECS" "$REPLY_KB"
        sparsify="$(size "$W/s.vhd") bytes"
    else
        sparsify="failed here (no appliance/KVM)"
    fi
fi
echo
echo "sizes: source $(size "$W/src.vhd"), vhdkit -o $(size "$W/o.vhd"), vhdkit in place $(size "$W/ip.vhd"),"
echo "       qemu-img -O vpc $(size "$W/q.vhd"), virt-sparsify: $sparsify"
"$VHDKIT" compact --dry-run --json "$W/ip.vhd" | grep -E '"blocks_after"' | sed 's/^ */after compaction, a dry run finds: /'
