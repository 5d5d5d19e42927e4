/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rebase --files: open the child (its parent is the old base), the updated base and a new child of it built under a
 * temporary name; diff old base/child (the user's changes) and old base/updated base (the update's); replay; fsync
 * and rename into place. The child, the old base and the updated base are opened read-only. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ops/rebase_files_int.h"
#include "vhdkit/part.h"

#define TMP_SUFFIX ".tmp-rebase"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void side_close(struct rbf_side *s)
{
    vk_ntfs_unmount(s->vol, NULL);
    s->vol = NULL;
    vk_dev_close(s->win);
    s->win = NULL;
    if (!s->borrowed)
        vk_dev_close(s->disk);
    s->disk = NULL;
    s->vhd = NULL;
}

/* Picks and mounts the volume of s->disk (partition `part`, 0: DESIGN.md's choice) and finds where it starts. */
static int side_mount(struct rbf_side *s, unsigned part, int rw, const struct vk_rbf_opts *o, vk_error *err)
{
    vk_ntfs_opts no = {.flags = rw ? 0 : VK_NTFS_RDONLY, .log = o->log, .log_ctx = o->log_ctx};
    int rc = vk_ntfs_choose(s->disk, part, &no, &s->vol, &s->win, &s->part, err);
    /* No NTFS volume at all is bad input (exit 3), not a choice the user failed to make. */
    if (rc == VK_E_USAGE && !part && err && !strncmp(err->msg, "no NTFS volume", 14))
        err->code = rc = VK_E_UNSUPPORTED;
    if (rc)
        return rc;
    vk_part_table t;
    if ((rc = vk_part_read(s->disk, &t, err)))
        return rc;
    const vk_part *p = vk_part_find(&t, s->part);
    s->part_off = p ? p->start_off : 0;
    vk_part_table_free(&t);
    return 0;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The child and its parent, which must be the old base (opts->old_base when given, found next to it too). */
static int open_child(struct rbf_run *r, const char *child, const struct vk_rbf_opts *o)
{
    char dir[4096] = "";
    const char *dirs[2] = {dir, NULL};
    if (o->old_base) {
        snprintf(dir, sizeof dir, "%s", o->old_base);
        char *d = dirname(dir);
        memmove(dir, d, strlen(d) + 1);
    }
    struct vk_vhd_open_opts oo = {.search_dirs = o->old_base ? dirs : NULL};
    int rc = vk_image_open(child, &oo, &r->child.disk, &r->child.vhd, r->err);
    if (rc)
        return rc;
    struct vk_vhd_info info;
    if (!r->child.vhd || vk_vhd_get_info(r->child.vhd, &info) || info.type != VK_VHD_DIFF)
        return vk_fail(r->err, VK_E_UNSUPPORTED, child, VK_NO_OFFSET,
                       "not a differencing image: --files replays a child's changes relative to its parent");
    vk_vhd *parent = vk_vhd_parent(r->child.vhd);
    if (!parent || !info.parent.uuid_match)
        return vk_fail(r->err, VK_E_CHAIN, child, VK_NO_OFFSET,
                       "its parent %s does not carry the UUID the child records: the old base must be the image the "
                       "child was made from", info.parent.path);
    if (o->old_base && !same_file(o->old_base, vk_vhd_path(parent)))
        return vk_fail(r->err, VK_E_CHAIN, child, VK_NO_OFFSET,
                       "its parent is %s, not the old base %s: the user's changes are only known relative to the "
                       "parent (use reparent if the old base moved)", vk_vhd_path(parent), o->old_base);
    snprintf(r->res->old_base, sizeof r->res->old_base, "%s", vk_vhd_path(parent));
    r->old.disk = vk_vhd_dev(parent);
    r->old.vhd = parent;
    r->old.borrowed = 1;
    r->old.name = r->res->old_base;
    return 0;
}

/* A leftover temporary file of a crashed run (OUT.tmp-rebase, or OUT.tmp-rebase.tmp when it stopped while
 * vk_vhd_create wrote the new image) goes, unless a running one holds its lock. */
static int clear_tmp(const char *tmp, vk_error *err)
{
    struct stat st;
    if (lstat(tmp, &st))
        return 0;
    vk_dev *d = NULL;
    int rc = vk_dev_open_file(tmp, VK_FILE_RDWR, &d, err);
    if (rc == VK_E_BUSY)
        return vk_fail(err, VK_E_BUSY, tmp, VK_NO_OFFSET, "another rebase --files is writing this temporary file");
    vk_dev_close(d);
    vk_error_clear(err);
    if (unlink(tmp) && errno != ENOENT)
        return vk_fail_errno(err, VK_E_IO, errno, tmp, VK_NO_OFFSET, "cannot remove the leftover temporary file");
    return 0;
}

static int check_paths(const char *child, const char *new_base, const char *out, unsigned flags, vk_error *err)
{
    if (same_file(out, child) || same_file(out, new_base))
        return vk_fail(err, VK_E_USAGE, out, VK_NO_OFFSET, "OUT must be a new file, not CHILD or NEWBASE");
    if (same_file(child, new_base))
        return vk_fail(err, VK_E_USAGE, new_base, VK_NO_OFFSET, "NEWBASE is CHILD itself");
    struct stat st;
    if (lstat(out, &st) == 0) {
        if (!(flags & VK_RBF_FORCE))
            return vk_fail(err, VK_E_EXISTS, out, VK_NO_OFFSET, "exists: choose a new name or give --force");
        vk_dev *d = NULL; /* replaced only when no one holds it */
        int rc = vk_dev_open_file(out, VK_FILE_RDWR, &d, err);
        vk_dev_close(d);
        if (rc)
            return rc;
    }
    return 0;
}

static int build_out(struct rbf_run *r, const char *new_base, const char *tmp, const struct vk_rbf_opts *o)
{
    struct vk_vhd_create_opts co = {.type = VK_VHD_DIFF, .parent = new_base};
    int rc = vk_vhd_create(tmp, &co, NULL, r->err);
    if (rc)
        return rc;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR | VK_VHD_BULK};
    if ((rc = vk_image_open(tmp, &oo, &r->out.disk, &r->out.vhd, r->err)))
        return rc;
    r->out.name = tmp;
    if ((rc = side_mount(&r->out, r->upd.part, 1, o, r->err)))
        return rc;
    if ((rc = rbf_plan_apply(r)))
        return rc;
    /* The volume's writes reach the image, then the image's metadata reaches the disk (fsync). */
    rc = vk_ntfs_unmount(r->out.vol, r->err);
    r->out.vol = NULL;
    if (!rc)
        rc = vk_vhd_flush(r->out.vhd, r->err);
    return rc;
}

int vk_rebase_files(const char *child, const char *new_base, const char *out, const struct vk_rbf_opts *opts,
                    struct vk_rbf_result *res, vk_error *err)
{
    struct vk_rbf_opts none = {0};
    const struct vk_rbf_opts *o = opts ? opts : &none;
    vk_error scratch = {0};
    if (!err)
        err = &scratch;
    memset(res, 0, sizeof *res);
    double t0 = now();
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s" TMP_SUFFIX, out) >= sizeof tmp)
        return vk_fail(err, VK_E_USAGE, out, VK_NO_OFFSET, "path too long");
    int rc = check_paths(child, new_base, out, o->flags, err);
    if (rc)
        return rc;
    struct rbf_run r = {.flags = o->flags, .res = res, .err = err};
    r.child.name = child;
    r.upd.name = new_base;
    int created = 0;
    if (!(rc = open_child(&r, child, o)) && !(rc = side_mount(&r.child, o->part, 0, o, err)) &&
        !(rc = side_mount(&r.old, o->part, 0, o, err))) {
        struct vk_vhd_open_opts no = {0};
        rc = vk_image_open(new_base, &no, &r.upd.disk, &r.upd.vhd, err);
        if (!rc)
            rc = side_mount(&r.upd, o->part, 0, o, err);
    }
    res->part = r.child.part;
    struct vk_diff_side so = {r.old.vol, r.old.vhd, r.old.part_off, r.old.name};
    struct vk_diff_side sc = {r.child.vol, r.child.vhd, r.child.part_off, child};
    struct vk_diff_side su = {r.upd.vol, r.upd.vhd, r.upd.part_off, new_base};
    if (!rc && (rc = vk_diff_volumes(&so, &sc, NULL, rbf_collect, &r.user, NULL, err)) == VK_E_NOMEM)
        vk_fail(err, rc, child, VK_NO_OFFSET, NULL);
    if (!rc && (rc = vk_diff_volumes(&so, &su, NULL, rbf_collect, &r.update, NULL, err)) == VK_E_NOMEM)
        vk_fail(err, rc, new_base, VK_NO_OFFSET, NULL);
    res->user_changes = r.user.n;
    res->update_changes = r.update.n;
    if (!rc && rbf_index_build(&r.idx, &r.update))
        rc = vk_fail(err, VK_E_NOMEM, new_base, VK_NO_OFFSET, NULL);
    char tmp2[4096 + 8]; /* vk_vhd_create's own temporary name for the new image */
    snprintf(tmp2, sizeof tmp2, "%s.tmp", tmp);
    if (!rc && !(rc = clear_tmp(tmp, err)) && !(rc = clear_tmp(tmp2, err))) {
        created = 1;
        rc = build_out(&r, new_base, tmp, o);
        if (rc == VK_E_EXISTS) /* another run made it between clear_tmp and now: not ours to remove */
            created = 0;
    }
    side_close(&r.out);
    side_close(&r.upd);
    side_close(&r.old);
    side_close(&r.child);
    rbf_index_free(&r.idx);
    rbf_list_free(&r.user);
    rbf_list_free(&r.update);
    if (!rc && rename(tmp, out) < 0)
        rc = vk_fail_errno(err, VK_E_IO, errno, out, VK_NO_OFFSET, "cannot rename %s into place", tmp);
    if (!rc)
        rc = vk_sync_parent_dir(out, err);
    else if (created)
        unlink(tmp);
    res->seconds = now() - t0;
    return rc;
}

void vk_rbf_result_free(struct vk_rbf_result *res)
{
    for (size_t i = 0; i < res->nitems; i++) {
        free(res->items[i].path);
        free(res->items[i].value);
        free(res->items[i].update_path);
    }
    free(res->items);
    res->items = NULL;
    res->nitems = 0;
}
