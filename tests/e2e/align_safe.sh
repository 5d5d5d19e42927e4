#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit align --fix refuses, before its first write, to move or patch an NTFS volume that is hibernated (vk-gen
# --hiberfil) or marked dirty (--dirty): exit 4 with the reason and the remedy, the image byte for byte as it was
# (sha256), no journal, no output with -o, also when the disk would first have to grow (--to 8M), raw and dynamic.
# Controls: the same disks without the marker (and with a clean hiberfil.sys) are aligned (exit 0), so the refusals
# come from the markers.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name the vk-gen binary}"
command -v mkntfs >/dev/null || skip_all "mkntfs is a test dependency"

gen() {
    out=$1
    shift
    "$VKGEN" --quiet --out "$out" "$@"
}

# refused NAME IMAGE WHY: every way of running --fix on IMAGE is refused before a write
refused() {
    name=$1 img=$2 why=$3
    s0=$(sum "$img")
    is "$(status vk align --fix "$img")" 4 "$name: in place refused (exit 4)"
    grep -q "$why" "$T/err" && ok "$name: says why ($why)" || { not_ok "$name: says why"; sed 's/^/#   /' "$T/err"; }
    grep -q "shut it down fully" "$T/err" && grep -q "nothing was changed" "$T/err" &&
        ok "$name: says what to do and that nothing changed" || not_ok "$name: remedy"
    is "$(sum "$img")" "$s0" "$name: in place: the image is untouched (sha256)"
    [ ! -e "$img.align-journal" ] && [ ! -e "$img.align-journal.tmp" ] && ok "$name: no journal left" ||
        not_ok "$name: journal left"
    is "$(status vk align --fix --to 8M "$img")" 4 "$name: refused when the disk would grow first (--to 8M)"
    is "$(sum "$img")" "$s0" "$name: --to 8M: the image is untouched (no growth)"
    is "$(status vk align --fix -o "$T/out.vhd" "$img")" 4 "$name: -o refused"
    [ ! -e "$T/out.vhd" ] && [ ! -e "$T/out.vhd.tmp" ] && ok "$name: -o leaves no file" || not_ok "$name: -o file"
    is "$(status vk align --fix --dry-run "$img")" 4 "$name: a dry run says so too (exit 4)"
    is "$(sum "$img")" "$s0" "$name: the image is still untouched"
}

check "hibernated: vk-gen disk at 63" gen "$T/h.vhd" --layout mbr63 --size 64M --files 6 --hiberfil --seed 21
refused hibernated "$T/h.vhd" "hibernated"
check "dirty: vk-gen disk at 63" gen "$T/d.vhd" --layout mbr63 --size 64M --files 6 --dirty --seed 22
refused dirty "$T/d.vhd" "marked dirty"
vk convert "$T/d.vhd" "$T/d.raw" --type raw >/dev/null
refused "dirty raw" "$T/d.raw" "marked dirty"

# Controls: a clean hiberfil.sys, no marker: aligned.
check "control: vk-gen disk at 63 with a clean hiberfil.sys" gen "$T/c.vhd" --layout mbr63 --size 64M --files 6 \
    --hiberfil=clean --seed 21
is "$(status vk align --fix "$T/c.vhd")" 0 "control: clean hiberfil.sys: aligned in place (exit 0)"
is "$(status vk align "$T/c.vhd")" 0 "control: then reported aligned"
check "control: the same seed without --dirty" gen "$T/n.vhd" --layout mbr63 --size 64M --files 6 --seed 22
is "$(status vk align --fix -o "$T/n2.vhd" "$T/n.vhd")" 0 "control: no marker: -o exits 0"
