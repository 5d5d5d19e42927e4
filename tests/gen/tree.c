/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen's Windows-like tree written through vk_ntfs: skeleton folders, hives, pagefile, numbered files of mixed
 * sizes, files written then removed (clusters free in NTFS, still allocated in the image), streams, a sparse file,
 * chain-child changes, fixed times, and last the hibernation and dirty markers. */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

#include "ntfs/ntfs_int.h" /* the dirty flag has no public setter: ntfs_volume_write_flags */

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define CHUNK (256u << 10)
/* 2021-06-15 08:00:00 UTC: every time on the volume is derived from it (reproducible images). */
#define BASE_TIME_NS (1623744000ll * 1000000000ll)
#define DAY_NS (86400ll * 1000000000ll)

static const char *const words[] = {"kernel", "shell",    "network", "audio", "print", "crypt", "update", "search",
                                    "display", "storage", "input",   "media", "power", "sec",   "sync",   "font"};
#define NWORDS (sizeof words / sizeof words[0])

/* Where numbered files go: folder and name templates ({u} user, {w} a word, {k} a small folder number, {i} the
 * file number), weighted. Names are unique through {i} (also case-insensitively, as NTFS requires). */
static const struct pool {
    const char *dir, *name;
    unsigned weight;
} pools[] = {
    {"Windows/System32", "{w}{i}.dll", 20},
    {"Windows/System32/drivers", "{w}{i}.sys", 5},
    {"Windows/System32/en-US", "{w}{i}.dll.mui", 5},
    {"Windows/SysWOW64", "{w}{i}.dll", 8},
    {"Windows/WinSxS/amd64_microsoft-windows-{w}_31bf3856ad364e35_10.0.19041.{k}_none", "{w}{i}.dll", 10},
    {"Windows/INF", "{w}{i}.inf", 4},
    {"Windows/Fonts", "{w}{i}.ttf", 3},
    {"Windows/Logs/CBS", "CBS{i}.log", 2},
    {"Program Files/Contoso/Editor", "{w}{i}.dll", 6},
    {"Program Files/Fabrikam/Viewer/plugins", "{w} plugin {i}.dll", 4},
    {"Program Files (x86)/Northwind/Reports", "report{i}.rpt", 4},
    {"ProgramData/Microsoft/Windows/Caches", "cache{i}.db", 3},
    {"Users/{u}/Documents", "{w} report {i}.docx", 8},
    {"Users/{u}/Documents/Projects/Project {k}", "{w} notes {i}.txt", 5},
    {"Users/{u}/Documents", "Résumé {i}.txt", 1},
    {"Users/{u}/Documents/Übersicht", "Bericht {i}.xlsx", 1},
    {"Users/{u}/Documents", "日本語の文書 {i}.txt", 1},
    {"Users/{u}/Pictures", "IMG_{i}.jpg", 6},
    {"Users/{u}/Music", "Track {i} - {w}.mp3", 2},
    {"Users/{u}/AppData/Roaming/Microsoft/Windows/Recent", "{w} {i}.lnk", 3},
    {"Users/{u}/AppData/Local/Microsoft/Windows/INetCache/IE", "{w}[{i}].htm", 3},
    {"Users/Public/Documents", "shared {w} {i}.pdf", 2},
};

/* Files written and later removed: temp files, downloads, update packages. */
static const struct pool scratch[] = {
    {"Windows/Temp", "{w}{i}.tmp", 1},
    {"Users/{u}/AppData/Local/Temp", "~{w}{i}.tmp", 1},
    {"Users/{u}/Downloads", "{w}-setup-{i}.exe", 1},
    {"Windows/SoftwareDistribution/Download", "{w}{i}.cab", 1},
};

static const char *const skeleton[] = {
    "Windows/System32/config", "Windows/System32/drivers/etc", "Windows/System32/DriverStore/FileRepository",
    "Windows/System32/en-US", "Windows/SysWOW64", "Windows/Fonts", "Windows/Temp", "Windows/Logs/CBS",
    "Windows/INF", "Windows/Prefetch", "Windows/WinSxS", "Windows/SoftwareDistribution/Download",
    "Program Files/Common Files/microsoft shared", "Program Files/Contoso/Editor",
    "Program Files/Fabrikam/Viewer/plugins", "Program Files (x86)/Northwind/Reports",
    "ProgramData/Microsoft/Windows/Start Menu/Programs", "ProgramData/Microsoft/Windows/Caches",
    "System Volume Information", "Users/Default", "Users/Public/Documents", "Users/{u}/Desktop",
    "Users/{u}/Documents", "Users/{u}/Downloads", "Users/{u}/Pictures", "Users/{u}/Music", "Users/{u}/Videos",
    "Users/{u}/AppData/Local/Temp", "Users/{u}/AppData/Roaming/Microsoft/Windows/Recent",
};

static void expand(const struct gen_ctx *g, const char *tmpl, const char *word, unsigned k, unsigned long long i,
                   char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = tmpl; *p && n + 1 < cap;) {
        char sub[96];
        const char *rep = NULL;
        if (!strncmp(p, "{u}", 3))
            rep = g->spec->user;
        else if (!strncmp(p, "{w}", 3))
            rep = word;
        else if (!strncmp(p, "{k}", 3))
            snprintf(sub, sizeof sub, "%u", k), rep = sub;
        else if (!strncmp(p, "{i}", 3))
            snprintf(sub, sizeof sub, "%04llu", i), rep = sub;
        if (rep) {
            n += (size_t)snprintf(out + n, cap - n, "%s", rep);
            p += 3;
        } else {
            out[n++] = *p++;
            out[n] = '\0';
        }
    }
    if (n >= cap)
        out[cap - 1] = '\0';
}

static void pool_path(struct gen_ctx *g, const struct pool *pl, size_t npl, unsigned long long i, uint64_t *rng,
                      char *out, size_t cap)
{
    unsigned total = 0;
    for (size_t k = 0; k < npl; k++)
        total += pl[k].weight;
    unsigned r = (unsigned)(gen_rand(rng) % total);
    size_t k = 0;
    while (r >= pl[k].weight)
        r -= pl[k++].weight;
    const char *word = words[gen_rand(rng) % NWORDS];
    unsigned sub = (unsigned)(gen_rand(rng) % 6);
    char dir[1024], name[512];
    expand(g, pl[k].dir, word, sub, i, dir, sizeof dir);
    expand(g, pl[k].name, word, sub, i, name, sizeof name);
    snprintf(out, cap, "%s/%s", dir, name);
}

static int64_t pick_time(struct gen_ctx *g, const char *path)
{
    uint64_t st = gen_hash(path, g->spec->seed ^ 0x71);
    return BASE_TIME_NS + (int64_t)g->level * 200 * DAY_NS + (int64_t)(gen_rand(&st) % (uint64_t)(180 * DAY_NS));
}

/* Creating or removing an entry changes its folder's times: fix them again at the end of the level. */
static void touch_parent(struct gen_ctx *g, const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *colon = strchr(dir, ':');
    struct ent *e;
    if (colon) { /* a stream changes its file */
        *colon = '\0';
        if ((e = manifest_find(&g->man, dir)))
            e->touched = 1;
        return;
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        return; /* the root is always fixed */
    *slash = '\0';
    if ((e = manifest_find(&g->man, dir)))
        e->touched = 1;
}

int put_dir(struct gen_ctx *g, const char *path, vk_error *err)
{
    struct ent *e = manifest_find(&g->man, path);
    if (e && e->alive)
        return 0;
    int rc = vk_ntfs_mkdir(g->vol, path, 1, err);
    if (rc)
        return rc;
    /* Record every folder on the way (mkdir -p made the missing ones). */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *slash = buf + strlen(buf);; slash = strrchr(buf, '/')) {
        if (slash)
            *slash = '\0';
        e = manifest_get(&g->man, ENT_DIR, buf);
        if (!e)
            return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for the manifest");
        if (e->alive)
            break;
        e->alive = 1;
        e->touched = 1;
        e->time_ns = pick_time(g, buf);
        if (!strchr(buf, '/'))
            break;
    }
    return 0;
}

static int put_parent(struct gen_ctx *g, const char *path, vk_error *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *colon = strchr(dir, ':');
    if (colon)
        return 0; /* a stream: its file exists */
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    return put_dir(g, dir, err);
}

/* The bytes of one file: seeded content (key path `key`) or a caller buffer; hashed as they are produced. */
struct source {
    struct content c;
    const uint8_t *data;
    struct sha256 sh;
};

static long source_read(void *ctx, void *buf, size_t cap)
{
    struct source *s = ctx;
    size_t n;
    if (s->data) {
        uint64_t left = s->c.size - s->c.pos;
        n = left < cap ? (size_t)left : cap;
        memcpy(buf, s->data + s->c.pos, n);
        s->c.pos += n;
    } else {
        n = content_next(&s->c, buf, cap);
    }
    sha256_update(&s->sh, buf, n);
    return (long)n;
}

static int put_keyed(struct gen_ctx *g, const char *path, const char *key, uint64_t size, const void *data,
                     vk_error *err)
{
    int rc = put_parent(g, path, err);
    if (rc)
        return rc;
    struct source src;
    content_init(&src.c, g->spec->seed, key, size);
    src.data = data;
    sha256_init(&src.sh);
    rc = vk_ntfs_write_from(g->vol, path, source_read, &src, err);
    if (rc)
        return rc;
    struct ent *e = manifest_get(&g->man, strchr(path, ':') ? ENT_STREAM : ENT_FILE, path);
    if (!e)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for the manifest");
    e->alive = 1;
    e->touched = 1;
    e->size = size;
    sha256_hex(&src.sh, e->sha);
    e->time_ns = pick_time(g, path);
    touch_parent(g, path);
    g->written += size;
    return 0;
}

int put_file(struct gen_ctx *g, const char *path, uint64_t size, const void *data, vk_error *err)
{
    return put_keyed(g, path, path, size, data, err);
}

static int put_text(struct gen_ctx *g, const char *path, const char *text, vk_error *err)
{
    return put_file(g, path, strlen(text), text, err);
}

static int remove_file(struct gen_ctx *g, const char *path, vk_error *err)
{
    int rc = vk_ntfs_remove(g->vol, path, 0, err);
    if (rc)
        return rc;
    touch_parent(g, path);
    size_t len = strlen(path);
    for (size_t k = 0; k < g->man.n; k++) {
        struct ent *e = &g->man.e[k];
        if (!strncmp(e->path, path, len) && (e->path[len] == '\0' || e->path[len] == ':'))
            e->alive = 0;
    }
    return 0;
}

/* Mixed sizes: resident (< 600 bytes), 4-64 KiB, 64-512 KiB, 1-2 MiB. */
static uint64_t pick_size(uint64_t *rng)
{
    unsigned c = (unsigned)(gen_rand(rng) % 100);
    uint64_t r = gen_rand(rng);
    if (c < 35)
        return 1 + r % 599;
    if (c < 75)
        return 4 * KIB + r % (60 * KIB);
    if (c < 97)
        return 64 * KIB + r % (448 * KIB);
    return MIB + r % MIB;
}

/* A file with 4 KiB at 0 and 64 KiB at 4 MiB of an 8 MiB length: the rest are holes (NTFS 3.x extends $DATA
 * with sparse runs). */
static int put_sparse(struct gen_ctx *g, const char *path, vk_error *err)
{
    uint64_t size = 8 * MIB, off2 = 4 * MIB, len2 = 64 * KIB;
    uint8_t *buf = malloc(len2);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    struct content c;
    content_init(&c, g->spec->seed, path, size);
    int rc = put_parent(g, path, err);
    if (!rc) {
        content_next(&c, buf, 4 * KIB);
        rc = vk_ntfs_pwrite(g->vol, path, VK_NTFS_CREATE | VK_NTFS_TRUNCATE, buf, 4 * KIB, 0, err);
    }
    if (!rc)
        rc = vk_ntfs_truncate(g->vol, path, size, err);
    c.pos = off2;
    content_next(&c, buf, len2);
    if (!rc)
        rc = vk_ntfs_pwrite(g->vol, path, 0, buf, len2, off2, err);
    struct ent *e = rc ? NULL : manifest_get(&g->man, ENT_FILE, path);
    if (!rc && !e)
        rc = vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory for the manifest");
    if (!rc) {
        struct sha256 sh;
        sha256_init(&sh);
        memset(buf, 0, len2);
        for (uint64_t at = 0; at < size; at += len2) {
            content_init(&c, g->spec->seed, path, size);
            c.pos = at;
            size_t n = at == 0 ? 4 * KIB : at == off2 ? len2 : 0;
            memset(buf, 0, len2);
            content_next(&c, buf, n);
            sha256_update(&sh, buf, len2);
        }
        e->alive = 1;
        e->touched = 1;
        e->size = size;
        sha256_hex(&sh, e->sha);
        e->time_ns = pick_time(g, path);
        touch_parent(g, path);
    }
    free(buf);
    return rc;
}

static const char hosts[] =
    "# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n# This is a sample HOSTS file used by Microsoft TCP/IP for "
    "Windows.\r\n#\r\n# localhost name resolution is handled within DNS itself.\r\n#\t127.0.0.1       localhost\r\n"
    "#\t::1             localhost\r\n";
static const char zone[] = "[ZoneTransfer]\r\nZoneId=3\r\n";
static const char desktop_ini[] = "\r\n[.ShellClassInfo]\r\nLocalizedResourceName=@%SystemRoot%\\system32\\"
                                  "shell32.dll,-21770\r\n";

/* Windows/System32/cmd.exe as the smallest PE32+ header `file` calls "PE32+ executable (console) x86-64":
 * libguestfs inspection (daemon/inspect_fs_windows.ml) takes a folder for %SystemRoot% only when it holds
 * system32/config and system32/cmd.exe, and reads the guest's architecture from cmd.exe; without it virt-win-reg
 * and virt-inspector see no Windows on vk-gen's disks (bench/bench_guestfs.sh). No code, never run. */
static void fake_cmd_exe(uint8_t pe[1024])
{
    memset(pe, 0, 1024);
    pe[0] = 'M', pe[1] = 'Z';
    pe[0x18] = 0x40;                        /* e_lfarlc: a "new" executable */
    pe[0x3c] = 0x80;                        /* e_lfanew: the PE header at 0x80 */
    memcpy(pe + 0x80, "PE\0\0", 4);
    pe[0x84] = 0x64, pe[0x85] = 0x86;       /* COFF Machine: 0x8664, x86-64 */
    pe[0x94] = 0xf0;                        /* SizeOfOptionalHeader */
    pe[0x96] = 0x22;                        /* Characteristics: executable, large address aware */
    pe[0x98] = 0x0b, pe[0x99] = 0x02;       /* optional header Magic 0x20b: PE32+ */
    pe[0x80 + 92] = 3;                      /* Subsystem: Windows console */
}

static int skeleton_files(struct gen_ctx *g, vk_error *err)
{
    char path[1024];
    int rc = 0;
    for (size_t k = 0; k < sizeof skeleton / sizeof skeleton[0] && !rc; k++) {
        expand(g, skeleton[k], "", 0, 0, path, sizeof path);
        rc = put_dir(g, path, err);
    }
    if (!rc)
        rc = hives_write(g, err);
    if (!rc)
        rc = put_text(g, "Windows/System32/drivers/etc/hosts", hosts, err);
    if (!rc) {
        uint8_t pe[1024];
        fake_cmd_exe(pe);
        rc = put_file(g, "Windows/System32/cmd.exe", sizeof pe, pe, err);
    }
    /* The scratch folders keep one file each: sleuthkit lists the last entry removed from a folder that became
     * empty as still allocated (seen with fls 4.x on ntfs-3g's empty index), which would confuse the peer checks. */
    if (!rc)
        rc = put_file(g, "Windows/Temp/MpCmdRun.log", 6 * KIB, NULL, err);
    if (!rc)
        rc = put_file(g, "Windows/SoftwareDistribution/Download/sqm.dat", 300, NULL, err);
    if (!rc) {
        snprintf(path, sizeof path, "Users/%s/AppData/Local/Temp/wmsetup.log", g->spec->user);
        rc = put_file(g, path, 500, NULL, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "Users/%s/Documents/desktop.ini", g->spec->user);
        rc = put_text(g, path, desktop_ini, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "Users/%s/Downloads/setup.exe", g->spec->user);
        rc = put_file(g, path, 96 * KIB, NULL, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "Users/%s/Downloads/setup.exe:Zone.Identifier", g->spec->user);
        rc = put_text(g, path, zone, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "Users/%s/Documents/notes.txt", g->spec->user);
        rc = put_file(g, path, 3 * KIB, NULL, err);
    }
    if (!rc) {
        /* A non-resident alternate stream next to the resident one above. */
        snprintf(path, sizeof path, "Users/%s/Documents/notes.txt:summary", g->spec->user);
        rc = put_file(g, path, 20 * KIB, NULL, err);
    }
    if (!rc)
        rc = put_sparse(g, "ProgramData/sparse.dat", err);
    if (!rc && g->spec->pagefile)
        rc = put_file(g, "pagefile.sys", g->spec->pagefile, NULL, err);
    return rc;
}

static int fix_times(struct gen_ctx *g, const char *path, int64_t t, vk_error *err);

/* Pending removals of this level (done last, so their clusters stay allocated in the image). */
struct doomed {
    char **paths;
    size_t n, cap;
};

static int doom(struct doomed *d, const char *path)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        char **p = realloc(d->paths, cap * sizeof *p);
        if (!p)
            return -1;
        d->paths = p;
        d->cap = cap;
    }
    d->paths[d->n] = strdup(path);
    return d->paths[d->n] ? (d->n++, 0) : -1;
}

static int remove_doomed(struct gen_ctx *g, struct doomed *d, vk_error *err)
{
    int rc = 0;
    for (size_t k = 0; k < d->n; k++) {
        if (!rc)
            rc = remove_file(g, d->paths[k], err);
        free(d->paths[k]);
    }
    free(d->paths);
    memset(d, 0, sizeof *d);
    return rc;
}

/* `count` numbered files from number `first`, with round(count * deleted) scratch files interleaved; every
 * 97th file gets a Zone.Identifier stream. */
static int numbered_files(struct gen_ctx *g, unsigned long long first, unsigned count, int level_dir,
                          struct doomed *d, vk_error *err)
{
    char path[2048];
    unsigned ndel = (unsigned)(count * g->spec->deleted + 0.5);
    unsigned done_del = 0;
    int rc = 0;
    for (unsigned k = 0; k < count && !rc; k++) {
        unsigned long long i = first + k;
        uint64_t rng = gen_hash("numbered", g->spec->seed ^ (i * 0x9E37ull));
        if (level_dir) {
            const char *word = words[gen_rand(&rng) % NWORDS];
            snprintf(path, sizeof path, "Users/%s/Documents/Level %u/%s %04llu.txt", g->spec->user, g->level, word, i);
        } else {
            pool_path(g, pools, sizeof pools / sizeof pools[0], i, &rng, path, sizeof path);
        }
        rc = put_file(g, path, pick_size(&rng), NULL, err);
        if (!rc)
            manifest_find(&g->man, path)->numbered = 1;
        if (!rc && k % 97 == 5) {
            strncat(path, ":Zone.Identifier", sizeof path - strlen(path) - 1);
            rc = put_text(g, path, zone, err);
        }
        /* Scratch files spread evenly among the kept ones. */
        while (!rc && done_del < (unsigned long long)ndel * (k + 1) / count) {
            unsigned long long j = 500000ull + first + done_del++;
            pool_path(g, scratch, sizeof scratch / sizeof scratch[0], j, &rng, path, sizeof path);
            rc = put_file(g, path, 16 * KIB + gen_rand(&rng) % (496 * KIB), NULL, err);
            if (!rc) /* its MFT record keeps times after removal: fixed ones keep the image reproducible */
                rc = fix_times(g, path, pick_time(g, path), err);
            if (!rc && doom(d, path))
                rc = vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
        }
    }
    return rc;
}

/* Large files (10-50 MiB) until the data written reaches --fill-mb. */
static int fill_files(struct gen_ctx *g, vk_error *err)
{
    static const char *const big[] = {"Users/%s/Videos/holiday %u.mp4", "Users/%s/Downloads/image %u.iso",
                                      "Users/%s/Documents/archive %u.zip"};
    uint64_t rng = gen_hash("fill", g->spec->seed);
    int rc = 0;
    for (unsigned k = 0; !rc && g->written + 10 * MIB <= g->spec->fill; k++) {
        uint64_t size = 10 * MIB + gen_rand(&rng) % (40 * MIB);
        if (size > g->spec->fill - g->written)
            size = g->spec->fill - g->written;
        char path[1024];
        snprintf(path, sizeof path, big[k % 3], g->spec->user, k);
        rc = put_file(g, path, size, NULL, err);
    }
    return rc;
}

int tree_base(struct gen_ctx *g, vk_error *err)
{
    struct doomed d = {0};
    int rc = skeleton_files(g, err);
    if (!rc)
        rc = numbered_files(g, 0, g->spec->files, 0, &d, err);
    if (!rc)
        rc = fill_files(g, err);
    int rc2 = remove_doomed(g, &d, err);
    return rc ? rc : rc2;
}

/* Picks a live numbered file not changed yet (NULL when none is left). */
static struct ent *pick_unchanged(struct gen_ctx *g, uint64_t *rng)
{
    if (!g->man.n)
        return NULL;
    for (int tries = 0; tries < 1000; tries++) {
        struct ent *e = &g->man.e[gen_rand(rng) % g->man.n];
        if (e->alive && e->numbered && !e->changed && e->kind == ENT_FILE)
            return e;
    }
    return NULL;
}

/* Overwrites [off, off + len) of a file with the content of key "path@level"; the new hash is computed from both
 * generators, not read back. */
static int change_part(struct gen_ctx *g, struct ent *e, const char *key, vk_error *err)
{
    uint64_t off = e->size / 3, len = e->size - off < 8 * KIB ? e->size - off : 8 * KIB;
    uint8_t *buf = malloc(CHUNK);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    struct content c;
    content_init(&c, g->spec->seed, key, e->size);
    c.pos = off;
    content_next(&c, buf, (size_t)len);
    int rc = vk_ntfs_pwrite(g->vol, e->path, 0, buf, (size_t)len, off, err);
    if (!rc) {
        struct sha256 sh;
        sha256_init(&sh);
        struct content old, neu;
        content_init(&old, g->spec->seed, e->path, e->size);
        content_init(&neu, g->spec->seed, key, e->size);
        while (old.pos < e->size) {
            size_t n = content_next(&old, buf, CHUNK);
            uint64_t at = old.pos - n;
            /* Splice the changed range into this chunk. */
            uint64_t lo = at > off ? at : off, hi = old.pos < off + len ? old.pos : off + len;
            if (lo < hi) {
                neu.pos = lo;
                content_next(&neu, buf + (lo - at), (size_t)(hi - lo));
            }
            sha256_update(&sh, buf, n);
        }
        sha256_hex(&sh, e->sha);
        e->time_ns = pick_time(g, key);
        e->touched = 1;
    }
    free(buf);
    return rc;
}

int tree_child(struct gen_ctx *g, vk_error *err)
{
    unsigned n = g->spec->files;
    unsigned add = n / 10 > 10 ? n / 10 : 10, change = n / 20 > 3 ? n / 20 : 3;
    uint64_t rng = gen_hash("child", g->spec->seed + g->level);
    struct doomed d = {0};
    int rc = hives_write(g, err);
    if (!rc)
        rc = numbered_files(g, 1000000ull * g->level, add, 1, &d, err);
    char key[4200];
    for (unsigned k = 0; k < change && !rc; k++) {
        /* Whole rewrite (new clusters), in-place partial overwrite, removal: what a boot and an update do. */
        struct ent *e = pick_unchanged(g, &rng);
        if (e) {
            e->changed = 1;
            snprintf(key, sizeof key, "%s@%u", e->path, g->level);
            char *path = strdup(e->path);
            rc = path ? put_keyed(g, path, key, e->size, NULL, err)
                      : vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
            free(path);
        }
        if (!rc && (e = pick_unchanged(g, &rng))) {
            e->changed = 1;
            snprintf(key, sizeof key, "%s@%u", e->path, g->level);
            rc = change_part(g, e, key, err);
        }
        if (!rc && (e = pick_unchanged(g, &rng))) {
            e->changed = 1;
            char *path = strdup(e->path);
            rc = path ? remove_file(g, path, err) : vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
            free(path);
        }
    }
    int rc2 = remove_doomed(g, &d, err);
    return rc ? rc : rc2;
}

static int depth_of(const char *p)
{
    int n = 0;
    for (; *p; p++)
        n += *p == '/';
    return n;
}

static int by_depth_desc(const void *a, const void *b)
{
    const struct ent *x = *(struct ent *const *)a, *y = *(struct ent *const *)b;
    int dx = x->kind == ENT_DIR ? depth_of(x->path) : 1000, dy = y->kind == ENT_DIR ? depth_of(y->path) : 1000;
    return dy - dx;
}

/* libntfs-3g stamps the $FILE_NAME attributes in the MFT record with the clock when it creates a file and
 * vk_ntfs_set_times (like Windows) leaves them alone: set them too, so the same spec gives the same bytes. */
static int fix_fn_times(struct gen_ctx *g, const char *path, const vk_ntfs_times *t, vk_error *err)
{
    ntfs_inode *ni;
    int rc = path_open(g->vol, path, &ni, err);
    if (rc)
        return rc;
    ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
    if (!ctx) {
        ntfs_inode_close(ni);
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "%s: no search context", path);
    }
    while (!ntfs_attr_lookup(AT_FILE_NAME, AT_UNNAMED, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
        FILE_NAME_ATTR *fn = (FILE_NAME_ATTR *)((u8 *)ctx->attr + le16_to_cpu(ctx->attr->value_offset));
        fn->creation_time = ns_to_ntfs_time(t->crtime_ns);
        fn->last_data_change_time = ns_to_ntfs_time(t->crtime_ns);
        fn->last_mft_change_time = ns_to_ntfs_time(t->crtime_ns);
        fn->last_access_time = ns_to_ntfs_time(t->crtime_ns);
        ntfs_inode_mark_dirty(ctx->ntfs_ino);
    }
    ntfs_attr_put_search_ctx(ctx);
    if (ntfs_inode_close(ni))
        return vk_fail(err, VK_E_IO, NULL, VK_NO_OFFSET, "%s: cannot write its MFT record", path);
    return 0;
}

static int fix_times(struct gen_ctx *g, const char *path, int64_t t, vk_error *err)
{
    vk_ntfs_times tm = {.crtime_ns = t, .mtime_ns = t + DAY_NS, .ctime_ns = t + DAY_NS, .atime_ns = t + 2 * DAY_NS};
    int rc = fix_fn_times(g, path, &tm, err);
    return rc ? rc : vk_ntfs_set_times(g->vol, path, &tm, err);
}

/* Fixed times for what this level wrote: files first, then folders deepest first (creating children touched
 * them), the root last. A chain child thus rewrites only the MFT records it changed anyway. */
static int set_times(struct gen_ctx *g, vk_error *err)
{
    struct ent **v = malloc((g->man.n + 1) * sizeof *v);
    if (!v)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    size_t n = 0;
    for (size_t k = 0; k < g->man.n; k++)
        if (g->man.e[k].alive && g->man.e[k].touched && g->man.e[k].kind != ENT_STREAM)
            v[n++] = &g->man.e[k];
    qsort(v, n, sizeof *v, by_depth_desc);
    int rc = 0;
    for (size_t k = 0; k <= n && !rc; k++) {
        rc = fix_times(g, k < n ? v[k]->path : "", k < n ? v[k]->time_ns : BASE_TIME_NS, err);
        if (k < n)
            v[k]->touched = 0;
    }
    free(v);
    return rc;
}

static int put_hiberfil(struct gen_ctx *g, vk_error *err)
{
    uint64_t size = g->spec->pagefile > 64 * KIB ? g->spec->pagefile : 64 * KIB;
    uint8_t *buf = malloc(size);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, "no memory");
    struct content c;
    content_init(&c, g->spec->seed, "hiberfil.sys", size);
    content_next(&c, buf, size);
    /* ntfs-3g's test: the first 4 KiB start with "hibr" (hibernated) or are not "hibr" (clean; Windows zeroes
     * them when it resumes). */
    memset(buf, 0, 4 * KIB);
    if (g->spec->hiberfil == GEN_HIBER_HIBERNATED)
        memcpy(buf, "hibr", 4);
    int rc = put_file(g, "hiberfil.sys", size, buf, err);
    free(buf);
    return rc;
}

int tree_finish(struct gen_ctx *g, int last, vk_error *err)
{
    int rc = 0;
    if (last && g->spec->hiberfil)
        rc = put_hiberfil(g, err);
    if (!rc)
        rc = set_times(g, err);
    if (!rc && last && g->spec->dirty) {
        ntfs_volume *vol = g->vol->vol;
        if (ntfs_volume_write_flags(vol, vol->flags | VOLUME_IS_DIRTY))
            rc = vk_fail(err, VK_E_IO, NULL, VK_NO_OFFSET, "cannot set the volume dirty flag");
    }
    return rc;
}
