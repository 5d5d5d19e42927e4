/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small LRU cache of block sector bitmaps (spec "Block Allocation Table and Data Blocks"): bounded memory. */
#include <stdlib.h>
#include <string.h>

#include "vhd/image_internal.h"

void bitmap_cache_free(struct bitmap_cache *c)
{
    for (int i = 0; i < VHD_BITMAP_CACHE_SLOTS; i++) {
        free(c->slot[i].bits);
        c->slot[i].bits = NULL;
        c->slot[i].valid = false;
    }
}

static struct bitmap_slot *find_slot(struct bitmap_cache *c, uint32_t blk)
{
    for (int i = 0; i < VHD_BITMAP_CACHE_SLOTS; i++)
        if (c->slot[i].valid && c->slot[i].blk == blk)
            return &c->slot[i];
    return NULL;
}

/* An empty slot, else the least recently used one. */
static struct bitmap_slot *victim(vk_vhd *vhd, vk_error *err)
{
    struct bitmap_cache *c = &vhd->cache;
    struct bitmap_slot *v = &c->slot[0];
    for (int i = 0; i < VHD_BITMAP_CACHE_SLOTS; i++) {
        if (!c->slot[i].valid) {
            v = &c->slot[i];
            break;
        }
        if (c->slot[i].last_use < v->last_use)
            v = &c->slot[i];
    }
    v->valid = false;
    if (!v->bits) {
        v->bits = malloc(vhd->bitmap_bytes);
        if (!v->bits) {
            vk_fail(err, VK_E_NOMEM, vhd->path, VK_NO_OFFSET, "cannot allocate a sector bitmap");
            return NULL;
        }
    }
    return v;
}

int bitmap_cache_get(vk_vhd *vhd, uint32_t blk, uint8_t **bits, vk_error *err)
{
    struct bitmap_cache *c = &vhd->cache;
    struct bitmap_slot *s = find_slot(c, blk);
    if (!s) {
        s = victim(vhd, err);
        if (!s)
            return VK_E_NOMEM;
        /* BAT entries were checked against the file size when the image was opened. */
        uint64_t off = (uint64_t)vhd->bat[blk] * VHD_SECTOR;
        int rc = vk_dev_read(vhd->file, s->bits, vhd->bitmap_bytes, off, err);
        if (rc)
            return rc;
        s->blk = blk;
        s->valid = true;
    }
    s->last_use = ++c->clock;
    *bits = s->bits;
    return 0;
}

void bitmap_cache_drop(vk_vhd *vhd, uint32_t blk)
{
    struct bitmap_slot *s = find_slot(&vhd->cache, blk);
    if (s)
        s->valid = false;
}

int bitmap_cache_put(vk_vhd *vhd, uint32_t blk, const uint8_t *bits, vk_error *err)
{
    struct bitmap_slot *s = find_slot(&vhd->cache, blk);
    if (!s) {
        s = victim(vhd, err);
        if (!s)
            return VK_E_NOMEM;
    }
    memcpy(s->bits, bits, vhd->bitmap_bytes);
    s->blk = blk;
    s->valid = true;
    s->last_use = ++vhd->cache.clock;
    return 0;
}
