/*
 * wl_sxp.c -- the sxp workloads that start from an empty store: appends from
 * 1 to 32 writers, append-batch, kv-put/kv-get and blob/put. Each runs on
 * a fresh store of its own, through include/sxp.h only.
 *
 * CONCURRENT WRITERS ON ONE STREAM. Every event needs a seq above the
 * stream's high-water mark, so the writers take seqs from one shared
 * counter. Two writers can still reach the store out of order (A takes 5,
 * B takes 6, B's append is admitted first, A's 5 is now at or below the
 * mark): A then gets -ERANGE and retries with a new seq, as any client that
 * shares a stream must. Retries are counted in the row's note.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

int wl_event_init(struct wl_event *e, size_t size)
{
    e->size = size;
    e->digits = 0;
    e->v = sxp_value_dict();
    return e->v == NULL ? -ENOMEM : 0;
}

int wl_event_set_seq(struct wl_event *e, int64_t seq)
{
    int d = event_digits(seq);
    int rc;
    if (d != e->digits) {
        size_t dl = event_data_len(e->size, d);
        rc = sxp_value_dict_set(e->v, "data", 4, sxp_value_str(event_filler(), dl));
        if (rc != 0)
            return rc;
        e->digits = d;
    }
    return sxp_value_dict_set(e->v, "seq", 3, sxp_value_int(seq));
}

void wl_event_free(struct wl_event *e)
{
    sxp_value_free(e->v);
    e->v = NULL;
}

int wl_fail(struct bench_row *row, int rc, const struct sxp_err *err, const char *what)
{
    if (row->note[0] == '\0')
        snprintf(row->note, sizeof(row->note), "%s: %s", what,
                 err != NULL && err->msg[0] ? err->msg : strerror(-rc));
    return rc;
}

int wl_close_timed(sxp_store *s, struct bench_row *row)
{
    uint64_t t0 = stats_now_ns();
    int rc = sxp_store_close(s);
    bench_close_end(t0, row);
    return rc;
}

int wl_open(const char *dir, int nosync, struct bench_row *row, sxp_store **out)
{
    return wl_open_io(dir, nosync, SXP_IO_AUTO, row, out);
}

int wl_open_io(const char *dir, int nosync, int io, struct bench_row *row, sxp_store **out)
{
    struct sxp_options o;
    struct sxp_err err;
    memset(&err, 0, sizeof(err));
    sxp_options_init(&o);
    o.sync = nosync ? SXP_SYNC_NONE : SXP_SYNC_ALWAYS;
    o.io = (enum sxp_io_kind)io;
    o.quiet = 1;
    int rc = sxp_store_open(dir, &o, out, &err);
    if (rc != 0)
        return wl_fail(row, rc, &err, "open");
    return 0;
}

uint64_t wl_fdatasyncs(sxp_store *s)
{
    struct sxp_stats st;
    sxp_store_stats(s, &st);
    return st.fdatasyncs;
}

void wl_syncs_checked(struct bench_row *row, const struct bench_param *p)
{
    if (!p->nosync && row->events > 0 && row->fdatasyncs == 0) {
        row->fdatasyncs = -1;
        if (row->note[0] == '\0')
            snprintf(row->note, sizeof(row->note),
                     "sxp_store_stats counted no syncs for durable writes");
    }
}

/* ---- appends from p->writers threads ------------------------------------ */

struct wl_append_job {
    const struct bench_param *p;
    sxp_store *s;
    uint64_t count;
    uint64_t deadline;
    _Atomic uint64_t claimed;
    _Atomic uint64_t done;
    _Atomic int64_t next_seq; /* shared stream: seqs handed out */
    _Atomic uint64_t retries;
    struct stats_hist **lat;
    struct bench_row *row;
    pthread_mutex_t note_mu;
};

static int wl_append_worker(void *arg, int t)
{
    struct wl_append_job *job = arg;
    const struct bench_param *p = job->p;
    struct wl_event e;
    struct sxp_err err;
    char name[16];
    int64_t own_seq = 0;
    int rc = wl_event_init(&e, p->size);
    int n = p->shared ? snprintf(name, sizeof(name), "shared")
                      : snprintf(name, sizeof(name), "w%02d", t);
    while (rc == 0) {
        uint64_t k = atomic_fetch_add(&job->claimed, 1);
        if (k >= job->count || stats_now_ns() > job->deadline)
            break;
        uint64_t t0 = stats_now_ns();
        for (;;) {
            int64_t seq = p->shared ? atomic_fetch_add(&job->next_seq, 1) + 1 : ++own_seq;
            rc = wl_event_set_seq(&e, seq);
            if (rc != 0)
                break;
            rc = sxp_stream_append(job->s, name, (size_t)n, e.v, &err);
            if (rc == -ERANGE && p->shared) {
                atomic_fetch_add(&job->retries, 1);
                continue;
            }
            break;
        }
        uint64_t t1 = stats_now_ns();
        if (rc != 0) {
            pthread_mutex_lock(&job->note_mu);
            wl_fail(job->row, rc, &err, "append");
            pthread_mutex_unlock(&job->note_mu);
            break;
        }
        stats_hist_add(job->lat[t], t1 - t0);
        atomic_fetch_add(&job->done, 1);
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
    }
    wl_event_free(&e);
    return rc;
}

int wl_sxp_append(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row)
{
    char dir[4096];
    sxp_store *s = NULL;
    struct wl_append_job job;
    int n = p->writers > 0 ? p->writers : 1;
    int rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    memset(&job, 0, sizeof(job));
    pthread_mutex_init(&job.note_mu, NULL);
    job.p = p;
    job.row = row;
    job.count = bench_count(ctx, p);
    job.lat = stats_hists_new(n);
    if (job.lat == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    rc = wl_open_io(dir, p->nosync, p->io, row, &s);
    if (rc != 0)
        goto out;
    job.s = s;
    uint64_t f0 = wl_fdatasyncs(s);
    struct bench_region r;
    job.deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    bench_region_begin(&r);
    rc = bench_threads_run(n, wl_append_worker, &job);
    bench_region_end(&r, row);
    row->fdatasyncs = (double)(wl_fdatasyncs(s) - f0);
    stats_hists_merge(row->lat, job.lat, n);
    row->events = job.done;
    row->bytes = job.done * p->size;
    if (p->io == SXP_IO_SYNC && row->note[0] == '\0')
        snprintf(row->note, sizeof(row->note), "SXP_IO_SYNC backend");
    if (job.retries > 0 && row->note[0] == '\0')
        snprintf(row->note, sizeof(row->note), "%llu seq retries", (unsigned long long)job.retries);
out:
    if (s != NULL) {
        int crc = wl_close_timed(s, row);
        if (rc == 0 && crc != 0)
            rc = wl_fail(row, crc, NULL, "close");
    }
    stats_hists_free(job.lat, n);
    pthread_mutex_destroy(&job.note_mu);
    fsutil_rm_rf(dir);
    return rc;
}

/* ---- append-batch ------------------------------------------------------- */

int wl_sxp_batch(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row)
{
    char dir[4096];
    sxp_store *s = NULL;
    struct sxp_err err;
    size_t per = p->batch > 0 ? (size_t)p->batch : 1;
    struct wl_event *ev = calloc(per, sizeof(*ev));
    const sxp_value **vals = calloc(per, sizeof(*vals));
    uint64_t count = bench_count(ctx, p), done = 0;
    int64_t seq = 0;
    int rc = ev == NULL || vals == NULL ? -ENOMEM : 0;
    if (rc == 0)
        rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0)
        goto out_free;
    for (size_t k = 0; k < per && rc == 0; k++) {
        rc = wl_event_init(&ev[k], p->size);
        vals[k] = ev[k].v;
    }
    if (rc == 0)
        rc = wl_open(dir, p->nosync, row, &s);
    if (rc != 0)
        goto out;
    uint64_t f0 = wl_fdatasyncs(s);
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    struct bench_region r;
    bench_region_begin(&r);
    while (done < count) {
        /* Setting the seqs is the client's work, inside the ack time. */
        uint64_t t0 = stats_now_ns();
        for (size_t k = 0; k < per && rc == 0; k++)
            rc = wl_event_set_seq(&ev[k], ++seq);
        if (rc == 0)
            rc = sxp_stream_append_batch(s, "batch", 5, (const sxp_value *const *)vals, per, &err);
        uint64_t t1 = stats_now_ns();
        if (rc != 0) {
            wl_fail(row, rc, &err, "append-batch");
            break;
        }
        stats_hist_add(row->lat, t1 - t0);
        done += per;
        atomic_fetch_add_explicit(&progress_events, per, memory_order_relaxed);
        if (t1 > deadline)
            break;
    }
    bench_region_end(&r, row);
    row->fdatasyncs = (double)(wl_fdatasyncs(s) - f0);
    row->events = done;
    row->bytes = done * p->size;
out:
    if (s != NULL) {
        int crc = wl_close_timed(s, row);
        if (rc == 0 && crc != 0)
            rc = wl_fail(row, crc, NULL, "close");
    }
    for (size_t k = 0; k < per; k++)
        wl_event_free(&ev[k]);
    fsutil_rm_rf(dir);
out_free:
    free(ev);
    free(vals);
    return rc;
}

/* ---- kv-put / kv-get ---------------------------------------------------- */

#define WL_KV_KEYS_FULL 1000
#define WL_KV_KEYS_QUICK 50

static int wl_kv_key(char *out, size_t cap, uint64_t i, uint64_t keys)
{
    return snprintf(out, cap, "key%06llu", (unsigned long long)(i % keys));
}

/* Puts values into keys i (mod keys) for i in [from, from + count), timing
 * each put into row when row->lat is to be filled (timed != 0). */
static int wl_kv_put_loop(sxp_store *s, const struct bench_param *p, uint64_t count, uint64_t keys,
                          uint64_t deadline, int timed, struct bench_row *row, uint64_t *out_done)
{
    struct wl_event e;
    struct sxp_err err;
    char key[32];
    uint64_t i;
    int rc = wl_event_init(&e, p->size);
    for (i = 0; i < count && rc == 0; i++) {
        int n = wl_kv_key(key, sizeof(key), i, keys);
        uint64_t t0 = stats_now_ns();
        rc = wl_event_set_seq(&e, (int64_t)i + 1);
        if (rc == 0)
            rc = sxp_kv_put(s, key, (size_t)n, e.v, &err);
        uint64_t t1 = stats_now_ns();
        if (rc != 0) {
            wl_fail(row, rc, &err, "kv-put");
            break;
        }
        if (timed) {
            stats_hist_add(row->lat, t1 - t0);
            atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
        }
        if (t1 > deadline) {
            i++;
            break;
        }
    }
    *out_done = i;
    wl_event_free(&e);
    return rc;
}

int wl_sxp_kv_put(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row)
{
    char dir[4096];
    sxp_store *s = NULL;
    uint64_t keys = ctx->quick ? WL_KV_KEYS_QUICK : WL_KV_KEYS_FULL, done = 0;
    int rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    rc = wl_open(dir, p->nosync, row, &s);
    if (rc != 0)
        goto out;
    uint64_t f0 = wl_fdatasyncs(s);
    struct bench_region r;
    bench_region_begin(&r);
    rc = wl_kv_put_loop(s, p, bench_count(ctx, p), keys,
                        stats_now_ns() + (uint64_t)(ctx->seconds * 1e9), 1, row, &done);
    bench_region_end(&r, row);
    row->fdatasyncs = (double)(wl_fdatasyncs(s) - f0);
    row->events = done;
    row->bytes = done * p->size;
    wl_syncs_checked(row, p);
    if (row->note[0] == '\0')
        snprintf(row->note, sizeof(row->note), "%llu keys", (unsigned long long)keys);
out:
    if (s != NULL && wl_close_timed(s, row) != 0 && rc == 0)
        rc = -EIO;
    fsutil_rm_rf(dir);
    return rc;
}

int wl_sxp_kv_get(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row)
{
    char dir[4096], key[32];
    sxp_store *s = NULL;
    struct sxp_err err;
    uint64_t keys = ctx->quick ? WL_KV_KEYS_QUICK : WL_KV_KEYS_FULL, done = 0, i;
    int rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    /* Setup, untimed: every key put once, without syncs; then the store is
     * closed and opened again as a durable store. */
    rc = wl_open(dir, 1, row, &s);
    if (rc == 0)
        rc = wl_kv_put_loop(s, p, keys, keys, UINT64_MAX, 0, row, &done);
    if (s != NULL && sxp_store_close(s) != 0 && rc == 0)
        rc = -EIO;
    s = NULL;
    if (rc == 0)
        rc = wl_open(dir, 0, row, &s);
    if (rc != 0)
        goto out;
    uint64_t count = bench_count(ctx, p);
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    uint64_t f0 = wl_fdatasyncs(s);
    struct bench_region r;
    bench_region_begin(&r);
    for (i = 0; i < count; i++) {
        sxp_value *v = NULL;
        int n = wl_kv_key(key, sizeof(key), i * 7919, keys);
        uint64_t t0 = stats_now_ns();
        rc = sxp_kv_get(s, key, (size_t)n, &v, &err);
        uint64_t t1 = stats_now_ns();
        int ok = rc == 0 && sxp_value_type(v) == SXP_DICT;
        sxp_value_free(v);
        if (rc != 0) {
            wl_fail(row, rc, &err, "kv-get");
            break;
        }
        if (!ok) {
            rc = wl_fail(row, -EIO, NULL, "kv-get: a key put in setup came back empty");
            break;
        }
        stats_hist_add(row->lat, t1 - t0);
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
        if (t1 > deadline) {
            i++;
            break;
        }
    }
    bench_region_end(&r, row);
    row->fdatasyncs = (double)(wl_fdatasyncs(s) - f0);
    row->events = i;
    row->bytes = i * p->size;
    if (row->note[0] == '\0')
        snprintf(row->note, sizeof(row->note), "%llu keys", (unsigned long long)keys);
out:
    if (s != NULL && wl_close_timed(s, row) != 0 && rc == 0)
        rc = -EIO;
    fsutil_rm_rf(dir);
    return rc;
}

/* ---- blob/put ----------------------------------------------------------- */

int wl_sxp_blob_put(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row)
{
    char dir[4096], cid[SXP_CID_LEN + 1];
    sxp_store *s = NULL;
    struct sxp_err err;
    uint64_t count = bench_count(ctx, p), i = 0;
    char *blob = malloc(p->size);
    int rc = blob == NULL ? -ENOMEM : fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0) {
        free(blob);
        return rc;
    }
    /* Distinct bytes for every put (blob/put is idempotent, so a repeated
     * blob would cost nothing). */
    const char *fill = event_filler();
    for (size_t k = 0; k < p->size; k++)
        blob[k] = fill[k % ((size_t)1 << 20)];
    rc = wl_open(dir, p->nosync, row, &s);
    if (rc != 0)
        goto out;
    uint64_t f0 = wl_fdatasyncs(s);
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    struct bench_region r;
    bench_region_begin(&r);
    for (i = 0; i < count; i++) {
        memcpy(blob, &i, sizeof(i));
        uint64_t t0 = stats_now_ns();
        rc = sxp_blob_put(s, blob, p->size, cid, &err);
        uint64_t t1 = stats_now_ns();
        if (rc != 0) {
            wl_fail(row, rc, &err, "blob/put");
            break;
        }
        stats_hist_add(row->lat, t1 - t0);
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
        if (t1 > deadline) {
            i++;
            break;
        }
    }
    bench_region_end(&r, row);
    row->fdatasyncs = (double)(wl_fdatasyncs(s) - f0);
    row->events = i;
    row->bytes = i * p->size;
    wl_syncs_checked(row, p);
out:
    if (s != NULL && wl_close_timed(s, row) != 0 && rc == 0)
        rc = -EIO;
    free(blob);
    fsutil_rm_rf(dir);
    return rc;
}
