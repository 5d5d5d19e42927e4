/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Durable renames and creations: fsync the folder that holds a path (one copy for every new-file mode). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhdkit/dev.h"

int vk_sync_parent_dir(const char *path, vk_error *err)
{
    char *copy = strdup(path);
    if (!copy)
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || fsync(fd) < 0)
        rc = vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "cannot sync the folder that holds it");
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}
