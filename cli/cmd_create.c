/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit create: a new fixed or dynamic VHD (dynamic by default, as qemu-img's vpc driver). */
#include <string.h>

#include "cli.h"
#include "vhdkit/vhd.h"

const struct opt opts_create[] = {
    {"type", 't', "fixed|dynamic", "image type (default dynamic)"},
    {"block-size", 'b', "B", "dynamic: block size, a power of two (default 2M)"},
    {"fill", 0, "allocate|sparse|zero", "fixed: how the data area is reserved (default allocate)"},
    {"creator", 0, "C", "creator application, up to 4 characters (e.g. \"win \"); decides CHS or current size"},
    {"azure", 0, NULL, "fixed disk Azure accepts: virtual size rounded up to a whole MiB"},
    {NULL, 0, NULL, NULL},
};

static const char *fill_name(enum vk_vhd_fill f)
{
    return f == VK_FILL_ALLOCATE ? "allocate" : f == VK_FILL_SPARSE ? "sparse" : "zero";
}

static const char *type_name(enum vk_vhd_type t)
{
    return t == VK_VHD_FIXED ? "fixed" : t == VK_VHD_DYNAMIC ? "dynamic" : "differencing";
}

void print_created(struct ctx *c, const char *path, int type, const struct vk_vhd_create_result *r)
{
    struct out o;
    out_init(&o, stdout, c->json);
    if (!c->json) {
        char vs[32];
        format_size(r->virtual_size, vs, sizeof vs);
        printf("created %s: %s VHD, virtual size %llu bytes (%s), file %llu bytes", path, type_name(type),
               (unsigned long long)r->virtual_size, vs, (unsigned long long)r->file_size);
        if (type == VK_VHD_FIXED)
            printf(", %s", fill_name(r->fill_used));
        printf("\n");
        if (r->note[0])
            printf("note: %s\n", r->note);
        return;
    }
    out_begin(&o);
    out_str(&o, "image", path);
    out_str(&o, "type", type_name(type));
    out_u64(&o, "virtual_size", r->virtual_size);
    out_u64(&o, "file_size", r->file_size);
    if (type == VK_VHD_FIXED)
        out_str(&o, "fill", fill_name(r->fill_used));
    out_str(&o, "note", r->note);
    out_end(&o);
}

int cmd_create(struct ctx *c)
{
    const char *path = c->args.pos[0];
    struct vk_vhd_create_opts co = {.type = VK_VHD_DYNAMIC, .fill = VK_FILL_ALLOCATE};
    if (parse_size(c->args.pos[1], &co.size) < 0)
        return usage_error(c->cmd->name, "'%s' is not a size (bytes, 0x hex, or a number with K, M, G, T)",
                           c->args.pos[1]);
    const char *type = arg_str(&c->args, "type");
    if (type && !strcmp(type, "fixed"))
        co.type = VK_VHD_FIXED;
    else if (type && strcmp(type, "dynamic"))
        return usage_error(c->cmd->name, "--type must be fixed or dynamic, not '%s'", type);
    int rc = arg_block_size(c, &co.block_size);
    if (!rc)
        rc = arg_fill(c, &co.fill);
    if (rc)
        return rc;
    const char *creator = arg_str(&c->args, "creator");
    if (creator) {
        size_t n = strlen(creator);
        if (n == 0 || n > 4)
            return usage_error(c->cmd->name, "--creator takes 1 to 4 characters");
        memset(co.creator_app, 0, sizeof co.creator_app); /* shorter names are NUL padded, as "tap\0" */
        memcpy(co.creator_app, creator, n);
    }
    co.azure = arg_has(&c->args, "azure");
    if (co.azure && co.type != VK_VHD_FIXED) {
        if (type)
            return usage_error(c->cmd->name, "--azure needs a fixed disk");
        co.type = VK_VHD_FIXED;
    }
    struct vk_vhd_create_result res = {0};
    vk_error err = {0};
    if (vk_vhd_create(path, &co, &res, &err))
        return report_error(&err);
    print_created(c, path, co.type, &res);
    return 0;
}
