/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reg: .reg files. Export then import into an empty hive then export again gives the same bytes on real
 * hives; regedit's syntax (BOM, continuations, deletions, comments, hex(N)) parses; errors name the line. */
#include "tap.h"
#include "regtest.h"

#include "core/bytes.h"
#include "vhdkit/reg.h"

static void roundtrip(const char *rel, enum vk_reg_format fmt)
{
    size_t n;
    unsigned char *b = rt_corpus(rel, &n);
    vk_reg_hive *h = NULL, *h2 = NULL;
    vk_error e = {0};
    vk_reg_path id;
    vk_reg_path_parse("HKU\\tester", NULL, &id, &e);
    uint8_t *t1 = NULL, *t2 = NULL;
    size_t n1 = 0, n2 = 0;
    int rc = b ? vk_reg_hive_open_bytes(b, n, NULL, NULL, 0, &h, &e) : -1;
    if (rc == 0)
        rc = vk_reg_export(h, "", "HKEY_USERS\\tester", fmt, &t1, &n1, &e);
    if (rc == 0)
        rc = vk_reg_hive_new("ROOT", &h2, &e);
    if (rc == 0)
        rc = vk_reg_import(h2, &id, t1, n1, &e);
    uint8_t *hb = NULL;
    size_t hn = 0;
    vk_reg_hive *h3 = NULL;
    /* Through bytes, so the committed hive is what is compared. */
    if (rc == 0)
        rc = vk_reg_hive_commit(h2, &hb, &hn, &e);
    if (rc == 0)
        rc = vk_reg_hive_open_bytes(hb, hn, NULL, NULL, 0, &h3, &e);
    if (rc == 0)
        rc = vk_reg_export(h3, "", "HKEY_USERS\\tester", fmt, &t2, &n2, &e);
    TAP_OK(rc == 0 && n1 == n2 && !memcmp(t1, t2, n1), "%s: export, import into a new hive, export again: same %zu bytes (fmt %d)",
           rel, n1, (int)fmt);
    if (rc)
        printf("# %s\n", e.msg);
    else if (n1 != n2 || memcmp(t1, t2, n1)) {
        size_t i = 0;
        while (i < n1 && i < n2 && t1[i] == t2[i])
            i++;
        size_t from = i > 120 ? i - 120 : 0;
        printf("# first difference at byte %zu (sizes %zu, %zu); before it:\n# ", i, n1, n2);
        for (size_t j = from; j < i && j < n1; j++)
            if (t1[j] >= 0x20 && t1[j] < 0x7f)
                putchar(t1[j]);
        printf("\n");
    }
    free(t1);
    free(t2);
    free(hb);
    free(b);
    vk_reg_hive_close(h);
    vk_reg_hive_close(h2);
    vk_reg_hive_close(h3);
}

static char *export_utf8(vk_reg_hive *h, const char *key)
{
    uint8_t *t;
    size_t n;
    vk_error e;
    if (vk_reg_export(h, key, "HKEY_LOCAL_MACHINE\\SOFTWARE", VK_REG_FMT_UTF8, &t, &n, &e) < 0) {
        printf("# export: %s\n", e.msg);
        return NULL;
    }
    return (char *)t;
}

static void test_syntax(void)
{
    vk_reg_hive *h;
    vk_error e;
    vk_reg_path id;
    vk_reg_path_parse("HKLM\\SOFTWARE", NULL, &id, &e);
    vk_reg_hive_new("SOFTWARE", &h, &e);
    const char *text = "\xef\xbb\xbfWindows Registry Editor Version 5.00\r\n"
                       "; a comment\r\n"
                       "\r\n"
                       "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\r\n"
                       "@=\"default \\\"quoted\\\" \\\\ back\"\r\n"
                       "\"Path\"=hex(2):25,00,53,00,79,00,73,00,\\\r\n"
                       "  00,00\r\n"
                       "\"Count\"=dword:0000002a\r\n"
                       "\"Big\"=hex(b):01,00,00,00,00,00,00,00\r\n"
                       "\"Gone\"=\"x\"\r\n"
                       "\"Gone\"=-\r\n"
                       "\r\n"
                       "[HKLM\\SOFTWARE\\Vendor\\Old]\r\n"
                       "\"a\"=\"b\"\r\n"
                       "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Old]\r\n";
    TAP_OK(vk_reg_import(h, &id, (const uint8_t *)text, strlen(text), &e) == 0, "regedit syntax imports: %s", e.msg);
    char *out = export_utf8(h, "Vendor");
    const char *want = "Windows Registry Editor Version 5.00\r\n\r\n"
                       "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n\r\n"
                       "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\r\n"
                       "@=\"default \\\"quoted\\\" \\\\ back\"\r\n"
                       "\"Path\"=hex(2):25,00,53,00,79,00,73,00,00,00\r\n"
                       "\"Count\"=dword:0000002a\r\n"
                       "\"Big\"=hex(b):01,00,00,00,00,00,00,00\r\n"
                       "\r\n";
    TAP_EQ_STR(out, want, "continuations joined, escapes kept, value and key deletions applied");
    free(out);

    /* Hex wrapping: regedit breaks after the byte that reaches column 77, then "\" and two spaces. */
    vk_reg_key k;
    vk_reg_key_find(h, "Vendor\\App", &k, &e);
    uint8_t bin[100];
    for (int i = 0; i < 100; i++)
        bin[i] = (uint8_t)i;
    vk_reg_value v = {.name = "Blob", .type = VK_REG_BINARY, .data = bin, .len = 100};
    vk_reg_value_set(h, k, &v, &e);
    out = export_utf8(h, "Vendor\\App");
    char *line = out ? strstr(out, "\"Blob\"=hex:") : NULL;
    int maxcol = 0, lines = 0;
    for (char *p = line; p && *p;) {
        char *eol = strstr(p, "\r\n");
        int len = (int)(eol - p);
        if (len > maxcol)
            maxcol = len;
        lines++;
        if (len == 0 || p[len - 1] != '\\')
            break;
        p = eol + 2;
    }
    const char *first = "\"Blob\"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,\\\r\n  16,";
    TAP_OK(line && !strncmp(line, first, strlen(first)),
           "first hex line holds 22 bytes after \"Blob\"=hex:");
    TAP_OK(maxcol <= 80 && lines == 5, "hex wrapped into %d lines of at most 80 columns (%d)", lines, maxcol);
    free(out);

    /* Errors name the line and change nothing. */
    const char *bad = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\New]\n\"ok\"=dword:1\n\"bad\"=hex:zz\n";
    vk_error_clear(&e);
    TAP_EQ_U64(vk_reg_import(h, &id, (const uint8_t *)bad, strlen(bad), &e), (uint64_t)VK_E_CORRUPT, "bad hex is an error");
    TAP_OK(strstr(e.msg, "line 5") != NULL, "the error names line 5: %s", e.msg);
    TAP_EQ_U64(vk_reg_key_find(h, "New", &k, &e), (uint64_t)VK_E_NOTFOUND, "nothing of the bad file landed");
    const char *other = "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\X]\n";
    TAP_EQ_U64(vk_reg_import(h, &id, (const uint8_t *)other, strlen(other), &e), (uint64_t)VK_E_CORRUPT,
               "a key of another hive is refused");
    TAP_OK(strstr(e.msg, "line 3") != NULL, "and named by line: %s", e.msg);
    const char *nohdr = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\n";
    TAP_EQ_U64(vk_reg_import(h, &id, (const uint8_t *)nohdr, strlen(nohdr), &e), (uint64_t)VK_E_CORRUPT,
               "a file without header is refused");

    /* REGEDIT4: 8-bit strings; hex(2) holds 8-bit characters. */
    const char r4[] = "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\R4]\r\n\"n\xe9\"=\"caf\xe9\"\r\n\"e\"=hex(2):41,42,00\r\n";
    TAP_OK(vk_reg_import(h, &id, (const uint8_t *)r4, sizeof r4 - 1, &e) == 0, "REGEDIT4 imports");
    vk_reg_key_find(h, "R4", &k, &e);
    char *txt = NULL;
    if (vk_reg_value_get(h, k, "n\xc3\xa9", &v, &e) == 0) {
        vk_reg_value_format(&v, &txt, &e);
        vk_reg_value_free(&v);
    }
    TAP_EQ_STR(txt, "caf\xc3\xa9", "Latin-1 name and string decoded");
    free(txt);
    txt = NULL;
    if (vk_reg_value_get(h, k, "e", &v, &e) == 0) {
        TAP_OK(v.type == VK_REG_EXPAND_SZ && v.len == 6 && !memcmp(v.data, "A\0B\0\0\0", 6), "REGEDIT4 hex(2) widened to UTF-16LE");
        vk_reg_value_free(&v);
    } else
        TAP_OK(0, "REGEDIT4 hex(2) value present");
    uint8_t *t;
    size_t n;
    TAP_OK(vk_reg_export(h, "R4", "HKEY_LOCAL_MACHINE\\SOFTWARE", VK_REG_FMT_REGEDIT4, &t, &n, &e) == 0 &&
               n == sizeof r4 - 1 + 2 && !memcmp(t, r4, sizeof r4 - 1),
           "REGEDIT4 export gives the same 8-bit text back");
    free(t);
    TAP_OK(vk_reg_export(h, "Vendor", "HKEY_LOCAL_MACHINE\\SOFTWARE", VK_REG_FMT_UTF16, &t, &n, &e) == 0 && t[0] == 0xFF &&
               t[1] == 0xFE && t[2] == 'W' && t[3] == 0,
           "version 5 export is UTF-16LE with BOM");
    vk_reg_hive_close(h);
    h = NULL;
    vk_reg_hive_new("SOFTWARE", &h, &e);
    TAP_OK(vk_reg_import(h, &id, t, n, &e) == 0, "UTF-16LE file with BOM imports");
    TAP_OK(vk_reg_key_find(h, "Vendor\\App", &k, &e) == 0, "its keys are there");
    free(t);
    vk_reg_hive_close(h);
}

int main(void)
{
    test_syntax();
    static const char *const hives[] = {
        "plaso/NTUSER.DAT", "regipy/NTUSER.DAT", "plaso/SAM", "regipy/SAM", "hivex/special",
        "nt-hive/testhive", "yarp/UnicodeHive", "yarp/MultiSzHive", "yarp/BigDataHive", "yarp/ExtendedASCIIHive",
        "yarp/StringValuesHive", "regipy/BCD", "plaso/100_sub_keys.hiv",
    };
    for (size_t i = 0; i < sizeof hives / sizeof hives[0]; i++)
        roundtrip(hives[i], VK_REG_FMT_UTF16);
    roundtrip("plaso/NTUSER.DAT", VK_REG_FMT_UTF8);
    return tap_done();
}
