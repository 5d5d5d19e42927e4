/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: the state of one diff run shared by its pieces (chain shortcut, walk, entry comparison, content). */
#ifndef VK_OPS_DIFF_INT_H
#define VK_OPS_DIFF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/diff.h"

/* The images above the two sides' common chain ancestor: a sector none of them stores reads the same on both sides
 * (the ancestor's bytes). */
struct diff_chain {
    int shared;                                  /* a common ancestor was found */
    vk_dev *above[2][VK_VHD_MAX_CHAIN_DEPTH];    /* per side, the differencing images above it (top first) */
    unsigned n[2];
    char ancestor[4096];
};

/* Finds the nearest image both chains contain (the same host file: device and inode). Either may be NULL (a raw
 * image): then nothing is shared. */
void diff_chain_find(vk_vhd *a, vk_vhd *b, struct diff_chain *c);
/* 1 when no image above the ancestor, on either side, stores any sector of virtual bytes [off, off+len); 0 when
 * one does; a negative code on error. */
int diff_chain_untouched(const struct diff_chain *c, uint64_t off, uint64_t len, vk_error *err);

struct diff_ctx {
    const struct vk_diff_side *side[2];
    unsigned flags;                  /* vk_diff_flags */
    vk_diff_fn fn;
    void *fn_ctx;
    struct vk_diff_result *res;
    struct diff_chain chain;
    int fast;                        /* the shared-cluster shortcut applies (same offset and cluster size) */
    uint32_t cluster_size;
    uint8_t *buf[2];                 /* content comparison buffers, DIFF_CHUNK each */
    vk_error *err;
};

#define DIFF_CHUNK (1u << 20)

/* One side's view of a path. */
struct diff_stat {
    int present;
    vk_ntfs_stat st;
    struct vk_diff_node node;
};

/* Stats `path` on side s (0 = A, 1 = B); a missing path leaves present 0. */
int diff_stat(struct diff_ctx *d, int s, const char *path, struct diff_stat *out);
void diff_stat_free(struct diff_stat *ds);
/* Compares a path present on both sides and reports it when anything differs. */
int diff_compare(struct diff_ctx *d, const char *path, const struct diff_stat *a, const struct diff_stat *b);
/* Reports a path present on one side only (s = 0: removed, 1: added). */
int diff_report_only(struct diff_ctx *d, const char *path, int s, const struct diff_stat *ds);
/* Judges the bytes of data stream `stream` ("" = unnamed) of `path`, the same size on both sides. */
int diff_content(struct diff_ctx *d, const char *path, const char *stream, const vk_ntfs_stat *sa,
                 const vk_ntfs_stat *sb, uint64_t size, enum vk_diff_content *out);
/* Walks folder `dir` (present on the sides flagged) and below. */
int diff_walk(struct diff_ctx *d, const char *dir, int present_a, int present_b, unsigned depth);
/* Compares `path` ("/" or a normalized path below it) on both sides, then everything under it. */
int diff_walk_path(struct diff_ctx *d, const char *path);

#endif
