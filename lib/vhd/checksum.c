/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VHD checksum (spec "Hard Disk Footer Format", Checksum; the dynamic header uses the same rule). */
#include "format.h"

uint32_t vhd_checksum(const uint8_t *raw, size_t len, size_t checksum_off)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        /* The stored checksum takes part as four zero bytes, so callers need not copy the buffer. */
        if (i >= checksum_off && i < checksum_off + 4)
            continue;
        sum += raw[i];
    }
    return ~sum;
}
