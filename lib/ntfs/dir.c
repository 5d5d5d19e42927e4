/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directories: listing (without DOS 8.3 duplicates and, at the root, metafiles), mkdir -p, recursive remove. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf16.h"

struct name_list {
    int root;
    int meta;
    unsigned n, cap;
    struct {
        char name[1024];
        MFT_REF mref;
        int is_dir;
    } *v;
    int rc;
};

static int collect(void *ctx, const ntfschar *name, const int name_len, const int name_type, const s64 pos,
                   const MFT_REF mref, const unsigned dt_type)
{
    (void)pos;
    struct name_list *l = ctx;
    if (name_type == FILE_NAME_DOS)
        return 0;
    char utf8[1024];
    if (vk_utf16_to_utf8((const uint8_t *)name, (size_t)name_len * 2, VK_UTF16_LE, utf8, sizeof utf8) < 0)
        return 0;
    if (!strcmp(utf8, ".") || !strcmp(utf8, ".."))
        return 0;
    if (l->root && !l->meta && MREF(mref) < FILE_first_user && utf8[0] == '$')
        return 0;
    if (l->n == l->cap) {
        unsigned cap = l->cap ? l->cap * 2 : 64;
        void *g = realloc(l->v, cap * sizeof *l->v);
        if (!g) {
            l->rc = VK_E_NOMEM;
            return 1;
        }
        l->v = g;
        l->cap = cap;
    }
    snprintf(l->v[l->n].name, sizeof l->v[l->n].name, "%s", utf8);
    l->v[l->n].mref = mref;
    l->v[l->n].is_dir = dt_type == NTFS_DT_DIR;
    l->n++;
    return 0;
}

/* Names in directory inode `ni` (left open). */
static int list_names(vk_ntfs *v, ntfs_inode *ni, const char *path, unsigned flags, struct name_list *l,
                      vk_error *err)
{
    memset(l, 0, sizeof *l);
    l->root = ni->mft_no == FILE_root;
    l->meta = (flags & VK_NTFS_LS_META) != 0;
    if (!(ni->mrec->flags & MFT_RECORD_IS_DIRECTORY))
        return vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: not a directory", path);
    s64 pos = 0;
    int rc = 0;
    if (ntfs_readdir(ni, &pos, l, collect))
        rc = ntfs_fail(v, errno, err, "%s: cannot read the directory", path);
    else if (l->rc)
        rc = vk_fail(err, l->rc, v->dev->name, VK_NO_OFFSET, NULL);
    if (rc) {
        free(l->v);
        l->v = NULL;
    }
    return rc;
}

void fill_times(ntfs_inode *ni, vk_ntfs_times *t)
{
    t->crtime_ns = ntfs_time_to_ns(ni->creation_time);
    t->mtime_ns = ntfs_time_to_ns(ni->last_data_change_time);
    t->ctime_ns = ntfs_time_to_ns(ni->last_mft_change_time);
    t->atime_ns = ntfs_time_to_ns(ni->last_access_time);
}

int vk_ntfs_readdir(vk_ntfs *v, const char *path, unsigned flags, vk_ntfs_dir_fn fn, void *ctx, vk_error *err)
{
    struct ntfs_sink *prev = log_enter(&v->sink);
    ntfs_inode *ni;
    struct name_list l = {0};
    int rc = path_open(v, path, &ni, err);
    if (!rc) {
        rc = list_names(v, ni, path, flags, &l, err);
        ntfs_inode_close(ni);
    }
    for (unsigned i = 0; !rc && i < l.n; i++) {
        vk_ntfs_dirent e;
        memset(&e, 0, sizeof e);
        memcpy(e.name, l.v[i].name, sizeof e.name);
        e.mft = MREF(l.v[i].mref);
        e.is_dir = l.v[i].is_dir;
        ntfs_inode *c = ntfs_inode_open(v->vol, e.mft);
        if (!c) {
            rc = ntfs_fail(v, errno, err, "%s/%s: cannot open MFT record %llu", path, e.name,
                           (unsigned long long)e.mft);
            break;
        }
        e.size = e.is_dir ? 0 : (uint64_t)c->data_size;
        e.file_attrs = le32_to_cpu(c->flags);
        fill_times(c, &e.times);
        ntfs_inode_close(c);
        rc = fn(ctx, &e);
    }
    free(l.v);
    log_leave(prev);
    return rc;
}

int ntfs_create_path(vk_ntfs *v, const char *path, mode_t type, ntfs_inode **child, vk_error *err)
{
    char *pp;
    const char *leaf;
    int rc = path_parent(v, path, &pp, &leaf, err);
    if (rc)
        return rc;
    char name[1024];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(leaf, "/\\"), leaf);
    ntfs_inode *dir;
    rc = path_open(v, pp, &dir, err);
    free(pp);
    if (rc)
        return rc;
    ntfschar *u = NULL;
    int len = name_to_ucs(name, &u);
    if (!(dir->mrec->flags & MFT_RECORD_IS_DIRECTORY))
        rc = vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: parent is not a directory", path);
    else if (len < 0)
        rc = vk_fail(err, len, v->dev->name, VK_NO_OFFSET, "%s: invalid name", path);
    else if (!(*child = ntfs_create(dir, const_cpu_to_le32(0), u, (u8)len, type)))
        rc = ntfs_fail(v, errno, err, "%s: cannot create", path);
    free(u);
    /* ntfscp's order: the parent is closed right after ntfs_create, before the child is written and closed.
     * Closing the child while its parent is still open fails with "Failed to sync FILE_NAME" and leaks both. */
    if (ntfs_inode_close(dir) && !rc) {
        rc = ntfs_fail(v, errno, err, "%s: cannot update the parent directory", path);
        ntfs_inode_close(*child);
    }
    return rc;
}

int vk_ntfs_mkdir(vk_ntfs *v, const char *path, int parents, vk_error *err)
{
    if (v->readonly)
        return vk_fail(err, VK_E_READONLY, v->dev->name, VK_NO_OFFSET, "%s: volume mounted read-only", path);
    struct ntfs_sink *prev = log_enter(&v->sink);
    int rc = 0;
    size_t len = strlen(path);
    char *prefix = malloc(len + 1);
    if (!prefix) {
        log_leave(prev);
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    }
    /* Each prefix ending at a separator (or the end) in turn; without `parents` only the last is made. */
    for (size_t i = 1; i <= len && !rc; i++) {
        if (i < len && path[i] != '/' && path[i] != '\\')
            continue;
        if (path[i - 1] == '/' || path[i - 1] == '\\')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        int last = i == len || path[i + strspn(path + i, "/\\")] == '\0';
        ntfs_inode *ni;
        int e = path_open(v, prefix, &ni, NULL);
        if (!e) {
            int is_dir = (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) != 0;
            ntfs_inode_close(ni);
            if (!is_dir)
                rc = vk_fail(err, VK_E_EXISTS, v->dev->name, VK_NO_OFFSET, "%s: exists and is not a directory", prefix);
            else if (last && !parents)
                rc = vk_fail(err, VK_E_EXISTS, v->dev->name, VK_NO_OFFSET, "%s: directory exists", prefix);
        } else if (e != VK_E_NOTFOUND) {
            rc = path_open(v, prefix, &ni, err); /* again, to explain: the first call was quiet */
            if (!rc) {
                ntfs_inode_close(ni);
                rc = vk_fail(err, e, v->dev->name, VK_NO_OFFSET, "%s: cannot open", prefix);
            }
        } else if (!last && !parents) {
            rc = vk_fail(err, VK_E_NOTFOUND, v->dev->name, VK_NO_OFFSET, "%s: no such directory", prefix);
        } else {
            ntfs_inode *child;
            rc = ntfs_create_path(v, prefix, S_IFDIR, &child, err);
            if (!rc && ntfs_inode_close(child))
                rc = ntfs_fail(v, errno, err, "%s: cannot write the new directory", prefix);
            rc = ntfs_stopped(v, rc, err);
        }
        if (last)
            break;
    }
    free(prefix);
    log_leave(prev);
    return rc;
}

/* The name `ni` has in directory `dir_mft` (Win32 or POSIX, not the DOS alias), in UTF-16. */
static int name_in_parent(vk_ntfs *v, ntfs_inode *ni, u64 dir_mft, ntfschar **name, u8 *len, vk_error *err)
{
    ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
    if (!ctx)
        return ntfs_fail(v, errno, err, "cannot read MFT record %llu", (unsigned long long)ni->mft_no);
    int rc = VK_E_NOTFOUND;
    while (!ntfs_attr_lookup(AT_FILE_NAME, NULL, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
        const ATTR_RECORD *a = ctx->attr;
        if (a->non_resident || le32_to_cpu(a->value_length) < sizeof(FILE_NAME_ATTR))
            continue;
        const FILE_NAME_ATTR *fn = (const FILE_NAME_ATTR *)((const u8 *)a + le16_to_cpu(a->value_offset));
        if (MREF_LE(fn->parent_directory) != dir_mft || fn->file_name_type == FILE_NAME_DOS ||
            sizeof(FILE_NAME_ATTR) + fn->file_name_length * 2u > le32_to_cpu(a->value_length))
            continue;
        *name = malloc(fn->file_name_length * 2u + 2);
        if (!*name) {
            rc = VK_E_NOMEM;
            break;
        }
        memcpy(*name, fn->file_name, fn->file_name_length * 2u);
        *len = fn->file_name_length;
        rc = 0;
        break;
    }
    ntfs_attr_put_search_ctx(ctx);
    if (rc)
        return vk_fail(err, rc, v->dev->name, VK_NO_OFFSET, "MFT record %llu has no name in directory %llu",
                       (unsigned long long)ni->mft_no, (unsigned long long)dir_mft);
    return 0;
}

static int remove_path(vk_ntfs *v, const char *path, int recursive, unsigned depth, vk_error *err)
{
    if (depth > 512)
        return vk_fail(err, VK_E_CORRUPT, v->dev->name, VK_NO_OFFSET, "%s: directories nested too deep", path);
    char *pp;
    const char *leaf;
    int rc = path_parent(v, path, &pp, &leaf, err);
    if (rc)
        return rc;
    ntfs_inode *dir, *ni;
    rc = path_open(v, pp, &dir, err);
    free(pp);
    if (rc)
        return rc;
    if ((rc = path_open(v, path, &ni, err))) {
        ntfs_inode_close(dir);
        return rc;
    }
    if ((ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) && recursive) {
        struct name_list l = {0};
        rc = list_names(v, ni, path, VK_NTFS_LS_META, &l, err);
        ntfs_inode_close(dir); /* parent before child, as in ntfs_create_path */
        ntfs_inode_close(ni);
        for (unsigned i = 0; !rc && i < l.n; i++) {
            char *sub = malloc(strlen(path) + strlen(l.v[i].name) + 2);
            if (!sub) {
                rc = vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
                break;
            }
            sprintf(sub, "%s/%s", path, l.v[i].name);
            rc = ntfs_stopped(v, remove_path(v, sub, 1, depth + 1, err), err);
            free(sub);
        }
        free(l.v);
        return rc ? rc : remove_path(v, path, 0, depth, err);
    }
    ntfschar *u = NULL;
    u8 ulen = 0;
    if ((rc = name_in_parent(v, ni, dir->mft_no, &u, &ulen, err))) {
        ntfs_inode_close(ni);
        ntfs_inode_close(dir);
        return rc;
    }
    /* ntfs_delete closes both inodes whatever happens. No pathname: we never fill libntfs-3g's path cache, and
     * naming a path it does not hold logs an error. */
    if (ntfs_delete(v->vol, NULL, ni, dir, u, ulen))
        rc = ntfs_fail(v, errno, err, "%s: cannot remove", path);
    free(u);
    return rc;
}

int vk_ntfs_remove(vk_ntfs *v, const char *path, int recursive, vk_error *err)
{
    if (v->readonly)
        return vk_fail(err, VK_E_READONLY, v->dev->name, VK_NO_OFFSET, "%s: volume mounted read-only", path);
    struct ntfs_sink *prev = log_enter(&v->sink);
    int rc = remove_path(v, path, recursive, 0, err);
    rc = ntfs_stopped(v, rc, err);
    log_leave(prev);
    return rc;
}
