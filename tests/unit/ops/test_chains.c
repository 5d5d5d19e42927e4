/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Chain operations through the public API (include/vhdkit/ops.h) on image files in a temp folder: merge of a
 * three-level chain written with patterns equals the flattened view (into the parent and two levels up; siblings
 * refused), reparent of a moved parent (a parent with another UUID refused without VK_CHAIN_FORCE, the child left
 * byte for byte as it was), rebase keeps the view byte for byte and drops sectors equal to the new parent, resize
 * grows and refuses shrinks over a partition or stored data, repair fixes damage once and finds nothing the second
 * time. Each expected view is computed here from the patterns, not read back from the code under test. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vhdkit/ops.h"
#include "vhdkit/vhd.h"

#define MIB (1024u * 1024u)
#define DISK (16u * MIB)

static char dir[] = "/tmp/vk-test-chains-XXXXXX";

static const char *at(char *buf, const char *name)
{
    snprintf(buf, 4096, "%s/%s", dir, name);
    return buf;
}

/* The byte pattern `tag` puts at virtual offset `off`: different per tag and per place, never zero. */
static uint8_t pat(uint64_t off, uint8_t tag)
{
    uint64_t x = (off / 4 + 1) * 0x9E3779B97F4A7C15u ^ (uint64_t)tag * 0xC2B2AE3D27D4EB4Fu;
    x ^= x >> 29;
    return (uint8_t)(x | 1) ^ (uint8_t)((off & 3) << 1);
}

static int mk(const char *path, enum vk_vhd_type type, uint64_t size, const char *parent, uint32_t block_size)
{
    struct vk_vhd_create_opts o = {.type = type, .size = size, .parent = parent, .block_size = block_size,
                                   .fill = VK_FILL_SPARSE};
    struct vk_vhd_create_result r;
    vk_error err = {0};
    int rc = vk_vhd_create(path, &o, &r, &err);
    if (rc)
        printf("# create %s: %s\n", path, err.msg);
    return rc;
}

/* Writes pattern `tag` over [off, off+len) of the image (through its chain) and mirrors it into `model`. */
static int wr(const char *path, uint64_t off, uint64_t len, uint8_t tag, uint8_t *model)
{
    struct vk_vhd_open_opts o = {.flags = VK_VHD_RDWR};
    vk_vhd *v = NULL;
    vk_error err = {0};
    int rc = vk_vhd_open(path, &o, &v, &err);
    if (rc)
        v = NULL;
    uint8_t *buf = malloc(len);
    for (uint64_t i = 0; buf && i < len; i++)
        buf[i] = pat(off + i, tag);
    if (!rc && buf)
        rc = vk_dev_write(vk_vhd_dev(v), buf, len, off, &err);
    if (!rc)
        rc = vk_vhd_flush(v, &err);
    if (rc)
        printf("# write %s: %s\n", path, err.msg);
    if (!rc && model)
        memcpy(model + off, buf, len);
    free(buf);
    if (v)
        vk_vhd_close(v);
    return rc;
}

/* The whole virtual disk of `path` (with its chain) into a new buffer of `size` bytes; NULL when it does not open. */
static uint8_t *view(const char *path, uint64_t size)
{
    vk_vhd *v;
    vk_error err = {0};
    if (vk_vhd_open(path, NULL, &v, &err)) {
        printf("# open %s: %s\n", path, err.msg);
        return NULL;
    }
    uint8_t *buf = malloc(size);
    if (buf && vk_dev_read(vk_vhd_dev(v), buf, size, 0, &err)) {
        printf("# read %s: %s\n", path, err.msg);
        free(buf);
        buf = NULL;
    }
    vk_vhd_close(v);
    return buf;
}

/* First differing offset, or -1. */
static int64_t first_diff(const uint8_t *a, const uint8_t *b, uint64_t n)
{
    if (!a || !b)
        return -2;
    for (uint64_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return (int64_t)i;
    return -1;
}

static bool exists(const char *p) { return access(p, F_OK) == 0; }

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)(n > 0 ? n : 0);
    return b;
}

static void poke(const char *path, uint64_t off, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    if (f && !fseek(f, (long)off, SEEK_SET))
        fwrite(bytes, 1, n, f);
    if (f)
        fclose(f);
}

/* base <- mid <- top with overlapping patterns (whole blocks, partial blocks, single sectors, a block only the
 * base holds); returns the flattened view the writes make. */
static uint8_t *three_levels(const char *base, const char *mid, const char *top)
{
    uint8_t *model = calloc(1, DISK);
    int rc = mk(base, VK_VHD_DYNAMIC, DISK, NULL, 0) || wr(base, 0, 3 * MIB, 1, model) ||
             wr(base, 12 * MIB + 512, 700 * 1024, 1, model) || mk(mid, VK_VHD_DIFF, 0, base, 0) ||
             wr(mid, 1 * MIB, 4 * MIB, 2, model) || wr(mid, 7 * MIB + 512, 100 * 512, 2, model) ||
             mk(top, VK_VHD_DIFF, 0, mid, 0) || wr(top, 2 * MIB + 4096, 3 * MIB, 3, model) ||
             wr(top, 15 * MIB, 512, 3, model) || wr(top, 7 * MIB + 1024, 512, 3, model);
    if (rc) {
        free(model);
        return NULL;
    }
    return model;
}

static void test_merge(void)
{
    char b[4096], m[4096], t[4096], s[4096];
    uint8_t *model = three_levels(at(b, "mb.vhd"), at(m, "mm.vhd"), at(t, "mt.vhd"));
    TAP_OK(model != NULL, "merge: three-level chain written");
    if (!model)
        return;
    uint8_t *before = view(t, DISK);
    TAP_EQ_U64(first_diff(before, model, DISK), (uint64_t)-1, "merge: the top of the chain shows the patterns");
    /* a sibling of the ancestor's child: merging into the base would change what it shows */
    mk(at(s, "msib.vhd"), VK_VHD_DIFF, 0, b, 0);
    struct vk_chain_result res = {0};
    vk_error err = {0};
    int rc = vk_merge(t, b, 0, &res, &err);
    TAP_EQ_U64(rc, VK_E_REFUSED, "merge into the base refused while another child of it exists");
    TAP_OK(res.nnames >= 1 && strstr(res.names[0], "msib.vhd"), "the refusal names the sibling");
    uint8_t *still = view(t, DISK);
    TAP_EQ_U64(first_diff(still, model, DISK), (uint64_t)-1, "merge refused: the chain is untouched");
    free(still);
    /* into the parent only (the sibling hangs off the base, not off mid) */
    memset(&res, 0, sizeof res);
    rc = vk_merge(t, NULL, VK_CHAIN_KEEP, &res, &err);
    TAP_EQ_U64(rc, 0, "merge top into its parent%s%s", rc ? ": " : "", rc ? err.msg : "");
    TAP_EQ_U64(res.levels, 1, "one level merged");
    uint8_t *mv = view(m, DISK);
    TAP_EQ_U64(first_diff(mv, model, DISK), (uint64_t)-1, "merge: the parent now shows the flattened chain");
    TAP_OK(exists(t), "VK_CHAIN_KEEP keeps the merged child");
    free(mv);
    /* a second chain merged two levels up, with the sibling forced */
    char b2[4096], m2[4096], t2[4096];
    uint8_t *model2 = three_levels(at(b2, "nb.vhd"), at(m2, "nm.vhd"), at(t2, "nt.vhd"));
    memset(&res, 0, sizeof res);
    rc = model2 ? vk_merge(t2, b2, 0, &res, &err) : -1;
    TAP_EQ_U64(rc, 0, "merge two levels up into the base%s%s", rc ? ": " : "", rc ? err.msg : "");
    TAP_EQ_U64(res.levels, 2, "two levels merged");
    uint8_t *bv = view(b2, DISK);
    TAP_EQ_U64(first_diff(bv, model2, DISK), (uint64_t)-1, "merge: the base shows the flattened three-level chain");
    TAP_OK(!exists(t2) && !exists(m2), "the merged images are deleted without VK_CHAIN_KEEP");
    struct vk_check_report rep;
    TAP_OK(!vk_check_image(b2, &rep, &err) && rep.errors == 0 && rep.warnings == 0, "merge: check is clean");
    vk_check_report_free(&rep);
    free(bv);
    free(model);
    free(model2);
    free(before);
}

static void test_reparent(void)
{
    char base[4096], kid[4096], moved[4096], other[4096], sub[4096];
    uint8_t *model = calloc(1, DISK);
    int rc = mk(at(base, "rb.vhd"), VK_VHD_DYNAMIC, DISK, NULL, 0) || wr(base, 0, 5 * MIB, 4, model) ||
             mk(at(kid, "rk.vhd"), VK_VHD_DIFF, 0, base, 0) || wr(kid, 3 * MIB, 2 * MIB + 512, 5, model);
    TAP_OK(!rc, "reparent: chain written");
    mkdir(at(sub, "moved"), 0755);
    at(moved, "moved/renamed-base.vhd");
    TAP_OK(rename(base, moved) == 0, "parent moved to another folder under another name");
    vk_vhd *v;
    vk_error err = {0};
    TAP_EQ_U64(vk_vhd_open(kid, NULL, &v, &err), VK_E_CHAIN, "the child no longer opens");
    /* a disk of the same size with another UUID: refused, nothing written */
    mk(at(other, "rother.vhd"), VK_VHD_DYNAMIC, DISK, NULL, 0);
    size_t n0, n1;
    uint8_t *f0 = slurp(kid, &n0);
    struct vk_chain_result res = {0};
    rc = vk_reparent(kid, other, 0, &res, &err);
    TAP_EQ_U64(rc, VK_E_REFUSED, "reparent onto a disk with another UUID refused without force");
    TAP_OK(strstr(err.msg, "UUID") != NULL, "the refusal says the UUIDs differ");
    uint8_t *f1 = slurp(kid, &n1);
    TAP_OK(f0 && f1 && n0 == n1 && !memcmp(f0, f1, n0), "refused: the child file is byte for byte as it was");
    memset(&res, 0, sizeof res);
    rc = vk_reparent(kid, moved, 0, &res, &err);
    TAP_EQ_U64(rc, 0, "reparent onto the moved parent%s%s", rc ? ": " : "", rc ? err.msg : "");
    TAP_EQ_U64(res.uuid_changed, 0, "the recorded parent UUID is kept");
    uint8_t *kv = view(kid, DISK);
    TAP_EQ_U64(first_diff(kv, model, DISK), (uint64_t)-1, "reparent: the chain opens again and reads as before");
    struct vk_vhd_info info;
    if (!vk_vhd_open(kid, NULL, &v, &err)) {
        vk_vhd_get_info(v, &info);
        TAP_OK(strstr(info.parent.path, "renamed-base.vhd") && info.parent.uuid_match, "the link names the moved "
               "parent with a matching UUID");
        vk_vhd_close(v);
    } else {
        TAP_OK(0, "the link names the moved parent with a matching UUID");
    }
    memset(&res, 0, sizeof res);
    rc = vk_reparent(kid, other, VK_CHAIN_FORCE, &res, &err);
    TAP_OK(rc == 0 && res.uuid_changed, "with VK_CHAIN_FORCE another UUID is accepted and reported");
    free(f0);
    free(f1);
    free(kv);
    free(model);
}

static void test_rebase(void)
{
    char b1[4096], b2[4096], kid[4096];
    uint8_t *model = calloc(1, DISK);
    /* old base and new base differ in most places and agree on [8M, 9M); the child holds [8M, 8M+64K) with the same
     * bytes as the new base (droppable) and its own data elsewhere */
    int rc = mk(at(b1, "ob.vhd"), VK_VHD_DYNAMIC, DISK, NULL, 0) || wr(b1, 0, 6 * MIB, 6, model) ||
             wr(b1, 8 * MIB, MIB, 9, model) || mk(at(b2, "nb2.vhd"), VK_VHD_DYNAMIC, DISK, NULL, 0) ||
             wr(b2, 2 * MIB, 10 * MIB, 7, NULL) || wr(b2, 8 * MIB, MIB, 9, NULL) ||
             mk(at(kid, "rk2.vhd"), VK_VHD_DIFF, 0, b1, 0) || wr(kid, 4 * MIB + 512, 1536, 8, model) ||
             wr(kid, 8 * MIB, 64 * 1024, 9, model);
    TAP_OK(!rc, "rebase: old base, new base and child written");
    struct vk_chain_result res = {0};
    vk_error err = {0};
    rc = vk_rebase(kid, b2, 0, &res, &err);
    TAP_EQ_U64(rc, 0, "rebase onto the new base%s%s", rc ? ": " : "", rc ? err.msg : "");
    uint8_t *kv = view(kid, DISK);
    TAP_EQ_U64(first_diff(kv, model, DISK), (uint64_t)-1, "rebase: the child's view is preserved byte for byte");
    TAP_OK(res.bytes_copied > 0, "rebase copied the sectors where the chains differ (%llu bytes)",
           (unsigned long long)res.bytes_copied);
    TAP_OK(res.bytes_dropped >= 64 * 1024, "child sectors equal to the new base were dropped (%llu bytes)",
           (unsigned long long)res.bytes_dropped);
    vk_vhd *v;
    if (!vk_vhd_open(kid, NULL, &v, &err)) {
        TAP_OK(vk_vhd_parent(v) && strstr(vk_vhd_path(vk_vhd_parent(v)), "nb2.vhd"), "the child now hangs off the "
               "new base");
        vk_vhd_close(v);
    } else {
        TAP_OK(0, "the child now hangs off the new base: %s", err.msg);
    }
    free(kv);
    free(model);
}

static void test_resize(void)
{
    char img[4096], pimg[4096];
    uint8_t *model = calloc(1, 64 * MIB);
    int rc = mk(at(img, "rs.vhd"), VK_VHD_DYNAMIC, DISK, NULL, 0) || wr(img, 0, 3 * MIB, 10, model) ||
             wr(img, 14 * MIB, 4096, 10, model);
    struct vk_chain_result res = {0};
    vk_error err = {0};
    rc = rc ? rc : vk_resize(img, 64 * MIB, 0, &res, &err);
    TAP_EQ_U64(rc, 0, "resize: grow 16 MiB to 64 MiB%s%s", rc ? ": " : "", rc ? err.msg : "");
    TAP_EQ_U64(res.new_size, 64 * MIB, "the result reports the new size");
    uint8_t *v = view(img, 64 * MIB);
    TAP_EQ_U64(first_diff(v, model, 64 * MIB), (uint64_t)-1, "grown: old data intact, new space reads zero");
    free(v);
    rc = wr(img, 60 * MIB, 512, 11, model);
    memset(&res, 0, sizeof res);
    TAP_EQ_U64(vk_resize(img, 32 * MIB, 0, &res, &err), VK_E_REFUSED, "shrink over stored data refused");
    TAP_OK(strstr(err.msg, "data") != NULL, "the refusal says data would be lost");
    /* a partition (MBR entry 1 from sector 2048, 40 MiB long) past the new end refuses a shrink too */
    mk(at(pimg, "rsp.vhd"), VK_VHD_DYNAMIC, 64 * MIB, NULL, 0);
    uint8_t mbr[512] = {0};
    uint32_t start = 2048, len = 40 * MIB / 512;
    uint8_t *e = mbr + 446;
    e[4] = 0x07;
    memcpy(e + 8, (uint8_t[]){start & 0xFF, start >> 8 & 0xFF, start >> 16 & 0xFF, start >> 24}, 4);
    memcpy(e + 12, (uint8_t[]){len & 0xFF, len >> 8 & 0xFF, len >> 16 & 0xFF, len >> 24}, 4);
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    struct vk_vhd_open_opts o = {.flags = VK_VHD_RDWR};
    vk_vhd *h;
    if (!vk_vhd_open(pimg, &o, &h, &err)) {
        vk_dev_write(vk_vhd_dev(h), mbr, 512, 0, &err);
        vk_vhd_close(h);
    }
    TAP_EQ_U64(vk_resize(pimg, 32 * MIB, 0, &res, &err), VK_E_REFUSED, "shrink into a partition refused");
    TAP_OK(strstr(err.msg, "partition 1") != NULL, "the refusal names the partition");
    rc = vk_resize(pimg, 48 * MIB, 0, &res, &err);
    TAP_EQ_U64(rc, 0, "shrink that keeps the partition whole is allowed%s%s", rc ? ": " : "", rc ? err.msg : "");
    TAP_EQ_U64(vk_resize(pimg, 0, 0, &res, &err), VK_E_USAGE, "size zero is a usage error");
    free(model);
}

static void test_repair(void)
{
    char img[4096];
    uint8_t *model = calloc(1, DISK);
    int rc = mk(at(img, "rp.vhd"), VK_VHD_DYNAMIC, DISK, NULL, 0) || wr(img, 0, 5 * MIB, 12, model);
    TAP_OK(!rc, "repair: image written");
    size_t n;
    uint8_t *f = slurp(img, &n);
    if (!f || n < 2048)
        return;
    /* footer checksum zeroed, and the block size field (header at 512 + 32) set to 4 MiB without moving blocks */
    poke(img, n - 512 + 64, "\0\0\0\0", 4);
    uint8_t hdr[1024];
    memcpy(hdr, f + 512, sizeof hdr);
    hdr[32] = 0x00, hdr[33] = 0x40, hdr[34] = 0x00, hdr[35] = 0x00;
    uint32_t sum = 0;
    for (int i = 0; i < 1024; i++)
        sum += (i >= 36 && i < 40) ? 0 : hdr[i];
    sum = ~sum;
    uint8_t be[4] = {sum >> 24, sum >> 16 & 0xFF, sum >> 8 & 0xFF, sum & 0xFF};
    memcpy(hdr + 36, be, 4);
    poke(img, 512, hdr, sizeof hdr);
    struct vk_check_report rep;
    vk_error err = {0};
    rc = vk_check_image(img, &rep, &err);
    TAP_OK(!rc && rep.errors >= 2, "check finds the damage (%zu errors)", rep.errors);
    bool bs_named = false;
    for (size_t i = 0; !rc && i < rep.count; i++)
        bs_named |= rep.problems[i].has_offset && rep.problems[i].offset == 512 + 32;
    TAP_OK(bs_named, "check names the block size field at offset 544");
    vk_check_report_free(&rep);
    struct vk_chain_result res = {0};
    rc = vk_repair(img, NULL, 0, &res, &err);
    TAP_OK(rc == 0 && res.nfixed >= 2 && res.nleft == 0, "repair fixes both (%u fixed, %u left)", res.nfixed,
           res.nleft);
    uint8_t *v = view(img, DISK);
    TAP_EQ_U64(first_diff(v, model, DISK), (uint64_t)-1, "repaired: the data reads as written");
    memset(&res, 0, sizeof res);
    size_t n1, n2;
    uint8_t *a = slurp(img, &n1);
    rc = vk_repair(img, NULL, 0, &res, &err);
    uint8_t *b = slurp(img, &n2);
    TAP_OK(rc == 0 && res.nfixed == 0 && res.nleft == 0, "a second repair finds nothing");
    TAP_OK(a && b && n1 == n2 && !memcmp(a, b, n1), "and writes nothing");
    rc = vk_check_image(img, &rep, &err);
    TAP_OK(!rc && rep.errors == 0 && rep.warnings == 0, "check is clean after repair");
    vk_check_report_free(&rep);
    memset(&res, 0, sizeof res);
    TAP_OK(!vk_repair(img, NULL, VK_CHAIN_DRY_RUN, &res, &err) && res.nfixed == 0, "a dry run agrees");
    free(a);
    free(b);
    free(v);
    free(f);
    free(model);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    test_merge();
    test_reparent();
    test_rebase();
    test_resize();
    test_repair();
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd))
        printf("# could not remove %s\n", dir);
    return tap_done();
}
