/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the MFT owner index (lib/ops/owners.c decodes every MFT record itself: fixups, attribute headers,
 * mapping pairs, $ATTRIBUTE_LIST, FILE_NAME parents) over a volume mounted read-only, then every query: owners of
 * clusters, ranges, paths, folders. Input: the volume's structures over the fixed base (fuzz/ntfs_base.h). */
#include "ntfs_base.h"

#include "vhdkit/ntfs.h"
#include "vhdkit/ops.h"

#define MAX_CLUSTERS 8192
#define MAX_RECORDS 256

struct range_walk {
    uint64_t next; /* runs come in cluster order */
    unsigned calls;
};

static int on_range(void *ctx, const struct vk_owner *ow, uint64_t first_clu, uint64_t nclu)
{
    struct range_walk *w = ctx;
    FUZZ_CHECK(nclu > 0 && first_clu >= w->next && first_clu >= ow->run_lcn &&
               first_clu - ow->run_lcn + nclu <= ow->run_len);
    FUZZ_CHECK(ow->attr_type_name && ow->stream);
    w->next = first_clu;
    return ++w->calls >= 4 * MAX_CLUSTERS;
}

static void query(const vk_owners *o)
{
    struct vk_owners_stats st;
    vk_owners_get_stats(o, &st);
    FUZZ_CHECK(st.in_use <= st.records && st.bad_records <= st.in_use);
    uint64_t nclu = st.total_clu < MAX_CLUSTERS ? st.total_clu : MAX_CLUSTERS;
    for (uint64_t lcn = 0; lcn < nclu; lcn++) {
        struct vk_owner ow;
        int rc = vk_owners_find(o, lcn, &ow);
        FUZZ_CHECK(rc == 0 || rc == 1);
        if (rc == 1)
            FUZZ_CHECK(lcn >= ow.run_lcn && lcn - ow.run_lcn < ow.run_len && ow.attr_type_name && ow.stream);
    }
    /* Past the end of the volume too: a hostile run may claim clusters the volume does not have. */
    struct range_walk w = {0, 0};
    vk_owners_range(o, 0, UINT64_MAX, on_range, &w);
    char path[4096];
    uint64_t nrec = st.records < MAX_RECORDS ? st.records : MAX_RECORDS;
    for (uint64_t r = 0; r < nrec; r++) {
        int rc = vk_owners_path(o, r, path, sizeof path);
        FUZZ_CHECK((rc == 0 || rc == VK_E_NOTFOUND) && memchr(path, 0, sizeof path));
        FUZZ_CHECK(vk_owners_is_dir(o, r) >= 0);
    }
    FUZZ_CHECK(vk_owners_path(o, UINT64_MAX, path, sizeof path) == VK_E_NOTFOUND);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = ntfs_base_volume(data, size);
    vk_dev *dev = NULL;
    vk_error err = {0};
    size_t len = ntfs_base_get()->len;
    if (!img || vk_dev_memory(len, img, len, &dev, &err))
        goto out;
    vk_ntfs *vol;
    if (vk_ntfs_mount(dev, VK_NTFS_RDONLY, &vol, &err))
        goto out;
    vk_owners *o;
    int rc = vk_owners_build(vol, &o, &err);
    if (rc)
        FUZZ_CHECK(rc < 0 && err.code == rc && err.msg[0]);
    else {
        query(o);
        vk_owners_free(o);
    }
    vk_ntfs_unmount(vol, &err);
    FUZZ_CHECK(!memcmp(vk_dev_memory_bytes(dev), img, len));
out:
    vk_dev_close(dev);
    free(img);
    return 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap) { return ntfs_base_seed(i, buf, cap); }
