/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: a security descriptor (any bytes) to SDDL (lib/ntfs/sddl.c), as `stat` shows what $Secure holds.
 * Input: the descriptor's bytes. */
#include <string.h>

#include "fuzz.h"
#include "vhdkit/ntfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vk_error err;
    vk_error_clear(&err);
    char *sddl = NULL;
    int rc = vk_ntfs_sd_to_sddl(data, size, &sddl, &err);
    if (rc) {
        FUZZ_CHECK(rc == VK_E_CORRUPT && err.code == rc && err.msg[0] && !sddl);
        return 0;
    }
    FUZZ_CHECK(sddl != NULL);
    for (const char *p = sddl; *p; p++)
        FUZZ_CHECK(*p > ' ' && *p < 127); /* SDDL is printable ASCII without spaces */
    /* Each part appears once at most, in the order Windows writes them. */
    const char *o = strstr(sddl, "O:"), *g = strstr(sddl, "G:"), *d = strstr(sddl, "D:"), *s = strstr(sddl, "S:");
    FUZZ_CHECK(!o || o == sddl);
    FUZZ_CHECK(!g || !d || g < d);
    FUZZ_CHECK(!d || !s || d < s);
    free(sddl);
    return 0;
}

/* A profile file's descriptor: owner a user, group SYSTEM, a DACL of three ACEs (user, SYSTEM, Administrators),
 * then the same with an inheritable, protected DACL and a SACL. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    static const uint8_t user[] = {1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x57, 4, 0, 0, 0xae, 8, 0, 0, 5, 0xd, 0, 0,
                                   0xe9, 3, 0, 0};
    static const uint8_t system[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
    static const uint8_t admins[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
    if (i > 1 || cap < 512)
        return 0;
    const struct {
        const uint8_t *sid;
        size_t len;
    } sids[] = {{user, sizeof user}, {system, sizeof system}, {admins, sizeof admins}};
    size_t pos = 20;
    size_t acl = pos;
    pos += 8;
    for (unsigned k = 0; k < 3; k++) {
        buf[pos] = 0;
        buf[pos + 1] = i ? 0x13 : 0; /* OI CI ID */
        buf[pos + 2] = (uint8_t)(8 + sids[k].len);
        buf[pos + 3] = 0;
        memcpy(buf + pos + 4, (const uint8_t[]){0xff, 0x01, 0x1f, 0x00}, 4);
        memcpy(buf + pos + 8, sids[k].sid, sids[k].len);
        pos += 8 + sids[k].len;
    }
    memcpy(buf + acl, (const uint8_t[]){2, 0, (uint8_t)(pos - acl), 0, 3, 0, 0, 0}, 8);
    size_t sacl = 0;
    if (i) { /* an audit ACE for Everyone */
        static const uint8_t everyone[] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
        sacl = pos;
        memcpy(buf + pos, (const uint8_t[]){2, 0, 8 + 8 + sizeof everyone, 0, 1, 0, 0, 0}, 8);
        memcpy(buf + pos + 8, (const uint8_t[]){2, 0x80, 8 + sizeof everyone, 0, 0, 0, 1, 0}, 8);
        memcpy(buf + pos + 16, everyone, sizeof everyone);
        pos += 16 + sizeof everyone;
    }
    size_t owner = pos;
    memcpy(buf + pos, user, sizeof user);
    pos += sizeof user;
    size_t group = pos;
    memcpy(buf + pos, system, sizeof system);
    pos += sizeof system;
    uint16_t control = i ? 0x8000 | 0x1000 | 0x0400 | 0x0014 : 0x8004;
    const uint32_t offs[4] = {(uint32_t)owner, (uint32_t)group, (uint32_t)sacl, (uint32_t)acl};
    buf[0] = 1;
    buf[1] = 0;
    buf[2] = (uint8_t)control;
    buf[3] = (uint8_t)(control >> 8);
    for (unsigned k = 0; k < 4; k++)
        for (unsigned b = 0; b < 4; b++)
            buf[4 + 4 * k + b] = (uint8_t)(offs[k] >> (8 * b));
    return pos;
}
