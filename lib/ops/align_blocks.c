/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align in place on a dynamic VHD: instead of moving bytes over themselves (align_move.c: every byte written twice,
 * once to the journal), each block of the new layout is built whole in free space and the BAT switched to it.
 *
 * Partitions only move up, so block k of the new disk holds bytes of old blocks <= k only (align_seg_at: moved
 * bytes come from v - shift, vacated bytes are zero, the rest is unchanged). Blocks are rebuilt from the highest
 * block of the moved span down: once new block k is live, nothing still to build needs old block k, and its slot in
 * the file is free. Each batch (plan->round bytes of blocks):
 *   1. each new block (sector bitmap + data) is written to a free slot: one no BAT entry or metadata references
 *      (at first, slots appended after the moved footer; afterwards, the slots the previous batches freed);
 *   2. fsync of the image, then the batch's record (for each block: old and new BAT value; CRCs) and the journal
 *      slot naming it, fsync of the journal;
 *   3. the batch's BAT sectors, fsync of the image; the old slots join the free pool.
 * A crash before 2 leaves the BAT as it was and the new slots unreferenced (the batch is built again); after it,
 * the record is rolled forward (all its entries set to the new values: their slots were synced before the record
 * was written). The next record, or the phase change, supersedes it. A block that reads as zero everywhere stays or
 * becomes unallocated; a block all outside the move is not touched. Sector bitmap bits follow the source sectors
 * (set where the source was stored), and the data under a clear bit is zero, so every reader sees the same disk
 * (qemu-img reads an allocated block's data whatever its bits say).
 * Then PACK: the free slots the move left (about one batch, low in the file) receive the blocks stored highest in
 * the file, with the same record and roll-forward, and the file is cut after the last block. */
#include "ops/align_journal.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "dev/cache_hint.h"
#include "part/layout.h"
#include "vhd/compact_io.h"
#include "vhd/format.h"
#include "vhd/relocate.h"

/* Record header: magic, cursor before and after the batch (COPY; 0 in PACK), entry count, CRC of the entries. */
#define REC_HEAD 32
#define REC_ENTRY 12 /* block, old BAT value, new BAT value (little endian) */
static const char rec_magic[8] = "VKBLKS01";

struct entry {
    uint32_t blk, old, new;
};

struct bmover {
    vk_dev *disk, *file;
    vk_vhd *vhd;
    struct align_journal *j;
    const struct align_plan *p;
    struct vhd_cio_layout lay;
    uint64_t vsize;
    size_t nb;          /* blocks per batch */
    uint8_t *slot;      /* the block being built: sector bitmap, then data */
    struct entry *e;    /* the batch */
    size_t ne;
    uint8_t *rec;       /* the batch's entries, encoded */
    uint64_t *heap;     /* free slots, a min-heap: the lowest is used first, so the file stays packed */
    size_t nheap, heap_cap;
};

static int all_zero(const uint8_t *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

static int heap_push(struct bmover *m, uint64_t off, vk_error *err)
{
    if (m->nheap == m->heap_cap) {
        size_t cap = m->heap_cap ? m->heap_cap * 2 : 64;
        uint64_t *h = realloc(m->heap, cap * sizeof *h);
        if (!h)
            return vk_fail(err, VK_E_NOMEM, m->disk->name, VK_NO_OFFSET, NULL);
        m->heap = h;
        m->heap_cap = cap;
    }
    size_t i = m->nheap++;
    while (i && m->heap[(i - 1) / 2] > off) {
        m->heap[i] = m->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m->heap[i] = off;
    return 0;
}

static uint64_t heap_pop(struct bmover *m)
{
    uint64_t top = m->heap[0], last = m->heap[--m->nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->nheap)
            break;
        if (c + 1 < m->nheap && m->heap[c + 1] < m->heap[c])
            c++;
        if (m->heap[c] >= last)
            break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (m->nheap)
        m->heap[i] = last;
    return top;
}

/* A free slot for the next block; when none is left, the footer moves up by the slots the batch may still need. */
static int take_slot(struct bmover *m, uint64_t *off, vk_error *err)
{
    if (!m->nheap) {
        uint64_t end = (vhd_rel_end(m->vhd) + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
        uint64_t want = m->nb - m->ne;
        int rc = vhd_rel_grow(m->vhd, end + want * m->lay.slot, err);
        for (uint64_t i = 0; i < want && !rc; i++)
            rc = heap_push(m, end + i * m->lay.slot, err);
        if (rc)
            return rc;
    }
    *off = heap_pop(m);
    return 0;
}

/* Copies the new disk's bytes [src, src+len) of the old disk into the slot at data offset `at`, bits set where the
 * source is stored. */
static int fill(struct bmover *m, uint64_t src, uint64_t len, uint64_t at, int *stored, vk_error *err)
{
    uint8_t *bits = m->slot, *data = m->slot + m->lay.bitmap_bytes;
    while (len) {
        vk_extent e;
        int rc = vk_dev_extent(m->disk, src, len, &e, err);
        if (rc)
            return rc;
        uint64_t n = e.len < len ? e.len : len;
        if (!n)
            return vk_fail(err, VK_E_CORRUPT, m->disk->name, src, "empty extent");
        if (e.kind == VK_EXTENT_DATA) {
            if ((rc = vk_dev_read(m->disk, data + at, (size_t)n, src, err)))
                return rc;
            for (uint64_t s = at / VHD_SECTOR; s < (at + n) / VHD_SECTOR; s++)
                vhd_bitmap_set(bits, (uint32_t)s);
            *stored = 1;
        } else {
            memset(data + at, 0, (size_t)n);
        }
        src += n;
        at += n;
        len -= n;
    }
    return 0;
}

/* New block k into m->slot. *keep: 0 when the whole block reads as zero (it needs no slot); *same: the block lies
 * wholly outside the move (nothing to do). */
static int build(struct bmover *m, uint32_t k, int *keep, int *same, vk_error *err)
{
    uint64_t bs = m->lay.block_size, a = (uint64_t)k * bs, b = a + bs < m->vsize ? a + bs : m->vsize;
    uint64_t src, end;
    *keep = 0;
    *same = align_seg_at(m->p, a, &src, &end) == ALIGN_SEG_SAME && end >= b;
    if (*same)
        return 0;
    uint8_t *data = m->slot + m->lay.bitmap_bytes;
    memset(m->slot, 0, m->lay.bitmap_bytes);
    memset(data + (b - a), 0, (size_t)(bs - (b - a))); /* past the disk end: no bits, zeros */
    int stored = 0, rc = 0;
    for (uint64_t v = a; v < b && !rc; v = end) {
        int kind = align_seg_at(m->p, v, &src, &end);
        if (end > b)
            end = b;
        if (kind == ALIGN_SEG_VACATED)
            memset(data + (v - a), 0, (size_t)(end - v));
        else
            rc = fill(m, src, end - v, v - a, &stored, err);
    }
    *keep = stored && !all_zero(data, (size_t)(b - a));
    return rc;
}

static int by_blk(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Sets the batch's BAT entries in memory and on disk (one write per BAT sector), then fsync. */
static int apply(struct bmover *m, vk_error *err)
{
    uint32_t *blks = malloc((m->ne ? m->ne : 1) * sizeof *blks);
    if (!blks)
        return vk_fail(err, VK_E_NOMEM, m->disk->name, VK_NO_OFFSET, NULL);
    for (size_t i = 0; i < m->ne; i++) {
        vhd_cio_bat_stage(m->vhd, m->e[i].blk, m->e[i].new);
        blks[i] = m->e[i].blk;
    }
    qsort(blks, m->ne, sizeof *blks, by_blk);
    int rc = vhd_cio_bat_write(m->vhd, blks, m->ne, err);
    free(blks);
    return rc ? rc : vk_dev_flush(m->file, err);
}

/* Makes the batch live: its slots synced, its record in the journal (synced), its BAT entries (synced). */
static int commit(struct bmover *m, uint32_t phase, uint64_t done, uint64_t hi, uint64_t lo, vk_error *err)
{
    int rc = vk_dev_flush(m->file, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < m->ne; i++) {
        put_le32(m->rec + i * REC_ENTRY, m->e[i].blk);
        put_le32(m->rec + i * REC_ENTRY + 4, m->e[i].old);
        put_le32(m->rec + i * REC_ENTRY + 8, m->e[i].new);
    }
    uint8_t head[REC_HEAD] = {0};
    memcpy(head, rec_magic, 8);
    put_le64(head + 8, hi);
    put_le64(head + 16, lo);
    put_le32(head + 24, (uint32_t)m->ne);
    put_le32(head + 28, part_crc32(m->rec, m->ne * REC_ENTRY));
    rc = align_journal_put_record(m->j, phase, 0, done, head, sizeof head, m->rec, m->ne * REC_ENTRY, err);
    return rc ? rc : apply(m, err);
}

/* A resumed run: the batch the newest journal slot names is set live again when its record landed whole (then
 * *lo = the cursor after it; 1 returned), else 0 (the batch is built again: nothing of it was referenced). */
static int roll_forward(struct bmover *m, uint64_t *lo, vk_error *err)
{
    uint8_t head[REC_HEAD];
    uint64_t at;
    int ok = m->j->pr.rlen == REC_HEAD ? align_journal_get_round(m->j, head, sizeof head, &at, err) : 0;
    if (ok <= 0)
        return ok;
    uint32_t n = get_le32(head + 24);
    if (memcmp(head, rec_magic, 8) || n > m->nb || at + (uint64_t)n * REC_ENTRY > m->j->dev->size)
        return 0;
    int rc = n ? vk_dev_read(m->j->dev, m->rec, (size_t)n * REC_ENTRY, at, err) : 0;
    if (rc)
        return rc;
    if (part_crc32(m->rec, (size_t)n * REC_ENTRY) != get_le32(head + 28))
        return 0; /* the record did not land: nor did any BAT write of its batch */
    m->ne = n;
    uint64_t end = vhd_rel_end(m->vhd);
    for (uint32_t i = 0; i < n; i++) {
        struct entry *e = &m->e[i];
        e->blk = get_le32(m->rec + (size_t)i * REC_ENTRY);
        e->old = get_le32(m->rec + (size_t)i * REC_ENTRY + 4);
        e->new = get_le32(m->rec + (size_t)i * REC_ENTRY + 8);
        uint32_t now = e->blk < m->lay.bat_entries ? vhd_cio_bat(m->vhd, e->blk) : 0;
        if (e->blk >= m->lay.bat_entries ||
            (e->new != VHD_BAT_UNUSED && (uint64_t)e->new * VHD_SECTOR + m->lay.slot > end) ||
            (now != e->old && now != e->new))
            return vk_fail(err, VK_E_CORRUPT, m->j->path, at, "the journal's block batch does not match the image "
                           "(block %u): was the image changed since?", (unsigned)e->blk);
    }
    if ((rc = apply(m, err)))
        return rc;
    *lo = get_le64(head + 16);
    return 1;
}

/* COPY: the new blocks, from the top of the moved span down. */
static int copy_phase(struct bmover *m, struct vk_align_result *res, vk_error *err)
{
    uint64_t lo, hi, bs = m->lay.block_size;
    align_moved_span(m->p, &lo, &hi);
    uint64_t first = lo / bs, top = (hi + bs - 1) / bs;
    if (top > m->lay.bat_entries)
        return vk_fail(err, VK_E_CORRUPT, m->disk->name, VK_NO_OFFSET, "the move ends past the BAT");
    if (m->j->pr.done > top - first)
        return vk_fail(err, VK_E_CORRUPT, m->j->path, 0, "journal progress past the moved blocks");
    uint64_t cursor = top - m->j->pr.done, after;
    int rc = roll_forward(m, &after, err);
    if (rc < 0)
        return rc;
    if (rc > 0) {
        if (after < first || after > cursor)
            return vk_fail(err, VK_E_CORRUPT, m->j->path, 0, "journal batch out of the moved blocks");
        cursor = after;
    }
    for (unsigned k = 0; k < m->p->nmoves; k++)
        res->bytes_moved += m->p->parts[m->p->order[k]].len;
    struct vhd_rel_space sp;
    if ((rc = vhd_rel_free_slots(m->vhd, &sp, err)))
        return rc;
    for (size_t i = 0; i < sp.nfree && !rc; i++)
        rc = heap_push(m, sp.free[i], err);
    vhd_rel_space_free(&sp);
    while (!rc && cursor > first) {
        uint64_t from = cursor;
        m->ne = 0;
        while (!rc && m->ne < m->nb && cursor > first) {
            uint32_t k = (uint32_t)--cursor;
            int keep, same;
            if ((rc = build(m, k, &keep, &same, err)) || same)
                continue;
            uint32_t old = vhd_cio_bat(m->vhd, k), nw = VHD_BAT_UNUSED;
            if (keep) {
                uint64_t off = 0;
                if (!(rc = take_slot(m, &off, err)))
                    rc = vk_dev_write(m->file, m->slot, (size_t)m->lay.slot, off, err);
                if (!rc)
                    vk_dev_start_writeback(vk_vhd_file(m->vhd), off, m->lay.slot); /* the batch's fsync then waits less */
                nw = (uint32_t)(off / VHD_SECTOR);
            } else if (old == VHD_BAT_UNUSED) {
                continue;
            }
            m->e[m->ne++] = (struct entry){k, old, nw};
        }
        if (!rc && m->ne)
            rc = commit(m, ALIGN_PHASE_COPY, top - from, from, cursor, err);
        /* The old slots are free once no BAT entry names them. */
        for (size_t i = 0; i < m->ne && !rc; i++)
            if (m->e[i].old != VHD_BAT_UNUSED)
                rc = heap_push(m, (uint64_t)m->e[i].old * VHD_SECTOR, err);
    }
    return rc ? rc : align_journal_update(m->j, ALIGN_PHASE_PACK, 0, 0, err);
}

struct placed {
    uint64_t off;
    uint32_t blk;
};

static int by_off_desc(const void *x, const void *y)
{
    const struct placed *a = x, *b = y;
    return a->off > b->off ? -1 : a->off < b->off;
}

/* PACK: the blocks stored highest in the file go to the lowest free slots below them, a batch at a time; then the
 * file ends after the last block. Pairs are recomputed from the BAT on a resumed run. */
static int pack_phase(struct bmover *m, vk_error *err)
{
    uint64_t ignore;
    int rc = roll_forward(m, &ignore, err);
    if (rc < 0)
        return rc;
    struct vhd_rel_space sp;
    if ((rc = vhd_rel_free_slots(m->vhd, &sp, err)))
        return rc;
    struct placed *b = malloc(((size_t)m->lay.bat_entries + 1) * sizeof *b);
    size_t nblk = 0;
    if (!b)
        rc = vk_fail(err, VK_E_NOMEM, m->disk->name, VK_NO_OFFSET, NULL);
    for (uint32_t k = 0; !rc && k < m->lay.bat_entries; k++)
        if (vhd_cio_bat(m->vhd, k) != VHD_BAT_UNUSED)
            b[nblk++] = (struct placed){(uint64_t)vhd_cio_bat(m->vhd, k) * VHD_SECTOR, k};
    if (!rc)
        qsort(b, nblk, sizeof *b, by_off_desc);
    /* The i-th lowest free slot takes the i-th highest block while it lies below it. */
    uint64_t batches = m->j->pr.done;
    for (size_t i = 0; !rc && i < sp.nfree && i < nblk && sp.free[i] < b[i].off;) {
        m->ne = 0;
        for (; !rc && m->ne < m->nb && i < sp.nfree && i < nblk && sp.free[i] < b[i].off; i++) {
            rc = vhd_cio_copy(m->file, sp.free[i], m->file, b[i].off, m->lay.slot, m->slot, (size_t)m->lay.slot, err);
            m->e[m->ne++] = (struct entry){b[i].blk, (uint32_t)(b[i].off / VHD_SECTOR),
                                           (uint32_t)(sp.free[i] / VHD_SECTOR)};
        }
        if (!rc)
            rc = commit(m, ALIGN_PHASE_PACK, ++batches, 0, 0, err);
    }
    free(b);
    vhd_rel_space_free(&sp);
    if (!rc)
        rc = vhd_rel_free_slots(m->vhd, &sp, err);
    if (rc)
        return rc;
    uint64_t end = (sp.used_end + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
    vhd_rel_space_free(&sp);
    if (end < vhd_rel_end(m->vhd) && (rc = vhd_cio_shrink(m->vhd, end, err)))
        return rc;
    return align_journal_update(m->j, ALIGN_PHASE_PATCH, 0, 0, err);
}

int align_blocks_in_place(vk_dev *disk, vk_vhd *vhd, const struct align_plan *p, struct align_journal *j,
                          struct vk_align_result *res, vk_error *err)
{
    struct bmover m = {.disk = disk, .vhd = vhd, .file = vk_vhd_file(vhd), .j = j, .p = p, .vsize = disk->size};
    int rc = vhd_cio_layout(vhd, &m.lay, err);
    if (rc)
        return rc;
    if (p->round < 4096 || p->round > (256u << 20))
        return vk_fail(err, VK_E_CORRUPT, j->path, VK_NO_OFFSET, "journal plan: bad batch size %llu",
                       (unsigned long long)p->round);
    m.nb = p->round / m.lay.block_size ? (size_t)(p->round / m.lay.block_size) : 1;
    m.slot = malloc((size_t)m.lay.slot);
    m.e = malloc(m.nb * sizeof *m.e);
    m.rec = malloc(m.nb * REC_ENTRY);
    if (!m.slot || !m.e || !m.rec)
        rc = vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL);
    if (!rc && j->pr.phase == ALIGN_PHASE_COPY)
        rc = copy_phase(&m, res, err);
    if (!rc && j->pr.phase == ALIGN_PHASE_PACK)
        rc = pack_phase(&m, err);
    free(m.slot);
    free(m.e);
    free(m.rec);
    free(m.heap);
    return rc;
}
