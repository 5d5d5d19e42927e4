/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff: are the bytes of a same-size data stream equal? Without reading when both sides map it to the same clusters
 * and those lie where only the common chain ancestor stores data; else read both sides in 1 MiB pieces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/diff_int.h"

#define ATTR_DATA 0x80u
/* Bits that change how clusters turn into bytes: sparse, compressed, encrypted. */
#define FILE_ATTR_SPARSE 0x200u
#define FILE_ATTR_COMPRESSED 0x800u
#define FILE_ATTR_ENCRYPTED 0x4000u
#define DECODING_BITS (FILE_ATTR_SPARSE | FILE_ATTR_COMPRESSED | FILE_ATTR_ENCRYPTED)

/* The records of stream `name` ("" = unnamed): first record and total runs; 0 runs and resident 1 when resident. */
struct stream_map {
    const vk_ntfs_attr *first;
    unsigned nrec;
    unsigned nruns;
};

static void find_stream(const vk_ntfs_stat *st, const char *name, struct stream_map *m)
{
    memset(m, 0, sizeof *m);
    for (unsigned i = 0; i < st->nattrs; i++) {
        const vk_ntfs_attr *a = &st->attrs[i];
        if (a->type != ATTR_DATA || strcmp(a->name, name))
            continue;
        if (!m->first)
            m->first = a;
        m->nrec++;
        m->nruns += a->nruns;
    }
}

/* The i-th run of the stream across its records. */
static const vk_ntfs_run *run_at(const vk_ntfs_stat *st, const char *name, unsigned i)
{
    for (unsigned k = 0; k < st->nattrs; k++) {
        const vk_ntfs_attr *a = &st->attrs[k];
        if (a->type != ATTR_DATA || strcmp(a->name, name))
            continue;
        if (i < a->nruns)
            return &a->runs[i];
        i -= a->nruns;
    }
    return NULL;
}

/* 1 when both sides map the stream to the same clusters and no image above the common ancestor stores any of them. */
static int shared(struct diff_ctx *d, const char *name, const vk_ntfs_stat *sa, const vk_ntfs_stat *sb)
{
    if (!d->fast || (d->flags & VK_DIFF_NO_SHARED) || ((sa->file_attrs ^ sb->file_attrs) & DECODING_BITS))
        return 0;
    struct stream_map ma, mb;
    find_stream(sa, name, &ma);
    find_stream(sb, name, &mb);
    if (!ma.first || !mb.first || ma.first->resident || mb.first->resident || ma.nruns != mb.nruns ||
        ma.first->alloc_size != mb.first->alloc_size)
        return 0;
    uint64_t cs = d->cluster_size, base = d->side[0]->part_off;
    for (unsigned i = 0; i < ma.nruns; i++) {
        const vk_ntfs_run *ra = run_at(sa, name, i), *rb = run_at(sb, name, i);
        if (!ra || !rb || ra->vcn != rb->vcn || ra->lcn != rb->lcn || ra->len_clu != rb->len_clu)
            return 0;
        if (ra->lcn < 0)
            continue; /* a hole reads as zeros on both sides */
        if ((uint64_t)ra->lcn > UINT64_MAX / cs || ra->len_clu > UINT64_MAX / cs)
            return 0;
        int u = diff_chain_untouched(&d->chain, base + (uint64_t)ra->lcn * cs, ra->len_clu * cs, d->err);
        if (u <= 0)
            return u;
    }
    return 1;
}

static int read_side(struct diff_ctx *d, int s, const char *spath, uint64_t off, size_t want, size_t *got)
{
    vk_error e = {0};
    int rc = vk_ntfs_pread(d->side[s]->vol, spath, d->buf[s], want, off, got, &e);
    if (rc)
        *d->err = e;
    return rc;
}

int diff_content(struct diff_ctx *d, const char *path, const char *stream, const vk_ntfs_stat *sa,
                 const vk_ntfs_stat *sb, uint64_t size, enum vk_diff_content *out)
{
    *out = VK_DIFF_C_NONE;
    if (!size) {
        *out = VK_DIFF_C_SAME;
        return 0;
    }
    int sh = shared(d, stream, sa, sb);
    if (sh < 0)
        return sh;
    /* libntfs-3g does not decrypt EFS files: unless shared, their bytes stay not compared (VK_DIFF_C_NONE). */
    if (!sh && ((sa->file_attrs | sb->file_attrs) & FILE_ATTR_ENCRYPTED))
        return 0;
    d->res->streams_compared++;
    if (sh) {
        d->res->streams_shared++;
        *out = VK_DIFF_C_SHARED;
        return 0;
    }
    size_t n = strlen(path) + strlen(stream) + 2;
    char *spath = malloc(n);
    if (!spath)
        return vk_fail(d->err, VK_E_NOMEM, d->side[0]->name, VK_NO_OFFSET, NULL);
    snprintf(spath, n, "%s%s%s", path, *stream ? ":" : "", stream);
    d->res->streams_read++;
    int rc = 0;
    enum vk_diff_content c = VK_DIFF_C_SAME;
    for (uint64_t off = 0; off < size && c == VK_DIFF_C_SAME;) {
        size_t want = size - off < DIFF_CHUNK ? (size_t)(size - off) : DIFF_CHUNK, ga = 0, gb = 0;
        if ((rc = read_side(d, 0, spath, off, want, &ga)) || (rc = read_side(d, 1, spath, off, want, &gb)))
            break;
        d->res->bytes_read += ga + gb;
        if (ga != gb || memcmp(d->buf[0], d->buf[1], ga))
            c = VK_DIFF_C_DIFFERENT;
        else if (!ga)
            break; /* shorter than its recorded size on both sides: nothing more to compare */
        off += ga;
    }
    free(spath);
    if (!rc)
        *out = c;
    return rc;
}
