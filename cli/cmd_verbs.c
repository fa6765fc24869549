/*
 * cmd_verbs.c -- the stream verbs for people: `append`, `read`, `last-seq`,
 * `streams`, `truncate`.
 *
 * Each verb builds the arguments of one operation of SPEC.md section 4 and
 * runs it through sxp_store_op, so a verb and the equivalent `sxp op`
 * request behave alike. `read` prints the same events as persist/read but
 * fetches them in pages of persist/read-range, so memory stays bounded on a
 * long stream. A stream name is the raw bytes of its argument.
 * Values given as SX text are parsed, and the operation's request checked
 * (cli_run), before the store is opened, so a typo or a wrong argument
 * changes nothing on disk and creates no store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Events fetched per persist/read-range call by `read`, so that reading a
 * long stream holds one page in memory, not the whole log. */
#define CLI_VERBS_READ_PAGE 1024

/* Parses the events of `append STREAM -`: one per non-blank line of stdin.
 * Appends them to list. Prints the error and returns CLI_EXIT_FAIL. */
static int cli_verbs_events_stdin(sxp_value *list)
{
    struct cli_line l;
    struct sxp_err err;
    size_t lineno = 0;
    int rc, status = 0;

    memset(&l, 0, sizeof(l));
    l.max = (size_t)1 << 40;
    while ((rc = cli_line_read(stdin, &l)) > 0) {
        sxp_value *ev = NULL;

        lineno++;
        if (cli_answer_blank(l.buf, l.len))
            continue;
        memset(&err, 0, sizeof(err));
        if (sxp_value_parse(l.buf, l.len, &ev, &err) != 0) {
            status = cli_fail(err.kind != NULL && err.kind[0] ? err.kind : "parse",
                              "stdin line %zu: %s", lineno, err.msg);
            goto out;
        }
        if (sxp_value_list_push(list, ev) != 0) {
            status = cli_fail("nomem", "out of memory");
            goto out;
        }
    }
    if (rc < 0)
        status = cli_fail("io", "reading stdin: %s", strerror(-rc));
out:
    cli_line_free(&l);
    return status;
}

int cli_cmd_append(struct cli_global *g, int argc, char **argv)
{
    struct cli_args a;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *events = NULL, *result = NULL;
    int status, rc;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("append", NULL, 0, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("append");
        goto out;
    }
    if (a.npos < 2) {
        status = cli_usage_error("append", "append needs STREAM and at least one EVENT");
        goto out;
    }
    for (int i = 1; i < a.npos && a.npos > 2; i++) {
        if (strcmp(a.pos[i], "-") == 0) {
            status = cli_usage_error("append", "'-' reads the events from stdin: give it alone "
                                               "after STREAM, with no EVENT beside it");
            goto out;
        }
    }
    if ((events = sxp_value_list()) == NULL) {
        status = cli_fail("nomem", "out of memory");
        goto out;
    }
    if (a.npos == 2 && strcmp(a.pos[1], "-") == 0) {
        if ((status = cli_verbs_events_stdin(events)) != 0)
            goto out;
        if (sxp_value_len(events) == 0) {
            /* An empty batch is most likely a mistake upstream (a file not
             * written, a filter that matched nothing): say so. */
            status = cli_fail("arg", "no events on standard input");
            goto out;
        }
    } else {
        for (int i = 1; i < a.npos; i++) {
            sxp_value *ev = NULL;

            if (sxp_value_parse(a.pos[i], strlen(a.pos[i]), &ev, &err) != 0) {
                status = cli_report(&err);
                goto out;
            }
            if (sxp_value_list_push(events, ev) != 0) {
                status = cli_fail("nomem", "out of memory");
                goto out;
            }
        }
    }

    if (sxp_value_len(events) == 1) {
        rc = cli_run(g, &s, "persist/append", &result, &err, 2, cli_str(a.pos[0]),
                     sxp_value_copy(sxp_value_list_get(events, 0)));
    } else {
        rc = cli_run(g, &s, "persist/append-batch", &result, &err, 2, cli_str(a.pos[0]), events);
        events = NULL; /* cli_run took it. */
    }
    if (rc != 0)
        status = cli_report(&err);
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(result);
    sxp_value_free(events);
    cli_args_free(&a);
    return status;
}

int cli_cmd_read(struct cli_global *g, int argc, char **argv)
{
    static const struct cli_optspec specs[] = {
        {"from", 0, 1},
        {"limit", 0, 1},
    };
    struct cli_args a;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *result = NULL;
    int64_t from = INT64_MIN, limit = INT64_MAX;
    int status, rc;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("read", specs, 2, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("read");
        goto out;
    }
    if (a.npos != 1) {
        status = cli_usage_error("read", "read takes exactly one STREAM");
        goto out;
    }
    if (a.seen[0] && cli_args_int(a.val[0], &from) != 0) {
        status = cli_usage_error("read", "--from takes an integer seq, not '%s'", a.val[0]);
        goto out;
    }
    if (a.seen[1] && (cli_args_int(a.val[1], &limit) != 0 || limit < 0)) {
        status = cli_usage_error("read", "--limit takes a count >= 0, not '%s'", a.val[1]);
        goto out;
    }

    /* Pages of persist/read-range: seqs strictly increase along a log, so
     * the next page starts above the last seq printed. The first page is
     * asked for even under --limit 0, so that the stream name is checked
     * and the store opened as for any other limit. */
    do {
        int64_t want = limit < CLI_VERBS_READ_PAGE ? limit : CLI_VERBS_READ_PAGE;
        size_t n;
        const sxp_value *last;

        sxp_value_free(result);
        result = NULL;
        if (cli_run(g, &s, "persist/read-range", &result, &err, 3, cli_str(a.pos[0]),
                    sxp_value_int(from), sxp_value_int(want)) != 0) {
            status = cli_report(&err);
            goto out;
        }
        n = sxp_value_len(result);
        for (size_t i = 0; i < n; i++) {
            rc = cli_print_value(stdout, sxp_value_list_get(result, i), &err);
            if (rc == -EIO)
                goto flush; /* cli_flush_stdout reports it. */
            if (rc != 0) {
                status = cli_report(&err);
                goto out;
            }
        }
        if (n == 0 || (int64_t)n < want)
            break;
        last = sxp_value_dict_get(sxp_value_list_get(result, n - 1), "seq", 3);
        if (sxp_value_type(last) != SXP_INT) {
            status =
                cli_fail("corrupt", "stream %s holds an event without an integer :seq", a.pos[0]);
            goto out;
        }
        if (sxp_value_as_int(last) == INT64_MAX)
            break;
        from = sxp_value_as_int(last) + 1;
        limit -= (int64_t)n;
    } while (limit > 0);
flush:
    status = cli_flush_stdout();
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(result);
    cli_args_free(&a);
    return status;
}

int cli_cmd_last_seq(struct cli_global *g, int argc, char **argv)
{
    struct cli_args a;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *result = NULL;
    int status;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("last-seq", NULL, 0, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("last-seq");
        goto out;
    }
    if (a.npos != 1) {
        status = cli_usage_error("last-seq", "last-seq takes exactly one STREAM");
        goto out;
    }
    if (cli_run(g, &s, "persist/last-seq", &result, &err, 1, cli_str(a.pos[0])) != 0) {
        status = cli_report(&err);
        goto out;
    }
    status = cli_output_value(result);
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(result);
    cli_args_free(&a);
    return status;
}

int cli_cmd_streams(struct cli_global *g, int argc, char **argv)
{
    struct cli_args a;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *result = NULL;
    int status;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("streams", NULL, 0, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("streams");
        goto out;
    }
    if (a.npos != 0) {
        status = cli_usage_error("streams", "streams takes no argument");
        goto out;
    }
    if (cli_run(g, &s, "persist/streams", &result, &err, 0) != 0) {
        status = cli_report(&err);
        goto out;
    }
    for (size_t i = 0; i < sxp_value_len(result); i++) {
        if (cli_print_raw(stdout, sxp_value_list_get(result, i)) != 0)
            break; /* cli_flush_stdout reports it. */
    }
    status = cli_flush_stdout();
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(result);
    cli_args_free(&a);
    return status;
}

int cli_cmd_truncate(struct cli_global *g, int argc, char **argv)
{
    struct cli_args a;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *result = NULL;
    int64_t n = 0;
    int status, rc;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("truncate", NULL, 0, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("truncate");
        goto out;
    }
    if (a.npos != 2) {
        status = cli_usage_error("truncate", "truncate takes STREAM and N");
        goto out;
    }
    if (cli_args_int(a.pos[1], &n) != 0) {
        status = cli_usage_error("truncate", "N must be an integer seq, not '%s'", a.pos[1]);
        goto out;
    }
    rc = cli_run(g, &s, "persist/truncate", &result, &err, 2, cli_str(a.pos[0]), sxp_value_int(n));
    if (rc != 0)
        status = cli_report(&err);
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(result);
    cli_args_free(&a);
    return status;
}
