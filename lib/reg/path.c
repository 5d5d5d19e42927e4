/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Key paths (HKLM\..., HKU\..., HKCU, BCD) to a hive and a path inside it; where each hive lives in a volume. */
#include "reg_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    enum vk_reg_root root;
} hklm_hives[] = {
    {"SYSTEM", VK_REG_ROOT_SYSTEM},     {"SOFTWARE", VK_REG_ROOT_SOFTWARE}, {"SAM", VK_REG_ROOT_SAM},
    {"SECURITY", VK_REG_ROOT_SECURITY}, {"BCD00000000", VK_REG_ROOT_BCD},
};

/* Copy the next '\'-separated component of *s into buf (skipping empty ones); 0 when none is left. */
static size_t next_comp(const char **s, char *buf, size_t cap)
{
    const char *p = *s;
    while (*p == '\\')
        p++;
    size_t n = strcspn(p, "\\");
    *s = p + n;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = 0;
    return n;
}

/* The rest of the path, normalised: no leading, trailing or doubled separators. */
static int set_rest(const char *s, vk_reg_path *out, vk_error *err)
{
    size_t o = 0;
    char comp[VK_REG_PATH_MAX];
    while (next_comp(&s, comp, sizeof comp)) {
        size_t n = strlen(comp);
        if (o + n + 2 > sizeof out->subkey)
            return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "key path too long");
        if (o)
            out->subkey[o++] = '\\';
        memcpy(out->subkey + o, comp, n);
        o += n;
    }
    out->subkey[o] = 0;
    return 0;
}

static int check_user(const char *u, vk_error *err)
{
    if (!*u || !strcmp(u, ".") || !strcmp(u, "..") || strpbrk(u, "/\\:") || strlen(u) >= VK_REG_NAME_MAX)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "not a usable user name: \"%s\"", u);
    return 0;
}

static bool is_any(const char *s, const char *a, const char *b) { return !strcasecmp(s, a) || !strcasecmp(s, b); }

int vk_reg_path_parse(const char *text, const char *current_user, vk_reg_path *out, vk_error *err)
{
    memset(out, 0, sizeof *out);
    const char *s = text;
    char top[64], second[VK_REG_NAME_MAX + 16];
    if (!next_comp(&s, top, sizeof top))
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "empty key path");
    if (is_any(top, "HKLM", "HKEY_LOCAL_MACHINE")) {
        if (!next_comp(&s, second, sizeof second))
            return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "%s needs a hive: SYSTEM, SOFTWARE, SAM or SECURITY", top);
        for (size_t i = 0; i < sizeof hklm_hives / sizeof hklm_hives[0]; i++)
            if (!strcasecmp(second, hklm_hives[i].name)) {
                out->root = hklm_hives[i].root;
                return set_rest(s, out, err);
            }
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET,
                       "HKLM\\%s is not a hive file (HARDWARE is built at boot): use SYSTEM, SOFTWARE, SAM or SECURITY",
                       second);
    }
    if (is_any(top, "HKU", "HKEY_USERS")) {
        if (!next_comp(&s, second, sizeof second))
            return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "%s needs a user: .DEFAULT, NAME or NAME_Classes", top);
        size_t n = strlen(second);
        if (!strcasecmp(second, ".DEFAULT")) {
            out->root = VK_REG_ROOT_DEFAULT;
        } else if (n > 8 && !strcasecmp(second + n - 8, "_Classes")) {
            out->root = VK_REG_ROOT_USRCLASS;
            second[n - 8] = 0;
        } else {
            out->root = VK_REG_ROOT_NTUSER;
        }
        if (out->root != VK_REG_ROOT_DEFAULT) {
            int rc = check_user(second, err);
            if (rc < 0)
                return rc;
            memcpy(out->user, second, strlen(second) + 1); /* length checked by check_user */
        }
        return set_rest(s, out, err);
    }
    if (is_any(top, "HKCU", "HKEY_CURRENT_USER")) {
        if (!current_user)
            return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "%s needs a user name (--user NAME)", top);
        int rc = check_user(current_user, err);
        if (rc < 0)
            return rc;
        memcpy(out->user, current_user, strlen(current_user) + 1);
        out->root = VK_REG_ROOT_NTUSER;
        rc = set_rest(s, out, err);
        /* HKCU\Software\Classes is the user's UsrClass.dat hive, as Windows links it. */
        const char *k = out->subkey;
        if (rc == 0 && !strncasecmp(k, "Software\\Classes", 16) && (k[16] == 0 || k[16] == '\\')) {
            out->root = VK_REG_ROOT_USRCLASS;
            memmove(out->subkey, k + 16 + (k[16] ? 1 : 0), strlen(k + 16 + (k[16] ? 1 : 0)) + 1);
        }
        return rc;
    }
    if (!strcasecmp(top, "BCD")) {
        out->root = VK_REG_ROOT_BCD;
        return set_rest(s, out, err);
    }
    return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET,
                   "unknown root key \"%s\": use HKLM, HKU, HKCU or BCD", top);
}

int vk_reg_root_name(const vk_reg_path *p, char *buf, size_t cap, vk_error *err)
{
    static const char *const fixed[] = {
        [VK_REG_ROOT_SYSTEM] = "HKEY_LOCAL_MACHINE\\SYSTEM",   [VK_REG_ROOT_SOFTWARE] = "HKEY_LOCAL_MACHINE\\SOFTWARE",
        [VK_REG_ROOT_SAM] = "HKEY_LOCAL_MACHINE\\SAM",         [VK_REG_ROOT_SECURITY] = "HKEY_LOCAL_MACHINE\\SECURITY",
        [VK_REG_ROOT_DEFAULT] = "HKEY_USERS\\.DEFAULT",         [VK_REG_ROOT_BCD] = "HKEY_LOCAL_MACHINE\\BCD00000000",
    };
    int n;
    if (p->root == VK_REG_ROOT_NTUSER)
        n = snprintf(buf, cap, "HKEY_USERS\\%s", p->user);
    else if (p->root == VK_REG_ROOT_USRCLASS)
        n = snprintf(buf, cap, "HKEY_USERS\\%s_Classes", p->user);
    else if ((unsigned)p->root < sizeof fixed / sizeof fixed[0] && fixed[p->root])
        n = snprintf(buf, cap, "%s", fixed[p->root]);
    else
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "unknown hive %d", (int)p->root);
    if (n < 0 || (size_t)n >= cap)
        return vk_fail(err, VK_E_RANGE, NULL, VK_NO_OFFSET, "root name longer than the buffer");
    return 0;
}

int vk_reg_hive_files(const vk_reg_path *p, char files[][VK_REG_FILE_MAX], size_t max, vk_error *err)
{
    const char *pat[2] = {NULL, NULL};
    switch (p->root) {
    case VK_REG_ROOT_SYSTEM: pat[0] = "Windows/System32/config/SYSTEM"; break;
    case VK_REG_ROOT_SOFTWARE: pat[0] = "Windows/System32/config/SOFTWARE"; break;
    case VK_REG_ROOT_SAM: pat[0] = "Windows/System32/config/SAM"; break;
    case VK_REG_ROOT_SECURITY: pat[0] = "Windows/System32/config/SECURITY"; break;
    case VK_REG_ROOT_DEFAULT: pat[0] = "Windows/System32/config/DEFAULT"; break;
    case VK_REG_ROOT_NTUSER:
        pat[0] = "Users/%s/NTUSER.DAT";
        pat[1] = "Documents and Settings/%s/NTUSER.DAT";
        break;
    case VK_REG_ROOT_USRCLASS:
        pat[0] = "Users/%s/AppData/Local/Microsoft/Windows/UsrClass.dat";
        pat[1] = "Documents and Settings/%s/Local Settings/Application Data/Microsoft/Windows/UsrClass.dat";
        break;
    case VK_REG_ROOT_BCD:
        pat[0] = "Boot/BCD";
        pat[1] = "EFI/Microsoft/Boot/BCD";
        break;
    default:
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "unknown hive %d", (int)p->root);
    }
    bool per_user = p->root == VK_REG_ROOT_NTUSER || p->root == VK_REG_ROOT_USRCLASS;
    if (per_user) {
        int rc = check_user(p->user, err);
        if (rc < 0)
            return rc;
    }
    size_t n = 0;
    for (size_t i = 0; i < 2 && pat[i] && n < max; i++) {
        int w = per_user ? snprintf(files[n], VK_REG_FILE_MAX, pat[i], p->user)
                         : snprintf(files[n], VK_REG_FILE_MAX, "%s", pat[i]);
        if (w < 0 || w >= VK_REG_FILE_MAX)
            return vk_fail(err, VK_E_RANGE, NULL, VK_NO_OFFSET, "hive path too long for user %s", p->user);
        n++;
    }
    return (int)n;
}
