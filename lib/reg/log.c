/* SPDX-License-Identifier: GPL-2.0-or-later */
/* placeholder */
#include "reg_int.h"
int reg_log_recover(uint8_t **data, size_t *len, const vk_reg_log *log1, const vk_reg_log *log2, unsigned *applied,
                    char *warn, size_t warncap, vk_error *err)
{ (void)data; (void)len; (void)log1; (void)log2; (void)warn; (void)warncap; (void)err; *applied = 0; return 0; }
