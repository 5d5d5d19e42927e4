/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VHD images (fixed, dynamic, differencing chains) opened as a vk_dev; creation and snapshots. */
#ifndef VHDKIT_VHD_H
#define VHDKIT_VHD_H

#include <stdint.h>

#include "vhdkit/dev.h"
#include "vhdkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vk_vhd vk_vhd;

enum vk_vhd_type { VK_VHD_FIXED = 2, VK_VHD_DYNAMIC = 3, VK_VHD_DIFF = 4 };

/* Differencing chains longer than this are refused (also stops loops that a cycle check would miss). */
#define VK_VHD_MAX_CHAIN_DEPTH 64

enum vk_vhd_open_flags {
    VK_VHD_RDWR = 1u << 0,      /* writable (the top image only; parents are always read-only) */
    VK_VHD_NO_PARENT = 1u << 1, /* do not open the parent: metadata only; reads that fall through fail */
    VK_VHD_TOLERANT = 1u << 2,  /* read-only: accept bad checksums (recorded in the info), fall back to the footer
                                   copy at offset 0 when the trailing one is damaged */
    VK_VHD_BULK = 1u << 3,      /* writing a new file no one else sees yet: skip per-block fsync (caller flushes
                                   and renames into place at the end) */
};

struct vk_vhd_open_opts {
    unsigned flags;                /* vk_vhd_open_flags */
    const char *const *search_dirs; /* NULL-terminated extra folders to look for parents in (may be NULL) */
    vk_dev *file;                  /* when set: the top image's host device (e.g. a fault injector); the handle
                                      takes ownership. Otherwise the path is opened and locked. */
};

/* One link of a differencing chain as found (or not) while opening. */
struct vk_vhd_link {
    char path[4096];               /* resolved path ("" when missing) */
    int found;
    int uuid_match;                /* parent's footer UUID equals the child's recorded parent UUID */
};

struct vk_vhd_info {
    enum vk_vhd_type type;
    uint64_t virtual_size;         /* the size vhdkit uses (creator table, VHD-NOTES.md item 6) */
    uint64_t current_size;         /* footer field */
    uint64_t original_size;        /* footer field */
    uint64_t chs_size;             /* cylinders * heads * sectors * 512 */
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors_per_track;
    int size_from_chs;             /* 1 when the creator table says CHS decides the size */
    char creator_app[5];           /* printable, NUL-terminated ("win ", "qemu", "vpc ") */
    uint32_t creator_version;
    char creator_os[5];
    uint8_t uuid[16];
    int64_t timestamp_unix;
    uint8_t saved_state;
    uint32_t features;
    int footer_checksum_ok;
    int footer_from_copy;          /* the trailing footer was damaged; the copy at offset 0 was used */
    /* dynamic and differencing only */
    uint32_t block_size;
    uint32_t max_table_entries;
    uint32_t blocks_allocated;
    uint64_t bat_offset;
    int header_checksum_ok;
    uint64_t file_size;
    /* differencing only */
    uint8_t parent_uuid[16];
    int64_t parent_timestamp_unix;
    char parent_name[1024];        /* header's parent Unicode name in UTF-8 */
    struct vk_vhd_link parent;     /* how the parent was resolved */
    char tried[8][4096];           /* every candidate path tried for the parent, in order */
    int tried_count;
};

/* Open an image and, for differencing disks, its whole chain (parents read-only). A missing parent fails with
 * VK_E_CHAIN and a message listing every path tried, unless VK_VHD_NO_PARENT. */
VK_API int vk_vhd_open(const char *path, const struct vk_vhd_open_opts *opts, vk_vhd **out, vk_error *err);
VK_API void vk_vhd_close(vk_vhd *vhd);
/* The virtual disk as a device (owned by the handle; do not close it). Reads go through the chain; writes land in
 * this image only. extent(): dynamic images answer DATA/ZERO/UNALLOC, differencing ones DATA/PARENT. */
VK_API vk_dev *vk_vhd_dev(vk_vhd *vhd);
/* The host file of this image (owned by the handle). */
VK_API vk_dev *vk_vhd_file(vk_vhd *vhd);
/* Parent handle or NULL. */
VK_API vk_vhd *vk_vhd_parent(vk_vhd *vhd);
VK_API const char *vk_vhd_path(const vk_vhd *vhd);
VK_API int vk_vhd_get_info(vk_vhd *vhd, struct vk_vhd_info *info);
/* Extent resolved through the chain: like vk_dev_extent on vk_vhd_dev, but PARENT runs are answered by the
 * ancestors; `*depth` (may be NULL) is 0 for this image, 1 for its parent, ... (-1 when no image holds it: UNALLOC
 * everywhere, past a smaller parent's end, or the parent is not open). */
VK_API int vk_vhd_extent_deep(vk_vhd *vhd, uint64_t off, uint64_t len, vk_extent *out, int *depth, vk_error *err);
/* Where virtual byte `virt_off` is stored: `*depth` is the chain level holding it (0 this image, 1 its parent, ...)
 * and `*file_off` its byte offset in that image's file; `*depth` is -1 when no image stores it (reads as zero). */
VK_API int vk_vhd_map_offset(vk_vhd *vhd, uint64_t virt_off, uint64_t *file_off, int *depth, vk_error *err);
/* Flush data and metadata to the host file (fsync). */
VK_API int vk_vhd_flush(vk_vhd *vhd, vk_error *err);

enum vk_vhd_fill {
    VK_FILL_ALLOCATE = 0, /* fixed: fallocate (fully allocated, reads zero, constant time); fall back to sparse and say so */
    VK_FILL_SPARSE,       /* fixed: sparse host file (ftruncate) */
    VK_FILL_ZERO,         /* fixed: write zeros (slow, works everywhere) */
};

struct vk_vhd_create_opts {
    enum vk_vhd_type type;
    uint64_t size;                 /* requested virtual size in bytes (differencing: 0 = parent's) */
    uint32_t block_size;           /* dynamic/differencing, 0 = 2 MiB */
    enum vk_vhd_fill fill;
    char creator_app[4];           /* all zero = "win " (sized by current size in qemu, libvhdi, Hyper-V: see create.c);
                                      a CHS creator ("vpc ") gets the smallest geometry holding the size */
    int azure;                     /* fixed, whole MiB, 20 MiB .. 32 TiB */
    const char *parent;            /* differencing: the parent image path */
};

struct vk_vhd_create_result {
    uint64_t virtual_size;         /* what readers will see */
    uint64_t file_size;
    enum vk_vhd_fill fill_used;    /* may differ from the request when the filesystem cannot preallocate */
    char note[256];                /* human note, e.g. "the filesystem cannot preallocate: made a sparse file" */
};

/* Create a new image (fails with VK_E_EXISTS when the path exists). A differencing child gets W2ku and W2ru
 * locators (absolute and relative Windows-style paths) so Hyper-V can open it, and MacX for blktap. */
VK_API int vk_vhd_create(const char *path, const struct vk_vhd_create_opts *opts, struct vk_vhd_create_result *res,
                         vk_error *err);

/* Any disk image as a device: VHD (by its footer) or raw. `*vhd_out` (may be NULL) receives the VHD handle when
 * the image is a VHD; closing the device closes the handle. Options as vk_vhd_open. */
VK_API int vk_image_open(const char *path, const struct vk_vhd_open_opts *opts, vk_dev **out, vk_vhd **vhd_out,
                         vk_error *err);

#ifdef __cplusplus
}
#endif
#endif
