/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit rebase: change a differencing image's parent while keeping exactly what it shows. */
#include "cli.h"
#include "vhdkit/ops.h"

const struct opt opts_rebase[] = {
    {"no-drop", 0, NULL, "keep child sectors that equal the new parent (default: give them back)"},
    {NULL, 0, NULL, NULL},
};

int cmd_rebase(struct ctx *c)
{
    struct progress p;
    progress_begin(&p, "rebasing", 0);
    struct vk_chain_result r = {.progress = progress_cb, .progress_ctx = &p};
    vk_error err = {0};
    int rc = vk_rebase(c->args.pos[0], c->args.pos[1], arg_has(&c->args, "no-drop") ? VK_CHAIN_NO_DROP : 0, &r, &err);
    progress_end(&p);
    if (rc)
        return report_error(&err);
    print_chain_result(c, "now has parent", c->args.pos[0], &r, "note");
    if (!c->json)
        printf("  copied %llu bytes into the child, dropped %llu bytes equal to the new parent\n",
               (unsigned long long)r.bytes_copied, (unsigned long long)r.bytes_dropped);
    return 0;
}
