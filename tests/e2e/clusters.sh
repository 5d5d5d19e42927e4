# SPDX-License-Identifier: GPL-2.0-or-later
# NTFS cluster sizes other than the 4 KiB every other test uses, as Windows formats them: 512 bytes (XP system
# volumes converted from FAT, and small volumes), 1 KiB, 64 KiB (data volumes). On each, every command that reads or
# writes the volume is checked against the vk-gen manifest and the peers (sleuthkit, ntfs-3g, qemu-img, libvhdi,
# hivex): file contents, whohas, put/rm and diff, the registry, compact, and align of a sector-63 disk.
. "$(dirname "$0")/compact_lib.sh"
for t in fsstat ntfscluster hivexget; do command -v $t >/dev/null || skip_all "$t is not installed"; done

# used_clusters BITMAP LAST N SEED: N random used clusters of a $Bitmap (sleuthkit's icat of inode 6)
used_clusters() {
    python3 - "$@" <<'EOF'
import random, sys
bm = open(sys.argv[1], 'rb').read()
last, n = int(sys.argv[2]), int(sys.argv[3])
used = [c for c in range(last + 1) if (bm[c >> 3] >> (c & 7)) & 1]
for c in sorted(random.Random(sys.argv[4]).sample(used, min(n, len(used)))):
    print(c)
EOF
}

for c in 512 1024 65536; do
    # XP-style (sector 63) for the small clusters, where align has something to do
    layout=mbr2048
    [ "$c" -lt 4096 ] && layout=mbr63
    img="$T/c$c.vhd"
    check "$c: vk-gen builds a $layout disk with $c-byte clusters" \
        gen "$img" --cluster "$c" --layout "$layout" --size 256M --files 60 --deleted 0.3 --seed "$c" --pagefile 4M
    start=$(ntfs_start "$img")
    is "$(vk info --json "$img" | jq -r '.partitions.entries[] | select(.filesystem.type == "NTFS") | .filesystem.cluster_size')" \
        "$c" "$c: info reports the cluster size"

    # contents: vhdkit cat and sleuthkit icat against the manifest
    man_hashes "$img.man" >"$T/man"
    cat_hashes "$img" "$img.man" >"$T/cat"
    is "$(wc -l <"$T/cat" | tr -d ' ')" "$(wc -l <"$T/man" | tr -d ' ')" "$c: cat reads as many files and streams as the manifest lists"
    is "$(sum "$T/cat")" "$(sum "$T/man")" "$c: every file and stream read by cat matches the manifest"
    vk convert --type raw "$img" "$T/c.raw" >/dev/null
    is "$(fsstat -o "$start" "$T/c.raw" | sed -n 's/^Cluster Size: //p')" "$c" "$c: sleuthkit sees the same cluster size"
    icat_hashes "$T/c.raw" "$start" >"$T/icat"
    man_files "$img.man" >"$T/manf"
    is "$(sum "$T/icat")" "$(sum "$T/manf")" "$c: sleuthkit reads every file of vhdkit's raw export as the manifest says"

    # whohas: random used clusters, each against ntfscluster on the partition cut out
    len=$(vk info --json "$img" | jq -r '.partitions.entries[] | select(.filesystem.type == "NTFS") | .sectors')
    dd if="$T/c.raw" of="$T/p.img" bs=512 skip="$start" count="$len" status=none
    icat -o "$start" "$T/c.raw" 6 >"$T/bitmap"
    last=$(fsstat -o "$start" "$T/c.raw" | sed -n 's/^Total Cluster Range: 0 - //p')
    used_clusters "$T/bitmap" "$last" 40 "$c" >"$T/clus"
    awk -v s="$start" -v spc=$((c / 512)) '{ print "sector", s + $1 * spc + (spc - 1) }' "$T/clus" >"$T/q"
    is "$(status vk whohas --json "$img" --stdin <"$T/q")" 0 "$c: whohas answers 40 sectors of used clusters"
    jq -r '.answers[] | "\(.cluster) \(.mft_record)"' "$T/out" >"$T/ans"
    bad=0
    while read -r clu mft; do
        want=$(ntfscluster -c "$clu" "$T/p.img" 2>/dev/null | sed -n 's/^Inode \([0-9]*\) .*$/\1/p' | head -n 1)
        [ "$mft" = "$want" ] || { bad=$((bad + 1)); echo "# cluster $clu: whohas record $mft, ntfscluster '$want'"; }
    done <"$T/ans"
    is "$(wc -l <"$T/ans" | tr -d ' ')" 40 "$c: one answer per sector"
    is "$bad" 0 "$c: each names the cluster's MFT record as ntfscluster -c does"
    rm -f "$T/p.img" "$T/c.raw"

    # put, rm and diff on a copy
    cp "$img" "$T/w.vhd"
    head -c $((3 * c + 77)) /dev/urandom >"$T/new.bin"
    gone=$(awk '$1 == "f" && $4 ~ /^Windows\/INF\// { print $4; exit }' "$img.man")
    check "$c: put a host file" vk put "$T/w.vhd" "$T/new.bin" /new.bin
    check "$c: rm a file" vk rm "$T/w.vhd" "/$gone"
    is "$(vk cat "$T/w.vhd" /new.bin | sha256sum | cut -d' ' -f1)" "$(sum "$T/new.bin")" "$c: cat reads back what put wrote"
    is "$(status vk diff "$img" "$T/w.vhd")" 1 "$c: diff finds differences (exit 1)"
    is "$(grep -c '^[-+M] ' "$T/out")" 2 "$c: diff lists two changed paths"
    grep -q "^+ /new.bin " "$T/out" && grep -qF -- "- /$gone " "$T/out" && ok "$c: the added and the removed file" ||
        { not_ok "$c: the added and the removed file"; sed 's/^/#   /' "$T/out" | head -5; }

    # the registry: a value set through vhdkit, read back by vhdkit and by hivex on the extracted hive
    check "$c: reg set a value in SOFTWARE" vk reg set -p -t dword "$T/w.vhd" 'HKLM\SOFTWARE\vhdkit\Test' Cluster "$c"
    is "$(vk reg get "$T/w.vhd" 'HKLM\SOFTWARE\vhdkit\Test' Cluster)" "$c" "$c: reg get reads it back"
    vk cat "$T/w.vhd" /Windows/System32/config/SOFTWARE >"$T/SOFTWARE"
    is "$(hivexget "$T/SOFTWARE" 'vhdkit\Test' Cluster 2>&1)" "$c" "$c: hivexget reads the same value"
    is "$(status vk check "$T/w.vhd")" 0 "$c: check finds nothing wrong after the writes"

    # compact: smaller or equal, same files, peers read the same disk
    cp "$img" "$T/k.vhd"
    check "$c: compact" vk compact "$T/k.vhd"
    [ "$(stat -c %s "$T/k.vhd")" -le "$(stat -c %s "$img")" ] && ok "$c: compact did not grow the image" ||
        not_ok "$c: compact did not grow the image"
    cat_hashes "$T/k.vhd" "$img.man" >"$T/kcat"
    is "$(sum "$T/kcat")" "$(sum "$T/man")" "$c: after compact every file still matches the manifest"
    is "$(status vk check "$T/k.vhd")" 0 "$c: check finds nothing wrong after compact"
    peers_agree "$T/k.vhd" "$c: compacted"
    rm -f "$T/k.vhd" "$T/w.vhd"

    # align: a sector-63 disk moves to 1 MiB; files, cluster size and the peers' view survive
    if [ "$layout" = mbr63 ]; then
        is "$(status vk align "$img")" 1 "$c: align reports the partition at sector 63 (exit 1)"
        check "$c: align --fix -o" vk align --fix -o "$T/a.vhd" "$img"
        is "$(status vk align "$T/a.vhd")" 0 "$c: the new image is aligned (exit 0)"
        is "$(ntfs_start "$T/a.vhd")" 2048 "$c: the volume starts at sector 2048"
        # SYSTEM changes: its MountedDevices entries now hold the new offset (checked in detail by e2e_align_fix)
        cat_hashes "$T/a.vhd" "$img.man" | grep -v ' Windows/System32/config/SYSTEM$' >"$T/acat"
        grep -v ' Windows/System32/config/SYSTEM$' "$T/man" >"$T/man-sys"
        is "$(sum "$T/acat")" "$(sum "$T/man-sys")" "$c: after align every other file still matches the manifest"
        is "$(status vk diff "$img" "$T/a.vhd"; grep '^[-+M] ' "$T/out" | cut -d' ' -f1-2)" \
            "$(printf '1\nM /Windows/System32/config/SYSTEM')" "$c: diff: only the SYSTEM hive changed"
        vk convert --type raw "$T/a.vhd" "$T/a.raw" >/dev/null
        is "$(fsstat -o 2048 "$T/a.raw" | sed -n 's/^Cluster Size: //p')" "$c" "$c: sleuthkit reads the moved volume"
        rm -f "$T/a.vhd" "$T/a.raw"
    fi
done
