#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# repair: each kind of damage check knows (footer, copy, checksums, BAT past EOF and shared, stray locators, lost
# parent, blocks laid out for the wrong bitmap or block size) is found by check, fixed by repair with reachable data
# intact (vhdkit, libvhdi and qemu-img read the pre-damage view), then check is clean and a second repair finds
# nothing; the Windows-made child from the corpus gets its parent back through --search; crash stops.
. "$(dirname "$0")/lib.sh"

poke() { # FILE OFFSET HEXBYTES (octal escapes: dash's printf has no \x)
    printf "$(echo "$3" | sed 's/../& /g' | { read -r line; for h in $line; do printf '\\%03o' "0x$h"; done; })" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
vk create "$T/good.vhd" 32M >/dev/null
pattern "$T/p0" 1000000; pattern "$T/p1" 1000000
vk write "$T/good.vhd" --offset 0 <"$T/p0"
vk write "$T/good.vhd" --offset 2M <"$T/p1"
fsize=$(stat -c %s "$T/good.vhd")
bat=1536
b0=$(od -An -tx1 -j$bat -N4 "$T/good.vhd" | tr -d ' \n')
blk() { vk read "$1" --offset "$2" --length 1000000 | sum /dev/stdin; }
s0=$(sum "$T/p0"); s1=$(sum "$T/p1")

# damaged NAME WHAT: check finds problems, repair fixes them, check clean, second repair finds nothing
damaged() {
    is "$(status vk check "$T/$1.vhd")" 1 "$1: check reports the damage"
    vk repair --json "$T/$1.vhd" >"$T/r.json" 2>"$T/err"
    is "$?" 0 "$1: repair succeeds"
    [ "$(json_get "$T/r.json" fixed)" -ge 1 ] && ok "$1: repair says what it fixed" || not_ok "$1: nothing fixed"
    is "$(status vk check "$T/$1.vhd")" 0 "$1: check is clean after repair"
    grep -q "0 errors, 0 warnings" "$T/out" || sed 's/^/#   /' "$T/out"
    vk repair --json "$T/$1.vhd" >"$T/r2.json"
    is "$(json_get "$T/r2.json" fixed)" 0 "$1: a second repair finds nothing"
    is "$(blk "$T/$1.vhd" 0)" "$s0" "$1: block 0 data intact"
}
cp "$T/good.vhd" "$T/tail.vhd"; poke "$T/tail.vhd" $((fsize - 512)) 5858585858585858; damaged tail
is "$(blk "$T/tail.vhd" 2M)" "$s1" "tail: block 1 data intact"
cp "$T/good.vhd" "$T/copy.vhd"; poke "$T/copy.vhd" 0 5858585858585858; damaged copy
cp "$T/good.vhd" "$T/fsum.vhd"; poke "$T/fsum.vhd" $((fsize - 512 + 64)) 00000000; damaged fsum
cp "$T/good.vhd" "$T/hsum.vhd"; poke "$T/hsum.vhd" $((512 + 36)) 00000000; damaged hsum
cp "$T/good.vhd" "$T/eof.vhd"; poke "$T/eof.vhd" $((bat + 4)) 00ffff00; damaged eof
cp "$T/good.vhd" "$T/dup.vhd"; poke "$T/dup.vhd" $((bat + 4)) "$b0"; damaged dup
is "$(blk "$T/dup.vhd" 2M)" "$s0" "dup: block 1 still reads what the shared block held"
printf 'y' | vk write "$T/dup.vhd" --offset 2M
is "$(blk "$T/dup.vhd" 0)" "$s0" "dup: writing block 1 after repair leaves block 0 alone"

# stray locator data in a child, and a lost parent found by UUID
vk create "$T/base.vhd" 32M >/dev/null
vk write "$T/base.vhd" --offset 0 <"$T/p0"
mkdir "$T/kid" "$T/store"
vk snapshot "$T/base.vhd" "$T/kid/c.vhd" >/dev/null
vk write "$T/kid/c.vhd" --offset 2M <"$T/p1"
want=$(vk read "$T/kid/c.vhd" | sum /dev/stdin)
cp "$T/kid/c.vhd" "$T/kid/loc.vhd"; poke "$T/kid/loc.vhd" $((512 + 576 + 48 + 16)) 00000000ffff0000
is "$(status vk check "$T/kid/loc.vhd")" 1 "stray locator: check reports it"
check "stray locator: repair" vk repair "$T/kid/loc.vhd"
is "$(status vk check "$T/kid/loc.vhd")" 0 "stray locator: check clean after repair"
is "$(vk read "$T/kid/loc.vhd" | sum /dev/stdin)" "$want" "stray locator: the chain reads the same"
mv "$T/base.vhd" "$T/store/renamed.vhd"
is "$(status vk check "$T/kid/c.vhd")" 1 "lost parent: check reports it"
is "$(status vk repair --dry-run "$T/kid/c.vhd" --search "$T/store")" 0 "lost parent: dry run finds it"
grep -q renamed.vhd "$T/out" && ok "dry run names the parent found" || not_ok "dry run names the parent found"
is "$(status vk repair "$T/kid/c.vhd")" 1 "lost parent without --search: repair says what is left (exit 1)"
check "lost parent: repair --search" vk repair "$T/kid/c.vhd" --search "$T/kid:$T/store"
is "$(vk read "$T/kid/c.vhd" | sum /dev/stdin)" "$want" "lost parent: the chain reads the same again"
is "$("$VHDI_CAT" "$T/kid/c.vhd" "$T/store/renamed.vhd" | sum /dev/stdin)" "$want" "lost parent: libvhdi agrees"
is "$(status vk check "$T/kid/c.vhd")" 0 "lost parent: check clean after repair"

# the Windows-made child from the corpus: a parent made here with its recorded UUID is found and attached
xz -dc "$SHARED/corpus/vhd/dfvfs-fat-differential.vhd.xz" >"$T/kid/df.vhd"
hoff=$(od -An -tu8 --endian=big -j16 -N8 "$T/kid/df.vhd" | tr -d ' ')
puuid=$(od -An -tx1 -j$((hoff + 40)) -N16 "$T/kid/df.vhd" | tr -d ' \n')
vk create "$T/store/fat-parent-copy.vhd" 4M >/dev/null
ps=$(stat -c %s "$T/store/fat-parent-copy.vhd")
poke "$T/store/fat-parent-copy.vhd" 68 "$puuid"; poke "$T/store/fat-parent-copy.vhd" $((ps - 512 + 68)) "$puuid"
vk repair "$T/store/fat-parent-copy.vhd" >/dev/null
mkdir "$T/decoys"
vk create "$T/decoys/fat-parent.vhd" 4M >/dev/null # same name and size, another UUID: must not be taken
is "$(status vk check "$T/kid/df.vhd")" 1 "corpus child: check reports the missing parent"
is "$(status vk repair "$T/kid/df.vhd" --search "$T/decoys")" 1 "corpus child: a parent with another UUID is not taken"
check "corpus child: repair --search attaches the parent" vk repair "$T/kid/df.vhd" --search "$T/decoys:$T/store"
vk dump --locators "$T/kid/df.vhd" >"$T/loc.txt"
grep -A1 ' W2ku ' "$T/loc.txt" | grep -q "$T/store/fat-parent-copy.vhd" && grep -A1 ' W2ru ' "$T/loc.txt" |
    grep -q 'store.fat-parent-copy.vhd' && ok "corpus child: W2ku and W2ru locators now name the found parent" ||
    { not_ok "corpus child: W2ku and W2ru locators now name the found parent"; sed 's/^/#   /' "$T/loc.txt"; }
is "$(status vk check "$T/kid/df.vhd")" 0 "corpus child: check clean after repair"
is "$(vk read "$T/kid/df.vhd" | sum /dev/stdin)" "$("$VHDI_CAT" "$T/kid/df.vhd" "$T/store/fat-parent-copy.vhd" | sum /dev/stdin)" \
    "corpus child: vhdkit and libvhdi read the same chain"
[ "$(vk read "$T/kid/df.vhd" | tr -d '\0' | wc -c)" -gt 0 ] && ok "corpus child: its own sectors show through" \
    || not_ok "corpus child: its own sectors show through"
vk info --json "$T/kid/df.vhd" >"$T/i.json"
grep -q '"uuid_match": true' "$T/i.json" && ok "corpus child: link found with matching UUID" || not_ok "corpus link"
is "$(status vk read "$T/kid/df.vhd")" 0 "corpus child: the chain reads"
"$VHDI_CAT" "$T/kid/df.vhd" "$T/store/fat-parent-copy.vhd" >/dev/null && ok "corpus child: libvhdi reads the chain" \
    || not_ok "corpus child: libvhdi reads the chain"

# crash at every write point of a repair (shared BAT entry): the image reads block 0 intact and a rerun finishes
cp "$T/good.vhd" "$T/c.orig"; poke "$T/c.orig" $((bat + 4)) "$b0"
cp "$T/c.orig" "$T/c.vhd"
n=$(VHDKIT_TEST_FAULT=count "$VHDKIT" repair "$T/c.vhd" 2>&1 >/dev/null | sed -n 's/vhdkit-test-writes: //p')
[ "${n:-0}" -gt 0 ] && ok "repair has $n write points" || not_ok "repair has write points"
bad=0
i=0
while [ "$i" -lt "${n:-0}" ]; do
    cp "$T/c.orig" "$T/c.vhd"
    VHDKIT_TEST_FAULT=stop:$i "$VHDKIT" repair "$T/c.vhd" >/dev/null 2>&1
    vk repair "$T/c.vhd" >/dev/null 2>&1
    [ "$(blk "$T/c.vhd" 0)" = "$s0" ] && [ "$(blk "$T/c.vhd" 2M)" = "$s0" ] && [ "$(status vk check "$T/c.vhd")" = 0 ] \
        || { bad=$((bad + 1)); echo "# repair stop:$i then repair: not intact"; }
    i=$((i + 1))
done
is "$bad" 0 "repair: a stop at every write point, then a rerun, leaves the data intact and check clean"

# bitmaps of the wrong size (lib/ops/layout_guess.c): copies of vhdkit-made images re-laid by vhd_damage_layout.py
layout_tool() { python3 "$VHDKIT_SRCDIR/tests/e2e/vhd_damage_layout.py" "$@"; }
pattern "$T/p3" 3000000
vk create "$T/lg.vhd" 32M >/dev/null
vk write "$T/lg.vhd" --offset 0 <"$T/p0"; vk write "$T/lg.vhd" --offset 6M <"$T/p3"
vk create "$T/lg4.vhd" 32M --block-size 4M >/dev/null
vk write "$T/lg4.vhd" --offset 0 <"$T/p0"; vk write "$T/lg4.vhd" --offset 6M <"$T/p3"
vk create "$T/lgb.vhd" 32M --block-size 4M >/dev/null
vk write "$T/lgb.vhd" --offset 0 <"$T/p3"
vk snapshot "$T/lgb.vhd" "$T/lgk.vhd" >/dev/null
vk write "$T/lgk.vhd" --offset 1M <"$T/p0"; vk write "$T/lgk.vhd" --offset 9M <"$T/p3"
vk snapshot -b 4M "$T/lgb.vhd" "$T/lgk4.vhd" >/dev/null
vk write "$T/lgk4.vhd" --offset 1M <"$T/p0"; vk write "$T/lgk4.vhd" --offset 9M <"$T/p0"
w2=$(vk read "$T/lg.vhd" | sum /dev/stdin); w4=$(vk read "$T/lg4.vhd" | sum /dev/stdin)
wk=$(vk read "$T/lgk.vhd" | sum /dev/stdin)
is "$("$VHDI_CAT" "$T/lgk.vhd" "$T/lgb.vhd" | sum /dev/stdin)" "$wk" "layout: libvhdi reads the undamaged child as vhdkit"

# laid NAME WANT OFFSET TEXT [PARENT]: check reports TEXT at OFFSET (exit 1), repair fixes it, vhdkit, libvhdi and
# (no parent) qemu-img read the pre-damage view WANT, check clean, a second repair finds nothing
laid() {
    n=$1 img="$T/$1.vhd"
    is "$(status vk check "$img")" 1 "$n: check reports the layout (exit 1)"
    grep -q "error: .*$4.*(offset $3)" "$T/out" && ok "$n: check names it at offset $3" \
        || { not_ok "$n: check names it at offset $3"; sed 's/^/#   /' "$T/out"; }
    vk repair --json "$img" >"$T/r.json" 2>"$T/err"
    is "$?" 0 "$n: repair succeeds"
    [ "$(json_get "$T/r.json" fixed)" -ge 1 ] && ok "$n: repair says what it fixed" || not_ok "$n: nothing fixed"
    is "$(vk read "$img" | sum /dev/stdin)" "$2" "$n: vhdkit reads the pre-damage view"
    is "$("$VHDI_CAT" "$img" ${5:+"$5"} | sum /dev/stdin)" "$2" "$n: libvhdi reads the pre-damage view"
    if [ -z "${5:-}" ]; then
        qemu-img convert -f vpc -O raw "$img" "$T/q.raw"
        is "$(sum "$T/q.raw")" "$2" "$n: qemu-img convert reads the pre-damage view"
    fi
    is "$(status vk check "$img")" 0 "$n: check clean after repair"
    vk repair --json "$img" >"$T/r2.json"
    is "$(json_get "$T/r2.json" fixed)" 0 "$n: a second repair finds nothing"
    [ ! -e "$img.vhdkit-repair" ] && ok "$n: no temporary file left" || not_ok "$n: temporary file left"
}
first=$(layout_tool relayout "$T/lg.vhd" "$T/wide.vhd" 4096)
laid wide "$w2" "$first" "laid out with 4096-byte sector bitmaps"
first=$(layout_tool relayout "$T/lg.vhd" "$T/wideend.vhd" 4096 end)
laid wideend "$w2" "$first" "laid out with 4096-byte sector bitmaps"
first=$(layout_tool relayout "$T/lg.vhd" "$T/wide1k.vhd" 1024)
laid wide1k "$w2" "$first" "laid out with 1024-byte sector bitmaps"
first=$(layout_tool relayout "$T/lg4.vhd" "$T/narrow.vhd" 512)
laid narrow "$w4" "$first" "laid out with 512-byte sector bitmaps"
# the header's block size field sits at header offset + 32 (the header follows the footer copy: 512 + 32 = 0x220)
cp "$T/lg.vhd" "$T/bsbig.vhd"; layout_tool blocksize "$T/bsbig.vhd" 4194304
laid bsbig "$w2" 0x220 "block size 4194304 does not match the blocks"
cp "$T/lg.vhd" "$T/bssmall.vhd"; layout_tool blocksize "$T/bssmall.vhd" 1048576
laid bssmall "$w2" 0x220 "block size 1048576 does not match the blocks"
first=$(layout_tool relayout "$T/lgk.vhd" "$T/kidwide.vhd" 4096)
laid kidwide "$wk" "$first" "laid out with 4096-byte sector bitmaps" "$T/lgb.vhd"
# a narrower bitmap in a differencing disk: which sectors come from the parent cannot be told; left as it is
layout_tool relayout "$T/lgk4.vhd" "$T/kidnarrow.vhd" 512 >/dev/null
cp "$T/kidnarrow.vhd" "$T/kidnarrow.orig"
is "$(status vk check "$T/kidnarrow.vhd")" 1 "kidnarrow: check reports the layout"
grep -q "error: .*cannot be known whether they come from the parent" "$T/out" && ok "kidnarrow: check says why" \
    || not_ok "kidnarrow: check says why"
is "$(status vk repair "$T/kidnarrow.vhd")" 1 "kidnarrow: repair leaves it (exit 1: a problem is left)"
cmp -s "$T/kidnarrow.vhd" "$T/kidnarrow.orig" && ok "kidnarrow: repair wrote nothing" || not_ok "kidnarrow: changed"
# blktap's own layout (a gap before each standard bitmap so the data is page aligned) is valid: nothing to do
layout_tool blktap "$T/lg.vhd" "$T/blktap.vhd" >/dev/null
cp "$T/blktap.vhd" "$T/blktap.orig"
is "$(status vk check "$T/blktap.vhd")" 0 "blktap layout: check is clean"
check "blktap layout: repair" vk repair "$T/blktap.vhd"
cmp -s "$T/blktap.vhd" "$T/blktap.orig" && ok "blktap layout: repair changed nothing" || not_ok "blktap layout: changed"
is "$("$VHDI_CAT" "$T/blktap.vhd" | sum /dev/stdin)" "$w2" "blktap layout: libvhdi reads the same view"
# Hyper-V's layout: blocks and footer 2 MiB + 4096 apart, the slack after each block zero: valid, nothing to do
layout_tool hyperv "$T/lg.vhd" "$T/hyperv.vhd" >/dev/null
cp "$T/hyperv.vhd" "$T/hyperv.orig"
is "$(status vk check "$T/hyperv.vhd")" 0 "Hyper-V layout: check is clean"
check "Hyper-V layout: repair" vk repair "$T/hyperv.vhd"
cmp -s "$T/hyperv.vhd" "$T/hyperv.orig" && ok "Hyper-V layout: repair changed nothing" || not_ok "Hyper-V layout: changed"
is "$("$VHDI_CAT" "$T/hyperv.vhd" | sum /dev/stdin)" "$w2" "Hyper-V layout: libvhdi reads the same view"
# ... and its block size field changed: the blocks still fit 2 MiB blocks with Hyper-V's 4 KiB alignment slack
layout_tool hyperv "$T/lg.vhd" "$T/hvbs.vhd" >/dev/null; layout_tool blocksize "$T/hvbs.vhd" 524288
laid hvbs "$w2" 0x220 "block size 524288 does not match the blocks"
# both at once: 4096-byte bitmaps and the block size field changed; one repair sets the field back and re-lays them
layout_tool relayout "$T/lg.vhd" "$T/both.vhd" 4096 >/dev/null; layout_tool blocksize "$T/both.vhd" 524288
vk check "$T/both.vhd" >"$T/both.txt"
grep -q "error: .*laid out with 4096-byte sector bitmaps" "$T/both.txt" && ok "both: check reports the bitmaps too" \
    || not_ok "both: check reports the bitmaps too"
laid both "$w2" 0x220 "block size 524288 does not match the blocks"

# crash at every write point of a relayout (4096-byte bitmaps): after the stop the image opens and holds what it held
# (the new layout is built beside it), a rerun of repair gives the pre-damage view and a clean check
layout_tool relayout "$T/lg.vhd" "$T/cw.orig" 4096 >/dev/null
cp "$T/cw.orig" "$T/cw.vhd"
n=$(VHDKIT_TEST_FAULT=count "$VHDKIT" repair "$T/cw.vhd" 2>&1 >/dev/null | sed -n 's/vhdkit-test-writes: //p')
[ "${n:-0}" -gt 3 ] && ok "relayout has $n write points" || not_ok "relayout has write points (${n:-0})"
bad=0
i=0
while [ "$i" -lt "${n:-0}" ]; do
    for mode in stop torn; do
        [ "$mode" = torn ] && [ $((i % 3)) -ne 0 ] && continue # torn writes: a sample
        cp "$T/cw.orig" "$T/cw.vhd"
        VHDKIT_TEST_FAULT=$mode:$i "$VHDKIT" repair "$T/cw.vhd" >/dev/null 2>&1
        vk read "$T/cw.vhd" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "# $mode:$i: the image does not open"; }
        cmp -s "$T/cw.vhd" "$T/cw.orig" || [ "$(vk read "$T/cw.vhd" | sum /dev/stdin)" = "$w2" ] ||
            { bad=$((bad + 1)); echo "# $mode:$i: neither untouched nor repaired"; }
        vk repair "$T/cw.vhd" >/dev/null 2>&1
        [ "$(vk read "$T/cw.vhd" | sum /dev/stdin)" = "$w2" ] && [ "$(status vk check "$T/cw.vhd")" = 0 ] &&
            [ ! -e "$T/cw.vhd.vhdkit-repair" ] || { bad=$((bad + 1)); echo "# $mode:$i then repair: not intact"; }
    done
    i=$((i + 1))
done
is "$bad" 0 "relayout: a stop (or torn write) at every write point leaves the image openable, then a rerun repairs it"

# crash at every write point of a block size fix (one header write): the image is untouched or fixed, a rerun fixes it
cp "$T/lg.vhd" "$T/cb.orig"; layout_tool blocksize "$T/cb.orig" 4194304
cp "$T/cb.orig" "$T/cb.vhd"
n=$(VHDKIT_TEST_FAULT=count "$VHDKIT" repair "$T/cb.vhd" 2>&1 >/dev/null | sed -n 's/vhdkit-test-writes: //p')
[ "${n:-0}" -ge 1 ] && ok "block size fix has $n write points" || not_ok "block size fix has write points"
bad=0
i=0
while [ "$i" -lt "${n:-0}" ]; do
    for mode in stop torn; do
        cp "$T/cb.orig" "$T/cb.vhd"
        VHDKIT_TEST_FAULT=$mode:$i "$VHDKIT" repair "$T/cb.vhd" >/dev/null 2>&1
        cmp -s "$T/cb.vhd" "$T/cb.orig" || [ "$(vk read "$T/cb.vhd" | sum /dev/stdin)" = "$w2" ] ||
            { bad=$((bad + 1)); echo "# $mode:$i: neither untouched nor fixed"; }
        vk repair "$T/cb.vhd" >/dev/null 2>&1
        [ "$(vk read "$T/cb.vhd" | sum /dev/stdin)" = "$w2" ] && [ "$(status vk check "$T/cb.vhd")" = 0 ] ||
            { bad=$((bad + 1)); echo "# $mode:$i then repair: not intact"; }
    done
    i=$((i + 1))
done
is "$bad" 0 "block size fix: a stop or torn write at every write point, then a rerun, leaves the data intact"

# Space no BAT entry references (a block written but never linked: what a write stopped before its BAT entry
# leaves): check notes it with its size and offset (exit 0: nothing is lost), compact gives it back.
cp "$T/good.vhd" "$T/leak.vhd"
pattern "$T/p2" 1000000
vk write "$T/leak.vhd" --offset 4M <"$T/p2"
b1off=$(($(od -An -tu1 -j$((bat + 4)) -N4 "$T/leak.vhd" | awk '{print (($1 * 256 + $2) * 256 + $3) * 256 + $4}') * 512))
poke "$T/leak.vhd" $((bat + 4)) ffffffff
is "$(status vk check "$T/leak.vhd")" 0 "leaked block: check exits 0 (a note, no data at risk)"
grep -q "note: 2097664 bytes in 1 piece(s) .*referenced by no BAT entry.* (offset $(printf '0x%x' "$b1off"))" "$T/out" &&
    ok "leaked block: check notes its size and offset" || { not_ok "leaked block: check notes it"; sed 's/^/#   /' "$T/out"; }
is "$(status vk check "$T/good.vhd")" 0 "no leak: check exits 0"
grep -q "referenced by no BAT entry" "$T/out" && not_ok "no leak: no such note" || ok "no leak: no such note"
size_before=$(stat -c %s "$T/leak.vhd")
vk compact "$T/leak.vhd" >/dev/null
is "$(( size_before - $(stat -c %s "$T/leak.vhd") ))" 2097664 "leaked block: compact gives its bytes back"
is "$(blk "$T/leak.vhd" 0):$(blk "$T/leak.vhd" 4M)" "$s0:$(sum "$T/p2")" "leaked block: the linked blocks read as before"
vk check "$T/leak.vhd" | grep -q "referenced by no BAT entry" && not_ok "after compact: no leak noted" ||
    ok "after compact: no leak noted"
