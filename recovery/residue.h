/*
 * residue.h -- the three repairs of crash residue (rules of
 * recover.c), shared by recovery and by sxp-fsck -p/-y. Each is durable
 * when sync is set, and each is a no-op when there is nothing to repair.
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

/* atomically writes seq_path (a .seq file in dir) to hold value:
 * temp file, fdatasync, rename, fsync of dir. */
SXP_MUST_CHECK int residue_write_seq(struct sxp_io *io, const char *dir, const char *seq_path,
                                     int64_t value, int sync, struct sxp_err *err);

#endif
