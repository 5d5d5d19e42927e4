/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Metadata rewrites for merge, reparent, rebase and resize (spec "Dynamic Disk Header Format", "Parent Locator
 * Entries"; VHD-NOTES.md 10, 11): new data always lands in fresh space before the one write that switches to it. */
#include "vhd/chain_edit.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "vhd/compact_io.h"
#include "vhd/image_internal.h"
#include "vhd/relocate.h"

/* Locator paths longer than this are not written (Hyper-V reserves 4096 bytes at most per locator). */
#define LOCATOR_MAX_BYTES 8192

void vhd_ce_get(vk_vhd *vhd, struct vhd_footer *f, struct vhd_header *h, uint64_t *header_off)
{
    if (f)
        *f = vhd->footer;
    if (h)
        *h = vhd->header;
    if (header_off)
        *header_off = vhd->header_off;
}

int vhd_ce_append(vk_vhd *vhd, const uint8_t *data, size_t len, uint64_t *off, vk_error *err)
{
    uint64_t at;
    if (len % VHD_SECTOR)
        return vk_fail(err, VK_E_NOSPACE, vhd->path, vhd->end_off, "the image file cannot grow further");
    /* Locator data is addressed by a 64-bit offset: no BAT limit (VHD_REL_BLOCK) on where it may start. */
    int rc = vhd_rel_append(vhd, len, 0, &at, err);
    if (rc)
        return rc;
    if ((rc = vk_dev_write(vhd->file, data, len, at, err)) || (rc = vk_dev_flush(vhd->file, err)))
        return rc;
    *off = at;
    return 0;
}

int vhd_ce_write_header(vk_vhd *vhd, struct vhd_header *h, vk_error *err)
{
    uint8_t raw[VHD_HEADER_LEN];
    vhd_header_encode(h, raw);
    int rc = vk_dev_write(vhd->file, raw, sizeof raw, vhd->header_off, err);
    if (!rc)
        rc = vk_dev_flush(vhd->file, err);
    if (!rc)
        vhd->header = *h;
    return rc;
}

/* Not vhd_rel_move_footer, though both write a footer at an end: this one writes a *changed* footer (resize's new
 * size fields), so the handle takes it only once it is on disk, and it is synced at once because the next write may
 * depend on it (resize cuts a fixed disk after it, or zeroes the old footer sector, which becomes disk data; grow_bat
 * fills the BAT's new room below it). A sparse image's copy at offset 0 follows the synced trailing one: readers and
 * repair trust the trailing footer, and a crash between leaves an old copy at 0 that repair rewrites. It never cuts
 * the file itself: resize does (write, fsync, cut, fsync, the order of vhd_rel_move_footer's down move). */
int vhd_ce_write_footer(vk_vhd *vhd, struct vhd_footer *f, uint64_t end, vk_error *err)
{
    uint8_t raw[VHD_FOOTER_LEN];
    vhd_footer_encode(f, raw);
    int rc = vk_dev_write(vhd->file, raw, sizeof raw, end, err);
    if (!rc)
        rc = vk_dev_flush(vhd->file, err);
    if (!rc && vhd_is_sparse(vhd)) {
        rc = vk_dev_write(vhd->file, raw, sizeof raw, 0, err);
        if (!rc)
            rc = vk_dev_flush(vhd->file, err);
    }
    if (rc)
        return rc;
    vhd->footer = *f;
    memcpy(vhd->footer_raw, raw, sizeof raw);
    vhd->end_off = end;
    vhd->virtual_size = vhd_virtual_size(f);
    vhd->dev.size = vhd->virtual_size;
    return 0;
}

/* True when the locator's current data already holds exactly `data`. */
static bool same_data(vk_vhd *vhd, const struct vhd_locator *l, const uint8_t *data, size_t n)
{
    if (l->data_length != n || !ck_range_inside(l->data_offset, n, vhd->end_off) || vhd_locator_space_bytes(l) < n)
        return false;
    uint8_t *cur = malloc(n ? n : 1);
    bool same = cur && !vk_dev_read(vhd->file, cur, n, l->data_offset, NULL) && !memcmp(cur, data, n);
    free(cur);
    return same;
}

int vhd_ce_set_parent(vk_vhd *child, vk_vhd *parent, const char *parent_abs, int *moved, vk_error *err)
{
    if (!vhd_is_diff(child))
        return vk_fail(err, VK_E_USAGE, child->path, VK_NO_OFFSET, "not a differencing image: it has no parent");
    struct vhd_header h = child->header;
    struct vhd_loc_plan *plan = calloc(3, sizeof *plan);
    uint8_t *enc = calloc(3, LOCATOR_MAX_BYTES);
    uint8_t *fresh = calloc(3, LOCATOR_MAX_BYTES);
    int rc = 0, nmoved = 0;
    if (!plan || !enc || !fresh) {
        rc = vk_fail(err, VK_E_NOMEM, child->path, VK_NO_OFFSET, NULL);
        goto out;
    }
    memset(h.parent_name, 0, sizeof h.parent_name);
    if ((rc = vhd_plan_parent(child->path, parent, parent_abs, &h, plan, err)))
        goto out;
    /* Entry slot for each planned code: its current entry, else a free one. Other platforms (Wi2k, Wi2r, Mac) name
     * the old parent: they are cleared so no reader follows them. */
    int slot[3], len[3];
    bool used[VHD_LOCATOR_COUNT] = {false};
    for (int p = 0; p < 3; p++) {
        slot[p] = -1;
        for (int i = 0; i < VHD_LOCATOR_COUNT && slot[p] < 0; i++)
            if (h.locators[i].code == plan[p].code && !used[i])
                slot[p] = i;
        if (slot[p] >= 0)
            used[slot[p]] = true;
    }
    for (int i = 0; i < VHD_LOCATOR_COUNT; i++)
        if (!used[i])
            h.locators[i] = (struct vhd_locator){0};
    for (int p = 0; p < 3; p++) {
        for (int i = 0; i < VHD_LOCATOR_COUNT && slot[p] < 0; i++)
            if (!used[i]) {
                slot[p] = i;
                used[i] = true;
            }
        len[p] = vhd_locator_path_encode(plan[p].code, plan[p].path, enc + p * LOCATOR_MAX_BYTES, LOCATOR_MAX_BYTES);
        if (len[p] <= 0) {
            rc = vk_fail(err, VK_E_USAGE, child->path, VK_NO_OFFSET, "the parent path %s cannot be stored in a locator",
                         plan[p].path);
            goto out;
        }
    }
    /* All changed locator data goes in one piece of fresh space, one sector-padded region per locator, even when the
     * new path would fit the old space: written in place, a crash before the header switch would leave the old
     * header naming the old parent while its locators already point at the new one. Fresh space keeps the old
     * links whole until the single header write; it costs a few sectors per reparent. */
    size_t total = 0;
    uint32_t rel[3], space[3];
    for (int p = 0; p < 3; p++) {
        struct vhd_locator *l = &h.locators[slot[p]];
        space[p] = 0;
        if (l->code == plan[p].code && same_data(child, l, enc + p * LOCATOR_MAX_BYTES, (size_t)len[p]))
            continue;
        space[p] = ((uint32_t)len[p] + VHD_SECTOR - 1) & ~(VHD_SECTOR - 1);
        rel[p] = (uint32_t)total;
        memcpy(fresh + total, enc + p * LOCATOR_MAX_BYTES, (size_t)len[p]);
        total += space[p];
        nmoved++;
    }
    uint64_t at = 0;
    if (total && (rc = vhd_ce_append(child, fresh, total, &at, err)))
        goto out;
    for (int p = 0; p < 3; p++) {
        if (!space[p])
            continue;
        h.locators[slot[p]] = (struct vhd_locator){.code = plan[p].code, .data_space = space[p],
                                                   .data_length = (uint32_t)len[p], .data_offset = at + rel[p]};
    }
    /* The switch: one header write. A torn write here shows as a header checksum error (see vhdkit-reparent(1)). */
    rc = vhd_ce_write_header(child, &h, err);
out:
    if (moved)
        *moved = nmoved;
    free(plan);
    free(enc);
    free(fresh);
    return rc;
}

int vhd_ce_move_block(vk_vhd *vhd, uint32_t blk, vk_error *err)
{
    uint64_t slot = (uint64_t)vhd->bitmap_bytes + vhd->block_size;
    if (blk >= vhd->bat_entries || vhd->bat[blk] == VHD_BAT_UNUSED)
        return vk_fail(err, VK_E_RANGE, vhd->path, VK_NO_OFFSET, "block %" PRIu32 " is not allocated", blk);
    uint8_t *buf = malloc(slot);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, NULL);
    int rc = vk_dev_read(vhd->file, buf, slot, (uint64_t)vhd->bat[blk] * VHD_SECTOR, err);
    if (!rc)
        rc = vhd_cio_append_block(vhd, blk, buf, err);
    if (!rc)
        rc = vk_dev_flush(vhd->file, err);
    free(buf);
    return rc;
}
