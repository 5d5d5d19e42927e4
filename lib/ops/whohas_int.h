/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: the whohas handle (image, partition table, lazily indexed NTFS volumes) shared by whohas and map. */
#ifndef VK_OPS_WHOHAS_INT_H
#define VK_OPS_WHOHAS_INT_H

#include <stdint.h>

#include "vhdkit/ntfs.h"
#include "vhdkit/ops.h"
#include "vhdkit/part.h"

enum wvol_state { WVOL_UNTRIED = 0, WVOL_READY, WVOL_OTHER };

struct wvol {
    vk_part part;
    enum wvol_state state;
    char why[160];              /* WVOL_OTHER: what the partition holds instead */
    vk_dev *win;
    vk_ntfs *ntfs;
    vk_owners *idx;
    uint32_t cluster_size;
    uint64_t clu_sec;           /* sectors covered by clusters */
    uint64_t vol_sec;           /* sectors of the volume (boot sector field); the backup boot sector follows */
};

struct vk_whohas {
    char path[4096];
    vk_dev *disk;
    vk_vhd *vhd;                /* NULL for raw images */
    uint32_t block_size;        /* dynamic and differencing images; 0 for fixed and raw ones */
    vk_part_table table;
    int have_table;
    struct wvol *vols;          /* data partitions (containers left out), sorted by start */
    unsigned nvols;
    /* GPT structures: header and entry array, primary and backup (sector ranges; n = 0 when absent) */
    uint64_t gpt_sec[4], gpt_n[4];
    /* differencing: block index sorted by file position, for --vhd-offset (built on first use) */
    uint32_t *by_pos;
    uint32_t nby_pos;
};

/* whohas.c: the volume holding a virtual sector (NULL outside) mounted and indexed (state READY or OTHER). */
int whohas_volume_at(vk_whohas *w, uint64_t sector, struct wvol **out, vk_error *err);
/* whohas.c: the answer for a virtual sector (fills everything the disk and filesystem say). */
int whohas_sector(vk_whohas *w, uint64_t sector, uint64_t byte_in_sector, struct vk_whohas_answer *a, vk_error *err);
/* whohas_vhd.c: the answer for a byte of the top image file. */
int whohas_vhd_offset(vk_whohas *w, uint64_t off, struct vk_whohas_answer *a, vk_error *err);

#endif
