/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Free block slots of a dynamic VHD (what no BAT entry and no metadata region overlaps) and growing its file. */
#include "vhd/relocate.h"

#include <stdlib.h>
#include <string.h>

#include "vhd/compact_io.h"
#include "vhd/image_internal.h"

struct range {
    uint64_t off, end;
};

static int by_off(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

uint64_t vhd_rel_end(const vk_vhd *vhd) { return vhd->end_off; }

int vhd_rel_free_slots(vk_vhd *vhd, struct vhd_rel_space *s, vk_error *err)
{
    memset(s, 0, sizeof *s);
    struct vhd_cio_layout lay;
    int rc = vhd_cio_layout(vhd, &lay, err);
    if (rc)
        return rc;
    size_t n = 0;
    struct range *r = malloc(((size_t)lay.bat_entries + lay.nmeta) * sizeof *r);
    if (!r)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, NULL);
    for (unsigned i = 0; i < lay.nmeta; i++)
        r[n++] = (struct range){lay.meta[i].off, lay.meta[i].off + lay.meta[i].len};
    for (uint32_t b = 0; b < lay.bat_entries; b++)
        if (vhd->bat[b] != VHD_BAT_UNUSED)
            r[n++] = (struct range){(uint64_t)vhd->bat[b] * VHD_SECTOR, (uint64_t)vhd->bat[b] * VHD_SECTOR + lay.slot};
    qsort(r, n, sizeof *r, by_off);
    size_t cap = 0;
    uint64_t cursor = 0;
    for (size_t i = 0; i <= n && !rc; i++) {
        /* The gap before the next referenced range (or before the footer), cut into whole sector-aligned slots. */
        uint64_t stop = i < n ? r[i].off : lay.end_off;
        if (stop > lay.end_off)
            stop = lay.end_off;
        uint64_t at = (cursor + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
        for (; at < stop && stop - at >= lay.slot && s->nfree < VHD_REL_MAX_FREE; at += lay.slot) {
            if (s->nfree == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                uint64_t *f = realloc(s->free, ncap * sizeof *f);
                if (!f) {
                    rc = vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, NULL);
                    break;
                }
                s->free = f;
                cap = ncap;
            }
            s->free[s->nfree++] = at;
        }
        if (i < n && r[i].end > cursor)
            cursor = r[i].end;
    }
    s->used_end = cursor;
    free(r);
    if (rc)
        vhd_rel_space_free(s);
    return rc;
}

void vhd_rel_space_free(struct vhd_rel_space *s)
{
    free(s->free);
    memset(s, 0, sizeof *s);
}

int vhd_rel_grow(vk_vhd *vhd, uint64_t new_end, vk_error *err)
{
    if (new_end % VHD_SECTOR || new_end < vhd->end_off || new_end / VHD_SECTOR >= VHD_BAT_UNUSED)
        return vk_fail(err, VK_E_NOSPACE, vhd->path, vhd->end_off, "the image file cannot grow to %llu bytes",
                       (unsigned long long)new_end);
    int rc = vk_dev_write(vhd->file, vhd->footer_raw, VHD_FOOTER_LEN, new_end, err);
    if (!rc)
        vhd->end_off = new_end;
    return rc;
}
