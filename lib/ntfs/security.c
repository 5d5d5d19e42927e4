/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A file's security descriptor and attribute bits, read and set through libntfs-3g (the calls behind ntfs-3g's
 * system.ntfs_acl and system.ntfs_attrib extended attributes): what a copy of a Windows file must carry besides
 * its bytes and times, or Windows sees another owner and other permissions. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ntfs-3g/security.h>

int vk_ntfs_get_security(vk_ntfs *v, const char *path, uint8_t **sd, size_t *len, vk_error *err)
{
    *sd = NULL;
    *len = 0;
    struct ntfs_sink *prev = log_enter(&v->sink);
    ntfs_inode *ni;
    int rc = path_open(v, path, &ni, err);
    if (!rc) {
        struct SECURITY_CONTEXT scx = {.vol = v->vol};
        /* A first call with no room tells the size; the descriptor is then read again into its buffer. */
        int n = ntfs_get_ntfs_acl(&scx, ni, NULL, 0);
        char *buf = n > 0 ? malloc((size_t)n) : NULL;
        if (n <= 0)
            rc = ntfs_fail(v, n < 0 ? -n : ENODATA, err, "%s: cannot read the security descriptor", path);
        else if (!buf)
            rc = vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
        else if (ntfs_get_ntfs_acl(&scx, ni, buf, (size_t)n) != n)
            rc = ntfs_fail(v, errno ? errno : EIO, err, "%s: the security descriptor changed while read", path);
        if (rc)
            free(buf);
        else
            *sd = (uint8_t *)buf, *len = (size_t)n;
        ntfs_inode_close(ni);
    }
    log_leave(prev);
    return rc;
}

static int put_security(vk_ntfs *v, ntfs_inode *ni, const char *path, const void *sd, size_t len, vk_error *err)
{
    struct SECURITY_CONTEXT scx = {.vol = v->vol};
    if (!ntfs_set_ntfs_acl(&scx, ni, sd, len, 0))
        return 0;
    if (errno != EINVAL)
        return NTFS_EDIT_ERRNO;
    return vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: not a valid security descriptor (%zu bytes)",
                   path, len);
}

int vk_ntfs_set_security(vk_ntfs *v, const char *path, const uint8_t *sd, size_t len, vk_error *err)
{
    return ntfs_edit_inode(v, path, put_security, sd, len, "security descriptor", err);
}

/* libntfs-3g keeps the bits it does not let a program set (FILE_ATTR_SETTABLE), as Windows does. */
static int put_attrs(vk_ntfs *v, ntfs_inode *ni, const char *path, const void *attrs, size_t len, vk_error *err)
{
    (void)v;
    (void)path;
    (void)err;
    return ntfs_set_ntfs_attrib(ni, attrs, len, 0) ? NTFS_EDIT_ERRNO : 0;
}

int vk_ntfs_set_attrs(vk_ntfs *v, const char *path, uint32_t attrs, vk_error *err)
{
    return ntfs_edit_inode(v, path, put_attrs, &attrs, sizeof attrs, "attributes", err);
}
