/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit error codes and the error context every fallible call fills in. */
#ifndef VHDKIT_ERROR_H
#define VHDKIT_ERROR_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VK_BUILDING_LIB) && defined(__GNUC__)
#define VK_API __attribute__((visibility("default")))
#else
#define VK_API
#endif

/* Functions return 0 on success or one of these negative codes (see lib/core/errors.def). */
enum vk_err_code {
    VK_OK = 0,
    VK_E_FIRST_ = -1000,
#define X(name, exitcode, msg) name,
#include "vhdkit/errors.def"
#undef X
    VK_E_LAST_
};

#define VK_ERR_MSG_MAX 512
#define VK_ERR_FILE_MAX 256

/* What went wrong, where: code, errno, the file, the byte offset in that file, and a message naming the thing.
 * Every fallible function takes a `vk_error *` (NULL allowed: the caller only wants the code). */
typedef struct vk_error {
    int code;                       /* 0 or a negative vk_err_code */
    int sys_errno;                  /* errno when the cause was a system call, else 0 */
    int has_offset;                 /* offset below is meaningful */
    uint64_t offset;                /* byte offset in `file` */
    char file[VK_ERR_FILE_MAX];     /* file the error is about ("" if none) */
    char msg[VK_ERR_MSG_MAX];       /* lowercase detail without full stop, e.g. "BAT entry 812 points past the end of the file" */
} vk_error;

/* Message of the code table ("corrupt or invalid data"). */
VK_API const char *vk_strerror(int code);
/* Process exit status DESIGN.md assigns to a code (0 for VK_OK). */
VK_API int vk_exit_status(int code);
/* Reset to "no error". */
VK_API void vk_error_clear(vk_error *err);

/* Record an error and return `code` so callers can write `return vk_fail(err, ...)`.
 * `file` may be NULL; `off` is recorded when it is not VK_NO_OFFSET. */
#define VK_NO_OFFSET UINT64_MAX
VK_API int vk_fail(vk_error *err, int code, const char *file, uint64_t off, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Same, recording `errno` first (for system-call failures). */
VK_API int vk_fail_errno(vk_error *err, int code, int sys_errno, const char *file, uint64_t off, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 6, 7)))
#endif
    ;
/* Full human message: "<file>: <msg> (offset 0x...)" (+ ": strerror" when errno is set). */
VK_API void vk_error_format(const vk_error *err, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
