/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Volume paths as users type them ("Windows\System32", "/Users//bob/") in the one form the NTFS layer looks up. */
#ifndef VK_CORE_PATH_NORM_H
#define VK_CORE_PATH_NORM_H

/* A new string: "/" first, '\\' read as '/', no doubled or trailing '/' ("" and "/" give "/"). NULL when out of
 * memory; the caller frees it. */
char *vk_path_norm(const char *arg);

#endif
