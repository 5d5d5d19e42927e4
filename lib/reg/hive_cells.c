/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A hive's cells read and checked by vhdkit itself (Windows registry file format specification: base block, hive
 * bins, cells, nk/lf/lh/li/ri/vk/db records).
 *
 * Why: hivex walks every bin and cell of a hive when it opens it, so reading one value with hivex costs a copy of
 * the whole hive out of the volume plus that walk (a 21 MiB SOFTWARE: four times hivexget on the file). Here a
 * lookup reads, in 64 KiB chunks, only the bins holding the cells on its path, and checks each cell it uses the way
 * hivex's open would have: the bin around it is found (its header names its own offset), every cell of that bin
 * has a sane size and ends inside it, and the offset is the start of an allocated cell of that bin. The values
 * returned are hivex's (names to UTF-8, inline data, big-data segments of cell size - 8 bytes), so a read gives the
 * same answer whichever reader served it. Over bytes in memory the same code checks a whole hive before hivex gets
 * it and names the offset of what hivex would fail on with a bare errno. */
#include "reg/hive_cells.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/utf16.h"
#include "reg/reg_int.h"

#define CHUNK ((size_t)64 << 10)
#define PAGE 4096u
#define BIN_CACHE 16
/* hivex refuses ri lists nested deeper than this (CVE-2021-3622); a loop of ri lists ends here too. */
#define RI_DEPTH_MAX 32

struct reg_cells {
    char name[VK_REG_FILE_MAX]; /* the hive file, for messages */
    uint8_t *buf;               /* the whole file's bytes, filled chunk by chunk when `loaded` is set */
    size_t len;                 /* file size */
    size_t end;                 /* end of the bins: the base block's length field, within the file */
    uint8_t *loaded;            /* one flag per CHUNK, or NULL when buf holds everything */
    reg_cells_read_fn rd;
    void *ctx;
    vk_reg_key root;
    struct {
        size_t start, end;
    } bins[BIN_CACHE];          /* bins whose header and cell chain were checked */
    unsigned nbins, next_bin;
};

__attribute__((format(printf, 4, 5))) static int bad(struct reg_cells *c, vk_error *err, size_t off,
                                                     const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vk_fail(err, VK_E_CORRUPT, c->name, off, "corrupt hive: %s", msg);
}

/* Makes [off, off+n) of the file present in buf. */
static int need(struct reg_cells *c, size_t off, size_t n, vk_error *err)
{
    if (n > c->len || off > c->len - n)
        return bad(c, err, off, "%s: %zu bytes at 0x%zx run past the end of the file", "read", n, off);
    if (!c->loaded || !n)
        return 0;
    for (size_t i = off / CHUNK; i <= (off + n - 1) / CHUNK; i++) {
        if (c->loaded[i])
            continue;
        size_t at = i * CHUNK, len = c->len - at < CHUNK ? c->len - at : CHUNK;
        int rc = c->rd(c->ctx, at, c->buf + at, len, err);
        if (rc)
            return rc;
        c->loaded[i] = 1;
    }
    return 0;
}

/* Size of the cell at `off` (positive) and whether it is allocated (stored negative). */
static size_t cell_size(const struct reg_cells *c, size_t off, bool *used)
{
    int64_t raw = (int32_t)get_le32(c->buf + off);
    *used = raw < 0;
    return (size_t)(raw < 0 ? -raw : raw);
}

/* The bin header at `start`: signature, its own offset, a size in whole pages inside the file. */
static int bin_header(struct reg_cells *c, size_t start, size_t *size, vk_error *err)
{
    *size = 0; /* set on every path, not only when the header is good */
    int rc = need(c, start, REGF_BIN_HDR, err);
    if (rc)
        return rc;
    const uint8_t *p = c->buf + start;
    if (memcmp(p, "hbin", 4) != 0)
        return bad(c, err, start, "hive bin at 0x%zx has no hbin signature", start);
    if ((size_t)get_le32(p + 4) + REGF_BASE_LEN != start)
        return bad(c, err, start, "%s at 0x%zx says it is at 0x%zx", "hive bin", start,
                   (size_t)get_le32(p + 4) + REGF_BASE_LEN);
    *size = get_le32(p + 8);
    if (*size <= REGF_BIN_HDR || *size % PAGE)
        return bad(c, err, start, "%s at 0x%zx has a size of %zu bytes (not whole 4096-byte pages)", "hive bin", start,
                   *size);
    if (*size > c->len - start)
        return bad(c, err, start, "%s at 0x%zx of %zu bytes runs past the end of the file (truncated?)", "hive bin",
                   start, *size);
    return 0;
}

/* Walks the cells of the bin [start, end): each a multiple of 4 bytes, at least 8, ending inside the bin. With
 * `want`, 0 when it is the start of an allocated cell, 1 when it is not. */
static int walk_bin(struct reg_cells *c, size_t start, size_t end, size_t want, vk_error *err)
{
    int rc = need(c, start, end - start, err);
    if (rc)
        return rc;
    size_t off = start + REGF_BIN_HDR;
    while (off < end) {
        bool used;
        size_t n = cell_size(c, off, &used);
        if (n < 8 || n % 4)
            return bad(c, err, off, "%s at 0x%zx has an invalid size of %zu bytes", "cell", off, n);
        if (n > end - off)
            return bad(c, err, off, "%s at 0x%zx of %zu bytes runs past the end of its bin", "cell", off, n);
        if (want && off == want)
            return used ? 0 : 1;
        if (want && off > want)
            return 1;
        off += n;
    }
    return want ? 1 : 0;
}

/* The checked bin holding `off`: from the cache, else the nearest bin header at or before its page. */
static int find_bin(struct reg_cells *c, size_t off, size_t *start, size_t *end, vk_error *err)
{
    for (unsigned i = 0; i < c->nbins; i++)
        if (off >= c->bins[i].start && off < c->bins[i].end) {
            *start = c->bins[i].start;
            *end = c->bins[i].end;
            return 0;
        }
    for (size_t p = off & ~(size_t)(PAGE - 1);; p -= PAGE) {
        int rc = need(c, p, 4, err);
        if (rc)
            return rc;
        if (!memcmp(c->buf + p, "hbin", 4) && (size_t)get_le32(c->buf + p + 4) + REGF_BASE_LEN == p) {
            size_t size;
            if ((rc = bin_header(c, p, &size, err)))
                return rc;
            if (off >= p + size)
                return bad(c, err, off, "%s at 0x%zx lies in no hive bin (the one before ends at 0x%zx)", "cell", off,
                           p + size);
            if ((rc = walk_bin(c, p, p + size, 0, err)))
                return rc;
            c->bins[c->next_bin].start = *start = p;
            c->bins[c->next_bin].end = *end = p + size;
            c->next_bin = (c->next_bin + 1) % BIN_CACHE;
            if (c->nbins < BIN_CACHE)
                c->nbins++;
            return 0;
        }
        if (p <= REGF_BASE_LEN)
            return bad(c, err, off, "cell at 0x%zx lies in no hive bin", off);
    }
}

/* The allocated cell at `off` (a file offset), which must be `sig` (or any record when NULL) and hold at least
 * `min` bytes after its size field. *d points at the record, *dlen is its length. */
static int cell(struct reg_cells *c, size_t off, const char *what, const char *sig, size_t min, const uint8_t **d,
                size_t *dlen, vk_error *err)
{
    if (off < REGF_BASE_LEN + REGF_BIN_HDR || off >= c->end || off % 4)
        return bad(c, err, off, "%s offset 0x%zx is outside the hive bins (they end at 0x%zx)", what, off, c->end);
    size_t start = 0, end = 0;
    int rc = find_bin(c, off, &start, &end, err);
    if (rc)
        return rc;
    rc = walk_bin(c, start, end, off, err);
    if (rc < 0)
        return rc;
    if (rc)
        return bad(c, err, off, "%s at 0x%zx is not an allocated cell of the bin at 0x%zx", what, off, start);
    bool used;
    size_t n = cell_size(c, off, &used) - 4;
    if (sig && (n < 2 || memcmp(c->buf + off + 4, sig, 2) != 0))
        return bad(c, err, off, "%s at 0x%zx is not a '%s' record", what, off, sig);
    if (n < min)
        return bad(c, err, off, "%s at 0x%zx: a cell of %zu bytes is too small for its record", what, off, n);
    *d = c->buf + off + 4;
    *dlen = n;
    return 0;
}

static int base_block(struct reg_cells *c, vk_error *err)
{
    const uint8_t *b = c->buf;
    if (memcmp(b, "regf", 4) != 0)
        return vk_fail(err, VK_E_CORRUPT, c->name, 0, "not a registry hive (no regf signature)");
    if (get_le32(b + REGF_OFF_MAJOR) != 1)
        return vk_fail(err, VK_E_UNSUPPORTED, c->name, REGF_OFF_MAJOR, "hive format version %u.%u is not 1.x",
                       get_le32(b + REGF_OFF_MAJOR), get_le32(b + REGF_OFF_MINOR));
    if (get_le32(b + REGF_OFF_CSUM) != reg_base_checksum(b) || get_le32(b + REGF_OFF_SEQ1) != get_le32(b + REGF_OFF_SEQ2))
        return 1;
    size_t bins = get_le32(b + REGF_OFF_BINS_LEN);
    c->end = bins < c->len - REGF_BASE_LEN ? REGF_BASE_LEN + bins : c->len;
    c->root = (vk_reg_key)get_le32(b + REGF_OFF_ROOT) + REGF_BASE_LEN;
    const uint8_t *d;
    size_t dl;
    return cell(c, c->root, "root key", "nk", 76, &d, &dl, err);
}

static struct reg_cells *alloc_cells(size_t len, const char *name, vk_error *err)
{
    struct reg_cells *c = calloc(1, sizeof *c);
    if (!c) {
        vk_fail(err, VK_E_NOMEM, name, VK_NO_OFFSET, "no memory for a hive handle");
        return NULL;
    }
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    c->len = len;
    return c;
}

int reg_cells_open(size_t len, reg_cells_read_fn rd, void *ctx, const char *name, struct reg_cells **out,
                   vk_error *err)
{
    *out = NULL;
    if (len < REGF_BASE_LEN + REGF_BIN_HDR)
        return vk_fail(err, VK_E_TRUNCATED, name, len, "hive of %zu bytes is shorter than a base block and a bin", len);
    struct reg_cells *c = alloc_cells(len, name, err);
    if (!c)
        return VK_E_NOMEM;
    /* Untouched pages of a large malloc cost nothing: only the chunks read are ever faulted in. */
    c->buf = malloc(len);
    c->loaded = calloc(len / CHUNK + 1, 1);
    c->rd = rd;
    c->ctx = ctx;
    int rc = c->buf && c->loaded ? need(c, 0, REGF_BASE_LEN, err)
                                 : vk_fail(err, VK_E_NOMEM, name, VK_NO_OFFSET, "no memory for a hive of %zu bytes", len);
    if (!rc)
        rc = base_block(c, err);
    if (rc) {
        reg_cells_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int reg_cells_open_mem(const uint8_t *data, size_t len, const char *name, struct reg_cells **out, vk_error *err)
{
    *out = NULL;
    if (len < REGF_BASE_LEN + REGF_BIN_HDR)
        return vk_fail(err, VK_E_TRUNCATED, name, len, "hive of %zu bytes is shorter than a base block and a bin", len);
    struct reg_cells *c = alloc_cells(len, name, err);
    if (!c)
        return VK_E_NOMEM;
    c->buf = (uint8_t *)data; /* never written: `loaded` is NULL */
    const uint8_t *b = data;
    size_t bins = get_le32(b + REGF_OFF_BINS_LEN);
    c->end = bins < len - REGF_BASE_LEN ? REGF_BASE_LEN + bins : len;
    c->root = (vk_reg_key)get_le32(b + REGF_OFF_ROOT) + REGF_BASE_LEN;
    *out = c;
    return 0;
}

void reg_cells_close(struct reg_cells *c)
{
    if (!c)
        return;
    if (c->loaded) {
        free(c->buf);
        free(c->loaded);
    }
    free(c);
}

int reg_cells_check_all(struct reg_cells *c, vk_error *err)
{
    size_t off = REGF_BASE_LEN;
    int rc = 0;
    while (!rc && off < c->end) {
        size_t size;
        rc = bin_header(c, off, &size, err);
        if (!rc)
            rc = walk_bin(c, off, off + size, 0, err);
        off += size;
    }
    if (rc)
        return rc;
    const uint8_t *d;
    size_t dl;
    return cell(c, c->root, "root key", "nk", 76, &d, &dl, err);
}

vk_reg_key reg_cells_root(const struct reg_cells *c) { return c->root; }

struct list {
    struct reg_cells_entry *v;
    size_t n, cap;
};

static int push(struct reg_cells *c, struct list *l, vk_reg_key k, uint32_t hint, char kind, vk_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct reg_cells_entry *g = realloc(l->v, cap * sizeof *g);
        if (!g)
            return vk_fail(err, VK_E_NOMEM, c->name, VK_NO_OFFSET, "no memory for a subkey list");
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n++] = (struct reg_cells_entry){k, hint, kind};
    return 0;
}

/* One subkey list: lf/lh (offset + hint pairs), li (offsets), ri (offsets of further lists). With `check`, each
 * subkey's cell is checked to be an nk (reading its bin); without, only the lists are read. */
static int read_list(struct reg_cells *c, size_t off, struct list *kids, size_t limit, unsigned depth, bool check,
                     vk_error *err)
{
    const uint8_t *d;
    size_t dl;
    int rc = cell(c, off, "subkey list", NULL, 4, &d, &dl, err);
    if (rc)
        return rc;
    size_t n = get_le16(d + 2);
    bool pairs = d[0] == 'l' && (d[1] == 'f' || d[1] == 'h');
    bool li = d[0] == 'l' && d[1] == 'i', ri = d[0] == 'r' && d[1] == 'i';
    if (!pairs && !li && !ri)
        return bad(c, err, off, "subkey list at 0x%zx is not an lf, lh, li or ri list", off);
    if (4 + n * (pairs ? 8 : 4) > dl)
        return bad(c, err, off, "%s at 0x%zx: %zu entries do not fit in it", "subkey list", off, n);
    char kind = pairs ? (char)d[1] : 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = d + 4 + i * (pairs ? 8 : 4);
        size_t k = (size_t)get_le32(e) + REGF_BASE_LEN;
        if (ri) {
            if (depth + 1 >= RI_DEPTH_MAX)
                return bad(c, err, off, "%s at 0x%zx: ri lists nested %zu deep (a loop?)", "subkey list", off,
                           (size_t)RI_DEPTH_MAX);
            rc = read_list(c, k, kids, limit, depth + 1, check, err);
        } else {
            const uint8_t *kd;
            size_t kl;
            rc = check ? cell(c, k, "subkey", "nk", 76, &kd, &kl, err) : 0;
            if (!rc && kids->n >= limit)
                return bad(c, err, off, "%s at 0x%zx lists more subkeys than its key's count of %zu", "subkey list",
                           off, limit);
            if (!rc)
                rc = push(c, kids, k, pairs ? get_le32(e + 4) : 0, kind, err);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int children(struct reg_cells *c, vk_reg_key nk, bool check, struct list *l, vk_error *err)
{
    const uint8_t *d;
    size_t dl;
    int rc = cell(c, nk, "key", "nk", 76, &d, &dl, err);
    if (rc)
        return rc;
    size_t count = get_le32(d + 20);
    if (count)
        rc = read_list(c, (size_t)get_le32(d + 28) + REGF_BASE_LEN, l, count, 0, check, err);
    if (!rc && l->n != count)
        rc = bad(c, err, nk, "%s at 0x%zx: its subkey lists hold %zu keys, not the %zu it counts", "key", nk, l->n,
                 count);
    if (rc) {
        free(l->v);
        l->v = NULL;
    }
    return rc;
}

int reg_cells_children(struct reg_cells *c, vk_reg_key nk, vk_reg_key **kids, size_t *n, vk_error *err)
{
    *kids = NULL;
    *n = 0;
    struct list l = {0};
    int rc = children(c, nk, true, &l, err);
    if (rc)
        return rc;
    vk_reg_key *v = malloc((l.n ? l.n : 1) * sizeof *v);
    if (!v) {
        free(l.v);
        return vk_fail(err, VK_E_NOMEM, c->name, VK_NO_OFFSET, "no memory for a subkey list");
    }
    for (size_t i = 0; i < l.n; i++)
        v[i] = l.v[i].off;
    free(l.v);
    *kids = v;
    *n = l.n;
    return 0;
}

int reg_cells_child_entries(struct reg_cells *c, vk_reg_key nk, struct reg_cells_entry **out, size_t *n,
                            vk_error *err)
{
    struct list l = {0};
    int rc = children(c, nk, false, &l, err);
    *out = l.v;
    *n = rc ? 0 : l.n;
    return rc;
}

/* `n` bytes of a name: Latin-1 when `ascii` (the compressed-name flag), else UTF-16LE; to UTF-8. */
static int name_utf8(struct reg_cells *c, size_t off, const uint8_t *p, size_t n, bool ascii, char **out,
                     vk_error *err)
{
    char *s = malloc(n * 3 + 1);
    if (!s)
        return vk_fail(err, VK_E_NOMEM, c->name, VK_NO_OFFSET, "no memory for a name");
    if (ascii) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] < 0x80) {
                s[o++] = (char)p[i];
            } else {
                s[o++] = (char)(0xC0 | (p[i] >> 6));
                s[o++] = (char)(0x80 | (p[i] & 0x3F));
            }
        }
        s[o] = 0;
    } else if (vk_utf16_to_utf8(p, n, VK_UTF16_LE, s, n * 3 + 1) < 0) {
        free(s);
        return bad(c, err, off, "%s at 0x%zx: its name is not valid UTF-16 (%zu bytes)", "record", off, n);
    }
    *out = s;
    return 0;
}

int reg_cells_key_name(struct reg_cells *c, vk_reg_key nk, char **name, vk_error *err)
{
    const uint8_t *d;
    size_t dl;
    int rc = cell(c, nk, "key", "nk", 76, &d, &dl, err);
    if (rc)
        return rc;
    size_t n = get_le16(d + 72);
    if (76 + n > dl)
        return bad(c, err, nk, "%s at 0x%zx: a name of %zu bytes does not fit in the cell", "key", nk, n);
    return name_utf8(c, nk, d + 76, n, get_le16(d + 2) & 0x20, name, err);
}

int reg_cells_values(struct reg_cells *c, vk_reg_key nk, vk_reg_key **vks, size_t *n, vk_error *err)
{
    *vks = NULL;
    *n = 0;
    const uint8_t *d;
    size_t dl;
    int rc = cell(c, nk, "key", "nk", 76, &d, &dl, err);
    if (rc)
        return rc;
    size_t count = get_le32(d + 36);
    if (!count)
        return 0;
    size_t lo = (size_t)get_le32(d + 40) + REGF_BASE_LEN;
    const uint8_t *l;
    size_t ll;
    if ((rc = cell(c, lo, "value list", NULL, 0, &l, &ll, err)))
        return rc;
    if (count > ll / 4)
        return bad(c, err, lo, "%s at 0x%zx: %zu values do not fit in it", "value list", lo, count);
    vk_reg_key *v = malloc(count * sizeof *v);
    if (!v)
        return vk_fail(err, VK_E_NOMEM, c->name, VK_NO_OFFSET, "no memory for %zu values", count);
    for (size_t i = 0; i < count; i++) {
        v[i] = (vk_reg_key)get_le32(c->buf + lo + 4 + i * 4) + REGF_BASE_LEN;
        const uint8_t *vd;
        size_t vl;
        if ((rc = cell(c, v[i], "value", "vk", 20, &vd, &vl, err))) {
            free(v);
            return rc;
        }
    }
    *vks = v;
    *n = count;
    return 0;
}

/* Big data (db): a list of segments, each contributing its cell's size - 8 bytes, as hivex reads them. */
static int big_data(struct reg_cells *c, size_t db, const uint8_t *d, uint8_t *out, size_t *len, vk_error *err)
{
    size_t nseg = get_le16(d + 2), lo = (size_t)get_le32(d + 4) + REGF_BASE_LEN;
    const uint8_t *l;
    size_t ll;
    int rc = cell(c, lo, "big-data segment list", NULL, 0, &l, &ll, err);
    if (rc)
        return rc;
    if (nseg > ll / 4)
        return bad(c, err, lo, "%s at 0x%zx: %zu segments do not fit in it", "big-data segment list", lo, nseg);
    size_t got = 0;
    for (size_t i = 0; i < nseg && got < *len; i++) {
        size_t so = (size_t)get_le32(c->buf + lo + 4 + i * 4) + REGF_BASE_LEN;
        const uint8_t *s;
        size_t sl;
        if ((rc = cell(c, so, "big-data segment", NULL, 4, &s, &sl, err)))
            return rc;
        size_t take = sl - 4;
        if (take > *len - got)
            take = *len - got;
        memcpy(out + got, s, take);
        got += take;
    }
    (void)db;
    *len = got;
    return 0;
}

int reg_cells_value(struct reg_cells *c, vk_reg_key vk, vk_reg_value *out, vk_error *err)
{
    memset(out, 0, sizeof *out);
    const uint8_t *d;
    size_t dl;
    int rc = cell(c, vk, "value", "vk", 20, &d, &dl, err);
    if (rc)
        return rc;
    size_t nlen = get_le16(d + 2);
    uint32_t raw = get_le32(d + 4);
    size_t len = raw & 0x7FFFFFFFu, doff = (size_t)get_le32(d + 8) + REGF_BASE_LEN;
    bool inl = raw & 0x80000000u;
    uint32_t type = get_le32(d + 12);
    if (20 + nlen > dl)
        return bad(c, err, vk, "%s at 0x%zx: a name of %zu bytes does not fit in the cell", "value", vk, nlen);
    uint8_t inline_bytes[4];
    memcpy(inline_bytes, d + 8, 4);
    if ((rc = name_utf8(c, vk, d + 20, nlen, get_le16(d + 16) & 1, &out->name, err)))
        return rc;
    if (inl && len > 4) {
        rc = bad(c, err, vk, "%s at 0x%zx: inline data of %zu bytes (at most 4 fit)", "value", vk, len);
    } else if (len > c->len) {
        rc = bad(c, err, vk, "%s at 0x%zx: %zu bytes of data, more than the whole hive", "value", vk, len);
    } else if (!(out->data = malloc(len ? len : 1))) {
        rc = vk_fail(err, VK_E_NOMEM, c->name, VK_NO_OFFSET, "no memory for %zu bytes of value data", len);
    } else if (inl) {
        memcpy(out->data, inline_bytes, len);
    } else {
        const uint8_t *p;
        size_t pl;
        rc = cell(c, doff, "value data", NULL, 0, &p, &pl, err);
        if (!rc && len <= pl)
            memcpy(out->data, p, len);
        else if (!rc && (pl < 8 || memcmp(p, "db", 2) != 0))
            rc = bad(c, err, doff, "%s at 0x%zx: %zu bytes declared, more than the cell and not big data",
                     "value data", doff, len);
        else if (!rc)
            rc = big_data(c, doff, p, out->data, &len, err);
    }
    if (rc) {
        vk_reg_value_free(out);
        return rc;
    }
    out->type = type;
    out->len = len;
    return 0;
}
