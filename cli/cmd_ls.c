/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit ls: the entries of a directory of the NTFS volume (or one file), optionally long and recursive. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct opt opts_ls[] = {
    {"long", 'l', NULL, "type, size, modification time and MFT record of each entry"},
    {"recursive", 'R', NULL, "the whole subtree, one full path a line"},
    {"all", 'a', NULL, "also the $ metafiles of the root ($MFT, $Bitmap, ...)"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

struct ls {
    struct out *o;
    bool json, lng, recursive;
};

static int print_entry(void *ctx, const char *path, const vk_ntfs_dirent *e, int depth)
{
    (void)depth;
    struct ls *l = ctx;
    if (l->json) {
        out_dirent(l->o, path, e);
        return 0;
    }
    const char *shown = l->recursive ? path : e->name;
    if (l->lng) {
        char t[40];
        format_ntfs_time(e->times.mtime_ns, t);
        t[19] = 0; /* seconds are enough in a listing */
        printf("%c %12" PRIu64 "  %s  %8" PRIu64 "  %s%s\n", e->is_dir ? 'd' : '-', e->size, t, e->mft, shown,
               e->is_dir ? "/" : "");
    } else {
        printf("%s%s\n", shown, e->is_dir ? "/" : "");
    }
    return 0;
}

/* `ls FILE` shows that file alone, as ls(1) does. */
static int list_file(struct vol *v, const char *path, struct ls *l, vk_error *err)
{
    vk_ntfs_stat st;
    int rc = vk_ntfs_stat_path(v->ntfs, path, &st, err);
    if (rc)
        return rc;
    vk_ntfs_dirent e;
    memset(&e, 0, sizeof e);
    const char *slash = strrchr(path, '/');
    snprintf(e.name, sizeof e.name, "%s", slash ? slash + 1 : path);
    e.mft = st.mft;
    e.is_dir = st.is_dir;
    e.size = st.size;
    e.file_attrs = st.file_attrs;
    e.times = st.times;
    vk_ntfs_stat_free(&st);
    if (e.is_dir)
        return 1;
    print_entry(l, path, &e, 0);
    return 0;
}

int cmd_ls(struct ctx *c)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[0], false, &v);
    if (st)
        return st;
    char *path = vol_path(c->args.npos > 1 ? c->args.pos[1] : "/");
    vk_error err = {0};
    struct out o;
    out_init(&o, stdout, c->json);
    struct ls l = {&o, c->json, arg_has(&c->args, "long"), arg_has(&c->args, "recursive")};
    out_begin(&o);
    if (c->json) {
        out_str(&o, "image", v.image);
        out_u64(&o, "partition", v.part);
        out_str(&o, "path", path ? path : "");
        out_array(&o, "entries");
    }
    int rc = path ? list_file(&v, path, &l, &err) : vk_fail(&err, VK_E_NOMEM, v.image, VK_NO_OFFSET, NULL);
    if (rc == 1)
        rc = vol_walk(&v, path, arg_has(&c->args, "all") ? VK_NTFS_LS_META : 0, l.recursive, print_entry, &l, &err);
    if (c->json)
        out_close(&o);
    out_end(&o);
    free(path);
    st = rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}
