/*
 * globals.c -- the global options of `sxp`, written once in one table.
 *
 * A global option goes before the command and applies to every command,
 * `sxp [GLOBAL OPTION...] COMMAND [ARG...]`; cli_globals_table lists them.
 *
 * RULES:
 *   1. "--NAME", and "-X" when the option has a short name, give it. An
 *      option that takes a value takes "--NAME=VALUE" or the next argument,
 *      whatever it is; the other options take no "=VALUE".
 *   2. main.c reads the arguments before the command with this table; the
 *      first one not starting with '-', or "-" alone, is the command, and
 *      "--" ends the options. Any other is a usage error (unknown option).
 *   3. After the command, "--NAME" of an option that sets something
 *      (CLI_GLOBALS_SET) is a usage error saying to give it before the
 *      command (args.c). There "--help" and "-h" ask for the command's help,
 *      "--version" is an unknown option, and a short name such as "-v" is
 *      a positional argument unless the command has an option "-v".
 *   4. `sxp --help` lists the options in the order of the table, each with
 *      its help text (cli_globals_usage).
 * Adding an option is one entry in cli_globals_table; docs/cli.md tells
 * about it at more length.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* g->store_opt is the first option given that changes how the store is
 * opened, for the message of cli_socket_globals. */
static void cli_globals_store_opt(struct cli_global *g, const char *opt)
{
    if (g->store_opt == NULL)
        g->store_opt = opt;
}

static int cli_globals_set_dir(struct cli_global *g, const char *v)
{
    if (v == NULL || v[0] == '\0')
        return cli_usage_error("", "--dir needs a directory");
    g->dir = v;
    return 0;
}

static int cli_globals_set_sync(struct cli_global *g, const char *v)
{
    if (v == NULL)
        return cli_usage_error("", "--sync needs always or none");
    if (strcmp(v, "always") == 0)
        g->opts.sync = SXP_SYNC_ALWAYS;
    else if (strcmp(v, "none") == 0)
        g->opts.sync = SXP_SYNC_NONE;
    else
        return cli_usage_error("", "--sync takes always or none, not '%s'", v);
    cli_globals_store_opt(g, "--sync");
    return 0;
}

static int cli_globals_set_io(struct cli_global *g, const char *v)
{
    if (v == NULL)
        return cli_usage_error("", "--io needs auto, uring or sync");
    if (strcmp(v, "auto") == 0)
        g->opts.io = SXP_IO_AUTO;
    else if (strcmp(v, "uring") == 0)
        g->opts.io = SXP_IO_URING;
    else if (strcmp(v, "sync") == 0)
        g->opts.io = SXP_IO_SYNC;
    else
        return cli_usage_error("", "--io takes auto, uring or sync, not '%s'", v);
    cli_globals_store_opt(g, "--io");
    return 0;
}

static int cli_globals_set_sync_each_log(struct cli_global *g, const char *v)
{
    (void)v;
    g->opts.sync_each_log = 1;
    cli_globals_store_opt(g, "--sync-each-log");
    return 0;
}

static int cli_globals_set_read_only(struct cli_global *g, const char *v)
{
    (void)v;
    g->opts.read_only = 1;
    cli_globals_store_opt(g, "--read-only");
    return 0;
}

static int cli_globals_set_verbose(struct cli_global *g, const char *v)
{
    (void)v;
    g->verbose = 1;
    return 0;
}

static const struct cli_globals_opt cli_globals_table[] = {
    {"dir", 0, "DIR", CLI_GLOBALS_SET, cli_globals_set_dir,
     "the store (default: $SX_PERSIST_DIR,\nelse ./persist-data)"},
    {"sync", 0, "always|none", CLI_GLOBALS_SET, cli_globals_set_sync,
     "always: durable before ack (default);\nnone: survives a process kill only"},
    {"io", 0, "auto|uring|sync", CLI_GLOBALS_SET, cli_globals_set_io,
     "disk access: io_uring when available (default),\nio_uring or fail, plain syscalls"},
    {"sync-each-log", 0, NULL, CLI_GLOBALS_SET, cli_globals_set_sync_each_log,
     "fdatasync each log at a checkpoint, never\nsyncfs the filesystem (one others write to)"},
    {"read-only", 0, NULL, CLI_GLOBALS_SET, cli_globals_set_read_only,
     "no lock, no recovery; every write fails"},
    {"verbose", 'v', NULL, CLI_GLOBALS_SET, cli_globals_set_verbose,
     "show engine notices (recovery, I/O fallback)"},
    {"help", 'h', NULL, CLI_GLOBALS_HELP, NULL, "this text"},
    {"version", 'V', NULL, CLI_GLOBALS_VERSION, NULL, "the version"},
};

#define CLI_GLOBALS_N (sizeof(cli_globals_table) / sizeof(cli_globals_table[0]))

/* The column where an option's help starts in `sxp --help`, as in the list
 * of commands above it (usage.c). */
#define CLI_GLOBALS_HELP_COL 28

const struct cli_globals_opt *cli_globals_find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < CLI_GLOBALS_N; i++) {
        const char *n = cli_globals_table[i].name;

        if (strlen(n) == len && strncmp(n, name, len) == 0)
            return &cli_globals_table[i];
    }
    return NULL;
}

const struct cli_globals_opt *cli_globals_find_short(char c)
{
    for (size_t i = 0; i < CLI_GLOBALS_N; i++) {
        if (c != 0 && cli_globals_table[i].short_name == c)
            return &cli_globals_table[i];
    }
    return NULL;
}

void cli_globals_usage(FILE *f)
{
    for (size_t i = 0; i < CLI_GLOBALS_N; i++) {
        const struct cli_globals_opt *o = &cli_globals_table[i];
        const char *line = o->help;
        int w = fprintf(f, "  ");

        if (o->short_name != 0)
            w += fprintf(f, "-%c, ", o->short_name);
        w += fprintf(f, "--%s", o->name);
        if (o->value != NULL)
            w += fprintf(f, " %s", o->value);
        for (;;) {
            const char *lf = strchr(line, '\n');
            int len = lf != NULL ? (int)(lf - line) : (int)strlen(line);

            fprintf(f, "%*s%.*s\n", w + 2 <= CLI_GLOBALS_HELP_COL ? CLI_GLOBALS_HELP_COL - w : 2,
                    "", len, line);
            if (lf == NULL)
                break;
            line = lf + 1;
            w = 0;
        }
    }
}
