/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit mkdir: a new directory in the NTFS volume (with -p, its missing parents too). */
#include "cli.h"

const struct opt opts_mkdir[] = {
    {"parents", 'p', NULL, "make missing parent directories; an existing directory is not an error"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

static int make_dir(struct vol *v, const char *path, bool parents, vk_error *err)
{
    if (!path[1]) /* the root always exists: fine with -p, as mkdir -p / is */
        return parents ? 0 : vk_fail(err, VK_E_EXISTS, v->image, VK_NO_OFFSET, "the root directory exists");
    return vk_ntfs_mkdir(v->ntfs, path, parents, err);
}

int cmd_mkdir(struct ctx *c) { return vol_edit(c, "parents", make_dir); }
