/*
 * lock.h -- the LOCK file: one read-write process per store, and the
 * clean-shutdown marker.
 *
 * ROOT/LOCK holds "pid N\n" while a read-write process has the store open
 * and "clean\n" after it closed it cleanly (everything synced, every .seq
 * up to date). The exclusive advisory lock (io->lock, flock) on it is what
 * excludes a second writer; the text is only for messages and for deciding
 * whether recovery must run.
 *
 * K-1  A store whose LOCK does not read "clean\n" (absent, "pid N", torn)
 *      was not closed cleanly: open runs recovery.
 * K-2  "pid N\n" is made durable before the first write of a session, so a
 *      crash at any later point is seen by K-1.
 * K-3  "clean\n" is written (and synced) only after every append is durable
 *      and every .seq is up to date and durable.
 * K-4  A lock held by a pid that no longer exists is waited for, briefly
 *      (lock.c): the kernel may release a killed process's lock late.
 */
#ifndef SXP_LOCK_H
#define SXP_LOCK_H

#include "io.h"
#include "sxp.h"

#define LOCK_CLEAN_TEXT "clean\n"

/* Opens and locks ROOT/LOCK; *out_fd is the descriptor, *out_clean 1 when it
 * read "clean\n". -EAGAIN naming root and the holder's pid when taken. */
int lock_acquire(struct sxp_io *io, const char *root, int *out_fd, int *out_clean,
                 struct sxp_err *err);
/* Replaces the text with "pid N\n" (mark_open) or "clean\n" (mark_clean),
 * synced when sync is set. */
int lock_mark_open(struct sxp_io *io, int fd, int sync);
int lock_mark_clean(struct sxp_io *io, int fd, int sync);
/* Reads the pid in a LOCK text, 0 if none. */
long lock_holder_pid(struct sxp_io *io, const char *root);

#endif
