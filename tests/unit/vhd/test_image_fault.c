/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Crash safety (DESIGN.md safety rule 3): a write sequence is cut after N host writes, for every N, in stop and
 * torn modes; the image must reopen with every completed write intact and nothing else changed. */
#include "tap.h"

#include "vhd_test_util.h"

#define SIZE (8u << 20)
#define NWRITES 10

struct w {
    uint64_t off;
    size_t len;
    uint8_t tag;
    int zero;
};

/* New blocks, writes into allocated blocks (aligned and not), zeros into allocated and unallocated blocks. */
static const struct w seq[NWRITES] = {
    {0, 4096, 1, 0},          {700000, 70000, 2, 0},   {1000, 3000, 3, 0}, {3u << 20, 1u << 20, 4, 0},
    {5u << 20, 65536, 5, 1},  {(3u << 20) + 17, 999, 6, 0}, {SIZE - 700, 700, 7, 0}, {6u << 20, 8192, 8, 1},
    {100, 100, 9, 1},         {2u << 20, (1u << 20) + 512, 10, 0},
};

static uint8_t before[SIZE], after[SIZE];

static void apply(uint8_t *m, const struct w *w)
{
    uint64_t saved = rng;
    rng = 0x1234567 + w->tag;
    if (w->zero)
        memset(m + w->off, 0, w->len);
    else
        fill_pattern(m + w->off, w->len, w->tag);
    rng = saved;
}

/* Runs the sequence over a fault device cut after `cut` writes; returns the number of writes that completed. */
static int run_cut(const char *path, enum vk_fault_mode mode, uint64_t cut, uint64_t *host_writes)
{
    vk_dev *file, *fault;
    vk_error err;
    if (vk_dev_open_file(path, VK_FILE_RDWR, &file, &err) || vk_dev_fault(file, mode, cut, &fault, &err))
        return -1;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR, .file = fault};
    vk_vhd *vhd;
    if (vk_vhd_open(path, &oo, &vhd, &err)) {
        printf("# open: %s\n", err.msg);
        return -1;
    }
    static uint8_t buf[2u << 20];
    int done = 0;
    for (int i = 0; i < NWRITES; i++) {
        memset(buf, 0, seq[i].len);
        apply(buf - seq[i].off, &seq[i]);
        if (vk_dev_write(vk_vhd_dev(vhd), buf, seq[i].len, seq[i].off, &err))
            break;
        done++;
    }
    if (host_writes)
        *host_writes = vk_dev_fault_writes(fault);
    vk_vhd_close(vhd);
    return done;
}

/* After the crash: every byte equals the model with `done` writes, except inside the write that was cut, where
 * each byte may be old or new. */
static int check(const char *path, const uint8_t *base_model, int done, const char *what)
{
    memcpy(before, base_model, SIZE);
    for (int i = 0; i < done; i++)
        apply(before, &seq[i]);
    memcpy(after, before, SIZE);
    if (done < NWRITES)
        apply(after, &seq[done]);
    vk_vhd *vhd;
    vk_error err;
    if (vk_vhd_open(path, NULL, &vhd, &err)) {
        printf("# %s: reopen failed: %s\n", what, err.msg);
        return 0;
    }
    static uint8_t got[SIZE];
    int ok = vk_dev_read(vk_vhd_dev(vhd), got, SIZE, 0, &err) == 0;
    for (uint64_t i = 0; ok && i < SIZE; i++)
        if (got[i] != before[i] && got[i] != after[i]) {
            printf("# %s: byte %llu is neither old nor new\n", what, (unsigned long long)i);
            ok = 0;
        }
    vk_vhd_close(vhd);
    return ok;
}

static void crash_every_write(const char *label, const char *pristine, const uint8_t *base_model)
{
    char work[600];
    snprintf(work, sizeof work, "%s/work.vhd", tdir);
    run("cp '%s' '%s'", pristine, work);
    uint64_t total = 0;
    int done = run_cut(work, VK_FAULT_STOP, UINT64_MAX, &total);
    TAP_OK(done == NWRITES && total > NWRITES, "%s: the sequence takes %llu host writes", label,
           (unsigned long long)total);
    TAP_OK(check(work, base_model, NWRITES, label), "%s: uninterrupted result is right", label);
    const enum vk_fault_mode modes[] = {VK_FAULT_STOP, VK_FAULT_TORN};
    for (int m = 0; m < 2; m++) {
        int all = 1;
        uint64_t cut;
        for (cut = 0; cut < total && all; cut++) {
            run("cp '%s' '%s'", pristine, work);
            done = run_cut(work, modes[m], cut, NULL);
            char what[128];
            snprintf(what, sizeof what, "%s %s cut %llu", label, m ? "torn" : "stop", (unsigned long long)cut);
            all = done >= 0 && done < NWRITES && check(work, base_model, done, what);
        }
        TAP_OK(all, "%s: cut after each of the %llu writes (%s): reopens, completed writes intact", label,
               (unsigned long long)total, m ? "torn" : "stop");
    }
    unlink(work);
}

int main(void)
{
    if (!mkdtemp(tdir))
        return 1;
    static uint8_t base_model[SIZE];
    char dyn[512], parent[512], child[512];
    vk_error err;
    vk_vhd *vhd;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    static uint8_t buf[1u << 20];

    /* dynamic: one block allocated beforehand so writes land in allocated and new blocks */
    struct vk_vhd_create_opts co = {.type = VK_VHD_DYNAMIC, .size = SIZE, .block_size = 512u << 10};
    tpath(dyn, sizeof dyn, "dyn.vhd");
    fill_pattern(buf, 300000, 0x40);
    TAP_OK(vk_vhd_create(dyn, &co, NULL, &err) == 0 && vk_vhd_open(dyn, &oo, &vhd, &err) == 0 &&
               vk_dev_write(vk_vhd_dev(vhd), buf, 300000, 600000, &err) == 0,
           "dynamic image with data");
    vk_vhd_close(vhd);
    memset(base_model, 0, SIZE);
    memcpy(base_model + 600000, buf, 300000);
    crash_every_write("dynamic", dyn, base_model);

    /* differencing over a parent with data everywhere: cut writes must still show the parent */
    tpath(parent, sizeof parent, "parent.vhd");
    tpath(child, sizeof child, "child.vhd");
    co.block_size = 0;
    TAP_OK(vk_vhd_create(parent, &co, NULL, &err) == 0 && vk_vhd_open(parent, &oo, &vhd, &err) == 0,
           "parent image");
    for (uint64_t off = 0; off < SIZE; off += sizeof buf) {
        fill_pattern(buf, sizeof buf, 0x50);
        vk_dev_write(vk_vhd_dev(vhd), buf, sizeof buf, off, &err);
        memcpy(base_model + off, buf, sizeof buf);
    }
    vk_vhd_close(vhd);
    struct vk_vhd_create_opts cc = {.type = VK_VHD_DIFF, .parent = parent, .block_size = 1u << 20};
    TAP_OK(vk_vhd_create(child, &cc, NULL, &err) == 0 && vk_vhd_open(child, &oo, &vhd, &err) == 0 &&
               vk_dev_write(vk_vhd_dev(vhd), buf, 5000, 1u << 20, &err) == 0,
           "differencing child with data");
    vk_vhd_close(vhd);
    memcpy(base_model + (1u << 20), buf, 5000);
    crash_every_write("differencing", child, base_model);
    run("rm -rf '%s'", tdir);
    return tap_done();
}
