#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Alternate data streams (written by ntfs-3g's ntfscp -N): cat PATH:stream, stat lists them and maps their runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/files_lib.sh"
command -v ntfscp >/dev/null 2>&1 || skip_all "ntfscp is not installed"

mktable "$T/d.raw" 48 mbr 2048:94208:07 && mkfs_part "$T/d.raw" 2048 94208 S
pattern "$T/body" 5000 1
pattern "$T/zone" 300 2
pattern "$T/big" 200000 3
extract "$T/d.raw" 2048 94208 "$T/p.img"
ntfscp -f -q "$T/p.img" "$T/body" /doc.txt >/dev/null 2>&1 &&
    ntfscp -f -q -N Zone.Identifier "$T/p.img" "$T/zone" /doc.txt >/dev/null 2>&1 &&
    ntfscp -f -q -N Big "$T/p.img" "$T/big" /doc.txt >/dev/null 2>&1
ok_rc=$?
dd if="$T/p.img" of="$T/d.raw" bs=512 seek=2048 conv=notrunc status=none
is "$ok_rc" 0 "ntfscp wrote a file with two named streams"
vk convert "$T/d.raw" "$T/d.vhd" >/dev/null

vk cat "$T/d.vhd" /doc.txt | cmp -s - "$T/body" && ok "cat: the unnamed stream" || not_ok "cat: the unnamed stream"
vk cat "$T/d.vhd" /doc.txt:Zone.Identifier | cmp -s - "$T/zone" && ok "cat FILE:stream (resident)" || not_ok "cat FILE:stream (resident)"
vk cat "$T/d.vhd" /DOC.TXT:Big | cmp -s - "$T/big" && ok "cat FILE:stream (non-resident), case-insensitive file" \
    || not_ok "cat FILE:stream (non-resident), case-insensitive file"
is "$(status vk cat "$T/d.vhd" /doc.txt:Nope)" 3 "a missing stream: exit 3"
vk stat "$T/d.vhd" /doc.txt --json >"$T/st.json"
is "$(python3 -c 'import json,sys; print(" ".join("%s=%d" % (s["name"], s["size"]) for s in json.load(open(sys.argv[1]))["streams"]))' "$T/st.json")" \
    "(unnamed)=5000 Big=200000 Zone.Identifier=300" "stat lists the three streams with their sizes (MFT order)"
# the named non-resident stream's runs point at its bytes on the virtual disk
vk read "$T/d.vhd" >"$T/virt"
python3 - "$T/st.json" "$T/virt" "$T/big" <<'PY' >"$T/r"
import json, sys
st = json.load(open(sys.argv[1])); disk = open(sys.argv[2], 'rb'); big = open(sys.argv[3], 'rb').read()
a = [a for a in st["attributes"] if a["type"] == "$DATA" and a["name"] == "Big"][0]
got = b""
for r in a["runs"]:
    disk.seek(r["lba"] * 512); got += disk.read(r["sectors"] * 512)
print("same" if got[:len(big)] == big else "differ")
PY
is "$(cat "$T/r")" same "stat's runs (LBA, sectors) of the named stream hold its bytes"

# put into a named stream: exit 0, the file's body and times stay, ntfs-3g's ntfscat reads the new stream
pattern "$T/note" 70000 4
vk stat "$T/d.vhd" /doc.txt --json >"$T/before.json"
is "$(status vk put "$T/d.vhd" "$T/note" /doc.txt:Note)" 0 "put HOST FILE:stream exits 0"
vk cat "$T/d.vhd" /doc.txt:Note | cmp -s - "$T/note" && ok "put FILE:stream: cat reads it back" || not_ok "put FILE:stream: cat"
vk cat "$T/d.vhd" /doc.txt | cmp -s - "$T/body" && ok "put FILE:stream: the unnamed stream is unchanged" \
    || not_ok "put FILE:stream changed the file's body"
vk stat "$T/d.vhd" /doc.txt --json >"$T/after.json"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$T/after.json")" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$T/before.json")" \
    "put FILE:stream: the file's creation time is not taken from the host file"
vk read "$T/d.vhd" | dd of="$T/p2.img" bs=512 skip=2048 count=94208 status=none
ntfscat -f -q -a 0x80 -n Note "$T/p2.img" /doc.txt 2>/dev/null | cmp -s - "$T/note" && ok "ntfscat reads the stream put wrote" \
    || not_ok "ntfscat does not read the stream put wrote"
