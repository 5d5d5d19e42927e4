#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Safety: a held lock is exit 4; hostile files are exit 3 naming the file and an offset and stay unchanged; check
# exit codes; a 3-deep chain written through `vhdkit write` reads the same in libvhdi; a crash at every write point
# of `vhdkit write` leaves an image that passes check and reads old or new content.
. "$(dirname "$0")/lib.sh"

# lock held by another process
vk create "$T/l.vhd" 8M >/dev/null
flock "$T/l.vhd" sleep 5 &
lockpid=$!
sleep 1
printf x | vk write "$T/l.vhd" --offset 0 2>"$T/err"
is "$?" 4 "write while another process holds the lock: exit 4"
grep -q "$T/l.vhd" "$T/err" && ok "lock refusal names the file" || not_ok "lock refusal names the file"
is "$(status vk info "$T/l.vhd")" 4 "info while an exclusive lock is held: exit 4"
kill "$lockpid" 2>/dev/null
wait "$lockpid" 2>/dev/null

# hostile inputs: exit 3, file and offset named, bytes unchanged
vk create "$T/good.vhd" 16M >/dev/null
printf 'hello' | vk write "$T/good.vhd" --offset 1M
poke() { # FILE OFFSET HEXBYTES
    # dash's printf has no \x escapes: each hex pair becomes an octal escape
    hex=$3 bytes=""
    while [ -n "$hex" ]; do
        bytes="$bytes$(printf '\\%03o' "0x${hex%"${hex#??}"}")"
        hex=${hex#??}
    done
    printf "$bytes" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
fsize=$(stat -c %s "$T/good.vhd")
bad() { # NAME (then edit $T/NAME.vhd), then expect exit 3 from read
    is "$(status vk read "$T/$1.vhd")" 3 "$1: read exits 3"
    grep -q "^vhdkit: $T/$1.vhd: .*offset 0x" "$T/err" && ok "$1: error names the file and an offset" \
        || { not_ok "$1: error names the file and an offset"; sed 's/^/#   /' "$T/err"; }
    before=$(sum "$T/$1.vhd")
    vk info "$T/$1.vhd" >/dev/null 2>&1
    vk check "$T/$1.vhd" >/dev/null 2>&1
    is "$(sum "$T/$1.vhd")" "$before" "$1: file unchanged by read, info and check"
}
cp "$T/good.vhd" "$T/truncated.vhd"; truncate -s 100000 "$T/truncated.vhd"; bad truncated
head -c 512 "$T/good.vhd" >"$T/footeronly.vhd"; bad footeronly
# Without a "conectix" cookie anywhere the file is no VHD: read takes it as raw, check and dump refuse it.
cp "$T/good.vhd" "$T/cookie.vhd"; poke "$T/cookie.vhd" 0 58585858; poke "$T/cookie.vhd" $((fsize - 512)) 58585858
is "$(status vk dump "$T/cookie.vhd")" 3 "wrong cookie: dump exits 3"
grep -q "^vhdkit: $T/cookie.vhd: .*offset 0x" "$T/err" && ok "wrong cookie: error names the file and an offset" \
    || not_ok "wrong cookie: error names the file and an offset"
hdr=512
bat=$((hdr + 1024))
cp "$T/good.vhd" "$T/batpasteof.vhd"; poke "$T/batpasteof.vhd" $bat 00ffff00; bad batpasteof
cp "$T/good.vhd" "$T/blocksize.vhd"; poke "$T/blocksize.vhd" $((hdr + 32)) 00300000; bad blocksize
cp "$T/good.vhd" "$T/absurd.vhd"; poke "$T/absurd.vhd" $((hdr + 28)) 7fffffff; bad absurd

is "$(status vk check "$T/good.vhd")" 0 "check on a good image: exit 0"
cp "$T/good.vhd" "$T/sum.vhd"; poke "$T/sum.vhd" $((fsize - 512 + 64)) 00000000
is "$(status vk check "$T/sum.vhd")" 1 "check on a bad footer checksum: exit 1"
grep -q "footer checksum" "$T/out" && ok "check names the footer checksum" || not_ok "check names the footer checksum"
is "$(status vk check "$T/cookie.vhd")" 3 "check on a file that is no VHD: exit 3"

# 3-deep chain written with patterns; libvhdi reads the same as vhdkit and as the expected bytes
vk create "$T/base.vhd" 32M >/dev/null
# 4 KiB-aligned writes: libvhdi 20210425 reads a bitmap byte's unset sectors from the child when any of its 8
# sectors is set (Hyper-V always writes 4 KiB), so sub-4 KiB writes are compared with vhdkit's own reads only.
pattern "$T/a" 1048576; pattern "$T/b" 8192; pattern "$T/c" 4096; pattern "$T/d" 700
vk write "$T/base.vhd" --offset 0 <"$T/a"
vk snapshot "$T/base.vhd" "$T/mid.vhd" >/dev/null
vk write "$T/mid.vhd" --offset 4096 <"$T/b"
vk snapshot "$T/mid.vhd" "$T/top.vhd" >/dev/null
vk write "$T/top.vhd" --offset 3M <"$T/c"
truncate -s 32M "$T/want.raw"
dd if="$T/a" of="$T/want.raw" conv=notrunc status=none
dd if="$T/b" of="$T/want.raw" bs=4096 seek=1 conv=notrunc status=none
dd if="$T/c" of="$T/want.raw" bs=1M seek=3 conv=notrunc status=none
is "$(vk read "$T/top.vhd" | sum /dev/stdin)" "$(sum "$T/want.raw")" "3-deep chain: vhdkit reads the written bytes"
is "$("$VHDI_CAT" "$T/top.vhd" "$T/mid.vhd" "$T/base.vhd" | sum /dev/stdin)" "$(sum "$T/want.raw")" \
    "3-deep chain: libvhdi reads the same bytes"
is "$(status vk check "$T/top.vhd")" 0 "3-deep chain passes check"
vk info --json "$T/top.vhd" >"$T/i.json"
is "$(grep -c '"uuid_match": true' "$T/i.json")" 2 "info shows two links with matching UUIDs"
cp "$T/top.vhd" "$T/odd.vhd"
vk write "$T/odd.vhd" --offset 20481 <"$T/d"
dd if="$T/d" of="$T/want-odd.raw" status=none
vk read "$T/odd.vhd" >"$T/odd.raw"
cp "$T/want.raw" "$T/w2.raw"; dd if="$T/d" of="$T/w2.raw" bs=1 seek=20481 conv=notrunc status=none
is "$(sum "$T/odd.raw")" "$(sum "$T/w2.raw")" "unaligned write into a child keeps the parent's bytes around it"

# crash at every write point of `vhdkit write`
cp "$T/top.vhd" "$T/crash0.vhd"
pattern "$T/new" 9000
n=$(cp "$T/top.vhd" "$T/cnt.vhd"; VHDKIT_TEST_FAULT=count "$VHDKIT" write "$T/cnt.vhd" --offset 6M <"$T/new" 2>&1 \
    | sed -n 's/vhdkit-test-writes: //p')
[ "${n:-0}" -gt 0 ] && ok "write has $n write points" || not_ok "write has write points"
vk read "$T/top.vhd" --offset 6M --length 9000 >"$T/old"
# sectors where FILE differs from REF
diffsec() { cmp -l "$1" "$2" | awk '{print int(($1 - 1) / 512)}' | sort -u; }
i=0
while [ "$i" -lt "${n:-0}" ]; do
    cp "$T/top.vhd" "$T/crash.vhd"
    VHDKIT_TEST_FAULT=stop:$i "$VHDKIT" write "$T/crash.vhd" --offset 6M <"$T/new" >/dev/null 2>&1
    st=$(status vk check "$T/crash.vhd")
    vk read "$T/crash.vhd" --offset 6M --length 9000 >"$T/got"
    rest=$(vk read "$T/crash.vhd" --length 6M | sum /dev/stdin)
    # every sector holds either its old or its new bytes (no sector is torn or lost)
    both=$(diffsec "$T/got" "$T/old" >"$T/d1"; diffsec "$T/got" "$T/new" >"$T/d2"; comm -12 "$T/d1" "$T/d2" | wc -l)
    [ "$st" = 0 ] && [ "$both" = 0 ] && [ "$rest" = "$(head -c 6291456 "$T/want.raw" | sum /dev/stdin)" ] \
        && ok "crash after $i writes: check clean, each sector old or new, the rest intact" \
        || not_ok "crash after $i writes: check $st, $both sectors neither old nor new"
    i=$((i + 1))
done
