/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen: builds Windows-like test disks (raw, fixed, dynamic, differencing chain; MBR at 63 or 2048, or GPT)
 * through vhdkit's own library, and writes a manifest tests check with peer tools (issue 3, "Test disks"). */
#include "gen.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vhdkit/part.h"

static void usage(FILE *f)
{
    fputs("usage: vk-gen --out IMAGE [options]      build a test disk\n"
          "       vk-gen content SEED SIZE KEY        print the content vk-gen gives file KEY (its path)\n"
          "       vk-gen info IMAGE                   the chosen NTFS volume's state as key=value lines\n"
          "       vk-gen meta IMAGE PATH ATTRS SD     set a file's attribute bits and security descriptor (hex, or -)\n"
          "options (also as key=value lines in --spec FILE, applied where --spec stands):\n"
          "  --format raw|fixed|dynamic|chain   (dynamic)   --chain-depth 2|3 images in a chain (2)\n"
          "  --layout mbr63|mbr2048|gpt (mbr2048)            --size SIZE (1G)   --block-size SIZE (2M)\n"
          "  --files N (200)   --seed N (1)   --deleted FRACTION (0: extra files written, then removed)\n"
          "  --fill-mb MB (0: add 10-50 MiB files until MB of file data have been written)\n"
          "  --pagefile SIZE (16M)   --hiberfil[=hibr|clean|no]   --dirty   --user NAME (alice)\n"
          "  --cluster SIZE (4K: the NTFS cluster size, 512 to 64K)\n"
          "  --label TEXT (Windows)   --manifest FILE   --quiet   --bcd (Vista-style Boot/BCD, MBR)\n"
          "A chain's parents are IMAGE-0.vhd (and IMAGE-1.vhd) next to IMAGE, the top; --manifest FILE describes the\n"
          "top and FILE.0 (FILE.1) its parents. Manifest lines: KIND SHA256 SIZE PATH, KIND d (folder), f (file) or\n"
          "s (stream, PATH file:stream). Files changed by chain child N hold the content of key PATH@N, over the\n"
          "whole file or over [size/3, size/3 + 8 KiB).\n", f);
}

static int cmd_content(int argc, char **argv)
{
    uint64_t seed, size;
    if (argc != 5 || parse_size(argv[2], &seed) || parse_size(argv[3], &size)) {
        usage(stderr);
        return 2;
    }
    struct content c;
    content_init(&c, seed, argv[4], size);
    static uint8_t buf[1u << 16];
    size_t n;
    while ((n = content_next(&c, buf, sizeof buf)))
        if (fwrite(buf, 1, n, stdout) != n)
            return 1;
    return fflush(stdout) ? 1 : 0;
}

static int fail(const char *what, const vk_error *err)
{
    char msg[1024];
    vk_error_format(err, msg, sizeof msg);
    fprintf(stderr, "vk-gen: %s: %s\n", what, msg);
    return 1;
}

static int cmd_info(int argc, char **argv)
{
    if (argc != 3) {
        usage(stderr);
        return 2;
    }
    vk_error err = {0};
    vk_dev *disk, *vdev;
    vk_ntfs *vol;
    unsigned part;
    if (vk_image_open(argv[2], NULL, &disk, NULL, &err))
        return fail(argv[2], &err);
    vk_ntfs_opts o = {.flags = VK_NTFS_RDONLY};
    if (vk_ntfs_choose(disk, 0, &o, &vol, &vdev, &part, &err)) {
        vk_dev_close(disk);
        return fail(argv[2], &err);
    }
    vk_ntfs_info info;
    int rc = vk_ntfs_info_get(vol, &info, &err);
    if (!rc)
        printf("partition=%u\nlabel=%s\nserial=%016llx\ncluster_size=%u\ntotal_clusters=%llu\nfree_clusters=%llu\n"
               "hibernated=%d\ndirty=%d\nlogfile_unclean=%d\nwindows=%d\n",
               part, info.label, (unsigned long long)info.serial, info.cluster_size,
               (unsigned long long)info.total_clu, (unsigned long long)info.free_clu, info.hibernated, info.dirty,
               info.logfile_unclean, vk_ntfs_is_windows(vol));
    vk_ntfs_unmount(vol, NULL);
    vk_dev_close(vdev);
    vk_dev_close(disk);
    return rc ? fail(argv[2], &err) : 0;
}

static int parse_args(struct gen_spec *s, int argc, char **argv)
{
    static const struct option longs[] = {
        {"out", required_argument, 0, 'o'},      {"format", required_argument, 0, 0},
        {"layout", required_argument, 0, 0},     {"size", required_argument, 0, 0},
        {"block-size", required_argument, 0, 0}, {"files", required_argument, 0, 0},
        {"seed", required_argument, 0, 0},       {"deleted", required_argument, 0, 0},
        {"hiberfil", optional_argument, 0, 0},   {"dirty", optional_argument, 0, 0},
        {"chain-depth", required_argument, 0, 0}, {"user", required_argument, 0, 0},
        {"label", required_argument, 0, 0},      {"fill-mb", required_argument, 0, 0},
        {"pagefile", required_argument, 0, 0},   {"manifest", required_argument, 0, 'm'},
        {"quiet", no_argument, 0, 'q'},          {"spec", required_argument, 0, 1},
        {"help", no_argument, 0, 'h'},           {"bcd", no_argument, 0, 0},
        {"cluster", required_argument, 0, 0},
        {0, 0, 0, 0},
    };
    int idx, c;
    while ((c = getopt_long(argc, argv, "o:m:qh", longs, &idx)) != -1) {
        int rc;
        switch (c) {
        case 0: rc = spec_set(s, longs[idx].name, optarg); break;
        case 1: rc = spec_load_file(s, optarg); break;
        case 'o': rc = spec_set(s, "out", optarg); break;
        case 'm': rc = spec_set(s, "manifest", optarg); break;
        case 'q': rc = spec_set(s, "quiet", NULL); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (rc)
            return -1;
    }
    if (optind != argc || !s->out[0]) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Image N of a chain of `depth`: the top is --out, parents are "<out without .vhd>-N.vhd". */
static void chain_path(const struct gen_spec *s, unsigned n, char *out, size_t cap)
{
    if (s->format != GEN_CHAIN || n + 1 == s->chain_depth) {
        snprintf(out, cap, "%s", s->out);
        return;
    }
    size_t len = strlen(s->out);
    if (len > 4 && !strcasecmp(s->out + len - 4, ".vhd"))
        len -= 4;
    snprintf(out, cap, "%.*s-%u.vhd", (int)len, s->out, n);
}

/* One image of the build: level 0 makes the disk, later levels a differencing child of the previous image. */
static int build_level(struct gen_ctx *g, unsigned level, const char *prev, const char *path, vk_error *err)
{
    const struct gen_spec *s = g->spec;
    vk_dev *dev = NULL, *part = NULL;
    vk_vhd *vhd = NULL;
    int last = s->format != GEN_CHAIN || level + 1 == s->chain_depth;
    int rc;
    g->level = level;
    if (level == 0) {
        rc = disk_create(s, path, &g->disk, &dev, &vhd, err);
        if (!rc)
            rc = disk_partition(s, dev, &g->disk, err);
        if (!rc)
            rc = disk_mkntfs(s, dev, &g->disk, err);
    } else {
        rc = disk_child(prev, path, &dev, &vhd, err);
    }
    if (!rc)
        rc = vk_dev_window(dev, g->disk.ntfs_start_lba * VK_SECTOR_SIZE, g->disk.ntfs_nsec * VK_SECTOR_SIZE, 0,
                           &part, err);
    if (!rc)
        rc = vk_ntfs_mount(part, 0, &g->vol, err);
    if (!rc)
        rc = level == 0 ? tree_base(g, err) : tree_child(g, err);
    if (!rc)
        rc = tree_finish(g, last, err);
    if (g->vol) {
        int rc2 = vk_ntfs_unmount(g->vol, rc ? NULL : err);
        rc = rc ? rc : rc2;
        g->vol = NULL;
    }
    vk_dev_close(part);
    int rc3 = disk_close(dev, vhd, rc ? NULL : err);
    rc = rc ? rc : rc3;
    if (!rc && s->manifest[0]) {
        char mpath[4200];
        if (last)
            snprintf(mpath, sizeof mpath, "%s", s->manifest);
        else
            snprintf(mpath, sizeof mpath, "%s.%u", s->manifest, level);
        if (manifest_write(&g->man, mpath))
            rc = vk_fail(err, VK_E_IO, mpath, VK_NO_OFFSET, "cannot write the manifest");
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "content"))
        return cmd_content(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "info"))
        return cmd_info(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "meta")) {
        if (argc != 6) {
            usage(stderr);
            return 2;
        }
        return gen_meta(argv[2], argv[3], argv[4], argv[5]);
    }
    struct gen_spec s;
    spec_defaults(&s);
    if (parse_args(&s, argc, argv))
        return 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct gen_ctx g = {.spec = &s};
    vk_error err = {0};
    unsigned levels = s.format == GEN_CHAIN ? s.chain_depth : 1;
    char prev[4200] = "", path[4200];
    int rc = 0;
    for (unsigned l = 0; l < levels && !rc; l++) {
        chain_path(&s, l, path, sizeof path);
        rc = build_level(&g, l, prev, path, &err);
        snprintf(prev, sizeof prev, "%s", path);
    }
    if (rc) {
        manifest_free(&g.man);
        return fail(path, &err);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t files = 0;
    for (size_t k = 0; k < g.man.n; k++)
        files += g.man.e[k].alive && g.man.e[k].kind == ENT_FILE;
    if (!s.quiet)
        printf("vk-gen: %s: NTFS partition %u at sector %llu, %zu files, %.1f MiB written, %.2f s\n", s.out,
               g.disk.ntfs_number, (unsigned long long)g.disk.ntfs_start_lba, files,
               (double)g.written / (1 << 20),
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    manifest_free(&g.man);
    return 0;
}
