/*
 * main.c -- `sxp`: the global options, then dispatch to a command.
 *
 *   sxp [GLOBAL OPTION...] COMMAND [ARG...]
 *
 * Global options come before the command; globals.c has their table and
 * rules, and this file parses them from it. Each command parses its own
 * arguments (args.c). The exit statuses are those of cli.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The global option that arg gives ("--NAME", "--NAME=VALUE", "-X"), or
 * NULL when it gives none (globals.c, rule 1). *out_value is the text after
 * "=", or NULL when there is none. */
static const struct cli_globals_opt *cli_main_global(const char *arg, const char **out_value)
{
    const struct cli_globals_opt *o;
    const char *eq;
    size_t len;

    *out_value = NULL;
    if (arg[1] != '-')
        return arg[2] == '\0' ? cli_globals_find_short(arg[1]) : NULL;
    eq = strchr(arg + 2, '=');
    len = eq != NULL ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    o = cli_globals_find_long(arg + 2, len);
    if (o == NULL || eq == NULL)
        return o;
    if (o->value == NULL)
        return NULL;
    *out_value = eq + 1;
    return o;
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

/* A descriptor 0, 1 or 2 that whoever started us closed would be the
 * next one opened (the engine keeps its own files above 2, but not all
 * it opens), and output written there would land in it. Each closed one
 * is opened on /dev/null the wrong way round, so that using it fails with
 * EBADF, as gnulib's xstdopen does. */
static int cli_main_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int nfd = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (nfd != fd) {
            if (nfd >= 0)
                (void)close(nfd);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli_global g;
    int i;

    if (cli_main_std_fds() != 0)
        return CLI_EXIT_FAIL;

    /* A reader that goes away (`sxp read s | head`) must not kill us while
     * the store is open: writes then fail with EPIPE, and the command
     * closes the store cleanly and exits 1 without a message. */
    signal(SIGPIPE, SIG_IGN);
    /* A write past RLIMIT_FSIZE must fail with EFBIG, which the store
     * takes as a full disk (docs/durability.md), not kill the process with
     * a line half written: under `serve`, every client's server. */
    signal(SIGXFSZ, SIG_IGN);
    memset(&g, 0, sizeof(g));
    sxp_options_init(&g.opts);

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const struct cli_globals_opt *o;
        const char *v;
        int rc;

        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        o = cli_main_global(argv[i], &v);
        if (o == NULL)
            return cli_usage_error("", "unknown option '%s'", argv[i]);
        if (o->kind == CLI_GLOBALS_HELP)
            return cli_usage_help("");
        if (o->kind == CLI_GLOBALS_VERSION) {
            printf("sxp %s\n", CLI_VERSION);
            return cli_flush_stdout();
        }
        if (o->value != NULL && v == NULL && i + 1 < argc)
            v = argv[++i];
        if ((rc = o->set(&g, v)) != 0)
            return rc;
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
