#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 5: registry reads on a 1 GiB dynamic vk-gen disk whose SOFTWARE hive carries a 20000-value subtree.
# reg get of one value against hivexget (on a hive vhdkit cat takes out first, and on one already out), and a
# subtree export against hivexregedit --export (libwin-hivex-perl) on the extracted hive; virt-win-reg when
# installed and working. Every row measures its own two commands in this run: a peer that is missing or fails
# prints "not run: <why>" instead of a row. VHDKIT_BASE=/other/vhdkit adds rows timing that build (an older
# commit, say) on the same disk in the same run. BENCH_SKIP_VIRT=1 leaves virt-win-reg out (its appliance takes
# minutes without KVM). Run from the source root with VHDKIT set (bench/run.sh does).
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

# not_run TASK WHY: the row a peer could not fill.
not_run() { printf '| %-44s | not run: %s |\n' "$1" "$2"; }

"$VKGEN" --quiet --out "$W/d.vhd" --layout mbr2048 --size 1G --files 200 --seed 5
python3 - >"$W/big.reg" <<'PY'
print("Windows Registry Editor Version 5.00\r\n\r")
for k in range(2000):
    print("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Bench\\Key%04d]\r" % k)
    for v in range(10):
        print('"Value%d"="data %d of key %d, some text to make it longer"\r' % (v, v, k))
    print("\r")
PY
measure import "$VHDKIT" reg import "$W/d.vhd" "$W/big.reg"
echo "(setup: reg import of 2000 keys x 10 values took $REPLY_SECS s)"
H=Windows/System32/config/SOFTWARE
"$VHDKIT" cat "$W/d.vhd" "$H" >"$W/sw.hive"
KEY='HKLM\SOFTWARE\Bench\Key1234'
MB=$(($(stat -c %s "$W/sw.hive") >> 20))
GET="reg get one value (SOFTWARE $MB MiB, 1 GiB VHD)"
EXPORT="reg export 2000 keys x 10 values"

header
best_of 5 get "$VHDKIT" reg get "$W/d.vhd" "$KEY" Value7
get_s=$REPLY_SECS; get_kb=$REPLY_KB
if command -v hivexget >/dev/null; then
  best_of 5 cat+hivexget sh -c '"$0" cat "$1" "$2" >"$3/x.hive" && hivexget "$3/x.hive" "Bench\Key1234" Value7' \
    "$VHDKIT" "$W/d.vhd" "$H" "$W"
  row "$GET" "$get_s" "$get_kb" "vhdkit cat + hivexget" "$REPLY_SECS" "$REPLY_KB"
  best_of 5 hivexget hivexget "$W/sw.hive" 'Bench\Key1234' Value7
  row "$GET" "$get_s" "$get_kb" "hivexget (hive already out)" "$REPLY_SECS" "$REPLY_KB"
else
  not_run "$GET" "hivexget not installed (libhivex-bin)"
fi
if [ -n "${VHDKIT_BASE:-}" ]; then
  if best_of 5 base-get "$VHDKIT_BASE" reg get "$W/d.vhd" "$KEY" Value7; then
    row "$GET" "$get_s" "$get_kb" "VHDKIT_BASE reg get" "$REPLY_SECS" "$REPLY_KB"
  else
    not_run "$GET" "VHDKIT_BASE ($VHDKIT_BASE) reg get failed"
  fi
fi

best_of 3 export "$VHDKIT" reg export "$W/d.vhd" 'HKLM\SOFTWARE\Bench' "$W/ours.reg" --utf8
exp_s=$REPLY_SECS; exp_kb=$REPLY_KB
if command -v hivexregedit >/dev/null; then
  best_of 3 hivexregedit sh -c '"$0" cat "$1" "$2" >"$3/y.hive" && hivexregedit --export --prefix "HKEY_LOCAL_MACHINE\\SOFTWARE" "$3/y.hive" "\\Bench" >"$3/peer.reg"' \
    "$VHDKIT" "$W/d.vhd" "$H" "$W"
  row "$EXPORT" "$exp_s" "$exp_kb" "cat + hivexregedit" "$REPLY_SECS" "$REPLY_KB"
else
  not_run "$EXPORT" "hivexregedit not installed (libwin-hivex-perl); our export took $exp_s s"
fi
if [ -n "${VHDKIT_BASE:-}" ]; then
  if best_of 3 base-export "$VHDKIT_BASE" reg export "$W/d.vhd" 'HKLM\SOFTWARE\Bench' "$W/base.reg" --utf8; then
    row "$EXPORT" "$exp_s" "$exp_kb" "VHDKIT_BASE reg export" "$REPLY_SECS" "$REPLY_KB"
  else
    not_run "$EXPORT" "VHDKIT_BASE ($VHDKIT_BASE) reg export failed"
  fi
fi

if [ -n "${BENCH_SKIP_VIRT:-}" ]; then
  not_run "$GET" "virt-win-reg: BENCH_SKIP_VIRT is set"
elif ! command -v virt-win-reg >/dev/null; then
  not_run "$GET" "virt-win-reg not installed (libguestfs-tools)"
elif best_of 3 virt-win-reg env LIBGUESTFS_BACKEND=direct virt-win-reg "$W/d.vhd" "$KEY" Value7 2>/dev/null; then
  row "$GET" "$get_s" "$get_kb" "virt-win-reg" "$REPLY_SECS" "$REPLY_KB"
else
  not_run "$GET" "virt-win-reg failed: $(grep -v '^ *$' "$BENCH_OUT/.stderr" | tail -n 1 | cut -c1-100)"
fi
