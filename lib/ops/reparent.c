/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reparent: point a differencing image at a moved, renamed or copied parent (spec "Dynamic Disk Header Format":
 * parent UUID, time stamp, Unicode name, parent locators; VHD-NOTES.md 10, 11). */
#include <stdio.h>
#include <string.h>

#include "ops/chain_ops.h"
#include "vhd/chain_edit.h"

static void uuid_text(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
             u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* The parent with its own chain when that opens (to refuse loops through it), else alone. */
static int open_parent(const char *abs, vk_vhd **out, vk_error *err)
{
    struct vk_vhd_open_opts oo = {0};
    if (!vk_vhd_open(abs, &oo, out, NULL))
        return 0;
    oo.flags = VK_VHD_NO_PARENT;
    return vk_vhd_open(abs, &oo, out, err);
}

int vk_reparent(const char *child, const char *parent, unsigned flags, struct vk_chain_result *res, vk_error *err)
{
    double t0 = chain_now();
    char abs[4096];
    int rc = chain_realpath(parent, abs, err);
    if (rc)
        return rc;
    snprintf(res->target, sizeof res->target, "%s", abs);
    if (chain_same_file(child, abs))
        return vk_fail(err, VK_E_USAGE, child, VK_NO_OFFSET, "an image cannot be its own parent");
    vk_vhd *p = NULL, *c = NULL;
    if ((rc = open_parent(abs, &p, err)))
        return rc;
    if (chain_contains(p, child)) {
        vk_vhd_close(p);
        return vk_fail(err, VK_E_CHAIN, child, VK_NO_OFFSET, "%s descends from this image: the chain would loop", abs);
    }
    struct vk_vhd_open_opts co = {.flags = VK_VHD_RDWR | VK_VHD_NO_PARENT};
    if ((rc = vk_vhd_open(child, &co, &c, err))) {
        vk_vhd_close(p);
        return rc;
    }
    struct vk_vhd_info ci, pi;
    vk_vhd_get_info(c, &ci);
    vk_vhd_get_info(p, &pi);
    if (ci.type != VK_VHD_DIFF)
        rc = vk_fail(err, VK_E_USAGE, child, VK_NO_OFFSET, "not a differencing image: it has no parent to change");
    else if (pi.virtual_size != ci.virtual_size && !(flags & VK_CHAIN_FORCE))
        rc = vk_fail(err, VK_E_REFUSED, child, VK_NO_OFFSET, "%s is %llu bytes, this image %llu: not its parent "
                     "(--force to attach it anyway)", abs, (unsigned long long)pi.virtual_size,
                     (unsigned long long)ci.virtual_size);
    res->uuid_changed = memcmp(pi.uuid, ci.parent_uuid, 16) != 0;
    if (!rc && res->uuid_changed && !(flags & VK_CHAIN_FORCE)) {
        char want[37], got[37];
        uuid_text(ci.parent_uuid, want);
        uuid_text(pi.uuid, got);
        rc = vk_fail(err, VK_E_REFUSED, child, VK_NO_OFFSET, "%s has UUID %s but this image was made on UUID %s: its "
                     "sectors are differences against that disk, and over another one it shows a mix of both; use "
                     "--force only for a byte-identical copy whose UUID changed", abs, got, want);
    }
    if (!rc)
        rc = vhd_ce_set_parent(c, p, abs, &res->locators_moved, err);
    vk_vhd_close(p);
    if (!rc)
        rc = vk_vhd_flush(c, err);
    vk_vhd_close(c);
    if (rc)
        return rc;
    /* The proof: the chain opens through the new links. */
    struct vk_vhd_open_opts ro = {0};
    if ((rc = vk_vhd_open(child, &ro, &c, err)))
        return rc;
    vk_vhd_close(c);
    res->seconds = chain_now() - t0;
    return 0;
}
