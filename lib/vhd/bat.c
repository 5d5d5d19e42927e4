/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Block allocation table and sector bitmap sizes, BAT byte order (spec "Block Allocation Table and Data Blocks"). */
#include "format.h"

#include "core/bytes.h"

uint64_t vhd_bat_bytes(uint32_t max_table_entries)
{
    /* At most 2^32 entries of 4 bytes: fits in 64 bits without checks. */
    return ((uint64_t)max_table_entries * 4 + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
}

uint32_t vhd_bitmap_bytes(uint32_t block_size)
{
    uint64_t sectors = ((uint64_t)block_size + VHD_SECTOR - 1) / VHD_SECTOR;
    uint64_t bytes = (sectors + 7) / 8;
    return (uint32_t)((bytes + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR);
}

void vhd_bat_decode(const uint8_t *raw, uint32_t n, uint32_t *bat)
{
    for (uint32_t i = 0; i < n; i++)
        bat[i] = get_be32(raw + (size_t)i * 4);
}

void vhd_bat_encode(const uint32_t *bat, uint32_t n, uint8_t *raw)
{
    for (uint32_t i = 0; i < n; i++)
        put_be32(raw + (size_t)i * 4, bat[i]);
}
