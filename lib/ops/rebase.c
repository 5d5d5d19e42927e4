/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rebase: change a differencing image's parent while keeping exactly what it shows (spec "Block Allocation Table
 * and Data Blocks"): differing sectors copied into the child first, the parent fields switched last, then child
 * sectors equal to the new parent dropped. Works per block with bounded memory. Blocks that no image of either
 * chain stores are skipped unread; the copies go through a write batch (lib/vhd/batch.h: one fsync before and one
 * after the BAT entries and bitmaps of up to 64 MiB of blocks); the drop pass revisits only blocks the first pass
 * found something to drop in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/chain_ops.h"
#include "vhd/batch.h"
#include "vhd/chain_edit.h"
#include "vhd/compact_io.h"

/* Child sectors are taken in whole sector-bitmap bytes (8 sectors): libvhdi and Hyper-V read bitmaps that way. */
#define UNIT_SECTORS 8u

struct rb {
    vk_vhd *child, *np;
    struct vhd_cio_layout lay;
    uint8_t *slot;          /* bitmap_bytes + block_size: a new block as written */
    uint8_t *old_view;      /* slot + bitmap_bytes: the child's view of one block */
    uint8_t *new_view, *bits, *newbits;
    uint8_t *drop;          /* one bit per block: the first pass saw held units equal to the new parent */
    uint64_t vsize;
    bool no_drop;
};

static bool unit_held(const uint8_t *bits, uint32_t s0, uint32_t s1)
{
    for (uint32_t s = s0; s < s1; s++)
        if (!vhd_bitmap_get(bits, s))
            return false;
    return true;
}

/* True when some image of `vhd`'s chain stores data in [off, off+len) (NULL: none). */
static int chain_stores(vk_vhd *vhd, uint64_t off, uint64_t len, bool *stores, vk_error *err)
{
    *stores = false;
    if (!vhd || off >= vk_vhd_dev(vhd)->size)
        return 0;
    uint64_t end = off + len < vk_vhd_dev(vhd)->size ? off + len : vk_vhd_dev(vhd)->size;
    while (off < end) {
        vk_extent e;
        int rc = vk_vhd_extent_deep(vhd, off, end - off, &e, NULL, err);
        if (rc)
            return rc;
        if (e.kind == VK_EXTENT_DATA) {
            *stores = true;
            return 0;
        }
        off += e.len;
    }
    return 0;
}

/* Writes the sectors set in `newbits` but not in `bits` from `view` into allocated block `blk`, one write per run. */
static int write_runs(struct rb *r, uint32_t blk, uint32_t nsec, vk_error *err)
{
    uint64_t data = (uint64_t)vhd_cio_bat(r->child, blk) * VHD_SECTOR + r->lay.bitmap_bytes;
    for (uint32_t s = 0; s < nsec;) {
        if (!vhd_bitmap_get(r->newbits, s) || vhd_bitmap_get(r->bits, s)) {
            s++;
            continue;
        }
        uint32_t e = s + 1;
        while (e < nsec && vhd_bitmap_get(r->newbits, e) && !vhd_bitmap_get(r->bits, e))
            e++;
        int rc = vk_dev_write(vk_vhd_file(r->child), r->old_view + (size_t)s * VHD_SECTOR,
                              (size_t)(e - s) * VHD_SECTOR, data + (uint64_t)s * VHD_SECTOR, err);
        if (rc)
            return rc;
        s = e;
    }
    return 0;
}

/* Phase 1 for one block: every unit not wholly held whose old view differs from the new parent's is stored. */
static int fill_block(struct rb *r, uint32_t blk, struct vk_chain_result *res, vk_error *err)
{
    uint64_t start = (uint64_t)blk * r->lay.block_size;
    size_t n = r->vsize - start < r->lay.block_size ? (size_t)(r->vsize - start) : r->lay.block_size;
    uint32_t nsec = (uint32_t)(n / VHD_SECTOR), unit = r->lay.sectors_per_block >= UNIT_SECTORS ? UNIT_SECTORS : 1;
    uint32_t bat = vhd_cio_bat(r->child, blk);
    int rc = 0;
    if (bat == VHD_BAT_UNUSED)
        memset(r->bits, 0, r->lay.bitmap_bytes);
    else if ((rc = vhd_cio_bitmap_read(r->child, blk, r->bits, err)))
        return rc;
    bool held_all = unit_held(r->bits, 0, nsec), old_stores = false, new_stores = false;
    /* Sectors the child holds read the same under any parent; elsewhere both views are zero where neither chain
     * stores anything. */
    if (!held_all && ((rc = chain_stores(vk_vhd_parent(r->child), start, n, &old_stores, err)) ||
                      (rc = chain_stores(r->np, start, n, &new_stores, err))))
        return rc;
    /* Held units can be dropped only where they equal the new parent: where it stores nothing that takes a unit
     * of zeros, rare enough not to read every held sector for (compact gives zero units back). */
    bool fill = !held_all && (old_stores || new_stores);
    if (!rc && held_all && !r->no_drop && bat != VHD_BAT_UNUSED)
        rc = chain_stores(r->np, start, n, &new_stores, err);
    bool check_drop = !r->no_drop && bat != VHD_BAT_UNUSED && new_stores;
    if (rc || (!fill && !check_drop))
        return rc;
    /* Only the units that can change are read: runs of them through both views. */
    for (uint32_t s0 = 0; s0 < nsec;) {
        uint32_t s1 = s0;
        while (s1 < nsec) {
            uint32_t e = s1 + unit < nsec ? s1 + unit : nsec;
            if (unit_held(r->bits, s1, e) ? !check_drop : !fill)
                break;
            s1 = e;
        }
        if (s1 == s0) {
            s0 = s0 + unit < nsec ? s0 + unit : nsec;
            continue;
        }
        size_t a = (size_t)s0 * VHD_SECTOR, len = (size_t)(s1 - s0) * VHD_SECTOR;
        if ((rc = vk_dev_read(vk_vhd_dev(r->child), r->old_view + a, len, start + a, err)))
            return rc;
        if (!new_stores)
            memset(r->new_view + a, 0, len);
        else if ((rc = chain_read_view(vk_vhd_dev(r->np), r->new_view + a, len, start + a, err)))
            return rc;
        s0 = s1;
    }
    memcpy(r->newbits, r->bits, r->lay.bitmap_bytes);
    bool any = false, droppable = false;
    for (uint32_t s0 = 0; s0 < nsec; s0 += unit) {
        uint32_t s1 = s0 + unit < nsec ? s0 + unit : nsec;
        size_t a = (size_t)s0 * VHD_SECTOR, len = (size_t)(s1 - s0) * VHD_SECTOR;
        bool held = unit_held(r->bits, s0, s1);
        if ((held && !check_drop) || (!held && !fill))
            continue;
        bool same = !memcmp(r->old_view + a, r->new_view + a, len);
        if (held) {
            droppable |= same;
            continue;
        }
        if (same)
            continue;
        for (uint32_t s = s0; s < s1; s++)
            vhd_bitmap_set(r->newbits, s);
        any = true;
        res->bytes_copied += len;
    }
    if (droppable)
        r->drop[blk >> 3] |= (uint8_t)(1u << (blk & 7));
    if (!any)
        return 0;
    if (bat != VHD_BAT_UNUSED) { /* data first; the bits that make it live wait for the batch's fsync */
        if ((rc = write_runs(r, blk, nsec, err)))
            return rc;
        return vhd_batch_set_bits(r->child, blk, r->newbits, err);
    }
    /* A new block: bitmap and the stored sectors (others zero) in one slot appended; BAT entry at the commit. */
    memcpy(r->slot, r->newbits, r->lay.bitmap_bytes);
    for (uint32_t s = 0; s < r->lay.sectors_per_block; s++)
        if (s >= nsec || !vhd_bitmap_get(r->newbits, s))
            memset(r->old_view + (size_t)s * VHD_SECTOR, 0, VHD_SECTOR);
    return vhd_batch_append(r->child, blk, r->slot, err);
}

/* Phase 3 for one block (after the switch): wholly held units equal to the new parent are given back. */
static int drop_block(struct rb *r, uint32_t blk, struct vk_chain_result *res, vk_error *err)
{
    if (vhd_cio_bat(r->child, blk) == VHD_BAT_UNUSED || !(r->drop[blk >> 3] & (1u << (blk & 7))))
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
        r.slot = malloc(r.lay.slot);
        r.old_view = r.slot ? r.slot + r.lay.bitmap_bytes : NULL;
        r.new_view = malloc(r.lay.block_size);
        r.bits = malloc(r.lay.bitmap_bytes);
        r.newbits = malloc(r.lay.bitmap_bytes);
        r.drop = calloc(1, r.lay.bat_entries / 8 + 1);
        r.no_drop = flags & VK_CHAIN_NO_DROP;
        if (!r.old_view || !r.new_view || !r.bits || !r.newbits || !r.drop)
            rc = vk_fail(err, VK_E_NOMEM, child, VK_NO_OFFSET, NULL);
    }
    uint32_t nblk = r.lay.block_size ? (uint32_t)((r.vsize + r.lay.block_size - 1) / r.lay.block_size) : 0;
    if (!rc)
        rc = vhd_batch_begin(r.child, 0, err);
    for (uint32_t b = 0; !rc && b < nblk && b < r.lay.bat_entries; b++) {
        rc = fill_block(&r, b, res, err);
        if (res->progress)
            res->progress(res->progress_ctx, (uint64_t)(b + 1) * r.lay.block_size / 2, (uint64_t)nblk * r.lay.block_size);
    }
    /* The switch, once the child holds (on disk, live) every sector where the two parents differ. */
    int end = vhd_batch_end(r.child, rc ? NULL : err);
    if (!rc)
        rc = end;
    if (!rc)
        rc = vhd_ce_set_parent(r.child, r.np, abs, &res->locators_moved, err);
    for (uint32_t b = 0; !rc && !(flags & VK_CHAIN_NO_DROP) && b < nblk && b < r.lay.bat_entries; b++)
        rc = drop_block(&r, b, res, err);
    if (!rc)
        rc = vk_vhd_flush(r.child, err);
    free(r.drop);
    free(r.new_view);
    free(r.bits);
    free(r.newbits);
    free(r.slot);
    vk_vhd_close(r.child);
    vk_vhd_close(r.np);
    res->seconds = chain_now() - t0;
    return rc;
}
