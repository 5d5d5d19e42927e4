/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress bar with ETA on stderr, drawn only when stderr is a terminal (pipes and logs stay clean). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_begin(struct progress *p, const char *label, uint64_t total)
{
    p->enabled = isatty(STDERR_FILENO) == 1;
    p->label = label;
    p->total = total;
    p->start = now();
    p->last_draw = 0;
}

void progress_update(struct progress *p, uint64_t done)
{
    if (!p->enabled || !p->total)
        return;
    double t = now();
    if (t - p->last_draw < 0.2 && done < p->total)
        return; /* at most five redraws a second */
    p->last_draw = t;
    double frac = (double)done / (double)p->total;
    if (frac > 1)
        frac = 1;
    int width = 30, fill = (int)(frac * width);
    char bar[31];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double elapsed = t - p->start;
    char eta[32] = "--:--";
    if (frac > 0.01 && frac < 1) {
        long left = (long)(elapsed / frac - elapsed);
        snprintf(eta, sizeof eta, "%02ld:%02ld", left / 60, left % 60);
    }
    fprintf(stderr, "\r%s [%s] %3d%% ETA %s ", p->label, bar, (int)(frac * 100), eta);
    fflush(stderr);
}

void progress_end(struct progress *p)
{
    if (!p->enabled)
        return;
    progress_update(p, p->total);
    fprintf(stderr, "\n");
}

void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;
    p->total = total;
    progress_update(p, done);
}
