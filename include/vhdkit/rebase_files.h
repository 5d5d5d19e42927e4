/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rebase --files: a user's differencing disk moved onto an updated base by replaying the user's file changes (what
 * vk_diff finds between the old base and the child) into a new child of the updated base, with every path the update
 * touched too reported as a conflict and settled by a policy (vhdkit-rebase(1), section --files). */
#ifndef VHDKIT_REBASE_FILES_H
#define VHDKIT_REBASE_FILES_H

#include <stdint.h>

#include "vhdkit/diff.h"
#include "vhdkit/error.h"
#include "vhdkit/ntfs.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vk_rbf_flags {
    VK_RBF_FORCE = 1u << 0,       /* replace OUT when it exists */
    VK_RBF_PREFER_USER = 1u << 1, /* conflicts keep the user's version (default: the update's) */
};

enum vk_rbf_outcome {
    VK_RBF_APPLIED = 0, /* the user's change was replayed into OUT */
    VK_RBF_CONFLICT,    /* the update touched the same path (or a folder above / something below it) */
    VK_RBF_SAME,        /* both sides made the same change: nothing to do, not a conflict */
    VK_RBF_SKIPPED,     /* left out on purpose (volatile or system path, registry hive, reparse point) */
};
VK_API const char *vk_rbf_outcome_name(enum vk_rbf_outcome o); /* "applied", "conflict", "same", "skipped" */

struct vk_rbf_item {
    char *path;                   /* volume path as the child stores it ("/Users/alice/a.txt"); registry items: the
                                     key ("HKLM\SOFTWARE\Vendor", "HKU\alice\Software\X") */
    int registry;                 /* 1: a registry key (value NULL) or value of a merged hive, not a file */
    char *value;                  /* registry value name ("" the default value), NULL for keys and files */
    enum vk_rbf_outcome outcome;
    enum vk_diff_kind user;       /* what the user did (relative to the old base) */
    enum vk_diff_type type;       /* file, dir or link (the user's side; the old base's for a removal) */
    int has_update;               /* conflict, same: `update` is filled in */
    enum vk_diff_kind update;     /* what the update did (to this path or to `update_path`) */
    char *update_path;            /* conflict through another path (a folder above it removed, or something below it
                                     changed): that path, else NULL */
    int kept_user;                /* conflict: 1 the user's version is in OUT, 0 the update's */
    const char *note;             /* skipped: why; conflict and applied: what could not be replayed, or NULL */
};

struct vk_rbf_opts {
    unsigned flags;               /* vk_rbf_flags */
    const char *old_base;         /* NULL: the child's parent as its chain names it; else it must be that file */
    unsigned part;                /* partition (0: the Windows volume, else the only NTFS one) */
    vk_ntfs_log_fn log;           /* libntfs-3g's warnings (may be NULL) */
    void *log_ctx;
};

struct vk_rbf_result {
    struct vk_rbf_item *items;    /* in the order the paths were considered (path order) */
    size_t nitems;
    uint64_t applied, conflicts, same, skipped;
    uint64_t hives_merged;        /* hive files the user changed whose keys and values were merged */
    uint64_t hives_not_merged;    /* hive files the user changed that were left out (SAM, SECURITY, unreadable) */
    uint64_t bytes_written;       /* file and stream bytes written into OUT */
    uint64_t user_changes, update_changes; /* entries vk_diff reported on each side */
    char old_base[4096];          /* the old base used */
    unsigned part;                /* partition of the child's volume */
    double seconds;
};

/* Builds `out` as a new differencing child of `new_base` holding the user's changes of `child` (a differencing
 * image whose parent is the old base) relative to that old base, as vhdkit-rebase(1) describes. `child`, the old
 * base and `new_base` are only read. `out` is built as "OUT.tmp-rebase" in OUT's folder (a leftover of a crashed
 * run is replaced), fsynced and renamed into place. Returns 0 when OUT was made (conflicts are in res: exit 1 for
 * the command), else an error (OUT exists without VK_RBF_FORCE: VK_E_EXISTS; the child's parent is not the old base:
 * VK_E_CHAIN; no NTFS volume: VK_E_UNSUPPORTED). Free res with vk_rbf_result_free (also after an error). */
VK_API int vk_rebase_files(const char *child, const char *new_base, const char *out, const struct vk_rbf_opts *opts,
                           struct vk_rbf_result *res, vk_error *err);
VK_API void vk_rbf_result_free(struct vk_rbf_result *res);

#ifdef __cplusplus
}
#endif
#endif
