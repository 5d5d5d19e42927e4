/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff: open both images read-only, pick each NTFS volume, find what their chains share, walk both trees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/path_norm.h"
#include "ops/diff_int.h"
#include "vhdkit/part.h"

static const char *const field_names[VK_DIFF_NFIELDS] = {
    "type", "size", "content", "modified", "created", "accessed", "mft_modified", "attributes", "streams", "links",
    "reparse",
};

const char *vk_diff_field_name(unsigned bit_index)
{
    return bit_index < VK_DIFF_NFIELDS ? field_names[bit_index] : "?";
}

const char *vk_diff_kind_name(enum vk_diff_kind k)
{
    return k == VK_DIFF_ADDED ? "added" : k == VK_DIFF_REMOVED ? "removed" : "changed";
}

const char *vk_diff_type_name(enum vk_diff_type t) { return t == VK_DIFF_DIR ? "dir" : t == VK_DIFF_LINK ? "link" : "file"; }

const char *vk_diff_content_name(enum vk_diff_content c)
{
    return c == VK_DIFF_C_SHARED ? "shared" : c == VK_DIFF_C_SAME ? "same" : c == VK_DIFF_C_DIFFERENT ? "different" : "";
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int vk_diff_volumes(const struct vk_diff_side *a, const struct vk_diff_side *b, const struct vk_diff_opts *opts,
                    vk_diff_fn fn, void *ctx, struct vk_diff_result *res, vk_error *err)
{
    struct vk_diff_opts none = {0};
    if (!opts)
        opts = &none;
    struct vk_diff_result local;
    if (!res)
        res = &local;
    double t0 = now();
    memset(res, 0, sizeof *res);
    vk_error scratch = {0};
    struct diff_ctx d = {{a, b}, opts->flags, fn, ctx, res, {0}, 0, 0, {NULL, NULL}, err ? err : &scratch};
    diff_chain_find(a->vhd, b->vhd, &d.chain);
    vk_ntfs_info ia, ib;
    int rc = vk_ntfs_info_get(a->vol, &ia, d.err);
    if (!rc)
        rc = vk_ntfs_info_get(b->vol, &ib, d.err);
    if (rc)
        return rc;
    /* Clusters name the same disk bytes on both sides only at the same partition offset and cluster size. */
    d.fast = d.chain.shared && a->part_off == b->part_off && ia.cluster_size == ib.cluster_size && ia.cluster_size;
    d.cluster_size = ia.cluster_size;
    res->shared = d.fast;
    if (d.fast) {
        snprintf(res->ancestor, sizeof res->ancestor, "%s", d.chain.ancestor);
        res->above_a = d.chain.n[0];
        res->above_b = d.chain.n[1];
    }
    char *path = vk_path_norm(opts->path ? opts->path : "/");
    if (!(opts->flags & VK_DIFF_NO_CONTENT)) {
        d.buf[0] = malloc(DIFF_CHUNK);
        d.buf[1] = malloc(DIFF_CHUNK);
    }
    if (!path || (!(opts->flags & VK_DIFF_NO_CONTENT) && (!d.buf[0] || !d.buf[1])))
        rc = vk_fail(d.err, VK_E_NOMEM, a->name, VK_NO_OFFSET, NULL);
    else
        rc = diff_walk_path(&d, path);
    free(d.buf[0]);
    free(d.buf[1]);
    free(path);
    res->seconds = now() - t0;
    return rc;
}

struct opened {
    vk_dev *disk, *win;
    vk_vhd *vhd;
    vk_ntfs *vol;
    unsigned part;
    uint64_t part_off;
};

static void close_side(struct opened *o)
{
    vk_ntfs_unmount(o->vol, NULL);
    vk_dev_close(o->win);
    vk_dev_close(o->disk);
}

static int open_side(const char *image, unsigned part, const struct vk_diff_opts *opts, struct opened *o,
                     vk_error *err)
{
    memset(o, 0, sizeof *o);
    struct vk_vhd_open_opts oo = {0};
    int rc = vk_image_open(image, &oo, &o->disk, &o->vhd, err);
    if (rc)
        return rc;
    vk_ntfs_opts no = {.flags = VK_NTFS_RDONLY, .log = opts->log, .log_ctx = opts->log_ctx};
    rc = vk_ntfs_choose(o->disk, part, &no, &o->vol, &o->win, &o->part, err);
    /* A disk without any NTFS volume is bad input for diff (exit 3), not a choice the user failed to make; the
     * message still lists what the disk holds. */
    if (rc == VK_E_USAGE && !part && err && !strncmp(err->msg, "no NTFS volume", 14))
        err->code = rc = VK_E_UNSUPPORTED;
    vk_part_table t;
    if (!rc && !(rc = vk_part_read(o->disk, &t, err))) {
        const vk_part *p = vk_part_find(&t, o->part);
        o->part_off = p ? p->start_off : 0;
        vk_part_table_free(&t);
    }
    if (rc)
        close_side(o);
    return rc;
}

int vk_diff(const char *a, const char *b, const struct vk_diff_opts *opts, vk_diff_fn fn, void *ctx,
            struct vk_diff_result *res, vk_error *err)
{
    struct vk_diff_opts none = {0};
    if (!opts)
        opts = &none;
    struct opened oa, ob;
    int rc = open_side(a, opts->part_a, opts, &oa, err);
    if (rc)
        return rc;
    rc = open_side(b, opts->part_b, opts, &ob, err);
    if (rc) {
        close_side(&oa);
        return rc;
    }
    struct vk_diff_side sa = {oa.vol, oa.vhd, oa.part_off, a}, sb = {ob.vol, ob.vhd, ob.part_off, b};
    struct vk_diff_result local;
    if (!res)
        res = &local;
    rc = vk_diff_volumes(&sa, &sb, opts, fn, ctx, res, err);
    res->part_a = oa.part;
    res->part_b = ob.part;
    close_side(&ob);
    close_side(&oa);
    return rc;
}
