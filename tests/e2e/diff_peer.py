#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The differences between two NTFS volumes as sleuthkit sees them, compared with `vhdkit diff --json`.

usage: diff_peer.py RAW_A OFFSET_A RAW_B OFFSET_B VHDKIT_JSON   (offsets in 512-byte sectors)
       diff_peer.py --list RAW_A OFFSET_A RAW_B OFFSET_B        (just print the peer's differences)

Each volume is listed with `fls -r -p -m /` (path, inode-type-id, type, size, times in seconds) and every file and
named stream is hashed: files from one `tsk_recover -a` run (one process per volume instead of one per file), named
streams and anything tsk_recover left out with `icat`. A path only in B is added, only in A removed; in both it is changed when its
type, size or bytes (sha256), its modification time (files) or creation time differ, or a named stream was added,
removed or has other bytes. The root's metafiles (records below 16) and $OrphanFiles are left out, as vhdkit does.
Prints every disagreement and exits 1 when there is one."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile


def volume(raw, off):
    out = subprocess.run(['fls', '-r', '-p', '-m', '/', '-o', off, raw], check=True, capture_output=True).stdout
    ents = {}
    for line in out.decode('utf-8', 'surrogateescape').splitlines():
        f = line.split('|')
        if len(f) < 11:
            continue
        name = '|'.join(f[1:len(f) - 9])
        rest = f[len(f) - 9:]
        if name.endswith(' ($FILE_NAME)') or '(deleted' in name:
            continue
        ents[name] = {'addr': rest[0], 'type': 'dir' if rest[1][2:3] == 'd' else 'file', 'size': int(rest[4]),
                      'mtime': int(rest[6]), 'crtime': int(rest[8])}
    keep = {}
    for p, e in ents.items():
        top = '/' + p.split('/')[1]
        top = top.split(':')[0]
        if top == '/$OrphanFiles':
            continue
        if top[1:].startswith('$') and top in ents and int(ents[top]['addr'].split('-')[0]) < 16:
            continue
        keep[p] = e
    rec = tempfile.mkdtemp(prefix='diff-peer-')
    try:
        subprocess.run(['tsk_recover', '-a', '-o', off, raw, rec], check=True, capture_output=True)
        for p, e in keep.items():
            if e['type'] != 'file':
                continue
            host = os.path.join(rec, p.lstrip('/'))
            if ':' not in p.rsplit('/', 1)[1] and os.path.isfile(host) and not os.path.islink(host):
                data = open(host, 'rb').read()
            else:
                data = subprocess.run(['icat', '-o', off, raw, e['addr']], check=True, capture_output=True).stdout
            e['sha'] = hashlib.sha256(data).hexdigest()
            e['size'] = len(data)
    finally:
        shutil.rmtree(rec)
    return keep


def split(v):
    """(paths, streams): streams maps a file path to {stream name: sha}."""
    paths, streams = {}, {}
    for p, e in v.items():
        leaf = p.rsplit('/', 1)[1]
        if ':' in leaf:
            base, s = p.rsplit(':', 1)
            streams.setdefault(base, {})[s] = e['sha']
        else:
            paths[p] = e
    return paths, streams


def peer_diff(a, b):
    pa, sa = split(a)
    pb, sb = split(b)
    d = {}
    for p in pa.keys() - pb.keys():
        d[p] = ('removed', False, False)
    for p in pb.keys() - pa.keys():
        d[p] = ('added', False, False)
    for p in pa.keys() & pb.keys():
        x, y = pa[p], pb[p]
        data = x['type'] != y['type'] or (x['type'] == 'file' and (x['size'] != y['size'] or x['sha'] != y['sha']))
        streams = sa.get(p, {}) != sb.get(p, {})
        times = x['crtime'] != y['crtime'] or (x['type'] == 'file' and x['mtime'] != y['mtime'])
        if data or streams or times:
            d[p] = ('changed', data, streams)
    return d


def vk_diff(path):
    d = {}
    for e in json.load(open(path))['differences']:
        f = set(e.get('fields', []))
        d[e['path']] = (e['change'], bool(f & {'content', 'size', 'type'}), 'streams' in f)
    return d


def main():
    if sys.argv[1] == '--list':
        for p, v in sorted(peer_diff(volume(*sys.argv[2:4]), volume(*sys.argv[4:6])).items()):
            print(v[0], p, 'data' if v[1] else '', 'streams' if v[2] else '')
        return 0
    peer = peer_diff(volume(*sys.argv[1:3]), volume(*sys.argv[3:5]))
    vk = vk_diff(sys.argv[5])
    bad = 0
    for p in sorted(peer.keys() | vk.keys()):
        if peer.get(p) != vk.get(p):
            print('# %s: sleuthkit %s, vhdkit %s' % (p, peer.get(p), vk.get(p)))
            bad += 1
    print('# %d paths differ by sleuthkit, %d by vhdkit, %d disagreements' % (len(peer), len(vk), bad))
    return 1 if bad else 0


sys.exit(main())
