/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rebase --files: vk_diff's entries kept as a list, the update's changes indexed by folded path, and the paths that
 * are never replayed as files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/rebase_files_int.h"

static char *fold(const char *s)
{
    char *k = strdup(s);
    if (k)
        for (char *p = k; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return k;
}

int rbf_collect(void *ctx, const struct vk_diff_entry *e)
{
    struct rbf_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        struct rbf_change *g = realloc(l->v, cap * sizeof *g);
        if (!g)
            return VK_E_NOMEM;
        l->v = g;
        l->cap = cap;
    }
    struct rbf_change *c = &l->v[l->n];
    memset(c, 0, sizeof *c);
    c->path = strdup(e->path);
    c->key = fold(e->path);
    c->kind = e->kind;
    c->fields = e->fields;
    c->has_a = e->has_a;
    c->has_b = e->has_b;
    c->type_a = e->a.type;
    c->type_b = e->b.type;
    if (e->nstreams) {
        c->streams = malloc(e->nstreams * sizeof *c->streams);
        if (c->streams) {
            memcpy(c->streams, e->streams, e->nstreams * sizeof *c->streams);
            c->nstreams = e->nstreams;
        }
    }
    l->n++;
    if (!c->path || !c->key || (e->nstreams && !c->streams))
        return VK_E_NOMEM;
    return 0;
}

void rbf_list_free(struct rbf_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].key);
        free(l->v[i].streams);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int add_below(struct rbf_index *ix, const char *key, size_t len)
{
    if (ix->nbelow == ix->capbelow) {
        size_t cap = ix->capbelow ? 2 * ix->capbelow : 64;
        char **g = realloc(ix->below, cap * sizeof *g);
        if (!g)
            return VK_E_NOMEM;
        ix->below = g;
        ix->capbelow = cap;
    }
    char *k = malloc(len + 1);
    if (!k)
        return VK_E_NOMEM;
    memcpy(k, key, len);
    k[len] = 0;
    ix->below[ix->nbelow++] = k;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int rbf_index_build(struct rbf_index *ix, const struct rbf_list *l)
{
    memset(ix, 0, sizeof *ix);
    ix->cap = 64;
    while (ix->cap < 2 * l->n + 2)
        ix->cap *= 2;
    ix->slot = calloc(ix->cap, sizeof *ix->slot);
    if (!ix->slot)
        return VK_E_NOMEM;
    for (size_t i = 0; i < l->n; i++) {
        const struct rbf_change *c = &l->v[i];
        size_t n = strlen(c->key);
        for (size_t s = hash(c->key, n) & (ix->cap - 1);; s = (s + 1) & (ix->cap - 1))
            if (!ix->slot[s]) {
                ix->slot[s] = c;
                break;
            }
        /* Every folder above a change that leaves something there: a user who removed that folder conflicts with
         * the update (deduplicated after sorting). */
        if (c->kind == VK_DIFF_REMOVED)
            continue;
        for (size_t j = n; j > 1; j--)
            if (c->key[j - 1] == '/' && add_below(ix, c->key, j - 1))
                return VK_E_NOMEM;
    }
    if (ix->nbelow) {
        qsort(ix->below, ix->nbelow, sizeof *ix->below, cmp_str);
        size_t o = 1;
        for (size_t i = 1; i < ix->nbelow; i++) {
            if (!strcmp(ix->below[i], ix->below[o - 1]))
                free(ix->below[i]);
            else
                ix->below[o++] = ix->below[i];
        }
        ix->nbelow = o;
    }
    return 0;
}

void rbf_index_free(struct rbf_index *ix)
{
    for (size_t i = 0; i < ix->nbelow; i++)
        free(ix->below[i]);
    free(ix->below);
    free(ix->slot);
    memset(ix, 0, sizeof *ix);
}

const struct rbf_change *rbf_index_get(const struct rbf_index *ix, const char *key, size_t keylen)
{
    if (!ix->slot)
        return NULL;
    for (size_t s = hash(key, keylen) & (ix->cap - 1); ix->slot[s]; s = (s + 1) & (ix->cap - 1))
        if (strlen(ix->slot[s]->key) == keylen && !memcmp(ix->slot[s]->key, key, keylen))
            return ix->slot[s];
    return NULL;
}

int rbf_index_has_below(const struct rbf_index *ix, const char *key)
{
    return ix->nbelow && bsearch(&key, ix->below, ix->nbelow, sizeof *ix->below, cmp_str) != NULL;
}

static int starts(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

/* "/users/NAME/REST": REST, else NULL. */
static const char *in_profile(const char *key)
{
    if (!starts(key, "/users/"))
        return NULL;
    size_t i = 7;
    while (key[i] && key[i] != '/')
        i++;
    return key[i] ? key + i + 1 : NULL;
}

static int ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int hive_log(const char *name)
{
    return ends(name, ".log") || ends(name, ".log1") || ends(name, ".log2") || ends(name, ".blf") ||
           ends(name, ".regtrans-ms");
}

const char *rbf_excluded(const char *key, int *hive)
{
    *hive = RBF_NOT_HIVE;
    if (!strcmp(key, "/pagefile.sys") || !strcmp(key, "/hiberfil.sys") || !strcmp(key, "/swapfile.sys"))
        return "volatile: Windows recreates it at boot";
    if (!strcmp(key, "/system volume information") || starts(key, "/system volume information/"))
        return "system: restore points and indexes of this volume";
    if (starts(key, "/$"))
        return "system: NTFS and Windows metadata";
    const char *rest = in_profile(key);
    if (starts(key, "/windows/system32/config/")) {
        const char *name = key + strlen("/windows/system32/config/");
        if (strchr(name, '/'))
            return "registry working files (RegBack, TxR, systemprofile): not replayed";
        if (!strcmp(name, "software") || !strcmp(name, "system") || !strcmp(name, "default")) {
            *hive = RBF_HIVE_MERGE;
            return "registry hive: merged key by key";
        }
        if (hive_log(name)) {
            *hive = RBF_HIVE_LOG;
            return "registry hive log: not copied (the hive is read with it and merged)";
        }
        *hive = RBF_HIVE_OTHER;
        return "registry hive: not copied as a file and not merged (only SYSTEM, SOFTWARE, DEFAULT and the users' "
               "hives are)";
    }
    if (rest && (starts(rest, "ntuser.dat") || starts(rest, "appdata/local/microsoft/windows/usrclass.dat"))) {
        const char *name = strrchr(key, '/') + 1;
        if (!strcmp(name, "ntuser.dat") || !strcmp(name, "usrclass.dat")) {
            *hive = RBF_HIVE_MERGE;
            return "registry hive: merged key by key";
        }
        *hive = RBF_HIVE_LOG;
        return "registry hive log: not copied (the hive is read with it and merged)";
    }
    return NULL;
}

int rbf_hive_root(const char *path, char *out, size_t cap)
{
    char *key = fold(path);
    if (!key)
        return VK_E_NOMEM;
    const char *rest = in_profile(key);
    int rc = 0;
    if (!strcmp(key, "/windows/system32/config/software"))
        snprintf(out, cap, "HKLM\\SOFTWARE");
    else if (!strcmp(key, "/windows/system32/config/system"))
        snprintf(out, cap, "HKLM\\SYSTEM");
    else if (!strcmp(key, "/windows/system32/config/default"))
        snprintf(out, cap, "HKU\\.DEFAULT");
    else if (rest) {
        /* The user's name as the child stores it: "/Users/NAME/..." */
        const char *name = path + 7;
        int n = (int)(strchr(name, '/') - name);
        snprintf(out, cap, "HKU\\%.*s%s", n, name, starts(rest, "ntuser") ? "" : "_Classes");
    } else
        rc = VK_E_USAGE;
    free(key);
    return rc;
}
