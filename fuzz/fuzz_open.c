/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: opening a VHD image from bytes (vk_vhd_open on a memory device) and reading it: info, ranges,
 * extents, offset mapping. A read-only open must never change a byte of the image.
 * Input: one mode byte, then
 *   mode even: the image file itself;
 *   mode odd:  a dynamic or differencing image built around the input so the checksums always hold and the fuzzer
 *              reaches block reads: block-size shift, type (bit 0) and CHS creator (bit 1), BAT entries, virtual blocks, cut sectors (one byte
 *              each), the BAT (big-endian, relative to the first data sector), then the data area. */
#include "fuzz.h"
#include "seeds.h"

#include <string.h>
#include <unistd.h>

#include "vhdkit/vhd.h"

#define WRAP_FIELDS 5
#define WRAP_BAT_OFF (VHD_FOOTER_LEN + VHD_HEADER_LEN)
#define READ_MAX (64u * 1024)
#define EXTENT_STEPS 64

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Footer copy, header, BAT, data area, footer: a well-formed frame around hostile BAT entries and bitmaps. */
static uint8_t *wrap_image(const uint8_t *p, size_t n, size_t *out_len)
{
    if (n < WRAP_FIELDS)
        return NULL;
    uint32_t block_size = 512u << (p[0] % 4);
    uint32_t type = p[1] & 1 ? VHD_TYPE_DIFF : VHD_TYPE_DYNAMIC;
    uint32_t entries = 1 + p[2] % 16;
    uint32_t blocks = 1 + p[3] % entries;
    uint64_t sectors = (uint64_t)blocks * (block_size / VHD_SECTOR) - p[4] % (block_size / VHD_SECTOR);
    p += WRAP_FIELDS;
    n -= WRAP_FIELDS;
    size_t bat_len = vhd_bat_bytes(entries);
    size_t data_off = WRAP_BAT_OFF + bat_len;
    size_t data_len = n > entries * 4u ? n - entries * 4u : 0;
    size_t len = data_off + ((data_len + VHD_SECTOR - 1) & ~(size_t)(VHD_SECTOR - 1)) + VHD_FOOTER_LEN;
    uint8_t *img = calloc(1, len);
    if (!img)
        return NULL;
    uint8_t footer[VHD_FOOTER_LEN];
    seed_footer(footer, type, sectors * VHD_SECTOR, p[-WRAP_FIELDS + 1] & 2 ? "vpc " : "win ");
    memcpy(img, footer, VHD_FOOTER_LEN);
    memcpy(img + len - VHD_FOOTER_LEN, footer, VHD_FOOTER_LEN);
    seed_header(img + VHD_FOOTER_LEN, WRAP_BAT_OFF, entries, 0, 0, 0);
    struct vhd_header h;
    vhd_header_decode(img + VHD_FOOTER_LEN, &h, NULL);
    h.block_size = block_size;
    vhd_header_encode(&h, img + VHD_FOOTER_LEN);
    memset(img + WRAP_BAT_OFF, 0xFF, bat_len);
    uint32_t first = (uint32_t)(data_off / VHD_SECTOR);
    for (uint32_t i = 0; i < entries && (size_t)i * 4 + 4 <= n; i++) {
        uint32_t v = get_be32(p + i * 4);
        put_be32(img + WRAP_BAT_OFF + i * 4, v == VHD_BAT_UNUSED ? v : first + v);
    }
    if (data_len)
        memcpy(img + data_off, p + entries * 4u, data_len);
    *out_len = len;
    return img;
}

/* Reads [off, off+len) and checks the extents said about it: unwritten sectors of a dynamic image read as zeros,
 * a differencing image's parent sectors cannot be read without the parent, and stored bytes are where
 * vk_vhd_map_offset says. */
static void read_range(vk_vhd *vhd, uint64_t off, uint64_t len, uint8_t *buf)
{
    vk_dev *dev = vk_vhd_dev(vhd);
    vk_error err = {0};
    int rc = vk_dev_read(dev, buf, (size_t)len, off, &err);
    FUZZ_CHECK(rc <= 0);
    vk_extent e;
    if (vk_dev_extent(dev, off, len, &e, &err))
        return;
    FUZZ_CHECK(e.len > 0 && e.len <= len);
    if (rc == 0 && (e.kind == VK_EXTENT_ZERO || e.kind == VK_EXTENT_UNALLOC))
        FUZZ_CHECK(all_zero(buf, (size_t)e.len));
    if (e.kind == VK_EXTENT_PARENT)
        FUZZ_CHECK(rc == VK_E_CHAIN);
    uint64_t file_off;
    int depth;
    if (rc == 0 && !vk_vhd_map_offset(vhd, off, &file_off, &depth, &err) && depth == 0) {
        uint8_t b;
        FUZZ_CHECK(e.kind == VK_EXTENT_DATA);
        FUZZ_CHECK(vk_dev_read(vk_vhd_file(vhd), &b, 1, file_off, &err) == 0 && b == buf[0]);
    }
}

static void exercise(vk_vhd *vhd)
{
    struct vk_vhd_info *info = malloc(sizeof *info);
    uint8_t *buf = malloc(READ_MAX);
    if (!info || !buf)
        goto out;
    vk_dev *dev = vk_vhd_dev(vhd);
    FUZZ_CHECK(vk_vhd_get_info(vhd, info) == 0);
    FUZZ_CHECK(info->virtual_size == dev->size && info->blocks_allocated <= info->max_table_entries);
    uint64_t size = dev->size;
    if (!size)
        goto out;
    uint64_t len = size < READ_MAX ? size : READ_MAX;
    read_range(vhd, 0, len, buf);
    read_range(vhd, size - len, len, buf);
    read_range(vhd, size / 2 / VHD_SECTOR * VHD_SECTOR, size - size / 2 / VHD_SECTOR * VHD_SECTOR < 4096 ?
               size - size / 2 / VHD_SECTOR * VHD_SECTOR : 4096, buf);
    /* Walk the extents from the start: every run is non-empty, within the disk, and ordered. */
    uint64_t off = 0;
    for (unsigned step = 0; step < EXTENT_STEPS && off < size; step++) {
        vk_extent e;
        vk_error err = {0};
        int depth;
        if (vk_vhd_extent_deep(vhd, off, size - off, &e, &depth, &err))
            break;
        FUZZ_CHECK(e.len > 0 && e.len <= size - off && depth >= -1 && depth <= 0);
        read_range(vhd, off, e.len < 4096 ? e.len : 4096, buf);
        off += e.len;
    }
out:
    free(info);
    free(buf);
}

static void open_and_read(const uint8_t *img, size_t len, unsigned flags)
{
    vk_dev *mem;
    vk_error err = {0};
    if (vk_dev_memory(len, img, len, &mem, &err))
        return;
    uint8_t *bytes = vk_dev_memory_bytes(mem);
    struct vk_vhd_open_opts opts = {.flags = flags, .file = mem};
    vk_vhd *vhd;
    int rc = vk_vhd_open("fuzz.vhd", &opts, &vhd, &err);
    if (rc) {
        /* The handle owned the device and closed it; the error names the image. */
        FUZZ_CHECK(rc < 0 && err.code == rc && err.msg[0] && !strcmp(err.file, "fuzz.vhd"));
        return;
    }
    exercise(vhd);
    FUZZ_CHECK(!memcmp(bytes, img, len));
    vk_vhd_close(vhd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t *img = NULL;
    size_t len = size - 1;
    const uint8_t *p = data + 1;
    if (data[0] & 1) {
        img = wrap_image(p, len, &len);
        if (!img)
            return 0;
        p = img;
    }
    open_and_read(p, len, VK_VHD_NO_PARENT);
    open_and_read(p, len, VK_VHD_NO_PARENT | VK_VHD_TOLERANT);
    free(img);
    return 0;
}

/* Seeds: images the engine itself makes (fixed, dynamic with 4 KiB blocks, a differencing child of it), written
 * with patterns, then two wrapped dynamic and differencing frames. */
static size_t engine_image(unsigned i, uint8_t *buf, size_t cap)
{
    char dir[] = "/tmp/vk-fuzz-open.XXXXXX";
    if (!mkdtemp(dir))
        return 0;
    char parent[64], child[64];
    snprintf(parent, sizeof parent, "%s/p.vhd", dir);
    snprintf(child, sizeof child, "%s/c.vhd", dir);
    struct vk_vhd_create_opts co = {.type = i == 0 ? VK_VHD_FIXED : VK_VHD_DYNAMIC, .size = 32 * 1024,
                                    .block_size = 4096, .fill = VK_FILL_ZERO};
    struct vk_vhd_create_result res;
    vk_error err = {0};
    size_t got = 0;
    int rc = vk_vhd_create(parent, &co, &res, &err);
    const char *path = parent;
    if (!rc && i == 2) {
        struct vk_vhd_create_opts cc = {.type = VK_VHD_DIFF, .block_size = 4096, .parent = parent};
        rc = vk_vhd_create(child, &cc, &res, &err);
        path = child;
    }
    vk_vhd *vhd;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    if (!rc && !vk_vhd_open(path, &oo, &vhd, &err)) {
        uint8_t pat[1536];
        for (size_t k = 0; k < sizeof pat; k++)
            pat[k] = (uint8_t)(k * 7 + i);
        vk_dev_write(vk_vhd_dev(vhd), pat, sizeof pat, 4096 - 512, &err);
        vk_dev_write(vk_vhd_dev(vhd), pat, 512, 20480, &err);
        vk_vhd_close(vhd);
        FILE *fp = fopen(path, "rb");
        if (fp) {
            got = fread(buf + 1, 1, cap - 1, fp);
            if (!feof(fp))
                got = 0;
            fclose(fp);
        }
    }
    unlink(child);
    unlink(parent);
    rmdir(dir);
    buf[0] = 0;
    return got ? got + 1 : 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    if (i < 3)
        return engine_image(i, buf, cap);
    if (i > 4 || cap < 1 + WRAP_FIELDS + 8 + 2 * (512 + 1024))
        return 0;
    /* 1 KiB blocks, 2 entries, both blocks in use, 1 sector cut; block 0 at data sector 0, block 1 after it. */
    uint8_t *p = buf;
    *p++ = 1;
    *p++ = 1;
    *p++ = (uint8_t)(i == 4);
    *p++ = 1;
    *p++ = 1;
    *p++ = 1;
    put_be32(p, 0);
    put_be32(p + 4, 3);
    p += 8;
    for (unsigned b = 0; b < 2; b++) {
        memset(p, 0, 512);
        p[0] = b ? 0x80 : 0xC0; /* bitmap: sectors 0-1 of block 0, sector 0 of block 1 */
        p += 512;
        for (unsigned k = 0; k < 1024; k++)
            *p++ = (uint8_t)(k ^ b);
    }
    return (size_t)(p - buf);
}
