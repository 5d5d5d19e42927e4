/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit reg ls, get, export: hives found, subkeys and values, typed or raw values, .reg text of a subtree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_int.h"

static int list_hives(struct ctx *c)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[1], false, &v);
    if (st)
        return st;
    vk_error err = {0};
    vk_reg_found *list;
    size_t n;
    if (vk_reg_volume_list(v.ntfs, &list, &n, &err)) {
        st = report_error(&err);
        vol_close(&v);
        return st;
    }
    struct out o;
    out_init(&o, stdout, c->json);
    out_begin(&o);
    if (c->json)
        out_array(&o, "hives");
    for (size_t i = 0; i < n; i++) {
        char root[VK_REG_PATH_MAX];
        if (vk_reg_root_name(&list[i].id, root, sizeof root, &err)) {
            st = report_error(&err);
            break;
        }
        if (c->json) {
            out_object(&o, NULL);
            out_str(&o, "key", root);
            out_str(&o, "file", list[i].file);
            out_close(&o);
        } else {
            printf("%-40s %s\n", root, list[i].file);
        }
    }
    if (c->json)
        out_close(&o);
    out_end(&o);
    free(list);
    int cst = vol_close(&v);
    return st ? st : cst;
}

static void out_value(struct out *o, const vk_reg_value *v, const char *text)
{
    char tb[16];
    out_str(o, "name", v->name);
    out_str(o, "type", vk_reg_type_name(v->type, tb));
    out_u64(o, "type_code", v->type);
    out_u64(o, "size", v->len);
    out_str(o, "data", text);
}

/* One value as text: "name", type, data (multi_sz strings joined by "\0" on one line). */
static void print_value_line(const vk_reg_value *v, const char *text)
{
    char tb[16];
    printf("%s\t%s\t", *v->name ? v->name : "(default)", vk_reg_type_name(v->type, tb));
    for (const char *p = text; *p; p++)
        if (*p == '\n' && v->type == VK_REG_MULTI_SZ)
            fputs("\\0", stdout);
        else
            putchar(*p);
    putchar('\n');
}

static int print_values(struct reg *r, vk_reg_key k, struct out *o)
{
    vk_reg_value *vals;
    size_t n;
    if (vk_reg_values(r->h, k, &vals, &n, &r->err))
        return reg_fail(r);
    int st = 0;
    if (r->c->json)
        out_array(o, "values");
    for (size_t i = 0; i < n && !st; i++) {
        char *text;
        if (vk_reg_value_format(&vals[i], &text, &r->err)) {
            st = reg_fail(r);
            break;
        }
        if (r->c->json) {
            out_object(o, NULL);
            out_value(o, &vals[i], text);
            out_close(o);
        } else {
            print_value_line(&vals[i], text);
        }
        free(text);
    }
    if (r->c->json)
        out_close(o);
    vk_reg_values_free(vals, n);
    return st;
}

static int full_key(struct reg *r, char *buf, size_t cap)
{
    char root[VK_REG_PATH_MAX];
    if (vk_reg_root_name(&r->path, root, sizeof root, &r->err))
        return reg_fail(r);
    snprintf(buf, cap, "%s%s%s", root, r->path.subkey[0] ? "\\" : "", r->path.subkey);
    return 0;
}

int reg_ls(struct ctx *c)
{
    if (c->args.npos == 2)
        return list_hives(c);
    struct reg r;
    int st = reg_open(&r, c, c->args.pos[2], false);
    if (st)
        return st;
    vk_reg_key k;
    char **names = NULL;
    size_t n = 0;
    if (vk_reg_key_find(r.h, r.path.subkey, &k, &r.err) || vk_reg_key_subkeys(r.h, k, &names, &n, &r.err))
        return reg_close(&r, reg_fail(&r), false);
    char key[2 * VK_REG_PATH_MAX + 2];
    st = full_key(&r, key, sizeof key);
    struct out o;
    out_init(&o, stdout, c->json);
    out_begin(&o);
    if (c->json) {
        out_str(&o, "key", key);
        out_str(&o, "file", r.file);
        out_array(&o, "subkeys");
        for (size_t i = 0; i < n; i++)
            out_str(&o, NULL, names[i]);
        out_close(&o);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%s\\\n", names[i]);
    }
    vk_reg_names_free(names, n);
    if (!st)
        st = print_values(&r, k, &o);
    out_end(&o);
    return reg_close(&r, st, false);
}

int reg_get(struct ctx *c)
{
    struct reg r;
    int st = reg_open(&r, c, c->args.pos[2], false);
    if (st)
        return st;
    vk_reg_key k;
    if (vk_reg_key_find(r.h, r.path.subkey, &k, &r.err))
        return reg_close(&r, reg_fail(&r), false);
    struct out o;
    out_init(&o, stdout, c->json);
    if (c->args.npos == 3) {
        if (arg_has(&c->args, "raw"))
            return reg_close(&r, usage_error("reg", "reg get --raw needs a VALUE name"), false);
        out_begin(&o);
        st = print_values(&r, k, &o);
        out_end(&o);
        return reg_close(&r, st, false);
    }
    vk_reg_value v;
    if (vk_reg_value_get(r.h, k, c->args.pos[3], &v, &r.err))
        return reg_close(&r, reg_fail(&r), false);
    char *text = NULL;
    if (arg_has(&c->args, "raw")) {
        if (v.len && fwrite(v.data, 1, v.len, stdout) != v.len)
            st = EXIT_IO;
    } else if (vk_reg_value_format(&v, &text, &r.err)) {
        st = reg_fail(&r);
    } else if (c->json) {
        out_begin(&o);
        char key[2 * VK_REG_PATH_MAX + 2];
        if (!(st = full_key(&r, key, sizeof key)))
            out_str(&o, "key", key);
        out_value(&o, &v, text);
        out_end(&o);
    } else {
        printf("%s\n", text);
    }
    free(text);
    vk_reg_value_free(&v);
    return reg_close(&r, st, false);
}

int reg_export(struct ctx *c)
{
    if (arg_has(&c->args, "utf8") && arg_has(&c->args, "regedit4"))
        return usage_error("reg", "--utf8 and --regedit4 exclude each other");
    enum vk_reg_format fmt = arg_has(&c->args, "utf8")       ? VK_REG_FMT_UTF8
                             : arg_has(&c->args, "regedit4") ? VK_REG_FMT_REGEDIT4
                                                             : VK_REG_FMT_UTF16;
    struct reg r;
    int st = reg_open(&r, c, c->args.pos[2], false);
    if (st)
        return st;
    char root[VK_REG_PATH_MAX];
    uint8_t *text = NULL;
    size_t len = 0;
    if (vk_reg_root_name(&r.path, root, sizeof root, &r.err) ||
        vk_reg_export(r.h, r.path.subkey, root, fmt, &text, &len, &r.err))
        return reg_close(&r, reg_fail(&r), false);
    const char *dest = c->args.npos == 4 ? c->args.pos[3] : NULL;
    FILE *f = dest ? fopen(dest, "wb") : stdout;
    if (!f) {
        vk_fail_errno(&r.err, VK_E_IO, errno, dest, VK_NO_OFFSET, "cannot create the file");
        st = reg_fail(&r);
    } else {
        bool bad = len && fwrite(text, 1, len, f) != len;
        if (dest)
            bad = fclose(f) != 0 || bad;
        if (bad && dest) {
            vk_fail_errno(&r.err, VK_E_IO, errno, dest, VK_NO_OFFSET, "write failed");
            st = reg_fail(&r);
        } else if (bad) {
            st = EXIT_IO;
        }
    }
    free(text);
    return reg_close(&r, st, false);
}
