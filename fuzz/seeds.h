/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Well-formed VHD structures for fuzz seeds, built with the encoders under test (no binary blobs in the tree). */
#ifndef VK_FUZZ_SEEDS_H
#define VK_FUZZ_SEEDS_H

#include <string.h>

#include "core/bytes.h"
#include "vhd/format.h"

static inline void seed_footer(uint8_t raw[VHD_FOOTER_LEN], uint32_t type, uint64_t size, const char *app)
{
    struct vhd_footer f;
    memset(&f, 0, sizeof f);
    memcpy(f.cookie, VHD_FOOTER_COOKIE, 8);
    f.features = VHD_FEATURE_RESERVED;
    f.version = VHD_VERSION;
    f.data_offset = type == VHD_TYPE_FIXED ? VHD_FIXED_DATA_OFFSET : VHD_FOOTER_LEN;
    memcpy(f.creator_app, app, 4);
    memcpy(f.creator_os, "Wi2k", 4);
    f.original_size = f.current_size = size;
    struct vhd_chs g = vhd_chs_for_size(size);
    f.cylinders = g.cylinders;
    f.heads = g.heads;
    f.sectors_per_track = g.sectors_per_track;
    f.disk_type = type;
    vhd_footer_encode(&f, raw);
}

/* A differencing header at `raw` with its BAT at `table_off` and one locator of `code` at `loc_off`. */
static inline void seed_header(uint8_t raw[VHD_HEADER_LEN], uint64_t table_off, uint32_t entries, uint32_t code,
                               uint32_t loc_len, uint64_t loc_off)
{
    struct vhd_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.cookie, VHD_HEADER_COOKIE, 8);
    h.data_offset = UINT64_MAX;
    h.table_offset = table_off;
    h.version = VHD_HEADER_VERSION;
    h.max_table_entries = entries;
    h.block_size = VHD_DEFAULT_BLOCK_SIZE;
    if (code) {
        h.locators[0].code = code;
        h.locators[0].data_space = 512;
        h.locators[0].data_length = loc_len;
        h.locators[0].data_offset = loc_off;
    }
    vhd_header_encode(&h, raw);
}

#endif
