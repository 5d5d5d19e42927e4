/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal helpers shared by merge, reparent, rebase, resize and repair (lib/ops/chain_ops.c). */
#ifndef VK_OPS_CHAIN_OPS_H
#define VK_OPS_CHAIN_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "vhdkit/ops.h"

double chain_now(void);
/* Absolute canonical path of an existing file. */
int chain_realpath(const char *path, char out[4096], vk_error *err);
/* True when `a` and `b` name the same file. */
bool chain_same_file(const char *a, const char *b);
/* True when `path` is one of the images of `vhd`'s open chain. */
bool chain_contains(vk_vhd *vhd, const char *path);
/* Differencing images in the folder of `image` naming `uuid` as their parent, other than `except` (may be NULL):
 * appended to res->names (up to VK_CHAIN_MAX_NAMES). Returns how many or a negative vk code. */
int chain_find_children(const char *image, const uint8_t uuid[16], const char *except, struct vk_chain_result *res,
                        vk_error *err);
/* Finds an image with footer UUID `uuid` among the .vhd files of `dirs`: its path in `out`. 1 found, 0 not. */
int chain_find_by_uuid(const char *const *dirs, const uint8_t uuid[16], char out[4096]);
/* Reads [off, off+len) of the virtual disk `dev`, zeros past its end. */
int chain_read_view(vk_dev *dev, uint8_t *buf, size_t len, uint64_t off, vk_error *err);
/* Adds a line to res->names (truncated silently past VK_CHAIN_MAX_NAMES). */
void chain_note(struct vk_chain_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
