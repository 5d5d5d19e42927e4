/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Overflow-checked arithmetic for lengths, offsets and counts read from files: each returns nonzero on overflow. */
#ifndef VK_CORE_CHECKED_H
#define VK_CORE_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

static inline bool ck_add_u64(uint64_t a, uint64_t b, uint64_t *out) { return __builtin_add_overflow(a, b, out); }
static inline bool ck_mul_u64(uint64_t a, uint64_t b, uint64_t *out) { return __builtin_mul_overflow(a, b, out); }
static inline bool ck_add_size(size_t a, size_t b, size_t *out) { return __builtin_add_overflow(a, b, out); }
static inline bool ck_mul_size(size_t a, size_t b, size_t *out) { return __builtin_mul_overflow(a, b, out); }

/* True when [off, off+len) lies inside [0, limit) without overflow. */
static inline bool ck_range_inside(uint64_t off, uint64_t len, uint64_t limit)
{
    uint64_t end;
    return !ck_add_u64(off, len, &end) && end <= limit;
}

/* Round up to a multiple of the power of two `align`; returns nonzero on overflow. */
static inline bool ck_align_up_u64(uint64_t v, uint64_t align, uint64_t *out)
{
    uint64_t t;
    if (ck_add_u64(v, align - 1, &t))
        return true;
    *out = t & ~(align - 1);
    return false;
}

static inline bool is_pow2_u64(uint64_t v) { return v && !(v & (v - 1)); }

#endif
