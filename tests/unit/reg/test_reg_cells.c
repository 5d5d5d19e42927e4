/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit's own cell reader (lib/reg/hive_cells.c, behind VK_REG_OPEN_LAZY) against hivex on every corpus hive hivex
 * opens: the same subkeys (names and order), the same values (name, type, bytes) at every key, the same failures,
 * and keys found by path (through the lf/lh hints) at the node hivex finds. Hives hivex refuses must not crash
 * the lazy reader either. */
#include "tap.h"
#include "regtest.h"
#include "reg/reg_int.h"
#include "vhdkit/reg.h"

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

struct cmp {
    const char *hive;
    unsigned keys, values, diffs, found_same;
};

static void diff(struct cmp *c, const char *path, const char *what)
{
    if (c->diffs++ < 5)
        printf("#   %s: %s: %s\n", c->hive, *path ? path : "(root)", what);
}

static void walk(struct cmp *c, vk_reg_hive *hx, vk_reg_hive *lz, vk_reg_key a, vk_reg_key b, const char *path,
                 int depth)
{
    if (depth > 64)
        return;
    c->keys++;
    if (a != b)
        diff(c, path, "different node offsets");
    vk_reg_value *va = NULL, *vb = NULL;
    size_t na = 0, nb = 0;
    vk_error e = {0};
    int ra = vk_reg_values(hx, a, &va, &na, &e), rb = vk_reg_values(lz, b, &vb, &nb, &e);
    if ((ra < 0) != (rb < 0) || na != nb) {
        diff(c, path, "values differ in count or success");
    } else {
        for (size_t i = 0; i < na; i++) {
            c->values++;
            if (strcmp(va[i].name, vb[i].name) || va[i].type != vb[i].type || va[i].len != vb[i].len ||
                (va[i].len && memcmp(va[i].data, vb[i].data, va[i].len)))
                diff(c, path, "a value differs");
        }
    }
    vk_reg_values_free(va, na);
    vk_reg_values_free(vb, nb);
    struct reg_child *ka = NULL, *kb = NULL;
    ra = reg_children(hx, a, &ka, &na, &e);
    rb = reg_children(lz, b, &kb, &nb, &e);
    if ((ra < 0) != (rb < 0) || (ra == 0 && na != nb)) {
        diff(c, path, "subkeys differ in count or success");
    } else if (ra == 0) {
        for (size_t i = 0; i < na; i++) {
            if (strcmp(ka[i].name, kb[i].name)) {
                diff(c, path, "subkey names differ");
                continue;
            }
            char sub[VK_REG_PATH_MAX];
            int w = snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "\\" : "", ka[i].name);
            /* Found by path in both (the lazy handle through the hints, else by reading every name): about 16
             * subkeys of each key, as a search by name in hivex reads every sibling's name. */
            if (w > 0 && (size_t)w < sizeof sub && !strchr(ka[i].name, '\\') && *ka[i].name && i % (na / 16 + 1) == 0) {
                vk_reg_key fa, fb;
                vk_error fe = {0};
                int sa = vk_reg_key_find(hx, sub, &fa, &fe), sb = vk_reg_key_find(lz, sub, &fb, &fe);
                if (sa != sb || (sa == 0 && fa != fb))
                    diff(c, sub, "found differently by path");
                else
                    c->found_same++;
            }
            walk(c, hx, lz, ka[i].node, kb[i].node, sub, depth + 1);
        }
    }
    reg_children_free(ka, na);
    reg_children_free(kb, nb);
}

static void one(const char *rel)
{
    size_t n;
    uint8_t *b = rt_corpus(rel, &n);
    if (!b) {
        TAP_OK(0, "%s: corpus file", rel);
        return;
    }
    vk_reg_hive *hx = NULL, *lz = NULL;
    vk_error e = {0};
    int rh = vk_reg_hive_open_bytes(b, n, NULL, NULL, 0, &hx, &e);
    struct mem *m = malloc(sizeof *m);
    m->p = b;
    m->len = n;
    vk_error le = {0};
    int rl = reg_hive_open_lazy(n, mem_read, m, rel, &lz, &le);
    if (rh < 0 || rl != 0 || vk_reg_hive_replayed(hx) || *vk_reg_hive_warning(hx)) {
        /* hivex refuses it (or it is dirty: the lazy reader leaves those to the whole-hive path): the lazy reader
         * must still fail cleanly or read without crashing. */
        if (lz) {
            vk_reg_key k;
            (void)vk_reg_key_find(lz, "a\\b", &k, &le);
        }
        TAP_OK(rl <= 1, "%s: hivex %s; the lazy reader %s", rel, rh < 0 ? "refuses it" : "opens it dirty",
               rl < 0 ? "refuses it cleanly" : rl == 1 ? "says dirty" : "opens it");
    } else {
        struct cmp c = {rel, 0, 0, 0, 0};
        walk(&c, hx, lz, vk_reg_key_root(hx), vk_reg_key_root(lz), "", 0);
        TAP_OK(c.diffs == 0, "%s: %u keys, %u values, %u found by path: same as hivex (%u differences)", rel, c.keys,
               c.values, c.found_same, c.diffs);
    }
    vk_reg_hive_close(hx);
    vk_reg_hive_close(lz);
    free(b);
}

int main(void)
{
    char list[65536];
    const char *src = getenv("VHDKIT_SRCDIR");
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "d='%s/../shared/corpus/hives'; [ -d \"$d\" ] || d=/work/shared/corpus/hives; cd \"$d\" && "
             "find . -name '*.xz' ! -name '*.LOG*' | sed 's|^\\./||; s|\\.xz$||' | sort | tr '\\n' ' '",
             src ? src : ".");
    if (rt_run(cmd, list, sizeof list) != 0 || !*list) {
        TAP_OK(0, "corpus hives listed");
        return tap_done();
    }
    for (char *save = NULL, *t = strtok_r(list, " ", &save); t; t = strtok_r(NULL, " ", &save))
        one(t);
    rt_cleanup();
    return tap_done();
}
