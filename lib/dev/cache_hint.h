/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Page-cache hints for long sequential copies (Linux sync_file_range and posix_fadvise). Hints only: they never
 * change what a read returns or what an fsync makes durable, and they do nothing for devices that are not host
 * files. */
#ifndef VHDKIT_DEV_CACHE_HINT_H
#define VHDKIT_DEV_CACHE_HINT_H

#include "vhdkit/dev.h"

/* Starts writing [off, off+len) of the file to disk now, without waiting: the disk works while the next data is
 * copied, so the final fsync waits for little. */
void vk_dev_start_writeback(vk_dev *dev, uint64_t off, uint64_t len);

/* Lets the kernel drop the cached pages of [off, off+len): with `wait`, first waits until their writeback is done
 * (dirty pages cannot be dropped). A copy that releases what it has written keeps its page cache to a few chunks,
 * reusing the same pages instead of filling memory with the whole image (and evicting everyone else's). */
void vk_dev_release_cache(vk_dev *dev, uint64_t off, uint64_t len, int wait);

#endif
