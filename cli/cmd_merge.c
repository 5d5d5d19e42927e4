/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit merge: copy a differencing image's sectors into its parent (or --into an older ancestor). */
#include "cli.h"
#include "vhdkit/ops.h"

const struct opt opts_merge[] = {
    {"into", 0, "ANCESTOR", "merge into this ancestor (default: the parent); every image between is merged too"},
    {"force-siblings", 0, NULL, "merge although other images built on the ancestor become invalid"},
    {"keep", 'k', NULL, "keep the merged images (default: delete them once the ancestor holds everything)"},
    {NULL, 0, NULL, NULL},
};

int cmd_merge(struct ctx *c)
{
    struct progress p;
    progress_begin(&p, "merging", 0);
    struct vk_chain_result r = {.progress = progress_cb, .progress_ctx = &p};
    unsigned flags = (arg_has(&c->args, "force-siblings") ? VK_CHAIN_FORCE_SIBLINGS : 0) |
                     (arg_has(&c->args, "keep") ? VK_CHAIN_KEEP : 0);
    vk_error err = {0};
    int rc = vk_merge(c->args.pos[0], arg_str(&c->args, "into"), flags, &r, &err);
    progress_end(&p);
    if (rc) {
        int status = report_error(&err);
        for (unsigned i = 0; i < r.nnames; i++)
            fprintf(stderr, "vhdkit: %s: would become invalid: %s\n", c->args.pos[0], r.names[i]);
        return status;
    }
    print_chain_result(c, "merged into", c->args.pos[0], &r, "removed");
    return 0;
}
