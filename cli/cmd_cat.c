/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit cat: a file of the NTFS volume, or one of its alternate data streams (PATH:stream), to standard output. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const struct opt opts_cat[] = {
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

static int to_stdout(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    return fwrite(buf, 1, len, stdout) == len ? 0 : EXIT_IO;
}

int cmd_cat(struct ctx *c)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[0], false, &v);
    if (st)
        return st;
    char *path = vol_path(c->args.pos[1]);
    vk_error err = {0};
    int rc = path ? vk_ntfs_read_all(v.ntfs, path, to_stdout, NULL, &err)
                  : vk_fail(&err, VK_E_NOMEM, v.image, VK_NO_OFFSET, NULL);
    free(path);
    /* EXIT_IO from the sink: stdout failed, which main reports once. */
    st = rc == EXIT_IO ? EXIT_IO : rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}
