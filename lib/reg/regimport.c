/* SPDX-License-Identifier: GPL-2.0-or-later */
/* .reg import: "Windows Registry Editor Version 5.00" (UTF-16LE with BOM, or UTF-8) and "REGEDIT4" (8-bit,
 * read as Latin-1) files; "[KEY]", "[-KEY]", "name"=data, @=data, "v"=-, hex continuations, ";" comments.
 * The whole file is parsed into a list of operations first, so a syntax error changes nothing. */
#include "reg_int.h"
#include "regtext.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "core/bytes.h"
#include "core/utf16.h"

enum op_kind { OP_KEY, OP_DELKEY, OP_SET, OP_DELVAL };

struct op {
    enum op_kind kind;
    int line;
    char *path;    /* OP_KEY, OP_DELKEY: subkey inside the hive */
    vk_reg_value v; /* OP_SET (name, type, data), OP_DELVAL (name) */
};

struct parser {
    const vk_reg_path *id;
    bool r4;
    struct op *ops;
    size_t nops, cap;
    vk_error *err;
};

static void free_ops(struct op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ops[i].path);
        vk_reg_value_free(&ops[i].v);
    }
    free(ops);
}

static struct op *add_op(struct parser *p)
{
    if (p->nops == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        struct op *n = realloc(p->ops, nc * sizeof *n);
        if (!n)
            return NULL;
        p->ops = n;
        p->cap = nc;
    }
    struct op *o = &p->ops[p->nops++];
    memset(o, 0, sizeof *o);
    return o;
}

/* The file as UTF-8 text, from its BOM or header. */
static int decode_text(const uint8_t *t, size_t len, bool *r4, char **out, vk_error *err)
{
    char *s;
    if (len >= 2 && ((t[0] == 0xFF && t[1] == 0xFE) || (t[0] == 0xFE && t[1] == 0xFF))) {
        size_t cap = (len - 2) / 2 * 3 + 1;
        s = malloc(cap);
        if (!s)
            return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for the .reg text");
        if (vk_utf16_to_utf8(t + 2, (len - 2) & ~(size_t)1, t[0] == 0xFF ? VK_UTF16_LE : VK_UTF16_BE, s, cap) < 0) {
            free(s);
            return vk_fail(err, VK_E_CORRUPT, NULL, VK_NO_OFFSET, ".reg file is not valid UTF-16");
        }
        *r4 = false;
        *out = s;
        return 0;
    }
    if (len >= 3 && t[0] == 0xEF && t[1] == 0xBB && t[2] == 0xBF) {
        t += 3;
        len -= 3;
    }
    *r4 = len >= strlen(REG4_HEADER) && !memcmp(t, REG4_HEADER, strlen(REG4_HEADER));
    s = malloc(len * 2 + 1);
    if (!s)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for the .reg text");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == 0)
            break;
        if (*r4 && t[i] >= 0x80) { /* Latin-1 to UTF-8 */
            s[n++] = (char)(0xC0 | (t[i] >> 6));
            s[n++] = (char)(0x80 | (t[i] & 0x3F));
        } else {
            s[n++] = (char)t[i];
        }
    }
    s[n] = 0;
    *out = s;
    return 0;
}

static int fail_line(struct parser *p, int line, const char *what, const char *near)
{
    return vk_fail(p->err, VK_E_CORRUPT, NULL, VK_NO_OFFSET, "line %d: %s%s%.60s%s", line, what, near ? " near \"" : "",
                   near ? near : "", near ? "\"" : "");
}

/* A quoted string starting at *s (after the opening quote), with \\ and \" escapes; *s ends after the closing quote. */
static char *parse_quoted(const char **s)
{
    const char *q = *s;
    size_t len = strlen(q);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (; *q && *q != '"'; q++) {
        if (*q == '\\' && (q[1] == '\\' || q[1] == '"'))
            q++;
        out[n++] = *q;
    }
    if (*q != '"') {
        free(out);
        return NULL;
    }
    out[n] = 0;
    *s = q + 1;
    return out;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool rest_is_blank(const char *s)
{
    s = skip_ws(s);
    return !*s || *s == ';';
}

/* UTF-8 to UTF-16LE with the terminating NUL unit (REG_SZ from a "string"). */
static int to_utf16z(const char *s, uint8_t **data, size_t *len)
{
    size_t cap = strlen(s) * 2 + 2;
    uint8_t *d = malloc(cap);
    if (!d)
        return VK_E_NOMEM;
    int r = vk_utf8_to_utf16(s, VK_UTF16_LE, d, cap);
    if (r < 0) {
        free(d);
        return r;
    }
    d[r] = 0;
    d[r + 1] = 0;
    *data = d;
    *len = (size_t)r + 2;
    return 0;
}

/* hex bytes "xx,xx,..." possibly spread over continuation lines (already joined by the caller). */
static int parse_hex_list(struct parser *p, int line, const char *s, vk_reg_value *v)
{
    size_t cap = strlen(s) / 2 + 1;
    uint8_t *d = malloc(cap);
    if (!d)
        return vk_fail(p->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    size_t n = 0;
    s = skip_ws(s);
    while (*s && *s != ';') {
        if (!isxdigit((unsigned char)s[0])) {
            free(d);
            return fail_line(p, line, "expected a hex byte", s);
        }
        unsigned b = 0;
        int digits = 0;
        while (isxdigit((unsigned char)*s) && digits < 3) {
            b = b * 16 + (unsigned)(isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
            s++;
            digits++;
        }
        if (digits > 2) {
            free(d);
            return fail_line(p, line, "hex byte with more than two digits", s - digits);
        }
        d[n++] = (uint8_t)b;
        s = skip_ws(s);
        if (*s == ',')
            s = skip_ws(s + 1);
        else if (*s && *s != ';') {
            free(d);
            return fail_line(p, line, "expected a comma between hex bytes", s);
        }
    }
    if (p->r4 && (v->type == VK_REG_EXPAND_SZ || v->type == VK_REG_MULTI_SZ)) {
        /* REGEDIT4 keeps these strings 8-bit: widen to UTF-16LE. */
        uint8_t *w = malloc(n * 2 + 1);
        if (!w) {
            free(d);
            return vk_fail(p->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
        }
        for (size_t i = 0; i < n; i++) {
            w[2 * i] = d[i];
            w[2 * i + 1] = 0;
        }
        free(d);
        d = w;
        n *= 2;
    }
    v->data = d;
    v->len = n;
    return 0;
}

/* The data after '=' of a value line. */
static int parse_data(struct parser *p, int line, const char *s, struct op *o)
{
    s = skip_ws(s);
    vk_reg_value *v = &o->v;
    if (*s == '-' && rest_is_blank(s + 1)) {
        o->kind = OP_DELVAL;
        return 0;
    }
    o->kind = OP_SET;
    if (*s == '"') {
        s++;
        char *str = parse_quoted(&s);
        if (!str)
            return fail_line(p, line, "string without closing quote", NULL);
        if (!rest_is_blank(s)) {
            free(str);
            return fail_line(p, line, "unexpected text after the string", s);
        }
        v->type = VK_REG_SZ;
        int rc = to_utf16z(str, &v->data, &v->len);
        free(str);
        return rc < 0 ? fail_line(p, line, "string is not valid text", NULL) : 0;
    }
    if (!strncasecmp(s, "dword:", 6)) {
        s += 6;
        char *end;
        size_t nd = strspn(s, "0123456789abcdefABCDEF");
        unsigned long val = strtoul(s, &end, 16);
        if (nd == 0 || nd > 8 || !rest_is_blank(s + nd))
            return fail_line(p, line, "dword needs 1 to 8 hex digits", s);
        v->type = VK_REG_DWORD;
        v->data = malloc(4);
        if (!v->data)
            return vk_fail(p->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
        put_le32(v->data, (uint32_t)val);
        v->len = 4;
        return 0;
    }
    if (!strncasecmp(s, "hex:", 4)) {
        v->type = VK_REG_BINARY;
        return parse_hex_list(p, line, s + 4, v);
    }
    if (!strncasecmp(s, "hex(", 4)) {
        char *end;
        unsigned long t = strtoul(s + 4, &end, 16);
        if (end == s + 4 || end[0] != ')' || end[1] != ':' || t > UINT32_MAX)
            return fail_line(p, line, "bad hex(N): type", s);
        v->type = (uint32_t)t;
        return parse_hex_list(p, line, end + 2, v);
    }
    return fail_line(p, line, "unknown value data", s);
}

static int parse_key_line(struct parser *p, int line, char *s, bool *in_key)
{
    char *end = strrchr(s, ']');
    if (!end || !rest_is_blank(end + 1))
        return fail_line(p, line, "key line without closing ]", s);
    *end = 0;
    bool del = s[1] == '-';
    const char *name = s + 1 + (del ? 1 : 0);
    vk_reg_path kp;
    vk_error perr;
    if (vk_reg_path_parse(name, p->id->user[0] ? p->id->user : NULL, &kp, &perr) < 0)
        return fail_line(p, line, perr.msg, NULL);
    if (kp.root != p->id->root || strcasecmp(kp.user, p->id->user) != 0)
        return fail_line(p, line, "key belongs to another hive:", name);
    if (reg_check_name(kp.subkey, NULL) < 0)
        return fail_line(p, line, "key name is not valid text", NULL);
    struct op *o = add_op(p);
    if (!o || !(o->path = strdup(kp.subkey)))
        return vk_fail(p->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    o->kind = del ? OP_DELKEY : OP_KEY;
    o->line = line;
    *in_key = !del;
    return 0;
}

static int parse_value_line(struct parser *p, int line, const char *s)
{
    char *name;
    if (*s == '@') {
        name = strdup("");
        s++;
    } else {
        s++;
        name = parse_quoted(&s);
        if (!name)
            return fail_line(p, line, "value name without closing quote", NULL);
    }
    if (!name)
        return vk_fail(p->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    s = skip_ws(s);
    if (reg_check_name(name, NULL) < 0) {
        free(name);
        return fail_line(p, line, "value name is not valid text", NULL);
    }
    if (*s != '=') {
        free(name);
        return fail_line(p, line, "expected = after the value name", s);
    }
    struct op *o = add_op(p);
    if (!o) {
        free(name);
        return vk_fail(p->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    }
    o->line = line;
    o->v.name = name;
    return parse_data(p, line, s + 1, o);
}

static int parse(struct parser *p, char *text)
{
    int line = 0;
    bool header = false, in_key = false;
    char *save = text;
    struct rbuf joined = {0};
    int rc = 0;
    while (rc == 0 && save) {
        char *l = save;
        size_t n = strcspn(l, "\r\n");
        save = l[n] ? l + n + (l[n] == '\r' && l[n + 1] == '\n' ? 2 : 1) : NULL;
        l[n] = 0;
        line++;
        const char *s = skip_ws(l);
        if (!*s || *s == ';')
            continue;
        if (!header) {
            if (strcmp(s, REG5_HEADER) && strcmp(s, REG4_HEADER))
                rc = fail_line(p, line, "not a .reg file: the first line must be \"" REG5_HEADER "\" or \"" REG4_HEADER "\"", NULL);
            p->r4 = !strcmp(s, REG4_HEADER);
            header = true;
            continue;
        }
        if (*s == '[') {
            rc = parse_key_line(p, line, (char *)s, &in_key);
            continue;
        }
        if (*s != '"' && *s != '@') {
            rc = fail_line(p, line, "expected [key], \"name\"= or @=", s);
            continue;
        }
        if (!in_key) {
            rc = fail_line(p, line, "value outside a [key] section", s);
            continue;
        }
        /* Join continuation lines: hex data ending in a backslash goes on with the next line. */
        int first = line;
        joined.n = 0;
        rb_str(&joined, s);
        bool hex = strstr(s, "=hex") || strstr(s, "= hex");
        while (hex && joined.n && !joined.oom) {
            size_t e = joined.n;
            while (e && (joined.p[e - 1] == ' ' || joined.p[e - 1] == '\t'))
                e--;
            if (!e || joined.p[e - 1] != '\\' || !save)
                break;
            joined.n = e - 1;
            char *nl = save;
            size_t m = strcspn(nl, "\r\n");
            save = nl[m] ? nl + m + (nl[m] == '\r' && nl[m + 1] == '\n' ? 2 : 1) : NULL;
            nl[m] = 0;
            line++;
            rb_str(&joined, skip_ws(nl));
        }
        if (joined.oom)
            rc = vk_fail(p->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
        else
            rc = parse_value_line(p, first, joined.p);
    }
    free(joined.p);
    if (rc == 0 && !header)
        rc = vk_fail(p->err, VK_E_CORRUPT, NULL, VK_NO_OFFSET, "empty .reg file");
    return rc;
}

/* Apply the values of one [key] section at once: one hivex call per section. */
static int apply(vk_reg_hive *h, struct op *ops, size_t n, vk_error *err)
{
    /* Files list keys depth-first, so most keys sit just below the previous one: walk from there. */
    const char *prev = NULL;
    vk_reg_key prev_key = 0;
    for (size_t i = 0; i < n;) {
        struct op *o = &ops[i++];
        if (o->kind == OP_DELKEY) {
            prev = NULL;
            int rc = vk_reg_key_delete(h, o->path, err);
            if (rc < 0 && rc != VK_E_NOTFOUND)
                return rc;
            continue;
        }
        vk_reg_key key;
        size_t pl = prev ? strlen(prev) : 0;
        int rc;
        if (prev && pl && !strncmp(o->path, prev, pl) && o->path[pl] == '\\')
            rc = reg_key_create_below(h, prev_key, o->path + pl + 1, &key, err);
        else
            rc = vk_reg_key_create(h, o->path, &key, err);
        if (rc < 0)
            return rc;
        prev = o->path;
        prev_key = key;
        if (i == n || (ops[i].kind != OP_SET && ops[i].kind != OP_DELVAL))
            continue;
        vk_reg_value *vals;
        size_t nv;
        rc = vk_reg_values(h, key, &vals, &nv, err);
        if (rc < 0)
            return rc;
        for (; i < n && (ops[i].kind == OP_SET || ops[i].kind == OP_DELVAL); i++) {
            vk_reg_value *v = &ops[i].v;
            size_t j = 0;
            while (j < nv && reg_name_cmp(vals[j].name, v->name) != 0)
                j++;
            if (ops[i].kind == OP_DELVAL) {
                if (j < nv) {
                    vk_reg_value_free(&vals[j]);
                    memmove(&vals[j], &vals[j + 1], (nv - j - 1) * sizeof *vals);
                    nv--;
                }
                continue;
            }
            if (j == nv) {
                vk_reg_value *nvv = realloc(vals, (nv + 1) * sizeof *vals);
                if (!nvv) {
                    vk_reg_values_free(vals, nv);
                    return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
                }
                vals = nvv;
                vals[nv++] = (vk_reg_value){.name = v->name};
                v->name = NULL;
            }
            free(vals[j].data);
            vals[j].type = v->type;
            vals[j].data = v->data;
            vals[j].len = v->len;
            v->data = NULL;
        }
        rc = reg_values_store(h, key, vals, nv, err);
        vk_reg_values_free(vals, nv);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int vk_reg_import(vk_reg_hive *h, const vk_reg_path *hive_id, const uint8_t *text, size_t len, vk_error *err)
{
    int rc = reg_check_writable(h, err);
    if (rc < 0)
        return rc;
    char *s = NULL;
    bool r4 = false;
    rc = decode_text(text, len, &r4, &s, err);
    if (rc < 0)
        return rc;
    struct parser p = {.id = hive_id, .r4 = r4, .err = err};
    rc = parse(&p, s);
    free(s);
    if (rc == 0) {
        rc = apply(h, p.ops, p.nops, err);
        if (rc < 0)
            h->broken = true; /* part of the file may have landed: this transaction cannot be committed */
    }
    free_ops(p.ops, p.nops);
    return rc;
}
