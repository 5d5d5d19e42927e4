/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit mkdir: a new directory in the NTFS volume (with -p, its missing parents too). */
#include <stdlib.h>

#include "cli.h"

const struct opt opts_mkdir[] = {
    {"parents", 'p', NULL, "make missing parent directories; an existing directory is not an error"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

int cmd_mkdir(struct ctx *c)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[0], true, &v);
    if (st)
        return st;
    char *path = vol_path(c->args.pos[1]);
    vk_error err = {0};
    int rc = !path ? vk_fail(&err, VK_E_NOMEM, v.image, VK_NO_OFFSET, NULL)
             : !path[1] ? vk_fail(&err, VK_E_EXISTS, v.image, VK_NO_OFFSET, "the root directory exists")
                        : vk_ntfs_mkdir(v.ntfs, path, arg_has(&c->args, "parents"), &err);
    if (rc == VK_E_EXISTS && !path[1] && arg_has(&c->args, "parents"))
        rc = 0;
    free(path);
    st = rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}
