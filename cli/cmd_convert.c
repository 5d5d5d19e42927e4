/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit convert: copy a raw or VHD image (with its chain) into a new fixed, dynamic or raw image. */
#include <string.h>

#include "cli.h"
#include "vhdkit/ops.h"

const struct opt opts_convert[] = {
    {"type", 't', "fixed|dynamic|raw", "type of the new image (default dynamic)"},
    {"block-size", 'b', "B", "dynamic: block size, a power of two (default 2M)"},
    {"fill", 0, "allocate|sparse|zero", "fixed: how the data area is reserved (default allocate)"},
    {"azure", 0, NULL, "fixed disk Azure accepts (implies --type fixed)"},
    {NULL, 0, NULL, NULL},
};

int cmd_convert(struct ctx *c)
{
    struct vk_convert_opts co = {.type = VK_CONVERT_DYNAMIC, .fill = VK_FILL_ALLOCATE};
    const char *type = arg_str(&c->args, "type");
    if (type && !strcmp(type, "fixed"))
        co.type = VK_CONVERT_FIXED;
    else if (type && !strcmp(type, "raw"))
        co.type = VK_CONVERT_RAW;
    else if (type && strcmp(type, "dynamic"))
        return usage_error(c->cmd->name, "--type must be fixed, dynamic or raw, not '%s'", type);
    int rc = arg_block_size(c, &co.block_size);
    if (!rc)
        rc = arg_fill(c, &co.fill);
    if (rc)
        return rc;
    co.azure = arg_has(&c->args, "azure");
    if (co.azure) {
        if (type && co.type != VK_CONVERT_FIXED)
            return usage_error(c->cmd->name, "--azure needs --type fixed");
        co.type = VK_CONVERT_FIXED;
    }
    struct progress p;
    progress_begin(&p, "converting", 0);
    co.progress = progress_cb;
    co.progress_ctx = &p;
    struct vk_convert_result res;
    vk_error err = {0};
    rc = vk_convert(c->args.pos[0], c->args.pos[1], &co, &res, &err);
    progress_end(&p);
    if (rc)
        return report_error(&err);
    struct out o;
    out_init(&o, stdout, c->json);
    if (c->json) {
        out_begin(&o);
        out_str(&o, "source", c->args.pos[0]);
        out_str(&o, "destination", c->args.pos[1]);
        out_str(&o, "type", co.type == VK_CONVERT_FIXED ? "fixed" : co.type == VK_CONVERT_RAW ? "raw" : "dynamic");
        out_u64(&o, "virtual_size", res.virtual_size);
        out_u64(&o, "bytes_read", res.bytes_read);
        out_u64(&o, "bytes_written", res.bytes_written);
        out_u64(&o, "bytes_skipped", res.bytes_skipped);
        out_str(&o, "note", res.note);
        out_end(&o);
    } else {
        char vs[32], wr[32];
        format_size(res.virtual_size, vs, sizeof vs);
        format_size(res.bytes_written, wr, sizeof wr);
        printf("converted %s to %s: virtual size %s, %s of data written\n", c->args.pos[0], c->args.pos[1], vs, wr);
        if (res.note[0])
            printf("note: %s\n", res.note);
    }
    return 0;
}
