/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Committing a hive back into its NTFS volume: an atomic replacement built from links (libntfs-3g has no rename),
 * then the logs emptied after a replay.
 *
 * The order, for a hive stored as NAME in folder DIR (every step is synced before the next):
 *   1. DIR/NAME.vhdkit-new gets the whole new hive;
 *   2. it is linked as TEMP, NAME with the case of one letter flipped (a second name of the new file);
 *   3. NAME, the old hive, is unlinked;
 *   4. the new file is linked as NAME;
 *   5. TEMP and NAME.vhdkit-new are unlinked.
 * Lookups take the exact name first and otherwise a name equal but for case, as Windows does (and vk_ntfs), so at
 * every write the hive's name reaches a whole hive: the old one up to step 3, TEMP (the new one) between 3 and 4,
 * the new one after. A commit that finds leftovers of an interrupted one first keeps the name lookups reach and
 * removes the others, including the half-made names a write cut inside libntfs-3g leaves (vk_ntfs_unlink). */
#include "reg/reg_int.h"
#include "reg/volume_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEW_SUFFIX ".vhdkit-new"

/* `name` with the case of its n-th letter flipped (n = 0: "SYSTEM" -> "sYSTEM", n = 1: "SySTEM"). */
static int case_twin(const char *name, int n, char *out, vk_error *err)
{
    snprintf(out, VK_REG_FILE_MAX, "%s", name);
    for (char *c = out; *c; c++)
        if (isalpha((unsigned char)*c) && n-- == 0) {
            *c = (char)(isupper((unsigned char)*c) ? tolower((unsigned char)*c) : toupper((unsigned char)*c));
            return 0;
        }
    return vk_fail(err, VK_E_UNSUPPORTED, NULL, VK_NO_OFFSET, "%s: a name with fewer than two letters cannot be "
                   "replaced safely", name);
}

static int join(char *out, const char *dir, const char *leaf, vk_error *err)
{
    int w = snprintf(out, VK_REG_FILE_MAX, "%s%s%s", dir, *dir ? "/" : "", leaf);
    if (w < 0 || w >= VK_REG_FILE_MAX)
        return vk_fail(err, VK_E_RANGE, NULL, VK_NO_OFFSET, "%s/%s: path too long", dir, leaf);
    return 0;
}

static int step(vk_ntfs *vol, int rc, vk_error *err) { return rc ? rc : vk_ntfs_sync(vol, err); }

/* The stored name of `leaf` in `dir` when it differs from `leaf` in case (a hive Windows named "system"). */
struct stored {
    const char *leaf;
    char name[VK_REG_FILE_MAX];
};

static int find_stored(void *ctx, const vk_ntfs_dirent *e)
{
    struct stored *s = ctx;
    size_t n = strlen(e->name);
    if (e->is_dir || n >= VK_REG_FILE_MAX || strcasecmp(e->name, s->leaf))
        return 0;
    memcpy(s->name, e->name, n + 1);
    return 1;
}

enum { N_FINAL, N_TWIN1, N_TWIN2, N_NEW, N_COUNT };

/* The new file takes the old hive's creation time: to Windows, backup tools and `vhdkit diff` it is the same hive,
 * rewritten (its other times are the write's, as when Windows saves a hive). */
static int keep_created(vk_ntfs *vol, const char *old, const char *new_path, vk_error *err)
{
    vk_ntfs_stat o, n;
    int rc = vk_ntfs_stat_path(vol, old, &o, err);
    if (rc)
        return rc;
    int64_t created = o.times.crtime_ns;
    vk_ntfs_stat_free(&o);
    if ((rc = vk_ntfs_stat_path(vol, new_path, &n, err)))
        return rc;
    vk_ntfs_times t = n.times;
    vk_ntfs_stat_free(&n);
    t.crtime_ns = created;
    return vk_ntfs_set_times(vol, new_path, &t, err);
}

static int replace(vk_ntfs *vol, const char *hive_file, const uint8_t *data, size_t len, vk_error *err)
{
    char dir[VK_REG_FILE_MAX];
    struct stored st = {0};
    snprintf(dir, sizeof dir, "%s", hive_file);
    char *slash = strrchr(dir, '/');
    snprintf(st.name, sizeof st.name, "%s", slash ? slash + 1 : dir);
    if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
    /* The names a commit uses: the hive's (FINAL), two case twins, NAME.vhdkit-new. */
    char leaf[N_COUNT][VK_REG_FILE_MAX], path[N_COUNT][VK_REG_FILE_MAX];
    int state[N_COUNT];
    int rc = 0;
    for (int pass = 0; pass < 2; pass++) {
        snprintf(leaf[N_FINAL], VK_REG_FILE_MAX, "%s", st.name);
        int w = snprintf(leaf[N_NEW], VK_REG_FILE_MAX, "%s" NEW_SUFFIX, st.name);
        if (w < 0 || w >= VK_REG_FILE_MAX)
            return vk_fail(err, VK_E_RANGE, hive_file, VK_NO_OFFSET, "name too long");
        if ((rc = case_twin(st.name, 0, leaf[N_TWIN1], err)) || (rc = case_twin(st.name, 1, leaf[N_TWIN2], err)))
            return rc;
        for (int i = 0; i < N_COUNT; i++) {
            if ((rc = join(path[i], dir, leaf[i], err)))
                return rc;
            if ((state[i] = vk_ntfs_name_state(vol, path[i], err)) < 0)
                return state[i];
        }
        if (pass || state[N_FINAL] || state[N_TWIN1] || state[N_TWIN2])
            break;
        /* Stored in another case than asked for: work with the stored name. */
        char leafcopy[VK_REG_FILE_MAX];
        memcpy(leafcopy, leaf[N_FINAL], sizeof leafcopy);
        st.leaf = leafcopy;
        rc = vk_ntfs_readdir(vol, *dir ? dir : "/", 0, find_stored, &st, err);
        if (rc < 0)
            return rc;
        if (!rc)
            return vk_fail(err, VK_E_NOTFOUND, hive_file, VK_NO_OFFSET, "the hive file is gone");
    }
    /* Leftovers of an interrupted commit: keep the name lookups take (the hive's own first, else a twin), drop the
     * rest, dangling entries included. Every name kept or dropped reaches a whole hive. */
    int keep = state[N_FINAL] == VK_NTFS_NAME_REAL   ? N_FINAL
               : state[N_TWIN1] == VK_NTFS_NAME_REAL ? N_TWIN1
               : state[N_TWIN2] == VK_NTFS_NAME_REAL ? N_TWIN2
                                                     : -1;
    if (keep < 0)
        return vk_fail(err, VK_E_CORRUPT, hive_file, VK_NO_OFFSET,
                       "its directory entry leads to no file of that name: run chkdsk in Windows");
    for (int i = 0; !rc && i < N_COUNT; i++)
        if (i != keep && state[i] != VK_NTFS_NAME_NONE)
            rc = step(vol, vk_ntfs_unlink(vol, path[i], err), err);
    if (rc)
        return rc;
    int twin = keep == N_TWIN1 ? N_TWIN2 : N_TWIN1;
    /* 1. The whole new hive under a name no lookup of the hive takes. */
    rc = vk_ntfs_pwrite(vol, path[N_NEW], VK_NTFS_CREATE | VK_NTFS_EXCL, data, len, 0, err);
    rc = step(vol, rc ? rc : keep_created(vol, path[keep], path[N_NEW], err), err);
    /* 2.-5. */
    if (!rc)
        rc = step(vol, vk_ntfs_link(vol, path[N_NEW], path[twin], err), err);
    if (!rc)
        rc = step(vol, vk_ntfs_unlink(vol, path[keep], err), err);
    if (!rc)
        rc = step(vol, vk_ntfs_link(vol, path[N_NEW], path[N_FINAL], err), err);
    if (!rc)
        rc = step(vol, vk_ntfs_unlink(vol, path[twin], err), err);
    if (!rc)
        rc = step(vol, vk_ntfs_unlink(vol, path[N_NEW], err), err);
    return rc;
}

/* Windows empties the logs once a recovered hive is written back; only then (the new hive is clean and whole) is
 * it safe: a crash before leaves the new clean hive, whose stale logs nothing replays. */
static int reset_logs(vk_ntfs *vol, const char *hive_file, vk_error *err)
{
    static const char *const suffix[] = {".LOG1", ".LOG2", ".LOG"};
    for (size_t i = 0; i < 3; i++) {
        char p[VK_REG_FILE_MAX + 8];
        snprintf(p, sizeof p, "%s%s", hive_file, suffix[i]);
        int e = vk_ntfs_exists(vol, p, err);
        if (e < 0)
            return e;
        if (e) {
            int rc = step(vol, vk_ntfs_truncate(vol, p, 0, err), err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int vk_reg_volume_commit(vk_ntfs *vol, const char *hive_file, vk_reg_hive *h, vk_error *err)
{
    uint8_t *data;
    size_t len;
    int rc = vk_reg_hive_commit(h, &data, &len, err);
    if (rc) {
        if (err && !err->file[0])
            snprintf(err->file, sizeof err->file, "%s", hive_file);
        return rc;
    }
    rc = replace(vol, hive_file, data, len, err);
    free(data);
    if (!rc && vk_reg_hive_replayed(h))
        rc = reset_logs(vol, hive_file, err);
    return rc;
}
