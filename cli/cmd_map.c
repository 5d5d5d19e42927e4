/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit map: every VHD block's state (unallocated, used, partly used, free in the filesystem, zero, same as the
 * parent) and the files owning it, as text, JSON or an SVG picture; the totals are what compact --dry-run frees. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "map_svg.h"

const struct opt opts_map[] = {
    {"svg", 0, "FILE", "also draw the map as an SVG picture into FILE"},
    {"discard-pagefile", 0, NULL, "count pagefile.sys and swapfile.sys clusters as unused (as compact does)"},
    {"all", 'a', NULL, "text: list unallocated blocks too"},
    {NULL, 0, NULL, NULL},
};

struct mctx {
    struct out *o;
    bool json, all;
    struct map_svg *svg;
};

static void owners_json(struct out *o, const struct vk_map_block *b)
{
    out_u64(o, "owners_count", b->owners_count);
    out_array(o, "owners");
    for (unsigned i = 0; i < b->nowners; i++) {
        out_object(o, NULL);
        out_str(o, "path", b->owners[i].path);
        out_u64(o, "mft_record", b->owners[i].mft_record);
        out_u64(o, "partition", b->owners[i].partition);
        out_u64(o, "bytes", b->owners[i].bytes);
        out_close(o);
    }
    out_close(o);
}

static void block_text(const struct vk_map_block *b)
{
    printf("%8u  %-14s", b->block, vk_map_state_name(b->state));
    if (b->state != VK_MAP_UNALLOCATED)
        printf(" %5.1f%% used of %llu stored sectors", b->used_fraction * 100, (unsigned long long)b->stored_sectors);
    if (b->diff)
        printf(", parent stores %llu sectors", (unsigned long long)b->parent_sectors);
    for (unsigned i = 0; i < b->nowners; i++)
        printf("%s%s", i ? ", " : "  ", b->owners[i].path);
    if (b->owners_count > b->nowners)
        printf(" (+%llu more)", (unsigned long long)(b->owners_count - b->nowners));
    printf("\n");
}

static int on_block(void *ctx, const struct vk_map_block *b)
{
    struct mctx *m = ctx;
    if (m->svg)
        map_svg_add(m->svg, b);
    if (!m->json) {
        if (m->all || b->state != VK_MAP_UNALLOCATED || (b->diff && b->parent_sectors))
            block_text(b);
        return 0;
    }
    struct out *o = m->o;
    out_object(o, NULL);
    out_u64(o, "block", b->block);
    out_str(o, "state", vk_map_state_name(b->state));
    out_u64(o, "stored_sectors", b->stored_sectors);
    out_u64(o, "freeable_sectors", b->freeable_sectors);
    char frac[32];
    snprintf(frac, sizeof frac, "%.4f", b->used_fraction);
    out_str(o, "used_fraction", frac);
    if (b->diff)
        out_u64(o, "parent_sectors", b->parent_sectors);
    owners_json(o, b);
    out_close(o);
    return 0;
}

static void totals(struct out *o, const struct vk_map_result *r)
{
    out_object(o, "totals");
    out_object(o, "blocks_by_state");
    for (int k = 0; k < VK_MAP_NSTATES; k++)
        out_u64(o, vk_map_state_name((enum vk_map_state)k), r->state_blocks[k]);
    out_close(o);
    out_u64(o, "blocks_before", r->compact.blocks_before);
    out_u64(o, "blocks_after", r->compact.blocks_after);
    out_u64(o, "file_size_before", r->compact.file_size_before);
    out_u64(o, "file_size_after", r->compact.file_size_after);
    uint64_t bytes = 0;
    out_object(o, "freed");
    for (int k = 0; k < VK_COMPACT_NREASONS; k++) {
        out_object(o, vk_compact_reason_name((enum vk_compact_reason)k));
        out_u64(o, "bytes", r->compact.freed_bytes[k]);
        out_u64(o, "blocks", r->compact.freed_blocks[k]);
        out_close(o);
        bytes += r->compact.freed_bytes[k];
    }
    out_close(o);
    out_u64(o, "freeable_bytes", bytes);
    out_close(o);
}

static void header_text(const struct vk_map_result *r)
{
    printf("block     state          (block size %llu, %llu blocks)\n", (unsigned long long)r->block_size,
           (unsigned long long)r->blocks);
}

static void footer_text(const struct vk_map_result *r)
{
    printf("totals:");
    for (int k = 0; k < VK_MAP_NSTATES; k++)
        if (r->state_blocks[k])
            printf(" %s %llu", vk_map_state_name((enum vk_map_state)k), (unsigned long long)r->state_blocks[k]);
    printf("\ncompact would free:");
    for (int k = 0; k < VK_COMPACT_NREASONS; k++) {
        char b[32];
        format_size(r->compact.freed_bytes[k], b, sizeof b);
        printf(" %s %s (%llu blocks)", vk_compact_reason_name((enum vk_compact_reason)k), b,
               (unsigned long long)r->compact.freed_blocks[k]);
    }
    printf("\n");
}

int cmd_map(struct ctx *c)
{
    const char *image = c->args.pos[0], *svg_path = arg_str(&c->args, "svg");
    unsigned flags = arg_has(&c->args, "discard-pagefile") ? VK_COMPACT_DISCARD_PAGEFILE : 0;
    struct out o;
    out_init(&o, stdout, c->json);
    struct mctx m = {.o = &o, .json = c->json, .all = arg_has(&c->args, "all")};
    FILE *sf = NULL;
    if (svg_path && !(sf = fopen(svg_path, "w"))) {
        fprintf(stderr, "vhdkit: %s: cannot create the picture: %s\n", svg_path, strerror(errno));
        return EXIT_IO;
    }
    vk_error err = {0};
    struct vk_map_result r;
    /* The SVG needs the block count first: a throwaway result is not worth a second pass, so the picture is sized
     * from the image information. */
    vk_vhd *vhd = NULL;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_NO_PARENT};
    if (sf && !vk_vhd_open(image, &oo, &vhd, &err)) {
        struct vk_vhd_info vi;
        vk_vhd_get_info(vhd, &vi);
        m.svg = map_svg_new(vi.type == VK_VHD_FIXED ? 0 : vi.max_table_entries);
        vk_vhd_close(vhd);
    }
    vk_error_clear(&err);
    if (c->json) {
        out_begin(&o);
        out_str(&o, "image", image);
        out_array(&o, "blocks");
    }
    if (!c->json)
        printf("%s\n", image);
    int rc = vk_map(image, flags, on_block, &m, &r, &err);
    if (!rc && c->json) {
        out_close(&o);
        out_u64(&o, "block_size", r.block_size);
        out_u64(&o, "block_count", r.blocks);
        out_u64(&o, "virtual_size", r.virtual_size);
        out_array(&o, "partitions");
        for (unsigned i = 0; i < r.nparts; i++) {
            out_object(&o, NULL);
            out_u64(&o, "number", r.parts[i].number);
            out_u64(&o, "start_lba", r.parts[i].start_lba);
            out_u64(&o, "sectors", r.parts[i].nsec);
            out_str(&o, "type", r.parts[i].type);
            out_close(&o);
        }
        out_close(&o);
        totals(&o, &r);
        out_end(&o);
    } else if (!rc) {
        header_text(&r);
        footer_text(&r);
    }
    int st = rc ? report_error(&err) : 0;
    if (sf) {
        if (!rc && m.svg && map_svg_write(m.svg, sf, image, &r))
            st = EXIT_IO;
        if (fclose(sf) && !st) {
            fprintf(stderr, "vhdkit: %s: cannot write the picture\n", svg_path);
            st = EXIT_IO;
        }
        if (rc)
            remove(svg_path);
    }
    map_svg_free(m.svg);
    return st;
}
