/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhd format codecs against real producers: footers qemu-img writes at test time, and the corpus images made by
 * Windows, qemu and FreeBSD mkimg (../shared/corpus/vhd, decompressed into a temporary folder). */
#include "tap.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/utf16.h"
#include "vhd/format.h"

static char tmpdir[] = "/tmp/vk-test-vhd-format-XXXXXX";

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc)
        printf("# command failed (%d): %s\n", rc, cmd);
    return rc;
}

/* Reads `len` bytes at `off` (negative: from the end) of `path`; returns the file size or 0. */
static uint64_t read_at(const char *path, int64_t off, uint8_t *buf, size_t len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    struct stat st;
    uint64_t size = 0;
    if (!fstat(fileno(fp), &st) && fseeko(fp, off < 0 ? st.st_size + off : off, SEEK_SET) == 0 &&
        fread(buf, 1, len, fp) == len)
        size = (uint64_t)st.st_size;
    fclose(fp);
    return size;
}

/* qemu-img creates 'qemu' images sized up to the next CHS geometry (current size = CHS product), so the geometry
 * it writes must be the fixed point of the spec algorithm for its own size. */
static void test_qemu_img(void)
{
    static const struct {
        const char *size;
        uint64_t want;
    } sizes[] = {
        {"10M", UINT64_C(10) << 20},   {"127M", UINT64_C(127) << 20}, {"1G", UINT64_C(1) << 30},
        {"4G", UINT64_C(4) << 30},     {"127G", UINT64_C(127) << 30}, {"2040G", UINT64_C(2040) << 30},
    };
    char path[300], cmd[700];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(path, sizeof path, "%s/q%zu.vhd", tmpdir, i);
        snprintf(cmd, sizeof cmd, "qemu-img create -q -f vpc '%s' %s", path, sizes[i].size);
        TAP_OK(run(cmd) == 0, "qemu-img create -f vpc %s", sizes[i].size);
        uint8_t raw[VHD_FOOTER_LEN];
        struct vhd_footer f;
        bool ok = false;
        uint64_t fsize = read_at(path, -(int64_t)VHD_FOOTER_LEN, raw, sizeof raw);
        TAP_OK(fsize && vhd_footer_decode(raw, &f, &ok) == 0 && ok, "%s: footer decodes, checksum good",
               sizes[i].size);
        TAP_OK(!memcmp(f.creator_app, "qemu", 4) && f.disk_type == VHD_TYPE_DYNAMIC, "%s: creator qemu, dynamic",
               sizes[i].size);
        struct vhd_chs g = {f.cylinders, f.heads, f.sectors_per_track};
        struct vhd_chs mine = vhd_chs_for_size(f.current_size);
        TAP_OK(mine.cylinders == g.cylinders && mine.heads == g.heads && mine.sectors_per_track == g.sectors_per_track,
               "%s: our geometry for qemu's size %" PRIu64 " is qemu's %u/%u/%u", sizes[i].size, f.current_size,
               g.cylinders, g.heads, g.sectors_per_track);
        uint64_t vsize = vhd_virtual_size(&f);
        if (sizes[i].want > VHD_MAX_CHS_SECTORS * 512)
            TAP_OK(vsize == sizes[i].want && vhd_size_source(&f) == VHD_SIZE_FROM_CURRENT,
                   "%s: beyond CHS, maximal geometry and current size", sizes[i].size);
        else
            TAP_OK(vsize == vhd_chs_bytes(g) && vsize >= sizes[i].want &&
                       vsize - sizes[i].want < (uint64_t)g.heads * g.sectors_per_track * 512,
                   "%s: virtual size %" PRIu64 " is the CHS product, less than a cylinder above the request",
                   sizes[i].size, vsize);
        vk_error err;
        TAP_OK(vhd_footer_validate(&f, fsize, fsize - VHD_FOOTER_LEN, path, &err) == 0, "%s: footer validates",
               sizes[i].size);
        uint8_t hraw[VHD_HEADER_LEN];
        struct vhd_header h;
        TAP_OK(read_at(path, (int64_t)f.data_offset, hraw, sizeof hraw) && vhd_header_decode(hraw, &h, &ok) == 0 &&
                   ok && vhd_header_validate(&h, vsize, fsize, f.data_offset, path, &err) == 0,
               "%s: dynamic header decodes and validates", sizes[i].size);
        unlink(path);
    }

    /* force_size: qemu writes 'qem2' and the exact size in current size. */
    snprintf(path, sizeof path, "%s/q2.vhd", tmpdir);
    snprintf(cmd, sizeof cmd, "qemu-img create -q -f vpc -o subformat=fixed,force_size=on '%s' 10M", path);
    TAP_OK(run(cmd) == 0, "qemu-img create fixed with force_size");
    uint8_t raw[VHD_FOOTER_LEN];
    struct vhd_footer f;
    bool ok = false;
    uint64_t fsize = read_at(path, -(int64_t)VHD_FOOTER_LEN, raw, sizeof raw);
    vk_error err;
    TAP_OK(fsize && vhd_footer_decode(raw, &f, &ok) == 0 && ok && !memcmp(f.creator_app, "qem2", 4) &&
               f.disk_type == VHD_TYPE_FIXED && f.data_offset == VHD_FIXED_DATA_OFFSET,
           "force_size: fixed footer from 'qem2', data offset all ones");
    TAP_EQ_U64(vhd_virtual_size(&f), UINT64_C(10) << 20, "force_size: virtual size is exactly 10 MiB");
    TAP_OK(vhd_footer_validate(&f, fsize, fsize - VHD_FOOTER_LEN, path, &err) == 0, "force_size: footer validates");
    unlink(path);
}

struct image {
    char path[300];
    uint64_t size;
    struct vhd_footer f;
    bool f_ok;
    struct vhd_header h;
    bool h_ok;
};

static int load(const char *corpus, const char *name, struct image *im)
{
    char cmd[1000];
    snprintf(im->path, sizeof im->path, "%s/%s", tmpdir, name);
    snprintf(cmd, sizeof cmd, "xz -dc '%s/vhd/%s.xz' > '%s'", corpus, name, im->path);
    if (run(cmd))
        return -1;
    uint8_t raw[VHD_HEADER_LEN], copy[VHD_FOOTER_LEN];
    im->size = read_at(im->path, -(int64_t)VHD_FOOTER_LEN, raw, VHD_FOOTER_LEN);
    if (!im->size || vhd_footer_decode(raw, &im->f, &im->f_ok))
        return -1;
    /* The copy at offset 0 of a dynamic disk is byte for byte the trailing footer. */
    if (!read_at(im->path, 0, copy, sizeof copy) || memcmp(raw, copy, sizeof copy))
        return -1;
    if (!read_at(im->path, (int64_t)im->f.data_offset, raw, VHD_HEADER_LEN))
        return -1;
    return vhd_header_decode(raw, &im->h, &im->h_ok);
}

static void test_corpus(const char *corpus)
{
    struct image im = {0}; /* a missing corpus file must fail the checks below, not read garbage */
    vk_error err;
    char path[600];

    /* Windows 10 differencing disk whose parent is absent. */
    TAP_OK(load(corpus, "dfvfs-fat-differential.vhd", &im) == 0, "fat-differential: footer, copy and header decode");
    TAP_OK(im.f_ok && im.h_ok, "fat-differential: checksums good");
    TAP_OK(!memcmp(im.f.creator_app, "win ", 4) && im.f.disk_type == VHD_TYPE_DIFF, "fat-differential: win , diff");
    TAP_EQ_U64(vhd_virtual_size(&im.f), 4u << 20, "fat-differential: 4 MiB from current size, not CHS 120/4/17");
    TAP_OK(im.f.cylinders == 120 && im.f.heads == 4 && im.f.sectors_per_track == 17, "fat-differential: CHS 120/4/17");
    TAP_OK(vhd_footer_validate(&im.f, im.size, im.size - 512, im.path, &err) == 0 &&
               vhd_header_validate(&im.h, vhd_virtual_size(&im.f), im.size, im.f.data_offset, im.path, &err) == 0,
           "fat-differential: footer and header validate");
    char parent[300];
    TAP_OK(vk_utf16_to_utf8(im.h.parent_name, sizeof im.h.parent_name, VK_UTF16_BE, parent, sizeof parent) > 0 &&
               !strcmp(parent, "C:\\Projects\\dfvfs\\test_data\\fat-parent.vhd"),
           "fat-differential: parent unicode name (UTF-16BE) is the full Windows path");
    static const struct {
        uint32_t code;
        uint64_t space;
        const char *path;
    } want[] = {{VHD_PLAT_W2KU, 4096, "C:\\Projects\\dfvfs\\test_data\\fat-parent.vhd"},
                {VHD_PLAT_W2RU, 65536, ".\\fat-parent.vhd"}};
    for (int i = 0; i < 2; i++) {
        const struct vhd_locator *l = &im.h.locators[i];
        uint8_t data[512];
        char out[300];
        TAP_OK(l->code == want[i].code && vhd_locator_space_bytes(l) == want[i].space,
               "fat-differential: locator %d code and data space %" PRIu64 " bytes", i, want[i].space);
        TAP_OK(l->data_length <= sizeof data && read_at(im.path, (int64_t)l->data_offset, data, l->data_length) &&
                   vhd_locator_path_decode(l->code, data, l->data_length, out, sizeof out) > 0 &&
                   !strcmp(out, want[i].path),
               "fat-differential: locator %d reads %s", i, want[i].path);
    }
    TAP_EQ_U64(im.h.locators[2].code, VHD_PLAT_NONE, "fat-differential: locator 2 empty");
    unlink(im.path);

    /* qemu-made images: dfvfs-image has bad checksums, plaso-image is the same disk with good ones. */
    TAP_OK(load(corpus, "dfvfs-image.vhd", &im) == 0, "dfvfs-image: decodes despite bad checksums");
    TAP_OK(!im.f_ok, "dfvfs-image: footer checksum_ok is false");
    TAP_OK(vhd_footer_validate(&im.f, im.size, im.size - 512, im.path, &err) == 0,
           "dfvfs-image: validate does not judge the checksum");
    TAP_EQ_U64(vhd_virtual_size(&im.f), 204 * 512, "dfvfs-image: qemu CHS 3/4/17 = 204 sectors");
    unlink(im.path);
    TAP_OK(load(corpus, "plaso-image.vhd", &im) == 0 && im.f_ok && im.h_ok, "plaso-image: checksums good");
    TAP_OK(vhd_header_validate(&im.h, vhd_virtual_size(&im.f), im.size, im.f.data_offset, im.path, &err) == 0,
           "plaso-image: header validates");
    unlink(im.path);
    TAP_OK(load(corpus, "dfvfs-image-differential.vhd", &im) == 0 && im.f.disk_type == VHD_TYPE_DIFF,
           "dfvfs-image-differential: a qemu differencing footer");
    TAP_OK(im.h.locators[0].code == VHD_PLAT_NONE, "dfvfs-image-differential: no locators");
    unlink(im.path);
    TAP_OK(load(corpus, "dfvfs-ext2.vhd", &im) == 0 && im.f_ok && im.h_ok &&
               vhd_footer_validate(&im.f, im.size, im.size - 512, im.path, &err) == 0 &&
               vhd_header_validate(&im.h, vhd_virtual_size(&im.f), im.size, im.f.data_offset, im.path, &err) == 0,
           "dfvfs-ext2: decodes and validates");
    TAP_EQ_U64(vhd_virtual_size(&im.f), (uint64_t)121 * 4 * 17 * 512, "dfvfs-ext2: CHS 121/4/17");
    unlink(im.path);

    /* FreeBSD mkimg: '*img', geometry from its command line, size in current size. */
    static const struct {
        const char *name;
        unsigned c, h, s;
        uint64_t size;
        uint32_t entries;
    } mk[] = {{"mkimg-63x255-512-mbr.vhd", 2, 255, 63, 16450560, 8},
              {"mkimg-1x1-4096-gpt.vhd", 125, 4, 17, 4352000, 3}};
    for (int i = 0; i < 2; i++) {
        TAP_OK(load(corpus, mk[i].name, &im) == 0 && im.f_ok && im.h_ok, "%s: decodes, checksums good", mk[i].name);
        TAP_OK(!memcmp(im.f.creator_app, "*img", 4) && !strcmp(vhd_creator_lookup(im.f.creator_app)->name,
                                                                "FreeBSD mkimg"),
               "%s: creator *img is FreeBSD mkimg", mk[i].name);
        TAP_OK(im.f.cylinders == mk[i].c && im.f.heads == mk[i].h && im.f.sectors_per_track == mk[i].s,
               "%s: geometry %u/%u/%u", mk[i].name, mk[i].c, mk[i].h, mk[i].s);
        TAP_EQ_U64(vhd_virtual_size(&im.f), mk[i].size, "%s: virtual size from current size", mk[i].name);
        TAP_OK(im.h.max_table_entries == mk[i].entries && im.h.block_size == VHD_DEFAULT_BLOCK_SIZE,
               "%s: %u entries of 2 MiB", mk[i].name, mk[i].entries);
        TAP_OK(vhd_footer_validate(&im.f, im.size, im.size - 512, im.path, &err) == 0 &&
                   vhd_header_validate(&im.h, vhd_virtual_size(&im.f), im.size, im.f.data_offset, im.path, &err) == 0,
               "%s: footer and header validate", mk[i].name);
        unlink(im.path);
    }
    snprintf(path, sizeof path, "%s/vhd/plaso-image.vhd.xz", corpus);
    TAP_OK(access(path, R_OK) == 0, "the corpus stays in place (read, never moved)");
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        TAP_OK(0, "mkdtemp");
        return tap_done();
    }
    char corpus[400];
    const char *env = getenv("VHDKIT_CORPUS");
    const char *src = getenv("VHDKIT_SRCDIR");
    if (env)
        snprintf(corpus, sizeof corpus, "%s", env);
    else
        snprintf(corpus, sizeof corpus, "%s/../shared/corpus", src ? src : ".");
    test_qemu_img();
    test_corpus(corpus);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    run(cmd);
    return tap_done();
}
