/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Big values for Windows: from hive version 1.4 on, a value over 16344 bytes must be a db record pointing to
 * a list of segments of at most 16344 bytes (specification, "Big data"). hivex 1.3 writes such a value as one
 * raw cell, which Windows would read as a db record; this pass, run on committed bytes, moves each such value
 * into a new hive bin appended at the end (db cell, segment list, segments) and frees the raw cell. */
#include "reg_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checked.h"

struct fix {
    size_t vk;         /* file offset of the vk cell */
    uint32_t data_off; /* hive offset of the raw data cell */
    uint32_t len;      /* data size */
};

static uint32_t cell_len(uint32_t payload) { return (payload + 4 + 7) & ~7u; }
/* Segment cells keep 4 spare bytes: hivex 1.3 reads a segment as its cell size minus 8 (Windows takes the
 * segment sizes from the value length, so the padding costs nothing there). */
static uint32_t seg_cell_len(uint32_t payload) { return (payload + 8 + 7) & ~7u; }

/* Raw data cells of big values, found by walking every allocated cell of every bin. */
static int find_big(const uint8_t *d, uint32_t bins, struct fix **out, size_t *n, vk_error *err)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (uint64_t off = 0; off < bins;) {
        const uint8_t *b = d + REGF_BASE_LEN + off;
        uint32_t size = get_le32(b + 8);
        if (memcmp(b, "hbin", 4) || size < REGF_BIN_HDR || size % 4096 || !ck_range_inside(off, size, bins))
            return vk_fail(err, VK_E_CORRUPT, NULL, REGF_BASE_LEN + off, "bad hive bin while checking big values");
        for (uint32_t c = REGF_BIN_HDR; c + 4 <= size;) {
            int32_t cs = (int32_t)get_le32(b + c);
            uint32_t abs_cs = cs < 0 ? (uint32_t)-(int64_t)cs : (uint32_t)cs;
            if (abs_cs < 8 || abs_cs > size - c)
                return vk_fail(err, VK_E_CORRUPT, NULL, REGF_BASE_LEN + off + c, "bad cell size while checking big values");
            const uint8_t *p = b + c + 4;
            if (cs < 0 && abs_cs >= 4 + 20 && !memcmp(p, "vk", 2)) {
                uint32_t dl = get_le32(p + 4), doff = get_le32(p + 8);
                if (!(dl & 0x80000000u) && dl > REGF_BIG_SEGMENT && ck_range_inside(doff, 8, bins)) {
                    int32_t ds = (int32_t)get_le32(d + REGF_BASE_LEN + doff);
                    /* A raw cell holds the whole value; a db record cell is only a few bytes. */
                    if (ds < 0 && (uint64_t)-(int64_t)ds >= (uint64_t)dl + 4) {
                        if (*n == cap) {
                            cap = cap ? cap * 2 : 8;
                            struct fix *nf = realloc(*out, cap * sizeof *nf);
                            if (!nf)
                                return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
                            *out = nf;
                        }
                        (*out)[(*n)++] = (struct fix){(size_t)(p - d), doff, dl};
                    }
                }
            }
            c += abs_cs;
        }
        off += size;
    }
    return 0;
}

int reg_bigdata_fix(uint8_t **data, size_t *len, vk_error *err)
{
    uint8_t *d = *data;
    if (get_le32(d + REGF_OFF_MAJOR) != 1 || get_le32(d + REGF_OFF_MINOR) < 4)
        return 0;
    uint32_t bins = get_le32(d + REGF_OFF_BINS_LEN);
    if (bins % 4096 || !ck_range_inside(REGF_BASE_LEN, bins, *len))
        return vk_fail(err, VK_E_CORRUPT, NULL, REGF_OFF_BINS_LEN, "hive bins size does not match the file");
    struct fix *fx;
    size_t nfx;
    int rc = find_big(d, bins, &fx, &nfx, err);
    if (rc < 0 || nfx == 0) {
        free(fx);
        return rc;
    }
    uint64_t need = REGF_BIN_HDR;
    for (size_t i = 0; i < nfx; i++) {
        uint32_t segs = (fx[i].len + REGF_BIG_SEGMENT - 1) / REGF_BIG_SEGMENT;
        need += cell_len(8) + cell_len(4 * segs) + (uint64_t)(segs - 1) * seg_cell_len(REGF_BIG_SEGMENT) +
                seg_cell_len(fx[i].len - (segs - 1) * REGF_BIG_SEGMENT);
    }
    uint64_t bin_len;
    if (ck_align_up_u64(need, 4096, &bin_len) || (uint64_t)bins + bin_len > 0x7FFFF000u) {
        free(fx);
        return vk_fail(err, VK_E_RANGE, NULL, VK_NO_OFFSET, "big values do not fit a hive");
    }
    uint8_t *nd = realloc(d, REGF_BASE_LEN + (size_t)bins + (size_t)bin_len);
    if (!nd) {
        free(fx);
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for big values");
    }
    d = nd;
    uint8_t *bin = d + REGF_BASE_LEN + bins;
    memset(bin, 0, (size_t)bin_len);
    memcpy(bin, "hbin", 4);
    put_le32(bin + 4, bins);
    put_le32(bin + 8, (uint32_t)bin_len);
    uint32_t at = REGF_BIN_HDR; /* offset inside the new bin */
    for (size_t i = 0; i < nfx; i++) {
        uint32_t segs = (fx[i].len + REGF_BIG_SEGMENT - 1) / REGF_BIG_SEGMENT;
        const uint8_t *src = d + REGF_BASE_LEN + fx[i].data_off + 4;
        uint32_t db = at, list = db + cell_len(8);
        put_le32(bin + db, (uint32_t)-(int32_t)cell_len(8));
        memcpy(bin + db + 4, "db", 2);
        put_le16(bin + db + 6, (uint16_t)segs);
        put_le32(bin + db + 8, bins + list);
        put_le32(bin + list, (uint32_t)-(int32_t)cell_len(4 * segs));
        at = list + cell_len(4 * segs);
        for (uint32_t s = 0; s < segs; s++) {
            uint32_t piece = s + 1 < segs ? REGF_BIG_SEGMENT : fx[i].len - s * REGF_BIG_SEGMENT;
            put_le32(bin + list + 4 + 4 * s, bins + at);
            put_le32(bin + at, (uint32_t)-(int32_t)seg_cell_len(piece));
            memcpy(bin + at + 4, src + (size_t)s * REGF_BIG_SEGMENT, piece);
            at += seg_cell_len(piece);
        }
        put_le32(d + fx[i].vk + 8, bins + db);
        /* The old raw cell becomes free space. */
        uint8_t *old = d + REGF_BASE_LEN + fx[i].data_off;
        put_le32(old, (uint32_t)-(int32_t)get_le32(old));
    }
    if (at < bin_len)
        put_le32(bin + at, (uint32_t)bin_len - at);
    put_le32(d + REGF_OFF_BINS_LEN, bins + (uint32_t)bin_len);
    free(fx);
    *data = d;
    *len = REGF_BASE_LEN + (size_t)bins + (size_t)bin_len;
    return 0;
}
