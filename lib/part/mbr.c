/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MBR primaries and the EBR chain of an extended partition, numbered as Linux and Windows do (logicals from 5). */
#include "part/table.h"

/* A chain longer than this is treated as hostile. */
#define EBR_DEPTH_MAX 256

static uint64_t entry_off(uint64_t sector_lba, int i)
{
    return sector_lba * VK_SECTOR_SIZE + MBR_TABLE_OFF + (uint64_t)i * MBR_ENTRY_SIZE;
}

/* Logical partitions: each EBR's first entry is relative to that EBR, its second (the next EBR) to the start of
 * the extended partition. Every EBR and every logical must lie inside the extended partition. */
static int walk_ebr_chain(vk_dev *disk, const vk_part *ext, vk_part_table *t, vk_error *err)
{
    uint64_t ext_end = ext->start_lba + ext->nsec;
    uint64_t visited[EBR_DEPTH_MAX];
    uint64_t ebr = ext->start_lba;
    unsigned number = 5;
    for (unsigned depth = 0;; depth++) {
        if (depth >= EBR_DEPTH_MAX)
            return vk_fail(err, VK_E_CORRUPT, disk->name, ebr * VK_SECTOR_SIZE,
                           "EBR chain is longer than %d links", EBR_DEPTH_MAX);
        for (unsigned i = 0; i < depth; i++)
            if (visited[i] == ebr)
                return vk_fail(err, VK_E_CORRUPT, disk->name, entry_off(visited[depth - 1], 1),
                               "EBR chain loops back to sector %llu", (unsigned long long)ebr);
        visited[depth] = ebr;
        uint8_t s[512];
        int rc = table_read_sector(disk, ebr, s, err);
        if (rc)
            return rc;
        struct mbr m;
        mbr_decode(s, &m);
        if (m.signature != MBR_SIGNATURE)
            return vk_fail(err, VK_E_CORRUPT, disk->name, ebr * VK_SECTOR_SIZE + MBR_SIG_OFF,
                           "EBR at sector %llu has no 0x55AA signature", (unsigned long long)ebr);
        const struct mbr_entry *l = &m.e[0], *next = &m.e[1];
        if (l->type != MBR_TYPE_EMPTY && l->nsec) {
            vk_part p = {0};
            p.number = number++;
            p.flags = VK_PART_LOGICAL | (l->status == 0x80 ? VK_PART_BOOTABLE : 0);
            p.start_lba = ebr + l->lba_first;
            p.nsec = l->nsec;
            p.entry_off = entry_off(ebr, 0);
            p.mbr_type = l->type;
            p.type_name = vk_part_mbr_type_name(l->type);
            if (l->lba_first == 0 || p.start_lba + p.nsec > ext_end)
                return vk_fail(err, VK_E_CORRUPT, disk->name, p.entry_off,
                               "logical partition %u (sectors %llu-%llu) lies outside its extended partition "
                               "(sectors %llu-%llu)",
                               p.number, (unsigned long long)p.start_lba,
                               (unsigned long long)(p.start_lba + p.nsec - 1), (unsigned long long)ext->start_lba,
                               (unsigned long long)(ext_end - 1));
            if ((rc = table_add(t, &p, disk, err)))
                return rc;
        }
        if (next->type == MBR_TYPE_EMPTY || next->nsec == 0)
            return 0;
        if (!mbr_is_extended(next->type)) {
            table_warn(t, "EBR at sector %llu links to a non-extended entry (type 0x%02x): chain ends there",
                       (unsigned long long)ebr, next->type);
            return 0;
        }
        uint64_t nxt = ext->start_lba + next->lba_first;
        if (next->lba_first == 0 || nxt >= ext_end)
            return vk_fail(err, VK_E_CORRUPT, disk->name, entry_off(ebr, 1),
                           "EBR at sector %llu links to sector %llu outside the extended partition",
                           (unsigned long long)ebr, (unsigned long long)nxt);
        ebr = nxt;
    }
}

int mbr_read_table(vk_dev *disk, const struct mbr *m, vk_part_table *t, vk_error *err)
{
    uint64_t disk_sec = disk->size / VK_SECTOR_SIZE;
    int ext_index = -1;
    for (int i = 0; i < MBR_NENTRIES; i++) {
        const struct mbr_entry *e = &m->e[i];
        if (e->type == MBR_TYPE_EMPTY)
            continue;
        if (e->nsec == 0) {
            table_warn(t, "MBR entry %d has type 0x%02x but no sectors: ignored", i + 1, e->type);
            continue;
        }
        vk_part p = {0};
        p.number = (unsigned)i + 1;
        p.flags = e->status == 0x80 ? VK_PART_BOOTABLE : 0;
        p.start_lba = e->lba_first;
        p.nsec = e->nsec;
        p.entry_off = entry_off(0, i);
        p.mbr_type = e->type;
        p.type_name = vk_part_mbr_type_name(e->type);
        if (e->lba_first == 0)
            return vk_fail(err, VK_E_CORRUPT, disk->name, p.entry_off, "partition %u starts at sector 0 (the MBR)",
                           p.number);
        if (p.start_lba + p.nsec > disk_sec)
            return vk_fail(err, VK_E_CORRUPT, disk->name, p.entry_off,
                           "partition %u (sectors %llu-%llu) ends past the end of the disk (%llu sectors)", p.number,
                           (unsigned long long)p.start_lba, (unsigned long long)(p.start_lba + p.nsec - 1),
                           (unsigned long long)disk_sec);
        if (mbr_is_extended(e->type)) {
            if (ext_index >= 0)
                table_warn(t, "MBR entry %d is a second extended partition: its logicals are not read", i + 1);
            else
                ext_index = (int)t->count;
            p.flags |= VK_PART_CONTAINER;
        }
        int rc = table_add(t, &p, disk, err);
        if (rc)
            return rc;
    }
    if (ext_index < 0)
        return 0;
    vk_part ext = t->parts[ext_index];
    return walk_ebr_chain(disk, &ext, t, err);
}
