/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure encoders of the MBR/EBR sector and of GPT headers and entries (inverse of decode.c); no I/O. */
#include "part/layout.h"

#include <string.h>

#include "core/bytes.h"

/* Conventional translation for disks of any size: 255 heads, 63 sectors per track; LBAs past the last cylinder
 * CHS can address use the 1023/254/63 marker, as fdisk and Windows write it. */
struct chs chs_from_lba(uint64_t lba)
{
    struct chs c;
    uint64_t cyl = lba / (255 * 63);
    if (cyl > 1023) {
        c.cyl = 1023;
        c.head = 254;
        c.sec = 63;
        return c;
    }
    c.cyl = (uint16_t)cyl;
    c.head = (uint8_t)((lba / 63) % 255);
    c.sec = (uint8_t)(lba % 63 + 1);
    return c;
}

static void chs_encode(struct chs c, uint8_t *b)
{
    b[0] = c.head;
    b[1] = (uint8_t)((c.sec & 0x3F) | ((c.cyl >> 2) & 0xC0));
    b[2] = (uint8_t)c.cyl;
}

void mbr_encode(const struct mbr *in, uint8_t raw[512])
{
    put_le32(raw + MBR_DISK_SIG_OFF, in->disk_sig);
    put_le16(raw + 444, 0);
    for (int i = 0; i < MBR_NENTRIES; i++) {
        uint8_t *e = raw + MBR_TABLE_OFF + i * MBR_ENTRY_SIZE;
        e[0] = in->e[i].status;
        chs_encode(in->e[i].chs_first, e + 1);
        e[4] = in->e[i].type;
        chs_encode(in->e[i].chs_last, e + 5);
        put_le32(e + 8, in->e[i].lba_first);
        put_le32(e + 12, in->e[i].nsec);
    }
    put_le16(raw + MBR_SIG_OFF, MBR_SIGNATURE);
}

void gpt_header_encode(struct gpt_header *in, uint8_t raw[512])
{
    memset(raw, 0, 512);
    memcpy(raw, GPT_SIGNATURE, 8);
    put_le32(raw + 8, in->revision);
    put_le32(raw + 12, in->header_size);
    put_le32(raw + 16, 0);
    put_le64(raw + 24, in->my_lba);
    put_le64(raw + 32, in->alternate_lba);
    put_le64(raw + 40, in->first_usable);
    put_le64(raw + 48, in->last_usable);
    memcpy(raw + 56, in->disk_guid, 16);
    put_le64(raw + 72, in->entries_lba);
    put_le32(raw + 80, in->nentries);
    put_le32(raw + 84, in->entry_size);
    put_le32(raw + 88, in->entries_crc);
    in->header_crc = part_crc32(raw, in->header_size);
    put_le32(raw + 16, in->header_crc);
}

void gpt_entry_encode(const struct gpt_entry *in, uint8_t *raw)
{
    memset(raw, 0, GPT_ENTRY_SIZE);
    memcpy(raw, in->type_guid, 16);
    memcpy(raw + 16, in->uuid, 16);
    put_le64(raw + 32, in->first_lba);
    put_le64(raw + 40, in->last_lba);
    put_le64(raw + 48, in->attrs);
    memcpy(raw + 56, in->name_utf16, sizeof in->name_utf16);
}
