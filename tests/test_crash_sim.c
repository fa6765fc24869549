/*
 * test_crash_sim.c -- simulated power loss through the whole engine: the
 * sxp-crash sim harness at small size (every crash point of a short
 * workload, several outcomes each), the deliberately broken backend it must
 * catch, the harness's own checks held to stores built for them (what
 * recovery saves in lost+found/ outlives a power loss, each of its syncs
 * dropped is caught; a read-only open of a crashed store changes nothing
 * and is refused only as documented), and one named test per durability
 * rule the harness checks or found broken:
 *
 *   - a store, stream, kv delete or blob that a killed process left in the
 *     page cache must be made durable before the next process acknowledges
 *     anything that depends on it (a later power loss must not take it);
 *   - two callers racing on one blob or one kv delete: the second may not
 *     be acknowledged before the first's directory entry is durable;
 *   - a zero-filled tail is crash residue, cut by recovery;
 *   - a failed fdatasync fails the stream until reopen, and the reopen
 *     (in the same boot, the failed writes dropped by the disk but still
 *     read from the page cache) or sxp-fsck -p writes them again before
 *     it syncs them;
 *   - a failed op changes nothing a reader sees;
 *   - a failed directory fsync whose entries the disk drops must not let a
 *     racing caller's op be acknowledged (store.c store_fsync_dir);
 *   - appends only the journal made durable survive power loss, are
 *     refused to a read-only open until replayed, are reported by sxp-fsck
 *     -n and written back by -p; records a checkpoint ended are not.
 *
 * Everything runs on fault-injection/io_sim.c through io_fault.c, so the
 * cases are deterministic. The harness case prints its seed; SXP_TEST_SEED
 * overrides it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crash.h"
#include "fault.h"
#include "frame.h"
#include "fsck.h"
#include "journal.h"
#include "layout.h"
#include "seqfile.h"
#include "store.h"
#include "testutil.h"

#define TC_ROOT "/s"
#define TC_STORE "/s/store"

struct tc {
    struct sxp_io *sim;
    struct sxp_io *io; /* io_fault over sim; owns it */
    /* The trigger: before the nth call of kind whose path ends in suffix
     * (after it, and only when it succeeded, when after is set). */
    enum io_fault_kind kind;
    int after;
    const char *suffix;
    unsigned nth;
    unsigned seen;
    int fired;
    void (*action)(struct tc *t);
    sxp_store *store;     /* for actions that call the engine again */
    int nested_rc;        /* what the nested call returned */
    uint64_t syncfs_seen; /* tc_note_syncfs: syncfs calls made by then */
};

static int tc_setup(void **state)
{
    struct tc *t = calloc(1, sizeof(*t));
    if (t == NULL || io_sim_new(&t->sim) != 0 || io_sim_mkdirs(t->sim, TC_ROOT) != 0 ||
        io_fault_new(t->sim, &t->io) != 0)
        return -1;
    io_fault_own_inner(t->io);
    /* The defaults, whatever the harness run before chose by seed. */
    store_set_open_syncfs(0);
    seqfile_set_chunk(0);
    *state = t;
    return 0;
}

static int tc_teardown(void **state)
{
    struct tc *t = *state;
    t->io->destroy(t->io);
    free(t);
    return 0;
}

static void tc_hook(void *arg, enum io_fault_kind kind, int when, uint64_t n, const char *path,
                    int res)
{
    struct tc *t = arg;
    size_t pl = strlen(path), sl = t->suffix ? strlen(t->suffix) : 0;
    (void)n;
    if (when != t->after || (t->after && res < 0) || t->fired || kind != t->kind || pl < sl ||
        strcmp(path + pl - sl, t->suffix) != 0)
        return;
    if (++t->seen < t->nth)
        return;
    t->fired = 1;
    t->action(t);
}

static void tc_arm(struct tc *t, enum io_fault_kind kind, const char *suffix, unsigned nth,
                   void (*action)(struct tc *t))
{
    t->kind = kind;
    t->after = 0;
    t->suffix = suffix;
    t->nth = nth;
    t->seen = 0;
    t->fired = 0;
    t->action = action;
    io_fault_set_hook(t->io, tc_hook, t);
}

/* As tc_arm, but just after the nth such call that succeeded. */
static void tc_arm_after(struct tc *t, enum io_fault_kind kind, const char *suffix, unsigned nth,
                         void (*action)(struct tc *t))
{
    tc_arm(t, kind, suffix, nth, action);
    t->after = 1;
}

static void tc_kill(struct tc *t)
{
    io_sim_kill(t->sim);
}

/* The options every case opens with: the defaults, quiet. */
static void tc_options(struct sxp_options *o)
{
    sxp_options_init(o);
    o->quiet = 1;
}

/* An open with options o (tc_options and a change) that must succeed. */
static sxp_store *tc_open_with(struct tc *t, const struct sxp_options *o)
{
    struct sxp_err err;
    sxp_store *s = NULL;
    if (store_open_io(TC_STORE, o, t->io, 0, &s, &err) != 0)
        fail_msg("open %s: %s", TC_STORE, err.msg);
    return s;
}

static sxp_store *tc_open(struct tc *t)
{
    struct sxp_options o;
    tc_options(&o);
    return tc_open_with(t, &o);
}

/* An open with the default options that must fail: its error. */
static int tc_open_fails(struct tc *t, struct sxp_err *err)
{
    struct sxp_options o;
    sxp_store *s = NULL;
    tc_options(&o);
    int rc = store_open_io(TC_STORE, &o, t->io, 0, &s, err);
    if (rc == 0)
        fail_msg("open %s did not fail", TC_STORE);
    return rc;
}

/* An open under SXP_SYNC_NONE: a session that syncs nothing. */
static sxp_store *tc_open_unsynced(struct tc *t)
{
    struct sxp_options o;
    tc_options(&o);
    o.sync = SXP_SYNC_NONE;
    return tc_open_with(t, &o);
}

/* An open that keeps one log descriptor: every other log's is closed. */
static sxp_store *tc_open_one_fd(struct tc *t)
{
    struct sxp_options o;
    tc_options(&o);
    o.max_open_files = 1;
    return tc_open_with(t, &o);
}

/* The process dies now (store abandoned), then the machine loses power
 * with nothing kept that was not durable, and boots. */
static void tc_die_and_lose_power(struct tc *t, sxp_store *s)
{
    store_abandon(s);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
}

static int tc_append(sxp_store *s, const char *stream, int64_t seq)
{
    char text[64];
    struct sxp_err err;
    sxp_value *ev = NULL;
    snprintf(text, sizeof(text), "{:seq %lld :x \"v\"}", (long long)seq);
    assert_int_equal(sxp_value_parse(text, strlen(text), &ev, &err), 0);
    int rc = sxp_stream_append(s, stream, strlen(stream), ev, &err);
    sxp_value_free(ev);
    return rc;
}

static uint64_t tc_size(struct tc *t, const char *rel)
{
    char path[256];
    uint64_t size = 0;
    snprintf(path, sizeof(path), "%s/%s", TC_STORE, rel);
    assert_int_equal(t->io->stat(t->io, path, &size, NULL), 0);
    return size;
}

/* An append of an event of pad bytes of padding. */
static int tc_append_padded(sxp_store *s, const char *stream, int64_t seq, size_t pad)
{
    sxp_value *ev = tu_padded_event(seq, pad);
    struct sxp_err err;
    int rc = sxp_stream_append(s, stream, strlen(stream), ev, &err);
    sxp_value_free(ev);
    return rc;
}

static size_t tc_count(sxp_store *s, const char *stream)
{
    struct sxp_err err;
    sxp_value *list = NULL;
    assert_int_equal(sxp_stream_read(s, stream, strlen(stream), &list, &err), 0);
    size_t n = sxp_value_len(list);
    sxp_value_free(list);
    return n;
}

static int tc_kv_has(sxp_store *s, const char *key)
{
    struct sxp_err err;
    int has = -1;
    assert_int_equal(sxp_kv_has(s, key, strlen(key), &has, &err), 0);
    return has;
}

static int tc_kv_put(sxp_store *s, const char *key, const char *text)
{
    struct sxp_err err;
    sxp_value *v = NULL;
    assert_int_equal(sxp_value_parse(text, strlen(text), &v, &err), 0);
    int rc = sxp_kv_put(s, key, strlen(key), v, &err);
    sxp_value_free(v);
    return rc;
}

static int tc_blob_has(sxp_store *s, const char *bytes)
{
    struct sxp_err err;
    char cid[SXP_CID_LEN + 1];
    int has = -1;
    sxp_cid_of(bytes, strlen(bytes), cid);
    assert_int_equal(sxp_blob_has(s, cid, &has, &err), 0);
    return has;
}

static int tc_blob_put(sxp_store *s, const char *bytes)
{
    struct sxp_err err;
    char cid[SXP_CID_LEN + 1];
    return sxp_blob_put(s, bytes, strlen(bytes), cid, &err);
}

/* ---- the harness ---------------------------------------------------------- */

static uint64_t tc_seed(void)
{
    const char *e = getenv("SXP_TEST_SEED");
    uint64_t seed = e ? strtoull(e, NULL, 0) : 20240601ull;
    printf("# seed %llu\n", (unsigned long long)seed);
    return seed;
}

static void tc_params(struct crash_params *p, uint64_t seed)
{
    crash_params_defaults(p);
    p->mode = CRASH_MODE_SIM;
    p->seed = seed;
    p->runs = 2;
    p->ops = 10;
    p->threads = 1;
    p->nstreams = 4;
    p->nkeys = 3;
    p->out = stdout;
    p->fsck = crash_fsck_find(NULL);
}

static void power_loss_at_every_call_of_a_short_workload_loses_nothing_acknowledged(void **state)
{
    struct crash_params p;
    struct crash_stats st;
    (void)state;
    tc_params(&p, tc_seed());
    memset(&st, 0, sizeof(st));
    assert_true(crash_run_sim(&p, &st) >= 0);
    printf("# runs %llu crash points %llu acked %llu lost %llu bad %llu\n",
           (unsigned long long)st.runs, (unsigned long long)st.kills, (unsigned long long)st.acked,
           (unsigned long long)st.lost, (unsigned long long)st.bad);
    assert_true(st.kills > 100);
    assert_true(st.acked > 100);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.bad, 0);
}

static void dropping_directory_fsyncs_is_caught_as_lost_data(void **state)
{
    struct crash_params p;
    struct crash_stats st;
    (void)state;
    tc_params(&p, tc_seed());
    p.runs = 1;
    p.drop_dirsync = 1;
    p.out = NULL;
    FILE *null = fopen("/dev/null", "w");
    assert_non_null(null);
    p.out = null;
    memset(&st, 0, sizeof(st));
    assert_int_equal(crash_run_sim(&p, &st), 1);
    fclose(null);
    printf("# with directory fsyncs dropped: lost %llu\n", (unsigned long long)st.lost);
    assert_true(st.lost > 0);
}

/* Appends to stream c's log, durably, what a crash may leave after its
 * last line: a lost sector (8 NULs, LF), then the good line of event ev, a
 * later page of an unacknowledged batch (recover.c R-3 case c). */
static void tc_add_torn_tail(struct tc *t, char c, const char *ev)
{
    char log[256], tail[64];
    uint64_t size = 0;
    memset(tail, 0, 8);
    tail[8] = '\n';
    size_t n = 9 + frame_encode(ev, strlen(ev), tail + 9);
    snprintf(log, sizeof(log), "%s/streams/%02x.log", TC_STORE, (unsigned char)c);
    int fd = t->io->open(t->io, log, O_RDWR, 0);
    assert_true(fd >= 0);
    assert_int_equal(t->io->fsize(t->io, fd, &size), 0);
    assert_int_equal(t->io->pwrite(t->io, fd, tail, n, size), 0);
    assert_int_equal(t->io->fdatasync(t->io, fd), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);
}

/* Streams named by the letters of names hold seqs 1 and 2 from a session
 * that dies; then each log gets a torn tail whose good line is seq 4
 * (tc_add_torn_tail), which recovery (R-3) and sxp-fsck -p save to
 * lost+found/ before they cut it. */
static void tc_torn_tails_after_kill(struct tc *t, const char *names)
{
    sxp_store *s = tc_open(t);
    for (const char *c = names; *c; c++) {
        char name[2] = {*c, '\0'};
        assert_int_equal(tc_append(s, name, 1), 0);
        assert_int_equal(tc_append(s, name, 2), 0);
    }
    store_abandon(s);
    for (const char *c = names; *c; c++)
        tc_add_torn_tail(t, *c, "{:seq 4}");
}

/* crash_lostfound.c LF-1, LF-2 on one recovery of stream "a"'s torn tail
 * (tc_torn_tails_after_kill). With the calls in drop (IO_FAULT_BIT mask,
 * path suffix) skipped, the check's verdict, saved says what the open
 * reported. */
static struct crash_verdict tc_lostfound_verdict(unsigned drop, const char *suffix,
                                                 unsigned *out_saved)
{
    struct tc *t = NULL;
    struct crash_verdict v;
    struct sxp_stats ss;
    assert_int_equal(tc_setup((void **)&t), 0);
    tc_torn_tails_after_kill(t, "a");

    io_fault_set_drop_path(t->io, drop, suffix);
    uint64_t mark = crash_lostfound_mark(t->sim, TC_STORE);
    sxp_store *s = tc_open(t);
    sxp_store_stats(s, &ss);
    assert_int_equal(ss.rec_tails_saved, 1);
    assert_int_equal(tc_count(s, "a"), 2);
    memset(&v, 0, sizeof(v));
    assert_int_equal(crash_lostfound_check(t->sim, TC_STORE, mark, ss.rec_tails_saved, &v, stdout,
                                           10, "# lost+found check"),
                     1);
    *out_saved = ss.rec_tails_saved;
    /* What the recovery reports is held to what MANIFEST gained (LF-1). */
    struct crash_verdict v2;
    memset(&v2, 0, sizeof(v2));
    assert_int_equal(crash_lostfound_check(t->sim, TC_STORE, mark, 2, &v2, NULL, 0, ""), 1);
    assert_int_equal(v2.bad, 1);
    store_abandon(s);
    assert_int_equal(tc_teardown((void **)&t), 0);
    return v;
}

static void a_torn_tail_saved_to_lost_found_survives_a_power_loss(void **state)
{
    unsigned saved = 0;
    (void)state;
    struct crash_verdict v = tc_lostfound_verdict(0, NULL, &saved);
    assert_int_equal(v.bad, 0);
    assert_int_equal(v.lost, 0);
}

/* Each sync lost+found/ depends on, taken away alone, is caught (LF-2):
 * the item's and MANIFEST's fdatasync, the folder's fsync, and the fsync of
 * the store's root that makes the folder's name durable. */
static void dropping_a_sync_of_lost_found_is_caught(void **state)
{
    const struct {
        enum io_fault_kind kind;
        const char *suffix;
        uint64_t bad; /* MANIFEST and the item, or one of them */
    } drops[] = {
        {IO_FK_FDATASYNC, "/lost+found/", 2}, /* every file in the folder */
        {IO_FK_FDATASYNC, "/MANIFEST", 1},    /* its MANIFEST */
        {IO_FK_FDATASYNC, ".log.1", 1},       /* the item */
        {IO_FK_FSYNC_DIR, "/lost+found", 2},  /* the folder */
        {IO_FK_FSYNC_DIR, "/store", 2},       /* the folder's name, after its mkdir */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
        unsigned saved = 0;
        printf("# --drop %s:%s\n", io_fault_kind_name(drops[i].kind), drops[i].suffix);
        struct crash_verdict v =
            tc_lostfound_verdict(IO_FAULT_BIT(drops[i].kind), drops[i].suffix, &saved);
        assert_int_equal(v.bad, drops[i].bad);
    }
}

static void tc_fail_next_dir_sync(struct tc *t)
{
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FSYNC_DIR, 1, -EIO, 0), 0);
}

/* LF-F: the fsync of the store's root after lost+found/'s mkdir fails, and
 * the disk drops the folder's name. Recovery has two torn tails to save:
 * it cuts neither log, since no later sync of this session can prove the
 * folder durable, and the open fails. After a power loss the next open
 * saves both tails, durably. */
static void a_failed_sync_of_lost_found_fences_it_for_the_session(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    struct sxp_stats ss;
    struct crash_verdict v;
    tc_torn_tails_after_kill(t, "ab");
    tc_arm_after(t, IO_FK_MKDIR, "/lost+found", 1, tc_fail_next_dir_sync);
    assert_int_equal(tc_open_fails(t, &err), -EIO);
    assert_true(t->fired);
    assert_non_null(strstr(err.msg, "lost+found"));
    io_fault_set_hook(t->io, NULL, NULL);
    io_fault_clear(t->io);
    assert_int_equal(io_sim_dir_sync_failed(t->sim, TC_STORE, IO_SIM_SYNCFAIL_DROP, 1),
                     IO_SIM_SYNCFAIL_DROP);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    uint64_t mark = crash_lostfound_mark(t->sim, TC_STORE);
    sxp_store *s = tc_open(t);
    sxp_store_stats(s, &ss);
    assert_int_equal(ss.rec_tails_saved, 2);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(tc_count(s, "b"), 2);
    memset(&v, 0, sizeof(v));
    assert_int_equal(
        crash_lostfound_check(t->sim, TC_STORE, mark, 2, &v, stdout, 10, "# lost+found check"), 1);
    assert_int_equal(v.bad, 0);
    assert_int_equal(sxp_store_close(s), 0);
}

/* crash_readonly.c on one crashed store: stream "a" holds 1..3 (and a
 * key, a blob) from a session closed cleanly, whose state is base; a
 * second session opens it (LOCK unclean), submits seq 5 and dies, and its
 * log gets a torn tail: a lost sector, then the good line of seq 5. */
static void tc_crashed_store_with_a_torn_tail(struct tc *t, struct crash_base *base,
                                              struct crash_hist *h)
{
    struct sxp_err err;
    const char *ev = "{:seq 5}";
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 3; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(tc_kv_put(s, "k", "1"), 0);
    assert_int_equal(tc_blob_put(s, "blob"), 0);
    assert_int_equal(crash_base_capture(s, h, base, &err), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    store_abandon(s);
    struct crash_reporter r;
    int64_t seq5 = 5;
    size_t ev_len = strlen(ev);
    crash_reporter_init(&r, -1, h);
    assert_true(crash_report_intent(&r, CRASH_APPEND, "a", 1, 0, 1, &seq5, &ev, &ev_len, NULL, 0,
                                    NULL) != 0);
    crash_reporter_destroy(&r);
    tc_add_torn_tail(t, 'a', ev);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
}

static void a_read_only_open_of_a_crashed_store_reads_it_and_changes_nothing(void **state)
{
    struct tc *t = *state;
    struct crash_base base;
    struct crash_hist h;
    struct crash_verdict v;
    crash_base_init(&base);
    crash_hist_init(&h);
    tc_crashed_store_with_a_torn_tail(t, &base, &h);
    memset(&v, 0, sizeof(v));
    /* RO-4: the scan meets the torn tail after seq 3 (-EBADMSG), which
     * only recovery cuts; the events before it are all there. */
    assert_int_equal(crash_readonly_check(t->sim, t->io, TC_STORE, &base, &h, &v, stdout, 10, "#"),
                     1);
    assert_int_equal(v.bad, 0);
    assert_int_equal(v.lost, 0);
    /* A store that lost an event base promised: RO-4 sees it missing. */
    base.streams[0].seqs[0] = 9;
    memset(&v, 0, sizeof(v));
    assert_int_equal(crash_readonly_check(t->sim, t->io, TC_STORE, &base, &h, &v, NULL, 0, "#"), 1);
    assert_int_equal(v.lost, 1);
    crash_base_free(&base);
    crash_hist_free(&h);
}

static void tc_mkdir_through_io(struct tc *t)
{
    assert_int_equal(t->io->mkdir(t->io, TC_STORE "/x", 0755), 0);
}

static void tc_mkdir_behind_io(struct tc *t)
{
    assert_int_equal(t->sim->mkdir(t->sim, TC_STORE "/y", 0755), 0);
}

/* RO-1: a change made while the read-only open runs is caught, whether it
 * is a call through the io table or a change to the disk behind it. */
static void a_change_during_a_read_only_open_is_caught(void **state)
{
    struct tc *t = *state;
    struct crash_base base;
    struct crash_hist h;
    struct crash_verdict v;
    void (*changes[])(struct tc *) = {tc_mkdir_through_io, tc_mkdir_behind_io};
    crash_base_init(&base);
    crash_hist_init(&h);
    tc_crashed_store_with_a_torn_tail(t, &base, &h);
    for (size_t i = 0; i < 2; i++) {
        memset(&v, 0, sizeof(v));
        tc_arm(t, IO_FK_OPEN, "/FORMAT", 1, changes[i]);
        assert_int_equal(
            crash_readonly_check(t->sim, t->io, TC_STORE, &base, &h, &v, stdout, 10, "#"), 1);
        assert_true(t->fired);
        io_fault_set_hook(t->io, NULL, NULL);
        assert_int_equal(v.bad, 1);
    }
    crash_base_free(&base);
    crash_hist_free(&h);
}

/* RO-2: refused as documented while JOURNAL holds records; refused for
 * anything else is bad. */
static void a_read_only_open_is_refused_only_as_documented(void **state)
{
    struct tc *t = *state;
    struct crash_base base;
    struct crash_hist h;
    struct crash_verdict v;
    crash_base_init(&base);
    crash_hist_init(&h);
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 3; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    tc_die_and_lose_power(t, s); /* the journal kept them */
    memset(&v, 0, sizeof(v));
    assert_int_equal(crash_readonly_check(t->sim, t->io, TC_STORE, &base, &h, &v, stdout, 10, "#"),
                     0);
    assert_int_equal(v.bad, 0);
    /* A FORMAT no sxp reads: the open is refused for it. */
    s = tc_open(t);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(
        io_write_atomic(t->io, TC_STORE "/FORMAT", TC_STORE "/FORMAT.tmp", "sxp 9\n", 6, 1), 0);
    memset(&v, 0, sizeof(v));
    assert_int_equal(crash_readonly_check(t->sim, t->io, TC_STORE, &base, &h, &v, NULL, 0, "#"), 0);
    assert_int_equal(v.bad, 1);
    crash_hist_free(&h);
}

/* ---- what a killed process leaves in the page cache ---------------------- */

static void kill_before_the_store_root_is_synced_then_power_loss_keeps_later_appends(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = NULL;
    /* The first process dies before fsyncing "/s" after mkdir /s/store. */
    tc_arm(t, IO_FK_FSYNC_DIR, TC_ROOT, 1, tc_kill);
    (void)tc_open_fails(t, &err);
    assert_true(t->fired);
    io_sim_restart(t->sim);
    io_fault_set_hook(t->io, NULL, NULL);
    s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0); /* acknowledged */
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

static void kill_before_a_new_stream_is_synced_then_power_loss_keeps_its_appends(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    /* Creating stream "a" fsyncs streams/ once, after its .log (streams.c
     * CREATION ORDER); the process dies before it. */
    tc_arm(t, IO_FK_FSYNC_DIR, "/streams", 1, tc_kill);
    assert_true(tc_append(s, "a", 1) < 0);
    assert_true(t->fired);
    store_abandon(s);
    io_sim_restart(t->sim);
    io_fault_set_hook(t->io, NULL, NULL);
    s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 2), 0); /* acknowledged */
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

static void kv_delete_after_a_killed_delete_survives_power_loss(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_kv_put(s, "k", "1"), 0);
    tc_arm(t, IO_FK_FSYNC_DIR, "/kv", 1, tc_kill);
    assert_true(sxp_kv_delete(s, "k", 1, &err) < 0);
    assert_true(t->fired);
    store_abandon(s);
    io_sim_restart(t->sim);
    io_fault_set_hook(t->io, NULL, NULL);
    s = tc_open(t);
    assert_int_equal(sxp_kv_delete(s, "k", 1, &err), 0); /* acknowledged */
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_kv_has(s, "k"), 0);
    assert_int_equal(sxp_store_close(s), 0);
}

static void blob_put_of_what_a_killed_put_left_survives_power_loss(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    tc_arm(t, IO_FK_FSYNC_DIR, "/blobs", 1, tc_kill);
    assert_true(tc_blob_put(s, "blob bytes") < 0);
    assert_true(t->fired);
    store_abandon(s);
    io_sim_restart(t->sim);
    io_fault_set_hook(t->io, NULL, NULL);
    s = tc_open(t);
    assert_int_equal(tc_blob_put(s, "blob bytes"), 0); /* acknowledged */
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_blob_has(s, "blob bytes"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* ---- two callers at once --------------------------------------------------- */

/* A blob whose first put was cut after its rename, before the fsync of
 * blobs/ made its name durable (that fsync dropped here, as a process
 * killed before it would leave it, but in the same session), is in the
 * page cache alone. A second put of the same bytes finds the file and
 * compares it: it must still fsync blobs/ before it acknowledges, or a
 * power loss takes the blob it acknowledged. */
static void a_blob_put_again_after_a_cut_put_outlives_a_power_loss(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    io_fault_set_drop_path(t->io, IO_FAULT_BIT(IO_FK_FSYNC_DIR), "/blobs");
    assert_int_equal(tc_blob_put(s, "kept bytes"), 0);
    io_fault_set_drop(t->io, 0);
    assert_int_equal(tc_blob_put(s, "kept bytes"), 0); /* the same bytes: found */
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_blob_has(s, "kept bytes"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}
/* A second caller puts the same blob while the first is between its rename
 * and its directory fsync; then the power fails. */
static void tc_nested_blob_put(struct tc *t)
{
    t->nested_rc = tc_blob_put(t->store, "same blob");
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
}

static void concurrent_blob_put_is_not_acknowledged_before_it_is_durable(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    t->store = s;
    /* Just after its rename: its fsync of blobs/ would wait for the
     * second caller's (store_fsync_dir), which a hook in it cannot. */
    tc_arm_after(t, IO_FK_RENAME, ".tmp", 1, tc_nested_blob_put);
    assert_true(tc_blob_put(s, "same blob") < 0); /* the power failed under it */
    assert_true(t->fired);
    store_abandon(s);
    io_sim_restart(t->sim);
    io_fault_set_hook(t->io, NULL, NULL);
    s = tc_open(t);
    if (t->nested_rc == 0) /* acknowledged: it must be there */
        assert_int_equal(tc_blob_has(s, "same blob"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

static void tc_nested_kv_delete(struct tc *t)
{
    struct sxp_err err;
    t->nested_rc = sxp_kv_delete(t->store, "k", 1, &err);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
}

static void concurrent_kv_delete_is_not_acknowledged_before_it_is_durable(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_kv_put(s, "k", "1"), 0);
    t->store = s;
    tc_arm_after(t, IO_FK_UNLINK, "/kv/6b", 1, tc_nested_kv_delete);
    assert_true(sxp_kv_delete(s, "k", 1, &err) < 0);
    assert_true(t->fired);
    store_abandon(s);
    io_sim_restart(t->sim);
    io_fault_set_hook(t->io, NULL, NULL);
    s = tc_open(t);
    if (t->nested_rc == 0) /* acknowledged: the key must stay deleted */
        assert_int_equal(tc_kv_has(s, "k"), 0);
    assert_int_equal(sxp_store_close(s), 0);
}

/* ---- residue and errors ---------------------------------------------------- */

static void zero_filled_tail_after_the_last_line_is_cut_as_residue(void **state)
{
    struct tc *t = *state;
    char log[256], zeros[4096];
    uint64_t size = 0, after = 0;
    int64_t n = 5;
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= n; i++)
        assert_int_equal(tc_append(s, "z", i), 0);
    store_abandon(s);
    /* The log's name is the hex of "z". */
    snprintf(log, sizeof(log), "%s/streams/7a.log", TC_STORE);
    for (size_t nul = 512; nul <= 4096; nul += 1792) {
        int fd = t->io->open(t->io, log, O_RDWR, 0);
        assert_true(fd >= 0);
        assert_int_equal(t->io->fsize(t->io, fd, &size), 0);
        memset(zeros, 0, sizeof(zeros));
        assert_int_equal(t->io->pwrite(t->io, fd, zeros, nul, size), 0);
        assert_int_equal(t->io->fdatasync(t->io, fd), 0);
        assert_int_equal(t->io->close(t->io, fd), 0);
        s = tc_open(t); /* recovery: residue, not corruption */
        struct sxp_stats stats;
        sxp_store_stats(s, &stats);
        assert_int_equal(stats.recovered, 1);
        assert_int_equal(tc_count(s, "z"), (size_t)n);
        assert_int_equal(t->io->stat(t->io, log, &after, NULL), 0);
        assert_int_equal(after, size); /* the zeros were cut */
        /* The next crash is of a session that wrote "z" too: only then can
         * its log hold a crash's residue (lock.h K-5). */
        assert_int_equal(tc_append(s, "z", ++n), 0);
        store_abandon(s);
    }
    s = tc_open(t);
    assert_int_equal(tc_append(s, "z", n + 1), 0);
    assert_int_equal(tc_count(s, "z"), (size_t)n + 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* lock.h K-5: a stream is named in LOCK before its first log write of a
 * session. When that fails, the append fails with nothing written, and no
 * other stream starts being written (a later sync could pass over a lost
 * line); streams already named go on. Then the power fails: every
 * acknowledged event is there. */
/* Streams "a" and "b" at 1, closed; then a session in which a big append
 * to "a" (seq 2, a round of its own outside the journal) listed its log
 * in LOCK, so that the next big append's first write is that log's. */
static sxp_store *tc_ab_a_listed(struct tc *t)
{
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(tc_append(s, "b", 1), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    assert_int_equal(tc_append_padded(s, "a", 2, 40 << 10), 0);
    return s;
}

/* C-4: a log not yet on LOCK's dirty list is listed before a round writes
 * it outside the journal (a big append here). When LOCK's sync fails, that
 * append fails and nothing is written; LOCK is not tried again, so such
 * appends keep failing, while appends the journal covers, and appends to a
 * listed log, go on. */
static void failed_lock_sync_refuses_unlisted_logs_outside_the_journal(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_ab_a_listed(t);
    uint64_t b_size = tc_size(t, "streams/62.log");
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 0), 0);
    assert_int_equal(tc_append_padded(s, "b", 2, 40 << 10), -EIO); /* LOCK's sync fails */
    enum io_fault_kind k;
    char path[512];
    assert_int_equal(io_fault_last_injected(t->io, &k, path, sizeof(path)), 0);
    assert_int_equal(k, IO_FK_FDATASYNC);
    assert_string_equal(path + strlen(path) - 5, "/LOCK");
    io_fault_clear(t->io);
    assert_int_equal(tc_size(t, "streams/62.log"), b_size);        /* nothing written */
    assert_int_equal(tc_append_padded(s, "b", 2, 40 << 10), -EIO); /* not retried */
    assert_int_equal(tc_append_padded(s, "a", 3, 40 << 10), 0);    /* listed: goes on */
    assert_int_equal(tc_append(s, "b", 2), 0);                     /* journaled: goes on */
    /* A checkpoint must list "b" before it drops its record: it fails, and
     * the record stays. */
    assert_int_not_equal(store_checkpoint(s, &err), 0);
    tc_die_and_lose_power(t, s);

    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 3);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(tc_append(s, "b", 3), 0);
    assert_int_equal(sxp_store_close(s), 0);
}

/* A failed WRITE to LOCK's list (a full disk, part of a line written) is
 * not a failed sync: the next listing cuts LOCK back to its last whole
 * line and syncs that, and the appends that needed the listing go on; a
 * power loss then keeps them. */
static void a_failed_lock_write_is_cut_back_and_the_listing_goes_on(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = tc_ab_a_listed(t);
    uint64_t b_size = tc_size(t, "streams/62.log");
    struct io_fault_rule torn = {IO_FAULT_BIT(IO_FK_PWRITE), 1, -ENOSPC, 0, 1, 2};
    assert_int_equal(io_fault_add_rule(t->io, &torn), 0);
    assert_int_equal(tc_append_padded(s, "b", 2, 40 << 10), -ENOSPC); /* LOCK's write */
    enum io_fault_kind k;
    char path[512];
    assert_int_equal(io_fault_last_injected(t->io, &k, path, sizeof(path)), 0);
    assert_string_equal(path + strlen(path) - 5, "/LOCK");
    assert_int_equal(tc_size(t, "streams/62.log"), b_size); /* nothing written */
    io_fault_clear(t->io);
    assert_int_equal(tc_append_padded(s, "b", 2, 40 << 10), 0); /* cut, listed, written */
    assert_int_equal(store_checkpoint(s, &err), 0);
    tc_die_and_lose_power(t, s);

    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

static void failed_directory_fsync_under_kv_put_changes_nothing_visible(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_value *v = NULL;
    char *text = NULL;
    size_t len = 0;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_kv_put(s, "k", "\"old\""), 0);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FSYNC_DIR, 1, -EIO, 0), 0);
    assert_true(tc_kv_put(s, "k", "\"new\"") < 0);
    io_fault_clear(t->io);
    int rc = sxp_kv_get(s, "k", 1, &v, &err);
    if (rc == 0)
        rc = sxp_value_to_text(v, &text, &len, &err);
    int old = rc == 0 && strcmp(text, "\"old\"") == 0;
    free(text);
    sxp_value_free(v);
    store_abandon(s);
    /* SPEC 4: a failed op changes nothing a reader sees. The engine cannot
     * take the rename back, so it fences kv/ until reopen (ST-7): a read
     * either fails or sees the old value, never the new one. */
    if (rc == 0)
        assert_true(old);
    else
        assert_int_equal(rc, -EIO);
}

/* Power loss k in mode m on a clone of the test's disk (which stays as it
 * is), then the boot and an open with the default options through io_fault
 * over the clone (*c, *io: the caller destroys both). An open that fails
 * fails the test, naming the power loss and what came before it. */
static sxp_store *tc_open_after_power_loss(struct tc *t, uint64_t k, enum io_sim_mode m,
                                           const char *what, struct sxp_io **c, struct sxp_io **io)
{
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = NULL;
    assert_int_equal(io_sim_clone(t->sim, c), 0);
    io_sim_crash(*c, k, m);
    io_sim_restart(*c);
    assert_int_equal(io_fault_new(*c, io), 0);
    tc_options(&o);
    if (store_open_io(TC_STORE, &o, *io, 0, &s, &err) != 0)
        fail_msg("power loss %s/%llu after %s: the open refused the store: %s", io_sim_mode_name(m),
                 (unsigned long long)k, what, err.msg);
    return s;
}

static int tc_fsck_report_io(struct sxp_io *io, enum fsck_mode mode, struct fsck_report *r);

/* K-3 (engine/lock.h): a session in which a kv put, a blob put or a
 * truncate failed after making its temp file is not marked clean. The
 * temp file's creation and its removal after the failure (a failed
 * fdatasync of it, or a failed fsync of the folder, which fences it:
 * ST-7) are directory entries no fsync made durable, and a power loss may
 * keep the first and lose the second. A close that marked the store clean
 * made the next open skip recovery, and nothing removed the temp file:
 * sxp-fsck -n reported it (temp-file) forever (found by sxp-crash --mode
 * sim with synced sessions closed cleanly, seeds 1, 7, 31, 32; the
 * truncate's by review). Each failure kind, then the power fails in each
 * of 64 ways: the open recovers (R-1) and sxp-fsck -n then finds the
 * store clean. A put whose temp file was never made (its open failed)
 * leaves nothing, and the store is marked clean. */
static void a_session_whose_put_failed_is_left_for_recovery_not_marked_clean(void **state)
{
    struct tc *t = *state;
    static const enum io_fault_kind kinds[] = {IO_FK_FDATASYNC, IO_FK_FSYNC_DIR};
    for (size_t f = 0; f < 5; f++) {
        int blob = f == 2 || f == 3, truncate = f == 4;
        char what[64];
        snprintf(what, sizeof(what), "a %s whose %s failed",
                 truncate ? "truncate"
                 : blob   ? "blob put"
                          : "kv put",
                 f % 2 ? "fsync of the folder" : "fdatasync");
        sxp_store *s = tc_open(t);
        if (truncate) {
            /* T-3's temp log: its fdatasync is the truncate's first (the
             * .seq is up to date after the close, T-2 writes none). */
            struct sxp_err err;
            for (int64_t q = 1; q <= 3; q++)
                assert_int_equal(tc_append(s, "a", q), 0);
            assert_int_equal(sxp_store_close(s), 0);
            s = tc_open(t);
            assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 0), 0);
            assert_true(sxp_stream_truncate(s, "a", 1, 2, &err) < 0);
        } else if (blob) {
            assert_int_equal(io_fault_fail_nth(t->io, kinds[f % 2], 1, -EIO, 0), 0);
            assert_true(tc_blob_put(s, "new bytes") < 0);
        } else {
            assert_int_equal(tc_kv_put(s, "k", "\"old\""), 0);
            assert_int_equal(io_fault_fail_nth(t->io, kinds[f % 2], 1, -EIO, 0), 0);
            assert_true(tc_kv_put(s, "k", "\"new\"") < 0);
        }
        io_fault_clear(t->io);
        assert_int_equal(sxp_store_close(s), 0);
        for (uint64_t k = 1; k <= 64; k++) {
            struct sxp_io *c = NULL, *io = NULL;
            struct sxp_stats st;
            struct fsck_report r;
            s = tc_open_after_power_loss(t, k, IO_SIM_RANDOM, what, &c, &io);
            sxp_store_stats(s, &st);
            assert_int_equal(st.recovered, 1);
            assert_int_equal(sxp_store_close(s), 0);
            int rc = tc_fsck_report_io(io, FSCK_MODE_CHECK, &r);
            if (rc != FSCK_EXIT_CLEAN) {
                fsck_report_print_text(&r, TC_STORE, stdout);
                fail_msg("power loss %llu after %s: sxp-fsck -n exited %d after the open",
                         (unsigned long long)k, what, rc);
            }
            fsck_report_free(&r);
            io->destroy(io);
            c->destroy(c);
        }
    }
    /* A temp file never made: nothing to recover. */
    sxp_store *s = tc_open(t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_OPEN, 1, -ENOSPC, 0), 0);
    assert_true(tc_kv_put(s, "k", "\"never\"") < 0);
    io_fault_clear(t->io);
    assert_int_equal(sxp_store_close(s), 0);
    struct sxp_stats st;
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 0);
    assert_int_equal(sxp_store_close(s), 0);
}

/* SPEC 4: a truncate whose fsync of streams/ fails after the rename
 * returns the error; a reader must not see its effect (the rename may not
 * survive a power loss): the read fails, or shows every event. */
static void failed_directory_fsync_under_truncate_changes_nothing_visible(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_value *list = NULL;
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 3; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FSYNC_DIR, 1, -EIO, 0), 0);
    assert_int_equal(sxp_stream_truncate(s, "a", 1, 2, &err), -EIO);
    io_fault_clear(t->io);
    int rc = sxp_stream_read(s, "a", 1, &list, &err);
    size_t n = rc == 0 ? sxp_value_len(list) : 0;
    sxp_value_free(list);
    if (rc == 0)
        assert_int_equal(n, 3);
    else
        assert_int_equal(rc, -EIO);
    /* And the power loss the failed fsync allows for brings them back. */
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 3);
    assert_int_equal(sxp_store_close(s), 0);
}

/* ---- unborn streams (engine/streams.c UNBORN STREAMS) --------------------- */

static int64_t tc_seq_file(struct tc *t, const char *name);

static int tc_exists(struct tc *t, const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", TC_STORE, rel);
    int rc = t->io->stat(t->io, path, NULL, NULL);
    if (rc != 0 && rc != -ENOENT)
        fail_msg("stat %s: %s", path, strerror(-rc));
    return rc == 0;
}

/* persist/streams, as one string "a,b,...". */
static const char *tc_listed(sxp_store *s, char *out, size_t size)
{
    struct sxp_err err;
    sxp_value *names = NULL;
    if (sxp_stream_list(s, &names, &err) != 0)
        fail_msg("persist/streams: %s", err.msg);
    out[0] = '\0';
    for (size_t i = 0; i < sxp_value_len(names); i++) {
        size_t len = 0, at = strlen(out);
        const char *p = sxp_value_as_str(sxp_value_list_get(names, i), &len);
        snprintf(out + at, size - at, "%s%.*s", i ? "," : "", (int)len, p);
    }
    sxp_value_free(names);
    return out;
}

/* E-3 for a stream's first append: one whose write fails (a full disk)
 * leaves no stream a reader can see, in the session or after the close,
 * which removes the empty log; the name is free for a later append. */
static void a_failed_first_append_lists_no_stream(void **state)
{
    struct tc *t = *state;
    char l[64];
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_PWRITE, 1, -ENOSPC, 1), 0);
    assert_int_equal(tc_append(s, "z", 1), -ENOSPC);
    io_fault_clear(t->io);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a");
    assert_true(tc_exists(t, "streams/7a.log"));
    assert_int_equal(sxp_store_close(s), 0);
    assert_false(tc_exists(t, "streams/7a.log"));
    assert_false(tc_exists(t, "streams/7a.seq"));
    assert_true(tc_exists(t, "streams/61.seq"));
    s = tc_open(t);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a");
    assert_int_equal(tc_append(s, "z", 1), 0);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a,z");
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a,z");
    assert_int_equal(tc_count(s, "z"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* A first append whose fdatasync fails (the journal's or the log's): no
 * stream is listed, after the close (which removes the log, or leaves it
 * to recovery, R-4b, when the log's own sync failed: IO-5) and after a
 * power loss. */
static void a_first_append_whose_sync_failed_is_gone_after_recovery(void **state)
{
    struct tc *t = *state;
    char l[64];
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 1), 0);
    assert_int_equal(tc_append(s, "z", 1), -EIO);
    io_fault_clear(t->io);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a");
    (void)sxp_store_close(s); /* -EIO when the log's sync failed, not the journal's */
    s = tc_open(t);
    /* Its line may have reached the disk: then recovery keeps it, as it
     * may any failed append; else the log is gone. */
    if (tc_count(s, "z") == 0) {
        assert_string_equal(tc_listed(s, l, sizeof(l)), "a");
        assert_false(tc_exists(t, "streams/7a.log"));
    } else {
        assert_string_equal(tc_listed(s, l, sizeof(l)), "a,z");
    }
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 1), 0);
    assert_int_equal(tc_append(s, "y", 1), -EIO);
    io_fault_clear(t->io);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "y"), 0);
    assert_false(strstr(tc_listed(s, l, sizeof(l)), "y"));
    assert_false(tc_exists(t, "streams/79.log"));
    assert_int_equal(sxp_store_close(s), 0);
}

/* A creation whose fsync of streams/ fails: no stream is listed, and
 * none after the reopen. */
static void a_failed_creation_lists_no_stream(void **state)
{
    struct tc *t = *state;
    char l[64];
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FSYNC_DIR, 1, -EIO, 1), 0);
    assert_int_equal(tc_append(s, "z", 1), -EIO);
    io_fault_clear(t->io);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a");
    (void)sxp_store_close(s);
    s = tc_open(t);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a");
    assert_false(tc_exists(t, "streams/7a.log"));
    assert_int_equal(sxp_store_close(s), 0);
}

/* E-3 for a reader in another process (a read-only open, as sxp
 * --read-only and serve --read-only make): a first append whose log
 * write failed part way (after its record was synced) left 5 bytes of a
 * line in the new log, which the writer never acknowledged and which no
 * read shows. The read-only view must not list the stream either: its
 * last-seq is 0 and it holds no event (streams.c UNBORN STREAMS). */
static void a_read_only_view_lists_no_stream_whose_first_append_failed(void **state)
{
    struct tc *t = *state;
    struct sxp_options o;
    struct sxp_err err;
    char l[64];
    int64_t hw = -1;
    sxp_store *s = tc_open(t), *ro = NULL;
    struct io_fault_rule rule = {IO_FAULT_BIT(IO_FK_PWRITE), 2, -EIO, 0, 1, 5};
    assert_int_equal(tc_append(s, "a", 1), 0);            /* the journal's zeros are written */
    assert_int_equal(io_fault_add_rule(t->io, &rule), 0); /* 1: JOURNAL, 2: z's log */
    assert_int_equal(tc_append(s, "z", 1), -EIO);
    io_fault_clear(t->io);
    assert_int_equal(tc_size(t, "streams/7a.log"), 5);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a");
    tc_options(&o);
    o.read_only = 1;
    assert_int_equal(store_open_io(TC_STORE, &o, t->io, 0, &ro, &err), 0);
    assert_int_equal(sxp_stream_last_seq(ro, "z", 1, &hw, &err), 0);
    assert_int_equal(hw, 0);
    assert_string_equal(tc_listed(ro, l, sizeof(l)), "a"); /* fails: "a,z" */
    assert_int_equal(sxp_store_close(ro), 0);
    assert_int_equal(sxp_store_close(s), 0);
}

static int tc_fsck(struct tc *t, enum fsck_mode mode);

/* A creation whose open made the log but whose close of it failed: the
 * append fails and no stream is listed, and the close must still remove
 * the empty log, or the store it marks clean holds a .log without a .seq
 * (INV-4), which sxp-fsck -n reports (seq-missing, exit 4). */
static void a_creation_whose_close_failed_leaves_no_log(void **state)
{
    struct tc *t = *state;
    char l[64];
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    /* The first close from here is that of z's new log (streams.c). */
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_CLOSE, 1, -EIO, 0), 0);
    assert_int_equal(tc_append(s, "z", 1), -EIO);
    io_fault_clear(t->io);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "a");
    assert_int_equal(sxp_store_close(s), 0);
    assert_false(tc_exists(t, "streams/7a.log")); /* fails: left behind */
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* A stream created and appended to this session has no .seq until the
 * close (streams.c CREATION ORDER) and is listed all the same; a power
 * loss before the close keeps it listed (recovery writes its .seq). */
static void a_new_stream_is_listed_before_its_seq_is_written(void **state)
{
    struct tc *t = *state;
    char l[64];
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "n", 1), 0);
    assert_int_equal(tc_append(s, "n", 2), 0);
    assert_false(tc_exists(t, "streams/6e.seq"));
    assert_string_equal(tc_listed(s, l, sizeof(l)), "n");
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_string_equal(tc_listed(s, l, sizeof(l)), "n");
    assert_int_equal(tc_seq_file(t, "n"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* ---- the journal (engine/journal.c) --------------------------------------- */

static unsigned tc_journal_records(struct tc *t)
{
    struct journal_replay_report jr;
    struct sxp_err err;
    if (journal_replay(t->io, TC_STORE, 0, 0, -1, NULL, NULL, NULL, &jr, &err) != 0)
        fail_msg("journal: %s", err.msg);
    return jr.records;
}

/* Appends to "a" (1..na) and "b" (1), dies and loses every unsynced page.
 * A session's first appends to a log grow the file, so each round goes
 * through the journal (J-4) and only its fdatasync makes them durable. */
static void tc_journaled_appends_then_power_loss(struct tc *t, int64_t na)
{
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= na; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(tc_append(s, "b", 1), 0);
    tc_die_and_lose_power(t, s);
    /* The logs lost their lines (their names were synced at creation); the
     * journal kept them. */
    assert_int_equal(tc_size(t, "streams/61.log"), 0);
    assert_int_equal(tc_size(t, "streams/62.log"), 0);
    assert_int_equal(tc_journal_records(t), (unsigned)na + 1);
}

static void appends_only_the_journal_made_durable_survive_power_loss(void **state)
{
    struct tc *t = *state;
    tc_journaled_appends_then_power_loss(t, 3);

    /* A read-only open would show the logs without them: refused. */
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *ro = NULL;
    tc_options(&o);
    o.read_only = 1;
    assert_int_equal(store_open_io(TC_STORE, &o, t->io, 0, &ro, &err), -EUCLEAN);
    assert_non_null(strstr(err.msg, "sxp-fsck -p"));

    sxp_store *s = tc_open(t); /* recovery writes them back (R-0) */
    struct sxp_stats st;
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(tc_count(s, "a"), 3);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(tc_journal_records(t), 0);
    assert_int_equal(tc_append(s, "a", 4), 0);
    assert_int_equal(sxp_store_close(s), 0);
    /* A clean close leaves the header alone, and every log whole. */
    assert_int_equal(tc_size(t, "JOURNAL"), JOURNAL_HDR_LEN);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 4);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* R-0 under SXP_SYNC_NONE: the journal's records are appends a syncing
 * session acknowledged, so an open that syncs nothing still writes them
 * back durably before it empties the journal. Each seed loses power right
 * after that open, keeping a different mix of what was not durable. */
static void an_unsynced_open_writes_the_journal_back_durably(void **state)
{
    struct tc *t = *state;
    tc_journaled_appends_then_power_loss(t, 3);
    for (uint64_t seed = 1; seed <= 48; seed++) {
        struct sxp_io *disk = NULL;
        struct sxp_options o;
        struct sxp_err err;
        sxp_store *s = NULL;
        assert_int_equal(io_sim_clone(t->sim, &disk), 0);
        tc_options(&o);
        o.sync = SXP_SYNC_NONE;
        assert_int_equal(store_open_io(TC_STORE, &o, disk, 0, &s, &err), 0);
        store_abandon(s);
        io_sim_crash(disk, seed, IO_SIM_RANDOM);
        io_sim_restart(disk);
        tc_options(&o);
        if (store_open_io(TC_STORE, &o, disk, 0, &s, &err) != 0)
            fail_msg("seed %llu: open: %s", (unsigned long long)seed, err.msg);
        if (tc_count(s, "a") != 3 || tc_count(s, "b") != 1)
            fail_msg("seed %llu: a has %zu events, b %zu", (unsigned long long)seed,
                     tc_count(s, "a"), tc_count(s, "b"));
        assert_int_equal(sxp_store_close(s), 0);
        disk->destroy(disk);
    }
}

static int tc_sim_seed = 1;

/* Loses power, seeded by tc_sim_seed, in the mode tc_sim_seed % 4 picks
 * (LOSE_ALL, TORN, SECTORS, KEEP_ALL in turn). */
static void tc_lose_power_now(struct tc *t)
{
    static const enum io_sim_mode modes[] = {IO_SIM_LOSE_ALL, IO_SIM_TORN, IO_SIM_SECTORS,
                                             IO_SIM_KEEP_ALL};
    io_sim_crash(t->sim, (uint64_t)tc_sim_seed, modes[tc_sim_seed % 4]);
}

/* A big append of seq to "a" on s, during which the power fails just
 * before the log's fdatasync (tc_lose_power_now); then the boot. */
static void tc_big_append_loses_power(struct tc *t, sxp_store *s, int64_t seq)
{
    tc_arm(t, IO_FK_FDATASYNC, "/61.log", 1, tc_lose_power_now);
    assert_int_not_equal(tc_append_padded(s, "a", seq, 40 << 10), 0);
    assert_int_equal(t->fired, 1);
    io_fault_set_hook(t->io, NULL, NULL);
    store_abandon(s);
    io_sim_restart(t->sim);
}

/* BIG ROUNDS (engine/commit.c): an append of more than 32 KiB that grows
 * its log is made durable by the log's own fdatasync, not by JOURNAL; that
 * sync also covers the journaled lines before it. A power loss just before
 * that sync, in every way io_sim can lose the unsynced bytes, leaves the
 * acknowledged events and at most the whole unacknowledged one. */
static void a_big_append_is_durable_by_its_own_logs_sync(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 3; i++)
        assert_int_equal(tc_append(s, "a", i), 0); /* small: through JOURNAL */
    assert_int_equal(tc_journal_records(t), 3);
    assert_int_equal(tc_append_padded(s, "a", 4, 40 << 10), 0);
    assert_int_equal(tc_journal_records(t), 3); /* no record for it */
    tc_die_and_lose_power(t, s);
    assert_true(tc_size(t, "streams/61.log") > 40 << 10); /* all four lines */
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 4);
    assert_int_equal(sxp_store_close(s), 0);

    /* Power lost before the big append's fdatasync of the log, after an
     * acknowledged small one (journaled, its log bytes unsynced). */
    int64_t hw = 4;
    for (tc_sim_seed = 1; tc_sim_seed <= 8; tc_sim_seed++) {
        s = tc_open(t);
        size_t before = tc_count(s, "a");
        assert_int_equal(tc_append(s, "a", hw + 1), 0);
        tc_big_append_loses_power(t, s, hw + 2);
        s = tc_open(t); /* recovery cuts a torn or zero-filled tail */
        size_t after = tc_count(s, "a");
        int64_t now = 0;
        struct sxp_err err;
        assert_int_equal(sxp_stream_last_seq(s, "a", 1, &now, &err), 0);
        /* The small one survives; the big one whole or not at all. */
        assert_true((after == before + 1 && now == hw + 1) ||
                    (after == before + 2 && now == hw + 2));
        hw = now;
        assert_int_equal(sxp_store_close(s), 0);
    }
}

/* The streams of the wide cases: more logs than one chunk of the replay's
 * fdatasyncs (JOURNAL_SYNC_CHUNK, 256), of recovery's (RECOVER_SYNC_CHUNK,
 * 128 per thread) and of .seq writes (SEQFILE_CHUNK, 64). */
#define TC_WIDE 300

static void tc_wide_name(char out[8], int i)
{
    snprintf(out, 8, "w%03d", i);
}

/* Every wide stream holds n events. */
static void tc_wide_count_is(sxp_store *s, size_t n)
{
    char name[8];
    for (int i = 0; i < TC_WIDE; i++) {
        tc_wide_name(name, i);
        assert_int_equal(tc_count(s, name), n);
    }
}

/* Appends seq to every wide stream. */
static void tc_wide_append(sxp_store *s, int64_t seq)
{
    char name[8];
    for (int i = 0; i < TC_WIDE; i++) {
        tc_wide_name(name, i);
        assert_int_equal(tc_append(s, name, seq), 0);
    }
}

/* A session's first appends to the wide streams, each through JOURNAL,
 * then a power loss: only the journal holds them. */
static void tc_wide_appends_then_power_loss(struct tc *t)
{
    sxp_store *s = tc_open(t);
    tc_wide_append(s, 1);
    tc_die_and_lose_power(t, s);
    assert_int_equal(tc_journal_records(t), TC_WIDE);
}

/* J-6: the replay syncs its logs in chunks, and empties the journal only
 * after all of them. Power lost in the second chunk, or a failed sync
 * there, leaves every record in the journal for the next open. */
static void a_replay_over_many_logs_cut_short_is_replayed_again(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = NULL;
    tc_wide_appends_then_power_loss(t);
    /* An fdatasync per log, which this case is about: the default bound
     * would sync them all by one syncfs (recover.c R-8). */
    store_set_open_syncfs(SIZE_MAX);

    /* The machine loses power at the replay's 290th fdatasync of a log. */
    tc_arm(t, IO_FK_FDATASYNC, ".log", 290, tc_lose_power_now);
    tc_sim_seed = 1; /* torn */
    (void)tc_open_fails(t, &err);
    assert_true(t->fired);
    io_fault_set_hook(t->io, NULL, NULL);
    io_sim_restart(t->sim);
    assert_int_equal(tc_journal_records(t), TC_WIDE);

    /* Then one fdatasync in the second chunk fails: the open fails and
     * names the log; the records stay. */
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 280, -EIO, 0), 0);
    assert_int_equal(tc_open_fails(t, &err), -EIO);
    assert_non_null(strstr(err.msg, "fdatasync streams/"));
    io_fault_clear(t->io);
    assert_int_equal(tc_journal_records(t), TC_WIDE);

    s = tc_open(t);
    tc_wide_count_is(s, 1);
    assert_int_equal(tc_journal_records(t), 0);
    assert_int_equal(sxp_store_close(s), 0);
    io_sim_crash(t->sim, 2, IO_SIM_LOSE_ALL); /* the replay's syncs held */
    io_sim_restart(t->sim);
    s = tc_open(t);
    tc_wide_count_is(s, 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* The high-water mark streams/<hex of name>.seq holds on the disk now:
 * 0 and *v, or -1 when the file is missing or does not parse. */
static int tc_seq_file_read(struct tc *t, const char *name, int64_t *v)
{
    char path[256], *text = NULL;
    size_t len = 0, at = (size_t)snprintf(path, sizeof(path), "%s/streams/", TC_STORE);
    for (const char *c = name; *c; c++)
        at += (size_t)snprintf(path + at, sizeof(path) - at, "%02x", (unsigned char)*c);
    snprintf(path + at, sizeof(path) - at, ".seq");
    int rc = io_read_file(t->io, path, 64, &text, &len) == 0 && layout_seq_parse(text, len, v) == 0;
    free(text);
    return rc ? 0 : -1;
}

/* The same, which must be there and parse. */
static int64_t tc_seq_file(struct tc *t, const char *name)
{
    int64_t v = -1;
    if (tc_seq_file_read(t, name, &v) != 0)
        fail_msg("the .seq of \"%s\" is missing or does not parse", name);
    return v;
}

/* TC_WIDE streams created durably (seq 1), then 2 and 3 appended by a
 * session without syncs that is killed: its lines are in the page cache
 * only. */
static void tc_wide_killed_without_syncs(struct tc *t)
{
    sxp_store *s = tc_open(t);
    tc_wide_append(s, 1);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open_unsynced(t);
    tc_wide_append(s, 2);
    tc_wide_append(s, 3);
    store_abandon(s);
    io_sim_kill(t->sim); /* the page cache stays */
    io_sim_restart(t->sim);
}

/* R-6 and R-4 over more logs than one chunk (RECOVER_SYNC_CHUNK 128 per
 * thread, SEQFILE_CHUNK 64): a killed session without syncs leaves its lines
 * in the page cache only; recovery keeps them, so it must make them durable
 * before it writes the .seq files that vouch for them, and those too before
 * it returns. A power loss right after recovery keeps all of it. by_fs:
 * at the default bound, by syncfs (R-8: one for the logs and one per chunk
 * of .seq files); else by an fdatasync each. */
static void tc_many_killed_logs_durable(struct tc *t, int by_fs)
{
    struct sxp_stats st;
    char name[8];
    tc_wide_killed_without_syncs(t);
    store_set_open_syncfs(by_fs ? 0 : SIZE_MAX);
    uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    sxp_store *s = tc_open(t); /* recovery, syncing */
    store_set_open_syncfs(0);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS)) - fs0,
                     by_fs ? 1 + (TC_WIDE + SEQFILE_CHUNK - 1) / SEQFILE_CHUNK : 0);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.rec_hw_rolled, TC_WIDE);
    store_abandon(s);
    io_sim_crash(t->sim, 3, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    for (int i = 0; i < TC_WIDE; i++) {
        tc_wide_name(name, i);
        assert_int_equal(tc_seq_file(t, name), 3);
    }
    s = tc_open(t); /* a log that lost lines its .seq covers is refused */
    tc_wide_count_is(s, 3);
    assert_int_equal(sxp_store_close(s), 0);
}

static void recovery_of_many_killed_logs_is_durable_when_it_returns(void **state)
{
    tc_many_killed_logs_durable(*state, 0);
}

static void recovery_of_many_killed_logs_by_syncfs_is_durable_when_it_returns(void **state)
{
    tc_many_killed_logs_durable(*state, 1);
}

/* A log's fdatasync failing in recovery (R-6, past the first chunk) fails
 * the open with the log's name; LOCK stays dirty, so the next open
 * recovers again, and keeps everything. */
static void a_failed_sync_in_recovery_fails_the_open(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = NULL;
    tc_wide_killed_without_syncs(t);
    store_set_open_syncfs(SIZE_MAX); /* an fdatasync each, not R-8's syncfs */
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 200, -EIO, 0), 0);
    assert_int_equal(tc_open_fails(t, &err), -EIO);
    assert_non_null(strstr(err.msg, "fdatasync "));
    assert_non_null(strstr(err.msg, ".log: "));
    io_fault_clear(t->io);
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    tc_wide_count_is(s, 3);
    assert_int_equal(sxp_store_close(s), 0);
}

static const struct fsck_finding *tc_finding(const struct fsck_report *r, enum fsck_code code)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i].code == code)
            return &r->f[i];
    return NULL;
}

/* sxp-fsck in mode on the store, through io, with fsck_opts.syncfs_logs
 * bound: its exit status; *r filled. */
static int tc_fsck_run(struct sxp_io *io, enum fsck_mode mode, size_t bound, struct fsck_report *r)
{
    struct fsck_opts fo;
    memset(&fo, 0, sizeof(fo));
    fo.root = TC_STORE;
    fo.io = io;
    fo.mode = mode;
    fo.syncfs_logs = bound;
    return fsck_run(&fo, r);
}

/* sxp-fsck in mode on the store, through io: its exit status; *r filled. */
static int tc_fsck_report_io(struct sxp_io *io, enum fsck_mode mode, struct fsck_report *r)
{
    return tc_fsck_run(io, mode, 0, r);
}

/* sxp-fsck in mode on the test's store: its exit status; *r filled. */
static int tc_fsck_report(struct tc *t, enum fsck_mode mode, struct fsck_report *r)
{
    return tc_fsck_report_io(t->io, mode, r);
}

/* sxp-fsck in mode on the store: its exit status. */
static int tc_fsck(struct tc *t, enum fsck_mode mode)
{
    struct fsck_report r;
    int rc = tc_fsck_report(t, mode, &r);
    fsck_report_free(&r);
    return rc;
}

/* A lost+found/ that a killed sxp-fsck made (its mkdir, not yet the fsync
 * of the root after it) has its name made durable before sxp-fsck -p puts
 * a torn tail in it and cuts the log: a power loss after it keeps the
 * item. */
static void fsck_p_makes_a_lost_found_a_killed_mkdir_left_durable(void **state)
{
    struct tc *t = *state;
    struct crash_verdict v;
    tc_torn_tails_after_kill(t, "a");
    assert_int_equal(t->io->mkdir(t->io, TC_STORE "/lost+found", 0755), 0);
    uint64_t mark = crash_lostfound_mark(t->sim, TC_STORE);
    assert_int_equal(tc_fsck(t, FSCK_MODE_PREEN), FSCK_EXIT_REPAIRED);
    memset(&v, 0, sizeof(v));
    assert_int_equal(
        crash_lostfound_check(t->sim, TC_STORE, mark, 1, &v, stdout, 10, "# lost+found check"), 1);
    assert_int_equal(v.bad, 0);
}

/* ---- C-4, J-5, J-6: the journal covers the logs LOCK does not list -------- */

/* C-4: a log a round writes outside the journal (a big append) is listed
 * first. A power loss before the append's own sync, in every way io_sim can
 * lose or tear its bytes, leaves a tail that recovery then reads and cuts;
 * the log reads whole and takes the append again. */
static void a_log_written_outside_the_journal_is_listed_first(void **state)
{
    struct tc *t = *state;
    for (tc_sim_seed = 1; tc_sim_seed <= 8; tc_sim_seed++) {
        sxp_store *s = tc_open(t);
        int64_t hw = (int64_t)tc_count(s, "a");
        assert_int_equal(sxp_store_close(s), 0);
        tc_big_append_loses_power(t, tc_open(t), hw + 1);
        s = tc_open(t);
        size_t n = tc_count(s, "a"); /* fails on a tail left uncut */
        assert_true(n == (size_t)hw || n == (size_t)hw + 1);
        if (n == (size_t)hw)
            assert_int_equal(tc_append_padded(s, "a", hw + 1, 40 << 10), 0);
        assert_int_equal(tc_count(s, "a"), hw + 1);
        assert_int_equal(sxp_store_close(s), 0);
    }
}

/* Streams "a", "b", "c" at seq 1, durable, the store closed. */
static void tc_abc_at_1(struct tc *t)
{
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(tc_append(s, "b", 1), 0);
    assert_int_equal(tc_append(s, "c", 1), 0);
    assert_int_equal(sxp_store_close(s), 0);
}

/* tc_abc_at_1, then a session that appends seq 2 to "a" and "b" (through
 * the journal, listing nothing). */
static sxp_store *tc_journal_only_session(struct tc *t)
{
    struct sxp_stats before, after;
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    sxp_store_stats(s, &before);
    assert_int_equal(tc_append(s, "a", 2), 0);
    assert_int_equal(tc_append(s, "b", 2), 0);
    sxp_store_stats(s, &after);
    /* The journal's sync each, and none of LOCK. */
    assert_int_equal(after.fdatasyncs - before.fdatasyncs, 2);
    return s;
}

static void tc_hw_is(sxp_store *s, const char *stream, int64_t want)
{
    struct sxp_err err;
    int64_t hw = -1;
    assert_int_equal(sxp_stream_last_seq(s, stream, strlen(stream), &hw, &err), 0);
    assert_int_equal(hw, want);
    assert_int_equal(tc_append(s, stream, want), -ERANGE);
}

/* An open that recovers, and finds "a" and "b" at 2, "c" at 1: its stats. */
/* The store opens (running recovery when recovered is set, and none
 * otherwise) with "a" and "b" at 2 and "c" at 1. */
static void tc_abc_opened(struct tc *t, struct sxp_stats *st, int recovered)
{
    sxp_store *s = tc_open(t);
    sxp_store_stats(s, st);
    assert_int_equal(st->recovered, recovered);
    tc_hw_is(s, "a", 2);
    tc_hw_is(s, "b", 2);
    tc_hw_is(s, "c", 1);
    assert_int_equal(sxp_store_close(s), 0);
}

static void tc_abc_recovered(struct tc *t, struct sxp_stats *st)
{
    tc_abc_opened(t, st, 1);
}

/* The text of the small file rel of the store ("" when it is absent). */
static void tc_text(struct tc *t, const char *rel, char *out, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", TC_STORE, rel);
    out[0] = '\0';
    int fd = t->io->open(t->io, path, O_RDONLY, 0);
    if (fd < 0)
        return;
    ssize_t n = t->io->pread(t->io, fd, out, size - 1, 0);
    assert_true(n >= 0);
    out[n] = '\0';
    assert_int_equal(t->io->close(t->io, fd), 0);
}

/* R-4, R-6: what recovery writes is durable when the open returns. A
 * killed session leaves the .seq of "a" and "b" at 1 under their seq 2,
 * and none for the new stream "d"; the recovering open rolls the two
 * forward (their old inodes exchanged into place, seqfile.c RECYCLING) and
 * makes the third (a rename), then one fsync of streams/ makes the renames
 * durable. A power loss right after the open keeps all three marks. */
static void the_marks_recovery_writes_outlive_a_power_loss(void **state)
{
    struct tc *t = *state;
    struct sxp_stats st;
    char text[32];
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 2), 0);
    assert_int_equal(tc_append(s, "b", 2), 0);
    assert_int_equal(tc_append(s, "d", 1), 0);
    store_abandon(s); /* killed: the page cache keeps what it wrote */
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.rec_hw_rolled, 2);
    assert_int_equal(st.rec_seq_created, 1);
    tc_die_and_lose_power(t, s);
    tc_text(t, "streams/61.seq", text, sizeof(text));
    assert_string_equal(text, "2");
    tc_text(t, "streams/62.seq", text, sizeof(text));
    assert_string_equal(text, "2");
    tc_text(t, "streams/64.seq", text, sizeof(text));
    assert_string_equal(text, "1");
    /* A recovery that only makes new marks exchanges nothing: its one
     * fsync of streams/ is all that makes "e"'s rename durable. */
    s = tc_open(t);
    assert_int_equal(tc_append(s, "e", 1), 0);
    store_abandon(s);
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.rec_hw_rolled, 0);
    assert_int_equal(st.rec_seq_created, 1);
    tc_die_and_lose_power(t, s);
    tc_text(t, "streams/65.seq", text, sizeof(text));
    assert_string_equal(text, "1");
}

/* J-5: a checkpoint that drops the journal's records lists their logs in
 * LOCK first, so a crash after it still has recovery read them (their .seq
 * lag behind them). */
static void a_checkpoint_lists_the_logs_it_takes_from_the_journal(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = tc_journal_only_session(t);
    assert_int_equal(store_checkpoint(s, &err), 0);
    assert_int_equal(tc_journal_records(t), 0);
    tc_die_and_lose_power(t, s);
    tc_abc_recovered(t, &st);
    assert_int_equal(st.rec_hw_rolled, 2);
}

/* J-5: a round checkpoints once the journal holds the store's bound of
 * logs (store_set_checkpoint_logs, as 4,096 do by default), and a power
 * loss after that checkpoint keeps what the round acknowledged. */
static void a_round_checkpoints_at_the_bound_of_logs(void **state)
{
    struct tc *t = *state;
    struct sxp_stats st;
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    store_set_checkpoint_logs(s, 2);
    assert_int_equal(tc_append(s, "a", 2), 0);
    assert_int_equal(tc_journal_records(t), 1); /* one log: below the bound */
    assert_int_equal(tc_append(s, "b", 2), 0);
    assert_int_equal(tc_journal_records(t), 0); /* two: the round checkpointed */
    tc_die_and_lose_power(t, s);
    tc_abc_recovered(t, &st);
    assert_int_equal(st.rec_hw_rolled, 2);
}

/* tc_journal_only_session with checkpoints of 2 logs or more made by one
 * syncfs (J-11), then such a checkpoint (dropped: its syncfs does
 * nothing). The checkpoint syncs no log itself. */
static sxp_store *tc_syncfs_checkpoint(struct tc *t, int drop)
{
    struct sxp_err err;
    sxp_store *s = tc_journal_only_session(t);
    store_set_checkpoint_syncfs(s, 2);
    uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    uint64_t ds0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC));
    if (drop)
        io_fault_set_drop(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    assert_int_equal(store_checkpoint(s, &err), 0);
    io_fault_set_drop(t->io, 0);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS)) - fs0, 1);
    /* LOCK's list and the new header; no log. */
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC)) - ds0, 2);
    assert_int_equal(tc_journal_records(t), 0);
    return s;
}

/* J-11: a checkpoint that syncs its logs with one syncfs keeps them
 * through a power loss, though the journal no longer holds their lines. */
static void a_checkpoint_by_syncfs_keeps_its_logs_through_a_power_loss(void **state)
{
    struct tc *t = *state;
    struct sxp_stats st;
    tc_die_and_lose_power(t, tc_syncfs_checkpoint(t, 0));
    tc_abc_recovered(t, &st);
    assert_int_equal(st.rec_hw_rolled, 2);
}

/* The same checkpoint with its syncfs taken away loses both appends at the
 * power loss: the syncfs is what the test above relies on. */
static void a_checkpoint_without_its_syncfs_loses_the_logs(void **state)
{
    struct tc *t = *state;
    tc_die_and_lose_power(t, tc_syncfs_checkpoint(t, 1));
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* J-13: a session on the store tc_abc_at_1 left (seqs at base - 1) that
 * keeps max_fds log descriptors (0: the default) and sync_each_log as
 * each, appends seq base to "a" and to "b" (journaled: "a"'s line is in no
 * fdatasync of its log), then runs a checkpoint. *syncs: the fdatasyncs of
 * the appends, *syncfs: the checkpoint's syncfs calls. */
static void tc_evicting_session(struct tc *t, unsigned max_fds, int each, int64_t base,
                                uint64_t *syncs, uint64_t *syncfs)
{
    struct sxp_options o;
    struct sxp_stats before, after;
    struct sxp_err err;
    tc_options(&o);
    o.max_open_files = max_fds;
    o.sync_each_log = each;
    sxp_store *s = tc_open_with(t, &o);
    sxp_store_stats(s, &before);
    assert_int_equal(tc_append(s, "a", base), 0);
    assert_int_equal(tc_append(s, "b", base), 0); /* with one descriptor, closes "a"'s */
    sxp_store_stats(s, &after);
    *syncs = after.fdatasyncs - before.fdatasyncs;
    uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    assert_int_equal(store_checkpoint(s, &err), 0);
    *syncfs = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS)) - fs0;
    assert_int_equal(sxp_store_close(s), 0);
}

/* J-13: a log whose journaled line no fdatasync of it has covered loses,
 * when the descriptor cache closes it, the descriptor a failed writeback
 * would be told to. So a checkpoint after such an eviction syncs by one
 * syncfs through JOURNAL's descriptor, though it covers fewer logs than
 * J-11's bound; with syncfs ruled out (sync_each_log), the log is
 * fdatasynced before its descriptor is closed. With descriptors enough
 * for both logs the same session does neither. */
static void a_journaled_log_whose_descriptor_is_closed_is_synced_through_an_open_one(void **state)
{
    struct tc *t = *state;
    uint64_t syncs = 0, syncfs = 0;
    tc_abc_at_1(t);
    tc_evicting_session(t, 0, 0, 2, &syncs, &syncfs);
    assert_int_equal(syncs, 2); /* the journal's, each */
    assert_int_equal(syncfs, 0);
    tc_evicting_session(t, 1, 0, 3, &syncs, &syncfs);
    assert_int_equal(syncs, 2);
    assert_int_equal(syncfs, 1);
    tc_evicting_session(t, 0, 1, 4, &syncs, &syncfs);
    assert_int_equal(syncs, 2);
    assert_int_equal(syncfs, 0);
    tc_evicting_session(t, 1, 1, 5, &syncs, &syncfs);
    assert_int_equal(syncs, 3); /* and "a"'s, at its eviction */
    assert_int_equal(syncfs, 0);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 5);
    assert_int_equal(tc_count(s, "b"), 5);
    assert_int_equal(sxp_store_close(s), 0);
}

/* J-13 during the checkpoint: with two descriptors the checkpoint syncs
 * one log at a time, and its pin of a closed log closes another. "a" took
 * a journaled line, then a big one outside the journal whose own fdatasync
 * covered both, and was closed by "c"'s append with nothing unsynced;
 * "b" and "c" hold journaled lines no fdatasync of theirs covered. The
 * checkpoint's pin of "a" closes "b", whose line is then synced through a
 * new descriptor: so the checkpoint adds one syncfs through JOURNAL's
 * after its fdatasyncs. */
static void a_log_evicted_by_the_checkpoint_itself_gets_its_syncfs(void **state)
{
    struct tc *t = *state;
    struct sxp_options o;
    struct sxp_err err;
    tc_abc_at_1(t);
    tc_options(&o);
    o.max_open_files = 2;
    sxp_store *s = tc_open_with(t, &o);
    assert_int_equal(tc_append(s, "a", 2), 0);                  /* journaled */
    assert_int_equal(tc_append_padded(s, "a", 3, 40 << 10), 0); /* its own fdatasync */
    assert_int_equal(tc_append(s, "b", 2), 0);
    assert_int_equal(tc_append(s, "c", 2), 0); /* closes "a" */
    uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    assert_int_equal(store_checkpoint(s, &err), 0);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS)) - fs0, 1);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 3);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(tc_count(s, "c"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* J-13 under sync_each_log: the fdatasync a journaled log gets before the
 * cache closes its descriptor fails. The log may have lost the journaled
 * line, so it is dead for good (IO-5): later appends to it are refused, and
 * the checkpoint fails and keeps JOURNAL's records rather than drop the
 * only durable copy of the line. */
static void a_failed_sync_of_an_evicted_journaled_log_makes_it_dead(void **state)
{
    struct tc *t = *state;
    struct sxp_options o;
    struct sxp_err err;
    tc_abc_at_1(t);
    tc_options(&o);
    o.max_open_files = 1;
    o.sync_each_log = 1;
    sxp_store *s = tc_open_with(t, &o);
    assert_int_equal(tc_append(s, "a", 2), 0); /* journaled: no fdatasync of a's log */
    io_fault_reset_counts(t->io);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 0), 0);
    assert_int_equal(tc_append(s, "b", 2), 0); /* evicts a's descriptor: its sync fails */
    enum io_fault_kind k;
    char path[256] = "";
    assert_int_equal(io_fault_last_injected(t->io, &k, path, sizeof(path)), 0);
    assert_int_equal(k, IO_FK_FDATASYNC);
    assert_non_null(strstr(path, "/streams/61.log"));
    io_fault_clear(t->io);
    assert_int_not_equal(tc_append(s, "a", 3), 0);      /* dead for good */
    assert_int_not_equal(store_checkpoint(s, &err), 0); /* the records stay */
    assert_int_not_equal(sxp_store_close(s), 0);
    s = tc_open(t); /* R-0 replays the journal: a's line is kept */
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* J-11's bound: a checkpoint of JOURNAL_SYNCFS_LOGS logs makes one syncfs
 * and syncs no log, one of a log fewer syncs each log; with
 * sxp_options.sync_each_log it syncs each log at any count. The appends
 * outlive a power loss all the same. */
static void a_checkpoint_syncs_the_filesystem_from_its_bound_of_logs(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    struct {
        int each, nlogs;
        uint64_t syncfs;
    } cases[] = {
        {0, JOURNAL_SYNCFS_LOGS, 1},
        {0, JOURNAL_SYNCFS_LOGS - 1, 0},
        {1, JOURNAL_SYNCFS_LOGS, 0},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct sxp_options o;
        char name[16];
        tc_options(&o);
        o.sync_each_log = cases[c].each;
        sxp_store *s = tc_open_with(t, &o);
        for (int i = 0; i < cases[c].nlogs; i++) {
            snprintf(name, sizeof(name), "c%zu-%d", c, i);
            assert_int_equal(tc_append(s, name, 1), 0);
        }
        uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
        uint64_t ds0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC));
        assert_int_equal(store_checkpoint(s, &err), 0);
        uint64_t syncfs = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS)) - fs0;
        uint64_t fdatasyncs = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC)) - ds0;
        assert_int_equal(syncfs, cases[c].syncfs);
        /* LOCK's list and the new header, and each log unless syncfs. */
        assert_int_equal(fdatasyncs, 2 + (syncfs ? 0 : (uint64_t)cases[c].nlogs));
        tc_die_and_lose_power(t, s);
        s = tc_open(t);
        for (int i = 0; i < cases[c].nlogs; i++) {
            snprintf(name, sizeof(name), "c%zu-%d", c, i);
            tc_hw_is(s, name, 1);
        }
        assert_int_equal(sxp_store_close(s), 0);
    }
}

/* J-11 at the close: the .seq files of a chunk are written without syncs
 * and made durable by one syncfs before their renames. After a power loss
 * the store opens clean (no recovery) with both marks; with that syncfs
 * taken away the renames outlive the power loss and the marks do not. */
static void tc_close_syncs_seq_files_by_syncfs(struct tc *t, int drop)
{
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = tc_journal_only_session(t);
    store_set_checkpoint_syncfs(s, 1);
    assert_int_equal(store_checkpoint(s, &err), 0); /* the logs, by one syncfs */
    uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    uint64_t ds0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC));
    if (drop)
        io_fault_set_drop(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    assert_int_equal(sxp_store_close(s), 0);
    io_fault_set_drop(t->io, 0);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS)) - fs0, 1);
    /* The journal's cut and LOCK's clean mark: no .seq. */
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC)) - ds0, 2);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    if (drop) {
        assert_int_equal(tc_size(t, "streams/61.seq"), 0);
        assert_int_equal(tc_size(t, "streams/62.seq"), 0);
        return;
    }
    assert_int_equal(tc_size(t, "streams/61.seq"), 1);
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 0);
    tc_hw_is(s, "a", 2);
    tc_hw_is(s, "b", 2);
    tc_hw_is(s, "c", 1);
    assert_int_equal(sxp_store_close(s), 0);
}

static void a_close_syncs_its_seq_files_with_one_syncfs(void **state)
{
    tc_close_syncs_seq_files_by_syncfs(*state, 0);
}

static void a_close_without_its_seq_syncfs_loses_the_marks(void **state)
{
    tc_close_syncs_seq_files_by_syncfs(*state, 1);
}

static int tc_count_tmp(void *arg, const char *name, int is_dir)
{
    (void)is_dir;
    size_t l = strlen(name);
    if (l > 4 && strcmp(name + l - 4, ".tmp") == 0)
        (*(int *)arg)++;
    return 0;
}

/* The temp files in streams/. */
static int tc_count_tmp_files(struct tc *t)
{
    int n = 0;
    assert_int_equal(t->io->list_dir(t->io, TC_STORE "/streams", tc_count_tmp, &n), 0);
    return n;
}

/* RECYCLING (engine/seqfile.c): TC_RECYCLE streams, three chunks of .seq
 * files; stream i's marks, 1000 + 10 i and then 1005 + 10 i, are no
 * other stream's. */
#define TC_RECYCLE 130

static void tc_recycle_name(char *out, size_t size, int i)
{
    snprintf(out, size, "s%03d", i);
}

/* Each stream at its first mark, closed; then each appended to again by
 * a second session (without syncs when unsynced), left open for the
 * caller to close. */
static sxp_store *tc_recycle_sessions(struct tc *t, int unsynced)
{
    char name[16];
    sxp_store *s = tc_open(t);
    for (int i = 0; i < TC_RECYCLE; i++) {
        tc_recycle_name(name, sizeof(name), i);
        assert_int_equal(tc_append(s, name, 1000 + 10 * i), 0);
    }
    assert_int_equal(sxp_store_close(s), 0);
    s = unsynced ? tc_open_unsynced(t) : tc_open(t);
    for (int i = 0; i < TC_RECYCLE; i++) {
        tc_recycle_name(name, sizeof(name), i);
        assert_int_equal(tc_append(s, name, 1005 + 10 * i), 0);
    }
    return s;
}

/* RECYCLING is for syncing closes only: the temp file's bytes of a close
 * without syncs are not durable when it takes the .seq's place, so an old
 * .seq inode written again could leave another stream's mark under the
 * name after a power loss. After such a close and a power loss (each
 * mode), every .seq holds its own old or new mark, or a torn piece of
 * one (what recovery's R-7 and R-4 roll forward from the log), or is
 * empty (what R-7 rebuilds from it). */
static void a_close_without_syncs_leaves_no_mark_of_another_stream(void **state)
{
    static const enum io_sim_mode modes[] = {IO_SIM_LOSE_ALL, IO_SIM_TORN, IO_SIM_SECTORS,
                                             IO_SIM_RANDOM};
    char name[16];
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        if (m) {
            assert_int_equal(tc_teardown(state), 0);
            assert_int_equal(tc_setup(state), 0);
        }
        struct tc *t = *state;
        sxp_store *s = tc_recycle_sessions(t, 1);
        assert_int_equal(sxp_store_close(s), 0);
        io_sim_crash(t->sim, 7 + m, modes[m]);
        io_sim_restart(t->sim);
        for (int i = 0; i < TC_RECYCLE; i++) {
            char got[32], old[32], neu[32];
            int64_t v = -1;
            tc_recycle_name(name, sizeof(name), i);
            if (tc_seq_file_read(t, name, &v) != 0)
                continue;
            int n = snprintf(got, sizeof(got), "%lld", (long long)v);
            snprintf(old, sizeof(old), "%d", 1000 + 10 * i);
            snprintf(neu, sizeof(neu), "%d", 1005 + 10 * i);
            if (strncmp(got, old, (size_t)n) != 0 && strncmp(got, neu, (size_t)n) != 0)
                fail_msg("after a power loss (%s), %s holds %lld", io_sim_mode_name(modes[m]), name,
                         (long long)v);
        }
    }
}

/* What a syncing writer's close does to a .seq a reader has open, as
 * RECYCLING does it: a temp file with the same mark takes its place by an
 * exchange, and the old .seq, now at the temp name, gets another stream's
 * mark. Through the disk itself, below the hook. */
static void tc_recycle_under_reader(struct tc *t)
{
    int fd = t->sim->open(t->sim, TC_STORE "/streams/t.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(t->sim->pwrite(t->sim, fd, "2", 1, 0), 0);
    assert_int_equal(t->sim->close(t->sim, fd), 0);
    assert_int_equal(
        t->sim->rename_exchange(t->sim, TC_STORE "/streams/t.tmp", TC_STORE "/streams/61.seq"), 0);
    fd = t->sim->open(t->sim, TC_STORE "/streams/t.tmp", O_WRONLY, 0);
    assert_true(fd >= 0);
    assert_int_equal(t->sim->pwrite(t->sim, fd, "77", 2, 0), 0);
    assert_int_equal(t->sim->close(t->sim, fd), 0);
}

/* A read-only open takes no lock, so a writer's close may recycle the
 * .seq it reads between its open and its read (tc_recycle_under_reader):
 * it reads "77", another stream's mark above any of "a"'s events, sees
 * the file is no longer at the .seq's name (still_at), and reads again:
 * "a" is at 2, not 77. */
static void a_read_only_open_reads_a_seq_again_that_was_exchanged_away(void **state)
{
    struct tc *t = *state;
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = tc_open(t), *ro = NULL;
    int64_t hw = 0;
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(tc_append(s, "a", 2), 0);
    assert_int_equal(sxp_store_close(s), 0);
    tc_options(&o);
    o.read_only = 1;
    assert_int_equal(store_open_io(TC_STORE, &o, t->io, 0, &ro, &err), 0);
    tc_arm(t, IO_FK_PREAD, "/61.seq", 1, tc_recycle_under_reader);
    assert_int_equal(sxp_stream_last_seq(ro, "a", 1, &hw, &err), 0);
    io_fault_set_hook(t->io, NULL, NULL);
    assert_true(t->fired);
    assert_int_equal(hw, 2);
    assert_int_equal(sxp_store_close(ro), 0);
}

/* A clean close rewrites the TC_RECYCLE .seq files over recycled temp
 * files, and the power fails before its nth rename or exchange: every
 * .seq holds its own old or new mark (never another stream's, as it
 * would if an old .seq inode were written again before its exchange was
 * durable), and the next open finds every stream at its second event.
 * With no power loss (nth TC_RECYCLE + 1), the close leaves no temp file
 * and every new mark. The renames chosen: in the first chunk, around the
 * first reuse, through the second chunk and in the last (a power loss at
 * every one of the 130 made this test cost CI a minute under ASan). */
static void a_close_over_recycled_temp_files_keeps_each_mark_its_own(void **state)
{
    static const unsigned nths[] = {1, 40, 64, 65, 66, 100, 128, 129, 130, TC_RECYCLE + 1};
    char name[16];
    for (size_t k = 0; k < sizeof(nths) / sizeof(nths[0]); k++) {
        unsigned nth = nths[k];
        if (k > 0) {
            assert_int_equal(tc_teardown(state), 0);
            assert_int_equal(tc_setup(state), 0);
        }
        struct tc *t = *state;
        sxp_store *s = tc_recycle_sessions(t, 0);
        tc_arm(t, IO_FK_RENAME, ".tmp", nth, tc_lose_power_now);
        int rc = sxp_store_close(s);
        io_fault_set_hook(t->io, NULL, NULL);
        assert_int_equal(t->fired, nth <= TC_RECYCLE);
        if (!t->fired) {
            assert_int_equal(rc, 0);
            assert_int_equal(tc_count_tmp_files(t), 0);
        }
        io_sim_restart(t->sim);
        for (int i = 0; i < TC_RECYCLE; i++) {
            tc_recycle_name(name, sizeof(name), i);
            int64_t v = tc_seq_file(t, name);
            if (v != 1000 + 10 * i && v != 1005 + 10 * i)
                fail_msg("after a power loss at rename %u, %s holds %lld", nth, name, (long long)v);
            if (!t->fired && v != 1005 + 10 * i)
                fail_msg("%s holds %lld after a clean close", name, (long long)v);
        }
        s = tc_open(t);
        for (int i = 0; i < TC_RECYCLE; i += 43) {
            tc_recycle_name(name, sizeof(name), i);
            tc_hw_is(s, name, 1005 + 10 * i);
        }
        assert_int_equal(sxp_store_close(s), 0);
    }
}

/* K-3 under a power loss: a close makes LOCK "clean" only once every .seq
 * is durable, so whenever the power fails during or after it, a LOCK that
 * reads clean comes with every mark in place (the next open runs no
 * recovery and trusts them), and otherwise the open recovers them. The
 * power fails at the close's nth rename or exchange of a .seq, or after
 * it returned (nth 0). Marks before the close: want - 1 (none at 1). */
static void tc_close_then_power_loss(struct tc *t, int64_t want, unsigned nth)
{
    char *text = NULL;
    size_t len = 0;
    char name[16];
    sxp_store *s = tc_open(t);
    for (int i = 0; i < TC_RECYCLE; i++) {
        tc_recycle_name(name, sizeof(name), i);
        assert_int_equal(tc_append(s, name, want), 0);
    }
    if (nth)
        tc_arm(t, IO_FK_RENAME, ".tmp", nth, tc_lose_power_now); /* exchanges count too */
    int rc = sxp_store_close(s);
    io_fault_set_hook(t->io, NULL, NULL);
    if (nth)
        assert_true(t->fired);
    else
        assert_int_equal(rc, 0);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL); /* after the close, or again */
    io_sim_restart(t->sim);
    assert_int_equal(io_read_file(t->io, TC_STORE "/LOCK", 1 << 20, &text, &len), 0);
    int clean = len == 6 && memcmp(text, "clean\n", 6) == 0;
    free(text);
    assert_int_equal(clean, nth == 0);
    for (int i = 0; clean && i < TC_RECYCLE; i++) {
        tc_recycle_name(name, sizeof(name), i);
        int64_t v = tc_seq_file(t, name);
        if (v != want)
            fail_msg("after a clean close and a power loss %s holds %lld, not %lld", name,
                     (long long)v, (long long)want);
    }
    s = tc_open(t);
    for (int i = 0; i < TC_RECYCLE; i += 43) {
        tc_recycle_name(name, sizeof(name), i);
        tc_hw_is(s, name, want);
    }
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_count_tmp_files(t), 0);
}

static void a_power_loss_during_or_after_a_clean_close_keeps_every_mark(void **state)
{
    static const unsigned nths[] = {0, 1, 64, 65, TC_RECYCLE};
    for (size_t k = 0; k < sizeof(nths) / sizeof(nths[0]); k++) {
        if (k > 0) {
            assert_int_equal(tc_teardown(state), 0);
            assert_int_equal(tc_setup(state), 0);
        }
        /* New streams (.seq files renamed into place, more than a chunk),
         * then the same again (by exchange: RECYCLING). */
        tc_close_then_power_loss(*state, 1, nths[k]);
        tc_close_then_power_loss(*state, 2, nths[k]);
    }
}

/* RECYCLING's rule watched from outside (tc_held_hook): a temp name that
 * an exchange filled holds an old .seq inode, and is removed only once an
 * fsync of streams/ that succeeded made that exchange durable; on disk
 * the .seq may still name that inode until then. */
struct tc_held {
    struct tc *t;
    char path[TC_RECYCLE][128];
    size_t n;                 /* names filled since the last good fsync of streams/ */
    int broken;               /* one of them was removed */
    unsigned dirsyncs;        /* fsync_dir calls seen */
    unsigned streams_dirsync; /* the first of them that was streams/'s (0: none) */
};

static void tc_held_hook(void *arg, enum io_fault_kind kind, int when, uint64_t n, const char *path,
                         int res)
{
    struct tc_held *h = arg;
    size_t pl = strlen(path);
    int streams = pl >= 8 && strcmp(path + pl - 8, "/streams") == 0;
    uint64_t size;
    int is_dir;
    (void)n;
    if (kind == IO_FK_FSYNC_DIR && when == 0 && ++h->dirsyncs && streams && !h->streams_dirsync)
        h->streams_dirsync = h->dirsyncs;
    if (kind == IO_FK_FSYNC_DIR && when == 1 && streams && res == 0)
        h->n = 0;
    if (kind == IO_FK_FSYNC_DIR && when == 1 && res < 0) /* the disk drops what it was to write */
        assert_int_equal(io_sim_dir_sync_failed(h->t->sim, path, IO_SIM_SYNCFAIL_DROP, 1),
                         IO_SIM_SYNCFAIL_DROP);
    /* An exchange leaves a file at its first name; a rename does not. */
    if (kind == IO_FK_RENAME && when == 1 && res == 0 && h->n < TC_RECYCLE &&
        h->t->sim->stat(h->t->sim, path, &size, &is_dir) == 0)
        snprintf(h->path[h->n++], sizeof(h->path[0]), "%s", path);
    for (size_t i = 0; kind == IO_FK_UNLINK && when == 0 && i < h->n; i++)
        h->broken |= strcmp(h->path[i], path) == 0;
}

/* A syncing close over recycled temp files whose .seq writing fails after
 * some exchanges: at the 66th rename (the second of the second chunk), or
 * at the fsync of streams/ after the first chunk. It keeps RECYCLING's
 * rule to its end: the temp names its exchanges filled since the last
 * good fsync stay (tc_held_hook). The close fails; after a power loss
 * every .seq holds its own old or new mark, and the next open's recovery
 * (R-1) removes the temp files left and finds every stream at its second
 * event. */
static void tc_failed_recycling_close(void **state, int dirsync)
{
    struct tc *t = *state;
    struct tc_held *h = calloc(1, sizeof(*h));
    unsigned nth = 66;
    char name[16];
    assert_non_null(h);
    if (dirsync) { /* a first close finds which of its fsync_dir calls is streams/'s */
        h->t = t;
        sxp_store *s = tc_recycle_sessions(t, 0);
        io_fault_set_hook(t->io, tc_held_hook, h);
        assert_int_equal(sxp_store_close(s), 0);
        io_fault_set_hook(t->io, NULL, NULL);
        assert_false(h->broken);
        nth = h->streams_dirsync;
        assert_true(nth > 0);
        assert_int_equal(tc_teardown(state), 0);
        assert_int_equal(tc_setup(state), 0);
        t = *state;
        memset(h, 0, sizeof(*h));
    }
    h->t = t;
    sxp_store *s = tc_recycle_sessions(t, 0);
    io_fault_set_hook(t->io, tc_held_hook, h);
    assert_int_equal(
        io_fault_fail_nth(t->io, dirsync ? IO_FK_FSYNC_DIR : IO_FK_RENAME, nth, -EIO, 0), 0);
    assert_int_equal(sxp_store_close(s), -EIO);
    assert_int_equal(io_fault_injected(t->io), 1);
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    assert_false(h->broken);
    assert_true(h->n > 0);
    assert_true(tc_count_tmp_files(t) > 0);
    free(h);
    io_sim_crash(t->sim, 3, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    for (int i = 0; i < TC_RECYCLE; i++) {
        tc_recycle_name(name, sizeof(name), i);
        int64_t v = tc_seq_file(t, name);
        if (v != 1000 + 10 * i && v != 1005 + 10 * i)
            fail_msg("after a failed close and a power loss, %s holds %lld", name, (long long)v);
    }
    s = tc_open(t);
    assert_int_equal(tc_count_tmp_files(t), 0);
    for (int i = 0; i < TC_RECYCLE; i += 43) {
        tc_recycle_name(name, sizeof(name), i);
        tc_hw_is(s, name, 1005 + 10 * i);
    }
    assert_int_equal(sxp_store_close(s), 0);
}

static void a_close_whose_exchange_fails_keeps_the_temp_names_it_filled(void **state)
{
    tc_failed_recycling_close(state, 0);
}

static void a_close_whose_fsync_of_streams_fails_keeps_the_temp_names_it_filled(void **state)
{
    tc_failed_recycling_close(state, 1);
}

/* A failed syncfs whose writes the disk drops (io_sim.c, a failed
 * syncfs): by path, which io_fault counts as an fsync_dir (lock_settle's,
 * K-6), or through a descriptor (a checkpoint's, J-11, whose path is a
 * file's: the disk is named by the store's). */
static void tc_drop_failed_syncfs(void *arg, enum io_fault_kind kind, int when, uint64_t n,
                                  const char *path, int res)
{
    struct tc *t = arg;
    (void)n;
    if ((kind == IO_FK_FSYNC_DIR || kind == IO_FK_SYNCFS) && when == 1 && res < 0)
        assert_int_equal(io_sim_fs_sync_failed(t->sim, kind == IO_FK_SYNCFS ? TC_STORE : path,
                                               IO_SIM_SYNCFAIL_DROP, 1),
                         IO_SIM_SYNCFAIL_DROP);
}

/* J-12: a log that dies during a checkpoint. "v" is busy (65 appends:
 * zeros ahead of its lines, commit.c PRE-ZEROING), then takes one more
 * line through the journal, into its zeros; "a" was journaled before it,
 * and its descriptor was closed for "v"'s (one descriptor at most). The
 * checkpoint's pin of "a" evicts "v", whose trim of its zeros fails (the
 * ftruncate): "v"'s last line is in the journal alone, so the checkpoint
 * fails and keeps the records, and after a power loss the open writes the
 * line back. (With sync_each_log the checkpoint syncs each log, pinning
 * it; by syncfs, which "a"'s eviction would choose, J-13, it pins none.) */
static void a_log_that_dies_in_a_checkpoint_keeps_the_journals_records(void **state)
{
    struct tc *t = *state;
    struct sxp_options o;
    struct sxp_err err;
    tc_options(&o);
    o.max_open_files = 1;
    o.sync_each_log = 1;
    sxp_store *s = tc_open_with(t, &o);
    assert_int_equal(tc_append(s, "a", 1), 0);
    for (int i = 1; i <= 65; i++)
        assert_int_equal(tc_append(s, "v", i), 0);
    store_set_journal_rounds(s, 1);
    assert_int_equal(tc_append(s, "v", 66), 0);
    unsigned records = tc_journal_records(t);
    assert_int_equal(records, 66); /* "a" 1, "v" 1 to 64 (growing), "v" 66 */
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FTRUNCATE, 1, -EIO, 0), 0);
    assert_int_equal(store_checkpoint(s, &err), -EIO);
    assert_int_equal(io_fault_injected(t->io), 1);
    io_fault_clear(t->io);
    assert_int_equal(tc_journal_records(t), records);
    store_abandon(s);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    s = tc_open(t);
    tc_hw_is(s, "v", 66);
    tc_hw_is(s, "a", 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* J-11 with revive.c RV-1: a failed syncfs leaves no log it covered
 * revivable unless that log was already cut back and synced. "a" is dead
 * from a failed log write after its record (its acknowledged line 2
 * unsynced in its log); the checkpoint's cut of it fails (the ftruncate),
 * then its syncfs fails and the disk drops what it was to write, line 2
 * among it. A revival's own fdatasync would succeed and vouch for that
 * dropped line, and its checkpoint void the records; so "a" refuses
 * appends until the store is reopened, and after a power loss the open
 * writes line 2 back from the journal. */
static void a_failed_checkpoint_syncfs_leaves_an_uncut_log_dead_for_good(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    struct io_fault_rule torn = {IO_FAULT_BIT(IO_FK_PWRITE), 2, -EIO, 0, 1, 5};
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 2), 0);            /* the journal's zeros are written */
    assert_int_equal(io_fault_add_rule(t->io, &torn), 0); /* 1: JOURNAL, 2: the log */
    assert_int_equal(tc_append(s, "a", 3), -EIO);
    io_fault_clear(t->io);
    store_set_checkpoint_syncfs(s, 1);
    uint64_t injected = io_fault_injected(t->io);
    io_fault_set_hook(t->io, tc_drop_failed_syncfs, t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FTRUNCATE, 1, -EIO, 0), 0);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_SYNCFS, 1, -EIO, 0), 0);
    assert_int_equal(store_checkpoint(s, &err), -EIO);
    assert_int_equal(io_fault_injected(t->io), injected + 2);
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    assert_int_equal(tc_append(s, "a", 3), -EIO);
    assert_int_equal(store_revived(s), 0);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    /* Line 2, and the failed line 3 whole from its record, as a failed
     * append may come back (J-6, revive.c RV-3). */
    assert_int_equal(tc_count(s, "a"), 3);
    tc_hw_is(s, "a", 3);
    assert_int_equal(sxp_store_close(s), 0);
}

/* J-11: a failed syncfs is a failed fdatasync of every log of the
 * checkpoint. The checkpoint fails and keeps the records; "a" and "b"
 * refuse appends until the store is reopened, while "c" takes them; after
 * a power loss (with the same page cache first, killed: once) the open
 * writes the records back, and every acknowledged event is there. */
static void tc_failed_checkpoint_syncfs(struct tc *t, int kill_first)
{
    struct sxp_err err;
    sxp_store *s = tc_journal_only_session(t);
    store_set_checkpoint_syncfs(s, 2);
    io_fault_set_hook(t->io, tc_drop_failed_syncfs, t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_SYNCFS, 1, -EIO, 0), 0);
    assert_int_equal(store_checkpoint(s, &err), -EIO);
    assert_non_null(strstr(err.msg, "syncfs"));
    assert_int_equal(io_fault_injected(t->io), 1);
    /* Through JOURNAL's descriptor, held since the open (J-11). */
    enum io_fault_kind k;
    char path[512];
    assert_int_equal(io_fault_last_injected(t->io, &k, path, sizeof(path)), 0);
    assert_int_equal(k, IO_FK_SYNCFS);
    assert_string_equal(path + strlen(path) - 8, "/JOURNAL");
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    assert_int_equal(tc_journal_records(t), 2);
    assert_int_equal(tc_append(s, "a", 3), -EIO);
    assert_int_equal(tc_append(s, "b", 3), -EIO);
    assert_int_equal(tc_append(s, "c", 2), 0);
    assert_int_equal(store_checkpoint(s, &err), -EIO); /* never voids them */
    assert_int_equal(tc_journal_records(t), 2);
    if (kill_first) {
        store_abandon(s);
        io_sim_kill(t->sim); /* the page cache stays */
        io_sim_restart(t->sim);
        s = tc_open(t);
        assert_int_equal(tc_journal_records(t), 0);
        assert_int_equal(tc_append(s, "a", 3), 0);
    }
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    tc_hw_is(s, "a", kill_first ? 3 : 2);
    tc_hw_is(s, "b", 2);
    tc_hw_is(s, "c", 2);
    assert_int_equal(tc_count(s, "a"), kill_first ? 3 : 2);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

static void a_failed_checkpoint_syncfs_fails_its_logs_until_reopened(void **state)
{
    tc_failed_checkpoint_syncfs(*state, 0);
}

static void a_failed_checkpoint_syncfs_then_a_kill_keeps_every_event(void **state)
{
    tc_failed_checkpoint_syncfs(*state, 1);
}

/* ---- recovery by syncfs (recovery/recover.c R-8) --------------------------- */

/* What a killed session leaves a recovering open, "a" and "b" at 2 over
 * "c" at 1 (the page cache kept): */
enum tc_left {
    /* their lines made durable by JOURNAL's records only (R-0) */
    TC_LEFT_JOURNAL,
    /* checkpointed: durable lines above their .seq (R-6) */
    TC_LEFT_SYNCED_LOGS,
    /* the same with the checkpoint's syncfs taken away: lines only the
     * page cache holds, as a round killed before its sync leaves them */
    TC_LEFT_CACHED_LOGS,
};

static void tc_killed_leaving(struct tc *t, enum tc_left left)
{
    struct sxp_err err;
    sxp_store *s;
    if (left == TC_LEFT_CACHED_LOGS) {
        s = tc_syncfs_checkpoint(t, 1);
    } else {
        s = tc_journal_only_session(t);
        if (left == TC_LEFT_SYNCED_LOGS)
            assert_int_equal(store_checkpoint(s, &err), 0);
    }
    store_abandon(s);
    io_sim_kill(t->sim);
    io_sim_restart(t->sim);
}

static void tc_note_syncfs(struct tc *t)
{
    t->syncfs_seen = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
}

/* Drops every syncfs when drop is set, and notes in t->syncfs_seen, and
 * t->fired, the syncfs calls made before the first call of kind on a path
 * ending in suffix; tc_syncfs_unwatch ends both. */
static void tc_syncfs_watch(struct tc *t, int drop, enum io_fault_kind kind, const char *suffix)
{
    if (drop)
        io_fault_set_drop(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    tc_arm(t, kind, suffix, 1, tc_note_syncfs);
}

static void tc_syncfs_unwatch(struct tc *t)
{
    io_fault_set_hook(t->io, NULL, NULL);
    io_fault_set_drop(t->io, 0);
}

/* A recovering open under R-8 with a bound of 1 (its syncfs calls dropped
 * when drop is set), noting in t->syncfs_seen, and t->fired, the syncfs
 * calls made before its first call of kind on a path ending in suffix. */
static sxp_store *tc_open_by_syncfs(struct tc *t, int drop, enum io_fault_kind kind,
                                    const char *suffix)
{
    store_set_open_syncfs(1);
    tc_syncfs_watch(t, drop, kind, suffix);
    sxp_store *s = tc_open(t);
    tc_syncfs_unwatch(t);
    store_set_open_syncfs(0);
    return s;
}

/* What a power loss leaves when the syncfs calls that were to make "a"
 * and "b"'s second lines and new marks durable were taken away: the new
 * .seq files empty, the logs at "c"'s one line. */
static void tc_ab_second_lines_lost(struct tc *t)
{
    assert_int_equal(tc_size(t, "streams/61.seq"), 0);
    assert_int_equal(tc_size(t, "streams/62.seq"), 0);
    assert_int_equal(tc_size(t, "streams/61.log"), tc_size(t, "streams/63.log"));
    assert_int_equal(tc_size(t, "streams/62.log"), tc_size(t, "streams/63.log"));
}

/* After a repair by syncfs (the process gone) that was to make want
 * syncfs calls since fs0, every one before the first .seq is renamed
 * into place (tc_syncfs_watch on renames): the power fails. With the
 * calls dropped, "a" and "b" lost their second lines and new marks; else
 * the store opens (running recovery when recovered is set) with "a" and
 * "b" at 2, and sxp-fsck finds it clean. */
static void tc_repaired_by_syncfs(struct tc *t, uint64_t fs0, uint64_t want, int drop,
                                  int recovered)
{
    struct sxp_stats st;
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS)) - fs0, want);
    assert_true(t->fired);
    assert_int_equal(t->syncfs_seen - fs0, want);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    if (drop) {
        tc_ab_second_lines_lost(t);
        return;
    }
    tc_abc_opened(t, &st, recovered);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* R-8 with a bound of 1: the recovering open makes what it wrote back or
 * keeps durable by syncfs, the records' logs (R-0) or the kept logs
 * (R-6), then the two .seq files (R-4): two syncfs calls, both before the
 * first .seq is renamed into place. A power loss right after keeps "a"
 * and "b" at 2. With those syncfs calls taken away, the power loss takes
 * their second lines and leaves their new .seq files empty: the syncfs
 * calls are what the open relies on. */
static void tc_recovery_by_syncfs(struct tc *t, enum tc_left left, int drop)
{
    struct sxp_stats st;
    tc_killed_leaving(t, left);
    uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    sxp_store *s = tc_open_by_syncfs(t, drop, IO_FK_RENAME, ".tmp");
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    store_abandon(s);
    tc_repaired_by_syncfs(t, fs0, 2, drop, 1);
}

static void a_recovery_syncs_the_journals_logs_by_syncfs(void **state)
{
    tc_recovery_by_syncfs(*state, TC_LEFT_JOURNAL, 0);
}

static void a_recovery_without_its_syncfs_loses_the_journals_lines(void **state)
{
    tc_recovery_by_syncfs(*state, TC_LEFT_JOURNAL, 1);
}

static void a_recovery_syncs_the_logs_it_keeps_by_syncfs(void **state)
{
    tc_recovery_by_syncfs(*state, TC_LEFT_CACHED_LOGS, 0);
}

static void a_recovery_without_its_syncfs_loses_the_kept_lines(void **state)
{
    tc_recovery_by_syncfs(*state, TC_LEFT_CACHED_LOGS, 1);
}

/* Three cases of a repair of what tc_killed_leaving(TC_LEFT_JOURNAL)
 * leaves, each on a fresh disk: run(t, c) repairs in case c, which must
 * make want[c] syncfs calls; the fdatasyncs it made must be those of case
 * 0 and extra more in case 1 (a syncfs standing for extra of them), and
 * as many in case 2 as in case 1. */
static void tc_syncfs_cases(void **state, void (*run)(struct tc *t, size_t c),
                            const uint64_t want[3], uint64_t extra)
{
    uint64_t fdatasyncs[3];
    for (size_t c = 0; c < 3; c++) {
        if (c) {
            assert_int_equal(tc_teardown(state), 0);
            assert_int_equal(tc_setup(state), 0);
        }
        struct tc *t = *state;
        tc_killed_leaving(t, TC_LEFT_JOURNAL);
        uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
        uint64_t ds0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC));
        run(t, c);
        assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS)) - fs0, want[c]);
        fdatasyncs[c] = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC)) - ds0;
    }
    assert_int_equal(fdatasyncs[1], fdatasyncs[0] + extra);
    assert_int_equal(fdatasyncs[2], fdatasyncs[1]);
}

/* The recovering open of case c: a bound of 1, the default bound, a
 * bound of 1 with sxp_options.sync_each_log. */
static void tc_open_in_case(struct tc *t, size_t c)
{
    struct sxp_options o;
    tc_options(&o);
    o.sync_each_log = c == 2;
    store_set_open_syncfs(c == 1 ? 0 : 1);
    sxp_store *s = tc_open_with(t, &o);
    store_set_open_syncfs(0);
    tc_hw_is(s, "a", 2);
    tc_hw_is(s, "b", 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* R-8's bound and its opt-out, on the same recovery (two records, two
 * kept logs, two .seq files): with a bound of 1 two syncfs calls stand
 * for exactly 4 fdatasyncs (two logs, two .seq files); with the default
 * bound (JOURNAL_SYNCFS_LOGS) and with sxp_options.sync_each_log over a
 * bound of 1, none. */
static void a_recovery_syncs_by_syncfs_from_its_bound(void **state)
{
    static const uint64_t want[3] = {2, 0, 0};
    tc_syncfs_cases(state, tc_open_in_case, want, 4);
}

/* R-8 and a torn tail (R-3): with a bound of 1 the cuts of "a" and "b"
 * wait for the syncfs after every scan, with no fdatasync of a log, while
 * the copies saved to lost+found/ keep their own syncs. A power loss right
 * after keeps the cuts (the next open finds nothing torn); with the syncfs
 * calls taken away, the torn tails are back after it. */
static void tc_cut_by_syncfs(struct tc *t, int drop)
{
    struct sxp_stats st;
    tc_torn_tails_after_kill(t, "ab");
    uint64_t torn_size = tc_size(t, "streams/61.log");
    sxp_store *s = tc_open_by_syncfs(t, drop, IO_FK_FDATASYNC, ".log");
    assert_false(t->fired); /* no log's fdatasync */
    sxp_store_stats(s, &st);
    assert_int_equal(st.rec_tails_cut, 2);
    assert_int_equal(st.rec_tails_saved, 2);
    uint64_t cut_size = tc_size(t, "streams/61.log");
    assert_true(cut_size < torn_size);
    tc_die_and_lose_power(t, s);
    if (drop) {
        assert_int_equal(tc_size(t, "streams/61.log"), torn_size);
        return;
    }
    assert_int_equal(tc_size(t, "streams/61.log"), cut_size);
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.rec_tails_cut, 0);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

static void a_recovery_by_syncfs_cuts_torn_tails_durably(void **state)
{
    tc_cut_by_syncfs(*state, 0);
}

static void a_recovery_without_its_syncfs_loses_its_cuts(void **state)
{
    tc_cut_by_syncfs(*state, 1);
}

/* R-8: a failed syncfs fails the open, as the fdatasyncs it stands for
 * would, and the disk drops what it was to write. The nth syncfs of the
 * open fails: R-0's or R-6's (nth 1), or R-4's (nth 2). It went through
 * LOCK's descriptor; JOURNAL keeps its records when R-0's failed; no .seq
 * moved (a mark must not vouch for what the failed call was to make
 * durable); and after a power loss the next open finds every acknowledged
 * event. */
static void tc_failed_recovery_syncfs(struct tc *t, enum tc_left left, unsigned nth)
{
    struct sxp_err err;
    struct sxp_stats st;
    enum io_fault_kind k;
    char path[512];
    tc_killed_leaving(t, left);
    store_set_open_syncfs(1);
    io_fault_set_hook(t->io, tc_drop_failed_syncfs, t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_SYNCFS, nth, -EIO, 0), 0);
    assert_int_equal(tc_open_fails(t, &err), -EIO);
    store_set_open_syncfs(0);
    assert_int_equal(io_fault_injected(t->io), 1);
    assert_int_equal(io_fault_last_injected(t->io, &k, path, sizeof(path)), 0);
    assert_int_equal(k, IO_FK_SYNCFS);
    assert_string_equal(path + strlen(path) - 5, "/LOCK");
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    if (nth == 1)
        assert_non_null(strstr(err.msg, "syncfs"));
    assert_int_equal(tc_journal_records(t), left == TC_LEFT_JOURNAL && nth == 1 ? 2 : 0);
    assert_int_equal(tc_seq_file(t, "a"), 1);
    assert_int_equal(tc_seq_file(t, "b"), 1);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    tc_abc_recovered(t, &st);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

static void a_failed_recovery_syncfs_of_the_journals_logs_keeps_its_records(void **state)
{
    tc_failed_recovery_syncfs(*state, TC_LEFT_JOURNAL, 1);
}

static void a_failed_recovery_syncfs_of_kept_logs_moves_no_mark(void **state)
{
    tc_failed_recovery_syncfs(*state, TC_LEFT_SYNCED_LOGS, 1);
}

static void a_failed_recovery_syncfs_of_seq_files_moves_no_mark(void **state)
{
    tc_failed_recovery_syncfs(*state, TC_LEFT_JOURNAL, 2);
}

/* ---- sxp-fsck -p by syncfs (fsck/repair.c SYNCFS) -------------------------- */

/* The syncfs calls sxp-fsck -p makes with a bound of 1 on what
 * tc_killed_leaving left: the journal's replay (when it holds records),
 * R-6's pass over every log, the chunk of .seq files. */
static uint64_t tc_fsck_syncfs_expected(enum tc_left left)
{
    return left == TC_LEFT_JOURNAL ? 3 : 2;
}

/* sxp-fsck -p on a killed session's store with a bound of 1 makes what it
 * writes back and keeps durable by syncfs, every call before the first
 * .seq is renamed into place, and marks LOCK clean: after a power loss
 * right after it, the open runs no recovery and "a" and "b" are at 2.
 * With those syncfs calls taken away, the power loss takes the second
 * lines and leaves the new .seq files empty: the calls are what the
 * repair relies on. */
static void tc_fsck_p_by_syncfs(struct tc *t, enum tc_left left, int drop)
{
    struct fsck_report r;
    tc_killed_leaving(t, left);
    uint64_t fs0 = io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_SYNCFS));
    tc_syncfs_watch(t, drop, IO_FK_RENAME, ".tmp");
    int rc = tc_fsck_run(t->io, FSCK_MODE_PREEN, 1, &r);
    tc_syncfs_unwatch(t);
    assert_int_equal(rc, FSCK_EXIT_REPAIRED);
    assert_int_equal(r.left, 0);
    fsck_report_free(&r);
    tc_repaired_by_syncfs(t, fs0, tc_fsck_syncfs_expected(left), drop, 0);
}

static void fsck_p_syncs_the_journals_logs_by_syncfs(void **state)
{
    tc_fsck_p_by_syncfs(*state, TC_LEFT_JOURNAL, 0);
}

static void fsck_p_without_its_syncfs_loses_the_journals_lines(void **state)
{
    tc_fsck_p_by_syncfs(*state, TC_LEFT_JOURNAL, 1);
}

static void fsck_p_syncs_the_logs_it_keeps_by_syncfs(void **state)
{
    tc_fsck_p_by_syncfs(*state, TC_LEFT_CACHED_LOGS, 0);
}

static void fsck_p_without_its_syncfs_loses_the_kept_lines(void **state)
{
    tc_fsck_p_by_syncfs(*state, TC_LEFT_CACHED_LOGS, 1);
}

/* sxp-fsck -p in case c: a bound of 1, the default bound (0),
 * --sync-each-log (SIZE_MAX). */
static void tc_fsck_p_in_case(struct tc *t, size_t c)
{
    static const size_t bound[3] = {1, 0, SIZE_MAX};
    struct fsck_report r;
    assert_int_equal(tc_fsck_run(t->io, FSCK_MODE_PREEN, bound[c], &r), FSCK_EXIT_REPAIRED);
    fsck_report_free(&r);
    assert_int_equal(tc_seq_file(t, "a"), 2);
    assert_int_equal(tc_seq_file(t, "b"), 2);
}

/* SYNCFS's bound and its opt-out, on the same repair (two records, three
 * logs, two .seq files): with a bound of 1 three syncfs calls stand for
 * exactly 7 fdatasyncs (the records' two logs, R-6's three, two .seq
 * files); with the default bound (JOURNAL_SYNCFS_LOGS) and with
 * --sync-each-log (SIZE_MAX), none. */
static void fsck_p_syncs_by_syncfs_from_its_bound(void **state)
{
    static const uint64_t want[3] = {3, 0, 0};
    tc_syncfs_cases(state, tc_fsck_p_in_case, want, 7);
}

/* SYNCFS: a failed syncfs fails every file it stood for, and the disk
 * drops what it was to write. The nth syncfs of sxp-fsck -p fails: the
 * journal's replay (nth 1: the run stops, status 8, JOURNAL keeps its
 * records), R-6's (nth 2: status 8), or the .seq files' (nth 3: their
 * findings are left, status 4). It went through LOCK's descriptor; no
 * .seq moved; LOCK is not marked clean; and after a power loss the next
 * open recovers every acknowledged event. */
static void tc_failed_fsck_syncfs(struct tc *t, unsigned nth)
{
    struct fsck_report r;
    struct sxp_stats st;
    enum io_fault_kind k;
    char path[512];
    tc_killed_leaving(t, TC_LEFT_JOURNAL);
    io_fault_set_hook(t->io, tc_drop_failed_syncfs, t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_SYNCFS, nth, -EIO, 0), 0);
    int rc = tc_fsck_run(t->io, FSCK_MODE_PREEN, 1, &r);
    assert_int_equal(io_fault_injected(t->io), 1);
    assert_int_equal(io_fault_last_injected(t->io, &k, path, sizeof(path)), 0);
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    assert_int_equal(k, IO_FK_SYNCFS);
    assert_string_equal(path + strlen(path) - 5, "/LOCK");
    assert_int_equal(rc, nth == 3 ? FSCK_EXIT_LEFT : FSCK_EXIT_FAILED);
    assert_true(nth == 3 ? r.fatal[0] == '\0' : strstr(r.fatal, "syncfs") != NULL);
    if (nth > 1) { /* the journal's stops the run before the walk */
        const struct fsck_finding *f = tc_finding(&r, FSCK_HW_BEHIND);
        assert_non_null(f);
        assert_int_equal(f->action, FSCK_ACT_FAILED);
        assert_non_null(strstr(f->note, "syncfs"));
    }
    fsck_report_free(&r);
    assert_int_equal(tc_journal_records(t), nth == 1 ? 2 : 0);
    assert_int_equal(tc_seq_file(t, "a"), 1);
    assert_int_equal(tc_seq_file(t, "b"), 1);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    tc_abc_recovered(t, &st);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

static void a_failed_fsck_syncfs_of_the_journals_logs_keeps_its_records(void **state)
{
    tc_failed_fsck_syncfs(*state, 1);
}

static void a_failed_fsck_syncfs_of_the_logs_moves_no_mark(void **state)
{
    tc_failed_fsck_syncfs(*state, 2);
}

static void a_failed_fsck_syncfs_of_seq_files_leaves_them(void **state)
{
    tc_failed_fsck_syncfs(*state, 3);
}

/* A failed fsync of streams/ inside the writing of the .seq files (the
 * one after their exchanges, seqfile.c RECYCLING) fails the findings they
 * repair, and sxp-fsck does not fsync streams/ again to vouch for them: a
 * kernel may drop a directory's pending entries at a failed fsync, and
 * one that then succeeds proves nothing (store_int.h ST-7). The disk
 * drops the exchanges; status 4, LOCK not marked clean; after a power
 * loss the next open recovers every acknowledged event. */
static void a_failed_fsync_of_streams_in_fsck_fails_the_seq_repairs(void **state)
{
    struct tc *t = *state;
    struct tc_held *h = calloc(1, sizeof(*h));
    struct fsck_report r;
    struct sxp_stats st;
    enum io_fault_kind k;
    char path[512];
    assert_non_null(h);
    h->t = t;
    tc_killed_leaving(t, TC_LEFT_JOURNAL);
    io_fault_set_hook(t->io, tc_held_hook, h);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FSYNC_DIR, 1, -EIO, 0), 0);
    int rc = tc_fsck_run(t->io, FSCK_MODE_PREEN, 0, &r);
    assert_int_equal(io_fault_injected(t->io), 1);
    assert_int_equal(io_fault_last_injected(t->io, &k, path, sizeof(path)), 0);
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    assert_false(h->broken);
    free(h);
    assert_string_equal(path, TC_STORE "/streams");
    assert_int_equal(rc, FSCK_EXIT_LEFT);
    const struct fsck_finding *f = tc_finding(&r, FSCK_HW_BEHIND);
    assert_non_null(f);
    assert_int_equal(f->action, FSCK_ACT_FAILED);
    fsck_report_free(&r);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    tc_abc_recovered(t, &st);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* PRE-ZEROING (commit.c): a busy log's zeros ahead, and the journal's,
 * are only a speed-up. When their write finds no room, the appends whose
 * lines were written are synced without them and acknowledged; the part
 * of the run that was written is cut off; no more zeros are tried this
 * session; and a power loss keeps every acknowledged event. */
static void zeros_ahead_that_find_no_room_fail_no_append(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    /* The session's first round writes its record, then the journal's
     * zeros (a clean close cut them). */
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_PWRITE, 2, -ENOSPC, 0), 0);
    assert_int_equal(tc_append(s, "a", 2), 0);
    assert_int_equal(store_absorbed_failures(s), 1);
    uint64_t jsize = tc_size(t, "JOURNAL");
    for (int64_t i = 3; i <= COMMIT_ZERO_AFTER + 1; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(tc_size(t, "JOURNAL") > jsize, 1); /* no zeros: it grows */
    /* Now busy: the next append lists the log in LOCK (C-4), then writes
     * its lines and zeros behind them. */
    uint64_t lines = tc_size(t, "streams/61.log");
    /* The zeros' write fills what room there was (8 KiB), then fails. */
    struct io_fault_rule full = {IO_FAULT_BIT(IO_FK_PWRITE), 3, -ENOSPC, 0, 1, 8192};
    assert_int_equal(io_fault_add_rule(t->io, &full), 0);
    assert_int_equal(tc_append(s, "a", COMMIT_ZERO_AFTER + 2), 0);
    io_fault_clear(t->io);
    assert_int_equal(store_absorbed_failures(s), 2);
    uint64_t after = tc_size(t, "streams/61.log");
    assert_true(after > lines);
    assert_true(after < lines + 4096); /* its lines: the zeros written were cut */
    assert_int_equal(tc_append(s, "a", COMMIT_ZERO_AFTER + 3), 0);
    assert_true(tc_size(t, "streams/61.log") < after + 4096); /* none tried again */
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), COMMIT_ZERO_AFTER + 3);
    assert_int_equal(sxp_store_close(s), 0);
}

/* J-6: a record names bytes at an offset its log must reach once the
 * records before it are written. A log cut shorter than that after the
 * crash is damage, not crash residue: the open refuses it and changes
 * nothing, the record and the log stay as they are for sxp-fsck. */
static void a_record_past_the_end_of_its_log_is_refused(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 2), 0); /* a journaled round */
    tc_die_and_lose_power(t, s);
    assert_int_equal(tc_journal_records(t), 1);
    int fd = t->io->open(t->io, TC_STORE "/streams/61.log", O_RDWR, 0);
    assert_true(fd >= 0);
    assert_int_equal(t->io->ftruncate(t->io, fd, 5), 0); /* into seq 1's line */
    assert_int_equal(t->io->fdatasync(t->io, fd), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);

    assert_int_equal(tc_open_fails(t, &err), -EUCLEAN);
    assert_non_null(strstr(err.msg, "streams/61.log is 5 bytes, shorter than the record"));
    assert_int_equal(tc_journal_records(t), 1);
    assert_int_equal(tc_size(t, "streams/61.log"), 5);
    struct fsck_report r;
    assert_int_equal(tc_fsck_report(t, FSCK_MODE_CHECK, &r), FSCK_EXIT_LEFT);
    const struct fsck_finding *f = tc_finding(&r, FSCK_JOURNAL_ORPHAN);
    assert_non_null(f);
    assert_int_equal(f->a, 5); /* where the log ends */
    fsck_report_free(&r);
    /* -y keeps the record's lines in lost+found/, and the store opens. */
    assert_int_equal(tc_fsck(t, FSCK_MODE_YES), FSCK_EXIT_REPAIRED);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    sxp_store *s2 = tc_open(t);
    assert_int_equal(tc_count(s2, "b"), 1);
    assert_int_equal(sxp_store_close(s2), 0);
}

/* J-6: a record whose log is missing after the crash is damage (the
 * stream was created, its names synced, before its first record): the
 * open refuses it and changes nothing. sxp-fsck -n and -p report a
 * journal-orphan and write nothing back; -y copies the record's lines to
 * lost+found/, writes the other records back, and the store opens. With
 * dir, a directory stands where the log was. */
static void tc_orphan_record_repaired(struct tc *t, int dir)
{
    struct sxp_err err;
    struct fsck_report r;
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 2), 0); /* journaled rounds */
    assert_int_equal(tc_append(s, "b", 2), 0);
    tc_die_and_lose_power(t, s);
    assert_int_equal(tc_journal_records(t), 2);
    assert_int_equal(t->io->unlink(t->io, TC_STORE "/streams/61.log"), 0);
    if (dir)
        assert_int_equal(t->io->mkdir(t->io, TC_STORE "/streams/61.log", 0755), 0);

    assert_int_equal(tc_open_fails(t, &err), -EUCLEAN);
    assert_non_null(strstr(err.msg, dir ? "streams/61.log, which cannot be opened (Is a directory)"
                                        : "streams/61.log, which is missing"));
    for (int m = 0; m < 2; m++) {
        assert_int_equal(tc_fsck_report(t, m ? FSCK_MODE_PREEN : FSCK_MODE_CHECK, &r),
                         FSCK_EXIT_LEFT);
        const struct fsck_finding *f = tc_finding(&r, FSCK_JOURNAL_ORPHAN);
        assert_non_null(f);
        assert_string_equal(f->file, "streams/61.log");
        assert_int_equal(f->a, dir ? -2 : -1);
        assert_int_equal(f->action, FSCK_ACT_NONE);
        f = tc_finding(&r, FSCK_JOURNAL_PENDING);
        assert_non_null(f);
        assert_int_equal(f->action, FSCK_ACT_NONE);
        fsck_report_free(&r);
        assert_int_equal(tc_journal_records(t), 2);
    }

    assert_int_equal(tc_fsck_report(t, FSCK_MODE_YES, &r), FSCK_EXIT_REPAIRED);
    const struct fsck_finding *f = tc_finding(&r, FSCK_JOURNAL_ORPHAN);
    assert_non_null(f);
    assert_int_equal(f->action, FSCK_ACT_MOVED);
    assert_non_null(f->moved_to);
    char lf[256];
    snprintf(lf, sizeof(lf), "%s/%s", TC_STORE, f->moved_to);
    uint64_t size = 0;
    assert_int_equal(t->io->stat(t->io, lf, &size, NULL), 0);
    assert_int_equal(size, f->len);
    assert_true(size > 0);
    fsck_report_free(&r);
    assert_int_equal(tc_journal_records(t), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

static void a_record_whose_log_is_missing_is_refused_and_fsck_y_repairs_it(void **state)
{
    tc_orphan_record_repaired(*state, 0);
}

/* The same when a directory stands where the log was: sxp-fsck -n and -p
 * reported it before, but -y stopped (exit 8) with the open's own "run
 * sxp-fsck"; now the record is a journal-orphan as for a missing log, and
 * the directory, a foreign file, goes to lost+found/ too. */
static void a_record_whose_log_is_a_directory_is_refused_and_fsck_y_repairs_it(void **state)
{
    tc_orphan_record_repaired(*state, 1);
}

/* A new stream "z" whose first append, acknowledged through the journal
 * beside one to "a", lost its line at a power loss: its log is empty, and
 * the record that holds the line is not written back yet. */
static void tc_new_stream_only_in_the_journal(struct tc *t)
{
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 2), 0); /* journaled rounds */
    assert_int_equal(tc_append(s, "z", 1), 0); /* creates z */
    tc_die_and_lose_power(t, s);
    assert_int_equal(tc_journal_records(t), 2);
    assert_int_equal(tc_size(t, "streams/7a.log"), 0); /* its line was in the page cache */
}

/* R-4b under sxp-fsck -p: a new stream's first append, acknowledged
 * through the journal, whose log lost its lines at the power loss, is
 * not unborn: its record is pending. When another record is an orphan,
 * -p writes no record back (they wait for -y), so the log is still empty
 * when its seq-missing is repaired; -p must leave it for -y to write the
 * record into, not remove it as an unborn stream's. */
static void fsck_p_keeps_a_new_log_whose_record_is_not_written_back(void **state)
{
    struct tc *t = *state;
    struct fsck_report r;
    tc_new_stream_only_in_the_journal(t);
    assert_int_equal(t->io->unlink(t->io, TC_STORE "/streams/61.log"), 0);
    assert_int_equal(tc_fsck_report(t, FSCK_MODE_PREEN, &r), FSCK_EXIT_LEFT);
    assert_non_null(tc_finding(&r, FSCK_JOURNAL_ORPHAN));
    fsck_report_free(&r);
    assert_true(tc_exists(t, "streams/7a.log"));  /* fails: -p removed it */
    assert_false(tc_exists(t, "streams/7a.seq")); /* -y writes it, after the records */
    assert_int_equal(tc_fsck(t, FSCK_MODE_YES), FSCK_EXIT_REPAIRED);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_count(s, "z"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* The same under a JOURNAL whose header does not check (journal-header,
 * J-8): its records cannot be read to say which logs they name, so -n and
 * -p call no log unborn; -y saves the whole journal in lost+found/ first. */
static void fsck_p_keeps_an_empty_log_behind_a_damaged_journal_header(void **state)
{
    struct tc *t = *state;
    struct fsck_report r;
    tc_new_stream_only_in_the_journal(t);
    int fd = t->io->open(t->io, TC_STORE "/JOURNAL", O_RDWR, 0);
    char c;
    assert_true(fd >= 0);
    assert_int_equal(t->io->pread(t->io, fd, &c, 1, 5), 1);
    c ^= 0x20; /* the header no longer checks */
    assert_int_equal(t->io->pwrite(t->io, fd, &c, 1, 5), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);
    for (int m = 0; m < 2; m++) {
        assert_int_equal(tc_fsck_report(t, m ? FSCK_MODE_PREEN : FSCK_MODE_CHECK, &r),
                         FSCK_EXIT_LEFT);
        assert_non_null(tc_finding(&r, FSCK_JOURNAL_HEADER));
        const struct fsck_finding *f = tc_finding(&r, FSCK_SEQ_MISSING);
        assert_non_null(f);
        assert_int_equal(f->a, 0); /* not called unborn */
        assert_int_equal(f->c, 1); /* held for -y */
        assert_int_equal(f->action, FSCK_ACT_NONE);
        fsck_report_free(&r);
        assert_true(tc_exists(t, "streams/7a.log"));  /* -p removed it before */
        assert_false(tc_exists(t, "streams/7a.seq")); /* nor is "0" written for it */
    }
    assert_int_equal(tc_fsck_report(t, FSCK_MODE_YES, &r), FSCK_EXIT_REPAIRED);
    const struct fsck_finding *f = tc_finding(&r, FSCK_JOURNAL_HEADER);
    assert_non_null(f);
    assert_int_equal(f->action, FSCK_ACT_MOVED); /* z's event is kept there */
    fsck_report_free(&r);
    assert_false(tc_exists(t, "streams/7a.log"));
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* C-5: the checkpoint a round runs after its appends are durable fails
 * none of them. Here the fdatasync of "a"'s log fails in it: "b"'s append
 * is acknowledged all the same (its record is synced), "a" refuses writes
 * (IO-5), the journal is not used again, and after a power loss the
 * records the checkpoint could not drop bring both events back. */
static void a_failed_checkpoint_in_a_round_fails_none_of_its_appends(void **state)
{
    struct tc *t = *state;
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    store_set_checkpoint_logs(s, 2);
    assert_int_equal(tc_append(s, "a", 2), 0);
    /* b's round: the journal's sync (1st), then the checkpoint's of a (2nd). */
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 2, -EIO, 0), 0);
    assert_int_equal(store_absorbed_failures(s), 0);
    assert_int_equal(tc_append(s, "b", 2), 0);
    assert_int_equal(store_absorbed_failures(s), 1);
    io_fault_clear(t->io);
    assert_int_equal(tc_append(s, "a", 3), -EIO);
    assert_int_equal(tc_append(s, "c", 2), 0);
    assert_int_equal(tc_journal_records(t), 2);
    assert_true(sxp_store_close(s) < 0); /* a's failure, and the journal kept */
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    s = tc_open(t);
    tc_hw_is(s, "a", 2);
    tc_hw_is(s, "b", 2);
    tc_hw_is(s, "c", 2);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* C-4: a journaled round whose log write fails part way (after its record
 * was synced) leaves a torn line in a log no list names: its record must
 * stay until the log is cut back, so a crash before that brings the failed
 * append back whole (J-6, revive.c RV-3), as recovery may any failed one. */
static void tc_fail_a_log_write_after_its_record(struct tc *t, sxp_store *s)
{
    struct io_fault_rule rule = {IO_FAULT_BIT(IO_FK_PWRITE), 2, -EIO, 0, 1, 5};
    assert_int_equal(tc_append(s, "b", 2), 0);            /* the journal's zeros are written */
    assert_int_equal(io_fault_add_rule(t->io, &rule), 0); /* 1: JOURNAL, 2: the log */
    assert_int_equal(tc_append(s, "a", 2), -EIO);
    io_fault_clear(t->io);
    assert_int_equal(tc_journal_records(t), 2);
    assert_int_equal(tc_count(s, "a"), 1); /* E-3: not seen */
}

static void a_failed_log_write_after_its_record_comes_back_after_a_crash(void **state)
{
    struct tc *t = *state;
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    tc_fail_a_log_write_after_its_record(t, s);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2); /* synced in the journal: kept */
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* A failed fdatasync of JOURNAL (a session's first appends go through it)
 * fails its round's appends (E-1), and the journal is not used again this
 * session. The log of "a" was never written, so it is revived at its next
 * append, once a checkpoint has voided the record (revive.c RV-3); other
 * streams go on; nothing of the failed append is read, then or after a
 * power loss. (A failed fdatasync of a log itself: tc_sync_failure_stays_dead.) */
static void a_failed_journal_sync_fails_its_round_and_the_streams_go_on(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(tc_append(s, "b", 1), 0);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 0), 0);
    assert_int_equal(tc_append(s, "a", 2), -EIO);
    enum io_fault_kind kind;
    char path[256];
    assert_int_equal(io_fault_last_injected(t->io, &kind, path, sizeof(path)), 0);
    assert_non_null(strstr(path, "/JOURNAL"));
    io_fault_clear(t->io);
    assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(tc_append(s, "a", 3), 0);
    assert_int_equal(store_revived(s), 1);
    assert_int_equal(tc_append(s, "b", 2), 0);
    assert_int_equal(tc_count(s, "a"), 2);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2);
    tc_hw_is(s, "a", 3);
    tc_hw_is(s, "b", 2);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* REVIVAL (revive.c RV-2..RV-4): the next append to that stream cuts its
 * log back, checkpoints the journal so that the failed append's record is
 * gone, and goes on. Here it is a big append, made durable by the log's
 * own fdatasync and recorded nowhere else: had the stale record stayed, a
 * crash would write the failed line back over it. */
static void a_failed_log_write_after_its_record_is_revived_after_a_checkpoint(void **state)
{
    struct tc *t = *state;
    tc_abc_at_1(t);
    sxp_store *s = tc_open(t);
    tc_fail_a_log_write_after_its_record(t, s);
    assert_int_equal(store_revived(s), 0);
    assert_int_equal(tc_append_padded(s, "a", 2, 40 << 10), 0);
    assert_int_equal(store_revived(s), 1);
    assert_int_equal(tc_journal_records(t), 0);
    assert_int_equal(tc_count(s, "a"), 2);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2);
    tc_hw_is(s, "a", 2);
    tc_hw_is(s, "b", 2);
    assert_int_equal(sxp_store_close(s), 0);
    assert_true(tc_size(t, "streams/61.log") > 40 << 10); /* the big line */
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* sxp_store_stats: streams refusing writes now, and revived so far. */
static void tc_refusing_revived(sxp_store *s, uint64_t refusing, uint64_t revived)
{
    struct sxp_stats st;
    sxp_store_stats(s, &st);
    assert_int_equal(st.refusing, refusing);
    assert_int_equal(st.revived, revived);
}

/* REVIVAL (revive.c): a full disk fails a big append part way through its
 * log write. The stream takes writes again at its next append, with
 * nothing of the failed one in the log; while the disk stays full each
 * append fails the same way; the close is clean. */
static void a_stream_whose_log_write_failed_takes_writes_again(void **state)
{
    struct tc *t = *state;
    enum io_fault_kind kind;
    char path[256];
    sxp_store *s = tc_ab_a_listed(t);
    uint64_t size = tc_size(t, "streams/61.log");
    struct io_fault_rule full = {IO_FAULT_BIT(IO_FK_PWRITE), 1, -ENOSPC, 1, 1, 1000};
    assert_int_equal(io_fault_add_rule(t->io, &full), 0);
    assert_int_equal(tc_append_padded(s, "a", 3, 40 << 10), -ENOSPC);
    assert_int_equal(io_fault_last_injected(t->io, &kind, path, sizeof(path)), 0);
    assert_non_null(strstr(path, "/61.log"));
    assert_int_equal(tc_size(t, "streams/61.log"), size + 1000); /* a torn part */
    assert_int_equal(tc_count(s, "a"), 2);
    tc_refusing_revived(s, 1, 0);
    /* Still full: the log is cut back, and the write fails again. */
    assert_int_equal(tc_append_padded(s, "a", 3, 40 << 10), -ENOSPC);
    assert_int_equal(store_revived(s), 1);
    assert_int_equal(tc_size(t, "streams/61.log"), size + 1000);
    io_fault_clear(t->io); /* room again */
    tc_refusing_revived(s, 1, 1);
    assert_int_equal(tc_append(s, "a", 3), 0);
    assert_int_equal(store_revived(s), 2);
    tc_refusing_revived(s, 0, 2);
    assert_int_equal(tc_count(s, "a"), 3);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    struct sxp_stats st;
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 0);
    assert_int_equal(tc_count(s, "a"), 3);
    tc_hw_is(s, "a", 3);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* The close revives a stream no append came back to: it cuts the log,
 * and the store is closed clean, with only what was acknowledged. */
static void the_close_revives_a_stream_whose_log_write_failed(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_ab_a_listed(t);
    uint64_t size = tc_size(t, "streams/61.log");
    struct io_fault_rule torn = {IO_FAULT_BIT(IO_FK_PWRITE), 1, -EIO, 0, 1, 1000};
    assert_int_equal(io_fault_add_rule(t->io, &torn), 0);
    assert_int_equal(tc_append_padded(s, "a", 3, 40 << 10), -EIO);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_size(t, "streams/61.log"), size);
    s = tc_open(t);
    struct sxp_stats st;
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 0);
    tc_hw_is(s, "a", 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* Under SXP_SYNC_NONE the revival cuts the log without a sync: a full
 * disk there too needs no reopen. */
static void an_unsynced_session_revives_a_stream_whose_log_write_failed(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open_unsynced(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    uint64_t size = tc_size(t, "streams/61.log");
    struct io_fault_rule torn = {IO_FAULT_BIT(IO_FK_PWRITE), 1, -ENOSPC, 0, 1, 5};
    assert_int_equal(io_fault_add_rule(t->io, &torn), 0);
    assert_int_equal(tc_append(s, "a", 2), -ENOSPC);
    assert_int_equal(tc_size(t, "streams/61.log"), size + 5);
    assert_int_equal(tc_append(s, "a", 2), 0);
    assert_int_equal(store_revived(s), 1);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2);
    tc_hw_is(s, "a", 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* A power loss in the middle of a revival, before its cut or before the
 * cut's fdatasync (in every way io_sim loses unsynced bytes), keeps every
 * acknowledged event; the failed append's torn part is crash residue. */
static void a_power_loss_during_a_revival_keeps_every_acknowledged_event(void **state)
{
    struct tc *t = *state;
    static const enum io_fault_kind at[] = {IO_FK_FTRUNCATE, IO_FK_FDATASYNC};
    struct sxp_err err;
    int64_t hw = 1;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(sxp_store_close(s), 0);
    for (tc_sim_seed = 1; tc_sim_seed <= 8; tc_sim_seed++) {
        s = tc_open(t);
        assert_int_equal(tc_append_padded(s, "a", ++hw, 40 << 10), 0); /* listed */
        struct io_fault_rule torn = {IO_FAULT_BIT(IO_FK_PWRITE), 1, -ENOSPC, 0, 1, 1000};
        assert_int_equal(io_fault_add_rule(t->io, &torn), 0);
        assert_int_equal(tc_append_padded(s, "a", hw + 1, 40 << 10), -ENOSPC);
        io_fault_clear(t->io);
        tc_arm(t, at[tc_sim_seed % 2], "/61.log", 1, tc_lose_power_now);
        assert_int_not_equal(tc_append(s, "a", hw + 1), 0); /* its revival */
        assert_int_equal(t->fired, 1);
        io_fault_set_hook(t->io, NULL, NULL);
        store_abandon(s);
        io_sim_restart(t->sim);
        s = tc_open(t);
        int64_t now = 0;
        assert_int_equal(sxp_stream_last_seq(s, "a", 1, &now, &err), 0);
        assert_int_equal(now, hw);
        assert_int_equal(tc_count(s, "a"), (size_t)hw);
        assert_int_equal(sxp_store_close(s), 0);
        assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    }
}

/* A truncate of a stream whose log write failed revives it first, then
 * drops the events it names; the failed append is in neither. */
static void a_truncate_revives_a_stream_whose_log_write_failed(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_ab_a_listed(t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_PWRITE, 1, -ENOSPC, 0), 0);
    assert_int_equal(tc_append_padded(s, "a", 3, 40 << 10), -ENOSPC);
    assert_int_equal(sxp_stream_truncate(s, "a", 1, 1, &err), 0);
    assert_int_equal(store_revived(s), 1);
    assert_int_equal(tc_count(s, "a"), 1);
    tc_hw_is(s, "a", 2);
    assert_int_equal(tc_append(s, "a", 3), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2);
    tc_hw_is(s, "a", 3);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* RV-1 (IO-5): after a failed fdatasync of a log (cut 0), or of the cut
 * that would revive it after a failed write (cut 1), the stream refuses
 * writes until the store is reopened, fault or no fault; the reopen
 * recovers it. */
static void tc_sync_failure_stays_dead(struct tc *t, int cut)
{
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = tc_ab_a_listed(t);
    if (cut) {
        assert_int_equal(io_fault_fail_nth(t->io, IO_FK_PWRITE, 1, -ENOSPC, 0), 0);
        assert_int_equal(tc_append_padded(s, "a", 3, 40 << 10), -ENOSPC);
    }
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 0), 0);
    assert_true(tc_append_padded(s, "a", 3, 40 << 10) < 0);
    io_fault_clear(t->io);
    sxp_value *ev = tu_padded_event(3, 10);
    assert_int_equal(sxp_stream_append(s, "a", 1, ev, &err), -EIO);
    sxp_value_free(ev);
    assert_non_null(strstr(err.msg, "until the store is reopened"));
    assert_int_equal(store_revived(s), 0);
    tc_refusing_revived(s, 1, 0);
    assert_int_equal(sxp_store_close(s), -EIO);
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    /* The failed round's line may be kept whole, as after any crash. */
    int64_t hw = 0;
    assert_int_equal(sxp_stream_last_seq(s, "a", 1, &hw, &err), 0);
    assert_true(hw == 2 || hw == 3);
    assert_int_equal(tc_count(s, "a"), (size_t)hw);
    assert_int_equal(tc_append(s, "a", hw + 1), 0);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

static void a_stream_whose_log_sync_failed_stays_dead_until_reopened(void **state)
{
    tc_sync_failure_stays_dead(*state, 0);
}

static void a_stream_whose_revival_sync_failed_stays_dead_until_reopened(void **state)
{
    tc_sync_failure_stays_dead(*state, 1);
}

/* A failed fdatasync whose writes the disk drops (io_sim.c, a failed file
 * fdatasync): as a kernel's failed writeback, it leaves the round's lines
 * in the page cache, where reads see them, though no later fdatasync
 * writes them. */
static void tc_drop_failed_sync(void *arg, enum io_fault_kind kind, int when, uint64_t n,
                                const char *path, int res)
{
    struct tc *t = arg;
    (void)n;
    if (kind == IO_FK_FDATASYNC && when == 1 && res < 0)
        assert_int_equal(io_sim_file_sync_failed(t->sim, path, IO_SIM_SYNCFAIL_DROP, 1),
                         IO_SIM_SYNCFAIL_DROP);
}

/* R-6: the open after a session whose fdatasync of a log failed, in the
 * same boot, sees the failed round's lines in the page cache as good ones.
 * If it synced them with an fdatasync alone, they would stay as the disk
 * has them (not written), while the recovered .seq vouches for them and
 * the next acknowledged append lands after them: the power loss that
 * follows would leave a hole under acknowledged events (the open refused
 * the store: "the high-water mark says an event ... was durable"). */
static void tc_dropped_sync_then_repaired(struct tc *t, int fsck)
{
    struct sxp_err err;
    sxp_store *s = tc_ab_a_listed(t);
    io_fault_set_hook(t->io, tc_drop_failed_sync, t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 0), 0);
    assert_true(tc_append_padded(s, "a", 3, 40 << 10) < 0);
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    assert_int_equal(sxp_store_close(s), -EIO);
    /* The same boot: the page cache shows seq 3. sxp-fsck -p repairs as
     * recovery does (fsck/repair.c), and leaves the store clean. */
    if (fsck)
        assert_true(tc_fsck(t, FSCK_MODE_PREEN) <= FSCK_EXIT_REPAIRED);
    s = tc_open(t);
    int64_t hw = 0;
    assert_int_equal(sxp_stream_last_seq(s, "a", 1, &hw, &err), 0);
    assert_true(hw == 2 || hw == 3);
    assert_int_equal(tc_append(s, "a", hw + 1), 0);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    int64_t after = 0;
    assert_int_equal(sxp_stream_last_seq(s, "a", 1, &after, &err), 0);
    assert_int_equal(after, hw + 1);
    assert_int_equal(tc_count(s, "a"), (size_t)hw + 1);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

static void a_log_whose_dropped_sync_failed_is_made_durable_by_the_next_open(void **state)
{
    tc_dropped_sync_then_repaired(*state, 0);
}

static void a_log_whose_dropped_sync_failed_is_made_durable_by_fsck_p(void **state)
{
    tc_dropped_sync_then_repaired(*state, 1);
}

/* J-6: a replay forgets LOCK's list before it empties the journal, so a
 * recovery killed right after that reads every log the next time. */
static void a_recovery_cut_short_after_its_replay_reads_every_log(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = tc_journal_only_session(t);
    tc_die_and_lose_power(t, s);
    tc_arm(t, IO_FK_FDATASYNC, "/JOURNAL", 1, tc_kill); /* the replay's reset */
    (void)tc_open_fails(t, &err);
    assert_true(t->fired);
    io_fault_set_hook(t->io, NULL, NULL);
    io_sim_restart(t->sim);
    assert_int_equal(tc_journal_records(t), 0);
    tc_abc_recovered(t, &st);
    assert_int_equal(st.rec_logs_scanned, 3);
}

/* ---- K-6: what a session without syncs left ------------------------------ */

/* A session under SXP_SYNC_NONE creates the store, appends to "a", puts kv
 * "k" and a blob, and closes cleanly (or, when killed, is killed): all of it
 * is in the page cache and none of it durable. */
static void tc_unsynced_session(struct tc *t, int killed)
{
    sxp_store *s = NULL;
    s = tc_open_unsynced(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(tc_kv_put(s, "k", "1"), 0);
    assert_int_equal(tc_blob_put(s, "unsynced blob"), 0);
    if (killed)
        store_abandon(s);
    else
        assert_int_equal(sxp_store_close(s), 0);
    io_sim_kill(t->sim);
    io_sim_restart(t->sim);
}

/* After the power loss: the unsynced session's writes whole, the syncing
 * one's acknowledged ops there, and sxp-fsck finds nothing. */
static void tc_unsynced_then_synced_all_there(struct tc *t)
{
    sxp_store *s = tc_open(t); /* FORMAT read back whole */
    assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(tc_kv_has(s, "k"), 1);
    assert_int_equal(tc_kv_has(s, "j"), 1);
    assert_int_equal(tc_blob_has(s, "unsynced blob"), 1);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

/* K-6: a syncing session after an unsynced one acknowledges a new stream
 * and a kv put, each of which fsyncs its directory, then the power fails
 * with every unsynced byte and name lost (or, by seed, some of them). The
 * syncing open made the unsynced session's files durable before it synced
 * anything, so none of them is empty and the store is still there: without
 * that, its names were durable before its bytes (an empty FORMAT failed the
 * open), or not at all (the store's own name in /s was never synced). */
static void tc_synced_after_unsynced(void **state, int killed)
{
    for (int mode = IO_SIM_LOSE_ALL; mode < IO_SIM_MODE_COUNT; mode++) {
        struct tc *t = NULL;
        assert_int_equal(tc_setup((void **)&t), 0);
        tc_unsynced_session(t, killed);
        sxp_store *s = tc_open(t);
        assert_int_equal(tc_append(s, "b", 1), 0);
        assert_int_equal(tc_kv_put(s, "j", "2"), 0);
        store_abandon(s);
        io_sim_crash(t->sim, 7 + (uint64_t)mode, (enum io_sim_mode)mode);
        io_sim_restart(t->sim);
        tc_unsynced_then_synced_all_there(t);
        assert_int_equal(tc_teardown((void **)&t), 0);
    }
    (void)state;
}

static void a_syncing_open_after_a_clean_unsynced_session_makes_it_durable(void **state)
{
    tc_synced_after_unsynced(state, 0);
}

static void a_syncing_open_after_a_killed_unsynced_session_makes_it_durable(void **state)
{
    tc_synced_after_unsynced(state, 1);
}

/* sxp-fsck -p with syncs after a killed unsynced session settles it too:
 * its repairs (and the "clean" it writes) are then durable over whole
 * files. */
static void fsck_repairs_after_an_unsynced_session_make_it_durable(void **state)
{
    struct tc *t = *state;
    tc_unsynced_session(t, 1);
    int rc = tc_fsck(t, FSCK_MODE_PREEN);
    assert_true(rc == FSCK_EXIT_CLEAN || rc == FSCK_EXIT_REPAIRED);
    io_sim_crash(t->sim, 5, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(tc_kv_has(s, "k"), 1);
    assert_int_equal(tc_blob_has(s, "unsynced blob"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* K-6 after a failed syncfs: the syncing open that settles an unsynced
 * session fails with the syncfs's error. The disk marked the session's
 * pages clean all the same, so a retry's syncfs succeeds without them;
 * the syncing session that follows must still leave a store that opens
 * after a power loss, with what it acknowledged. */
static void tc_failed_syncfs_then_synced(struct tc *t, int killed, int fsck)
{
    struct sxp_err err;
    tc_unsynced_session(t, killed);
    io_fault_set_hook(t->io, tc_drop_failed_syncfs, t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FSYNC_DIR, 1, -EIO, 0), 0);
    if (fsck) {
        assert_int_equal(tc_fsck(t, FSCK_MODE_PREEN), FSCK_EXIT_FAILED);
    } else {
        assert_int_equal(tc_open_fails(t, &err), -EIO);
        assert_non_null(strstr(err.msg, "syncfs "));
        assert_non_null(strstr(err.msg, "writes the store's files again"));
    }
    assert_int_equal(io_fault_injected(t->io), 1);
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    /* sxp-fsck -n reports it and leaves it (settle-pending); -p, when it
     * is the next, writes every file again and syncs. */
    struct fsck_report r;
    assert_int_equal(tc_fsck_report(t, fsck ? FSCK_MODE_PREEN : FSCK_MODE_CHECK, &r),
                     fsck ? FSCK_EXIT_REPAIRED : FSCK_EXIT_LEFT);
    const struct fsck_finding *f = tc_finding(&r, FSCK_SETTLE_PENDING);
    assert_non_null(f);
    assert_int_equal(f->action, fsck ? FSCK_ACT_SETTLED : FSCK_ACT_NONE);
    fsck_report_free(&r);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "b", 1), 0);
    assert_int_equal(tc_kv_put(s, "j", "2"), 0);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(tc_kv_has(s, "j"), 1);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

static void a_syncing_open_after_a_failed_syncfs_of_a_clean_unsynced_session(void **state)
{
    tc_failed_syncfs_then_synced(*state, 0, 0);
}

static void a_syncing_open_after_a_failed_syncfs_of_a_killed_unsynced_session(void **state)
{
    tc_failed_syncfs_then_synced(*state, 1, 0);
}

static void a_syncing_open_after_fsck_p_failed_its_syncfs(void **state)
{
    tc_failed_syncfs_then_synced(*state, 1, 1);
}

/* K-8: an unsynced session that is killed (the page cache stays, the boot
 * too) has listed the bucket of "a" in LOCK without syncs; the next open
 * settles the store and recovers only the logs in that bucket, and what
 * the session acknowledged survives a power loss after that open. */
static void a_killed_unsynced_session_is_recovered_over_the_logs_it_listed(void **state)
{
    struct tc *t = *state;
    struct sxp_stats st;
    tc_abc_at_1(t);
    sxp_store *s = tc_open_unsynced(t);
    assert_int_equal(tc_append(s, "a", 2), 0);
    store_abandon(s);
    io_sim_kill(t->sim); /* the page cache stays, and the boot */
    io_sim_restart(t->sim);
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    unsigned ba = lock_dirty_bucket("61", 2), want = 1;
    want += lock_dirty_bucket("62", 2) == ba;
    want += lock_dirty_bucket("63", 2) == ba;
    assert_int_equal(st.rec_logs_scanned, want);
    assert_int_equal(st.rec_logs_skipped, 3 - want);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(sxp_store_close(s), 0);
    io_sim_crash(t->sim, 9, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* K-2 in every mode, K-6: an unsynced session's mark is durable, so a power
 * loss in it is seen (the next open recovers), and its dirty list, written
 * without syncs, is not trusted after it (K-8: recovery reads every log). */
static void a_power_loss_in_an_unsynced_session_is_recovered_over_every_log(void **state)
{
    struct tc *t = *state;
    struct sxp_stats st;
    tc_abc_at_1(t);
    sxp_store *s = tc_open_unsynced(t);
    assert_int_equal(tc_append(s, "a", 2), 0);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.rec_logs_scanned, 3);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* K-6: "clean unsynced B" reads clean in boot B only. A reopen after a
 * process kill trusts it (no recovery); after a power loss, even one that
 * kept every byte, the next open recovers, reading every log. */
static void a_clean_unsynced_close_is_trusted_only_in_its_boot(void **state)
{
    struct tc *t = *state;
    struct sxp_stats st;
    sxp_store *s = NULL;
    tc_unsynced_session(t, 0); /* closed cleanly, then the process died */
    s = tc_open_unsynced(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 0);
    assert_int_equal(tc_append(s, "b", 1), 0);
    assert_int_equal(sxp_store_close(s), 0);
    io_sim_crash(t->sim, 3, IO_SIM_KEEP_ALL);
    io_sim_restart(t->sim);
    s = tc_open_unsynced(t);
    sxp_store_stats(s, &st);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.rec_logs_scanned, 2);
    assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* 1 when ROOT-relative file rel on sim is not empty and reads as NUL
 * bytes: all of it, or with last_only its last byte (a line lost under
 * the file's size). */
static int tc_zero_filled(struct sxp_io *sim, const char *rel, int last_only)
{
    char path[256], buf[4096];
    uint64_t size = 0;
    int zero = 0;
    snprintf(path, sizeof(path), "%s/%s", TC_STORE, rel);
    int fd = sim->open(sim, path, O_RDONLY, 0);
    if (fd < 0)
        return 0;
    if (sim->fsize(sim, fd, &size) == 0 && size > 0) {
        uint64_t from = last_only ? size - 1 : 0, n = size - from;
        if (n <= sizeof(buf) && sim->pread(sim, fd, buf, (size_t)n, from) == (ssize_t)n) {
            zero = 1;
            for (uint64_t i = 0; i < n; i++)
                zero = zero && buf[i] == '\0';
        }
    }
    (void)sim->close(sim, fd);
    return zero;
}

/* K-6, "cannot hide damage" (docs/durability.md, Under SXP_SYNC_NONE): a
 * session under SXP_SYNC_NONE replaces a key's value, closes, and the
 * power fails before anything syncs. The disk may keep the rename and the
 * new file's size but none of its bytes (a zero-filled file, the
 * simulated disk's sectors outcome; XFS has left such files). The value
 * was not promised, but a zero-filled value file is damage: kv-get must
 * fail naming it and sxp-fsck -n must report it as corruption (frame.h).
 * Before that rule the NUL bytes read as a legacy value (no checksum) that
 * parsed as a symbol: kv-get returned a value that was never put, and
 * sxp-fsck only warned (legacy-line). Found by sxp-crash --mode sim,
 * UNSYNCED SESSIONS U-3. */
static void a_zero_filled_kv_value_after_an_unsynced_put_is_damage_not_a_value(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    struct fsck_report r;
    sxp_value *v = NULL;
    uint64_t seed = 0;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_kv_put(s, "k", "{:v 1}"), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open_unsynced(t);
    assert_int_equal(tc_kv_put(s, "k", "{:v 2}"), 0);
    assert_int_equal(sxp_store_close(s), 0);
    io_sim_kill(t->sim);
    io_sim_restart(t->sim);
    /* The first power loss that leaves kv/6b zero-filled. */
    for (uint64_t k = 1; k <= 1024 && seed == 0; k++) {
        struct sxp_io *c = NULL;
        assert_int_equal(io_sim_clone(t->sim, &c), 0);
        io_sim_crash(c, k, IO_SIM_SECTORS);
        io_sim_restart(c);
        if (tc_zero_filled(c, "kv/6b", 0))
            seed = k;
        c->destroy(c);
    }
    assert_true(seed != 0);
    io_sim_crash(t->sim, seed, IO_SIM_SECTORS);
    io_sim_restart(t->sim);
    assert_true(tc_zero_filled(t->sim, "kv/6b", 0));

    s = tc_open(t);
    int rc = sxp_kv_get(s, "k", 1, &v, &err);
    if (rc == 0) {
        size_t len = 0;
        (void)sxp_value_as_str(v, &len);
        fail_msg("kv-get of the zero-filled kv/6b returned a value never put (type %d, a "
                 "symbol of %zu NUL bytes when 5) instead of an error",
                 (int)sxp_value_type(v), len);
    }
    assert_true(rc == -EUCLEAN || rc == -EBADMSG);
    assert_non_null(strstr(err.msg, "kv/6b"));
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck_report(t, FSCK_MODE_CHECK, &r), FSCK_EXIT_LEFT);
    assert_non_null(tc_finding(&r, FSCK_KV_CORRUPT));
    fsck_report_free(&r);
}

/* recover.c R-7: after a session under SXP_SYNC_NONE the .seq files do
 * not prove what was durable. A syncing session leaves "a" seq 1
 * durable; an unsynced session appends seq 2 and closes cleanly (a.seq = 2
 * by a rename without syncs); the power fails, in each of 64 ways per
 * outcome. Some keep a.seq = 2 over a log whose line 2 is NULs. Before
 * R-7 the next open refused it ("damaged line ... not a torn tail"; found
 * by sxp-crash --mode sim, UNSYNCED SESSIONS U-3). It must recover: seq 1
 * stays, the damage is cut, last-seq is at least 1, and the store takes
 * seq 3. sxp-fsck -p, run first on the same power loss where it left
 * damage, must repair it as the open would (fsck_int.h
 * fsck_after_unsynced: the damage is torn-tail, residue, not corruption
 * it leaves), after which the open finds the store clean with the same
 * events and mark. a.seq itself is never left empty or NULs, though it
 * was written without syncs before ST-5 (engine/store_int.h): it replaced
 * a .seq, so its temp file was synced first (an unreadable .seq's
 * rebuild from its log is test_recover's reference-store case and
 * test_fsck's seq-torn). */
static void a_power_loss_after_a_clean_unsynced_close_is_recovered_not_refused(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open_unsynced(t);
    assert_int_equal(tc_append(s, "a", 2), 0);
    assert_int_equal(sxp_store_close(s), 0);
    io_sim_kill(t->sim);
    io_sim_restart(t->sim);
    static const enum io_sim_mode modes[] = {IO_SIM_SECTORS, IO_SIM_RANDOM};
    unsigned bad_seq = 0, torn_under_seq = 0, fsck_seq_torn = 0, fsck_torn_tail = 0;
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        for (uint64_t k = 1; k <= 64; k++) {
            size_t n_open = 0;
            int64_t hw_open = 0;
            int damaged = 0; /* sxp-fsck -p runs on the damaged ones only */
            for (int fsck_first = 0; fsck_first <= damaged; fsck_first++) {
                struct sxp_io *c = NULL, *io = NULL;
                struct sxp_options o;
                struct sxp_stats st;
                uint64_t size = 0;
                int64_t hw = 0;
                assert_int_equal(io_sim_clone(t->sim, &c), 0);
                io_sim_crash(c, k, modes[m]);
                io_sim_restart(c);
                if (fsck_first) {
                    /* The same power loss again: sxp-fsck -p repairs it. */
                } else if (tc_zero_filled(c, "streams/61.seq", 0) ||
                           (c->stat(c, TC_STORE "/streams/61.seq", &size, NULL) == 0 &&
                            size == 0)) {
                    bad_seq++;
                    damaged = 1;
                } else if (tc_zero_filled(c, "streams/61.log", 1)) {
                    torn_under_seq++;
                    damaged = 1;
                }
                assert_int_equal(io_fault_new(c, &io), 0);
                if (fsck_first) {
                    struct fsck_report r;
                    int st_p = tc_fsck_report_io(io, FSCK_MODE_PREEN, &r);
                    if (st_p != FSCK_EXIT_CLEAN && st_p != FSCK_EXIT_REPAIRED) {
                        fsck_report_print_text(&r, TC_STORE, stdout);
                        fail_msg("power loss %s/%llu after a clean unsynced close: sxp-fsck -p "
                                 "exited %d",
                                 io_sim_mode_name(modes[m]), (unsigned long long)k, st_p);
                    }
                    fsck_seq_torn += (unsigned)fsck_report_count(&r, FSCK_SEQ_TORN);
                    fsck_torn_tail += (unsigned)fsck_report_count(&r, FSCK_TORN_TAIL);
                    fsck_report_free(&r);
                }
                tc_options(&o);
                if (store_open_io(TC_STORE, &o, io, 0, &s, &err) != 0)
                    fail_msg("power loss %s/%llu after a clean unsynced close%s: the open "
                             "refused the store: %s",
                             io_sim_mode_name(modes[m]), (unsigned long long)k,
                             fsck_first ? " and sxp-fsck -p" : "", err.msg);
                sxp_store_stats(s, &st);
                size_t n = tc_count(s, "a");
                assert_int_equal(sxp_stream_last_seq(s, "a", 1, &hw, &err), 0);
                if (n < 1 || hw < 1)
                    fail_msg("power loss %s/%llu: \"a\" holds %zu events, last-seq %lld",
                             io_sim_mode_name(modes[m]), (unsigned long long)k, n, (long long)hw);
                if (fsck_first) {
                    assert_int_equal(st.recovered, 0); /* -p left it clean */
                    if (n != n_open || hw != hw_open)
                        fail_msg("power loss %s/%llu: after sxp-fsck -p \"a\" holds %zu events "
                                 "to last-seq %lld, after the open alone %zu to %lld",
                                 io_sim_mode_name(modes[m]), (unsigned long long)k, n,
                                 (long long)hw, n_open, (long long)hw_open);
                } else {
                    n_open = n;
                    hw_open = hw;
                }
                assert_int_equal(tc_append(s, "a", hw + 1), 0);
                assert_int_equal(sxp_store_close(s), 0);
                io->destroy(io);
                c->destroy(c);
            }
        }
    }
    /* The damage came up, was recovered, and sxp-fsck -p repaired it;
     * the .seq a rename replaced was whole every time (ST-5). */
    assert_int_equal(bad_seq, 0);
    assert_int_equal(fsck_seq_torn, 0);
    assert_true(torn_under_seq > 0);
    assert_true(fsck_torn_tail > 0);
}

/* truncate.c T-5: a truncate under SXP_SYNC_NONE syncs the new log before
 * it renames it over the old one. A store closed cleanly by a syncing
 * session holds "a" seq 1..3, durable; an unsynced session truncates "a"
 * at 1 and closes; the power fails before anything else syncs, in each of
 * 64 ways per outcome. The truncate was not promised, so "a" may hold 1..3
 * (the rename lost) or 2..3 (kept), but seq 2 and 3 were made durable by
 * the syncing session and the truncate never asked for them. Without T-5
 * the disk could keep the rename without the new log's bytes: an empty
 * log, which the open and sxp-fsck -n took for a truncated one (found by
 * sxp-crash --mode sim, UNSYNCED SESSIONS U-3: seed 8, --runs 4 --ops 12,
 * run 2). */
static void an_unsynced_truncate_cut_by_a_power_loss_keeps_the_events_above_it(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_open(t);
    for (int64_t q = 1; q <= 3; q++)
        assert_int_equal(tc_append(s, "a", q), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open_unsynced(t);
    assert_int_equal(sxp_stream_truncate(s, "a", 1, 1, &err), 0);
    assert_int_equal(sxp_store_close(s), 0);
    io_sim_kill(t->sim);
    io_sim_restart(t->sim);
    static const enum io_sim_mode modes[] = {IO_SIM_RANDOM, IO_SIM_SECTORS, IO_SIM_LOSE_ALL};
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        for (uint64_t k = 1; k <= 64; k++) {
            struct sxp_io *c = NULL, *io = NULL;
            sxp_value *evs = NULL;
            s = tc_open_after_power_loss(t, k, modes[m], "an unsynced truncate", &c, &io);
            assert_int_equal(sxp_stream_read(s, "a", 1, &evs, &err), 0);
            size_t n = sxp_value_len(evs);
            int64_t last =
                n ? sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(evs, n - 1), "seq", 3))
                  : 0;
            sxp_value_free(evs);
            assert_int_equal(sxp_store_close(s), 0);
            io->destroy(io);
            c->destroy(c);
            if (n < 2 || last != 3)
                fail_msg("power loss %s/%llu after an unsynced truncate at 1: \"a\" holds %zu "
                         "events, the last seq %lld, not seq 2 and 3, which a syncing session "
                         "made durable",
                         io_sim_mode_name(modes[m]), (unsigned long long)k, n, (long long)last);
        }
    }
}

/* ST-5 (engine/store_int.h): under SXP_SYNC_NONE a .seq that replaces
 * one is synced before its rename. A syncing session leaves two streams
 * with mark 12 that their logs cannot rebuild once the unsynced session
 * is done: every event of "a" truncated (the mark in its .seq only), and
 * every event of "b" truncated by the unsynced session itself (its .seq
 * written first, T-2; the new empty log synced, T-5). The unsynced
 * session's mark 13 replaces "12" by a rename; the power fails, in each
 * of 64 ways per outcome. A prefix of "13" is "1", which parses, and R-7
 * trusts a mark that parses: last-seq went to 1, and seqs 2..12 could be
 * taken again (found by sxp-crash --mode sim --seed 99 --ops 40
 * --streams 3 --threads 1 --max-points 80, run 6). After the power loss
 * each mark is the old one or the new one, whole. */
static void an_unsynced_session_never_lowers_a_durable_mark_its_log_cannot_rebuild(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_open(t);
    for (int64_t q = 1; q <= 12; q++) {
        assert_int_equal(tc_append(s, "a", q), 0);
        assert_int_equal(tc_append(s, "b", q), 0);
    }
    assert_int_equal(sxp_stream_truncate(s, "a", 1, 12, &err), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open_unsynced(t);
    assert_int_equal(tc_append(s, "a", 13), 0);
    assert_int_equal(tc_append(s, "b", 13), 0);
    assert_int_equal(sxp_stream_truncate(s, "b", 1, 13, &err), 0);
    assert_int_equal(sxp_store_close(s), 0);
    io_sim_kill(t->sim);
    io_sim_restart(t->sim);
    static const enum io_sim_mode modes[] = {IO_SIM_TORN, IO_SIM_RANDOM, IO_SIM_SECTORS};
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        for (uint64_t k = 1; k <= 64; k++) {
            struct sxp_io *c = NULL, *io = NULL;
            s = tc_open_after_power_loss(t, k, modes[m], "an unsynced session", &c, &io);
            static const char *const names[] = {"a", "b"};
            for (size_t i = 0; i < 2; i++) {
                int64_t hw = 0;
                assert_int_equal(sxp_stream_last_seq(s, names[i], 1, &hw, &err), 0);
                if (hw < 12)
                    fail_msg("power loss %s/%llu after an unsynced session: last-seq of \"%s\" "
                             "is %lld, below the mark 12 a syncing session made durable",
                             io_sim_mode_name(modes[m]), (unsigned long long)k, names[i],
                             (long long)hw);
            }
            assert_int_equal(sxp_store_close(s), 0);
            io->destroy(io);
            c->destroy(c);
        }
    }
}

/* ST-5 and K-6 (engine/lock.h, A FAILED SETTLE): the close of a session
 * under SXP_SYNC_NONE syncs its .seq files, and that syncfs is the first
 * over everything the session wrote. When it fails, and the disk drops
 * the pages it could not write (a kernel may mark them clean all the
 * same: io.h IO-5), a later syncfs succeeds without them: the next
 * syncing open in the same boot settled the store, recovered as after a
 * killed session, closed it "clean", and after a power loss the kv value
 * the session put read as damage in a store marked clean (found by
 * review). Now that close leaves "unsynced resettle", so the settle
 * writes every file again before its syncfs: after the power loss the
 * value, the event and the mark are all there. */
static void a_failed_syncfs_at_an_unsynced_close_makes_the_next_settle_write_all_again(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_value *v = NULL;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "b", 1), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open_unsynced(t);
    store_set_checkpoint_syncfs(s, 1); /* a chunk of one .seq goes by syncfs */
    assert_int_equal(tc_kv_put(s, "k", "\"value\""), 0);
    assert_int_equal(tc_append(s, "a", 1), 0);
    io_fault_set_hook(t->io, tc_drop_failed_syncfs, t);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_SYNCFS, 1, -EIO, 0), 0);
    assert_int_equal(sxp_store_close(s), -EIO);
    io_fault_clear(t->io);
    io_fault_set_hook(t->io, NULL, NULL);
    char *lock = NULL;
    size_t lock_len = 0;
    assert_int_equal(io_read_file(t->io, TC_STORE "/LOCK", 1 << 20, &lock, &lock_len), 0);
    assert_true(lock_len == strlen(LOCK_RESETTLE_TEXT) &&
                memcmp(lock, LOCK_RESETTLE_TEXT, lock_len) == 0);
    free(lock);
    s = tc_open(t); /* the same boot: it settles, then recovers */
    assert_int_equal(sxp_store_close(s), 0);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    s = tc_open(t);
    assert_int_equal(sxp_kv_get(s, "k", 1, &v, &err), 0);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(sxp_value_to_text(v, &text, &len, &err), 0);
    assert_string_equal(text, "\"value\"");
    free(text);
    sxp_value_free(v);
    assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
}

static void fsck_reports_journal_records_and_p_writes_them_back(void **state)
{
    struct tc *t = *state;
    struct fsck_report r;
    tc_journaled_appends_then_power_loss(t, 2);

    assert_int_equal(tc_fsck_report(t, FSCK_MODE_CHECK, &r), FSCK_EXIT_LEFT);
    const struct fsck_finding *f = tc_finding(&r, FSCK_JOURNAL_PENDING);
    assert_non_null(f);
    assert_int_equal(f->a, 3);
    assert_int_equal(f->action, FSCK_ACT_NONE);
    fsck_report_free(&r);
    assert_int_equal(tc_journal_records(t), 3); /* -n wrote nothing */
    assert_int_equal(tc_size(t, "streams/61.log"), 0);

    assert_int_equal(tc_fsck_report(t, FSCK_MODE_PREEN, &r), FSCK_EXIT_REPAIRED);
    f = tc_finding(&r, FSCK_JOURNAL_PENDING);
    assert_non_null(f);
    assert_int_equal(f->action, FSCK_ACT_REPLAYED);
    assert_true(f->arg > 0);
    assert_null(tc_finding(&r, FSCK_TORN_TAIL));
    fsck_report_free(&r);
    assert_int_equal(tc_journal_records(t), 0);

    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(tc_count(s, "b"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

/* The whole of streams/61.log ("a"), read through the test's backend. */
static char *tc_read_log_a(struct tc *t, size_t *len)
{
    uint64_t size = tc_size(t, "streams/61.log");
    char *buf = malloc(size + 1);
    assert_non_null(buf);
    int fd = t->io->open(t->io, TC_STORE "/streams/61.log", O_RDONLY, 0);
    assert_true(fd >= 0);
    assert_int_equal(t->io->pread(t->io, fd, buf, size, 0), (ssize_t)size);
    assert_int_equal(t->io->close(t->io, fd), 0);
    *len = size;
    return buf;
}

/* sxp-fsck -y rewrites a damaged log through a temp file. When a step of
 * that fails (the temp's fdatasync, the rename over the log), the finding
 * is reported as failed, the run exits "left", the log is as it was and no
 * temp file stays; a second run without the fault repairs it. */
static void a_failed_repair_leaves_the_log_as_it_was(void **state)
{
    static const enum io_fault_kind kinds[] = {IO_FK_FDATASYNC, IO_FK_RENAME};
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 3; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(sxp_store_close(s), 0);
    size_t len;
    char *damaged = tc_read_log_a(t, &len);
    char *nl = memchr(damaged, '\n', len);
    assert_non_null(nl);
    nl[2] ^= 0x01; /* a byte of line 2's payload: corruption, not residue */
    int fd = t->io->open(t->io, TC_STORE "/streams/61.log", O_WRONLY, 0);
    assert_int_equal(t->io->pwrite(t->io, fd, nl + 2, 1, (uint64_t)(nl + 2 - damaged)), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);

    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct fsck_report r;
        assert_int_equal(io_fault_fail_nth(t->io, kinds[k], 1, -EIO, 0), 0);
        assert_int_equal(tc_fsck_report(t, FSCK_MODE_YES, &r), FSCK_EXIT_LEFT);
        io_fault_clear(t->io);
        const struct fsck_finding *f = tc_finding(&r, FSCK_CHECKSUM);
        assert_non_null(f);
        assert_int_equal(f->action, FSCK_ACT_FAILED);
        fsck_report_free(&r);
        size_t now_len;
        char *now = tc_read_log_a(t, &now_len);
        assert_int_equal(now_len, len);
        assert_memory_equal(now, damaged, len);
        free(now);
        int tmps = 0;
        assert_int_equal(t->io->list_dir(t->io, TC_STORE "/streams", tc_count_tmp, &tmps), 0);
        assert_int_equal(tmps, 0);
    }
    free(damaged);
    assert_int_equal(tc_fsck(t, FSCK_MODE_YES), FSCK_EXIT_REPAIRED);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* sxp-fsck -y moves a damaged line out of its log to lost+found/ and
 * rewrites the log without it (fsck/repair.c): the copy, its MANIFEST line
 * and the folder are durable before the rewritten log is renamed into
 * place, so a power loss right after the run finds the line in lost+found/
 * (LF-1, LF-2), never in neither place. */
static void a_line_fsck_y_moves_out_outlives_a_power_loss(void **state)
{
    struct tc *t = *state;
    struct crash_verdict v;
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 3; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(sxp_store_close(s), 0);
    size_t len;
    char *log = tc_read_log_a(t, &len);
    char *nl = memchr(log, '\n', len);
    assert_non_null(nl);
    int fd = t->io->open(t->io, TC_STORE "/streams/61.log", O_WRONLY, 0);
    nl[2] ^= 0x01; /* line 2: corruption, which -y moves out */
    assert_int_equal(t->io->pwrite(t->io, fd, nl + 2, 1, (uint64_t)(nl + 2 - log)), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);
    free(log);
    uint64_t mark = crash_lostfound_mark(t->sim, TC_STORE);
    assert_int_equal(tc_fsck(t, FSCK_MODE_YES), FSCK_EXIT_REPAIRED);
    memset(&v, 0, sizeof(v));
    assert_int_equal(crash_lostfound_check(t->sim, TC_STORE, mark, 1, &v, stdout, 10, "# -y"), 1);
    assert_int_equal(v.bad, 0);
    /* And the log -y rewrote is durable when it returns: its temp file
     * synced before the rename, and streams/ after it (repair.c). Without
     * the first the power loss left an empty log under the name; without
     * the second, the damaged log again. */
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    assert_int_equal(tc_fsck(t, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    s = tc_open(t);
    sxp_value *evs = NULL;
    struct sxp_err err;
    assert_int_equal(sxp_stream_read(s, "a", 1, &evs, &err), 0);
    assert_int_equal(sxp_value_len(evs), 2);
    assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(evs, 0), "seq", 3)), 1);
    assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(evs, 1), "seq", 3)), 3);
    sxp_value_free(evs);
    assert_int_equal(sxp_store_close(s), 0);
}

/* truncate.c T-2: a truncate writes the stream's .seq before it drops the
 * events, so a power loss right after a truncate of every event keeps
 * the mark (the .seq of a new stream is otherwise first written at the
 * close): last-seq stays 3, and seq 3 cannot be taken again. */
static void a_truncate_of_every_event_keeps_the_mark_through_a_power_loss(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    int64_t hw = 0;
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 3; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(sxp_stream_truncate(s, "a", 1, 3, &err), 0);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    assert_int_equal(sxp_stream_last_seq(s, "a", 1, &hw, &err), 0);
    assert_int_equal(hw, 3);
    assert_int_equal(tc_count(s, "a"), 0);
    assert_int_equal(tc_append(s, "a", 3), -ERANGE);
    assert_int_equal(tc_append(s, "a", 4), 0);
    assert_int_equal(sxp_store_close(s), 0);
}

/* A truncate runs a checkpoint (T-1, J-5): the logs are synced and a new
 * generation starts, so the records still in the file mean nothing. */
static void records_a_checkpoint_ended_are_not_replayed(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 3; i++)
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(tc_append(s, "b", 1), 0);
    assert_int_equal(tc_append(s, "b", 2), 0);
    assert_int_equal(sxp_stream_truncate(s, "b", 1, 1, &err), 0);
    tc_die_and_lose_power(t, s);
    assert_true(tc_size(t, "JOURNAL") > JOURNAL_HDR_LEN); /* the old records */
    assert_int_equal(tc_journal_records(t), 0);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 3);
    assert_int_equal(tc_count(s, "b"), 1); /* seq 2 only: a replay of the old
                                             records would bring seq 1 back */
    int64_t hw = 0;
    assert_int_equal(sxp_stream_last_seq(s, "b", 1, &hw, &err), 0);
    assert_int_equal(hw, 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* A stream whose files cannot be looked at (EACCES on streams/, EIO) is an
 * error, never an empty stream with high-water 0: only ENOENT means that
 * the stream does not exist. */
static void a_stream_that_cannot_be_looked_up_is_an_error_not_empty(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 5), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    const struct io_fault_rule stat = {IO_FAULT_BIT(IO_FK_STAT), 1, -EACCES, 1, 0, 0};
    const struct io_fault_rule open = {IO_FAULT_BIT(IO_FK_OPEN), 1, -EACCES, 1, 0, 0};
    assert_int_equal(io_fault_add_rule(t->io, &stat), 0);
    assert_int_equal(io_fault_add_rule(t->io, &open), 0);
    int64_t hw = -1;
    assert_int_equal(sxp_stream_last_seq(s, "a", 1, &hw, &err), -EACCES);
    assert_int_equal(hw, -1);
    sxp_value *list = NULL;
    assert_int_equal(sxp_stream_read(s, "a", 1, &list, &err), -EACCES);
    assert_null(list);
    io_fault_clear(t->io);
    assert_int_equal(sxp_stream_last_seq(s, "a", 1, &hw, &err), 0);
    assert_int_equal(hw, 5);
    assert_int_equal(sxp_store_close(s), 0);
}

/* A stream a failed write left revivable, whose log then fails an
 * fdatasync when its descriptor is evicted (the cut of its pre-zeroed
 * space), refuses writes until reopen (IO-5), as after any failed sync of
 * its log: a revival's own sync would vouch for pages the failed one may
 * have dropped. */
static void a_failed_sync_at_eviction_ends_a_revivable_stream_until_reopen(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open_one_fd(t);
    assert_int_equal(tc_append(s, "b", 1), 0);
    for (int64_t i = 1; i <= 70; i++) /* pre-zeroed space from the 64th on */
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_true(tc_size(t, "streams/61.log") > (uint64_t)70 * 40);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_PWRITE, 1, -ENOSPC, 0), 0);
    assert_int_equal(tc_append(s, "a", 71), -ENOSPC); /* dead, revivable */
    io_fault_clear(t->io);
    io_fault_reset_counts(t->io);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 1, -EIO, 0), 0);
    int rc = tc_append(s, "b", 2); /* evicts a's descriptor: cut, sync */
    enum io_fault_kind k;
    char path[256] = "";
    assert_int_equal(io_fault_last_injected(t->io, &k, path, sizeof(path)), 0);
    assert_int_equal(k, IO_FK_FDATASYNC);
    assert_non_null(strstr(path, "/streams/61.log"));
    assert_int_equal(rc, 0);
    io_fault_clear(t->io);
    /* The first failure is the one reported. */
    assert_int_equal(tc_append(s, "a", 71), -ENOSPC);
    assert_int_equal(tc_append(s, "a", 71), -ENOSPC); /* not revived later */
    assert_int_equal(tc_append(s, "b", 3), 0);
    assert_int_not_equal(sxp_store_close(s), 0); /* a dead stream: not clean */
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 70);
    assert_int_equal(tc_append(s, "a", 71), 0);
    assert_int_equal(sxp_store_close(s), 0);
}

/* An append that fails before anything of it is written (its log cannot be
 * opened: EMFILE) frees its seq again: a retry of the same seq works. */
static void an_append_whose_log_cannot_be_opened_frees_its_seq(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open_one_fd(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(tc_append(s, "b", 1), 0); /* a's descriptor is closed */
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_OPEN, 1, -EMFILE, 0), 0);
    assert_int_equal(tc_append(s, "a", 2), -EMFILE);
    io_fault_clear(t->io);
    assert_int_equal(tc_append(s, "a", 2), 0);
    tc_hw_is(s, "a", 2);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* ST-7: a failed fsync of streams/ while a stream is created fences
 * creations until reopen (a retry's fsync could succeed with the failed
 * one's entries not on disk); streams that exist go on. */
static void a_failed_fsync_of_streams_fences_creations_until_reopen(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "b", 1), 0);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FSYNC_DIR, 1, -EIO, 0), 0);
    assert_int_equal(tc_append(s, "a", 1), -EIO);
    io_fault_clear(t->io);
    assert_int_equal(tc_append(s, "a", 1), -EIO); /* fenced */
    assert_int_equal(tc_append(s, "c", 1), -EIO);
    assert_int_equal(tc_append(s, "b", 2), 0);
    (void)sxp_store_close(s);
    s = tc_open(t);
    assert_int_equal(tc_append(s, "a", 1), 0);
    assert_int_equal(tc_count(s, "b"), 2);
    assert_int_equal(sxp_store_close(s), 0);
}

/* ---- a failed directory fsync racing another caller's (ST-7) ------------
 *
 * A kernel may drop the pending entries of a directory whose fsync failed
 * (the error is reported once): a later fsync of it succeeds without them
 * (io_sim.c, IO_SIM_SYNCFAIL_DROP). So a caller A whose entry was written
 * before another caller B's fsync of the same folder failed must not be
 * acknowledged on its own fsync's success (store.c store_fsync_dir). The
 * cases below make the interleaving with a nested call just after A's
 * entry is written: B's fsync fails and the disk drops the entries; then
 * A goes on. A must fail, or its op must survive a power loss. (Before
 * the fix each was acknowledged and lost; a new stream's made the next
 * open refuse the store, its JOURNAL record naming a missing log.) */

/* B's next fsync of a directory fails ... */
static void tc_fail_next_dirsync(struct tc *t)
{
    io_fault_set_hook(t->io, NULL, NULL);
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FSYNC_DIR, 1, -EIO, 0), 0);
}

/* ... and, once B has its error, the disk drops dir's pending entries. */
static void tc_drop_pending(struct tc *t, const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", TC_STORE, dir);
    io_fault_clear(t->io);
    assert_int_equal(io_sim_dir_sync_failed(t->sim, path, IO_SIM_SYNCFAIL_DROP, 1),
                     IO_SIM_SYNCFAIL_DROP);
}

static void tc_nested_failed_kv_put(struct tc *t)
{
    tc_fail_next_dirsync(t);
    t->nested_rc = tc_kv_put(t->store, "b", "2");
    tc_drop_pending(t, "kv");
}

static void kv_put_racing_a_failed_fsync_of_kv_is_not_acknowledged_unless_durable(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    t->store = s;
    tc_arm_after(t, IO_FK_RENAME, ".tmp", 1, tc_nested_failed_kv_put);
    int rc = tc_kv_put(s, "a", "1");
    assert_true(t->fired);
    assert_true(t->nested_rc < 0);
    assert_true(rc < 0); /* its rename came before the failure */
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    if (rc == 0) /* acknowledged: it must be there */
        assert_int_equal(tc_kv_has(s, "a"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

static void tc_nested_failed_blob_put(struct tc *t)
{
    tc_fail_next_dirsync(t);
    t->nested_rc = tc_blob_put(t->store, "blob b");
    tc_drop_pending(t, "blobs");
}

static void blob_put_racing_a_failed_fsync_of_blobs_is_not_acknowledged_unless_durable(void **state)
{
    struct tc *t = *state;
    sxp_store *s = tc_open(t);
    t->store = s;
    tc_arm_after(t, IO_FK_RENAME, ".tmp", 1, tc_nested_failed_blob_put);
    int rc = tc_blob_put(s, "blob a");
    assert_true(t->fired);
    assert_true(t->nested_rc < 0);
    assert_true(rc < 0);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    if (rc == 0)
        assert_int_equal(tc_blob_has(s, "blob a"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

static void tc_nested_failed_creation(struct tc *t)
{
    tc_fail_next_dirsync(t);
    t->nested_rc = tc_append(t->store, "b", 1);
    tc_drop_pending(t, "streams");
}

static void tc_nested_failed_truncate(struct tc *t)
{
    struct sxp_err err;
    tc_fail_next_dirsync(t);
    t->nested_rc = sxp_stream_truncate(t->store, "c", 1, 1, &err);
    tc_drop_pending(t, "streams");
}

/* Stream "a" is created by its first append: its .log (the load's open of
 * the missing log fails first), then an fsync of streams/; B fails just
 * after the log is made. */
static void tc_stream_creation_racing(struct tc *t, void (*nested)(struct tc *t))
{
    sxp_store *s = tc_open(t);
    assert_int_equal(tc_append(s, "c", 1), 0);
    assert_int_equal(tc_append(s, "c", 2), 0);
    t->store = s;
    tc_arm_after(t, IO_FK_OPEN, "/streams/61.log", 1, nested);
    int rc = tc_append(s, "a", 1);
    assert_true(t->fired);
    assert_true(t->nested_rc < 0);
    assert_true(rc < 0);
    tc_die_and_lose_power(t, s);
    s = tc_open(t);
    if (rc == 0) /* acknowledged: it must be there */
        assert_int_equal(tc_count(s, "a"), 1);
    assert_int_equal(sxp_store_close(s), 0);
}

static void stream_created_racing_a_failed_creation_is_not_acknowledged_unless_durable(void **state)
{
    tc_stream_creation_racing(*state, tc_nested_failed_creation);
}

static void stream_created_racing_a_failed_truncate_is_not_acknowledged_unless_durable(void **state)
{
    tc_stream_creation_racing(*state, tc_nested_failed_truncate);
}

static void tc_nothing(struct tc *t)
{
    (void)t;
}

/* A truncate drops the old file's descriptor without cutting its
 * pre-zeroed space: no name points to that file any more, so a cut and
 * its sync would be wasted, and a failure of that sync would stop the
 * live stream for nothing. */
static void a_truncate_does_not_sync_the_file_it_replaced(void **state)
{
    struct tc *t = *state;
    struct sxp_err err;
    sxp_store *s = tc_open(t);
    for (int64_t i = 1; i <= 70; i++) /* pre-zeroed space from the 64th on */
        assert_int_equal(tc_append(s, "a", i), 0);
    assert_int_equal(store_checkpoint(s, &err), 0); /* no journal record names it */
    tc_arm(t, IO_FK_FDATASYNC, "/61.log", 1, tc_nothing);
    assert_int_equal(sxp_stream_truncate(s, "a", 1, 10, &err), 0);
    assert_false(t->fired);
    io_fault_set_hook(t->io, NULL, NULL);
    assert_int_equal(tc_append(s, "a", 71), 0);
    assert_int_equal(sxp_store_close(s), 0);
    s = tc_open(t);
    assert_int_equal(tc_count(s, "a"), 61);
    assert_int_equal(sxp_store_close(s), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tc_setup, tc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(power_loss_at_every_call_of_a_short_workload_loses_nothing_acknowledged),
        T(dropping_directory_fsyncs_is_caught_as_lost_data),
        T(a_torn_tail_saved_to_lost_found_survives_a_power_loss),
        T(dropping_a_sync_of_lost_found_is_caught),
        T(a_failed_sync_of_lost_found_fences_it_for_the_session),
        T(fsck_p_makes_a_lost_found_a_killed_mkdir_left_durable),
        T(a_read_only_open_of_a_crashed_store_reads_it_and_changes_nothing),
        T(a_change_during_a_read_only_open_is_caught),
        T(a_read_only_open_is_refused_only_as_documented),
        T(kill_before_the_store_root_is_synced_then_power_loss_keeps_later_appends),
        T(kill_before_a_new_stream_is_synced_then_power_loss_keeps_its_appends),
        T(kv_delete_after_a_killed_delete_survives_power_loss),
        T(blob_put_of_what_a_killed_put_left_survives_power_loss),
        T(concurrent_blob_put_is_not_acknowledged_before_it_is_durable),
        T(concurrent_kv_delete_is_not_acknowledged_before_it_is_durable),
        T(a_blob_put_again_after_a_cut_put_outlives_a_power_loss),
        T(zero_filled_tail_after_the_last_line_is_cut_as_residue),
        T(a_failed_journal_sync_fails_its_round_and_the_streams_go_on),
        T(failed_lock_sync_refuses_unlisted_logs_outside_the_journal),
        T(a_failed_lock_write_is_cut_back_and_the_listing_goes_on),
        T(failed_directory_fsync_under_kv_put_changes_nothing_visible),
        T(a_session_whose_put_failed_is_left_for_recovery_not_marked_clean),
        T(failed_directory_fsync_under_truncate_changes_nothing_visible),
        T(a_failed_first_append_lists_no_stream),
        T(a_first_append_whose_sync_failed_is_gone_after_recovery),
        T(a_failed_creation_lists_no_stream),
        T(a_creation_whose_close_failed_leaves_no_log),
        T(a_read_only_view_lists_no_stream_whose_first_append_failed),
        T(a_new_stream_is_listed_before_its_seq_is_written),
        T(appends_only_the_journal_made_durable_survive_power_loss),
        T(a_log_written_outside_the_journal_is_listed_first),
        T(a_checkpoint_lists_the_logs_it_takes_from_the_journal),
        T(the_marks_recovery_writes_outlive_a_power_loss),
        T(a_round_checkpoints_at_the_bound_of_logs),
        T(a_checkpoint_by_syncfs_keeps_its_logs_through_a_power_loss),
        T(a_checkpoint_without_its_syncfs_loses_the_logs),
        T(a_journaled_log_whose_descriptor_is_closed_is_synced_through_an_open_one),
        T(a_log_evicted_by_the_checkpoint_itself_gets_its_syncfs),
        T(a_failed_sync_of_an_evicted_journaled_log_makes_it_dead),
        T(a_checkpoint_syncs_the_filesystem_from_its_bound_of_logs),
        T(a_close_syncs_its_seq_files_with_one_syncfs),
        T(a_close_without_its_seq_syncfs_loses_the_marks),
        T(a_close_over_recycled_temp_files_keeps_each_mark_its_own),
        T(a_power_loss_during_or_after_a_clean_close_keeps_every_mark),
        T(a_close_whose_exchange_fails_keeps_the_temp_names_it_filled),
        T(a_close_whose_fsync_of_streams_fails_keeps_the_temp_names_it_filled),
        T(a_close_without_syncs_leaves_no_mark_of_another_stream),
        T(a_read_only_open_reads_a_seq_again_that_was_exchanged_away),
        T(a_failed_checkpoint_syncfs_fails_its_logs_until_reopened),
        T(a_failed_checkpoint_syncfs_then_a_kill_keeps_every_event),
        T(a_recovery_syncs_the_journals_logs_by_syncfs),
        T(a_recovery_without_its_syncfs_loses_the_journals_lines),
        T(a_recovery_syncs_the_logs_it_keeps_by_syncfs),
        T(a_recovery_without_its_syncfs_loses_the_kept_lines),
        T(a_recovery_syncs_by_syncfs_from_its_bound),
        T(a_recovery_by_syncfs_cuts_torn_tails_durably),
        T(a_recovery_without_its_syncfs_loses_its_cuts),
        T(a_failed_recovery_syncfs_of_the_journals_logs_keeps_its_records),
        T(a_failed_recovery_syncfs_of_kept_logs_moves_no_mark),
        T(a_failed_recovery_syncfs_of_seq_files_moves_no_mark),
        T(fsck_p_syncs_the_journals_logs_by_syncfs),
        T(fsck_p_without_its_syncfs_loses_the_journals_lines),
        T(fsck_p_syncs_the_logs_it_keeps_by_syncfs),
        T(fsck_p_without_its_syncfs_loses_the_kept_lines),
        T(fsck_p_syncs_by_syncfs_from_its_bound),
        T(a_failed_fsck_syncfs_of_the_journals_logs_keeps_its_records),
        T(a_failed_fsck_syncfs_of_the_logs_moves_no_mark),
        T(a_failed_fsck_syncfs_of_seq_files_leaves_them),
        T(a_failed_fsync_of_streams_in_fsck_fails_the_seq_repairs),
        T(a_log_that_dies_in_a_checkpoint_keeps_the_journals_records),
        T(a_failed_checkpoint_syncfs_leaves_an_uncut_log_dead_for_good),
        T(a_failed_checkpoint_in_a_round_fails_none_of_its_appends),
        T(a_record_past_the_end_of_its_log_is_refused),
        T(a_record_whose_log_is_missing_is_refused_and_fsck_y_repairs_it),
        T(a_record_whose_log_is_a_directory_is_refused_and_fsck_y_repairs_it),
        T(fsck_p_keeps_a_new_log_whose_record_is_not_written_back),
        T(fsck_p_keeps_an_empty_log_behind_a_damaged_journal_header),
        T(zeros_ahead_that_find_no_room_fail_no_append),
        T(a_recovery_cut_short_after_its_replay_reads_every_log),
        T(a_failed_log_write_after_its_record_comes_back_after_a_crash),
        T(a_failed_log_write_after_its_record_is_revived_after_a_checkpoint),
        T(a_stream_whose_log_write_failed_takes_writes_again),
        T(the_close_revives_a_stream_whose_log_write_failed),
        T(a_truncate_revives_a_stream_whose_log_write_failed),
        T(a_power_loss_during_a_revival_keeps_every_acknowledged_event),
        T(an_unsynced_session_revives_a_stream_whose_log_write_failed),
        T(a_stream_whose_log_sync_failed_stays_dead_until_reopened),
        T(a_stream_whose_revival_sync_failed_stays_dead_until_reopened),
        T(a_log_whose_dropped_sync_failed_is_made_durable_by_the_next_open),
        T(a_log_whose_dropped_sync_failed_is_made_durable_by_fsck_p),
        T(a_syncing_open_after_a_clean_unsynced_session_makes_it_durable),
        T(a_syncing_open_after_a_killed_unsynced_session_makes_it_durable),
        T(fsck_repairs_after_an_unsynced_session_make_it_durable),
        T(a_syncing_open_after_a_failed_syncfs_of_a_clean_unsynced_session),
        T(a_syncing_open_after_a_failed_syncfs_of_a_killed_unsynced_session),
        T(a_syncing_open_after_fsck_p_failed_its_syncfs),
        T(a_killed_unsynced_session_is_recovered_over_the_logs_it_listed),
        T(a_power_loss_in_an_unsynced_session_is_recovered_over_every_log),
        T(a_clean_unsynced_close_is_trusted_only_in_its_boot),
        T(a_zero_filled_kv_value_after_an_unsynced_put_is_damage_not_a_value),
        T(an_unsynced_truncate_cut_by_a_power_loss_keeps_the_events_above_it),
        T(a_power_loss_after_a_clean_unsynced_close_is_recovered_not_refused),
        T(an_unsynced_session_never_lowers_a_durable_mark_its_log_cannot_rebuild),
        T(a_failed_syncfs_at_an_unsynced_close_makes_the_next_settle_write_all_again),
        T(fsck_reports_journal_records_and_p_writes_them_back),
        T(records_a_checkpoint_ended_are_not_replayed),
        T(a_stream_that_cannot_be_looked_up_is_an_error_not_empty),
        T(a_truncate_does_not_sync_the_file_it_replaced),
        T(a_failed_fsync_of_streams_fences_creations_until_reopen),
        T(kv_put_racing_a_failed_fsync_of_kv_is_not_acknowledged_unless_durable),
        T(blob_put_racing_a_failed_fsync_of_blobs_is_not_acknowledged_unless_durable),
        T(stream_created_racing_a_failed_creation_is_not_acknowledged_unless_durable),
        T(stream_created_racing_a_failed_truncate_is_not_acknowledged_unless_durable),
        T(an_append_whose_log_cannot_be_opened_frees_its_seq),
        T(an_unsynced_open_writes_the_journal_back_durably),
        T(a_failed_sync_at_eviction_ends_a_revivable_stream_until_reopen),
        T(a_failed_repair_leaves_the_log_as_it_was),
        T(a_line_fsck_y_moves_out_outlives_a_power_loss),
        T(a_truncate_of_every_event_keeps_the_mark_through_a_power_loss),
        T(a_big_append_is_durable_by_its_own_logs_sync),
        T(a_replay_over_many_logs_cut_short_is_replayed_again),
        T(recovery_of_many_killed_logs_is_durable_when_it_returns),
        T(recovery_of_many_killed_logs_by_syncfs_is_durable_when_it_returns),
        T(a_failed_sync_in_recovery_fails_the_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
