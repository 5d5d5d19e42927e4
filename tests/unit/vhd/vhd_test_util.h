/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for the VHD image tests: a temp folder, a seeded PRNG, peer commands, device-vs-model comparison. */
#ifndef VK_TEST_VHD_UTIL_H
#define VK_TEST_VHD_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhdkit/dev.h"
#include "vhdkit/vhd.h"

static char tdir[] = "/tmp/vk-test-vhd-XXXXXX";
static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd() | 1) ^ tag;
}

static const char *tpath(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tdir, name);
    return out;
}

__attribute__((format(printf, 1, 2))) static int run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* Whole file into memory (NULL on failure). */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return buf;
}

/* Offset of the first byte where the device differs from `model`, or -1 when equal (-2 on read error). */
__attribute__((unused)) static int64_t dev_diff(vk_dev *dev, const uint8_t *model, uint64_t size)
{
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    int64_t at = -1;
    for (uint64_t off = 0; buf && off < size && at == -1; off += CHUNK) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        vk_error err;
        if (vk_dev_read(dev, buf, n, off, &err)) {
            at = -2;
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (buf[i] != model[off + i]) {
                at = (int64_t)(off + i);
                break;
            }
    }
    free(buf);
    return at;
}

/* Offset of the first difference between a file and `model`, -1 when equal, -3 when sizes differ or unreadable. */
__attribute__((unused)) static int64_t file_diff(const char *path, const uint8_t *model, uint64_t size)
{
    size_t len;
    uint8_t *buf = slurp(path, &len);
    if (!buf || len != size) {
        free(buf);
        return -3;
    }
    int64_t at = -1;
    for (size_t i = 0; i < len; i++)
        if (buf[i] != model[i]) {
            at = (int64_t)i;
            break;
        }
    free(buf);
    return at;
}

#endif
