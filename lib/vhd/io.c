/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a VHD image through its chain, and extent answers, using the sector bitmaps (spec "Block Allocation
 * Table and Data Blocks"; VHD-NOTES.md 9: dynamic bit 0 reads zero, differencing bit 0 reads the parent). */
#include <string.h>

#include "core/checked.h"
#include "vhd/batch_int.h"

/* End (exclusive) of the run of sectors starting at `s` whose bit equals bit `s`, not beyond `end`. */
static uint32_t bit_run(const uint8_t *bits, uint32_t s, uint32_t end, bool *value)
{
    bool v = vhd_bitmap_get(bits, s);
    uint8_t whole = v ? 0xFF : 0x00;
    *value = v;
    s++;
    while (s < end) {
        if (!(s & 7) && s + 8 <= end && bits[s >> 3] == whole) {
            s += 8;
            continue;
        }
        if (vhd_bitmap_get(bits, s) != v)
            break;
        s++;
    }
    return s;
}

static int read_parent(vk_vhd *vhd, uint8_t *buf, size_t len, uint64_t off, vk_error *err)
{
    if (!vhd->parent)
        return vk_fail(err, VK_E_CHAIN, vhd->path, VK_NO_OFFSET,
                       "the parent of this differencing image is not open: cannot read what it holds");
    /* A parent smaller than its child reads as zeros past its end. */
    uint64_t psize = vhd->parent->virtual_size;
    size_t n = off >= psize ? 0 : psize - off < len ? (size_t)(psize - off) : len;
    if (n) {
        int rc = vhd_read(vhd->parent, buf, n, off, err);
        if (rc)
            return rc;
    }
    memset(buf + n, 0, len - n);
    return 0;
}

/* Bytes not stored in this image: zeros for dynamic disks, the parent's for differencing ones. */
static int read_absent(vk_vhd *vhd, uint8_t *buf, size_t len, uint64_t off, vk_error *err)
{
    if (vhd_is_diff(vhd))
        return read_parent(vhd, buf, len, off, err);
    memset(buf, 0, len);
    return 0;
}

static uint64_t data_off(const vk_vhd *vhd, uint32_t blk, uint32_t in_blk)
{
    return (uint64_t)vhd->bat[blk] * VHD_SECTOR + vhd->bitmap_bytes + in_blk;
}

int vhd_read(vk_vhd *vhd, uint8_t *buf, size_t len, uint64_t off, vk_error *err)
{
    if (!vhd_is_sparse(vhd))
        return vk_dev_read(vhd->file, buf, len, off, err);
    while (len) {
        uint32_t blk = (uint32_t)(off / vhd->block_size);
        uint32_t in_blk = (uint32_t)(off % vhd->block_size);
        size_t n = vhd->block_size - in_blk < len ? vhd->block_size - in_blk : len;
        int rc;
        if (blk >= vhd->bat_entries || vhd->bat[blk] == VHD_BAT_UNUSED) {
            rc = read_absent(vhd, buf, n, off, err);
        } else {
            uint8_t *bits;
            rc = vhd_bits_get(vhd, blk, &bits, err);
            uint32_t pos = in_blk, end = in_blk + (uint32_t)n;
            while (!rc && pos < end) {
                bool stored;
                uint32_t s_end = bit_run(bits, pos / VHD_SECTOR, (end - 1) / VHD_SECTOR + 1, &stored);
                uint32_t run_end = s_end * VHD_SECTOR < end ? s_end * VHD_SECTOR : end;
                uint8_t *dst = buf + (pos - in_blk);
                if (stored)
                    rc = vk_dev_read(vhd->file, dst, run_end - pos, data_off(vhd, blk, pos), err);
                else {
                    /* A parent read may reuse this image's cache only through another handle: `bits` stays valid. */
                    rc = read_absent(vhd, dst, run_end - pos, off + (pos - in_blk), err);
                }
                pos = run_end;
            }
        }
        if (rc)
            return rc;
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Kind of the bytes at `off` inside one block and how far that kind runs, not beyond the block. */
static int block_extent(vk_vhd *vhd, uint64_t off, enum vk_extent_kind *kind, uint64_t *run, vk_error *err)
{
    uint32_t blk = (uint32_t)(off / vhd->block_size);
    uint32_t in_blk = (uint32_t)(off % vhd->block_size);
    if (blk >= vhd->bat_entries || vhd->bat[blk] == VHD_BAT_UNUSED) {
        *kind = vhd_is_diff(vhd) ? VK_EXTENT_PARENT : VK_EXTENT_UNALLOC;
        *run = vhd->block_size - in_blk;
        return 0;
    }
    uint8_t *bits;
    int rc = vhd_bits_get(vhd, blk, &bits, err);
    if (rc)
        return rc;
    bool stored;
    uint32_t s_end = bit_run(bits, in_blk / VHD_SECTOR, vhd->sectors_per_block, &stored);
    *kind = stored ? VK_EXTENT_DATA : vhd_is_diff(vhd) ? VK_EXTENT_PARENT : VK_EXTENT_ZERO;
    *run = (uint64_t)s_end * VHD_SECTOR - in_blk;
    return 0;
}

int vhd_extent(vk_vhd *vhd, uint64_t off, uint64_t len, vk_extent *out, vk_error *err)
{
    if (!vhd_is_sparse(vhd)) {
        int rc = vk_dev_extent(vhd->file, off, len, out, err);
        if (!rc && out->kind != VK_EXTENT_DATA)
            out->kind = VK_EXTENT_ZERO; /* a hole in a fixed disk's host file */
        return rc;
    }
    uint64_t done = 0;
    while (done < len) {
        enum vk_extent_kind kind;
        uint64_t run;
        int rc = block_extent(vhd, off + done, &kind, &run, err);
        if (rc)
            return rc;
        if (done && kind != out->kind)
            break;
        out->kind = kind;
        done += run < len - done ? run : len - done;
    }
    out->len = done;
    return 0;
}

int vk_vhd_extent_deep(vk_vhd *vhd, uint64_t off, uint64_t len, vk_extent *out, int *depth, vk_error *err)
{
    int d = 0;
    for (;;) {
        int rc = vk_dev_extent(&vhd->dev, off, len, out, err);
        if (rc)
            return rc;
        if (out->kind != VK_EXTENT_PARENT) {
            if (depth)
                *depth = out->kind == VK_EXTENT_UNALLOC ? -1 : d;
            return 0;
        }
        if (!vhd->parent || off >= vhd->parent->virtual_size) {
            if (vhd->parent) /* past the end of a smaller parent: zeros nobody stores */
                out->kind = VK_EXTENT_ZERO;
            if (depth)
                *depth = -1;
            return 0;
        }
        len = out->len;
        if (len > vhd->parent->virtual_size - off)
            len = vhd->parent->virtual_size - off;
        vhd = vhd->parent;
        d++;
    }
}

static int dev_read(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err)
{
    return vhd_read(dev_vhd(dev), buf, len, off, err);
}

static int dev_write(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err)
{
    return vhd_write(dev_vhd(dev), buf, len, off, err);
}

static int dev_flush(vk_dev *dev, vk_error *err) { return vk_vhd_flush(dev_vhd(dev), err); }

static int dev_extent(vk_dev *dev, uint64_t off, uint64_t len, vk_extent *out, vk_error *err)
{
    return vhd_extent(dev_vhd(dev), off, len, out, err);
}

/* The device belongs to its handle; only a device made by vk_image_open takes the handle with it. */
static void dev_close(vk_dev *dev)
{
    vk_vhd *vhd = dev_vhd(dev);
    if (vhd->close_with_dev)
        vk_vhd_close(vhd);
}

const struct vk_dev_ops vhd_dev_ops = {
    .type = "vhd",
    .read = dev_read,
    .write = dev_write,
    .flush = dev_flush,
    .extent = dev_extent,
    .close = dev_close,
};
