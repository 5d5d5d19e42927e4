/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VHD hard disk footer: decode, encode and structural rules (spec "Hard Disk Footer Format"). */
#include "format.h"

#include <inttypes.h>
#include <string.h>

#include "core/bytes.h"
#include "core/checked.h"

_Static_assert(VHD_FOOTER_OFF_RESERVED + VHD_FOOTER_RESERVED_LEN == VHD_FOOTER_LEN, "footer layout adds up");

int vhd_footer_decode(const uint8_t raw[VHD_FOOTER_LEN], struct vhd_footer *f, bool *checksum_ok)
{
    if (memcmp(raw + VHD_FOOTER_OFF_COOKIE, VHD_FOOTER_COOKIE, 8))
        return VK_E_CORRUPT;
    memcpy(f->cookie, raw + VHD_FOOTER_OFF_COOKIE, 8);
    f->features = get_be32(raw + VHD_FOOTER_OFF_FEATURES);
    f->version = get_be32(raw + VHD_FOOTER_OFF_VERSION);
    f->data_offset = get_be64(raw + VHD_FOOTER_OFF_DATA_OFFSET);
    f->timestamp = get_be32(raw + VHD_FOOTER_OFF_TIMESTAMP);
    memcpy(f->creator_app, raw + VHD_FOOTER_OFF_CREATOR_APP, 4);
    f->creator_version = get_be32(raw + VHD_FOOTER_OFF_CREATOR_VERSION);
    memcpy(f->creator_os, raw + VHD_FOOTER_OFF_CREATOR_OS, 4);
    f->original_size = get_be64(raw + VHD_FOOTER_OFF_ORIGINAL_SIZE);
    f->current_size = get_be64(raw + VHD_FOOTER_OFF_CURRENT_SIZE);
    f->cylinders = get_be16(raw + VHD_FOOTER_OFF_GEOMETRY);
    f->heads = raw[VHD_FOOTER_OFF_GEOMETRY + 2];
    f->sectors_per_track = raw[VHD_FOOTER_OFF_GEOMETRY + 3];
    f->disk_type = get_be32(raw + VHD_FOOTER_OFF_DISK_TYPE);
    f->checksum = get_be32(raw + VHD_FOOTER_OFF_CHECKSUM);
    memcpy(f->uuid, raw + VHD_FOOTER_OFF_UUID, 16);
    f->saved_state = raw[VHD_FOOTER_OFF_SAVED_STATE];
    memcpy(f->reserved, raw + VHD_FOOTER_OFF_RESERVED, VHD_FOOTER_RESERVED_LEN);
    if (checksum_ok)
        *checksum_ok = vhd_checksum(raw, VHD_FOOTER_LEN, VHD_FOOTER_OFF_CHECKSUM) == f->checksum;
    return 0;
}

void vhd_footer_encode(struct vhd_footer *f, uint8_t raw[VHD_FOOTER_LEN])
{
    memcpy(raw + VHD_FOOTER_OFF_COOKIE, f->cookie, 8);
    put_be32(raw + VHD_FOOTER_OFF_FEATURES, f->features);
    put_be32(raw + VHD_FOOTER_OFF_VERSION, f->version);
    put_be64(raw + VHD_FOOTER_OFF_DATA_OFFSET, f->data_offset);
    put_be32(raw + VHD_FOOTER_OFF_TIMESTAMP, f->timestamp);
    memcpy(raw + VHD_FOOTER_OFF_CREATOR_APP, f->creator_app, 4);
    put_be32(raw + VHD_FOOTER_OFF_CREATOR_VERSION, f->creator_version);
    memcpy(raw + VHD_FOOTER_OFF_CREATOR_OS, f->creator_os, 4);
    put_be64(raw + VHD_FOOTER_OFF_ORIGINAL_SIZE, f->original_size);
    put_be64(raw + VHD_FOOTER_OFF_CURRENT_SIZE, f->current_size);
    put_be16(raw + VHD_FOOTER_OFF_GEOMETRY, f->cylinders);
    raw[VHD_FOOTER_OFF_GEOMETRY + 2] = f->heads;
    raw[VHD_FOOTER_OFF_GEOMETRY + 3] = f->sectors_per_track;
    put_be32(raw + VHD_FOOTER_OFF_DISK_TYPE, f->disk_type);
    memcpy(raw + VHD_FOOTER_OFF_UUID, f->uuid, 16);
    raw[VHD_FOOTER_OFF_SAVED_STATE] = f->saved_state;
    memcpy(raw + VHD_FOOTER_OFF_RESERVED, f->reserved, VHD_FOOTER_RESERVED_LEN);
    f->checksum = vhd_checksum(raw, VHD_FOOTER_LEN, VHD_FOOTER_OFF_CHECKSUM);
    put_be32(raw + VHD_FOOTER_OFF_CHECKSUM, f->checksum);
}

/* True when [a, a+alen) and [b, b+blen) share a byte (lengths are small, offsets already known to fit). */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* The checksum is not judged here: qemu and Windows open images whose checksum is wrong (dfvfs-image.vhd), so
 * the caller decides from vhd_footer_decode's checksum_ok whether to warn or refuse. The features field is not
 * judged either: the spec's "always set" bit 0x2 carries no meaning and no reader checks it. */
int vhd_footer_validate(const struct vhd_footer *f, uint64_t file_size, uint64_t footer_off, const char *file,
                        vk_error *err)
{
    if (!ck_range_inside(footer_off, VHD_FOOTER_LEN, file_size))
        return vk_fail(err, VK_E_TRUNCATED, file, footer_off, "footer at offset %" PRIu64 " runs past the end of "
                       "the file (%" PRIu64 " bytes)", footer_off, file_size);
    if (memcmp(f->cookie, VHD_FOOTER_COOKIE, 8))
        return vk_fail(err, VK_E_CORRUPT, file, footer_off + VHD_FOOTER_OFF_COOKIE, "footer cookie is not "
                       "\"conectix\"");
    if (f->version != VHD_VERSION)
        return vk_fail(err, VK_E_UNSUPPORTED, file, footer_off + VHD_FOOTER_OFF_VERSION, "footer version 0x%08" PRIx32
                       " is not 1.0", f->version);
    if (f->disk_type != VHD_TYPE_FIXED && f->disk_type != VHD_TYPE_DYNAMIC && f->disk_type != VHD_TYPE_DIFF)
        return vk_fail(err, VK_E_UNSUPPORTED, file, footer_off + VHD_FOOTER_OFF_DISK_TYPE, "disk type %" PRIu32
                       " is not fixed (2), dynamic (3) or differencing (4)", f->disk_type);
    if (f->current_size % VHD_SECTOR)
        return vk_fail(err, VK_E_CORRUPT, file, footer_off + VHD_FOOTER_OFF_CURRENT_SIZE, "current size %" PRIu64
                       " is not a multiple of 512", f->current_size);
    if (f->current_size > VHD_MAX_SIZE)
        return vk_fail(err, VK_E_UNSUPPORTED, file, footer_off + VHD_FOOTER_OFF_CURRENT_SIZE, "current size %" PRIu64
                       " is larger than the VHD limit of 2040 GiB", f->current_size);
    uint64_t vsize = vhd_virtual_size(f);
    if (f->disk_type == VHD_TYPE_FIXED) {
        /* The spec writes 0xFFFFFFFF, Microsoft's tools all 64 bits: both mean "no next structure". */
        if (f->data_offset != VHD_FIXED_DATA_OFFSET && f->data_offset != UINT32_MAX)
            return vk_fail(err, VK_E_CORRUPT, file, footer_off + VHD_FOOTER_OFF_DATA_OFFSET, "fixed disk has data "
                           "offset 0x%" PRIx64 " instead of 0xffffffffffffffff", f->data_offset);
        /* A fixed disk's data is everything before its footer. */
        if (vsize > footer_off)
            return vk_fail(err, VK_E_TRUNCATED, file, footer_off + (vhd_size_source(f) == VHD_SIZE_FROM_CHS ?
                           VHD_FOOTER_OFF_GEOMETRY : VHD_FOOTER_OFF_CURRENT_SIZE), "fixed disk of %" PRIu64 " bytes "
                           "but only %" PRIu64 " bytes precede its footer", vsize, footer_off);
        return 0;
    }
    uint64_t hdr_end;
    if (ck_add_u64(f->data_offset, VHD_HEADER_LEN, &hdr_end) || hdr_end > file_size)
        return vk_fail(err, VK_E_CORRUPT, file, footer_off + VHD_FOOTER_OFF_DATA_OFFSET, "dynamic header offset %"
                       PRIu64 " runs past the end of the file (%" PRIu64 " bytes)", f->data_offset, file_size);
    if (overlaps(f->data_offset, VHD_HEADER_LEN, footer_off, VHD_FOOTER_LEN))
        return vk_fail(err, VK_E_CORRUPT, file, footer_off + VHD_FOOTER_OFF_DATA_OFFSET, "dynamic header offset %"
                       PRIu64 " overlaps the footer at %" PRIu64, f->data_offset, footer_off);
    return 0;
}
