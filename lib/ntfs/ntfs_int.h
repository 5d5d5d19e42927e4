/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: the vk_ntfs handle, the libntfs-3g device adapter, log routing and path helpers. */
#ifndef VK_NTFS_INT_H
#define VK_NTFS_INT_H

/* libntfs-3g's installed headers expect its config.h to have pulled these in (and sys/stat.h keeps ntfstime.h
 * from defining its own struct timespec). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/volume.h>

#include "vhdkit/ntfs.h"

/* Where libntfs-3g's messages go while a vk_ntfs call runs. */
struct ntfs_sink {
    vk_ntfs_log_fn fn;
    void *ctx;
    char last_error[256];   /* last error-level message, to explain a failed call */
};

/* The device adapter's private state. */
struct ntfs_devpriv {
    vk_dev *dev;
    int64_t pos;            /* for seek/read/write */
    vk_error io_err;        /* last device error, to report instead of a bare EIO */
    /* A write (or flush) failed: the device has stopped, as in a crash. libntfs-3g keeps an inode whose record it
     * could not write (for a retry that never comes), some of them inside its own calls where nothing can free
     * them, so it is never shown a failed write: from the failure on, writes go to `ov` (memory) and reads see
     * them, so its view stays whole, it closes and frees everything, and nothing more reaches the device. Every
     * writing vk_ntfs call reports the failure instead (ntfs_stopped). */
    int stopped;
    vk_error stop_err;      /* the failure that stopped the device */
    struct ntfs_ov_page *ov; /* the pages written since, sorted by index */
    size_t ov_n, ov_cap;
};

struct vk_ntfs {
    ntfs_volume *vol;
    vk_dev *dev;
    struct ntfs_devpriv *dp;
    struct ntfs_sink sink;
    int readonly;
    int hibernated, dirty, logfile_unclean;
};

extern struct ntfs_device_operations vk_ntfs_devops;
/* Forgets the stop and the pages written since (a new mount, or the end of the handle). */
void ntfs_dev_reset(struct ntfs_devpriv *dp);

/* Routes libntfs-3g's log to `sink` until log_leave; nests. */
struct ntfs_sink *log_enter(struct ntfs_sink *sink);
void log_leave(struct ntfs_sink *prev);

/* Turns the errno of a failed libntfs-3g call into a vk error naming the path and the last libntfs-3g error. */
int ntfs_fail(vk_ntfs *v, int sys_errno, vk_error *err, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* `rc`, or once the device has stopped, the failure that stopped it: what libntfs-3g did after it (seeing success,
 * reading what the device still holds) is not the cause of anything. Every writing call ends with it. */
int ntfs_stopped(vk_ntfs *v, int rc, vk_error *err);

/* Opens the inode at `path` (case-insensitive per component). VK_E_NOTFOUND when a component is missing. */
int path_open(vk_ntfs *v, const char *path, ntfs_inode **out, vk_error *err);
/* Splits "dir/name:stream" into the file path (malloc'd, without the stream), the stream name in UTF-16LE
 * (malloc'd or NULL) and its length. */
int path_split_stream(vk_ntfs *v, const char *path, char **file, ntfschar **stream, int *stream_len, vk_error *err);
/* Parent directory path (malloc'd) and final component of `path`. */
int path_parent(vk_ntfs *v, const char *path, char **parent, const char **leaf, vk_error *err);
/* UTF-8 to a malloc'd NTFS name; returns the length in code units or a negative vk code. */
int name_to_ucs(const char *name, ntfschar **out);
int64_t ntfs_time_to_ns(sle64 t);
void fill_times(ntfs_inode *ni, vk_ntfs_times *t);
/* Creates `path` (its parent must exist) as S_IFREG or S_IFDIR and returns the new inode (the parent is already
 * closed, as ntfscp does). */
int ntfs_create_path(vk_ntfs *v, const char *path, mode_t type, ntfs_inode **child, vk_error *err);
sle64 ns_to_ntfs_time(int64_t ns);
/* Opens `path` on a writable volume, lets `edit` change its inode, and closes it, which writes the record: the shape
 * of every metadata change (times, descriptor, attribute bits). `edit` returns 0, NTFS_EDIT_ERRNO when a libntfs-3g
 * call failed (errno says why; reported as "cannot set the <what>"), or a vk code it reported itself. */
#define NTFS_EDIT_ERRNO 1
typedef int (*ntfs_inode_edit_fn)(vk_ntfs *v, ntfs_inode *ni, const char *path, const void *arg, size_t len,
                                  vk_error *err);
int ntfs_edit_inode(vk_ntfs *v, const char *path, ntfs_inode_edit_fn edit, const void *arg, size_t len,
                    const char *what, vk_error *err);

#endif
