#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 6: 1000 whohas queries in one call against 1000 `ifind -d` calls and one `ntfscluster` run over every
# cluster; a full `map` against the same ntfscluster run. On a 4 GiB vk-gen disk (mbr2048, 2 GiB of files).
# BENCH_IFIND_N (default 1000) ifind calls are timed; with fewer, the row says so and scales the time to 1000.
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
N_IFIND=${BENCH_IFIND_N:-1000}
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$VKGEN" --quiet --out "$W/d.vhd" --layout mbr2048 --size 4G --files 2000 --fill-mb 2048 --deleted 0.2 --seed 6
"$VHDKIT" convert "$W/d.vhd" "$W/d.raw" --type raw >/dev/null
start=2048
nsec=$(mmls -a "$W/d.raw" | awk '$1 ~ /^[0-9]+:$/ && $3 + 0 == 2048 {print $5 + 0}')
dd if="$W/d.raw" of="$W/p.img" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) count=$((nsec * 512)) \
  status=none
csize=$(fsstat -o $start "$W/d.raw" | sed -n 's/^Cluster Size: //p')
last=$(fsstat -o $start "$W/d.raw" | sed -n 's/^Total Cluster Range: 0 - //p')
icat -o $start "$W/d.raw" 6 >"$W/bitmap"
python3 - "$W/bitmap" "$last" "$csize" "$start" "$W/clusters" >"$W/queries" <<'EOF'
import random, sys
bm = open(sys.argv[1], 'rb').read()
last, cs, start = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
used = [c for c in range(last + 1) if (bm[c >> 3] >> (c & 7)) & 1]
pick = random.Random(1).sample(used, 1000)
open(sys.argv[5], 'w').write('\n'.join(map(str, pick)) + '\n')
for c in pick:
    print('sector', start + c * cs // 512)
EOF

best_of 3 whohas-1000 sh -c '"$0" whohas --json "$1" --stdin <"$2"' "$VHDKIT" "$W/d.vhd" "$W/queries"
o=$REPLY_SECS; ok=$REPLY_KB
head -n "$N_IFIND" "$W/clusters" >"$W/ifind_clusters"
measure ifind sh -c 'while read -r c; do ifind -d "$c" -o "$1" "$2"; done <"$0"' "$W/ifind_clusters" $start "$W/d.raw"
p=$(awk "BEGIN{printf \"%.3f\", $REPLY_SECS * 1000 / $N_IFIND}"); pk=$REPLY_KB
label="1000 x ifind -d"
[ "$N_IFIND" -lt 1000 ] && label="$N_IFIND x ifind -d, scaled to 1000"
row "whohas: 1000 used clusters, one call (4 GiB)" "$o" "$ok" "$label" "$p" "$pk"
measure ntfscluster ntfscluster -c "0-$last" "$W/p.img"
nc=$REPLY_SECS; nck=$REPLY_KB
row "whohas: 1000 used clusters, one call (4 GiB)" "$o" "$ok" "ntfscluster -c 0-last" "$nc" "$nck"
best_of 3 map "$VHDKIT" map --json "$W/d.vhd"
row "map: every block with owners (4 GiB)" "$REPLY_SECS" "$REPLY_KB" "ntfscluster -c 0-last" "$nc" "$nck"
