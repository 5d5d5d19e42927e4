#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# rebase --files: a 2 GiB vk-gen base (2000 files, 1 GiB of data), an updated copy (NEWBASE: 50 files changed,
# converted so the two share no chain: the update's diff reads every same-size file) and a user's child with 200
# files changed (100 overwritten, 50 added, 50 removed). vhdkit rebase --files against the manual way a user would
# script with vhdkit itself: both diffs as JSON, a snapshot of NEWBASE, then get + put (or rm) per changed path of the
# user's not in the update's (one process per step, no times, streams or registry). Both results are checked to hold
# the same files (vhdkit diff between them: nothing but times). virt-diff is left out: a single run takes minutes
# here (bench_diff.sh).
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$VKGEN" --quiet --out "$W/old.vhd" --layout mbr2048 --size 2G --files 2000 --fill-mb 1024 --seed 12 \
  --manifest "$W/man"
"$VHDKIT" convert "$W/old.vhd" "$W/new.vhd" >/dev/null
"$VHDKIT" snapshot "$W/old.vhd" "$W/child.vhd" >/dev/null
python3 - "$W/man" >"$W/plan" <<'PY'
import random, sys
rows = [l.rstrip('\n').split(' ', 3) for l in open(sys.argv[1]) if l[0] == 'f']
files = ['/' + r[3] for r in rows if 4096 < int(r[2]) < (8 << 20) and 'config/' not in r[3] and 'NTUSER' not in r[3]
         and 'pagefile' not in r[3]]
pick = random.Random(5).sample(files, 250)
for f in pick[:50]:
    print('upd', 20000, f)
for f in pick[50:150]:
    print('usr', 30000, f)
for f in pick[150:200]:
    print('rm', 0, f)
for i in range(50):
    print('usr', 6000 + i, '/Users/alice/Documents/new%03d.bin' % i)
PY
while read -r who size path; do
  case $who in
    upd) head -c "$size" /dev/urandom >"$W/f" && "$VHDKIT" put "$W/new.vhd" "$W/f" "$path" >/dev/null ;;
    usr) head -c "$size" /dev/urandom >"$W/f" && "$VHDKIT" put "$W/child.vhd" "$W/f" "$path" >/dev/null ;;
    rm) "$VHDKIT" rm "$W/child.vhd" "$path" ;;
  esac
done <"$W/plan"

# rebase --files exits 1 when it found conflicts: none here, 0 expected.
best_of 3 rebase-files sh -c 'rm -f "$3"; "$0" rebase --files "$1" "$2" -o "$3"' "$VHDKIT" "$W/child.vhd" "$W/new.vhd" \
  "$W/out.vhd"
o=$REPLY_SECS; ok=$REPLY_KB
"$VHDKIT" rebase --files --json --force "$W/child.vhd" "$W/new.vhd" -o "$W/out.vhd" >"$W/r.json"
echo "(rebase --files: $(jq -r '"\(.applied | length) applied, \(.conflicts | length) conflicts, \(.bytes_written) bytes written, \(.user_changes) user and \(.update_changes) update changes"' "$W/r.json"))"

cat >"$W/manual.sh" <<'EOF'
# The manual way: the user's changes not touched by the update, replayed one vhdkit command at a time.
V=$1 W=$2
rm -f "$W/m.vhd"
"$V" diff --json "$W/old.vhd" "$W/child.vhd" | jq -r '.differences[] | .change + "|" + .type + "|" + .path' >"$W/u"
"$V" diff --json "$W/old.vhd" "$W/new.vhd" | jq -r '.differences[] | .path' | sort >"$W/w"
"$V" snapshot "$W/new.vhd" "$W/m.vhd" >/dev/null
while IFS='|' read -r change type path; do
  grep -qxF "$path" "$W/w" && continue
  case $change in
    removed) "$V" rm -r "$W/m.vhd" "$path" ;;
    *) if [ "$type" = dir ]; then "$V" mkdir -p "$W/m.vhd" "$path"; else
         rm -f "$W/g" && "$V" get "$W/child.vhd" "$path" "$W/g" && "$V" put "$W/m.vhd" "$W/g" "$path" >/dev/null; fi ;;
  esac
done <"$W/u"
EOF
best_of 3 manual sh "$W/manual.sh" "$VHDKIT" "$W"
p=$REPLY_SECS; pk=$REPLY_KB
same=$("$VHDKIT" diff --json "$W/out.vhd" "$W/m.vhd" |
  jq -r '[.differences[] | select(.fields - ["modified", "created"] | length > 0)] | length')
echo "(manual script: $same differences from rebase --files other than times)"
row "rebase --files: 2 GiB, 200 user files" "$o" "$ok" "diff + get/put script" "$p" "$pk"
