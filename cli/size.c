/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes on the command line, read as qemu-img reads them (qemu_strtosz): bytes, 0x hex, binary suffixes. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/checked.h"

static int suffix_shift(char c, unsigned *shift)
{
    static const char units[] = "BKMGTPE";
    const char *p = strchr(units, toupper((unsigned char)c));
    if (!p || !c)
        return -1;
    *shift = 10u * (unsigned)(p - units);
    return 0;
}

int parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        /* qemu takes hex only without a suffix and fraction */
        uint64_t v = 0;
        const char *p = s + 2;
        if (!*p)
            return -1;
        for (; *p; p++) {
            if (!isxdigit((unsigned char)*p) || v >> 60)
                return -1;
            v = v * 16 + (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : toupper((unsigned char)*p) - 'A' + 10);
        }
        *out = v;
        return 0;
    }
    uint64_t whole = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++)
        if (ck_mul_u64(whole, 10, &whole) || ck_add_u64(whole, (uint64_t)(*p - '0'), &whole))
            return -1;
    /* Fraction as numerator/denominator so "1.5G" is exact. */
    uint64_t frac = 0, denom = 1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++) {
            if (denom >= UINT64_C(1000000000000000))
                return -1;
            frac = frac * 10 + (uint64_t)(*p - '0');
            denom *= 10;
        }
    }
    unsigned shift = 0;
    if (*p) {
        if (suffix_shift(*p, &shift) < 0 || p[1])
            return -1;
    }
    if (frac && !shift)
        return -1; /* a fraction of a byte */
    uint64_t v;
    if (ck_mul_u64(whole, UINT64_C(1) << shift, &v))
        return -1;
    if (frac) {
        /* frac/denom < 1, so frac * 2^shift / denom fits when computed in two steps */
        uint64_t unit = UINT64_C(1) << shift;
        uint64_t part = (unit / denom) * frac + ((unit % denom) * frac) / denom;
        if (ck_add_u64(v, part, &v))
            return -1;
    }
    *out = v;
    return 0;
}

void format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
        return;
    }
    double v = (double)bytes;
    int u = -1;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (v == (double)(uint64_t)v)
        snprintf(buf, len, "%llu %s", (unsigned long long)v, units[u]);
    else
        snprintf(buf, len, "%.2f %s", v, units[u]);
}
