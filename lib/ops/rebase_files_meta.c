/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rebase --files: what a replayed file or folder carries besides its bytes and times, its security descriptor
 * (owner, permissions) and attribute bits (read-only, hidden, system, ...). Without them a user's new file would
 * get libntfs-3g's default (Everyone: full control) and lose its hidden or read-only bit. */
#include "ops/rebase_files_int.h"

#include <stdlib.h>
#include <string.h>

/* The security descriptor at `path` on `vol`; *sd is NULL (and no error) when the path is not there. */
static int get_sd(vk_ntfs *vol, const char *path, uint8_t **sd, size_t *len, vk_error *err)
{
    int rc = vk_ntfs_get_security(vol, path, sd, len, err);
    if (rc == VK_E_NOTFOUND) {
        vk_error_clear(err);
        return 0;
    }
    return rc;
}

static int same_sd(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return a && b && alen == blen && !memcmp(a, b, alen);
}

int rbf_replay_meta(struct rbf_run *r, const char *path, int fresh, int attrs_changed, uint32_t attrs)
{
    uint8_t *mine = NULL, *old = NULL, *out = NULL;
    size_t mine_len = 0, old_len = 0, out_len = 0;
    int rc = get_sd(r->child.vol, path, &mine, &mine_len, r->err);
    /* An entry OUT already has keeps the update's descriptor unless the user changed theirs (old base -> child). */
    if (!rc && !fresh)
        rc = get_sd(r->old.vol, path, &old, &old_len, r->err);
    int user_changed = fresh || !same_sd(mine, mine_len, old, old_len);
    if (!rc && mine && user_changed)
        rc = get_sd(r->out.vol, path, &out, &out_len, r->err);
    if (!rc && mine && user_changed && !same_sd(mine, mine_len, out, out_len))
        rc = vk_ntfs_set_security(r->out.vol, path, mine, mine_len, r->err);
    free(mine);
    free(old);
    free(out);
    if (!rc && (fresh || attrs_changed))
        rc = vk_ntfs_set_attrs(r->out.vol, path, attrs, r->err);
    return rc;
}
