/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhd format codecs: checksum, footer/header round trips, CHS geometry, creator table, BAT, locators, and the
 * structural rules of vhd_footer_validate / vhd_header_validate against hostile values. */
#include "tap.h"

#include "core/bytes.h"
#include "vhd/format.h"

static void test_checksum(void)
{
    uint8_t raw[VHD_FOOTER_LEN] = {0};
    memcpy(raw, "conectix", 8);
    /* 'c'+'o'+'n'+'e'+'c'+'t'+'i'+'x' = 861 = 0x35d, one's complement 0xfffffca2 */
    TAP_EQ_U64(vhd_checksum(raw, sizeof raw, VHD_FOOTER_OFF_CHECKSUM), 0xFFFFFCA2u, "checksum of a bare cookie");
    memset(raw + VHD_FOOTER_OFF_CHECKSUM, 0xFF, 4);
    TAP_EQ_U64(vhd_checksum(raw, sizeof raw, VHD_FOOTER_OFF_CHECKSUM), 0xFFFFFCA2u,
               "the checksum field itself counts as zero");
    raw[511] = 3;
    TAP_EQ_U64(vhd_checksum(raw, sizeof raw, VHD_FOOTER_OFF_CHECKSUM), 0xFFFFFC9Fu, "the last byte counts");
}

static void fill_footer(struct vhd_footer *f, uint32_t type, uint64_t size, const char *app)
{
    memset(f, 0, sizeof *f);
    memcpy(f->cookie, VHD_FOOTER_COOKIE, 8);
    f->features = VHD_FEATURE_RESERVED;
    f->version = VHD_VERSION;
    f->data_offset = type == VHD_TYPE_FIXED ? VHD_FIXED_DATA_OFFSET : 512;
    f->timestamp = 0x12345678;
    memcpy(f->creator_app, app, 4);
    f->creator_version = 0x000a0000;
    memcpy(f->creator_os, "Wi2k", 4);
    f->original_size = size;
    f->current_size = size;
    struct vhd_chs g = vhd_chs_for_size(size);
    f->cylinders = g.cylinders;
    f->heads = g.heads;
    f->sectors_per_track = g.sectors_per_track;
    f->disk_type = type;
    for (int i = 0; i < 16; i++)
        f->uuid[i] = (uint8_t)(0xA0 + i);
}

static void test_footer_roundtrip(void)
{
    struct vhd_footer f, g;
    uint8_t raw[VHD_FOOTER_LEN], raw2[VHD_FOOTER_LEN];
    bool ok = false;
    fill_footer(&f, VHD_TYPE_DYNAMIC, UINT64_C(10) << 20, "vhdk");
    f.saved_state = 1;
    f.reserved[0] = 0x5A;
    f.reserved[VHD_FOOTER_RESERVED_LEN - 1] = 0xA5;
    vhd_footer_encode(&f, raw);
    TAP_EQ_U64(get_be32(raw + VHD_FOOTER_OFF_CHECKSUM), f.checksum, "encode stores the checksum it computed");
    TAP_EQ_U64(get_be64(raw + VHD_FOOTER_OFF_CURRENT_SIZE), UINT64_C(10) << 20, "current size is big-endian at 48");
    TAP_EQ_U64(get_be16(raw + VHD_FOOTER_OFF_GEOMETRY), 301, "cylinders are big-endian at 56");
    TAP_OK(vhd_footer_decode(raw, &g, &ok) == 0 && ok, "decode accepts its own encoding with a good checksum");
    TAP_OK(!memcmp(&f, &g, sizeof f), "decode(encode(f)) == f, reserved bytes and saved state included");
    vhd_footer_encode(&g, raw2);
    TAP_OK(!memcmp(raw, raw2, sizeof raw), "encode(decode(raw)) == raw");
    raw[100] ^= 1;
    TAP_OK(vhd_footer_decode(raw, &g, &ok) == 0 && !ok, "a changed reserved byte fails the checksum");
    TAP_EQ_U64(g.reserved[100 - VHD_FOOTER_OFF_RESERVED], 1, "and is kept as read");
    raw[0] = 'C';
    TAP_EQ_U64((uint64_t)vhd_footer_decode(raw, &g, NULL), (uint64_t)VK_E_CORRUPT, "a wrong cookie is corrupt");
}

static void fill_header(struct vhd_header *h, uint64_t table_off, uint32_t entries, uint32_t block_size)
{
    memset(h, 0, sizeof *h);
    memcpy(h->cookie, VHD_HEADER_COOKIE, 8);
    h->data_offset = UINT64_MAX;
    h->table_offset = table_off;
    h->version = VHD_HEADER_VERSION;
    h->max_table_entries = entries;
    h->block_size = block_size;
}

static void test_header_roundtrip(void)
{
    struct vhd_header h, g;
    uint8_t raw[VHD_HEADER_LEN], raw2[VHD_HEADER_LEN];
    bool ok = false;
    fill_header(&h, 1536, 5, VHD_DEFAULT_BLOCK_SIZE);
    for (int i = 0; i < 16; i++)
        h.parent_uuid[i] = (uint8_t)i;
    h.parent_timestamp = 0x01020304;
    h.parent_name[1] = 'p';
    h.locators[0] = (struct vhd_locator){VHD_PLAT_W2KU, 4096, 84, 0, 4096};
    h.locators[7] = (struct vhd_locator){VHD_PLAT_MACX, 1, 20, 7, UINT64_C(0x123456789A)};
    h.reserved2[255] = 0xEE;
    vhd_header_encode(&h, raw);
    TAP_EQ_U64(get_be32(raw + VHD_HEADER_OFF_BLOCK_SIZE), VHD_DEFAULT_BLOCK_SIZE, "block size is big-endian at 32");
    TAP_EQ_U64(get_be32(raw + VHD_HEADER_OFF_LOCATORS + 7 * 24), VHD_PLAT_MACX, "locator 7 code at 576+168");
    TAP_EQ_U64(get_be64(raw + VHD_HEADER_OFF_LOCATORS + 7 * 24 + 16), UINT64_C(0x123456789A),
               "locator 7 data offset at 576+184");
    TAP_OK(vhd_header_decode(raw, &g, &ok) == 0 && ok, "header decode accepts its own encoding");
    TAP_OK(!memcmp(&h, &g, sizeof h), "decode(encode(h)) == h");
    vhd_header_encode(&g, raw2);
    TAP_OK(!memcmp(raw, raw2, sizeof raw), "encode(decode(raw)) == raw");
    raw[VHD_HEADER_OFF_CHECKSUM] ^= 0x10;
    TAP_OK(vhd_header_decode(raw, &g, &ok) == 0 && !ok, "a changed checksum is reported");
    memcpy(raw, "cxsparsX", 8);
    TAP_EQ_U64((uint64_t)vhd_header_decode(raw, &g, NULL), (uint64_t)VK_E_CORRUPT, "a wrong header cookie is corrupt");
}

/* Worked by hand from the spec appendix; qemu-img create rounds sizes up to the next geometry, checked against
 * these in test_format_peers. */
static void test_geometry(void)
{
    static const struct {
        uint64_t size;
        unsigned c, h, s;
        const char *what;
    } golden[] = {
        {0, 0, 4, 17, "0 bytes"},
        {UINT64_C(10) << 20, 301, 4, 17, "10 MiB"},
        {UINT64_C(127) << 20, 1019, 15, 17, "127 MiB"},
        {UINT64_C(1) << 30, 2080, 16, 63, "1 GiB"},
        {UINT64_C(4) << 30, 8322, 16, 63, "4 GiB"},
        {UINT64_C(65535) * 16 * 63 * 512 - 512, 65534, 16, 63, "one sector below 65535*16*63"},
        {UINT64_C(65535) * 16 * 63 * 512, 16191, 16, 255, "65535*16*63 sectors switches to 255 sectors/track"},
        {UINT64_C(127) << 30, 65278, 16, 255, "127 GiB"},
        {VHD_MAX_CHS_SECTORS * 512, 65535, 16, 255, "65535*16*255 sectors"},
        {UINT64_C(2040) << 30, 65535, 16, 255, "2040 GiB is clamped"},
        {UINT64_MAX, 65535, 16, 255, "the largest size is clamped"},
    };
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        struct vhd_chs g = vhd_chs_for_size(golden[i].size);
        TAP_OK(g.cylinders == golden[i].c && g.heads == golden[i].h && g.sectors_per_track == golden[i].s,
               "geometry of %s is %u/%u/%u", golden[i].what, golden[i].c, golden[i].h, golden[i].s);
        if (!(g.cylinders == golden[i].c && g.heads == golden[i].h && g.sectors_per_track == golden[i].s))
            printf("#   got %u/%u/%u\n", g.cylinders, g.heads, g.sectors_per_track);
    }
    /* The CHS product never exceeds the size (it rounds down). */
    int bad = 0;
    for (uint64_t sec = 1; sec < 300000; sec += 97)
        bad += vhd_chs_bytes(vhd_chs_for_size(sec * 512)) > sec * 512;
    TAP_OK(!bad, "the CHS product rounds down for 3093 sizes up to 146 MiB");
}

static void test_creators(void)
{
    struct vhd_footer f;
    const struct vhd_creator *c = vhd_creator_lookup((const uint8_t *)"win ");
    TAP_OK(c && c->source == VHD_SIZE_FROM_CURRENT && !strcmp(c->name, "Hyper-V / Windows"), "win  is Hyper-V");
    static const char *chs[] = {"vpc ", "qemu"};
    static const char *cur[] = {"win ", "qem2", "d2v ", "tap\0", "CTXS", "wa\0\0", "vhdk", "*img"};
    for (size_t i = 0; i < 2; i++) {
        c = vhd_creator_lookup((const uint8_t *)chs[i]);
        TAP_OK(c && c->source == VHD_SIZE_FROM_CHS, "creator '%.4s' is sized by CHS", chs[i]);
    }
    for (size_t i = 0; i < sizeof cur / sizeof cur[0]; i++) {
        c = vhd_creator_lookup((const uint8_t *)cur[i]);
        TAP_OK(c && c->source == VHD_SIZE_FROM_CURRENT, "creator '%.4s' is sized by current size", cur[i]);
    }
    TAP_OK(vhd_creator_lookup((const uint8_t *)"zzzz") == NULL, "an unknown creator is not in the table");

    /* Windows-made disks: CHS smaller than current size (dfvfs-fat-differential: 120/4/17 for 4 MiB). */
    fill_footer(&f, VHD_TYPE_DYNAMIC, 4u << 20, "win ");
    TAP_EQ_U64(vhd_virtual_size(&f), 4u << 20, "win : virtual size is current size");
    memcpy(f.creator_app, "vpc ", 4);
    TAP_EQ_U64(vhd_virtual_size(&f), 120 * 4 * 17 * 512, "vpc : virtual size is the CHS product");
    TAP_OK(vhd_size_source(&f) == VHD_SIZE_FROM_CHS, "vpc : size source is CHS");
    f.current_size = 512; /* qemu trusts CHS for these even when current size is smaller */
    TAP_EQ_U64(vhd_virtual_size(&f), 120 * 4 * 17 * 512, "vpc : CHS wins even over a smaller current size");
    memcpy(f.creator_app, "zzzz", 4);
    TAP_EQ_U64(vhd_virtual_size(&f), 512, "unknown creator: current size");
    memcpy(f.creator_app, "qemu", 4);
    f.current_size = UINT64_C(300) << 30;
    f.cylinders = 65535;
    f.heads = 16;
    f.sectors_per_track = 255;
    TAP_EQ_U64(vhd_virtual_size(&f), UINT64_C(300) << 30, "qemu with maximal geometry: current size");
}

static void test_bat(void)
{
    TAP_EQ_U64(vhd_bat_bytes(0), 0, "BAT of 0 entries");
    TAP_EQ_U64(vhd_bat_bytes(1), 512, "BAT of 1 entry is one sector");
    TAP_EQ_U64(vhd_bat_bytes(128), 512, "BAT of 128 entries is one sector");
    TAP_EQ_U64(vhd_bat_bytes(129), 1024, "BAT of 129 entries is two sectors");
    TAP_EQ_U64(vhd_bat_bytes(UINT32_MAX), UINT64_C(0x400000000), "BAT of 2^32-1 entries does not overflow");
    TAP_EQ_U64(vhd_bitmap_bytes(VHD_DEFAULT_BLOCK_SIZE), 512, "2 MiB block: 4096 sectors, 512 bitmap bytes");
    TAP_EQ_U64(vhd_bitmap_bytes(512), 512, "512-byte block: bitmap still one sector");
    TAP_EQ_U64(vhd_bitmap_bytes(4u << 20), 1024, "4 MiB block: 1024 bitmap bytes");
    TAP_EQ_U64(vhd_bitmap_bytes(VHD_MAX_BLOCK_SIZE), 65536, "256 MiB block: 65536 bitmap bytes");
    uint32_t bat[3] = {0, 0x01020304, VHD_BAT_UNUSED}, back[3];
    uint8_t raw[12];
    vhd_bat_encode(bat, 3, raw);
    TAP_OK(raw[4] == 1 && raw[7] == 4 && raw[8] == 0xFF, "BAT entries are big-endian");
    vhd_bat_decode(raw, 3, back);
    TAP_OK(!memcmp(bat, back, sizeof bat), "BAT round trip");
    uint8_t bm[2] = {0};
    vhd_bitmap_set(bm, 0);
    vhd_bitmap_set(bm, 9);
    TAP_OK(bm[0] == 0x80 && bm[1] == 0x40, "bitmap: sector 0 is the top bit of byte 0");
    TAP_OK(vhd_bitmap_get(bm, 9) && !vhd_bitmap_get(bm, 8), "bitmap get");
    vhd_bitmap_clear(bm, 0);
    TAP_OK(bm[0] == 0, "bitmap clear");
}

static void test_locators(void)
{
    char out[128], name[5];
    uint8_t buf[256];
    static const uint8_t w2ku[] = {'C', 0, ':', 0, '\\', 0, 'x', 0, 0xE4, 0, '.', 0, 'v', 0, 0, 0, 'j', 0};
    TAP_EQ_U64(vhd_locator_path_decode(VHD_PLAT_W2KU, w2ku, sizeof w2ku, out, sizeof out), 8,
               "W2ku: UTF-16LE to UTF-8, stops at NUL");
    TAP_EQ_STR(out, "C:\\x\xc3\xa4.v", "W2ku path text");
    TAP_EQ_U64((uint64_t)vhd_locator_path_decode(VHD_PLAT_W2RU, w2ku, 5, out, sizeof out), (uint64_t)VK_E_CORRUPT,
               "odd UTF-16 length is corrupt");
    TAP_EQ_U64((uint64_t)vhd_locator_path_decode(VHD_PLAT_W2KU, w2ku, sizeof w2ku, out, 4), (uint64_t)VK_E_RANGE,
               "a short output buffer is a range error");
    static const uint8_t lone[] = {0x00, 0xD8, 'a', 0};
    TAP_EQ_U64((uint64_t)vhd_locator_path_decode(VHD_PLAT_W2KU, lone, sizeof lone, out, sizeof out),
               (uint64_t)VK_E_CORRUPT, "an unpaired surrogate is corrupt");

    static const struct {
        const char *url, *path;
    } macx[] = {
        {"file://./parent.vhd", "./parent.vhd"},
        {"file:///srv/vm/p%20q%25.vhd", "/srv/vm/p q%.vhd"},
        {"file://localhost/srv/a.vhd", "/srv/a.vhd"},
        {"file:///d/%c3%a4.vhd\0\0\0", "/d/\xc3\xa4.vhd"},
    };
    for (size_t i = 0; i < sizeof macx / sizeof macx[0]; i++) {
        size_t len = strlen(macx[i].url) + (i == 3 ? 3 : 0);
        int n = vhd_locator_path_decode(VHD_PLAT_MACX, (const uint8_t *)macx[i].url, len, out, sizeof out);
        TAP_OK(n == (int)strlen(macx[i].path) && !strcmp(out, macx[i].path), "MacX %s -> %s", macx[i].url,
               macx[i].path);
    }
    static const char *bad[] = {"/srv/a.vhd", "file://", "file:///a%2", "file:///a%zz", "file:///a%00b", "http://x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TAP_EQ_U64((uint64_t)vhd_locator_path_decode(VHD_PLAT_MACX, (const uint8_t *)bad[i], strlen(bad[i]), out,
                                                     sizeof out),
                   (uint64_t)VK_E_CORRUPT, "MacX '%s' is corrupt", bad[i]);
    TAP_EQ_U64((uint64_t)vhd_locator_path_decode(VHD_PLAT_MAC, (const uint8_t *)"alias", 5, out, sizeof out),
               (uint64_t)VK_E_UNSUPPORTED, "a Mac alias locator is unsupported");
    TAP_EQ_U64(vhd_locator_path_decode(VHD_PLAT_WI2R, (const uint8_t *)"..\\old.vhd\0", 12, out, sizeof out), 10,
               "Wi2r: ASCII path");
    TAP_EQ_U64((uint64_t)vhd_locator_path_decode(VHD_PLAT_WI2K, (const uint8_t *)"C:\\\xe4", 4, out, sizeof out),
               (uint64_t)VK_E_UNSUPPORTED, "Wi2k: a code-page byte is unsupported");

    int n = vhd_locator_path_encode(VHD_PLAT_W2RU, ".\\p\xc3\xa4.vhd", buf, sizeof buf);
    TAP_EQ_U64(n, 16, "W2ru encode: 8 UTF-16 units");
    TAP_OK(n == 16 && buf[6] == 0xE4 && buf[7] == 0, "W2ru encode is little-endian");
    TAP_OK(vhd_locator_path_decode(VHD_PLAT_W2RU, buf, (size_t)n, out, sizeof out) == 9 &&
               !strcmp(out, ".\\p\xc3\xa4.vhd"),
           "W2ru round trip");
    n = vhd_locator_path_encode(VHD_PLAT_MACX, "/v m/a%b#?.vhd", buf, sizeof buf);
    TAP_OK(n > 0 && !memcmp(buf, "file:///v%20m/a%25b%23%3F.vhd", (size_t)n), "MacX encode escapes ' ', %%, # and ?");
    TAP_OK(vhd_locator_path_decode(VHD_PLAT_MACX, buf, (size_t)n, out, sizeof out) > 0 &&
               !strcmp(out, "/v m/a%b#?.vhd"),
           "MacX round trip");
    TAP_EQ_U64((uint64_t)vhd_locator_path_encode(VHD_PLAT_MACX, "/long/path", buf, 12), (uint64_t)VK_E_RANGE,
               "MacX encode into a short buffer is a range error");
    TAP_EQ_U64((uint64_t)vhd_locator_path_encode(VHD_PLAT_W2KU, "\xff", buf, sizeof buf), (uint64_t)VK_E_CORRUPT,
               "W2ku encode of invalid UTF-8 is corrupt");
    TAP_EQ_U64((uint64_t)vhd_locator_path_encode(VHD_PLAT_MAC, "/a", buf, sizeof buf), (uint64_t)VK_E_UNSUPPORTED,
               "vhdkit does not write Mac alias locators");

    struct vhd_locator l = {VHD_PLAT_W2KU, 1, 0, 0, 0};
    TAP_EQ_U64(vhd_locator_space_bytes(&l), 512, "data space 1 is one sector (the spec's unit)");
    l.data_space = 511;
    TAP_EQ_U64(vhd_locator_space_bytes(&l), 511 * 512, "data space 511 is sectors");
    l.data_space = 65536;
    TAP_EQ_U64(vhd_locator_space_bytes(&l), 65536, "data space 65536 is bytes (Hyper-V)");
    TAP_EQ_STR(vhd_platform_name(VHD_PLAT_W2KU, name), "W2ku", "platform name W2ku");
    TAP_EQ_STR(vhd_platform_name(VHD_PLAT_MACX, name), "MacX", "platform name MacX");
    TAP_EQ_STR(vhd_platform_name(VHD_PLAT_NONE, name), "none", "platform name of an empty entry");
    TAP_EQ_STR(vhd_platform_name(0x41424344, name), "????", "unknown platform code");
}

/* A valid dynamic disk in a file of 3 sectors + header: footer copy at 0, header at 512, BAT at 1536 (1 sector),
 * one locator at 2048, trailing footer at 2560. */
#define FILE_SIZE 3072u
#define FOOTER_OFF 2560u

static int validate_err(struct vhd_header *h, uint64_t vsize, uint64_t file_size, vk_error *err)
{
    vk_error_clear(err);
    return vhd_header_validate(h, vsize, file_size, 512, "x.vhd", err);
}

static void check_err(int rc, int code, const vk_error *err, uint64_t off, const char *text, const char *what)
{
    TAP_OK(rc == code && err->code == code && err->has_offset && err->offset == off && strstr(err->msg, text) &&
               !strcmp(err->file, "x.vhd"),
           "%s: error at offset %llu says \"%s\"", what, (unsigned long long)off, text);
    if (!(rc == code && err->has_offset && err->offset == off && strstr(err->msg, text)))
        printf("#   rc %d, offset %llu, msg \"%s\"\n", rc, (unsigned long long)err->offset, err->msg);
}

static void test_validate_header(void)
{
    struct vhd_header h;
    vk_error err;
    uint64_t vsize = UINT64_C(8) << 20;
    fill_header(&h, 1536, 4, VHD_DEFAULT_BLOCK_SIZE);
    h.locators[1] = (struct vhd_locator){VHD_PLAT_W2RU, 1, 32, 0, 2048};
    TAP_OK(validate_err(&h, vsize, FILE_SIZE, &err) == 0, "a sound header validates");
    h.data_offset = UINT32_MAX;
    TAP_OK(validate_err(&h, vsize, FILE_SIZE, &err) == 0, "header data offset 0xffffffff (spec text) is accepted");

    struct vhd_header b = h;
    b.block_size = 3000;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512 + 32,
              "block size 3000 is not a power of two", "block size 3000");
    b.block_size = 256;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512 + 32, "block size 256",
              "block size below a sector");
    b.block_size = 512u << 20;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_UNSUPPORTED, &err, 512 + 32, "larger than 256 MiB",
              "block size 512 MiB");
    b = h;
    b.table_offset = FILE_SIZE;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512 + 16, "runs past the end",
              "BAT past the end of the file");
    b.table_offset = FOOTER_OFF;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512 + 16, "runs past the end",
              "BAT over the trailing footer");
    b.table_offset = UINT64_MAX - 100;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512 + 16, "runs past the end",
              "BAT offset that overflows");
    b.table_offset = 1024;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512 + 16, "overlaps the dynamic header",
              "BAT inside the header");
    b = h;
    b.max_table_entries = UINT32_MAX;
    check_err(validate_err(&b, vsize, UINT64_C(1) << 40, &err), VK_E_CORRUPT, &err, 512 + 28,
              "exceed the 1044480 blocks", "absurd max_table_entries");
    b.max_table_entries = 3;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512 + 28, "cannot cover",
              "too few entries for the virtual size");
    b = h;
    b.version = 0x00020000;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_UNSUPPORTED, &err, 512 + 24, "version", "version 2.0");
    b = h;
    b.data_offset = 0;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512 + 8, "data offset",
              "header data offset 0");
    b = h;
    b.cookie[0] = 'X';
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, 512, "cookie", "header cookie");
    check_err(validate_err(&h, vsize, 1024, &err), VK_E_TRUNCATED, &err, 512, "runs past the end",
              "header in a truncated file");

    uint64_t loc1 = 512 + 576 + 24;
    b = h;
    b.locators[1].data_length = 600;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, loc1 + 8, "reserves only 512",
              "locator length over its data space");
    b.locators[1].data_space = 2;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, loc1 + 16, "runs past the end",
              "locator data over the trailing footer");
    b = h;
    b.locators[1].data_offset = UINT64_MAX - 8;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, loc1 + 16, "parent locator 1 (W2ru)",
              "locator offset that overflows");
    b = h;
    b.locators[1].data_offset = 1000;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, loc1 + 16, "overlaps the dynamic header",
              "locator inside the header");
    b.locators[1].data_offset = 1536;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, loc1 + 16, "overlaps the BAT",
              "locator inside the BAT");
    b.locators[1].data_offset = 1024 + 512 - 600;
    b.locators[1].data_length = 0;
    b.locators[1].data_space = 1024;
    check_err(validate_err(&b, vsize, FILE_SIZE, &err), VK_E_CORRUPT, &err, loc1 + 16, "space at offset",
              "locator space reaching into the header");
    b = h;
    b.locators[1].code = VHD_PLAT_NONE;
    b.locators[1].data_offset = UINT64_MAX;
    TAP_OK(validate_err(&b, vsize, FILE_SIZE, &err) == 0, "an empty locator entry is not judged");
}

static int fvalidate(const struct vhd_footer *f, uint64_t file_size, uint64_t footer_off, vk_error *err)
{
    vk_error_clear(err);
    return vhd_footer_validate(f, file_size, footer_off, "x.vhd", err);
}

static void test_validate_footer(void)
{
    struct vhd_footer f, b;
    vk_error err;
    fill_footer(&f, VHD_TYPE_DYNAMIC, UINT64_C(8) << 20, "vhdk");
    TAP_OK(fvalidate(&f, FILE_SIZE, FOOTER_OFF, &err) == 0, "a sound dynamic footer validates");
    TAP_OK(fvalidate(&f, FILE_SIZE, 0, &err) == 0, "so does its copy at offset 0");
    b = f;
    b.current_size += 100;
    check_err(fvalidate(&b, FILE_SIZE, FOOTER_OFF, &err), VK_E_CORRUPT, &err, FOOTER_OFF + 48,
              "is not a multiple of 512", "size not a multiple of 512");
    b.current_size = VHD_MAX_SIZE + 512;
    check_err(fvalidate(&b, FILE_SIZE, FOOTER_OFF, &err), VK_E_UNSUPPORTED, &err, FOOTER_OFF + 48, "2040 GiB",
              "size over 2040 GiB");
    b = f;
    b.disk_type = 7;
    check_err(fvalidate(&b, FILE_SIZE, FOOTER_OFF, &err), VK_E_UNSUPPORTED, &err, FOOTER_OFF + 60, "disk type 7",
              "unknown disk type");
    b = f;
    b.version = 0x00000001;
    check_err(fvalidate(&b, FILE_SIZE, FOOTER_OFF, &err), VK_E_UNSUPPORTED, &err, FOOTER_OFF + 12, "version",
              "footer version");
    b = f;
    b.data_offset = 2560;
    check_err(fvalidate(&b, FILE_SIZE, FOOTER_OFF, &err), VK_E_CORRUPT, &err, FOOTER_OFF + 16, "runs past the end",
              "header offset past the end");
    b.data_offset = 2048;
    check_err(fvalidate(&b, FILE_SIZE, FOOTER_OFF, &err), VK_E_CORRUPT, &err, FOOTER_OFF + 16,
              "overlaps the footer at 2560", "header over the trailing footer");
    b.data_offset = UINT64_MAX;
    check_err(fvalidate(&b, FILE_SIZE, FOOTER_OFF, &err), VK_E_CORRUPT, &err, FOOTER_OFF + 16, "runs past the end",
              "dynamic footer with the fixed data offset");
    b.data_offset = 0;
    check_err(fvalidate(&b, FILE_SIZE, 0, &err), VK_E_CORRUPT, &err, 16, "overlaps the footer",
              "header on top of the footer copy");
    check_err(fvalidate(&f, FILE_SIZE, FILE_SIZE - 511, &err), VK_E_TRUNCATED, &err, FILE_SIZE - 511,
              "runs past the end", "footer cut short");

    fill_footer(&f, VHD_TYPE_FIXED, UINT64_C(1) << 20, "vhdk");
    TAP_OK(fvalidate(&f, (1u << 20) + 512, 1u << 20, &err) == 0, "a sound fixed footer validates");
    check_err(fvalidate(&f, (1u << 20), (1u << 20) - 512, &err), VK_E_TRUNCATED, &err, (1u << 20) - 512 + 48,
              "only 1048064 bytes precede", "fixed disk larger than its data");
    b = f;
    memcpy(b.creator_app, "vpc ", 4);
    b.cylinders = 1000;
    check_err(fvalidate(&b, (1u << 20) + 512, 1u << 20, &err), VK_E_TRUNCATED, &err, (1u << 20) + 56,
              "fixed disk of 34816000 bytes", "CHS-sized fixed disk larger than its data names the geometry");
    b = f;
    b.data_offset = 512;
    check_err(fvalidate(&b, (1u << 20) + 512, 1u << 20, &err), VK_E_CORRUPT, &err, (1u << 20) + 16, "data offset",
              "fixed disk with a data offset");
    b.data_offset = UINT32_MAX;
    TAP_OK(fvalidate(&b, (1u << 20) + 512, 1u << 20, &err) == 0, "fixed data offset 0xffffffff (spec text) accepted");
}

int main(void)
{
    test_checksum();
    test_footer_roundtrip();
    test_header_roundtrip();
    test_geometry();
    test_creators();
    test_bat();
    test_locators();
    test_validate_header();
    test_validate_footer();
    return tap_done();
}
