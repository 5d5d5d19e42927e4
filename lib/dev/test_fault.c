/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VHDKIT_TEST_FAULT: crash simulation for the real binary, so tests can stop a command at every write point.
 * State is per process by design: a crash stops every file at once. */
#include "dev/test_fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mode { MODE_UNSET, MODE_OFF, MODE_COUNT, MODE_FAIL, MODE_STOP, MODE_TORN };

static enum mode mode = MODE_UNSET;
static unsigned long long limit;
static unsigned long long writes;
static int fired;
static int torn_pending;

static void report_count(void) { fprintf(stderr, "vhdkit-test-writes: %llu\n", writes); }

static void load(void)
{
    if (mode != MODE_UNSET)
        return;
    mode = MODE_OFF;
    const char *s = getenv("VHDKIT_TEST_FAULT");
    if (!s || !*s)
        return;
    if (!strcmp(s, "count")) {
        mode = MODE_COUNT;
        atexit(report_count);
        return;
    }
    const char *colon = strchr(s, ':');
    if (!colon)
        return;
    limit = strtoull(colon + 1, NULL, 10);
    if (!strncmp(s, "fail:", 5))
        mode = MODE_FAIL;
    else if (!strncmp(s, "stop:", 5))
        mode = MODE_STOP;
    else if (!strncmp(s, "torn:", 5))
        mode = MODE_TORN;
}

int vk_test_fault_before_write(vk_dev *dev, size_t *len, uint64_t off, vk_error *err)
{
    load();
    if (mode == MODE_OFF)
        return 0;
    if ((mode == MODE_STOP || mode == MODE_TORN) && fired)
        return vk_fail(err, VK_E_FAULT, dev->name, off, "write after an injected stop");
    if (mode == MODE_COUNT || writes < limit) {
        writes++;
        return 0;
    }
    if (fired && mode == MODE_FAIL) {
        writes++;
        return 0;
    }
    fired = 1;
    if (mode == MODE_TORN && *len >= 1024) {
        *len = (*len / 2) & ~(size_t)511;
        torn_pending = 1;
        return 0;
    }
    return vk_fail(err, VK_E_FAULT, dev->name, off, "injected fault at write %llu", writes + 1);
}

int vk_test_fault_after_write(vk_dev *dev, vk_error *err)
{
    if (!torn_pending)
        return 0;
    torn_pending = 0;
    return vk_fail(err, VK_E_FAULT, dev->name, VK_NO_OFFSET, "injected torn write");
}

int vk_test_fault_stopped(void)
{
    load();
    return fired && (mode == MODE_STOP || mode == MODE_TORN);
}
