/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit stat: a file's MFT record, flags, times and attributes, and where its data lies: clusters, disk sectors,
 * VHD blocks and byte offsets in the image files of the chain (spec "Block Allocation Table and Data Blocks"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vhdkit/part.h"

const struct opt opts_stat[] = {
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

/* FILE_ATTRIBUTE_* bits as Windows names them. */
static const struct {
    uint32_t bit;
    const char *name;
} attr_bits[] = {
    {0x1, "readonly"},      {0x2, "hidden"},      {0x4, "system"},        {0x20, "archive"},
    {0x80, "normal"},       {0x100, "temporary"}, {0x200, "sparse"},      {0x400, "reparse_point"},
    {0x800, "compressed"},  {0x1000, "offline"},  {0x2000, "not_indexed"}, {0x4000, "encrypted"},
    {0x10000000, "directory_index"},
};

static void out_flags(struct out *o, uint32_t attrs)
{
    char buf[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof attr_bits / sizeof attr_bits[0]; i++)
        if (attrs & attr_bits[i].bit) {
            int w = snprintf(buf + used, sizeof buf - used, "%s%s", used ? "," : "", attr_bits[i].name);
            if (w > 0 && (size_t)w < sizeof buf - used)
                used += (size_t)w;
        }
    out_hex(o, "file_attributes", attrs);
    out_str(o, "flags", used ? buf : "none");
}

/* The security descriptor as SDDL (what icacls /save and Get-Acl show); a descriptor that cannot be read or parsed
 * is said so in its place: the rest of stat still holds. */
static void out_security(struct out *o, vk_ntfs *vol, const char *path)
{
    vk_error err = {0};
    uint8_t *sd;
    size_t len;
    char *sddl = NULL;
    int rc = vk_ntfs_get_security(vol, path, &sd, &len, &err);
    if (!rc) {
        rc = vk_ntfs_sd_to_sddl(sd, len, &sddl, &err);
        free(sd);
    }
    if (rc) {
        char msg[VK_ERR_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "(unreadable: %s)", err.msg);
        out_str(o, "security", msg);
    } else {
        out_str(o, "security", sddl);
    }
    free(sddl);
}

struct where {
    struct vol *v;
    uint32_t cluster;
    uint32_t block_size;  /* 0 for raw and fixed images */
};

/* The path of chain level `depth`. */
static const char *image_at(vk_vhd *vhd, int depth)
{
    for (int d = 0; vhd && d < depth; d++)
        vhd = vk_vhd_parent(vhd);
    return vhd ? vk_vhd_path(vhd) : "?";
}

/* One piece of a run that lies in one VHD block and one image of the chain. */
static void out_piece(struct out *o, const struct where *w, uint64_t disk_off, uint64_t len, int depth,
                      uint64_t file_off)
{
    out_object(o, NULL);
    out_u64(o, "disk_offset", disk_off);
    out_u64(o, "bytes", len);
    if (w->block_size)
        out_u64(o, "vhd_block", disk_off / w->block_size);
    if (depth < 0) {
        out_str(o, "stored", w->block_size ? "unallocated (reads as zeros)" : "nowhere (reads as zeros)");
    } else {
        out_str(o, "image", w->v->vhd ? image_at(w->v->vhd, depth) : w->v->image);
        if (depth > 0)
            out_u64(o, "chain_depth", (uint64_t)depth);
        out_hex(o, "file_offset", file_off);
    }
    out_close(o);
}

/* Splits [disk_off, +len) at VHD block boundaries and where the chain level changes, and maps each piece. */
static int out_pieces(struct out *o, const struct where *w, uint64_t disk_off, uint64_t len, vk_error *err)
{
    out_array(o, "stored_at");
    int rc = 0;
    while (len && !rc) {
        uint64_t n = len, file_off = disk_off;
        int depth = 0;
        if (w->v->vhd) {
            if (w->block_size) {
                uint64_t to_end = w->block_size - disk_off % w->block_size;
                n = n < to_end ? n : to_end;
            }
            vk_extent ex;
            rc = vk_vhd_extent_deep(w->v->vhd, disk_off, n, &ex, &depth, err);
            if (!rc)
                rc = vk_vhd_map_offset(w->v->vhd, disk_off, &file_off, &depth, err);
            if (rc)
                break;
            n = ex.len < n ? ex.len : n;
        }
        out_piece(o, w, disk_off, n, depth, file_off);
        disk_off += n;
        len -= n;
    }
    out_close(o);
    return rc;
}

static int out_runs(struct out *o, const struct where *w, const vk_ntfs_attr *a, vk_error *err)
{
    out_array(o, "runs");
    int rc = 0;
    for (unsigned i = 0; i < a->nruns && !rc; i++) {
        const vk_ntfs_run *r = &a->runs[i];
        out_object(o, NULL);
        out_i64(o, "vcn", r->vcn);
        out_u64(o, "clusters", r->len_clu);
        if (r->lcn < 0) {
            out_str(o, "lcn", "sparse");
        } else {
            out_i64(o, "lcn", r->lcn);
            uint64_t disk_off = w->v->part_off + (uint64_t)r->lcn * w->cluster;
            uint64_t len = r->len_clu * w->cluster;
            out_u64(o, "lba", disk_off / VK_SECTOR_SIZE);
            out_u64(o, "sectors", len / VK_SECTOR_SIZE);
            if (disk_off + len > w->v->disk->size || disk_off < w->v->part_off)
                out_str(o, "warning", "run lies outside the disk");
            else
                rc = out_pieces(o, w, disk_off, len, err);
        }
        out_close(o);
    }
    out_close(o);
    return rc;
}

static int print_stat(struct out *o, struct vol *v, const char *path, const vk_ntfs_stat *st, vk_error *err)
{
    vk_ntfs_info ni;
    int rc = vk_ntfs_info_get(v->ntfs, &ni, err);
    if (rc)
        return rc;
    struct where w = {v, ni.cluster_size, 0};
    if (v->vhd) {
        struct vk_vhd_info vi;
        vk_vhd_get_info(v->vhd, &vi);
        w.block_size = vi.type == VK_VHD_FIXED ? 0 : vi.block_size;
    }
    out_str(o, "image", v->image);
    out_u64(o, "partition", v->part);
    out_u64(o, "partition_lba", v->part_off / VK_SECTOR_SIZE);
    out_u64(o, "cluster_size", ni.cluster_size);
    out_str(o, "path", path);
    out_u64(o, "mft_record", st->mft);
    out_str(o, "type", st->is_dir ? "dir" : "file");
    out_u64(o, "size", st->size);
    out_u64(o, "links", st->nlink);
    out_flags(o, st->file_attrs);
    out_security(o, v->ntfs, path);
    out_times(o, &st->times);
    out_array(o, "streams");
    for (unsigned i = 0; i < st->nattrs; i++)
        if (st->attrs[i].type == 0x80) {
            out_object(o, NULL);
            out_str(o, "name", st->attrs[i].name[0] ? st->attrs[i].name : "(unnamed)");
            out_u64(o, "size", st->attrs[i].size);
            out_close(o);
        }
    out_close(o);
    out_array(o, "attributes");
    for (unsigned i = 0; i < st->nattrs && !rc; i++) {
        const vk_ntfs_attr *a = &st->attrs[i];
        out_object(o, NULL);
        out_str(o, "type", a->type_name);
        out_hex(o, "type_code", a->type);
        out_str(o, "name", a->name);
        out_bool(o, "resident", a->resident);
        out_u64(o, "size", a->size);
        out_u64(o, "allocated", a->alloc_size);
        if (!a->resident)
            rc = out_runs(o, &w, a, err);
        out_close(o);
    }
    out_close(o);
    return rc;
}

int cmd_stat(struct ctx *c)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[0], false, &v);
    if (st)
        return st;
    char *path = vol_path(c->args.pos[1]);
    vk_error err = {0};
    vk_ntfs_stat s;
    int rc = path ? vk_ntfs_stat_path(v.ntfs, path, &s, &err) : vk_fail(&err, VK_E_NOMEM, v.image, VK_NO_OFFSET, NULL);
    if (!rc) {
        struct out o;
        out_init(&o, stdout, c->json);
        out_begin(&o);
        rc = print_stat(&o, &v, path, &s, &err);
        out_end(&o);
        vk_ntfs_stat_free(&s);
    }
    free(path);
    st = rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}
