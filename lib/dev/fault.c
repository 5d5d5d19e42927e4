/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault-injecting device: passes N writes to its base, then fails once, stops, or tears a write (crash tests). */
#include "vhdkit/dev.h"

#include <stdio.h>
#include <stdlib.h>

struct fault_priv {
    vk_dev *base;
    enum vk_fault_mode mode;
    uint64_t after;
    uint64_t writes;
    int fired;
};

static struct fault_priv *fp(vk_dev *dev) { return dev->priv; }

static int stopped(vk_dev *dev) { return fp(dev)->fired && fp(dev)->mode != VK_FAULT_FAIL; }

static int fault_read(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err)
{
    return vk_dev_read(fp(dev)->base, buf, len, off, err);
}

static int fault_write(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err)
{
    struct fault_priv *p = fp(dev);
    if (stopped(dev))
        return vk_fail(err, VK_E_FAULT, dev->name, off, "write after an injected stop");
    if (p->writes < p->after || p->fired) {
        int rc = vk_dev_write(p->base, buf, len, off, err);
        if (!rc)
            p->writes++;
        dev->size = p->base->size;
        return rc;
    }
    p->fired = 1;
    if (p->mode == VK_FAULT_TORN && len >= 1024) {
        size_t part = (len / 2) & ~(size_t)511;
        int rc = vk_dev_write(p->base, buf, part, off, err);
        if (rc)
            return rc;
    }
    return vk_fail(err, VK_E_FAULT, dev->name, off, "injected fault at write %llu", (unsigned long long)p->writes + 1);
}

static int fault_flush(vk_dev *dev, vk_error *err)
{
    if (stopped(dev))
        return vk_fail(err, VK_E_FAULT, dev->name, VK_NO_OFFSET, "flush after an injected stop");
    return vk_dev_flush(fp(dev)->base, err);
}

static int fault_extent(vk_dev *dev, uint64_t off, uint64_t len, vk_extent *out, vk_error *err)
{
    return vk_dev_extent(fp(dev)->base, off, len, out, err);
}

static int fault_set_size(vk_dev *dev, uint64_t size, vk_error *err)
{
    if (stopped(dev))
        return vk_fail(err, VK_E_FAULT, dev->name, VK_NO_OFFSET, "resize after an injected stop");
    int rc = vk_dev_set_size(fp(dev)->base, size, err);
    dev->size = fp(dev)->base->size;
    return rc;
}

static void fault_close(vk_dev *dev)
{
    vk_dev_close(fp(dev)->base);
    free(dev->priv);
    free(dev);
}

static const struct vk_dev_ops fault_ops_fixed = {
    .type = "fault",
    .read = fault_read,
    .write = fault_write,
    .flush = fault_flush,
    .extent = fault_extent,
    .close = fault_close,
};

/* Growable bases (host files) keep growing through the injector. */
static const struct vk_dev_ops fault_ops_growable = {
    .type = "fault",
    .read = fault_read,
    .write = fault_write,
    .flush = fault_flush,
    .extent = fault_extent,
    .set_size = fault_set_size,
    .close = fault_close,
};

int vk_dev_fault(vk_dev *base, enum vk_fault_mode mode, uint64_t after_writes, vk_dev **out, vk_error *err)
{
    vk_dev *dev = calloc(1, sizeof *dev);
    struct fault_priv *priv = calloc(1, sizeof *priv);
    if (!dev || !priv) {
        free(dev);
        free(priv);
        return vk_fail(err, VK_E_NOMEM, base->name, VK_NO_OFFSET, NULL);
    }
    priv->base = base;
    priv->mode = mode;
    priv->after = after_writes;
    dev->ops = base->ops->set_size ? &fault_ops_growable : &fault_ops_fixed;
    dev->priv = priv;
    dev->size = base->size;
    dev->flags = base->flags;
    snprintf(dev->name, sizeof dev->name, "%s", base->name);
    *out = dev;
    return 0;
}

uint64_t vk_dev_fault_writes(vk_dev *dev)
{
    return dev && (dev->ops == &fault_ops_fixed || dev->ops == &fault_ops_growable) ? fp(dev)->writes : 0;
}

int vk_dev_fault_fired(vk_dev *dev)
{
    return dev && (dev->ops == &fault_ops_fixed || dev->ops == &fault_ops_growable) ? fp(dev)->fired : 0;
}
