/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The open VHD image (struct vk_vhd) shared by the open, chain, I/O, write and create code of lib/vhd. */
#ifndef VK_VHD_IMAGE_INTERNAL_H
#define VK_VHD_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vhd/format.h"
#include "vhdkit/vhd.h"

/* Sector bitmaps are read on demand and kept in a small LRU cache: memory stays bounded whatever the disk size. */
#define VHD_BITMAP_CACHE_SLOTS 64

struct bitmap_slot {
    uint32_t blk;
    bool valid;
    uint64_t last_use;
    uint8_t *bits; /* bitmap_bytes long */
};

struct bitmap_cache {
    struct bitmap_slot slot[VHD_BITMAP_CACHE_SLOTS];
    uint64_t clock;
};

/* Identity of a file in a chain, for the cycle check. */
struct file_id {
    dev_t dev;
    ino_t ino;
};

struct vk_vhd {
    char path[4096];
    unsigned flags;             /* vk_vhd_open_flags */
    vk_dev *file;               /* host file (owned) */
    vk_dev dev;                 /* the virtual disk; priv points back here */
    int close_with_dev;         /* vk_image_open: closing dev closes the whole handle */
    vk_vhd *parent;

    struct vhd_footer footer;
    uint8_t footer_raw[VHD_FOOTER_LEN]; /* as read: rewritten verbatim when the file grows (keeps reserved bytes) */
    bool footer_checksum_ok;
    bool footer_from_copy;
    uint64_t virtual_size;

    /* dynamic and differencing */
    struct vhd_header header;
    bool header_checksum_ok;
    uint64_t header_off;
    uint32_t *bat;              /* max_table_entries entries, host order */
    uint32_t bat_entries;
    uint32_t block_size;
    uint32_t bitmap_bytes;
    uint32_t sectors_per_block;
    uint64_t end_off;           /* where the trailing footer sits: the next block is allocated here */
    struct bitmap_cache cache;
    struct vhd_batch *batch;    /* batch.c: deferred BAT entries and bitmap bits (NULL: every write ordered alone) */

    /* differencing: how the parent was found */
    struct vk_vhd_link link;
    char tried[8][4096];
    int tried_count;
};

static inline vk_vhd *dev_vhd(vk_dev *dev) { return dev->priv; }
static inline bool vhd_is_sparse(const vk_vhd *vhd) { return vhd->footer.disk_type != VHD_TYPE_FIXED; }
static inline bool vhd_is_diff(const vk_vhd *vhd) { return vhd->footer.disk_type == VHD_TYPE_DIFF; }

/* image_open.c: open with the chain state of the children above (cycle check and depth). */
int vhd_open_at(const char *path, const struct vk_vhd_open_opts *opts, struct file_id *chain, int depth, vk_vhd **out,
                vk_error *err);

/* chain.c: find, open and check the parent of a differencing image. */
int vhd_open_parent(vk_vhd *vhd, const struct vk_vhd_open_opts *opts, struct file_id *chain, int depth,
                    vk_error *err);

/* bitmap_cache.c */
void bitmap_cache_free(struct bitmap_cache *c);
/* The sector bitmap of allocated block `blk` (cached; valid until the next cache call). */
int bitmap_cache_get(vk_vhd *vhd, uint32_t blk, uint8_t **bits, vk_error *err);
/* Forget a block's bitmap (after a failed write left the cached copy unsure). */
void bitmap_cache_drop(vk_vhd *vhd, uint32_t blk);
/* Install the bitmap of a block just allocated (no read needed). */
int bitmap_cache_put(vk_vhd *vhd, uint32_t blk, const uint8_t *bits, vk_error *err);

/* io.c: the vk_dev operations of a VHD image. */
extern const struct vk_dev_ops vhd_dev_ops;
/* Current content of [off, off+len) through the chain. */
int vhd_read(vk_vhd *vhd, uint8_t *buf, size_t len, uint64_t off, vk_error *err);
int vhd_extent(vk_vhd *vhd, uint64_t off, uint64_t len, vk_extent *out, vk_error *err);

/* write.c */
/* Rewrites the one BAT sector holding entry `blk` (a single 512-byte write; does not touch vhd->bat). */
int vhd_write_bat_entry(vk_vhd *vhd, uint32_t blk, uint32_t value, vk_error *err);
/* The bitmap sectors of allocated block `blk` that differ between `old` and `bits`, each its own 512-byte write
 * (a torn write then spoils one sector's bits at most). The cache is the caller's business. */
int vhd_write_bitmap_sectors(vk_vhd *vhd, uint32_t blk, const uint8_t *old, const uint8_t *bits, vk_error *err);
int vhd_write(vk_vhd *vhd, const uint8_t *buf, size_t len, uint64_t off, vk_error *err);

/* create.c (also used by reparent and resize in lib/vhd/chain_edit.c) */
/* A parent locator to write: platform code and the path in the form that code takes. */
struct vhd_loc_plan {
    uint32_t code;
    char path[4096];
};
/* Parent fields of a differencing header for `parent` at absolute path `parent_abs` (UUID, modification time,
 * Unicode name) and the W2ku, W2ru and MacX locator paths as seen from `child`'s folder. */
int vhd_plan_parent(const char *child, vk_vhd *parent, const char *parent_abs, struct vhd_header *h,
                    struct vhd_loc_plan plan[3], vk_error *err);
/* Current size and geometry for a requested size (CHS creators: the smallest geometry holding it). */
int vhd_size_footer(struct vhd_footer *f, uint64_t want, const char *path, vk_error *err);

#endif
