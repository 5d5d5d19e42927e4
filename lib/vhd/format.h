/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VHD on-disk structures (Microsoft "Virtual Hard Disk Image Format Specification" v1.0): offsets, constants,
 * host-order structs and pure decode/encode functions. No I/O here: every decoder is also a fuzz target. */
#ifndef VK_VHD_FORMAT_H
#define VK_VHD_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhdkit/error.h"

/* ---- footer (512 bytes, big-endian; last 512 bytes of the file, copy at offset 0 for dynamic/differencing) ---- */
#define VHD_SECTOR 512u
#define VHD_FOOTER_LEN 512u
#define VHD_FOOTER_COOKIE "conectix"
#define VHD_FOOTER_OFF_COOKIE 0
#define VHD_FOOTER_OFF_FEATURES 8
#define VHD_FOOTER_OFF_VERSION 12
#define VHD_FOOTER_OFF_DATA_OFFSET 16
#define VHD_FOOTER_OFF_TIMESTAMP 24
#define VHD_FOOTER_OFF_CREATOR_APP 28
#define VHD_FOOTER_OFF_CREATOR_VERSION 32
#define VHD_FOOTER_OFF_CREATOR_OS 36
#define VHD_FOOTER_OFF_ORIGINAL_SIZE 40
#define VHD_FOOTER_OFF_CURRENT_SIZE 48
#define VHD_FOOTER_OFF_GEOMETRY 56 /* cylinders (be16), heads (u8), sectors per track (u8) */
#define VHD_FOOTER_OFF_DISK_TYPE 60
#define VHD_FOOTER_OFF_CHECKSUM 64
#define VHD_FOOTER_OFF_UUID 68
#define VHD_FOOTER_OFF_SAVED_STATE 84
#define VHD_FOOTER_OFF_RESERVED 85
#define VHD_FOOTER_RESERVED_LEN 427

#define VHD_FEATURE_TEMPORARY 0x1u
#define VHD_FEATURE_RESERVED 0x2u /* always set */
#define VHD_VERSION 0x00010000u
#define VHD_FIXED_DATA_OFFSET UINT64_C(0xFFFFFFFFFFFFFFFF)

enum vhd_disk_type { VHD_TYPE_NONE = 0, VHD_TYPE_FIXED = 2, VHD_TYPE_DYNAMIC = 3, VHD_TYPE_DIFF = 4 };

/* VHD timestamps count seconds from 2000-01-01 00:00:00 UTC. */
#define VHD_EPOCH_UNIX INT64_C(946684800)

struct vhd_footer {
    uint8_t cookie[8];
    uint32_t features;
    uint32_t version;
    uint64_t data_offset;
    uint32_t timestamp;
    uint8_t creator_app[4];
    uint32_t creator_version;
    uint8_t creator_os[4];
    uint64_t original_size;
    uint64_t current_size;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors_per_track;
    uint32_t disk_type;
    uint32_t checksum;          /* as stored */
    uint8_t uuid[16];
    uint8_t saved_state;
    uint8_t reserved[VHD_FOOTER_RESERVED_LEN]; /* preserved on rewrite */
};

/* One's complement of the byte sum of `len` bytes, with the 4 bytes at `checksum_off` taken as zero. */
uint32_t vhd_checksum(const uint8_t *raw, size_t len, size_t checksum_off);

/* Decode a 512-byte footer. Returns VK_E_CORRUPT when the cookie is wrong (nothing else is judged here: see
 * vhd_footer_validate). `*checksum_ok` (may be NULL) tells whether the stored checksum matches. */
int vhd_footer_decode(const uint8_t raw[VHD_FOOTER_LEN], struct vhd_footer *f, bool *checksum_ok);
/* Encode, computing and storing the checksum into f->checksum and the raw bytes. */
void vhd_footer_encode(struct vhd_footer *f, uint8_t raw[VHD_FOOTER_LEN]);
/* Structural rules for a footer in a file of `file_size` bytes: footer inside the file, version 1.0, known disk
 * type, current size a multiple of 512 and at most VHD_MAX_SIZE; fixed: data offset all ones (or the spec's
 * 0xFFFFFFFF) and the virtual size fits before the footer; dynamic/differencing: the 1024-byte header inside the
 * file and not over the footer. On failure fills `err` naming `file` and the field's offset (`footer_off` is where
 * the footer sits in the file). The checksum is not judged (real images with bad ones open in qemu and Windows):
 * use decode's `checksum_ok`. */
int vhd_footer_validate(const struct vhd_footer *f, uint64_t file_size, uint64_t footer_off, const char *file,
                        vk_error *err);

/* ---- dynamic disk header (1024 bytes, big-endian, at footer.data_offset) ---- */
#define VHD_HEADER_LEN 1024u
#define VHD_HEADER_COOKIE "cxsparse"
#define VHD_HEADER_OFF_COOKIE 0
#define VHD_HEADER_OFF_DATA_OFFSET 8
#define VHD_HEADER_OFF_TABLE_OFFSET 16
#define VHD_HEADER_OFF_VERSION 24
#define VHD_HEADER_OFF_MAX_TABLE_ENTRIES 28
#define VHD_HEADER_OFF_BLOCK_SIZE 32
#define VHD_HEADER_OFF_CHECKSUM 36
#define VHD_HEADER_OFF_PARENT_UUID 40
#define VHD_HEADER_OFF_PARENT_TIMESTAMP 56
#define VHD_HEADER_OFF_RESERVED1 60
#define VHD_HEADER_OFF_PARENT_NAME 64 /* 512 bytes, UTF-16 big-endian */
#define VHD_HEADER_PARENT_NAME_LEN 512
#define VHD_HEADER_OFF_LOCATORS 576   /* 8 entries of 24 bytes */
#define VHD_HEADER_OFF_RESERVED2 768
#define VHD_HEADER_RESERVED2_LEN 256
#define VHD_LOCATOR_COUNT 8
#define VHD_LOCATOR_ENTRY_LEN 24
#define VHD_HEADER_VERSION 0x00010000u
#define VHD_DEFAULT_BLOCK_SIZE (2u * 1024 * 1024)
#define VHD_BAT_UNUSED 0xFFFFFFFFu
/* Largest virtual size Microsoft's tools accept: 2040 GiB (0xFF000000 sectors; qemu VHD_MAX_SECTORS). Larger than
 * the largest CHS geometry: such disks carry geometry 65535/16/255 and are sized by the current-size field. */
#define VHD_MAX_SIZE (UINT64_C(0xFF000000) * 512)
/* Largest CHS geometry (spec appendix): 65535 cylinders, 16 heads, 255 sectors per track, about 127.5 GiB. */
#define VHD_MAX_CHS_SECTORS (UINT64_C(65535) * 16 * 255)
/* Largest block size vhdkit accepts (VHDX's limit; Microsoft's VHD tools use 512 KiB or 2 MiB). */
#define VHD_MAX_BLOCK_SIZE (256u * 1024 * 1024)

/* Parent locator platform codes. */
#define VHD_PLAT_NONE 0x00000000u
#define VHD_PLAT_WI2R 0x57693272u /* "Wi2r" deprecated relative */
#define VHD_PLAT_WI2K 0x5769326Bu /* "Wi2k" deprecated absolute */
#define VHD_PLAT_W2RU 0x57327275u /* "W2ru" relative Windows path, UTF-16LE */
#define VHD_PLAT_W2KU 0x57326B75u /* "W2ku" absolute Windows path, UTF-16LE */
#define VHD_PLAT_MAC 0x4D616320u  /* "Mac " alias blob */
#define VHD_PLAT_MACX 0x4D616358u /* "MacX" UTF-8 file URL */

struct vhd_locator {
    uint32_t code;
    uint32_t data_space;  /* as stored: bytes (Virtual PC, Hyper-V) or sectors (spec) */
    uint32_t data_length; /* bytes */
    uint32_t reserved;
    uint64_t data_offset; /* absolute byte offset in the file */
};

struct vhd_header {
    uint8_t cookie[8];
    uint64_t data_offset;
    uint64_t table_offset;
    uint32_t version;
    uint32_t max_table_entries;
    uint32_t block_size;
    uint32_t checksum;
    uint8_t parent_uuid[16];
    uint32_t parent_timestamp;
    uint32_t reserved1;
    uint8_t parent_name[VHD_HEADER_PARENT_NAME_LEN]; /* raw UTF-16BE, as stored */
    struct vhd_locator locators[VHD_LOCATOR_COUNT];
    uint8_t reserved2[VHD_HEADER_RESERVED2_LEN];
};

int vhd_header_decode(const uint8_t raw[VHD_HEADER_LEN], struct vhd_header *h, bool *checksum_ok);
void vhd_header_encode(struct vhd_header *h, uint8_t raw[VHD_HEADER_LEN]);
/* Rules: header inside the file, data offset all ones (or 0xFFFFFFFF), version 1.0, block size a power of two
 * (>= 512, <= 256 MiB), max_table_entries >= blocks needed for `virtual_size` and <= blocks of a 2040 GiB disk, BAT
 * before the trailing footer and off the header; every locator with a platform code: length <= its data space,
 * data before the trailing footer, data space off the header and the BAT. `header_off` is where the header sits
 * in the file. The checksum is not judged (see vhd_footer_validate). */
int vhd_header_validate(const struct vhd_header *h, uint64_t virtual_size, uint64_t file_size, uint64_t header_off,
                        const char *file, vk_error *err);

/* Size in bytes of the BAT on disk (entries * 4 rounded up to 512). */
uint64_t vhd_bat_bytes(uint32_t max_table_entries);
/* Bytes of the sector bitmap that starts each block: ceil(block_size/512/8) rounded up to 512. */
uint32_t vhd_bitmap_bytes(uint32_t block_size);
/* Decode `n` big-endian BAT entries from `raw` into host order. */
void vhd_bat_decode(const uint8_t *raw, uint32_t n, uint32_t *bat);
void vhd_bat_encode(const uint32_t *bat, uint32_t n, uint8_t *raw);
/* Sector bitmap bits: bit 7 of byte 0 is sector 0 (most significant bit first). */
static inline bool vhd_bitmap_get(const uint8_t *bm, uint32_t sector) { return (bm[sector >> 3] >> (7 - (sector & 7))) & 1; }
static inline void vhd_bitmap_set(uint8_t *bm, uint32_t sector) { bm[sector >> 3] |= (uint8_t)(0x80u >> (sector & 7)); }
static inline void vhd_bitmap_clear(uint8_t *bm, uint32_t sector) { bm[sector >> 3] &= (uint8_t)~(0x80u >> (sector & 7)); }

/* Locator data space in bytes: values below 512 are sectors (the spec), larger ones bytes (Virtual PC, Hyper-V). */
uint64_t vhd_locator_space_bytes(const struct vhd_locator *loc);
/* Decode a locator's path bytes into UTF-8 according to its platform code (W2ku/W2ru: UTF-16LE; MacX: UTF-8 file
 * URL, "file://" and a "localhost" authority stripped, %XX decoded; Wi2k/Wi2r: ASCII). Returns the length
 * (NUL-terminated in `out`), VK_E_CORRUPT, VK_E_UNSUPPORTED (Mac aliases, unknown codes, non-ASCII Wi2k) or
 * VK_E_RANGE (`outcap` too small). */
int vhd_locator_path_decode(uint32_t code, const uint8_t *data, size_t len, char *out, size_t outcap);
/* Encode a UTF-8 path for a platform code (W2ku/W2ru UTF-16LE, no terminator, path as given: the caller picks '\';
 * MacX "file://" URL escaping only controls, space, '%', '?', '#'). Returns bytes, VK_E_USAGE for an empty path,
 * VK_E_CORRUPT for invalid UTF-8 (W2ku/W2ru), VK_E_RANGE or VK_E_UNSUPPORTED (other codes). */
int vhd_locator_path_encode(uint32_t code, const char *path, uint8_t *out, size_t outcap);
/* Four-character name of a platform code ("W2ku"); "none" for an empty entry, "????" for unknown codes. */
const char *vhd_platform_name(uint32_t code, char buf[5]);

/* ---- geometry and which size wins ---- */
struct vhd_chs {
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors_per_track;
};
/* The spec's CHS algorithm (appendix; VHD-NOTES.md item 5) for a size in bytes. */
struct vhd_chs vhd_chs_for_size(uint64_t size);
static inline uint64_t vhd_chs_bytes(struct vhd_chs g) { return (uint64_t)g.cylinders * g.heads * g.sectors_per_track * 512; }

/* One table of creator applications: does this creator size its disks by CHS (Virtual PC, qemu's "qemu") or by
 * the current-size field (Hyper-V "win ", qemu "qem2", Disk2vhd "d2v ", blktap/XenServer "tap\0", XenConverter
 * "CTXS", Azure "wa\0\0", FreeBSD mkimg "*img", vhdkit "vhdk")? Maximal geometry (65535/16/255) always means
 * current size. */
enum vhd_size_source { VHD_SIZE_FROM_CURRENT, VHD_SIZE_FROM_CHS };
struct vhd_creator {
    char app[4];
    const char *name;             /* "Hyper-V / Windows", "Virtual PC", ... */
    enum vhd_size_source source;
};
/* Table row for a creator, or NULL when unknown (unknown creators use the current size). */
const struct vhd_creator *vhd_creator_lookup(const uint8_t app[4]);
enum vhd_size_source vhd_size_source(const struct vhd_footer *f);
/* Virtual disk size vhdkit uses for this footer (by the table above): for CHS creators the CHS product even when
 * current size differs (as qemu and Virtual PC), else current size. */
uint64_t vhd_virtual_size(const struct vhd_footer *f);

#endif
