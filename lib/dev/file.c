/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host-file device: pread/pwrite with flock (shared to read, exclusive to write), SEEK_HOLE extents, fallocate. */
#include "vhdkit/dev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checked.h"
#include "dev/test_fault.h"

struct file_priv {
    int fd;
};

static int file_fd(vk_dev *dev) { return ((struct file_priv *)dev->priv)->fd; }

static int file_read(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(file_fd(dev), p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vk_fail_errno(err, VK_E_IO, errno, dev->name, off, "read failed");
        if (n == 0)
            return vk_fail(err, VK_E_TRUNCATED, dev->name, off, "unexpected end of file");
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int file_write(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err)
{
    int rc = vk_test_fault_before_write(dev, &len, off, err);
    if (rc)
        return rc;
    const uint8_t *p = buf;
    size_t left = len;
    uint64_t at = off;
    while (left) {
        ssize_t n = pwrite(file_fd(dev), p, left, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vk_fail_errno(err, errno == ENOSPC ? VK_E_NOSPACE : VK_E_IO, errno, dev->name, at, "write failed");
        p += n;
        at += (uint64_t)n;
        left -= (size_t)n;
    }
    if (at > dev->size)
        dev->size = at;
    return vk_test_fault_after_write(dev, err);
}

static int file_flush(vk_dev *dev, vk_error *err)
{
    if (vk_test_fault_stopped())
        return vk_fail(err, VK_E_FAULT, dev->name, VK_NO_OFFSET, "flush after an injected stop");
    if (!(dev->flags & VK_DEV_WRITABLE))
        return 0;
    if (fsync(file_fd(dev)) < 0)
        return vk_fail_errno(err, VK_E_IO, errno, dev->name, VK_NO_OFFSET, "fsync failed");
    return 0;
}

/* SEEK_DATA/SEEK_HOLE tell holes of sparse host files; filesystems without them report everything as data. */
static int file_extent(vk_dev *dev, uint64_t off, uint64_t len, vk_extent *out, vk_error *err)
{
    (void)err;
    int fd = file_fd(dev);
    off_t data = lseek(fd, (off_t)off, SEEK_DATA);
    out->kind = VK_EXTENT_DATA;
    out->len = len;
    if (data < 0) {
        if (errno == ENXIO) { /* no data after off: a hole to the end */
            out->kind = VK_EXTENT_ZERO;
        }
        return 0;
    }
    if ((uint64_t)data > off) {
        out->kind = VK_EXTENT_ZERO;
        out->len = (uint64_t)data - off < len ? (uint64_t)data - off : len;
        return 0;
    }
    off_t hole = lseek(fd, (off_t)off, SEEK_HOLE);
    if (hole > (off_t)off && (uint64_t)hole - off < len)
        out->len = (uint64_t)hole - off;
    return 0;
}

static int file_set_size(vk_dev *dev, uint64_t size, vk_error *err)
{
    if (vk_test_fault_stopped())
        return vk_fail(err, VK_E_FAULT, dev->name, VK_NO_OFFSET, "truncate after an injected stop");
    if (ftruncate(file_fd(dev), (off_t)size) < 0)
        return vk_fail_errno(err, VK_E_IO, errno, dev->name, size, "cannot set the file size");
    dev->size = size;
    return 0;
}

static void file_close(vk_dev *dev)
{
    close(file_fd(dev)); /* also releases the flock */
    free(dev->priv);
    free(dev);
}

static const struct vk_dev_ops file_ops = {
    .type = "file",
    .read = file_read,
    .write = file_write,
    .flush = file_flush,
    .extent = file_extent,
    .set_size = file_set_size,
    .close = file_close,
};

int vk_dev_open_file(const char *path, unsigned flags, vk_dev **out, vk_error *err)
{
    int oflags = O_CLOEXEC | ((flags & VK_FILE_RDWR) ? O_RDWR : O_RDONLY);
    if (flags & VK_FILE_CREATE)
        oflags |= O_CREAT | O_EXCL | O_RDWR;
    int fd = open(path, oflags, 0644);
    if (fd < 0) {
        int e = errno;
        int code = e == ENOENT ? VK_E_NOTFOUND : e == EEXIST ? VK_E_EXISTS : VK_E_IO;
        return vk_fail_errno(err, code, e, path, VK_NO_OFFSET, "cannot open");
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return vk_fail_errno(err, VK_E_IO, e, path, VK_NO_OFFSET, "cannot stat");
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "is a directory, not a disk image");
    }
    if (!(flags & VK_FILE_NOLOCK)) {
        int writing = (flags & (VK_FILE_RDWR | VK_FILE_CREATE)) != 0;
        if (flock(fd, (writing ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return vk_fail(err, VK_E_BUSY, path, VK_NO_OFFSET,
                               "another process holds a lock on this file; wait for it to finish and try again");
            return vk_fail_errno(err, VK_E_IO, e, path, VK_NO_OFFSET, "cannot lock");
        }
    }
    vk_dev *dev = calloc(1, sizeof *dev);
    struct file_priv *priv = calloc(1, sizeof *priv);
    if (!dev || !priv) {
        free(dev);
        free(priv);
        close(fd);
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    }
    priv->fd = fd;
    dev->ops = &file_ops;
    dev->priv = priv;
    /* Block devices report size 0 in st_size; ask the end of the file instead. */
    off_t end = S_ISREG(st.st_mode) ? st.st_size : lseek(fd, 0, SEEK_END);
    dev->size = end > 0 ? (uint64_t)end : 0;
    dev->flags = (flags & (VK_FILE_RDWR | VK_FILE_CREATE)) ? VK_DEV_WRITABLE : 0;
    snprintf(dev->name, sizeof dev->name, "%s", path);
    *out = dev;
    return 0;
}

int vk_dev_file_allocate(vk_dev *dev, uint64_t off, uint64_t len, vk_error *err)
{
    if (dev->ops != &file_ops)
        return vk_fail(err, VK_E_UNSUPPORTED, dev->name, VK_NO_OFFSET, "not a host file");
    uint64_t end;
    if (ck_add_u64(off, len, &end))
        return vk_fail(err, VK_E_RANGE, dev->name, off, "allocation range overflows");
    /* fallocate, not posix_fallocate: glibc's fallback writes zeros, which is neither constant time nor honest. */
    int rc = fallocate(file_fd(dev), 0, (off_t)off, (off_t)len) < 0 ? errno : 0;
    if (rc == EOPNOTSUPP || rc == ENOSYS || rc == EINVAL)
        return vk_fail_errno(err, VK_E_UNSUPPORTED, rc, dev->name, VK_NO_OFFSET, "the host filesystem cannot preallocate");
    if (rc)
        return vk_fail_errno(err, rc == ENOSPC ? VK_E_NOSPACE : VK_E_IO, rc, dev->name, off, "preallocation failed");
    if (end > dev->size)
        dev->size = end;
    return 0;
}

int vk_dev_file_fd(vk_dev *dev)
{
    return dev && dev->ops == &file_ops ? file_fd(dev) : -1;
}
