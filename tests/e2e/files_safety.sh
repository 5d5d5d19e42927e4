#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# File commands and safety: writes through a differencing child land in the child only; hibernated and dirty volumes
# read but refuse writes (exit 4, with the reason); damaged partition tables and boot sectors give exit 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/files_lib.sh"

mkdir -p "$T/src/Windows/System32/config"
pattern "$T/src/Windows/System32/config/SYSTEM" 100000 7
mktable "$T/base.raw" 48 mbr 2048:94208:07 && mkfs_part "$T/base.raw" 2048 94208 Win
vk convert "$T/base.raw" "$T/base.vhd" >/dev/null
is "$(status vk put "$T/base.vhd" "$T/src/." /)" 0 "base: put the Windows tree"
export_raw "$T/base.vhd" "$T/base.raw"

# ---- differencing chain: the child takes the writes, the parent stays as it was
before=$(sum "$T/base.vhd")
is "$(status vk snapshot "$T/base.vhd" "$T/child.vhd")" 0 "snapshot"
echo "only in the child" >"$T/new.txt"
is "$(status vk put "$T/child.vhd" "$T/new.txt" /Windows)" 0 "put into the child"
is "$(status vk rm "$T/child.vhd" /Windows/System32/config/SYSTEM)" 0 "rm a parent's file in the child"
is "$(vk cat "$T/child.vhd" /windows/NEW.TXT)" "only in the child" "the child shows the new file"
vk ls "$T/base.vhd" /Windows >"$T/pl"
grep -qx new.txt "$T/pl" && not_ok "the parent does not show it" || ok "the parent does not show it"
vk cat "$T/base.vhd" /Windows/System32/config/SYSTEM | cmp -s - "$T/src/Windows/System32/config/SYSTEM" &&
    ok "the parent still has the file removed in the child" || not_ok "the parent still has the file removed in the child"
is "$(status vk cat "$T/child.vhd" /Windows/System32/config/SYSTEM)" 3 "the child no longer has it (exit 3)"
is "$(sum "$T/base.vhd")" "$before" "the parent file is byte for byte unchanged"
export_raw "$T/child.vhd" "$T/child.raw"
fls_list "$T/child.raw" 2048 | grep -q "^file /Windows/new.txt 18$" && ok "fls sees the new file in the child's export" \
    || not_ok "fls sees the new file in the child's export"

# ---- hibernated: hiberfil.sys starting with "hibr" (what Windows writes when it hibernates or Fast-Starts)
cp "$T/base.raw" "$T/hib.raw"
{ printf 'hibr'; head -c 8188 /dev/zero; } >"$T/hiberfil.sys"
is "$(status vk put "$T/hib.raw" "$T/hiberfil.sys" /)" 0 "put hiberfil.sys (the volume was clean)"
is "$(status vk ls "$T/hib.raw")" 0 "hibernated: ls works"
is "$(status vk cat "$T/hib.raw" /Windows/System32/config/SYSTEM)" 0 "hibernated: cat works"
is "$(status vk put "$T/hib.raw" "$T/new.txt" /)" 4 "hibernated: put exits 4"
grep -q "hibernated" "$T/err" && grep -q "powercfg /h off" "$T/err" && ok "hibernated: the message says why and what to do" \
    || not_ok "hibernated: the message says why and what to do"
is "$(status vk mkdir "$T/hib.raw" /X)" 4 "hibernated: mkdir exits 4"
is "$(status vk rm "$T/hib.raw" /hiberfil.sys)" 4 "hibernated: rm exits 4"
vk ls "$T/hib.raw" >"$T/hl"
grep -qx new.txt "$T/hl" && not_ok "hibernated: nothing was written" || ok "hibernated: nothing was written"

# ---- dirty: the volume-dirty flag in $Volume's $VOLUME_INFORMATION (and in $MFTMirr, which ntfs-3g compares)
cp "$T/base.raw" "$T/dirty.raw"
python3 - "$T/dirty.raw" 2048 <<'PY'
import struct, sys
f = open(sys.argv[1], 'r+b'); base = int(sys.argv[2]) * 512
f.seek(base); boot = f.read(512)
bps, spc = struct.unpack_from('<HB', boot, 0x0b); cl = bps * spc
mft, mirr = struct.unpack_from('<QQ', boot, 0x30); c = struct.unpack_from('<b', boot, 0x40)[0]
rec = cl * c if c > 0 else 1 << -c
for lcn in (mft, mirr):
    off = base + lcn * cl + 3 * rec
    f.seek(off); r = bytearray(f.read(rec))
    usa, n = struct.unpack_from('<HH', r, 4)
    for i in range(1, n):  # undo the update sequence, edit, redo it
        r[i * 512 - 2:i * 512] = r[usa + 2 * i:usa + 2 * i + 2]
    a = struct.unpack_from('<H', r, 0x14)[0]
    while struct.unpack_from('<I', r, a)[0] != 0x70:
        a += struct.unpack_from('<I', r, a + 4)[0]
    v = a + struct.unpack_from('<H', r, a + 0x14)[0]
    struct.pack_into('<H', r, v + 0x0a, struct.unpack_from('<H', r, v + 0x0a)[0] | 1)
    for i in range(1, n):
        r[usa + 2 * i:usa + 2 * i + 2] = r[i * 512 - 2:i * 512]
        r[i * 512 - 2:i * 512] = r[usa:usa + 2]
    f.seek(off); f.write(r)
PY
extract "$T/dirty.raw" 2048 94208 "$T/dirty.part"
ntfsinfo -f -m "$T/dirty.part" 2>/dev/null | grep -qi "Volume Flags:.*DIRTY" && ok "ntfsinfo confirms the dirty flag" \
    || not_ok "ntfsinfo confirms the dirty flag"
is "$(status vk ls "$T/dirty.raw" /Windows)" 0 "dirty: ls works"
is "$(status vk put "$T/dirty.raw" "$T/new.txt" /)" 4 "dirty: put exits 4"
grep -q "dirty" "$T/err" && ok "dirty: the message says why" || not_ok "dirty: the message says why"

# ---- damaged partition tables and boot sectors
mbr_entry() { # DISK SLOT TYPE START NSEC: rewrite one MBR entry
    python3 -c 'import struct,sys
f=open(sys.argv[1],"r+b"); f.seek(446+16*int(sys.argv[2]))
f.write(struct.pack("<B3sB3sII",0,b"\xfe\xff\xff",int(sys.argv[3],16),b"\xfe\xff\xff",int(sys.argv[4]),int(sys.argv[5])))' "$@"
}
cp "$T/base.raw" "$T/past.raw" && mbr_entry "$T/past.raw" 0 07 2048 200000
is "$(status vk ls "$T/past.raw")" 3 "a partition past the disk end: exit 3"
grep -q "raw: partition 1 .*past the end of the disk" "$T/err" && ok "the message says the entry lies past the end" \
    || { not_ok "the message says the entry lies past the end"; sed 's/^/#   /' "$T/err"; }
cp "$T/base.raw" "$T/over.raw" && mbr_entry "$T/over.raw" 1 07 4096 1000
is "$(status vk ls "$T/over.raw")" 3 "overlapping partitions: exit 3"
grep -q "raw: partition 2 .*overlaps partition 1" "$T/err" && ok "the message says they overlap" || { not_ok "the message says they overlap"; sed 's/^/#   /' "$T/err"; }
# An extended partition whose second EBR links back to the first logical's EBR.
cp "$T/base.raw" "$T/loop.raw" && mbr_entry "$T/loop.raw" 1 05 96256 2048
python3 -c 'import struct,sys
f=open(sys.argv[1],"r+b")
def ebr(at, nxt):  # one logical of 100 sectors at +63, then a link to the EBR at extended start + nxt
    e=bytearray(512)
    e[446:462]=struct.pack("<B3sB3sII",0,b"\xfe\xff\xff",7,b"\xfe\xff\xff",63,100)
    e[462:478]=struct.pack("<B3sB3sII",0,b"\xfe\xff\xff",5,b"\xfe\xff\xff",nxt,512)
    e[510:512]=b"\x55\xaa"; f.seek(at*512); f.write(e)
ebr(96256, 512); ebr(96256 + 512, 1024); ebr(96256 + 1024, 512)' "$T/loop.raw"
is "$(status vk ls "$T/loop.raw" --part 1)" 3 "an EBR chain that loops: exit 3"
grep -qi "raw: .*loop" "$T/err" && ok "the message says the chain loops" || { not_ok "the message says the chain loops"; sed 's/^/#   /' "$T/err"; }
# GPT whose primary header CRC is wrong: the backup is used, and vhdkit says so.
mktable "$T/gpt.raw" 48 gpt 2048:94208:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 && mkfs_part "$T/gpt.raw" 2048 94208 G
printf '\377' | dd of="$T/gpt.raw" bs=1 seek=$((512 + 16)) conv=notrunc status=none
is "$(status vk ls "$T/gpt.raw")" 0 "GPT with a bad primary CRC: ls works from the backup"
grep -qi "raw: .*CRC.*backup" "$T/err" && ok "and says it used the backup" || { not_ok "and says it used the backup"; sed 's/^/#   /' "$T/err"; }
# NTFS boot sectors: signature gone, then a signature with an impossible geometry.
cp "$T/base.raw" "$T/noboot.raw" && printf 'XXXX' | dd of="$T/noboot.raw" bs=1 seek=$((2048 * 512 + 3)) conv=notrunc status=none
is "$(status vk ls "$T/noboot.raw" --part 1)" 3 "no NTFS boot sector: exit 3"
grep -q "raw: no NTFS boot sector" "$T/err" && ok "the message names the missing NTFS boot sector" || not_ok "the message names the missing NTFS boot sector"
is "$(status vk ls "$T/noboot.raw")" 2 "without --part: no NTFS volume to choose, exit 2"
cp "$T/base.raw" "$T/badboot.raw" && printf '\000\000' | dd of="$T/badboot.raw" bs=1 seek=$((2048 * 512 + 11)) conv=notrunc status=none
is "$(status vk ls "$T/badboot.raw" --part 1)" 3 "boot sector with 0 bytes per sector: exit 3"
grep -q "^vhdkit: " "$T/err" && ok "a vhdkit: message" || not_ok "a vhdkit: message"
grep -v "^vhdkit: " "$T/err" | grep -q . && not_ok "nothing else on stderr (libntfs-3g is routed)" \
    || ok "nothing else on stderr (libntfs-3g is routed)"
