/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Creating fixed, dynamic and differencing VHD images (spec "Creating a ..."; VHD-NOTES.md 6, 7, 10, 11, 13).
 * Each image is written as PATH.tmp, fsynced and renamed into place, so a crash never leaves half an image. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/checked.h"
#include "core/utf16.h"
#include "vhd/image_internal.h"

#define MIB (UINT64_C(1) << 20)
/* Azure accepts fixed VHDs of whole MiB from 20 MiB (VHD-NOTES.md 7). */
#define AZURE_MIN (20 * MIB)
/* Hyper-V reserves this many bytes per locator (dfvfs-fat-differential.vhd has 4096 and 65536). */
#define LOCATOR_MAX_PATH 4096

/* The creator we write by default: "win " is sized by its current-size field in every reader's creator table
 * (qemu block/vpc.c, libvhdi, Hyper-V, VirtualBox), so qemu-img and libvhdi report exactly the requested size.
 * An unknown creator ("vhdk") would make qemu fall back to the CHS product and lose up to a few MiB. We write
 * Hyper-V's creator version (10.0) and host OS ("Wi2k") with it. */
static const uint8_t default_creator[4] = {'w', 'i', 'n', ' '};
#define DEFAULT_CREATOR_VERSION 0x000a0000u
static const uint8_t creator_os[4] = {'W', 'i', '2', 'k'};

static uint32_t vhd_now(void)
{
    int64_t t = (int64_t)time(NULL) - VHD_EPOCH_UNIX;
    return t < 0 ? 0 : t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static int make_uuid(uint8_t uuid[16], const char *path, vk_error *err)
{
    if (getrandom(uuid, 16, 0) != 16)
        return vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "no random bytes for the disk's UUID");
    uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
    uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
    return 0;
}

/* Size and geometry: current-size creators keep the request (rounded up to a sector); CHS creators get the
 * smallest geometry that holds it, as qemu does, so nothing is cut. */
int vhd_size_footer(struct vhd_footer *f, uint64_t want, const char *path, vk_error *err)
{
    uint64_t size = 0;
    if (ck_align_up_u64(want, VHD_SECTOR, &size) || size > VHD_MAX_SIZE)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "size %" PRIu64 " is larger than the VHD limit of %" PRIu64
                       " bytes", want, (uint64_t)VHD_MAX_SIZE);
    struct vhd_chs g = vhd_chs_for_size(size);
    f->current_size = f->original_size = size;
    f->cylinders = g.cylinders;
    f->heads = g.heads;
    f->sectors_per_track = g.sectors_per_track;
    if (vhd_size_source(f) == VHD_SIZE_FROM_CHS) {
        for (uint64_t s = size; vhd_chs_bytes(g) < size; s += VHD_SECTOR) {
            if (s > VHD_MAX_SIZE)
                return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "no CHS geometry holds %" PRIu64 " bytes", size);
            g = vhd_chs_for_size(s);
        }
        f->cylinders = g.cylinders;
        f->heads = g.heads;
        f->sectors_per_track = g.sectors_per_track;
        f->current_size = f->original_size = vhd_chs_bytes(g);
    }
    return 0;
}

static int init_footer(struct vhd_footer *f, const struct vk_vhd_create_opts *o, uint64_t size, const char *path,
                       vk_error *err)
{
    memset(f, 0, sizeof *f);
    memcpy(f->cookie, VHD_FOOTER_COOKIE, 8);
    f->features = VHD_FEATURE_RESERVED;
    f->version = VHD_VERSION;
    f->data_offset = o->type == VK_VHD_FIXED ? VHD_FIXED_DATA_OFFSET : VHD_SECTOR;
    f->timestamp = vhd_now();
    bool custom = o->creator_app[0] || o->creator_app[1] || o->creator_app[2] || o->creator_app[3];
    memcpy(f->creator_app, custom ? (const uint8_t *)o->creator_app : default_creator, 4);
    f->creator_version = DEFAULT_CREATOR_VERSION;
    memcpy(f->creator_os, creator_os, 4);
    f->disk_type = (uint32_t)o->type;
    int rc = make_uuid(f->uuid, path, err);
    return rc ? rc : vhd_size_footer(f, size, path, err);
}

/* Write [0, len) of zeros or 0xFF at `off` in 1 MiB pieces. */
static int fill(vk_dev *dev, uint8_t byte, uint64_t off, uint64_t len, vk_error *err)
{
    size_t chunk = len < MIB ? (size_t)len : (size_t)MIB;
    uint8_t *buf = malloc(chunk ? chunk : 1);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, dev->name, VK_NO_OFFSET, NULL);
    memset(buf, byte, chunk);
    int rc = 0;
    for (uint64_t done = 0; !rc && done < len; done += chunk) {
        size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
        rc = vk_dev_write(dev, buf, n, off + done, err);
    }
    free(buf);
    return rc;
}

static int write_fixed(vk_dev *dev, struct vhd_footer *f, const struct vk_vhd_create_opts *o,
                       struct vk_vhd_create_result *res, vk_error *err)
{
    uint64_t size = f->current_size;
    if (f->cylinders && vhd_size_source(f) == VHD_SIZE_FROM_CHS)
        size = vhd_chs_bytes((struct vhd_chs){f->cylinders, f->heads, f->sectors_per_track});
    int rc = 0;
    res->fill_used = o->fill;
    if (o->fill == VK_FILL_ALLOCATE) {
        vk_error e2;
        rc = vk_dev_file_allocate(dev, 0, size + VHD_FOOTER_LEN, &e2);
        if (rc == VK_E_UNSUPPORTED) {
            res->fill_used = VK_FILL_SPARSE;
            snprintf(res->note, sizeof res->note, "the host filesystem cannot preallocate: made a sparse file "
                     "(Windows refuses sparse VHD files; use --fill zero for one it accepts)");
            rc = 0;
        } else if (rc) {
            *err = e2;
            return rc;
        }
    }
    if (res->fill_used == VK_FILL_ZERO)
        rc = fill(dev, 0, 0, size, err);
    else if (size > dev->size)
        rc = vk_dev_set_size(dev, size, err);
    uint8_t raw[VHD_FOOTER_LEN];
    vhd_footer_encode(f, raw);
    return rc ? rc : vk_dev_write(dev, raw, sizeof raw, size, err);
}

/* Relative path from folder `from` to file `to` (both absolute and canonical): "./x", "../../y/x". */
static int relative_path(const char *from, const char *to, char *out, size_t cap)
{
    /* Length of the common folder prefix, ending at a component boundary of both. */
    size_t common = 0;
    for (size_t i = 0;; i++) {
        bool from_end = from[i] == 0 || from[i] == '/';
        if (from_end && to[i] == '/')
            common = i;
        if (!from[i] || from[i] != to[i])
            break;
    }
    size_t used = 0;
    int ups = 0;
    for (const char *p = from + common; from[1] && *p; p++) /* from "/" nothing is up */
        ups += *p == '/';
    if (!ups && snprintf(out, cap, "./") >= (int)cap)
        return -1;
    used = ups ? 0 : 2;
    for (int i = 0; i < ups; i++, used += 3)
        if (snprintf(out + used, cap - used, "../") >= (int)(cap - used))
            return -1;
    return snprintf(out + used, cap - used, "%s", to + common + 1) >= (int)(cap - used) ? -1 : 0;
}

static void to_backslashes(char *p)
{
    for (; *p; p++)
        if (*p == '/')
            *p = '\\';
}

/* Parent fields of a differencing header: UUID, modification time, absolute name, and the three locators. */
int vhd_plan_parent(const char *child, vk_vhd *parent, const char *parent_abs, struct vhd_header *h,
                    struct vhd_loc_plan plan[3], vk_error *err)
{
    struct stat st;
    if (fstat(vk_dev_file_fd(parent->file), &st) < 0)
        return vk_fail_errno(err, VK_E_IO, errno, parent->path, VK_NO_OFFSET, "cannot stat");
    memcpy(h->parent_uuid, parent->footer.uuid, 16);
    int64_t mt = (int64_t)st.st_mtime - VHD_EPOCH_UNIX;
    h->parent_timestamp = mt < 0 ? 0 : mt > UINT32_MAX ? UINT32_MAX : (uint32_t)mt;
    /* The name field holds 256 UTF-16 units: the absolute path, or only the file name when the path is longer. */
    int n = vk_utf8_to_utf16(parent_abs, VK_UTF16_BE, h->parent_name, VHD_HEADER_PARENT_NAME_LEN);
    if (n < 0 || n == VHD_HEADER_PARENT_NAME_LEN) {
        memset(h->parent_name, 0, VHD_HEADER_PARENT_NAME_LEN);
        const char *b = strrchr(parent_abs, '/');
        n = vk_utf8_to_utf16(b ? b + 1 : parent_abs, VK_UTF16_BE, h->parent_name, VHD_HEADER_PARENT_NAME_LEN - 2);
        if (n < 0)
            return vk_fail(err, VK_E_USAGE, child, VK_NO_OFFSET, "parent file name is too long or not UTF-8");
    }
    char dir[PATH_MAX], rel[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", child);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    char dir_abs[PATH_MAX];
    if (!realpath(slash ? (dir[0] ? dir : "/") : ".", dir_abs))
        return vk_fail_errno(err, VK_E_IO, errno, child, VK_NO_OFFSET, "cannot resolve the folder of the new image");
    if (relative_path(dir_abs, parent_abs, rel, sizeof rel))
        return vk_fail(err, VK_E_USAGE, child, VK_NO_OFFSET, "parent path is too long");
    /* Hyper-V: W2ku absolute (here the host's absolute path as it is) and W2ru ".\name"; blktap: MacX file URL
     * of the relative path. */
    plan[0].code = VHD_PLAT_W2KU;
    snprintf(plan[0].path, sizeof plan[0].path, "%s", parent_abs);
    plan[1].code = VHD_PLAT_W2RU;
    snprintf(plan[1].path, sizeof plan[1].path, "%s", rel);
    to_backslashes(plan[1].path);
    plan[2].code = VHD_PLAT_MACX;
    snprintf(plan[2].path, sizeof plan[2].path, "%s", rel);
    return 0;
}

static int write_sparse(vk_dev *dev, struct vhd_footer *f, uint32_t block_size, const struct vhd_loc_plan *plan,
                        int nloc, struct vhd_header *h, vk_error *err)
{
    uint64_t vsize = vhd_virtual_size(f);
    uint64_t entries64 = vsize / block_size + (vsize % block_size != 0);
    if (!entries64)
        entries64 = 1;
    uint32_t entries = (uint32_t)entries64;
    uint64_t table_off = VHD_SECTOR + VHD_HEADER_LEN;
    uint64_t off = table_off + vhd_bat_bytes(entries);
    memcpy(h->cookie, VHD_HEADER_COOKIE, 8);
    h->data_offset = UINT64_MAX; /* all 64 bits: what Microsoft's tools expect (VHD-NOTES.md 3) */
    h->table_offset = table_off;
    h->version = VHD_HEADER_VERSION;
    h->max_table_entries = entries;
    h->block_size = block_size;
    uint8_t buf[LOCATOR_MAX_PATH * 2];
    int rc = 0;
    for (int i = 0; i < nloc; i++) {
        int n = vhd_locator_path_encode(plan[i].code, plan[i].path, buf, sizeof buf);
        if (n <= 0)
            return vk_fail(err, VK_E_USAGE, dev->name, VK_NO_OFFSET, "parent path cannot be stored in a locator");
        uint32_t space = ((uint32_t)n + VHD_SECTOR - 1) & ~(VHD_SECTOR - 1);
        h->locators[i] = (struct vhd_locator){.code = plan[i].code, .data_space = space, .data_length = (uint32_t)n,
                                              .data_offset = off};
        memset(buf + n, 0, space - (uint32_t)n);
        if ((rc = vk_dev_write(dev, buf, space, off, err)))
            return rc;
        off += space;
    }
    uint8_t raw_f[VHD_FOOTER_LEN], raw_h[VHD_HEADER_LEN];
    vhd_footer_encode(f, raw_f);
    vhd_header_encode(h, raw_h);
    if ((rc = vk_dev_write(dev, raw_f, sizeof raw_f, 0, err)) ||
        (rc = vk_dev_write(dev, raw_h, sizeof raw_h, VHD_SECTOR, err)) ||
        (rc = fill(dev, 0xFF, table_off, vhd_bat_bytes(entries), err)))
        return rc;
    return vk_dev_write(dev, raw_f, sizeof raw_f, off, err);
}

/* Make PATH.tmp durable, then give it its name without replacing anything, then make the name durable. */
static int publish(vk_dev *dev, const char *tmp, const char *path, vk_error *err)
{
    int rc = vk_dev_flush(dev, err);
    if (rc)
        return rc;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
        int e = errno;
        if (e != EINVAL && e != ENOSYS)
            return vk_fail_errno(err, e == EEXIST ? VK_E_EXISTS : VK_E_IO, e, path, VK_NO_OFFSET,
                                 "cannot rename the new image into place");
        /* Filesystems without RENAME_NOREPLACE: a hard link refuses an existing name just the same. */
        if (link(tmp, path) < 0)
            return vk_fail_errno(err, errno == EEXIST ? VK_E_EXISTS : VK_E_IO, errno, path, VK_NO_OFFSET,
                                 "cannot link the new image into place");
        unlink(tmp);
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

static int check_opts(const char *path, const struct vk_vhd_create_opts *o, uint64_t *size, vk_error *err)
{
    if (o->type != VK_VHD_FIXED && o->type != VK_VHD_DYNAMIC && o->type != VK_VHD_DIFF)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "unknown disk type %d", (int)o->type);
    uint32_t bs = o->block_size ? o->block_size : VHD_DEFAULT_BLOCK_SIZE;
    if (o->type != VK_VHD_FIXED && (!is_pow2_u64(bs) || bs < 4096 || bs > 256 * MIB))
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "block size %" PRIu32 " is not a power of two between "
                       "4 KiB and 256 MiB", bs);
    if (o->type == VK_VHD_DIFF && !o->parent)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "a differencing image needs a parent");
    if (o->type != VK_VHD_DIFF && !o->size)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "size must be larger than zero");
    *size = o->size;
    if (o->azure) {
        if (o->type != VK_VHD_FIXED)
            return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "Azure takes fixed VHDs only");
        if (ck_align_up_u64(o->size, MIB, size) || *size < AZURE_MIN)
            return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "Azure needs a size of at least 20 MiB");
    }
    return 0;
}

int vk_vhd_create(const char *path, const struct vk_vhd_create_opts *o, struct vk_vhd_create_result *res,
                  vk_error *err)
{
    struct vk_vhd_create_result dummy;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    uint64_t size = 0;
    int rc = check_opts(path, o, &size, err);
    if (rc)
        return rc;
    struct stat st;
    if (lstat(path, &st) == 0)
        return vk_fail(err, VK_E_EXISTS, path, VK_NO_OFFSET, "file exists; vhdkit never overwrites an image");
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "path too long");

    vk_vhd *parent = NULL;
    struct vhd_loc_plan *plan = NULL;
    struct vhd_header *h = calloc(1, sizeof *h);
    struct vhd_footer f;
    if (!h)
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    if (o->type == VK_VHD_DIFF) {
        struct vk_vhd_open_opts popts = {.flags = VK_VHD_NO_PARENT};
        char parent_abs[PATH_MAX];
        plan = calloc(3, sizeof *plan);
        if (!plan)
            rc = vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
        if (!rc && !realpath(o->parent, parent_abs))
            rc = vk_fail_errno(err, errno == ENOENT ? VK_E_NOTFOUND : VK_E_IO, errno, o->parent, VK_NO_OFFSET,
                               "cannot find the parent image");
        if (!rc)
            rc = vk_vhd_open(parent_abs, &popts, &parent, err);
        if (!rc && o->size && o->size != parent->virtual_size)
            rc = vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "a differencing image has its parent's size (%" PRIu64
                         " bytes)", parent->virtual_size);
        if (!rc)
            size = parent->virtual_size;
        if (!rc)
            rc = vhd_plan_parent(path, parent, parent_abs, h, plan, err);
    }
    if (!rc)
        rc = init_footer(&f, o, size, path, err);
    if (!rc && parent) {
        /* Same geometry and sizes as the parent, so every reader sees the same disk through the child. */
        f.current_size = parent->footer.current_size;
        f.original_size = parent->footer.original_size;
        f.cylinders = parent->footer.cylinders;
        f.heads = parent->footer.heads;
        f.sectors_per_track = parent->footer.sectors_per_track;
        memcpy(f.creator_app, parent->footer.creator_app, 4);
        if (vhd_virtual_size(&f) != parent->virtual_size)
            memcpy(f.creator_app, default_creator, 4);
    }
    vk_dev *dev = NULL;
    if (!rc)
        rc = vk_dev_open_file(tmp, VK_FILE_CREATE, &dev, err);
    if (!rc) {
        if (o->type == VK_VHD_FIXED)
            rc = write_fixed(dev, &f, o, res, err);
        else
            rc = write_sparse(dev, &f, o->block_size ? o->block_size : VHD_DEFAULT_BLOCK_SIZE, plan,
                              o->type == VK_VHD_DIFF ? 3 : 0, h, err);
        if (!rc)
            rc = publish(dev, tmp, path, err);
        if (!rc) {
            res->virtual_size = vhd_virtual_size(&f);
            res->file_size = dev->size;
        }
        vk_dev_close(dev);
        if (rc)
            unlink(tmp);
    }
    vk_vhd_close(parent);
    free(plan);
    free(h);
    return rc;
}
