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
 */
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
    {"dir", 0, "DIR", CLI_GLOBALS_SET, cli_globals_set_dir},
    {"sync", 0, "always|none", CLI_GLOBALS_SET, cli_globals_set_sync},
    {"io", 0, "auto|uring|sync", CLI_GLOBALS_SET, cli_globals_set_io},
    {"read-only", 0, NULL, CLI_GLOBALS_SET, cli_globals_set_read_only},
    {"verbose", 'v', NULL, CLI_GLOBALS_SET, cli_globals_set_verbose},
    {"help", 'h', NULL, CLI_GLOBALS_HELP, NULL},
    {"version", 'V', NULL, CLI_GLOBALS_VERSION, NULL},
};

#define CLI_GLOBALS_N (sizeof(cli_globals_table) / sizeof(cli_globals_table[0]))

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
