/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differencing chains: find the parent from the locators (spec "Parent Locator Entries"), its Unicode name and the
 * search folders; check its UUID; refuse loops and chains deeper than VK_VHD_MAX_CHAIN_DEPTH. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/checked.h"
#include "core/utf16.h"
#include "vhd/image_internal.h"

#define MAX_CANDIDATES 32
#define PATH_CAP 4096
/* Longer locator data is not a path anyone wrote. */
#define MAX_LOCATOR_BYTES 65536

struct candidates {
    char path[MAX_CANDIDATES][PATH_CAP];
    int n;
    char base[MAX_CANDIDATES][PATH_CAP]; /* distinct file names, for the search folders */
    int nbase;
};

static void add_unique(char (*list)[PATH_CAP], int *n, const char *p)
{
    if (!*p || *n >= MAX_CANDIDATES || strlen(p) >= PATH_CAP)
        return;
    for (int i = 0; i < *n; i++)
        if (!strcmp(list[i], p))
            return;
    snprintf(list[(*n)++], PATH_CAP, "%s", p);
}

/* Windows paths: backslashes become slashes and a drive letter is dropped ("C:\a\b.vhd" -> "/a/b.vhd"). */
static void normalize(char *p)
{
    for (char *c = p; *c; c++)
        if (*c == '\\')
            *c = '/';
    if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':')
        memmove(p, p + 2, strlen(p + 2) + 1);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void join(char *out, const char *dir, const char *name)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    if (snprintf(out, PATH_CAP, "%s/%s", dir, name) >= PATH_CAP)
        out[0] = 0;
}

/* A path from a locator or the header: as given when absolute, else next to the child; then its name next to the
 * child (a parent copied along with its child keeps working). */
static void add_path(struct candidates *c, const char *child_dir, char *p)
{
    char buf[PATH_CAP];
    normalize(p);
    if (!*p)
        return;
    if (p[0] == '/')
        add_unique(c->path, &c->n, p);
    else {
        join(buf, child_dir, p);
        add_unique(c->path, &c->n, buf);
    }
    const char *b = base_name(p);
    if (!*b || !strcmp(b, ".") || !strcmp(b, ".."))
        return;
    join(buf, child_dir, b);
    add_unique(c->path, &c->n, buf);
    add_unique(c->base, &c->nbase, b);
}

static void add_locators(vk_vhd *vhd, struct candidates *c, const char *child_dir, uint32_t code)
{
    for (int i = 0; i < VHD_LOCATOR_COUNT; i++) {
        const struct vhd_locator *loc = &vhd->header.locators[i];
        if (loc->code != code || !loc->data_length || loc->data_length > MAX_LOCATOR_BYTES ||
            !ck_range_inside(loc->data_offset, loc->data_length, vhd->file->size))
            continue;
        uint8_t *data = malloc(loc->data_length);
        char path[PATH_CAP];
        if (!data)
            continue;
        if (!vk_dev_read(vhd->file, data, loc->data_length, loc->data_offset, NULL) &&
            vhd_locator_path_decode(code, data, loc->data_length, path, sizeof path) > 0)
            add_path(c, child_dir, path);
        free(data);
    }
}

static void gather(vk_vhd *vhd, const struct vk_vhd_open_opts *opts, struct candidates *c)
{
    char dir[PATH_CAP];
    snprintf(dir, sizeof dir, "%s", vhd->path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    /* blktap prefers MacX; Hyper-V writes W2ku and W2ru: try Microsoft's order first, MacX after. */
    add_locators(vhd, c, dir, VHD_PLAT_W2KU);
    add_locators(vhd, c, dir, VHD_PLAT_W2RU);
    add_locators(vhd, c, dir, VHD_PLAT_MACX);
    char name[PATH_CAP];
    if (vk_utf16_to_utf8(vhd->header.parent_name, VHD_HEADER_PARENT_NAME_LEN, VK_UTF16_BE, name, sizeof name) > 0) {
        normalize(name);
        const char *b = base_name(name);
        char buf[PATH_CAP];
        if (*b) {
            join(buf, dir, b);
            add_unique(c->path, &c->n, buf);
            add_unique(c->base, &c->nbase, b);
        }
    }
    for (int d = 0; opts && opts->search_dirs && opts->search_dirs[d]; d++) {
        for (int b = 0; b < c->nbase; b++) {
            char buf[PATH_CAP];
            join(buf, opts->search_dirs[d], c->base[b]);
            add_unique(c->path, &c->n, buf);
        }
    }
}

static void record_tried(vk_vhd *vhd, const char *p)
{
    if (vhd->tried_count < 8)
        snprintf(vhd->tried[vhd->tried_count], sizeof vhd->tried[0], "%s", p);
    if (vhd->tried_count < 8)
        vhd->tried_count++;
}

static int not_found(vk_vhd *vhd, struct candidates *c, vk_error *err)
{
    char list[VK_ERR_MSG_MAX];
    size_t used = 0;
    list[0] = 0;
    for (int i = 0; i < c->n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", c->path[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    char name[256];
    if (vk_utf16_to_utf8(vhd->header.parent_name, VHD_HEADER_PARENT_NAME_LEN, VK_UTF16_BE, name, sizeof name) < 0)
        snprintf(name, sizeof name, "?");
    if (!c->n)
        return vk_fail(err, VK_E_CHAIN, vhd->path, VK_NO_OFFSET,
                       "parent \"%s\" not found: the image names no parent path to try", name);
    return vk_fail(err, VK_E_CHAIN, vhd->path, VK_NO_OFFSET, "parent \"%s\" not found; tried: %s", name, list);
}

int vhd_open_parent(vk_vhd *vhd, const struct vk_vhd_open_opts *opts, struct file_id *chain, int depth,
                    vk_error *err)
{
    struct candidates *c = calloc(1, sizeof *c);
    if (!c)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, NULL);
    gather(vhd, opts, c);
    int rc = 0, i;
    for (i = 0; i < c->n; i++) {
        record_tried(vhd, c->path[i]);
        struct stat st;
        if (stat(c->path[i], &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        for (int d = 0; d <= depth; d++)
            if (chain[d].dev == st.st_dev && chain[d].ino == st.st_ino) {
                rc = vk_fail(err, VK_E_CHAIN, vhd->path, VK_NO_OFFSET,
                             "differencing chain loops: parent %s is already in the chain", c->path[i]);
                goto out;
            }
        break;
    }
    if (i == c->n) {
        rc = not_found(vhd, c, err);
        goto out;
    }
    struct vk_vhd_open_opts popts = {
        .flags = (opts ? opts->flags : 0) & VK_VHD_TOLERANT,
        .search_dirs = opts ? opts->search_dirs : NULL,
    };
    if ((rc = vhd_open_at(c->path[i], &popts, chain, depth + 1, &vhd->parent, err)))
        goto out;
    snprintf(vhd->link.path, sizeof vhd->link.path, "%s", c->path[i]);
    vhd->link.found = 1;
    vhd->link.uuid_match = !memcmp(vhd->parent->footer.uuid, vhd->header.parent_uuid, 16);
    if (!vhd->link.uuid_match && !(vhd->flags & VK_VHD_TOLERANT))
        rc = vk_fail(err, VK_E_CHAIN, vhd->path, vhd->header_off + VHD_HEADER_OFF_PARENT_UUID,
                     "parent %s has another UUID than the one this image records: it is not this image's parent "
                     "(or was replaced); use vhdkit reparent if it is the right one",
                     c->path[i]);
out:
    free(c);
    return rc;
}
