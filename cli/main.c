/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vhdkit: the command table and the dispatcher that applies the common checks (options, --help, --json, argument
 * counts) once, then flushes stdout so a failed write (a full disk) is an error too. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define VHDKIT_VERSION "0.1.0"

/* diff's entry points (cmd_diff.c), declared here rather than in cli.h. */
int cmd_diff(struct ctx *c);
extern const struct opt opts_diff[];

/* Sorted by name (a unit test of the man pages walks it; `vhdkit --help` prints it in this order). */
static const struct cmd commands[] = {
    {"align", cmd_align, "report partitions not on a boundary, or move them there (--fix)", "IMAGE", opts_align, CMD_JSON, 1, 1},
    {"cat", cmd_cat, "write a file or stream of the NTFS volume to standard output", "IMAGE PATH[:STREAM]", opts_cat, 0, 2, 2},
    {"check", cmd_check, "check the structure of an image and its chain", "IMAGE", opts_check, CMD_JSON, 1, 1},
    {"compact", cmd_compact, "give back the blocks and sectors no file uses", "IMAGE", opts_compact, CMD_JSON, 1, 1},
    {"convert", cmd_convert, "copy an image into another type (fixed, dynamic, raw)", "SRC DST", opts_convert, CMD_JSON, 2, 2},
    {"create", cmd_create, "create a new fixed or dynamic VHD", "IMAGE SIZE", opts_create, CMD_JSON, 2, 2},
    {"diff", cmd_diff, "the files that differ between the NTFS volumes of two images (a child and its parent, ...)", "A B", opts_diff, CMD_JSON, 2, 2},
    {"dump", cmd_dump, "show every on-disk field with its offset, raw bytes and meaning", "IMAGE", opts_dump, CMD_JSON, 1, 1},
    {"get", cmd_get, "copy a file or folder of the NTFS volume to the host", "IMAGE PATH [DEST]", opts_get, CMD_JSON, 2, 3},
    {"info", cmd_info, "describe an image: type, sizes, creator, chain", "IMAGE", opts_info, CMD_JSON, 1, 1},
    {"ls", cmd_ls, "list a folder of the NTFS volume", "IMAGE [PATH]", opts_ls, CMD_JSON, 1, 2},
    {"map", cmd_map, "every VHD block: unallocated, used, free in the filesystem, zero; with its files", "IMAGE", opts_map, CMD_JSON, 1, 1},
    {"merge", cmd_merge, "copy a differencing image's sectors into its parent (or an older ancestor)", "CHILD", opts_merge, CMD_JSON, 1, 1},
    {"mkdir", cmd_mkdir, "make a folder in the NTFS volume", "IMAGE PATH", opts_mkdir, 0, 2, 2},
    {"put", cmd_put, "copy a host file or folder into the NTFS volume", "IMAGE HOSTPATH DEST", opts_put, CMD_JSON, 3, 3},
    {"read", cmd_read, "copy virtual disk bytes to standard output", "IMAGE", opts_read, 0, 1, 1},
    {"rebase", cmd_rebase, "change a child's parent while keeping exactly what it shows", "CHILD NEWPARENT", opts_rebase, CMD_JSON, 2, 2},
    {"reg", cmd_reg, "read and change the Windows registry in the image: ls, get, set, del, export, import", "ls|get|set|del|export|import IMAGE [KEY [VALUE [DATA...]]]", opts_reg, CMD_JSON, 2, POS_MAX},
    {"repair", cmd_repair, "fix what check finds and can be fixed without guessing", "IMAGE", opts_repair, CMD_JSON, 1, 1},
    {"reparent", cmd_reparent, "point a differencing image at a moved or copied parent", "CHILD PARENT", opts_reparent, CMD_JSON, 2, 2},
    {"resize", cmd_resize, "grow an image, or shrink it when nothing is cut", "IMAGE SIZE", opts_resize, CMD_JSON, 2, 2},
    {"rm", cmd_rm, "remove a file or folder from the NTFS volume", "IMAGE PATH", opts_rm, 0, 2, 2},
    {"snapshot", cmd_snapshot, "create a differencing child of an image", "PARENT CHILD", opts_snapshot, CMD_JSON, 2, 2},
    {"stat", cmd_stat, "show a file's MFT record, attributes and where its data lies", "IMAGE PATH", opts_stat, CMD_JSON, 2, 2},
    {"tree", cmd_tree, "the whole folder tree of the NTFS volume with sizes and times", "IMAGE [PATH]", opts_tree, CMD_JSON, 1, 2},
    {"whohas", cmd_whohas, "what holds each sector, byte or block: file, stream, metadata, table or free", "IMAGE", opts_whohas, CMD_JSON, 1, 1},
    {"write", cmd_write, "copy standard input into the virtual disk at an offset", "IMAGE", opts_write, 0, 1, 1},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

int report_error(const vk_error *err)
{
    char buf[VK_ERR_MSG_MAX + VK_ERR_FILE_MAX + 256];
    vk_error_format(err, buf, sizeof buf);
    fprintf(stderr, "vhdkit: %s\n", buf);
    return vk_exit_status(err->code);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vhdkit: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "try 'vhdkit %s --help'\n", cmd);
    return EXIT_USAGE;
}

static void main_help(FILE *f)
{
    fprintf(f, "usage: vhdkit <command> [options] [arguments]\n"
               "       vhdkit <command> --help\n\n"
               "Read, check, create and convert Microsoft VHD disk images.\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nSizes and offsets: bytes, 0x hex, or a number with K, M, G, T (binary: 1K = 1024).\n"
               "Exit status: 0 success; 1 problems or differences found (check, diff); 2 usage; 3 bad or corrupt input;\n"
               "4 refused for safety (lock held, saved state); 5 input/output error.\n"
               "See vhdkit(1) and vhdkit-<command>(1).\n");
}

static void cmd_help(const struct cmd *c)
{
    printf("usage: vhdkit %s [options] %s\n\n%s.\n", c->name, c->synopsis, c->summary);
    opts_print_help(stdout, c->opts, c->flags & CMD_JSON);
    printf("\nSee vhdkit-%s(1).\n", c->name);
}

/* A write error on stdout (full disk, closed pipe) must not pass as success. */
static int finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "vhdkit: standard output: write failed: %s\n", strerror(errno ? errno : EIO));
        return status ? status : EXIT_IO;
    }
    return status;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        main_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        main_help(stdout);
        return 0;
    }
    if (!strcmp(name, "--version")) {
        printf("vhdkit %s\n", VHDKIT_VERSION);
        return 0;
    }
    const struct cmd *cmd = NULL;
    for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
        if (!strcmp(commands[i].name, name))
            cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "vhdkit: '%s' is not a command; see 'vhdkit --help'\n", name);
        return EXIT_USAGE;
    }
    struct ctx c = {.cmd = cmd};
    int rc = args_parse(&c.args, cmd->opts, argc - 2, argv + 2, cmd->name);
    if (rc)
        return rc;
    if (arg_has(&c.args, "help")) {
        cmd_help(cmd);
        return 0;
    }
    c.json = arg_has(&c.args, "json");
    if (c.json && !(cmd->flags & CMD_JSON))
        return usage_error(cmd->name, "--json is not available: this command does not print data");
    if (c.args.npos < cmd->min_pos)
        return usage_error(cmd->name, "missing argument: expected %s", cmd->synopsis);
    if (c.args.npos > cmd->max_pos)
        return usage_error(cmd->name, "too many arguments: expected %s", cmd->synopsis);
    return cmd->fn(&c);
}

int main(int argc, char **argv)
{
    return finish_stdout(dispatch(argc, argv));
}
