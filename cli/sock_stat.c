/*
 * sock_stat.c -- (sxp/stat): the one request the server answers itself.
 *
 * It is answered by the loop in its turn on the connection (C-1), never
 * reaches the store's dispatcher, and changes nothing. `serve --stdio`
 * (cmd_serve.c) answers it too, in its turn, through
 * sock_stat_answer_stdio. The answer is a dict with these keys (canonical
 * SX text sorts them; `sxp stat --socket`, cmd_admin.c, prints them one per
 * line in the order below); the ones marked * are about the socket server
 * and are left out of the --stdio answer:
 *
 *   socket*      the socket path
 *   dir          the store's root directory
 *   io, sync     the I/O backend ("io_uring" or "sync") and "always" or "none"
 *   uptime-ms    since the server started
 *   connections* open now                accepted*  served since start
 *   refused*     turned away (uid, --max-conns)
 *   requests     answered since start    errors     of them (error ...) answers
 *                (a request whose client left while it ran is not: its
 *                answer was never sent, sock_conn.c C-6)
 *   running*     requests on the workers now (at most workers; not
 *                those waiting for one)              workers*  --workers
 *   buffered*    bytes the open connections hold now: requests read and
 *                not yet started (lines in the input buffer, the queue)
 *                and answers not yet sent; not the buffers' room
 *                (sock_conn.c C-2)
 *   room*        the room those buffers keep now, input and answers
 *                (C-2 bounds it: an idle connection keeps at most
 *                SOCK_CONN_IN_HIGH of input room)
 *   appends      events acknowledged     batches    group-commit rounds
 *   fsyncs       fdatasync and fsync calls           bytes     written to logs
 *   streams      streams used since start (loaded in memory by an append,
 *                read, last-seq or truncate): not those on disk, which
 *                `sxp stat` without --socket counts (sxp_store_stats)
 *   queued       append calls waiting for or in a commit round now
 *   refusing     streams refusing writes now, after an I/O failure
 *   revived      streams that took writes again after a failed write
 *
 * Example: (ok {:accepted 5 :appends 1 ... :uptime-ms 410 :workers 64})
 * and on --stdio: (ok {:appends 1 :batches 1 ... :uptime-ms 12})
 *
 * It is an operation like the store's: "( sxp/stat )" is the same request,
 * and "(sxp/stat 1)" is answered (error "arity" ...), worded as the store
 * words its own; the store, which does not know sxp/stat, never sees it.
 *
 * The socket server's loop thread only scans a line's head
 * (sock_stat_scan): exactly (sxp/stat) it answers in its turn; a line
 * headed by sxp/stat with more after it goes to a worker like any request,
 * which parses it (sock_stat_answer_more), so that no client can make the
 * loop parse a line of --max-line bytes while every connection waits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sock.h"

/* SX whitespace (engine/sx.c): what may stand before and after the '('. */
static int sock_stat_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The index of the first byte at or after i that is not whitespace. */
static size_t sock_stat_skip_ws(const char *line, size_t len, size_t i)
{
    while (i < len && sock_stat_ws(line[i]))
        i++;
    return i;
}

/* SX delimiters (engine/sx.c): what ends a symbol. */
static int sock_stat_delim(char c)
{
    return sock_stat_ws(c) || c == '(' || c == ')' || c == '{' || c == '}' || c == '"';
}

/* The loop thread runs this on every line, so it must cost next to
 * nothing whatever the line holds: a parse of a line of --max-line bytes
 * there would stall every connection. It reads the whitespace and the
 * head; a line headed by sxp/stat with anything but whitespace and ')'
 * after it is MORE, which a worker parses. */
enum sock_stat_form sock_stat_scan(const char *line, size_t len)
{
    size_t i = sock_stat_skip_ws(line, len, 0);

    if (i == len || line[i++] != '(')
        return SOCK_STAT_NOT;
    i = sock_stat_skip_ws(line, len, i);
    if (len - i < 8 || memcmp(line + i, "sxp/stat", 8) != 0)
        return SOCK_STAT_NOT;
    i += 8;
    if (i < len && !sock_stat_delim(line[i]))
        return SOCK_STAT_NOT; /* another symbol: sxp/statx */
    i = sock_stat_skip_ws(line, len, i);
    if (i == len || line[i++] != ')')
        return SOCK_STAT_MORE;
    return sock_stat_skip_ws(line, len, i) == len ? SOCK_STAT_BARE : SOCK_STAT_MORE;
}

int sock_stat_is(const char *line, size_t len, size_t *out_nargs)
{
    struct sxp_err err;
    sxp_value *v = NULL;
    const sxp_value *head;
    const char *name;
    size_t nlen = 0;
    int is;

    *out_nargs = 0;
    switch (sock_stat_scan(line, len)) {
    case SOCK_STAT_NOT:
        return 0;
    case SOCK_STAT_BARE:
        return 1;
    case SOCK_STAT_MORE:
        break;
    }
    if (sxp_value_parse(line, len, &v, &err) != 0)
        return 0; /* the store answers the parse error */
    head = NULL;
    if (sxp_value_type(v) == SXP_LIST && sxp_value_len(v) >= 1)
        head = sxp_value_list_get(v, 0);
    name = head != NULL && sxp_value_type(head) == SXP_SYM ? sxp_value_as_str(head, &nlen) : "";
    is = nlen == 8 && memcmp(name, "sxp/stat", 8) == 0;
    if (is)
        *out_nargs = sxp_value_len(v) - 1;
    sxp_value_free(v);
    return is;
}

void sock_stat_answer_more(sxp_store *s, const char *line, size_t len, struct cli_answer *out)
{
    size_t nargs = 0;

    if (sock_stat_is(line, len, &nargs) && nargs > 0)
        sock_stat_answer_arity(nargs, out);
    else
        cli_answer_run(s, line, len, out);
}

void sock_stat_answer_arity(size_t nargs, struct cli_answer *out)
{
    char msg[128];

    /* Worded as the store words its own ops' (engine/dispatch.c). */
    snprintf(msg, sizeof(msg), "sxp/stat takes 0 arguments, not %zu: (sxp/stat)", nargs);
    cli_answer_error("arity", msg, out);
}

static int sock_stat_put(sxp_value *d, const char *key, sxp_value *item)
{
    if (item == NULL)
        return -ENOMEM;
    return sxp_value_dict_set(d, key, strlen(key), item);
}

static int sock_stat_int(sxp_value *d, const char *key, uint64_t n)
{
    return sock_stat_put(d, key, sxp_value_int(n > INT64_MAX ? INT64_MAX : (int64_t)n));
}

static int sock_stat_str(sxp_value *d, const char *key, const char *s)
{
    return sock_stat_put(d, key, sxp_value_str(s, strlen(s)));
}

/* Builds the answer: the socket figures from srv, or none when srv is NULL
 * (--stdio); the rest from s, sync_none, t0_ns and n. */
static void sock_stat_build(struct sock_server *srv, sxp_store *s, int sync_none, uint64_t t0_ns,
                            const struct sock_counters *n, struct cli_answer *out)
{
    struct sxp_stats st;
    sxp_value *d = sxp_value_dict();
    int rc;

    sxp_store_stats(s, &st);
    rc = d == NULL ? -ENOMEM : 0;
    if (rc == 0 && srv != NULL)
        rc = sock_stat_str(d, "socket", srv->o->path);
    if (rc == 0)
        rc = sock_stat_str(d, "dir", sxp_store_dir(s));
    if (rc == 0)
        rc = sock_stat_str(d, "io", st.io_name != NULL ? st.io_name : "?");
    if (rc == 0)
        rc = sock_stat_str(d, "sync", sync_none ? "none" : "always");
    if (rc == 0)
        rc = sock_stat_int(d, "uptime-ms", (clock_now_ns() - t0_ns) / 1000000u);
    if (rc == 0 && srv != NULL)
        rc = sock_stat_int(d, "connections", srv->nopen);
    if (rc == 0 && srv != NULL)
        rc = sock_stat_int(d, "accepted", n->accepted);
    if (rc == 0 && srv != NULL)
        rc = sock_stat_int(d, "refused", n->refused);
    if (rc == 0)
        rc = sock_stat_int(d, "requests", n->requests);
    if (rc == 0)
        rc = sock_stat_int(d, "errors", n->errors);
    if (rc == 0 && srv != NULL)
        rc = sock_stat_int(d, "running", sock_pool_running(&srv->pool));
    if (rc == 0 && srv != NULL)
        rc = sock_stat_int(d, "workers", srv->o->workers);
    if (rc == 0 && srv != NULL)
        rc = sock_stat_int(d, "buffered", sock_conn_buffered(srv));
    if (rc == 0 && srv != NULL)
        rc = sock_stat_int(d, "room", sock_conn_room(srv));
    if (rc == 0)
        rc = sock_stat_int(d, "appends", st.appends);
    if (rc == 0)
        rc = sock_stat_int(d, "batches", st.batches);
    if (rc == 0)
        rc = sock_stat_int(d, "fsyncs", st.fdatasyncs);
    if (rc == 0)
        rc = sock_stat_int(d, "bytes", st.bytes);
    if (rc == 0)
        rc = sock_stat_int(d, "streams", st.streams);
    if (rc == 0)
        rc = sock_stat_int(d, "queued", st.in_flight);
    if (rc == 0)
        rc = sock_stat_int(d, "refusing", st.refusing);
    if (rc == 0)
        rc = sock_stat_int(d, "revived", st.revived);
    if (rc != 0)
        cli_answer_error("nomem", "out of memory building the statistics", out);
    else
        cli_answer_ok(d, out);
    sxp_value_free(d);
}

void sock_stat_answer(struct sock_server *srv, struct cli_answer *out)
{
    sock_stat_build(srv, srv->store, srv->sync_none, srv->t0_ns, &srv->n, out);
}

void sock_stat_answer_stdio(sxp_store *s, int sync_none, uint64_t t0_ns,
                            const struct sock_counters *n, struct cli_answer *out)
{
    sock_stat_build(NULL, s, sync_none, t0_ns, n, out);
}
