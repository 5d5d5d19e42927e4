/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rebase --files: each user change is decided (replay, conflict, same change on both sides, left out) and the ones
 * to replay are written into OUT's volume, which starts as the updated base: removals first, deepest first; then
 * folders and files in path order (a folder before what it holds); folder times last, deepest first, because adding
 * entries changes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/rebase_files_int.h"

#define AT_DATA 0x80u

struct op {
    size_t change;                /* index into r->user */
    size_t item;                  /* index into res->items */
    int full;                     /* write the user's whole version (a conflict kept for the user) */
};

struct ops {
    struct op *v;
    size_t n, cap;
};

struct dir_time {
    char *path;
    vk_ntfs_times t;
};

struct plan {
    struct rbf_run *r;
    struct ops removals, writes, hives;
    struct dir_time *dirs;
    size_t ndirs, capdirs;
};

const char *vk_rbf_outcome_name(enum vk_rbf_outcome o)
{
    return o == VK_RBF_APPLIED ? "applied" : o == VK_RBF_CONFLICT ? "conflict" : o == VK_RBF_SAME ? "same" : "skipped";
}

static int nomem(struct rbf_run *r) { return vk_fail(r->err, VK_E_NOMEM, r->out.name, VK_NO_OFFSET, NULL); }

struct vk_rbf_item *rbf_item_add(struct rbf_run *r, const char *path)
{
    struct vk_rbf_result *res = r->res;
    if (res->nitems % 256 == 0) {
        struct vk_rbf_item *g = realloc(res->items, (res->nitems + 256) * sizeof *g);
        if (!g)
            return NULL;
        res->items = g;
    }
    struct vk_rbf_item *it = &res->items[res->nitems];
    memset(it, 0, sizeof *it);
    if (!(it->path = strdup(path)))
        return NULL;
    res->nitems++;
    return it;
}

static struct vk_rbf_item *new_item(struct rbf_run *r, const struct rbf_change *c)
{
    struct vk_rbf_item *it = rbf_item_add(r, c->path);
    if (!it)
        return NULL;
    it->user = c->kind;
    it->type = c->kind == VK_DIFF_REMOVED || !c->has_b ? c->type_a : c->type_b;
    return it;
}

static int push_op(struct rbf_run *r, struct ops *o, size_t change, size_t item, int full)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        struct op *g = realloc(o->v, cap * sizeof *g);
        if (!g)
            return nomem(r);
        o->v = g;
        o->cap = cap;
    }
    o->v[o->n++] = (struct op){change, item, full};
    return 0;
}

/* ---- same change on both sides ---- */

static int differs(void *ctx, const struct vk_diff_entry *e)
{
    const unsigned what = VK_DIFF_F_TYPE | VK_DIFF_F_SIZE | VK_DIFF_F_CONTENT | VK_DIFF_F_STREAMS | VK_DIFF_F_REPARSE;
    if (e->kind != VK_DIFF_CHANGED || (e->fields & what))
        *(int *)ctx = 1;
    return 0;
}

/* Both sides added or changed `c`: the same when the update's and the user's versions have the same type, bytes and
 * streams (times and attributes aside). Folders are the same when both are folders. */
static int same_version(struct rbf_run *r, const struct rbf_change *c, const struct rbf_change *w, int *same)
{
    *same = 0;
    if (c->type_b != w->type_b)
        return 0;
    if (c->type_b == VK_DIFF_DIR) {
        *same = 1;
        return 0;
    }
    struct vk_diff_side a = {r->upd.vol, r->upd.vhd, r->upd.part_off, r->upd.name};
    struct vk_diff_side b = {r->child.vol, r->child.vhd, r->child.part_off, r->child.name};
    struct vk_diff_opts o = {.path = c->path};
    int diff = 0;
    int rc = vk_diff_volumes(&a, &b, &o, differs, &diff, NULL, r->err);
    *same = !rc && !diff;
    return rc;
}

/* ---- deciding ---- */

/* A folder above `c` that the update removed (or made a file): that change, else NULL. */
static const struct rbf_change *removed_above(const struct rbf_run *r, const struct rbf_change *c)
{
    for (size_t j = strlen(c->key); j > 1; j--) {
        if (c->key[j - 1] != '/')
            continue;
        const struct rbf_change *a = rbf_index_get(&r->idx, c->key, j - 1);
        if (a && (a->kind == VK_DIFF_REMOVED || (a->kind == VK_DIFF_CHANGED && (a->fields & VK_DIFF_F_TYPE))))
            return a;
    }
    return NULL;
}

static int decide(struct plan *p, size_t ci)
{
    struct rbf_run *r = p->r;
    const struct rbf_change *c = &r->user.v[ci];
    struct vk_rbf_item *it = new_item(r, c);
    if (!it)
        return nomem(r);
    size_t ii = r->res->nitems - 1;
    int hive = RBF_NOT_HIVE;
    const char *why = rbf_excluded(c->key, &hive);
    const struct rbf_change *w = rbf_index_get(&r->idx, c->key, strlen(c->key));
    if (hive == RBF_HIVE_MERGE && it->type == VK_DIFF_FILE && c->kind == VK_DIFF_CHANGED &&
        !(w && w->kind == VK_DIFF_REMOVED)) {
        it->note = why; /* outcome and counts once merged */
        return push_op(r, &p->hives, ci, ii, 0);
    }
    /* A profile the user added brings its hives and their logs: nothing of the update's to merge them with. */
    if ((hive == RBF_HIVE_MERGE || hive == RBF_HIVE_LOG) && c->kind == VK_DIFF_ADDED && !w && !removed_above(r, c) &&
        !strncmp(c->key, "/users/", 7)) {
        it->outcome = VK_RBF_APPLIED;
        it->note = "a hive of a profile the user added: copied whole";
        r->res->applied++;
        return push_op(r, &p->writes, ci, ii, 0);
    }
    if (!why && ((c->has_b && c->type_b == VK_DIFF_LINK && c->kind != VK_DIFF_REMOVED) ||
                 (c->kind == VK_DIFF_CHANGED && c->type_a == VK_DIFF_LINK)))
        why = "reparse point (symbolic link, junction): not replayed";
    if (why) {
        it->outcome = VK_RBF_SKIPPED;
        it->note = hive == RBF_HIVE_MERGE ? "registry hive the update removed: not merged" : why;
        r->res->skipped++;
        r->res->hives_not_merged += (hive == RBF_HIVE_MERGE || hive == RBF_HIVE_OTHER) && it->type == VK_DIFF_FILE;
        return 0;
    }
    int conflict = 0;
    if (w) {
        int same = c->kind == VK_DIFF_REMOVED && w->kind == VK_DIFF_REMOVED;
        if (c->kind != VK_DIFF_REMOVED && w->kind != VK_DIFF_REMOVED) {
            int rc = same_version(r, c, w, &same);
            if (rc)
                return rc;
        }
        it->has_update = 1;
        it->update = w->kind;
        if (same) {
            it->outcome = VK_RBF_SAME;
            r->res->same++;
            return 0;
        }
        conflict = 1;
    } else if ((w = removed_above(r, c))) {
        conflict = 1;
        it->has_update = 1;
        it->update = w->kind;
        if (!(it->update_path = strdup(w->path)))
            return nomem(r);
        it->note = "the update removed a folder above it";
    } else if (c->kind == VK_DIFF_REMOVED && c->type_a == VK_DIFF_DIR && rbf_index_has_below(&r->idx, c->key)) {
        conflict = 1;
        it->has_update = 1;
        it->update = VK_DIFF_CHANGED;
        it->note = "the update added or changed something inside the folder";
    }
    if (conflict) {
        it->outcome = VK_RBF_CONFLICT;
        r->res->conflicts++;
        it->kept_user = (r->flags & VK_RBF_PREFER_USER) != 0;
        if (!it->kept_user)
            return 0;
    } else {
        it->outcome = VK_RBF_APPLIED;
        r->res->applied++;
    }
    return push_op(r, c->kind == VK_DIFF_REMOVED ? &p->removals : &p->writes, ci, ii, conflict);
}

/* ---- writing ---- */

struct copy_src {
    vk_ntfs *vol;
    const char *path;
    uint64_t off;
    vk_error err;
};

static long copy_read(void *ctx, void *buf, size_t cap)
{
    struct copy_src *s = ctx;
    size_t got = 0;
    if (cap > (1u << 30))
        cap = 1u << 30;
    int rc = vk_ntfs_pread(s->vol, s->path, buf, cap, s->off, &got, &s->err);
    if (rc)
        return rc;
    s->off += got;
    return (long)got;
}

/* The child's file or "file:stream" `src` into OUT's `dst` (created or replaced). */
static int copy_data(struct rbf_run *r, const char *src, const char *dst)
{
    struct copy_src s = {r->child.vol, src, 0, {0}};
    int rc = vk_ntfs_write_from(r->out.vol, dst, copy_read, &s, r->err);
    if (rc && s.err.code)
        *r->err = s.err;
    r->res->bytes_written += s.off;
    return rc;
}

static int queue_dir_time(struct plan *p, const char *path, const vk_ntfs_times *t)
{
    if (p->ndirs == p->capdirs) {
        size_t cap = p->capdirs ? 2 * p->capdirs : 64;
        struct dir_time *g = realloc(p->dirs, cap * sizeof *g);
        if (!g)
            return nomem(p->r);
        p->dirs = g;
        p->capdirs = cap;
    }
    if (!(p->dirs[p->ndirs].path = strdup(path)))
        return nomem(p->r);
    p->dirs[p->ndirs++].t = *t;
    return 0;
}

/* The folders above `path` that OUT lacks (the update removed them and the user's version is kept): made with the
 * child's times. */
static int make_parents(struct plan *p, const char *path)
{
    struct rbf_run *r = p->r;
    char *d = strdup(path);
    if (!d)
        return nomem(r);
    int rc = 0;
    for (char *s = strchr(d + 1, '/'); s && !rc; s = strchr(s + 1, '/')) {
        *s = 0;
        int ex = vk_ntfs_exists(r->out.vol, d, r->err);
        if (ex < 0)
            rc = ex;
        else if (!ex) {
            vk_ntfs_stat st;
            rc = vk_ntfs_stat_path(r->child.vol, d, &st, r->err);
            if (!rc) {
                rc = vk_ntfs_mkdir(r->out.vol, d, 0, r->err);
                if (!rc)
                    rc = queue_dir_time(p, d, &st.times);
                vk_ntfs_stat_free(&st);
            }
        }
        *s = '/';
    }
    free(d);
    return rc;
}

static int has_stream(const vk_ntfs_stat *st, const char *name)
{
    for (unsigned i = 0; i < st->nattrs; i++)
        if (st->attrs[i].type == AT_DATA && !strcmp(st->attrs[i].name, name))
            return 1;
    return 0;
}

/* Whether the diff entry lists stream `name` as added or changed by the user. */
static int stream_changed(const struct rbf_change *c, const char *name)
{
    for (unsigned i = 0; i < c->nstreams; i++)
        if (!strcmp(c->streams[i].name, name))
            return c->streams[i].kind != VK_DIFF_REMOVED;
    return 0;
}

/* OUT's entry at `path`: *exists is 0 when there is none (not an error here). */
static int stat_out(struct rbf_run *r, const char *path, vk_ntfs_stat *st, int *exists)
{
    int rc = vk_ntfs_stat_path(r->out.vol, path, st, r->err);
    *exists = !rc;
    if (rc && rc != VK_E_NOTFOUND)
        return rc;
    vk_error_clear(r->err);
    return 0;
}

static int write_file(struct plan *p, const struct rbf_change *c, struct vk_rbf_item *it, int full,
                      const vk_ntfs_stat *cst)
{
    struct rbf_run *r = p->r;
    vk_ntfs_stat ost;
    int exists, rc = stat_out(r, c->path, &ost, &exists);
    if (rc)
        return rc;
    int recreate = 0;
    if (exists) {
        /* A folder in the way goes whole; a stream OUT has and the user's file lacks cannot be dropped alone through
         * vk_ntfs, so the file is written anew. */
        recreate = ost.is_dir;
        for (unsigned i = 0; !recreate && i < ost.nattrs; i++)
            recreate = ost.attrs[i].type == AT_DATA && ost.attrs[i].name[0] && !has_stream(cst, ost.attrs[i].name);
        vk_ntfs_stat_free(&ost);
    }
    if (recreate && (rc = vk_ntfs_remove(r->out.vol, c->path, 1, r->err)))
        return rc;
    int fresh = !exists || recreate;
    if (fresh && full && (rc = make_parents(p, c->path)))
        return rc;
    int content = fresh || full || (c->fields & (VK_DIFF_F_SIZE | VK_DIFF_F_CONTENT | VK_DIFF_F_TYPE));
    if (content && (rc = copy_data(r, c->path, c->path)))
        return rc;
    for (unsigned i = 0; !rc && i < cst->nattrs; i++) {
        const vk_ntfs_attr *a = &cst->attrs[i];
        if (a->type != AT_DATA || !a->name[0] || !(fresh || full || stream_changed(c, a->name)))
            continue;
        size_t n = strlen(c->path) + strlen(a->name) + 2;
        char *sp = malloc(n);
        if (!sp)
            return nomem(r);
        snprintf(sp, n, "%s:%s", c->path, a->name);
        rc = copy_data(r, sp, sp);
        free(sp);
    }
    if (!rc)
        rc = rbf_replay_meta(r, c->path, fresh, (c->fields & VK_DIFF_F_ATTRS) != 0, cst->file_attrs);
    if (!rc)
        rc = vk_ntfs_set_times(r->out.vol, c->path, &cst->times, r->err);
    /* vk_ntfs adds names (vk_ntfs_link), but which of the user's files share one cannot be told from a diff. */
    if (!rc && fresh && cst->nlink > 1)
        it->note = "hard links written as separate files";
    return rc;
}

static int write_dir(struct plan *p, const struct rbf_change *c, int full, const vk_ntfs_stat *cst)
{
    struct rbf_run *r = p->r;
    vk_ntfs_stat ost;
    int exists, rc = stat_out(r, c->path, &ost, &exists);
    if (rc)
        return rc;
    if (exists) {
        int was_file = !ost.is_dir;
        vk_ntfs_stat_free(&ost);
        if (was_file && (rc = vk_ntfs_remove(r->out.vol, c->path, 0, r->err)))
            return rc;
        exists = !was_file;
    }
    if (!exists && full && (rc = make_parents(p, c->path)))
        return rc;
    if (!exists && (rc = vk_ntfs_mkdir(r->out.vol, c->path, 0, r->err)))
        return rc;
    if ((rc = rbf_replay_meta(r, c->path, !exists, (c->fields & VK_DIFF_F_ATTRS) != 0, cst->file_attrs)))
        return rc;
    return queue_dir_time(p, c->path, &cst->times);
}

static int do_write(struct plan *p, const struct op *o)
{
    struct rbf_run *r = p->r;
    const struct rbf_change *c = &r->user.v[o->change];
    vk_ntfs_stat cst;
    int rc = vk_ntfs_stat_path(r->child.vol, c->path, &cst, r->err);
    if (rc)
        return rc;
    rc = cst.is_dir ? write_dir(p, c, o->full, &cst) : write_file(p, c, &r->res->items[o->item], o->full, &cst);
    vk_ntfs_stat_free(&cst);
    return rc;
}

static int do_remove(struct rbf_run *r, const struct op *o)
{
    const struct rbf_change *c = &r->user.v[o->change];
    /* Recursive: for a folder without a conflict, nothing the update put there is inside (decide checked); for one
     * kept for the user, what the update put there goes with it. Gone already (with a folder above): fine. */
    int rc = vk_ntfs_remove(r->out.vol, c->path, 1, r->err);
    if (rc == VK_E_NOTFOUND) {
        vk_error_clear(r->err);
        rc = 0;
    }
    return rc;
}

/* A hive file the user changed: its keys and values merged into OUT's copy (rebase_files_reg.c). */
static int merge_hive(struct rbf_run *r, const struct op *o)
{
    const struct rbf_change *c = &r->user.v[o->change];
    char root[VK_ERR_FILE_MAX];
    int merged = 0;
    int rc = rbf_hive_root(c->path, root, sizeof root);
    if (rc)
        return vk_fail(r->err, rc, c->path, VK_NO_OFFSET, "not a hive vhdkit merges");
    size_t first = r->res->nitems;
    rc = rbf_reg_merge(r, c->path, root, &merged);
    struct vk_rbf_item *it = &r->res->items[o->item]; /* after the merge: adding items may move the array */
    if (rc)
        return rc;
    if (!merged) {
        it->outcome = VK_RBF_SKIPPED;
        it->note = "registry hive: could not be read on every side; not merged";
        r->res->skipped++;
        r->res->hives_not_merged++;
        return 0;
    }
    r->res->hives_merged++;
    it->outcome = merged == 2 ? VK_RBF_APPLIED : VK_RBF_SKIPPED;
    it->note = merged == 2 ? "registry hive: merged key by key; its keys and values follow"
               : r->res->nitems > first ? "registry hive: merged key by key; nothing of the user's to write"
                                        : "registry hive: no key or value of the user's changed";
    if (merged == 2)
        r->res->applied++;
    else
        r->res->skipped++;
    return 0;
}

int rbf_plan_apply(struct rbf_run *r)
{
    struct plan p = {.r = r};
    int rc = 0;
    for (size_t i = 0; i < r->user.n && !rc; i++)
        rc = decide(&p, i);
    for (size_t i = p.removals.n; i-- > 0 && !rc;)
        rc = do_remove(r, &p.removals.v[i]);
    for (size_t i = 0; i < p.writes.n && !rc; i++)
        rc = do_write(&p, &p.writes.v[i]);
    for (size_t i = 0; i < p.hives.n && !rc; i++)
        rc = merge_hive(r, &p.hives.v[i]);
    for (size_t i = p.ndirs; i-- > 0 && !rc;)
        rc = vk_ntfs_set_times(r->out.vol, p.dirs[i].path, &p.dirs[i].t, r->err);
    for (size_t i = 0; i < p.ndirs; i++)
        free(p.dirs[i].path);
    free(p.dirs);
    free(p.removals.v);
    free(p.writes.v);
    free(p.hives.v);
    return rc;
}
