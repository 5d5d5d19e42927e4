/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keys: case-insensitive lookup as Windows does it (hivex_node_get_child only folds ASCII), CurrentControlSet
 * through Select\Current, creation of missing keys, recursive deletion, sorted subkey lists. */
#include "reg_int.h"
#include "reg/hive_cells.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/utf16.h"
#include "core/sort.h"

/* Next code point of UTF-8 text; a byte that does not start a valid sequence stands for itself. */
static uint32_t next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t c = p[0];
    int n = c >= 0xF0 && c < 0xF8 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (c < 0x80 || n == 0) {
        *s = p + 1;
        return c;
    }
    uint32_t cp = c & (0x3Fu >> n);
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *s = p + 1;
            return c;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *s = p + n + 1;
    return cp;
}

/* Upper-case mapping for the scripts registry names use in practice (Latin, Greek, Cyrillic, Armenian,
 * full-width Latin), matching the simple mappings of Windows' upcase table; other characters are unchanged. */
static uint32_t upcase(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if (c < 0xE0)
        return c == 0xB5 ? 0x39C : c;
    if (c <= 0xFE)
        return c == 0xF7 ? c : c - 32;
    if (c == 0xFF)
        return 0x178;
    if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
            return c == 0x17F ? 'S' : c;
        bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_lower)
            return (c & 1) ? c : c - 1;
        return (c & 1) ? c - 1 : c;
    }
    if (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2)
        return c - 32;
    if (c == 0x3C2)
        return 0x3A3;
    if (c >= 0x430 && c <= 0x44F)
        return c - 32;
    if (c >= 0x450 && c <= 0x45F)
        return c - 80;
    if (c >= 0x460 && c <= 0x4FF && (c & 1) && !(c >= 0x482 && c <= 0x489))
        return c - 1;
    if (c >= 0x561 && c <= 0x586)
        return c - 48;
    if (c >= 0xFF41 && c <= 0xFF5A)
        return c - 32;
    return c;
}

int reg_check_name(const char *name, vk_error *err)
{
    size_t n = strlen(name);
    uint8_t *tmp = malloc(n * 2 + 2);
    if (!tmp)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    int r = vk_utf8_to_utf16(name, VK_UTF16_LE, tmp, n * 2 + 2);
    free(tmp);
    /* hivex converts names itself and crashes on invalid UTF-8 (found by fuzz_reg). */
    return r < 0 ? vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "name is not valid UTF-8: %.40s", name) : 0;
}

int reg_name_cmp(const char *a, const char *b)
{
    const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
    while (*pa && *pb) {
        uint32_t ca = upcase(next_cp(&pa)), cb = upcase(next_cp(&pb));
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return *pa ? 1 : *pb ? -1 : 0;
}

vk_reg_key vk_reg_key_root(vk_reg_hive *h) { return h->hx ? hivex_root(h->hx) : reg_cells_root(h->cells); }

/* Subkeys of `node` (0-terminated, free with free()), from hivex or from the lazy reader. When hivex fails, vhdkit's
 * own reading of the same cells names the damage and its offset. */
static int node_children(vk_reg_hive *h, vk_reg_key node, vk_reg_key **kids, size_t *n, vk_error *err)
{
    if (!h->hx) {
        int rc = reg_cells_children(h->cells, node, kids, n, err);
        if (rc == 0) {
            vk_reg_key *k = realloc(*kids, (*n + 1) * sizeof **kids);
            if (!k) {
                free(*kids);
                return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a subkey list");
            }
            k[*n] = 0;
            *kids = k;
        }
        return rc;
    }
    errno = 0;
    hive_node_h *k = hivex_node_children(h->hx, node);
    if (!k) {
        int e = errno;
        vk_error d = {0};
        vk_reg_key *t = NULL;
        size_t tn;
        struct reg_cells *dc = reg_hive_diag_cells(h);
        int drc = dc ? reg_cells_children(dc, node, &t, &tn, &d) : 0;
        free(t);
        return reg_hx_read_fail(h, err, e, drc, &d, node, "cannot list the subkeys of a key");
    }
    size_t c = 0;
    while (k[c])
        c++;
    *kids = k;
    *n = c;
    return 0;
}

/* The name of key `node` (malloc'd UTF-8). */
static int node_name(vk_reg_hive *h, vk_reg_key node, char **name, vk_error *err)
{
    if (!h->hx)
        return reg_cells_key_name(h->cells, node, name, err);
    errno = 0;
    *name = hivex_node_name(h->hx, node);
    if (*name)
        return 0;
    int e = errno;
    vk_error d = {0};
    char *t = NULL;
    struct reg_cells *dc = reg_hive_diag_cells(h);
    int drc = dc ? reg_cells_key_name(dc, node, &t, &d) : 0;
    free(t);
    return reg_hx_read_fail(h, err, e, drc, &d, node, "cannot read the name of a key");
}

/* Child named `name` of `node`: 0 and *out set, VK_E_NOTFOUND, or another error. */
/* The hints Windows keeps next to each subkey in lf and lh lists, for `name`: the first four characters (lf; *lf_ok
 * false when one of them is not ASCII, whose stored form is not pinned down here) and the hash of the upper-cased
 * UTF-16 name, hash * 37 + unit (lh). */
static void name_hints(const char *name, uint8_t lf[4], bool *lf_ok, uint32_t *lh)
{
    const unsigned char *p = (const unsigned char *)name;
    uint32_t hash = 0;
    size_t i = 0;
    memset(lf, 0, 4);
    *lf_ok = true;
    while (*p) {
        uint32_t cp = upcase(next_cp(&p));
        if (i < 4) {
            *lf_ok = *lf_ok && cp < 0x80;
            lf[i] = (uint8_t)cp;
        }
        i++;
        if (cp >= 0x10000) {
            hash = hash * 37 + (0xD800 + ((cp - 0x10000) >> 10));
            hash = hash * 37 + (0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            hash = hash * 37 + cp;
        }
    }
    *lh = hash;
}

static bool hint_matches(const struct reg_cells_entry *e, const uint8_t lf[4], bool lf_ok, uint32_t lh)
{
    if (e->kind == 'h')
        return e->hint == lh;
    if (e->kind != 'f' || !lf_ok)
        return true;
    for (int i = 0; i < 4; i++)
        if (upcase((e->hint >> (8 * i)) & 0xFF) != lf[i])
            return false;
    return true;
}

/* The first of `keys` whose name equals `name` (case-insensitive, as Windows): 0, VK_E_NOTFOUND, or an error. */
static int pick_named(vk_reg_hive *h, const vk_reg_key *keys, size_t n, const char *name, vk_reg_key *out,
                      vk_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char *kn;
        int rc = node_name(h, keys[i], &kn, err);
        if (rc < 0)
            return rc;
        bool same = reg_name_cmp(kn, name) == 0;
        free(kn);
        if (same) {
            *out = keys[i];
            return 0;
        }
    }
    return VK_E_NOTFOUND;
}

/* Lazy handles: only the subkeys whose hint matches are read (a key with thousands of subkeys spread over the hive
 * costs one or two cells instead of all of them). 0 found, VK_E_NOTFOUND when no candidate matched. */
static int find_child_hinted(vk_reg_hive *h, vk_reg_key node, const char *name, vk_reg_key *out, vk_error *err)
{
    struct reg_cells_entry *e;
    size_t n;
    int rc = reg_cells_child_entries(h->cells, node, &e, &n, err);
    if (rc < 0)
        return rc;
    uint8_t lf[4];
    bool lf_ok;
    uint32_t lh;
    name_hints(name, lf, &lf_ok, &lh);
    vk_reg_key *cands = malloc((n ? n : 1) * sizeof *cands);
    size_t nc = 0;
    for (size_t i = 0; cands && i < n; i++)
        if (hint_matches(&e[i], lf, lf_ok, lh))
            cands[nc++] = e[i].off;
    free(e);
    rc = cands ? pick_named(h, cands, nc, name, out, err)
               : vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a subkey list");
    free(cands);
    return rc;
}

static int find_child(vk_reg_hive *h, vk_reg_key node, const char *name, vk_reg_key *out, vk_error *err)
{
    if (!h->hx) {
        int hrc = find_child_hinted(h, node, name, out, err);
        if (hrc != VK_E_NOTFOUND)
            return hrc;
        /* Not among the hinted: hints other tools wrote may be wrong, so every name is read before "not found". */
    }
    vk_reg_key *kids;
    size_t n;
    int rc = node_children(h, node, &kids, &n, err);
    if (rc < 0)
        return rc;
    rc = pick_named(h, kids, n, name, out, err);
    free(kids);
    return rc;
}

/* ControlSet00N named by the DWORD Select\Current. */
static int current_control_set(vk_reg_hive *h, char *buf, size_t cap, vk_error *err)
{
    vk_reg_key sel;
    int rc = find_child(h, vk_reg_key_root(h), "Select", &sel, err);
    if (rc == VK_E_NOTFOUND)
        return vk_fail(err, VK_E_NOTFOUND, NULL, VK_NO_OFFSET, "CurrentControlSet: the hive has no Select key");
    if (rc < 0)
        return rc;
    vk_reg_value v;
    rc = vk_reg_value_get(h, sel, "Current", &v, err);
    if (rc < 0)
        return rc;
    int ok = v.type == VK_REG_DWORD && v.len == 4;
    uint32_t cur = ok ? get_le32(v.data) : 0;
    vk_reg_value_free(&v);
    if (!ok || cur == 0 || cur > 999)
        return vk_fail(err, VK_E_CORRUPT, NULL, VK_NO_OFFSET, "Select\\Current is not a control set number");
    snprintf(buf, cap, "ControlSet%03u", cur);
    return 0;
}

static int walk_from(vk_reg_hive *h, vk_reg_key start, const char *subkey, bool create, vk_reg_key *out, vk_error *err)
{
    if (strlen(subkey) >= VK_REG_PATH_MAX)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "key path too long");
    char path[VK_REG_PATH_MAX];
    snprintf(path, sizeof path, "%s", subkey);
    vk_reg_key node = start;
    bool first = start == vk_reg_key_root(h);
    char *save = NULL;
    for (char *comp = strtok_r(path, "\\", &save); comp; comp = strtok_r(NULL, "\\", &save), first = false) {
        if (strlen(comp) > 255)
            return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "key name longer than 255 characters: %.40s...", comp);
        vk_reg_key child;
        int rc = find_child(h, node, comp, &child, err);
        char ccs[32];
        if (rc == VK_E_NOTFOUND && first && reg_name_cmp(comp, "CurrentControlSet") == 0) {
            rc = current_control_set(h, ccs, sizeof ccs, err);
            if (rc < 0)
                return rc;
            comp = ccs;
            rc = find_child(h, node, comp, &child, err);
        }
        if (rc == VK_E_NOTFOUND && create) {
            rc = reg_check_writable(h, err);
            if (rc == 0)
                rc = reg_check_name(comp, err);
            if (rc < 0)
                return rc;
            errno = 0;
            child = hivex_node_add_child(h->hx, node, comp);
            if (!child) {
                h->broken = true;
                return reg_hx_fail(err, "cannot create key", comp);
            }
            h->changed = true;
            rc = 0;
        }
        if (rc == VK_E_NOTFOUND)
            return vk_fail(err, VK_E_NOTFOUND, NULL, VK_NO_OFFSET, "key not found: %s", subkey);
        if (rc < 0)
            return rc;
        node = child;
    }
    *out = node;
    return 0;
}

static int walk(vk_reg_hive *h, const char *subkey, bool create, vk_reg_key *out, vk_error *err)
{
    return walk_from(h, vk_reg_key_root(h), subkey, create, out, err);
}

int reg_key_create_below(vk_reg_hive *h, vk_reg_key start, const char *rel, vk_reg_key *out, vk_error *err)
{
    int rc = reg_check_writable(h, err);
    return rc < 0 ? rc : walk_from(h, start, rel, true, out, err);
}

int vk_reg_key_find(vk_reg_hive *h, const char *subkey, vk_reg_key *out, vk_error *err)
{
    return walk(h, subkey, false, out, err);
}

int vk_reg_key_create(vk_reg_hive *h, const char *subkey, vk_reg_key *out, vk_error *err)
{
    int rc = reg_check_writable(h, err);
    return rc < 0 ? rc : walk(h, subkey, true, out, err);
}

int vk_reg_key_delete(vk_reg_hive *h, const char *subkey, vk_error *err)
{
    int rc = reg_check_writable(h, err);
    if (rc < 0)
        return rc;
    vk_reg_key node;
    rc = walk(h, subkey, false, &node, err);
    if (rc < 0)
        return rc;
    if (node == vk_reg_key_root(h))
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "cannot delete the root key of a hive");
    errno = 0;
    h->changed = true;
    if (hivex_node_delete_child(h->hx, node) < 0) {
        h->broken = true;
        return reg_hx_fail(err, "cannot delete key", subkey);
    }
    return 0;
}

static int cmp_children(const void *a, const void *b)
{
    return reg_name_cmp(((const struct reg_child *)a)->name, ((const struct reg_child *)b)->name);
}

void reg_children_free(struct reg_child *kids, size_t n)
{
    if (!kids)
        return;
    for (size_t i = 0; i < n; i++)
        free(kids[i].name);
    free(kids);
}

int reg_children(vk_reg_hive *h, vk_reg_key key, struct reg_child **out, size_t *count, vk_error *err)
{
    vk_reg_key *kids;
    size_t n;
    int rc = node_children(h, key, &kids, &n, err);
    if (rc < 0)
        return rc;
    struct reg_child *v = calloc(n + 1, sizeof *v);
    if (!v) {
        free(kids);
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for %zu subkey names", n);
    }
    for (size_t i = 0; i < n; i++) {
        v[i].node = kids[i];
        rc = node_name(h, kids[i], &v[i].name, err);
        if (rc < 0) {
            reg_children_free(v, i);
            free(kids);
            return rc;
        }
    }
    free(kids);
    vk_sort(v, n, sizeof *v, cmp_children);
    *out = v;
    *count = n;
    return 0;
}

void vk_reg_names_free(char **names, size_t count)
{
    if (!names)
        return;
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int vk_reg_key_subkeys(vk_reg_hive *h, vk_reg_key key, char ***names, size_t *count, vk_error *err)
{
    struct reg_child *kids;
    size_t n;
    int rc = reg_children(h, key, &kids, &n, err);
    if (rc < 0)
        return rc;
    char **v = calloc(n + 1, sizeof *v);
    if (!v) {
        reg_children_free(kids, n);
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for %zu subkey names", n);
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = kids[i].name;
        kids[i].name = NULL;
    }
    reg_children_free(kids, n);
    *names = v;
    *count = n;
    return 0;
}

int vk_reg_key_name(vk_reg_hive *h, vk_reg_key key, char *buf, size_t cap, vk_error *err)
{
    char *n;
    int rc = node_name(h, key, &n, err);
    if (rc < 0)
        return rc;
    int w = snprintf(buf, cap, "%s", n);
    free(n);
    return (size_t)w >= cap ? vk_fail(err, VK_E_RANGE, NULL, VK_NO_OFFSET, "key name longer than the buffer") : 0;
}
