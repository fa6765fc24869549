/*
 * store.h -- engine-internal view of a store. Tests and the fault-injection
 * harness use store_open_io to run the engine on a backend of their choice.
 */
#ifndef SXP_STORE_H
#define SXP_STORE_H

#include "io.h"
#include "sxp.h"

/* As sxp_store_open, but through io. When own_io is 1 the store destroys io
 * on close (also when the open fails); otherwise the caller keeps it and
 * must outlive the store. o may be NULL. */
SXP_MUST_CHECK int store_open_io(const char *dir, const struct sxp_options *o, struct sxp_io *io,
                                 int own_io, sxp_store **out, struct sxp_err *err);

/* store.c STORE OR NOT: 0 when root is a store or holds nothing yet,
 * -ENOTEMPTY when it holds something else, -ENOENT when it is absent, or
 * another negative errno when it cannot be listed. */
SXP_MUST_CHECK int store_probe(struct sxp_io *io, const char *root);
/* store.c A STORE WITHOUT FORMAT: 1 when root has no FORMAT but a
 * streams/, kv/ or blobs/ (the reference's store, or one whose first open
 * by sxp did not finish), else 0. The open and sxp-fsck then judge it as
 * after a session without syncs (recovery/recover.c R-7). */
int store_legacy(struct sxp_io *io, const char *root);

/* Closes without the clean-shutdown steps, as if the process died here (the
 * LOCK stays unclean, .seq files are not brought up to date). For tests. */
void store_abandon(sxp_store *s);

/* Runs a JOURNAL checkpoint now (journal.c J-5), as one does at 32 MiB of
 * journal or 4,096 logs: for tests. */
SXP_MUST_CHECK int store_checkpoint(sxp_store *s, struct sxp_err *err);

/* Makes commit rounds run a checkpoint once the journal holds nlogs logs
 * (at least 1; JOURNAL_CKPT_LOGS by default), so that tests and the crash
 * harness reach, with a few streams, the checkpoint that 4,096 trigger. */
void store_set_checkpoint_logs(sxp_store *s, size_t nlogs);
/* Makes every round of a syncing store go through JOURNAL (on: 1), as a
 * round of several logs does (commit.c, J-4), so that tests reach, with
 * one writer, journaled lines in a busy log's zeros. */
void store_set_journal_rounds(sxp_store *s, int on);
/* Makes a log busy, for PRE-ZEROING (commit.c) and the dirty list, from n
 * appends this session (at least 1; 0: COMMIT_ZERO_AFTER again), so that
 * the crash harness reaches zeros ahead of its few streams' lines. */
void store_set_zero_after(sxp_store *s, unsigned n);
/* Makes a checkpoint of at least nlogs logs (at least 1; JOURNAL_SYNCFS_LOGS
 * by default; SIZE_MAX: none) sync them with one syncfs (journal.c J-11),
 * so that tests and the crash harness reach it with a few streams. */
void store_set_checkpoint_syncfs(sxp_store *s, size_t nlogs);
/* The same bound for every store this process opens from now on (0:
 * JOURNAL_SYNCFS_LOGS again), set before the open so that its recovery
 * (recover.c R-8) uses it too: for tests and the crash harness. */
void store_set_open_syncfs(size_t nlogs);
/* The bound store_set_open_syncfs set (JOURNAL_SYNCFS_LOGS by default):
 * the crash harness gives it to sxp-fsck -p too (fsck_opts.syncfs_logs). */
size_t store_open_syncfs_bound(void);

/* I/O failures commit rounds took without failing an append, because the
 * appends' lines were durable already (a checkpoint's, a listing's). The
 * errors harness allows an acknowledged op under a fault only when this
 * grew during it. */
uint64_t store_absorbed_failures(sxp_store *s);
/* Streams dead from a failed write that were made alive again this session
 * (revive.c), for tests and the errors harness. */
uint64_t store_revived(sxp_store *s);

#endif
