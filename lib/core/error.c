/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error code table lookups and the error context (include/vhdkit/error.h). */
#include "vhdkit/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct code_row {
    int code;
    int exit_status;
    const char *msg;
};

static const struct code_row code_table[] = {
#define X(name, exitcode, m) {name, exitcode, m},
#include "vhdkit/errors.def"
#undef X
};

static const struct code_row *find_row(int code)
{
    for (size_t i = 0; i < sizeof code_table / sizeof code_table[0]; i++)
        if (code_table[i].code == code)
            return &code_table[i];
    return NULL;
}

const char *vk_strerror(int code)
{
    if (code == VK_OK)
        return "success";
    const struct code_row *row = find_row(code);
    return row ? row->msg : "unknown error";
}

int vk_exit_status(int code)
{
    if (code == VK_OK)
        return 0;
    const struct code_row *row = find_row(code);
    return row ? row->exit_status : 5;
}

void vk_error_clear(vk_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

static int record(vk_error *err, int code, int sys_errno, const char *file, uint64_t off, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    err->sys_errno = sys_errno;
    err->has_offset = off != VK_NO_OFFSET;
    err->offset = err->has_offset ? off : 0;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    if (fmt)
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    else
        snprintf(err->msg, sizeof err->msg, "%s", vk_strerror(code));
    return code;
}

int vk_fail(vk_error *err, int code, const char *file, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(err, code, 0, file, off, fmt, ap);
    va_end(ap);
    return code;
}

int vk_fail_errno(vk_error *err, int code, int sys_errno, const char *file, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(err, code, sys_errno, file, off, fmt, ap);
    va_end(ap);
    return code;
}

void vk_error_format(const vk_error *err, char *buf, size_t len)
{
    if (!buf || !len)
        return;
    if (!err || err->code == VK_OK) {
        snprintf(buf, len, "no error");
        return;
    }
    char where[64] = "";
    if (err->has_offset)
        snprintf(where, sizeof where, " (offset 0x%llx)", (unsigned long long)err->offset);
    char sys[128] = "";
    if (err->sys_errno)
        snprintf(sys, sizeof sys, ": %s", strerror(err->sys_errno));
    snprintf(buf, len, "%s%s%s%s%s", err->file, err->file[0] ? ": " : "", err->msg[0] ? err->msg : vk_strerror(err->code),
             where, sys);
}
