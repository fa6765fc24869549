/*
 * progress.c -- the progress line on stderr, drawn by fsck_run's thread
 * every 200 ms while the workers check, only when stderr is a terminal
 * (main.c decides):
 *
 *   [#########...........]  812/3000 streams  1.21/3.40 GB  604 MB/s  ETA 0:03
 */
#include <stdio.h>

#include "fsck_int.h"

#define FSCK_BAR_WIDTH 24

void fsck_progress_draw(const struct fsck_ctx *c, uint64_t elapsed_ns, int done)
{
    if (done) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        return;
    }
    uint64_t bytes = __atomic_load_n(&c->bytes_done, __ATOMIC_RELAXED);
    size_t streams = __atomic_load_n(&c->streams_done, __ATOMIC_RELAXED);
    uint64_t total = c->total_bytes > bytes ? c->total_bytes : bytes;
    double secs = (double)elapsed_ns / 1e9;
    double rate = secs > 0 ? (double)bytes / secs : 0;
    char bar[FSCK_BAR_WIDTH + 1];
    size_t fill = total ? (size_t)((double)bytes / (double)total * FSCK_BAR_WIDTH) : 0;
    for (size_t i = 0; i < FSCK_BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[FSCK_BAR_WIDTH] = '\0';
    long eta = rate > 0 ? (long)((double)(total - bytes) / rate) : 0;
    fprintf(stderr, "\r[%s] %zu/%zu streams  %.2f/%.2f GB  %.0f MB/s  ETA %ld:%02ld\033[K", bar,
            streams, c->nstreams, (double)bytes / 1e9, (double)total / 1e9, rate / 1e6, eta / 60,
            eta % 60);
    fflush(stderr);
}
