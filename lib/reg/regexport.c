/* SPDX-License-Identifier: GPL-2.0-or-later */
/* .reg export as regedit writes it: header, "[key]" sections in depth-first order with subkeys sorted as
 * Windows sorts them, "name"=data lines, hex data wrapped at 80 columns with "\" continuations.
 * Data that a string or dword form would not give back byte for byte (no final NUL, embedded NUL, CR/LF,
 * odd length) is written as hex(N) so that export then import reproduces the hive exactly. */
#include "reg_int.h"
#include "regtext.h"

#include <stdio.h>

#include "core/bytes.h"
#include "core/utf16.h"

#define MAX_DEPTH 512

struct exporter {
    vk_reg_hive *h;
    enum vk_reg_format fmt;
    struct rbuf out;
    vk_error *err;
};

static void put_escaped(struct rbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            rb_put(b, "\\", 1);
        rb_put(b, s, 1);
    }
}

/* REGEDIT4 files are 8-bit: every character must fit (Latin-1 here). */
static bool fits_8bit(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0xC4) /* lead bytes 0xC2 and 0xC3 cover U+0080..U+00FF */
            return false;
    return true;
}

/* The UTF-8 form of a REG_SZ that round-trips as "string": NULL when hex must be used. */
static char *as_string(const vk_reg_value *v, bool regedit4)
{
    if (v->len < 2 || (v->len & 1) || v->data[v->len - 1] || v->data[v->len - 2])
        return NULL;
    for (size_t i = 0; i + 2 < v->len; i += 2) {
        unsigned u = get_le16(v->data + i);
        if (u == 0 || u == '\r' || u == '\n')
            return NULL;
    }
    size_t cap = v->len / 2 * 3 + 1;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    if (vk_utf16_to_utf8(v->data, v->len, VK_UTF16_LE, s, cap) < 0 || (regedit4 && !fits_8bit(s))) {
        free(s);
        return NULL;
    }
    return s;
}

static void put_hex(struct rbuf *b, const uint8_t *d, size_t n, size_t line_len)
{
    for (size_t i = 0; i < n; i++) {
        char x[3];
        snprintf(x, sizeof x, "%02x", d[i]);
        rb_put(b, x, 2);
        if (i + 1 == n)
            break;
        rb_put(b, ",", 1);
        line_len += 3;
        if (line_len >= REG_HEX_WRAP) {
            rb_str(b, "\\\r\n  ");
            line_len = 2;
        }
    }
}

static int put_value(struct exporter *x, const vk_reg_value *v)
{
    struct rbuf *b = &x->out;
    size_t start = b->n;
    bool r4 = x->fmt == VK_REG_FMT_REGEDIT4;
    if (!*v->name) {
        rb_str(b, "@=");
    } else {
        if (r4 && !fits_8bit(v->name))
            return vk_fail(x->err, VK_E_UNSUPPORTED, NULL, VK_NO_OFFSET,
                           "value name %s does not fit a REGEDIT4 file; use version 5", v->name);
        rb_str(b, "\"");
        put_escaped(b, v->name);
        rb_str(b, "\"=");
    }
    if (v->type == VK_REG_SZ) {
        char *s = as_string(v, r4);
        if (s) {
            rb_str(b, "\"");
            put_escaped(b, s);
            rb_str(b, "\"\r\n");
            free(s);
            return 0;
        }
    }
    if (v->type == VK_REG_DWORD && v->len == 4) {
        char t[20];
        snprintf(t, sizeof t, "dword:%08x\r\n", get_le32(v->data));
        rb_str(b, t);
        return 0;
    }
    const uint8_t *data = v->data;
    size_t len = v->len;
    uint8_t *narrow = NULL;
    if (r4 && (v->type == VK_REG_EXPAND_SZ || v->type == VK_REG_MULTI_SZ)) {
        /* REGEDIT4 stores these strings in the 8-bit code page. */
        if (len & 1)
            return vk_fail(x->err, VK_E_UNSUPPORTED, NULL, VK_NO_OFFSET, "value %s has odd-length string data", v->name);
        narrow = malloc(len / 2 + 1);
        if (!narrow)
            return vk_fail(x->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
        for (size_t i = 0; i < len; i += 2) {
            if (data[i + 1]) {
                free(narrow);
                return vk_fail(x->err, VK_E_UNSUPPORTED, NULL, VK_NO_OFFSET,
                               "value %s does not fit a REGEDIT4 file; use version 5", v->name);
            }
            narrow[i / 2] = data[i];
        }
        data = narrow;
        len /= 2;
    }
    char t[24];
    if (v->type == VK_REG_BINARY)
        snprintf(t, sizeof t, "hex:");
    else
        snprintf(t, sizeof t, "hex(%x):", (unsigned)v->type);
    rb_str(b, t);
    /* Columns used so far on this line count as regedit counts them: characters, not bytes. */
    size_t cols = 0;
    for (size_t i = start; i < b->n && b->p; i++)
        cols += ((unsigned char)b->p[i] & 0xC0) != 0x80;
    put_hex(b, data, len, cols);
    rb_str(b, "\r\n");
    free(narrow);
    return 0;
}

static int export_key(struct exporter *x, vk_reg_key key, const char *full, int depth)
{
    if (depth > MAX_DEPTH)
        return vk_fail(x->err, VK_E_CORRUPT, NULL, VK_NO_OFFSET, "keys nested deeper than %d levels (a loop?) at %.200s",
                       MAX_DEPTH, full);
    rb_str(&x->out, "[");
    rb_str(&x->out, full);
    rb_str(&x->out, "]\r\n");
    vk_reg_value *vals;
    size_t nv;
    int rc = vk_reg_values(x->h, key, &vals, &nv, x->err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nv && rc == 0; i++)
        rc = put_value(x, &vals[i]);
    vk_reg_values_free(vals, nv);
    if (rc < 0)
        return rc;
    rb_str(&x->out, "\r\n");
    struct reg_child *kids;
    size_t nk;
    rc = reg_children(x->h, key, &kids, &nk, x->err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nk && rc == 0; i++) {
        if (x->fmt == VK_REG_FMT_REGEDIT4 && !fits_8bit(kids[i].name)) {
            rc = vk_fail(x->err, VK_E_UNSUPPORTED, NULL, VK_NO_OFFSET,
                         "key name %s does not fit a REGEDIT4 file; use version 5", kids[i].name);
            break;
        }
        size_t len = strlen(full) + 1 + strlen(kids[i].name) + 1;
        char *sub = malloc(len);
        if (!sub) {
            rc = vk_fail(x->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a key path");
            break;
        }
        snprintf(sub, len, "%s\\%s", full, kids[i].name);
        rc = export_key(x, kids[i].node, sub, depth + 1);
        free(sub);
    }
    reg_children_free(kids, nk);
    return rc;
}

/* Final encoding of the UTF-8 text: UTF-16LE with BOM, UTF-8, or Latin-1. */
static int encode(struct exporter *x, uint8_t **out, size_t *len)
{
    const char *t = x->out.p;
    if (x->fmt == VK_REG_FMT_UTF8) {
        *out = (uint8_t *)x->out.p;
        *len = x->out.n;
        x->out.p = NULL;
        return 0;
    }
    size_t cap = x->fmt == VK_REG_FMT_UTF16 ? 2 + x->out.n * 2 : x->out.n + 1;
    uint8_t *b = malloc(cap);
    if (!b)
        return vk_fail(x->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for the .reg file");
    if (x->fmt == VK_REG_FMT_UTF16) {
        b[0] = 0xFF;
        b[1] = 0xFE;
        int r = vk_utf8_to_utf16(t, VK_UTF16_LE, b + 2, cap - 2);
        if (r < 0) {
            free(b);
            return vk_fail(x->err, VK_E_CORRUPT, NULL, VK_NO_OFFSET, "a name in the hive is not valid Unicode");
        }
        *len = 2 + (size_t)r;
    } else {
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
            if (*p >= 0xC0) {
                b[n++] = (uint8_t)(((p[0] & 0x03) << 6) | (p[1] & 0x3F));
                p++;
            } else {
                b[n++] = *p;
            }
        }
        *len = n;
    }
    *out = b;
    return 0;
}

int vk_reg_export(vk_reg_hive *h, const char *subkey, const char *root_name, enum vk_reg_format fmt, uint8_t **out,
                  size_t *len, vk_error *err)
{
    struct exporter x = {.h = h, .fmt = fmt, .err = err};
    if (fmt != VK_REG_FMT_UTF16 && fmt != VK_REG_FMT_UTF8 && fmt != VK_REG_FMT_REGEDIT4)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "unknown .reg format %d", (int)fmt);
    vk_reg_key key;
    int rc = vk_reg_key_find(h, subkey, &key, err);
    if (rc < 0)
        return rc;
    rb_str(&x.out, fmt == VK_REG_FMT_REGEDIT4 ? REG4_HEADER "\r\n\r\n" : REG5_HEADER "\r\n\r\n");
    size_t flen = strlen(root_name) + strlen(subkey) + 2;
    char *full = malloc(flen);
    if (!full)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a key path");
    snprintf(full, flen, "%s%s%s", root_name, *subkey ? "\\" : "", subkey);
    rc = export_key(&x, key, full, 0);
    free(full);
    if (rc == 0 && x.out.oom)
        rc = vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for the .reg text");
    if (rc == 0)
        rc = encode(&x, out, len);
    free(x.out.p);
    return rc;
}
