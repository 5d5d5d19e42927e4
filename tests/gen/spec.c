/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen's spec: defaults, one setter per long option name (shared by the command line and key=value files). */
#include "gen.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int spec_defaults(struct gen_spec *s)
{
    memset(s, 0, sizeof *s);
    s->format = GEN_DYNAMIC;
    s->layout = GEN_MBR2048;
    s->size = 1ull << 30;
    s->files = 200;
    s->seed = 1;
    s->chain_depth = 2;
    s->pagefile = 16ull << 20;
    s->cluster = 4096;
    snprintf(s->user, sizeof s->user, "alice");
    snprintf(s->label, sizeof s->label, "Windows");
    return 0;
}

/* Plain bytes or a binary suffix (K, M, G, T), as qemu-img and vhdkit accept. */
int parse_size(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *text == '-')
        return -1;
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: return -1;
    }
    if (*end && end[1] && !(toupper((unsigned char)end[1]) == 'B' && !end[2]) &&
        !(toupper((unsigned char)end[1]) == 'I' && toupper((unsigned char)end[2]) == 'B' && !end[3]))
        return -1;
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int bad(const char *name, const char *value, const char *want)
{
    fprintf(stderr, "vk-gen: --%s: '%s' is not %s\n", name, value ? value : "", want);
    return -1;
}

static int set_text(char *dst, size_t cap, const char *name, const char *value)
{
    if (!value || !*value || strlen(value) >= cap || strpbrk(value, "/\\:"))
        return bad(name, value, "a short name without / \\ :");
    snprintf(dst, cap, "%s", value);
    return 0;
}

int spec_set(struct gen_spec *s, const char *name, const char *value)
{
    uint64_t n;
    if (!strcmp(name, "out"))
        return value && snprintf(s->out, sizeof s->out, "%s", value) < (int)sizeof s->out ? 0 : bad(name, value, "a path");
    if (!strcmp(name, "manifest"))
        return value && snprintf(s->manifest, sizeof s->manifest, "%s", value) < (int)sizeof s->manifest
                   ? 0 : bad(name, value, "a path");
    if (!strcmp(name, "format")) {
        static const char *names[] = {"raw", "fixed", "dynamic", "chain"};
        for (int i = 0; i < 4; i++)
            if (value && !strcmp(value, names[i]))
                return s->format = (enum gen_format)i, 0;
        return bad(name, value, "raw, fixed, dynamic or chain");
    }
    if (!strcmp(name, "layout")) {
        static const char *names[] = {"mbr63", "mbr2048", "gpt"};
        for (int i = 0; i < 3; i++)
            if (value && !strcmp(value, names[i]))
                return s->layout = (enum gen_layout)i, 0;
        return bad(name, value, "mbr63, mbr2048 or gpt");
    }
    if (!strcmp(name, "size")) {
        if (!value || parse_size(value, &n) || n < (64ull << 20) || n > (2040ull << 30))
            return bad(name, value, "a size between 64M and 2040G");
        return s->size = n, 0;
    }
    if (!strcmp(name, "block-size")) {
        if (!value || parse_size(value, &n) || n < (512u << 10) || n > (256u << 20) || (n & (n - 1)))
            return bad(name, value, "a power of two between 512K and 256M");
        return s->block_size = (uint32_t)n, 0;
    }
    if (!strcmp(name, "fill-mb")) {
        char *end;
        unsigned long long v = value ? strtoull(value, &end, 10) : 0;
        if (!value || *end || end == value || v > (1ull << 20))
            return bad(name, value, "a number of MiB");
        return s->fill = (uint64_t)v << 20, 0;
    }
    if (!strcmp(name, "cluster")) {
        /* What Windows formats: 512 B (XP's FAT-converted system volumes) up to 64 KiB; mkntfs goes no further. */
        if (!value || parse_size(value, &n) || n < 512 || n > (64u << 10) || (n & (n - 1)))
            return bad(name, value, "a power of two from 512 to 64K");
        return s->cluster = (uint32_t)n, 0;
    }
    if (!strcmp(name, "pagefile")) {
        if (!value || parse_size(value, &n) || n > (4ull << 30))
            return bad(name, value, "a size up to 4G");
        return s->pagefile = n, 0;
    }
    if (!strcmp(name, "files") || !strcmp(name, "seed") || !strcmp(name, "chain-depth")) {
        char *end;
        errno = 0;
        unsigned long long v = value ? strtoull(value, &end, 0) : 0;
        if (!value || errno || *end || end == value || *value == '-')
            return bad(name, value, "a number");
        if (!strcmp(name, "seed"))
            return s->seed = v, 0;
        if (!strcmp(name, "files"))
            return v > 1000000 ? bad(name, value, "at most 1000000") : (s->files = (unsigned)v, 0);
        return v < 2 || v > 3 ? bad(name, value, "2 or 3") : (s->chain_depth = (unsigned)v, 0);
    }
    if (!strcmp(name, "deleted")) {
        char *end;
        double v = value ? strtod(value, &end) : -1;
        if (!value || *end || end == value || !(v >= 0 && v <= 1))
            return bad(name, value, "a fraction between 0 and 1");
        return s->deleted = v, 0;
    }
    if (!strcmp(name, "hiberfil")) {
        if (!value || !strcmp(value, "hibr") || !strcmp(value, "1") || !strcmp(value, "yes"))
            return s->hiberfil = GEN_HIBER_HIBERNATED, 0;
        if (!strcmp(value, "clean"))
            return s->hiberfil = GEN_HIBER_CLEAN, 0;
        if (!strcmp(value, "no") || !strcmp(value, "0"))
            return s->hiberfil = GEN_HIBER_NONE, 0;
        return bad(name, value, "hibr, clean or no");
    }
    if (!strcmp(name, "dirty")) {
        if (!value || !strcmp(value, "1") || !strcmp(value, "yes"))
            return s->dirty = 1, 0;
        if (!strcmp(value, "0") || !strcmp(value, "no"))
            return s->dirty = 0, 0;
        return bad(name, value, "yes or no");
    }
    if (!strcmp(name, "quiet"))
        return s->quiet = 1, 0;
    if (!strcmp(name, "bcd"))
        return s->bcd = 1, 0;
    if (!strcmp(name, "user"))
        return set_text(s->user, sizeof s->user, name, value);
    if (!strcmp(name, "label"))
        return set_text(s->label, sizeof s->label, name, value);
    fprintf(stderr, "vk-gen: unknown option '%s'\n", name);
    return -1;
}

/* Lines "key = value" (or "key" for flags); '#' starts a comment; keys are the long option names. */
int spec_load_file(struct gen_spec *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "vk-gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4200];
    unsigned no = 0;
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        no++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *key = line;
        while (isspace((unsigned char)*key))
            key++;
        char *end = key + strlen(key);
        while (end > key && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (!*key)
            continue;
        char *value = strchr(key, '=');
        if (value) {
            char *k = value;
            *value++ = '\0';
            while (k > key && isspace((unsigned char)k[-1]))
                *--k = '\0';
            while (isspace((unsigned char)*value))
                value++;
        }
        if (spec_set(s, key, value)) {
            fprintf(stderr, "vk-gen: %s:%u: bad line\n", path, no);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}
