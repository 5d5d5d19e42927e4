/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Window device: [off, off+len) of another device, e.g. one partition of a disk. */
#include "vhdkit/dev.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/checked.h"

struct window_priv {
    vk_dev *base;
    uint64_t off;
    int own_base;
};

static struct window_priv *wp(vk_dev *dev) { return dev->priv; }

static int window_read(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err)
{
    return vk_dev_read(wp(dev)->base, buf, len, wp(dev)->off + off, err);
}

static int window_write(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err)
{
    return vk_dev_write(wp(dev)->base, buf, len, wp(dev)->off + off, err);
}

static int window_flush(vk_dev *dev, vk_error *err) { return vk_dev_flush(wp(dev)->base, err); }

static int window_extent(vk_dev *dev, uint64_t off, uint64_t len, vk_extent *out, vk_error *err)
{
    return vk_dev_extent(wp(dev)->base, wp(dev)->off + off, len, out, err);
}

static void window_close(vk_dev *dev)
{
    if (wp(dev)->own_base)
        vk_dev_close(wp(dev)->base);
    free(dev->priv);
    free(dev);
}

static const struct vk_dev_ops window_ops = {
    .type = "window",
    .read = window_read,
    .write = window_write,
    .flush = window_flush,
    .extent = window_extent,
    .close = window_close,
};

int vk_dev_window(vk_dev *base, uint64_t off, uint64_t len, int own_base, vk_dev **out, vk_error *err)
{
    if (!ck_range_inside(off, len, base->size))
        return vk_fail(err, VK_E_RANGE, base->name, off, "window of %llu bytes does not fit in the device (size %llu)",
                       (unsigned long long)len, (unsigned long long)base->size);
    vk_dev *dev = calloc(1, sizeof *dev);
    struct window_priv *priv = calloc(1, sizeof *priv);
    if (!dev || !priv) {
        free(dev);
        free(priv);
        return vk_fail(err, VK_E_NOMEM, base->name, VK_NO_OFFSET, NULL);
    }
    priv->base = base;
    priv->off = off;
    priv->own_base = own_base;
    dev->ops = &window_ops;
    dev->priv = priv;
    dev->size = len;
    dev->flags = base->flags;
    snprintf(dev->name, sizeof dev->name, "%s", base->name);
    *out = dev;
    return 0;
}
