/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole-image operations the command line is built on: structural check and conversion between image types. */
#ifndef VHDKIT_OPS_H
#define VHDKIT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/error.h"
#include "vhdkit/vhd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- check ---- */
enum vk_check_severity {
    VK_CHECK_NOTE = 0,   /* worth knowing, not wrong (saved state set, footer copy used) */
    VK_CHECK_WARNING,    /* tolerated by readers, but not what the specification says */
    VK_CHECK_ERROR,      /* breaks readers or risks data */
};

struct vk_check_problem {
    enum vk_check_severity severity;
    char file[256];                /* which image of the chain */
    int has_offset;
    uint64_t offset;               /* byte offset in `file` */
    char what[320];                /* lowercase description */
};

struct vk_check_report {
    struct vk_check_problem *problems;
    size_t count;
    size_t cap;
    size_t errors, warnings, notes;
    int images_checked;            /* 1 + parents reached */
};

/* Checks every structural rule of the VHD at `path` and of its parents: footer checksum, the copy at offset 0 equal
 * to the trailing footer, header checksum and fields, BAT entries inside the file, sector-aligned, not overlapping
 * each other nor the header, BAT or locators; locators inside the file and decodable; chain links found with
 * matching UUIDs; saved state. Opens read-only. Returns 0 when the image could be checked (the problems are in
 * `rep`, free with vk_check_report_free), or an error when it could not (not a VHD at all, unreadable, lock held). */
VK_API int vk_check_image(const char *path, struct vk_check_report *rep, vk_error *err);
VK_API void vk_check_report_free(struct vk_check_report *rep);
VK_API const char *vk_check_severity_name(enum vk_check_severity s);

/* ---- convert ---- */
enum vk_convert_type { VK_CONVERT_DYNAMIC = 0, VK_CONVERT_FIXED, VK_CONVERT_RAW };

struct vk_convert_opts {
    enum vk_convert_type type;
    uint32_t block_size;           /* dynamic output, 0 = 2 MiB */
    enum vk_vhd_fill fill;         /* fixed output */
    int azure;                     /* fixed output sized for Azure */
    /* Called now and then with the bytes of the virtual disk walked so far (may be NULL). */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

struct vk_convert_result {
    uint64_t virtual_size;         /* of the destination */
    uint64_t bytes_read;           /* data read from the source */
    uint64_t bytes_written;        /* data written to the destination (zero runs are skipped) */
    uint64_t bytes_skipped;        /* ranges never read: unallocated, holes, unwritten sectors */
    char note[256];                /* from creation, e.g. a preallocation fallback */
};

/* Copies the virtual content of `src` (raw file or VHD with its chain) into a new image `dst` of another type.
 * Unwritten ranges are skipped without reading; data that reads as zero (4 KiB granules) is not written, so it
 * stays unallocated (dynamic) or a hole (raw). Builds `dst`.tmp, fsyncs it and renames it into place; `dst` must
 * not exist. */
VK_API int vk_convert(const char *src, const char *dst, const struct vk_convert_opts *opts,
                      struct vk_convert_result *res, vk_error *err);

/* ---- compact ---- */
enum vk_compact_flags {
    VK_COMPACT_DRY_RUN = 1u << 0,          /* plan and report only; the image is opened read-only */
    VK_COMPACT_DISCARD_PAGEFILE = 1u << 1, /* clusters of pagefile.sys and swapfile.sys count as unused */
    VK_COMPACT_FORCE_PARENT = 1u << 2,     /* compact in place even when an image in the folder is its child */
};

/* Why stored sectors were given back. */
enum vk_compact_reason {
    VK_COMPACT_FREE = 0,   /* in a cluster NTFS does not use */
    VK_COMPACT_ZERO,       /* all-zero block of a dynamic disk */
    VK_COMPACT_PARENT,     /* differencing: the same bytes as the parent chain */
    VK_COMPACT_PAGEFILE,   /* --discard-pagefile */
    VK_COMPACT_NREASONS
};

/* An area kept as it is (only all-zero blocks dropped there) and why. */
struct vk_compact_kept {
    uint64_t off, len;             /* bytes of the virtual disk */
    char what[128];                /* "outside partitions", "partition 2: BitLocker", ... */
};
#define VK_COMPACT_MAX_KEPT 16

struct vk_compact_opts {
    unsigned flags;                /* vk_compact_flags */
    const char *output;            /* NULL: in place; else a new packed image (must not exist) */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

struct vk_compact_result {
    uint64_t file_size_before, file_size_after;     /* dry run: the size the in-place run would leave at most */
    uint64_t blocks_before, blocks_after;           /* allocated blocks */
    uint64_t block_size;
    uint64_t freed_bytes[VK_COMPACT_NREASONS];      /* stored sectors given back (512 each), by reason */
    uint64_t freed_blocks[VK_COMPACT_NREASONS];     /* blocks dropped, each under the reason that freed most of it */
    uint64_t blocks_moved;                          /* in place: blocks copied into holes */
    unsigned volumes;                               /* NTFS volumes whose $Bitmap was used */
    unsigned nkept;
    struct vk_compact_kept kept[VK_COMPACT_MAX_KEPT];
    double seconds;
};

VK_API const char *vk_compact_reason_name(enum vk_compact_reason r);
/* Gives back the blocks and sectors of a dynamic or differencing image that no file uses (see vhdkit-compact(1)).
 * Refuses (VK_E_REFUSED) fixed disks, saved-state images, hibernated or unclean NTFS volumes, and in place, images
 * that another .vhd in their folder names as its parent (unless VK_COMPACT_FORCE_PARENT). In place, every write is
 * ordered so a crash leaves a valid image with every used cluster intact; with `output`, builds output.tmp, fsyncs
 * and renames it. */
VK_API int vk_compact(const char *path, const struct vk_compact_opts *opts, struct vk_compact_result *res,
                      vk_error *err);


/* ---- owners: which file owns each cluster of an NTFS volume (one pass over the MFT) ---- */
typedef struct vk_owners vk_owners;
struct vk_ntfs;

enum vk_owner_flags {
    VK_OWNER_COMPRESSED = 1u << 0, /* the attribute is compressed: the run holds compressed units */
    VK_OWNER_SPARSE = 1u << 1,     /* the attribute is sparse (its holes own nothing) */
    VK_OWNER_EXTENSION = 1u << 2,  /* the run is described in an extension record (through $ATTRIBUTE_LIST) */
};

/* Who holds one cluster: an attribute of a file (named after its base MFT record). */
struct vk_owner {
    uint64_t mft_record;           /* base record (extension records belong to it) */
    uint64_t ext_record;           /* the record whose attribute describes the run (= mft_record unless extension) */
    uint32_t attr_type;            /* 0x80 $DATA, 0xA0 $INDEX_ALLOCATION, ... */
    const char *attr_type_name;    /* "$DATA" */
    const char *stream;            /* attribute name in UTF-8 ("" when unnamed): an alternate stream for $DATA */
    unsigned flags;                /* vk_owner_flags */
    uint64_t run_lcn, run_len;     /* the run holding the cluster */
    uint64_t run_vcn;              /* its first cluster inside the attribute */
};

struct vk_owners_stats {
    uint64_t records;              /* MFT records scanned */
    uint64_t in_use;               /* in-use records */
    uint64_t runs;                 /* cluster runs indexed (holes not counted) */
    uint64_t overlaps;             /* runs that overlap another one (cross-linked clusters: corrupt volume) */
    uint64_t bad_records;          /* in-use records that failed their checks and were skipped */
    uint64_t mem_bytes;            /* memory held by the index */
    uint32_t cluster_size;
    uint32_t mft_record_size;
    uint64_t total_clu;
};

/* Reads every MFT record of `vol` once (records failing their fixup or bounds checks are counted and skipped) and
 * indexes every cluster run of every non-resident attribute, and every file's name and parent. Memory grows with
 * the number of runs and records, not with the volume size. */
VK_API int vk_owners_build(struct vk_ntfs *vol, vk_owners **out, vk_error *err);
VK_API void vk_owners_free(vk_owners *o);
VK_API void vk_owners_get_stats(const vk_owners *o, struct vk_owners_stats *st);
/* The owner of cluster `lcn`: 1 when an attribute holds it, 0 when none does. */
VK_API int vk_owners_find(const vk_owners *o, uint64_t lcn, struct vk_owner *out);
/* Calls fn for each run overlapping clusters [lcn, lcn + n), in cluster order, with the overlapping part. A nonzero
 * return from fn stops the walk and is returned. */
typedef int (*vk_owners_fn)(void *ctx, const struct vk_owner *ow, uint64_t first_clu, uint64_t nclu);
VK_API int vk_owners_range(const vk_owners *o, uint64_t lcn, uint64_t n, vk_owners_fn fn, void *ctx);
/* The full path of a record ("/Windows/System32/config/SYSTEM"; Win32 names preferred over DOS 8.3 ones), written
 * into buf. Returns 0, or VK_E_NOTFOUND when the record has no name (then buf holds "[record N]"). A path cut by a
 * missing or looping parent starts with "[record P]". */
VK_API int vk_owners_path(const vk_owners *o, uint64_t mft_record, char *buf, size_t cap);
/* 1 when the record is an in-use directory. */
VK_API int vk_owners_is_dir(const vk_owners *o, uint64_t mft_record);

/* ---- chains: merge, reparent, rebase, resize, repair (vhdkit-merge(1) ... vhdkit-repair(1)) ---- */
enum vk_chain_flags {
    VK_CHAIN_FORCE = 1u << 0,          /* reparent: accept a parent whose UUID differs from the recorded one */
    VK_CHAIN_FORCE_SIBLINGS = 1u << 1, /* merge: go ahead although other children of the ancestor become invalid */
    VK_CHAIN_KEEP = 1u << 2,           /* merge: keep the merged images instead of deleting them */
    VK_CHAIN_DRY_RUN = 1u << 3,        /* repair: report what would be done, write nothing */
    VK_CHAIN_NO_DROP = 1u << 4,        /* rebase: keep child sectors equal to the new parent */
};

#define VK_CHAIN_MAX_NAMES 8

struct vk_chain_result {
    char target[4096];             /* merge: the ancestor; reparent/rebase: the new parent; resize/repair: the image */
    unsigned levels;               /* merge: images merged into the ancestor */
    uint64_t bytes_copied;         /* merge, rebase: data written */
    uint64_t bytes_dropped;        /* rebase: child sectors given back because the new parent holds the same bytes */
    int locators_moved;            /* reparent, rebase: locators whose data went to fresh space */
    int uuid_changed;              /* reparent: the recorded parent UUID changed (--force) */
    uint64_t old_size, new_size;   /* resize */
    int bat_grown;                 /* resize: the BAT grew (blocks or locators moved out of its way) */
    unsigned nnames;               /* merge: images removed (or, refused, the siblings); repair: the actions */
    char names[VK_CHAIN_MAX_NAMES][512];
    unsigned nfixed;               /* repair: problems fixed (or that would be, dry run) */
    unsigned nleft;                /* repair: problems it cannot fix without guessing */
    double seconds;
    void (*progress)(void *ctx, uint64_t done, uint64_t total); /* in: may be NULL */
    void *progress_ctx;
};

/* Copies every sector `child` holds (and every image between it and `into`) into the ancestor `into` (NULL: the
 * parent) through crash-ordered writes: at every point the child's view is intact. The ancestor's view then equals
 * the child's; the merged images are deleted unless VK_CHAIN_KEEP. Refuses (VK_E_REFUSED) when another image in the
 * folder of a merged-into image names it as parent, unless VK_CHAIN_FORCE_SIBLINGS, listing them in res->names. */
VK_API int vk_merge(const char *child, const char *into, unsigned flags, struct vk_chain_result *res, vk_error *err);
/* Points differencing `child` at `parent`: UUID, time stamp, Unicode name, W2ku/W2ru/MacX locators. Refuses a
 * parent whose UUID differs from the recorded one unless VK_CHAIN_FORCE. */
VK_API int vk_reparent(const char *child, const char *parent, unsigned flags, struct vk_chain_result *res,
                       vk_error *err);
/* Keeps the child's view while changing its parent to `new_parent`: every sector where the old chain and the new
 * parent differ is written into the child first, then the parent fields switch, then child sectors equal to the new
 * parent are dropped (unless VK_CHAIN_NO_DROP). */
VK_API int vk_rebase(const char *child, const char *new_parent, unsigned flags, struct vk_chain_result *res,
                     vk_error *err);
/* Grows (any type) or shrinks an image; shrinking is refused when a partition or stored non-zero data lies past the
 * new end. */
VK_API int vk_resize(const char *image, uint64_t size, unsigned flags, struct vk_chain_result *res, vk_error *err);
/* Fixes what check reports and can be fixed without guessing (see vhdkit-repair(1)); `search_dirs` (NULL-terminated,
 * may be NULL) are searched for a missing parent by its UUID. */
VK_API int vk_repair(const char *image, const char *const *search_dirs, unsigned flags, struct vk_chain_result *res,
                     vk_error *err);


/* ---- whohas: what holds a place of the disk or of the .vhd file ---- */
typedef struct vk_whohas vk_whohas;

enum vk_place {
    VK_PLACE_SECTOR = 0,  /* 512-byte sector of the virtual disk */
    VK_PLACE_OFFSET,      /* byte offset in the virtual disk */
    VK_PLACE_VHD_OFFSET,  /* byte offset in the top image file itself */
};

enum vk_holder {
    VK_HOLD_FILE = 0,       /* a cluster of a file or directory */
    VK_HOLD_METAFILE,       /* a cluster of an NTFS metadata file ($MFT, $LogFile, $Extend/...) */
    VK_HOLD_FREE,           /* a cluster $Bitmap marks free */
    VK_HOLD_UNOWNED,        /* a cluster $Bitmap marks in use that no attribute claims */
    VK_HOLD_BOOT,           /* the NTFS boot sector (first sector of the volume) */
    VK_HOLD_BACKUP_BOOT,    /* the NTFS backup boot sector (the sector after the volume) */
    VK_HOLD_VOLUME_SLACK,   /* inside the partition but past the volume's last cluster */
    VK_HOLD_OTHER_FS,       /* a partition vhdkit does not index (not NTFS, BitLocker, unreadable) */
    VK_HOLD_MBR,            /* the MBR (or the protective MBR of a GPT disk) */
    VK_HOLD_EBR,            /* an extended boot record of a logical partition */
    VK_HOLD_GPT_HEADER,     /* primary or backup GPT header */
    VK_HOLD_GPT_ENTRIES,    /* primary or backup GPT partition entry array */
    VK_HOLD_OUTSIDE,        /* space outside every partition (gaps, alignment) */
    VK_HOLD_VHD_FOOTER,     /* the trailing footer of the .vhd file */
    VK_HOLD_VHD_FOOTER_COPY,/* the footer copy at offset 0 */
    VK_HOLD_VHD_HEADER,     /* the dynamic disk header */
    VK_HOLD_VHD_BAT,        /* the block allocation table */
    VK_HOLD_VHD_BITMAP,     /* a block's sector bitmap */
    VK_HOLD_VHD_LOCATOR,    /* parent locator data */
    VK_HOLD_VHD_STALE,      /* bytes of a block's data area whose sector bitmap bit is clear: not part of the disk */
    VK_HOLD_VHD_UNUSED,     /* bytes of the file no structure refers to */
    VK_HOLD_NKINDS
};

struct vk_whohas_answer {
    enum vk_holder kind;
    char what[192];                /* readable: "GPT header", "sector bitmap of block 12", "/Windows/notepad.exe" */
    int has_sector;
    uint64_t sector;               /* virtual disk sector */
    uint64_t byte_in_sector;
    int has_block;
    uint64_t block;                /* VHD block (dynamic and differencing images) */
    int chain_depth;               /* the image that stores the sector: 0 this one, 1 its parent, ...; -1 none (reads
                                      as zeros) */
    const char *image;             /* path of that image, NULL when none */
    uint64_t image_offset;         /* byte offset in that image's file */
    unsigned partition;            /* 0 when outside partitions */
    int has_cluster;
    uint64_t cluster;              /* LCN in the volume */
    /* VK_HOLD_FILE / VK_HOLD_METAFILE (and BOOT, whose sector belongs to $Boot) */
    int has_owner;
    struct vk_owner owner;
    char path[4096];
    uint64_t file_offset;          /* byte offset of the place inside the attribute's data */
    /* a cluster of $MFT (or $MFTMirr): the MFT record stored there and whose it is */
    int has_mft_entry;
    uint64_t mft_entry;
    char mft_entry_path[4096];
};

VK_API const char *vk_holder_name(enum vk_holder k);
/* Opens an image (raw, or VHD with its chain) read-only for questions; NTFS volumes are mounted and indexed the first
 * time a question reaches them. */
VK_API int vk_whohas_open(const char *path, const struct vk_vhd_open_opts *opts, vk_whohas **out, vk_error *err);
VK_API void vk_whohas_close(vk_whohas *w);
/* What holds `value` (a sector or byte offset, per `place`). VK_E_RANGE when it lies past the disk or file end. */
VK_API int vk_whohas_query(vk_whohas *w, enum vk_place place, uint64_t value, struct vk_whohas_answer *a,
                           vk_error *err);
/* The virtual disk and the VHD handle (NULL for raw images), owned by `w`. */
VK_API vk_dev *vk_whohas_disk(vk_whohas *w);
VK_API vk_vhd *vk_whohas_vhd(vk_whohas *w);
/* Files owning clusters among virtual sectors [first, first + n): fn gets each owning run piece with its bytes. */
typedef int (*vk_whohas_owner_fn)(void *ctx, unsigned partition, const vk_owners *idx, const struct vk_owner *ow,
                                  uint64_t bytes);
VK_API int vk_whohas_owners(vk_whohas *w, uint64_t first, uint64_t n, vk_whohas_owner_fn fn, void *ctx,
                            vk_error *err);
/* Memory of every index built so far and their run counts (for benchmarks). */
VK_API void vk_whohas_stats(vk_whohas *w, uint64_t *runs, uint64_t *mem_bytes);

/* ---- align: partitions that do not start on a boundary (vhdkit-align(1)) ---- */
#define VK_ALIGN_MAX_PARTS 128
#define VK_ALIGN_DEFAULT_TO (1u << 20)

/* One partition as the scan sees it (offsets in bytes of the virtual disk). */
struct vk_align_part {
    unsigned number;               /* as the partition table numbers it */
    unsigned flags;                /* vk_part_flags (VK_PART_CONTAINER: an extended partition, never judged) */
    uint8_t mbr_type;
    const char *type_name;
    uint64_t start_off, len;
    int aligned_4k, aligned_1m;
    int aligned_block;             /* on the VHD block size (dynamic and differencing), else = aligned_to */
    int aligned_to;                /* on the requested boundary (--to) */
    /* NTFS volumes (boot sector "NTFS    " with sane geometry) */
    int ntfs;
    uint32_t cluster_size;
    uint64_t clusters;
    uint32_t hidden_sectors;       /* boot sector 0x1C: Windows wants it equal to the start LBA */
    int clusters_4k;               /* every cluster starts on a 4 KiB boundary of the disk */
    uint64_t split_4k;             /* clusters touching one more 4 KiB unit than their size needs */
    uint64_t split_block;          /* clusters touching one more VHD block than needed (0 without blocks) */
    uint64_t new_start_off;        /* fix: where it goes (= start_off when it stays) */
};

struct vk_align_report {
    int scheme;                    /* enum vk_part_scheme (vhdkit/part.h) */
    int is_vhd;
    enum vk_vhd_type type;         /* when is_vhd */
    uint32_t block_size;           /* dynamic and differencing, else 0 */
    uint64_t disk_size;
    uint32_t disk_signature;       /* MBR */
    uint64_t target;               /* the boundary judged (--to) */
    unsigned count;
    struct vk_align_part parts[VK_ALIGN_MAX_PARTS];
    unsigned misaligned;           /* non-container partitions not on `target` */
};

/* Reads the partition table and each NTFS boot sector of the image at `path` (raw or VHD with its chain),
 * read-only. `target` 0 means VK_ALIGN_DEFAULT_TO; it must be a multiple of 4096. */
VK_API int vk_align_scan(const char *path, uint64_t target, struct vk_align_report *rep, vk_error *err);

enum vk_align_flags {
    VK_ALIGN_DRY_RUN = 1u << 0,    /* plan and report only; nothing is written */
    VK_ALIGN_NO_COPY = 1u << 1,    /* in place on raw and fixed images: move inside the file even with room for a copy */
};

/* How an in-place fix went (vk_align_result.method). */
enum vk_align_method {
    VK_ALIGN_NONE = 0,             /* nothing written (dry run, nothing to move) */
    VK_ALIGN_BY_OUTPUT,            /* a new image (-o) */
    VK_ALIGN_BY_JOURNAL,           /* raw/fixed: moved inside the file in journaled rounds */
    VK_ALIGN_BY_BLOCKS,            /* dynamic: blocks rebuilt in free slots, BAT entries switched */
    VK_ALIGN_BY_COPY,              /* raw/fixed: aligned copy beside the image, renamed over it */
};

struct vk_align_opts {
    unsigned flags;                /* vk_align_flags */
    uint64_t target;               /* boundary, 0 = VK_ALIGN_DEFAULT_TO */
    const char *output;            /* NULL: in place (fixed, dynamic, raw); else a new image (must not exist) */
};

struct vk_align_result {
    struct vk_align_report before; /* the scan, with new_start_off set for each partition */
    unsigned moved;                /* partitions moved (or to move, dry run) */
    uint64_t bytes_moved;          /* partition bytes copied */
    uint64_t old_disk_size, new_disk_size; /* the disk grows when the last partition no longer fits */
    int resumed;                   /* in place: an interrupted run was finished from its journal */
    unsigned boot_sectors;         /* NTFS boot sectors (and backups) whose hidden-sectors field was set */
    unsigned mounted_devices;      /* SYSTEM\MountedDevices values pointed at the new offsets */
    unsigned bcd_elements;         /* BCD device elements pointed at the new offsets */
    enum vk_align_method method;
    double seconds;
};

/* Moves every partition that does not start on the boundary up to the next one (and those it then overlaps),
 * and fixes what remembers the old place: MBR/EBR entries (LBA and CHS) or GPT entries and both headers, the NTFS
 * boot sector's hidden sectors (and its backup), SYSTEM\MountedDevices and BCD device elements. In place, data
 * moves from the end of each partition backwards with progress in IMAGE.align-journal, so a run stopped at any
 * write is finished by running it again; the tables switch only after all data is copied. Differencing images
 * need `output`. Raw and fixed images, when their file system has room for a copy (and no VK_ALIGN_NO_COPY, no
 * interrupted journaled run), get an aligned copy written beside them (IMAGE.vhdkit-align-tmp, synced) and renamed
 * over them, mode and owner kept: each byte written once instead of twice. */
VK_API int vk_align_fix(const char *path, const struct vk_align_opts *opts, struct vk_align_result *res,
                        vk_error *err);


/* ---- map: every VHD block's state and owners ---- */
enum vk_map_state {
    VK_MAP_UNALLOCATED = 0, /* no BAT entry (reads as zeros, or from the parent of a differencing image) */
    VK_MAP_USED,            /* allocated, every stored sector needed */
    VK_MAP_PARTLY_USED,     /* allocated, some stored sectors could be given back (see used_fraction) */
    VK_MAP_FREE,            /* allocated but all in clusters the filesystem does not use */
    VK_MAP_ZERO,            /* allocated, every needed sector reads as zeros */
    VK_MAP_SAME_AS_PARENT,  /* differencing: stores what the parent chain already holds */
    VK_MAP_PAGEFILE,        /* with VK_COMPACT_DISCARD_PAGEFILE: pagefile/swapfile only */
    VK_MAP_NSTATES
};

#define VK_MAP_TOP_OWNERS 5
#define VK_MAP_MAX_PARTS 16

struct vk_map_owner {
    unsigned partition;
    uint64_t mft_record;
    uint64_t bytes;                /* bytes of the block in clusters of this file */
    char path[512];
};

struct vk_map_block {
    uint32_t block;
    enum vk_map_state state;
    uint64_t stored_sectors;       /* sectors the block's bitmap marks as stored */
    uint64_t freeable_sectors;     /* of those, what compact would give back (by reason below) */
    uint64_t freeable[VK_COMPACT_NREASONS];
    double used_fraction;          /* (stored - freeable) / stored; 0 for unallocated blocks */
    int diff;                      /* differencing image: parent_sectors is meaningful */
    uint64_t parent_sectors;       /* sectors of the block the parent chain stores */
    uint64_t owners_count;         /* files owning clusters in the block */
    unsigned nowners;
    struct vk_map_owner owners[VK_MAP_TOP_OWNERS]; /* largest share first */
};

struct vk_map_part {
    unsigned number;
    uint64_t start_lba, nsec;
    char type[64];
};

struct vk_map_result {
    uint64_t block_size;
    uint64_t blocks;               /* BAT entries */
    uint64_t virtual_size;
    uint64_t state_blocks[VK_MAP_NSTATES];
    struct vk_compact_result compact; /* exactly what vk_compact with VK_COMPACT_DRY_RUN reports (the same planner) */
    unsigned nparts;
    struct vk_map_part parts[VK_MAP_MAX_PARTS];
};

VK_API const char *vk_map_state_name(enum vk_map_state s);
/* Walks every block of a dynamic or differencing image in order and calls fn with its state and owners (a nonzero
 * return stops the walk and is returned). Fixed and raw images have no blocks: VK_E_USAGE. The states come from the
 * compact planner, so the totals in `res->compact` are what `compact --dry-run` would free. */
typedef int (*vk_map_fn)(void *ctx, const struct vk_map_block *b);
VK_API int vk_map(const char *path, unsigned compact_flags, vk_map_fn fn, void *ctx, struct vk_map_result *res,
                  vk_error *err);

#ifdef __cplusplus
}
#endif
#endif
