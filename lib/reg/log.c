/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dirty hive recovery from .LOG1/.LOG2 as Windows does it (Windows registry file format specification,
 * "Format of transaction log files", "Dirty state of a hive", "Multiple transaction log files"):
 * new format (file type 6): HvLE log entries with Marvin32 hashes, applied in sequence-number order from the
 * hive's secondary sequence number on, stopping at the first bad or out-of-sequence entry;
 * old format (file type 1): a DIRT bitmap of 512-byte pages followed by those pages, applied when the log's
 * timestamp matches the hive's, then every hive bin is checked. */
#include "reg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checked.h"

#define LOG_TYPE_OLD 1u
#define LOG_TYPE_OLD_ALT 2u
#define LOG_TYPE_NEW 6u
#define HVLE_HDR 40u
#define MARVIN_SEED 0x82EF4D887A4E55C5ull
/* A hive larger than this is not something Windows writes (the hive size limit is 2 GiB). */
#define MAX_BINS_LEN 0x80000000u

static inline uint32_t rotl32(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

static void marvin_mix(uint32_t *lo, uint32_t *hi)
{
    *hi ^= *lo;
    *lo = rotl32(*lo, 20);
    *lo += *hi;
    *hi = rotl32(*hi, 9);
    *hi ^= *lo;
    *lo = rotl32(*lo, 27);
    *lo += *hi;
    *hi = rotl32(*hi, 19);
}

uint64_t reg_marvin32(const uint8_t *p, size_t n, uint64_t seed)
{
    uint32_t lo = (uint32_t)seed, hi = (uint32_t)(seed >> 32);
    for (; n >= 4; p += 4, n -= 4) {
        lo += get_le32(p);
        marvin_mix(&lo, &hi);
    }
    uint32_t fin = 0x80;
    if (n == 1)
        fin = 0x8000u | p[0];
    else if (n == 2)
        fin = 0x800000u | get_le16(p);
    else if (n == 3)
        fin = 0x80000000u | get_le16(p) | ((uint32_t)p[2] << 16);
    lo += fin;
    marvin_mix(&lo, &hi);
    marvin_mix(&lo, &hi);
    return ((uint64_t)hi << 32) | lo;
}

static bool base_ok(const uint8_t *b, size_t len)
{
    return len >= 512 && !memcmp(b, "regf", 4) && get_le32(b + REGF_OFF_CSUM) == reg_base_checksum(b);
}

struct entry {
    const uint8_t *p; /* the HvLE entry */
    uint32_t size, seq, bins_len, npages;
};

/* Valid log entries of one new-format log, in file order, up to the first bad one. */
static size_t scan_entries(const vk_reg_log *log, struct entry *out, size_t max)
{
    size_t n = 0;
    for (uint64_t off = 512; off + HVLE_HDR <= log->len && n < max;) {
        const uint8_t *e = log->data + off;
        if (memcmp(e, "HvLE", 4))
            break;
        uint32_t size = get_le32(e + 4), npages = get_le32(e + 20), bins = get_le32(e + 16);
        if (size < HVLE_HDR || size % 512 || !ck_range_inside(off, size, log->len))
            break;
        if ((uint64_t)npages * 8 > size - HVLE_HDR || bins == 0 || bins % 4096 || bins > MAX_BINS_LEN)
            break;
        if (reg_marvin32(e + HVLE_HDR, size - HVLE_HDR, MARVIN_SEED) != get_le64(e + 24) ||
            reg_marvin32(e, 32, MARVIN_SEED) != get_le64(e + 32))
            break;
        /* Every page must lie inside the entry and inside the hive bins data it describes. */
        uint64_t data_off = HVLE_HDR + (uint64_t)npages * 8, total = data_off;
        bool ok = true;
        for (uint32_t i = 0; i < npages && ok; i++) {
            uint32_t po = get_le32(e + HVLE_HDR + 8 * i), ps = get_le32(e + HVLE_HDR + 8 * i + 4);
            ok = ps % 512 == 0 && ck_range_inside(po, ps, bins) && !ck_add_u64(total, ps, &total) && total <= size;
        }
        if (!ok)
            break;
        if (n && get_le32(e + 12) != out[n - 1].seq + 1)
            break;
        out[n++] = (struct entry){e, size, get_le32(e + 12), bins, npages};
        off += size;
    }
    return n;
}

static int resize_bins(uint8_t **data, size_t *len, uint32_t bins, vk_error *err)
{
    size_t want = REGF_BASE_LEN + (size_t)bins;
    if (want == *len)
        return 0;
    uint8_t *n = realloc(*data, want);
    if (!n)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory to grow the hive to %zu bytes", want);
    if (want > *len)
        memset(n + *len, 0, want - *len);
    *data = n;
    *len = want;
    return 0;
}

static void apply_entry(uint8_t *hive, const struct entry *e)
{
    const uint8_t *page = e->p + HVLE_HDR + (size_t)e->npages * 8;
    for (uint32_t i = 0; i < e->npages; i++) {
        uint32_t po = get_le32(e->p + HVLE_HDR + 8 * i), ps = get_le32(e->p + HVLE_HDR + 8 * i + 4);
        memcpy(hive + REGF_BASE_LEN + po, page, ps);
        page += ps;
    }
}

#define MAX_ENTRIES 65536

static int recover_new(uint8_t **data, size_t *len, const vk_reg_log *logs[2], unsigned *applied, char *warn,
                       size_t wcap, vk_error *err)
{
    struct entry *ent[2];
    size_t n[2] = {0, 0}, max[2];
    /* Entries are at least 512 bytes long: that bounds how many a log can hold. */
    for (int i = 0; i < 2; i++) {
        size_t m = logs[i] ? logs[i]->len / 512 : 0;
        max[i] = m < MAX_ENTRIES ? m : MAX_ENTRIES;
    }
    ent[0] = malloc((max[0] + max[1] + 1) * sizeof **ent);
    if (!ent[0])
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for log entries");
    ent[1] = ent[0] + max[0];
    for (int i = 0; i < 2; i++)
        if (logs[i])
            n[i] = scan_entries(logs[i], ent[i], max[i]);
    /* The log holding the earlier entries goes first (normally .LOG1, unless the logs were rotated). */
    int first = (n[0] && n[1] && ent[1][0].seq < ent[0][0].seq) || !n[0] ? 1 : 0;
    uint8_t *h = *data;
    if (!base_ok(h, *len)) {
        /* A damaged base block comes back from the log's copy of it. */
        const vk_reg_log *src = logs[first] ? logs[first] : logs[1 - first];
        memcpy(h, src->data, 512);
        memset(h + 512, 0, REGF_BASE_LEN - 512);
        put_le32(h + REGF_OFF_TYPE, 0);
    }
    uint32_t next = get_le32(h + REGF_OFF_SEQ2);
    bool started = false;
    uint32_t last = 0;
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        int li = k == 0 ? first : 1 - first;
        for (size_t i = 0; i < n[li]; i++) {
            const struct entry *e = &ent[li][i];
            if (!started && e->seq < next)
                continue; /* already in the hive */
            if (started && e->seq != last + 1)
                break; /* a gap: later entries do not follow from this state */
            rc = resize_bins(data, len, e->bins_len, err);
            if (rc < 0)
                break;
            apply_entry(*data, e);
            put_le32(*data + REGF_OFF_BINS_LEN, e->bins_len);
            last = e->seq;
            started = true;
            (*applied)++;
        }
    }
    free(ent[0]);
    if (rc < 0)
        return rc;
    if (!started) {
        snprintf(warn, wcap, "hive is dirty (sequence numbers %u and %u) and its logs hold no entry from %u on (%zu and %zu valid entries)",
                 get_le32(*data + REGF_OFF_SEQ1), get_le32(*data + REGF_OFF_SEQ2), next, n[0], n[1]);
        return 1;
    }
    put_le32(*data + REGF_OFF_SEQ1, last);
    put_le32(*data + REGF_OFF_SEQ2, last);
    return 0;
}

/* Every hive bin in [0, bins) has its signature and its own offset: what old-format recovery checks. */
static bool bins_ok(const uint8_t *hive, uint32_t bins)
{
    for (uint64_t off = 0; off < bins;) {
        const uint8_t *b = hive + REGF_BASE_LEN + off;
        uint32_t size = get_le32(b + 8);
        if (memcmp(b, "hbin", 4) || get_le32(b + 4) != off || size == 0 || size % 4096 || !ck_range_inside(off, size, bins))
            return false;
        off += size;
    }
    return true;
}

static int recover_old(uint8_t **data, size_t *len, const vk_reg_log *log, unsigned *applied, char *warn, size_t wcap,
                       vk_error *err)
{
    const uint8_t *lb = log->data;
    uint8_t *h = *data;
    /* The log applies only to the hive state it was written against: same last-written timestamp, taken from
     * the base block or, when that is damaged, from the first hive bin that backs it up. */
    if (memcmp(lb + REGF_OFF_TIME, h + REGF_OFF_TIME, 8) && memcmp(lb + REGF_OFF_TIME, h + REGF_BASE_LEN + 20, 8)) {
        snprintf(warn, wcap, "hive is dirty and its old-format log was written for another hive state (timestamps differ)");
        return 1;
    }
    if (get_le32(lb + REGF_OFF_SEQ1) != get_le32(lb + REGF_OFF_SEQ2)) {
        snprintf(warn, wcap, "hive is dirty and its old-format log is incomplete (log sequence numbers %u and %u)",
                 get_le32(lb + REGF_OFF_SEQ1), get_le32(lb + REGF_OFF_SEQ2));
        return 1;
    }
    uint32_t bins = get_le32(lb + REGF_OFF_BINS_LEN);
    if (bins == 0 || bins % 4096 || bins > MAX_BINS_LEN || log->len < 1024 || memcmp(lb + 512, "DIRT", 4)) {
        snprintf(warn, wcap, "hive is dirty and its old-format log has no valid dirty vector");
        return 1;
    }
    uint64_t bits = bins / 512, vec_len = bits / 8;
    uint64_t pages_off;
    if (ck_align_up_u64(512 + 4 + vec_len, 512, &pages_off) || !ck_range_inside(512 + 4, vec_len, log->len)) {
        snprintf(warn, wcap, "hive is dirty and its old-format log is truncated in its dirty vector");
        return 1;
    }
    uint8_t *copy = malloc(REGF_BASE_LEN + (size_t)bins);
    if (!copy)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for hive recovery");
    size_t have = *len < REGF_BASE_LEN + (size_t)bins ? *len : REGF_BASE_LEN + (size_t)bins;
    memcpy(copy, h, have);
    memset(copy + have, 0, REGF_BASE_LEN + (size_t)bins - have);
    const uint8_t *vec = lb + 512 + 4;
    uint64_t src = pages_off;
    unsigned pages = 0;
    for (uint64_t i = 0; i < bits; i++) {
        if (!(vec[i / 8] & (1u << (i % 8))))
            continue;
        if (!ck_range_inside(src, 512, log->len)) {
            free(copy);
            snprintf(warn, wcap, "hive is dirty and its old-format log is truncated after %u dirty pages", pages);
            return 1;
        }
        memcpy(copy + REGF_BASE_LEN + i * 512, lb + src, 512);
        src += 512;
        pages++;
    }
    if (!bins_ok(copy, bins)) {
        free(copy);
        snprintf(warn, wcap, "hive is dirty and replaying its old-format log gives invalid hive bins");
        return 1;
    }
    memcpy(copy, lb, 512);
    memset(copy + 512, 0, REGF_BASE_LEN - 512);
    put_le32(copy + REGF_OFF_TYPE, 0);
    free(*data);
    *data = copy;
    *len = REGF_BASE_LEN + (size_t)bins;
    *applied = pages;
    return 0;
}

int reg_log_recover(uint8_t **data, size_t *len, const vk_reg_log *log1, const vk_reg_log *log2, unsigned *applied,
                    char *warn, size_t warncap, vk_error *err)
{
    uint8_t *h = *data;
    *applied = 0;
    bool sum_ok = base_ok(h, *len);
    uint32_t s1 = get_le32(h + REGF_OFF_SEQ1), s2 = get_le32(h + REGF_OFF_SEQ2);
    if (sum_ok && s1 == s2)
        return 0;
    const vk_reg_log *in[2] = {log1, log2};
    const vk_reg_log *newf[2] = {NULL, NULL}, *oldf = NULL;
    for (int i = 0; i < 2; i++) {
        const vk_reg_log *l = in[i];
        if (!l || !l->data || !base_ok(l->data, l->len))
            continue;
        uint32_t t = get_le32(l->data + REGF_OFF_TYPE);
        if (t == LOG_TYPE_NEW)
            newf[i] = l;
        else if ((t == LOG_TYPE_OLD || t == LOG_TYPE_OLD_ALT) && !oldf)
            oldf = l;
    }
    int rc;
    if (newf[0] || newf[1])
        rc = recover_new(data, len, newf, applied, warn, warncap, err);
    else if (oldf)
        rc = recover_old(data, len, oldf, applied, warn, warncap, err);
    else {
        snprintf(warn, warncap, "hive is dirty (%s) and has no usable log (%d given)",
                 sum_ok ? "sequence numbers differ" : "bad base block checksum", (log1 && log1->data ? 1 : 0) + (log2 && log2->data ? 1 : 0));
        rc = 1;
    }
    if (rc != 0)
        return rc;
    put_le32(*data + REGF_OFF_CSUM, reg_base_checksum(*data));
    return 0;
}
