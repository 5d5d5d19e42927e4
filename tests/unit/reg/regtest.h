/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for the registry tests: temp folder, corpus hives decompressed there, files, peer commands. */
#ifndef VK_TEST_REGTEST_H
#define VK_TEST_REGTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char rt_dir[256];

static inline void rt_cleanup(void)
{
    char cmd[300];
    if (rt_dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", rt_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "# cannot remove %s\n", rt_dir);
    }
}

static inline const char *rt_tmpdir(void)
{
    if (!rt_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(rt_dir, sizeof rt_dir, "%s/vk-regtest-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(rt_dir)) {
            perror("mkdtemp");
            exit(99);
        }
        atexit(rt_cleanup);
    }
    return rt_dir;
}

/* Whole file into memory; NULL when absent. */
static inline unsigned char *rt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static inline int rt_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

/* Decompress corpus file `rel` (under ../shared/corpus/hives, without .xz) into the temp folder; returns its bytes. */
static inline unsigned char *rt_corpus(const char *rel, size_t *len)
{
    const char *src = getenv("VHDKIT_SRCDIR");
    char in[1024], out[1024], cmd[2400];
    snprintf(in, sizeof in, "%s/../shared/corpus/hives/%s.xz", src ? src : ".", rel);
    if (access(in, R_OK) != 0)
        snprintf(in, sizeof in, "/work/shared/corpus/hives/%s.xz", rel);
    snprintf(out, sizeof out, "%s/corpus-%d", rt_tmpdir(), rand());
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", in, out);
    if (system(cmd) != 0)
        return NULL;
    unsigned char *b = rt_read(out, len);
    unlink(out);
    return b;
}

/* First line of a command's output (trailing newline removed) into buf; returns the exit status. */
static inline int rt_run(const char *cmd, char *buf, size_t cap)
{
    FILE *p = popen(cmd, "r");
    buf[0] = 0;
    if (!p)
        return -1;
    size_t n = fread(buf, 1, cap - 1, p);
    buf[n] = 0;
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
