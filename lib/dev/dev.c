/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vk_dev dispatch: bounds and permission checks applied once for every device type. */
#include "vhdkit/dev.h"

#include "core/checked.h"

int vk_dev_read(vk_dev *dev, void *buf, size_t len, uint64_t off, vk_error *err)
{
    if (!ck_range_inside(off, len, dev->size))
        return vk_fail(err, VK_E_RANGE, dev->name, off, "read of %zu bytes past the end of the device (size %llu)", len,
                       (unsigned long long)dev->size);
    if (!len)
        return 0;
    return dev->ops->read(dev, buf, len, off, err);
}

int vk_dev_write(vk_dev *dev, const void *buf, size_t len, uint64_t off, vk_error *err)
{
    if (!(dev->flags & VK_DEV_WRITABLE))
        return vk_fail(err, VK_E_READONLY, dev->name, off, "device is open read-only");
    /* Host files grow on write; every other device has a fixed size. */
    if (!dev->ops->set_size && !ck_range_inside(off, len, dev->size))
        return vk_fail(err, VK_E_RANGE, dev->name, off, "write of %zu bytes past the end of the device (size %llu)", len,
                       (unsigned long long)dev->size);
    if (!len)
        return 0;
    return dev->ops->write(dev, buf, len, off, err);
}

int vk_dev_flush(vk_dev *dev, vk_error *err)
{
    return dev->ops->flush ? dev->ops->flush(dev, err) : 0;
}

int vk_dev_extent(vk_dev *dev, uint64_t off, uint64_t len, vk_extent *out, vk_error *err)
{
    if (!len || !ck_range_inside(off, len, dev->size))
        return vk_fail(err, VK_E_RANGE, dev->name, off, "extent query outside the device");
    if (!dev->ops->extent) {
        out->kind = VK_EXTENT_DATA;
        out->len = len;
        return 0;
    }
    int rc = dev->ops->extent(dev, off, len, out, err);
    if (!rc && (out->len == 0 || out->len > len))
        out->len = len; /* a device must never answer an empty or oversized run; clamp defensively */
    return rc;
}

int vk_dev_set_size(vk_dev *dev, uint64_t size, vk_error *err)
{
    if (!(dev->flags & VK_DEV_WRITABLE))
        return vk_fail(err, VK_E_READONLY, dev->name, VK_NO_OFFSET, "device is open read-only");
    if (!dev->ops->set_size)
        return vk_fail(err, VK_E_UNSUPPORTED, dev->name, VK_NO_OFFSET, "%s device cannot change size", dev->ops->type);
    return dev->ops->set_size(dev, size, err);
}

void vk_dev_close(vk_dev *dev)
{
    if (dev)
        dev->ops->close(dev);
}
