#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 7: merge and rebase of a 1 GiB chain (base with 512 MiB written, child with 256 MiB in 1 MiB pieces) against
# cp of the child file (the floor: the bytes that must move) and qemu-img convert -O vpc of the flattened disk (what a
# user without a merge would do; qemu cannot read differencing VHDs). vhd-util coalesce is not packaged here.
set -e
. bench/lib.sh
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$VHDKIT" create "$W/base.vhd" 1G >/dev/null
head -c 536870912 /dev/urandom | "$VHDKIT" write "$W/base.vhd" --offset 0
"$VHDKIT" snapshot "$W/base.vhd" "$W/child.vhd" >/dev/null
i=0
while [ $i -lt 256 ]; do
    head -c 1048576 /dev/urandom | "$VHDKIT" write "$W/child.vhd" --offset $((i * 4))M
    i=$((i + 1))
done
cp "$W/base.vhd" "$W/base.orig"
"$VHDKIT" convert --type raw "$W/child.vhd" "$W/flat.raw" >/dev/null
sync

BENCH_BETWEEN='cp "$W/base.orig" "$W/base.vhd"; sync'
best_of 3 merge "$VHDKIT" merge --keep "$W/child.vhd"; m=$REPLY_SECS; mk=$REPLY_KB
BENCH_BETWEEN='rm -f "$W/cp.vhd"; sync'
best_of 3 cp cp "$W/child.vhd" "$W/cp.vhd"; c=$REPLY_SECS; ck=$REPLY_KB
row "merge 256 MiB child into 1 GiB base" "$m" "$mk" "cp of the child (floor)" "$c" "$ck"
BENCH_BETWEEN='rm -f "$W/q.vhd"; sync'
best_of 3 qemu qemu-img convert -f raw -O vpc "$W/flat.raw" "$W/q.vhd"; q=$REPLY_SECS; qk=$REPLY_KB
row "merge 256 MiB child into 1 GiB base" "$m" "$mk" "qemu-img convert flat" "$q" "$qk"

"$VHDKIT" create "$W/other.vhd" 1G >/dev/null
head -c 268435456 /dev/urandom | "$VHDKIT" write "$W/other.vhd" --offset 0
cp "$W/child.vhd" "$W/child.orig"
sync
BENCH_BETWEEN='cp "$W/child.orig" "$W/child.vhd"; sync'
best_of 3 rebase "$VHDKIT" rebase "$W/child.vhd" "$W/other.vhd"; r=$REPLY_SECS; rk=$REPLY_KB
row "rebase onto an unrelated 1 GiB parent" "$r" "$rk" "cp of the child (floor)" "$c" "$ck"
row "rebase onto an unrelated 1 GiB parent" "$r" "$rk" "qemu-img convert flat" "$q" "$qk"
