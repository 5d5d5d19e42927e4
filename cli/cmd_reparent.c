/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit reparent: point a differencing image at a moved, renamed or copied parent; also the result printer the
 * other chain commands (merge, rebase, resize, repair) share. */
#include <stdio.h>

#include "cli.h"
#include "vhdkit/ops.h"

const struct opt opts_reparent[] = {
    {"force", 'f', NULL, "accept a parent whose UUID (or size) differs from what the child records"},
    {NULL, 0, NULL, NULL},
};

void print_chain_result(struct ctx *c, const char *what, const char *image, const struct vk_chain_result *r,
                        const char *names_key)
{
    struct out o;
    out_init(&o, stdout, c->json);
    if (!c->json) {
        printf("%s: %s", image, what);
        if (r->target[0])
            printf(" %s", r->target);
        printf(" (%.2f s)\n", r->seconds);
        for (unsigned i = 0; i < r->nnames; i++)
            printf("  %s: %s\n", names_key, r->names[i]);
        return;
    }
    out_begin(&o);
    out_str(&o, "image", image);
    out_str(&o, "result", what);
    out_str(&o, "target", r->target);
    out_u64(&o, "levels", r->levels);
    out_u64(&o, "bytes_copied", r->bytes_copied);
    out_u64(&o, "bytes_dropped", r->bytes_dropped);
    out_i64(&o, "locators_moved", r->locators_moved);
    out_bool(&o, "uuid_changed", r->uuid_changed);
    out_u64(&o, "old_size", r->old_size);
    out_u64(&o, "new_size", r->new_size);
    out_bool(&o, "bat_grown", r->bat_grown);
    out_u64(&o, "fixed", r->nfixed);
    out_u64(&o, "left", r->nleft);
    out_array(&o, names_key);
    for (unsigned i = 0; i < r->nnames; i++)
        out_str(&o, NULL, r->names[i]);
    out_close(&o);
    out_u64(&o, "milliseconds", (uint64_t)(r->seconds * 1000 + 0.5));
    out_end(&o);
}

int cmd_reparent(struct ctx *c)
{
    struct vk_chain_result r = {0};
    vk_error err = {0};
    unsigned flags = arg_has(&c->args, "force") ? VK_CHAIN_FORCE : 0;
    if (vk_reparent(c->args.pos[0], c->args.pos[1], flags, &r, &err))
        return report_error(&err);
    if (r.uuid_changed && !c->json)
        fprintf(stderr, "vhdkit: %s: warning: the parent's UUID differs (--force): the child's sectors were "
                "differences against another disk\n", c->args.pos[0]);
    print_chain_result(c, "now has parent", c->args.pos[0], &r, "note");
    return 0;
}
