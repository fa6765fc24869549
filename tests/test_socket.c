/*
 * test_socket.c -- `sxp serve --socket` from the outside: each test starts
 * the real `sxp` binary (BUILD/cli/sxp, next to this test's BUILD/tests, or
 * $SXP_BIN) as a server on a fresh store, talks to it over the socket as
 * clients do, stops it (SIGTERM, or SIGKILL for the crash test), then opens
 * the store in this process to check that every acknowledged request is
 * there and nothing else (cli/serve_socket.c says what is promised).
 *
 * No test sleeps to let a race settle: a server is waited for by retrying
 * connect() in a bounded loop, and every read from a server is bounded by
 * poll() with a generous timeout that only a hung server would reach.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sxp.h"
#include "testutil.h"

#define TS_READ_TIMEOUT_MS 60000 /* only a hung server reaches it */
#define TS_START_TIMEOUT_MS 30000

static char ts_sxp[4096];      /* the sxp binary */
static rlim_t ts_child_nofile; /* RLIMIT_NOFILE of the next server; 0: ours */
static pid_t ts_held;          /* a server thread this process holds (worker_hold) */

/* ---- the server ------------------------------------------------------------ */

struct srv {
    char *root;      /* temp dir holding everything below */
    char store[512]; /* the store */
    char sock[256];  /* the socket path */
    char log[512];   /* the server's stderr */
    pid_t pid;
};

static void ts_msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int64_t ts_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void srv_init(struct srv *s)
{
    memset(s, 0, sizeof(*s));
    s->root = tu_tmpdir();
    snprintf(s->store, sizeof(s->store), "%s/store", s->root);
    snprintf(s->sock, sizeof(s->sock), "%s/sock", s->root);
    snprintf(s->log, sizeof(s->log), "%s/server.log", s->root);
    assert_true(strlen(s->sock) < sizeof(((struct sockaddr_un *)0)->sun_path));
}

/* Kills a server a failed test left running, and removes everything. */
static void srv_fini(struct srv *s)
{
    if (ts_held > 0) { /* else its exit could not be waited for */
        ptrace(PTRACE_DETACH, ts_held, NULL, NULL);
        ts_held = 0;
    }
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    tu_rmrf(s->root);
    free(s->root);
}

static int ts_setup(void **state)
{
    struct srv *s = malloc(sizeof(*s));

    srv_init(s);
    *state = s;
    return 0;
}

static int ts_teardown(void **state)
{
    ts_child_nofile = 0; /* a case that failed may have left it set */
    srv_fini(*state);
    free(*state);
    return 0;
}

/* Starts `sxp --dir STORE serve --socket SOCK ARGS...` (NULL-terminated),
 * stderr into the log; returns the pid without waiting. */
static pid_t srv_spawn(const char *store, const char *sock, const char *log, const char *arg, ...)
{
    const char *argv[40];
    char nofile[32];
    int n = 0;
    va_list ap;
    pid_t pid;

    /* A descriptor limit is set by a shell the child runs, not by the
     * child itself: under valgrind (./check) the child is still valgrind's
     * until it execs, and valgrind refuses to lower the limit. */
    if (ts_child_nofile != 0) {
        snprintf(nofile, sizeof(nofile), "%llu", (unsigned long long)ts_child_nofile);
        argv[n++] = "/bin/sh";
        argv[n++] = "-c";
        argv[n++] = "ulimit -n \"$1\" && shift && exec \"$@\"";
        argv[n++] = "sh";
        argv[n++] = nofile;
    }
    argv[n++] = ts_sxp;
    argv[n++] = "--dir";
    argv[n++] = store;
    argv[n++] = "serve";
    argv[n++] = "--socket";
    argv[n++] = sock;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 38; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        if (fd >= 0)
            dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int cl_connect_path(const char *path)
{
    struct sockaddr_un addr;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Waits until the server accepts a connection (bounded), failing the test
 * if it exits first. */
static void srv_wait_ready(pid_t pid, const char *sock)
{
    int64_t deadline = ts_now_ms() + TS_START_TIMEOUT_MS;

    for (;;) {
        int status, fd = cl_connect_path(sock);

        if (fd >= 0) {
            close(fd);
            return;
        }
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("the server exited (status %d) before accepting", status);
        if (ts_now_ms() > deadline)
            fail_msg("the server did not accept on %s within %d ms", sock, TS_START_TIMEOUT_MS);
        ts_msleep(5);
    }
}

#define srv_start(s, ...)                                                                          \
    do {                                                                                           \
        (s)->pid = srv_spawn((s)->store, (s)->sock, (s)->log, __VA_ARGS__);                        \
        srv_wait_ready((s)->pid, (s)->sock);                                                       \
    } while (0)

/* Waits for the server to exit; returns its exit status (-signal if killed). */
static int srv_wait(struct srv *s)
{
    int status = 0;

    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    s->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static int srv_term(struct srv *s)
{
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    return srv_wait(s);
}

/* The store's LOCK file (malloc'd). */
static char *srv_lock_text(const struct srv *s)
{
    char path[600];

    snprintf(path, sizeof(path), "%s/LOCK", s->store);
    return tu_read_file(path, NULL);
}

/* 1 when the server's log holds text. */
static int srv_log_has(const struct srv *s, const char *text)
{
    char *log = tu_read_file(s->log, NULL);
    int has = log != NULL && strstr(log, text) != NULL;

    free(log);
    return has;
}

/* Waits (bounded) until the server's log holds text. */
static void srv_wait_log(const struct srv *s, const char *text)
{
    int64_t deadline = ts_now_ms() + TS_READ_TIMEOUT_MS;

    while (!srv_log_has(s, text)) {
        if (ts_now_ms() > deadline)
            fail_msg("the server's log did not say \"%s\"", text);
        ts_msleep(5);
    }
}

/* ---- clients ------------------------------------------------------------- */

struct cl {
    int fd;
    char buf[1 << 16];
    size_t len;
};

static void cl_open(struct cl *c, const char *sock)
{
    c->len = 0;
    c->fd = cl_connect_path(sock);
    assert_true(c->fd >= 0);
}

static void cl_close(struct cl *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Sends all of p; 0 or -errno. */
static int cl_send_n(struct cl *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int cl_send(struct cl *c, const char *text)
{
    return cl_send_n(c, text, strlen(text));
}

/* Reads one answer line into out (cap bytes, without the LF). Returns its
 * length, -1 at end of stream (the server closed), -2 on a timeout or an
 * error. Thread-safe per struct cl. */
static ssize_t cl_line(struct cl *c, char *out, size_t cap)
{
    for (;;) {
        char *lf = memchr(c->buf, '\n', c->len);
        struct pollfd pfd = {c->fd, POLLIN, 0};
        ssize_t n;

        if (lf != NULL) {
            size_t len = (size_t)(lf - c->buf);
            size_t keep = len < cap ? len : cap - 1;

            memcpy(out, c->buf, keep);
            out[keep] = '\0';
            memmove(c->buf, lf + 1, c->len - len - 1);
            c->len -= len + 1;
            return (ssize_t)len;
        }
        if (c->len == sizeof(c->buf))
            return -2;
        n = poll(&pfd, 1, TS_READ_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -2;
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return -1;
        if (n < 0)
            return -2;
        c->len += (size_t)n;
    }
}

/* Sends one request and returns its answer (static buffer per call site is
 * not enough for threads: the caller passes out). */
static void cl_call(struct cl *c, const char *req, char *out, size_t cap)
{
    char line[4096];

    snprintf(line, sizeof(line), "%s\n", req);
    assert_int_equal(cl_send(c, line), 0);
    assert_true(cl_line(c, out, cap) >= 0);
}

static void cl_expect(struct cl *c, const char *req, const char *want)
{
    char ans[8192];

    cl_call(c, req, ans, sizeof(ans));
    if (strcmp(ans, want) != 0)
        fail_msg("%s: answered %s, not %s", req, ans, want);
}

/* The answer begins with prefix. */
static void cl_expect_prefix(struct cl *c, const char *req, const char *prefix)
{
    char ans[8192];

    cl_call(c, req, ans, sizeof(ans));
    if (strncmp(ans, prefix, strlen(prefix)) != 0)
        fail_msg("%s: answered %s, not %s...", req, ans, prefix);
}

/* Waits (bounded) until the server has read every byte c sent: an
 * AF_UNIX socket's SIOCOUTQ counts the bytes the peer has not read yet.
 * The loop turns what it read into requests (and hands them to the pool)
 * before it looks at any other event, so a close that follows this wait
 * reaches the server after the request did. */
static void cl_wait_read(struct cl *c)
{
    int64_t deadline = ts_now_ms() + TS_READ_TIMEOUT_MS;
    int unread = 0;

    for (;;) {
        assert_int_equal(ioctl(c->fd, SIOCOUTQ, &unread), 0);
        if (unread == 0)
            return;
        if (ts_now_ms() > deadline)
            fail_msg("the server did not read %d bytes sent to it", unread);
        ts_msleep(1);
    }
}

/* 1 when an answer (or the end) is waiting on c now. */
static int cl_has_answer(struct cl *c)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};

    return c->len > 0 || poll(&pfd, 1, 0) > 0;
}

/* The figure key of (sxp/stat) asked on c. */
static long long cl_stat(struct cl *c, const char *key)
{
    char ans[4096], pat[64];
    const char *p;

    cl_call(c, "(sxp/stat)", ans, sizeof(ans));
    snprintf(pat, sizeof(pat), ":%s ", key);
    p = strstr(ans, pat);
    if (p == NULL)
        fail_msg("(sxp/stat) has no %s: %s", key, ans);
    return strtoll(p + strlen(pat), NULL, 10);
}

/* The server closes c: no more answers. */
static void cl_expect_eof(struct cl *c)
{
    char ans[256];
    ssize_t n = cl_line(c, ans, sizeof(ans));

    if (n != -1)
        fail_msg("expected the server to close the connection, got %zd: %s", n, n >= 0 ? ans : "");
}

/* ---- the store after the server ------------------------------------------------ */

/* The seqs of stream name, in order, into seqs (at most max); returns how
 * many. Checks each event's :c when want_c is not NULL (want_c[seq]). */
static size_t store_seqs(sxp_store *st, const char *name, int64_t *seqs, size_t max)
{
    struct sxp_err err;
    sxp_value *list = NULL;
    size_t n;

    assert_int_equal(sxp_stream_read(st, name, strlen(name), &list, &err), 0);
    n = sxp_value_len(list);
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++) {
        const sxp_value *e = sxp_value_list_get(list, i);

        seqs[i] = sxp_value_as_int(sxp_value_dict_get(e, "seq", 3));
    }
    sxp_value_free(list);
    return n;
}

/* The :c of the event of seq in stream name, or -1. */
static int64_t store_c_of(sxp_store *st, const char *name, int64_t seq)
{
    struct sxp_err err;
    sxp_value *list = NULL;
    int64_t c = -1;

    assert_int_equal(sxp_stream_read_range(st, name, strlen(name), seq, 1, &list, &err), 0);
    if (sxp_value_len(list) == 1) {
        const sxp_value *e = sxp_value_list_get(list, 0);

        if (sxp_value_as_int(sxp_value_dict_get(e, "seq", 3)) == seq)
            c = sxp_value_as_int(sxp_value_dict_get(e, "c", 1));
    }
    sxp_value_free(list);
    return c;
}

static sxp_store *store_open(const struct srv *s, int want_recovered)
{
    sxp_store *st = tu_open(s->store);
    struct sxp_stats stats;

    sxp_store_stats(st, &stats);
    assert_int_equal(stats.recovered, want_recovered);
    return st;
}

/* ---- many clients in parallel --------------------------------------------------- */

#define PAR_CLIENTS 32
#define PAR_ROUNDS 40

struct par {
    const char *sock;
    _Atomic int64_t next_shared;                        /* shared seqs handed out */
    _Atomic int acked_by[PAR_CLIENTS * PAR_ROUNDS + 1]; /* shared seq -> client + 1 */
    _Atomic int seq_refusals;
    char failure[PAR_CLIENTS][256]; /* a thread's first failure */
};

struct par_arg {
    struct par *p;
    int t;
};

static void *par_client(void *arg)
{
    struct par_arg *a = arg;
    struct par *p = a->p;
    struct cl *c = malloc(sizeof(*c));
    char req[256], ans[512];

    c->len = 0;
    c->fd = cl_connect_path(p->sock);
    if (c->fd < 0) {
        snprintf(p->failure[a->t], 256, "connect: %s", strerror(errno));
        goto out;
    }
    for (int r = 1; r <= PAR_ROUNDS; r++) {
        int64_t seq = atomic_fetch_add(&p->next_shared, 1) + 1;

        snprintf(req, sizeof(req), "(persist/append \"own-%d\" {:c %d :seq %d})\n", a->t, a->t, r);
        if (cl_send(c, req) != 0 || cl_line(c, ans, sizeof(ans)) < 0 ||
            strcmp(ans, "(ok nil)") != 0) {
            snprintf(p->failure[a->t], 256, "own append %d answered %.200s", r, ans);
            goto out;
        }
        snprintf(req, sizeof(req), "(persist/append \"shared\" {:c %d :seq %lld})\n", a->t,
                 (long long)seq);
        if (cl_send(c, req) != 0 || cl_line(c, ans, sizeof(ans)) < 0) {
            snprintf(p->failure[a->t], 256, "shared append: no answer");
            goto out;
        }
        if (strcmp(ans, "(ok nil)") == 0) {
            atomic_store(&p->acked_by[seq], a->t + 1);
        } else if (strncmp(ans, "(error \"seq\" ", 13) == 0) {
            atomic_fetch_add(&p->seq_refusals, 1); /* a later seq got in first */
        } else {
            snprintf(p->failure[a->t], 256, "shared append answered %.200s", ans);
            goto out;
        }
    }
out:
    cl_close(c);
    free(c);
    return NULL;
}

static void many_clients_in_parallel_have_every_ack_in_the_store(void **state)
{
    struct srv *s = *state;
    struct par *p = calloc(1, sizeof(*p));
    struct par_arg args[PAR_CLIENTS];
    pthread_t th[PAR_CLIENTS];
    int64_t seqs[PAR_CLIENTS * PAR_ROUNDS + 1];
    size_t n, nacked = 0;
    sxp_store *st;
    char *lock;

    srv_start(s, "--log-level", "warn", (char *)NULL);
    p->sock = s->sock;
    for (int t = 0; t < PAR_CLIENTS; t++) {
        args[t].p = p;
        args[t].t = t;
        assert_int_equal(pthread_create(&th[t], NULL, par_client, &args[t]), 0);
    }
    for (int t = 0; t < PAR_CLIENTS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < PAR_CLIENTS; t++) {
        if (p->failure[t][0] != '\0')
            fail_msg("client %d: %s", t, p->failure[t]);
    }
    assert_int_equal(srv_term(s), 0);
    lock = srv_lock_text(s);
    assert_non_null(lock);
    assert_string_equal(lock, "clean\n");
    free(lock);

    st = store_open(s, 0);
    for (int t = 0; t < PAR_CLIENTS; t++) {
        char name[32];

        snprintf(name, sizeof(name), "own-%d", t);
        n = store_seqs(st, name, seqs, PAR_ROUNDS + 1);
        assert_int_equal(n, PAR_ROUNDS);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(seqs[i], (int64_t)i + 1);
            assert_int_equal(store_c_of(st, name, seqs[i]), t);
        }
    }
    /* The shared stream holds exactly the acknowledged seqs, in order, each
     * with the content of the client that was told it was stored. */
    n = store_seqs(st, "shared", seqs, PAR_CLIENTS * PAR_ROUNDS + 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(seqs[i] >= 1 && seqs[i] <= PAR_CLIENTS * PAR_ROUNDS);
        if (i > 0)
            assert_true(seqs[i] > seqs[i - 1]);
        assert_true(p->acked_by[seqs[i]] != 0);
        assert_int_equal(store_c_of(st, "shared", seqs[i]), p->acked_by[seqs[i]] - 1);
    }
    for (int q = 1; q <= PAR_CLIENTS * PAR_ROUNDS; q++)
        nacked += p->acked_by[q] != 0;
    assert_int_equal(n, nacked);
    assert_int_equal(nacked + (size_t)p->seq_refusals, PAR_CLIENTS * PAR_ROUNDS);
    assert_true(nacked > 0);
    assert_int_equal(sxp_store_close(st), 0);
    free(p);
}

/* ---- pipelining ---------------------------------------------------------------- */

#define PIPE_N 1000

static void thousand_pipelined_requests_are_answered_in_order(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c));
    size_t cap = PIPE_N * 64, len = 0;
    char *reqs = malloc(cap), *want[PIPE_N], ans[512];
    int64_t k = 0;

    srv_start(s, "--log-level", "warn", (char *)NULL);
    for (int i = 0; i < PIPE_N; i++) {
        char w[128];

        if (i % 100 == 99) { /* a repeated seq: refused, and the next go on */
            len += (size_t)snprintf(reqs + len, cap - len, "(persist/append \"pipe\" {:seq 1})\n");
            snprintf(w, sizeof(w),
                     "(error \"seq\" \"seq 1 is not above the high-water mark "
                     "%lld of stream \\\"pipe\\\"\")",
                     (long long)k);
        } else if (i % 4 == 3) {
            len += (size_t)snprintf(reqs + len, cap - len, "(persist/last-seq \"pipe\")\n");
            snprintf(w, sizeof(w), "(ok %lld)", (long long)k);
        } else {
            len += (size_t)snprintf(reqs + len, cap - len,
                                    "(persist/append \"pipe\" {:seq %lld})\n", (long long)++k);
            snprintf(w, sizeof(w), "(ok nil)");
        }
        want[i] = strdup(w);
    }
    cl_open(c, s->sock);
    /* Every request goes out before any answer is read. */
    assert_int_equal(cl_send_n(c, reqs, len), 0);
    for (int i = 0; i < PIPE_N; i++) {
        assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
        if (strcmp(ans, want[i]) != 0)
            fail_msg("answer %d is %s, not %s", i, ans, want[i]);
        free(want[i]);
    }
    snprintf(ans, sizeof(ans), "(ok %lld)", (long long)k);
    cl_expect(c, "(persist/last-seq \"pipe\")", ans);
    cl_close(c);
    assert_int_equal(srv_term(s), 0);
    free(reqs);
    free(c);
}

/* ---- bad input -------------------------------------------------------------------- */

static void bad_input_answers_errors_and_the_connection_stays_usable(void **state)
{
    static const struct {
        const char *req, *want;
    } cases[] = {
        {"(persist/append \"b\" {:seq 1}", "(error \"parse\" "},
        {"not sx at all )", "(error \"parse\" "},
        {"42", "(error \"parse\" "},
        {"()", "(error \"parse\" "},
        {"(persist/frobnicate \"b\")", "(error \"op\" "},
        {"(sxp/frobnicate)", "(error \"op\" "},
        /* (sxp/stat): only the bare form is the loop's; the rest, parsed
         * on a worker, answer as a parse would. */
        {"(sxp/statx)", "(error \"op\" "},
        {"(sxp/stat 1)", "(error \"arity\" \"sxp/stat takes 0 arguments, not 1: (sxp/stat)\")"},
        {"( sxp/stat\t\"a\" {:b 1} )",
         "(error \"arity\" \"sxp/stat takes 0 arguments, not 2: (sxp/stat)\")"},
        {"(sxp/stat(x))", "(error \"arity\" "},
        {"(sxp/stat", "(error \"parse\" "},
        {"(sxp/stat) x", "(error \"parse\" "},
        {"(sxp/stat))", "(error \"parse\" "},
        {" (\tsxp/stat\v)\r ", "(ok {:accepted "},
        {"(persist/append \"b\")", "(error \"arity\" "},
        {"(persist/read)", "(error \"arity\" "},
        {"(persist/append \"b\" {:seq 1} {:seq 2})", "(error \"arity\" "},
        {"(persist/read 42)", "(error \"type\" "},
        {"(persist/append \"b\" {:no-seq 1})", "(error \"type\" "},
        {"(persist/append \"\" {:seq 1})", "(error \"name\" "},
        {"(blob/get \"../../etc/passwd\")", "(error \"cid\" "},
        {"(persist/append \"b\" {:seq 1})", "(ok nil)"},
        {"(persist/append \"b\" {:seq 1})", "(error \"seq\" "},
        {"(persist/append \"b\" {:seq 0})", "(error \"seq\" "},
        {"(persist/kv-put \"k\" (list (quote error) \"x\"))", "(ok nil)"},
        {"(persist/kv-get \"k\")", "(ok (list (quote error) \"x\"))"},
        {"(persist/read \"b\")", "(ok (list {:seq 1}))"},
    };
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c));
    sxp_store *st;
    int64_t seqs[4];

    srv_start(s, "--log-level", "warn", (char *)NULL);
    cl_open(c, s->sock);
    /* Blank lines get no answer: the next answer is the next request's. */
    assert_int_equal(cl_send(c, "\n   \n\t\r\n"), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cl_expect_prefix(c, cases[i].req, cases[i].want);
    cl_close(c);
    assert_int_equal(srv_term(s), 0);
    st = store_open(s, 0);
    assert_int_equal(store_seqs(st, "b", seqs, 4), 1);
    assert_int_equal(sxp_store_close(st), 0);
    free(c);
}

static void over_long_line_answers_limit_and_closes_only_that_connection(void **state)
{
    struct srv *s = *state;
    struct cl *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *d = malloc(sizeof(*d));
    char line[2048], ans[512];
    size_t n;

    srv_start(s, "--log-level", "warn", "--max-line", "1024", (char *)NULL);
    cl_open(a, s->sock);
    cl_open(b, s->sock);
    cl_expect(b, "(persist/append \"l\" {:seq 1})", "(ok nil)");

    /* A line of exactly --max-line bytes is a request. */
    n = (size_t)snprintf(line, sizeof(line), "(persist/kv-put \"k\" \"");
    while (n < 1024 - 2)
        line[n++] = 'x';
    memcpy(line + n, "\")", 2);
    n += 2;
    line[n] = '\0';
    assert_int_equal(strlen(line), 1024);
    cl_expect(a, line, "(ok nil)");
    /* So is one whose LF comes in a later write: 1024 bytes held without
     * their LF are not over the limit yet. */
    assert_int_equal(cl_send(a, line), 0);
    cl_wait_read(a);
    cl_expect(a, "", "(ok nil)");

    /* One more byte: the request sent before it is answered, then the limit
     * error, then the connection ends. */
    assert_int_equal(cl_send(a, "(persist/append \"l\" {:seq 2})\n"), 0);
    memmove(line + 1, line, 1025);
    line[0] = ' ';
    assert_int_equal(strlen(line), 1025);
    assert_int_equal(cl_send(a, line), 0);
    /* The server needs no more than the 1025th byte: it may have closed
     * already (seen under valgrind), and then this send fails. */
    int rc = cl_send(a, "\n(persist/append \"l\" {:seq 3})\n");
    assert_true(rc == 0 || rc == -EPIPE || rc == -ECONNRESET);
    assert_true(cl_line(a, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans, "(ok nil)");
    assert_true(cl_line(a, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans,
                        "(error \"limit\" \"request line longer than 1024 bytes (--max-line)\")");
    cl_expect_eof(a);

    /* An endless line without LF is cut off just the same. */
    cl_open(d, s->sock);
    memset(line, 'y', sizeof(line));
    for (int i = 0; i < 4; i++)
        if (cl_send_n(d, line, sizeof(line)) != 0)
            break; /* the server may close before all of it is sent */
    assert_true(cl_line(d, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans,
                        "(error \"limit\" \"request line longer than 1024 bytes (--max-line)\")");
    cl_expect_eof(d);

    /* The other connection never noticed; seq 3 after the long line was not run. */
    cl_expect(b, "(persist/last-seq \"l\")", "(ok 2)");
    cl_close(a);
    cl_close(b);
    cl_close(d);
    assert_int_equal(srv_term(s), 0);
    free(a);
    free(b);
    free(d);
}

/* C-2: the room a long line took is given back once the line is read, so
 * idle connections that each once sent a long line do not keep it
 * (docs/serve.md, "Backpressure": at most 256 KiB of input each). */
static void a_long_lines_room_is_given_back_once_it_is_read(void **state)
{
    enum { NCONN = 4, LONG = 4 << 20, HALF = 2 << 20, IN_HIGH = 256 << 10 };
    struct srv *s = *state;
    struct cl *c = calloc(NCONN + 1, sizeof(*c));
    char *line = malloc(LONG);
    char ans[512];
    size_t head = strlen("(persist/kv-get \"");

    /* A kv-get of a name far too long: answered (error "name" ...), and
     * nothing stored changes. */
    memcpy(line, "(persist/kv-get \"", head);
    memset(line + head, 'x', LONG - head - 3);
    memcpy(line + LONG - 3, "\")\n", 3);
    srv_start(s, "--log-level", "warn", (char *)NULL);
    cl_open(&c[NCONN], s->sock);

    /* While half a long line is in, the server holds it (the figure is real). */
    cl_open(&c[0], s->sock);
    assert_int_equal(cl_send_n(&c[0], line, HALF), 0);
    cl_wait_read(&c[0]);
    assert_true(cl_stat(&c[NCONN], "buffered") >= HALF);
    assert_int_equal(cl_send_n(&c[0], line + HALF, LONG - HALF), 0);
    /* The head of the next request comes with it, and must outlive the shrink. */
    assert_int_equal(cl_send(&c[0], "(persist/last-seq"), 0);
    assert_true(cl_line(&c[0], ans, sizeof(ans)) >= 0);
    if (strncmp(ans, "(error \"name\" ", 14) != 0)
        fail_msg("a long kv name answered %.200s", ans);

    for (int i = 1; i < NCONN; i++) {
        cl_open(&c[i], s->sock);
        assert_int_equal(cl_send_n(&c[i], line, LONG), 0);
        assert_true(cl_line(&c[i], ans, sizeof(ans)) >= 0);
        assert_true(strncmp(ans, "(error \"name\" ", 14) == 0);
    }
    cl_wait_read(&c[0]);
    /* Idle now, each holds nothing but c[0] the head of its next request,
     * and keeps at most SOCK_CONN_IN_HIGH of input room and its answer
     * room (C-2). */
    long long buffered = cl_stat(&c[NCONN], "buffered");
    if (buffered > (long long)strlen("(persist/last-seq"))
        fail_msg("%d idle connections hold %lld bytes", NCONN + 1, buffered);
    long long room = cl_stat(&c[NCONN], "room");
    if (room > (NCONN + 1) * (IN_HIGH + (64 << 10)))
        fail_msg("%d idle connections keep %lld bytes of buffer room", NCONN + 1, room);
    cl_expect(&c[0], " \"l\")", "(ok 0)");
    for (int i = 0; i <= NCONN; i++)
        cl_close(&c[i]);
    assert_int_equal(srv_term(s), 0);
    free(line);
    free(c);
}

/* ---- a pipelining client's read-ahead is bounded (C-2) ------------------------------------ */

#define AHEAD_N 20000
#define AHEAD_LINE 1000

struct ahead {
    struct cl *c;
    int rc; /* the sender's last send: 0 or -errno */
};

static void *ahead_sender(void *arg)
{
    struct ahead *a = arg;
    char line[AHEAD_LINE + 1];
    size_t n = (size_t)snprintf(line, sizeof(line), "(persist/last-seq \"p\")");

    /* Padded with spaces, which SX allows after the request. */
    memset(line + n, ' ', AHEAD_LINE - 1 - n);
    line[AHEAD_LINE - 1] = '\n';
    for (int i = 0; i < AHEAD_N && a->rc == 0; i++)
        a->rc = cl_send_n(a->c, line, AHEAD_LINE);
    return NULL;
}

/* C-2: a client that sends faster than its requests run, while it reads its
 * answers, is not read ahead of them up to --max-line (16 MiB): the server
 * holds at most its bounded queue, one read's worth of lines and its unsent
 * answers (docs/serve.md, "Backpressure"). The second connection watches
 * `buffered` the whole run. */
static void a_pipelining_clients_input_is_not_read_far_ahead(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c)), *w = malloc(sizeof(*w));
    struct ahead a = {c, 0};
    pthread_t th;
    char ans[512];
    long long most = 0;

    srv_start(s, "--log-level", "warn", (char *)NULL);
    cl_open(c, s->sock);
    cl_open(w, s->sock);
    assert_int_equal(pthread_create(&th, NULL, ahead_sender, &a), 0);
    for (int i = 0; i < AHEAD_N; i++) {
        assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
        assert_string_equal(ans, "(ok 0)");
        if (i % 200 == 0) {
            long long b = cl_stat(w, "buffered");

            most = b > most ? b : most;
        }
    }
    pthread_join(th, NULL);
    assert_int_equal(a.rc, 0);
    /* 1 MiB of queue, 1 MiB of answers, a read's 64 KiB: the unbounded
     * read-ahead held 16 MiB. */
    if (most > (2 << 20) + (64 << 10))
        fail_msg("one pipelining connection made the server hold %lld bytes", most);
    cl_close(c);
    cl_close(w);
    assert_int_equal(srv_term(s), 0);
    free(c);
    free(w);
}

/* A request's bytes go into the debug log escaped (sock_log.c FORMAT): a
 * client cannot forge a log line with CR, move the cursor of whoever reads
 * the log with ESC, or hide the rest of its line behind a NUL. */
static void debug_log_escapes_a_requests_control_bytes(void **state)
{
    static const char req[] = "(persist/last-seq \"x\r2025-01-01T00:00:00.000Z sxp[1] info: "
                              "forged\x1b[2K\\\x7f\0tail\")\n";
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c));
    char ans[512], *log;

    srv_start(s, "--log-level", "debug", (char *)NULL);
    cl_open(c, s->sock);
    assert_int_equal(cl_send_n(c, req, sizeof(req) - 1), 0);
    assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
    cl_close(c);
    assert_int_equal(srv_term(s), 0);
    log = tu_read_file(s->log, NULL);
    assert_non_null(log);
    assert_null(strchr(log, '\r'));
    assert_null(strchr(log, '\x1b'));
    assert_null(strchr(log, '\x7f'));
    if (strstr(log, "(persist/last-seq \"x\\x0d2025-01-01T00:00:00.000Z sxp[1] info: "
                    "forged\\x1b[2K\\\\\\x7f\\x00tail\") -> ") == NULL)
        fail_msg("the request is not logged escaped:\n%s", log);
    free(log);
    free(c);
}

/* C-2: a line of --max-line bytes takes that much room, not the next power
 * of two (twice as much: 30 clients each with a 16 MiB line reserved 1 GB):
 * (sxp/stat)'s `room`. The server's address space grows with it too, but
 * by what its allocator maps (under ASan, 13.7 MB for a 4 MiB line). */
static void a_line_of_max_line_bytes_takes_no_more_room_than_that(void **state)
{
    enum { MAX = 4 << 20 };
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c)), *w = malloc(sizeof(*w));
    char *line = malloc(MAX);
    long long before, grown;

    srv_start(s, "--log-level", "warn", "--max-line", "4194304", (char *)NULL);
    cl_open(c, s->sock);
    cl_expect(c, "(persist/last-seq \"a\")", "(ok 0)");
    cl_open(w, s->sock);
    before = cl_stat(w, "room");
    memset(line, ' ', MAX);
    assert_int_equal(cl_send_n(c, line, MAX), 0); /* no LF: all held */
    cl_wait_read(c);
    assert_true(cl_stat(w, "buffered") >= MAX);
    grown = cl_stat(w, "room") - before;
    if (grown > MAX + 1)
        fail_msg("a line of %d bytes took %lld bytes of room", MAX, grown);
    /* Its LF ends a blank line, which gets no answer, and the next is served. */
    assert_int_equal(cl_send(c, "\n"), 0);
    cl_expect(c, "(persist/last-seq \"a\")", "(ok 0)");
    cl_close(c);
    cl_close(w);
    assert_int_equal(srv_term(s), 0);
    free(line);
    free(c);
    free(w);
}

/* ---- a client that dies mid-line --------------------------------------------------- */

static void client_killed_mid_line_changes_nothing(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c));
    int sync_pipe[2];
    pid_t child;
    char ans[512];

    srv_start(s, "--log-level", "warn", (char *)NULL);
    assert_int_equal(pipe(sync_pipe), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct cl *k = malloc(sizeof(*k));
        char one = 1;

        k->len = 0;
        k->fd = cl_connect_path(s->sock);
        /* A whole request except its LF, then half of another. */
        if (k->fd < 0 || cl_send(k, "(persist/append \"k\" {:seq 1})") != 0)
            _exit(1);
        if (write(sync_pipe[1], &one, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(sync_pipe[1]);
    assert_int_equal(read(sync_pipe[0], ans, 1), 1);
    close(sync_pipe[0]);
    /* The bytes are sent; kill the client before it ends its line. */
    assert_int_equal(kill(child, SIGKILL), 0);
    assert_int_equal(waitpid(child, NULL, 0), child);

    /* A client that ends its input mid-line (shutdown, not killed). */
    cl_open(c, s->sock);
    assert_int_equal(cl_send(c, "(persist/append \"k\" {:seq 2})"), 0);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    cl_expect_eof(c);
    cl_close(c);

    cl_open(c, s->sock);
    cl_expect(c, "(persist/streams)", "(ok (list))");
    cl_expect(c, "(persist/last-seq \"k\")", "(ok 0)");
    cl_close(c);
    assert_int_equal(srv_term(s), 0);
    free(c);
}

/* ---- a client that half-closes gets every answer ------------------------------------ */

static void client_that_ends_its_input_still_gets_every_answer(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c));
    char ans[512];

    srv_start(s, "--log-level", "warn", (char *)NULL);
    cl_open(c, s->sock);
    assert_int_equal(cl_send(c, "(persist/append \"h\" {:seq 1})\n(persist/append \"h\" {:seq "
                                "2})\n(persist/last-seq \"h\")\n"),
                     0);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans, "(ok nil)");
    assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans, "(ok nil)");
    assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans, "(ok 2)");
    cl_expect_eof(c);
    cl_close(c);
    assert_int_equal(srv_term(s), 0);
    free(c);
}

/* ---- the server killed while clients stream ------------------------------------------- */

#define KILL_CLIENTS 8

struct killrun {
    const char *sock;
    _Atomic int64_t acked[KILL_CLIENTS]; /* highest seq acknowledged */
    _Atomic int64_t sent[KILL_CLIENTS];  /* highest seq sent */
    _Atomic int64_t total;
    char failure[KILL_CLIENTS][256];
};

struct kill_arg {
    struct killrun *k;
    int t;
};

static void *kill_client(void *arg)
{
    struct kill_arg *a = arg;
    struct killrun *k = a->k;
    struct cl *c = malloc(sizeof(*c));
    char req[128], ans[512];

    c->len = 0;
    c->fd = cl_connect_path(k->sock);
    if (c->fd < 0) {
        snprintf(k->failure[a->t], 256, "connect: %s", strerror(errno));
        goto out;
    }
    for (int64_t seq = 1;; seq++) {
        ssize_t n;

        snprintf(req, sizeof(req), "(persist/append \"k%d\" {:c %d :seq %lld})\n", a->t, a->t,
                 (long long)seq);
        atomic_store(&k->sent[a->t], seq);
        if (cl_send(c, req) != 0)
            break; /* the server is gone */
        n = cl_line(c, ans, sizeof(ans));
        if (n == -1)
            break; /* the server is gone */
        if (n < 0 || strcmp(ans, "(ok nil)") != 0) {
            snprintf(k->failure[a->t], 256, "append %lld answered %.200s", (long long)seq,
                     n < 0 ? "nothing (timeout)" : ans);
            break;
        }
        atomic_store(&k->acked[a->t], seq);
        atomic_fetch_add(&k->total, 1);
    }
out:
    cl_close(c);
    free(c);
    return NULL;
}

static void server_killed_while_clients_stream_keeps_every_ack(void **state)
{
    struct srv *s = *state;
    struct killrun *k = calloc(1, sizeof(*k));
    struct kill_arg args[KILL_CLIENTS];
    pthread_t th[KILL_CLIENTS];
    int64_t *seqs = malloc(1000000 * sizeof(*seqs));
    int64_t deadline;
    sxp_store *st;
    char *lock;

    srv_start(s, "--log-level", "warn", (char *)NULL);
    k->sock = s->sock;
    for (int t = 0; t < KILL_CLIENTS; t++) {
        args[t].k = k;
        args[t].t = t;
        assert_int_equal(pthread_create(&th[t], NULL, kill_client, &args[t]), 0);
    }
    /* Kill the server mid-stream, once it has acknowledged a few hundred. */
    deadline = ts_now_ms() + TS_READ_TIMEOUT_MS;
    while (atomic_load(&k->total) < 400 && ts_now_ms() < deadline)
        ts_msleep(1);
    assert_true(atomic_load(&k->total) >= 400);
    assert_int_equal(kill(s->pid, SIGKILL), 0);
    assert_int_equal(srv_wait(s), -SIGKILL);
    for (int t = 0; t < KILL_CLIENTS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < KILL_CLIENTS; t++) {
        if (k->failure[t][0] != '\0')
            fail_msg("client %d: %s", t, k->failure[t]);
    }
    lock = srv_lock_text(s);
    assert_non_null(lock);
    assert_string_not_equal(lock, "clean\n"); /* killed: recovery must run */
    free(lock);

    st = store_open(s, 1);
    for (int t = 0; t < KILL_CLIENTS; t++) {
        char name[16];
        size_t n;

        snprintf(name, sizeof(name), "k%d", t);
        n = store_seqs(st, name, seqs, 1000000);
        /* Every acknowledged append is there; at most the one in flight
         * beyond it; nothing out of order. */
        assert_true((int64_t)n >= k->acked[t]);
        assert_true((int64_t)n <= k->sent[t]);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(seqs[i], (int64_t)i + 1);
        if (n > 0)
            assert_int_equal(store_c_of(st, name, (int64_t)n), t);
    }
    assert_int_equal(sxp_store_close(st), 0);
    free(seqs);
    free(k);
}

/* ---- SIGTERM drains ----------------------------------------------------------------- */

static void sigterm_drains_what_was_read_and_leaves_the_store_clean(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c)), *idle = malloc(sizeof(*idle));
    char *reqs = malloc(300 * 64), ans[512], *lock;
    size_t len = 0, got = 0;
    int64_t seqs[301];
    sxp_store *st;
    struct stat sb;

    srv_start(s, "--log-level", "warn", (char *)NULL);
    cl_open(idle, s->sock);
    cl_expect(idle, "(persist/streams)", "(ok (list))");
    cl_open(c, s->sock);
    for (int i = 1; i <= 300; i++)
        len += (size_t)sprintf(reqs + len, "(persist/append \"d\" {:seq %d})\n", i);
    assert_int_equal(cl_send_n(c, reqs, len), 0);
    /* The server is busy with them when the signal comes. */
    assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans, "(ok nil)");
    got = 1;
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    for (;;) {
        ssize_t n = cl_line(c, ans, sizeof(ans));

        if (n == -1)
            break;
        assert_true(n >= 0);
        assert_string_equal(ans, "(ok nil)");
        got++;
    }
    cl_expect_eof(idle);
    assert_int_equal(srv_wait(s), 0);
    assert_int_not_equal(stat(s->sock, &sb), 0); /* the socket file is gone */
    lock = srv_lock_text(s);
    assert_non_null(lock);
    assert_string_equal(lock, "clean\n");
    free(lock);
    /* Exactly the answered requests ran: the next open needs no recovery. */
    st = store_open(s, 0);
    assert_int_equal(store_seqs(st, "d", seqs, 301), got);
    for (size_t i = 0; i < got; i++)
        assert_int_equal(seqs[i], (int64_t)i + 1);
    assert_int_equal(sxp_store_close(st), 0);
    cl_close(c);
    cl_close(idle);
    free(c);
    free(idle);
    free(reqs);
}

/* ---- the socket file ---------------------------------------------------------------- */

static void socket_is_created_mode_0600_and_mode_widens_it(void **state)
{
    struct srv *s = *state;
    struct stat sb;
    char gid[32];

    srv_start(s, "--log-level", "warn", (char *)NULL);
    assert_int_equal(lstat(s->sock, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(srv_term(s), 0);

    snprintf(gid, sizeof(gid), "%ld", (long)getgid());
    srv_start(s, "--log-level", "warn", "--group", gid, (char *)NULL);
    assert_int_equal(lstat(s->sock, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0660);
    assert_int_equal(sb.st_gid, getgid());
    assert_int_equal(srv_term(s), 0);

    srv_start(s, "--log-level", "warn", "--mode", "0640", (char *)NULL);
    assert_int_equal(lstat(s->sock, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0640);
    assert_int_equal(srv_term(s), 0);
}

static void stale_socket_is_replaced_and_live_one_is_refused(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c));
    struct sockaddr_un addr;
    char other[600], other_log[600], file[600], *log;
    struct stat sb;
    pid_t pid2;
    int fd, status;

    /* A stale socket: bound, then its owner gone without removing it. */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, s->sock, strlen(s->sock) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    close(fd);
    assert_int_equal(lstat(s->sock, &sb), 0);
    srv_start(s, "--log-level", "info", (char *)NULL);
    cl_open(c, s->sock);
    cl_expect(c, "(persist/last-seq \"x\")", "(ok 0)");
    assert_true(srv_log_has(s, "replaced the stale socket"));

    /* A second server on the same path (another store) must not take it. */
    snprintf(other, sizeof(other), "%s/other", s->root);
    snprintf(other_log, sizeof(other_log), "%s/other.log", s->root);
    pid2 = srv_spawn(other, s->sock, other_log, NULL);
    assert_int_equal(waitpid(pid2, &status, 0), pid2);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    log = tu_read_file(other_log, NULL);
    assert_non_null(strstr(log, "another server is listening there"));
    free(log);
    cl_expect(c, "(persist/last-seq \"x\")", "(ok 0)"); /* still served */
    cl_close(c);
    cl_open(c, s->sock); /* and still accepting */
    cl_expect(c, "(persist/last-seq \"x\")", "(ok 0)");
    cl_close(c);
    assert_int_equal(srv_term(s), 0);

    /* A file that is not a socket is never replaced. */
    snprintf(file, sizeof(file), "%s/plain", s->root);
    tu_write_file(file, "keep me", 7);
    pid2 = srv_spawn(other, file, other_log, NULL);
    assert_int_equal(waitpid(pid2, &status, 0), pid2);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    log = tu_read_file(file, NULL);
    assert_string_equal(log, "keep me");
    free(log);
    free(c);
}

/* ---- who may connect ------------------------------------------------------------------ */

static void allow_uid_refuses_other_uids_and_admits_listed_ones(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c));
    char other[32], list[64], ans[512];

    snprintf(other, sizeof(other), "%ld", (long)getuid() + 1);
    s->pid = srv_spawn(s->store, s->sock, s->log, "--log-level", "warn", "--allow-uid", other,
                       (char *)NULL);
    /* Ready means: it answers the refusal. */
    srv_wait_ready(s->pid, s->sock);
    cl_open(c, s->sock);
    assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
    assert_memory_equal(ans, "(error \"denied\" ", 16);
    cl_expect_eof(c);
    cl_close(c);
    assert_int_equal(srv_term(s), 0);

    snprintf(list, sizeof(list), "%s,%ld", other, (long)getuid());
    srv_start(s, "--log-level", "warn", "--allow-uid", list, (char *)NULL);
    cl_open(c, s->sock);
    cl_expect(c, "(persist/last-seq \"u\")", "(ok 0)");
    cl_close(c);
    assert_int_equal(srv_term(s), 0);
    free(c);
}

static void connections_beyond_max_conns_are_refused(void **state)
{
    struct srv *s = *state;
    struct cl *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *c = malloc(sizeof(*c));
    char ans[1024];
    int64_t deadline;

    srv_start(s, "--log-level", "warn", "--max-conns", "2", (char *)NULL);
    cl_open(a, s->sock);
    cl_expect(a, "(persist/last-seq \"m\")", "(ok 0)");
    cl_open(b, s->sock);
    cl_expect(b, "(persist/last-seq \"m\")", "(ok 0)");
    cl_open(c, s->sock);
    assert_true(cl_line(c, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans, "(error \"limit\" \"too many connections: 2 open (--max-conns)\")");
    cl_expect_eof(c);
    cl_close(c);
    cl_call(a, "(sxp/stat)", ans, sizeof(ans));
    assert_non_null(strstr(ans, ":connections 2 "));
    assert_non_null(strstr(ans, ":refused 1 "));

    /* Once one leaves, a newcomer is served (the close may take the server
     * a moment to see: retry, bounded). */
    cl_close(b);
    deadline = ts_now_ms() + TS_START_TIMEOUT_MS;
    for (;;) {
        cl_open(c, s->sock);
        cl_call(c, "(persist/last-seq \"m\")", ans, sizeof(ans));
        if (strcmp(ans, "(ok 0)") == 0)
            break;
        assert_memory_equal(ans, "(error \"limit\" ", 15);
        cl_close(c);
        assert_true(ts_now_ms() < deadline);
        ts_msleep(5);
    }
    cl_close(c);
    cl_close(a);
    assert_int_equal(srv_term(s), 0);
    free(a);
    free(b);
    free(c);
}

/* ---- descriptors -------------------------------------------------------------------- */

#define FD_LIMIT 256 /* the server's RLIMIT_NOFILE: 128 for the store, 96 kept */
#define FD_BUDGET 32 /* connections left: FD_LIMIT - 128 - 96 */
#define FD_STREAMS 200
#define FD_CLIENTS 150

/* Under a low RLIMIT_NOFILE the default --max-conns (1000) is lowered to
 * what the store's descriptors leave: a connection beyond it gets the
 * limit answer at once rather than waiting unaccepted, and the store keeps
 * the descriptors its appends need. */
static void max_conns_is_lowered_to_the_descriptors_the_store_leaves(void **state)
{
    struct srv *s = *state;
    struct cl *f = malloc(sizeof(*f)), *conns = malloc(FD_CLIENTS * sizeof(*conns));
    char req[256], ans[512], want[128];
    int served = 0, refused = 0;

    ts_child_nofile = FD_LIMIT;
    srv_start(s, "--log-level", "warn", (char *)NULL);
    ts_child_nofile = 0;
    snprintf(want, sizeof(want), "--max-conns 1000 lowered to %d: RLIMIT_NOFILE %d", FD_BUDGET,
             FD_LIMIT);
    assert_true(srv_log_has(s, want));

    /* More streams than the store keeps descriptors for: its cache is full. */
    cl_open(f, s->sock);
    for (int i = 0; i < FD_STREAMS; i++) {
        snprintf(req, sizeof(req), "(persist/append \"s%d\" {:seq 1})", i);
        cl_expect(f, req, "(ok nil)");
    }
    /* Many more clients than the budget: each is served or refused, none
     * is left waiting. */
    for (int i = 0; i < FD_CLIENTS; i++) {
        int rc;

        cl_open(&conns[i], s->sock);
        /* A refused connection may be closed already: its answer waits. */
        rc = cl_send(&conns[i], "(persist/last-seq \"s0\")\n");
        assert_true(rc == 0 || rc == -EPIPE || rc == -ECONNRESET);
    }
    for (int i = 0; i < FD_CLIENTS; i++) {
        if (cl_line(&conns[i], ans, sizeof(ans)) < 0)
            fail_msg("client %d got no answer", i);
        if (strcmp(ans, "(ok 1)") == 0) {
            served++;
            continue;
        }
        assert_memory_equal(ans, "(error \"limit\" \"too many connections: ", 38);
        cl_expect_eof(&conns[i]);
        cl_close(&conns[i]);
        refused++;
    }
    assert_int_equal(served + refused, FD_CLIENTS);
    assert_true(served >= 1 && served <= FD_BUDGET - 1); /* f is one of them */

    /* While they stay open, appends to new streams and to streams whose
     * descriptors were evicted still work. */
    for (int i = 0; i < 20; i++) {
        snprintf(req, sizeof(req), "(persist/append \"new%d\" {:seq 1})", i);
        cl_expect(f, req, "(ok nil)");
        snprintf(req, sizeof(req), "(persist/append \"s%d\" {:seq 2})", i);
        cl_expect(f, req, "(ok nil)");
    }
    for (int i = 0; i < FD_CLIENTS; i++)
        cl_close(&conns[i]);
    cl_close(f);
    assert_int_equal(srv_term(s), 0);
    free(conns);
    free(f);
}

/* Accept fails for want of descriptors while no connection is open (so
 * none will close): the server accepts again once descriptors are free,
 * rather than leaving new clients in the backlog for good. The server's
 * own limit is lowered from here (prlimit) to make accept fail. */
static void accepting_resumes_after_descriptors_run_out_with_no_connection_open(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c));
    struct rlimit none = {0, 0}, old;
    struct pollfd pfd;
    char *log, *last;
    int64_t deadline;
    int done;

    srv_start(s, "--log-level", "info", (char *)NULL);
    cl_open(c, s->sock);
    cl_expect(c, "(persist/last-seq \"a\")", "(ok 0)");
    cl_close(c);
    /* Wait (bounded) until every connection so far (srv_start's probe, c)
     * is closed and freed: the log's last line is a close leaving none. */
    deadline = ts_now_ms() + TS_READ_TIMEOUT_MS;
    for (;;) {
        log = tu_read_file(s->log, NULL);
        last = log != NULL ? strrchr(log, '(') : NULL;
        done = last != NULL && strcmp(last, "(0 open)\n") == 0;
        free(log);
        if (done)
            break;
        assert_true(ts_now_ms() < deadline);
        ts_msleep(5);
    }

    assert_int_equal(prlimit(s->pid, RLIMIT_NOFILE, NULL, &old), 0);
    none.rlim_max = old.rlim_max;
    assert_int_equal(prlimit(s->pid, RLIMIT_NOFILE, &none, NULL), 0);
    cl_open(c, s->sock); /* into the backlog */
    assert_int_equal(cl_send(c, "(persist/last-seq \"a\")\n"), 0);
    srv_wait_log(s, "warn: accept: Too many open files");
    assert_int_equal(prlimit(s->pid, RLIMIT_NOFILE, &old, NULL), 0);

    /* Answered soon: a hung server would never answer; 10 s is far more
     * than the retry's 100 ms. */
    pfd.fd = c->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 10000) != 1)
        fail_msg("no answer after the descriptors came back");
    assert_true(cl_line(c, (char[64]){0}, 64) >= 0);
    cl_close(c);
    cl_open(c, s->sock);
    cl_expect(c, "(persist/last-seq \"a\")", "(ok 0)");
    cl_close(c);
    assert_true(srv_log_has(s, "info: accepting again"));
    assert_int_equal(srv_term(s), 0);
    free(c);
}

/* ---- a worker held ------------------------------------------------------------------- */

/* Stops the only worker of --workers 1 (its thread is named sxp-worker,
 * sock_pool.c) with ptrace while it waits for work: requests handed to the
 * pool then wait there, not started, until worker_release, with no
 * timing. Its id, or 0 when ptrace is not allowed here (the caller skips).
 * A request answered through c first makes sure the worker is started and
 * waiting for work: its answer is taken from the pool under the mutex the
 * worker gives up only to wait, so it holds no lock when it is stopped. */
static pid_t worker_hold(const struct srv *s, struct cl *c)
{
    char path[300], *comm;
    struct dirent *e;
    pid_t tid = 0;
    DIR *d;
    int st;

    cl_expect(c, "(persist/last-seq \"held\")", "(ok 0)");
    snprintf(path, sizeof(path), "/proc/%ld/task", (long)s->pid);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/task/%s/comm", (long)s->pid, e->d_name);
        comm = tu_read_file(path, NULL);
        if (comm != NULL && strcmp(comm, "sxp-worker\n") == 0)
            tid = (pid_t)atol(e->d_name);
        free(comm);
    }
    closedir(d);
    assert_true(tid > 0);
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
        fprintf(stderr, "test_socket: ptrace: %s; skipped\n", strerror(errno));
        return 0;
    }
    assert_int_equal(ptrace(PTRACE_INTERRUPT, tid, NULL, NULL), 0);
    assert_int_equal(waitpid(tid, &st, __WALL), tid);
    assert_true(WIFSTOPPED(st));
    ts_held = tid;
    return tid;
}

static void worker_release(pid_t tid)
{
    assert_int_equal(ptrace(PTRACE_DETACH, tid, NULL, NULL), 0);
    ts_held = 0;
}

/* (sxp/stat) with arguments is parsed on a worker, as any request, never
 * on the loop (a line of --max-line bytes would stall every connection
 * there): it waits behind a held worker, then gets its arity answer. Only
 * the bare (sxp/stat) is the loop's. */
static void sxp_stat_with_arguments_waits_for_a_worker(void **state)
{
    struct srv *s = *state;
    struct cl *a = malloc(sizeof(*a)), *c = malloc(sizeof(*c));
    char ans[512];
    pid_t worker;

    srv_start(s, "--log-level", "warn", "--workers", "1", (char *)NULL);
    cl_open(c, s->sock);
    cl_open(a, s->sock);
    if ((worker = worker_hold(s, c)) == 0) {
        free(a);
        free(c);
        skip();
    }
    assert_int_equal(cl_send(a, "(sxp/stat 1)\n"), 0);
    cl_wait_read(a);
    /* The loop answers c's (sxp/stat) after it has handled a's line. */
    cl_expect_prefix(c, "( sxp/stat\t)", "(ok {:accepted ");
    assert_false(cl_has_answer(a));
    worker_release(worker);
    assert_true(cl_line(a, ans, sizeof(ans)) >= 0);
    assert_string_equal(ans, "(error \"arity\" \"sxp/stat takes 0 arguments, not 1: (sxp/stat)\")");
    cl_close(a);
    cl_close(c);
    assert_int_equal(srv_term(s), 0);
    free(a);
    free(c);
}

#define GONE_CLIENTS 20

/* Clients that send an append and leave while the only worker is held:
 * their requests never started, so they are dropped (C-6), and `running`
 * counts only requests on a worker: none. */
static void requests_of_clients_that_left_before_they_started_are_dropped(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c)), *g = malloc(sizeof(*g));
    char req[128];
    int64_t deadline;
    pid_t worker;

    srv_start(s, "--log-level", "warn", "--workers", "1", (char *)NULL);
    cl_open(c, s->sock);
    if ((worker = worker_hold(s, c)) == 0) {
        free(c);
        free(g);
        skip();
    }
    for (int i = 1; i <= GONE_CLIENTS; i++) {
        cl_open(g, s->sock);
        snprintf(req, sizeof(req), "(persist/append \"gone\" {:seq %d})\n", i);
        assert_int_equal(cl_send(g, req), 0);
        cl_wait_read(g); /* handed to the pool, where it waits */
        cl_close(g);
    }
    /* Once the server has seen them go (bounded wait), nothing runs. */
    deadline = ts_now_ms() + TS_READ_TIMEOUT_MS;
    while (cl_stat(c, "connections") != 1) {
        assert_true(ts_now_ms() < deadline);
        ts_msleep(5);
    }
    assert_int_equal(cl_stat(c, "running"), 0);
    worker_release(worker);
    /* c's request runs after every job queued before it: none of them ran. */
    cl_expect(c, "(persist/last-seq \"gone\")", "(ok 0)");
    cl_close(c);
    assert_int_equal(srv_term(s), 0);
    free(c);
    free(g);
}

/* ---- many connections, one of them never reading ---------------------------------------- */

#define MANY_CONNS 300
#define SLOW_READS 2000

static void hundreds_of_connections_are_served_while_one_never_reads(void **state)
{
    struct srv *s = *state;
    struct cl *f = malloc(sizeof(*f)), *slow = malloc(sizeof(*slow));
    struct cl *conns = malloc(MANY_CONNS * sizeof(*conns));
    char req[1024], ans[2048], *reads, data[501];
    size_t len = 0;
    const char *p;
    long long answered;

    srv_start(s, "--log-level", "warn", "--drain-timeout", "0.5", (char *)NULL);
    cl_open(f, s->sock);
    memset(data, 'z', 500);
    data[500] = '\0';
    for (int i = 1; i <= 200; i++) {
        snprintf(req, sizeof(req), "(persist/append \"big\" {:data \"%s\" :seq %d})", data, i);
        cl_expect(f, req, "(ok nil)");
    }

    /* slow asks for about 200 MB of answers and never reads one. */
    reads = malloc(SLOW_READS * 32);
    for (int i = 0; i < SLOW_READS; i++)
        len += (size_t)sprintf(reads + len, "(persist/read \"big\")\n");
    cl_open(slow, s->sock);
    assert_int_equal(cl_send_n(slow, reads, len), 0);

    /* Hundreds of clients at once, each served. */
    for (int i = 0; i < MANY_CONNS; i++) {
        cl_open(&conns[i], s->sock);
        snprintf(req, sizeof(req), "(persist/append \"n%d\" {:seq 1})\n", i);
        assert_int_equal(cl_send(&conns[i], req), 0);
    }
    for (int i = 0; i < MANY_CONNS; i++) {
        assert_true(cl_line(&conns[i], ans, sizeof(ans)) >= 0);
        assert_string_equal(ans, "(ok nil)");
    }
    for (int i = 0; i < 20; i++) {
        snprintf(req, sizeof(req), "(persist/last-seq \"n%d\")", i);
        cl_expect(f, req, "(ok 1)");
    }
    /* Backpressure: the server ran only the few reads whose answers it
     * could hold, not all of them. */
    cl_call(f, "(sxp/stat)", ans, sizeof(ans));
    assert_non_null(strstr(ans, ":connections 302 "));
    p = strstr(ans, ":requests ");
    assert_non_null(p);
    answered = strtoll(p + 10, NULL, 10) - 200 - MANY_CONNS - 20;
    if (answered < 0 || answered > 100)
        fail_msg("the slow reader got %lld of its answers made", answered);

    for (int i = 0; i < MANY_CONNS; i++)
        cl_close(&conns[i]);
    cl_close(f);
    /* slow never takes its answers: the drain ends at its timeout, which
     * bounds the whole drain, and the store still closes cleanly. */
    assert_int_equal(srv_term(s), 0);
    assert_true(
        srv_log_has(s, "connections still open when --drain-timeout (500 ms) ended; closing them"));
    {
        char *lock = srv_lock_text(s);

        assert_string_equal(lock, "clean\n");
        free(lock);
    }
    cl_close(slow);
    free(reads);
    free(conns);
    free(f);
    free(slow);
}

/* ---- (sxp/stat)'s figures ---------------------------------------------------------------- */

/* `buffered` is bytes held, not buffer room: connections that are idle
 * hold none, however much room their buffers keep (C-2). */
static void buffered_counts_bytes_held_not_buffer_room(void **state)
{
    struct srv *s = *state;
    struct cl *c = malloc(sizeof(*c)), *w = malloc(sizeof(*w));

    srv_start(s, "--log-level", "warn", (char *)NULL);
    cl_open(c, s->sock);
    cl_open(w, s->sock);
    cl_expect(c, "(persist/last-seq \"a\")", "(ok 0)");
    /* A line not yet ended is held: its bytes count. */
    assert_int_equal(cl_send(c, "(persist/last-seq"), 0);
    cl_wait_read(c);
    assert_int_equal(cl_stat(w, "buffered"), strlen("(persist/last-seq"));
    cl_expect(c, " \"a\")", "(ok 0)");
    assert_int_equal(cl_stat(w, "buffered"), 0);
    cl_close(c);
    cl_close(w);
    assert_int_equal(srv_term(s), 0);
    free(c);
    free(w);
}

#define GONE_TRIES 20

/* `requests` counts answers: a request whose client left while it ran
 * completes (C-6), but its answer is dropped, so it is not counted. */
static void requests_counts_answers_not_those_dropped_when_the_client_left(void **state)
{
    struct srv *s = *state;
    struct cl *f = malloc(sizeof(*f)), *g = malloc(sizeof(*g));
    size_t big = 8 << 20, n;
    char *line = malloc(big + 64), want[64], text[64], *log, *p;
    int dropped = 0;

    srv_start(s, "--log-level", "info", (char *)NULL);
    cl_open(f, s->sock);
    /* A kv value whose read takes a while: the client is gone before it ends. */
    n = (size_t)sprintf(line, "(persist/kv-put \"big\" \"");
    memset(line + n, 'v', big);
    n += big;
    n += (size_t)sprintf(line + n, "\")\n");
    assert_int_equal(cl_send_n(f, line, n), 0);
    assert_true(cl_line(f, text, sizeof(text)) >= 0);
    assert_string_equal(text, "(ok nil)");
    /* Conn 1 was srv_start's probe, conn 2 is f. */
    for (int i = 0; i < GONE_TRIES && dropped == 0; i++) {
        cl_open(g, s->sock);
        assert_int_equal(cl_send(g, "(persist/kv-get \"big\")\n"), 0);
        cl_wait_read(g);
        cl_close(g);
        snprintf(want, sizeof(want), "info: conn %d closed: ", 3 + i);
        srv_wait_log(s, want);
        log = tu_read_file(s->log, NULL);
        p = strstr(log, want);
        p[strcspn(p, "\n")] = '\0'; /* that connection's line only */
        dropped = strstr(p, "; one still running") != NULL;
        free(log);
    }
    if (!dropped)
        skip(); /* each read was withdrawn before a worker took it */
    cl_close(f);
    assert_int_equal(srv_term(s), 0);
    /* f's one answer is the only one sent. */
    assert_true(srv_log_has(s, "info: store closed cleanly: 1 requests (0 errors)"));
    free(line);
    free(f);
    free(g);
}

/* ---- main ------------------------------------------------------------------------- */

/* BUILD/tests/test_socket -> BUILD/cli/sxp, unless $SXP_BIN says. */
static int ts_find_sxp(void)
{
    const char *env = getenv("SXP_BIN");
    char self[4096];
    ssize_t n;
    char *slash;

    if (env != NULL && env[0] != '\0') {
        snprintf(ts_sxp, sizeof(ts_sxp), "%s", env);
    } else {
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
            return -1;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash == NULL)
            return -1;
        *slash = '\0';
        snprintf(ts_sxp, sizeof(ts_sxp), "%.4000s/../cli/sxp", self);
    }
    return access(ts_sxp, X_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(many_clients_in_parallel_have_every_ack_in_the_store,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(thousand_pipelined_requests_are_answered_in_order, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(bad_input_answers_errors_and_the_connection_stays_usable,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(
            over_long_line_answers_limit_and_closes_only_that_connection, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(a_long_lines_room_is_given_back_once_it_is_read, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(a_pipelining_clients_input_is_not_read_far_ahead, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(debug_log_escapes_a_requests_control_bytes, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(a_line_of_max_line_bytes_takes_no_more_room_than_that,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(client_killed_mid_line_changes_nothing, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(client_that_ends_its_input_still_gets_every_answer,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(server_killed_while_clients_stream_keeps_every_ack,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(sigterm_drains_what_was_read_and_leaves_the_store_clean,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(socket_is_created_mode_0600_and_mode_widens_it, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(stale_socket_is_replaced_and_live_one_is_refused, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(allow_uid_refuses_other_uids_and_admits_listed_ones,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(connections_beyond_max_conns_are_refused, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(hundreds_of_connections_are_served_while_one_never_reads,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(max_conns_is_lowered_to_the_descriptors_the_store_leaves,
                                        ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(
            accepting_resumes_after_descriptors_run_out_with_no_connection_open, ts_setup,
            ts_teardown),
        cmocka_unit_test_setup_teardown(sxp_stat_with_arguments_waits_for_a_worker, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(
            requests_of_clients_that_left_before_they_started_are_dropped, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(buffered_counts_bytes_held_not_buffer_room, ts_setup,
                                        ts_teardown),
        cmocka_unit_test_setup_teardown(
            requests_counts_answers_not_those_dropped_when_the_client_left, ts_setup, ts_teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    if (ts_find_sxp() != 0) {
        fprintf(stderr, "test_socket: %s is not built (or set SXP_BIN)\n", ts_sxp);
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
