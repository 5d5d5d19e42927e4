/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: BAT decode/encode, BAT and sector bitmap sizes, sector bitmap bits.
 * Input: block size (big-endian u32), then BAT bytes. */
#include "fuzz.h"
#include "seeds.h"

#include "core/checked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t block_size = get_be32(data);
    const uint8_t *raw = data + 4;
    uint32_t n = (uint32_t)((size - 4) / 4);
    uint32_t *bat = malloc((size_t)n * 4 + 4);
    uint8_t *back = malloc((size_t)n * 4 + 4);
    if (!bat || !back)
        goto out;
    vhd_bat_decode(raw, n, bat);
    vhd_bat_encode(bat, n, back);
    FUZZ_CHECK(!memcmp(raw, back, (size_t)n * 4));
    uint64_t bat_len = vhd_bat_bytes(n);
    FUZZ_CHECK(bat_len % VHD_SECTOR == 0 && bat_len >= (uint64_t)n * 4 && bat_len < (uint64_t)n * 4 + VHD_SECTOR);

    if (!is_pow2_u64(block_size) || block_size < VHD_SECTOR || block_size > VHD_MAX_BLOCK_SIZE)
        goto out;
    uint32_t bm_len = vhd_bitmap_bytes(block_size);
    uint32_t sectors = block_size / VHD_SECTOR;
    FUZZ_CHECK(bm_len % VHD_SECTOR == 0 && (uint64_t)bm_len * 8 >= sectors && bm_len - (sectors + 7) / 8 < VHD_SECTOR);
    uint8_t *bm = calloc(1, bm_len);
    if (!bm)
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = bat[i] % sectors;
        vhd_bitmap_set(bm, s);
        FUZZ_CHECK(vhd_bitmap_get(bm, s));
        if (i % 2) {
            vhd_bitmap_clear(bm, s);
            FUZZ_CHECK(!vhd_bitmap_get(bm, s));
        }
    }
    free(bm);
out:
    free(bat);
    free(back);
    return 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    if (i > 1 || cap < 4 + 512)
        return 0;
    put_be32(buf, i ? 512 : VHD_DEFAULT_BLOCK_SIZE);
    memset(buf + 4, 0xFF, 512);
    put_be32(buf + 4, 3);
    put_be32(buf + 8, 4103);
    return 4 + 512;
}
