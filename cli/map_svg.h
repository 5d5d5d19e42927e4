/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The picture of `vhdkit map --svg`: one cell per VHD block (or per group of blocks on huge disks). */
#ifndef VK_CLI_MAP_SVG_H
#define VK_CLI_MAP_SVG_H

#include <stdio.h>

#include "vhdkit/ops.h"

struct map_svg;
/* Room for `blocks` blocks; NULL when out of memory. */
struct map_svg *map_svg_new(uint64_t blocks);
/* Blocks arrive in order. */
void map_svg_add(struct map_svg *s, const struct vk_map_block *b);
/* Writes the document; returns 0 or -1 when the stream failed. */
int map_svg_write(struct map_svg *s, FILE *f, const char *image, const struct vk_map_result *res);
void map_svg_free(struct map_svg *s);

#endif
