/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: metadata rewrites the chain commands need (parent fields and locators, footers, the dynamic header,
 * fresh space at the end of the file, moving blocks), each in crash-safe order (DESIGN.md safety rule 3). */
#ifndef VK_VHD_CHAIN_EDIT_H
#define VK_VHD_CHAIN_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "vhd/format.h"
#include "vhdkit/vhd.h"

/* Copies of the decoded footer and (sparse images) dynamic header, and where the header sits. */
void vhd_ce_get(vk_vhd *vhd, struct vhd_footer *f, struct vhd_header *h, uint64_t *header_off);
/* Fresh space of `len` bytes (a multiple of 512) at the end of the file, filled with `data`: the trailing footer is
 * written past it first (vhd_rel_append, relocate.h; the end itself is vhd_rel_end), then the data, then fsync. A
 * crash leaves leaked space, never a damaged image. */
int vhd_ce_append(vk_vhd *vhd, const uint8_t *data, size_t len, uint64_t *off, vk_error *err);
/* Rewrites the dynamic header (one 1024-byte write, checksum computed) and fsyncs. */
int vhd_ce_write_header(vk_vhd *vhd, struct vhd_header *h, vk_error *err);
/* Writes footer `f` (checksum computed) as the trailing footer at `end` (fixed: the new end of the data), fsync,
 * then for sparse images the copy at offset 0, fsync; the handle takes the new size. */
int vhd_ce_write_footer(vk_vhd *vhd, struct vhd_footer *f, uint64_t end, vk_error *err);
/* Points differencing `child` at `parent` (opened, its absolute path `parent_abs`): parent UUID, time stamp, Unicode
 * name; W2ku, W2ru and MacX locators rewritten, other locators cleared. Changed locator data always goes to fresh
 * space at the end (the old data stays valid for the old header until the one header write switches). Returns
 * the number of locators whose data moved in `*moved` (may be NULL). */
int vhd_ce_set_parent(vk_vhd *child, vk_vhd *parent, const char *parent_abs, int *moved, vk_error *err);
/* Copies allocated block `blk` (bitmap and data) to the end of the file and points its BAT entry there. */
int vhd_ce_move_block(vk_vhd *vhd, uint32_t blk, vk_error *err);

#endif
