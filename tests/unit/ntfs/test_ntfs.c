/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntfs: volumes made by mkntfs inside an MBR disk, written through vk_ntfs, checked with sleuthkit and ntfs-3g
 * tools; hibernated, dirty and damaged volumes. */
#include "tap.h"

#include <stdarg.h>
#include <unistd.h>

#include "ntfs/ntfs_int.h"
#include "vhdkit/part.h"

#define DISK_SIZE (64ull << 20)
#define P1_START 63ull
#define P1_NSEC 20000ull
#define P2_START 20480ull
#define P2_NSEC 100000ull
#define BIG_LEN 300000u

static char dir[64];
static char disk_path[128];
static int log_errors;
static char last_log[512];

static void collect_log(void *ctx, enum vk_ntfs_log_level level, const char *msg)
{
    (void)ctx;
    if (level == VK_NTFS_LOG_ERROR) {
        log_errors++;
        snprintf(last_log, sizeof last_log, "%s", msg);
    }
}

static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* Whole output of a shell command (NUL-terminated, at most cap-1 bytes); returns the byte count or -1. */
static long sh_out(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    return pclose(f) == 0 ? (long)n : -1;
}

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 + (i >> 9)); }

static int make_disk(void)
{
    vk_dev *d;
    vk_error err;
    if (vk_dev_open_file(disk_path, VK_FILE_RDWR | VK_FILE_CREATE, &d, &err) || vk_dev_set_size(d, DISK_SIZE, &err))
        return -1;
    vk_part parts[2] = {{0}, {0}};
    parts[0].start_lba = P1_START;
    parts[0].nsec = P1_NSEC;
    parts[0].mbr_type = 0x07;
    parts[1].start_lba = P2_START;
    parts[1].nsec = P2_NSEC;
    parts[1].mbr_type = 0x07;
    int rc = vk_part_write_mbr(d, 0xCAFE, parts, 2, &err);
    vk_dev_close(d);
    if (rc)
        return -1;
    /* mkntfs formats a file from its start; -p records the hidden sectors a BIOS boot would need. */
    unsigned long long starts[2] = {P1_START, P2_START}, lens[2] = {P1_NSEC, P2_NSEC};
    for (int i = 0; i < 2; i++)
        if (sh("cd %s && truncate -s %llu p.img && mkntfs -q -F -Q -s 512 -p %llu -H 255 -S 63 -L Vol%d p.img 2>/dev/null && "
               "dd if=p.img of=d.img bs=512 seek=%llu conv=notrunc status=none && rm p.img",
               dir, lens[i] * 512, starts[i], i + 1, starts[i]))
            return -1;
    return 0;
}

static int open_vol(vk_dev *disk, unsigned part, unsigned flags, vk_dev **win, vk_ntfs **vol, vk_error *err)
{
    int rc = vk_part_open(disk, part, win, err);
    if (rc)
        return rc;
    vk_ntfs_opts o = {.flags = flags, .log = collect_log};
    rc = vk_ntfs_mount_opts(*win, &o, vol, err);
    if (rc)
        vk_dev_close(*win);
    return rc;
}

struct names {
    char all[4096];
    int count;
};

static int add_name(void *ctx, const vk_ntfs_dirent *e)
{
    struct names *n = ctx;
    size_t l = strlen(n->all);
    snprintf(n->all + l, sizeof n->all - l, "%s%s|", e->name, e->is_dir ? "/" : "");
    n->count++;
    return 0;
}

struct sum {
    uint64_t len;
    int same;
};

static int check_pattern(void *ctx, const void *buf, size_t len)
{
    struct sum *s = ctx;
    for (size_t i = 0; i < len; i++)
        if (((const uint8_t *)buf)[i] != pattern(s->len + i))
            s->same = 0;
    s->len += len;
    return 0;
}

static void test_write_read(vk_dev *disk)
{
    vk_dev *win;
    vk_ntfs *v;
    vk_error err;
    log_errors = 0;
    int rc = open_vol(disk, 2, 0, &win, &v, &err);
    TAP_OK(rc == 0, "read-write mount of partition 2 (%s)", err.msg);
    if (rc)
        return;
    vk_ntfs_info info;
    TAP_OK(vk_ntfs_info_get(v, &info, &err) == 0, "volume info");
    TAP_EQ_STR(info.label, "Vol2", "label from mkntfs -L");
    TAP_EQ_U64(info.cluster_size, 4096, "cluster size 4 KiB");
    TAP_EQ_U64(info.total_clu, (P2_NSEC - 1) * 512 / 4096, "total clusters (the last sector holds the backup boot)");
    TAP_OK(info.free_clu > 0 && info.free_clu < info.total_clu, "free clusters counted (%llu)",
           (unsigned long long)info.free_clu);
    TAP_OK(info.major == 3 && info.minor == 1 && !info.hibernated && !info.dirty && !info.logfile_unclean,
           "NTFS 3.1, clean, not hibernated");

    TAP_OK(vk_ntfs_mkdir(v, "Windows/System32/config", 1, &err) == 0, "mkdir -p Windows/System32/config (%s)",
           err.msg);
    TAP_OK(vk_ntfs_mkdir(v, "Windows/System32/config", 1, &err) == 0, "mkdir -p on an existing directory is fine");
    TAP_EQ_U64(vk_ntfs_mkdir(v, "Windows", 0, &err), VK_E_EXISTS, "plain mkdir of an existing directory fails");
    TAP_EQ_U64(vk_ntfs_mkdir(v, "a/b", 0, &err), VK_E_NOTFOUND, "plain mkdir without the parent fails");
    uint8_t *big = malloc(BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i++)
        big[i] = pattern(i);
    rc = vk_ntfs_pwrite(v, "Windows/System32/config/SYSTEM", VK_NTFS_CREATE | VK_NTFS_EXCL, big, BIG_LEN, 0, &err);
    TAP_OK(rc == 0, "create a 300000-byte file (%s)", err.msg);
    TAP_EQ_U64(vk_ntfs_pwrite(v, "Windows/System32/config/SYSTEM", VK_NTFS_CREATE | VK_NTFS_EXCL, "x", 1, 0, &err),
               VK_E_EXISTS, "exclusive create of an existing file fails");
    const char hello[] = "hello world\n";
    TAP_OK(vk_ntfs_pwrite(v, "hello.txt", VK_NTFS_CREATE, hello, sizeof hello - 1, 0, &err) == 0, "create hello.txt");
    TAP_OK(vk_ntfs_pwrite(v, "hello.txt:secret", VK_NTFS_CREATE, "ads data", 8, 0, &err) == 0,
           "write an alternate data stream (%s)", err.msg);
    TAP_OK(vk_ntfs_is_windows(v), "Windows/System32/config makes it a Windows volume");

    struct names n = {"", 0};
    TAP_OK(vk_ntfs_readdir(v, "", 0, add_name, &n, &err) == 0, "readdir of the root");
    TAP_OK(strstr(n.all, "Windows/|") && strstr(n.all, "hello.txt|") && !strstr(n.all, "$MFT"),
           "root lists Windows and hello.txt, no metafiles: %s", n.all);
    struct names m = {"", 0};
    vk_ntfs_readdir(v, "/", VK_NTFS_LS_META, add_name, &m, &err);
    TAP_OK(strstr(m.all, "$MFT|") && strstr(m.all, "$Extend/|") && m.count > n.count, "metafiles listed when asked");
    /* A long name gets a DOS 8.3 alias from ntfs-3g only on request, so the listing count proves no duplicates. */
    vk_ntfs_pwrite(v, "Windows/Long File Name.txt", VK_NTFS_CREATE, "x", 1, 0, &err);
    struct names w = {"", 0};
    vk_ntfs_readdir(v, "windows", 0, add_name, &w, &err);
    TAP_OK(w.count == 2 && strstr(w.all, "System32/|"), "case-insensitive readdir path, 2 entries: %s", w.all);

    vk_ntfs_stat st, st2;
    TAP_OK(vk_ntfs_stat_path(v, "Windows/System32/config/SYSTEM", &st, &err) == 0, "stat SYSTEM");
    TAP_OK(vk_ntfs_stat_path(v, "WINDOWS\\system32\\CONFIG\\system", &st2, &err) == 0 && st2.mft == st.mft,
           "case-insensitive lookup with backslashes finds the same MFT record");
    vk_ntfs_stat_free(&st2);
    TAP_EQ_U64(st.size, BIG_LEN, "size of SYSTEM");
    uint64_t clusters = 0;
    int data_nonres = 0;
    for (unsigned i = 0; i < st.nattrs; i++)
        if (st.attrs[i].type == 0x80 && !st.attrs[i].name[0] && !st.attrs[i].resident) {
            data_nonres = 1;
            for (unsigned r = 0; r < st.attrs[i].nruns; r++)
                clusters += st.attrs[i].runs[r].len_clu;
        }
    TAP_OK(data_nonres && clusters == (BIG_LEN + 4095) / 4096, "non-resident $DATA runs cover %llu clusters",
           (unsigned long long)clusters);
    uint64_t big_mft = st.mft;
    vk_ntfs_stat_free(&st);
    TAP_OK(vk_ntfs_stat_path(v, "hello.txt", &st, &err) == 0, "stat hello.txt");
    int has_si = 0, has_fn = 0, has_ads = 0;
    for (unsigned i = 0; i < st.nattrs; i++) {
        has_si |= st.attrs[i].type == 0x10;
        has_fn |= st.attrs[i].type == 0x30;
        has_ads |= st.attrs[i].type == 0x80 && !strcmp(st.attrs[i].name, "secret") && st.attrs[i].size == 8 &&
                   st.attrs[i].resident;
    }
    TAP_OK(has_si && has_fn && has_ads, "attributes: $STANDARD_INFORMATION, $FILE_NAME, resident stream \"secret\"");
    vk_ntfs_stat_free(&st);

    char buf[64];
    size_t got;
    TAP_OK(vk_ntfs_pread(v, "HELLO.TXT", buf, sizeof buf, 6, &got, &err) == 0 && got == 6 && !memcmp(buf, "world\n", 6),
           "pread at offset 6, short at end of file");
    TAP_OK(vk_ntfs_pread(v, "hello.txt:secret", buf, sizeof buf, 0, &got, &err) == 0 && got == 8 &&
               !memcmp(buf, "ads data", 8),
           "read the stream back");
    struct sum s = {0, 1};
    TAP_OK(vk_ntfs_read_all(v, "Windows/System32/config/SYSTEM", check_pattern, &s, &err) == 0 && s.same &&
               s.len == BIG_LEN,
           "streamed read gives the written bytes");
    TAP_EQ_U64(vk_ntfs_pread(v, "nope.txt", buf, 1, 0, &got, &err), VK_E_NOTFOUND, "missing file is VK_E_NOTFOUND");
    TAP_EQ_U64(vk_ntfs_exists(v, "hello.txt:secret", &err), 1, "stream exists");
    TAP_EQ_U64(vk_ntfs_exists(v, "hello.txt:other", &err), 0, "other stream does not");

    vk_ntfs_times t = {.crtime_ns = 1000000000ll * 1500000000, .mtime_ns = 1000000000ll * 1600000000 + 12300,
                       .ctime_ns = 1000000000ll * 1600000001, .atime_ns = 1000000000ll * 1600000002};
    TAP_OK(vk_ntfs_set_times(v, "hello.txt", &t, &err) == 0, "set times");
    vk_ntfs_stat_path(v, "hello.txt", &st, &err);
    TAP_OK(st.times.crtime_ns == t.crtime_ns && st.times.mtime_ns == t.mtime_ns, "times read back (100 ns units)");
    vk_ntfs_stat_free(&st);

    TAP_OK(vk_ntfs_truncate(v, "hello.txt", 5, &err) == 0, "truncate to 5");
    TAP_OK(vk_ntfs_pwrite(v, "hello.txt", VK_NTFS_TRUNCATE, "bye", 3, 0, &err) == 0, "overwrite with truncate");
    TAP_OK(vk_ntfs_pread(v, "hello.txt", buf, sizeof buf, 0, &got, &err) == 0 && got == 3 && !memcmp(buf, "bye", 3),
           "content is \"bye\"");

    vk_ntfs_mkdir(v, "tmp/a/b", 1, &err);
    vk_ntfs_pwrite(v, "tmp/a/b/f", VK_NTFS_CREATE, "1", 1, 0, &err);
    vk_ntfs_pwrite(v, "tmp/a/g", VK_NTFS_CREATE, "2", 1, 0, &err);
    TAP_OK(vk_ntfs_remove(v, "tmp", 0, &err) != 0, "non-recursive remove of a full directory fails");
    TAP_OK(vk_ntfs_remove(v, "TMP", 1, &err) == 0, "recursive remove (%s)", err.msg);
    TAP_EQ_U64(vk_ntfs_exists(v, "tmp", &err), 0, "tmp is gone");
    vk_ntfs_pwrite(v, "gone.txt", VK_NTFS_CREATE, "x", 1, 0, &err);
    TAP_OK(vk_ntfs_remove(v, "gone.txt", 0, &err) == 0 && vk_ntfs_exists(v, "gone.txt", &err) == 0, "unlink a file");
    TAP_OK(vk_ntfs_unmount(v, &err) == 0, "unmount flushes");
    vk_dev_close(win);
    TAP_EQ_U64(log_errors, 0, "libntfs-3g logged no error (no \"Failed to sync FILE_NAME\"): %s", last_log);
    free(big);

    /* Peers read what we wrote. */
    char out[8192];
    long nout = sh_out(out, sizeof out, "fls -r -p -o %llu %s", P2_START, disk_path);
    TAP_OK(nout > 0 && strstr(out, "Windows/System32/config/SYSTEM") && strstr(out, "hello.txt") &&
               !strstr(out, "tmp/a"),
           "fls lists our files");
    TAP_OK(sh("icat -o %llu %s %llu > %s/sys.icat", P2_START, disk_path, (unsigned long long)big_mft, dir) == 0,
           "icat extracts SYSTEM by MFT record");
    TAP_OK(sh("cd %s && dd if=d.img of=p2.img bs=512 skip=%llu count=%llu status=none && ntfscat p2.img "
              "/Windows/System32/config/SYSTEM > sys.ntfscat && cmp -s sys.icat sys.ntfscat",
              dir, P2_START, P2_NSEC) == 0,
           "ntfscat gives the same bytes as icat");
    FILE *f = fopen(strcat(strcpy(out, dir), "/sys.icat"), "rb");
    struct sum s2 = {0, 1};
    uint8_t fb[4096];
    size_t r;
    while (f && (r = fread(fb, 1, sizeof fb, f)) > 0)
        check_pattern(&s2, fb, r);
    if (f)
        fclose(f);
    TAP_OK(s2.same && s2.len == BIG_LEN, "icat bytes are the written pattern");
    nout = sh_out(out, sizeof out, "cd %s && ntfsls -p / p2.img", dir);
    TAP_OK(nout > 0 && strstr(out, "hello.txt") && strstr(out, "Windows"), "ntfsls lists the root");
    TAP_OK(sh("cd %s && ntfscat p2.img hello.txt | grep -qx bye", dir) == 0, "ntfscat reads hello.txt");
}

static void test_choose(vk_dev *disk)
{
    vk_ntfs *v;
    vk_dev *win;
    unsigned chosen = 0;
    vk_error err;
    vk_ntfs_opts o = {.flags = VK_NTFS_RDONLY};
    int rc = vk_ntfs_choose(disk, 0, &o, &v, &win, &chosen, &err);
    TAP_OK(rc == 0 && chosen == 2, "the Windows volume (partition 2) is chosen among two NTFS volumes");
    if (!rc) {
        vk_ntfs_unmount(v, NULL);
        vk_dev_close(win);
    }
    rc = vk_ntfs_choose(disk, 1, &o, &v, &win, &chosen, &err);
    TAP_OK(rc == 0 && chosen == 1, "--part 1 picks partition 1");
    if (!rc) {
        vk_ntfs_unmount(v, NULL);
        vk_dev_close(win);
    }
    TAP_EQ_U64(vk_ntfs_choose(disk, 9, &o, &v, &win, &chosen, &err), VK_E_USAGE, "--part 9 does not exist");
}

static void test_choose_ambiguous(vk_dev *disk)
{
    vk_ntfs *v;
    vk_dev *win;
    unsigned chosen;
    vk_error err;
    if (open_vol(disk, 2, 0, &win, &v, &err) == 0) {
        vk_ntfs_remove(v, "Windows", 1, &err);
        vk_ntfs_unmount(v, &err);
        vk_dev_close(win);
    }
    vk_ntfs_opts o = {.flags = VK_NTFS_RDONLY};
    TAP_EQ_U64(vk_ntfs_choose(disk, 0, &o, &v, &win, &chosen, &err), VK_E_USAGE, "two NTFS volumes, no Windows");
    TAP_OK(strstr(err.msg, "1 (NTFS), 2 (NTFS)") != NULL, "the choices are listed: %s", err.msg);
}

static int write_hiberfil(vk_dev *disk, unsigned part, const char *magic)
{
    vk_dev *win;
    vk_ntfs *v;
    vk_error err;
    if (open_vol(disk, part, 0, &win, &v, &err))
        return -1;
    uint8_t hdr[8192] = {0};
    memcpy(hdr, magic, 4);
    int rc = vk_ntfs_pwrite(v, "hiberfil.sys", VK_NTFS_CREATE | VK_NTFS_TRUNCATE, hdr, sizeof hdr, 0, &err);
    rc |= vk_ntfs_unmount(v, &err);
    vk_dev_close(win);
    return rc;
}

static void test_safety(vk_dev *disk)
{
    vk_dev *win;
    vk_ntfs *v;
    vk_error err;
    vk_ntfs_info info;
    /* ntfs-3g only treats "hibr"/"HIBR" as hibernated; "wake" is what a resumed Windows leaves. */
    TAP_OK(write_hiberfil(disk, 1, "wake") == 0, "hiberfil.sys starting with \"wake\"");
    TAP_OK(open_vol(disk, 1, 0, &win, &v, &err) == 0, "a resumed (\"wake\") volume mounts read-write");
    vk_ntfs_unmount(v, NULL);
    vk_dev_close(win);

    TAP_OK(write_hiberfil(disk, 2, "hibr") == 0, "hiberfil.sys starting with \"hibr\"");
    int rc = open_vol(disk, 2, 0, &win, &v, &err);
    TAP_EQ_U64(rc, VK_E_REFUSED, "read-write mount of a hibernated volume is refused");
    TAP_OK(strstr(err.msg, "hibernated") && strstr(err.msg, "powercfg /h off"), "message has the remedy: %s", err.msg);
    rc = open_vol(disk, 2, VK_NTFS_RDONLY, &win, &v, &err);
    TAP_OK(rc == 0, "read-only mount of a hibernated volume works");
    if (!rc) {
        vk_ntfs_info_get(v, &info, &err);
        TAP_OK(info.hibernated && info.readonly, "info says hibernated");
        TAP_EQ_U64(vk_ntfs_mkdir(v, "x", 0, &err), VK_E_READONLY, "writes on a read-only mount fail");
        vk_ntfs_unmount(v, NULL);
        vk_dev_close(win);
    }

    /* Dirty flag, set as chkdsk-needing Windows would leave it. */
    rc = open_vol(disk, 1, 0, &win, &v, &err);
    if (!rc) {
        TAP_OK(ntfs_volume_write_flags(v->vol, v->vol->flags | VOLUME_IS_DIRTY) == 0, "set the volume dirty flag");
        vk_ntfs_unmount(v, NULL);
        vk_dev_close(win);
    }
    rc = open_vol(disk, 1, 0, &win, &v, &err);
    TAP_EQ_U64(rc, VK_E_REFUSED, "read-write mount of a dirty volume is refused");
    TAP_OK(strstr(err.msg, "dirty") && strstr(err.msg, "powercfg"), "message: %s", err.msg);
    rc = open_vol(disk, 1, VK_NTFS_RDONLY, &win, &v, &err);
    TAP_OK(rc == 0, "read-only mount of a dirty volume works");
    if (!rc) {
        vk_ntfs_info_get(v, &info, &err);
        TAP_OK(info.dirty, "info says dirty");
        vk_ntfs_unmount(v, NULL);
        vk_dev_close(win);
    }
}

static void test_damaged(vk_dev *disk)
{
    vk_dev *win;
    vk_ntfs *v;
    vk_error err;
    uint8_t boot[512];
    vk_dev_read(disk, boot, 512, P1_START * 512, &err);
    boot[0x0B] = 0x13; /* bytes per sector 0x0213: not a power of two */
    boot[0x0C] = 0x02;
    vk_dev_write(disk, boot, 512, P1_START * 512, &err);
    int rc = open_vol(disk, 1, VK_NTFS_RDONLY, &win, &v, &err);
    TAP_EQ_U64(rc, VK_E_CORRUPT, "bad bytes-per-sector in the boot sector is corrupt: %s", err.msg);
    memset(boot, 0, sizeof boot);
    vk_dev_write(disk, boot, 512, P1_START * 512, &err);
    rc = open_vol(disk, 1, VK_NTFS_RDONLY, &win, &v, &err);
    TAP_EQ_U64(rc, VK_E_UNSUPPORTED, "a zeroed boot sector is not NTFS: %s", err.msg);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/vk-ntfs-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(disk_path, sizeof disk_path, "%s/d.img", dir);
    TAP_OK(make_disk() == 0, "disk with two mkntfs partitions at sectors 63 and 20480");
    vk_dev *disk;
    vk_error err;
    if (vk_dev_open_file(disk_path, VK_FILE_RDWR, &disk, &err) == 0) {
        test_write_read(disk);
        test_choose(disk);
        test_choose_ambiguous(disk);
        test_safety(disk);
        test_damaged(disk);
        vk_dev_close(disk);
    }
    if (!getenv("VK_KEEP"))
        sh("rm -rf %s", dir);
    return tap_done();
}
