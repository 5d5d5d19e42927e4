/* SPDX-License-Identifier: GPL-2.0-or-later */
/* align journal: IMAGE.align-journal holds two alternating 512-byte progress slots (sequence number and CRC each,
 * so a torn progress write leaves the previous one), the plan (written once, with a CRC), then from the next 4 KiB
 * boundary two areas for round records (align_move.c) or block batch records (align_blocks.c); a slot names the
 * area matching its parity, so a new record never overwrites the one the newest durable slot names. The registry
 * step's redo log reuses the areas at the end.
 * It is written through a vk_dev file, so VHDKIT_TEST_FAULT stops count its writes too. */
#include "ops/align_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bytes.h"
#include "part/layout.h"

#define SLOT_SIZE 512u
#define PLAN_OFF (2 * SLOT_SIZE)
static const char slot_magic[8] = "VKALGNJ2";
/* Round records and the redo log start on the first 4 KiB boundary after the plan. */
#define REDO_OFF ((PLAN_OFF + sizeof(struct align_plan) + 4 + 4095) / 4096 * 4096)

static void encode_slot(const struct align_progress *pr, uint8_t s[SLOT_SIZE])
{
    memset(s, 0, SLOT_SIZE);
    memcpy(s, slot_magic, 8);
    put_le64(s + 8, pr->seq);
    put_le32(s + 16, pr->phase);
    put_le32(s + 20, pr->step);
    put_le64(s + 24, pr->done);
    put_le32(s + 32, pr->rcrc);
    put_le32(s + 36, pr->rlen);
    put_le32(s + 40, part_crc32(s, 40));
}

static int decode_slot(const uint8_t s[SLOT_SIZE], struct align_progress *pr)
{
    if (memcmp(s, slot_magic, 8) || get_le32(s + 40) != part_crc32(s, 40))
        return 0;
    pr->seq = get_le64(s + 8);
    pr->phase = get_le32(s + 16);
    pr->step = get_le32(s + 20);
    pr->done = get_le64(s + 24);
    pr->rcrc = get_le32(s + 32);
    pr->rlen = get_le32(s + 36);
    return 1;
}

int align_journal_path(const char *image, char *buf, size_t cap, const char *suffix)
{
    return (size_t)snprintf(buf, cap, "%s.align-journal%s", image, suffix) >= cap ? -1 : 0;
}

int align_journal_create(const char *image, const struct align_plan *plan, struct align_journal *j, vk_error *err)
{
    char tmp[4200];
    memset(j, 0, sizeof *j);
    j->area = align_round_area(plan->round);
    if (align_journal_path(image, j->path, sizeof j->path, "") || align_journal_path(image, tmp, sizeof tmp, ".tmp"))
        return vk_fail(err, VK_E_USAGE, image, VK_NO_OFFSET, "path too long");
    unlink(tmp); /* a journal that never got its name: the image was not touched yet */
    int rc = vk_dev_open_file(tmp, VK_FILE_RDWR | VK_FILE_CREATE, &j->dev, err);
    if (rc)
        return rc;
    size_t len = sizeof *plan + 4;
    uint8_t *blob = malloc(len);
    if (!blob)
        rc = vk_fail(err, VK_E_NOMEM, tmp, VK_NO_OFFSET, NULL);
    if (!rc) {
        memcpy(blob, plan, sizeof *plan);
        put_le32(blob + sizeof *plan, part_crc32(blob, sizeof *plan));
        rc = vk_dev_write(j->dev, blob, len, PLAN_OFF, err);
        free(blob);
    }
    j->pr = (struct align_progress){.seq = 1, .phase = ALIGN_PHASE_COPY, .step = 0, .done = 0};
    uint8_t s[SLOT_SIZE];
    encode_slot(&j->pr, s);
    if (!rc)
        rc = vk_dev_write(j->dev, s, sizeof s, 0, err);
    if (!rc)
        rc = vk_dev_flush(j->dev, err);
    if (!rc && rename(tmp, j->path) < 0)
        rc = vk_fail_errno(err, VK_E_IO, errno, j->path, VK_NO_OFFSET, "cannot rename the journal into place");
    if (!rc)
        rc = vk_sync_parent_dir(j->path, err);
    if (rc) {
        vk_dev_close(j->dev);
        j->dev = NULL;
        unlink(tmp);
    }
    return rc;
}

int align_journal_open(const char *image, struct align_plan *plan, struct align_journal *j, vk_error *err)
{
    memset(j, 0, sizeof *j);
    char tmp[4200];
    if (align_journal_path(image, j->path, sizeof j->path, "") || align_journal_path(image, tmp, sizeof tmp, ".tmp"))
        return vk_fail(err, VK_E_USAGE, image, VK_NO_OFFSET, "path too long");
    unlink(tmp);
    struct stat st;
    if (stat(j->path, &st) < 0)
        return 0;
    int rc = vk_dev_open_file(j->path, VK_FILE_RDWR, &j->dev, err);
    if (rc)
        return rc;
    size_t len = sizeof *plan + 4;
    uint8_t *blob = malloc(len);
    if (!blob)
        return vk_fail(err, VK_E_NOMEM, j->path, VK_NO_OFFSET, NULL);
    uint8_t s[2][SLOT_SIZE];
    rc = j->dev->size < PLAN_OFF + len ? vk_fail(err, VK_E_TRUNCATED, j->path, j->dev->size, "journal is truncated")
                                         : vk_dev_read(j->dev, s, sizeof s, 0, err);
    if (!rc)
        rc = vk_dev_read(j->dev, blob, len, PLAN_OFF, err);
    if (!rc && (get_le32(blob + sizeof *plan) != part_crc32(blob, sizeof *plan) ||
                get_le32(blob) != ALIGN_PLAN_MAGIC || get_le32(blob + 4) != sizeof *plan))
        rc = vk_fail(err, VK_E_CORRUPT, j->path, PLAN_OFF,
                     "the journal's plan is damaged or from another vhdkit build: the image is half moved");
    if (!rc)
        memcpy(plan, blob, sizeof *plan);
    free(blob);
    j->area = align_round_area(plan->round);
    struct align_progress a = {0}, b = {0};
    int va = !rc && decode_slot(s[0], &a), vb = !rc && decode_slot(s[1], &b);
    if (!rc && !va && !vb)
        rc = vk_fail(err, VK_E_CORRUPT, j->path, 0, "both progress records of the journal are damaged");
    if (rc) {
        vk_dev_close(j->dev);
        j->dev = NULL;
        return rc;
    }
    j->pr = va && (!vb || a.seq > b.seq) ? a : b;
    j->found = 1;
    if (plan->n > VK_ALIGN_MAX_PARTS || plan->nmoves > plan->n ||
        (j->pr.phase != ALIGN_PHASE_REDO && j->pr.step > plan->nmoves))
        return vk_fail(err, VK_E_CORRUPT, j->path, PLAN_OFF, "journal plan out of range");
    return 0;
}

int align_journal_update(struct align_journal *j, uint32_t phase, uint32_t step, uint64_t done, vk_error *err)
{
    j->pr.seq++;
    j->pr.phase = phase;
    j->pr.step = step;
    j->pr.done = done;
    j->pr.rlen = j->pr.rcrc = 0;
    uint8_t s[SLOT_SIZE];
    encode_slot(&j->pr, s);
    int rc = vk_dev_write(j->dev, s, sizeof s, (j->pr.seq % 2) * SLOT_SIZE, err);
    return rc ? rc : vk_dev_flush(j->dev, err);
}

/* Round records alternate between two areas after the plan, as the slots do: a new record never overwrites the one
 * the newest durable slot names. */
static uint64_t area_off(const struct align_journal *j, uint64_t seq)
{
    return REDO_OFF + (seq % 2) * j->area;
}

int align_journal_put_record(struct align_journal *j, uint32_t phase, uint32_t step, uint64_t done,
                             const uint8_t *head, size_t hlen, const uint8_t *data, size_t dlen, vk_error *err)
{
    if (hlen > j->area || dlen > j->area - hlen)
        return vk_fail(err, VK_E_RANGE, j->path, VK_NO_OFFSET, "record larger than its journal area");
    struct align_progress pr = {.seq = j->pr.seq + 1, .phase = phase, .step = step, .done = done,
                                .rlen = (uint32_t)hlen, .rcrc = part_crc32(head, hlen)};
    uint64_t at = area_off(j, pr.seq);
    uint8_t s[SLOT_SIZE];
    encode_slot(&pr, s);
    /* One sync for the three: a slot that lands without its record fails the record's CRCs, and then no write of
     * the round reached the disk either (those follow the sync). */
    int rc = vk_dev_write(j->dev, head, hlen, at, err);
    if (!rc && dlen)
        rc = vk_dev_write(j->dev, data, dlen, at + hlen, err);
    if (!rc)
        rc = vk_dev_write(j->dev, s, sizeof s, (pr.seq % 2) * SLOT_SIZE, err);
    if (!rc)
        rc = vk_dev_flush(j->dev, err);
    if (!rc)
        j->pr = pr;
    return rc;
}

int align_journal_get_round(struct align_journal *j, uint8_t *head, size_t hcap, uint64_t *at, vk_error *err)
{
    uint64_t off = area_off(j, j->pr.seq);
    if (!j->pr.rlen || j->pr.rlen > hcap || off + j->pr.rlen > j->dev->size)
        return 0;
    int rc = vk_dev_read(j->dev, head, j->pr.rlen, off, err);
    if (rc)
        return rc;
    *at = off + j->pr.rlen;
    return part_crc32(head, j->pr.rlen) == j->pr.rcrc;
}


int align_journal_put_redo(struct align_journal *j, const uint8_t *log, size_t len, vk_error *err)
{
    int rc = len ? vk_dev_write(j->dev, log, len, REDO_OFF, err) : 0;
    if (!rc)
        rc = vk_dev_flush(j->dev, err);
    return rc ? rc : align_journal_update(j, ALIGN_PHASE_REDO, len ? part_crc32(log, len) : 0, len, err);
}

int align_journal_get_redo(struct align_journal *j, uint8_t **log, size_t *len, vk_error *err)
{
    *log = NULL;
    *len = 0;
    uint64_t n = j->pr.done;
    if (!n)
        return 0;
    if (n > j->dev->size || REDO_OFF > j->dev->size - n || n > SIZE_MAX)
        return vk_fail(err, VK_E_TRUNCATED, j->path, REDO_OFF, "the journal's redo log is cut short");
    uint8_t *b = malloc((size_t)n);
    if (!b)
        return vk_fail(err, VK_E_NOMEM, j->path, REDO_OFF, NULL);
    int rc = vk_dev_read(j->dev, b, (size_t)n, REDO_OFF, err);
    if (!rc && part_crc32(b, (size_t)n) != j->pr.step)
        rc = vk_fail(err, VK_E_CORRUPT, j->path, REDO_OFF, "the journal's redo log is damaged (CRC)");
    if (rc) {
        free(b);
        return rc;
    }
    *log = b;
    *len = (size_t)n;
    return 0;
}

int align_journal_finish(struct align_journal *j, vk_error *err)
{
    vk_dev_close(j->dev);
    j->dev = NULL;
    if (unlink(j->path) < 0 && errno != ENOENT)
        return vk_fail_errno(err, VK_E_IO, errno, j->path, VK_NO_OFFSET, "cannot remove the journal");
    return vk_sync_parent_dir(j->path, err);
}

void align_journal_close(struct align_journal *j)
{
    vk_dev_close(j->dev);
    j->dev = NULL;
}
