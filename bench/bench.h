/*
 * bench.h -- the pieces of sxp-bench, shared by its files.
 *
 * sxp-bench runs named workloads, each producing one ROW, and prints them as
 * a table (report.c). A workload is one entry of the registry in main.c: a
 * run function from one of the engine files (limit.c, reference.c,
 * peer_sqlite.c, peer_rocksdb.c, wl_sxp.c) and its parameters.
 *
 * WHAT A ROW MEANS. Every figure in a row comes from one timed region:
 *   R-1  events: events acknowledged (or read) inside the region; bytes: the
 *        payload bytes of those events (the SX text of the event, without the
 *        line trailer), the same figure for every engine.
 *   R-2  seconds: wall time of the region; events/s and MB/s divide by it
 *        (MB is 10^6 bytes).
 *   R-3  latency: one sample per acknowledged call (an append, a batch, a
 *        transaction, a read), in nanoseconds, from just before the call to
 *        its return.
 *   R-4  fdatasyncs: fdatasync, fsync and syncfs calls inside the region (for sxp
 *        from sxp_store_stats, for the hand-written loops counted by hand),
 *        or -1 when the engine does not say (SQLite, RocksDB).
 *   R-5  cpu_s: user + system CPU of the whole process (every thread,
 *        background threads included) inside the region, from getrusage.
 *   R-6  close_s: wall time of closing the store or database just after
 *        the region, or -1 where it is not timed. It is the work an engine
 *        defers to its close: sxp's last journal checkpoint (the fdatasync
 *        of every log only the journal covered) and its .seq writes,
 *        SQLite's last WAL checkpoint, RocksDB's flush. It is outside
 *        R-1..R-5; the table shows it in the note once it reaches 1% of
 *        the region.
 * Setup (filling a log, creating streams) happens outside the region.
 *
 * Every workload is bounded twice: by a count of events and by
 * ctx->seconds of wall time, whichever comes first.
 */
#ifndef SXP_BENCH_H
#define SXP_BENCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

/* ---- stats.c: latency histogram, clocks, CPU ---------------------------- */

/* A log-linear histogram of nanosecond values: 2^STATS_SUB_BITS buckets per
 * power of two, so a percentile is exact to within 1/128 (0.8%). */
#define STATS_SUB_BITS 7
#define STATS_SUB (1u << STATS_SUB_BITS)
#define STATS_EXP 42 /* values up to 2^42 ns, about 73 minutes */
#define STATS_BUCKETS (STATS_EXP * STATS_SUB)

struct stats_hist {
    uint64_t counts[STATS_BUCKETS];
    uint64_t n;      /* samples */
    uint64_t sum_ns; /* for the mean */
    uint64_t max_ns;
};

struct stats_hist *stats_hist_new(void);    /* zeroed; NULL when out of memory */
void stats_hist_free(struct stats_hist *h); /* accepts NULL */
void stats_hist_add(struct stats_hist *h, uint64_t ns);
void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src);
/* One zeroed histogram per thread of a workload: n of them, or NULL when
 * out of memory; freed (NULL accepted) and merged into a row's as a set. */
struct stats_hist **stats_hists_new(int n);
void stats_hists_free(struct stats_hist **v, int n);
void stats_hists_merge(struct stats_hist *dst, struct stats_hist *const *v, int n);
/* The value at fraction q (0..1) of the samples, in ns; 0 when empty. */
uint64_t stats_hist_quantile(const struct stats_hist *h, double q);
/* Writes "latency_us fraction_at_or_below" lines, one per non-empty bucket. */
void stats_hist_write_cdf(const struct stats_hist *h, FILE *f);

uint64_t stats_now_ns(void); /* CLOCK_MONOTONIC */
double stats_cpu_s(void);    /* user + system CPU of the process so far */

/* ---- rows ---------------------------------------------------------------- */

struct bench_row {
    char name[64];
    const char *engine;     /* "sxp", "limit", "reference", "sqlite", "rocksdb" */
    int writers;            /* concurrent callers (0 when not a write workload) */
    uint64_t events;        /* */
    uint64_t bytes;         /* */
    double seconds;         /* */
    double cpu_s;           /* */
    double fdatasyncs;      /* R-4, or -1 when unknown */
    double close_s;         /* R-6, or -1 when not timed */
    struct stats_hist *lat; /* R-3; owned by the row */
    int rc;                 /* 0, or -errno when the workload failed */
    int skipped;            /* 1: not run (filtered out or not available) */
    int no_rate;            /* 1: events/s and MB/s mean nothing (open time) */
    char note[640];         /* scale actually reached, retries, errors */
};

/* ---- options and context ------------------------------------------------- */

struct bench_ctx {
    const char *dir; /* scratch directory; every workload works under it */
    int quick;       /* CI sizes */
    double seconds;  /* wall-time bound of one run of a workload (--seconds / rounds) */
    int rounds;      /* times every row is run, interleaved (--rounds); >= 1 */
    int verbose;
};

/* Parameters of one workload; each run function reads the ones it needs. */
struct bench_param {
    size_t size;          /* event payload bytes (100, 1024, 16384) */
    int writers;          /* threads */
    int shared;           /* 1: every writer on one stream */
    int batch;            /* events per call or transaction */
    uint64_t n_full;      /* event bound at full size */
    uint64_t n_quick;     /* event bound under --quick */
    uint64_t scale_full;  /* streams, log bytes ... at full size */
    uint64_t scale_quick; /* the same under --quick */
    int nosync;           /* 1: sxp in SXP_SYNC_NONE */
    int io;               /* sxp backend: enum sxp_io_kind, 0 = SXP_IO_AUTO */
    int list;             /* reads: 1 = sxp_stream_read's list, 0 = sxp_stream_scan */
    int whole;            /* 1: one session with the whole time, even under --rounds */
    int busy_cpu;         /* 1: one more thread keeps a CPU busy meanwhile (limit.c) */
    int child_nosync;     /* open-killed: the killed child ran under SXP_SYNC_NONE */
};

typedef int (*bench_run_fn)(const struct bench_ctx *ctx, const struct bench_param *p,
                            struct bench_row *row);

/* The event bound and the scale of p for this run. */
uint64_t bench_count(const struct bench_ctx *ctx, const struct bench_param *p);
uint64_t bench_scale(const struct bench_ctx *ctx, const struct bench_param *p);

/* ---- measure.c: the timed region and the writer threads ------------------ */

struct bench_region {
    uint64_t t0_ns;
    double cpu0_s;
};
void bench_region_begin(struct bench_region *r);
/* Fills row->seconds and row->cpu_s. */
void bench_region_end(const struct bench_region *r, struct bench_row *row);
/* row->close_s, the wall time since t0_ns (stats_now_ns just before
 * the engine's close). */
void bench_close_end(uint64_t t0_ns, struct bench_row *row);

/* Runs fn(arg_i, i) on n threads released together; waits for them all.
 * Returns 0 or the first nonzero result. */
int bench_threads_run(int n, int (*fn)(void *arg, int i), void *arg);

/* ---- event.c: event text ------------------------------------------------- */

/* The bytes of the :data string for an event of `size` payload bytes whose
 * seq has seq_digits digits: size - 16 - seq_digits, at least 1. */
size_t event_data_len(size_t size, int seq_digits);
/* Pseudo-random lowercase letters (no escapes needed), at least 1 MiB. */
const char *event_filler(void);
/* Writes {:data "..." :seq N} of `size` bytes (exact when size allows) into
 * out (cap bytes, NUL-terminated); returns its length. */
size_t event_text(char *out, size_t cap, size_t size, int64_t seq);
/* As event_text, then TAB, 16 zero digits and LF: a line as long as the one
 * sxp writes for the same event. */
size_t event_line(char *out, size_t cap, size_t size, int64_t seq);
int event_digits(int64_t v);

/* ---- fsutil.c: scratch directories --------------------------------------- */

/* Creates ctx->dir/name (removing an older one); *out gets the path. */
int fsutil_fresh_dir(const struct bench_ctx *ctx, const char *name, char *out, size_t cap);
int fsutil_rm_rf(const char *path);
int fsutil_mkdir_p(const char *path);
/* fsync of a directory. */
int fsutil_fsync_dir(const char *path);
/* Writes back every dirty page of the filesystem holding path (syncfs), so
 * that the write-back of one row's data (or of a fixture's) is not paid by
 * the next row. Never inside a timed region. */
int fsutil_settle(const char *path);

/* ---- progress.c ---------------------------------------------------------- */

/* Events done by the running workload; workloads add to it. */
extern _Atomic uint64_t progress_events;
void progress_start(void); /* a progress thread, only when stderr is a tty */
void progress_stop(void);
/* Names the running workload (index of total) and resets the counter. */
void progress_set(const char *name, int index, int total);
/* Erases the progress line, before something else is printed. */
void progress_clear(void);

/* ---- report.c ------------------------------------------------------------ */

void report_header(FILE *f);
void report_row(FILE *f, const struct bench_row *row);
/* Prints the target ratios of issue 5 computed from rows; returns the
 * number of targets missed. */
int report_ratios(FILE *f, const struct bench_row *rows, size_t n);
int report_json(const char *path, const struct bench_ctx *ctx, const char *cmdline,
                const struct bench_row *rows, size_t n);
int report_plot(const char *dir, const struct bench_row *rows, size_t n);
const struct bench_row *report_find(const struct bench_row *rows, size_t n, const char *name);

/* ---- the engines ---------------------------------------------------------- */

/* limit.c: the disk's limit. */
int limit_write_sync(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row);
int limit_inplace_sync(const struct bench_ctx *ctx, const struct bench_param *p,
                       struct bench_row *row);
int limit_group_sync(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row);
int limit_files_sync(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row);

/* reference.c: the seed's design. */
int reference_append(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row);

#ifdef SXP_BENCH_HAVE_SQLITE
int sqlite_insert(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row);
#endif
#ifdef SXP_BENCH_HAVE_ROCKSDB
int rocksdb_bench_put(const struct bench_ctx *ctx, const struct bench_param *p,
                      struct bench_row *row);
#endif

/* wl_sxp.c: sxp through include/sxp.h only. */
int wl_sxp_append(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row);
int wl_sxp_batch(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row);
int wl_sxp_kv_put(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row);
int wl_sxp_kv_get(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row);
int wl_sxp_blob_put(const struct bench_ctx *ctx, const struct bench_param *p,
                    struct bench_row *row);
/* wl_server.c: sxp through `sxp serve --socket`, a child process. */
int wl_server_append(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row);
/* wl_big.c: workloads on big prepared stores (kept until the run ends). */
int wl_big_read_whole(const struct bench_ctx *ctx, const struct bench_param *p,
                      struct bench_row *row);
int wl_big_read_range(const struct bench_ctx *ctx, const struct bench_param *p,
                      struct bench_row *row);
int wl_big_growth_streams(const struct bench_ctx *ctx, const struct bench_param *p,
                          struct bench_row *row);
int wl_big_growth_log(const struct bench_ctx *ctx, const struct bench_param *p,
                      struct bench_row *row);
int wl_big_growth_log_range(const struct bench_ctx *ctx, const struct bench_param *p,
                            struct bench_row *row);
int wl_big_open(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row);
/* Removes the prepared stores. */
void wl_big_cleanup(void);

#endif
