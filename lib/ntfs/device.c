/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libntfs-3g's struct ntfs_device_operations (device.h) over a vk_dev, so NTFS is read without a kernel device. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <fcntl.h>
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

static int dev_sync(struct ntfs_device *nd)
{
    if (!NDevReadOnly(nd) && NDevDirty(nd)) {
        if (vk_dev_flush(dp_of(nd)->dev, &dp_of(nd)->io_err)) {
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
        errno = ENOSPC;
        return -1;
    }
    NDevSetDirty(nd);
    if (count && vk_dev_write(p->dev, buf, (size_t)count, (uint64_t)offset, &p->io_err)) {
        errno = EIO;
        return -1;
    }
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
