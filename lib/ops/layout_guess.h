/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "Bitmaps of the wrong size": the blocks of a dynamic or differencing VHD laid out for another sector-bitmap size
 * or another block size than the header says (lib/ops/layout_guess.c explains what is detectable and why). Shared
 * by check (reports it) and repair (fixes it). */
#ifndef VK_OPS_LAYOUT_GUESS_H
#define VK_OPS_LAYOUT_GUESS_H

#include <stdbool.h>
#include <stdint.h>

#include "vhd/format.h"
#include "vhdkit/dev.h"

enum layout_kind {
    LAYOUT_OK = 0,     /* nothing says the blocks follow another layout than the header's */
    LAYOUT_BLOCK_SIZE, /* the blocks are exactly those of another block size (header field changed, no relayout) */
    LAYOUT_BITMAP,     /* the header's block size, but each block starts with a bitmap of another size */
    LAYOUT_UNSURE,     /* packed for another bitmap size, but which sectors it marks cannot be told */
};

struct layout_guess {
    enum layout_kind kind;
    uint32_t block_size;   /* what the blocks were laid out with */
    uint32_t bitmap_bytes; /* the sector bitmap they were laid out with */
    uint32_t want_bitmap;  /* what the format wants for block_size */
    bool bits_at_end;      /* LAYOUT_BITMAP, wider bitmap: the sector bits are its last want_bitmap bytes */
    uint64_t first;        /* file offset of the lowest block */
    uint64_t stride;       /* bytes from one block to the next (and from the last one to the footer) */
    uint32_t nblocks;
    char why[200];         /* LAYOUT_UNSURE: the reason */
};

/* Looks at the allocated entries of `bat` (h->max_table_entries of them, host order) in a file whose trailing footer
 * sits at `footer_pos`: are the blocks packed one after another up to the footer at a stride the header's block
 * size does not explain? `h->block_size` may be invalid (not a power of two, too small for max_table_entries): the
 * guess is what repairs such a header. Reads the first bytes of each block from `file` to see where a wider
 * bitmap holds its bits. Returns 0 (the answer in `g`) or an I/O or memory error. */
int layout_guess(vk_dev *file, const char *path, const struct vhd_header *h, uint64_t vsize, const uint32_t *bat,
                 uint64_t footer_pos, bool diff, struct layout_guess *g, vk_error *err);

/* An allocated entry whose block starts before the footer: the blocks the guess looks at (and a relayout moves). */
static inline bool layout_entry_used(uint32_t entry, uint64_t footer_pos)
{
    return entry != VHD_BAT_UNUSED && (uint64_t)entry * VHD_SECTOR < footer_pos;
}

/* Reads the BAT of `h` from `file` into a new array (free it). Refuses counts past 2^24 entries (a 64 MiB BAT:
 * more than any real image's) so a hostile header cannot make a huge allocation. */
int layout_read_bat(vk_dev *file, const char *path, const struct vhd_header *h, uint32_t **out, vk_error *err);

#endif
