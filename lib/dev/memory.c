/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory device: a byte array, for unit tests and fuzzing. */
#include "vhdkit/dev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int memory_read(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err)
{
    (void)err;
    memcpy(buf, (uint8_t *)dev->priv + off, len);
    return 0;
}

static int memory_write(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err)
{
    (void)err;
    memcpy((uint8_t *)dev->priv + off, buf, len);
    return 0;
}

static void memory_close(vk_dev *dev)
{
    free(dev->priv);
    free(dev);
}

static const struct vk_dev_ops memory_ops = {
    .type = "memory",
    .read = memory_read,
    .write = memory_write,
    .close = memory_close,
};

int vk_dev_memory(uint64_t size, const void *data, size_t data_len, vk_dev **out, vk_error *err)
{
    if (size > SIZE_MAX || data_len > size)
        return vk_fail(err, VK_E_RANGE, "memory", VK_NO_OFFSET, "memory device of %llu bytes is too large",
                       (unsigned long long)size);
    vk_dev *dev = calloc(1, sizeof *dev);
    uint8_t *bytes = calloc(1, size ? (size_t)size : 1);
    if (!dev || !bytes) {
        free(dev);
        free(bytes);
        return vk_fail(err, VK_E_NOMEM, "memory", VK_NO_OFFSET, NULL);
    }
    if (data_len)
        memcpy(bytes, data, data_len);
    dev->ops = &memory_ops;
    dev->priv = bytes;
    dev->size = size;
    dev->flags = VK_DEV_WRITABLE;
    snprintf(dev->name, sizeof dev->name, "memory");
    *out = dev;
    return 0;
}

uint8_t *vk_dev_memory_bytes(vk_dev *dev)
{
    return dev && dev->ops == &memory_ops ? dev->priv : NULL;
}
