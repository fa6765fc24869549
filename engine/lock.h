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
 *      and every .seq is up to date and durable, and only by a session in
 *      which no write left residue: a stream dead from a failed write, a
 *      kv or blob write or a truncate that failed after making its temp
 *      file, a folder fenced by a failed directory fsync (store.c
 *      store_left_residue).
 *      A temp file removed but not durably so comes back at a power loss;
 *      a store marked clean would skip the recovery that removes it.
 * K-4  A lock held while LOCK names no pid ("clean") or a pid that no
 *      longer exists is waited for, briefly (lock.c): the kernel may
 *      release the lock of a killed process, or of a store just closed
 *      (in this process too), late: io_uring's teardown holds the file a
 *      moment. A live holder named in LOCK is refused at once.
 * K-5  THE DIRTY LIST. A session's LOCK reads "pid N +dirty\n" followed by
 *      framed lines (frame.h), each holding a BUCKET: three lowercase hex
 *      digits, the low 12 bits of XXH3-64 of a stream's hex name
 *      (lock_dirty_bucket). A stream's bucket is in the list, synced,
 *      before the session first writes its log outside the journal, and
 *      before a journal checkpoint drops records of its log (commit.c C-4,
 *      journal.c J-5; engine/streams.c streams_list_dirty, one sync for all
 *      the streams of a round or a checkpoint). Until then the journal's
 *      synced records cover every byte the session wrote to that log. So
 *      after a crash the list and the journal's records together name
 *      every log that can hold unsynced bytes, and recovery reads only
 *      those logs (recovery/recover.c R-2): its work follows what the
 *      crashed session wrote, not the size of the store. Buckets rather
 *      than names bound the cost: a session pays at most LOCK_DIRTY_BUCKETS
 *      extra syncs however many streams it writes (one per checkpoint when
 *      the journal carries its appends), and a crash after it wrote k
 *      streams makes recovery read about k/4096 of the logs more than
 *      those k. A LOCK whose first line lacks " +dirty", or with any
 *      line that is not a well-framed bucket (a write cut short, damage),
 *      gives no list: recovery then reads every log. The list's space is
 *      written ahead in zeros (a NUL where a line would start ends the
 *      list; every byte after it must be NUL too), so a bucket's sync
 *      changes no file size. "clean\n" truncates LOCK to those 6 bytes.
 *      A listing whose write failed (a full disk) is cut off, zeros ahead
 *      included, and synced at the next listing, which then goes on; after
 *      a failed sync no line is written again this session (IO-5).
 * K-6  UNSYNCED SESSIONS. A session under SXP_SYNC_NONE writes "pid N
 *      unsynced B +dirty\n" (synced, as K-2 asks of every session, so a power
 *      loss in it is seen by K-1) and closes to "clean unsynced B\n" (not
 *      synced), B the kernel's boot id (io->boot_id). That text reads
 *      clean only in boot B: the page cache still holds every byte the
 *      session wrote. After a reboot (a power loss, maybe) it reads
 *      unclean and the open recovers. The session's dirty list is written
 *      without syncs, so it is read only in the boot that wrote it (K-8);
 *      after a reboot recovery reads every log. Its files were written
 *      and renamed without syncs (but for the .seq files its close and its
 *      truncates write, store_int.h ST-5; a failure of those syncs, the
 *      first over what it wrote, leaves "unsynced resettle", below), so a
 *      syncing process (open, sxp-fsck -p/-y) that finds "unsynced" first
 *      makes the whole store durable, syncfs(2) of ROOT, streams/, kv/
 *      and blobs/ (lock_settle), before it syncs or writes anything:
 *      otherwise its own directory fsyncs would make the names of those
 *      files durable before their bytes, and a power loss would leave them
 *      empty (FORMAT, a kv file, a blob) under what it acknowledged. Its
 *      own LOCK text then replaces the mark.
 *      A FAILED SETTLE. A kernel whose syncfs failed may have marked the
 *      session's dirty pages clean all the same: reads still show them,
 *      but no later syncfs writes them (io.h IO-5). So a failed syncfs
 *      fails the open (or the repair), and first replaces the mark with
 *      "unsynced resettle\n" (LOCK_RESETTLE_TEXT; synced, though the page
 *      cache alone carries it to the next process of this boot, which is
 *      all that needs it). A settle that finds that text first writes
 *      every file of ROOT, streams/, kv/, blobs/ and lost+found/ again,
 *      the bytes a read gives at the place it gives them, which dirties
 *      every page, and only then runs its syncfs. The text reads unclean
 *      (K-1), so recovery runs after the settle too.
 * K-7  A TORN MARK. An unsynced close writes "clean unsynced B\n" over
 *      the session's mark without a sync, and a power loss can tear it
 *      into text that is neither, even at the byte ("clean unsynced
 *      sim-+dirty"). Any LOCK text that is not one of the above, nor a
 *      session's first line ("pid N ..."), reads as unsynced and unclean:
 *      the next syncing open settles (K-6) and recovers as after an
 *      unsynced session (recovery/recover.c R-7). A torn synced write
 *      costs that open one syncfs more, nothing else.
 * K-8  A KILLED UNSYNCED SESSION. The unsynced session's first line names
 *      its boot, "pid N unsynced B +dirty\n" (B as in K-6; left out when
 *      the kernel gives none), and it writes its dirty list (K-5) as a
 *      syncing session does, bucket before log, but without syncs. In boot
 *      B that LOCK reads LOCK_UNSYNCED | LOCK_THIS_BOOT: the session was
 *      killed, not cut by a power loss, so the page cache still holds every
 *      byte it wrote, its list and its .seq files included. The next open
 *      settles the store (K-6) and then recovers as after a syncing
 *      session: only the listed logs, their windows, R-3c. Its recovery
 *      follows what the session wrote, not the store's size. In any other
 *      boot, or with no B, the text reads LOCK_UNSYNCED alone, its list is
 *      not read (lock_read_dirty), and recovery applies R-7. A power loss
 *      cannot forge B: the new boot's id was never written before it.
 */
#ifndef SXP_LOCK_H
#define SXP_LOCK_H

#include <stdint.h>

#include "io.h"
#include "sxp.h"

#define LOCK_CLEAN_TEXT "clean\n"
#define LOCK_CLEAN_UNSYNCED_PREFIX "clean unsynced "
#define LOCK_BOOT_ID_MAX 64

/* What a LOCK says: bits of lock_state. */
#define LOCK_CLEAN 1     /* "clean\n", or "clean unsynced B\n" in boot B (K-1) */
#define LOCK_UNSYNCED 2  /* the last session ran without syncs (K-6) */
#define LOCK_RESETTLE 4  /* and a settle of it failed (K-6) */
#define LOCK_THIS_BOOT 8 /* LOCK_UNSYNCED, and the session ran in this boot (K-8) */
#define LOCK_RESETTLE_TEXT "unsynced resettle\n"

/* recovery/recover.c R-7 applies to a LOCK read as state: a session without
 * syncs did not close cleanly (K-6, K-7), and not in this boot (K-8). The
 * open and sxp-fsck both judge by it. */
static inline int lock_after_unsynced(int state)
{
    return (state & LOCK_UNSYNCED) && !(state & (LOCK_CLEAN | LOCK_THIS_BOOT));
}

/* Opens and locks ROOT/LOCK; *out_fd is the descriptor, *out_state its
 * lock_state. -EAGAIN naming root and the holder's pid when taken. */
int lock_acquire(struct sxp_io *io, const char *root, int *out_fd, int *out_state,
                 struct sxp_err *err);
/* Replaces the text with "pid N +dirty\n" ("pid N unsynced B +dirty\n" when
 * sync is 0, K-6, K-8) and zeros written ahead for the dirty list, synced either
 * way (K-2); *out_end: where the list starts, *out_alloc: the file's size. */
int lock_mark_open(struct sxp_io *io, int fd, int sync, uint64_t *out_end, uint64_t *out_alloc);
/* Replaces the text with "clean\n", synced, or when sync is 0 with
 * "clean unsynced B\n", B this boot's id, not synced (K-3, K-6). */
int lock_mark_clean(struct sxp_io *io, int fd, int sync);
/* Replaces the text with LOCK_RESETTLE_TEXT, synced: a syncfs over what an
 * unsynced session wrote failed (K-6, A FAILED SETTLE). */
int lock_mark_resettle(struct sxp_io *io, int fd);
/* LOCK_CLEAN and LOCK_UNSYNCED bits of the LOCK open on fd. */
int lock_state(struct sxp_io *io, int fd);
static inline int lock_is_clean(struct sxp_io *io, int fd)
{
    return (lock_state(io, fd) & LOCK_CLEAN) != 0;
}
/* K-6: syncfs of root, streams/, kv/ and blobs/ (those that exist), after
 * writing every file again when LOCK (lock_fd) reads LOCK_RESETTLE_TEXT.
 * On a failure, LOCK is given that text, and err names the path. */
int lock_settle(struct sxp_io *io, const char *root, int lock_fd, struct sxp_err *err);
#define LOCK_DIRTY_BUCKETS 4096u

/* The bucket of a stream, from its hex name (K-5). */
unsigned lock_dirty_bucket(const char *hex, size_t len);
/* K-5: appends bucket b at *off (over the zeros written ahead, and more of
 * them past *alloc), synced when sync is set, and advances *off and
 * *alloc. On an error both stay: the next append overwrites. */
int lock_append_dirty(struct sxp_io *io, int fd, uint64_t *off, uint64_t *alloc, unsigned b,
                      int sync);

/* The dirty list of a LOCK (K-5): a bitmap of buckets. */
struct lock_dirty {
    uint8_t map[LOCK_DIRTY_BUCKETS / 8];
};
static inline int lock_dirty_has(const struct lock_dirty *d, unsigned b)
{
    return (d->map[b / 8] >> (b % 8)) & 1;
}
static inline void lock_dirty_add(struct lock_dirty *d, unsigned b)
{
    d->map[b / 8] |= (uint8_t)(1u << (b % 8));
}
/* Adds every bucket of from to d. */
static inline void lock_dirty_merge(struct lock_dirty *d, const struct lock_dirty *from)
{
    for (size_t i = 0; i < sizeof(d->map); i++)
        d->map[i] |= from->map[i];
}
/* Reads the dirty list from fd: 1 and *out when LOCK holds a whole one, 0
 * when it holds none, or an unsynced session's of another boot (K-8;
 * recover every log), -errno. */
int lock_read_dirty(struct sxp_io *io, int fd, struct lock_dirty *out);

/* Replaces the text with "pid N\n" ("pid N unsynced B\n" when sync is 0):
 * no dirty list, so recovery reads every log. For a replay of JOURNAL that
 * is about to drop records the list may not cover (journal.c J-6). */
int lock_forget_list(struct sxp_io *io, int fd, int sync);

/* Reads the pid in a LOCK text, 0 if none. */
long lock_holder_pid(struct sxp_io *io, const char *root);

#endif
