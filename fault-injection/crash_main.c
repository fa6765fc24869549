/*
 * crash_main.c -- sxp-crash: proves that nothing acknowledged is lost.
 *
 *   sxp-crash [--mode kill|points|sim|errors|loop] [--seed S] [--runs N]
 *             [--duration-ms D] [--dir DIR] [--threads T] [--ops N]
 *             [--streams N] [--keys N] [--fresh-every N] [--max-points N]
 *             [--kill-at KIND:N[:after]] [--all-kinds] [--drop-dirsync]
 *             [--drop KIND[:SUFFIX]] [--racing-dirfail] [--racing-syncfail]
 *             [--fsck PATH | --no-fsck] [--trace] [--run R] [--point P] [-v]
 *
 * --run and --point narrow --mode sim to one run and one crash point, to
 * reproduce what a failure message names; --trace prints the run's calls.
 * --drop-dirsync and --drop (sim only) break the disk on purpose, to see the
 * checks catch it: --drop fsync_dir:/kv skips every fsync of a directory
 * whose path ends in "/kv", --drop fdatasync:JOURNAL every sync of JOURNAL,
 * --drop fdatasync:/lost+found/ every sync of a file in lost+found/ (a
 * SUFFIX ending in '/' names a directory; KIND is a name io_fault gives:
 * fdatasync, fsync_dir, rename, ...). --racing-dirfail (sim only) also fails
 * one directory fsync in each try of the multi-threaded phase, whose
 * dropped entries other threads race (the cases of test_crash_sim.c that
 * race a failed directory fsync).
 * --racing-syncfail (sim only) likewise fails one file fdatasync in each
 * try, the disk dropping, keeping or partly writing its writes.
 *
 * The modes are described at the top of crash_kill.c, crash_sim.c and
 * crash_errors.c, the guarantees in crash.h and docs/durability.md. The
 * last line of output is the summary:
 *
 *   sxp-crash: mode kill seed 1: runs 100 kills 97 acked 41234 lost 0 bad 0 ...
 *
 * Exit status: 0 when nothing was lost and nothing else went wrong, 1 when
 * a guarantee failed, 2 for bad usage, 3 when the harness could not run.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "fault.h"

static void crash_usage(FILE *f)
{
    fprintf(f, "usage: sxp-crash [--mode kill|points|sim|errors|loop] [--seed S] [--runs N]\n"
               "                 [--duration-ms D] [--dir DIR] [--threads T] [--ops N]\n"
               "                 [--streams N] [--keys N] [--fresh-every N] [--max-points N]\n"
               "                 [--kill-at KIND:N[:after]] [--all-kinds] [--drop-dirsync]\n"
               "                 [--drop KIND[:SUFFIX]] [--racing-dirfail] [--racing-syncfail]\n"
               "                 [--fsck PATH | --no-fsck] [--trace] [--run R] [--point P] [-v]\n"
               "modes: kill    SIGKILL a workload child at a random seeded moment (default)\n"
               "       points  SIGKILL it at each disk-changing call in turn (SXP_KILL_AT)\n"
               "       sim     power loss on the simulated disk at every write/sync boundary\n"
               "       errors  injected EIO/ENOSPC, short writes, failed renames and syncs\n"
               "       loop    fail the 1st, 2nd, ... call once, then for good\n");
}

static int crash_num(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || v > max || *s == '-')
        return -EINVAL;
    *out = v;
    return 0;
}

static const char *const crash_mode_names[] = {"kill", "points", "sim", "errors", "loop"};

int main(int argc, char **argv)
{
    struct crash_params p;
    struct crash_stats st;
    char defdir[64];
    int no_fsck = 0, dir_given = 0;
    const char *fsck = NULL;
    enum {
        O_SEED = 256,
        O_RUNS,
        O_DUR,
        O_DIR,
        O_THREADS,
        O_MODE,
        O_OPS,
        O_STREAMS,
        O_KEYS,
        O_FRESH,
        O_MAXP,
        O_KILLAT,
        O_ALLK,
        O_DROP,
        O_DROPK,
        O_RACEDF,
        O_RACESF,
        O_FSCK,
        O_NOFSCK,
        O_TRACE,
        O_RUN,
        O_POINT
    };
    static const struct option opts[] = {
        {"seed", required_argument, NULL, O_SEED},
        {"runs", required_argument, NULL, O_RUNS},
        {"duration-ms", required_argument, NULL, O_DUR},
        {"duration", required_argument, NULL, O_DUR},
        {"dir", required_argument, NULL, O_DIR},
        {"threads", required_argument, NULL, O_THREADS},
        {"mode", required_argument, NULL, O_MODE},
        {"ops", required_argument, NULL, O_OPS},
        {"streams", required_argument, NULL, O_STREAMS},
        {"keys", required_argument, NULL, O_KEYS},
        {"fresh-every", required_argument, NULL, O_FRESH},
        {"max-points", required_argument, NULL, O_MAXP},
        {"kill-at", required_argument, NULL, O_KILLAT},
        {"all-kinds", no_argument, NULL, O_ALLK},
        {"drop-dirsync", no_argument, NULL, O_DROP},
        {"drop", required_argument, NULL, O_DROPK},
        {"racing-dirfail", no_argument, NULL, O_RACEDF},
        {"racing-syncfail", no_argument, NULL, O_RACESF},
        {"fsck", required_argument, NULL, O_FSCK},
        {"no-fsck", no_argument, NULL, O_NOFSCK},
        {"trace", no_argument, NULL, O_TRACE},
        {"run", required_argument, NULL, O_RUN},
        {"point", required_argument, NULL, O_POINT},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    crash_params_defaults(&p);
    p.self = argv[0];
    p.out = stdout;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (;;) {
        int c = getopt_long(argc, argv, "vh", opts, NULL);
        unsigned long long v = 0;
        int bad = 0;
        if (c == -1)
            break;
        switch (c) {
        case O_SEED:
            bad = crash_num(optarg, UINT64_MAX, &v);
            p.seed = v;
            break;
        case O_RUNS:
            bad = crash_num(optarg, 100000000, &v);
            p.runs = (unsigned)v;
            break;
        case O_DUR:
            bad = crash_num(optarg, 3600000, &v) || v == 0;
            p.duration_ms = (unsigned)v;
            break;
        case O_DIR:
            p.dir = optarg;
            dir_given = 1;
            break;
        case O_THREADS:
            bad = crash_num(optarg, 256, &v) || v == 0;
            p.threads = (unsigned)v;
            break;
        case O_MODE:
            bad = 1;
            for (int m = 0; m < 5; m++)
                if (strcmp(optarg, crash_mode_names[m]) == 0) {
                    p.mode = (enum crash_mode)m;
                    bad = 0;
                }
            break;
        case O_OPS:
            bad = crash_num(optarg, 1000000, &v);
            p.ops = (unsigned)v;
            break;
        case O_STREAMS:
            bad = crash_num(optarg, 64, &v) || v == 0;
            p.nstreams = (unsigned)v;
            break;
        case O_KEYS:
            bad = crash_num(optarg, 1000, &v) || v == 0;
            p.nkeys = (unsigned)v;
            break;
        case O_FRESH:
            bad = crash_num(optarg, 100000000, &v);
            p.fresh_every = (unsigned)v;
            break;
        case O_MAXP:
            bad = crash_num(optarg, 100000000, &v);
            p.max_points = (unsigned)v;
            break;
        case O_KILLAT:
            p.kill_at = optarg;
            break;
        case O_ALLK:
            p.all_kinds = 1;
            break;
        case O_DROP:
            p.drop_dirsync = 1;
            break;
        case O_DROPK: {
            /* KIND or KIND:SUFFIX, KIND one of io_fault's kind names. */
            char *colon = strchr(optarg, ':');
            if (colon != NULL)
                *colon = '\0';
            int k = io_fault_kind_parse(optarg);
            bad = k < 0;
            if (colon != NULL)
                *colon = ':';
            p.drop_mask |= bad ? 0 : IO_FAULT_BIT(k);
            p.drop_at = colon ? colon + 1 : NULL;
            break;
        }
        case O_RACEDF:
            p.racing_dirfail = 1;
            break;
        case O_RACESF:
            p.racing_syncfail = 1;
            break;
        case O_FSCK:
            fsck = optarg;
            break;
        case O_NOFSCK:
            no_fsck = 1;
            break;
        case O_TRACE:
            p.trace = 1;
            break;
        case O_RUN:
            bad = crash_num(optarg, 100000000, &v);
            p.only_run = (long)v;
            break;
        case O_POINT:
            bad = crash_num(optarg, 100000000, &v);
            p.only_point = (long)v;
            break;
        case 'v':
            p.verbose = 1;
            break;
        case 'h':
            crash_usage(stdout);
            return 0;
        default:
            crash_usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "sxp-crash: bad value: %s\n", optarg);
            crash_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        crash_usage(stderr);
        return 2;
    }
    if (!dir_given) {
        snprintf(defdir, sizeof(defdir), "/tmp/sxp-crash-%ld", (long)getpid());
        p.dir = defdir;
    }
    if ((p.drop_dirsync || p.drop_mask || p.racing_dirfail || p.racing_syncfail) &&
        p.mode != CRASH_MODE_SIM) {
        fprintf(stderr, "sxp-crash: --drop-dirsync, --drop, --racing-dirfail and --racing-syncfail "
                        "go with --mode sim\n");
        return 2;
    }
    if (!no_fsck) {
        if (fsck != NULL) {
            setenv("SXP_FSCK", fsck, 1);
        }
        p.fsck = crash_fsck_find(argv[0]);
        if (p.fsck == NULL)
            fprintf(stdout, "sxp-crash: note: sxp-fsck not found (looked beside this binary "
                            "and in ../fsck; set --fsck): fsck checks skipped\n");
    }

    memset(&st, 0, sizeof(st));
    int rc;
    switch (p.mode) {
    case CRASH_MODE_KILL:
        rc = crash_run_kill(&p, &st);
        break;
    case CRASH_MODE_POINTS:
        rc = crash_run_points(&p, &st);
        break;
    case CRASH_MODE_SIM:
        rc = crash_run_sim(&p, &st);
        break;
    case CRASH_MODE_ERRORS:
        rc = crash_run_errors(&p, &st);
        break;
    default:
        rc = crash_run_loop(&p, &st);
        break;
    }
    printf("sxp-crash: mode %s seed %llu: runs %llu kills %llu acked %llu lost %llu bad %llu "
           "faults %llu fsck %llu",
           crash_mode_names[p.mode], (unsigned long long)p.seed, (unsigned long long)st.runs,
           (unsigned long long)st.kills, (unsigned long long)st.acked, (unsigned long long)st.lost,
           (unsigned long long)st.bad, (unsigned long long)st.faults,
           (unsigned long long)st.fsck_runs);
    if (p.mode == CRASH_MODE_SIM)
        printf(" lost+found %llu read-only %llu (refused %llu) unsynced %llu (refused %llu)",
               (unsigned long long)st.lostfound, (unsigned long long)st.readonly,
               (unsigned long long)st.readonly_refused, (unsigned long long)st.unsynced,
               (unsigned long long)st.unsynced_refused);
    printf("%s\n", st.fsck_skipped ? " (fsck skipped where absent)" : "");
    if (st.lock_waits)
        printf("sxp-crash: note: %llu opens waited for a killed child's LOCK (io_uring "
               "teardown), the longest %.1f ms\n",
               (unsigned long long)st.lock_waits, (double)st.lock_wait_max_ns / 1e6);
    if (rc < 0) {
        fprintf(stderr, "sxp-crash: the harness could not run: %s\n", strerror(-rc));
        return 3;
    }
    if (rc == 0 && !dir_given)
        (void)crash_rmrf(p.dir);
    return rc == 0 ? 0 : 1;
}
