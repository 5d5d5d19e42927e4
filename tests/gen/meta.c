/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen meta IMAGE PATH ATTRS SD: gives a file or folder of the image's NTFS volume Windows attribute bits and a
 * security descriptor (hex), as Windows programs leave them, for tests of what vhdkit must carry along with the
 * bytes (rebase --files). Peers (ntfssecaudit) read the result; vhdkit's own reading is not the judge. */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_value(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Hex digits to bytes (malloc'd); -1 on an odd count or a non-hex character. */
static int parse_hex(const char *text, uint8_t **out, size_t *len)
{
    size_t n = strlen(text);
    if (n == 0 || n % 2)
        return -1;
    uint8_t *b = malloc(n / 2);
    if (!b)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return -1;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return 0;
}

int gen_meta(const char *image, const char *path, const char *attrs_text, const char *sd_hex)
{
    char *end;
    unsigned long attrs = strtoul(attrs_text, &end, 0);
    uint8_t *sd = NULL;
    size_t sd_len = 0;
    if (*end || end == attrs_text || (strcmp(sd_hex, "-") && parse_hex(sd_hex, &sd, &sd_len))) {
        fprintf(stderr, "vk-gen meta: ATTRS is a number, SD hex digits or -\n");
        return 2;
    }
    vk_error err = {0};
    vk_dev *disk = NULL, *vdev = NULL;
    vk_ntfs *vol = NULL;
    unsigned part;
    int rc = vk_image_open(image, &(struct vk_vhd_open_opts){.flags = VK_VHD_RDWR}, &disk, NULL, &err);
    if (!rc)
        rc = vk_ntfs_choose(disk, 0, &(vk_ntfs_opts){0}, &vol, &vdev, &part, &err);
    if (!rc && sd) /* first: a descriptor refused leaves the file as it was */
        rc = vk_ntfs_set_security(vol, path, sd, sd_len, &err);
    if (!rc)
        rc = vk_ntfs_set_attrs(vol, path, (uint32_t)attrs, &err);
    if (vol) {
        int rc2 = vk_ntfs_unmount(vol, rc ? NULL : &err);
        rc = rc ? rc : rc2;
    }
    vk_dev_close(vdev);
    vk_dev_close(disk);
    free(sd);
    if (rc) {
        char msg[1024];
        vk_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "vk-gen meta: %s: %s\n", image, msg);
        return 1;
    }
    return 0;
}
