/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align plan: where each partition goes. Partitions only move up (to the next boundary, or further when the one
 * before them grew into their place), so copying the highest first, each from its end backwards, never overwrites
 * a sector before it is copied. */
#include "ops/align_int.h"

#include <string.h>

#include "core/checked.h"
#include "vhd/format.h"

static uint64_t up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

int align_plan_make(const vk_part_table *t, uint64_t disk_size, uint64_t target, int vhd, struct align_plan *p,
                    vk_error *err)
{
    memset(p, 0, sizeof *p);
    p->magic = ALIGN_PLAN_MAGIC;
    p->size = sizeof *p;
    p->scheme = (int)t->scheme;
    p->disk_signature = t->disk_signature;
    memcpy(p->disk_guid, t->disk_guid, 16);
    p->target_sec = target / VK_SECTOR_SIZE;
    p->old_size = p->new_size = disk_size;
    p->round = align_round_size();
    if (t->count > VK_ALIGN_MAX_PARTS)
        return vk_fail(err, VK_E_UNSUPPORTED, NULL, VK_NO_OFFSET, "too many partitions (%u)", t->count);
    if (t->scheme == VK_PART_SCHEME_NONE)
        return 0;
    p->n = t->count;
    unsigned by_start[VK_ALIGN_MAX_PARTS];
    for (unsigned i = 0; i < p->n; i++) {
        p->parts[i] = t->parts[i];
        p->parts[i].type_name = NULL;
        by_start[i] = i;
    }
    /* Insertion sort by start: at most VK_ALIGN_MAX_PARTS entries. A container sorts before its first logical. */
    for (unsigned i = 1; i < p->n; i++)
        for (unsigned j = i; j > 0 && (p->parts[by_start[j]].start_lba < p->parts[by_start[j - 1]].start_lba ||
                                       (p->parts[by_start[j]].start_lba == p->parts[by_start[j - 1]].start_lba &&
                                        (p->parts[by_start[j]].flags & VK_PART_CONTAINER)));
             j--) {
            unsigned k = by_start[j];
            by_start[j] = by_start[j - 1];
            by_start[j - 1] = k;
        }
    uint64_t a = p->target_sec;
    uint64_t prev_end = 1;          /* the MBR, or the protective MBR */
    if (t->scheme == VK_PART_SCHEME_GPT)
        prev_end = 34;              /* header and a 128-entry array */
    int ext = -1;                   /* the extended container while its logicals are laid out */
    int first_logical = 1;
    for (unsigned k = 0; k < p->n; k++) {
        unsigned i = by_start[k];
        vk_part *q = &p->parts[i];
        if (ext >= 0 && !(q->flags & VK_PART_LOGICAL)) {
            vk_part *e = &p->parts[ext];
            uint64_t end = e->start_lba + e->nsec > prev_end ? e->start_lba + e->nsec : prev_end;
            p->new_nsec[ext] = end - p->new_lba[ext];
            prev_end = end;
            ext = -1;
        }
        p->new_nsec[i] = q->nsec;
        if (q->flags & VK_PART_CONTAINER) {
            /* The container holds the first EBR at its start; it moves only when pushed. */
            p->new_lba[i] = q->start_lba > prev_end ? q->start_lba : prev_end;
            ext = (int)i;
            first_logical = 1;
            prev_end = p->new_lba[i] + 1;
            continue;
        }
        uint64_t from = q->start_lba > prev_end ? q->start_lba : prev_end;
        if (q->flags & VK_PART_LOGICAL) {
            uint64_t old_ebr = q->entry_off / VK_SECTOR_SIZE;
            p->ebr_lba[i] = first_logical ? p->new_lba[ext] : (old_ebr > prev_end ? old_ebr : prev_end);
            first_logical = 0;
            if (from < p->ebr_lba[i] + 1)
                from = p->ebr_lba[i] + 1;
        }
        p->new_lba[i] = up(from, a);
        prev_end = p->new_lba[i] + q->nsec;
    }
    if (ext >= 0) {
        vk_part *e = &p->parts[ext];
        uint64_t end = e->start_lba + e->nsec > prev_end ? e->start_lba + e->nsec : prev_end;
        p->new_nsec[ext] = end - p->new_lba[ext];
        prev_end = end;
    }
    /* The disk grows (to a whole boundary) when the last partition (and a GPT backup) no longer fits. */
    uint64_t need = prev_end + (t->scheme == VK_PART_SCHEME_GPT ? 33 : 0);
    if (need * VK_SECTOR_SIZE > disk_size) {
        p->new_size = up(need, a) * VK_SECTOR_SIZE;
        /* A VHD's CHS geometry is computed from its size and rounds it down (VHD-NOTES.md 5): grow by whole
         * boundaries until the geometry too holds every partition, so a reader that sizes the disk by CHS (Virtual
         * PC) does not cut the last one. Past the largest geometry (127.5 GiB) no size can. */
        while (vhd && vhd_chs_bytes(vhd_chs_for_size(p->new_size)) < need * VK_SECTOR_SIZE &&
               need * VK_SECTOR_SIZE <= VHD_MAX_CHS_SECTORS * VK_SECTOR_SIZE)
            p->new_size += a * VK_SECTOR_SIZE;
    }
    if (t->scheme == VK_PART_SCHEME_MBR && prev_end > UINT32_MAX)
        return vk_fail(err, VK_E_UNSUPPORTED, NULL, VK_NO_OFFSET,
                       "aligned partitions would end past 2 TiB, which an MBR cannot address");
    for (unsigned k = p->n; k-- > 0;) {
        unsigned i = by_start[k];
        if (!(p->parts[i].flags & VK_PART_CONTAINER) && p->new_lba[i] != p->parts[i].start_lba)
            p->order[p->nmoves++] = i;
    }
    return 0;
}

int align_seg_at(const struct align_plan *p, uint64_t v, uint64_t *src, uint64_t *end)
{
    int kind = ALIGN_SEG_SAME;
    *end = UINT64_MAX;
    *src = v;
    for (unsigned k = 0; k < p->nmoves; k++) {
        unsigned i = p->order[k];
        uint64_t os = p->parts[i].start_off, oe = os + p->parts[i].len;
        uint64_t ns = p->new_lba[i] * VK_SECTOR_SIZE, ne = ns + p->parts[i].len;
        const uint64_t edge[4] = {os, oe, ns, ne};
        for (unsigned e = 0; e < 4; e++)
            if (edge[e] > v && edge[e] < *end)
                *end = edge[e];
        if (v >= ns && v < ne) {
            kind = ALIGN_SEG_MOVED; /* destinations never overlap: the one that holds v */
            *src = v - (ns - os);
        } else if (v >= os && v < oe && kind == ALIGN_SEG_SAME) {
            kind = ALIGN_SEG_VACATED;
        }
    }
    return kind;
}

void align_moved_span(const struct align_plan *p, uint64_t *lo, uint64_t *hi)
{
    *lo = UINT64_MAX;
    *hi = 0;
    for (unsigned k = 0; k < p->nmoves; k++) {
        unsigned i = p->order[k];
        uint64_t os = p->parts[i].start_off, ne = p->new_lba[i] * VK_SECTOR_SIZE + p->parts[i].len;
        if (os < *lo)
            *lo = os;
        if (ne > *hi)
            *hi = ne;
    }
    if (*lo > *hi)
        *lo = *hi = 0;
}
