/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parent locator entries: data space units, path encodings per platform code (spec "Parent Locator Entries";
 * VHD-NOTES.md items 10 and 11). */
#include "format.h"

#include <string.h>

#include "core/utf16.h"

uint64_t vhd_locator_space_bytes(const struct vhd_locator *loc)
{
    /* The spec says sectors; Virtual PC and Hyper-V store bytes (dfvfs-fat-differential.vhd: 4096 and 65536).
     * No path fits in fewer than 512 bytes' worth of sectors, so a small value can only be a sector count. */
    if (loc->data_space < VHD_SECTOR)
        return (uint64_t)loc->data_space * VHD_SECTOR;
    return loc->data_space;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* MacX: an RFC 8089 file URL in UTF-8 ("file://./parent.vhd" from blktap, "file:///abs/path"), possibly NUL
 * padded. The scheme is stripped, "localhost" as authority too, %XX escapes decoded; the bytes are kept as they
 * are otherwise (POSIX paths are bytes). */
static int decode_macx(const uint8_t *data, size_t len, char *out, size_t outcap)
{
    static const char scheme[] = "file://";
    size_t end = 0;
    while (end < len && data[end])
        end++;
    if (end < sizeof scheme - 1 || memcmp(data, scheme, sizeof scheme - 1))
        return VK_E_CORRUPT;
    size_t i = sizeof scheme - 1;
    if (end - i >= 10 && !memcmp(data + i, "localhost/", 10))
        i += 9;
    size_t pos = 0;
    for (; i < end; i++) {
        uint8_t c = data[i];
        if (c == '%') {
            int hi = i + 2 < end ? hex_value(data[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(data[i + 2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0)) /* a truncated escape, or an embedded NUL */
                return VK_E_CORRUPT;
            c = (uint8_t)(hi << 4 | lo);
            i += 2;
        }
        if (pos + 1 >= outcap)
            return VK_E_RANGE;
        out[pos++] = (char)c;
    }
    if (!pos)
        return VK_E_CORRUPT;
    out[pos] = '\0';
    return (int)pos;
}

/* Wi2r/Wi2k (Virtual PC before 2004): a byte string in the Windows code page. Only ASCII can be read without
 * knowing that code page. */
static int decode_ascii(const uint8_t *data, size_t len, char *out, size_t outcap)
{
    size_t pos = 0;
    for (size_t i = 0; i < len && data[i]; i++) {
        if (data[i] >= 0x80)
            return VK_E_UNSUPPORTED;
        if (pos + 1 >= outcap)
            return VK_E_RANGE;
        out[pos++] = (char)data[i];
    }
    out[pos] = '\0';
    return (int)pos;
}

int vhd_locator_path_decode(uint32_t code, const uint8_t *data, size_t len, char *out, size_t outcap)
{
    if (!outcap)
        return VK_E_RANGE;
    switch (code) {
    case VHD_PLAT_W2KU:
    case VHD_PLAT_W2RU:
        if (len % 2)
            return VK_E_CORRUPT;
        return vk_utf16_to_utf8(data, len, VK_UTF16_LE, out, outcap);
    case VHD_PLAT_MACX:
        return decode_macx(data, len, out, outcap);
    case VHD_PLAT_WI2K:
    case VHD_PLAT_WI2R:
        return decode_ascii(data, len, out, outcap);
    default: /* "Mac " holds a Mac OS alias record; other codes are unknown */
        return VK_E_UNSUPPORTED;
    }
}

/* Bytes escaped in a file URL we write: those a URL cannot hold (controls, space) and those that would change its
 * meaning ('%', '?', '#'). Everything else stays as it is, UTF-8 included (an IRI), because blktap compares the
 * path after "file://" without decoding escapes: a plain path must stay plain. */
static bool url_escape(uint8_t c)
{
    return c <= 0x20 || c == 0x7f || c == '%' || c == '?' || c == '#';
}

static int encode_macx(const char *path, uint8_t *out, size_t outcap)
{
    static const char scheme[] = "file://";
    static const char hex[] = "0123456789ABCDEF";
    size_t pos = sizeof scheme - 1;
    if (!*path)
        return VK_E_USAGE;
    if (outcap < pos)
        return VK_E_RANGE;
    memcpy(out, scheme, pos);
    /* A relative path starting "localhost/" would read back as the local host's root: escape its slash. */
    const uint8_t *slash = !strncmp(path, "localhost/", 10) ? (const uint8_t *)path + 9 : NULL;
    for (const uint8_t *p = (const uint8_t *)path; *p; p++) {
        if (!url_escape(*p) && p != slash) {
            if (pos + 1 > outcap)
                return VK_E_RANGE;
            out[pos++] = *p;
        } else {
            if (pos + 3 > outcap)
                return VK_E_RANGE;
            out[pos++] = '%';
            out[pos++] = (uint8_t)hex[*p >> 4];
            out[pos++] = (uint8_t)hex[*p & 15];
        }
    }
    return (int)pos;
}

int vhd_locator_path_encode(uint32_t code, const char *path, uint8_t *out, size_t outcap)
{
    switch (code) {
    case VHD_PLAT_W2KU:
    case VHD_PLAT_W2RU:
        if (!*path)
            return VK_E_USAGE;
        return vk_utf8_to_utf16(path, VK_UTF16_LE, out, outcap);
    case VHD_PLAT_MACX:
        return encode_macx(path, out, outcap);
    default: /* vhdkit writes only the locators Hyper-V and blktap read */
        return VK_E_UNSUPPORTED;
    }
}

const char *vhd_platform_name(uint32_t code, char buf[5])
{
    static const uint32_t known[] = {VHD_PLAT_WI2R, VHD_PLAT_WI2K, VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MAC,
                                     VHD_PLAT_MACX};
    if (code == VHD_PLAT_NONE) {
        memcpy(buf, "none", 5);
        return buf;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (code == known[i]) {
            buf[0] = (char)(code >> 24);
            buf[1] = (char)(code >> 16);
            buf[2] = (char)(code >> 8);
            buf[3] = (char)code;
            buf[4] = '\0';
            return buf;
        }
    }
    memcpy(buf, "????", 5);
    return buf;
}
