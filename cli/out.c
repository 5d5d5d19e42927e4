/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output of data commands: the same calls print indented "label: value" text or JSON (with correct escaping). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            p++;
        } else if (c == '\n') {
            fputs("\\n", f);
            p++;
        } else if (c == '\t') {
            fputs("\\t", f);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            fputc(c, f);
            p++;
        } else {
            /* Copy a well-formed UTF-8 sequence (no overlongs, surrogates or values above U+10FFFF); anything else
             * from a file becomes U+FFFD so the output stays valid JSON. */
            int n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
            bool good = n > 0;
            for (int i = 1; good && i < n; i++)
                good = (p[i] & 0xc0) == 0x80;
            if (good && n == 3)
                good = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
            if (good && n == 4)
                good = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
            if (good) {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

void out_init(struct out *o, FILE *f, bool json)
{
    memset(o, 0, sizeof *o);
    o->f = f;
    o->json = json;
}

static void indent(struct out *o, int extra)
{
    for (int i = 0; i < o->depth + extra; i++)
        fputs("  ", o->f);
}

/* Starts one member: JSON comma, newline and key; text indentation and label (underscores read as spaces). */
static void member_(struct out *o, const char *key, const char *sep)
{
    bool arr = o->in_array[o->depth];
    if (o->json) {
        if (!o->first[o->depth])
            fputc(',', o->f);
        fputc('\n', o->f);
        indent(o, 0);
        if (!arr) {
            json_string(o->f, key);
            fputs(": ", o->f);
        }
    } else {
        indent(o, -1);
        if (arr) {
            fputs("- ", o->f);
        } else {
            for (const char *k = key; *k; k++)
                fputc(*k == '_' ? ' ' : *k, o->f);
            fputs(sep, o->f);
        }
    }
    o->first[o->depth] = false;
}

static void member(struct out *o, const char *key) { member_(o, key, ": "); }

void out_begin(struct out *o)
{
    o->depth = 1;
    o->first[1] = true;
    o->in_array[1] = false;
    if (o->json)
        fputc('{', o->f);
}

void out_end(struct out *o)
{
    if (o->json)
        fputs("\n}\n", o->f);
    o->depth = 0;
}

static void open_level(struct out *o, const char *key, bool array)
{
    member_(o, key, ":");
    if (o->json)
        fputc(array ? '[' : '{', o->f);
    else
        fputc('\n', o->f);
    if (o->depth + 1 < (int)(sizeof o->first / sizeof o->first[0]))
        o->depth++;
    o->first[o->depth] = true;
    o->in_array[o->depth] = array;
}

void out_object(struct out *o, const char *key) { open_level(o, key, false); }
void out_array(struct out *o, const char *key) { open_level(o, key, true); }

void out_close(struct out *o)
{
    bool arr = o->in_array[o->depth];
    bool empty = o->first[o->depth];
    if (o->depth > 1)
        o->depth--;
    if (o->json) {
        if (!empty) {
            fputc('\n', o->f);
            indent(o, 0);
        }
        fputc(arr ? ']' : '}', o->f);
    } else if (empty) {
        indent(o, 0);
        fputs("(none)\n", o->f);
    }
}

void out_str(struct out *o, const char *key, const char *val)
{
    member(o, key);
    if (o->json)
        json_string(o->f, val);
    else
        fprintf(o->f, "%s\n", val);
}

void out_u64(struct out *o, const char *key, uint64_t val)
{
    member(o, key);
    fprintf(o->f, o->json ? "%" PRIu64 : "%" PRIu64 "\n", val);
}

void out_i64(struct out *o, const char *key, int64_t val)
{
    member(o, key);
    fprintf(o->f, o->json ? "%" PRId64 : "%" PRId64 "\n", val);
}

void out_bool(struct out *o, const char *key, bool val)
{
    member(o, key);
    fprintf(o->f, o->json ? "%s" : "%s\n", o->json ? (val ? "true" : "false") : (val ? "yes" : "no"));
}

void out_hex(struct out *o, const char *key, uint64_t val)
{
    member(o, key);
    fprintf(o->f, o->json ? "%" PRIu64 : "0x%" PRIx64 "\n", val);
}

void out_bytes(struct out *o, const char *key, uint64_t val)
{
    member(o, key);
    if (o->json) {
        fprintf(o->f, "%" PRIu64, val);
        return;
    }
    char h[32];
    format_size(val, h, sizeof h);
    if (val < 1024)
        fprintf(o->f, "%s\n", h);
    else
        fprintf(o->f, "%" PRIu64 " (%s)\n", val, h);
}
