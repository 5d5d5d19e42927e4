/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen --bcd: a Vista-style boot store at Boot/BCD, keys and device elements modelled byte for byte on a real BCD
 * (corpus hives/regipy/BCD): the boot manager and one OS loader whose 11000001 and 21000001 elements hold an 88-byte
 * partition descriptor (type 6, size 0x48, byte offset at 0x20, style 1 = MBR at 0x34, disk signature at 0x38). */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "vhdkit/part.h"
#include "vhdkit/reg.h"

#define BOOTMGR "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
#define LOADER "{6a6c1f1b-59d4-11dc-9a8b-0016d3cc1f53}"
#define ELEM_LEN 88

static int set(vk_reg_hive *h, const char *key, const char *name, uint32_t type, const void *data, size_t len,
               vk_error *err)
{
    vk_reg_key k;
    int rc = vk_reg_key_create(h, key, &k, err);
    if (rc)
        return rc;
    vk_reg_value v = {.name = (char *)name, .type = type, .data = (uint8_t *)data, .len = len};
    return vk_reg_value_set(h, k, &v, err);
}

static int set_text(vk_reg_hive *h, const char *key, uint32_t type, const char *text, vk_error *err)
{
    vk_reg_value v = {0};
    int rc = vk_reg_value_parse(type, text, &v, err);
    if (!rc)
        rc = set(h, key, "Element", type, v.data, v.len, err);
    vk_reg_value_free(&v);
    return rc;
}

static int set_dword(vk_reg_hive *h, const char *key, const char *name, uint32_t x, vk_error *err)
{
    uint8_t d[4];
    put_le32(d, x);
    return set(h, key, name, VK_REG_DWORD, d, sizeof d, err);
}

int bcd_write(struct gen_ctx *g, vk_error *err)
{
    if (g->spec->layout == GEN_GPT)
        return vk_fail(err, VK_E_USAGE, NULL, VK_NO_OFFSET, "--bcd models an MBR disk's store");
    uint8_t dev[ELEM_LEN] = {0};
    put_le32(dev + 0x10, 6);
    put_le32(dev + 0x18, 0x48);
    put_le64(dev + 0x20, g->disk.ntfs_start_lba * VK_SECTOR_SIZE);
    put_le32(dev + 0x34, 1);
    put_le32(dev + 0x38, g->disk.disk_signature);
    vk_reg_hive *h;
    int rc = vk_reg_hive_new("NewStoreRoot", &h, err);
    if (rc)
        return rc;
    static const struct { const char *key, *name; uint32_t v; } dwords[] = {
        {"Description", "System", 1},
        {"Description", "TreatAsSystem", 1},
        {"Objects\\" BOOTMGR "\\Description", "Type", 0x10100002},
        {"Objects\\" LOADER "\\Description", "Type", 0x10200003},
    };
    static const struct { const char *key; uint32_t type; const char *text; } texts[] = {
        {"Objects\\" BOOTMGR "\\Elements\\12000002", VK_REG_SZ, "\\bootmgr"},
        {"Objects\\" BOOTMGR "\\Elements\\12000004", VK_REG_SZ, "Windows Boot Manager"},
        {"Objects\\" BOOTMGR "\\Elements\\23000003", VK_REG_SZ, LOADER},
        {"Objects\\" BOOTMGR "\\Elements\\24000001", VK_REG_MULTI_SZ, LOADER},
        {"Objects\\" LOADER "\\Elements\\12000002", VK_REG_SZ, "\\Windows\\system32\\winload.exe"},
        {"Objects\\" LOADER "\\Elements\\12000004", VK_REG_SZ, "Microsoft Windows Vista"},
        {"Objects\\" LOADER "\\Elements\\22000002", VK_REG_SZ, "\\Windows"},
    };
    static const char *devices[] = {
        "Objects\\" BOOTMGR "\\Elements\\11000001",
        "Objects\\" LOADER "\\Elements\\11000001",
        "Objects\\" LOADER "\\Elements\\21000001",
    };
    vk_reg_value kn = {0};
    rc = vk_reg_value_parse(VK_REG_SZ, "BCD00000000", &kn, err);
    if (!rc)
        rc = set(h, "Description", "KeyName", VK_REG_SZ, kn.data, kn.len, err);
    vk_reg_value_free(&kn);
    for (size_t i = 0; i < sizeof dwords / sizeof dwords[0] && !rc; i++)
        rc = set_dword(h, dwords[i].key, dwords[i].name, dwords[i].v, err);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0] && !rc; i++)
        rc = set_text(h, texts[i].key, texts[i].type, texts[i].text, err);
    for (size_t i = 0; i < sizeof devices / sizeof devices[0] && !rc; i++)
        rc = set(h, devices[i], "Element", VK_REG_BINARY, dev, sizeof dev, err);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!rc)
        rc = vk_reg_hive_commit(h, &bytes, &len, err);
    vk_reg_hive_close(h);
    if (!rc)
        rc = put_dir(g, "Boot", err);
    if (!rc)
        rc = put_file(g, "Boot/BCD", len, bytes, err);
    free(bytes);
    return rc;
}
