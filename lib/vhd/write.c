/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing a VHD image: fixed disks directly; dynamic and differencing disks allocate blocks in crash-safe order
 * (DESIGN.md safety rule 3) and set sector-bitmap bits only after the data they cover is on disk. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checked.h"
#include "vhd/batch_int.h"
#include "vhd/relocate.h"

/* Write unit of differencing disks: one byte of sector bitmap. */
#define DIFF_UNIT (8u * VHD_SECTOR)

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int sync_unless_bulk(vk_vhd *vhd, vk_error *err)
{
    return (vhd->flags & VK_VHD_BULK) ? 0 : vk_dev_flush(vhd->file, err);
}

/* True when no image of the parent chain stores data in [off, off+len): zeros written there need no block. */
static int chain_is_zero(vk_vhd *vhd, uint64_t off, uint64_t len, bool *zero, vk_error *err)
{
    *zero = false;
    vk_vhd *p = vhd->parent;
    if (!p)
        return 0; /* unknown parent: allocate, to be safe */
    uint64_t end = off + len;
    if (end > p->virtual_size)
        end = p->virtual_size;
    while (off < end) {
        vk_extent e;
        int rc = vk_vhd_extent_deep(p, off, end - off, &e, NULL, err);
        if (rc)
            return rc;
        if (e.kind == VK_EXTENT_DATA)
            return 0;
        off += e.len;
    }
    *zero = true;
    return 0;
}

/* Rewrite the 512-byte BAT sector that holds entry `blk` (read, patch, write: padding bytes are kept). */
int vhd_write_bat_entry(vk_vhd *vhd, uint32_t blk, uint32_t value, vk_error *err)
{
    uint64_t rel = (uint64_t)blk * 4;
    uint64_t sector_off = vhd->header.table_offset + (rel & ~(uint64_t)(VHD_SECTOR - 1));
    uint8_t sec[VHD_SECTOR];
    size_t n = VHD_SECTOR;
    /* The BAT is padded to whole sectors; a file cut short inside that padding still patches what exists. */
    if (sector_off + n > vhd->file->size)
        n = (size_t)(vhd->file->size - sector_off);
    int rc = vk_dev_read(vhd->file, sec, n, sector_off, err);
    if (rc)
        return rc;
    put_be32(sec + (rel % VHD_SECTOR), value);
    return vk_dev_write(vhd->file, sec, n, sector_off, err);
}

/* The bitmap sectors of `blk` that differ between `old` and `bits`, each its own 512-byte write. */
int vhd_write_bitmap_sectors(vk_vhd *vhd, uint32_t blk, const uint8_t *old, const uint8_t *bits, vk_error *err)
{
    uint64_t base = (uint64_t)vhd->bat[blk] * VHD_SECTOR;
    for (uint32_t s = 0; s < vhd->bitmap_bytes; s += VHD_SECTOR) {
        if (!memcmp(old + s, bits + s, VHD_SECTOR))
            continue;
        int rc = vk_dev_write(vhd->file, bits + s, VHD_SECTOR, base + s, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* A new block goes where the footer is. Order: (1) the footer again at the new end of the file, (2) bitmap and
 * data, (3) fsync, (4) the BAT sector, (5) fsync. A crash before (4) leaves the old image with leaked space. In a
 * batch (batch.c), (3) to (5) wait for the commit, shared with the other blocks of the batch. */
static int alloc_block(vk_vhd *vhd, uint32_t blk, const uint8_t *data, uint32_t in_blk, uint32_t n, vk_error *err)
{
    uint64_t block_off;
    /* The footer moves up first: from then on the space before it is ours, used or leaked. */
    int rc = vhd_rel_append(vhd, (uint64_t)vhd->bitmap_bytes + vhd->block_size, VHD_REL_BLOCK, &block_off, err);
    if (rc)
        return rc;
    uint8_t *bits = calloc(1, vhd->bitmap_bytes);
    if (!bits)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, NULL);
    for (uint32_t s = in_blk / VHD_SECTOR; s < (in_blk + n) / VHD_SECTOR; s++)
        vhd_bitmap_set(bits, s);
    rc = vk_dev_write(vhd->file, bits, vhd->bitmap_bytes, block_off, err);
    if (!rc)
        rc = vk_dev_write(vhd->file, data, n, block_off + vhd->bitmap_bytes + in_blk, err);
    if (!rc && vhd->batch) {
        rc = bitmap_cache_put(vhd, blk, bits, err);
        free(bits);
        return rc ? rc : vhd_batch_stage(vhd, blk, (uint32_t)(block_off / VHD_SECTOR), n, err);
    }
    if (!rc)
        rc = sync_unless_bulk(vhd, err);
    if (!rc)
        rc = vhd_write_bat_entry(vhd, blk, (uint32_t)(block_off / VHD_SECTOR), err);
    if (!rc)
        rc = sync_unless_bulk(vhd, err);
    if (!rc) {
        vhd->bat[blk] = (uint32_t)(block_off / VHD_SECTOR);
        rc = bitmap_cache_put(vhd, blk, bits, err);
    }
    free(bits);
    return rc;
}

/* An allocated block: data first; bitmap bits that change only after the data is on disk. */
static int write_in_block(vk_vhd *vhd, uint32_t blk, const uint8_t *data, uint32_t in_blk, uint32_t n, vk_error *err)
{
    uint64_t bm_off = (uint64_t)vhd->bat[blk] * VHD_SECTOR;
    int rc = vk_dev_write(vhd->file, data, n, bm_off + vhd->bitmap_bytes + in_blk, err);
    if (rc)
        return rc;
    uint8_t *cached;
    if ((rc = vhd_bits_get(vhd, blk, &cached, err)))
        return rc;
    uint32_t s0 = in_blk / VHD_SECTOR, s1 = (in_blk + n) / VHD_SECTOR;
    bool change = false;
    for (uint32_t s = s0; s < s1 && !change; s++)
        change = !vhd_bitmap_get(cached, s);
    if (!change)
        return vhd_batch_note(vhd, n, err);
    uint8_t *bits = malloc(vhd->bitmap_bytes);
    if (!bits)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, NULL);
    memcpy(bits, cached, vhd->bitmap_bytes);
    for (uint32_t s = s0; s < s1; s++)
        vhd_bitmap_set(bits, s);
    if (vhd->batch) { /* the bits wait for the batch's fsync of the data */
        rc = vhd_batch_set_bits(vhd, blk, bits, err);
        free(bits);
        return rc ? rc : vhd_batch_note(vhd, n, err);
    }
    /* Only the bitmap sectors that hold changed bits are rewritten. */
    uint32_t from = (s0 / 8) & ~(VHD_SECTOR - 1), to = ((s1 - 1) / 8 / VHD_SECTOR + 1) * VHD_SECTOR;
    rc = sync_unless_bulk(vhd, err);
    if (!rc)
        rc = vk_dev_write(vhd->file, bits + from, to - from, bm_off + from, err);
    if (!rc)
        rc = bitmap_cache_put(vhd, blk, bits, err);
    else
        bitmap_cache_drop(vhd, blk);
    free(bits);
    return rc;
}

/* Whole sectors: `off` and `len` are multiples of 512. */
static int write_sectors(vk_vhd *vhd, const uint8_t *buf, size_t len, uint64_t off, vk_error *err)
{
    while (len) {
        uint32_t blk = (uint32_t)(off / vhd->block_size);
        uint32_t in_blk = (uint32_t)(off % vhd->block_size);
        uint32_t n = vhd->block_size - in_blk < len ? vhd->block_size - in_blk : (uint32_t)len;
        int rc = 0;
        if (blk >= vhd->bat_entries)
            return vk_fail(err, VK_E_CORRUPT, vhd->path, off, "no BAT entry for block %" PRIu32, blk);
        if (vhd->bat[blk] != VHD_BAT_UNUSED) {
            rc = write_in_block(vhd, blk, buf, in_blk, n, err);
        } else {
            /* Zeros into an unallocated block need no block when they read as zero already (VHD-NOTES.md 9). */
            bool skip = all_zero(buf, n);
            if (skip && vhd_is_diff(vhd))
                rc = chain_is_zero(vhd, off, n, &skip, err);
            if (!rc && !skip)
                rc = alloc_block(vhd, blk, buf, in_blk, n, err);
        }
        if (rc)
            return rc;
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* One write unit of which only [at, at+n) changes: the rest comes from the current view (this image or the chain).
 * The unit may be cut short by the end of the disk, always on a sector boundary. */
static int write_partial(vk_vhd *vhd, const uint8_t *buf, size_t n, uint64_t unit_off, uint32_t unit, uint32_t at,
                         vk_error *err)
{
    uint8_t tmp[DIFF_UNIT];
    size_t len = vhd->virtual_size - unit_off < unit ? (size_t)(vhd->virtual_size - unit_off) : unit;
    int rc = vhd_read(vhd, tmp, len, unit_off, err);
    if (rc)
        return rc;
    memcpy(tmp + at, buf, n);
    return write_sectors(vhd, tmp, len, unit_off, err);
}

/* Differencing disks are written in whole bitmap bytes (8 sectors, 4 KiB), the rest of a byte copied up from the
 * parent: libvhdi 20210425 reads a bitmap byte with any bit set as if all its sectors were in the child, and
 * Hyper-V writes 4 KiB units too. Dynamic disks are written in sectors. */
int vhd_write(vk_vhd *vhd, const uint8_t *buf, size_t len, uint64_t off, vk_error *err)
{
    if (!vhd_is_sparse(vhd))
        return vk_dev_write(vhd->file, buf, len, off, err);
    uint32_t unit = vhd_is_diff(vhd) && vhd->block_size >= DIFF_UNIT ? DIFF_UNIT : VHD_SECTOR;
    int rc;
    uint32_t head = (uint32_t)(off % unit);
    if (head || len < unit) {
        size_t n = unit - head < len ? unit - head : len;
        if ((rc = write_partial(vhd, buf, n, off - head, unit, head, err)))
            return rc;
        buf += n;
        off += n;
        len -= n;
    }
    size_t whole = len & ~(size_t)(unit - 1);
    if (whole && (rc = write_sectors(vhd, buf, whole, off, err)))
        return rc;
    buf += whole;
    off += whole;
    len -= whole;
    if (len)
        return write_partial(vhd, buf, len, off, unit, 0, err);
    return 0;
}
