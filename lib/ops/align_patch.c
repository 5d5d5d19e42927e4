/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align patches after the data moved, each idempotent so a resumed run can redo them: the NTFS boot sector's
 * hidden sectors (0x1C) and its backup in the sector after the volume, then the MBR with a freshly built EBR chain
 * (LBA and CHS), or both GPT copies with their CRCs. */
#include "ops/align_int.h"

#include <string.h>

#include "core/bytes.h"
#include "part/layout.h"

static int patch_one(vk_dev *disk, uint64_t off, uint32_t hidden, unsigned *count, vk_error *err)
{
    uint8_t s[512];
    struct ntfs_boot b;
    int rc = vk_dev_read(disk, s, sizeof s, off, err);
    if (rc || !align_ntfs_boot(s, &b))
        return rc;
    if (get_le32(s + NTFS_HIDDEN_OFF) == hidden)
        return 0;
    put_le32(s + NTFS_HIDDEN_OFF, hidden);
    (*count)++;
    return vk_dev_write(disk, s, sizeof s, off, err);
}

int align_patch_boot(vk_dev *disk, const struct align_plan *p, unsigned *count, vk_error *err)
{
    for (unsigned k = 0; k < p->nmoves; k++) {
        unsigned i = p->order[k];
        uint64_t lba = p->new_lba[i], nsec = p->parts[i].nsec;
        if (lba > UINT32_MAX)
            continue; /* the field is 32 bits: Windows does not boot such a volume anyway */
        uint8_t s[512];
        struct ntfs_boot b;
        int rc = vk_dev_read(disk, s, sizeof s, lba * VK_SECTOR_SIZE, err);
        if (rc)
            return rc;
        if (!align_ntfs_boot(s, &b))
            continue;
        /* The backup first: a boot sector already patched means its backup was too. */
        uint64_t bak = b.total_sec * b.sector_size / VK_SECTOR_SIZE;
        if (bak < nsec && (rc = patch_one(disk, (lba + bak) * VK_SECTOR_SIZE, (uint32_t)lba, count, err)))
            return rc;
        if ((rc = patch_one(disk, lba * VK_SECTOR_SIZE, (uint32_t)lba, count, err)))
            return rc;
    }
    return 0;
}

static void set_entry(struct mbr_entry *e, uint8_t status, uint8_t type, uint64_t abs_lba, uint64_t rel_lba,
                      uint64_t nsec)
{
    e->status = status;
    e->type = type;
    e->chs_first = chs_from_lba(abs_lba);
    e->chs_last = chs_from_lba(abs_lba + nsec - 1);
    e->lba_first = (uint32_t)rel_lba;
    e->nsec = (uint32_t)nsec;
}

static int write_mbr(vk_dev *disk, const struct align_plan *p, vk_error *err)
{
    uint8_t s[512];
    int rc = vk_dev_read(disk, s, sizeof s, 0, err);
    if (rc)
        return rc;
    struct mbr m;
    mbr_decode(s, &m);
    int ext = -1;
    unsigned logical[VK_ALIGN_MAX_PARTS], nlog = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const vk_part *q = &p->parts[i];
        if (q->flags & VK_PART_LOGICAL) {
            logical[nlog++] = i;
            continue;
        }
        if (q->flags & VK_PART_CONTAINER)
            ext = (int)i;
        if (q->entry_off < MBR_TABLE_OFF || q->entry_off >= MBR_TABLE_OFF + MBR_NENTRIES * MBR_ENTRY_SIZE)
            return vk_fail(err, VK_E_CORRUPT, disk->name, q->entry_off, "partition %u: entry not in the MBR",
                           q->number);
        struct mbr_entry *e = &m.e[(q->entry_off - MBR_TABLE_OFF) / MBR_ENTRY_SIZE];
        set_entry(e, e->status, e->type, p->new_lba[i], p->new_lba[i], p->new_nsec[i]);
    }
    mbr_encode(&m, s);
    if ((rc = vk_dev_write(disk, s, sizeof s, 0, err)))
        return rc;
    /* Logicals in chain order are in start order: the chain was built that way (align_plan_make). */
    for (unsigned a = 1; a < nlog; a++)
        for (unsigned b = a; b > 0 && p->new_lba[logical[b]] < p->new_lba[logical[b - 1]]; b--) {
            unsigned t = logical[b];
            logical[b] = logical[b - 1];
            logical[b - 1] = t;
        }
    if (nlog && ext < 0)
        return vk_fail(err, VK_E_CORRUPT, disk->name, VK_NO_OFFSET, "logical partitions without a container");
    for (unsigned k = 0; k < nlog; k++) {
        unsigned i = logical[k];
        uint64_t ebr = p->ebr_lba[i];
        struct mbr e;
        memset(&e, 0, sizeof e);
        uint8_t status = p->parts[i].flags & VK_PART_BOOTABLE ? 0x80 : 0;
        set_entry(&e.e[0], status, p->parts[i].mbr_type, p->new_lba[i], p->new_lba[i] - ebr, p->parts[i].nsec);
        if (k + 1 < nlog) {
            unsigned j = logical[k + 1];
            uint64_t next = p->ebr_lba[j];
            uint64_t len = p->new_lba[j] + p->parts[j].nsec - next;
            set_entry(&e.e[1], 0, MBR_TYPE_EXTENDED_CHS, next, next - p->new_lba[ext], len);
        }
        memset(s, 0, sizeof s);
        mbr_encode(&e, s);
        if ((rc = vk_dev_write(disk, s, sizeof s, ebr * VK_SECTOR_SIZE, err)))
            return rc;
    }
    return 0;
}

int align_patch_tables(vk_dev *disk, const struct align_plan *p, vk_error *err)
{
    if (p->scheme == VK_PART_SCHEME_MBR)
        return write_mbr(disk, p, err);
    if (p->scheme != VK_PART_SCHEME_GPT)
        return 0;
    vk_part parts[VK_ALIGN_MAX_PARTS];
    for (unsigned i = 0; i < p->n; i++) {
        parts[i] = p->parts[i];
        parts[i].start_lba = p->new_lba[i];
    }
    return vk_part_write_gpt(disk, p->disk_guid, parts, p->n, err);
}
