/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing MBR and GPT tables from vk_part lists (test-disk generator, `align --fix`), using the encoders of encode.c. */
#include "part/layout.h"
#include "vhdkit/part.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/utf16.h"

/* Each partition non-empty, inside [first, last] and not overlapping another. */
static int check_parts(vk_dev *disk, const vk_part *parts, unsigned n, uint64_t first, uint64_t last, vk_error *err)
{
    for (unsigned i = 0; i < n; i++) {
        const vk_part *p = &parts[i];
        if (p->nsec == 0 || p->start_lba < first || p->start_lba > last || p->nsec - 1 > last - p->start_lba)
            return vk_fail(err, VK_E_RANGE, disk->name, VK_NO_OFFSET,
                           "partition %u (start sector %llu, %llu sectors) does not fit in sectors %llu-%llu", i + 1,
                           (unsigned long long)p->start_lba, (unsigned long long)p->nsec, (unsigned long long)first,
                           (unsigned long long)last);
        for (unsigned j = 0; j < i; j++) {
            const vk_part *q = &parts[j];
            if (p->start_lba < q->start_lba + q->nsec && q->start_lba < p->start_lba + p->nsec)
                return vk_fail(err, VK_E_USAGE, disk->name, VK_NO_OFFSET, "partitions %u and %u overlap", j + 1, i + 1);
        }
    }
    return 0;
}

static void mbr_set_entry(struct mbr_entry *e, uint8_t status, uint8_t type, uint64_t lba, uint64_t nsec)
{
    e->status = status;
    e->type = type;
    e->lba_first = (uint32_t)lba;
    e->nsec = (uint32_t)nsec;
    e->chs_first = chs_from_lba(lba);
    e->chs_last = chs_from_lba(lba + nsec - 1);
}

int vk_part_write_mbr(vk_dev *disk, uint32_t disk_signature, const vk_part *parts, unsigned n, vk_error *err)
{
    uint64_t disk_sec = disk->size / VK_SECTOR_SIZE;
    if (n > MBR_NENTRIES)
        return vk_fail(err, VK_E_USAGE, disk->name, VK_NO_OFFSET, "an MBR holds at most 4 primary partitions, not %u", n);
    if (disk_sec < 2)
        return vk_fail(err, VK_E_RANGE, disk->name, VK_NO_OFFSET, "disk too small for a partition table");
    /* 32-bit LBA fields: nothing may end past 2^32 sectors. */
    uint64_t last = disk_sec - 1 < UINT32_MAX ? disk_sec - 1 : UINT32_MAX;
    int rc = check_parts(disk, parts, n, 1, last, err);
    if (rc)
        return rc;
    uint8_t s[512];
    if ((rc = vk_dev_read(disk, s, sizeof s, 0, err)))
        return rc;
    struct mbr m;
    memset(&m, 0, sizeof m);
    m.disk_sig = disk_signature;
    for (unsigned i = 0; i < n; i++)
        mbr_set_entry(&m.e[i], (parts[i].flags & VK_PART_BOOTABLE) ? 0x80 : 0, parts[i].mbr_type, parts[i].start_lba,
                      parts[i].nsec);
    mbr_encode(&m, s);
    return vk_dev_write(disk, s, sizeof s, 0, err);
}

static int write_gpt_copy(vk_dev *disk, struct gpt_header *h, const uint8_t *array, size_t array_len, vk_error *err)
{
    uint8_t s[512];
    int rc = vk_dev_write(disk, array, array_len, h->entries_lba * VK_SECTOR_SIZE, err);
    if (rc)
        return rc;
    gpt_header_encode(h, s);
    return vk_dev_write(disk, s, sizeof s, h->my_lba * VK_SECTOR_SIZE, err);
}

int vk_part_write_gpt(vk_dev *disk, const uint8_t disk_guid[16], const vk_part *parts, unsigned n, vk_error *err)
{
    const size_t array_len = GPT_NENTRIES_DEFAULT * GPT_ENTRY_SIZE;
    const uint64_t array_sec = array_len / VK_SECTOR_SIZE;
    uint64_t disk_sec = disk->size / VK_SECTOR_SIZE;
    if (n > GPT_NENTRIES_DEFAULT)
        return vk_fail(err, VK_E_USAGE, disk->name, VK_NO_OFFSET, "at most %u GPT partitions, not %u",
                       GPT_NENTRIES_DEFAULT, n);
    if (disk_sec < 2 * (array_sec + 2) + 1)
        return vk_fail(err, VK_E_RANGE, disk->name, VK_NO_OFFSET, "disk too small for a GPT");
    struct gpt_header h = {0};
    h.revision = GPT_REVISION_1_0;
    h.header_size = GPT_HEADER_SIZE;
    h.first_usable = 2 + array_sec;
    h.last_usable = disk_sec - 2 - array_sec;
    memcpy(h.disk_guid, disk_guid, 16);
    h.nentries = GPT_NENTRIES_DEFAULT;
    h.entry_size = GPT_ENTRY_SIZE;
    int rc = check_parts(disk, parts, n, h.first_usable, h.last_usable, err);
    if (rc)
        return rc;
    uint8_t *array = calloc(1, array_len);
    if (!array)
        return vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL);
    for (unsigned i = 0; i < n && !rc; i++) {
        struct gpt_entry e = {0};
        memcpy(e.type_guid, parts[i].type_guid, 16);
        memcpy(e.uuid, parts[i].uuid, 16);
        e.first_lba = parts[i].start_lba;
        e.last_lba = parts[i].start_lba + parts[i].nsec - 1;
        e.attrs = parts[i].attrs;
        if (vk_utf8_to_utf16(parts[i].name, VK_UTF16_LE, e.name_utf16, sizeof e.name_utf16) < 0)
            rc = vk_fail(err, VK_E_USAGE, disk->name, VK_NO_OFFSET,
                         "name of partition %u is not UTF-8 of at most 36 UTF-16 code units", i + 1);
        gpt_entry_encode(&e, array + (size_t)i * GPT_ENTRY_SIZE);
    }
    h.entries_crc = part_crc32(array, array_len);
    /* Backup first, primary next, protective MBR last: until the MBR says 0xEE the disk is not read as GPT. */
    struct gpt_header b = h;
    b.my_lba = disk_sec - 1;
    b.alternate_lba = 1;
    b.entries_lba = disk_sec - 1 - array_sec;
    h.my_lba = 1;
    h.alternate_lba = disk_sec - 1;
    h.entries_lba = 2;
    if (!rc)
        rc = write_gpt_copy(disk, &b, array, array_len, err);
    if (!rc)
        rc = write_gpt_copy(disk, &h, array, array_len, err);
    free(array);
    if (rc)
        return rc;
    uint8_t s[512];
    if ((rc = vk_dev_read(disk, s, sizeof s, 0, err)))
        return rc;
    struct mbr m;
    memset(&m, 0, sizeof m);
    mbr_set_entry(&m.e[0], 0, MBR_TYPE_GPT_PROTECTIVE, 1, disk_sec - 1 < UINT32_MAX ? disk_sec - 1 : UINT32_MAX);
    mbr_encode(&m, s);
    return vk_dev_write(disk, s, sizeof s, 0, err);
}
