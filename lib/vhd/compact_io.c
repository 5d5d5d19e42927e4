/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Block-level access for compaction: BAT entries, sector bitmaps, appending and the file end, in crash-safe order
 * (DESIGN.md safety rule 3), and the scan for children of an image in its folder. */
#include "vhd/compact_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/checked.h"
#include "dev/test_fault.h"
#include "vhd/image_internal.h"
#include "vhd/relocate.h"

int vhd_cio_layout(vk_vhd *vhd, struct vhd_cio_layout *out, vk_error *err)
{
    memset(out, 0, sizeof *out);
    if (!vhd_is_sparse(vhd))
        return vk_fail(err, VK_E_USAGE, vhd->path, VK_NO_OFFSET, "a fixed disk has no blocks");
    out->block_size = vhd->block_size;
    out->sectors_per_block = vhd->sectors_per_block;
    out->bitmap_bytes = vhd->bitmap_bytes;
    out->bat_entries = vhd->bat_entries;
    out->slot = (uint64_t)vhd->bitmap_bytes + vhd->block_size;
    out->end_off = vhd->end_off;
    out->meta[out->nmeta++] = (struct vhd_cio_region){0, VHD_FOOTER_LEN};
    out->meta[out->nmeta++] = (struct vhd_cio_region){vhd->header_off, VHD_HEADER_LEN};
    out->meta[out->nmeta++] =
        (struct vhd_cio_region){vhd->header.table_offset, vhd_bat_bytes(vhd->header.max_table_entries)};
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++) {
        const struct vhd_locator *l = &vhd->header.locators[i];
        if (l->code == VHD_PLAT_NONE)
            continue;
        uint64_t len = vhd_locator_space_bytes(l);
        if (len < l->data_length)
            len = l->data_length;
        if (len)
            out->meta[out->nmeta++] = (struct vhd_cio_region){l->data_offset, len};
    }
    return 0;
}

uint32_t vhd_cio_bat(const vk_vhd *vhd, uint32_t blk) { return vhd->bat[blk]; }

int vhd_cio_bitmap_read(vk_vhd *vhd, uint32_t blk, uint8_t *bits, vk_error *err)
{
    uint8_t *cached;
    int rc = bitmap_cache_get(vhd, blk, &cached, err);
    if (!rc)
        memcpy(bits, cached, vhd->bitmap_bytes);
    return rc;
}

int vhd_cio_bitmap_write(vk_vhd *vhd, uint32_t blk, const uint8_t *old, const uint8_t *bits, vk_error *err)
{
    bitmap_cache_drop(vhd, blk);
    int rc = vhd_write_bitmap_sectors(vhd, blk, old, bits, err);
    return rc ? rc : bitmap_cache_put(vhd, blk, bits, err);
}

int vhd_cio_bat_set(vk_vhd *vhd, uint32_t blk, uint32_t value, vk_error *err)
{
    int rc = vhd_write_bat_entry(vhd, blk, value, err);
    if (rc)
        return rc;
    vhd->bat[blk] = value;
    bitmap_cache_drop(vhd, blk); /* the cache is keyed by block: a moved block's bits are the same, reread anyway */
    return 0;
}

void vhd_cio_bat_stage(vk_vhd *vhd, uint32_t blk, uint32_t value)
{
    vhd->bat[blk] = value;
    bitmap_cache_drop(vhd, blk);
}

int vhd_cio_bat_write(vk_vhd *vhd, const uint32_t *blks, size_t n, vk_error *err)
{
    uint8_t sec[VHD_SECTOR];
    for (size_t i = 0; i < n;) {
        uint64_t rel = (uint64_t)blks[i] * 4 & ~(uint64_t)(VHD_SECTOR - 1);
        uint64_t off = vhd->header.table_offset + rel;
        /* The BAT is padded to whole sectors; a file cut short inside that padding still patches what exists. */
        size_t len = off + VHD_SECTOR > vhd->file->size ? (size_t)(vhd->file->size - off) : VHD_SECTOR;
        int rc = vk_dev_read(vhd->file, sec, len, off, err);
        if (rc)
            return rc;
        for (; i < n && ((uint64_t)blks[i] * 4 & ~(uint64_t)(VHD_SECTOR - 1)) == rel; i++)
            put_be32(sec + (uint64_t)blks[i] * 4 % VHD_SECTOR, vhd->bat[blks[i]]);
        if ((rc = vk_dev_write(vhd->file, sec, len, off, err)))
            return rc;
    }
    return 0;
}

int vhd_cio_append_block(vk_vhd *vhd, uint32_t blk, const uint8_t *slot_bytes, vk_error *err)
{
    uint64_t block_off, slot = (uint64_t)vhd->bitmap_bytes + vhd->block_size;
    bool bulk = vhd->flags & VK_VHD_BULK;
    if (blk >= vhd->bat_entries)
        return vk_fail(err, VK_E_RANGE, vhd->path, VK_NO_OFFSET, "no BAT entry %u", (unsigned)blk);
    /* The footer moves past the new slot first (not in a bulk build): the block then overwrites the old copy. */
    int rc = vhd_rel_append(vhd, slot, VHD_REL_BLOCK | (bulk ? VHD_REL_BULK : 0), &block_off, err);
    if (!rc)
        rc = vk_dev_write(vhd->file, slot_bytes, slot, block_off, err);
    if (!rc && bulk) {
        vhd_cio_bat_stage(vhd, blk, (uint32_t)(block_off / VHD_SECTOR));
        return 0;
    }
    if (!rc)
        rc = vk_dev_flush(vhd->file, err);
    if (!rc)
        rc = vhd_cio_bat_set(vhd, blk, (uint32_t)(block_off / VHD_SECTOR), err);
    return rc;
}

int vhd_cio_append_reserve(vk_vhd *vhd, uint32_t blk, uint64_t *block_off, vk_error *err)
{
    uint64_t slot = (uint64_t)vhd->bitmap_bytes + vhd->block_size;
    if (!(vhd->flags & VK_VHD_BULK))
        return vk_fail(err, VK_E_USAGE, vhd->path, VK_NO_OFFSET, "blocks are reserved only in a new image");
    if (blk >= vhd->bat_entries)
        return vk_fail(err, VK_E_RANGE, vhd->path, VK_NO_OFFSET, "no BAT entry %u", (unsigned)blk);
    int rc = vhd_rel_append(vhd, slot, VHD_REL_BLOCK | VHD_REL_BULK, block_off, err);
    if (!rc)
        vhd_cio_bat_stage(vhd, blk, (uint32_t)(*block_off / VHD_SECTOR));
    return rc;
}

/* The copy through memory: devices that are not host files, or a kernel or filesystem without copy_file_range. */
static int copy_through(vk_dev *dst, uint64_t dst_off, vk_dev *src, uint64_t src_off, uint64_t len, uint8_t *buf,
                        size_t buf_len, vk_error *err)
{
    while (len) {
        size_t n = len < buf_len ? (size_t)len : buf_len;
        int rc = vk_dev_read(src, buf, n, src_off, err);
        if (!rc)
            rc = vk_dev_write(dst, buf, n, dst_off, err);
        if (rc)
            return rc;
        src_off += n;
        dst_off += n;
        len -= n;
    }
    return 0;
}

/* Raw pread/pwrite between two host files, for when copy_file_range is refused (the fault hook already ran). */
static int copy_fds(vk_dev *dst, int out, uint64_t dst_off, vk_dev *src, int in, uint64_t src_off, uint64_t len,
                    uint8_t *buf, size_t buf_len, vk_error *err)
{
    while (len) {
        size_t n = len < buf_len ? (size_t)len : buf_len;
        ssize_t r = pread(in, buf, n, (off_t)src_off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? vk_fail_errno(err, VK_E_IO, errno, src->name, src_off, "read failed")
                         : vk_fail(err, VK_E_TRUNCATED, src->name, src_off, "unexpected end of file");
        for (size_t done = 0; done < (size_t)r;) {
            ssize_t w = pwrite(out, buf + done, (size_t)r - done, (off_t)(dst_off + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return vk_fail_errno(err, errno == ENOSPC ? VK_E_NOSPACE : VK_E_IO, errno, dst->name, dst_off + done,
                                     "write failed");
            done += (size_t)w;
        }
        src_off += (uint64_t)r;
        dst_off += (uint64_t)r;
        len -= (uint64_t)r;
    }
    return 0;
}

int vhd_cio_copy(vk_dev *dst, uint64_t dst_off, vk_dev *src, uint64_t src_off, uint64_t len, uint8_t *buf,
                 size_t buf_len, vk_error *err)
{
    if (!len)
        return 0;
    if (!(dst->flags & VK_DEV_WRITABLE))
        return vk_fail(err, VK_E_READONLY, dst->name, dst_off, "device is read-only");
    if (!ck_range_inside(src_off, len, src->size) || len > SIZE_MAX)
        return vk_fail(err, VK_E_RANGE, src->name, src_off, "copy of %llu bytes past the end", (unsigned long long)len);
    int in = vk_dev_file_fd(src), out = vk_dev_file_fd(dst);
    if (in < 0 || out < 0)
        return copy_through(dst, dst_off, src, src_off, len, buf, buf_len, err);
    size_t n = (size_t)len;
    int rc = vk_test_fault_before_write(dst, &n, dst_off, err);
    if (rc)
        return rc;
    loff_t from = (loff_t)src_off, to = (loff_t)dst_off;
    uint64_t left = n;
    while (left) {
        ssize_t r = copy_file_range(in, &from, out, &to, (size_t)left, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
            rc = copy_fds(dst, out, (uint64_t)to, src, in, (uint64_t)from, left, buf, buf_len, err);
            if (rc)
                return rc;
            to += (loff_t)left;
            break;
        }
        if (r < 0)
            return vk_fail_errno(err, errno == ENOSPC ? VK_E_NOSPACE : VK_E_IO, errno, dst->name, (uint64_t)to,
                                 "copy failed");
        if (r == 0)
            return vk_fail(err, VK_E_TRUNCATED, src->name, (uint64_t)from, "unexpected end of file");
        left -= (uint64_t)r;
    }
    if ((uint64_t)to > dst->size)
        dst->size = (uint64_t)to;
    return vk_test_fault_after_write(dst, err);
}

int vhd_cio_bulk_finish(vk_vhd *vhd, vk_error *err)
{
    uint64_t len = vhd_bat_bytes(vhd->header.max_table_entries);
    uint8_t *raw = malloc(len ? len : 1);
    if (!raw)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, "cannot allocate the BAT");
    int rc = vk_dev_read(vhd->file, raw, len, vhd->header.table_offset, err);
    for (uint32_t b = 0; !rc && b < vhd->bat_entries; b++)
        put_be32(raw + (uint64_t)b * 4, vhd->bat[b]);
    if (!rc)
        rc = vk_dev_write(vhd->file, raw, len, vhd->header.table_offset, err);
    free(raw);
    /* The trailing footer's only write in a bulk build, where the reserved blocks end (the end moved without it). */
    if (!rc)
        rc = vhd_rel_move_footer(vhd, vhd_rel_end(vhd), err);
    return rc;
}

int vhd_cio_shrink(vk_vhd *vhd, uint64_t new_end, vk_error *err)
{
    if (new_end % VHD_SECTOR || new_end >= vhd->end_off)
        return vk_fail(err, VK_E_RANGE, vhd->path, new_end, "new end of the image is not below the old one");
    return vhd_rel_move_footer(vhd, new_end, err); /* down: footer, fsync, cut, fsync */
}

/* 1 when the file at `path` is a differencing VHD whose header names `uuid` as its parent. */
static int names_parent(const char *path, const uint8_t uuid[16])
{
    vk_dev *f;
    if (vk_dev_open_file(path, VK_FILE_NOLOCK, &f, NULL))
        return 0;
    uint8_t raw[VHD_HEADER_LEN];
    struct vhd_footer ft;
    struct vhd_header h;
    int yes = 0;
    if (f->size >= VHD_FOOTER_LEN + VHD_HEADER_LEN && !vk_dev_read(f, raw, VHD_FOOTER_LEN, f->size - VHD_FOOTER_LEN, NULL) &&
        !vhd_footer_decode(raw, &ft, NULL) && ft.disk_type == VHD_TYPE_DIFF &&
        ck_range_inside(ft.data_offset, VHD_HEADER_LEN, f->size) &&
        !vk_dev_read(f, raw, VHD_HEADER_LEN, ft.data_offset, NULL) && !vhd_header_decode(raw, &h, NULL))
        yes = !memcmp(h.parent_uuid, uuid, 16);
    vk_dev_close(f);
    return yes;
}

int vhd_cio_find_children(const char *path, const uint8_t uuid[16], char *first, size_t first_cap, vk_error *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if ((size_t)(slash - path) >= sizeof dir)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "path too long");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    struct stat self;
    if (stat(path, &self) < 0)
        return vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "cannot stat the image");
    DIR *d = opendir(dir);
    if (!d)
        return vk_fail_errno(err, VK_E_IO, errno, dir, VK_NO_OFFSET, "cannot list the folder to look for children");
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcasecmp(e->d_name + n - 4, ".vhd"))
            continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_dev == self.st_dev && st.st_ino == self.st_ino))
            continue;
        if (names_parent(p, uuid)) {
            if (!count++ && first)
                snprintf(first, first_cap, "%s", p);
        }
    }
    closedir(d);
    return count;
}
