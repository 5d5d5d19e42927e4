#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vhdkit diff on vk-gen disks: a child changed through vhdkit put/rm/mkdir/write lists exactly those changes (text
# and JSON), a disk against itself nothing, siblings and an unrelated copy (no shared ancestor: everything read)
# the same set sleuthkit finds (diff_peer.py: fls listing, tsk_recover/icat hashes); a byte change made under the
# file system (same size, same runs, same MFT record) is caught by the content check, not hidden by the shared-cluster
# shortcut; bad input exits 3.
. "$(dirname "$0")/lib.sh"
: "${VKGEN:?VKGEN must name the vk-gen binary}"
for tool in fls icat tsk_recover mmls python3; do
    command -v "$tool" >/dev/null 2>&1 || skip_all "$tool is not installed"
done
PEER="$VHDKIT_SRCDIR/tests/e2e/diff_peer.py"

"$VKGEN" --out "$T/base.vhd" --size 256M --files 60 --pagefile 4M --seed 7 --quiet --manifest "$T/man"
is "$?" 0 "vk-gen made the base disk"

# Files to change, chosen from the manifest so the test follows vk-gen: non-resident files (over 8 KiB) outside the
# folder that goes, one folder holding files, and the one non-resident named stream.
python3 - "$T/man" >"$T/pick" <<'PY'
import sys
files, dirs = [], []
for line in open(sys.argv[1]):
    k, sha, size, path = line.rstrip('\n').split(' ', 3)
    if k == 'f' and 8192 < int(size) < 4 << 20 and not path.startswith('pagefile'):
        files.append('/' + path)
    if k == 'd':
        dirs.append('/' + path)
    if k == 's' and int(size) > 4096 and 'stream' not in globals():
        stream = '/' + path
# a folder with a file in it, no other folder below, not holding the picked files
def holds(d, p): return p.startswith(d + '/')
cands = [d for d in dirs if any(holds(d, f) for f in files) and not any(holds(d, x) for x in dirs)]
gone = cands[-1]
keep = [f for f in files if not holds(gone, f)]
print('\n'.join([keep[0], keep[1], keep[2], keep[3], keep[4], gone, stream, keep[5]]))
PY
pick() { sed -n "$1p" "$T/pick"; }
SAME=$(pick 1) RESIZE=$(pick 2) RMFILE=$(pick 3) INPLACE=$(pick 4) ADSFILE=$(pick 5) GONE=$(pick 6) STREAM=$(pick 7)
TOUCHED=$(pick 8)
is "$(grep -c . "$T/pick")" 8 "picked 6 files, a folder and a stream from the manifest"
SFILE=${STREAM%:*}
SNAME=${STREAM##*:}

vk snapshot "$T/base.vhd" "$T/child.vhd" >/dev/null
is "$(status vk diff "$T/base.vhd" "$T/child.vhd")" 0 "a fresh child: no differences, exit 0"
is "$(tail -n 1 "$T/out" | cut -d' ' -f1-6)" "0 added, 0 removed, 0 changed" "a fresh child: the summary counts nothing"

# ---- the changes ----
pattern "$T/new.txt" 3000
vk stat "$T/base.vhd" "$SAME" --json >"$T/same.json"
size_same=$(json_get "$T/same.json" size)
pattern "$T/same.bin" "$size_same"
pattern "$T/resize.bin" 1234
pattern "$T/zone" 40
check "put a new file" vk put "$T/child.vhd" "$T/new.txt" /Windows/Temp/new.txt
check "put over a file: same size, other bytes" vk put "$T/child.vhd" "$T/same.bin" "$SAME"
check "put over a file: another size" vk put "$T/child.vhd" "$T/resize.bin" "$RESIZE"
check "rm a file" vk rm "$T/child.vhd" "$RMFILE"
check "rm -r a folder" vk rm -r "$T/child.vhd" "$GONE"
check "mkdir" vk mkdir "$T/child.vhd" /NewDir
# the same bytes again with other times: new clusters, so read and found equal; only the times differ
vk cat "$T/base.vhd" "$TOUCHED" >"$T/touched" && touch -d '2030-01-02 03:04:05 UTC' "$T/touched"
check "put a file's own bytes back with other times" vk put "$T/child.vhd" "$T/touched" "$TOUCHED"
# A named stream (FILE:STREAM as put's destination)
check "put FILE:STREAM" vk put "$T/child.vhd" "$T/zone" "$ADSFILE:Zone.Identifier"
vk cat "$T/child.vhd" "$ADSFILE:Zone.Identifier" 2>/dev/null | cmp -s - "$T/zone" &&
    ok "put FILE:STREAM added a named stream" || not_ok "put FILE:STREAM: the stream does not read back"
ads=yes
# Under the file system: bytes inside a file's first cluster and inside a named stream's first cluster, through the
# virtual disk (same size, same runs, same MFT record and times): only reading can tell.
lba_of() { # IMAGE PATH STREAM: LBA of the first run of the stream ("" = unnamed)
    vk stat "$1" "$2" --json | python3 -c 'import json,sys
a=[a for a in json.load(sys.stdin)["attributes"] if a["type"]=="$DATA" and a["name"]==sys.argv[1] and a.get("runs")]
print(a[0]["runs"][0]["lba"])' "$3"
}
lba=$(lba_of "$T/base.vhd" "$INPLACE" "")
slba=$(lba_of "$T/base.vhd" "$SFILE" "$SNAME")
printf 'changed under the file system' | vk write "$T/child.vhd" --offset $((lba * 512 + 100)) >/dev/null
printf 'stream bytes changed' | vk write "$T/child.vhd" --offset $((slba * 512 + 10)) >/dev/null
is "$(lba_of "$T/child.vhd" "$INPLACE" ""),$(lba_of "$T/child.vhd" "$SFILE" "$SNAME")" "$lba,$slba" \
    "the written files keep their runs"

# ---- text ----
is "$(status vk diff "$T/base.vhd" "$T/child.vhd")" 1 "differences: exit 1"
cp "$T/out" "$T/text"
sed 's/^/# /' "$T/text" | head -40
line() { grep -F -e " $1  " -e " $1/  " "$T/text" | head -n 1; }
case "$(line /Windows/Temp/new.txt)" in "+ /Windows/Temp/new.txt  file, 3000 bytes") ok "text: + new file with its size" ;; *) not_ok "text: + new file ($(line /Windows/Temp/new.txt))" ;; esac
case "$(line "$SAME")" in "M $SAME  content, "*) ok "text: M same-size file: content" ;; *) not_ok "text: M same-size file ($(line "$SAME"))" ;; esac
case "$(line "$RESIZE")" in "M $RESIZE  size "*" -> 1234"*) ok "text: M resized file: size" ;; *) not_ok "text: M resized file ($(line "$RESIZE"))" ;; esac
case "$(line "$RMFILE")" in "- $RMFILE  file, "*) ok "text: - removed file" ;; *) not_ok "text: - removed file ($(line "$RMFILE"))" ;; esac
case "$(line "$GONE")" in "- $GONE/  dir") ok "text: - removed folder" ;; *) not_ok "text: - removed folder ($(line "$GONE"))" ;; esac
case "$(line /NewDir)" in "+ /NewDir/  dir") ok "text: + new folder" ;; *) not_ok "text: + new folder ($(line /NewDir))" ;; esac
is "$(line "$INPLACE")" "M $INPLACE  content" "text: a file changed under the file system: content only"
case "$(line "$TOUCHED")" in "M $TOUCHED  modified "*" -> 2030-01-02T03:04:05.0000000Z, created "*" -> 2030-01-02T03:04:05.0000000Z") ok "text: same bytes, other times: the times only" ;; *) not_ok "text: times only ($(line "$TOUCHED"))" ;; esac
is "$(line "$SFILE")" "M $SFILE  streams: ~$SNAME (content)" "text: a stream changed under the file system"
[ "$ads" = yes ] && case "$(line "$ADSFILE")" in "M $ADSFILE  "*"streams: +Zone.Identifier (40 bytes)") ok "text: stream added" ;; *) not_ok "text: stream added ($(line "$ADSFILE"))" ;; esac

# ---- JSON: exactly the expected set ----
vk diff "$T/base.vhd" "$T/child.vhd" --json >"$T/d.json"
python3 - "$T/d.json" "$T/man" "$SAME" "$RESIZE" "$RMFILE" "$INPLACE" "$ADSFILE" "$GONE" "$SFILE" "$SNAME" "$ads" "$TOUCHED" <<'PY' >"$T/r"
import json, sys
d = json.load(open(sys.argv[1]))
same, resize, rmfile, inplace, adsfile, gone, sfile, sname, ads, touched = sys.argv[3:]
under = ['/' + l.rstrip('\n').split(' ', 3)[3] for l in open(sys.argv[2]) if l[0] in 'fd']
want = {'/Windows/Temp/new.txt': ('added', None), '/NewDir': ('added', None), rmfile: ('removed', None),
        gone: ('removed', None), same: ('changed', 'content'), resize: ('changed', 'size'),
        inplace: ('changed', ['content']), sfile: ('changed', ['streams']),
        touched: ('changed', ['modified', 'created'])}
for p in under:
    if p.startswith(gone + '/'):
        want[p] = ('removed', None)
if ads == 'yes':
    want[adsfile] = ('changed', 'streams')
got = {e['path']: e for e in d['differences']}
bad = []
for p in sorted(want.keys() | got.keys()):
    if p not in got or p not in want:
        bad.append('%s: want %s, got %s' % (p, want.get(p), got.get(p, {}).get('change')))
        continue
    kind, f = want[p]
    e = got[p]
    if e['change'] != kind:
        bad.append('%s: %s, not %s' % (p, e['change'], kind))
    elif isinstance(f, list) and e['fields'] != f:
        bad.append('%s: fields %s, not %s' % (p, e['fields'], f))
    elif isinstance(f, str) and f not in e['fields']:
        bad.append('%s: fields %s lack %s' % (p, e['fields'], f))
s = [x for x in got[sfile].get('streams', []) if x['name'] == sname]
if not s or s[0]['change'] != 'changed' or s[0].get('content') != 'different':
    bad.append('stream %s: %s' % (sname, s))
if got[touched].get('content') != 'same':
    bad.append('content of the file put back: %s' % got[touched].get('content'))
if got[same].get('content') != 'different' or got[inplace].get('content') != 'different':
    bad.append('content of the changed files: %s %s' % (got[same].get('content'), got[inplace].get('content')))
n = (d['added'], d['removed'], d['changed'])
if n != (sum(1 for k, _ in want.values() if k == 'added'), sum(1 for k, _ in want.values() if k == 'removed'),
         sum(1 for k, _ in want.values() if k == 'changed')):
    bad.append('counts %s' % (n,))
print('\n'.join(bad) if bad else 'exact %d' % len(want))
PY
case "$(cat "$T/r")" in exact*) ok "json: exactly the expected paths and changes ($(cat "$T/r"))" ;; *) not_ok "json: expected set"; sed 's/^/#   /' "$T/r" ;; esac
is "$(json_get "$T/d.json" common_ancestor | sed 's|.*/||'),$(json_get "$T/d.json" above_ancestor_a),$(json_get "$T/d.json" above_ancestor_b)" \
    "base.vhd,0,1" "json: the common ancestor is A itself, B one image above it"
shared=$(json_get "$T/d.json" streams_shared)
[ "$shared" -gt 20 ] && ok "the shortcut judged $shared unchanged streams without reading" || not_ok "shortcut unused ($shared)"

# --read-all (no shortcut) finds the same set; --no-content does not see the changes made under the file system
vk diff "$T/base.vhd" "$T/child.vhd" --json --read-all >"$T/all.json"
is "$(jq -c '[.differences[] | [.path, .change, .fields]]' "$T/all.json")" "$(jq -c '[.differences[] | [.path, .change, .fields]]' "$T/d.json")" \
    "--read-all: the same differences"
is "$(json_get "$T/all.json" streams_shared)" 0 "--read-all: nothing judged from shared clusters"
vk diff "$T/base.vhd" "$T/child.vhd" --json --no-content >"$T/nc.json"
is "$(jq -r --arg a "$INPLACE" --arg b "$SFILE" '[.differences[] | select(.path == $a or .path == $b)] | length' "$T/nc.json"),$(json_get "$T/nc.json" bytes_read)" \
    "0,0" "--no-content: nothing read, the under-the-file-system changes unseen"
vk diff "$T/base.vhd" "$T/child.vhd" --json --path "${GONE%/*}" >"$T/p.json"
is "$(jq -r --arg g "${GONE%/*}/" '[.differences[] | select((.path + "/") | startswith($g) | not)] | length' "$T/p.json"),$(jq '.removed > 0' "$T/p.json")" \
    "0,true" "--path: only what is under the folder"

# reversed: added and removed swap
vk diff "$T/child.vhd" "$T/base.vhd" --json >"$T/rev.json"
is "$(jq -c '[.added, .removed, .changed]' "$T/rev.json")" "$(jq -c '[.removed, .added, .changed]' "$T/d.json")" \
    "B A: added and removed swap"
is "$(status vk diff "$T/base.vhd" "$T/base.vhd" --json),$(jq -c '[.differences, .added, .removed, .changed]' "$T/out")" \
    "0,[[],0,0,0]" "diff base base: exit 0, nothing"

# ---- the peer: sleuthkit on the raw disks ----
raw() { rm -f "$2" && vk convert "$1" "$2" --type raw >/dev/null; }
offset() { mmls "$1" | awk '/NTFS/ { print $3 + 0; exit }'; }
raw "$T/base.vhd" "$T/base.raw"
raw "$T/child.vhd" "$T/child.raw"
off=$(offset "$T/base.raw")
is "$off" 2048 "mmls finds the NTFS partition"
if python3 "$PEER" "$T/base.raw" "$off" "$T/child.raw" "$off" "$T/d.json" >"$T/peer"; then ok "sleuthkit agrees: base / child ($(tail -n 1 "$T/peer" | sed 's/^# //'))"; else not_ok "sleuthkit: base / child"; sed 's/^/#   /' "$T/peer"; fi

# siblings over one base: a second child with its own changes
vk snapshot "$T/base.vhd" "$T/sib.vhd" >/dev/null
pattern "$T/sib.txt" 777
vk put "$T/sib.vhd" "$T/sib.txt" /Users/sib.txt >/dev/null
vk rm "$T/sib.vhd" "$SAME" >/dev/null
printf 'sibling bytes' | vk write "$T/sib.vhd" --offset $((lba * 512 + 300)) >/dev/null
is "$(status vk diff "$T/child.vhd" "$T/sib.vhd" --json)" 1 "siblings: exit 1"
cp "$T/out" "$T/s.json"
is "$(json_get "$T/s.json" common_ancestor | sed 's|.*/||'),$(json_get "$T/s.json" above_ancestor_a),$(json_get "$T/s.json" above_ancestor_b)" \
    "base.vhd,1,1" "siblings: the base is the common ancestor, one image above it on each side"
is "$(jq -r --arg p "$INPLACE" '.differences[] | select(.path == $p) | .fields | join(",")' "$T/s.json")" "content" \
    "siblings: both changed one file under the file system, differently: content"
raw "$T/sib.vhd" "$T/sib.raw"
if python3 "$PEER" "$T/child.raw" "$off" "$T/sib.raw" "$off" "$T/s.json" >"$T/peer"; then ok "sleuthkit agrees: siblings ($(tail -n 1 "$T/peer" | sed 's/^# //'))"; else not_ok "sleuthkit: siblings"; sed 's/^/#   /' "$T/peer"; fi

# unrelated images: the child flattened by convert shares no chain with the base, so every same-size file is read
vk convert "$T/child.vhd" "$T/flat.vhd" >/dev/null
vk diff "$T/base.vhd" "$T/flat.vhd" --json >"$T/f.json"
is "$(json_get "$T/f.json" common_ancestor),$(json_get "$T/f.json" streams_shared)" ",0" "unrelated images: no ancestor, nothing shared"
is "$(jq -c '[.differences[] | [.path, .change, .fields]]' "$T/f.json")" "$(jq -c '[.differences[] | [.path, .change, .fields]]' "$T/d.json")" \
    "unrelated images: the same differences as base / child"
if python3 "$PEER" "$T/base.raw" "$off" "$T/child.raw" "$off" "$T/f.json" >"$T/peer"; then ok "sleuthkit agrees: unrelated images"; else not_ok "sleuthkit: unrelated images"; sed 's/^/#   /' "$T/peer"; fi
# a raw image against its VHD source
is "$(status vk diff "$T/base.raw" "$T/base.vhd"),$(tail -n 1 "$T/out" | cut -d' ' -f1-6)" "0,0 added, 0 removed, 0 changed" "raw base / VHD base: no differences"

# ---- a vk-gen chain of three images (files changed whole or in part, added, removed by each child): every pair
# agrees with vk-gen's own manifests ----
"$VKGEN" --out "$T/c.vhd" --format chain --chain-depth 3 --size 256M --files 80 --pagefile 4M --seed 5 --quiet \
    --manifest "$T/cm"
is "$?" 0 "vk-gen made a chain of three"
for pair in "c-0 c m.0 m" "c-1 c m.1 m" "c-0 c-1 m.0 m.1" "c c-0 m m.0"; do
    set -- $pair
    vk diff "$T/$1.vhd" "$T/$2.vhd" --json >"$T/cd.json"
    if python3 "$VHDKIT_SRCDIR/tests/e2e/diff_manifest.py" "$T/cm${3#m}" "$T/cm${4#m}" "$T/cd.json" >"$T/cr"; then
        ok "chain $1 / $2: vk-gen's manifests agree ($(tail -n 1 "$T/cr" | sed 's/^# //'); $(jq -r '"\(.streams_shared) streams from shared clusters"' "$T/cd.json"))"
    else
        not_ok "chain $1 / $2: vk-gen's manifests"
        sed 's/^/#   /' "$T/cr" | head -20
    fi
done
is "$(jq -c '[.above_ancestor_a, .above_ancestor_b]' "$T/cd.json")" "[2,0]" "chain top / base: two images above the base on A's side"

# ---- --part and --part-b: a GPT disk (EFI, MSR, Windows) against the MBR base ----
"$VKGEN" --out "$T/g.vhd" --layout gpt --size 256M --files 30 --pagefile 4M --seed 9 --quiet
vk diff "$T/g.vhd" "$T/base.vhd" --json >"$T/g.json"
gp=$(json_get "$T/g.json" partition_a)
is "$gp,$(json_get "$T/g.json" partition_b),$(json_get "$T/g.json" common_ancestor)" "$gp,1," \
    "GPT / MBR: each side's Windows volume chosen, nothing shared"
[ "$gp" -gt 1 ] && ok "the GPT disk's Windows volume is partition $gp" || not_ok "GPT partition $gp"
vk diff "$T/g.vhd" "$T/base.vhd" --json --part "$gp" --part-b 1 >"$T/g2.json"
is "$(jq -c '[.differences[] | [.path, .change, .fields]]' "$T/g2.json")" "$(jq -c '[.differences[] | [.path, .change, .fields]]' "$T/g.json")" \
    "--part N --part-b 1: the same as the default choice"
is "$(status vk diff "$T/g.vhd" "$T/base.vhd" --part "$gp")" 2 "--part without --part-b applies to B too: no such partition on B, exit 2"
grep -q "base.vhd.*no partition $gp" "$T/err" && ok "the message names B and the partition" || not_ok "message: $(cat "$T/err")"
is "$(status vk diff "$T/g.vhd" "$T/base.vhd" --part 1 --part-b 1)" 3 "--part naming the EFI (FAT) partition: exit 3"

# ---- bad input ----
is "$(status vk diff "$T/base.vhd" "$T/missing.vhd")" 3 "a missing image: exit 3"
grep -q "missing.vhd" "$T/err" && ok "the message names the missing image" || not_ok "message: $(cat "$T/err")"
head -c 50000000 "$T/base.raw" >"$T/trunc.raw"
head -c 1000000 "$T/base.vhd" >"$T/trunc.vhd"
is "$(status vk diff "$T/base.vhd" "$T/trunc.vhd")" 3 "a truncated VHD: exit 3"
grep -q "trunc.vhd" "$T/err" && ok "the message names the truncated image" || not_ok "message: $(cat "$T/err")"
st=$(status vk diff "$T/trunc.raw" "$T/base.vhd")
is "$st" 3 "a truncated raw disk (volume cut short): exit 3"
grep -q "trunc.raw" "$T/err" && ok "the message names it" || not_ok "message: $(cat "$T/err")"
truncate -s 8M "$T/zero.raw"
is "$(status vk diff "$T/zero.raw" "$T/base.vhd")" 3 "a disk without an NTFS volume: exit 3"
grep -q "zero.raw.*no NTFS volume" "$T/err" && ok "the message says there is no NTFS volume" || not_ok "message: $(cat "$T/err")"
is "$(status vk diff "$T/base.vhd" "$T/child.vhd" --part 9)" 2 "--part naming no partition: exit 2"
is "$(status vk diff "$T/base.vhd")" 2 "one image: usage, exit 2"
