#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 5 proof of the changes: after `reg set` (a new key made with -p, a value of 20002 bytes that must go to
# big-data cells), `reg del` and `reg import` on a vk-gen disk, the SOFTWARE hive taken out of a raw copy of the
# disk with sleuthkit (mmls, ifind, icat) opens in hivexregedit, regfexport and reged -x, each agreeing value by
# value with vhdkit's export (reg_peers.py, its rules), and vhdkit's full export differs from the one before by
# exactly the intended change. Then export/delete/import of subtrees of corpus hives gives the same content.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name tests/gen/vk-gen}"
for p in regfexport reged hivexregedit python3 qemu-img mmls ifind icat; do
    command -v $p >/dev/null || skip_all "$p not installed (scripts/install-deps.sh)"
done
CMP="$VHDKIT_SRCDIR/tests/e2e/reg_peers.py"
SW='HKLM\SOFTWARE'
"$VKGEN" --out "$T/d.vhd" --size 64M --files 2 --quiet >/dev/null 2>&1
# tup REGFILE: vhdkit's export as sorted tuples
tup() { python3 "$CMP" tuples "$1" -; }
# icat_hive OUT: the SOFTWARE hive as sleuthkit reads it from a raw copy of the disk
icat_hive() {
    qemu-img convert -O raw "$T/d.vhd" "$T/raw" &&
    off=$(mmls "$T/raw" | awk '/NTFS/ { print $3 + 0; exit }') &&
    ino=$(ifind -o "$off" -n Windows/System32/config/SOFTWARE "$T/raw") &&
    icat -o "$off" "$T/raw" "$ino" >"$1"
}
# peers WHAT: the extracted hive agrees with vhdkit's export for all three peers
peers() {
    vk reg export "$T/d.vhd" "$SW" "$T/vk.reg" --utf8 2>/dev/null
    icat_hive "$T/ic.hive" || { not_ok "$1: icat extracts the hive"; return; }
    hivexregedit --export --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$T/ic.hive" '\' >"$T/hx.reg" 2>/dev/null
    regfexport "$T/ic.hive" >"$T/rf.txt" 2>/dev/null
    rm -f "$T/rg.reg"; (reged -x "$T/ic.hive" 'HKEY_LOCAL_MACHINE\SOFTWARE' '\' "$T/rg.reg" >"$T/rg.out" 2>&1) 2>/dev/null
    for p in hx:hx.reg:hivexregedit rf:rf.txt:regfexport rg:rg.reg:reged; do
        set -- "$1" ${p%%:*} "$(echo $p | cut -d: -f2)" "${p##*:}"
        r=$(python3 "$CMP" $2 "$T/vk.reg" "$T/$3" "$T/rg.out" 2>"$T/cmp.err")
        case "$r" in
        *" valdiff=0 keydiff=0"*) ok "$1: the icat-extracted hive in $4 agrees with vhdkit: $r" ;;
        *) not_ok "$1: $4: $r"; head -n 6 "$T/cmp.err" | cut -c1-200 | sed 's/^/#   /' ;;
        esac
    done
}
# delta WHAT BEFORE AFTER EXPECTED-ADDED EXPECTED-REMOVED: tuples only in AFTER / only in BEFORE are exactly these
delta() {
    comm -13 "$2" "$3" >"$T/added"; comm -23 "$2" "$3" >"$T/removed"
    if cmp -s "$T/added" "$4" && cmp -s "$T/removed" "$5"; then
        ok "$1: the full export changed by exactly the intended $(wc -l <"$4") tuples added, $(wc -l <"$5") removed"
    else
        not_ok "$1: unexpected change"; diff "$T/added" "$4" | head -5 | sed 's/^/#   +/'
        diff "$T/removed" "$5" | head -5 | sed 's/^/#   -/'
    fi
}
hdr() { printf 'Windows Registry Editor Version 5.00\r\n\r\n'; }
peers "vk-gen disk as made"
vk reg export "$T/d.vhd" "$SW" "$T/0.reg" --utf8 && tup "$T/0.reg" >"$T/0.t"

# --- set: a new key with -p, a small value and a 20002-byte one (big data: db cells in hive format 1.4+) ---
big=$(head -c 15000 /dev/urandom | base64 -w0 | head -c 10000)
check "set -p creates Vk\\New" vk reg set "$T/d.vhd" "$SW\\Vk\\New" s --type sz 'héllo' -p
check "set a 20002-byte value" vk reg set "$T/d.vhd" "$SW\\Vk\\New" big --type sz "$big"
{ hdr; printf '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vk]\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vk\\New]\r\n"s"="héllo"\r\n"big"="%s"\r\n' "$big"; } >"$T/want1.reg"
tup "$T/want1.reg" | grep -v '^	' >"$T/want1.t"
vk reg export "$T/d.vhd" "$SW" "$T/1.reg" --utf8 && tup "$T/1.reg" >"$T/1.t"
: >"$T/none"
delta "set" "$T/0.t" "$T/1.t" "$T/want1.t" "$T/none"
peers "after set"
is "$(python3 - "$T/ic.hive" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read(); n = 0; off = 4096
while off + 32 <= len(d) and d[off:off+4] == b'hbin':
    size = struct.unpack_from('<I', d, off + 8)[0]; c = off + 32
    while c + 4 <= off + size:
        s = struct.unpack_from('<i', d, c)[0]
        if s == 0: break
        if s < 0 and d[c+4:c+6] == b'db' and struct.unpack_from('<H', d, c + 6)[0] == 2: n += 1
        c += abs(s)
    off += size
print(n)
PY
)" 1 "the icat-extracted hive holds the 20002-byte value as a db cell of 2 segments"

# --- del: one value of the generator's hive ---
key=$(grep -m1 '^\[' "$T/0.reg" | tr -d '\r'); v=$(awk -F'\t' '$3 >= 0 && $2 != "@" && $1 != "" { print $1 "\t" $2; exit }' "$T/0.t")
vkey=$(printf '%s' "$v" | cut -f1); vname=$(printf '%s' "$v" | cut -f2)
check "del the value $vkey\\$vname" vk reg del "$T/d.vhd" "$SW\\$vkey" "$vname"
grep "^$(printf '%s\t%s\t' "$vkey" "$vname" | sed 's/\\/\\\\/g')" "$T/1.t" >"$T/want2.t"
vk reg export "$T/d.vhd" "$SW" "$T/2.reg" --utf8 && tup "$T/2.reg" >"$T/2.t"
delta "del" "$T/1.t" "$T/2.t" "$T/none" "$T/want2.t"
peers "after del"

# --- import: a new key with every common type, a changed value, a deleted value and a deleted key ---
{ hdr; printf '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vk\\Imp]\r\n@="default"\r\n"d"=dword:0000002a\r\n"q"=hex(b):01,02,03,04,05,06,07,08\r\n"m"=hex(7):61,00,00,00,00,00\r\n"e"=hex(2):25,00,00,00\r\n"n"=hex(0):\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vk\\New]\r\n"s"="changed"\r\n"big"=-\r\n'; } >"$T/imp.reg"
check "import" vk reg import "$T/d.vhd" "$T/imp.reg"
vk reg export "$T/d.vhd" "$SW" "$T/3.reg" --utf8 && tup "$T/3.reg" >"$T/3.t"
{ hdr; printf '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vk\\Imp]\r\n@="default"\r\n"d"=dword:0000002a\r\n"q"=hex(b):01,02,03,04,05,06,07,08\r\n"m"=hex(7):61,00,00,00,00,00\r\n"e"=hex(2):25,00,00,00\r\n"n"=hex(0):\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vk\\New]\r\n"s"="changed"\r\n'; } | tup /dev/stdin | grep -v '^Vk\\New		-1' | grep -v '^	' >"$T/want3.t"
grep "^Vk\\\\New	[sb]" "$T/2.t" >"$T/want3r.t"
delta "import" "$T/2.t" "$T/3.t" "$T/want3.t" "$T/want3r.t"
peers "after import"

# --- export, delete, import of subtrees of corpus hives: the same content back ---
H=$SHARED/corpus/hives
for c in "plaso/NTUSER.DAT:Software\\Microsoft" "regipy/BCD:Objects" "nt-hive/testhive:big-data-test" \
         "yarp/UnicodeHive:" "hivex/rlenvalue_test_hive:ModerateValueParent" "yarp/StringValuesHive:key"; do
    n=${c%%:*}; sub=${c#*:}
    xz -dc "$H/$n.xz" >"$T/hive"; vk put "$T/d.vhd" "$T/hive" Windows/System32/config/SOFTWARE >/dev/null 2>&1
    k="$SW${sub:+\\$sub}"
    vk reg export "$T/d.vhd" "$SW" "$T/all1.reg" --utf8; vk reg export "$T/d.vhd" "$k" "$T/s1.reg"
    if [ -n "$sub" ]; then vk reg del "$T/d.vhd" "$k" -r; fi
    check "$n: import of the exported $k" vk reg import "$T/d.vhd" "$T/s1.reg"
    vk reg export "$T/d.vhd" "$k" "$T/s2.reg"; vk reg export "$T/d.vhd" "$SW" "$T/all2.reg" --utf8
    if cmp -s "$T/s1.reg" "$T/s2.reg"; then ok "$n: $k exported again is byte-identical ($(tup "$T/all1.reg" | wc -l) tuples in the hive)"
    else not_ok "$n: $k differs after delete and import"; fi
    if [ -n "$sub" ]; then
        # regedit order: the re-created subtree is sorted as Windows sorts, so compare the tuples
        tup "$T/all1.reg" >"$T/a1"; tup "$T/all2.reg" >"$T/a2"
        if cmp -s "$T/a1" "$T/a2"; then ok "$n: the whole hive has the same content"; else not_ok "$n: hive content changed"; comm -3 "$T/a1" "$T/a2" | head -4 | sed 's/^/#   /'; fi
    fi
done
