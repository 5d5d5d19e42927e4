#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile images (DESIGN.md safety rule 5): truncated, footer only, wrong cookies (a file with none is raw, see
# safety.sh), BAT past the end or overlapping, bad block sizes, absurd sizes, locators past the data, a chain that
# loops, a corrupt parent, and the inputs the fuzzers kept (fuzz/regress/fuzz_open). `info`, `check`, `dump` and `ls` never crash, refuse with exit 3 (check:
# 1 when it could report the problems) and a message naming the file and an offset, and never change a byte.
. "$(dirname "$0")/lib.sh"

# poke FILE OFFSET HEXBYTES (octal escapes: dash's printf has no \x)
poke() {
    for b in $(echo "$3" | sed 's/../& /g'); do printf "\\$(printf %03o "0x$b")"; done |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# csum FILE OFFSET LEN FIELD: rewrite the VHD checksum (ones' complement of the byte sum) of the structure of LEN
# bytes at OFFSET whose checksum is at OFFSET+FIELD, so the damage behind it is what a reader meets.
csum() {
    poke "$1" $(($2 + $4)) 00000000
    poke "$1" $(($2 + $4)) "$(od -An -v -tu1 -j "$2" -N "$3" "$1" |
        awk '{ for (i = 1; i <= NF; i++) s += $i } END { printf "%08x", 4294967295 - s }')"
}
footer_csum() { csum "$1" $(($(stat -c %s "$1") - 512)) 512 64; }
header_csum() { csum "$1" 512 1024 36; }

# expect NAME STATUS FILE CMD...: exit STATUS (a list like "1|3" allowed), no sanitizer report, no signal, and a
# message naming the file and an offset.
expect() {
    name=$1 want=$2 file=$3
    shift 3
    got=$(status vk "$@")
    case "|$want|" in
    *"|$got|"*) ok "$name: $1 exits $got" ;;
    *) not_ok "$name: $1 exits $got (want $want)"; sed 's/^/#   /' "$T/err" | head -5 ;;
    esac
    if grep -q "Sanitizer\|runtime error" "$T/err"; then
        not_ok "$name: $1 runs clean under the sanitizers"; sed 's/^/#   /' "$T/err" | head -20
    fi
    if grep -q "$file: .*offset 0x" "$T/out" "$T/err"; then
        ok "$name: $1 names the file and an offset"
    else
        not_ok "$name: $1 names the file and an offset"; sed 's/^/#   /' "$T/err" | head -5
    fi
}

# hostile NAME [INFO]: the four read-only commands on $T/NAME.vhd, then the bytes are as before. info exits 3 unless
# told otherwise (a damaged trailing footer with an intact copy is shown, as read-only commands accept it); dump
# shows the fields of a damaged image (exit 1 when a field it can judge is wrong, 0 when the damage is beyond
# single fields) or names what stops it (exit 3).
hostile() {
    f=$T/$1.vhd
    before=$(sum "$f")
    if [ "${2:-3}" = 3 ]; then expect "$1" 3 "$f" info "$f"; else is "$(status vk info "$f")" "$2" "$1: info exits $2"; fi
    expect "$1" "1|3" "$f" check "$f"
    got=$(status vk dump "$f")
    case $got in 0 | 1 | 3) ok "$1: dump exits $got" ;; *) not_ok "$1: dump exits $got" ;; esac
    grep -q "Sanitizer\|runtime error" "$T/err" && not_ok "$1: dump runs clean under the sanitizers"
    expect "$1" 3 "$f" ls "$f" /
    is "$(sum "$f")" "$before" "$1: no byte changed"
}

vk create "$T/good.vhd" 16M --block-size 1M >/dev/null
printf 'hello' | vk write "$T/good.vhd" --offset 0
printf 'world' | vk write "$T/good.vhd" --offset 5M
fsize=$(stat -c %s "$T/good.vhd")
bat=1536
new() { cp "$T/good.vhd" "$T/$1.vhd"; }

new truncated; truncate -s 3000 "$T/truncated.vhd"; hostile truncated
tail -c 512 "$T/good.vhd" >"$T/footeronly.vhd"; hostile footeronly
new cookie; poke "$T/cookie.vhd" $((fsize - 512)) 58585858; hostile cookie 0
new hdrcookie; poke "$T/hdrcookie.vhd" 512 58585858; header_csum "$T/hdrcookie.vhd"; hostile hdrcookie
new batpasteof; poke "$T/batpasteof.vhd" $bat 00ffff00; hostile batpasteof
new overlap; poke "$T/overlap.vhd" $((bat + 20)) "$(od -An -tx1 -j $bat -N 4 "$T/good.vhd" | tr -d ' ')"
hostile overlap
new blocksize; poke "$T/blocksize.vhd" $((512 + 32)) 00300000; header_csum "$T/blocksize.vhd"; hostile blocksize
new blockzero; poke "$T/blockzero.vhd" $((512 + 32)) 00000000; header_csum "$T/blockzero.vhd"; hostile blockzero
new entries; poke "$T/entries.vhd" $((512 + 28)) 7fffffff; header_csum "$T/entries.vhd"; hostile entries
new absurd; poke "$T/absurd.vhd" $((fsize - 512 + 48)) 7fffffffffffff00; footer_csum "$T/absurd.vhd"; hostile absurd
new hdroff; poke "$T/hdroff.vhd" $((fsize - 512 + 16)) 7fffffffffffff00; footer_csum "$T/hdroff.vhd"; hostile hdroff

# dump marks the fields it can judge: a wrong footer or header checksum, a BAT entry past the end of the file.
new csum; poke "$T/csum.vhd" $((fsize - 512 + 64)) 58585858
is "$(status vk dump "$T/csum.vhd")" 1 "wrong footer checksum: dump exits 1"
grep -q 'checksum .*0x58585858  <-- wrong: the bytes give 0x' "$T/out" && ok "dump marks the footer checksum line" \
    || not_ok "dump marks the footer checksum line"
grep -q "csum.vhd.*disagree" "$T/err" && ok "dump says on stderr that fields are wrong" || not_ok "dump's stderr note"
new hcsum; poke "$T/hcsum.vhd" $((512 + 36)) 58585858
vk dump "$T/hcsum.vhd" --json >"$T/h.json" 2>/dev/null
is "$(jq -r '.header[] | select(.field == "checksum") | .problem' "$T/h.json")" \
    "wrong: the bytes give 0x$(python3 -c 'import sys
b=bytearray(open(sys.argv[1],"rb").read()[512:1536]); b[36:40]=bytes(4)
print("%08x" % (~sum(b) & 0xffffffff))' "$T/hcsum.vhd")" "dump --json: the header checksum's problem gives the right sum"
is "$(status vk dump "$T/good.vhd")" 0 "a sound image: dump exits 0"
is "$(status vk dump --bat "$T/batpasteof.vhd")" 1 "BAT entry past the end: dump --bat exits 1"
grep -q "past the end of the file" "$T/out" && ok "dump --bat marks the entry" || not_ok "dump --bat marks the entry"

# A differencing child: its locators point past the end of the data.
vk snapshot "$T/good.vhd" "$T/child.vhd" >/dev/null
cp "$T/child.vhd" "$T/locator.vhd"
poke "$T/locator.vhd" $((512 + 576 + 16)) 7fffffff00000000; header_csum "$T/locator.vhd"; hostile locator
poke "$T/locator.vhd" $((512 + 576 + 24 + 8)) 0fffffff; header_csum "$T/locator.vhd"; hostile locator

# A parent that is itself corrupt: the child is named with the damage.
cp "$T/good.vhd" "$T/p.vhd"
vk snapshot "$T/p.vhd" "$T/badparent.vhd" >/dev/null
poke "$T/p.vhd" $((fsize - 512)) 58585858
poke "$T/p.vhd" 0 58585858
before=$(sum "$T/p.vhd")
expect badparent 3 "$T/p.vhd" info "$T/badparent.vhd"
expect badparent 3 "$T/p.vhd" ls "$T/badparent.vhd" /
is "$(sum "$T/p.vhd")" "$before" "badparent: the parent is not changed"

# A chain that loops: a -> b -> a (b's recorded parent UUID is a's, so only the loop check stops it).
vk create "$T/a.vhd" 8M >/dev/null
vk snapshot "$T/a.vhd" "$T/b.vhd" >/dev/null
vk snapshot "$T/b.vhd" "$T/c.vhd" >/dev/null
# c becomes a: the same UUID as a (so b's link matches), a differencing image whose parent is b.
poke "$T/c.vhd" $(($(stat -c %s "$T/c.vhd") - 512 + 68)) "$(od -An -tx1 -j $(($(stat -c %s "$T/a.vhd") - 512 + 68)) -N 16 "$T/a.vhd" | tr -d ' ')"
footer_csum "$T/c.vhd"
mv "$T/c.vhd" "$T/a.vhd"
before=$(sum "$T/a.vhd")
# info lists the chain as far as it goes (exit 0, the link shown as not found); the others stop at the loop.
for cmd in read ls check; do
    if [ $cmd = ls ]; then got=$(status timeout 60 "$VHDKIT" ls "$T/a.vhd" /); else
        got=$(status timeout 60 "$VHDKIT" $cmd "$T/a.vhd"); fi
    case "$cmd:$got" in read:3 | ls:3 | check:1) ok "loop: $cmd exits $got (no hang)" ;;
        *) not_ok "loop: $cmd exits $got (no hang)" ;; esac
    grep -q "$T/[ab].vhd: .*chain loops" "$T/out" "$T/err" && ok "loop: $cmd names the loop" \
        || { not_ok "loop: $cmd names the loop"; sed 's/^/#   /' "$T/err" | head -5; }
done
is "$(status timeout 60 "$VHDKIT" info "$T/a.vhd")" 0 "loop: info shows the chain (no hang)"
is "$(sum "$T/a.vhd")" "$before" "loop: no byte changed"

# Inputs the fuzzers kept: an even first byte means the rest is an image file.
for r in "$VHDKIT_SRCDIR"/fuzz/regress/fuzz_open/*; do
    [ -f "$r" ] || continue
    [ $(($(od -An -tu1 -N 1 "$r"))) -eq $(($(od -An -tu1 -N 1 "$r") / 2 * 2)) ] || continue
    n=fuzz-$(basename "$r")
    tail -c +2 "$r" >"$T/$n.vhd"
    hostile "$n"
done
