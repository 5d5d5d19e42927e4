/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Declarative option parsing: each command lists its options once; parsing, lookup and --help use that list. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Known to every command; the dispatcher refuses --json where the command has no data output. */
static const struct opt common_opts[] = {
    {"help", 'h', NULL, "show this help and exit"},
    {"json", 0, NULL, "print the result as JSON"},
    {NULL, 0, NULL, NULL},
};

static size_t count_opts(const struct opt *opts)
{
    size_t n = 0;
    while (opts && opts[n].long_name)
        n++;
    return n;
}

/* Index of an option in the combined list (command's first, then the common ones), or -1. */
static int find_long(const struct opt *opts, const char *name, size_t name_len)
{
    size_t n = count_opts(opts);
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].long_name) == name_len && !strncmp(opts[i].long_name, name, name_len))
            return (int)i;
    for (size_t i = 0; common_opts[i].long_name; i++)
        if (strlen(common_opts[i].long_name) == name_len && !strncmp(common_opts[i].long_name, name, name_len))
            return (int)(n + i);
    return -1;
}

static int find_short(const struct opt *opts, char c)
{
    size_t n = count_opts(opts);
    for (size_t i = 0; i < n; i++)
        if (opts[i].short_name == c)
            return (int)i;
    for (size_t i = 0; common_opts[i].long_name; i++)
        if (common_opts[i].short_name == c)
            return (int)(n + i);
    return -1;
}

static const struct opt *opt_at(const struct opt *opts, int idx)
{
    size_t n = count_opts(opts);
    return (size_t)idx < n ? &opts[idx] : &common_opts[(size_t)idx - n];
}

int args_parse(struct args *a, const struct opt *opts, int argc, char **argv, const char *cmd)
{
    memset(a, 0, sizeof *a);
    a->opts = opts;
    if (count_opts(opts) + count_opts(common_opts) > OPT_MAX)
        return usage_error(cmd, "internal: too many options");
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (only_pos || s[0] != '-' || !strcmp(s, "-")) {
            if (a->npos == POS_MAX)
                return usage_error(cmd, "too many arguments");
            a->pos[a->npos++] = s;
            continue;
        }
        if (!strcmp(s, "--")) {
            only_pos = true;
            continue;
        }
        int idx;
        const char *inline_val = NULL;
        if (s[1] == '-') {
            const char *name = s + 2;
            const char *eq = strchr(name, '=');
            idx = find_long(opts, name, eq ? (size_t)(eq - name) : strlen(name));
            if (idx < 0)
                return usage_error(cmd, "unknown option '%s'", s);
            inline_val = eq ? eq + 1 : NULL;
        } else {
            idx = find_short(opts, s[1]);
            if (idx < 0)
                return usage_error(cmd, "unknown option '%s'", s);
            inline_val = s[2] ? s + 2 : NULL;
        }
        const struct opt *o = opt_at(opts, idx);
        if (o->value_name) {
            if (!inline_val) {
                if (i + 1 >= argc)
                    return usage_error(cmd, "option '--%s' needs a value (%s)", o->long_name, o->value_name);
                inline_val = argv[++i];
            }
            a->value[idx] = inline_val;
            if (a->nocc == OCC_MAX)
                return usage_error(cmd, "too many options");
            a->occ[a->nocc].idx = idx;
            a->occ[a->nocc++].value = inline_val;
        } else if (inline_val) {
            return usage_error(cmd, "option '--%s' takes no value", o->long_name);
        }
        a->present[idx] = true;
    }
    return 0;
}

bool arg_has(const struct args *a, const char *long_name)
{
    int idx = find_long(a->opts, long_name, strlen(long_name));
    return idx >= 0 && a->present[idx];
}

const char *arg_str(const struct args *a, const char *long_name)
{
    int idx = find_long(a->opts, long_name, strlen(long_name));
    return idx >= 0 && a->present[idx] ? a->value[idx] : NULL;
}

int arg_all(const struct args *a, const char *long_name, const char **out, int max)
{
    int idx = find_long(a->opts, long_name, strlen(long_name));
    int n = 0;
    for (int i = 0; i < a->nocc && n < max; i++)
        if (a->occ[i].idx == idx)
            out[n++] = a->occ[i].value;
    return n;
}

int arg_size(const struct args *a, const char *long_name, uint64_t *out)
{
    const char *v = arg_str(a, long_name);
    if (!v)
        return 0;
    if (parse_size(v, out) < 0)
        return usage_error(NULL, "--%s: '%s' is not a size (bytes, 0x hex, or a number with K, M, G, T)", long_name, v);
    return 0;
}

static void print_opt(FILE *f, const struct opt *o)
{
    char shortpart[8] = "    ";
    if (o->short_name)
        snprintf(shortpart, sizeof shortpart, "-%c, ", o->short_name);
    char left[64];
    snprintf(left, sizeof left, "%s--%s%s%s", shortpart, o->long_name, o->value_name ? " " : "",
             o->value_name ? o->value_name : "");
    fprintf(f, "  %-26s %s\n", left, o->help);
}

void opts_print_help(FILE *f, const struct opt *opts, bool json)
{
    fprintf(f, "\nOptions:\n");
    for (size_t i = 0; opts && opts[i].long_name; i++)
        print_opt(f, &opts[i]);
    for (size_t i = 0; common_opts[i].long_name; i++)
        if (json || strcmp(common_opts[i].long_name, "json"))
            print_opt(f, &common_opts[i]);
}
