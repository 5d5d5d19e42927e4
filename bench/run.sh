#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every bench/bench_*.sh against the given vhdkit binary; each prints rows of a markdown table.
set -e
VHDKIT=${1:-build/vhdkit}
VHDKIT=$(cd "$(dirname "$VHDKIT")" && pwd)/$(basename "$VHDKIT")
export VHDKIT
cd "$(dirname "$0")/.."
. bench/lib.sh
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%d MiB", $2/1024}' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%d)"
echo "peers: $(qemu-img --version | head -1)"
header
for b in bench/bench_*.sh; do
  [ -n "$BENCH_ONLY" ] && case "$b" in *"$BENCH_ONLY"*) ;; *) continue ;; esac
  # bench_guestfs boots the libguestfs appliance six times (minutes each without KVM): BENCH_NO_GUESTFS=1 skips it
  [ -n "$BENCH_NO_GUESTFS" ] && case "$b" in *bench_guestfs*) echo "(bench_guestfs skipped: BENCH_NO_GUESTFS set)"; continue ;; esac
  sh "$b"
done
