/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: footer decode, encode round trip, validate, geometry and the creator table.
 * Input: 512 footer bytes, then optionally the file size and the footer offset (big-endian u64 each). */
#include "fuzz.h"
#include "seeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < VHD_FOOTER_LEN)
        return 0;
    struct vhd_footer f;
    bool ok;
    if (vhd_footer_decode(data, &f, &ok))
        return 0;

    struct vhd_footer g = f;
    uint8_t raw[VHD_FOOTER_LEN];
    vhd_footer_encode(&g, raw);
    FUZZ_CHECK(!memcmp(raw, data, VHD_FOOTER_OFF_CHECKSUM));
    FUZZ_CHECK(!memcmp(raw + VHD_FOOTER_OFF_UUID, data + VHD_FOOTER_OFF_UUID, VHD_FOOTER_LEN - VHD_FOOTER_OFF_UUID));
    FUZZ_CHECK(ok == (g.checksum == f.checksum));

    uint64_t file_size = size >= VHD_FOOTER_LEN + 8 ? get_be64(data + VHD_FOOTER_LEN) : size;
    uint64_t footer_off = size >= VHD_FOOTER_LEN + 16 ? get_be64(data + VHD_FOOTER_LEN + 8)
                                                      : file_size - VHD_FOOTER_LEN; /* wraps when tiny: rejected */
    vk_error err;
    vk_error_clear(&err);
    int rc = vhd_footer_validate(&f, file_size, footer_off, "fuzz.vhd", &err);
    uint64_t vsize = vhd_virtual_size(&f);
    if (rc) {
        FUZZ_CHECK(rc < 0 && err.code == rc && err.msg[0] && !strcmp(err.file, "fuzz.vhd"));
        /* A footer "at" offset 2^64-1 is reported at VK_NO_OFFSET, the value that means "no offset". */
        FUZZ_CHECK(err.has_offset ? err.offset >= footer_off && err.offset - footer_off < VHD_FOOTER_LEN
                                  : footer_off == VK_NO_OFFSET);
    } else {
        FUZZ_CHECK(footer_off <= file_size - VHD_FOOTER_LEN && f.current_size % VHD_SECTOR == 0);
        FUZZ_CHECK(vsize <= VHD_MAX_SIZE);
        if (f.disk_type == VHD_TYPE_FIXED)
            FUZZ_CHECK(vsize <= footer_off);
        else
            FUZZ_CHECK(f.data_offset <= file_size - VHD_HEADER_LEN);
    }

    struct vhd_chs c = vhd_chs_for_size(f.current_size);
    FUZZ_CHECK(vhd_chs_bytes(c) <= f.current_size && vhd_chs_bytes(c) <= VHD_MAX_CHS_SECTORS * VHD_SECTOR);
    FUZZ_CHECK(c.heads >= 4 && c.heads <= 16);
    FUZZ_CHECK(c.sectors_per_track == 17 || c.sectors_per_track == 31 || c.sectors_per_track == 63 ||
               c.sectors_per_track == 255);
    const struct vhd_creator *cr = vhd_creator_lookup(f.creator_app);
    FUZZ_CHECK(!cr || !memcmp(cr->app, f.creator_app, 4));
    if (vhd_size_source(&f) == VHD_SIZE_FROM_CURRENT)
        FUZZ_CHECK(vsize == f.current_size);
    return 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    static const struct {
        uint32_t type;
        uint64_t size;
        const char *app;
    } seeds[] = {
        {VHD_TYPE_DYNAMIC, UINT64_C(10) << 20, "vhdk"},
        {VHD_TYPE_FIXED, UINT64_C(1) << 20, "vpc "},
        {VHD_TYPE_DIFF, UINT64_C(127) << 30, "win "},
        {VHD_TYPE_DYNAMIC, UINT64_C(2040) << 30, "qemu"},
    };
    if (i >= sizeof seeds / sizeof seeds[0] || cap < VHD_FOOTER_LEN + 16)
        return 0;
    seed_footer(buf, seeds[i].type, seeds[i].size, seeds[i].app);
    uint64_t file_size = seeds[i].type == VHD_TYPE_FIXED ? seeds[i].size + VHD_FOOTER_LEN : 1u << 20;
    put_be64(buf + VHD_FOOTER_LEN, file_size);
    put_be64(buf + VHD_FOOTER_LEN + 8, file_size - VHD_FOOTER_LEN);
    return VHD_FOOTER_LEN + 16;
}
