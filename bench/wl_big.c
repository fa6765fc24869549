/*
 * wl_big.c -- the sxp workloads that need a big store prepared first: reads
 * of a big log, cost growth over many streams and long logs, and open time.
 *
 * FIXTURES. A prepared store is built once, the first time a row needs it,
 * and kept until the run ends (wl_big_cleanup), so that several rows share
 * it. Building is setup, never timed, and is done with SXP_SYNC_NONE (the
 * same bytes on disk, without waiting for a sync per event); the store is
 * then closed cleanly and every row opens it again in the mode it measures.
 * Building stops at its size or at its time budget, whichever comes first;
 * the row's note then says the size reached.
 *
 *   kind      content                                    rows
 *   BIGLOG    one stream of 100 B events, 1 GB           read-whole, read-range
 *   GROWLOG   one stream of 1 KiB events, 1 MB, 1 GB     growth-log, growth-log-range,
 *             or 4 GB                                    read-whole-1k
 *   STREAMS   N streams of one event each                growth-streams
 *   OPEN      10,000 streams of 1,000 100 B events       open-clean, open-killed
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wl.h"

enum wl_kind { WL_BIGLOG, WL_GROWLOG, WL_STREAMS, WL_OPEN };

struct wl_fixture {
    int used;
    enum wl_kind kind;
    uint64_t scale; /* as asked: bytes of log, or streams */
    int rc;         /* 0 built, -errno failed */
    char dir[4096];
    uint64_t events;  /* in the main stream (BIGLOG, GROWLOG) */
    int64_t top;      /* its last seq once rows appended to it; 0: events */
    uint64_t bytes;   /* payload bytes of those events */
    uint64_t streams; /* streams created (STREAMS, OPEN) */
    int64_t *hw;      /* per stream (STREAMS, OPEN) */
    double build_s;
    char note[120];
};

#define WL_FIXTURES 12
#define WL_FILL_BATCH 1000
#define WL_OPEN_EVENTS_FULL 1000
#define WL_OPEN_EVENTS_QUICK 100

static struct wl_fixture wl_fixtures[WL_FIXTURES];

static double wl_build_budget_s(const struct bench_ctx *ctx)
{
    if (ctx->quick)
        return 10.0;
    double whole = ctx->seconds * ctx->rounds; /* --seconds as given */
    return whole * 15 > 60 ? whole * 15 : 60;
}

static void wl_human(char *out, size_t cap, uint64_t bytes)
{
    if (bytes >= ((uint64_t)1 << 30))
        snprintf(out, cap, "%.2f GiB", (double)bytes / (double)((uint64_t)1 << 30));
    else if (bytes >= ((uint64_t)1 << 20))
        snprintf(out, cap, "%.1f MiB", (double)bytes / (double)((uint64_t)1 << 20));
    else
        snprintf(out, cap, "%.1f KiB", (double)bytes / 1024.0);
}

/* Appends batches of `size`-byte events to stream until it holds
 * target_bytes or the deadline passes. */
static int wl_fill_stream(sxp_store *s, const char *stream, size_t size, uint64_t target_bytes,
                          uint64_t deadline, int64_t *hw, uint64_t *events, uint64_t *bytes)
{
    struct wl_event ev[WL_FILL_BATCH];
    const sxp_value *vals[WL_FILL_BATCH];
    struct sxp_err err;
    int rc = 0;
    size_t k, ready = 0;
    for (k = 0; k < WL_FILL_BATCH && rc == 0; k++, ready++) {
        rc = wl_event_init(&ev[k], size);
        vals[k] = ev[k].v;
    }
    while (rc == 0 && *bytes < target_bytes && stats_now_ns() < deadline) {
        uint64_t left = (target_bytes - *bytes + size - 1) / size;
        size_t per = left < WL_FILL_BATCH ? (size_t)left : WL_FILL_BATCH;
        for (k = 0; k < per && rc == 0; k++)
            rc = wl_event_set_seq(&ev[k], *hw + 1 + (int64_t)k);
        if (rc == 0)
            rc = sxp_stream_append_batch(s, stream, strlen(stream), (const sxp_value *const *)vals,
                                         per, &err);
        if (rc != 0) {
            fprintf(stderr, "sxp-bench: filling %s: %s\n", stream, err.msg);
            break;
        }
        *hw += (int64_t)per;
        *events += per;
        *bytes += per * size;
        atomic_fetch_add_explicit(&progress_events, per, memory_order_relaxed);
    }
    for (k = 0; k < ready; k++)
        wl_event_free(&ev[k]);
    return rc;
}

static int wl_build(const struct bench_ctx *ctx, struct wl_fixture *fx, struct bench_row *row)
{
    static const char *names[] = {"fx-biglog", "fx-growlog", "fx-streams", "fx-open"};
    char name[64], human[32];
    sxp_store *s = NULL;
    struct sxp_err err;
    uint64_t t0 = stats_now_ns();
    uint64_t deadline = t0 + (uint64_t)(wl_build_budget_s(ctx) * 1e9);
    snprintf(name, sizeof(name), "%s-%llu", names[fx->kind], (unsigned long long)fx->scale);
    int rc = fsutil_fresh_dir(ctx, name, fx->dir, sizeof(fx->dir));
    if (rc == 0)
        rc = wl_open(fx->dir, 1, row, &s);
    if (rc != 0)
        goto out;
    int64_t hw = 0;
    switch (fx->kind) {
    case WL_BIGLOG:
    case WL_GROWLOG:
        rc = wl_fill_stream(s, "log", fx->kind == WL_BIGLOG ? 100 : 1024, fx->scale, deadline, &hw,
                            &fx->events, &fx->bytes);
        wl_human(human, sizeof(human), fx->bytes);
        snprintf(fx->note, sizeof(fx->note), "log %s, %llu events", human,
                 (unsigned long long)fx->events);
        break;
    case WL_STREAMS:
    case WL_OPEN: {
        uint64_t per = fx->kind == WL_STREAMS ? 1
                       : ctx->quick           ? WL_OPEN_EVENTS_QUICK
                                              : WL_OPEN_EVENTS_FULL;
        fx->hw = calloc(fx->scale, sizeof(*fx->hw));
        if (fx->hw == NULL) {
            rc = -ENOMEM;
            break;
        }
        for (uint64_t i = 0; i < fx->scale && rc == 0; i++) {
            char stream[32];
            uint64_t ev = 0, by = 0;
            if (stats_now_ns() > deadline)
                break;
            snprintf(stream, sizeof(stream), "s%07llu", (unsigned long long)i);
            rc = wl_fill_stream(s, stream, 100, per * 100, UINT64_MAX, &fx->hw[i], &ev, &by);
            fx->events += ev;
            fx->bytes += by;
            fx->streams = i + 1;
        }
        wl_human(human, sizeof(human), fx->bytes);
        snprintf(fx->note, sizeof(fx->note), "%llu streams x %llu events, %s",
                 (unsigned long long)fx->streams, (unsigned long long)per, human);
        break;
    }
    }
out:
    if (s != NULL) {
        int crc = sxp_store_close(s);
        if (rc == 0)
            rc = crc;
    }
    (void)err;
    /* The fixture's dirty pages go to disk now, not during the rows; and
     * one syncing open and close turn LOCK's "clean unsynced" into "clean",
     * so that no timed open pays the syncfs of lock.h K-6. */
    if (rc == 0)
        rc = fsutil_settle(fx->dir);
    if (rc == 0)
        rc = wl_open(fx->dir, 0, row, &s);
    if (rc == 0)
        rc = sxp_store_close(s);
    fx->build_s = (double)(stats_now_ns() - t0) / 1e9;
    if (ctx->verbose)
        fprintf(stderr, "sxp-bench: built %s in %.1fs: %s\n", name, fx->build_s, fx->note);
    fx->rc = rc;
    return rc;
}

/* The fixture of that kind and scale, built on first use. */
static int wl_fixture_get(const struct bench_ctx *ctx, enum wl_kind kind, uint64_t scale,
                          struct bench_row *row, struct wl_fixture **out)
{
    struct wl_fixture *fx = NULL;
    for (int i = 0; i < WL_FIXTURES; i++) {
        if (wl_fixtures[i].used && wl_fixtures[i].kind == kind && wl_fixtures[i].scale == scale) {
            *out = &wl_fixtures[i];
            if (wl_fixtures[i].rc != 0)
                snprintf(row->note, sizeof(row->note), "setup failed earlier");
            return wl_fixtures[i].rc;
        }
        if (!wl_fixtures[i].used && fx == NULL)
            fx = &wl_fixtures[i];
    }
    if (fx == NULL)
        return -ENOSPC;
    memset(fx, 0, sizeof(*fx));
    fx->used = 1;
    fx->kind = kind;
    fx->scale = scale;
    *out = fx;
    return wl_build(ctx, fx, row);
}

void wl_big_cleanup(void)
{
    for (int i = 0; i < WL_FIXTURES; i++) {
        if (!wl_fixtures[i].used)
            continue;
        fsutil_rm_rf(wl_fixtures[i].dir);
        free(wl_fixtures[i].hw);
        memset(&wl_fixtures[i], 0, sizeof(wl_fixtures[i]));
    }
}

/* ---- reads ---------------------------------------------------------------- */

/* What the scan of read-whole does with each event: checks that :seq goes
 * up by one and adds up the :data bytes, so the parsed value is used. */
struct wl_scan {
    int64_t next_seq;
    uint64_t events, data_bytes;
};

static int wl_scan_event(void *ctx, const sxp_value *ev)
{
    struct wl_scan *w = ctx;
    size_t len = 0;
    if (sxp_value_as_int(sxp_value_dict_get(ev, "seq", 3)) != w->next_seq)
        return -EILSEQ;
    sxp_value_as_str(sxp_value_dict_get(ev, "data", 4), &len);
    w->next_seq++;
    w->events++;
    w->data_bytes += len;
    return 0;
}

/* One whole-stream read: through sxp_stream_scan, or with p->list through
 * sxp_stream_read (the list is freed inside the time). *out_n: events. */
static int wl_read_once(const struct bench_param *p, sxp_store *s, uint64_t *out_n,
                        struct sxp_err *err)
{
    if (p->list) {
        sxp_value *list = NULL;
        int rc = sxp_stream_read(s, "log", 3, &list, err);
        *out_n = sxp_value_len(list);
        sxp_value_free(list);
        return rc;
    }
    struct wl_scan w = {.next_seq = 1};
    int rc = sxp_stream_scan(s, "log", 3, INT64_MIN, -1, wl_scan_event, &w, err);
    *out_n = w.events;
    return rc;
}

int wl_big_read_whole(const struct bench_ctx *ctx, const struct bench_param *p,
                      struct bench_row *row)
{
    struct wl_fixture *fx;
    sxp_store *s = NULL;
    struct sxp_err err;
    uint64_t count = bench_count(ctx, p), i;
    /* 100-byte events: the BIGLOG; 1 KiB events: a GROWLOG of that size. */
    int rc =
        wl_fixture_get(ctx, p->size == 100 ? WL_BIGLOG : WL_GROWLOG, bench_scale(ctx, p), row, &fx);
    if (rc == 0)
        rc = wl_open(fx->dir, 0, row, &s);
    if (rc != 0)
        return rc;
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    uint64_t f0 = wl_fdatasyncs(s);
    struct bench_region r;
    bench_region_begin(&r);
    for (i = 0; i < count; i++) {
        uint64_t n = 0;
        uint64_t t0 = stats_now_ns();
        rc = wl_read_once(p, s, &n, &err);
        uint64_t t1 = stats_now_ns();
        if (rc != 0) {
            wl_fail(row, rc, &err, "read");
            break;
        }
        if (n != fx->events) {
            rc = wl_fail(row, -EIO, NULL, "read returned the wrong number of events");
            break;
        }
        stats_hist_add(row->lat, t1 - t0);
        row->events += n;
        row->bytes += fx->bytes;
        atomic_fetch_add_explicit(&progress_events, n, memory_order_relaxed);
        if (t1 > deadline)
            break;
    }
    bench_region_end(&r, row);
    row->fdatasyncs = (double)(wl_fdatasyncs(s) - f0);
    if (row->note[0] == '\0')
        snprintf(row->note, sizeof(row->note), "%s; %s", fx->note,
                 p->list ? "sxp_stream_read, list freed inside the time" : "sxp_stream_scan");
    sxp_store_close(s);
    return rc;
}

/* read-range calls of p->batch events from around the middle of the log of
 * fixture fx. */
static int wl_range_loop(const struct bench_ctx *ctx, const struct bench_param *p,
                         struct wl_fixture *fx, size_t event_size, struct bench_row *row)
{
    sxp_store *s = NULL;
    struct sxp_err err;
    uint64_t count = bench_count(ctx, p), i;
    uint64_t x = 88172645463325252u;
    int64_t hw = (int64_t)fx->events;
    int64_t spread = hw / 20 > 1 ? hw / 20 : 1; /* the middle 10% */
    int limit = p->batch > 0 ? p->batch : 100;
    int rc = wl_open(fx->dir, 0, row, &s);
    if (rc != 0)
        return rc;
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    uint64_t f0 = wl_fdatasyncs(s);
    struct bench_region r;
    bench_region_begin(&r);
    for (i = 0; i < count; i++) {
        sxp_value *list = NULL;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t from = hw / 2 - spread + (int64_t)(x % (uint64_t)(2 * spread)) + 1;
        uint64_t t0 = stats_now_ns();
        rc = sxp_stream_read_range(s, "log", 3, from, limit, &list, &err);
        uint64_t t1 = stats_now_ns();
        size_t n = sxp_value_len(list);
        int64_t first =
            n > 0 ? sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(list, 0), "seq", 3))
                  : -1;
        sxp_value_free(list);
        if (rc != 0) {
            wl_fail(row, rc, &err, "read-range");
            break;
        }
        if (n == 0 || first != from) {
            rc = wl_fail(row, -EIO, NULL, "read-range did not start at the seq asked for");
            break;
        }
        stats_hist_add(row->lat, t1 - t0);
        row->events += n;
        row->bytes += n * event_size;
        atomic_fetch_add_explicit(&progress_events, n, memory_order_relaxed);
        if (t1 > deadline) {
            i++;
            break;
        }
    }
    bench_region_end(&r, row);
    row->fdatasyncs = (double)(wl_fdatasyncs(s) - f0);
    if (row->note[0] == '\0')
        snprintf(row->note, sizeof(row->note), "%d events per call; %s", limit, fx->note);
    sxp_store_close(s);
    return rc;
}

int wl_big_read_range(const struct bench_ctx *ctx, const struct bench_param *p,
                      struct bench_row *row)
{
    struct wl_fixture *fx;
    int rc = wl_fixture_get(ctx, WL_BIGLOG, bench_scale(ctx, p), row, &fx);
    return rc != 0 ? rc : wl_range_loop(ctx, p, fx, 100, row);
}

int wl_big_growth_log_range(const struct bench_ctx *ctx, const struct bench_param *p,
                            struct bench_row *row)
{
    struct wl_fixture *fx;
    int rc = wl_fixture_get(ctx, WL_GROWLOG, bench_scale(ctx, p), row, &fx);
    return rc != 0 ? rc : wl_range_loop(ctx, p, fx, 1024, row);
}

/* ---- cost growth: appends over many streams or onto a long log ------------ */

/* One writer, one event per ack, streams taken round-robin from
 * fx->hw[0..nstreams) (names s0000000...); fx->hw is kept current. */
static int wl_round_robin(const struct bench_ctx *ctx, const struct bench_param *p,
                          struct wl_fixture *fx, uint64_t nstreams, int64_t *hw,
                          const char *fixed_name, struct bench_row *row)
{
    sxp_store *s = NULL;
    struct sxp_err err;
    struct wl_event e;
    char stream[32];
    uint64_t count = bench_count(ctx, p), i;
    int rc = wl_event_init(&e, p->size);
    if (rc == 0)
        rc = wl_open(fx->dir, p->nosync, row, &s);
    if (rc != 0) {
        wl_event_free(&e);
        return rc;
    }
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    uint64_t f0 = wl_fdatasyncs(s);
    struct bench_region r;
    bench_region_begin(&r);
    for (i = 0; i < count; i++) {
        uint64_t k = i % nstreams;
        int n = fixed_name != NULL
                    ? snprintf(stream, sizeof(stream), "%s", fixed_name)
                    : snprintf(stream, sizeof(stream), "s%07llu", (unsigned long long)k);
        uint64_t t0 = stats_now_ns();
        rc = wl_event_set_seq(&e, hw[k] + 1);
        if (rc == 0)
            rc = sxp_stream_append(s, stream, (size_t)n, e.v, &err);
        uint64_t t1 = stats_now_ns();
        if (rc != 0) {
            wl_fail(row, rc, &err, "append");
            break;
        }
        hw[k]++;
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
        snprintf(row->note, sizeof(row->note), "%s", fx->note);
    int crc = wl_close_timed(s, row);
    if (rc == 0 && crc != 0)
        rc = wl_fail(row, crc, NULL, "close");
    wl_event_free(&e);
    return rc;
}

int wl_big_growth_streams(const struct bench_ctx *ctx, const struct bench_param *p,
                          struct bench_row *row)
{
    struct wl_fixture *fx;
    int rc = wl_fixture_get(ctx, WL_STREAMS, bench_scale(ctx, p), row, &fx);
    if (rc != 0)
        return rc;
    if (fx->streams == 0)
        return wl_fail(row, -EIO, NULL, "no stream was created in the setup budget");
    return wl_round_robin(ctx, p, fx, fx->streams, fx->hw, NULL, row);
}

int wl_big_growth_log(const struct bench_ctx *ctx, const struct bench_param *p,
                      struct bench_row *row)
{
    struct wl_fixture *fx;
    int rc = wl_fixture_get(ctx, WL_GROWLOG, bench_scale(ctx, p), row, &fx);
    if (rc != 0)
        return rc;
    int64_t hw = fx->top ? fx->top : (int64_t)fx->events;
    rc = wl_round_robin(ctx, p, fx, 1, &hw, "log", row);
    /* The appended events are part of the log now, and the next run of this
     * row (--rounds) goes on after them; read-range rows on this fixture
     * pick seqs from the middle of the filled part, still valid. */
    fx->top = hw;
    return rc;
}

/* ---- open time ------------------------------------------------------------ */

#define WL_KILL_STREAMS 10

/* The streams the killed child writes: p->batch, else WL_KILL_STREAMS;
 * at most the fixture's. */
static uint64_t wl_kill_streams(const struct bench_param *p, const struct wl_fixture *fx)
{
    uint64_t n = p->batch ? (uint64_t)p->batch : WL_KILL_STREAMS;
    return n < fx->streams ? n : fx->streams;
}

/* In a child: open the store (under SXP_SYNC_NONE when nosync), append
 * one acknowledged event to each of the first nkill streams, and die
 * without closing (SIGKILL). */
static void wl_kill_child(struct wl_fixture *fx, uint64_t nkill, int nosync)
{
    struct sxp_options o;
    struct sxp_err err;
    struct wl_event e;
    sxp_store *s = NULL;
    sxp_options_init(&o);
    o.quiet = 1;
    if (nosync)
        o.sync = SXP_SYNC_NONE;
    if (sxp_store_open(fx->dir, &o, &s, &err) != 0 || wl_event_init(&e, 100) != 0)
        _exit(3);
    for (uint64_t i = 0; i < nkill; i++) {
        char stream[32];
        int n = snprintf(stream, sizeof(stream), "s%07llu", (unsigned long long)i);
        if (wl_event_set_seq(&e, fx->hw[i] + 1) != 0 ||
            sxp_stream_append(s, stream, (size_t)n, e.v, &err) != 0)
            _exit(4);
    }
    raise(SIGKILL);
    _exit(5);
}

int wl_big_open(const struct bench_ctx *ctx, const struct bench_param *p, struct bench_row *row)
{
    struct wl_fixture *fx;
    struct sxp_err err;
    uint64_t count = bench_count(ctx, p), i;
    int killed = p->nosync; /* reused as the "after a kill" switch */
    int rc = wl_fixture_get(ctx, WL_OPEN, bench_scale(ctx, p), row, &fx);
    if (rc != 0)
        return rc;
    uint64_t nkill = wl_kill_streams(p, fx);
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    double cpu = 0, secs = 0;
    for (i = 0; i < count && rc == 0; i++) {
        sxp_store *s = NULL;
        if (killed) {
            pid_t pid = fork();
            if (pid < 0)
                return -errno;
            if (pid == 0)
                wl_kill_child(fx, nkill, p->child_nosync);
            int status = 0;
            if (waitpid(pid, &status, 0) < 0)
                return -errno;
            if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
                snprintf(row->note, sizeof(row->note), "kill child failed (status %d)", status);
                return -EIO;
            }
            for (uint64_t k = 0; k < nkill; k++)
                fx->hw[k]++;
        }
        struct sxp_options o;
        sxp_options_init(&o);
        o.quiet = 1;
        struct bench_row part;
        memset(&part, 0, sizeof(part));
        struct bench_region r;
        bench_region_begin(&r);
        uint64_t t0 = stats_now_ns();
        rc = sxp_store_open(fx->dir, &o, &s, &err);
        uint64_t t1 = stats_now_ns();
        bench_region_end(&r, &part);
        if (rc != 0)
            return wl_fail(row, rc, &err, "open");
        cpu += part.cpu_s;
        secs += part.seconds;
        stats_hist_add(row->lat, t1 - t0);
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
        struct sxp_stats st;
        sxp_store_stats(s, &st);
        if (killed && !st.recovered)
            rc = wl_fail(row, -EIO, NULL, "open after a kill did not run recovery");
        /* Every append the child had acknowledged must have survived. */
        for (uint64_t k = 0; killed && rc == 0 && k < nkill; k++) {
            char stream[32];
            int64_t last = 0;
            int n = snprintf(stream, sizeof(stream), "s%07llu", (unsigned long long)k);
            rc = sxp_stream_last_seq(s, stream, (size_t)n, &last, &err);
            if (rc == 0 && last != fx->hw[k])
                rc = wl_fail(row, -EIO, NULL, "an acknowledged append was lost in the kill");
        }
        int crc = sxp_store_close(s);
        if (rc == 0 && crc != 0)
            rc = wl_fail(row, crc, NULL, "close");
        if (stats_now_ns() > deadline) {
            i++;
            break;
        }
    }
    row->seconds = secs;
    row->cpu_s = cpu;
    row->events = i;
    row->fdatasyncs = -1;
    row->no_rate = 1;
    if (row->note[0] == '\0' && killed && p->child_nosync)
        snprintf(row->note, sizeof(row->note), "%s; %llu opens, the child under SXP_SYNC_NONE",
                 fx->note, (unsigned long long)i);
    else if (row->note[0] == '\0' && killed && nkill != WL_KILL_STREAMS)
        snprintf(row->note, sizeof(row->note), "%s; %llu opens, %llu streams written", fx->note,
                 (unsigned long long)i, (unsigned long long)nkill);
    else if (row->note[0] == '\0')
        snprintf(row->note, sizeof(row->note), "%s; %llu opens", fx->note, (unsigned long long)i);
    return rc;
}
