/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deterministic file content: byte i of a file is byte (i mod 8) of splitmix64(key + (i / 8) * GOLDEN), with
 * key = gen_hash(path, seed); tests can recompute any file with `vk-gen content SEED SIZE PATH`. */
#include "gen.h"

#include <string.h>

#define GOLDEN 0x9E3779B97F4A7C15ull

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t gen_rand(uint64_t *state)
{
    *state += GOLDEN;
    return mix(*state);
}

/* FNV-1a over the path, mixed with the seed: content depends on both. */
uint64_t gen_hash(const char *text, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return mix(h ^ mix(seed));
}

void content_init(struct content *c, uint64_t seed, const char *path, uint64_t size)
{
    c->key = gen_hash(path, seed);
    c->pos = 0;
    c->size = size;
}

size_t content_next(struct content *c, void *buf, size_t cap)
{
    uint64_t left = c->size - c->pos;
    size_t n = left < cap ? (size_t)left : cap;
    uint8_t *out = buf;
    size_t i = 0;
    /* Unaligned head, whole words, tail: random access by position keeps chunking invisible in the bytes. */
    while (i < n) {
        uint64_t at = c->pos + i;
        uint64_t w = mix(c->key + (at / 8) * GOLDEN);
        unsigned b = (unsigned)(at % 8);
        if (b == 0 && n - i >= 8) {
            uint8_t le[8];
            for (int k = 0; k < 8; k++)
                le[k] = (uint8_t)(w >> (8 * k));
            memcpy(out + i, le, 8);
            i += 8;
        } else {
            out[i++] = (uint8_t)(w >> (8 * b));
        }
    }
    c->pos += n;
    return n;
}
