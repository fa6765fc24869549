/*
 * cmd_op.c -- `sxp op 'REQUEST'`: one request in, its result's SX text out.
 *
 * The request text goes to sxp_store_request unchanged, so `op` means what
 * a line of `serve` means. A request that is wrong without a store
 * (malformed SX, an unknown op, a wrong argument: sxp_request_check) is
 * reported before the store is opened, so it never creates a store
 * directory.
 *
 * With --socket PATH the request goes to the server listening there (`sxp
 * serve --socket`) instead of a store opened here; the output and the exit
 * status are the same: the result's text on stdout and 0, or "sxp: KIND:
 * MESSAGE" on stderr and 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sock.h"

/* Sends text[0..len) to the server at path and prints its answer. */
static int cli_op_socket(const char *path, const char *text, size_t len)
{
    struct sock_reply r;
    struct sxp_err err;
    int status;

    memset(&err, 0, sizeof(err));
    if (sock_client_request(path, text, len, &r, &err) != 0)
        return cli_report(&err);
    if (!r.ok) {
        status = cli_fail(r.kind[0] != '\0' ? r.kind : "error", "%s", r.msg);
    } else {
        fwrite(r.value, 1, r.value_len, stdout);
        fputc('\n', stdout);
        status = cli_flush_stdout();
    }
    sock_reply_free(&r);
    return status;
}

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
    static const struct cli_optspec specs[] = {{"socket", 0, 1}};

    if ((rc = cli_args_parse("op", specs, 1, argc, argv, &a)) != 0)
        return rc;
    if (a.help) {
        cli_args_free(&a);
        return cli_usage_help("op");
    }
    if (a.npos != 1) {
        cli_args_free(&a);
        return cli_usage_error("op", "op takes exactly one REQUEST, e.g. '(persist/streams)'");
    }
    if (a.seen[0] && (rc = cli_socket_globals(g, "op")) != 0) {
        cli_args_free(&a);
        return rc;
    }
    if (strcmp(a.pos[0], "-") == 0) {
        if ((rc = cli_read_all(stdin, SIZE_MAX, &owned, &len)) != 0) {
            status = cli_fail("io", "reading the request from stdin: %s", strerror(-rc));
            goto out;
        }
        text = owned;
    } else {
        text = a.pos[0];
        len = strlen(text);
    }
    /* A blank request goes no further, --socket or not: the server skips
     * blank lines without an answer (serve.md), so a client that sent one
     * would wait forever; the parse says why, as for a local op. */
    if (cli_answer_blank(text, len) && sxp_value_parse(text, len, &parsed, &err) != 0) {
        status = cli_report(&err);
        goto out;
    }
    if (a.seen[0]) {
        status = cli_op_socket(a.val[0], text, len);
        goto out;
    }

    /* Checked without a store first: a wrong request gets the error the
     * store would give, and no store is opened (so none is created). */
    if (sxp_request_check(text, len, &err) != 0) {
        status = cli_report(&err);
        goto out;
    }
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
