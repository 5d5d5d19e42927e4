/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit dump --mbr --gpt --boot: the MBR (and EBRs), the GPT headers and used entries (UEFI spec 5.3), and NTFS
 * boot sectors of the virtual disk, each field with its byte offset on the virtual disk, raw hex and meaning. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/bytes.h"
#include "core/utf16.h"
#include "part/layout.h"
#include "vhdkit/part.h"

enum kind { K_U8, K_U16, K_U32, K_U64, K_HEX8, K_HEX16, K_HEX32, K_HEX64, K_ASCII, K_GUID, K_CHS, K_NAME, K_CLU };

struct field {
    const char *name;
    unsigned off, len;
    enum kind kind;
};

static const struct field mbr_entry_fields[] = {
    {"status", 0, 1, K_HEX8},      {"chs_first", 1, 3, K_CHS}, {"type", 4, 1, K_HEX8},
    {"chs_last", 5, 3, K_CHS},     {"lba_start", 8, 4, K_U32}, {"sectors", 12, 4, K_U32},
};

static const struct field gpt_header_fields[] = {
    {"signature", 0, 8, K_ASCII},         {"revision", 8, 4, K_HEX32},        {"header_size", 12, 4, K_U32},
    {"header_crc32", 16, 4, K_HEX32},     {"reserved", 20, 4, K_HEX32},       {"my_lba", 24, 8, K_U64},
    {"alternate_lba", 32, 8, K_U64},      {"first_usable_lba", 40, 8, K_U64}, {"last_usable_lba", 48, 8, K_U64},
    {"disk_guid", 56, 16, K_GUID},        {"entries_lba", 72, 8, K_U64},      {"entry_count", 80, 4, K_U32},
    {"entry_size", 84, 4, K_U32},         {"entries_crc32", 88, 4, K_HEX32},
};

static const struct field gpt_entry_fields[] = {
    {"type_guid", 0, 16, K_GUID}, {"unique_guid", 16, 16, K_GUID}, {"first_lba", 32, 8, K_U64},
    {"last_lba", 40, 8, K_U64},   {"attributes", 48, 8, K_HEX64},  {"name", 56, 72, K_NAME},
};

static const struct field boot_fields[] = {
    {"jump", 0, 3, K_HEX32},              {"oem_id", 3, 8, K_ASCII},           {"bytes_per_sector", 11, 2, K_U16},
    {"sectors_per_cluster", 13, 1, K_U8}, {"reserved_sectors", 14, 2, K_U16},  {"media_descriptor", 21, 1, K_HEX8},
    {"sectors_per_track", 24, 2, K_U16},  {"heads", 26, 2, K_U16},             {"hidden_sectors", 28, 4, K_U32},
    {"total_sectors", 40, 8, K_U64},      {"mft_lcn", 48, 8, K_U64},           {"mftmirr_lcn", 56, 8, K_U64},
    {"clusters_per_mft_record", 64, 1, K_CLU}, {"clusters_per_index_block", 68, 1, K_CLU},
    {"serial", 72, 8, K_HEX64},           {"checksum", 80, 4, K_HEX32},        {"end_marker", 510, 2, K_HEX16},
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static void decode(const struct field *f, const uint8_t *p, char *out, size_t cap)
{
    switch (f->kind) {
    case K_U8: snprintf(out, cap, "%u", p[0]); break;
    case K_U16: snprintf(out, cap, "%u", get_le16(p)); break;
    case K_U32: snprintf(out, cap, "%" PRIu32, get_le32(p)); break;
    case K_U64: snprintf(out, cap, "%" PRIu64, get_le64(p)); break;
    case K_HEX8: snprintf(out, cap, "0x%02x", p[0]); break;
    case K_HEX16: snprintf(out, cap, "0x%04x", get_le16(p)); break;
    case K_HEX32: snprintf(out, cap, "0x%08" PRIx32, f->len == 3 ? (uint32_t)p[0] << 16 | p[1] << 8 | p[2] : get_le32(p)); break;
    case K_HEX64: snprintf(out, cap, "0x%016" PRIx64, get_le64(p)); break;
    case K_ASCII: {
        size_t i = 0;
        for (; i < f->len && i + 1 < cap; i++)
            out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
        out[i] = 0;
        break;
    }
    case K_GUID: {
        char g[37];
        vk_guid_format(p, g);
        snprintf(out, cap, "%s", g);
        break;
    }
    case K_CHS:
        /* head, then sector (6 bits) with the cylinder's top 2 bits, then the cylinder's low 8 bits */
        snprintf(out, cap, "C/H/S %u/%u/%u", (unsigned)((p[1] & 0xc0) << 2 | p[2]), p[0], p[1] & 0x3fu);
        break;
    case K_NAME:
        if (vk_utf16_to_utf8(p, f->len, VK_UTF16_LE, out, cap) < 0)
            snprintf(out, cap, "(not valid UTF-16)");
        break;
    case K_CLU: {
        int8_t v = (int8_t)p[0];
        /* NTFS: a negative value n means 2^-n bytes rather than a count of clusters */
        if (v < 0)
            snprintf(out, cap, "%d (%u bytes)", v, v >= -31 ? 1u << -v : 0u);
        else
            snprintf(out, cap, "%d clusters", v);
        break;
    }
    }
}

static void emit(struct out *o, const char *name, uint64_t off, const uint8_t *p, size_t n, const char *value)
{
    char h[2 * 32 + 1];
    size_t shown = n < 32 ? n : 32;
    for (size_t i = 0; i < shown; i++)
        sprintf(h + 2 * i, "%02x", p[i]);
    h[2 * shown] = 0;
    if (o->json) {
        out_object(o, NULL);
        out_str(o, "field", name);
        out_u64(o, "offset", off);
        out_str(o, "hex", h);
        out_str(o, "value", value);
        out_close(o);
    } else {
        printf("  0x%010" PRIx64 "  %-26s %-34s%s %s\n", off, name, h, n > 32 ? ".." : "  ", value);
    }
}

static void dump_fields(struct out *o, const char *title, const struct field *fs, size_t n, const uint8_t *raw,
                        uint64_t base)
{
    if (o->json)
        out_array(o, title);
    else
        printf("%s at disk offset 0x%" PRIx64 ":\n", title, base);
    for (size_t i = 0; i < n; i++) {
        char v[160];
        decode(&fs[i], raw + fs[i].off, v, sizeof v);
        emit(o, fs[i].name, base + fs[i].off, raw + fs[i].off, fs[i].len, v);
    }
    if (o->json)
        out_close(o);
}

/* One sector of the MBR or an EBR: signature, the four entries (every one, empty ones too), the boot signature. */
static void dump_mbr_sector(struct out *o, const char *title, const uint8_t *s, uint64_t base, bool with_sig)
{
    if (o->json)
        out_object(o, title);
    else
        printf("%s at disk offset 0x%" PRIx64 ":\n", title, base);
    char v[64];
    if (o->json)
        out_array(o, "fields");
    if (with_sig) {
        snprintf(v, sizeof v, "0x%08" PRIx32, get_le32(s + 440));
        emit(o, "disk_signature", base + 440, s + 440, 4, v);
    }
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *e = s + 446 + 16 * i;
        for (size_t k = 0; k < NFIELDS(mbr_entry_fields); k++) {
            const struct field *f = &mbr_entry_fields[k];
            char name[48];
            snprintf(name, sizeof name, "entry%u.%s", i + 1, f->name);
            decode(f, e + f->off, v, sizeof v);
            if (f->kind == K_HEX8 && f->off == 4) {
                size_t l = strlen(v);
                snprintf(v + l, sizeof v - l, " (%s)", vk_part_mbr_type_name(e[4]));
            }
            emit(o, name, base + 446 + 16 * i + f->off, e + f->off, f->len, v);
        }
    }
    snprintf(v, sizeof v, "0x%04x%s", get_le16(s + 510), s[510] == 0x55 && s[511] == 0xaa ? " (valid)" : " (missing)");
    emit(o, "boot_signature", base + 510, s + 510, 2, v);
    if (o->json)
        out_close(o);
    if (o->json)
        out_close(o);
}

/* The MBR, then each EBR the table reader accepted (it checked bounds and loops). */
static int dump_mbr(struct out *o, vk_dev *disk, const vk_part_table *t, vk_error *err)
{
    uint8_t s[512];
    int rc = vk_dev_read(disk, s, sizeof s, 0, err);
    if (rc)
        return rc;
    if (o->json)
        out_array(o, "mbr");
    dump_mbr_sector(o, "MBR", s, 0, true);
    for (unsigned i = 0; t && i < t->count; i++) {
        const vk_part *p = &t->parts[i];
        if (!(p->flags & VK_PART_LOGICAL))
            continue;
        /* entry_off points into the EBR sector describing this logical partition */
        uint64_t ebr = p->entry_off / 512 * 512;
        if ((rc = vk_dev_read(disk, s, sizeof s, ebr, err)))
            break;
        char title[64];
        snprintf(title, sizeof title, "EBR of partition %u", p->number);
        dump_mbr_sector(o, title, s, ebr, false);
    }
    if (o->json)
        out_close(o);
    return rc;
}

static void crc_note(struct out *o, const char *what, uint32_t stored, uint32_t computed)
{
    char v[96];
    snprintf(v, sizeof v, "stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 ": %s", stored, computed,
             stored == computed ? "ok" : "MISMATCH");
    out_str(o, what, v);
}

static int dump_gpt_at(struct out *o, vk_dev *disk, uint64_t lba, const char *title, vk_error *err)
{
    uint8_t h[512];
    int rc = vk_dev_read(disk, h, sizeof h, lba * 512, err);
    if (rc)
        return rc;
    out_object(o, title);
    dump_fields(o, "header", gpt_header_fields, NFIELDS(gpt_header_fields), h, lba * 512);
    uint32_t hsize = get_le32(h + 12), stored = get_le32(h + 16);
    if (memcmp(h, "EFI PART", 8) || hsize < 92 || hsize > 512) {
        out_str(o, "state", "no valid GPT header here");
        out_close(o);
        return 0;
    }
    uint8_t tmp[512];
    memcpy(tmp, h, hsize);
    memset(tmp + 16, 0, 4);
    crc_note(o, "header_crc_check", stored, part_crc32(tmp, hsize));
    uint64_t elba = get_le64(h + 72);
    uint32_t count = get_le32(h + 80), esize = get_le32(h + 84);
    /* The spec allows 128 * 2^n byte entries; cap the array at 1 MiB so a hostile header cannot make us read much. */
    if (esize < 128 || esize % 128 || (uint64_t)count * esize > (1u << 20) || elba >= disk->size / 512 ||
        (uint64_t)count * esize > disk->size - elba * 512) {
        out_str(o, "entries", "entry array out of bounds: not read");
        out_close(o);
        return 0;
    }
    size_t alen = (size_t)count * esize;
    uint8_t *arr = malloc(alen ? alen : 1);
    if (!arr) {
        out_close(o);
        return vk_fail(err, VK_E_NOMEM, disk->name, VK_NO_OFFSET, NULL);
    }
    rc = vk_dev_read(disk, arr, alen, elba * 512, err);
    out_array(o, "entries");
    static const uint8_t zero[16];
    for (uint32_t i = 0; i < count && !rc; i++) {
        const uint8_t *e = arr + (size_t)i * esize;
        if (!memcmp(e, zero, 16))
            continue;
        char t[48];
        snprintf(t, sizeof t, "entry %u (%s)", i + 1, vk_part_gpt_type_name(e));
        dump_fields(o, t, gpt_entry_fields, NFIELDS(gpt_entry_fields), e, elba * 512 + (uint64_t)i * esize);
    }
    out_close(o);
    if (!rc)
        crc_note(o, "entries_crc_check", get_le32(h + 88), part_crc32(arr, alen));
    free(arr);
    out_close(o);
    return rc;
}

static int dump_boot(struct out *o, vk_dev *disk, const vk_part_table *t, unsigned part, vk_error *err)
{
    if (o->json)
        out_array(o, "boot");
    int rc = 0, shown = 0;
    for (unsigned i = 0; t && i < t->count && !rc; i++) {
        const vk_part *p = &t->parts[i];
        if ((part && p->number != part) || (p->flags & VK_PART_CONTAINER) || p->len < 512)
            continue;
        uint8_t s[512];
        if ((rc = vk_dev_read(disk, s, sizeof s, p->start_off, err)))
            break;
        if (!part && memcmp(s + 3, "NTFS    ", 8))
            continue;
        char title[64];
        snprintf(title, sizeof title, "NTFS boot sector of partition %u", p->number);
        if (o->json) {
            out_object(o, NULL);
            out_u64(o, "partition", p->number);
        }
        dump_fields(o, title, boot_fields, NFIELDS(boot_fields), s, p->start_off);
        if (o->json)
            out_close(o);
        shown++;
    }
    if (o->json)
        out_close(o);
    if (!rc && part && !shown)
        rc = vk_fail(err, VK_E_USAGE, disk->name, VK_NO_OFFSET, "no partition %u on this disk", part);
    return rc;
}

int cmd_dump_parts(struct ctx *c)
{
    unsigned part;
    int st = vol_part_arg(c, &part);
    if (st)
        return st;
    vk_error err = {0};
    vk_dev *disk;
    struct vk_vhd_open_opts oo = {0};
    if (vk_image_open(c->args.pos[0], &oo, &disk, NULL, &err))
        return report_error(&err);
    bool mbr = arg_has(&c->args, "mbr"), gpt = arg_has(&c->args, "gpt"), boot = arg_has(&c->args, "boot");
    /* A table the reader refuses is still dumped raw (that is when one needs to look); only --boot needs it. */
    vk_part_table t;
    vk_error terr = {0};
    bool have_table = vk_part_read(disk, &t, &terr) == 0;
    struct out o;
    out_init(&o, stdout, c->json);
    out_begin(&o);
    if (c->json)
        out_str(&o, "image", c->args.pos[0]);
    int rc = 0;
    if (mbr)
        rc = dump_mbr(&o, disk, have_table ? &t : NULL, &err);
    if (!rc && gpt && disk->size >= 2 * 512) {
        out_object(&o, "gpt");
        rc = dump_gpt_at(&o, disk, 1, "primary", &err);
        if (!rc)
            rc = dump_gpt_at(&o, disk, disk->size / 512 - 1, "backup", &err);
        out_close(&o);
    }
    if (!rc && boot) {
        if (have_table)
            rc = dump_boot(&o, disk, &t, part, &err);
        else
            err = terr, rc = terr.code;
    }
    out_end(&o);
    if (have_table)
        vk_part_table_free(&t);
    vk_dev_close(disk);
    return rc ? report_error(&err) : 0;
}
