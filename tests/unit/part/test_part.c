/* SPDX-License-Identifier: GPL-2.0-or-later */
/* part: MBR, EBR chains, GPT with backup fallback, hybrid MBR, whole-disk volumes, bad tables; mmls as the peer. */
#include "tap.h"

#include <stdlib.h>
#include <unistd.h>

#include "core/bytes.h"
#include "part/layout.h"
#include "vhdkit/part.h"

#define DISK_SIZE (64ull << 20)

static vk_dev *mem_disk(void)
{
    vk_dev *d = NULL;
    if (vk_dev_memory(DISK_SIZE, NULL, 0, &d, NULL))
        abort();
    return d;
}

static vk_part mbr_part(uint64_t start, uint64_t nsec, uint8_t type)
{
    vk_part p = {0};
    p.start_lba = start;
    p.nsec = nsec;
    p.mbr_type = type;
    return p;
}

/* Starts of the partitions mmls lists (lines whose slot is "NNN:NNN" for DOS, "NNN" for GPT), or -1 when mmls
 * failed. */
static int mmls_starts(const char *path, uint64_t *starts, int max)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mmls '%s' 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned a;
        char slot[32];
        unsigned long long start;
        if (sscanf(line, "%u: %31s %llu", &a, slot, &start) == 3 && strspn(slot, "0123456789:") == strlen(slot) &&
            n < max)
            starts[n++] = start;
    }
    return pclose(f) == 0 ? n : -1;
}

static void test_codecs(void)
{
    TAP_EQ_U64(part_crc32((const uint8_t *)"123456789", 9), 0xCBF43926, "CRC-32 check value of \"123456789\"");
    uint8_t g[16];
    char text[37];
    TAP_OK(vk_guid_parse(VK_GPT_TYPE_MS_BASIC_DATA, g) == 0, "parse the basic data GUID");
    TAP_OK(g[0] == 0xA2 && g[3] == 0xEB && g[8] == 0x87, "GUID bytes in on-disk mixed-endian order");
    vk_guid_format(g, text);
    TAP_EQ_STR(text, VK_GPT_TYPE_MS_BASIC_DATA, "GUID format inverts parse");
    TAP_OK(vk_guid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93", g) == VK_E_USAGE, "short GUID refused");
    TAP_EQ_STR(vk_part_gpt_type_name(g), "Microsoft basic data", "GUID left unchanged by a failed parse");
    struct chs c = chs_from_lba(2048);
    TAP_OK(c.cyl == 0 && c.head == 32 && c.sec == 33, "CHS of LBA 2048 is 0/32/33");
    uint8_t s[512] = {0};
    struct mbr m = {0}, back;
    m.e[0].chs_first = chs_from_lba(16450559); /* cylinder 1023 needs the high bits in the sector byte */
    mbr_encode(&m, s);
    mbr_decode(s, &back);
    TAP_OK(back.e[0].chs_first.cyl == 1023 && back.e[0].chs_first.sec == 63, "10-bit cylinder round-trips");
}

static void test_mbr(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/mbr.img", dir);
    vk_error err;
    vk_dev *d = NULL;
    int rc = vk_dev_open_file(path, VK_FILE_RDWR | VK_FILE_CREATE, &d, &err);
    TAP_OK(rc == 0 && vk_dev_set_size(d, DISK_SIZE, &err) == 0, "create a 64 MiB disk file");
    vk_part parts[2] = {mbr_part(63, 2048 - 63, 0x07), mbr_part(2048, 40960, 0x07)};
    parts[1].flags = VK_PART_BOOTABLE;
    TAP_OK(vk_part_write_mbr(d, 0x1234ABCD, parts, 2, &err) == 0, "write an MBR with partitions at 63 and 2048");
    vk_part_table t;
    rc = vk_part_read(d, &t, &err);
    TAP_OK(rc == 0, "read it back (%s)", err.msg);
    TAP_EQ_U64(t.scheme, VK_PART_SCHEME_MBR, "scheme is MBR");
    TAP_EQ_U64(t.count, 2, "two partitions");
    TAP_EQ_U64(t.disk_signature, 0x1234ABCD, "disk signature from offset 440");
    TAP_EQ_U64(t.parts[0].start_off, 63 * 512, "partition 1 starts at byte 32256");
    TAP_EQ_U64(t.parts[1].len, 40960ull * 512, "partition 2 is 20 MiB");
    TAP_EQ_U64(t.parts[1].number, 2, "partition 2 numbered 2");
    TAP_EQ_STR(t.parts[0].type_name, "NTFS/exFAT", "type 0x07 named NTFS/exFAT");
    TAP_EQ_U64(t.parts[0].align, 0, "sector 63 is not 4 KiB aligned");
    TAP_EQ_U64(t.parts[1].align, VK_PART_ALIGN_4K | VK_PART_ALIGN_1M, "sector 2048 is 4 KiB and 1 MiB aligned");
    TAP_OK(vk_part_aligned(&t.parts[1], 512u << 10) && !vk_part_aligned(&t.parts[1], 2u << 20),
           "byte 1 MiB is aligned to 512 KiB blocks, not to 2 MiB ones");
    TAP_OK(t.parts[1].flags & VK_PART_BOOTABLE, "active flag read back");
    TAP_EQ_U64(t.parts[1].entry_off, 446 + 16, "entry offset of partition 2");
    vk_part_table_free(&t);
    vk_dev *w = NULL;
    TAP_OK(vk_part_open(d, 2, &w, &err) == 0 && w->size == 40960ull * 512, "window over partition 2");
    vk_dev_close(w);
    TAP_OK(vk_part_open(d, 3, &w, &err) == VK_E_NOTFOUND, "no partition 3");
    vk_dev_close(d);
    uint64_t starts[8];
    int n = mmls_starts(path, starts, 8);
    TAP_OK(n == 2 && starts[0] == 63 && starts[1] == 2048, "mmls sees the same partitions (%d)", n);
}

/* An extended partition in slot 2 at sector 10000 with logicals 5, 6 and 7 (EBRs at +0, +4000, +8000). */
static vk_dev *ebr_disk(void)
{
    vk_dev *d = mem_disk();
    vk_part parts[2] = {mbr_part(2048, 4096, 0x07), mbr_part(10000, 20000, 0x0F)};
    if (vk_part_write_mbr(d, 1, parts, 2, NULL))
        abort();
    uint8_t *b = vk_dev_memory_bytes(d);
    for (int i = 0; i < 3; i++) {
        struct mbr m = {0};
        m.e[0].type = 0x83;
        m.e[0].lba_first = 63;
        m.e[0].nsec = 1000 + i;
        if (i < 2) {
            m.e[1].type = 0x05;
            m.e[1].lba_first = 4000u * (i + 1);
            m.e[1].nsec = 2000;
        }
        mbr_encode(&m, b + (10000ull + 4000 * i) * 512);
    }
    return d;
}

static void test_ebr(void)
{
    vk_dev *d = ebr_disk();
    vk_part_table t;
    vk_error err;
    int rc = vk_part_read(d, &t, &err);
    TAP_OK(rc == 0, "EBR chain reads (%s)", err.msg);
    TAP_EQ_U64(t.count, 5, "2 primaries + 3 logicals");
    const vk_part *ext = vk_part_find(&t, 2), *l5 = vk_part_find(&t, 5), *l7 = vk_part_find(&t, 7);
    TAP_OK(ext && (ext->flags & VK_PART_CONTAINER), "partition 2 is the extended container");
    TAP_OK(l5 && l5->start_lba == 10063 && l5->nsec == 1000 && (l5->flags & VK_PART_LOGICAL),
           "logical 5 starts relative to its EBR");
    TAP_OK(l7 && l7->start_lba == 18063 && l7->nsec == 1002, "logical 7 via next-EBR links relative to the extended start");
    TAP_EQ_STR(l5 ? l5->type_name : NULL, "Linux", "logical type 0x83 named Linux");
    vk_dev *w = NULL;
    TAP_OK(vk_part_open(d, 2, &w, &err) == VK_E_USAGE, "opening the extended container is refused");
    vk_part_table_free(&t);

    /* Third EBR links back to the second. */
    uint8_t *b = vk_dev_memory_bytes(d);
    uint8_t *e3 = b + 18000ull * 512 + MBR_TABLE_OFF + MBR_ENTRY_SIZE;
    e3[4] = 0x05;
    put_le32(e3 + 8, 4000);
    put_le32(e3 + 12, 2000);
    rc = vk_part_read(d, &t, &err);
    TAP_EQ_U64(rc, VK_E_CORRUPT, "EBR loop is corrupt");
    TAP_OK(strstr(err.msg, "loops") != NULL, "message says the chain loops: %s", err.msg);
    TAP_EQ_U64(err.offset, 18000ull * 512 + 462, "offset of the looping link");

    /* Logical running past its extended partition. */
    put_le32(e3, 0);
    memset(e3, 0, 16);
    put_le32(b + 18000ull * 512 + MBR_TABLE_OFF + 12, 20000);
    rc = vk_part_read(d, &t, &err);
    TAP_OK(rc == VK_E_CORRUPT && strstr(err.msg, "outside its extended"), "logical past the extended end: %s", err.msg);
    vk_dev_close(d);
}

static void test_bad_mbr(void)
{
    vk_dev *d = mem_disk();
    vk_part parts[2] = {mbr_part(2048, 4096, 0x07), mbr_part(8192, 4096, 0x07)};
    vk_part_write_mbr(d, 1, parts, 2, NULL);
    uint8_t *b = vk_dev_memory_bytes(d);
    snprintf(d->name, sizeof d->name, "bad.img");
    vk_part_table t;
    vk_error err;
    put_le32(b + 446 + 16 + 12, (uint32_t)(DISK_SIZE / 512)); /* partition 2 now ends past the disk */
    TAP_EQ_U64(vk_part_read(d, &t, &err), VK_E_CORRUPT, "partition past the end is corrupt");
    TAP_EQ_STR(err.file, "bad.img", "error names the disk file");
    TAP_OK(err.has_offset && err.offset == 446 + 16, "error names the entry offset 462");
    put_le32(b + 446 + 16 + 8, 4000); /* partition 2 at 4000..8095 overlaps 2048..6143 */
    put_le32(b + 446 + 16 + 12, 4096);
    TAP_EQ_U64(vk_part_read(d, &t, &err), VK_E_CORRUPT, "overlapping partitions are corrupt");
    TAP_OK(strstr(err.msg, "overlaps partition 1") && err.offset == 462, "overlap names the later entry: %s", err.msg);
    TAP_EQ_U64(vk_part_write_mbr(d, 1, (vk_part[]){mbr_part(100, 10, 7), mbr_part(105, 10, 7)}, 2, &err), VK_E_USAGE,
               "writer refuses overlapping partitions");

    memset(b, 0, 512);
    memcpy(b + 3, "NTFS    ", 8);
    put_le16(b + 510, MBR_SIGNATURE);
    TAP_OK(vk_part_read(d, &t, &err) == 0 && t.scheme == VK_PART_SCHEME_NONE && t.count == 1 &&
               (t.parts[0].flags & VK_PART_WHOLE_DISK) && t.parts[0].len == DISK_SIZE,
           "bare NTFS at sector 0 is one whole-disk volume");
    TAP_EQ_STR(t.count ? t.parts[0].type_name : NULL, "NTFS", "whole disk typed NTFS");
    vk_part_table_free(&t);
    memset(b, 0, 512);
    TAP_OK(vk_part_read(d, &t, &err) == 0 && t.scheme == VK_PART_SCHEME_NONE && t.nwarn == 1,
           "an empty sector 0 gives a whole disk with a warning");
    vk_part_table_free(&t);
    vk_dev_close(d);
    TAP_OK(vk_dev_memory(100, NULL, 0, &d, NULL) == 0 && vk_part_read(d, &t, &err) == VK_E_TRUNCATED,
           "a disk smaller than a sector is truncated");
    vk_dev_close(d);
}

static vk_part gpt_part(uint64_t start, uint64_t nsec, const char *type, const char *name)
{
    vk_part p = {0};
    p.start_lba = start;
    p.nsec = nsec;
    vk_guid_parse(type, p.type_guid);
    p.uuid[0] = (uint8_t)start;
    p.uuid[15] = 0x42;
    snprintf(p.name, sizeof p.name, "%s", name);
    return p;
}

static void test_gpt(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/gpt.img", dir);
    vk_error err;
    vk_dev *d = NULL;
    vk_dev_open_file(path, VK_FILE_RDWR | VK_FILE_CREATE, &d, &err);
    vk_dev_set_size(d, DISK_SIZE, &err);
    vk_part parts[3] = {gpt_part(2048, 2048, VK_GPT_TYPE_EFI_SYSTEM, "EFI system partition"),
                        gpt_part(4096, 2048, VK_GPT_TYPE_MS_RESERVED, "Microsoft reserved partition"),
                        gpt_part(6144, 100000, VK_GPT_TYPE_MS_BASIC_DATA, "Basic data partition \xc3\xa9")};
    uint8_t dg[16];
    vk_guid_parse("01234567-89AB-CDEF-0123-456789ABCDEF", dg);
    TAP_OK(vk_part_write_gpt(d, dg, parts, 3, &err) == 0, "write a GPT with EFI, MSR and basic data");
    vk_part_table t;
    int rc = vk_part_read(d, &t, &err);
    TAP_OK(rc == 0, "read it back (%s)", err.msg);
    TAP_OK(t.scheme == VK_PART_SCHEME_GPT && t.protective_mbr && !t.hybrid_mbr && !t.gpt_backup_used && t.nwarn == 0,
           "GPT with a protective MBR, primary used, no warnings");
    TAP_EQ_U64(t.count, 3, "three partitions");
    char g[37];
    vk_guid_format(t.disk_guid, g);
    TAP_EQ_STR(g, "01234567-89AB-CDEF-0123-456789ABCDEF", "disk GUID");
    TAP_EQ_STR(t.count == 3 ? t.parts[0].type_name : NULL, "EFI System", "type 1 EFI System");
    TAP_EQ_STR(t.count == 3 ? t.parts[1].type_name : NULL, "Microsoft Reserved", "type 2 Microsoft Reserved");
    TAP_EQ_STR(t.count == 3 ? t.parts[2].type_name : NULL, "Microsoft basic data", "type 3 Microsoft basic data");
    TAP_EQ_STR(t.count == 3 ? t.parts[2].name : NULL, "Basic data partition \xc3\xa9", "UTF-16LE name decoded");
    TAP_EQ_U64(t.count == 3 ? t.parts[2].entry_off : 0, 1024 + 256, "entry 3 at byte 1280");
    TAP_EQ_U64(t.count == 3 ? t.parts[2].len : 0, 100000ull * 512, "length from first/last LBA");
    vk_part_table_free(&t);
    uint64_t starts[8];
    int n = mmls_starts(path, starts, 8);
    TAP_OK(n >= 3 && starts[n - 3] == 2048 && starts[n - 2] == 4096 && starts[n - 1] == 6144,
           "mmls reads our GPT (%d entries)", n);

    /* Damage the primary header CRC: the backup takes over and the result says so. */
    uint8_t hdr[512];
    vk_dev_read(d, hdr, 512, 512, &err);
    hdr[16] ^= 0xFF;
    vk_dev_write(d, hdr, 512, 512, &err);
    rc = vk_part_read(d, &t, &err);
    TAP_OK(rc == 0 && t.gpt_backup_used && t.count == 3, "bad primary header: partitions from the backup");
    TAP_EQ_STR(t.nwarn ? t.warnings[0] : NULL, "primary GPT header CRC mismatch: using the backup", "warning says so");
    vk_part_table_free(&t);
    /* Backup gone too. */
    uint8_t zero[512] = {0};
    vk_dev_write(d, zero, 512, DISK_SIZE - 512, &err);
    rc = vk_part_read(d, &t, &err);
    TAP_EQ_U64(rc, VK_E_CORRUPT, "both GPT headers bad is corrupt");
    TAP_OK(strstr(err.msg, "both GPT headers") && err.offset == 512, "message: %s", err.msg);
    vk_dev_close(d);
}

static void test_gpt_bad_entries(void)
{
    vk_dev *d = mem_disk();
    vk_part p = gpt_part(2048, 4096, VK_GPT_TYPE_MS_BASIC_DATA, "data");
    uint8_t dg[16] = {1};
    vk_part_write_gpt(d, dg, &p, 1, NULL);
    uint8_t *b = vk_dev_memory_bytes(d);
    vk_part_table t;
    vk_error err;

    /* Hybrid: an MBR entry next to the 0xEE one. */
    b[446 + 16 + 4] = 0x07;
    put_le32(b + 446 + 16 + 8, 2048);
    put_le32(b + 446 + 16 + 12, 4096);
    TAP_OK(vk_part_read(d, &t, &err) == 0 && t.hybrid_mbr && t.count == 1, "hybrid MBR detected, GPT used");
    vk_part_table_free(&t);

    /* An entry past the disk end, with both CRCs of both copies recomputed so only the bounds are wrong. */
    uint64_t disk_sec = DISK_SIZE / 512;
    uint64_t copies[2][2] = {{1, 2}, {disk_sec - 1, disk_sec - 33}};
    for (int c = 0; c < 2; c++) {
        uint8_t *hdr = b + copies[c][0] * 512, *arr = b + copies[c][1] * 512;
        put_le64(arr + 40, disk_sec + 10);
        put_le32(hdr + 88, part_crc32(arr, 128 * 128));
        put_le32(hdr + 16, 0);
        put_le32(hdr + 16, part_crc32(hdr, 92));
    }
    TAP_EQ_U64(vk_part_read(d, &t, &err), VK_E_CORRUPT, "GPT entry past the disk end is corrupt");
    TAP_OK(strstr(err.msg, "past the end of the disk") && err.offset == 1024, "names entry 1 at byte 1024: %s", err.msg);

    /* A hostile entry count. */
    put_le32(b + 512 + 80, 0x100000);
    put_le32(b + 512 + 16, 0);
    put_le32(b + 512 + 16, part_crc32(b + 512, 92));
    TAP_EQ_U64(vk_part_read(d, &t, &err), VK_E_CORRUPT, "1M-entry header is refused, backup still checked");
    vk_dev_close(d);
}

int main(void)
{
    char tmpl[] = "/tmp/vk-part-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return 1;
    test_codecs();
    test_mbr(dir);
    test_ebr();
    test_bad_mbr();
    test_gpt(dir);
    test_gpt_bad_entries();
    char cmd[600];
    snprintf(cmd, sizeof cmd, getenv("VK_KEEP") ? "true '%s'" : "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        TAP_OK(0, "clean up %s", dir);
    return tap_done();
}
