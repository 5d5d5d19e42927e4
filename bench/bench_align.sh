#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 8: `align` scan against virt-alignment-scan (libguestfs, needs its appliance VM), and `align --fix` (to a new
# image with -o, and in place) against `cp` of the disk, the floor of any tool that moves the data. On an XP-style
# vk-gen disk (partition at sector 63; BENCH_ALIGN_SIZE, default 2G, with half of it in files): raw, fixed VHD and
# dynamic VHD. In place, raw and fixed images are written once beside the image and renamed over it (the default
# when the file system has room; the replaced file's deletion is inside the timed command); a dynamic VHD has each
# new block built once in a free slot and its BAT entries switched in journaled 32 MiB batches, then the last blocks
# moved into the freed slots and the file cut: the data is written once, as cp writes it.
# BENCH_ALIGN_KINDS (default "raw fixed vhd") picks the image kinds of the --fix rows.
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
SIZE=${BENCH_ALIGN_SIZE:-2G}
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$VKGEN" --quiet --out "$W/d.vhd" --layout mbr63 --size "$SIZE" --files 2000 --fill-mb 1024 --bcd --seed 8
"$VHDKIT" convert "$W/d.vhd" "$W/d.raw" --type raw >/dev/null
"$VHDKIT" convert "$W/d.vhd" "$W/d.fixed" --type fixed >/dev/null
sync

header
# align exits 1 on a misaligned disk: that is its answer, not a failure
best_of 5 "align scan" sh -c '"$VHDKIT" align "$1" >/dev/null; [ $? -le 1 ]' - "$W/d.vhd"
s_ours=$REPLY_SECS k_ours=$REPLY_KB
# /usr/bin/time counts in 10 ms steps: 0.00 means under one step (and would make row's awk divide by zero)
case $s_ours in 0 | 0.0 | 0.00) s_ours=0.005 ;; esac
if command -v virt-alignment-scan >/dev/null &&
  timeout 900 virt-alignment-scan -a "$W/d.raw" >"$W/vas.out" 2>"$W/vas.err" ||
  [ "$(grep -c . "$W/vas.out" 2>/dev/null)" -gt 0 ]; then
  measure "virt-alignment-scan" sh -c 'timeout 900 virt-alignment-scan -a "$1" >/dev/null; [ $? -le 3 ]' - "$W/d.raw"
  row "align scan (dynamic VHD) vs virt-alignment-scan" "$s_ours" "$k_ours" "virt-alignment-scan" "$REPLY_SECS" "$REPLY_KB"
else
  printf '| %-44s | %8.3f s | %7d KiB | %-22s | %s\n' "align scan (dynamic VHD)" "$s_ours" "$k_ours" \
    "virt-alignment-scan" "cannot run here: $(grep -v '^$' "$W/vas.err" 2>/dev/null | tail -1 | cut -c1-100)"
fi

for kind in ${BENCH_ALIGN_KINDS:-raw fixed vhd}; do
  src=$W/d.$kind
  best_of 3 "cp $kind" sh -c 'rm -f "$2"; cp "$1" "$2"; sync' - "$src" "$W/cp.$kind"
  c_secs=$REPLY_SECS c_kb=$REPLY_KB
  best_of 3 "fix -o $kind" sh -c 'rm -f "$2"; "$VHDKIT" align --fix -o "$2" "$1" >/dev/null; sync' - "$src" "$W/o.$kind"
  case $kind in vhd) kn="dynamic VHD" ;; fixed) kn="fixed VHD" ;; *) kn=raw ;; esac
  row "align --fix -o ($kn)" "$REPLY_SECS" "$REPLY_KB" "cp (the floor)" "$c_secs" "$c_kb"
  # in place: a fresh copy each time (not timed)
  BENCH_BETWEEN="cp '$src' '$W/i.$kind'; sync"
  cp "$src" "$W/i.$kind"; sync
  best_of 3 "fix in place $kind" sh -c '"$VHDKIT" align --fix "$1" >/dev/null; sync' - "$W/i.$kind"
  BENCH_BETWEEN=""
  row "align --fix in place ($kn)" "$REPLY_SECS" "$REPLY_KB" "cp (the floor)" "$c_secs" "$c_kb"
done
