/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk_part_read: decides between no table, MBR and GPT, then checks the partitions against the disk and each other. */
#include "part/table.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checked.h"
#include "core/sort.h"

int table_read_sector(vk_dev *disk, uint64_t lba, uint8_t buf[512], vk_error *err)
{
    uint64_t off;
    if (ck_mul_u64(lba, VK_SECTOR_SIZE, &off) || !ck_range_inside(off, VK_SECTOR_SIZE, disk->size))
        return vk_fail(err, VK_E_CORRUPT, disk->name, VK_NO_OFFSET, "sector %llu lies past the end of the disk",
                       (unsigned long long)lba);
    return vk_dev_read(disk, buf, VK_SECTOR_SIZE, off, err);
}

void table_warn(vk_part_table *t, const char *fmt, ...)
{
    if (t->nwarn >= VK_PART_WARN_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->warnings[t->nwarn++], VK_PART_WARN_LEN, fmt, ap);
    va_end(ap);
}

/* The partitions a table can describe: 4 primaries + 256 logicals, or a GPT array of at most 1 MiB. */
#define TABLE_MAX (GPT_ENTRY_ARRAY_MAX / GPT_ENTRY_SIZE)

int table_add(vk_part_table *t, const vk_part *p, vk_dev *disk, vk_error *err)
{
    if (t->count >= TABLE_MAX)
        return vk_fail(err, VK_E_CORRUPT, disk->name, p->entry_off, "more than %u partitions", TABLE_MAX);
    vk_part *grown = realloc(t->parts, (t->count + 1) * sizeof *grown);
    if (!grown)
        return vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL);
    t->parts = grown;
    vk_part *q = &t->parts[t->count++];
    *q = *p;
    /* Callers checked start_lba + nsec against the disk size, so these products cannot overflow. */
    q->start_off = p->start_lba * VK_SECTOR_SIZE;
    q->len = p->nsec * VK_SECTOR_SIZE;
    q->align = 0;
    if (vk_part_aligned(q, 4096))
        q->align |= VK_PART_ALIGN_4K;
    if (vk_part_aligned(q, 1u << 20))
        q->align |= VK_PART_ALIGN_1M;
    return 0;
}

int vk_part_aligned(const vk_part *p, uint64_t block)
{
    return block && p->start_off % block == 0;
}

/* A filesystem boot sector at LBA 0 means a partitionless disk, even though FAT and NTFS end it with 0x55AA. */
static const char *sniff_fs(const uint8_t s[512])
{
    if (!memcmp(s + 3, "NTFS    ", 8))
        return "NTFS";
    if (!memcmp(s + 3, "EXFAT   ", 8))
        return "exFAT";
    if (!memcmp(s + 82, "FAT32   ", 8) || !memcmp(s + 54, "FAT12   ", 8) || !memcmp(s + 54, "FAT16   ", 8))
        return "FAT";
    return NULL;
}

static int whole_disk(vk_dev *disk, const char *type_name, vk_part_table *t, vk_error *err)
{
    vk_part p = {0};
    p.number = 1;
    p.flags = VK_PART_WHOLE_DISK;
    p.nsec = disk->size / VK_SECTOR_SIZE;
    p.type_name = type_name;
    t->scheme = VK_PART_SCHEME_NONE;
    return table_add(t, &p, disk, err);
}

static int cmp_start(const void *a, const void *b)
{
    const vk_part *x = *(vk_part *const *)a, *y = *(vk_part *const *)b;
    return x->start_lba < y->start_lba ? -1 : x->start_lba > y->start_lba;
}

static int cmp_number(const void *a, const void *b)
{
    const vk_part *x = a, *y = b;
    return x->number < y->number ? -1 : x->number > y->number;
}

static int overlap_fail(vk_dev *disk, const vk_part *a, const vk_part *b, vk_error *err)
{
    const vk_part *later = a->number > b->number ? a : b, *other = later == a ? b : a;
    return vk_fail(err, VK_E_CORRUPT, disk->name, later->entry_off, "partition %u (sectors %llu-%llu) overlaps partition %u",
                   later->number, (unsigned long long)later->start_lba,
                   (unsigned long long)(later->start_lba + later->nsec - 1), other->number);
}

/* Sorted by start, filesystem partitions must not overlap; an extended container must not overlap primaries
 * (its logicals were already checked to lie inside it). */
static int check_overlaps(vk_dev *disk, const vk_part_table *t, vk_error *err)
{
    const vk_part **v = malloc((t->count + 1) * sizeof *v);
    if (!v)
        return vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL);
    unsigned n = 0;
    for (unsigned i = 0; i < t->count; i++)
        if (!(t->parts[i].flags & VK_PART_CONTAINER))
            v[n++] = &t->parts[i];
    vk_sort(v, n, sizeof *v, cmp_start);
    int rc = 0;
    for (unsigned i = 1; i < n && !rc; i++)
        if (v[i]->start_lba < v[i - 1]->start_lba + v[i - 1]->nsec)
            rc = overlap_fail(disk, v[i - 1], v[i], err);
    for (unsigned c = 0; c < t->count && !rc; c++) {
        const vk_part *ext = &t->parts[c];
        if (!(ext->flags & VK_PART_CONTAINER))
            continue;
        for (unsigned i = 0; i < n && !rc; i++)
            if (!(v[i]->flags & VK_PART_LOGICAL) && v[i]->start_lba < ext->start_lba + ext->nsec &&
                ext->start_lba < v[i]->start_lba + v[i]->nsec)
                rc = overlap_fail(disk, ext, v[i], err);
    }
    free(v);
    return rc;
}

int vk_part_read(vk_dev *disk, vk_part_table *out, vk_error *err)
{
    memset(out, 0, sizeof *out);
    out->disk_size = disk->size;
    if (disk->size < VK_SECTOR_SIZE)
        return vk_fail(err, VK_E_TRUNCATED, disk->name, 0, "disk is smaller than one sector");
    uint8_t s0[512];
    int rc = table_read_sector(disk, 0, s0, err);
    if (rc)
        return rc;
    const char *fs = sniff_fs(s0);
    struct mbr m;
    mbr_decode(s0, &m);
    if (fs) {
        rc = whole_disk(disk, fs, out, err);
    } else if (m.signature != MBR_SIGNATURE) {
        table_warn(out, "no partition table (no 0x55AA signature at offset 510)");
        rc = whole_disk(disk, "unknown", out, err);
    } else {
        out->disk_signature = m.disk_sig;
        unsigned protective = 0, others = 0;
        for (int i = 0; i < MBR_NENTRIES; i++) {
            if (m.e[i].type == MBR_TYPE_GPT_PROTECTIVE)
                protective++;
            else if (m.e[i].type != MBR_TYPE_EMPTY)
                others++;
        }
        if (protective) {
            out->scheme = VK_PART_SCHEME_GPT;
            out->protective_mbr = 1;
            out->hybrid_mbr = others > 0;
            if (others)
                table_warn(out, "hybrid MBR: the MBR also lists %u partitions; the GPT is used", others);
            rc = gpt_read_table(disk, out, err);
        } else {
            out->scheme = VK_PART_SCHEME_MBR;
            rc = mbr_read_table(disk, &m, out, err);
        }
    }
    if (!rc)
        rc = check_overlaps(disk, out, err);
    if (rc) {
        vk_part_table_free(out);
        return rc;
    }
    vk_sort(out->parts, out->count, sizeof *out->parts, cmp_number);
    return 0;
}

void vk_part_table_free(vk_part_table *t)
{
    if (!t)
        return;
    free(t->parts);
    t->parts = NULL;
    t->count = 0;
}

const vk_part *vk_part_find(const vk_part_table *t, unsigned number)
{
    for (unsigned i = 0; i < t->count; i++)
        if (t->parts[i].number == number)
            return &t->parts[i];
    return NULL;
}

int vk_part_window(vk_dev *disk, const vk_part *p, vk_dev **out, vk_error *err)
{
    if (p->flags & VK_PART_CONTAINER)
        return vk_fail(err, VK_E_USAGE, disk->name, p->entry_off,
                       "partition %u is an extended partition: it holds logical partitions, not a filesystem", p->number);
    return vk_dev_window(disk, p->start_off, p->len, 0, out, err);
}

int vk_part_open(vk_dev *disk, unsigned number, vk_dev **out, vk_error *err)
{
    vk_part_table t;
    int rc = vk_part_read(disk, &t, err);
    if (rc)
        return rc;
    const vk_part *p = vk_part_find(&t, number);
    if (!p)
        rc = vk_fail(err, VK_E_NOTFOUND, disk->name, VK_NO_OFFSET, "no partition %u (the disk has %u)", number, t.count);
    else
        rc = vk_part_window(disk, p, out, err);
    vk_part_table_free(&t);
    return rc;
}
