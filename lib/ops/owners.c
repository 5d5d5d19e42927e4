/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cluster-owner index: one pass over $MFT (read in large pieces through libntfs-3g's $MFT attribute), every
 * record checked (magic, update sequence fixups, bounds) and decoded: non-resident attributes' mapping pairs
 * (NTFS "Attribute record", "Data runs") become runs, FILE_NAME attributes give names and parents. Extension records
 * are read like any other and credited to their base record, so attribute lists need no second lookup. */
/* ntfs_int.h first: it sets up what libntfs-3g's headers expect. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ntfs-3g/mst.h>
#include <ntfs-3g/runlist.h>

#include "core/bytes.h"
#include "core/utf16.h"
#include "ops/owners_int.h"
#include "core/sort.h"

/* Records read per $MFT read: 1 MiB at 4 KiB records, 256 KiB at 1 KiB. */
#define CHUNK_RECORDS 256u

/* FILE record header and attribute record fields (NTFS 3.1, libntfs-3g layout.h). */
#define REC_ATTRS_OFF 20
#define REC_FLAGS 22
#define REC_BYTES_IN_USE 24
#define REC_BASE 32
#define REC_IN_USE 0x0001u
#define REC_IS_DIR 0x0002u
#define ATTR_END 0xffffffffu
#define ATTR_HDR_LEN 24u
#define ATTR_NONRES_HDR_LEN 64u
#define ATTR_FILE_NAME 0x30u
#define FN_NAME_LEN 64
#define FN_NAME_TYPE 65
#define FN_NAME 66
#define FN_NS_DOS 2u
#define MREF_MASK 0xffffffffffffull /* the low 48 bits of an MFT reference are the record number */

struct scan {
    vk_owners *o;
    vk_ntfs *v;
    ntfs_volume *vol;
    uint32_t recsize;
};

static int nomem(struct scan *s, vk_error *err)
{
    return vk_fail(err, VK_E_NOMEM, s->v->dev->name, VK_NO_OFFSET, "cannot grow the cluster-owner index");
}

static int grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint64_t n = *cap ? *cap * 2 : 1024;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / elem)
        return -1;
    void *q = realloc(*p, (size_t)(n * elem));
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Appends a NUL-terminated string to the arena; returns its offset or 0 when it cannot (offset 0 is ""). */
static int add_str(vk_owners *o, const char *s, uint32_t *off)
{
    size_t n = strlen(s) + 1;
    if (n == 1) {
        *off = 0;
        return 0;
    }
    if (o->str_len + n > UINT32_MAX || grow((void **)&o->str, &o->str_cap, o->str_len + n, 1))
        return -1;
    memcpy(o->str + o->str_len, s, n);
    *off = (uint32_t)o->str_len;
    o->str_len += n;
    return 0;
}

/* UTF-16LE name of `units` code units to UTF-8 in the arena; undecodable names are kept as "?" so a path stays. */
static int add_ucs(vk_owners *o, const uint8_t *p, unsigned units, uint32_t *off)
{
    char buf[1024];
    if (vk_utf16_to_utf8(p, (size_t)units * 2, VK_UTF16_LE, buf, sizeof buf) < 0)
        strcpy(buf, "?");
    return add_str(o, buf, off);
}

static int add_name(struct scan *s, uint32_t base, const uint8_t *a, uint32_t alen, vk_error *err)
{
    if (a[8] != 0 || alen < ATTR_HDR_LEN)
        return 0; /* FILE_NAME is always resident */
    uint32_t vlen = get_le32(a + 16), voff = get_le16(a + 20);
    if (voff > alen || vlen > alen - voff || vlen < FN_NAME)
        return 0;
    const uint8_t *fn = a + voff;
    unsigned units = fn[FN_NAME_LEN];
    uint8_t ns = fn[FN_NAME_TYPE];
    if (FN_NAME + (uint32_t)units * 2 > vlen)
        return 0;
    struct oname *n = &s->o->names[base];
    /* Keep the first non-DOS name; a DOS 8.3 name only until a Win32 or POSIX one shows up. */
    if (n->ns != 0xff && !(n->ns == FN_NS_DOS && ns != FN_NS_DOS))
        return 0;
    uint64_t parent = get_le64(fn) & MREF_MASK;
    if (parent > UINT32_MAX)
        return 0;
    if (add_ucs(s->o, fn + FN_NAME, units, &n->name))
        return nomem(s, err);
    n->parent = (uint32_t)parent;
    n->ns = ns;
    return 0;
}

static int add_run(struct scan *s, uint32_t attr, uint64_t vcn, uint64_t lcn, uint64_t len, vk_error *err)
{
    vk_owners *o = s->o;
    while (len) {
        uint32_t piece = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
        if (grow((void **)&o->runs, &o->cap_runs, o->nruns + 1, sizeof *o->runs))
            return nomem(s, err);
        o->runs[o->nruns++] = (struct orun){lcn, vcn, piece, attr};
        lcn += piece;
        vcn += piece;
        len -= piece;
    }
    return 0;
}

static int add_nonresident(struct scan *s, uint32_t base, uint32_t recno, const uint8_t *a, uint32_t alen,
                           vk_error *err)
{
    vk_owners *o = s->o;
    if (alen < ATTR_NONRES_HDR_LEN)
        return 1;
    unsigned name_units = a[9];
    uint32_t name_off = get_le16(a + 10);
    if (name_units && (name_off > alen || (uint32_t)name_units * 2 > alen - name_off))
        return 1;
    uint16_t aflags = get_le16(a + 12);
    errno = 0;
    runlist_element *rl = ntfs_mapping_pairs_decompress(s->vol, (const ATTR_RECORD *)a, NULL);
    if (!rl)
        return errno == ENOMEM ? nomem(s, err) : 1;
    if (grow((void **)&o->attrs, &o->cap_attrs, o->nattrs + 1, sizeof *o->attrs) || o->nattrs >= UINT32_MAX) {
        free(rl);
        return nomem(s, err);
    }
    struct oattr *at = &o->attrs[o->nattrs];
    *at = (struct oattr){.mft = base, .ext = recno, .type = get_le32(a)};
    at->flags = ((aflags & 0x0001) ? VK_OWNER_COMPRESSED : 0) | ((aflags & 0x8000) ? VK_OWNER_SPARSE : 0) |
                (base != recno ? VK_OWNER_EXTENSION : 0);
    if (name_units && add_ucs(o, a + name_off, name_units, &at->name)) {
        free(rl);
        return nomem(s, err);
    }
    uint32_t idx = (uint32_t)o->nattrs++;
    int rc = 0, bad = 0;
    uint64_t total = (uint64_t)s->vol->nr_clusters;
    for (runlist_element *r = rl; r->length > 0 && !rc; r++) {
        if (r->lcn == LCN_HOLE)
            continue; /* sparse and compressed holes own nothing */
        if (r->lcn < 0 || r->vcn < 0 || (uint64_t)r->lcn > total || (uint64_t)r->length > total - (uint64_t)r->lcn) {
            bad = 1;
            continue;
        }
        rc = add_run(s, idx, (uint64_t)r->vcn, (uint64_t)r->lcn, (uint64_t)r->length, err);
    }
    free(rl);
    return rc ? rc : bad;
}

/* Decodes one record after its fixups. Returns 0, 1 when the record is damaged (counted, skipped), or an error. */
static int add_record(struct scan *s, uint32_t recno, uint8_t *rec, vk_error *err)
{
    uint32_t size = s->recsize;
    if (get_le32(rec) != 0x454c4946u) /* "FILE"; unused records may be zero or "BAAD" */
        return 0;
    uint16_t flags = get_le16(rec + REC_FLAGS);
    if (!(flags & REC_IN_USE))
        return 0;
    s->o->st.in_use++;
    if (ntfs_mst_post_read_fixup((NTFS_RECORD *)rec, size))
        return 1;
    uint32_t used = get_le32(rec + REC_BYTES_IN_USE), off = get_le16(rec + REC_ATTRS_OFF);
    if (used > size || off >= used)
        return 1;
    uint64_t base = get_le64(rec + REC_BASE) & MREF_MASK;
    if (!base)
        base = recno;
    if (base >= s->o->nrecords)
        return 1;
    struct oname *n = &s->o->names[base];
    if (base == recno)
        n->flags |= ONAME_IN_USE | ((flags & REC_IS_DIR) ? ONAME_DIR : 0);
    int bad = 0;
    while (off + 8 <= used) {
        const uint8_t *a = rec + off;
        uint32_t type = get_le32(a);
        if (type == ATTR_END)
            break;
        uint32_t alen = get_le32(a + 4);
        if (alen < ATTR_HDR_LEN || alen > used - off)
            return 1;
        int rc = 0;
        if (type == ATTR_FILE_NAME)
            rc = add_name(s, (uint32_t)base, a, alen, err);
        else if (a[8])
            rc = add_nonresident(s, (uint32_t)base, recno, a, alen, err);
        if (rc < 0)
            return rc;
        bad |= rc;
        off += alen;
    }
    return bad;
}

static int cmp_run(const void *a, const void *b)
{
    const struct orun *x = a, *y = b;
    return x->lcn < y->lcn ? -1 : x->lcn > y->lcn;
}

static int scan_mft(struct scan *s, vk_error *err)
{
    vk_owners *o = s->o;
    ntfs_attr *mft = s->vol->mft_na;
    uint8_t *buf = malloc((size_t)CHUNK_RECORDS * s->recsize);
    if (!buf)
        return nomem(s, err);
    int rc = 0;
    for (uint64_t first = 0; first < o->nrecords && !rc; first += CHUNK_RECORDS) {
        uint64_t n = o->nrecords - first < CHUNK_RECORDS ? o->nrecords - first : CHUNK_RECORDS;
        s64 want = (s64)(n * s->recsize), got = ntfs_attr_pread(mft, (s64)(first * s->recsize), want, buf);
        if (got != want) {
            rc = ntfs_fail(s->v, got < 0 ? errno : EIO, err, "cannot read $MFT records %llu-%llu",
                           (unsigned long long)first, (unsigned long long)(first + n - 1));
            break;
        }
        for (uint64_t i = 0; i < n && !rc; i++) {
            int r = add_record(s, (uint32_t)(first + i), buf + i * s->recsize, err);
            if (r < 0)
                rc = r;
            else
                o->st.bad_records += (uint64_t)r;
        }
    }
    free(buf);
    return rc;
}

int vk_owners_build(vk_ntfs *v, vk_owners **out, vk_error *err)
{
    *out = NULL;
    ntfs_volume *vol = v->vol;
    struct scan s = {.v = v, .vol = vol, .recsize = vol->mft_record_size};
    if (!vol->mft_na || s.recsize < 512 || s.recsize > 65536 || s.recsize % 512)
        return vk_fail(err, VK_E_CORRUPT, v->dev->name, VK_NO_OFFSET, "the volume's $MFT cannot be read");
    uint64_t nrec = (uint64_t)vol->mft_na->data_size / s.recsize;
    if (nrec > UINT32_MAX)
        return vk_fail(err, VK_E_UNSUPPORTED, v->dev->name, VK_NO_OFFSET,
                       "$MFT has %llu records: more than vhdkit indexes", (unsigned long long)nrec);
    vk_owners *o = calloc(1, sizeof *o);
    s.o = o;
    if (!o || !(o->names = malloc((size_t)(nrec ? nrec : 1) * sizeof *o->names))) {
        free(o);
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, "cannot allocate the cluster-owner index");
    }
    o->nrecords = nrec;
    for (uint64_t i = 0; i < nrec; i++)
        o->names[i] = (struct oname){.ns = 0xff};
    o->st.records = nrec;
    o->st.cluster_size = vol->cluster_size;
    o->st.mft_record_size = s.recsize;
    o->st.total_clu = (uint64_t)vol->nr_clusters;
    struct ntfs_sink *prev = log_enter(&v->sink);
    /* Offset 0 of the arena is "": the name of nameless records and unnamed attributes. */
    int rc = grow((void **)&o->str, &o->str_cap, 1, 1) ? nomem(&s, err) : 0;
    if (!rc) {
        o->str[0] = 0;
        o->str_len = 1;
        rc = scan_mft(&s, err);
    }
    log_leave(prev);
    if (rc) {
        vk_owners_free(o);
        return rc;
    }
    vk_sort(o->runs, (size_t)o->nruns, sizeof *o->runs, cmp_run);
    for (uint64_t i = 1; i < o->nruns; i++)
        o->st.overlaps += o->runs[i - 1].lcn + o->runs[i - 1].len > o->runs[i].lcn;
    o->st.runs = o->nruns;
    o->st.mem_bytes = o->cap_runs * sizeof *o->runs + o->cap_attrs * sizeof *o->attrs + nrec * sizeof *o->names +
                      o->str_cap;
    *out = o;
    return 0;
}

void vk_owners_free(vk_owners *o)
{
    if (!o)
        return;
    free(o->runs);
    free(o->attrs);
    free(o->names);
    free(o->str);
    free(o);
}
