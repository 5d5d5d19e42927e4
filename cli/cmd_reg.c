/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit reg: the registry of the Windows inside an image (issue 5): subcommand dispatch, opening the hive of a key
 * (with its logs) and committing it back, one command one transaction. */
#include <stdio.h>
#include <string.h>

#include "reg_int.h"

const struct opt opts_reg[] = {
    {"type", 't', "T", "set: the value's type: sz, expand_sz, multi_sz, dword, qword, binary, none, or a number"},
    {"parents", 'p', NULL, "set: create the missing keys"},
    {"recursive", 'r', NULL, "del: delete a key with its subkeys"},
    {"raw", 0, NULL, "get: the value's stored bytes to standard output"},
    {"utf8", 0, NULL, "export: UTF-8 instead of regedit's UTF-16LE"},
    {"regedit4", 0, NULL, "export: the old REGEDIT4 format (8-bit)"},
    {"user", 'u', "NAME", "the user HKCU means (their NTUSER.DAT)"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

static const struct {
    const char *name;
    int (*fn)(struct ctx *c);
    int min_pos, max_pos; /* counting the subcommand */
} subs[] = {
    {"del", reg_del, 3, 4},       {"export", reg_export, 3, 4}, {"get", reg_get, 3, 4},
    {"import", reg_import, 3, 3}, {"ls", reg_ls, 2, 3},         {"set", reg_set, 4, POS_MAX},
};

int cmd_reg(struct ctx *c)
{
    const char *sub = c->args.pos[0];
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(sub, subs[i].name))
            continue;
        if (c->args.npos < subs[i].min_pos)
            return usage_error("reg", "reg %s: missing argument", sub);
        if (c->args.npos > subs[i].max_pos)
            return usage_error("reg", "reg %s: too many arguments", sub);
        return subs[i].fn(c);
    }
    return usage_error("reg", "'%s' is not a reg subcommand (ls, get, set, del, export, import)", sub);
}

int reg_fail(struct reg *r)
{
    int st;
    if (r->file[0] && r->v.image && !strcmp(r->err.file, r->file)) {
        /* About the hive file: say which image holds it too. */
        char buf[VK_ERR_MSG_MAX + VK_ERR_FILE_MAX + 256];
        vk_error_format(&r->err, buf, sizeof buf);
        fprintf(stderr, "vhdkit: %s: %s\n", r->v.image, buf);
        st = vk_exit_status(r->err.code);
    } else {
        st = report_error(&r->err);
    }
    vk_error_clear(&r->err);
    return st;
}

int reg_open(struct reg *r, struct ctx *c, const char *key, bool rw)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->rw = rw;
    if (vk_reg_path_parse(key, arg_str(&c->args, "user"), &r->path, &r->err))
        return reg_fail(r);
    int st = vol_open(c, c->args.pos[1], rw, &r->v);
    if (st)
        return st;
    /* get and ls look at one key: the lazy reader takes only the bins on its path out of the volume (the whole
     * hive for export and for the commands that write it back). */
    bool one_key = !strcmp(c->args.pos[0], "get") || !strcmp(c->args.pos[0], "ls");
    unsigned flags = rw ? VK_REG_OPEN_WRITE : one_key ? VK_REG_OPEN_LAZY : 0;
    if (vk_reg_volume_find(r->v.ntfs, &r->path, r->file, &r->err) ||
        vk_reg_volume_open(r->v.ntfs, r->file, flags, &r->h, &r->err)) {
        st = reg_fail(r);
        vol_close(&r->v);
        return st;
    }
    const char *w = vk_reg_hive_warning(r->h);
    if (*w)
        fprintf(stderr, "vhdkit: %s: %s: %s\n", r->v.image, r->file, w);
    else if (vk_reg_hive_replayed(r->h))
        fprintf(stderr, "vhdkit: %s: %s: the hive was dirty: %u log entries replayed%s\n", r->v.image, r->file,
                vk_reg_hive_replayed(r->h), rw ? " (the logs are emptied when it is written back)" : "");
    return 0;
}

int reg_close(struct reg *r, int st, bool commit)
{
    if (!st && commit && r->h && vk_reg_volume_commit(r->v.ntfs, r->file, r->h, &r->err)) {
        st = reg_fail(r);
        if (st == EXIT_REFUSED)
            fprintf(stderr, "vhdkit: nothing was written; recover the hive in Windows (boot it once) first\n");
    }
    vk_reg_hive_close(r->h);
    r->h = NULL;
    int cst = vol_close(&r->v);
    return st ? st : cst;
}
