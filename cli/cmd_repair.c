/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit repair: fix what check finds and can be fixed without guessing; --search folders for a lost parent. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vhdkit/ops.h"

const struct opt opts_repair[] = {
    {"search", 's', "DIR", "look for a missing parent (by its UUID) among the .vhd files of DIR (repeatable; DIR:DIR2 also works)"},
    {"dry-run", 'n', NULL, "report what would be fixed, write nothing"},
    {NULL, 0, NULL, NULL},
};

int cmd_repair(struct ctx *c)
{
    /* --search repeats; each value may also hold several folders separated by ':' (as PATH does). */
    const char *vals[32];
    int nv = arg_all(&c->args, "search", vals, 32);
    char *copies[32] = {0};
    const char *dirs[33] = {0};
    int nd = 0;
    for (int i = 0; i < nv; i++) {
        copies[i] = strdup(vals[i]);
        for (char *s = copies[i], *tok; s && nd < 32 && (tok = strsep(&s, ":"));)
            if (*tok)
                dirs[nd++] = tok;
    }
    struct vk_chain_result r = {0};
    vk_error err = {0};
    int rc = vk_repair(c->args.pos[0], dirs, arg_has(&c->args, "dry-run") ? VK_CHAIN_DRY_RUN : 0, &r, &err);
    for (int i = 0; i < nv; i++)
        free(copies[i]);
    if (rc)
        return report_error(&err);
    print_chain_result(c, arg_has(&c->args, "dry-run") ? "would repair" : "repaired", c->args.pos[0], &r, "fix");
    if (!c->json)
        printf("  %u fixed%s, %u left\n", r.nfixed, arg_has(&c->args, "dry-run") ? " (dry run)" : "", r.nleft);
    return r.nleft ? EXIT_PROBLEMS : EXIT_OK;
}
