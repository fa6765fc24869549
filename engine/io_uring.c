/*
 * io_uring.c -- the io_uring backend of struct sxp_io (io.h), on liburing.
 *
 * What goes through the ring: fdatasync (IORING_OP_FSYNC with
 * IORING_FSYNC_DATASYNC) and write_sync's writes that a sync follows, where
 * the ring pays: group commit hands over one request per log file, and each
 * becomes a WRITE linked (IOSQE_IO_LINK) to an FSYNC, every pair in one
 * submission, so one io_uring_enter starts the writes and syncs of many
 * files at once and the kernel runs them in parallel. Everything else
 * (open, close, pread, ftruncate, fsize, fsync_dir, mkdir, rename, unlink,
 * stat, list_dir, lock) is a plain syscall shared with io_sync.c through
 * io_posix.h. Descriptors are real file descriptors (IO-7 holds trivially);
 * no fixed files.
 *
 * WRITES ALONE. A write that no fdatasync follows in its request (pwrite,
 * and write_sync's requests with sync 0: the log lines of a journaled round,
 * lines ahead of their pre-zeroing, SXP_SYNC_NONE) is a plain pwrite(2).
 * ext4 cannot take a buffered write without blocking (no async buffered
 * writes), so the ring hands every WRITE to a kernel worker thread: measured
 * here 25-41 us per 100-byte write against 0.8 us for pwrite(2), and in
 * sxp-bench the 8 log writes of a journaled round cost 8 writers on their
 * own streams about a fifth of their rate. A WRITE linked to its FSYNC pays
 * that hand-off once for both, and the FSYNC blocks in a worker anyway.
 * The plain writes of a chunk are made once its sqes are submitted, so they
 * run while the workers write and sync (a journaled round's writes to
 * listed logs overlap the journal's fdatasync: commit.c C-2).
 *
 * MID-SIZED WRITES. A write_sync of one request, a write that a sync
 * follows, of IOU_INLINE_MIN to IOU_INLINE_MAX bytes (a batch of 1,000
 * 100-byte or 1 KiB events) is a plain pwrite(2) by the submitting thread,
 * and only its FSYNC goes through the ring. Copying it into the page cache
 * is most of the round's CPU time, and the thread that has just built the
 * buffer copies it sooner than a worker does: side by side, the 100-byte
 * batch's p50 went from 426-483 us to 381-401 us (four pairs,
 * docs/perf/history.md, "Stop 19"). Smaller writes showed no difference
 * (they stay linked); 16 MiB writes were slower that way (the writing
 * thread pays the kernel's dirty-page throttling), so they go to a worker
 * as before. With several requests, the workers copy them in parallel.
 *
 * LOCKING. A ring is not thread-safe, so one mutex covers every submission
 * and the reaping of its completions: the holder submits, waits until all of
 * its completions are in, and only then lets go. Hence every completion in
 * the ring belongs to the current holder, and user_data need only name a
 * slot of that holder's batch. Group commit calls write_sync from one leader
 * at a time; an fdatasync from another thread simply waits for the batch.
 *
 * WRITE_SYNC, per request r (slot = its index within the current chunk):
 *   len > 0, sync    WRITE --IO_LINK--> FSYNC(DATASYNC)
 *   len > 0, !sync   pwrite(2) once the chunk is submitted (WRITES
 *                    ALONE), no sqe
 *   mid-sized, sync, alone
 *                    pwrite(2) at once (MID-SIZED WRITES), then FSYNC
 *                    (DATASYNC) unless it failed (as US-1)
 *   len == 0, sync   FSYNC(DATASYNC)
 * Completions are read as follows:
 *   US-1  WRITE failed: the linked FSYNC completes with -ECANCELED. res is
 *         the write's error, sync_failed 0; the descriptor is not synced.
 *   US-2  FSYNC failed (other than -ECANCELED): res is its error,
 *         sync_failed 1 (IO-5). It is never retried.
 *   US-3  WRITE short (0 <= res < len; also -EINTR/-EAGAIN, read as 0
 *         bytes): the kernel breaks the link and cancels the FSYNC, or, if
 *         it ran, it covered only part. The rest is written with plain
 *         pwrite and followed by a plain fdatasync; their failures are
 *         reported as US-1 and US-2 would.
 *   US-4  FSYNC -EINTR/-EAGAIN: no writeback error was consumed, so a plain
 *         fdatasync finishes it.
 *   US-5  No completion at all (the ring broke mid-run): res is the ring's
 *         error, and sync_failed 1 when the request had an FSYNC, which
 *         may have run and failed unseen (IO-5).
 * A chunk holds at most the ring's entries in sqes and never two requests
 * on one descriptor, so requests on one descriptor run in order (io.h); each
 * chunk is reaped and finished before the next is built, which also lets
 * WS-1 (io_posix.h) see final results.
 *
 * PARALLEL SYNCS. The kernel runs a ring's FSYNCs in its io-wq worker
 * threads, at most 4 per CPU by default (8 on this project's 2-CPU
 * machine). A chunk of many fdatasyncs (a checkpoint of JOURNAL's logs,
 * a round over many logs) finishes sooner with more at once: 4,096
 * fdatasyncs of one-line appends in chunks of 256 took 200 ms with 8
 * workers and 107-134 ms with 32 or 64 (C loop on this machine; 128 was
 * no better). Limits belong to each submitting thread's io-wq, so before
 * a chunk of two or more FSYNCs a thread raises its own limit to
 * IOU_SYNC_WORKERS, once per ring (iou_widen), unless it is higher
 * already. A kernel without IORING_REGISTER_IOWQ_MAX_WORKERS (before 5.15)
 * keeps its default.
 *
 * A BROKEN RING. If io_uring_enter refuses a submission for good, the ring
 * is marked dead with that error: the requests of that run that did not
 * complete get it (US-5: a sync among them counts as failed, IO-5, so the
 * engine never trusts those files' unsynced data again), and every later
 * write_sync and fdatasync is made with plain syscalls, the same
 * guarantees io_sync.c gives; stderr says so once, unless quiet. So a
 * ring that breaks mid-session costs the streams it was writing, not the
 * store. Unsubmitted sqes stay in the ring unsent, since nothing calls
 * io_uring_enter again.
 *
 * Statics are prefixed iou_ so they never collide with liburing's io_uring_*.
 */
#include "io_posix.h"

#include <assert.h>
#include <errno.h>
#include <liburing.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Result of a slot whose sqe has not completed. */
#define IOU_NO_CQE INT_MIN
/* The most bytes one WRITE sqe carries (the kernel caps a write below 2 GiB). */
#define IOU_WRITE_MAX ((size_t)1 << 30)
/* A submission refused with -EAGAIN (the kernel is short of memory) is tried
 * this many times before the ring is declared broken. */
#define IOU_SUBMIT_TRIES 1000
/* MID-SIZED WRITES: the bytes a lone synced write needs to be a plain
 * pwrite. */
#define IOU_INLINE_MIN ((size_t)32 << 10)
#define IOU_INLINE_MAX ((size_t)1 << 20)
/* PARALLEL SYNCS: io-wq workers a thread may run for this ring's
 * bounded work (regular-file writes and fsyncs). */
#define IOU_SYNC_WORKERS 32u

/* user_data of an sqe: slot index and which half of a request it is. */
#define IOU_KIND_WRITE 0u
#define IOU_KIND_SYNC 1u
#define IOU_DATA(slot, kind) (((uint64_t)(slot) << 1) | (kind))
#define IOU_DATA_SLOT(d) ((size_t)((d) >> 1))
#define IOU_DATA_KIND(d) ((unsigned)((d)&1u))

struct iou_slot {
    int wres;  /* the WRITE's completion result, or IOU_NO_CQE */
    int sres;  /* the FSYNC's completion result, or IOU_NO_CQE */
    int skip;  /* 1: the request was settled without sqes (WS-1) */
    int plain; /* 1: a write alone, written once the chunk is submitted */
};

struct iou_backend {
    struct sxp_io io;       /* first, so a struct sxp_io * is one of these */
    struct io_uring ring;   /* guarded by lock */
    pthread_mutex_t lock;   /* held from submission until all completions */
    unsigned sq_entries;    /* sqes the ring holds; also the slots */
    struct iou_slot *slots; /* sq_entries; guarded by lock */
    int dead;               /* 0, or the -errno that broke the ring */
    int quiet;              /* no notice on stderr when it breaks */
    uint64_t id;            /* tells rings apart for iou_widened */
    /* io_uring_submit, or a test's stand-in (io_uring_backend_fail_submit) */
    int submit_err;       /* the error a failed submission returns */
    unsigned submit_fail; /* submissions left to fail (UINT_MAX: all) */
    /* io_uring_backend_note_sqes: where a test reads what was prepared */
    struct io_sqe_note *notes;
    size_t notes_cap, *notes_n;
};

/* io_uring_backend_note_sqes: sqe, as prepared, for the test watching. */
static void iou_note(struct iou_backend *u, const struct io_uring_sqe *sqe)
{
    if (u->notes == NULL || *u->notes_n >= u->notes_cap)
        return;
    u->notes[(*u->notes_n)++] = (struct io_sqe_note){
        .is_fsync = sqe->opcode == IORING_OP_FSYNC,
        .is_write = sqe->opcode == IORING_OP_WRITE,
        .linked = (sqe->flags & IOSQE_IO_LINK) != 0,
        .datasync = sqe->opcode == IORING_OP_FSYNC && (sqe->fsync_flags & IORING_FSYNC_DATASYNC),
        .fd = sqe->fd,
    };
}

/* PARALLEL SYNCS: the id of the ring this thread last raised its io-wq
 * limit for (0: none). */
static _Thread_local uint64_t iou_widened;
static uint64_t iou_next_id = 1; /* atomic */

/* PARALLEL SYNCS: lets the calling thread run at least IOU_SYNC_WORKERS
 * bounded io-wq workers for u's ring (a machine whose default is higher
 * keeps it). Best effort: an older kernel refuses, and the chunk runs with
 * the default. u->lock held. */
static void iou_widen(struct iou_backend *u)
{
    if (iou_widened == u->id)
        return;
    iou_widened = u->id;
    unsigned limits[2] = {0, 0}; /* 0: a query, nothing changed */
    if (io_uring_register_iowq_max_workers(&u->ring, limits) < 0 || limits[0] >= IOU_SYNC_WORKERS)
        return;
    limits[0] = IOU_SYNC_WORKERS;
    limits[1] = 0; /* the unbounded limit stays */
    (void)io_uring_register_iowq_max_workers(&u->ring, limits);
}

static struct iou_backend *iou_of(struct sxp_io *io)
{
    return (struct iou_backend *)io;
}

static void iou_store(struct iou_backend *u, const struct io_uring_cqe *cqe)
{
    uint64_t d = io_uring_cqe_get_data64(cqe);
    size_t slot = IOU_DATA_SLOT(d);
    assert(slot < u->sq_entries);
    if (IOU_DATA_KIND(d) == IOU_KIND_SYNC)
        u->slots[slot].sres = cqe->res;
    else
        u->slots[slot].wres = cqe->res;
}

/* Waits for one completion and stores it; 0 or a ring error. A ring error
 * here would leave requests in the kernel's hands with their buffers
 * given back to callers; none can occur in this use of the ring: at most
 * sq_entries requests are in flight, all reaped before the next chunk, so
 * the completion queue (twice that) never overflows (no -EBUSY, -EBADR),
 * and EINTR is waited out. */
static int iou_reap_one(struct iou_backend *u)
{
    struct io_uring_cqe *cqe;
    int rc;
    do {
        rc = io_uring_wait_cqe(&u->ring, &cqe);
    } while (rc == -EINTR);
    if (rc < 0)
        return rc;
    iou_store(u, cqe);
    io_uring_cqe_seen(&u->ring, cqe);
    return 0;
}

/* io_uring_submit, unless a test asked for failures. u->lock held. */
static int iou_submit(struct iou_backend *u)
{
    if (u->submit_fail == 0)
        return io_uring_submit(&u->ring);
    if (u->submit_fail != UINT_MAX)
        u->submit_fail--;
    return u->submit_err;
}

/* Submits the nsqe (maybe 0) prepared sqes of the chunk reqs[start..end),
 * writes its writes alone (WRITES ALONE) meanwhile, and waits for every completion of those the
 * kernel took, storing results in the slots. Returns 0, or the error that
 * broke the ring (now in u->dead). Called with u->lock held. */
static int iou_run(struct iou_backend *u, unsigned nsqe, struct io_wsync *reqs, size_t start,
                   size_t end)
{
    unsigned submitted = 0, reaped = 0;
    int tries = 0;
    int rc = 0, reap_rc = 0;
    while (submitted < nsqe) {
        int n = iou_submit(u);
        if (n > 0) {
            submitted += (unsigned)n;
            continue;
        }
        if (n == -EINTR)
            continue;
        if ((n == -EAGAIN || n == -EBUSY) && ++tries < IOU_SUBMIT_TRIES) {
            /* Completions give back what the kernel is short of. */
            if (reaped < submitted) {
                reap_rc = iou_reap_one(u);
                if (reap_rc < 0)
                    break;
                reaped++;
            }
            continue;
        }
        rc = n < 0 ? n : -EIO; /* 0: the kernel took nothing and said nothing */
        break;
    }
    for (size_t k = start; k < end; k++)
        if (u->slots[k - start].plain)
            reqs[k].res = io_posix_pwrite(NULL, reqs[k].fd, reqs[k].buf, reqs[k].len, reqs[k].off);
    /* The kernel may still be using buffers of what it took: wait for all. */
    while (reap_rc == 0 && reaped < submitted) {
        reap_rc = iou_reap_one(u);
        if (reap_rc == 0)
            reaped++;
    }
    if (reap_rc < 0)
        rc = reap_rc;
    if (rc == 0)
        return 0;
    __atomic_store_n(&u->dead, rc, __ATOMIC_RELEASE); /* read without the lock */
    if (!u->quiet) {
        char msg[128];
        (void)fprintf(stderr,
                      "sxp: io_uring failed (%s); the writes it had in hand failed, and "
                      "plain syscalls with the same guarantees are used from now on\n",
                      strerror_r(-rc, msg, sizeof(msg)));
    }
    return rc;
}

/* One FSYNC(DATASYNC) through the ring. Returns 0 or a ring error;
 * *out_res gets the completion's result. */
static int iou_sync_once(struct iou_backend *u, int fd, int *out_res)
{
    pthread_mutex_lock(&u->lock);
    int rc = u->dead;
    if (rc)
        goto unlock;
    /* Every earlier holder reaped all it submitted, so the ring is empty. */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    assert(sqe);
    if (!sqe) {
        rc = -EBUSY;
        goto unlock;
    }
    u->slots[0].wres = IOU_NO_CQE;
    u->slots[0].sres = IOU_NO_CQE;
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(sqe, IOU_DATA(0, IOU_KIND_SYNC));
    rc = iou_run(u, 1, NULL, 0, 0);
    if (rc == 0) {
        *out_res = u->slots[0].sres;
        assert(*out_res != IOU_NO_CQE);
    }
unlock:
    pthread_mutex_unlock(&u->lock);
    return rc;
}

static int iou_fdatasync(struct sxp_io *io, int fd)
{
    struct iou_backend *u = iou_of(io);
    if (__atomic_load_n(&u->dead, __ATOMIC_ACQUIRE))
        return io_posix_fdatasync(io, fd); /* A BROKEN RING */
    for (;;) {
        int res = -EIO;
        int rc = iou_sync_once(u, fd, &res);
        if (rc < 0)
            return rc;
        /* Neither is a writeback error, so trying again hides nothing. */
        if (res == -EINTR || res == -EAGAIN)
            continue;
        return res;
    }
}

/* 1 if a request in reqs[from..to) uses fd. */
static int iou_fd_in(const struct io_wsync *reqs, size_t from, size_t to, int fd)
{
    for (size_t k = from; k < to; k++)
        if (reqs[k].fd == fd)
            return 1;
    return 0;
}

/* Reads the completions of request r (US-1..US-4) and finishes it with plain
 * syscalls where the ring left it short. ring_rc is the error that broke
 * the ring during this chunk, or 0. */
static void iou_finish(struct io_wsync *r, const struct iou_slot *s, int ring_rc)
{
    size_t done = r->len;
    int need_sync = 0;
    if (s->skip)
        return;
    if (r->len > 0) {
        int w = s->wres;
        if (w == IOU_NO_CQE) {
            assert(ring_rc < 0); /* a whole run reaps every sqe */
            r->res = ring_rc < 0 ? ring_rc : -EIO;
            r->sync_failed = r->sync; /* its linked sync may have run and failed */
            return;
        }
        if (w == -EINTR || w == -EAGAIN)
            w = 0; /* US-3: nothing written */
        if (w < 0) {
            r->res = w; /* US-1: the FSYNC, if any, was cancelled */
            return;
        }
        done = (size_t)w;
    }
    if (r->sync) {
        int sr = s->sres;
        if (sr == IOU_NO_CQE) {
            assert(ring_rc < 0);
            r->res = ring_rc < 0 ? ring_rc : -EIO;
            r->sync_failed = 1; /* it may have run and failed: IO-5 */
            return;
        }
        if (sr < 0 && sr != -ECANCELED && sr != -EINTR && sr != -EAGAIN) {
            r->res = sr; /* US-2 */
            r->sync_failed = 1;
            return;
        }
        need_sync = sr != 0 || done < r->len; /* US-3, US-4 */
    }
    if (done < r->len) {
        int rc =
            io_posix_pwrite(NULL, r->fd, (const char *)r->buf + done, r->len - done, r->off + done);
        if (rc < 0) {
            r->res = rc; /* as US-1: no sync after a failed write */
            return;
        }
    }
    if (need_sync) {
        int rc = io_posix_fdatasync(NULL, r->fd);
        if (rc < 0) {
            r->res = rc; /* as US-2 */
            r->sync_failed = 1;
        }
    }
}

static int iou_write_sync(struct sxp_io *io, struct io_wsync *reqs, size_t n)
{
    struct iou_backend *u = iou_of(io);
    int failed = 0; /* WS-1 needs a scan only once something has failed */
    size_t i = 0;
    if (__atomic_load_n(&u->dead, __ATOMIC_ACQUIRE))
        return io_posix_write_sync(io, reqs, n); /* A BROKEN RING */
    pthread_mutex_lock(&u->lock);
    while (i < n) {
        if (u->dead) {
            /* It broke in this call: the rest were not tried. */
            for (; i < n; i++) {
                reqs[i].res = u->dead;
                reqs[i].sync_failed = 0;
            }
            break;
        }
        /* Build one chunk reqs[start..i): sqes within the ring, slots within
         * the slot array, no descriptor twice. */
        size_t start = i;
        unsigned nsqe = 0, nsync = 0;
        for (; i < n && i - start < u->sq_entries; i++) {
            struct io_wsync *r = &reqs[i];
            struct iou_slot *s = &u->slots[i - start];
            unsigned need = (r->len > 0 ? 1u : 0u) + (r->sync ? 1u : 0u);
            if (nsqe + need > u->sq_entries || iou_fd_in(reqs, start, i, r->fd))
                break;
            r->res = 0;
            r->sync_failed = 0;
            s->wres = IOU_NO_CQE;
            s->sres = IOU_NO_CQE;
            s->plain = 0;
            s->skip = failed && io_wsync_inherit_failure(reqs, i);
            if (s->skip || need == 0) {
                s->skip = 1;
                continue;
            }
            if (!r->sync) {
                /* WRITES ALONE: every request on r->fd before it is final
                 * (none is in this chunk), so WS-1 and the order hold.
                 * Written once the chunk's sqes are submitted, so it runs
                 * while the workers write and sync. */
                s->skip = 1;
                s->plain = 1;
                continue; /* a failure counts for WS-1 once the chunk ends */
            }
            if (n == 1 && r->len >= IOU_INLINE_MIN && r->len <= IOU_INLINE_MAX) {
                /* MID-SIZED WRITES: as a WRITE that completed in full. */
                int wrc = io_posix_pwrite(NULL, r->fd, r->buf, r->len, r->off);
                if (wrc < 0) {
                    s->skip = 1;
                    r->res = wrc; /* as US-1; counts for WS-1 once the chunk ends */
                    continue;
                }
                s->wres = (int)r->len;
            } else if (r->len > 0) {
                struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
                assert(sqe); /* the ring was empty and nsqe stays within it */
                size_t part = r->len < IOU_WRITE_MAX ? r->len : IOU_WRITE_MAX;
                io_uring_prep_write(sqe, r->fd, r->buf, (unsigned)part, r->off);
                io_uring_sqe_set_data64(sqe, IOU_DATA(i - start, IOU_KIND_WRITE));
                if (r->sync)
                    sqe->flags |= IOSQE_IO_LINK; /* the FSYNC runs only after it */
                iou_note(u, sqe);
                nsqe++;
            }
            if (r->sync) {
                struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
                assert(sqe);
                io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
                io_uring_sqe_set_data64(sqe, IOU_DATA(i - start, IOU_KIND_SYNC));
                iou_note(u, sqe);
                nsqe++;
                nsync++;
            }
        }
        assert(i > start); /* entries >= 2, so any one request fits */
        if (nsync >= 2)
            iou_widen(u);
        /* From here each request's buf belongs to the kernel until its
         * WRITE's completion is reaped; iou_run returns only after all. */
        int ring_rc = iou_run(u, nsqe, reqs, start, i);
        for (size_t k = start; k < i; k++) {
            iou_finish(&reqs[k], &u->slots[k - start], ring_rc);
            if (reqs[k].res != 0)
                failed = 1;
        }
    }
    pthread_mutex_unlock(&u->lock);
    return io_wsync_first_failure(reqs, n);
}

void io_uring_backend_set_quiet(struct sxp_io *io, int quiet)
{
    iou_of(io)->quiet = quiet;
}

void io_uring_backend_note_sqes(struct sxp_io *io, struct io_sqe_note *v, size_t cap, size_t *n)
{
    struct iou_backend *u = iou_of(io);
    pthread_mutex_lock(&u->lock);
    u->notes = v;
    u->notes_cap = cap;
    u->notes_n = n;
    pthread_mutex_unlock(&u->lock);
}

void io_uring_backend_fail_submit(struct sxp_io *io, int err, unsigned count)
{
    struct iou_backend *u = iou_of(io);
    pthread_mutex_lock(&u->lock);
    u->submit_err = err;
    u->submit_fail = count;
    pthread_mutex_unlock(&u->lock);
}

int io_uring_backend_workers(struct sxp_io *io, unsigned out[2])
{
    struct iou_backend *u = iou_of(io);
    out[0] = out[1] = 0; /* a query */
    pthread_mutex_lock(&u->lock);
    int rc = io_uring_register_iowq_max_workers(&u->ring, out);
    pthread_mutex_unlock(&u->lock);
    return rc < 0 ? rc : 0;
}

static void iou_destroy(struct sxp_io *io)
{
    if (!io)
        return;
    struct iou_backend *u = iou_of(io);
    io_uring_queue_exit(&u->ring);
    pthread_mutex_destroy(&u->lock);
    free(u->slots);
    free(u);
}

/* 0 if the kernel knows the opcodes we use (WRITE needs Linux 5.6). */
static int iou_probe(struct io_uring *ring)
{
    struct io_uring_probe *p = io_uring_get_probe_ring(ring);
    if (!p)
        return -ENOSYS; /* no IORING_REGISTER_PROBE: older than 5.6 */
    int ok = io_uring_opcode_supported(p, IORING_OP_WRITE) &&
             io_uring_opcode_supported(p, IORING_OP_FSYNC);
    io_uring_free_probe(p);
    return ok ? 0 : -ENOSYS;
}

int io_uring_backend_new(unsigned entries, struct sxp_io **out)
{
    int rc;
    struct iou_backend *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    /* A write and its sync must fit in one chunk. */
    if (entries < 2)
        entries = 2;
    rc = io_uring_queue_init(entries, &u->ring, 0);
    if (rc < 0)
        goto free_backend;
    rc = iou_probe(&u->ring);
    if (rc < 0)
        goto exit_ring;
    u->sq_entries = u->ring.sq.ring_entries;
    u->id = __atomic_fetch_add(&iou_next_id, 1, __ATOMIC_RELAXED);
    u->slots = calloc(u->sq_entries, sizeof(*u->slots));
    if (!u->slots) {
        rc = -ENOMEM;
        goto exit_ring;
    }
    rc = -pthread_mutex_init(&u->lock, NULL);
    if (rc < 0)
        goto free_slots;
    io_posix_fill(&u->io);
    u->io.name = "io_uring";
    u->io.fdatasync = iou_fdatasync;
    u->io.write_sync = iou_write_sync;
    u->io.destroy = iou_destroy;
    *out = &u->io;
    return 0;

free_slots:
    free(u->slots);
exit_ring:
    io_uring_queue_exit(&u->ring);
free_backend:
    free(u);
    return rc;
}
