#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Chains: merge equals the flattened chain (vhdkit raw export and libvhdi), sibling refusal, reparent after a move
# (vhdkit and libvhdi open the chain again), UUID refusal; crash at sampled write points keeps the view intact.
. "$(dirname "$0")/lib.sh"

# chain DIR: base <- mid <- top, 32M, patterns at unaligned offsets through every level
chain() {
    mkdir -p "$1"
    vk create "$1/base.vhd" 32M >/dev/null
    pattern "$T/pa" 3000000; pattern "$T/pb" 700000; pattern "$T/pc" 90000
    vk write "$1/base.vhd" --offset 0 <"$T/pa"
    vk snapshot "$1/base.vhd" "$1/mid.vhd" >/dev/null
    vk write "$1/mid.vhd" --offset 1000001 <"$T/pb"
    vk write "$1/mid.vhd" --offset 20M <"$T/pb"
    vk snapshot "$1/mid.vhd" "$1/top.vhd" >/dev/null
    vk write "$1/top.vhd" --offset 1500007 <"$T/pc"
    vk write "$1/top.vhd" --offset 31M <"$T/pc"
    head -c 4096 /dev/zero | vk write "$1/top.vhd" --offset 8192
}
raw() { rm -f "$T/raw.out"; vk convert --type raw "$1" "$T/raw.out" >/dev/null && sum "$T/raw.out"; }

# merge top into mid: mid's view equals the chain's before; top is gone
chain "$T/m1"
want=$(raw "$T/m1/top.vhd")
check "merge top into mid" vk merge "$T/m1/top.vhd"
is "$(raw "$T/m1/mid.vhd")" "$want" "merge: mid now reads what top read (raw export)"
is "$("$VHDI_CAT" "$T/m1/mid.vhd" "$T/m1/base.vhd" | sum /dev/stdin)" "$want" "merge: libvhdi reads the same"
[ ! -e "$T/m1/top.vhd" ] && ok "merge: the merged child is deleted" || not_ok "merge: the merged child is deleted"
is "$(status vk check "$T/m1/mid.vhd")" 0 "merge: check is clean"

# merge two levels into the base
chain "$T/m2"
want=$(raw "$T/m2/top.vhd")
check "merge --into base (two levels)" vk merge "$T/m2/top.vhd" --into "$T/m2/base.vhd"
is "$(raw "$T/m2/base.vhd")" "$want" "merge --into: base reads what top read"
is "$("$VHDI_CAT" "$T/m2/base.vhd" | sum /dev/stdin)" "$want" "merge --into: libvhdi reads the same"
[ ! -e "$T/m2/mid.vhd" ] && ok "merge --into: the image between is deleted" || not_ok "merge --into: mid deleted"

# siblings: refused without the flag, naming the sibling; --keep keeps the child valid
chain "$T/m3"
vk snapshot "$T/m3/mid.vhd" "$T/m3/other.vhd" >/dev/null
is "$(status vk merge "$T/m3/top.vhd")" 4 "merge with a sibling: refused (exit 4)"
grep -q other.vhd "$T/err" && ok "refusal names the sibling" || not_ok "refusal names the sibling"
want=$(raw "$T/m3/top.vhd")
check "merge --force-siblings --keep" vk merge "$T/m3/top.vhd" --force-siblings --keep
is "$(raw "$T/m3/mid.vhd")" "$want" "forced merge: mid reads what top read"
is "$(raw "$T/m3/top.vhd")" "$want" "--keep: the kept child still reads the same"

# crash at every write point of merge (stopped, and torn: the last write half done), with the default write batches
# and with one batch per block (VHDKIT_TEST_BATCH_BYTES=1: a commit after each): the child's view stays intact, and a
# rerun completes.
# The chain's absolute locators name $T/m4, so each run restores a pristine copy there.
chain "$T/m4"
want=$(raw "$T/m4/top.vhd")
cp -r "$T/m4" "$T/m4.orig"
restore() { rm -rf "$T/m4"; cp -r "$T/m4.orig" "$T/m4"; }
for batch in "" 1; do
    # "": 64 MiB batches (one commit here); 1: every block a batch of its own (a commit after each)
    export VHDKIT_TEST_BATCH_BYTES=$batch
    restore
    n=$(VHDKIT_TEST_FAULT=count "$VHDKIT" merge "$T/m4/top.vhd" 2>&1 >/dev/null | sed -n 's/vhdkit-test-writes: //p')
    [ "${n:-0}" -gt 0 ] && ok "merge (batch '$batch') has $n write points" || not_ok "merge has write points"
    for mode in stop torn; do
        bad=0
        i=0
        while [ "$i" -lt "${n:-0}" ]; do
            restore
            VHDKIT_TEST_FAULT=$mode:$i "$VHDKIT" merge "$T/m4/top.vhd" >/dev/null 2>&1
            [ "$(raw "$T/m4/top.vhd")" = "$want" ] || { bad=$((bad + 1)); echo "# merge $mode:$i changed the view"; }
            i=$((i + 1))
        done
        is "$bad" 0 "merge (batch '$batch'): a $mode at each of the $n write points leaves the child's view intact"
    done
done
restore
VHDKIT_TEST_FAULT=stop:$((n / 2)) "$VHDKIT" merge "$T/m4/top.vhd" >/dev/null 2>&1
vk merge "$T/m4/top.vhd" >/dev/null 2>&1
is "$(raw "$T/m4/mid.vhd")" "$want" "merge after a crash: a rerun completes"
unset VHDKIT_TEST_BATCH_BYTES

# reparent after moving the parent; libvhdi and vhdkit open the chain again
chain "$T/r1"
want=$(raw "$T/r1/top.vhd")
mkdir "$T/r1/moved"
mv "$T/r1/mid.vhd" "$T/r1/moved/middle.vhd"
is "$(status vk read "$T/r1/top.vhd")" 3 "moved parent: the chain does not open"
check "reparent onto the moved parent" vk reparent "$T/r1/top.vhd" "$T/r1/moved/middle.vhd"
is "$(raw "$T/r1/top.vhd")" "$want" "reparent: vhdkit reads the chain again"
is "$("$VHDI_CAT" "$T/r1/top.vhd" "$T/r1/moved/middle.vhd" "$T/r1/base.vhd" | sum /dev/stdin)" "$want" \
    "reparent: libvhdi reads the chain again"
vk info --json "$T/r1/top.vhd" >"$T/i.json"
grep -q "moved/middle.vhd" "$T/i.json" && ok "reparent: info shows the new parent path" || not_ok "info shows new path"
is "$(status vk check "$T/r1/top.vhd")" 0 "reparent: check is clean"
# a long path that does not fit the old locator space moves the locator data
long="$T/r1/$(printf "%0150d" 1)/$(printf "%0150d" 2)/$(printf "%0150d" 3)"
mkdir -p "$long"
mv "$T/r1/moved/middle.vhd" "$long/middle.vhd"
vk reparent --json "$T/r1/top.vhd" "$long/middle.vhd" >"$T/rp.json"
[ "$(json_get "$T/rp.json" locators_moved)" -ge 1 ] && ok "long path: locator data moved" || not_ok "locators moved"
is "$(raw "$T/r1/top.vhd")" "$want" "long path: the chain reads the same"
is "$(status vk check "$T/r1/top.vhd")" 0 "long path: check is clean"

# UUID mismatch: refused unless --force
chain "$T/r2"
vk create "$T/r2/stranger.vhd" 32M >/dev/null
is "$(status vk reparent "$T/r2/top.vhd" "$T/r2/stranger.vhd")" 4 "reparent to another UUID: refused (exit 4)"
grep -q "UUID" "$T/err" && ok "refusal explains the UUID" || not_ok "refusal explains the UUID"
is "$(status vk reparent --force "$T/r2/top.vhd" "$T/r2/stranger.vhd")" 0 "reparent --force accepts it"
is "$(status vk reparent "$T/r2/top.vhd" "$T/r2/top.vhd")" 2 "reparent onto itself: usage error"

# crash at every write point of reparent: the chain opens on the old or the new parent
chain "$T/r3"
want=$(raw "$T/r3/top.vhd")
cp "$T/r3/mid.vhd" "$T/r3/copy.vhd"
n=$(cp "$T/r3/top.vhd" "$T/r3/cnt.vhd"; VHDKIT_TEST_FAULT=count "$VHDKIT" reparent "$T/r3/cnt.vhd" "$T/r3/copy.vhd" 2>&1 \
    >/dev/null | sed -n 's/vhdkit-test-writes: //p')
[ "${n:-0}" -gt 0 ] && ok "reparent has $n write points" || not_ok "reparent has write points"
bad=0
i=0
while [ "$i" -lt "${n:-0}" ]; do
    cp "$T/r3/top.vhd" "$T/r3/s.vhd"
    VHDKIT_TEST_FAULT=stop:$i "$VHDKIT" reparent "$T/r3/s.vhd" "$T/r3/copy.vhd" >/dev/null 2>&1
    [ "$(raw "$T/r3/s.vhd")" = "$want" ] || { bad=$((bad + 1)); echo "# reparent stop:$i broke the chain"; }
    i=$((i + 1))
done
is "$bad" 0 "reparent: a stop at every write point leaves a chain that reads the same"

# rebase onto an unrelated parent and onto an updated copy of the base: the raw view stays byte for byte
chain "$T/b1"
want=$(raw "$T/b1/top.vhd")
vk create "$T/b1/other.vhd" 32M >/dev/null
pattern "$T/po" 5000000
vk write "$T/b1/other.vhd" --offset 123456 <"$T/po"
check "rebase onto an unrelated parent" vk rebase "$T/b1/top.vhd" "$T/b1/other.vhd"
is "$(raw "$T/b1/top.vhd")" "$want" "rebase (unrelated): vhdkit raw view unchanged"
is "$("$VHDI_CAT" "$T/b1/top.vhd" "$T/b1/other.vhd" | sum /dev/stdin)" "$want" "rebase (unrelated): libvhdi reads the same"
is "$(status vk check "$T/b1/top.vhd")" 0 "rebase (unrelated): check is clean"

chain "$T/b2"
want=$(raw "$T/b2/top.vhd")
vk convert "$T/b2/mid.vhd" "$T/b2/newbase.vhd" >/dev/null
pattern "$T/pu" 4096
vk write "$T/b2/newbase.vhd" --offset 30M <"$T/pu"
vk rebase --json "$T/b2/top.vhd" "$T/b2/newbase.vhd" >"$T/rb.json"
is "$?" 0 "rebase onto an updated copy of the flattened parent"
is "$(raw "$T/b2/top.vhd")" "$want" "rebase (updated copy): raw view unchanged"
is "$("$VHDI_CAT" "$T/b2/top.vhd" "$T/b2/newbase.vhd" | sum /dev/stdin)" "$want" "rebase (updated copy): libvhdi agrees"
[ "$(json_get "$T/rb.json" bytes_copied)" -le 8192 ] && ok "rebase (updated copy): only the changed unit copied" \
    || not_ok "rebase copied $(json_get "$T/rb.json" bytes_copied) bytes"
vk convert "$T/b2/top.vhd" "$T/b2/flat.vhd" >/dev/null
vk rebase --json "$T/b2/top.vhd" "$T/b2/flat.vhd" >"$T/rb.json"
is "$(json_get "$T/rb.json" bytes_copied)" 0 "rebase onto its own flattened copy: nothing to copy"
[ "$(json_get "$T/rb.json" bytes_dropped)" -ge 180000 ] && ok "rebase onto its flattened copy: held sectors dropped" \
    || not_ok "rebase dropped $(json_get "$T/rb.json" bytes_dropped) bytes"
is "$(raw "$T/b2/top.vhd")" "$want" "rebase onto its flattened copy: raw view unchanged"

# crash at every write point of rebase, with the default write batches and one batch per block: the child reads the
# same whichever parent it names. Stops at every write; torn writes (half done) at every write but the parent switch:
# the switch is one 1024-byte header write, and a torn header fails its checksum (a limit of the format, not of the
# batch: the header has no second copy; chain_edit.c and vhdkit-reparent(1) say so). It is the last write of a run
# with --no-drop, whose writes before it are the same.
chain "$T/b3"
want=$(raw "$T/b3/top.vhd")
vk create "$T/b3/other.vhd" 32M >/dev/null
vk write "$T/b3/other.vhd" --offset 1000000 <"$T/po"
cp "$T/b3/top.vhd" "$T/b3/top.orig"
for batch in "" 1; do
    export VHDKIT_TEST_BATCH_BYTES=$batch
    cp "$T/b3/top.orig" "$T/b3/top.vhd"
    n=$(VHDKIT_TEST_FAULT=count "$VHDKIT" rebase "$T/b3/top.vhd" "$T/b3/other.vhd" 2>&1 >/dev/null |
        sed -n 's/vhdkit-test-writes: //p')
    cp "$T/b3/top.orig" "$T/b3/top.vhd"
    nd=$(VHDKIT_TEST_FAULT=count "$VHDKIT" rebase --no-drop "$T/b3/top.vhd" "$T/b3/other.vhd" 2>&1 >/dev/null |
        sed -n 's/vhdkit-test-writes: //p')
    hdr=$((${nd:-0} - 1))
    [ "${n:-0}" -gt 0 ] && [ "$hdr" -gt 0 ] && ok "rebase (batch '$batch') has $n write points, the switch is write $hdr" ||
        not_ok "rebase has write points ($n, --no-drop $nd)"
    for mode in stop torn; do
        bad=0
        i=0
        while [ "$i" -lt "${n:-0}" ]; do
            if [ "$mode" = stop ] || [ "$i" -ne "$hdr" ]; then
                cp "$T/b3/top.orig" "$T/b3/top.vhd"
                VHDKIT_TEST_FAULT=$mode:$i "$VHDKIT" rebase "$T/b3/top.vhd" "$T/b3/other.vhd" >/dev/null 2>&1
                [ "$(raw "$T/b3/top.vhd")" = "$want" ] || { bad=$((bad + 1)); echo "# rebase $mode:$i changed the view"; }
            fi
            i=$((i + 1))
        done
        is "$bad" 0 "rebase (batch '$batch'): a $mode at each of the $n write points$([ "$mode" = torn ] &&
            echo " but the header") leaves the view intact"
    done
done
cp "$T/b3/top.orig" "$T/b3/top.vhd"
VHDKIT_TEST_FAULT=stop:$((n / 2)) "$VHDKIT" rebase "$T/b3/top.vhd" "$T/b3/other.vhd" >/dev/null 2>&1
vk rebase "$T/b3/top.vhd" "$T/b3/other.vhd" >/dev/null 2>&1
is "$(raw "$T/b3/top.vhd")" "$want" "rebase after a crash: a rerun completes"
is "$("$VHDI_CAT" "$T/b3/top.vhd" "$T/b3/other.vhd" | sum /dev/stdin)" "$want" "rebase after a crash: libvhdi agrees"
unset VHDKIT_TEST_BATCH_BYTES
