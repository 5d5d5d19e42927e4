/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Page-cache hints for long sequential copies: see cache_hint.h. Errors are ignored on purpose: a failed writeback
 * shows again at the fsync that makes the data durable, and a page that stays cached costs only memory. */
#include "dev/cache_hint.h"

#include <fcntl.h>

void vk_dev_start_writeback(vk_dev *dev, uint64_t off, uint64_t len)
{
    int fd = vk_dev_file_fd(dev);
#ifdef SYNC_FILE_RANGE_WRITE
    if (fd >= 0 && len)
        (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)off;
    (void)len;
#endif
}

void vk_dev_release_cache(vk_dev *dev, uint64_t off, uint64_t len, int wait)
{
    int fd = vk_dev_file_fd(dev);
    if (fd < 0 || !len)
        return;
#ifdef SYNC_FILE_RANGE_WRITE
    if (wait)
        (void)sync_file_range(fd, (off_t)off, (off_t)len,
                              SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
#else
    (void)wait;
#endif
#ifdef POSIX_FADV_DONTNEED
    (void)posix_fadvise(fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
#endif
}
