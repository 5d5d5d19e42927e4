#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit align (scan): vk-gen disks at 63 (XP), 2048 and GPT; exit codes, JSON fields, split-cluster counts checked
# against an independent count (awk over every cluster) and mmls's starts.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name the vk-gen binary}"
command -v mkntfs >/dev/null && command -v mmls >/dev/null ||
    skip_all "mkntfs and sleuthkit are test dependencies (scripts/install-deps.sh)"

# split START CLUSTER N UNIT: clusters touching one more UNIT than needed (straight loop, no period trick)
split() {
    awk -v s="$1" -v c="$2" -v n="$3" -v u="$4" 'BEGIN {
        need = int((c + u - 1) / u); k = 0
        for (i = 0; i < n; i++) { a = s + i * c; t = int((a + c - 1) / u) - int(a / u) + 1; if (t > need) k++ }
        print k }'
}

for layout in mbr63 mbr2048 gpt; do
    img=$T/$layout.vhd
    if ! "$VKGEN" --out "$img" --layout $layout --size 200M --files 5 --quiet; then
        not_ok "$layout: vk-gen builds the disk"
        continue
    fi
    st=$(status vk align --json "$img")
    want=0
    [ $layout = mbr63 ] && want=1
    is "$st" "$want" "$layout: align exits $want"
    cp "$T/out" "$T/$layout.json"
    n=$(json_get "$T/$layout.json" partitions.number)
    start=$(sed -n 's/^ *"start": \([0-9]*\),*$/\1/p' "$T/$layout.json" | tail -n 1)
    lba=$(sed -n 's/^ *"start_lba": \([0-9]*\),*$/\1/p' "$T/$layout.json" | tail -n 1)
    vk convert "$img" "$T/$layout.raw" --type raw >/dev/null 2>&1
    mm=$(mmls -B "$T/$layout.raw" 2>/dev/null | awk '/NTFS|Basic data/ {print $3 + 0}' | tail -n 1)
    is "$lba" "$mm" "$layout: the NTFS partition's start LBA is mmls's ($mm)"
    is "$start" "$((lba * 512))" "$layout: start is the LBA in bytes"
    clusters=$(json_get "$T/$layout.json" clusters)
    cs=$(json_get "$T/$layout.json" cluster_size)
    is "$(json_get "$T/$layout.json" hidden_sectors)" "$lba" "$layout: hidden sectors read from the boot sector"
    is "$(json_get "$T/$layout.json" clusters_split_4k)" "$(split "$start" "$cs" "$clusters" 4096)" \
        "$layout: clusters split across 4 KiB units match an independent count"
    is "$(json_get "$T/$layout.json" clusters_split_block)" "$(split "$start" "$cs" "$clusters" 2097152)" \
        "$layout: clusters split across 2 MiB VHD blocks match an independent count"
    : "$n"
done
is "$(json_get "$T/mbr63.json" clusters_split_4k)" "$(json_get "$T/mbr63.json" clusters)" \
    "mbr63: every 4 KiB cluster straddles two 4 KiB units"
is "$(json_get "$T/mbr63.json" all_aligned)" "false" "mbr63: all_aligned false"
is "$(json_get "$T/mbr2048.json" clusters_split_block)" "0" "mbr2048: no cluster splits a VHD block"
is "$(status vk align --to 2M "$T/mbr2048.vhd")" "1" "mbr2048: not on a 2 MiB boundary (exit 1)"
is "$(status vk align --to 4096 "$T/mbr63.vhd")" "1" "mbr63: not even on 4 KiB"
is "$(status vk align --to 1000 "$T/mbr63.vhd")" "2" "--to 1000 (not a multiple of 4096): usage error"
vk align "$T/mbr63.vhd" >"$T/text" 2>&1
grep -q "not on the boundary" "$T/text" && ok "text report says the partition is not on the boundary" ||
    not_ok "text report says the partition is not on the boundary"
is "$(status vk align "$T/nothing.vhd")" "3" "missing image: exit 3"
