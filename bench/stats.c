/*
 * stats.c -- latency histograms, the clock and the CPU meter of sxp-bench.
 *
 * HISTOGRAM LAYOUT. A value v (nanoseconds) falls in bucket
 *     exp * STATS_SUB + sub
 * where, for v < STATS_SUB, exp = 0 and sub = v (exact), and otherwise
 * exp = 1 + floor(log2 v) - STATS_SUB_BITS and sub = v >> (exp - 1) with
 * its top bit dropped. Bucket b therefore covers [lo(b), lo(b) + 2^(exp-1))
 * and the relative width of any bucket is at most 1/STATS_SUB. A quantile is
 * reported as the upper edge of the bucket it falls in, so it never
 * understates a latency. Values past the last bucket land in it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

static unsigned stats_bucket(uint64_t v)
{
    if (v < STATS_SUB)
        return (unsigned)v;
    unsigned top = 63u - (unsigned)__builtin_clzll(v); /* floor(log2 v) */
    unsigned exp = top + 1u - STATS_SUB_BITS;
    if (exp >= STATS_EXP)
        return STATS_BUCKETS - 1;
    unsigned sub = (unsigned)(v >> (exp - 1)) & (STATS_SUB - 1);
    return exp * STATS_SUB + sub;
}

/* The largest value that falls in bucket b. */
static uint64_t stats_bucket_high(unsigned b)
{
    unsigned exp = b / STATS_SUB, sub = b % STATS_SUB;
    if (exp == 0)
        return sub;
    uint64_t lo = ((uint64_t)(sub | STATS_SUB)) << (exp - 1);
    return lo + (((uint64_t)1 << (exp - 1)) - 1);
}

struct stats_hist *stats_hist_new(void)
{
    return calloc(1, sizeof(struct stats_hist));
}

void stats_hist_free(struct stats_hist *h)
{
    free(h);
}

struct stats_hist **stats_hists_new(int n)
{
    struct stats_hist **v = calloc((size_t)n, sizeof(*v));
    for (int i = 0; v != NULL && i < n; i++)
        if ((v[i] = stats_hist_new()) == NULL) {
            stats_hists_free(v, n);
            v = NULL;
        }
    return v;
}

void stats_hists_free(struct stats_hist **v, int n)
{
    if (v == NULL)
        return;
    for (int i = 0; i < n; i++)
        stats_hist_free(v[i]);
    free(v);
}

void stats_hists_merge(struct stats_hist *dst, struct stats_hist *const *v, int n)
{
    for (int i = 0; i < n; i++)
        stats_hist_merge(dst, v[i]);
}

void stats_hist_add(struct stats_hist *h, uint64_t ns)
{
    h->counts[stats_bucket(ns)]++;
    h->n++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src)
{
    for (unsigned b = 0; b < STATS_BUCKETS; b++)
        dst->counts[b] += src->counts[b];
    dst->n += src->n;
    dst->sum_ns += src->sum_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
}

uint64_t stats_hist_quantile(const struct stats_hist *h, double q)
{
    if (h == NULL || h->n == 0)
        return 0;
    /* The rank of the sample at fraction q, 1-based, rounded up. */
    double want = q * (double)h->n;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < STATS_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            uint64_t hi = stats_bucket_high(b);
            return hi < h->max_ns ? hi : h->max_ns;
        }
    }
    return h->max_ns;
}

void stats_hist_write_cdf(const struct stats_hist *h, FILE *f)
{
    if (h == NULL || h->n == 0)
        return;
    uint64_t seen = 0;
    for (unsigned b = 0; b < STATS_BUCKETS; b++) {
        if (h->counts[b] == 0)
            continue;
        seen += h->counts[b];
        uint64_t hi = stats_bucket_high(b);
        if (hi > h->max_ns)
            hi = h->max_ns;
        fprintf(f, "%.3f %.6f\n", (double)hi / 1000.0, (double)seen / (double)h->n);
    }
}

uint64_t stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double stats_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
