#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo`: make a sample disk, write to it, describe, convert and check it (later commands extend this).
set -eu
VHDKIT=${1:-build/cli/vhdkit}
D=$(mktemp -d "${TMPDIR:-/tmp}/vhdkit-demo.XXXXXX")
trap 'rm -rf "$D"' EXIT
run() { echo "\$ vhdkit $*"; "$VHDKIT" "$@"; echo; }

run create "$D/disk.vhd" 10000000000
echo "\$ printf 'hello from vhdkit' | vhdkit write $D/disk.vhd --offset 1M"
printf 'hello from vhdkit' | "$VHDKIT" write "$D/disk.vhd" --offset 1M
echo
run info "$D/disk.vhd"
run read "$D/disk.vhd" --offset 1M --length 17
echo
run snapshot "$D/disk.vhd" "$D/child.vhd"
run convert "$D/child.vhd" "$D/flat.vhd" --type dynamic --block-size 512K
run dump "$D/flat.vhd" --bat
run check "$D/flat.vhd"

# vhdkit's main job on a Windows-like disk from the test generator (tests/gen/vk-gen): an XP-style disk
# (partition at sector 63) whose deleted files still hold VHD blocks.
VKGEN=$(dirname "$VHDKIT")/../tests/gen/vk-gen
echo "\$ vk-gen --out $D/win.vhd --format dynamic --layout mbr63 --size 4G --files 200 --seed 7 --deleted 0.4 --user alice"
"$VKGEN" --out "$D/win.vhd" --format dynamic --layout mbr63 --size 4G --files 200 --seed 7 --deleted 0.4 --user alice
echo
run info "$D/win.vhd"
run ls "$D/win.vhd" /Windows/System32/config -l
has() { "$VHDKIT" "$1" --help >/dev/null 2>&1; }
if has reg; then run reg get "$D/win.vhd" 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion' ProductName; fi
if has align; then run align "$D/win.vhd" || true; fi
run compact "$D/win.vhd" --dry-run
before=$(stat -c %s "$D/win.vhd")
run compact "$D/win.vhd"
echo "file size: $before -> $(stat -c %s "$D/win.vhd") bytes"
echo
run check "$D/win.vhd"
if has whohas; then run whohas "$D/win.vhd" --sector 63 --sector 64; fi
if has map; then run map "$D/win.vhd" --svg "$D/map.svg" >/dev/null && echo "map picture written (kept only for the demo run)"; fi
