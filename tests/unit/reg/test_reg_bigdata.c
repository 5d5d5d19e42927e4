/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reg: values over 16344 bytes are stored as db big-data records (hivex alone writes one raw cell, which
 * Windows would misread in a version 1.5 hive); hivexget and our reader get the same bytes back. */
#include "tap.h"
#include "regtest.h"

#include "core/bytes.h"
#include "vhdkit/reg.h"

/* Data offset cell signature of the allocated vk named `name` (ASCII) in the hive bytes, or "" when not found. */
static void data_sig(const uint8_t *d, size_t n, const char *name, char sig[3])
{
    sig[0] = 0;
    size_t nl = strlen(name);
    for (size_t p = 4096 + 32; p + 24 + nl < n; p += 8) {
        if ((int32_t)get_le32(d + p) >= 0 || memcmp(d + p + 4, "vk", 2) || get_le16(d + p + 6) != nl || memcmp(d + p + 24, name, nl))
            continue;
        uint32_t off = get_le32(d + p + 12);
        if (4096 + (size_t)off + 8 <= n) {
            sig[0] = (char)d[4096 + off + 4];
            sig[1] = (char)d[4096 + off + 5];
            sig[2] = 0;
        }
        return;
    }
}

int main(void)
{
    vk_reg_hive *h;
    vk_error e;
    vk_reg_key k;
    TAP_OK(vk_reg_hive_new("SOFTWARE", &h, &e) == 0 && vk_reg_key_create(h, "Big", &k, &e) == 0, "new hive");
    static uint8_t big[100000], edge[16344];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + i / 251);
    memset(edge, 0x5A, sizeof edge);
    vk_reg_value v1 = {.name = "hundredk", .type = VK_REG_BINARY, .data = big, .len = sizeof big};
    vk_reg_value v2 = {.name = "edge", .type = VK_REG_BINARY, .data = edge, .len = sizeof edge};
    TAP_OK(vk_reg_value_set(h, k, &v1, &e) == 0 && vk_reg_value_set(h, k, &v2, &e) == 0, "set 100000 and 16344 byte values");
    uint8_t *b;
    size_t n;
    TAP_OK(vk_reg_hive_commit(h, &b, &n, &e) == 0, "commit");
    char sig[3];
    data_sig(b, n, "hundredk", sig);
    TAP_EQ_STR(sig, "db", "the 100000-byte value points at a db record");
    data_sig(b, n, "edge", sig);
    TAP_OK(strcmp(sig, "db") != 0, "a 16344-byte value stays in one cell (as Microsoft's offreg writes it)");
    char path[600], cmd[900], out[64];
    snprintf(path, sizeof path, "%s/big", rt_tmpdir());
    rt_write(path, b, n);
    snprintf(cmd, sizeof cmd, "hivexget '%s' Big hundredk | wc -c", path);
    rt_run(cmd, out, sizeof out);
    TAP_OK(atoi(out) > 0, "hivexget reads the db value (%s chars of text)", out);
    vk_reg_hive *h2;
    vk_reg_value got = {0};
    int ok = vk_reg_hive_open_bytes(b, n, NULL, NULL, 0, &h2, &e) == 0 && vk_reg_key_find(h2, "Big", &k, &e) == 0 &&
             vk_reg_value_get(h2, k, "hundredk", &got, &e) == 0;
    TAP_OK(ok && got.len == sizeof big && !memcmp(got.data, big, sizeof big), "hivex reads the 100000 bytes back exactly");
    vk_reg_value_free(&got);
    /* Regression: a last segment of 12 bytes fills its 16-byte cell, and hivex then read only 8 of them. */
    got = (vk_reg_value){0};
    vk_reg_hive *h3 = NULL;
    vk_reg_value v3 = {.name = "tail12", .type = VK_REG_BINARY, .data = big, .len = 16344 + 12};
    uint8_t *b3 = NULL;
    size_t n3;
    ok = vk_reg_value_set(h, k, &v3, &e) == 0 && vk_reg_hive_commit(h, &b3, &n3, &e) == 0 &&
         vk_reg_hive_open_bytes(b3, n3, NULL, NULL, 0, &h3, &e) == 0 && vk_reg_key_find(h3, "Big", &k, &e) == 0 &&
         vk_reg_value_get(h3, k, "tail12", &got, &e) == 0;
    TAP_OK(ok && got.len == 16356 && !memcmp(got.data, big, 16356), "a value of 16356 bytes (12-byte last segment) reads back whole");
    vk_reg_value_free(&got);
    vk_reg_hive_close(h3);
    free(b3);
    vk_reg_key_find(h, "Big", &k, &e);
    snprintf(cmd, sizeof cmd, "hivexml '%s' >/dev/null 2>&1; echo $?", path);
    rt_run(cmd, out, sizeof out);
    TAP_EQ_STR(out, "0", "hivexml walks the whole hive");
    if (ok)
        vk_reg_hive_close(h2);
    free(b);

    /* The reference: Microsoft's Offreg wrote nt-hive's testhive with 16345 bytes as db. */
    unsigned char *t = rt_corpus("nt-hive/testhive", &n);
    int found_db = 0;
    for (size_t p = 4096; t && p + 8 < n; p += 8)
        if (!memcmp(t + p + 4, "db", 2) && (int32_t)get_le32(t + p) < 0 && (int32_t)get_le32(t + p) > -64)
            found_db++;
    TAP_OK(found_db > 0, "the offreg-made reference hive uses db records too (%d)", found_db);
    free(t);
    vk_reg_hive_close(h);
    return tap_done();
}
