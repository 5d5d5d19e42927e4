/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit rm: remove a file or (with -r) a directory tree from the NTFS volume. */
#include <stdlib.h>

#include "cli.h"

const struct opt opts_rm[] = {
    {"recursive", 'r', NULL, "remove a directory and everything in it"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

int cmd_rm(struct ctx *c)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[0], true, &v);
    if (st)
        return st;
    char *path = vol_path(c->args.pos[1]);
    vk_error err = {0};
    int rc = !path ? vk_fail(&err, VK_E_NOMEM, v.image, VK_NO_OFFSET, NULL)
             : !path[1] ? vk_fail(&err, VK_E_USAGE, v.image, VK_NO_OFFSET, "refusing to remove the root directory")
                        : vk_ntfs_remove(v.ntfs, path, arg_has(&c->args, "recursive"), &err);
    free(path);
    st = rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}
