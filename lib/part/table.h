/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: building a vk_part_table while reading MBR (mbr.c) or GPT (gpt.c) from a disk. */
#ifndef VK_PART_TABLE_H
#define VK_PART_TABLE_H

#include "part/layout.h"
#include "vhdkit/part.h"

/* Appends a partition (start_off, len and align are filled in from start_lba and nsec). */
int table_add(vk_part_table *t, const vk_part *p, vk_dev *disk, vk_error *err);
void table_warn(vk_part_table *t, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int table_read_sector(vk_dev *disk, uint64_t lba, uint8_t buf[512], vk_error *err);

/* Partitions of an MBR disk (primaries and the EBR chain of its extended partition). */
int mbr_read_table(vk_dev *disk, const struct mbr *m, vk_part_table *t, vk_error *err);
/* Partitions of a GPT disk, from the primary or, when it is bad, the backup header. */
int gpt_read_table(vk_dev *disk, vk_part_table *t, vk_error *err);

#endif
