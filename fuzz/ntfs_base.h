/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The NTFS fuzz targets' volume: a fixed base (fuzz/seeds/ntfs.img.xz, unpacked at build time into FUZZ_NTFS_BASE)
 * whose metadata the input overwrites. A whole volume is megabytes, mostly $UpCase and $LogFile that no parser
 * questions, so the input covers only the structures that are parsed: the boot sector, every in-use MFT record
 * (the $MFT and its mirror) and every index block, in disk order. A short input leaves the rest of the base as it
 * is; bytes past the last structure are ignored. */
#ifndef VK_FUZZ_NTFS_BASE_H
#define VK_FUZZ_NTFS_BASE_H

#include <string.h>

#include "fuzz.h"
#include "vhdkit/dev.h"

#define NTFS_BASE_RECORD 1024u /* mkntfs's MFT record size */
#define NTFS_BASE_INDEX 4096u  /* and index block size */
#define NTFS_BASE_UNITS 256

struct ntfs_base {
    uint8_t *img;
    size_t len;
    unsigned n;
    struct {
        size_t off, len;
    } unit[NTFS_BASE_UNITS];
    size_t covered; /* sum of the unit lengths: the input length that rewrites all of them */
};

static void ntfs_base_add(struct ntfs_base *b, size_t off, size_t len)
{
    FUZZ_CHECK(b->n < NTFS_BASE_UNITS && off + len <= b->len);
    b->unit[b->n].off = off;
    b->unit[b->n].len = len;
    b->n++;
    b->covered += len;
}

/* Loaded once per process; the units are found by their magic, so they follow the base file. */
static const struct ntfs_base *ntfs_base_get(void)
{
    static struct ntfs_base b;
    if (b.img)
        return &b;
    FILE *fp = fopen(FUZZ_NTFS_BASE, "rb");
    FUZZ_CHECK(fp != NULL);
    FUZZ_CHECK(fseek(fp, 0, SEEK_END) == 0);
    long len = ftell(fp);
    FUZZ_CHECK(len > 0 && fseek(fp, 0, SEEK_SET) == 0);
    b.len = (size_t)len;
    b.img = malloc(b.len);
    FUZZ_CHECK(b.img && fread(b.img, 1, b.len, fp) == b.len);
    fclose(fp);
    ntfs_base_add(&b, 0, 512);
    for (size_t off = 512; off + 512 <= b.len; off += 512) {
        const uint8_t *p = b.img + off;
        if (!memcmp(p, "FILE", 4) && (p[0x16] & 1) && off + NTFS_BASE_RECORD <= b.len) {
            ntfs_base_add(&b, off, NTFS_BASE_RECORD);
            off += NTFS_BASE_RECORD - 512;
        } else if (!memcmp(p, "INDX", 4) && off + NTFS_BASE_INDEX <= b.len) {
            ntfs_base_add(&b, off, NTFS_BASE_INDEX);
            off += NTFS_BASE_INDEX - 512;
        }
    }
    return &b;
}

/* The base with the input laid over its structures, as a new buffer of the base's length. */
static uint8_t *ntfs_base_volume(const uint8_t *data, size_t size)
{
    const struct ntfs_base *b = ntfs_base_get();
    uint8_t *img = malloc(b->len);
    if (!img)
        return NULL;
    memcpy(img, b->img, b->len);
    for (unsigned i = 0; i < b->n && size; i++) {
        size_t k = size < b->unit[i].len ? size : b->unit[i].len;
        memcpy(img + b->unit[i].off, data, k);
        data += k;
        size -= k;
    }
    return img;
}

/* The one seed: the base's own structures. */
static size_t ntfs_base_seed(unsigned i, uint8_t *buf, size_t cap)
{
    const struct ntfs_base *b = ntfs_base_get();
    if (i > 0 || cap < b->covered)
        return 0;
    size_t at = 0;
    for (unsigned u = 0; u < b->n; u++) {
        memcpy(buf + at, b->img + b->unit[u].off, b->unit[u].len);
        at += b->unit[u].len;
    }
    return at;
}

#endif
