# SPDX-License-Identifier: GPL-2.0-or-later
# whohas against sleuthkit and ntfs-3g on a vk-gen disk of one layout (sourced by whohas_<layout>.sh after lib.sh):
# random used and free clusters asked in one call, then each checked with `ifind -d` + `ffind`, `ntfscluster -c`
# (on the partition cut out with dd) and `blkstat`; --vhd-offset answers checked against `dump --bat --json`.
# WHOHAS_USED / WHOHAS_FREE / WHOHAS_IFIND set the sample sizes and how many of them also go to ifind + ffind +
# blkstat (about a second a cluster on a loaded machine; ntfscluster gets all of them). The full proof of issue 6 is
# WHOHAS_USED=500 WHOHAS_FREE=100 WHOHAS_IFIND=600 (20 minutes a layout here); the suite runs a smaller sample.
: "${VKGEN:=$(dirname "$VHDKIT")/../tests/gen/vk-gen}"
: "${WHOHAS_USED:=200}"
: "${WHOHAS_FREE:=50}"
: "${WHOHAS_IFIND:=30}"

whohas_layout() {
    layout=$1
    [ -x "$VKGEN" ] || skip_all "vk-gen is not built ($VKGEN)"
    for t in ifind ffind ntfscluster blkstat fsstat mmls icat python3; do
        command -v $t >/dev/null || skip_all "$t is not installed"
    done
    img="$T/d.vhd"
    check "$layout: vk-gen builds a disk" "$VKGEN" --quiet --out "$img" --layout "$layout" --size 256M --files 300 \
        --deleted 0.2 --seed 7 --pagefile 4M
    check "$layout: raw copy for the peers" vk convert "$img" "$T/d.raw" --type raw
    # The NTFS partition holding Windows: the largest one fsstat calls NTFS.
    start=""
    best=0
    for s in $(mmls -a "$T/d.raw" | awk '$1 ~ /^[0-9]+:$/ && $2 != "Meta" && $2 != "-------" {print $3 + 0 "," $5 + 0}'); do
        st=${s%,*} len=${s#*,}
        if fsstat -o "$st" "$T/d.raw" 2>/dev/null | grep -q "File System Type: NTFS" && [ "$len" -gt "$best" ]; then
            start=$st best=$len
        fi
    done
    [ -n "$start" ] && ok "$layout: NTFS partition at sector $start" || { not_ok "$layout: NTFS partition found"; return; }
    dd if="$T/d.raw" of="$T/p.img" bs=512 skip="$start" count="$best" status=none
    csize=$(fsstat -o "$start" "$T/d.raw" | sed -n 's/^Cluster Size: //p')
    icat -o "$start" "$T/d.raw" 6 >"$T/bitmap"
    fsstat -o "$start" "$T/d.raw" | sed -n 's/^Total Cluster Range: 0 - //p' >"$T/lastclu"

    # Random used and free clusters, a random sector inside each; the queries for one whohas call.
    python3 - "$T/bitmap" "$(cat "$T/lastclu")" "$csize" "$start" "$WHOHAS_USED" "$WHOHAS_FREE" "$layout" \
        >"$T/queries" 2>"$T/py.err" <<'EOF'
import random, sys
bm = open(sys.argv[1], 'rb').read()
last, cs, start, nu, nf = (int(x) for x in sys.argv[2:7])
rnd = random.Random(sys.argv[7])
used, free = [], []
for c in range(last + 1):
    (used if (bm[c >> 3] >> (c & 7)) & 1 else free).append(c)
spc = cs // 512
rows = [(kind, c) for kind, pool, n in (('used', used, nu), ('free', free, nf)) for c in rnd.sample(pool, min(n, len(pool)))]
rnd.shuffle(rows)  # so the ifind sample holds both kinds
for kind, c in rows:
    print(kind, c, start + c * spc + rnd.randrange(spc))
EOF
    is "$(wc -l <"$T/queries" | tr -d ' ')" "$((WHOHAS_USED + WHOHAS_FREE))" "$layout: $WHOHAS_USED used and $WHOHAS_FREE free clusters drawn"
    awk '{print "sector", $3}' "$T/queries" >"$T/stdin"
    is "$(status vk whohas --json "$img" --stdin <"$T/stdin")" 0 "$layout: one whohas call answers them all"
    cp "$T/out" "$T/answers.json"
    # One line per answer: sector kind cluster mft_record path|stream
    python3 - "$T/answers.json" >"$T/answers" <<'EOF'
import json, sys
for a in json.load(open(sys.argv[1]))['answers']:
    print(a['sector'], a['kind'], a.get('cluster', '-'), a.get('mft_record', '-'),
          a.get('path', '-') + ('|' + a['stream'] if a.get('stream') else ''))
EOF
    is "$(wc -l <"$T/answers" | tr -d ' ')" "$((WHOHAS_USED + WHOHAS_FREE))" "$layout: one answer per query"

    # Each answer against the peers.
    bad_clu=0 bad_nc=0 bad_if=0 bad_free=0 n_if=0
    paste -d' ' "$T/queries" "$T/answers" >"$T/both"
    while read -r kind clu sec asec akind aclu amft apath; do
        [ "$aclu" = "$clu" ] || { bad_clu=$((bad_clu + 1)); echo "# sector $sec: cluster $aclu, want $clu"; }
        nc=$(ntfscluster -c "$clu" "$T/p.img" 2>/dev/null | sed -n 's/^Inode \([0-9]*\) \(.*\)$/\1 \2/p' | head -n 1)
        if [ "$kind" = free ]; then
            if [ "$akind" != free ] || [ -n "$nc" ]; then
                bad_free=$((bad_free + 1))
                echo "# free cluster $clu: whohas '$akind', ntfscluster '$nc'"
            fi
            if [ "$n_if" -lt "$WHOHAS_IFIND" ]; then
                n_if=$((n_if + 1))
                blkstat -o "$start" "$T/d.raw" "$clu" | grep -q "^Not Allocated" \
                    || { bad_free=$((bad_free + 1)); echo "# free cluster $clu: blkstat says allocated"; }
            fi
            continue
        fi
        # ntfscluster: "Inode N /path/$DATA" or "/path/$DATA($stream)" or "/path/$INDEX_ALLOCATION($I30)"
        ncmft=${nc%% *}
        ncpath=$(printf '%s' "${nc#* }" | sed 's|/\$[A-Z_]*\(([^)]*)\)\{0,1\}$||')
        wpath=${apath%%|*}
        if [ "$amft" != "$ncmft" ] || { [ "$ncpath" != "$wpath" ] && [ "$amft" -ge 16 ]; }; then
            bad_nc=$((bad_nc + 1))
            echo "# cluster $clu: whohas $amft '$apath' ($akind), ntfscluster '$nc'"
        fi
        if [ "$n_if" -lt "$WHOHAS_IFIND" ]; then
            n_if=$((n_if + 1))
            inode=$(ifind -d "$clu" -o "$start" "$T/d.raw")
            paths=$(ffind -a -o "$start" "$T/d.raw" "$inode" 2>/dev/null | sed 's|^//|/|; s|^\* ||')
            if [ "${inode%%-*}" != "$amft" ] || { [ "$amft" -ge 16 ] && ! printf '%s\n' "$paths" | grep -qxF -e "$wpath" -e "${apath%%|*}:${apath#*|}"; }; then
                bad_if=$((bad_if + 1))
                echo "# cluster $clu: whohas $amft '$apath', ifind '$inode' ffind '$(echo $paths)'"
            fi
        fi
    done <"$T/both"
    is "$bad_clu" 0 "$layout: every answer names the cluster asked"
    is "$bad_nc" 0 "$layout: $WHOHAS_USED used clusters: same MFT record and path as ntfscluster -c"
    is "$bad_if" 0 "$layout: $n_if of them (used or free): same record as ifind -d and a path ffind lists"
    is "$bad_free" 0 "$layout: $WHOHAS_FREE free clusters: free for whohas, no inode for ntfscluster (and blkstat: not allocated)"

    # --vhd-offset: for every allocated BAT entry, its BAT entry, a byte of its sector bitmap and one of its data;
    # the data byte's bitmap bit is read from the file here, independently.
    vk dump --bat --json "$img" >"$T/bat.json"
    python3 - "$T/bat.json" "$img" >"$T/vq" <<'EOF'
import json, random, sys
bat = json.load(open(sys.argv[1]))['bat']
f = open(sys.argv[2], 'rb')
rnd = random.Random(5)
bs, bmb = 2 * 1024 * 1024, 512
for e in bat:
    b, at = e['block'], e['block_offset']
    k = rnd.randrange(bs)
    f.seek(at + (k // 512) // 8)
    bit = (f.read(1)[0] >> (7 - (k // 512) % 8)) & 1
    print(e['offset'] + rnd.randrange(4), 'vhd_bat', b, '-')
    print(at + rnd.randrange(bmb), 'vhd_sector_bitmap', b, '-')
    print(at + bmb + k, 'data' if bit else 'vhd_stale_data', b, (b * bs + k) // 512)
EOF
    awk '{print "vhd-offset", $1}' "$T/vq" >"$T/vstdin"
    is "$(status vk whohas --json "$img" --stdin <"$T/vstdin")" 0 "$layout: --vhd-offset answers for $(wc -l <"$T/vq" | tr -d ' ') places"
    python3 - "$T/out" "$T/vq" >"$T/vcmp" <<'EOF'
import json, sys
ans = json.load(open(sys.argv[1]))['answers']
bad = 0
for a, line in zip(ans, open(sys.argv[2])):
    off, kind, blk, sec = line.split()
    got = a['kind']
    good = a.get('vhd_block') == int(blk)
    if kind == 'data':
        good = good and got not in ('vhd_stale_data', 'vhd_sector_bitmap', 'vhd_bat') and a.get('sector') == int(sec)
    else:
        good = good and got == kind and (sec == '-' or a.get('sector') == int(sec))
    if not good:
        bad += 1
        print('# vhd-offset %s: want %s block %s sector %s, got %s' % (off, kind, blk, sec, a))
print(bad, len(ans))
EOF
    grep '^#' "$T/vcmp" | head -10
    is "$(grep -v '^#' "$T/vcmp" | cut -d' ' -f1)" 0 "$layout: --vhd-offset: BAT entries, sector bitmaps and data sectors agree with dump --bat"
    is "$(grep -v '^#' "$T/vcmp" | cut -d' ' -f2)" "$(wc -l <"$T/vq" | tr -d ' ')" "$layout: --vhd-offset: one answer each"
}
