/*
 * main.c -- `sxp`: global options and dispatch to a command.
 *
 *   sxp [--dir DIR] [--sync always|none] [--io auto|uring|sync] [--read-only]
 *       [--verbose] COMMAND [ARG...]
 *
 * Global options come before the command; each command parses its own
 * arguments (args.c). The exit statuses are those of cli.h.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_command {
    const char *name;
    cli_cmd_fn fn;
};

static const struct cli_command cli_commands[] = {
    {"op", cli_cmd_op},
    {"serve", cli_cmd_serve},
    {"append", cli_cmd_append},
    {"read", cli_cmd_read},
    {"last-seq", cli_cmd_last_seq},
    {"streams", cli_cmd_streams},
    {"truncate", cli_cmd_truncate},
    {"kv", cli_cmd_kv},
    {"blob", cli_cmd_blob},
    {"recover", cli_cmd_recover},
    {"stat", cli_cmd_stat},
    {"demo", cli_cmd_demo},
};

/* Matches "--NAME VALUE" or "--NAME=VALUE" at argv[*i]; on a match sets
 * *out_value (NULL when the value is missing) and advances *i past it. */
static int cli_main_opt_value(const char *name, int argc, char **argv, int *i,
                              const char **out_value)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);

    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0)
        return 0;
    if (arg[2 + n] == '=') {
        *out_value = arg + 3 + n;
        return 1;
    }
    if (arg[2 + n] != '\0')
        return 0;
    *out_value = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (*out_value != NULL)
        (*i)++;
    return 1;
}

static int cli_main_sync(const char *v, struct sxp_options *o)
{
    if (strcmp(v, "always") == 0)
        o->sync = SXP_SYNC_ALWAYS;
    else if (strcmp(v, "none") == 0)
        o->sync = SXP_SYNC_NONE;
    else
        return cli_usage_error("", "--sync takes always or none, not '%s'", v);
    return 0;
}

static int cli_main_io(const char *v, struct sxp_options *o)
{
    if (strcmp(v, "auto") == 0)
        o->io = SXP_IO_AUTO;
    else if (strcmp(v, "uring") == 0)
        o->io = SXP_IO_URING;
    else if (strcmp(v, "sync") == 0)
        o->io = SXP_IO_SYNC;
    else
        return cli_usage_error("", "--io takes auto, uring or sync, not '%s'", v);
    return 0;
}

/* `sxp help [COMMAND]`. help's own help is the overview, so `sxp help
 * help` and `sxp help --help` print it, as for every other command. */
static int cli_main_help(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        cmd = "";
    if (argc > 2)
        return cli_usage_error("", "help takes at most one command");
    if (cli_usage_print(stdout, cmd) != 0)
        return cli_usage_error("", "no such command: '%s'", cmd);
    return cli_flush_stdout();
}

int main(int argc, char **argv)
{
    struct cli_global g;
    const char *v = NULL;
    int i, rc;

    /* A reader that goes away (`sxp read s | head`) must not kill us while
     * the store is open: writes then fail with EPIPE, and the command
     * closes the store cleanly and exits 1 without a message. */
    signal(SIGPIPE, SIG_IGN);
    memset(&g, 0, sizeof(g));
    sxp_options_init(&g.opts);

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *arg = argv[i];

        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            return cli_usage_help("");
        } else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
            printf("sxp %s\n", CLI_VERSION);
            return cli_flush_stdout();
        } else if (strcmp(arg, "--read-only") == 0) {
            g.opts.read_only = 1;
            g.store_opt = g.store_opt != NULL ? g.store_opt : "--read-only";
        } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
            g.verbose = 1;
        } else if (cli_main_opt_value("dir", argc, argv, &i, &v)) {
            if (v == NULL || v[0] == '\0')
                return cli_usage_error("", "--dir needs a directory");
            g.dir = v;
        } else if (cli_main_opt_value("sync", argc, argv, &i, &v)) {
            if (v == NULL)
                return cli_usage_error("", "--sync needs always or none");
            if ((rc = cli_main_sync(v, &g.opts)) != 0)
                return rc;
            g.store_opt = g.store_opt != NULL ? g.store_opt : "--sync";
        } else if (cli_main_opt_value("io", argc, argv, &i, &v)) {
            if (v == NULL)
                return cli_usage_error("", "--io needs auto, uring or sync");
            if ((rc = cli_main_io(v, &g.opts)) != 0)
                return rc;
            g.store_opt = g.store_opt != NULL ? g.store_opt : "--io";
        } else {
            return cli_usage_error("", "unknown option '%s'", arg);
        }
    }
    if (i >= argc)
        return cli_usage_error("", "no command given");
    if (strcmp(argv[i], "help") == 0)
        return cli_main_help(argc - i, argv + i);
    for (size_t k = 0; k < sizeof(cli_commands) / sizeof(cli_commands[0]); k++) {
        if (strcmp(argv[i], cli_commands[k].name) == 0)
            return cli_commands[k].fn(&g, argc - i, argv + i);
    }
    return cli_usage_error("", "no such command: '%s'", argv[i]);
}
