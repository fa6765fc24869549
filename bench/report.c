/*
 * report.c -- what sxp-bench prints: the table, the target ratios (issue 5,
 * docs/performance.md), the JSON file and the charts.
 *
 * TABLE COLUMNS (bench.h says how each figure is measured):
 *   events/s, MB/s       events and payload megabytes (10^6) per second
 *   p50/p99/p99.9 us     ack latency per call, microseconds
 *   fsync/ev             fdatasync + fsync + syncfs calls per event ("-": unknown)
 *   cpu s/Mev            CPU seconds (user + system, all threads) per
 *                        million events
 * Open-time rows have no rate: their latency columns are the open time.
 *
 * CHARTS (--plot DIR). report_plot writes data files and series.gp into DIR,
 * then runs gnuplot on bench/plot.gp (its path is built in; the environment
 * variable SXP_BENCH_PLOT_GP overrides it), which draws
 *   throughput_writers.png  events/s against concurrent writers per engine
 *   latency_cdf_1.png       ack-latency CDF, one durable writer, per engine
 *   latency_cdf_8.png       ack-latency CDF, 8 concurrent writers, per engine
 * Running `gnuplot -e "dir='DIR'" bench/plot.gp` again redraws them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifndef SXP_BENCH_PLOT_GP
#define SXP_BENCH_PLOT_GP "bench/plot.gp"
#endif

static double report_rate(const struct bench_row *r)
{
    return r->seconds > 0 ? (double)r->events / r->seconds : 0.0;
}

/* the rate over the region and the close after it. */
static double report_rate_closed(const struct bench_row *r)
{
    double t = r->seconds + (r->close_s > 0 ? r->close_s : 0);
    return t > 0 ? (double)r->events / t : 0.0;
}

static double report_mbps(const struct bench_row *r)
{
    return r->seconds > 0 ? (double)r->bytes / r->seconds / 1e6 : 0.0;
}

static double report_us(const struct bench_row *r, double q)
{
    return (double)stats_hist_quantile(r->lat, q) / 1000.0;
}

static void report_num(char *out, size_t cap, double v)
{
    if (v >= 100)
        snprintf(out, cap, "%.0f", v);
    else if (v >= 10)
        snprintf(out, cap, "%.1f", v);
    else
        snprintf(out, cap, "%.2f", v);
}

void report_header(FILE *f)
{
    fprintf(f, "%-34s %-9s %11s %8s %9s %9s %9s %8s %9s  %s\n", "row", "engine", "events/s", "MB/s",
            "p50 us", "p99 us", "p99.9 us", "fsync/ev", "cpu s/Mev", "note");
}

void report_row(FILE *f, const struct bench_row *r)
{
    char rate[32], mbps[32], p50[32], p99[32], p999[32], fs[32], cpu[32];
    if (r->skipped) {
        /* Rows left out by --only have no note and are not shown; a row
         * that could not run here says why. */
        if (r->note[0] != '\0')
            fprintf(f, "%-34s %-9s %11s  %s\n", r->name, r->engine, "SKIPPED", r->note);
        return;
    }
    if (r->rc != 0 && r->events == 0) {
        fprintf(f, "%-34s %-9s %11s  %s\n", r->name, r->engine, "FAILED", r->note);
        return;
    }
    report_num(p50, sizeof(p50), report_us(r, 0.50));
    report_num(p99, sizeof(p99), report_us(r, 0.99));
    report_num(p999, sizeof(p999), report_us(r, 0.999));
    if (r->no_rate) {
        snprintf(rate, sizeof(rate), "-");
        snprintf(mbps, sizeof(mbps), "-");
        snprintf(cpu, sizeof(cpu), "-");
    } else {
        snprintf(rate, sizeof(rate), "%.0f", report_rate(r));
        report_num(mbps, sizeof(mbps), report_mbps(r));
        report_num(cpu, sizeof(cpu), r->events ? r->cpu_s / (double)r->events * 1e6 : 0.0);
    }
    if (r->fdatasyncs < 0 || r->events == 0)
        snprintf(fs, sizeof(fs), "-");
    else
        snprintf(fs, sizeof(fs), "%.3f", r->fdatasyncs / (double)r->events);
    /* a close that took 1% of the region or more is told in the note. */
    char note[sizeof(r->note) + 48];
    if (r->close_s >= 0 && r->seconds > 0 && r->close_s >= 0.01 * r->seconds)
        snprintf(note, sizeof(note), "%s%sclose %.2f s", r->note, r->note[0] ? "; " : "",
                 r->close_s);
    else
        snprintf(note, sizeof(note), "%s", r->note);
    fprintf(f, "%-34s %-9s %11s %8s %9s %9s %9s %8s %9s  %s%s\n", r->name, r->engine, rate, mbps,
            p50, p99, p999, fs, cpu, r->rc != 0 ? "FAILED: " : "", note);
}

const struct bench_row *report_find(const struct bench_row *rows, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0 && !rows[i].skipped && rows[i].rc == 0 &&
            rows[i].events > 0)
            return &rows[i];
    return NULL;
}

/* ---- target ratios ------------------------------------------------------ */

enum report_kind {
    RATIO_RATE,     /* events/s of a over events/s of b, at least target */
    RATIO_MBPS,     /* MB/s of a, at least target (b unused) */
    RATIO_P99_SYNC, /* p99 of a over p50 of b, at most target */
    RATIO_P50,      /* p50 of a over p50 of b, at most target */
    RATIO_INFO,     /* events/s of a over events/s of b, no target */
    RATIO_CLOSED,   /* the same with each row's close counted in its time, no target */
};

struct report_ratio {
    const char *label;
    const char *a;
    const char *b;
    enum report_kind kind;
    double target;
};

static const struct report_ratio report_ratios_table[] = {
    {"one durable writer vs write+fdatasync loop", "sxp/append", "limit/write-fdatasync",
     RATIO_RATE, 1.0},
    {"one durable writer vs write+fdatasync loop (stretch)", "sxp/append", "limit/write-fdatasync",
     RATIO_RATE, 1.5},
    {"one durable writer on the SXP_IO_SYNC backend vs write+fdatasync loop", "sxp/append-io-sync",
     "limit/write-fdatasync", RATIO_INFO, 0},
    {"one durable writer vs in-place write+fdatasync loop", "sxp/append", "limit/inplace-fdatasync",
     RATIO_INFO, 0},
    {"one durable writer vs SQLite txn-1", "sxp/append", "sqlite/txn-1", RATIO_RATE, 1.0},
    {"one durable writer vs RocksDB sync-1", "sxp/append", "rocksdb/sync-1", RATIO_RATE, 1.0},
    {"one durable writer, 1 KiB, vs write+fdatasync loop", "sxp/append-1k",
     "limit/write-fdatasync-1k", RATIO_RATE, 1.0},
    {"one durable writer, 16 KiB, vs write+fdatasync loop", "sxp/append-16k",
     "limit/write-fdatasync-16k", RATIO_RATE, 1.0},
    {"8 writers, one stream, vs RocksDB sync-8", "sxp/writers-8-one-stream", "rocksdb/sync-8",
     RATIO_RATE, 2.0},
    {"8 writers, one stream, vs 8-lines-per-fdatasync loop", "sxp/writers-8-one-stream",
     "limit/per-8-lines", RATIO_RATE, 0.85},
    {"8 writers, one stream, p99 ack vs one write+fdatasync", "sxp/writers-8-one-stream",
     "limit/write-fdatasync", RATIO_P99_SYNC, 3.0},
    {"8-lines loop beside one busy CPU vs alone (the machine, not sxp)",
     "limit/per-8-lines-busy-cpu", "limit/per-8-lines", RATIO_INFO, 0},
    {"8 writers, own streams, vs 8 write+fdatasync loops on 8 files", "sxp/writers-8-own-streams",
     "limit/8-files-parallel", RATIO_INFO, 0},
    {"8 writers, own streams, vs RocksDB sync-8", "sxp/writers-8-own-streams", "rocksdb/sync-8",
     RATIO_RATE, 2.0},
    {"8 writers, own streams, vs 8-lines-per-fdatasync loop", "sxp/writers-8-own-streams",
     "limit/per-8-lines", RATIO_RATE, 0.85},
    {"8 writers, own streams, p99 ack vs one write+fdatasync", "sxp/writers-8-own-streams",
     "limit/write-fdatasync", RATIO_P99_SYNC, 3.0},
    {"server, 64 clients, vs in-process 8 writers (own streams)", "sxp/server-64-clients",
     "sxp/writers-8-own-streams", RATIO_RATE, 0.5},
    {"batch of 1,000 vs 1,000-lines-per-fdatasync loop", "sxp/batch-1000", "limit/per-1000-lines",
     RATIO_RATE, 0.8},
    {"batch of 1,000, 1 KiB, vs 1,000-lines loop", "sxp/batch-1000-1k", "limit/per-1000-lines-1k",
     RATIO_RATE, 0.8},
    {"batch of 1,000, 16 KiB, vs 1,000-lines loop", "sxp/batch-1000-16k",
     "limit/per-1000-lines-16k", RATIO_RATE, 0.8},
    {"batch of 1,000 vs SQLite txn-1000", "sxp/batch-1000", "sqlite/txn-1000", RATIO_RATE, 2.0},
    {"batch of 1,000 vs RocksDB batch-1000", "sxp/batch-1000", "rocksdb/batch-1000", RATIO_RATE,
     2.0},
    {"no-sync mode vs reference design", "sxp/nosync-append", "reference/nosync", RATIO_RATE, 50.0},
    {"no-sync mode on the SXP_IO_SYNC backend vs reference design", "sxp/nosync-append-io-sync",
     "reference/nosync", RATIO_INFO, 0},
    {"durable sxp vs durable reference design", "sxp/append", "reference/durable", RATIO_INFO, 0},
    {"read whole stream, checksums + parsing (MB/s)", "sxp/read-whole", NULL, RATIO_MBPS, 500.0},
    {"read whole stream, 1 KiB events (MB/s)", "sxp/read-whole-1k", NULL, RATIO_MBPS, 500.0},
    {"100,000 streams vs 1 stream, durable appends", "sxp/growth-streams-100000",
     "sxp/growth-streams-1", RATIO_RATE, 0.8},
    {"100,000 streams vs 1 stream, durable, with the closes' time", "sxp/growth-streams-100000",
     "sxp/growth-streams-1", RATIO_CLOSED, 0},
    {"100,000 streams vs 1 stream, no-sync appends", "sxp/growth-streams-100000-nosync",
     "sxp/growth-streams-1-nosync", RATIO_RATE, 0.8},
    {"100,000 streams vs 1 stream, no-sync, with the closes' time",
     "sxp/growth-streams-100000-nosync", "sxp/growth-streams-1-nosync", RATIO_CLOSED, 0},
    {"appends onto a 4 GB log vs a 1 MB log", "sxp/growth-log-4g", "sxp/growth-log-1m", RATIO_RATE,
     0.8},
    {"read-range p50 time, 4 GB log vs 1 MB log", "sxp/growth-log-range-4g",
     "sxp/growth-log-range-1m", RATIO_P50, 1.5},
};

#define REPORT_NRATIOS (sizeof(report_ratios_table) / sizeof(report_ratios_table[0]))

/* Computes ratio t; *out_value gets it. 0 when both rows are there. */
static int report_ratio_value(const struct report_ratio *t, const struct bench_row *rows, size_t n,
                              double *out_value)
{
    const struct bench_row *a = report_find(rows, n, t->a);
    const struct bench_row *b = t->b ? report_find(rows, n, t->b) : NULL;
    if (a == NULL || (t->b != NULL && b == NULL))
        return -ENOENT;
    switch (t->kind) {
    case RATIO_RATE:
    case RATIO_INFO:
        *out_value = report_rate(b) > 0 ? report_rate(a) / report_rate(b) : 0;
        break;
    case RATIO_CLOSED:
        *out_value = report_rate_closed(b) > 0 ? report_rate_closed(a) / report_rate_closed(b) : 0;
        break;
    case RATIO_MBPS:
        *out_value = report_mbps(a);
        break;
    case RATIO_P99_SYNC:
        *out_value = report_us(b, 0.5) > 0 ? report_us(a, 0.99) / report_us(b, 0.5) : 0;
        break;
    case RATIO_P50:
        *out_value = report_us(b, 0.5) > 0 ? report_us(a, 0.5) / report_us(b, 0.5) : 0;
        break;
    }
    return 0;
}

static int report_ratio_pass(const struct report_ratio *t, double v)
{
    if (t->kind == RATIO_P99_SYNC || t->kind == RATIO_P50)
        return v <= t->target;
    return v >= t->target;
}

int report_ratios(FILE *f, const struct bench_row *rows, size_t n)
{
    int missed = 0;
    fprintf(f, "Target ratios (docs/performance.md), from this run:\n");
    for (size_t i = 0; i < REPORT_NRATIOS; i++) {
        const struct report_ratio *t = &report_ratios_table[i];
        double v = 0;
        char target[48];
        if (report_ratio_value(t, rows, n, &v) != 0) {
            fprintf(f, "  %-68s   n/a (row not run)\n", t->label);
            continue;
        }
        switch (t->kind) {
        case RATIO_INFO:
        case RATIO_CLOSED:
            fprintf(f, "  %-68s %7.2fx (no target)\n", t->label, v);
            continue;
        case RATIO_MBPS:
            snprintf(target, sizeof(target), "target >= %.0f MB/s", t->target);
            fprintf(f, "  %-68s %7.0f MB/s (%s) %s\n", t->label, v, target,
                    report_ratio_pass(t, v) ? "PASS" : "MISS");
            break;
        case RATIO_P99_SYNC:
        case RATIO_P50:
            snprintf(target, sizeof(target), "target <= %.2g", t->target);
            fprintf(f, "  %-68s %7.2fx (%s) %s\n", t->label, v, target,
                    report_ratio_pass(t, v) ? "PASS" : "MISS");
            break;
        case RATIO_RATE:
            snprintf(target, sizeof(target), "target >= %.2g", t->target);
            fprintf(f, "  %-68s %7.2fx (%s) %s\n", t->label, v, target,
                    report_ratio_pass(t, v) ? "PASS" : "MISS");
            break;
        }
        missed += !report_ratio_pass(t, v);
    }
    const struct bench_row *sync1 = report_find(rows, n, "limit/write-fdatasync");
    if (sync1 != NULL)
        fprintf(f, "  (one write+fdatasync, the p50 of limit/write-fdatasync: %.0f us)\n",
                report_us(sync1, 0.5));
    return missed;
}

/* ---- JSON --------------------------------------------------------------- */

static void report_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

int report_json(const char *path, const struct bench_ctx *ctx, const char *cmdline,
                const struct bench_row *rows, size_t n)
{
    FILE *f = fopen(path, "w");
    struct utsname u;
    if (f == NULL)
        return -errno;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof(u));
    fprintf(f, "{\n  \"command\": ");
    report_json_str(f, cmdline);
    fprintf(f, ",\n  \"mode\": \"%s\",\n  \"seconds_per_workload\": %g,\n  \"rounds\": %d,\n",
            ctx->quick ? "quick" : "full", ctx->seconds * ctx->rounds, ctx->rounds);
    fprintf(f, "  \"kernel\": ");
    report_json_str(f, u.release);
    fprintf(f, ",\n  \"cpus\": %ld,\n  \"rows\": [\n", sysconf(_SC_NPROCESSORS_ONLN));
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const struct bench_row *r = &rows[i];
        if (r->skipped && r->note[0] == '\0')
            continue;
        fprintf(f, "%s    {\"name\": ", first ? "" : ",\n");
        first = 0;
        report_json_str(f, r->name);
        fprintf(f, ", \"engine\": ");
        report_json_str(f, r->engine);
        fprintf(
            f,
            ", \"ok\": %s, \"skipped\": %s, \"writers\": %d, \"events\": %llu, \"bytes\": %llu, "
            "\"seconds\": %.6f, ",
            r->rc == 0 ? "true" : "false", r->skipped ? "true" : "false", r->writers,
            (unsigned long long)r->events, (unsigned long long)r->bytes, r->seconds);
        /* A row whose events are not a rate (opens) has none here either,
         * as in the table. */
        if (r->no_rate)
            fprintf(f, "\"no_rate\": true, \"events_per_s\": null, \"mb_per_s\": null, ");
        else
            fprintf(f, "\"no_rate\": false, \"events_per_s\": %.1f, \"mb_per_s\": %.3f, ",
                    report_rate(r), report_mbps(r));
        fprintf(f,
                "\"latency_us\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, "
                "\"p99.9\": %.2f, \"max\": %.2f, \"mean\": %.2f, \"samples\": %llu}, ",
                report_us(r, 0.5), report_us(r, 0.9), report_us(r, 0.99), report_us(r, 0.999),
                r->lat ? (double)r->lat->max_ns / 1000.0 : 0.0,
                r->lat && r->lat->n ? (double)r->lat->sum_ns / (double)r->lat->n / 1000.0 : 0.0,
                r->lat ? (unsigned long long)r->lat->n : 0ull);
        if (r->fdatasyncs < 0)
            fprintf(f, "\"fdatasyncs\": null, ");
        else
            fprintf(f, "\"fdatasyncs\": %.0f, ", r->fdatasyncs);
        if (r->close_s < 0)
            fprintf(f, "\"close_s\": null, ");
        else
            fprintf(f, "\"close_s\": %.6f, ", r->close_s);
        if (r->no_rate)
            fprintf(f, "\"cpu_s\": null, \"note\": ");
        else
            fprintf(f, "\"cpu_s\": %.4f, \"note\": ", r->cpu_s);
        report_json_str(f, r->note);
        fputc('}', f);
    }
    fprintf(f, "\n  ],\n  \"ratios\": [\n");
    first = 1;
    for (size_t i = 0; i < REPORT_NRATIOS; i++) {
        const struct report_ratio *t = &report_ratios_table[i];
        double v = 0;
        if (report_ratio_value(t, rows, n, &v) != 0)
            continue;
        fprintf(f, "%s    {\"label\": ", first ? "" : ",\n");
        first = 0;
        report_json_str(f, t->label);
        fprintf(f, ", \"value\": %.4f, \"target\": %g, \"pass\": %s}", v, t->target,
                t->kind == RATIO_INFO || t->kind == RATIO_CLOSED ? "null"
                : report_ratio_pass(t, v)                        ? "true"
                                                                 : "false");
    }
    fprintf(f, "\n  ]\n}\n");
    return fclose(f) == 0 ? 0 : -EIO;
}

/* ---- charts ------------------------------------------------------------- */

struct report_series {
    const char *file; /* data file name in the plot directory */
    const char *title;
    const char *rows[6]; /* rows giving the points (writers, events/s) */
    int flat;            /* 1: one row drawn as a level line from 1 to 32 writers */
};

static const struct report_series report_tp_series[] = {
    {"tp_sxp_one.dat",
     "sxp, one stream",
     {"sxp/writers-1-one-stream", "sxp/writers-2-one-stream", "sxp/writers-4-one-stream",
      "sxp/writers-8-one-stream", "sxp/writers-32-one-stream"},
     0},
    {"tp_sxp_own.dat",
     "sxp, a stream each",
     {"sxp/writers-1-own-streams", "sxp/writers-2-own-streams", "sxp/writers-4-own-streams",
      "sxp/writers-8-own-streams", "sxp/writers-32-own-streams"},
     0},
    {"tp_rocksdb.dat", "RocksDB, sync=true", {"rocksdb/sync-1", "rocksdb/sync-8"}, 0},
    {"tp_sqlite.dat", "SQLite WAL, synchronous=FULL", {"sqlite/txn-1", "sqlite/threads-8"}, 0},
    {"tp_limit_1.dat", "limit: write+fdatasync per event", {"limit/write-fdatasync"}, 1},
    {"tp_limit_8.dat", "limit: one fdatasync per 8 lines", {"limit/per-8-lines"}, 1},
    {"tp_limit_8_busy.dat",
     "limit: one fdatasync per 8 lines, a CPU kept busy",
     {"limit/per-8-lines-busy-cpu"},
     1},
    {"tp_limit_files.dat",
     "limit: 8 threads, write+fdatasync, a file each",
     {"limit/8-files-parallel"},
     0},
};

static const char *report_cdf1[] = {
    "sxp/append",        "limit/write-fdatasync", "limit/inplace-fdatasync",
    "reference/durable", "sqlite/txn-1",          "rocksdb/sync-1"};
static const char *report_cdf8[] = {"sxp/writers-8-one-stream",
                                    "sxp/writers-8-own-streams",
                                    "limit/per-8-lines",
                                    "limit/per-8-lines-busy-cpu",
                                    "limit/8-files-parallel",
                                    "sqlite/threads-8",
                                    "rocksdb/sync-8"};

/* The gnuplot line style of a row, so an engine has one colour in every
 * chart (the styles are defined in plot.gp). */
static int report_style(const char *name)
{
    if (strstr(name, "own-streams") != NULL)
        return 2;
    if (strncmp(name, "sxp/", 4) == 0)
        return 1;
    if (strncmp(name, "rocksdb/", 8) == 0)
        return 3;
    if (strncmp(name, "sqlite/", 7) == 0)
        return 4;
    if (strstr(name, "busy-cpu") != NULL)
        return 8;
    if (strncmp(name, "limit/inplace", 13) == 0 || strncmp(name, "limit/per-8", 11) == 0)
        return 6;
    if (strncmp(name, "limit/8-files", 13) == 0)
        return 7;
    if (strncmp(name, "limit/", 6) == 0)
        return 5;
    return 7;
}

static FILE *report_open_in(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return fopen(path, "w");
}

/* Writes one CDF data file per row in names; lists them in series.gp as
 * <prefix>_file_<i> / <prefix>_title_<i>, <prefix>_n. */
static int report_cdf_files(const char *dir, FILE *gp, const char *prefix, const char **names,
                            size_t count, const struct bench_row *rows, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < count; i++) {
        const struct bench_row *r = report_find(rows, n, names[i]);
        char file[128];
        if (r == NULL || r->lat == NULL || r->lat->n == 0)
            continue;
        snprintf(file, sizeof(file), "%s_%d.dat", prefix, k + 1);
        FILE *f = report_open_in(dir, file);
        if (f == NULL)
            return -errno;
        stats_hist_write_cdf(r->lat, f);
        fclose(f);
        k++;
        fprintf(gp, "%s_file_%d = \"%s\"\n%s_title_%d = \"%s (p50 %.0f, p99 %.0f us)\"\n", prefix,
                k, file, prefix, k, r->name, report_us(r, 0.5), report_us(r, 0.99));
        fprintf(gp, "%s_ls_%d = %d\n", prefix, k, report_style(r->name));
    }
    fprintf(gp, "%s_n = %d\n", prefix, k);
    return 0;
}

int report_plot(const char *dir, const struct bench_row *rows, size_t n)
{
    int rc = fsutil_mkdir_p(dir);
    if (rc != 0)
        return rc;
    FILE *gp = report_open_in(dir, "series.gp");
    if (gp == NULL)
        return -errno;
    fprintf(gp, "# Written by sxp-bench --plot; read by bench/plot.gp.\n");
    int k = 0;
    for (size_t s = 0; s < sizeof(report_tp_series) / sizeof(report_tp_series[0]); s++) {
        const struct report_series *se = &report_tp_series[s];
        FILE *f = NULL;
        int points = 0;
        for (size_t j = 0; j < 6 && se->rows[j] != NULL; j++) {
            const struct bench_row *r = report_find(rows, n, se->rows[j]);
            if (r == NULL)
                continue;
            if (f == NULL && (f = report_open_in(dir, se->file)) == NULL) {
                fclose(gp);
                return -errno;
            }
            if (se->flat)
                fprintf(f, "1 %.1f\n32 %.1f\n", report_rate(r), report_rate(r));
            else
                fprintf(f, "%d %.1f\n", r->writers, report_rate(r));
            points++;
        }
        if (f != NULL)
            fclose(f);
        if (points == 0)
            continue;
        k++;
        fprintf(gp, "tp_file_%d = \"%s\"\ntp_title_%d = \"%s\"\ntp_ls_%d = %d\n", k, se->file, k,
                se->title, k, report_style(se->rows[0]));
    }
    fprintf(gp, "tp_n = %d\n", k);
    rc = report_cdf_files(dir, gp, "cdf1", report_cdf1,
                          sizeof(report_cdf1) / sizeof(report_cdf1[0]), rows, n);
    if (rc == 0)
        rc = report_cdf_files(dir, gp, "cdf8", report_cdf8,
                              sizeof(report_cdf8) / sizeof(report_cdf8[0]), rows, n);
    if (fclose(gp) != 0 && rc == 0)
        rc = -EIO;
    if (rc != 0)
        return rc;

    const char *script = getenv("SXP_BENCH_PLOT_GP");
    if (script == NULL || script[0] == '\0')
        script = SXP_BENCH_PLOT_GP;
    char arg[4200];
    snprintf(arg, sizeof(arg), "dir='%s'", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        execlp("gnuplot", "gnuplot", "-e", arg, script, (char *)NULL);
        fprintf(stderr, "sxp-bench: cannot run gnuplot: %s\n", strerror(errno));
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0)
        return -errno;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -EIO;
    printf("charts: %s/throughput_writers.png %s/latency_cdf_1.png %s/latency_cdf_8.png\n", dir,
           dir, dir);
    return 0;
}
