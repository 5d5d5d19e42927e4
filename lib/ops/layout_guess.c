/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Blocks laid out for the wrong sector-bitmap size (VHD-NOTES.md 8: a block is its bitmap, ceil(sectors/8) bytes
 * rounded up to 512, then the data; nothing in the file records the bitmap size, every reader derives it from the
 * header's block size: vhd-util's libvhd (bm_secs), libvhdi (sector_bitmap_size), qemu, Hyper-V). Two kinds of
 * damage break that link:
 *  - the header's block size was changed without moving the blocks: read with it, blocks overlap each other or
 *    the footer, or max table entries no longer covers the disk. When the blocks fit another block size instead
 *    (standard blocks, at most 4 KiB of alignment slack between them and before the footer), and max table entries
 *    and the entries in use agree with that size, the field alone is wrong: repair sets it back.
 *  - a tool wrote bitmaps of another size (e.g. 4096 bytes for 2 MiB blocks): the BAT entries point at the bitmaps
 *    but readers look for the data too early or too late. Such a tool appends block after block, so the blocks are
 *    packed exactly: each `stride` bytes after the previous, the footer `stride` after the last, stride = block size
 *    + the bitmap it wrote. A narrower bitmap makes the header's layout overlap (at least two blocks are asked for:
 *    one block cut by the end of the file looks the same). A wider one does not break the header's layout, and
 *    the spacing alone proves nothing: Hyper-V leaves its blocks 2 MiB + 4096 apart with the footer as far after
 *    the last (the data 4 KiB aligned, zeros after it; the Windows 10 child in ../shared/corpus/vhd is laid out so)
 *    and blktap pads before each bitmap (libvhd.c __vhd_io_allocate_block). So a wider bitmap is taken only when
 *    something is stored in that slack (the last sectors of some block's data, as the wider layout reads it) and the
 *    rest of every wider bitmap is padding (all 0x00 or 0xFF, before or after the bits). When the last sectors of
 *    every block are zero the damage cannot be told from Hyper-V's layout and is not reported.
 * vhd-util check and libvhdi have no such notion: they see only blocks clobbering each other or the footer
 * (vhd-util-check.c vhd_util_check_bat) or read the data from the wrong place. */
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

/* Sorted offsets of the blocks that start before the footer (entries past it hold nothing and are dropped by the
 * BAT rules); 0 entries when none. */
static int sorted_offsets(const uint32_t *bat, uint32_t n, uint64_t footer_pos, uint64_t **out, uint32_t *count,
                          const char *path, vk_error *err)
{
    uint32_t used = 0;
    for (uint32_t i = 0; i < n; i++)
        used += layout_entry_used(bat[i], footer_pos);
    *count = used;
    *out = malloc(used ? (size_t)used * sizeof **out : 1);
    if (!*out)
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    used = 0;
    for (uint32_t i = 0; i < n; i++)
        if (layout_entry_used(bat[i], footer_pos))
            (*out)[used++] = (uint64_t)bat[i] * VHD_SECTOR;
    vk_sort(*out, used, sizeof **out, cmp_u64);
    return 0;
}

/* Slack a writer may leave between blocks so the data of each starts on a 4 KiB boundary (Hyper-V, blktap). */
#define ALIGN_SLACK 4096u

static bool fits_with_slack(uint64_t d, uint64_t len) { return d >= len && d - len < ALIGN_SLACK; }

/* Another block size whose standard blocks (with alignment slack) are what the file holds, agreeing with max table
 * entries and with the entries in use. Only asked when the header's own block size does not fit. */
static bool other_block_size(const struct vhd_header *h, uint64_t vsize, const uint32_t *bat, const uint64_t *offs,
                             uint32_t n, uint64_t footer_pos, bool header_ok, uint32_t *out)
{
    for (uint64_t bs = VHD_SECTOR; bs <= VHD_MAX_BLOCK_SIZE; bs *= 2) {
        uint64_t len = bs + vhd_bitmap_bytes((uint32_t)bs);
        if (bs == h->block_size || !fits_with_slack(footer_pos - offs[n - 1], len))
            continue;
        bool fits = true;
        for (uint32_t k = 1; k < n && fits; k++)
            fits = fits_with_slack(offs[k] - offs[k - 1], len);
        if (!fits)
            continue;
        uint64_t need = blocks_for(vsize, (uint32_t)bs), limit = blocks_for(VHD_MAX_SIZE, (uint32_t)bs);
        if (h->max_table_entries < need || h->max_table_entries > limit)
            continue;
        /* One block proves little (a cut file looks the same): max table entries must then be exactly that block
         * size's count, and not the header's. */
        if (n == 1 && (h->max_table_entries != need ||
                       (header_ok && h->max_table_entries == blocks_for(vsize, h->block_size))))
            continue;
        bool beyond = false;
        for (uint32_t i = (uint32_t)need; i < h->max_table_entries && !beyond; i++)
            beyond = layout_entry_used(bat[i], footer_pos);
        if (beyond)
            continue;
        *out = (uint32_t)bs;
        return true;
    }
    return false;
}

/* A wider bitmap: where its sector bits are, by the padding around them in every block; and whether anything is
 * stored past the end of each block as the header's layout sees it (its "slack": zeros from every real writer). */
static int wide_evidence(vk_dev *file, const uint64_t *offs, uint32_t n, uint32_t x, uint32_t want, uint32_t bs,
                         bool *at_end, bool *sure, bool *slack_used, vk_error *err)
{
    uint8_t *buf = malloc(x);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, file->name, VK_NO_OFFSET, NULL);
    bool all_start = true, all_end = true;
    *slack_used = false;
    int rc = 0;
    for (uint32_t k = 0; k < n && (all_start || all_end); k++) {
        if ((rc = vk_dev_read(file, buf, x, offs[k], err)))
            break;
        all_start &= uniform(buf + want, x - want);
        all_end &= uniform(buf, x - want);
        if (*slack_used)
            continue;
        if ((rc = vk_dev_read(file, buf, x - want, offs[k] + want + bs, err)))
            break;
        for (uint32_t i = 0; i < x - want && !*slack_used; i++)
            *slack_used = buf[i] != 0;
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
    int rc = sorted_offsets(bat, h->max_table_entries, footer_pos, &offs, &n, path, err);
    if (rc)
        return rc;
    /* Blocks among the metadata or past the footer are other kinds of damage (check and repair take them one by
     * one). */
    if (!n || offs[0] < h->table_offset + vhd_bat_bytes(h->max_table_entries) || offs[n - 1] >= footer_pos)
        goto out;
    /* Locator data among or after the blocks (reparent moves it to the end when a new path does not fit) takes
     * room the spacing would otherwise explain: nothing to learn from it then. */
    for (unsigned l = 0; l < VHD_LOCATOR_COUNT; l++)
        if (h->locators[l].code != VHD_PLAT_NONE &&
            h->locators[l].data_offset + vhd_locator_space_bytes(&h->locators[l]) > offs[0])
            goto out;
    g->first = offs[0];
    g->nblocks = n;
    bool bs_ok = is_pow2_u64(h->block_size) && h->block_size >= VHD_SECTOR && h->block_size <= VHD_MAX_BLOCK_SIZE &&
                 h->max_table_entries >= blocks_for(vsize, h->block_size);
    uint64_t span = bs_ok ? (uint64_t)h->block_size + vhd_bitmap_bytes(h->block_size) : 0;
    /* Does the header's own layout hold: no block over the next one nor over the footer? */
    bool header_fits = bs_ok && footer_pos - offs[n - 1] >= span;
    for (uint32_t k = 1; k < n && header_fits; k++)
        header_fits = offs[k] - offs[k - 1] >= span;
    uint32_t bs;
    if (!header_fits && other_block_size(h, vsize, bat, offs, n, footer_pos, bs_ok, &bs)) {
        g->kind = LAYOUT_BLOCK_SIZE;
        g->block_size = bs;
        g->bitmap_bytes = g->want_bitmap = vhd_bitmap_bytes(bs);
        g->stride = n > 1 ? offs[1] - offs[0] : footer_pos - offs[0];
        goto out;
    }
    /* Bitmaps of another size: only blocks packed exactly, each `stride` after the previous and the footer `stride`
     * after the last (a tool writing such bitmaps appends block after block). */
    if (!bs_ok || (footer_pos - offs[0]) % n)
        goto out;
    uint64_t stride = (footer_pos - offs[0]) / n;
    for (uint32_t k = 1; k < n; k++)
        if (offs[k] - offs[k - 1] != stride)
            goto out;
    g->stride = stride;
    if (stride == span || stride <= h->block_size || (stride - h->block_size) % VHD_SECTOR ||
        stride - h->block_size > MAX_BITMAP_GUESS)
        goto out;
    g->block_size = h->block_size;
    g->bitmap_bytes = (uint32_t)(stride - h->block_size);
    g->want_bitmap = vhd_bitmap_bytes(h->block_size);
    if (g->bitmap_bytes < g->want_bitmap) {
        /* Narrower: the header's layout does not fit (blocks overlap, the last runs past the footer). The bitmap
         * covers only the first sectors. Dynamic: the others are marked written (their bytes are what the tool
         * stored; unwritten ones hold the zeros it allocated). Differencing: whether they come from the parent
         * cannot be known. One block could as well be a cut file. */
        if (n < 2) {
            g->kind = LAYOUT_OK;
            goto out;
        }
        g->kind = diff ? LAYOUT_UNSURE : LAYOUT_BITMAP;
        if (diff)
            snprintf(g->why, sizeof g->why, "the bitmaps cover only the first %" PRIu32 " sectors of each block: "
                     "for the others it cannot be known whether they come from the parent", g->bitmap_bytes * 8);
        goto out;
    }
    /* Wider: Hyper-V leaves each block 4096 bytes apart too (its data 4 KiB aligned, the slack after it zero), and
     * the header's layout fits. Only data stored in that slack says the blocks are longer than the header thinks. */
    bool sure = false, at_end = false, slack_used = false; /* set by wide_evidence; gcc -O2 cannot tell */
    if ((rc = wide_evidence(file, offs, n, g->bitmap_bytes, g->want_bitmap, h->block_size, &at_end, &sure,
                            &slack_used, err)))
        goto out;
    if (!slack_used)
        goto out;
    g->kind = sure ? LAYOUT_BITMAP : LAYOUT_UNSURE;
    g->bits_at_end = at_end;
    if (!sure)
        snprintf(g->why, sizeof g->why, "neither the start nor the end of each %" PRIu32 "-byte bitmap is padding: "
                 "where its sector bits are cannot be told", g->bitmap_bytes);
out:
    if (g->kind == LAYOUT_OK)
        memset(g, 0, sizeof *g);
    free(offs);
    return rc;
}
