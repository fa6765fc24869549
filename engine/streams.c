/*
 * streams.c -- the in-memory stream table and the log descriptor cache.
 *
 * A stream's state is loaded from disk the first time it is touched in a
 * process: its high-water mark from the .seq file (brought up to date by
 * recovery or by a clean close before this open, see store.c) and its log
 * size from fstat. Of the log's data only the last line is read (ST-8 in
 * a read-write store, whose descriptor stays in the cache; ST-9 in a
 * read-only one, log_tail.c).
 * Descriptors are kept open in an LRU of at most s->max_open_fds entries,
 * so that 100,000 streams work under the default RLIMIT_NOFILE.
 *
 * CREATION ORDER. A stream is created by its first append, before that
 * append is queued: the empty .log, O_CREAT, then one fsync of streams/ so
 * its name survives a power loss before the append's own fdatasync covers
 * its data and size (commit.c C-3). No .seq is written then: a stream's
 * .seq appears with its first high-water mark, at its first truncate
 * (truncate.c T-2) or at the close (streams_flush_seqfiles), so .seq files
 * on disk name only streams that had an acknowledged append. Until then
 * the stream is listed from memory (streams_born).
 *
 * UNBORN STREAMS. A stream whose .log exists but that has no .seq and no
 * acknowledged event (hw 0: its first append failed, or has not finished)
 * is UNBORN: persist/streams does not list it, since a failed operation
 * changes nothing a reader sees (docs/durability.md E-3), and the close
 * removes its empty log (streams_flush_seqfiles). Recovery removes what a
 * crash leaves of one (recover.c R-4b) once the journal is replayed, so no
 * JOURNAL record can name a log taken away.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "err.h"
#include "lock.h"
#include "log_tail.h"
#include "logread.h"
#include "seqfile.h"
#include "store_int.h"
#include "sx.h"

/* Logs cut (streams_trim_tails) per write_sync batch. */
#define STREAMS_TRIM_CHUNK 64

int streams_path(const sxp_store *s, const struct stream *st, const char *suffix, char *out)
{
    return layout_stream_path(s->root, st->name, st->name_len, suffix, out);
}

static int streams_grow(sxp_store *s)
{
    size_t nsize = s->table_size ? s->table_size * 2 : 1024;
    struct stream **nt = calloc(nsize, sizeof(*nt));
    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < s->table_size; i++) {
        struct stream *st = s->table[i];
        while (st) {
            struct stream *next = st->hnext;
            size_t b = st->hash & (nsize - 1);
            st->hnext = nt[b];
            nt[b] = st;
            st = next;
        }
    }
    free(s->table);
    s->table = nt;
    s->table_size = nsize;
    return 0;
}

static struct stream *streams_find(sxp_store *s, const char *name, size_t len, uint64_t h)
{
    if (!s->table_size)
        return NULL;
    for (struct stream *st = s->table[h & (s->table_size - 1)]; st; st = st->hnext)
        if (st->hash == h && st->name_len == len && memcmp(st->name, name, len) == 0)
            return st;
    return NULL;
}

const char *streams_label(const struct stream *st, char out[STREAMS_LABEL_MAX])
{
    char hex[2 * LAYOUT_STREAM_MAX + 1];
    layout_hex_encode(st->name, st->name_len, hex);
    err_quote(st->name, st->name_len, out, ERR_QUOTED_MAX);
    size_t n = strlen(out);
    snprintf(out + n, STREAMS_LABEL_MAX - n, " (streams/%s.log)", hex);
    return out;
}

static void streams_adopt_fd(sxp_store *s, struct stream *st, int fd);

/* The last line of the log fd, size bytes, of a stream being loaded; a
 * seq above the .seq file's hw raises hw, as recovery does: a seq
 * is never taken twice, and last-seq is never below what a read shows.
 *  ST-8, a read-write store: a log that does not end in a valid line with
 *   a :seq is refused (-EUCLEAN): a clean close or recovery leaves none, so
 *   it is damage, not a crash's torn tail, and only sxp-fsck may decide
 *   what to keep (a .seq lowered or removed by hand raises hw here). So
 *   is an EMPTY log without a .seq: recovery (R-4b) and a clean close
 *   remove the logs of unborn streams, so it is a stream whose every event
 *   was truncated and whose .seq was then lost (removed by hand, a restore
 *   that missed it: sxp-fsck's seq-lost). Its mark is gone, and taking it
 *   as 0 would let seqs be taken twice, and the close would then remove
 *   the log as an unborn stream's, deleting the evidence.
 *  ST-9, read_only: a live writer writes its .seq files at close, and a
 *   crashed session's lag behind its log until recovery rolls them
 *   forward, yet the events a read shows are there. Bytes after the last
 *   LF (a line being written, a torn tail, a live writer's zeros:
 *   commit.c PRE-ZEROING) are skipped, as a read skips them, and so are
 *   damaged lines at the end (a crash's torn tail with zeros and a
 *   trailer, which only recovery cuts): the last valid line before them
 *   counts, since a read shows the events up to the damage, then reports
 *   it. */
static int streams_load_tail(sxp_store *s, struct stream *st, int fd, uint64_t size, int read_only,
                             struct sxp_err *err)
{
    enum log_tail_state ts;
    char q[STREAMS_LABEL_MAX];
    int64_t seq;
    uint64_t at;
    if (!read_only && size == 0 && !st->seq_exists)
        return err_set(err, -EUCLEAN,
                       "stream %s has an empty log and no .seq: its high-water mark is lost "
                       "(every event truncated, then the .seq removed); run sxp-fsck",
                       streams_label(st, q));
    int rc = log_tail(s->io, fd, size, &ts, &seq, &at);
    while (rc == 0 && read_only && (ts == LT_TORN || ts == LT_DAMAGED) && at > 0)
        rc = log_tail(s->io, fd, at, &ts, &seq, &at);
    if (rc)
        return err_set(err, rc, "stream %s: reading the end of its log: %s", streams_label(st, q),
                       strerror(-rc));
    if (!read_only && (ts == LT_TORN || ts == LT_DAMAGED))
        return err_set(err, -EUCLEAN,
                       "stream %s %s at byte %llu, which no crash leaves after recovery or a "
                       "clean close; run sxp-fsck",
                       streams_label(st, q), log_tail_state_name(ts), (unsigned long long)at);
    if (ts == LT_OK && seq > st->hw)
        st->hw = st->hw_reserved = seq;
    return 0;
}

/* Reads the .seq and sizes the .log of a new table entry; *out_fd gets the
 * log's descriptor when it was opened, else stays -1. s->mu is dropped
 * meanwhile; the entry is busy so nobody else uses it half-loaded. */
static int streams_load(sxp_store *s, struct stream *st, int *out_fd, struct sxp_err *err)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    int rc;

    pthread_mutex_unlock(&s->mu);
    rc = streams_path(s, st, ".seq", path);
    if (rc) {
        err_set(err, rc, "stream path too long");
        goto out;
    }
    /* A read-only view takes no lock: a closing writer may exchange the
     * .seq away and write another stream's mark into it (seqfile.c
     * RECYCLING), so it reads one that stayed in place. */
    rc = s->lock_fd >= 0 ? io_read_file(s->io, path, LAYOUT_SEQ_MAX_TEXT, &text, &len)
                         : io_read_file_still(s->io, path, 0, LAYOUT_SEQ_MAX_TEXT, &text, &len);
    if (rc == 0) {
        int64_t hw;
        if (layout_seq_parse(text, len, &hw) != 0) {
            rc = err_set(err, -EUCLEAN, "%s: unreadable high-water mark: run sxp-fsck", path);
            goto out;
        }
        st->hw = st->hw_reserved = st->hw_seqfile = hw;
        st->seq_exists = 1;
    } else if (rc == -E2BIG) {
        rc = err_set(err, -EUCLEAN, "%s: unreadable high-water mark: run sxp-fsck", path);
        goto out;
    } else if (rc != -ENOENT) {
        err_set(err, rc, "read %s: %s", path, strerror(-rc));
        goto out;
    }
    rc = streams_path(s, st, ".log", path);
    if (rc)
        goto out;
    uint64_t size = 0;
    int told = 0; /* err already says what failed */
    if (s->lock_fd >= 0) {
        /* ST-8: open the log (the descriptor is kept, see streams_get) and
         * check its last line. */
        int fd = s->io->open(s->io, path, O_RDWR | O_CLOEXEC, 0);
        rc = fd < 0 ? fd : s->io->fsize(s->io, fd, &size);
        if (rc == 0) {
            rc = streams_load_tail(s, st, fd, size, 0, err);
            told = rc != 0;
        }
        if (rc == 0)
            *out_fd = fd;
        else if (fd >= 0)
            (void)s->io->close(s->io, fd);
    } else {
        /* ST-9: a read-only view takes its mark from the log too. */
        int fd = s->io->open(s->io, path, O_RDONLY | O_CLOEXEC, 0);
        rc = fd < 0 ? fd : s->io->fsize(s->io, fd, &size);
        if (rc == 0) {
            rc = streams_load_tail(s, st, fd, size, 1, err);
            told = rc != 0;
        }
        if (fd >= 0)
            (void)s->io->close(s->io, fd);
    }
    if (rc == 0) {
        st->log_exists = 1;
        st->size_durable = st->size_written = st->size_alloc = size;
    } else if (rc == -ENOENT) {
        rc = 0;
    } else if (!told) {
        err_set(err, rc, "open %s: %s", path, strerror(-rc));
    }
out:
    free(text);
    pthread_mutex_lock(&s->mu);
    return rc;
}

int streams_get(sxp_store *s, const char *name, size_t len, struct stream **out,
                struct sxp_err *err)
{
    uint64_t h = XXH3_64bits(name, len);
    struct stream *st = streams_find(s, name, len, h);
    if (!st) {
        if (s->nstreams + 1 > s->table_size / 2) {
            int rc = streams_grow(s);
            if (rc)
                return err_set(err, rc, "out of memory");
        }
        st = calloc(1, sizeof(*st));
        if (!st)
            return err_set(err, -ENOMEM, "out of memory");
        memcpy(st->name, name, len);
        st->name_len = len;
        st->hash = h;
        st->fd = -1;
        size_t b = h & (s->table_size - 1);
        st->hnext = s->table[b];
        s->table[b] = st;
        s->nstreams++;
    }
    int wrc = streams_wait_idle(s, st, err);
    if (wrc)
        return wrc;
    if (!st->loaded) {
        /* A failed load leaves the entry unloaded (never freed: another
         * caller may be waiting on it), and the next caller tries again. */
        int fd = -1;
        st->busy = 1;
        int rc = streams_load(s, st, &fd, err);
        st->busy = 0;
        pthread_cond_broadcast(&s->cv);
        if (rc)
            return rc;
        if (fd >= 0)
            streams_adopt_fd(s, st, fd);
        st->loaded = 1;
    }
    *out = st;
    return 0;
}

int streams_find_existing(sxp_store *s, const char *name, size_t len, struct stream **out,
                          struct sxp_err *err)
{
    char probe[LAYOUT_STREAM_MAX + 1];
    char path[PATH_MAX];
    struct stream *st = streams_find(s, name, len, XXH3_64bits(name, len));
    if (st)
        return streams_get(s, name, len, out, err);
    /* Not in memory: look on disk first, so that reading a stream that
     * does not exist leaves no entry behind (a client asking for millions
     * of names must not grow the table). */
    memcpy(probe, name, len);
    probe[len] = '\0';
    int found = 0;
    pthread_mutex_unlock(&s->mu);
    /* Only ENOENT means "no such stream": any other failure (EACCES, EIO)
     * goes on to streams_get, whose load reports it, so that an unreadable
     * streams/ never reads as an empty stream with high-water 0. */
    for (int i = 0; i < 2 && !found; i++) {
        if (layout_stream_path(s->root, probe, len, i ? ".log" : ".seq", path) == 0 &&
            s->io->stat(s->io, path, NULL, NULL) != -ENOENT)
            found = 1;
    }
    pthread_mutex_lock(&s->mu);
    if (!found && !streams_find(s, name, len, XXH3_64bits(name, len))) {
        *out = NULL;
        return 0;
    }
    return streams_get(s, name, len, out, err);
}

void streams_set_dead(sxp_store *s, struct stream *st, int rc)
{
    if (st->dead)
        return; /* the first failure is the one reported */
    s->n_dead++;
    st->dead = rc;
}

int streams_wait_idle(sxp_store *s, struct stream *st, struct sxp_err *err)
{
    while (st->busy) {
        if (stream_scanning(st))
            return stream_scan_deadlock(st, "a wait for its truncate", err);
        pthread_cond_wait(&s->cv, &s->mu);
    }
    return 0;
}

int streams_write_seqfile(sxp_store *s, struct stream *st, struct sxp_err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX], text[LAYOUT_SEQ_MAX_TEXT];
    int64_t hw = st->hw;
    size_t n = layout_seq_format(hw, text);
    int rc = streams_path(s, st, ".seq", path);
    if (!rc)
        rc = layout_tmp_path(s->streams_dir, tmp);
    if (rc)
        return err_set(err, rc, "stream path too long");
    pthread_mutex_unlock(&s->mu);
    uint64_t mark = store_dir_mark(&s->streams_d);
    rc = store_write_replace(s, path, tmp, text, n, 1); /* ST-5 */
    if (!rc)
        rc = store_fsync_dir(s, &s->streams_d, mark); /* ST-7 */
    pthread_mutex_lock(&s->mu);
    if (rc)
        return err_set(err, rc, "write %s: %s", path, strerror(-rc));
    s->st_syncs += 1 + (uint64_t)(s->opt.sync == SXP_SYNC_ALWAYS);
    if (hw > st->hw_seqfile)
        st->hw_seqfile = hw;
    st->seq_exists = 1;
    return 0;
}

/* The bucket of a stream (lock.h K-5). */
static unsigned streams_bucket(const struct stream *st)
{
    char hex[2 * LAYOUT_STREAM_MAX + 1];
    layout_hex_encode(st->name, st->name_len, hex);
    return lock_dirty_bucket(hex, strlen(hex));
}

int streams_listed(sxp_store *s, struct stream *st)
{
    if (!st->dirty_logged && s->lock_fd >= 0 && lock_dirty_has(&s->dirty, streams_bucket(st)))
        st->dirty_logged = 1; /* another stream of its bucket was listed */
    return st->dirty_logged;
}

int streams_list_dirty(sxp_store *s, struct stream *const *sts, size_t n)
{
    /* Under SXP_SYNC_NONE the list is written without syncs (lock.h K-8):
     * the next open reads it only in this boot, where the page cache
     * holds it. */
    int sync = s->opt.sync == SXP_SYNC_ALWAYS;
    if (s->lock_fd < 0) {
        for (size_t i = 0; i < n; i++)
            sts[i]->dirty_logged = 1;
        return 0;
    }
    struct lock_dirty add;
    size_t nadd = 0;
    memset(&add, 0, sizeof(add));
    for (size_t i = 0; i < n; i++) {
        struct stream *st = sts[i];
        if (st->dirty_logged)
            continue;
        unsigned b = streams_bucket(st);
        if (lock_dirty_has(&s->dirty, b))
            st->dirty_logged = 1; /* another stream of its bucket was listed */
        else if (!lock_dirty_has(&add, b)) {
            lock_dirty_add(&add, b);
            nadd++;
        }
    }
    if (nadd == 0)
        return 0;
    /* A failed write may have left part of a line: the list then reads as
     * no list (recovery reads every log). After a failed sync a later line
     * could hide that (IO-5), so none is tried again. After a failed write
     * only (a full disk), the next listing cuts LOCK back to its last whole
     * line, zeros ahead included, and syncs that first (as revive.c does
     * for a log). */
    if (s->lock_dead && !s->lock_revive)
        return s->lock_dead;
    int cut = s->lock_dead != 0, sync_failed = 0;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->lock_mu);
    int rc = 0;
    if (cut) {
        rc = io_cut(s->io, s->lock_fd, s->lock_off, sync, &sync_failed);
        if (!rc || sync_failed)
            s->lock_alloc = s->lock_off;
    }
    for (unsigned b = 0; b < LOCK_DIRTY_BUCKETS && !rc; b++)
        if (lock_dirty_has(&add, b))
            rc = lock_append_dirty(s->io, s->lock_fd, &s->lock_off, &s->lock_alloc, b, 0);
    if (!rc && sync) {
        rc = s->io->fdatasync(s->io, s->lock_fd);
        sync_failed = rc != 0;
    }
    pthread_mutex_unlock(&s->lock_mu);
    pthread_mutex_lock(&s->mu);
    if (rc) {
        if (!s->lock_dead)
            s->lock_dead = rc;
        s->lock_revive = !sync_failed;
        return rc;
    }
    s->lock_dead = s->lock_revive = 0;
    if (sync)
        s->st_syncs += 1 + (uint64_t)cut;
    lock_dirty_merge(&s->dirty, &add);
    for (size_t i = 0; i < n; i++)
        sts[i]->dirty_logged = 1;
    return 0;
}

int streams_create(sxp_store *s, struct stream *st, struct sxp_err *err)
{
    char path[PATH_MAX];
    int rc = 0;

    if (st->log_exists)
        return 0;
    int fence = __atomic_load_n(&s->streams_d.fenced, __ATOMIC_ACQUIRE);
    if (fence) /* ST-7 */
        return err_set(err, fence,
                       "%s refuses new streams after a failed directory fsync (%s) until the "
                       "store is reopened",
                       s->streams_dir, strerror(-fence));
    rc = streams_path(s, st, ".log", path);
    if (rc)
        return err_set(err, rc, "stream path too long");
    st->busy = 1;
    pthread_mutex_unlock(&s->mu);
    uint64_t mark = store_dir_mark(&s->streams_d);
    int fd = s->io->open(s->io, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        rc = s->io->close(s->io, fd);
    else
        rc = fd;
    pthread_mutex_lock(&s->mu);
    if (rc) {
        /* A failed close leaves the file made: the close removes it. */
        if (fd >= 0)
            st->log_undurable = 1;
        err_set(err, rc, "create %s: %s", path, strerror(-rc));
        goto out;
    }
    /* The log's directory entry must survive a power loss before its first
     * append is acknowledged, or the acknowledged event could vanish with
     * the file that holds it. */
    if (s->opt.sync == SXP_SYNC_ALWAYS) {
        pthread_mutex_unlock(&s->mu);
        rc = store_fsync_dir(s, &s->streams_d, mark); /* fences creations when it fails */
        pthread_mutex_lock(&s->mu);
        s->st_syncs++;
        if (rc) {
            st->log_undurable = 1; /* not to be written, but the close removes it */
            err_set(err, rc, "fsync %s: %s", s->streams_dir, strerror(-rc));
            goto out;
        }
    }
    st->log_exists = 1;
out:
    st->busy = 0;
    pthread_cond_broadcast(&s->cv);
    return rc;
}

int streams_born(sxp_store *s, const char *name, size_t len, struct sxp_err *err)
{
    char path[PATH_MAX];
    uint64_t size = 0;
    pthread_mutex_lock(&s->mu);
    struct stream *st = streams_find(s, name, len, XXH3_64bits(name, len));
    int known = st && st->loaded && s->lock_fd >= 0, born = known && st->hw > 0;
    pthread_mutex_unlock(&s->mu);
    if (known)
        return born;
    /* Not in memory, or a read-only view (where another process writes:
     * an entry loaded earlier may not know a stream born since): a log
     * whose first line is a whole event holds one, as a read
     * would show it. Another writer's unacknowledged line counts too; a
     * read-only view of a live store is no snapshot. Bytes short of a
     * whole line (a failed or unfinished first append) do not. */
    int rc = layout_stream_path(s->root, name, len, ".log", path);
    int fd = rc ? rc : s->io->open(s->io, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return err_set(err, fd, "open %s: %s", path, strerror(-fd));
    rc = s->io->fsize(s->io, fd, &size);
    if (rc == 0 && size > 0) {
        struct logread r;
        struct frame_line ln;
        uint64_t at;
        int64_t seq;
        rc = logread_open(&r, s->io, fd, 0, size, 0);
        if (rc == 0) {
            rc = logread_next(&r, &ln, &at);
            born = rc == 1 && (ln.status == FRAME_OK || ln.status == FRAME_LEGACY) &&
                   sx_peek_seq(ln.payload, ln.payload_len, &seq) == 0;
            rc = rc < 0 ? rc : 0;
            logread_close(&r);
        }
    }
    (void)s->io->close(s->io, fd);
    if (rc)
        return err_set(err, rc, "read %s: %s", path, strerror(-rc));
    return born;
}

static void streams_lru_unlink(sxp_store *s, struct stream *st)
{
    if (st->lru_prev)
        st->lru_prev->lru_next = st->lru_next;
    else
        s->lru_head = st->lru_next;
    if (st->lru_next)
        st->lru_next->lru_prev = st->lru_prev;
    else
        s->lru_tail = st->lru_prev;
    st->lru_prev = st->lru_next = NULL;
}

static void streams_lru_push(sxp_store *s, struct stream *st)
{
    st->lru_prev = NULL;
    st->lru_next = s->lru_head;
    if (s->lru_head)
        s->lru_head->lru_prev = st;
    s->lru_head = st;
    if (!s->lru_tail)
        s->lru_tail = st;
}

/* Cuts a log's pre-zeroed space (commit.c) and syncs the new size, so that
 * a log whose descriptor is closed ends in a whole line. */
static int streams_trim_one(sxp_store *s, struct stream *st)
{
    int sync = s->opt.sync == SXP_SYNC_ALWAYS, sync_failed;
    int rc = io_cut(s->io, st->fd, st->size_durable, sync, &sync_failed);
    if (sync && (!rc || sync_failed))
        s->st_syncs++;
    if (!rc) {
        st->size_alloc = st->size_durable;
        if (sync)
            st->j_unsynced = 0; /* journal.c J-13 */
    } else {
        streams_set_dead(s, st, rc);
        /* IO-5: after a failed fdatasync of its log a stream refuses
         * writes until reopen, even one a failed write had left revivable:
         * a revival's own sync would succeed and vouch for pages the
         * failed one may have dropped (journaled lines among them). */
        if (sync_failed)
            st->revive = 0;
    }
    return rc;
}

int streams_trim_tails(sxp_store *s, struct sxp_err *err)
{
    struct io_wsync w[STREAMS_TRIM_CHUNK];
    struct stream *sts[STREAMS_TRIM_CHUNK];
    struct stream *next_st = NULL;
    size_t bucket = 0;
    int first = 0, sync = s->opt.sync == SXP_SYNC_ALWAYS;

    for (;;) {
        /* Gather a chunk of open logs with pre-zeroed space, cut each. */
        size_t n = 0;
        while (n < STREAMS_TRIM_CHUNK && bucket < s->table_size) {
            struct stream *st = next_st ? next_st : s->table[bucket];
            if (!st) {
                bucket++;
                continue;
            }
            next_st = st->hnext;
            if (!next_st)
                bucket++;
            if (st->dead || st->fd < 0 || st->size_alloc <= st->size_durable)
                continue;
            int rc = s->io->ftruncate(s->io, st->fd, st->size_durable);
            if (rc) {
                streams_set_dead(s, st, rc);
                first = first ? first : rc;
                continue;
            }
            streams_sync_req(w, sts, &n, st);
        }
        if (n == 0)
            break;
        /* The new sizes are durable before LOCK says "clean" (K-3). */
        if (sync) {
            (void)s->io->write_sync(s->io, w, n);
            s->st_syncs += n;
        }
        for (size_t k = 0; k < n; k++) {
            int rc = sync ? w[k].res : 0;
            if (rc) {
                streams_set_dead(s, sts[k], rc);
                first = first ? first : rc;
            } else {
                sts[k]->size_alloc = sts[k]->size_durable;
            }
        }
    }
    if (first)
        return err_set(err, first, "cutting pre-zeroed log tails: %s", strerror(-first));
    return 0;
}

/* journal.c J-13: st's descriptor is about to be closed while its log holds
 * journaled lines no fdatasync of it has covered: the checkpoint will sync
 * by syncfs, or, where it cannot, the log is fdatasynced now. */
static void streams_evict_unsynced(sxp_store *s, struct stream *st)
{
    if (s->j_syncfs_logs != SIZE_MAX) {
        s->j_evicted = 1;
        return;
    }
    struct io_wsync w = {.fd = st->fd, .sync = 1};
    (void)s->io->write_sync(s->io, &w, 1);
    s->st_syncs++;
    if (w.res) {
        streams_set_dead(s, st, w.res);
        st->revive = 0; /* IO-5 */
    } else {
        st->j_unsynced = 0;
    }
}

void streams_close_fd(sxp_store *s, struct stream *st)
{
    if (st->fd < 0)
        return;
    assert(st->pins == 0);
    if (st->size_alloc > st->size_durable)
        (void)streams_trim_one(s, st);
    if (st->j_unsynced && !st->dead && s->opt.sync == SXP_SYNC_ALWAYS)
        streams_evict_unsynced(s, st);
    streams_lru_unlink(s, st);
    /* A close error cannot lose data here: every byte was fdatasync'ed
     * (J-13 included; or, under SXP_SYNC_NONE, never promised). */
    (void)s->io->close(s->io, st->fd);
    st->fd = -1;
    s->open_fds--;
}

/* Makes room in the descriptor cache for one more: closes least recently
 * used descriptors nobody is using. */
static void streams_make_room(sxp_store *s)
{
    struct stream *v = s->lru_tail;
    while (s->open_fds >= s->max_open_fds && v) {
        struct stream *prev = v->lru_prev;
        if (v->pins == 0)
            streams_close_fd(s, v);
        v = prev;
    }
}

/* Puts the open log descriptor fd of st, which has none, in the cache. */
static void streams_adopt_fd(sxp_store *s, struct stream *st, int fd)
{
    streams_make_room(s);
    /* Hints belong to the file the last descriptor named (SH-1); under a
     * read-only open another process may have replaced it since. */
    seq_hints_free(&st->hints);
    st->fd = fd;
    s->open_fds++;
    streams_lru_push(s, st);
}

int streams_pin_fd(sxp_store *s, struct stream *st, struct sxp_err *err)
{
    if (st->fd >= 0) {
        streams_lru_unlink(s, st);
        streams_lru_push(s, st);
        st->pins++;
        return 0;
    }
    char path[PATH_MAX];
    int rc = streams_path(s, st, ".log", path);
    if (rc)
        return err_set(err, rc, "stream path too long");
    int flags = (s->lock_fd >= 0 ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    int fd = s->io->open(s->io, path, flags, 0);
    if (fd < 0)
        return err_set(err, fd, "open %s: %s", path, strerror(-fd));
    streams_adopt_fd(s, st, fd);
    st->pins++;
    return 0;
}

void streams_unpin_fd(sxp_store *s, struct stream *st)
{
    st->pins--;
    if (st->pins == 0)
        pthread_cond_broadcast(&s->cv);
}

/* Rolls the .seq files of up to SEQFILE_CHUNK streams forward to their
 * hw, over the temp files tmps carries from chunk to chunk (seqfile.c
 * RECYCLING); the caller fsyncs streams/ once after all chunks. */
static int streams_flush_chunk(sxp_store *s, struct stream **sts, size_t n,
                               struct seqfile_tmps *tmps)
{
    struct seqfile_item v[SEQFILE_CHUNK];
    char path[SEQFILE_CHUNK][PATH_MAX];
    uint64_t synced = 0;

    for (size_t i = 0; i < n; i++) {
        if (streams_path(s, sts[i], ".seq", path[i]) != 0)
            return -ENAMETOOLONG;
        v[i] = (struct seqfile_item){.path = path[i], .value = sts[i]->hw};
    }
    /* ST-5: synced under SXP_SYNC_NONE too. A chunk is synced as a
     * checkpoint of as many logs is (J-11). */
    int fs_fd = n >= s->j_syncfs_logs ? (s->j_fd >= 0 ? s->j_fd : s->lock_fd) : -1;
    int rc = seqfile_write_many(s->io, s->streams_dir, v, n, 1, fs_fd, tmps, &synced);
    s->st_syncs += synced;
    for (size_t i = 0; i < n; i++)
        if (v[i].done) {
            sts[i]->hw_seqfile = sts[i]->hw;
            sts[i]->seq_exists = 1;
        }
    return rc;
}

/* UNBORN STREAMS: st's log is empty and no append to it was ever
 * acknowledged. Its log goes at the close; the caller fsyncs streams/. */
static int streams_unborn(const struct stream *st)
{
    return !st->dead && !st->seq_exists && (st->log_exists || st->log_undurable) && st->hw == 0 &&
           st->size_written == 0 && st->pins == 0;
}

static int streams_drop_unborn(sxp_store *s, struct stream *st)
{
    char path[PATH_MAX];
    int rc = streams_path(s, st, ".log", path);
    if (st->fd >= 0)
        streams_close_fd(s, st);
    if (!rc)
        rc = s->io->unlink(s->io, path);
    if (rc == -ENOENT)
        rc = 0;
    if (!rc)
        st->log_exists = st->log_undurable = 0;
    return rc;
}

int streams_flush_seqfiles(sxp_store *s, struct sxp_err *err)
{
    struct stream *chunk[SEQFILE_CHUNK];
    size_t n = 0, total = 0;
    int rc = 0;
    uint64_t mark = store_dir_mark(&s->streams_d);
    struct seqfile_tmps *tmps = seqfile_tmps_new(1); /* ST-5 */

    /* The logs are synced and cut by now: their descriptors go first, so
     * that the temp files below fit under a low RLIMIT_NOFILE. */
    while (s->lru_tail && s->lru_tail->pins == 0)
        streams_close_fd(s, s->lru_tail);
    for (size_t i = 0; i < s->table_size && !rc; i++)
        for (struct stream *st = s->table[i]; st && !rc; st = st->hnext) {
            if (streams_unborn(st)) {
                rc = streams_drop_unborn(s, st);
                total++;
                continue;
            }
            if (st->dead || st->hw <= st->hw_seqfile)
                continue;
            chunk[n++] = st;
            total++;
            if (n == SEQFILE_CHUNK) {
                rc = streams_flush_chunk(s, chunk, n, tmps);
                n = 0;
            }
        }
    if (!rc && n)
        rc = streams_flush_chunk(s, chunk, n, tmps);
    seqfile_tmps_free(s->io, tmps);
    /* One directory fsync makes every rename and unlink above durable. */
    if (!rc && total && s->opt.sync == SXP_SYNC_ALWAYS) {
        rc = store_fsync_dir(s, &s->streams_d, mark);
        s->st_syncs++;
    }
    if (rc)
        return err_set(err, rc, "writing high-water marks in %s: %s", s->streams_dir,
                       strerror(-rc));
    return 0;
}

void streams_free_all(sxp_store *s)
{
    for (size_t i = 0; i < s->table_size; i++) {
        struct stream *st = s->table[i];
        while (st) {
            struct stream *next = st->hnext;
            if (st->fd >= 0)
                (void)s->io->close(s->io, st->fd);
            seq_hints_free(&st->hints);
            free(st);
            st = next;
        }
    }
    free(s->table);
    s->table = NULL;
    s->table_size = 0;
    s->nstreams = 0;
    s->lru_head = s->lru_tail = NULL;
    s->open_fds = 0;
}
