/*
 * cmd_serve.c -- `sxp serve --stdio`: a request per line in, an answer per
 * line out.
 *
 * PROTOCOL (SPEC.md section 6)
 *   request  one SX text "(OP ARG...)" per line; a line holding only spaces,
 *            TABs or CRs is ignored and gets no answer
 *   answer   exactly one line per request, in request order, flushed at once:
 *              (ok VALUE)                 VALUE the result's canonical SX text
 *              (error "CODE" "MESSAGE")   CODE the struct sxp_err kind word,
 *                                         MESSAGE its message, both written
 *                                         as SX strings
 *            Wrapping every result keeps a stored value from ever looking
 *            like an error. After an error the loop goes on.
 *   limit    a line over --max-line bytes is answered (error "limit" ...)
 *            and skipped whole
 *   end      at end of input the store is closed cleanly and the exit status
 *            is 0; a failure to write an answer (the reader left: SIGPIPE
 *            is ignored, see main.c) ends the loop, closes the store cleanly
 *            and exits 1
 *
 * Example:
 *   > (persist/append "a" {:seq 1})
 *   < (ok nil)
 *   > (persist/append "a" {:seq 1})
 *   < (error "seq" "...")
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_SERVE_MAX_LINE_DEFAULT ((size_t)16 << 20)
#define CLI_SERVE_MAX_LINE_LIMIT ((size_t)1 << 40)

/* Appends the SX string text of bytes[0..len) to f. */
static int cli_serve_put_str(FILE *f, const char *bytes, size_t len)
{
    struct sxp_err err;
    sxp_value *v = sxp_value_str(bytes, len);
    char *text = NULL;
    size_t tlen = 0;
    int rc;

    if (v == NULL)
        return -ENOMEM;
    rc = sxp_value_to_text(v, &text, &tlen, &err);
    sxp_value_free(v);
    if (rc != 0)
        return rc;
    if (fwrite(text, 1, tlen, f) != tlen)
        rc = -EIO;
    free(text);
    return rc;
}

/* Writes (error "CODE" "MESSAGE") and a newline. */
static int cli_serve_error(FILE *f, const char *kind, const char *msg)
{
    int rc;

    if (kind == NULL || kind[0] == '\0')
        kind = "error";
    if (fputs("(error ", f) == EOF)
        return -EIO;
    if ((rc = cli_serve_put_str(f, kind, strlen(kind))) != 0)
        return rc;
    if (fputc(' ', f) == EOF)
        return -EIO;
    if ((rc = cli_serve_put_str(f, msg, strlen(msg))) != 0)
        return rc;
    if (fputs(")\n", f) == EOF)
        return -EIO;
    return 0;
}

static int cli_serve_error_of(FILE *f, const struct sxp_err *err)
{
    const char *msg = err->msg;

    if (msg[0] == '\0')
        msg = strerror(err->code < 0 ? -err->code : EIO);
    return cli_serve_error(f, err->kind, msg);
}

/* Runs one request line and writes its answer. Only a failure to write the
 * answer is returned; a failed request is an answer. */
static int cli_serve_one(sxp_store *s, FILE *f, const char *line, size_t len)
{
    struct sxp_err err;
    sxp_value *result = NULL;
    char *text = NULL;
    size_t tlen = 0;
    int rc;

    memset(&err, 0, sizeof(err));
    if (sxp_store_request(s, line, len, &result, &err) != 0)
        return cli_serve_error_of(f, &err);
    rc = sxp_value_to_text(result, &text, &tlen, &err);
    sxp_value_free(result);
    if (rc != 0)
        return cli_serve_error_of(f, &err);
    rc = 0;
    if (fputs("(ok ", f) == EOF || fwrite(text, 1, tlen, f) != tlen || fputs(")\n", f) == EOF)
        rc = -EIO;
    free(text);
    return rc;
}

static int cli_serve_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return 0;
    }
    return 1;
}

static int cli_serve_stdio(struct cli_global *g, size_t max_line)
{
    struct cli_line l;
    sxp_store *s = NULL;
    char msg[128];
    int rc, status = CLI_EXIT_OK;

    memset(&l, 0, sizeof(l));
    l.max = max_line;
    if ((status = cli_store_open(g, 0, &s)) != 0)
        return status;
    for (;;) {
        rc = cli_line_read(stdin, &l);
        if (rc == 0)
            break;
        if (rc < 0) {
            status = cli_fail("io", "reading stdin: %s", strerror(-rc));
            break;
        }
        if (l.too_long) {
            snprintf(msg, sizeof(msg), "request line longer than %zu bytes (--max-line)", max_line);
            rc = cli_serve_error(stdout, "limit", msg);
        } else if (cli_serve_blank(l.buf, l.len)) {
            continue;
        } else {
            rc = cli_serve_one(s, stdout, l.buf, l.len);
        }
        if (rc == 0 && fflush(stdout) != 0)
            rc = -EIO;
        if (rc != 0) {
            status = cli_fail("io", "writing the answer: %s",
                              rc == -EIO ? strerror(errno != 0 ? errno : EIO) : strerror(-rc));
            break;
        }
    }
    cli_line_free(&l);
    if (cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    return status;
}

int cli_cmd_serve(struct cli_global *g, int argc, char **argv)
{
    static const struct cli_optspec specs[] = {
        {"stdio", 0, 0},
        {"socket", 0, 1},
        {"max-line", 0, 1},
    };
    struct cli_args a;
    int64_t max_line = (int64_t)CLI_SERVE_MAX_LINE_DEFAULT;
    int rc;

    if ((rc = cli_args_parse("serve", specs, 3, argc, argv, &a)) != 0)
        return rc;
    if (a.help) {
        rc = cli_usage_help("serve");
        goto out;
    }
    if (a.npos != 0) {
        rc = cli_usage_error("serve", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    if (a.seen[2] && (cli_args_int(a.val[2], &max_line) != 0 || max_line <= 0 ||
                      (uint64_t)max_line > CLI_SERVE_MAX_LINE_LIMIT)) {
        rc = cli_usage_error("serve", "--max-line takes a positive number of bytes, not '%s'",
                             a.val[2]);
        goto out;
    }
    if (a.seen[0] && a.seen[1]) {
        rc = cli_usage_error("serve", "choose one of --stdio and --socket");
        goto out;
    }
    if (a.seen[1]) {
        fprintf(stderr, "sxp: serve --socket is not implemented yet\n");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (!a.seen[0]) {
        rc = cli_usage_error("serve", "serve needs --stdio (or --socket PATH)");
        goto out;
    }
    rc = cli_serve_stdio(g, (size_t)max_line);
out:
    cli_args_free(&a);
    return rc;
}
