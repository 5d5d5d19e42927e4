/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit reg: the state its subcommands share (the image's volume, the hive of the key, the key inside it). */
#ifndef VK_CLI_REG_INT_H
#define VK_CLI_REG_INT_H

#include "cli.h"
#include "vhdkit/reg.h"

struct reg {
    struct ctx *c;
    struct vol v;
    bool rw;
    vk_reg_path path;                /* the key asked for, split into hive and subkey */
    char file[VK_REG_FILE_MAX];      /* its hive file in the volume */
    vk_reg_hive *h;
    vk_error err;
};

/* Opens IMAGE (pos[1]), finds the hive of `key` (with --user for HKCU) and opens it, replaying a dirty hive's logs
 * with a note on stderr. Returns 0 or the exit status after reporting. */
int reg_open(struct reg *r, struct ctx *c, const char *key, bool rw);
/* Commits (when `commit`) and closes everything; returns `st`, or the status of the first failure. */
int reg_close(struct reg *r, int st, bool commit);
/* Reports r->err and returns the exit status. */
int reg_fail(struct reg *r);

int reg_ls(struct ctx *c);
int reg_get(struct ctx *c);
int reg_export(struct ctx *c);
int reg_set(struct ctx *c);
int reg_del(struct ctx *c);
int reg_import(struct ctx *c);

#endif
