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
    unsigned tails_saved;     /* of them, saved to lost+found/ first */
    unsigned hw_rolled;       /* .seq files rolled forward to the log's max seq */
    unsigned seq_created;     /* .seq files recreated for a log that had none */
    unsigned unborn_removed;  /* empty logs without .seq removed (R-4b) */
    unsigned logs_scanned;    /* logs whose tail was read */
    unsigned logs_skipped;    /* logs not on the dirty list, not read */
    uint64_t bytes_read;      /* log bytes read */
    uint64_t bytes_rewritten; /* bytes of lines above the .seq written again */
    unsigned logs_synced;     /* logs kept whole and synced for those lines */
    unsigned syncfs_calls;    /* syncfs calls made in place of fdatasyncs */
    unsigned journal_records; /* JOURNAL records written back into logs */
    uint64_t journal_bytes;   /* their payload bytes */
};

/* Repairs crash residue in the store at root through io. sync: make every
 * repair durable (fdatasync, directory fsync). out may be NULL. */
SXP_MUST_CHECK int recover_store(struct sxp_io *io, const char *root, int sync,
                                 struct recover_report *out, struct sxp_err *err);
/* How recover_store_only runs. */
struct lock_dirty;
struct recover_args {
    int sync; /* as recover_store's */
    /* Read only the logs whose bucket is in only (the crashed session's
     * dirty list, engine/lock.h K-5) or is named by a JOURNAL record, and
     * every log that has no .seq. NULL: every log. */
    const struct lock_dirty *only;
    /* The store's LOCK, open since before recovery began: it forgets the
     * list before the journal is emptied (engine/journal.c J-6), and
     * recovery's syncfs calls go through it. -1: neither. */
    int lock_fd;
    int unsynced;       /* the crashed session ran under SXP_SYNC_NONE */
    size_t syncfs_logs; /* R-8's bound; SIZE_MAX: never a syncfs */
};
/* As recover_store, run as a says. */
SXP_MUST_CHECK int recover_store_only(struct sxp_io *io, const char *root,
                                      const struct recover_args *a, struct recover_report *out,
                                      struct sxp_err *err);

#endif
