/*
 * common.c -- what every command does the same way: open and close the
 * store, run an operation (checked before the store is opened), print a
 * value, report an error.
 *
 * An error is reported as one line on stderr, "sxp: KIND: MESSAGE", where
 * KIND is the stable word of struct sxp_err and MESSAGE the engine's own
 * one-line message (which names the file and offset where that applies).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Opens the store of g into *out: 0, or -errno with err filled. */
static int cli_store_open_err(struct cli_global *g, int quiet, sxp_store **out, struct sxp_err *err)
{
    struct sxp_options o = g->opts;
    int rc;

    o.quiet = g->verbose ? 0 : quiet;
    *out = NULL;
    rc = sxp_store_open(g->dir, &o, out, err);
    if (rc != 0)
        *out = NULL;
    return rc;
}

int cli_store_open(struct cli_global *g, int quiet, sxp_store **out)
{
    struct sxp_err err;

    memset(&err, 0, sizeof(err));
    if (cli_store_open_err(g, quiet, out, &err) != 0)
        return cli_report(&err);
    return 0;
}

int cli_socket_globals(const struct cli_global *g, const char *cmd)
{
    if (g->dir != NULL)
        return cli_usage_error(cmd, "--dir does not go with --socket: the server has its store");
    if (g->store_opt != NULL)
        return cli_usage_error(cmd, "%s does not go with --socket: the server has its own",
                               g->store_opt);
    return 0;
}

int cli_store_close(sxp_store *s)
{
    int rc = sxp_store_close(s);

    if (rc != 0)
        return cli_fail("io", "closing the store: %s", strerror(-rc));
    return 0;
}

int cli_report(const struct sxp_err *err)
{
    const char *kind = err->kind != NULL && err->kind[0] != '\0' ? err->kind : "error";

    if (err->msg[0] != '\0')
        fprintf(stderr, "sxp: %s: %s\n", kind, err->msg);
    else
        fprintf(stderr, "sxp: %s: %s\n", kind, strerror(err->code < 0 ? -err->code : EIO));
    return CLI_EXIT_FAIL;
}

int cli_fail(const char *kind, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sxp: %s: ", kind);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_FAIL;
}

int cli_print_value(FILE *f, const sxp_value *v, struct sxp_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    rc = sxp_value_to_text(v, &text, &len, err);
    if (rc != 0)
        return rc;
    if (fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF)
        rc = -EIO;
    free(text);
    return rc;
}

int cli_output_value(const sxp_value *v)
{
    struct sxp_err err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = cli_print_value(stdout, v, &err);
    if (rc != 0 && rc != -EIO)
        return cli_report(&err);
    return cli_flush_stdout();
}

int cli_print_raw(FILE *f, const sxp_value *v)
{
    size_t len = 0;
    const char *p = sxp_value_as_str(v, &len);

    if (fwrite(p, 1, len, f) != len || fputc('\n', f) == EOF)
        return -EIO;
    return 0;
}

int cli_run(struct cli_global *g, sxp_store **s, const char *op, sxp_value **out,
            struct sxp_err *err, size_t n, ...)
{
    sxp_value *args = sxp_value_list();
    int rc = 0;
    va_list ap;

    *out = NULL;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        sxp_value *item = va_arg(ap, sxp_value *);

        if (item == NULL || args == NULL) {
            sxp_value_free(item);
            rc = -ENOMEM;
            continue;
        }
        if (rc == 0)
            rc = sxp_value_list_push(args, item);
        else
            sxp_value_free(item);
    }
    va_end(ap);
    if (args == NULL)
        rc = -ENOMEM;
    if (rc != 0) {
        memset(err, 0, sizeof(*err));
        err->code = rc;
        err->kind = "nomem";
        snprintf(err->msg, sizeof(err->msg), "out of memory building the request");
        goto cleanup;
    }
    /* A wrong request is refused before the store is opened, with the
     * error the store would give: nothing is created for it. */
    if (*s == NULL) {
        rc = sxp_op_check(op, args, err);
        if (rc == 0)
            rc = cli_store_open_err(g, 1, s, err);
        if (rc != 0)
            goto cleanup;
    }
    rc = sxp_store_op(*s, op, args, out, err);
cleanup:
    sxp_value_free(args);
    return rc;
}

sxp_value *cli_str(const char *text)
{
    return sxp_value_str(text, strlen(text));
}

int cli_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno == EPIPE)
            return CLI_EXIT_FAIL; /* The reader left; nobody to tell. */
        return cli_fail("io", "writing stdout: %s", strerror(errno != 0 ? errno : EIO));
    }
    return CLI_EXIT_OK;
}

int cli_read_all(FILE *f, size_t max, char **out, size_t *out_len)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    int rc = 0;

    if (buf == NULL)
        return -ENOMEM;
    for (;;) {
        size_t n;

        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);

            if (nb == NULL) {
                rc = -ENOMEM;
                goto fail;
            }
            buf = nb;
            cap *= 2;
        }
        errno = 0;
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > max) {
            rc = -E2BIG;
            goto fail;
        }
        if (n == 0) {
            if (ferror(f)) {
                /* Keep the cause (EISDIR for a directory), not just EIO. */
                rc = errno != 0 ? -errno : -EIO;
                goto fail;
            }
            break;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
fail:
    free(buf);
    return rc;
}

int cli_signal_ignored(int sig)
{
    struct sigaction sa;

    return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}
