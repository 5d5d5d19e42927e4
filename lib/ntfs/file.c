/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Files and streams: stat with attributes and data runs, reads, writes in ntfscp's call order, truncate, times. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntfs-3g/runlist.h>

#include "core/utf16.h"

#define CHUNK (256u << 10)

static const char *attr_type_name(uint32_t t)
{
    switch (t) {
    case 0x10: return "$STANDARD_INFORMATION";
    case 0x20: return "$ATTRIBUTE_LIST";
    case 0x30: return "$FILE_NAME";
    case 0x40: return "$OBJECT_ID";
    case 0x50: return "$SECURITY_DESCRIPTOR";
    case 0x60: return "$VOLUME_NAME";
    case 0x70: return "$VOLUME_INFORMATION";
    case 0x80: return "$DATA";
    case 0x90: return "$INDEX_ROOT";
    case 0xA0: return "$INDEX_ALLOCATION";
    case 0xB0: return "$BITMAP";
    case 0xC0: return "$REPARSE_POINT";
    case 0xD0: return "$EA_INFORMATION";
    case 0xE0: return "$EA";
    case 0x100: return "$LOGGED_UTILITY_STREAM";
    default: return "unknown";
    }
}

static int add_attr(vk_ntfs *v, vk_ntfs_stat *st, const ATTR_RECORD *a, vk_error *err)
{
    vk_ntfs_attr *g = realloc(st->attrs, (st->nattrs + 1) * sizeof *g);
    if (!g)
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    st->attrs = g;
    vk_ntfs_attr *at = &st->attrs[st->nattrs++];
    memset(at, 0, sizeof *at);
    at->type = le32_to_cpu(a->type);
    at->type_name = attr_type_name(at->type);
    if (a->name_length) {
        const u8 *name = (const u8 *)a + le16_to_cpu(a->name_offset);
        if (vk_utf16_to_utf8(name, a->name_length * 2u, VK_UTF16_LE, at->name, sizeof at->name) < 0)
            snprintf(at->name, sizeof at->name, "?");
    }
    at->resident = !a->non_resident;
    if (at->resident) {
        at->size = at->alloc_size = le32_to_cpu(a->value_length);
        return 0;
    }
    at->size = (uint64_t)sle64_to_cpu(a->data_size);
    at->alloc_size = (uint64_t)sle64_to_cpu(a->allocated_size);
    /* libntfs-3g checks the mapping pairs against the record while decoding them. */
    runlist_element *rl = ntfs_mapping_pairs_decompress(v->vol, a, NULL);
    if (!rl)
        return ntfs_fail(v, errno, err, "cannot decode the data runs of a %s attribute", at->type_name);
    unsigned n = 0;
    for (runlist_element *r = rl; r->length; r++)
        if (r->lcn != LCN_RL_NOT_MAPPED)
            n++;
    at->runs = calloc(n ? n : 1, sizeof *at->runs);
    if (!at->runs) {
        free(rl);
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    }
    for (runlist_element *r = rl; r->length; r++) {
        if (r->lcn == LCN_RL_NOT_MAPPED)
            continue;
        vk_ntfs_run *o = &at->runs[at->nruns++];
        o->vcn = r->vcn;
        o->lcn = r->lcn < 0 ? -1 : r->lcn;
        o->len_clu = (uint64_t)r->length;
    }
    free(rl);
    return 0;
}

int vk_ntfs_stat_path(vk_ntfs *v, const char *path, vk_ntfs_stat *st, vk_error *err)
{
    memset(st, 0, sizeof *st);
    struct ntfs_sink *prev = log_enter(&v->sink);
    ntfs_inode *ni;
    int rc = path_open(v, path, &ni, err);
    if (rc) {
        log_leave(prev);
        return rc;
    }
    st->mft = ni->mft_no;
    st->is_dir = (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) != 0;
    st->size = st->is_dir ? 0 : (uint64_t)ni->data_size;
    st->file_attrs = le32_to_cpu(ni->flags);
    st->nlink = le16_to_cpu(ni->mrec->link_count);
    fill_times(ni, &st->times);
    ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
    if (!ctx)
        rc = ntfs_fail(v, errno, err, "%s: cannot read MFT record %llu", path, (unsigned long long)st->mft);
    while (!rc && !ntfs_attrs_walk(ctx)) {
        if (ctx->attr->type == AT_END)
            break;
        rc = add_attr(v, st, ctx->attr, err);
    }
    if (ctx)
        ntfs_attr_put_search_ctx(ctx);
    ntfs_inode_close(ni);
    log_leave(prev);
    if (rc)
        vk_ntfs_stat_free(st);
    return rc;
}

void vk_ntfs_stat_free(vk_ntfs_stat *st)
{
    if (!st)
        return;
    for (unsigned i = 0; i < st->nattrs; i++)
        free(st->attrs[i].runs);
    free(st->attrs);
    st->attrs = NULL;
    st->nattrs = 0;
}

/* Open file and data attribute of "path[:stream]". With VK_NTFS_CREATE the file (and a missing named stream) is
 * created. */
struct open_data {
    ntfs_inode *ni;
    ntfs_attr *na;
};

static int open_data(vk_ntfs *v, const char *path, unsigned flags, struct open_data *o, vk_error *err)
{
    memset(o, 0, sizeof *o);
    char *file;
    ntfschar *stream;
    int slen;
    int rc = path_split_stream(v, path, &file, &stream, &slen, err);
    if (rc)
        return rc;
    rc = path_open(v, file, &o->ni, err);
    if (rc == VK_E_NOTFOUND && (flags & VK_NTFS_CREATE))
        rc = ntfs_create_path(v, file, S_IFREG, &o->ni, err);
    else if (!rc && (flags & VK_NTFS_CREATE) && (flags & VK_NTFS_EXCL) && !slen)
        rc = vk_fail(err, VK_E_EXISTS, v->dev->name, VK_NO_OFFSET, "%s: already exists", path);
    if (!rc && (o->ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) && !slen)
        rc = vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: is a directory", path);
    if (!rc) {
        ntfschar *name = slen ? stream : AT_UNNAMED;
        o->na = ntfs_attr_open(o->ni, AT_DATA, name, (u32)slen);
        if (!o->na && errno == ENOENT && slen && (flags & VK_NTFS_CREATE)) {
            if (ntfs_attr_add(o->ni, AT_DATA, name, (u8)slen, NULL, 0) == 0)
                o->na = ntfs_attr_open(o->ni, AT_DATA, name, (u32)slen);
        }
        if (!o->na)
            rc = ntfs_fail(v, errno, err, "%s: cannot open the data stream", path);
    }
    free(file);
    free(stream);
    if (rc) {
        if (o->ni)
            ntfs_inode_close(o->ni);
        memset(o, 0, sizeof *o);
    }
    return rc;
}

/* ntfscp's order: the attribute, then the file's inode (which also updates its entry in the parent's index). */
static int close_data(vk_ntfs *v, const char *path, struct open_data *o, int rc, vk_error *err)
{
    if (o->na)
        ntfs_attr_close(o->na);
    if (o->ni && ntfs_inode_close(o->ni) && !rc)
        rc = ntfs_fail(v, errno, err, "%s: cannot write its MFT record", path);
    return rc;
}

int vk_ntfs_pread(vk_ntfs *v, const char *path, void *buf, size_t len, uint64_t off, size_t *got, vk_error *err)
{
    *got = 0;
    struct ntfs_sink *prev = log_enter(&v->sink);
    struct open_data o;
    int rc = open_data(v, path, 0, &o, err);
    while (!rc && *got < len && off + *got < (uint64_t)o.na->data_size) {
        s64 n = ntfs_attr_pread(o.na, (s64)(off + *got), (s64)(len - *got), (u8 *)buf + *got);
        if (n < 0)
            rc = ntfs_fail(v, errno, err, "%s: read failed at offset %llu", path, (unsigned long long)(off + *got));
        else if (n == 0)
            break;
        else
            *got += (size_t)n;
    }
    if (o.ni)
        rc = close_data(v, path, &o, rc, err);
    log_leave(prev);
    return rc;
}

int vk_ntfs_read_all(vk_ntfs *v, const char *path, vk_ntfs_sink_fn fn, void *ctx, vk_error *err)
{
    uint8_t *buf = malloc(CHUNK);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    struct ntfs_sink *prev = log_enter(&v->sink);
    struct open_data o;
    int rc = open_data(v, path, 0, &o, err);
    s64 off = 0;
    while (!rc && off < o.na->data_size) {
        s64 n = ntfs_attr_pread(o.na, off, CHUNK, buf);
        if (n <= 0) {
            rc = ntfs_fail(v, n < 0 ? errno : EIO, err, "%s: read failed at offset %lld", path, (long long)off);
            break;
        }
        rc = fn(ctx, buf, (size_t)n);
        off += n;
    }
    if (o.ni)
        rc = close_data(v, path, &o, rc, err);
    log_leave(prev);
    free(buf);
    return rc;
}

/* In pieces of CHUNK, so a device that stopped (later writes only reach memory: ntfs_devpriv) ends the loop soon. */
static int write_all(vk_ntfs *v, const char *path, ntfs_attr *na, const void *buf, size_t len, uint64_t off,
                     vk_error *err)
{
    size_t done = 0;
    while (done < len) {
        size_t want = len - done < CHUNK ? len - done : CHUNK;
        s64 n = ntfs_attr_pwrite(na, (s64)(off + done), (s64)want, (const u8 *)buf + done);
        if (n <= 0)
            return ntfs_fail(v, n < 0 ? errno : ENOSPC, err, "%s: write failed at offset %llu", path,
                             (unsigned long long)(off + done));
        if (v->dp->stopped)
            return ntfs_stopped(v, 0, err);
        done += (size_t)n;
    }
    return 0;
}

static int check_writable(vk_ntfs *v, const char *path, vk_error *err)
{
    if (v->readonly)
        return vk_fail(err, VK_E_READONLY, v->dev->name, VK_NO_OFFSET, "%s: volume mounted read-only", path);
    return 0;
}

int vk_ntfs_pwrite(vk_ntfs *v, const char *path, unsigned flags, const void *buf, size_t len, uint64_t off,
                   vk_error *err)
{
    int rc = check_writable(v, path, err);
    if (rc)
        return rc;
    struct ntfs_sink *prev = log_enter(&v->sink);
    struct open_data o;
    rc = open_data(v, path, flags, &o, err);
    if (!rc && (flags & VK_NTFS_TRUNCATE) && ntfs_attr_truncate(o.na, 0))
        rc = ntfs_fail(v, errno, err, "%s: cannot truncate", path);
    if (!rc)
        rc = write_all(v, path, o.na, buf, len, off, err);
    if (!rc)
        ntfs_inode_update_times(o.ni, NTFS_UPDATE_MCTIME);
    if (o.ni)
        rc = close_data(v, path, &o, rc, err);
    rc = ntfs_stopped(v, rc, err);
    log_leave(prev);
    return rc;
}

int vk_ntfs_write_from(vk_ntfs *v, const char *path, vk_ntfs_source_fn src, void *ctx, vk_error *err)
{
    int rc = check_writable(v, path, err);
    if (rc)
        return rc;
    uint8_t *buf = malloc(CHUNK);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    struct ntfs_sink *prev = log_enter(&v->sink);
    struct open_data o;
    rc = open_data(v, path, VK_NTFS_CREATE, &o, err);
    if (!rc && ntfs_attr_truncate(o.na, 0))
        rc = ntfs_fail(v, errno, err, "%s: cannot truncate", path);
    uint64_t off = 0;
    while (!rc) {
        long n = src(ctx, buf, CHUNK);
        if (n < 0) {
            rc = vk_fail(err, (int)n, v->dev->name, VK_NO_OFFSET, "%s: reading the source failed", path);
            break;
        }
        if (n == 0)
            break;
        rc = write_all(v, path, o.na, buf, (size_t)n, off, err);
        off += (uint64_t)n;
    }
    if (!rc)
        ntfs_inode_update_times(o.ni, NTFS_UPDATE_MCTIME);
    if (o.ni)
        rc = close_data(v, path, &o, rc, err);
    rc = ntfs_stopped(v, rc, err);
    log_leave(prev);
    free(buf);
    return rc;
}

int vk_ntfs_truncate(vk_ntfs *v, const char *path, uint64_t size, vk_error *err)
{
    int rc = check_writable(v, path, err);
    if (rc)
        return rc;
    if (size > INT64_MAX)
        return vk_fail(err, VK_E_RANGE, v->dev->name, VK_NO_OFFSET, "%s: size too large", path);
    struct ntfs_sink *prev = log_enter(&v->sink);
    struct open_data o;
    rc = open_data(v, path, 0, &o, err);
    if (!rc && ntfs_attr_truncate(o.na, (s64)size))
        rc = ntfs_fail(v, errno, err, "%s: cannot truncate to %llu bytes", path, (unsigned long long)size);
    if (!rc)
        ntfs_inode_update_times(o.ni, NTFS_UPDATE_MCTIME);
    if (o.ni)
        rc = close_data(v, path, &o, rc, err);
    rc = ntfs_stopped(v, rc, err);
    log_leave(prev);
    return rc;
}

/* See ntfs_int.h: the times here, the security descriptor and attribute bits in security.c. */
int ntfs_edit_inode(vk_ntfs *v, const char *path, ntfs_inode_edit_fn edit, const void *arg, size_t len,
                    const char *what, vk_error *err)
{
    int rc = check_writable(v, path, err);
    if (rc)
        return rc;
    struct ntfs_sink *prev = log_enter(&v->sink);
    ntfs_inode *ni;
    rc = path_open(v, path, &ni, err);
    if (!rc) {
        errno = 0;
        rc = edit(v, ni, path, arg, len, err);
        if (rc == NTFS_EDIT_ERRNO)
            rc = ntfs_fail(v, errno, err, "%s: cannot set the %s", path, what);
        if (ntfs_inode_close(ni) && !rc)
            rc = ntfs_fail(v, errno, err, "%s: cannot write the %s", path, what);
    }
    rc = ntfs_stopped(v, rc, err);
    log_leave(prev);
    return rc;
}

static int put_times(vk_ntfs *v, ntfs_inode *ni, const char *path, const void *arg, size_t len, vk_error *err)
{
    (void)v;
    (void)path;
    (void)len;
    (void)err;
    const vk_ntfs_times *t = arg;
    ni->creation_time = ns_to_ntfs_time(t->crtime_ns);
    ni->last_data_change_time = ns_to_ntfs_time(t->mtime_ns);
    ni->last_mft_change_time = ns_to_ntfs_time(t->ctime_ns);
    ni->last_access_time = ns_to_ntfs_time(t->atime_ns);
    /* Both the record's $STANDARD_INFORMATION and the copy in the parent's index entry are rewritten. */
    NInoSetDirty(ni);
    NInoFileNameSetDirty(ni);
    return 0;
}

int vk_ntfs_set_times(vk_ntfs *v, const char *path, const vk_ntfs_times *t, vk_error *err)
{
    return ntfs_edit_inode(v, path, put_times, t, sizeof *t, "times", err);
}

int vk_ntfs_exists(vk_ntfs *v, const char *path, vk_error *err)
{
    struct ntfs_sink *prev = log_enter(&v->sink);
    char *file;
    ntfschar *stream;
    int slen;
    int rc = path_split_stream(v, path, &file, &stream, &slen, err);
    if (rc) {
        log_leave(prev);
        return rc;
    }
    ntfs_inode *ni = NULL;
    rc = path_open(v, file, &ni, err);
    if (!rc && slen && !ntfs_attr_exist(ni, AT_DATA, stream, (u32)slen))
        rc = VK_E_NOTFOUND;
    if (ni)
        ntfs_inode_close(ni);
    free(file);
    free(stream);
    log_leave(prev);
    return rc == 0 ? 1 : rc == VK_E_NOTFOUND ? 0 : rc;
}
