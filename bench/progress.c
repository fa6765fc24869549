/*
 * progress.c -- one progress line on stderr, redrawn four times a second by
 * a thread of its own, and only when stderr is a terminal (so logs and CI
 * output stay clean). Workloads only add to progress_events.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

_Atomic uint64_t progress_events;

static pthread_mutex_t progress_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t progress_cv = PTHREAD_COND_INITIALIZER;
static pthread_t progress_tid;
static int progress_on;    /* the thread runs */
static int progress_quit;  /* asks it to stop */
static int progress_shown; /* a line is on the screen */
static char progress_name[64];
static int progress_index, progress_total;
static uint64_t progress_t0_ns;

static void progress_draw_locked(void)
{
    double secs = (double)(stats_now_ns() - progress_t0_ns) / 1e9;
    unsigned long long ev = atomic_load_explicit(&progress_events, memory_order_relaxed);
    fprintf(stderr, "\r\033[K[%d/%d] %-32s %6.1fs %12llu events", progress_index, progress_total,
            progress_name, secs, ev);
    fflush(stderr);
    progress_shown = 1;
}

static void *progress_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&progress_mu);
    while (!progress_quit) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&progress_cv, &progress_mu, &ts);
        if (!progress_quit && progress_name[0])
            progress_draw_locked();
    }
    pthread_mutex_unlock(&progress_mu);
    return NULL;
}

void progress_start(void)
{
    if (!isatty(STDERR_FILENO))
        return;
    if (pthread_create(&progress_tid, NULL, progress_main, NULL) == 0)
        progress_on = 1;
}

void progress_stop(void)
{
    if (!progress_on)
        return;
    pthread_mutex_lock(&progress_mu);
    progress_quit = 1;
    pthread_cond_signal(&progress_cv);
    pthread_mutex_unlock(&progress_mu);
    pthread_join(progress_tid, NULL);
    progress_on = 0;
    progress_clear();
}

void progress_set(const char *name, int index, int total)
{
    pthread_mutex_lock(&progress_mu);
    snprintf(progress_name, sizeof(progress_name), "%s", name);
    progress_index = index;
    progress_total = total;
    progress_t0_ns = stats_now_ns();
    atomic_store(&progress_events, 0);
    pthread_mutex_unlock(&progress_mu);
}

void progress_clear(void)
{
    pthread_mutex_lock(&progress_mu);
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        progress_shown = 0;
    }
    pthread_mutex_unlock(&progress_mu);
}
