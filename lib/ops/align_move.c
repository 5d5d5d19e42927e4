/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align in place: each moved partition goes up by its shift S, from its end backwards, in rounds of plan->round
 * bytes. A round whose destination overlaps its own source (S < round: an XP partition at 63 moved to 1 MiB has
 * S just under 1 MiB) is first saved whole in the journal as a round record (which bytes, which 4 KiB units are
 * zero, the others' data, CRCs), synced, and only then written to its place: a crash at any write is redone from
 * the record, and no source byte is needed after it was overwritten. That costs the round's data written twice,
 * but one journal sync and one disk sync per round, where moving S bytes at a time without a copy needs two syncs
 * per S bytes (about 14 ms per MiB on a disk whose sync takes 5 ms). When S >= round, rounds never overlap their
 * source and go straight to their place, the progress record following the disk's sync. Zero units are not stored,
 * and not written where the destination already reads as zero. Last, the bytes a partition left below its new start
 * are zeroed (zero_vacated). Dynamic VHDs take another way (align_blocks.c). */
#include "ops/align_journal.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "part/layout.h"

#define UNIT 4096u
#define ROUND_DEFAULT (32u << 20)
#define ROUND_MAX (256u << 20)
#define ZERO_BUF (1u << 20)
/* Round record header: "VKROUND1", source, destination, length, stored data length, data check value (data_sum),
 * then the bitmap of stored (non-zero) units. */
#define HEAD_FIXED 48
static const char head_magic[8] = "VKROUND1";

uint64_t align_round_size(void)
{
    const char *s = getenv("VHDKIT_TEST_ALIGN_ROUND");
    if (s && *s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (!*end && v >= UNIT && v <= ROUND_MAX && v % UNIT == 0)
            return v;
    }
    return ROUND_DEFAULT;
}

static size_t head_cap(uint64_t round)
{
    uint64_t units = (round + UNIT - 1) / UNIT;
    return (size_t)((HEAD_FIXED + (units + 7) / 8 + UNIT - 1) / UNIT * UNIT);
}

uint64_t align_round_area(uint64_t round) { return head_cap(round) + round; }

int align_reads_zero(vk_dev *dev, uint64_t off, uint64_t len, vk_error *err)
{
    while (len) {
        vk_extent e;
        int rc = vk_dev_extent(dev, off, len, &e, err);
        if (rc)
            return rc;
        if (e.kind != VK_EXTENT_ZERO && e.kind != VK_EXTENT_UNALLOC)
            return 0;
        off += e.len;
        len -= e.len;
    }
    return 1;
}

/* The round data's check value: a 64-bit multiply-xor hash over 8-byte words (a bitwise CRC32 took 80% of the
 * run's CPU time on 1 GiB); it only has to tell a record that landed whole from one cut by a crash. */
static uint64_t data_sum(const uint8_t *b, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        h ^= get_le64(b + i);
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static int all_zero(const uint8_t *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

/* What each byte range of a partition's source and destination held when its move began: one extent question per
 * run instead of one per round (on ext4, SEEK_HOLE over preallocated extents scans the page cache up to the hole,
 * so asking per round over a fixed VHD was quadratic). The answers stay true for the whole move of the partition: a
 * round's source and destination are never written by the rounds before it (those write above them), and a
 * replayed round was written before the map was made. Past MAP_MAX runs the device is asked each time. */
#define MAP_MAX (1u << 20)
struct zmap {
    uint64_t *end;       /* run i covers [end[i-1] (or start), end[i]) */
    uint8_t *zero;
    uint64_t start;
    size_t n, cap;
    int ok;
};

static int zmap_build(struct zmap *z, vk_dev *dev, uint64_t from, uint64_t limit, vk_error *err)
{
    z->n = 0;
    z->ok = 1;
    z->start = from;
    for (uint64_t pos = from; pos < limit;) {
        vk_extent e;
        int rc = vk_dev_extent(dev, pos, limit - pos, &e, err);
        if (rc)
            return rc;
        uint8_t zero = e.kind == VK_EXTENT_ZERO || e.kind == VK_EXTENT_UNALLOC;
        pos += e.len;
        if (z->n && z->zero[z->n - 1] == zero) {
            z->end[z->n - 1] = pos;
            continue;
        }
        if (z->n == MAP_MAX) {
            z->ok = 0;
            return 0;
        }
        if (z->n == z->cap) {
            size_t cap = z->cap ? z->cap * 2 : 256;
            uint64_t *ne = realloc(z->end, cap * sizeof *ne);
            if (ne)
                z->end = ne;
            uint8_t *nz = ne ? realloc(z->zero, cap) : NULL;
            if (!ne || !nz)
                return vk_fail(err, VK_E_NOMEM, dev->name, VK_NO_OFFSET, NULL);
            z->zero = nz;
            z->cap = cap;
        }
        z->end[z->n] = pos;
        z->zero[z->n] = zero;
        z->n++;
    }
    return 0;
}

/* The run holding `off` (inside the mapped range): its kind and where it ends. */
static void zmap_at(const struct zmap *z, uint64_t off, int *zero, uint64_t *end)
{
    size_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->end[mid] <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    *zero = z->zero[lo];
    *end = z->end[lo];
}

/* Like align_reads_zero, through the map when there is one. */
static int map_zero(const struct zmap *z, vk_dev *dev, uint64_t off, uint64_t len, vk_error *err)
{
    if (!z->ok || !z->n || off < z->start || off + len > z->end[z->n - 1])
        return align_reads_zero(dev, off, len, err);
    for (uint64_t pos = off; pos < off + len;) {
        int zero;
        uint64_t end;
        zmap_at(z, pos, &zero, &end);
        if (!zero)
            return 0;
        pos = end;
    }
    return 1;
}

struct mover {
    vk_dev *disk;
    struct align_journal *j;
    uint64_t round;
    uint8_t *buf;        /* round bytes, then compacted to the stored units */
    uint8_t *head;       /* head_cap(round) */
    uint8_t *zero;       /* ZERO_BUF zero bytes */
    struct zmap map;     /* of the partition being moved (map.ok 0: none) */
};

/* Reads [off, off+n) without reading what is known to be zero. */
static int read_round(struct mover *m, uint64_t off, size_t n, vk_error *err)
{
    for (size_t at = 0; at < n;) {
        int zero;
        uint64_t end;
        if (m->map.ok && m->map.n && off + at >= m->map.start && off + n <= m->map.end[m->map.n - 1]) {
            zmap_at(&m->map, off + at, &zero, &end);
        } else {
            vk_extent e;
            int rc = vk_dev_extent(m->disk, off + at, n - at, &e, err);
            if (rc)
                return rc;
            zero = e.kind == VK_EXTENT_ZERO || e.kind == VK_EXTENT_UNALLOC;
            end = off + at + e.len;
        }
        size_t len = (size_t)((end < off + n ? end : off + n) - (off + at));
        int rc = 0;
        if (zero)
            memset(m->buf + at, 0, len);
        else if ((rc = vk_dev_read(m->disk, m->buf + at, len, off + at, err)))
            return rc;
        at += len;
    }
    return 0;
}

/* Builds the header for the round in m->buf and compacts the stored units to its front; returns the header length
 * and sets *dlen to the stored bytes. */
static size_t encode(struct mover *m, uint64_t src, uint64_t dst, size_t n, size_t *dlen)
{
    size_t units = (n + UNIT - 1) / UNIT, w = 0;
    uint8_t *bits = m->head + HEAD_FIXED;
    memset(bits, 0, (units + 7) / 8);
    for (size_t u = 0; u < units; u++) {
        size_t at = u * UNIT, len = n - at < UNIT ? n - at : UNIT;
        if (all_zero(m->buf + at, len))
            continue;
        bits[u / 8] |= (uint8_t)(1u << (u % 8));
        if (w != at)
            memmove(m->buf + w, m->buf + at, len);
        w += len;
    }
    memcpy(m->head, head_magic, 8);
    put_le64(m->head + 8, src);
    put_le64(m->head + 16, dst);
    put_le64(m->head + 24, n);
    put_le64(m->head + 32, w);
    put_le64(m->head + 40, data_sum(m->buf, w));
    *dlen = w;
    return HEAD_FIXED + (units + 7) / 8;
}

/* Writes a round (header + stored units) at its destination: stored runs as they are, zero runs only where the
 * destination does not read as zero. *wrote: bytes written. */
static int apply(struct mover *m, const uint8_t *head, const uint8_t *data, uint64_t *wrote, vk_error *err)
{
    uint64_t dst = get_le64(head + 16), n = get_le64(head + 24);
    const uint8_t *bits = head + HEAD_FIXED;
    size_t units = (size_t)((n + UNIT - 1) / UNIT), u = 0;
    int rc = 0;
    while (u < units && !rc) {
        int stored = (bits[u / 8] >> (u % 8)) & 1;
        size_t v = u;
        while (v < units && ((bits[v / 8] >> (v % 8)) & 1) == stored)
            v++;
        uint64_t at = (uint64_t)u * UNIT, len = ((uint64_t)v * UNIT < n ? (uint64_t)v * UNIT : n) - at;
        if (stored) {
            rc = vk_dev_write(m->disk, data, (size_t)len, dst + at, err);
            data += len;
            *wrote += len;
        } else if ((rc = map_zero(&m->map, m->disk, dst + at, len, err)) == 0) {
            for (uint64_t z = 0; z < len && !rc; z += ZERO_BUF) {
                size_t piece = len - z < ZERO_BUF ? (size_t)(len - z) : ZERO_BUF;
                rc = vk_dev_write(m->disk, m->zero, piece, dst + at + z, err);
                *wrote += piece;
            }
        } else if (rc > 0) {
            rc = 0;
        }
        u = v;
    }
    return rc;
}

/* A resumed run: the round the newest progress record names is written again from the journal when its record
 * landed whole; then its bytes count as done. */
static int replay(struct mover *m, uint64_t *done, vk_error *err)
{
    uint64_t at;
    int ok = align_journal_get_round(m->j, m->head, head_cap(m->round), &at, err);
    if (ok <= 0)
        return ok;
    uint64_t n = get_le64(m->head + 24), dlen = get_le64(m->head + 32);
    if (memcmp(m->head, head_magic, 8) || n > m->round || dlen > n || at + dlen > m->j->dev->size)
        return 0;
    int rc = vk_dev_read(m->j->dev, m->buf, (size_t)dlen, at, err);
    if (rc)
        return rc;
    if (data_sum(m->buf, (size_t)dlen) != get_le64(m->head + 40))
        return 0; /* the record did not land: nor did any write of its round */
    uint64_t wrote = 0;
    if ((rc = apply(m, m->head, m->buf, &wrote, err)) || (rc = vk_dev_flush(m->disk, err)))
        return rc;
    *done += n;
    return 0;
}

static int move_one(struct mover *m, uint32_t step, uint64_t from, uint64_t to, uint64_t len, uint64_t done,
                    vk_error *err)
{
    uint64_t shift = to - from;
    int direct = shift >= m->round;
    int rc = done < len ? zmap_build(&m->map, m->disk, from, from + len - done + shift, err) : 0;
    while (done < len && !rc) {
        size_t n = len - done < m->round ? (size_t)(len - done) : (size_t)m->round;
        uint64_t src = from + len - done - n, dst = src + shift;
        size_t dlen, hlen;
        if ((rc = read_round(m, src, n, err)))
            break;
        hlen = encode(m, src, dst, n, &dlen);
        if (!dlen && (rc = map_zero(&m->map, m->disk, dst, n, err)) != 0) {
            if (rc < 0)
                break;
            rc = 0;
            done += n; /* nothing to write; the next record says so */
            continue;
        }
        if (!direct &&
            (rc = align_journal_put_record(m->j, ALIGN_PHASE_COPY, step, done, m->head, hlen, m->buf, dlen, err)))
            break;
        uint64_t wrote = 0;
        if ((rc = apply(m, m->head, m->buf, &wrote, err)) || (rc = vk_dev_flush(m->disk, err)))
            break;
        done += n;
        if (direct)
            rc = align_journal_update(m->j, ALIGN_PHASE_COPY, step, done, err);
    }
    return rc;
}

/* After every move: zeros where a moved partition was and none is now (the gap below each new start), as -o and the
 * dynamic path leave it. Written again by a resumed run (idempotent); zero where it reads as zero already. */
static int zero_vacated(struct mover *m, const struct align_plan *p, vk_error *err)
{
    uint64_t lo, hi, src, end;
    align_moved_span(p, &lo, &hi);
    int rc = 0;
    for (uint64_t v = lo; v < hi && !rc; v = end) {
        if (align_seg_at(p, v, &src, &end) != ALIGN_SEG_VACATED)
            continue;
        if ((rc = align_reads_zero(m->disk, v, end - v, err)) != 0) {
            rc = rc > 0 ? 0 : rc;
            continue;
        }
        for (uint64_t z = v; z < end && !rc; z += ZERO_BUF)
            rc = vk_dev_write(m->disk, m->zero, end - z < ZERO_BUF ? (size_t)(end - z) : ZERO_BUF, z, err);
    }
    return rc ? rc : vk_dev_flush(m->disk, err);
}

int align_move_in_place(vk_dev *disk, const struct align_plan *p, struct align_journal *j,
                        struct vk_align_result *res, vk_error *err)
{
    struct mover m = {.disk = disk, .j = j, .round = p->round};
    if (m.round < UNIT || m.round > ROUND_MAX || m.round % UNIT)
        return vk_fail(err, VK_E_CORRUPT, j->path, VK_NO_OFFSET, "journal plan: bad round size %llu",
                       (unsigned long long)m.round);
    m.buf = malloc((size_t)m.round);
    m.head = malloc(head_cap(m.round));
    m.zero = calloc(1, ZERO_BUF);
    int rc = !m.buf || !m.head || !m.zero ? vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL) : 0;
    uint64_t done = j->pr.done;
    if (!rc && j->pr.rlen)
        rc = replay(&m, &done, err);
    for (uint32_t k = j->pr.step; k < p->nmoves && !rc; k++) {
        unsigned i = p->order[k];
        uint64_t len = p->parts[i].len;
        if (k != j->pr.step)
            done = 0;
        if (done > len) {
            rc = vk_fail(err, VK_E_CORRUPT, j->path, 0, "journal progress past the partition end");
            break;
        }
        res->bytes_moved += len - done;
        rc = move_one(&m, k, p->parts[i].start_off, p->new_lba[i] * VK_SECTOR_SIZE, len, done, err);
    }
    if (!rc)
        rc = zero_vacated(&m, p, err);
    free(m.buf);
    free(m.head);
    free(m.zero);
    free(m.map.end);
    free(m.map.zero);
    return rc;
}
