/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff: one path compared between the two volumes (type, size, times, attributes, links, streams, content) and
 * reported through the caller's callback. */
#include <stdlib.h>
#include <string.h>

#include "ops/diff_int.h"

#define ATTR_DATA 0x80u
#define ATTR_REPARSE 0xC0u
#define FILE_ATTR_REPARSE_POINT 0x400u

int diff_stat(struct diff_ctx *d, int s, const char *path, struct diff_stat *out)
{
    memset(out, 0, sizeof *out);
    vk_error e = {0};
    int rc = vk_ntfs_stat_path(d->side[s]->vol, path, &out->st, &e);
    if (rc == VK_E_NOTFOUND)
        return 0;
    if (rc) {
        *d->err = e;
        return rc;
    }
    out->present = 1;
    struct vk_diff_node *n = &out->node;
    n->type = (out->st.file_attrs & FILE_ATTR_REPARSE_POINT) ? VK_DIFF_LINK
              : out->st.is_dir                               ? VK_DIFF_DIR
                                                             : VK_DIFF_FILE;
    n->mft = out->st.mft;
    n->size = out->st.size;
    n->file_attrs = out->st.file_attrs;
    n->nlink = out->st.nlink;
    n->times = out->st.times;
    for (unsigned i = 0; i < out->st.nattrs; i++)
        if (out->st.attrs[i].type == ATTR_REPARSE)
            n->reparse_size = out->st.attrs[i].size;
    return 0;
}

void diff_stat_free(struct diff_stat *ds)
{
    if (ds->present)
        vk_ntfs_stat_free(&ds->st);
    ds->present = 0;
}

/* The size of named stream `name` (the first record of the attribute holds it; an attribute list may split the
 * runs over several records), or -1 when the file has no such stream. */
static int64_t stream_size(const vk_ntfs_stat *st, const char *name)
{
    for (unsigned i = 0; i < st->nattrs; i++)
        if (st->attrs[i].type == ATTR_DATA && !strcmp(st->attrs[i].name, name))
            return (int64_t)st->attrs[i].size;
    return -1;
}

/* Named streams, each once, in MFT order. */
static int stream_first(const vk_ntfs_stat *st, unsigned i)
{
    const vk_ntfs_attr *a = &st->attrs[i];
    if (a->type != ATTR_DATA || !a->name[0])
        return 0;
    for (unsigned j = 0; j < i; j++)
        if (st->attrs[j].type == ATTR_DATA && !strcmp(st->attrs[j].name, a->name))
            return 0;
    return 1;
}

struct streams {
    struct vk_diff_stream *v;
    unsigned n, cap;
};

static int push(struct diff_ctx *d, struct streams *l, const char *name, enum vk_diff_kind kind, int64_t sa,
                int64_t sb, enum vk_diff_content c)
{
    if (l->n == l->cap) {
        unsigned cap = l->cap ? 2 * l->cap : 8;
        void *g = realloc(l->v, cap * sizeof *l->v);
        if (!g)
            return vk_fail(d->err, VK_E_NOMEM, d->side[0]->name, VK_NO_OFFSET, NULL);
        l->v = g;
        l->cap = cap;
    }
    struct vk_diff_stream *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    memcpy(s->name, name, sizeof s->name);
    s->kind = kind;
    s->size_a = sa > 0 ? (uint64_t)sa : 0;
    s->size_b = sb > 0 ? (uint64_t)sb : 0;
    s->content = c;
    return 0;
}

/* The named streams that differ: only on one side, another size, or other bytes. */
static int compare_streams(struct diff_ctx *d, const char *path, const vk_ntfs_stat *a, const vk_ntfs_stat *b,
                           struct streams *l)
{
    int rc = 0;
    for (unsigned i = 0; !rc && i < a->nattrs; i++) {
        if (!stream_first(a, i))
            continue;
        const char *name = a->attrs[i].name;
        int64_t sa = stream_size(a, name), sb = stream_size(b, name);
        if (sb < 0) {
            rc = push(d, l, name, VK_DIFF_REMOVED, sa, 0, VK_DIFF_C_NONE);
        } else if (sa != sb) {
            rc = push(d, l, name, VK_DIFF_CHANGED, sa, sb, VK_DIFF_C_NONE);
        } else if (!(d->flags & VK_DIFF_NO_CONTENT)) {
            enum vk_diff_content c;
            rc = diff_content(d, path, name, a, b, (uint64_t)sa, &c);
            if (!rc && c == VK_DIFF_C_DIFFERENT)
                rc = push(d, l, name, VK_DIFF_CHANGED, sa, sb, c);
        }
    }
    for (unsigned i = 0; !rc && i < b->nattrs; i++)
        if (stream_first(b, i) && stream_size(a, b->attrs[i].name) < 0)
            rc = push(d, l, b->attrs[i].name, VK_DIFF_ADDED, 0, stream_size(b, b->attrs[i].name), VK_DIFF_C_NONE);
    return rc;
}

static int emit(struct diff_ctx *d, struct vk_diff_entry *e)
{
    if (e->kind == VK_DIFF_ADDED)
        d->res->added++;
    else if (e->kind == VK_DIFF_REMOVED)
        d->res->removed++;
    else
        d->res->changed++;
    return d->fn ? d->fn(d->fn_ctx, e) : 0;
}

int diff_compare(struct diff_ctx *d, const char *path, const struct diff_stat *a, const struct diff_stat *b)
{
    const struct vk_diff_node *na = &a->node, *nb = &b->node;
    unsigned f = 0;
    int all_times = (d->flags & VK_DIFF_ALL_TIMES) != 0;
    if (na->type != nb->type)
        f |= VK_DIFF_F_TYPE;
    int files = na->type != VK_DIFF_DIR && nb->type != VK_DIFF_DIR;
    if (files && na->size != nb->size)
        f |= VK_DIFF_F_SIZE;
    /* A folder's modification time follows its entries, which are reported themselves. */
    if (na->times.mtime_ns != nb->times.mtime_ns && (all_times || na->type != VK_DIFF_DIR))
        f |= VK_DIFF_F_MTIME;
    if (na->times.crtime_ns != nb->times.crtime_ns)
        f |= VK_DIFF_F_CRTIME;
    if (all_times && na->times.atime_ns != nb->times.atime_ns)
        f |= VK_DIFF_F_ATIME;
    if (all_times && na->times.ctime_ns != nb->times.ctime_ns)
        f |= VK_DIFF_F_CTIME;
    if (na->file_attrs != nb->file_attrs)
        f |= VK_DIFF_F_ATTRS;
    if (na->nlink != nb->nlink)
        f |= VK_DIFF_F_LINKS;
    if (na->reparse_size != nb->reparse_size)
        f |= VK_DIFF_F_REPARSE;
    enum vk_diff_content content = VK_DIFF_C_NONE;
    int rc = 0;
    if (files && na->size == nb->size && !(d->flags & VK_DIFF_NO_CONTENT)) {
        rc = diff_content(d, path, "", &a->st, &b->st, na->size, &content);
        if (!rc && content == VK_DIFF_C_DIFFERENT)
            f |= VK_DIFF_F_CONTENT;
    }
    struct streams l = {0};
    if (!rc)
        rc = compare_streams(d, path, &a->st, &b->st, &l);
    if (!rc && l.n)
        f |= VK_DIFF_F_STREAMS;
    if (!rc && f) {
        struct vk_diff_entry e = {path, VK_DIFF_CHANGED, f, 1, 1, *na, *nb, content, l.n, l.v};
        rc = emit(d, &e);
    }
    free(l.v);
    return rc;
}

int diff_report_only(struct diff_ctx *d, const char *path, int s, const struct diff_stat *ds)
{
    struct streams l = {0};
    enum vk_diff_kind kind = s ? VK_DIFF_ADDED : VK_DIFF_REMOVED;
    int rc = 0;
    for (unsigned i = 0; !rc && i < ds->st.nattrs; i++)
        if (stream_first(&ds->st, i)) {
            int64_t sz = stream_size(&ds->st, ds->st.attrs[i].name);
            rc = push(d, &l, ds->st.attrs[i].name, kind, s ? 0 : sz, s ? sz : 0, VK_DIFF_C_NONE);
        }
    if (!rc) {
        struct vk_diff_entry e = {path, kind, 0, !s, s, {0}, {0}, VK_DIFF_C_NONE, l.n, l.v};
        if (s)
            e.b = ds->node;
        else
            e.a = ds->node;
        rc = emit(d, &e);
    }
    free(l.v);
    return rc;
}
