/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The NTFS volume inside an image for the file commands: open the image (and its chain), pick the volume (DESIGN.md
 * "--part N, else the Windows volume, else the only NTFS one"), mount it read-only or read-write, route libntfs-3g's
 * messages to stderr as "vhdkit: ..." lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "core/path_norm.h"
#include "vhdkit/part.h"

/* Errors reach the user through the vk_error of the failing call (which quotes libntfs-3g's last error), so only
 * warnings are printed here; progress and debug chatter are dropped. */
static void log_sink(void *ctx, enum vk_ntfs_log_level level, const char *msg)
{
    const struct vol *v = ctx;
    if (level == VK_NTFS_LOG_WARNING)
        fprintf(stderr, "vhdkit: %s: libntfs-3g: %s\n", v->image, msg);
}

int vol_part_arg(struct ctx *c, unsigned *part)
{
    *part = 0;
    const char *s = arg_str(&c->args, "part");
    if (!s)
        return 0;
    uint64_t n;
    if (parse_size(s, &n) < 0 || n == 0 || n > 4096)
        return usage_error(c->cmd->name, "--part takes a partition number (1, 2, ...), not '%s'", s);
    *part = (unsigned)n;
    return 0;
}

static int fail(struct vol *v, const vk_error *err)
{
    int st = report_error(err);
    vol_close(v);
    return st;
}

int vol_open(struct ctx *c, const char *image, bool rw, struct vol *v)
{
    memset(v, 0, sizeof *v);
    v->image = image;
    int st = vol_part_arg(c, &v->part);
    if (st)
        return st;
    vk_error err = {0};
    struct vk_vhd_open_opts oo = {.flags = rw ? VK_VHD_RDWR : 0};
    if (vk_image_open(image, &oo, &v->disk, &v->vhd, &err))
        return report_error(&err);
    vk_ntfs_opts no = {.flags = rw ? 0 : VK_NTFS_RDONLY, .log = log_sink, .log_ctx = v};
    if (vk_ntfs_choose(v->disk, v->part, &no, &v->ntfs, &v->win, &v->part, &err))
        return fail(v, &err);
    /* The partition's place on the disk, for stat's sector and block numbers. */
    vk_part_table t;
    if (vk_part_read(v->disk, &t, &err))
        return fail(v, &err);
    /* Say what the table reader had to work around (a primary GPT with a bad CRC, ...). */
    for (unsigned i = 0; i < t.nwarn && i < VK_PART_WARN_MAX; i++)
        fprintf(stderr, "vhdkit: %s: %s\n", image, t.warnings[i]);
    const vk_part *p = vk_part_find(&t, v->part);
    v->part_off = p ? p->start_off : 0;
    vk_part_table_free(&t);
    return 0;
}

int vol_close(struct vol *v)
{
    vk_error err = {0};
    int st = 0;
    if (v->ntfs && vk_ntfs_unmount(v->ntfs, &err))
        st = report_error(&err);
    v->ntfs = NULL;
    vk_dev_close(v->win);
    v->win = NULL;
    vk_error_clear(&err);
    /* A write that libntfs-3g flushed is only safe once the image's metadata is on disk too. */
    if (!st && v->vhd && (v->disk->flags & VK_DEV_WRITABLE) && vk_vhd_flush(v->vhd, &err))
        st = report_error(&err);
    vk_dev_close(v->disk);
    v->disk = NULL;
    v->vhd = NULL;
    return st;
}

void format_ntfs_time(int64_t ns, char out[40])
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    char base[24]; /* "YYYY-MM-DDTHH:MM:SS" for years up to 9999 */
    if (!gmtime_r(&t, &tm) || !strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(out, 40, "%lld", (long long)sec);
        return;
    }
    snprintf(out, 40, "%.23s.%07dZ", base, (int)(frac / 100));
}

/* Directory cycles only exist in corrupt volumes; Windows paths are far shallower than this. */
#define WALK_MAX_DEPTH 256

struct walk {
    struct vol *v;
    unsigned flags;
    bool recursive;
    vol_walk_fn fn;
    void *ctx;
    const char *dir;
    int depth;
    vk_error *err;
};

static int walk_dir(struct walk *w);

static int walk_entry(void *ctx, const vk_ntfs_dirent *e)
{
    struct walk *w = ctx;
    size_t n = strlen(w->dir) + strlen(e->name) + 2;
    char *path = malloc(n);
    if (!path)
        return vk_fail(w->err, VK_E_NOMEM, w->v->image, VK_NO_OFFSET, NULL);
    snprintf(path, n, "%s%s%s", w->dir, strcmp(w->dir, "/") ? "/" : "", e->name);
    int rc = w->fn(w->ctx, path, e, w->depth);
    if (!rc && w->recursive && e->is_dir) {
        struct walk sub = *w;
        sub.dir = path;
        sub.depth = w->depth + 1;
        sub.flags &= ~(unsigned)VK_NTFS_LS_META; /* metafiles live in the root only */
        rc = walk_dir(&sub);
    }
    free(path);
    return rc;
}

static int walk_dir(struct walk *w)
{
    if (w->depth > WALK_MAX_DEPTH)
        return vk_fail(w->err, VK_E_CORRUPT, w->v->image, VK_NO_OFFSET,
                       "%s: directories nested more than %d deep (a directory cycle?)", w->dir, WALK_MAX_DEPTH);
    return vk_ntfs_readdir(w->v->ntfs, w->dir, w->flags, walk_entry, w, w->err);
}

int vol_walk(struct vol *v, const char *dir, unsigned flags, bool recursive, vol_walk_fn fn, void *ctx, vk_error *err)
{
    struct walk w = {v, flags, recursive, fn, ctx, dir, 0, err};
    return walk_dir(&w);
}

char *vol_path(const char *arg) { return vk_path_norm(arg); }

int vol_edit(struct ctx *c, const char *flag, vol_edit_fn edit)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[0], true, &v);
    if (st)
        return st;
    char *path = vol_path(c->args.pos[1]);
    vk_error err = {0};
    int rc = path ? edit(&v, path, arg_has(&c->args, flag), &err)
                  : vk_fail(&err, VK_E_NOMEM, v.image, VK_NO_OFFSET, NULL);
    free(path);
    st = rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}

void out_times(struct out *o, const vk_ntfs_times *t)
{
    char s[40];
    format_ntfs_time(t->crtime_ns, s);
    out_str(o, "created", s);
    format_ntfs_time(t->mtime_ns, s);
    out_str(o, "modified", s);
    format_ntfs_time(t->atime_ns, s);
    out_str(o, "accessed", s);
    format_ntfs_time(t->ctime_ns, s);
    out_str(o, "mft_modified", s);
}

void out_dirent(struct out *o, const char *path, const vk_ntfs_dirent *e)
{
    out_object(o, NULL);
    out_str(o, "path", path);
    out_str(o, "name", e->name);
    out_str(o, "type", e->is_dir ? "dir" : "file");
    out_u64(o, "size", e->size);
    out_u64(o, "mft_record", e->mft);
    out_hex(o, "attributes", e->file_attrs);
    out_times(o, &e->times);
    out_close(o);
}
