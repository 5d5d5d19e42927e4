/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Readable names of MBR type bytes and GPT type GUIDs, and the GUID text form (UEFI 2.10 appendix A). */
#include "vhdkit/part.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct mbr_name {
    uint8_t type;
    const char *name;
};

static const struct mbr_name mbr_names[] = {
    {0x01, "FAT12"},
    {0x04, "FAT16 <32M"},
    {0x05, "extended"},
    {0x06, "FAT16"},
    {0x07, "NTFS/exFAT"},
    {0x0B, "FAT32 (CHS)"},
    {0x0C, "FAT32 (LBA)"},
    {0x0E, "FAT16 (LBA)"},
    {0x0F, "extended (LBA)"},
    {0x11, "hidden FAT12"},
    {0x17, "hidden NTFS/exFAT"},
    {0x1B, "hidden FAT32"},
    {0x1C, "hidden FAT32 (LBA)"},
    {0x27, "Windows RE"},
    {0x42, "Windows dynamic disk (LDM)"},
    {0x82, "Linux swap"},
    {0x83, "Linux"},
    {0x85, "Linux extended"},
    {0x8E, "Linux LVM"},
    {0xEE, "GPT protective"},
    {0xEF, "EFI System"},
    {0xFD, "Linux RAID"},
};

const char *vk_part_mbr_type_name(uint8_t type)
{
    for (size_t i = 0; i < sizeof mbr_names / sizeof mbr_names[0]; i++)
        if (mbr_names[i].type == type)
            return mbr_names[i].name;
    return "unknown";
}

struct gpt_name {
    const char *guid;
    const char *name;
};

static const struct gpt_name gpt_names[] = {
    {VK_GPT_TYPE_EFI_SYSTEM, "EFI System"},
    {VK_GPT_TYPE_MS_RESERVED, "Microsoft Reserved"},
    {VK_GPT_TYPE_MS_BASIC_DATA, "Microsoft basic data"},
    {VK_GPT_TYPE_WINDOWS_RE, "Windows RE"},
    {"5808C8AA-7E8F-42E0-85D2-E1E90434CFB3", "Windows LDM metadata"},
    {"AF9B60A0-1431-4F62-BC68-3311714A69AD", "Windows LDM data"},
    {"E75CAF8F-F680-4CEE-AFA3-B001E56EFC2D", "Windows Storage Spaces"},
    {"21686148-6449-6E6F-744E-656564454649", "BIOS boot"},
    {VK_GPT_TYPE_LINUX_FS, "Linux filesystem"},
    {"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap"},
    {"E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM"},
    {"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)"},
    {"A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID"},
};

const char *vk_part_gpt_type_name(const uint8_t guid[16])
{
    char text[37];
    vk_guid_format(guid, text);
    for (size_t i = 0; i < sizeof gpt_names / sizeof gpt_names[0]; i++)
        if (!strcmp(gpt_names[i].guid, text))
            return gpt_names[i].name;
    return "unknown";
}

/* The first three fields are stored little-endian, the last two as bytes in text order. */
static const int guid_text_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

void vk_guid_format(const uint8_t guid[16], char out[37])
{
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        snprintf(p, 3, "%02X", guid[guid_text_order[i]]);
        p += 2;
    }
    *p = '\0';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int vk_guid_parse(const char *text, uint8_t guid[16])
{
    if (!text || strlen(text) != 36)
        return VK_E_USAGE;
    const char *p = text;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (*p++ != '-')
                return VK_E_USAGE;
        }
        int hi = hexval((unsigned char)p[0]), lo = hexval((unsigned char)p[1]);
        if (hi < 0 || lo < 0)
            return VK_E_USAGE;
        guid[guid_text_order[i]] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    return 0;
}
