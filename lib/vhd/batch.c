/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Batched crash ordering (batch.h): blocks appended and bitmap bits to set wait in memory until a commit writes
 * them after one fsync of the data they point at. Memory is bounded: the batch commits itself when full. */
#include "vhd/batch_int.h"
#include "vhd/relocate.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checked.h"
#include "core/sort.h"
#include "dev/cache_hint.h"

#define MAX_PENDING 4096u   /* new blocks whose BAT entry waits */
#define MAX_DIRTY 64u       /* blocks live before the batch whose bitmap bits wait */
#define BAT_RUN_SECTORS 128u /* BAT sectors written in one write at most (64 KiB) */
#define KICK_BYTES (8u << 20) /* writeback started after this much data (see kick) */

struct dirty {
    uint32_t blk;
    uint8_t *old;  /* on disk */
    uint8_t *bits; /* to write at the commit */
};

struct vhd_batch {
    uint64_t max_bytes, bytes, unkicked;
    uint32_t *pending;
    size_t npending;
    uint8_t *is_pending; /* one bit per BAT entry */
    struct dirty dirty[MAX_DIRTY];
    size_t ndirty;
    uint8_t *bitmem; /* 2 * MAX_DIRTY bitmaps */
    uint8_t *run;    /* BAT_RUN_SECTORS sectors */
    bool failed;     /* a commit failed: the handle no longer matches the file */
};

static bool pending(const struct vhd_batch *b, uint32_t blk) { return b->is_pending[blk >> 3] & (1u << (blk & 7)); }

static void batch_free(struct vhd_batch *b)
{
    if (!b)
        return;
    free(b->pending);
    free(b->is_pending);
    free(b->bitmem);
    free(b->run);
    free(b);
}

int vhd_batch_begin(vk_vhd *vhd, uint64_t max_bytes, vk_error *err)
{
    if (!vhd_is_sparse(vhd) || vhd->batch)
        return 0;
    if (!(vhd->dev.flags & VK_DEV_WRITABLE))
        return vk_fail(err, VK_E_USAGE, vhd->path, VK_NO_OFFSET, "a batch needs an image open for writing");
    struct vhd_batch *b = calloc(1, sizeof *b);
    /* Test hook (like VHDKIT_TEST_FAULT): small batches, so crash tests of small images cross several commits. */
    const char *test_bytes = getenv("VHDKIT_TEST_BATCH_BYTES");
    if (test_bytes && *test_bytes)
        max_bytes = strtoull(test_bytes, NULL, 10);
    if (b) {
        b->max_bytes = max_bytes ? max_bytes : VHD_BATCH_BYTES;
        b->pending = malloc(MAX_PENDING * sizeof *b->pending);
        b->is_pending = calloc(1, vhd->bat_entries / 8 + 1);
        b->bitmem = malloc((size_t)2 * MAX_DIRTY * vhd->bitmap_bytes);
        b->run = malloc((size_t)BAT_RUN_SECTORS * VHD_SECTOR);
    }
    if (!b || !b->pending || !b->is_pending || !b->bitmem || !b->run) {
        batch_free(b);
        return vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, "cannot allocate a write batch");
    }
    for (size_t i = 0; i < MAX_DIRTY; i++) {
        b->dirty[i].old = b->bitmem + 2 * i * vhd->bitmap_bytes;
        b->dirty[i].bits = b->dirty[i].old + vhd->bitmap_bytes;
    }
    vhd->batch = b;
    return 0;
}

static struct dirty *find_dirty(struct vhd_batch *b, uint32_t blk)
{
    for (size_t i = 0; i < b->ndirty; i++)
        if (b->dirty[i].blk == blk)
            return &b->dirty[i];
    return NULL;
}

int vhd_bits_get(vk_vhd *vhd, uint32_t blk, uint8_t **bits, vk_error *err)
{
    struct dirty *d = vhd->batch ? find_dirty(vhd->batch, blk) : NULL;
    if (d) {
        *bits = d->bits;
        return 0;
    }
    return bitmap_cache_get(vhd, blk, bits, err);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The BAT sectors holding the pending entries, from memory; adjacent sectors in one write (each sector lands old
 * or new as a whole, and every new entry in it points at data already on disk). */
static int write_bat(vk_vhd *vhd, struct vhd_batch *b, vk_error *err)
{
    vk_sort(b->pending, b->npending, sizeof *b->pending, cmp_u32);
    const uint32_t per = VHD_SECTOR / 4;
    for (size_t i = 0; i < b->npending;) {
        uint64_t first = b->pending[i] / per, last = first;
        size_t j = i;
        while (j < b->npending && b->pending[j] / per <= last + 1 && b->pending[j] / per - first < BAT_RUN_SECTORS)
            last = b->pending[j++] / per;
        uint64_t off = vhd->header.table_offset + first * VHD_SECTOR;
        size_t len = (size_t)(last - first + 1) * VHD_SECTOR;
        /* The BAT is padded to whole sectors; a file cut short inside that padding still patches what exists. */
        if (off + len > vhd->file->size)
            len = (size_t)(vhd->file->size - off);
        int rc = vk_dev_read(vhd->file, b->run, len, off, err);
        if (rc)
            return rc;
        for (size_t k = i; k < j; k++)
            put_be32(b->run + ((uint64_t)b->pending[k] - first * per) * 4, vhd->bat[b->pending[k]]);
        if ((rc = vk_dev_write(vhd->file, b->run, len, off, err)))
            return rc;
        i = j;
    }
    return 0;
}

int vhd_batch_commit(vk_vhd *vhd, vk_error *err)
{
    struct vhd_batch *b = vhd->batch;
    if (!b)
        return 0;
    if (b->failed)
        return vk_fail(err, VK_E_IO, vhd->path, VK_NO_OFFSET, "an earlier write of this batch failed");
    if (!b->npending && !b->ndirty) {
        b->bytes = 0;
        return 0;
    }
    b->failed = true;
    int rc = vk_dev_flush(vhd->file, err); /* the data and the new blocks' bitmaps first */
    for (size_t i = 0; !rc && i < b->ndirty; i++) {
        struct dirty *d = &b->dirty[i];
        rc = vhd_write_bitmap_sectors(vhd, d->blk, d->old, d->bits, err);
        if (!rc)
            rc = bitmap_cache_put(vhd, d->blk, d->bits, err);
    }
    if (!rc)
        rc = write_bat(vhd, b, err);
    if (!rc)
        rc = vk_dev_flush(vhd->file, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < b->npending; i++)
        b->is_pending[b->pending[i] >> 3] &= (uint8_t)~(1u << (b->pending[i] & 7));
    b->npending = b->ndirty = 0;
    b->bytes = 0;
    b->failed = false;
    return 0;
}

int vhd_batch_end(vk_vhd *vhd, vk_error *err)
{
    if (!vhd->batch)
        return 0;
    int rc = vhd_batch_commit(vhd, err);
    batch_free(vhd->batch);
    vhd->batch = NULL;
    return rc;
}

/* Asks the kernel to start writing the file's dirty pages now (Linux sync_file_range, no wait): the disk works while
 * the next data is copied, so the commit's fsync waits for little. Durability still comes from the fsync. */
static void kick(vk_vhd *vhd, struct vhd_batch *b)
{
    if (b->unkicked < KICK_BYTES)
        return;
    b->unkicked = 0;
    vk_dev_start_writeback(vhd->file, 0, vhd->file->size);
}

static int maybe_commit(vk_vhd *vhd, vk_error *err)
{
    struct vhd_batch *b = vhd->batch;
    kick(vhd, b);
    if (b->bytes >= b->max_bytes || b->npending >= MAX_PENDING || b->ndirty >= MAX_DIRTY)
        return vhd_batch_commit(vhd, err);
    return 0;
}

int vhd_batch_note(vk_vhd *vhd, uint64_t bytes, vk_error *err)
{
    if (!vhd->batch)
        return 0;
    vhd->batch->bytes += bytes;
    vhd->batch->unkicked += bytes;
    return maybe_commit(vhd, err);
}

int vhd_batch_stage(vk_vhd *vhd, uint32_t blk, uint32_t sector, uint64_t bytes, vk_error *err)
{
    struct vhd_batch *b = vhd->batch;
    vhd->bat[blk] = sector;
    b->pending[b->npending++] = blk;
    b->is_pending[blk >> 3] |= (uint8_t)(1u << (blk & 7));
    b->bytes += bytes;
    b->unkicked += bytes;
    return maybe_commit(vhd, err);
}

static int no_batch(vk_vhd *vhd, vk_error *err)
{
    return vk_fail(err, VK_E_USAGE, vhd->path, VK_NO_OFFSET, "block writes need a write batch");
}

int vhd_batch_append(vk_vhd *vhd, uint32_t blk, const uint8_t *slot, vk_error *err)
{
    if (!vhd->batch)
        return no_batch(vhd, err);
    uint64_t block_off, len = (uint64_t)vhd->bitmap_bytes + vhd->block_size;
    if (blk >= vhd->bat_entries || vhd->bat[blk] != VHD_BAT_UNUSED)
        return vk_fail(err, VK_E_RANGE, vhd->path, VK_NO_OFFSET, "block %u cannot be added", (unsigned)blk);
    /* The footer moves first: the block then overwrites the old one, never the only valid copy. */
    int rc = vhd_rel_append(vhd, len, VHD_REL_BLOCK, &block_off, err);
    if (rc)
        return rc;
    if ((rc = vk_dev_write(vhd->file, slot, len, block_off, err)) ||
        (rc = bitmap_cache_put(vhd, blk, slot, err)))
        return rc;
    return vhd_batch_stage(vhd, blk, (uint32_t)(block_off / VHD_SECTOR), len, err);
}

int vhd_batch_set_bits(vk_vhd *vhd, uint32_t blk, const uint8_t *bits, vk_error *err)
{
    struct vhd_batch *b = vhd->batch;
    if (!b)
        return no_batch(vhd, err);
    if (blk >= vhd->bat_entries || vhd->bat[blk] == VHD_BAT_UNUSED)
        return vk_fail(err, VK_E_RANGE, vhd->path, VK_NO_OFFSET, "block %u is not allocated", (unsigned)blk);
    uint8_t *cur;
    int rc;
    if (pending(b, blk)) {
        /* Not live until its BAT entry is written: the bits may change now. */
        if ((rc = bitmap_cache_get(vhd, blk, &cur, err)) || (rc = vhd_write_bitmap_sectors(vhd, blk, cur, bits, err)))
            return rc;
        return bitmap_cache_put(vhd, blk, bits, err);
    }
    struct dirty *d = find_dirty(b, blk);
    if (!d) {
        if ((rc = bitmap_cache_get(vhd, blk, &cur, err)))
            return rc;
        d = &b->dirty[b->ndirty++];
        d->blk = blk;
        memcpy(d->old, cur, vhd->bitmap_bytes);
    }
    if (d->bits != bits)
        memcpy(d->bits, bits, vhd->bitmap_bytes);
    return maybe_commit(vhd, err);
}
