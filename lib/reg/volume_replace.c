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
 * removes the others (start_clean). */
#include "reg/reg_int.h"
#include "reg/volume_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEW_SUFFIX ".vhdkit-new"
#define CI_MAX 8 /* names equal but for case kept when listing a folder; more is not something a commit makes */

struct names {
    const char *leaf;              /* the name asked for */
    char same[CI_MAX][VK_REG_FILE_MAX];
    size_t nsame;                  /* names equal to leaf but for case (exact first when present) */
    char tmp[CI_MAX][VK_REG_FILE_MAX];
    size_t ntmp;                   /* names equal to leaf + NEW_SUFFIX but for case */
};

static int collect(void *ctx, const vk_ntfs_dirent *e)
{
    struct names *n = ctx;
    char with_suffix[VK_REG_FILE_MAX];
    snprintf(with_suffix, sizeof with_suffix, "%s" NEW_SUFFIX, n->leaf);
    size_t l = strlen(e->name);
    if (l >= VK_REG_FILE_MAX)
        return 0; /* longer than either name looked for */
    if (!strcasecmp(e->name, n->leaf) && n->nsame < CI_MAX && !e->is_dir) {
        memcpy(n->same[n->nsame], e->name, l + 1);
        /* The exact name first: it is the one lookups take. */
        if (!strcmp(e->name, n->leaf) && n->nsame) {
            char t[VK_REG_FILE_MAX];
            memcpy(t, n->same[0], sizeof t);
            memcpy(n->same[0], n->same[n->nsame], sizeof t);
            memcpy(n->same[n->nsame], t, sizeof t);
        }
        n->nsame++;
    } else if (!strcasecmp(e->name, with_suffix) && n->ntmp < CI_MAX) {
        memcpy(n->tmp[n->ntmp++], e->name, l + 1);
    }
    return 0;
}

static int join(char *out, const char *dir, const char *leaf, vk_error *err)
{
    int w = snprintf(out, VK_REG_FILE_MAX, "%s%s%s", dir, *dir ? "/" : "", leaf);
    if (w < 0 || w >= VK_REG_FILE_MAX)
        return vk_fail(err, VK_E_RANGE, NULL, VK_NO_OFFSET, "%s/%s: path too long", dir, leaf);
    return 0;
}

static int step(vk_ntfs *vol, int rc, vk_error *err) { return rc ? rc : vk_ntfs_sync(vol, err); }

/* Leftovers of an interrupted commit: several names equal but for case (the first, which lookups take, stays) and
 * NAME.vhdkit-new (a whole or partial new hive that never became the hive). */
static int start_clean(vk_ntfs *vol, const char *dir, struct names *n, vk_error *err)
{
    char p[VK_REG_FILE_MAX];
    int rc = 0;
    for (size_t i = 1; !rc && i < n->nsame; i++)
        if (!(rc = join(p, dir, n->same[i], err)))
            rc = step(vol, vk_ntfs_unlink(vol, p, err), err);
    for (size_t i = 0; !rc && i < n->ntmp; i++)
        if (!(rc = join(p, dir, n->tmp[i], err)))
            rc = step(vol, vk_ntfs_unlink(vol, p, err), err);
    return rc;
}

/* NAME with the case of its first letter flipped ("SYSTEM" -> "sYSTEM"). */
static int case_twin(const char *name, char *out, vk_error *err)
{
    snprintf(out, VK_REG_FILE_MAX, "%s", name);
    for (char *c = out; *c; c++)
        if (isalpha((unsigned char)*c)) {
            *c = (char)(isupper((unsigned char)*c) ? tolower((unsigned char)*c) : toupper((unsigned char)*c));
            return 0;
        }
    return vk_fail(err, VK_E_UNSUPPORTED, NULL, VK_NO_OFFSET, "%s: a name without letters cannot be replaced safely",
                   name);
}

static int replace(vk_ntfs *vol, const char *hive_file, const uint8_t *data, size_t len, vk_error *err)
{
    char dir[VK_REG_FILE_MAX];
    snprintf(dir, sizeof dir, "%s", hive_file);
    char *slash = strrchr(dir, '/');
    const char *leaf = slash ? slash + 1 : dir;
    if (slash)
        *slash = '\0';
    struct names n = {.leaf = leaf};
    char leafcopy[VK_REG_FILE_MAX];
    snprintf(leafcopy, sizeof leafcopy, "%s", leaf);
    n.leaf = leafcopy;
    if (!slash)
        dir[0] = '\0';
    int rc = vk_ntfs_readdir(vol, *dir ? dir : "/", 0, collect, &n, err);
    if (rc)
        return rc;
    if (!n.nsame)
        return vk_fail(err, VK_E_NOTFOUND, hive_file, VK_NO_OFFSET, "the hive file is gone");
    if ((rc = start_clean(vol, dir, &n, err)))
        return rc;
    char name[VK_REG_FILE_MAX], tmp[VK_REG_FILE_MAX], twin[VK_REG_FILE_MAX], tmp_leaf[VK_REG_FILE_MAX + 16];
    snprintf(tmp_leaf, sizeof tmp_leaf, "%s" NEW_SUFFIX, n.same[0]);
    char twin_leaf[VK_REG_FILE_MAX];
    if ((rc = case_twin(n.same[0], twin_leaf, err)) || (rc = join(name, dir, n.same[0], err)) ||
        (rc = join(tmp, dir, tmp_leaf, err)) || (rc = join(twin, dir, twin_leaf, err)))
        return rc;
    /* 1. The whole new hive under a name no lookup of the hive takes. */
    rc = step(vol, vk_ntfs_pwrite(vol, tmp, VK_NTFS_CREATE | VK_NTFS_EXCL, data, len, 0, err), err);
    /* 2.-5. */
    if (!rc)
        rc = step(vol, vk_ntfs_link(vol, tmp, twin, err), err);
    if (!rc)
        rc = step(vol, vk_ntfs_unlink(vol, name, err), err);
    if (!rc)
        rc = step(vol, vk_ntfs_link(vol, tmp, name, err), err);
    if (!rc)
        rc = step(vol, vk_ntfs_unlink(vol, twin, err), err);
    if (!rc)
        rc = step(vol, vk_ntfs_unlink(vol, tmp, err), err);
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
