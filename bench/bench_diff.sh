#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# diff: a 2 GiB vk-gen disk (2000 files, 1.3 GiB of data) and a differencing child with 50 files changed through
# vhdkit (20 overwritten with the same size, 20 with another size, 5 removed, 5 added). vhdkit diff (shortcut through
# the shared base; --read-all; --no-content; against an unrelated flat copy) against the peers a user would pick:
# the sleuthkit script of tests/e2e/diff_peer.py (fls listing, tsk_recover + icat hashing both volumes, on raw copies
# since sleuthkit cannot read a differencing VHD) and virt-diff (libguestfs, one run: its appliance boots without
# KVM here; BENCH_NO_GUESTFS=1 skips it). Each peer's path set is checked against vhdkit's.
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
PEER=bench/../tests/e2e/diff_peer.py
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$VKGEN" --quiet --out "$W/base.vhd" --layout mbr2048 --size 2G --files 2000 --fill-mb 1024 --seed 11 \
  --manifest "$W/man"
"$VHDKIT" snapshot "$W/base.vhd" "$W/child.vhd" >/dev/null
python3 - "$W/man" >"$W/plan" <<'PY'
import random, sys
files = ['/' + l.rstrip('\n').split(' ', 3)[3] for l in open(sys.argv[1]) if l[0] == 'f']
sizes = {('/' + l.split(' ', 3)[3]).rstrip('\n'): int(l.split(' ')[2]) for l in open(sys.argv[1]) if l[0] == 'f'}
pick = random.Random(3).sample([f for f in files if 4096 < sizes[f] < (8 << 20)], 45)
for f in pick[:20]:
    print('same', sizes[f], f)
for f in pick[20:40]:
    print('size', sizes[f] // 2 + 1, f)
for f in pick[40:45]:
    print('rm', 0, f)
for i in range(5):
    print('new', 5000 + i, '/Users/alice/Documents/new%d.bin' % i)
PY
while read -r what size path; do
  case $what in
    rm) "$VHDKIT" rm "$W/child.vhd" "$path" ;;
    *) head -c "$size" /dev/urandom >"$W/f" && "$VHDKIT" put "$W/child.vhd" "$W/f" "$path" >/dev/null ;;
  esac
done <"$W/plan"

# diff exits 1 when it finds differences: that is success here.
DIFF='"$0" diff "$@" >/dev/null; [ $? -le 1 ]'
best_of 3 diff sh -c "$DIFF" "$VHDKIT" --json "$W/base.vhd" "$W/child.vhd"
o=$REPLY_SECS; ok=$REPLY_KB
"$VHDKIT" diff --json "$W/base.vhd" "$W/child.vhd" >"$W/d.json" || true
best_of 3 diff-read-all sh -c "$DIFF" "$VHDKIT" --json --read-all "$W/base.vhd" "$W/child.vhd"
ra=$REPLY_SECS; rak=$REPLY_KB
best_of 3 diff-no-content sh -c "$DIFF" "$VHDKIT" --json --no-content "$W/base.vhd" "$W/child.vhd"
nc=$REPLY_SECS; nck=$REPLY_KB
"$VHDKIT" convert "$W/child.vhd" "$W/flat.vhd" >/dev/null
best_of 3 diff-unrelated sh -c "$DIFF" "$VHDKIT" --json "$W/base.vhd" "$W/flat.vhd"
un=$REPLY_SECS; unk=$REPLY_KB
echo "(diff: $(jq -r '"\(.added) added, \(.removed) removed, \(.changed) changed; \(.streams_shared) of \(.streams_compared) same-size streams judged from shared clusters, \(.bytes_read) bytes read"' "$W/d.json"))"

"$VHDKIT" convert "$W/base.vhd" "$W/base.raw" --type raw >/dev/null
"$VHDKIT" convert "$W/child.vhd" "$W/child.raw" --type raw >/dev/null
measure sleuthkit sh -c 'python3 "$0" --list "$1" 2048 "$2" 2048 >"$3"' "$PEER" "$W/base.raw" "$W/child.raw" "$W/peer.txt"
p=$REPLY_SECS; pk=$REPLY_KB
jq -r '.differences[] | .path' "$W/d.json" | sort >"$W/vk.paths"
awk '{ $1 = ""; sub(/^ /, ""); sub(/ *(data)? *(streams)? *$/, ""); print }' "$W/peer.txt" | sort >"$W/peer.paths"
agree=$(cmp -s "$W/vk.paths" "$W/peer.paths" && echo "same $(wc -l <"$W/vk.paths") paths" || echo "DIFFERENT path sets")
echo "(sleuthkit script: $agree)"
row "diff: 2 GiB child, 50 files changed" "$o" "$ok" "sleuthkit fls+tsk_recover" "$p" "$pk"
row "diff --read-all (no shortcut)" "$ra" "$rak" "sleuthkit fls+tsk_recover" "$p" "$pk"
row "diff --no-content" "$nc" "$nck" "sleuthkit fls+tsk_recover" "$p" "$pk"
row "diff against an unrelated flat copy" "$un" "$unk" "sleuthkit fls+tsk_recover" "$p" "$pk"

if [ -z "$BENCH_NO_GUESTFS" ] && command -v virt-diff >/dev/null 2>&1; then
  # virt-diff opens images through qemu, which ignores a VHD's parent: it gets the raw copies.
  measure virt-diff sh -c 'virt-diff --format=raw -a "$0" -A "$1" >"$2"; [ $? -le 1 ]' "$W/base.raw" "$W/child.raw" "$W/vd.txt"
  vd=$REPLY_SECS; vdk=$REPLY_KB
  # entry lines are "+|-|= TYPE MODE SIZE PATH"; content diffs of changed files come between them
  awk '$1 ~ /^[-+=]$/ && $2 ~ /^[-dl]$/ && $3 ~ /^[0-7]+$/ { sub(/^[-+=] [-dl] [0-7]+ +[0-9]+ /, ""); print }' \
    "$W/vd.txt" | sort >"$W/vd.paths"
  echo "(virt-diff: $(cmp -s "$W/vk.paths" "$W/vd.paths" && echo "same $(wc -l <"$W/vd.paths") paths" ||
    echo "$(wc -l <"$W/vd.paths") paths, DIFFERENT from vhdkit's $(wc -l <"$W/vk.paths")"))"
  row "diff: 2 GiB child, 50 files changed" "$o" "$ok" "virt-diff (TCG)" "$vd" "$vdk"
fi
