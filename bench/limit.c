/*
 * limit.c -- the disk's limit: what plain C loops get out of this disk, the
 * yardstick every durable engine is measured against.
 *
 *   limit_write_sync    one write + one fdatasync per event, appending to a
 *                       growing file (each sync also commits the new size);
 *   limit_inplace_sync  the same, but into space written (with zeros) and
 *                       synced beforehand, so no sync has metadata to commit;
 *   limit_group_sync    one write of p->batch lines + one fdatasync per round,
 *                       appending: the best any group commit of that many
 *                       events can do;
 *   limit_files_sync    p->writers threads, each appending to its own file
 *                       with one write + one fdatasync per event: what the
 *                       disk gives writers that cannot share a sync.
 *
 * With p->busy_cpu, limit_group_sync runs beside one more thread that keeps
 * a CPU busy (a loop with no system calls) for as long as it runs. That row
 * measures the machine, not an engine: on a virtual machine a busy vCPU can
 * slow the disk (the host has less CPU left for its I/O, or freezes the
 * busy vCPU), and every multi-threaded committer keeps some CPU busy while
 * its sync runs (waking its callers, or their spinning). The report shows
 * the row against limit/per-8-lines (no target); docs/performance.md,
 * stop 26, says what it showed on this machine. Its CPU column counts the
 * busy thread too.
 *
 * Lines are as long as sxp's lines for the same events (event.c), and the
 * fdatasyncs are counted by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define LIMIT_MAX_LINE ((size_t)17 << 10)
#define LIMIT_PREWRITE_MAX ((uint64_t)512 << 20)

static int limit_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static int limit_pwrite_all(int fd, const char *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, buf, len, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int limit_open(const struct bench_ctx *ctx, struct bench_row *row, char *dir, size_t cap)
{
    int rc = fsutil_fresh_dir(ctx, row->name, dir, cap);
    if (rc != 0)
        return rc;
    char path[4200];
    snprintf(path, sizeof(path), "%s/limit.log", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    rc = fsutil_fsync_dir(dir);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int limit_write_sync(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row)
{
    char dir[4096], *line = NULL;
    uint64_t count = bench_count(ctx, p), fsyncs = 0, i;
    int rc = 0;
    int fd = limit_open(ctx, row, dir, sizeof(dir));
    if (fd < 0)
        return fd;
    line = malloc(LIMIT_MAX_LINE);
    if (line == NULL) {
        rc = -ENOMEM;
        goto out_close;
    }
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    struct bench_region r;
    bench_region_begin(&r);
    for (i = 0; i < count; i++) {
        size_t len = event_line(line, LIMIT_MAX_LINE, p->size, (int64_t)i + 1);
        uint64_t t0 = stats_now_ns();
        rc = limit_write_all(fd, line, len);
        if (rc == 0)
            rc = fdatasync(fd) == 0 ? 0 : -errno;
        uint64_t t1 = stats_now_ns();
        if (rc != 0)
            break;
        fsyncs++;
        stats_hist_add(row->lat, t1 - t0);
        row->bytes += len - 18;
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
        if (t1 > deadline) {
            i++;
            break;
        }
    }
    bench_region_end(&r, row);
    row->events = i;
    row->fdatasyncs = (double)fsyncs;
out_close:
    close(fd);
    free(line);
    fsutil_rm_rf(dir);
    return rc;
}

int limit_inplace_sync(const struct bench_ctx *ctx, const struct bench_param *p,
                       struct bench_row *row)
{
    char dir[4096], *line = NULL, *zeros = NULL;
    uint64_t count = bench_count(ctx, p), fsyncs = 0, i = 0;
    int rc = 0;
    int fd = limit_open(ctx, row, dir, sizeof(dir));
    if (fd < 0)
        return fd;
    line = malloc(LIMIT_MAX_LINE);
    zeros = calloc(1, (size_t)1 << 20);
    if (line == NULL || zeros == NULL) {
        rc = -ENOMEM;
        goto out_close;
    }
    /* Setup, untimed: write zeros over the space the loop will use, as a
     * database pre-zeroes its log segments, and sync it. */
    size_t line_len = event_line(line, LIMIT_MAX_LINE, p->size, 1);
    uint64_t space = count * (line_len + 8);
    if (space > LIMIT_PREWRITE_MAX)
        space = LIMIT_PREWRITE_MAX;
    rc = posix_fallocate(fd, 0, (off_t)space);
    if (rc != 0) {
        rc = -rc;
        goto out_close;
    }
    for (uint64_t off = 0; off < space; off += (uint64_t)1 << 20) {
        size_t n = space - off < ((uint64_t)1 << 20) ? (size_t)(space - off) : (size_t)1 << 20;
        rc = limit_pwrite_all(fd, zeros, n, off);
        if (rc != 0)
            goto out_close;
    }
    if (fdatasync(fd) != 0) {
        rc = -errno;
        goto out_close;
    }
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    uint64_t off = 0;
    struct bench_region r;
    bench_region_begin(&r);
    for (i = 0; i < count; i++) {
        size_t len = event_line(line, LIMIT_MAX_LINE, p->size, (int64_t)i + 1);
        if (off + len > space)
            break;
        uint64_t t0 = stats_now_ns();
        rc = limit_pwrite_all(fd, line, len, off);
        if (rc == 0)
            rc = fdatasync(fd) == 0 ? 0 : -errno;
        uint64_t t1 = stats_now_ns();
        if (rc != 0)
            break;
        off += len;
        fsyncs++;
        stats_hist_add(row->lat, t1 - t0);
        row->bytes += len - 18;
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
        if (t1 > deadline) {
            i++;
            break;
        }
    }
    bench_region_end(&r, row);
    row->events = i;
    row->fdatasyncs = (double)fsyncs;
out_close:
    close(fd);
    free(line);
    free(zeros);
    fsutil_rm_rf(dir);
    return rc;
}

/* p->busy_cpu: keeps a CPU busy until *arg turns 1. */
static void *limit_busy_main(void *arg)
{
    _Atomic int *stop = arg;
    volatile uint64_t spins = 0;
    while (!atomic_load_explicit(stop, memory_order_relaxed))
        spins++;
    return NULL;
}

int limit_group_sync(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row)
{
    char dir[4096], *buf = NULL;
    uint64_t count = bench_count(ctx, p), fsyncs = 0, done = 0;
    size_t per = p->batch > 0 ? (size_t)p->batch : 1;
    size_t cap = per * (p->size + 64);
    int rc = 0;
    int fd = limit_open(ctx, row, dir, sizeof(dir));
    if (fd < 0)
        return fd;
    buf = malloc(cap);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out_close;
    }
    _Atomic int busy_stop = 0;
    pthread_t busy;
    int busy_on = 0;
    if (p->busy_cpu) {
        rc = -pthread_create(&busy, NULL, limit_busy_main, &busy_stop);
        if (rc != 0)
            goto out_close;
        busy_on = 1;
    }
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    struct bench_region r;
    bench_region_begin(&r);
    while (done < count) {
        /* The round's lines are formatted inside the ack time, as a group
         * commit has to gather its events before it writes them. */
        uint64_t t0 = stats_now_ns();
        size_t len = 0;
        for (size_t k = 0; k < per; k++)
            len += event_line(buf + len, cap - len, p->size, (int64_t)(done + k + 1));
        rc = limit_write_all(fd, buf, len);
        if (rc == 0)
            rc = fdatasync(fd) == 0 ? 0 : -errno;
        uint64_t t1 = stats_now_ns();
        if (rc != 0)
            break;
        fsyncs++;
        done += per;
        stats_hist_add(row->lat, t1 - t0);
        row->bytes += len - per * 18;
        atomic_fetch_add_explicit(&progress_events, per, memory_order_relaxed);
        if (t1 > deadline)
            break;
    }
    bench_region_end(&r, row);
    row->events = done;
    row->fdatasyncs = (double)fsyncs;
    if (busy_on) {
        atomic_store_explicit(&busy_stop, 1, memory_order_relaxed);
        pthread_join(busy, NULL);
    }
out_close:
    close(fd);
    free(buf);
    fsutil_rm_rf(dir);
    return rc;
}

struct limit_files_job {
    const struct bench_ctx *ctx;
    const struct bench_param *p;
    const char *dir;
    uint64_t count;
    uint64_t deadline;
    _Atomic uint64_t claimed;
    _Atomic uint64_t done;
    _Atomic uint64_t bytes;
    _Atomic uint64_t fsyncs;
    struct stats_hist **lat;
};

static int limit_files_worker(void *arg, int t)
{
    struct limit_files_job *job = arg;
    char path[4200];
    char *line = malloc(LIMIT_MAX_LINE);
    int64_t seq = 0;
    int rc = 0;
    snprintf(path, sizeof(path), "%s/limit-%02d.log", job->dir, t);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || line == NULL) {
        rc = fd < 0 ? -errno : -ENOMEM;
        goto out;
    }
    while (atomic_fetch_add(&job->claimed, 1) < job->count && stats_now_ns() <= job->deadline) {
        size_t len = event_line(line, LIMIT_MAX_LINE, job->p->size, ++seq);
        uint64_t t0 = stats_now_ns();
        rc = limit_write_all(fd, line, len);
        if (rc == 0)
            rc = fdatasync(fd) == 0 ? 0 : -errno;
        uint64_t t1 = stats_now_ns();
        if (rc != 0)
            break;
        stats_hist_add(job->lat[t], t1 - t0);
        atomic_fetch_add(&job->done, 1);
        atomic_fetch_add(&job->fsyncs, 1);
        atomic_fetch_add(&job->bytes, len - 18);
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
    }
out:
    if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}

int limit_files_sync(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row)
{
    char dir[4096];
    struct limit_files_job job;
    int n = p->writers > 0 ? p->writers : 1;
    int rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    memset(&job, 0, sizeof(job));
    job.ctx = ctx;
    job.p = p;
    job.dir = dir;
    job.count = bench_count(ctx, p);
    job.lat = stats_hists_new(n);
    if (job.lat == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    struct bench_region r;
    job.deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    bench_region_begin(&r);
    rc = bench_threads_run(n, limit_files_worker, &job);
    bench_region_end(&r, row);
    stats_hists_merge(row->lat, job.lat, n);
    row->events = job.done;
    row->bytes = job.bytes;
    row->fdatasyncs = (double)job.fsyncs;
out:
    stats_hists_free(job.lat, n);
    fsutil_rm_rf(dir);
    return rc;
}
