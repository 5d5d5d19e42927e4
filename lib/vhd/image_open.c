/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening a VHD image (spec "Hard Disk Footer Format", "Dynamic Disk Header Format", BAT): every field checked. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/bytes.h"
#include "core/checked.h"
#include "core/utf16.h"
#include "vhd/batch_int.h"
#include "core/sort.h"

/* The trailing footer; a 511-byte one (before Virtual PC 2004); with VK_VHD_TOLERANT the copy at offset 0. */
static int read_footer(vk_vhd *vhd, vk_error *err)
{
    uint64_t size = vhd->file->size;
    uint8_t raw[VHD_FOOTER_LEN];
    bool ok = false;
    uint64_t footer_off = 0, check_size = size;
    int rc;
    if (size < VHD_FOOTER_LEN - 1)
        return vk_fail(err, VK_E_TRUNCATED, vhd->path, 0, "file of %" PRIu64 " bytes is too small to be a VHD", size);
    if (size >= VHD_FOOTER_LEN) {
        if ((rc = vk_dev_read(vhd->file, raw, VHD_FOOTER_LEN, size - VHD_FOOTER_LEN, err)))
            return rc;
        footer_off = size - VHD_FOOTER_LEN;
        ok = vhd_footer_decode(raw, &vhd->footer, &vhd->footer_checksum_ok) == 0;
    }
    if (!ok) {
        memset(raw, 0, sizeof raw);
        if ((rc = vk_dev_read(vhd->file, raw, VHD_FOOTER_LEN - 1, size - (VHD_FOOTER_LEN - 1), err)))
            return rc;
        footer_off = size - (VHD_FOOTER_LEN - 1);
        check_size = size + 1; /* the missing last byte is a reserved one: read as zero */
        ok = vhd_footer_decode(raw, &vhd->footer, &vhd->footer_checksum_ok) == 0;
    }
    if (!ok && size >= VHD_FOOTER_LEN) {
        uint8_t copy[VHD_FOOTER_LEN];
        if ((rc = vk_dev_read(vhd->file, copy, VHD_FOOTER_LEN, 0, err)))
            return rc;
        struct vhd_footer f;
        bool copy_ok = vhd_footer_decode(copy, &f, NULL) == 0;
        if (copy_ok && !(vhd->flags & VK_VHD_TOLERANT))
            return vk_fail(err, VK_E_CORRUPT, vhd->path, size - VHD_FOOTER_LEN,
                           "the trailing footer is damaged but the copy at offset 0 is intact: run vhdkit repair");
        if (copy_ok) {
            memcpy(raw, copy, sizeof raw);
            vhd->footer = f;
            vhd_footer_decode(raw, &vhd->footer, &vhd->footer_checksum_ok);
            vhd->footer_from_copy = true;
            footer_off = 0;
            check_size = size;
            ok = true;
        }
    }
    if (!ok)
        return vk_fail(err, VK_E_CORRUPT, vhd->path, size - VHD_FOOTER_LEN,
                       "no VHD footer: the last 512 bytes do not start with \"conectix\"");
    if (!vhd->footer_checksum_ok && !(vhd->flags & VK_VHD_TOLERANT))
        return vk_fail(err, VK_E_CHECKSUM, vhd->path, footer_off + VHD_FOOTER_OFF_CHECKSUM,
                       "footer checksum 0x%08" PRIx32 " is wrong (should be 0x%08" PRIx32 "): run vhdkit repair",
                       vhd->footer.checksum, vhd_checksum(raw, VHD_FOOTER_LEN, VHD_FOOTER_OFF_CHECKSUM));
    if ((rc = vhd_footer_validate(&vhd->footer, check_size, footer_off, vhd->path, err)))
        return rc;
    if (vhd->footer_from_copy && vhd->footer.disk_type == VHD_TYPE_FIXED)
        return vk_fail(err, VK_E_CORRUPT, vhd->path, 0, "a fixed disk has no footer copy at offset 0");
    memcpy(vhd->footer_raw, raw, sizeof raw);
    vhd->virtual_size = vhd_virtual_size(&vhd->footer);
    /* Blocks are appended where the trailing footer sits (a damaged one is left alone: tolerant opens are read-only). */
    vhd->end_off = vhd->footer_from_copy ? size : footer_off;
    return 0;
}

static int read_header(vk_vhd *vhd, vk_error *err)
{
    uint8_t raw[VHD_HEADER_LEN];
    uint64_t off = vhd->footer.data_offset;
    int rc = vk_dev_read(vhd->file, raw, sizeof raw, off, err);
    if (rc)
        return rc;
    if (vhd_header_decode(raw, &vhd->header, &vhd->header_checksum_ok))
        return vk_fail(err, VK_E_CORRUPT, vhd->path, off, "dynamic disk header cookie is not \"cxsparse\"");
    if (!vhd->header_checksum_ok && !(vhd->flags & VK_VHD_TOLERANT))
        return vk_fail(err, VK_E_CHECKSUM, vhd->path, off + VHD_HEADER_OFF_CHECKSUM,
                       "dynamic disk header checksum 0x%08" PRIx32 " is wrong (should be 0x%08" PRIx32
                       "): run vhdkit repair",
                       vhd->header.checksum, vhd_checksum(raw, VHD_HEADER_LEN, VHD_HEADER_OFF_CHECKSUM));
    if ((rc = vhd_header_validate(&vhd->header, vhd->virtual_size, vhd->file->size, off, vhd->path, err)))
        return rc;
    vhd->header_off = off;
    vhd->block_size = vhd->header.block_size;
    vhd->bitmap_bytes = vhd_bitmap_bytes(vhd->block_size);
    vhd->sectors_per_block = vhd->block_size / VHD_SECTOR;
    vhd->bat_entries = vhd->header.max_table_entries;
    return 0;
}

static int read_bat(vk_vhd *vhd, vk_error *err)
{
    uint64_t bytes = (uint64_t)vhd->bat_entries * 4;
    if (!ck_range_inside(vhd->header.table_offset, bytes, vhd->file->size))
        return vk_fail(err, VK_E_CORRUPT, vhd->path, vhd->header_off + VHD_HEADER_OFF_TABLE_OFFSET,
                       "block allocation table runs past the end of the file");
    vhd->bat = malloc(bytes ? bytes : 4);
    if (!vhd->bat)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, "cannot hold a BAT of %" PRIu32 " entries",
                       vhd->bat_entries);
    enum { CHUNK = 64 * 1024 };
    uint8_t *raw = malloc(CHUNK);
    if (!raw)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, NULL);
    for (uint64_t done = 0; done < bytes;) {
        size_t n = bytes - done < CHUNK ? (size_t)(bytes - done) : CHUNK;
        int rc = vk_dev_read(vhd->file, raw, n, vhd->header.table_offset + done, err);
        if (rc) {
            free(raw);
            return rc;
        }
        vhd_bat_decode(raw, (uint32_t)(n / 4), vhd->bat + done / 4);
        done += n;
    }
    free(raw);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every allocated block lies inside the file, clear of the metadata, and no two blocks share a byte. */
static int check_bat(vk_vhd *vhd, vk_error *err)
{
    uint64_t span = (uint64_t)vhd->bitmap_bytes + vhd->block_size;
    uint64_t limit = vhd->end_off;
    uint64_t bat_end = vhd->header.table_offset + vhd_bat_bytes(vhd->bat_entries);
    uint64_t meta_end = bat_end > vhd->header_off + VHD_HEADER_LEN ? bat_end : vhd->header_off + VHD_HEADER_LEN;
    uint32_t used = 0;
    for (uint32_t i = 0; i < vhd->bat_entries; i++) {
        if (vhd->bat[i] == VHD_BAT_UNUSED)
            continue;
        uint64_t off = (uint64_t)vhd->bat[i] * VHD_SECTOR;
        uint64_t at = vhd->header.table_offset + (uint64_t)i * 4;
        if (!ck_range_inside(off, span, limit))
            return vk_fail(err, VK_E_CORRUPT, vhd->path, at,
                           "BAT entry %" PRIu32 " points past the end of the file (offset 0x%" PRIx64 ")", i, off);
        bool clear_of_meta = off >= meta_end || (off + span <= vhd->header_off && off + span <= vhd->header.table_offset &&
                                                 off >= VHD_FOOTER_LEN);
        if (!clear_of_meta)
            return vk_fail(err, VK_E_CORRUPT, vhd->path, at,
                           "BAT entry %" PRIu32 " points into the header or the BAT (offset 0x%" PRIx64 ")", i, off);
        used++;
    }
    if (used < 2)
        return 0;
    /* Sort (offset, index) pairs: 8 bytes per allocated block, freed at once. */
    uint64_t *pairs = malloc((size_t)used * sizeof *pairs);
    if (!pairs)
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, NULL);
    uint32_t n = 0;
    for (uint32_t i = 0; i < vhd->bat_entries; i++)
        if (vhd->bat[i] != VHD_BAT_UNUSED)
            pairs[n++] = ((uint64_t)vhd->bat[i] << 32) | i;
    vk_sort(pairs, n, sizeof *pairs, cmp_u64);
    int rc = 0;
    for (uint32_t k = 1; k < n; k++) {
        uint64_t prev = (pairs[k - 1] >> 32) * VHD_SECTOR, cur = (pairs[k] >> 32) * VHD_SECTOR;
        if (cur - prev < span) {
            uint32_t i = (uint32_t)pairs[k], j = (uint32_t)pairs[k - 1];
            rc = vk_fail(err, VK_E_CORRUPT, vhd->path, vhd->header.table_offset + (uint64_t)i * 4,
                         "BAT entry %" PRIu32 " (offset 0x%" PRIx64 ") overlaps the block of entry %" PRIu32
                         " (offset 0x%" PRIx64 ")", i, cur, j, prev);
            break;
        }
    }
    free(pairs);
    return rc;
}

/* Refusals for writers: a saved state belongs to a suspended VM; bad checksums need a repair first. */
static int check_writable(vk_vhd *vhd, vk_error *err)
{
    if (vhd->footer.saved_state)
        return vk_fail(err, VK_E_REFUSED, vhd->path, vhd->end_off + VHD_FOOTER_OFF_SAVED_STATE,
                       "the image has a saved state (its virtual machine is suspended): resume and shut down the "
                       "virtual machine, or discard its saved state, then try again");
    if (!vhd->footer_checksum_ok || (vhd_is_sparse(vhd) && !vhd->header_checksum_ok))
        return vk_fail(err, VK_E_CHECKSUM, vhd->path, VK_NO_OFFSET, "bad checksum: run vhdkit repair");
    return 0;
}

static int file_identity(vk_vhd *vhd, struct file_id *id)
{
    struct stat st;
    int fd = vk_dev_file_fd(vhd->file);
    if ((fd >= 0 ? fstat(fd, &st) : stat(vhd->path, &st)) < 0) {
        memset(id, 0, sizeof *id);
        return -1;
    }
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return 0;
}

int vhd_open_at(const char *path, const struct vk_vhd_open_opts *opts, struct file_id *chain, int depth, vk_vhd **out,
                vk_error *err)
{
    unsigned flags = opts ? opts->flags : 0;
    vk_dev *given = depth == 0 && opts ? opts->file : NULL;
    if ((flags & VK_VHD_RDWR) && (flags & VK_VHD_TOLERANT)) {
        vk_dev_close(given);
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "a tolerant open is read-only");
    }
    if (depth > VK_VHD_MAX_CHAIN_DEPTH) {
        vk_dev_close(given);
        return vk_fail(err, VK_E_CHAIN, path, VK_NO_OFFSET, "differencing chain deeper than %d images",
                       VK_VHD_MAX_CHAIN_DEPTH);
    }
    vk_vhd *vhd = calloc(1, sizeof *vhd);
    if (!vhd) {
        vk_dev_close(given);
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    }
    vhd->flags = flags;
    snprintf(vhd->path, sizeof vhd->path, "%s", path);
    int rc = 0;
    if (given)
        vhd->file = given;
    else
        rc = vk_dev_open_file(path, (flags & VK_VHD_RDWR) ? VK_FILE_RDWR : 0, &vhd->file, err);
    if (!rc && (flags & VK_VHD_RDWR) && !(vhd->file->flags & VK_DEV_WRITABLE))
        rc = vk_fail(err, VK_E_READONLY, path, VK_NO_OFFSET, "the host device is read-only");
    if (!rc)
        file_identity(vhd, &chain[depth]);
    if (!rc)
        rc = read_footer(vhd, err);
    if (!rc && vhd_is_sparse(vhd)) {
        rc = read_header(vhd, err);
        if (!rc)
            rc = read_bat(vhd, err);
        if (!rc)
            rc = check_bat(vhd, err);
    }
    if (!rc && (flags & VK_VHD_RDWR))
        rc = check_writable(vhd, err);
    if (!rc) {
        vhd->dev.ops = &vhd_dev_ops;
        vhd->dev.size = vhd->virtual_size;
        vhd->dev.flags = (flags & VK_VHD_RDWR) ? VK_DEV_WRITABLE : 0;
        vhd->dev.priv = vhd;
        snprintf(vhd->dev.name, sizeof vhd->dev.name, "%s", path);
    }
    if (!rc && vhd_is_diff(vhd) && !(flags & VK_VHD_NO_PARENT))
        rc = vhd_open_parent(vhd, opts, chain, depth, err);
    if (rc) {
        vk_vhd_close(vhd);
        return rc;
    }
    *out = vhd;
    return 0;
}

int vk_vhd_open(const char *path, const struct vk_vhd_open_opts *opts, vk_vhd **out, vk_error *err)
{
    struct file_id chain[VK_VHD_MAX_CHAIN_DEPTH + 2];
    memset(chain, 0, sizeof chain);
    return vhd_open_at(path, opts, chain, 0, out, err);
}

int vk_vhd_flush(vk_vhd *vhd, vk_error *err)
{
    if (!(vhd->dev.flags & VK_DEV_WRITABLE))
        return 0;
    int rc = vhd_batch_commit(vhd, err); /* a write batch's blocks become live (batch.c) */
    return rc ? rc : vk_dev_flush(vhd->file, err);
}

void vk_vhd_close(vk_vhd *vhd)
{
    if (!vhd)
        return;
    vhd_batch_end(vhd, NULL);
    if (vhd->file)
        vk_vhd_flush(vhd, NULL); /* a failure here has nowhere to go; callers wanting to know call vk_vhd_flush */
    vk_vhd_close(vhd->parent);
    bitmap_cache_free(&vhd->cache);
    free(vhd->bat);
    vk_dev_close(vhd->file);
    free(vhd);
}

vk_dev *vk_vhd_dev(vk_vhd *vhd) { return &vhd->dev; }
vk_dev *vk_vhd_file(vk_vhd *vhd) { return vhd->file; }
vk_vhd *vk_vhd_parent(vk_vhd *vhd) { return vhd->parent; }
const char *vk_vhd_path(const vk_vhd *vhd) { return vhd->path; }

static void printable4(const uint8_t in[4], char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = in[i] >= 0x20 && in[i] < 0x7f ? (char)in[i] : in[i] ? '?' : ' ';
    out[4] = 0;
}

int vk_vhd_get_info(vk_vhd *vhd, struct vk_vhd_info *info)
{
    const struct vhd_footer *f = &vhd->footer;
    memset(info, 0, sizeof *info);
    info->type = (enum vk_vhd_type)f->disk_type;
    info->virtual_size = vhd->virtual_size;
    info->current_size = f->current_size;
    info->original_size = f->original_size;
    struct vhd_chs g = {f->cylinders, f->heads, f->sectors_per_track};
    info->chs_size = vhd_chs_bytes(g);
    info->cylinders = f->cylinders;
    info->heads = f->heads;
    info->sectors_per_track = f->sectors_per_track;
    info->size_from_chs = vhd_size_source(f) == VHD_SIZE_FROM_CHS;
    printable4(f->creator_app, info->creator_app);
    info->creator_version = f->creator_version;
    printable4(f->creator_os, info->creator_os);
    memcpy(info->uuid, f->uuid, 16);
    info->timestamp_unix = (int64_t)f->timestamp + VHD_EPOCH_UNIX;
    info->saved_state = f->saved_state;
    info->features = f->features;
    info->footer_checksum_ok = vhd->footer_checksum_ok;
    info->footer_from_copy = vhd->footer_from_copy;
    info->file_size = vhd->file->size;
    if (!vhd_is_sparse(vhd))
        return 0;
    info->block_size = vhd->block_size;
    info->max_table_entries = vhd->bat_entries;
    for (uint32_t i = 0; i < vhd->bat_entries; i++)
        info->blocks_allocated += vhd->bat[i] != VHD_BAT_UNUSED;
    info->bat_offset = vhd->header.table_offset;
    info->header_checksum_ok = vhd->header_checksum_ok;
    if (!vhd_is_diff(vhd))
        return 0;
    memcpy(info->parent_uuid, vhd->header.parent_uuid, 16);
    info->parent_timestamp_unix = (int64_t)vhd->header.parent_timestamp + VHD_EPOCH_UNIX;
    if (vk_utf16_to_utf8(vhd->header.parent_name, VHD_HEADER_PARENT_NAME_LEN, VK_UTF16_BE, info->parent_name,
                         sizeof info->parent_name) < 0)
        snprintf(info->parent_name, sizeof info->parent_name, "(not valid UTF-16)");
    info->parent = vhd->link;
    info->tried_count = vhd->tried_count;
    for (int i = 0; i < vhd->tried_count && i < 8; i++)
        memcpy(info->tried[i], vhd->tried[i], sizeof info->tried[i]);
    return 0;
}
