/*
 * cmd_demo.c -- `sxp demo`: a short end-to-end tour for a newcomer.
 *
 * The tour runs every step as the request `sxp op` would send, through
 * sxp_store_request, and prints the request and its result (or its error).
 * It closes the store, reopens it and shows that the data survived.
 *
 * WHERE: without --dir, a new directory from mkdtemp under $TMPDIR (else
 * /tmp), removed at the end; with --dir DIR, the store in DIR (created if
 * absent), which is kept. It never touches $SX_PERSIST_DIR or
 * ./persist-data unless --dir names them.
 *
 * WHAT: the streams "orders" and "audit", the kv key "config" and one blob.
 * On a store that already holds those streams the tour's seqs continue
 * above their high-water marks, so the tour can run again on one store.
 *
 * The exit status is 0 only when every step did what the tour says.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct cli_demo {
    struct cli_global *g;
    sxp_store *s;
    char last[1024]; /* the text of the last result, "" when it did not fit */
};

/* Runs the request made from fmt and prints it with its result. want_error:
 * 1 when the step shows a refused request. Returns 0 when the step went as
 * the tour says, else -1. */
static int cli_demo_step(struct cli_demo *d, int want_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cli_demo_step(struct cli_demo *d, int want_error, const char *fmt, ...)
{
    struct sxp_err err;
    sxp_value *result = NULL;
    char request[512], *text = NULL;
    size_t len = 0;
    va_list ap;
    int rc;

    memset(&err, 0, sizeof(err));
    d->last[0] = '\0';
    va_start(ap, fmt);
    rc = vsnprintf(request, sizeof(request), fmt, ap);
    va_end(ap);
    if (rc < 0 || (size_t)rc >= sizeof(request))
        return -1;
    printf("  $ sxp op '%s'\n", request);
    rc = sxp_store_request(d->s, request, strlen(request), &result, &err);
    if (rc != 0) {
        printf("    => error %s: %s\n", err.kind != NULL ? err.kind : "?", err.msg);
        return want_error ? 0 : -1;
    }
    rc = sxp_value_to_text(result, &text, &len, &err);
    sxp_value_free(result);
    if (rc != 0) {
        printf("    => error %s: %s\n", err.kind != NULL ? err.kind : "?", err.msg);
        return -1;
    }
    printf("    => %s\n", text);
    if (len < sizeof(d->last))
        memcpy(d->last, text, len + 1);
    free(text);
    return want_error ? -1 : 0;
}

static int cli_demo_open(struct cli_demo *d)
{
    return cli_store_open(d->g, 1, &d->s);
}

/* Shows the tour's events of "orders" (those above base): the whole stream
 * on a new store, else the range above what was there before. */
static int cli_demo_show_orders(struct cli_demo *d, int64_t base)
{
    if (base == 0)
        return cli_demo_step(d, 0, "(persist/read \"orders\")");
    return cli_demo_step(d, 0, "(persist/read-range \"orders\" %" PRId64 " 10)", base + 1);
}

/* The tour itself, on an open store. o and a are the high-water marks of
 * "orders" and "audit" before the tour. Returns 0 when every step went
 * right. */
static int cli_demo_tour(struct cli_demo *d, int64_t o, int64_t a)
{
    char before[sizeof(d->last)], cid[SXP_CID_LEN + 3];
    int bad = 0;

    printf("\n1. Append events to a stream. Each is a dict with an integer :seq\n"
           "   above the stream's last one, and is on disk when the call returns.\n");
    bad |= cli_demo_step(
        d, 0, "(persist/append \"orders\" {:seq %" PRId64 " :item \"coffee\" :total 3.5})", o + 1);
    bad |= cli_demo_step(
        d, 0, "(persist/append \"orders\" {:seq %" PRId64 " :item \"bagel\" :total 2.25})", o + 2);

    printf("\n2. Append a batch to a second stream: all of it or none of it.\n");
    bad |= cli_demo_step(d, 0,
                         "(persist/append-batch \"audit\" (list {:seq %" PRId64
                         " :who \"ana\"} {:seq %" PRId64 " :who \"bo\"} {:seq %" PRId64
                         " :who \"cy\"}))",
                         a + 1, a + 2, a + 3);

    printf("\n3. Read back: a stream, the list of streams, a high-water mark, and\n"
           "   a range (from seq %" PRId64 ", at most 1 event).\n",
           a + 2);
    bad |= cli_demo_show_orders(d, o);
    memcpy(before, d->last, sizeof(before));
    bad |= cli_demo_step(d, 0, "(persist/streams)");
    bad |= cli_demo_step(d, 0, "(persist/last-seq \"audit\")");
    bad |= cli_demo_step(d, 0, "(persist/read-range \"audit\" %" PRId64 " 1)", a + 2);

    printf("\n4. A seq at or below the last one is refused, and nothing is written.\n");
    bad |=
        cli_demo_step(d, 1, "(persist/append \"orders\" {:seq %" PRId64 " :item \"tea\"})", o + 2);

    printf("\n5. Truncate drops the events with seq <= %" PRId64 "; the high-water mark stays.\n",
           a + 2);
    bad |= cli_demo_step(d, 0, "(persist/truncate \"audit\" %" PRId64 ")", a + 2);
    bad |= cli_demo_step(d, 0, "(persist/read \"audit\")");
    bad |= cli_demo_step(d, 0, "(persist/last-seq \"audit\")");

    printf("\n6. A key-value table: atomic puts of any SX value.\n");
    bad |= cli_demo_step(d, 0, "(persist/kv-put \"config\" {:currency \"EUR\" :tax 0.2})");
    bad |= cli_demo_step(d, 0, "(persist/kv-get \"config\")");

    printf("\n7. Blobs are stored under the id of their bytes (a cid).\n");
    bad |= cli_demo_step(d, 0, "(blob/put \"hello, sxp\")");
    cid[0] = '\0';
    if (strlen(d->last) < sizeof(cid))
        memcpy(cid, d->last, strlen(d->last) + 1);
    bad |= cli_demo_step(d, 0, "(blob/get %s)", cid);

    printf("\n8. Close the store, open it again: everything acknowledged is there.\n");
    if (cli_store_close(d->s) != 0) {
        d->s = NULL;
        return -1;
    }
    d->s = NULL;
    if (cli_demo_open(d) != 0)
        return -1;
    bad |= cli_demo_show_orders(d, o);
    if (before[0] == '\0' || strcmp(before, d->last) != 0) {
        printf("    (differs from before the close!)\n");
        bad = -1;
    } else {
        printf("    (the same as before the close)\n");
    }
    bad |= cli_demo_step(d, 0, "(persist/last-seq \"audit\")");
    bad |= cli_demo_step(d, 0, "(persist/kv-get \"config\")");
    return bad;
}

/* Opens the store and runs the tour. Returns an exit status. */
static int cli_demo_run(struct cli_demo *d)
{
    struct sxp_err err;
    int64_t o = 0, a = 0;
    int status;

    memset(&err, 0, sizeof(err));
    if ((status = cli_demo_open(d)) != 0)
        return status;
    if (sxp_stream_last_seq(d->s, "orders", 6, &o, &err) != 0 ||
        sxp_stream_last_seq(d->s, "audit", 5, &a, &err) != 0)
        return cli_report(&err);
    if (o > INT64_MAX - 16 || a > INT64_MAX - 16)
        return cli_fail("demo",
                        "the seqs of \"orders\" or \"audit\" in %s are near their "
                        "limit; run the demo on a new --dir",
                        sxp_store_dir(d->s));
    if (o != 0 || a != 0)
        printf("The store already holds the tour's streams: its seqs continue above them.\n");
    if (cli_demo_tour(d, o, a) != 0)
        status = CLI_EXIT_FAIL;
    if (d->s != NULL && cli_store_close(d->s) != 0)
        status = CLI_EXIT_FAIL;
    d->s = NULL;
    return status;
}

static int cli_demo_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int cli_cmd_demo(struct cli_global *g, int argc, char **argv)
{
    struct cli_args a;
    struct cli_demo d;
    struct cli_global dg = *g;
    char tmpl[4096];
    const char *tmp;
    int status, temp = 0;

    memset(&d, 0, sizeof(d));
    if ((status = cli_args_parse("demo", NULL, 0, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("demo");
        goto out;
    }
    if (a.npos != 0) {
        status = cli_usage_error("demo", "demo takes no argument");
        goto out;
    }
    if (g->opts.read_only) {
        status = cli_usage_error("demo", "the demo writes: it cannot run with --read-only");
        goto out;
    }
    if (g->dir == NULL) {
        tmp = getenv("TMPDIR");
        if (tmp == NULL || tmp[0] == '\0')
            tmp = "/tmp";
        snprintf(tmpl, sizeof(tmpl), "%s/sxp-demo-XXXXXX", tmp);
        if (mkdtemp(tmpl) == NULL) {
            status = cli_fail("io", "mkdtemp %s: %s", tmpl, strerror(errno));
            goto out;
        }
        dg.dir = tmpl;
        temp = 1;
    }
    d.g = &dg;

    printf("sxp demo: a tour of sxp on the store in %s\n", dg.dir);
    printf("Each step shows the request (as `sxp op` takes it) and its result.\n");
    if (fflush(stdout) != 0) {
        status = cli_flush_stdout();
        goto out;
    }
    status = cli_demo_run(&d);
    if (status == CLI_EXIT_OK) {
        printf("\nDone: the store was closed cleanly.\n");
        if (temp)
            printf("The temporary store was removed. To keep one to explore, run\n"
                   "`sxp --dir DIR demo`, then e.g. `sxp --dir DIR read orders`.\n"
                   "`sxp --help` lists the commands.\n");
        else
            printf("Explore it: `sxp --dir %s read orders`, `sxp --dir %s stat`.\n", dg.dir,
                   dg.dir);
    } else {
        printf("\nThe tour did not go as it should: see above.\n");
    }
    if (cli_flush_stdout() != 0)
        status = CLI_EXIT_FAIL;
out:
    if (d.s != NULL && cli_store_close(d.s) != 0)
        status = CLI_EXIT_FAIL;
    if (temp && nftw(tmpl, cli_demo_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "sxp: io: could not remove %s: %s\n", tmpl, strerror(errno));
    cli_args_free(&a);
    return status;
}
