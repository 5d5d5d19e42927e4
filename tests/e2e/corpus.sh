#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Real images from ../shared/corpus/vhd behave as its README says (decompressed into a temp dir, never edited).
. "$(dirname "$0")/lib.sh"
C="$SHARED/corpus/vhd"
[ -d "$C" ] || { not_ok "corpus folder $C exists"; exit 1; }
for f in "$C"/*.vhd.xz; do
    b=$(basename "$f" .xz)
    xz -dc "$f" >"$T/$b"
done

# Readable images read exactly as qemu-img reads them, with the same virtual size.
for b in dfvfs-ext2.vhd plaso-image.vhd mkimg-63x255-512-mbr.vhd mkimg-1x1-4096-gpt.vhd; do
    qemu-img convert -f vpc -O raw "$T/$b" "$T/$b.raw"
    is "$(vk read "$T/$b" | sum /dev/stdin)" "$(sum "$T/$b.raw")" "$b: vhdkit read equals qemu-img"
    vk info --json "$T/$b" >"$T/i.json"
    is "$(json_get "$T/i.json" virtual_size)" "$(stat -c %s "$T/$b.raw")" "$b: info virtual size equals qemu-img's"
done
is "$(status vk check "$T/plaso-image.vhd")" 0 "plaso-image.vhd (valid checksums) passes check"
vk info --json "$T/plaso-image.vhd" >"$T/i.json"
is "$(json_get "$T/i.json" uuid)" "00000000-0000-0000-0000-000000000000" "plaso-image.vhd: all-zero UUID"
vk info --json "$T/mkimg-63x255-512-mbr.vhd" >"$T/i.json"
is "$(json_get "$T/i.json" app)" "*img" "mkimg image: creator *img"
is "$(json_get "$T/i.json" heads)" "255" "mkimg image: geometry heads 255"

# Bad checksums: check reports them (exit 1) naming the checksum offset.
is "$(status vk check "$T/dfvfs-image.vhd")" 1 "dfvfs-image.vhd (bad checksums): check exits 1"
grep -q "checksum" "$T/out" && ok "dfvfs-image.vhd: check names the checksum" || not_ok "dfvfs-image.vhd: check names the checksum"
vk info --json "$T/dfvfs-image.vhd" >"$T/i.json" 2>"$T/err"
is "$(json_get "$T/i.json" footer_checksum_ok)" "false" "dfvfs-image.vhd: info shows the bad footer checksum"

# Windows differencing disk whose parent is absent: the missing link is shown with the paths tried.
is "$(status vk read "$T/dfvfs-fat-differential.vhd")" 3 "fat-differential (parent missing): read exits 3"
grep -q "fat-parent.vhd" "$T/err" && ok "fat-differential: error names the missing parent" \
    || not_ok "fat-differential: error names the missing parent"
vk info --json "$T/dfvfs-fat-differential.vhd" >"$T/i.json"
is "$?" 0 "fat-differential: info works without the parent"
is "$(json_get "$T/i.json" found)" "false" "fat-differential: info shows the parent as missing"
is "$(json_get "$T/i.json" app)" "win " "fat-differential: creator win"
vk dump --locators --json "$T/dfvfs-fat-differential.vhd" >"$T/l.json"
grep -qF '"path": "C:\\Projects\\dfvfs\\test_data\\fat-parent.vhd"' "$T/l.json" && ok "W2ku locator decoded (JSON-escaped)" \
    || not_ok "W2ku locator decoded (JSON-escaped)"
grep -qF '"path": ".\\fat-parent.vhd"' "$T/l.json" && ok "W2ru locator decoded" || not_ok "W2ru locator decoded"
grep -q '"data_space_bytes": 65536' "$T/l.json" && ok "locator data space in bytes (65536)" \
    || not_ok "locator data space in bytes (65536)"
is "$(status vk check "$T/dfvfs-fat-differential.vhd")" 1 "fat-differential: check exits 1 (missing parent)"
