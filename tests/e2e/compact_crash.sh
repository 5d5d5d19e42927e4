#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit compact in place, stopped (and torn) after each of its writes in turn on a vk-gen disk with a large file
# removed: every stopped copy checks clean, keeps every file (icat on a raw export vs vk-gen's manifest), and
# compacts again. The first and last 3 write points and 6 more spread between them are stopped; every other one
# is also torn (a half-written sector run), and the torn runs are compacted again to the end. (About 5 minutes under
# ASan with the other e2e tests beside it.)
. "$(dirname "$0")/compact_lib.sh"

check "vk-gen disk" gen "$T/a.vhd" --size 64M --files 20 --fill-mb 40 --deleted 0.5 --block-size 512K --seed 31
big=$(awk '$1 == "f" && $4 ~ /^Users\// { p = $4; for (i = 5; i <= NF; i++) p = p " " $i; print $3, p }' \
    "$T/a.vhd.man" | sort -n | tail -n 1 | cut -d' ' -f2-)
check "rm $big" vk rm "$T/a.vhd" "$big"
grep -vF " $big" "$T/a.vhd.man" >"$T/a.man"
man_files "$T/a.man" >"$T/want"
start=$(ntfs_start "$T/a.vhd")
vk compact --dry-run --json "$T/a.vhd" >"$T/dry.json"
[ "$(json_get "$T/dry.json" freed.free.blocks)" -ge 4 ] && ok "the run drops blocks and so moves some" ||
    not_ok "too few free blocks: $(json_get "$T/dry.json" freed.free.blocks)"
cp "$T/a.vhd" "$T/w.vhd"
W=$(VHDKIT_TEST_FAULT=count "$VHDKIT" compact "$T/w.vhd" 2>&1 >/dev/null | sed -n 's/^vhdkit-test-writes: //p')
[ "${W:-0}" -gt 10 ] && ok "compact makes $W writes" || not_ok "write count '$W'"
points=$(python3 -c 'import sys
w=int(sys.argv[1]); s=set(range(0,min(w,3)+1))|set(range(max(0,w-3),w+1))
s|={round(i*w/6) for i in range(7)}
print(" ".join(str(x) for x in sorted(s)))' "${W:-0}")
bad=0
n=0
for N in $points; do
    k=$((${k:-0} + 1))
    for mode in stop torn; do
        [ $mode = torn ] && [ $((k % 2)) -ne 0 ] && continue
        cp "$T/a.vhd" "$T/w.vhd"
        VHDKIT_TEST_FAULT=$mode:$N "$VHDKIT" compact "$T/w.vhd" >/dev/null 2>&1
        n=$((n + 1))
        if [ "$(status vk check "$T/w.vhd")" != 0 ]; then
            bad=$((bad + 1)); echo "# $mode:$N: check"; sed 's/^/#   /' "$T/out" | head -5; continue
        fi
        if [ "$(raw_hashes "$T/w.vhd" "$start")" != "$(cat "$T/want")" ]; then
            bad=$((bad + 1)); echo "# $mode:$N: files differ"; continue
        fi
        [ $mode = torn ] || continue
        if [ "$(status vk compact "$T/w.vhd")" != 0 ] || [ "$(status vk check "$T/w.vhd")" != 0 ]; then
            bad=$((bad + 1)); echo "# $mode:$N: second run failed"
        fi
    done
done
is "$bad" 0 "$n stopped or torn runs (of $W write points) all left a clean image with every file, and compacted again"
is "$(raw_hashes "$T/w.vhd" "$start")" "$(cat "$T/want")" "the last image, compacted again, keeps every file"
