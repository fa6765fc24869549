/*
 * measure.c -- the timed region of a workload (bench.h, R-2 and R-5), the
 * timed close after it, and
 * the writer threads of the concurrent workloads.
 *
 * The caller begins its region before it creates the writer threads and
 * ends it after joining them, so thread creation and teardown are inside the
 * region; for 32 threads that is well under a millisecond, far below the
 * seconds a region lasts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"

void bench_region_begin(struct bench_region *r)
{
    r->cpu0_s = stats_cpu_s();
    r->t0_ns = stats_now_ns();
}

void bench_region_end(const struct bench_region *r, struct bench_row *row)
{
    uint64_t t1 = stats_now_ns();
    row->seconds = (double)(t1 - r->t0_ns) / 1e9;
    row->cpu_s = stats_cpu_s() - r->cpu0_s;
}

void bench_close_end(uint64_t t0_ns, struct bench_row *row)
{
    row->close_s = (double)(stats_now_ns() - t0_ns) / 1e9;
}

struct bench_thread {
    pthread_t tid;
    int (*fn)(void *arg, int i);
    void *arg;
    int i;
    int rc;
};

static void *bench_thread_main(void *p)
{
    struct bench_thread *t = p;
    t->rc = t->fn(t->arg, t->i);
    return NULL;
}

int bench_threads_run(int n, int (*fn)(void *arg, int i), void *arg)
{
    struct bench_thread *t = calloc((size_t)n, sizeof(*t));
    int rc = 0, started = 0;
    if (t == NULL)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        t[i].fn = fn;
        t[i].arg = arg;
        t[i].i = i;
        int e = pthread_create(&t[i].tid, NULL, bench_thread_main, &t[i]);
        if (e != 0) {
            rc = -e;
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i].tid, NULL);
        if (rc == 0 && t[i].rc != 0)
            rc = t[i].rc;
    }
    free(t);
    return rc;
}
