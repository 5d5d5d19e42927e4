/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit snapshot: a new differencing child over PARENT (the parent is only read). */
#include "cli.h"
#include "vhdkit/vhd.h"

const struct opt opts_snapshot[] = {
    {"block-size", 'b', "B", "block size of the child (default 2M)"},
    {NULL, 0, NULL, NULL},
};

int cmd_snapshot(struct ctx *c)
{
    struct vk_vhd_create_opts co = {.type = VK_VHD_DIFF, .parent = c->args.pos[0]};
    uint64_t bs = 0;
    int rc = arg_size(&c->args, "block-size", &bs);
    if (rc)
        return rc;
    if (bs > UINT32_MAX)
        return usage_error(c->cmd->name, "--block-size is too large");
    co.block_size = (uint32_t)bs;
    struct vk_vhd_create_result res = {0};
    vk_error err = {0};
    if (vk_vhd_create(c->args.pos[1], &co, &res, &err))
        return report_error(&err);
    print_created(c, c->args.pos[1], VK_VHD_DIFF, &res);
    return 0;
}
