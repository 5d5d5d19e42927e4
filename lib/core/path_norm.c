/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Volume path normalization (path_norm.h): shared by the CLI's file commands and the library's tree walks. */
#include "core/path_norm.h"

#include <stdlib.h>
#include <string.h>

char *vk_path_norm(const char *arg)
{
    size_t n = strlen(arg);
    char *p = malloc(n + 2);
    if (!p)
        return NULL;
    size_t o = 0;
    p[o++] = '/';
    for (size_t i = 0; i < n; i++) {
        char ch = arg[i] == '\\' ? '/' : arg[i];
        if (ch == '/' && p[o - 1] == '/')
            continue;
        p[o++] = ch;
    }
    if (o > 1 && p[o - 1] == '/')
        o--;
    p[o] = 0;
    return p;
}
