/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libntfs-3g's struct ntfs_device_operations (device.h) over a vk_dev, so NTFS is read without a kernel device. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct ntfs_devpriv *dp_of(struct ntfs_device *nd) { return nd->d_private; }

static int dev_open(struct ntfs_device *nd, int flags)
{
    if (NDevOpen(nd)) {
        errno = EBUSY;
        return -1;
    }
    if ((flags & O_ACCMODE) != O_RDONLY && !(dp_of(nd)->dev->flags & VK_DEV_WRITABLE)) {
        errno = EROFS;
        return -1;
    }
    if ((flags & O_ACCMODE) == O_RDONLY)
        NDevSetReadOnly(nd);
    else
        NDevClearReadOnly(nd);
    dp_of(nd)->pos = 0;
    NDevSetOpen(nd);
    return 0;
}

static void stop(struct ntfs_devpriv *p);

/* After a stop there is nothing to flush: the device keeps what it held then. */
static int dev_sync(struct ntfs_device *nd)
{
    struct ntfs_devpriv *p = dp_of(nd);
    if (!NDevReadOnly(nd) && NDevDirty(nd) && !p->stopped) {
        if (vk_dev_flush(p->dev, &p->io_err)) {
            stop(p);
            errno = EIO;
            return -1;
        }
        NDevClearDirty(nd);
    }
    return 0;
}

static int dev_close(struct ntfs_device *nd)
{
    if (!NDevOpen(nd)) {
        errno = EBADF;
        return -1;
    }
    int rc = dev_sync(nd);
    NDevClearOpen(nd);
    return rc;
}

static s64 dev_seek(struct ntfs_device *nd, s64 offset, int whence)
{
    struct ntfs_devpriv *p = dp_of(nd);
    s64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? p->pos : whence == SEEK_END ? (s64)p->dev->size : -1;
    if (base < 0 || (offset < 0 && -offset > base) || (offset > 0 && offset > INT64_MAX - base)) {
        errno = EINVAL;
        return -1;
    }
    p->pos = base + offset;
    return p->pos;
}

/* ---- after a stop: the pages written since, in memory ---- */

#define OV_PAGE 4096u
/* A stopped call ends within a chunk or two of writes (file.c writes in 256 KiB pieces and checks): far below. */
#define OV_MAX_PAGES 16384u /* 64 MiB */

struct ntfs_ov_page {
    uint64_t idx;
    uint8_t *data;
};

void ntfs_dev_reset(struct ntfs_devpriv *p)
{
    for (size_t i = 0; i < p->ov_n; i++)
        free(p->ov[i].data);
    free(p->ov);
    p->ov = NULL;
    p->ov_n = p->ov_cap = 0;
    p->stopped = 0;
    memset(&p->stop_err, 0, sizeof p->stop_err);
}

/* The first page at or after `idx`. */
static size_t ov_find(const struct ntfs_devpriv *p, uint64_t idx)
{
    size_t lo = 0, hi = p->ov_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->ov[mid].idx < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Page `idx` of the overlay, made from the device's bytes when new. NULL (errno set) when memory or the read fails. */
static uint8_t *ov_page(struct ntfs_devpriv *p, uint64_t idx)
{
    size_t at = ov_find(p, idx);
    if (at < p->ov_n && p->ov[at].idx == idx)
        return p->ov[at].data;
    if (p->ov_n >= OV_MAX_PAGES) {
        errno = ENOMEM;
        return NULL;
    }
    if (p->ov_n == p->ov_cap) {
        size_t cap = p->ov_cap ? p->ov_cap * 2 : 64;
        struct ntfs_ov_page *g = realloc(p->ov, cap * sizeof *g);
        if (!g) {
            errno = ENOMEM;
            return NULL;
        }
        p->ov = g;
        p->ov_cap = cap;
    }
    uint8_t *d = calloc(1, OV_PAGE);
    if (!d) {
        errno = ENOMEM;
        return NULL;
    }
    uint64_t off = idx * OV_PAGE, n = p->dev->size - off < OV_PAGE ? p->dev->size - off : OV_PAGE;
    if (vk_dev_read(p->dev, d, (size_t)n, off, &p->io_err)) {
        free(d);
        errno = EIO;
        return NULL;
    }
    memmove(p->ov + at + 1, p->ov + at, (p->ov_n - at) * sizeof *p->ov);
    p->ov[at].idx = idx;
    p->ov[at].data = d;
    p->ov_n++;
    return d;
}

static int ov_write(struct ntfs_devpriv *p, const uint8_t *buf, uint64_t len, uint64_t off)
{
    while (len) {
        uint64_t in = off % OV_PAGE, n = OV_PAGE - in < len ? OV_PAGE - in : len;
        uint8_t *d = ov_page(p, off / OV_PAGE);
        if (!d)
            return -1;
        memcpy(d + in, buf, (size_t)n);
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Lays the overlay's pages over `buf`, which holds the device's bytes [off, off + len). */
static void ov_read(const struct ntfs_devpriv *p, uint8_t *buf, uint64_t len, uint64_t off)
{
    for (size_t i = ov_find(p, off / OV_PAGE); i < p->ov_n && p->ov[i].idx * OV_PAGE < off + len; i++) {
        uint64_t ps = p->ov[i].idx * OV_PAGE;
        uint64_t from = ps > off ? ps : off, to = ps + OV_PAGE < off + len ? ps + OV_PAGE : off + len;
        memcpy(buf + (from - off), p->ov[i].data + (from - ps), (size_t)(to - from));
    }
}

/* The first failed write or flush: what came before it stays on the device, nothing after it gets there. */
static void stop(struct ntfs_devpriv *p)
{
    if (p->stopped)
        return;
    p->stopped = 1;
    p->stop_err = p->io_err;
}

/* Reads stop at the end of the device with a short count, as a file would (libntfs-3g probes the size that way). */
static s64 dev_pread(struct ntfs_device *nd, void *buf, s64 count, s64 offset)
{
    struct ntfs_devpriv *p = dp_of(nd);
    if (count < 0 || offset < 0) {
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)offset >= p->dev->size)
        return 0;
    uint64_t n = (uint64_t)count;
    if (n > p->dev->size - (uint64_t)offset)
        n = p->dev->size - (uint64_t)offset;
    if (n && vk_dev_read(p->dev, buf, (size_t)n, (uint64_t)offset, &p->io_err)) {
        errno = EIO;
        return -1;
    }
    if (p->stopped)
        ov_read(p, buf, n, (uint64_t)offset);
    return (s64)n;
}

static s64 dev_pwrite(struct ntfs_device *nd, const void *buf, s64 count, s64 offset)
{
    struct ntfs_devpriv *p = dp_of(nd);
    if (NDevReadOnly(nd)) {
        errno = EROFS;
        return -1;
    }
    if (count < 0 || offset < 0) {
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)offset >= p->dev->size || (uint64_t)count > p->dev->size - (uint64_t)offset) {
        /* Only a volume claiming more sectors than its partition holds gets here; nothing is stored. */
        errno = ENOSPC;
        return -1;
    }
    if (!p->stopped) {
        NDevSetDirty(nd);
        if (!count || !vk_dev_write(p->dev, buf, (size_t)count, (uint64_t)offset, &p->io_err))
            return count;
        stop(p);
    }
    if (ov_write(p, buf, (uint64_t)count, (uint64_t)offset))
        return -1;
    return count;
}

static s64 dev_read(struct ntfs_device *nd, void *buf, s64 count)
{
    s64 n = dev_pread(nd, buf, count, dp_of(nd)->pos);
    if (n > 0)
        dp_of(nd)->pos += n;
    return n;
}

static s64 dev_write(struct ntfs_device *nd, const void *buf, s64 count)
{
    s64 n = dev_pwrite(nd, buf, count, dp_of(nd)->pos);
    if (n > 0)
        dp_of(nd)->pos += n;
    return n;
}

static int dev_stat(struct ntfs_device *nd, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG | 0600;
    st->st_size = (off_t)dp_of(nd)->dev->size;
    st->st_blksize = 512;
    return 0;
}

/* No block-device ioctls: libntfs-3g then finds the size by probing reads and assumes 512-byte sectors. */
static int dev_ioctl(struct ntfs_device *nd, unsigned long request, void *argp)
{
    (void)nd;
    (void)request;
    (void)argp;
    errno = ENOTTY;
    return -1;
}

struct ntfs_device_operations vk_ntfs_devops = {
    .open = dev_open,
    .close = dev_close,
    .seek = dev_seek,
    .read = dev_read,
    .write = dev_write,
    .pread = dev_pread,
    .pwrite = dev_pwrite,
    .sync = dev_sync,
    .stat = dev_stat,
    .ioctl = dev_ioctl,
};
