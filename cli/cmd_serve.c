/*
 * cmd_serve.c -- `sxp serve`: its options, and `--stdio`, a request per line
 * in, an answer per line out. `--socket` is served by serve_socket.c and the
 * sock_*.c files (sock.h).
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
 *   stat     (sxp/stat) is answered here, not by the store, as the socket
 *            server answers it (sock_stat.c), without the socket's figures
 *   end      at end of input the store is closed cleanly and the exit status
 *            is 0; a failure to write an answer (the reader left: SIGPIPE
 *            is ignored, see main.c) ends the loop, closes the store cleanly
 *            and exits 1
 *   signals  SIGINT, SIGTERM or SIGHUP (the terminal went away; not when
 *            SIGHUP was ignored at start, as under nohup) ends the input:
 *            the request running, and
 *            those whose whole line was read already, are answered, a line
 *            not yet ended by its LF is dropped (a Ctrl-C
 *            must not run half a request), the store is closed cleanly and
 *            the exit status is 0, as `serve --socket` drains. The handler
 *            puts /dev/null in place of stdin, so that a signal that comes
 *            just before the loop reads again still ends it (the read finds
 *            the end of input), and one that comes during the read ends it
 *            by EINTR (no SA_RESTART).
 *
 * Example:
 *   > (persist/append "a" {:seq 1})
 *   < (ok nil)
 *   > (persist/append "a" {:seq 1})
 *   < (error "seq" "...")
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

#define CLI_SERVE_MAX_LINE_DEFAULT SOCK_MAX_LINE_DEFAULT
#define CLI_SERVE_MAX_LINE_LIMIT ((size_t)1 << 40)

/* Writes an answer to f; -EIO when it could not be written. */
static int cli_serve_write(FILE *f, const struct cli_answer *a)
{
    if (fwrite(a->text, 1, a->len, f) != a->len)
        return -EIO;
    return 0;
}

static volatile sig_atomic_t cli_serve_stopped;
static int cli_serve_null_fd = -1;

static void cli_serve_on_signal(int sig)
{
    (void)sig;
    cli_serve_stopped = 1;
    if (cli_serve_null_fd >= 0)
        (void)dup2(cli_serve_null_fd, STDIN_FILENO); /* async-signal-safe */
}

/* The signals above; 0, or -errno when /dev/null cannot be opened. */
static int cli_serve_catch_signals(void)
{
    struct sigaction sa;

    cli_serve_null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (cli_serve_null_fd < 0)
        return -errno;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cli_serve_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read ends with EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!cli_signal_ignored(SIGHUP))
        sigaction(SIGHUP, &sa, NULL);
    return 0;
}

static int cli_serve_stdio(struct cli_global *g, size_t max_line)
{
    struct cli_line l;
    struct cli_answer ans;
    struct sock_counters n; /* requests and errors, for (sxp/stat) */
    sxp_store *s = NULL;
    uint64_t t0_ns = clock_now_ns();
    char msg[128];
    size_t nargs = 0;
    int rc, status = CLI_EXIT_OK;

    memset(&l, 0, sizeof(l));
    memset(&n, 0, sizeof(n));
    l.max = max_line;
    if ((status = cli_store_open(g, 0, &s)) != 0)
        return status;
    if ((rc = cli_serve_catch_signals()) != 0) {
        status = cli_fail("io", "open /dev/null: %s", strerror(-rc));
        (void)cli_store_close(s);
        return status;
    }
    for (;;) {
        rc = cli_line_read(stdin, &l);
        if (cli_serve_stopped && (rc <= 0 || !l.ended))
            break; /* the signals of the PROTOCOL */
        if (rc == 0)
            break;
        if (rc < 0) {
            status = cli_fail("io", "reading stdin: %s", strerror(-rc));
            break;
        }
        if (l.too_long) {
            snprintf(msg, sizeof(msg), "request line longer than %zu bytes (--max-line)", max_line);
            cli_answer_error("limit", msg, &ans);
        } else if (cli_answer_blank(l.buf, l.len)) {
            continue;
        } else if (sock_stat_is(l.buf, l.len, &nargs)) {
            if (nargs)
                sock_stat_answer_arity(nargs, &ans);
            else
                sock_stat_answer_stdio(s, g->opts.sync == SXP_SYNC_NONE, t0_ns, &n, &ans);
        } else {
            cli_answer_run(s, l.buf, l.len, &ans);
        }
        n.requests++;
        n.errors += ans.failed != 0;
        rc = cli_serve_write(stdout, &ans);
        cli_answer_free(&ans);
        if (rc == 0 && fflush(stdout) != 0)
            rc = -EIO;
        if (rc != 0) {
            int e = rc == -EIO ? (errno != 0 ? errno : EIO) : -rc;
            /* A reader that went away (serve | head) is nobody to tell. */
            status =
                e == EPIPE ? CLI_EXIT_FAIL : cli_fail("io", "writing the answer: %s", strerror(e));
            break;
        }
    }
    cli_line_free(&l);
    if (cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    return status;
}

/* Parses --mode: octal permission bits, e.g. 0660. */
static int cli_serve_mode(const char *text, int *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(text, &end, 8);
    if (errno != 0 || end == text || *end != '\0' || v < 0 || v > 0777)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

/* Parses --group: a group name or a numeric gid. */
static int cli_serve_group(const char *text, gid_t *out)
{
    struct group gr, *res = NULL;
    char buf[4096];
    int64_t n;

    if (getgrnam_r(text, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
        *out = res->gr_gid;
        return 0;
    }
    if (cli_args_int(text, &n) == 0 && n >= 0 && n < (int64_t)UINT32_MAX) {
        *out = (gid_t)n;
        return 0;
    }
    return -ENOENT;
}

/* Parses --allow-uid: user names or numeric uids, separated by commas. */
static int cli_serve_allow(const char *text, struct sock_opts *o)
{
    size_t n = 1;
    const char *p = text;

    for (const char *q = text; *q != '\0'; q++)
        n += *q == ',';
    o->allow = calloc(n, sizeof(*o->allow));
    if (o->allow == NULL)
        return -ENOMEM;
    while (*p != '\0' || o->nallow == 0) {
        size_t len = strcspn(p, ",");
        char item[256];
        struct passwd pw, *res = NULL;
        char buf[4096];
        int64_t uid;

        if (len == 0 || len >= sizeof(item))
            return -EINVAL;
        memcpy(item, p, len);
        item[len] = '\0';
        if (cli_args_int(item, &uid) == 0 && uid >= 0 && uid < (int64_t)UINT32_MAX)
            o->allow[o->nallow++] = (uid_t)uid;
        else if (getpwnam_r(item, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
            o->allow[o->nallow++] = res->pw_uid;
        else
            return -EINVAL;
        p += len;
        if (*p == ',')
            p++;
        if (*p == '\0' && p[-1] == ',')
            return -EINVAL;
    }
    return 0;
}

/* Reads a whole number in [lo, hi] for option name. */
static int cli_serve_uint(const char *name, const char *text, int64_t lo, int64_t hi, unsigned *out)
{
    int64_t v;

    if (cli_args_int(text, &v) != 0 || v < lo || v > hi)
        return cli_usage_error("serve", "--%s takes a number from %lld to %lld, not '%s'", name,
                               (long long)lo, (long long)hi, text);
    *out = (unsigned)v;
    return 0;
}

enum {
    CLI_SERVE_STDIO,
    CLI_SERVE_SOCKET,
    CLI_SERVE_MAX_LINE,
    CLI_SERVE_WORKERS,
    CLI_SERVE_MAX_CONNS,
    CLI_SERVE_MODE,
    CLI_SERVE_GROUP,
    CLI_SERVE_ALLOW_UID,
    CLI_SERVE_LOG_LEVEL,
    CLI_SERVE_DRAIN,
    CLI_SERVE_NOPTS
};

/* Fills o from the socket options of a; returns 0 or a usage exit status. */
static int cli_serve_socket_opts(const struct cli_args *a, struct sock_opts *o)
{
    const char *v;
    int rc;

    o->path = a->val[CLI_SERVE_SOCKET];
    if (o->path[0] == '\0')
        return cli_usage_error("serve", "--socket needs a path");
    if (strlen(o->path) > SOCK_PATH_MAX)
        return cli_usage_error("serve", "--socket: a socket path has at most %d bytes, not %zu",
                               SOCK_PATH_MAX, strlen(o->path));
    if (a->seen[CLI_SERVE_WORKERS] && (rc = cli_serve_uint("workers", a->val[CLI_SERVE_WORKERS], 1,
                                                           SOCK_WORKERS_MAX, &o->workers)) != 0)
        return rc;
    if (a->seen[CLI_SERVE_MAX_CONNS] &&
        (rc = cli_serve_uint("max-conns", a->val[CLI_SERVE_MAX_CONNS], 1, SOCK_MAX_CONNS_MAX,
                             &o->max_conns)) != 0)
        return rc;
    if ((v = a->val[CLI_SERVE_MODE]) != NULL && cli_serve_mode(v, &o->mode) != 0)
        return cli_usage_error("serve", "--mode takes octal permission bits such as 0660, not '%s'",
                               v);
    if ((v = a->val[CLI_SERVE_GROUP]) != NULL) {
        if (cli_serve_group(v, &o->gid) != 0)
            return cli_usage_error("serve", "--group: no such group '%s'", v);
        o->has_group = 1;
    }
    if ((v = a->val[CLI_SERVE_ALLOW_UID]) != NULL && (rc = cli_serve_allow(v, o)) != 0) {
        if (rc == -ENOMEM)
            return cli_fail("nomem", "out of memory");
        return cli_usage_error("serve",
                               "--allow-uid takes uids or user names separated by "
                               "commas, not '%s'",
                               v);
    }
    if ((v = a->val[CLI_SERVE_LOG_LEVEL]) != NULL && sock_log_parse(v, &o->level) != 0)
        return cli_usage_error("serve", "--log-level takes error, warn, info or debug, not '%s'",
                               v);
    if ((v = a->val[CLI_SERVE_DRAIN]) != NULL) {
        char *end = NULL;
        double sec = strtod(v, &end);

        if (end == v || *end != '\0' || !(sec >= 0 && sec <= 86400))
            return cli_usage_error("serve", "--drain-timeout takes seconds (0 to 86400), not '%s'",
                                   v);
        o->drain_ms = (unsigned)(sec * 1000 + 0.5);
    }
    return 0;
}

int cli_cmd_serve(struct cli_global *g, int argc, char **argv)
{
    static const struct cli_optspec specs[CLI_SERVE_NOPTS] = {
        [CLI_SERVE_STDIO] = {"stdio", 0, 0},         [CLI_SERVE_SOCKET] = {"socket", 0, 1},
        [CLI_SERVE_MAX_LINE] = {"max-line", 0, 1},   [CLI_SERVE_WORKERS] = {"workers", 0, 1},
        [CLI_SERVE_MAX_CONNS] = {"max-conns", 0, 1}, [CLI_SERVE_MODE] = {"mode", 0, 1},
        [CLI_SERVE_GROUP] = {"group", 0, 1},         [CLI_SERVE_ALLOW_UID] = {"allow-uid", 0, 1},
        [CLI_SERVE_LOG_LEVEL] = {"log-level", 0, 1}, [CLI_SERVE_DRAIN] = {"drain-timeout", 0, 1},
    };
    struct cli_args a;
    struct sock_opts o;
    int64_t max_line = (int64_t)CLI_SERVE_MAX_LINE_DEFAULT;
    int rc;

    memset(&o, 0, sizeof(o));
    if ((rc = cli_args_parse("serve", specs, CLI_SERVE_NOPTS, argc, argv, &a)) != 0)
        return rc;
    if (a.help) {
        rc = cli_usage_help("serve");
        goto out;
    }
    if (a.npos != 0) {
        rc = cli_usage_error("serve", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    if (a.seen[CLI_SERVE_MAX_LINE] &&
        (cli_args_int(a.val[CLI_SERVE_MAX_LINE], &max_line) != 0 || max_line <= 0 ||
         (uint64_t)max_line > CLI_SERVE_MAX_LINE_LIMIT)) {
        rc = cli_usage_error("serve", "--max-line takes a positive number of bytes, not '%s'",
                             a.val[CLI_SERVE_MAX_LINE]);
        goto out;
    }
    if (a.seen[CLI_SERVE_STDIO] && a.seen[CLI_SERVE_SOCKET]) {
        rc = cli_usage_error("serve", "choose one of --stdio and --socket");
        goto out;
    }
    if (a.seen[CLI_SERVE_SOCKET]) {
        o.max_line = (size_t)max_line;
        o.workers = SOCK_WORKERS_DEFAULT;
        o.max_conns = SOCK_MAX_CONNS_DEFAULT;
        o.drain_ms = SOCK_DRAIN_MS_DEFAULT;
        o.mode = -1;
        o.level = SOCK_LOG_INFO;
        if ((rc = cli_serve_socket_opts(&a, &o)) != 0)
            goto out;
        if (g->opts.read_only) {
            rc = cli_usage_error("serve", "serve --socket writes: it cannot run with --read-only");
            goto out;
        }
        rc = sock_serve(g, &o);
        goto out;
    }
    if (!a.seen[CLI_SERVE_STDIO]) {
        rc = cli_usage_error("serve", "serve needs --stdio or --socket PATH");
        goto out;
    }
    for (int k = CLI_SERVE_WORKERS; k < CLI_SERVE_NOPTS; k++) {
        if (a.seen[k]) {
            rc = cli_usage_error("serve", "--%s goes with --socket, not --stdio", specs[k].name);
            goto out;
        }
    }
    rc = cli_serve_stdio(g, (size_t)max_line);
out:
    free(o.allow);
    cli_args_free(&a);
    return rc;
}
