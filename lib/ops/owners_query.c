/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Questions to the cluster-owner index: the run holding a cluster (binary search), the runs over a cluster range,
 * and a record's path rebuilt from FILE_NAME parent references. */
#include <stdio.h>
#include <string.h>

#include "ops/owners_int.h"

/* Windows paths are far shallower than this; deeper chains only come from loops in a corrupt volume. */
#define PATH_MAX_DEPTH 256
#define ROOT_RECORD 5u

const char *owners_type_name(uint32_t type)
{
    static const struct {
        uint32_t type;
        const char *name;
    } names[] = {
        {0x10, "$STANDARD_INFORMATION"}, {0x20, "$ATTRIBUTE_LIST"}, {0x30, "$FILE_NAME"},
        {0x40, "$OBJECT_ID"},            {0x50, "$SECURITY_DESCRIPTOR"}, {0x60, "$VOLUME_NAME"},
        {0x70, "$VOLUME_INFORMATION"},   {0x80, "$DATA"},           {0x90, "$INDEX_ROOT"},
        {0xa0, "$INDEX_ALLOCATION"},     {0xb0, "$BITMAP"},         {0xc0, "$REPARSE_POINT"},
        {0xd0, "$EA_INFORMATION"},       {0xe0, "$EA"},             {0x100, "$LOGGED_UTILITY_STREAM"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].type == type)
            return names[i].name;
    return "$UNKNOWN";
}

static void fill(const vk_owners *o, const struct orun *r, struct vk_owner *out)
{
    const struct oattr *a = &o->attrs[r->attr];
    *out = (struct vk_owner){
        .mft_record = a->mft,
        .ext_record = a->ext,
        .attr_type = a->type,
        .attr_type_name = owners_type_name(a->type),
        .stream = o->str + a->name,
        .flags = a->flags,
        .run_lcn = r->lcn,
        .run_len = r->len,
        .run_vcn = r->vcn,
    };
}

/* Index of the first run ending after `lcn` (runs are sorted by start and, in a sound volume, do not overlap). */
static uint64_t first_ending_after(const vk_owners *o, uint64_t lcn)
{
    uint64_t lo = 0, hi = o->nruns;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (o->runs[mid].lcn + o->runs[mid].len <= lcn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int vk_owners_find(const vk_owners *o, uint64_t lcn, struct vk_owner *out)
{
    /* Runs overlap only in corrupt volumes; then the sort by start can hide a long run behind a short one, so the
     * plain binary search on the start is used and a few runs before it are checked. */
    uint64_t lo = 0, hi = o->nruns;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (o->runs[mid].lcn <= lcn)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint64_t k = 0; k < 8 && lo > 0; k++, lo--) {
        const struct orun *r = &o->runs[lo - 1];
        if (r->lcn <= lcn && lcn - r->lcn < r->len) {
            fill(o, r, out);
            return 1;
        }
        if (!o->st.overlaps)
            break;
    }
    return 0;
}

int vk_owners_range(const vk_owners *o, uint64_t lcn, uint64_t n, vk_owners_fn fn, void *ctx)
{
    uint64_t end = lcn + n < lcn ? UINT64_MAX : lcn + n;
    for (uint64_t i = first_ending_after(o, lcn); i < o->nruns && o->runs[i].lcn < end; i++) {
        const struct orun *r = &o->runs[i];
        uint64_t a = r->lcn > lcn ? r->lcn : lcn, b = r->lcn + r->len < end ? r->lcn + r->len : end;
        if (a >= b)
            continue;
        struct vk_owner ow;
        fill(o, r, &ow);
        int rc = fn(ctx, &ow, a, b - a);
        if (rc)
            return rc;
    }
    return 0;
}

int vk_owners_path(const vk_owners *o, uint64_t rec, char *buf, size_t cap)
{
    if (!cap)
        return VK_E_RANGE;
    buf[0] = 0;
    if (rec >= o->nrecords || !o->names[rec].name) {
        snprintf(buf, cap, "[record %llu]", (unsigned long long)rec);
        return VK_E_NOTFOUND;
    }
    /* Components are collected leaf first, then written root first. */
    uint32_t chain[PATH_MAX_DEPTH];
    int depth = 0;
    uint64_t cur = rec;
    while (cur != ROOT_RECORD && depth < PATH_MAX_DEPTH && cur < o->nrecords && o->names[cur].name) {
        chain[depth++] = (uint32_t)cur;
        cur = o->names[cur].parent;
    }
    size_t len = 0;
    if (cur != ROOT_RECORD) {
        int w = snprintf(buf, cap, "[record %llu]", (unsigned long long)cur);
        len = w < 0 ? 0 : (size_t)w < cap ? (size_t)w : cap - 1;
    }
    if (!depth && cur == ROOT_RECORD)
        snprintf(buf, cap, "/");
    for (int i = depth - 1; i >= 0 && len + 1 < cap; i--) {
        int w = snprintf(buf + len, cap - len, "/%s", o->str + o->names[chain[i]].name);
        len += w < 0 ? 0 : (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
    return 0;
}

int vk_owners_is_dir(const vk_owners *o, uint64_t rec)
{
    return rec < o->nrecords && (o->names[rec].flags & (ONAME_IN_USE | ONAME_DIR)) == (ONAME_IN_USE | ONAME_DIR);
}

void vk_owners_get_stats(const vk_owners *o, struct vk_owners_stats *st)
{
    *st = o->st;
}
