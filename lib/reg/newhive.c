/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A new empty hive (regf 1.5): base block with checksum, one 4096-byte hbin holding the root key node (nk)
 * and its security cell (sk), the rest one free cell. Layout per the Windows registry file format
 * specification ("Base block", "Hive bin", "Key node", "Key security"). */
#include "reg_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

#define NK_FIXED 76u
#define NK_FLAGS_ROOT 0x002Cu /* KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME */
#define NO_CELL 0xFFFFFFFFu

/* Self-relative security descriptor: owner Administrators, group SYSTEM; DACL with full control for
 * Administrators and SYSTEM and read for Everyone, inherited by subkeys (hivex gives new keys their
 * parent's sk). */
static size_t put_sid(uint8_t *p, uint8_t authority, const uint32_t *sub, uint8_t nsub)
{
    p[0] = 1;
    p[1] = nsub;
    memset(p + 2, 0, 5);
    p[7] = authority;
    for (uint8_t i = 0; i < nsub; i++)
        put_le32(p + 8 + 4u * i, sub[i]);
    return 8u + 4u * nsub;
}

static size_t put_ace(uint8_t *p, uint32_t mask, uint8_t authority, const uint32_t *sub, uint8_t nsub)
{
    p[0] = 0;    /* ACCESS_ALLOWED_ACE_TYPE */
    p[1] = 0x02; /* CONTAINER_INHERIT_ACE */
    put_le32(p + 4, mask);
    size_t n = 8 + put_sid(p + 8, authority, sub, nsub);
    put_le16(p + 2, (uint16_t)n);
    return n;
}

static size_t build_sd(uint8_t *sd)
{
    static const uint32_t admins[] = {32, 544}, system[] = {18}, everyone[] = {0};
    size_t off = 20;
    /* DACL */
    size_t acl = off;
    sd[acl] = 2;
    off += 8;
    off += put_ace(sd + off, 0x000F003Fu, 5, admins, 2);   /* KEY_ALL_ACCESS */
    off += put_ace(sd + off, 0x000F003Fu, 5, system, 1);
    off += put_ace(sd + off, 0x00020019u, 1, everyone, 1); /* KEY_READ */
    put_le16(sd + acl + 2, (uint16_t)(off - acl));
    put_le16(sd + acl + 4, 3);
    size_t owner = off;
    off += put_sid(sd + off, 5, admins, 2);
    size_t group = off;
    off += put_sid(sd + off, 5, system, 1);
    sd[0] = 1;
    put_le16(sd + 2, 0x8004); /* SE_SELF_RELATIVE | SE_DACL_PRESENT */
    put_le32(sd + 4, (uint32_t)owner);
    put_le32(sd + 8, (uint32_t)group);
    put_le32(sd + 16, (uint32_t)acl);
    return off;
}

int reg_new_hive_bytes(const char *root_name, uint8_t **out, size_t *len, vk_error *err)
{
    size_t name_len = strlen(root_name);
    if (name_len == 0 || name_len > 255)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "root key name must have 1 to 255 characters");
    for (size_t i = 0; i < name_len; i++)
        if ((unsigned char)root_name[i] >= 0x80 || root_name[i] == '\\')
            return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "root key name must be ASCII without backslash");
    size_t total = REGF_BASE_LEN + 4096;
    uint8_t *b = calloc(1, total);
    if (!b)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a new hive");

    uint8_t *bin = b + REGF_BASE_LEN;
    memcpy(bin, "hbin", 4);
    put_le32(bin + 8, 4096);

    uint32_t nk_off = REGF_BIN_HDR;
    uint32_t nk_size = (uint32_t)((4 + NK_FIXED + name_len + 7) & ~7u);
    uint32_t sk_off = nk_off + nk_size;
    uint8_t *nk = bin + nk_off;
    put_le32(nk, (uint32_t)-(int32_t)nk_size);
    memcpy(nk + 4, "nk", 2);
    put_le16(nk + 4 + 2, NK_FLAGS_ROOT);
    put_le32(nk + 4 + 16, 0);          /* parent: none on disk for a root key */
    put_le32(nk + 4 + 28, NO_CELL);    /* subkeys list */
    put_le32(nk + 4 + 32, NO_CELL);    /* volatile subkeys list */
    put_le32(nk + 4 + 40, NO_CELL);    /* values list */
    put_le32(nk + 4 + 44, sk_off);
    put_le32(nk + 4 + 48, NO_CELL);    /* class name */
    put_le16(nk + 4 + 72, (uint16_t)name_len);
    memcpy(nk + 4 + NK_FIXED, root_name, name_len);

    uint8_t sd[128] = {0};
    size_t sd_len = build_sd(sd);
    uint32_t sk_size = (uint32_t)((4 + 20 + sd_len + 7) & ~7u);
    uint8_t *sk = bin + sk_off;
    put_le32(sk, (uint32_t)-(int32_t)sk_size);
    memcpy(sk + 4, "sk", 2);
    put_le32(sk + 4 + 4, sk_off);  /* flink and blink: a one-entry list points at itself */
    put_le32(sk + 4 + 8, sk_off);
    put_le32(sk + 4 + 12, 1);      /* reference count: the root */
    put_le32(sk + 4 + 16, (uint32_t)sd_len);
    memcpy(sk + 4 + 20, sd, sd_len);

    uint32_t free_off = sk_off + sk_size;
    put_le32(bin + free_off, 4096 - free_off);

    memcpy(b, "regf", 4);
    put_le32(b + REGF_OFF_SEQ1, 1);
    put_le32(b + REGF_OFF_SEQ2, 1);
    put_le32(b + REGF_OFF_MAJOR, 1);
    put_le32(b + REGF_OFF_MINOR, 5);
    put_le32(b + REGF_OFF_TYPE, 0);
    put_le32(b + REGF_OFF_FORMAT, 1);
    put_le32(b + REGF_OFF_ROOT, nk_off);
    put_le32(b + REGF_OFF_BINS_LEN, 4096);
    put_le32(b + REGF_OFF_CLUSTER, 1);
    put_le32(b + REGF_OFF_CSUM, reg_base_checksum(b));
    *out = b;
    *len = total;
    return 0;
}
