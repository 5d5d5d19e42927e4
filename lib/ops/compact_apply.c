/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compact in place, in three phases ordered so a crash at any write leaves a valid image in which every used cluster
 * reads as before (DESIGN.md safety rule 3), with one fsync per step rather than per block:
 *  1. per block, clear bitmap bits (in a dynamic disk the data of those sectors is zeroed too, so readers that
 *     ignore bitmaps, qemu and libvhdi, read the zeros vhdkit reads); then the BAT sectors of the dropped blocks, each written once. None of these
 *     writes changes a needed byte, so any subset of them landing is fine; fsync: the dropped blocks' space is free
 *     only from here on;
 *  2. move blocks from the end of the file into holes: copy every moving block (bitmap and data) to its hole, fsync,
 *     then the BAT sectors naming the new places, fsync. Until a BAT sector lands the old copies it names are the
 *     live ones and stay untouched: a hole is never referenced by a BAT entry, holes never overlap the old place of a
 *     moving block (holes lie below every block still to move), and no old place is reused in the same run;
 *  3. write the footer at the new end, fsync, cut the file after it: until the cut the old trailing footer rules. */
#include "ops/compact_int.h"

#include <stdlib.h>
#include <string.h>

#include "vhd/format.h"

#define META UINT32_MAX

struct item {
    uint64_t off, len;
    uint32_t blk; /* META for metadata that never moves */
};

static int cmp_item(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static uint64_t align512(uint64_t v) { return (v + VHD_SECTOR - 1) & ~(uint64_t)(VHD_SECTOR - 1); }

static void progress(const struct vk_compact_opts *o, uint64_t done, uint64_t total)
{
    if (o->progress)
        o->progress(o->progress_ctx, done, total);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Zeros the data of the sectors of a dynamic-disk block whose bits the plan clears (free clusters: no byte anyone
 * needs), in runs. `zeros` is block_size bytes of zero. */
static int zero_cleared(struct cplan *p, uint32_t blk, const uint8_t *zeros, vk_error *err)
{
    uint64_t data_off = (uint64_t)vhd_cio_bat(p->vhd, blk) * VHD_SECTOR + p->lay.bitmap_bytes;
    uint32_t spb = p->lay.sectors_per_block;
    for (uint32_t s = 0; s < spb;) {
        if (!vhd_bitmap_get(p->old_bits, s) || vhd_bitmap_get(p->new_bits, s)) {
            s++;
            continue;
        }
        uint32_t e = s;
        while (e < spb && vhd_bitmap_get(p->old_bits, e) && !vhd_bitmap_get(p->new_bits, e))
            e++;
        int rc = vk_dev_write(p->file, zeros, (size_t)(e - s) * VHD_SECTOR, data_off + (uint64_t)s * VHD_SECTOR, err);
        if (rc)
            return rc;
        s = e;
    }
    return 0;
}

/* Phase 1 (or the whole dry run when `write` is false). */
static int walk_blocks(struct cplan *p, const struct vk_compact_opts *o, struct vk_compact_result *res, bool write,
                       uint64_t total, vk_error *err)
{
    uint32_t *dropped = NULL; /* ascending, as the walk goes */
    uint8_t *zeros = NULL;
    size_t ndropped = 0;
    if (write && (!(dropped = malloc((res->blocks_before ? res->blocks_before : 1) * sizeof *dropped)) ||
                  (!p->diff && !(zeros = calloc(1, p->lay.block_size))))) {
        free(dropped);
        return vk_fail(err, VK_E_NOMEM, vk_vhd_path(p->vhd), VK_NO_OFFSET, "cannot allocate the block list");
    }
    uint64_t done = 0;
    int rc = 0;
    for (uint32_t blk = 0; blk < p->lay.bat_entries && !rc; blk++) {
        if (vhd_cio_bat(p->vhd, blk) == VHD_BAT_UNUSED)
            continue;
        struct bplan bp;
        rc = plan_block(p, blk, &bp, err);
        if (!rc && write && bp.action == BP_DROP && ndropped < res->blocks_before) {
            vhd_cio_bat_stage(p->vhd, blk, VHD_BAT_UNUSED);
            dropped[ndropped++] = blk;
        } else if (!rc && write && bp.action == BP_CHANGE) {
            rc = vhd_cio_bitmap_write(p->vhd, blk, p->old_bits, p->new_bits, err);
            if (!rc && zeros)
                rc = zero_cleared(p, blk, zeros, err);
        }
        if (rc)
            break;
        plan_account(res, &bp);
        progress(o, ++done, total);
    }
    if (!rc && ndropped)
        rc = vhd_cio_bat_write(p->vhd, dropped, ndropped, err);
    free(dropped);
    free(zeros);
    return rc;
}

int compact_dry_run(struct cplan *p, const struct vk_compact_opts *o, struct vk_compact_result *res, vk_error *err)
{
    int rc = walk_blocks(p, o, res, false, res->blocks_before, err);
    if (rc)
        return rc;
    uint64_t meta_end = 0;
    for (unsigned i = 0; i < p->lay.nmeta; i++)
        if (p->lay.meta[i].off + p->lay.meta[i].len > meta_end)
            meta_end = p->lay.meta[i].off + p->lay.meta[i].len;
    res->file_size_after = align512(meta_end) + res->blocks_after * p->lay.slot + VHD_FOOTER_LEN;
    if (res->file_size_after > res->file_size_before)
        res->file_size_after = res->file_size_before;
    return 0;
}

/* Copies a block's bitmap and data to `to` (a hole below it, never overlapping it) inside the file, by the kernel
 * (copy_file_range) where it can; its BAT entry changes later, in one batch. */
static int copy_block(struct cplan *p, const struct item *it, uint64_t to, vk_error *err)
{
    p->slot_blk = UINT32_MAX; /* the slot is the bounce buffer where the kernel cannot copy */
    return vhd_cio_copy(p->file, to, p->file, it->off, p->lay.slot, p->slot, p->lay.slot, err);
}

/* Live blocks and metadata by file offset; blocks from the top fill the lowest holes that fit one. */
static int pack(struct cplan *p, const struct vk_compact_opts *o, struct vk_compact_result *res, uint64_t *end,
                vk_error *err)
{
    size_t n = p->lay.nmeta;
    for (uint32_t blk = 0; blk < p->lay.bat_entries; blk++)
        n += vhd_cio_bat(p->vhd, blk) != VHD_BAT_UNUSED;
    struct item *it = malloc((n ? n : 1) * sizeof *it);
    uint32_t *moved = malloc((n ? n : 1) * sizeof *moved);
    if (!it || !moved) {
        free(it);
        free(moved);
        return vk_fail(err, VK_E_NOMEM, vk_vhd_path(p->vhd), VK_NO_OFFSET, "cannot allocate the block list");
    }
    size_t k = 0, nmoved = 0;
    for (unsigned i = 0; i < p->lay.nmeta; i++)
        it[k++] = (struct item){p->lay.meta[i].off, p->lay.meta[i].len, META};
    for (uint32_t blk = 0; blk < p->lay.bat_entries; blk++)
        if (vhd_cio_bat(p->vhd, blk) != VHD_BAT_UNUSED)
            it[k++] = (struct item){(uint64_t)vhd_cio_bat(p->vhd, blk) * VHD_SECTOR, p->lay.slot, blk};
    qsort(it, n, sizeof *it, cmp_item);
    int rc = 0;
    uint64_t cursor = 0, total = res->blocks_before + res->blocks_after;
    size_t i = 0, j = n;
    while (i < j && !rc) {
        struct item *low = &it[i];
        if (low->off < cursor || low->off - cursor < p->lay.slot) {
            uint64_t e = align512(low->off + low->len);
            cursor = e > cursor ? e : cursor;
            i++;
            continue;
        }
        while (j > i && it[j - 1].blk == META)
            j--;
        if (j == i) { /* nothing movable above this hole */
            cursor = align512(low->off + low->len);
            i++;
            continue;
        }
        struct item *top = &it[j - 1];
        if (!(rc = copy_block(p, top, cursor, err))) {
            top->off = cursor;
            moved[nmoved++] = top->blk;
            vhd_cio_bat_stage(p->vhd, top->blk, (uint32_t)(cursor / VHD_SECTOR)); /* memory only, for now */
        }
        cursor += p->lay.slot;
        res->blocks_moved++;
        progress(o, res->blocks_before + res->blocks_moved, total);
        j--;
    }
    if (!rc && nmoved) {
        rc = vk_dev_flush(p->file, err); /* every copy on disk before any BAT entry names it */
        qsort(moved, nmoved, sizeof *moved, cmp_u32);
        if (!rc)
            rc = vhd_cio_bat_write(p->vhd, moved, nmoved, err);
        if (!rc)
            rc = vk_dev_flush(p->file, err); /* the new places are live before the footer moves over the old ones */
    }
    uint64_t e = 0;
    for (size_t m = 0; m < n; m++)
        if (it[m].off + it[m].len > e)
            e = it[m].off + it[m].len;
    *end = align512(e);
    free(it);
    free(moved);
    return rc;
}

int compact_in_place(struct cplan *p, const struct vk_compact_opts *o, struct vk_compact_result *res, vk_error *err)
{
    uint64_t total = res->blocks_before * 2;
    int rc = walk_blocks(p, o, res, true, total, err);
    if (!rc)
        rc = vk_dev_flush(p->file, err);
    uint64_t end = 0;
    if (!rc)
        rc = pack(p, o, res, &end, err);
    if (!rc && end < p->file->size - VHD_FOOTER_LEN)
        rc = vhd_cio_shrink(p->vhd, end, err);
    res->file_size_after = p->file->size;
    return rc;
}
