/* SPDX-License-Identifier: GPL-2.0-or-later */
/* whohas --vhd-offset: a byte of the .vhd file itself resolved through its structures (VHD spec "Hard Disk Footer",
 * "Dynamic Disk Header", "Block Allocation Table and Data Blocks"): footer and its copy, header, BAT, parent locator
 * data, a block's sector bitmap, or a data sector, which then leads to the virtual sector and its owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/whohas_int.h"
#include "vhd/image_internal.h"

static int cmp_pos(const void *a, const void *b, void *ctx)
{
    const uint32_t *bat = ctx;
    uint32_t x = bat[*(const uint32_t *)a], y = bat[*(const uint32_t *)b];
    return x < y ? -1 : x > y;
}

/* Allocated blocks sorted by their place in the file, so a file offset finds its block by binary search. */
static int build_by_pos(vk_whohas *w, vk_vhd *vhd, vk_error *err)
{
    if (w->by_pos)
        return 0;
    uint32_t n = 0;
    for (uint32_t b = 0; b < vhd->bat_entries; b++)
        n += vhd->bat[b] != VHD_BAT_UNUSED;
    w->by_pos = malloc(((size_t)n + 1) * sizeof *w->by_pos);
    if (!w->by_pos)
        return vk_fail(err, VK_E_NOMEM, w->path, VK_NO_OFFSET, NULL);
    n = 0;
    for (uint32_t b = 0; b < vhd->bat_entries; b++)
        if (vhd->bat[b] != VHD_BAT_UNUSED)
            w->by_pos[n++] = b;
    qsort_r(w->by_pos, n, sizeof *w->by_pos, cmp_pos, vhd->bat);
    w->nby_pos = n;
    return 0;
}

static int in_range(uint64_t off, uint64_t start, uint64_t len) { return off >= start && off - start < len; }

static int set(struct vk_whohas_answer *a, enum vk_holder kind, const char *fmt, unsigned long long n)
{
    a->kind = kind;
    snprintf(a->what, sizeof a->what, fmt, n);
    return 0;
}

/* A byte inside block `blk`'s slot (bitmap then data). */
static int in_block(vk_whohas *w, vk_vhd *vhd, uint32_t blk, uint64_t rel, struct vk_whohas_answer *a, vk_error *err)
{
    a->has_block = 1;
    a->block = blk;
    if (rel < vhd->bitmap_bytes) {
        a->kind = VK_HOLD_VHD_BITMAP;
        uint64_t s0 = (uint64_t)blk * vhd->sectors_per_block + rel * 8;
        snprintf(a->what, sizeof a->what, "sector bitmap of block %u (bits of virtual sectors %llu-%llu)", blk,
                 (unsigned long long)s0, (unsigned long long)(s0 + 7));
        return 0;
    }
    uint64_t in_data = rel - vhd->bitmap_bytes;
    uint64_t virt = (uint64_t)blk * vhd->block_size + in_data;
    uint8_t *bits;
    int rc = bitmap_cache_get(vhd, blk, &bits, err);
    if (rc)
        return rc;
    if (virt >= w->disk->size || !vhd_bitmap_get(bits, (uint32_t)(in_data / VHD_SECTOR))) {
        a->kind = VK_HOLD_VHD_STALE;
        a->has_sector = 1;
        a->sector = virt / VHD_SECTOR;
        snprintf(a->what, sizeof a->what, "data area of block %u whose sector bitmap bit is clear: %s", blk,
                 virt >= w->disk->size ? "past the end of the disk" : vhd_is_diff(vhd) ? "the sector reads from the parent"
                                                                                       : "the sector reads as zeros");
        return 0;
    }
    uint64_t file_off = a->image_offset;
    rc = whohas_sector(w, virt / VHD_SECTOR, virt % VHD_SECTOR, a, err);
    a->image_offset = file_off; /* the place asked about, whatever the chain says */
    a->chain_depth = 0;
    a->image = w->path;
    return rc;
}

int whohas_vhd_offset(vk_whohas *w, uint64_t off, struct vk_whohas_answer *a, vk_error *err)
{
    vk_dev *file = w->vhd ? vk_vhd_file(w->vhd) : w->disk;
    if (off >= file->size)
        return vk_fail(err, VK_E_RANGE, w->path, VK_NO_OFFSET, "offset %llu is past the end of the file (%llu bytes)",
                       (unsigned long long)off, (unsigned long long)file->size);
    a->image = w->path;
    a->image_offset = off;
    a->chain_depth = 0;
    vk_vhd *vhd = w->vhd;
    if (!vhd)
        return whohas_sector(w, off / VHD_SECTOR, off % VHD_SECTOR, a, err);
    if (in_range(off, vhd->end_off, VHD_FOOTER_LEN))
        return set(a, VK_HOLD_VHD_FOOTER, "footer (at %llu)", (unsigned long long)vhd->end_off);
    if (!vhd_is_sparse(vhd)) {
        if (off < vhd->virtual_size) {
            int rc = whohas_sector(w, off / VHD_SECTOR, off % VHD_SECTOR, a, err);
            a->image_offset = off;
            return rc;
        }
        return set(a, VK_HOLD_VHD_UNUSED, "bytes after the disk data that no structure uses (%llu)",
                   (unsigned long long)off);
    }
    if (off < VHD_FOOTER_LEN)
        return set(a, VK_HOLD_VHD_FOOTER_COPY, "footer copy (at %llu)", 0);
    if (in_range(off, vhd->header_off, VHD_HEADER_LEN))
        return set(a, VK_HOLD_VHD_HEADER, "dynamic disk header (at %llu)", (unsigned long long)vhd->header_off);
    uint64_t bat_len = vhd_bat_bytes(vhd->header.max_table_entries);
    if (in_range(off, vhd->header.table_offset, bat_len)) {
        a->kind = VK_HOLD_VHD_BAT;
        uint64_t entry = (off - vhd->header.table_offset) / 4;
        snprintf(a->what, sizeof a->what, "block allocation table, entry %llu%s", (unsigned long long)entry,
                 entry < vhd->bat_entries ? "" : " (padding past the last entry)");
        if (entry < vhd->bat_entries) {
            a->has_block = 1;
            a->block = entry;
        }
        return 0;
    }
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++) {
        const struct vhd_locator *l = &vhd->header.locators[i];
        uint64_t len = vhd_locator_space_bytes(l);
        if (len < l->data_length)
            len = l->data_length;
        if (l->code != VHD_PLAT_NONE && in_range(off, l->data_offset, len)) {
            char plat[5];
            a->kind = VK_HOLD_VHD_LOCATOR;
            snprintf(a->what, sizeof a->what, "parent locator %u data (%s)", i, vhd_platform_name(l->code, plat));
            return 0;
        }
    }
    int rc = build_by_pos(w, vhd, err);
    if (rc)
        return rc;
    uint64_t slot = (uint64_t)vhd->bitmap_bytes + vhd->block_size;
    uint32_t lo = 0, hi = w->nby_pos; /* last block starting at or before off */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)vhd->bat[w->by_pos[mid]] * VHD_SECTOR <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo) {
        uint32_t blk = w->by_pos[lo - 1];
        uint64_t start = (uint64_t)vhd->bat[blk] * VHD_SECTOR;
        if (off - start < slot)
            return in_block(w, vhd, blk, off - start, a, err);
    }
    return set(a, VK_HOLD_VHD_UNUSED, "bytes no structure of the file refers to (%llu)", (unsigned long long)off);
}
