/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NTFS volumes inside a vk_dev (through libntfs-3g): mount with safety checks, files, directories, streams, runs. */
#ifndef VHDKIT_NTFS_H
#define VHDKIT_NTFS_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/dev.h"
#include "vhdkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vk_ntfs vk_ntfs;

enum vk_ntfs_mount_flags {
    VK_NTFS_RDONLY = 1u << 0,
};

enum vk_ntfs_log_level { VK_NTFS_LOG_DEBUG, VK_NTFS_LOG_INFO, VK_NTFS_LOG_WARNING, VK_NTFS_LOG_ERROR };
/* Receives libntfs-3g's messages (one line, no trailing newline). Without one, messages are only kept to
 * explain errors: nothing is printed. */
typedef void (*vk_ntfs_log_fn)(void *ctx, enum vk_ntfs_log_level level, const char *msg);

typedef struct vk_ntfs_opts {
    unsigned flags;       /* vk_ntfs_mount_flags */
    vk_ntfs_log_fn log;   /* may be NULL */
    void *log_ctx;
} vk_ntfs_opts;

/* Mounts the NTFS volume on `dev` (a partition window; must outlive the volume). A read-write mount of a
 * hibernated or unclean volume is VK_E_REFUSED with the remedy in the message; read-only mounts of them work.
 * A device that is not NTFS is VK_E_UNSUPPORTED, a damaged one VK_E_CORRUPT. */
VK_API int vk_ntfs_mount(vk_dev *dev, unsigned flags, vk_ntfs **out, vk_error *err);
VK_API int vk_ntfs_mount_opts(vk_dev *dev, const vk_ntfs_opts *opts, vk_ntfs **out, vk_error *err);
/* Flushes and frees the volume (always freed, even when flushing fails). NULL is fine. */
VK_API int vk_ntfs_unmount(vk_ntfs *vol, vk_error *err);

typedef struct vk_ntfs_info {
    char label[256];          /* UTF-8 */
    uint64_t serial;
    uint32_t sector_size;
    uint32_t cluster_size;
    uint32_t mft_record_size;
    uint64_t total_clu;
    uint64_t free_clu;        /* counted in $Bitmap */
    unsigned major, minor;    /* NTFS version (3.1 for Windows XP and later) */
    int hibernated;           /* hiberfil.sys says Windows is hibernated (or Fast Startup) */
    int dirty;                /* the volume dirty flag is set */
    int logfile_unclean;      /* $LogFile holds transactions that were not checkpointed */
    int readonly;
} vk_ntfs_info;
VK_API int vk_ntfs_info_get(vk_ntfs *vol, vk_ntfs_info *out, vk_error *err);

/* Paths use '/' or '\\', are relative to the volume root, and match case-insensitively as Windows does (an exact
 * match wins). "file:stream" names an alternate data stream. */

typedef struct vk_ntfs_times {
    int64_t crtime_ns, mtime_ns, ctime_ns, atime_ns; /* nanoseconds since 1970-01-01 UTC */
} vk_ntfs_times;

typedef struct vk_ntfs_dirent {
    char name[1024];          /* UTF-8 */
    uint64_t mft;             /* MFT record number (sequence number stripped) */
    int is_dir;
    uint64_t size;            /* unnamed $DATA size (0 for directories) */
    uint32_t file_attrs;      /* FILE_ATTRIBUTE_* bits (hidden 0x2, system 0x4, ...) */
    vk_ntfs_times times;
} vk_ntfs_dirent;

enum vk_ntfs_readdir_flags {
    VK_NTFS_LS_META = 1u << 0, /* also list the $ metafiles of the root directory */
};
/* Calls fn for each entry of directory `path` ("." and ".." and DOS 8.3 duplicate names skipped), in index
 * order. A nonzero return from fn stops the walk and is returned. */
typedef int (*vk_ntfs_dir_fn)(void *ctx, const vk_ntfs_dirent *e);
VK_API int vk_ntfs_readdir(vk_ntfs *vol, const char *path, unsigned flags, vk_ntfs_dir_fn fn, void *ctx,
                           vk_error *err);

typedef struct vk_ntfs_run {
    int64_t vcn;
    int64_t lcn;              /* -1 for a sparse hole */
    uint64_t len_clu;
} vk_ntfs_run;

typedef struct vk_ntfs_attr {
    uint32_t type;            /* 0x10 $STANDARD_INFORMATION, 0x30 $FILE_NAME, 0x80 $DATA, ... */
    const char *type_name;    /* "$DATA" */
    char name[256];           /* UTF-8 attribute name ("" when unnamed; a stream name for $DATA) */
    int resident;
    uint64_t size;            /* value length (resident) or data size */
    uint64_t alloc_size;      /* allocated bytes (non-resident), else value length */
    unsigned nruns;
    vk_ntfs_run *runs;        /* non-resident only */
} vk_ntfs_attr;

typedef struct vk_ntfs_stat {
    uint64_t mft;
    int is_dir;
    uint64_t size;
    uint32_t file_attrs;
    unsigned nlink;
    vk_ntfs_times times;
    unsigned nattrs;
    vk_ntfs_attr *attrs;      /* in MFT record order; named $DATA attributes are the alternate data streams */
} vk_ntfs_stat;
VK_API int vk_ntfs_stat_path(vk_ntfs *vol, const char *path, vk_ntfs_stat *out, vk_error *err);
VK_API void vk_ntfs_stat_free(vk_ntfs_stat *st);

/* Reads up to len bytes at off of a file or "file:stream"; *got is the count read (short at end of file). */
VK_API int vk_ntfs_pread(vk_ntfs *vol, const char *path, void *buf, size_t len, uint64_t off, size_t *got,
                         vk_error *err);
/* Streams the whole file or stream to fn in chunks; a nonzero return from fn stops and is returned. */
typedef int (*vk_ntfs_sink_fn)(void *ctx, const void *buf, size_t len);
VK_API int vk_ntfs_read_all(vk_ntfs *vol, const char *path, vk_ntfs_sink_fn fn, void *ctx, vk_error *err);

enum vk_ntfs_write_flags {
    VK_NTFS_CREATE = 1u << 0,    /* create the file when missing (its directory must exist) */
    VK_NTFS_EXCL = 1u << 1,      /* with CREATE: VK_E_EXISTS when it exists */
    VK_NTFS_TRUNCATE = 1u << 2,  /* cut to zero before writing */
};
/* Writes len bytes at off into a file or "file:stream" (the stream is created when missing). */
VK_API int vk_ntfs_pwrite(vk_ntfs *vol, const char *path, unsigned flags, const void *buf, size_t len, uint64_t off,
                          vk_error *err);
/* Creates or replaces a file with the bytes src produces: src returns the count put in buf (0 at the end) or a
 * negative vk_err code. */
typedef long (*vk_ntfs_source_fn)(void *ctx, void *buf, size_t cap);
VK_API int vk_ntfs_write_from(vk_ntfs *vol, const char *path, vk_ntfs_source_fn src, void *ctx, vk_error *err);
VK_API int vk_ntfs_truncate(vk_ntfs *vol, const char *path, uint64_t size, vk_error *err);
/* Directories; with `parents`, missing parents are made and an existing directory is fine. */
VK_API int vk_ntfs_mkdir(vk_ntfs *vol, const char *path, int parents, vk_error *err);
/* Removes a file, or a directory (empty unless `recursive`). */
VK_API int vk_ntfs_remove(vk_ntfs *vol, const char *path, int recursive, vk_error *err);
VK_API int vk_ntfs_set_times(vk_ntfs *vol, const char *path, const vk_ntfs_times *t, vk_error *err);
/* 1 when the path exists, 0 when not. */
VK_API int vk_ntfs_exists(vk_ntfs *vol, const char *path, vk_error *err);

/* The file's or folder's security descriptor (self-relative, as Windows stores it in $Secure): *sd is malloc'd. */
VK_API int vk_ntfs_get_security(vk_ntfs *vol, const char *path, uint8_t **sd, size_t *len, vk_error *err);
/* Gives the file or folder the security descriptor `sd` (checked: VK_E_USAGE when it is not a valid self-relative
 * descriptor); identical descriptors share one $Secure entry, as Windows shares them. */
VK_API int vk_ntfs_set_security(vk_ntfs *vol, const char *path, const uint8_t *sd, size_t len, vk_error *err);
/* Sets the FILE_ATTRIBUTE_* bits Windows lets a program set (read-only, hidden, system, archive, temporary,
 * offline, not content indexed); the others in `attrs` (directory, compressed, sparse, ...) are ignored. */
VK_API int vk_ntfs_set_attrs(vk_ntfs *vol, const char *path, uint32_t attrs, vk_error *err);
/* A self-relative security descriptor as SDDL text ("O:BAG:SYD:PAI(A;OICIID;FA;;;SY)..."), as Windows writes it:
 * *sddl is malloc'd. VK_E_CORRUPT (offset 0) when the descriptor is malformed. */
VK_API int vk_ntfs_sd_to_sddl(const uint8_t *sd, size_t len, char **sddl, vk_error *err);

/* Adds the name `new_path` (its folder must exist) to the file `existing`, as link(2): both names then reach the
 * same file. The new name is kept exactly, even when another name in the folder differs from it only in case. */
VK_API int vk_ntfs_link(vk_ntfs *vol, const char *existing, const char *new_path, vk_error *err);
/* Removes exactly the name `path` (its last component compared case-sensitively), not another name of the same file
 * nor a name differing in case; the file goes when its last name does. VK_E_NOTFOUND when no such name. Names of the
 * file whose directory entry is gone (a cut libntfs-3g update) are dropped first, and a dangling entry goes alone. */
VK_API int vk_ntfs_unlink(vk_ntfs *vol, const char *path, vk_error *err);
/* What the exact name `path` is: no entry, an entry of a file that has that name, or an entry alone (a dangling
 * entry: its file is not in use or does not know the name; vk_ntfs_unlink removes just the entry). */
enum vk_ntfs_name_state { VK_NTFS_NAME_NONE = 0, VK_NTFS_NAME_REAL = 1, VK_NTFS_NAME_DANGLING = 2 };
/* Returns an enum vk_ntfs_name_state or a negative code. */
VK_API int vk_ntfs_name_state(vk_ntfs *vol, const char *path, vk_error *err);
/* Everything written so far reaches the image file (a barrier between steps of a crash-safe update). */
VK_API int vk_ntfs_sync(vk_ntfs *vol, vk_error *err);

/* True when Windows/System32/config exists on the volume. */
VK_API int vk_ntfs_is_windows(vk_ntfs *vol);

/* The volume DESIGN.md's --part rule picks on `disk`: partition `part` when nonzero, else the Windows volume,
 * else the only NTFS volume, else VK_E_USAGE listing the choices. *vol_dev is the partition window (close it
 * after unmounting), *chosen its number. */
VK_API int vk_ntfs_choose(vk_dev *disk, unsigned part, const vk_ntfs_opts *opts, vk_ntfs **vol, vk_dev **vol_dev,
                          unsigned *chosen, vk_error *err);

/* ---- used clusters (compact) ---- */
/* Reads bytes [first_byte, first_byte+len) of $Bitmap: bit b (least significant first) of byte k is set when cluster
 * 8k+b is in use. *got is short at the end of $Bitmap. Callers read it in pieces so memory stays bounded. */
VK_API int vk_ntfs_bitmap_read(vk_ntfs *vol, uint64_t first_byte, void *buf, size_t len, size_t *got, vk_error *err);
/* The cluster runs of the unnamed $DATA of `path` (holes have lcn -1); *runs is malloc'd (free it). VK_E_NOTFOUND
 * when the file does not exist; a resident file has no runs. */
VK_API int vk_ntfs_data_runs(vk_ntfs *vol, const char *path, vk_ntfs_run **runs, unsigned *n, vk_error *err);

#ifdef __cplusplus
}
#endif
#endif
