/*
 * truncate.c -- persist/truncate: drop the events with seq <= n.
 *
 * ORDER (each step durable before the next):
 *   T-1  the stream is marked busy and waits until no append is queued or
 *        in flight and no reader holds its descriptor; when JOURNAL holds
 *        lines of its log, a checkpoint syncs them and empties it
 *        (journal.c J-7);
 *   T-2  the .seq file is brought up to the stream's hw (temp, fdatasync,
 *        rename, fsync streams/), because the events that prove the hw are
 *        about to be dropped: the high-water mark never goes down;
 *   T-3  the surviving lines (seq > n) are copied, each verified, to a temp
 *        file in streams/, which is fdatasync'ed;
 *   T-4  the temp file is renamed over the log and streams/ fsync'ed.
 * A crash before T-4's rename leaves the old log and a temp file (removed by
 * recovery); after it, the new log. Either is a valid state. The .seq file
 * stays, so a stream emptied by truncate is still listed. When T-4's fsync
 * fails the rename cannot be taken back: the truncate fails and the stream
 * refuses reads and writes until reopen (ST-7 in store_int.h).
 *   T-5  Under SXP_SYNC_NONE nothing is synced but T-3's temp file (and
 *        T-2's, ST-5 in store_int.h): the log it replaces may hold events
 *        an earlier syncing session made durable, and a rename that
 *        reached the disk before the new log's bytes (a filesystem without
 *        ext4's auto_da_alloc) would leave an empty log under their name
 *        after a power loss, losing them silently. One fdatasync per truncate keeps them: after a
 * power loss the log is the old one or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logread.h"
#include "store_int.h"
#include "stream_read.h"
#include "sx.h"

#define TRUNCATE_FLUSH ((size_t)1 << 20)

/* T-3 and T-4: writes the lines of [0, end) with seq > n to a new log.
 * *out_size: the new log's size; *out_replaced: 1 once the new log was
 * renamed over the old one. Called without s->mu. */
static int truncate_rewrite(sxp_store *s, struct stream *st, int fd, uint64_t end, int64_t hw,
                            int64_t n, uint64_t *out_size, int *out_replaced, struct sxp_err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX], q[ERR_QUOTED_MAX];
    struct logread r;
    struct frame_line ln;
    struct buf out = BUF_INIT;
    uint64_t at, start, woff = 0;
    int tfd = -1, rc, renamed = 0;
    int sync = s->opt.sync == SXP_SYNC_ALWAYS;

    *out_replaced = 0;
    /* n >= hw drops every event (and n + 1 would overflow at INT64_MAX). */
    if (n >= hw) {
        start = end;
        rc = 0;
    } else {
        rc = stream_find_seq(s->io, fd, end, hw, n + 1, &start);
    }
    if (rc)
        return err_set(err, rc, "stream %s: damaged line met while truncating; run sxp-fsck",
                       err_quote(st->name, st->name_len, q, sizeof(q)));
    rc = logread_open(&r, s->io, fd, start, end, 0);
    if (rc)
        return err_set(err, rc, "out of memory");
    /* Skip the lines of the window that are still <= n. */
    int keeping = 0;
    if (streams_path(s, st, ".log", path) || layout_tmp_path(s->streams_dir, tmp)) {
        rc = err_set(err, -ENAMETOOLONG, "stream path too long");
        goto cleanup;
    }
    while ((rc = logread_next(&r, &ln, &at)) == 1) {
        int64_t seq;
        if (ln.status == FRAME_BLANK)
            continue;
        if ((ln.status != FRAME_OK && ln.status != FRAME_LEGACY) ||
            sx_peek_seq(ln.payload, ln.payload_len, &seq) != 0) {
            rc = stream_line_error(st, &ln, stream_line_no(&r), at, err);
            goto cleanup;
        }
        if (!keeping) {
            if (seq <= n)
                continue;
            if (at == 0) {
                rc = 0; /* nothing to drop */
                *out_size = end;
                goto cleanup;
            }
            keeping = 1;
            tfd = s->io->open(s->io, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (tfd < 0) {
                rc = err_set(err, tfd, "create %s: %s", tmp, strerror(-tfd));
                tfd = -1;
                goto cleanup;
            }
        }
        if (buf_add(&out, ln.payload, ln.line_len) != 0) {
            rc = err_set(err, -ENOMEM, "out of memory");
            goto cleanup;
        }
        if (out.len >= TRUNCATE_FLUSH) {
            rc = s->io->pwrite(s->io, tfd, out.p, out.len, woff);
            if (rc) {
                err_set(err, rc, "write %s: %s", tmp, strerror(-rc));
                goto cleanup;
            }
            woff += out.len;
            out.len = 0;
        }
    }
    if (rc < 0) {
        err_set(err, rc, "read stream %s: %s", err_quote(st->name, st->name_len, q, sizeof(q)),
                strerror(-rc));
        goto cleanup;
    }
    if (!keeping) {
        /* Every event goes: the new log is empty. */
        tfd = s->io->open(s->io, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (tfd < 0) {
            rc = err_set(err, tfd, "create %s: %s", tmp, strerror(-tfd));
            tfd = -1;
            goto cleanup;
        }
    }
    if (out.len) {
        rc = s->io->pwrite(s->io, tfd, out.p, out.len, woff);
        if (rc) {
            err_set(err, rc, "write %s: %s", tmp, strerror(-rc));
            goto cleanup;
        }
        woff += out.len;
    }
    /* T-3: the new log's bytes are durable before its name replaces the
     * old log, or a power loss could leave the name pointing at nothing.
     * Under SXP_SYNC_NONE too (T-5): the old log may hold events an
     * earlier syncing session made durable. */
    rc = s->io->fdatasync(s->io, tfd);
    if (rc) {
        err_set(err, rc, "fdatasync %s: %s", tmp, strerror(-rc));
        goto cleanup;
    }
    uint64_t mark = store_dir_mark(&s->streams_d);
    rc = s->io->rename(s->io, tmp, path);
    if (rc) {
        err_set(err, rc, "rename %s to %s: %s", tmp, path, strerror(-rc));
        goto cleanup;
    }
    renamed = 1;
    *out_size = woff;
    /* T-4: the rename itself survives a power loss only once streams/ is
     * synced; until then the truncate is not acknowledged. */
    if (sync) {
        rc = store_fsync_dir(s, &s->streams_d, mark); /* fences creations when it fails */
        if (rc) {
            err_set(err, rc, "fsync %s: %s", s->streams_dir, strerror(-rc));
            goto cleanup;
        }
    }
    *out_size = woff;
cleanup:
    logread_close(&r);
    buf_free(&out);
    if (tfd >= 0)
        (void)s->io->close(s->io, tfd);
    if (rc && tfd >= 0 && !renamed) {
        (void)s->io->unlink(s->io, tmp);
        store_note_residue(s); /* K-3: that unlink is not durable */
    }
    *out_replaced = renamed;
    return rc;
}

/* The error of a truncate of a stream that refuses writes (ST-4). */
static int truncate_refused(const struct stream *st, struct sxp_err *err)
{
    char q[ERR_QUOTED_MAX];
    return err_set(err, st->dead, "stream %s refuses writes after an I/O failure (%s)",
                   err_quote(st->name, st->name_len, q, sizeof(q)), strerror(-st->dead));
}

int sxp_stream_truncate(sxp_store *s, const char *stream, size_t stream_len, int64_t n,
                        struct sxp_err *err)
{
    struct stream *st;
    int rc = layout_check_name("stream", stream, stream_len, LAYOUT_STREAM_MAX, err);
    if (!rc)
        rc = store_check_writable(s, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->mu);
    rc = streams_find_existing(s, stream, stream_len, &st, err);
    if (rc || !st)
        goto out;
    if (stream_scanning(st)) {
        rc = stream_scan_deadlock(st, "a truncate", err); /* T-1 would wait for our pin */
        goto out;
    }
    /* commit_revive drops s->mu: another truncate may have set busy
     * meanwhile, so look again after it, as commit_append does. busy has
     * one owner; setting it must follow a look that saw it clear with
     * s->mu held all along. */
    for (int revived = 0;;) {
        rc = streams_wait_idle(s, st, err);
        if (rc)
            goto out;
        if (st->dead && st->revive && !revived) {
            revived = 1;
            commit_revive(s, st); /* revive.c */
            continue;
        }
        break;
    }
    if (st->dead) {
        rc = truncate_refused(st, err);
        goto out;
    }
    st->busy = 1; /* T-1 */
    while (st->pending || st->pins)
        pthread_cond_wait(&s->cv, &s->mu);
    if (st->dead) {
        /* A queued append's round failed while we waited: its record may
         * be in JOURNAL without the stream being noted for the checkpoint,
         * so the log must not be replaced now. */
        rc = truncate_refused(st, err);
        goto idle;
    }
    if (st->jdirty) {
        /* J-7: no journal record may name the log we are about to replace. */
        rc = commit_checkpoint(s, err);
        if (rc)
            goto idle;
    }
    if (st->hw > st->hw_seqfile) {
        rc = streams_write_seqfile(s, st, err); /* T-2 */
        if (rc)
            goto idle;
    }
    if (!st->log_exists || st->size_durable == 0)
        goto idle;
    rc = streams_pin_fd(s, st, err);
    if (rc)
        goto idle;
    uint64_t end = st->size_durable, nsize = end;
    int fd = st->fd, replaced = 0;
    int64_t hw = st->hw;
    pthread_mutex_unlock(&s->mu);
    rc = truncate_rewrite(s, st, fd, end, hw, n, &nsize, &replaced, err);
    pthread_mutex_lock(&s->mu);
    streams_unpin_fd(s, st);
    if (replaced) {
        /* The old descriptor names the old file now, and so do the
         * hints (SH-1). Its zeros go with it: cutting and syncing a file
         * no name points to would be a wasted sync, and its failure would
         * stop the live stream for nothing. */
        st->size_alloc = st->size_durable;
        streams_close_fd(s, st);
        seq_hints_free(&st->hints);
        st->size_durable = st->size_written = st->size_alloc = nsize;
        /* A rename that may not be durable: refuse writes, and reads,
         * until reopen (ST-7). Readers would see the events dropped by a
         * truncate that failed, and a power loss could bring them back. */
        if (rc) {
            streams_set_dead(s, st, rc);
            st->fenced = rc;
        }
    }
idle:
    st->busy = 0;
    pthread_cond_broadcast(&s->cv);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}
