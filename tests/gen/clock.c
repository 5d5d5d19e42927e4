/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pins the wall clock libntfs-3g reads (ntfs_current_time calls clock_gettime(CLOCK_REALTIME)) to vk-gen's base
 * time, so times it writes where no API reaches (index slack, records of removed files) are the same on every
 * run and the same spec gives a byte-identical raw image. Other clocks go to the kernel. */
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define GEN_EPOCH 1623744000 /* 2021-06-15 08:00:00 UTC, as BASE_TIME_NS in tree.c */

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (id == CLOCK_REALTIME) {
        ts->tv_sec = GEN_EPOCH;
        ts->tv_nsec = 0;
        return 0;
    }
    return (int)syscall(SYS_clock_gettime, id, ts);
}
