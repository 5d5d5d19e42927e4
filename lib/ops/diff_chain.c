/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff's shortcut: when both images sit on one chain ancestor, sectors that no image above it stores (on either side)
 * read the same bytes on both sides, so a file whose clusters all lie there needs no reading. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ops/diff_int.h"

struct ident {
    dev_t dev;
    ino_t ino;
};

/* The host file identity of each image of a chain, top first. */
static unsigned chain_ids(vk_vhd *v, vk_vhd **imgs, struct ident *ids)
{
    unsigned n = 0;
    for (; v && n < VK_VHD_MAX_CHAIN_DEPTH; v = vk_vhd_parent(v)) {
        struct stat st;
        int fd = vk_dev_file_fd(vk_vhd_file(v));
        if (fd < 0 || fstat(fd, &st))
            break; /* an image we cannot identify ends what can be shared */
        imgs[n] = v;
        ids[n].dev = st.st_dev;
        ids[n].ino = st.st_ino;
        n++;
    }
    return n;
}

void diff_chain_find(vk_vhd *a, vk_vhd *b, struct diff_chain *c)
{
    memset(c, 0, sizeof *c);
    vk_vhd *ia[VK_VHD_MAX_CHAIN_DEPTH], *ib[VK_VHD_MAX_CHAIN_DEPTH];
    struct ident da[VK_VHD_MAX_CHAIN_DEPTH], db[VK_VHD_MAX_CHAIN_DEPTH];
    unsigned na = chain_ids(a, ia, da), nb = chain_ids(b, ib, db);
    /* The first image of A's chain that B's chain holds too: everything below it is common as well. Identity is the
     * host file, not the UUID: a copied base keeps its UUID but may since have been changed. */
    for (unsigned i = 0; i < na; i++)
        for (unsigned j = 0; j < nb; j++) {
            if (da[i].dev != db[j].dev || da[i].ino != db[j].ino)
                continue;
            c->shared = 1;
            for (unsigned k = 0; k < i; k++)
                c->above[0][k] = vk_vhd_dev(ia[k]);
            for (unsigned k = 0; k < j; k++)
                c->above[1][k] = vk_vhd_dev(ib[k]);
            c->n[0] = i;
            c->n[1] = j;
            snprintf(c->ancestor, sizeof c->ancestor, "%s", vk_vhd_path(ia[i]));
            return;
        }
}

int diff_chain_untouched(const struct diff_chain *c, uint64_t off, uint64_t len, vk_error *err)
{
    if (!c->shared)
        return 0;
    for (int s = 0; s < 2; s++)
        for (unsigned k = 0; k < c->n[s]; k++) {
            vk_dev *dev = c->above[s][k];
            if (off > dev->size || len > dev->size - off)
                return 0; /* past this image's end: not ours to judge */
            /* Images above an ancestor are differencing ones: each range is stored here (DATA) or read from the
             * parent (PARENT). Anything but PARENT counts as stored. */
            for (uint64_t p = off, end = off + len; p < end;) {
                vk_extent e;
                int rc = vk_dev_extent(dev, p, end - p, &e, err);
                if (rc)
                    return rc;
                if (e.kind != VK_EXTENT_PARENT)
                    return 0;
                if (!e.len)
                    return 0;
                p += e.len;
            }
        }
    return 1;
}
