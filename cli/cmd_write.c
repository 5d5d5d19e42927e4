/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit write: standard input into the virtual disk at an offset (only the top image of a chain changes). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "vhdkit/vhd.h"

const struct opt opts_write[] = {
    {"offset", 'o', "N", "virtual byte where the data goes (required)"},
    {NULL, 0, NULL, NULL},
};

#define WRITE_CHUNK (1u << 20)

/* Fills `buf` from stdin as far as it can; returns the bytes read (short only at end of input). */
static size_t read_full(uint8_t *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        size_t n = fread(buf + got, 1, cap - got, stdin);
        if (!n)
            break;
        got += n;
    }
    return got;
}

int cmd_write(struct ctx *c)
{
    const char *path = c->args.pos[0];
    if (!arg_has(&c->args, "offset"))
        return usage_error(c->cmd->name, "--offset is required");
    uint64_t off = 0;
    int rc = arg_size(&c->args, "offset", &off);
    if (rc)
        return rc;
    vk_error err = {0};
    vk_vhd *vhd = NULL;
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR};
    if (vk_vhd_open(path, &oo, &vhd, &err))
        return report_error(&err);
    vk_dev *dev = vk_vhd_dev(vhd);
    uint8_t *buf = malloc(WRITE_CHUNK);
    int status = 0;
    if (!buf) {
        vk_fail(&err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
        status = report_error(&err);
    }
    while (buf && !status) {
        size_t n = read_full(buf, WRITE_CHUNK);
        if (ferror(stdin)) {
            fprintf(stderr, "vhdkit: standard input: read failed\n");
            status = EXIT_IO;
            break;
        }
        if (!n)
            break;
        if (off > dev->size || n > dev->size - off) {
            status = usage_error(c->cmd->name, "the data runs past the end of the disk (%llu bytes)",
                                 (unsigned long long)dev->size);
            break;
        }
        if (vk_dev_write(dev, buf, n, off, &err))
            status = report_error(&err);
        off += n;
    }
    free(buf);
    if (!status && vk_vhd_flush(vhd, &err))
        status = report_error(&err);
    vk_vhd_close(vhd);
    return status;
}
