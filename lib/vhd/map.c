/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a virtual disk byte is stored: the image of the chain that holds it and the byte offset in that file (spec
 * "Block Allocation Table and Data Blocks": block sector * 512 + bitmap + offset in the block). */
#include "vhd/image_internal.h"

int vk_vhd_map_offset(vk_vhd *vhd, uint64_t virt_off, uint64_t *file_off, int *depth, vk_error *err)
{
    *file_off = 0;
    *depth = -1;
    for (int d = 0; vhd && virt_off < vhd->virtual_size; d++, vhd = vhd->parent) {
        if (!vhd_is_sparse(vhd)) {
            *file_off = virt_off;
            *depth = d;
            return 0;
        }
        uint32_t blk = (uint32_t)(virt_off / vhd->block_size);
        uint32_t in_blk = (uint32_t)(virt_off % vhd->block_size);
        if (blk < vhd->bat_entries && vhd->bat[blk] != VHD_BAT_UNUSED) {
            uint8_t *bits;
            int rc = bitmap_cache_get(vhd, blk, &bits, err);
            if (rc)
                return rc;
            if (vhd_bitmap_get(bits, in_blk / VHD_SECTOR)) {
                *file_off = (uint64_t)vhd->bat[blk] * VHD_SECTOR + vhd->bitmap_bytes + in_blk;
                *depth = d;
                return 0;
            }
        }
        /* Not written here: a dynamic disk reads zeros, a differencing one asks its parent. */
        if (!vhd_is_diff(vhd))
            return 0;
    }
    return 0;
}
