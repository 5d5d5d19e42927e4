/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk_dev: a stackable block device over 64-bit byte offsets (file, window, memory, fault injector, VHD image). */
#ifndef VHDKIT_DEV_H
#define VHDKIT_DEV_H

#include <stdint.h>
#include <stddef.h>

#include "vhdkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vk_dev vk_dev;

/* What a byte range holds, answered without reading it. */
enum vk_extent_kind {
    VK_EXTENT_DATA = 0,    /* stored here and must be read */
    VK_EXTENT_ZERO,        /* reads as zero (a sparse host-file hole, an unwritten dynamic-disk sector) */
    VK_EXTENT_PARENT,      /* not stored here: reads through to the parent image */
    VK_EXTENT_UNALLOC      /* no storage allocated (a dynamic-disk block without a BAT entry); reads as zero */
};

typedef struct vk_extent {
    enum vk_extent_kind kind;
    uint64_t len;          /* length of the run of this kind starting at the queried offset (> 0) */
} vk_extent;

/* Operations a device implements. read/write must handle any length inside [0, size). */
struct vk_dev_ops {
    const char *type;      /* "file", "window", "memory", "fault", "vhd" */
    int (*read)(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err);
    int (*write)(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err);
    int (*flush)(vk_dev *dev, vk_error *err);
    /* Kind of the range starting at `off`, at most `len` long. NULL means "all data". */
    int (*extent)(vk_dev *dev, uint64_t off, uint64_t len, vk_extent *out, vk_error *err);
    /* Change the size (host files: truncate or grow). NULL when the device cannot. */
    int (*set_size)(vk_dev *dev, uint64_t size, vk_error *err);
    void (*close)(vk_dev *dev);
};

enum vk_dev_flags {
    VK_DEV_WRITABLE = 1u << 0,
};

struct vk_dev {
    const struct vk_dev_ops *ops;
    uint64_t size;         /* bytes */
    unsigned flags;        /* vk_dev_flags */
    char name[256];        /* for messages: the host path, or "<parent name>[window]" */
    void *priv;
};

/* Dispatch with bounds checks: reads and writes outside [0, size) fail with VK_E_RANGE; writes on a
 * read-only device with VK_E_READONLY. */
VK_API int vk_dev_read(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err);
VK_API int vk_dev_write(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err);
VK_API int vk_dev_flush(vk_dev *dev, vk_error *err);
VK_API int vk_dev_extent(vk_dev *dev, uint64_t off, uint64_t len, vk_extent *out, vk_error *err);
VK_API int vk_dev_set_size(vk_dev *dev, uint64_t size, vk_error *err);
/* Closes the device (NULL is fine). Stacked devices close what they own. */
VK_API void vk_dev_close(vk_dev *dev);

/* Host files. */
enum vk_file_open_flags {
    VK_FILE_RDWR = 1u << 0,    /* open for writing (exclusive flock); otherwise read-only (shared flock) */
    VK_FILE_CREATE = 1u << 1,  /* create; fails with VK_E_EXISTS when the file exists */
    VK_FILE_NOLOCK = 1u << 2,  /* skip flock (only for files the caller already locked) */
};
/* Opens `path` and takes flock without waiting: a held lock is VK_E_BUSY naming the file. Writes may grow the
 * file (dev->size follows). */
VK_API int vk_dev_open_file(const char *path, unsigned flags, vk_dev **out, vk_error *err);
/* Reserve [off, off+len) on disk (fallocate, without changing the size unless it grows). Returns VK_E_UNSUPPORTED
 * when the host filesystem cannot allocate. */
VK_API int vk_dev_file_allocate(vk_dev *dev, uint64_t off, uint64_t len, vk_error *err);
/* Host file descriptor of a file device (for fsync/rename by callers), -1 for other devices. */
VK_API int vk_dev_file_fd(vk_dev *dev);

/* fsync the folder holding `path`, so a rename or creation in it survives a crash. */
VK_API int vk_sync_parent_dir(const char *path, vk_error *err);

/* A window [off, off+len) of `base` seen as a device of its own. With `own_base`, closing the window closes base. */
VK_API int vk_dev_window(vk_dev *base, uint64_t off, uint64_t len, int own_base, vk_dev **out, vk_error *err);

/* A zero-filled device in memory (tests, fuzzing). `data` (may be NULL) is copied in, `data_len` <= size. */
VK_API int vk_dev_memory(uint64_t size, const void *data, size_t data_len, vk_dev **out, vk_error *err);
/* Pointer to a memory device's bytes (tests). */
VK_API uint8_t *vk_dev_memory_bytes(vk_dev *dev);

/* Fault injector over `base` (owned): lets `after_writes` writes through, then:
 *   VK_FAULT_FAIL  the next write fails once with VK_E_FAULT, later writes pass (a transient error);
 *   VK_FAULT_STOP  that write and every later write and flush fail (a crash: nothing more reaches the disk);
 *   VK_FAULT_TORN  that write lands only its first half rounded down to 512 bytes, then as STOP. */
enum vk_fault_mode { VK_FAULT_FAIL, VK_FAULT_STOP, VK_FAULT_TORN };
VK_API int vk_dev_fault(vk_dev *base, enum vk_fault_mode mode, uint64_t after_writes, vk_dev **out, vk_error *err);
/* Writes that reached the base device so far (to count the write points of a command in tests). */
VK_API uint64_t vk_dev_fault_writes(vk_dev *dev);
/* True once the fault has fired. */
VK_API int vk_dev_fault_fired(vk_dev *dev);

#ifdef __cplusplus
}
#endif
#endif
