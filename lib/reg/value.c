/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Values: list, get, set (replacing a same-named value), delete; type names; values as text and back. */
#include "reg_int.h"
#include "reg/hive_cells.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bytes.h"
#include "core/utf16.h"

void vk_reg_value_free(vk_reg_value *v)
{
    if (!v)
        return;
    free(v->name);
    free(v->data);
    v->name = NULL;
    v->data = NULL;
    v->len = 0;
}

void vk_reg_values_free(vk_reg_value *vals, size_t count)
{
    if (!vals)
        return;
    for (size_t i = 0; i < count; i++)
        vk_reg_value_free(&vals[i]);
    free(vals);
}

static int read_value(vk_reg_hive *h, hive_value_h hv, vk_reg_value *out, vk_error *err)
{
    if (!h->hx)
        return reg_cells_value(h->cells, hv, out, err);
    errno = 0;
    out->name = hivex_value_key(h->hx, hv);
    hive_type t;
    size_t len = 0;
    char *data = NULL;
    if (out->name) {
        errno = 0;
        data = hivex_value_value(h->hx, hv, &t, &len);
    }
    if (!data) {
        int e = errno;
        vk_error d = {0};
        vk_reg_value tv;
        struct reg_cells *dc = reg_hive_diag_cells(h);
        int drc = dc ? reg_cells_value(dc, hv, &tv, &d) : 0;
        if (drc == 0 && dc)
            vk_reg_value_free(&tv);
        vk_reg_value_free(out);
        return reg_hx_read_fail(h, err, e, drc, &d, hv, "cannot read a value");
    }
    out->type = (uint32_t)t;
    out->data = (uint8_t *)data;
    out->len = len;
    return 0;
}

/* The value cells of `key` (0-terminated, free with free()). */
static int node_values(vk_reg_hive *h, vk_reg_key key, hive_value_h **out, size_t *n, vk_error *err)
{
    if (!h->hx) {
        vk_reg_key *v;
        int rc = reg_cells_values(h->cells, key, &v, n, err);
        if (rc < 0)
            return rc;
        hive_value_h *z = realloc(v, (*n + 1) * sizeof *z);
        if (!z) {
            free(v);
            return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a value list");
        }
        z[*n] = 0;
        *out = z;
        return 0;
    }
    errno = 0;
    hive_value_h *hv = hivex_node_values(h->hx, key);
    if (!hv) {
        int e = errno;
        vk_error d = {0};
        vk_reg_key *t = NULL;
        size_t tn;
        struct reg_cells *dc = reg_hive_diag_cells(h);
        int drc = dc ? reg_cells_values(dc, key, &t, &tn, &d) : 0;
        free(t);
        return reg_hx_read_fail(h, err, e, drc, &d, key, "cannot list the values of a key");
    }
    size_t c = 0;
    while (hv[c])
        c++;
    *out = hv;
    *n = c;
    return 0;
}

int vk_reg_values(vk_reg_hive *h, vk_reg_key key, vk_reg_value **vals, size_t *count, vk_error *err)
{
    hive_value_h *hv;
    size_t n;
    int rc = node_values(h, key, &hv, &n, err);
    if (rc < 0)
        return rc;
    vk_reg_value *v = calloc(n + 1, sizeof *v);
    if (!v) {
        free(hv);
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for %zu values", n);
    }
    for (size_t i = 0; i < n; i++) {
        rc = read_value(h, hv[i], &v[i], err);
        if (rc < 0) {
            vk_reg_values_free(v, i);
            free(hv);
            return rc;
        }
    }
    free(hv);
    *vals = v;
    *count = n;
    return 0;
}

/* Index of the value named `name` (Windows comparison) in vals, or -1. */
static long find_named(const vk_reg_value *vals, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (reg_name_cmp(vals[i].name, name) == 0)
            return (long)i;
    return -1;
}

int vk_reg_value_get(vk_reg_hive *h, vk_reg_key key, const char *name, vk_reg_value *out, vk_error *err)
{
    vk_reg_value *vals;
    size_t n;
    int rc = vk_reg_values(h, key, &vals, &n, err);
    if (rc < 0)
        return rc;
    long i = find_named(vals, n, name);
    if (i < 0) {
        vk_reg_values_free(vals, n);
        return vk_fail(err, VK_E_NOTFOUND, NULL, VK_NO_OFFSET, "value not found: %s", *name ? name : "(default)");
    }
    *out = vals[i];
    vals[i].name = NULL;
    vals[i].data = NULL;
    vk_reg_values_free(vals, n);
    return 0;
}

int reg_values_store(vk_reg_hive *h, vk_reg_key key, const vk_reg_value *vals, size_t n, vk_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = reg_check_name(vals[i].name, err);
        if (rc < 0)
            return rc;
    }
    hive_set_value *sv = calloc(n + 1, sizeof *sv);
    if (!sv)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for %zu values", n);
    for (size_t i = 0; i < n; i++) {
        sv[i].key = vals[i].name;
        sv[i].t = (hive_type)vals[i].type;
        sv[i].len = vals[i].len;
        sv[i].value = (char *)vals[i].data;
    }
    errno = 0;
    h->changed = true;
    int r = hivex_node_set_values(h->hx, key, n, sv, 0);
    free(sv);
    if (r < 0) {
        h->broken = true;
        return reg_hx_fail(err, "cannot store the values of a key", NULL);
    }
    return 0;
}

int vk_reg_value_set(vk_reg_hive *h, vk_reg_key key, const vk_reg_value *v, vk_error *err)
{
    int rc = reg_check_writable(h, err);
    if (rc < 0)
        return rc;
    if (!v->name || strlen(v->name) > 16383)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "value name missing or longer than 16383 characters");
    if (v->len > 0x7FFFFFF0u || (v->len && !v->data))
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "value data of %zu bytes is not storable", v->len);
    vk_reg_value *vals;
    size_t n;
    rc = vk_reg_values(h, key, &vals, &n, err);
    if (rc < 0)
        return rc;
    long i = find_named(vals, n, v->name);
    vk_reg_value *all = vals;
    if (i < 0) {
        all = realloc(vals, (n + 2) * sizeof *vals);
        if (!all) {
            vk_reg_values_free(vals, n);
            return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a new value");
        }
        i = (long)n++;
        all[i] = (vk_reg_value){0};
        all[i].name = strdup(v->name);
    }
    /* An existing value keeps its stored spelling and its place, as RegSetValueEx does. */
    free(all[i].data);
    all[i].type = v->type;
    all[i].len = v->len;
    all[i].data = malloc(v->len ? v->len : 1);
    if (!all[i].name || !all[i].data) {
        vk_reg_values_free(all, n);
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a value");
    }
    if (v->len)
        memcpy(all[i].data, v->data, v->len);
    rc = reg_values_store(h, key, all, n, err);
    vk_reg_values_free(all, n);
    return rc;
}

int vk_reg_value_delete(vk_reg_hive *h, vk_reg_key key, const char *name, vk_error *err)
{
    int rc = reg_check_writable(h, err);
    if (rc < 0)
        return rc;
    vk_reg_value *vals;
    size_t n;
    rc = vk_reg_values(h, key, &vals, &n, err);
    if (rc < 0)
        return rc;
    long i = find_named(vals, n, name);
    if (i < 0) {
        vk_reg_values_free(vals, n);
        return vk_fail(err, VK_E_NOTFOUND, NULL, VK_NO_OFFSET, "value not found: %s", *name ? name : "(default)");
    }
    vk_reg_value_free(&vals[i]);
    memmove(&vals[i], &vals[i + 1], (n - (size_t)i - 1) * sizeof *vals);
    rc = reg_values_store(h, key, vals, n - 1, err);
    vk_reg_values_free(vals, n - 1);
    return rc;
}
