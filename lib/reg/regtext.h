/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by .reg export and import: the growable text buffer and the header lines regedit writes. */
#ifndef VK_REG_REGTEXT_H
#define VK_REG_REGTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define REG5_HEADER "Windows Registry Editor Version 5.00"
#define REG4_HEADER "REGEDIT4"
/* regedit breaks hex data lines once they reach this many columns, continuing with "\" and two spaces. */
#define REG_HEX_WRAP 77

struct rbuf {
    char *p;
    size_t n, cap;
    bool oom;
};

static inline void rb_put(struct rbuf *b, const char *s, size_t n)
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

static inline void rb_str(struct rbuf *b, const char *s) { rb_put(b, s, strlen(s)); }

#endif
