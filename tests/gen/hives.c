/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen registry hives built with vk_reg: SYSTEM (Select, ComputerName, Services, MountedDevices for the disk
 * layout), SOFTWARE (CurrentVersion, ProfileList), SAM, SECURITY, DEFAULT and the users' NTUSER.DAT. */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

#include "vhdkit/part.h"
#include "vhdkit/reg.h"

struct hive {
    vk_reg_hive *h;
    vk_error *err;
    int rc;                  /* first failure; later calls do nothing */
};

static void key(struct hive *hv, const char *path)
{
    vk_reg_key k;
    if (!hv->rc)
        hv->rc = vk_reg_key_create(hv->h, path, &k, hv->err);
}

/* One value from its text form (vk_reg_value_parse), or raw bytes when data is not NULL. */
static void val_raw(struct hive *hv, const char *path, const char *name, uint32_t type, const char *text,
                    const void *data, size_t len)
{
    if (hv->rc)
        return;
    vk_reg_key k;
    vk_reg_value v = {0};
    hv->rc = vk_reg_key_create(hv->h, path, &k, hv->err);
    if (!hv->rc && data) {
        v.data = malloc(len);
        if (!v.data)
            hv->rc = vk_fail(hv->err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for a value");
        else
            memcpy(v.data, data, len);
        v.len = len;
        v.type = type;
    } else if (!hv->rc) {
        hv->rc = vk_reg_value_parse(type, text, &v, hv->err);
    }
    if (!hv->rc) {
        v.name = (char *)name;
        hv->rc = vk_reg_value_set(hv->h, k, &v, hv->err);
        v.name = NULL;
    }
    vk_reg_value_free(&v);
}

static void val(struct hive *hv, const char *path, const char *name, uint32_t type, const char *text)
{
    val_raw(hv, path, name, type, text, NULL, 0);
}

static int is_xp(const struct gen_ctx *g) { return g->spec->layout == GEN_MBR63; }

static void build_system(struct gen_ctx *g, struct hive *hv)
{
    const struct gen_spec *s = g->spec;
    char text[256];
    val(hv, "Select", "Current", VK_REG_DWORD, "1");
    val(hv, "Select", "Default", VK_REG_DWORD, "1");
    val(hv, "Select", "Failed", VK_REG_DWORD, "0");
    val(hv, "Select", "LastKnownGood", VK_REG_DWORD, "1");
    snprintf(text, sizeof text, "VKGEN-%llu", (unsigned long long)s->seed);
    val(hv, "ControlSet001\\Control\\ComputerName\\ComputerName", "ComputerName", VK_REG_SZ, text);
    val(hv, "ControlSet001\\Control\\TimeZoneInformation", "TimeZoneKeyName", VK_REG_SZ, "UTC");
    val(hv, "ControlSet001\\Control\\Session Manager\\Memory Management", "PagingFiles", VK_REG_MULTI_SZ,
        "C:\\pagefile.sys 0 0");
    val(hv, "ControlSet001\\Control\\Session Manager\\Memory Management", "ExistingPageFiles", VK_REG_MULTI_SZ,
        "\\??\\C:\\pagefile.sys");
    val(hv, "ControlSet001\\Control\\Power", "HibernateEnabled", VK_REG_DWORD, s->hiberfil ? "1" : "0");
    val(hv, "ControlSet001\\Control\\Session Manager\\Power", "HiberbootEnabled", VK_REG_DWORD,
        s->hiberfil ? "1" : "0");
    static const struct { const char *name, *image, *display; unsigned start, type; } svc[] = {
        {"disk", "System32\\drivers\\disk.sys", "Disk Driver", 0, 1},
        {"Ntfs", "System32\\drivers\\Ntfs.sys", "Ntfs", 3, 2},
        {"volsnap", "System32\\drivers\\volsnap.sys", "Volume Shadow Copy driver", 0, 1},
        {"Tcpip", "System32\\drivers\\tcpip.sys", "TCP/IP Protocol Driver", 0, 1},
        {"EventLog", "%SystemRoot%\\System32\\svchost.exe -k LocalServiceNetworkRestricted", "Windows Event Log", 2,
         32},
    };
    for (size_t i = 0; i < sizeof svc / sizeof svc[0]; i++) {
        char path[256], num[16];
        snprintf(path, sizeof path, "ControlSet001\\Services\\%s", svc[i].name);
        snprintf(num, sizeof num, "%u", svc[i].start);
        val(hv, path, "Start", VK_REG_DWORD, num);
        snprintf(num, sizeof num, "%u", svc[i].type);
        val(hv, path, "Type", VK_REG_DWORD, num);
        val(hv, path, "ErrorControl", VK_REG_DWORD, "1");
        val(hv, path, "ImagePath", VK_REG_EXPAND_SZ, svc[i].image);
        val(hv, path, "DisplayName", VK_REG_SZ, svc[i].display);
    }
    /* How Windows finds C: again: MBR disks by signature + partition byte offset, GPT ones by partition GUID. */
    uint8_t md[24];
    size_t mdlen;
    if (s->layout == GEN_GPT) {
        memcpy(md, "DMIO:ID:", 8);
        memcpy(md + 8, g->disk.ntfs_guid, 16);
        mdlen = 24;
    } else {
        uint64_t off = g->disk.ntfs_start_lba * VK_SECTOR_SIZE;
        for (int i = 0; i < 4; i++)
            md[i] = (uint8_t)(g->disk.disk_signature >> (8 * i));
        for (int i = 0; i < 8; i++)
            md[4 + i] = (uint8_t)(off >> (8 * i));
        mdlen = 12;
    }
    val_raw(hv, "MountedDevices", "\\DosDevices\\C:", VK_REG_BINARY, NULL, md, mdlen);
    char guid[37], name[64];
    vk_guid_format(g->disk.ntfs_guid, guid);
    for (char *p = guid; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
    snprintf(name, sizeof name, "\\??\\Volume{%s}", guid);
    val_raw(hv, "MountedDevices", name, VK_REG_BINARY, NULL, md, mdlen);
}

#define SID "S-1-5-21-1004336348-1177238915-682003330-1001"

static void build_software(struct gen_ctx *g, struct hive *hv)
{
    const char *cv = "Microsoft\\Windows NT\\CurrentVersion";
    char text[512];
    val(hv, cv, "ProductName", VK_REG_SZ, is_xp(g) ? "Microsoft Windows XP" : "Windows 10 Pro");
    val(hv, cv, "CurrentVersion", VK_REG_SZ, is_xp(g) ? "5.1" : "6.3");
    val(hv, cv, "CurrentBuild", VK_REG_SZ, is_xp(g) ? "2600" : "19045");
    val(hv, cv, "CurrentBuildNumber", VK_REG_SZ, is_xp(g) ? "2600" : "19045");
    val(hv, cv, "EditionID", VK_REG_SZ, "Professional");
    val(hv, cv, "InstallationType", VK_REG_SZ, "Client");
    val(hv, cv, "RegisteredOwner", VK_REG_SZ, g->spec->user);
    val(hv, cv, "SystemRoot", VK_REG_SZ, "C:\\Windows");
    val(hv, "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", "ProfilesDirectory", VK_REG_EXPAND_SZ,
        "%SystemDrive%\\Users");
    snprintf(text, sizeof text, "C:\\Users\\%s", g->spec->user);
    val(hv, "Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\" SID, "ProfileImagePath", VK_REG_EXPAND_SZ, text);
    val(hv, "Microsoft\\Windows\\CurrentVersion", "ProgramFilesDir", VK_REG_SZ, "C:\\Program Files");
    val(hv, "Microsoft\\Windows\\CurrentVersion", "CommonFilesDir", VK_REG_SZ, "C:\\Program Files\\Common Files");
    key(hv, "Classes\\.txt");
    val(hv, "Contoso\\Editor", "InstallDir", VK_REG_SZ, "C:\\Program Files\\Contoso\\Editor");
    /* Each chain child installs an "update": registry tests can tell the levels apart. */
    for (unsigned l = 1; l <= g->level; l++) {
        char path[256];
        snprintf(path, sizeof path, "Microsoft\\Windows\\CurrentVersion\\Uninstall\\VkGenUpdate%u", l);
        snprintf(text, sizeof text, "vk-gen update %u", l);
        val(hv, path, "DisplayName", VK_REG_SZ, text);
        val(hv, path, "Level", VK_REG_DWORD, text + strlen("vk-gen update "));
    }
}

static void build_sam(struct gen_ctx *g, struct hive *hv)
{
    char path[256];
    snprintf(path, sizeof path, "SAM\\Domains\\Account\\Users\\Names\\%s", g->spec->user);
    key(hv, path);
    key(hv, "SAM\\Domains\\Builtin");
}

static void build_ntuser(struct gen_ctx *g, struct hive *hv)
{
    char text[512];
    val(hv, "Environment", "TEMP", VK_REG_EXPAND_SZ, "%USERPROFILE%\\AppData\\Local\\Temp");
    val(hv, "Environment", "TMP", VK_REG_EXPAND_SZ, "%USERPROFILE%\\AppData\\Local\\Temp");
    snprintf(text, sizeof text, "C:\\Users\\%s\\Documents", g->spec->user);
    val(hv, "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Shell Folders", "Personal", VK_REG_SZ, text);
    val(hv, "Control Panel\\Desktop", "Wallpaper", VK_REG_SZ, "C:\\Windows\\Web\\Wallpaper\\Windows\\img0.jpg");
}

static void build_empty(struct gen_ctx *g, struct hive *hv)
{
    (void)g;
    (void)hv;
}

typedef void (*build_fn)(struct gen_ctx *g, struct hive *hv);

static int write_hive(struct gen_ctx *g, const char *path, build_fn build, vk_error *err)
{
    struct hive hv = {.err = err};
    hv.rc = vk_reg_hive_new(NULL, &hv.h, err);
    if (hv.rc)
        return hv.rc;
    build(g, &hv);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!hv.rc)
        hv.rc = vk_reg_hive_commit(hv.h, &bytes, &len, err);
    vk_reg_hive_close(hv.h);
    if (!hv.rc)
        hv.rc = put_file(g, path, len, bytes, err);
    free(bytes);
    return hv.rc;
}

int hives_write(struct gen_ctx *g, vk_error *err)
{
    char ntuser[256];
    snprintf(ntuser, sizeof ntuser, "Users/%s/NTUSER.DAT", g->spec->user);
    if (g->level > 0) /* children only change SOFTWARE */
        return write_hive(g, "Windows/System32/config/SOFTWARE", build_software, err);
    static const struct { const char *path; build_fn fn; } hives[] = {
        {"Windows/System32/config/SYSTEM", build_system},
        {"Windows/System32/config/SOFTWARE", build_software},
        {"Windows/System32/config/SAM", build_sam},
        {"Windows/System32/config/SECURITY", build_empty},
        {"Windows/System32/config/DEFAULT", build_empty},
        {"Users/Default/NTUSER.DAT", build_ntuser},
    };
    for (size_t i = 0; i < sizeof hives / sizeof hives[0]; i++) {
        int rc = write_hive(g, hives[i].path, hives[i].fn, err);
        if (rc)
            return rc;
    }
    int rc = g->spec->bcd ? bcd_write(g, err) : 0;
    return rc ? rc : write_hive(g, ntuser, build_ntuser, err);
}
