/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: compaction's map of needed sectors (partitions, NTFS $Bitmap), the per-block plan, and the two ways of
 * applying it (in place, to a new file). */
#ifndef VK_OPS_COMPACT_INT_H
#define VK_OPS_COMPACT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "vhd/compact_io.h"
#include "vhdkit/ntfs.h"
#include "vhdkit/ops.h"

/* What a virtual-disk sector is to compaction. */
enum csec {
    CSEC_USED = 0,   /* a cluster $Bitmap marks used: kept, and its block is never read to look for zeros (a file's
                      * content is kept as it is; this keeps dry runs and in-place runs to metadata reads) */
    CSEC_ASIS,       /* NTFS boot area, partition metadata, an area vhdkit does not understand: kept unless every
                      * sector still stored in its block reads zero */
    CSEC_FREE,       /* a cluster free in $Bitmap (or past the end of the virtual disk) */
    CSEC_PAGEFILE,   /* a cluster of pagefile.sys or swapfile.sys, with --discard-pagefile */
};

struct crun {
    uint64_t lcn, len;
};

/* One NTFS volume whose $Bitmap decides which of its sectors are needed. */
struct cvol {
    unsigned number;
    uint64_t start_sec, nsec;  /* on the virtual disk */
    uint32_t spc;              /* 512-byte sectors per cluster */
    uint64_t clu_sec;          /* sectors covered by clusters (total clusters * spc); the rest is kept */
    vk_dev *win;
    vk_ntfs *ntfs;
    struct crun *pf;           /* pagefile/swapfile runs, sorted by lcn */
    unsigned npf;
    uint8_t *bm;               /* a window of $Bitmap: bytes [bm_first, bm_first + bm_len) */
    uint64_t bm_first;
    size_t bm_len;
};

struct cmap {
    struct cvol *vols;         /* sorted by start */
    unsigned nvols;
    uint64_t disk_sec;
    unsigned hint;
};

/* compact_map.c: reads the partition table of `disk`, mounts every NTFS volume read-only (refusing hibernated or
 * unclean ones), loads pagefile runs when asked, and records the areas kept as they are in `res`. */
int cmap_open(vk_dev *disk, unsigned flags, struct vk_compact_result *res, struct cmap *m, vk_error *err);
void cmap_close(struct cmap *m);
/* Classes (enum csec) of sectors [first, first + n) of the virtual disk. */
int cmap_classify(struct cmap *m, uint64_t first, uint32_t n, uint8_t *cls, vk_error *err);

/* compact_plan.c: the decision for one allocated block. */
enum bp_action { BP_KEEP, BP_CHANGE, BP_DROP };

struct cplan {
    vk_vhd *vhd;
    vk_dev *file;              /* host file of vhd */
    struct vhd_cio_layout lay;
    struct cmap map;
    bool diff;
    uint64_t disk_sec;
    uint8_t *cls;              /* per sector of the block */
    uint8_t *old_bits, *new_bits;
    uint8_t *slot;             /* the block as stored: bitmap then data (valid after plan_read_slot) */
    uint8_t *pview;            /* differencing: the parent chain's bytes for the block */
    uint32_t slot_blk;         /* block whose bytes `slot` holds, UINT32_MAX when none */
};

struct bplan {
    enum bp_action action;
    enum vk_compact_reason reason;                 /* of a dropped block: the reason that freed most of it */
    uint64_t sectors[VK_COMPACT_NREASONS];         /* stored sectors given back */
};

int plan_init(struct cplan *p, vk_vhd *vhd, unsigned flags, struct vk_compact_result *res, vk_error *err);
/* plan_init without the map: layout and block buffers only (unit tests give p->map a synthetic $Bitmap: volumes
 * whose `bm` window covers every cluster, so it is never reloaded through `ntfs`). */
int plan_setup(struct cplan *p, vk_vhd *vhd, vk_error *err);
void plan_free(struct cplan *p);
/* Plans allocated block `blk`: p->old_bits and p->new_bits hold its bitmaps afterwards. */
int plan_block(struct cplan *p, uint32_t blk, struct bplan *bp, vk_error *err);
/* Reads block `blk` as stored (bitmap and data) into p->slot. */
int plan_read_slot(struct cplan *p, uint32_t blk, vk_error *err);
/* Adds a block's plan to the result totals. */
void plan_account(struct vk_compact_result *res, const struct bplan *bp);

/* compact_apply.c: in place. compact_copy.c: into a new image `out`. */
int compact_in_place(struct cplan *p, const struct vk_compact_opts *o, struct vk_compact_result *res, vk_error *err);
int compact_to_file(struct cplan *p, const char *out, const struct vk_compact_opts *o, struct vk_compact_result *res,
                    vk_error *err);
/* Dry run: totals only. */
int compact_dry_run(struct cplan *p, const struct vk_compact_opts *o, struct vk_compact_result *res, vk_error *err);

#endif
