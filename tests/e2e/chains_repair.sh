#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# repair: each kind of damage check knows (footer, copy, checksums, BAT past EOF and shared, stray locators, lost
# parent) is found by check, fixed by repair with reachable data intact, then check is clean and a second repair
# finds nothing; the Windows-made child from the corpus gets its parent back through --search; crash stops.
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
is "$(status vk check "$T/kid/df.vhd")" 1 "corpus child: check reports the missing parent"
check "corpus child: repair --search attaches the parent" vk repair "$T/kid/df.vhd" --search "$T/store"
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
