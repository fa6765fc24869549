/*
 * commit.c -- GROUP COMMIT: when an append is acknowledged.
 *
 * An append is acknowledged (sxp_stream_append returns 0) only after
 *   C-1  its framed lines were written at the end of the stream's log, and
 *   C-2  an fdatasync of that log, issued after the write completed, returned
 *        0 (under SXP_SYNC_NONE: after the write only), or, for a round that
 *        goes through ROOT/JOURNAL (journal.c J-4), an fdatasync of the
 *        journal holding a record of the lines returned 0, and, unless
 *        LOCK's dirty list names the log (C-4), did so before the write to
 *        the log was issued; a listed log's write goes out in the same
 *        write_sync as the record (an EARLY slot) and runs while the
 *        journal syncs, since recovery reads a listed log's tail anyway
 *        (journal.c J-5), and
 *   C-3  the log's name was made durable by an fsync of streams/ when the
 *        stream was created (streams.c CREATION ORDER), before C-1, and
 *   C-4  the stream was named in LOCK's dirty list, durably, before the
 *        session's first write to its log outside the journal; a journaled
 *        round's record covers its log instead, until the checkpoint that
 *        drops it lists the log (engine/lock.h K-5, journal.c J-5). The
 *        listing is the leader's, one LOCK sync for all the streams of the
 *        round (commit_list_dirty); when it fails, those logs write nothing
 *        and their appends fail, and they can still take journaled rounds
 *        (after a failed write of LOCK, not of its sync, the next listing
 *        cuts it back and goes on: lock.h K-5).
 *   C-5  a failure that leaves the round's lines durable fails none of its
 *        appends: the checkpoint a round runs once its callers are done
 *        (journal.c J-5) stops the journal for the session (j_dead) and
 *        makes a log it could not sync refuse writes (IO-5); a journaled
 *        round's failed listing of its busy logs (C-2) keeps them behind
 *        the journal's sync; zeros written ahead that find no room are
 *        dropped and the file synced without them (PRE-ZEROING). Each such
 *        failure counts in st_absorbed.
 * Acknowledgements happen in log order: a caller is never told its event is
 * durable while an earlier event of the same stream is not.
 *
 * PROTOCOL. Callers validate and frame their events first, with no lock
 * held. Under s->mu each then checks its seqs against the stream's
 * hw_reserved (so two racing appends cannot both take seq 7), reserves them,
 * and queues a request. If no thread is running commit rounds, the caller
 * becomes the leader; otherwise it sleeps on s->cv. A round takes the whole
 * queue, gives each request its offset in its log, and submits, for each
 * log, its writes in order with one fdatasync after the last of them
 * (io->write_sync: through io_uring the writes and syncs of all logs go in
 * one submission). Then, again under s->mu, each log's requests complete
 * together: all succeed, or all fail with the first error. The leader runs
 * rounds until its own request is done, then hands over to the oldest
 * queued request's caller, if there is one. So one fdatasync serves every
 * append that arrived while the previous one was running.
 *
 * WAKE-UPS. A waiting caller first SPINS: it lets go of s->mu and yields
 * the CPU in a loop (sched_yield), watching its request's done and lead
 * flags, for up to COMMIT_SPIN_ROUNDS average rounds (COMMIT_SPIN_MAX_NS at
 * most, and only under SXP_SYNC_ALWAYS). A round completes a spinning
 * caller by setting done, with no system call; the caller returns without
 * taking s->mu again, so commit_finish does the caller's bookkeeping
 * (pending, in_flight) and never touches the request after done is set.
 * Waking a sleeping caller costs the leader a futex call and the kernel a
 * wake-up on another CPU, about 5 us each on a virtual machine, paid
 * between one round's fdatasync and the next for every caller of the
 * round; with 8 writers that was 41 us of a 300 us round, and it held the
 * woken writers back from queueing for the next round. The cost moves to
 * CPU time: callers yield while the disk works, so CPU seconds per event
 * rise (docs/performance.md); the CPU is given to any other runnable
 * thread at each yield. (RocksDB's write thread waits the same way.)
 * The spin has a price on a virtual machine: a busy vCPU slows the disk
 * (the bench's limit/per-8-lines-busy-cpu row; on this machine one busy
 * thread took 25-45% off a write+fdatasync loop and put 12-16 ms stalls in
 * its p99.9). Sleeping instead whenever fewer than 5 appends were in flight
 * was tried (stop 26): less than half the CPU per event and a lower p99.9
 * for 2 to 4 writers, but up to 27% less throughput on days the disk was
 * fast, so callers still spin (docs/performance.md). Napping on a futex
 * through most of each round's I/O, woken by a timer or by one
 * FUTEX_WAKE (stop 31), halved the CPU again and made the round's sync
 * faster, but the callers came back later, and throughput moved by -14%
 * to +22% by row and run: not kept either.
 * After the spin a caller sleeps on its own condition variable (in its
 * request), and is woken only when its request is done or it is made the
 * next leader: a round wakes exactly the sleepers it acknowledged, and the
 * hand-over wakes exactly one. (A broadcast woke every sleeper on every
 * round, to find most of them not done, and with 8 writers on 2 CPUs the
 * next leader waited behind them for a CPU while the disk sat idle.)
 * s->leader stays 1 across the hand-over, so nobody else starts a round
 * meanwhile. (A leader that ran one more round itself instead of handing
 * over was measured too: it never lets the leader's own writer join the
 * next round, and two writers then never share a sync.)
 *
 * GATHERING. Writers that append again as soon as they are acknowledged
 * settle into cohorts: those acknowledged by round N come back while round
 * N+1 (the ones that queued during N) is running, and so on, each round
 * taking only part of them. So before a round the leader may wait until as
 * many requests are queued as were active around the last round (in it, or
 * queued behind it). It waits as a spinning caller does: without s->mu,
 * yielding the CPU in a loop and watching the queue's length, so the
 * writers it waits for get the CPU and the one that completes the queue
 * makes no system call. (It slept on a condition variable that this caller
 * signalled: the wake-up held 8 writers' rounds at 143 us p50 against 116
 * us now, docs/performance.md, stop 20.) It waits at most a quarter of an
 * average round (and COMMIT_GATHER_MAX_NS at most), so a writer that does
 * not come back costs that much once; one writer, whose rounds hold only
 * itself, never waits.
 *
 * FAILURE. A failed write or fdatasync fails every request of that log in
 * the round and marks the stream dead (ST-4). After a failed fdatasync
 * its later appends fail with the same error until the store is reopened,
 * because the kernel may have dropped the dirty pages and a retry could
 * report success for data that is gone (IO-5); recovery on the next open
 * cuts whatever part of the failed round reached the disk as a torn tail,
 * or keeps it if whole (an unacknowledged batch may survive as a prefix).
 * After a failed write only (a full disk), the next append to the stream
 * revives it: the log is cut back to its acknowledged lines and synced,
 * and, when the round went through JOURNAL, a checkpoint voids its
 * record first (revive.c; commit_revive).
 *
 * BOUND. A round writes at most COMMIT_MAX_UNSYNCED bytes to one log before
 * its fdatasync (a single request may reach that bound, never exceed it);
 * further requests wait for the next round. Recovery's tail scan depends on
 * this bound (commit.h). Journaled lines not yet synced in their log are
 * covered by the journal instead, which a checkpoint empties before it holds
 * COMMIT_MAX_UNSYNCED bytes (journal.h), and recovery writes them back
 * before its scan.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "commit.h"
#include "err.h"
#include "journal.h"
#include "revive.h"
#include "store_int.h"

struct commit_req {
    struct stream *st;
    const char *buf; /* framed lines; owned by the caller, who waits */
    size_t len;
    int64_t last_seq;
    size_t nevents;
    int done;     /* atomic: read without s->mu by a spinning caller */
    int lead;     /* atomic: made the next leader by the one before */
    int sleeping; /* its caller waits on cv (not spinning) */
    int rc;
    pthread_cond_t cv; /* its caller sleeps here (WAKE-UPS) */
    struct commit_req *next;
};

#define COMMIT_GATHER_MAX_NS 100000
#define COMMIT_SPIN_ROUNDS 2
#define COMMIT_SPIN_MAX_NS 1000000

static pthread_condattr_t commit_cv_attr;
static pthread_once_t commit_cv_once = PTHREAD_ONCE_INIT;

/* Timed waits count on CLOCK_MONOTONIC. */
static void commit_cv_attr_init(void)
{
    pthread_condattr_init(&commit_cv_attr);
    pthread_condattr_setclock(&commit_cv_attr, CLOCK_MONOTONIC);
}

/* One log's part of a round. */
struct commit_slot {
    struct stream *st;
    struct buf coalesced; /* the round's lines of this log, when more than one request */
    const char *first;    /* the first request's lines */
    size_t first_len;
    uint64_t off;     /* where the round's lines start in the log */
    uint64_t bytes;   /* bytes of lines */
    uint64_t zeros;   /* zero bytes written after them (pre-zeroing) */
    int zero_no_room; /* PRE-ZEROING: they found no room, the log synced without */
    int full;         /* BOUND: the round takes no more of this log's requests */
    int unlisted;     /* C-4 failed: rc set, nothing written, the stream not dead */
    int early;        /* C-2: journaled, and its log listed: written beside the record */
    size_t w_at, w_n; /* its entries in the round's write_sync requests */
    int64_t last_seq;
    size_t nevents;
    int rc;
};

/* PRE-ZEROING. An fdatasync that must also record a new file size costs a
 * journal commit; one whose data lands inside the file's existing size does
 * not, and is about twice as fast on ext4. So a busy log is kept ahead of its
 * lines by a run of zero bytes, written in the same write as the lines that
 * cross into new space: st->size_alloc is where the file really ends. The
 * run doubles with the log, from COMMIT_ZERO_MIN to COMMIT_ZERO_MAX, and is
 * only used once a log has taken COMMIT_ZERO_AFTER appends this session
 * (s->zero_after: the crash harness lowers it, store.h), so
 * 100,000 quiet streams cost no extra space. Readers stop at size_durable;
 * a clean close cuts the zeros off (store.c), so a closed log is exactly
 * SPEC section 3; after a crash recovery cuts them as a zero tail. The
 * zeros go out as a second write from commit_zeros, ahead of the log's one
 * fdatasync, so the lines are never copied to make room for them.
 * The zeros reach the disk too, so they pay only when many rounds land in
 * them: a round of more than 1/COMMIT_ZERO_ROUNDS of the run writes no
 * zeros and lets the file grow.
 * The zeros are only a speed-up: when their write finds no room (ENOSPC,
 * EDQUOT, EFBIG) after the lines were written, the log is fdatasynced
 * without them and the round goes on (commit_zero_fallback; the same for
 * ROOT/JOURNAL's zeros). A disk close to full so keeps taking appends
 * until the lines themselves do not fit, and writes no more zeros this
 * session. The part of the run that was
 * written is cut first, so it leaves the room to the other logs; if that
 * cut fails, size_alloc counts the whole run, which the file may not
 * reach: a clean close cuts back to the lines either way, and a write past
 * the real end only pays a size change in its fdatasync. The failure
 * counts as absorbed (C-5).
 *
 * BIG ROUNDS. Keeping a log's sync in place saves writing out a size change
 * (this machine's ext4 runs without a journal, so that is a synchronous
 * write of the inode's block, ext4_fsync_nojournal), about 45 us here,
 * whatever the round's size; but the round's lines then reach the disk
 * twice: as zeros first, or through ROOT/JOURNAL and again at the
 * checkpoint. At about 600 MB/s that second write costs more than the
 * saving from about 27 KB up. So a round's lines for one log of more than
 * COMMIT_BIG_ROUND bytes (a batch of 1,000 100 B events, say) write no
 * zeros, and when that log is the round's only one they do not go through
 * the journal either (commit_use_journal): they grow the file and pay its
 * size change in their own fdatasync, as a plain write+fdatasync loop does.
 * Side by side (docs/performance.md) the 100 B batch went from 0.53x-0.70x
 * of that loop to 0.80x-0.83x, its p99 from 4 ms to 0.7 ms. */
#define COMMIT_ZERO_MIN ((uint64_t)64 << 10)
#define COMMIT_ZERO_MAX ((uint64_t)1 << 20)
#define COMMIT_ZERO_ROUNDS 8
#define COMMIT_BIG_ROUND ((uint64_t)32 << 10)

static const char commit_zeros[COMMIT_ZERO_MAX];

/* The errors of a write that found no room. */
static int commit_no_room(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG;
}

/* PRE-ZEROING: zw, a run of zeros written at zw->off, after lines that
 * were written (lines_rc 0), with the fdatasync attached to it, found no
 * room: cuts what part of the run was written (giving the room back to the
 * other logs) and syncs the file without it. Returns 1 when that made zw a
 * success, and then sets zw->len to 0 if the cut was made. No lock held;
 * fd pinned by the caller. */
static int commit_zero_fallback(sxp_store *s, int fd, int lines_rc, struct io_wsync *zw)
{
    if (lines_rc != 0 || !commit_no_room(zw->res) || zw->sync_failed)
        return 0;
    int cut = s->io->ftruncate(s->io, fd, zw->off) == 0;
    int rc = s->io->fdatasync(s->io, fd);
    zw->res = rc;
    zw->sync_failed = rc != 0;
    if (rc == 0 && cut)
        zw->len = 0;
    return rc == 0;
}

static uint64_t commit_zero_run(const sxp_store *s, const struct stream *st, uint64_t bytes,
                                uint64_t end)
{
    if (s->opt.sync != SXP_SYNC_ALWAYS || st->appends_session < s->zero_after ||
        end <= st->size_alloc || st->zero_no_room)
        return 0;
    uint64_t run = end < COMMIT_ZERO_MIN ? COMMIT_ZERO_MIN : end;
    if (run > COMMIT_ZERO_MAX)
        run = COMMIT_ZERO_MAX;
    return bytes > run / COMMIT_ZERO_ROUNDS || bytes > COMMIT_BIG_ROUND ? 0 : run;
}

/* Completes r for its caller, who may be spinning without s->mu (SPIN) and
 * return at once: r is not touched after done is set, unless its caller is
 * asleep on r->cv, which it cannot leave before we let go of s->mu. */
static void commit_finish(sxp_store *s, struct commit_req *r, int rc)
{
    struct stream *st = r->st;
    st->pending--;
    s->st_in_flight--;
    if (st->pending == 0)
        pthread_cond_broadcast(&s->cv);
    r->rc = rc;
    int sleeping = r->sleeping;
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    if (sleeping)
        pthread_cond_signal(&r->cv);
}

/* Makes r's caller the next leader. r is queued, so its caller cannot
 * return meanwhile. s->mu held. */
static void commit_hand_over(struct commit_req *r)
{
    __atomic_store_n(&r->lead, 1, __ATOMIC_RELEASE);
    if (r->sleeping)
        pthread_cond_signal(&r->cv);
}

/* Queue length changes under s->mu, but the gathering leader reads it
 * without (commit_gather). */
static void commit_q_len_set(sxp_store *s, size_t n)
{
    __atomic_store_n(&s->q_len, n, __ATOMIC_RELAXED);
}

/* GATHERING: before a round, waits a little for the writers of the last
 * one to queue again, yielding the CPU to them. s->mu held on entry and
 * exit, let go meanwhile; s->leader keeps the round ours. */
static void commit_gather(sxp_store *s)
{
    size_t want = s->last_active;
    if (s->q_len >= want || s->round_ns == 0)
        return;
    uint64_t wait = s->round_ns / 4;
    if (wait > COMMIT_GATHER_MAX_NS)
        wait = COMMIT_GATHER_MAX_NS;
    uint64_t until = clock_now_ns() + wait;
    pthread_mutex_unlock(&s->mu);
    while (__atomic_load_n(&s->q_len, __ATOMIC_RELAXED) < want && clock_now_ns() < until)
        sched_yield();
    pthread_mutex_lock(&s->mu);
}

/* Adds a request's lines to its log's slot. */
static int commit_slot_add(struct commit_slot *sl, struct commit_req *r)
{
    if (sl->bytes == 0) {
        sl->first = r->buf;
        sl->first_len = r->len;
    } else {
        if (sl->coalesced.len == 0 && buf_add(&sl->coalesced, sl->first, sl->first_len) != 0)
            return -ENOMEM;
        if (buf_add(&sl->coalesced, r->buf, r->len) != 0)
            return -ENOMEM;
    }
    sl->bytes += r->len;
    sl->last_seq = r->last_seq;
    sl->nevents += r->nevents;
    return 0;
}

/* r failed before any of it was written (its log could not be opened, no
 * memory): its seqs are free again, so a retry of the same seqs is not
 * refused, unless a later request of the log reserved more since (ST-1).
 * Below r stand the round's earlier requests of the log, if any. */
static void commit_unreserve(const struct commit_slot *sl, const struct commit_req *r)
{
    struct stream *st = sl->st;
    if (st->hw_reserved == r->last_seq)
        st->hw_reserved = sl->bytes ? sl->last_seq : st->hw;
}

/* J-4: whether this round goes through the journal. Makes room in the
 * journal's dirty list for its logs first. s->mu held. */
static int commit_use_journal(sxp_store *s, struct commit_slot *slots, size_t nslots)
{
    if (s->j_fd < 0 || s->j_dead || s->opt.sync != SXP_SYNC_ALWAYS)
        return 0;
    uint64_t total = 0;
    size_t nlogs = 0;
    int grows = 0;
    for (size_t i = 0; i < nslots; i++) {
        struct commit_slot *sl = &slots[i];
        if (sl->rc || sl->bytes == 0)
            continue;
        uint64_t end = sl->off + sl->bytes;
        total += sl->bytes;
        nlogs++;
        if (end > sl->st->size_alloc && commit_zero_run(s, sl->st, sl->bytes, end) == 0)
            grows = 1;
    }
    if (nlogs == 0 || total > JOURNAL_ROUND_MAX ||
        (nlogs == 1 && !s->j_every_round && (!grows || total > COMMIT_BIG_ROUND)))
        return 0;
    if (s->j_cap - s->j_ndirty < nlogs) {
        size_t cap = s->j_ndirty + nlogs + s->j_cap;
        void *p = realloc(s->j_dirty, cap * sizeof(*s->j_dirty));
        if (!p)
            return 0;
        s->j_dirty = p;
        s->j_cap = cap;
    }
    return 1;
}

/* A slot whose log this round writes but LOCK does not list yet; with
 * busy_only, only if the log is busy (s->zero_after appends this session,
 * COMMIT_ZERO_AFTER unless a test set it, as PRE-ZEROING counts them). */
static int commit_slot_unlisted(const sxp_store *s, const struct commit_slot *sl, int busy_only)
{
    return !sl->rc && sl->bytes && !sl->st->dirty_logged &&
           (!busy_only || sl->st->appends_session >= s->zero_after);
}

/* C-4: before a round writes logs outside the journal, the streams not yet
 * on LOCK's dirty list are put there, with one sync for all. If that
 * fails, their slots fail and write nothing; the streams stay usable
 * through the journal, and other logs of the round go on.
 * A journaled round (journaled 1) lists its busy logs the same way, so
 * that their writes can go out beside the record (C-2); a failure only
 * keeps them behind the journal's sync. 100,000 quiet streams pay nothing.
 * s->mu held; dropped for the I/O. */
static void commit_list_dirty(sxp_store *s, struct commit_slot *slots, size_t nslots, int journaled)
{
    size_t first = 0, n = 0;
    while (first < nslots && !commit_slot_unlisted(s, &slots[first], journaled))
        first++;
    if (first == nslots)
        return; /* the common case, with no allocation */
    struct stream **sts = malloc((nslots - first) * sizeof(*sts));
    for (size_t i = first; sts && i < nslots; i++)
        if (commit_slot_unlisted(s, &slots[i], journaled))
            sts[n++] = slots[i].st;
    int rc = sts ? streams_list_dirty(s, sts, n) : -ENOMEM;
    free(sts);
    if (rc && journaled)
        s->st_absorbed++; /* the journal's sync covers them instead */
    for (size_t i = first; rc && !journaled && i < nslots; i++) {
        if (commit_slot_unlisted(s, &slots[i], 0)) {
            slots[i].rc = rc;
            slots[i].unlisted = 1;
        }
    }
}

static const char *commit_slot_lines(const struct commit_slot *sl)
{
    return sl->coalesced.len ? sl->coalesced.p : sl->first;
}

/* The journal bytes of a round's records. */
static uint64_t commit_journal_bytes(const struct commit_slot *slots, size_t nslots)
{
    uint64_t n = 0;
    for (size_t i = 0; i < nslots; i++)
        if (!slots[i].rc && slots[i].bytes)
            n += journal_record_size(slots[i].st->name_len, slots[i].bytes);
    return n;
}

/* J-5: writes the round's records at s->j_end (with zeros ahead, as a log's
 * pre-zeroing) and fdatasyncs the journal, in one write_sync with the log
 * writes early[0..nearly) (C-2), whose results it fills in. Returns the
 * journal's result. Called by the leader without s->mu: the slots and
 * s->j_* are the leader's until the round ends. */
static int commit_journal_write(sxp_store *s, const struct commit_slot *slots, size_t nslots,
                                struct io_wsync *early, size_t nearly, unsigned *absorbed)
{
    uint64_t len = commit_journal_bytes(slots, nslots);
    char *buf = malloc(len);
    struct io_wsync *jw = calloc(nearly + 2, sizeof(*jw));
    if (!buf || !jw) {
        free(buf);
        free(jw);
        return -ENOMEM;
    }
    size_t at = 0, last = nslots;
    for (size_t i = 0; i < nslots; i++)
        if (!slots[i].rc && slots[i].bytes)
            last = i; /* KIND 'E' (journal.c J-2, J-9) */
    for (size_t i = 0; i < nslots; i++) {
        const struct commit_slot *sl = &slots[i];
        if (sl->rc || sl->bytes == 0)
            continue;
        at += journal_record_format(buf + at, s->j_gen, s->j_round + 1, i == last, sl->st->name,
                                    sl->st->name_len, sl->off, commit_slot_lines(sl), sl->bytes);
    }
    uint64_t end = s->j_end + len, zeros = 0;
    if (end > s->j_alloc && !s->j_zero_no_room) {
        zeros = end < COMMIT_ZERO_MIN ? COMMIT_ZERO_MIN : end;
        zeros = zeros > COMMIT_ZERO_MAX ? COMMIT_ZERO_MAX : zeros;
    }
    /* The logs first: a backend that runs requests one after another then
     * writes them ahead of the record's sync, the order a crash test must
     * see; io_uring writes them while its workers sync the journal. */
    memcpy(jw, early, nearly * sizeof(*jw));
    jw[nearly] =
        (struct io_wsync){.fd = s->j_fd, .buf = buf, .len = len, .off = s->j_end, .sync = !zeros};
    jw[nearly + 1] =
        (struct io_wsync){.fd = s->j_fd, .buf = commit_zeros, .len = zeros, .off = end, .sync = 1};
    (void)s->io->write_sync(s->io, jw, nearly + (zeros ? 2 : 1));
    if (zeros && commit_zero_fallback(s, s->j_fd, jw[nearly].res, &jw[nearly + 1])) {
        (*absorbed)++;
        zeros = jw[nearly + 1].len; /* 0 once cut back */
        s->j_zero_no_room = 1;      /* the leader's, as s->j_* are */
    }
    int rc = jw[nearly].res ? jw[nearly].res : jw[nearly + 1].len ? jw[nearly + 1].res : 0;
    for (size_t i = 0; i < nearly; i++) {
        early[i].res = jw[i].res;
        early[i].sync_failed = jw[i].sync_failed;
    }
    free(buf);
    free(jw);
    if (rc == 0 && zeros) {
        pthread_mutex_lock(&s->mu);
        s->j_alloc = end + zeros;
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

/* Adds sl's write of lines at w[nw] (and, pre-zeroing, one of zeros after
 * it), with an fdatasync unless the round is journaled; returns the new
 * count. s->mu held. */
static size_t commit_slot_writes(sxp_store *s, struct commit_slot *sl, int journaled,
                                 struct io_wsync *w, size_t nw)
{
    struct stream *st = sl->st;
    int sync = s->opt.sync == SXP_SYNC_ALWAYS;
    uint64_t end = sl->off + sl->bytes;
    sl->zeros = journaled ? 0 : commit_zero_run(s, st, sl->bytes, end);
    sl->w_at = nw;
    w[nw++] = (struct io_wsync){.fd = st->fd,
                                .buf = commit_slot_lines(sl),
                                .len = sl->bytes,
                                .off = sl->off,
                                .sync = sync && !sl->zeros && !journaled};
    if (sl->zeros)
        w[nw++] = (struct io_wsync){
            .fd = st->fd, .buf = commit_zeros, .len = sl->zeros, .off = end, .sync = sync};
    sl->w_n = nw - sl->w_at;
    st->size_written = end;
    return nw;
}

/* Runs one round over the whole queue. s->mu held on entry and exit. */
static void commit_round(sxp_store *s)
{
    struct commit_req *list = s->q_head;
    s->q_head = s->q_tail = NULL;
    commit_q_len_set(s, 0);

    size_t nreq = 0;
    for (struct commit_req *r = list; r; r = r->next)
        nreq++;
    struct io_wsync *w = calloc(2 * nreq, sizeof(*w)); /* lines and zeros per log */
    struct commit_slot *slots = calloc(nreq, sizeof(*slots));
    struct commit_req **inround = calloc(nreq, sizeof(*inround));
    size_t *rslot = calloc(nreq, sizeof(*rslot));
    size_t nin = 0, nslots = 0, nw = 0;
    if (!w || !slots || !inround || !rslot) {
        /* Nothing written, and the whole queue fails: every seq it held is
         * free again (ST-1), so that a retry of the same seqs is taken. */
        for (struct commit_req *r = list; r; r = r->next)
            r->st->hw_reserved = r->st->hw;
        for (struct commit_req *r = list, *nx; r; r = nx) {
            nx = r->next; /* r is its caller's once finished */
            commit_finish(s, r, -ENOMEM);
        }
        goto out;
    }

    struct commit_req *defer_head = NULL, *defer_last = NULL;
    struct commit_req *next;
    for (struct commit_req *r = list; r; r = next) {
        next = r->next;
        r->next = NULL;
        struct stream *st = r->st;
        if (st->dead) {
            commit_finish(s, r, st->dead);
            continue;
        }
        struct commit_slot *sl = st->round_slot ? &slots[st->round_slot - 1] : NULL;
        if (sl && (sl->rc || sl->full || sl->bytes + r->len > COMMIT_MAX_UNSYNCED)) {
            /* Over the bound (or the log could not be opened): the next
             * round takes it and every later request of its log, even one
             * small enough to fit, so the log's lines stay in seq order. */
            sl->full = 1;
            if (defer_last)
                defer_last->next = r;
            else
                defer_head = r;
            defer_last = r;
            continue;
        }
        if (!sl) {
            sl = &slots[nslots];
            sl->st = st;
            sl->off = st->size_written;
            sl->rc = streams_pin_fd(s, st, NULL);
            st->round_slot = ++nslots;
            if (sl->rc) {
                commit_unreserve(sl, r);
                commit_finish(s, r, sl->rc);
                continue;
            }
        }
        int rc = commit_slot_add(sl, r);
        if (rc) {
            commit_unreserve(sl, r);
            commit_finish(s, r, rc);
            continue;
        }
        inround[nin] = r;
        rslot[nin] = st->round_slot - 1;
        nin++;
    }
    if (defer_head) {
        /* Nothing was queued meanwhile: we hold s->mu. */
        s->q_head = defer_head;
        s->q_tail = defer_last;
        size_t n = 0;
        for (struct commit_req *r = defer_head; r; r = r->next)
            n++;
        commit_q_len_set(s, n);
    }

    /* One write of lines (and one of zeros) and one fdatasync per log; or,
     * through the journal, one write and one fdatasync for all (J-4). */
    int sync = s->opt.sync == SXP_SYNC_ALWAYS;
    int journaled = commit_use_journal(s, slots, nslots);
    commit_list_dirty(s, slots, nslots, journaled);
    /* C-2: the early slots' writes first, w[0..nearly), then the others'. */
    for (size_t i = 0; i < nslots; i++) {
        struct commit_slot *sl = &slots[i];
        sl->early = journaled && !sl->rc && sl->bytes && streams_listed(s, sl->st);
        if (sl->early)
            nw = commit_slot_writes(s, sl, journaled, w, nw);
    }
    size_t nearly = nw;
    for (size_t i = 0; i < nslots; i++)
        if (!slots[i].rc && slots[i].bytes && !slots[i].early)
            nw = commit_slot_writes(s, &slots[i], journaled, w, nw);

    int recorded = 0; /* the round's records are durable in the journal */
    if (nw) {
        pthread_mutex_unlock(&s->mu);
        /* The buffers belong to the backend (and, through io_uring, to the
         * kernel) until write_sync returns; their owners sleep until we mark
         * their requests done below. */
        uint64_t t0 = clock_now_ns();
        unsigned absorbed = 0;
        int jrc = journaled ? commit_journal_write(s, slots, nslots, w, nearly, &absorbed) : 0;
        recorded = journaled && jrc == 0;
        if (jrc == 0) {
            if (nw > nearly)
                (void)s->io->write_sync(s->io, w + nearly, nw - nearly);
            for (size_t i = 0; i < nslots; i++) {
                struct commit_slot *sl = &slots[i];
                if (sl->zeros && !sl->rc &&
                    commit_zero_fallback(s, sl->st->fd, w[sl->w_at].res, &w[sl->w_at + 1])) {
                    absorbed++;
                    sl->zeros = w[sl->w_at + 1].len; /* 0 once cut back */
                    sl->zero_no_room = 1;
                }
            }
        } else {
            for (size_t k = 0; k < nw; k++)
                w[k].res = jrc;
        }
        uint64_t took = clock_now_ns() - t0;
        pthread_mutex_lock(&s->mu);
        s->st_absorbed += absorbed;
        if (journaled && jrc == 0) {
            s->j_end += commit_journal_bytes(slots, nslots);
            s->j_round++;
            if (s->j_end > s->j_alloc)
                s->j_alloc = s->j_end;
            if (sync)
                s->st_syncs++;
        } else if (jrc) {
            s->j_dead = jrc; /* the journal is not trusted again this session */
        }
        s->round_ns = s->round_ns ? (7 * s->round_ns + took) / 8 : took;
    }

    for (size_t i = 0; i < nslots; i++) {
        struct commit_slot *sl = &slots[i];
        struct stream *st = sl->st;
        st->round_slot = 0;
        if (sl->bytes == 0)
            continue; /* the log could not be opened: nothing pinned */
        int sync_failed = 0;
        for (size_t k = sl->w_at; k < sl->w_at + sl->w_n && !sl->rc; k++) {
            sl->rc = w[k].res;
            sync_failed = w[k].sync_failed;
        }
        if (sl->rc && sl->unlisted) {
            /* Nothing written: its seqs are free again, unless a later
             * request of the log reserved more since (ST-1). */
            if (st->hw_reserved == sl->last_seq)
                st->hw_reserved = st->hw;
        } else if (sl->rc) {
            /* A journaled round's record may be durable even when the
             * journal's write or sync failed (revive.c RV-3). */
            revive_note_failure(s, st, sl->rc, sync_failed, journaled);
            /* A failed log write after its record was synced may have left
             * part of the lines: the record stays the log's cover (C-4)
             * until a checkpoint after the log is cut back (revive.c
             * RV-3); until then a crash brings the record back (J-6). */
            if (recorded)
                (void)journal_note_dirty(s, st);
        } else {
            st->zero_no_room |= sl->zero_no_room;
            st->size_durable = st->size_written;
            if (st->size_written + sl->zeros > st->size_alloc)
                st->size_alloc = st->size_written + sl->zeros;
            if (sl->last_seq > st->hw)
                st->hw = sl->last_seq;
            st->appends_session += sl->nevents;
            s->st_bytes += sl->bytes;
            s->st_appends += sl->nevents;
            if (journaled) {
                (void)journal_note_dirty(s, st); /* room made by commit_use_journal */
            } else if (s->opt.sync == SXP_SYNC_ALWAYS) {
                s->st_syncs++;
                st->j_unsynced = 0; /* the fdatasync covered the whole log (J-13) */
            }
        }
        streams_unpin_fd(s, st);
    }
    for (size_t i = 0; i < nin; i++)
        commit_finish(s, inround[i], slots[rslot[i]].rc);
    s->last_active = nin + s->q_len;
    s->st_batches++;
    if (journaled && !s->j_dead &&
        (s->j_end >= JOURNAL_CKPT_BYTES || s->j_ndirty >= s->j_ckpt_logs)) {
        int rc = journal_checkpoint(s, NULL); /* the round's callers are already on their way */
        if (rc) {
            s->j_dead = rc;
            s->st_absorbed++;
        }
    }
out:
    for (size_t i = 0; i < nslots; i++)
        buf_free(&slots[i].coalesced);
    free(w);
    free(slots);
    free(inround);
    free(rslot);
    pthread_cond_broadcast(&s->cv);
}

/* WAKE-UPS: yields the CPU until req is done or made leader, or the spin
 * time is up. Returns 1 when req is done (s->mu released), 0 with s->mu
 * held (made leader, or time to sleep). */
static int commit_spin(sxp_store *s, struct commit_req *req)
{
    uint64_t limit = s->round_ns * COMMIT_SPIN_ROUNDS;
    if (s->opt.sync != SXP_SYNC_ALWAYS || limit == 0)
        return 0;
    if (limit > COMMIT_SPIN_MAX_NS)
        limit = COMMIT_SPIN_MAX_NS;
    pthread_mutex_unlock(&s->mu);
    uint64_t until = clock_now_ns() + limit;
    for (;;) {
        if (__atomic_load_n(&req->done, __ATOMIC_ACQUIRE))
            return 1;
        if (__atomic_load_n(&req->lead, __ATOMIC_ACQUIRE) || clock_now_ns() >= until)
            break;
        sched_yield();
    }
    pthread_mutex_lock(&s->mu);
    return 0;
}

int commit_append(sxp_store *s, const char *name, size_t name_len, int64_t first_seq,
                  int64_t last_seq, size_t nevents, const char *buf, size_t len,
                  struct sxp_err *err)
{
    struct commit_req req = {.buf = buf, .len = len, .last_seq = last_seq, .nevents = nevents};
    struct stream *st;
    int rc, revived = 0;

    if (len > COMMIT_MAX_UNSYNCED)
        return err_set(err, -E2BIG, "append of %zu bytes is over the limit of %llu", len,
                       (unsigned long long)COMMIT_MAX_UNSYNCED);
    pthread_mutex_lock(&s->mu);
    rc = streams_get(s, name, name_len, &st, err);
    if (rc)
        goto out;
    for (;;) {
        if (st->busy) {
            /* A truncate or creation is rewriting this stream's files. */
            rc = streams_wait_idle(s, st, err);
            if (rc)
                goto out;
            continue;
        }
        if (st->dead && st->revive && !revived) {
            revived = 1; /* one try per call */
            commit_revive(s, st);
            continue;
        }
        if (st->dead) {
            char q[ERR_QUOTED_MAX];
            rc = err_set(err, st->dead,
                         st->revive ? "stream %s refuses writes after a failed write (%s); "
                                      "it is tried again at the next append"
                                    : "stream %s refuses writes after an I/O failure (%s) "
                                      "until the store is reopened",
                         err_quote(st->name, st->name_len, q, sizeof(q)), strerror(-st->dead));
            goto out;
        }
        if (first_seq <= st->hw_reserved) {
            char q[ERR_QUOTED_MAX];
            rc =
                err_set(err, -ERANGE, "seq %lld is not above the high-water mark %lld of stream %s",
                        (long long)first_seq, (long long)st->hw_reserved,
                        err_quote(st->name, st->name_len, q, sizeof(q)));
            goto out;
        }
        if (!st->log_exists) {
            /* Creation drops s->mu: check everything again afterwards. */
            rc = streams_create(s, st, err);
            if (rc)
                goto out;
            continue;
        }
        break;
    }
    st->hw_reserved = last_seq;
    st->pending++;
    s->st_in_flight++;
    req.st = st;
    pthread_once(&commit_cv_once, commit_cv_attr_init);
    pthread_cond_init(&req.cv, &commit_cv_attr);
    /* The request lives on this caller's stack: a round takes it off the
     * queue before it marks it done, and the caller returns only once it
     * is done. */
    if (s->q_tail)
        s->q_tail->next = &req;
    else
        s->q_head = &req; /* cppcheck-suppress autoVariables */
    s->q_tail = &req;     /* cppcheck-suppress autoVariables */
    commit_q_len_set(s, s->q_len + 1);

    int locked = 1;
    while (!req.done) {
        if (!s->leader || req.lead) {
            s->leader = 1;
            __atomic_store_n(&req.lead, 0, __ATOMIC_RELAXED);
            while (!req.done) {
                commit_gather(s);
                commit_round(s);
            }
            if (s->q_head) {
                commit_hand_over(s->q_head);
            } else {
                s->leader = 0;
                pthread_cond_broadcast(&s->cv); /* commit_drain */
            }
        } else if (commit_spin(s, &req)) {
            locked = 0; /* done, seen without s->mu */
            break;
        } else if (!req.done && !req.lead) {
            req.sleeping = 1;
            pthread_cond_wait(&req.cv, &s->mu);
            req.sleeping = 0;
        }
    }
    if (locked)
        pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&req.cv);
    rc = req.rc;
    if (rc) {
        char q[ERR_QUOTED_MAX];
        err_set(err, rc, "append to stream %s: %s", err_quote(st->name, st->name_len, q, sizeof(q)),
                strerror(-rc));
    }
    return rc;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void commit_drain(sxp_store *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->leader || s->q_head)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

/* Takes the commit leader's place for work outside a round, once no round
 * runs (the leader hands over while appends are queued). s->mu held. */
static void commit_take_lead(sxp_store *s)
{
    while (s->leader)
        pthread_cond_wait(&s->cv, &s->mu);
    s->leader = 1;
}

static void commit_leave_lead(sxp_store *s)
{
    if (s->q_head) {
        commit_hand_over(s->q_head);
    } else {
        s->leader = 0;
        pthread_cond_broadcast(&s->cv);
    }
}

int commit_checkpoint(sxp_store *s, struct sxp_err *err)
{
    commit_take_lead(s);
    int rc = journal_checkpoint(s, err);
    if (rc)
        s->j_dead = rc;
    commit_leave_lead(s);
    return rc;
}

void commit_revive(sxp_store *s, struct stream *st)
{
    /* Appends queued before the failure fail with it (RV-4). */
    while (st->dead && st->pending)
        pthread_cond_wait(&s->cv, &s->mu);
    commit_take_lead(s);
    if (st->dead && st->revive)
        (void)revive_stream(s, st);
    commit_leave_lead(s);
}
