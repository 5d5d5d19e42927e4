/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GPT reader (UEFI 2.10 section 5.3): primary header at LBA 1, backup at the last LBA used when the primary is bad. */
#include "part/table.h"

#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/utf16.h"

struct gpt {
    struct gpt_header h;
    uint8_t *entries; /* nentries * entry_size bytes */
};

/* Loads and checks the header at `lba` and its entry array; on failure *why says what was wrong. I/O errors are
 * returned as they are; format problems return VK_E_CORRUPT/VK_E_CHECKSUM with *why set and `err` untouched. */
static int gpt_load(vk_dev *disk, uint64_t lba, struct gpt *g, const char **why, vk_error *err)
{
    uint64_t disk_sec = disk->size / VK_SECTOR_SIZE;
    uint8_t s[512];
    g->entries = NULL;
    if (lba == 0 || lba >= disk_sec) {
        *why = "header lies past the end of the disk";
        return VK_E_CORRUPT;
    }
    int rc = table_read_sector(disk, lba, s, err);
    if (rc)
        return rc;
    if ((rc = gpt_header_decode(s, &g->h, why)))
        return rc;
    if (g->h.my_lba != lba) {
        *why = "header names another LBA as its own";
        return VK_E_CORRUPT;
    }
    if (g->h.last_usable >= disk_sec) {
        *why = "header last usable LBA lies past the end of the disk";
        return VK_E_CORRUPT;
    }
    size_t array_len = (size_t)g->h.nentries * g->h.entry_size; /* capped at 1 MiB by gpt_header_decode */
    uint64_t array_off;
    if (g->h.entries_lba < 2 || ck_mul_u64(g->h.entries_lba, VK_SECTOR_SIZE, &array_off) ||
        !ck_range_inside(array_off, array_len, disk->size)) {
        *why = "entry array lies outside the disk";
        return VK_E_CORRUPT;
    }
    g->entries = malloc(array_len ? array_len : 1);
    if (!g->entries)
        return vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL);
    if ((rc = vk_dev_read(disk, g->entries, array_len, array_off, err)))
        goto fail;
    if (part_crc32(g->entries, array_len) != g->h.entries_crc) {
        *why = "entry array CRC mismatch";
        rc = VK_E_CHECKSUM;
        goto fail;
    }
    return 0;
fail:
    free(g->entries);
    g->entries = NULL;
    return rc;
}

static int is_format_error(int rc) { return rc == VK_E_CORRUPT || rc == VK_E_CHECKSUM; }

static int add_entries(vk_dev *disk, const struct gpt *g, vk_part_table *t, vk_error *err)
{
    const struct gpt_header *h = &g->h;
    for (uint32_t i = 0; i < h->nentries; i++) {
        struct gpt_entry e;
        gpt_entry_decode(g->entries + (size_t)i * h->entry_size, &e);
        if (!gpt_entry_used(&e))
            continue;
        vk_part p = {0};
        p.number = i + 1;
        p.entry_off = h->entries_lba * VK_SECTOR_SIZE + (uint64_t)i * h->entry_size;
        if (e.first_lba > e.last_lba || e.first_lba < h->first_usable || e.last_lba > h->last_usable)
            return vk_fail(err, VK_E_CORRUPT, disk->name, p.entry_off,
                           "GPT entry %u (sectors %llu-%llu) lies outside the usable sectors %llu-%llu%s", p.number,
                           (unsigned long long)e.first_lba, (unsigned long long)e.last_lba,
                           (unsigned long long)h->first_usable, (unsigned long long)h->last_usable,
                           e.last_lba >= disk->size / VK_SECTOR_SIZE ? " (past the end of the disk)" : "");
        p.start_lba = e.first_lba;
        p.nsec = e.last_lba - e.first_lba + 1;
        memcpy(p.type_guid, e.type_guid, 16);
        memcpy(p.uuid, e.uuid, 16);
        p.attrs = e.attrs;
        p.type_name = vk_part_gpt_type_name(e.type_guid);
        if (vk_utf16_to_utf8(e.name_utf16, sizeof e.name_utf16, VK_UTF16_LE, p.name, sizeof p.name) < 0) {
            p.name[0] = '\0';
            table_warn(t, "GPT entry %u has an invalid UTF-16 name", p.number);
        }
        int rc = table_add(t, &p, disk, err);
        if (rc)
            return rc;
    }
    return 0;
}

int gpt_read_table(vk_dev *disk, vk_part_table *t, vk_error *err)
{
    uint64_t last = disk->size / VK_SECTOR_SIZE - 1;
    struct gpt primary, backup;
    const char *why_p = "", *why_b = "";
    int rc = gpt_load(disk, 1, &primary, &why_p, err);
    if (rc && !is_format_error(rc))
        return rc;
    const struct gpt *use = &primary;
    if (rc) {
        rc = gpt_load(disk, last, &backup, &why_b, err);
        if (rc && !is_format_error(rc))
            return rc;
        if (rc)
            return vk_fail(err, VK_E_CORRUPT, disk->name, VK_SECTOR_SIZE,
                           "both GPT headers are invalid (primary: %s; backup at sector %llu: %s)", why_p,
                           (unsigned long long)last, why_b);
        table_warn(t, "primary GPT %s: using the backup", why_p);
        t->gpt_backup_used = 1;
        use = &backup;
    } else {
        /* The primary is good: still tell the user when the backup is damaged or missing. */
        rc = gpt_load(disk, primary.h.alternate_lba, &backup, &why_b, err);
        if (rc && !is_format_error(rc)) {
            free(primary.entries);
            return rc;
        }
        if (rc)
            table_warn(t, "backup GPT at sector %llu: %s", (unsigned long long)primary.h.alternate_lba, why_b);
        else if (primary.h.alternate_lba != last)
            table_warn(t, "backup GPT header is at sector %llu, not at the last sector %llu (disk resized?)",
                       (unsigned long long)primary.h.alternate_lba, (unsigned long long)last);
        free(backup.entries);
    }
    memcpy(t->disk_guid, use->h.disk_guid, 16);
    rc = add_entries(disk, use, t, err);
    free(primary.entries);
    if (use == &backup)
        free(backup.entries);
    return rc;
}
