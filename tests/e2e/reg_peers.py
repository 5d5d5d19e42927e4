# SPDX-License-Identifier: GPL-2.0-or-later
# reg_peers.py PEER VK.reg PEER-OUTPUT [PEER-STDOUT]: compares vhdkit's `reg export --utf8` with one peer's
# export of the same hive, value by value (key, name, type, data) and key by key. PEER is hx (hivexregedit
# --export), rf (regfexport) or rg (reged -x; its stdout names the keys it skipped). Prints one line:
# "values=N keys=K valdiff=D keydiff=E RULE=count...". Differences are listed on stderr.
# With PEER "tuples" (and - for PEER-OUTPUT) it prints vhdkit's export as sorted tuples instead.
# vhdkit's export is read strictly (UTF-8, exact bytes); a peer's output goes through the named rules below,
# one per known cause, each found by looking at the raw cells (libregf's "Windows NT Registry File (REGF)
# format" and the behaviour of the peers' sources); every rule counts how often it applied.
import sys, re, collections
peer, vkf, pf = sys.argv[1:4]
pout = sys.argv[4] if len(sys.argv) > 4 else None
def dec(b, strict=False):
    if strict: return b.decode('utf-8', 'surrogateescape')
    try: return b.decode('utf-8')
    except UnicodeDecodeError: return b.decode('latin-1')
def sb(s): return s.encode('utf-16-le', 'surrogatepass')
rules = collections.Counter()
def parse_reg(raw, who):
    if raw[:2] == b'\xff\xfe': raw = raw[2:].decode('utf-16-le', 'surrogatepass').encode('utf-8', 'surrogatepass')
    lines = [l if who == 'hx' else l.rstrip(b'\r') for l in raw.split(b'\n')]
    logical = []; i = 0
    while i < len(lines):
        l = lines[i]; i += 1
        while l.startswith(b'[') and not l.endswith(b']') and i < len(lines):
            # a key name holding a line break is written raw by every writer (.reg has no escape for it)
            l = l + (b'\n' if who == 'hx' else b'\r\n') + lines[i]; i += 1
        while l.endswith(b'\\') and not l.startswith(b'[') and i < len(lines):
            l = l[:-1] + lines[i].lstrip(); i += 1
        logical.append(l)
    keys = []; vals = []; key = None
    for l in logical:
        if l.startswith(b'[') and l.endswith(b']'):
            k = dec(l[1:-1], who == 'vk').split('\\', 2)
            key = k[2] if len(k) > 2 else ''
            if key.endswith('\\') and who == 'hx':
                key = key[:-1]
            keys.append(key); continue
        if key is None or not l or l.startswith(b';'): continue
        while l:
            if l.startswith(b'@='): name, j = '@', 2
            elif l.startswith(b'"'):
                j = 1; nb = b''
                while j < len(l) and l[j:j+1] != b'"':
                    if l[j:j+1] == b'\\': j += 1
                    nb += l[j:j+1]; j += 1
                name = dec(nb, who == 'vk'); j += 2
            else:
                vals.append((key, '?', -2, l)); break
            rest = l[j:]; l = b''
            if rest.startswith(b'"'):
                m = re.match(rb'"((?:[^"\\]|\\.)*)"', rest)
                s = re.sub(r'\\(.)', r'\1', dec(m.group(1), who == 'vk')); t, d = 1, sb(s) + b'\0\0'
            elif rest.startswith(b'dword:'): t, d = 4, int(rest[6:14], 16).to_bytes(4, 'little')
            else:
                m = re.match(rb'hex(?:\(([0-9a-fA-F]+)\))?:([0-9a-fA-F,]*)(.*)$', rest)
                if not m: vals.append((key, name, -3, rest)); continue
                t = int(m.group(1), 16) if m.group(1) else 3
                d = bytes.fromhex(m.group(2).replace(b',', b'').decode())
                if m.group(3).startswith(b'"') and peer == 'rg' and who == 'rg':
                    # rule rg-empty-hex-eol: reged writes no line break after an empty hex: value
                    rules['rg-empty-hex-eol'] += 1; l = m.group(3)
            vals.append((key, name, t, d))
    return keys, vals
TYPES = {'REG_NONE': 0, 'REG_SZ': 1, 'REG_EXPAND_SZ': 2, 'REG_BINARY': 3, 'REG_DWORD_LITTLE_ENDIAN': 4,
         'REG_DWORD_BIG_ENDIAN': 5, 'REG_LINK': 6, 'REG_MULTI_SZ': 7, 'REG_RESOURCE_LIST': 8,
         'REG_FULL_RESOURCE_DESCRIPTOR': 9, 'REG_RESOURCE_REQUIREMENTS_LIST': 10, 'REG_QWORD_LITTLE_ENDIAN': 11}
def parse_regf(raw):
    lines = raw.split(b'\n'); keys = []; vals = []; key = None; i = 0
    while i < len(lines):
        l = dec(lines[i]); i += 1
        if l.startswith('Key path: '):
            while i < len(lines) and not lines[i].startswith(b'Key: '):
                l += '\n' + dec(lines[i]); i += 1
            key = '\\'.join(l[10:].split('\\')[1:]); keys.append(key); continue
        if not l.startswith('Value: ') or key is None: continue
        name = l[7:].split(' ', 1)[1] if ' ' in l[7:] else ''
        if name == '(default)': name = '@'
        tl = dec(lines[i]); i += 1
        m = re.search(r'\((REG_\w+)\)$', tl)
        t = TYPES[m.group(1)] if m else int(tl.split('0x')[1], 16)
        size = int(dec(lines[i]).split(':')[1]); i += 1
        d = ('none',)
        if i < len(lines) and lines[i].startswith(b'Data:'):
            rest = lines[i][6:]; i += 1
            if rest == b'' and i < len(lines) and re.match(rb'[0-9a-f]{8}: ', lines[i]):
                h = b''
                while i < len(lines) and re.match(rb'[0-9a-f]{8}: ', lines[i]):
                    h += bytes.fromhex(''.join(re.findall(r'\b[0-9a-f]{2}\b', dec(lines[i][10:59])))); i += 1
                d = ('hex', h)
            elif False:
                # text runs to the blank line that ends the value (a string may hold line breaks)
                t_lines = [rest]
                while i + 1 < len(lines) and not (lines[i] == b'' and (lines[i + 1][:7] in (b'Value: ', b'Key pat') or lines[i + 1] == b'')):
                    t_lines.append(lines[i]); i += 1
                d = ('text', dec(b'\n'.join(t_lines)))
            else:
                d = ('text', dec(rest))
        vals.append((key, name, t, (size, d)))
    return keys, vals
vkk, vkv = parse_reg(open(vkf, 'rb').read(), 'vk')
if peer == 'tuples':
    # reg_peers.py tuples VK.reg -: vhdkit's export as sorted "key<TAB>name<TAB>type<TAB>hex" lines
    out = ['%s\t\t-1\t' % k for k in vkk] + ['%s\t%s\t%d\t%s' % (k, n, t, d.hex()) for k, n, t, d in vkv]
    print('\n'.join(sorted(out)))
    sys.exit(0)
raw = open(pf, 'rb').read()
pk, pv = parse_regf(raw) if peer == 'rf' else parse_reg(raw, peer)
# project vk's exact values into what the peer can show
CTRL = re.compile('\n$')
def rf_view(k, n, t, d):
    if not d and t not in (1, 2): return (k, n, t, (0, ('none',)))
    full = d
    if 0 < len(d) < 4:
        # rf-resident-short: data of 1-3 bytes kept in the vk's offset field is read from the field's far end
        rules['rf-resident-short'] += 1
        d = (d + bytes(4 - len(d)))[4 - len(d):]
    if t in (1, 2):
        units = d[:len(d) & ~1]
        s = units.decode('utf-16-le', 'replace')
        if CTRL.search(s.split('\0')[0]):
            # rf-final-newline: regfexport does not show a line break that ends a string
            rules['rf-final-newline'] += 1
        if len(full) > 4 and '\0' not in s:
            # rf-unterminated: an unterminated string in a data cell is read on into the cell's slack up to a NUL
            return (k, n, t, ('unterm', CTRL.sub('', s), len(d)))
        if len(full) <= 4 and '\0' in s.rstrip('\0'):
            # rf-resident-string: a string kept in the vk's offset field is shown with its NULs left out
            rules['rf-resident-string'] += 1
            s = s.replace('\0', '')
        s = s.split('\0')[0]
        size = len(d) if len(full) <= 4 else len(s.encode('utf-16-le', 'surrogatepass')) + 2 if d else 0
        if size != len(d):
            # rf-string-size: "Data size" of a string is its length up to the first NUL, not the stored size
            rules['rf-string-size'] += 1
        return (k, n, t, (size, ('text', CTRL.sub('', s))))
    if t == 4 and len(d) == 4: return (k, n, t, (4, ('text', str(int.from_bytes(d, 'little')))))
    if t == 5 and len(d) == 4: return (k, n, t, (4, ('text', str(int.from_bytes(d, 'big')))))
    if t == 11 and len(d) == 8: return (k, n, t, (8, ('text', str(int.from_bytes(d, 'little')))))
    return (k, n, t, (len(d), ('hex', d)))
def cp1252(x):
    # rf-codepage: regfexport decodes 8-bit (compressed) names with Windows-1252; Windows widens each byte (Latin-1)
    y = ''.join(bytes([ord(c)]).decode('cp1252', 'replace') if 0x80 <= ord(c) <= 0x9f else c for c in x)
    if y != x: rules['rf-codepage'] += 1
    return y
def rg_view(k, n, t, d):
    if t == 1:
        s = d[:len(d) & ~1].decode('utf-16-le', 'surrogatepass').split('\0')[0]
        e = s.encode('utf-16-le', 'surrogatepass') + b'\0\0'
        if e != d:
            # rg-sz-text: reged writes every REG_SZ as "text": cut at the first NUL, one NUL added back
            rules['rg-sz-text'] += 1
        d = e
    if t == 4 and len(d) != 4:
        # rg-dword-size: reged prints any REG_DWORD as dword:XXXXXXXX, reading 4 bytes whatever the data size
        rules['rg-dword-size'] += 1; return (k, n, t, b'?dword')
    if len(d) > 16344:
        # rg-bigdata: reged knows no big-data (db) records: it prints the db record itself as the data
        rules['rg-bigdata'] += 1; d = b'?'
    return (k, n, t, d)
if peer == 'rf':
    vkk = [cp1252(k) for k in vkk]
    vkv = [rf_view(cp1252(k), cp1252(n), t, d) for k, n, t, d in vkv]
if peer == 'hx':
    # nul-name: vhdkit, like regfexport and reged, cuts a name at an embedded NUL (hivex's C-string name calls);
    # hivexregedit writes the NUL. A known vhdkit limitation.
    def cut(x):
        if '\0' in x: rules['nul-name'] += 1
        return '\\'.join(c.split('\0')[0] for c in x.split('\\'))
    pk = [cut(k) for k in pk]; pv = [(cut(k), cut(n), t, d) for k, n, t, d in pv]
if peer == 'rg':
    if pk and pk[0] != '':
        # rg-root-name: reged takes a root key whose flags lack KEY_HIVE_ENTRY (0x4; testhive's root has 0x20,
        # DeletedTree*Hive's none) for a subkey and prints its name as a first path component
        rules['rg-root-name'] += 1
        r = pk[0]
        pk = [x[len(r) + 1:] if x.startswith(r + '\\') else '' if x == r else x for x in pk]
        pv = [(k[len(r) + 1:] if k.startswith(r + '\\') else '' if k == r else k, n, t, d) for k, n, t, d in pv]
    skipped = set()
    if pout:
        for m in re.finditer(rb"export_subkey: Key '(.*)' not found!", open(pout, 'rb').read()):
            skipped.add(dec(m.group(1)))
    leaves = {c for k in vkk for c in k.split('\\')}
    for x in [x for x in skipped if x not in leaves]:
        # the name reged reports is mangled (not 8-bit): the key it means is a missing one whose name is not Latin-1
        pks = set(pk)
        for k in vkk:
            if k not in pks and max(map(ord, k.split('\\')[-1] or 'a')) > 0xff and k.split('\\')[-1] not in skipped:
                skipped.add(k.split('\\')[-1]); break
    def gone(k):
        return any(c in skipped for c in k.split('\\'))
    # rg-not-found: reged looks subkeys up again by a name it has converted to 8 bits; names that do not survive
    # (UTF-16 names, '\\') are reported "not found" and their subtrees are missing from its export
    n0 = len(vkk) + len(vkv)
    vkk = [k for k in vkk if not gone(k)]
    vkv = [v for v in vkv if not gone(v[0])]
    rules['rg-not-found'] += n0 - len(vkk) - len(vkv)
    odd = {(k, n) for k, n, t, d in vkv if t == 4 and len(d) != 4}
    big = {(k, n) for k, n, t, d in vkv if len(d) > 16344}
    vkv = [rg_view(*v) for v in vkv]
    pv = [(k, n, t, b'?dword' if t == 4 and (k, n) in odd else d) for k, n, t, d in pv]
    pv = [(k, n, t, b'?' if len(d) > 16344 or (k, n) in big and d[:2] == b'db' else d) for k, n, t, d in pv]
A = collections.Counter(vkk); B = collections.Counter(pk)
C = collections.Counter(vkv); D = collections.Counter(pv)
for x in list((C - D).elements()):
    if peer != 'rf' or x[3][0] != 'unterm': continue
    for y in (D - C).elements():
        if y[:3] == x[:3] and y[3][1][0] == 'text' and y[3][1][1].startswith(x[3][1]) and y[3][0] >= x[3][2]:
            C[x] -= 1; D[y] -= 1; rules['rf-unterminated'] += 1; break
if peer in ('hx', 'rg'):
    # parent-path: hivexregedit and reged name a key by following its parent field, not the subkey list that
    # reaches it: a key listed under a foreign parent (BadListHive, BadSubkeyHive) or with a bad parent field
    # (InvalidParentHive) is printed under that other path. Paired by leaf name.
    for x in list((A - B).elements()):
        for y in (B - A).elements():
            if y.split('\\')[-1] == x.split('\\')[-1]:
                A[x] -= 1; B[y] -= 1; rules['parent-path'] += 1; break
    A += collections.Counter(); B += collections.Counter()
kd = (A - B) + (B - A); vd = (C - D) + (D - C)
print('values=%d keys=%d valdiff=%d keydiff=%d %s' % (len(vkv), len(vkk), sum(vd.values()), sum(kd.values()), ' '.join('%s=%d' % x for x in rules.items())))
for x in sorted(A - B): print('  vk-key', repr(x)[:200], file=sys.stderr)
for x in sorted(B - A): print('  pe-key', repr(x)[:200], file=sys.stderr)
for x in sorted(C - D, key=repr): print('  vk-val', repr(x)[:300], file=sys.stderr)
for x in sorted(D - C, key=repr): print('  pe-val', repr(x)[:300], file=sys.stderr)
