/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: hive bytes read two ways, vhdkit's lazy cell reader (reg get/ls) and the whole-hive check then hivex
 * (export, writes): every key and value reachable is read, nothing may crash or read out of bounds, and every
 * failure is a clean error code. Input: a hive file. */
#include "fuzz.h"

#include <string.h>

#include "reg/reg_int.h"

struct mem {
    const uint8_t *p;
    size_t len;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len, vk_error *err)
{
    struct mem *m = ctx;
    if (off > m->len || len > m->len - off)
        return vk_fail(err, VK_E_TRUNCATED, NULL, off, "past the end");
    memcpy(buf, m->p + off, len);
    return 0;
}

static void walk(vk_reg_hive *h, vk_reg_key k, const char *path, int depth, unsigned *budget)
{
    if (depth > 6 || !*budget)
        return;
    (*budget)--;
    vk_reg_value *v;
    size_t n;
    int rc = vk_reg_values(h, k, &v, &n, NULL);
    FUZZ_CHECK(rc <= 0);
    if (rc == 0)
        vk_reg_values_free(v, n);
    struct reg_child *kids;
    rc = reg_children(h, k, &kids, &n, NULL);
    FUZZ_CHECK(rc <= 0);
    if (rc)
        return;
    for (size_t i = 0; i < n && i < 8; i++) {
        char sub[512];
        if (snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "\\" : "", kids[i].name) >= (int)sizeof sub)
            continue; /* a cut path would name another key */
        vk_reg_key f;
        FUZZ_CHECK(vk_reg_key_find(h, sub, &f, NULL) <= 0);
        walk(h, kids[i].node, sub, depth + 1, budget);
    }
    reg_children_free(kids, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mem *m = malloc(sizeof *m);
    if (!m)
        return 0;
    m->p = data;
    m->len = size;
    vk_reg_hive *h = NULL;
    unsigned budget = 64;
    int rc = reg_hive_open_lazy(size, mem_read, m, "fuzz", &h, NULL);
    FUZZ_CHECK(rc <= 1);
    if (rc == 0) {
        walk(h, vk_reg_key_root(h), "", 0, &budget);
        vk_reg_hive_close(h);
    }
    h = NULL;
    budget = 64;
    rc = vk_reg_hive_open_bytes(data, size, NULL, NULL, 0, &h, NULL);
    FUZZ_CHECK(rc <= 0);
    if (rc == 0) {
        walk(h, vk_reg_key_root(h), "", 0, &budget);
        vk_reg_hive_close(h);
    }
    return 0;
}

/* Seed: a new hive with a few keys and values, one of them inline, one in a data cell. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    if (i > 0)
        return 0;
    vk_reg_hive *h;
    if (vk_reg_hive_new("ROOT", &h, NULL))
        return 0;
    vk_reg_key k;
    static const uint8_t dw[4] = {42, 0, 0, 0};
    static const uint8_t sz[] = {'a', 0, 'b', 0, 'c', 0, 0, 0};
    vk_reg_value a = {(char *)"d", VK_REG_DWORD, (uint8_t *)dw, 4}, b = {(char *)"s", VK_REG_SZ, (uint8_t *)sz, 8};
    uint8_t *out = NULL;
    size_t n = 0;
    if (vk_reg_key_create(h, "One\\Two", &k, NULL) == 0 && vk_reg_value_set(h, k, &a, NULL) == 0 &&
        vk_reg_value_set(h, k, &b, NULL) == 0 && vk_reg_key_create(h, "Three", &k, NULL) == 0 &&
        vk_reg_hive_commit(h, &out, &n, NULL) == 0 && n <= cap)
        memcpy(buf, out, n);
    else
        n = 0;
    free(out);
    vk_reg_hive_close(h);
    return n;
}
