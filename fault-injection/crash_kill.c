/*
 * crash_kill.c -- process crashes: --mode kill (SIGKILL at a random seeded
 * moment) and --mode points (SIGKILL at exactly the Nth disk-changing call,
 * through SXP_KILL_AT and io_fault, for N = 1, 2, ... until the workload
 * finishes without reaching N).
 *
 * A run forks a child that opens the store and runs the workload, which
 * reports every op over a pipe (crash_hist.c). The parent reads the pipe
 * while it waits, kills the child, reads to the end, then opens the store
 * itself (recovery), verifies it (crash_verify.c), appends past last-seq,
 * and closes it cleanly and runs sxp-fsck -n, or (every third run of kill
 * mode) abandons it so that the next child's open must recover it, and a
 * kill may land in the middle of that recovery.
 *
 * The child's options come from its seed (ck_options): a tiny descriptor
 * cache (bits 0-1), SXP_SYNC_NONE or plain syscalls (bits 2-3), the
 * syncfs bound and .seq chunks (bits 10-11, crash_syncfs_by_seed) and
 * sync_each_log (bit 13, crash_sync_each_log_by_seed), which the
 * parent's recovering open and its sxp-fsck -n follow as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash.h"
#include "fault.h"
#include "store.h"

static void ck_options(struct sxp_options *o, uint64_t seed)
{
    sxp_options_init(o);
    o->quiet = 1;
    /* Some runs with a tiny descriptor cache, so logs are closed and
     * reopened under the workload. */
    o->max_open_files = (seed & 3) == 0 ? 2 : 0;
    /* A child in four runs without syncs (SPEC: acknowledged still means
     * it survives a kill), and one in four through plain syscalls: the
     * next open, with syncs, recovers what either left (lock.h K-6). */
    if ((seed >> 2) % 4 == 1)
        o->sync = SXP_SYNC_NONE;
    else if ((seed >> 2) % 4 == 2)
        o->io = SXP_IO_SYNC;
    crash_syncfs_by_seed(seed);
    /* A quarter of the children (bit 13) sync each file, never syncfs;
     * the parent's recovering open too (ck_verify). */
    o->sync_each_log = crash_sync_each_log_by_seed(seed);
}

int crash_child_main(const struct crash_params *p, uint64_t seed, unsigned ops, int fd)
{
    struct sxp_options o;
    struct sxp_err err;
    struct crash_reporter rep;
    sxp_store *s = NULL;
    int rc;
    ck_options(&o, seed);
    signal(SIGPIPE, SIG_DFL);
    const char *kill_at = getenv("SXP_KILL_AT");
    if (kill_at != NULL && *kill_at != '\0') {
        /* The real backend under io_fault, which kills this process at the
         * named call. */
        struct sxp_io *real = NULL, *fio = NULL;
        rc = io_backend_new(o.io, 1, &real, &err);
        if (rc == 0 && (rc = io_fault_new(real, &fio)) < 0) {
            real->destroy(real);
            snprintf(err.msg, sizeof(err.msg), "io_fault_new: %s", strerror(-rc));
        }
        if (rc == 0) {
            io_fault_own_inner(fio);
            if (io_fault_kill_from_env(fio) < 0) {
                fprintf(stderr, "sxp-crash: bad SXP_KILL_AT \"%s\"\n", kill_at);
                fio->destroy(fio);
                return 2;
            }
            rc = store_open_io(p->dir, &o, fio, 1, &s, &err);
        }
    } else {
        rc = sxp_store_open(p->dir, &o, &s, &err);
    }
    if (rc < 0) {
        fprintf(stderr, "sxp-crash child: open %s: %s\n", p->dir, err.msg);
        return 3;
    }

    struct crash_workload w;
    memset(&w, 0, sizeof(w));
    crash_reporter_init(&rep, fd, NULL);
    w.store = s;
    w.rep = &rep;
    w.seed = seed;
    w.threads = ops ? 1 : p->threads;
    w.ops = ops;
    w.deadline_ns = ops ? 0 : crash_now_ns() + (uint64_t)p->duration_ms * 3000000ull;
    w.nstreams = p->nstreams;
    w.nkeys = p->nkeys;
    w.max_event = 64 << 10;
    w.abort_bad_read = 1; /* seen even when the kill comes first */
    w.sync_each_log = o.sync_each_log;
    rc = crash_workload_run(&w);
    crash_reporter_destroy(&rep);
    if (rc < 0) {
        fprintf(stderr, "sxp-crash child: workload: %s\n", strerror(-rc));
        (void)sxp_store_close(s);
        return 4;
    }
    if (w.errors != 0)
        fprintf(stderr, "sxp-crash child: %llu ops failed, first: %s\n",
                (unsigned long long)w.errors, w.first_msg);
    rc = sxp_store_close(s);
    if (rc < 0) {
        fprintf(stderr, "sxp-crash child: close: %s\n", strerror(-rc));
        return 5;
    }
    return w.errors ? 6 : 0;
}

/* One child: runs it, feeds its reports into h, kills it after kill_ns
 * (0: never; kill_at: its own kill point). *out_status: wait status. */
static int ck_run_child(const struct crash_params *p, uint64_t seed, unsigned ops, uint64_t kill_ns,
                        const char *kill_at, struct crash_hist *h, int *out_killed, int *out_status)
{
    int fds[2];
    struct buf in = BUF_INIT;
    int rc = 0, killed = 0, status = 0;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        close(fds[0]);
        close(fds[1]);
        return rc;
    }
    if (pid == 0) {
        close(fds[0]);
        if (kill_at != NULL)
            setenv("SXP_KILL_AT", kill_at, 1);
        else
            unsetenv("SXP_KILL_AT");
        _exit(crash_child_main(p, seed, ops, fds[1]));
    }
    close(fds[1]);
    uint64_t start = crash_now_ns();
    for (;;) {
        int timeout = -1;
        if (kill_ns != 0 && !killed) {
            uint64_t now = crash_now_ns();
            if (now >= start + kill_ns) {
                kill(pid, SIGKILL);
                killed = 1;
            } else {
                timeout = (int)((start + kill_ns - now + 999999) / 1000000);
            }
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int pr = poll(&pfd, 1, timeout);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            rc = -errno;
            break;
        }
        if (pr == 0)
            continue;
        if (buf_reserve(&in, 65536) != 0) {
            rc = -ENOMEM;
            break;
        }
        ssize_t r = read(fds[0], in.p + in.len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* EOF: the child is gone */
        in.len += (size_t)r;
        size_t used = crash_hist_ingest_stream(h, in.p, in.len);
        memmove(in.p, in.p + used, in.len - used);
        in.len -= used;
    }
    close(fds[0]);
    if (rc < 0)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    buf_free(&in);
    *out_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    *out_status = status;
    return rc;
}

/* Opens the store (recovery), verifies it, appends past last-seq; then
 * either closes it and runs fsck, or abandons it unclean. capture: take the
 * verified state as the next baseline. seed: the child's, whose choice of
 * sync_each_log the open and fsck follow. */
static void ck_verify(const struct crash_params *p, struct crash_base *base,
                      const struct crash_hist *h, uint64_t seed, int close_clean, int capture,
                      struct crash_stats *st, const char *what)
{
    struct sxp_options o;
    struct sxp_err err;
    struct crash_verdict v;
    sxp_store *s = NULL;
    memset(&v, 0, sizeof(v));
    sxp_options_init(&o);
    o.quiet = 1;
    o.sync_each_log = crash_sync_each_log_by_seed(seed);
    /* A process killed while it used io_uring keeps its descriptors, and
     * so its flock on LOCK, until the kernel has torn its ring down, which
     * may take a while after waitpid: wait for that, up to a minute. */
    uint64_t t0 = crash_now_ns();
    int rc;
    while ((rc = sxp_store_open(p->dir, &o, &s, &err)) == -EAGAIN &&
           crash_now_ns() - t0 < 60000000000ull)
        usleep(2000);
    uint64_t waited = crash_now_ns() - t0;
    if (rc == 0 && waited > 5000000ull) {
        st->lock_waits++;
        if (waited > st->lock_wait_max_ns)
            st->lock_wait_max_ns = waited;
        if (p->verbose)
            fprintf(p->out, "%s: the dead child's lock was held %.1f ms after it died\n", what,
                    (double)waited / 1e6);
    }
    if (rc < 0) {
        fprintf(p->out, "%s: BAD: open after the crash failed: %s\n", what, err.msg);
        st->bad++;
        return;
    }
    /* Without injected faults nothing may fail but a seq race. */
    for (size_t i = 0; i < h->n; i++) {
        const struct crash_op *op = &h->ops[i];
        if (op->done_at != 0 && op->rc < 0 && op->rc != -ERANGE && op->rc != CRASH_RC_KILLED) {
            if (crash_print_budget(st) > 0)
                fprintf(p->out, "%s: BAD: op %u failed without a fault: %s\n", what, op->id,
                        strerror(-op->rc));
            v.bad++;
            v.printed++;
        }
    }
    crash_verify(s, base, h, &v, p->out, crash_print_budget(st), what);
    crash_verify_continue(s, base, h, 4, &v, p->out, crash_print_budget(st), what);
    if (capture && crash_base_capture(s, h, base, &err) < 0) {
        fprintf(p->out, "%s: BAD: reading the store back failed: %s\n", what, err.msg);
        v.bad++;
    }
    if (close_clean) {
        rc = sxp_store_close(s);
        if (rc < 0) {
            fprintf(p->out, "%s: BAD: close failed: %s\n", what, strerror(-rc));
            v.bad++;
        } else if (p->fsck != NULL) {
            int fr = crash_fsck_run(p->fsck, o.sync_each_log ? "-n --sync-each-log" : "-n", p->dir,
                                    p->verbose);
            st->fsck_runs++;
            if (fr != 0) {
                fprintf(p->out, "%s: BAD: sxp-fsck -n %s exited %d after recovery\n", what, p->dir,
                        fr);
                v.bad++;
            }
        } else {
            st->fsck_skipped++;
        }
    } else {
        store_abandon(s);
    }
    st->acked += v.acked;
    st->lost += v.lost;
    st->bad += v.bad;
    st->printed += v.printed;
}

int crash_run_kill(const struct crash_params *p, struct crash_stats *st)
{
    struct crash_base base;
    int rc = crash_rmrf(p->dir);
    if (rc < 0)
        return rc;
    crash_base_init(&base);
    for (unsigned r = 0; r < p->runs; r++) {
        struct crash_hist h;
        char what[64];
        int killed = 0, status = 0;
        uint64_t rseed = crash_mix(p->seed, r);
        uint64_t rng = rseed;
        if (p->fresh_every != 0 && r > 0 && r % p->fresh_every == 0) {
            rc = crash_rmrf(p->dir);
            if (rc < 0)
                break;
            crash_base_free(&base);
        }
        uint64_t kill_ns =
            1000000ull + crash_rand(&rng) % ((uint64_t)p->duration_ms * 1000000ull + 1);
        snprintf(what, sizeof(what), "kill run %u (seed %llu)", r, (unsigned long long)p->seed);
        crash_hist_init(&h);
        rc = ck_run_child(p, rseed, 0, kill_ns, NULL, &h, &killed, &status);
        if (rc == 0 && !killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            fprintf(p->out, "%s: BAD: the workload child ended with status %d\n", what,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            st->bad++;
        }
        if (rc == 0) {
            st->kills += killed;
            st->runs++;
            crash_syncfs_by_seed(rseed); /* the recovering open's, as the child's */
            ck_verify(p, &base, &h, rseed, r % 3 != 2, 1, st, what);
        }
        if (p->verbose)
            fprintf(p->out, "%s: ops %zu acked %llu killed %d\n", what, h.n,
                    (unsigned long long)h.acked, killed);
        else if (p->runs >= 1000 && (r + 1) % 500 == 0)
            fprintf(p->out, "kill: %u of %u runs, kills %llu acked %llu lost %llu bad %llu\n",
                    r + 1, p->runs, (unsigned long long)st->kills, (unsigned long long)st->acked,
                    (unsigned long long)st->lost, (unsigned long long)st->bad);
        crash_hist_free(&h);
        if (rc < 0)
            break;
    }
    crash_base_free(&base);
    return rc < 0 ? rc : (st->lost || st->bad) ? 1 : 0;
}

/* Builds a template store at path by running a short workload in this
 * process; base gets its state. dirty: leave it needing recovery. */
static int ck_template(const struct crash_params *p, const char *path, uint64_t seed, int dirty,
                       struct crash_base *base)
{
    struct sxp_options o;
    struct sxp_err err;
    struct crash_hist h;
    struct crash_reporter rep;
    struct crash_workload w;
    sxp_store *s = NULL;
    int rc = crash_rmrf(path);
    if (rc < 0)
        return rc;
    ck_options(&o, 1);
    rc = sxp_store_open(path, &o, &s, &err);
    if (rc < 0) {
        fprintf(p->out, "sxp-crash: open %s: %s\n", path, err.msg);
        return rc;
    }
    crash_hist_init(&h);
    crash_reporter_init(&rep, -1, &h);
    memset(&w, 0, sizeof(w));
    w.store = s;
    w.rep = &rep;
    w.seed = seed;
    w.threads = 1;
    w.ops = 40;
    w.nstreams = p->nstreams;
    w.nkeys = p->nkeys;
    w.max_event = 4096;
    w.sync_each_log = o.sync_each_log;
    rc = crash_workload_run(&w);
    if (rc == 0)
        rc = crash_base_capture(s, &h, base, &err);
    crash_reporter_destroy(&rep);
    crash_hist_free(&h);
    if (dirty)
        store_abandon(s);
    else if (rc == 0)
        rc = sxp_store_close(s);
    else
        (void)sxp_store_close(s);
    return rc;
}

/* One kill point on a fresh copy of the template. Returns 1 when the child
 * died at the point, 0 when it finished without reaching it. */
static int ck_point(const struct crash_params *p, const char *tpl, struct crash_base *base,
                    uint64_t seed, const char *spec, struct crash_stats *st)
{
    struct crash_hist h;
    char what[96];
    int killed = 0, status = 0;
    int rc = crash_rmrf(p->dir);
    if (rc == 0)
        rc = crash_copytree(tpl, p->dir);
    if (rc < 0) {
        fprintf(p->out, "sxp-crash: copy %s to %s: %s\n", tpl, p->dir, strerror(-rc));
        st->bad++;
        return -1;
    }
    snprintf(what, sizeof(what), "point %s (%s, seed %llu)", spec,
             strstr(tpl, "dirty") ? "dirty" : "clean", (unsigned long long)p->seed);
    crash_hist_init(&h);
    rc = ck_run_child(p, seed, p->ops ? p->ops : 12, 0, spec, &h, &killed, &status);
    if (rc == 0 && !killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(p->out, "%s: BAD: the workload child ended with status %d\n", what,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        st->bad++;
    }
    if (rc == 0) {
        st->runs++;
        st->kills += killed;
        ck_verify(p, base, &h, seed, 1, 0, st, what);
    }
    if (p->verbose)
        fprintf(p->out, "%s: ops %zu acked %llu killed %d\n", what, h.n,
                (unsigned long long)h.acked, killed);
    crash_hist_free(&h);
    return rc < 0 ? -1 : killed;
}

int crash_run_points(const struct crash_params *p, struct crash_stats *st)
{
    char tpl[2][4096 + 16];
    struct crash_base base[2];
    int rc = 0;
    uint64_t wseed = crash_mix(p->seed, 77);
    for (int d = 0; d < 2; d++) {
        crash_base_init(&base[d]);
        snprintf(tpl[d], sizeof(tpl[d]), "%s.tpl-%s", p->dir, d ? "dirty" : "clean");
        if (rc == 0)
            rc = ck_template(p, tpl[d], crash_mix(p->seed, 5), d, &base[d]);
    }
    if (rc < 0)
        goto out;
    if (p->kill_at != NULL) {
        /* One point, to reproduce a failure: on both templates. */
        for (int d = 0; d < 2; d++)
            if (ck_point(p, tpl[d], &base[d], wseed, p->kill_at, st) < 0)
                rc = -EIO;
        goto out;
    }
    for (int d = 0; d < 2; d++) {
        for (int k = p->all_kinds ? 0 : IO_KILL_ANY; k <= IO_KILL_ANY; k++) {
            for (int after = 0; after <= 1; after++) {
                for (uint64_t n = 1; n < 100000; n++) {
                    char spec[64];
                    snprintf(spec, sizeof(spec), "%s:%llu%s",
                             io_kill_kind_name((enum io_kill_kind)k), (unsigned long long)n,
                             after ? ":after" : "");
                    int r = ck_point(p, tpl[d], &base[d], wseed, spec, st);
                    if (r < 0) {
                        rc = -EIO;
                        goto out;
                    }
                    if (r == 0)
                        break; /* the workload finished before the point */
                }
            }
        }
    }
out:
    for (int d = 0; d < 2; d++) {
        crash_base_free(&base[d]);
        (void)crash_rmrf(tpl[d]);
    }
    return rc < 0 ? rc : (st->lost || st->bad) ? 1 : 0;
}
