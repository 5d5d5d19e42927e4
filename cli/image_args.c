/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options shared by the commands that make images (create, convert): --block-size and --fill. */
#include <stdint.h>
#include <string.h>

#include "cli.h"

int arg_block_size(const struct ctx *c, uint32_t *out)
{
    uint64_t bs = 0;
    int rc = arg_size(&c->args, "block-size", &bs);
    if (rc)
        return rc;
    if (bs > UINT32_MAX)
        return usage_error(c->cmd->name, "--block-size is too large");
    *out = (uint32_t)bs;
    return 0;
}

int arg_fill(const struct ctx *c, enum vk_vhd_fill *out)
{
    const char *fill = arg_str(&c->args, "fill");
    if (fill && !strcmp(fill, "sparse"))
        *out = VK_FILL_SPARSE;
    else if (fill && !strcmp(fill, "zero"))
        *out = VK_FILL_ZERO;
    else if (fill && strcmp(fill, "allocate"))
        return usage_error(c->cmd->name, "--fill must be allocate, sparse or zero, not '%s'", fill);
    return 0;
}
