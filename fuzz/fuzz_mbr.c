/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: MBR decode/encode round trip and the table reader over MBR disks with EBR chains.
 * Input: the first sectors of a disk image. */
#include "part/layout.h"
#include "part_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 512) {
        struct mbr m;
        mbr_decode(data, &m);
        uint8_t raw[512];
        memcpy(raw, data, 512);
        mbr_encode(&m, raw);
        /* The partition entries and the disk signature survive decode + encode. */
        FUZZ_CHECK(!memcmp(raw + MBR_DISK_SIG_OFF, data + MBR_DISK_SIG_OFF, 4));
        FUZZ_CHECK(!memcmp(raw + MBR_TABLE_OFF, data + MBR_TABLE_OFF, 64));
    }
    part_check_disk(data, size);
    return 0;
}

/* Seeds: primaries at 63 and 2048 in a 64 KiB disk scaled down (sectors 1.. of 128), and an EBR chain. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    const size_t len = 128 * 512;
    if (i > 1 || cap < len)
        return 0;
    vk_dev *d;
    if (vk_dev_memory(len, NULL, 0, &d, NULL))
        return 0;
    vk_part parts[2] = {{0}, {0}};
    parts[0].start_lba = 1;
    parts[0].nsec = 40;
    parts[0].mbr_type = 0x07;
    parts[1].start_lba = 64;
    parts[1].nsec = 60;
    parts[1].mbr_type = i == 0 ? 0x07 : 0x0F;
    vk_part_write_mbr(d, 0x12345678, parts, 2, NULL);
    uint8_t *b = vk_dev_memory_bytes(d);
    if (i == 1) {
        for (int k = 0; k < 2; k++) {
            struct mbr m;
            memset(&m, 0, sizeof m);
            m.e[0].type = 0x83;
            m.e[0].lba_first = 2;
            m.e[0].nsec = 20;
            if (k == 0) {
                m.e[1].type = 0x05;
                m.e[1].lba_first = 30;
                m.e[1].nsec = 30;
            }
            mbr_encode(&m, b + (64 + 30 * k) * 512);
        }
    }
    memcpy(buf, b, len);
    vk_dev_close(d);
    return len;
}
