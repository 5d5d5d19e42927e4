/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compact: refusals (fixed disks, saved state, parents of other images), then a dry run, a packed copy, or the
 * in-place rewrite; timing and the before/after totals. */
#include "ops/compact_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vhd/format.h"

const char *vk_compact_reason_name(enum vk_compact_reason r)
{
    switch (r) {
    case VK_COMPACT_FREE: return "free";
    case VK_COMPACT_ZERO: return "zero";
    case VK_COMPACT_PARENT: return "parent";
    case VK_COMPACT_PAGEFILE: return "pagefile";
    default: return "unknown";
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A parent's children read its sectors through their own bitmaps: dropping what a child reads changes the child.
 * The library cannot see every child, but those beside the image are the common case (Hyper-V keeps .avhd/.vhd
 * chains in one folder), so they are looked for. */
static int refuse_parent(const char *path, const struct vk_vhd_info *info, vk_error *err)
{
    char child[4096] = "";
    int n = vhd_cio_find_children(path, info->uuid, child, sizeof child, err);
    if (n < 0)
        return n;
    if (n == 0)
        return 0;
    return vk_fail(err, VK_E_REFUSED, path, VK_NO_OFFSET,
                   "%s%s names this image as its parent: compacting it in place would change what the child reads; "
                   "compact with -o to a new file, merge the child first, or pass --force-parent if no child will "
                   "be used again", child, n > 1 ? " (and others)" : "");
}

static int check_image(vk_vhd *vhd, const char *path, struct vk_vhd_info *info, vk_error *err)
{
    int rc = vk_vhd_get_info(vhd, info);
    if (rc)
        return vk_fail(err, rc, path, VK_NO_OFFSET, "cannot read the image information");
    if (info->type == VK_VHD_FIXED)
        return vk_fail(err, VK_E_REFUSED, path, VK_NO_OFFSET,
                       "a fixed disk has no blocks to give back: use vhdkit convert --type dynamic, then compact");
    if (info->saved_state)
        return vk_fail(err, VK_E_REFUSED, path, VHD_FOOTER_OFF_SAVED_STATE,
                       "the saved-state flag is set: a virtual machine was suspended with this disk; resume and shut "
                       "it down first");
    return 0;
}

int vk_compact(const char *path, const struct vk_compact_opts *opts, struct vk_compact_result *res, vk_error *err)
{
    struct vk_compact_opts o = opts ? *opts : (struct vk_compact_opts){0};
    memset(res, 0, sizeof *res);
    double t0 = now();
    bool dry = o.flags & VK_COMPACT_DRY_RUN, in_place = !dry && !o.output;
    struct vk_vhd_open_opts oo = {.flags = in_place ? VK_VHD_RDWR : 0};
    vk_vhd *vhd;
    int rc = vk_vhd_open(path, &oo, &vhd, err);
    if (rc)
        return rc;
    struct vk_vhd_info info;
    rc = check_image(vhd, path, &info, err);
    if (!rc && in_place && !(o.flags & VK_COMPACT_FORCE_PARENT))
        rc = refuse_parent(path, &info, err);
    struct cplan p;
    if (!rc)
        rc = plan_init(&p, vhd, o.flags, res, err);
    if (!rc) {
        res->file_size_before = p.file->size;
        res->block_size = p.lay.block_size;
        for (uint32_t b = 0; b < p.lay.bat_entries; b++)
            res->blocks_before += vhd_cio_bat(vhd, b) != VHD_BAT_UNUSED;
        res->blocks_after = res->blocks_before;
        rc = dry ? compact_dry_run(&p, &o, res, err)
             : o.output ? compact_to_file(&p, o.output, &o, res, err)
                        : compact_in_place(&p, &o, res, err);
        plan_free(&p);
    }
    vk_vhd_close(vhd);
    res->seconds = now() - t0;
    return rc;
}
