/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole-image operations the command line is built on: structural check and conversion between image types. */
#ifndef VHDKIT_OPS_H
#define VHDKIT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/error.h"
#include "vhdkit/vhd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- check ---- */
enum vk_check_severity {
    VK_CHECK_NOTE = 0,   /* worth knowing, not wrong (saved state set, footer copy used) */
    VK_CHECK_WARNING,    /* tolerated by readers, but not what the specification says */
    VK_CHECK_ERROR,      /* breaks readers or risks data */
};

struct vk_check_problem {
    enum vk_check_severity severity;
    char file[256];                /* which image of the chain */
    int has_offset;
    uint64_t offset;               /* byte offset in `file` */
    char what[320];                /* lowercase description */
};

struct vk_check_report {
    struct vk_check_problem *problems;
    size_t count;
    size_t cap;
    size_t errors, warnings, notes;
    int images_checked;            /* 1 + parents reached */
};

/* Checks every structural rule of the VHD at `path` and of its parents: footer checksum, the copy at offset 0 equal
 * to the trailing footer, header checksum and fields, BAT entries inside the file, sector-aligned, not overlapping
 * each other nor the header, BAT or locators; locators inside the file and decodable; chain links found with
 * matching UUIDs; saved state. Opens read-only. Returns 0 when the image could be checked (the problems are in
 * `rep`, free with vk_check_report_free), or an error when it could not (not a VHD at all, unreadable, lock held). */
VK_API int vk_check_image(const char *path, struct vk_check_report *rep, vk_error *err);
VK_API void vk_check_report_free(struct vk_check_report *rep);
VK_API const char *vk_check_severity_name(enum vk_check_severity s);

/* ---- convert ---- */
enum vk_convert_type { VK_CONVERT_DYNAMIC = 0, VK_CONVERT_FIXED, VK_CONVERT_RAW };

struct vk_convert_opts {
    enum vk_convert_type type;
    uint32_t block_size;           /* dynamic output, 0 = 2 MiB */
    enum vk_vhd_fill fill;         /* fixed output */
    int azure;                     /* fixed output sized for Azure */
    /* Called now and then with the bytes of the virtual disk walked so far (may be NULL). */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

struct vk_convert_result {
    uint64_t virtual_size;         /* of the destination */
    uint64_t bytes_read;           /* data read from the source */
    uint64_t bytes_written;        /* data written to the destination (zero runs are skipped) */
    uint64_t bytes_skipped;        /* ranges never read: unallocated, holes, unwritten sectors */
    char note[256];                /* from creation, e.g. a preallocation fallback */
};

/* Copies the virtual content of `src` (raw file or VHD with its chain) into a new image `dst` of another type.
 * Unwritten ranges are skipped without reading; data that reads as zero (4 KiB granules) is not written, so it
 * stays unallocated (dynamic) or a hole (raw). Builds `dst`.tmp, fsyncs it and renames it into place; `dst` must
 * not exist. */
VK_API int vk_convert(const char *src, const char *dst, const struct vk_convert_opts *opts,
                      struct vk_convert_result *res, vk_error *err);

/* ---- compact ---- */
enum vk_compact_flags {
    VK_COMPACT_DRY_RUN = 1u << 0,          /* plan and report only; the image is opened read-only */
    VK_COMPACT_DISCARD_PAGEFILE = 1u << 1, /* clusters of pagefile.sys and swapfile.sys count as unused */
    VK_COMPACT_FORCE_PARENT = 1u << 2,     /* compact in place even when an image in the folder is its child */
};

/* Why stored sectors were given back. */
enum vk_compact_reason {
    VK_COMPACT_FREE = 0,   /* in a cluster NTFS does not use */
    VK_COMPACT_ZERO,       /* all-zero block of a dynamic disk */
    VK_COMPACT_PARENT,     /* differencing: the same bytes as the parent chain */
    VK_COMPACT_PAGEFILE,   /* --discard-pagefile */
    VK_COMPACT_NREASONS
};

/* An area kept as it is (only all-zero blocks dropped there) and why. */
struct vk_compact_kept {
    uint64_t off, len;             /* bytes of the virtual disk */
    char what[128];                /* "outside partitions", "partition 2: BitLocker", ... */
};
#define VK_COMPACT_MAX_KEPT 16

struct vk_compact_opts {
    unsigned flags;                /* vk_compact_flags */
    const char *output;            /* NULL: in place; else a new packed image (must not exist) */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

struct vk_compact_result {
    uint64_t file_size_before, file_size_after;     /* dry run: the size the in-place run would leave at most */
    uint64_t blocks_before, blocks_after;           /* allocated blocks */
    uint64_t block_size;
    uint64_t freed_bytes[VK_COMPACT_NREASONS];      /* stored sectors given back (512 each), by reason */
    uint64_t freed_blocks[VK_COMPACT_NREASONS];     /* blocks dropped, each under the reason that freed most of it */
    uint64_t blocks_moved;                          /* in place: blocks copied into holes */
    unsigned volumes;                               /* NTFS volumes whose $Bitmap was used */
    unsigned nkept;
    struct vk_compact_kept kept[VK_COMPACT_MAX_KEPT];
    double seconds;
};

VK_API const char *vk_compact_reason_name(enum vk_compact_reason r);
/* Gives back the blocks and sectors of a dynamic or differencing image that no file uses (see vhdkit-compact(1)).
 * Refuses (VK_E_REFUSED) fixed disks, saved-state images, hibernated or unclean NTFS volumes, and in place, images
 * that another .vhd in their folder names as its parent (unless VK_COMPACT_FORCE_PARENT). In place, every write is
 * ordered so a crash leaves a valid image with every used cluster intact; with `output`, builds output.tmp, fsyncs
 * and renames it. */
VK_API int vk_compact(const char *path, const struct vk_compact_opts *opts, struct vk_compact_result *res,
                      vk_error *err);

/* ---- align: partitions that do not start on a boundary (vhdkit-align(1)) ---- */
#define VK_ALIGN_MAX_PARTS 128
#define VK_ALIGN_DEFAULT_TO (1u << 20)

/* One partition as the scan sees it (offsets in bytes of the virtual disk). */
struct vk_align_part {
    unsigned number;               /* as the partition table numbers it */
    unsigned flags;                /* vk_part_flags (VK_PART_CONTAINER: an extended partition, never judged) */
    uint8_t mbr_type;
    const char *type_name;
    uint64_t start_off, len;
    int aligned_4k, aligned_1m;
    int aligned_block;             /* on the VHD block size (dynamic and differencing), else = aligned_to */
    int aligned_to;                /* on the requested boundary (--to) */
    /* NTFS volumes (boot sector "NTFS    " with sane geometry) */
    int ntfs;
    uint32_t cluster_size;
    uint64_t clusters;
    uint32_t hidden_sectors;       /* boot sector 0x1C: Windows wants it equal to the start LBA */
    int clusters_4k;               /* every cluster starts on a 4 KiB boundary of the disk */
    uint64_t split_4k;             /* clusters touching one more 4 KiB unit than their size needs */
    uint64_t split_block;          /* clusters touching one more VHD block than needed (0 without blocks) */
    uint64_t new_start_off;        /* fix: where it goes (= start_off when it stays) */
};

struct vk_align_report {
    int scheme;                    /* enum vk_part_scheme (vhdkit/part.h) */
    int is_vhd;
    enum vk_vhd_type type;         /* when is_vhd */
    uint32_t block_size;           /* dynamic and differencing, else 0 */
    uint64_t disk_size;
    uint32_t disk_signature;       /* MBR */
    uint64_t target;               /* the boundary judged (--to) */
    unsigned count;
    struct vk_align_part parts[VK_ALIGN_MAX_PARTS];
    unsigned misaligned;           /* non-container partitions not on `target` */
};

/* Reads the partition table and each NTFS boot sector of the image at `path` (raw or VHD with its chain),
 * read-only. `target` 0 means VK_ALIGN_DEFAULT_TO; it must be a multiple of 4096. */
VK_API int vk_align_scan(const char *path, uint64_t target, struct vk_align_report *rep, vk_error *err);

#ifdef __cplusplus
}
#endif
#endif
