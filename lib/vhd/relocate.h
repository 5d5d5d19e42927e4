/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: the end of a dynamic VHD's file, where its trailing footer sits, and every move of that footer (new
 * blocks and metadata appended, align's free slots, compaction's cut), one implementation for all callers; and the
 * free block slots below it, for callers that rebuild blocks into free space and then switch BAT entries (align in
 * place, lib/ops/align_blocks.c). Everything else they need is in compact_io.h (layout, BAT entries, copies inside
 * the file, shrinking). */
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

/* Where the trailing footer sits now (blocks and metadata below it). */
uint64_t vhd_rel_end(const vk_vhd *vhd);
/* Puts the handle's footer at `new_end` (a sector multiple) as the trailing footer, and the handle's end there.
 * Up (new_end >= the end): one write, no fsync; the bytes between become unreferenced space for the caller.
 * Down (below the end): write, fsync, cut the file after it, fsync. Every move of an unchanged footer goes through
 * here; a changed one (resize) is written by vhd_ce_write_footer, which says why it keeps its own order. */
int vhd_rel_move_footer(vk_vhd *vhd, uint64_t new_end, vk_error *err);
/* Moves the trailing footer up to `new_end` (a sector multiple above the current end, whose every slot fits a BAT
 * entry): one write; the bytes between are unreferenced space for the caller to fill (a crash leaves them leaked,
 * never referenced). */
int vhd_rel_grow(vk_vhd *vhd, uint64_t new_end, vk_error *err);

#define VHD_REL_BLOCK 1u /* the space is a block: its start must fit a BAT entry */
#define VHD_REL_BULK 2u  /* a VK_VHD_BULK build (a file no one reads yet): only the handle's end moves; the footer is
                          * written once at the end of the build (vhd_cio_bulk_finish) */
/* Fresh space of `len` bytes at the end of the file, from the end rounded up to a sector (returned in *at): the
 * trailing footer moves past it first (one write, vhd_rel_move_footer up), so the space is the caller's, used or
 * leaked, and the old footer's bytes are no longer the ones in force. */
int vhd_rel_append(vk_vhd *vhd, uint64_t len, unsigned flags, uint64_t *at, vk_error *err);

#endif
