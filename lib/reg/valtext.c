/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Value types by name and value data as text (for `reg get` and `reg set`): strings are UTF-16LE in hives. */
#include "reg_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bytes.h"
#include "core/utf16.h"

static const struct {
    uint32_t type;
    const char *name;  /* REG_ name */
    const char *alias; /* short name for the command line */
} type_table[] = {
    {VK_REG_NONE, "REG_NONE", "none"},
    {VK_REG_SZ, "REG_SZ", "sz"},
    {VK_REG_EXPAND_SZ, "REG_EXPAND_SZ", "expand_sz"},
    {VK_REG_BINARY, "REG_BINARY", "binary"},
    {VK_REG_DWORD, "REG_DWORD", "dword"},
    {VK_REG_DWORD_BIG_ENDIAN, "REG_DWORD_BIG_ENDIAN", "dword_be"},
    {VK_REG_LINK, "REG_LINK", "link"},
    {VK_REG_MULTI_SZ, "REG_MULTI_SZ", "multi_sz"},
    {VK_REG_RESOURCE_LIST, "REG_RESOURCE_LIST", "resource_list"},
    {VK_REG_FULL_RESOURCE_DESCRIPTOR, "REG_FULL_RESOURCE_DESCRIPTOR", "full_resource_descriptor"},
    {VK_REG_RESOURCE_REQUIREMENTS_LIST, "REG_RESOURCE_REQUIREMENTS_LIST", "resource_requirements_list"},
    {VK_REG_QWORD, "REG_QWORD", "qword"},
};
#define NTYPES (sizeof type_table / sizeof type_table[0])

const char *vk_reg_type_name(uint32_t type, char buf[16])
{
    for (size_t i = 0; i < NTYPES; i++)
        if (type_table[i].type == type)
            return type_table[i].name;
    snprintf(buf, 16, "REG_0x%" PRIx32, type);
    return buf;
}

int vk_reg_type_parse(const char *text, uint32_t *type, vk_error *err)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (!strcasecmp(text, type_table[i].name) || !strcasecmp(text, type_table[i].alias)) {
            *type = type_table[i].type;
            return 0;
        }
    const char *num = !strncasecmp(text, "REG_", 4) ? text + 4 : text;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(num, &end, 0);
    if (*num && !*end && !errno && v <= UINT32_MAX && isdigit((unsigned char)*num)) {
        *type = (uint32_t)v;
        return 0;
    }
    return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "unknown value type: %s", text);
}

/* Growable text buffer. */
struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->n + n + 1) * 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

/* Append the UTF-16LE string at data[0..units*2) (stopping at NUL) as UTF-8. */
static int put_utf16(struct sbuf *b, const uint8_t *data, size_t nbytes, vk_error *err)
{
    size_t cap = nbytes / 2 * 3 + 1;
    char *tmp = malloc(cap);
    if (!tmp)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory to decode a string");
    int r = vk_utf16_to_utf8(data, nbytes & ~(size_t)1, VK_UTF16_LE, tmp, cap);
    if (r < 0) {
        free(tmp);
        return vk_fail(err, VK_E_CORRUPT, NULL, VK_NO_OFFSET, "string value is not valid UTF-16");
    }
    sb_put(b, tmp, (size_t)r);
    free(tmp);
    return 0;
}

static void put_hex(struct sbuf *b, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x[4];
        snprintf(x, sizeof x, i ? " %02x" : "%02x", d[i]);
        sb_put(b, x, strlen(x));
    }
}

int vk_reg_value_format(const vk_reg_value *v, char **text, vk_error *err)
{
    struct sbuf b = {0};
    sb_put(&b, "", 0);
    int rc = 0;
    char num[32];
    switch (v->type) {
    case VK_REG_SZ:
    case VK_REG_EXPAND_SZ:
    case VK_REG_LINK:
        rc = put_utf16(&b, v->data, v->len, err);
        break;
    case VK_REG_MULTI_SZ:
        for (size_t off = 0; off + 1 < v->len && rc == 0;) {
            size_t end = off;
            while (end + 1 < v->len && (v->data[end] || v->data[end + 1]))
                end += 2;
            if (end == off)
                break; /* the empty string ends the list */
            if (off)
                sb_put(&b, "\n", 1);
            rc = put_utf16(&b, v->data + off, end - off, err);
            off = end + 2;
        }
        break;
    case VK_REG_DWORD:
    case VK_REG_DWORD_BIG_ENDIAN:
        if (v->len == 4) {
            snprintf(num, sizeof num, "%" PRIu32, v->type == VK_REG_DWORD ? get_le32(v->data) : get_be32(v->data));
            sb_put(&b, num, strlen(num));
        } else
            put_hex(&b, v->data, v->len);
        break;
    case VK_REG_QWORD:
        if (v->len == 8) {
            snprintf(num, sizeof num, "%" PRIu64, get_le64(v->data));
            sb_put(&b, num, strlen(num));
        } else
            put_hex(&b, v->data, v->len);
        break;
    default:
        put_hex(&b, v->data, v->len);
    }
    if (rc == 0 && b.oom)
        rc = vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for value text");
    if (rc < 0) {
        free(b.p);
        return rc;
    }
    *text = b.p;
    return 0;
}

/* UTF-8 `s[0..n)` as UTF-16LE followed by a NUL unit, appended to out at *pos (capacity checked by caller). */
static int encode_str(const char *s, size_t n, uint8_t *out, size_t *pos, vk_error *err)
{
    char *tmp = strndup(s, n);
    if (!tmp)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory to encode a string");
    int r = vk_utf8_to_utf16(tmp, VK_UTF16_LE, out + *pos, n * 2);
    free(tmp);
    if (r < 0)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "string is not valid UTF-8");
    *pos += (size_t)r;
    out[(*pos)++] = 0;
    out[(*pos)++] = 0;
    return 0;
}

static int parse_hex_bytes(const char *text, uint8_t *out, size_t *len, vk_error *err)
{
    size_t n = 0;
    for (const char *p = text; *p;) {
        if (isspace((unsigned char)*p) || *p == ',' || *p == ':') {
            p++;
            continue;
        }
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
            return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "not a hex byte at \"%.10s\"", p);
        char h[3] = {p[0], p[1], 0};
        out[n++] = (uint8_t)strtoul(h, NULL, 16);
        p += 2;
    }
    *len = n;
    return 0;
}

static int parse_number(const char *text, uint64_t max, uint64_t *out, vk_error *err)
{
    *out = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (!*text || *end || errno || v > max || *text == '-')
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "not a number in range: %s", text);
    *out = v;
    return 0;
}

int vk_reg_value_parse(uint32_t type, const char *text, vk_reg_value *out, vk_error *err)
{
    size_t tl = strlen(text);
    size_t cap = tl * 2 + 4;
    uint8_t *d = malloc(cap < 8 ? 8 : cap);
    if (!d)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for value data");
    size_t len = 0;
    uint64_t num;
    int rc = 0;
    switch (type) {
    case VK_REG_SZ:
    case VK_REG_EXPAND_SZ:
    case VK_REG_LINK:
        rc = encode_str(text, tl, d, &len, err);
        break;
    case VK_REG_MULTI_SZ:
        for (const char *p = text; *p && rc == 0;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            rc = encode_str(p, n, d, &len, err);
            p += n + (nl ? 1 : 0);
        }
        d[len++] = 0;
        d[len++] = 0;
        break;
    case VK_REG_DWORD:
    case VK_REG_DWORD_BIG_ENDIAN:
        if ((rc = parse_number(text, UINT32_MAX, &num, err)))
            break;
        if (type == VK_REG_DWORD)
            put_le32(d, (uint32_t)num);
        else
            put_be32(d, (uint32_t)num);
        len = 4;
        break;
    case VK_REG_QWORD:
        if ((rc = parse_number(text, UINT64_MAX, &num, err)))
            break;
        put_le64(d, num);
        len = 8;
        break;
    default:
        rc = parse_hex_bytes(text, d, &len, err);
    }
    if (rc < 0) {
        free(d);
        return rc;
    }
    out->type = type;
    out->data = d;
    out->len = len;
    return 0;
}
