/* SPDX-License-Identifier: GPL-2.0-or-later */
/* whohas: what holds a sector of a virtual disk: partition-table structures (MBR, EBR, GPT and its backup), space
 * outside partitions, NTFS boot sectors and slack, and inside a volume the file, stream and byte that own the cluster
 * (the owner index) or "free" ($Bitmap). Volumes are mounted and indexed the first time a question reaches them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "ops/whohas_int.h"
#include "vhdkit/vhd.h"

#define ROOT_RECORD 5u
#define FIRST_USER_RECORD 16u  /* records 0-15 are the NTFS metafiles */
#define EXTEND_PREFIX "/$Extend/"
#define BOOT_TOTAL_SECTORS 0x28 /* NTFS boot sector: number of sectors in the volume (le64) */

const char *vk_holder_name(enum vk_holder k)
{
    static const char *const names[VK_HOLD_NKINDS] = {
        [VK_HOLD_FILE] = "file",
        [VK_HOLD_METAFILE] = "metafile",
        [VK_HOLD_FREE] = "free",
        [VK_HOLD_UNOWNED] = "unowned",
        [VK_HOLD_BOOT] = "boot_sector",
        [VK_HOLD_BACKUP_BOOT] = "backup_boot_sector",
        [VK_HOLD_VOLUME_SLACK] = "volume_slack",
        [VK_HOLD_OTHER_FS] = "other_partition",
        [VK_HOLD_MBR] = "mbr",
        [VK_HOLD_EBR] = "ebr",
        [VK_HOLD_GPT_HEADER] = "gpt_header",
        [VK_HOLD_GPT_ENTRIES] = "gpt_entries",
        [VK_HOLD_OUTSIDE] = "outside_partitions",
        [VK_HOLD_VHD_FOOTER] = "vhd_footer",
        [VK_HOLD_VHD_FOOTER_COPY] = "vhd_footer_copy",
        [VK_HOLD_VHD_HEADER] = "vhd_header",
        [VK_HOLD_VHD_BAT] = "vhd_bat",
        [VK_HOLD_VHD_BITMAP] = "vhd_sector_bitmap",
        [VK_HOLD_VHD_LOCATOR] = "vhd_parent_locator",
        [VK_HOLD_VHD_STALE] = "vhd_stale_data",
        [VK_HOLD_VHD_UNUSED] = "vhd_unused",
    };
    return (unsigned)k < VK_HOLD_NKINDS && names[k] ? names[k] : "unknown";
}

/* GPT header at `lba` (when its signature is there): its entry array as a sector range. */
static void read_gpt(vk_whohas *w, uint64_t lba, int slot)
{
    uint8_t h[512];
    uint64_t disk_sec = w->disk->size / VK_SECTOR_SIZE;
    if (lba >= disk_sec || vk_dev_read(w->disk, h, sizeof h, lba * VK_SECTOR_SIZE, NULL) || memcmp(h, "EFI PART", 8))
        return;
    w->gpt_sec[slot] = lba;
    w->gpt_n[slot] = 1;
    uint64_t ent = get_le64(h + 72), bytes = (uint64_t)get_le32(h + 80) * get_le32(h + 84);
    uint64_t n = (bytes + VK_SECTOR_SIZE - 1) / VK_SECTOR_SIZE;
    if (ent < disk_sec && n <= disk_sec - ent && bytes <= (1u << 24)) {
        w->gpt_sec[slot + 1] = ent;
        w->gpt_n[slot + 1] = n;
    }
    if (slot == 0)
        read_gpt(w, get_le64(h + 32), 2); /* the backup header's LBA */
}

static int load_table(vk_whohas *w, vk_error *err)
{
    vk_error e = {0};
    if (vk_part_read(w->disk, &w->table, &e))
        return 0; /* an unreadable table: every sector is "outside partitions" */
    w->have_table = 1;
    if (w->table.scheme == VK_PART_SCHEME_GPT)
        read_gpt(w, 1, 0);
    w->vols = calloc(w->table.count ? w->table.count : 1, sizeof *w->vols);
    if (!w->vols)
        return vk_fail(err, VK_E_NOMEM, w->path, VK_NO_OFFSET, NULL);
    for (unsigned i = 0; i < w->table.count; i++)
        if (!(w->table.parts[i].flags & VK_PART_CONTAINER))
            w->vols[w->nvols++].part = w->table.parts[i];
    for (unsigned i = 1; i < w->nvols; i++) /* by start: a handful of partitions */
        for (unsigned j = i; j > 0 && w->vols[j].part.start_lba < w->vols[j - 1].part.start_lba; j--) {
            struct wvol t = w->vols[j];
            w->vols[j] = w->vols[j - 1];
            w->vols[j - 1] = t;
        }
    return 0;
}

int vk_whohas_open(const char *path, const struct vk_vhd_open_opts *opts, vk_whohas **out, vk_error *err)
{
    *out = NULL;
    vk_whohas *w = calloc(1, sizeof *w);
    if (!w)
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    snprintf(w->path, sizeof w->path, "%s", path);
    struct vk_vhd_open_opts o = opts ? *opts : (struct vk_vhd_open_opts){0};
    o.flags &= ~(unsigned)VK_VHD_RDWR;
    int rc = vk_image_open(path, &o, &w->disk, &w->vhd, err);
    if (!rc && w->vhd) {
        struct vk_vhd_info vi;
        vk_vhd_get_info(w->vhd, &vi);
        w->block_size = vi.type == VK_VHD_FIXED ? 0 : vi.block_size;
    }
    if (!rc)
        rc = load_table(w, err);
    if (rc) {
        vk_whohas_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

void vk_whohas_close(vk_whohas *w)
{
    if (!w)
        return;
    for (unsigned i = 0; i < w->nvols; i++) {
        vk_owners_free(w->vols[i].idx);
        vk_ntfs_unmount(w->vols[i].ntfs, NULL);
        vk_dev_close(w->vols[i].win);
    }
    free(w->vols);
    if (w->have_table)
        vk_part_table_free(&w->table);
    free(w->by_pos);
    vk_dev_close(w->disk);
    free(w);
}

vk_dev *vk_whohas_disk(vk_whohas *w) { return w->disk; }
vk_vhd *vk_whohas_vhd(vk_whohas *w) { return w->vhd; }

void vk_whohas_stats(vk_whohas *w, uint64_t *runs, uint64_t *mem_bytes)
{
    *runs = *mem_bytes = 0;
    for (unsigned i = 0; i < w->nvols; i++)
        if (w->vols[i].idx) {
            struct vk_owners_stats st;
            vk_owners_get_stats(w->vols[i].idx, &st);
            *runs += st.runs;
            *mem_bytes += st.mem_bytes;
        }
}

static void other(struct wvol *v, const char *fmt, const char *detail)
{
    v->state = WVOL_OTHER;
    snprintf(v->why, sizeof v->why, fmt, detail);
}

/* Mounts and indexes a volume the first time it is asked about; what is not NTFS becomes an answer, not an error. */
static int prepare(vk_whohas *w, struct wvol *v, vk_error *err)
{
    if (v->state != WVOL_UNTRIED)
        return 0;
    int rc = vk_part_window(w->disk, &v->part, &v->win, err);
    if (rc)
        return rc;
    uint8_t boot[512];
    if ((rc = vk_dev_read(v->win, boot, sizeof boot, 0, err)))
        return rc;
    if (!memcmp(boot + 3, "-FVE-FS-", 8)) {
        other(v, "%s", "BitLocker-encrypted volume");
        return 0;
    }
    vk_error e = {0};
    rc = vk_ntfs_mount(v->win, VK_NTFS_RDONLY, &v->ntfs, &e);
    if (rc == VK_E_UNSUPPORTED) {
        other(v, "%s, not NTFS", v->part.type_name ? v->part.type_name : "unknown type");
        return 0;
    }
    if (rc) {
        other(v, "NTFS that cannot be read (%.100s)", e.msg);
        return 0;
    }
    vk_ntfs_info info;
    if ((rc = vk_ntfs_info_get(v->ntfs, &info, err)))
        return rc;
    if (info.sector_size != VK_SECTOR_SIZE || info.cluster_size < VK_SECTOR_SIZE ||
        info.cluster_size % VK_SECTOR_SIZE || info.total_clu > v->part.nsec / (info.cluster_size / VK_SECTOR_SIZE)) {
        other(v, "%s", "NTFS with a geometry vhdkit does not map");
        return 0;
    }
    v->cluster_size = info.cluster_size;
    v->clu_sec = info.total_clu * (info.cluster_size / VK_SECTOR_SIZE);
    v->vol_sec = get_le64(boot + BOOT_TOTAL_SECTORS);
    if ((rc = vk_owners_build(v->ntfs, &v->idx, err)))
        return rc;
    v->state = WVOL_READY;
    return 0;
}

int whohas_volume_at(vk_whohas *w, uint64_t sector, struct wvol **out, vk_error *err)
{
    *out = NULL;
    for (unsigned i = 0; i < w->nvols; i++) {
        struct wvol *v = &w->vols[i];
        if (sector >= v->part.start_lba && sector - v->part.start_lba < v->part.nsec) {
            *out = v;
            return prepare(w, v, err);
        }
    }
    return 0;
}

static int is_metafile(const struct vk_whohas_answer *a)
{
    return a->owner.mft_record < FIRST_USER_RECORD || !strncmp(a->path, EXTEND_PREFIX, strlen(EXTEND_PREFIX));
}

/* The cluster `clu` (byte `in_clu` of it) of a ready volume. */
static int in_clusters(struct wvol *v, uint64_t clu, uint64_t in_clu, struct vk_whohas_answer *a, vk_error *err)
{
    a->has_cluster = 1;
    a->cluster = clu;
    if (vk_owners_find(v->idx, clu, &a->owner)) {
        a->has_owner = 1;
        vk_owners_path(v->idx, a->owner.mft_record, a->path, sizeof a->path);
        a->file_offset = (a->owner.run_vcn + (clu - a->owner.run_lcn)) * v->cluster_size + in_clu;
        a->kind = is_metafile(a) ? VK_HOLD_METAFILE : VK_HOLD_FILE;
        snprintf(a->what, sizeof a->what, "%.150s%s", a->path, strlen(a->path) > 150 ? "..." : "");
        struct vk_owners_stats st;
        vk_owners_get_stats(v->idx, &st);
        /* $MFT and $MFTMirr hold MFT records: say whose record lies here. */
        if (a->owner.mft_record <= 1 && a->owner.attr_type == 0x80 && !a->owner.stream[0]) {
            a->has_mft_entry = 1;
            a->mft_entry = a->file_offset / st.mft_record_size;
            if (vk_owners_path(v->idx, a->mft_entry, a->mft_entry_path, sizeof a->mft_entry_path))
                a->mft_entry_path[0] = 0;
        }
        return 0;
    }
    uint8_t byte;
    size_t got;
    int rc = vk_ntfs_bitmap_read(v->ntfs, clu / 8, &byte, 1, &got, err);
    if (rc)
        return rc;
    int used = got == 1 ? (byte >> (clu & 7)) & 1 : 1;
    a->kind = used ? VK_HOLD_UNOWNED : VK_HOLD_FREE;
    snprintf(a->what, sizeof a->what, used ? "cluster in use in $Bitmap that no file claims" : "free cluster");
    return 0;
}

static int in_volume(struct wvol *v, uint64_t sector, uint64_t byte, struct vk_whohas_answer *a, vk_error *err)
{
    uint64_t rel = sector - v->part.start_lba;
    a->partition = v->part.number;
    if (v->state == WVOL_OTHER) {
        a->kind = VK_HOLD_OTHER_FS;
        snprintf(a->what, sizeof a->what, "partition %u: %s", v->part.number, v->why);
        return 0;
    }
    if (rel == 0) {
        a->kind = VK_HOLD_BOOT;
        snprintf(a->what, sizeof a->what, "NTFS boot sector of partition %u", v->part.number);
        struct vk_whohas_answer tmp = *a;
        int rc = in_clusters(v, 0, byte, &tmp, err);
        if (rc)
            return rc;
        /* The boot sector is also the start of $Boot: keep the owner. */
        a->has_cluster = 1;
        a->has_owner = tmp.has_owner;
        a->owner = tmp.owner;
        memcpy(a->path, tmp.path, sizeof a->path);
        a->file_offset = tmp.file_offset;
        return 0;
    }
    if (rel >= v->clu_sec) {
        int backup = rel == v->vol_sec;
        a->kind = backup ? VK_HOLD_BACKUP_BOOT : VK_HOLD_VOLUME_SLACK;
        snprintf(a->what, sizeof a->what, backup ? "NTFS backup boot sector of partition %u"
                                                 : "partition %u past the NTFS volume's last cluster",
                 v->part.number);
        return 0;
    }
    uint32_t spc = v->cluster_size / VK_SECTOR_SIZE;
    return in_clusters(v, rel / spc, (rel % spc) * VK_SECTOR_SIZE + byte, a, err);
}

/* Sectors outside every data partition: tables, EBRs, gaps. */
static void outside(vk_whohas *w, uint64_t sector, struct vk_whohas_answer *a)
{
    static const char *const gpt_what[4] = {"primary GPT header", "primary GPT partition entries",
                                            "backup GPT header", "backup GPT partition entries"};
    if (sector == 0 && w->have_table && w->table.scheme != VK_PART_SCHEME_NONE) {
        a->kind = VK_HOLD_MBR;
        snprintf(a->what, sizeof a->what, w->table.scheme == VK_PART_SCHEME_GPT ? "protective MBR" : "MBR");
        return;
    }
    for (int i = 0; i < 4; i++)
        if (w->gpt_n[i] && sector >= w->gpt_sec[i] && sector - w->gpt_sec[i] < w->gpt_n[i]) {
            a->kind = i % 2 ? VK_HOLD_GPT_ENTRIES : VK_HOLD_GPT_HEADER;
            snprintf(a->what, sizeof a->what, "%s", gpt_what[i]);
            return;
        }
    for (unsigned i = 0; w->have_table && i < w->table.count; i++) {
        const vk_part *p = &w->table.parts[i];
        if ((p->flags & VK_PART_LOGICAL) && p->entry_off / VK_SECTOR_SIZE == sector) {
            a->kind = VK_HOLD_EBR;
            snprintf(a->what, sizeof a->what, "extended boot record of partition %u", p->number);
            return;
        }
    }
    a->kind = VK_HOLD_OUTSIDE;
    for (unsigned i = 0; w->have_table && i < w->table.count; i++) {
        const vk_part *p = &w->table.parts[i];
        if ((p->flags & VK_PART_CONTAINER) && sector >= p->start_lba && sector - p->start_lba < p->nsec) {
            snprintf(a->what, sizeof a->what, "extended partition %u outside its logical partitions", p->number);
            return;
        }
    }
    snprintf(a->what, sizeof a->what, w->have_table ? "outside partitions" : "no readable partition table");
}

/* The path of chain level `depth`. */
static const char *image_at(vk_vhd *vhd, int depth)
{
    for (int d = 0; vhd && d < depth; d++)
        vhd = vk_vhd_parent(vhd);
    return vhd ? vk_vhd_path(vhd) : NULL;
}

int whohas_sector(vk_whohas *w, uint64_t sector, uint64_t byte, struct vk_whohas_answer *a, vk_error *err)
{
    a->has_sector = 1;
    a->sector = sector;
    a->byte_in_sector = byte;
    uint64_t off = sector * VK_SECTOR_SIZE + byte;
    a->chain_depth = 0;
    a->image = w->path;
    a->image_offset = off;
    if (w->vhd) {
        if (w->block_size) {
            a->has_block = 1;
            a->block = off / w->block_size;
        }
        int rc = vk_vhd_map_offset(w->vhd, off, &a->image_offset, &a->chain_depth, err);
        if (rc)
            return rc;
        a->image = a->chain_depth < 0 ? NULL : image_at(w->vhd, a->chain_depth);
        if (a->chain_depth < 0)
            a->image_offset = 0;
    }
    struct wvol *v;
    int rc = whohas_volume_at(w, sector, &v, err);
    if (rc)
        return rc;
    if (!v) {
        outside(w, sector, a);
        return 0;
    }
    return in_volume(v, sector, byte, a, err);
}

int vk_whohas_query(vk_whohas *w, enum vk_place place, uint64_t value, struct vk_whohas_answer *a, vk_error *err)
{
    memset(a, 0, sizeof *a);
    a->chain_depth = -1;
    uint64_t disk_sec = w->disk->size / VK_SECTOR_SIZE;
    switch (place) {
    case VK_PLACE_SECTOR:
        if (value >= disk_sec)
            return vk_fail(err, VK_E_RANGE, w->path, VK_NO_OFFSET, "sector %llu is past the end of the disk (%llu sectors)",
                           (unsigned long long)value, (unsigned long long)disk_sec);
        return whohas_sector(w, value, 0, a, err);
    case VK_PLACE_OFFSET:
        if (value >= w->disk->size)
            return vk_fail(err, VK_E_RANGE, w->path, VK_NO_OFFSET, "offset %llu is past the end of the disk (%llu bytes)",
                           (unsigned long long)value, (unsigned long long)w->disk->size);
        return whohas_sector(w, value / VK_SECTOR_SIZE, value % VK_SECTOR_SIZE, a, err);
    case VK_PLACE_VHD_OFFSET:
        return whohas_vhd_offset(w, value, a, err);
    }
    return vk_fail(err, VK_E_USAGE, w->path, VK_NO_OFFSET, "unknown kind of place");
}

struct owners_walk {
    vk_whohas_owner_fn fn;
    void *ctx;
    struct wvol *v;
};

static int owners_piece(void *ctx, const struct vk_owner *ow, uint64_t first_clu, uint64_t nclu)
{
    (void)first_clu;
    struct owners_walk *ow_ctx = ctx;
    return ow_ctx->fn(ow_ctx->ctx, ow_ctx->v->part.number, ow_ctx->v->idx, ow, nclu * ow_ctx->v->cluster_size);
}

int vk_whohas_owners(vk_whohas *w, uint64_t first, uint64_t n, vk_whohas_owner_fn fn, void *ctx, vk_error *err)
{
    uint64_t end = first + n;
    for (unsigned i = 0; i < w->nvols; i++) {
        struct wvol *v = &w->vols[i];
        uint64_t ps = v->part.start_lba, pe = ps + v->part.nsec;
        if (pe <= first || ps >= end)
            continue;
        int rc = prepare(w, v, err);
        if (rc)
            return rc;
        if (v->state != WVOL_READY)
            continue;
        /* Clusters touching [first, end) inside the volume (a cluster may straddle a block edge: counted in both). */
        uint32_t spc = v->cluster_size / VK_SECTOR_SIZE;
        uint64_t a = first > ps ? first - ps : 0, b = (end < pe ? end : pe) - ps;
        if (b > v->clu_sec)
            b = v->clu_sec;
        if (a >= b)
            continue;
        struct owners_walk ow = {fn, ctx, v};
        uint64_t c0 = a / spc, c1 = (b + spc - 1) / spc;
        if ((rc = vk_owners_range(v->idx, c0, c1 - c0, owners_piece, &ow)))
            return rc;
    }
    return 0;
}
