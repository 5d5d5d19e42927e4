/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compact: the decision for one allocated block. Dynamic disks: bits of unneeded sectors cleared (they then read as
 * zero), a block left with no bits dropped, and one left with only sectors kept as they are (no used cluster) dropped
 * when they all read zero. Differencing disks work in bitmap bytes (8 sectors,
 * VHD-NOTES.md 9: libvhdi reads a byte with any bit set as all in the child): a byte is cleared when each of its
 * stored sectors is unneeded or holds what the parent chain holds; a block left with no bits is dropped. Either way
 * no used cluster changes its content. */
#include "ops/compact_int.h"

#include <stdlib.h>
#include <string.h>

#include "vhd/format.h"

int plan_setup(struct cplan *p, vk_vhd *vhd, vk_error *err)
{
    memset(p, 0, sizeof *p);
    p->vhd = vhd;
    p->file = vk_vhd_file(vhd);
    p->slot_blk = UINT32_MAX;
    int rc = vhd_cio_layout(vhd, &p->lay, err);
    if (rc)
        return rc;
    struct vk_vhd_info info;
    if ((rc = vk_vhd_get_info(vhd, &info)))
        return vk_fail(err, rc, vk_vhd_path(vhd), VK_NO_OFFSET, "cannot read the image information");
    p->diff = info.type == VK_VHD_DIFF;
    vk_dev *disk = vk_vhd_dev(vhd);
    p->disk_sec = disk->size / VHD_SECTOR;
    p->cls = malloc(p->lay.sectors_per_block);
    p->old_bits = malloc(p->lay.bitmap_bytes);
    p->new_bits = malloc(p->lay.bitmap_bytes);
    p->slot = malloc(p->lay.slot);
    if (p->diff)
        p->pview = malloc(p->lay.block_size);
    if (!p->cls || !p->old_bits || !p->new_bits || !p->slot || (p->diff && !p->pview)) {
        plan_free(p);
        return vk_fail(err, VK_E_NOMEM, vk_vhd_path(vhd), VK_NO_OFFSET, "cannot allocate block buffers");
    }
    return 0;
}

int plan_init(struct cplan *p, vk_vhd *vhd, unsigned flags, struct vk_compact_result *res, vk_error *err)
{
    int rc = plan_setup(p, vhd, err);
    if (!rc && (rc = cmap_open(vk_vhd_dev(vhd), flags, res, &p->map, err)))
        plan_free(p);
    return rc;
}

void plan_free(struct cplan *p)
{
    cmap_close(&p->map);
    free(p->cls);
    free(p->old_bits);
    free(p->new_bits);
    free(p->slot);
    free(p->pview);
    p->cls = p->old_bits = p->new_bits = p->slot = p->pview = NULL;
}

int plan_read_slot(struct cplan *p, uint32_t blk, vk_error *err)
{
    if (p->slot_blk == blk)
        return 0;
    p->slot_blk = UINT32_MAX;
    int rc = vk_dev_read(p->file, p->slot, p->lay.slot, (uint64_t)vhd_cio_bat(p->vhd, blk) * VHD_SECTOR, err);
    if (!rc)
        p->slot_blk = blk;
    return rc;
}

/* The parent chain's view of the block (zeros past the end of a smaller parent). */
static int read_parent_view(struct cplan *p, uint32_t blk, vk_error *err)
{
    vk_vhd *parent = vk_vhd_parent(p->vhd);
    if (!parent)
        return vk_fail(err, VK_E_CHAIN, vk_vhd_path(p->vhd), VK_NO_OFFSET, "the parent image is not open");
    vk_dev *pd = vk_vhd_dev(parent);
    uint64_t off = (uint64_t)blk * p->lay.block_size;
    size_t n = off >= pd->size ? 0 : pd->size - off < p->lay.block_size ? (size_t)(pd->size - off) : p->lay.block_size;
    memset(p->pview + n, 0, p->lay.block_size - n);
    return n ? vk_dev_read(pd, p->pview, n, off, err) : 0;
}

static bool zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static enum vk_compact_reason class_reason(uint8_t cls)
{
    return cls == CSEC_PAGEFILE ? VK_COMPACT_PAGEFILE : VK_COMPACT_FREE;
}

static uint64_t count_bits(const uint8_t *bits, uint32_t nsec)
{
    uint64_t n = 0;
    for (uint32_t s = 0; s < nsec; s++)
        n += vhd_bitmap_get(bits, s);
    return n;
}

static bool kept_class(uint8_t cls) { return cls == CSEC_USED || cls == CSEC_ASIS; }

static int plan_dynamic(struct cplan *p, uint32_t blk, struct bplan *bp, vk_error *err)
{
    uint32_t spb = p->lay.sectors_per_block;
    bool used = false;
    for (uint32_t s = 0; s < spb; s++) {
        if (!vhd_bitmap_get(p->old_bits, s))
            continue;
        if (!kept_class(p->cls[s])) {
            vhd_bitmap_clear(p->new_bits, s);
            bp->sectors[class_reason(p->cls[s])]++;
        } else {
            used |= p->cls[s] == CSEC_USED;
        }
    }
    uint64_t left = count_bits(p->new_bits, spb);
    /* A block still holding a used cluster is kept whatever it reads: only blocks of areas kept as they are (tables,
     * gaps, unknown filesystems) are read, to drop the all-zero ones. */
    if (!left || used)
        return 0;
    int rc = plan_read_slot(p, blk, err);
    if (rc)
        return rc;
    const uint8_t *data = p->slot + p->lay.bitmap_bytes;
    for (uint32_t s = 0; s < spb; s++)
        if (vhd_bitmap_get(p->new_bits, s) && !zero(data + (size_t)s * VHD_SECTOR, VHD_SECTOR))
            return 0;
    bp->sectors[VK_COMPACT_ZERO] += left; /* every sector still stored reads zero: the block is not needed */
    memset(p->new_bits, 0, p->lay.bitmap_bytes);
    return 0;
}

static int plan_diff(struct cplan *p, uint32_t blk, struct bplan *bp, vk_error *err)
{
    uint32_t spb = p->lay.sectors_per_block, unit = spb >= 8 ? 8 : 1;
    bool loaded = false;
    for (uint32_t u = 0; u < spb; u += unit) {
        uint32_t stored = 0, needed = 0;
        for (uint32_t s = u; s < u + unit; s++)
            if (vhd_bitmap_get(p->old_bits, s)) {
                stored++;
                needed += kept_class(p->cls[s]);
            }
        if (!stored)
            continue;
        if (needed && !loaded) {
            int rc = plan_read_slot(p, blk, err);
            if (!rc)
                rc = read_parent_view(p, blk, err);
            if (rc)
                return rc;
            loaded = true;
        }
        const uint8_t *data = p->slot + p->lay.bitmap_bytes;
        bool same = true;
        for (uint32_t s = u; s < u + unit && same && needed; s++)
            if (vhd_bitmap_get(p->old_bits, s) && kept_class(p->cls[s]))
                same = !memcmp(data + (size_t)s * VHD_SECTOR, p->pview + (size_t)s * VHD_SECTOR, VHD_SECTOR);
        if (!same)
            continue;
        for (uint32_t s = u; s < u + unit; s++)
            if (vhd_bitmap_get(p->old_bits, s)) {
                bp->sectors[kept_class(p->cls[s]) ? VK_COMPACT_PARENT : class_reason(p->cls[s])]++;
                vhd_bitmap_clear(p->new_bits, s);
            }
    }
    return 0;
}

int plan_block(struct cplan *p, uint32_t blk, struct bplan *bp, vk_error *err)
{
    memset(bp, 0, sizeof *bp);
    int rc = vhd_cio_bitmap_read(p->vhd, blk, p->old_bits, err);
    if (rc)
        return rc;
    memcpy(p->new_bits, p->old_bits, p->lay.bitmap_bytes);
    if ((rc = cmap_classify(&p->map, (uint64_t)blk * p->lay.sectors_per_block, p->lay.sectors_per_block, p->cls,
                            err)))
        return rc;
    rc = p->diff ? plan_diff(p, blk, bp, err) : plan_dynamic(p, blk, bp, err);
    if (rc)
        return rc;
    if (!count_bits(p->new_bits, p->lay.sectors_per_block)) {
        bp->action = BP_DROP;
        bp->reason = VK_COMPACT_FREE;
        for (int r = 0; r < VK_COMPACT_NREASONS; r++)
            if (bp->sectors[r] > bp->sectors[bp->reason])
                bp->reason = (enum vk_compact_reason)r;
    } else {
        bp->action = memcmp(p->old_bits, p->new_bits, p->lay.bitmap_bytes) ? BP_CHANGE : BP_KEEP;
    }
    return 0;
}

void plan_account(struct vk_compact_result *res, const struct bplan *bp)
{
    for (int r = 0; r < VK_COMPACT_NREASONS; r++)
        res->freed_bytes[r] += bp->sectors[r] * VHD_SECTOR;
    if (bp->action == BP_DROP) {
        res->freed_blocks[bp->reason]++;
        res->blocks_after--;
    }
}
