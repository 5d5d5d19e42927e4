#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 5: registry reads on a 1 GiB dynamic vk-gen disk whose SOFTWARE hive carries a 20000-value subtree.
# reg get of one value against hivexget (on a hive vhdkit cat takes out first, and on one already out), and a
# subtree export against hivexregedit --export (libwin-hivex-perl) on the extracted hive; virt-win-reg when
# installed. Run from the source root with VHDKIT set (bench/run.sh does).
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

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

header
best_of 5 get "$VHDKIT" reg get "$W/d.vhd" "$KEY" Value7
o=$REPLY_SECS; ok=$REPLY_KB
best_of 5 cat+hivexget sh -c '"$0" cat "$1" "$2" >"$3/x.hive" && hivexget "$3/x.hive" "Bench\Key1234" Value7' \
  "$VHDKIT" "$W/d.vhd" "$H" "$W"
row "reg get one value (SOFTWARE $(($(stat -c %s "$W/sw.hive") >> 20)) MiB, 1 GiB VHD)" "$o" "$ok" \
  "vhdkit cat + hivexget" "$REPLY_SECS" "$REPLY_KB"
best_of 5 hivexget hivexget "$W/sw.hive" 'Bench\Key1234' Value7
row "reg get one value" "$o" "$ok" "hivexget (hive already out)" "$REPLY_SECS" "$REPLY_KB"

best_of 3 export "$VHDKIT" reg export "$W/d.vhd" 'HKLM\SOFTWARE\Bench' "$W/ours.reg" --utf8
o=$REPLY_SECS; ok=$REPLY_KB
if command -v hivexregedit >/dev/null; then
  best_of 3 hivexregedit sh -c '"$0" cat "$1" "$2" >"$3/y.hive" && hivexregedit --export --prefix "HKEY_LOCAL_MACHINE\\SOFTWARE" "$3/y.hive" "\\Bench" >"$3/peer.reg"' \
    "$VHDKIT" "$W/d.vhd" "$H" "$W"
  row "reg export 2000 keys x 10 values" "$o" "$ok" "cat + hivexregedit" "$REPLY_SECS" "$REPLY_KB"
else
  echo "(hivexregedit not installed: apt-get install libwin-hivex-perl; our export took $o s)"
fi
if command -v virt-win-reg >/dev/null; then
  best_of 3 virt-win-reg env LIBGUESTFS_BACKEND=direct virt-win-reg "$W/d.vhd" 'HKLM\SOFTWARE\Bench\Key1234' Value7
  row "reg get one value" "$o" "$ok" "virt-win-reg" "$REPLY_SECS" "$REPLY_KB"
else
  echo "(virt-win-reg not installed: libguestfs-tools; not compared)"
fi
