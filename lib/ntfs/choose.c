/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DESIGN.md's volume rule: --part N, else the Windows volume, else the only NTFS volume, else list the choices. */
#include "ntfs/ntfs_int.h"

#include <stdio.h>
#include <string.h>

#include "vhdkit/part.h"

static int open_part(vk_dev *disk, const vk_part *p, const vk_ntfs_opts *opts, vk_ntfs **vol, vk_dev **win,
                     vk_error *err)
{
    int rc = vk_part_window(disk, p, win, err);
    if (rc)
        return rc;
    rc = vk_ntfs_mount_opts(*win, opts, vol, err);
    if (rc) {
        vk_dev_close(*win);
        *win = NULL;
    }
    return rc;
}

int vk_ntfs_choose(vk_dev *disk, unsigned part, const vk_ntfs_opts *opts, vk_ntfs **vol, vk_dev **vol_dev,
                   unsigned *chosen, vk_error *err)
{
    *vol = NULL;
    *vol_dev = NULL;
    vk_part_table t;
    int rc = vk_part_read(disk, &t, err);
    if (rc)
        return rc;
    const vk_part *pick = NULL;
    if (part) {
        pick = vk_part_find(&t, part);
        if (!pick)
            rc = vk_fail(err, VK_E_USAGE, disk->name, VK_NO_OFFSET, "no partition %u on this disk", part);
    } else {
        /* Probe each partition read-only, quietly. */
        const vk_part *ntfs_one = NULL, *win_one = NULL;
        unsigned n_ntfs = 0, n_win = 0;
        char list[VK_ERR_MSG_MAX] = "";
        size_t used = 0;
        for (unsigned i = 0; i < t.count; i++) {
            const vk_part *p = &t.parts[i];
            if (p->flags & VK_PART_CONTAINER)
                continue;
            vk_ntfs *probe;
            vk_dev *win;
            int is_ntfs = open_part(disk, p, &(vk_ntfs_opts){.flags = VK_NTFS_RDONLY}, &probe, &win, NULL) == 0;
            int is_win = is_ntfs && vk_ntfs_is_windows(probe);
            if (is_ntfs) {
                vk_ntfs_unmount(probe, NULL);
                vk_dev_close(win);
                n_ntfs++;
                ntfs_one = p;
            }
            if (is_win) {
                n_win++;
                win_one = p;
            }
            int w = snprintf(list + used, sizeof list - used, "%s%u (%s)", used ? ", " : "", p->number,
                             is_win ? "NTFS, Windows" : is_ntfs ? "NTFS" : p->type_name);
            if (w > 0 && (size_t)w < sizeof list - used)
                used += (size_t)w;
        }
        if (n_win == 1)
            pick = win_one;
        else if (n_win == 0 && n_ntfs == 1)
            pick = ntfs_one;
        else
            rc = vk_fail(err, VK_E_USAGE, disk->name, VK_NO_OFFSET, "%s: choose one with --part: %s",
                         n_win > 1 ? "several Windows volumes" : n_ntfs ? "several NTFS volumes" : "no NTFS volume",
                         used ? list : "no partitions");
    }
    if (!rc) {
        rc = open_part(disk, pick, opts, vol, vol_dev, err);
        if (!rc && chosen)
            *chosen = pick->number;
    }
    vk_part_table_free(&t);
    return rc;
}
