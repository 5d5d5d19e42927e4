/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: align's redo log for the registry step. libntfs-3g keeps no journal of its own, so a write torn inside
 * one of its MFT record updates would lose the record. Instead the step runs against an overlay that keeps every
 * write in memory; the writes are then saved whole into the align journal (with a CRC) before the first of them
 * reaches the disk, and applying them again after a crash gives the same bytes. */
#ifndef VK_OPS_ALIGN_REDO_H
#define VK_OPS_ALIGN_REDO_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/dev.h"

/* A device over `base` (not owned) whose writes stay in memory in 4 KiB pages; reads see them. */
int align_overlay_open(vk_dev *base, vk_dev **out, vk_error *err);
/* The overlay's writes as a redo log (malloc'd; records of LE64 offset, LE64 length, then the bytes, in offset
 * order, adjacent pages merged). *len 0 when nothing was written. */
int align_overlay_log(vk_dev *ov, uint8_t **log, size_t *len, vk_error *err);
/* Writes every record of a redo log to `disk` (whose name `where` says in errors), then flushes it. */
int align_redo_apply(const uint8_t *log, size_t len, vk_dev *disk, const char *where, vk_error *err);

#endif
