/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal TAP producer for unit tests: one `ok`/`not ok` line per check, plan printed at the end. */
#ifndef VK_TEST_TAP_H
#define VK_TEST_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

#define TAP_OK(cond, ...)                                                                                              \
    do {                                                                                                               \
        int tap_c_ = (cond) ? 1 : 0;                                                                                   \
        tap_count++;                                                                                                   \
        if (!tap_c_)                                                                                                   \
            tap_failed++;                                                                                              \
        printf("%s %d - ", tap_c_ ? "ok" : "not ok", tap_count);                                                       \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
        if (!tap_c_)                                                                                                   \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);                                           \
        fflush(stdout);                                                                                                \
    } while (0)

#define TAP_EQ_U64(a, b, ...)                                                                                          \
    do {                                                                                                               \
        uint64_t tap_a_ = (uint64_t)(a), tap_b_ = (uint64_t)(b);                                                       \
        TAP_OK(tap_a_ == tap_b_, __VA_ARGS__);                                                                         \
        if (tap_a_ != tap_b_)                                                                                          \
            printf("#   got %" PRIu64 " (0x%" PRIx64 "), want %" PRIu64 " (0x%" PRIx64 ")\n", tap_a_, tap_a_, tap_b_,   \
                   tap_b_);                                                                                            \
    } while (0)

#define TAP_EQ_STR(a, b, ...)                                                                                          \
    do {                                                                                                               \
        const char *tap_a_ = (a), *tap_b_ = (b);                                                                       \
        int tap_same_ = tap_a_ && tap_b_ && !strcmp(tap_a_, tap_b_);                                                   \
        TAP_OK(tap_same_, __VA_ARGS__);                                                                                \
        if (!tap_same_)                                                                                                \
            printf("#   got \"%s\", want \"%s\"\n", tap_a_ ? tap_a_ : "(null)", tap_b_ ? tap_b_ : "(null)");           \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
