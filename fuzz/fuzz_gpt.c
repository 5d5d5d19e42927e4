/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: GPT header decode/encode round trip and the table reader with its backup fallback.
 * Input: a disk image; sector 0 is replaced by a protective MBR so every input takes the GPT path. */
#include <stdlib.h>

#include "part/layout.h"
#include "part_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 * 512)
        return 0;
    struct gpt_header h;
    const char *why;
    if (gpt_header_decode(data + 512, &h, &why) == 0) {
        uint8_t raw[512];
        gpt_header_encode(&h, raw);
        /* The fields we know round-trip; bytes past them are reserved and written as zero. */
        FUZZ_CHECK(!memcmp(raw, data + 512, GPT_HEADER_SIZE));
    }
    uint8_t *disk = malloc(size);
    if (!disk)
        return 0;
    memcpy(disk, data, size);
    struct mbr m;
    memset(&m, 0, sizeof m);
    m.e[0].type = MBR_TYPE_GPT_PROTECTIVE;
    m.e[0].lba_first = 1;
    m.e[0].nsec = (uint32_t)(size / 512 - 1);
    memset(disk, 0, 512);
    mbr_encode(&m, disk);
    part_check_disk(disk, size);
    free(disk);
    return 0;
}

/* Seeds: a 128-sector disk with EFI, MSR and basic-data partitions; the same with a damaged primary header. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    const size_t len = 128 * 512;
    if (i > 1 || cap < len)
        return 0;
    vk_dev *d;
    if (vk_dev_memory(len, NULL, 0, &d, NULL))
        return 0;
    vk_part parts[3];
    memset(parts, 0, sizeof parts);
    const char *types[3] = {VK_GPT_TYPE_EFI_SYSTEM, VK_GPT_TYPE_MS_RESERVED, VK_GPT_TYPE_MS_BASIC_DATA};
    for (int k = 0; k < 3; k++) {
        parts[k].start_lba = 34 + 20 * (uint64_t)k;
        parts[k].nsec = 20;
        vk_guid_parse(types[k], parts[k].type_guid);
        parts[k].uuid[0] = (uint8_t)(k + 1);
        snprintf(parts[k].name, sizeof parts[k].name, "part %d", k + 1);
    }
    uint8_t guid[16] = {1, 2, 3};
    vk_part_write_gpt(d, guid, parts, 3, NULL);
    memcpy(buf, vk_dev_memory_bytes(d), len);
    if (i == 1)
        buf[512 + 16] ^= 1;
    vk_dev_close(d);
    return len;
}
