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

/* Replaces each item's file atomically, SEQFILE_CHUNK at a time (fewer
 * under a low RLIMIT_NOFILE: a quarter of it, io_fd_share): temp
 * files in dir are created, written and (when sync) fdatasynced in one
 * write_sync, closed, then put in place of their paths, so a .seq never
 * names unsynced bytes. With fs_fd >= 0 each chunk is written without
 * syncs and made durable by one syncfs through fs_fd instead, a
 * descriptor held since the store's open (journal.c J-11 says why). When
 * sync, a temp file takes an existing .seq's place by RENAME_EXCHANGE,
 * and the old .seq inode serves as the next chunk's temp file, once an
 * fsync of dir made the exchange durable (RECYCLING in seqfile.c): dir
 * is fsynced after each such chunk. The renames are not: the caller
 * fsyncs dir once after all (IO-4), and until then a power loss may undo
 * some of them. Stops at the first failure, removing the temp files it
 * did not put in place; that failure may be the fsync of dir, so a
 * caller must not fsync dir again to vouch for the items that are done
 * (store_int.h ST-7). Returns 0 or that -errno; *out_synced (may be
 * NULL) counts the fdatasyncs and syncfs calls done. keep (may be NULL:
 * then the call's own) carries the temp files from one call to the next,
 * for a caller that writes its items a chunk at a time. */
struct seqfile_tmps;
SXP_MUST_CHECK int seqfile_write_many(struct sxp_io *io, const char *dir, struct seqfile_item *v,
                                      size_t n, int sync, int fs_fd, struct seqfile_tmps *keep,
                                      uint64_t *out_synced);
/* The temp files to carry (NULL when out of memory: then pass NULL), and
 * their end: it removes the old .seq files still held at temp names (the
 * caller's fsync of dir then makes that durable, or recovery removes
 * them), unless an exchange that filled one is not yet durable (a failed
 * call): then they stay, as temp files for recovery's R-1. */
struct seqfile_tmps *seqfile_tmps_new(int sync);
void seqfile_tmps_free(struct sxp_io *io, struct seqfile_tmps *t);

/* Makes every process-wide call write its items n at a time (1 to
 * SEQFILE_CHUNK; 0: SEQFILE_CHUNK again), so that the crash harness
 * reaches RECYCLING's reuse of temp files with a few streams. */
void seqfile_set_chunk(size_t n);

#endif
