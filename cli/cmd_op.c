/*
 * cmd_op.c -- `sxp op 'REQUEST'`: one request in, its result's SX text out.
 *
 * The request text goes to sxp_store_request unchanged, so `op` means what
 * a line of `serve` means. Malformed SX is reported before the store is
 * opened, so a typo never creates a store directory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_cmd_op(struct cli_global *g, int argc, char **argv)
{
    struct cli_args a;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *parsed = NULL, *result = NULL;
    char *text = NULL, *owned = NULL;
    size_t len = 0;
    int rc, status;

    memset(&err, 0, sizeof(err));
    if ((rc = cli_args_parse("op", NULL, 0, argc, argv, &a)) != 0)
        return rc;
    if (a.help) {
        cli_args_free(&a);
        return cli_usage_help("op");
    }
    if (a.npos != 1) {
        cli_args_free(&a);
        return cli_usage_error("op", "op takes exactly one REQUEST, e.g. '(persist/streams)'");
    }
    if (strcmp(a.pos[0], "-") == 0) {
        if ((rc = cli_read_all(stdin, &owned, &len)) != 0) {
            status = cli_fail("io", "reading the request from stdin: %s", strerror(-rc));
            goto out;
        }
        text = owned;
    } else {
        text = a.pos[0];
        len = strlen(text);
    }

    if (sxp_value_parse(text, len, &parsed, &err) != 0) {
        status = cli_report(&err);
        goto out;
    }
    sxp_value_free(parsed); /* Only checked; the store parses it again. */
    parsed = NULL;
    if ((status = cli_store_open(g, 1, &s)) != 0)
        goto out;
    if (sxp_store_request(s, text, len, &result, &err) != 0) {
        status = cli_report(&err);
        goto out;
    }
    status = cli_output_value(result);
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(result);
    sxp_value_free(parsed);
    free(owned);
    cli_args_free(&a);
    return status;
}
