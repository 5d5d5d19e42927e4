/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Any disk image as a device: a VHD when its footer (or, damaged, its footer copy) says "conectix", else raw. */
#include <string.h>

#include "vhd/image_internal.h"

static bool has_cookie(vk_dev *file, uint64_t off)
{
    uint8_t cookie[8];
    return off + sizeof cookie <= file->size && !vk_dev_read(file, cookie, sizeof cookie, off, NULL) &&
           !memcmp(cookie, VHD_FOOTER_COOKIE, sizeof cookie);
}

static bool looks_like_vhd(vk_dev *file)
{
    if (file->size < VHD_FOOTER_LEN - 1)
        return false;
    return (file->size >= VHD_FOOTER_LEN && has_cookie(file, file->size - VHD_FOOTER_LEN)) ||
           has_cookie(file, file->size - (VHD_FOOTER_LEN - 1)) || has_cookie(file, 0);
}

int vk_image_open(const char *path, const struct vk_vhd_open_opts *opts, vk_dev **out, vk_vhd **vhd_out,
                  vk_error *err)
{
    unsigned flags = opts ? opts->flags : 0;
    vk_dev *file = opts ? opts->file : NULL;
    int rc;
    if (vhd_out)
        *vhd_out = NULL;
    if (!file && (rc = vk_dev_open_file(path, (flags & VK_VHD_RDWR) ? VK_FILE_RDWR : 0, &file, err)))
        return rc;
    if (!looks_like_vhd(file)) {
        *out = file;
        return 0;
    }
    /* Hand the open file to the VHD layer so the lock is never dropped between the two opens. */
    struct vk_vhd_open_opts vopts = {.flags = flags, .search_dirs = opts ? opts->search_dirs : NULL, .file = file};
    vk_vhd *vhd;
    if ((rc = vk_vhd_open(path, &vopts, &vhd, err)))
        return rc;
    vhd->close_with_dev = 1;
    *out = &vhd->dev;
    if (vhd_out)
        *vhd_out = vhd;
    return 0;
}
