/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rebase: change a differencing image's parent while keeping exactly what it shows (spec "Block Allocation Table
 * and Data Blocks"): differing sectors copied into the child first, the parent fields switched last, then child
 * sectors equal to the new parent dropped. Works per block with bounded memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/chain_ops.h"
#include "vhd/chain_edit.h"
#include "vhd/compact_io.h"

/* Child sectors are taken in whole sector-bitmap bytes (8 sectors): libvhdi and Hyper-V read bitmaps that way. */
#define UNIT_SECTORS 8u

struct rb {
    vk_vhd *child, *np;
    struct vhd_cio_layout lay;
    uint8_t *old_view, *new_view, *bits, *newbits, *slot;
    uint64_t vsize;
};

static bool unit_held(const uint8_t *bits, uint32_t s0, uint32_t s1)
{
    for (uint32_t s = s0; s < s1; s++)
        if (!vhd_bitmap_get(bits, s))
            return false;
    return true;
}

/* Phase 1 for one block: every unit not wholly held whose old view differs from the new parent's is stored. */
static int fill_block(struct rb *r, uint32_t blk, struct vk_chain_result *res, vk_error *err)
{
    uint64_t start = (uint64_t)blk * r->lay.block_size;
    size_t n = r->vsize - start < r->lay.block_size ? (size_t)(r->vsize - start) : r->lay.block_size;
    uint32_t nsec = (uint32_t)(n / VHD_SECTOR), unit = r->lay.sectors_per_block >= UNIT_SECTORS ? UNIT_SECTORS : 1;
    int rc;
    if ((rc = vk_dev_read(vk_vhd_dev(r->child), r->old_view, n, start, err)) ||
        (rc = chain_read_view(vk_vhd_dev(r->np), r->new_view, n, start, err)))
        return rc;
    uint32_t bat = vhd_cio_bat(r->child, blk);
    if (bat == VHD_BAT_UNUSED)
        memset(r->bits, 0, r->lay.bitmap_bytes);
    else if ((rc = vhd_cio_bitmap_read(r->child, blk, r->bits, err)))
        return rc;
    memcpy(r->newbits, r->bits, r->lay.bitmap_bytes);
    bool any = false;
    for (uint32_t s0 = 0; s0 < nsec; s0 += unit) {
        uint32_t s1 = s0 + unit < nsec ? s0 + unit : nsec;
        size_t a = (size_t)s0 * VHD_SECTOR, len = (size_t)(s1 - s0) * VHD_SECTOR;
        if (unit_held(r->bits, s0, s1) || !memcmp(r->old_view + a, r->new_view + a, len))
            continue;
        for (uint32_t s = s0; s < s1; s++)
            vhd_bitmap_set(r->newbits, s);
        any = true;
        res->bytes_copied += len;
        if (bat != VHD_BAT_UNUSED) /* data before the bitmap bits that make it live */
            rc = vk_dev_write(vk_vhd_file(r->child), r->old_view + a, len,
                              (uint64_t)bat * VHD_SECTOR + r->lay.bitmap_bytes + a, err);
        if (rc)
            return rc;
    }
    if (!any)
        return 0;
    if (bat != VHD_BAT_UNUSED) {
        if ((rc = vk_dev_flush(vk_vhd_file(r->child), err)))
            return rc;
        return vhd_cio_bitmap_write(r->child, blk, r->bits, r->newbits, err);
    }
    /* A new block: bitmap and data in one slot appended, its BAT entry written last. */
    memset(r->slot, 0, r->lay.slot);
    memcpy(r->slot, r->newbits, r->lay.bitmap_bytes);
    for (uint32_t s = 0; s < nsec; s++)
        if (vhd_bitmap_get(r->newbits, s))
            memcpy(r->slot + r->lay.bitmap_bytes + (size_t)s * VHD_SECTOR, r->old_view + (size_t)s * VHD_SECTOR,
                   VHD_SECTOR);
    return vhd_cio_append_block(r->child, blk, r->slot, err);
}

/* Phase 3 for one block (after the switch): wholly held units equal to the new parent are given back. */
static int drop_block(struct rb *r, uint32_t blk, struct vk_chain_result *res, vk_error *err)
{
    if (vhd_cio_bat(r->child, blk) == VHD_BAT_UNUSED)
        return 0;
    uint64_t start = (uint64_t)blk * r->lay.block_size;
    size_t n = r->vsize - start < r->lay.block_size ? (size_t)(r->vsize - start) : r->lay.block_size;
    uint32_t nsec = (uint32_t)(n / VHD_SECTOR), unit = r->lay.sectors_per_block >= UNIT_SECTORS ? UNIT_SECTORS : 1;
    int rc;
    if ((rc = vhd_cio_bitmap_read(r->child, blk, r->bits, err)) ||
        (rc = vk_dev_read(vk_vhd_dev(r->child), r->old_view, n, start, err)) ||
        (rc = chain_read_view(vk_vhd_dev(r->np), r->new_view, n, start, err)))
        return rc;
    memcpy(r->newbits, r->bits, r->lay.bitmap_bytes);
    bool any = false;
    for (uint32_t s0 = 0; s0 < nsec; s0 += unit) {
        uint32_t s1 = s0 + unit < nsec ? s0 + unit : nsec;
        size_t a = (size_t)s0 * VHD_SECTOR, len = (size_t)(s1 - s0) * VHD_SECTOR;
        if (!unit_held(r->bits, s0, s1) || memcmp(r->old_view + a, r->new_view + a, len))
            continue;
        for (uint32_t s = s0; s < s1; s++)
            vhd_bitmap_clear(r->newbits, s);
        any = true;
        res->bytes_dropped += len;
    }
    return any ? vhd_cio_bitmap_write(r->child, blk, r->bits, r->newbits, err) : 0;
}

int vk_rebase(const char *child, const char *new_parent, unsigned flags, struct vk_chain_result *res, vk_error *err)
{
    double t0 = chain_now();
    char abs[4096];
    int rc = chain_realpath(new_parent, abs, err);
    if (rc)
        return rc;
    snprintf(res->target, sizeof res->target, "%s", abs);
    struct rb r = {0};
    struct vk_vhd_open_opts po = {0}, co = {.flags = VK_VHD_RDWR};
    if ((rc = vk_vhd_open(abs, &po, &r.np, err)))
        return rc;
    if (chain_contains(r.np, child)) {
        vk_vhd_close(r.np);
        return vk_fail(err, VK_E_CHAIN, child, VK_NO_OFFSET, "%s descends from this image: the chain would loop", abs);
    }
    if ((rc = vk_vhd_open(child, &co, &r.child, err))) {
        vk_vhd_close(r.np);
        return rc;
    }
    struct vk_vhd_info ci;
    vk_vhd_get_info(r.child, &ci);
    r.vsize = ci.virtual_size;
    if (ci.type != VK_VHD_DIFF)
        rc = vk_fail(err, VK_E_USAGE, child, VK_NO_OFFSET, "not a differencing image: it has no parent to change");
    if (!rc)
        rc = vhd_cio_layout(r.child, &r.lay, err);
    if (!rc) {
        r.old_view = malloc(r.lay.block_size);
        r.new_view = malloc(r.lay.block_size);
        r.bits = malloc(r.lay.bitmap_bytes);
        r.newbits = malloc(r.lay.bitmap_bytes);
        r.slot = malloc(r.lay.slot);
        if (!r.old_view || !r.new_view || !r.bits || !r.newbits || !r.slot)
            rc = vk_fail(err, VK_E_NOMEM, child, VK_NO_OFFSET, NULL);
    }
    uint32_t nblk = r.lay.block_size ? (uint32_t)((r.vsize + r.lay.block_size - 1) / r.lay.block_size) : 0;
    for (uint32_t b = 0; !rc && b < nblk && b < r.lay.bat_entries; b++) {
        rc = fill_block(&r, b, res, err);
        if (res->progress)
            res->progress(res->progress_ctx, (uint64_t)(b + 1) * r.lay.block_size / 2, (uint64_t)nblk * r.lay.block_size);
    }
    /* The switch: the child now holds every sector where the two parents differ. */
    if (!rc)
        rc = vhd_ce_set_parent(r.child, r.np, abs, &res->locators_moved, err);
    for (uint32_t b = 0; !rc && !(flags & VK_CHAIN_NO_DROP) && b < nblk && b < r.lay.bat_entries; b++)
        rc = drop_block(&r, b, res, err);
    if (!rc)
        rc = vk_vhd_flush(r.child, err);
    free(r.old_view);
    free(r.new_view);
    free(r.bits);
    free(r.newbits);
    free(r.slot);
    vk_vhd_close(r.child);
    vk_vhd_close(r.np);
    res->seconds = chain_now() - t0;
    return rc;
}
