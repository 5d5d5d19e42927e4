/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: the in-place align journal (IMAGE.align-journal): the plan and the progress of the copy. */
#ifndef VK_OPS_ALIGN_JOURNAL_H
#define VK_OPS_ALIGN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ops/align_int.h"

enum { ALIGN_PHASE_COPY = 1, ALIGN_PHASE_PATCH = 2 };

struct align_progress {
    uint64_t seq;
    uint32_t phase;
    uint32_t step;                 /* COPY: index into plan->order of the partition being copied */
    uint64_t done;                 /* COPY: bytes at the end of that partition already at their new place */
};

struct align_journal {
    char path[4200];
    vk_dev *dev;
    int found;                     /* open: an earlier run's journal was there */
    struct align_progress pr;
};

int align_journal_path(const char *image, char *buf, size_t cap, const char *suffix);
/* Writes the plan and the first progress record to IMAGE.align-journal.tmp, fsyncs, renames it into place. */
int align_journal_create(const char *image, const struct align_plan *plan, struct align_journal *j, vk_error *err);
/* Loads an earlier run's journal when there is one (j->found), removing a stale .tmp. */
int align_journal_open(const char *image, struct align_plan *plan, struct align_journal *j, vk_error *err);
/* Records progress (the other slot, then fsync). */
int align_journal_update(struct align_journal *j, uint32_t phase, uint32_t step, uint64_t done, vk_error *err);
/* Removes the journal: the image is complete. */
int align_journal_finish(struct align_journal *j, vk_error *err);
void align_journal_close(struct align_journal *j);

#endif
