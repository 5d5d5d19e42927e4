/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CHS geometry for a disk size (spec appendix "CHS Calculation"; same results as qemu calculate_geometry and
 * FreeBSD mkimg vhd_geometry without command-line overrides). */
#include "format.h"

struct vhd_chs vhd_chs_for_size(uint64_t size)
{
    uint64_t total = size / VHD_SECTOR; /* the CHS product rounds the size down */
    uint64_t spt, heads, cth;

    if (total > VHD_MAX_CHS_SECTORS)
        total = VHD_MAX_CHS_SECTORS;
    if (total >= UINT64_C(65535) * 16 * 63) {
        spt = 255;
        heads = 16;
        cth = total / spt;
    } else {
        spt = 17;
        cth = total / spt;
        heads = (cth + 1023) / 1024;
        if (heads < 4)
            heads = 4;
        if (cth >= heads * 1024 || heads > 16) {
            spt = 31;
            heads = 16;
            cth = total / spt;
        }
        if (cth >= heads * 1024) {
            spt = 63;
            heads = 16;
            cth = total / spt;
        }
    }
    /* cth / heads <= 65535 by construction: total <= 65535*16*255 and the branches above keep cth < 16*1024*4. */
    struct vhd_chs g = {(uint16_t)(cth / heads), (uint8_t)heads, (uint8_t)spt};
    return g;
}
