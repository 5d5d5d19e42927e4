#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# info's partitions and filesystems, and dump --mbr --gpt --boot, against mmls, ntfsinfo and the bytes on disk.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/files_lib.sh"
command -v mmls >/dev/null 2>&1 || skip_all "mmls is not installed"

# two NTFS volumes at 63 (XP style) and 32768, in a dynamic VHD with 2 MiB blocks
mktable "$T/mbr.raw" 96 mbr 63:32705:07 32768:98304:07 && mkfs_part "$T/mbr.raw" 63 32705 Old &&
    mkfs_part "$T/mbr.raw" 32768 98304 New
vk convert "$T/mbr.raw" "$T/mbr.vhd" >/dev/null
is "$(status vk info "$T/mbr.vhd" --json)" 0 "info --json on an MBR disk"
cp "$T/out" "$T/info.json"
is "$(jget "$T/info.json" partitions.scheme)" mbr "scheme mbr"
is "$(jget "$T/info.json" partitions.disk_signature)" $((0x1d2c3b4a)) "disk signature"
mmls "$T/mbr.raw" | awk '$2 ~ /^[0-9]+:[0-9]+$/ {print $3 + 0, $5 + 0}' >"$T/mmls"
python3 -c 'import json,sys
for e in json.load(open(sys.argv[1]))["partitions"]["entries"]: print(e["start_lba"], e["sectors"])' "$T/info.json" >"$T/vk"
is "$(cat "$T/vk")" "$(cat "$T/mmls")" "starts and lengths equal mmls"
is "$(jget "$T/info.json" partitions.entries.0.aligned.4k)" false "partition at 63 is not 4 KiB aligned"
is "$(jget "$T/info.json" partitions.entries.1.aligned.1m)" true "partition at 32768 is 1 MiB aligned"
is "$(jget "$T/info.json" partitions.entries.1.aligned.vhd_block)" true "and VHD-block (2 MiB) aligned"
is "$(jget "$T/info.json" partitions.entries.0.type_code)" 0x07 "type code 0x07"
is "$(jget "$T/info.json" partitions.entries.0.filesystem.label)" Old "label of partition 1"
is "$(jget "$T/info.json" partitions.entries.1.filesystem.label)" New "label of partition 2"
extract "$T/mbr.raw" 32768 98304 "$T/p2.img"
ntfsinfo -f -m "$T/p2.img" >"$T/ni" 2>/dev/null
cs=$(awk -F': *' '/Cluster Size:/ {print $2 + 0; exit}' "$T/ni")
freec=$(awk -F': *' '/Free Clusters:/ {print $2 + 0; exit}' "$T/ni")
is "$(jget "$T/info.json" partitions.entries.1.filesystem.cluster_size)" "$cs" "cluster size equals ntfsinfo"
is "$(jget "$T/info.json" partitions.entries.1.filesystem.free)" "$((freec * cs))" "free bytes equal ntfsinfo's free clusters"
serial=$(dd if="$T/mbr.raw" bs=1 skip=$((32768 * 512 + 72)) count=8 status=none | od -An -tx8 | tr -d ' \n' | tr a-f A-F)
is "$(jget "$T/info.json" partitions.entries.1.filesystem.serial)" "$serial" "serial from the boot sector"
is "$(jget "$T/info.json" partitions.entries.1.filesystem.hibernated)" false "not hibernated"
vk info "$T/mbr.vhd" | grep -q "label: New" && ok "text info shows the label" || not_ok "text info shows the label"

# dump --mbr and --boot: offsets, raw bytes and decoded values
is "$(status vk dump "$T/mbr.vhd" --mbr --boot --json)" 0 "dump --mbr --boot --json"
python3 - "$T/out" "$T/mbr.raw" >"$T/chk" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); raw = open(sys.argv[2], 'rb').read()
bad = 0; n = 0
for sect in d["mbr"]:
    for f in sect["fields"]:
        n += 1; bad += raw[f["offset"]:f["offset"] + len(f["hex"]) // 2].hex() != f["hex"]
for b in d["boot"]:
    for f in b["NTFS boot sector of partition %d" % b["partition"]]:
        n += 1; bad += raw[f["offset"]:f["offset"] + len(f["hex"]) // 2].hex() != f["hex"]
hid = {b["partition"]: [f["value"] for f in b["NTFS boot sector of partition %d" % b["partition"]] if f["field"] == "hidden_sectors"][0] for b in d["boot"]}
print(n, bad, hid[1], hid[2])
PY
read -r n bad h1 h2 <"$T/chk"
[ "$n" -gt 40 ] && [ "$bad" = 0 ] && ok "all $n dumped fields hold the disk's bytes at their offsets" \
    || not_ok "dumped fields hold the disk's bytes ($n fields, $bad wrong)"
is "$h1 $h2" "63 32768" "hidden sectors of both boot sectors equal the partition starts"

# GPT: both headers and their CRCs; a damaged primary is reported and the backup used
mktable "$T/gpt.raw" 64 gpt 2048:16384:C12A7328-F81F-11D2-BA4B-00A0C93EC93B \
    20480:100000:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 && mkfs_part "$T/gpt.raw" 20480 100000 G
vk dump "$T/gpt.raw" --gpt --json >"$T/g.json"
is "$(jget "$T/g.json" gpt.primary.header_crc_check | sed 's/.*: //')" ok "primary header CRC ok"
is "$(jget "$T/g.json" gpt.backup.entries_crc_check | sed 's/.*: //')" ok "backup entries CRC ok"
vk info "$T/gpt.raw" --json >"$T/gi.json"
is "$(jget "$T/gi.json" partitions.entries.1.type)" "Microsoft basic data" "GPT type name"
is "$(jget "$T/gi.json" partitions.entries.1.filesystem.label)" G "GPT NTFS label"
is "$(jget "$T/gi.json" partitions.protective_mbr)" true "protective MBR"
printf '\377' | dd of="$T/gpt.raw" bs=1 seek=$((1024 + 32)) conv=notrunc status=none   # first_lba of the first primary entry
vk info "$T/gpt.raw" --json >"$T/gi.json"
is "$(jget "$T/gi.json" partitions.backup_gpt_used)" true "bad primary entries: the backup is used"
grep -q "backup" "$T/gi.json" && ok "and a warning says so" || not_ok "and a warning says so"
vk dump "$T/gpt.raw" --gpt --json >"$T/g.json"
is "$(jget "$T/g.json" gpt.primary.entries_crc_check | sed 's/.*: //')" MISMATCH "dump shows the primary entries CRC mismatch"

# hibernated and corrupt tables in info
{ printf 'hibr'; head -c 8188 /dev/zero; } >"$T/hiberfil.sys"
vk put "$T/mbr.vhd" "$T/hiberfil.sys" / --part 2
is "$(vk info "$T/mbr.vhd" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitions"]["entries"][1]["filesystem"]["hibernated"])')" \
    True "info shows the hibernated volume"
python3 -c 'import struct,sys
f=open(sys.argv[1],"r+b"); f.seek(446+16); f.write(struct.pack("<B3sB3sII",0,b"\xfe\xff\xff",7,b"\xfe\xff\xff",32768,999999))' "$T/mbr.raw"
is "$(status vk info "$T/mbr.raw")" 0 "info on a disk with a bad table still describes the image"
grep -q "error: .*past the end of the disk" "$T/out" && ok "and says why the partitions cannot be listed" \
    || not_ok "and says why the partitions cannot be listed"
