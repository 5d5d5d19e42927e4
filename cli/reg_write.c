/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit reg set, del, import: each changes one hive in memory and commits it back whole (one transaction). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_int.h"

/* The DATA arguments as the text vk_reg_value_parse reads: multi_sz strings are the arguments, each split at a
 * literal "\0" too, joined by '\n'. */
static char *data_text(struct ctx *c, uint32_t type)
{
    size_t n = 1;
    for (int i = 4; i < c->args.npos; i++)
        n += strlen(c->args.pos[i]) + 1;
    char *t = malloc(n), *o = t;
    if (!t)
        return NULL;
    for (int i = 4; i < c->args.npos; i++) {
        if (i > 4)
            *o++ = '\n';
        for (const char *p = c->args.pos[i]; *p; p++) {
            if (type == VK_REG_MULTI_SZ && p[0] == '\\' && p[1] == '0') {
                *o++ = '\n';
                p++;
            } else {
                *o++ = *p;
            }
        }
    }
    *o = '\0';
    return t;
}

int reg_set(struct ctx *c)
{
    uint32_t type = VK_REG_SZ;
    vk_error err = {0};
    const char *ts = arg_str(&c->args, "type");
    if (ts && vk_reg_type_parse(ts, &type, &err))
        return report_error(&err);
    int ndata = c->args.npos - 4;
    if (type != VK_REG_MULTI_SZ && ndata > 1)
        return usage_error("reg", "reg set: one DATA argument for this type (several only for multi_sz)");
    if (ndata == 0 && type != VK_REG_NONE && type != VK_REG_BINARY && type != VK_REG_MULTI_SZ &&
        type != VK_REG_SZ && type != VK_REG_EXPAND_SZ)
        return usage_error("reg", "reg set: DATA missing");
    char *text = data_text(c, type);
    if (!text)
        return report_error(&(vk_error){.code = VK_E_NOMEM});
    vk_reg_value v = {0};
    int rc = vk_reg_value_parse(type, text, &v, &err);
    free(text);
    if (rc)
        return report_error(&err);
    struct reg r;
    int st = reg_open(&r, c, c->args.pos[2], true);
    if (st) {
        vk_reg_value_free(&v);
        return st;
    }
    vk_reg_key k;
    rc = arg_has(&c->args, "parents") ? vk_reg_key_create(r.h, r.path.subkey, &k, &r.err)
                                      : vk_reg_key_find(r.h, r.path.subkey, &k, &r.err);
    v.name = (char *)c->args.pos[3];
    if (!rc)
        rc = vk_reg_value_set(r.h, k, &v, &r.err);
    v.name = NULL;
    vk_reg_value_free(&v);
    if (rc) {
        st = reg_fail(&r);
        if (rc == VK_E_NOTFOUND && !arg_has(&c->args, "parents"))
            fprintf(stderr, "vhdkit: reg set: add -p to create the missing keys\n");
    }
    return reg_close(&r, st, true);
}

int reg_del(struct ctx *c)
{
    struct reg r;
    int st = reg_open(&r, c, c->args.pos[2], true);
    if (st)
        return st;
    vk_reg_key k;
    if (vk_reg_key_find(r.h, r.path.subkey, &k, &r.err))
        return reg_close(&r, reg_fail(&r), false);
    int rc;
    if (c->args.npos == 4) {
        rc = vk_reg_value_delete(r.h, k, c->args.pos[3], &r.err);
    } else {
        char **names;
        size_t n;
        if (!r.path.subkey[0])
            return reg_close(&r, usage_error("reg", "reg del: the root key of a hive cannot be deleted"), false);
        rc = vk_reg_key_subkeys(r.h, k, &names, &n, &r.err);
        if (!rc) {
            vk_reg_names_free(names, n);
            if (n && !arg_has(&c->args, "recursive"))
                return reg_close(&r, usage_error("reg", "reg del: the key has %zu subkeys: add -r to delete them too", n),
                                 false);
            rc = vk_reg_key_delete(r.h, r.path.subkey, &r.err);
        }
    }
    return reg_close(&r, rc ? reg_fail(&r) : 0, true);
}

/* The first key line of a .reg file ("[HKEY_...]" or "[-HKEY_...]") in UTF-8, to know which hive it changes. */
static int first_key(const uint8_t *text, size_t len, char *out, size_t cap)
{
    bool utf16 = len >= 2 && text[0] == 0xff && text[1] == 0xfe;
    size_t o = 0;
    bool in = false;
    for (size_t i = utf16 ? 2 : 0; i < len; i += utf16 ? 2 : 1) {
        unsigned ch = text[i] | (utf16 && i + 1 < len ? (unsigned)text[i + 1] << 8 : 0u);
        if (!in) {
            in = ch == '[';
            continue;
        }
        if (ch == ']' || ch == '\r' || ch == '\n')
            break;
        if (o == 0 && ch == '-')
            continue;
        /* Root names are ASCII; the rest of the key is not needed here. */
        if (ch == '\\' && o >= cap / 2)
            break;
        if (o + 1 >= cap)
            break;
        out[o++] = ch < 0x80 ? (char)ch : '?';
    }
    out[o] = '\0';
    return o ? 0 : -1;
}

static int read_file(const char *path, uint8_t **out, size_t *len, vk_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "cannot open");
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    int rc = 0;
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap >= ((size_t)1 << 31)) {
            rc = vk_fail(err, VK_E_RANGE, path, VK_NO_OFFSET, "larger than 2 GiB: not a .reg file for one hive");
            break;
        }
        uint8_t *g = realloc(b, cap * 2);
        if (!g) {
            free(b);
            b = NULL;
            break;
        }
        b = g;
        cap *= 2;
    }
    if (!b)
        rc = vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    else if (!rc && ferror(f))
        rc = vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "read failed");
    fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    *len = n;
    return 0;
}

int reg_import(struct ctx *c)
{
    vk_error err = {0};
    uint8_t *text = NULL;
    size_t len = 0;
    if (read_file(c->args.pos[2], &text, &len, &err))
        return report_error(&err);
    char key[VK_REG_PATH_MAX];
    if (first_key(text, len, key, sizeof key)) {
        free(text);
        vk_fail(&err, VK_E_CORRUPT, c->args.pos[2], VK_NO_OFFSET, "no [KEY] line: not a .reg file");
        return report_error(&err);
    }
    struct reg r;
    int st = reg_open(&r, c, key, true);
    if (st) {
        free(text);
        return st;
    }
    int rc = vk_reg_import(r.h, &r.path, text, len, &r.err);
    free(text);
    if (rc && !r.err.file[0])
        snprintf(r.err.file, sizeof r.err.file, "%s", c->args.pos[2]);
    return reg_close(&r, rc ? reg_fail(&r) : 0, true);
}
