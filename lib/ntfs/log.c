/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Routes libntfs-3g's log (logging.h) into the caller's sink instead of the terminal. */
#include "ntfs/ntfs_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ntfs-3g/logging.h>

/* libntfs-3g has one process-wide log handler with no context pointer, so the sink of the call in progress is
 * kept per thread: a thread-local is the only way to route messages to the right volume. */
static _Thread_local struct ntfs_sink *current_sink;

static enum vk_ntfs_log_level map_level(u32 level)
{
    if (level & (NTFS_LOG_LEVEL_ERROR | NTFS_LOG_LEVEL_PERROR | NTFS_LOG_LEVEL_CRITICAL))
        return VK_NTFS_LOG_ERROR;
    if (level & NTFS_LOG_LEVEL_WARNING)
        return VK_NTFS_LOG_WARNING;
    if (level & (NTFS_LOG_LEVEL_INFO | NTFS_LOG_LEVEL_QUIET | NTFS_LOG_LEVEL_VERBOSE | NTFS_LOG_LEVEL_PROGRESS))
        return VK_NTFS_LOG_INFO;
    return VK_NTFS_LOG_DEBUG;
}

static int handler(const char *function, const char *file, int line, u32 level, void *data, const char *format,
                   va_list args)
{
    (void)function;
    (void)file;
    (void)line;
    (void)data;
    int saved = errno;
    struct ntfs_sink *s = current_sink;
    if (!s)
        return 0;
    char msg[512];
    vsnprintf(msg, sizeof msg, format, args);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
        msg[--n] = '\0';
    if (level & NTFS_LOG_LEVEL_PERROR)
        snprintf(msg + n, sizeof msg - n, ": %s", strerror(saved));
    enum vk_ntfs_log_level l = map_level(level);
    if (l == VK_NTFS_LOG_ERROR)
        snprintf(s->last_error, sizeof s->last_error, "%.255s", msg);
    if (s->fn)
        s->fn(s->ctx, l, msg);
    errno = saved;
    return (int)n;
}

struct ntfs_sink *log_enter(struct ntfs_sink *sink)
{
    struct ntfs_sink *prev = current_sink;
    ntfs_log_set_handler(handler);
    ntfs_log_set_levels(NTFS_LOG_LEVEL_INFO | NTFS_LOG_LEVEL_QUIET | NTFS_LOG_LEVEL_WARNING | NTFS_LOG_LEVEL_ERROR |
                        NTFS_LOG_LEVEL_PERROR | NTFS_LOG_LEVEL_CRITICAL | NTFS_LOG_LEVEL_VERBOSE);
    current_sink = sink;
    return prev;
}

void log_leave(struct ntfs_sink *prev) { current_sink = prev; }
