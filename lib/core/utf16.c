/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UTF-16LE/BE <-> UTF-8 conversion (parent names are UTF-16BE, locators and NTFS names UTF-16LE). */
#include "utf16.h"

#include "bytes.h"
#include "vhdkit/error.h"

static unsigned get_unit(const uint8_t *p, enum vk_utf16_order order)
{
    return order == VK_UTF16_LE ? get_le16(p) : get_be16(p);
}

static void put_unit(uint8_t *p, unsigned v, enum vk_utf16_order order)
{
    if (order == VK_UTF16_LE)
        put_le16(p, (uint16_t)v);
    else
        put_be16(p, (uint16_t)v);
}

static int put_utf8(char *out, size_t outcap, size_t *pos, uint32_t cp)
{
    uint8_t tmp[4];
    size_t n;
    if (cp < 0x80) {
        tmp[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (uint8_t)(0xC0 | (cp >> 6));
        tmp[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (uint8_t)(0xE0 | (cp >> 12));
        tmp[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        tmp[0] = (uint8_t)(0xF0 | (cp >> 18));
        tmp[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (*pos + n + 1 > outcap) /* keep room for the terminator */
        return VK_E_RANGE;
    for (size_t i = 0; i < n; i++)
        out[(*pos)++] = (char)tmp[i];
    return 0;
}

int vk_utf16_to_utf8(const uint8_t *in, size_t nbytes, enum vk_utf16_order order, char *out, size_t outcap)
{
    if (!outcap)
        return VK_E_RANGE;
    size_t pos = 0;
    for (size_t i = 0; i + 1 < nbytes; i += 2) {
        uint32_t cp = get_unit(in + i, order);
        if (cp == 0)
            break;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 3 >= nbytes)
                return VK_E_CORRUPT;
            unsigned lo = get_unit(in + i + 2, order);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return VK_E_CORRUPT;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return VK_E_CORRUPT;
        }
        int rc = put_utf8(out, outcap, &pos, cp);
        if (rc)
            return rc;
    }
    out[pos] = '\0';
    return (int)pos;
}

/* Decode one UTF-8 sequence; returns its length or 0 when invalid (overlong, surrogate, out of range). */
static size_t get_utf8(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2; v = s[0] & 0x1F; min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3; v = s[0] & 0x0F; min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4; v = s[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

int vk_utf8_to_utf16(const char *in, enum vk_utf16_order order, uint8_t *out, size_t outcap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t pos = 0;
    while (*s) {
        uint32_t cp;
        size_t n = get_utf8(s, &cp);
        if (!n)
            return VK_E_CORRUPT;
        s += n;
        if (cp >= 0x10000) {
            if (pos + 4 > outcap)
                return VK_E_RANGE;
            cp -= 0x10000;
            put_unit(out + pos, 0xD800 + (cp >> 10), order);
            put_unit(out + pos + 2, 0xDC00 + (cp & 0x3FF), order);
            pos += 4;
        } else {
            if (pos + 2 > outcap)
                return VK_E_RANGE;
            put_unit(out + pos, cp, order);
            pos += 2;
        }
    }
    return (int)pos;
}
