/* SPDX-License-Identifier: GPL-2.0-or-later */
/* core: byte helpers, checked arithmetic, UTF-16 conversion and the error table. */
#include "tap.h"

#include "core/bytes.h"
#include "core/checked.h"
#include "core/utf16.h"
#include "vhdkit/error.h"

static void test_bytes(void)
{
    uint8_t b[8];
    put_be32(b, 0x01020304);
    TAP_OK(b[0] == 1 && b[3] == 4, "put_be32 stores most significant byte first");
    TAP_EQ_U64(get_be32(b), 0x01020304, "get_be32 reads back put_be32");
    put_le64(b, 0x1122334455667788ull);
    TAP_OK(b[0] == 0x88 && b[7] == 0x11, "put_le64 stores least significant byte first");
    TAP_EQ_U64(get_le64(b), 0x1122334455667788ull, "get_le64 reads back put_le64");
    put_be64(b, 0xFFFFFFFFFFFFFFFFull);
    TAP_EQ_U64(get_be64(b), UINT64_MAX, "get_be64 of all ones");
    put_le16(b, 0xABCD);
    TAP_EQ_U64(get_le16(b), 0xABCD, "le16 round trip");
    put_be16(b, 0xABCD);
    TAP_EQ_U64(get_be16(b), 0xABCD, "be16 round trip");
}

static void test_checked(void)
{
    uint64_t r;
    TAP_OK(ck_add_u64(UINT64_MAX, 1, &r), "adding past UINT64_MAX is reported");
    TAP_OK(!ck_add_u64(1, 2, &r) && r == 3, "small addition passes");
    TAP_OK(ck_mul_u64(1ull << 40, 1ull << 30, &r), "multiplying past 2^64 is reported");
    TAP_OK(ck_range_inside(0, 512, 512), "a range ending at the limit is inside");
    TAP_OK(!ck_range_inside(1, 512, 512), "a range ending past the limit is outside");
    TAP_OK(!ck_range_inside(UINT64_MAX - 1, 4, UINT64_MAX), "an overflowing range is outside");
    TAP_OK(!ck_align_up_u64(513, 512, &r) && r == 1024, "align up 513 to 1024");
    TAP_OK(ck_align_up_u64(UINT64_MAX - 3, 512, &r), "align up overflow is reported");
    TAP_OK(is_pow2_u64(2097152) && !is_pow2_u64(3) && !is_pow2_u64(0), "power-of-two test");
}

static void test_utf16(void)
{
    uint8_t buf[64];
    char out[64];
    int n = vk_utf8_to_utf16("C:\\a\xc3\xa9", VK_UTF16_LE, buf, sizeof buf);
    TAP_EQ_U64(n, 10, "UTF-8 'C:\\a\\u00e9' is 5 UTF-16 units");
    TAP_OK(buf[0] == 'C' && buf[1] == 0, "little-endian order");
    TAP_EQ_U64(vk_utf16_to_utf8(buf, (size_t)n, VK_UTF16_LE, out, sizeof out), 6, "decodes back to 6 UTF-8 bytes");
    TAP_EQ_STR(out, "C:\\a\xc3\xa9", "round trip LE");
    n = vk_utf8_to_utf16("\xf0\x9f\x98\x80x", VK_UTF16_BE, buf, sizeof buf);
    TAP_EQ_U64(n, 6, "astral code point takes a surrogate pair");
    TAP_OK(buf[0] == 0xD8, "big-endian high surrogate first");
    vk_utf16_to_utf8(buf, (size_t)n, VK_UTF16_BE, out, sizeof out);
    TAP_EQ_STR(out, "\xf0\x9f\x98\x80x", "round trip BE with surrogates");
    uint8_t lone[2] = {0x00, 0xDC};
    TAP_EQ_U64((int64_t)vk_utf16_to_utf8(lone, 2, VK_UTF16_LE, out, sizeof out), (int64_t)VK_E_CORRUPT,
               "lone low surrogate is an error");
    TAP_EQ_U64((int64_t)vk_utf8_to_utf16("\xc0\xaf", VK_UTF16_LE, buf, sizeof buf), (int64_t)VK_E_CORRUPT,
               "overlong UTF-8 is an error");
    TAP_EQ_U64((int64_t)vk_utf8_to_utf16("abc", VK_UTF16_LE, buf, 4), (int64_t)VK_E_RANGE, "too small output is an error");
    TAP_EQ_U64((int64_t)vk_utf16_to_utf8(buf, 6, VK_UTF16_LE, out, 2), (int64_t)VK_E_RANGE,
               "too small UTF-8 output is an error");
    uint8_t stop[6] = {'a', 0, 0, 0, 'b', 0};
    vk_utf16_to_utf8(stop, 6, VK_UTF16_LE, out, sizeof out);
    TAP_EQ_STR(out, "a", "decoding stops at a NUL unit");
}

static void test_errors(void)
{
    vk_error e;
    vk_error_clear(&e);
    int rc = vk_fail(&e, VK_E_CORRUPT, "disk.vhd", 0x2fe00000, "BAT entry %d points past the end of the file", 812);
    TAP_EQ_U64((int64_t)rc, (int64_t)VK_E_CORRUPT, "vk_fail returns its code");
    char msg[512];
    vk_error_format(&e, msg, sizeof msg);
    TAP_EQ_STR(msg, "disk.vhd: BAT entry 812 points past the end of the file (offset 0x2fe00000)",
               "formatted message names file and offset");
    TAP_EQ_U64(vk_exit_status(VK_E_CORRUPT), 3, "corrupt input exits 3");
    TAP_EQ_U64(vk_exit_status(VK_E_BUSY), 4, "a held lock exits 4");
    TAP_EQ_U64(vk_exit_status(VK_E_IO), 5, "I/O errors exit 5");
    TAP_EQ_U64(vk_exit_status(VK_E_USAGE), 2, "usage errors exit 2");
    TAP_EQ_U64(vk_exit_status(VK_OK), 0, "success exits 0");
    TAP_EQ_STR(vk_strerror(VK_E_CHECKSUM), "checksum mismatch", "table message");
    TAP_OK(vk_fail(NULL, VK_E_IO, NULL, VK_NO_OFFSET, "x") == VK_E_IO, "NULL context is allowed");
}

int main(void)
{
    test_bytes();
    test_checked();
    test_utf16();
    test_errors();
    return tap_done();
}
