/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compact's planner (lib/ops/compact_plan.c, compact_map.c's classification) on images written here with known
 * bytes and synthetic $Bitmaps: which blocks drop and why, which bitmap bits clear, clusters straddling blocks (a
 * partition at sector 63), partition edges, space outside partitions kept unless all zero, bits past the end of the
 * disk, the last partial block, empty and full volumes, pagefile clusters, and the differencing rules (8-sector
 * bitmap bytes, equal to the parent, zeros only where the parent reads zero). Every expectation comes from a
 * per-sector model written here from the rules in vhdkit-compact(1), plus hand-counted checks of the edge cases. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "ops/compact_int.h"
#include "vhd/format.h"

#define BS (64u * 1024)       /* block size: 128 sectors, so edges are cheap to reach */
#define SPB (BS / VHD_SECTOR)

static char dir[] = "/tmp/vk-test-cplan-XXXXXX";

static const char *at(char *buf, const char *name)
{
    snprintf(buf, 4096, "%s/%s", dir, name);
    return buf;
}

/* A volume as the test describes it: where, cluster size, which clusters $Bitmap marks, pagefile runs. */
struct tvol {
    uint64_t start, nsec;
    uint32_t spc;
    uint64_t total_clu;
    uint8_t *bm;                 /* (total_clu + 7) / 8 bytes */
    struct crun pf[4];
    unsigned npf;
};

static void vol_init(struct tvol *v, uint64_t start, uint64_t nsec, uint32_t spc)
{
    memset(v, 0, sizeof *v);
    v->start = start;
    v->nsec = nsec;
    v->spc = spc;
    v->total_clu = (nsec - 1) / spc; /* one sector left past the clusters, as NTFS keeps its backup boot sector */
    v->bm = calloc((size_t)(v->total_clu + 7) / 8, 1);
}

static void vol_use(struct tvol *v, uint64_t first, uint64_t n)
{
    for (uint64_t c = first; c < first + n; c++)
        v->bm[c / 8] |= (uint8_t)(1u << (c % 8));
}

static bool vol_used(const struct tvol *v, uint64_t c) { return (v->bm[c / 8] >> (c % 8)) & 1; }

/* The model: what a sector is, from the rules (not from cmap_classify). */
static enum csec model_class(const struct tvol *vols, unsigned nvols, uint64_t disk_sec, uint64_t s, bool pagefile)
{
    if (s >= disk_sec)
        return CSEC_FREE;
    for (unsigned i = 0; i < nvols; i++) {
        const struct tvol *v = &vols[i];
        if (s < v->start || s >= v->start + v->nsec)
            continue;
        uint64_t rel = s - v->start;
        if (rel == 0 || rel >= v->total_clu * v->spc)
            return CSEC_ASIS;
        uint64_t c = rel / v->spc;
        if (!vol_used(v, c))
            return CSEC_FREE;
        for (unsigned k = 0; pagefile && k < v->npf; k++)
            if (c >= v->pf[k].lcn && c < v->pf[k].lcn + v->pf[k].len)
                return CSEC_PAGEFILE;
        return CSEC_USED;
    }
    return CSEC_ASIS;
}

/* One image under test, with its plan and the bytes the test wrote. */
struct fx {
    vk_vhd *vhd;
    struct cplan p;
    struct tvol vols[3];
    unsigned nvols;
    uint8_t *img;                /* the virtual disk as written here */
    uint8_t *stored;             /* per sector: 1 when the test wrote (or poked) it into this image */
    uint64_t disk_sec;
    bool pagefile;
};

static int wr(struct fx *f, uint64_t sec, uint64_t n, int fill)
{
    uint8_t *b = f->img + sec * VHD_SECTOR;
    for (uint64_t i = 0; i < n * VHD_SECTOR; i++)
        b[i] = fill < 0 ? (uint8_t)((sec * VHD_SECTOR + i) * 2654435761u >> 13 | 1) : (uint8_t)fill;
    memset(f->stored + sec, 1, n);
    vk_error err = {0};
    int rc = 0;
    if (fill == 0) { /* the engine does not store zeros where the disk already reads zero: data first, then zeros */
        uint8_t *d = malloc(n * VHD_SECTOR);
        memset(d, 0xA5, n * VHD_SECTOR);
        rc = vk_dev_write(vk_vhd_dev(f->vhd), d, n * VHD_SECTOR, sec * VHD_SECTOR, &err);
        free(d);
    }
    if (!rc)
        rc = vk_dev_write(vk_vhd_dev(f->vhd), b, n * VHD_SECTOR, sec * VHD_SECTOR, &err);
    if (rc)
        printf("# write at sector %llu: %s\n", (unsigned long long)sec, err.msg);
    return rc;
}

static int create(const char *path, const char *parent, uint64_t size)
{
    struct vk_vhd_create_opts co = {.type = parent ? VK_VHD_DIFF : VK_VHD_DYNAMIC, .size = parent ? 0 : size,
                                    .block_size = BS, .parent = parent};
    vk_error err = {0};
    int rc = vk_vhd_create(path, &co, NULL, &err);
    if (rc)
        printf("# create %s: %s\n", path, err.msg);
    return rc;
}

static int fx_open(struct fx *f, const char *path, uint64_t size)
{
    vk_error err = {0};
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    if (vk_vhd_open(path, &oo, &f->vhd, &err)) {
        printf("# open %s: %s\n", path, err.msg);
        return -1;
    }
    f->disk_sec = vk_vhd_dev(f->vhd)->size / VHD_SECTOR;
    if (!f->img) {
        f->img = calloc(size, 1);
        f->stored = calloc(size / VHD_SECTOR + SPB, 1);
    }
    return 0;
}

/* The plan over a synthetic map of the test's volumes ($Bitmap windows covering every cluster). */
static int fx_plan(struct fx *f)
{
    vk_error err = {0};
    if (plan_setup(&f->p, f->vhd, &err)) {
        printf("# plan_setup: %s\n", err.msg);
        return -1;
    }
    struct cmap *m = &f->p.map;
    m->disk_sec = f->disk_sec;
    m->nvols = f->nvols;
    m->vols = calloc(f->nvols ? f->nvols : 1, sizeof *m->vols);
    for (unsigned i = 0; i < f->nvols; i++) {
        const struct tvol *v = &f->vols[i];
        m->vols[i] = (struct cvol){.number = i + 1, .start_sec = v->start, .nsec = v->nsec, .spc = v->spc,
                                   .clu_sec = v->total_clu * v->spc, .bm = v->bm,
                                   .bm_len = (size_t)(v->total_clu + 7) / 8, .pf = f->pagefile ? (struct crun *)v->pf : NULL,
                                   .npf = f->pagefile ? v->npf : 0};
    }
    return 0;
}

static void fx_close(struct fx *f)
{
    free(f->p.map.vols); /* its bm and pf belong to the test's volumes */
    memset(&f->p.map, 0, sizeof f->p.map);
    plan_free(&f->p);
    vk_vhd_close(f->vhd);
    f->vhd = NULL;
}

static void fx_free(struct fx *f)
{
    for (unsigned i = 0; i < f->nvols; i++)
        free(f->vols[i].bm);
    free(f->img);
    free(f->stored);
    memset(f, 0, sizeof *f);
}

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Dynamic disk: every allocated block's plan against the model; totals by reason returned in `tot`. */
struct totals {
    unsigned drop[VK_COMPACT_NREASONS], change, keep;
    uint64_t sectors[VK_COMPACT_NREASONS];
};

static void model_dynamic(struct fx *f, uint32_t blk, uint8_t *want_bits, enum bp_action *want, uint64_t *want_sec)
{
    uint64_t first = (uint64_t)blk * SPB;
    bool used = false, any = false, zero = true;
    memset(want_sec, 0, VK_COMPACT_NREASONS * sizeof *want_sec);
    memset(want_bits, 0, VHD_SECTOR);
    bool changed = false;
    for (uint32_t s = 0; s < SPB; s++) {
        if (!f->stored[first + s])
            continue;
        enum csec c = model_class(f->vols, f->nvols, f->disk_sec, first + s, f->pagefile);
        if (c == CSEC_FREE || c == CSEC_PAGEFILE) {
            want_sec[c == CSEC_FREE ? VK_COMPACT_FREE : VK_COMPACT_PAGEFILE]++;
            changed = true;
            continue;
        }
        want_bits[s / 8] |= (uint8_t)(0x80u >> (s % 8));
        any = true;
        used |= c == CSEC_USED;
        if (first + s < f->disk_sec)
            zero &= all_zero(f->img + (first + s) * VHD_SECTOR, VHD_SECTOR);
    }
    if (any && !used && zero) { /* only areas kept as they are, all reading zero */
        for (uint32_t s = 0; s < SPB; s++)
            want_sec[VK_COMPACT_ZERO] += (want_bits[s / 8] >> (7 - s % 8)) & 1;
        memset(want_bits, 0, VHD_SECTOR);
        any = false;
    }
    *want = !any ? BP_DROP : changed ? BP_CHANGE : BP_KEEP;
}

static const char *action_name(enum bp_action a) { return a == BP_DROP ? "drop" : a == BP_CHANGE ? "change" : "keep"; }

/* Plans every allocated block and compares with `model`; returns the number of blocks that disagree. */
static unsigned check_blocks(struct fx *f, const char *name, struct totals *tot, struct vk_compact_result *res,
                             void (*model)(struct fx *, uint32_t, uint8_t *, enum bp_action *, uint64_t *))
{
    unsigned bad = 0;
    memset(tot, 0, sizeof *tot);
    memset(res, 0, sizeof *res);
    for (uint32_t blk = 0; blk < f->p.lay.bat_entries; blk++) {
        if (vhd_cio_bat(f->vhd, blk) == VHD_BAT_UNUSED)
            continue;
        res->blocks_before++;
        res->blocks_after++;
        struct bplan bp;
        vk_error err = {0};
        if (plan_block(&f->p, blk, &bp, &err)) {
            printf("# %s: block %u: %s\n", name, blk, err.msg);
            bad++;
            continue;
        }
        plan_account(res, &bp);
        uint8_t want_bits[VHD_SECTOR];
        enum bp_action want;
        uint64_t want_sec[VK_COMPACT_NREASONS];
        model(f, blk, want_bits, &want, want_sec);
        bool same = bp.action == want && !memcmp(f->p.new_bits, want_bits, SPB / 8) &&
                    !memcmp(bp.sectors, want_sec, sizeof want_sec);
        if (!same) {
            if (bad < 4)
                printf("# %s: block %u: %s (free %llu zero %llu parent %llu pagefile %llu), model %s (%llu %llu %llu "
                       "%llu)\n", name, blk, action_name(bp.action), (unsigned long long)bp.sectors[0],
                       (unsigned long long)bp.sectors[1], (unsigned long long)bp.sectors[2],
                       (unsigned long long)bp.sectors[3], action_name(want), (unsigned long long)want_sec[0],
                       (unsigned long long)want_sec[1], (unsigned long long)want_sec[2],
                       (unsigned long long)want_sec[3]);
            bad++;
        }
        if (bp.action == BP_DROP)
            tot->drop[bp.reason]++;
        else if (bp.action == BP_CHANGE)
            tot->change++;
        else
            tot->keep++;
        for (int r = 0; r < VK_COMPACT_NREASONS; r++)
            tot->sectors[r] += bp.sectors[r];
    }
    return bad;
}

/* The bits the plan left for block `blk` (after plan_block), as a list of kept sector ranges "a-b,c-d". */
static const char *kept_ranges(struct fx *f, uint32_t blk, char *out, size_t cap)
{
    struct bplan bp;
    vk_error err = {0};
    out[0] = 0;
    if (plan_block(&f->p, blk, &bp, &err))
        return "error";
    size_t n = 0;
    uint64_t first = (uint64_t)blk * SPB;
    for (uint32_t s = 0; s < SPB;) {
        if (!vhd_bitmap_get(f->p.new_bits, s)) {
            s++;
            continue;
        }
        uint32_t e = s;
        while (e + 1 < SPB && vhd_bitmap_get(f->p.new_bits, e + 1))
            e++;
        n += (size_t)snprintf(out + n, cap - n, "%s%llu-%llu", n ? "," : "", (unsigned long long)(first + s),
                              (unsigned long long)(first + e));
        s = e + 1;
    }
    return out;
}

/* Sets bitmap bits of allocated block `blk` directly in the file (sectors the engine would never mark). */
static int poke_bits(const char *path, struct fx *f, uint32_t blk, uint32_t from, uint32_t to)
{
    uint64_t off = (uint64_t)vhd_cio_bat(f->vhd, blk) * VHD_SECTOR;
    fx_close(f);
    vk_dev *d;
    vk_error err = {0};
    uint8_t bits[VHD_SECTOR];
    int rc = vk_dev_open_file(path, VK_FILE_RDWR, &d, &err);
    if (!rc && !(rc = vk_dev_read(d, bits, sizeof bits, off, &err))) {
        for (uint32_t s = from; s < to; s++)
            bits[s / 8] |= (uint8_t)(0x80u >> (s % 8));
        rc = vk_dev_write(d, bits, sizeof bits, off, &err);
    }
    vk_dev_close(d);
    for (uint32_t s = from; s < to; s++)
        f->stored[(uint64_t)blk * SPB + s] = 1;
    return rc ? rc : fx_open(f, path, 0);
}

/* MBR-style disk, partition at 63, 4 KiB clusters: clusters straddle blocks; the last block is half past the end. */
static void test_mbr63(void)
{
    char path[4096];
    struct fx f = {0};
    uint64_t size = 16 * BS + BS / 2; /* 2112 sectors: block 16 holds 2048..2111, its other half is past the end */
    if (create(at(path, "m63.vhd"), NULL, size) || fx_open(&f, path, size)) {
        TAP_OK(0, "mbr63: image");
        return;
    }
    f.nvols = 1;
    vol_init(&f.vols[0], 63, 2041, 8); /* clusters 0..254 over sectors 70..2102 (+63), backup boot at 2103 */
    struct tvol *v = &f.vols[0];
    vol_use(v, 0, 1);   /* sectors 63..70 (63: the boot sector) */
    vol_use(v, 8, 1);   /* sectors 127..134: across the block 0 / block 1 edge at 128 */
    vol_use(v, 30, 1);  /* sectors 303..310, inside block 2 */
    vol_use(v, 254, 1); /* sectors 2095..2102, the last cluster, in the partial block */
    bool okw = !wr(&f, 0, 2112, -1);
    TAP_OK(okw, "mbr63: every sector written with a non-zero pattern");
    TAP_EQ_U64(f.disk_sec, 2112, "mbr63: the disk has 2112 sectors");
    fx_close(&f);
    if (fx_open(&f, path, size) || fx_plan(&f) || poke_bits(path, &f, 16, 64, 128) || fx_plan(&f)) {
        TAP_OK(0, "mbr63: reopen");
        return;
    }
    struct totals t;
    struct vk_compact_result res;
    TAP_EQ_U64(check_blocks(&f, "mbr63", &t, &res, model_dynamic), 0, "mbr63: every block as the model says");
    TAP_EQ_U64(t.drop[VK_COMPACT_FREE], 13, "mbr63: blocks 3..15 (no used cluster) dropped as free");
    TAP_EQ_U64(t.change, 4, "mbr63: blocks 0, 1, 2 and 16 keep some sectors");
    TAP_EQ_U64(t.keep + t.drop[VK_COMPACT_ZERO] + t.drop[VK_COMPACT_PARENT], 0, "mbr63: nothing else");
    char r[512];
    TAP_EQ_STR(kept_ranges(&f, 0, r, sizeof r), "0-70,127-127",
               "mbr63: block 0 keeps the MBR gap, the boot sector, cluster 0 and the head of the straddling cluster");
    TAP_EQ_STR(kept_ranges(&f, 1, r, sizeof r), "128-134", "mbr63: block 1 keeps the tail of the straddling cluster");
    TAP_EQ_STR(kept_ranges(&f, 2, r, sizeof r), "303-310", "mbr63: block 2 keeps cluster 30");
    TAP_EQ_STR(kept_ranges(&f, 16, r, sizeof r), "2095-2111",
               "mbr63: the partial block keeps the last cluster, the backup boot sector and the space after the "
               "partition; bits past the end of the disk are cleared");
    /* Freed: every stored sector but the kept ones. 2112 written + 64 poked past the end. */
    uint64_t kept = 71 + 1 + 7 + 8 + 17;
    TAP_EQ_U64(res.freed_bytes[VK_COMPACT_FREE], (2112 + 64 - kept) * VHD_SECTOR,
               "mbr63: freed bytes = every stored sector not kept (past-end bits counted as free)");
    TAP_EQ_U64(res.blocks_after, 4, "mbr63: 4 blocks left");
    fx_close(&f);
    fx_free(&f);
}

/* Two volumes with a gap: zeros outside partitions dropped only when the whole block reads zero; used clusters kept
 * even when they read zero; an empty volume keeps only its boot sectors; a full one keeps everything. */
static void test_gaps_zero_empty_full(void)
{
    char path[4096];
    struct fx f = {0};
    uint64_t size = 40 * BS; /* 5120 sectors */
    if (create(at(path, "gap.vhd"), NULL, size) || fx_open(&f, path, size)) {
        TAP_OK(0, "gaps: image");
        return;
    }
    f.nvols = 3;
    vol_init(&f.vols[0], 256, 1025, 8);  /* full: blocks 2..9 (+ backup boot at 1280, in block 10) */
    vol_use(&f.vols[0], 0, f.vols[0].total_clu);
    vol_init(&f.vols[1], 2048, 1025, 8); /* empty: blocks 16..24 */
    vol_init(&f.vols[2], 3584, 1536, 1); /* 512-byte clusters: blocks 28..39; half used */
    vol_use(&f.vols[2], 0, 700);
    int rc = wr(&f, 0, 1, -1);           /* block 0: an MBR, then zeros: kept as it is */
    rc |= wr(&f, 1, 127, 0);
    rc |= wr(&f, 128, 128, 0);           /* block 1: all zero, outside partitions: dropped as zero */
    rc |= wr(&f, 256, 128, 0);           /* block 2: used clusters reading zero: kept */
    rc |= wr(&f, 384, 7 * 128, -1);      /* blocks 3..9: full volume data */
    rc |= wr(&f, 1280, 128, 0);          /* block 10: backup boot (zero here) + gap, all zero: dropped as zero */
    rc |= wr(&f, 1408, 64, 0);           /* block 11: gap, half zero half data: kept whole */
    rc |= wr(&f, 1472, 64, -1);
    rc |= wr(&f, 2048, 9 * 128, -1);     /* blocks 16..24: the empty volume, written over */
    rc |= wr(&f, 3584, 12 * 128, -1);    /* blocks 28..39 */
    TAP_OK(!rc, "gaps: data written");
    fx_close(&f);
    if (fx_open(&f, path, size) || fx_plan(&f)) {
        TAP_OK(0, "gaps: reopen");
        return;
    }
    struct totals t;
    struct vk_compact_result res;
    TAP_EQ_U64(check_blocks(&f, "gaps", &t, &res, model_dynamic), 0, "gaps: every block as the model says");
    TAP_EQ_U64(t.drop[VK_COMPACT_ZERO], 2, "gaps: the two all-zero blocks outside partitions dropped as zero");
    char r[512];
    TAP_EQ_STR(kept_ranges(&f, 0, r, sizeof r), "0-127", "gaps: block 0 (MBR and zeros) kept whole");
    TAP_EQ_STR(kept_ranges(&f, 2, r, sizeof r), "256-383", "gaps: used clusters that read zero are kept");
    TAP_EQ_STR(kept_ranges(&f, 11, r, sizeof r), "1408-1535", "gaps: a gap block with some data kept whole");
    TAP_EQ_STR(kept_ranges(&f, 16, r, sizeof r), "2048-2048", "gaps: the empty volume keeps its boot sector");
    TAP_EQ_STR(kept_ranges(&f, 24, r, sizeof r), "3072-3199",
               "gaps: and its backup boot sector with the data after the partition");
    TAP_EQ_U64(t.drop[VK_COMPACT_FREE], 12,
               "gaps: the empty volume's other 7 blocks and the 5 past the used clusters dropped as free");
    TAP_EQ_STR(kept_ranges(&f, 33, r, sizeof r), "4224-4283",
               "gaps: 512-byte clusters: the block holding the end of the used ones keeps exactly them");
    unsigned full_kept = 0;
    for (uint32_t b = 3; b <= 9; b++) {
        struct bplan bp;
        vk_error err = {0};
        full_kept += !plan_block(&f.p, b, &bp, &err) && bp.action == BP_KEEP;
    }
    TAP_EQ_U64(full_kept, 7, "gaps: the full volume's blocks are kept untouched");
    TAP_EQ_U64(res.freed_bytes[VK_COMPACT_ZERO], 256 * VHD_SECTOR, "gaps: 256 zero sectors given back");
    fx_close(&f);
    fx_free(&f);
}

/* Pagefile clusters count as unused only when asked. */
static void test_pagefile(void)
{
    char path[4096];
    struct fx f = {0};
    uint64_t size = 8 * BS;
    if (create(at(path, "pf.vhd"), NULL, size) || fx_open(&f, path, size)) {
        TAP_OK(0, "pagefile: image");
        return;
    }
    f.nvols = 1;
    vol_init(&f.vols[0], 128, 7 * 128, 8); /* 111 clusters */
    vol_use(&f.vols[0], 0, 111);
    f.vols[0].pf[0] = (struct crun){16, 32}; /* sectors 256..511: blocks 2 and 3 */
    f.vols[0].pf[1] = (struct crun){60, 4};
    f.vols[0].npf = 2;
    int rc = wr(&f, 0, 8 * 128, -1);
    TAP_OK(!rc, "pagefile: data written");
    fx_close(&f);
    for (int pass = 0; pass < 2; pass++) {
        f.pagefile = pass == 1;
        if (fx_open(&f, path, size) || fx_plan(&f)) {
            TAP_OK(0, "pagefile: reopen");
            return;
        }
        struct totals t;
        struct vk_compact_result res;
        TAP_EQ_U64(check_blocks(&f, pass ? "pagefile" : "no-pagefile", &t, &res, model_dynamic), 0,
                   "pagefile %s: every block as the model says", pass ? "discarded" : "kept");
        TAP_EQ_U64(res.freed_bytes[VK_COMPACT_PAGEFILE], pass ? 36u * 8 * VHD_SECTOR : 0,
                   "pagefile %s: %s", pass ? "discarded" : "kept", pass ? "its 36 clusters freed" : "nothing freed");
        TAP_EQ_U64(t.drop[VK_COMPACT_PAGEFILE], pass ? 2 : 0, "pagefile: %s", pass ? "blocks 2 and 3 dropped as "
                   "pagefile" : "no block dropped");
        fx_close(&f);
    }
    fx_free(&f);
}

/* Differencing: bytes of 8 sectors (libvhdi reads a byte with any bit set as all in the child) cleared when every
 * stored sector in it is unneeded or equal to the parent; zeros are dropped only where the parent reads zero. */
static void model_diff(struct fx *f, uint32_t blk, uint8_t *want_bits, enum bp_action *want, uint64_t *want_sec)
{
    uint64_t first = (uint64_t)blk * SPB;
    const uint8_t *parent = f->img + f->disk_sec * VHD_SECTOR; /* the test keeps the parent's bytes after the child's */
    memset(want_sec, 0, VK_COMPACT_NREASONS * sizeof *want_sec);
    memset(want_bits, 0, VHD_SECTOR);
    bool any = false, changed = false;
    for (uint32_t u = 0; u < SPB; u += 8) {
        bool same = true, stored = false;
        uint64_t n[VK_COMPACT_NREASONS] = {0};
        for (uint32_t s = u; s < u + 8; s++) {
            uint64_t v = first + s;
            if (!f->stored[v])
                continue;
            stored = true;
            enum csec c = model_class(f->vols, f->nvols, f->disk_sec, v, false);
            if (c == CSEC_FREE) {
                n[VK_COMPACT_FREE]++;
                continue;
            }
            n[VK_COMPACT_PARENT]++;
            same &= !memcmp(f->img + v * VHD_SECTOR, parent + v * VHD_SECTOR, VHD_SECTOR);
        }
        if (!stored)
            continue;
        if (same) {
            changed = true;
            for (int r = 0; r < VK_COMPACT_NREASONS; r++)
                want_sec[r] += n[r];
            continue;
        }
        for (uint32_t s = u; s < u + 8; s++)
            if (f->stored[first + s])
                want_bits[s / 8] |= (uint8_t)(0x80u >> (s % 8));
        any = true;
    }
    *want = !any ? BP_DROP : changed ? BP_CHANGE : BP_KEEP;
}

static void test_diff(void)
{
    char ppath[4096], cpath[4096];
    struct fx pf = {0}, f = {0};
    uint64_t size = 8 * BS;
    if (create(at(ppath, "base.vhd"), NULL, size) || fx_open(&pf, ppath, size)) {
        TAP_OK(0, "diff: parent");
        return;
    }
    /* Parent: pattern everywhere but block 2 (left unallocated: reads zero). */
    int rc = wr(&pf, 0, 2 * 128, -1) | wr(&pf, 3 * 128, 5 * 128, -1);
    fx_close(&pf);
    if (rc || create(at(cpath, "child.vhd"), ppath, 0) || fx_open(&f, cpath, size)) {
        TAP_OK(0, "diff: child");
        return;
    }
    /* The test's model keeps the child's view in img[0, size) and the parent's in img[size, 2 size). */
    f.img = realloc(f.img, 2 * size);
    memcpy(f.img + size, pf.img, size);
    memcpy(f.img, pf.img, size);
    f.nvols = 1;
    vol_init(&f.vols[0], 0, 8 * 128 + 1, 1);
    vol_use(&f.vols[0], 0, f.vols[0].total_clu);
    for (uint64_t c = 400; c < 420; c++) /* free: sectors 400..411 and 416..419 of block 3 */
        if (c < 412 || c >= 416)
            f.vols[0].bm[c / 8] &= (uint8_t)~(1u << (c % 8));
    /* block 0: 16 sectors rewritten with the parent's bytes: dropped as equal to the parent */
    rc = vk_dev_write(vk_vhd_dev(f.vhd), f.img, 16 * VHD_SECTOR, 0, NULL);
    memset(f.stored, 1, 16);
    /* block 1: unit 128..135 equal but for one sector (kept whole), unit 136..143 equal (cleared) */
    rc |= vk_dev_write(vk_vhd_dev(f.vhd), f.img + 128 * VHD_SECTOR, 16 * VHD_SECTOR, 128 * VHD_SECTOR, NULL);
    memset(f.stored + 128, 1, 16);
    rc |= wr(&f, 131, 1, 0x5A);
    /* block 2: zeros where the parent reads zero (its block is unallocated): cleared; one unit of data: kept */
    rc |= wr(&f, 256, 8, 0);
    rc |= wr(&f, 264, 8, -1);
    /* block 3: zeros over parent data (kept); free sectors 400..411 with equal used ones beside them (unit 400..407
     * cleared as free, unit 408..415 cleared: free + equal), and free sectors 416..419 in the unit of changed ones
     * 420..423 (kept whole) */
    rc |= wr(&f, 384, 8, 0);
    rc |= vk_dev_write(vk_vhd_dev(f.vhd), f.img + 400 * VHD_SECTOR, 16 * VHD_SECTOR, 400 * VHD_SECTOR, NULL);
    memset(f.stored + 400, 1, 16);
    rc |= wr(&f, 420, 4, 0x11);
    rc |= vk_dev_write(vk_vhd_dev(f.vhd), f.img + 416 * VHD_SECTOR, 4 * VHD_SECTOR, 416 * VHD_SECTOR, NULL);
    memset(f.stored + 416, 1, 4);
    TAP_OK(!rc, "diff: child written");
    fx_close(&f);
    if (fx_open(&f, cpath, size) || fx_plan(&f)) {
        TAP_OK(0, "diff: reopen");
        return;
    }
    struct totals t;
    struct vk_compact_result res;
    TAP_EQ_U64(check_blocks(&f, "diff", &t, &res, model_diff), 0, "diff: every block as the model says");
    TAP_EQ_U64(t.drop[VK_COMPACT_PARENT], 1, "diff: the block rewritten with the parent's bytes dropped");
    char r[512];
    TAP_EQ_STR(kept_ranges(&f, 1, r, sizeof r), "128-135",
               "diff: a bitmap byte with one changed sector kept whole, the equal one cleared");
    TAP_EQ_STR(kept_ranges(&f, 2, r, sizeof r), "264-271",
               "diff: zeros where the parent reads zero cleared, changed data kept");
    TAP_EQ_STR(kept_ranges(&f, 3, r, sizeof r), "384-391,416-423",
               "diff: zeros over parent data kept; free and equal sectors cleared; free beside changed kept");
    TAP_EQ_U64(res.freed_bytes[VK_COMPACT_FREE], 12 * VHD_SECTOR, "diff: the 12 free sectors counted as free");
    TAP_EQ_U64(res.freed_bytes[VK_COMPACT_PARENT], (16 + 8 + 8 + 4) * VHD_SECTOR,
               "diff: 36 sectors equal to the parent given back");
    fx_close(&f);
    fx_free(&f);
    fx_free(&pf);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_mbr63();
    test_gaps_zero_empty_full();
    test_pagefile();
    test_diff();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
