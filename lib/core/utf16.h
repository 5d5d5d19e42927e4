/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UTF-16 (little- or big-endian) to and from UTF-8, with surrogate pairs; invalid input is an error, not a crash. */
#ifndef VK_CORE_UTF16_H
#define VK_CORE_UTF16_H

#include <stddef.h>
#include <stdint.h>

enum vk_utf16_order { VK_UTF16_LE, VK_UTF16_BE };

/* Decode `nbytes` of UTF-16 (stops at a NUL code unit) into NUL-terminated UTF-8 in `out` (capacity `outcap`).
 * Returns the UTF-8 length, or a negative vk_err_code (VK_E_CORRUPT for unpaired surrogates, VK_E_RANGE if too long). */
int vk_utf16_to_utf8(const uint8_t *in, size_t nbytes, enum vk_utf16_order order, char *out, size_t outcap);

/* Encode NUL-terminated UTF-8 into UTF-16 in `out` (capacity `outcap` bytes, no terminator written).
 * Returns the number of bytes written, or a negative vk_err_code (VK_E_CORRUPT for invalid UTF-8, VK_E_RANGE if too long). */
int vk_utf8_to_utf16(const char *in, enum vk_utf16_order order, uint8_t *out, size_t outcap);

#endif
