/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: the block-level access compaction needs (BAT entries, sector bitmaps, raw block moves, the file end). */
#ifndef VK_VHD_COMPACT_IO_H
#define VK_VHD_COMPACT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/vhd.h"

/* A byte range of the host file that holds metadata (footer copy, header, BAT, locator data): blocks never go there. */
struct vhd_cio_region {
    uint64_t off, len;
};

#define VHD_CIO_MAX_REGIONS 11 /* footer copy, header, BAT, 8 locators */

struct vhd_cio_layout {
    uint32_t block_size;
    uint32_t sectors_per_block;
    uint32_t bitmap_bytes;
    uint32_t bat_entries;
    uint64_t slot;                 /* bytes one block takes in the file: bitmap + data */
    uint64_t end_off;              /* where the trailing footer sits */
    unsigned nmeta;
    struct vhd_cio_region meta[VHD_CIO_MAX_REGIONS];
};

/* Geometry of a dynamic or differencing image (VK_E_USAGE for a fixed one). */
int vhd_cio_layout(vk_vhd *vhd, struct vhd_cio_layout *out, vk_error *err);
/* BAT entry `blk` in host order (sector offset or VHD_BAT_UNUSED); blk < bat_entries. */
uint32_t vhd_cio_bat(const vk_vhd *vhd, uint32_t blk);
/* Copy of the sector bitmap of allocated block `blk` into bits (bitmap_bytes long). */
int vhd_cio_bitmap_read(vk_vhd *vhd, uint32_t blk, uint8_t *bits, vk_error *err);
/* Writes the sectors of the bitmap of `blk` that differ between `old` and `bits` (each a separate 512-byte write, so
 * every crash leaves each sector old or new), and updates the cache. */
int vhd_cio_bitmap_write(vk_vhd *vhd, uint32_t blk, const uint8_t *old, const uint8_t *bits, vk_error *err);
/* Rewrites BAT entry `blk` (one sector write) and the in-memory table; VHD_BAT_UNUSED drops the block. */
int vhd_cio_bat_set(vk_vhd *vhd, uint32_t blk, uint32_t value, vk_error *err);
/* Sets BAT entry `blk` in memory only (reads through the handle see it at once); vhd_cio_bat_write puts it on disk. */
void vhd_cio_bat_stage(vk_vhd *vhd, uint32_t blk, uint32_t value);
/* Writes the BAT sectors holding entries blks[0..n) (ascending) from memory: one read-modify-write per sector, so
 * many staged entries cost one write per BAT sector, and each sector lands old or new as a whole. */
int vhd_cio_bat_write(vk_vhd *vhd, const uint32_t *blks, size_t n, vk_error *err);
/* A new block at the end of an image being built: `slot_bytes` = bitmap then data. Without VK_VHD_BULK: the footer
 * moved after it (vhd_rel_append), the block, fsync, then its BAT entry. With VK_VHD_BULK (a file no one sees yet):
 * only the block; its BAT entry is staged and vhd_cio_bulk_finish writes the BAT and footer once. */
int vhd_cio_append_block(vk_vhd *vhd, uint32_t blk, const uint8_t *slot_bytes, vk_error *err);
/* VK_VHD_BULK only: room for block `blk` at the end of the image (its BAT entry staged), returned in *block_off; the
 * caller fills bitmap and data there (vhd_cio_copy, vk_dev_write on vk_vhd_file). Bytes it leaves unwritten are a
 * hole of the new file and read as zero. */
int vhd_cio_append_reserve(vk_vhd *vhd, uint32_t blk, uint64_t *block_off, vk_error *err);
/* Copies `len` bytes of host file `src` at `src_off` to host file `dst` at `dst_off` (the same file is fine when the
 * ranges do not overlap) with copy_file_range: the kernel moves the bytes without a round trip through this process,
 * and shares extents where the filesystem can. Where it cannot (other devices, other filesystems), reads and writes
 * through `buf` (`buf_len` bytes, a multiple of 512). Counts as one write for VHDKIT_TEST_FAULT (a torn copy lands its
 * first half rounded down to 512 bytes). dst grows as a write would grow it. */
int vhd_cio_copy(vk_dev *dst, uint64_t dst_off, vk_dev *src, uint64_t src_off, uint64_t len, uint8_t *buf,
                 size_t buf_len, vk_error *err);
/* Ends a VK_VHD_BULK build: the whole BAT from memory (one write) and the trailing footer after the last block. */
int vhd_cio_bulk_finish(vk_vhd *vhd, vk_error *err);
/* Moves the trailing footer down to `new_end` (a sector multiple below the current end, past every live block):
 * footer written there, fsync, file cut to new_end + 512, fsync (vhd_rel_move_footer, relocate.h). A crash before
 * the cut leaves the old trailing footer in force. */
int vhd_cio_shrink(vk_vhd *vhd, uint64_t new_end, vk_error *err);

/* Differencing images in the folder of `path` whose header names `uuid` as their parent. Returns how many were
 * found (>= 0; the first one's path in `first`), or a negative vk code when the folder cannot be read. Files that
 * are not VHDs or cannot be read are skipped. */
int vhd_cio_find_children(const char *path, const uint8_t uuid[16], char *first, size_t first_cap, vk_error *err);

#endif
