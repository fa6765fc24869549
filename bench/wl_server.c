/*
 * wl_server.c -- the "server" workload: sxp as a local service. The real
 * `sxp serve --socket` runs as a child process on a fresh store, and
 * p->writers client threads, each on its own connection, append to their
 * own stream one event at a time, each waiting for its (ok nil) before the
 * next: the production twin of wl_sxp.c's own-streams writers, with the
 * socket, the event loop and the worker pool in the path.
 *
 * WHAT THE ROW MEANS (bench.h R-1..R-5, with these specifics):
 *   - latency is from just before a request is sent to the receipt of its
 *     answer's LF;
 *   - fdatasyncs come from the server's own counter ((sxp/stat) before and
 *     after the region);
 *   - cpu_s is this process (the clients) plus the server process, read from
 *     /proc/PID/stat at the region's ends, so the row's CPU per event
 *     compares with an in-process row's.
 * Connections are made before the region; the server is stopped (SIGTERM,
 * and it must exit 0 having closed the store cleanly) after it.
 *
 * The binary is $SXP_BIN, else BUILD/cli/sxp next to this program's
 * BUILD/bench; without it the row is skipped with a note.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wl.h"

#define WL_SERVER_START_MS 30000
#define WL_SERVER_READ_MS 60000 /* a hung server, not a slow one */

struct wl_server {
    char bin[4096];
    char store[4096];
    char sock[108];
    char sock_dir[64]; /* a /tmp directory when the scratch path is too long */
    char log[4096];
    pid_t pid;
};

/* The sxp binary; 0 or -ENOENT. */
static int wl_server_find_bin(char *out, size_t cap)
{
    const char *env = getenv("SXP_BIN");
    char self[4096];
    ssize_t n;
    char *slash;

    if (env != NULL && env[0] != '\0') {
        snprintf(out, cap, "%s", env);
    } else {
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
            return -ENOENT;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash == NULL)
            return -ENOENT;
        *slash = '\0';
        snprintf(out, cap, "%.4000s/../cli/sxp", self);
    }
    return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

static int wl_server_connect(const char *path)
{
    struct sockaddr_un addr;
    struct timeval tv = {WL_SERVER_READ_MS / 1000, 0};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        int rc = -errno;

        close(fd);
        return rc;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int rc = -errno;

        close(fd);
        return rc;
    }
    return fd;
}

static int wl_server_send(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads one answer line into buf (cap bytes, NUL-terminated, without LF).
 * An answer is the only thing in flight on the connection, so nothing
 * follows its LF. A hung server ends the wait after WL_SERVER_READ_MS
 * (SO_RCVTIMEO, set at connect). Returns its length or -errno. */
static ssize_t wl_server_recv(int fd, char *buf, size_t cap)
{
    size_t len = 0;

    for (;;) {
        ssize_t n;
        char *lf;

        if (len + 1 >= cap)
            return -E2BIG;
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? -EPIPE : errno == EAGAIN ? -ETIMEDOUT : -errno;
        lf = memchr(buf + len, '\n', (size_t)n);
        len += (size_t)n;
        if (lf != NULL) {
            *lf = '\0';
            return lf - buf;
        }
    }
}

/* One request, one answer. */
static ssize_t wl_server_call(int fd, const char *req, size_t len, char *ans, size_t cap)
{
    int rc = wl_server_send(fd, req, len);

    return rc != 0 ? rc : wl_server_recv(fd, ans, cap);
}

/* The server's fsync count from (sxp/stat), or -1. */
static double wl_server_fsyncs(const char *sock)
{
    char ans[4096];
    const char *p;
    double v = -1;
    int fd = wl_server_connect(sock);

    if (fd < 0)
        return -1;
    if (wl_server_call(fd, "(sxp/stat)\n", 11, ans, sizeof(ans)) > 0 &&
        (p = strstr(ans, ":fsyncs ")) != NULL)
        v = strtod(p + 8, NULL);
    close(fd);
    return v;
}

/* User + system CPU seconds of process pid so far, or 0. */
static double wl_server_cpu_of(pid_t pid)
{
    char path[64], buf[4096], *p;
    unsigned long long ut = 0, st = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int wl_server_start(struct wl_server *w, const struct bench_param *p, int workers,
                           struct bench_row *row)
{
    char nworkers[16];
    uint64_t deadline;
    int status;

    snprintf(nworkers, sizeof(nworkers), "%d", workers);
    w->pid = fork();
    if (w->pid < 0)
        return wl_fail(row, -errno, NULL, "fork");
    if (w->pid == 0) {
        int fd = open(w->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd >= 0)
            dup2(fd, 2);
        execl(w->bin, w->bin, "--dir", w->store, "--sync", p->nosync ? "none" : "always", "serve",
              "--socket", w->sock, "--log-level", "warn", "--workers", nworkers, (char *)NULL);
        _exit(127);
    }
    /* Ready when it accepts; bounded, and failing fast if it exits. */
    deadline = stats_now_ns() + (uint64_t)WL_SERVER_START_MS * 1000000u;
    for (;;) {
        struct timespec ts = {0, 2000000};
        int fd = wl_server_connect(w->sock);

        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
            w->pid = 0;
            snprintf(row->note, sizeof(row->note), "the server exited at start; see %.500s",
                     w->log);
            return -ECHILD;
        }
        if (stats_now_ns() > deadline) {
            snprintf(row->note, sizeof(row->note), "the server did not start; see %.500s", w->log);
            return -ETIMEDOUT;
        }
        nanosleep(&ts, NULL);
    }
}

/* SIGTERM, then the exit status: 0 means drained and closed cleanly. */
static int wl_server_stop(struct wl_server *w, struct bench_row *row)
{
    int status = 0;

    if (w->pid <= 0)
        return 0;
    kill(w->pid, SIGTERM);
    waitpid(w->pid, &status, 0);
    w->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (row->note[0] == '\0')
            snprintf(row->note, sizeof(row->note), "the server did not stop cleanly; see %.500s",
                     w->log);
        return -EIO;
    }
    return 0;
}

/* ---- the clients ---------------------------------------------------------- */

struct wl_server_job {
    const struct bench_param *p;
    int *fds;
    uint64_t count;
    uint64_t deadline;
    _Atomic uint64_t claimed;
    _Atomic uint64_t done;
    struct stats_hist **lat;
    struct bench_row *row;
    pthread_mutex_t note_mu;
};

static int wl_server_client(void *arg, int t)
{
    struct wl_server_job *job = arg;
    size_t cap = job->p->size + 256;
    char *req = malloc(cap), ans[256];
    int64_t seq = 0;
    int rc = 0;

    if (req == NULL)
        return -ENOMEM;
    for (;;) {
        uint64_t k = atomic_fetch_add(&job->claimed, 1);
        size_t n;
        ssize_t got;

        if (k >= job->count || stats_now_ns() > job->deadline)
            break;
        n = (size_t)snprintf(req, cap, "(persist/append \"w%02d\" ", t);
        n += event_text(req + n, cap - n, job->p->size, ++seq);
        req[n++] = ')';
        req[n++] = '\n';
        uint64_t t0 = stats_now_ns();
        got = wl_server_call(job->fds[t], req, n, ans, sizeof(ans));
        uint64_t t1 = stats_now_ns();
        if (got < 0 || strcmp(ans, "(ok nil)") != 0) {
            rc = got < 0 ? (int)got : -EPROTO;
            pthread_mutex_lock(&job->note_mu);
            if (job->row->note[0] == '\0')
                snprintf(job->row->note, sizeof(job->row->note), "client %d: %s", t,
                         got < 0 ? strerror((int)-got) : ans);
            pthread_mutex_unlock(&job->note_mu);
            break;
        }
        stats_hist_add(job->lat[t], t1 - t0);
        atomic_fetch_add(&job->done, 1);
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
    }
    free(req);
    return rc;
}

int wl_server_append(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row)
{
    struct wl_server *w = calloc(1, sizeof(*w));
    struct wl_server_job job;
    struct bench_region r;
    char dir[4096];
    int n = p->writers > 0 ? p->writers : 1;
    int rc, src;
    double f0, f1, scpu0, scpu1;

    memset(&job, 0, sizeof(job));
    pthread_mutex_init(&job.note_mu, NULL);
    if (w == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (wl_server_find_bin(w->bin, sizeof(w->bin)) != 0) {
        row->skipped = 1;
        snprintf(row->note, sizeof(row->note), "no sxp binary at %.500s (set SXP_BIN)", w->bin);
        rc = 0;
        goto out;
    }
    if ((rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir))) != 0)
        goto out;
    snprintf(w->store, sizeof(w->store), "%.4000s/store", dir);
    snprintf(w->log, sizeof(w->log), "%.4000s/server.log", dir);
    size_t dlen = strlen(dir);
    if (dlen + 6 < sizeof(w->sock)) {
        memcpy(w->sock, dir, dlen);
        memcpy(w->sock + dlen, "/sock", 6);
    } else { /* a socket path holds at most 107 bytes */
        snprintf(w->sock_dir, sizeof(w->sock_dir), "/tmp/sxp-bench-sock.XXXXXX");
        if (mkdtemp(w->sock_dir) == NULL) {
            rc = wl_fail(row, -errno, NULL, "mkdtemp");
            w->sock_dir[0] = '\0';
            goto out;
        }
        snprintf(w->sock, sizeof(w->sock), "%s/sock", w->sock_dir);
    }

    job.p = p;
    job.row = row;
    job.count = bench_count(ctx, p);
    job.fds = malloc((size_t)n * sizeof(*job.fds));
    for (int i = 0; job.fds != NULL && i < n; i++)
        job.fds[i] = -1; /* before any exit: the cleanup closes them */
    job.lat = stats_hists_new(n);
    if (job.fds == NULL || job.lat == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = wl_server_start(w, p, n > 64 ? n : 64, row)) != 0)
        goto out;
    for (int i = 0; i < n; i++) {
        if ((job.fds[i] = wl_server_connect(w->sock)) < 0) {
            rc = wl_fail(row, job.fds[i], NULL, "connect");
            goto out;
        }
    }

    f0 = wl_server_fsyncs(w->sock);
    scpu0 = wl_server_cpu_of(w->pid);
    job.deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    bench_region_begin(&r);
    rc = bench_threads_run(n, wl_server_client, &job);
    bench_region_end(&r, row);
    scpu1 = wl_server_cpu_of(w->pid);
    f1 = wl_server_fsyncs(w->sock);
    row->cpu_s += scpu1 - scpu0;
    row->fdatasyncs = f0 >= 0 && f1 >= 0 ? f1 - f0 : -1;
    stats_hists_merge(row->lat, job.lat, n);
    row->events = job.done;
    row->bytes = job.done * p->size;
    wl_syncs_checked(row, p);
out:
    if (job.fds != NULL) {
        for (int i = 0; i < n; i++)
            if (job.fds[i] >= 0)
                close(job.fds[i]);
    }
    if (w != NULL) {
        src = wl_server_stop(w, row);
        if (rc == 0)
            rc = src;
        if (w->sock_dir[0] != '\0') {
            unlink(w->sock);
            rmdir(w->sock_dir);
        }
    }
    stats_hists_free(job.lat, n);
    free(job.fds);
    free(w);
    pthread_mutex_destroy(&job.note_mu);
    return rc;
}
