/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every fuzz target defines (libFuzzer's entry point, optional seeds) and the check that stops on a broken
 * invariant, so both libFuzzer and the standalone driver report it as a crash. */
#ifndef VK_FUZZ_H
#define VK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seed `i` written into `buf` (capacity `cap`): its length, or 0 once `i` is past the last seed. Optional: the
 * standalone driver mutates these, and `--write-seeds DIR` writes them as a starting corpus for libFuzzer. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap);
#define FUZZ_SEED_MAX 65536

#define FUZZ_CHECK(cond)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);                              \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

#endif
