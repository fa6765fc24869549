/*
 * fsck.h -- sxp-fsck as a library: fsck_run checks (and under -p/-y
 * repairs) one store and fills a report. The command (main.c) and the tests
 * drive it through here. Codes, classes and exit statuses: checks.h.
 */
#ifndef SXP_FSCK_H
#define SXP_FSCK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "checks.h"
#include "io.h"
#include "sxp.h"

enum fsck_mode {
    FSCK_MODE_CHECK = 0, /* -n: read only; not even a temp file is created */
    FSCK_MODE_PREEN,     /* -p: repair crash residue */
    FSCK_MODE_YES,       /* -y: repair residue and move corruption to lost+found/ */
};

struct fsck_opts {
    const char *root; /* the store's directory */
    enum fsck_mode mode;
    int upgrade;  /* --upgrade: give legacy lines and kv values trailers */
    int force;    /* --force: check read-only even if a writer holds the lock */
    int threads;  /* streams checked in parallel; 0: 2 */
    int progress; /* draw a progress bar on stderr */
    int nosync;   /* repairs without fdatasync/fsync (tests only) */
    /* Repairs of this many files or more (a replay's records, the logs made
     * durable, the .seq files written) sync them with one syncfs through
     * LOCK's descriptor (repair.c SYNCFS). 0: JOURNAL_SYNCFS_LOGS (64);
     * SIZE_MAX: never (--sync-each-log). */
    size_t syncfs_logs;
    enum sxp_io_kind io_kind; /* backend when io is NULL */
    struct sxp_io *io;        /* the backend to use, owned by the caller; NULL: make one */
};

/* What was done about a finding. */
enum fsck_action {
    FSCK_ACT_NONE = 0, /* reported only */
    FSCK_ACT_CUT,      /* torn tail cut (arg: the new size) */
    FSCK_ACT_MOVED,    /* moved to lost+found/ (arg: the item's number, moved_to) */
    FSCK_ACT_REMOVED,  /* temp file removed */
    FSCK_ACT_ROLLED,   /* .seq rolled forward (arg: the new value) */
    FSCK_ACT_CREATED,  /* .seq or FORMAT written (arg: the value) */
    FSCK_ACT_UPGRADED, /* trailers added (arg: how many) */
    FSCK_ACT_REPLAYED, /* journal records written back (arg: payload bytes) */
    FSCK_ACT_FAILED,   /* the repair failed (note says why) */
    FSCK_ACT_SETTLED,  /* every file written again and synced (lock.h K-6) */
};

/* The detail of a hw-behind, torn-tail or temp-file under --force that the
 * live writer's session does not explain (check_live.c). */
#define FSCK_NOT_LIVE 1

struct fsck_finding {
    enum fsck_code code;
    const char *file; /* relative to the store root; owned by the report */
    uint64_t line;    /* 1-based line number; 0 when about the whole file */
    uint64_t off;     /* byte offset of the line or region */
    uint64_t len;     /* its length in bytes */
    int64_t a, b, c;  /* details, by code (see fsck_finding_message) */
    int64_t d, e;     /* more of them (live-writer) */
    int detail;       /* a logscan verdict, or a sub-reason, by code */
    enum fsck_action action;
    int64_t arg;    /* see enum fsck_action */
    char *moved_to; /* FSCK_ACT_MOVED: "lost+found/NAME"; malloc'd */
    char *note;     /* FSCK_ACT_FAILED: why; malloc'd */
};

struct fsck_report {
    struct fsck_finding *f; /* sorted by file, then offset */
    size_t n, cap;
    char **files; /* the strings findings point to */
    size_t nfiles, capfiles;

    enum fsck_mode mode;
    unsigned streams, kv_files, blobs;
    uint64_t log_bytes, kv_bytes, blob_bytes; /* bytes read and checked */
    uint64_t check_ns;                        /* wall time of the checking phase */
    uint64_t total_ns;                        /* wall time of the whole run */
    unsigned errors;                          /* residue and corruption findings */
    unsigned residue, corruption, warnings;
    unsigned repaired; /* errors repaired */
    unsigned left;     /* errors not repaired */
    unsigned upgraded; /* warnings acted on by --upgrade (legacy lines, FORMAT) */
    int status;        /* the exit status (checks.h) */
    char fatal[512];   /* status 8: why the store could not be checked */
};

/* Checks (and repairs, by mode) the store at o->root. Fills *out (free it
 * with fsck_report_free) and returns its exit status. */
int fsck_run(const struct fsck_opts *o, struct fsck_report *out);
void fsck_report_free(struct fsck_report *r);

/* The one-line message of a finding, into buf. */
void fsck_finding_message(const struct fsck_finding *f, char *buf, size_t size);
/* What was done, into buf ("none", "cut at byte 120", ...). */
void fsck_finding_action(const struct fsck_finding *f, char *buf, size_t size);

/* Prints the findings, one per line, then the summary line. */
void fsck_report_print_text(const struct fsck_report *r, const char *root, FILE *out);
/* Prints the report as one JSON object. */
void fsck_report_print_json(const struct fsck_report *r, const char *root, FILE *out);
/* The one-line summary (no newline) into buf. */
void fsck_report_summary(const struct fsck_report *r, const char *root, char *buf, size_t size);

/* Helpers for tests: how many findings of code; the first of code (or NULL). */
size_t fsck_report_count(const struct fsck_report *r, enum fsck_code code);
const struct fsck_finding *fsck_report_find(const struct fsck_report *r, enum fsck_code code);

#endif
