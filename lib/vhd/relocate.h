/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: free block slots of a dynamic VHD and growing its file, for callers that rebuild blocks into free space
 * and then switch BAT entries (align in place, lib/ops/align_blocks.c). Everything else they need is in
 * compact_io.h (layout, BAT entries, copies inside the file, shrinking). */
#ifndef VK_VHD_RELOCATE_H
#define VK_VHD_RELOCATE_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/vhd.h"

/* At most this many free slots are listed (the lowest ones): callers take a batch at a time. */
#define VHD_REL_MAX_FREE (1u << 20)

struct vhd_rel_space {
    uint64_t *free;     /* file offsets of free slots (sector bitmap + block), ascending, malloc'd */
    size_t nfree;
    uint64_t used_end;  /* end of the highest referenced block or metadata region */
};

/* The slots of the image file below its trailing footer that neither a BAT entry nor a metadata region (footer copy,
 * header, BAT, locator data) overlaps: room a block can be written to without touching anything a reader can
 * reach. A dynamic or differencing image. */
int vhd_rel_free_slots(vk_vhd *vhd, struct vhd_rel_space *s, vk_error *err);
void vhd_rel_space_free(struct vhd_rel_space *s);
/* Where the trailing footer sits now (blocks below it). */
uint64_t vhd_rel_end(const vk_vhd *vhd);
/* Moves the trailing footer up to `new_end` (a sector multiple above the current end): one write; the bytes between
 * are unreferenced space for the caller to fill (a crash leaves them leaked, never referenced). */
int vhd_rel_grow(vk_vhd *vhd, uint64_t new_end, vk_error *err);

#endif
