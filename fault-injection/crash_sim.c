/*
 * crash_sim.c -- --mode sim: power loss on the simulated disk (io_sim.c),
 * explored systematically.
 *
 * A run first plays a short single-threaded workload (open included) on a
 * fresh simulated disk through io_fault, only to count its M disk-changing
 * calls. Then, for each crash point p in 1..M+1 (or max_points of them
 * chosen by the seed when M is larger), it replays the same workload on a
 * fresh disk and powers the disk off just before call p (p = M+1: after the
 * workload), once for each outcome: everything lost, everything kept, torn,
 * sectors, and two random ones. The disk is booted again, the store opened
 * on it (recovery), and held to the guarantees (crash_verify.c); every
 * sixteenth check also exports the disk and runs sxp-fsck -n on the copy.
 *
 * A CLEAN START. In half the runs (by seed) the disk first holds a store
 * that another session wrote and closed cleanly: LOCK reads "clean", so
 * only the crashed session's own mark (lock.h K-2) and dirty list (K-5)
 * tell recovery to run and which logs to read, and the logs of the first
 * session are there to be skipped or read. A fresh disk cannot tell: an
 * empty LOCK makes recovery read every log. The first session's state is
 * the baseline the checks start from; crash points count from after it.
 *
 * A CLEAN CLOSE. A synced session whose seed has bit 17 set (half the
 * runs, and half the second workloads of KILL THEN POWER LOSS) closes the
 * store cleanly after its workload (cs_close_seed): the close's own calls
 * (the commit of the last rounds, the checkpoint, the .seq files, LOCK
 * marked clean) are crash points like the workload's, failed syncs land
 * before it, and the end point is a power loss after the clean close,
 * which the next open, finding LOCK clean, must not need to recover
 * from. (Without it only unsynced sessions closed, and a clean close
 * after a failed kv/blob sync that marked LOCK clean went unseen:
 * lock.h K-3.)
 *
 * OPTIONS BY SEED. Each open takes its options from the seed of the
 * session or check it serves (cs_options): a descriptor cache of 2 logs
 * (bit 0), the syncfs bound and .seq chunks (bits 10-11,
 * crash_syncfs_by_seed), and in a quarter of the seeds sync_each_log
 * (bit 13, crash_sync_each_log_by_seed: every file synced by itself,
 * never syncfs), with which sxp-fsck runs too (--sync-each-log, or
 * fsck_opts.syncfs_logs SIZE_MAX in process).
 *
 * Two more scenarios per point:
 *   KILL THEN POWER LOSS: the process dies at p (the page cache stays),
 *   the store is reopened and recovered, a second workload runs, then the
 *   power fails. What the first process left in the page cache and the
 *   recovery relied on must have been made durable by then.
 *   CRASH DURING RECOVERY: after the power loss, the recovery itself is
 *   powered off at each of its own disk-changing calls (up to 8, chosen by
 *   the seed); a further open must pass the same checks and converge to the
 *   state an uninterrupted recovery gives.
 *
 * FAILED DIRECTORY FSYNCS. For each fsync_dir the counting pass made (or
 * max_points / 2 of them, chosen by the seed), a replay fails that one
 * (-EIO through io_fault), and the disk's pending entries of the directory
 * take an outcome (io_sim_dir_sync_failed: kept pending, dropped, or some
 * made durable): once dropped, with a power loss at the end of the
 * workload that loses everything not durable, once both chosen by the
 * seed. The workload goes on after the error (kv/, blobs/ or new streams
 * are fenced, ST-7 in engine/store_int.h), and the recovered store must
 * hold every op acknowledged before or after the failure. With
 * racing_dirfail the multi-threaded tries below fail one too, while other
 * threads' entries are pending (the cases of tests/test_crash_sim.c that
 * race a failed directory fsync).
 *
 * FAILED FILE SYNCS. Likewise for each fdatasync the counting pass made
 * (each sync of a write_sync included; or max_points / 2 of them), replays
 * fail that one, and the file's pending writes take an outcome
 * (io_sim_file_sync_failed: kept pending, dropped, or some pages written;
 * a dropped write still reads as written, and no later fdatasync writes
 * it). The workload goes on after the error (the stream refuses writes
 * until reopen, E-2; a checkpoint stops the journal; a put fails). Four
 * replays each (cs_syncfails): dropped, with a power loss at the end that
 * loses everything not durable; the seed's choice of both; and twice
 * dropped, then KILL THEN POWER LOSS at the end of the workload: the next
 * open runs on the page cache that still shows the dropped writes (once
 * after sxp-fsck -p repaired the store there, run in-process over the
 * simulated disk), a second workload appends on top of them, and only
 * then does the power fail.
 * With racing_syncfail the multi-threaded tries fail one fdatasync too
 * (the outcome by seed), while other threads' rounds go on.
 *
 * UNSYNCED SESSIONS. The workload is replayed with the store opened under
 * SXP_SYNC_NONE (lock.h K-6), its own calls counted as above, and the
 * process is killed (the page cache stays) before each of them (or before
 * an eighth as many as the power-loss points explore, chosen by the seed),
 * at the end of the workload, and after a clean close (LOCK "clean
 * unsynced B", which reads clean in the same boot). Then, at each point
 * (cs_unsynced_point):
 *   U-1 KILL, SETTLE, GO ON, POWER LOSS: a syncing open settles the store
 *   (syncfs, then recovery), a second workload runs with syncs, its ids
 *   following the first's, and the power fails: losing everything not
 *   durable after a workload that creates no file, at random after the
 *   usual one. The store must hold every op that either session
 *   acknowledged: the settle made the unsynced session's durable before
 *   the syncing open returned.
 *   U-2 A FAILED SETTLE: as U-1, but that open's syncfs (the first call
 *   io_fault counts as an fsync_dir) fails, and every file's pending
 *   writes take an outcome (io_sim_fs_sync_failed): dropped once, the
 *   seed's choice once. The open must fail with the settle's error; then
 *   the next open, or sxp-fsck -p and the open (in turn from point to
 *   point), write every file again before their syncfs, and after the
 *   second workload and the power loss every acknowledged op is there. A
 *   kill before the session's LOCK mark leaves nothing to settle: skipped.
 *   U-3 POWER LOSS DURING THE SETTLE (at every fourth point, the end and
 *   the clean close): the syncing open is powered off at up to
 *   CS_RECOVERY_POINTS of its own calls, chosen by the seed, and the store
 *   is opened and checked. Once the open's first syncfs returned (one
 *   syncfs writes the whole filesystem, lock.c), every acknowledgement of
 *   the unsynced session is promised, as in U-1. Before it none is: they
 *   promised to outlive a kill only (docs/durability.md), and what the
 *   session replaced by a rename without syncs (kv values, blobs, .seq
 *   files, FORMAT of a store it created; not the log a truncate rewrote,
 *   truncate.c T-5) may be empty, torn or zero-filled. The check then
 *   asks only what the engine still promises (crash.h THE UNPROMISED,
 *   CS_CHECK_UNPROMISED): the power loss is seen: an open over a baseline
 *   recovers, and refuses the store only for a .seq it cannot rebuild
 *   from its log (recover.c R-7: .seq files the session wrote prove
 *   nothing); a read of what the session wrote may fail naming the damage
 *   (a kv value or blob it replaced); but nothing that was never submitted
 *   reads back, and all the rest, the clean first session's data above
 *   all, is held to G-1..G-7. Over a baseline each such power loss is
 *   checked twice: with the open alone, and with sxp-fsck -p run first
 *   (CS_CHECK_FSCK_P), which must repair what the open would and leave
 *   only what the open may refuse or a read may fail on. The summary
 *   counts these checks as "unsynced N", and the opens refused (and a
 *   store the session itself created, whose FORMAT may be lost) as
 *   "(refused M)".
 *
 * READ-ONLY FIRST. Before the store is opened read-write after a crash, it
 * is opened read-only and held to RO-1..RO-4 (crash_readonly.c): that open
 * changes nothing, is refused only while JOURNAL holds records, and reads
 * every acknowledged event up to the first damaged line.
 *
 * LOST+FOUND. Every recovering open (the check's, and the open of the
 * workload after a kill) is followed by crash_lostfound_check: the torn
 * tails recovery reports saving to lost+found/ must be in MANIFEST and in
 * their items, and still there after a power loss right after the open
 * (LF-1, LF-2 in crash_lostfound.c). The store itself shows nothing of
 * them, so no other check would see a sync missing there.
 *
 * With drop_dirsync the disk is reached through a wrapper that pretends to
 * fsync directories and does nothing: a deliberately broken ordering that
 * the checks must catch as lost acknowledged operations. --drop KIND:SUFFIX
 * does the same to one kind of call on the paths ending in SUFFIX only
 * (fsync_dir:/kv, fdatasync:JOURNAL, ...): one sync taken away at a time,
 * each of which the checks must catch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "fault.h"
#include "fsck.h"
#include "lock.h"
#include "store.h"

#define CS_ROOT "/sim"
#define CS_STORE "/sim/store"
#define CS_RECOVERY_POINTS 8

/* FAILED DIRECTORY FSYNCS and FAILED FILE SYNCS: the nth call of kind
 * (IO_FK_FSYNC_DIR or IO_FK_FDATASYNC) of a replay fails (-EIO), and what
 * the disk had pending of that directory or file takes the outcome how
 * (io_sim_dir_sync_failed, io_sim_file_sync_failed), by seed. */
struct cs_fail {
    enum io_fault_kind kind;
    uint64_t nth;
    enum io_sim_syncfail how;
    uint64_t seed;
    int syncfs; /* the call an IO_FK_FSYNC_DIR counts is a syncfs: the
                   outcome is io_sim_fs_sync_failed's (UNSYNCED SESSIONS) */
};

struct cs_hook {
    struct sxp_io *sim;
    uint64_t point; /* disk-changing call to stop before; 0: none */
    uint64_t seed;
    enum io_sim_mode mode;
    int kill_only; /* 1: io_sim_kill, 0: io_sim_crash */
    int fired;
    const struct cs_fail *df; /* what a failed sync leaves, or NULL */
    uint64_t synced_at;       /* OUT: n of the first directory fsync or
                                 syncfs that returned 0 before the hook
                                 fired, 0: none */
};

static void cs_hook_fn(void *arg, enum io_fault_kind kind, int when, uint64_t n, const char *path,
                       int res)
{
    struct cs_hook *h = arg;
    if (when == 1 && kind == IO_FK_FSYNC_DIR && res == 0 && !h->fired && h->synced_at == 0)
        h->synced_at = n;
    if (when == 1 && h->df != NULL && kind == h->df->kind && res < 0) {
        /* Within the failed call, before the engine sees its error: the
         * disk drops (or keeps) the entries or writes as the kernel's error
         * did. A failure of the disk itself (off: -EIO) changes nothing
         * there, nor does a file the path no longer names. */
        uint64_t seed = crash_mix(h->df->seed, n);
        int how = kind == IO_FK_FDATASYNC ? io_sim_file_sync_failed(h->sim, path, h->df->how, seed)
                  : kind == IO_FK_SYNCFS ? io_sim_fs_sync_failed(h->sim, CS_STORE, h->df->how, seed)
                  : h->df->syncfs        ? io_sim_fs_sync_failed(h->sim, path, h->df->how, seed)
                                         : io_sim_dir_sync_failed(h->sim, path, h->df->how, seed);
        (void)how;
        return;
    }
    /* n is 0 for a call that changes nothing: point 0 (none) never fires. */
    if (when != 0 || h->point == 0 || n != h->point || h->fired)
        return;
    h->fired = 1;
    if (h->kill_only)
        io_sim_kill(h->sim);
    else
        io_sim_crash(h->sim, h->seed, h->mode);
}

/* The syncs a deliberately broken backend skips (--drop-dirsync, --drop). */
static void cs_drop(const struct crash_params *p, struct sxp_io *io)
{
    unsigned mask = p->drop_mask | (p->drop_dirsync ? IO_FAULT_BIT(IO_FK_FSYNC_DIR) : 0);
    if (mask)
        io_fault_set_drop_path(io, mask, p->drop_dirsync ? NULL : p->drop_at);
}

/* A fresh disk with /sim, and the wrapper the engine is given. */
static int cs_disk(const struct crash_params *p, struct sxp_io **out_sim, struct sxp_io **out_io)
{
    struct sxp_io *sim = NULL, *io = NULL;
    int rc = io_sim_new(&sim);
    if (rc == 0)
        rc = io_sim_mkdirs(sim, CS_ROOT);
    if (rc == 0)
        rc = io_fault_new(sim, &io);
    if (rc < 0) {
        if (sim)
            sim->destroy(sim);
        return rc;
    }
    io_fault_own_inner(io);
    cs_drop(p, io);
    *out_sim = sim;
    *out_io = io;
    return 0;
}

/* A wrapper over an existing disk (a clone), dropping like cs_disk. */
static int cs_wrap(const struct crash_params *p, struct sxp_io *sim, struct sxp_io **out_io)
{
    int rc = io_fault_new(sim, out_io);
    if (rc < 0)
        return rc;
    cs_drop(p, *out_io);
    return 0;
}

/* Where a run starts: a fresh disk (sim NULL), or a clone of sim, which
 * holds a store closed cleanly with the state base (A CLEAN START). */
struct cs_start {
    struct sxp_io *sim;
    struct sxp_io *io; /* io_fault over sim; owns it */
    struct crash_base base;
};

/* A disk to run on from start: a fresh one, or a clone of start's. */
static int cs_start_disk(const struct crash_params *p, const struct cs_start *start,
                         struct sxp_io **out_sim, struct sxp_io **out_io)
{
    struct sxp_io *sim = NULL;
    if (start->sim == NULL)
        return cs_disk(p, out_sim, out_io);
    int rc = io_sim_clone(start->sim, &sim);
    if (rc == 0)
        rc = cs_wrap(p, sim, out_io);
    if (rc < 0) {
        if (sim)
            sim->destroy(sim);
        return rc;
    }
    io_fault_own_inner(*out_io);
    *out_sim = sim;
    return 0;
}

static void cs_options(struct sxp_options *o, uint64_t seed)
{
    sxp_options_init(o);
    o->quiet = 1;
    o->max_open_files = (seed & 1) ? 2 : 0;
    crash_syncfs_by_seed(seed);
    o->sync_each_log = crash_sync_each_log_by_seed(seed);
}

/* A CLEAN CLOSE: half the seeds (bit 17) close a synced session cleanly
 * after its workload, so the close's calls are crash points too. */
static int cs_close_seed(uint64_t seed)
{
    return (seed >> 17) & 1;
}

/* LF-1, LF-2 after a recovering open of s on sim (crash_lostfound.c),
 * lf_mark taken before the open; a violation counts as bad in st. */
static void cs_lostfound(const struct crash_params *p, struct sxp_io *sim, sxp_store *s,
                         uint64_t lf_mark, struct crash_stats *st, const char *what)
{
    struct crash_verdict v;
    struct sxp_stats ss;
    memset(&v, 0, sizeof(v));
    sxp_store_stats(s, &ss);
    if (crash_lostfound_check(sim, CS_STORE, lf_mark, ss.recovered ? ss.rec_tails_saved : 0, &v,
                              p->out, crash_print_budget(st), what))
        st->lostfound++;
    st->bad += v.bad;
    st->printed += v.printed;
}

/* cs_play's flags. */
#define CS_EXISTING_ONLY 1u /* ops that create no file (crash_workload.c) */
#define CS_GO_ON 2u         /* threads go on after an I/O error */
#define CS_UNSYNCED 4u      /* the store opened under SXP_SYNC_NONE (lock.h K-6) */
#define CS_CLOSE 8u         /* closed cleanly after, though nothing is captured */

/* Opens the store through io and runs the workload, reporting to rep;
 * the store is abandoned after, as a dead process leaves it, unless
 * capture is set: then its state goes there (from rep's history) and it
 * is closed cleanly (a failure counts in w->errors), as with CS_CLOSE.
 * What its readers saw that they must not (crash_workload.c READS) is
 * bad, reported as what. */
static void cs_play(const struct crash_params *p, struct sxp_io *sim, struct sxp_io *io,
                    struct crash_reporter *rep, uint64_t seed, unsigned ops, unsigned flags,
                    unsigned threads, struct crash_workload *w, struct crash_base *capture,
                    struct crash_stats *st, const char *what)
{
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = NULL;
    memset(w, 0, sizeof(*w));
    cs_options(&o, seed);
    if (flags & CS_UNSYNCED)
        o.sync = SXP_SYNC_NONE;
    else if (cs_close_seed(seed))
        flags |= CS_CLOSE; /* A CLEAN CLOSE */
    uint64_t lf_mark = crash_lostfound_mark(sim, CS_STORE);
    if (store_open_io(CS_STORE, &o, io, 0, &s, &err) < 0) {
        w->first_error = err.code;
        snprintf(w->first_msg, sizeof(w->first_msg), "open: %.200s", err.msg);
        w->errors = 1;
        return;
    }
    cs_lostfound(p, sim, s, lf_mark, st, what);
    w->store = s;
    w->rep = rep;
    w->seed = seed;
    w->threads = threads ? threads : 1;
    w->ops = ops;
    w->nstreams = p->nstreams ? p->nstreams : 6;
    w->nkeys = p->nkeys ? p->nkeys : 4;
    w->max_event = 3000;
    w->stop_on_error = !(flags & CS_GO_ON);
    w->existing_only = (flags & CS_EXISTING_ONLY) != 0;
    w->sync_each_log = o.sync_each_log;
    (void)crash_workload_run(w);
    if (w->read_bad) {
        fprintf(p->out, "%s: BAD: a reader saw: %s (and %llu more)\n", what, w->read_msg,
                (unsigned long long)w->read_bad - 1);
        st->bad += w->read_bad;
    }
    if (capture == NULL && !(flags & CS_CLOSE)) {
        store_abandon(s);
        return;
    }
    int rc = capture ? crash_base_capture(s, rep->hist, capture, &err) : 0;
    if (rc < 0)
        snprintf(w->first_msg, sizeof(w->first_msg), "capture: %.200s", err.msg);
    int crc = sxp_store_close(s);
    if (rc == 0 && crc < 0)
        snprintf(w->first_msg, sizeof(w->first_msg), "close: %s", strerror(-crc));
    if (rc < 0 || crc < 0)
        w->errors++;
}

/* cs_check's how. */
#define CS_CHECK_FSCK 1u /* export and run sxp-fsck -n this time */
/* h's session ran without syncs and the power failed before a settle
 * (crash_hist_unack; UNSYNCED SESSIONS, U-3): over a baseline the open
 * must have recovered, and may refuse only a .seq it cannot rebuild
 * from its log; with none, the session created the store and the open may
 * refuse what it left. */
#define CS_CHECK_UNPROMISED 2u
/* With CS_CHECK_UNPROMISED over a baseline: sxp-fsck -p repairs the store
 * first (cs_fsck_p). The open after it is then not required to recover
 * (the repair did), and refuses it only where -p may leave a .seq it could
 * not rebuild, as the open alone may. */
#define CS_CHECK_FSCK_P 4u

static void cs_fsck_p(const struct crash_params *p, struct sxp_io *io, uint64_t seed,
                      int unpromised, struct crash_stats *st, const char *what);

/* Opens the store on io after a crash and checks it against base (the
 * state the run started from) and h, as how says. out_base (may be NULL)
 * gets the recovered state before anything is added. */
static void cs_check(const struct crash_params *p, struct sxp_io *sim, struct sxp_io *io,
                     const struct crash_base *base, const struct crash_hist *h, uint64_t seed,
                     struct crash_base *out_base, unsigned how, struct crash_stats *st,
                     const char *what)
{
    struct sxp_options o;
    struct sxp_err err;
    struct crash_verdict v;
    sxp_store *s = NULL;
    memset(&v, 0, sizeof(v));
    cs_options(&o, seed);
    /* A read-only open first: it must change nothing (crash_readonly.c).
     * Its acked count repeats the recovered store's, so it is left out. */
    if (crash_readonly_check(sim, io, CS_STORE, base, h, &v, p->out, crash_print_budget(st), what))
        st->readonly++;
    else
        st->readonly_refused++;
    st->lost += v.lost;
    st->bad += v.bad;
    st->printed += v.printed;
    memset(&v, 0, sizeof(v));
    int promised = base->nstreams || base->nkv || base->nblobs;
    int fsck_first = (how & CS_CHECK_UNPROMISED) && (how & CS_CHECK_FSCK_P) && promised;
    if (fsck_first)
        cs_fsck_p(p, io, seed, 1, st, what);
    uint64_t lf_mark = crash_lostfound_mark(sim, CS_STORE); /* what the open saves */
    int rc = store_open_io(CS_STORE, &o, io, 0, &s, &err);
    if (rc < 0 && (how & CS_CHECK_UNPROMISED) &&
        (!promised || (rc == -EUCLEAN && strstr(err.msg, ".seq (stream ") &&
                       strstr(err.msg, "): unreadable high-water mark")))) {
        st->unsynced_refused++;
        if (p->verbose)
            fprintf(p->out, "%s: refused, as it may be: %s\n", what, err.msg);
        return;
    }
    if (rc < 0) {
        /* No store at all is fine only if nothing was ever acknowledged
         * and the open never completed; else recovery refused a disk that
         * a power loss made. */
        fprintf(p->out, "%s: BAD: open after the crash failed: %s\n", what, err.msg);
        st->bad++;
        return;
    }
    cs_lostfound(p, sim, s, lf_mark, st, what);
    if ((how & CS_CHECK_UNPROMISED) && promised && h->n > 0 && !fsck_first) {
        struct sxp_stats ss;
        sxp_store_stats(s, &ss);
        if (!ss.recovered)
            crash_report_bad(&v, p->out, crash_print_budget(st), what,
                             "the open after a power loss in an unsynced session did not "
                             "recover (lock.h K-2, K-6)");
    }
    crash_verify(s, base, h, &v, p->out, crash_print_budget(st), what);
    if (out_base != NULL && crash_base_capture(s, h, out_base, &err) < 0) {
        fprintf(p->out, "%s: BAD: reading the store back failed: %s\n", what, err.msg);
        v.bad++;
    }
    crash_verify_continue(s, base, h, 3, &v, p->out, crash_print_budget(st), what);
    rc = sxp_store_close(s);
    if (rc < 0) {
        fprintf(p->out, "%s: BAD: close failed: %s\n", what, strerror(-rc));
        v.bad++;
    } else if ((how & CS_CHECK_FSCK) && p->fsck != NULL) {
        char real[] = "/tmp/sxp-crash-sim-XXXXXX";
        if (mkdtemp(real) == NULL) {
            v.bad++;
        } else {
            rc = io_sim_export(sim, CS_STORE, real);
            if (rc < 0) {
                fprintf(p->out, "%s: BAD: export failed: %s\n", what, strerror(-rc));
                v.bad++;
            } else {
                int fr = crash_fsck_run(p->fsck, o.sync_each_log ? "-n --sync-each-log" : "-n",
                                        real, p->verbose);
                st->fsck_runs++;
                if (fr != 0) {
                    fprintf(p->out, "%s: BAD: sxp-fsck -n exited %d on the recovered disk\n", what,
                            fr);
                    v.bad++;
                }
            }
            (void)crash_rmrf(real);
        }
    } else if (how & CS_CHECK_FSCK) {
        st->fsck_skipped++;
    }
    st->acked += v.acked;
    st->lost += v.lost;
    st->bad += v.bad;
    st->printed += v.printed;
}

/* Replays the workload on a disk from start with a power loss (or a kill)
 * at point, the store opened with cs_play's flags play (CS_UNSYNCED,
 * CS_CLOSE). Returns the disk, booted again, and the history. */
static int cs_replay(const struct crash_params *p, const struct cs_start *start, uint64_t seed,
                     unsigned ops, unsigned threads, unsigned play, uint64_t point,
                     enum io_sim_mode mode, uint64_t crash_seed, int kill_only,
                     const struct cs_fail *df, struct crash_hist *h, struct sxp_io **out_sim,
                     struct sxp_io **out_io, struct crash_stats *st, const char *what)
{
    struct sxp_io *sim = NULL, *io = NULL;
    struct crash_reporter rep;
    struct crash_workload w;
    struct cs_hook hook = {NULL, point, crash_seed, mode, kill_only, 0, df, 0};
    int rc = cs_start_disk(p, start, &sim, &io);
    if (rc < 0)
        return rc;
    if (df != NULL && (rc = io_fault_fail_nth(io, df->kind, df->nth, -EIO, 0)) < 0) {
        io->destroy(io);
        return rc;
    }
    hook.sim = sim;
    io_fault_set_hook(io, cs_hook_fn, &hook);
    crash_reporter_init(&rep, -1, h);
    cs_play(p, sim, io, &rep, seed, ops, play | (df ? CS_GO_ON : 0), threads, &w, NULL, st, what);
    crash_reporter_destroy(&rep);
    io_fault_set_hook(io, NULL, NULL);
    if (point == 0 && df == NULL && w.errors != 0) {
        /* The end point: the disk is powered off (or the process killed)
         * only once the whole workload ran, which the counting pass did
         * without an error. */
        fprintf(p->out, "%s: BAD: the workload failed before its end point: %s\n", what,
                w.first_msg);
        st->bad++;
    }
    st->faults += io_fault_injected(io);
    io_fault_clear(io);
    if (!hook.fired) {
        if (kill_only)
            io_sim_kill(sim);
        else
            io_sim_crash(sim, crash_seed, mode);
    }
    crash_hist_cut(h);
    io_sim_restart(sim);
    *out_sim = sim;
    *out_io = io;
    return 0;
}

/* Opens the store with o on a clone of disk (a booted disk), through a
 * wrapper calling hook (whose sim becomes the clone), and abandons it as a
 * dead process would; with off, the clone is then powered off where the
 * hook did not do it (hook->seed, at random) and booted again. Returns 0,
 * the clone in *out_c and the wrapper over it (not owning it) in *out_io,
 * which counts the open's calls; or -ENOMEM, counted as bad. */
static int cs_clone_open(const struct crash_params *p, struct sxp_io *disk,
                         const struct sxp_options *o, struct cs_hook *hook, int off,
                         struct sxp_io **out_c, struct sxp_io **out_io, struct crash_stats *st)
{
    struct sxp_io *c = NULL, *io = NULL;
    struct sxp_err err;
    sxp_store *s = NULL;
    if (io_sim_clone(disk, &c) < 0 || cs_wrap(p, c, &io) < 0) {
        if (c)
            c->destroy(c);
        st->bad++;
        return -ENOMEM;
    }
    hook->sim = c;
    io_fault_set_hook(io, cs_hook_fn, hook);
    if (store_open_io(CS_STORE, o, io, 0, &s, &err) == 0)
        store_abandon(s);
    io_fault_set_hook(io, NULL, NULL);
    if (off) {
        if (!hook->fired)
            io_sim_crash(c, hook->seed, IO_SIM_RANDOM);
        io_sim_restart(c);
    }
    *out_c = c;
    *out_io = io;
    return 0;
}

/* The calls that change the disk of an uninterrupted open of the store
 * with o on a clone of disk; *out_synced_at (may be NULL): the first of
 * them, a directory fsync or syncfs, that returned 0 (0: none). 0 when
 * the clone could not be made (counted as bad). */
static uint64_t cs_count_open(const struct crash_params *p, struct sxp_io *disk,
                              const struct sxp_options *o, uint64_t *out_synced_at,
                              struct crash_stats *st)
{
    struct sxp_io *c = NULL, *io = NULL;
    struct cs_hook count = {NULL, 0, 0, IO_SIM_RANDOM, 0, 0, NULL, 0};
    if (cs_clone_open(p, disk, o, &count, 0, &c, &io, st) < 0)
        return 0;
    uint64_t calls = io_fault_kill_count(io, IO_KILL_ANY);
    io->destroy(io);
    c->destroy(c);
    if (out_synced_at != NULL)
        *out_synced_at = count.synced_at;
    return calls;
}

/* Crash during recovery: powers off the recovery of disk (a booted,
 * crashed disk) at up to CS_RECOVERY_POINTS of its calls, and checks each
 * further open converges to ref. */
static void cs_recovery_crashes(const struct crash_params *p, struct sxp_io *disk,
                                const struct crash_base *base, const struct crash_hist *h,
                                uint64_t seed, const struct crash_base *ref, struct crash_stats *st,
                                const char *what)
{
    struct sxp_io *c = NULL, *io = NULL;
    struct sxp_options o;
    uint64_t rng = seed;
    cs_options(&o, seed);
    uint64_t calls = cs_count_open(p, disk, &o, NULL, st);
    for (unsigned i = 0; i < CS_RECOVERY_POINTS && i < calls; i++) {
        uint64_t q = calls <= CS_RECOVERY_POINTS ? i + 1 : 1 + crash_rand(&rng) % calls;
        struct cs_hook hook = {NULL, q, crash_rand(&rng), IO_SIM_RANDOM, 0, 0, NULL, 0};
        char w2[256];
        struct crash_base got;
        if (cs_clone_open(p, disk, &o, &hook, 1, &c, &io, st) < 0)
            return;
        snprintf(w2, sizeof(w2), "%s, recovery crashed at its call %llu", what,
                 (unsigned long long)q);
        crash_base_init(&got);
        uint64_t bad0 = st->bad + st->lost;
        cs_check(p, c, io, base, h, seed, &got, 0, st, w2);
        if (st->bad + st->lost == bad0 && !crash_base_equal(ref, &got)) {
            fprintf(p->out,
                    "%s: BAD: the store after the interrupted recovery differs from "
                    "an uninterrupted one\n",
                    w2);
            st->bad++;
        }
        st->kills++;
        crash_base_free(&got);
        io->destroy(io);
        c->destroy(c);
    }
}

/* What KILL THEN POWER LOSS runs on the page cache the killed process
 * left, before the power fails. */
enum cs_then {
    CS_THEN_WORKLOAD, /* the store reopened (recovery), a second workload */
    CS_THEN_EXISTING, /* the same, its ops creating no file */
    CS_THEN_FSCK_P,   /* sxp-fsck -p first, which repairs what the reopen's
                         recovery would (the reopen finds the store clean),
                         then as CS_THEN_EXISTING */
};

/* sxp-fsck -p on the store of io, as the tool runs it (fsck_run, the
 * library the sxp-fsck binary wraps, here over the simulated disk, which
 * the binary cannot reach): it must exit 0 or 1 (the exit statuses are in
 * fsck/checks.h). Any other status counts as bad.
 * With unpromised (U-3, CS_CHECK_FSCK_P), on the store a power loss in an
 * unsynced session left, before any open: it settles the store and judges
 * it as recovery would (R-7 in recovery/recover.c; fsck_int.h
 * fsck_after_unsynced), so what such a power loss leaves of the logs and
 * .seq files is residue that it repairs. It may leave (exit 4) only what
 * the open may refuse or a read may fail on then: a .seq it cannot rebuild
 * from its log (seq-unreadable), and a kv value or blob the session
 * replaced (kv-corrupt, blob-hash; THE UNPROMISED in crash.h). */
static void cs_fsck_p(const struct crash_params *p, struct sxp_io *io, uint64_t seed,
                      int unpromised, struct crash_stats *st, const char *what)
{
    struct fsck_opts fo;
    struct fsck_report r;
    memset(&fo, 0, sizeof(fo));
    fo.root = CS_STORE;
    fo.mode = FSCK_MODE_PREEN;
    fo.threads = 1;
    fo.io = io;
    /* The bound seed chose for the opens (crash_syncfs_by_seed): half the
     * seeds have the repair sync by syncfs (fsck/repair.c), a quarter
     * each file by itself, as --sync-each-log does. */
    fo.syncfs_logs = crash_sync_each_log_by_seed(seed) ? SIZE_MAX : store_open_syncfs_bound();
    int rc = fsck_run(&fo, &r);
    st->fsck_runs++;
    const struct fsck_finding *wrong = NULL; /* the first finding left that may not be */
    for (size_t i = 0; i < r.n && unpromised && rc == FSCK_EXIT_LEFT && wrong == NULL; i++)
        if (fsck_code_is_error(r.f[i].code) && r.f[i].action == FSCK_ACT_NONE &&
            r.f[i].code != FSCK_SEQ_UNREADABLE && r.f[i].code != FSCK_KV_CORRUPT &&
            r.f[i].code != FSCK_BLOB_HASH)
            wrong = &r.f[i];
    int ok = rc == FSCK_EXIT_CLEAN || rc == FSCK_EXIT_REPAIRED ||
             (unpromised && rc == FSCK_EXIT_LEFT && wrong == NULL);
    if (!ok) {
        char sum[512], msg[512] = "";
        fsck_report_summary(&r, CS_STORE, sum, sizeof(sum));
        if (wrong != NULL)
            fsck_finding_message(wrong, msg, sizeof(msg));
        fprintf(p->out, "%s: BAD: sxp-fsck -p exited %d after the %s: %s%s%s%s%s%s%s\n", what, rc,
                unpromised ? "power loss in an unsynced session" : "kill", sum,
                r.fatal[0] ? ": " : "", r.fatal, wrong ? "; left: " : "", wrong ? wrong->file : "",
                wrong ? ": " : "", msg);
        st->bad++;
    }
    fsck_report_free(&r);
}

/* KILL THEN POWER LOSS, on the disk sim (io over it) that a killed
 * process left, h its history cut: what then says runs on the same page
 * cache (sxp-fsck -p or not, the store opened again and a second
 * workload, whose ids follow h's and whose acknowledged appends land after
 * what the repair vouched for), the power fails with mode and the store is
 * checked. io (and sim) are destroyed. */
static void cs_go_on(const struct crash_params *p, const struct cs_start *start, struct sxp_io *sim,
                     struct sxp_io *io, struct crash_hist *h, uint64_t rseed, unsigned ops,
                     enum io_sim_mode mode, uint64_t cseed, enum cs_then then,
                     struct crash_stats *st, uint64_t *checks, const char *what)
{
    struct crash_reporter rep;
    struct crash_workload w;
    if (then == CS_THEN_FSCK_P)
        cs_fsck_p(p, io, rseed, 0, st, what);
    crash_reporter_init(&rep, -1, h);
    /* Ids of the second workload follow the first's. */
    rep.next_id = (uint32_t)h->n;
    cs_play(p, sim, io, &rep, crash_mix(rseed, 99), ops / 2 + 1,
            then == CS_THEN_WORKLOAD ? 0 : CS_EXISTING_ONLY, 1, &w, NULL, st, what);
    crash_reporter_destroy(&rep);
    if (w.errors != 0) {
        fprintf(p->out, "%s: BAD: the workload after the kill failed: %s\n", what, w.first_msg);
        st->bad++;
    }
    io_sim_crash(sim, cseed, mode);
    crash_hist_cut(h);
    io_sim_restart(sim);
    st->kills++;
    cs_check(p, sim, io, &start->base, h, rseed, NULL, ++*checks % 16 == 0 ? CS_CHECK_FSCK : 0, st,
             what);
    io->destroy(io);
}

/* KILL THEN POWER LOSS: a replay whose process dies at point (0: once
 * the workload ran), its store opened with cs_play's flags play, with df
 * failing one of its syncs (or NULL); then cs_go_on. Returns -1 when the
 * replay could not run (counted as bad). */
static int cs_kill_go_on(const struct crash_params *p, const struct cs_start *start, uint64_t rseed,
                         unsigned ops, unsigned play, uint64_t point, enum io_sim_mode mode,
                         uint64_t cseed, const struct cs_fail *df, enum cs_then then,
                         struct crash_stats *st, uint64_t *checks, const char *what)
{
    struct crash_hist h;
    struct sxp_io *sim = NULL, *io = NULL;
    crash_hist_init(&h);
    if (cs_replay(p, start, rseed, ops, 1, play, point, mode, cseed, 1, df, &h, &sim, &io, st,
                  what) < 0) {
        st->bad++;
        crash_hist_free(&h);
        return -1;
    }
    cs_go_on(p, start, sim, io, &h, rseed, ops, mode, cseed, then, st, checks, what);
    crash_hist_free(&h);
    return 0;
}

static const enum io_sim_mode cs_outcomes[] = {
    IO_SIM_LOSE_ALL, IO_SIM_KEEP_ALL, IO_SIM_TORN, IO_SIM_SECTORS, IO_SIM_RANDOM, IO_SIM_RANDOM,
};

static void cs_point(const struct crash_params *p, const struct cs_start *start, unsigned run,
                     uint64_t rseed, unsigned ops, uint64_t point, int last, struct crash_stats *st,
                     uint64_t *checks)
{
    char what[160];
    for (size_t o = 0; o < sizeof(cs_outcomes) / sizeof(cs_outcomes[0]); o++) {
        struct crash_hist h;
        struct sxp_io *sim = NULL, *io = NULL;
        uint64_t cseed = crash_mix(rseed, point * 16 + o);
        snprintf(what, sizeof(what), "sim seed %llu run %u point %llu%s outcome %s/%llu",
                 (unsigned long long)p->seed, run, (unsigned long long)point, last ? " (end)" : "",
                 io_sim_mode_name(cs_outcomes[o]), (unsigned long long)cseed);
        crash_hist_init(&h);
        if (cs_replay(p, start, rseed, ops, 1, 0, last ? 0 : point, cs_outcomes[o], cseed, 0, NULL,
                      &h, &sim, &io, st, what) < 0) {
            st->bad++;
            crash_hist_free(&h);
            continue;
        }
        st->kills++;
        int recovery = o == 4 && (point % 3 == 0 || last);
        struct crash_base ref;
        crash_base_init(&ref);
        struct sxp_io *disk = NULL;
        if (recovery && io_sim_clone(sim, &disk) < 0)
            disk = NULL;
        cs_check(p, sim, io, &start->base, &h, rseed, recovery ? &ref : NULL,
                 ++*checks % 16 == 0 ? CS_CHECK_FSCK : 0, st, what);
        if (disk != NULL) {
            cs_recovery_crashes(p, disk, &start->base, &h, cseed, &ref, st, what);
            disk->destroy(disk);
        }
        crash_base_free(&ref);
        io->destroy(io);
        crash_hist_free(&h);
    }

    /* Kill at the point, recover, go on, then lose power: once losing
     * everything not durable after a workload that creates no file (so it
     * syncs no directory that would hide a missing sync of the recovery or
     * of the first process), once at random after the usual workload. */
    for (int k = 0; k < 2; k++) {
        enum io_sim_mode mode = k ? IO_SIM_RANDOM : IO_SIM_LOSE_ALL;
        uint64_t cseed = crash_mix(rseed, point * 16 + 14 + (uint64_t)k);
        snprintf(what, sizeof(what),
                 "sim seed %llu run %u point %llu%s: kill, recover, power loss %s/%llu",
                 (unsigned long long)p->seed, run, (unsigned long long)point, last ? " (end)" : "",
                 io_sim_mode_name(mode), (unsigned long long)cseed);
        if (cs_kill_go_on(p, start, rseed, ops, 0, last ? 0 : point, mode, cseed, NULL,
                          k == 0 ? CS_THEN_EXISTING : CS_THEN_WORKLOAD, st, checks, what) < 0)
            return;
    }
}

/* A replay of the workload in which the failure df is injected, then the
 * power fails (mode, cseed) at its end; the store recovered is checked
 * against every acknowledged op. */
static void cs_fail_then_power_loss(const struct crash_params *p, const struct cs_start *start,
                                    uint64_t rseed, unsigned ops, enum io_sim_mode mode,
                                    uint64_t cseed, const struct cs_fail *df,
                                    struct crash_stats *st, uint64_t *checks, const char *what)
{
    struct crash_hist h;
    struct sxp_io *sim = NULL, *io = NULL;
    crash_hist_init(&h);
    if (cs_replay(p, start, rseed, ops, 1, 0, 0, mode, cseed, 0, df, &h, &sim, &io, st, what) < 0) {
        st->bad++;
        crash_hist_free(&h);
        return;
    }
    st->kills++;
    cs_check(p, sim, io, &start->base, &h, rseed, NULL, ++*checks % 16 == 0 ? CS_CHECK_FSCK : 0, st,
             what);
    io->destroy(io);
    crash_hist_free(&h);
}

/* Which of the n calls of one kind a workload makes are failed in turn:
 * every one, or max_points / 2 of them chosen by the seed. */
struct cs_picks {
    uint64_t n, count, i, rng;
};

static void cs_picks_init(struct cs_picks *pk, const struct crash_params *p, uint64_t n,
                          uint64_t rng)
{
    uint64_t cap = p->max_points ? (p->max_points + 1) / 2 : n;
    pk->n = n;
    pk->count = n < cap ? n : cap;
    pk->i = 0;
    pk->rng = rng;
}

/* The next call to fail, 1-based; 0 when done. */
static uint64_t cs_picks_next(struct cs_picks *pk)
{
    if (pk->i >= pk->count)
        return 0;
    pk->i++;
    return pk->count == pk->n ? pk->i : 1 + crash_rand(&pk->rng) % pk->n;
}

/* FAILED DIRECTORY FSYNCS: for each of the dirsyncs fsync_dirs the
 * workload makes (or max_points / 2 of them), a replay in which that one
 * fails: the workload goes on (kv/, blobs/ or the stream creations
 * fenced, ST-7), the power fails at its end, and the store recovered must
 * hold every acknowledged op. Twice each: the directory's pending entries
 * dropped and everything not durable lost, then the seed's choice of both. */
static void cs_dirfails(const struct crash_params *p, const struct cs_start *start, unsigned run,
                        uint64_t rseed, unsigned ops, uint64_t dirsyncs, struct crash_stats *st,
                        uint64_t *checks)
{
    struct cs_picks pk;
    cs_picks_init(&pk, p, dirsyncs, crash_mix(rseed, 4095));
    for (uint64_t nth; (nth = cs_picks_next(&pk)) != 0;) {
        for (int k = 0; k < 2; k++) {
            struct cs_fail df = {IO_FK_FSYNC_DIR, nth,
                                 k ? IO_SIM_SYNCFAIL_RANDOM : IO_SIM_SYNCFAIL_DROP,
                                 crash_mix(rseed, 4096 + nth * 2 + (uint64_t)k), 0};
            enum io_sim_mode mode = k ? IO_SIM_RANDOM : IO_SIM_LOSE_ALL;
            uint64_t cseed = crash_mix(rseed, 8192 + nth * 2 + (uint64_t)k);
            char what[160];
            snprintf(what, sizeof(what),
                     "sim seed %llu run %u dirsync %llu failed (%s/%llu), power loss %s/%llu",
                     (unsigned long long)p->seed, run, (unsigned long long)nth,
                     io_sim_syncfail_name(df.how), (unsigned long long)df.seed,
                     io_sim_mode_name(mode), (unsigned long long)cseed);
            cs_fail_then_power_loss(p, start, rseed, ops, mode, cseed, &df, st, checks, what);
        }
    }
}

/* FAILED FILE SYNCS: for each of the syncs fdatasyncs and the syncfss
 * syncfs_fd calls the workload makes (or max_points / 2 of them), replays
 * in which that one fails (a syncfs_fd: every file's pending writes take
 * the outcome, io_sim_fs_sync_failed; a checkpoint's, journal.c J-11): the
 * workload goes on (the stream refuses writes, E-2; a checkpoint stops the
 * journal; a kv or blob put fails), and the file's pending writes take an
 * outcome (io_sim_file_sync_failed: kept pending, dropped, or some pages
 * written). Four times each: dropped, and the power fails at the end of
 * the workload losing everything not durable; the seed's choice of both;
 * and twice dropped, the process killed at the end, and on the same page
 * cache (where the dropped writes still read as written, and no fdatasync
 * writes them) the store repaired, by the recovery of the next open or by
 * sxp-fsck -p before it, and a second workload run on it, then the power
 * fails losing everything not durable. The store recovered must hold
 * every acknowledged op. */
static void cs_syncfails(const struct crash_params *p, const struct cs_start *start, unsigned run,
                         uint64_t rseed, unsigned ops, uint64_t syncs, uint64_t syncfss,
                         struct crash_stats *st, uint64_t *checks)
{
    struct cs_picks pk;
    cs_picks_init(&pk, p, syncs + syncfss, crash_mix(rseed, 12287));
    for (uint64_t pick; (pick = cs_picks_next(&pk)) != 0;) {
        /* The fdatasyncs first, then the syncfs_fd calls. */
        int fs = pick > syncs;
        uint64_t nth = fs ? pick - syncs : pick;
        for (int k = 0; k < 4; k++) {
            struct cs_fail df = {fs ? IO_FK_SYNCFS : IO_FK_FDATASYNC, nth,
                                 k == 1 ? IO_SIM_SYNCFAIL_RANDOM : IO_SIM_SYNCFAIL_DROP,
                                 crash_mix(rseed, 16384 + pick * 4 + (uint64_t)k), 0};
            enum io_sim_mode mode = k == 1 ? IO_SIM_RANDOM : IO_SIM_LOSE_ALL;
            uint64_t cseed = crash_mix(rseed, 32768 + pick * 4 + (uint64_t)k);
            char what[200];
            snprintf(what, sizeof(what),
                     "sim seed %llu run %u %s %llu failed (%s/%llu)%s, power loss %s/%llu",
                     (unsigned long long)p->seed, run, fs ? "syncfs" : "fdatasync",
                     (unsigned long long)nth, io_sim_syncfail_name(df.how),
                     (unsigned long long)df.seed,
                     k == 2   ? ", kill, recover, go on"
                     : k == 3 ? ", kill, sxp-fsck -p, go on"
                              : "",
                     io_sim_mode_name(mode), (unsigned long long)cseed);
            if (k >= 2) {
                (void)cs_kill_go_on(p, start, rseed, ops, 0, 0, mode, cseed, &df,
                                    k == 2 ? CS_THEN_EXISTING : CS_THEN_FSCK_P, st, checks, what);
                continue;
            }
            cs_fail_then_power_loss(p, start, rseed, ops, mode, cseed, &df, st, checks, what);
        }
    }
}

/* 1 when LOCK on sim reads as a session's that ran without syncs (lock.h
 * K-6): the next syncing open settles the store before anything else. */
static int cs_lock_unsynced(struct sxp_io *sim)
{
    int fd = sim->open(sim, CS_STORE "/LOCK", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int state = lock_state(sim, fd);
    (void)sim->close(sim, fd);
    return (state & LOCK_UNSYNCED) != 0;
}

/* U-2, A FAILED SETTLE: a syncing open of the store an unsynced session
 * left on sim (io over it), whose settle's syncfs (its first call that
 * io_fault counts as an fsync_dir) fails with -EIO, every file's pending
 * writes taking the outcome how (by seed). The open must fail with the
 * settle's error; anything else counts as bad. */
static void cs_settle_fails(const struct crash_params *p, struct sxp_io *sim, struct sxp_io *io,
                            enum io_sim_syncfail how, uint64_t seed, uint64_t oseed,
                            struct crash_stats *st, const char *what)
{
    struct cs_fail df = {IO_FK_FSYNC_DIR, 1, how, seed, 1};
    struct cs_hook hook = {sim, 0, 0, IO_SIM_LOSE_ALL, 0, 0, &df, 0};
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = NULL;
    cs_options(&o, oseed);
    uint64_t injected = io_fault_injected(io);
    int rc = io_fault_fail_nth(io, IO_FK_FSYNC_DIR, 1, -EIO, 0);
    if (rc < 0) {
        fprintf(p->out, "%s: BAD: could not fail the settle: %s\n", what, strerror(-rc));
        st->bad++;
        return;
    }
    io_fault_set_hook(io, cs_hook_fn, &hook);
    rc = store_open_io(CS_STORE, &o, io, 0, &s, &err);
    io_fault_set_hook(io, NULL, NULL);
    st->faults += io_fault_injected(io) - injected;
    io_fault_clear(io);
    if (rc == 0) {
        fprintf(p->out, "%s: BAD: the open succeeded though its settle's syncfs failed\n", what);
        st->bad++;
        (void)sxp_store_close(s);
    } else if (rc != -EIO || strstr(err.msg, "syncfs ") == NULL) {
        fprintf(p->out, "%s: BAD: the open whose settle's syncfs failed said: %s\n", what, err.msg);
        st->bad++;
    }
}

/* U-3, POWER LOSS DURING THE SETTLE: on the disk an unsynced session left
 * (a booted, killed disk; h its history), the syncing open that settles it
 * is powered off at up to CS_RECOVERY_POINTS of its own calls, chosen by
 * seed, and a further open is checked. Where the power failed before the
 * open's first syncfs returned, the unsynced session's acknowledgements
 * were never promised durable (crash_hist_unack); after it, every one
 * was. h is changed. */
static void cs_settle_crashes(const struct crash_params *p, struct sxp_io *disk,
                              const struct cs_start *start, struct crash_hist *h, uint64_t seed,
                              struct crash_stats *st, uint64_t *checks, const char *what)
{
    struct sxp_io *c = NULL, *io = NULL;
    struct sxp_options o;
    uint64_t rng = seed, q[CS_RECOVERY_POINTS], settle = 0;
    cs_options(&o, seed);
    uint64_t calls = cs_count_open(p, disk, &o, &settle, st);
    unsigned nq = 0;
    for (unsigned i = 0; i < CS_RECOVERY_POINTS && i < calls; i++)
        q[nq++] = calls <= CS_RECOVERY_POINTS ? i + 1 : 1 + crash_rand(&rng) % calls;

    /* The points after the settle first, with every acknowledgement. */
    for (int settled = 1; settled >= 0; settled--) {
        if (!settled)
            crash_hist_unack(h);
        for (unsigned i = 0; i < nq; i++) {
            if ((settle != 0 && q[i] > settle) != settled)
                continue;
            uint64_t hseed = crash_rand(&rng);
            /* Before the syncfs, the same power loss twice: the open
             * checked, then sxp-fsck -p before it (CS_CHECK_FSCK_P). */
            int passes = settled ? 1 : 2;
            for (int fsck_p = 0; fsck_p < passes; fsck_p++) {
                struct cs_hook hook = {NULL, q[i], hseed, IO_SIM_RANDOM, 0, 0, NULL, 0};
                char w2[512];
                if (cs_clone_open(p, disk, &o, &hook, 1, &c, &io, st) < 0)
                    return;
                snprintf(w2, sizeof(w2),
                         "%s, power loss %s/%llu at the settling open's call %llu (%s)%s", what,
                         io_sim_mode_name(IO_SIM_RANDOM), (unsigned long long)hook.seed,
                         (unsigned long long)q[i],
                         settled ? "after its syncfs" : "before its syncfs: nothing promised",
                         fsck_p ? ", sxp-fsck -p" : "");
                st->kills++;
                st->unsynced++;
                cs_check(p, c, io, &start->base, h, seed, NULL,
                         !settled ? CS_CHECK_UNPROMISED | (fsck_p ? CS_CHECK_FSCK_P : 0)
                         : ++*checks % 16 == 0 ? CS_CHECK_FSCK
                                               : 0,
                         st, w2);
                io->destroy(io);
                c->destroy(c);
            }
        }
    }
}

/* UNSYNCED SESSIONS at one point of a replay under SXP_SYNC_NONE: killed
 * before its call point (0: once the workload ran; with close, after a
 * clean close), then U-1 twice (the next open settles, a second workload,
 * a power loss losing everything not durable after one that creates no
 * file, at random after the usual one), U-2 twice (that open's syncfs
 * failed: dropped, then the seed's outcome; the next open or sxp-fsck -p
 * and the open, in turn by idx) and, with crashes, U-3. */
static void cs_unsynced_point(const struct crash_params *p, const struct cs_start *start,
                              unsigned run, uint64_t rseed, unsigned ops, uint64_t point, int close,
                              uint64_t idx, int crashes, struct crash_stats *st, uint64_t *checks)
{
    unsigned play = CS_UNSYNCED | (close ? CS_CLOSE : 0);
    char at[64], what[256];
    if (close)
        snprintf(at, sizeof(at), "closed cleanly");
    else if (point == 0)
        snprintf(at, sizeof(at), "killed at the end");
    else
        snprintf(at, sizeof(at), "killed at point %llu", (unsigned long long)point);
    uint64_t salt = 65536 + (point * 2 + (uint64_t)close) * 8;
    for (int k = 0; k < 4; k++) {
        enum io_sim_mode mode = (k & 1) ? IO_SIM_RANDOM : IO_SIM_LOSE_ALL;
        uint64_t cseed = crash_mix(rseed, salt + (uint64_t)k);
        if (k < 2) {
            /* U-1 */
            snprintf(what, sizeof(what),
                     "sim seed %llu run %u unsynced, %s, settle, go on, power loss %s/%llu",
                     (unsigned long long)p->seed, run, at, io_sim_mode_name(mode),
                     (unsigned long long)cseed);
            st->unsynced++;
            (void)cs_kill_go_on(p, start, rseed, ops, play, point, mode, cseed, NULL,
                                k ? CS_THEN_WORKLOAD : CS_THEN_EXISTING, st, checks, what);
            continue;
        }
        /* U-2 */
        enum io_sim_syncfail how = (k & 1) ? IO_SIM_SYNCFAIL_RANDOM : IO_SIM_SYNCFAIL_DROP;
        uint64_t fseed = crash_mix(cseed, 3);
        int fsck = (int)((idx + (uint64_t)k) & 1);
        enum cs_then then = fsck ? CS_THEN_FSCK_P : (k & 1) ? CS_THEN_WORKLOAD : CS_THEN_EXISTING;
        struct crash_hist h;
        struct sxp_io *sim = NULL, *io = NULL;
        snprintf(what, sizeof(what),
                 "sim seed %llu run %u unsynced, %s, settle failed (%s/%llu), %s, go on, power "
                 "loss %s/%llu",
                 (unsigned long long)p->seed, run, at, io_sim_syncfail_name(how),
                 (unsigned long long)fseed, fsck ? "sxp-fsck -p, open" : "open again",
                 io_sim_mode_name(mode), (unsigned long long)cseed);
        crash_hist_init(&h);
        if (cs_replay(p, start, rseed, ops, 1, play, point, mode, cseed, 1, NULL, &h, &sim, &io, st,
                      what) < 0) {
            st->bad++;
        } else if (!cs_lock_unsynced(sim)) {
            io->destroy(io); /* killed before its mark: there is no settle */
        } else {
            st->unsynced++;
            cs_settle_fails(p, sim, io, how, fseed, rseed, st, what);
            cs_go_on(p, start, sim, io, &h, rseed, ops, mode, cseed, then, st, checks, what);
        }
        crash_hist_free(&h);
    }
    if (!crashes)
        return;
    /* U-3 */
    struct crash_hist h;
    struct sxp_io *sim = NULL, *io = NULL;
    snprintf(what, sizeof(what), "sim seed %llu run %u unsynced, %s", (unsigned long long)p->seed,
             run, at);
    crash_hist_init(&h);
    if (cs_replay(p, start, rseed, ops, 1, play, point, IO_SIM_LOSE_ALL, 0, 1, NULL, &h, &sim, &io,
                  st, what) < 0) {
        st->bad++;
    } else {
        cs_settle_crashes(p, sim, start, &h, crash_mix(rseed, salt + 7), st, checks, what);
        io->destroy(io);
    }
    crash_hist_free(&h);
}

/* What a counting pass found: the calls that change the disk, and of
 * them the directory fsyncs, the fdatasyncs and the syncfs_fd calls. */
struct cs_counts {
    uint64_t calls, dirsyncs, fsyncs, syncfss;
};

/* A counting pass: the single-threaded workload from start, its store
 * opened with cs_play's flags play, its calls counted into *out (traced
 * to trace when not NULL). Returns 1, 0 when the workload failed without
 * a crash (reported as bad, under what), or -ENOMEM. */
static int cs_count(const struct crash_params *p, const struct cs_start *start, uint64_t rseed,
                    unsigned ops, unsigned play, FILE *trace, struct cs_counts *out,
                    struct crash_stats *st, const char *what)
{
    struct crash_hist h;
    struct crash_reporter rep;
    struct crash_workload w;
    struct sxp_io *sim = NULL, *io = NULL;
    if (cs_start_disk(p, start, &sim, &io) < 0)
        return -ENOMEM;
    if (trace != NULL)
        io_fault_set_trace(io, trace);
    crash_hist_init(&h);
    crash_reporter_init(&rep, -1, &h);
    cs_play(p, sim, io, &rep, rseed, ops, play, 1, &w, NULL, st, what);
    crash_reporter_destroy(&rep);
    out->calls = io_fault_kill_count(io, IO_KILL_ANY);
    out->dirsyncs = io_fault_calls(io, IO_FAULT_BIT(IO_FK_FSYNC_DIR));
    out->fsyncs = io_fault_calls(io, IO_FAULT_BIT(IO_FK_FDATASYNC));
    out->syncfss = io_fault_calls(io, IO_FAULT_BIT(IO_FK_SYNCFS));
    io->destroy(io);
    crash_hist_free(&h);
    if (w.errors == 0)
        return 1;
    fprintf(p->out, "%s: BAD: the workload failed without a crash: %s\n", what, w.first_msg);
    st->bad++;
    return 0;
}

/* UNSYNCED SESSIONS: the replay under SXP_SYNC_NONE makes ucalls calls
 * that change the disk; it is killed before each of them and at the end
 * (or before cap of those points, chosen by the seed; the end always),
 * and closed cleanly once (cs_unsynced_point). U-3 runs at every fourth
 * point and after the clean close. */
static void cs_unsynced(const struct crash_params *p, const struct cs_start *start, unsigned run,
                        uint64_t rseed, unsigned ops, uint64_t ucalls, uint64_t cap,
                        struct crash_stats *st, uint64_t *checks)
{
    uint64_t n = ucalls + 1, rng = crash_mix(rseed, 65535);
    int sample = n > cap;
    uint64_t count = sample ? cap : n;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t point = !sample ? i + 1 : i + 1 == count ? n : 1 + crash_rand(&rng) % ucalls;
        cs_unsynced_point(p, start, run, rseed, ops, point == n ? 0 : point, 0, i,
                          i % 4 == 3 || point == n, st, checks);
    }
    cs_unsynced_point(p, start, run, rseed, ops, 0, 1, count, 1, st, checks);
}

/* A CLEAN START: a first session of ops operations on a fresh disk,
 * closed cleanly; its state goes to start->base. Returns 0, 1 when the
 * session failed (reported), or -errno. */
static int cs_start_clean(const struct crash_params *p, unsigned run, uint64_t rseed, unsigned ops,
                          struct cs_start *start, struct crash_stats *st)
{
    struct crash_hist h;
    struct crash_reporter rep;
    struct crash_workload w;
    if (cs_disk(p, &start->sim, &start->io) < 0)
        return -ENOMEM;
    crash_hist_init(&h);
    crash_reporter_init(&rep, -1, &h);
    char what[96];
    snprintf(what, sizeof(what), "sim seed %llu run %u: the first session",
             (unsigned long long)p->seed, run);
    cs_play(p, start->sim, start->io, &rep, crash_mix(rseed, 77), ops, 0, 1, &w, &start->base, st,
            what);
    crash_reporter_destroy(&rep);
    crash_hist_free(&h);
    if (w.errors == 0)
        return 0;
    fprintf(p->out, "sim seed %llu run %u: BAD: the first session failed without a crash: %s\n",
            (unsigned long long)p->seed, run, w.first_msg);
    st->bad++;
    return 1;
}

static void cs_start_free(struct cs_start *start)
{
    if (start->io != NULL)
        start->io->destroy(start->io);
    crash_base_free(&start->base);
}

/* Random exploration of a longer workload (4 x ops) from p->threads
 * threads: a counting pass, then points drawn from the calls it made (rng,
 * the run's), with the calls in whatever order the threads interleave them.
 * Each point runs as it comes; with racing_dirfail once more with one of
 * its fsync_dirs failed (FAILED DIRECTORY FSYNCS), and with racing_syncfail
 * once more with one of its fdatasyncs failed (FAILED FILE SYNCS), the
 * other threads racing it. Not by default: each costs as much again as the
 * point. -ENOMEM when the disk cannot be built. */
static int cs_threads(const struct crash_params *p, const struct cs_start *start, unsigned run,
                      uint64_t rseed, unsigned ops, uint64_t *rng, struct crash_stats *st,
                      uint64_t *checks)
{
    unsigned mops = ops * 4;
    struct sxp_io *msim = NULL, *mio = NULL;
    struct crash_hist h;
    struct crash_reporter rep;
    struct crash_workload w;
    char what0[96];
    snprintf(what0, sizeof(what0), "sim seed %llu run %u", (unsigned long long)p->seed, run);
    crash_hist_init(&h);
    if (cs_start_disk(p, start, &msim, &mio) < 0) {
        crash_hist_free(&h);
        return -ENOMEM;
    }
    crash_reporter_init(&rep, -1, &h);
    cs_play(p, msim, mio, &rep, rseed, mops, 0, p->threads, &w, NULL, st, what0);
    crash_reporter_destroy(&rep);
    uint64_t mcalls = io_fault_kill_count(mio, IO_KILL_ANY);
    uint64_t mdirsyncs = io_fault_calls(mio, IO_FAULT_BIT(IO_FK_FSYNC_DIR));
    uint64_t mfsyncs = io_fault_calls(mio, IO_FAULT_BIT(IO_FK_FDATASYNC));
    mio->destroy(mio);
    crash_hist_free(&h);
    unsigned tries = p->max_points ? (p->max_points + 3) / 4 : 16;
    for (unsigned i = 0; i < tries; i++) {
        uint64_t point = 1 + crash_rand(rng) % (mcalls + 1);
        enum io_sim_mode mode = cs_outcomes[crash_rand(rng) % 6];
        uint64_t cseed = crash_rand(rng);
        char what[160];
        snprintf(what, sizeof(what), "sim seed %llu run %u threads %u point %llu outcome %s/%llu",
                 (unsigned long long)p->seed, run, p->threads, (unsigned long long)point,
                 io_sim_mode_name(mode), (unsigned long long)cseed);
        /* k: 0 as it comes, 1 a directory fsync failed, 2 an fdatasync. */
        for (int k = 0; k < 3; k++) {
            uint64_t nsync = k == 1 ? mdirsyncs : mfsyncs;
            if ((k == 1 && (!p->racing_dirfail || mdirsyncs == 0)) ||
                (k == 2 && (!p->racing_syncfail || mfsyncs == 0)))
                continue;
            struct cs_fail df = {k == 1 ? IO_FK_FSYNC_DIR : IO_FK_FDATASYNC,
                                 1 + crash_mix(cseed, 1) % (nsync ? nsync : 1),
                                 (int)IO_SIM_SYNCFAIL_RANDOM, crash_mix(cseed, 2), 0};
            char whatk[200];
            if (k == 0)
                snprintf(whatk, sizeof(whatk), "%s", what);
            else
                snprintf(whatk, sizeof(whatk), "%s, %s %llu failed", what,
                         k == 1 ? "dirsync" : "fdatasync", (unsigned long long)df.nth);
            crash_hist_init(&h);
            if (cs_replay(p, start, rseed, mops, p->threads, 0, point, mode, cseed, 0,
                          k ? &df : NULL, &h, &msim, &mio, st, whatk) == 0) {
                st->kills++;
                cs_check(p, msim, mio, &start->base, &h, rseed, NULL,
                         ++*checks % 16 == 0 ? CS_CHECK_FSCK : 0, st, whatk);
                mio->destroy(mio);
            }
            crash_hist_free(&h);
        }
    }
    return 0;
}

int crash_run_sim(const struct crash_params *p, struct crash_stats *st)
{
    unsigned ops = p->ops ? p->ops : 16;
    uint64_t checks = 0;
    for (unsigned r = 0; r < p->runs; r++) {
        if (p->only_run >= 0 && r != (unsigned long)p->only_run)
            continue;
        uint64_t rseed = crash_mix(p->seed, r);
        struct cs_start start = {NULL, NULL, {0}};
        crash_base_init(&start.base);

        st->runs++;
        if ((rseed >> 16) & 1) {
            int rc = cs_start_clean(p, r, rseed, ops / 2 + 1, &start, st);
            if (rc < 0)
                return rc;
            if (rc > 0) {
                cs_start_free(&start);
                continue;
            }
        }

        /* Count the calls of the whole workload. */
        if (p->trace)
            fprintf(p->out, "sim seed %llu run %u: the calls, numbered as crash points%s:\n",
                    (unsigned long long)p->seed, r,
                    start.sim ? " (after a first session closed cleanly)" : "");
        char what0[96];
        snprintf(what0, sizeof(what0), "sim seed %llu run %u", (unsigned long long)p->seed, r);
        struct cs_counts n;
        int rc = cs_count(p, &start, rseed, ops, 0, p->trace ? p->out : NULL, &n, st, what0);
        if (rc <= 0) {
            cs_start_free(&start);
            if (rc < 0)
                return rc;
            continue;
        }

        /* Every point, or max_points of them chosen by the seed. */
        uint64_t rng = rseed;
        uint64_t npoints = n.calls + 1;
        int sample = p->max_points != 0 && npoints > p->max_points;
        for (uint64_t i = 0; i < (sample ? p->max_points : npoints); i++) {
            uint64_t point = sample ? 1 + crash_rand(&rng) % npoints : i + 1;
            if (p->only_point >= 0 && point != (uint64_t)p->only_point)
                continue;
            cs_point(p, &start, r, rseed, ops, point, point == npoints, st, &checks);
        }
        if (p->only_point < 0) {
            cs_dirfails(p, &start, r, rseed, ops, n.dirsyncs, st, &checks);
            cs_syncfails(p, &start, r, rseed, ops, n.fsyncs, n.syncfss, st, &checks);
            /* The unsynced session's calls, counted alike; an eighth as
             * many points as the power-loss points. */
            uint64_t explored = sample ? p->max_points : npoints;
            char whatu[96];
            snprintf(whatu, sizeof(whatu), "sim seed %llu run %u unsynced",
                     (unsigned long long)p->seed, r);
            struct cs_counts u;
            rc = cs_count(p, &start, rseed, ops, CS_UNSYNCED, NULL, &u, st, whatu);
            if (rc < 0) {
                cs_start_free(&start);
                return rc;
            }
            if (rc > 0 && u.calls != 0)
                cs_unsynced(p, &start, r, rseed, ops, u.calls, explored / 8 > 2 ? explored / 8 : 2,
                            st, &checks);
        }
        if (p->threads > 1 && cs_threads(p, &start, r, rseed, ops, &rng, st, &checks) < 0) {
            cs_start_free(&start);
            return -ENOMEM;
        }
        if (p->verbose)
            fprintf(p->out, "sim seed %llu run %u: %llu calls, lost %llu bad %llu so far\n",
                    (unsigned long long)p->seed, r, (unsigned long long)n.calls,
                    (unsigned long long)st->lost, (unsigned long long)st->bad);
        cs_start_free(&start);
    }
    return (st->lost || st->bad) ? 1 : 0;
}
