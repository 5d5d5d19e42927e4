/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: parent locator path decode for every platform code, and encode/decode round trips.
 * Input: code selector, output capacity selector, then the locator data. */
#include "fuzz.h"
#include "seeds.h"

static const uint32_t codes[] = {VHD_PLAT_W2KU, VHD_PLAT_W2RU, VHD_PLAT_MACX, VHD_PLAT_WI2K,
                                 VHD_PLAT_WI2R, VHD_PLAT_MAC,  VHD_PLAT_NONE, 0x41424344};

static bool writable(uint32_t code) { return code == VHD_PLAT_W2KU || code == VHD_PLAT_W2RU || code == VHD_PLAT_MACX; }

/* encode(path) then decode gives `path` back whenever encode accepts it. */
static void round_trip(uint32_t code, const char *path)
{
    size_t cap = strlen(path) * 4 + 16;
    uint8_t *enc = malloc(cap);
    char *dec = malloc(cap);
    if (!enc || !dec)
        goto out;
    int n = vhd_locator_path_encode(code, path, enc, cap);
    FUZZ_CHECK(n < (int)cap);
    if (n < 0) {
        FUZZ_CHECK(!writable(code) || !*path || n == VK_E_CORRUPT);
        goto out;
    }
    int m = vhd_locator_path_decode(code, enc, (size_t)n, dec, cap);
    FUZZ_CHECK(m == (int)strlen(path) && !strcmp(dec, path));
out:
    free(enc);
    free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t code = codes[data[0] % (sizeof codes / sizeof codes[0])];
    size_t outcap = data[1] == 0xFF ? 4096 : data[1];
    const uint8_t *loc = data + 2;
    size_t len = size - 2;
    char *out = malloc(outcap ? outcap : 1);
    if (!out)
        return 0;
    int n = vhd_locator_path_decode(code, loc, len, out, outcap);
    if (n >= 0) {
        FUZZ_CHECK((size_t)n < outcap && out[n] == '\0' && strlen(out) == (size_t)n);
        if (writable(code))
            round_trip(code, out);
    } else {
        FUZZ_CHECK(n == VK_E_CORRUPT || n == VK_E_UNSUPPORTED || n == VK_E_RANGE);
    }
    free(out);

    /* The data taken as a path to write (up to its first NUL). */
    char *path = malloc(len + 1);
    if (!path)
        return 0;
    memcpy(path, loc, len);
    path[len] = '\0';
    round_trip(code, path);
    free(path);
    return 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
    static const char w2ku[] = "C\0:\0\\\0P\0r\0o\0j\0\\\0\xe4\0.\0v\0h\0d\0\0\0";
    static const char *macx[] = {"file://./parent.vhd", "file:///srv/a%20b/%C3%A4.vhd", "file://localhost/x.vhd"};
    if (cap < 256)
        return 0;
    switch (i) {
    case 0:
    case 1:
        buf[0] = (uint8_t)i;
        buf[1] = 0xFF;
        memcpy(buf + 2, w2ku, sizeof w2ku - 1);
        return 2 + sizeof w2ku - 1;
    case 2:
    case 3:
    case 4:
        buf[0] = 2;
        buf[1] = (uint8_t)(i == 4 ? 8 : 0xFF);
        memcpy(buf + 2, macx[i - 2], strlen(macx[i - 2]));
        return 2 + strlen(macx[i - 2]);
    case 5:
        buf[0] = 4;
        buf[1] = 0xFF;
        memcpy(buf + 2, "..\\old.vhd", 10);
        return 12;
    default:
        return 0;
    }
}
