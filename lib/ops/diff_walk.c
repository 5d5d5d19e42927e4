/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff: both folder trees walked together. Each folder's names are listed on both sides, sorted byte-wise and
 * merged; a name on one side only is added or removed (with everything under it), a name on both is compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sort.h"
#include "ops/diff_int.h"

/* Directory cycles only exist in corrupt volumes; Windows paths are far shallower than this. */
#define WALK_MAX_DEPTH 256

struct names {
    char **v;
    size_t n, cap;
    int nomem;
};

static int collect(void *ctx, const vk_ntfs_dirent *e)
{
    struct names *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **g = realloc(l->v, cap * sizeof *g);
        if (!g) {
            l->nomem = 1;
            return 1;
        }
        l->v = g;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(e->name))) {
        l->nomem = 1;
        return 1;
    }
    l->n++;
    return 0;
}

static int by_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void names_free(struct names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int list(struct diff_ctx *d, int s, const char *dir, struct names *l)
{
    memset(l, 0, sizeof *l);
    vk_error e = {0};
    int rc = vk_ntfs_readdir(d->side[s]->vol, dir, 0, collect, l, &e);
    if (l->nomem)
        rc = vk_fail(d->err, VK_E_NOMEM, d->side[s]->name, VK_NO_OFFSET, NULL);
    else if (rc)
        *d->err = e;
    if (rc) {
        names_free(l);
        return rc;
    }
    vk_sort(l->v, l->n, sizeof *l->v, by_name);
    return 0;
}

/* One name: stat it where it is listed, report, and go down into folders. */
static int visit(struct diff_ctx *d, const char *dir, const char *name, int in_a, int in_b, unsigned depth)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path)
        return vk_fail(d->err, VK_E_NOMEM, d->side[0]->name, VK_NO_OFFSET, NULL);
    snprintf(path, n, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
    struct diff_stat a = {0}, b = {0};
    int rc = in_a ? diff_stat(d, 0, path, &a) : 0;
    if (!rc && in_b)
        rc = diff_stat(d, 1, path, &b);
    d->res->entries_a += a.present;
    d->res->entries_b += b.present;
    if (!rc) {
        if (a.present && b.present)
            rc = diff_compare(d, path, &a, &b);
        else if (a.present || b.present)
            rc = diff_report_only(d, path, b.present, b.present ? &b : &a);
    }
    int dir_a = a.present && a.st.is_dir, dir_b = b.present && b.st.is_dir;
    diff_stat_free(&a);
    diff_stat_free(&b);
    if (!rc && (dir_a || dir_b))
        rc = diff_walk(d, path, dir_a, dir_b, depth + 1);
    free(path);
    return rc;
}

int diff_walk(struct diff_ctx *d, const char *dir, int present_a, int present_b, unsigned depth)
{
    if (depth > WALK_MAX_DEPTH)
        return vk_fail(d->err, VK_E_CORRUPT, d->side[present_a ? 0 : 1]->name, VK_NO_OFFSET,
                       "%s: folders nested more than %d deep (a folder cycle?)", dir, WALK_MAX_DEPTH);
    struct names la = {0}, lb = {0};
    int rc = present_a ? list(d, 0, dir, &la) : 0;
    if (!rc && present_b)
        rc = list(d, 1, dir, &lb);
    size_t i = 0, j = 0;
    while (!rc && (i < la.n || j < lb.n)) {
        int c = i == la.n ? 1 : j == lb.n ? -1 : strcmp(la.v[i], lb.v[j]);
        rc = visit(d, dir, c <= 0 ? la.v[i] : lb.v[j], c <= 0, c >= 0, depth);
        i += c <= 0;
        j += c >= 0;
    }
    names_free(&la);
    names_free(&lb);
    return rc;
}

int diff_walk_path(struct diff_ctx *d, const char *path)
{
    if (!strcmp(path, "/"))
        return diff_walk(d, "/", 1, 1, 0);
    /* A folder (or file) below the root: compared itself, then what it holds. */
    const char *slash = strrchr(path, '/');
    size_t plen = slash && slash != path ? (size_t)(slash - path) : 1;
    char *parent = malloc(plen + 1);
    if (!parent)
        return vk_fail(d->err, VK_E_NOMEM, d->side[0]->name, VK_NO_OFFSET, NULL);
    memcpy(parent, path, plen);
    parent[plen] = 0;
    int found = 0, rc = 0;
    for (int s = 0; s < 2 && !rc; s++) {
        vk_error e = {0};
        rc = vk_ntfs_exists(d->side[s]->vol, path, &e);
        if (rc < 0) {
            *d->err = e;
        } else {
            found += rc;
            rc = 0;
        }
    }
    if (!rc && !found)
        rc = vk_fail(d->err, VK_E_NOTFOUND, d->side[0]->name, VK_NO_OFFSET, "%s: in neither volume", path);
    if (!rc)
        rc = visit(d, parent, slash ? slash + 1 : path, 1, 1, 0);
    free(parent);
    return rc;
}
