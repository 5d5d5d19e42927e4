/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hard links and exact-name unlinks (the pieces of a crash-safe replace: libntfs-3g has no rename), and a sync. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    struct exact_match m = {name, len, 0};
    s64 pos = 0;
    ntfs_readdir(dir, &pos, &m, exact_filldir);
    ntfs_inode *ni = m.found ? ntfs_inode_open(v->vol, MREF(m.found)) : NULL;
    if (!m.found)
        rc = vk_fail(err, VK_E_NOTFOUND, v->dev->name, VK_NO_OFFSET, "%s: no such file", path);
    else if (!ni)
        rc = ntfs_fail(v, errno, err, "%s: cannot open MFT record %llu", path, (unsigned long long)MREF(m.found));
    else if (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) {
        rc = vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: is a directory", path);
        ntfs_inode_close(ni);
    } else if (ntfs_delete(v->vol, NULL, ni, dir, name, (u8)len)) {
        /* ntfs_delete removes this one name (the file goes with its last name) and closes both inodes. */
        rc = ntfs_fail(v, errno, err, "%s: cannot remove", path);
        dir = NULL;
    } else {
        dir = NULL;
    }
    if (dir)
        ntfs_inode_close(dir);
    free(name);
    log_leave(prev);
    return rc;
}

int vk_ntfs_sync(vk_ntfs *v, vk_error *err)
{
    if (v->readonly)
        return 0;
    int rc = vk_dev_flush(v->dev, err);
    if (!rc && v->dp->io_err.code) {
        if (err)
            *err = v->dp->io_err;
        rc = v->dp->io_err.code;
    }
    return rc;
}
