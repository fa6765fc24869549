/*
 * revive.h -- a stream whose log write failed takes writes again (the
 * rules are at the top of engine/revive.c).
 */
#ifndef SXP_REVIVE_H
#define SXP_REVIVE_H

#include "store_int.h"

/* RV-1: records why a commit round failed st's lines and marks the stream
 * dead with rc: sync_failed when an fdatasync of the log failed (IO-5:
 * never revived); journaled when the round wrote a JOURNAL record of them,
 * which is, or may become, durable whatever its write or sync returned
 * (RV-3). s->mu held. */
void revive_note_failure(sxp_store *s, struct stream *st, int rc, int sync_failed, int journaled);

/* RV-2: cuts a dead, revivable log back to its acknowledged lines and syncs
 * that. 0 when the log is cut (st->revive_cut), -errno otherwise; a failed
 * fdatasync makes the stream unrevivable (IO-5). Does not make it alive
 * (revive_ready). s->mu held; dropped for the I/O, st marked busy. */
int revive_cut(sxp_store *s, struct stream *st);

/* RV-4: makes st alive when it is dead, cut back, no valid JOURNAL record
 * holds its failed lines, and no append of it is queued. Returns 1 when it
 * did. s->mu held. */
int revive_ready(sxp_store *s, struct stream *st);

/* What a caller that meets a dead stream does, as the commit leader
 * (commit.c commit_revive): cuts, checkpoints the journal if a record
 * holds the failed lines (RV-3), and makes the stream alive. 0 when it is
 * alive. s->mu held and dropped for the I/O; s->leader ours throughout. */
int revive_stream(sxp_store *s, struct stream *st);

/* The close's pass (store.c): every dead, revivable stream is cut and,
 * when nothing more is needed, made alive. s->mu held, no round running. */
void revive_all(sxp_store *s);

#endif
