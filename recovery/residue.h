/*
 * residue.h -- the repairs of crash residue (rules and R-6's
 * rewrite of recover.c), shared by recovery and by sxp-fsck -p/-y. Each is
 * durable when sync is set (the rewrite, once the log is synced after it),
 * and each is a no-op when there is nothing to repair.
 */
#ifndef SXP_RESIDUE_H
#define SXP_RESIDUE_H

#include <stdint.h>

#include "io.h"
#include "sxp.h"

/* removes every regular file of dir whose name ends in ".tmp", then
 * fsyncs dir (when sync and something was removed). A missing dir is fine.
 * *out_removed counts the files removed. */
SXP_MUST_CHECK int residue_remove_temps(struct sxp_io *io, const char *dir, int sync,
                                        unsigned *out_removed, struct sxp_err *err);

/* cuts the log open on fd (path for messages) to off bytes and
 * fdatasyncs it when sync is set. */
SXP_MUST_CHECK int residue_cut_tail(struct sxp_io *io, int fd, const char *path, uint64_t off,
                                    int sync, struct sxp_err *err);

/* writes the bytes [from, to) of the log open on fd (read-write;
 * path for messages) again, as they are, so that the log's next fdatasync
 * writes them: a failed fdatasync may have left their pages clean in the
 * page cache, read as written but written by no later fdatasync (io.h
 * IO-5). from is raised to the window (the last COMMIT_MAX_UNSYNCED
 * bytes before to): what lies before it was synced before anything in it
 * was written. *out_bytes (may be NULL) gets the bytes written. */
SXP_MUST_CHECK int residue_rewrite(struct sxp_io *io, int fd, const char *path, uint64_t from,
                                   uint64_t to, uint64_t *out_bytes, struct sxp_err *err);
/* The same for every byte of [from, to), with no window: engine/lock.h K-6
 * writes whole files again after a failed syncfs. The file must not
 * shrink meanwhile (a short read is -EIO). */
SXP_MUST_CHECK int residue_rewrite_all(struct sxp_io *io, int fd, const char *path, uint64_t from,
                                       uint64_t to, struct sxp_err *err);

#endif
