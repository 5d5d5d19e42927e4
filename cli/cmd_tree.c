/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit tree: the whole directory tree of the NTFS volume with sizes and times (text: indented; JSON: one record
 * per entry with its full path). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const struct opt opts_tree[] = {
    {"all", 'a', NULL, "also the $ metafiles of the root ($MFT, $Bitmap, ...)"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

struct tree {
    struct out *o;
    uint64_t files, dirs, bytes;
};

static int print_node(void *ctx, const char *path, const vk_ntfs_dirent *e, int depth)
{
    struct tree *t = ctx;
    if (e->is_dir)
        t->dirs++;
    else {
        t->files++;
        t->bytes += e->size;
    }
    if (t->o->json) {
        out_dirent(t->o, path, e);
        return 0;
    }
    char m[40];
    format_ntfs_time(e->times.mtime_ns, m);
    m[19] = 0;
    printf("%*s%s%s", 2 * depth, "", e->name, e->is_dir ? "/" : "");
    if (e->is_dir)
        printf("  [%s]\n", m);
    else
        printf("  (%" PRIu64 " bytes, %s)\n", e->size, m);
    return 0;
}

int cmd_tree(struct ctx *c)
{
    struct vol v;
    int st = vol_open(c, c->args.pos[0], false, &v);
    if (st)
        return st;
    char *path = vol_path(c->args.npos > 1 ? c->args.pos[1] : "/");
    vk_error err = {0};
    struct out o;
    out_init(&o, stdout, c->json);
    struct tree t = {&o, 0, 0, 0};
    int rc = 0;
    if (!path)
        rc = vk_fail(&err, VK_E_NOMEM, v.image, VK_NO_OFFSET, NULL);
    if (c->json) {
        out_begin(&o);
        out_str(&o, "image", v.image);
        out_u64(&o, "partition", v.part);
        out_str(&o, "root", path ? path : "");
        out_array(&o, "entries");
    } else if (path) {
        printf("%s\n", path);
    }
    if (!rc)
        rc = vol_walk(&v, path, arg_has(&c->args, "all") ? VK_NTFS_LS_META : 0, true, print_node, &t, &err);
    if (c->json) {
        out_close(&o);
        out_u64(&o, "directories", t.dirs);
        out_u64(&o, "files", t.files);
        out_u64(&o, "bytes", t.bytes);
        out_end(&o);
    } else if (!rc) {
        printf("%" PRIu64 " directories, %" PRIu64 " files, %" PRIu64 " bytes\n", t.dirs, t.files, t.bytes);
    }
    free(path);
    st = rc ? report_error(&err) : 0;
    int cst = vol_close(&v);
    return st ? st : cst;
}
