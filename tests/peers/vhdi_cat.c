/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test peer: prints the virtual bytes of a VHD chain as libvhdi reads them (vhdi_cat TOP [PARENT ...]). */
#include <libvhdi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what, libvhdi_error_t *error)
{
    fprintf(stderr, "vhdi_cat: %s\n", what);
    if (error) {
        libvhdi_error_fprint(error, stderr);
        libvhdi_error_free(&error);
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: vhdi_cat TOP [PARENT ...]\n");
        return 2;
    }
    int n = argc - 1;
    libvhdi_file_t **files = calloc((size_t)n, sizeof *files);
    libvhdi_error_t *error = NULL;
    if (!files)
        return 1;
    for (int i = 0; i < n; i++) {
        if (libvhdi_file_initialize(&files[i], &error) != 1)
            return fail("initialize", error);
        if (libvhdi_file_open(files[i], argv[i + 1], LIBVHDI_OPEN_READ, &error) != 1)
            return fail(argv[i + 1], error);
    }
    /* Each child learns its parent, from the bottom of the chain up. */
    for (int i = n - 2; i >= 0; i--)
        if (libvhdi_file_set_parent_file(files[i], files[i + 1], &error) != 1)
            return fail("set parent", error);
    size64_t size = 0;
    if (libvhdi_file_get_media_size(files[0], &size, &error) != 1)
        return fail("media size", error);
    static uint8_t buf[1 << 20];
    for (size64_t off = 0; off < size;) {
        size_t want = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
        ssize_t got = libvhdi_file_read_buffer_at_offset(files[0], buf, want, (off64_t)off, &error);
        if (got <= 0)
            return fail("read", error);
        if (fwrite(buf, 1, (size_t)got, stdout) != (size_t)got)
            return fail("write to stdout", NULL);
        off += (size64_t)got;
    }
    for (int i = 0; i < n; i++) {
        libvhdi_file_close(files[i], NULL);
        libvhdi_file_free(&files[i], NULL);
    }
    free(files);
    return fflush(stdout) ? 1 : 0;
}
