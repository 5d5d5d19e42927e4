/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hive handles: open from bytes (with log recovery), new hives, commit to bytes, close.
 * hivex only opens files, so each handle works on a private copy (a memfd, else mkstemp in $TMPDIR, unlinked
 * at close); hivex keeps every change in memory until hivex_commit, which is what makes one command one
 * transaction: nothing reaches the caller's bytes until vk_reg_hive_commit. Before hivex sees a hive, vhdkit
 * checks its bins and cells itself (hive_cells.c), and a lazy handle reads cells without hivex at all. */
#include "reg_int.h"
#include "reg/hive_cells.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/bytes.h"

uint32_t reg_base_checksum(const uint8_t *base)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < REGF_OFF_CSUM; i += 4)
        sum ^= get_le32(base + i);
    /* Windows avoids storing the two values it uses as markers. */
    if (sum == 0xFFFFFFFFu)
        sum = 0xFFFFFFFEu;
    else if (sum == 0)
        sum = 1;
    return sum;
}

/* What a hivex errno means about the hive (hivex reports damage as EFAULT, "Bad address", and the like). */
static const char *hx_cause(int e)
{
    switch (e) {
    case EFAULT: return "an offset that leads to no valid cell";
    case EINVAL: return "a record that is not of the expected kind";
    case ENOTSUP: return "a structure hivex does not accept";
    case ERANGE: return "a count or length beyond hivex's limits";
    case EILSEQ: return "a name that is not valid text";
    case ELOOP: return "a loop";
    default: return e ? strerror(e) : "no reason given";
    }
}

int reg_hx_fail(vk_error *err, const char *what, const char *name)
{
    int e = errno;
    int code = VK_E_CORRUPT;
    if (e == ENOENT)
        code = VK_E_NOTFOUND;
    else if (e == ENOMEM)
        code = VK_E_NOMEM;
    else if (e == ENOTSUP)
        code = VK_E_UNSUPPORTED;
    else if (e == EROFS)
        code = VK_E_READONLY;
    else if (e == EEXIST)
        code = VK_E_EXISTS;
    if (code == VK_E_CORRUPT)
        return vk_fail(err, code, NULL, VK_NO_OFFSET, "%s%s%s: corrupt hive: %s", what, name ? " " : "", name ? name : "",
                       hx_cause(e));
    return vk_fail_errno(err, code, e, NULL, VK_NO_OFFSET, "%s%s%s", what, name ? " " : "", name ? name : "");
}

int reg_check_writable(const vk_reg_hive *h, vk_error *err)
{
    if (!(h->flags & VK_REG_OPEN_WRITE))
        return vk_fail(err, VK_E_READONLY, NULL, VK_NO_OFFSET, "hive opened read-only");
    if (h->broken)
        return vk_fail(err, VK_E_REFUSED, NULL, VK_NO_OFFSET, "an earlier change failed half-way; reopen the hive");
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

bool reg_base_clean(const uint8_t *b)
{
    return get_le32(b + REGF_OFF_CSUM) == reg_base_checksum(b) && get_le32(b + REGF_OFF_SEQ1) == get_le32(b + REGF_OFF_SEQ2);
}

/* The private copy lives in memory (a memfd, reached by hivex through /proc/self/fd) when the kernel allows it:
 * writing a 20 MiB hive to a disk-backed temporary file cost more than hivex's whole parse. The caller fills the
 * mapping directly (no buffer in between); it is populated in one call because a page fault per 4 KiB page was a
 * third of `reg get`'s time in a VM. Without memfd: malloc, and a mkstemp file in $TMPDIR later. */
int reg_image_alloc(size_t len, struct reg_image *im, vk_error *err)
{
    im->len = len;
    im->fd = memfd_create("vhdkit-hive", MFD_CLOEXEC);
    if (im->fd >= 0 && len && ftruncate(im->fd, (off_t)len) == 0) {
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, im->fd, 0);
        if (p != MAP_FAILED) {
            im->p = p;
            return 0;
        }
    }
    if (im->fd >= 0)
        close(im->fd);
    im->fd = -1;
    im->p = malloc(len ? len : 1);
    if (!im->p)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a hive of %zu bytes", len);
    return 0;
}

void reg_image_free(struct reg_image *im)
{
    if (im->fd >= 0) {
        munmap(im->p, im->len);
        close(im->fd);
    } else {
        free(im->p);
    }
    im->p = NULL;
    im->fd = -1;
}

/* hivex's file: the memfd itself when /proc shows it, else a mkstemp copy in $TMPDIR. */
static int make_tmp(vk_reg_hive *h, vk_error *err)
{
    if (h->map_fd >= 0) {
        snprintf(h->tmp_path, sizeof h->tmp_path, "/proc/self/fd/%d", h->map_fd);
        if (access(h->tmp_path, R_OK | W_OK) == 0) {
            h->tmp_fd = h->map_fd;
            return 0;
        }
    }
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    if (snprintf(h->tmp_path, sizeof h->tmp_path, "%s/vhdkit-hive-XXXXXX", dir) >= (int)sizeof h->tmp_path)
        return vk_fail(err, VK_E_RANGE, dir, VK_NO_OFFSET, "temporary folder path too long");
    int fd = mkstemp(h->tmp_path);
    if (fd < 0) {
        int e = errno;
        h->tmp_path[0] = 0;
        return vk_fail_errno(err, VK_E_IO, e, dir, VK_NO_OFFSET, "cannot create a temporary hive file");
    }
    h->tmp_unlink = 1;
    int bad = write_all(fd, h->map, h->map_len);
    int e = errno;
    close(fd);
    if (bad)
        return vk_fail_errno(err, VK_E_IO, e, h->tmp_path, VK_NO_OFFSET, "cannot write the temporary hive file");
    return 0;
}

static vk_reg_hive *alloc_hive(const char *name, unsigned flags, vk_error *err)
{
    vk_reg_hive *h = calloc(1, sizeof *h);
    if (!h) {
        vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a hive handle");
        return NULL;
    }
    h->tmp_fd = -1;
    h->map_fd = -1;
    h->flags = flags;
    snprintf(h->name, sizeof h->name, "%s", name ? name : "");
    return h;
}

static int open_hx(vk_reg_hive *h, vk_error *err)
{
    errno = 0;
    h->hx = hivex_open(h->tmp_path, (h->flags & VK_REG_OPEN_WRITE) ? HIVEX_OPEN_WRITE : 0);
    if (!h->hx) {
        int e = errno;
        if (e == ENOMEM)
            return vk_fail_errno(err, VK_E_NOMEM, e, h->name, VK_NO_OFFSET, "hivex cannot open the hive");
        return vk_fail(err, VK_E_CORRUPT, h->name, VK_NO_OFFSET,
                       "corrupt hive: hivex cannot open it (%s) though its bins and cells check out",
                       e == ENOTSUP ? "a structure it does not support" : e ? strerror(e) : "no reason given");
    }
    return 0;
}

/* A dirty hive: replayed from its logs in a malloc'd copy (the replay may change the length), then back into a new
 * image. Sets h->replayed / refuse_write / warning. */
static int recover(vk_reg_hive *h, struct reg_image *im, const vk_reg_log *log1, const vk_reg_log *log2,
                   vk_error *err)
{
    size_t len = im->len;
    uint8_t *buf = malloc(len);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, h->name, VK_NO_OFFSET, "no memory for a hive of %zu bytes", len);
    memcpy(buf, im->p, len);
    int rc = reg_log_recover(&buf, &len, log1, log2, &h->replayed, h->warning, sizeof h->warning, err);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    if (rc > 0) {
        /* Readable with a warning: hivex insists on a valid checksum, so fix it in our private copy only. */
        h->refuse_write = true;
        put_le32(buf + REGF_OFF_CSUM, reg_base_checksum(buf));
    }
    reg_image_free(im);
    rc = reg_image_alloc(len, im, err);
    if (rc == 0)
        memcpy(im->p, buf, len);
    free(buf);
    return rc;
}

int reg_hive_open_image(struct reg_image *im, const vk_reg_log *log1, const vk_reg_log *log2, unsigned flags,
                        const char *name, vk_reg_hive **out, vk_error *err)
{
    *out = NULL;
    size_t len = im->len;
    if (len < REGF_BASE_LEN + REGF_BIN_HDR) {
        reg_image_free(im);
        return vk_fail(err, VK_E_TRUNCATED, name, len, "hive of %zu bytes is shorter than a base block and a bin", len);
    }
    if (memcmp(im->p, "regf", 4) != 0) {
        reg_image_free(im);
        return vk_fail(err, VK_E_CORRUPT, name, 0, "not a registry hive (no regf signature)");
    }
    vk_reg_hive *h = alloc_hive(name, flags & VK_REG_OPEN_WRITE, err);
    if (!h) {
        reg_image_free(im);
        return VK_E_NOMEM;
    }
    int rc = reg_base_clean(im->p) ? 0 : recover(h, im, log1, log2, err);
    if (rc) {
        reg_image_free(im);
        free(h);
        return rc;
    }
    h->map = im->p;
    h->map_len = im->len;
    h->map_fd = im->fd;
    im->p = NULL;
    im->fd = -1;
    /* Every bin and cell checked first: a damaged hive is named with the offset of the damage, where hivex would
     * give a bare errno, and a cell running past its bin (which hivex accepts, then reads past) never reaches it. */
    rc = reg_cells_open_mem(h->map, h->map_len, h->name, &h->cells, err);
    if (rc == 0)
        rc = reg_cells_check_all(h->cells, err);
    if (rc == 0)
        rc = make_tmp(h, err);
    if (rc == 0 && h->tmp_fd >= 0) {
        /* hivex maps (or copies) the memfd itself: ours is dropped first, so the hive's pages are mapped once at a
         * time, and comes back only to explain a failure (reg_hive_diag_cells). */
        reg_cells_close(h->cells);
        h->cells = NULL;
        munmap(h->map, h->map_len);
        h->map = NULL;
    }
    if (rc == 0)
        rc = open_hx(h, err);
    if (rc) {
        vk_reg_hive_close(h);
        return rc;
    }
    *out = h;
    return 0;
}

struct reg_cells *reg_hive_diag_cells(vk_reg_hive *h)
{
    if (!h->hx || h->changed)
        return NULL;
    if (!h->map && h->map_fd >= 0) {
        void *p = mmap(NULL, h->map_len, PROT_READ, MAP_SHARED, h->map_fd, 0);
        if (p == MAP_FAILED)
            return NULL;
        h->map = p;
    }
    if (!h->cells && h->map && reg_cells_open_mem(h->map, h->map_len, h->name, &h->cells, NULL))
        h->cells = NULL;
    return h->cells;
}

int reg_hive_open_lazy(size_t len, int (*rd)(void *, uint64_t, void *, size_t, vk_error *), void *ctx,
                       const char *name, vk_reg_hive **out, vk_error *err)
{
    *out = NULL;
    vk_reg_hive *h = alloc_hive(name, 0, err);
    if (!h) {
        free(ctx);
        return VK_E_NOMEM;
    }
    int rc = reg_cells_open(len, rd, ctx, h->name, &h->cells, err);
    if (rc) {
        free(ctx);
        free(h);
        return rc;
    }
    h->lazy_ctx = ctx;
    *out = h;
    return 0;
}

int vk_reg_hive_open_bytes(const uint8_t *data, size_t len, const vk_reg_log *log1, const vk_reg_log *log2,
                           unsigned flags, vk_reg_hive **out, vk_error *err)
{
    if (!data || !out)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "no hive data");
    struct reg_image im;
    int rc = reg_image_alloc(len, &im, err);
    if (rc)
        return rc;
    memcpy(im.p, data, len);
    return reg_hive_open_image(&im, log1, log2, flags, NULL, out, err);
}

int vk_reg_hive_new(const char *root_name, vk_reg_hive **out, vk_error *err)
{
    uint8_t *buf;
    size_t len;
    int rc = reg_new_hive_bytes(root_name ? root_name : "ROOT", &buf, &len, err);
    if (rc < 0)
        return rc;
    struct reg_image im;
    rc = reg_image_alloc(len, &im, err);
    if (rc == 0)
        memcpy(im.p, buf, len);
    free(buf);
    return rc ? rc : reg_hive_open_image(&im, NULL, NULL, VK_REG_OPEN_WRITE, NULL, out, err);
}

int reg_hx_read_fail(vk_reg_hive *h, vk_error *err, int hx_errno, int diag_rc, const vk_error *diag, vk_reg_key node,
                     const char *what)
{
    if (hx_errno == ENOMEM)
        return vk_fail_errno(err, VK_E_NOMEM, hx_errno, h->name, VK_NO_OFFSET, "%s", what);
    if (diag_rc < 0 && diag && diag->code == VK_E_CORRUPT) {
        if (err)
            *err = *diag;
        return VK_E_CORRUPT;
    }
    return vk_fail(err, VK_E_CORRUPT, h->name, node ? (uint64_t)node : VK_NO_OFFSET, "corrupt hive: %s: %s", what,
                   hx_cause(hx_errno));
}

const char *vk_reg_hive_warning(const vk_reg_hive *h) { return h->warning; }

unsigned vk_reg_hive_replayed(const vk_reg_hive *h) { return h->replayed; }

static int read_back(const char *path, uint8_t **out, size_t *len, vk_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "cannot reopen the committed hive");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, "no memory to read the committed hive");
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return vk_fail(err, VK_E_IO, path, VK_NO_OFFSET, "cannot read the committed hive");
    }
    *out = buf;
    *len = n;
    return 0;
}

int vk_reg_hive_commit(vk_reg_hive *h, uint8_t **out, size_t *len, vk_error *err)
{
    if (h->refuse_write)
        return vk_fail(err, VK_E_REFUSED, NULL, VK_NO_OFFSET, "not writing a dirty hive: %s", h->warning);
    int rc = reg_check_writable(h, err);
    if (rc < 0)
        return rc;
    h->changed = true; /* hivex rewrites the file behind `map` */
    if (hivex_commit(h->hx, h->tmp_path, 0) < 0)
        return reg_hx_fail(err, "hivex cannot write the hive", NULL);
    uint8_t *buf;
    size_t n;
    rc = read_back(h->tmp_path, &buf, &n, err);
    if (rc < 0)
        return rc;
    if (n < REGF_BASE_LEN) {
        free(buf);
        return vk_fail(err, VK_E_CORRUPT, h->tmp_path, n, "hivex wrote a hive shorter than its base block");
    }
    rc = reg_bigdata_fix(&buf, &n, err);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    /* A clean hive: both sequence numbers equal, base block checksum valid. */
    put_le32(buf + REGF_OFF_SEQ2, get_le32(buf + REGF_OFF_SEQ1));
    put_le32(buf + REGF_OFF_CSUM, reg_base_checksum(buf));
    *out = buf;
    *len = n;
    return 0;
}

void vk_reg_hive_close(vk_reg_hive *h)
{
    if (!h)
        return;
    if (h->hx)
        hivex_close(h->hx);
    reg_cells_close(h->cells);
    free(h->lazy_ctx);
    if (h->tmp_unlink)
        unlink(h->tmp_path);
    if (h->tmp_fd >= 0 && h->tmp_fd != h->map_fd)
        close(h->tmp_fd);
    if (h->map && h->map_fd >= 0)
        munmap(h->map, h->map_len);
    else
        free(h->map);
    if (h->map_fd >= 0)
        close(h->map_fd);
    free(h);
}
