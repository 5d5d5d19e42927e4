/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit read: virtual disk bytes (through the whole chain) to standard output. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "vhdkit/vhd.h"

const struct opt opts_read[] = {
    {"offset", 'o', "N", "first virtual byte to read (default 0)"},
    {"length", 'l', "N", "bytes to read (default: to the end of the disk)"},
    {NULL, 0, NULL, NULL},
};

#define READ_CHUNK (1u << 20)

int cmd_read(struct ctx *c)
{
    const char *path = c->args.pos[0];
    uint64_t off = 0, len = UINT64_MAX;
    int rc = arg_size(&c->args, "offset", &off);
    if (!rc)
        rc = arg_size(&c->args, "length", &len);
    if (rc)
        return rc;
    vk_error err = {0};
    vk_dev *dev = NULL;
    struct vk_vhd_open_opts oo = {0};
    if (vk_image_open(path, &oo, &dev, NULL, &err))
        return report_error(&err);
    uint64_t size = dev->size;
    if (off > size || (len != UINT64_MAX && len > size - off)) {
        vk_dev_close(dev);
        return usage_error(c->cmd->name, "offset %llu%s runs past the end of the disk (%llu bytes)",
                           (unsigned long long)off, len != UINT64_MAX ? " + length" : "", (unsigned long long)size);
    }
    if (len == UINT64_MAX)
        len = size - off;
    uint8_t *buf = malloc(READ_CHUNK);
    int status = 0;
    if (!buf) {
        vk_fail(&err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
        status = report_error(&err);
    }
    while (buf && len && !status) {
        size_t n = len < READ_CHUNK ? (size_t)len : READ_CHUNK;
        if (vk_dev_read(dev, buf, n, off, &err)) {
            status = report_error(&err);
        } else if (fwrite(buf, 1, n, stdout) != n) {
            status = EXIT_IO; /* reported once by main's stdout check */
        }
        off += n;
        len -= n;
    }
    free(buf);
    vk_dev_close(dev);
    return status;
}
