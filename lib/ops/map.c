/* SPDX-License-Identifier: GPL-2.0-or-later */
/* map: per VHD block, its state as the compact planner sees it (unallocated, used, partly used, free in the
 * filesystem, zero, same as the parent), what the parent chain stores under it, and the files owning its clusters
 * (the owner index of whohas). Using compact's own planner keeps the totals equal to `compact --dry-run`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/compact_int.h"
#include "ops/whohas_int.h"
#include "vhd/format.h"
#include "core/sort.h"

const char *vk_map_state_name(enum vk_map_state s)
{
    static const char *const names[VK_MAP_NSTATES] = {
        [VK_MAP_UNALLOCATED] = "unallocated", [VK_MAP_USED] = "used",  [VK_MAP_PARTLY_USED] = "partly_used",
        [VK_MAP_FREE] = "free",               [VK_MAP_ZERO] = "zero",  [VK_MAP_SAME_AS_PARENT] = "same_as_parent",
        [VK_MAP_PAGEFILE] = "pagefile",
    };
    return (unsigned)s < VK_MAP_NSTATES ? names[s] : "unknown";
}

/* Owners of one block: a small list merged by record, the largest kept. */
struct mown {
    unsigned part;
    uint64_t mft, bytes;
    const vk_owners *idx;
};

struct mowners {
    struct mown *v;
    size_t n, cap;
    int oom;
};

static int add_owner(void *ctx, unsigned part, const vk_owners *idx, const struct vk_owner *ow, uint64_t bytes)
{
    struct mowners *m = ctx;
    /* Runs of one file usually come together (sorted by cluster): look at the latest entries first. */
    for (size_t i = m->n; i > 0; i--)
        if (m->v[i - 1].mft == ow->mft_record && m->v[i - 1].part == part) {
            m->v[i - 1].bytes += bytes;
            return 0;
        }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct mown *v = realloc(m->v, cap * sizeof *v);
        if (!v) {
            m->oom = 1;
            return 1;
        }
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = (struct mown){part, ow->mft_record, bytes, idx};
    return 0;
}

static int by_bytes(const void *a, const void *b)
{
    const struct mown *x = a, *y = b;
    return x->bytes > y->bytes ? -1 : x->bytes < y->bytes ? 1 : (x->mft > y->mft) - (x->mft < y->mft);
}

static int fill_owners(vk_whohas *w, struct mowners *m, struct vk_map_block *b, uint64_t first, uint64_t n,
                       vk_error *err)
{
    m->n = 0;
    int rc = vk_whohas_owners(w, first, n, add_owner, m, err);
    if (m->oom)
        return vk_fail(err, VK_E_NOMEM, w->path, VK_NO_OFFSET, NULL);
    if (rc)
        return rc;
    vk_sort(m->v, m->n, sizeof *m->v, by_bytes);
    b->owners_count = m->n;
    for (size_t i = 0; i < m->n && b->nowners < VK_MAP_TOP_OWNERS; i++) {
        struct vk_map_owner *o = &b->owners[b->nowners++];
        o->partition = m->v[i].part;
        o->mft_record = m->v[i].mft;
        o->bytes = m->v[i].bytes;
        vk_owners_path(m->v[i].idx, m->v[i].mft, o->path, sizeof o->path);
    }
    return 0;
}

/* Sectors of [off, off+len) the parent chain stores. */
static int parent_sectors(vk_vhd *vhd, uint64_t off, uint64_t len, uint64_t *out, vk_error *err)
{
    *out = 0;
    vk_vhd *parent = vk_vhd_parent(vhd);
    if (!parent)
        return 0;
    uint64_t size = vk_vhd_dev(parent)->size;
    uint64_t end = off + len < size ? off + len : size;
    while (off < end) {
        vk_extent e;
        int depth;
        int rc = vk_vhd_extent_deep(parent, off, end - off, &e, &depth, err);
        if (rc)
            return rc;
        uint64_t n = e.len < end - off ? e.len : end - off;
        if (e.kind == VK_EXTENT_DATA && depth >= 0)
            *out += n / VHD_SECTOR;
        off += n;
    }
    return 0;
}

static enum vk_map_state state_of(const struct bplan *bp, uint64_t stored)
{
    if (bp->action == BP_DROP) {
        switch (bp->reason) {
        case VK_COMPACT_ZERO: return VK_MAP_ZERO;
        case VK_COMPACT_PARENT: return VK_MAP_SAME_AS_PARENT;
        case VK_COMPACT_PAGEFILE: return VK_MAP_PAGEFILE;
        default: return VK_MAP_FREE;
        }
    }
    uint64_t freeable = 0;
    for (int r = 0; r < VK_COMPACT_NREASONS; r++)
        freeable += bp->sectors[r];
    (void)stored;
    return freeable ? VK_MAP_PARTLY_USED : VK_MAP_USED; /* a kept block keeps at least one sector */
}

static void fill_parts(vk_whohas *w, struct vk_map_result *res)
{
    for (unsigned i = 0; i < w->nvols && res->nparts < VK_MAP_MAX_PARTS; i++) {
        struct vk_map_part *p = &res->parts[res->nparts++];
        p->number = w->vols[i].part.number;
        p->start_lba = w->vols[i].part.start_lba;
        p->nsec = w->vols[i].part.nsec;
        snprintf(p->type, sizeof p->type, "%s", w->vols[i].part.type_name ? w->vols[i].part.type_name : "");
    }
}

static int walk(vk_whohas *w, struct cplan *p, vk_map_fn fn, void *ctx, struct vk_map_result *res, vk_error *err)
{
    struct mowners m = {0};
    int rc = 0;
    uint32_t spb = p->lay.sectors_per_block;
    for (uint32_t blk = 0; blk < p->lay.bat_entries && !rc; blk++) {
        struct vk_map_block b = {.block = blk, .diff = p->diff};
        uint64_t first = (uint64_t)blk * spb;
        if (vhd_cio_bat(p->vhd, blk) == VHD_BAT_UNUSED) {
            b.state = VK_MAP_UNALLOCATED;
        } else {
            struct bplan bp;
            if ((rc = plan_block(p, blk, &bp, err)))
                break;
            plan_account(&res->compact, &bp);
            for (uint32_t s = 0; s < spb; s++)
                b.stored_sectors += vhd_bitmap_get(p->old_bits, s);
            for (int r = 0; r < VK_COMPACT_NREASONS; r++) {
                b.freeable[r] = bp.sectors[r];
                b.freeable_sectors += bp.sectors[r];
            }
            b.state = state_of(&bp, b.stored_sectors);
            if (b.stored_sectors)
                b.used_fraction = (double)(b.stored_sectors - b.freeable_sectors) / (double)b.stored_sectors;
        }
        if (p->diff && (rc = parent_sectors(p->vhd, first * VHD_SECTOR, (uint64_t)spb * VHD_SECTOR,
                                            &b.parent_sectors, err)))
            break;
        if ((rc = fill_owners(w, &m, &b, first, spb, err)))
            break;
        res->state_blocks[b.state]++;
        if (fn)
            rc = fn(ctx, &b);
    }
    free(m.v);
    return rc;
}

int vk_map(const char *path, unsigned compact_flags, vk_map_fn fn, void *ctx, struct vk_map_result *res,
           vk_error *err)
{
    memset(res, 0, sizeof *res);
    vk_whohas *w;
    int rc = vk_whohas_open(path, NULL, &w, err);
    if (rc)
        return rc;
    vk_vhd *vhd = w->vhd;
    struct vk_vhd_info info;
    if (!vhd || (vk_vhd_get_info(vhd, &info), info.type == VK_VHD_FIXED)) {
        vk_whohas_close(w);
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET,
                       "a %s has no blocks to map: map reads dynamic and differencing VHDs (whohas answers for any "
                       "image)", vhd ? "fixed VHD" : "raw image");
    }
    struct cplan p;
    compact_flags &= VK_COMPACT_DISCARD_PAGEFILE;
    if ((rc = plan_init(&p, vhd, compact_flags, &res->compact, err))) {
        vk_whohas_close(w);
        return rc;
    }
    res->block_size = p.lay.block_size;
    res->blocks = p.lay.bat_entries;
    res->virtual_size = w->disk->size;
    res->compact.file_size_before = p.file->size;
    res->compact.block_size = p.lay.block_size;
    for (uint32_t b = 0; b < p.lay.bat_entries; b++)
        res->compact.blocks_before += vhd_cio_bat(vhd, b) != VHD_BAT_UNUSED;
    res->compact.blocks_after = res->compact.blocks_before;
    fill_parts(w, res);
    rc = walk(w, &p, fn, ctx, res, err);
    /* The size compact --dry-run estimates (compact_apply.c): metadata, then the kept blocks packed, then the footer. */
    uint64_t meta_end = 0;
    for (unsigned i = 0; i < p.lay.nmeta; i++)
        if (p.lay.meta[i].off + p.lay.meta[i].len > meta_end)
            meta_end = p.lay.meta[i].off + p.lay.meta[i].len;
    meta_end = (meta_end + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
    res->compact.file_size_after = meta_end + res->compact.blocks_after * p.lay.slot + VHD_FOOTER_LEN;
    if (res->compact.file_size_after > res->compact.file_size_before)
        res->compact.file_size_after = res->compact.file_size_before;
    plan_free(&p);
    vk_whohas_close(w);
    return rc;
}
