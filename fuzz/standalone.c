/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A main() for fuzz targets without libFuzzer: runs the target over given files and directories (a crash corpus,
 * regression inputs) and over deterministic random mutations of the target's seeds, then prints one TAP line.
 * Built with gcc and ASan in the test build, so every `make check` runs a short fuzzing smoke test. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Targets that define no seeds start from an empty input. */
__attribute__((weak)) size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    (void)i;
    (void)buf;
    (void)cap;
    return 0;
}

#define MUTANT_MAX (FUZZ_SEED_MAX + 4096)

static uint64_t rng_state;

/* xorshift64*: small, deterministic for a given -s, good enough to pick mutations. */
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* The input being run, saved as ./crash-<target> when the target dies (an assertion, or a sanitizer report), so
 * it can be replayed and kept under fuzz/regress/<target>/. */
static const uint8_t *current;
static size_t current_len;
static char crash_path[300];

static void save_current(void)
{
    if (!current)
        return;
    int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    size_t done = 0;
    while (done < current_len) {
        ssize_t n = write(fd, current + done, current_len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    static const char msg[] = "standalone: input saved as crash file\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        return;
}

static void on_signal(int sig)
{
    save_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Sanitizers report and exit without a signal; both gcc's and clang's runtimes offer this hook. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* Runs the target on an exactly sized heap copy, so ASan sees any read past the end. */
static void run_one(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        perror("malloc");
        exit(2);
    }
    memcpy(copy, data, len);
    current = copy;
    current_len = len;
    LLVMFuzzerTestOneInput(copy, len);
    current = NULL;
    free(copy);
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* One random edit of buf[0..*len): the kinds that break binary parsers (bit flips, boundary integers in
 * big-endian fields, truncation, growth, copied chunks). */
static void mutate(uint8_t *buf, size_t *len)
{
    static const uint64_t interesting[] = {0,          1,          0x1FF,      0x200,      0x201,
                                           0x7FFFFFFF, 0x80000000, 0xFFFFFE00, 0xFFFFFFFF, UINT64_C(0x100000000),
                                           INT64_MAX,  UINT64_MAX, 0x3FF,      0x400,      0x200000};
    size_t n = *len;
    switch (below(8)) {
    case 0:
        if (n)
            buf[below(n)] ^= (uint8_t)(1u << below(8));
        break;
    case 1:
        if (n)
            buf[below(n)] = (uint8_t)rnd();
        break;
    case 2:
        if (n >= 4) {
            size_t at = below(n - 3) & ~(size_t)(below(2) ? 3 : 0);
            put_be(buf + at, interesting[below(sizeof interesting / sizeof interesting[0])], 4);
        }
        break;
    case 3:
        if (n >= 8) {
            size_t at = below(n - 7) & ~(size_t)(below(2) ? 7 : 0);
            put_be(buf + at, interesting[below(sizeof interesting / sizeof interesting[0])], 8);
        }
        break;
    case 4:
        *len = below(n + 1);
        break;
    case 5: {
        size_t add = 1 + below(below(2) ? 16 : 1024);
        if (n + add > MUTANT_MAX)
            add = MUTANT_MAX - n;
        for (size_t i = 0; i < add; i++)
            buf[n + i] = (uint8_t)(below(2) ? 0 : rnd());
        *len = n + add;
        break;
    }
    case 6:
        if (n >= 2) {
            size_t from = below(n), to = below(n), k = 1 + below(64);
            if (k > n - from)
                k = n - from;
            if (k > n - to)
                k = n - to;
            memmove(buf + to, buf + from, k);
        }
        break;
    default:
        if (n)
            buf[below(n)] = (uint8_t[]){0, 0xFF, 0x7F, 0x80, 1}[below(5)];
        break;
    }
}

static int run_file(const char *path, unsigned long *count)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        printf("# %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(fp);
                return -1;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        if (!got)
            break;
        len += got;
    }
    fclose(fp);
    run_one(buf, len);
    free(buf);
    (*count)++;
    return 0;
}

static int run_path(const char *path, unsigned long *count)
{
    struct stat st;
    if (stat(path, &st)) {
        printf("# %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path, count);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rc |= run_path(sub, count);
    }
    closedir(d);
    return rc;
}

static int write_seeds(const char *dir, const char *name)
{
    static uint8_t buf[FUZZ_SEED_MAX];
    unsigned i;
    for (i = 0;; i++) {
        size_t len = fuzz_seed(i, buf, sizeof buf);
        if (!len)
            break;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s-seed-%u", dir, name, i);
        FILE *fp = fopen(path, "wb");
        if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp)) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    printf("%s: wrote %u seeds to %s\n", name, i, dir);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long mutations = 1000, files = 0;
    uint64_t seed = 1;
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int i, failed = 0;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            mutations = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--write-seeds") && i + 1 < argc)
            return write_seeds(argv[i + 1], name);
        else {
            fprintf(stderr, "usage: %s [-n MUTATIONS] [-s SEED] [--write-seeds DIR] [FILE|DIR...]\n", name);
            return 2;
        }
    }
    snprintf(crash_path, sizeof crash_path, "crash-%s", name);
    signal(SIGABRT, on_signal);
    signal(SIGSEGV, on_signal);
    signal(SIGFPE, on_signal);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(save_current);
    for (; i < argc; i++)
        failed |= run_path(argv[i], &files) != 0;

    static uint8_t seeds[16][FUZZ_SEED_MAX];
    size_t seed_len[16];
    unsigned nseeds = 0;
    while (nseeds < 16 && (seed_len[nseeds] = fuzz_seed(nseeds, seeds[nseeds], FUZZ_SEED_MAX)))
        nseeds++;
    for (unsigned s = 0; s < nseeds; s++)
        run_one(seeds[s], seed_len[s]);

    static uint8_t buf[MUTANT_MAX];
    rng_state = seed * UINT64_C(0x9E3779B97F4A7C15) | 1;
    for (unsigned long m = 0; m < mutations; m++) {
        size_t len = 0;
        if (nseeds) {
            unsigned s = (unsigned)(m % nseeds);
            len = seed_len[s];
            memcpy(buf, seeds[s], len);
        }
        /* Stack a few edits: single edits rarely get past one check, many destroy the structure. */
        for (size_t k = 1 + below(6); k; k--)
            mutate(buf, &len);
        run_one(buf, len);
    }
    printf("%s %d - %s: %u seeds, %lu mutations (seed %llu), %lu files\n", failed ? "not ok" : "ok", 1, name, nseeds,
           mutations, (unsigned long long)seed, files);
    printf("1..1\n");
    return failed;
}
