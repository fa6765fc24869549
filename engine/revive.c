/*
 * revive.c -- REVIVAL: a stream whose log write failed takes writes again.
 *
 * A commit round that fails a log's write (a full disk: ENOSPC, EDQUOT,
 * EFBIG; or EIO, a short write) marks the stream dead (ST-4): its
 * appends fail with that error, because the log may now hold part of the
 * round's lines past the acknowledged ones, and a later round must not
 * write after them. A production store must not need a restart once the
 * operator has made room, so such a stream is revived by the next append
 * to it, or by the close:
 *
 *   RV-1  Only a failed WRITE is revived. After a failed fdatasync of the
 *         log (io.h IO-5) the kernel may have dropped its dirty pages, the
 *         journaled lines before the round's included, and a later sync
 *         would vouch for them; that stream stays dead until the store is
 *         reopened and recovery reads its tail (revive_note_failure sorts
 *         the cases: st->revive). A failed fdatasync of JOURNAL is not one
 *         of the log's: the log's lines of that round were not written, or
 *         written beside the record (C-2) and cut here.
 *   RV-2  CUT. The log is cut back to size_durable, the end of its
 *         acknowledged lines, and fdatasynced: it is then exactly what was
 *         acknowledged (pre-zeroed space included in the cut, as at a clean
 *         close), and that is durable. A failed cut changes nothing and is
 *         tried again later; a failed fdatasync there is IO-5 (RV-1).
 *   RV-3  RECORD. When the round was journaled, its record may be durable
 *         (its fdatasync returned 0; or it failed, or the write did, or a
 *         broken ring left either unknown: the bytes may reach the disk all
 *         the same), and recovery could write the failed lines back at
 *         their offset (J-6), over whatever the revived stream wrote there.
 *         So the stream stays dead until a checkpoint has made that record
 *         void: a new header, of a later generation than the record's (J-3;
 *         st->revive_gen), written and synced anew even when the journal
 *         failed this session. Until then a crash may bring the failed
 *         append back whole, as recovery may with any failed append
 *         (durability.md G-rules); after it, never. A checkpoint that meets
 *         a dead, revivable log cuts it (journal.c), since syncing it is
 *         what the checkpoint needs.
 *   RV-4  ALIVE. A stream is made alive once cut, with no such record
 *         left, and with no append of it queued (they were queued against
 *         the failed seqs and fail with the round's error). Its high-water
 *         mark is what was acknowledged: the failed seqs are free again,
 *         and no reader ever saw them (E-3).
 * The revival runs as the commit leader (commit.c commit_revive), so no
 * round or checkpoint runs meanwhile, once per append that meets the dead
 * stream. A disk still full fails the next write again and the stream
 * dies again: the append gets ENOSPC, and nothing acknowledged is lost.
 */
#include "revive.h"

#include <errno.h>

#include "journal.h"

void revive_note_failure(sxp_store *s, struct stream *st, int rc, int sync_failed, int journaled)
{
    streams_set_dead(s, st, rc);
    st->revive = !sync_failed;
    st->revive_rec = journaled;
    st->revive_gen = s->j_gen;
    st->revive_cut = 0;
}

int revive_cut(sxp_store *s, struct stream *st)
{
    if (!st->dead || !st->revive)
        return st->dead;
    if (st->revive_cut)
        return 0;
    if (st->busy)
        return st->dead;
    int rc = streams_pin_fd(s, st, NULL);
    if (rc)
        return rc;
    int sync = s->opt.sync == SXP_SYNC_ALWAYS, sync_failed;
    uint64_t end = st->size_durable;
    int fd = st->fd;
    st->busy = 1;
    pthread_mutex_unlock(&s->mu);
    rc = io_cut(s->io, fd, end, sync, &sync_failed);
    pthread_mutex_lock(&s->mu);
    st->busy = 0;
    pthread_cond_broadcast(&s->cv);
    streams_unpin_fd(s, st);
    if (sync && (rc == 0 || sync_failed))
        s->st_syncs++;
    if (rc == 0) {
        st->revive_cut = 1;
        st->size_written = st->size_alloc = end;
    } else if (sync_failed) {
        st->revive = 0; /* RV-1: IO-5 */
        st->dead = rc;
    }
    return rc;
}

int revive_ready(sxp_store *s, struct stream *st)
{
    if (!st->dead || !st->revive || !st->revive_cut || st->pending)
        return 0;
    if (st->revive_rec && s->j_gen <= st->revive_gen)
        return 0; /* RV-3: its record may still be valid */
    st->dead = 0;
    s->n_dead--;
    st->revive = st->revive_cut = st->revive_rec = 0;
    st->hw_reserved = st->hw;
    s->st_revived++;
    return 1;
}

/* 1 when a checkpoint cannot succeed this session: a log it must sync is
 * dead for good (IO-5). */
static int revive_checkpoint_blocked(const sxp_store *s)
{
    for (size_t i = 0; i < s->j_ndirty; i++)
        if (s->j_dirty[i]->dead && !s->j_dirty[i]->revive)
            return 1;
    return 0;
}

int revive_stream(sxp_store *s, struct stream *st)
{
    int rc = revive_cut(s, st);
    if (rc)
        return rc;
    if (st->revive_rec && s->j_gen <= st->revive_gen) {
        /* RV-3: only a checkpoint, which writes a new generation's
         * header, makes the record void. That holds even after the
         * journal failed this session (j_dead): the header is written
         * and synced anew. */
        if (revive_checkpoint_blocked(s))
            return st->dead;
        rc = journal_checkpoint(s, NULL);
        if (rc) {
            s->j_dead = rc; /* as commit_checkpoint: not trusted again */
            return rc;
        }
    }
    return revive_ready(s, st) ? 0 : st->dead;
}

void revive_all(sxp_store *s)
{
    for (size_t i = 0; i < s->table_size; i++)
        for (struct stream *st = s->table[i]; st; st = st->hnext)
            if (st->dead && st->revive && revive_cut(s, st) == 0)
                (void)revive_ready(s, st);
}
