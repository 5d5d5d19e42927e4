/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit put: a host file or directory tree into the NTFS volume (missing folders made with -p), times kept. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/sort.h"

const struct opt opts_put[] = {
    {"parents", 'p', NULL, "make the missing folders of DEST"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

struct put {
    struct vol *v;
    vk_error *err;
    uint64_t files, dirs, bytes;
};

/* Windows cannot open names with these (and ':' would name a stream, '\\' a folder). */
static int check_name(struct put *p, const char *host, const char *name)
{
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if (*s < 0x20 || strchr("\\:*?\"<>|", *s))
            return vk_fail(p->err, VK_E_USAGE, host, VK_NO_OFFSET,
                           "the name contains '%c', which Windows does not allow in file names: rename it first",
                           *s < 0x20 ? '?' : *s);
    return 0;
}

static int64_t ts_ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

/* Linux keeps no creation time in struct stat: the modification time stands in for it. */
static int keep_times(struct put *p, const char *path, const struct stat *hs)
{
    vk_ntfs_times t = {ts_ns(&hs->st_mtim), ts_ns(&hs->st_mtim), ts_ns(&hs->st_ctim), ts_ns(&hs->st_atim)};
    return vk_ntfs_set_times(p->v->ntfs, path, &t, p->err);
}

struct src {
    int fd;
    uint64_t n;
};

static long from_fd(void *ctx, void *buf, size_t cap)
{
    struct src *s = ctx;
    for (;;) {
        ssize_t n = read(s->fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return VK_E_IO;
        s->n += (uint64_t)n;
        return (long)n;
    }
}

/* "file:stream" names an alternate data stream: NTFS keeps times per file, not per stream. */
static bool names_stream(const char *path)
{
    const char *last = strrchr(path, '/');
    return strchr(last ? last : path, ':') != NULL;
}

static int put_file(struct put *p, const char *host, const char *path, const struct stat *hs)
{
    int fd = open(host, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vk_fail_errno(p->err, VK_E_IO, errno, host, VK_NO_OFFSET, "cannot open");
    struct src s = {fd, 0};
    int rc = vk_ntfs_write_from(p->v->ntfs, path, from_fd, &s, p->err);
    close(fd);
    if (!rc && !names_stream(path)) /* a stream leaves the file's times to the writes, as Windows does */
        rc = keep_times(p, path, hs);
    p->files++;
    p->bytes += s.n;
    return rc;
}

static int put_any(struct put *p, const char *host, const char *path);

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Host entries in name order, so the volume's layout does not depend on the host's directory order. */
static int put_tree(struct put *p, const char *host, const char *path, const struct stat *hs)
{
    int rc = vk_ntfs_mkdir(p->v->ntfs, path, 1, p->err);
    if (rc)
        return rc;
    p->dirs++;
    DIR *d = opendir(host);
    if (!d)
        return vk_fail_errno(p->err, VK_E_IO, errno, host, VK_NO_OFFSET, "cannot read the directory");
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **g = realloc(names, cap * sizeof *g);
            if (!g) {
                rc = vk_fail(p->err, VK_E_NOMEM, host, VK_NO_OFFSET, NULL);
                break;
            }
            names = g;
        }
        if (!(names[n] = strdup(de->d_name)))
            rc = vk_fail(p->err, VK_E_NOMEM, host, VK_NO_OFFSET, NULL);
        else
            n++;
    }
    closedir(d);
    if (n)
        vk_sort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        size_t hn = strlen(host) + strlen(names[i]) + 2, pn = strlen(path) + strlen(names[i]) + 2;
        char *h = malloc(hn), *v = malloc(pn);
        if (!rc && (!h || !v))
            rc = vk_fail(p->err, VK_E_NOMEM, host, VK_NO_OFFSET, NULL);
        if (!rc) {
            snprintf(h, hn, "%s/%s", host, names[i]);
            snprintf(v, pn, "%s%s%s", path, strcmp(path, "/") ? "/" : "", names[i]);
            rc = check_name(p, h, names[i]);
            if (!rc)
                rc = put_any(p, h, v);
        }
        free(h);
        free(v);
        free(names[i]);
    }
    free(names);
    /* Directory times last: adding entries changed them. */
    return rc ? rc : keep_times(p, path, hs);
}

static int put_any(struct put *p, const char *host, const char *path)
{
    struct stat hs;
    if (lstat(host, &hs))
        return vk_fail_errno(p->err, VK_E_NOTFOUND, errno, host, VK_NO_OFFSET, "cannot read");
    if (S_ISDIR(hs.st_mode))
        return put_tree(p, host, path, &hs);
    if (S_ISREG(hs.st_mode))
        return put_file(p, host, path, &hs);
    /* Links, devices and sockets have no faithful NTFS form here: say so rather than copy something else. */
    fprintf(stderr, "vhdkit: %s: skipped: not a regular file or directory\n", host);
    return 0;
}

/* Where HOSTPATH goes: into DEST when DEST is a directory of the volume, else DEST itself. */
static int target_path(struct put *p, const char *host, const char *dest, bool parents, char **out)
{
    *out = NULL;
    char *d = vol_path(dest);
    if (!d)
        return vk_fail(p->err, VK_E_NOMEM, p->v->image, VK_NO_OFFSET, NULL);
    vk_ntfs_stat st;
    int rc = vk_ntfs_stat_path(p->v->ntfs, d, &st, p->err);
    bool into = !rc && st.is_dir;
    if (!rc)
        vk_ntfs_stat_free(&st);
    else if (rc != VK_E_NOTFOUND) {
        free(d);
        return rc;
    }
    vk_error_clear(p->err);
    if (!into) {
        *out = d;
        char *slash = strrchr(d, '/');
        if (slash == d)
            return 0;
        *slash = 0;
        rc = parents ? vk_ntfs_mkdir(p->v->ntfs, d, 1, p->err) : 0;
        if (!rc && !parents && vk_ntfs_exists(p->v->ntfs, d, p->err) != 1)
            rc = vk_fail(p->err, VK_E_NOTFOUND, p->v->image, VK_NO_OFFSET,
                         "%s: no such folder in the volume (use -p to make it)", d);
        *slash = '/';
        return rc;
    }
    /* The host name, without trailing slashes. */
    size_t hl = strlen(host);
    while (hl > 1 && host[hl - 1] == '/')
        hl--;
    size_t b = hl;
    while (b && host[b - 1] != '/')
        b--;
    /* "DIR/." copies the content of DIR, as cp -r does. */
    if (hl - b == 1 && host[b] == '.') {
        *out = d;
        return 0;
    }
    size_t n = strlen(d) + (hl - b) + 2;
    *out = malloc(n);
    if (!*out) {
        free(d);
        return vk_fail(p->err, VK_E_NOMEM, p->v->image, VK_NO_OFFSET, NULL);
    }
    snprintf(*out, n, "%s%s%.*s", d, strcmp(d, "/") ? "/" : "", (int)(hl - b), host + b);
    free(d);
    return check_name(p, host, *out + strlen(*out) - (hl - b));
}

int cmd_put(struct ctx *c)
{
    const char *host = c->args.pos[1];
    struct stat hs;
    if (lstat(host, &hs))
        return usage_error(c->cmd->name, "%s: %s", host, strerror(errno));
    struct vol v;
    int st = vol_open(c, c->args.pos[0], true, &v);
    if (st)
        return st;
    vk_error err = {0};
    struct put p = {&v, &err, 0, 0, 0};
    char *path = NULL;
    int rc = target_path(&p, host, c->args.pos[2], arg_has(&c->args, "parents"), &path);
    if (!rc)
        rc = put_any(&p, host, path);
    if (!rc && c->json) {
        struct out o;
        out_init(&o, stdout, true);
        out_begin(&o);
        out_str(&o, "destination", path);
        out_u64(&o, "files", p.files);
        out_u64(&o, "directories", p.dirs);
        out_u64(&o, "bytes", p.bytes);
        out_end(&o);
    }
    free(path);
    st = rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}
