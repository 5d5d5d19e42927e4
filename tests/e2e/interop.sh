#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Interop both ways: qemu-made VHDs read byte-identical in vhdkit; vhdkit-made and -converted VHDs read identical in
# qemu-img and libvhdi (vhdi_cat, vhdiinfo), with the virtual size qemu-img reports equal to vhdkit info's.
. "$(dirname "$0")/lib.sh"
: "${VHDI_CAT:?VHDI_CAT must name tests/peers/vhdi_cat}"

# A sparse raw source with data in a few places (a partial last block included) and a zero run inside a data area.
mkraw() { # FILE SIZE
    truncate -s "$2" "$1"
    pattern "$T/p1" 70000; pattern "$T/p2" 4096; pattern "$T/p3" 1536
    dd if="$T/p1" of="$1" bs=512 seek=1 conv=notrunc status=none
    dd if="$T/p2" of="$1" bs=4096 seek=700 conv=notrunc status=none
    dd if="$T/p3" of="$1" bs=512 seek=$(($2 / 512 - 3)) conv=notrunc status=none
}

# qemu -> vhdkit
mkraw "$T/src.raw" 67108864
for sub in dynamic fixed; do
    qemu-img convert -f raw -O vpc -o subformat=$sub "$T/src.raw" "$T/q-$sub.vhd"
    qemu-img convert -f vpc -O raw "$T/q-$sub.vhd" "$T/q-$sub.raw"
    vk read "$T/q-$sub.vhd" >"$T/v-$sub.raw"
    is "$(sum "$T/v-$sub.raw")" "$(sum "$T/q-$sub.raw")" "qemu-img convert -O vpc ($sub): vhdkit read equals qemu-img"
    is "$(status vk check "$T/q-$sub.vhd")" 0 "qemu $sub image passes vhdkit check"
done
qemu-img create -q -f vpc "$T/q-empty.vhd" 100M
qemu-img convert -f vpc -O raw "$T/q-empty.vhd" "$T/q-empty.raw"
is "$(vk read "$T/q-empty.vhd" | sum /dev/stdin)" "$(sum "$T/q-empty.raw")" "qemu-img create -f vpc: vhdkit reads the same"

# vhdkit -> qemu-img and libvhdi; sizes where CHS and current size disagree.
for size in 100000256 20971520; do
    mkraw "$T/s.raw" $size
    for spec in "dynamic 512K" "dynamic 16M" "dynamic 2M" "fixed -"; do
        set -- $spec
        out="$T/c-$size-$1-$2.vhd"
        if [ "$1" = fixed ]; then
            vk convert "$T/s.raw" "$out" --type fixed --fill sparse >/dev/null
        else
            vk convert "$T/s.raw" "$out" --type dynamic --block-size "$2" >/dev/null
        fi
        is "$?" 0 "convert $size bytes to $1 $2"
        vk info --json "$out" >"$T/info.json"
        is "$(json_get "$T/info.json" virtual_size)" "$size" "$size $1 $2: vhdkit info virtual size"
        qemu-img info -f vpc --output=json "$out" >"$T/q.json"
        qsize=$(json_get "$T/q.json" virtual-size)
        is "$qsize" "$size" "$size $1 $2: qemu-img info virtual size"
        is "$(json_get "$T/info.json" seen_by.qemu)" "$qsize" "$size $1 $2: info's qemu view matches qemu-img"
        qemu-img compare -q -f raw -F vpc "$T/s.raw" "$out"
        is "$?" 0 "$size $1 $2: qemu-img compare with the source"
        is "$("$VHDI_CAT" "$out" | sum /dev/stdin)" "$(sum "$T/s.raw")" "$size $1 $2: libvhdi reads the source bytes"
        vhdiinfo "$out" >"$T/vi" 2>&1
        is "$?" 0 "$size $1 $2: vhdiinfo accepts it"
        grep -q "($size bytes)" "$T/vi" && ok "$size $1 $2: vhdiinfo media size" || not_ok "$size $1 $2: vhdiinfo media size"
        is "$(status vk check "$out")" 0 "$size $1 $2: vhdkit check clean"
        rm -f "$out"
    done
done

# Created (not converted) images, including 10000000000 bytes where CHS rounds down.
for t in dynamic fixed; do
    vk create "$T/n-$t.vhd" 10000000000 --type $t --fill sparse >/dev/null 2>&1 || vk create "$T/n-$t.vhd" 10000000000 >/dev/null
    qemu-img info -f vpc --output=json "$T/n-$t.vhd" >"$T/q.json"
    qsize=$(json_get "$T/q.json" virtual-size)
    vk info --json "$T/n-$t.vhd" >"$T/info.json"
    is "$qsize" "$(json_get "$T/info.json" virtual_size)" "created $t 10000000000: qemu-img and vhdkit agree on the size"
    vhdiinfo "$T/n-$t.vhd" >"$T/vi" 2>&1
    grep -q "(10000000000 bytes)" "$T/vi" && ok "created $t 10000000000: vhdiinfo media size" \
        || not_ok "created $t 10000000000: vhdiinfo media size"
    is "$(json_get "$T/info.json" uuid)" "$(sed -n 's/.*Identifier[^:]*: *//p' "$T/vi")" "created $t: UUID printed as vhdiinfo prints it"
    rm -f "$T/n-$t.vhd"
done

# convert to raw: sparse output, same bytes; VHD -> VHD through vhdkit only.
vk convert "$T/q-dynamic.vhd" "$T/back.raw" --type raw >/dev/null
is "$(sum "$T/back.raw")" "$(sum "$T/q-dynamic.raw")" "convert VHD to raw: same bytes"
used=$(du -k "$T/back.raw" | cut -f1)
[ "$used" -lt 1024 ] && ok "raw output is sparse (${used} KiB used of 64 MiB)" || not_ok "raw output is sparse (${used} KiB used)"
vk convert --json "$T/q-dynamic.vhd" "$T/d2.vhd" >"$T/conv.json"
is "$(vk read "$T/d2.vhd" | sum /dev/stdin)" "$(sum "$T/q-dynamic.raw")" "convert VHD to VHD: same bytes"
# data at 512..70512 (18 pieces of 4 KiB), one piece at 700*4096, 1536 bytes in the last piece
is "$(json_get "$T/conv.json" bytes_written)" "$((18 * 4096 + 4096 + 4096))" "convert writes only the non-zero 4 KiB pieces"
is "$(status vk convert "$T/q-dynamic.vhd" "$T/d2.vhd")" 2 "convert refuses an existing destination"
[ ! -e "$T/d2.vhd.tmp" ] && ok "no temporary file left behind" || not_ok "no temporary file left behind"
