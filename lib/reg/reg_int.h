/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal shared parts of the registry layer: the hive handle, regf constants, helpers between files. */
#ifndef VK_REG_INT_H
#define VK_REG_INT_H

#include <hivex.h>
#include <limits.h>
#include <stdbool.h>

#include "vhdkit/reg.h"

/* regf base block (Windows registry file format specification, "Base block"). */
#define REGF_BASE_LEN 4096u
#define REGF_OFF_SEQ1 4u
#define REGF_OFF_SEQ2 8u
#define REGF_OFF_TIME 12u
#define REGF_OFF_MAJOR 20u
#define REGF_OFF_MINOR 24u
#define REGF_OFF_TYPE 28u
#define REGF_OFF_FORMAT 32u
#define REGF_OFF_ROOT 36u
#define REGF_OFF_BINS_LEN 40u
#define REGF_OFF_CLUSTER 44u
#define REGF_OFF_NAME 48u
#define REGF_OFF_CSUM 508u
#define REGF_BIN_HDR 32u
/* Values larger than this go to big-data (db) cells from hive version 1.4 on. */
#define REGF_BIG_DATA_MIN 16345u
#define REGF_BIG_SEGMENT 16344u

struct reg_cells;

struct vk_reg_hive {
    hive_h *hx;              /* NULL for a lazy read-only handle (VK_REG_OPEN_LAZY): cells reads the volume */
    struct reg_cells *cells; /* lazy: the reader; with hivex: vhdkit's reader over `map` (reg_hive_diag_cells) */
    void *lazy_ctx;          /* the lazy reader's source (malloc'd, owned) */
    uint8_t *map;            /* the bytes hivex opened (mapping of map_fd, unmapped once hivex has them; or
                              * malloc'd when map_fd < 0) */
    size_t map_len;
    int map_fd;              /* tmp_fd when map is its mapping, else -1 */
    char tmp_path[PATH_MAX]; /* private copy hivex works on (hivex only opens files) */
    int tmp_fd;              /* the memfd behind tmp_path, or -1 */
    int tmp_unlink;          /* tmp_path is a file in $TMPDIR to unlink at close */
    unsigned flags;
    bool refuse_write;       /* dirty and not recovered */
    bool broken;             /* a change failed half-way: the in-memory hive is not a whole transaction */
    bool changed;            /* hivex's copy differs from `map`: offsets there no longer mean the same cells */
    unsigned replayed;
    char name[VK_REG_FILE_MAX]; /* the hive file in its volume, for messages ("" when opened from bytes) */
    char warning[VK_ERR_MSG_MAX];
};

/* A hive's bytes in memory hivex can open as a file: a memfd mapped shared, else malloc'd (fd -1). */
struct reg_image {
    uint8_t *p;
    size_t len;
    int fd;
};
int reg_image_alloc(size_t len, struct reg_image *im, vk_error *err);
void reg_image_free(struct reg_image *im);
/* Opens the hive in `im` (taken over, freed on every path): replays the logs when the base block says it is dirty,
 * checks every bin and cell, opens it with hivex. `name` (may be NULL) names the hive file in messages. */
int reg_hive_open_image(struct reg_image *im, const vk_reg_log *log1, const vk_reg_log *log2, unsigned flags,
                        const char *name, vk_reg_hive **out, vk_error *err);
/* A lazy read-only handle on a hive read through `rd` (see hive_cells.h); 1 when the hive is dirty. Takes `ctx`
 * over (malloc'd; freed at close, and now unless 0 is returned). */
int reg_hive_open_lazy(size_t len, int (*rd)(void *, uint64_t, void *, size_t, vk_error *), void *ctx,
                       const char *name, vk_reg_hive **out, vk_error *err);
/* vhdkit's reader over the bytes hivex opened, to explain a failed hivex call; NULL when there is none or the hive
 * has changed since (offsets there no longer mean the same cells). */
struct reg_cells *reg_hive_diag_cells(vk_reg_hive *h);
/* Base block checksum valid and both sequence numbers equal: nothing to replay. */
bool reg_base_clean(const uint8_t *base);
/* A hivex read call failed with `hx_errno`: a VK_E_CORRUPT error naming the hive, and the offset and cause when
 * vhdkit's own reading of the same cells (`diag_rc`, `diag`) found one; `node` is the cell the call was about. */
int reg_hx_read_fail(vk_reg_hive *h, vk_error *err, int hx_errno, int diag_rc, const vk_error *diag, vk_reg_key node,
                     const char *what);

/* XOR-32 of the first 508 bytes, with the two values Windows never stores remapped as it does. */
uint32_t reg_base_checksum(const uint8_t *base);
/* Build a new empty hive image (base block + one hbin holding the root nk and its sk). */
int reg_new_hive_bytes(const char *root_name, uint8_t **out, size_t *len, vk_error *err);
/* Recover a dirty hive in `*data` from its logs (may reallocate and resize it). Returns 0 and sets `*recovered`
 * to the number of entries applied, or fills `warn` and returns 1 when the hive is dirty and not recoverable;
 * negative codes for memory errors only. */
int reg_log_recover(uint8_t **data, size_t *len, const vk_reg_log *log1, const vk_reg_log *log2, unsigned *applied,
                    char *warn, size_t warncap, vk_error *err);
/* Move raw data cells larger than 16344 bytes into db big-data cells (hivex writes them as one cell). */
int reg_bigdata_fix(uint8_t **data, size_t *len, vk_error *err);
/* Marvin32 hash (used by HvLE log entries). */
uint64_t reg_marvin32(const uint8_t *p, size_t n, uint64_t seed);

/* A key or value name hivex can take (valid UTF-8). */
int reg_check_name(const char *name, vk_error *err);
/* Compare two UTF-8 names as Windows does (upper-casing both); <0, 0, >0. */
int reg_name_cmp(const char *a, const char *b);
/* Subkeys with their names, sorted as Windows sorts them. */
struct reg_child {
    vk_reg_key node;
    char *name;
};
int reg_children(vk_reg_hive *h, vk_reg_key key, struct reg_child **out, size_t *count, vk_error *err);
void reg_children_free(struct reg_child *kids, size_t n);
/* Find or create `rel` below `start` (import walks from the previous key instead of the root). */
int reg_key_create_below(vk_reg_hive *h, vk_reg_key start, const char *rel, vk_reg_key *out, vk_error *err);
/* Record a failure of a hivex call from its errno. */
int reg_hx_fail(vk_error *err, const char *what, const char *name);
/* Replace all values of `key` with `vals` in one hivex call (marks the hive broken when it fails). */
int reg_values_store(vk_reg_hive *h, vk_reg_key key, const vk_reg_value *vals, size_t n, vk_error *err);
/* The hive must be writable and whole before a change. */
int reg_check_writable(const vk_reg_hive *h, vk_error *err);

#endif
