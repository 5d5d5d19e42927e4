/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hives inside an NTFS volume: find a key's hive file, list the hives, open one with its logs (.LOG1/.LOG2/.LOG). */
#include "reg/reg_int.h"
#include "reg/volume_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Windows caps a hive at 2 GiB (and a log at the same); nothing legitimate is larger. */
#define HIVE_MAX ((uint64_t)2 << 30)

struct grow {
    uint8_t *p;
    size_t len, cap;
    int overflow;
};

static int grow_sink(void *ctx, const void *buf, size_t len)
{
    struct grow *g = ctx;
    if (len > g->cap - g->len) {
        g->overflow = 1; /* more bytes than the file's size: only a lying volume does that */
        return VK_E_CORRUPT;
    }
    memcpy(g->p + g->len, buf, len);
    g->len += len;
    return 0;
}

/* The size of a hive or log file in the volume, refusing folders and sizes no hive reaches. */
static int hive_file_size(vk_ntfs *vol, const char *path, uint64_t *size, vk_error *err)
{
    vk_ntfs_stat st;
    int rc = vk_ntfs_stat_path(vol, path, &st, err);
    if (rc)
        return rc;
    *size = st.size;
    int dir = st.is_dir;
    vk_ntfs_stat_free(&st);
    if (dir)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "is a folder, not a hive file");
    if (*size > HIVE_MAX)
        return vk_fail(err, VK_E_CORRUPT, path, VK_NO_OFFSET, "%llu bytes: larger than any hive or log (2 GiB)",
                       (unsigned long long)*size);
    return 0;
}

int regvol_read(vk_ntfs *vol, const char *path, uint8_t **out, size_t *len, vk_error *err)
{
    *out = NULL;
    *len = 0;
    uint64_t size;
    int rc = hive_file_size(vol, path, &size, err);
    if (rc)
        return rc;
    struct grow g = {malloc(size ? (size_t)size : 1), 0, (size_t)size, 0};
    if (!g.p)
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, "no memory for %llu bytes", (unsigned long long)size);
    rc = vk_ntfs_read_all(vol, path, grow_sink, &g, err);
    if (g.overflow)
        rc = vk_fail(err, VK_E_CORRUPT, path, VK_NO_OFFSET, "longer than its directory entry says");
    if (rc) {
        free(g.p);
        return rc;
    }
    *out = g.p;
    *len = g.len;
    return 0;
}

/* The log of `hive_file` with `suffix`, or absent (data NULL). */
static int read_log(vk_ntfs *vol, const char *hive_file, const char *suffix, uint8_t **data, size_t *len,
                    vk_error *err)
{
    char path[VK_REG_FILE_MAX + 8];
    snprintf(path, sizeof path, "%s%s", hive_file, suffix);
    *data = NULL;
    *len = 0;
    int e = vk_ntfs_exists(vol, path, err);
    if (e <= 0)
        return e;
    return regvol_read(vol, path, data, len, err);
}

/* Where a hive's bytes come from: its file in the volume, read at any offset. */
struct hive_src {
    vk_ntfs *vol;
    char path[VK_REG_FILE_MAX];
};

static int src_read(void *ctx, uint64_t off, void *buf, size_t len, vk_error *err)
{
    struct hive_src *s = ctx;
    size_t got;
    int rc = vk_ntfs_pread(s->vol, s->path, buf, len, off, &got, err);
    if (!rc && got != len)
        rc = vk_fail(err, VK_E_TRUNCATED, s->path, off + got, "shorter than its directory entry says");
    return rc;
}

/* The whole hive, read in one call straight into the memory hivex will open (libntfs-3g then reads whole runs). */
static int read_image(struct hive_src *src, size_t size, struct reg_image *im, vk_error *err)
{
    int rc = reg_image_alloc(size, im, err);
    if (rc)
        return rc;
    rc = size ? src_read(src, 0, im->p, size, err) : 0;
    if (rc)
        reg_image_free(im);
    return rc;
}

int vk_reg_volume_open(vk_ntfs *vol, const char *hive_file, unsigned flags, vk_reg_hive **out, vk_error *err)
{
    *out = NULL;
    uint64_t size;
    int rc = hive_file_size(vol, hive_file, &size, err);
    if (rc)
        return rc;
    struct hive_src *src = malloc(sizeof *src);
    if (!src)
        return vk_fail(err, VK_E_NOMEM, hive_file, VK_NO_OFFSET, NULL);
    src->vol = vol;
    snprintf(src->path, sizeof src->path, "%s", hive_file);
    if ((flags & VK_REG_OPEN_LAZY) && !(flags & VK_REG_OPEN_WRITE)) {
        /* The handle keeps `src` (freed at close); 1: dirty, replayed whole below. */
        rc = reg_hive_open_lazy((size_t)size, src_read, src, hive_file, out, err);
        if (rc <= 0)
            return rc;
        src = malloc(sizeof *src);
        if (!src)
            return vk_fail(err, VK_E_NOMEM, hive_file, VK_NO_OFFSET, NULL);
        src->vol = vol;
        snprintf(src->path, sizeof src->path, "%s", hive_file);
    }
    struct reg_image im;
    rc = read_image(src, (size_t)size, &im, err);
    free(src);
    if (rc)
        return rc;
    /* The logs matter only to a dirty hive: a clean one is not held up reading them. */
    uint8_t *l1 = NULL, *l2 = NULL;
    size_t l1len = 0, l2len = 0;
    if (im.len >= REGF_BASE_LEN && !memcmp(im.p, "regf", 4) && !reg_base_clean(im.p)) {
        /* Vista and later keep two logs; XP one, named .LOG (old format, read as the first). */
        rc = read_log(vol, hive_file, ".LOG1", &l1, &l1len, err);
        if (!rc && !l1)
            rc = read_log(vol, hive_file, ".LOG", &l1, &l1len, err);
        if (!rc)
            rc = read_log(vol, hive_file, ".LOG2", &l2, &l2len, err);
    }
    if (rc) {
        reg_image_free(&im);
    } else {
        vk_reg_log log1 = {l1, l1len}, log2 = {l2, l2len};
        rc = reg_hive_open_image(&im, &log1, &log2, flags & VK_REG_OPEN_WRITE, hive_file, out, err);
        if (rc && err && !err->file[0])
            snprintf(err->file, sizeof err->file, "%s", hive_file);
    }
    free(l1);
    free(l2);
    return rc;
}

int vk_reg_volume_find(vk_ntfs *vol, const vk_reg_path *path, char file[VK_REG_FILE_MAX], vk_error *err)
{
    char cand[4][VK_REG_FILE_MAX];
    int n = vk_reg_hive_files(path, cand, 4, err);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        int e = vk_ntfs_exists(vol, cand[i], err);
        if (e < 0)
            return e;
        if (e) {
            memcpy(file, cand[i], VK_REG_FILE_MAX);
            return 0;
        }
    }
    char root[VK_REG_PATH_MAX];
    if (vk_reg_root_name(path, root, sizeof root, NULL))
        snprintf(root, sizeof root, "the hive");
    return vk_fail(err, VK_E_NOTFOUND, NULL, VK_NO_OFFSET, "%s: no hive file in the volume (looked for %s%s%s)", root,
                   cand[0], n > 1 ? " and " : "", n > 1 ? cand[1] : "");
}

struct found_list {
    vk_reg_found *v;
    size_t n, cap;
    vk_ntfs *vol;
    vk_error *err;
};

static int add_if_present(struct found_list *l, const vk_reg_path *id)
{
    vk_reg_found f = {.id = *id};
    vk_error quiet = {0};
    int rc = vk_reg_volume_find(l->vol, id, f.file, &quiet);
    if (rc == VK_E_NOTFOUND || rc == VK_E_USAGE || rc == VK_E_RANGE)
        return 0; /* absent, or a folder name that cannot be a user of vk_reg_path */
    if (rc) {
        if (l->err)
            *l->err = quiet;
        return rc;
    }
    for (size_t i = 0; i < l->n; i++)
        if (!strcasecmp(l->v[i].file, f.file))
            return 0; /* "Users/All Users" style aliases reaching the same file */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        vk_reg_found *g = realloc(l->v, cap * sizeof *g);
        if (!g)
            return vk_fail(l->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, NULL);
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n++] = f;
    return 0;
}

static int add_user(void *ctx, const vk_ntfs_dirent *e)
{
    struct found_list *l = ctx;
    size_t n = strlen(e->name);
    if (!e->is_dir || n >= VK_REG_NAME_MAX)
        return 0;
    vk_reg_path id = {.root = VK_REG_ROOT_NTUSER};
    memcpy(id.user, e->name, n + 1);
    int rc = add_if_present(l, &id);
    id.root = VK_REG_ROOT_USRCLASS;
    return rc ? rc : add_if_present(l, &id);
}

int vk_reg_volume_list(vk_ntfs *vol, vk_reg_found **list, size_t *count, vk_error *err)
{
    *list = NULL;
    *count = 0;
    struct found_list l = {NULL, 0, 0, vol, err};
    static const enum vk_reg_root machine[] = {VK_REG_ROOT_SYSTEM,   VK_REG_ROOT_SOFTWARE, VK_REG_ROOT_SAM,
                                               VK_REG_ROOT_SECURITY, VK_REG_ROOT_DEFAULT,  VK_REG_ROOT_BCD};
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof machine / sizeof machine[0]; i++) {
        vk_reg_path id = {.root = machine[i]};
        rc = add_if_present(&l, &id);
    }
    static const char *const homes[] = {"Users", "Documents and Settings"};
    for (size_t i = 0; !rc && i < 2; i++) {
        vk_error quiet = {0};
        int e = vk_ntfs_exists(vol, homes[i], &quiet);
        if (e == 1)
            rc = vk_ntfs_readdir(vol, homes[i], 0, add_user, &l, err);
    }
    if (rc) {
        free(l.v);
        return rc;
    }
    *list = l.v;
    *count = l.n;
    return 0;
}
