/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure decoders of the MBR/EBR sector and of GPT headers and entries (UEFI 2.10 sections 5.2 and 5.3); no I/O. */
#include "part/layout.h"

#include <string.h>

#include "core/bytes.h"
#include "vhdkit/error.h"

uint32_t part_crc32(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static struct chs chs_decode(const uint8_t *b)
{
    struct chs c;
    c.head = b[0];
    c.sec = b[1] & 0x3F;
    c.cyl = (uint16_t)(((b[1] & 0xC0u) << 2) | b[2]);
    return c;
}

void mbr_decode(const uint8_t raw[512], struct mbr *out)
{
    out->disk_sig = get_le32(raw + MBR_DISK_SIG_OFF);
    out->signature = get_le16(raw + MBR_SIG_OFF);
    for (int i = 0; i < MBR_NENTRIES; i++) {
        const uint8_t *e = raw + MBR_TABLE_OFF + i * MBR_ENTRY_SIZE;
        out->e[i].status = e[0];
        out->e[i].chs_first = chs_decode(e + 1);
        out->e[i].type = e[4];
        out->e[i].chs_last = chs_decode(e + 5);
        out->e[i].lba_first = get_le32(e + 8);
        out->e[i].nsec = get_le32(e + 12);
    }
}

int mbr_is_extended(uint8_t type)
{
    return type == MBR_TYPE_EXTENDED_CHS || type == MBR_TYPE_EXTENDED_LBA || type == MBR_TYPE_LINUX_EXTENDED;
}

int gpt_header_decode(const uint8_t raw[512], struct gpt_header *out, const char **why)
{
    if (memcmp(raw, GPT_SIGNATURE, 8) != 0) {
        *why = "header has no \"EFI PART\" signature";
        return VK_E_CORRUPT;
    }
    out->revision = get_le32(raw + 8);
    out->header_size = get_le32(raw + 12);
    out->header_crc = get_le32(raw + 16);
    out->my_lba = get_le64(raw + 24);
    out->alternate_lba = get_le64(raw + 32);
    out->first_usable = get_le64(raw + 40);
    out->last_usable = get_le64(raw + 48);
    memcpy(out->disk_guid, raw + 56, 16);
    out->entries_lba = get_le64(raw + 72);
    out->nentries = get_le32(raw + 80);
    out->entry_size = get_le32(raw + 84);
    out->entries_crc = get_le32(raw + 88);
    if (out->header_size < GPT_HEADER_SIZE || out->header_size > 512) {
        *why = "header size out of range";
        return VK_E_CORRUPT;
    }
    /* The CRC covers header_size bytes with the CRC field itself taken as zero. */
    uint8_t tmp[512];
    memcpy(tmp, raw, out->header_size);
    put_le32(tmp + 16, 0);
    if (part_crc32(tmp, out->header_size) != out->header_crc) {
        *why = "header CRC mismatch";
        return VK_E_CHECKSUM;
    }
    /* UEFI: entry size is 128 * 2^n. */
    if (out->entry_size < GPT_ENTRY_SIZE || out->entry_size > GPT_ENTRY_SIZE_MAX ||
        (out->entry_size & (out->entry_size - 1)) != 0) {
        *why = "header entry size is not 128 times a power of two";
        return VK_E_CORRUPT;
    }
    if ((uint64_t)out->nentries * out->entry_size > GPT_ENTRY_ARRAY_MAX) {
        *why = "header entry array larger than 1 MiB";
        return VK_E_CORRUPT;
    }
    if (out->first_usable > out->last_usable) {
        *why = "header first usable LBA after the last usable LBA";
        return VK_E_CORRUPT;
    }
    return 0;
}

void gpt_entry_decode(const uint8_t *raw, struct gpt_entry *out)
{
    memcpy(out->type_guid, raw, 16);
    memcpy(out->uuid, raw + 16, 16);
    out->first_lba = get_le64(raw + 32);
    out->last_lba = get_le64(raw + 40);
    out->attrs = get_le64(raw + 48);
    memcpy(out->name_utf16, raw + 56, sizeof out->name_utf16);
}

int gpt_entry_used(const struct gpt_entry *e)
{
    static const uint8_t zero[16];
    return memcmp(e->type_guid, zero, 16) != 0;
}
