/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reg: key paths and hive files, a new hive built from scratch, typed values, keys, one-transaction commit;
 * hivexget/hivexsh read what we write. */
#include "tap.h"
#include "regtest.h"

#include <sys/wait.h>

#include "core/bytes.h"
#include "vhdkit/reg.h"

static void test_paths(void)
{
    vk_reg_path p;
    vk_error e;
    TAP_OK(vk_reg_path_parse("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", NULL, &p, &e) == 0 &&
               p.root == VK_REG_ROOT_SOFTWARE,
           "HKLM\\SOFTWARE parses to the SOFTWARE hive");
    TAP_EQ_STR(p.subkey, "Microsoft\\Windows NT\\CurrentVersion", "subkey below the hive root");
    TAP_OK(vk_reg_path_parse("hkey_local_machine\\system\\\\CurrentControlSet\\Services\\", NULL, &p, &e) == 0 &&
               p.root == VK_REG_ROOT_SYSTEM,
           "HKEY_LOCAL_MACHINE in any case");
    TAP_EQ_STR(p.subkey, "CurrentControlSet\\Services", "doubled and trailing separators dropped");
    TAP_OK(vk_reg_path_parse("HKU\\.DEFAULT\\Control Panel", NULL, &p, &e) == 0 && p.root == VK_REG_ROOT_DEFAULT,
           "HKU\\.DEFAULT is the DEFAULT hive");
    TAP_OK(vk_reg_path_parse("HKEY_USERS\\bob_Classes\\CLSID", NULL, &p, &e) == 0 && p.root == VK_REG_ROOT_USRCLASS &&
               !strcmp(p.user, "bob"),
           "HKU\\bob_Classes is bob's UsrClass.dat");
    TAP_OK(vk_reg_path_parse("HKU\\bob\\Software", NULL, &p, &e) == 0 && p.root == VK_REG_ROOT_NTUSER &&
               !strcmp(p.user, "bob"),
           "HKU\\bob is bob's NTUSER.DAT");
    TAP_EQ_U64(vk_reg_path_parse("HKCU\\Software", NULL, &p, &e), (uint64_t)VK_E_USAGE, "HKCU without a user is a usage error");
    TAP_OK(vk_reg_path_parse("HKCU\\Software\\Classes\\.txt", "alice", &p, &e) == 0 && p.root == VK_REG_ROOT_USRCLASS &&
               !strcmp(p.subkey, ".txt"),
           "HKCU\\Software\\Classes is the user's UsrClass.dat");
    TAP_OK(vk_reg_path_parse("BCD\\Objects", NULL, &p, &e) == 0 && p.root == VK_REG_ROOT_BCD, "BCD store");
    TAP_EQ_U64(vk_reg_path_parse("HKLM\\HARDWARE", NULL, &p, &e), (uint64_t)VK_E_USAGE, "HKLM\\HARDWARE is refused");
    TAP_EQ_U64(vk_reg_path_parse("HKU\\..\\x", NULL, &p, &e), (uint64_t)VK_E_USAGE, "user name .. is refused");

    char files[4][VK_REG_FILE_MAX];
    vk_reg_path_parse("HKLM\\SAM", NULL, &p, &e);
    TAP_OK(vk_reg_hive_files(&p, files, 4, &e) == 1 && !strcmp(files[0], "Windows/System32/config/SAM"), "SAM file");
    vk_reg_path_parse("HKU\\bob", NULL, &p, &e);
    int n = vk_reg_hive_files(&p, files, 4, &e);
    TAP_OK(n == 2 && !strcmp(files[0], "Users/bob/NTUSER.DAT") &&
               !strcmp(files[1], "Documents and Settings/bob/NTUSER.DAT"),
           "NTUSER.DAT in Users, then XP's Documents and Settings");
    vk_reg_path_parse("HKU\\bob_Classes", NULL, &p, &e);
    n = vk_reg_hive_files(&p, files, 4, &e);
    TAP_OK(n == 2 && !strcmp(files[0], "Users/bob/AppData/Local/Microsoft/Windows/UsrClass.dat") &&
               !strcmp(files[1], "Documents and Settings/bob/Local Settings/Application Data/Microsoft/Windows/UsrClass.dat"),
           "UsrClass.dat locations");
    vk_reg_path_parse("BCD", NULL, &p, &e);
    n = vk_reg_hive_files(&p, files, 4, &e);
    TAP_OK(n == 2 && !strcmp(files[0], "Boot/BCD") && !strcmp(files[1], "EFI/Microsoft/Boot/BCD"), "BCD locations");
    char root[128];
    vk_reg_path_parse("HKU\\bob_Classes", NULL, &p, &e);
    TAP_OK(vk_reg_root_name(&p, root, sizeof root, &e) == 0 && !strcmp(root, "HKEY_USERS\\bob_Classes"), "root name");
}

static int set_str(vk_reg_hive *h, vk_reg_key k, const char *name, uint32_t type, const char *text)
{
    vk_reg_value v = {.name = (char *)name};
    vk_error e;
    if (vk_reg_value_parse(type, text, &v, &e) < 0)
        return -1;
    int rc = vk_reg_value_set(h, k, &v, &e);
    free(v.data);
    return rc;
}

static char *commit_to_file(vk_reg_hive *h, const char *name)
{
    static char path[512];
    uint8_t *b;
    size_t n;
    vk_error e;
    if (vk_reg_hive_commit(h, &b, &n, &e) < 0) {
        printf("# commit: %s\n", e.msg);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", rt_tmpdir(), name);
    rt_write(path, b, n);
    free(b);
    return path;
}

static void test_new_hive(void)
{
    vk_reg_hive *h;
    vk_error e;
    TAP_OK(vk_reg_hive_new("SYSTEM", &h, &e) == 0, "new empty hive opens in hivex");
    char *path = commit_to_file(h, "empty");
    char out[4096], cmd[1200];
    snprintf(cmd, sizeof cmd, "hivexsh -d '%s' </dev/null 2>&1 && echo ok", path ? path : "/nonexistent");
    rt_run(cmd, out, sizeof out);
    TAP_OK(strstr(out, "ok") != NULL, "hivexsh opens the empty hive we wrote");
    size_t n;
    unsigned char *b = rt_read(path, &n);
    TAP_OK(b && n == 8192 && get_le32(b + 4) == get_le32(b + 8) && get_le32(b + 24) == 5, "regf 1.5, clean, 8192 bytes");
    uint32_t x = 0;
    for (int i = 0; i < 508; i += 4)
        x ^= get_le32(b + i);
    TAP_EQ_U64(get_le32(b + 508), x, "base block checksum is the XOR of the first 508 bytes");
    free(b);

    /* A SYSTEM hive as the disk generator needs it. */
    vk_reg_key k;
    TAP_OK(vk_reg_key_create(h, "Select", &k, &e) == 0 && set_str(h, k, "Current", VK_REG_DWORD, "1") == 0,
           "Select\\Current = 1");
    TAP_OK(vk_reg_key_create(h, "ControlSet001\\Control\\ComputerName\\ComputerName", &k, &e) == 0 &&
               set_str(h, k, "ComputerName", VK_REG_SZ, "VHDKIT-TEST") == 0,
           "nested keys created at once");
    TAP_OK(vk_reg_key_create(h, "MountedDevices", &k, &e) == 0, "MountedDevices");
    uint8_t mbr[12] = {0x78, 0x56, 0x34, 0x12, 0x00, 0x7E, 0, 0, 0, 0, 0, 0};
    vk_reg_value mv = {.name = "\\DosDevices\\C:", .type = VK_REG_BINARY, .data = mbr, .len = 12};
    TAP_OK(vk_reg_value_set(h, k, &mv, &e) == 0, "12-byte MBR MountedDevices entry");
    vk_reg_key ccs;
    TAP_OK(vk_reg_key_find(h, "CurrentControlSet\\Control\\computername", &ccs, &e) == 0,
           "CurrentControlSet resolves through Select\\Current, names case-insensitive");
    TAP_OK(vk_reg_key_create(h, "ControlSet001\\Services\\\xc3\x84rger", &k, &e) == 0 &&
               vk_reg_key_find(h, "controlset001\\SERVICES\\\xc3\xa4RGER", &k, &e) == 0,
           "Unicode names compare case-insensitively (A-umlaut)");
    TAP_OK(vk_reg_key_create(h, "ControlSet001\\Services\\\xd0\x94\xd0\xb8\xd1\x81\xd0\xba", &k, &e) == 0 &&
               vk_reg_key_find(h, "ControlSet001\\Services\\\xd0\xb4\xd0\x98\xd0\xa1\xd0\x9a", &k, &e) == 0,
           "Cyrillic names compare case-insensitively");

    /* Typed values. */
    vk_reg_key t;
    vk_reg_key_create(h, "Types", &t, &e);
    set_str(h, t, "sz", VK_REG_SZ, "h\xc3\xa9llo");
    set_str(h, t, "exp", VK_REG_EXPAND_SZ, "%SystemRoot%\\x");
    set_str(h, t, "multi", VK_REG_MULTI_SZ, "one\ntwo\nthree");
    set_str(h, t, "dw", VK_REG_DWORD, "0xdeadbeef");
    set_str(h, t, "be", VK_REG_DWORD_BIG_ENDIAN, "258");
    set_str(h, t, "qw", VK_REG_QWORD, "18446744073709551615");
    set_str(h, t, "bin", VK_REG_BINARY, "00 01 fe ff");
    set_str(h, t, "", VK_REG_SZ, "default");
    set_str(h, t, "odd", 0x1234, "aa,bb");
    const struct { const char *name, *want; uint32_t type; } cases[] = {
        {"sz", "h\xc3\xa9llo", VK_REG_SZ}, {"exp", "%SystemRoot%\\x", VK_REG_EXPAND_SZ},
        {"multi", "one\ntwo\nthree", VK_REG_MULTI_SZ}, {"dw", "3735928559", VK_REG_DWORD}, {"be", "258", VK_REG_DWORD_BIG_ENDIAN},
        {"qw", "18446744073709551615", VK_REG_QWORD}, {"bin", "00 01 fe ff", VK_REG_BINARY}, {"", "default", VK_REG_SZ},
        {"ODD", "aa bb", 0x1234},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vk_reg_value v;
        char *txt = NULL;
        int ok = vk_reg_value_get(h, t, cases[i].name, &v, &e) == 0 && vk_reg_value_format(&v, &txt, &e) == 0;
        TAP_OK(ok && v.type == cases[i].type && !strcmp(txt, cases[i].want), "typed get of \"%s\"", cases[i].name);
        if (!txt)
            printf("# %s\n", e.msg);
        free(txt);
        if (ok)
            vk_reg_value_free(&v);
    }
    char tb[16];
    TAP_EQ_STR(vk_reg_type_name(0x1234, tb), "REG_0x1234", "unknown type name");
    uint32_t ty;
    TAP_OK(vk_reg_type_parse("expand_sz", &ty, &e) == 0 && ty == VK_REG_EXPAND_SZ, "type names parse");
    set_str(h, t, "SZ", VK_REG_SZ, "replaced");
    vk_reg_value *vals;
    size_t nv;
    TAP_OK(vk_reg_values(h, t, &vals, &nv, &e) == 0 && nv == 9 && !strcmp(vals[0].name, "sz"),
           "setting SZ replaces sz in place (case-insensitive, stored spelling kept)");
    vk_reg_values_free(vals, nv);
    TAP_OK(vk_reg_value_delete(h, t, "Bin", &e) == 0, "delete a value");
    TAP_EQ_U64(vk_reg_value_delete(h, t, "bin", &e), (uint64_t)VK_E_NOTFOUND, "deleted value is gone");

    vk_reg_key_create(h, "Doomed\\a\\b\\c", &k, &e);
    set_str(h, k, "x", VK_REG_SZ, "y");
    TAP_OK(vk_reg_key_delete(h, "doomed", &e) == 0, "delete a key recursively");
    TAP_EQ_U64(vk_reg_key_find(h, "Doomed\\a", &k, &e), (uint64_t)VK_E_NOTFOUND, "its subkeys are gone");
    TAP_EQ_U64(vk_reg_key_delete(h, "", &e), (uint64_t)VK_E_USAGE, "the root cannot be deleted");

    path = commit_to_file(h, "system");
    snprintf(cmd, sizeof cmd, "hivexget '%s' 'ControlSet001\\Control\\ComputerName\\ComputerName' ComputerName", path);
    rt_run(cmd, out, sizeof out);
    TAP_EQ_STR(out, "VHDKIT-TEST", "hivexget reads the REG_SZ we wrote");
    snprintf(cmd, sizeof cmd, "hivexget '%s' 'Select' Current", path);
    rt_run(cmd, out, sizeof out);
    TAP_EQ_STR(out, "1", "hivexget reads the DWORD we wrote");
    snprintf(cmd, sizeof cmd, "hivexget '%s' 'Types' multi | grep . | paste -sd,", path);
    rt_run(cmd, out, sizeof out);
    TAP_EQ_STR(out, "one,two,three", "hivexget reads the MULTI_SZ we wrote");
    snprintf(cmd, sizeof cmd, "hivexget '%s' 'Types' | grep -c . ", path);
    rt_run(cmd, out, sizeof out);
    TAP_EQ_STR(out, "8", "hivexget lists 8 values in Types");
    snprintf(cmd, sizeof cmd, "hivexget '%s' 'Doomed' 2>&1; echo $?", path);
    rt_run(cmd, out, sizeof out);
    TAP_OK(strstr(out, "1") != NULL, "hivexget does not find the deleted key");
    vk_reg_hive_close(h);

    /* Reopen our bytes read-only: writes are refused, content is there. */
    b = rt_read(path, &n);
    TAP_OK(vk_reg_hive_open_bytes(b, n, NULL, NULL, 0, &h, &e) == 0, "reopen the committed hive");
    TAP_OK(vk_reg_key_find(h, "MountedDevices", &k, &e) == 0 && vk_reg_value_get(h, k, "\\DOSDEVICES\\c:", &mv, &e) == 0 &&
               mv.len == 12 && !memcmp(mv.data, mbr, 12),
           "MountedDevices entry reads back");
    vk_reg_value_free(&mv);
    TAP_EQ_U64(set_str(h, k, "x", VK_REG_SZ, "y"), (uint64_t)VK_E_READONLY, "a read-only hive refuses changes");
    vk_reg_hive_close(h);
    free(b);
}

int main(void)
{
    test_paths();
    test_new_hive();
    return tap_done();
}
