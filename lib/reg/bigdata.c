/* SPDX-License-Identifier: GPL-2.0-or-later */
/* placeholder */
#include "reg_int.h"
int reg_bigdata_fix(uint8_t **data, size_t *len, vk_error *err) { (void)data; (void)len; (void)err; return 0; }
