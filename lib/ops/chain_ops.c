/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared helpers of the chain commands: paths, folder scans for children and for a parent by UUID. */
#include "ops/chain_ops.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

double chain_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int chain_realpath(const char *path, char out[4096], vk_error *err)
{
    char buf[PATH_MAX];
    if (!realpath(path, buf))
        return vk_fail_errno(err, errno == ENOENT ? VK_E_NOTFOUND : VK_E_IO, errno, path, VK_NO_OFFSET,
                             "cannot find the image");
    snprintf(out, 4096, "%s", buf);
    return 0;
}

bool chain_same_file(const char *a, const char *b)
{
    struct stat x, y;
    return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

bool chain_contains(vk_vhd *vhd, const char *path)
{
    for (; vhd; vhd = vk_vhd_parent(vhd))
        if (chain_same_file(vk_vhd_path(vhd), path))
            return true;
    return false;
}

void chain_note(struct vk_chain_result *res, const char *fmt, ...)
{
    if (res->nnames >= VK_CHAIN_MAX_NAMES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->names[res->nnames++], sizeof res->names[0], fmt, ap);
    va_end(ap);
}

/* Calls fn(path, info) for each .vhd of `dir` that opens as a VHD (metadata only, tolerant); stops on nonzero. */
static int each_vhd(const char *dir, int (*fn)(void *ctx, const char *path, const struct vk_vhd_info *info),
                    void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int stop = 0;
    struct vk_vhd_info *info = malloc(sizeof *info);
    while (info && !stop && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcasecmp(e->d_name + n - 4, ".vhd"))
            continue;
        char p[4096];
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue; /* a path this long could not be returned whole (chain_find_by_uuid's out[4096]) */
        struct vk_vhd_open_opts oo = {.flags = VK_VHD_NO_PARENT | VK_VHD_TOLERANT};
        vk_vhd *v;
        if (vk_vhd_open(p, &oo, &v, NULL))
            continue;
        vk_vhd_get_info(v, info);
        vk_vhd_close(v);
        stop = fn(ctx, p, info);
    }
    free(info);
    closedir(d);
    return stop;
}

static void dir_of(const char *path, char dir[4096])
{
    snprintf(dir, 4096, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf(dir, 4096, ".");
}

struct kids {
    const char *image, *except;
    const uint8_t *uuid;
    struct vk_chain_result *res;
    int count;
};

static int kid(void *ctx, const char *path, const struct vk_vhd_info *info)
{
    struct kids *k = ctx;
    if (info->type != VK_VHD_DIFF || memcmp(info->parent_uuid, k->uuid, 16) || chain_same_file(path, k->image) ||
        (k->except && chain_same_file(path, k->except)))
        return 0;
    k->count++;
    chain_note(k->res, "%s", path);
    return 0;
}

int chain_find_children(const char *image, const uint8_t uuid[16], const char *except, struct vk_chain_result *res,
                        vk_error *err)
{
    char dir[4096];
    dir_of(image, dir);
    struct kids k = {image, except, uuid, res, 0};
    if (each_vhd(dir, kid, &k) < 0)
        return vk_fail_errno(err, VK_E_IO, errno, dir, VK_NO_OFFSET, "cannot list the folder to look for children");
    return k.count;
}

struct by_uuid {
    const uint8_t *uuid;
    char *out;
};

static int match_uuid(void *ctx, const char *path, const struct vk_vhd_info *info)
{
    struct by_uuid *b = ctx;
    if (memcmp(info->uuid, b->uuid, 16))
        return 0;
    return snprintf(b->out, 4096, "%s", path) < 4096; /* never a cut path */
}

int chain_find_by_uuid(const char *const *dirs, const uint8_t uuid[16], char out[4096])
{
    struct by_uuid b = {uuid, out};
    for (int i = 0; dirs && dirs[i]; i++)
        if (each_vhd(dirs[i], match_uuid, &b) > 0)
            return 1;
    return 0;
}

int chain_read_view(vk_dev *dev, uint8_t *buf, size_t len, uint64_t off, vk_error *err)
{
    size_t n = off >= dev->size ? 0 : dev->size - off < len ? (size_t)(dev->size - off) : len;
    memset(buf + n, 0, len - n);
    return n ? vk_dev_read(dev, buf, n, off, err) : 0;
}
