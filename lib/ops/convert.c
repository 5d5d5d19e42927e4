/* SPDX-License-Identifier: GPL-2.0-or-later */
/* convert: copy the virtual content of a raw or VHD image into a new fixed, dynamic or raw image, walking extents so
 * unwritten ranges are never read and zero data is never written (DESIGN.md "extent"). */
#include "vhdkit/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checked.h"

#define COPY_CHUNK (1u << 20)   /* bytes read at a time */
#define ZERO_GRANULE 4096u      /* zero detection granularity: a page, a cluster of every common filesystem */
#define EXTENT_QUERY (UINT64_C(1) << 30)

struct dest {
    vk_vhd *vhd;   /* VHD output */
    vk_dev *dev;   /* where virtual bytes go: the VHD's device, or the raw file */
    vk_dev *raw;   /* raw output file (owned) */
};

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

/* Writes the non-zero granules of `buf` (virtual offset `off`), each maximal run of them in one write. */
static int write_nonzero(vk_dev *dst, const uint8_t *buf, size_t len, uint64_t off, uint64_t *written, vk_error *err)
{
    size_t i = 0;
    while (i < len) {
        size_t g = len - i < ZERO_GRANULE ? len - i : ZERO_GRANULE;
        if (all_zero(buf + i, g)) {
            i += g;
            continue;
        }
        size_t start = i;
        while (i < len) {
            g = len - i < ZERO_GRANULE ? len - i : ZERO_GRANULE;
            if (all_zero(buf + i, g))
                break;
            i += g;
        }
        int rc = vk_dev_write(dst, buf + start, i - start, off + start, err);
        if (rc)
            return rc;
        *written += i - start;
    }
    return 0;
}

/* Kind and length of the source run at `off`: through the chain for VHDs, holes for raw files. */
static int source_extent(vk_dev *src, vk_vhd *svhd, uint64_t off, uint64_t len, bool *data, uint64_t *run,
                         vk_error *err)
{
    vk_extent ext;
    int depth = 0;
    int rc = svhd ? vk_vhd_extent_deep(svhd, off, len, &ext, &depth, err) : vk_dev_extent(src, off, len, &ext, err);
    if (rc)
        return rc;
    if (!ext.len)
        return vk_fail(err, VK_E_CORRUPT, src->name, off, "extent of length 0 at virtual offset %llu",
                       (unsigned long long)off);
    *run = ext.len < len ? ext.len : len;
    /* A parent run that no image holds (depth -1) reads as zero. */
    *data = ext.kind == VK_EXTENT_DATA || (ext.kind == VK_EXTENT_PARENT && depth >= 0);
    return 0;
}

static int copy_all(vk_dev *src, vk_vhd *svhd, vk_dev *dst, uint64_t size, const struct vk_convert_opts *o,
                    struct vk_convert_result *res, vk_error *err)
{
    uint8_t *buf = malloc(COPY_CHUNK);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, src->name, VK_NO_OFFSET, NULL);
    int rc = 0;
    uint64_t off = 0;
    while (off < size && !rc) {
        bool data = false;
        uint64_t run = 0;
        uint64_t q = size - off < EXTENT_QUERY ? size - off : EXTENT_QUERY;
        rc = source_extent(src, svhd, off, q, &data, &run, err);
        if (rc)
            break;
        if (!data) {
            res->bytes_skipped += run;
        } else {
            for (uint64_t done = 0; done < run && !rc; ) {
                size_t n = run - done < COPY_CHUNK ? (size_t)(run - done) : COPY_CHUNK;
                rc = vk_dev_read(src, buf, n, off + done, err);
                if (!rc)
                    rc = write_nonzero(dst, buf, n, off + done, &res->bytes_written, err);
                res->bytes_read += n;
                done += n;
            }
        }
        off += run;
        if (o->progress)
            o->progress(o->progress_ctx, off, size);
    }
    free(buf);
    return rc;
}

static int open_dest(const char *tmp, uint64_t size, const struct vk_convert_opts *o, struct dest *d,
                     struct vk_convert_result *res, vk_error *err)
{
    if (o->type == VK_CONVERT_RAW) {
        int rc = vk_dev_open_file(tmp, VK_FILE_CREATE, &d->raw, err);
        if (rc)
            return rc;
        d->dev = d->raw;
        res->virtual_size = size;
        return vk_dev_set_size(d->raw, size, err);
    }
    struct vk_vhd_create_opts co = {
        .type = o->type == VK_CONVERT_FIXED ? VK_VHD_FIXED : VK_VHD_DYNAMIC,
        .size = size,
        .block_size = o->block_size,
        .fill = o->fill,
        .azure = o->azure,
    };
    struct vk_vhd_create_result cr = {0};
    int rc = vk_vhd_create(tmp, &co, &cr, err);
    if (rc)
        return rc;
    snprintf(res->note, sizeof res->note, "%s", cr.note);
    struct vk_vhd_open_opts oo = {.flags = VK_VHD_RDWR | VK_VHD_BULK};
    rc = vk_vhd_open(tmp, &oo, &d->vhd, err);
    if (rc)
        return rc;
    d->dev = vk_vhd_dev(d->vhd);
    res->virtual_size = d->dev->size;
    if (d->dev->size < size)
        return vk_fail(err, VK_E_RANGE, tmp, VK_NO_OFFSET,
                       "the new image holds %llu bytes, less than the %llu bytes of the source",
                       (unsigned long long)d->dev->size, (unsigned long long)size);
    return 0;
}

static int flush_dest(struct dest *d, vk_error *err)
{
    return d->vhd ? vk_vhd_flush(d->vhd, err) : vk_dev_flush(d->raw, err);
}

static void close_dest(struct dest *d)
{
    if (d->vhd)
        vk_vhd_close(d->vhd);
    vk_dev_close(d->raw);
    memset(d, 0, sizeof *d);
}

int vk_convert(const char *src, const char *dst, const struct vk_convert_opts *opts, struct vk_convert_result *res,
               vk_error *err)
{
    struct vk_convert_opts o = opts ? *opts : (struct vk_convert_opts){0};
    memset(res, 0, sizeof *res);
    struct stat st;
    if (lstat(dst, &st) == 0)
        return vk_fail(err, VK_E_EXISTS, dst, VK_NO_OFFSET, "the destination exists; choose a new name or remove it");
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", dst) >= sizeof tmp)
        return vk_fail(err, VK_E_USAGE, dst, VK_NO_OFFSET, "path too long");
    if (lstat(tmp, &st) == 0)
        return vk_fail(err, VK_E_EXISTS, tmp, VK_NO_OFFSET,
                       "a temporary file from an earlier run is in the way; remove it and try again");

    vk_dev *sdev = NULL;
    vk_vhd *svhd = NULL;
    struct vk_vhd_open_opts so = {0};
    int rc = vk_image_open(src, &so, &sdev, &svhd, err);
    if (rc)
        return rc;
    uint64_t size = sdev->size;
    /* VHD sizes are whole sectors; a raw source with a partial last sector is padded with zeros. */
    if (o.type != VK_CONVERT_RAW && ck_align_up_u64(size, 512, &size)) {
        vk_dev_close(sdev);
        return vk_fail(err, VK_E_RANGE, src, VK_NO_OFFSET, "size too large");
    }
    struct dest d = {0};
    bool created = false;
    rc = open_dest(tmp, size, &o, &d, res, err);
    created = rc != VK_E_EXISTS;
    if (!rc)
        rc = copy_all(sdev, svhd, d.dev, sdev->size, &o, res, err);
    if (!rc)
        rc = flush_dest(&d, err);
    close_dest(&d);
    vk_dev_close(sdev);
    if (!rc && rename(tmp, dst) < 0)
        rc = vk_fail_errno(err, VK_E_IO, errno, dst, VK_NO_OFFSET, "cannot rename %s into place", tmp);
    if (!rc)
        return vk_sync_parent_dir(dst, err);
    if (created)
        unlink(tmp);
    return rc;
}
