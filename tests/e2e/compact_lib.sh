# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the compact tests: vk-gen disks and the three ways of reading every file (vhdkit cat of what tree
# lists, sleuthkit icat on a raw export, vk-gen's manifest).
. "$(dirname "$0")/lib.sh"
: "${VHDI_CAT:?VHDI_CAT must name tests/peers/vhdi_cat}"
: "${VKGEN:=$(dirname "$VHDKIT")/../tests/gen/vk-gen}"
[ -x "$VKGEN" ] || skip_all "vk-gen is not built ($VKGEN)"
command -v icat >/dev/null && command -v jq >/dev/null && command -v qemu-img >/dev/null ||
    skip_all "sleuthkit, jq and qemu-img are test dependencies (scripts/install-deps.sh)"

# gen OUT ARGS...: a vk-gen disk (manifest in OUT.man)
gen() {
    out=$1
    shift
    "$VKGEN" --quiet --out "$out" --manifest "$out.man" "$@"
}

# man_hashes MAN: "sha256 path" of every file and stream of a vk-gen manifest, sorted
man_hashes() { awk '$1 == "f" || $1 == "s" { p = $4; for (i = 5; i <= NF; i++) p = p " " $i; print $2, p }' "$1" | sort; }

# cat_hashes IMAGE MAN: every file `vhdkit tree --json` lists, and the manifest's streams, read by `vhdkit cat`
cat_hashes() {
    { vk tree --json "$1" | jq -r '.entries[] | select(.type == "file") | .path | ltrimstr("/")'
      awk '$1 == "s" { p = $4; for (i = 5; i <= NF; i++) p = p " " $i; print p }' "$2"; } |
    while IFS= read -r f; do
        echo "$(vk cat "$1" "$f" | sha256sum | cut -d' ' -f1) $f"
    done | sort
}

# ntfs_start IMAGE: first sector of the NTFS volume
ntfs_start() { vk info --json "$1" | jq -r '.partitions.entries[] | select(.filesystem.type == "NTFS") | .start_lba' | head -n 1; }

# icat_hashes RAW START: "sha256 path" of every file sleuthkit lists in the volume (metafiles left out), sorted
icat_hashes() {
    fls -r -p -F -u -o "$2" "$1" | while IFS="$(printf '\t')" read -r meta name; do
        inode=${meta##* }
        inode=${inode%:}
        case "$name" in \$*|*/\$*|*:*) continue ;; esac # metafiles; streams (icat INODE reads the file's data)
        echo "$(icat -o "$2" "$1" "$inode" | sha256sum | cut -d' ' -f1) $name"
    done | sort
}

# raw_hashes IMAGE START: icat_hashes on vhdkit's raw export of IMAGE
raw_hashes() {
    rm -f "$T/x.raw"
    vk convert --type raw "$1" "$T/x.raw" >/dev/null && icat_hashes "$T/x.raw" "$2"
    rm -f "$T/x.raw"
}

# man_files MAN: "sha256 path" of the manifest's files (no streams: icat lists files), sorted
man_files() { awk '$1 == "f" { p = $4; for (i = 5; i <= NF; i++) p = p " " $i; print $2, p }' "$1" | sort; }

# peers_agree IMAGE WHAT: qemu-img and libvhdi read the same virtual disk as vhdkit
peers_agree() {
    vk read "$1" | sha256sum | cut -d' ' -f1 >"$T/vk.sum"
    qemu-img convert -f vpc -O raw "$1" "$T/q.raw"
    is "$(sum "$T/q.raw")" "$(cat "$T/vk.sum")" "$2: qemu-img reads the same disk as vhdkit"
    "$VHDI_CAT" "$1" | sha256sum | cut -d' ' -f1 >"$T/vhdi.sum"
    is "$(cat "$T/vhdi.sum")" "$(cat "$T/vk.sum")" "$2: libvhdi reads the same disk as vhdkit"
    rm -f "$T/q.raw"
}

# restart_pages IMAGE clean|unclean: writes two $LogFile restart pages (version 1.1, a log client in use) into the
# NTFS volume of IMAGE, as libntfs-3g's ntfs_check_logfile/ntfs_is_logfile_clean read them: with RESTART_VOLUME_IS_CLEAN
# set (what Windows XP and later leave at a clean dismount) or clear (stopped without one); the volume's dirty flag
# stays clear. Uses sleuthkit (istat on a raw export) to find $LogFile's first cluster.
restart_pages() {
    _flags=0
    [ "$2" = clean ] && _flags=2
    _s=$(ntfs_start "$1")
    _cs=$(vk info --json "$1" | jq -r '.partitions.entries[] | select(.filesystem.type == "NTFS") | .filesystem.cluster_size' | head -n 1)
    rm -f "$T/lf.raw"
    vk convert --type raw "$1" "$T/lf.raw" >/dev/null || return 1
    _st=$(istat -o "$_s" "$T/lf.raw" 2 | awk '/^Type: \$DATA/ { print $NF; d = 1; next } d && NF { print $1; exit }')
    rm -f "$T/lf.raw"
    set -- "$1" $_st
    python3 - "$2" "$_flags" >"$T/lf.pages" <<'PY' || return 1
import struct, sys
size, flags = int(sys.argv[1]), int(sys.argv[2])  # $LogFile data size, restart area flags
usa_ofs, usa_count, ra_ofs, ca_ofs = 0x20, 1 + 4096 // 512, 0x38, 0x30
out = b''
for copy in range(2):
    p = bytearray(4096)
    # RESTART_PAGE_HEADER: magic, usa_ofs, usa_count, chkdsk_lsn, system/log page size, restart area offset, 1.1
    struct.pack_into('<4sHHqIIHhh', p, 0, b'RSTR', usa_ofs, usa_count, 0, 4096, 4096, ra_ofs, 1, 1)
    fs_bits = size.bit_length()
    # RESTART_AREA: current_lsn, one client, free list empty, client 0 in use, flags, sequence number bits,
    # length, client array offset, file size, last data length, record header length, page data offset, open count
    struct.pack_into('<qHHHHIHHqIHHII', p, ra_ofs, 0x1000 + copy, 1, 0xFFFF, 0, flags, 67 - fs_bits,
                     ca_ofs + 0xA0, ca_ofs, size, 0, 0x30, 0x40, 1, 0)
    # LOG_CLIENT_RECORD "NTFS": oldest lsn, restart lsn, no prev/next, seq number, name length, name
    struct.pack_into('<qqHHH6sI', p, ra_ofs + ca_ofs, 0x1000, 0x1000, 0xFFFF, 0xFFFF, 1, b'', 8)
    p[ra_ofs + ca_ofs + 32:ra_ofs + ca_ofs + 40] = 'NTFS'.encode('utf-16-le')
    # multi-sector protection: the update sequence number ends every sector, the bytes it replaced sit in the array
    usn = 1
    struct.pack_into('<H', p, usa_ofs, usn)
    for i in range(1, usa_count):
        end = i * 512 - 2
        p[usa_ofs + 2 * i:usa_ofs + 2 * i + 2] = p[end:end + 2]
        struct.pack_into('<H', p, end, usn)
    out += bytes(p)
sys.stdout.buffer.write(out)
PY
    vk write "$1" --offset $((_s * 512 + $3 * _cs)) <"$T/lf.pages"
}
