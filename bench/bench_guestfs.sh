#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issues 4, 5 and 8 against their libguestfs peers, each on the same small vk-gen disk in one run:
#   compact -o / in place        vs virt-sparsify --convert vpc / --in-place (time, output size, files identical)
#   reg get, reg set + read back vs virt-win-reg, virt-win-reg --merge + virt-win-reg
#   align --fix -o               vs virt-resize --align-first always (time; start, hidden sectors, files, hives)
# There is no KVM here: the libguestfs appliance runs under TCG (a launch alone takes 15 s to minutes, with the
# machine's load), so the disks are small (BENCH_GUESTFS_SIZE, 256M) and every libguestfs command is cut off after
# BENCH_GUESTFS_SECS (1200 s). Skipped with a reason when libguestfs is not installed. Needs qemu-img and
# sleuthkit (mmls, fls, icat) for the checks, hivexget for the hives.
set -e
. bench/lib.sh
VKGEN=${VKGEN:-$(dirname "$VHDKIT")/../tests/gen/vk-gen}
SIZE=${BENCH_GUESTFS_SIZE:-256M}
GF_SECS=${BENCH_GUESTFS_SECS:-1200}
export LIBGUESTFS_BACKEND=direct

missing=""
for t in virt-sparsify virt-win-reg virt-resize; do command -v $t >/dev/null 2>&1 || missing="$missing $t"; done
if [ -n "$missing" ]; then
    echo "(bench_guestfs skipped: libguestfs tools missing:$missing; apt-get install libguestfs-tools)"
    exit 0
fi
for t in qemu-img mmls fls icat tsk_recover hivexget; do
    command -v $t >/dev/null 2>&1 || { echo "(bench_guestfs skipped: $t is missing)"; exit 0; }
done

W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/vk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
started=$(date +%s)
echo "libguestfs: $(virt-sparsify --version), backend direct, $([ -e /dev/kvm ] && echo KVM || echo 'no /dev/kvm: TCG'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# gf NAME CMD...: a libguestfs command under `timeout GF_SECS`; sets REPLY_SECS, REPLY_KB (max RSS of the command
# and the qemu it waited for) and GF (ok, or why not). Its output is in $W/NAME.out and .err.
gf() {
    name=$1; shift
    rc=0
    /usr/bin/time -f '%e %M' -o "$W/.gftime" timeout "$GF_SECS" "$@" >"$W/$name.out" 2>"$W/$name.err" || rc=$?
    read -r REPLY_SECS REPLY_KB <<EOF
$(tail -n 1 "$W/.gftime")
EOF
    case $rc in
    0) GF=ok ;;
    124) GF="cut off after $GF_SECS s" ;;
    *) GF="failed (exit $rc): $(grep -v '^$' "$W/$name.err" | tail -n 1 | cut -c1-110)" ;;
    esac
    [ "$GF" = ok ] || echo "($name: $GF)"
}

# gfrow TASK OURS_SECS OURS_KB PEER: a table row when the peer ran, else a line saying why not.
gfrow() {
    if [ "$GF" = ok ]; then
        row "$1" "$2" "$3" "$4" "$REPLY_SECS" "$REPLY_KB"
    else
        printf '| %-44s | %8.3f s | %7d KiB | %-22s | %s |\n' "$1" "$2" "$3" "$4" "$GF"
    fi
}

size() { stat -c %s "$1"; }
used() { du -B1 "$1" | cut -f1; }
mib() { awk "BEGIN{printf \"%.1f MiB\", $1 / 1048576}"; }

# toraw IMAGE RAW: a raw copy through qemu-img (not vhdkit: the checks should not trust the tool they check).
toraw() {
    case $1 in *.vhd) f=vpc ;; *) f=raw ;; esac
    qemu-img convert -f $f -O raw "$1" "$2"
}
# ntfs_start RAW: the first NTFS partition's start sector, as mmls reads it.
ntfs_start() { mmls "$1" | awk '/NTFS/ { print $3 + 0; exit }'; }

# filesums IMAGE: "sha256 path" of every allocated file (tsk_recover -a) and named stream (fls -r + icat) of the
# volume on a raw export, the NTFS metafiles ($MFT, $LogFile, ...) left out: tools that mount the volume rewrite them.
filesums() {
    toraw "$1" "$W/fs.raw"
    s=$(ntfs_start "$W/fs.raw")
    rm -rf "$W/fs.d"
    tsk_recover -a -o "$s" "$W/fs.raw" "$W/fs.d" >/dev/null
    (cd "$W/fs.d" && find . -type f ! -path './$*' -exec sha256sum {} + | sed 's|  \./| |')
    fls -r -p -F -u -o "$s" "$W/fs.raw" | awk -F'\t' '$2 ~ /:/ && $2 !~ /^\$/ { split($1, a, " "); sub(/:$/, "", a[2]);
        print a[2] "\t" $2 }' | while IFS='	' read -r addr path; do
        printf '%s %s\n' "$(icat -o "$s" "$W/fs.raw" "$addr" | sha256sum | cut -d' ' -f1)" "$path"
    done
    rm -rf "$W/fs.raw" "$W/fs.d"
}
# same_files NAME REF IMAGE: prints whether IMAGE holds the same files as the REF list.
same_files() {
    filesums "$3" | LC_ALL=C sort >"$W/$1.sums"
    if cmp -s "$2" "$W/$1.sums"; then
        echo "files: $1 holds the same $(wc -l <"$2") files and streams as the source (tsk_recover, icat: sha256)"
    else
        diff "$2" "$W/$1.sums" | sed -n 's/^[<>] [0-9a-f]* //p' | sort -u >"$W/$1.diff"
        echo "files: $1 differs from the source in $(wc -l <"$W/$1.diff") of $(wc -l <"$2") files and streams:" \
            "$(head -n 4 "$W/$1.diff" | tr '\n' ';')"
    fi
}

header

# ---- issue 4: compact against virt-sparsify ----
# 150 files, 50% more written and removed, 100 MiB of big files, and the largest user file removed too (vk-gen's
# removed files are small; this one frees whole blocks): free clusters that still hold old data.
"$VKGEN" --quiet --out "$W/c.vhd" --manifest "$W/c.man" --size "$SIZE" --files 150 --deleted 0.5 --fill-mb 100 --seed 4
big=$(awk '$1 == "f" && $4 ~ /^Users\// { p = $4; for (i = 5; i <= NF; i++) p = p " " $i; print $3, p }' \
    "$W/c.man" | sort -n | tail -n 1 | cut -d' ' -f2-)
"$VHDKIT" rm "$W/c.vhd" "$big"
filesums "$W/c.vhd" | LC_ALL=C sort >"$W/c.sums"
sync
measure compact-o "$VHDKIT" compact -o "$W/co.vhd" "$W/c.vhd"; o=$REPLY_SECS; ok=$REPLY_KB
gf sparsify virt-sparsify -q --format vpc --convert vpc "$W/c.vhd" "$W/cs.vhd"
gfrow "compact -o, $SIZE dynamic VHD" "$o" "$ok" "virt-sparsify --convert vpc"
sp=$GF
cp "$W/c.vhd" "$W/ci.vhd"
toraw "$W/c.vhd" "$W/ci.raw"
sync
measure compact "$VHDKIT" compact "$W/ci.vhd"; i=$REPLY_SECS; ik=$REPLY_KB
gf sparsify-in-place virt-sparsify -q --format raw --in-place "$W/ci.raw"
gfrow "compact in place (VHD), same disk" "$i" "$ik" "virt-sparsify --in-place (raw)"
spi=$GF
echo
echo "compact sizes (file size, bytes allocated): source $(size "$W/c.vhd") ($(mib "$(size "$W/c.vhd")")); vhdkit -o" \
    "$(size "$W/co.vhd") ($(mib "$(size "$W/co.vhd")"), $(used "$W/co.vhd")); vhdkit in place $(size "$W/ci.vhd")" \
    "($(mib "$(size "$W/ci.vhd")"), $(used "$W/ci.vhd"))"
if [ "$sp" = ok ]; then
    echo "               virt-sparsify --convert vpc $(size "$W/cs.vhd") ($(mib "$(size "$W/cs.vhd")"), $(used "$W/cs.vhd")):" \
        "vhdkit -o / virt-sparsify = $(awk "BEGIN{printf \"%.3f\", $(size "$W/co.vhd") / $(size "$W/cs.vhd")}")" \
        "($(size "$W/co.vhd") <= $(size "$W/cs.vhd"): $([ "$(size "$W/co.vhd")" -le "$(size "$W/cs.vhd")" ] && echo yes || echo NO))"
fi
if [ "$spi" = ok ]; then
    echo "               virt-sparsify --in-place raw: $(used "$W/ci.raw") bytes allocated ($(mib "$(used "$W/ci.raw")")) of" \
        "$(size "$W/ci.raw"); vhdkit in place / that = $(awk "BEGIN{printf \"%.3f\", $(size "$W/ci.vhd") / $(used "$W/ci.raw")}")"
    echo "               (a sparse raw file frees 4 KiB pieces, a dynamic VHD whole blocks of 2 MiB: compare -o with --convert vpc)"
fi
same_files "vhdkit-compact-o" "$W/c.sums" "$W/co.vhd"
same_files "vhdkit-compact-in-place" "$W/c.sums" "$W/ci.vhd"
[ "$sp" = ok ] && same_files "virt-sparsify-convert" "$W/c.sums" "$W/cs.vhd"
[ "$spi" = ok ] && same_files "virt-sparsify-in-place" "$W/c.sums" "$W/ci.raw"
rm -f "$W"/c*.vhd "$W"/c*.raw
echo "(compact part done after $(($(date +%s) - started)) s)"
echo

# ---- issue 5: reg against virt-win-reg ----
# vk-gen writes Windows/System32/cmd.exe (a PE32+ header) so that libguestfs inspection takes the volume for
# Windows; virt-win-reg opens the dynamic VHD itself (--format vpc).
"$VKGEN" --quiet --out "$W/r.vhd" --layout mbr2048 --size "$SIZE" --files 100 --seed 5
cp "$W/r.vhd" "$W/r2.vhd"
KEY='HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
sync
best_of 5 reg-get "$VHDKIT" reg get "$W/r.vhd" "$KEY" ProductName; o=$REPLY_SECS; ok=$REPLY_KB
ours=$("$VHDKIT" reg get "$W/r.vhd" "$KEY" ProductName)
gf win-reg-get virt-win-reg --format vpc "$W/r.vhd" "$KEY" ProductName
gfrow "reg get one value, $SIZE dynamic VHD" "$o" "$ok" "virt-win-reg"
[ "$GF" = ok ] && echo "reg get: vhdkit printed '$ours', virt-win-reg '$(cat "$W/win-reg-get.out")'"
NEW='HKLM\SOFTWARE\VkBench'
best_of 3 reg-set sh -c '"$VHDKIT" reg set -p -t sz "$1" "$2" Greeting "hello from vhdkit" &&
    "$VHDKIT" reg get "$1" "$2" Greeting' - "$W/r.vhd" "$NEW"
o=$REPLY_SECS; ok=$REPLY_KB
printf 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\VkBench]\r\n"Greeting"="hello from virt-win-reg"\r\n\r\n' \
    >"$W/m.reg"
gf win-reg-merge virt-win-reg --merge --format vpc "$W/r2.vhd" "$W/m.reg"
if [ "$GF" = ok ]; then
    m_secs=$REPLY_SECS m_kb=$REPLY_KB
    gf win-reg-back virt-win-reg --format vpc "$W/r2.vhd" "$NEW" Greeting
    [ "$GF" = ok ] && REPLY_SECS=$(awk "BEGIN{print $m_secs + $REPLY_SECS}") &&
        REPLY_KB=$((m_kb > REPLY_KB ? m_kb : REPLY_KB))
fi
gfrow "reg set + get back" "$o" "$ok" "virt-win-reg --merge + get"
[ "$GF" = ok ] && echo "reg set: read back by virt-win-reg '$(cat "$W/win-reg-back.out")'; its disk read by vhdkit:" \
    "'$("$VHDKIT" reg get "$W/r2.vhd" "$NEW" Greeting)'"
rm -f "$W"/r*.vhd
echo "(reg part done after $(($(date +%s) - started)) s)"
echo

# ---- issue 8: align --fix against virt-resize ----
# An XP-style disk: NTFS at sector 63, MountedDevices naming it by byte offset 0x7e00, and a Vista-style Boot/BCD
# (--bcd) whose device elements hold the same offset. Both tools work on the same raw disk and move the partition
# to 1 MiB (virt-resize --alignment 2048 sectors); virt-resize gets a target as large as vhdkit's output.
"$VKGEN" --quiet --out "$W/a.raw" --format raw --layout mbr63 --size "$SIZE" --files 100 --bcd --seed 8
filesums "$W/a.raw" | LC_ALL=C sort >"$W/a.sums"
sync
measure align-fix "$VHDKIT" align --fix -o "$W/ao.raw" "$W/a.raw"; o=$REPLY_SECS; ok=$REPLY_KB
truncate -s "$(size "$W/ao.raw")" "$W/ar.raw"
gf resize virt-resize -q --format raw --output-format raw --align-first always --alignment 2048 "$W/a.raw" "$W/ar.raw"
gfrow "align --fix -o, $SIZE raw, sector 63" "$o" "$ok" "virt-resize --align-first"
rs=$GF
# hives RAW: MountedDevices\DosDevices\C: and the first BCD device element's partition offset, via hivexget
hives() {
    s=$(ntfs_start "$1")
    fls -r -p -F -u -o "$s" "$1" | awk -F'\t' '$2 == "Windows/System32/config/SYSTEM" || $2 == "Boot/BCD" {
        split($1, a, " "); sub(/:$/, "", a[2]); print a[2], $2 }' | while read -r addr path; do
        icat -o "$s" "$1" "$addr" >"$W/${path##*/}.hive"
    done
    c=$(hivexget "$W/SYSTEM.hive" MountedDevices | grep -i 'DosDevices\\\\C:' | sed 's/.*hex(3)://')
    b=$(hivexget "$W/BCD.hive" 'Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\Elements\11000001' Element |
        od -An -tx1 -j32 -N8 | tr -d ' \n')
    echo "start $s (1 MiB aligned: $([ $((s % 2048)) = 0 ] && echo yes || echo no)), NTFS hidden sectors" \
        "$(od -An -tu4 -j$((s * 512 + 28)) -N4 "$1" | tr -d ' '), MountedDevices C: $c, BCD bootmgr device offset" \
        "bytes 0x$b (LE)"
}
echo "align source:     $(hives "$W/a.raw")"
echo "align vhdkit -o:  $(hives "$W/ao.raw")"
if [ "$rs" = ok ]; then
    echo "align virt-resize: $(hives "$W/ar.raw")"
    s1=$(ntfs_start "$W/ao.raw") s2=$(ntfs_start "$W/ar.raw")
    fls -r -p -o "$s1" "$W/ao.raw" | sort >"$W/fls.ours"
    fls -r -p -o "$s2" "$W/ar.raw" | sort >"$W/fls.peer"
    fls -r -p -o "$(ntfs_start "$W/a.raw")" "$W/a.raw" | sort >"$W/fls.src"
    # flsdiff A B: "equal", or the lines that differ
    flsdiff() { cmp -s "$1" "$2" && echo equal || echo "differ: $(diff "$1" "$2" | grep '^[<>]' | head -n 4 | tr '\n\t' '; ')"; }
    echo "fls -r -p listings: vhdkit vs source $(flsdiff "$W/fls.src" "$W/fls.ours")"
    echo "                    virt-resize vs source $(flsdiff "$W/fls.src" "$W/fls.peer")"
    same_files "virt-resize" "$W/a.sums" "$W/ar.raw"
fi
same_files "vhdkit-align-o" "$W/a.sums" "$W/ao.raw"
echo "(the hives vhdkit patched differ by design: MountedDevices and BCD point at the new offset)"
echo "(bench_guestfs took $(($(date +%s) - started)) s)"
