/*
 * clock.h -- monotonic time in nanoseconds: group commit's round averages
 * and gathering deadline, fsck's progress and timing, the socket server's
 * deadlines and uptime.
 */
#ifndef SXP_CLOCK_H
#define SXP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

#endif
