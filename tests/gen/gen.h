/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen: the spec of a Windows-like test disk and the steps that build it (tests/gen, issue 3). */
#ifndef VK_GEN_H
#define VK_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vhdkit/dev.h"
#include "vhdkit/error.h"
#include "vhdkit/ntfs.h"
#include "vhdkit/vhd.h"

enum gen_format { GEN_RAW, GEN_FIXED, GEN_DYNAMIC, GEN_CHAIN };
enum gen_layout { GEN_MBR63, GEN_MBR2048, GEN_GPT };
enum gen_hiber { GEN_HIBER_NONE, GEN_HIBER_HIBERNATED, GEN_HIBER_CLEAN };

#define GEN_NAME_MAX 64

struct gen_spec {
    char out[4096];
    char manifest[4096];
    enum gen_format format;
    enum gen_layout layout;
    uint64_t size;           /* virtual disk size in bytes */
    uint32_t block_size;     /* dynamic and chain images, 0 = library default (2 MiB) */
    unsigned files;          /* regular files besides the Windows skeleton */
    uint64_t seed;
    double deleted;          /* fraction of extra files written and then removed */
    enum gen_hiber hiberfil;
    int dirty;
    unsigned chain_depth;    /* images in a chain (2 or 3) */
    char user[GEN_NAME_MAX];
    char label[GEN_NAME_MAX];
    uint64_t fill;           /* bytes of large (10-50 MiB) files to add, 0 = none */
    uint64_t pagefile;       /* pagefile.sys size in bytes */
    uint32_t cluster;        /* NTFS cluster size in bytes (mkntfs -c): 512 to 64 KiB, a power of two */
    int quiet;
    int bcd;                 /* --bcd: a Vista-style Boot/BCD (bcd.c) */
};

/* spec.c: options and key=value files. */
int spec_defaults(struct gen_spec *s);
/* Applies one option by its long name ("size", "layout", ...); value NULL for flags. Returns 0 or -1 with a message
 * on stderr. */
int spec_set(struct gen_spec *s, const char *name, const char *value);
int spec_load_file(struct gen_spec *s, const char *path);
int parse_size(const char *text, uint64_t *out);

/* content.c: deterministic non-zero file content from seed + path (see content_word). */
struct content {
    uint64_t key;
    uint64_t pos;            /* next byte */
    uint64_t size;
};
void content_init(struct content *c, uint64_t seed, const char *path, uint64_t size);
/* Fills buf with the next bytes; returns the count (0 at the end). */
size_t content_next(struct content *c, void *buf, size_t cap);
uint64_t gen_rand(uint64_t *state);  /* splitmix64 step */
uint64_t gen_hash(const char *text, uint64_t seed);

/* sha256.c */
struct sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t nbuf;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_hex(struct sha256 *s, char out[65]);

/* The planned disk: partition placement. */
struct gen_disk {
    uint64_t size;           /* virtual size actually obtained */
    uint32_t disk_signature; /* MBR */
    uint8_t disk_guid[16];   /* GPT */
    uint8_t ntfs_guid[16];   /* GPT: unique GUID of the basic-data partition */
    uint64_t ntfs_start_lba;
    uint64_t ntfs_nsec;
    unsigned ntfs_number;    /* partition number */
};

/* disk.c: image files, partition table, mkntfs and its copy into the image. */
int disk_create(const struct gen_spec *s, const char *path, struct gen_disk *d, vk_dev **dev, vk_vhd **vhd,
                vk_error *err);
int disk_child(const char *parent, const char *path, vk_dev **dev, vk_vhd **vhd, vk_error *err);
int disk_partition(const struct gen_spec *s, vk_dev *dev, struct gen_disk *d, vk_error *err);
int disk_mkntfs(const struct gen_spec *s, vk_dev *dev, const struct gen_disk *d, vk_error *err);
int disk_close(vk_dev *dev, vk_vhd *vhd, vk_error *err);

/* The manifest: every entry written, kept or not; `alive` ones exist on the volume at the end. */
enum ent_kind { ENT_DIR = 'd', ENT_FILE = 'f', ENT_STREAM = 's' };
struct ent {
    char *path;              /* '/'-separated from the volume root; streams as "file:stream" */
    char kind;
    uint64_t size;
    char sha[65];            /* "-" for directories */
    int alive;
    int numbered;            /* one of the --files files (chain children may change it) */
    int changed;             /* already changed by a chain child (changed at most once) */
    int touched;             /* written (or a child added/removed) since the last time fix-up */
    int64_t time_ns;         /* creation time to give it at the end */
};
struct manifest {
    struct ent *e;
    size_t n, cap;
    size_t *index;           /* open addressing over path hashes: entry number + 1, 0 = empty */
    size_t index_cap;
};
/* The entry for path (a new one, not alive, when missing); NULL when out of memory. */
struct ent *manifest_get(struct manifest *m, char kind, const char *path);
struct ent *manifest_find(struct manifest *m, const char *path);
/* Lines "KIND SHA256 SIZE PATH" (kind d, f or s; "-" as the hash of directories) sorted by path. */
int manifest_write(struct manifest *m, const char *path);
void manifest_free(struct manifest *m);

/* tree.c: the Windows-like tree and the numbered files. */
struct gen_ctx {
    const struct gen_spec *spec;
    struct gen_disk disk;
    vk_ntfs *vol;
    struct manifest man;
    uint64_t rng;
    uint64_t written;        /* bytes written into files (kept and deleted) */
    unsigned level;          /* 0 for the base image, 1.. for chain children */
};
int tree_base(struct gen_ctx *g, vk_error *err);
int tree_child(struct gen_ctx *g, vk_error *err);
int tree_finish(struct gen_ctx *g, int last, vk_error *err);
/* Writes a file of `size` bytes of seeded content (or `data` when not NULL) and records it. */
int put_file(struct gen_ctx *g, const char *path, uint64_t size, const void *data, vk_error *err);
int put_dir(struct gen_ctx *g, const char *path, vk_error *err);

/* hives.c: registry hives built with vk_reg. */
int hives_write(struct gen_ctx *g, vk_error *err);
/* bcd.c: Boot/BCD whose device elements point at the NTFS partition (MBR). */
int bcd_write(struct gen_ctx *g, vk_error *err);

/* meta.c: `vk-gen meta IMAGE PATH ATTRS SD`; returns the exit status. */
int gen_meta(const char *image, const char *path, const char *attrs_text, const char *sd_hex);

#endif
