/* SPDX-License-Identifier: GPL-2.0-or-later */
/* owners: the cluster-owner index of a mkntfs volume with files written through vk_ntfs (plain, fragmented, sparse,
 * alternate streams, resident, one with so many streams that its attributes spill into extension records through
 * $ATTRIBUTE_LIST) agrees with every file's runs as vk_ntfs_stat_path reports them, and holes own nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vhdkit/ntfs.h"
#include "vhdkit/ops.h"

#define VOL_SIZE (64ull << 20)
#define NSTREAMS 40

static char dir[64], img[128];

static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int put(vk_ntfs *v, const char *path, size_t len, uint64_t off, uint8_t fill)
{
    uint8_t *b = malloc(len ? len : 1);
    memset(b, fill, len);
    vk_error err = {0};
    int rc = vk_ntfs_pwrite(v, path, VK_NTFS_CREATE, b, len, off, &err);
    if (rc)
        printf("# write %s: %s\n", path, err.msg);
    free(b);
    return rc;
}

/* Every cluster of every non-resident attribute of `path` is owned by that file and attribute, at the right vcn. */
static void check_file(vk_ntfs *v, const vk_owners *o, const char *path, const char *want_path, int *extension_seen)
{
    vk_ntfs_stat st;
    vk_error err = {0};
    if (vk_ntfs_stat_path(v, path, &st, &err)) {
        TAP_OK(0, "stat %s: %s", path, err.msg);
        return;
    }
    unsigned checked = 0, wrong = 0;
    for (unsigned i = 0; i < st.nattrs; i++) {
        const vk_ntfs_attr *a = &st.attrs[i];
        for (unsigned r = 0; !a->resident && r < a->nruns; r++) {
            const vk_ntfs_run *run = &a->runs[r];
            for (uint64_t k = 0; k < run->len_clu; k++) {
                if (run->lcn < 0)
                    continue;
                struct vk_owner ow;
                checked++;
                if (!vk_owners_find(o, (uint64_t)run->lcn + k, &ow) || ow.mft_record != st.mft ||
                    ow.attr_type != a->type || strcmp(ow.stream, a->name) ||
                    ow.run_vcn + ((uint64_t)run->lcn + k - ow.run_lcn) != (uint64_t)run->vcn + k) {
                    if (!wrong)
                        printf("# %s %s:%s cluster %lld: owner %llu %s:%s\n", path, a->type_name, a->name,
                               (long long)(run->lcn + (int64_t)k), (unsigned long long)ow.mft_record,
                               ow.attr_type_name, ow.stream);
                    wrong++;
                }
                if (ow.flags & VK_OWNER_EXTENSION)
                    *extension_seen = 1;
            }
        }
    }
    TAP_OK(checked > 0 && !wrong, "%s: %u clusters, each owned by its attribute at its vcn", path, checked);
    char p[4096];
    vk_owners_path(o, st.mft, p, sizeof p);
    TAP_EQ_STR(p, want_path, "%s: path rebuilt from FILE_NAME parents", path);
    vk_ntfs_stat_free(&st);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/vk-owners.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(img, sizeof img, "%s/v.img", dir);
    TAP_OK(sh("truncate -s %llu %s && mkntfs -q -F -Q -s 512 -c 4096 %s >/dev/null 2>&1", VOL_SIZE, img, img) == 0,
           "mkntfs makes a 64 MiB volume");
    vk_dev *dev = NULL;
    vk_ntfs *v = NULL;
    vk_error err = {0};
    TAP_OK(vk_dev_open_file(img, VK_FILE_RDWR, &dev, &err) == 0 && vk_ntfs_mount(dev, 0, &v, &err) == 0,
           "mount read-write");
    if (!v)
        return tap_done();
    vk_ntfs_mkdir(v, "/Dir/Sub", 1, &err);
    int rc = put(v, "/Dir/Sub/plain.bin", 300000, 0, 1);
    /* Interleaved appends fragment both files. */
    for (int i = 0; i < 8 && !rc; i++)
        rc = put(v, "/Dir/frag_a.bin", 40960, (uint64_t)i * 40960, 2) || put(v, "/Dir/frag_b.bin", 40960,
                                                                               (uint64_t)i * 40960, 3);
    /* Written past its end: the gap is a hole in a sparse file. */
    rc = rc || put(v, "/sparse.bin", 8192, 0, 4) || put(v, "/sparse.bin", 8192, 4u << 20, 5);
    rc = rc || put(v, "/ads.txt", 100, 0, 6) || put(v, "/ads.txt:secret", 50000, 0, 7);
    rc = rc || put(v, "/tiny.txt", 20, 0, 8);
    char name[64];
    for (int i = 0; i < NSTREAMS && !rc; i++) {
        snprintf(name, sizeof name, "/many.bin:stream_with_a_long_name_%02d", i);
        rc = put(v, name, 5000, 0, (uint8_t)(9 + i));
    }
    TAP_OK(rc == 0, "files written: plain, fragmented, sparse, alternate streams, resident, %d streams", NSTREAMS);
    TAP_OK(vk_ntfs_unmount(v, &err) == 0, "unmount flushes");
    v = NULL;
    TAP_OK(vk_ntfs_mount(dev, VK_NTFS_RDONLY, &v, &err) == 0, "mount read-only");
    vk_owners *o = NULL;
    TAP_OK(vk_owners_build(v, &o, &err) == 0, "index built: %s", err.msg);
    if (o) {
        struct vk_owners_stats st;
        vk_owners_get_stats(o, &st);
        TAP_OK(st.runs > 20 && st.in_use > 16 && !st.bad_records && !st.overlaps,
               "%llu runs from %llu records, no damaged records, no overlaps", (unsigned long long)st.runs,
               (unsigned long long)st.in_use);
        int ext = 0;
        check_file(v, o, "/Dir/Sub/plain.bin", "/Dir/Sub/plain.bin", &ext);
        check_file(v, o, "/Dir/frag_a.bin", "/Dir/frag_a.bin", &ext);
        check_file(v, o, "/Dir/frag_b.bin", "/Dir/frag_b.bin", &ext);
        check_file(v, o, "/sparse.bin", "/sparse.bin", &ext);
        check_file(v, o, "/ads.txt", "/ads.txt", &ext); /* its only clusters are those of stream "secret" */
        check_file(v, o, "/many.bin", "/many.bin", &ext);
        TAP_OK(ext, "runs described in extension records are credited to the base record");
        check_file(v, o, "/$MFT", "/$MFT", &ext);
        check_file(v, o, "/$LogFile", "/$LogFile", &ext);
        check_file(v, o, "/$Bitmap", "/$Bitmap", &ext);

        /* The hole of sparse.bin: its clusters belong to nobody. */
        vk_ntfs_run *runs;
        unsigned n;
        int hole_seen = 0;
        if (!vk_ntfs_data_runs(v, "/sparse.bin", &runs, &n, &err)) {
            for (unsigned i = 0; i < n; i++)
                hole_seen |= runs[i].lcn < 0 && runs[i].len_clu > 0;
            free(runs);
        }
        TAP_OK(hole_seen, "sparse.bin has a hole (so the run check above skipped it)");
        /* A resident file owns no cluster: no run names its record. */
        vk_ntfs_stat ts;
        struct { uint64_t mft; int seen; } tiny = {0, 0};
        if (!vk_ntfs_stat_path(v, "/tiny.txt", &ts, &err)) {
            tiny.mft = ts.mft;
            vk_ntfs_stat_free(&ts);
        }
        for (uint64_t c = 0; c < st.total_clu; c++) {
            struct vk_owner ow;
            if (vk_owners_find(o, c, &ow) && ow.mft_record == tiny.mft)
                tiny.seen = 1;
        }
        TAP_OK(tiny.mft && !tiny.seen, "resident tiny.txt owns no cluster");
        char p[64];
        TAP_EQ_U64(vk_owners_path(o, 5, p, sizeof p), 0, "root has a path");
        TAP_EQ_STR(p, "/", "root is /");
        TAP_OK(vk_owners_path(o, st.records + 5, p, sizeof p) == VK_E_NOTFOUND, "no path past the MFT");
        TAP_OK(vk_owners_is_dir(o, 5) && !vk_owners_is_dir(o, 0), "root is a directory, $MFT is not");
    }
    vk_owners_free(o);
    vk_ntfs_unmount(v, NULL);
    vk_dev_close(dev);
    sh("rm -rf %s", dir);
    return tap_done();
}
