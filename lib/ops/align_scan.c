/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align scan: each partition's start against 4 KiB, 1 MiB, the VHD block and the requested boundary, and what a
 * misaligned NTFS volume costs in clusters split across 4 KiB units and VHD blocks. */
#include "ops/align_int.h"

#include <string.h>

#include "core/bytes.h"

int align_ntfs_boot(const uint8_t raw[512], struct ntfs_boot *b)
{
    if (memcmp(raw + NTFS_OEM_OFF, "NTFS    ", 8) || get_le16(raw + 510) != 0xAA55)
        return 0;
    uint32_t bps = get_le16(raw + NTFS_BPS_OFF);
    uint8_t spc = raw[NTFS_SPC_OFF];
    /* Values above 0x80 encode 2^(256 - v) sectors per cluster (clusters of 128 KiB and more). */
    uint32_t sectors = spc <= 0x80 ? spc : (256u - spc < 24 ? 1u << (256u - spc) : 0);
    if (bps < 256 || bps > 4096 || (bps & (bps - 1)) || !sectors || (sectors & (sectors - 1)))
        return 0;
    uint64_t cs = (uint64_t)bps * sectors;
    if (cs > (2u << 20))
        return 0;
    b->sector_size = bps;
    b->cluster_size = (uint32_t)cs;
    b->total_sec = get_le64(raw + NTFS_TOTAL_OFF);
    b->hidden = get_le32(raw + NTFS_HIDDEN_OFF);
    return 1;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Units a range of `size` bytes at `a` touches. */
static uint64_t touched(uint64_t a, uint64_t size, uint64_t unit) { return (a + size - 1) / unit - a / unit + 1; }

uint64_t align_split_count(uint64_t off, uint64_t size, uint64_t n, uint64_t unit)
{
    if (!n || !size || !unit)
        return 0;
    uint64_t need = (size + unit - 1) / unit;
    /* The start modulo `unit` repeats every unit / gcd(size, unit) clusters: count one period and scale. */
    uint64_t period = unit / gcd(size % unit ? size % unit : unit, unit);
    uint64_t span = period < n ? period : n;
    uint64_t in_period = 0, in_rest = 0, rest = n % span;
    uint64_t a = off % unit;
    for (uint64_t c = 0; c < span; c++) {
        int split = touched(a, size, unit) > need;
        in_period += (uint64_t)split;
        if (c < rest)
            in_rest += (uint64_t)split;
        a = (a + size) % unit;
    }
    return n / span * in_period + in_rest;
}

int align_scan_dev(vk_dev *disk, vk_vhd *vhd, uint64_t target, const vk_part_table *t, struct vk_align_report *rep,
                   vk_error *err)
{
    memset(rep, 0, sizeof *rep);
    rep->scheme = (int)t->scheme;
    rep->disk_size = disk->size;
    rep->disk_signature = t->disk_signature;
    rep->target = target;
    if (vhd) {
        struct vk_vhd_info info;
        int rc = vk_vhd_get_info(vhd, &info);
        if (rc)
            return vk_fail(err, rc, disk->name, VK_NO_OFFSET, "cannot read the image information");
        rep->is_vhd = 1;
        rep->type = info.type;
        rep->block_size = info.type == VK_VHD_FIXED ? 0 : info.block_size;
    }
    if (t->count > VK_ALIGN_MAX_PARTS)
        return vk_fail(err, VK_E_UNSUPPORTED, disk->name, VK_NO_OFFSET, "%u partitions: at most %u are handled",
                       t->count, VK_ALIGN_MAX_PARTS);
    for (unsigned i = 0; i < t->count; i++) {
        const vk_part *p = &t->parts[i];
        struct vk_align_part *a = &rep->parts[rep->count++];
        a->number = p->number;
        a->flags = p->flags;
        a->mbr_type = p->mbr_type;
        a->type_name = p->type_name;
        a->start_off = p->start_off;
        a->new_start_off = p->start_off;
        a->len = p->len;
        a->aligned_4k = p->start_off % 4096 == 0;
        a->aligned_1m = p->start_off % (1u << 20) == 0;
        a->aligned_to = p->start_off % target == 0;
        a->aligned_block = rep->block_size ? p->start_off % rep->block_size == 0 : a->aligned_to;
        if (!(p->flags & VK_PART_CONTAINER) && !a->aligned_to)
            rep->misaligned++;
        if (p->flags & (VK_PART_CONTAINER | VK_PART_WHOLE_DISK) || p->len < 512)
            continue;
        uint8_t boot[512];
        int rc = vk_dev_read(disk, boot, sizeof boot, p->start_off, err);
        if (rc)
            return rc;
        struct ntfs_boot b;
        if (!align_ntfs_boot(boot, &b))
            continue;
        a->ntfs = 1;
        a->cluster_size = b.cluster_size;
        a->hidden_sectors = b.hidden;
        uint64_t vol = b.total_sec * b.sector_size;
        if (vol > p->len)
            vol = p->len;
        a->clusters = vol / b.cluster_size;
        a->clusters_4k = p->start_off % 4096 == 0 && b.cluster_size % 4096 == 0;
        a->split_4k = align_split_count(p->start_off, b.cluster_size, a->clusters, 4096);
        if (rep->block_size)
            a->split_block = align_split_count(p->start_off, b.cluster_size, a->clusters, rep->block_size);
    }
    return 0;
}

int vk_align_scan(const char *path, uint64_t target, struct vk_align_report *rep, vk_error *err)
{
    if (!target)
        target = VK_ALIGN_DEFAULT_TO;
    if (target % 4096)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "the boundary %llu is not a multiple of 4096",
                       (unsigned long long)target);
    vk_dev *disk;
    vk_vhd *vhd;
    int rc = vk_image_open(path, NULL, &disk, &vhd, err);
    if (rc)
        return rc;
    vk_part_table t;
    rc = vk_part_read(disk, &t, err);
    if (!rc) {
        rc = align_scan_dev(disk, vhd, target, &t, rep, err);
        vk_part_table_free(&t);
    }
    vk_dev_close(disk);
    return rc;
}
