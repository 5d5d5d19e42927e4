#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# resize: grow then shrink fixed, dynamic and differencing images with an MBR partition; data and partitions intact;
# qemu-img and libvhdi agree on every new size; refusals; crash at every write point of a BAT-growing resize.
. "$(dirname "$0")/lib.sh"

# 32 MiB raw disk: one MBR partition (type 7) from sector 2048, 47104 sectors (to 24 MiB), a pattern in it
truncate -s 32M "$T/disk.raw"
printf '\000\040\041\000\007\376\377\377\000\010\000\000\000\270\000\000' |
    dd of="$T/disk.raw" bs=1 seek=446 conv=notrunc status=none
printf '\125\252' | dd of="$T/disk.raw" bs=1 seek=510 conv=notrunc status=none
pattern "$T/p" 6000000
dd if="$T/p" of="$T/disk.raw" bs=1M seek=2 conv=notrunc status=none
part_of() { vk read "$1" --length 24M | sum /dev/stdin; }
want=$(part_of "$T/disk.raw")
sizes_agree() { # IMAGE BYTES WHAT
    is "$(qemu-img info -f vpc --output=json "$1" | json_get /dev/stdin virtual-size)" "$2" "$3: qemu-img sees $2 bytes"
    is "$(vhdiinfo "$1" | sed -n 's/.*Media size.*(\([0-9]*\) bytes).*/\1/p')" "$2" "$3: libvhdi sees $2 bytes"
}
for type in dynamic fixed; do
    vk convert --type "$type" "$T/disk.raw" "$T/$type.vhd" >/dev/null
    check "$type: grow to 300M" vk resize "$T/$type.vhd" 300M
    sizes_agree "$T/$type.vhd" 314572800 "$type grown"
    is "$(part_of "$T/$type.vhd")" "$want" "$type grown: partition data intact"
    is "$(status vk check "$T/$type.vhd")" 0 "$type grown: check is clean"
    is "$(status vk resize "$T/$type.vhd" 20M)" 4 "$type: shrink into the partition refused"
    grep -q "partition 1" "$T/err" && ok "$type: refusal names the partition" || not_ok "$type: refusal names the partition"
    check "$type: shrink to 25M" vk resize "$T/$type.vhd" 25M
    sizes_agree "$T/$type.vhd" 26214400 "$type shrunk"
    is "$(part_of "$T/$type.vhd")" "$want" "$type shrunk: partition data intact"
    is "$(status vk check "$T/$type.vhd")" 0 "$type shrunk: check is clean"
    vk read "$T/$type.vhd" >"$T/now.raw"
    mmls "$T/now.raw" | grep -q '0000002048   0000049151   0000047104' && ok "$type: mmls finds the partition" \
        || not_ok "$type: mmls finds the partition"
done
printf 'x' | vk write "$T/dynamic.vhd" --offset 25599999
is "$(status vk resize "$T/dynamic.vhd" 25000000)" 4 "shrink over stored data outside partitions refused"

# a differencing child grows over its smaller parent: the new part reads zeros
vk convert "$T/disk.raw" "$T/base.vhd" >/dev/null
vk snapshot "$T/base.vhd" "$T/child.vhd" >/dev/null
check "differencing: grow to 1G" vk resize "$T/child.vhd" 1G
is "$(part_of "$T/child.vhd")" "$want" "differencing grown: partition data intact"
is "$("$VHDI_CAT" "$T/child.vhd" "$T/base.vhd" | head -c 24M | sum /dev/stdin)" "$want" "differencing grown: libvhdi agrees"
is "$(vk read "$T/child.vhd" --offset 900M --length 4096 | tr -d '\0' | wc -c)" 0 "differencing grown: new space reads zero"
is "$(status vk check "$T/child.vhd")" 0 "differencing grown: check is clean"

# crash at every write point of a resize that grows the BAT past blocks and locators
vk convert "$T/disk.raw" "$T/c.vhd" >/dev/null
vk snapshot "$T/c.vhd" "$T/cc.vhd" >/dev/null
vk write "$T/cc.vhd" --offset 3M <"$T/p"
wantc=$(part_of "$T/cc.vhd")
cp "$T/cc.vhd" "$T/cc.orig"
n=$(VHDKIT_TEST_FAULT=count "$VHDKIT" resize "$T/cc.vhd" 2G 2>&1 >/dev/null | sed -n 's/vhdkit-test-writes: //p')
[ "${n:-0}" -gt 0 ] && ok "resize has $n write points" || not_ok "resize has write points"
bad=0
i=0
while [ "$i" -lt "${n:-0}" ]; do
    cp "$T/cc.orig" "$T/cc.vhd"
    VHDKIT_TEST_FAULT=stop:$i "$VHDKIT" resize "$T/cc.vhd" 2G >/dev/null 2>&1
    [ "$(part_of "$T/cc.vhd")" = "$wantc" ] || { bad=$((bad + 1)); echo "# resize stop:$i changed the view"; }
    i=$((i + 1))
done
is "$bad" 0 "resize: a stop at every write point leaves the data intact"
