#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit reg set cut at every host write (VHDKIT_TEST_FAULT=stop:N): the image opens, reg get returns the old or
# the new value, the hive vhdkit cat takes out opens in hivex with that value, and a second reg set then succeeds
# (the next commit clears what the cut one left, including half-made libntfs-3g names).
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name tests/gen/vk-gen}"
command -v hivexget >/dev/null || skip_all "hivexget (libhivex-bin) not installed"

K='HKLM\SOFTWARE\Vk'
"$VKGEN" --out "$T/base.vhd" --size 256M --files 5 --quiet >/dev/null 2>&1
vk reg set "$T/base.vhd" "$K" v old -p
cp "$T/base.vhd" "$T/cnt.vhd"
n=$(VHDKIT_TEST_FAULT=count "$VHDKIT" reg set "$T/cnt.vhd" "$K" v new 2>&1 >/dev/null | sed -n 's/vhdkit-test-writes: //p')
if [ "${n:-0}" -gt 10 ]; then ok "reg set makes $n host writes"; else not_ok "write count: '$n'"; fi
bad_get=0 bad_hx=0 bad_again=0 olds=0 news=0
i=0
while [ "$i" -le "${n:-0}" ]; do
    cp "$T/base.vhd" "$T/x.vhd"
    VHDKIT_TEST_FAULT=stop:$i "$VHDKIT" reg set "$T/x.vhd" "$K" v new >/dev/null 2>&1
    g=$(vk reg get "$T/x.vhd" "$K" v 2>/dev/null)
    case "$g" in old) olds=$((olds + 1)) ;; new) news=$((news + 1)) ;; *) bad_get=$((bad_get + 1)); echo "# stop:$i: reg get gave '$g'" ;; esac
    vk cat "$T/x.vhd" Windows/System32/config/SOFTWARE >"$T/x.hive" 2>/dev/null
    h=$(hivexget "$T/x.hive" Vk v 2>&1)
    if [ "$h" != "$g" ]; then bad_hx=$((bad_hx + 1)); echo "# stop:$i: hivexget gave '$h', reg get '$g'"; fi
    vk reg set "$T/x.vhd" "$K" v third >/dev/null 2>"$T/again.err"
    if [ "$(vk reg get "$T/x.vhd" "$K" v 2>/dev/null)" != third ] || [ "$(vk ls "$T/x.vhd" Windows/System32/config | tr '\n' ' ')" != "DEFAULT SAM SECURITY SOFTWARE SYSTEM " ]; then
        bad_again=$((bad_again + 1)); echo "# stop:$i: the next set failed: $(head -n 1 "$T/again.err")"
    fi
    i=$((i + 1))
done
is "$bad_get" 0 "after each of the $((n + 1)) stops reg get returns old ($olds) or new ($news)"
is "$bad_hx" 0 "after each stop hivexget reads the hive vhdkit cat takes out, with the same value"
if [ "$olds" -gt 0 ] && [ "$news" -gt 0 ]; then ok "stops fall both before and after the switch"; else not_ok "old $olds new $news"; fi
is "$bad_again" 0 "after each stop a second set lands and leaves only the hive files in the folder"
