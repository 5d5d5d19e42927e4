/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align patches in the Windows registry after partitions moved on an MBR disk: SYSTEM\MountedDevices values
 * (disk signature LE32 + partition byte offset LE64) and BCD device elements (partition descriptors: type 6, size
 * 0x48, byte offset LE64 at +0x10, style 1 = MBR at +0x24, disk signature at +0x28). Only data that still holds
 * a moved partition's old offset is changed, so a resumed run redoes this step without harm. */
#include "ops/align_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "vhdkit/ntfs.h"
#include "vhdkit/reg.h"

#define MD_LEN 12
#define DESC_TYPE_PARTITION 6
#define DESC_SIZE 0x48
#define DESC_OFFSET 0x10
#define DESC_STYLE 0x24
#define DESC_SIGNATURE 0x28
#define DESC_STYLE_MBR 1
/* BCD element type bits 24-27: the element's format; 1 = a device */
#define BCD_FORMAT_DEVICE 1u

/* The new byte offset of the moved partition that started at `off`, or 0 when none did. */
static uint64_t moved_to(const struct align_plan *p, uint64_t off)
{
    for (unsigned k = 0; k < p->nmoves; k++) {
        unsigned i = p->order[k];
        if (p->parts[i].start_lba * VK_SECTOR_SIZE == off)
            return p->new_lba[i] * VK_SECTOR_SIZE;
    }
    return 0;
}

/* Points one value's data at the new offsets (when `write`); returns how many places matched. */
static unsigned patch_md(const struct align_plan *p, uint8_t *d, size_t len)
{
    if (len != MD_LEN || get_le32(d) != p->disk_signature)
        return 0;
    uint64_t to = moved_to(p, get_le64(d + 4));
    if (!to)
        return 0;
    put_le64(d + 4, to);
    return 1;
}

static unsigned patch_element(const struct align_plan *p, uint8_t *d, size_t len)
{
    unsigned n = 0;
    /* Descriptors nest (a ramdisk's names the partition holding its file): look at every 4-byte step. */
    for (size_t i = 0; len >= DESC_SIZE && i <= len - DESC_SIZE; i += 4) {
        uint8_t *q = d + i;
        if (get_le32(q) != DESC_TYPE_PARTITION || get_le32(q + 8) != DESC_SIZE ||
            get_le32(q + DESC_STYLE) != DESC_STYLE_MBR || get_le32(q + DESC_SIGNATURE) != p->disk_signature)
            continue;
        uint64_t to = moved_to(p, get_le64(q + DESC_OFFSET));
        if (to) {
            put_le64(q + DESC_OFFSET, to);
            n++;
        }
    }
    return n;
}

typedef unsigned (*patch_fn)(const struct align_plan *p, uint8_t *d, size_t len);

/* Patches the values of `key` (all of them, or only `only`) with fn; sets them back when `write`. */
static int patch_key(vk_reg_hive *h, const char *key, const char *only, patch_fn fn, const struct align_plan *p,
                     int write, unsigned *count, vk_error *err)
{
    vk_reg_key k;
    int rc = vk_reg_key_find(h, key, &k, err);
    if (rc)
        return rc == VK_E_NOTFOUND ? 0 : rc;
    vk_reg_value *v;
    size_t nv;
    if ((rc = vk_reg_values(h, k, &v, &nv, err)))
        return rc;
    for (size_t i = 0; i < nv && !rc; i++) {
        if (only && strcmp(v[i].name, only))
            continue;
        unsigned n = fn(p, v[i].data, v[i].len);
        *count += n;
        if (n && write)
            rc = vk_reg_value_set(h, k, &v[i], err);
    }
    vk_reg_values_free(v, nv);
    return rc;
}

static int patch_bcd(vk_reg_hive *h, const struct align_plan *p, int write, unsigned *count, vk_error *err)
{
    vk_reg_key objs;
    int rc = vk_reg_key_find(h, "Objects", &objs, err);
    if (rc)
        return rc == VK_E_NOTFOUND ? 0 : rc;
    char **obj;
    size_t nobj;
    if ((rc = vk_reg_key_subkeys(h, objs, &obj, &nobj, err)))
        return rc;
    for (size_t i = 0; i < nobj && !rc; i++) {
        char path[VK_REG_PATH_MAX];
        snprintf(path, sizeof path, "Objects\\%s\\Elements", obj[i]);
        vk_reg_key ek;
        char **el = NULL;
        size_t nel = 0;
        rc = vk_reg_key_find(h, path, &ek, err);
        if (rc == VK_E_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (!rc)
            rc = vk_reg_key_subkeys(h, ek, &el, &nel, err);
        for (size_t e = 0; e < nel && !rc; e++) {
            char *end;
            unsigned long type = strtoul(el[e], &end, 16);
            if (*end || end == el[e] || ((type >> 24) & 0xFu) != BCD_FORMAT_DEVICE)
                continue;
            char epath[VK_REG_PATH_MAX];
            if ((size_t)snprintf(epath, sizeof epath, "%s\\%s", path, el[e]) < sizeof epath)
                rc = patch_key(h, epath, "Element", patch_element, p, write, count, err);
        }
        vk_reg_names_free(el, nel);
    }
    vk_reg_names_free(obj, nobj);
    return rc;
}

/* The hives of one volume worth looking at. */
enum { HIVE_SYSTEM, HIVE_BCD, NHIVES };

static int patch_hive(vk_reg_hive *h, int which, const struct align_plan *p, int write, unsigned *count,
                      vk_error *err)
{
    if (which == HIVE_SYSTEM)
        return patch_key(h, "MountedDevices", NULL, patch_md, p, write, count, err);
    return patch_bcd(h, p, write, count, err);
}

#define NTFS_MFT_LCN_OFF 0x30
#define NTFS_MIRR_LCN_OFF 0x38
#define NTFS_REC_SIZE_OFF 0x40
#define MIRR_RECORDS 4

/* A run stopped inside libntfs-3g's update of the first MFT records leaves $MFTMirr behind $MFT, and libntfs-3g
 * then refuses the volume. As ntfsfix and chkdsk do, $MFT is taken as the authority: its first records are copied
 * over the mirror when they differ. Returns 1 when something was copied. */
static int mirror_from_mft(vk_dev *disk, uint64_t off, uint64_t len, const struct ntfs_boot *b, const uint8_t s[512],
                           vk_error *err)
{
    int8_t per = (int8_t)s[NTFS_REC_SIZE_OFF];
    uint64_t rec = per > 0 ? (uint64_t)per * b->cluster_size : per > -31 && per < 0 ? 1ull << -per : 0;
    uint64_t mft = get_le64(s + NTFS_MFT_LCN_OFF), mirr = get_le64(s + NTFS_MIRR_LCN_OFF);
    uint64_t n = MIRR_RECORDS * rec;
    if (!rec || rec > 65536 || mft > len / b->cluster_size || mirr > len / b->cluster_size ||
        mft * b->cluster_size > len - n || mirr * b->cluster_size > len - n)
        return 0;
    uint8_t *a = malloc(2 * n);
    if (!a)
        return vk_fail(err, VK_E_NOMEM, NULL, VK_NO_OFFSET, NULL);
    int rc = vk_dev_read(disk, a, n, off + mft * b->cluster_size, err);
    if (!rc)
        rc = vk_dev_read(disk, a + n, n, off + mirr * b->cluster_size, err);
    if (!rc && memcmp(a, a + n, n)) {
        rc = vk_dev_write(disk, a, n, off + mirr * b->cluster_size, err);
        if (!rc)
            rc = vk_dev_flush(disk, err);
        if (!rc)
            rc = 1;
    }
    free(a);
    return rc;
}

/* 1 when an interrupted hive commit left names behind (NAME.vhdkit-new, or a case twin of NAME: see
 * lib/reg/volume_replace.c); a new commit of the hive, even unchanged, removes them. */
static int commit_leftovers(vk_ntfs *vol, const char *file)
{
    char name[2 * VK_REG_FILE_MAX + 16];
    snprintf(name, sizeof name, "%s.vhdkit-new", file);
    if (vk_ntfs_name_state(vol, name, NULL) > 0)
        return 1;
    const char *leaf = strrchr(file, '/');
    size_t at = leaf ? (size_t)(leaf - file) + 1 : 0;
    for (int n = 0, seen = 0; file[at + n]; n++) {
        if (!isalpha((unsigned char)file[at + n]) || seen++ > 1)
            continue;
        snprintf(name, sizeof name, "%s", file);
        char *c = name + at + n;
        *c = (char)(isupper((unsigned char)*c) ? tolower((unsigned char)*c) : toupper((unsigned char)*c));
        if (vk_ntfs_name_state(vol, name, NULL) > 0)
            return 1;
    }
    return 0;
}

/* Why a volume must not be written (hibernated, dirty, unclean), or NULL. */
static const char *volume_unsafe(vk_ntfs *vol, vk_error *err, int *rc)
{
    vk_ntfs_info info;
    if ((*rc = vk_ntfs_info_get(vol, &info, err)))
        return NULL;
    return info.hibernated        ? "hibernated (Windows hibernation or Fast Startup)"
           : info.dirty           ? "marked dirty (not shut down cleanly; Windows will run chkdsk)"
           : info.logfile_unclean ? "not cleanly unmounted ($LogFile holds unfinished transactions)"
                                  : NULL;
}

/* Counts (read-only mount) then, when something matches and `write`, patches and commits each hive of the
 * volume at [off, off+len). `hives`: look at the hives at all (MBR disks). Without `write` (the check made before
 * anything is written, at the old places), a volume that will be touched (moved: its boot sector; or holding a
 * value to patch) is refused when hibernated, dirty or unclean, and a hive to patch when it is dirty past repair. */
static int patch_volume(vk_dev *disk, uint64_t off, uint64_t len, const struct align_plan *p, int write, int hives,
                        int moved, unsigned number, struct vk_align_result *res, vk_error *err)
{
    uint8_t s[512];
    struct ntfs_boot b;
    int rc = vk_dev_read(disk, s, sizeof s, off, err);
    if (rc || !align_ntfs_boot(s, &b))
        return rc;
    vk_dev *win;
    if ((rc = vk_dev_window(disk, off, len, 0, &win, err)))
        return rc;
    vk_ntfs *vol;
    /* A volume libntfs-3g cannot read holds no hive we could read either; when it did read before the move (the
     * mirror case above, after a stop in an earlier run of this step), it is mended once. */
    if (vk_ntfs_mount(win, VK_NTFS_RDONLY, &vol, NULL)) {
        int m = write ? mirror_from_mft(disk, off, len, &b, s, err) : 0;
        if (m <= 0 || (rc = vk_ntfs_mount(win, VK_NTFS_RDONLY, &vol, err))) {
            vk_dev_close(win);
            return m < 0 ? m : rc;
        }
    }
    static const enum vk_reg_root roots[NHIVES] = {VK_REG_ROOT_SYSTEM, VK_REG_ROOT_BCD};
    char file[NHIVES][VK_REG_FILE_MAX];
    unsigned found[NHIVES] = {0};
    int stale[NHIVES] = {0};
    int any = 0;
    const char *dirty_hive = NULL;
    for (int w = 0; w < NHIVES && !rc && hives; w++) {
        vk_reg_path rp = {.root = roots[w]};
        file[w][0] = 0;
        if (vk_reg_volume_find(vol, &rp, file[w], NULL))
            continue;
        vk_reg_hive *h;
        if (!(rc = vk_reg_volume_open(vol, file[w], 0, &h, err))) {
            rc = patch_hive(h, w, p, 0, &found[w], err);
            if (found[w] && *vk_reg_hive_warning(h) && !dirty_hive)
                dirty_hive = file[w];
            vk_reg_hive_close(h);
        }
        stale[w] = write && commit_leftovers(vol, file[w]);
        any |= found[w] != 0 || stale[w];
    }
    if (!rc && !write && (moved || any)) {
        const char *why = volume_unsafe(vol, err, &rc);
        if (why)
            rc = vk_fail(err, VK_E_REFUSED, disk->name, off,
                         "the NTFS volume of partition %u is %s: align would %s it; boot Windows and shut it down "
                         "fully (disable Fast Startup: powercfg /h off), then align; nothing was changed",
                         number, why, moved ? "move" : "change the registry of");
        else if (!rc && dirty_hive)
            rc = vk_fail(err, VK_E_REFUSED, disk->name, off,
                         "partition %u: the hive %s is dirty and its logs cannot be replayed: align would change it; "
                         "boot Windows once; nothing was changed", number, dirty_hive);
    }
    vk_ntfs_unmount(vol, NULL);
    if (!rc && any && write) {
        if (!(rc = vk_ntfs_mount(win, 0, &vol, err))) {
            for (int w = 0; w < NHIVES && !rc; w++) {
                unsigned n = 0;
                vk_reg_hive *h;
                if ((!found[w] && !stale[w]) || (rc = vk_reg_volume_open(vol, file[w], VK_REG_OPEN_WRITE, &h, err)))
                    continue;
                rc = patch_hive(h, w, p, 1, &n, err);
                if (!rc)
                    rc = vk_reg_volume_commit(vol, file[w], h, err);
                vk_reg_hive_close(h);
                found[w] = n;
            }
            int urc = vk_ntfs_unmount(vol, rc ? NULL : err);
            rc = rc ? rc : urc;
        }
    }
    vk_dev_close(win);
    if (!rc) {
        res->mounted_devices += found[HIVE_SYSTEM];
        res->bcd_elements += found[HIVE_BCD];
    }
    return rc;
}

int align_precheck(vk_dev *disk, const struct align_plan *p, struct vk_align_result *res, vk_error *err)
{
    int rc = 0;
    for (unsigned i = 0; i < p->n && !rc && p->nmoves; i++) {
        const vk_part *q = &p->parts[i];
        if (q->flags & VK_PART_CONTAINER)
            continue;
        rc = patch_volume(disk, q->start_off, q->len, p, 0, p->scheme == VK_PART_SCHEME_MBR,
                          p->new_lba[i] != q->start_lba, q->number, res, err);
    }
    return rc;
}

int align_patch_registry(vk_dev *disk, const struct align_plan *p, struct vk_align_result *res, vk_error *err)
{
    if (p->scheme != VK_PART_SCHEME_MBR || !p->nmoves)
        return 0; /* GPT volumes are named by partition GUIDs, which do not change */
    int rc = 0;
    for (unsigned i = 0; i < p->n && !rc; i++) {
        if (p->parts[i].flags & VK_PART_CONTAINER)
            continue;
        rc = patch_volume(disk, p->new_lba[i] * VK_SECTOR_SIZE, p->parts[i].len, p, 1, 1, 1, p->parts[i].number, res,
                          err);
    }
    return rc;
}
