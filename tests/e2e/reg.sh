#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit reg on a vk-gen Windows disk: hives found, set/get/del/export/import round trips checked with hivexget on
# the hive taken out with vhdkit cat, CurrentControlSet, a 100 KB value in db cells, a dirty hive (yarp
# NewDirtyHive2 and its logs) replayed on read and written clean with its logs emptied, unusable logs refused,
# writes through a snapshot, a hibernated volume refused; damaged hives (truncated, a bad hbin signature, a cell
# larger than its bin, an ri subkey list naming itself) refused by export, get and set with exit 3, a message naming
# the image, the hive file and the offset, and no byte of the image changed.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name tests/gen/vk-gen}"
command -v hivexget >/dev/null || skip_all "hivexget (libhivex-bin) not installed"

SW='HKLM\SOFTWARE'
"$VKGEN" --out "$T/d.vhd" --size 256M --files 5 --quiet >/dev/null 2>&1
# hx FILE-IN-VOLUME KEY VALUE: the value as hivexget reads it from the hive vhdkit cat takes out of $T/d.vhd
hx() { vk cat "$T/d.vhd" "$1" >"$T/hx.hive" && hivexget "$T/hx.hive" "$2" "$3"; }
hxsw() { hx Windows/System32/config/SOFTWARE "$@"; }

# --- hives found ---
vk reg ls "$T/d.vhd" >"$T/ls" 2>&1
is "$(grep -c 'HKEY_LOCAL_MACHINE\\SYSTEM  *Windows/System32/config/SYSTEM$' "$T/ls")" 1 "reg ls lists SYSTEM with its file"
is "$(grep -c 'HKEY_USERS\\alice  *Users/alice/NTUSER.DAT$' "$T/ls")" 1 "reg ls lists alice's NTUSER.DAT"
vk reg ls "$T/d.vhd" --json >"$T/ls.json"
is "$(jq -r '.hives[] | select(.key == "HKEY_LOCAL_MACHINE\\SOFTWARE") | .file' "$T/ls.json")" \
   Windows/System32/config/SOFTWARE "reg ls --json: SOFTWARE's file"

# --- CurrentControlSet through Select\Current ---
cur=$(vk reg get "$T/d.vhd" 'HKLM\SYSTEM\Select' Current)
a=$(vk reg get "$T/d.vhd" 'HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName' ComputerName)
b=$(vk reg get "$T/d.vhd" "$(printf 'HKLM\\SYSTEM\\ControlSet%03d\\Control\\ComputerName\\ComputerName' "$cur")" ComputerName)
c=$(hx Windows/System32/config/SYSTEM "$(printf 'ControlSet%03d\\Control\\ComputerName\\ComputerName' "$cur")" ComputerName)
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]; then ok "CurrentControlSet resolves to ControlSet00$cur ($a), as hivexget reads it"; else not_ok "CurrentControlSet: '$a' '$b' '$c'"; fi
is "$(vk reg get "$T/d.vhd" 'hklm\system\currentcontrolset\control\computername\computername' computername)" "$a" \
   "key and value names are case-insensitive"

# --- set / get of every type, hivexget agrees ---
crtime() { vk stat "$T/d.vhd" /Windows/System32/config/SOFTWARE --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["created"])'; }
created_before=$(crtime)
check "reg set -p creates the key" vk reg set "$T/d.vhd" "$SW\\Vk\\Types" s --type sz 'hello wörld' -p
is "$(crtime)" "$created_before" "the rewritten SOFTWARE hive file keeps its creation time"
vk reg set "$T/d.vhd" "$SW\\Vk\\Types" e --type expand_sz '%SystemRoot%\x'
vk reg set "$T/d.vhd" "$SW\\Vk\\Types" m --type multi_sz one two 'three\0four'
vk reg set "$T/d.vhd" "$SW\\Vk\\Types" d --type dword 0x2a
vk reg set "$T/d.vhd" "$SW\\Vk\\Types" q --type qword 12345678901
vk reg set "$T/d.vhd" "$SW\\Vk\\Types" b --type binary 'de ad be ef 00'
vk reg set "$T/d.vhd" "$SW\\Vk\\Types" n --type none
is "$(vk reg get "$T/d.vhd" "$SW\\Vk\\Types" s)" 'hello wörld' "get sz"
is "$(hxsw 'Vk\Types' s)" 'hello wörld' "hivexget reads the sz"
is "$(vk reg get "$T/d.vhd" "$SW\\Vk\\Types" e)" '%SystemRoot%\x' "get expand_sz"
is "$(hxsw 'Vk\Types' e)" '%SystemRoot%\x' "hivexget reads the expand_sz"
is "$(vk reg get "$T/d.vhd" "$SW\\Vk\\Types" m | tr '\n' ,)" 'one,two,three,four,' "get multi_sz (arguments and \\0)"
is "$(hxsw 'Vk\Types' m | tr '\n' ,)" 'one,two,three,four,,' "hivexget reads the multi_sz"
is "$(vk reg get "$T/d.vhd" "$SW\\Vk\\Types" d)" 42 "get dword"
is "$(hxsw 'Vk\Types' d)" 42 "hivexget reads the dword"
is "$(vk reg get "$T/d.vhd" "$SW\\Vk\\Types" q)" 12345678901 "get qword"
is "$(hxsw 'Vk\Types' q)" 12345678901 "hivexget reads the qword"
is "$(vk reg get "$T/d.vhd" "$SW\\Vk\\Types" b --raw | od -An -tx1 | tr -d ' \n')" deadbeef00 "get --raw binary"
is "$(hxsw 'Vk\Types' b | od -An -tx1 | tr -d ' \n')" deadbeef00 "hivexget reads the binary"
vk reg get "$T/d.vhd" "$SW\\Vk\\Types" n --json >"$T/n.json"
is "$(jq -r '.type + " " + (.size|tostring)' "$T/n.json")" "REG_NONE 0" "get --json none: type and size"
is "$(vk reg get "$T/d.vhd" "$SW\\Vk\\Types" s --raw | od -An -tx1 | tr -d ' \n' | head -c 12)" 680065006c00 \
   "get --raw sz: UTF-16LE bytes"
is "$(status vk reg set "$T/d.vhd" "$SW\\Vk\\Missing\\Deep" x y)" 3 "set without -p on a missing key: exit 3"
is "$(status vk reg get "$T/d.vhd" "$SW\\Vk\\Types" nosuch)" 3 "get of a missing value: exit 3"
is "$(status vk reg set "$T/d.vhd" "$SW\\Vk" x --type dword notanumber)" 2 "set with bad dword data: exit 2"

# --- HKCU through --user ---
check "set HKCU --user alice" vk reg set "$T/d.vhd" 'HKCU\Software\Vk' who --user alice alice-value -p
is "$(hx Users/alice/NTUSER.DAT 'Software\Vk' who)" alice-value "the value is in alice's NTUSER.DAT"
is "$(vk reg get "$T/d.vhd" 'HKU\alice\Software\Vk' who)" alice-value "HKU\\alice reads it"

# --- del ---
vk reg set "$T/d.vhd" "$SW\\Vk\\Del\\Sub" v 1 -p
check "del value" vk reg del "$T/d.vhd" "$SW\\Vk\\Del\\Sub" v
is "$(status vk reg get "$T/d.vhd" "$SW\\Vk\\Del\\Sub" v)" 3 "deleted value is gone"
is "$(status vk reg del "$T/d.vhd" "$SW\\Vk\\Del")" 2 "del of a key with subkeys without -r: exit 2"
check "del -r" vk reg del "$T/d.vhd" "$SW\\Vk\\Del" -r
vk cat "$T/d.vhd" Windows/System32/config/SOFTWARE >"$T/hx.hive"
if hivexget "$T/hx.hive" 'Vk\Del' >/dev/null 2>&1; then not_ok "hivexget still finds the deleted key"; else ok "hivexget no longer finds the deleted key"; fi

# --- export, import: the same content ---
vk reg export "$T/d.vhd" "$SW\\Vk" "$T/vk.reg"
is "$(head -c 2 "$T/vk.reg" | od -An -tx1 | tr -d ' ')" fffe "export: UTF-16LE with a BOM by default"
vk reg export "$T/d.vhd" "$SW\\Vk" --utf8 >"$T/vk1.txt"
is "$(head -n 1 "$T/vk1.txt" | tr -d '\r')" "Windows Registry Editor Version 5.00" "export --utf8: regedit's header"
check "del -r the subtree" vk reg del "$T/d.vhd" "$SW\\Vk" -r
check "import it back" vk reg import "$T/d.vhd" "$T/vk.reg"
vk reg export "$T/d.vhd" "$SW\\Vk" --utf8 >"$T/vk2.txt"
if cmp -s "$T/vk1.txt" "$T/vk2.txt"; then ok "export after import equals the first export"; else not_ok "export differs after import"; diff "$T/vk1.txt" "$T/vk2.txt" | head -5 | sed 's/^/#   /'; fi
is "$(hxsw 'Vk\Types' q)" 12345678901 "hivexget reads the imported qword"
printf 'REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vk\\Types]\r\n"s"=-\r\n"new"="from regedit4"\r\n' >"$T/r4.reg"
check "import REGEDIT4 with a deletion" vk reg import "$T/d.vhd" "$T/r4.reg"
is "$(status vk reg get "$T/d.vhd" "$SW\\Vk\\Types" s)" 3 '"s"=- deleted the value'
is "$(hxsw 'Vk\Types' new)" "from regedit4" "hivexget reads the imported value"

# --- a 100 KB value goes to big-data cells ---
head -c 76800 /dev/urandom | base64 -w0 | head -c 51200 >"$T/big.txt"
check "set a 51200-character sz (102402 bytes)" vk reg set "$T/d.vhd" "$SW\\Vk" big "$(cat "$T/big.txt")"
is "$(vk reg get "$T/d.vhd" "$SW\\Vk" big | tr -d '\n' | sum /dev/stdin)" "$(sum "$T/big.txt")" "get returns it"
hxsw Vk big | tr -d '\n' >"$T/big.hx"
is "$(sum "$T/big.hx")" "$(sum "$T/big.txt")" "hivexget reads it byte-exact"
# A db cell: size, "db", segment count, offset of the segment list (Windows registry format, "Big data").
is "$(python3 - "$T/hx.hive" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
found = 0
off = 4096
while off + 32 <= len(d) and d[off:off+4] == b'hbin':
    size = struct.unpack_from('<I', d, off + 8)[0]
    c = off + 32
    while c + 4 <= off + size:
        n = struct.unpack_from('<i', d, c)[0]
        if n == 0: break
        if n < 0 and d[c+4:c+6] == b'db' and struct.unpack_from('<H', d, c + 6)[0] == 7:
            found += 1
        c += abs(n)
    off += size
print(found)
PY
)" 1 "the hive holds one db cell of 7 segments (102402 bytes / 16344)"

# --- dirty hive: replayed on read, written clean, logs emptied ---
Y=$SHARED/corpus/hives/yarp/NewDirtyHive2
xz -dc "$Y/NewDirtyHive.xz" >"$T/dirty"
xz -dc "$Y/NewDirtyHive.LOG1.xz" >"$T/dirty.LOG1"
xz -dc "$Y/NewDirtyHive.LOG2.xz" >"$T/dirty.LOG2"
vk mkdir "$T/d.vhd" Users/bob
vk put "$T/d.vhd" "$T/dirty" Users/bob/NTUSER.DAT
# Log names in another case than the hive's: found case-insensitively.
vk put "$T/d.vhd" "$T/dirty.LOG1" Users/bob/ntuser.dat.log1
vk put "$T/d.vhd" "$T/dirty.LOG2" Users/bob/ntuser.dat.log2
vk reg ls "$T/d.vhd" 'HKU\bob' >"$T/bob.ls" 2>"$T/bob.err"
if grep -q "3 log entries replayed" "$T/bob.err"; then ok "dirty hive: the 3 .LOG2 entries replayed on read (warned)"; else not_ok "no replay note"; sed 's/^/#   /' "$T/bob.err"; fi
vk reg export "$T/d.vhd" 'HKU\bob' --utf8 >"$T/bob1.txt" 2>/dev/null
check "set into the dirty hive" vk reg set "$T/d.vhd" 'HKU\bob' vk-added 1
vk cat "$T/d.vhd" Users/bob/NTUSER.DAT >"$T/bob.hive"
is "$(od -An -tu4 -j4 -N8 "$T/bob.hive" | awk '{print ($1 == $2) ? "clean" : "dirty"}')" clean \
   "the hive written back is clean (sequence numbers equal)"
is "$(vk ls "$T/d.vhd" Users/bob --json | jq -r '[.entries[] | select(.name | test("log"; "i")) | .size] | "\(length) \(add)"')" "2 0" \
   "both logs emptied after the replayed hive was written"
vk reg export "$T/d.vhd" 'HKU\bob' --utf8 2>"$T/bob2.err" | grep -v '"vk-added"' >"$T/bob2.txt"
if cmp -s "$T/bob1.txt" "$T/bob2.txt"; then ok "the written hive holds the replayed content (export equal but for the new value)"; else not_ok "replayed content changed"; diff "$T/bob1.txt" "$T/bob2.txt" | head -5 | sed 's/^/#   /'; fi
is "$(wc -c <"$T/bob2.err")" 0 "no replay note once the hive is clean"
is "$(hivexget "$T/bob.hive" '\' vk-added)" 1 "hivexget reads the value in the recovered hive"
# Unusable logs: no write, exit 4, the reason named.
vk put "$T/d.vhd" "$T/dirty" Users/bob/NTUSER.DAT
head -c 1000 /dev/zero >"$T/zero.log"
vk put "$T/d.vhd" "$T/zero.log" Users/bob/ntuser.dat.log1
vk put "$T/d.vhd" "$T/zero.log" Users/bob/ntuser.dat.log2
before=$(vk cat "$T/d.vhd" Users/bob/NTUSER.DAT | sha256sum)
is "$(status vk reg set "$T/d.vhd" 'HKU\bob' x 1)" 4 "dirty hive with unusable logs: set refused with exit 4"
if grep -qi "dirty" "$T/err"; then ok "the refusal says what was found ($(head -n 1 "$T/err" | cut -c1-120))"; else not_ok "refusal message"; sed 's/^/#   /' "$T/err"; fi
is "$(vk cat "$T/d.vhd" Users/bob/NTUSER.DAT | sha256sum)" "$before" "the refused hive is unchanged"
is "$(status vk reg get "$T/d.vhd" 'HKU\bob')" 0 "it still reads (with a warning)"

# --- through a snapshot: the child changes, the parent does not ---
vk snapshot "$T/d.vhd" "$T/child.vhd" >/dev/null
psum=$(sum "$T/d.vhd")
check "set through the child" vk reg set "$T/child.vhd" "$SW\\Vk" snap child-value
is "$(vk reg get "$T/child.vhd" "$SW\\Vk" snap)" child-value "the child shows the new value"
is "$(status vk reg get "$T/d.vhd" "$SW\\Vk" snap)" 3 "the parent does not"
is "$(sum "$T/d.vhd")" "$psum" "the parent file is byte-identical"

# --- hibernated volume: read yes, write no ---
"$VKGEN" --out "$T/h.vhd" --size 256M --files 2 --hiberfil=hibr --quiet >/dev/null 2>&1
hsum=$(sum "$T/h.vhd")
is "$(status vk reg get "$T/h.vhd" 'HKLM\SYSTEM\Select' Current)" 0 "hibernated volume: reg get works"
is "$(status vk reg set "$T/h.vhd" "$SW\\Vk" x 1 -p)" 4 "hibernated volume: reg set refused with exit 4"
is "$(sum "$T/h.vhd")" "$hsum" "the hibernated image is unchanged"
is "$(status vk reg frob "$T/h.vhd")" 2 "unknown subcommand: exit 2"

# --- damaged hives: exit 3, the image + hive file + offset named, nothing written ---
cat >"$T/hive.py" <<'PY'
import struct, sys
def cells(d):
    end = 4096 + struct.unpack_from('<I', d, 40)[0]
    off = 4096
    while off < min(end, len(d)) and d[off:off+4] == b'hbin':
        size = struct.unpack_from('<I', d, off + 8)[0]
        c = off + 32
        while c + 4 <= off + size:
            n = struct.unpack_from('<i', d, c)[0]
            if n == 0: break
            yield off, c, n
            c += abs(n)
        off += size
cmd, path = sys.argv[1], sys.argv[2]
d = bytearray(open(path, 'rb').read())
if cmd == 'nk':        # nk NAME: file offset of the allocated key cell with that (ASCII) name
    for b, c, n in cells(d):
        ln = struct.unpack_from('<H', d, c + 4 + 72)[0] if n < 0 and d[c+4:c+6] == b'nk' else -1
        if ln >= 0 and d[c+80:c+80+ln] == sys.argv[3].encode(): print(c); break
elif cmd == 'bin':     # bin OFF: start of the bin holding the cell at OFF
    print(next(b for b, c, n in cells(d) if c == int(sys.argv[3])))
elif cmd == 'sublist': # sublist NK: file offset of the key's subkey list
    print(struct.unpack_from('<I', d, int(sys.argv[3]) + 32)[0] + 4096)
elif cmd == 'poke':    # poke OFF HEX
    o = int(sys.argv[3]); b = bytes.fromhex(sys.argv[4]); d[o:o+len(b)] = b; open(path, 'wb').write(d)
elif cmd == 'cut':     # cut LEN
    open(path, 'wb').write(d[:int(sys.argv[3])])
PY
hp() { python3 "$T/hive.py" "$@"; }
"$VKGEN" --out "$T/c.vhd" --size 64M --files 2 --quiet >/dev/null 2>&1
vk reg set "$T/c.vhd" "$SW\\Vk\\Tail" v tail-value -p
vk cat "$T/c.vhd" Windows/System32/config/SOFTWARE >"$T/sw.good"
cp "$T/c.vhd" "$T/c0.vhd"
tail_nk=$(hp nk "$T/sw.good" Tail)
tail_bin=$(hp bin "$T/sw.good" "$tail_nk")
vk_list=$(hp sublist "$T/sw.good" "$(hp nk "$T/sw.good" Vk)")
le32() { python3 -c "import struct,sys; print(struct.pack('<I', int(sys.argv[1]) & 0xffffffff).hex())" "$1"; }
# damaged NAME OFFSET: SOFTWARE of a fresh copy of c.vhd replaced by $T/sw.bad; export, get and set all exit 3 with a
# message naming c.vhd, the hive file and "corrupt hive" at OFFSET (hex digits, or a pattern of them).
damaged() {
    cp "$T/c0.vhd" "$T/c.vhd"
    vk put "$T/c.vhd" "$T/sw.bad" Windows/System32/config/SOFTWARE
    before=$(sum "$T/c.vhd")
    for cmd in "reg export $T/c.vhd $SW --utf8" "reg get $T/c.vhd $SW\\Vk\\Tail v" "reg set $T/c.vhd $SW\\Vk\\Tail w 1"; do
        # shellcheck disable=SC2086
        s=$(status vk $cmd)
        sub=$(echo "$cmd" | cut -d' ' -f2)
        if [ "$s" = 3 ] && grep -q "c\.vhd: Windows/System32/config/SOFTWARE: corrupt hive: .*(offset 0x$2)" "$T/err" &&
           ! grep -qi "bad address" "$T/err"; then
            ok "$1: reg $sub exits 3 naming the image, the hive and $(grep -o '(offset 0x[0-9a-f]*)' "$T/err")"
        else
            not_ok "$1: reg $sub: exit $s"; sed 's/^/#   /' "$T/err" | head -3
        fi
    done
    is "$(sum "$T/c.vhd")" "$before" "$1: the image is unchanged"
}
hexof() { printf '%x' "$1"; }
# Truncated in the middle of the bin holding Vk\Tail.
cp "$T/sw.good" "$T/sw.bad"; hp cut "$T/sw.bad" $((tail_bin + 2048))
damaged "truncated hive" "$(hexof "$tail_bin")"
# The bin holding Vk\Tail loses its signature: export names the bin, get/set the key's cell in no bin.
cp "$T/sw.good" "$T/sw.bad"; hp poke "$T/sw.bad" "$tail_bin" 78
damaged "bad hbin signature" "[0-9a-f]*"
vk reg export "$T/c.vhd" "$SW" --utf8 >/dev/null 2>"$T/err"
if grep -q "hive bin at 0x$(hexof "$tail_bin") has no hbin signature" "$T/err"; then
  ok "bad hbin signature: export names the bin at 0x$(hexof "$tail_bin")"
else
  not_ok "bad hbin signature: the bin is not named"; sed 's/^/#   /' "$T/err"
fi
# The Vk\Tail key cell claims 256 MiB (hivex accepts such a cell, then reads past its bin).
cp "$T/sw.good" "$T/sw.bad"; hp poke "$T/sw.bad" "$tail_nk" "$(le32 -268435456)"
damaged "cell larger than its bin" "$(hexof "$tail_nk")"
# Vk's subkey list becomes an ri list whose one entry is itself.
cp "$T/sw.good" "$T/sw.bad"; hp poke "$T/sw.bad" $((vk_list + 4)) "72690100$(le32 $((vk_list - 4096)))"
damaged "subkey list loop" "$(hexof "$vk_list")"
if grep -q "ri lists nested" "$T/err"; then ok "subkey list loop: called a loop"; else not_ok "subkey list loop: message"; fi
