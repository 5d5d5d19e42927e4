/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hard links and exact-name unlinks (the pieces of a crash-safe replace: libntfs-3g has no rename), and a sync. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ntfs-3g/index.h>
#include <ntfs-3g/unistr.h>

struct exact_match {
    const ntfschar *name;
    int len;
    MFT_REF found;
};

static int exact_filldir(void *ctx, const ntfschar *name, const int name_len, const int name_type, const s64 pos,
                         const MFT_REF mref, const unsigned dt_type)
{
    (void)pos;
    (void)dt_type;
    struct exact_match *m = ctx;
    if (name_type == FILE_NAME_DOS || name_len != m->len || memcmp(name, m->name, (size_t)name_len * 2u))
        return 0;
    m->found = mref;
    return 1;
}

/* Opens the parent directory of `path` and converts its last component; the caller frees *name. */
static int open_parent(vk_ntfs *v, const char *path, ntfs_inode **dir, ntfschar **name, int *len, vk_error *err)
{
    char *pp;
    const char *leaf;
    int rc = path_parent(v, path, &pp, &leaf, err);
    if (rc)
        return rc;
    rc = path_open(v, pp, dir, err);
    free(pp);
    if (rc)
        return rc;
    *len = name_to_ucs(leaf, name);
    if (*len < 0) {
        rc = vk_fail(err, *len, v->dev->name, VK_NO_OFFSET, "%s: invalid name", path);
        ntfs_inode_close(*dir);
    }
    return rc;
}

int vk_ntfs_link(vk_ntfs *v, const char *existing, const char *new_path, vk_error *err)
{
    if (v->readonly)
        return vk_fail(err, VK_E_READONLY, v->dev->name, VK_NO_OFFSET, "%s: volume mounted read-only", new_path);
    struct ntfs_sink *prev = log_enter(&v->sink);
    ntfs_inode *ni = NULL, *dir = NULL;
    ntfschar *name = NULL;
    int len = 0;
    int rc = path_open(v, existing, &ni, err);
    if (!rc && (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY))
        rc = vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: is a directory", existing);
    if (!rc)
        rc = open_parent(v, new_path, &dir, &name, &len, err);
    if (!rc) {
        /* ntfs-3g's own link(2): the index entry and the new $FILE_NAME (POSIX namespace, so the name is kept
         * exactly as given even when it differs from another only in case). */
        if (ntfs_link(ni, dir, name, (u8)len))
            rc = ntfs_fail(v, errno, err, "%s: cannot link to %s", new_path, existing);
        else
            ntfs_inode_update_times(ni, NTFS_UPDATE_CTIME);
        if (ntfs_inode_close(dir) && !rc)
            rc = ntfs_fail(v, errno, err, "%s: cannot write the directory", new_path);
    }
    if (ni && ntfs_inode_close(ni) && !rc)
        rc = ntfs_fail(v, errno, err, "%s: cannot write its MFT record", new_path);
    rc = ntfs_stopped(v, rc, err);
    free(name);
    log_leave(prev);
    return rc;
}

/* The index entry named exactly `name` in `dir`: its MFT reference, or 0. */
static MFT_REF exact_entry(ntfs_inode *dir, const ntfschar *name, int len)
{
    struct exact_match m = {name, len, 0};
    s64 pos = 0;
    ntfs_readdir(dir, &pos, &m, exact_filldir);
    return m.found;
}

/* True when `ni` has a $FILE_NAME `name` in `dir` (compared exactly). */
static bool has_name(ntfs_inode *ni, ntfs_inode *dir, const ntfschar *name, int len)
{
    ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
    bool found = false;
    while (ctx && !found && !ntfs_attr_lookup(AT_FILE_NAME, NULL, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
        const ATTR_RECORD *a = ctx->attr;
        if (a->non_resident || le32_to_cpu(a->value_length) < sizeof(FILE_NAME_ATTR))
            continue;
        const FILE_NAME_ATTR *fn = (const FILE_NAME_ATTR *)((const u8 *)a + le16_to_cpu(a->value_offset));
        found = MREF_LE(fn->parent_directory) == dir->mft_no && fn->file_name_length == len &&
                sizeof(FILE_NAME_ATTR) + (size_t)len * 2u <= le32_to_cpu(a->value_length) &&
                !memcmp((const u8 *)fn + offsetof(FILE_NAME_ATTR, file_name), name, (size_t)len * 2u);
    }
    if (ctx)
        ntfs_attr_put_search_ctx(ctx);
    return found;
}

/* A write cut between the two halves of a libntfs-3g link or unlink leaves $FILE_NAME attributes in `dir` whose
 * index entry is gone; closing the inode then fails to update them ("Failed to sync FILE_NAME"). They are names
 * nothing reaches: drop them (and their count in the link count). */
static int drop_stale_names(vk_ntfs *v, ntfs_inode *ni, ntfs_inode *dir, vk_error *err)
{
    ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
    if (!ctx)
        return ntfs_fail(v, errno, err, "cannot read MFT record %llu", (unsigned long long)ni->mft_no);
    int rc = 0;
    while (!ntfs_attr_lookup(AT_FILE_NAME, NULL, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
        const ATTR_RECORD *a = ctx->attr;
        if (a->non_resident || le32_to_cpu(a->value_length) < sizeof(FILE_NAME_ATTR))
            continue;
        const FILE_NAME_ATTR *fn = (const FILE_NAME_ATTR *)((const u8 *)a + le16_to_cpu(a->value_offset));
        if (MREF_LE(fn->parent_directory) != dir->mft_no || fn->file_name_type == FILE_NAME_DOS ||
            sizeof(FILE_NAME_ATTR) + fn->file_name_length * 2u > le32_to_cpu(a->value_length))
            continue;
        ntfschar nm[255];
        memcpy(nm, (const u8 *)fn + offsetof(FILE_NAME_ATTR, file_name), fn->file_name_length * 2u);
        MFT_REF r = exact_entry(dir, nm, fn->file_name_length);
        if (r && MREF(r) == ni->mft_no)
            continue;
        u16 links = le16_to_cpu(ni->mrec->link_count);
        if (links <= 1)
            break; /* never the last name: the file stays reachable through the entry that found it */
        if (ntfs_attr_record_rm(ctx)) {
            rc = ntfs_fail(v, errno, err, "cannot drop a stale name of MFT record %llu", (unsigned long long)ni->mft_no);
            break;
        }
        ni->mrec->link_count = cpu_to_le16(links - 1);
        ntfs_inode_mark_dirty(ni);
        ntfs_attr_reinit_search_ctx(ctx);
    }
    ntfs_attr_put_search_ctx(ctx);
    return rc;
}

/* Removes the index entry `name` alone (its file does not know the name, or is not in use). */
static int drop_entry(vk_ntfs *v, const char *path, ntfs_inode *dir, const ntfschar *name, int len, vk_error *err)
{
    size_t klen = sizeof(FILE_NAME_ATTR) + (size_t)len * 2u;
    FILE_NAME_ATTR *key = calloc(1, klen);
    if (!key)
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    key->parent_directory = MK_LE_MREF(dir->mft_no, le16_to_cpu(dir->mrec->sequence_number));
    key->file_name_length = (u8)len;
    key->file_name_type = FILE_NAME_POSIX;
    memcpy((u8 *)key + offsetof(FILE_NAME_ATTR, file_name), name, (size_t)len * 2u);
    int rc = 0;
    if (ntfs_index_remove(dir, NULL, key, (int)klen))
        rc = ntfs_fail(v, errno, err, "%s: cannot remove the directory entry", path);
    free(key);
    return rc;
}

int vk_ntfs_name_state(vk_ntfs *v, const char *path, vk_error *err)
{
    struct ntfs_sink *prev = log_enter(&v->sink);
    ntfs_inode *dir = NULL;
    ntfschar *name = NULL;
    int len = 0;
    int rc = open_parent(v, path, &dir, &name, &len, err);
    if (rc) {
        log_leave(prev);
        return rc;
    }
    MFT_REF r = exact_entry(dir, name, len);
    if (!r) {
        rc = VK_NTFS_NAME_NONE;
    } else {
        ntfs_inode *ni = ntfs_inode_open(v->vol, MREF(r));
        if (!ni && errno != ENOENT)
            rc = ntfs_fail(v, errno, err, "%s: cannot open MFT record %llu", path, (unsigned long long)MREF(r));
        else
            rc = ni && has_name(ni, dir, name, len) ? VK_NTFS_NAME_REAL : VK_NTFS_NAME_DANGLING;
        if (ni)
            ntfs_inode_close(ni);
    }
    ntfs_inode_close(dir);
    free(name);
    log_leave(prev);
    return rc;
}

int vk_ntfs_unlink(vk_ntfs *v, const char *path, vk_error *err)
{
    if (v->readonly)
        return vk_fail(err, VK_E_READONLY, v->dev->name, VK_NO_OFFSET, "%s: volume mounted read-only", path);
    struct ntfs_sink *prev = log_enter(&v->sink);
    ntfs_inode *dir = NULL;
    ntfschar *name = NULL;
    int len = 0;
    int rc = open_parent(v, path, &dir, &name, &len, err);
    if (rc) {
        log_leave(prev);
        return rc;
    }
    /* The index walk, not ntfs_inode_lookup_by_name: a name differing only in case must not be taken. */
    MFT_REF r = exact_entry(dir, name, len);
    ntfs_inode *ni = r ? ntfs_inode_open(v->vol, MREF(r)) : NULL;
    if (!r) {
        rc = vk_fail(err, VK_E_NOTFOUND, v->dev->name, VK_NO_OFFSET, "%s: no such file", path);
    } else if (!ni && errno != ENOENT) {
        rc = ntfs_fail(v, errno, err, "%s: cannot open MFT record %llu", path, (unsigned long long)MREF(r));
    } else if (!ni || !has_name(ni, dir, name, len)) {
        /* A dangling entry, left by a write cut inside a libntfs-3g create or link. */
        rc = drop_entry(v, path, dir, name, len, err);
    } else if (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) {
        rc = vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: is a directory", path);
    } else if (!(rc = drop_stale_names(v, ni, dir, err))) {
        /* ntfs_delete removes this one name (the file goes with its last name) and closes both inodes. */
        if (ntfs_delete(v->vol, NULL, ni, dir, name, (u8)len))
            rc = ntfs_fail(v, errno, err, "%s: cannot remove", path);
        ni = NULL;
        dir = NULL;
    }
    if (ni)
        ntfs_inode_close(ni);
    if (dir && ntfs_inode_close(dir) && !rc)
        rc = ntfs_fail(v, errno, err, "%s: cannot write the directory", path);
    rc = ntfs_stopped(v, rc, err);
    free(name);
    log_leave(prev);
    return rc;
}

int vk_ntfs_sync(vk_ntfs *v, vk_error *err)
{
    if (v->readonly)
        return 0;
    if (v->dp->stopped)
        return ntfs_stopped(v, 0, err);
    int rc = vk_dev_flush(v->dev, err);
    if (!rc && v->dp->io_err.code) {
        if (err)
            *err = v->dp->io_err;
        rc = v->dp->io_err.code;
    }
    return rc;
}
