/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Partition tables (MBR with EBR chains, GPT with its backup) read into numbered partitions, and written back. */
#ifndef VHDKIT_PART_H
#define VHDKIT_PART_H

#include <stdint.h>

#include "vhdkit/dev.h"
#include "vhdkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* VHD disks always have 512-byte sectors, so LBAs in every table are multiples of this. */
#define VK_SECTOR_SIZE 512u

enum vk_part_scheme {
    VK_PART_SCHEME_NONE = 0, /* no partition table: one "whole disk" volume starting at sector 0 */
    VK_PART_SCHEME_MBR,
    VK_PART_SCHEME_GPT,
};

/* vk_part.align: on which boundaries the partition starts. */
enum vk_part_align {
    VK_PART_ALIGN_4K = 1u << 0,
    VK_PART_ALIGN_1M = 1u << 1,
};

enum vk_part_flags {
    VK_PART_BOOTABLE = 1u << 0,  /* MBR status 0x80 */
    VK_PART_LOGICAL = 1u << 1,   /* MBR logical partition found through the EBR chain */
    VK_PART_CONTAINER = 1u << 2, /* MBR extended partition: holds logicals, no filesystem of its own */
    VK_PART_WHOLE_DISK = 1u << 3 /* the whole disk of a disk without a partition table */
};

#define VK_PART_NAME_MAX 128 /* a GPT name is 36 UTF-16 code units: at most 108 bytes of UTF-8 */

typedef struct vk_part {
    unsigned number;        /* 1-based, as Linux and Windows number them (MBR logicals from 5, GPT index + 1) */
    unsigned flags;         /* vk_part_flags */
    uint64_t start_lba;     /* first sector */
    uint64_t nsec;          /* length in sectors */
    uint64_t start_off;     /* start in bytes (start_lba * 512) */
    uint64_t len;           /* length in bytes */
    uint64_t entry_off;     /* byte offset of the table entry describing it on the disk */
    uint8_t mbr_type;       /* MBR type byte (0 on GPT and whole disks) */
    uint8_t type_guid[16];  /* GPT type GUID, on-disk byte order (zero on MBR) */
    uint8_t uuid[16];       /* GPT unique partition GUID, on-disk byte order */
    uint64_t attrs;         /* GPT attribute bits */
    char name[VK_PART_NAME_MAX]; /* GPT partition name in UTF-8 ("" on MBR) */
    const char *type_name;  /* readable type ("NTFS/exFAT", "Microsoft basic data", "EFI System", ...) */
    unsigned align;         /* vk_part_align */
} vk_part;

#define VK_PART_WARN_MAX 8
#define VK_PART_WARN_LEN 160

typedef struct vk_part_table {
    enum vk_part_scheme scheme;
    uint64_t disk_size;         /* bytes */
    uint32_t disk_signature;    /* MBR disk signature (offset 440) */
    uint8_t disk_guid[16];      /* GPT disk GUID, on-disk byte order */
    int protective_mbr;         /* GPT disk with a protective MBR (one 0xEE entry) */
    int hybrid_mbr;             /* GPT disk whose MBR also lists real partitions next to the 0xEE entry */
    int gpt_backup_used;        /* the primary GPT was bad: partitions come from the backup at the last LBA */
    unsigned count;             /* entries in parts */
    vk_part *parts;             /* sorted by number; owned, freed by vk_part_table_free */
    unsigned nwarn;
    char warnings[VK_PART_WARN_MAX][VK_PART_WARN_LEN]; /* e.g. "primary GPT header CRC mismatch: using the backup" */
} vk_part_table;

/* Reads the partition table of `disk`. Entries past the disk end or overlapping are VK_E_CORRUPT naming the disk
 * and the entry's byte offset; an EBR chain that loops or is deeper than 256 links too. A disk whose sector 0 holds
 * a filesystem (or nothing recognisable) gives one partition numbered 1 flagged VK_PART_WHOLE_DISK. */
VK_API int vk_part_read(vk_dev *disk, vk_part_table *out, vk_error *err);
VK_API void vk_part_table_free(vk_part_table *t);
/* The partition numbered `number`, or NULL. */
VK_API const vk_part *vk_part_find(const vk_part_table *t, unsigned number);
/* True when the partition starts on a multiple of `block` bytes (block > 0). */
VK_API int vk_part_aligned(const vk_part *p, uint64_t block);

/* A window device over partition `number` of `disk` (which stays owned by the caller and must outlive it).
 * VK_E_NOTFOUND when there is no such partition, VK_E_USAGE for an extended container. */
VK_API int vk_part_open(vk_dev *disk, unsigned number, vk_dev **out, vk_error *err);
/* Same for an already read partition. */
VK_API int vk_part_window(vk_dev *disk, const vk_part *p, vk_dev **out, vk_error *err);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (upper case) from on-disk GUID bytes; `out` holds 37 bytes. */
VK_API void vk_guid_format(const uint8_t guid[16], char out[37]);
/* Parses that text form into on-disk bytes; VK_E_USAGE when malformed. */
VK_API int vk_guid_parse(const char *text, uint8_t guid[16]);
/* Readable names of an MBR type byte and a GPT type GUID ("unknown" when not in the table). */
VK_API const char *vk_part_mbr_type_name(uint8_t type);
VK_API const char *vk_part_gpt_type_name(const uint8_t guid[16]);

/* Well-known GPT type GUIDs in text form, for vk_guid_parse. */
#define VK_GPT_TYPE_EFI_SYSTEM "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define VK_GPT_TYPE_MS_RESERVED "E3C9E316-0B5C-4DB8-817D-F92DF00215AE"
#define VK_GPT_TYPE_MS_BASIC_DATA "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
#define VK_GPT_TYPE_WINDOWS_RE "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC"
#define VK_GPT_TYPE_LINUX_FS "0FC63DAF-8483-4772-8E79-3D69D8477DE4"

/* Writers (test-disk generator, `align --fix`). Each partition uses start_lba, nsec and, for MBR, mbr_type and
 * VK_PART_BOOTABLE; for GPT, type_guid, uuid, attrs and name. Partitions must lie inside the disk and not overlap.
 * vk_part_write_mbr writes up to 4 primaries to sector 0 (keeping the boot code bytes 0-439).
 * vk_part_write_gpt writes a protective MBR, the primary header and 128-entry array at LBA 1-33 and the backup
 * array and header at the end of the disk. */
VK_API int vk_part_write_mbr(vk_dev *disk, uint32_t disk_signature, const vk_part *parts, unsigned n, vk_error *err);
VK_API int vk_part_write_gpt(vk_dev *disk, const uint8_t disk_guid[16], const vk_part *parts, unsigned n,
                             vk_error *err);

#ifdef __cplusplus
}
#endif
#endif
