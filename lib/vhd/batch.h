/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Batched crash ordering for long writers (merge, rebase): instead of "data, fsync, BAT sector, fsync" for every
 * new block, many blocks' data and bitmaps are written, then one fsync, then their BAT entries (adjacent BAT sectors
 * in one write) and the bitmap bits of blocks that already existed, then one fsync. A crash at any write still
 * leaves the old view: no BAT entry or bitmap bit ever points at data that is not on disk; a block whose BAT entry
 * was not written yet is leaked space (check reports it, repair and compact reclaim it), as with one fsync per block.
 * While a batch is open, reads through the handle already see what was written (the BAT and bitmaps in memory). */
#ifndef VK_VHD_BATCH_H
#define VK_VHD_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "vhdkit/vhd.h"

/* Default bound of a batch: bytes written before the next commit (also the most the final fsync waits for). */
#define VHD_BATCH_BYTES (64u << 20)

/* Starts batching writes to `vhd` (a writable dynamic or differencing image; a fixed one needs no batch: no-op).
 * At most `max_bytes` of data are written between two commits (0: VHD_BATCH_BYTES). */
int vhd_batch_begin(vk_vhd *vhd, uint64_t max_bytes, vk_error *err);
/* Makes live everything written since the last commit: fsync, bitmap sectors and BAT sectors, fsync. */
int vhd_batch_commit(vk_vhd *vhd, vk_error *err);
/* Commits and stops batching (memory freed even when the commit fails; then what was pending stays leaked). */
int vhd_batch_end(vk_vhd *vhd, vk_error *err);

/* Block-level writes for callers that build whole blocks (rebase). Both may commit when the batch is full. */
/* A new block at the end of the file: `slot` = sector bitmap then block data (bitmap_bytes + block_size bytes); its
 * BAT entry is written at the next commit. */
int vhd_batch_append(vk_vhd *vhd, uint32_t blk, const uint8_t *slot, vk_error *err);
/* Bitmap of allocated block `blk` becomes `bits` (only bits set, over sectors whose data the caller has written): at
 * the next commit for a block that was live before the batch, at once for a block added by the batch. */
int vhd_batch_set_bits(vk_vhd *vhd, uint32_t blk, const uint8_t *bits, vk_error *err);

#endif
