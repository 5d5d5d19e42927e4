#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the fuzz targets with clang, libFuzzer, ASan and UBSan in build-fuzz/, then runs each for $1 seconds
# (default 60), starting from the target's seeds plus its saved corpus in build-fuzz/corpus/<target>.
# Crashes are saved as build-fuzz/crashes/<target>/crash-*: copy one into fuzz/regress/<target>/ to keep it as a test.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Dfuzzer=true -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized
fi
targets=${*:-$(sed -n "s/^  '\(fuzz_[a-z0-9_]*\)' *:.*/\1/p" fuzz/meson.build)}
# Only what fuzzing needs: the rest of the tree need not build with clang for this.
ninja -C "$dir" $(for t in $targets; do echo "fuzz/$t fuzz/$t-standalone"; done)
status=0
for t in $targets; do
    mkdir -p "$dir/corpus/$t" "$dir/crashes/$t"
    "$dir/fuzz/$t-standalone" --write-seeds "$dir/corpus/$t" >/dev/null
    log="$dir/crashes/$t/log.txt"
    # libntfs-3g's own leaks are suppressed by frame (fuzz/lsan.supp): it has no frame pointers, so unwind slowly there.
    case $t in fuzz_ntfs | fuzz_owners) unwind=0 ;; *) unwind=1 ;; esac
    if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 LSAN_OPTIONS=suppressions=fuzz/lsan.supp \
        ASAN_OPTIONS=fast_unwind_on_malloc=$unwind "$dir/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$dir/crashes/$t/" "$dir/corpus/$t" >"$log" 2>&1; then
        result=ok
    else
        result="CRASH (see $log)"
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "$t: $result, ${execs:-?} execs in ${secs}s, $cov"
done
exit $status
