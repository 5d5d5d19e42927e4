/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit dump: every on-disk field of a VHD (footer, dynamic header, locators, BAT, a block's sector bitmap) with its
 * file offset, raw bytes and decoded value (spec sections "Hard Disk Footer Format", "Dynamic Disk Header Format"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "core/bytes.h"
#include "core/checked.h"
#include "core/utf16.h"
#include "vhd/format.h"
#include "vhdkit/dev.h"

const struct opt opts_dump[] = {
    {"footer", 0, NULL, "the footer (default, with --header)"},
    {"header", 0, NULL, "the dynamic disk header (default, with --footer)"},
    {"locators", 0, NULL, "parent locators with their decoded paths"},
    {"bat", 0, NULL, "allocated BAT entries"},
    {"all", 'a', NULL, "with --bat: every entry, unallocated ones too"},
    {"bitmap", 0, "N", "the sector bitmap of block N"},
    {"mbr", 0, NULL, "inside the disk: the MBR and the EBR chain (instead of the VHD structures)"},
    {"gpt", 0, NULL, "inside the disk: the GPT headers and used entries"},
    {"boot", 0, NULL, "inside the disk: NTFS boot sectors (all, or the --part one)"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

enum kind { K_ASCII, K_U32, K_U64, K_HEX32, K_HEX64, K_TIME, K_VERSION, K_TYPE, K_GEOMETRY, K_UUID, K_BYTE, K_SKIP,
             K_CHECKSUM };

struct field {
    const char *name;
    unsigned off, len;
    enum kind kind;
};

static const struct field footer_fields[] = {
    {"cookie", VHD_FOOTER_OFF_COOKIE, 8, K_ASCII},
    {"features", VHD_FOOTER_OFF_FEATURES, 4, K_HEX32},
    {"file_format_version", VHD_FOOTER_OFF_VERSION, 4, K_VERSION},
    {"data_offset", VHD_FOOTER_OFF_DATA_OFFSET, 8, K_HEX64},
    {"timestamp", VHD_FOOTER_OFF_TIMESTAMP, 4, K_TIME},
    {"creator_application", VHD_FOOTER_OFF_CREATOR_APP, 4, K_ASCII},
    {"creator_version", VHD_FOOTER_OFF_CREATOR_VERSION, 4, K_VERSION},
    {"creator_host_os", VHD_FOOTER_OFF_CREATOR_OS, 4, K_ASCII},
    {"original_size", VHD_FOOTER_OFF_ORIGINAL_SIZE, 8, K_U64},
    {"current_size", VHD_FOOTER_OFF_CURRENT_SIZE, 8, K_U64},
    {"disk_geometry", VHD_FOOTER_OFF_GEOMETRY, 4, K_GEOMETRY},
    {"disk_type", VHD_FOOTER_OFF_DISK_TYPE, 4, K_TYPE},
    {"checksum", VHD_FOOTER_OFF_CHECKSUM, 4, K_CHECKSUM},
    {"unique_id", VHD_FOOTER_OFF_UUID, 16, K_UUID},
    {"saved_state", VHD_FOOTER_OFF_SAVED_STATE, 1, K_BYTE},
};

static const struct field header_fields[] = {
    {"cookie", VHD_HEADER_OFF_COOKIE, 8, K_ASCII},
    {"data_offset", VHD_HEADER_OFF_DATA_OFFSET, 8, K_HEX64},
    {"table_offset", VHD_HEADER_OFF_TABLE_OFFSET, 8, K_HEX64},
    {"header_version", VHD_HEADER_OFF_VERSION, 4, K_VERSION},
    {"max_table_entries", VHD_HEADER_OFF_MAX_TABLE_ENTRIES, 4, K_U32},
    {"block_size", VHD_HEADER_OFF_BLOCK_SIZE, 4, K_U32},
    {"checksum", VHD_HEADER_OFF_CHECKSUM, 4, K_CHECKSUM},
    {"parent_unique_id", VHD_HEADER_OFF_PARENT_UUID, 16, K_UUID},
    {"parent_timestamp", VHD_HEADER_OFF_PARENT_TIMESTAMP, 4, K_TIME},
};

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

static void decode(const struct field *fd, const uint8_t *p, char *out, size_t cap)
{
    switch (fd->kind) {
    case K_ASCII:
        for (unsigned i = 0; i < fd->len && i + 1 < cap; i++, out[i] = 0)
            out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
        out[fd->len < cap ? fd->len : cap - 1] = 0;
        break;
    case K_U32:
        snprintf(out, cap, "%" PRIu32, get_be32(p));
        break;
    case K_U64:
        snprintf(out, cap, "%" PRIu64, get_be64(p));
        break;
    case K_HEX32:
    case K_CHECKSUM: /* judged by dump_fields, which knows the whole structure */
        snprintf(out, cap, "0x%08" PRIx32, get_be32(p));
        break;
    case K_HEX64:
        snprintf(out, cap, "0x%016" PRIx64, get_be64(p));
        break;
    case K_TIME: {
        time_t t = (time_t)((int64_t)get_be32(p) + VHD_EPOCH_UNIX);
        struct tm tm;
        if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
            snprintf(out, cap, "%" PRIu32, get_be32(p));
        break;
    }
    case K_VERSION:
        snprintf(out, cap, "%u.%u", get_be16(p), get_be16(p + 2));
        break;
    case K_TYPE: {
        uint32_t t = get_be32(p);
        snprintf(out, cap, "%s", t == VHD_TYPE_FIXED ? "fixed" : t == VHD_TYPE_DYNAMIC ? "dynamic"
                                 : t == VHD_TYPE_DIFF ? "differencing" : t == VHD_TYPE_NONE ? "none" : "unknown");
        break;
    }
    case K_GEOMETRY:
        /* cylinders big-endian 16 bits, then heads, then sectors per track */
        snprintf(out, cap, "C/H/S %u/%u/%u = %" PRIu64 " bytes", get_be16(p), p[2], p[3],
                 (uint64_t)get_be16(p) * p[2] * p[3] * 512);
        break;
    case K_UUID:
        snprintf(out, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", p[0], p[1], p[2],
                 p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
        break;
    case K_BYTE:
        snprintf(out, cap, "%u", p[0]);
        break;
    case K_SKIP:
        out[0] = 0;
        break;
    }
}

/* `problem` (NULL when the field is sound) says how the field disagrees with the format: dump shows damaged images
 * as they are, marks what is wrong, and exits 1 so scripts notice (DESIGN.md: the command ran and found problems). */
static void emit(struct out *o, const char *name, uint64_t off, const uint8_t *p, size_t n, const char *value,
                 const char *problem)
{
    char h[2 * 64 + 1];
    hex(p, n < 64 ? n : 64, h);
    if (o->json) {
        out_object(o, NULL);
        out_str(o, "field", name);
        out_u64(o, "offset", off);
        out_str(o, "hex", h);
        out_str(o, "value", value);
        if (problem)
            out_str(o, "problem", problem);
        out_close(o);
    } else {
        printf("  0x%010" PRIx64 "  %-22s %-34s %s%s%s\n", off, name, h, value, problem ? "  <-- " : "",
               problem ? problem : "");
    }
}

/* Returns how many fields disagree with the format. `raw_len` is the whole structure (for its checksum). */
static unsigned dump_fields(struct out *o, const char *title, const struct field *fs, size_t n, const uint8_t *raw,
                            size_t raw_len, uint64_t base)
{
    unsigned problems = 0;
    if (o->json)
        out_array(o, title);
    else
        printf("%s at 0x%" PRIx64 ":\n", title, base);
    for (size_t i = 0; i < n; i++) {
        char v[128], why[96];
        const char *problem = NULL;
        decode(&fs[i], raw + fs[i].off, v, sizeof v);
        uint32_t sum = fs[i].kind == K_CHECKSUM ? vhd_checksum(raw, raw_len, fs[i].off) : 0;
        if (fs[i].kind == K_CHECKSUM && sum != get_be32(raw + fs[i].off)) {
            snprintf(why, sizeof why, "wrong: the bytes give 0x%08" PRIx32, sum);
            problem = why;
            problems++;
        }
        emit(o, fs[i].name, base + fs[i].off, raw + fs[i].off, fs[i].len, v, problem);
    }
    if (o->json)
        out_close(o);
    return problems;
}

struct img {
    vk_dev *f;
    const char *path;
    struct vhd_footer foot;
    uint8_t foot_raw[VHD_FOOTER_LEN];
    uint64_t foot_off;
    bool dynamic;
    struct vhd_header head;
    uint8_t head_raw[VHD_HEADER_LEN];
    bool footer_fallback; /* the trailing footer is damaged: showing the copy at offset 0 */
    unsigned problems;    /* fields and entries that disagree with the format */
};

static int load(struct img *im, vk_error *err)
{
    if (im->f->size < VHD_FOOTER_LEN)
        return vk_fail(err, VK_E_TRUNCATED, im->path, 0, "too small to be a VHD");
    im->foot_off = im->f->size - VHD_FOOTER_LEN;
    int rc = vk_dev_read(im->f, im->foot_raw, VHD_FOOTER_LEN, im->foot_off, err);
    if (rc)
        return rc;
    if (vhd_footer_decode(im->foot_raw, &im->foot, NULL)) {
        /* A damaged trailing footer: show the copy at offset 0 (dynamic and differencing disks keep one). */
        im->foot_off = 0;
        im->footer_fallback = true;
        im->problems++;
        if ((rc = vk_dev_read(im->f, im->foot_raw, VHD_FOOTER_LEN, 0, err)))
            return rc;
        if (vhd_footer_decode(im->foot_raw, &im->foot, NULL))
            return vk_fail(err, VK_E_CORRUPT, im->path, im->f->size - VHD_FOOTER_LEN,
                           "not a VHD: no \"conectix\" footer at the end of the file nor at offset 0");
    }
    im->dynamic = im->foot.disk_type == VHD_TYPE_DYNAMIC || im->foot.disk_type == VHD_TYPE_DIFF;
    if (!im->dynamic)
        return 0;
    if (!ck_range_inside(im->foot.data_offset, VHD_HEADER_LEN, im->f->size))
        return vk_fail(err, VK_E_CORRUPT, im->path, im->foot_off + VHD_FOOTER_OFF_DATA_OFFSET,
                       "dynamic header offset 0x%" PRIx64 " lies outside the file", im->foot.data_offset);
    if ((rc = vk_dev_read(im->f, im->head_raw, VHD_HEADER_LEN, im->foot.data_offset, err)))
        return rc;
    if (vhd_header_decode(im->head_raw, &im->head, NULL))
        return vk_fail(err, VK_E_CORRUPT, im->path, im->foot.data_offset, "dynamic header cookie is not \"cxsparse\"");
    return 0;
}

static void dump_header(struct out *o, struct img *im)
{
    uint64_t base = im->foot.data_offset;
    im->problems += dump_fields(o, "header", header_fields, sizeof header_fields / sizeof header_fields[0],
                                im->head_raw, VHD_HEADER_LEN, base);
    char name[1024];
    if (vk_utf16_to_utf8(im->head_raw + VHD_HEADER_OFF_PARENT_NAME, VHD_HEADER_PARENT_NAME_LEN, VK_UTF16_BE, name,
                         sizeof name) < 0)
        snprintf(name, sizeof name, "(not valid UTF-16)");
    if (o->json) {
        out_str(o, "parent_unicode_name", name);
    } else {
        struct field f = {"parent_unicode_name", VHD_HEADER_OFF_PARENT_NAME, 16, K_SKIP};
        emit(o, f.name, base + f.off, im->head_raw + f.off, f.len, name, NULL);
    }
}

static void dump_locators(struct out *o, struct img *im)
{
    uint64_t base = im->foot.data_offset + VHD_HEADER_OFF_LOCATORS;
    if (o->json)
        out_array(o, "locators");
    if (!o->json)
        printf("parent locators at 0x%" PRIx64 ":\n", base);
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++) {
        const struct vhd_locator *l = &im->head.locators[i];
        uint64_t eoff = base + (uint64_t)i * VHD_LOCATOR_ENTRY_LEN;
        char code[5], path[4096] = "";
        vhd_platform_name(l->code, code);
        if (l->code == VHD_PLAT_NONE)
            continue;
        bool readable = l->data_length <= 65536 && ck_range_inside(l->data_offset, l->data_length, im->f->size);
        uint8_t *data = readable ? malloc(l->data_length ? l->data_length : 1) : NULL;
        vk_error e = {0};
        if (!data || vk_dev_read(im->f, data, l->data_length, l->data_offset, &e))
            snprintf(path, sizeof path, "(data outside the file)");
        else if (vhd_locator_path_decode(l->code, data, l->data_length, path, sizeof path) < 0)
            snprintf(path, sizeof path, "(cannot decode)");
        free(data);
        if (o->json) {
            out_object(o, NULL);
            out_u64(o, "index", i);
            out_u64(o, "offset", eoff);
            out_str(o, "platform_code", code);
            out_u64(o, "data_space", l->data_space);
            out_u64(o, "data_space_bytes", vhd_locator_space_bytes(l));
            out_u64(o, "data_length", l->data_length);
            out_u64(o, "data_offset", l->data_offset);
            out_str(o, "path", path);
            out_close(o);
        } else {
            char h[64];
            hex(im->head_raw + VHD_HEADER_OFF_LOCATORS + i * VHD_LOCATOR_ENTRY_LEN, VHD_LOCATOR_ENTRY_LEN, h);
            printf("  0x%010" PRIx64 "  locator %u %s  %s\n", eoff, i, code, h);
            printf("      space %" PRIu32 " (%" PRIu64 " bytes), length %" PRIu32 ", data at 0x%" PRIx64 ": %s\n",
                   l->data_space, vhd_locator_space_bytes(l), l->data_length, l->data_offset, path);
        }
    }
    if (o->json)
        out_close(o);
}

/* The BAT, read in pieces so a large table needs no large buffer. */
static int dump_bat(struct out *o, struct img *im, bool all, vk_error *err)
{
    uint32_t n = im->head.max_table_entries;
    uint64_t bat_len = (uint64_t)n * 4;
    if (!ck_range_inside(im->head.table_offset, bat_len, im->f->size))
        return vk_fail(err, VK_E_CORRUPT, im->path, im->foot.data_offset + VHD_HEADER_OFF_TABLE_OFFSET,
                       "BAT (%" PRIu32 " entries at 0x%" PRIx64 ") runs past the end of the file", n,
                       im->head.table_offset);
    if (o->json)
        out_array(o, "bat");
    if (!o->json)
        printf("BAT at 0x%" PRIx64 ", %" PRIu32 " entries, block size %" PRIu32 ":\n", im->head.table_offset, n,
               im->head.block_size);
    uint8_t chunk[4096];
    for (uint32_t i = 0; i < n; i++) {
        if (i % 1024 == 0) {
            uint32_t left = n - i < 1024 ? n - i : 1024;
            int rc = vk_dev_read(im->f, chunk, (size_t)left * 4, im->head.table_offset + (uint64_t)i * 4, err);
            if (rc) {
                if (o->json)
                    out_close(o);
                return rc;
            }
        }
        uint32_t e = get_be32(chunk + (i % 1024) * 4);
        if (e == VHD_BAT_UNUSED && !all)
            continue;
        uint64_t eoff = im->head.table_offset + (uint64_t)i * 4;
        bool outside = e != VHD_BAT_UNUSED &&
                       !ck_range_inside((uint64_t)e * 512, vhd_bitmap_bytes(im->head.block_size), im->f->size);
        im->problems += outside;
        if (o->json) {
            out_object(o, NULL);
            out_u64(o, "block", i);
            out_u64(o, "offset", eoff);
            if (e == VHD_BAT_UNUSED)
                out_str(o, "sector", "unallocated");
            else {
                out_u64(o, "sector", e);
                out_u64(o, "block_offset", (uint64_t)e * 512);
                if (outside)
                    out_str(o, "problem", "the block lies past the end of the file");
            }
            out_close(o);
        } else if (e == VHD_BAT_UNUSED) {
            printf("  0x%010" PRIx64 "  block %-8" PRIu32 " ffffffff  unallocated\n", eoff, i);
        } else {
            printf("  0x%010" PRIx64 "  block %-8" PRIu32 " %08" PRIx32 "  sector %" PRIu32 " (offset 0x%" PRIx64 ")%s\n",
                   eoff, i, e, e, (uint64_t)e * 512, outside ? "  <-- past the end of the file" : "");
        }
    }
    if (o->json)
        out_close(o);
    return 0;
}

/* Sector bitmap of one block: runs of written / not written sectors. */
static int dump_bitmap(struct out *o, struct img *im, uint64_t block, vk_error *err)
{
    if (block >= im->head.max_table_entries)
        return vk_fail(err, VK_E_RANGE, im->path, VK_NO_OFFSET, "block %" PRIu64 " does not exist (%" PRIu32 " blocks)",
                       block, im->head.max_table_entries);
    uint8_t e4[4];
    uint64_t eoff = im->head.table_offset + block * 4;
    int rc = vk_dev_read(im->f, e4, 4, eoff, err);
    if (rc)
        return rc;
    uint32_t e = get_be32(e4);
    out_object(o, "bitmap");
    out_u64(o, "block", block);
    if (e == VHD_BAT_UNUSED) {
        out_str(o, "state", "unallocated");
        out_close(o);
        return 0;
    }
    uint32_t bm_len = vhd_bitmap_bytes(im->head.block_size);
    uint32_t sectors = im->head.block_size / VHD_SECTOR;
    uint64_t boff = (uint64_t)e * VHD_SECTOR;
    if (!ck_range_inside(boff, bm_len, im->f->size)) {
        out_close(o);
        return vk_fail(err, VK_E_CORRUPT, im->path, eoff, "BAT entry %" PRIu64 " points past the end of the file", block);
    }
    uint8_t *bm = malloc(bm_len);
    if (!bm) {
        out_close(o);
        return vk_fail(err, VK_E_NOMEM, im->path, VK_NO_OFFSET, NULL);
    }
    rc = vk_dev_read(im->f, bm, bm_len, boff, err);
    if (!rc) {
        out_u64(o, "offset", boff);
        out_u64(o, "bytes", bm_len);
        uint32_t written = 0;
        for (uint32_t s = 0; s < sectors; s++)
            written += vhd_bitmap_get(bm, s);
        out_u64(o, "sectors_written", written);
        out_u64(o, "sectors", sectors);
        out_array(o, "runs");
        for (uint32_t s = 0; s < sectors;) {
            bool v = vhd_bitmap_get(bm, s);
            uint32_t t = s;
            while (t < sectors && vhd_bitmap_get(bm, t) == v)
                t++;
            char run[96];
            snprintf(run, sizeof run, "sectors %" PRIu32 "-%" PRIu32 " %s", s, t - 1, v ? "written" : "not written");
            out_str(o, NULL, run);
            s = t;
        }
        out_close(o);
    }
    free(bm);
    out_close(o);
    return rc;
}

int cmd_dump(struct ctx *c)
{
    if (arg_has(&c->args, "mbr") || arg_has(&c->args, "gpt") || arg_has(&c->args, "boot"))
        return cmd_dump_parts(c);
    struct img im = {.path = c->args.pos[0]};
    vk_error err = {0};
    if (vk_dev_open_file(im.path, 0, &im.f, &err))
        return report_error(&err);
    int rc = load(&im, &err);
    bool footer = arg_has(&c->args, "footer"), header = arg_has(&c->args, "header");
    bool bat = arg_has(&c->args, "bat"), locs = arg_has(&c->args, "locators"), bitmap = arg_has(&c->args, "bitmap");
    uint64_t block = 0;
    if (!footer && !header && !bat && !locs && !bitmap)
        footer = header = true;
    if (bitmap && parse_size(arg_str(&c->args, "bitmap"), &block) < 0) {
        vk_dev_close(im.f);
        return usage_error(c->cmd->name, "--bitmap takes a block number");
    }
    if (!rc && !im.dynamic && (bat || locs || bitmap))
        rc = vk_fail(&err, VK_E_UNSUPPORTED, im.path, VK_NO_OFFSET, "a fixed disk has no dynamic header, BAT, "
                     "locators or bitmaps");
    struct out o;
    out_init(&o, stdout, c->json);
    if (!rc) {
        out_begin(&o);
        if (c->json)
            out_str(&o, "image", im.path);
        if (footer)
            im.problems += dump_fields(&o, im.footer_fallback ? "footer (copy at offset 0: the trailing one is damaged)"
                                                             : "footer",
                                       footer_fields, sizeof footer_fields / sizeof footer_fields[0], im.foot_raw,
                                       VHD_FOOTER_LEN, im.foot_off);
        if (header && im.dynamic)
            dump_header(&o, &im);
        if (locs)
            dump_locators(&o, &im);
        if (bat)
            rc = dump_bat(&o, &im, arg_has(&c->args, "all"), &err);
        if (!rc && bitmap)
            rc = dump_bitmap(&o, &im, block, &err);
        out_end(&o);
    }
    vk_dev_close(im.f);
    if (rc)
        return report_error(&err);
    if (im.problems)
        fprintf(stderr, "vhdkit: %s: %u field(s) disagree with the VHD format (marked above); `vhdkit check` grades "
                "the damage and `vhdkit repair` fixes what it can\n", im.path, im.problems);
    return im.problems ? 1 : 0;
}
