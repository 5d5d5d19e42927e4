/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile and damaged images get the right error and never a crash; real images from other producers (corpus). */
#include "tap.h"

#include <fcntl.h>

#include "vhd_test_util.h"
#include "core/bytes.h"
#include "vhd/format.h"

#define SIZE (6u << 20)

static char good[512];

static void copy_good(const char *name, char *out, size_t cap)
{
    tpath(out, cap, name);
    run("cp '%s' '%s'", good, out);
}

static void patch(const char *path, uint64_t off, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0 || pwrite(fd, data, n, (off_t)off) != (ssize_t)n)
        printf("# cannot patch %s\n", path);
    close(fd);
}

static uint64_t file_size(const char *path)
{
    size_t n;
    free(slurp(path, &n));
    return n;
}

/* Rewrite both footers after `edit`, with a correct checksum. */
static void edit_footer(const char *path, void (*edit)(struct vhd_footer *))
{
    size_t n;
    uint8_t *b = slurp(path, &n);
    struct vhd_footer f;
    vhd_footer_decode(b + n - 512, &f, NULL);
    edit(&f);
    uint8_t raw[512];
    vhd_footer_encode(&f, raw);
    patch(path, n - 512, raw, 512);
    patch(path, 0, raw, 512);
    free(b);
}

static void edit_header(const char *path, void (*edit)(struct vhd_header *))
{
    size_t n;
    uint8_t *b = slurp(path, &n);
    struct vhd_header h;
    vhd_header_decode(b + 512, &h, NULL);
    edit(&h);
    uint8_t raw[1024];
    vhd_header_encode(&h, raw);
    patch(path, 512, raw, 1024);
    free(b);
}

static int open_rc(const char *path, unsigned flags, vk_error *err)
{
    vk_vhd *vhd;
    struct vk_vhd_open_opts oo = {.flags = flags};
    int rc = vk_vhd_open(path, &oo, &vhd, err);
    if (!rc)
        vk_vhd_close(vhd);
    return rc;
}

static void huge_size(struct vhd_footer *f) { f->current_size = UINT64_C(1) << 60; }
static void odd_block(struct vhd_header *h) { h->block_size = 3u << 20; }
static void saved(struct vhd_footer *f) { f->saved_state = 1; }
static void far_locator(struct vhd_header *h)
{
    h->locators[0] = (struct vhd_locator){.code = VHD_PLAT_W2KU, .data_space = 512, .data_length = 20,
                                          .data_offset = UINT64_C(1) << 40};
}

static void bad_inputs(void)
{
    char p[512];
    vk_error err;
    int rc;

    copy_good("trunc.vhd", p, sizeof p);
    if (truncate(p, 3000)) {}
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CORRUPT || rc == VK_E_TRUNCATED, "truncated file: %s", err.msg);
    rc = open_rc(p, VK_VHD_TOLERANT, &err);
    TAP_OK(rc == VK_E_CORRUPT || rc == VK_E_TRUNCATED, "truncated file, tolerant: %s", err.msg);

    copy_good("footonly.vhd", p, sizeof p);
    if (truncate(p, 512)) {}
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CORRUPT || rc == VK_E_TRUNCATED, "footer only: %s", err.msg);

    copy_good("cookie.vhd", p, sizeof p);
    patch(p, file_size(p) - 512, "conectiX", 8);
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CORRUPT && strstr(err.msg, "repair"), "wrong cookie, intact copy: %s", err.msg);
    rc = open_rc(p, VK_VHD_TOLERANT, &err);
    TAP_OK(rc == 0, "wrong cookie: tolerant open uses the copy at offset 0");
    patch(p, 0, "conectiX", 8);
    TAP_EQ_U64(open_rc(p, VK_VHD_TOLERANT, &err), VK_E_CORRUPT, "wrong cookie in both copies: %s", err.msg);

    copy_good("cksum.vhd", p, sizeof p);
    patch(p, file_size(p) - 512 + 100, "\x01", 1);
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CHECKSUM && err.has_offset && strstr(err.file, "cksum.vhd"), "bad checksum: %s at 0x%llx",
           err.msg, (unsigned long long)err.offset);
    TAP_EQ_U64(open_rc(p, VK_VHD_TOLERANT, &err), 0, "bad checksum: tolerant open");
    TAP_EQ_U64(open_rc(p, VK_VHD_RDWR, &err), VK_E_CHECKSUM, "bad checksum: refused for writing");

    uint8_t e[4];
    copy_good("batfar.vhd", p, sizeof p);
    put_be32(e, 0x7fffff00);
    patch(p, 1536, e, 4);
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CORRUPT && strstr(err.msg, "BAT entry 0"), "BAT entry beyond EOF: %s", err.msg);

    copy_good("batover.vhd", p, sizeof p);
    size_t n;
    uint8_t *b = slurp(p, &n);
    patch(p, 1536 + 4, b + 1536, 4); /* entry 1 := entry 0 (the good image has block 0 allocated) */
    free(b);
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CORRUPT && strstr(err.msg, "overlaps"), "overlapping BAT entries: %s", err.msg);

    copy_good("blk.vhd", p, sizeof p);
    edit_header(p, odd_block);
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CORRUPT || rc == VK_E_UNSUPPORTED, "block size not a power of two: %s", err.msg);

    copy_good("huge.vhd", p, sizeof p);
    edit_footer(p, huge_size);
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CORRUPT || rc == VK_E_UNSUPPORTED, "absurd size: %s", err.msg);

    copy_good("loc.vhd", p, sizeof p);
    edit_header(p, far_locator);
    rc = open_rc(p, 0, &err);
    TAP_OK(rc == VK_E_CORRUPT, "locator past the end of the file: %s", err.msg);

    copy_good("saved.vhd", p, sizeof p);
    edit_footer(p, saved);
    TAP_EQ_U64(open_rc(p, 0, &err), 0, "saved state: opens read-only");
    rc = open_rc(p, VK_VHD_RDWR, &err);
    TAP_OK(rc == VK_E_REFUSED && strstr(err.msg, "saved state"), "saved state: refused for writing (%s)", err.msg);

    tpath(p, sizeof p, "garbage.vhd");
    run("head -c 100000 /dev/urandom > '%s'", p);
    TAP_EQ_U64(open_rc(p, VK_VHD_TOLERANT, &err), VK_E_CORRUPT, "random bytes: %s", err.msg);
}

/* Real images from other producers. */
static void corpus(void)
{
    const char *src = getenv("VHDKIT_SRCDIR");
    char dir[600], p[700], raw[800];
    snprintf(dir, sizeof dir, "%s/../shared/corpus/vhd", src ? src : ".");
    vk_error err;
    vk_vhd *vhd;
    const char *names[] = {"dfvfs-fat-differential.vhd", "dfvfs-image.vhd", "plaso-image.vhd", "dfvfs-ext2.vhd",
                           "mkimg-63x255-512-mbr.vhd", "mkimg-1x1-4096-gpt.vhd"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tdir, names[i]);
        if (run("xz -dc '%s/%s.xz' > '%s'", dir, names[i], p)) {
            TAP_OK(0, "corpus: unpack %s", names[i]);
            continue;
        }
        snprintf(raw, sizeof raw, "%s.raw", p);
        if (i == 0) {
            int rc = vk_vhd_open(p, NULL, &vhd, &err);
            TAP_OK(rc == VK_E_CHAIN && strstr(err.msg, "fat-parent.vhd") && strstr(err.msg, "tried"),
                   "corpus %s: missing parent, paths listed (%s)", names[i], err.msg);
            struct vk_vhd_open_opts oo = {.flags = VK_VHD_NO_PARENT};
            rc = vk_vhd_open(p, &oo, &vhd, &err);
            TAP_OK(rc == 0, "corpus %s: metadata opens without the parent", names[i]);
            if (!rc) {
                struct vk_vhd_info info;
                vk_vhd_get_info(vhd, &info);
                TAP_OK(!strcmp(info.creator_app, "win ") && strstr(info.parent_name, "fat-parent.vhd"),
                       "corpus %s: creator \"%s\", parent name %s", names[i], info.creator_app, info.parent_name);
                vk_vhd_close(vhd);
            }
            continue;
        }
        if (i == 1) {
            TAP_EQ_U64(vk_vhd_open(p, NULL, &vhd, &err), VK_E_CHECKSUM, "corpus %s: bad checksum refused (%s)",
                       names[i], err.msg);
            struct vk_vhd_open_opts oo = {.flags = VK_VHD_TOLERANT};
            int rc = vk_vhd_open(p, &oo, &vhd, &err);
            TAP_OK(rc == 0, "corpus %s: opens tolerant (%s)", names[i], rc ? err.msg : "ok");
            if (!rc) {
                struct vk_vhd_info info;
                vk_vhd_get_info(vhd, &info);
                TAP_OK(!info.footer_checksum_ok || !info.header_checksum_ok, "corpus %s: bad checksum recorded",
                       names[i]);
                vk_vhd_close(vhd);
            }
            continue;
        }
        int rc = vk_vhd_open(p, NULL, &vhd, &err);
        TAP_OK(rc == 0, "corpus %s: opens (%s)", names[i], rc ? err.msg : "ok");
        if (rc)
            continue;
        size_t n;
        uint8_t *want = NULL;
        if (!run("qemu-img convert -f vpc -O raw '%s' '%s'", p, raw))
            want = slurp(raw, &n);
        TAP_OK(want && n == vk_vhd_dev(vhd)->size && dev_diff(vk_vhd_dev(vhd), want, n) == -1,
               "corpus %s: reads equal qemu-img's raw conversion (%zu bytes)", names[i], want ? n : 0);
        free(want);
        vk_vhd_close(vhd);
        unlink(raw);
    }
}

int main(void)
{
    if (!mkdtemp(tdir))
        return 1;
    tpath(good, sizeof good, "good.vhd");
    struct vk_vhd_create_opts co = {.type = VK_VHD_DYNAMIC, .size = SIZE, .block_size = 1u << 20};
    vk_error err;
    vk_vhd *vhd;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    static uint8_t buf[3u << 20];
    fill_pattern(buf, sizeof buf, 7);
    TAP_OK(vk_vhd_create(good, &co, NULL, &err) == 0 && vk_vhd_open(good, &oo, &vhd, &err) == 0 &&
               vk_dev_write(vk_vhd_dev(vhd), buf, sizeof buf, 0, &err) == 0,
           "a good image with three blocks");
    vk_vhd_close(vhd);
    bad_inputs();
    corpus();
    run("rm -rf '%s'", tdir);
    return tap_done();
}
