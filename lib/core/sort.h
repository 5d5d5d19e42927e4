/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qsort that accepts an empty array: qsort's pointer must not be NULL even for zero elements (C11 7.22.5),
 * and an empty list is often NULL here (UBSan found it twice: an empty partition table, a block no file owns). */
#ifndef VK_CORE_SORT_H
#define VK_CORE_SORT_H

#include <stdlib.h>

static inline void vk_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

#endif
