/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align's registry-step overlay and redo log (see align_redo.h): pages written are kept in an open-addressing hash
 * keyed by page index; reads merge them over the base device. */
#include "ops/align_redo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/sort.h"

#define PAGE 4096u
#define REC_HEAD 16u
#define EMPTY UINT64_MAX

struct overlay {
    vk_dev *base;
    uint64_t *keys;    /* page index, or EMPTY */
    uint8_t **pages;   /* PAGE bytes each (the last page of the device is used only up to its size) */
    size_t cap, used;  /* cap: a power of two */
};

static struct overlay *ov_of(vk_dev *dev) { return dev->priv; }

static size_t slot_of(const struct overlay *o, uint64_t key)
{
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (o->cap - 1);
    while (o->keys[i] != EMPTY && o->keys[i] != key)
        i = (i + 1) & (o->cap - 1);
    return i;
}

static uint8_t *page_get(const struct overlay *o, uint64_t key)
{
    if (!o->used)
        return NULL;
    size_t i = slot_of(o, key);
    return o->keys[i] == key ? o->pages[i] : NULL;
}

static int grow(struct overlay *o, vk_error *err)
{
    size_t ncap = o->cap ? o->cap * 2 : 256;
    uint64_t *k = malloc(ncap * sizeof *k);
    uint8_t **p = calloc(ncap, sizeof *p);
    if (!k || !p) {
        free(k);
        free(p);
        return vk_fail(err, VK_E_NOMEM, o->base->name, VK_NO_OFFSET, NULL);
    }
    for (size_t i = 0; i < ncap; i++)
        k[i] = EMPTY;
    struct overlay n = {.base = o->base, .keys = k, .pages = p, .cap = ncap, .used = o->used};
    for (size_t i = 0; i < o->cap; i++)
        if (o->keys[i] != EMPTY) {
            size_t s = slot_of(&n, o->keys[i]);
            n.keys[s] = o->keys[i];
            n.pages[s] = o->pages[i];
        }
    free(o->keys);
    free(o->pages);
    *o = n;
    return 0;
}

static size_t page_len(const struct overlay *o, uint64_t key)
{
    uint64_t left = o->base->size - key * PAGE;
    return left < PAGE ? (size_t)left : PAGE;
}

/* The page `key`, made (with the base's bytes) when missing. */
static int page_make(struct overlay *o, uint64_t key, uint8_t **out, vk_error *err)
{
    if ((*out = page_get(o, key)))
        return 0;
    int rc;
    if ((o->used + 1) * 2 > o->cap && (rc = grow(o, err)))
        return rc;
    uint8_t *pg = malloc(PAGE);
    if (!pg)
        return vk_fail(err, VK_E_NOMEM, o->base->name, VK_NO_OFFSET, NULL);
    if ((rc = vk_dev_read(o->base, pg, page_len(o, key), key * PAGE, err))) {
        free(pg);
        return rc;
    }
    size_t s = slot_of(o, key);
    o->keys[s] = key;
    o->pages[s] = pg;
    o->used++;
    *out = pg;
    return 0;
}

static int ov_read(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err)
{
    struct overlay *o = ov_of(dev);
    uint8_t *b = buf;
    uint64_t base_from = off; /* start of the pending run to read from the base */
    uint64_t pos = off, end = off + len;
    while (pos < end) {
        uint64_t key = pos / PAGE, pend = (key + 1) * PAGE < end ? (key + 1) * PAGE : end;
        const uint8_t *pg = page_get(o, key);
        if (pg) {
            int rc = base_from < pos ? vk_dev_read(o->base, b + (base_from - off), (size_t)(pos - base_from), base_from, err) : 0;
            if (rc)
                return rc;
            memcpy(b + (pos - off), pg + (pos - key * PAGE), (size_t)(pend - pos));
            base_from = pend;
        }
        pos = pend;
    }
    return base_from < end ? vk_dev_read(o->base, b + (base_from - off), (size_t)(end - base_from), base_from, err) : 0;
}

static int ov_write(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err)
{
    struct overlay *o = ov_of(dev);
    const uint8_t *b = buf;
    for (uint64_t pos = off, end = off + len; pos < end;) {
        uint64_t key = pos / PAGE, pend = (key + 1) * PAGE < end ? (key + 1) * PAGE : end;
        uint8_t *pg;
        int rc = page_make(o, key, &pg, err);
        if (rc)
            return rc;
        memcpy(pg + (pos - key * PAGE), b + (pos - off), (size_t)(pend - pos));
        pos = pend;
    }
    return 0;
}

/* Nothing reaches the disk before the log is saved: a flush has nothing to do. */
static int ov_flush(vk_dev *dev, vk_error *err)
{
    (void)dev;
    (void)err;
    return 0;
}

static int ov_extent(vk_dev *dev, uint64_t off, uint64_t len, vk_extent *out, vk_error *err)
{
    struct overlay *o = ov_of(dev);
    uint64_t key = off / PAGE;
    if (page_get(o, key)) {
        uint64_t e = (key + 1) * PAGE;
        while (e < off + len && page_get(o, e / PAGE))
            e += PAGE;
        out->kind = VK_EXTENT_DATA;
        out->len = e - off < len ? e - off : len;
        return 0;
    }
    int rc = vk_dev_extent(o->base, off, len, out, err);
    /* The base's answer holds only up to the next kept page. */
    for (uint64_t k = key + 1; !rc && o->used && k * PAGE < off + out->len; k++)
        if (page_get(o, k)) {
            out->len = k * PAGE - off;
            break;
        }
    return rc;
}

static void ov_close(vk_dev *dev)
{
    struct overlay *o = ov_of(dev);
    for (size_t i = 0; i < o->cap; i++)
        free(o->pages[i]);
    free(o->keys);
    free(o->pages);
    free(o);
    free(dev);
}

static const struct vk_dev_ops overlay_ops = {
    .type = "overlay",
    .read = ov_read,
    .write = ov_write,
    .flush = ov_flush,
    .extent = ov_extent,
    .close = ov_close,
};

int align_overlay_open(vk_dev *base, vk_dev **out, vk_error *err)
{
    vk_dev *dev = calloc(1, sizeof *dev);
    struct overlay *o = calloc(1, sizeof *o);
    if (!dev || !o) {
        free(dev);
        free(o);
        return vk_fail(err, VK_E_NOMEM, base->name, VK_NO_OFFSET, NULL);
    }
    o->base = base;
    dev->ops = &overlay_ops;
    dev->priv = o;
    dev->size = base->size;
    dev->flags = base->flags;
    snprintf(dev->name, sizeof dev->name, "%s", base->name);
    *out = dev;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int align_overlay_log(vk_dev *ov, uint8_t **log, size_t *len, vk_error *err)
{
    struct overlay *o = ov_of(ov);
    *log = NULL;
    *len = 0;
    if (!o->used)
        return 0;
    uint64_t *keys = malloc(o->used * sizeof *keys);
    uint8_t *out = malloc(o->used * (PAGE + REC_HEAD));
    if (!keys || !out) {
        free(keys);
        free(out);
        return vk_fail(err, VK_E_NOMEM, ov->name, VK_NO_OFFSET, NULL);
    }
    size_t n = 0, w = 0;
    for (size_t i = 0; i < o->cap; i++)
        if (o->keys[i] != EMPTY)
            keys[n++] = o->keys[i];
    vk_sort(keys, n, sizeof *keys, cmp_u64);
    for (size_t i = 0; i < n;) {
        size_t j = i, head = w;
        w += REC_HEAD;
        uint64_t bytes = 0;
        do {
            size_t pl = page_len(o, keys[j]);
            memcpy(out + w, page_get(o, keys[j]), pl);
            w += pl;
            bytes += pl;
            j++;
        } while (j < n && keys[j] == keys[j - 1] + 1);
        put_le64(out + head, keys[i] * PAGE);
        put_le64(out + head + 8, bytes);
        i = j;
    }
    free(keys);
    *log = out;
    *len = w;
    return 0;
}

int align_redo_apply(const uint8_t *log, size_t len, vk_dev *disk, const char *where, vk_error *err)
{
    for (size_t r = 0; r < len;) {
        if (len - r < REC_HEAD)
            return vk_fail(err, VK_E_CORRUPT, where, r, "redo log record cut short");
        uint64_t off = get_le64(log + r), n = get_le64(log + r + 8);
        if (n > len - r - REC_HEAD || off > disk->size || n > disk->size - off)
            return vk_fail(err, VK_E_CORRUPT, where, r, "redo log record out of range");
        int rc = vk_dev_write(disk, log + r + REC_HEAD, (size_t)n, off, err);
        if (rc)
            return rc;
        r += REC_HEAD + (size_t)n;
    }
    return vk_dev_flush(disk, err);
}
