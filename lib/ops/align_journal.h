/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: the in-place align journal (IMAGE.align-journal): the plan and the progress of the copy. */
#ifndef VK_OPS_ALIGN_JOURNAL_H
#define VK_OPS_ALIGN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ops/align_int.h"

/* COPY: data moving; PACK (dynamic VHDs, after COPY): blocks at the end of the file moved into the free slots the
 * move left, then the file cut; PATCH: boot sectors, tables, then the registry step computed against an overlay;
 * REDO: the registry step's writes are saved whole in the journal (step = their CRC, done = their length) and are
 * (re)applied. */
enum { ALIGN_PHASE_COPY = 1, ALIGN_PHASE_PATCH = 2, ALIGN_PHASE_REDO = 3, ALIGN_PHASE_PACK = 4 };

struct align_progress {
    uint64_t seq;
    uint32_t phase;
    uint32_t step;                 /* COPY: index into plan->order of the partition being copied */
    uint64_t done;                 /* COPY: bytes at the end of that partition already at their new place (rounds),
                                    * or blocks from the top of the moved span already rebuilt (blocks) */
    uint32_t rlen, rcrc;           /* COPY, PACK: a record (its header's length and CRC) holds the next step */
};

struct align_journal {
    char path[4200];
    vk_dev *dev;
    int found;                     /* open: an earlier run's journal was there */
    uint64_t area;                 /* bytes of each of the two round record areas */
    struct align_progress pr;
};

int align_journal_path(const char *image, char *buf, size_t cap, const char *suffix);
/* Writes the plan and the first progress record to IMAGE.align-journal.tmp, fsyncs, renames it into place. */
int align_journal_create(const char *image, const struct align_plan *plan, struct align_journal *j, vk_error *err);
/* Loads an earlier run's journal when there is one (j->found), removing a stale .tmp. */
int align_journal_open(const char *image, struct align_plan *plan, struct align_journal *j, vk_error *err);
/* Records progress (the other slot, then fsync). */
int align_journal_update(struct align_journal *j, uint32_t phase, uint32_t step, uint64_t done, vk_error *err);
/* Saves a record (header with its own CRCs, then data) in the area the newest slot does not name, and a slot
 * {phase, step, done} naming it; one sync. Rounds (align_move.c) and block batches (align_blocks.c) use it. */
int align_journal_put_record(struct align_journal *j, uint32_t phase, uint32_t step, uint64_t done,
                             const uint8_t *head, size_t hlen, const uint8_t *data, size_t dlen, vk_error *err);
/* The newest slot's round record header into head (at most hcap bytes); *at = where its data starts. 1 when it is
 * whole (CRC), 0 when the slot names none or it did not land, else an error. */
int align_journal_get_round(struct align_journal *j, uint8_t *head, size_t hcap, uint64_t *at, vk_error *err);
/* Saves a redo log (align_redo.h) after the plan, syncs it, then records phase REDO. */
int align_journal_put_redo(struct align_journal *j, const uint8_t *log, size_t len, vk_error *err);
/* Loads the redo log phase REDO names (malloc'd), checking its length and CRC. */
int align_journal_get_redo(struct align_journal *j, uint8_t **log, size_t *len, vk_error *err);
/* Removes the journal: the image is complete. */
int align_journal_finish(struct align_journal *j, vk_error *err);
void align_journal_close(struct align_journal *j);

/* align_move.c: the copy phase in place, from the journal's progress on (a round it names is replayed first), then
 * the vacated bytes zeroed (align_seg_at). Raw and fixed images. */
int align_move_in_place(vk_dev *disk, const struct align_plan *p, struct align_journal *j,
                        struct vk_align_result *res, vk_error *err);
/* align_blocks.c: the copy phase (ALIGN_PHASE_COPY) and then the packing phase (ALIGN_PHASE_PACK) of a dynamic VHD,
 * from the journal's progress on (a batch it names is rolled forward first); ends with phase PATCH recorded. */
int align_blocks_in_place(vk_dev *disk, vk_vhd *vhd, const struct align_plan *p, struct align_journal *j,
                          struct vk_align_result *res, vk_error *err);

#endif
