/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compact: which virtual-disk sectors are needed. NTFS volumes found through the partition table answer from
 * $Bitmap (streamed through a small window); everything else (MBR, EBRs, GPT, gaps, unknown filesystems, BitLocker)
 * is kept as it is. */
#include "ops/compact_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhdkit/part.h"
#include "core/sort.h"

#define BM_WINDOW (64u * 1024) /* bytes of $Bitmap held at a time: 512K clusters, 2 GiB at 4 KiB clusters */

static void add_kept(struct vk_compact_result *res, uint64_t off, uint64_t len, const char *what)
{
    if (!len || res->nkept >= VK_COMPACT_MAX_KEPT)
        return;
    struct vk_compact_kept *k = &res->kept[res->nkept++];
    k->off = off;
    k->len = len;
    size_t n = strnlen(what, sizeof k->what - 1);
    memcpy(k->what, what, n);
    k->what[n] = 0;
}

static void add_kept_part(struct vk_compact_result *res, const vk_part *p, const char *why)
{
    char what[160];
    snprintf(what, sizeof what, "partition %u: %s", p->number, why);
    add_kept(res, p->start_off, p->len, what);
}

static int cmp_run(const void *a, const void *b)
{
    const struct crun *x = a, *y = b;
    return x->lcn < y->lcn ? -1 : x->lcn > y->lcn;
}

/* pagefile.sys and swapfile.sys of the root: their clusters hold nothing needed across boots (never hiberfil.sys). */
static int load_pagefiles(struct cvol *v, vk_error *err)
{
    static const char *const names[] = {"pagefile.sys", "swapfile.sys"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        vk_ntfs_run *runs;
        unsigned n;
        vk_error e = {0};
        int rc = vk_ntfs_data_runs(v->ntfs, names[i], &runs, &n, &e);
        if (rc == VK_E_NOTFOUND)
            continue;
        if (rc) {
            *err = e;
            return rc;
        }
        struct crun *g = realloc(v->pf, ((size_t)v->npf + n) * sizeof *g);
        if (!g) {
            free(runs);
            return vk_fail(err, VK_E_NOMEM, v->win->name, VK_NO_OFFSET, NULL);
        }
        v->pf = g;
        for (unsigned k = 0; k < n; k++)
            if (runs[k].lcn >= 0)
                v->pf[v->npf++] = (struct crun){(uint64_t)runs[k].lcn, runs[k].len_clu};
        free(runs);
    }
    if (v->npf)
        vk_sort(v->pf, v->npf, sizeof *v->pf, cmp_run);
    return 0;
}

static bool is_bitlocker(vk_dev *win)
{
    uint8_t b[16];
    return win->size >= sizeof b && !vk_dev_read(win, b, sizeof b, 0, NULL) && !memcmp(b + 3, "-FVE-FS-", 8);
}

/* Mounts partition p when it holds NTFS. 1: added as a volume; 0: kept (reason in res); < 0: error or refusal. */
static int try_volume(vk_dev *disk, const vk_part *p, unsigned flags, struct vk_compact_result *res, struct cmap *m,
                      vk_error *err)
{
    vk_dev *win;
    int rc = vk_part_window(disk, p, &win, err);
    if (rc)
        return rc;
    if (is_bitlocker(win)) {
        vk_dev_close(win);
        add_kept_part(res, p, "BitLocker (encrypted: free space unknown)");
        return 0;
    }
    vk_ntfs *ntfs;
    vk_error e = {0};
    rc = vk_ntfs_mount(win, VK_NTFS_RDONLY, &ntfs, &e);
    if (rc) {
        vk_dev_close(win);
        char what[96];
        snprintf(what, sizeof what, rc == VK_E_UNSUPPORTED ? "%s, not NTFS" : "NTFS that cannot be read (%s)",
                 rc == VK_E_UNSUPPORTED ? p->type_name : e.msg);
        add_kept_part(res, p, what);
        return 0;
    }
    vk_ntfs_info info;
    struct cvol v = {.number = p->number, .start_sec = p->start_lba, .nsec = p->nsec, .win = win, .ntfs = ntfs};
    rc = vk_ntfs_info_get(ntfs, &info, err);
    if (!rc && (info.hibernated || info.dirty || info.logfile_unclean))
        rc = vk_fail(err, VK_E_REFUSED, disk->name, p->start_off,
                     "the NTFS volume of partition %u is %s: its $Bitmap may not be the truth; boot Windows and shut it "
                     "down fully (disable Fast Startup, or run 'shutdown /s /t 0'), then compact", p->number,
                     info.hibernated ? "hibernated (Windows hibernation or Fast Startup)"
                     : info.dirty    ? "marked dirty (not shut down cleanly)"
                                     : "unclean ($LogFile holds transactions not yet written)");
    bool usable = !rc && info.sector_size == VK_SECTOR_SIZE && info.cluster_size >= VK_SECTOR_SIZE &&
                  info.cluster_size % VK_SECTOR_SIZE == 0 &&
                  info.total_clu <= p->nsec / (info.cluster_size / VK_SECTOR_SIZE);
    if (!rc && usable) {
        v.spc = info.cluster_size / VK_SECTOR_SIZE;
        v.clu_sec = info.total_clu * v.spc;
        v.bm = malloc(BM_WINDOW);
        if (!v.bm)
            rc = vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL);
    }
    if (!rc && usable && (flags & VK_COMPACT_DISCARD_PAGEFILE))
        rc = load_pagefiles(&v, err);
    struct cvol *g = NULL;
    if (!rc && usable && !(g = realloc(m->vols, (m->nvols + 1) * sizeof *g)))
        rc = vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL);
    if (rc || !usable) {
        if (!rc)
            add_kept_part(res, p, "NTFS with a geometry vhdkit does not map");
        vk_ntfs_unmount(ntfs, NULL);
        vk_dev_close(win);
        free(v.bm);
        free(v.pf);
        return rc ? rc : 0;
    }
    m->vols = g;
    m->vols[m->nvols++] = v;
    return 1;
}

int cmap_open(vk_dev *disk, unsigned flags, struct vk_compact_result *res, struct cmap *m, vk_error *err)
{
    memset(m, 0, sizeof *m);
    m->disk_sec = disk->size / VK_SECTOR_SIZE;
    vk_part_table t;
    vk_error e = {0};
    if (vk_part_read(disk, &t, &e)) {
        add_kept(res, 0, disk->size, "whole disk (the partition table cannot be read)");
        return 0;
    }
    int rc = 0;
    uint64_t covered = 0; /* end of the partitions seen so far, for the gaps (partitions are sorted by number) */
    for (unsigned i = 0; i < t.count && !rc; i++) {
        const vk_part *p = &t.parts[i];
        if (p->flags & VK_PART_CONTAINER)
            continue;
        rc = try_volume(disk, p, flags, res, m, err);
        if (rc > 0)
            rc = 0;
    }
    /* Areas outside every partition (tables, EBRs, gaps) in disk order. */
    while (!rc) {
        uint64_t next = disk->size, next_end = disk->size;
        for (unsigned i = 0; i < t.count; i++) {
            const vk_part *p = &t.parts[i];
            if (p->flags & VK_PART_CONTAINER)
                continue;
            if (p->start_off + p->len > covered && p->start_off < next) {
                next = p->start_off < covered ? covered : p->start_off;
                next_end = p->start_off + p->len;
            }
        }
        if (next > covered)
            add_kept(res, covered, next - covered, "outside partitions (partition tables, gaps)");
        if (next >= disk->size)
            break;
        covered = next_end;
    }
    vk_part_table_free(&t);
    for (unsigned i = 1; i < m->nvols; i++) /* insertion sort by start: a handful of volumes */
        for (unsigned j = i; j > 0 && m->vols[j].start_sec < m->vols[j - 1].start_sec; j--) {
            struct cvol tmp = m->vols[j];
            m->vols[j] = m->vols[j - 1];
            m->vols[j - 1] = tmp;
        }
    res->volumes = m->nvols;
    if (rc)
        cmap_close(m);
    return rc;
}

void cmap_close(struct cmap *m)
{
    for (unsigned i = 0; i < m->nvols; i++) {
        vk_ntfs_unmount(m->vols[i].ntfs, NULL);
        vk_dev_close(m->vols[i].win);
        free(m->vols[i].bm);
        free(m->vols[i].pf);
    }
    free(m->vols);
    memset(m, 0, sizeof *m);
}

/* 1 when cluster `clu` is set in $Bitmap; the window moves forward as blocks are walked in order. */
static int cluster_used(struct cvol *v, uint64_t clu, bool *used, vk_error *err)
{
    uint64_t byte = clu / 8;
    if (!v->bm_len || byte < v->bm_first || byte >= v->bm_first + v->bm_len) {
        v->bm_first = byte & ~(uint64_t)(BM_WINDOW / 2 - 1);
        int rc = vk_ntfs_bitmap_read(v->ntfs, v->bm_first, v->bm, BM_WINDOW, &v->bm_len, err);
        if (rc)
            return rc;
        if (byte >= v->bm_first + v->bm_len) {
            *used = true; /* past the end of $Bitmap: keep */
            return 0;
        }
    }
    *used = (v->bm[byte - v->bm_first] >> (clu & 7)) & 1;
    return 0;
}

static bool in_pagefile(const struct cvol *v, uint64_t clu)
{
    unsigned lo = 0, hi = v->npf;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (v->pf[mid].lcn + v->pf[mid].len <= clu)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->npf && v->pf[lo].lcn <= clu;
}

static int classify_in_volume(struct cvol *v, uint64_t s, uint8_t *cls, vk_error *err)
{
    uint64_t rel = s - v->start_sec;
    /* Sector 0 is the boot sector; past the last cluster sit the backup boot sector and slack: always kept. */
    if (rel == 0 || rel >= v->clu_sec) {
        *cls = CSEC_ASIS;
        return 0;
    }
    uint64_t clu = rel / v->spc;
    bool used;
    int rc = cluster_used(v, clu, &used, err);
    if (rc)
        return rc;
    *cls = !used ? CSEC_FREE : (v->npf && in_pagefile(v, clu)) ? CSEC_PAGEFILE : CSEC_USED;
    return 0;
}

int cmap_classify(struct cmap *m, uint64_t first, uint32_t n, uint8_t *cls, vk_error *err)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t s = first + i;
        if (s >= m->disk_sec) {
            cls[i] = CSEC_FREE; /* past the end of the virtual disk: no reader can see it */
            continue;
        }
        if (m->hint >= m->nvols || s < m->vols[m->hint].start_sec)
            m->hint = 0;
        while (m->hint < m->nvols && s >= m->vols[m->hint].start_sec + m->vols[m->hint].nsec)
            m->hint++;
        struct cvol *v = m->hint < m->nvols && s >= m->vols[m->hint].start_sec ? &m->vols[m->hint] : NULL;
        if (!v) {
            cls[i] = CSEC_ASIS;
            continue;
        }
        int rc = classify_in_volume(v, s, &cls[i], err);
        if (rc)
            return rc;
    }
    return 0;
}
