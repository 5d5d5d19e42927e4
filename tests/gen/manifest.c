/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen's manifest: what the generator wrote, with content hashes computed from its own bytes (not read back
 * through vhdkit), written sorted so tests can diff it against sleuthkit's listing. */
#include "gen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t slot_of(const struct manifest *m, const char *path)
{
    size_t mask = m->index_cap - 1;
    size_t i = (size_t)gen_hash(path, 0) & mask;
    while (m->index[i] && strcmp(m->e[m->index[i] - 1].path, path))
        i = (i + 1) & mask;
    return i;
}

static int grow_index(struct manifest *m)
{
    size_t cap = m->index_cap ? m->index_cap * 2 : 1024;
    size_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return -1;
    free(m->index);
    m->index = idx;
    m->index_cap = cap;
    for (size_t k = 0; k < m->n; k++)
        m->index[slot_of(m, m->e[k].path)] = k + 1;
    return 0;
}

struct ent *manifest_find(struct manifest *m, const char *path)
{
    if (!m->index_cap)
        return NULL;
    size_t k = m->index[slot_of(m, path)];
    return k ? &m->e[k - 1] : NULL;
}

struct ent *manifest_get(struct manifest *m, char kind, const char *path)
{
    struct ent *e = manifest_find(m, path);
    if (e) {
        e->kind = kind;
        return e;
    }
    if ((m->n + 1) * 2 > m->index_cap && grow_index(m))
        return NULL;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        struct ent *g = realloc(m->e, cap * sizeof *g);
        if (!g)
            return NULL;
        m->e = g;
        m->cap = cap;
    }
    e = &m->e[m->n];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    if (!e->path)
        return NULL;
    e->kind = kind;
    snprintf(e->sha, sizeof e->sha, "-");
    m->index[slot_of(m, path)] = ++m->n;
    return e;
}

static int by_path(const void *a, const void *b)
{
    return strcmp((*(struct ent *const *)a)->path, (*(struct ent *const *)b)->path);
}

int manifest_write(struct manifest *m, const char *path)
{
    struct ent **v = malloc((m->n ? m->n : 1) * sizeof *v);
    if (!v)
        return -1;
    size_t n = 0;
    for (size_t k = 0; k < m->n; k++)
        if (m->e[k].alive)
            v[n++] = &m->e[k];
    qsort(v, n, sizeof *v, by_path);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vk-gen: %s: %s\n", path, strerror(errno));
        free(v);
        return -1;
    }
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%c %s %llu %s\n", v[k]->kind, v[k]->sha, (unsigned long long)v[k]->size, v[k]->path);
    free(v);
    if (fclose(f)) {
        fprintf(stderr, "vk-gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

void manifest_free(struct manifest *m)
{
    for (size_t k = 0; k < m->n; k++)
        free(m->e[k].path);
    free(m->e);
    free(m->index);
    memset(m, 0, sizeof *m);
}
