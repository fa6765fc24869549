/*
 * args.c -- the argument parser every command uses.
 *
 * RULES (also in cli.h):
 *   1. "--NAME" or "--NAME=VALUE" of a known option is an option; a known
 *      option with a value takes the next argument when no "=" is given.
 *   2. "-X" of a known short option is an option (its value is the next
 *      argument). "--help" and "-h" are always options.
 *   3. "--" ends the options; everything after it is positional.
 *   4. Any other argument is positional: "-" (stdin), "-5" (a number) and
 *      SX text such as "-1.5" included. An unknown "--NAME" is a usage error,
 *      so a mistyped option never becomes a stream name; when NAME is a
 *      global option that sets something (--dir, ...; globals.c, rule 3),
 *      the error says to give it before the command.
 * Options may come before, between or after positional arguments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Finds the spec of a long name given as name[0..len). */
static int cli_args_find_long(const struct cli_optspec *specs, size_t nspecs, const char *name,
                              size_t len)
{
    for (size_t i = 0; i < nspecs; i++) {
        if (strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static int cli_args_find_short(const struct cli_optspec *specs, size_t nspecs, char c)
{
    for (size_t i = 0; i < nspecs; i++) {
        if (specs[i].short_name != 0 && specs[i].short_name == c)
            return (int)i;
    }
    return -1;
}

/* 1 when name[0..len) is a global option that sets something (globals.c,
 * rule 3): it goes before the command, not after it. */
static int cli_args_is_global(const char *name, size_t len)
{
    const struct cli_globals_opt *o = cli_globals_find_long(name, len);

    return o != NULL && o->kind == CLI_GLOBALS_SET;
}

int cli_args_parse(const char *cmd, const struct cli_optspec *specs, size_t nspecs, int argc,
                   char **argv, struct cli_args *out)
{
    int only_pos = 0;

    memset(out, 0, sizeof(*out));
    if (nspecs > CLI_ARGS_MAX_OPTS)
        return cli_usage_error(cmd, "internal: too many options");
    out->pos = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*out->pos));
    if (out->pos == NULL)
        return cli_fail("nomem", "out of memory");

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        int k = -1;

        if (only_pos || arg[0] != '-' || arg[1] == '\0') {
            out->pos[out->npos++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            out->help = 1;
            continue;
        }
        if (arg[1] == '-') {
            const char *eq = strchr(arg + 2, '=');
            size_t len = eq != NULL ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);

            k = cli_args_find_long(specs, nspecs, arg + 2, len);
            if (k < 0) {
                cli_args_free(out);
                if (cli_args_is_global(arg + 2, len))
                    return cli_usage_error(cmd, "'--%.*s' is a global option: give it before '%s'",
                                           (int)len, arg + 2, cmd);
                return cli_usage_error(cmd, "unknown option '%s'", arg);
            }
            if (eq != NULL) {
                if (!specs[k].has_value) {
                    cli_args_free(out);
                    return cli_usage_error(cmd, "option '--%s' takes no value", specs[k].name);
                }
                value = eq + 1;
            }
        } else if (arg[2] == '\0') {
            k = cli_args_find_short(specs, nspecs, arg[1]);
        }
        if (k < 0) {
            out->pos[out->npos++] = argv[i];
            continue;
        }
        if (specs[k].has_value && value == NULL) {
            if (i + 1 >= argc) {
                cli_args_free(out);
                return cli_usage_error(cmd, "option '%s' needs a value", arg);
            }
            value = argv[++i];
        }
        out->seen[k] = 1;
        out->val[k] = value;
    }
    return 0;
}

void cli_args_free(struct cli_args *a)
{
    if (a == NULL)
        return;
    free(a->pos);
    a->pos = NULL;
    a->npos = 0;
}

int cli_args_int(const char *text, int64_t *out)
{
    char *end = NULL;
    long long v;

    if (text == NULL || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')))
        return -EINVAL;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text)
        return -EINVAL;
    *out = (int64_t)v;
    return 0;
}
