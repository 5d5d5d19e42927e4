/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit diff A B: the files that differ between the NTFS volumes of two images (the library walks and compares,
 * this only prints): one line per path with a marker (+ added, - removed, M changed) and what changed, or JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vhdkit/diff.h"

int cmd_diff(struct ctx *c);
extern const struct opt opts_diff[];

const struct opt opts_diff[] = {
    {"part", 0, "N", "the partition of A (and of B unless --part-b) holding the volume (default: the Windows volume, "
                     "else the only NTFS one)"},
    {"part-b", 0, "N", "the partition of B"},
    {"path", 0, "P", "compare only this folder (or file) and what is under it"},
    {"no-content", 0, NULL, "metadata only: do not compare the bytes of same-size files"},
    {"all-times", 0, NULL, "also access and MFT change times, and folders' modification times"},
    {"read-all", 0, NULL, "read every same-size file, even those the two chains share (to measure the shortcut)"},
    {NULL, 0, NULL, NULL},
};

static void log_sink(void *ctx, enum vk_ntfs_log_level level, const char *msg)
{
    (void)ctx;
    if (level == VK_NTFS_LOG_WARNING)
        fprintf(stderr, "vhdkit: libntfs-3g: %s\n", msg);
}

static char marker(enum vk_diff_kind k) { return k == VK_DIFF_ADDED ? '+' : k == VK_DIFF_REMOVED ? '-' : 'M'; }

/* ", streams: +name (N bytes), -name, ~name (A -> B bytes)" */
static void text_streams(const struct vk_diff_entry *e)
{
    for (unsigned i = 0; i < e->nstreams; i++) {
        const struct vk_diff_stream *s = &e->streams[i];
        printf("%s%c%s", i ? ", " : "streams: ", s->kind == VK_DIFF_ADDED ? '+' : s->kind == VK_DIFF_REMOVED ? '-' : '~',
               s->name);
        if (s->kind == VK_DIFF_ADDED)
            printf(" (%" PRIu64 " bytes)", s->size_b);
        else if (s->kind == VK_DIFF_CHANGED && s->size_a != s->size_b)
            printf(" (%" PRIu64 " -> %" PRIu64 " bytes)", s->size_a, s->size_b);
        else if (s->kind == VK_DIFF_CHANGED)
            printf(" (content)");
    }
}

static void text_changed(const struct vk_diff_entry *e)
{
    const struct vk_diff_node *a = &e->a, *b = &e->b;
    const char *sep = "";
    char ta[40], tb[40];
    for (unsigned bit = 0; bit < VK_DIFF_NFIELDS; bit++) {
        unsigned f = 1u << bit;
        if (!(e->fields & f))
            continue;
        printf("%s", sep);
        sep = ", ";
        switch (f) {
        case VK_DIFF_F_TYPE:
            printf("type %s -> %s", vk_diff_type_name(a->type), vk_diff_type_name(b->type));
            break;
        case VK_DIFF_F_SIZE:
            printf("size %" PRIu64 " -> %" PRIu64, a->size, b->size);
            break;
        case VK_DIFF_F_ATTRS:
            printf("attributes 0x%" PRIx32 " -> 0x%" PRIx32, a->file_attrs, b->file_attrs);
            break;
        case VK_DIFF_F_LINKS:
            printf("links %u -> %u", a->nlink, b->nlink);
            break;
        case VK_DIFF_F_REPARSE:
            printf("reparse data %" PRIu64 " -> %" PRIu64 " bytes", a->reparse_size, b->reparse_size);
            break;
        case VK_DIFF_F_STREAMS:
            text_streams(e);
            break;
        case VK_DIFF_F_MTIME:
        case VK_DIFF_F_CRTIME:
        case VK_DIFF_F_ATIME:
        case VK_DIFF_F_CTIME: {
            int64_t x = f == VK_DIFF_F_MTIME ? a->times.mtime_ns : f == VK_DIFF_F_CRTIME ? a->times.crtime_ns
                        : f == VK_DIFF_F_ATIME ? a->times.atime_ns : a->times.ctime_ns;
            int64_t y = f == VK_DIFF_F_MTIME ? b->times.mtime_ns : f == VK_DIFF_F_CRTIME ? b->times.crtime_ns
                        : f == VK_DIFF_F_ATIME ? b->times.atime_ns : b->times.ctime_ns;
            format_ntfs_time(x, ta);
            format_ntfs_time(y, tb);
            printf("%s %s -> %s", vk_diff_field_name(bit), ta, tb);
            break;
        }
        default:
            printf("%s", vk_diff_field_name(bit));
        }
    }
}

static void json_node(struct out *o, const char *key, const struct vk_diff_node *n)
{
    out_object(o, key);
    out_str(o, "type", vk_diff_type_name(n->type));
    out_u64(o, "size", n->size);
    out_u64(o, "mft_record", n->mft);
    out_hex(o, "attributes", n->file_attrs);
    out_u64(o, "links", n->nlink);
    if (n->reparse_size)
        out_u64(o, "reparse_size", n->reparse_size);
    out_times(o, &n->times);
    out_close(o);
}

static void json_entry(struct out *o, const struct vk_diff_entry *e)
{
    out_object(o, NULL);
    out_str(o, "path", e->path);
    out_str(o, "change", vk_diff_kind_name(e->kind));
    out_str(o, "type", vk_diff_type_name(e->has_b ? e->b.type : e->a.type));
    if (e->kind == VK_DIFF_CHANGED) {
        out_array(o, "fields");
        for (unsigned bit = 0; bit < VK_DIFF_NFIELDS; bit++)
            if (e->fields & (1u << bit))
                out_str(o, NULL, vk_diff_field_name(bit));
        out_close(o);
    }
    if (e->content != VK_DIFF_C_NONE)
        out_str(o, "content", vk_diff_content_name(e->content));
    if (e->has_a)
        json_node(o, "a", &e->a);
    if (e->has_b)
        json_node(o, "b", &e->b);
    if (e->nstreams) {
        out_array(o, "streams");
        for (unsigned i = 0; i < e->nstreams; i++) {
            const struct vk_diff_stream *s = &e->streams[i];
            out_object(o, NULL);
            out_str(o, "name", s->name);
            out_str(o, "change", vk_diff_kind_name(s->kind));
            if (s->kind != VK_DIFF_ADDED)
                out_u64(o, "size_a", s->size_a);
            if (s->kind != VK_DIFF_REMOVED)
                out_u64(o, "size_b", s->size_b);
            if (s->content != VK_DIFF_C_NONE)
                out_str(o, "content", vk_diff_content_name(s->content));
            out_close(o);
        }
        out_close(o);
    }
    out_close(o);
}

static int print_entry(void *ctx, const struct vk_diff_entry *e)
{
    struct out *o = ctx;
    if (o->json) {
        json_entry(o, e);
        return 0;
    }
    const struct vk_diff_node *n = e->has_b ? &e->b : &e->a;
    printf("%c %s%s  ", marker(e->kind), e->path, n->type == VK_DIFF_DIR ? "/" : "");
    if (e->kind == VK_DIFF_CHANGED) {
        text_changed(e);
    } else {
        printf("%s", vk_diff_type_name(n->type));
        if (n->type != VK_DIFF_DIR)
            printf(", %" PRIu64 " bytes", n->size);
        if (e->nstreams) {
            printf(", ");
            text_streams(e);
        }
    }
    putchar('\n');
    return 0;
}

static int part_opt(struct ctx *c, const char *name, unsigned *part)
{
    const char *s = arg_str(&c->args, name);
    uint64_t n;
    if (!s)
        return 0;
    if (parse_size(s, &n) < 0 || n == 0 || n > 4096)
        return usage_error(c->cmd->name, "--%s takes a partition number (1, 2, ...), not '%s'", name, s);
    *part = (unsigned)n;
    return 0;
}

int cmd_diff(struct ctx *c)
{
    struct vk_diff_opts opts = {.path = arg_str(&c->args, "path"), .log = log_sink};
    int st = part_opt(c, "part", &opts.part_a);
    opts.part_b = opts.part_a;
    if (!st)
        st = part_opt(c, "part-b", &opts.part_b);
    if (st)
        return st;
    if (arg_has(&c->args, "no-content"))
        opts.flags |= VK_DIFF_NO_CONTENT;
    if (arg_has(&c->args, "all-times"))
        opts.flags |= VK_DIFF_ALL_TIMES;
    if (arg_has(&c->args, "read-all"))
        opts.flags |= VK_DIFF_NO_SHARED;
    const char *a = c->args.pos[0], *b = c->args.pos[1];
    struct out o;
    out_init(&o, stdout, c->json);
    if (c->json) {
        out_begin(&o);
        out_str(&o, "a", a);
        out_str(&o, "b", b);
        out_str(&o, "path", opts.path ? opts.path : "/");
        out_array(&o, "differences");
    }
    vk_error err = {0};
    struct vk_diff_result r;
    int rc = vk_diff(a, b, &opts, print_entry, &o, &r, &err);
    if (c->json) {
        out_close(&o);
        if (!rc) {
            out_u64(&o, "partition_a", r.part_a);
            out_u64(&o, "partition_b", r.part_b);
            out_str(&o, "common_ancestor", r.ancestor);
            out_u64(&o, "above_ancestor_a", r.above_a);
            out_u64(&o, "above_ancestor_b", r.above_b);
            out_u64(&o, "added", r.added);
            out_u64(&o, "removed", r.removed);
            out_u64(&o, "changed", r.changed);
            out_u64(&o, "entries_a", r.entries_a);
            out_u64(&o, "entries_b", r.entries_b);
            out_u64(&o, "streams_compared", r.streams_compared);
            out_u64(&o, "streams_shared", r.streams_shared);
            out_u64(&o, "streams_read", r.streams_read);
            out_u64(&o, "bytes_read", r.bytes_read);
        }
        out_end(&o);
    } else if (!rc) {
        printf("%" PRIu64 " added, %" PRIu64 " removed, %" PRIu64 " changed (of %" PRIu64 " and %" PRIu64
               " entries); content: %" PRIu64 " compared, %" PRIu64 " equal from shared clusters, %" PRIu64
               " read (%" PRIu64 " bytes)\n",
               r.added, r.removed, r.changed, r.entries_a, r.entries_b, r.streams_compared, r.streams_shared,
               r.streams_read, r.bytes_read);
    }
    if (rc)
        return report_error(&err);
    return r.added || r.removed || r.changed ? EXIT_PROBLEMS : EXIT_OK;
}
