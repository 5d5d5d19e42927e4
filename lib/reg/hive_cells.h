/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: a hive's cells read and checked by vhdkit itself, either on demand from a volume (a lookup reads only
 * the bins on its path) or over bytes already in memory (the whole-hive check before hivex opens it, and naming
 * the offset when a hivex call fails). Offsets are file offsets (the hive's cell offset + 4096), as hivex's. */
#ifndef VK_REG_HIVE_CELLS_H
#define VK_REG_HIVE_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhdkit/error.h"
#include "vhdkit/reg.h"

struct reg_cells;
/* Reads exactly `len` bytes at `off` of the hive file. */
typedef int (*reg_cells_read_fn)(void *ctx, uint64_t off, void *buf, size_t len, vk_error *err);

/* On demand: `len` is the hive file's size; the base block is read and checked now. Returns 1 (and no handle) when
 * the base block says the hive is dirty (sequence numbers differ or bad checksum): the caller recovers it whole. */
int reg_cells_open(size_t len, reg_cells_read_fn rd, void *ctx, const char *name, struct reg_cells **out,
                   vk_error *err);
/* Over `len` bytes in memory that stay valid (and unchanged) while the handle lives. */
int reg_cells_open_mem(const uint8_t *data, size_t len, const char *name, struct reg_cells **out, vk_error *err);
void reg_cells_close(struct reg_cells *c);

/* Every bin and cell of the hive, as hivex walks them when it opens a hive, and also no cell running past the end
 * of its bin (hivex would read past it). The first problem found is named with its offset. */
int reg_cells_check_all(struct reg_cells *c, vk_error *err);

vk_reg_key reg_cells_root(const struct reg_cells *c);
/* Subkeys of key cell `nk` (lf/lh/li/ri lists), in list order; free *kids with free(). */
int reg_cells_children(struct reg_cells *c, vk_reg_key nk, vk_reg_key **kids, size_t *n, vk_error *err);
/* The subkey list entries of `nk` with their hints, reading the lists only (not the subkeys' cells): kind 'f' (lf:
 * hint = the name's first 4 characters), 'h' (lh: hint = Windows' hash of the upper-cased name) or 0 (li, no hint).
 * Free *out with free(). */
struct reg_cells_entry {
    vk_reg_key off;
    uint32_t hint;
    char kind;
};
int reg_cells_child_entries(struct reg_cells *c, vk_reg_key nk, struct reg_cells_entry **out, size_t *n,
                            vk_error *err);
/* The key's name as UTF-8 (malloc'd). */
int reg_cells_key_name(struct reg_cells *c, vk_reg_key nk, char **name, vk_error *err);
/* Values of key cell `nk`: vk cell offsets in list order; free *vks with free(). */
int reg_cells_values(struct reg_cells *c, vk_reg_key nk, vk_reg_key **vks, size_t *n, vk_error *err);
/* One value: name, type and data (big-data segments joined), as hivex returns them. */
int reg_cells_value(struct reg_cells *c, vk_reg_key vk, vk_reg_value *out, vk_error *err);

#endif
