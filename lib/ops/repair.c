/* SPDX-License-Identifier: GPL-2.0-or-later */
/* repair: fixes what check reports and can be fixed without guessing (spec "Hard Disk Footer Format", "Dynamic
 * Disk Header Format", "Block Allocation Table"): footer from its copy and back, checksums once the fields validate,
 * BAT entries past the end, past the disk or sharing space (copied apart), stray locators, and a missing parent found
 * by its UUID in the search folders, and blocks laid out for another bitmap or block size (layout_guess.c): a wrong
 * block size field is set back, blocks with wrong-sized bitmaps are laid out again in a new file renamed into place.
 * Writes go new data first, then the BAT, then header and footers. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checked.h"
#include "core/sort.h"
#include "ops/chain_ops.h"
#include "ops/layout_guess.h"
#include "vhd/format.h"

struct fix {
    vk_dev *file;
    const char *path;
    bool dry;
    struct vk_chain_result *res;
    struct vhd_footer f;
    bool footer_dirty, copy_dirty;
    uint64_t footer_pos;           /* where the trailing footer goes */
    struct vhd_header h;
    bool header_dirty;
    uint32_t *bat;
    bool bat_dirty;
    bool relayout;                 /* blocks need another layout (lg says which) */
    struct layout_guess lg;
};

__attribute__((format(printf, 2, 3))) static void did(struct fix *x, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    chain_note(x->res, "%s", buf);
    x->res->nfixed++;
}

static int read_footers(struct fix *x, vk_error *err)
{
    uint64_t size = x->file->size;
    uint8_t tail[VHD_FOOTER_LEN], head[VHD_FOOTER_LEN];
    if (size < VHD_FOOTER_LEN)
        return vk_fail(err, VK_E_TRUNCATED, x->path, 0, "too small to be a VHD: nothing to repair from");
    int rc;
    if ((rc = vk_dev_read(x->file, tail, sizeof tail, size - VHD_FOOTER_LEN, err)) ||
        (rc = vk_dev_read(x->file, head, sizeof head, 0, err)))
        return rc;
    struct vhd_footer cf;
    bool tsum = false, hsum = false;
    bool tok = !vhd_footer_decode(tail, &x->f, &tsum), hok = !vhd_footer_decode(head, &cf, &hsum);
    x->footer_pos = size - VHD_FOOTER_LEN;
    if (!tok && !hok)
        return vk_fail(err, VK_E_CORRUPT, x->path, size - VHD_FOOTER_LEN, "no footer and no footer copy: not a VHD "
                       "vhdkit can repair");
    if (!tok) {
        if (cf.disk_type == VHD_TYPE_FIXED)
            return vk_fail(err, VK_E_CORRUPT, x->path, 0, "a fixed disk has no footer copy to repair from");
        x->f = cf;
        tsum = hsum;
        x->footer_dirty = true;
        did(x, "trailing footer restored from the copy at offset 0");
    }
    vk_error e;
    if (vhd_footer_validate(&x->f, size, x->footer_pos, x->path, &e))
        return vk_fail(err, VK_E_CORRUPT, x->path, e.has_offset ? e.offset : VK_NO_OFFSET, "footer fields are wrong "
                       "(%s): not repaired, the right values cannot be known", e.msg);
    if (!tsum) {
        x->footer_dirty = true;
        did(x, "footer checksum recomputed");
    }
    if (!(x->f.features & VHD_FEATURE_RESERVED)) {
        x->f.features |= VHD_FEATURE_RESERVED;
        x->footer_dirty = true;
        did(x, "footer reserved feature bit 0x2 set");
    }
    if (x->f.disk_type != VHD_TYPE_FIXED && tok && (!hok || memcmp(head, tail, VHD_FOOTER_LEN))) {
        x->copy_dirty = true;
        did(x, "footer copy at offset 0 rewritten from the trailing footer");
    }
    return 0;
}

/* Blocks packed for another block size get the header field back; blocks with bitmaps of the wrong size are marked
 * for a relayout; what cannot be told is left and said. */
static int fix_layout(struct fix *x, uint64_t hoff, uint64_t vsize, vk_error *err)
{
    uint32_t *bat;
    if (layout_read_bat(x->file, x->path, &x->h, &bat, NULL))
        return 0; /* a BAT outside the file: the header validation says so */
    struct layout_guess *g = &x->lg;
    int rc;
    /* Twice at most: blocks with wrong-sized bitmaps may also have had the block size field changed. */
    for (int round = 0; round < 2; round++) {
        if ((rc = layout_guess(x->file, x->path, &x->h, vsize, bat, x->footer_pos, x->f.disk_type == VHD_TYPE_DIFF, g,
                               err)) || g->kind != LAYOUT_BLOCK_SIZE)
            break;
        did(x, "block size field (offset %" PRIu64 ") set from %" PRIu32 " back to %" PRIu32 ", the size the %" PRIu32
            " blocks are laid out with", hoff + VHD_HEADER_OFF_BLOCK_SIZE, x->h.block_size, g->block_size, g->nblocks);
        x->h.block_size = g->block_size;
        x->header_dirty = true;
    }
    free(bat);
    if (rc)
        return rc;
    if (g->kind == LAYOUT_BITMAP) {
        did(x, "%" PRIu32 " blocks laid out with %" PRIu32 "-byte sector bitmaps rewritten with %" PRIu32 "-byte ones "
            "(a new file renamed into place)", g->nblocks, g->bitmap_bytes, g->want_bitmap);
        x->relayout = true;
    } else if (g->kind == LAYOUT_UNSURE) {
        chain_note(x->res, "blocks from offset 0x%" PRIx64 " laid out with %" PRIu32 "-byte bitmaps: not repaired, %s",
                   g->first, g->bitmap_bytes, g->why);
        x->res->nleft++;
    }
    return 0;
}

static int read_header(struct fix *x, vk_error *err)
{
    uint8_t raw[VHD_HEADER_LEN];
    uint64_t hoff = x->f.data_offset;
    int rc = vk_dev_read(x->file, raw, sizeof raw, hoff, err);
    if (rc)
        return rc;
    bool sum;
    if (vhd_header_decode(raw, &x->h, &sum))
        return vk_fail(err, VK_E_CORRUPT, x->path, hoff, "dynamic header cookie is damaged: not repaired");
    bool diff = x->f.disk_type == VHD_TYPE_DIFF;
    for (int i = 0; i < VHD_LOCATOR_COUNT; i++) {
        struct vhd_locator *l = &x->h.locators[i];
        char name[5], path[4096];
        if (l->code == VHD_PLAT_NONE)
            continue;
        vhd_platform_name(l->code, name);
        bool bad = !diff || !ck_range_inside(l->data_offset, l->data_length, x->footer_pos) || l->data_length > 65536;
        if (!bad && (l->code == VHD_PLAT_W2KU || l->code == VHD_PLAT_W2RU || l->code == VHD_PLAT_MACX)) {
            uint8_t *data = malloc(l->data_length ? l->data_length : 1);
            bad = !data || vk_dev_read(x->file, data, l->data_length, l->data_offset, NULL) ||
                  vhd_locator_path_decode(l->code, data, l->data_length, path, sizeof path) < 0;
            free(data);
        }
        if (bad) {
            *l = (struct vhd_locator){0};
            x->header_dirty = true;
            did(x, "parent locator %d (%s) %s: cleared", i, name, diff ? "points outside the file or cannot be decoded"
                : "in a disk without a parent");
        }
    }
    vk_error e;
    uint64_t vsize = vhd_virtual_size(&x->f);
    int bad = vhd_header_validate(&x->h, vsize, x->file->size, hoff, x->path, &e);
    if (!bad || e.offset == hoff + VHD_HEADER_OFF_BLOCK_SIZE || e.offset == hoff + VHD_HEADER_OFF_MAX_TABLE_ENTRIES) {
        if ((rc = fix_layout(x, hoff, vsize, err)))
            return rc;
        bad = vhd_header_validate(&x->h, vsize, x->file->size, hoff, x->path, &e);
    }
    if (bad)
        return vk_fail(err, VK_E_CORRUPT, x->path, e.has_offset ? e.offset : VK_NO_OFFSET, "dynamic header fields are "
                       "wrong (%s): not repaired, the right values cannot be known", e.msg);
    if (!sum && !x->header_dirty) {
        x->header_dirty = true;
        did(x, "dynamic header checksum recomputed");
    }
    return 0;
}

struct row {
    uint64_t off;
    uint32_t i;
};

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off ? 1 : x->i < y->i ? -1 : x->i > y->i;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }

/* Copies the block of entry i (what the file holds of it; the rest reads zero) to the end and points i there. */
static int copy_apart(struct fix *x, uint32_t i, uint64_t span, vk_error *err)
{
    uint64_t from = (uint64_t)x->bat[i] * VHD_SECTOR, to = x->footer_pos;
    if (to / VHD_SECTOR >= VHD_BAT_UNUSED)
        return vk_fail(err, VK_E_NOSPACE, x->path, to, "the image file cannot grow further");
    x->footer_pos += span;
    x->bat[i] = (uint32_t)(to / VHD_SECTOR);
    x->bat_dirty = true;
    if (x->dry)
        return 0;
    uint8_t *buf = calloc(1, span);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, x->path, VK_NO_OFFSET, NULL);
    uint64_t have = from < x->file->size ? x->file->size - from : 0;
    int rc = vk_dev_read(x->file, buf, (size_t)(have < span ? have : span), from, err);
    if (!rc)
        rc = vk_dev_write(x->file, buf, span, to, err);
    free(buf);
    return rc;
}

static int fix_bat(struct fix *x, vk_error *err)
{
    uint32_t n = x->h.max_table_entries;
    uint64_t bat_len = vhd_bat_bytes(n);
    uint8_t *raw = malloc(bat_len);
    x->bat = malloc((size_t)n * 4 + 4);
    struct row *rows = malloc((size_t)n * sizeof *rows + sizeof *rows);
    int rc = !raw || !x->bat || !rows ? vk_fail(err, VK_E_NOMEM, x->path, VK_NO_OFFSET, NULL) : 0;
    if (!rc)
        rc = vk_dev_read(x->file, raw, bat_len, x->h.table_offset, err);
    if (!rc)
        vhd_bat_decode(raw, n, x->bat);
    free(raw);
    uint64_t span = (uint64_t)vhd_bitmap_bytes(x->h.block_size) + x->h.block_size;
    uint64_t vsize = vhd_virtual_size(&x->f), needed = vsize / x->h.block_size + (vsize % x->h.block_size != 0);
    uint64_t hoff = x->f.data_offset;
    size_t nrows = 0;
    /* Pass 1: entries past the disk or wholly past the data are dropped; a block cut by the end makes the file grow
     * so what it holds stays reachable. */
    for (uint32_t i = 0; !rc && i < n; i++) {
        if (x->bat[i] == VHD_BAT_UNUSED)
            continue;
        uint64_t off = (uint64_t)x->bat[i] * VHD_SECTOR;
        if (i >= needed || off >= x->footer_pos) {
            did(x, "BAT entry %" PRIu32 " %s: unallocated", i, i >= needed ? "lies past the end of the disk"
                : "points past the end of the file");
            x->bat[i] = VHD_BAT_UNUSED;
            x->bat_dirty = true;
            continue;
        }
        rows[nrows++] = (struct row){off, i};
    }
    uint64_t data_end = x->footer_pos;
    for (size_t k = 0; k < nrows; k++)
        if (rows[k].off + span > data_end)
            data_end = rows[k].off + span;
    if (data_end > x->footer_pos) {
        did(x, "blocks run past the footer: the file grows by %" PRIu64 " bytes to hold them",
            data_end - x->footer_pos);
        x->footer_pos = data_end;
        x->footer_dirty = x->copy_dirty = true;
    }
    /* Pass 2: blocks over the metadata or over each other are copied apart (both entries keep reading the same). */
    vk_sort(rows, nrows, sizeof *rows, cmp_row);
    uint64_t prev_end = 0;
    for (size_t k = 0; !rc && k < nrows; k++) {
        uint64_t off = rows[k].off;
        bool meta = overlaps(off, span, 0, VHD_FOOTER_LEN) || overlaps(off, span, hoff, VHD_HEADER_LEN) ||
                    overlaps(off, span, x->h.table_offset, vhd_bat_bytes(n));
        for (int l = 0; l < VHD_LOCATOR_COUNT && !meta; l++)
            meta = x->h.locators[l].code != VHD_PLAT_NONE &&
                   overlaps(off, span, x->h.locators[l].data_offset, vhd_locator_space_bytes(&x->h.locators[l]));
        if (meta || off < prev_end) {
            did(x, "BAT entry %" PRIu32 " shares its space with %s: block copied to the end of the file", rows[k].i,
                meta ? "the metadata" : "another block");
            rc = copy_apart(x, rows[k].i, span, err);
            continue;
        }
        prev_end = off + span;
    }
    if (x->bat_dirty)
        x->footer_dirty = true; /* copies and growth end where the footer goes */
    free(rows);
    return rc;
}

static int write_back(struct fix *x, vk_error *err)
{
    uint8_t raw[VHD_HEADER_LEN > VHD_FOOTER_LEN ? VHD_HEADER_LEN : VHD_FOOTER_LEN];
    int rc = 0;
    bool sparse = x->f.disk_type != VHD_TYPE_FIXED;
    if (x->footer_dirty || x->copy_dirty) {
        vhd_footer_encode(&x->f, raw);
        rc = vk_dev_write(x->file, raw, VHD_FOOTER_LEN, x->footer_pos, err);
        if (!rc && x->file->size > x->footer_pos + VHD_FOOTER_LEN) /* blocks dropped past it: cut the stale tail */
            rc = vk_dev_set_size(x->file, x->footer_pos + VHD_FOOTER_LEN, err);
        if (!rc)
            rc = vk_dev_flush(x->file, err);
    }
    if (!rc && x->bat_dirty) {
        uint64_t len = vhd_bat_bytes(x->h.max_table_entries);
        uint8_t *b = malloc(len);
        if (!b)
            return vk_fail(err, VK_E_NOMEM, x->path, VK_NO_OFFSET, NULL);
        memset(b, 0xFF, len);
        vhd_bat_encode(x->bat, x->h.max_table_entries, b);
        rc = vk_dev_write(x->file, b, len, x->h.table_offset, err);
        free(b);
        if (!rc)
            rc = vk_dev_flush(x->file, err);
    }
    if (!rc && x->header_dirty) {
        vhd_header_encode(&x->h, raw);
        rc = vk_dev_write(x->file, raw, VHD_HEADER_LEN, x->f.data_offset, err);
        if (!rc)
            rc = vk_dev_flush(x->file, err);
    }
    if (!rc && sparse && (x->footer_dirty || x->copy_dirty)) {
        vhd_footer_encode(&x->f, raw);
        rc = vk_dev_write(x->file, raw, VHD_FOOTER_LEN, 0, err);
        if (!rc)
            rc = vk_dev_flush(x->file, err);
    }
    return rc;
}

/* Copies `len` bytes from `in` at `from` to `out` at `to` through `buf` (`cap` bytes). */
static int copy_bytes(vk_dev *in, uint64_t from, vk_dev *out, uint64_t to, uint64_t len, uint8_t *buf, size_t cap,
                      vk_error *err)
{
    int rc = 0;
    for (uint64_t done = 0; !rc && done < len;) {
        size_t n = len - done < cap ? (size_t)(len - done) : cap;
        rc = vk_dev_read(in, buf, n, from + done, err);
        if (!rc)
            rc = vk_dev_write(out, buf, n, to + done, err);
        done += n;
    }
    return rc;
}

static int cmp_pair(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes the image with every block laid out as the format wants into `out`: the metadata before the first block as
 * it is (then header, BAT and footers re-encoded), each block at first + k * (bitmap + block) in offset order. */
static int write_relayout(struct fix *x, vk_dev *out, vk_error *err)
{
    const struct layout_guess *g = &x->lg;
    uint32_t want = g->want_bitmap, have = g->bitmap_bytes, bs = g->block_size, n = x->h.max_table_entries;
    uint64_t span = (uint64_t)want + bs;
    enum { CAP = 1 << 20 };
    uint64_t *pairs = malloc((size_t)g->nblocks * sizeof *pairs);
    uint8_t *buf = malloc(CAP), *bm = calloc(1, want > have ? want : have);
    uint8_t *raw = malloc(vhd_bat_bytes(n));
    int rc = !pairs || !buf || !bm || !raw ? vk_fail(err, VK_E_NOMEM, x->path, VK_NO_OFFSET, NULL) : 0;
    if (!rc)
        rc = layout_read_bat(x->file, x->path, &x->h, &x->bat, err);
    uint32_t np = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
        if (x->bat[i] != VHD_BAT_UNUSED && !layout_entry_used(x->bat[i], x->footer_pos)) {
            did(x, "BAT entry %" PRIu32 " points past the end of the file: unallocated", i);
            x->bat[i] = VHD_BAT_UNUSED;
        }
        if (x->bat[i] != VHD_BAT_UNUSED && np < g->nblocks)
            pairs[np++] = ((uint64_t)x->bat[i] << 32) | i;
    }
    if (!rc && np != g->nblocks)
        rc = vk_fail(err, VK_E_CORRUPT, x->path, x->h.table_offset, "the BAT changed while being repaired");
    if (!rc) {
        vk_sort(pairs, np, sizeof *pairs, cmp_pair);
        uint64_t end = g->first + np * span;
        if (end / VHD_SECTOR >= VHD_BAT_UNUSED)
            rc = vk_fail(err, VK_E_NOSPACE, x->path, g->first, "the blocks laid out again would not fit 2^32 sectors");
        else
            rc = copy_bytes(x->file, 0, out, 0, g->first, buf, CAP, err);
    }
    for (uint32_t k = 0; !rc && k < np; k++) {
        uint64_t from = (pairs[k] >> 32) * VHD_SECTOR, to = g->first + k * span;
        memset(bm, 0, want > have ? want : have);
        if (have >= want) { /* wider: the sector bits are at its start or its end, the rest was padding */
            rc = vk_dev_read(x->file, bm, want, from + (g->bits_at_end ? have - want : 0), err);
        } else { /* narrower (dynamic disks only): sectors it does not cover hold what the tool stored */
            rc = vk_dev_read(x->file, bm, have, from, err);
            for (uint32_t s = have * 8; s < bs / VHD_SECTOR; s++)
                vhd_bitmap_set(bm, s);
        }
        if (!rc)
            rc = vk_dev_write(out, bm, want, to, err);
        if (!rc)
            rc = copy_bytes(x->file, from + have, out, to + want, bs, buf, CAP, err);
        x->bat[(uint32_t)pairs[k]] = (uint32_t)(to / VHD_SECTOR);
    }
    if (!rc) {
        memset(raw, 0xFF, vhd_bat_bytes(n));
        vhd_bat_encode(x->bat, n, raw);
        rc = vk_dev_write(out, raw, vhd_bat_bytes(n), x->h.table_offset, err);
    }
    uint8_t hf[VHD_HEADER_LEN];
    if (!rc) {
        vhd_header_encode(&x->h, hf);
        rc = vk_dev_write(out, hf, VHD_HEADER_LEN, x->f.data_offset, err);
    }
    if (!rc) {
        vhd_footer_encode(&x->f, hf);
        rc = vk_dev_write(out, hf, VHD_FOOTER_LEN, 0, err);
    }
    if (!rc)
        rc = vk_dev_write(out, hf, VHD_FOOTER_LEN, g->first + np * span, err);
    free(pairs);
    free(buf);
    free(bm);
    free(raw);
    return rc;
}

/* Wrong-sized bitmaps cannot be fixed in place without a moment where a block has no intact copy, so the image is
 * written again beside itself (IMAGE.vhdkit-repair), fsynced and renamed over it: a crash leaves the old file. */
static int relayout(struct fix *x, vk_error *err)
{
    const struct layout_guess *g = &x->lg;
    if (x->f.data_offset + VHD_HEADER_LEN > g->first ||
        x->h.table_offset + vhd_bat_bytes(x->h.max_table_entries) > g->first)
        return vk_fail(err, VK_E_CORRUPT, x->path, g->first, "the header or the BAT lies among the blocks: the blocks "
                       "are not laid out again");
    for (int l = 0; l < VHD_LOCATOR_COUNT; l++)
        if (x->h.locators[l].code != VHD_PLAT_NONE &&
            x->h.locators[l].data_offset + vhd_locator_space_bytes(&x->h.locators[l]) > g->first)
            return vk_fail(err, VK_E_CORRUPT, x->path, g->first, "parent locator %d data lies among the blocks: the "
                           "blocks are not laid out again", l);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.vhdkit-repair", x->path);
    if (unlink(tmp) < 0 && errno != ENOENT) /* left by an interrupted repair */
        return vk_fail_errno(err, VK_E_IO, errno, tmp, VK_NO_OFFSET, "cannot remove the leftover");
    vk_dev *out;
    int rc = vk_dev_open_file(tmp, VK_FILE_CREATE, &out, err);
    if (rc)
        return rc;
    struct stat st;
    if (fstat(vk_dev_file_fd(x->file), &st) == 0 && fchmod(vk_dev_file_fd(out), st.st_mode & 07777) < 0)
        rc = vk_fail_errno(err, VK_E_IO, errno, tmp, VK_NO_OFFSET, "cannot copy the permissions");
    if (!rc)
        rc = write_relayout(x, out, err);
    if (!rc)
        rc = vk_dev_flush(out, err);
    vk_dev_close(out);
    if (!rc && rename(tmp, x->path) < 0)
        rc = vk_fail_errno(err, VK_E_IO, errno, x->path, VK_NO_OFFSET, "cannot rename %s into place", tmp);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return vk_sync_parent_dir(x->path, err);
}

/* The chain doctor: a parent that does not open is looked for by its UUID in the search folders. */
static int fix_chain(const char *image, const char *const *dirs, bool dry, struct vk_chain_result *res, vk_error *err)
{
    struct vk_vhd_open_opts oo = {.search_dirs = dirs};
    vk_vhd *v;
    vk_error e;
    if (!vk_vhd_open(image, &oo, &v, &e)) {
        vk_vhd_close(v);
        return 0;
    }
    if (e.code != VK_E_CHAIN)
        return 0;
    oo.flags = VK_VHD_NO_PARENT;
    struct vk_vhd_info info;
    if (vk_vhd_open(image, &oo, &v, err))
        return 0;
    vk_vhd_get_info(v, &info);
    vk_vhd_close(v);
    char found[4096];
    if (!chain_find_by_uuid(dirs, info.parent_uuid, found)) {
        chain_note(res, "parent not found (%s): give the folder holding it with --search", e.msg);
        res->nleft++;
        return 0;
    }
    res->nfixed++;
    chain_note(res, "parent with the recorded UUID found: %s", found);
    if (dry)
        return 0;
    struct vk_chain_result r = {0};
    return vk_reparent(image, found, 0, &r, err);
}

/* One pass over the file; a relayout writes a new file, so the pass after it looks at that one. */
static int repair_pass(const char *image, const char *const *search_dirs, unsigned flags, struct vk_chain_result *res,
                       int pass, vk_error *err)
{
    struct fix x = {.path = image, .dry = flags & VK_CHAIN_DRY_RUN, .res = res};
    int rc = vk_dev_open_file(image, x.dry ? 0 : VK_FILE_RDWR, &x.file, err);
    if (rc)
        return rc;
    rc = read_footers(&x, err);
    if (!rc && x.f.saved_state && !x.dry)
        rc = vk_fail(err, VK_E_REFUSED, image, VK_NO_OFFSET, "the image has a saved state: resume and shut down its "
                     "virtual machine first");
    if (!rc && x.f.disk_type != VHD_TYPE_FIXED) {
        rc = read_header(&x, err);
        if (!rc && x.relayout && pass > 0) /* the pass after a relayout must not see the same layout again */
            rc = vk_fail(err, VK_E_CORRUPT, image, x.lg.first, "blocks still laid out for %" PRIu32 "-byte bitmaps "
                         "after being laid out again", x.lg.bitmap_bytes);
        else if (!rc && x.relayout && !x.dry)
            rc = relayout(&x, err);
        else if (!rc && !x.relayout && x.lg.kind != LAYOUT_UNSURE) /* no BAT fix over a layout it misreads */
            rc = fix_bat(&x, err);
    }
    if (!rc && !x.dry && !x.relayout)
        rc = write_back(&x, err);
    free(x.bat);
    vk_dev_close(x.file);
    if (!rc && x.relayout && !x.dry && pass == 0)
        return repair_pass(image, search_dirs, flags, res, pass + 1, err);
    if (!rc && x.f.disk_type == VHD_TYPE_DIFF)
        rc = fix_chain(image, search_dirs, x.dry, res, err);
    return rc;
}

int vk_repair(const char *image, const char *const *search_dirs, unsigned flags, struct vk_chain_result *res,
              vk_error *err)
{
    double t0 = chain_now();
    snprintf(res->target, sizeof res->target, "%s", image);
    int rc = repair_pass(image, search_dirs, flags, res, 0, err);
    res->seconds = chain_now() - t0;
    return rc;
}
