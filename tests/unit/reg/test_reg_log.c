/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reg: dirty hives recovered from .LOG1/.LOG2 (new HvLE and old DIRT formats) on the yarp and regipy corpus;
 * damaged logs leave the hive readable with a warning and refuse writing; corrupt hives fail cleanly. */
#include "tap.h"
#include "regtest.h"

#include "core/bytes.h"
#include "vhdkit/reg.h"

struct loaded {
    unsigned char *hive, *l1, *l2;
    size_t n, n1, n2;
};

static void load(struct loaded *l, const char *hive, const char *log1, const char *log2)
{
    memset(l, 0, sizeof *l);
    l->hive = rt_corpus(hive, &l->n);
    if (log1)
        l->l1 = rt_corpus(log1, &l->n1);
    if (log2)
        l->l2 = rt_corpus(log2, &l->n2);
}

static void unload(struct loaded *l)
{
    free(l->hive);
    free(l->l1);
    free(l->l2);
}

/* Open with logs; returns the handle (or NULL) and fills the warning. */
static vk_reg_hive *open_logged(struct loaded *l, vk_error *e)
{
    vk_reg_log a = {l->l1, l->n1}, b = {l->l2, l->n2};
    vk_reg_hive *h = NULL;
    vk_error_clear(e);
    if (!l->hive || vk_reg_hive_open_bytes(l->hive, l->n, &a, &b, VK_REG_OPEN_WRITE, &h, e) < 0)
        return NULL;
    return h;
}

static void recovered(const char *label, const char *hive, const char *log1, const char *log2, int expect_ok)
{
    struct loaded l;
    vk_error e;
    load(&l, hive, log1, log2);
    vk_reg_hive *h = open_logged(&l, &e);
    TAP_OK(h != NULL, "%s: opens (%s)", label, h ? vk_reg_hive_warning(h) : e.msg);
    if (!h) {
        unload(&l);
        return;
    }
    const char *w = vk_reg_hive_warning(h);
    if (expect_ok) {
        TAP_OK(!*w && vk_reg_hive_replayed(h) > 0, "%s: recovered from its logs (%u entries or pages)", label,
               vk_reg_hive_replayed(h));
        uint8_t *b;
        size_t n;
        int rc = vk_reg_hive_commit(h, &b, &n, &e);
        TAP_OK(rc == 0 && get_le32(b + 4) == get_le32(b + 8), "%s: committed hive is clean", label);
        if (rc == 0) {
            char path[600], cmd[800], out[256];
            snprintf(path, sizeof path, "%s/replayed", rt_tmpdir());
            rt_write(path, b, n);
            snprintf(cmd, sizeof cmd, "hivexml '%s' >/dev/null 2>&1; echo $?", path);
            rt_run(cmd, out, sizeof out);
            TAP_EQ_STR(out, "0", "%s: hivexml walks the whole replayed hive", label);
            free(b);
        }
    } else {
        TAP_OK(*w != 0, "%s: warns: %s", label, w);
        uint8_t *b = NULL;
        size_t n;
        TAP_EQ_U64(vk_reg_hive_commit(h, &b, &n, &e), (uint64_t)VK_E_REFUSED, "%s: writing is refused", label);
        free(b);
    }
    vk_reg_hive_close(h);
    unload(&l);
}

static void test_expectations(void)
{
    struct loaded l;
    vk_error e;
    vk_reg_key k;
    /* yarp test_autorecovery: NewDirtyHive2 recovers from .LOG2 only (.LOG1 holds an entry already in the hive). */
    load(&l, "yarp/NewDirtyHive2/NewDirtyHive", "yarp/NewDirtyHive2/NewDirtyHive.LOG1", "yarp/NewDirtyHive2/NewDirtyHive.LOG2");
    vk_reg_hive *h = open_logged(&l, &e);
    TAP_EQ_U64(h ? vk_reg_hive_replayed(h) : 0, 3, "NewDirtyHive2: the three .LOG2 entries (3, 4, 5) are replayed, none of .LOG1");
    vk_reg_hive_close(h);
    unload(&l);
    /* Without its logs the same hive opens read-only with a warning. */
    load(&l, "yarp/NewDirtyHive2/NewDirtyHive", NULL, NULL);
    h = open_logged(&l, &e);
    TAP_OK(h && *vk_reg_hive_warning(h) && vk_reg_hive_replayed(h) == 0, "NewDirtyHive2 without logs: readable, warned");
    vk_reg_hive_close(h);
    unload(&l);
    /* yarp test_bad_baseblock: the damaged base block comes back from .LOG1 (old format) and the key is there. */
    load(&l, "yarp/BadBaseBlockHive/BadBaseBlockHive", "yarp/BadBaseBlockHive/BadBaseBlockHive.LOG1",
         "yarp/BadBaseBlockHive/BadBaseBlockHive.LOG2");
    h = open_logged(&l, &e);
    TAP_OK(h && vk_reg_key_find(h, "key_with_many_subkeys", &k, &e) == 0, "BadBaseBlockHive: key_with_many_subkeys found after recovery");
    vk_reg_hive_close(h);
    unload(&l);
    /* Empty files (yarp Discovery tests name discovery only): a clean error. */
    load(&l, "yarp/Discovery/1/aa", NULL, NULL);
    h = NULL;
    TAP_EQ_U64(l.hive ? vk_reg_hive_open_bytes(l.hive, l.n, NULL, NULL, 0, &h, &e) : 0, (uint64_t)VK_E_TRUNCATED,
               "an empty hive file is a clean error");
    unload(&l);
}

static void test_corrupt(void)
{
    static const char *const bad[] = {
        "plaso/corrupt_sub_key_list.hiv", "regipy/corrupted_system_hive", "yarp/GarbageHive", "yarp/TruncatedHive",
        "yarp/TruncatedHiveBin", "yarp/BadListHive", "yarp/BadSubkeyHive", "yarp/InvalidParentHive",
        "yarp/TruncatedNameHive", "yarp/WrongOrderHive",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n;
        unsigned char *b = rt_corpus(bad[i], &n);
        vk_reg_hive *h = NULL;
        vk_error e = {0};
        int rc = b ? vk_reg_hive_open_bytes(b, n, NULL, NULL, VK_REG_OPEN_WRITE, &h, &e) : -1;
        uint8_t *t = NULL;
        size_t tn;
        if (rc == 0)
            rc = vk_reg_export(h, "", "HKEY_LOCAL_MACHINE\\SOFTWARE", VK_REG_FMT_UTF8, &t, &tn, &e);
        TAP_OK(rc == 0 || (rc < 0 && vk_exit_status(rc) == 3), "%s: opens and exports, or fails cleanly (%s)", bad[i],
               rc ? e.msg : "read");
        free(t);
        vk_reg_hive_close(h);
        free(b);
    }
}

int main(void)
{
    recovered("NewDirtyHive", "yarp/NewDirtyHive2/NewDirtyHive", "yarp/NewDirtyHive2/NewDirtyHive.LOG1",
              "yarp/NewDirtyHive2/NewDirtyHive.LOG2", 1);
    recovered("BadBaseBlockHive", "yarp/BadBaseBlockHive/BadBaseBlockHive", "yarp/BadBaseBlockHive/BadBaseBlockHive.LOG1",
              "yarp/BadBaseBlockHive/BadBaseBlockHive.LOG2", 1);
    recovered("regipy SYSTEM_B", "regipy/SYSTEM_B", "regipy/SYSTEM_B.LOG1", "regipy/SYSTEM_B.LOG2", 1);
    recovered("regipy UsrClass.dat", "regipy/UsrClass.dat", "regipy/UsrClass.dat.LOG1", "regipy/UsrClass.dat.LOG2", 1);
    recovered("BadLogHive1", "yarp/BadLogHive1/BadLogHive", "yarp/BadLogHive1/BadLogHive.LOG1", "yarp/BadLogHive1/BadLogHive.LOG2", 0);
    recovered("BadLogHive2", "yarp/BadLogHive2/BadLogHive", "yarp/BadLogHive2/BadLogHive.LOG1", "yarp/BadLogHive2/BadLogHive.LOG2", 0);
    recovered("BadLogHive3", "yarp/BadLogHive3/BadLogHive", "yarp/BadLogHive3/BadLogHive.LOG1", "yarp/BadLogHive3/BadLogHive.LOG2", 0);
    recovered("SYSTEM_2 without logs", "regipy/SYSTEM_2", NULL, NULL, 0);
    recovered("TruncatedDirtyHive without logs", "yarp/TruncatedDirtyHive", NULL, NULL, 0);
    test_expectations();
    test_corrupt();
    return tap_done();
}
