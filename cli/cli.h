/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared pieces of the vhdkit command: command table entry, declarative options, output, sizes, progress. */
#ifndef VK_CLI_H
#define VK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vhdkit/error.h"
#include "vhdkit/ntfs.h"
#include "vhdkit/vhd.h"

/* Exit statuses (DESIGN.md "Command line"); errors map through vk_exit_status(). */
enum {
    EXIT_OK = 0,
    EXIT_PROBLEMS = 1, /* the command ran and found problems (check) */
    EXIT_USAGE = 2,
    EXIT_BAD_INPUT = 3,
    EXIT_REFUSED = 4,
    EXIT_IO = 5,
};

/* ---- declarative options (opts.c) ---- */
#define OPT_MAX 24
#define POS_MAX 8
#define OCC_MAX 256 /* option occurrences kept in order, so repeated options (--sector 1 --sector 2) accumulate */

struct opt {
    const char *long_name;   /* "block-size" */
    char short_name;         /* 'b' or 0 */
    const char *value_name;  /* "B" when the option takes a value, NULL for a flag */
    const char *help;
};

struct args {
    const struct opt *opts;  /* the command's table, terminated by an entry with long_name NULL */
    const char *value[OPT_MAX];
    bool present[OPT_MAX];
    const char *pos[POS_MAX];
    int npos;
    struct {
        int idx;
        const char *value;
    } occ[OCC_MAX];          /* every valued option as given, in order */
    int nocc;
};

/* Parses argv (after the command name) against `opts`; --help and --json are always known (the dispatcher decides
 * whether --json is allowed). Returns 0, or EXIT_USAGE after printing why. */
int args_parse(struct args *a, const struct opt *opts, int argc, char **argv, const char *cmd);
bool arg_has(const struct args *a, const char *long_name);
/* Value of an option or NULL when absent (the last one when it is repeated). */
const char *arg_str(const struct args *a, const char *long_name);
/* Every value of a repeatable option in the order given; returns how many were stored in `out` (at most `max`). */
int arg_all(const struct args *a, const char *long_name, const char **out, int max);
/* Parses a size option with parse_size(); `*out` keeps its value when the option is absent.
 * Returns 0 or EXIT_USAGE after printing why. */
int arg_size(const struct args *a, const char *long_name, uint64_t *out);
/* Prints the options table (for --help). */
void opts_print_help(FILE *f, const struct opt *opts, bool json);

/* ---- the command table (main.c) ---- */
enum cmd_flags {
    CMD_JSON = 1u << 0, /* accepts --json */
};

struct cmd;
struct ctx {
    const struct cmd *cmd;
    struct args args;
    bool json;
};

/* --block-size (bytes, at most 4 GiB - 1) and --fill allocate|sparse|zero of create and convert (image_args.c);
 * each leaves `*out` as it is when the option is absent; returns 0 or EXIT_USAGE after printing why. */
int arg_block_size(const struct ctx *c, uint32_t *out);
int arg_fill(const struct ctx *c, enum vk_vhd_fill *out);

struct cmd {
    const char *name;
    int (*fn)(struct ctx *c);
    const char *summary;
    const char *synopsis;     /* positional arguments, e.g. "IMAGE SIZE" */
    const struct opt *opts;
    unsigned flags;           /* cmd_flags */
    int min_pos, max_pos;
};

int cmd_align(struct ctx *c);
extern const struct opt opts_align[];
int cmd_check(struct ctx *c);
int cmd_compact(struct ctx *c);
extern const struct opt opts_compact[];
int cmd_convert(struct ctx *c);
int cmd_create(struct ctx *c);
int cmd_dump(struct ctx *c);
int cmd_info(struct ctx *c);
int cmd_read(struct ctx *c);
int cmd_snapshot(struct ctx *c);
int cmd_write(struct ctx *c);
int cmd_cat(struct ctx *c);
int cmd_get(struct ctx *c);
int cmd_ls(struct ctx *c);
int cmd_mkdir(struct ctx *c);
int cmd_put(struct ctx *c);
int cmd_rm(struct ctx *c);
int cmd_stat(struct ctx *c);
int cmd_tree(struct ctx *c);
int cmd_merge(struct ctx *c), cmd_rebase(struct ctx *c), cmd_reparent(struct ctx *c), cmd_repair(struct ctx *c),
    cmd_resize(struct ctx *c);
extern const struct opt opts_merge[], opts_rebase[], opts_reparent[], opts_repair[], opts_resize[];
/* Prints a chain command's result (cmd_reparent.c): text "IMAGE: WHAT TARGET" and the names, or JSON. */
struct vk_chain_result;
void print_chain_result(struct ctx *c, const char *what, const char *image, const struct vk_chain_result *r,
                        const char *names_key);

int cmd_reg(struct ctx *c);
extern const struct opt opts_reg[];
int cmd_whohas(struct ctx *c);
int cmd_map(struct ctx *c);
extern const struct opt opts_map[];
extern const struct opt opts_whohas[];
extern const struct opt opts_check[], opts_convert[], opts_create[], opts_dump[], opts_info[], opts_read[],
    opts_snapshot[], opts_write[];
extern const struct opt opts_cat[], opts_get[], opts_ls[], opts_mkdir[], opts_put[], opts_rm[], opts_stat[], opts_tree[];

/* Prints what create or snapshot made (cmd_create.c). */
struct vk_vhd_create_result;
void print_created(struct ctx *c, const char *path, int vhd_type, const struct vk_vhd_create_result *r);

/* Prints "vhdkit: <file>: <what> (offset 0x..)" and returns the exit status for the error's code. */
int report_error(const vk_error *err);
/* Prints "vhdkit: <cmd>: <message>" and "try 'vhdkit <cmd> --help'"; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- the NTFS volume of the file commands (volume.c) ---- */
/* The option every file command takes (no short form: mkdir and put use -p for parents). */
#define OPT_PART {"part", 0, "N", "the partition holding the volume (default: the Windows volume, else the only NTFS one)"}
struct vol {
    const char *image;
    vk_dev *disk;       /* the virtual disk (a raw file or the VHD chain) */
    vk_vhd *vhd;        /* NULL for raw images */
    vk_dev *win;        /* the partition window */
    vk_ntfs *ntfs;
    unsigned part;      /* the partition number chosen */
    uint64_t part_off;  /* its byte offset on the virtual disk */
};
/* Opens IMAGE read-only (or read-write: the top image only, refused with exit 4 for a hibernated or unclean
 * volume) and mounts the volume --part names. Returns 0, or the exit status after reporting why. */
int vol_open(struct ctx *c, const char *image, bool rw, struct vol *v);
/* Unmounts and closes (flushing writes); returns 0 or the exit status after reporting. */
int vol_close(struct vol *v);
/* --part N (0 when absent); EXIT_USAGE after reporting a bad value. */
int vol_part_arg(struct ctx *c, unsigned *part);
/* Full volume path of a command-line PATH: "/" first, '\\' read as '/', no doubled or trailing '/' (malloc'd). */
char *vol_path(const char *arg);
/* mkdir and rm: open the image's volume read-write, turn the second argument into a volume path and call `edit` with
 * it and whether --FLAG was given; report, unmount and return the exit status. `edit` gets "/" too and decides. */
typedef int (*vol_edit_fn)(struct vol *v, const char *path, bool flag, vk_error *err);
int vol_edit(struct ctx *c, const char *flag, vol_edit_fn edit);
/* Calls fn for each entry of `dir` (and below it when recursive) with its full path; depth 0 for dir's entries.
 * A nonzero return stops the walk and is returned. */
typedef int (*vol_walk_fn)(void *ctx, const char *path, const vk_ntfs_dirent *e, int depth);
int vol_walk(struct vol *v, const char *dir, unsigned flags, bool recursive, vol_walk_fn fn, void *ctx, vk_error *err);
/* One entry as a record: path, name, type (file|dir), size, mft_record, attributes, the four times. */
struct out;
void out_dirent(struct out *o, const char *path, const vk_ntfs_dirent *e);
/* created, modified, accessed, mft_modified. */
void out_times(struct out *o, const vk_ntfs_times *t);
/* info: the partition table with alignment and each NTFS volume's state (info_parts.c); block_size 0 when the
 * image has no VHD blocks. */
void print_partitions(struct out *o, vk_dev *disk, uint32_t block_size);
/* dump --mbr --gpt --boot (dump_parts.c): the tables and NTFS boot sectors of the virtual disk, every field with its
 * offset, raw hex and meaning. Returns the exit status. */
int cmd_dump_parts(struct ctx *c);
/* ISO 8601 UTC with 7 decimals (NTFS keeps 100 ns): "2024-05-01T12:00:00.1234567Z". */
void format_ntfs_time(int64_t ns, char out[40]);

/* ---- sizes (size.c) ---- */
/* Parses "512", "0x200", "512K", "300M", "1.5G", "2T" (binary suffixes K M G T P E, optional B for bytes), as
 * qemu-img does. Returns 0 or -1 (malformed or overflow). */
int parse_size(const char *s, uint64_t *out);
/* "20 GiB" / "9.31 GiB" / "512 bytes": human form of a byte count. */
void format_size(uint64_t bytes, char *buf, size_t len);

/* ---- output (out.c): one set of calls writes either "label: value" text or JSON ---- */
struct out {
    FILE *f;
    bool json;
    int depth;
    bool first[16];      /* per nesting level: nothing emitted yet */
    bool in_array[16];
};
void out_init(struct out *o, FILE *f, bool json);
/* Opens the top-level JSON object (no-op in text mode). */
void out_begin(struct out *o);
/* Closes it and ends the line. */
void out_end(struct out *o);
/* Nested object / array under `key` (key ignored inside arrays). Text mode prints `key:` and indents. */
void out_object(struct out *o, const char *key);
void out_array(struct out *o, const char *key);
void out_close(struct out *o);
void out_str(struct out *o, const char *key, const char *val);
void out_u64(struct out *o, const char *key, uint64_t val);
void out_i64(struct out *o, const char *key, int64_t val);
void out_bool(struct out *o, const char *key, bool val);
/* Unsigned number printed in hex in text mode ("0x1f4"), a plain number in JSON. */
void out_hex(struct out *o, const char *key, uint64_t val);
/* Byte count: text "10000000000 (9.31 GiB)", JSON a number. */
void out_bytes(struct out *o, const char *key, uint64_t val);
/* JSON string with escaping (quotes, backslash, control characters, invalid UTF-8 as U+FFFD). */
void json_string(FILE *f, const char *s);

/* ---- progress (progress.c): a bar with ETA on stderr, only when stderr is a terminal ---- */
struct progress {
    bool enabled;
    const char *label;
    uint64_t total;
    double start;
    double last_draw;
};
void progress_begin(struct progress *p, const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);
/* Adapter for library callbacks: `ctx` is a struct progress. */
void progress_cb(void *ctx, uint64_t done, uint64_t total);

#endif
