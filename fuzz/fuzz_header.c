/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: dynamic header decode, round trip and validate, then everything validate promised: the BAT and the
 * locator data are read from the input, so ASan stops on any range validate let through wrongly.
 * Input: virtual size and header offset (big-endian u64 each), then the bytes of the whole file. */
#include "fuzz.h"
#include "seeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16)
        return 0;
    uint64_t vsize = get_be64(data);
    uint64_t header_off = get_be64(data + 8);
    const uint8_t *file = data + 16;
    uint64_t file_size = size - 16;
    if (header_off > file_size || file_size - header_off < VHD_HEADER_LEN)
        return 0;
    struct vhd_header h;
    bool ok;
    if (vhd_header_decode(file + header_off, &h, &ok))
        return 0;

    struct vhd_header g = h;
    uint8_t raw[VHD_HEADER_LEN];
    vhd_header_encode(&g, raw);
    FUZZ_CHECK(!memcmp(raw, file + header_off, VHD_HEADER_OFF_CHECKSUM));
    FUZZ_CHECK(!memcmp(raw + VHD_HEADER_OFF_PARENT_UUID, file + header_off + VHD_HEADER_OFF_PARENT_UUID,
                       VHD_HEADER_LEN - VHD_HEADER_OFF_PARENT_UUID));
    FUZZ_CHECK(ok == (g.checksum == h.checksum));

    vk_error err;
    vk_error_clear(&err);
    int rc = vhd_header_validate(&h, vsize, file_size, header_off, "fuzz.vhd", &err);
    if (rc) {
        FUZZ_CHECK(rc < 0 && err.code == rc && err.has_offset && err.msg[0]);
        FUZZ_CHECK(err.offset >= header_off && err.offset - header_off < VHD_HEADER_LEN);
        return 0;
    }
    FUZZ_CHECK((uint64_t)h.max_table_entries * h.block_size >= vsize);
    uint32_t *bat = malloc((size_t)h.max_table_entries * 4 + 1);
    if (!bat)
        return 0;
    vhd_bat_decode(file + h.table_offset, h.max_table_entries, bat);
    free(bat);
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++) {
        const struct vhd_locator *l = &h.locators[i];
        char out[1024], name[5];
        FUZZ_CHECK(strlen(vhd_platform_name(l->code, name)) == 4);
        if (l->code == VHD_PLAT_NONE)
            continue;
        FUZZ_CHECK(l->data_length <= vhd_locator_space_bytes(l));
        int n = vhd_locator_path_decode(l->code, file + l->data_offset, l->data_length, out, sizeof out);
        FUZZ_CHECK(n < (int)sizeof out);
    }
    return 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    /* footer copy | header | BAT | locator data | footer: the layout Hyper-V writes, shrunk. */
    static const uint32_t codes[] = {VHD_PLAT_W2KU, VHD_PLAT_MACX, VHD_PLAT_NONE};
    static const char w2ku[] = "C\0:\0\\\0p\0.\0v\0h\0d\0";
    static const char macx[] = "file://./p%20q.vhd";
    const size_t file_size = 512 + 1024 + 512 + 512 + 512;
    if (i >= sizeof codes / sizeof codes[0] || cap < 16 + file_size)
        return 0;
    uint8_t *file = buf + 16;
    memset(buf, 0, 16 + file_size);
    put_be64(buf, UINT64_C(8) << 20);
    put_be64(buf + 8, 512);
    seed_footer(file, VHD_TYPE_DIFF, UINT64_C(8) << 20, "win ");
    uint32_t len = codes[i] == VHD_PLAT_W2KU ? sizeof w2ku - 1 : sizeof macx - 1;
    seed_header(file + 512, 1536, 4, codes[i], len, 2048);
    memset(file + 1536, 0xFF, 512);
    put_be32(file + 1536, 5); /* block 0 allocated at sector 5 (bogus, but in the file) */
    memcpy(file + 2048, codes[i] == VHD_PLAT_W2KU ? w2ku : macx, len);
    memcpy(file + 2560, file, 512);
    return 16 + file_size;
}
