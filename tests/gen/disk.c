/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk-gen disks: the image file (raw, fixed, dynamic, differencing child), the partition table (XP MBR at 63,
 * Vista+ MBR at 2048, GPT with EFI/MSR/basic data) and mkntfs's volume copied in through the image's vk_dev. */
#include "gen.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vhdkit/part.h"

extern char **environ;

#define MIB (1ull << 20)
#define CHUNK (4u << 10)

int disk_create(const struct gen_spec *s, const char *path, struct gen_disk *d, vk_dev **dev, vk_vhd **vhd,
                vk_error *err)
{
    *dev = NULL;
    *vhd = NULL;
    if (unlink(path) && errno != ENOENT)
        return vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "cannot replace the old image");
    int rc;
    if (s->format == GEN_RAW) {
        rc = vk_dev_open_file(path, VK_FILE_RDWR | VK_FILE_CREATE, dev, err);
        if (!rc)
            rc = vk_dev_set_size(*dev, s->size, err);
    } else {
        struct vk_vhd_create_opts co = {
            .type = s->format == GEN_FIXED ? VK_VHD_FIXED : VK_VHD_DYNAMIC,
            .size = s->size,
            .block_size = s->block_size,
            .fill = VK_FILL_SPARSE, /* test disks: fast and small; Windows would want VK_FILL_ALLOCATE */
        };
        struct vk_vhd_create_result res;
        rc = vk_vhd_create(path, &co, &res, err);
        if (!rc)
            rc = vk_vhd_open(path, &(struct vk_vhd_open_opts){.flags = VK_VHD_RDWR | VK_VHD_BULK}, vhd, err);
        if (!rc)
            *dev = vk_vhd_dev(*vhd);
    }
    if (rc) {
        disk_close(*dev, *vhd, NULL);
        *dev = NULL;
        *vhd = NULL;
        return rc;
    }
    d->size = (*dev)->size;
    return 0;
}

int disk_child(const char *parent, const char *path, vk_dev **dev, vk_vhd **vhd, vk_error *err)
{
    *dev = NULL;
    *vhd = NULL;
    if (unlink(path) && errno != ENOENT)
        return vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "cannot replace the old image");
    struct vk_vhd_create_opts co = {.type = VK_VHD_DIFF, .parent = parent};
    struct vk_vhd_create_result res;
    int rc = vk_vhd_create(path, &co, &res, err);
    if (!rc)
        rc = vk_vhd_open(path, &(struct vk_vhd_open_opts){.flags = VK_VHD_RDWR | VK_VHD_BULK}, vhd, err);
    if (rc)
        return rc;
    *dev = vk_vhd_dev(*vhd);
    return 0;
}

int disk_close(vk_dev *dev, vk_vhd *vhd, vk_error *err)
{
    int rc = 0;
    if (vhd) {
        rc = vk_vhd_flush(vhd, err);
        vk_vhd_close(vhd);
    } else if (dev) {
        rc = vk_dev_flush(dev, err);
        vk_dev_close(dev);
    }
    return rc;
}

/* A random (version 4) GUID from the seed, in on-disk byte order. */
static void seeded_guid(uint64_t seed, const char *what, uint8_t g[16])
{
    uint64_t st = gen_hash(what, seed);
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = gen_rand(&st);
        memcpy(g + i, &r, 8);
    }
    g[7] = (uint8_t)((g[7] & 0x0F) | 0x40);
    g[8] = (uint8_t)((g[8] & 0x3F) | 0x80);
}

int disk_partition(const struct gen_spec *s, vk_dev *dev, struct gen_disk *d, vk_error *err)
{
    uint64_t total = d->size / VK_SECTOR_SIZE;
    uint64_t rng = gen_hash("disk-signature", s->seed);
    d->disk_signature = (uint32_t)gen_rand(&rng) | 1u;
    seeded_guid(s->seed, "disk-guid", d->disk_guid);
    seeded_guid(s->seed, "ntfs-partition-guid", d->ntfs_guid);
    vk_part p[3];
    memset(p, 0, sizeof p);
    if (s->layout != GEN_GPT) {
        if (s->layout == GEN_MBR63) {
            /* Windows XP: track-aligned start, the partition ends on a 255x63 cylinder boundary. */
            d->ntfs_start_lba = 63;
            d->ntfs_nsec = total / (255 * 63) * (255 * 63) - 63;
        } else {
            /* Vista and later: 1 MiB aligned start and length. */
            d->ntfs_start_lba = 2048;
            d->ntfs_nsec = (total - 2048) / 2048 * 2048;
        }
        d->ntfs_number = 1;
        p[0].start_lba = d->ntfs_start_lba;
        p[0].nsec = d->ntfs_nsec;
        p[0].mbr_type = 0x07;
        p[0].flags = VK_PART_BOOTABLE;
        return vk_part_write_mbr(dev, d->disk_signature, p, 1, err);
    }
    /* Windows 10 on UEFI: EFI System 100 MiB, MSR 16 MiB, basic data; smaller disks get smaller EFI/MSR. */
    uint64_t efi = d->size >= (4ull << 30) ? 100 * MIB : d->size >= (1ull << 30) ? 32 * MIB : 2 * MIB;
    uint64_t msr = d->size >= (1ull << 30) ? 16 * MIB : MIB;
    uint64_t last_usable = total - 34;
    p[0].start_lba = 2048;
    p[0].nsec = efi / VK_SECTOR_SIZE;
    vk_guid_parse(VK_GPT_TYPE_EFI_SYSTEM, p[0].type_guid);
    seeded_guid(s->seed, "efi-partition-guid", p[0].uuid);
    snprintf(p[0].name, sizeof p[0].name, "EFI system partition");
    p[1].start_lba = p[0].start_lba + p[0].nsec;
    p[1].nsec = msr / VK_SECTOR_SIZE;
    vk_guid_parse(VK_GPT_TYPE_MS_RESERVED, p[1].type_guid);
    seeded_guid(s->seed, "msr-partition-guid", p[1].uuid);
    snprintf(p[1].name, sizeof p[1].name, "Microsoft reserved partition");
    p[2].start_lba = p[1].start_lba + p[1].nsec;
    p[2].nsec = (last_usable + 1 - p[2].start_lba) / 2048 * 2048;
    vk_guid_parse(VK_GPT_TYPE_MS_BASIC_DATA, p[2].type_guid);
    memcpy(p[2].uuid, d->ntfs_guid, 16);
    snprintf(p[2].name, sizeof p[2].name, "Basic data partition");
    d->ntfs_start_lba = p[2].start_lba;
    d->ntfs_nsec = p[2].nsec;
    d->ntfs_number = 3;
    return vk_part_write_gpt(dev, d->disk_guid, p, 3, err);
}

/* Runs mkntfs with its chatter in `log` (shown only when it fails). */
static int run_mkntfs(const struct gen_spec *s, const struct gen_disk *d, const char *img, const char *log,
                      vk_error *err)
{
    char start[32], cluster[16];
    snprintf(start, sizeof start, "%llu", (unsigned long long)d->ntfs_start_lba);
    snprintf(cluster, sizeof cluster, "%u", (unsigned)s->cluster);
    /* -T: fixed times and serial so the same spec gives the same volume; -p: hidden sectors = partition start,
     * which Windows checks when it boots from the volume. */
    char *argv[] = {"mkntfs", "-F", "-Q", "-T", "-s", "512", "-c", cluster, "-p", start, "-H", "255", "-S", "63",
                    "-L", (char *)s->label, (char *)img, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int e = posix_spawnp(&pid, "mkntfs", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e)
        return vk_fail_errno(err, VK_E_IO, e, NULL, VK_NO_OFFSET, "cannot run mkntfs (install ntfs-3g)");
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return vk_fail_errno(err, VK_E_IO, errno, NULL, VK_NO_OFFSET, "waiting for mkntfs");
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    char msg[300] = "";
    FILE *f = fopen(log, "r");
    if (f) {
        size_t n = fread(msg, 1, sizeof msg - 1, f);
        msg[n] = '\0';
        fclose(f);
    }
    return vk_fail(err, VK_E_IO, img, VK_NO_OFFSET, "mkntfs failed: %s", msg);
}

/* Copies the non-zero 4 KiB chunks of the host file's data ranges, so a dynamic VHD allocates only blocks mkntfs
 * really wrote. */
static int copy_volume(int fd, const char *img, uint64_t len, vk_dev *dev, uint64_t base, vk_error *err)
{
    static uint8_t buf[1u << 20];
    static const uint8_t zero[CHUNK];
    off_t pos = 0;
    while ((uint64_t)pos < len) {
        off_t data = lseek(fd, pos, SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO)
                break;
            return vk_fail_errno(err, VK_E_IO, errno, img, (uint64_t)pos, "SEEK_DATA failed");
        }
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0)
            return vk_fail_errno(err, VK_E_IO, errno, img, (uint64_t)data, "SEEK_HOLE failed");
        data -= data % CHUNK;
        for (off_t at = data; at < hole;) {
            size_t want = (uint64_t)(hole - at) < sizeof buf ? (size_t)(hole - at) : sizeof buf;
            ssize_t got = pread(fd, buf, want, at);
            if (got <= 0)
                return vk_fail_errno(err, VK_E_IO, got < 0 ? errno : EIO, img, (uint64_t)at, "read failed");
            size_t i = 0;
            while (i < (size_t)got) {
                size_t n = (size_t)got - i < CHUNK ? (size_t)got - i : CHUNK;
                if (!memcmp(buf + i, zero, n)) {
                    i += n;
                    continue;
                }
                size_t j = i;
                while (j < (size_t)got) {
                    size_t m = (size_t)got - j < CHUNK ? (size_t)got - j : CHUNK;
                    if (!memcmp(buf + j, zero, m))
                        break;
                    j += m;
                }
                int rc = vk_dev_write(dev, buf + i, j - i, base + (uint64_t)at + i, err);
                if (rc)
                    return rc;
                i = j;
            }
            at += got;
        }
        pos = hole;
    }
    return 0;
}

/* mkntfs -T leaves every volume with the same serial number: give each seed its own, in both boot sectors. */
static int set_serial(const struct gen_spec *s, vk_dev *dev, const struct gen_disk *d, vk_error *err)
{
    uint64_t st = gen_hash("ntfs-serial", s->seed);
    uint64_t serial = gen_rand(&st);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(serial >> (8 * i));
    uint64_t part = d->ntfs_start_lba * VK_SECTOR_SIZE;
    uint64_t backup = part + (d->ntfs_nsec - 1) * VK_SECTOR_SIZE;
    int rc = vk_dev_write(dev, le, 8, part + 0x48, err);
    return rc ? rc : vk_dev_write(dev, le, 8, backup + 0x48, err);
}

int disk_mkntfs(const struct gen_spec *s, vk_dev *dev, const struct gen_disk *d, vk_error *err)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/vk-gen.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return vk_fail_errno(err, VK_E_IO, errno, dir, VK_NO_OFFSET, "cannot make a temporary folder");
    char img[4200], log[4200];
    snprintf(img, sizeof img, "%s/part.img", dir);
    snprintf(log, sizeof log, "%s/mkntfs.log", dir);
    uint64_t len = d->ntfs_nsec * VK_SECTOR_SIZE;
    int rc = 0;
    int fd = open(img, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)len))
        rc = vk_fail_errno(err, VK_E_IO, errno, img, VK_NO_OFFSET, "cannot make the volume file");
    if (!rc)
        rc = run_mkntfs(s, d, img, log, err);
    if (!rc)
        rc = copy_volume(fd, img, len, dev, d->ntfs_start_lba * VK_SECTOR_SIZE, err);
    if (!rc)
        rc = set_serial(s, dev, d, err);
    if (fd >= 0)
        close(fd);
    unlink(img);
    unlink(log);
    rmdir(dir);
    return rc;
}
