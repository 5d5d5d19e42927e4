/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A self-relative security descriptor as SDDL, the text Windows shows for one (icacls /save, Get-Acl's Sddl,
 * ConvertSecurityDescriptorToStringSecurityDescriptor): well-known SIDs and rights by their SDDL aliases, others
 * as S-1-... and hex masks. Every offset and length comes from the (hostile) input and is checked before use. */
#include "vhdkit/ntfs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

#define SD_HEADER_LEN 20u
#define SE_DACL_PRESENT 0x0004u
#define SE_SACL_PRESENT 0x0010u
#define SE_DACL_AUTO_INHERIT_REQ 0x0100u
#define SE_SACL_AUTO_INHERIT_REQ 0x0200u
#define SE_DACL_AUTO_INHERITED 0x0400u
#define SE_SACL_AUTO_INHERITED 0x0800u
#define SE_DACL_PROTECTED 0x1000u
#define SE_SACL_PROTECTED 0x2000u
#define ACL_HEADER_LEN 8u
#define ACE_HEADER_LEN 4u
#define SID_MAX_SUBAUTH 15u

/* A growing string; `failed` once memory ran out. */
struct text {
    char *s;
    size_t len, cap;
    int failed;
};

#ifdef __GNUC__
__attribute__((format(printf, 2, 3)))
#endif
static void put(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->s && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 256;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

static const struct {
    const char *sid, *alias;
} sid_aliases[] = {
    {"S-1-1-0", "WD"},      {"S-1-3-0", "CO"},      {"S-1-3-1", "CG"},      {"S-1-5-2", "NU"},
    {"S-1-5-4", "IU"},      {"S-1-5-6", "SU"},      {"S-1-5-7", "AN"},      {"S-1-5-9", "ED"},
    {"S-1-5-10", "PS"},     {"S-1-5-11", "AU"},     {"S-1-5-12", "RC"},     {"S-1-5-18", "SY"},
    {"S-1-5-19", "LS"},     {"S-1-5-20", "NS"},     {"S-1-5-32-544", "BA"}, {"S-1-5-32-545", "BU"},
    {"S-1-5-32-546", "BG"}, {"S-1-5-32-547", "PU"}, {"S-1-5-32-548", "AO"}, {"S-1-5-32-549", "SO"},
    {"S-1-5-32-550", "PO"}, {"S-1-5-32-551", "BO"}, {"S-1-5-32-555", "RD"}, {"S-1-15-2-1", "AC"},
    {"S-1-16-4096", "LW"},  {"S-1-16-8192", "ME"},  {"S-1-16-12288", "HI"}, {"S-1-16-16384", "SI"},
};

/* The SID at `off` (its length checked against `end`) as text into buf; its size in bytes, or 0 when it is bad. */
static size_t sid_text(const uint8_t *sd, size_t off, size_t end, char *buf, size_t cap)
{
    if (off > end || end - off < 8 || sd[off] != 1 || sd[off + 1] > SID_MAX_SUBAUTH)
        return 0;
    size_t n = sd[off + 1], size = 8 + 4 * n;
    if (end - off < size)
        return 0;
    uint64_t auth = 0;
    for (int i = 0; i < 6; i++)
        auth = auth << 8 | sd[off + 2 + i];
    size_t used = (size_t)snprintf(buf, cap, "S-1-%llu", (unsigned long long)auth);
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "-%u", (unsigned)get_le32(sd + off + 8 + 4 * i));
    for (size_t i = 0; i < sizeof sid_aliases / sizeof sid_aliases[0]; i++)
        if (!strcmp(buf, sid_aliases[i].sid)) {
            snprintf(buf, cap, "%s", sid_aliases[i].alias);
            break;
        }
    return size;
}

static void put_rights(struct text *t, uint32_t mask)
{
    static const struct {
        uint32_t mask;
        const char *alias;
    } rights[] = {{0x1f01ff, "FA"}, {0x120089, "FR"}, {0x120116, "FW"}, {0x1200a0, "FX"},
                  {0x10000000, "GA"}, {0x80000000, "GR"}, {0x40000000, "GW"}, {0x20000000, "GX"}};
    for (size_t i = 0; i < sizeof rights / sizeof rights[0]; i++)
        if (mask == rights[i].mask) {
            put(t, "%s", rights[i].alias);
            return;
        }
    put(t, "0x%x", (unsigned)mask);
}

/* The ACL at `off` as "(ace)(ace)..."; 0, or -1 when it does not fit or an ACE is malformed. */
static int put_acl(struct text *t, const uint8_t *sd, size_t len, size_t off)
{
    if (off > len || len - off < ACL_HEADER_LEN)
        return -1;
    size_t size = get_le16(sd + off + 2), count = get_le16(sd + off + 4);
    if (size < ACL_HEADER_LEN || size > len - off)
        return -1;
    size_t end = off + size, at = off + ACL_HEADER_LEN;
    static const char *const types[] = {"A", "D", "AU", "AL"};
    for (size_t i = 0; i < count; i++) {
        if (end - at < ACE_HEADER_LEN)
            return -1;
        unsigned type = sd[at], flags = sd[at + 1];
        size_t ace_size = get_le16(sd + at + 2);
        if (ace_size < ACE_HEADER_LEN + 4 || ace_size > end - at)
            return -1;
        if (type < 4)
            put(t, "(%s;", types[type]);
        else
            put(t, "(0x%x;", type); /* object and callback ACEs: their type as a number (they do not occur on files) */
        static const struct {
            unsigned bit;
            const char *name;
        } ace_flags[] = {{0x1, "OI"}, {0x2, "CI"}, {0x4, "NP"}, {0x8, "IO"}, {0x10, "ID"}, {0x40, "SA"}, {0x80, "FA"}};
        for (size_t k = 0; k < sizeof ace_flags / sizeof ace_flags[0]; k++)
            if (flags & ace_flags[k].bit)
                put(t, "%s", ace_flags[k].name);
        put(t, ";");
        put_rights(t, get_le32(sd + at + 4));
        char sid[200];
        if (type < 4) {
            if (!sid_text(sd, at + 8, at + ace_size, sid, sizeof sid))
                return -1;
            put(t, ";;;%s)", sid);
        } else {
            put(t, ";;;)");
        }
        at += ace_size;
    }
    return 0;
}

static void put_acl_flags(struct text *t, unsigned control, unsigned protect, unsigned req, unsigned inherited)
{
    if (control & protect)
        put(t, "P");
    if (control & req)
        put(t, "AR");
    if (control & inherited)
        put(t, "AI");
}

int vk_ntfs_sd_to_sddl(const uint8_t *sd, size_t len, char **out, vk_error *err)
{
    *out = NULL;
    if (len < SD_HEADER_LEN || sd[0] != 1)
        return vk_fail(err, VK_E_CORRUPT, NULL, 0, "not a self-relative security descriptor (%zu bytes)", len);
    unsigned control = get_le16(sd + 2);
    size_t owner = get_le32(sd + 4), group = get_le32(sd + 8), sacl = get_le32(sd + 12), dacl = get_le32(sd + 16);
    struct text t = {0};
    char sid[200];
    int bad = 0;
    if (owner) {
        bad |= !sid_text(sd, owner, len, sid, sizeof sid);
        put(&t, "O:%s", sid);
    }
    if (!bad && group) {
        bad |= !sid_text(sd, group, len, sid, sizeof sid);
        put(&t, "G:%s", sid);
    }
    if (!bad && (control & SE_DACL_PRESENT)) {
        put(&t, "D:");
        put_acl_flags(&t, control, SE_DACL_PROTECTED, SE_DACL_AUTO_INHERIT_REQ, SE_DACL_AUTO_INHERITED);
        if (!dacl)
            put(&t, "NO_ACCESS_CONTROL"); /* a NULL DACL: everyone may do everything */
        else
            bad |= put_acl(&t, sd, len, dacl) != 0;
    }
    if (!bad && (control & SE_SACL_PRESENT) && sacl) {
        put(&t, "S:");
        put_acl_flags(&t, control, SE_SACL_PROTECTED, SE_SACL_AUTO_INHERIT_REQ, SE_SACL_AUTO_INHERITED);
        bad |= put_acl(&t, sd, len, sacl) != 0;
    }
    if (!bad && !t.s)
        put(&t, "%s", "");
    if (t.failed) {
        free(t.s);
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, NULL);
    }
    if (bad) {
        free(t.s);
        return vk_fail(err, VK_E_CORRUPT, NULL, 0, "malformed security descriptor (%zu bytes)", len);
    }
    *out = t.s;
    return 0;
}
