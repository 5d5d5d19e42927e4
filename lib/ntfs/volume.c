/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mounting through libntfs-3g on a vk_dev, the hibernation/dirty/$LogFile checks before writing, volume info. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntfs-3g/logfile.h>

#include "core/bytes.h"

#define REMEDY "boot Windows and shut it down fully, or disable Fast Startup: powercfg /h off"

int ntfs_stopped(vk_ntfs *v, int rc, vk_error *err)
{
    if (!v->dp->stopped)
        return rc;
    if (err)
        *err = v->dp->stop_err;
    return v->dp->stop_err.code;
}

int ntfs_fail(vk_ntfs *v, int sys_errno, vk_error *err, const char *fmt, ...)
{
    if (v->dp->stopped)
        return ntfs_stopped(v, VK_E_IO, err);
    int code;
    switch (sys_errno) {
    case ENOENT: code = VK_E_NOTFOUND; break;
    case EEXIST: code = VK_E_EXISTS; break;
    case ENOSPC: code = VK_E_NOSPACE; break;
    case ENOMEM: code = VK_E_NOMEM; break;
    case EROFS: code = VK_E_READONLY; break;
    case EPERM: case EACCES: code = VK_E_REFUSED; break;
    case ENOTEMPTY: case EISDIR: case ENOTDIR: case EINVAL: case ENAMETOOLONG: code = VK_E_USAGE; break;
    case EOPNOTSUPP: code = VK_E_UNSUPPORTED; break;
    case EIO:
        /* A failure of our own device says more (file, offset) than libntfs-3g's EIO. */
        if (v->dp->io_err.code) {
            if (err)
                *err = v->dp->io_err;
            return v->dp->io_err.code;
        }
        code = VK_E_CORRUPT;
        break;
    default: code = VK_E_IO; break;
    }
    char what[VK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (v->sink.last_error[0])
        return vk_fail_errno(err, code, sys_errno, v->dev->name, VK_NO_OFFSET, "%s (libntfs-3g: %s)", what,
                             v->sink.last_error);
    return vk_fail_errno(err, code, sys_errno, v->dev->name, VK_NO_OFFSET, "%s", what);
}

int64_t ntfs_time_to_ns(sle64 t)
{
    int64_t v = sle64_to_cpu(t) - NTFS_TIME_OFFSET;
    return v > INT64_MAX / 100 ? INT64_MAX : v < INT64_MIN / 100 ? INT64_MIN : v * 100;
}

sle64 ns_to_ntfs_time(int64_t ns) { return cpu_to_sle64(ns / 100 + NTFS_TIME_OFFSET); }

/* ntfs-3g's own test (volume.c ntfs_check_logfile use): a $LogFile with unflushed transactions is unclean; a
 * restart page of version 2.0 means Windows kept metadata cached (Fast Startup), which counts as hibernated. */
static void check_logfile(vk_ntfs *v)
{
    ntfs_inode *ni = ntfs_inode_open(v->vol, FILE_LogFile);
    if (!ni) {
        v->logfile_unclean = 1;
        return;
    }
    ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
    RESTART_PAGE_HEADER *rp = NULL;
    if (!na || !ntfs_check_logfile(na, &rp) || !ntfs_is_logfile_clean(na, rp))
        v->logfile_unclean = 1;
    if (rp && rp->major_ver == const_cpu_to_le16(2) && rp->minor_ver == const_cpu_to_le16(0))
        v->hibernated = 1;
    free(rp);
    if (na)
        ntfs_attr_close(na);
    ntfs_inode_close(ni);
}

static void check_state(vk_ntfs *v)
{
    v->dirty = (v->vol->flags & VOLUME_IS_DIRTY) != 0;
    /* Returns -1 with EPERM when hiberfil.sys starts with "hibr"/"HIBR" or is shorter than its 4 KiB header. */
    errno = 0;
    if (ntfs_volume_check_hiberfile(v->vol, 0) < 0 && errno == EPERM)
        v->hibernated = 1;
    check_logfile(v);
}

static int mount_once(vk_ntfs *v, unsigned long flags, vk_error *err)
{
    struct ntfs_device *nd = ntfs_device_alloc(v->dev->name, 0, &vk_ntfs_devops, v->dp);
    if (!nd)
        return vk_fail(err, VK_E_NOMEM, v->dev->name, VK_NO_OFFSET, NULL);
    memset(&v->dp->io_err, 0, sizeof v->dp->io_err);
    ntfs_dev_reset(v->dp);
    v->sink.last_error[0] = '\0';
    v->vol = ntfs_device_mount(nd, (ntfs_mount_flags)flags);
    if (v->vol && v->dp->stopped) {
        /* A read-write mount writes ($LogFile reset, volume flags): its failure is the device's. */
        ntfs_umount(v->vol, FALSE);
        v->vol = NULL;
        return ntfs_stopped(v, VK_E_IO, err);
    }
    if (v->vol)
        return 0;
    int e = errno;
    ntfs_device_free(nd);
    uint8_t boot[512];
    if (v->dev->size < sizeof boot || vk_dev_read(v->dev, boot, sizeof boot, 0, NULL) ||
        memcmp(boot + 3, "NTFS    ", 8) != 0)
        return vk_fail(err, VK_E_UNSUPPORTED, v->dev->name, 0, "no NTFS boot sector (\"NTFS    \" at byte 3)");
    if (e == EIO || e == EINVAL || e == 0)
        e = EIO;
    return ntfs_fail(v, e, err, "cannot mount the NTFS volume");
}

int vk_ntfs_mount_opts(vk_dev *dev, const vk_ntfs_opts *opts, vk_ntfs **out, vk_error *err)
{
    *out = NULL;
    vk_ntfs *v = calloc(1, sizeof *v);
    struct ntfs_devpriv *dp = calloc(1, sizeof *dp);
    if (!v || !dp) {
        free(v);
        free(dp);
        return vk_fail(err, VK_E_NOMEM, dev->name, VK_NO_OFFSET, NULL);
    }
    dp->dev = dev;
    v->dev = dev;
    v->dp = dp;
    v->readonly = (opts->flags & VK_NTFS_RDONLY) || !(dev->flags & VK_DEV_WRITABLE);
    v->sink.fn = opts->log;
    v->sink.ctx = opts->log_ctx;
    struct ntfs_sink *prev = log_enter(&v->sink);
    /* Always look read-only first: the checks must not write, and their result is volume info either way. */
    int rc = mount_once(v, NTFS_MNT_RDONLY, err);
    if (!rc)
        check_state(v);
    if (!rc && !v->readonly) {
        if (v->hibernated || v->dirty || v->logfile_unclean) {
            rc = vk_fail(err, VK_E_REFUSED, dev->name, VK_NO_OFFSET,
                         "the NTFS volume is %s: writing could lose data; " REMEDY,
                         v->hibernated ? "hibernated (Windows hibernation or Fast Startup)"
                         : v->dirty    ? "marked dirty (not shut down cleanly; Windows will run chkdsk)"
                                       : "not cleanly unmounted ($LogFile holds unfinished transactions)");
            ntfs_umount(v->vol, FALSE);
            v->vol = NULL;
        } else {
            ntfs_umount(v->vol, FALSE);
            v->vol = NULL;
            rc = mount_once(v, 0, err);
        }
    }
    /* Hidden and system files (hiberfil.sys, pagefile.sys) are listed too; metafiles are filtered by readdir. */
    if (!rc)
        ntfs_set_shown_files(v->vol, TRUE, TRUE, FALSE);
    log_leave(prev);
    if (rc) {
        ntfs_dev_reset(dp);
        free(dp);
        free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int vk_ntfs_mount(vk_dev *dev, unsigned flags, vk_ntfs **out, vk_error *err)
{
    vk_ntfs_opts o = {.flags = flags};
    return vk_ntfs_mount_opts(dev, &o, out, err);
}

int vk_ntfs_unmount(vk_ntfs *v, vk_error *err)
{
    if (!v)
        return 0;
    struct ntfs_sink *prev = log_enter(&v->sink);
    int rc = 0;
    if (ntfs_umount(v->vol, FALSE))
        rc = ntfs_fail(v, errno, err, "cannot flush the NTFS volume");
    else if (v->dp->io_err.code || v->dp->stopped)
        rc = ntfs_fail(v, EIO, err, "cannot flush the NTFS volume");
    log_leave(prev);
    ntfs_dev_reset(v->dp);
    free(v->dp);
    free(v);
    return rc;
}

int vk_ntfs_info_get(vk_ntfs *v, vk_ntfs_info *out, vk_error *err)
{
    memset(out, 0, sizeof *out);
    ntfs_volume *vol = v->vol;
    uint8_t boot[512];
    int rc = vk_dev_read(v->dev, boot, sizeof boot, 0, err);
    if (rc)
        return rc;
    struct ntfs_sink *prev = log_enter(&v->sink);
    snprintf(out->label, sizeof out->label, "%s", vol->vol_name ? vol->vol_name : "");
    out->serial = get_le64(boot + 0x48);
    out->sector_size = vol->sector_size;
    out->cluster_size = vol->cluster_size;
    out->mft_record_size = vol->mft_record_size;
    out->total_clu = (uint64_t)vol->nr_clusters;
    if (ntfs_volume_get_free_space(vol))
        rc = ntfs_fail(v, errno, err, "cannot count free clusters in $Bitmap");
    out->free_clu = vol->free_clusters < 0 ? 0 : (uint64_t)vol->free_clusters;
    out->major = vol->major_ver;
    out->minor = vol->minor_ver;
    out->hibernated = v->hibernated;
    out->dirty = v->dirty;
    out->logfile_unclean = v->logfile_unclean;
    out->readonly = v->readonly;
    log_leave(prev);
    return rc;
}

int vk_ntfs_is_windows(vk_ntfs *v)
{
    vk_ntfs_stat st;
    if (vk_ntfs_stat_path(v, "Windows/System32/config", &st, NULL))
        return 0;
    int dir = st.is_dir;
    vk_ntfs_stat_free(&st);
    return dir;
}
