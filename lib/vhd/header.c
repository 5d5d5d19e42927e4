/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VHD dynamic disk header: decode, encode and structural rules (spec "Dynamic Disk Header Format"). */
#include "format.h"

#include <inttypes.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checked.h"

_Static_assert(VHD_HEADER_OFF_LOCATORS + VHD_LOCATOR_COUNT * VHD_LOCATOR_ENTRY_LEN == VHD_HEADER_OFF_RESERVED2,
               "locator table ends where the reserved area starts");
_Static_assert(VHD_HEADER_OFF_RESERVED2 + VHD_HEADER_RESERVED2_LEN == VHD_HEADER_LEN, "header layout adds up");

/* Field offsets inside one locator entry. */
#define LOC_OFF_CODE 0
#define LOC_OFF_SPACE 4
#define LOC_OFF_LENGTH 8
#define LOC_OFF_RESERVED 12
#define LOC_OFF_DATA_OFFSET 16

int vhd_header_decode(const uint8_t raw[VHD_HEADER_LEN], struct vhd_header *h, bool *checksum_ok)
{
    if (memcmp(raw + VHD_HEADER_OFF_COOKIE, VHD_HEADER_COOKIE, 8))
        return VK_E_CORRUPT;
    memcpy(h->cookie, raw + VHD_HEADER_OFF_COOKIE, 8);
    h->data_offset = get_be64(raw + VHD_HEADER_OFF_DATA_OFFSET);
    h->table_offset = get_be64(raw + VHD_HEADER_OFF_TABLE_OFFSET);
    h->version = get_be32(raw + VHD_HEADER_OFF_VERSION);
    h->max_table_entries = get_be32(raw + VHD_HEADER_OFF_MAX_TABLE_ENTRIES);
    h->block_size = get_be32(raw + VHD_HEADER_OFF_BLOCK_SIZE);
    h->checksum = get_be32(raw + VHD_HEADER_OFF_CHECKSUM);
    memcpy(h->parent_uuid, raw + VHD_HEADER_OFF_PARENT_UUID, 16);
    h->parent_timestamp = get_be32(raw + VHD_HEADER_OFF_PARENT_TIMESTAMP);
    h->reserved1 = get_be32(raw + VHD_HEADER_OFF_RESERVED1);
    memcpy(h->parent_name, raw + VHD_HEADER_OFF_PARENT_NAME, VHD_HEADER_PARENT_NAME_LEN);
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++) {
        const uint8_t *e = raw + VHD_HEADER_OFF_LOCATORS + i * VHD_LOCATOR_ENTRY_LEN;
        struct vhd_locator *l = &h->locators[i];
        l->code = get_be32(e + LOC_OFF_CODE);
        l->data_space = get_be32(e + LOC_OFF_SPACE);
        l->data_length = get_be32(e + LOC_OFF_LENGTH);
        l->reserved = get_be32(e + LOC_OFF_RESERVED);
        l->data_offset = get_be64(e + LOC_OFF_DATA_OFFSET);
    }
    memcpy(h->reserved2, raw + VHD_HEADER_OFF_RESERVED2, VHD_HEADER_RESERVED2_LEN);
    if (checksum_ok)
        *checksum_ok = vhd_checksum(raw, VHD_HEADER_LEN, VHD_HEADER_OFF_CHECKSUM) == h->checksum;
    return 0;
}

void vhd_header_encode(struct vhd_header *h, uint8_t raw[VHD_HEADER_LEN])
{
    memcpy(raw + VHD_HEADER_OFF_COOKIE, h->cookie, 8);
    put_be64(raw + VHD_HEADER_OFF_DATA_OFFSET, h->data_offset);
    put_be64(raw + VHD_HEADER_OFF_TABLE_OFFSET, h->table_offset);
    put_be32(raw + VHD_HEADER_OFF_VERSION, h->version);
    put_be32(raw + VHD_HEADER_OFF_MAX_TABLE_ENTRIES, h->max_table_entries);
    put_be32(raw + VHD_HEADER_OFF_BLOCK_SIZE, h->block_size);
    memcpy(raw + VHD_HEADER_OFF_PARENT_UUID, h->parent_uuid, 16);
    put_be32(raw + VHD_HEADER_OFF_PARENT_TIMESTAMP, h->parent_timestamp);
    put_be32(raw + VHD_HEADER_OFF_RESERVED1, h->reserved1);
    memcpy(raw + VHD_HEADER_OFF_PARENT_NAME, h->parent_name, VHD_HEADER_PARENT_NAME_LEN);
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++) {
        uint8_t *e = raw + VHD_HEADER_OFF_LOCATORS + i * VHD_LOCATOR_ENTRY_LEN;
        const struct vhd_locator *l = &h->locators[i];
        put_be32(e + LOC_OFF_CODE, l->code);
        put_be32(e + LOC_OFF_SPACE, l->data_space);
        put_be32(e + LOC_OFF_LENGTH, l->data_length);
        put_be32(e + LOC_OFF_RESERVED, l->reserved);
        put_be64(e + LOC_OFF_DATA_OFFSET, l->data_offset);
    }
    memcpy(raw + VHD_HEADER_OFF_RESERVED2, h->reserved2, VHD_HEADER_RESERVED2_LEN);
    h->checksum = vhd_checksum(raw, VHD_HEADER_LEN, VHD_HEADER_OFF_CHECKSUM);
    put_be32(raw + VHD_HEADER_OFF_CHECKSUM, h->checksum);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Locator `i`: its data must lie inside the file before the trailing footer, and neither its data nor the space
 * reserved for it may overlap the header or the BAT (a rewrite of the path would destroy them). */
static int validate_locator(const struct vhd_header *h, unsigned i, uint64_t data_end, uint64_t header_off,
                            uint64_t bat_len, const char *file, vk_error *err)
{
    const struct vhd_locator *l = &h->locators[i];
    uint64_t entry_off = header_off + VHD_HEADER_OFF_LOCATORS + (uint64_t)i * VHD_LOCATOR_ENTRY_LEN;
    char name[5];
    vhd_platform_name(l->code, name);
    if (l->code == VHD_PLAT_NONE)
        return 0;
    uint64_t space = vhd_locator_space_bytes(l);
    if (l->data_length > space)
        return vk_fail(err, VK_E_CORRUPT, file, entry_off + LOC_OFF_LENGTH, "parent locator %u (%s) holds %" PRIu32
                       " bytes but reserves only %" PRIu64, i, name, l->data_length, space);
    if (!ck_range_inside(l->data_offset, l->data_length, data_end))
        return vk_fail(err, VK_E_CORRUPT, file, entry_off + LOC_OFF_DATA_OFFSET, "parent locator %u (%s) data at "
                       "offset %" PRIu64 ", %" PRIu32 " bytes, runs past the end of the data (%" PRIu64 " bytes)", i,
                       name, l->data_offset, l->data_length, data_end);
    /* space < 2^41 and data_offset < file size: the sums cannot overflow. */
    if (overlaps(l->data_offset, space, header_off, VHD_HEADER_LEN))
        return vk_fail(err, VK_E_CORRUPT, file, entry_off + LOC_OFF_DATA_OFFSET, "parent locator %u (%s) space at "
                       "offset %" PRIu64 " overlaps the dynamic header", i, name, l->data_offset);
    if (overlaps(l->data_offset, space, h->table_offset, bat_len))
        return vk_fail(err, VK_E_CORRUPT, file, entry_off + LOC_OFF_DATA_OFFSET, "parent locator %u (%s) space at "
                       "offset %" PRIu64 " overlaps the BAT", i, name, l->data_offset);
    return 0;
}

int vhd_header_validate(const struct vhd_header *h, uint64_t virtual_size, uint64_t file_size, uint64_t header_off,
                        const char *file, vk_error *err)
{
    /* Everything the header points at lies before the trailing footer (which may be 511 bytes in images older
     * than Virtual PC 2004: then one byte is lost to the limit, harmless as every structure is sector-sized). */
    uint64_t data_end = file_size >= VHD_FOOTER_LEN ? file_size - VHD_FOOTER_LEN : 0;
    if (!ck_range_inside(header_off, VHD_HEADER_LEN, data_end))
        return vk_fail(err, VK_E_TRUNCATED, file, header_off, "dynamic header at offset %" PRIu64 " runs past the "
                       "end of the data (%" PRIu64 " bytes)", header_off, data_end);
    if (memcmp(h->cookie, VHD_HEADER_COOKIE, 8))
        return vk_fail(err, VK_E_CORRUPT, file, header_off + VHD_HEADER_OFF_COOKIE, "dynamic header cookie is not "
                       "\"cxsparse\"");
    /* The spec writes 0xFFFFFFFF, Microsoft's tools all 64 bits (qemu block/vpc.c): both mean "none". */
    if (h->data_offset != UINT64_MAX && h->data_offset != UINT32_MAX)
        return vk_fail(err, VK_E_CORRUPT, file, header_off + VHD_HEADER_OFF_DATA_OFFSET, "dynamic header data "
                       "offset 0x%" PRIx64 " is not 0xffffffffffffffff", h->data_offset);
    if (h->version != VHD_HEADER_VERSION)
        return vk_fail(err, VK_E_UNSUPPORTED, file, header_off + VHD_HEADER_OFF_VERSION, "dynamic header version "
                       "0x%08" PRIx32 " is not 1.0", h->version);
    if (!is_pow2_u64(h->block_size) || h->block_size < VHD_SECTOR)
        return vk_fail(err, VK_E_CORRUPT, file, header_off + VHD_HEADER_OFF_BLOCK_SIZE, "block size %" PRIu32
                       " is not a power of two of at least 512", h->block_size);
    if (h->block_size > VHD_MAX_BLOCK_SIZE)
        return vk_fail(err, VK_E_UNSUPPORTED, file, header_off + VHD_HEADER_OFF_BLOCK_SIZE, "block size %" PRIu32
                       " is larger than 256 MiB", h->block_size);
    uint64_t needed = virtual_size / h->block_size + (virtual_size % h->block_size != 0);
    if (h->max_table_entries < needed)
        return vk_fail(err, VK_E_CORRUPT, file, header_off + VHD_HEADER_OFF_MAX_TABLE_ENTRIES, "max table entries %"
                       PRIu32 " cannot cover a virtual size of %" PRIu64 " bytes (%" PRIu64 " blocks of %" PRIu32
                       ")", h->max_table_entries, virtual_size, needed, h->block_size);
    /* As qemu: no more entries than the largest VHD needs, so a hostile count cannot make a huge allocation. */
    uint64_t limit = VHD_MAX_SIZE / h->block_size + (VHD_MAX_SIZE % h->block_size != 0);
    if (h->max_table_entries > limit)
        return vk_fail(err, VK_E_CORRUPT, file, header_off + VHD_HEADER_OFF_MAX_TABLE_ENTRIES, "max table entries %"
                       PRIu32 " exceed the %" PRIu64 " blocks of a 2040 GiB disk", h->max_table_entries, limit);
    uint64_t bat_len = vhd_bat_bytes(h->max_table_entries);
    if (!ck_range_inside(h->table_offset, bat_len, data_end))
        return vk_fail(err, VK_E_CORRUPT, file, header_off + VHD_HEADER_OFF_TABLE_OFFSET, "BAT at offset %" PRIu64
                       ", %" PRIu64 " bytes, runs past the end of the data (%" PRIu64 " bytes)", h->table_offset,
                       bat_len, data_end);
    if (overlaps(h->table_offset, bat_len, header_off, VHD_HEADER_LEN))
        return vk_fail(err, VK_E_CORRUPT, file, header_off + VHD_HEADER_OFF_TABLE_OFFSET, "BAT at offset %" PRIu64
                       " overlaps the dynamic header", h->table_offset);
    for (unsigned i = 0; i < VHD_LOCATOR_COUNT; i++) {
        int rc = validate_locator(h, i, data_end, header_off, bat_len, file, err);
        if (rc)
            return rc;
    }
    return 0;
}
