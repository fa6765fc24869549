/*
 * peer_rocksdb.c -- RocksDB (its C API, rocksdb/c.h) doing the same
 * appends with WriteOptions.sync = true, so every acknowledged write has
 * been synced in RocksDB's write-ahead log. Keys are the stream number and
 * the seq, big-endian (so they sort as a log would); values are the same SX
 * text per event.
 *   p->writers threads share one DB, one Put per call (RocksDB groups the
 *   concurrent writers' WAL records under one sync itself);
 *   p->batch > 1: one WriteBatch of that many Puts per call.
 * RocksDB does not report its syncs, so fdatasyncs is unknown (-1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "bench.h"

#define ROCKSDB_MAX_TEXT ((size_t)17 << 10)

struct rocksdb_job {
    const struct bench_param *p;
    rocksdb_t *db;
    rocksdb_writeoptions_t *wo;
    uint64_t count;
    uint64_t deadline;
    _Atomic uint64_t claimed;
    _Atomic uint64_t done;
    _Atomic uint64_t bytes;
    struct stats_hist **lat;
    char errmsg[128];
};

static void rocksdb_key(char key[12], uint32_t stream, uint64_t seq)
{
    for (int i = 0; i < 4; i++)
        key[i] = (char)(stream >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        key[4 + i] = (char)(seq >> (56 - 8 * i));
}

static int rocksdb_worker(void *arg, int t)
{
    struct rocksdb_job *job = arg;
    const struct bench_param *p = job->p;
    size_t per = p->batch > 1 ? (size_t)p->batch : 1;
    char key[12];
    char *text = malloc(ROCKSDB_MAX_TEXT);
    rocksdb_writebatch_t *wb = per > 1 ? rocksdb_writebatch_create() : NULL;
    uint64_t seq = 0;
    int rc = text == NULL ? -ENOMEM : 0;
    while (rc == 0) {
        uint64_t first = atomic_fetch_add(&job->claimed, per);
        if (first >= job->count || stats_now_ns() > job->deadline)
            break;
        char *err = NULL;
        uint64_t bytes = 0;
        uint64_t t0 = stats_now_ns();
        if (per == 1) {
            size_t len = event_text(text, ROCKSDB_MAX_TEXT, p->size, (int64_t)++seq);
            rocksdb_key(key, (uint32_t)t, seq);
            rocksdb_put(job->db, job->wo, key, sizeof(key), text, len, &err);
            bytes += len;
        } else {
            rocksdb_writebatch_clear(wb);
            for (size_t k = 0; k < per; k++) {
                size_t len = event_text(text, ROCKSDB_MAX_TEXT, p->size, (int64_t)++seq);
                rocksdb_key(key, (uint32_t)t, seq);
                rocksdb_writebatch_put(wb, key, sizeof(key), text, len);
                bytes += len;
            }
            rocksdb_write(job->db, job->wo, wb, &err);
        }
        uint64_t t1 = stats_now_ns();
        if (err != NULL) {
            snprintf(job->errmsg, sizeof(job->errmsg), "rocksdb: %s", err);
            rocksdb_free(err);
            rc = -EIO;
            break;
        }
        stats_hist_add(job->lat[t], t1 - t0);
        atomic_fetch_add(&job->done, per);
        atomic_fetch_add(&job->bytes, bytes);
        atomic_fetch_add_explicit(&progress_events, per, memory_order_relaxed);
    }
    if (wb != NULL)
        rocksdb_writebatch_destroy(wb);
    free(text);
    return rc;
}

int rocksdb_bench_put(const struct bench_ctx *ctx, const struct bench_param *p,
                      struct bench_row *row)
{
    char dir[4096];
    struct rocksdb_job job;
    rocksdb_options_t *opt = NULL;
    char *err = NULL;
    int n = p->writers > 0 ? p->writers : 1;
    int rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    memset(&job, 0, sizeof(job));
    job.p = p;
    job.count = bench_count(ctx, p);
    job.lat = stats_hists_new(n);
    if (job.lat == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    opt = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(opt, 1);
    job.db = rocksdb_open(opt, dir, &err);
    if (err != NULL) {
        snprintf(row->note, sizeof(row->note), "rocksdb: %s", err);
        rocksdb_free(err);
        rc = -EIO;
        goto out;
    }
    job.wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(job.wo, 1);
    struct bench_region r;
    job.deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    bench_region_begin(&r);
    rc = bench_threads_run(n, rocksdb_worker, &job);
    bench_region_end(&r, row);
    stats_hists_merge(row->lat, job.lat, n);
    row->events = job.done;
    row->bytes = job.bytes;
    row->fdatasyncs = -1;
    if (job.errmsg[0])
        snprintf(row->note, sizeof(row->note), "%s", job.errmsg);
out:
    if (job.wo != NULL)
        rocksdb_writeoptions_destroy(job.wo);
    if (job.db != NULL) {
        uint64_t t0 = stats_now_ns();
        rocksdb_close(job.db);
        bench_close_end(t0, row);
    }
    if (opt != NULL)
        rocksdb_options_destroy(opt);
    stats_hists_free(job.lat, n);
    fsutil_rm_rf(dir);
    return rc;
}
