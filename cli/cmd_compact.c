/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit compact: give back the blocks and sectors of a dynamic or differencing image that no file uses. */
#include <stdio.h>

#include "cli.h"
#include "vhdkit/ops.h"

const struct opt opts_compact[] = {
    {"output", 'o', "OUT", "write a new packed image OUT instead of compacting in place"},
    {"dry-run", 'n', NULL, "report what would be freed, write nothing"},
    {"discard-pagefile", 0, NULL, "count the clusters of pagefile.sys and swapfile.sys as unused"},
    {"force-parent", 0, NULL, "compact in place even though an image beside it names it as its parent"},
    {NULL, 0, NULL, NULL},
};

static void print_json(struct out *o, const char *path, const struct vk_compact_opts *co,
                       const struct vk_compact_result *r)
{
    out_begin(o);
    out_str(o, "image", path);
    out_str(o, "mode", co->flags & VK_COMPACT_DRY_RUN ? "dry-run" : co->output ? "output" : "in-place");
    if (co->output)
        out_str(o, "output", co->output);
    out_u64(o, "block_size", r->block_size);
    out_u64(o, "file_size_before", r->file_size_before);
    out_u64(o, "file_size_after", r->file_size_after);
    out_u64(o, "blocks_before", r->blocks_before);
    out_u64(o, "blocks_after", r->blocks_after);
    out_u64(o, "blocks_moved", r->blocks_moved);
    out_u64(o, "ntfs_volumes", r->volumes);
    out_object(o, "freed");
    for (int k = 0; k < VK_COMPACT_NREASONS; k++) {
        out_object(o, vk_compact_reason_name((enum vk_compact_reason)k));
        out_u64(o, "bytes", r->freed_bytes[k]);
        out_u64(o, "blocks", r->freed_blocks[k]);
        out_close(o);
    }
    out_close(o);
    out_array(o, "kept");
    for (unsigned k = 0; k < r->nkept; k++) {
        out_object(o, NULL);
        out_u64(o, "offset", r->kept[k].off);
        out_u64(o, "length", r->kept[k].len);
        out_str(o, "what", r->kept[k].what);
        out_close(o);
    }
    out_close(o);
    out_u64(o, "milliseconds", (uint64_t)(r->seconds * 1000 + 0.5));
    out_end(o);
}

static void print_text(const char *path, const struct vk_compact_opts *co, const struct vk_compact_result *r)
{
    char before[32], after[32], b[32];
    format_size(r->file_size_before, before, sizeof before);
    format_size(r->file_size_after, after, sizeof after);
    bool dry = co->flags & VK_COMPACT_DRY_RUN;
    printf("%s: %s%s%s: %s -> %s%s, blocks %llu -> %llu", path, dry ? "dry run" : "compacted",
           co->output ? " into " : "", co->output ? co->output : "", before, after, dry ? " (estimate)" : "",
           (unsigned long long)r->blocks_before, (unsigned long long)r->blocks_after);
    if (!dry && !co->output)
        printf(" (%llu moved)", (unsigned long long)r->blocks_moved);
    printf(", %.2f s\n", r->seconds);
    for (int k = 0; k < VK_COMPACT_NREASONS; k++) {
        format_size(r->freed_bytes[k], b, sizeof b);
        printf("  %s %-8s %s in stored sectors, %llu block%s dropped\n", dry ? "would free" : "freed",
               vk_compact_reason_name((enum vk_compact_reason)k), b, (unsigned long long)r->freed_blocks[k],
               r->freed_blocks[k] == 1 ? "" : "s");
    }
    printf("  NTFS volumes mapped: %u\n", r->volumes);
    for (unsigned k = 0; k < r->nkept; k++) {
        format_size(r->kept[k].len, b, sizeof b);
        printf("  kept as is (zero blocks only): %s at offset %llu, %s\n", r->kept[k].what,
               (unsigned long long)r->kept[k].off, b);
    }
}

int cmd_compact(struct ctx *c)
{
    struct vk_compact_opts co = {.output = arg_str(&c->args, "output")};
    if (arg_has(&c->args, "dry-run"))
        co.flags |= VK_COMPACT_DRY_RUN;
    if (arg_has(&c->args, "discard-pagefile"))
        co.flags |= VK_COMPACT_DISCARD_PAGEFILE;
    if (arg_has(&c->args, "force-parent"))
        co.flags |= VK_COMPACT_FORCE_PARENT;
    struct progress p;
    progress_begin(&p, "compacting", 0);
    co.progress = progress_cb;
    co.progress_ctx = &p;
    struct vk_compact_result r;
    vk_error err = {0};
    int rc = vk_compact(c->args.pos[0], &co, &r, &err);
    progress_end(&p);
    if (rc)
        return report_error(&err);
    struct out o;
    out_init(&o, stdout, c->json);
    if (c->json)
        print_json(&o, c->args.pos[0], &co, &r);
    else
        print_text(c->args.pos[0], &co, &r);
    return 0;
}
