/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Engine side of batch.c, for write.c and io.c. */
#ifndef VK_VHD_BATCH_INT_H
#define VK_VHD_BATCH_INT_H

#include "vhd/batch.h"
#include "vhd/image_internal.h"

/* The sector bitmap of allocated block `blk` as it reads now: a bitmap waiting in the batch, else the cached one
 * (valid until the next cache or batch call). */
int vhd_bits_get(vk_vhd *vhd, uint32_t blk, uint8_t **bits, vk_error *err);
/* Block `blk` was written at sector `sector` (bitmap and data on disk, not synced): its BAT entry waits for the
 * commit; `bytes` written count towards the batch bound. */
int vhd_batch_stage(vk_vhd *vhd, uint32_t blk, uint32_t sector, uint64_t bytes, vk_error *err);
/* `bytes` of data written in place count towards the batch bound (may commit). */
int vhd_batch_note(vk_vhd *vhd, uint64_t bytes, vk_error *err);

#endif
