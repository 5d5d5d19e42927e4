/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which clusters a volume uses: $Bitmap read in caller-sized pieces (vol->lcnbmp_na), and a file's cluster runs. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vk_ntfs_bitmap_read(vk_ntfs *v, uint64_t first_byte, void *buf, size_t len, size_t *got, vk_error *err)
{
    *got = 0;
    ntfs_attr *na = v->vol->lcnbmp_na;
    if (!na)
        return vk_fail(err, VK_E_CORRUPT, v->dev->name, VK_NO_OFFSET, "the volume has no $Bitmap open");
    if (first_byte >= (uint64_t)na->data_size || !len)
        return 0;
    if (len > (uint64_t)na->data_size - first_byte)
        len = (size_t)((uint64_t)na->data_size - first_byte);
    struct ntfs_sink *prev = log_enter(&v->sink);
    int rc = 0;
    while (*got < len && !rc) {
        s64 n = ntfs_attr_pread(na, (s64)(first_byte + *got), (s64)(len - *got), (uint8_t *)buf + *got);
        if (n <= 0)
            rc = ntfs_fail(v, n < 0 ? errno : EIO, err, "cannot read $Bitmap at byte %llu",
                           (unsigned long long)(first_byte + *got));
        else
            *got += (size_t)n;
    }
    log_leave(prev);
    return rc;
}

int vk_ntfs_data_runs(vk_ntfs *v, const char *path, vk_ntfs_run **runs, unsigned *n, vk_error *err)
{
    *runs = NULL;
    *n = 0;
    vk_ntfs_stat st;
    int rc = vk_ntfs_stat_path(v, path, &st, err);
    if (rc)
        return rc;
    for (unsigned i = 0; i < st.nattrs && !rc; i++) {
        const vk_ntfs_attr *a = &st.attrs[i];
        if (a->type != 0x80 || a->name[0] || a->resident || !a->nruns)
            continue;
        vk_ntfs_run *r = realloc(*runs, ((size_t)*n + a->nruns) * sizeof *r);
        if (!r) {
            rc = vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
            break;
        }
        memcpy(r + *n, a->runs, a->nruns * sizeof *r);
        *runs = r;
        *n += a->nruns;
    }
    vk_ntfs_stat_free(&st);
    if (rc) {
        free(*runs);
        *runs = NULL;
        *n = 0;
    }
    return rc;
}
