/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: pieces shared by the hive-in-a-volume files (volume.c, volume_replace.c). */
#ifndef VK_REG_VOLUME_INT_H
#define VK_REG_VOLUME_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/reg.h"

/* A whole file of the volume in memory (at most 2 GiB, the largest hive or log Windows makes). */
int regvol_read(vk_ntfs *vol, const char *path, uint8_t **out, size_t *len, vk_error *err);

#endif
