/*
 * main.c -- the sxp-fsck command: options, then fsck_run (fsck.h), then the
 * report on stdout and the exit status of checks.h.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsck.h"

static void fsck_usage(FILE *out)
{
    fprintf(out, "usage: sxp-fsck [-n | -p | -y] [--upgrade] [--json] [--force] [-j N]\n"
                 "                [--sync-each-log] [DIR]\n"
                 "\n"
                 "Checks the sxp store in DIR (default: $SX_PERSIST_DIR, else ./persist-data).\n"
                 "\n"
                 "Modes, as e2fsck's:\n"
                 "  -n         check only (the default): changes nothing, not even access times\n"
                 "             or temp files\n"
                 "  -p         repair crash residue only, as recovery on open does: remove temp\n"
                 "             files, cut torn tails, create or roll forward .seq files\n"
                 "  -y         also repair corruption: bad log lines and bad files are moved to\n"
                 "             DIR/lost+found/ (listed in lost+found/MANIFEST with the file,\n"
                 "             byte offset and line they came from); nothing is deleted\n"
                 "  --upgrade  give legacy (reference-written) lines and kv values their\n"
                 "             checksums and write FORMAT; implies -p when given alone\n"
                 "\n"
                 "Options:\n"
                 "  --json     print the report as JSON (findings with code, class, file,\n"
                 "             line, offset, message, action)\n"
                 "  --force    check (read-only) a store that a live writer holds\n"
                 "  -j N       check N streams at a time (default 2)\n"
                 "  --sync-each-log\n"
                 "             make each repaired file durable with an fdatasync of its own,\n"
                 "             instead of one syncfs(2) for 64 files or more (the default):\n"
                 "             for a filesystem that other programs write much to\n"
                 "  -h, --help this text\n"
                 "\n"
                 "Findings (code, class, what it means; what repairs it):\n");
    for (int i = 0; i < FSCK_CODE_COUNT; i++)
        fprintf(out, "  %-17s %-10s %s;\n  %-28s %s\n", fsck_checks[i].name,
                fsck_class_name(fsck_checks[i].cls), fsck_checks[i].what, "",
                fsck_checks[i].repair);
    fprintf(out, "\n"
                 "Classes: residue is what a crash leaves (recovery and -p repair it);\n"
                 "corruption is what no crash of sxp explains (-y moves it to lost+found/);\n"
                 "warnings do not change the exit status.\n"
                 "\n"
                 "Exit status:\n"
                 "  0   no errors (warnings allowed)\n"
                 "  1   errors were found and all were repaired\n"
                 "  4   errors are left (under -n: any error found; under -p: corruption;\n"
                 "      under -y: a repair that failed)\n"
                 "  8   the store could not be checked (missing, not a store, unreadable,\n"
                 "      unknown FORMAT, I/O error, or locked by a live writer without --force)\n"
                 "  16  bad usage\n"
                 "A second run after a repair exits 0.\n");
}

/* Prints "sxp-fsck: WHAT 'ARG'" and the hint; returns the usage status. */
static int fsck_usage_error(const char *what, const char *arg)
{
    if (arg)
        fprintf(stderr, "sxp-fsck: %s '%s'\nTry 'sxp-fsck --help'.\n", what, arg);
    else
        fprintf(stderr, "sxp-fsck: %s\nTry 'sxp-fsck --help'.\n", what);
    return FSCK_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    struct fsck_opts o;
    struct fsck_report r;
    const char *dir = NULL;
    int json = 0, nmodes = 0, explicit_n = 0;

    /* A repair's write past RLIMIT_FSIZE fails with EFBIG, reported, rather
     * than killing sxp-fsck halfway (cli/main.c). */
    signal(SIGXFSZ, SIG_IGN);
    memset(&o, 0, sizeof(o));
    o.mode = FSCK_MODE_CHECK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-n") == 0) {
            o.mode = FSCK_MODE_CHECK;
            explicit_n = 1;
            nmodes++;
        } else if (strcmp(a, "-p") == 0) {
            o.mode = FSCK_MODE_PREEN;
            nmodes++;
        } else if (strcmp(a, "-y") == 0) {
            o.mode = FSCK_MODE_YES;
            nmodes++;
        } else if (strcmp(a, "--upgrade") == 0) {
            o.upgrade = 1;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--force") == 0) {
            o.force = 1;
        } else if (strcmp(a, "--sync-each-log") == 0) {
            o.syncfs_logs = SIZE_MAX;
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--threads") == 0) {
            if (i + 1 >= argc)
                return fsck_usage_error("a number must follow", a);
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 64)
                return fsck_usage_error("thread count must be 1..64, not", argv[i]);
            o.threads = (int)n;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fsck_usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            return fsck_usage_error("unknown option", a);
        } else if (dir) {
            return fsck_usage_error("more than one directory given:", a);
        } else {
            dir = a;
        }
    }
    if (nmodes > 1)
        return fsck_usage_error("give only one of -n, -p, -y", NULL);
    if (o.upgrade && explicit_n)
        return fsck_usage_error("--upgrade changes the store: use it with -p or -y", NULL);
    if (o.upgrade && o.mode == FSCK_MODE_CHECK)
        o.mode = FSCK_MODE_PREEN;
    dir = sxp_store_resolve_dir(dir);
    o.root = dir;
    o.progress = isatty(2);

    int status = fsck_run(&o, &r);
    if (json) {
        char sum[1024];
        fsck_report_print_json(&r, dir, stdout);
        fsck_report_summary(&r, dir, sum, sizeof(sum));
        fprintf(stderr, "%s\n", sum);
    } else if (r.fatal[0]) {
        /* Nothing was checked: one line on stderr, none on stdout. */
        fprintf(stderr, "sxp-fsck: %s\n", r.fatal);
    } else {
        fsck_report_print_text(&r, dir, stdout);
    }
    fflush(stdout);
    fsck_report_free(&r);
    return status;
}
