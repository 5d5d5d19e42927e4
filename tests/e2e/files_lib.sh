# SPDX-License-Identifier: GPL-2.0-or-later
# Fixtures for the file-command tests (sourced after lib.sh): raw disks with MBR or GPT tables written by a short
# Python script, NTFS made by mkntfs on an extracted partition (hidden sectors and geometry as Windows sets them)
# and written back with dd, raw exports and partition extracts for the peers (sleuthkit, ntfs-3g tools).

for tool in mkntfs fls icat ntfsls ntfscat ntfsinfo python3; do
    command -v "$tool" >/dev/null 2>&1 || skip_all "$tool is not installed"
done

# mktable OUT SIZE_MIB mbr|gpt START:NSEC:TYPE...  (TYPE: MBR type byte in hex, or a GPT type GUID)
mktable() {
    python3 - "$@" <<'PY'
import struct, sys, uuid, zlib
out, size_mib, scheme = sys.argv[1], int(sys.argv[2]), sys.argv[3]
parts = [p.split(':') for p in sys.argv[4:]]
nsec = size_mib * 2048
f = open(out, 'wb')
f.truncate(nsec * 512)
def entry(boot, t, start, n):  # CHS fields at their "use LBA" maximum, as Windows writes for large disks
    return struct.pack('<B3sB3sII', boot, b'\xfe\xff\xff', t, b'\xfe\xff\xff', start, n)
mbr = bytearray(512)
mbr[510:512] = b'\x55\xaa'
if scheme == 'mbr':
    struct.pack_into('<I', mbr, 440, 0x1d2c3b4a)
    for i, (s, n, t) in enumerate(parts):
        mbr[446 + 16 * i:462 + 16 * i] = entry(0x80 if i == 0 else 0, int(t, 16), int(s), int(n))
    f.write(mbr)
else:
    ents = bytearray(128 * 128)
    for i, (s, n, t) in enumerate(parts):
        name = ('part%d' % (i + 1)).encode('utf-16-le').ljust(72, b'\0')
        ents[128 * i:128 * (i + 1)] = (uuid.UUID(t).bytes_le + uuid.UUID(int=i + 1).bytes_le +
                                       struct.pack('<QQQ', int(s), int(s) + int(n) - 1, 0) + name)
    crc = zlib.crc32(ents)
    def header(cur, alt, ents_lba):
        h = bytearray(struct.pack('<8sIIIIQQQQ16sQIII', b'EFI PART', 0x10000, 92, 0, 0, cur, alt, 34, nsec - 34,
                                  uuid.UUID(int=0x5eed).bytes_le, ents_lba, 128, 128, crc))
        struct.pack_into('<I', h, 16, zlib.crc32(h))
        return bytes(h).ljust(512, b'\0')
    mbr[446:462] = entry(0, 0xee, 1, min(nsec - 1, 0xffffffff))
    f.write(mbr)
    f.write(header(1, nsec - 1, 2) + ents)
    f.seek((nsec - 33) * 512)
    f.write(ents + header(nsec - 1, 1, nsec - 33))
PY
}

# mkfs_part DISK START NSEC LABEL: NTFS on one partition (mkntfs -p records the hidden sectors)
mkfs_part() {
    truncate -s $(($3 * 512)) "$T/part.img" &&
        mkntfs -q -F -Q -s 512 -p "$2" -H 255 -S 63 -L "$4" "$T/part.img" >/dev/null 2>&1 &&
        dd if="$T/part.img" of="$1" bs=512 seek="$2" conv=notrunc status=none && rm -f "$T/part.img"
}

# extract DISK START NSEC OUT: a partition copied out (for ntfsls, ntfscat, ntfsinfo)
extract() { dd if="$1" of="$4" bs=512 skip="$2" count="$3" status=none; }

# export_raw IMAGE OUT: the virtual disk as a raw file, through vhdkit's own convert
export_raw() { rm -f "$2" && vk convert "$1" "$2" --type raw >/dev/null; }

# host_tree DIR: a small tree with the shapes that matter: nesting, a Windows skeleton, names with spaces and
# non-ASCII letters, an empty file, a file crossing VHD block boundaries (blocks are 2 MiB), mixed sizes
host_tree() {
    mkdir -p "$1/Windows/System32/config" "$1/Program Files/App" "$1/Users/Élodie/Documents" "$1/Empty Folder"
    pattern "$1/Windows/System32/config/SYSTEM" 262144 1
    pattern "$1/Windows/System32/config/SOFTWARE" 700001 2
    pattern "$1/Program Files/App/app.exe" 3000000 3
    pattern "$1/Users/Élodie/NTUSER.DAT" 65536 4
    pattern "$1/Users/Élodie/Documents/résumé.txt" 1234 5
    pattern "$1/small.txt" 17 6
    : >"$1/Users/Élodie/Documents/empty.txt"
    touch -d '2009-07-14 01:02:03.5 UTC' "$1/small.txt"
    touch -d '2001-08-24 12:00:00 UTC' "$1/Program Files/App/app.exe"
}

# fls_list RAW START: "type path size" lines from sleuthkit, without metafiles, orphans, named streams and deleted
# entries
fls_list() {
    fls -r -p -l -o "$2" "$1" | awk -F'\t' '{
        split($1, a, " "); t = substr(a[1], 1, 1) == "d" ? "dir" : "file"; p = $2
        if (p ~ /^\$/ || p ~ /:/ || $1 ~ /\*/) next   # metafiles, named streams, deleted entries
        print t, "/" p, (t == "dir" ? 0 : $7) }' | sort
}

# vk_list IMAGE [ARGS]: the same lines from vhdkit tree --json
vk_list() {
    img=$1
    shift
    vk tree "$img" --json "$@" | python3 -c 'import json,sys
for e in json.load(sys.stdin)["entries"]:
    print(e["type"], e["path"], e["size"])' | sort
}

# jget FILE KEY.PATH: a value from a JSON file by its full path (list indexes as numbers); booleans as true/false
jget() {
    python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v,(dict,list,bool)) else v)' "$1" "$2"
}
