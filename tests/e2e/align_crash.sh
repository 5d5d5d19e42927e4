#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit align --fix crash and resume: an XP-style disk (raw and dynamic) stopped (VHDKIT_TEST_FAULT stop and torn) at
# write points of the in-place run, then run again: the journal finishes the move and the disk matches an
# uninterrupted run: the table area byte for byte, every file's bytes (`vhdkit get` of the whole volume) and
# SYSTEM\MountedDevices through hivexget (a registry step computed again after a stop carries other times, so the
# volume is not compared as bytes); every file intact (streams too) and align exits 0 at the end.
# Raw moves in 8 MiB rounds (VHDKIT_TEST_ALIGN_ROUND), larger than the ~1 MiB shift, so each round is saved in the
# journal before it is written (stops and torn writes inside the journal record, the slot, and the round's writes);
# the dynamic disk (2 MiB blocks) in batches of two blocks, each built in a free slot before its BAT entries switch.
# Raw in place with room for a copy (the default): the aligned disk is written beside it and renamed over it;
# stopped and torn at every write, the image is untouched (same sha256) and a rerun gives the reference.
# Points: the first 3, an even sample and the last few; for raw torn writes also every one of the writes of the
# registry step (its redo log, the slot naming it, the writes applied) and the 3 before it (boot sectors, tables):
# the registry step goes through the journal, so a write torn inside libntfs-3g's updates is applied again.
# Then every write of the dynamic path: a 64 MiB disk of 512 KiB blocks whose registry needs no change (so a resumed
# run must give the very same bytes), batches of two blocks (1 MiB), stopped and torn at each write (the block
# slots, the file growing, each batch record and its BAT sector, the packing of the file's tail into the freed
# slots, its cut, the patches): after each stop vhdkit check and qemu-img open it, then the resumed run reads (vhdkit
# and qemu-img) byte for byte as the uninterrupted one, check is clean (no unreferenced space) and the file is as
# small as -o's.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name the vk-gen binary}"
command -v mkntfs >/dev/null && command -v hivexget >/dev/null || skip_all "mkntfs and hivexget are test dependencies"

"$VKGEN" --out "$T/xp.vhd" --layout mbr63 --size 64M --files 8 --pagefile 1M --quiet || not_ok "vk-gen xp disk"
vk convert "$T/xp.vhd" "$T/xp.raw" --type raw >/dev/null
files() {
    vk tree --json "$1" | sed -n 's/^ *"path": "\(.*\)",*$/\1/p' | sort | while IFS= read -r p; do
        printf '%s %s\n' "$p" "$(vk cat "$1" "$p" 2>/dev/null | sha256sum | cut -c1-64)"
    done
}
files "$T/xp.vhd" | grep -v "^/Windows/System32/config/SYSTEM " >"$T/files.before"  # the hive: hivexget in state

# points N TAIL SAMPLE: the write points to try out of N: the first 3, about SAMPLE evenly, every one of the last TAIL
points() {
    { seq 0 2; seq $(($1 > $2 ? $1 - $2 : 0)) "$1"; seq 0 $(($1 / $3 + 1)) "$1"; } | sort -n | uniq
}

# state IMAGE: what a finished run must leave: the first MiB (MBR, gap), every file's hash and MountedDevices
state() {
    rm -rf "$T/g" "$T/SYSTEM"
    vk read -l 1M "$1" | sha256sum
    vk get "$1" / "$T/g" >/dev/null 2>&1
    (cd "$T/g" && find . -type f ! -path ./Windows/System32/config/SYSTEM -exec sha256sum {} + | sort)
    vk cat "$1" Windows/System32/config/SYSTEM >"$T/SYSTEM" && hivexget "$T/SYSTEM" MountedDevices
}

for kind in raw vhd; do
    case $kind in raw) round=8388608 ;; vhd) round=4194304 ;; esac
    export VHDKIT_TEST_ALIGN_ROUND=$round
    # raw: the journaled move inside the file (--no-copy; the default copies when there is room, tested below)
    case $kind in raw) nocopy=--no-copy ;; *) nocopy= ;; esac
    src=$T/xp.$kind ref=$T/ref.$kind img=$T/y.$kind
    cp "$src" "$ref"
    vk align --fix $nocopy "$ref" >/dev/null
    state "$ref" >"$T/state.ref"
    grep -q '00,00,10,00,00,00,00,00$' "$T/state.ref" && ok "$kind: MountedDevices points at 1 MiB after a run" ||
        not_ok "$kind: MountedDevices points at 1 MiB after a run"
    n=$(cp "$src" "$img" && VHDKIT_TEST_FAULT=count "$VHDKIT" align --fix $nocopy "$img" 2>&1 >/dev/null |
        sed -n 's/^vhdkit-test-writes: //p')
    [ "${n:-0}" -gt 0 ] && state "$img" | cmp -s - "$T/state.ref" && ok "$kind: a counted run gives the reference ($n writes)" ||
        not_ok "$kind: counted run"
    # the writes before the registry step: a run on a copy whose SYSTEM has no MountedDevices to patch
    n0=$(cp "$src" "$img" && vk reg del -r "$img" 'HKLM\SYSTEM\MountedDevices' >/dev/null &&
        VHDKIT_TEST_FAULT=count "$VHDKIT" align --fix $nocopy "$img" 2>&1 >/dev/null | sed -n 's/^vhdkit-test-writes: //p')
    [ "${n0:-0}" -gt 0 ] && [ "$n0" -lt "$n" ] && ok "$kind: $((n - n0)) of the writes are the registry step's" ||
        not_ok "$kind: registry step's writes ($n0 of $n before it)"
    bad=""
    tried=0
    for mode in stop torn; do
        case $kind$mode in
            rawstop) pts=$(points "$n" 3 8) ;;
            rawtorn) pts=$(points "$n" $((n - n0 + 3)) 4) ;;
            *) pts=$(points "$n" 2 4) ;;
        esac
        for k in $pts; do
            cp "$src" "$img"
            rm -f "$img.align-journal" "$img.align-journal.tmp"
            VHDKIT_TEST_FAULT=$mode:$k "$VHDKIT" align --fix $nocopy "$img" >/dev/null 2>&1
            "$VHDKIT" align --fix $nocopy "$img" >/dev/null 2>"$T/err" || bad="$bad $mode:$k(resume failed: $(head -c 200 "$T/err"))"
            state "$img" | cmp -s - "$T/state.ref" || bad="$bad $mode:$k"
            test -e "$img.align-journal" && bad="$bad $mode:$k(journal left)"
            tried=$((tried + 1))
        done
    done
    is "$bad" "" "$kind: stopped at each of $tried write points (stop and torn) then resumed: same as an uninterrupted run"
    files "$img" | grep -v "^/Windows/System32/config/SYSTEM " >"$T/files.after"
    cmp -s "$T/files.before" "$T/files.after" && ok "$kind: every file intact after a resumed run" ||
        not_ok "$kind: every file intact after a resumed run"
    is "$(status vk align "$img")" 0 "$kind: aligned after the resumed run"
done

# Every write of the dynamic path, on a disk whose align run is deterministic (no MountedDevices, no BCD: the
# registry step writes nothing), so the resumed image must read as the reference byte for byte.
command -v qemu-img >/dev/null || { not_ok "qemu-img is a test dependency"; exit; }
export VHDKIT_TEST_ALIGN_ROUND=1048576
"$VKGEN" --out "$T/d.vhd" --layout mbr63 --size 64M --block-size 512K --files 40 --pagefile 1M --seed 3 --quiet ||
    not_ok "vk-gen 512 KiB-block disk"
vk reg del -r "$T/d.vhd" 'HKLM\SYSTEM\MountedDevices' >/dev/null
cp "$T/d.vhd" "$T/dref.vhd"
vk align --fix "$T/dref.vhd" >/dev/null
vk read "$T/dref.vhd" >"$T/dref.raw"
vk align --fix -o "$T/do.vhd" "$T/d.vhd" >/dev/null
vk read "$T/do.vhd" | cmp -s - "$T/dref.raw" && ok "dyn: in place reads as -o byte for byte" || not_ok "dyn: in place = -o"
is "$(stat -c %s "$T/dref.vhd")" "$(stat -c %s "$T/do.vhd")" "dyn: in place the file is as large as -o's"
vk check "$T/dref.vhd" >"$T/chk" 2>&1
grep -q "referenced by no BAT" "$T/chk" && not_ok "dyn: check notes unreferenced space" || ok "dyn: check: no unreferenced space"
n=$(cp "$T/d.vhd" "$T/y.vhd" && VHDKIT_TEST_FAULT=count "$VHDKIT" align --fix "$T/y.vhd" 2>&1 >/dev/null |
    sed -n 's/^vhdkit-test-writes: //p')
[ "${n:-0}" -gt 40 ] && ok "dyn: $n writes to try" || not_ok "dyn: write count ($n)"
bad="" tried=0 leaked=0
for mode in stop torn; do
    for k in $(seq 0 $((n - 1))); do
        cp "$T/d.vhd" "$T/y.vhd"
        rm -f "$T/y.vhd.align-journal" "$T/y.vhd.align-journal.tmp"
        VHDKIT_TEST_FAULT=$mode:$k "$VHDKIT" align --fix "$T/y.vhd" >/dev/null 2>&1 && bad="$bad $mode:$k(no stop)"
        # the stopped image opens: check reads every structure (exit 0 or 1, not 3), qemu-img reads all of it
        "$VHDKIT" check "$T/y.vhd" >"$T/chk" 2>&1
        [ $? -le 1 ] || bad="$bad $mode:$k(check: $(grep -v note "$T/chk" | head -c 200))"
        grep -q "referenced by no BAT" "$T/chk" && leaked=$((leaked + 1))
        qemu-img convert -f vpc -O raw "$T/y.vhd" "$T/q.raw" 2>/dev/null || bad="$bad $mode:$k(qemu-img cannot read it)"
        "$VHDKIT" align --fix "$T/y.vhd" >/dev/null 2>"$T/err" || bad="$bad $mode:$k(resume failed: $(head -c 200 "$T/err"))"
        "$VHDKIT" read "$T/y.vhd" | cmp -s - "$T/dref.raw" || bad="$bad $mode:$k(differs)"
        "$VHDKIT" check "$T/y.vhd" >"$T/chk" 2>&1 || bad="$bad $mode:$k(check after resume)"
        grep -q "referenced by no BAT" "$T/chk" && bad="$bad $mode:$k(unreferenced space after resume)"
        [ "$(stat -c %s "$T/y.vhd")" -le "$(stat -c %s "$T/dref.vhd")" ] || bad="$bad $mode:$k(file larger)"
        test -e "$T/y.vhd.align-journal" && bad="$bad $mode:$k(journal left)"
        tried=$((tried + 1))
    done
done
is "$bad" "" "dyn: stopped at each of the $n writes (stop and torn: $tried runs) then resumed: same disk, check clean"
# (slots written and not yet in the BAT, or the tail not yet cut: the stops reached the slot writes)
[ "$leaked" -gt 0 ] && ok "dyn: $leaked stops left unreferenced space, which each resumed run used or cut" ||
    not_ok "dyn: no stop left unreferenced space"
qemu-img convert -f vpc -O raw "$T/y.vhd" "$T/q.raw" && cmp -s "$T/q.raw" "$T/dref.raw" &&
    ok "dyn: qemu-img reads the last resumed image as the reference" || not_ok "dyn: qemu-img reads the resumed image"
is "$(status vk align "$T/y.vhd")" 0 "dyn: aligned after the resumed runs"

# Raw in place by copy (the default when the file system has room): a stop or torn write at any write leaves the
# image as it was, byte for byte; a rerun replaces the leftover copy and gives what an uninterrupted run gives.
unset VHDKIT_TEST_ALIGN_ROUND
cp "$T/xp.raw" "$T/cref.raw"
vk align --fix --json "$T/cref.raw" >"$T/c.json"
grep -q '"method": "copy"' "$T/c.json" && ok "raw in place with room: method copy" || not_ok "raw in place: method $(grep method "$T/c.json")"
state "$T/cref.raw" >"$T/cstate.ref"
cmp -s "$T/cstate.ref" "$T/state.ref" && ok "copy: same files, first MiB and MountedDevices as the journaled move" ||
    not_ok "copy: differs from the journaled move"
orig=$(sha256sum <"$T/xp.raw")
n=$(cp "$T/xp.raw" "$T/c.raw" && VHDKIT_TEST_FAULT=count "$VHDKIT" align --fix "$T/c.raw" 2>&1 >/dev/null |
    sed -n 's/^vhdkit-test-writes: //p')
[ "${n:-0}" -gt 0 ] && ok "copy: $n write points" || not_ok "copy: write points ($n)"
# every write point leaves the image untouched; the rerun's result is compared at a sample of them (state() reads
# every file)
rerun=" $(points "$n" 3 6 | tr '\n' ' ')"
bad=""
for mode in stop torn; do
    k=0
    while [ "$k" -lt "${n:-0}" ]; do
        cp "$T/xp.raw" "$T/c.raw"
        VHDKIT_TEST_FAULT=$mode:$k "$VHDKIT" align --fix "$T/c.raw" >/dev/null 2>&1
        [ "$(sha256sum <"$T/c.raw")" = "$orig" ] || bad="$bad $mode:$k(image changed)"
        case $rerun in *" $k "*)
            "$VHDKIT" align --fix "$T/c.raw" >/dev/null 2>"$T/err" || bad="$bad $mode:$k(rerun failed: $(head -c 200 "$T/err"))"
            state "$T/c.raw" | cmp -s - "$T/cstate.ref" || bad="$bad $mode:$k"
            test -e "$T/c.raw.vhdkit-align-tmp" && bad="$bad $mode:$k(copy left)" ;;
        esac
        k=$((k + 1))
    done
done
is "$bad" "" "copy: a stop or torn write at each of the $n writes leaves the image untouched; reruns complete"
