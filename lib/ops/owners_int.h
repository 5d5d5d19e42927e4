/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal: the cluster-owner index of an NTFS volume (runs sorted by cluster, names and parents by MFT record). */
#ifndef VK_OPS_OWNERS_INT_H
#define VK_OPS_OWNERS_INT_H

#include <stdint.h>

#include "vhdkit/ops.h"

/* One non-resident attribute record (an attribute described across extension records has one per record). */
struct oattr {
    uint32_t mft;        /* base record */
    uint32_t ext;        /* record holding this attribute record */
    uint32_t type;
    uint32_t name;       /* offset of the UTF-8 attribute name in the string arena */
    uint32_t flags;      /* vk_owner_flags */
};

/* One run of clusters: 24 bytes, so a million runs cost 24 MiB. */
struct orun {
    uint64_t lcn;
    uint64_t vcn;
    uint32_t len;        /* runs longer than 2^32-1 clusters are split when indexed */
    uint32_t attr;       /* index into attrs */
};

/* What a record is called: its preferred FILE_NAME. */
struct oname {
    uint32_t parent;     /* parent directory record */
    uint32_t name;       /* offset in the string arena, 0 = no name (offset 0 holds "") */
    uint8_t ns;          /* FILE_NAME namespace of the kept name; 0xff when none */
    uint8_t flags;       /* ONAME_* */
};

enum { ONAME_IN_USE = 1, ONAME_DIR = 2 };

struct vk_owners {
    struct orun *runs;
    uint64_t nruns, cap_runs;
    struct oattr *attrs;
    uint64_t nattrs, cap_attrs;
    struct oname *names; /* per record */
    uint64_t nrecords;
    char *str;           /* string arena */
    uint64_t str_len, str_cap;
    struct vk_owners_stats st;
};

/* Type name of an attribute type code ("$DATA"; "$UNKNOWN" for codes NTFS 3.1 does not define). */
const char *owners_type_name(uint32_t type);

#endif
