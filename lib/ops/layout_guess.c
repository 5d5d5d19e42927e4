/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Blocks laid out for the wrong sector-bitmap size (VHD-NOTES.md 8: a block is its bitmap, ceil(sectors/8) bytes
 * rounded up to 512, then the data; nothing in the file records the bitmap size, every reader derives it from the
 * header's block size). Two kinds of damage break that link:
 *  - a tool wrote bitmaps of another size (e.g. 4096 bytes for 2 MiB blocks, to page-align the data): the BAT
 *    entries point at the bitmaps, but every reader looks for the data too early (wider) or too late (narrower);
 *  - the header's block size was changed without moving the blocks: the blocks are those of another block size.
 * What the format lets us see: blocks are appended one after the other, each where the previous ended and the
 * trailing footer right after the last (Hyper-V, Virtual PC, qemu, vhdkit). So when the allocated blocks are packed
 * exactly, every one `stride` bytes after the previous and the footer `stride` bytes after the last, the stride is
 * what each block really occupies; when that is not block size + its bitmap, either another block size explains it
 * (and max table entries agrees with that size: the header field alone is wrong) or a bitmap of another size does.
 * A single block proves less (any gap before the footer looks the same), so a wider bitmap also has to show where
 * its sector bits are: the rest of it must be padding (all 0x00 or all 0xFF).
 * What we deliberately do not flag: blktap (vhd-util) pads BEFORE each bitmap so the data is page aligned, giving
 * a 2 MiB + 4096 stride with standard 512-byte bitmaps; its last block still ends one standard block before the
 * footer, so the "packed up to the footer" test does not match it (libvhd.c __vhd_io_allocate_block). vhd-util
 * check and libvhdi both derive the bitmap from the block size and only see such damage as blocks clobbering each
 * other or the footer (vhd-util-check.c vhd_util_check_bat, libvhdi_block_allocation_table.c). */
#include "ops/layout_guess.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/sort.h"

#define MAX_GUESS_ENTRIES (1u << 24)
#define MAX_BITMAP_GUESS 65536u /* the bitmap of a 256 MiB block; wider "bitmaps" are not bitmaps */

int layout_read_bat(vk_dev *file, const char *path, const struct vhd_header *h, uint32_t **out, vk_error *err)
{
    uint32_t n = h->max_table_entries;
    uint64_t len = vhd_bat_bytes(n);
    *out = NULL;
    if (n > MAX_GUESS_ENTRIES || !ck_range_inside(h->table_offset, len, file->size))
        return vk_fail(err, VK_E_CORRUPT, path, h->table_offset, "BAT of %" PRIu32 " entries at offset %" PRIu64
                       " does not fit the file", n, h->table_offset);
    uint8_t *raw = malloc(len ? len : 1);
    uint32_t *bat = malloc(n ? (size_t)n * sizeof *bat : 1);
    int rc = !raw || !bat ? vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL) : 0;
    if (!rc)
        rc = vk_dev_read(file, raw, len, h->table_offset, err);
    if (!rc)
        vhd_bat_decode(raw, n, bat);
    free(raw);
    if (rc)
        free(bat);
    else
        *out = bat;
    return rc;
}

static uint64_t blocks_for(uint64_t vsize, uint32_t bs) { return vsize / bs + (vsize % bs != 0); }

static bool uniform(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != p[0])
            return false;
    return !len || p[0] == 0 || p[0] == 0xFF;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted block offsets; 0 entries when none is allocated. */
static int sorted_offsets(const uint32_t *bat, uint32_t n, uint64_t **out, uint32_t *count, const char *path,
                          vk_error *err)
{
    uint32_t used = 0;
    for (uint32_t i = 0; i < n; i++)
        used += bat[i] != VHD_BAT_UNUSED;
    *count = used;
    *out = malloc(used ? (size_t)used * sizeof **out : 1);
    if (!*out)
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    used = 0;
    for (uint32_t i = 0; i < n; i++)
        if (bat[i] != VHD_BAT_UNUSED)
            (*out)[used++] = (uint64_t)bat[i] * VHD_SECTOR;
    vk_sort(*out, used, sizeof **out, cmp_u64);
    return 0;
}

/* Another block size whose standard block is exactly `stride` bytes, agreeing with max table entries and with the
 * entries in use. */
static bool other_block_size(const struct vhd_header *h, uint64_t vsize, const uint32_t *bat, uint32_t nblocks,
                             uint64_t stride, uint32_t *out)
{
    for (uint64_t bs = VHD_SECTOR; bs <= VHD_MAX_BLOCK_SIZE; bs *= 2) {
        if (bs == h->block_size || bs + vhd_bitmap_bytes((uint32_t)bs) != stride)
            continue;
        uint64_t need = blocks_for(vsize, (uint32_t)bs), limit = blocks_for(VHD_MAX_SIZE, (uint32_t)bs);
        if (h->max_table_entries < need || h->max_table_entries > limit)
            return false;
        /* One block proves little: then max table entries must be exactly that block size's count. */
        bool header_ok = is_pow2_u64(h->block_size) && h->block_size >= VHD_SECTOR &&
                         h->block_size <= VHD_MAX_BLOCK_SIZE && h->max_table_entries >= blocks_for(vsize, h->block_size);
        if (nblocks == 1 && (h->max_table_entries != need ||
                             (header_ok && h->max_table_entries == blocks_for(vsize, h->block_size))))
            return false;
        for (uint32_t i = (uint32_t)need; i < h->max_table_entries; i++)
            if (bat[i] != VHD_BAT_UNUSED)
                return false;
        *out = (uint32_t)bs;
        return true;
    }
    return false;
}

/* A wider bitmap: where its sector bits are, by the padding around them in every block. */
static int wide_bits_place(vk_dev *file, const uint64_t *offs, uint32_t n, uint32_t x, uint32_t want, bool *at_end,
                           bool *sure, vk_error *err)
{
    uint8_t *buf = malloc(x);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, file->name, VK_NO_OFFSET, NULL);
    bool all_start = true, all_end = true;
    int rc = 0;
    for (uint32_t k = 0; k < n && (all_start || all_end); k++) {
        if ((rc = vk_dev_read(file, buf, x, offs[k], err)))
            break;
        all_start &= uniform(buf + want, x - want);
        all_end &= uniform(buf, x - want);
    }
    free(buf);
    *sure = all_start || all_end;
    *at_end = !all_start && all_end;
    return rc;
}

int layout_guess(vk_dev *file, const char *path, const struct vhd_header *h, uint64_t vsize, const uint32_t *bat,
                 uint64_t footer_pos, bool diff, struct layout_guess *g, vk_error *err)
{
    memset(g, 0, sizeof *g);
    uint64_t *offs;
    uint32_t n;
    int rc = sorted_offsets(bat, h->max_table_entries, &offs, &n, path, err);
    if (rc)
        return rc;
    /* Blocks among the metadata are another kind of damage (check and repair handle them one by one). */
    if (!n || offs[0] < h->table_offset + vhd_bat_bytes(h->max_table_entries) || offs[0] >= footer_pos ||
        (footer_pos - offs[0]) % n)
        goto out;
    uint64_t stride = (footer_pos - offs[0]) / n;
    for (uint32_t k = 1; k < n; k++)
        if (offs[k] - offs[k - 1] != stride)
            goto out; /* not packed: nothing to learn from the spacing */
    g->first = offs[0];
    g->stride = stride;
    g->nblocks = n;
    bool bs_ok = is_pow2_u64(h->block_size) && h->block_size >= VHD_SECTOR && h->block_size <= VHD_MAX_BLOCK_SIZE &&
                 h->max_table_entries >= blocks_for(vsize, h->block_size);
    if (bs_ok && stride == (uint64_t)h->block_size + vhd_bitmap_bytes(h->block_size))
        goto out; /* the header's own layout */
    uint32_t bs;
    if (other_block_size(h, vsize, bat, n, stride, &bs)) {
        g->kind = LAYOUT_BLOCK_SIZE;
        g->block_size = bs;
        g->bitmap_bytes = g->want_bitmap = vhd_bitmap_bytes(bs);
        goto out;
    }
    if (!bs_ok || stride <= h->block_size || (stride - h->block_size) % VHD_SECTOR ||
        stride - h->block_size > MAX_BITMAP_GUESS)
        goto out;
    g->block_size = h->block_size;
    g->bitmap_bytes = (uint32_t)(stride - h->block_size);
    g->want_bitmap = vhd_bitmap_bytes(h->block_size);
    if (g->bitmap_bytes < g->want_bitmap) {
        /* A narrower bitmap covers only the first sectors. Dynamic: the others are marked written (their bytes are
         * what the tool stored; unwritten ones hold the zeros it allocated). Differencing: whether they come from
         * the parent cannot be known. One block could as well be a cut file. */
        if (n < 2)
            goto out;
        g->kind = diff ? LAYOUT_UNSURE : LAYOUT_BITMAP;
        if (diff)
            snprintf(g->why, sizeof g->why, "the bitmaps cover only the first %" PRIu32 " sectors of each block: "
                     "for the others it cannot be known whether they come from the parent", g->bitmap_bytes * 8);
        goto out;
    }
    bool sure, at_end;
    if ((rc = wide_bits_place(file, offs, n, g->bitmap_bytes, g->want_bitmap, &at_end, &sure, err)))
        goto out;
    if (!sure && n < 2)
        goto out; /* one block and no padding: rather a gap before the footer */
    g->kind = sure ? LAYOUT_BITMAP : LAYOUT_UNSURE;
    g->bits_at_end = at_end;
    if (!sure)
        snprintf(g->why, sizeof g->why, "neither the start nor the end of each %" PRIu32 "-byte bitmap is padding: "
                 "where its sector bits are cannot be told", g->bitmap_bytes);
out:
    free(offs);
    return rc;
}
