/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal pieces of `align`: NTFS boot sector facts, cluster split counts, the move plan and its journal. */
#ifndef VK_OPS_ALIGN_INT_H
#define VK_OPS_ALIGN_INT_H

#include <stdint.h>

#include "vhdkit/ops.h"
#include "vhdkit/part.h"

/* NTFS boot sector fields (VHD-NOTES.md "NTFS"). */
#define NTFS_OEM_OFF 3
#define NTFS_BPS_OFF 0x0B
#define NTFS_SPC_OFF 0x0D
#define NTFS_HIDDEN_OFF 0x1C
#define NTFS_TOTAL_OFF 0x28

struct ntfs_boot {
    uint32_t sector_size;
    uint32_t cluster_size;
    uint64_t total_sec;            /* volume sectors (the backup boot sector sits at this index) */
    uint32_t hidden;
};

/* 1 when `raw` is an NTFS boot sector with sane geometry (filled into *b), else 0. */
int align_ntfs_boot(const uint8_t raw[512], struct ntfs_boot *b);
/* Among `n` units of `size` bytes laid end to end from byte `off`, how many touch one more `unit` than they need. */
uint64_t align_split_count(uint64_t off, uint64_t size, uint64_t n, uint64_t unit);
/* Fills the report for an open disk. */
int align_scan_dev(vk_dev *disk, vk_vhd *vhd, uint64_t target, const vk_part_table *t, struct vk_align_report *rep,
                   vk_error *err);

/* The move plan: the old table (type_name cleared, so it can be stored in the journal as bytes) and where each
 * partition goes. Logical partitions get a freshly built EBR chain at ebr_lba. */
struct align_plan {
    uint32_t magic;                /* ALIGN_PLAN_MAGIC */
    uint32_t size;                 /* sizeof(struct align_plan): a journal from another build is refused */
    int scheme;
    uint32_t disk_signature;
    uint8_t disk_guid[16];
    uint64_t target_sec;
    uint64_t old_size, new_size;   /* bytes */
    unsigned n;
    vk_part parts[VK_ALIGN_MAX_PARTS]; /* by table order */
    uint64_t new_lba[VK_ALIGN_MAX_PARTS];
    uint64_t new_nsec[VK_ALIGN_MAX_PARTS]; /* = nsec, except an extended container that grows */
    uint64_t ebr_lba[VK_ALIGN_MAX_PARTS];  /* logicals: their EBR in the new chain */
    unsigned order[VK_ALIGN_MAX_PARTS];    /* moved partitions, highest start first (the safe copy order) */
    unsigned nmoves;
    uint64_t round;                /* in place: bytes moved per journaled round or block batch */
    uint32_t method;               /* in place: ALIGN_METHOD_* (a resumed run goes on the same way) */
    uint32_t pad;
};
/* In place, raw and fixed images move bytes over themselves in journaled rounds (align_move.c); dynamic VHDs build
 * each new block in free space and switch BAT entries (align_blocks.c). */
enum { ALIGN_METHOD_ROUNDS = 0, ALIGN_METHOD_BLOCKS = 1 };
#define ALIGN_PLAN_MAGIC 0x414c4e50u

/* align_move.c: the in-place move's round size (VHDKIT_TEST_ALIGN_ROUND can make it small for crash tests) and
 * the journal area one round record needs. */
uint64_t align_round_size(void);
uint64_t align_round_area(uint64_t round);
/* 1 when [off, off+len) of dev reads as zero without being read (unallocated, hole, unwritten), 0 when not. */
int align_reads_zero(vk_dev *dev, uint64_t off, uint64_t len, vk_error *err);

/* What the aligned disk holds at byte v (before the patch step): a moved partition's bytes in its new place (*src =
 * where they come from, v - its shift), zeros where a moved partition was and no other one now is (as -o leaves
 * them: no stale copy of a volume's first bytes stays behind), else the same bytes as before. *end: where this
 * kind of segment ends (past v; UINT64_MAX after the last boundary). */
enum { ALIGN_SEG_SAME, ALIGN_SEG_MOVED, ALIGN_SEG_VACATED };
int align_seg_at(const struct align_plan *p, uint64_t v, uint64_t *src, uint64_t *end);
/* The bytes the move changes: [*lo, *hi) (empty when nothing moves). */
void align_moved_span(const struct align_plan *p, uint64_t *lo, uint64_t *hi);

/* align_plan.c: the new layout (partitions only move up). */
/* `vhd`: the disk is a VHD, whose CHS geometry must hold the partitions too when it grows. */
int align_plan_make(const vk_part_table *t, uint64_t disk_size, uint64_t target, int vhd, struct align_plan *p,
                    vk_error *err);
/* align_patch.c: idempotent rewrites after the data moved: NTFS hidden sectors, MBR/EBR or GPT. */
int align_patch_boot(vk_dev *disk, const struct align_plan *p, unsigned *count, vk_error *err);
int align_patch_tables(vk_dev *disk, const struct align_plan *p, vk_error *err);
/* align_reg.c: SYSTEM\MountedDevices values and BCD device elements of every NTFS volume that still hold a moved
 * partition's old offset (MBR disks), rewritten with the volumes at their new places (each hive committed
 * atomically). */
int align_patch_registry(vk_dev *disk, const struct align_plan *p, struct vk_align_result *res, vk_error *err);
/* Before anything is written (volumes at their old places): counts the registry values to patch into res, and
 * refuses (VK_E_REFUSED) when a volume to move or to patch is hibernated, dirty or unclean, or a hive to patch is
 * dirty past replay. */
int align_precheck(vk_dev *disk, const struct align_plan *p, struct vk_align_result *res, vk_error *err);

#endif
