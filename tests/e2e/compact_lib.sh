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
