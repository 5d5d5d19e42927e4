#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# examples/save_restore_subtree (libvhdkit embedded through its public API): save a subtree of a generated guest's
# registry, delete it with vhdkit, restore it, and find the same content (export equal, hivexget reads it).
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name tests/gen/vk-gen}"
: "${EXAMPLE:?EXAMPLE must name the built save_restore_subtree}"

K='HKLM\SOFTWARE\Vendor\Agent'
"$VKGEN" --out "$T/g.vhd" --size 256M --files 3 --quiet >/dev/null 2>&1
vk reg set "$T/g.vhd" "$K" Port --type dword 8080 -p
vk reg set "$T/g.vhd" "$K\\Paths" List --type multi_sz 'C:\a' 'C:\b' -p
vk reg set "$T/g.vhd" "$K" Name 'agent ünïcode'
vk reg export "$T/g.vhd" "$K" --utf8 >"$T/before.txt"
check "the example saves the subtree" "$EXAMPLE" save "$T/g.vhd" "$K" "$T/agent.reg"
is "$(head -c 2 "$T/agent.reg" | od -An -tx1 | tr -d ' ')" fffe "the saved file is regedit's UTF-16LE"
vk reg del "$T/g.vhd" "$K" -r
is "$(status vk reg get "$T/g.vhd" "$K" Port)" 3 "the subtree is gone after vhdkit reg del -r"
check "the example restores it" "$EXAMPLE" restore "$T/g.vhd" "$T/agent.reg"
vk reg export "$T/g.vhd" "$K" --utf8 >"$T/after.txt"
if cmp -s "$T/before.txt" "$T/after.txt"; then ok "restored subtree exports as before"; else not_ok "export differs"; diff "$T/before.txt" "$T/after.txt" | head | sed 's/^/#   /'; fi
vk cat "$T/g.vhd" Windows/System32/config/SOFTWARE >"$T/sw.hive"
is "$(hivexget "$T/sw.hive" 'Vendor\Agent' Port)" 8080 "hivexget reads the restored dword"
"$VKGEN" --out "$T/h.vhd" --size 256M --files 2 --hiberfil=hibr --quiet >/dev/null 2>&1
is "$(status "$EXAMPLE" restore "$T/h.vhd" "$T/agent.reg")" 4 "the example's restore is refused on a hibernated guest (exit 4)"
