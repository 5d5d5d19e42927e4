# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for bench/*.sh: time a command (wall seconds, max RSS), print side-by-side rows with ratios.

BENCH_OUT=${BENCH_OUT:-$(pwd)/bench/out}
mkdir -p "$BENCH_OUT"

# measure NAME CMD...: runs CMD once with caches as they are, sets REPLY_SECS and REPLY_KB.
measure() {
  name=$1; shift
  /usr/bin/time -f '%e %M' -o "$BENCH_OUT/.time" "$@" >/dev/null 2>"$BENCH_OUT/.stderr" || {
    echo "bench: '$name' failed:" >&2; cat "$BENCH_OUT/.stderr" >&2; return 1; }
  read -r REPLY_SECS REPLY_KB < "$BENCH_OUT/.time"
}

# best_of N NAME CMD...: the fastest of N runs (sets REPLY_SECS, REPLY_KB of that run).
best_of() {
  n=$1; shift; name=$1; shift
  best=""; bestkb=""
  i=0
  while [ $i -lt "$n" ]; do
    measure "$name" "$@" || return 1
    if [ -z "$best" ] || awk "BEGIN{exit !($REPLY_SECS < $best)}"; then best=$REPLY_SECS; bestkb=$REPLY_KB; fi
    i=$((i + 1))
    [ -n "$BENCH_BETWEEN" ] && eval "$BENCH_BETWEEN"
  done
  REPLY_SECS=$best; REPLY_KB=$bestkb
}

# row TASK OURS_SECS OURS_KB PEER PEER_SECS PEER_KB: one line of the table; ratio > 1 means vhdkit is faster.
row() {
  ratio=$(awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $5 / $2; else print \"inf\" }")
  printf '| %-44s | %8.3f s | %7d KiB | %-22s | %8.3f s | %7d KiB | %6sx |\n' "$1" "$2" "$3" "$4" "$5" "$6" "$ratio"
}

header() {
  printf '| %-44s | %10s | %11s | %-22s | %10s | %11s | %7s |\n' task vhdkit "vhdkit RSS" peer "peer" "peer RSS" speedup
  printf '|%s|%s|%s|%s|%s|%s|%s|\n' "----------------------------------------------" "------------" "-------------" \
    "------------------------" "------------" "-------------" "---------"
}
