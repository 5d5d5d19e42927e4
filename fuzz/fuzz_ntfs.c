/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: an NTFS volume mounted read-only through lib/ntfs (libntfs-3g on a memory device): info, the
 * folder tree walked from the root with caps, each entry stat'ed and its data read, $Bitmap read. A read-only
 * mount must never change a byte. Input: the volume's structures over the fixed base (fuzz/ntfs_base.h). */
#include "ntfs_base.h"

#include <stdio.h>

#include "vhdkit/ntfs.h"

#define MAX_ENTRIES 200
#define MAX_DEPTH 6
#define MAX_CHILDREN 64
#define READ_LEN (64u * 1024)

struct names {
    char name[MAX_CHILDREN][sizeof ((vk_ntfs_dirent *)0)->name];
    int is_dir[MAX_CHILDREN];
    unsigned n;
};

static int collect(void *ctx, const vk_ntfs_dirent *e)
{
    struct names *c = ctx;
    FUZZ_CHECK(memchr(e->name, 0, sizeof e->name) != NULL);
    if (c->n == MAX_CHILDREN)
        return 1;
    snprintf(c->name[c->n], sizeof c->name[c->n], "%s", e->name);
    c->is_dir[c->n] = e->is_dir;
    c->n++;
    return 0;
}

static void visit_file(vk_ntfs *vol, const char *path, uint8_t *buf)
{
    vk_error err = {0};
    vk_ntfs_stat st;
    if (!vk_ntfs_stat_path(vol, path, &st, &err)) {
        for (unsigned i = 0; i < st.nattrs; i++)
            FUZZ_CHECK(st.attrs[i].resident || st.attrs[i].nruns == 0 || st.attrs[i].runs != NULL);
        vk_ntfs_stat_free(&st);
    }
    size_t got = 0;
    if (!vk_ntfs_pread(vol, path, buf, READ_LEN, 0, &got, &err))
        FUZZ_CHECK(got <= READ_LEN);
    vk_ntfs_run *runs = NULL;
    unsigned n = 0;
    if (!vk_ntfs_data_runs(vol, path, &runs, &n, &err))
        free(runs);
}

static void walk(vk_ntfs *vol, const char *path, unsigned depth, unsigned *budget, uint8_t *buf)
{
    struct names *c = calloc(1, sizeof *c);
    if (!c)
        return;
    vk_error err = {0};
    int rc = vk_ntfs_readdir(vol, path, depth ? 0 : VK_NTFS_LS_META, collect, c, &err);
    FUZZ_CHECK(rc <= 1);
    char sub[4096];
    for (unsigned i = 0; i < c->n && *budget; i++, (*budget)--) {
        if (snprintf(sub, sizeof sub, "%s/%s", depth ? path : "", c->name[i]) >= (int)sizeof sub)
            continue; /* a cut path would name another file */
        if (c->is_dir[i] && depth < MAX_DEPTH)
            walk(vol, sub, depth + 1, budget, buf);
        else
            visit_file(vol, sub, buf);
    }
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = ntfs_base_volume(data, size);
    uint8_t *buf = malloc(READ_LEN);
    vk_dev *dev = NULL;
    vk_error err = {0};
    size_t len = ntfs_base_get()->len;
    if (!img || !buf || vk_dev_memory(len, img, len, &dev, &err))
        goto out;
    vk_ntfs *vol;
    int rc = vk_ntfs_mount(dev, VK_NTFS_RDONLY, &vol, &err);
    if (rc) {
        FUZZ_CHECK(rc < 0 && err.code == rc && err.msg[0]);
        goto out;
    }
    vk_ntfs_info info;
    if (!vk_ntfs_info_get(vol, &info, &err))
        FUZZ_CHECK(memchr(info.label, 0, sizeof info.label) != NULL);
    size_t got;
    vk_ntfs_bitmap_read(vol, 0, buf, 4096, &got, &err);
    unsigned budget = MAX_ENTRIES;
    walk(vol, "/", 0, &budget, buf);
    vk_ntfs_unmount(vol, &err);
    FUZZ_CHECK(!memcmp(vk_dev_memory_bytes(dev), img, len));
out:
    vk_dev_close(dev);
    free(buf);
    free(img);
    return 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap) { return ntfs_base_seed(i, buf, cap); }
