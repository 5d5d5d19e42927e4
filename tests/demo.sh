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

# A Windows-like disk from the test generator (tests/gen/vk-gen), described by vhdkit.
VKGEN=$(dirname "$VHDKIT")/../tests/gen/vk-gen
echo "\$ vk-gen --out $D/win.vhd --format dynamic --layout mbr2048 --size 4G --files 40 --seed 7 --deleted 0.3 --user alice"
"$VKGEN" --out "$D/win.vhd" --format dynamic --layout mbr2048 --size 4G --files 40 --seed 7 --deleted 0.3 --user alice
echo
run info "$D/win.vhd"
if "$VHDKIT" tree --help >/dev/null 2>&1; then run tree "$D/win.vhd"; fi
