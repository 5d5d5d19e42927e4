/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process-wide fault injection for end-to-end crash tests of the command, driven by VHDKIT_TEST_FAULT. */
#ifndef VK_DEV_TEST_FAULT_H
#define VK_DEV_TEST_FAULT_H

#include <stddef.h>

#include "vhdkit/dev.h"

/* VHDKIT_TEST_FAULT="stop:N" (or "torn:N", "fail:N") makes every host-file write after the N-th (counted across
 * all files of the process) behave as vk_dev_fault() describes; "count" only counts, and prints the total to
 * stderr at exit as "vhdkit-test-writes: N". Unset: no effect. Used by tests/e2e crash tests on the real binary.
 * Called by the file device before a write; may shorten *len (torn) or fail. */
int vk_test_fault_before_write(vk_dev *dev, size_t *len, uint64_t off, vk_error *err);
/* After a write that was shortened (torn), reports the failure. */
int vk_test_fault_after_write(vk_dev *dev, vk_error *err);
/* True once a stop or torn fault fired: flushes and truncates fail too. */
int vk_test_fault_stopped(void);

#endif
