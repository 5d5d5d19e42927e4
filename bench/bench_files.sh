#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 3: `tree` of a whole volume against sleuthkit `fls -r` (on the VHD through its vhd support, and on a raw
# export), and `cat` of a large file against `icat`. On a 4 GiB vk-gen disk (mbr2048, 2000 files, 600 MiB).
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$VKGEN" --quiet --out "$W/d.vhd" --layout mbr2048 --size 4G --files 2000 --fill-mb 600 --seed 3
"$VHDKIT" convert "$W/d.vhd" "$W/d.raw" --type raw >/dev/null
start=2048

best_of 3 tree-vhd "$VHDKIT" tree "$W/d.vhd"; o=$REPLY_SECS; ok=$REPLY_KB
best_of 3 fls-vhd fls -r -p -i vhd -o $start "$W/d.vhd"; p=$REPLY_SECS; pk=$REPLY_KB
row "tree, dynamic VHD (2000 files)" "$o" "$ok" "fls -r -i vhd" "$p" "$pk"
best_of 3 fls-raw fls -r -p -o $start "$W/d.raw"; p=$REPLY_SECS; pk=$REPLY_KB
row "tree, dynamic VHD vs fls on a raw export" "$o" "$ok" "fls -r (raw)" "$p" "$pk"
best_of 3 tree-json "$VHDKIT" tree "$W/d.vhd" --json; o=$REPLY_SECS; ok=$REPLY_KB
row "tree --json, dynamic VHD" "$o" "$ok" "fls -r (raw)" "$p" "$pk"

# The largest file of the volume, by its MFT record for icat.
"$VHDKIT" tree "$W/d.vhd" --json |
  jq -r '[.. | objects | select(.type? == "file")] | max_by(.size) | .mft_record, .size, .path' >"$W/big"
{ read -r mft; read -r size; read -r path; } <"$W/big"
best_of 3 cat-vhd "$VHDKIT" cat "$W/d.vhd" "$path"; o=$REPLY_SECS; ok=$REPLY_KB
best_of 3 icat-vhd icat -i vhd -o $start "$W/d.vhd" "$mft"; p=$REPLY_SECS; pk=$REPLY_KB
row "cat $((size / 1048576)) MiB file, dynamic VHD" "$o" "$ok" "icat -i vhd" "$p" "$pk"
best_of 3 icat-raw icat -o $start "$W/d.raw" "$mft"; p=$REPLY_SECS; pk=$REPLY_KB
row "cat $((size / 1048576)) MiB file vs icat on raw" "$o" "$ok" "icat (raw)" "$p" "$pk"
