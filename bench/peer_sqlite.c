/*
 * peer_sqlite.c -- SQLite doing the same appends: WAL journal,
 * synchronous=FULL (the WAL is synced at every commit), one table
 *
 *     CREATE TABLE ev(stream INTEGER, seq INTEGER, body BLOB,
 *                     PRIMARY KEY(stream, seq)) WITHOUT ROWID
 *
 * holding the same SX text per event.
 *   p->batch == 1, p->writers == 1   one INSERT per transaction (autocommit);
 *   p->batch > 1                     p->batch INSERTs per transaction;
 *   p->writers > 1                   that many threads, each with its own
 *                                    connection and stream, one INSERT per
 *                                    transaction; SQLite lets one writer in
 *                                    at a time and the others wait in its
 *                                    busy handler.
 * SQLite does not report its syncs, so fdatasyncs is unknown (-1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench.h"

#define SQLITE_MAX_TEXT ((size_t)17 << 10)

struct sqlite_job {
    const struct bench_ctx *ctx;
    const struct bench_param *p;
    struct bench_row *row;
    char path[4200];
    uint64_t count;
    uint64_t deadline;
    _Atomic uint64_t claimed; /* events handed out */
    _Atomic uint64_t done;    /* events committed */
    _Atomic uint64_t bytes;
    struct stats_hist **lat; /* one per thread */
    sqlite3 **dbs;           /* one connection per thread, opened before the region */
    sqlite3_stmt **ins;      /* its prepared INSERT */
    char errmsg[128];
};

static int sqlite_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int sqlite_open_db(const char *path, sqlite3 **out)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return -EIO;
    }
    sqlite3_busy_timeout(db, 60000);
    if (sqlite_exec(db, "PRAGMA journal_mode=WAL") != 0 ||
        sqlite_exec(db, "PRAGMA synchronous=FULL") != 0) {
        sqlite3_close(db);
        return -EIO;
    }
    *out = db;
    return 0;
}

/* Setup, untimed: thread t's connection and its prepared INSERT. */
static int sqlite_connect(struct sqlite_job *job, int t)
{
    int rc = sqlite_open_db(job->path, &job->dbs[t]);
    if (rc == 0 &&
        sqlite3_prepare_v2(job->dbs[t], "INSERT INTO ev(stream, seq, body) VALUES (?1, ?2, ?3)", -1,
                           &job->ins[t], NULL) != SQLITE_OK)
        rc = -EIO;
    return rc;
}

static int sqlite_worker(void *arg, int t)
{
    struct sqlite_job *job = arg;
    const struct bench_param *p = job->p;
    sqlite3 *db = job->dbs[t];
    sqlite3_stmt *ins = job->ins[t];
    char *text = malloc(SQLITE_MAX_TEXT);
    size_t per = p->batch > 1 ? (size_t)p->batch : 1;
    int64_t seq = 0;
    int rc = text == NULL ? -ENOMEM : 0;
    if (rc != 0)
        goto out;
    for (;;) {
        uint64_t first = atomic_fetch_add(&job->claimed, per);
        if (first >= job->count || stats_now_ns() > job->deadline)
            break;
        uint64_t bytes = 0;
        uint64_t t0 = stats_now_ns();
        if (per > 1 && sqlite_exec(db, "BEGIN") != 0) {
            rc = -EIO;
            break;
        }
        for (size_t k = 0; k < per && rc == 0; k++) {
            size_t len = event_text(text, SQLITE_MAX_TEXT, p->size, ++seq);
            sqlite3_bind_int(ins, 1, t);
            sqlite3_bind_int64(ins, 2, seq);
            sqlite3_bind_blob(ins, 3, text, (int)len, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE)
                rc = -EIO;
            sqlite3_reset(ins);
            bytes += len;
        }
        if (rc == 0 && per > 1 && sqlite_exec(db, "COMMIT") != 0)
            rc = -EIO;
        uint64_t t1 = stats_now_ns();
        if (rc != 0)
            break;
        stats_hist_add(job->lat[t], t1 - t0);
        atomic_fetch_add(&job->done, per);
        atomic_fetch_add(&job->bytes, bytes);
        atomic_fetch_add_explicit(&progress_events, per, memory_order_relaxed);
    }
    if (rc != 0)
        snprintf(job->errmsg, sizeof(job->errmsg), "sqlite: %s", sqlite3_errmsg(db));
out:
    free(text);
    return rc;
}

int sqlite_insert(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row)
{
    char dir[4096];
    sqlite3 *db = NULL;
    struct sqlite_job job;
    int n = p->writers > 0 ? p->writers : 1;
    int rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    memset(&job, 0, sizeof(job));
    job.ctx = ctx;
    job.p = p;
    job.row = row;
    job.count = bench_count(ctx, p);
    snprintf(job.path, sizeof(job.path), "%s/bench.db", dir);
    job.lat = stats_hists_new(n);
    job.dbs = calloc((size_t)n, sizeof(*job.dbs));
    job.ins = calloc((size_t)n, sizeof(*job.ins));
    if (job.lat == NULL || job.dbs == NULL || job.ins == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    /* Setup, untimed: the schema, then every thread's connection, as sxp
     * and RocksDB open their stores before the region. */
    rc = sqlite_open_db(job.path, &db);
    if (rc == 0 && sqlite_exec(db, "CREATE TABLE ev(stream INTEGER, seq INTEGER, body BLOB, "
                                   "PRIMARY KEY(stream, seq)) WITHOUT ROWID") != 0)
        rc = -EIO;
    for (int t = 0; t < n && rc == 0; t++)
        rc = sqlite_connect(&job, t);
    if (rc != 0)
        goto out;
    struct bench_region r;
    job.deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    bench_region_begin(&r);
    rc = bench_threads_run(n, sqlite_worker, &job);
    bench_region_end(&r, row);
    stats_hists_merge(row->lat, job.lat, n);
    row->events = job.done;
    row->bytes = job.bytes;
    row->fdatasyncs = -1;
    if (job.errmsg[0])
        snprintf(row->note, sizeof(row->note), "%s", job.errmsg);
out:
    for (int t = 0; job.dbs != NULL && t < n; t++) {
        sqlite3_finalize(job.ins[t]);
        sqlite3_close(job.dbs[t]);
    }
    free(job.dbs);
    free(job.ins);
    if (db != NULL) {
        /* The last connection's close runs the WAL checkpoint. */
        uint64_t t0 = stats_now_ns();
        sqlite3_close(db);
        bench_close_end(t0, row);
    }
    stats_hists_free(job.lat, n);
    fsutil_rm_rf(dir);
    return rc;
}
