/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: dirty-hive recovery. A new hive is made dirty (sequence numbers differ) and the input is its
 * .LOG1 (new or old format); recovery must either give a clean hive or a warning, never read out of bounds.
 * Input: a log file. */
#include "fuzz.h"

#include <string.h>

#include "core/bytes.h"
#include "reg/reg_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *hive;
    size_t len;
    if (reg_new_hive_bytes("ROOT", &hive, &len, NULL))
        return 0;
    put_le32(hive + REGF_OFF_SEQ1, 3);
    put_le32(hive + REGF_OFF_SEQ2, 2);
    put_le32(hive + REGF_OFF_CSUM, reg_base_checksum(hive));
    vk_reg_log log = {data, size};
    unsigned applied = 0;
    char warn[256] = "";
    int rc = reg_log_recover(&hive, &len, &log, NULL, &applied, warn, sizeof warn, NULL);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == VK_E_NOMEM);
    if (rc == 0)
        FUZZ_CHECK(len >= REGF_BASE_LEN && get_le32(hive + REGF_OFF_SEQ1) == get_le32(hive + REGF_OFF_SEQ2) &&
                   get_le32(hive + REGF_OFF_CSUM) == reg_base_checksum(hive));
    if (rc == 1)
        FUZZ_CHECK(warn[0] != 0);
    free(hive);
    return 0;
}

/* Seed: a new-format log whose base block is valid and holds one HvLE entry with a correct hash. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    if (i > 0 || cap < 512 + 1024)
        return 0;
    uint8_t *hive;
    size_t len;
    if (reg_new_hive_bytes("ROOT", &hive, &len, NULL))
        return 0;
    memset(buf, 0, 512 + 1024);
    memcpy(buf, hive, 512);
    put_le32(buf + REGF_OFF_TYPE, 6);
    put_le32(buf + REGF_OFF_CSUM, reg_base_checksum(buf));
    uint8_t *e = buf + 512;
    memcpy(e, "HvLE", 4);
    put_le32(e + 4, 1024);
    put_le32(e + 12, 2);
    put_le32(e + 16, 4096);
    put_le32(e + 20, 1);
    put_le32(e + 40, 0);
    put_le32(e + 44, 512);
    memcpy(e + 48, hive + REGF_BASE_LEN, 512);
    put_le64(e + 24, reg_marvin32(e + 40, 1024 - 40, 0x82EF4D887A4E55C5ull));
    put_le64(e + 32, reg_marvin32(e, 32, 0x82EF4D887A4E55C5ull));
    free(hive);
    return 512 + 1024;
}
