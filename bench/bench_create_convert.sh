#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 2: create fixed 10 GiB and 1 TiB, convert raw->dynamic and dynamic->raw, against qemu-img.
set -e
. bench/lib.sh
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

# create: 10 GiB fully allocated (what Windows needs) vs qemu-img's default; 1 TiB sparse both sides
# (1 TiB cannot be allocated on this machine's free space).
BENCH_BETWEEN='rm -f "$W"/c.vhd "$W"/q.vhd'
best_of 3 create-fixed-10G "$VHDKIT" create "$W/c.vhd" 10G --type fixed; o=$REPLY_SECS; ok=$REPLY_KB
best_of 3 qemu-create-fixed-10G qemu-img create -q -f vpc -o subformat=fixed "$W/q.vhd" 10G; p=$REPLY_SECS; pk=$REPLY_KB
row "create fixed 10 GiB (vhdkit: fallocate)" "$o" "$ok" "qemu-img create" "$p" "$pk"
best_of 3 create-fixed-1T "$VHDKIT" create "$W/c.vhd" 1T --type fixed --fill sparse; o=$REPLY_SECS; ok=$REPLY_KB
best_of 3 qemu-create-fixed-1T qemu-img create -q -f vpc -o subformat=fixed "$W/q.vhd" 1T; p=$REPLY_SECS; pk=$REPLY_KB
row "create fixed 1 TiB (sparse)" "$o" "$ok" "qemu-img create" "$p" "$pk"
best_of 3 create-dyn-2T "$VHDKIT" create "$W/c.vhd" 2000G --type dynamic; o=$REPLY_SECS; ok=$REPLY_KB
best_of 3 qemu-create-dyn-2T qemu-img create -q -f vpc "$W/q.vhd" 2000G; p=$REPLY_SECS; pk=$REPLY_KB
row "create dynamic 2000 GiB" "$o" "$ok" "qemu-img create" "$p" "$pk"
BENCH_BETWEEN=

# A 4 GiB raw disk with 1 GiB of non-zero data in 64 scattered 16 MiB runs.
truncate -s 4G "$W/src.raw"
i=0
while [ $i -lt 64 ]; do
  dd if=/dev/urandom of="$W/src.raw" bs=1M count=16 seek=$((i * 64)) conv=notrunc status=none
  i=$((i + 1))
done
BENCH_BETWEEN='rm -f "$W"/o.vhd "$W"/q.vhd'
best_of 3 convert-raw-dyn "$VHDKIT" convert "$W/src.raw" "$W/o.vhd" --type dynamic; o=$REPLY_SECS; ok=$REPLY_KB
best_of 3 qemu-convert-raw-dyn qemu-img convert -O vpc "$W/src.raw" "$W/q.vhd"; p=$REPLY_SECS; pk=$REPLY_KB
row "convert raw->dynamic (4 GiB, 1 GiB data)" "$o" "$ok" "qemu-img convert" "$p" "$pk"
BENCH_BETWEEN=
"$VHDKIT" convert "$W/src.raw" "$W/d.vhd" --type dynamic >/dev/null
BENCH_BETWEEN='rm -f "$W"/o.raw "$W"/q.raw'
best_of 3 convert-dyn-raw "$VHDKIT" convert "$W/d.vhd" "$W/o.raw" --type raw; o=$REPLY_SECS; ok=$REPLY_KB
best_of 3 qemu-convert-dyn-raw qemu-img convert -O raw "$W/d.vhd" "$W/q.raw"; p=$REPLY_SECS; pk=$REPLY_KB
row "convert dynamic->raw (4 GiB, 1 GiB data)" "$o" "$ok" "qemu-img convert" "$p" "$pk"
BENCH_BETWEEN=
