/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dev: file (locks, holes, growth), window, memory and fault-injector devices. */
#include "tap.h"

#include <fcntl.h>
#include <unistd.h>

#include "vhdkit/dev.h"

static char tmpdir[] = "/tmp/vk-test-dev-XXXXXX";

static void test_file(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/f.img", tmpdir);
    vk_dev *dev = NULL, *dev2 = NULL;
    vk_error err;
    TAP_OK(vk_dev_open_file(path, VK_FILE_CREATE, &dev, &err) == 0, "create a new file");
    TAP_OK(vk_dev_open_file(path, VK_FILE_CREATE, &dev2, &err) == VK_E_EXISTS, "create refuses an existing file");
    TAP_OK(vk_dev_open_file(path, 0, &dev2, &err) == VK_E_BUSY, "a reader is refused while a writer holds the lock");
    TAP_OK(strstr(err.file, "f.img") != NULL, "the lock error names the file");
    uint8_t buf[4096];
    memset(buf, 0xA5, sizeof buf);
    TAP_OK(vk_dev_write(dev, buf, sizeof buf, 1 << 20, &err) == 0, "write past the end grows the file");
    TAP_EQ_U64(dev->size, (1 << 20) + 4096, "size follows the write");
    vk_extent ext;
    TAP_OK(vk_dev_extent(dev, 0, dev->size, &ext, &err) == 0, "extent query");
    TAP_OK(ext.kind == VK_EXTENT_ZERO && ext.len == (1 << 20), "the unwritten start is a hole");
    vk_dev_extent(dev, 1 << 20, 4096, &ext, &err);
    TAP_OK(ext.kind == VK_EXTENT_DATA, "written range is data");
    uint8_t back[4096];
    TAP_OK(vk_dev_read(dev, back, sizeof back, 1 << 20, &err) == 0 && !memcmp(back, buf, sizeof buf), "read back");
    TAP_OK(vk_dev_read(dev, back, 2, dev->size - 1, &err) == VK_E_RANGE, "read past the end is a range error");
    TAP_OK(vk_dev_set_size(dev, 8192, &err) == 0 && dev->size == 8192, "truncate");
    int alloc = vk_dev_file_allocate(dev, 0, 1 << 20, &err);
    TAP_OK(alloc == 0 || alloc == VK_E_UNSUPPORTED, "fallocate succeeds or says it cannot");
    vk_dev_close(dev);
    TAP_OK(vk_dev_open_file(path, 0, &dev, &err) == 0, "reopen read-only");
    TAP_OK(vk_dev_open_file(path, 0, &dev2, &err) == 0, "two readers share the lock");
    TAP_OK(vk_dev_write(dev, buf, 512, 0, &err) == VK_E_READONLY, "a read-only file refuses writes");
    vk_dev_close(dev2);
    vk_dev_close(dev);
    snprintf(path, sizeof path, "%s/missing.img", tmpdir);
    TAP_OK(vk_dev_open_file(path, 0, &dev, &err) == VK_E_NOTFOUND, "a missing file is not-found");
    TAP_OK(vk_dev_open_file(tmpdir, 0, &dev, &err) == VK_E_USAGE, "a directory is refused");
}

static void test_window_memory(void)
{
    vk_dev *mem, *win;
    vk_error err;
    uint8_t init[16] = "0123456789abcdef";
    TAP_OK(vk_dev_memory(16, init, 16, &mem, &err) == 0, "memory device");
    TAP_OK(vk_dev_window(mem, 4, 8, 1, &win, &err) == 0, "window inside");
    char b[9] = {0};
    vk_dev_read(win, b, 8, 0, &err);
    TAP_EQ_STR(b, "456789ab", "window reads its range");
    TAP_OK(vk_dev_write(win, "XY", 2, 7, &err) == VK_E_RANGE, "window refuses writes past its end");
    TAP_OK(vk_dev_write(win, "XY", 2, 6, &err) == 0, "window write inside");
    TAP_OK(vk_dev_memory_bytes(mem)[10] == 'X', "window write lands at base offset");
    vk_dev *bad;
    TAP_OK(vk_dev_window(win, 4, 8, 0, &bad, &err) == VK_E_RANGE, "window larger than its base is refused");
    vk_dev_close(win);
}

static void test_fault(void)
{
    vk_dev *mem, *f;
    vk_error err;
    vk_dev_memory(4096, NULL, 0, &mem, &err);
    vk_dev_fault(mem, VK_FAULT_STOP, 2, &f, &err);
    uint8_t one[1024];
    memset(one, 1, sizeof one);
    TAP_OK(vk_dev_write(f, one, 512, 0, &err) == 0, "first write passes");
    TAP_OK(vk_dev_write(f, one, 512, 512, &err) == 0, "second write passes");
    TAP_OK(vk_dev_write(f, one, 512, 1024, &err) == VK_E_FAULT, "third write stops");
    TAP_OK(vk_dev_write(f, one, 512, 1536, &err) == VK_E_FAULT, "after a stop every write fails");
    TAP_OK(vk_dev_flush(f, &err) == VK_E_FAULT, "after a stop flush fails");
    TAP_OK(vk_dev_memory_bytes(mem)[1024] == 0, "the stopped write did not land");
    TAP_EQ_U64(vk_dev_fault_writes(f), 2, "two writes counted");
    vk_dev_close(f);

    vk_dev_memory(4096, NULL, 0, &mem, &err);
    vk_dev_fault(mem, VK_FAULT_TORN, 0, &f, &err);
    TAP_OK(vk_dev_write(f, one, 1024, 0, &err) == VK_E_FAULT, "torn write reports a fault");
    TAP_OK(vk_dev_memory_bytes(mem)[0] == 1 && vk_dev_memory_bytes(mem)[512] == 0, "torn write landed its first half");
    vk_dev_close(f);

    vk_dev_memory(4096, NULL, 0, &mem, &err);
    vk_dev_fault(mem, VK_FAULT_FAIL, 0, &f, &err);
    TAP_OK(vk_dev_write(f, one, 512, 0, &err) == VK_E_FAULT, "fail mode fails once");
    TAP_OK(vk_dev_write(f, one, 512, 0, &err) == 0, "fail mode passes afterwards");
    vk_dev_close(f);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    test_file();
    test_window_memory();
    test_fault();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    return tap_done();
}
