/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compact -o: a new packed image of the same type (a differencing one keeps the same parent) holding only the
 * blocks and sectors the plan keeps, built as OUT.tmp, fsynced and renamed into place. It gets a new UUID: children
 * of the original must not silently attach to a copy whose free space changed. Blocks are read in the order they
 * sit in the source file and appended in that order (both files are walked front to back), their data copied by the
 * kernel (copy_file_range: no trip through this process, half the memory traffic of read and write), the BAT and
 * footer written once at the end, and the kernel is asked to start writing back as the copy goes, so the final fsync
 * does not wait for the whole file. */
#include "ops/compact_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/cache_hint.h"
#include "vhd/format.h"
#include "core/sort.h"

static int create_out(struct cplan *p, const char *tmp, vk_vhd **out, vk_error *err)
{
    struct vk_vhd_create_opts co = {
        .type = p->diff ? VK_VHD_DIFF : VK_VHD_DYNAMIC,
        .size = p->diff ? 0 : vk_vhd_dev(p->vhd)->size,
        .block_size = p->lay.block_size,
        .fill = VK_FILL_SPARSE,
        .parent = p->diff ? vk_vhd_path(vk_vhd_parent(p->vhd)) : NULL,
    };
    int rc = vk_vhd_create(tmp, &co, NULL, err);
    if (rc)
        return rc;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR | VK_VHD_BULK};
    if ((rc = vk_vhd_open(tmp, &oo, out, err)))
        return rc;
    if (vk_vhd_dev(*out)->size != vk_vhd_dev(p->vhd)->size)
        return vk_fail(err, VK_E_UNSUPPORTED, tmp, VK_NO_OFFSET, "the new image would not have the same size");
    return 0;
}

/* The block as kept: the new bitmap, and zeros in the data of every sector it no longer stores. */
static void shape_slot(struct cplan *p)
{
    memcpy(p->slot, p->new_bits, p->lay.bitmap_bytes);
    uint8_t *data = p->slot + p->lay.bitmap_bytes;
    for (uint32_t s = 0; s < p->lay.sectors_per_block; s++)
        if (!vhd_bitmap_get(p->new_bits, s))
            memset(data + (size_t)s * VHD_SECTOR, 0, VHD_SECTOR);
    p->slot_blk = UINT32_MAX; /* no longer the bytes as stored */
}

#define MAX_COPY_RUNS 64 /* runs of kept sectors copied one by one; a block more broken up is read and written whole */

static unsigned count_runs(const uint8_t *bits, uint32_t nsec)
{
    unsigned n = 0;
    for (uint32_t s = 0; s < nsec; s++)
        n += vhd_bitmap_get(bits, s) && (s == 0 || !vhd_bitmap_get(bits, s - 1));
    return n;
}

/* Appends kept block `blk` to `dst`: its new bitmap, then each run of sectors it still stores copied by the kernel
 * from the source file (the sectors it no longer stores stay a hole of the new file: they read as zero). A block
 * already read (to look for zeros or compare with the parent) or broken into many runs is written from memory. */
static int put_block(struct cplan *p, vk_vhd *dst, uint32_t blk, vk_error *err)
{
    uint64_t at;
    int rc = vhd_cio_append_reserve(dst, blk, &at, err);
    if (rc)
        return rc;
    vk_dev *out = vk_vhd_file(dst);
    uint32_t spb = p->lay.sectors_per_block;
    if (p->slot_blk == blk || count_runs(p->new_bits, spb) > MAX_COPY_RUNS) {
        rc = plan_read_slot(p, blk, err);
        if (!rc) {
            shape_slot(p);
            rc = vk_dev_write(out, p->slot, p->lay.slot, at, err);
        }
        return rc;
    }
    if ((rc = vk_dev_write(out, p->new_bits, p->lay.bitmap_bytes, at, err)))
        return rc;
    uint64_t from = (uint64_t)vhd_cio_bat(p->vhd, blk) * VHD_SECTOR + p->lay.bitmap_bytes, to = at + p->lay.bitmap_bytes;
    p->slot_blk = UINT32_MAX; /* the slot is the bounce buffer where the kernel cannot copy */
    for (uint32_t s = 0; s < spb && !rc;) {
        if (!vhd_bitmap_get(p->new_bits, s)) {
            s++;
            continue;
        }
        uint32_t e = s;
        while (e < spb && vhd_bitmap_get(p->new_bits, e))
            e++;
        rc = vhd_cio_copy(out, to + (uint64_t)s * VHD_SECTOR, p->file, from + (uint64_t)s * VHD_SECTOR,
                          (uint64_t)(e - s) * VHD_SECTOR, p->slot, p->lay.slot, err);
        s = e;
    }
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Allocated blocks as (file sector << 32 | block), in file order. */
static int file_order(struct cplan *p, uint64_t **out, size_t *n, vk_error *err)
{
    size_t k = 0;
    for (uint32_t blk = 0; blk < p->lay.bat_entries; blk++)
        k += vhd_cio_bat(p->vhd, blk) != VHD_BAT_UNUSED;
    uint64_t *v = malloc((k ? k : 1) * sizeof *v);
    if (!v)
        return vk_fail(err, VK_E_NOMEM, vk_vhd_path(p->vhd), VK_NO_OFFSET, "cannot allocate the block list");
    k = 0;
    for (uint32_t blk = 0; blk < p->lay.bat_entries; blk++)
        if (vhd_cio_bat(p->vhd, blk) != VHD_BAT_UNUSED)
            v[k++] = (uint64_t)vhd_cio_bat(p->vhd, blk) << 32 | blk;
    vk_sort(v, k, sizeof *v, cmp_u64);
    *out = v;
    *n = k;
    return 0;
}

#define WRITEBACK_STEP (64ull << 20) /* bytes appended between writeback requests */

static int copy_blocks(struct cplan *p, vk_vhd *dst, const struct vk_compact_opts *o, struct vk_compact_result *res,
                       vk_error *err)
{
    uint64_t *order = NULL;
    size_t n = 0;
    int rc = file_order(p, &order, &n, err);
    uint64_t flushed = vk_vhd_file(dst)->size;
    for (size_t k = 0; k < n && !rc; k++) {
        uint32_t blk = (uint32_t)order[k];
        struct bplan bp;
        rc = plan_block(p, blk, &bp, err);
        if (!rc && bp.action != BP_DROP)
            rc = put_block(p, dst, blk, err);
        if (rc)
            break;
        plan_account(res, &bp);
        uint64_t end = vk_vhd_file(dst)->size;
        if (end - flushed >= WRITEBACK_STEP) {
            vk_dev_start_writeback(vk_vhd_file(dst), flushed, end - flushed);
            flushed = end;
        }
        if (o->progress)
            o->progress(o->progress_ctx, k + 1, res->blocks_before);
    }
    free(order);
    return rc;
}

int compact_to_file(struct cplan *p, const char *out, const struct vk_compact_opts *o, struct vk_compact_result *res,
                    vk_error *err)
{
    struct stat st;
    if (lstat(out, &st) == 0)
        return vk_fail(err, VK_E_EXISTS, out, VK_NO_OFFSET, "the output exists; choose a new name or remove it");
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", out) >= sizeof tmp)
        return vk_fail(err, VK_E_USAGE, out, VK_NO_OFFSET, "path too long");
    if (lstat(tmp, &st) == 0)
        return vk_fail(err, VK_E_EXISTS, tmp, VK_NO_OFFSET,
                       "a temporary file from an earlier run is in the way; remove it and try again");
    vk_vhd *dst = NULL;
    int rc = create_out(p, tmp, &dst, err);
    bool created = rc != VK_E_EXISTS;
    if (!rc)
        rc = copy_blocks(p, dst, o, res, err);
    if (!rc)
        rc = vhd_cio_bulk_finish(dst, err);
    if (!rc)
        rc = vk_vhd_flush(dst, err);
    if (!rc)
        res->file_size_after = vk_vhd_file(dst)->size;
    vk_vhd_close(dst);
    if (!rc && rename(tmp, out) < 0)
        rc = vk_fail_errno(err, VK_E_IO, errno, out, VK_NO_OFFSET, "cannot rename %s into place", tmp);
    if (!rc)
        return vk_sync_parent_dir(out, err);
    if (created)
        unlink(tmp);
    return rc;
}
