#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Makes fuzz/seeds/ntfs.img.xz, the base volume of fuzz_ntfs and fuzz_owners: a 2 MiB NTFS made by mkntfs (-T: zero
# times, so mkntfs itself is reproducible) with folders, a resident file, non-resident files, an alternate data
# stream (ntfscp) and a folder large enough for an index allocation, written by vhdkit. Committed (not made at build time)
# so that inputs kept under fuzz/regress/ replay against the same bytes: regenerate only with them.
# Usage: fuzz/seeds/make_ntfs.sh VHDKIT
set -eu
vhdkit=$1
out=$(cd "$(dirname "$0")" && pwd)/ntfs.img.xz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$tmp/ntfs.img
truncate -s 2M "$img"
mkntfs -q -F -Q -T -s 512 -c 512 -L fuzz "$img" >/dev/null 2>&1
"$vhdkit" mkdir -p "$img" /Dir/Sub
printf 'hello\n' >"$tmp/small"
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "%08d\n", i }' >"$tmp/big"
"$vhdkit" put "$img" "$tmp/small" /small.txt
"$vhdkit" put "$img" "$tmp/big" /Dir/big.bin
"$vhdkit" put "$img" "$tmp/small" /Dir/Sub/deep.txt
ntfscp -q -f -N stream "$img" "$tmp/big" /Dir/Sub/deep.txt
i=0
while [ $i -lt 16 ]; do
    "$vhdkit" put "$img" "$tmp/small" "/Dir/file_with_a_longer_name_$i.txt"
    i=$((i + 1))
done
xz -9e -c "$img" >"$out"
