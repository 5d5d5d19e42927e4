/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit get: a file or a directory tree of the NTFS volume copied to the host, with names made safe for Linux
 * and the modification and access times kept. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

const struct opt opts_get[] = {
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

struct get {
    struct vol *v;
    vk_error *err;
    uint64_t files, dirs;
};

/* A name Linux accepts and that cannot climb out of the destination: '/' becomes '_', "." and ".." get a '_'
 * prefix, an empty name becomes "_". (NUL cannot occur: names arrive as C strings.) */
static void safe_name(const char *in, char *out, size_t cap)
{
    if (!strcmp(in, ".") || !strcmp(in, "..") || !*in) {
        snprintf(out, cap, "_%.2s", in); /* in is "", "." or ".." */
        return;
    }
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = in[i] == '/' ? '_' : in[i];
    out[i] = 0;
}

static void to_timespec(int64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
    if (ts->tv_nsec < 0) {
        ts->tv_nsec += 1000000000;
        ts->tv_sec--;
    }
}

static int keep_times(struct get *g, const char *host, const vk_ntfs_times *t)
{
    struct timespec ts[2];
    to_timespec(t->atime_ns, &ts[0]);
    to_timespec(t->mtime_ns, &ts[1]);
    if (utimensat(AT_FDCWD, host, ts, AT_SYMLINK_NOFOLLOW))
        return vk_fail_errno(g->err, VK_E_IO, errno, host, VK_NO_OFFSET, "cannot set the times");
    return 0;
}

struct sink {
    int fd;
    const char *host;
    vk_error *err;
};

static int to_fd(void *ctx, const void *buf, size_t len)
{
    struct sink *s = ctx;
    const char *p = buf;
    while (len) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vk_fail_errno(s->err, errno == ENOSPC ? VK_E_NOSPACE : VK_E_IO, errno, s->host, VK_NO_OFFSET,
                                 "write failed");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int get_file(struct get *g, const char *path, const char *host, const vk_ntfs_times *t)
{
    /* O_NOFOLLOW: a symlink planted at the destination must not redirect the write. */
    int fd = open(host, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return vk_fail_errno(g->err, VK_E_IO, errno, host, VK_NO_OFFSET, "cannot create");
    struct sink s = {fd, host, g->err};
    int rc = vk_ntfs_read_all(g->v->ntfs, path, to_fd, &s, g->err);
    if (close(fd) && !rc)
        rc = vk_fail_errno(g->err, VK_E_IO, errno, host, VK_NO_OFFSET, "write failed");
    if (!rc)
        rc = keep_times(g, host, t);
    g->files++;
    return rc;
}

static int get_tree(struct get *g, const char *path, const char *host, const vk_ntfs_times *t);

struct dirwalk {
    struct get *g;
    const char *path, *host;
};

static int get_entry(void *ctx, const vk_ntfs_dirent *e)
{
    struct dirwalk *w = ctx;
    char safe[1024];
    safe_name(e->name, safe, sizeof safe);
    size_t pn = strlen(w->path) + strlen(e->name) + 2, hn = strlen(w->host) + strlen(safe) + 2;
    char *path = malloc(pn), *host = malloc(hn);
    int rc = 0;
    if (!path || !host)
        rc = vk_fail(w->g->err, VK_E_NOMEM, w->g->v->image, VK_NO_OFFSET, NULL);
    if (!rc) {
        snprintf(path, pn, "%s%s%s", w->path, strcmp(w->path, "/") ? "/" : "", e->name);
        snprintf(host, hn, "%s/%s", w->host, safe);
        rc = e->is_dir ? get_tree(w->g, path, host, &e->times) : get_file(w->g, path, host, &e->times);
    }
    free(path);
    free(host);
    return rc;
}

/* Directories get their times after their content is written (writing into them changes their mtime). */
static int get_tree(struct get *g, const char *path, const char *host, const vk_ntfs_times *t)
{
    if (mkdir(host, 0755) && errno != EEXIST)
        return vk_fail_errno(g->err, VK_E_IO, errno, host, VK_NO_OFFSET, "cannot create the directory");
    struct stat hs;
    if (lstat(host, &hs) || !S_ISDIR(hs.st_mode))
        return vk_fail(g->err, VK_E_EXISTS, host, VK_NO_OFFSET, "exists and is not a directory");
    g->dirs++;
    struct dirwalk w = {g, path, host};
    int rc = vk_ntfs_readdir(g->v->ntfs, path, 0, get_entry, &w, g->err);
    return rc ? rc : keep_times(g, host, t);
}

/* DEST: absent means the name of PATH in the current directory; an existing directory receives it. */
static char *host_dest(const char *path, const char *dest)
{
    const char *base = strrchr(path, '/') + 1;
    char safe[1024];
    safe_name(*base ? base : "volume", safe, sizeof safe);
    struct stat hs;
    if (dest && !(stat(dest, &hs) == 0 && S_ISDIR(hs.st_mode)))
        return strdup(dest);
    size_t n = (dest ? strlen(dest) : 1) + strlen(safe) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", dest ? dest : ".", safe);
    return out;
}

int cmd_get(struct ctx *c)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[0], false, &v);
    if (st)
        return st;
    vk_error err = {0};
    char *path = vol_path(c->args.pos[1]);
    char *host = path ? host_dest(path, c->args.npos > 2 ? c->args.pos[2] : NULL) : NULL;
    vk_ntfs_stat s = {0};
    int rc = !host ? vk_fail(&err, VK_E_NOMEM, v.image, VK_NO_OFFSET, NULL) : vk_ntfs_stat_path(v.ntfs, path, &s, &err);
    struct get g = {&v, &err, 0, 0};
    if (!rc)
        rc = s.is_dir ? get_tree(&g, path, host, &s.times) : get_file(&g, path, host, &s.times);
    vk_ntfs_stat_free(&s);
    if (!rc && c->json) {
        struct out o;
        out_init(&o, stdout, true);
        out_begin(&o);
        out_str(&o, "source", path);
        out_str(&o, "destination", host);
        out_u64(&o, "files", g.files);
        out_u64(&o, "directories", g.dirs);
        out_end(&o);
    }
    free(path);
    free(host);
    st = rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}
