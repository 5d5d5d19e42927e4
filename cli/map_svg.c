/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit map --svg: a grid with one cell per VHD block coloured by state (partly used cells show their used share as
 * a bar), partitions outlined and labelled, a legend with counts, totals, and a <title> tooltip per cell naming the
 * block's owners. Disks with more blocks than MAX_CELLS group neighbouring blocks into one cell. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "map_svg.h"

#define MAX_CELLS 16384
#define COLS 64
#define CELL 16
#define GAP 2
#define PITCH (CELL + GAP)
#define LEFT 70
#define TOP 125
#define TIP_LEN 320

/* One more than the map states: unallocated blocks of a differencing disk whose parent stores data. */
#define ST_PARENT_HOLDS VK_MAP_NSTATES
#define NST (VK_MAP_NSTATES + 1)

static const struct {
    const char *fill, *label;
} style[NST] = {
    [VK_MAP_UNALLOCATED] = {"#eceff1", "unallocated"},
    [VK_MAP_USED] = {"#2e7d32", "used"},
    [VK_MAP_PARTLY_USED] = {"#f9a825", "partly used (green bar: used share)"},
    [VK_MAP_FREE] = {"#e53935", "allocated, free in the filesystem"},
    [VK_MAP_ZERO] = {"#78909c", "allocated, all zero"},
    [VK_MAP_SAME_AS_PARENT] = {"#8e24aa", "same as the parent"},
    [VK_MAP_PAGEFILE] = {"#6d4c41", "pagefile / swapfile"},
    [ST_PARENT_HOLDS] = {"#90caf9", "not stored here: parent holds data"},
};

struct cell {
    uint32_t count[NST];
    double used;            /* sum of used fractions of its allocated blocks */
    uint32_t allocated;
    char tip[TIP_LEN];
};

struct map_svg {
    uint64_t blocks, group, ncells;
    uint64_t seen;
    struct cell *cells;
    uint64_t total[NST];
};

struct map_svg *map_svg_new(uint64_t blocks)
{
    struct map_svg *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->blocks = blocks;
    s->group = blocks > MAX_CELLS ? (blocks + MAX_CELLS - 1) / MAX_CELLS : 1;
    s->ncells = (blocks + s->group - 1) / s->group;
    s->cells = calloc(s->ncells ? s->ncells : 1, sizeof *s->cells);
    if (!s->cells) {
        free(s);
        return NULL;
    }
    return s;
}

void map_svg_free(struct map_svg *s)
{
    if (s)
        free(s->cells);
    free(s);
}

/* Appends text to a tooltip, escaped for XML, cut at the buffer's end. */
static void tip_add(char *tip, const char *text)
{
    size_t n = strlen(tip);
    for (; *text && n + 8 < TIP_LEN; text++) {
        const char *e = *text == '&' ? "&amp;" : *text == '<' ? "&lt;" : *text == '>' ? "&gt;" : NULL;
        if (e) {
            memcpy(tip + n, e, strlen(e));
            n += strlen(e);
        } else {
            tip[n++] = *text;
        }
    }
    tip[n] = 0;
}

void map_svg_add(struct map_svg *s, const struct vk_map_block *b)
{
    uint64_t ci = s->seen++ / s->group;
    if (ci >= s->ncells)
        return;
    struct cell *c = &s->cells[ci];
    unsigned st = b->state == VK_MAP_UNALLOCATED && b->diff && b->parent_sectors ? ST_PARENT_HOLDS : b->state;
    c->count[st]++;
    s->total[st]++;
    if (b->state != VK_MAP_UNALLOCATED) {
        c->allocated++;
        c->used += b->used_fraction;
    }
    char line[600];
    if (!c->tip[0] || s->group == 1) {
        snprintf(line, sizeof line, "block %u: %s", b->block, style[st].label);
        tip_add(c->tip, line);
        if (b->state == VK_MAP_PARTLY_USED) {
            snprintf(line, sizeof line, ", %.0f%% used", b->used_fraction * 100);
            tip_add(c->tip, line);
        }
        if (s->group > 1) {
            snprintf(line, sizeof line, " (cell of %llu blocks)", (unsigned long long)s->group);
            tip_add(c->tip, line);
        }
    }
    for (unsigned i = 0; i < b->nowners && i < 3; i++) {
        char sz[32];
        format_size(b->owners[i].bytes, sz, sizeof sz);
        snprintf(line, sizeof line, "\n%s (%s)", b->owners[i].path, sz);
        tip_add(c->tip, line);
    }
    if (b->owners_count > 3) {
        snprintf(line, sizeof line, "\n... and %llu more files", (unsigned long long)(b->owners_count - 3));
        tip_add(c->tip, line);
    }
}

static unsigned cell_state(const struct cell *c)
{
    unsigned best = 0;
    for (unsigned k = 1; k < NST; k++)
        if (c->count[k] > c->count[best])
            best = k;
    return best;
}

static void cell_xy(uint64_t i, int *x, int *y)
{
    *x = LEFT + (int)(i % COLS) * PITCH;
    *y = TOP + (int)(i / COLS) * PITCH;
}

/* A partition as outline segments, one per grid row it covers (labels go to the key: small partitions share rows). */
static void outline_part(FILE *f, const struct map_svg *s, const struct vk_map_result *res, const struct vk_map_part *p,
                         const char *colour)
{
    uint64_t spb = res->block_size / 512;
    uint64_t first = p->start_lba / spb / s->group, last = (p->start_lba + p->nsec - 1) / spb / s->group;
    if (last >= s->ncells)
        last = s->ncells - 1;
    for (uint64_t a = first; a <= last;) {
        uint64_t row_end = (a / COLS + 1) * COLS - 1, b = last < row_end ? last : row_end;
        int x, y;
        cell_xy(a, &x, &y);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n",
                x - 2, y - 2, (int)(b - a + 1) * PITCH + 2, PITCH + 2, colour);
        a = b + 1;
    }
}

int map_svg_write(struct map_svg *s, FILE *f, const char *image, const struct vk_map_result *res)
{
    static const char *const part_colour[] = {"#1565c0", "#d81b60", "#00897b", "#5e35b1", "#ef6c00"};
    uint64_t rows = (s->ncells + COLS - 1) / COLS;
    int width = LEFT + COLS * PITCH + 20, grid_bottom = TOP + (int)rows * PITCH;
    int legend_y = grid_bottom + 30;
    int height = legend_y + (int)(res->nparts > NST ? res->nparts : NST) * 22 + 20;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
               "<style>text{font-family:sans-serif;font-size:13px;fill:#263238}"
               ".h{font-size:20px;font-weight:bold}.rl{font-size:11px;fill:#78909c}"
               "rect.c:hover{stroke:#000;stroke-width:2}</style>\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
            width, height, width, height);
    char bs[32], vs[32], fb[32], fa[32], freed[32];
    format_size(res->block_size, bs, sizeof bs);
    format_size(res->virtual_size, vs, sizeof vs);
    format_size(res->compact.file_size_before, fb, sizeof fb);
    format_size(res->compact.file_size_after, fa, sizeof fa);
    uint64_t freed_bytes = 0, freed_blocks = 0;
    for (int k = 0; k < VK_COMPACT_NREASONS; k++) {
        freed_bytes += res->compact.freed_bytes[k];
        freed_blocks += res->compact.freed_blocks[k];
    }
    format_size(freed_bytes, freed, sizeof freed);
    fprintf(f, "<text x=\"20\" y=\"32\" class=\"h\">vhdkit map: ");
    char esc[TIP_LEN] = "";
    tip_add(esc, image);
    fprintf(f, "%s</text>\n", esc);
    fprintf(f, "<text x=\"20\" y=\"56\">%s virtual disk, %llu blocks of %s%s; file %s</text>\n", vs,
            (unsigned long long)res->blocks, bs, s->group > 1 ? " (one cell per group of blocks)" : "", fb);
    fprintf(f, "<text x=\"20\" y=\"78\">allocated %llu of %llu blocks; compact would give back %s of stored sectors "
               "and %llu blocks (file %s)</text>\n",
            (unsigned long long)res->compact.blocks_before, (unsigned long long)res->blocks, freed,
            (unsigned long long)freed_blocks, fa);
    fprintf(f, "<text x=\"20\" y=\"100\" class=\"rl\">one cell per %s block, row by row from the start of the disk; "
               "hover a cell for its files</text>\n", bs);
    for (uint64_t r = 0; r < rows; r++)
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"rl\" text-anchor=\"end\">%llu</text>\n", LEFT - 8,
                TOP + (int)r * PITCH + 12, (unsigned long long)(r * COLS * s->group));
    for (uint64_t i = 0; i < s->ncells; i++) {
        const struct cell *c = &s->cells[i];
        unsigned st = cell_state(c);
        int x, y;
        cell_xy(i, &x, &y);
        fprintf(f, "<g><title>%s</title><rect class=\"c\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
                c->tip, x, y, CELL, CELL, style[st].fill);
        if (st == VK_MAP_PARTLY_USED && c->allocated) {
            int h = (int)(CELL * (c->used / c->allocated) + 0.5);
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" pointer-events=\"none\"/>", x,
                    y + CELL - h, CELL, h, style[VK_MAP_USED].fill);
        }
        fprintf(f, "</g>\n");
    }
    for (unsigned i = 0; i < res->nparts; i++)
        outline_part(f, s, res, &res->parts[i], part_colour[i % 5]);
    for (unsigned k = 0; k < NST; k++) {
        int y = legend_y + (int)k * 22;
        fprintf(f, "<rect x=\"20\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#b0bec5\"/>", y, CELL,
                CELL, style[k].fill);
        fprintf(f, "<text x=\"46\" y=\"%d\">%s: %llu</text>\n", y + 13, style[k].label,
                (unsigned long long)s->total[k]);
    }
    /* Partition key beside the state legend. */
    uint64_t spb = res->block_size / 512;
    for (unsigned i = 0; i < res->nparts; i++) {
        const struct vk_map_part *p = &res->parts[i];
        int y = legend_y + (int)i * 22;
        fprintf(f, "<rect x=\"420\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"%s\" "
                   "stroke-width=\"3\"/>", y, CELL, CELL, part_colour[i % 5]);
        fprintf(f, "<text x=\"446\" y=\"%d\">partition %u: %s, sectors %llu-%llu, blocks %llu-%llu</text>\n", y + 13,
                p->number, p->type, (unsigned long long)p->start_lba, (unsigned long long)(p->start_lba + p->nsec - 1),
                (unsigned long long)(p->start_lba / spb), (unsigned long long)((p->start_lba + p->nsec - 1) / spb));
    }
    fprintf(f, "</svg>\n");
    return ferror(f) ? -1 : 0;
}
