/* SPDX-License-Identifier: GPL-2.0-or-later */
/* On-disk layout of the MBR/EBR (IBM PC partition table) and of GPT (UEFI 2.10 section 5), with pure codecs. */
#ifndef VK_PART_LAYOUT_H
#define VK_PART_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* MBR and EBR sector. */
#define MBR_DISK_SIG_OFF 440
#define MBR_TABLE_OFF 446
#define MBR_ENTRY_SIZE 16
#define MBR_NENTRIES 4
#define MBR_SIG_OFF 510
#define MBR_SIGNATURE 0xAA55u /* bytes 0x55 0xAA, read little-endian */

#define MBR_TYPE_EMPTY 0x00
#define MBR_TYPE_EXTENDED_CHS 0x05
#define MBR_TYPE_EXTENDED_LBA 0x0F
#define MBR_TYPE_LINUX_EXTENDED 0x85
#define MBR_TYPE_NTFS 0x07
#define MBR_TYPE_GPT_PROTECTIVE 0xEE

/* GPT header (LBA 1 and the last LBA) and entries. */
#define GPT_SIGNATURE "EFI PART"
#define GPT_REVISION_1_0 0x00010000u
#define GPT_HEADER_SIZE 92u
#define GPT_ENTRY_SIZE 128u
#define GPT_NENTRIES_DEFAULT 128u
#define GPT_NAME_UNITS 36u
/* Caps against hostile headers: an entry array larger than this is refused. */
#define GPT_ENTRY_ARRAY_MAX (1u << 20)
#define GPT_ENTRY_SIZE_MAX 4096u

struct chs {
    uint16_t cyl;  /* 10 bits */
    uint8_t head;
    uint8_t sec;   /* 6 bits, 1-based */
};

struct mbr_entry {
    uint8_t status;
    struct chs chs_first;
    uint8_t type;
    struct chs chs_last;
    uint32_t lba_first;
    uint32_t nsec;
};

struct mbr {
    uint32_t disk_sig;
    uint16_t signature;
    struct mbr_entry e[MBR_NENTRIES];
};

struct gpt_header {
    uint32_t revision;
    uint32_t header_size;
    uint32_t header_crc;
    uint64_t my_lba;
    uint64_t alternate_lba;
    uint64_t first_usable;
    uint64_t last_usable;
    uint8_t disk_guid[16];
    uint64_t entries_lba;
    uint32_t nentries;
    uint32_t entry_size;
    uint32_t entries_crc;
};

struct gpt_entry {
    uint8_t type_guid[16];
    uint8_t uuid[16];
    uint64_t first_lba;
    uint64_t last_lba;
    uint64_t attrs;
    uint8_t name_utf16[GPT_NAME_UNITS * 2];
};

/* CRC-32 (IEEE 802.3, reflected, as UEFI uses). */
uint32_t part_crc32(const uint8_t *p, size_t len);

/* Pure decoders. mbr_decode never fails: callers test the signature. */
void mbr_decode(const uint8_t raw[512], struct mbr *out);
int mbr_is_extended(uint8_t type);
/* Header checks that need no other sector: signature, size, CRC, entry size and count caps. On failure returns
 * VK_E_CORRUPT or VK_E_CHECKSUM and sets *why to a static reason. */
int gpt_header_decode(const uint8_t raw[512], struct gpt_header *out, const char **why);
void gpt_entry_decode(const uint8_t *raw, struct gpt_entry *out);
int gpt_entry_used(const struct gpt_entry *e);

/* Pure encoders (encode.c). mbr_encode keeps raw[0..439] (boot code) as it is. */
void mbr_encode(const struct mbr *in, uint8_t raw[512]);
struct chs chs_from_lba(uint64_t lba);
/* Fills header_crc from the other fields (entries_crc must already be set). */
void gpt_header_encode(struct gpt_header *in, uint8_t raw[512]);
void gpt_entry_encode(const struct gpt_entry *in, uint8_t *raw);

#endif
