/*
 * cmd_kv.c -- `sxp kv get|put|delete|has|keys`: the key-value table.
 *
 * Each subcommand is one operation of SPEC.md section 4 run through
 * sxp_store_op, checked before the store is opened (cli_run), so a bad key
 * creates no store. A key is the raw bytes of its argument. `get` of an absent
 * key prints nil and exits 0, as the operation returns nil. `keys` prints
 * raw key bytes, one per line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_kv_sub {
    const char *name;
    const char *op; /* the operation it runs */
    int nargs;      /* positional arguments after the subcommand */
};

static const struct cli_kv_sub cli_kv_subs[] = {
    {"get", "persist/kv-get", 1},       {"put", "persist/kv-put", 2},
    {"delete", "persist/kv-delete", 1}, {"has", "persist/kv-has?", 1},
    {"keys", "persist/kv-keys", 0},
};

static const struct cli_kv_sub *cli_kv_find(const char *name)
{
    for (size_t i = 0; i < sizeof(cli_kv_subs) / sizeof(cli_kv_subs[0]); i++) {
        if (strcmp(cli_kv_subs[i].name, name) == 0)
            return &cli_kv_subs[i];
    }
    return NULL;
}

/* Parses the VALUE of `kv put` (its SX text, or stdin for "-"). */
static int cli_kv_value(const char *arg, sxp_value **out)
{
    struct sxp_err err;
    char *text = NULL;
    size_t len;
    int rc;

    memset(&err, 0, sizeof(err));
    if (strcmp(arg, "-") == 0) {
        if ((rc = cli_read_all(stdin, SIZE_MAX, &text, &len)) != 0)
            return cli_fail("io", "reading the value from stdin: %s", strerror(-rc));
        rc = sxp_value_parse(text, len, out, &err);
        free(text);
    } else {
        rc = sxp_value_parse(arg, strlen(arg), out, &err);
    }
    if (rc != 0)
        return cli_report(&err);
    return 0;
}

int cli_cmd_kv(struct cli_global *g, int argc, char **argv)
{
    const struct cli_kv_sub *sub;
    struct cli_args a;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *value = NULL, *result = NULL;
    int status, rc;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("kv", NULL, 0, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("kv");
        goto out;
    }
    if (a.npos == 0) {
        status = cli_usage_error("kv", "kv needs a subcommand: get, put, delete, has or keys");
        goto out;
    }
    if ((sub = cli_kv_find(a.pos[0])) == NULL) {
        status = cli_usage_error("kv", "no such kv subcommand: '%s'", a.pos[0]);
        goto out;
    }
    if (a.npos - 1 != sub->nargs) {
        status = cli_usage_error("kv", "kv %s takes %s", sub->name,
                                 sub->nargs == 0   ? "no argument"
                                 : sub->nargs == 1 ? "one KEY"
                                                   : "KEY and VALUE");
        goto out;
    }
    if (sub->nargs == 2 && (status = cli_kv_value(a.pos[2], &value)) != 0)
        goto out;

    if (sub->nargs == 0)
        rc = cli_run(g, &s, sub->op, &result, &err, 0);
    else if (sub->nargs == 1)
        rc = cli_run(g, &s, sub->op, &result, &err, 1, cli_str(a.pos[1]));
    else
        rc = cli_run(g, &s, sub->op, &result, &err, 2, cli_str(a.pos[1]), value);
    value = NULL; /* cli_run took it. */
    if (rc != 0) {
        status = cli_report(&err);
        goto out;
    }
    if (strcmp(sub->name, "keys") == 0) {
        for (size_t i = 0; i < sxp_value_len(result); i++) {
            if (cli_print_raw(stdout, sxp_value_list_get(result, i)) != 0)
                break; /* cli_flush_stdout reports it. */
        }
        status = cli_flush_stdout();
    } else if (strcmp(sub->name, "get") == 0 || strcmp(sub->name, "has") == 0) {
        status = cli_output_value(result);
    }
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(result);
    sxp_value_free(value);
    cli_args_free(&a);
    return status;
}
