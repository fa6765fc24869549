/*
 * crash.h -- the sxp-crash harness: a workload that reports every operation
 * before it is submitted (INTENT) and when it returns (DONE, with its
 * result), a history of those reports, and a verifier that holds a
 * recovered store to what the history allows.
 *
 *   crash_hist.c      reports (wire format, reporter), history, helpers
 *   crash_base.c      the baseline: the state verified before a run
 *   crash_workload.c  the workload threads
 *   crash_verify.c    the guarantees, checked against a store
 *   crash_kill.c      --mode kill and --mode points (real processes, SIGKILL)
 *   crash_sim.c       --mode sim (power loss on the simulated disk)
 *   crash_errors.c    --mode errors and --mode loop (injected I/O errors)
 *   crash_fsck.c      running sxp-fsck on a directory
 *   crash_lostfound.c what recovery saved in lost+found/ outlives a power loss
 *   crash_readonly.c  a read-only open of a crashed store changes nothing
 *   crash_main.c      the command line
 *
 * THE GUARANTEES (docs/durability.md retells them; crash_verify.c checks
 * them, each violation is counted as LOST when an acknowledged operation is
 * missing and as BAD for anything else):
 *   G-1  every acknowledged append is present, byte-identical, in seq order;
 *        only an acknowledged truncate (or one in flight) may remove it
 *   G-2  no event is present that was never submitted; an unacknowledged
 *        batch is present as a contiguous run of its events, never with a
 *        hole (a prefix of it, less what a truncate removed)
 *   G-3  after an acknowledged truncate n, no event with seq <= n that was
 *        acknowledged before the truncate began remains
 *   G-4  last-seq is at least every acknowledged seq and the last verified
 *        last-seq (it never goes down), and at most the largest submitted
 *   G-5  an acknowledged kv put or delete is what kv-get shows, unless a
 *        later submitted put or delete of the key may have superseded it
 *   G-6  an acknowledged blob is present and hashes to its cid; any blob
 *        present hashes to its cid
 *   G-7  the recovered store takes new appends continuing from last-seq
 *   G-8  sxp-fsck -n finds the store clean after recovery and a clean close
 *
 * THE UNPROMISED (crash_hist_unack). For an op written without syncs that
 * a power loss cut before anything made it durable, the checks ask only
 * what the engine still promises then (docs/durability.md, SXP_SYNC_NONE):
 * it may or may not have taken effect (G-1, G-3, G-5 and G-6 as for an op
 * in flight); and a read of a stream, key or blob it wrote may fail,
 * naming the damage. (Its truncate takes nothing above its n: the log it
 * renames is synced first, engine/truncate.c T-5.) Nothing else is relaxed: a
 * read that succeeds shows only what was submitted or verified (G-2, G-5,
 * G-6), and everything that no unpromised op wrote is held to G-1..G-7.
 */
#ifndef SXP_CRASH_H
#define SXP_CRASH_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "sxp.h"

/* ---- history -------------------------------------------------------------- */

enum crash_kind {
    CRASH_APPEND,
    CRASH_BATCH,
    CRASH_TRUNCATE,
    CRASH_KV_PUT,
    CRASH_KV_DEL,
    CRASH_BLOB,
    CRASH_KIND_COUNT
};

/* One submitted operation as the verifier knows it. */
struct crash_op {
    uint32_t id;
    enum crash_kind kind;
    char name[128]; /* stream or key */
    size_t name_len;
    int64_t n;     /* truncate: n */
    size_t nev;    /* append: 1, batch: its events */
    int64_t *seqs; /* nev seqs */
    char **texts;  /* nev canonical event texts, malloc'd */
    size_t *lens;  /* their lengths */
    char *value;   /* kv put: canonical value text */
    size_t value_len;
    char cid[SXP_CID_LEN + 1]; /* blob */
    uint64_t intent_at;        /* report clock of the intent */
    uint64_t done_at;          /* report clock of the result, 0 while none came */
    int rc;                    /* the result once done_at != 0 */
    int unpromised;            /* crash_hist_unack: written without syncs and
                                  never made durable, nothing promised */
};

struct crash_hist {
    struct crash_op *ops;
    size_t n, cap;
    uint64_t clock;  /* reports received */
    uint64_t acked;  /* ops done with rc 0 */
    uint64_t failed; /* ops done with rc < 0 */
    int unpromised;  /* crash_hist_unack: the session itself, its open
                        included, promised nothing */
};

void crash_hist_init(struct crash_hist *h);
void crash_hist_free(struct crash_hist *h);
/* Feeds one report (wire format) into the history. -EPROTO if malformed. */
int crash_hist_ingest(struct crash_hist *h, const void *msg, size_t len);
/* Feeds a stream of reports; returns the bytes consumed (a trailing
 * partial report, cut by a kill, is left). */
size_t crash_hist_ingest_stream(struct crash_hist *h, const char *bytes, size_t len);
struct crash_op *crash_hist_find(struct crash_hist *h, uint32_t id);
/* The process running the workload died: every op still waiting for its
 * answer is done now with CRASH_RC_KILLED (it may or may not have taken
 * effect, but nothing it did can happen after this point). */
void crash_hist_cut(struct crash_hist *h);
#define CRASH_RC_KILLED (-EINTR)
/* The ops of h ran without syncs, and the power failed before a syncing
 * process made them durable: a session under SXP_SYNC_NONE that no settle
 * reached (engine/lock.h K-6, crash_sim.c UNSYNCED SESSIONS), whose
 * acknowledgements promised nothing past a kill. Every op becomes
 * unpromised: an acknowledged one may or may not have taken effect, at
 * any moment between its intent and its answer (rc CRASH_RC_UNPROMISED),
 * as crash_hist_cut makes an op in flight. What such an op replaced by a
 * rename without a sync (a kv value, a blob, .seq files) may be left
 * empty, torn or zero-filled, its name durable before its
 * bytes: crash_verify holds it to THE UNPROMISED (above). */
void crash_hist_unack(struct crash_hist *h);
#define CRASH_RC_UNPROMISED (-ENOTRECOVERABLE)

/* Where the workload sends reports: a pipe (fd >= 0) or a history in this
 * process. Thread-safe. */
struct crash_reporter {
    int fd;
    struct crash_hist *hist;
    pthread_mutex_t mu;
    uint32_t next_id;
};
void crash_reporter_init(struct crash_reporter *r, int fd, struct crash_hist *hist);
void crash_reporter_destroy(struct crash_reporter *r);
/* Reports an intent; returns the op id (0 if the report could not be
 * sent, which stops the workload). texts/lens: the events of an append or
 * batch; value: kv put text; cid: blob. */
uint32_t crash_report_intent(struct crash_reporter *r, enum crash_kind kind, const char *name,
                             size_t name_len, int64_t n, size_t nev, const int64_t *seqs,
                             const char *const *texts, const size_t *lens, const char *value,
                             size_t value_len, const char *cid);
int crash_report_done(struct crash_reporter *r, uint32_t id, int rc);

/* ---- baseline: the state verified after the previous run ------------------ */

struct crash_bstream {
    char name[128];
    size_t name_len;
    int64_t hw;
    size_t nev;
    int64_t *seqs;
    char **texts;
    size_t *lens;
};

struct crash_bkv {
    char key[128];
    size_t key_len;
    char *value; /* canonical text */
    size_t value_len;
};

struct crash_base {
    struct crash_bstream *streams;
    size_t nstreams;
    struct crash_bkv *kv;
    size_t nkv;
    char (*blobs)[SXP_CID_LEN + 1];
    size_t nblobs;
};

void crash_base_init(struct crash_base *b);
void crash_base_free(struct crash_base *b);
/* Reads the store's state into b (replacing it); the blob set is b's own
 * plus the cids of h's acked blob puts and any of h's blob puts present.
 * Used after a run was verified. */
int crash_base_capture(sxp_store *s, const struct crash_hist *h, struct crash_base *b,
                       struct sxp_err *err);
/* 1 when two baselines hold the same streams, events, kv and blobs. */
int crash_base_equal(const struct crash_base *a, const struct crash_base *b);

/* ---- workload ------------------------------------------------------------- */

struct crash_workload {
    sxp_store *store;
    struct crash_reporter *rep;
    uint64_t seed;
    unsigned threads;     /* >= 1 */
    unsigned ops;         /* ops in all, 0: until the deadline */
    uint64_t deadline_ns; /* CLOCK_MONOTONIC, 0: none */
    unsigned nstreams;    /* stream names used */
    unsigned nkeys;       /* kv keys used */
    unsigned max_event;   /* largest random payload in an event */
    int stop_on_error;    /* a thread stops at its first -EIO-like failure */
    int existing_only;    /* only appends to streams that have events and
                             puts of blobs that may exist: ops that create
                             no file, so they sync no directory */
    int abort_bad_read;   /* a reader's violation aborts the process */
    int truncates;        /* only truncates (one op in three) and appends */
    int sync_each_log;    /* the store was opened with sxp_options.sync_each_log:
                             its checkpoints are never made to syncfs */
    /* OUT */
    uint64_t done_ops; /* ops run */
    uint64_t errors;   /* ops that failed for another reason than seq */
    int first_error;   /* the first such failure */
    char first_msg[256];
    uint64_t read_bad;  /* what readers saw that they must not (READS) */
    char read_msg[256]; /* the first of it */
};

/* The i-th stream name / key of the workload (some are odd bytes). */
void crash_stream_name(unsigned i, char *out, size_t *out_len);
void crash_key_name(unsigned i, char *out, size_t *out_len);
/* Runs the workload on w->store; every op is reported to w->rep. Returns 0,
 * or -errno when it could not start. */
int crash_workload_run(struct crash_workload *w);
/* Half the seeds (bit 10) make the checkpoints, closes and recoveries of
 * the stores opened next sync their files by one syncfs however few
 * (engine/journal.c J-11, recovery/recover.c R-8): call before the open.
 * crash_workload_run makes the same choice for an open store by w->seed.
 * Half the seeds (bit 11) also write .seq files two at a time, for the
 * whole process, so that closes and recoveries of a few streams reuse
 * their temp files (engine/seqfile.c RECYCLING). */
void crash_syncfs_by_seed(uint64_t seed);
/* A quarter of the seeds (bit 13 set and bit 10 clear, so never with the
 * syncfs above, which it would switch off) open their stores with
 * sxp_options.sync_each_log = 1 in the kill, points, sim, errors and loop
 * harnesses: checkpoints, closes and recoveries fdatasync each file, a
 * log evicted from the descriptor cache with journaled lines is synced
 * then (journal.c J-13), and sxp-fsck runs with --sync-each-log
 * (fsck_opts.syncfs_logs SIZE_MAX). The harness sets the workload's
 * sync_each_log to match. 1 for those seeds. */
int crash_sync_each_log_by_seed(uint64_t seed);

/* ---- verification --------------------------------------------------------- */

struct crash_verdict {
    uint64_t acked;   /* acknowledged ops held to account */
    uint64_t lost;    /* acknowledged ops missing (G-1, G-3, G-4, G-5, G-6) */
    uint64_t bad;     /* other violations */
    unsigned printed; /* messages printed so far */
};

/* Counts one violation in v (lost or bad) and prints it to out, prefixed
 * by what, unless out is NULL or limit messages were printed. */
void crash_vreport(struct crash_verdict *v, FILE *out, unsigned limit, const char *what, int lost,
                   const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
void crash_report_bad(struct crash_verdict *v, FILE *out, unsigned limit, const char *what,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Checks the open store s against base and h (G-1..G-6). Violations are
 * printed to out (at most print_limit, prefixed by what) and counted. */
void crash_verify(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                  struct crash_verdict *v, FILE *out, unsigned print_limit, const char *what);
/* The same checks (but G-7) on s open read-only and not recovered, as
 * crash_readonly.c RO-4 relaxes them; the stream list is not looked at. */
void crash_verify_readonly(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                           struct crash_verdict *v, FILE *out, unsigned print_limit,
                           const char *what);
/* G-7: appends one event at last-seq + 1 to up to max_streams streams that
 * base or h know, checks each, and counts failures as bad. */
void crash_verify_continue(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                           unsigned max_streams, struct crash_verdict *v, FILE *out,
                           unsigned print_limit, const char *what);

/* ---- lost+found (crash_lostfound.c; LF-1, LF-2 at its top) --------------- */

struct sxp_io;

/* The length of ROOT/lost+found/MANIFEST on the simulated disk sim (0 when
 * there is none), taken before a recovering open. */
uint64_t crash_lostfound_mark(struct sxp_io *sim, const char *root);
/* After an open of root on sim whose recovery reports saved tails saved
 * (sxp_stats.rec_tails_saved), with mark taken before it: checks LF-1 and,
 * on a copy of sim, LF-2; violations count as bad in v. Returns 1 when
 * there was something to check (saved tails, or MANIFEST grew), else 0. */
int crash_lostfound_check(struct sxp_io *sim, const char *root, uint64_t mark, unsigned saved,
                          struct crash_verdict *v, FILE *out, unsigned limit, const char *what);

/* ---- a read-only open (crash_readonly.c; RO-1..RO-4 at its top) ---------- */

/* Opens root read-only through io over the simulated disk sim (a crashed
 * disk not yet recovered), checks it against base and h and closes it;
 * violations count in v. Returns 1 when the open succeeded, 0 when it was
 * refused as documented (RO-2). */
int crash_readonly_check(struct sxp_io *sim, struct sxp_io *io, const char *root,
                         const struct crash_base *base, const struct crash_hist *h,
                         struct crash_verdict *v, FILE *out, unsigned limit, const char *what);

/* ---- fsck ----------------------------------------------------------------- */

/* Locates sxp-fsck: $SXP_FSCK, then beside this executable, then
 * ../fsck/sxp-fsck from it. Returns a static path or NULL. */
const char *crash_fsck_find(const char *argv0);
/* Runs `fsck ARGS DIR` (args like "-n"); returns its exit status, or -errno
 * when it could not run. Its output goes to out when verbose, else nowhere. */
int crash_fsck_run(const char *fsck, const char *args, const char *dir, int verbose);

/* ---- modes ---------------------------------------------------------------- */

enum crash_mode {
    CRASH_MODE_KILL,
    CRASH_MODE_POINTS,
    CRASH_MODE_SIM,
    CRASH_MODE_ERRORS,
    CRASH_MODE_LOOP,
};

struct crash_params {
    enum crash_mode mode;
    uint64_t seed;
    unsigned runs;
    unsigned duration_ms;
    unsigned threads;
    unsigned ops; /* ops per workload run where the mode bounds them */
    unsigned nstreams;
    unsigned nkeys;
    const char *dir;      /* real store directory (kill, points, errors, loop) */
    const char *fsck;     /* sxp-fsck binary, or NULL */
    const char *self;     /* argv[0] */
    unsigned fresh_every; /* kill: start a new store every this many runs */
    unsigned max_points;  /* sim: crash points explored per run at most */
    int drop_dirsync;     /* sim: a broken backend that skips fsync_dir */
    unsigned drop_mask;   /* sim: --drop: IO_FAULT_BIT kinds it skips ... */
    const char *drop_at;  /* ... on paths ending so (NULL: all) */
    int racing_dirfail;   /* sim: fail a directory fsync in threaded tries too */
    int racing_syncfail;  /* sim: fail a file fdatasync in threaded tries too */
    const char *kill_at;  /* points: run only this SXP_KILL_AT point */
    int all_kinds;        /* points: every kill kind, not only "any" */
    int verbose;
    int trace;       /* sim: print the calls of each run's counting pass */
    long only_run;   /* sim: run only this run number (-1: all) */
    long only_point; /* sim: only this crash point of each run (-1: all) */
    FILE *out;       /* messages */
};

struct crash_stats {
    uint64_t runs;
    uint64_t kills; /* kill: SIGKILLs; sim: crash points */
    uint64_t acked;
    uint64_t lost;
    uint64_t bad;
    uint64_t faults; /* injected I/O errors */
    uint64_t fsck_runs;
    uint64_t fsck_skipped;
    uint64_t printed;          /* violation messages printed (capped) */
    uint64_t lock_waits;       /* kill: opens that waited for a dead child's LOCK */
    uint64_t lock_wait_max_ns; /* the longest of those waits */
    uint64_t lostfound;        /* sim: recoveries whose lost+found/ items were
                                  held to a power loss (crash_lostfound.c) */
    uint64_t readonly;         /* sim: read-only opens of a crashed store that
                                  read it (crash_readonly.c) ... */
    uint64_t readonly_refused; /* ... and that were refused as documented */
    uint64_t unsynced;         /* sim: checks after a session under
                                  SXP_SYNC_NONE (crash_sim.c UNSYNCED SESSIONS) ... */
    uint64_t unsynced_refused; /* ... whose store an open refused, as it may
                                  after a power loss before the settle (U-3) */
};

void crash_params_defaults(struct crash_params *p);
/* How many more violation messages one check may print: at most 10, and
 * at most CRASH_PRINT_MAX in a whole mode run. */
#define CRASH_PRINT_MAX 200
unsigned crash_print_budget(const struct crash_stats *st);
/* Each returns 0 when every run passed, 1 when a guarantee failed, or
 * -errno when the harness itself could not run. */
int crash_run_kill(const struct crash_params *p, struct crash_stats *st);
int crash_run_points(const struct crash_params *p, struct crash_stats *st);
int crash_run_sim(const struct crash_params *p, struct crash_stats *st);
int crash_run_errors(const struct crash_params *p, struct crash_stats *st);
int crash_run_loop(const struct crash_params *p, struct crash_stats *st);

/* Child side of kill and points: opens dir (through io_fault when
 * $SXP_KILL_AT is set), runs the workload reporting to fd, closes.
 * Returns the exit status for the child. */
int crash_child_main(const struct crash_params *p, uint64_t seed, unsigned ops, int fd);

/* Shared helpers (crash_hist.c). */
uint64_t crash_now_ns(void);
uint64_t crash_mix(uint64_t a, uint64_t b);
uint64_t crash_rand(uint64_t *state);
/* rm -rf (real filesystem); 0 or -errno. */
int crash_rmrf(const char *path);
/* cp -a of a directory tree (real filesystem). */
int crash_copytree(const char *from, const char *to);

#endif
