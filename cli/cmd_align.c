/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit align: report partitions that do not start on a boundary (exit 1 when any), or move them there (--fix). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "vhdkit/ops.h"
#include "vhdkit/part.h"

const struct opt opts_align[] = {
    {"to", 't', "B", "the boundary: 1M (default), 2M or any multiple of 4096 bytes"},
    {"fix", 0, NULL, "move every misaligned partition to the next boundary and fix what remembers the old place"},
    {"output", 'o', "OUT", "with --fix: write a new image OUT instead of moving in place"},
    {"dry-run", 'n', NULL, "with --fix: show what would move, write nothing"},
    {"no-copy", 0, NULL, "with --fix on a raw or fixed image: move inside the file (journaled, no room needed) "
                         "even when a copy beside it would fit"},
    {NULL, 0, NULL, NULL},
};

static const char *scheme_name(int s)
{
    return s == VK_PART_SCHEME_MBR ? "mbr" : s == VK_PART_SCHEME_GPT ? "gpt" : "none";
}

static const char *type_name(const struct vk_align_report *r)
{
    if (!r->is_vhd)
        return "raw";
    return r->type == VK_VHD_FIXED ? "fixed" : r->type == VK_VHD_DYNAMIC ? "dynamic" : "differencing";
}

static void print_json(struct out *o, const char *path, const struct vk_align_report *r)
{
    out_begin(o);
    out_str(o, "image", path);
    out_str(o, "type", type_name(r));
    out_str(o, "scheme", scheme_name(r->scheme));
    out_u64(o, "disk_size", r->disk_size);
    out_u64(o, "block_size", r->block_size);
    out_u64(o, "boundary", r->target);
    out_array(o, "partitions");
    for (unsigned i = 0; i < r->count; i++) {
        const struct vk_align_part *p = &r->parts[i];
        out_object(o, NULL);
        out_u64(o, "number", p->number);
        out_str(o, "type", p->type_name ? p->type_name : "");
        out_bool(o, "container", p->flags & VK_PART_CONTAINER);
        out_bool(o, "logical", p->flags & VK_PART_LOGICAL);
        out_u64(o, "start", p->start_off);
        out_u64(o, "start_lba", p->start_off / VK_SECTOR_SIZE);
        out_u64(o, "length", p->len);
        out_bool(o, "aligned_4k", p->aligned_4k);
        out_bool(o, "aligned_1m", p->aligned_1m);
        out_bool(o, "aligned_block", p->aligned_block);
        out_bool(o, "aligned", p->aligned_to);
        out_bool(o, "ntfs", p->ntfs);
        if (p->ntfs) {
            out_u64(o, "cluster_size", p->cluster_size);
            out_u64(o, "clusters", p->clusters);
            out_u64(o, "hidden_sectors", p->hidden_sectors);
            out_bool(o, "clusters_aligned_4k", p->clusters_4k);
            out_u64(o, "clusters_split_4k", p->split_4k);
            out_u64(o, "clusters_split_block", p->split_block);
        }
        out_close(o);
    }
    out_close(o);
    out_u64(o, "misaligned", r->misaligned);
    out_bool(o, "all_aligned", r->misaligned == 0);
    out_end(o);
}

static void print_text(const char *path, const struct vk_align_report *r)
{
    char b[32], bs[32];
    format_size(r->target, b, sizeof b);
    format_size(r->block_size, bs, sizeof bs);
    printf("%s: %s, %s partition table, boundary %s%s%s\n", path, type_name(r), scheme_name(r->scheme), b,
           r->block_size ? ", VHD block " : "", r->block_size ? bs : "");
    printf("%-4s %12s %14s %-4s %-4s %-5s %-7s %8s %12s %12s\n", "part", "start LBA", "length", "4K", "1M", "block",
           "aligned", "cluster", "split 4K", "split block");
    for (unsigned i = 0; i < r->count; i++) {
        const struct vk_align_part *p = &r->parts[i];
        format_size(p->len, b, sizeof b);
        printf("%-4u %12llu %14s %-4s %-4s %-5s %-7s", p->number, (unsigned long long)(p->start_off / VK_SECTOR_SIZE),
               b, p->aligned_4k ? "yes" : "no", p->aligned_1m ? "yes" : "no", p->aligned_block ? "yes" : "no",
               p->flags & VK_PART_CONTAINER ? "(ext)" : p->aligned_to ? "yes" : "NO");
        if (p->ntfs)
            printf(" %8u %12llu %12llu", p->cluster_size, (unsigned long long)p->split_4k,
                   (unsigned long long)p->split_block);
        printf("\n");
    }
    if (r->misaligned)
        printf("%u partition%s not on the boundary: 'vhdkit align --fix' moves %s\n", r->misaligned,
               r->misaligned == 1 ? "" : "s", r->misaligned == 1 ? "it" : "them");
    else
        printf("all partitions aligned\n");
}

static const char *method_name(enum vk_align_method m)
{
    switch (m) {
    case VK_ALIGN_BY_OUTPUT: return "output";
    case VK_ALIGN_BY_JOURNAL: return "journal";
    case VK_ALIGN_BY_BLOCKS: return "blocks";
    case VK_ALIGN_BY_COPY: return "copy";
    default: return "none";
    }
}

static void print_fix(struct out *o, const char *path, const struct vk_align_opts *ao, const struct vk_align_result *r)
{
    const struct vk_align_report *b = &r->before;
    bool dry = ao->flags & VK_ALIGN_DRY_RUN;
    const char *mode = dry ? "dry-run" : ao->output ? "output" : "in-place";
    if (o->json) {
        out_begin(o);
        out_str(o, "image", path);
        out_str(o, "mode", mode);
        if (ao->output)
            out_str(o, "output", ao->output);
        out_u64(o, "boundary", b->target);
        out_bool(o, "resumed", r->resumed);
        out_str(o, "method", method_name(r->method));
        out_array(o, "partitions");
        for (unsigned i = 0; i < b->count; i++) {
            out_object(o, NULL);
            out_u64(o, "number", b->parts[i].number);
            out_bool(o, "container", b->parts[i].flags & VK_PART_CONTAINER);
            out_u64(o, "old_start", b->parts[i].start_off);
            out_u64(o, "new_start", b->parts[i].new_start_off);
            out_u64(o, "length", b->parts[i].len);
            out_bool(o, "moved", b->parts[i].new_start_off != b->parts[i].start_off);
            out_close(o);
        }
        out_close(o);
        out_u64(o, "moved", r->moved);
        out_u64(o, "bytes_moved", r->bytes_moved);
        out_u64(o, "old_disk_size", r->old_disk_size);
        out_u64(o, "new_disk_size", r->new_disk_size);
        out_u64(o, "boot_sectors", r->boot_sectors);
        out_u64(o, "mounted_devices", r->mounted_devices);
        out_u64(o, "bcd_elements", r->bcd_elements);
        out_u64(o, "milliseconds", (uint64_t)(r->seconds * 1000 + 0.5));
        out_end(o);
        return;
    }
    printf("%s: %s%s%s%s\n", path, dry ? "dry run" : r->moved ? "aligned" : "nothing to move",
           ao->output ? " into " : "", ao->output ? ao->output : "", r->resumed ? " (resumed an interrupted run)" : "");
    for (unsigned i = 0; i < b->count; i++) {
        const struct vk_align_part *p = &b->parts[i];
        if (p->new_start_off == p->start_off && !(p->flags & VK_PART_CONTAINER))
            continue;
        printf("  partition %u%s: LBA %llu -> %llu\n", p->number, p->flags & VK_PART_CONTAINER ? " (extended)" : "",
               (unsigned long long)(p->start_off / VK_SECTOR_SIZE), (unsigned long long)(p->new_start_off / VK_SECTOR_SIZE));
    }
    if (r->new_disk_size != r->old_disk_size)
        printf("  disk grows from %llu to %llu bytes\n", (unsigned long long)r->old_disk_size,
               (unsigned long long)r->new_disk_size);
    if (r->method == VK_ALIGN_BY_COPY)
        printf("  written once as a copy beside the image, renamed over it\n");
    else if (r->method == VK_ALIGN_BY_JOURNAL)
        printf("  moved inside the file in journaled rounds\n");
    else if (r->method == VK_ALIGN_BY_BLOCKS)
        printf("  blocks rebuilt in free slots of the file\n");
    if (!dry)
        printf("  %u NTFS boot sectors, %u MountedDevices values, %u BCD elements updated; %.2f s\n", r->boot_sectors,
               r->mounted_devices, r->bcd_elements, r->seconds);
}

static int cmd_fix(struct ctx *c, uint64_t to)
{
    struct vk_align_opts ao = {.target = to, .output = arg_str(&c->args, "output")};
    if (arg_has(&c->args, "dry-run"))
        ao.flags |= VK_ALIGN_DRY_RUN;
    if (arg_has(&c->args, "no-copy"))
        ao.flags |= VK_ALIGN_NO_COPY;
    struct vk_align_result *r = calloc(1, sizeof *r);
    if (!r)
        return usage_error(NULL, "out of memory");
    vk_error err = {0};
    int rc = vk_align_fix(c->args.pos[0], &ao, r, &err);
    if (!rc) {
        struct out o;
        out_init(&o, stdout, c->json);
        print_fix(&o, c->args.pos[0], &ao, r);
    } else {
        rc = report_error(&err);
    }
    free(r);
    return rc;
}

int cmd_align(struct ctx *c)
{
    uint64_t to = VK_ALIGN_DEFAULT_TO;
    int rc = arg_size(&c->args, "to", &to);
    if (rc)
        return rc;
    if (!to || to % 4096)
        return usage_error("align", "--to must be a multiple of 4096 bytes");
    if (arg_has(&c->args, "fix"))
        return cmd_fix(c, to);
    if (arg_has(&c->args, "output") || arg_has(&c->args, "dry-run") || arg_has(&c->args, "no-copy"))
        return usage_error("align", "-o, --dry-run and --no-copy go with --fix");
    struct vk_align_report *r = calloc(1, sizeof *r);
    if (!r)
        return usage_error(NULL, "out of memory");
    vk_error err = {0};
    const char *path = c->args.pos[0];
    if (vk_align_scan(path, to, r, &err)) {
        free(r);
        return report_error(&err);
    }
    struct out o;
    out_init(&o, stdout, c->json);
    if (c->json)
        print_json(&o, path, r);
    else
        print_text(path, r);
    rc = r->misaligned ? EXIT_PROBLEMS : EXIT_OK;
    free(r);
    return rc;
}
