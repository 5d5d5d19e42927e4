/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merge: coalesce a differencing image (and the images between it and an ancestor) into that ancestor, the way
 * Hyper-V's merge and vhd-util coalesce do, with every write crash-ordered by the engine (DESIGN.md rule 3). The
 * ancestor is written in a batch (lib/vhd/batch.h): one fsync before and one after the BAT entries of up to 64 MiB
 * of new blocks, instead of two per block. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/chain_ops.h"
#include "vhd/batch.h"

#define COPY_CHUNK (4u << 20)

struct level {
    char path[4096];
    uint8_t uuid[16];        /* footer UUID */
    uint8_t parent_uuid[16]; /* recorded parent UUID */
    vk_vhd *vhd;
};

/* The chain from `child` up to `into` (NULL: the parent): paths and UUIDs, checked open once. */
static int plan_levels(const char *child, const char *into, struct level *lv, unsigned *k, vk_error *err)
{
    struct vk_vhd_open_opts oo = {0};
    vk_vhd *top;
    int rc = vk_vhd_open(child, &oo, &top, err);
    if (rc)
        return rc;
    unsigned n = 0, found = 0;
    struct vk_vhd_info *info = malloc(sizeof *info);
    if (!info) {
        vk_vhd_close(top);
        return vk_fail(err, VK_E_NOMEM, child, VK_NO_OFFSET, NULL);
    }
    for (vk_vhd *v = top; v && n <= VK_VHD_MAX_CHAIN_DEPTH; v = vk_vhd_parent(v), n++) {
        vk_vhd_get_info(v, info);
        if (info->saved_state) {
            rc = vk_fail(err, VK_E_REFUSED, vk_vhd_path(v), VK_NO_OFFSET, "the image has a saved state (its virtual "
                         "machine is suspended): resume and shut it down first");
            break;
        }
        if (n && ((into && chain_same_file(vk_vhd_path(v), into)) || (!into && n == 1)))
            found = n;
        snprintf(lv[n].path, sizeof lv[n].path, "%s", vk_vhd_path(v));
        memcpy(lv[n].uuid, info->uuid, 16);
        memcpy(lv[n].parent_uuid, info->parent_uuid, 16);
        if (found)
            break;
    }
    if (!rc && !found)
        rc = vk_fail(err, VK_E_USAGE, child, VK_NO_OFFSET, "%s", into ? "the --into image is not an ancestor of this "
                     "image" : "not a differencing image: there is no parent to merge into");
    if (!rc) {
        uint64_t csize = vk_vhd_dev(top)->size;
        vk_vhd *a = top;
        for (unsigned i = 0; i < found; i++)
            a = vk_vhd_parent(a);
        if (vk_vhd_dev(a)->size < csize)
            rc = vk_fail(err, VK_E_REFUSED, lv[found].path, VK_NO_OFFSET, "the ancestor is smaller than the child: "
                         "resize it first");
    }
    free(info);
    vk_vhd_close(top);
    *k = found;
    return rc;
}

/* Where the bytes at `off` live among levels 0..k-1: `*d` = level holding them (k: not held above the ancestor). */
static int locate(struct level *lv, unsigned k, uint64_t off, uint64_t len, unsigned *d, uint64_t *run, vk_error *err)
{
    for (unsigned i = 0; i < k; i++) {
        vk_extent e;
        int rc = vk_dev_extent(vk_vhd_dev(lv[i].vhd), off, len, &e, err);
        if (rc)
            return rc;
        if (e.kind != VK_EXTENT_PARENT) {
            *d = i;
            *run = e.len;
            return 0;
        }
        len = e.len;
    }
    *d = k;
    *run = len;
    return 0;
}

static int copy_down(struct level *lv, unsigned k, struct vk_chain_result *res, vk_error *err)
{
    vk_dev *anc = vk_vhd_dev(lv[k].vhd), *top = vk_vhd_dev(lv[0].vhd);
    uint8_t *buf = malloc(COPY_CHUNK);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, lv[0].path, VK_NO_OFFSET, NULL);
    int rc = vhd_batch_begin(lv[k].vhd, 0, err);
    uint64_t size = top->size;
    for (uint64_t off = 0; !rc && off < size;) {
        unsigned d;
        uint64_t run, want = size - off < COPY_CHUNK ? size - off : COPY_CHUNK;
        if ((rc = locate(lv, k, off, want, &d, &run, err)))
            break;
        if (d < k) {
            rc = vk_dev_read(vk_vhd_dev(lv[d].vhd), buf, (size_t)run, off, err);
            if (!rc)
                rc = vk_dev_write(anc, buf, (size_t)run, off, err);
            res->bytes_copied += run;
        }
        off += run;
        if (res->progress)
            res->progress(res->progress_ctx, off, size);
    }
    free(buf);
    int end = vhd_batch_end(lv[k].vhd, rc ? NULL : err); /* on failure too: what was written whole becomes live */
    return rc ? rc : end ? end : vk_vhd_flush(lv[k].vhd, err);
}

static int open_levels(struct level *lv, unsigned k, vk_error *err)
{
    for (unsigned i = 0; i <= k; i++) {
        struct vk_vhd_open_opts oo = {.flags = i < k ? VK_VHD_NO_PARENT : VK_VHD_RDWR};
        int rc = vk_vhd_open(lv[i].path, &oo, &lv[i].vhd, err);
        if (rc)
            return rc;
        struct vk_vhd_info info;
        vk_vhd_get_info(lv[i].vhd, &info);
        /* The files must still be the ones planned: a swap between the two opens is refused. */
        if (memcmp(info.uuid, lv[i].uuid, 16) || (i && memcmp(info.uuid, lv[i - 1].parent_uuid, 16)))
            return vk_fail(err, VK_E_CHAIN, lv[i].path, VK_NO_OFFSET, "the image changed while merge was starting");
    }
    return 0;
}

int vk_merge(const char *child, const char *into, unsigned flags, struct vk_chain_result *res, vk_error *err)
{
    double t0 = chain_now();
    struct level *lv = calloc(VK_VHD_MAX_CHAIN_DEPTH + 2, sizeof *lv);
    if (!lv)
        return vk_fail(err, VK_E_NOMEM, child, VK_NO_OFFSET, NULL);
    unsigned k = 0;
    int rc = plan_levels(child, into, lv, &k, err);
    /* Other children of the ancestor (or of an image between) would see their parent change under them. */
    for (unsigned j = 1; !rc && j <= k; j++) {
        int n = chain_find_children(lv[j].path, lv[j].uuid, lv[j - 1].path, res, err);
        if (n < 0)
            rc = n;
        else if (n && !(flags & VK_CHAIN_FORCE_SIBLINGS))
            rc = vk_fail(err, VK_E_REFUSED, lv[j].path, VK_NO_OFFSET, "%d other image%s built on this one (%s%s) "
                         "would become invalid: merge with --force-siblings only if they can be thrown away", n,
                         n == 1 ? " is" : "s are", res->names[0], n > 1 ? ", ..." : "");
    }
    if (!rc) {
        res->nnames = 0;
        snprintf(res->target, sizeof res->target, "%s", lv[k].path);
        res->levels = k;
        rc = open_levels(lv, k, err);
    }
    if (!rc)
        rc = copy_down(lv, k, res, err);
    for (unsigned i = 0; i <= k; i++)
        vk_vhd_close(lv[i].vhd);
    /* The merged images hold nothing the ancestor lacks now; images between would show the wrong disk. */
    for (unsigned i = 0; !rc && !(flags & VK_CHAIN_KEEP) && i < k; i++) {
        if (unlink(lv[i].path) < 0)
            rc = vk_fail_errno(err, VK_E_IO, errno, lv[i].path, VK_NO_OFFSET, "merged, but cannot delete the image");
        else
            chain_note(res, "%s", lv[i].path);
    }
    free(lv);
    res->seconds = chain_now() - t0;
    return rc;
}
