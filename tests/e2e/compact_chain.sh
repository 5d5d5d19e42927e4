#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit compact on vk-gen differencing chains: sectors a child rewrote with the parent's bytes are given back; the
# child keeps every file (vhdkit cat of what tree lists and the manifest, icat on a raw export) in place and with -o;
# check clean; libvhdi reads the chain as vhdkit does; a parent is refused with exit 4 and a message naming its child; in a
# 3-level chain the middle image is refused and the top compacts.
. "$(dirname "$0")/compact_lib.sh"

jget() { json_get "$@"; }

check "vk-gen chain (GPT, half the files deleted)" gen "$T/c.vhd" --format chain --layout gpt --size 160M \
    --files 30 --fill-mb 80 --deleted 0.5 --seed 21
start=$(ntfs_start "$T/c.vhd")
# The child rewrites 4 MiB of a large file the chain does not change with the bytes the parent holds.
big=$(awk '$1 == "f" && $4 ~ /^Users\// { p = $4; for (i = 5; i <= NF; i++) p = p " " $i; print $3, p }' \
    "$T/c.vhd.man" | sort -n | tail -n 1 | cut -d' ' -f2-)
lba=$(vk stat --json "$T/c.vhd" "$big" | jq '[.attributes[] | select(.runs) | .runs[] | select(.sectors >= 8192)][0].lba')
[ "$lba" != null ] && ok "chain: $big has a 4 MiB run at sector $lba" || not_ok "chain: no 4 MiB run in $big"
vk read "$T/c-0.vhd" --offset $((lba * 512)) --length 4M >"$T/same"
vk write "$T/c.vhd" --offset $((lba * 512)) <"$T/same"
man_hashes "$T/c.vhd.man" >"$T/want"
man_files "$T/c.vhd.man" >"$T/want_files"
is "$(cat_hashes "$T/c.vhd" "$T/c.vhd.man")" "$(cat "$T/want")" "chain: the child reads the manifest's files"
vk read "$T/c.vhd" | sha256sum | cut -d' ' -f1 >"$T/view"

vk compact --dry-run --json "$T/c.vhd" >"$T/cd.json"
pb=$(jget "$T/cd.json" freed.parent.bytes)
[ "$pb" -ge 4194304 ] && ok "chain: dry run finds the sectors equal to the parent ($pb bytes)" ||
    not_ok "chain: equal-to-parent bytes $pb"
sum "$T/c-0.vhd" >"$T/p.sum"
is "$(status vk compact "$T/c-0.vhd")" 4 "chain: the parent of c.vhd is refused (exit 4)"
grep -q "c.vhd names this image as its parent" "$T/err" && ok "chain: the refusal names the child" ||
    not_ok "chain: refusal message: $(cat "$T/err")"
grep -q -- "-o to a new file, merge the child first, or pass --force-parent" "$T/err" &&
    ok "chain: the refusal says what to do" || not_ok "chain: refusal remedy"
is "$(status vk compact --dry-run "$T/c-0.vhd")" 0 "chain: a dry run of the parent is allowed"
is "$(sum "$T/c-0.vhd")" "$(cat "$T/p.sum")" "chain: the parent is untouched"

is "$(status vk compact -o "$T/c2.vhd" "$T/c.vhd")" 0 "chain: compact -o of the child"
vk read "$T/c2.vhd" | sha256sum | cut -d' ' -f1 >"$T/oview"
is "$(raw_hashes "$T/c2.vhd" "$start")" "$(cat "$T/want_files")" "chain: -o: every file identical (icat)"
is "$(status vk check "$T/c2.vhd")" 0 "chain: -o: check clean"
rm -f "$T/c2.vhd"
# Free clusters the child stored now read through to the parent: the view changes there, never in a file.
vk compact --json "$T/c.vhd" >"$T/c.json"
is "$?" 0 "chain: compact the child in place"
[ "$(jget "$T/c.json" blocks_after)" -lt "$(jget "$T/c.json" blocks_before)" ] &&
    ok "chain: the child gave back blocks ($(jget "$T/c.json" blocks_before) -> $(jget "$T/c.json" blocks_after))" ||
    not_ok "chain: blocks $(jget "$T/c.json" blocks_before) -> $(jget "$T/c.json" blocks_after)"
is "$(cat_hashes "$T/c.vhd" "$T/c.vhd.man")" "$(cat "$T/want")" "chain: in place: every file identical (vhdkit cat)"
is "$(raw_hashes "$T/c.vhd" "$start")" "$(cat "$T/want_files")" "chain: in place: every file identical (icat)"
is "$(status vk check "$T/c.vhd")" 0 "chain: in place: check clean"
vk read "$T/c.vhd" | sha256sum | cut -d' ' -f1 >"$T/view"
is "$(cat "$T/view")" "$(cat "$T/oview")" "chain: in place and -o give the same view"
is "$("$VHDI_CAT" "$T/c.vhd" "$T/c-0.vhd" | sha256sum | cut -d' ' -f1)" "$(cat "$T/view")" \
    "chain: libvhdi reads the chain as vhdkit does"
rm -f "$T/c.vhd" "$T/c-0.vhd" "$T/same"

# Three levels: base <- middle <- top. The middle is a parent: refused; the top compacts and keeps its files.
check "vk-gen 3-level chain" gen "$T/t.vhd" --format chain --chain-depth 3 --size 128M --files 20 --deleted 0.5 \
    --seed 22
sum "$T/t-1.vhd" >"$T/m.sum"
is "$(status vk compact "$T/t-1.vhd")" 4 "3 levels: the middle image is refused (exit 4)"
grep -q "t.vhd names this image as its parent" "$T/err" && ok "3 levels: the refusal names the top" ||
    not_ok "3 levels: refusal message: $(cat "$T/err")"
is "$(sum "$T/t-1.vhd")" "$(cat "$T/m.sum")" "3 levels: the middle is untouched"
is "$(status vk compact "$T/t-0.vhd")" 4 "3 levels: the base is refused (exit 4)"
is "$(status vk compact "$T/t.vhd")" 0 "3 levels: the top compacts"
vk read "$T/t.vhd" | sha256sum | cut -d' ' -f1 >"$T/view"
is "$(cat_hashes "$T/t.vhd" "$T/t.vhd.man")" "$(man_hashes "$T/t.vhd.man")" "3 levels: every file identical"
is "$(status vk check "$T/t.vhd")" 0 "3 levels: check clean"
is "$("$VHDI_CAT" "$T/t.vhd" "$T/t-1.vhd" "$T/t-0.vhd" | sha256sum | cut -d' ' -f1)" "$(cat "$T/view")" \
    "3 levels: libvhdi reads the chain as vhdkit does"
