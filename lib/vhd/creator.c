/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The creator-application table: which size field a VHD's creator trusts (VHD-NOTES.md item 6). */
#include "format.h"

#include <string.h>

/* Sources: qemu block/vpc.c vpc_ignore_current_size() (since 2025 only "vpc " and "qemu" are CHS-sized, every
 * other creator by current size, Azure "wa\0\0" included); FreeBSD mkimg vhd.c writes "*img" with the image size
 * in current size and a geometry that may come from its -H/-T options, so only current size is exact. Creators not
 * listed are sized by current size, as qemu does. */
static const struct vhd_creator creators[] = {
    {{'v', 'p', 'c', ' '}, "Virtual PC", VHD_SIZE_FROM_CHS},
    {{'q', 'e', 'm', 'u'}, "QEMU", VHD_SIZE_FROM_CHS},
    {{'q', 'e', 'm', '2'}, "QEMU (force size)", VHD_SIZE_FROM_CURRENT},
    {{'w', 'i', 'n', ' '}, "Hyper-V / Windows", VHD_SIZE_FROM_CURRENT},
    {{'d', '2', 'v', ' '}, "Disk2vhd", VHD_SIZE_FROM_CURRENT},
    {{'t', 'a', 'p', '\0'}, "blktap / XenServer", VHD_SIZE_FROM_CURRENT},
    {{'C', 'T', 'X', 'S'}, "XenConverter", VHD_SIZE_FROM_CURRENT},
    {{'w', 'a', '\0', '\0'}, "Azure", VHD_SIZE_FROM_CURRENT},
    {{'*', 'i', 'm', 'g'}, "FreeBSD mkimg", VHD_SIZE_FROM_CURRENT},
    {{'v', 'h', 'd', 'k'}, "vhdkit", VHD_SIZE_FROM_CURRENT},
};

const struct vhd_creator *vhd_creator_lookup(const uint8_t app[4])
{
    for (size_t i = 0; i < sizeof creators / sizeof creators[0]; i++)
        if (!memcmp(creators[i].app, app, 4))
            return &creators[i];
    return NULL;
}

enum vhd_size_source vhd_size_source(const struct vhd_footer *f)
{
    /* Maximal geometry means "too big for CHS": every implementation then reads current size. */
    if (f->cylinders == 65535 && f->heads == 16 && f->sectors_per_track == 255)
        return VHD_SIZE_FROM_CURRENT;
    const struct vhd_creator *c = vhd_creator_lookup(f->creator_app);
    return c ? c->source : VHD_SIZE_FROM_CURRENT;
}

uint64_t vhd_virtual_size(const struct vhd_footer *f)
{
    /* The CHS product as it is, not capped by current size: Virtual PC shows that many sectors and qemu does the
     * same; vhd_footer_validate rejects a fixed disk whose data area is shorter. */
    if (vhd_size_source(f) == VHD_SIZE_FROM_CHS) {
        struct vhd_chs g = {f->cylinders, f->heads, f->sectors_per_track};
        return vhd_chs_bytes(g);
    }
    return f->current_size;
}
