#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# File commands on NTFS volumes at sector 63 (XP), 2048 (Vista and later) and in a GPT disk, through dynamic VHDs:
# put a tree, then tree/ls -R against sleuthkit's fls, cat against icat, stat's offsets against the .vhd bytes,
# get back to the host, and rm/mkdir seen by ntfs-3g's own tools.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/files_lib.sh"

host_tree "$T/src"
BASIC=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7

# name START NSEC PART(number of the NTFS partition) and how the disk is made
mktable "$T/xp.raw" 64 mbr 63:98241:07 && mkfs_part "$T/xp.raw" 63 98241 XP
mktable "$T/vista.raw" 96 mbr 2048:98304:07 100352:94208:07 && mkfs_part "$T/vista.raw" 2048 98304 Windows &&
    mkfs_part "$T/vista.raw" 100352 94208 Data
mktable "$T/gpt.raw" 80 gpt 2048:16384:C12A7328-F81F-11D2-BA4B-00A0C93EC93B \
    18432:32768:E3C9E316-0B5C-4DB8-817D-F92DF00215AE 51200:100352:$BASIC && mkfs_part "$T/gpt.raw" 51200 100352 OS
[ -s "$T/gpt.raw" ] && ok "three test disks made" || not_ok "three test disks made"

for disk in xp:63:98241:1 vista:2048:98304:1 gpt:51200:100352:3; do
    IFS=: read -r name start nsec part <<E
$disk
E
    img="$T/$name.vhd"
    vk convert "$T/$name.raw" "$img" >/dev/null
    is "$(status vk put "$img" "$T/src/." / --part "$part")" 0 "$name: put the tree (exit 0)"
    # Windows is now on partition $part: found without --part, even next to a second NTFS volume.
    is "$(status vk ls "$img")" 0 "$name: ls without --part picks the Windows volume"
    grep -qx "Windows/" "$T/out" && ok "$name: root lists Windows/" || not_ok "$name: root lists Windows/"
    vk ls "$img" /WINDOWS/system32 >"$T/ci" 2>&1
    is "$(cat "$T/ci")" "config/" "$name: case-insensitive lookup"

    export_raw "$img" "$T/$name.exp.raw"
    vk_list "$img" >"$T/vk.list"
    fls_list "$T/$name.exp.raw" "$start" >"$T/fls.list"
    n=$(wc -l <"$T/vk.list")
    [ "$n" -ge 14 ] && ok "$name: tree --json lists $n entries" || not_ok "$name: tree --json lists $n entries"
    if cmp -s "$T/vk.list" "$T/fls.list"; then ok "$name: tree --json equals fls -r -p (types, paths, sizes)"
    else not_ok "$name: tree --json equals fls -r -p"; diff "$T/vk.list" "$T/fls.list" | head -10 | sed 's/^/#   /'; fi
    vk ls -R "$img" | sed 's#/$##' | sort >"$T/lsR"
    sed 's/^[a-z]* //; s/ [0-9]*$//' "$T/fls.list" | sort >"$T/fls.paths"
    diff "$T/lsR" "$T/fls.paths" | sed "s/^/#  /"; cmp -s "$T/lsR" "$T/fls.paths" && ok "$name: ls -R paths equal fls" || not_ok "$name: ls -R paths equal fls"

    # cat equals icat and the host file, for every file
    bad=""
    for f in Windows/System32/config/SYSTEM Windows/System32/config/SOFTWARE "Program Files/App/app.exe" \
        "Users/Élodie/NTUSER.DAT" "Users/Élodie/Documents/résumé.txt" small.txt "Users/Élodie/Documents/empty.txt"; do
        inode=$(vk stat "$img" "$f" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mft_record"])')
        vk cat "$img" "$f" >"$T/c1"
        icat -o "$start" "$T/$name.exp.raw" "$inode" >"$T/c2"
        cmp -s "$T/c1" "$T/c2" && cmp -s "$T/c1" "$T/src/$f" || bad="$bad $f"
    done
    is "$bad" "" "$name: cat equals icat and the source for every file"

    # stat: each piece of app.exe read at its .vhd file offset equals the file's bytes at that place
    vk stat "$img" "Program Files/App/app.exe" --json >"$T/st.json"
    python3 - "$T/st.json" "$img" "$T/src/Program Files/App/app.exe" "$start" >"$T/stchk" <<'PY'
import json, sys
st = json.load(open(sys.argv[1])); vhd = open(sys.argv[2], 'rb'); src = open(sys.argv[3], 'rb').read()
cl = st["cluster_size"]; pieces = 0; bad = 0
data = [a for a in st["attributes"] if a["type"] == "$DATA" and a["name"] == ""][0]
for r in data["runs"]:
    assert r["lba"] == int(sys.argv[4]) + r["lcn"] * cl // 512, "lba"
    pos = r["vcn"] * cl
    for p in r["stored_at"]:
        vhd.seek(p["file_offset"]); n = min(p["bytes"], len(src) - pos)
        if n > 0 and vhd.read(n) != src[pos:pos + n]: bad += 1
        assert p["vhd_block"] == p["disk_offset"] // (2 << 20), "block"
        pos += p["bytes"]; pieces += 1
print(pieces, bad)
PY
    read -r pieces bad <"$T/stchk"
    [ "${pieces:-0}" -ge 2 ] && [ "$bad" = 0 ] && ok "$name: stat's $pieces pieces of app.exe hold its bytes at their .vhd offsets" \
        || not_ok "$name: stat offsets point at the file's bytes (pieces ${pieces:-?}, bad ${bad:-?})"

    # get: the tree comes back byte for byte, with the modification times
    rm -rf "$T/back"
    is "$(status vk get "$img" / "$T/back")" 0 "$name: get / exits 0"
    diff -r "$T/src" "$T/back" >/dev/null && ok "$name: get returns the same tree" || not_ok "$name: get returns the same tree"
    is "$(stat -c %Y "$T/back/small.txt")" "$(stat -c %Y "$T/src/small.txt")" "$name: get keeps the modification time"
    is "$(stat -c %y "$T/back/Program Files/App/app.exe")" "$(stat -c %y "$T/src/Program Files/App/app.exe")" \
        "$name: put then get keep the time of app.exe"

    # rm and mkdir, seen by ntfs-3g's tools on the partition extracted from a raw export
    is "$(status vk rm "$img" /small.txt)" 0 "$name: rm a file"
    is "$(status vk rm "$img" "/Program Files")" 2 "$name: rm a non-empty folder without -r: exit 2"
    is "$(status vk rm -r "$img" "/program files")" 0 "$name: rm -r a folder (case-insensitive)"
    is "$(status vk mkdir "$img" /New/Deep)" 3 "$name: mkdir without -p and a missing parent: exit 3"
    is "$(status vk mkdir -p "$img" /New/Deep)" 0 "$name: mkdir -p"
    echo "added later" >"$T/later.txt"
    is "$(status vk put "$img" "$T/later.txt" /New/Deep)" 0 "$name: put a file into a new folder"
    export_raw "$img" "$T/$name.exp.raw"
    extract "$T/$name.exp.raw" "$start" "$nsec" "$T/p.img"
    ntfsls -f "$T/p.img" >"$T/nls" 2>/dev/null
    grep -qx small.txt "$T/nls" && not_ok "$name: ntfsls no longer sees small.txt" || ok "$name: ntfsls no longer sees small.txt"
    grep -qx "Program Files" "$T/nls" && not_ok "$name: ntfsls no longer sees Program Files" \
        || ok "$name: ntfsls no longer sees Program Files"
    grep -qx New "$T/nls" && ok "$name: ntfsls sees New" || not_ok "$name: ntfsls sees New"
    is "$(ntfscat -f "$T/p.img" New/Deep/later.txt 2>/dev/null)" "added later" "$name: ntfscat reads the put file"
    ntfsinfo -f -F /New/Deep "$T/p.img" >"$T/ninfo" 2>&1
    grep -q "Record Flags:.*IN_USE DIRECTORY" "$T/ninfo" && ok "$name: ntfsinfo sees /New/Deep as a directory" \
        || not_ok "$name: ntfsinfo sees /New/Deep as a directory"
    ntfsinfo -f -F /New/Deep/later.txt "$T/p.img" 2>&1 | grep -q "Data size:.*12 (0xc)" &&
        ok "$name: ntfsinfo sees the put file's 12 bytes" || not_ok "$name: ntfsinfo sees the put file's 12 bytes"
    fls_list "$T/$name.exp.raw" "$start" >"$T/fls.list"
    vk_list "$img" >"$T/vk.list"
    diff "$T/vk.list" "$T/fls.list" | sed "s/^/#  /"; cmp -s "$T/vk.list" "$T/fls.list" && ok "$name: after the changes tree still equals fls" \
        || not_ok "$name: after the changes tree still equals fls"
done

# vista has two NTFS volumes: --part 2 reaches the other one; a missing partition is a usage error
is "$(vk ls "$T/vista.vhd" --part 2 | wc -l)" 0 "--part 2: the empty data volume"
is "$(status vk ls "$T/vista.vhd" --part 9)" 2 "--part 9 (no such partition): exit 2"
is "$(status vk ls "$T/vista.raw")" 2 "two bare NTFS volumes and no Windows: exit 2"
grep -q "choose one with --part: 1 (NTFS), 2 (NTFS)" "$T/err" && ok "the choices are listed" || not_ok "the choices are listed"
is "$(status vk cat "$T/xp.vhd" /nothing.txt)" 3 "cat of a missing file: exit 3"
grep -q "nothing.txt" "$T/err" && ok "the missing path is named" || not_ok "the missing path is named"
