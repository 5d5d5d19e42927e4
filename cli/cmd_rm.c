/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit rm: remove a file or (with -r) a directory tree from the NTFS volume. */
#include "cli.h"

const struct opt opts_rm[] = {
    {"recursive", 'r', NULL, "remove a directory and everything in it"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

static int remove_path(struct vol *v, const char *path, bool recursive, vk_error *err)
{
    if (!path[1])
        return vk_fail(err, VK_E_USAGE, v->image, VK_NO_OFFSET, "refusing to remove the root directory");
    return vk_ntfs_remove(v->ntfs, path, recursive, err);
}

int cmd_rm(struct ctx *c) { return vol_edit(c, "recursive", remove_path); }
