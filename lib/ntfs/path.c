/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Path lookup as Windows does it (exact name first, then case-insensitive through $UpCase), and "file:stream". */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntfs-3g/unistr.h>

#include "core/utf16.h"

/* Longest NTFS name: 255 UTF-16 code units. */
#define NAME_UNITS_MAX 255

int name_to_ucs(const char *name, ntfschar **out)
{
    uint8_t buf[NAME_UNITS_MAX * 2];
    int n = vk_utf8_to_utf16(name, VK_UTF16_LE, buf, sizeof buf);
    if (n < 0)
        return n;
    if (n == 0)
        return VK_E_USAGE;
    *out = malloc((size_t)n);
    if (!*out)
        return VK_E_NOMEM;
    memcpy(*out, buf, (size_t)n);
    return n / 2;
}

struct ci_match {
    ntfs_volume *vol;
    const ntfschar *name;
    int len;
    MFT_REF found;
};

static int ci_filldir(void *ctx, const ntfschar *name, const int name_len, const int name_type, const s64 pos,
                      const MFT_REF mref, const unsigned dt_type)
{
    (void)pos;
    (void)dt_type;
    struct ci_match *m = ctx;
    if (name_type == FILE_NAME_DOS)
        return 0;
    if (ntfs_names_are_equal(m->name, (size_t)m->len, name, (size_t)name_len, IGNORE_CASE, m->vol->upcase,
                             m->vol->upcase_len)) {
        m->found = mref;
        return 1; /* stop */
    }
    return 0;
}

/* One component inside `dir`: MFT reference or 0 when missing. */
static MFT_REF lookup(ntfs_volume *vol, ntfs_inode *dir, const ntfschar *name, int len)
{
    u64 r = ntfs_inode_lookup_by_name(dir, name, len);
    if (r != (u64)-1)
        return r;
    struct ci_match m = {vol, name, len, 0};
    s64 pos = 0;
    ntfs_readdir(dir, &pos, &m, ci_filldir);
    return m.found;
}

int path_open(vk_ntfs *v, const char *path, ntfs_inode **out, vk_error *err)
{
    ntfs_inode *ni = ntfs_inode_open(v->vol, FILE_root);
    if (!ni)
        return ntfs_fail(v, errno, err, "cannot open the root directory");
    const char *p = path;
    char comp[1024];
    for (;;) {
        while (*p == '/' || *p == '\\')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, "/\\");
        if (n >= sizeof comp) {
            ntfs_inode_close(ni);
            return vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: name too long", path);
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        p += n;
        if (!strcmp(comp, "."))
            continue;
        if (!(ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
            ntfs_inode_close(ni);
            return vk_fail(err, VK_E_NOTFOUND, v->dev->name, VK_NO_OFFSET, "%s: not a directory before \"%s\"", path,
                           comp);
        }
        ntfschar *u = NULL;
        int len = name_to_ucs(comp, &u);
        if (len < 0) {
            ntfs_inode_close(ni);
            return vk_fail(err, len, v->dev->name, VK_NO_OFFSET, "%s: invalid name \"%s\"", path, comp);
        }
        MFT_REF r = lookup(v->vol, ni, u, len);
        free(u);
        ntfs_inode_close(ni);
        if (!r)
            return vk_fail(err, VK_E_NOTFOUND, v->dev->name, VK_NO_OFFSET, "%s: no such file or directory", path);
        ni = ntfs_inode_open(v->vol, MREF(r));
        if (!ni)
            return ntfs_fail(v, errno, err, "%s: cannot open MFT record %llu", path, (unsigned long long)MREF(r));
    }
    *out = ni;
    return 0;
}

int path_split_stream(vk_ntfs *v, const char *path, char **file, ntfschar **stream, int *stream_len, vk_error *err)
{
    const char *slash = strrchr(path, '/'), *bslash = strrchr(path, '\\');
    const char *leaf = slash > bslash ? slash : bslash;
    leaf = leaf ? leaf + 1 : path;
    const char *colon = strchr(leaf, ':');
    *stream = NULL;
    *stream_len = 0;
    size_t flen = colon ? (size_t)(colon - path) : strlen(path);
    *file = strndup(path, flen);
    if (!*file)
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    if (!colon)
        return 0;
    /* "name:stream" or "name:stream:$DATA"; "name::$DATA" is the unnamed stream. */
    char sname[1024];
    snprintf(sname, sizeof sname, "%s", colon + 1);
    char *type = strchr(sname, ':');
    if (type) {
        if (strcmp(type, ":$DATA") != 0) {
            free(*file);
            return vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: only $DATA streams can be named", path);
        }
        *type = '\0';
    }
    if (!sname[0])
        return 0;
    int n = name_to_ucs(sname, stream);
    if (n < 0) {
        free(*file);
        return vk_fail(err, n, v->dev->name, VK_NO_OFFSET, "%s: invalid stream name", path);
    }
    *stream_len = n;
    return 0;
}

int path_parent(vk_ntfs *v, const char *path, char **parent, const char **leaf, vk_error *err)
{
    size_t n = strlen(path);
    while (n && (path[n - 1] == '/' || path[n - 1] == '\\'))
        n--;
    size_t start = n;
    while (start && path[start - 1] != '/' && path[start - 1] != '\\')
        start--;
    if (start == n)
        return vk_fail(err, VK_E_USAGE, v->dev->name, VK_NO_OFFSET, "%s: the root has no parent", path);
    *parent = strndup(path, start);
    if (!*parent)
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    *leaf = path + start;
    return 0;
}
