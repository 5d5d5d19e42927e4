/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by fuzz_mbr and fuzz_gpt: read a partition table from fuzz bytes and check what a caller relies on. */
#ifndef VK_FUZZ_PART_CHECK_H
#define VK_FUZZ_PART_CHECK_H

#include <string.h>

#include "fuzz.h"
#include "vhdkit/part.h"

/* The input is a whole disk image (its size rounded down to sectors). */
static inline void part_check_disk(const uint8_t *data, size_t size)
{
    size_t disk_len = size / VK_SECTOR_SIZE * VK_SECTOR_SIZE;
    if (disk_len < VK_SECTOR_SIZE)
        return;
    vk_dev *d;
    if (vk_dev_memory(disk_len, data, disk_len, &d, NULL))
        return;
    snprintf(d->name, sizeof d->name, "fuzz.img");
    vk_part_table t;
    vk_error err;
    vk_error_clear(&err);
    int rc = vk_part_read(d, &t, &err);
    if (rc) {
        FUZZ_CHECK(rc < 0 && err.code == rc && err.msg[0] && !strcmp(err.file, "fuzz.img"));
        FUZZ_CHECK(t.parts == NULL && t.count == 0);
    } else {
        FUZZ_CHECK(t.nwarn <= VK_PART_WARN_MAX);
        for (unsigned i = 0; i < t.count; i++) {
            const vk_part *p = &t.parts[i];
            FUZZ_CHECK(p->number >= 1 && (i == 0 || p->number > t.parts[i - 1].number));
            FUZZ_CHECK(p->nsec > 0 && p->start_off + p->len <= disk_len);
            FUZZ_CHECK(p->type_name && p->start_off == p->start_lba * VK_SECTOR_SIZE);
            FUZZ_CHECK(memchr(p->name, 0, sizeof p->name) != NULL);
            for (unsigned j = 0; j < i; j++) {
                const vk_part *q = &t.parts[j];
                int nested = (p->flags | q->flags) & VK_PART_CONTAINER;
                FUZZ_CHECK(nested || p->start_lba >= q->start_lba + q->nsec || q->start_lba >= p->start_lba + p->nsec);
            }
            vk_dev *w = NULL;
            int wrc = vk_part_window(d, p, &w, NULL);
            FUZZ_CHECK((p->flags & VK_PART_CONTAINER) ? wrc == VK_E_USAGE : wrc == 0 && w->size == p->len);
            vk_dev_close(w);
        }
        vk_part_table_free(&t);
    }
    vk_dev_close(d);
}

#endif
