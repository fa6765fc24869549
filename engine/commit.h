/*
 * commit.h -- group commit of appends (the protocol is described at the top
 * of engine/commit.c).
 */
#ifndef SXP_COMMIT_H
#define SXP_COMMIT_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes of one log that are ever written but not yet covered by a
 * completed fdatasync: one group-commit round writes at most this much to a
 * file before syncing it, and a single append-batch is limited to it.
 * Recovery relies on it (recovery/recover.c, rule R-3): damage further than
 * this from the end of a log cannot be a torn write. */
#define COMMIT_MAX_UNSYNCED ((uint64_t)32 << 20)

/* The largest single event line we accept (payload and trailer). */
#define COMMIT_MAX_LINE ((size_t)16 << 20)

/* PRE-ZEROING (commit.c): a log is kept ahead of its lines by zeros once it
 * has taken this many appends in the session. */
#define COMMIT_ZERO_AFTER 64

#endif
