/*
 * seqfile.h -- writes many streams/<hex>.seq files at once: a clean close
 * (streams.c) and recovery's rule R-4 (recovery/recover.c) both roll
 * thousands of high-water marks forward in one go.
 */
#ifndef SXP_SEQFILE_H
#define SXP_SEQFILE_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"

/* Items per write_sync batch; also the temp files open at once. */
#define SEQFILE_CHUNK 64

struct seqfile_item {
    const char *path; /* the .seq to replace, in dir */
    int64_t value;    /* the high-water mark it is to hold */
    int done;         /* OUT: 1 once path names the new value */
};

/* Replaces each item's file atomically, SEQFILE_CHUNK at a time: temp
 * files in dir are created, written and (when sync) fdatasynced in one
 * write_sync, closed, then renamed over their paths, so a .seq never names
 * unsynced bytes. With fs_fd >= 0 each chunk is written without syncs
 * and made durable by one syncfs through fs_fd instead, a descriptor held
 * since the store's open (journal.c J-11 says why). dir is NOT fsynced:
 * the caller fsyncs it once after all (IO-4), and until then a power loss
 * may undo some renames. Stops at the first failure, removing the temp
 * files it did not rename. Returns 0 or that -errno; *out_synced (may be
 * NULL) counts the fdatasyncs and syncfs calls done. */
SXP_MUST_CHECK int seqfile_write_many(struct sxp_io *io, const char *dir, struct seqfile_item *v,
                                      size_t n, int sync, int fs_fd, uint64_t *out_synced);

#endif
