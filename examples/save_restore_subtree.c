/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Example: save a subtree of a guest's registry to a .reg file and restore it later, as hypervisor code would,
 * through libvhdkit's public API only (vhd.h for the image, ntfs.h for the Windows volume, reg.h for the hive).
 *
 *   save_restore_subtree save IMAGE KEY FILE     e.g. KEY = 'HKLM\SOFTWARE\Vendor\Agent'
 *   save_restore_subtree restore IMAGE FILE      the keys of FILE back into the same hive, in one commit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhdkit/ntfs.h"
#include "vhdkit/reg.h"
#include "vhdkit/vhd.h"

struct guest {
    vk_dev *disk, *part;
    vk_ntfs *vol;
};

static int fail(const char *what, const vk_error *err)
{
    char msg[1024];
    vk_error_format(err, msg, sizeof msg);
    fprintf(stderr, "save_restore_subtree: %s: %s\n", what, msg);
    return vk_exit_status(err->code);
}

/* The image (with its differencing chain) and the Windows volume in it; writable only to restore. */
static int guest_open(struct guest *g, const char *image, int rw, vk_error *err)
{
    memset(g, 0, sizeof *g);
    struct vk_vhd_open_opts oo = {.flags = rw ? VK_VHD_RDWR : 0};
    int rc = vk_image_open(image, &oo, &g->disk, NULL, err);
    if (rc)
        return rc;
    /* A read-write mount refuses hibernated and unclean volumes: Windows would lose its own state otherwise. */
    vk_ntfs_opts no = {.flags = rw ? 0 : VK_NTFS_RDONLY};
    unsigned chosen;
    rc = vk_ntfs_choose(g->disk, 0, &no, &g->vol, &g->part, &chosen, err);
    if (rc)
        vk_dev_close(g->disk);
    return rc;
}

static int guest_close(struct guest *g, vk_error *err)
{
    int rc = vk_ntfs_unmount(g->vol, err);
    vk_dev_close(g->part);
    vk_dev_close(g->disk); /* closes the VHD chain, flushing its metadata */
    return rc;
}

/* The hive of `key` in the volume, opened with its logs replayed. */
static int hive_open(struct guest *g, const char *key, unsigned flags, vk_reg_path *path, char file[VK_REG_FILE_MAX],
                     vk_reg_hive **h, vk_error *err)
{
    int rc = vk_reg_path_parse(key, NULL, path, err);
    if (!rc)
        rc = vk_reg_volume_find(g->vol, path, file, err);
    if (!rc)
        rc = vk_reg_volume_open(g->vol, file, flags, h, err);
    return rc;
}

static int save(const char *image, const char *key, const char *out)
{
    vk_error err = {0};
    struct guest g;
    if (guest_open(&g, image, 0, &err))
        return fail(image, &err);
    vk_reg_path path;
    char file[VK_REG_FILE_MAX], root[VK_REG_PATH_MAX];
    vk_reg_hive *h = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = hive_open(&g, key, 0, &path, file, &h, &err);
    if (!rc)
        rc = vk_reg_root_name(&path, root, sizeof root, &err);
    if (!rc)
        rc = vk_reg_export(h, path.subkey, root, VK_REG_FMT_UTF16, &text, &len, &err);
    vk_reg_hive_close(h);
    guest_close(&g, NULL);
    if (rc)
        return fail(key, &err);
    FILE *f = fopen(out, "wb");
    int bad = !f || fwrite(text, 1, len, f) != len;
    if (f && fclose(f))
        bad = 1;
    free(text);
    if (bad) {
        perror(out);
        return 5;
    }
    printf("saved %s (%s) to %s, %zu bytes\n", key, file, out, len);
    return 0;
}

/* The first [KEY] line names the hive (regedit writes UTF-16LE; the root names are ASCII). */
static int first_key(const uint8_t *t, size_t n, char *key, size_t cap)
{
    size_t step = n >= 2 && t[0] == 0xff && t[1] == 0xfe ? 2 : 1, o = 0;
    const uint8_t *p = memchr(t, '[', n);
    if (!p)
        return -1;
    for (size_t i = (size_t)(p - t) + step; i < n && o + 1 < cap && t[i] != ']' && t[i] != '\r' && t[i] != '\n';
         i += step)
        key[o++] = (char)t[i];
    key[o] = '\0';
    return o ? 0 : -1;
}

static int restore(const char *image, const char *in)
{
    FILE *f = fopen(in, "rb");
    if (!f) {
        perror(in);
        return 5;
    }
    static uint8_t text[16u << 20];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    char key[VK_REG_PATH_MAX];
    if (first_key(text, len, key, sizeof key)) {
        fprintf(stderr, "save_restore_subtree: %s: no [KEY] line\n", in);
        return 3;
    }
    vk_error err = {0};
    struct guest g;
    if (guest_open(&g, image, 1, &err))
        return fail(image, &err);
    vk_reg_path path;
    char file[VK_REG_FILE_MAX];
    vk_reg_hive *h = NULL;
    int rc = hive_open(&g, key, VK_REG_OPEN_WRITE, &path, file, &h, &err);
    /* All of the file, then one atomic replacement of the hive in the volume: all of it lands, or none. */
    if (!rc)
        rc = vk_reg_import(h, &path, text, len, &err);
    if (!rc)
        rc = vk_reg_volume_commit(g.vol, file, h, &err);
    vk_reg_hive_close(h);
    vk_error cerr = {0};
    int crc = guest_close(&g, &cerr);
    if (rc)
        return fail(file, &err);
    if (crc)
        return fail(image, &cerr);
    printf("restored %s into %s\n", in, file);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "save"))
        return save(argv[2], argv[3], argv[4]);
    if (argc == 4 && !strcmp(argv[1], "restore"))
        return restore(argv[2], argv[3]);
    fprintf(stderr, "usage: save_restore_subtree save IMAGE KEY FILE\n"
                    "       save_restore_subtree restore IMAGE FILE\n");
    return 2;
}
