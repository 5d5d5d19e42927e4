/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit whohas: what holds each asked place (virtual sector or byte, byte of the .vhd file, VHD block), answered
 * from one index per NTFS volume so a thousand questions cost one pass over the MFT. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vhdkit/ops.h"
#include "vhdkit/part.h"
#include "core/sort.h"

const struct opt opts_whohas[] = {
    {"sector", 's', "N[,N...]", "virtual disk sectors (512 bytes); repeatable"},
    {"offset", 'o', "N[,N...]", "byte offsets in the virtual disk"},
    {"vhd-offset", 0, "N[,N...]", "byte offsets in the .vhd file itself (footer, BAT, bitmaps, data)"},
    {"block", 'b', "N[,N...]", "VHD blocks: the files stored in each"},
    {"stdin", 0, NULL, "also read places from standard input, one per line: 'sector N', 'offset N', 'vhd-offset N', "
                       "'block N'"},
    {"top", 0, "K", "with --block: how many owners to name (default 5)"},
    {NULL, 0, NULL, NULL},
};

enum qkind { Q_SECTOR, Q_OFFSET, Q_VHD_OFFSET, Q_BLOCK };
static const char *const qnames[] = {"sector", "offset", "vhd-offset", "block"};

struct query {
    enum qkind kind;
    uint64_t value;
};

struct qlist {
    struct query *q;
    size_t n, cap;
};

static int push(struct qlist *l, enum qkind k, uint64_t v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct query *q = realloc(l->q, cap * sizeof *q);
        if (!q)
            return -1;
        l->q = q;
        l->cap = cap;
    }
    l->q[l->n++] = (struct query){k, v};
    return 0;
}

/* "N,N,..." of one kind. */
static int parse_list(struct qlist *l, enum qkind k, const char *s)
{
    char buf[64];
    while (*s) {
        size_t n = strcspn(s, ",");
        uint64_t v;
        if (!n || n >= sizeof buf)
            return usage_error("whohas", "--%s: '%.*s' is not a number", qnames[k], (int)(n ? n : 1), s);
        memcpy(buf, s, n);
        buf[n] = 0;
        if (parse_size(buf, &v) < 0)
            return usage_error("whohas", "--%s: '%s' is not a number (decimal, 0x hex, or with K, M, G)", qnames[k], buf);
        if (push(l, k, v))
            return usage_error("whohas", "out of memory");
        s += n + (s[n] == ',');
    }
    return 0;
}

static int read_stdin(struct qlist *l)
{
    char line[256];
    unsigned lineno = 0;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        while (*p == '-')
            p++;
        char word[16], num[64];
        if (sscanf(p, "%15[a-z-] %63s", word, num) != 2)
            return usage_error("whohas", "standard input line %u: expected 'sector N', 'offset N', 'vhd-offset N' or "
                                         "'block N'", lineno);
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(word, qnames[i]))
                k = i;
        if (k < 0)
            return usage_error("whohas", "standard input line %u: '%s' is not sector, offset, vhd-offset or block",
                               lineno, word);
        uint64_t v;
        if (parse_size(num, &v) < 0)
            return usage_error("whohas", "standard input line %u: '%s' is not a number", lineno, num);
        if (push(l, (enum qkind)k, v))
            return usage_error("whohas", "out of memory");
    }
    return 0;
}

static void out_owner_flags(struct out *o, unsigned f)
{
    if (f & VK_OWNER_COMPRESSED)
        out_bool(o, "compressed", true);
    if (f & VK_OWNER_SPARSE)
        out_bool(o, "sparse", true);
    if (f & VK_OWNER_EXTENSION)
        out_bool(o, "in_extension_record", true);
}

static void print_answer(struct out *o, const struct query *q, const struct vk_whohas_answer *a)
{
    char qtext[64];
    snprintf(qtext, sizeof qtext, "%s %llu", qnames[q->kind], (unsigned long long)q->value);
    out_object(o, NULL);
    out_str(o, "query", qtext);
    out_str(o, "kind", vk_holder_name(a->kind));
    out_str(o, "what", a->what);
    if (a->has_sector)
        out_u64(o, "sector", a->sector);
    if (a->has_block)
        out_u64(o, "vhd_block", a->block);
    if (a->image) {
        out_str(o, "image", a->image);
        out_u64(o, "chain_depth", (uint64_t)a->chain_depth);
        out_hex(o, "image_offset", a->image_offset);
    } else if (a->has_sector && q->kind != Q_VHD_OFFSET) {
        out_str(o, "stored", "in no image of the chain (reads as zeros)");
    }
    if (a->partition)
        out_u64(o, "partition", a->partition);
    if (a->has_cluster)
        out_u64(o, "cluster", a->cluster);
    if (a->has_owner) {
        out_str(o, "path", a->path);
        out_u64(o, "mft_record", a->owner.mft_record);
        if (a->owner.ext_record != a->owner.mft_record)
            out_u64(o, "extension_record", a->owner.ext_record);
        out_str(o, "attribute", a->owner.attr_type_name);
        out_hex(o, "attribute_type", a->owner.attr_type);
        out_str(o, "stream", a->owner.stream);
        out_u64(o, "file_offset", a->file_offset);
        out_owner_flags(o, a->owner.flags);
    }
    if (a->has_mft_entry) {
        out_u64(o, "mft_entry", a->mft_entry);
        if (a->mft_entry_path[0])
            out_str(o, "mft_entry_path", a->mft_entry_path);
    }
    out_close(o);
}

/* ---- --block: the files stored in a block ---- */
struct bowner {
    unsigned part;
    uint64_t mft;
    uint64_t bytes;
    const vk_owners *idx;
};

struct bcollect {
    struct bowner *v;
    size_t n, cap;
    int oom;
};

static int collect(void *ctx, unsigned part, const vk_owners *idx, const struct vk_owner *ow, uint64_t bytes)
{
    struct bcollect *c = ctx;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].part == part && c->v[i].mft == ow->mft_record) {
            c->v[i].bytes += bytes;
            return 0;
        }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct bowner *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->oom = 1;
            return 1;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (struct bowner){part, ow->mft_record, bytes, idx};
    return 0;
}

static int by_bytes(const void *a, const void *b)
{
    const struct bowner *x = a, *y = b;
    return x->bytes > y->bytes ? -1 : x->bytes < y->bytes ? 1 : (x->mft > y->mft) - (x->mft < y->mft);
}

static int print_block(struct out *o, vk_whohas *w, const struct query *q, uint64_t top, vk_error *err)
{
    vk_vhd *vhd = vk_whohas_vhd(w);
    struct vk_vhd_info vi;
    if (!vhd || (vk_vhd_get_info(vhd, &vi), vi.type == VK_VHD_FIXED))
        return vk_fail(err, VK_E_USAGE, vhd ? vk_vhd_path(vhd) : "image", VK_NO_OFFSET,
                       "--block needs a dynamic or differencing VHD (this image has no blocks)");
    if (q->value >= vi.max_table_entries)
        return vk_fail(err, VK_E_RANGE, vk_vhd_path(vhd), VK_NO_OFFSET, "block %llu is past the last block (%u blocks)",
                       (unsigned long long)q->value, vi.max_table_entries);
    uint64_t first = q->value * (vi.block_size / VK_SECTOR_SIZE), n = vi.block_size / VK_SECTOR_SIZE;
    struct vk_whohas_answer a;
    int rc = vk_whohas_query(w, VK_PLACE_SECTOR, first, &a, err);
    struct bcollect c = {0};
    if (!rc)
        rc = vk_whohas_owners(w, first, n, collect, &c, err);
    if (!rc && c.oom)
        rc = vk_fail(err, VK_E_NOMEM, vk_vhd_path(vhd), VK_NO_OFFSET, NULL);
    if (rc) {
        free(c.v);
        return rc;
    }
    vk_sort(c.v, c.n, sizeof *c.v, by_bytes);
    char qtext[64];
    snprintf(qtext, sizeof qtext, "block %llu", (unsigned long long)q->value);
    out_object(o, NULL);
    out_str(o, "query", qtext);
    out_str(o, "kind", "block");
    out_u64(o, "first_sector", first);
    out_u64(o, "sectors", n);
    if (a.image) {
        out_str(o, "first_sector_image", a.image);
        out_u64(o, "chain_depth", (uint64_t)a.chain_depth);
    } else {
        out_str(o, "first_sector_stored", "in no image of the chain");
    }
    out_u64(o, "owners_count", c.n);
    out_array(o, "owners");
    for (size_t i = 0; i < c.n && i < top; i++) {
        char path[4096];
        vk_owners_path(c.v[i].idx, c.v[i].mft, path, sizeof path);
        out_object(o, NULL);
        out_u64(o, "partition", c.v[i].part);
        out_str(o, "path", path);
        out_u64(o, "mft_record", c.v[i].mft);
        out_u64(o, "bytes", c.v[i].bytes);
        out_close(o);
    }
    out_close(o);
    out_close(o);
    free(c.v);
    return 0;
}

int cmd_whohas(struct ctx *c)
{
    struct qlist l = {0};
    int st = 0;
    for (int k = 0; k < 4 && !st; k++) {
        const char *vals[OCC_MAX];
        int n = arg_all(&c->args, qnames[k], vals, OCC_MAX);
        for (int j = 0; j < n && !st; j++)
            st = parse_list(&l, (enum qkind)k, vals[j]);
    }
    if (!st && arg_has(&c->args, "stdin"))
        st = read_stdin(&l);
    uint64_t top = 5;
    if (!st && arg_str(&c->args, "top") && (parse_size(arg_str(&c->args, "top"), &top) < 0 || !top))
        st = usage_error("whohas", "--top takes a count of at least 1");
    if (!st && !l.n)
        st = usage_error("whohas", "nothing asked: give --sector, --offset, --vhd-offset, --block or --stdin");
    if (st) {
        free(l.q);
        return st;
    }
    vk_error err = {0};
    vk_whohas *w;
    if (vk_whohas_open(c->args.pos[0], NULL, &w, &err)) {
        free(l.q);
        return report_error(&err);
    }
    struct out o;
    out_init(&o, stdout, c->json);
    out_begin(&o);
    out_str(&o, "image", c->args.pos[0]);
    out_array(&o, "answers");
    int rc = 0;
    for (size_t i = 0; i < l.n && !rc; i++) {
        if (l.q[i].kind == Q_BLOCK) {
            rc = print_block(&o, w, &l.q[i], top, &err);
            continue;
        }
        static const enum vk_place place[] = {VK_PLACE_SECTOR, VK_PLACE_OFFSET, VK_PLACE_VHD_OFFSET};
        struct vk_whohas_answer a;
        rc = vk_whohas_query(w, place[l.q[i].kind], l.q[i].value, &a, &err);
        if (!rc)
            print_answer(&o, &l.q[i], &a);
    }
    out_close(&o);
    out_end(&o);
    vk_whohas_close(w);
    free(l.q);
    return rc ? report_error(&err) : 0;
}
