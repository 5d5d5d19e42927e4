/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registry hives: key paths, typed values, .reg files, new hives and dirty-hive log replay (vk_reg_*). */
#ifndef VHDKIT_REG_H
#define VHDKIT_REG_H

#include <stddef.h>
#include <stdint.h>

#include "vhdkit/error.h"
#include "vhdkit/ntfs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Key paths (pure functions, no hive needed) ---- */

/* Which hive file a key lives in. */
enum vk_reg_root {
    VK_REG_ROOT_SYSTEM,   /* HKLM\SYSTEM */
    VK_REG_ROOT_SOFTWARE, /* HKLM\SOFTWARE */
    VK_REG_ROOT_SAM,      /* HKLM\SAM */
    VK_REG_ROOT_SECURITY, /* HKLM\SECURITY */
    VK_REG_ROOT_DEFAULT,  /* HKU\.DEFAULT */
    VK_REG_ROOT_NTUSER,   /* HKU\<user>, HKCU */
    VK_REG_ROOT_USRCLASS, /* HKU\<user>_Classes */
    VK_REG_ROOT_BCD       /* BCD, HKLM\BCD00000000 */
};

#define VK_REG_NAME_MAX 256  /* a user name or a key/value name, UTF-8 with NUL */
#define VK_REG_PATH_MAX 4096 /* a key path inside a hive, UTF-8 with NUL */
#define VK_REG_FILE_MAX 512  /* a hive file path inside a volume */

typedef struct vk_reg_path {
    enum vk_reg_root root;
    char user[VK_REG_NAME_MAX];    /* NTUSER and USRCLASS only, else "" */
    char subkey[VK_REG_PATH_MAX];  /* path below the hive root, '\'-separated, no leading or trailing '\' */
} vk_reg_path;

/* Parse `HKLM\SOFTWARE\...`, `HKEY_LOCAL_MACHINE\...`, `HKU\.DEFAULT`, `HKU\NAME[_Classes]\...`,
 * `HKCU\...` (needs `current_user`, else VK_E_USAGE), `BCD[\...]`. Root names are case-insensitive.
 * `HKLM\SYSTEM\CurrentControlSet` stays in `subkey`: vk_reg_key_find resolves it in the opened hive. */
VK_API int vk_reg_path_parse(const char *text, const char *current_user, vk_reg_path *out, vk_error *err);

/* The name regedit uses for the hive root, e.g. "HKEY_LOCAL_MACHINE\SOFTWARE", "HKEY_USERS\bob_Classes". */
VK_API int vk_reg_root_name(const vk_reg_path *path, char *buf, size_t cap, vk_error *err);

/* Candidate hive files inside a Windows volume, '/'-separated from the volume root, most likely first
 * (e.g. "Windows/System32/config/SYSTEM"; "Users/bob/NTUSER.DAT" then XP's "Documents and Settings/bob/NTUSER.DAT";
 * "Boot/BCD" then "EFI/Microsoft/Boot/BCD"). Returns the number written (at most `max`) or a negative code. */
VK_API int vk_reg_hive_files(const vk_reg_path *path, char files[][VK_REG_FILE_MAX], size_t max, vk_error *err);

/* ---- Hives ---- */

typedef struct vk_reg_hive vk_reg_hive;
typedef size_t vk_reg_key; /* a key node inside an open hive */

/* A log file's bytes (.LOG1, .LOG2); data NULL or len 0 means absent. */
typedef struct vk_reg_log {
    const uint8_t *data;
    size_t len;
} vk_reg_log;

#define VK_REG_OPEN_WRITE 1u /* allow changes (vk_reg_hive_commit serialises them) */
/* vk_reg_volume_open, read-only: read the cells a lookup needs from the volume as it goes (the volume must stay
 * mounted until vk_reg_hive_close), checking each one, instead of loading and checking the whole hive first. One
 * value out of a large hive costs a few bins instead of the whole file; damage elsewhere in the hive goes unseen.
 * A dirty hive is loaded whole and replayed as without the flag. */
#define VK_REG_OPEN_LAZY 2u

/* Open a hive from bytes (e.g. read out of an NTFS volume). A dirty hive (sequence numbers differ or bad
 * base block checksum) is first recovered from `log1` then `log2` (new HvLE and old DIRT formats).
 * When it cannot be recovered the hive still opens for reading with a warning (vk_reg_hive_warning) and
 * vk_reg_hive_commit refuses (VK_E_REFUSED). Corrupt hives fail with VK_E_CORRUPT. */
VK_API int vk_reg_hive_open_bytes(const uint8_t *data, size_t len, const vk_reg_log *log1, const vk_reg_log *log2,
                                  unsigned flags, vk_reg_hive **out, vk_error *err);
/* A new empty valid hive (regf 1.5, one hbin, root key named `root_name` or "ROOT"), opened for writing. */
VK_API int vk_reg_hive_new(const char *root_name, vk_reg_hive **out, vk_error *err);
/* "" when the hive opened clean; else what was found (e.g. "hive is dirty and no log could be replayed"). */
VK_API const char *vk_reg_hive_warning(const vk_reg_hive *h);
/* Number of log entries (new format) or dirty pages (old format) replayed at open. */
VK_API unsigned vk_reg_hive_replayed(const vk_reg_hive *h);
/* Serialise the hive with every change made since open: a clean hive (equal sequence numbers, valid
 * checksum, big values in `db` cells). Caller frees `*out` with free(). After a replay the caller should
 * reset the hive's .LOG1/.LOG2 (truncate them) when it writes these bytes back, as Windows does.
 * Refused when the hive could not be recovered or a change failed half-way (one command, one transaction). */
VK_API int vk_reg_hive_commit(vk_reg_hive *h, uint8_t **out, size_t *len, vk_error *err);
VK_API void vk_reg_hive_close(vk_reg_hive *h);

/* ---- Keys ---- */

VK_API vk_reg_key vk_reg_key_root(vk_reg_hive *h);
/* Find `subkey` ('\'-separated, "" for the root) case-insensitively as Windows compares names; a first
 * component "CurrentControlSet" that is not in the hive resolves through Select\Current to ControlSet00N. */
VK_API int vk_reg_key_find(vk_reg_hive *h, const char *subkey, vk_reg_key *out, vk_error *err);
/* Same, creating missing keys. */
VK_API int vk_reg_key_create(vk_reg_hive *h, const char *subkey, vk_reg_key *out, vk_error *err);
/* Delete a key and everything below it (not the root). */
VK_API int vk_reg_key_delete(vk_reg_hive *h, const char *subkey, vk_error *err);
/* Names of the subkeys (UTF-8), sorted as Windows sorts them; free with vk_reg_names_free. */
VK_API int vk_reg_key_subkeys(vk_reg_hive *h, vk_reg_key key, char ***names, size_t *count, vk_error *err);
VK_API void vk_reg_names_free(char **names, size_t count);
VK_API int vk_reg_key_name(vk_reg_hive *h, vk_reg_key key, char *buf, size_t cap, vk_error *err);

/* ---- Values ---- */

enum vk_reg_type {
    VK_REG_NONE = 0, VK_REG_SZ = 1, VK_REG_EXPAND_SZ = 2, VK_REG_BINARY = 3, VK_REG_DWORD = 4,
    VK_REG_DWORD_BIG_ENDIAN = 5, VK_REG_LINK = 6, VK_REG_MULTI_SZ = 7, VK_REG_RESOURCE_LIST = 8,
    VK_REG_FULL_RESOURCE_DESCRIPTOR = 9, VK_REG_RESOURCE_REQUIREMENTS_LIST = 10, VK_REG_QWORD = 11
};

typedef struct vk_reg_value {
    char *name;     /* UTF-8, "" for the default value */
    uint32_t type;  /* enum vk_reg_type or any other number */
    uint8_t *data;  /* raw bytes as stored (strings are UTF-16LE) */
    size_t len;
} vk_reg_value;

/* All values of a key in stored order; free with vk_reg_values_free. */
VK_API int vk_reg_values(vk_reg_hive *h, vk_reg_key key, vk_reg_value **vals, size_t *count, vk_error *err);
VK_API void vk_reg_values_free(vk_reg_value *vals, size_t count);
/* One value by name (case-insensitive; "" is the default value); VK_E_NOTFOUND when absent. Free with vk_reg_value_free. */
VK_API int vk_reg_value_get(vk_reg_hive *h, vk_reg_key key, const char *name, vk_reg_value *out, vk_error *err);
VK_API void vk_reg_value_free(vk_reg_value *v);
/* Add or replace a value (a same-named value, compared case-insensitively, is replaced in place). */
VK_API int vk_reg_value_set(vk_reg_hive *h, vk_reg_key key, const vk_reg_value *v, vk_error *err);
VK_API int vk_reg_value_delete(vk_reg_hive *h, vk_reg_key key, const char *name, vk_error *err);

/* "REG_SZ", ..., or "REG_0x1234" for unknown types (buf of 16 bytes is enough). */
VK_API const char *vk_reg_type_name(uint32_t type, char buf[16]);
/* Accepts sz, expand_sz, multi_sz, dword, dword_be, qword, binary, none, link, REG_* forms, or a number. */
VK_API int vk_reg_type_parse(const char *text, uint32_t *type, vk_error *err);
/* Value as text: strings decoded from UTF-16LE (multi_sz: one string per line), dword/qword in decimal,
 * other types as lowercase hex bytes separated by spaces. Free with free(). */
VK_API int vk_reg_value_format(const vk_reg_value *v, char **text, vk_error *err);
/* Build value data from text for `type` (inverse of vk_reg_value_format: multi_sz strings split at '\n',
 * dword/qword decimal or 0x hex, binary and unknown types as hex bytes). Fills out->data/len (free()). */
VK_API int vk_reg_value_parse(uint32_t type, const char *text, vk_reg_value *out, vk_error *err);

/* ---- .reg files ---- */

enum vk_reg_format {
    VK_REG_FMT_UTF16 = 0, /* "Windows Registry Editor Version 5.00", UTF-16LE with BOM (regedit's default) */
    VK_REG_FMT_UTF8,      /* same text in UTF-8 without BOM */
    VK_REG_FMT_REGEDIT4   /* "REGEDIT4", 8-bit (Latin-1 here); fails on characters beyond U+00FF */
};

/* Export `subkey` and everything below it as regedit does; key names are prefixed with `root_name`
 * (vk_reg_root_name). Caller frees `*out`. */
VK_API int vk_reg_export(vk_reg_hive *h, const char *subkey, const char *root_name, enum vk_reg_format fmt,
                         uint8_t **out, size_t *len, vk_error *err);
/* Import a .reg file (either format, BOM detected) into the hive identified by `hive_id` (root and user;
 * keys of other hives are an error naming the line). The whole file is parsed before anything changes. */
VK_API int vk_reg_import(vk_reg_hive *h, const vk_reg_path *hive_id, const uint8_t *text, size_t len, vk_error *err);


/* ---- Hives inside a mounted NTFS volume (lib/reg/volume*.c) ---- */

/* Opens the hive file `hive_file` ('/'-separated from the volume root, found case-insensitively, e.g. from
 * vk_reg_hive_files or vk_reg_volume_find) with its logs `<file>.LOG1` and `<file>.LOG2` (XP: `<file>.LOG`), replayed
 * when the hive is dirty (vk_reg_hive_warning says when they could not be). flags: VK_REG_OPEN_WRITE or
 * VK_REG_OPEN_LAZY. Bins and cells are checked before use (all of them without LAZY): damage is VK_E_CORRUPT
 * naming `hive_file` and the offset in it. */
VK_API int vk_reg_volume_open(vk_ntfs *vol, const char *hive_file, unsigned flags, vk_reg_hive **out, vk_error *err);
/* Writes every change of `h` (opened from `hive_file` by vk_reg_volume_open with VK_REG_OPEN_WRITE) back into the
 * volume, replacing the file atomically: the new hive is written whole under another name and synced before the old
 * one is given up, and at every write the hive's name reaches a whole hive, old or new (see volume_replace.c for the
 * order). After a replay the logs are then emptied, as Windows does after a recovery. VK_E_REFUSED (with what
 * was found) for a dirty hive whose logs could not be replayed. The volume must be mounted read-write. */
VK_API int vk_reg_volume_commit(vk_ntfs *vol, const char *hive_file, vk_reg_hive *h, vk_error *err);
/* The hive file holding `path`'s hive: the first of vk_reg_hive_files that exists in the volume, as stored there.
 * VK_E_NOTFOUND names the places looked at. */
VK_API int vk_reg_volume_find(vk_ntfs *vol, const vk_reg_path *path, char file[VK_REG_FILE_MAX], vk_error *err);

/* A hive found in a volume: which one (root, user; subkey "") and its file. */
typedef struct vk_reg_found {
    vk_reg_path id;
    char file[VK_REG_FILE_MAX];
} vk_reg_found;
/* Every hive of the volume: the machine hives, BCD, and per profile folder under Users/ and XP's
 * Documents and Settings/ its NTUSER.DAT and UsrClass.dat. Free *list with free(). */
VK_API int vk_reg_volume_list(vk_ntfs *vol, vk_reg_found **list, size_t *count, vk_error *err);

#ifdef __cplusplus
}
#endif
#endif
