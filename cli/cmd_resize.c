/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit resize: grow an image, or shrink it when no partition and no stored data would be cut. */
#include "cli.h"
#include "vhdkit/ops.h"

const struct opt opts_resize[] = {
    {NULL, 0, NULL, NULL},
};

int cmd_resize(struct ctx *c)
{
    uint64_t size;
    if (parse_size(c->args.pos[1], &size))
        return usage_error(c->cmd->name, "'%s' is not a size", c->args.pos[1]);
    struct vk_chain_result r = {0};
    vk_error err = {0};
    if (vk_resize(c->args.pos[0], size, 0, &r, &err))
        return report_error(&err);
    print_chain_result(c, "resized", c->args.pos[0], &r, "note");
    if (!c->json)
        printf("  %llu -> %llu bytes%s\n", (unsigned long long)r.old_size, (unsigned long long)r.new_size,
               r.bat_grown ? " (BAT grown)" : "");
    return 0;
}
