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
 * K-5  THE DIRTY LIST. A session's LOCK reads "pid N +dirty\n" followed by
 *      one framed line (frame.h) per stream, holding its hex name, for
 *      every stream whose log the session has written to. A stream's line
 *      is appended, and synced, before the session's first write to its
 *      log (engine/streams.c streams_mark_dirty). So after a crash the
 *      list names every log that can hold unsynced bytes, and recovery
 *      reads only those logs (recovery/recover.c R-2): its work follows
 *      what the crashed session wrote, not the size of the store. A LOCK
 *      whose first line lacks " +dirty", or with any line that is not a
 *      well-framed hex name (a write cut short, damage), gives no list:
 *      recovery then reads every log.
 */
#ifndef SXP_LOCK_H
#define SXP_LOCK_H

#include <stdint.h>

#include "io.h"
#include "sxp.h"

#define LOCK_CLEAN_TEXT "clean\n"

/* Opens and locks ROOT/LOCK; *out_fd is the descriptor, *out_clean 1 when it
 * read "clean\n". -EAGAIN naming root and the holder's pid when taken. */
int lock_acquire(struct sxp_io *io, const char *root, int *out_fd, int *out_clean,
                 struct sxp_err *err);
/* Replaces the text with "pid N +dirty\n" (mark_open; *out_end: where the
 * dirty list starts) or "clean\n" (mark_clean), synced when sync is set. */
int lock_mark_open(struct sxp_io *io, int fd, int sync, uint64_t *out_end);
int lock_mark_clean(struct sxp_io *io, int fd, int sync);
/* K-5: appends the framed hex name at *off, synced when sync is set, and
 * advances *off. On an error *off stays: the next append overwrites. */
int lock_append_dirty(struct sxp_io *io, int fd, uint64_t *off, const char *hex, size_t len,
                      int sync);

/* The dirty list of a LOCK (K-5): sorted hex names. */
struct lock_dirty {
    char **stems;
    size_t n;
};
/* Reads the dirty list from fd: 1 and *out when LOCK holds a whole one, 0
 * when it holds none (recover every log), -errno. */
int lock_read_dirty(struct sxp_io *io, int fd, struct lock_dirty *out);
void lock_dirty_free(struct lock_dirty *d);
/* Reads the pid in a LOCK text, 0 if none. */
long lock_holder_pid(struct sxp_io *io, const char *root);

#endif
