#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vk-gen (tests/gen): the disks it makes, read by peers only: mmls (partitions), fls/icat (every manifest path and
# its content), ntfsinfo/ntfsls/ntfscp (ntfs-3g's view, hibernation, dirty flag), hivexget (hives), qemu-img and
# vhdkit convert (raw exports); plus determinism and the documented content algorithm.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name the vk-gen binary}"
for tool in mmls fls icat tsk_recover istat ntfsinfo ntfsls ntfscp hivexget qemu-img mkntfs; do
    command -v $tool >/dev/null 2>&1 || skip_all "$tool missing"
done

gen() { "$VKGEN" --quiet "$@"; }

# start_of RAW LAYOUT: start sector of the NTFS partition as mmls reports it
start_of() {
    case $2 in
    gpt) mmls "$1" | awk '/Basic data partition/ {print $3 + 0}' ;;
    *) mmls "$1" | awk '/NTFS/ {print $3 + 0}' ;;
    esac
}

# fls_map RAW START OUT: "addr<TAB>path" of every allocated name (metafiles left out)
fls_map() {
    fls -r -p -o "$2" "$1" | awk -F'\t' '$1 !~ /^-\// && $1 !~ /\*/ {
        split($1, a, " "); sub(/:$/, "", a[2]);
        if ($2 !~ /^\$/ && $2 !~ /\/\$/) print a[2] "\t" $2 }' >"$3"
}

# check_volume NAME RAW START MANIFEST: fls lists exactly the manifest's paths; icat content equals its hashes
check_volume() {
    name=$1 raw=$2 start=$3 man=$4
    fls_map "$raw" "$start" "$T/map"
    cut -f2 "$T/map" | sort >"$T/fls.paths"
    sed 's/^[^ ]* [^ ]* [^ ]* //' "$man" | sort >"$T/man.paths"
    if cmp -s "$T/fls.paths" "$T/man.paths" && [ -s "$T/man.paths" ]; then
        ok "$name: fls -r -p lists exactly the $(wc -l <"$T/man.paths") manifest paths"
    else
        not_ok "$name: fls -r -p lists exactly the manifest paths"
        diff "$T/fls.paths" "$T/man.paths" | head -10 | sed 's/^/#   /'
    fi
    # Files through tsk_recover (one pass; icat per file costs a whole volume open), streams through icat.
    rm -rf "$T/rec"
    tsk_recover -a -o "$start" "$raw" "$T/rec" >/dev/null 2>&1
    awk '$1 == "f" { s = $2; sub(/^[^ ]+ [^ ]+ [^ ]+ /, ""); print s "  " $0 }' "$man" | sort >"$T/want.f"
    (cd "$T/rec" && find . -type f -print0 | xargs -0 -r sha256sum) | sed 's|  \./|  |' | sort >"$T/got.f"
    bad=$(diff "$T/want.f" "$T/got.f" | grep -c '^[<>]')
    n=$(wc -l <"$T/want.f")
    diff "$T/want.f" "$T/got.f" | head -6 | sed 's/^/#   /'
    awk -F'\t' 'NR == FNR { addr[$2] = $1; next }
        $1 == "s" { s = $2; sub(/^[^ ]+ [^ ]+ [^ ]+ /, ""); print (($0 in addr) ? addr[$0] : "none") "\t" s "\t" $0 }' \
        "$T/map" "$man" >"$T/want.s"
    while IFS='	' read -r addr sha path; do
        n=$((n + 1))
        got=$(icat -o "$start" "$raw" "$addr" 2>/dev/null | sha256sum | cut -d' ' -f1)
        if [ "$got" != "$sha" ]; then
            bad=$((bad + 1))
            echo "#   icat $addr ($path): $got, manifest $sha"
        fi
    done <"$T/want.s"
    is "$bad/$n" "0/$n" "$name: content of every file (tsk_recover) and stream (icat) equals the manifest's sha256"
}

# extract RAW START OUT: the partition alone, for ntfs-3g's tools
extract() {
    len=$(mmls "$1" | awk -v s="$2" '$3 + 0 == s {print $5 + 0}')
    dd if="$1" of="$3" bs=1M iflag=skip_bytes,count_bytes skip=$(($2 * 512)) count=$((len * 512)) conv=sparse status=none
}

# hive RAW START PATH OUT: a hive file copied out with icat
hive() { icat -o "$2" "$1" "$(awk -F'\t' -v p="$3" '$2 == p {print $1}' "$T/map")" >"$4"; }

SIZE=1G
for layout in mbr63 mbr2048 gpt; do
    case $layout in mbr63) want=63 ;; mbr2048) want=2048 ;; gpt) want=100352 ;; esac
    for format in raw dynamic chain; do
        name="$layout/$format"
        case $format in raw) img=$T/d.img ;; *) img=$T/d.vhd ;; esac
        rm -f "$T"/d*.img "$T"/d*.vhd "$T"/d.raw "$T"/m.txt*
        if ! gen --out "$img" --format $format --layout $layout --size $SIZE --files 60 --seed 11 --deleted 0.3 \
            --user bob --manifest "$T/m.txt" >"$T/gen.out" 2>&1; then
            not_ok "$name: vk-gen builds the disk"
            sed 's/^/#   /' "$T/gen.out"
            continue
        fi
        ok "$name: vk-gen builds the disk"
        # Raw view: the image itself, qemu-img for a dynamic VHD, vhdkit convert for a chain (qemu-img ignores parents).
        case $format in
        raw) raw=$img ;;
        dynamic) raw=$T/d.raw; qemu-img convert -f vpc -O raw "$img" "$raw" ;;
        chain) raw=$T/d.raw; "$VHDKIT" convert "$img" "$raw" --type raw >/dev/null ;;
        esac
        start=$(start_of "$raw" $layout)
        is "$start" "$want" "$name: mmls shows the NTFS partition at sector $want"
        check_volume "$name" "$raw" "$start" "$T/m.txt"
        # Files written then removed: fls sees them deleted, their content is still on the disk. (Not for chains:
        # the children reuse the freed MFT records and clusters, as Windows would.)
        [ $format = chain ] && continue
        fls -r -p -d -o "$start" "$raw" | awk -F'\t' '$2 ~ /\.(tmp|exe|cab)$/' >"$T/del"
        ndel=$(wc -l <"$T/del")
        [ "$ndel" -ge 18 ] && ok "$name: fls -d lists the $ndel removed scratch files" || not_ok "$name: fls -d lists removed files ($ndel < 18)"
        bad=0
        head -5 "$T/del" | while IFS='	' read -r meta path; do
            addr=$(echo "$meta" | awk '{print $3}' | sed 's/:$//')
            size=$(istat -o "$start" "$raw" "$addr" | awk '/^Type: \$DATA \(128-/ {print $NF; exit}')
            a=$(icat -r -o "$start" "$raw" "$addr" | head -c "$size" | sha256sum)
            b=$("$VKGEN" content 11 "$size" "$path" | sha256sum)
            [ "$a" = "$b" ] || echo "bad $path"
        done >"$T/delbad"
        is "$(cat "$T/delbad")" "" "$name: removed files' clusters still hold their content (icat -r = vk-gen content)"
        [ $format = raw ] || continue
        # Once per layout: the partition table details, ntfs-3g's view and the hives.
        if [ $layout = mbr63 ]; then
            # XP geometry 255/63: LBA 63 is C/H/S 0/1/1; the partition ends on a cylinder (head 254, sector 63).
            is "$(od -An -tx1 -j447 -N3 "$raw" | tr -d ' ') $(od -An -tx1 -j451 -N2 "$raw" | tr -d ' ')" "010100 fe3f" \
                "$name: MBR CHS fields for 255 heads, 63 sectors per track"
        fi
        if [ $layout = gpt ]; then
            mmls "$raw" | awk '/EFI system partition|Microsoft reserved partition/ {print $3 + 0, $5 + 0}' | tr '\n' ' ' >"$T/gpt"
            is "$(cat "$T/gpt")" "2048 65536 67584 32768 " "$name: EFI System (32 MiB) and MSR (16 MiB) before the NTFS partition"
        fi
        extract "$raw" "$start" "$T/p.img"
        ntfsinfo -m "$T/p.img" >"$T/ni" 2>&1
        is "$(awk '/Volume Name:/ {print $3}' "$T/ni")" "Windows" "$name: ntfsinfo reads the volume (label Windows)"
        hidden=$(od -An -tu4 -j28 -N4 "$T/p.img" | tr -d ' ')
        is "$hidden" "$want" "$name: boot sector hidden sectors = partition start"
        ntfsls -p /Windows/System32/config "$T/p.img" 2>&1 | grep -v '^\.' | sort | tr '\n' ' ' >"$T/ls"
        is "$(cat "$T/ls")" "DEFAULT SAM SECURITY SOFTWARE SYSTEM " "$name: ntfsls lists the five hives"
        hive "$raw" "$start" Windows/System32/config/SYSTEM "$T/SYSTEM"
        hive "$raw" "$start" Windows/System32/config/SOFTWARE "$T/SOFTWARE"
        is "$(hivexget "$T/SYSTEM" Select Current)" "1" "$name: hivexget SYSTEM Select\\Current = 1"
        is "$(hivexget "$T/SYSTEM" 'ControlSet001\Control\ComputerName\ComputerName' ComputerName)" "VKGEN-11" \
            "$name: hivexget ComputerName"
        case $layout in
        mbr63) product="Microsoft Windows XP" ;;
        *) product="Windows 10 Pro" ;;
        esac
        is "$(hivexget "$T/SOFTWARE" 'Microsoft\Windows NT\CurrentVersion' ProductName)" "$product" \
            "$name: hivexget SOFTWARE ProductName"
        md=$(hivexget "$T/SYSTEM" MountedDevices | grep -F '"\\DosDevices\\C:"' | sed 's/.*hex(3)://')
        if [ $layout = gpt ]; then
            guid=$(sfdisk --part-uuid "$raw" 3 2>/dev/null | tr 'A-F' 'a-f')
            want_md="44,4d,49,4f,3a,49,44,3a"  # "DMIO:ID:" then the partition GUID in on-disk order
            case $md in "$want_md",*) ok "$name: MountedDevices C: is DMIO:ID: + partition GUID" ;;
            *) not_ok "$name: MountedDevices C: is DMIO:ID: + partition GUID"; echo "#   got $md" ;; esac
        else
            sig=$(od -An -tx1 -j440 -N4 "$raw" | sed 's/^ //; s/ /,/g')
            off=$(printf '%016x' $((want * 512)) | sed 's/\(..\)/\1 /g' | awk '{for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? "," : "")}')
            is "$md" "$sig,$off" "$name: MountedDevices C: = disk signature + partition offset"
        fi
        addr=$(awk -F'\t' '$2 == "ProgramData/sparse.dat" {print $1}' "$T/map")
        istat -o "$start" "$raw" "$addr" | grep -q '^Type: \$DATA (128-[0-9]*) .*Non-Resident, Sparse' &&
            ok "$name: istat shows ProgramData/sparse.dat as sparse" || not_ok "$name: istat shows ProgramData/sparse.dat as sparse"
    done
done

# Fixed VHD: qemu-img reads the same volume.
gen --out "$T/f.vhd" --format fixed --layout gpt --size $SIZE --files 30 --seed 13 --manifest "$T/f.txt"
qemu-img convert -f vpc -O raw "$T/f.vhd" "$T/f.raw"
is "$(tail -c 512 "$T/f.vhd" | head -c 8)" "conectix" \
    "fixed: the footer is the last 512 bytes"
check_volume "gpt/fixed" "$T/f.raw" 100352 "$T/f.txt"

# A 4 GiB dynamic disk with 2000 files and 300 MiB (the optimized build when make check names it). Its build time
# is reported, not asserted (speed is measured in bench/, a loaded CI machine must not fail the suite).
fast=$VKGEN
[ -n "${VHDKIT_RELEASE_BIN:-}" ] && [ -x "$(dirname "$VHDKIT_RELEASE_BIN")/../tests/gen/vk-gen" ] &&
    fast=$(dirname "$VHDKIT_RELEASE_BIN")/../tests/gen/vk-gen
t0=$(date +%s)
is "$(status "$fast" --quiet --out "$T/big.vhd" --size 4G --files 2000 --seed 7 --deleted 0.3 --fill-mb 300 \
    --manifest "$T/big.txt")" 0 "4 GiB dynamic, 2000 files, 300 MiB built (in $(($(date +%s) - t0)) s)"
is "$(status "$VHDKIT" check "$T/big.vhd")" 0 "big disk: check is clean"
is "$(grep -c '^f ' "$T/big.txt" | awk '{print ($1 > 2000)}')" "1" "big disk: more than 2000 files in the manifest"
rm -f "$T/big.vhd"

# Chain: each level's manifest matches its own image; files added by children are invisible in the base.
rm -f "$T"/c*.vhd
gen --out "$T/c.vhd" --format chain --chain-depth 3 --size $SIZE --files 60 --seed 12 --deleted 0.2 --manifest "$T/c.txt"
for level in 0 1; do
    "$VHDKIT" convert "$T/c-$level.vhd" "$T/c$level.raw" --type raw >/dev/null
    check_volume "chain level $level" "$T/c$level.raw" 2048 "$T/c.txt.$level"
done
grep -c 'Level 1/' "$T/c.txt.0" >"$T/n0"
grep -c 'Level 2/' "$T/c.txt" >"$T/n2"
is "$(cat "$T/n0") $(cat "$T/n2" | awk '{print ($1 > 0)}')" "0 1" "chain: child files absent from the base, present at the top"
hive "$T/c1.raw" 2048 Windows/System32/config/SOFTWARE "$T/SW1"
is "$(hivexget "$T/SW1" 'Microsoft\Windows\CurrentVersion\Uninstall\VkGenUpdate1' DisplayName)" "vk-gen update 1" \
    "chain: the child's SOFTWARE hive has its update key"

# Hibernated and dirty: ntfs-3g refuses to write, the library flags them.
gen --out "$T/h.img" --format raw --size 256M --files 10 --seed 3 --hiberfil --dirty
extract "$T/h.img" 2048 "$T/hp.img"
echo x >"$T/x.txt"
ntfscp -f "$T/hp.img" "$T/x.txt" /x.txt >"$T/cp.out" 2>&1
is "$?:$(grep -c 'hibernated' "$T/cp.out")" "1:2" "hiberfil: ntfscp -f refuses the hibernated volume"
ntfsinfo -m "$T/hp.img" >/dev/null 2>"$T/ni.err"
grep -q 'scheduled for check' "$T/ni.err" && ok "dirty: ntfsinfo refuses without -f" || not_ok "dirty: ntfsinfo refuses without -f"
ntfsinfo -f -m "$T/hp.img" 2>/dev/null | grep -q 'Volume Flags: 0x0001 DIRTY' && ok "dirty: ntfsinfo -f shows DIRTY" || not_ok "dirty: ntfsinfo -f shows DIRTY"
"$VKGEN" info "$T/h.img" >"$T/info"
is "$(grep -E '^(hibernated|dirty)=' "$T/info" | tr '\n' ' ')" "hibernated=1 dirty=1 " "hiberfil+dirty: vk_ntfs_info_get flags both"
gen --out "$T/k.img" --format raw --size 256M --files 10 --seed 3 --hiberfil=clean
"$VKGEN" info "$T/k.img" >"$T/info"
is "$(grep -E '^(hibernated|dirty)=' "$T/info" | tr '\n' ' ')" "hibernated=0 dirty=0 " "clean hiberfil: not flagged"

# Determinism and the documented content algorithm.
gen --out "$T/r1.img" --format raw --size 256M --files 40 --seed 5 --deleted 0.3 --manifest "$T/r1.txt"
gen --out "$T/r2.img" --format raw --size 256M --files 40 --seed 5 --deleted 0.3
gen --out "$T/r3.img" --format raw --size 256M --files 40 --seed 6 --deleted 0.3
cmp -s "$T/r1.img" "$T/r2.img" && ok "same spec and seed: byte-identical raw images" || not_ok "same spec and seed: byte-identical raw images"
cmp -s "$T/r1.img" "$T/r3.img" && not_ok "another seed: a different image" || ok "another seed: a different image"
line=$(grep '^f .* Windows/System32/.*\.dll$' "$T/r1.txt" | head -1)
sha=$(echo "$line" | cut -d' ' -f2) size=$(echo "$line" | cut -d' ' -f3) path=$(echo "$line" | cut -d' ' -f4-)
is "$("$VKGEN" content 5 "$size" "$path" | sha256sum | cut -d' ' -f1)" "$sha" "vk-gen content recomputes a manifest file"

# A spec file works like the options.
printf 'format = raw\nlayout = mbr63 # XP\nsize=256M\nfiles=40\nseed=5\ndeleted=0.3\n' >"$T/spec"
gen --spec "$T/spec" --out "$T/r4.img"
is "$(start_of "$T/r4.img" mbr63)" "63" "--spec file: layout taken from it"
gen --spec "$T/spec" --layout mbr2048 --out "$T/r5.img"
cmp -s "$T/r1.img" "$T/r5.img" && ok "--spec then options: the later option wins (same image as the options)" || not_ok "--spec then options: the later option wins"
"$VKGEN" --out "$T/bad.img" --layout mbr99 >/dev/null 2>"$T/err"
is "$?:$(cat "$T/err")" "2:vk-gen: --layout: 'mbr99' is not mbr63, mbr2048 or gpt" "bad option: exit 2 with a message"
