/* SPDX-License-Identifier: GPL-2.0-or-later */
/* repair: fixes what check reports and can be fixed without guessing (spec "Hard Disk Footer Format", "Dynamic
 * Disk Header Format", "Block Allocation Table"): footer from its copy and back, checksums once the fields validate,
 * BAT entries past the end, past the disk or sharing space (copied apart), stray locators, and a missing parent found
 * by its UUID in the search folders. Writes go new data first, then the BAT, then header and footers. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "ops/chain_ops.h"
#include "vhd/format.h"
#include "core/sort.h"

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
    if (vhd_header_validate(&x->h, vhd_virtual_size(&x->f), x->file->size, hoff, x->path, &e))
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

int vk_repair(const char *image, const char *const *search_dirs, unsigned flags, struct vk_chain_result *res,
              vk_error *err)
{
    double t0 = chain_now();
    snprintf(res->target, sizeof res->target, "%s", image);
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
        if (!rc)
            rc = fix_bat(&x, err);
    }
    if (!rc && !x.dry)
        rc = write_back(&x, err);
    free(x.bat);
    vk_dev_close(x.file);
    if (!rc && x.f.disk_type == VHD_TYPE_DIFF)
        rc = fix_chain(image, search_dirs, x.dry, res, err);
    res->seconds = chain_now() - t0;
    return rc;
}
