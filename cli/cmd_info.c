/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit info: what an image is and what each consumer (Virtual PC, Hyper-V, qemu, Azure) makes of it; the chain. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vhd/format.h"
#include "vhdkit/vhd.h"

const struct opt opts_info[] = {
    {NULL, 0, NULL, NULL},
};

#define MIB (UINT64_C(1) << 20)

/* UUIDs are printed in the byte order stored in the file, 8-4-4-4-12, as qemu writes them and libvhdi's vhdiinfo
 * prints them (Windows shows the first three groups byte-swapped, as GUID fields). */
static void format_uuid(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
             u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static void format_time(int64_t unix_time, char out[32])
{
    time_t t = (time_t)unix_time;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%lld", (long long)unix_time);
}

static const char *type_name(enum vk_vhd_type t)
{
    return t == VK_VHD_FIXED ? "fixed" : t == VK_VHD_DYNAMIC ? "dynamic" : t == VK_VHD_DIFF ? "differencing" : "unknown";
}

/* The size qemu 7.x/8.x gives the disk (block/vpc.c vpc_open): CHS unless the creator is one of five that trust the
 * current size, or the geometry is maximal. Newer qemu trusts the current size for every creator but "vpc " and
 * "qemu"; that is vhdkit's own table (lib/vhd/creator.c). */
static uint64_t qemu_size(const struct vk_vhd_info *in)
{
    static const char current[][4] = {{'w', 'i', 'n', ' '}, {'q', 'e', 'm', '2'}, {'d', '2', 'v', ' '},
                                      {'C', 'T', 'X', 'S'}, {'t', 'a', 'p', '\0'}};
    bool use_chs = true;
    for (size_t i = 0; i < sizeof current / sizeof current[0]; i++)
        if (!memcmp(in->creator_app, current[i], 4))
            use_chs = false;
    if (in->chs_size == VHD_MAX_CHS_SECTORS * 512)
        use_chs = false;
    return use_chs ? in->chs_size : in->current_size;
}

/* Azure takes fixed disks whose size is a whole MiB between 20 MiB and 32 TiB (VHD-NOTES.md item 7). */
static const char *azure_refusal(const struct vk_vhd_info *in)
{
    if (in->type != VK_VHD_FIXED)
        return "not a fixed disk";
    if (in->current_size % MIB)
        return "size is not a whole number of MiB";
    if (in->current_size < 20 * MIB)
        return "smaller than 20 MiB";
    if (in->current_size > (UINT64_C(32) << 40))
        return "larger than 32 TiB";
    return NULL;
}

static void print_sizes(struct out *o, const struct vk_vhd_info *in)
{
    out_bytes(o, "virtual_size", in->virtual_size);
    out_str(o, "size_from", in->size_from_chs ? "geometry (CHS)" : "current size");
    out_bytes(o, "current_size", in->current_size);
    out_bytes(o, "original_size", in->original_size);
    out_object(o, "geometry");
    out_u64(o, "cylinders", in->cylinders);
    out_u64(o, "heads", in->heads);
    out_u64(o, "sectors_per_track", in->sectors_per_track);
    out_bytes(o, "bytes", in->chs_size);
    out_close(o);
    /* Who sees what when the geometry and the current size disagree. */
    out_object(o, "seen_by");
    out_bytes(o, "virtual_pc", in->chs_size);
    out_bytes(o, "hyper_v", in->current_size);
    out_bytes(o, "qemu", qemu_size(in));
    out_bytes(o, "azure", in->current_size);
    const char *why = azure_refusal(in);
    out_bool(o, "azure_accepts", why == NULL);
    if (why)
        out_str(o, "azure_refuses_because", why);
    out_close(o);
}

static void print_creator(struct out *o, const struct vk_vhd_info *in)
{
    char app[5], osname[5], ver[16];
    /* Printable form: NUL padding ("tap\0", "wa\0\0") shown as spaces are not; keep only the printable prefix. */
    for (int i = 0; i < 5; i++) {
        app[i] = (i < 4 && in->creator_app[i] >= 0x20 && in->creator_app[i] < 0x7f) ? in->creator_app[i] : 0;
        osname[i] = (i < 4 && in->creator_os[i] >= 0x20 && in->creator_os[i] < 0x7f) ? in->creator_os[i] : 0;
    }
    const struct vhd_creator *cr = vhd_creator_lookup((const uint8_t *)in->creator_app);
    snprintf(ver, sizeof ver, "%u.%u", (unsigned)(in->creator_version >> 16), (unsigned)(in->creator_version & 0xffff));
    out_object(o, "creator");
    out_str(o, "app", app);
    out_str(o, "name", cr ? cr->name : "unknown");
    out_str(o, "version", ver);
    out_str(o, "os", osname);
    out_close(o);
}

static void print_chain(struct out *o, vk_vhd *vhd, const struct vk_vhd_info *top)
{
    out_array(o, "chain");
    struct vk_vhd_info info = *top;
    vk_vhd *cur = vhd;
    while (cur && info.type == VK_VHD_DIFF) {
        char uuid[37];
        out_object(o, NULL);
        out_str(o, "parent_name", info.parent_name);
        format_uuid(info.parent_uuid, uuid);
        out_str(o, "expected_uuid", uuid);
        out_bool(o, "found", info.parent.found);
        if (info.parent.found) {
            out_str(o, "path", info.parent.path);
            out_bool(o, "uuid_match", info.parent.uuid_match);
        } else {
            out_array(o, "tried");
            for (int i = 0; i < info.tried_count && i < 8; i++)
                out_str(o, NULL, info.tried[i]);
            out_close(o);
        }
        out_close(o);
        cur = vk_vhd_parent(cur);
        if (!cur || vk_vhd_get_info(cur, &info))
            break;
    }
    out_close(o);
}

static int info_raw(struct out *o, const char *path, vk_dev *dev)
{
    out_begin(o);
    out_str(o, "image", path);
    out_str(o, "type", "raw");
    out_bytes(o, "virtual_size", dev->size);
    out_bytes(o, "file_size", dev->size);
    print_partitions(o, dev, 0);
    out_end(o);
    return 0;
}

/* Opens the whole chain; when the chain is broken (a parent missing, a loop, too deep), the image alone so the
 * links can be shown, with why the chain did not open in `chain_problem` (else ""). */
static int open_image(const char *path, vk_dev **dev, vk_vhd **vhd, char *chain_problem, size_t cap, vk_error *err)
{
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_TOLERANT};
    chain_problem[0] = 0;
    int rc = vk_image_open(path, &oo, dev, vhd, err);
    if (rc != VK_E_CHAIN)
        return rc;
    vk_error_format(err, chain_problem, cap);
    oo.flags |= VK_VHD_NO_PARENT;
    vk_error_clear(err);
    return vk_image_open(path, &oo, dev, vhd, err);
}

int cmd_info(struct ctx *c)
{
    const char *path = c->args.pos[0];
    vk_error err = {0};
    vk_dev *dev = NULL;
    vk_vhd *vhd = NULL;
    char chain_problem[VK_ERR_MSG_MAX + VK_ERR_FILE_MAX + 64];
    if (open_image(path, &dev, &vhd, chain_problem, sizeof chain_problem, &err))
        return report_error(&err);
    struct out o;
    out_init(&o, stdout, c->json);
    if (!vhd) {
        info_raw(&o, path, dev);
        vk_dev_close(dev);
        return 0;
    }
    struct vk_vhd_info in;
    vk_vhd_get_info(vhd, &in);
    char uuid[37], ts[32];
    out_begin(&o);
    out_str(&o, "image", path);
    out_str(&o, "type", type_name(in.type));
    print_sizes(&o, &in);
    print_creator(&o, &in);
    format_uuid(in.uuid, uuid);
    out_str(&o, "uuid", uuid);
    format_time(in.timestamp_unix, ts);
    out_str(&o, "timestamp", ts);
    out_bool(&o, "saved_state", in.saved_state != 0);
    out_hex(&o, "features", in.features);
    out_bool(&o, "footer_checksum_ok", in.footer_checksum_ok);
    out_bool(&o, "footer_from_copy", in.footer_from_copy);
    if (in.type != VK_VHD_FIXED) {
        out_bytes(&o, "block_size", in.block_size);
        out_u64(&o, "blocks_allocated", in.blocks_allocated);
        out_u64(&o, "blocks_total", in.max_table_entries);
        out_hex(&o, "bat_offset", in.bat_offset);
        out_bool(&o, "header_checksum_ok", in.header_checksum_ok);
    }
    out_bytes(&o, "file_size", in.file_size);
    if (in.type == VK_VHD_DIFF) {
        format_time(in.parent_timestamp_unix, ts);
        out_str(&o, "parent_timestamp", ts);
        print_chain(&o, vhd, &in);
        if (chain_problem[0])
            out_str(&o, "chain_problem", chain_problem);
    }
    print_partitions(&o, dev, in.type != VK_VHD_FIXED ? in.block_size : 0);
    out_end(&o);
    vk_dev_close(dev);
    return 0;
}
