/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align --fix: move misaligned partitions up to the boundary, in place (journaled, resumable) or into a new image,
 * then patch what remembers the old place (align_patch.c). */
#include "ops/align_journal.h"
#include "ops/align_redo.h"
#include "dev/cache_hint.h"
#include "vhd/format.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_MAX (8u << 20)
#define COPY_SUFFIX ".vhdkit-align-tmp"
#define COPY_MARGIN (64u << 20) /* free space kept beyond the copy */
#define UNIT 4096u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int all_zero(const uint8_t *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

/* The extent run last asked about: each question covers the rest of the range, so a long data or zero run costs
 * one question (on ext4, SEEK_HOLE over preallocated extents scans the page cache up to the hole: asking per piece
 * made -o of a fixed VHD quadratic). The source of -o is never written, so the answer stays true. */
struct ext_cursor {
    uint64_t off, end;
    int zero, valid;
};

/* 1 when [off, off+len) of dev reads as zero without being read, 0 when not, else an error. */
static int piece_zero(vk_dev *dev, struct ext_cursor *c, uint64_t off, uint64_t len, uint64_t limit, vk_error *err)
{
    for (uint64_t pos = off, end = off + len; pos < end;) {
        if (!c->valid || pos < c->off || pos >= c->end) {
            vk_extent e;
            int rc = vk_dev_extent(dev, pos, limit - pos, &e, err);
            if (rc)
                return rc;
            *c = (struct ext_cursor){.off = pos, .end = pos + e.len, .valid = 1,
                                     .zero = e.kind == VK_EXTENT_ZERO || e.kind == VK_EXTENT_UNALLOC};
        }
        if (!c->zero)
            return 0;
        pos = c->end;
    }
    return 1;
}

/* The page cache of a copy: the written pieces go to disk as they are made, and what is on disk and read no more
 * (written pieces some chunks back; source pieces when the source is about to be replaced) leaves the cache. The
 * copy then uses a few chunks of memory however big the disk, and the final fsync waits for little. */
struct copy_stream {
    vk_dev *dst;            /* the device written (a host file, or a VHD on one) */
    vk_dev *dst_file;       /* the host file under dst */
    int appends;            /* dst is a dynamic VHD built in order: its file grows at the end, whatever the offset */
    vk_dev *drop_src;       /* the source's host file, when it is replaced by the copy; else NULL */
    uint64_t kicked, freed; /* dst_file offsets up to which writeback was started, and the cache released */
};

#define STREAM_LAG (4 * (uint64_t)CHUNK_MAX) /* written bytes kept cached while their writeback runs */

static void stream_advance(struct copy_stream *s, uint64_t dst_end)
{
    if (s->appends)
        dst_end = s->dst_file->size;
    if (dst_end <= s->kicked)
        return;
    vk_dev_start_writeback(s->dst_file, s->kicked, dst_end - s->kicked);
    s->kicked = dst_end;
    if (dst_end > STREAM_LAG && dst_end - STREAM_LAG > s->freed) {
        vk_dev_release_cache(s->dst_file, s->freed, dst_end - STREAM_LAG - s->freed, 1);
        s->freed = dst_end - STREAM_LAG;
    }
}

/* Copies [from, from+len) to `to` (a new image, which reads as zero everywhere: nothing to overlap, zero pieces
 * not written) in pieces of CHUNK_MAX. */
static int copy_range(vk_dev *src, struct copy_stream *s, uint64_t from, uint64_t to, uint64_t len, uint8_t *buf,
                      uint64_t *written, vk_error *err)
{
    struct ext_cursor c = {0};
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < CHUNK_MAX ? (size_t)(len - done) : CHUNK_MAX;
        int rc = piece_zero(src, &c, from + done, n, from + len, err);
        if (rc < 0)
            return rc;
        if (!rc && (rc = vk_dev_read(src, buf, n, from + done, err)))
            return rc;
        if (s->drop_src)
            vk_dev_release_cache(s->drop_src, from + done, n, 0);
        /* Only the non-zero 4 KiB runs are written: the rest of a fresh image already reads as zero. */
        for (size_t at = 0; !rc && at < n;) {
            size_t end = at;
            while (end < n && !all_zero(buf + end, n - end < UNIT ? n - end : UNIT))
                end += n - end < UNIT ? n - end : UNIT;
            if (end > at) {
                *written += end - at;
                if ((rc = vk_dev_write(s->dst, buf + at, end - at, to + done + at, err)))
                    return rc;
            }
            at = end;
            while (at < n && all_zero(buf + at, n - at < UNIT ? n - at : UNIT))
                at += n - at < UNIT ? n - at : UNIT;
        }
        done += n;
        stream_advance(s, to + done);
    }
    return 0;
}

static int finish_patches(vk_dev *disk, const struct align_plan *p, int registry, struct vk_align_result *res,
                          vk_error *err)
{
    int rc = align_patch_boot(disk, p, &res->boot_sectors, err);
    if (!rc)
        rc = vk_dev_flush(disk, err);
    if (!rc)
        rc = align_patch_tables(disk, p, err);
    if (!rc)
        rc = vk_dev_flush(disk, err);
    /* Last: the hives are found through the rewritten table's places, and a resume redoes it all. */
    if (!rc && registry)
        rc = align_patch_registry(disk, p, res, err);
    if (!rc && registry)
        rc = vk_dev_flush(disk, err);
    return rc;
}

/* The registry step in place: computed against an overlay, its writes saved whole in the journal (phase REDO)
 * before any reaches the disk, so a write torn inside libntfs-3g's updates is simply applied again on resume. */
static int registry_step(vk_dev *disk, const struct align_plan *p, struct align_journal *j,
                         struct vk_align_result *res, vk_error *err)
{
    vk_dev *ov;
    int rc = align_overlay_open(disk, &ov, err);
    if (rc)
        return rc;
    uint8_t *log = NULL;
    size_t len = 0;
    rc = align_patch_registry(ov, p, res, err);
    if (!rc)
        rc = align_overlay_log(ov, &log, &len, err);
    vk_dev_close(ov);
    if (!rc)
        rc = align_journal_put_redo(j, log, len, err);
    free(log);
    return rc;
}

static int redo_step(vk_dev *disk, struct align_journal *j, vk_error *err)
{
    uint8_t *log;
    size_t len;
    int rc = align_journal_get_redo(j, &log, &len, err);
    if (!rc)
        rc = align_redo_apply(log, len, disk, j->path, err);
    free(log);
    return rc;
}

static int fix_in_place(const char *path, vk_dev *disk, vk_vhd *vhd, struct align_plan *p, struct align_journal *j,
                        struct vk_align_result *res, vk_error *err)
{
    int rc = 0;
    if (p->new_size > disk->size) {
        if (vhd)
            return vk_fail(err, VK_E_UNSUPPORTED, path, VK_NO_OFFSET,
                           "the disk must grow by %llu bytes for the last partition to fit: use -o OUT",
                           (unsigned long long)(p->new_size - disk->size));
        if ((rc = vk_dev_set_size(disk, p->new_size, err)))
            return rc;
    }
    struct vk_vhd_info info = {0};
    if (vhd && (rc = vk_vhd_get_info(vhd, &info)))
        return vk_fail(err, rc, path, VK_NO_OFFSET, "cannot read the image information");
    int dynamic = vhd && info.type == VK_VHD_DYNAMIC;
    if (!j->found)
        p->method = dynamic ? ALIGN_METHOD_BLOCKS : ALIGN_METHOD_ROUNDS;
    else if ((p->method == ALIGN_METHOD_BLOCKS) != dynamic)
        return vk_fail(err, VK_E_CORRUPT, j->path, VK_NO_OFFSET, "the journal was written for another kind of image");
    if (!j->found && (rc = align_journal_create(path, p, j, err)))
        return rc;
    if (p->method == ALIGN_METHOD_BLOCKS && (j->pr.phase == ALIGN_PHASE_COPY || j->pr.phase == ALIGN_PHASE_PACK)) {
        rc = align_blocks_in_place(disk, vhd, p, j, res, err);
    } else if (j->pr.phase == ALIGN_PHASE_COPY) {
        rc = align_move_in_place(disk, p, j, res, err);
        if (!rc)
            rc = align_journal_update(j, ALIGN_PHASE_PATCH, 0, 0, err);
    }
    if (!rc && j->pr.phase == ALIGN_PHASE_PATCH) {
        rc = finish_patches(disk, p, 0, res, err);
        if (!rc)
            rc = registry_step(disk, p, j, res, err);
    }
    if (!rc && j->pr.phase == ALIGN_PHASE_REDO)
        rc = redo_step(disk, j, err);
    else if (!rc)
        rc = vk_fail(err, VK_E_CORRUPT, j->path, 0, "unknown journal phase %u", j->pr.phase);
    if (!rc)
        rc = align_journal_finish(j, err);
    return rc;
}

/* The aligned disk into a fresh `dst`, segment by segment as align_seg_at defines it (the in-place paths follow the
 * same map, so every method gives the same bytes): unmoved bytes at their offsets, moved ones at their new places,
 * vacated ones (old EBRs and volume heads no partition covers any more) left zero. */
static int copy_all(vk_dev *src, struct copy_stream *s, const struct align_plan *p, struct vk_align_result *res,
                    vk_error *err)
{
    uint8_t *buf = malloc(CHUNK_MAX);
    if (!buf)
        return vk_fail(err, VK_E_NOMEM, src->name, VK_NO_OFFSET, NULL);
    uint64_t w = 0;
    int rc = 0;
    for (uint64_t v = 0; v < p->new_size && !rc;) {
        uint64_t from, end;
        int kind = align_seg_at(p, v, &from, &end);
        if (end > p->new_size)
            end = p->new_size;
        uint64_t len = end - v;
        if (kind != ALIGN_SEG_VACATED && from < src->size)
            rc = copy_range(src, s, from, v, len < src->size - from ? len : src->size - from, buf, &w, err);
        v = end;
    }
    for (unsigned k = 0; k < p->nmoves; k++)
        res->bytes_moved += p->parts[p->order[k]].len;
    free(buf);
    return rc;
}

static int patch_registry_of(const char *path, const struct align_plan *p, struct vk_align_result *res,
                             vk_error *err)
{
    vk_dev *disk;
    vk_vhd *vhd;
    int rc = vk_image_open(path, &(struct vk_vhd_open_opts){.flags = VK_VHD_RDWR}, &disk, &vhd, err);
    if (rc)
        return rc;
    rc = align_patch_registry(disk, p, res, err);
    if (!rc)
        rc = vk_dev_flush(disk, err);
    if (!rc && vhd)
        rc = vk_vhd_flush(vhd, err);
    vk_dev_close(disk);
    return rc;
}

/* The end of every new-file fix: the hives are changed through an ordinary (not bulk) open of the finished image
 * (NTFS reads back what it writes, which a bulk image does not promise), the file takes `keep`'s mode and owner when
 * it replaces that file, then the rename and the folder's sync. A failure removes the new file. */
static int publish(int rc, const char *tmp, const char *out, const struct stat *keep, const struct align_plan *p,
                   struct vk_align_result *res, vk_error *err)
{
    if (!rc)
        rc = patch_registry_of(tmp, p, res, err);
    if (!rc && keep && (chmod(tmp, keep->st_mode & 07777) < 0 || chown(tmp, keep->st_uid, keep->st_gid) < 0))
        rc = vk_fail_errno(err, VK_E_IO, errno, tmp, VK_NO_OFFSET, "cannot give it the mode and owner of %s", out);
    if (!rc && rename(tmp, out) < 0)
        rc = vk_fail_errno(err, VK_E_IO, errno, out, VK_NO_OFFSET, "cannot rename %s into place", tmp);
    if (!rc)
        return vk_sync_parent_dir(out, err);
    unlink(tmp);
    return rc;
}

static int fix_to_output(vk_dev *src, vk_vhd *svhd, const struct align_plan *p, const char *out,
                         struct vk_align_result *res, vk_error *err)
{
    struct stat st;
    if (lstat(out, &st) == 0)
        return vk_fail(err, VK_E_EXISTS, out, VK_NO_OFFSET, "the output exists; choose a new name or remove it");
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", out) >= sizeof tmp)
        return vk_fail(err, VK_E_USAGE, out, VK_NO_OFFSET, "path too long");
    if (lstat(tmp, &st) == 0)
        return vk_fail(err, VK_E_EXISTS, tmp, VK_NO_OFFSET, "a temporary file from an earlier run is in the way");
    vk_dev *dst = NULL;
    vk_vhd *dvhd = NULL;
    int rc, appends = 0;
    if (!svhd) {
        rc = vk_dev_open_file(tmp, VK_FILE_RDWR | VK_FILE_CREATE, &dst, err);
        if (!rc)
            rc = vk_dev_set_size(dst, p->new_size, err);
    } else {
        struct vk_vhd_info info;
        if ((rc = vk_vhd_get_info(svhd, &info)))
            return vk_fail(err, rc, src->name, VK_NO_OFFSET, "cannot read the image information");
        struct vk_vhd_create_opts co = {
            .type = info.type == VK_VHD_FIXED ? VK_VHD_FIXED : VK_VHD_DYNAMIC,
            .size = p->new_size,
            .block_size = info.type == VK_VHD_FIXED ? 0 : info.block_size,
        };
        appends = co.type == VK_VHD_DYNAMIC; /* a bulk build appends each block at the end of the file */
        struct vk_vhd_create_result cr;
        rc = vk_vhd_create(tmp, &co, &cr, err);
        if (!rc)
            rc = vk_vhd_open(tmp, &(struct vk_vhd_open_opts){.flags = VK_VHD_RDWR | VK_VHD_BULK}, &dvhd, err);
        if (!rc)
            dst = vk_vhd_dev(dvhd);
    }
    if (!rc && dst->size < p->new_size)
        rc = vk_fail(err, VK_E_UNSUPPORTED, tmp, VK_NO_OFFSET, "the new image is smaller than the plan needs");
    if (!rc)
        rc = copy_all(src,
                      &(struct copy_stream){.dst = dst, .dst_file = dvhd ? vk_vhd_file(dvhd) : dst,
                                            .appends = appends},
                      p, res, err);
    if (!rc)
        rc = finish_patches(dst, p, 0, res, err);
    if (dvhd) {
        if (!rc)
            rc = vk_vhd_flush(dvhd, err);
        vk_vhd_close(dvhd);
    } else if (dst) {
        if (!rc)
            rc = vk_dev_flush(dst, err);
        vk_dev_close(dst);
    }
    return publish(rc, tmp, out, NULL, p, res, err);
}

/* Fixed VHDs and raw disks in place, when there is room: the aligned disk is written once, beside the image, and
 * renamed over it (DESIGN.md: new-file modes write elsewhere, fsync, rename), instead of moved inside the file with
 * every byte written twice. The copy is the raw data (a fixed VHD gets its own footer back, byte for byte: same
 * UUID, times and geometry, so for Hyper-V and for children it is the same disk; one that had to grow was resized
 * first, as in place). */
static int fix_by_copy(const char *path, vk_dev *src, vk_vhd *svhd, const struct align_plan *p,
                       struct vk_align_result *res, vk_error *err)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s" COPY_SUFFIX, path) >= sizeof tmp)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "path too long");
    struct stat st;
    if (stat(path, &st) < 0)
        return vk_fail_errno(err, VK_E_IO, errno, path, VK_NO_OFFSET, "cannot stat");
    if (unlink(tmp) < 0 && errno != ENOENT) /* the name is ours: only an interrupted run leaves it */
        return vk_fail_errno(err, VK_E_IO, errno, tmp, VK_NO_OFFSET, "cannot remove the leftover of an earlier run");
    uint8_t footer[VHD_FOOTER_LEN];
    vk_dev *file = svhd ? vk_vhd_file(svhd) : NULL, *dst = NULL;
    int rc = file ? vk_dev_read(file, footer, sizeof footer, file->size - sizeof footer, err) : 0;
    if (!rc)
        rc = vk_dev_open_file(tmp, VK_FILE_RDWR | VK_FILE_CREATE, &dst, err);
    if (!rc)
        rc = vk_dev_set_size(dst, p->new_size, err);
    if (!rc)
        rc = copy_all(src, &(struct copy_stream){.dst = dst, .dst_file = dst, .drop_src = file ? file : src}, p, res,
                      err); /* the source goes: its pages may too */
    if (!rc)
        rc = finish_patches(dst, p, 0, res, err);
    if (!rc && file)
        rc = vk_dev_write(dst, footer, sizeof footer, p->new_size, err);
    if (!rc)
        rc = vk_dev_flush(dst, err);
    vk_dev_close(dst);
    return publish(rc, tmp, path, &st, p, res, err);
}

/* Removes IMAGE.vhdkit-align-tmp, the copy a stopped run may leave (only vhdkit makes that name, and the image's
 * lock, held here, keeps other runs away from it). */
static void drop_leftover_copy(const char *path)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s" COPY_SUFFIX, path) < sizeof tmp)
        (void)unlink(tmp);
}

/* A copy fits: the image's kind allows it (raw; fixed with its footer right after the data) and its file
 * system has room for what the file holds now (allocated bytes: a sparse raw disk's copy stays as sparse) and a
 * margin. */
static int copy_fits(const char *path, vk_dev *disk, vk_vhd *vhd, const struct align_plan *p)
{
    if (vhd) {
        struct vk_vhd_info info;
        if (vk_vhd_get_info(vhd, &info) || info.type != VK_VHD_FIXED || p->new_size > disk->size ||
            vk_vhd_file(vhd)->size != disk->size + VHD_FOOTER_LEN)
            return 0;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    struct stat st;
    struct statvfs fs;
    if (stat(path, &st) < 0 || statvfs(dirname(dir), &fs) < 0)
        return 0;
    return (uint64_t)fs.f_bavail * fs.f_frsize >= (uint64_t)st.st_blocks * 512 + COPY_MARGIN;
}

static void report_plan(const struct align_plan *p, struct vk_align_result *res)
{
    res->moved = p->nmoves;
    res->old_disk_size = p->old_size;
    res->new_disk_size = p->new_size;
    for (unsigned i = 0; i < p->n; i++)
        for (unsigned k = 0; k < res->before.count; k++)
            if (res->before.parts[k].number == p->parts[i].number)
                res->before.parts[k].new_start_off = p->new_lba[i] * VK_SECTOR_SIZE;
}

int vk_align_fix(const char *path, const struct vk_align_opts *opts, struct vk_align_result *res, vk_error *err)
{
    double t0 = now();
    memset(res, 0, sizeof *res);
    uint64_t target = opts->target ? opts->target : VK_ALIGN_DEFAULT_TO;
    if (target % 4096)
        return vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET, "the boundary %llu is not a multiple of 4096",
                       (unsigned long long)target);
    int in_place = !opts->output && !(opts->flags & VK_ALIGN_DRY_RUN);
    struct vk_vhd_open_opts oo = {.flags = in_place ? VK_VHD_RDWR : 0};
    vk_dev *disk;
    vk_vhd *vhd;
    int rc = vk_image_open(path, &oo, &disk, &vhd, err);
    if (rc)
        return rc;
    struct align_plan *p = calloc(1, sizeof *p);
    struct align_journal j = {0};
    if (!p) {
        vk_dev_close(disk);
        return vk_fail(err, VK_E_NOMEM, path, VK_NO_OFFSET, NULL);
    }
    struct vk_vhd_info info = {0};
    if (vhd && (rc = vk_vhd_get_info(vhd, &info)))
        rc = vk_fail(err, rc, path, VK_NO_OFFSET, "cannot read the image information");
    if (!rc && in_place && vhd && info.type == VK_VHD_DIFF)
        rc = vk_fail(err, VK_E_USAGE, path, VK_NO_OFFSET,
                     "a differencing image is not changed in place (its parent holds most data): use -o OUT");
    if (!rc && in_place && vhd && info.saved_state)
        rc = vk_fail(err, VK_E_REFUSED, path, VK_NO_OFFSET, "the image has a saved state: shut the VM down first");
    /* In place, an earlier interrupted run decides everything: the table on the disk may be half rewritten. */
    if (!rc && in_place)
        rc = align_journal_open(path, p, &j, err);
    if (!rc && !j.found) {
        vk_part_table t;
        rc = vk_part_read(disk, &t, err);
        if (!rc) {
            rc = align_scan_dev(disk, vhd, target, &t, &res->before, err);
            if (!rc)
                rc = align_plan_make(&t, disk->size, target, vhd != NULL, p, err);
            vk_part_table_free(&t);
        }
    } else if (!rc) {
        res->resumed = 1;
        res->before.scheme = p->scheme;
        res->before.disk_size = p->old_size;
        res->before.target = p->target_sec * VK_SECTOR_SIZE;
        res->before.count = p->n;
        for (unsigned i = 0; i < p->n; i++) {
            res->before.parts[i].number = p->parts[i].number;
            res->before.parts[i].flags = p->parts[i].flags;
            res->before.parts[i].start_off = p->parts[i].start_off;
            res->before.parts[i].len = p->parts[i].len;
        }
    }
    if (!rc)
        report_plan(p, res);
    /* Every refusal comes before the first write (the growth below is one): a hibernated, dirty or unclean volume
     * that would move or whose hives would change leaves the image as it was. A resumed run is past that point. */
    if (!rc && !j.found && p->nmoves) {
        rc = align_precheck(disk, p, res, err);
        if (!(opts->flags & VK_ALIGN_DRY_RUN))
            res->mounted_devices = res->bcd_elements = 0; /* the patch step counts what it changes */
    }
    /* A VHD whose last partition no longer fits grows first (vk_resize on the closed image), before the journal
     * exists: a run stopped during the growth plans again from the disk as it then is. */
    if (!rc && in_place && vhd && !j.found && p->nmoves && p->new_size > disk->size) {
        vk_dev_close(disk);
        disk = NULL;
        vhd = NULL;
        struct vk_chain_result cr = {0};
        rc = vk_resize(path, p->new_size, 0, &cr, err);
        if (!rc)
            rc = vk_image_open(path, &oo, &disk, &vhd, err);
        if (!rc && disk->size < p->new_size)
            rc = vk_fail(err, VK_E_UNSUPPORTED, path, VK_NO_OFFSET, "the image grew to %llu bytes, not %llu",
                         (unsigned long long)disk->size, (unsigned long long)p->new_size);
        if (!rc)
            res->new_disk_size = disk->size;
    }
    if (rc || (!p->nmoves && !j.found)) {
        /* nothing to write */
    } else if (opts->flags & VK_ALIGN_DRY_RUN) {
        /* counted by align_precheck */
    } else if (opts->output) {
        res->method = VK_ALIGN_BY_OUTPUT;
        rc = fix_to_output(disk, vhd, p, opts->output, res, err);
    } else if (!j.found && !(opts->flags & VK_ALIGN_NO_COPY) && copy_fits(path, disk, vhd, p)) {
        res->method = VK_ALIGN_BY_COPY;
        rc = fix_by_copy(path, disk, vhd, p, res, err);
    } else {
        rc = fix_in_place(path, disk, vhd, p, &j, res, err);
        res->method = p->method == ALIGN_METHOD_BLOCKS ? VK_ALIGN_BY_BLOCKS : VK_ALIGN_BY_JOURNAL;
        if (!rc)
            drop_leftover_copy(path); /* a stopped copy run, finished another way: its space is given back */
    }
    align_journal_close(&j);
    if (vhd && disk) {
        int frc = in_place && !rc ? vk_vhd_flush(vhd, err) : 0;
        rc = rc ? rc : frc;
    }
    if (disk)
        vk_dev_close(disk);
    free(p);
    res->seconds = now() - t0;
    return rc;
}
