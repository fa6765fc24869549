/*
 * journal.h -- ROOT/JOURNAL: one fdatasync for the appends of many logs.
 * The format and rules (J-1..J-11) are at the top of journal.c.
 */
#ifndef SXP_JOURNAL_H
#define SXP_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "commit.h"
#include "io.h"
#include "layout.h"
#include "lock.h"
#include "sxp.h"

struct stream;
struct sxp_store;

#define JOURNAL_HDR_LEN 46
/* J-4: the largest round that goes through the journal. */
#define JOURNAL_ROUND_MAX ((uint64_t)256 << 10)
/* J-5: a checkpoint runs once the journal holds this many bytes or logs.
 * The bytes bound keeps a log's unsynced bytes within COMMIT_MAX_UNSYNCED
 * (commit.h) even before a replay: a round starts below it and adds at
 * most JOURNAL_ROUND_MAX. */
#define JOURNAL_CKPT_BYTES (COMMIT_MAX_UNSYNCED - JOURNAL_ROUND_MAX)
#define JOURNAL_CKPT_LOGS 4096
/* J-11: a checkpoint of at least this many logs makes them durable with one
 * syncfs instead of an fdatasync each. */
#define JOURNAL_SYNCFS_LOGS 64

/* The bytes of one record: header line and payload (J-2). */
size_t journal_record_size(size_t name_len, size_t payload_len);
/* Writes one record of generation gen and round rnd (J-2; last: the
 * round's last record) into out (journal_record_size bytes): payload, the
 * lines of the stream named name, belong at off in its log. Returns the
 * bytes written. */
size_t journal_record_format(char *out, uint64_t gen, uint32_t rnd, int last, const char *name,
                             size_t name_len, uint64_t off, const char *payload,
                             size_t payload_len);

/* What journal_replay did. */
struct journal_replay_report {
    unsigned records;        /* valid records of the current generation */
    unsigned logs;           /* distinct logs they wrote */
    unsigned orphans;        /* records given to the orphan handler */
    uint64_t bytes;          /* payload bytes of the records */
    uint64_t orphan_bytes;   /* ... of them given to the orphan handler */
    struct lock_dirty named; /* the buckets of their streams (lock.h K-5) */
    /* J-9: the journal is damaged when damaged_at is not 0: the bytes
     * damaged_at..+damaged_len do not check, and a record of a later round
     * follows them at damaged_later. */
    uint64_t damaged_at, damaged_len, damaged_later;
    /* J-8: the header does not check and bytes other than zeros follow
     * it; damaged_len is then the file's size, and no record is read. */
    int header_damaged;
    int by_syncfs; /* J-6: the logs were made durable by one syncfs */
};

/* A record that cannot be written back (J-6): its log is missing (or a
 * directory stands in its place), or shorter than the record's offset once
 * the records before it are written. Damage, not crash residue. */
#define JOURNAL_LOG_MISSING 1
#define JOURNAL_LOG_DIR 2
struct journal_orphan {
    const char *hex; /* the stream's file name without ".log" (not NUL-ended) */
    size_t hex_len;
    uint64_t off;  /* where the payload belongs in the log */
    uint64_t jpos; /* where the payload is in ROOT/JOURNAL */
    size_t len;    /* payload bytes */
    int missing;   /* JOURNAL_LOG_MISSING, JOURNAL_LOG_DIR; 0: the log is log_size bytes */
    uint64_t log_size;
};
/* Returns 0 to go on (the record is then skipped), or -errno to stop. */
typedef int (*journal_orphan_fn)(void *arg, const struct journal_orphan *o);

/* What a replay wrote into one log and then fdatasynced (J-6): bytes lo to
 * hi of streams/<hex>.log, one unbroken run of its records' payloads.
 * Recovery need not write those bytes again or sync them. */
struct journal_written {
    char hex[2 * LAYOUT_STREAM_MAX + 1];
    uint64_t lo, hi;
};
struct journal_written_list {
    struct journal_written *v; /* sorted by hex; free() it */
    size_t n;
};
/* The run l holds for streams/<hex>.log, or NULL. */
const struct journal_written *journal_written_find(const struct journal_written_list *l,
                                                   const char *hex);

/* J-6: writes every valid record of ROOT/JOURNAL's current generation back
 * into its log, in journal order, then fdatasyncs those logs (when sync),
 * makes LOCK (lock_fd, when >= 0) forget its dirty list, and empties the
 * journal. With apply 0 it only counts them (sxp-fsck without -p). A
 * missing or headless journal has no records. A record that cannot be
 * written back (struct journal_orphan) is -EUCLEAN with a message, unless
 * orphan is given: then it goes to orphan(arg, ...) and is skipped (and
 * with apply 0 the records are checked against their logs, opened
 * read-only); the journal is still emptied after the others, so the
 * handler must have saved what it keeps. A damaged journal (J-9) is
 * -EUCLEAN with a message too, unless orphan is given: then the report says
 * where, and the valid records after the damage count and are written back
 * as well (the caller saves the damaged bytes first). */
/* J-6, J-11: a replay of at least min_records records (recovery's, or
 * sxp-fsck -p's) makes their logs durable with one syncfs through fd (a
 * descriptor opened before the replay wrote anything: LOCK's) instead of
 * an fdatasync each. */
struct journal_syncfs {
    int fd;
    size_t min_records;
};
/* fs may be NULL: with apply and sync, an fdatasync per log. */
int journal_replay(struct sxp_io *io, const char *root, int sync, int apply, int lock_fd,
                   const struct journal_syncfs *fs, journal_orphan_fn orphan, void *arg,
                   struct journal_replay_report *out, struct sxp_err *err);
/* As journal_replay with apply and sync 1, and, when it returns 0, the
 * logs it wrote and synced in *written: those whose records, in journal
 * order, each continued or overlapped the run before them. fs may be
 * NULL: an fdatasync per log. */
int journal_replay_written(struct sxp_io *io, const char *root, int lock_fd,
                           const struct journal_syncfs *fs, struct journal_replay_report *out,
                           struct journal_written_list *written, struct sxp_err *err);

/* J-8, sxp-fsck -y: once the damaged file is saved, a header of generation
 * 1 and nothing after it. */
int journal_reset_damaged(struct sxp_io *io, const char *root, int sync, struct sxp_err *err);

/* A read-only open: -EUCLEAN (with a message) when ROOT/JOURNAL holds
 * records and no writer holds ROOT/LOCK, that is, a crash left appends only
 * the journal has; the logs may lack them until a read-write open or
 * sxp-fsck -p replays it. */
int journal_check_readonly(struct sxp_io *io, const char *root, struct sxp_err *err);

/* Store side (s->mu rules in each comment). */

/* Opens or creates ROOT/JOURNAL and starts a new generation (J-5): called
 * by a read-write open after recovery, so no record is pending. */
int journal_start(struct sxp_store *s, struct sxp_err *err);
/* Notes that st's log has lines only the journal makes durable. s->mu held. */
int journal_note_dirty(struct sxp_store *s, struct stream *st);
/* J-5: fdatasyncs every log noted dirty, then starts a new generation.
 * Caller is the commit leader (or has drained commits); s->mu held, dropped
 * for the I/O. On failure the generation stays (a later open replays it)
 * and the failed logs are marked dead. */
int journal_checkpoint(struct sxp_store *s, struct sxp_err *err);
/* Cuts the file back to its header (a clean close, after a checkpoint). */
int journal_close(struct sxp_store *s);
/* Frees the dirty list (store teardown). */
void journal_free(struct sxp_store *s);

#endif
