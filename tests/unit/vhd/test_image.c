/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VHD images: create each type and block size, random (unaligned) writes read back, reopen, extents, and the
 * peers qemu-img and libvhdi reading what we wrote (and us reading what qemu-img wrote). */
#include "tap.h"

#include "vhd_test_util.h"

static const char *vhdi_cat(void)
{
    const char *p = getenv("VHDI_CAT");
    return p ? p : "vhdi_cat";
}

/* Every byte outside DATA extents must be zero in the model, and extents must tile the device. */
static void check_extents(vk_vhd *vhd, const uint8_t *model, uint64_t size, const char *name)
{
    vk_dev *dev = vk_vhd_dev(vhd);
    uint64_t off = 0, data = 0;
    int ok = 1, kinds_ok = 1;
    while (off < size && ok) {
        vk_extent e;
        vk_error err;
        if (vk_dev_extent(dev, off, size - off, &e, &err) || !e.len) {
            ok = 0;
            break;
        }
        if (e.kind == VK_EXTENT_PARENT)
            kinds_ok = 0;
        if (e.kind == VK_EXTENT_DATA)
            data += e.len;
        else
            for (uint64_t i = off; i < off + e.len; i++)
                if (model[i]) {
                    ok = 0;
                    printf("# %s: nonzero byte at %llu in a %d extent\n", name, (unsigned long long)i, (int)e.kind);
                    break;
                }
        off += e.len;
    }
    TAP_OK(ok && off == size, "%s: extents tile the disk and non-data runs read zero", name);
    TAP_OK(kinds_ok, "%s: a non-differencing image never answers PARENT", name);
    (void)data;
}

static int qemu_size_is(const char *path, uint64_t size)
{
    return run("qemu-img info -f vpc --output=json '%s' | grep -q '\"virtual-size\": %llu,'", path,
               (unsigned long long)size) == 0;
}

static void roundtrip(enum vk_vhd_type type, uint64_t size, uint32_t bs, enum vk_vhd_fill fill, const char *name)
{
    char path[512], raw[600];
    tpath(path, sizeof path, name);
    snprintf(raw, sizeof raw, "%s.raw", path);
    struct vk_vhd_create_opts co = {.type = type, .size = size, .block_size = bs, .fill = fill};
    struct vk_vhd_create_result res;
    vk_error err;
    int rc = vk_vhd_create(path, &co, &res, &err);
    TAP_OK(rc == 0, "%s: create (%s)", name, rc ? err.msg : "ok");
    if (rc)
        return;
    uint64_t vsize = (size + 511) & ~(uint64_t)511;
    TAP_EQ_U64(res.virtual_size, vsize, "%s: virtual size is the request rounded up to a sector", name);
    TAP_OK(vk_vhd_create(path, &co, &res, &err) == VK_E_EXISTS, "%s: create refuses an existing file", name);

    vk_vhd *vhd;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    rc = vk_vhd_open(path, &oo, &vhd, &err);
    TAP_OK(rc == 0, "%s: open for writing (%s)", name, rc ? err.msg : "ok");
    if (rc)
        return;
    vk_dev *dev = vk_vhd_dev(vhd);
    TAP_EQ_U64(dev->size, vsize, "%s: device size", name);
    uint8_t *model = calloc(1, vsize);
    size_t maxlen = 3 * (bs ? bs : 2u << 20);
    if (maxlen > (4u << 20))
        maxlen = 4u << 20;
    uint8_t *buf = malloc(maxlen);
    int writes_ok = 1;
    for (int i = 0; i < 40 && writes_ok; i++) {
        uint64_t off = rnd() % vsize;
        if (i % 3 == 0)
            off &= ~(uint64_t)511;
        size_t len = 1 + (size_t)(rnd() % maxlen);
        if (len > vsize - off)
            len = (size_t)(vsize - off);
        fill_pattern(buf, len, (uint8_t)i);
        if (i % 7 == 3) /* some zero writes: into allocated blocks they must land too */
            memset(buf, 0, len);
        if (vk_dev_write(dev, buf, len, off, &err)) {
            writes_ok = 0;
            printf("# write %d failed: %s\n", i, err.msg);
        }
        memcpy(model + off, buf, len);
    }
    TAP_OK(writes_ok, "%s: 40 random writes (unaligned offsets and lengths)", name);
    TAP_OK(dev_diff(dev, model, vsize) == -1, "%s: reads equal what was written", name);
    check_extents(vhd, model, vsize, name);
    TAP_OK(vk_vhd_flush(vhd, &err) == 0, "%s: flush", name);
    vk_vhd_close(vhd);

    rc = vk_vhd_open(path, NULL, &vhd, &err);
    TAP_OK(rc == 0, "%s: reopen read-only (%s)", name, rc ? err.msg : "ok");
    if (!rc) {
        struct vk_vhd_info info;
        vk_vhd_get_info(vhd, &info);
        TAP_OK(info.type == type && info.virtual_size == vsize && info.footer_checksum_ok &&
                   !strcmp(info.creator_app, "win "),
               "%s: info after reopen (type %d, size %llu, creator \"%s\")", name, (int)info.type,
               (unsigned long long)info.virtual_size, info.creator_app);
        TAP_OK(dev_diff(vk_vhd_dev(vhd), model, vsize) == -1, "%s: content survives reopen", name);
        if (type != VK_VHD_FIXED)
            TAP_OK(info.block_size == (bs ? bs : 2u << 20) && info.header_checksum_ok, "%s: block size %u", name,
                   info.block_size);
        vk_vhd_close(vhd);
    }
    TAP_OK(qemu_size_is(path, vsize), "%s: qemu-img sees exactly %llu bytes", name, (unsigned long long)vsize);
    TAP_OK(run("qemu-img convert -f vpc -O raw '%s' '%s'", path, raw) == 0 && file_diff(raw, model, vsize) == -1,
           "%s: qemu-img convert -O raw equals our content", name);
    if (type != VK_VHD_FIXED) {
        TAP_OK(run("'%s' '%s' > '%s'", vhdi_cat(), path, raw) == 0 && file_diff(raw, model, vsize) == -1,
               "%s: libvhdi reads our content", name);
        TAP_OK(run("vhdiinfo '%s' > /dev/null 2>&1", path) == 0, "%s: vhdiinfo accepts it", name);
    }
    unlink(raw);
    unlink(path);
    free(buf);
    free(model);
}

static void zero_writes_do_not_allocate(void)
{
    char path[512];
    tpath(path, sizeof path, "zero.vhd");
    struct vk_vhd_create_opts co = {.type = VK_VHD_DYNAMIC, .size = 8u << 20};
    vk_error err;
    vk_vhd *vhd;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    TAP_OK(vk_vhd_create(path, &co, NULL, &err) == 0 && vk_vhd_open(path, &oo, &vhd, &err) == 0, "zero: make");
    static uint8_t zeros[3 << 20];
    TAP_OK(vk_dev_write(vk_vhd_dev(vhd), zeros, sizeof zeros, 4096 + 7, &err) == 0, "zero: write 3 MiB of zeros");
    struct vk_vhd_info info;
    vk_vhd_get_info(vhd, &info);
    TAP_EQ_U64(info.blocks_allocated, 0, "zero: all-zero writes into unallocated blocks allocate nothing");
    vk_extent e;
    TAP_OK(vk_dev_extent(vk_vhd_dev(vhd), 0, 8u << 20, &e, &err) == 0 && e.kind == VK_EXTENT_UNALLOC &&
               e.len == 8u << 20,
           "zero: the whole disk is one unallocated extent");
    vk_vhd_close(vhd);
    unlink(path);
}

/* Images qemu-img wrote (dynamic and fixed, creator "qemu": CHS-sized) read like qemu's own raw conversion. */
static void qemu_made(const char *subformat)
{
    char src[512], vhd_path[600], back[600];
    tpath(src, sizeof src, "q-src.raw");
    snprintf(vhd_path, sizeof vhd_path, "%s/q-%s.vhd", tdir, subformat);
    snprintf(back, sizeof back, "%s/q-%s.raw", tdir, subformat);
    size_t n = 7u << 20;
    uint8_t *data = calloc(1, n);
    for (size_t off = 0; off < n; off += 64 * 1024 * 3)
        fill_pattern(data + off, 64 * 1024, 0x5a);
    FILE *f = fopen(src, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    TAP_OK(run("qemu-img convert -O vpc -o subformat=%s '%s' '%s'", subformat, src, vhd_path) == 0 &&
               run("qemu-img convert -f vpc -O raw '%s' '%s'", vhd_path, back) == 0,
           "qemu %s: qemu-img makes an image and converts it back", subformat);
    size_t qlen;
    uint8_t *want = slurp(back, &qlen);
    vk_vhd *vhd;
    vk_error err;
    int rc = vk_vhd_open(vhd_path, NULL, &vhd, &err);
    TAP_OK(rc == 0, "qemu %s: we open it (%s)", subformat, rc ? err.msg : "ok");
    if (!rc && want) {
        TAP_EQ_U64(vk_vhd_dev(vhd)->size, qlen, "qemu %s: same virtual size as qemu", subformat);
        TAP_OK(qlen == vk_vhd_dev(vhd)->size && dev_diff(vk_vhd_dev(vhd), want, qlen) == -1,
               "qemu %s: our read equals qemu's raw conversion", subformat);
        vk_vhd_close(vhd);
    }
    free(want);
    free(data);
    unlink(src);
    unlink(vhd_path);
    unlink(back);
}

static void image_open_raw_and_vhd(void)
{
    char path[512];
    tpath(path, sizeof path, "plain.raw");
    FILE *f = fopen(path, "wb");
    uint8_t blk[4096];
    fill_pattern(blk, sizeof blk, 1);
    fwrite(blk, 1, sizeof blk, f);
    fclose(f);
    vk_dev *dev;
    vk_vhd *vhd = (vk_vhd *)1;
    vk_error err;
    TAP_OK(vk_image_open(path, NULL, &dev, &vhd, &err) == 0 && !vhd && dev->size == 4096 &&
               !strcmp(dev->ops->type, "file"),
           "image_open: a raw file is a raw device");
    vk_dev_close(dev);
    tpath(path, sizeof path, "img.vhd");
    struct vk_vhd_create_opts co = {.type = VK_VHD_DYNAMIC, .size = 3u << 20};
    vk_vhd_create(path, &co, NULL, &err);
    TAP_OK(vk_image_open(path, NULL, &dev, &vhd, &err) == 0 && vhd && dev->size == 3u << 20 &&
               !strcmp(dev->ops->type, "vhd"),
           "image_open: a VHD opens as a vhd device");
    vk_dev_close(dev); /* closes the handle too (ASan would see a leak otherwise) */
    unlink(path);
}

int main(void)
{
    if (!mkdtemp(tdir))
        return 1;
    roundtrip(VK_VHD_DYNAMIC, 5u << 20, 512u << 10, VK_FILL_ALLOCATE, "dyn-512k.vhd");
    roundtrip(VK_VHD_DYNAMIC, (9u << 20) + 3 * 512, 0, VK_FILL_ALLOCATE, "dyn-2m-odd.vhd");
    roundtrip(VK_VHD_DYNAMIC, 40u << 20, 16u << 20, VK_FILL_ALLOCATE, "dyn-16m.vhd");
    roundtrip(VK_VHD_DYNAMIC, (3u << 20) + 1000, 0, VK_FILL_ALLOCATE, "dyn-unaligned-size.vhd");
    roundtrip(VK_VHD_FIXED, 6u << 20, 0, VK_FILL_ALLOCATE, "fixed-alloc.vhd");
    roundtrip(VK_VHD_FIXED, (5u << 20) + 512, 0, VK_FILL_SPARSE, "fixed-sparse.vhd");
    roundtrip(VK_VHD_FIXED, 2u << 20, 0, VK_FILL_ZERO, "fixed-zero.vhd");
    zero_writes_do_not_allocate();
    qemu_made("dynamic");
    qemu_made("fixed");
    image_open_raw_and_vhd();
    run("rm -rf '%s'", tdir);
    return tap_done();
}
