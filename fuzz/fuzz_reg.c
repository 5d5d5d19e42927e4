/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: .reg import (BOM detection, header, keys, values, continuations, deletions) into a new hive,
 * then export of what landed. Input: a .reg file. */
#include "fuzz.h"

#include <string.h>

#include "vhdkit/reg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vk_reg_hive *h;
    vk_reg_path id;
    if (vk_reg_path_parse("HKLM\\SOFTWARE", NULL, &id, NULL) || vk_reg_hive_new("SOFTWARE", &h, NULL))
        return 0;
    int rc = vk_reg_import(h, &id, data, size, NULL);
    FUZZ_CHECK(rc <= 0);
    if (rc == 0) {
        uint8_t *out;
        size_t n;
        if (vk_reg_export(h, "", "HKEY_LOCAL_MACHINE\\SOFTWARE", VK_REG_FMT_UTF8, &out, &n, NULL) == 0) {
            FUZZ_CHECK(n >= 38 && !memcmp(out, "Windows Registry Editor Version 5.00", 36));
            free(out);
        }
    }
    vk_reg_hive_close(h);
    return 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    static const char *const seeds[] = {
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\B]\r\n@=\"d\\\"q\\\\\"\r\n"
        "\"x\"=dword:0000002a\r\n\"h\"=hex(2):41,00,\\\r\n  00,00\r\n\"b\"=hex:01,02\r\n\"x\"=-\r\n"
        "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\C]\r\n; comment\r\n",
        "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\R]\n\"n\"=\"v\"\n\"m\"=hex(7):61,00,00\n",
    };
    if (i >= sizeof seeds / sizeof seeds[0])
        return 0;
    size_t n = strlen(seeds[i]);
    if (n > cap)
        return 0;
    memcpy(buf, seeds[i], n);
    return n;
}
