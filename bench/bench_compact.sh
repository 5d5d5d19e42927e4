#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 4: compact a 4 GiB vk-gen NTFS disk (2000 files, 40% more removed, the largest file removed): vhdkit compact
# (-o and in place) against qemu-img convert -O vpc (drops zero blocks only; it does not fsync its output, so a
# second row adds a sync), virt-sparsify when it runs here (BENCH_SPARSIFY=no skips it), and cp of the compacted
# bytes (the floor; with a sync, the floor of a durable copy).
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

# The disk: vk-gen, 4 GiB, MBR at 2048, 2000 files with 40% more written and removed, and the largest user file
# removed too (vk-gen's removed files are small; this one frees whole blocks).
"$VKGEN" --quiet --out "$W/src.vhd" --manifest "$W/src.man" --size 4G --files 2000 --deleted 0.4 --fill-mb 1024 \
    --seed 7
big=$(awk '$1 == "f" && $4 ~ /^Users\// { p = $4; for (i = 5; i <= NF; i++) p = p " " $i; print $3, p }' \
    "$W/src.man" | sort -n | tail -n 1 | cut -d' ' -f2-)
"$VHDKIT" rm "$W/src.vhd" "$big"
size() { stat -c %s "$1"; }

measure compact-o "$VHDKIT" compact -o "$W/o.vhd" "$W/src.vhd"; o=$REPLY_SECS; ok=$REPLY_KB
measure qemu-vpc qemu-img convert -f vpc -O vpc "$W/src.vhd" "$W/q.vhd"; p=$REPLY_SECS; pk=$REPLY_KB
row "compact -o (fsynced), 4 GiB disk" "$o" "$ok" "qemu-img convert -O vpc (not fsynced)" "$p" "$pk"
rm -f "$W/q2.vhd"
measure qemu-vpc-sync sh -c 'qemu-img convert -f vpc -O vpc "$1" "$2" && sync -f "$2"' sh "$W/src.vhd" "$W/q2.vhd"
row "compact -o (fsynced), same disk" "$o" "$ok" "qemu-img convert -O vpc + sync" "$REPLY_SECS" "$REPLY_KB"
rm -f "$W/q2.vhd"
cp "$W/src.vhd" "$W/ip.vhd"
sync
measure compact-in-place "$VHDKIT" compact "$W/ip.vhd"; i=$REPLY_SECS; ik=$REPLY_KB
row "compact in place, same disk" "$i" "$ik" "qemu-img convert -O vpc" "$p" "$pk"
measure cp-floor cp "$W/o.vhd" "$W/floor.vhd"; f=$REPLY_SECS; fk=$REPLY_KB
row "compact -o vs cp of the bytes kept (floor)" "$o" "$ok" "cp" "$f" "$fk"
rm -f "$W/floor.vhd"
measure cp-floor-sync sh -c 'cp "$1" "$2" && sync -f "$2"' sh "$W/o.vhd" "$W/floor.vhd"
row "compact -o vs the floor made durable" "$o" "$ok" "cp + sync" "$REPLY_SECS" "$REPLY_KB"
cp "$W/src.vhd" "$W/dry.vhd"
measure compact-dry-run "$VHDKIT" compact --dry-run "$W/dry.vhd"
dry="$REPLY_SECS s, $REPLY_KB KiB"
rm -f "$W/dry.vhd"
sparsify="not run: virt-sparsify is not installed"
if [ "${BENCH_SPARSIFY:-yes}" = no ]; then
    sparsify="not run (BENCH_SPARSIFY=no)"
elif command -v virt-sparsify >/dev/null 2>&1 && virt-sparsify --version >/dev/null 2>&1; then
    # Without KVM its appliance runs under TCG and took over 30 minutes here: cut off after BENCH_SPARSIFY_SECS.
    if LIBGUESTFS_BACKEND=direct measure virt-sparsify timeout "${BENCH_SPARSIFY_SECS:-600}" \
        virt-sparsify -q --convert vpc "$W/src.vhd" "$W/s.vhd"; then
        row "compact -o, same disk" "$o" "$ok" "virt-sparsify" "$REPLY_SECS" "$REPLY_KB"
        sparsify="$(size "$W/s.vhd") bytes"
    else
        sparsify="failed or cut off after ${BENCH_SPARSIFY_SECS:-600} s here (no KVM: TCG appliance)"
    fi
fi
echo
echo "compact --dry-run, same disk: $dry"
echo "sizes: source $(size "$W/src.vhd"), vhdkit -o $(size "$W/o.vhd") ($(du -k "$W/o.vhd" | cut -f1) KiB allocated), vhdkit in place $(size "$W/ip.vhd"),"
echo "       qemu-img -O vpc $(size "$W/q.vhd"), virt-sparsify: $sparsify"
"$VHDKIT" compact --dry-run --json "$W/ip.vhd" | grep -E '"blocks_after"' | sed 's/^ */after compaction, a dry run finds: /'
