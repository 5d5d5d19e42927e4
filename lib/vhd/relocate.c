/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The end of a dynamic VHD's file and the moves of its trailing footer (growing for new blocks and metadata,
 * shrinking after compaction), and its free block slots (what no BAT entry and no metadata region overlaps). */
#include "vhd/relocate.h"

#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
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

/* The two directions keep different orders on purpose; do not merge them into one sequence.
 * Up: readers take the file's last sector as the footer, so the copy at new_end is the one in force as soon as the
 * write lands, and the old copy's bytes become free space. No fsync here: the callers write their data next, over the
 * old copy's bytes, and fsync before any BAT entry or header names the new space (write.c's alloc_block, batch.c's
 * append, vhd_cio_append_block, vhd_ce_append). Until then nothing refers to that space, so a crash that stops the
 * writes anywhere (what the fault tests prove) leaves leaked space; an fsync between would cost one more per new
 * block. A power loss that lands the data but not the new copy leaves the trailing footer damaged, and the copy at
 * offset 0 for `vhdkit repair`.
 * Down: the copy at new_end is only bytes inside the file until the cut makes it the last sector, and the cut
 * removes the copy in force. So the new copy is synced before the cut, and the cut synced before the handle's end
 * moves: a crash before the cut leaves the old trailing footer in force, after it the new one. */
int vhd_rel_move_footer(vk_vhd *vhd, uint64_t new_end, vk_error *err)
{
    int rc = vk_dev_write(vhd->file, vhd->footer_raw, VHD_FOOTER_LEN, new_end, err);
    if (!rc && new_end < vhd->end_off) {
        if (!(rc = vk_dev_flush(vhd->file, err)) && !(rc = vk_dev_set_size(vhd->file, new_end + VHD_FOOTER_LEN, err)))
            rc = vk_dev_flush(vhd->file, err);
    }
    if (!rc)
        vhd->end_off = new_end;
    return rc;
}

int vhd_rel_grow(vk_vhd *vhd, uint64_t new_end, vk_error *err)
{
    if (new_end % VHD_SECTOR || new_end < vhd->end_off || new_end / VHD_SECTOR >= VHD_BAT_UNUSED)
        return vk_fail(err, VK_E_NOSPACE, vhd->path, vhd->end_off, "the image file cannot grow to %llu bytes",
                       (unsigned long long)new_end);
    return vhd_rel_move_footer(vhd, new_end, err);
}

int vhd_rel_append(vk_vhd *vhd, uint64_t len, unsigned flags, uint64_t *at, vk_error *err)
{
    uint64_t new_end;
    if (ck_align_up_u64(vhd->end_off, VHD_SECTOR, at) || ck_add_u64(*at, len, &new_end) ||
        ((flags & VHD_REL_BLOCK) && *at / VHD_SECTOR >= VHD_BAT_UNUSED))
        return vk_fail(err, VK_E_NOSPACE, vhd->path, vhd->end_off, "the image file cannot grow further");
    if (flags & VHD_REL_BULK) {
        vhd->end_off = new_end;
        return 0;
    }
    return vhd_rel_move_footer(vhd, new_end, err);
}
