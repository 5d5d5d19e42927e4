/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit check: structural consistency of an image and its chain (lib/ops/check.c); exit 0 clean, 1 problems. */
#include "cli.h"
#include "vhdkit/ops.h"

const struct opt opts_check[] = {
    {NULL, 0, NULL, NULL},
};

int cmd_check(struct ctx *c)
{
    const char *path = c->args.pos[0];
    struct vk_check_report rep;
    vk_error err = {0};
    int rc = vk_check_image(path, &rep, &err);
    if (rc)
        return report_error(&err);
    struct out o;
    out_init(&o, stdout, c->json);
    if (c->json) {
        out_begin(&o);
        out_str(&o, "image", path);
        out_u64(&o, "images_checked", (uint64_t)rep.images_checked);
        out_u64(&o, "errors", rep.errors);
        out_u64(&o, "warnings", rep.warnings);
        out_u64(&o, "notes", rep.notes);
        out_array(&o, "problems");
        for (size_t i = 0; i < rep.count; i++) {
            const struct vk_check_problem *p = &rep.problems[i];
            out_object(&o, NULL);
            out_str(&o, "severity", vk_check_severity_name(p->severity));
            out_str(&o, "file", p->file);
            if (p->has_offset)
                out_u64(&o, "offset", p->offset);
            out_str(&o, "what", p->what);
            out_close(&o);
        }
        out_close(&o);
        out_end(&o);
    } else {
        for (size_t i = 0; i < rep.count; i++) {
            const struct vk_check_problem *p = &rep.problems[i];
            if (p->has_offset)
                printf("%s: %s: %s (offset 0x%llx)\n", p->file, vk_check_severity_name(p->severity), p->what,
                       (unsigned long long)p->offset);
            else
                printf("%s: %s: %s\n", p->file, vk_check_severity_name(p->severity), p->what);
        }
        printf("%s: %zu error%s, %zu warning%s, %zu note%s in %d image%s\n", path, rep.errors,
               rep.errors == 1 ? "" : "s", rep.warnings, rep.warnings == 1 ? "" : "s", rep.notes,
               rep.notes == 1 ? "" : "s", rep.images_checked, rep.images_checked == 1 ? "" : "s");
    }
    int status = rep.errors || rep.warnings ? EXIT_PROBLEMS : EXIT_OK;
    vk_check_report_free(&rep);
    return status;
}
