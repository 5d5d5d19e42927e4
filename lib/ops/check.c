/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check: every structural rule of a VHD (spec sections "Hard Disk Footer", "Dynamic Disk Header", "Block Allocation
 * Table", "Parent Locator") and of its differencing chain, each problem with a severity and the file offset. */
#include "vhdkit/ops.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/sort.h"
#include "ops/layout_guess.h"
#include "vhd/format.h"

/* Rows of the BAT sorted by file offset to find overlaps without quadratic work. */
struct block_row {
    uint64_t off;
    uint32_t index;
};

/* Regions of the file that blocks must not touch. */
struct region {
    uint64_t off, len;
    const char *what;
};

struct checker {
    struct vk_check_report *rep;
    vk_dev *file;
    const char *path;
    uint64_t size;
    bool nomem;
};

const char *vk_check_severity_name(enum vk_check_severity s)
{
    return s == VK_CHECK_ERROR ? "error" : s == VK_CHECK_WARNING ? "warning" : "note";
}

void vk_check_report_free(struct vk_check_report *rep)
{
    if (!rep)
        return;
    free(rep->problems);
    memset(rep, 0, sizeof *rep);
}

__attribute__((format(printf, 4, 5)))
static void add(struct checker *c, enum vk_check_severity sev, uint64_t off, const char *fmt, ...)
{
    struct vk_check_report *r = c->rep;
    /* One report per place: a rule already reported at this offset (e.g. by the header validator) is not repeated. */
    for (size_t i = 0; off != VK_NO_OFFSET && i < r->count; i++)
        if (r->problems[i].has_offset && r->problems[i].offset == off && !strcmp(r->problems[i].file, c->path))
            return;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct vk_check_problem *p = realloc(r->problems, cap * sizeof *p);
        if (!p) {
            c->nomem = true;
            return;
        }
        r->problems = p;
        r->cap = cap;
    }
    struct vk_check_problem *p = &r->problems[r->count++];
    memset(p, 0, sizeof *p);
    p->severity = sev;
    snprintf(p->file, sizeof p->file, "%s", c->path);
    p->has_offset = off != VK_NO_OFFSET;
    p->offset = p->has_offset ? off : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->what, sizeof p->what, fmt, ap);
    va_end(ap);
    if (sev == VK_CHECK_ERROR)
        r->errors++;
    else if (sev == VK_CHECK_WARNING)
        r->warnings++;
    else
        r->notes++;
}

/* A failed validator becomes one problem at the offset it names. */
static void add_err(struct checker *c, enum vk_check_severity sev, const vk_error *e)
{
    add(c, sev, e->has_offset ? e->offset : VK_NO_OFFSET, "%s", e->msg);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static int cmp_rows(const void *a, const void *b)
{
    const struct block_row *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Footer: the trailing one (or the copy at 0 when the trailing one is gone). Returns 0 with the footer decoded, or
 * an error when the file is not a VHD at all. */
static int check_footer(struct checker *c, struct vhd_footer *f, uint64_t *footer_off, vk_error *err)
{
    uint8_t tail[VHD_FOOTER_LEN], head[VHD_FOOTER_LEN];
    if (c->size < VHD_FOOTER_LEN)
        return vk_fail(err, VK_E_TRUNCATED, c->path, 0, "%" PRIu64 " bytes is too small to be a VHD (no 512-byte footer)",
                       c->size);
    int rc = vk_dev_read(c->file, tail, sizeof tail, c->size - VHD_FOOTER_LEN, err);
    if (rc)
        return rc;
    rc = vk_dev_read(c->file, head, sizeof head, 0, err);
    if (rc)
        return rc;
    bool tail_sum, head_sum;
    struct vhd_footer copy;
    bool tail_ok = vhd_footer_decode(tail, f, &tail_sum) == 0;
    bool head_ok = vhd_footer_decode(head, &copy, &head_sum) == 0;
    *footer_off = c->size - VHD_FOOTER_LEN;
    if (!tail_ok && !head_ok)
        return vk_fail(err, VK_E_CORRUPT, c->path, c->size - VHD_FOOTER_LEN,
                       "not a VHD: no \"conectix\" footer at the end of the file nor at offset 0");
    if (!tail_ok) {
        add(c, VK_CHECK_ERROR, *footer_off, "the trailing footer is damaged (cookie is not \"conectix\"); the copy at "
            "offset 0 is used");
        *f = copy;
        *footer_off = 0;
        tail_sum = head_sum;
    }
    if (!tail_sum)
        add(c, VK_CHECK_ERROR, *footer_off + VHD_FOOTER_OFF_CHECKSUM, "footer checksum 0x%08" PRIx32 " is wrong "
            "(0x%08" PRIx32 " expected)", f->checksum, vhd_checksum(*footer_off ? tail : head, VHD_FOOTER_LEN,
            VHD_FOOTER_OFF_CHECKSUM));
    if (tail_ok && (f->disk_type == VHD_TYPE_DYNAMIC || f->disk_type == VHD_TYPE_DIFF)) {
        if (!head_ok)
            add(c, VK_CHECK_ERROR, 0, "the footer copy at offset 0 is missing or damaged");
        else if (memcmp(head, tail, VHD_FOOTER_LEN))
            add(c, VK_CHECK_ERROR, 0, "the footer copy at offset 0 differs from the trailing footer");
    }
    vk_error e = {0};
    if (vhd_footer_validate(f, c->size, *footer_off, c->path, &e))
        add_err(c, VK_CHECK_ERROR, &e);
    if (!(f->features & VHD_FEATURE_RESERVED))
        add(c, VK_CHECK_WARNING, *footer_off + VHD_FOOTER_OFF_FEATURES, "features 0x%08" PRIx32 " lack the reserved "
            "bit 0x2 that must always be set", f->features);
    if (f->saved_state)
        add(c, VK_CHECK_NOTE, *footer_off + VHD_FOOTER_OFF_SAVED_STATE, "saved-state flag is set: a virtual machine "
            "was saved with this disk; compact, merge and resize refuse it");
    struct vhd_chs g = {f->cylinders, f->heads, f->sectors_per_track};
    if (vhd_chs_bytes(g) != f->current_size)
        add(c, VK_CHECK_NOTE, *footer_off + VHD_FOOTER_OFF_GEOMETRY, "geometry %u/%u/%u holds %" PRIu64 " bytes, "
            "current size says %" PRIu64 ": Virtual PC and Hyper-V see different sizes", g.cylinders, g.heads,
            g.sectors_per_track, vhd_chs_bytes(g), f->current_size);
    if (f->disk_type == VHD_TYPE_FIXED && c->size > f->current_size + VHD_FOOTER_LEN)
        add(c, VK_CHECK_WARNING, f->current_size, "%" PRIu64 " bytes between the data and the footer",
            c->size - VHD_FOOTER_LEN - f->current_size);
    return 0;
}

static void check_locators(struct checker *c, const struct vhd_header *h, uint64_t hoff, bool diff)
{
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++) {
        const struct vhd_locator *l = &h->locators[i];
        uint64_t eoff = hoff + VHD_HEADER_OFF_LOCATORS + (uint64_t)i * VHD_LOCATOR_ENTRY_LEN;
        if (l->code == VHD_PLAT_NONE)
            continue;
        char name[5];
        vhd_platform_name(l->code, name);
        if (!diff) {
            add(c, VK_CHECK_WARNING, eoff, "parent locator %u (%s) in a disk that has no parent", i, name);
            continue;
        }
        if (!ck_range_inside(l->data_offset, l->data_length, c->size) || l->data_length > 65536) {
            add(c, VK_CHECK_ERROR, eoff + 16, "parent locator %u (%s) data at offset %" PRIu64 ", %" PRIu32
                " bytes, lies outside the file", i, name, l->data_offset, l->data_length);
            continue;
        }
        if (l->data_offset % VHD_SECTOR)
            add(c, VK_CHECK_WARNING, eoff + 16, "parent locator %u (%s) data is not sector aligned", i, name);
        if (l->code != VHD_PLAT_W2KU && l->code != VHD_PLAT_W2RU && l->code != VHD_PLAT_MACX)
            continue;
        uint8_t *data = malloc(l->data_length ? l->data_length : 1);
        char path[4096];
        vk_error e = {0};
        if (!data) {
            c->nomem = true;
            return;
        }
        if (vk_dev_read(c->file, data, l->data_length, l->data_offset, &e))
            add_err(c, VK_CHECK_ERROR, &e);
        else if (vhd_locator_path_decode(l->code, data, l->data_length, path, sizeof path) < 0)
            add(c, VK_CHECK_ERROR, l->data_offset, "parent locator %u (%s) path cannot be decoded", i, name);
        free(data);
    }
}

/* BAT entries: inside the data area, off the metadata and off each other; allocated blocks past the disk's end.
 * Each allocated block's sector bitmap is read (one sector at a time: memory stays bounded). */
/* Space no structure references, in pieces of at least one block: a block written but never linked into the BAT
 * (a write stopped between the data and its BAT entry, by design leaked rather than lost: DESIGN.md rule 3).
 * Smaller gaps are normal (Hyper-V pads each block to 4 KiB and starts the first one on a 2 MiB boundary). A note:
 * no data is at risk; compact gives the space back. `rows` are the blocks sorted by offset. */
static void note_unreferenced(struct checker *c, const struct block_row *rows, size_t nrows, uint64_t span,
                              const struct region *meta, size_t nmeta, uint64_t data_end)
{
    uint64_t cursor = 0, leaked = 0, first = 0;
    unsigned pieces = 0;
    size_t r = 0;
    for (;;) {
        /* the next referenced region: the lower of the next block and the lowest metadata region past cursor */
        uint64_t off = r < nrows ? rows[r].off : data_end, len = r < nrows ? span : 0;
        bool from_meta = false;
        for (size_t m = 0; m < nmeta; m++)
            if (meta[m].off + meta[m].len > cursor && meta[m].off < off) {
                off = meta[m].off;
                len = meta[m].len;
                from_meta = true;
            }
        uint64_t stop = off < data_end ? off : data_end;
        if (stop > cursor && stop - cursor >= span) {
            if (!pieces++)
                first = cursor;
            leaked += stop - cursor;
        }
        if (off >= data_end)
            break;
        if (off + len > cursor)
            cursor = off + len;
        if (!from_meta)
            r++;
    }
    if (pieces)
        add(c, VK_CHECK_NOTE, first, "%" PRIu64 " bytes in %u piece(s) of at least a block are referenced by no BAT "
            "entry, header or locator (left by an interrupted write; no data is lost; compact gives them back)",
            leaked, pieces);
}

static void check_bat(struct checker *c, const struct vhd_header *h, uint64_t hoff, uint64_t vsize,
                      struct region *meta, size_t nmeta, bool dynamic)
{
    uint64_t bat_len = vhd_bat_bytes(h->max_table_entries);
    uint8_t *raw = malloc(bat_len ? bat_len : 1);
    uint32_t *bat = malloc((h->max_table_entries ? h->max_table_entries : 1) * sizeof *bat);
    struct block_row *rows = malloc((h->max_table_entries ? h->max_table_entries : 1) * sizeof *rows);
    if (!raw || !bat || !rows) {
        c->nomem = true;
        goto out;
    }
    vk_error e = {0};
    if (vk_dev_read(c->file, raw, bat_len, h->table_offset, &e)) {
        add_err(c, VK_CHECK_ERROR, &e);
        goto out;
    }
    vhd_bat_decode(raw, h->max_table_entries, bat);
    if (h->table_offset % VHD_SECTOR)
        add(c, VK_CHECK_WARNING, hoff + VHD_HEADER_OFF_TABLE_OFFSET, "BAT offset %" PRIu64 " is not sector aligned",
            h->table_offset);
    uint32_t bm_len = vhd_bitmap_bytes(h->block_size);
    uint64_t span = (uint64_t)bm_len + h->block_size;
    uint64_t data_end = c->size - VHD_FOOTER_LEN;
    uint64_t blocks_needed = vsize / h->block_size + (vsize % h->block_size != 0);
    size_t nrows = 0;
    for (uint32_t i = 0; i < h->max_table_entries; i++) {
        if (bat[i] == VHD_BAT_UNUSED)
            continue;
        uint64_t eoff = h->table_offset + (uint64_t)i * 4;
        uint64_t boff = (uint64_t)bat[i] * VHD_SECTOR;
        if (i >= blocks_needed)
            add(c, VK_CHECK_WARNING, eoff, "BAT entry %" PRIu32 " is allocated but lies past the end of the disk", i);
        if (!ck_range_inside(boff, span, data_end)) {
            add(c, VK_CHECK_ERROR, eoff, "BAT entry %" PRIu32 " points past the end of the file (block at offset "
                "0x%" PRIx64 ", %" PRIu64 " bytes, data ends at 0x%" PRIx64 ")", i, boff, span, data_end);
            continue;
        }
        bool clash = false;
        for (size_t m = 0; m < nmeta && !clash; m++)
            if (overlaps(boff, span, meta[m].off, meta[m].len)) {
                add(c, VK_CHECK_ERROR, eoff, "BAT entry %" PRIu32 " (block at offset 0x%" PRIx64 ") overlaps the %s",
                    i, boff, meta[m].what);
                clash = true;
            }
        if (clash)
            continue;
        rows[nrows++] = (struct block_row){boff, i};
        uint8_t bm[VHD_SECTOR];
        if (vk_dev_read(c->file, bm, sizeof bm, boff, &e)) {
            add_err(c, VK_CHECK_ERROR, &e);
            continue;
        }
        /* Only the first bitmap sector is inspected for "nothing written" (enough for the default 2 MiB block). */
        if (dynamic && bm_len == VHD_SECTOR) {
            bool any = false;
            for (size_t k = 0; k < sizeof bm && !any; k++)
                any = bm[k] != 0;
            if (!any)
                add(c, VK_CHECK_NOTE, boff, "block %" PRIu32 " is allocated but its bitmap marks no sector written "
                    "(compact can drop it)", i);
        }
    }
    vk_sort(rows, nrows, sizeof *rows, cmp_rows);
    for (size_t k = 1; k < nrows; k++)
        if (rows[k].off < rows[k - 1].off + span)
            add(c, VK_CHECK_ERROR, h->table_offset + (uint64_t)rows[k].index * 4, "BAT entry %" PRIu32 " (block at "
                "offset 0x%" PRIx64 ") overlaps the block of entry %" PRIu32, rows[k].index, rows[k].off,
                rows[k - 1].index);
    note_unreferenced(c, rows, nrows, span, meta, nmeta, data_end);
out:
    free(raw);
    free(bat);
    free(rows);
}

static void check_layout(struct checker *c, const struct vhd_header *h, uint64_t hoff, uint64_t vsize, bool diff)
{
    uint32_t *bat = NULL;
    struct layout_guess g;
    vk_error e = {0};
    if (layout_read_bat(c->file, c->path, h, &bat, &e))
        return; /* a BAT that does not fit is reported by the validator or the BAT walk */
    struct vhd_header fixed = *h;
    int rc = layout_guess(c->file, c->path, h, vsize, bat, c->size - VHD_FOOTER_LEN, diff, &g, &e);
    if (!rc && g.kind == LAYOUT_BLOCK_SIZE) {
        add(c, VK_CHECK_ERROR, hoff + VHD_HEADER_OFF_BLOCK_SIZE, "block size %" PRIu32 " does not match the blocks: "
            "the %" PRIu32 " allocated blocks lie %" PRIu64 " bytes apart up to the footer, as %" PRIu32
            "-byte blocks do, and max table entries %" PRIu32 " fits that size (the field was changed without "
            "moving the blocks; repair sets it back)", h->block_size, g.nblocks, g.stride, g.block_size,
            h->max_table_entries);
        /* with the field set back, the bitmaps may still be of the wrong size (repair looks again too) */
        fixed.block_size = g.block_size;
        rc = layout_guess(c->file, c->path, &fixed, vsize, bat, c->size - VHD_FOOTER_LEN, diff, &g, &e);
        if (!rc && g.kind == LAYOUT_BLOCK_SIZE)
            g.kind = LAYOUT_OK;
    }
    if (rc)
        add_err(c, VK_CHECK_ERROR, &e);
    else if (g.kind == LAYOUT_BITMAP)
        add(c, VK_CHECK_ERROR, g.first, "the %" PRIu32 " allocated blocks from offset 0x%" PRIx64 " are packed every "
            "%" PRIu64 " bytes: %" PRIu32 "-byte blocks laid out with %" PRIu32 "-byte sector bitmaps, not the %"
            PRIu32 " bytes the format wants, so readers take each block's data from the wrong place (repair lays "
            "the blocks out again)", g.nblocks, g.first, g.stride, g.block_size, g.bitmap_bytes, g.want_bitmap);
    else if (g.kind == LAYOUT_UNSURE)
        add(c, VK_CHECK_ERROR, g.first, "the %" PRIu32 " allocated blocks from offset 0x%" PRIx64 " are packed every "
            "%" PRIu64 " bytes, as with %" PRIu32 "-byte sector bitmaps instead of %" PRIu32 ", but %s", g.nblocks,
            g.first, g.stride, g.bitmap_bytes, g.want_bitmap, g.why);
    free(bat);
}

static void check_header(struct checker *c, const struct vhd_footer *f, uint64_t vsize)
{
    uint64_t hoff = f->data_offset;
    uint8_t raw[VHD_HEADER_LEN];
    vk_error e = {0};
    if (!ck_range_inside(hoff, VHD_HEADER_LEN, c->size))
        return; /* the footer validator reported the offset */
    if (vk_dev_read(c->file, raw, sizeof raw, hoff, &e)) {
        add_err(c, VK_CHECK_ERROR, &e);
        return;
    }
    struct vhd_header h;
    bool sum_ok;
    if (vhd_header_decode(raw, &h, &sum_ok)) {
        add(c, VK_CHECK_ERROR, hoff, "dynamic header cookie is not \"cxsparse\"");
        return;
    }
    if (!sum_ok)
        add(c, VK_CHECK_ERROR, hoff + VHD_HEADER_OFF_CHECKSUM, "dynamic header checksum 0x%08" PRIx32 " is wrong "
            "(0x%08" PRIx32 " expected)", h.checksum, vhd_checksum(raw, VHD_HEADER_LEN, VHD_HEADER_OFF_CHECKSUM));
    bool valid = vhd_header_validate(&h, vsize, c->size, hoff, c->path, &e) == 0;
    /* Blocks laid out for another bitmap or block size (layout_guess.c): reported before the validator's complaint
     * about the block size field, which it explains. */
    if (valid || e.offset == hoff + VHD_HEADER_OFF_BLOCK_SIZE || e.offset == hoff + VHD_HEADER_OFF_MAX_TABLE_ENTRIES)
        check_layout(c, &h, hoff, vsize, f->disk_type == VHD_TYPE_DIFF);
    if (!valid)
        add_err(c, VK_CHECK_ERROR, &e);
    bool diff = f->disk_type == VHD_TYPE_DIFF;
    check_locators(c, &h, hoff, diff);
    /* The BAT walk needs a sane block size, entry count and table place: the validator vouches for those. */
    if (!valid && (e.offset == hoff + VHD_HEADER_OFF_BLOCK_SIZE || e.offset == hoff + VHD_HEADER_OFF_MAX_TABLE_ENTRIES ||
                   e.offset == hoff + VHD_HEADER_OFF_TABLE_OFFSET || e.offset <= hoff + VHD_HEADER_OFF_VERSION))
        return;
    struct region meta[3 + VHD_LOCATOR_COUNT];
    size_t n = 0;
    meta[n++] = (struct region){0, VHD_FOOTER_LEN, "footer copy"};
    meta[n++] = (struct region){hoff, VHD_HEADER_LEN, "dynamic header"};
    meta[n++] = (struct region){h.table_offset, vhd_bat_bytes(h.max_table_entries), "BAT"};
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++)
        if (h.locators[i].code != VHD_PLAT_NONE && diff)
            meta[n++] = (struct region){h.locators[i].data_offset, vhd_locator_space_bytes(&h.locators[i]),
                                        "parent locator data"};
    check_bat(c, &h, hoff, vsize, meta, n, f->disk_type == VHD_TYPE_DYNAMIC);
}

static int check_one(struct checker *c, int depth, vk_error *err);

/* The chain: open with the library's own resolver (tolerant, so bad checksums do not hide the links) and check each
 * parent in turn. */
static void check_chain(struct checker *c, int depth)
{
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_TOLERANT};
    vk_vhd *vhd = NULL;
    vk_error e = {0};
    if (vk_vhd_open(c->path, &oo, &vhd, &e)) {
        add(c, VK_CHECK_ERROR, e.has_offset ? e.offset : VK_NO_OFFSET, "differencing chain: %s%s%s", e.file,
            e.file[0] ? ": " : "", e.msg);
        return;
    }
    struct vk_vhd_info info;
    vk_vhd *parent = vk_vhd_parent(vhd);
    if (!vk_vhd_get_info(vhd, &info) && parent) {
        if (!info.parent.uuid_match)
            add(c, VK_CHECK_ERROR, VK_NO_OFFSET, "parent %s does not carry the UUID this disk expects (it was "
                "changed or replaced after this child was made)", info.parent.path);
        char ppath[4096];
        snprintf(ppath, sizeof ppath, "%s", vk_vhd_path(parent));
        vk_vhd_close(vhd);
        vk_dev *pf = NULL;
        if (depth + 1 >= VK_VHD_MAX_CHAIN_DEPTH) {
            add(c, VK_CHECK_ERROR, VK_NO_OFFSET, "chain deeper than %d images", VK_VHD_MAX_CHAIN_DEPTH);
            return;
        }
        if (vk_dev_open_file(ppath, 0, &pf, &e)) {
            add_err(c, VK_CHECK_ERROR, &e);
            return;
        }
        struct checker pc = {c->rep, pf, ppath, pf->size, false};
        vk_error pe = {0};
        if (check_one(&pc, depth + 1, &pe))
            add(&pc, VK_CHECK_ERROR, pe.has_offset ? pe.offset : VK_NO_OFFSET, "%s", pe.msg);
        c->nomem |= pc.nomem;
        vk_dev_close(pf);
        return;
    }
    vk_vhd_close(vhd);
}

static int check_one(struct checker *c, int depth, vk_error *err)
{
    struct vhd_footer f;
    uint64_t footer_off;
    int rc = check_footer(c, &f, &footer_off, err);
    if (rc)
        return rc;
    c->rep->images_checked++;
    if (f.disk_type == VHD_TYPE_DYNAMIC || f.disk_type == VHD_TYPE_DIFF)
        check_header(c, &f, vhd_virtual_size(&f));
    if (f.disk_type == VHD_TYPE_DIFF)
        check_chain(c, depth);
    return 0;
}

int vk_check_image(const char *path, struct vk_check_report *rep, vk_error *err)
{
    memset(rep, 0, sizeof *rep);
    vk_dev *file = NULL;
    int rc = vk_dev_open_file(path, 0, &file, err);
    if (rc)
        return rc;
    struct checker c = {rep, file, path, file->size, false};
    rc = check_one(&c, 0, err);
    vk_dev_close(file);
    if (!rc && c.nomem)
        rc = vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    if (rc)
        vk_check_report_free(rep);
    return rc;
}
