/*
 * store_int.h -- the fields of a store and of a stream, shared by the files
 * that implement the operations (store.c, streams.c, commit.c, stream_read.c,
 * truncate.c, append.c, kv.c, blob.c, dispatch.c). Nothing outside engine/
 * sees them.
 *
 * LOCKING. One mutex, s->mu, guards the stream table, every struct stream
 * field, the commit queue and the descriptor cache. Disk I/O is done with
 * s->mu released; a stream being changed by a slow path (creation,
 * truncate) is marked busy and other callers wait on s->cv.
 *
 * STREAM STATE INVARIANTS (while s->mu is held):
 *   ST-1  hw <= hw_reserved: hw is what was acknowledged, hw_reserved also
 *         counts appends queued or in flight.
 *   ST-2  size_durable <= size_written: readers read [0, size_durable) only,
 *         so they never see a line that is not yet acknowledged.
 *   ST-3  fd >= 0 iff the stream is on the descriptor LRU list; a stream with
 *         pins > 0 keeps its descriptor.
 *   ST-4  dead != 0 means a write or fdatasync failed: the stream refuses
 *         writes until the store is reopened (and recovered), or, after a
 *         failed write only, until it is revived (revive.c RV-1..RV-4).
 *   ST-5  hw_seqfile is the value in the .seq file on disk; hw_seqfile <= hw.
 *         A .seq that replaces one is written through a temp file that is
 *         synced before its rename, under SXP_SYNC_NONE too: the old mark
 *         may be what an earlier syncing session made durable, a log whose
 *         events were truncated cannot rebuild it, and a power loss that
 *         kept the rename but tore the bytes would leave a prefix of the new
 *         mark ("13" read as "1"), which parses and so is trusted:
 *         last-seq would go below an acknowledged seq, silently. So the
 *         close writes every .seq as a syncing close does, whatever the
 *         mode (streams_flush_chunk: a chunk synced as a checkpoint of as
 *         many logs is, J-11, and seqfile.c RECYCLING, whose exchanges
 *         spare ext4 an inode created and freed per stream; the close
 *         times are in docs/durability.md), and a truncate's T-2 syncs its
 *         .seq, a new one too (the close's directory fsyncs could make its
 *         name durable before its bytes). Under SXP_SYNC_NONE these syncs
 *         are the first over what the session wrote: a failure of the
 *         close's leaves LOCK "unsynced resettle" (sxp_store_close, lock.h
 *         K-6), as a failed settle does.
 *   ST-7  A failed directory fsync after a rename or unlink in kv/ or blobs/
 *         fences that folder (s->kv_d, s->blobs_d): every later access
 *         fails until the store is reopened, so no reader sees the effect
 *         of an operation that failed (SPEC section 4). A failed fsync of
 *         streams/ fences creations (s->streams_d): a retry's fsync could
 *         succeed with the failed one's entries not on disk, and acknowledge
 *         an append whose file a power loss then removes. Existing streams
 *         go on. When it came after a truncate renamed its new log over the
 *         old one it fences that stream as well (st->fenced): its reads
 *         fail too, as its writes do (ST-4), until the store is reopened,
 *         since the events the truncate dropped may come back at a power
 *         loss.
 *         A kernel may drop the pending entries of a directory whose fsync
 *         failed, so a later fsync that succeeds proves nothing of an entry
 *         written before the failure, whoever wrote it. So the fsyncs of one
 *         folder run one at a time (store_fsync_dir), each failure is
 *         counted under that lock, and an operation that took its mark
 *         (store_dir_mark) before a failure is failed with the fence's
 *         error instead of fsyncing: its entry, written before its fsync,
 *         may be gone. An entry written after the failure is made durable
 *         by a later fsync as usual (the close's .seq files, say).
 *   ST-6  size_written <= size_alloc when size_alloc is not 0; the bytes
 *         between them are zeros (commit.c, pre-zeroing).
 *   ST-8  A loaded stream of a read-write store has a log that ends in LF
 *         and whose last line is valid with an integer :seq <= hw (a .seq
 *         lowered or missing is rolled forward in memory, and written at
 *         close). A log that does not is refused on load (-EUCLEAN, "run
 *         sxp-fsck") and nothing is written to it (streams.c).
 *   ST-9  A loaded stream of a read-only store has hw >= the :seq of its
 *         log's last whole valid line (bytes after the last LF skipped), as
 *         a read-write open would take it (ST-8): a .seq that lags its log
 *         (a live writer's, a crashed session's) is not what last-seq says.
 *         Damaged lines at the end are passed over to the last valid line
 *         before them, whose events a read shows before it reports the
 *         damage (streams.c).
 */
#ifndef SXP_STORE_INT_H
#define SXP_STORE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "io.h"
#include "layout.h"
#include "lock.h"
#include "seq_hints.h"
#include "sxp.h"

struct commit_req;

/* ST-7: one folder's directory fsyncs (store.c store_fsync_dir). */
struct store_dir {
    pthread_mutex_t mu; /* its fsyncs run one at a time */
    uint64_t fails;     /* fsyncs of it that failed so far (atomic) */
    int fenced;         /* 0, or the -errno of the first (atomic) */
    const char *path;
};

struct stream {
    char name[LAYOUT_STREAM_MAX + 1]; /* NUL-terminated for messages only */
    size_t name_len;
    uint64_t hash;
    struct stream *hnext;     /* hash chain */
    int64_t hw;               /* acknowledged high-water mark */
    int64_t hw_reserved;      /* ST-1 */
    int64_t hw_seqfile;       /* ST-5 */
    uint64_t size_durable;    /* ST-2 */
    uint64_t size_written;    /* next append offset */
    uint64_t size_alloc;      /* file size: size_written plus pre-zeroed space (commit.c) */
    uint64_t appends_session; /* appends acknowledged since open */
    int zero_no_room;         /* its zeros found no room: none this session */
    int fd;                   /* log descriptor, -1 when closed */
    int pins;                 /* users of fd right now */
    struct stream *lru_prev;  /* ST-3; most recent at the head */
    struct stream *lru_next;
    int dead;                /* ST-4: 0 or -errno */
    int fenced;              /* ST-7: 0, or the -errno of a truncate's failed fsync: reads fail */
    int revive;              /* dead from a failed write only: revivable (revive.c RV-1) */
    int revive_rec;          /* RV-3: a JOURNAL record may hold the failed lines, */
    uint64_t revive_gen;     /* ... of this generation: void once s->j_gen passes it */
    int revive_cut;          /* RV-2: cut back to size_durable, and synced */
    int seq_exists;          /* 1: .seq is on disk */
    int log_exists;          /* 1: .log is on disk */
    int log_undurable;       /* 1: .log made, but its creation failed (ST-7, or close) */
    int busy;                /* load, creation or truncate in progress */
    int loaded;              /* 1 once its state was read from disk */
    int dirty_logged;        /* 1 once LOCK's dirty list names it (lock.h K-5) */
    int jdirty;              /* 1: JOURNAL holds lines of its log (journal.c J-5) */
    int j_unsynced;          /* 1: of them, some no fdatasync of the log has
                                covered yet (journal.c J-13) */
    unsigned pending;        /* appends queued or in flight */
    size_t round_slot;       /* commit.c: 1 + index in the running round, or 0 */
    struct seq_hints *hints; /* read-range's remembered probes (seq_hints.h), or NULL */
};

struct sxp_store {
    char root[PATH_MAX];
    char streams_dir[PATH_MAX];
    char kv_dir[PATH_MAX];
    char blobs_dir[PATH_MAX];
    struct sxp_options opt;
    struct sxp_io *io;
    int own_io;
    int lock_fd;             /* -1 when read-only */
    pthread_mutex_t lock_mu; /* the dirty list in LOCK (lock.h K-5): */
    uint64_t lock_off;       /* where its next line goes */
    uint64_t lock_alloc;     /* LOCK's size: zeros from lock_off to here */
    int lock_dead;           /* 0, or the -errno that failed an append to it */
    int lock_revive;         /* lock_dead by a failed write only: cut and go on */
    struct lock_dirty dirty; /* buckets listed (under mu) */

    /* ROOT/JOURNAL (journal.c); written by the commit leader only */
    int j_fd;                /* -1: no journal (read-only) */
    int j_dead;              /* 0, or the -errno that stopped its use */
    uint64_t j_gen;          /* the header's generation */
    uint32_t j_round;        /* the generation's last journaled round (J-2 RND) */
    uint64_t j_end;          /* where the next record goes */
    uint64_t j_alloc;        /* its size: zeros or old records up to here */
    int j_zero_no_room;      /* its zeros found no room: none this session */
    struct stream **j_dirty; /* logs with lines only the journal syncs */
    size_t j_ndirty, j_cap;
    size_t j_ckpt_logs;   /* a checkpoint runs at this many logs (J-5) */
    size_t j_syncfs_logs; /* a checkpoint of this many logs syncs the
                             filesystem (J-11); SIZE_MAX: never */
    int j_every_round;    /* every round goes through it (store_set_journal_rounds) */
    int j_evicted;        /* a j_unsynced log's descriptor was closed (J-13) */
    uint64_t zero_after;  /* PRE-ZEROING from this many appends (store_set_zero_after) */

    pthread_mutex_t mu;
    pthread_cond_t cv; /* stream busy/pins changes, commit rounds */

    struct stream **table; /* hash table of streams */
    size_t table_size;     /* a power of two */
    size_t nstreams;

    struct stream *lru_head; /* descriptor cache, most recent first */
    struct stream *lru_tail;
    unsigned open_fds;
    unsigned max_open_fds;

    struct commit_req *q_head; /* appends waiting for a commit round */
    struct commit_req *q_tail;
    int leader; /* 1 while a thread runs commit rounds */
    /* GATHERING (commit.c) */
    size_t q_len;       /* requests in the queue */
    size_t last_active; /* callers in and queued behind the last round */
    uint64_t round_ns;  /* average time of a round's write_sync */

    /* ST-7: each folder's fsyncs and fence. kv/ and blobs/ refuse all
     * access once fenced (kv.c, blob.c); streams/ refuses new streams
     * (streams.c). */
    struct store_dir kv_d, blobs_d, streams_d;
    /* K-3: a kv or blob write or a truncate failed after it made its temp
     * file, whose removal may not be durable (atomic access). */
    int residue;

    int recovered; /* open ran recovery */
    unsigned rec_tails_cut, rec_tails_saved, rec_hw_rolled, rec_seq_created, rec_tmp_removed,
        rec_unborn;
    unsigned rec_logs_scanned, rec_logs_skipped;
    uint64_t rec_bytes_cut;
    uint64_t st_appends, st_batches, st_syncs, st_bytes;
    uint64_t st_in_flight; /* append calls queued or being committed now */
    /* I/O failures a commit round took without failing its callers, whose
     * lines were durable already (commit.c C-5) */
    uint64_t st_absorbed;
    uint64_t st_revived; /* dead streams made alive again (revive.c) */
    uint64_t n_dead;     /* streams dead now (ST-4) */
};

/* streams.c: the stream table and the descriptor cache. */

/* Finds the stream, loading its state from disk on first use (.seq value,
 * log size); never creates files. Returns 0 and *out (never NULL: an
 * unknown stream gets an entry with neither file), or -errno. Called and
 * returns with s->mu held; may drop it while reading the disk. */
int streams_get(sxp_store *s, const char *name, size_t len, struct stream **out,
                struct sxp_err *err);
/* As streams_get, for readers: *out is NULL (and no entry is made) when
 * the stream is neither in memory nor on disk. s->mu held. */
int streams_find_existing(sxp_store *s, const char *name, size_t len, struct stream **out,
                          struct sxp_err *err);
/* Makes sure the stream's .log exists durably (creating it and fsyncing
 * streams/ when needed; no .seq: streams.c CREATION ORDER). s->mu held;
 * drops it for the I/O. */
int streams_create(sxp_store *s, struct stream *st, struct sxp_err *err);
/* For persist/streams, of a name whose .log is on disk without a .seq: 1
 * when the stream holds an acknowledged event (for a name this store does
 * not know: when the log's first line is a whole event), 0 when it is
 * unborn (streams.c UNBORN STREAMS), or -errno. s->mu NOT held. */
int streams_born(sxp_store *s, const char *name, size_t len, struct sxp_err *err);
/* Counts n fdatasync/fsync calls of kv and blob writes in the stats. */
static inline void store_count_syncs(sxp_store *s, uint64_t n)
{
    pthread_mutex_lock(&s->mu);
    s->st_syncs += n;
    pthread_mutex_unlock(&s->mu);
}
/* K-5 (commit.c C-4): names the streams sts[0..n) in LOCK's dirty list,
 * durably, with one fdatasync for all of them, before a round writes their
 * logs outside the journal or a checkpoint drops their journal records.
 * Only the leader calls it (commit.c), so never two at once. s->mu held;
 * dropped for the I/O. Under SXP_SYNC_NONE nothing: such a list is never
 * trusted (lock.h K-6). */
int streams_list_dirty(sxp_store *s, struct stream *const *sts, size_t n);
/* 1 when LOCK's dirty list names st's bucket, durably (K-5): st is marked
 * once its bucket is, by any stream. s->mu held. */
int streams_listed(sxp_store *s, struct stream *st);
/* Opens the log descriptor if needed and pins it; s->mu held. */
int streams_pin_fd(sxp_store *s, struct stream *st, struct sxp_err *err);
/* Adds an fdatasync (no write) of st's log at w[*n], and st at sts[*n]. */
static inline void streams_sync_req(struct io_wsync *w, struct stream **sts, size_t *n,
                                    struct stream *st)
{
    w[*n] = (struct io_wsync){.fd = st->fd, .sync = 1};
    sts[(*n)++] = st;
}
void streams_unpin_fd(sxp_store *s, struct stream *st);
/* Closes the stream's descriptor (pins must be 0). s->mu held. */
void streams_close_fd(sxp_store *s, struct stream *st);
/* ST-4: marks st dead with rc, unless it is dead already (the first
 * failure is the one its appends report). s->mu held. */
void streams_set_dead(sxp_store *s, struct stream *st, int rc);
/* Waits until the stream is not busy. s->mu held. -EDEADLK (err set)
 * instead when the wait could never end: the calling thread is inside a
 * scan of st (stream_scanning), whose pin the truncate that made st busy
 * waits for. */
SXP_MUST_CHECK int streams_wait_idle(sxp_store *s, struct stream *st, struct sxp_err *err);
/* SCANS ON THIS THREAD. While the function of sxp_stream_scan runs, its
 * thread pins the stream's log (stream_read.c), and a truncate of that
 * stream waits until no pin is left (truncate.c T-1). So a truncate of st
 * from that function, or any wait of the function's for st to be idle,
 * would wait for itself: they fail with -EDEADLK instead. 1 when the
 * calling thread is inside a scan of st. */
int stream_scanning(const struct stream *st);
/* The -EDEADLK of a call on st from inside a scan of st; what is the call. */
int stream_scan_deadlock(const struct stream *st, const char *what, struct sxp_err *err);
/* Cuts the pre-zeroed space off every open log and syncs (used by close). */
int streams_trim_tails(sxp_store *s, struct sxp_err *err);
/* Writes every .seq that lags its stream's hw, and removes the logs of
 * unborn streams (used by close). */
int streams_flush_seqfiles(sxp_store *s, struct sxp_err *err);
/* Writes one stream's .seq with its hw durably (a failed fsync of
 * streams/ fences creations, ST-7). s->mu held; drops it. */
int streams_write_seqfile(sxp_store *s, struct stream *st, struct sxp_err *err);
void streams_free_all(sxp_store *s);
/* Path of the stream's .log or .seq (suffix) into out (PATH_MAX). */
int streams_path(const sxp_store *s, const struct stream *st, const char *suffix, char *out);
/* How a message names st and its log, into out:
 * "orders" (streams/6f7264657273.log), the name escaped by err_quote. */
#define STREAMS_LABEL_MAX (ERR_QUOTED_MAX + 2 * LAYOUT_STREAM_MAX + 20)
const char *streams_label(const struct stream *st, char out[STREAMS_LABEL_MAX]);

/* commit.c: group commit. Appends the framed lines buf[0..len) whose last
 * seq is last_seq (already validated above hw by the caller? no: checked
 * here against hw_reserved under s->mu, first_seq being the lowest seq in
 * buf). Returns once durable (or written, under SXP_SYNC_NONE). */
int commit_append(sxp_store *s, const char *name, size_t name_len, int64_t first_seq,
                  int64_t last_seq, size_t nevents, const char *buf, size_t len,
                  struct sxp_err *err);
/* Waits until no commit round is running and the queue is empty. */
void commit_drain(sxp_store *s);
/* Takes the commit leader's place and runs a journal checkpoint (journal.c
 * J-5). s->mu held; dropped while waiting and for the I/O. */
int commit_checkpoint(sxp_store *s, struct sxp_err *err);
/* Takes the commit leader's place and tries to revive st, dead from a
 * failed write (revive.c), once its queued appends have failed. s->mu
 * held; dropped while waiting and for the I/O. */
void commit_revive(sxp_store *s, struct stream *st);

/* Argument checks of the writes that need no store; each write makes them
 * before it looks at the store (append.c AP-1..AP-3). */

/* append.c AP-2: each of events[0..n) is a dict with an integer :seq and,
 * for a batch, the seqs strictly increase. *out_first and *out_last: the
 * first and last seq (0 when n is 0). batch: 1 for append-batch, whose
 * messages name the event, counting from 1 ("batch event 2: ..."). */
int append_check_seqs(const sxp_value *const *events, size_t n, int batch, int64_t *out_first,
                      int64_t *out_last, struct sxp_err *err);
/* append.c AP-3: the framed lines of events[0..n), which passed
 * append_check_seqs, appended to out, within the size limits. */
int append_frame(const sxp_value *const *events, size_t n, int batch, struct buf *out,
                 struct sxp_err *err);
/* kv.c: the framed file of value v into out (empty): its text within
 * COMMIT_MAX_LINE and the trailer. */
int kv_encode(const sxp_value *v, struct buf *out, struct sxp_err *err);
/* blob.c: -E2BIG (kind "limit") when a blob of len bytes is over the limit. */
int blob_check_len(size_t len, struct sxp_err *err);

/* Checks the store is writable: -EROFS when opened read-only. */
int store_check_writable(const sxp_store *s, struct sxp_err *err);
/* 0, or the fence's error (ST-7) with a message naming the folder. */
int store_check_fence(const struct store_dir *d, struct sxp_err *err);
/* K-3: a failed write may have left a temp file: the close will not mark
 * the store clean, so the next open's recovery removes it. */
void store_note_residue(sxp_store *s);
/* io_write_replace through s->io, noting residue (K-3) when it fails after
 * making tmp. */
SXP_MUST_CHECK int store_write_replace(sxp_store *s, const char *path, const char *tmp,
                                       const void *bytes, size_t len, int sync);
/* ST-7: what to pass store_fsync_dir, taken before the entry it is to make
 * durable (a rename, unlink or create in d) is written. */
static inline uint64_t store_dir_mark(const struct store_dir *d)
{
    return __atomic_load_n(&d->fails, __ATOMIC_ACQUIRE);
}
/* ST-7: fsyncs d for an entry written after mark was taken: 0 once it is
 * durable; else -errno, and d is fenced. Under SXP_SYNC_NONE, 0. */
int store_fsync_dir(sxp_store *s, struct store_dir *d, uint64_t mark);

#endif
