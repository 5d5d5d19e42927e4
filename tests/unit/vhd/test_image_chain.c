/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differencing chains: a 3-deep chain read flat (and by libvhdi), extents through the chain, zero writes over
 * parent data, parents found in search folders, missing parents, UUID mismatch, loops, depth limit, corrupt parent. */
#include "tap.h"

#include <fcntl.h>

#include "vhd_test_util.h"
#include "core/bytes.h"
#include "vhd/format.h"

#define SIZE (12u << 20)

static uint8_t model[SIZE];

static int make(const char *name, enum vk_vhd_type type, const char *parent, uint32_t bs)
{
    char path[512];
    struct vk_vhd_create_opts co = {.type = type, .size = parent ? 0 : SIZE, .block_size = bs, .parent = parent};
    vk_error err;
    int rc = vk_vhd_create(tpath(path, sizeof path, name), &co, NULL, &err);
    if (rc)
        printf("# create %s: %s\n", name, err.msg);
    return rc;
}

/* Random writes into one image of the chain (the model follows the flattened view). */
static int scribble(const char *name, uint8_t tag, int count)
{
    char path[512];
    vk_vhd *vhd;
    vk_error err;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    if (vk_vhd_open(tpath(path, sizeof path, name), &oo, &vhd, &err)) {
        printf("# open %s: %s\n", name, err.msg);
        return -1;
    }
    static uint8_t buf[1 << 20];
    int rc = 0;
    for (int i = 0; i < count && !rc; i++) {
        uint64_t off = rnd() % SIZE;
        size_t len = 1 + (size_t)(rnd() % sizeof buf);
        if (len > SIZE - off)
            len = (size_t)(SIZE - off);
        fill_pattern(buf, len, tag);
        if (i % 5 == 4)
            memset(buf, 0, len);
        rc = vk_dev_write(vk_vhd_dev(vhd), buf, len, off, &err);
        memcpy(model + off, buf, len);
    }
    if (rc)
        printf("# write %s: %s\n", name, err.msg);
    vk_vhd_close(vhd);
    return rc;
}

static void three_deep(void)
{
    char base[512], mid[512], top[512], raw[600];
    tpath(base, sizeof base, "base.vhd");
    tpath(mid, sizeof mid, "mid.vhd");
    tpath(top, sizeof top, "top.vhd");
    snprintf(raw, sizeof raw, "%s/flat.raw", tdir);
    TAP_OK(make("base.vhd", VK_VHD_DYNAMIC, NULL, 512u << 10) == 0 && scribble("base.vhd", 0x11, 20) == 0,
           "chain: base with its pattern");
    TAP_OK(make("mid.vhd", VK_VHD_DIFF, base, 0) == 0 && scribble("mid.vhd", 0x22, 20) == 0,
           "chain: mid (child of base) with its pattern");
    TAP_OK(make("top.vhd", VK_VHD_DIFF, mid, 1u << 20) == 0 && scribble("top.vhd", 0x33, 20) == 0,
           "chain: top (child of mid) with its pattern");
    vk_vhd *vhd;
    vk_error err;
    int rc = vk_vhd_open(top, NULL, &vhd, &err);
    TAP_OK(rc == 0, "chain: open top with its chain (%s)", rc ? err.msg : "ok");
    if (rc)
        return;
    TAP_OK(dev_diff(vk_vhd_dev(vhd), model, SIZE) == -1, "chain: the flattened view equals the model");
    struct vk_vhd_info info;
    vk_vhd_get_info(vhd, &info);
    TAP_OK(info.type == VK_VHD_DIFF && info.parent.found && info.parent.uuid_match && info.tried_count >= 1 &&
               strstr(info.parent.path, "mid.vhd") && strstr(info.parent_name, "mid.vhd"),
           "chain: info names the parent found (%s, tried %d)", info.parent.path, info.tried_count);
    TAP_OK(vk_vhd_parent(vhd) && vk_vhd_parent(vk_vhd_parent(vhd)) && !vk_vhd_parent(vk_vhd_parent(vk_vhd_parent(vhd))),
           "chain: three images deep");
    /* Deep extents tile the disk; DATA runs name an image; nothing outside DATA holds nonzero bytes. */
    uint64_t off = 0;
    int ok = 1, saw_parent = 0, depths[3] = {0};
    while (off < SIZE && ok) {
        vk_extent e, shallow;
        int depth;
        if (vk_vhd_extent_deep(vhd, off, SIZE - off, &e, &depth, &err) ||
            vk_dev_extent(vk_vhd_dev(vhd), off, SIZE - off, &shallow, &err)) {
            ok = 0;
            break;
        }
        saw_parent |= shallow.kind == VK_EXTENT_PARENT;
        if (e.kind == VK_EXTENT_DATA && depth >= 0 && depth < 3)
            depths[depth]++;
        if (e.kind != VK_EXTENT_DATA)
            for (uint64_t i = off; i < off + e.len && ok; i++)
                ok = model[i] == 0;
        if (e.kind == VK_EXTENT_PARENT)
            ok = 0;
        off += e.len;
    }
    TAP_OK(ok && off == SIZE, "chain: deep extents tile the disk and only DATA runs hold bytes");
    TAP_OK(saw_parent && depths[0] && depths[1] && depths[2], "chain: the top answers PARENT; data found at depths "
           "0, 1 and 2 (%d/%d/%d runs)", depths[0], depths[1], depths[2]);
    vk_vhd_close(vhd);
    TAP_OK(run("'%s' '%s' '%s' '%s' > '%s'", getenv("VHDI_CAT") ? getenv("VHDI_CAT") : "vhdi_cat", top, mid, base,
               raw) == 0 && file_diff(raw, model, SIZE) == -1,
           "chain: libvhdi reads the same flattened chain");
    TAP_OK(run("vhdiinfo '%s' > /dev/null 2>&1", top) == 0, "chain: vhdiinfo accepts the top image");
    unlink(raw);
}

/* Zeros over a parent's data must allocate in the child (VHD-NOTES.md 9); zeros over nothing need no block. */
static void zeros_over_parent(void)
{
    char top[512];
    tpath(top, sizeof top, "top.vhd");
    vk_vhd *vhd;
    vk_error err;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    if (vk_vhd_open(top, &oo, &vhd, &err)) {
        TAP_OK(0, "zeros: open top");
        return;
    }
    uint64_t at = 0;
    for (uint64_t i = 0; i < SIZE; i++)
        if (model[i]) {
            at = i & ~(uint64_t)511;
            break;
        }
    static uint8_t zeros[4096];
    TAP_OK(vk_dev_write(vk_vhd_dev(vhd), zeros, sizeof zeros, at, &err) == 0, "zeros: write zeros over data");
    memset(model + at, 0, sizeof zeros);
    uint8_t back[4096];
    vk_dev_read(vk_vhd_dev(vhd), back, sizeof back, at, &err);
    TAP_OK(!memcmp(back, zeros, sizeof zeros), "zeros: they read back as zeros, hiding the parent's data");
    vk_vhd_close(vhd);
}

static void search_dirs_and_missing(void)
{
    char top[512], store[512], moved[600], base[512];
    tpath(top, sizeof top, "top.vhd");
    tpath(base, sizeof base, "base.vhd");
    tpath(store, sizeof store, "store");
    snprintf(moved, sizeof moved, "%s/base.vhd", store);
    run("mkdir -p '%s' && mv '%s' '%s'", store, base, moved);
    vk_vhd *vhd;
    vk_error err;
    int rc = vk_vhd_open(top, NULL, &vhd, &err);
    TAP_EQ_U64(rc, VK_E_CHAIN, "missing: a moved grandparent is a chain error");
    TAP_OK(strstr(err.msg, "tried") && strstr(err.msg, "base.vhd") && strstr(err.file, "mid.vhd"),
           "missing: the message names the image and the paths tried (%s: %s)", err.file, err.msg);
    const char *dirs[] = {store, NULL};
    struct vk_vhd_open_opts oo = {.search_dirs = dirs};
    rc = vk_vhd_open(top, &oo, &vhd, &err);
    TAP_OK(rc == 0, "missing: found again through a search folder (%s)", rc ? err.msg : "ok");
    if (!rc) {
        TAP_OK(dev_diff(vk_vhd_dev(vhd), model, SIZE) == -1, "missing: the chain reads the same");
        vk_vhd_close(vhd);
    }
    oo.flags = VK_VHD_NO_PARENT;
    rc = vk_vhd_open(top, &oo, &vhd, &err);
    TAP_OK(rc == 0 && !vk_vhd_parent(vhd), "missing: NO_PARENT opens the metadata only");
    if (!rc) {
        uint8_t b[512];
        vk_extent e;
        int depth = 7;
        TAP_OK(vk_vhd_extent_deep(vhd, 0, SIZE, &e, &depth, &err) == 0, "missing: deep extent without a parent");
        int fell = 0;
        for (uint64_t off = 0; off < SIZE && !fell; off += 1u << 20)
            fell = vk_dev_read(vk_vhd_dev(vhd), b, sizeof b, off, &err) == VK_E_CHAIN;
        TAP_OK(fell, "missing: a read that falls through to the absent parent is a chain error");
        vk_vhd_close(vhd);
    }
    run("mv '%s' '%s'", moved, base);
}

static void uuid_mismatch(void)
{
    char base[512], keep[600], other[512], top[512];
    tpath(base, sizeof base, "base.vhd");
    tpath(top, sizeof top, "top.vhd");
    snprintf(keep, sizeof keep, "%s.keep", base);
    tpath(other, sizeof other, "other.vhd");
    make("other.vhd", VK_VHD_DYNAMIC, NULL, 0);
    run("mv '%s' '%s' && mv '%s' '%s'", base, keep, other, base);
    vk_vhd *vhd;
    vk_error err;
    int rc = vk_vhd_open(top, NULL, &vhd, &err);
    TAP_OK(rc == VK_E_CHAIN && strstr(err.msg, "UUID"), "uuid: a replaced parent is refused (%s)", err.msg);
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_TOLERANT};
    rc = vk_vhd_open(top, &oo, &vhd, &err);
    TAP_OK(rc == 0, "uuid: tolerant open accepts it");
    if (!rc) {
        struct vk_vhd_info info;
        vk_vhd_get_info(vk_vhd_parent(vhd), &info);
        TAP_OK(info.parent.found && !info.parent.uuid_match, "uuid: the mismatch is recorded in the info");
        vk_vhd_close(vhd);
    }
    run("mv '%s' '%s'", keep, base);
}

static void loops_and_depth(void)
{
    char x[512], y[512], z[512];
    tpath(x, sizeof x, "lx.vhd");
    tpath(y, sizeof y, "ly.vhd");
    tpath(z, sizeof z, "lz.vhd");
    make("lx.vhd", VK_VHD_DYNAMIC, NULL, 0);
    make("ly.vhd", VK_VHD_DIFF, x, 0);
    make("lz.vhd", VK_VHD_DIFF, y, 0);
    /* lx becomes a copy of lz: ly -> lx -> ly */
    run("cp '%s' '%s'", z, x);
    vk_vhd *vhd;
    vk_error err;
    struct vk_vhd_open_opts tol = {.flags = VK_VHD_TOLERANT};
    int rc = vk_vhd_open(y, &tol, &vhd, &err);
    TAP_OK(rc == VK_E_CHAIN && strstr(err.msg, "loop"), "loop: A -> B -> A is refused (%s)", err.msg);
    /* an image whose locators name itself */
    char s[512], sp[512];
    tpath(sp, sizeof sp, "self.vhd");
    tpath(s, sizeof s, "selfchild.vhd");
    make("self.vhd", VK_VHD_DYNAMIC, NULL, 0);
    make("selfchild.vhd", VK_VHD_DIFF, sp, 0);
    run("mv '%s' '%s'", s, sp);
    rc = vk_vhd_open(sp, &tol, &vhd, &err);
    TAP_OK(rc == VK_E_CHAIN && strstr(err.msg, "loop"), "loop: an image that is its own parent is refused");
    /* depth: a chain of VK_VHD_MAX_CHAIN_DEPTH + 1 children */
    char prev[512], name[64], cur[512];
    make("d0.vhd", VK_VHD_DYNAMIC, NULL, 0);
    tpath(prev, sizeof prev, "d0.vhd");
    int made = 1;
    for (int i = 1; i <= VK_VHD_MAX_CHAIN_DEPTH + 1 && made; i++) {
        snprintf(name, sizeof name, "d%d.vhd", i);
        made = make(name, VK_VHD_DIFF, prev, 0) == 0;
        snprintf(prev, sizeof prev, "%s", tpath(cur, sizeof cur, name));
        if (i == VK_VHD_MAX_CHAIN_DEPTH) {
            rc = vk_vhd_open(cur, NULL, &vhd, &err);
            TAP_OK(rc == 0, "depth: a chain of %d images below the top opens", VK_VHD_MAX_CHAIN_DEPTH);
            if (!rc)
                vk_vhd_close(vhd);
        }
    }
    rc = vk_vhd_open(prev, NULL, &vhd, &err);
    TAP_OK(made && rc == VK_E_CHAIN && strstr(err.msg, "deeper"), "depth: one more is refused (%s)", err.msg);
}

static void corrupt_parent(void)
{
    char mid[512], top[512], keep[600];
    tpath(mid, sizeof mid, "mid.vhd");
    tpath(top, sizeof top, "top.vhd");
    snprintf(keep, sizeof keep, "%s.keep", mid);
    run("cp '%s' '%s'", mid, keep);
    int fd = open(mid, O_WRONLY);
    TAP_OK(fd >= 0 && pwrite(fd, "XXXXXXXX", 8, 512) == 8, "corrupt: damage mid's header cookie");
    close(fd);
    vk_vhd *vhd;
    vk_error err;
    int rc = vk_vhd_open(top, NULL, &vhd, &err);
    TAP_OK(rc == VK_E_CORRUPT && strstr(err.file, "mid.vhd"), "corrupt: the error names the parent (%s: %s)",
           err.file, err.msg);
    run("mv '%s' '%s'", keep, mid);
}

int main(void)
{
    if (!mkdtemp(tdir))
        return 1;
    three_deep();
    zeros_over_parent();
    search_dirs_and_missing();
    uuid_mismatch();
    loops_and_depth();
    corrupt_parent();
    run("rm -rf '%s'", tdir);
    return tap_done();
}
