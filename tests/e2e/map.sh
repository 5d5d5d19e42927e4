# SPDX-License-Identifier: GPL-2.0-or-later
# map: totals equal compact --dry-run (dynamic disk and a differencing chain), one record per block with states that
# add up, owners agree with whohas --block, the SVG parses with one cell and tooltip per block; bad input for map and
# whohas: clear errors with exit 2 or 3.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:=$(dirname "$VHDKIT")/../tests/gen/vk-gen}"
[ -x "$VKGEN" ] || skip_all "vk-gen is not built ($VKGEN)"
command -v python3 >/dev/null || skip_all "python3 is not installed"

# compare_totals IMAGE NAME: map --json totals against compact --dry-run --json
compare_totals() {
    is "$(status vk map --json "$1" --svg "$T/$2.svg")" 0 "$2: map --json --svg runs"
    cp "$T/out" "$T/$2.map.json"
    is "$(status vk compact --dry-run --json "$1")" 0 "$2: compact --dry-run --json runs"
    cp "$T/out" "$T/$2.compact.json"
    python3 - "$T/$2.map.json" "$T/$2.compact.json" "$T/$2.svg" >"$T/cmp" <<'EOF'
import json, sys, xml.dom.minidom
m = json.load(open(sys.argv[1]))
c = json.load(open(sys.argv[2]))
t = m['totals']
print('freed', t['freed'] == c['freed'], t['freed']['free']['bytes'])
print('blocks', (t['blocks_before'], t['blocks_after'], t['file_size_after']) ==
      (c['blocks_before'], c['blocks_after'], c['file_size_after']))
print('count', len(m['blocks']) == m['block_count'] == sum(t['blocks_by_state'].values()))
alloc = sum(1 for b in m['blocks'] if b['state'] != 'unallocated')
print('alloc', alloc == c['blocks_before'])
free_sectors = sum(b['freeable_sectors'] for b in m['blocks'])
print('sectors', free_sectors * 512 == sum(v['bytes'] for v in c['freed'].values()))
doc = xml.dom.minidom.parse(sys.argv[3])
cells = [r for r in doc.getElementsByTagName('rect') if r.getAttribute('class') == 'c']
titles = doc.getElementsByTagName('title')
print('svg', len(cells) == m['block_count'] and len(titles) == len(cells))
owned = [b for b in m['blocks'] if b['owners_count'] > 0]
b = max(owned, key=lambda b: b['owners_count'])
print('block', b['block'], b['owners_count'], b['owners'][0]['path'])
EOF
    for k in freed blocks count alloc sectors svg; do
        is "$(sed -n "s/^$k \([A-Za-z]*\).*/\1/p" "$T/cmp")" True "$2: map and compact --dry-run agree ($k)"
    done
    set -- "$1" "$2" $(sed -n 's/^block //p' "$T/cmp")
    vk whohas --json "$1" --block "$3" --top 1 >"$T/wb.json"
    is "$(json_get "$T/wb.json" owners_count)" "$4" "$2: whohas --block $3 counts the same owners as map"
}

check "vk-gen builds a dynamic disk" "$VKGEN" --quiet --out "$T/d.vhd" --layout mbr2048 --size 256M --files 200 \
    --deleted 0.3 --seed 3
compare_totals "$T/d.vhd" dynamic
check "vk-gen builds a chain" "$VKGEN" --quiet --out "$T/c.vhd" --format chain --layout gpt --size 256M --files 150 \
    --deleted 0.2 --seed 4
compare_totals "$T/c.vhd" chain
grep -q '"parent_sectors"' "$T/chain.map.json" && ok "chain: blocks say what the parent stores" \
    || not_ok "chain: blocks say what the parent stores"

# Bad input.
check "a fixed disk" vk convert "$T/d.vhd" "$T/f.vhd" --type fixed
is "$(status vk map "$T/f.vhd")" 2 "map on a fixed disk: exit 2"
grep -q "no blocks to map" "$T/err" && ok "map on a fixed disk says why" || not_ok "map on a fixed disk says why"
head -c 1000000 /dev/urandom >"$T/junk.vhd"
is "$(status vk map "$T/junk.vhd")" 2 "map on a file that is no VHD: exit 2 (a raw image has no blocks)"
head -c 3000 "$T/d.vhd" >"$T/cut.vhd"
is "$(status vk map "$T/cut.vhd")" 3 "map on a truncated VHD: exit 3"
grep -q "^vhdkit: " "$T/err" && ok "the error names the file" || not_ok "the error names the file"
is "$(status vk whohas "$T/cut.vhd" --sector 0)" 3 "whohas on a truncated VHD: exit 3"
is "$(status vk whohas "$T/d.vhd" --sector 999999999)" 2 "whohas past the end of the disk: exit 2"
grep -q "past the end of the disk" "$T/err" && ok "and says so" || not_ok "and says so"
is "$(status vk whohas "$T/d.vhd" --sector 12x)" 2 "whohas with a bad number: exit 2"
is "$(status vk whohas "$T/d.vhd")" 2 "whohas with nothing asked: exit 2"
printf 'sector 1\nfoo 2\n' >"$T/in"
is "$(status vk whohas "$T/d.vhd" --stdin <"$T/in")" 2 "whohas --stdin with a bad line: exit 2"
grep -q "line 2" "$T/err" && ok "and names the line" || not_ok "and names the line"
is "$(status vk whohas "$T/f.vhd" --block 1)" 2 "whohas --block on a fixed disk: exit 2"
