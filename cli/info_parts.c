/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit info, inside the disk: the partition table (MBR, EBR chain, GPT) with each partition's alignment, and for
 * NTFS volumes the label, serial, cluster size, usage and the hibernated/dirty state. */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "vhdkit/part.h"

#define MIB (UINT64_C(1) << 20)

static const char *scheme_name(enum vk_part_scheme s)
{
    return s == VK_PART_SCHEME_MBR ? "mbr" : s == VK_PART_SCHEME_GPT ? "gpt" : "none";
}

static void print_ntfs(struct out *o, vk_dev *disk, const vk_part *p)
{
    vk_dev *win;
    vk_ntfs *vol;
    if (vk_part_window(disk, p, &win, NULL))
        return;
    /* Read-only and quiet: a partition that is not NTFS simply has no filesystem block. */
    if (vk_ntfs_mount(win, VK_NTFS_RDONLY, &vol, NULL)) {
        vk_dev_close(win);
        return;
    }
    vk_ntfs_info ni;
    vk_error err = {0};
    out_object(o, "filesystem");
    out_str(o, "type", "NTFS");
    if (vk_ntfs_info_get(vol, &ni, &err)) {
        char msg[VK_ERR_MSG_MAX + VK_ERR_FILE_MAX + 64];
        vk_error_format(&err, msg, sizeof msg);
        out_str(o, "error", msg);
    } else {
        char serial[24], ver[16];
        snprintf(serial, sizeof serial, "%016" PRIX64, ni.serial);
        snprintf(ver, sizeof ver, "%u.%u", ni.major, ni.minor);
        out_str(o, "label", ni.label);
        out_str(o, "serial", serial);
        out_str(o, "version", ver);
        out_u64(o, "cluster_size", ni.cluster_size);
        out_u64(o, "mft_record_size", ni.mft_record_size);
        out_bytes(o, "size", ni.total_clu * ni.cluster_size);
        out_bytes(o, "used", (ni.total_clu - ni.free_clu) * ni.cluster_size);
        out_bytes(o, "free", ni.free_clu * ni.cluster_size);
        out_bool(o, "hibernated", ni.hibernated);
        out_bool(o, "dirty", ni.dirty);
        out_bool(o, "logfile_unclean", ni.logfile_unclean);
        out_bool(o, "windows", vk_ntfs_is_windows(vol));
    }
    out_close(o);
    vk_ntfs_unmount(vol, NULL);
    vk_dev_close(win);
}

static void print_part(struct out *o, vk_dev *disk, const vk_part *p, uint32_t block_size, bool gpt)
{
    char code[40];
    out_object(o, NULL);
    out_u64(o, "number", p->number);
    out_str(o, "type", p->type_name ? p->type_name : "unknown");
    if (gpt)
        vk_guid_format(p->type_guid, code);
    else
        snprintf(code, sizeof code, "0x%02x", p->mbr_type);
    out_str(o, "type_code", code);
    if (gpt) {
        vk_guid_format(p->uuid, code);
        out_str(o, "guid", code);
        out_str(o, "name", p->name);
        out_hex(o, "attributes", p->attrs);
    } else {
        out_bool(o, "bootable", p->flags & VK_PART_BOOTABLE);
        out_str(o, "kind", p->flags & VK_PART_CONTAINER ? "extended" : p->flags & VK_PART_LOGICAL ? "logical"
                           : p->flags & VK_PART_WHOLE_DISK ? "whole disk" : "primary");
    }
    out_u64(o, "start_lba", p->start_lba);
    out_bytes(o, "start", p->start_off);
    out_u64(o, "sectors", p->nsec);
    out_bytes(o, "length", p->len);
    out_object(o, "aligned");
    out_bool(o, "4k", vk_part_aligned(p, 4096));
    out_bool(o, "1m", vk_part_aligned(p, MIB));
    if (block_size)
        out_bool(o, "vhd_block", vk_part_aligned(p, block_size));
    out_close(o);
    if (!(p->flags & VK_PART_CONTAINER))
        print_ntfs(o, disk, p);
    out_close(o);
}

void print_partitions(struct out *o, vk_dev *disk, uint32_t block_size)
{
    vk_part_table t;
    vk_error err = {0};
    out_object(o, "partitions");
    if (vk_part_read(disk, &t, &err)) {
        /* The image itself may be fine: show why the table cannot be used instead of failing info. */
        char msg[VK_ERR_MSG_MAX + VK_ERR_FILE_MAX + 64];
        vk_error_format(&err, msg, sizeof msg);
        out_str(o, "error", msg);
        out_close(o);
        return;
    }
    bool gpt = t.scheme == VK_PART_SCHEME_GPT;
    out_str(o, "scheme", scheme_name(t.scheme));
    if (t.scheme == VK_PART_SCHEME_MBR) {
        out_hex(o, "disk_signature", t.disk_signature);
    } else if (gpt) {
        char g[37];
        vk_guid_format(t.disk_guid, g);
        out_str(o, "disk_guid", g);
        out_bool(o, "protective_mbr", t.protective_mbr);
        out_bool(o, "hybrid_mbr", t.hybrid_mbr);
        out_bool(o, "backup_gpt_used", t.gpt_backup_used);
    }
    if (t.nwarn) {
        out_array(o, "warnings");
        for (unsigned i = 0; i < t.nwarn && i < VK_PART_WARN_MAX; i++)
            out_str(o, NULL, t.warnings[i]);
        out_close(o);
    }
    out_array(o, "entries");
    for (unsigned i = 0; i < t.count; i++)
        print_part(o, disk, &t.parts[i], block_size, gpt);
    out_close(o);
    out_close(o);
    vk_part_table_free(&t);
}
