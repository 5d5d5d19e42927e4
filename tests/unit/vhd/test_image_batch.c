/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Write batches (lib/vhd/batch.h) keep crash safety: a write sequence in one batch, with explicit commits or commits
 * the batch bound forces, is cut after N host writes for every N (stop and torn). The reopened image must show, at
 * every byte, the content after some prefix of the writes that is no shorter than the writes made durable by the
 * last completed commit; the uninterrupted run and reads inside the open batch must match the model exactly. */
#include "tap.h"

#include "vhd/batch.h"
#include "vhd/format.h"
#include "vhd_test_util.h"

#define SIZE (8u << 20)
#define NWRITES 12

struct w {
    uint64_t off;
    size_t len;
    uint8_t tag;
    int zero;
};

/* New blocks, unset sectors of a block allocated before the batch (bitmap bits deferred to the commit), live
 * sectors overwritten in place, blocks added by the batch written again, zeros, a write spanning blocks. */
static const struct w seq[NWRITES] = {
    {0, 4096, 1, 0},           {700000 & ~4095u, 65536, 2, 0}, {1000 & ~511u, 3072, 3, 0},
    {3u << 20, 1u << 20, 4, 0}, {5u << 20, 65536, 5, 1},       {(3u << 20) + 4096, 8192, 6, 0},
    {SIZE - 4096, 4096, 7, 0}, {6u << 20, 8192, 8, 1},         {524288, 4096, 9, 0},
    {2u << 20, (1u << 20) + 4096, 10, 0}, {600000 & ~511u, 8192, 11, 0}, {7u << 20, 512u << 10, 12, 0},
};

static uint8_t model[SIZE], got[SIZE], okbyte[SIZE];

static uint8_t *wdata[NWRITES]; /* each write's bytes, made once */

static void make_data(void)
{
    for (int i = 0; i < NWRITES; i++) {
        wdata[i] = calloc(1, seq[i].len);
        rng = 0x7654321 + seq[i].tag;
        if (wdata[i] && !seq[i].zero)
            fill_pattern(wdata[i], seq[i].len, seq[i].tag);
    }
}

static void apply(uint8_t *m, const struct w *w) { memcpy(m + w->off, wdata[w - seq], w->len); }

/* Commit points of a run: after these writes (explicit mode); -1 ends the list. */
static const int commits_after[] = {2, 5, 9, -1};

/* Runs the sequence in a batch over a fault device cut after `cut` writes. Returns the writes that completed and
 * sets *durable to the writes covered by the last commit that completed; *inbatch_ok = reads matched the model. */
static int run_cut(const char *path, enum vk_fault_mode mode, uint64_t cut, uint64_t max_bytes, const uint8_t *base,
                   int *durable, uint64_t *host_writes, int *inbatch_ok)
{
    vk_dev *file, *fault;
    vk_error err;
    *durable = 0;
    if (vk_dev_open_file(path, VK_FILE_RDWR, &file, &err) || vk_dev_fault(file, mode, cut, &fault, &err))
        return -1;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR, .file = fault};
    vk_vhd *vhd;
    if (vk_vhd_open(path, &oo, &vhd, &err)) {
        printf("# open: %s\n", err.msg);
        return -1;
    }
    static uint8_t back[1u << 20];
    memcpy(model, base, SIZE);
    int done = 0, ci = 0, ok = 1;
    if (vhd_batch_begin(vhd, max_bytes, &err) == 0) {
        for (int i = 0; i < NWRITES; i++) {
            apply(model, &seq[i]);
            if (vk_dev_write(vk_vhd_dev(vhd), model + seq[i].off, seq[i].len, seq[i].off, &err))
                break;
            done++;
            /* The open batch already reads what was written, around the write too. */
            uint64_t a = seq[i].off >= 4096 ? seq[i].off - 4096 : 0;
            size_t n = seq[i].len + 8192 <= sizeof back ? seq[i].len + 8192 : sizeof back;
            if (a + n > SIZE)
                n = (size_t)(SIZE - a);
            if (vk_dev_read(vk_vhd_dev(vhd), back, n, a, &err) || memcmp(back, model + a, n))
                ok = 0;
            if (!max_bytes && commits_after[ci] == i) {
                ci++;
                if (vhd_batch_commit(vhd, &err))
                    break;
                *durable = done;
            }
        }
        if (done == NWRITES && vhd_batch_end(vhd, &err) == 0)
            *durable = done;
    }
    if (host_writes)
        *host_writes = vk_dev_fault_writes(fault);
    if (inbatch_ok)
        *inbatch_ok = ok;
    vk_vhd_close(vhd);
    return done;
}

/* Every byte equals the model after k writes for some k in [lo, hi] (hi may be cut: old or new). Bytes no write of
 * lo..hi-1 touches must equal the model after lo writes; the others are checked against each state of the window. */
static int check(const char *path, const uint8_t *base, int lo, int hi, const char *what)
{
    vk_vhd *vhd;
    vk_error err;
    if (vk_vhd_open(path, NULL, &vhd, &err)) {
        printf("# %s: reopen failed: %s\n", what, err.msg);
        return 0;
    }
    int ok = vk_dev_read(vk_vhd_dev(vhd), got, SIZE, 0, &err) == 0;
    vk_vhd_close(vhd);
    if (!ok) {
        printf("# %s: read failed: %s\n", what, err.msg);
        return 0;
    }
    if (hi > NWRITES)
        hi = NWRITES;
    memcpy(model, base, SIZE);
    for (int k = 0; k < lo; k++)
        apply(model, &seq[k]);
    /* Sectors no write of the window touches: exactly the state after lo writes. */
    static uint8_t moving[SIZE / VHD_SECTOR];
    memset(moving, 0, sizeof moving);
    for (int k = lo; k < hi; k++)
        memset(moving + seq[k].off / VHD_SECTOR, 1,
               (seq[k].off + seq[k].len - 1) / VHD_SECTOR - seq[k].off / VHD_SECTOR + 1);
    for (uint32_t sct = 0; sct < SIZE / VHD_SECTOR; sct++)
        if (!moving[sct] && memcmp(got + (uint64_t)sct * VHD_SECTOR, model + (uint64_t)sct * VHD_SECTOR, VHD_SECTOR)) {
            printf("# %s: sector %u differs from the state after %d writes\n", what, sct, lo);
            return 0;
        }
    for (uint64_t i = 0; i < SIZE; i += VHD_SECTOR) /* 2: not yet seen in an allowed state */
        if (moving[i / VHD_SECTOR])
            for (uint64_t b = i; b < i + VHD_SECTOR; b++)
                okbyte[b] = got[b] == model[b] ? 1 : 2;
    for (int k = lo; k < hi; k++) {
        apply(model, &seq[k]);
        for (int j = lo; j < hi; j++)
            for (uint64_t i = seq[j].off; i < seq[j].off + seq[j].len; i++)
                if (okbyte[i] == 2 && got[i] == model[i])
                    okbyte[i] = 1;
    }
    for (uint64_t i = 0; i < SIZE; i++)
        if (moving[i / VHD_SECTOR] && okbyte[i] == 2) {
            printf("# %s: byte %llu is from no allowed state (writes %d..%d)\n", what, (unsigned long long)i, lo, hi);
            return 0;
        }
    return 1;
}

/* The pristine image copied in-process (a cp per cut would fork this large sanitized process hundreds of times). */
static void copy_file(const char *from, const char *to)
{
    size_t len;
    uint8_t *data = slurp(from, &len);
    FILE *f = data ? fopen(to, "wb") : NULL;
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    free(data);
}

static void crash_every_write(const char *label, const char *pristine, const uint8_t *base, uint64_t max_bytes)
{
    char work[600];
    snprintf(work, sizeof work, "%s/work.vhd", tdir);
    copy_file(pristine, work);
    uint64_t total = 0;
    int durable, inbatch;
    int done = run_cut(work, VK_FAULT_STOP, UINT64_MAX, max_bytes, base, &durable, &total, &inbatch);
    TAP_OK(done == NWRITES && durable == NWRITES, "%s: the batched sequence takes %llu host writes", label,
           (unsigned long long)total);
    TAP_OK(inbatch, "%s: reads inside the open batch see every write", label);
    TAP_OK(check(work, base, NWRITES, NWRITES, label), "%s: uninterrupted result is exact", label);
    const enum vk_fault_mode modes[] = {VK_FAULT_STOP, VK_FAULT_TORN};
    for (int m = 0; m < 2; m++) {
        int all = 1;
        uint64_t cut;
        for (cut = 0; cut < total && all; cut++) {
            copy_file(pristine, work);
            done = run_cut(work, modes[m], cut, max_bytes, base, &durable, NULL, &inbatch);
            char what[160];
            snprintf(what, sizeof what, "%s %s cut %llu", label, m ? "torn" : "stop", (unsigned long long)cut);
            all = done >= 0 && durable <= done && check(work, base, durable, done + 1, what);
        }
        TAP_OK(all, "%s: cut after each of the %llu writes (%s): reopens, committed writes intact, nothing else",
               label, (unsigned long long)total, m ? "torn" : "stop");
    }
    unlink(work);
}

int main(void)
{
    /* Hundreds of cut runs each fsync several times: on tmpfs that costs nothing (the fault device models the crash). */
    if (access("/dev/shm", W_OK) == 0)
        snprintf(tdir, sizeof tdir, "%s", "/dev/shm/vk-bt-XXXXXX");
    if (!mkdtemp(tdir))
        return 1;
    static uint8_t base[SIZE], buf[1u << 20];
    make_data();
    char dyn[512], parent[512], child[512];
    vk_error err;
    vk_vhd *vhd;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};

    /* dynamic: block 1 partly written before, so the batch sets bits of a live block */
    struct vk_vhd_create_opts co = {.type = VK_VHD_DYNAMIC, .size = SIZE, .block_size = 512u << 10};
    tpath(dyn, sizeof dyn, "dyn.vhd");
    fill_pattern(buf, 300000, 0x40);
    TAP_OK(vk_vhd_create(dyn, &co, NULL, &err) == 0 && vk_vhd_open(dyn, &oo, &vhd, &err) == 0 &&
               vk_dev_write(vk_vhd_dev(vhd), buf, 300000, 600000, &err) == 0,
           "dynamic image with data");
    vk_vhd_close(vhd);
    memset(base, 0, SIZE);
    memcpy(base + 600000, buf, 300000);
    crash_every_write("dynamic, explicit commits", dyn, base, 0);
    crash_every_write("dynamic, 256 KiB batches", dyn, base, 256u << 10);

    /* differencing over a parent with data everywhere: unset bits must keep showing the parent */
    tpath(parent, sizeof parent, "parent.vhd");
    tpath(child, sizeof child, "child.vhd");
    co.block_size = 0;
    TAP_OK(vk_vhd_create(parent, &co, NULL, &err) == 0 && vk_vhd_open(parent, &oo, &vhd, &err) == 0, "parent image");
    for (uint64_t off = 0; off < SIZE; off += sizeof buf) {
        fill_pattern(buf, sizeof buf, 0x50);
        vk_dev_write(vk_vhd_dev(vhd), buf, sizeof buf, off, &err);
        memcpy(base + off, buf, sizeof buf);
    }
    vk_vhd_close(vhd);
    struct vk_vhd_create_opts cc = {.type = VK_VHD_DIFF, .parent = parent, .block_size = 1u << 20};
    TAP_OK(vk_vhd_create(child, &cc, NULL, &err) == 0 && vk_vhd_open(child, &oo, &vhd, &err) == 0 &&
               vk_dev_write(vk_vhd_dev(vhd), buf, 8192, 1u << 19, &err) == 0,
           "differencing child with data");
    vk_vhd_close(vhd);
    memcpy(base + (1u << 19), buf, 8192);
    crash_every_write("differencing, explicit commits", child, base, 0);
    crash_every_write("differencing, 256 KiB batches", child, base, 256u << 10);
    run("rm -rf '%s'", tdir);
    for (int i = 0; i < NWRITES; i++)
        free(wdata[i]);
    return tap_done();
}
