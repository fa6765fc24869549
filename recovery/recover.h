/*
 * recover.h -- recovery on open (the rule itself is written at the top of
 * recovery/recover.c and in docs/recovery.md).
 *
 * recover_store runs before a read-write open serves anything, whenever the
 * store was not closed cleanly, and from `sxp recover`. It repairs crash
 * residue only: leftover temp files, torn log tails (including zero-filled
 * tails), .seq files that lag their log or are missing. Afterwards every
 * fsck check passes and every acknowledged operation is present. Corruption
 * that a crash cannot explain is never dropped: -EUCLEAN, with err naming
 * the file and byte offset and pointing to sxp-fsck, and nothing deleted.
 */
#ifndef SXP_RECOVER_H
#define SXP_RECOVER_H

#include <stdint.h>

#include "io.h"
#include "sxp.h"

struct recover_report {
    unsigned tmp_removed;     /* leftover temp files removed */
    unsigned tails_cut;       /* logs whose torn tail was cut */
    uint64_t bytes_cut;       /* bytes cut from those tails */
    unsigned tails_saved;     /* of them, saved to lost+found/ first (R-3 c) */
    unsigned hw_rolled;       /* .seq files rolled forward to the log's max seq */
    unsigned seq_created;     /* .seq files recreated for a log that had none */
    unsigned unborn_removed;  /* empty logs without .seq removed (R-4b) */
    unsigned logs_scanned;    /* logs whose tail was read */
    unsigned logs_skipped;    /* logs not on the dirty list, not read */
    uint64_t bytes_read;      /* log bytes read */
    uint64_t bytes_rewritten; /* bytes of lines above the .seq written again */
    unsigned logs_synced;     /* logs kept whole and fdatasynced for those lines */
    unsigned journal_records; /* JOURNAL records written back into logs */
    uint64_t journal_bytes;   /* their payload bytes */
};

/* Repairs crash residue in the store at root through io. sync: make every
 * repair durable (fdatasync, directory fsync). out may be NULL. */
SXP_MUST_CHECK int recover_store(struct sxp_io *io, const char *root, int sync,
                                 struct recover_report *out, struct sxp_err *err);
/* As recover_store, but reads only the logs whose bucket is in only (the
 * crashed session's dirty list, engine/lock.h K-5) or is named by a
 * JOURNAL record, and every log that has no .seq. only NULL: every log.
 * lock_fd: the LOCK holding that list, which forgets it before the journal
 * is emptied (engine/journal.c J-6). unsynced: the crashed session ran
 * under SXP_SYNC_NONE (engine/lock.h K-6; recover.c R-7). */
struct lock_dirty;
SXP_MUST_CHECK int recover_store_only(struct sxp_io *io, const char *root, int sync,
                                      const struct lock_dirty *only, int lock_fd, int unsynced,
                                      struct recover_report *out, struct sxp_err *err);

#endif
