/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rebase --files internals: the two diffs as lists, the path index of the update's changes, the plan and its writes. */
#ifndef VK_OPS_REBASE_FILES_INT_H
#define VK_OPS_REBASE_FILES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/rebase_files.h"
#include "vhdkit/vhd.h"

/* One vk_diff entry kept after its callback returned. */
struct rbf_change {
    char *path;
    char *key;                    /* path folded to ASCII lower case (NTFS names match case-insensitively) */
    enum vk_diff_kind kind;
    unsigned fields;
    enum vk_diff_type type_a, type_b; /* valid when has_a / has_b */
    int has_a, has_b;
    unsigned nstreams;
    struct vk_diff_stream *streams;
};

struct rbf_list {
    struct rbf_change *v;
    size_t n, cap;
};

/* The update's changes by folded path (open addressing). */
struct rbf_index {
    const struct rbf_change **slot;
    size_t cap;
    char **below;                 /* folded folders that hold a change the update made other than a removal */
    size_t nbelow, capbelow;
};

/* One volume as opened for the run. */
struct rbf_side {
    vk_dev *disk;                 /* owned unless `borrowed` */
    vk_vhd *vhd;
    vk_dev *win;
    vk_ntfs *vol;
    unsigned part;
    uint64_t part_off;
    const char *name;
    int borrowed;
};

struct rbf_run {
    struct rbf_side child, old, upd, out;
    unsigned flags;
    struct rbf_list user, update;
    struct rbf_index idx;
    struct vk_rbf_result *res;
    vk_error *err;
};

int rbf_collect(void *ctx, const struct vk_diff_entry *e); /* vk_diff_fn filling a struct rbf_list */
void rbf_list_free(struct rbf_list *l);
int rbf_index_build(struct rbf_index *ix, const struct rbf_list *l);
void rbf_index_free(struct rbf_index *ix);
const struct rbf_change *rbf_index_get(const struct rbf_index *ix, const char *key, size_t keylen);
int rbf_index_has_below(const struct rbf_index *ix, const char *key);

/* Decides every user change and writes the ones to replay into r->out's volume (rebase_files_apply.c). */
int rbf_plan_apply(struct rbf_run *r);
/* Gives OUT's `path` the child's security descriptor when the entry is `fresh` in OUT or the user changed it (old
 * base -> child), and the child's attribute bits `attrs` when fresh or `attrs_changed` (rebase_files_meta.c). Call
 * it before the times are set. */
int rbf_replay_meta(struct rbf_run *r, const char *path, int fresh, int attrs_changed, uint32_t attrs);
enum rbf_hive {
    RBF_NOT_HIVE = 0,
    RBF_HIVE_MERGE,   /* SYSTEM, SOFTWARE, DEFAULT, a user's NTUSER.DAT or UsrClass.dat: merged key by key */
    RBF_HIVE_LOG,     /* a hive's .LOG1/.LOG2/transaction files: read with their hive, not copied */
    RBF_HIVE_OTHER,   /* SAM, SECURITY, COMPONENTS, ...: neither copied nor merged (counted as not merged) */
};
/* Why `key` (folded) must not be replayed as a file, or NULL; *hive says which kind of registry file it is. */
const char *rbf_excluded(const char *key, int *hive);
/* The root name of a mergeable hive file `path` (as stored): "HKLM\SOFTWARE", "HKU\alice", "HKU\alice_Classes". */
int rbf_hive_root(const char *path, char *out, size_t cap);
/* A new report item for `path` (outcome and counts left to the caller), or NULL without memory. */
struct vk_rbf_item *rbf_item_add(struct rbf_run *r, const char *path);
/* Merges the user's keys and values of hive file `file` into OUT's copy (rebase_files_reg.c); *merged: 0 a side
 * could not be read (nothing done), 1 merged with nothing to write, 2 merged and written. */
int rbf_reg_merge(struct rbf_run *r, const char *file, const char *root, int *merged);

#endif
