/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hive handles: open from bytes (with log recovery), new hives, commit to bytes, close.
 * hivex only opens files, so each handle works on a private copy (a memfd, else mkstemp in $TMPDIR, unlinked
 * at close); hivex keeps every change in memory until hivex_commit, which is what makes one command one
 * transaction: nothing reaches the caller's bytes until vk_reg_hive_commit. */
#include "reg_int.h"

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

/* The private copy lives in memory (memfd, reached by hivex through /proc/self/fd) when the kernel allows it:
 * writing a 20 MiB hive to a disk-backed temporary file cost more than hivex's whole parse. Otherwise a
 * mkstemp file in $TMPDIR, unlinked at close. */
static int make_memfd(vk_reg_hive *h)
{
    int fd = memfd_create("vhdkit-hive", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    snprintf(h->tmp_path, sizeof h->tmp_path, "/proc/self/fd/%d", fd);
    if (access(h->tmp_path, R_OK | W_OK) < 0) { /* no /proc in this environment */
        close(fd);
        return -1;
    }
    h->tmp_fd = fd;
    return fd;
}

static int make_tmp(vk_reg_hive *h, const uint8_t *data, size_t len, vk_error *err)
{
    int fd = make_memfd(h);
    const char *dir = "memory";
    if (fd < 0) {
        dir = getenv("TMPDIR");
        if (!dir || !*dir)
            dir = "/tmp";
        if (snprintf(h->tmp_path, sizeof h->tmp_path, "%s/vhdkit-hive-XXXXXX", dir) >= (int)sizeof h->tmp_path)
            return vk_fail(err, VK_E_RANGE, dir, VK_NO_OFFSET, "temporary folder path too long");
        fd = mkstemp(h->tmp_path);
        if (fd < 0) {
            int e = errno;
            h->tmp_path[0] = 0;
            return vk_fail_errno(err, VK_E_IO, e, dir, VK_NO_OFFSET, "cannot create a temporary hive file");
        }
        h->tmp_unlink = 1;
    }
    if (write_all(fd, data, len) < 0) {
        int e = errno;
        if (h->tmp_fd < 0)
            close(fd);
        return vk_fail_errno(err, VK_E_IO, e, h->tmp_path, VK_NO_OFFSET, "cannot write the temporary hive file");
    }
    if (h->tmp_fd < 0)
        close(fd);
    return 0;
}

/* A zeroed handle with no private copy yet; frees `buf` and fails when memory is short. */
static vk_reg_hive *alloc_hive(uint8_t *buf, vk_error *err)
{
    vk_reg_hive *h = calloc(1, sizeof *h);
    if (!h) {
        free(buf);
        vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a hive handle");
        return NULL;
    }
    h->tmp_fd = -1;
    return h;
}

static int open_hx(vk_reg_hive *h, vk_error *err)
{
    h->hx = hivex_open(h->tmp_path, (h->flags & VK_REG_OPEN_WRITE) ? HIVEX_OPEN_WRITE : 0);
    if (!h->hx) {
        int e = errno;
        return vk_fail_errno(err, e == ENOMEM ? VK_E_NOMEM : VK_E_CORRUPT, e, NULL, VK_NO_OFFSET,
                             "hivex cannot open the hive");
    }
    return 0;
}

static int finish_open(vk_reg_hive *h, uint8_t *buf, size_t len, vk_reg_hive **out, vk_error *err)
{
    int rc = make_tmp(h, buf, len, err);
    free(buf);
    if (rc == 0)
        rc = open_hx(h, err);
    if (rc < 0) {
        vk_reg_hive_close(h);
        return rc;
    }
    *out = h;
    return 0;
}

int reg_hive_open_owned(uint8_t *buf, size_t len, const vk_reg_log *log1, const vk_reg_log *log2, unsigned flags,
                        vk_reg_hive **out, vk_error *err)
{
    if (len < REGF_BASE_LEN + REGF_BIN_HDR) {
        free(buf);
        return vk_fail(err, VK_E_TRUNCATED, NULL, len, "hive of %zu bytes is shorter than a base block and a bin", len);
    }
    if (memcmp(buf, "regf", 4) != 0) {
        free(buf);
        return vk_fail(err, VK_E_CORRUPT, NULL, 0, "not a registry hive (no regf signature)");
    }
    vk_reg_hive *h = alloc_hive(buf, err);
    if (!h)
        return VK_E_NOMEM;
    h->flags = flags;
    int rc = reg_log_recover(&buf, &len, log1, log2, &h->replayed, h->warning, sizeof h->warning, err);
    if (rc < 0) {
        free(buf);
        free(h);
        return rc;
    }
    if (rc > 0) {
        /* Readable with a warning: hivex insists on a valid checksum, so fix it in our private copy only. */
        h->refuse_write = true;
        put_le32(buf + REGF_OFF_CSUM, reg_base_checksum(buf));
    }
    return finish_open(h, buf, len, out, err);
}

int vk_reg_hive_open_bytes(const uint8_t *data, size_t len, const vk_reg_log *log1, const vk_reg_log *log2,
                           unsigned flags, vk_reg_hive **out, vk_error *err)
{
    if (!data || !out)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "no hive data");
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a hive of %zu bytes", len);
    memcpy(buf, data, len);
    return reg_hive_open_owned(buf, len, log1, log2, flags, out, err);
}

int vk_reg_hive_new(const char *root_name, vk_reg_hive **out, vk_error *err)
{
    uint8_t *buf;
    size_t len;
    int rc = reg_new_hive_bytes(root_name ? root_name : "ROOT", &buf, &len, err);
    if (rc < 0)
        return rc;
    vk_reg_hive *h = alloc_hive(buf, err);
    if (!h)
        return VK_E_NOMEM;
    h->flags = VK_REG_OPEN_WRITE;
    return finish_open(h, buf, len, out, err);
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
    if (h->tmp_unlink)
        unlink(h->tmp_path);
    if (h->tmp_fd >= 0)
        close(h->tmp_fd);
    free(h);
}
