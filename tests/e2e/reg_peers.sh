#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 5 proof against peers: every corpus hive (logs aside) put into a vk-gen disk as SOFTWARE, `reg export`
# compared value by value (key, name, type, data) and key by key with hivexregedit --export (hivex), regfexport
# (libregf) and reged -x (chntpw) by reg_peers.py. Zero unexplained differences per hive and peer: where a peer
# shows a value in its own way or is wrong, a named rule in reg_peers.py says why and counts the cases.
# Hives vhdkit cannot read exit 3 (hivex, on which it is built, refuses them too); hives with a bad base-block
# checksum that hivex and libregf refuse are read by vhdkit with a warning and compared with reged.
# The changes side (set/del/import checked through sleuthkit icat and the three peers) is reg_roundtrip.sh.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name tests/gen/vk-gen}"
for p in regfexport reged hivexregedit python3; do
    command -v $p >/dev/null || skip_all "$p not installed (scripts/install-deps.sh)"
done
H=$SHARED/corpus/hives
[ -d "$H" ] || { not_ok "corpus folder $H exists"; exit 1; }
CMP="$VHDKIT_SRCDIR/tests/e2e/reg_peers.py"
SW=Windows/System32/config/SOFTWARE
"$VKGEN" --out "$T/d.vhd" --size 64M --files 2 --quiet >/dev/null 2>&1

# Hives vhdkit must refuse with exit 3 (truncated bins and names, bad cells, a delta hive, no base block...);
# hivexregedit refuses every one of them too. regfexport reads DeletedDataHiveTruncated, OldLogWithRemnantData
# and System_Delta, reged several more (it reads whatever cells it finds): documented, not compared.
BAD=" plaso/corrupt_sub_key_list.hiv regipy/corrupted_system_hive yarp/DeletedDataHiveTruncated
 yarp/Discovery/1/aa yarp/Discovery/2/AA yarp/Discovery/3/AA yarp/Discovery/4/AA yarp/Discovery/5/aa
 yarp/EffectiveSizeHive yarp/InvalidParentFragment yarp/OldLogWithRemnantData yarp/SqliteFragment
 yarp/System_Delta yarp/TruncatedDirtyHive yarp/TruncatedHive yarp/TruncatedHiveBin yarp/TruncatedNameHive
 yarp/TruncatedPairHive yarp/TruncatedPairHive2 "
# Hives whose base-block checksum is wrong: hivex and libregf refuse to open them; vhdkit reads them as a dirty
# hive without logs (warning, never written) and reged ignores the checksum.
BAD=" $(echo $BAD) "
BADSUM=" yarp/GarbageHive yarp/BadBaseBlockHive/BadBaseBlockHive "

(cd "$H" && find . -name '*.xz' | sed 's|^\./||; s|\.xz$||' | grep -vi '\.log[12]\?$' | LC_ALL=C sort) >"$T/list"
is "$(wc -l <"$T/list")" 73 "73 hives in the corpus (logs aside)"
total=0
while read -r n; do
    xz -dc "$H/$n.xz" >"$T/hive" || { not_ok "$n: corpus file"; continue; }
    vk put "$T/d.vhd" "$T/hive" "$SW" >/dev/null 2>&1 || { not_ok "$n: put into the disk"; continue; }
    rm -f "$T/vk.reg" "$T/rg.reg"
    s=$(status vk reg export "$T/d.vhd" 'HKLM\SOFTWARE' "$T/vk.reg" --utf8)
    case "$BAD" in *" $n "*)
        is "$s" 3 "$n: vhdkit cannot read it and exits 3 ($(head -n 1 "$T/err" | cut -c1-100))"
        hivexregedit --export "$T/hive" '\' >/dev/null 2>&1 && not_ok "$n: hivexregedit reads it"
        continue ;;
    esac
    if [ "$s" != 0 ]; then not_ok "$n: reg export reads it (exit $s)"; sed 's/^/#   /' "$T/err" | head -3; continue; fi
    case "$BADSUM" in *" $n "*)
        if grep -q 'bad base block checksum' "$T/err"; then ok "$n: read with a warning about the checksum"
        else not_ok "$n: no checksum warning"; fi
        if hivexregedit --export "$T/hive" '\' >/dev/null 2>&1 || regfexport "$T/hive" >/dev/null 2>&1; then
            not_ok "$n: hivex or libregf reads it now: compare it"; fi
        peers=rg ;;
    *) peers="hx rf rg" ;;
    esac
    for p in $peers; do
        case $p in
        hx) hivexregedit --export --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$T/hive" '\' >"$T/p.out" 2>/dev/null
            po="$T/p.out"; pl=hivexregedit ;;
        rf) regfexport "$T/hive" >"$T/p.out" 2>/dev/null; po="$T/p.out"; pl=regfexport ;;
        rg) (reged -x "$T/hive" 'HKEY_LOCAL_MACHINE\SOFTWARE' '\' "$T/rg.reg" >"$T/p.out" 2>&1) 2>/dev/null
            po="$T/rg.reg"; pl="reged -x" ;;
        esac
        if [ ! -s "$po" ]; then not_ok "$n: $pl wrote nothing"; continue; fi
        r=$(python3 "$CMP" $p "$T/vk.reg" "$po" "$T/p.out" 2>"$T/cmp.err")
        case "$r" in
        *" valdiff=0 keydiff=0"*) ok "$n vs $pl: $r" ;;
        *) not_ok "$n vs $pl: $r"; head -n 10 "$T/cmp.err" | cut -c1-300 | sed 's/^/#   /' ;;
        esac
        case "$r" in values=[0-9]*) v=${r#values=}; total=$((total + ${v%% *})) ;; esac
    done
done <"$T/list"
echo "# $total value comparisons in all"
