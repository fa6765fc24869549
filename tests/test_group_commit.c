/*
 * test_group_commit.c -- group commit, made deterministic.
 *
 * Whether concurrent appends share a round depends on scheduling, so a test
 * that only starts threads and counts rounds passes or fails with the load
 * of the machine (under valgrind threads run one at a time and never
 * overlap). Here the engine runs on io_fault over the real backend, and a
 * hook holds the next fdatasync (of the log, or of JOURNAL when the round
 * goes through it) until the test has seen, through
 * sxp_store_stats().in_flight, that every other append is queued behind it.
 * Then the rounds are exactly known:
 *   round 1: the held append alone;
 *   round 2: every queued append: for several logs one write per log and
 *            one fdatasync of JOURNAL for all (engine/journal.c J-4), or,
 *            past JOURNAL_ROUND_MAX, one fdatasync per log.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault.h"
#include "journal.h"
#include "store.h"
#include "sxp.h"
#include "testutil.h"

#define FOLLOWERS 7

/* Linked with -Wl,--wrap=calloc (tests/CMakeLists.txt): while set, every
 * calloc of the engine and of this file fails, as under memory pressure. */
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
static _Atomic int tg_calloc_fail;

void *__wrap_calloc(size_t n, size_t size)
{
    if (tg_calloc_fail) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, size);
}

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int armed;                         /* hold the next fdatasync, of whatever file */
    int holding;                       /* a sync is held in the hook now */
    int released;                      /* the test let it go */
    unsigned held;                     /* syncs held so far */
    unsigned journal_syncs, log_syncs; /* fdatasyncs of JOURNAL and of logs, so far */
    int tracing;                       /* record pwrites and fdatasyncs in trace */
    char trace[64][40];                /* "w NAME" or "s NAME", NAME the file's */
    unsigned ntrace;
};

struct gc {
    char *dir;
    struct sxp_io *io;
    sxp_store *s;
    struct gate g;
};

static void gate_hook(void *arg, enum io_fault_kind kind, int when, uint64_t n, const char *path,
                      int res)
{
    (void)n;
    (void)res;
    struct gate *g = arg;
    if ((kind != IO_FK_FDATASYNC && kind != IO_FK_PWRITE) || when != 0)
        return;
    size_t plen = strlen(path);
    pthread_mutex_lock(&g->mu);
    if (g->tracing && g->ntrace < sizeof(g->trace) / sizeof(g->trace[0])) {
        const char *base = strrchr(path, '/');
        snprintf(g->trace[g->ntrace++], sizeof(g->trace[0]), "%c %s",
                 kind == IO_FK_PWRITE ? 'w' : 's', base ? base + 1 : path);
    }
    if (kind != IO_FK_FDATASYNC) {
        pthread_mutex_unlock(&g->mu);
        return;
    }
    if (plen >= 8 && strcmp(path + plen - 8, "/JOURNAL") == 0)
        g->journal_syncs++;
    else if (plen >= 4 && strcmp(path + plen - 4, ".log") == 0)
        g->log_syncs++;
    if (g->armed) {
        g->armed = 0; /* hold only this one */
        g->holding = 1;
        g->held++;
        pthread_cond_broadcast(&g->cv);
        while (!g->released)
            pthread_cond_wait(&g->cv, &g->mu);
        g->holding = 0;
    }
    pthread_mutex_unlock(&g->mu);
}

static int setup(void **state)
{
    struct gc *c = calloc(1, sizeof(*c));
    struct sxp_err err;
    struct sxp_io *inner = NULL;
    c->dir = tu_tmpdir();
    pthread_mutex_init(&c->g.mu, NULL);
    pthread_cond_init(&c->g.cv, NULL);
    assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &inner, &err), 0);
    assert_int_equal(io_fault_new(inner, &c->io), 0);
    io_fault_own_inner(c->io);
    io_fault_set_hook(c->io, gate_hook, &c->g);
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    if (store_open_io(c->dir, &o, c->io, 0, &c->s, &err) != 0)
        fail_msg("open %s: %s", c->dir, err.msg);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct gc *c = *state;
    assert_int_equal(sxp_store_close(c->s), 0);
    c->io->destroy(c->io);
    pthread_cond_destroy(&c->g.cv);
    pthread_mutex_destroy(&c->g.mu);
    tu_rmrf(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

struct app {
    struct gc *c;
    char stream[32];
    int64_t seq;
    size_t pad; /* bytes of padding in the event */
    int rc;
    char msg[512];
};

static void *append_run(void *arg)
{
    struct app *a = arg;
    sxp_value *ev = tu_padded_event(a->seq, a->pad);
    struct sxp_err err;
    a->rc = sxp_stream_append(a->c->s, a->stream, strlen(a->stream), ev, &err);
    if (a->rc)
        snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
    sxp_value_free(ev);
    return NULL;
}

/* An append of pad bytes of padding, on this thread; fails the test on error. */
static void append_padded_now(struct gc *c, const char *stream, int64_t seq, size_t pad)
{
    struct app a = {.c = c, .seq = seq, .pad = pad};
    snprintf(a.stream, sizeof(a.stream), "%s", stream);
    append_run(&a);
    if (a.rc)
        fail_msg("append %s %lld: %s", stream, (long long)seq, a.msg);
}

static void append_now(struct gc *c, const char *stream, int64_t seq)
{
    append_padded_now(c, stream, seq, 0);
}

/* Arms the gate and starts an append that will be held in its fdatasync
 * (the store is idle, so the next one is that append's); returns once it is
 * held. */
static void start_held(struct gc *c, struct app *a, pthread_t *th, const char *stream, int64_t seq)
{
    pthread_mutex_lock(&c->g.mu);
    c->g.armed = 1;
    c->g.released = 0;
    pthread_mutex_unlock(&c->g.mu);
    *a = (struct app){.c = c, .seq = seq};
    snprintf(a->stream, sizeof(a->stream), "%s", stream);
    assert_int_equal(pthread_create(th, NULL, append_run, a), 0);
    pthread_mutex_lock(&c->g.mu);
    while (!c->g.holding)
        pthread_cond_wait(&c->g.cv, &c->g.mu);
    pthread_mutex_unlock(&c->g.mu);
}

static void release(struct gc *c)
{
    pthread_mutex_lock(&c->g.mu);
    c->g.released = 1;
    pthread_cond_broadcast(&c->g.cv);
    pthread_mutex_unlock(&c->g.mu);
}

/* Waits until n append calls are queued or in flight. The queued threads
 * are blocked on the engine's condition variable and the held one on the
 * gate, so this only waits for threads to reach the queue. */
static void wait_in_flight(struct gc *c, uint64_t n)
{
    struct sxp_stats st;
    for (;;) {
        sxp_store_stats(c->s, &st);
        if (st.in_flight >= n)
            break;
        sched_yield();
    }
    assert_int_equal(st.in_flight, n);
}

/* A close that returns close_rc (0: clean), and an open of the same store
 * on the same backend. */
static void close_and_reopen(struct gc *c, int close_rc)
{
    struct sxp_options o;
    struct sxp_err err;
    assert_int_equal(sxp_store_close(c->s), close_rc);
    sxp_options_init(&o);
    o.quiet = 1;
    if (store_open_io(c->dir, &o, c->io, 0, &c->s, &err) != 0)
        fail_msg("reopen: %s", err.msg);
}

static int64_t last_seq(struct gc *c, const char *stream)
{
    int64_t hw = -1;
    struct sxp_err err;
    assert_int_equal(sxp_stream_last_seq(c->s, stream, strlen(stream), &hw, &err), 0);
    return hw;
}

/* The KIND and RND of each of the last n records in JOURNAL (journal.c
 * J-2), oldest first, as "E1 R2 E2": read off the file, record by record. */
static void journal_last_kinds(struct gc *c, size_t n, char *out, size_t size)
{
    char path[4096];
    size_t len = 0, at = JOURNAL_HDR_LEN, count = 0;
    snprintf(path, sizeof(path), "%s/JOURNAL", c->dir);
    char *j = tu_read_file(path, &len);
    char kinds[64][16];
    while (at < len && j[at] != '\0') {
        char kind = 0;
        unsigned rnd = 0, plen = 0;
        assert_int_equal(sscanf(j + at, "%c %*16s %8x %*16s %8x", &kind, &rnd, &plen), 3);
        const char *nl = memchr(j + at, '\n', len - at);
        assert_non_null(nl);
        snprintf(kinds[count++ % 64], sizeof(kinds[0]), "%c%u", kind, rnd);
        at = (size_t)(nl - j) + 1 + plen;
    }
    free(j);
    assert_true(count >= n && n <= 64);
    out[0] = '\0';
    for (size_t i = count - n; i < count; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i > count - n ? " " : "",
                 kinds[i % 64]);
}

/* Holds an append to "lead", queues one append of pad bytes to each of
 * FOLLOWERS other logs behind it, and checks the two rounds took syncs
 * fdatasyncs between them. */
static void followers_share_one_round(struct gc *c, size_t pad, uint64_t syncs)
{
    char name[16];
    /* Create every stream first: creation has its own syncs. */
    append_now(c, "lead", 1);
    for (int i = 0; i < FOLLOWERS; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        append_now(c, name, 1);
    }
    struct sxp_stats before, after;
    sxp_store_stats(c->s, &before);
    assert_int_equal(before.in_flight, 0);

    struct app lead, f[FOLLOWERS];
    pthread_t lt, ft[FOLLOWERS];
    start_held(c, &lead, &lt, "lead", 2);
    for (int i = 0; i < FOLLOWERS; i++) {
        f[i] = (struct app){.c = c, .seq = 2, .pad = pad};
        snprintf(f[i].stream, sizeof(f[i].stream), "f%d", i);
        assert_int_equal(pthread_create(&ft[i], NULL, append_run, &f[i]), 0);
    }
    wait_in_flight(c, 1 + FOLLOWERS);
    release(c);
    pthread_join(lt, NULL);
    for (int i = 0; i < FOLLOWERS; i++)
        pthread_join(ft[i], NULL);
    assert_int_equal(lead.rc, 0);
    for (int i = 0; i < FOLLOWERS; i++) {
        assert_int_equal(f[i].rc, 0);
        assert_int_equal(last_seq(c, f[i].stream), 2);
    }
    sxp_store_stats(c->s, &after);
    assert_int_equal(after.appends - before.appends, 1 + FOLLOWERS);
    assert_int_equal(after.batches - before.batches, 2);
    assert_int_equal(after.fdatasyncs - before.fdatasyncs, syncs);
    assert_int_equal(after.in_flight, 0);
    if (pad == 0) {
        /* journal.c J-2: round 2's records carry its number, and only the
         * last is marked as the round's end (J-9 tells a torn round by it);
         * the creations before were rounds 1 to 8, one record each. */
        char kinds[128];
        journal_last_kinds(c, 2 + FOLLOWERS, kinds, sizeof(kinds));
        assert_string_equal(kinds, "E8 E9 R10 R10 R10 R10 R10 R10 E10");
    }

    /* Every event is in its log after a clean close and reopen. */
    close_and_reopen(c, 0);
    for (int i = 0; i < FOLLOWERS; i++)
        assert_int_equal(last_seq(c, f[i].stream), 2);
}

/* Small appends to several logs: one fdatasync (of JOURNAL) for the round. */
static void appends_to_other_logs_share_one_round_and_one_journal_sync(void **state)
{
    followers_share_one_round(*state, 0, 1 + 1);
}

/* A round of more than JOURNAL_ROUND_MAX bytes: one fdatasync per log. */
static void a_large_round_to_other_logs_syncs_each_log(void **state)
{
    /* One sync per log, and one of LOCK listing the logs (C-4): their
     * first appends went through the journal, which covered them. */
    followers_share_one_round(*state, 48 << 10, 1 + FOLLOWERS + 1);
}

/* Reads stream back after a clean close and reopen and checks it holds
 * seqs 1..n in order. */
static void check_reads_in_order(struct gc *c, const char *stream, size_t n)
{
    close_and_reopen(c, 0);
    sxp_value *out = NULL;
    struct sxp_err err;
    if (sxp_stream_read(c->s, stream, strlen(stream), &out, &err) != 0)
        fail_msg("read %s: %s", stream, err.msg);
    assert_int_equal(sxp_value_len(out), n);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, k), "seq", 3)),
                         (int64_t)k + 1);
    sxp_value_free(out);
}

static void appends_to_one_log_share_one_write_and_one_sync(void **state)
{
    struct gc *c = *state;
    append_now(c, "one", 1);
    struct sxp_stats before, after;
    sxp_store_stats(c->s, &before);

    struct app lead, f[FOLLOWERS];
    pthread_t lt, ft[FOLLOWERS];
    start_held(c, &lead, &lt, "one", 2);
    /* One at a time, so that they queue in seq order. */
    for (int i = 0; i < FOLLOWERS; i++) {
        f[i] = (struct app){.c = c, .seq = 3 + i};
        snprintf(f[i].stream, sizeof(f[i].stream), "one");
        assert_int_equal(pthread_create(&ft[i], NULL, append_run, &f[i]), 0);
        wait_in_flight(c, 2 + (uint64_t)i);
    }
    uint64_t syncs_held = io_fault_calls(c->io, IO_FAULT_BIT(IO_FK_FDATASYNC));
    release(c);
    pthread_join(lt, NULL);
    for (int i = 0; i < FOLLOWERS; i++) {
        pthread_join(ft[i], NULL);
        assert_int_equal(f[i].rc, 0);
    }
    assert_int_equal(lead.rc, 0);
    assert_int_equal(last_seq(c, "one"), 2 + FOLLOWERS);
    sxp_store_stats(c->s, &after);
    assert_int_equal(after.batches - before.batches, 2);
    assert_int_equal(after.fdatasyncs - before.fdatasyncs, 2);
    assert_int_equal(io_fault_calls(c->io, IO_FAULT_BIT(IO_FK_FDATASYNC)) - syncs_held, 1);

    /* Every event is there once, in order, after a reopen. */
    check_reads_in_order(c, "one", 2 + FOLLOWERS);
}

/* BOUND: queued behind a held round, three appends that do not fit in one
 * round together (over COMMIT_MAX_UNSYNCED; an event is at most
 * COMMIT_MAX_LINE) and a small one after them. The third waits for the next
 * round, and so must the small one, though it would fit: written before the
 * third, its seq would come first in the log, out of order. */
static void a_request_over_the_bound_keeps_its_later_ones_behind_it(void **state)
{
    struct gc *c = *state;
    const size_t big = 11u << 20; /* three of them are over the 32 MiB bound */
    append_now(c, "big", 1);
    struct app lead;
    struct app f[4] = {{.c = c, .seq = 3, .pad = big},
                       {.c = c, .seq = 4, .pad = big},
                       {.c = c, .seq = 5, .pad = big},
                       {.c = c, .seq = 6}};
    pthread_t lt, ft[4];
    start_held(c, &lead, &lt, "big", 2);
    for (int i = 0; i < 4; i++) {
        snprintf(f[i].stream, sizeof(f[i].stream), "big");
        assert_int_equal(pthread_create(&ft[i], NULL, append_run, &f[i]), 0);
        wait_in_flight(c, 2 + (uint64_t)i); /* they queue in seq order */
    }
    release(c);
    pthread_join(lt, NULL);
    assert_int_equal(lead.rc, 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(ft[i], NULL);
        if (f[i].rc)
            fail_msg("append seq %lld: %s", (long long)f[i].seq, f[i].msg);
    }
    assert_int_equal(last_seq(c, "big"), 6);
    check_reads_in_order(c, "big", 6);
}

/* Holds an append of seq 2 to "one" (which holds seq 1), arms rule for
 * what follows, queues FOLLOWERS appends (seqs 3...) behind the held one,
 * and lets it go: the held append is acknowledged, and each of the
 * followers, which shared round 2, fails with want, naming the stream. */
static void followers_of_a_held_round_fail(struct gc *c, const struct io_fault_rule *rule,
                                           struct app f[FOLLOWERS], int want)
{
    append_now(c, "one", 1);
    struct app lead;
    pthread_t lt, ft[FOLLOWERS];
    start_held(c, &lead, &lt, "one", 2);
    assert_int_equal(io_fault_add_rule(c->io, rule), 0);
    for (int i = 0; i < FOLLOWERS; i++) {
        f[i] = (struct app){.c = c, .seq = 3 + i};
        snprintf(f[i].stream, sizeof(f[i].stream), "one");
        assert_int_equal(pthread_create(&ft[i], NULL, append_run, &f[i]), 0);
        wait_in_flight(c, 2 + (uint64_t)i);
    }
    release(c);
    pthread_join(lt, NULL);
    assert_int_equal(lead.rc, 0);
    for (int i = 0; i < FOLLOWERS; i++) {
        pthread_join(ft[i], NULL);
        assert_int_equal(f[i].rc, want);
        assert_non_null(strstr(f[i].msg, "\"one\""));
    }
}

/* A round's failure reaches every caller in it, each with the error,
 * whether it was asleep or still yielding the CPU (SPIN) when the round
 * ended; the held round before it is acknowledged. */
static void every_caller_of_a_failed_round_gets_its_error(void **state)
{
    struct gc *c = *state;
    struct app f[FOLLOWERS];
    /* The held fdatasync was counted already: the next one is round 2's. */
    struct io_fault_rule rule = {IO_FAULT_BIT(IO_FK_FDATASYNC), 1, -EIO, 0, 0, 0};
    followers_of_a_held_round_fail(c, &rule, f, -EIO);
    assert_int_equal(io_fault_injected(c->io), 1);
    assert_int_equal(last_seq(c, "one"), 2);
    struct sxp_stats st;
    sxp_store_stats(c->s, &st);
    assert_int_equal(st.in_flight, 0);
    /* The failed sync was JOURNAL's (the round grows the log), and the log
     * was never written: the close revives the stream (engine/revive.c),
     * its checkpoint voids the round's record, and the close is clean,
     * with nothing of the failed round. */
    enum io_fault_kind kind;
    char path[PATH_MAX];
    assert_int_equal(io_fault_last_injected(c->io, &kind, path, sizeof(path)), 0);
    assert_non_null(strstr(path, "JOURNAL"));
    io_fault_clear(c->io);
    close_and_reopen(c, 0);
    assert_int_equal(last_seq(c, "one"), 2);
}

/* Reads stream in this session: its seqs strictly increase from 1, 2;
 * returns how many events it holds. */
static size_t read_increasing(struct gc *c, const char *stream)
{
    sxp_value *out = NULL;
    struct sxp_err err;
    if (sxp_stream_read(c->s, stream, strlen(stream), &out, &err) != 0)
        fail_msg("read %s: %s", stream, err.msg);
    size_t n = sxp_value_len(out);
    int64_t prev = 0;
    for (size_t k = 0; k < n; k++) {
        int64_t seq = sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, k), "seq", 3));
        assert_true(seq > prev);
        assert_true(k >= 2 || seq == (int64_t)k + 1);
        prev = seq;
    }
    sxp_value_free(out);
    return n;
}

/* REVIVAL (engine/revive.c): a round whose log write fails fails every
 * caller in it; then the callers come back at once, and one of them revives
 * the stream (its record is dropped by a checkpoint first, RV-3) while the
 * others wait for it: the stream takes appends again, in seq order, with
 * nothing of the failed round in it, and the close is clean. */
static void the_callers_of_a_round_whose_write_failed_revive_its_stream(void **state)
{
    struct gc *c = *state;
    struct app f[FOLLOWERS];
    pthread_t ft[FOLLOWERS];
    /* Both rounds go through the journal (the log grows), and round 1's
     * log write follows its held sync: 1 that write, 2 round 2's record,
     * 3 its log write, which finds room for 7 bytes. */
    struct io_fault_rule full = {IO_FAULT_BIT(IO_FK_PWRITE), 3, -ENOSPC, 0, 1, 7};
    followers_of_a_held_round_fail(c, &full, f, -ENOSPC);
    enum io_fault_kind kind;
    char path[PATH_MAX];
    assert_int_equal(io_fault_last_injected(c->io, &kind, path, sizeof(path)), 0);
    assert_non_null(strstr(path, ".log"));
    io_fault_clear(c->io);
    assert_int_equal(last_seq(c, "one"), 2);
    assert_int_equal(read_increasing(c, "one"), 2);
    /* All come back at once, with the same seqs. */
    for (int i = 0; i < FOLLOWERS; i++)
        assert_int_equal(pthread_create(&ft[i], NULL, append_run, &f[i]), 0);
    int64_t top = 2;
    size_t acked = 2;
    for (int i = 0; i < FOLLOWERS; i++) {
        pthread_join(ft[i], NULL);
        if (f[i].rc != 0 && f[i].rc != -ERANGE)
            fail_msg("append seq %lld after the revival: %s", (long long)f[i].seq, f[i].msg);
        if (f[i].rc == 0) {
            acked++;
            top = f[i].seq > top ? f[i].seq : top;
        }
    }
    assert_true(top > 2);
    assert_int_equal(store_revived(c->s), 1);
    assert_int_equal(last_seq(c, "one"), top);
    assert_int_equal(read_increasing(c, "one"), acked);
    close_and_reopen(c, 0);
    struct sxp_stats st;
    sxp_store_stats(c->s, &st);
    assert_int_equal(st.recovered, 0);
    assert_int_equal(last_seq(c, "one"), top);
}

/* An append to s of an event of pad bytes: its result, its message in msg. */
static int ring_append(sxp_store *s, const char *stream, int64_t seq, size_t pad, char msg[512])
{
    sxp_value *ev = tu_padded_event(seq, pad);
    struct sxp_err err;
    int rc = sxp_stream_append(s, stream, strlen(stream), ev, &err);
    sxp_value_free(ev);
    snprintf(msg, 512, "%s", rc ? err.msg : "");
    return rc;
}

static sxp_store *ring_open(const char *dir, struct sxp_io *io)
{
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_options_init(&o);
    o.quiet = 1;
    if (store_open_io(dir, &o, io, 0, &s, &err) != 0)
        fail_msg("open %s: %s", dir, err.msg);
    return s;
}

/* A BROKEN RING (engine/io_uring.c), the engine straight on the ring (no
 * io_fault between them, so group commit's write_sync goes through it): a
 * ring that breaks mid-session fails the append it had in hand; the stream
 * whose log fdatasync was in it refuses writes until the store is reopened
 * (the sync's fate is unknown: IO-5), and every other stream goes on
 * through plain syscalls, a new one included. */
static void a_ring_that_breaks_costs_only_the_appends_it_had(void **state)
{
    (void)state;
    struct sxp_io *ring = NULL;
    char msg[512];
    int rc = io_uring_backend_new(64, &ring);
    if (rc < 0) {
        print_message("io_uring unavailable (%s): skipped\n", strerror(-rc));
        skip();
    }
    char *dir = tu_tmpdir();
    sxp_store *s = ring_open(dir, ring);
    assert_int_equal(ring_append(s, "a", 1, 0, msg), 0);
    assert_int_equal(ring_append(s, "big", 1, 40 << 10, msg), 0); /* a round of its own */
    io_uring_backend_set_quiet(ring, 1);
    io_uring_backend_fail_submit(ring, -ENOMEM, UINT_MAX);
    assert_int_equal(ring_append(s, "big", 2, 40 << 10, msg), -ENOMEM);
    assert_int_equal(ring_append(s, "a", 2, 0, msg), 0);
    assert_int_equal(ring_append(s, "a", 3, 40 << 10, msg), 0);
    assert_int_equal(ring_append(s, "fresh", 1, 0, msg), 0);
    assert_int_equal(ring_append(s, "big", 3, 0, msg), -ENOMEM);
    assert_non_null(strstr(msg, "until the store is reopened"));
    struct sxp_stats st;
    sxp_store_stats(s, &st);
    assert_int_equal(st.refusing, 1);
    assert_int_equal(sxp_store_close(s), -ENOMEM);
    ring->destroy(ring);
    assert_int_equal(io_uring_backend_new(64, &ring), 0);
    s = ring_open(dir, ring);
    struct sxp_err err;
    int64_t hw = 0;
    assert_int_equal(sxp_stream_last_seq(s, "a", 1, &hw, &err), 0);
    assert_int_equal(hw, 3);
    assert_int_equal(sxp_stream_last_seq(s, "fresh", 5, &hw, &err), 0);
    assert_int_equal(hw, 1);
    assert_int_equal(sxp_stream_last_seq(s, "big", 3, &hw, &err), 0);
    assert_true(hw == 1 || hw == 2); /* the unacknowledged line may be kept whole */
    assert_int_equal(ring_append(s, "big", hw + 1, 40 << 10, msg), 0);
    assert_int_equal(sxp_store_close(s), 0);
    ring->destroy(ring);
    tu_rmrf(dir);
    free(dir);
}

/* A follower whose seq another queued append already took is refused at
 * once, without waiting for the held round and without touching the log. */
static void a_taken_seq_is_refused_while_its_round_is_held(void **state)
{
    struct gc *c = *state;
    append_now(c, "race", 1);
    struct app lead;
    pthread_t lt;
    start_held(c, &lead, &lt, "race", 2);
    struct app dup = {.c = c, .seq = 2};
    snprintf(dup.stream, sizeof(dup.stream), "race");
    append_run(&dup); /* returns while the gate still holds seq 2 */
    assert_int_equal(dup.rc, -ERANGE);
    assert_non_null(strstr(dup.msg, "high-water"));
    release(c);
    pthread_join(lt, NULL);
    assert_int_equal(lead.rc, 0);
    assert_int_equal(last_seq(c, "race"), 2);
}

/* Counts the fdatasyncs of JOURNAL and of logs that one append of pad bytes
 * to stream issues. */
static void syncs_of_append(struct gc *c, const char *stream, int64_t seq, size_t pad,
                            unsigned *journal, unsigned *log)
{
    pthread_mutex_lock(&c->g.mu);
    unsigned j0 = c->g.journal_syncs, l0 = c->g.log_syncs;
    pthread_mutex_unlock(&c->g.mu);
    append_padded_now(c, stream, seq, pad);
    pthread_mutex_lock(&c->g.mu);
    *journal = c->g.journal_syncs - j0;
    *log = c->g.log_syncs - l0;
    pthread_mutex_unlock(&c->g.mu);
}

/* J-4 and BIG ROUNDS (engine/commit.c): a round of one log that grows the
 * file goes through JOURNAL when it is small, and syncs its log itself when
 * its lines pass COMMIT_BIG_ROUND (32 KiB), since through the journal they
 * would reach the disk twice. Either way it is one fdatasync. */
/* A round that gets no memory for its work writes nothing and fails its
 * appends; the seqs they reserved are free again (ST-1): a retry of the
 * same seq is taken, not refused as at or below the mark. */
static void a_round_without_memory_frees_its_seqs(void **state)
{
    struct gc *c = *state;
    struct app a = {.c = c, .seq = 2};
    snprintf(a.stream, sizeof(a.stream), "m");
    append_now(c, "m", 1);
    tg_calloc_fail = 1;
    append_run(&a);
    tg_calloc_fail = 0;
    assert_int_equal(a.rc, -ENOMEM);
    assert_int_equal(last_seq(c, "m"), 1);
    append_now(c, "m", 2);
    check_reads_in_order(c, "m", 2);
}

static void a_big_round_that_grows_its_log_skips_the_journal(void **state)
{
    struct gc *c = *state;
    unsigned journal, log;
    append_now(c, "g", 1); /* creates the stream */
    syncs_of_append(c, "g", 2, 1 << 10, &journal, &log);
    assert_int_equal(journal, 1);
    assert_int_equal(log, 0);
    syncs_of_append(c, "g", 3, 40 << 10, &journal, &log);
    assert_int_equal(journal, 0);
    assert_int_equal(log, 1);
    syncs_of_append(c, "g", 4, 16 << 10, &journal, &log);
    assert_int_equal(journal, 1);
    assert_int_equal(log, 0);
    check_reads_in_order(c, "g", 4);
}

/* n events, seqs first.., appended to stream in one call. */
static void append_batch_now(struct gc *c, const char *stream, int64_t first, size_t n)
{
    sxp_value **evs = calloc(n, sizeof(*evs));
    assert_non_null(evs);
    for (size_t i = 0; i < n; i++)
        evs[i] = tu_padded_event(first + (int64_t)i, 0);
    struct sxp_err err;
    int rc = sxp_stream_append_batch(c->s, stream, strlen(stream), (const sxp_value *const *)evs, n,
                                     &err);
    for (size_t i = 0; i < n; i++)
        sxp_value_free(evs[i]);
    free(evs);
    if (rc)
        fail_msg("append batch to %s: %s", stream, err.msg);
}

/* Where the trace first holds "op file", or -1. */
static int trace_at(struct gate *g, char op, const char *file)
{
    char want[40];
    snprintf(want, sizeof(want), "%c %s", op, file);
    for (unsigned i = 0; i < g->ntrace; i++)
        if (strcmp(g->trace[i], want) == 0)
            return (int)i;
    return -1;
}

/* "hot" took 64 events this session in rounds of its own, through the
 * journal (a first batch grows its log), so it is busy and not yet listed;
 * "cold" took one. Holds an append to "lead" and queues one to each of
 * them behind it, tracing the round they share (journaled: two logs). */
static void hot_and_cold_share_a_round(struct gc *c, int fail_listing)
{
    append_now(c, "lead", 1);
    append_now(c, "cold", 1);
    append_batch_now(c, "hot", 1, 64);
    struct app lead, hot = {.c = c, .seq = 65}, cold = {.c = c, .seq = 2};
    pthread_t lt, ht, ct;
    snprintf(hot.stream, sizeof(hot.stream), "hot");
    snprintf(cold.stream, sizeof(cold.stream), "cold");
    start_held(c, &lead, &lt, "lead", 2);
    assert_int_equal(pthread_create(&ht, NULL, append_run, &hot), 0);
    assert_int_equal(pthread_create(&ct, NULL, append_run, &cold), 0);
    wait_in_flight(c, 3);
    /* After the release: lead's log write, then the listing's LOCK write. */
    if (fail_listing)
        assert_int_equal(io_fault_fail_nth(c->io, IO_FK_PWRITE, 2, -EIO, 0), 0);
    pthread_mutex_lock(&c->g.mu);
    c->g.tracing = 1; /* the held sync of lead's round was entered already */
    pthread_mutex_unlock(&c->g.mu);
    release(c);
    pthread_join(lt, NULL);
    pthread_join(ht, NULL);
    pthread_join(ct, NULL);
    pthread_mutex_lock(&c->g.mu);
    c->g.tracing = 0;
    pthread_mutex_unlock(&c->g.mu);
    assert_int_equal(lead.rc, 0);
    if (hot.rc || cold.rc)
        fail_msg("append hot: %s; cold: %s", hot.msg, cold.msg);
    assert_int_equal(last_seq(c, "hot"), 65);
    assert_int_equal(last_seq(c, "cold"), 2);
}

/* C-2, C-4 (engine/commit.c): a journaled round lists its busy log in
 * LOCK first, and then writes it beside the record, ahead of the journal's
 * fdatasync; a log that LOCK does not list is written only after that
 * fdatasync returned (J-5). */
static void a_listed_log_is_written_beside_its_record_and_others_after_it(void **state)
{
    struct gc *c = *state;
    hot_and_cold_share_a_round(c, 0);
    struct gate *g = &c->g;
    int lock_sync = trace_at(g, 's', "LOCK"), hot = trace_at(g, 'w', "686f74.log"),
        journal = trace_at(g, 's', "JOURNAL"), cold = trace_at(g, 'w', "636f6c64.log");
    if (lock_sync < 0 || hot < 0 || journal < 0 || cold < 0 || !(lock_sync < hot) ||
        !(hot < journal) || !(journal < cold)) {
        for (unsigned i = 0; i < g->ntrace; i++)
            print_message("trace %u: %s\n", i, g->trace[i]);
        fail_msg("want LOCK synced (%d) < hot written (%d) < JOURNAL synced (%d) < cold written "
                 "(%d)",
                 lock_sync, hot, journal, cold);
    }
    check_reads_in_order(c, "hot", 65);
    check_reads_in_order(c, "cold", 2);
}

/* When LOCK cannot list the busy log, the round still succeeds: the log is
 * written after the journal's fdatasync, as an unlisted one. */
static void a_failed_listing_keeps_a_busy_log_behind_the_journal_sync(void **state)
{
    struct gc *c = *state;
    hot_and_cold_share_a_round(c, 1);
    enum io_fault_kind kind;
    char path[PATH_MAX];
    assert_int_equal(io_fault_last_injected(c->io, &kind, path, sizeof(path)), 0);
    assert_int_equal(kind, IO_FK_PWRITE);
    assert_non_null(strstr(path, "/LOCK"));
    struct gate *g = &c->g;
    int journal = trace_at(g, 's', "JOURNAL"), hot = trace_at(g, 'w', "686f74.log");
    assert_true(journal >= 0);
    assert_true(hot > journal);
    assert_true(trace_at(g, 's', "LOCK") < 0);
    /* It was a failed write, not a failed sync: the close's checkpoint cuts
     * LOCK back, lists the logs and is clean (streams.c
     * streams_list_dirty); the reopen reads every event. */
    io_fault_clear(c->io);
    close_and_reopen(c, 0);
    check_reads_in_order(c, "hot", 65);
    check_reads_in_order(c, "cold", 2);
}

/* TWO TRUNCATES OF A STREAM THAT A FAILED WRITE KILLED. Each revives the
 * stream first, and the revival drops the store's lock; a truncate that set
 * busy without looking again then ran beside the other, whose end cleared
 * busy under it, so an append was acknowledged into a log the second
 * truncate was about to replace (engine/truncate.c). The first truncate is
 * held in its revival's JOURNAL write, the second queues for the commit lead
 * behind it; then the second is held in its temp file's fdatasync while a
 * third thread appends. Whatever the order the truncates run in, an
 * acknowledged append must survive both, and so must both truncates. */
struct tr_hold {
    pthread_t who;      /* the thread to hold */
    const char *suffix; /* a part of the path */
    enum io_fault_kind kind;
    int armed, holding, released;
};

struct tr_holds {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct tr_hold h[2];
};

static void tr_hold_hook(void *arg, enum io_fault_kind kind, int when, uint64_t n, const char *path,
                         int res)
{
    struct tr_holds *hs = arg;
    (void)n;
    (void)res;
    pthread_mutex_lock(&hs->mu);
    for (int i = 0; i < 2; i++) {
        struct tr_hold *h = &hs->h[i];
        if (!h->armed || when != 0 || kind != h->kind || !pthread_equal(pthread_self(), h->who) ||
            strstr(path, h->suffix) == NULL)
            continue;
        h->armed = 0;
        h->holding = 1;
        pthread_cond_broadcast(&hs->cv);
        while (!h->released)
            pthread_cond_wait(&hs->cv, &hs->mu);
    }
    pthread_mutex_unlock(&hs->mu);
}

/* Starts fn(arg) on *th, to be held at its first call of kind on a path
 * holding suffix (slot i). */
static void tr_start_armed(struct tr_holds *hs, int i, pthread_t *th, void *(*fn)(void *),
                           void *arg, enum io_fault_kind kind, const char *suffix)
{
    pthread_mutex_lock(&hs->mu); /* the hook waits until who is set */
    assert_int_equal(pthread_create(th, NULL, fn, arg), 0);
    hs->h[i] = (struct tr_hold){.who = *th, .kind = kind, .suffix = suffix, .armed = 1};
    pthread_mutex_unlock(&hs->mu);
}

static void tr_wait_held(struct tr_holds *hs, int i)
{
    pthread_mutex_lock(&hs->mu);
    while (!hs->h[i].holding)
        pthread_cond_wait(&hs->cv, &hs->mu);
    pthread_mutex_unlock(&hs->mu);
}

static void tr_release(struct tr_holds *hs, int i)
{
    pthread_mutex_lock(&hs->mu);
    hs->h[i].released = 1;
    pthread_cond_broadcast(&hs->cv);
    pthread_mutex_unlock(&hs->mu);
}

struct tr_call {
    struct gc *c;
    int64_t n;
    pid_t tid;
    int done, rc;
    char msg[512];
};

static void *tr_truncate_run(void *arg)
{
    struct tr_call *a = arg;
    struct sxp_err err;
    __atomic_store_n(&a->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    a->rc = sxp_stream_truncate(a->c->s, "t", 1, a->n, &err);
    if (a->rc)
        snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *tr_append_run(void *arg)
{
    struct tr_call *a = arg;
    struct sxp_err err;
    __atomic_store_n(&a->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    sxp_value *ev = tu_padded_event(a->n, 0);
    a->rc = sxp_stream_append(a->c->s, "t", 1, ev, &err);
    if (a->rc)
        snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
    sxp_value_free(ev);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* 1 when thread tid sleeps (state S: a condition variable here, since the
 * store is on a real disk but no call of this test's threads blocks in I/O
 * while the others are held). */
static int tr_asleep(pid_t tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t got = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[got] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] == 'S';
}

static pid_t tr_tid(struct tr_call *a)
{
    pid_t tid;
    while ((tid = __atomic_load_n(&a->tid, __ATOMIC_ACQUIRE)) == 0)
        sched_yield();
    return tid;
}

static int64_t tr_events(struct gc *c, int64_t *first, int64_t *last)
{
    struct sxp_err err;
    sxp_value *l = NULL;
    assert_int_equal(sxp_stream_read(c->s, "t", 1, &l, &err), 0);
    size_t n = sxp_value_len(l);
    if (n) {
        *first = sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(l, 0), "seq", 3));
        *last = sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(l, n - 1), "seq", 3));
    }
    sxp_value_free(l);
    return (int64_t)n;
}

static void two_truncates_of_a_revived_stream_keep_an_append_made_meanwhile(void **state)
{
    struct gc *c = *state;
    struct sxp_err err;
    struct tr_holds hs = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    for (int64_t i = 1; i <= 20; i++)
        append_now(c, "t", i);
    assert_int_equal(sxp_store_close(c->s), 0); /* .seq holds 20 */
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    assert_int_equal(store_open_io(c->dir, &o, c->io, 0, &c->s, &err), 0);
    io_fault_set_hook(c->io, tr_hold_hook, &hs);
    /* The stream's first append of the session grows its log: the round
     * goes through JOURNAL, whose record write fails on a full disk. */
    assert_int_equal(io_fault_fail_nth(c->io, IO_FK_PWRITE, 1, -ENOSPC, 0), 0);
    struct tr_call a21 = {.c = c, .n = 21};
    tr_append_run(&a21);
    assert_int_equal(a21.rc, -ENOSPC);
    io_fault_clear(c->io);

    struct tr_call t1 = {.c = c, .n = 5}, t2 = {.c = c, .n = 10}, t3 = {.c = c, .n = 21};
    pthread_t th1, th2, th3;
    /* t1 revives the stream, holding the commit lead, in its checkpoint. */
    tr_start_armed(&hs, 0, &th1, tr_truncate_run, &t1, IO_FK_PWRITE, "/JOURNAL");
    tr_wait_held(&hs, 0);
    /* t2 queues for the lead behind it; later it is held copying the log. */
    tr_start_armed(&hs, 1, &th2, tr_truncate_run, &t2, IO_FK_FDATASYNC, "/streams/tmp.");
    pid_t tid2 = tr_tid(&t2);
    while (!tr_asleep(tid2))
        sched_yield();
    tr_release(&hs, 0);
    tr_wait_held(&hs, 1);

    assert_int_equal(pthread_create(&th3, NULL, tr_append_run, &t3), 0);
    pid_t tid3 = tr_tid(&t3);
    while (!__atomic_load_n(&t3.done, __ATOMIC_ACQUIRE) && !tr_asleep(tid3))
        sched_yield(); /* acknowledged, or waiting for the truncate */
    tr_release(&hs, 1);
    pthread_join(th1, NULL);
    pthread_join(th2, NULL);
    pthread_join(th3, NULL);
    io_fault_set_hook(c->io, gate_hook, &c->g);
    if (t1.rc || t2.rc)
        fail_msg("truncates: %d %s / %d %s", t1.rc, t1.msg, t2.rc, t2.msg);
    if (t3.rc)
        fail_msg("the append made meanwhile: %d %s", t3.rc, t3.msg);
    int64_t first = 0, last = 0;
    assert_int_equal(tr_events(c, &first, &last), 11); /* 11..21 */
    assert_int_equal(first, 11);
    assert_int_equal(last, 21);
    assert_int_equal(sxp_store_close(c->s), 0);
    assert_int_equal(store_open_io(c->dir, &o, c->io, 0, &c->s, &err), 0);
    assert_int_equal(tr_events(c, &first, &last), 11);
    assert_int_equal(first, 11);
    assert_int_equal(last, 21);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(appends_to_other_logs_share_one_round_and_one_journal_sync,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_large_round_to_other_logs_syncs_each_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(appends_to_one_log_share_one_write_and_one_sync, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_request_over_the_bound_keeps_its_later_ones_behind_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(every_caller_of_a_failed_round_gets_its_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_callers_of_a_round_whose_write_failed_revive_its_stream,
                                        setup, teardown),
        cmocka_unit_test(a_ring_that_breaks_costs_only_the_appends_it_had),
        cmocka_unit_test_setup_teardown(a_taken_seq_is_refused_while_its_round_is_held, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            two_truncates_of_a_revived_stream_keep_an_append_made_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(a_round_without_memory_frees_its_seqs, setup, teardown),
        cmocka_unit_test_setup_teardown(a_big_round_that_grows_its_log_skips_the_journal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_listed_log_is_written_beside_its_record_and_others_after_it, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_listing_keeps_a_busy_log_behind_the_journal_sync,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
