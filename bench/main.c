/*
 * main.c -- sxp-bench: options, the workload registry and the run loop.
 *
 *   sxp-bench [--quick | --full] [--seconds S] [--rounds N]
 *             [--only PATTERN[,PATTERN...]] [--dir DIR] [--keep] [--json FILE]
 *             [--plot DIR] [--list] [-v]
 *
 * Every workload of the registry below makes one row (bench.h says what a
 * row's figures mean). Rows run one after the other, in registry order, on a
 * scratch directory: DIR/sxp-bench.XXXXXX (DIR defaults to the current
 * directory, so the run measures the filesystem you are in), removed at the
 * end unless --keep. --quick shrinks every workload for CI (the whole run
 * takes seconds); --full (the default) uses the full sizes (the figures in
 * docs/performance.md come from them), each
 * workload also bounded by --seconds of wall time (default 8).
 *
 * Exit status: 0 when every selected row ran (missed targets do not fail
 * the run; they are printed as MISS), 1 when a row failed, 2 on bad usage.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

struct bench_workload {
    const char *name;
    const char *engine;
    bench_run_fn run;
    struct bench_param p;
};

#define KB 1024
#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

/* Counts: n_full / n_quick events (or calls, for reads and opens); the time
 * bound stops most full-size rows before their count. Rows that a target
 * ratio compares run next to each other, so that a change in the load of a
 * shared machine skews a ratio as little as it can. */
static const struct bench_workload bench_registry[] = {
    /* One writer, one durable event per ack (100 B, 1 KiB, 16 KiB). */
    {"limit/write-fdatasync",
     "limit",
     limit_write_sync,
     {.size = 100, .writers = 1, .n_full = 200000, .n_quick = 200}},
    {"limit/inplace-fdatasync",
     "limit",
     limit_inplace_sync,
     {.size = 100, .writers = 1, .n_full = 200000, .n_quick = 200}},
    {"reference/durable",
     "reference",
     reference_append,
     {.size = 100, .writers = 1, .n_full = 50000, .n_quick = 100}},
#ifdef SXP_BENCH_HAVE_SQLITE
    {"sqlite/txn-1",
     "sqlite",
     sqlite_insert,
     {.size = 100, .writers = 1, .batch = 1, .n_full = 100000, .n_quick = 200}},
#endif
#ifdef SXP_BENCH_HAVE_ROCKSDB
    {"rocksdb/sync-1",
     "rocksdb",
     rocksdb_bench_put,
     {.size = 100, .writers = 1, .batch = 1, .n_full = 100000, .n_quick = 200}},
#endif
    {"sxp/append",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 1, .n_full = 200000, .n_quick = 200}},
    {"limit/write-fdatasync-1k",
     "limit",
     limit_write_sync,
     {.size = KB, .writers = 1, .n_full = 200000, .n_quick = 100}},
    {"limit/inplace-fdatasync-1k",
     "limit",
     limit_inplace_sync,
     {.size = KB, .writers = 1, .n_full = 200000, .n_quick = 100}},
    {"sxp/append-io-sync",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 1, .io = 2, .n_full = 200000, .n_quick = 200}},
    {"sxp/append-1k",
     "sxp",
     wl_sxp_append,
     {.size = KB, .writers = 1, .n_full = 200000, .n_quick = 100}},
    {"limit/write-fdatasync-16k",
     "limit",
     limit_write_sync,
     {.size = 16 * KB, .writers = 1, .n_full = 200000, .n_quick = 100}},
    {"limit/inplace-fdatasync-16k",
     "limit",
     limit_inplace_sync,
     {.size = 16 * KB, .writers = 1, .n_full = 200000, .n_quick = 100}},
    {"sxp/append-16k",
     "sxp",
     wl_sxp_append,
     {.size = 16 * KB, .writers = 1, .n_full = 200000, .n_quick = 100}},
    /* Concurrent writers: group commit. */
    {"limit/per-8-lines",
     "limit",
     limit_group_sync,
     {.size = 100, .writers = 8, .batch = 8, .n_full = 2000000, .n_quick = 800}},
    {"limit/per-8-lines-busy-cpu",
     "limit",
     limit_group_sync,
     {.size = 100, .writers = 8, .batch = 8, .busy_cpu = 1, .n_full = 2000000, .n_quick = 800}},
    {"limit/8-files-parallel",
     "limit",
     limit_files_sync,
     {.size = 100, .writers = 8, .n_full = 2000000, .n_quick = 800}},
#ifdef SXP_BENCH_HAVE_SQLITE
    {"sqlite/threads-8",
     "sqlite",
     sqlite_insert,
     {.size = 100, .writers = 8, .batch = 1, .n_full = 200000, .n_quick = 400}},
#endif
#ifdef SXP_BENCH_HAVE_ROCKSDB
    {"rocksdb/sync-8",
     "rocksdb",
     rocksdb_bench_put,
     {.size = 100, .writers = 8, .batch = 1, .n_full = 400000, .n_quick = 400}},
#endif
    {"sxp/writers-1-one-stream",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 1, .shared = 1, .n_full = 400000, .n_quick = 100}},
    {"sxp/writers-2-one-stream",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 2, .shared = 1, .n_full = 400000, .n_quick = 200}},
    {"sxp/writers-4-one-stream",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 4, .shared = 1, .n_full = 400000, .n_quick = 400}},
    {"sxp/writers-8-one-stream",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 8, .shared = 1, .n_full = 800000, .n_quick = 800}},
    {"sxp/writers-32-one-stream",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 32, .shared = 1, .n_full = 2000000, .n_quick = 1600}},
    {"sxp/writers-1-own-streams",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 1, .n_full = 400000, .n_quick = 100}},
    {"sxp/writers-2-own-streams",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 2, .n_full = 400000, .n_quick = 200}},
    {"sxp/writers-4-own-streams",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 4, .n_full = 400000, .n_quick = 400}},
    {"sxp/writers-8-own-streams",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 8, .n_full = 800000, .n_quick = 800}},
    /* The same through `sxp serve --socket` (wl_server.c): 64 clients. */
    {"sxp/server-64-clients",
     "sxp",
     wl_server_append,
     {.size = 100, .writers = 64, .n_full = 2000000, .n_quick = 640}},
    {"sxp/writers-32-own-streams",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 32, .n_full = 2000000, .n_quick = 1600}},
    /* Batches of 1,000. */
    {"limit/per-1000-lines",
     "limit",
     limit_group_sync,
     {.size = 100, .writers = 1, .batch = 1000, .n_full = 10000000, .n_quick = 5000}},
#ifdef SXP_BENCH_HAVE_SQLITE
    {"sqlite/txn-1000",
     "sqlite",
     sqlite_insert,
     {.size = 100, .writers = 1, .batch = 1000, .n_full = 10000000, .n_quick = 5000}},
#endif
#ifdef SXP_BENCH_HAVE_ROCKSDB
    {"rocksdb/batch-1000",
     "rocksdb",
     rocksdb_bench_put,
     {.size = 100, .writers = 1, .batch = 1000, .n_full = 10000000, .n_quick = 5000}},
#endif
    {"sxp/batch-1000",
     "sxp",
     wl_sxp_batch,
     {.size = 100, .writers = 1, .batch = 1000, .n_full = 10000000, .n_quick = 5000}},
    {"limit/per-1000-lines-1k",
     "limit",
     limit_group_sync,
     {.size = KB, .writers = 1, .batch = 1000, .n_full = 2000000, .n_quick = 2000}},
    {"sxp/batch-1000-1k",
     "sxp",
     wl_sxp_batch,
     {.size = KB, .writers = 1, .batch = 1000, .n_full = 2000000, .n_quick = 2000}},
    {"limit/per-1000-lines-16k",
     "limit",
     limit_group_sync,
     {.size = 16 * KB, .writers = 1, .batch = 1000, .n_full = 200000, .n_quick = 1000}},
    {"sxp/batch-1000-16k",
     "sxp",
     wl_sxp_batch,
     {.size = 16 * KB, .writers = 1, .batch = 1000, .n_full = 200000, .n_quick = 1000}},
    /* The reference's durability (no sync). */
    {"reference/nosync",
     "reference",
     reference_append,
     {.size = 100, .writers = 1, .nosync = 1, .n_full = 300000, .n_quick = 500}},
    {"sxp/nosync-append",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 1, .nosync = 1, .n_full = 20000000, .n_quick = 20000}},
    {"sxp/nosync-append-io-sync",
     "sxp",
     wl_sxp_append,
     {.size = 100, .writers = 1, .nosync = 1, .io = 2, .n_full = 20000000, .n_quick = 20000}},
    /* sxp: reads of a 1 GB log. */
    {"sxp/read-whole",
     "sxp",
     wl_big_read_whole,
     {.size = 100, .n_full = 5, .n_quick = 2, .scale_full = GIB, .scale_quick = 4 * MIB}},
    {"sxp/read-whole-list",
     "sxp",
     wl_big_read_whole,
     {.size = 100,
      .list = 1,
      .n_full = 5,
      .n_quick = 2,
      .scale_full = GIB,
      .scale_quick = 4 * MIB}},
    {"sxp/read-whole-1k",
     "sxp",
     wl_big_read_whole,
     {.size = KB, .n_full = 5, .n_quick = 2, .scale_full = GIB, .scale_quick = 4 * MIB}},
    {"sxp/read-range-mid",
     "sxp",
     wl_big_read_range,
     {.size = 100,
      .batch = 100,
      .n_full = 1000000,
      .n_quick = 300,
      .scale_full = GIB,
      .scale_quick = 4 * MIB}},
    /* sxp: kv and blobs. */
    {"sxp/kv-put",
     "sxp",
     wl_sxp_kv_put,
     {.size = 100, .writers = 1, .n_full = 100000, .n_quick = 100}},
    {"sxp/kv-get", "sxp", wl_sxp_kv_get, {.size = 100, .n_full = 2000000, .n_quick = 1000}},
    {"sxp/blob-put-1m",
     "sxp",
     wl_sxp_blob_put,
     {.size = MIB, .writers = 1, .n_full = 5000, .n_quick = 5}},
    /* sxp: cost growth over streams and log size. */
    {"sxp/growth-streams-1",
     "sxp",
     wl_big_growth_streams,
     {.size = 100,
      .writers = 1,
      .whole = 1,
      .n_full = 100000,
      .n_quick = 200,
      .scale_full = 1,
      .scale_quick = 1}},
    {"sxp/growth-streams-1000",
     "sxp",
     wl_big_growth_streams,
     {.size = 100,
      .writers = 1,
      .whole = 1,
      .n_full = 100000,
      .n_quick = 200,
      .scale_full = 1000,
      .scale_quick = 100}},
    {"sxp/growth-streams-100000",
     "sxp",
     wl_big_growth_streams,
     {.size = 100,
      .writers = 1,
      .whole = 1,
      .n_full = 100000,
      .n_quick = 200,
      .scale_full = 100000,
      .scale_quick = 1000}},
    {"sxp/growth-streams-1-nosync",
     "sxp",
     wl_big_growth_streams,
     {.size = 100,
      .writers = 1,
      .whole = 1,
      .nosync = 1,
      .n_full = 5000000,
      .n_quick = 5000,
      .scale_full = 1,
      .scale_quick = 1}},
    {"sxp/growth-streams-1000-nosync",
     "sxp",
     wl_big_growth_streams,
     {.size = 100,
      .writers = 1,
      .whole = 1,
      .nosync = 1,
      .n_full = 5000000,
      .n_quick = 5000,
      .scale_full = 1000,
      .scale_quick = 100}},
    {"sxp/growth-streams-100000-nosync",
     "sxp",
     wl_big_growth_streams,
     {.size = 100,
      .writers = 1,
      .whole = 1,
      .nosync = 1,
      .n_full = 5000000,
      .n_quick = 5000,
      .scale_full = 100000,
      .scale_quick = 1000}},
    {"sxp/growth-log-1m",
     "sxp",
     wl_big_growth_log,
     {.size = 100,
      .writers = 1,
      .n_full = 100000,
      .n_quick = 200,
      .scale_full = MIB,
      .scale_quick = 256 * KB}},
    {"sxp/growth-log-4g",
     "sxp",
     wl_big_growth_log,
     {.size = 100,
      .writers = 1,
      .n_full = 100000,
      .n_quick = 200,
      .scale_full = 4 * GIB,
      .scale_quick = 8 * MIB}},
    {"sxp/growth-log-range-1m",
     "sxp",
     wl_big_growth_log_range,
     {.size = KB,
      .batch = 100,
      .n_full = 1000000,
      .n_quick = 300,
      .scale_full = MIB,
      .scale_quick = 256 * KB}},
    {"sxp/growth-log-range-4g",
     "sxp",
     wl_big_growth_log_range,
     {.size = KB,
      .batch = 100,
      .n_full = 1000000,
      .n_quick = 300,
      .scale_full = 4 * GIB,
      .scale_quick = 8 * MIB}},
    /* sxp: open time, 10,000 streams of 1,000 events. */
    {"sxp/open-clean-10000",
     "sxp",
     wl_big_open,
     {.n_full = 5, .n_quick = 2, .scale_full = 10000, .scale_quick = 100}},
    {"sxp/open-killed-10000",
     "sxp",
     wl_big_open,
     {.nosync = 1, .n_full = 3, .n_quick = 1, .scale_full = 10000, .scale_quick = 100}},
    /* The same after a child under SXP_SYNC_NONE: the open settles the
     * store (syncfs) and recovers what the child's LOCK names. */
    {"sxp/open-killed-10000-nosync",
     "sxp",
     wl_big_open,
     {.nosync = 1,
      .child_nosync = 1,
      .n_full = 3,
      .n_quick = 1,
      .scale_full = 10000,
      .scale_quick = 100}},
    /* The same after a session that wrote 4,000 of them: recovery writes
     * back and syncs 4,000 journal records (one per log) and reads the logs
     * of their buckets. */
    {"sxp/open-killed-10000-wide",
     "sxp",
     wl_big_open,
     {.nosync = 1,
      .batch = 4000,
      .n_full = 3,
      .n_quick = 1,
      .scale_full = 10000,
      .scale_quick = 100}},
};

#define BENCH_NWORKLOADS (sizeof(bench_registry) / sizeof(bench_registry[0]))

uint64_t bench_count(const struct bench_ctx *ctx, const struct bench_param *p)
{
    uint64_t n = (ctx->quick ? p->n_quick : p->n_full) / (uint64_t)ctx->rounds;
    return n ? n : 1;
}

uint64_t bench_scale(const struct bench_ctx *ctx, const struct bench_param *p)
{
    return ctx->quick ? p->scale_quick : p->scale_full;
}

/* The machine may be shared: the load average says how quiet it was. */
static void bench_print_load(FILE *f, const char *when)
{
    double load[3];
    char psi[128] = "";
    FILE *pf = fopen("/proc/pressure/io", "r");
    if (pf != NULL) {
        /* "some avg10=... avg60=... avg300=... total=...": the share of time
         * some task waited on I/O. */
        if (fgets(psi, sizeof(psi), pf) == NULL)
            psi[0] = '\0';
        fclose(pf);
        psi[strcspn(psi, "\n")] = '\0';
        char *total = strstr(psi, " total=");
        if (total != NULL)
            *total = '\0';
    }
    if (getloadavg(load, 3) == 3)
        fprintf(f, "# load average at %s: %.2f %.2f %.2f (%ld cpus)%s%s\n", when, load[0], load[1],
                load[2], sysconf(_SC_NPROCESSORS_ONLN), psi[0] ? "; io pressure " : "", psi);
}

static void bench_usage(FILE *f)
{
    fputs("usage: sxp-bench [--quick | --full] [--seconds S] [--rounds N]\n"
          "                 [--only PATTERN[,PATTERN...]] [--dir DIR] [--keep] [--json FILE]\n"
          "                 [--plot DIR] [--list] [-v]\n"
          "  --quick     tiny workloads (CI; the row names keep the full sizes, the\n"
          "              last column says what ran); --full (default): full sizes\n"
          "  --seconds   wall-time bound per workload (default 8; 1 under --quick)\n"
          "  --rounds    run every row N times, one after another in turn, each with\n"
          "              1/N of the time and count, and pool the figures (default 1)\n"
          "  --only      run the rows whose name matches: a glob (sxp/writers-*) or a\n"
          "              substring (growth); several separated by commas\n"
          "  --dir       work in a fresh directory under DIR (default: .)\n"
          "  --keep      keep the scratch directory\n"
          "  --json      write every figure to FILE\n"
          "  --plot      draw PNG charts into DIR (gnuplot)\n"
          "  --list      print the row names and exit\n"
          "  -v          say on stderr how long each big store took to build\n",
          f);
}

/* 1 when name matches one of the comma-separated patterns. */
static int bench_selected(const char *only, const char *name)
{
    if (only == NULL)
        return 1;
    char pat[256];
    const char *s = only;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n > 0 && n < sizeof(pat)) {
            memcpy(pat, s, n);
            pat[n] = '\0';
            if (strpbrk(pat, "*?[") ? fnmatch(pat, name, 0) == 0 : strstr(name, pat) != NULL)
                return 1;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

/* Names a row and allocates its histogram when it is selected. */
static int bench_row_init(struct bench_row *row, const struct bench_workload *w, int selected)
{
    snprintf(row->name, sizeof(row->name), "%s", w->name);
    row->engine = w->engine;
    row->writers = w->p.writers;
    row->fdatasyncs = -1;
    row->close_s = -1;
    if (!selected) {
        row->skipped = 1;
        return 0;
    }
    row->lat = stats_hist_new();
    return row->lat == NULL ? -1 : 0;
}

/* Pools a figure that a run may not know (-1): the sum over the rounds,
 * or -1 once one round did not know it. */
static void bench_pool_known(double *sum, double one, int round)
{
    if (one < 0)
        *sum = -1;
    else if (round == 0)
        *sum = one;
    else if (*sum >= 0)
        *sum += one;
}

/* ROUNDS: adds one run of a row to its pooled figures. Counts, time, CPU
 * and latencies add up; fdatasyncs and the close's time stay unknown if
 * one run did not count them; the first failure stays; the note is the
 * last run's (the first failed run's, once one failed). A skipped run
 * skips the row. */
static void bench_row_pool(struct bench_row *row, const struct bench_row *one, int round)
{
    row->events += one->events;
    row->bytes += one->bytes;
    row->seconds += one->seconds;
    row->cpu_s += one->cpu_s;
    bench_pool_known(&row->close_s, one->close_s, round);
    bench_pool_known(&row->fdatasyncs, one->fdatasyncs, round);
    stats_hist_merge(row->lat, one->lat);
    row->no_rate = one->no_rate;
    row->skipped = row->skipped || one->skipped;
    if (row->rc == 0) {
        row->rc = one->rc;
        memcpy(row->note, one->note, sizeof(row->note));
    }
}

int main(int argc, char **argv)
{
    struct bench_ctx ctx = {.quick = 0, .seconds = -1, .rounds = 1};
    const char *only = NULL, *json = NULL, *plot = NULL, *base = ".";
    int keep = 0, list = 0, failed = 0;
    char cmdline[1024] = "sxp-bench";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t used = strlen(cmdline);
        snprintf(cmdline + used, sizeof(cmdline) - used, " %s", a);
        if (strcmp(a, "--quick") == 0) {
            ctx.quick = 1;
        } else if (strcmp(a, "--full") == 0) {
            ctx.quick = 0;
        } else if (strcmp(a, "--keep") == 0) {
            keep = 1;
        } else if (strcmp(a, "--list") == 0) {
            list = 1;
        } else if (strcmp(a, "-v") == 0) {
            ctx.verbose = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            bench_usage(stdout);
            return 0;
        } else if (v != NULL && (strcmp(a, "--seconds") == 0 || strcmp(a, "--rounds") == 0 ||
                                 strcmp(a, "--only") == 0 || strcmp(a, "--dir") == 0 ||
                                 strcmp(a, "--json") == 0 || strcmp(a, "--plot") == 0)) {
            if (strcmp(a, "--seconds") == 0) {
                char *end;
                ctx.seconds = strtod(v, &end);
                if (*end != '\0' || ctx.seconds <= 0) {
                    fprintf(stderr, "sxp-bench: --seconds wants a positive number\n");
                    return 2;
                }
            } else if (strcmp(a, "--rounds") == 0) {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end != '\0' || n < 1 || n > 100) {
                    fprintf(stderr, "sxp-bench: --rounds wants a number from 1 to 100\n");
                    return 2;
                }
                ctx.rounds = (int)n;
            } else if (strcmp(a, "--only") == 0) {
                only = v;
            } else if (strcmp(a, "--dir") == 0) {
                base = v;
            } else if (strcmp(a, "--json") == 0) {
                json = v;
            } else {
                plot = v;
            }
            used = strlen(cmdline);
            snprintf(cmdline + used, sizeof(cmdline) - used, " %s", v);
            i++;
        } else {
            fprintf(stderr, "sxp-bench: unknown or incomplete option %s\n", a);
            bench_usage(stderr);
            return 2;
        }
    }
    if (ctx.seconds < 0)
        ctx.seconds = ctx.quick ? 1.0 : 8.0;
    double seconds_given = ctx.seconds;
    ctx.seconds /= ctx.rounds;
    if (list) {
        for (size_t i = 0; i < BENCH_NWORKLOADS; i++)
            if (bench_selected(only, bench_registry[i].name))
                printf("%s\n", bench_registry[i].name);
        return 0;
    }

    /* The scratch directory. */
    char tmpl[4096], dir[4096];
    if (fsutil_mkdir_p(base) != 0) {
        fprintf(stderr, "sxp-bench: cannot create %s: %s\n", base, strerror(errno));
        return 1;
    }
    snprintf(tmpl, sizeof(tmpl), "%s/sxp-bench.XXXXXX", base);
    if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL) {
        fprintf(stderr, "sxp-bench: cannot make a directory under %s: %s\n", base, strerror(errno));
        return 1;
    }
    ctx.dir = dir;

    struct bench_row *rows = calloc(BENCH_NWORKLOADS, sizeof(*rows));
    if (rows == NULL)
        return 1;
    int index = 0;
    int total_runs = 0;
    for (size_t i = 0; i < BENCH_NWORKLOADS; i++) {
        int sel = bench_selected(only, bench_registry[i].name);
        total_runs += sel * (bench_registry[i].p.whole ? 1 : ctx.rounds);
    }

    printf("# %s\n# scratch: %s, %s sizes, at most %.0f s per workload", cmdline, dir,
           ctx.quick ? "quick" : "full", seconds_given);
    if (ctx.rounds > 1)
        printf(" in %d rounds of %.2f s", ctx.rounds, ctx.seconds);
    printf("\n");
    bench_print_load(stdout, "start");
    report_header(stdout);
    fflush(stdout);
    progress_start();
    /* ROUNDS: every selected row runs once per round, in registry order, so
     * that rows whose ratio is a target are measured interleaved in time
     * and a drift of the disk between them weighs on both; a row's figures
     * are pooled over its rounds (bench_row_pool). The growth-over-streams
     * rows are whole: what they measure depends on how long a session
     * lasts (a session's first append to each stream costs more), so they
     * run once with the whole time. */
    for (int round = 0; round < ctx.rounds; round++) {
        int last = round + 1 == ctx.rounds;
        for (size_t i = 0; i < BENCH_NWORKLOADS; i++) {
            const struct bench_workload *w = &bench_registry[i];
            struct bench_row *row = &rows[i];
            int selected = bench_selected(only, w->name);
            if (round == 0 && bench_row_init(row, w, selected) != 0)
                return 1;
            if (!selected)
                continue;
            /* A row that cannot run here is tried once; a whole row runs
             * once, in the first round, with the whole time and count. */
            if (!row->skipped && (!w->p.whole || round == 0)) {
                struct bench_row one = {.engine = w->engine,
                                        .writers = w->p.writers,
                                        .fdatasyncs = -1,
                                        .close_s = -1,
                                        .lat = stats_hist_new()};
                if (one.lat == NULL)
                    return 1;
                snprintf(one.name, sizeof(one.name), "%s", w->name);
                progress_set(w->name, ++index, total_runs);
                fsutil_settle(dir);
                struct bench_ctx whole = ctx;
                if (w->p.whole) {
                    whole.seconds = ctx.seconds * ctx.rounds;
                    whole.rounds = 1;
                }
                one.rc = w->run(&whole, &w->p, &one);
                progress_clear();
                bench_row_pool(row, &one, round);
                stats_hist_free(one.lat);
            }
            if (!last)
                continue;
            if (row->rc != 0) {
                failed++;
                if (row->note[0] == '\0')
                    snprintf(row->note, sizeof(row->note), "failed: %s", strerror(-row->rc));
            }
            report_row(stdout, row);
            fflush(stdout);
        }
    }
    progress_stop();
    if (!keep)
        wl_big_cleanup();

    bench_print_load(stdout, "end");
    printf("\n");
    int missed = report_ratios(stdout, rows, BENCH_NWORKLOADS);
    if (missed)
        printf("%d target%s missed (MISS is a finding, not a failure: the exit status stays 0; "
               "docs/performance.md says what bounds each)\n",
               missed, missed == 1 ? "" : "s");
    if (json != NULL && report_json(json, &ctx, cmdline, rows, BENCH_NWORKLOADS) != 0) {
        fprintf(stderr, "sxp-bench: cannot write %s\n", json);
        failed++;
    }
    if (plot != NULL && report_plot(plot, rows, BENCH_NWORKLOADS) != 0) {
        fprintf(stderr, "sxp-bench: could not draw the charts into %s\n", plot);
        failed++;
    }
    if (!keep)
        fsutil_rm_rf(dir);
    for (size_t i = 0; i < BENCH_NWORKLOADS; i++)
        stats_hist_free(rows[i].lat);
    free(rows);
    return failed ? 1 : 0;
}
