/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resize: grow fixed, dynamic and differencing images (the BAT grows in place, moving the blocks and locator data
 * that follow it to the end of the file); shrink only when no partition and no stored non-zero byte lies past the
 * new end (spec "Hard Disk Footer Format" sizes and geometry, "Dynamic Disk Header Format" Max Table Entries). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/chain_ops.h"
#include "vhd/chain_edit.h"
#include "vhd/compact_io.h"
#include "vhd/image_internal.h"
#include "vhd/relocate.h"
#include "vhdkit/part.h"

#define SCAN_CHUNK (1u << 20)

/* Refuses a shrink that would cut a partition or stored data that is not zero. */
static int shrink_allowed(vk_vhd *vhd, uint64_t new_size, vk_error *err)
{
    vk_dev *dev = vk_vhd_dev(vhd);
    vk_part_table t;
    if (!vk_part_read(dev, &t, NULL)) {
        for (unsigned i = 0; i < t.count; i++) {
            const vk_part *p = &t.parts[i];
            if (!(p->flags & VK_PART_WHOLE_DISK) && p->start_off + p->len > new_size) {
                int rc = vk_fail(err, VK_E_REFUSED, vk_vhd_path(vhd), p->entry_off, "partition %u ends at %" PRIu64
                                 ", past the new size %" PRIu64 ": shrink the partition first", p->number,
                                 p->start_off + p->len, new_size);
                vk_part_table_free(&t);
                return rc;
            }
        }
        vk_part_table_free(&t);
    }
    uint8_t *buf = malloc(SCAN_CHUNK);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, vk_vhd_path(vhd), VK_NO_OFFSET, NULL);
    int rc = 0;
    for (uint64_t off = new_size; !rc && off < dev->size;) {
        vk_extent e;
        uint64_t want = dev->size - off < SCAN_CHUNK ? dev->size - off : SCAN_CHUNK;
        if ((rc = vk_dev_extent(dev, off, want, &e, err)))
            break;
        if (e.kind == VK_EXTENT_DATA && !(rc = vk_dev_read(dev, buf, (size_t)e.len, off, err)))
            for (size_t i = 0; i < e.len && !rc; i++)
                if (buf[i])
                    rc = vk_fail(err, VK_E_REFUSED, vk_vhd_path(vhd), VK_NO_OFFSET, "the disk holds data at %" PRIu64
                                 ", past the new size %" PRIu64 ": shrinking would lose it", off + i, new_size);
        off += e.len;
    }
    free(buf);
    return rc;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }

/* Makes room for `need` BAT entries right after the table: blocks there move to the end, locator data too (one
 * header write), the room is filled with unused entries, then the header takes the new count. */
static int grow_bat(vk_vhd *vhd, uint32_t need, struct vk_chain_result *res, vk_error *err)
{
    struct vhd_footer f;
    struct vhd_header h;
    uint64_t hoff;
    vhd_ce_get(vhd, &f, &h, &hoff);
    uint64_t old_len = vhd_bat_bytes(h.max_table_entries), new_len = vhd_bat_bytes(need);
    uint64_t room = h.table_offset + old_len, room_len = new_len - old_len;
    if (overlaps(room, room_len, hoff, VHD_HEADER_LEN) || overlaps(room, room_len, 0, VHD_FOOTER_LEN))
        return vk_fail(err, VK_E_UNSUPPORTED, vk_vhd_path(vhd), hoff, "the BAT cannot grow: the header follows it");
    struct vhd_cio_layout lay;
    int rc = vhd_cio_layout(vhd, &lay, err);
    for (uint32_t b = 0; !rc && b < lay.bat_entries; b++) {
        uint32_t s = vhd_cio_bat(vhd, b);
        if (s != VHD_BAT_UNUSED && overlaps((uint64_t)s * VHD_SECTOR, lay.slot, room, room_len))
            rc = vhd_ce_move_block(vhd, b, err);
    }
    bool moved = false;
    for (int i = 0; !rc && i < VHD_LOCATOR_COUNT; i++) {
        struct vhd_locator *l = &h.locators[i];
        uint64_t len = vhd_locator_space_bytes(l);
        if (l->code == VHD_PLAT_NONE || !overlaps(l->data_offset, len, room, room_len))
            continue;
        uint64_t space = (len + VHD_SECTOR - 1) & ~(uint64_t)(VHD_SECTOR - 1), at;
        uint8_t *data = calloc(1, space ? space : VHD_SECTOR);
        if (!data)
            return vk_fail(err, VK_E_NOMEM, vk_vhd_path(vhd), VK_NO_OFFSET, NULL);
        rc = vk_dev_read(vk_vhd_file(vhd), data, l->data_length, l->data_offset, err);
        if (!rc)
            rc = vhd_ce_append(vhd, data, space, &at, err);
        free(data);
        if (!rc) {
            l->data_offset = at;
            l->data_space = (uint32_t)space;
            moved = true;
            res->locators_moved++;
        }
    }
    if (!rc && moved)
        rc = vhd_ce_write_header(vhd, &h, err);
    /* An image whose trailing footer follows the BAT directly (nothing allocated yet) grows its file first. */
    if (!rc && room + room_len > vhd_rel_end(vhd))
        rc = vhd_ce_write_footer(vhd, &f, room + room_len, err);
    uint8_t *ff = malloc(room_len);
    if (!ff)
        return vk_fail(err, VK_E_NOMEM, vk_vhd_path(vhd), VK_NO_OFFSET, NULL);
    memset(ff, 0xFF, room_len);
    if (!rc)
        rc = vk_dev_write(vk_vhd_file(vhd), ff, room_len, room, err);
    free(ff);
    if (!rc)
        rc = vk_dev_flush(vk_vhd_file(vhd), err);
    if (!rc) {
        h.max_table_entries = need;
        rc = vhd_ce_write_header(vhd, &h, err);
    }
    res->bat_grown = !rc;
    return rc;
}

static int resize_sparse(vk_vhd *vhd, struct vhd_footer *f2, uint64_t old, uint64_t new_size,
                         struct vk_chain_result *res, vk_error *err)
{
    struct vhd_header h;
    vhd_ce_get(vhd, NULL, &h, NULL);
    uint64_t need64 = new_size / h.block_size + (new_size % h.block_size != 0);
    int rc = 0;
    if (new_size > old && need64 > h.max_table_entries && (rc = grow_bat(vhd, (uint32_t)need64, res, err)))
        return rc;
    /* Size last when growing (the table is ready), first when shrinking (nothing past the end is shown any more). */
    if ((rc = vhd_ce_write_footer(vhd, f2, vhd_rel_end(vhd), err)))
        return rc;
    for (uint64_t b = need64; new_size < old && b < h.max_table_entries; b++)
        if (vhd_cio_bat(vhd, (uint32_t)b) != VHD_BAT_UNUSED && (rc = vhd_cio_bat_set(vhd, (uint32_t)b, VHD_BAT_UNUSED, err)))
            return rc;
    return vk_vhd_flush(vhd, err);
}

/* Fixed: growing writes the footer at the new end, then zeroes the old one (now a data sector); shrinking writes
 * the footer at the new end (a sector checked to be zero), then cuts the file. */
static int resize_fixed(vk_vhd *vhd, struct vhd_footer *f2, uint64_t old, uint64_t new_size, vk_error *err)
{
    vk_dev *file = vk_vhd_file(vhd);
    uint64_t old_end = vhd_rel_end(vhd), new_end = f2->current_size;
    int rc;
    if (new_size > old) {
        vk_error ignored;
        if (new_end > old_end) /* sparse when the filesystem cannot preallocate */
            vk_dev_file_allocate(file, old_end, new_end - old_end + VHD_FOOTER_LEN, &ignored);
        uint8_t zero[VHD_FOOTER_LEN] = {0};
        if ((rc = vhd_ce_write_footer(vhd, f2, new_end, err)) || (rc = vk_dev_write(file, zero, sizeof zero, old_end, err)))
            return rc;
        return vk_dev_flush(file, err);
    }
    if ((rc = vhd_ce_write_footer(vhd, f2, new_end, err)) || (rc = vk_dev_set_size(file, new_end + VHD_FOOTER_LEN, err)))
        return rc;
    return vk_dev_flush(file, err);
}

int vk_resize(const char *image, uint64_t size, unsigned flags, struct vk_chain_result *res, vk_error *err)
{
    (void)flags;
    double t0 = chain_now();
    snprintf(res->target, sizeof res->target, "%s", image);
    vk_vhd *vhd;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    int rc = vk_vhd_open(image, &oo, &vhd, err);
    if (rc)
        return rc;
    struct vhd_footer f, f2;
    vhd_ce_get(vhd, &f, NULL, NULL);
    f2 = f;
    uint64_t old = vk_vhd_dev(vhd)->size;
    if (!size)
        rc = vk_fail(err, VK_E_USAGE, image, VK_NO_OFFSET, "size must be larger than zero");
    if (!rc)
        rc = vhd_size_footer(&f2, size, image, err); /* both size fields: libvhdi reads the original size */
    uint64_t new_size = vhd_virtual_size(&f2);
    res->old_size = old;
    res->new_size = new_size;
    if (!rc && new_size < old)
        rc = shrink_allowed(vhd, new_size, err);
    if (!rc && new_size != old)
        rc = f.disk_type == VHD_TYPE_FIXED ? resize_fixed(vhd, &f2, old, new_size, err)
                                           : resize_sparse(vhd, &f2, old, new_size, res, err);
    vk_vhd_close(vhd);
    res->seconds = chain_now() - t0;
    return rc;
}
