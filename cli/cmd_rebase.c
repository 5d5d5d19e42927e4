/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit rebase: change a differencing image's parent while keeping exactly what it shows; with --files, replay the
 * child's file changes onto an updated base into a new child of it (conflicts reported, exit 1). */
#include <string.h>

#include "cli.h"
#include "vhdkit/ops.h"
#include "vhdkit/rebase_files.h"

const struct opt opts_rebase[] = {
    {"no-drop", 0, NULL, "keep child sectors that equal the new parent (default: give them back)"},
    {"files", 0, NULL, "replay CHILD's file changes (relative to its parent, the old base) onto NEWPARENT, an updated "
                       "base, into a new child -o OUT; CHILD is only read"},
    {"output", 'o', "OUT", "--files: the new child of NEWPARENT to make"},
    {"old-base", 0, "PATH", "--files: the old base; refused unless it is CHILD's parent"},
    {"prefer", 0, "update|user", "--files: whose version a conflict keeps (default: update)"},
    {"force", 0, NULL, "--files: replace OUT when it exists"},
    OPT_PART,
    {NULL, 0, NULL, NULL},
};

static const char *kind_verb(enum vk_diff_kind k)
{
    return k == VK_DIFF_ADDED ? "added" : k == VK_DIFF_REMOVED ? "removed" : "changed";
}

static const char kind_mark[] = {'+', '-', 'M'};

/* A registry value is shown as "KEY [NAME]" ("[@]" for the default value, as .reg files name it). */
static void print_path(const struct vk_rbf_item *it)
{
    fputs(it->path, stdout);
    if (it->value)
        printf(" [%s]", it->value[0] ? it->value : "@");
}

static void print_text(const struct vk_rbf_result *r, const char *out, const char *parent, bool user)
{
    for (size_t i = 0; i < r->nitems; i++) {
        const struct vk_rbf_item *it = &r->items[i];
        static const char marks[] = {'+', 'C', '=', 'S'};
        printf("%c ", it->outcome == VK_RBF_APPLIED ? kind_mark[it->user] : marks[it->outcome]);
        print_path(it);
        switch (it->outcome) {
        case VK_RBF_APPLIED:
            printf("%s%s%s\n", it->note ? " (" : "", it->note ? it->note : "", it->note ? ")" : "");
            break;
        case VK_RBF_CONFLICT:
            printf(": user %s, update %s%s%s: kept the %s's version%s%s\n", kind_verb(it->user),
                   kind_verb(it->update), it->update_path ? " " : "", it->update_path ? it->update_path : "",
                   it->kept_user ? "user" : "update", it->note ? "; " : "", it->note ? it->note : "");
            break;
        case VK_RBF_SAME:
            printf(": the same change on both sides\n");
            break;
        case VK_RBF_SKIPPED:
            printf(": %s\n", it->note);
            break;
        }
    }
    printf("%s: new child of %s: %llu applied, %llu conflicts (kept the %s's version), %llu same on both sides, "
           "%llu skipped\n",
           out, parent, (unsigned long long)r->applied, (unsigned long long)r->conflicts, user ? "user" : "update",
           (unsigned long long)r->same, (unsigned long long)r->skipped);
    if (r->hives_merged)
        printf("%s: %llu registry hives merged key by key\n", out, (unsigned long long)r->hives_merged);
    if (r->hives_not_merged)
        printf("%s: %llu registry hive files the user changed were not merged (their settings are not in %s)\n", out,
               (unsigned long long)r->hives_not_merged, out);
}

static void print_json(const struct vk_rbf_result *r, const char *out, const char *parent, bool user)
{
    struct out o;
    out_init(&o, stdout, true);
    out_begin(&o);
    out_str(&o, "output", out);
    out_str(&o, "parent", parent);
    out_str(&o, "old_base", r->old_base);
    out_u64(&o, "partition", r->part);
    out_str(&o, "policy", user ? "user" : "update");
    static const enum vk_rbf_outcome order[] = {VK_RBF_APPLIED, VK_RBF_CONFLICT, VK_RBF_SAME, VK_RBF_SKIPPED};
    static const char *const keys[] = {"applied", "conflicts", "same", "skipped"};
    for (unsigned k = 0; k < 4; k++) {
        out_array(&o, keys[k]);
        for (size_t i = 0; i < r->nitems; i++) {
            const struct vk_rbf_item *it = &r->items[i];
            if (it->outcome != order[k])
                continue;
            out_object(&o, NULL);
            out_str(&o, "path", it->path);
            if (it->registry) {
                out_str(&o, "type", it->value ? "registry value" : "registry key");
                if (it->value)
                    out_str(&o, "value", it->value);
            } else
                out_str(&o, "type", vk_diff_type_name(it->type));
            out_str(&o, "user", vk_diff_kind_name(it->user));
            if (it->has_update)
                out_str(&o, "update", vk_diff_kind_name(it->update));
            if (it->update_path)
                out_str(&o, "update_path", it->update_path);
            if (it->outcome == VK_RBF_CONFLICT)
                out_str(&o, "kept", it->kept_user ? "user" : "update");
            if (it->note)
                out_str(&o, it->outcome == VK_RBF_SKIPPED ? "reason" : "note", it->note);
            out_close(&o);
        }
        out_close(&o);
    }
    out_u64(&o, "hives_merged", r->hives_merged);
    out_u64(&o, "hives_not_merged", r->hives_not_merged);
    out_u64(&o, "bytes_written", r->bytes_written);
    out_u64(&o, "user_changes", r->user_changes);
    out_u64(&o, "update_changes", r->update_changes);
    out_end(&o);
}

/* libntfs-3g's warnings (errors reach the user through the failing call's vk_error), as the file commands print them. */
static void ntfs_warning(void *ctx, enum vk_ntfs_log_level level, const char *msg)
{
    (void)ctx;
    if (level == VK_NTFS_LOG_WARNING)
        fprintf(stderr, "vhdkit: rebase: libntfs-3g: %s\n", msg);
}

static int rebase_files(struct ctx *c)
{
    const char *out = arg_str(&c->args, "output");
    if (!out)
        return usage_error(c->cmd->name, "--files needs -o OUT (the new child of NEWPARENT)");
    if (arg_has(&c->args, "no-drop"))
        return usage_error(c->cmd->name, "--no-drop is for the sector rebase, not --files");
    struct vk_rbf_opts o = {.old_base = arg_str(&c->args, "old-base"), .log = ntfs_warning};
    const char *prefer = arg_str(&c->args, "prefer");
    if (prefer && strcmp(prefer, "update") && strcmp(prefer, "user"))
        return usage_error(c->cmd->name, "--prefer takes 'update' or 'user', not '%s'", prefer);
    bool user = prefer && !strcmp(prefer, "user");
    o.flags = (user ? VK_RBF_PREFER_USER : 0) | (arg_has(&c->args, "force") ? VK_RBF_FORCE : 0);
    int st = vol_part_arg(c, &o.part);
    if (st)
        return st;
    struct vk_rbf_result r;
    vk_error err = {0};
    int rc = vk_rebase_files(c->args.pos[0], c->args.pos[1], out, &o, &r, &err);
    if (rc) {
        vk_rbf_result_free(&r);
        return report_error(&err);
    }
    if (c->json)
        print_json(&r, out, c->args.pos[1], user);
    else
        print_text(&r, out, c->args.pos[1], user);
    st = r.conflicts || r.hives_not_merged ? EXIT_PROBLEMS : EXIT_OK;
    vk_rbf_result_free(&r);
    return st;
}

int cmd_rebase(struct ctx *c)
{
    if (arg_has(&c->args, "files"))
        return rebase_files(c);
    static const char *const files_only[] = {"output", "old-base", "prefer", "force", "part"};
    for (unsigned i = 0; i < sizeof files_only / sizeof *files_only; i++)
        if (arg_has(&c->args, files_only[i]))
            return usage_error(c->cmd->name, "--%s goes with --files", files_only[i]);
    struct progress p;
    progress_begin(&p, "rebasing", 0);
    struct vk_chain_result r = {.progress = progress_cb, .progress_ctx = &p};
    vk_error err = {0};
    int rc = vk_rebase(c->args.pos[0], c->args.pos[1], arg_has(&c->args, "no-drop") ? VK_CHAIN_NO_DROP : 0, &r, &err);
    progress_end(&p);
    if (rc)
        return report_error(&err);
    print_chain_result(c, "now has parent", c->args.pos[0], &r, "note");
    if (!c->json)
        printf("  copied %llu bytes into the child, dropped %llu bytes equal to the new parent\n",
               (unsigned long long)r.bytes_copied, (unsigned long long)r.bytes_dropped);
    return 0;
}
