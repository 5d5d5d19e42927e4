/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff: the files that differ between two NTFS volumes (two images, often a child and its parent, or two children of
 * one base), as a structured list a caller can act on (vhdkit diff prints it; rebase --files replays it). */
#ifndef VHDKIT_DIFF_H
#define VHDKIT_DIFF_H

#include <stdint.h>

#include "vhdkit/error.h"
#include "vhdkit/ntfs.h"
#include "vhdkit/vhd.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vk_diff_kind {
    VK_DIFF_ADDED = 0,   /* only in B */
    VK_DIFF_REMOVED,     /* only in A */
    VK_DIFF_CHANGED,     /* in both, some field below differs */
};

enum vk_diff_type {
    VK_DIFF_FILE = 0,
    VK_DIFF_DIR,
    VK_DIFF_LINK,        /* a reparse point (symbolic link, junction, ...): FILE_ATTRIBUTE_REPARSE_POINT set */
};

/* What differs in a CHANGED entry (bits of vk_diff_entry.fields). */
enum vk_diff_field {
    VK_DIFF_F_TYPE = 1u << 0,     /* file, folder or link */
    VK_DIFF_F_SIZE = 1u << 1,     /* unnamed data stream size */
    VK_DIFF_F_CONTENT = 1u << 2,  /* same size, different bytes (only looked at when sizes are equal) */
    VK_DIFF_F_MTIME = 1u << 3,    /* modification time (folders: only with VK_DIFF_ALL_TIMES) */
    VK_DIFF_F_CRTIME = 1u << 4,   /* creation time */
    VK_DIFF_F_ATIME = 1u << 5,    /* access time (only with VK_DIFF_ALL_TIMES) */
    VK_DIFF_F_CTIME = 1u << 6,    /* MFT change time (only with VK_DIFF_ALL_TIMES) */
    VK_DIFF_F_ATTRS = 1u << 7,    /* FILE_ATTRIBUTE_* bits */
    VK_DIFF_F_STREAMS = 1u << 8,  /* an alternate data stream added, removed or changed (see streams) */
    VK_DIFF_F_LINKS = 1u << 9,    /* hard link count */
    VK_DIFF_F_REPARSE = 1u << 10, /* the size of the $REPARSE_POINT data (its bytes are not compared) */
};
#define VK_DIFF_NFIELDS 11
/* "type", "size", "content", "modified", "created", "accessed", "mft_modified", "attributes", "streams", "links",
 * "reparse" for bit i. */
VK_API const char *vk_diff_field_name(unsigned bit_index);
VK_API const char *vk_diff_kind_name(enum vk_diff_kind k);   /* "added", "removed", "changed" */
VK_API const char *vk_diff_type_name(enum vk_diff_type t);   /* "file", "dir", "link" */

/* How the bytes of a data stream were judged. */
enum vk_diff_content {
    VK_DIFF_C_NONE = 0,       /* not compared: sizes differ, a folder, added or removed, VK_DIFF_NO_CONTENT, or an
                                 EFS-encrypted file (libntfs-3g does not decrypt) the shortcut could not judge */
    VK_DIFF_C_SHARED,         /* equal without reading: same runs, every cluster in sectors no image above the common
                                 ancestor stores */
    VK_DIFF_C_SAME,           /* read on both sides (resident data: from the MFT records): equal; also empty data */
    VK_DIFF_C_DIFFERENT,      /* read on both sides: different */
};
VK_API const char *vk_diff_content_name(enum vk_diff_content c); /* "", "shared", "same", "different" */

/* One side of an entry. */
struct vk_diff_node {
    enum vk_diff_type type;
    uint64_t mft;                 /* MFT record number */
    uint64_t size;                /* unnamed $DATA size (0 for folders) */
    uint32_t file_attrs;
    unsigned nlink;
    uint64_t reparse_size;        /* $REPARSE_POINT value length (0: none) */
    vk_ntfs_times times;
};

/* A named data stream (alternate data stream). */
struct vk_diff_stream {
    char name[256];               /* UTF-8 */
    enum vk_diff_kind kind;       /* in an ADDED/REMOVED entry: the file's streams, all ADDED/REMOVED */
    uint64_t size_a, size_b;      /* 0 on the side that lacks it */
    enum vk_diff_content content;
};

struct vk_diff_entry {
    const char *path;             /* "/Users/alice/file.txt" (volume path, '/' separated, names as stored) */
    enum vk_diff_kind kind;
    unsigned fields;              /* CHANGED: vk_diff_field bits (nonzero) */
    int has_a, has_b;             /* which nodes below are filled in */
    struct vk_diff_node a, b;
    enum vk_diff_content content; /* the unnamed data stream */
    unsigned nstreams;
    const struct vk_diff_stream *streams; /* CHANGED: the differing streams; ADDED/REMOVED: all of them */
};

/* Called once per difference, in path order (a folder before what is in it; names compared byte by byte within a
 * folder). A nonzero return stops the walk and is returned by vk_diff. */
typedef int (*vk_diff_fn)(void *ctx, const struct vk_diff_entry *e);

enum vk_diff_flags {
    VK_DIFF_NO_CONTENT = 1u << 0, /* metadata only: never judge bytes */
    VK_DIFF_ALL_TIMES = 1u << 1,  /* also access and MFT change times, and folders' modification times (which change
                                     whenever an entry is added or removed, and are left out by default) */
    VK_DIFF_NO_SHARED = 1u << 2,  /* read every same-size stream even when the chains share it (to measure, to test) */
};

struct vk_diff_opts {
    unsigned flags;               /* vk_diff_flags */
    const char *path;             /* folder to compare (NULL or "/": the whole volume) */
    unsigned part_a, part_b;      /* partition numbers (0: DESIGN.md's choice: the Windows volume, else the only
                                     NTFS one) */
    vk_ntfs_log_fn log;           /* libntfs-3g's warnings (may be NULL) */
    void *log_ctx;
};

struct vk_diff_result {
    uint64_t added, removed, changed;
    uint64_t entries_a, entries_b;   /* files and folders walked on each side */
    uint64_t streams_compared;       /* same-size non-empty data streams whose bytes were judged */
    uint64_t streams_shared;         /* of those, judged equal from shared clusters without reading */
    uint64_t streams_read;           /* of those, read on both sides */
    uint64_t bytes_read;             /* bytes read for comparison, both sides together */
    unsigned part_a, part_b;         /* the partitions compared */
    int shared;                      /* the two images share a chain ancestor at the same partition offset */
    char ancestor[4096];             /* its path ("" when none) */
    unsigned above_a, above_b;       /* images above the ancestor on each side (0: that side is the ancestor) */
    double seconds;
};

/* Compares the NTFS volumes of images `a` and `b` (any type; opened read-only with their chains) under opts->path.
 * User files and folders are compared, hidden and system ones included; the root's $ metafiles and DOS 8.3 alias
 * names are not. Returns 0 when the comparison ran (however many differences), else an error naming the image (an
 * unreadable image or no NTFS volume: VK_E_UNSUPPORTED / VK_E_CORRUPT; several volumes: VK_E_USAGE listing them). */
VK_API int vk_diff(const char *a, const char *b, const struct vk_diff_opts *opts, vk_diff_fn fn, void *ctx,
                   struct vk_diff_result *res, vk_error *err);

/* The same on volumes the caller mounted. `vhd` (may be NULL) and `part_off` (the partition's byte offset on the
 * virtual disk) allow the shared-cluster shortcut when both sides' chains share an image. opts->part_* are ignored. */
struct vk_diff_side {
    vk_ntfs *vol;
    vk_vhd *vhd;
    uint64_t part_off;
    const char *name;             /* for messages */
};
VK_API int vk_diff_volumes(const struct vk_diff_side *a, const struct vk_diff_side *b, const struct vk_diff_opts *opts,
                           vk_diff_fn fn, void *ctx, struct vk_diff_result *res, vk_error *err);

#ifdef __cplusplus
}
#endif
#endif
