#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks `vhdkit diff --json A B` against the manifests vk-gen wrote for A and B (KIND SHA256 SIZE PATH lines;
KIND d folder, f file, s named stream as file:stream): a path in one manifest only must be added or removed; a file
or stream whose sha256 differs must be changed with content or size (streams: the stream listed); same bytes must
not be reported with content, size or streams. Prints disagreements; exits 1 when there is one.

usage: diff_manifest.py MANIFEST_A MANIFEST_B VHDKIT_JSON"""
import json
import sys


def load(path):
    m = {}
    for line in open(path, encoding='utf-8'):
        kind, sha, size, p = line.rstrip('\n').split(' ', 3)
        m['/' + p] = (kind, sha, int(size))
    return m


a, b = load(sys.argv[1]), load(sys.argv[2])
got = {e['path']: e for e in json.load(open(sys.argv[3]))['differences']}
bad = []
paths = {p for p in a.keys() | b.keys() if a.get(p, b.get(p))[0] != 's'}
for p in sorted(paths | got.keys()):
    e = got.get(p)
    if p not in paths:
        bad.append('%s: reported %s, in neither manifest' % (p, e['change']))
        continue
    if p not in b or p not in a:
        want = 'removed' if p not in b else 'added'
        if not e or e['change'] != want:
            bad.append('%s: want %s, got %s' % (p, want, e and e['change']))
        continue
    if e and e['change'] != 'changed':
        bad.append('%s: in both manifests, reported %s' % (p, e['change']))
        continue
    fields = set(e['fields']) if e else set()
    data = a[p][0] != b[p][0] or a[p][1:] != b[p][1:]
    if data != bool(fields & {'content', 'size', 'type'}):
        bad.append('%s: manifest %s, vhdkit fields %s' % (p, 'differs' if data else 'same', sorted(fields)))
    sa = {s: v for s, v in a.items() if v[0] == 's' and s.rsplit(':', 1)[0] == p}
    sb = {s: v for s, v in b.items() if v[0] == 's' and s.rsplit(':', 1)[0] == p}
    if (sa != sb) != ('streams' in fields):
        bad.append('%s: streams %s -> %s, vhdkit fields %s' % (p, sorted(sa), sorted(sb), sorted(fields)))
for x in bad:
    print('# ' + x)
print('# %d paths, %d reported, %d disagreements' % (len(paths), len(got), len(bad)))
sys.exit(1 if bad else 0)
