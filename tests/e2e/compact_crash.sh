#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit compact in place, stopped after EVERY one of its writes in turn on a 64 MiB vk-gen disk (1 MiB blocks) whose
# pagefile.sys was removed, so the run drops blocks low in the file and moves blocks from the end into them: each
# phase (bitmaps and zeroed data, BAT, block copies, BAT, footer and cut) is interrupted at each of its writes.
# The disk's free clusters are first overwritten with zeros (the blocks stay allocated), so compaction must not change
# one byte of the virtual disk: after every stop, check is clean and the whole disk, as vhdkit and as qemu-img read
# it, is byte for byte the disk before (cmp). That covers every cluster of every file, the MFT, the boot sectors and
# the partition table; sleuthkit's icat hashes of every file match vk-gen's manifest on that disk, so every file is
# intact at every stop. One write point in four is also torn (half of the write lands), then compacted again to the
# end: check clean, same disk, same size as an uninterrupted run, files hashed again.
. "$(dirname "$0")/compact_lib.sh"

check "vk-gen disk" gen "$T/a.vhd" --size 64M --files 20 --fill-mb 40 --deleted 0.5 --block-size 1M --seed 31
check "rm pagefile.sys" vk rm "$T/a.vhd" pagefile.sys
grep -v ' pagefile.sys$' "$T/a.vhd.man" >"$T/a.man"
man_files "$T/a.man" >"$T/want"
start=$(ntfs_start "$T/a.vhd")
fs() { vk info --json "$T/a.vhd" | jq -r ".partitions.entries[] | select(.filesystem.type == \"NTFS\") | .filesystem.$1" | head -n 1; }
cs=$(fs cluster_size)
nclu=$(($(fs size) / cs))
vk convert --type raw "$T/a.vhd" "$T/orig.raw" >/dev/null
icat -o "$start" "$T/orig.raw" 6 >"$T/bitmap" # $Bitmap, as sleuthkit reads it
# Zeros over every free cluster (runs of them from $Bitmap), written through vhdkit: allocated blocks stay allocated.
python3 - "$T/orig.raw" "$T/bitmap" "$start" "$cs" "$nclu" <<'PY'
import sys
raw, bm = bytearray(open(sys.argv[1], 'rb').read()), open(sys.argv[2], 'rb').read()
start, cs, nclu = int(sys.argv[3]) * 512, int(sys.argv[4]), int(sys.argv[5])
free = 0
for c in range(nclu):
    if not (bm[c >> 3] >> (c & 7)) & 1:
        raw[start + c * cs:start + (c + 1) * cs] = bytes(cs)
        free += 1
open(sys.argv[1], 'wb').write(raw)
print('# %d free clusters zeroed' % free)
PY
vk write "$T/a.vhd" --offset 0 <"$T/orig.raw"
vk read "$T/a.vhd" >"$T/ref.raw"
is "$(sum "$T/ref.raw")" "$(sum "$T/orig.raw")" "the disk reads as written, with zeros in its free clusters"
is "$(icat_hashes "$T/ref.raw" "$start")" "$(cat "$T/want")" "icat reads the manifest's files from that disk"
vk compact --dry-run --json "$T/a.vhd" >"$T/dry.json"
[ "$(json_get "$T/dry.json" freed.free.blocks)" -ge 8 ] && ok "the run drops blocks" ||
    not_ok "too few free blocks: $(json_get "$T/dry.json" freed.free.blocks)"
cp "$T/a.vhd" "$T/w.vhd"
W=$(VHDKIT_TEST_FAULT=count "$VHDKIT" compact --json "$T/w.vhd" 2>"$T/count" >"$T/full.json"
    sed -n 's/^vhdkit-test-writes: //p' "$T/count")
moved=$(json_get "$T/full.json" blocks_moved)
[ "${W:-0}" -gt 20 ] && [ "${moved:-0}" -ge 8 ] && ok "compact makes $W writes and moves $moved blocks" ||
    not_ok "write count '$W', moved '$moved'"
# The comparison can fail: one byte changed in the compacted copy is seen.
cp "$T/w.vhd" "$T/d.vhd"
printf 'X' | vk write "$T/d.vhd" --offset $((start * 512 + 100))
vk read "$T/d.vhd" | cmp -s - "$T/ref.raw" && not_ok "cmp missed a changed byte" || ok "cmp sees one changed byte"
rm -f "$T/d.vhd"

# verify LABEL IMAGE: check clean; vhdkit's and qemu-img's views are the reference disk byte for byte.
verify() {
    if [ "$(status vk check "$2")" != 0 ]; then
        echo "# $1: check"; sed 's/^/#   /' "$T/out" | head -5; return 1
    fi
    if ! vk read "$2" | cmp -s - "$T/ref.raw"; then
        echo "# $1: vhdkit reads another disk"; return 1
    fi
    rm -f "$T/q.raw"
    if ! qemu-img convert -f vpc -O raw "$2" "$T/q.raw" || ! cmp -s "$T/q.raw" "$T/ref.raw"; then
        echo "# $1: qemu-img reads another disk"; return 1
    fi
    rm -f "$T/q.raw"
}

verify "before" "$T/a.vhd" && ok "before: check clean, vhdkit and qemu-img read the reference disk" ||
    not_ok "before: the disk is not the reference"
bad=0 n=0 torn=0 N=0
while [ "$N" -le "$W" ]; do
    cp "$T/a.vhd" "$T/w.vhd"
    VHDKIT_TEST_FAULT=stop:$N "$VHDKIT" compact "$T/w.vhd" >/dev/null 2>&1
    n=$((n + 1))
    verify "stop:$N" "$T/w.vhd" || bad=$((bad + 1))
    if [ $((N % 4)) -eq 1 ] && [ "$N" -lt "$W" ]; then
        cp "$T/a.vhd" "$T/w.vhd"
        VHDKIT_TEST_FAULT=torn:$N "$VHDKIT" compact "$T/w.vhd" >/dev/null 2>&1
        torn=$((torn + 1))
        verify "torn:$N" "$T/w.vhd" || bad=$((bad + 1))
        if [ "$(status vk compact "$T/w.vhd")" != 0 ]; then
            bad=$((bad + 1)); echo "# torn:$N: second run failed"; sed 's/^/#   /' "$T/err" | head -3
        else
            verify "torn:$N, compacted again" "$T/w.vhd" || bad=$((bad + 1))
            [ "$(stat -c %s "$T/w.vhd")" = "$(json_get "$T/full.json" file_size_after)" ] ||
                { bad=$((bad + 1)); echo "# torn:$N: compacted again, size $(stat -c %s "$T/w.vhd")"; }
        fi
    fi
    N=$((N + 1))
done
is "$bad" 0 "stopped at each of the $n write points 0..$W and torn at $torn (each compacted again): check clean, the same disk byte for byte through vhdkit and qemu-img"
vk read "$T/w.vhd" >"$T/last.raw"
is "$(icat_hashes "$T/last.raw" "$start")" "$(cat "$T/want")" "the last torn run, compacted again: every file identical (icat)"
