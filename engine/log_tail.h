/*
 * log_tail.h -- the last line of a log, read without reading the log.
 *
 * A store closed cleanly (or brought back by recovery) holds only complete
 * lines, and the last line of a log holds its largest seq (frame.h F-1;
 * INV-1 and INV-2 in docs/recovery.md). log_tail reads backwards from the end, a window at a
 * time, to the last line that is not blank, and reports what it found:
 *   LT_EMPTY     no line but blank ones (or an empty log)
 *   LT_OK        a valid or legacy line with an integer :seq (*out_seq)
 *   LT_TORN      the log does not end in LF: bytes of a line never finished
 *   LT_DAMAGED   the last line is bad (checksum, trailer) or has no :seq
 *   LT_LONG      the last line is longer than any sxp writes: not checked
 * *out_off is the offset of the line in question (of the unfinished bytes,
 * for LT_TORN).
 */
#ifndef SXP_LOG_TAIL_H
#define SXP_LOG_TAIL_H

#include <stdint.h>

#include "io.h"

enum log_tail_state { LT_EMPTY, LT_OK, LT_TORN, LT_DAMAGED, LT_LONG };

/* 0 and *out_state, or -errno (a read error, out of memory). */
int log_tail(struct sxp_io *io, int fd, uint64_t size, enum log_tail_state *out_state,
             int64_t *out_seq, uint64_t *out_off);
/* "ends in an unfinished line", "last line is damaged", ... for messages. */
const char *log_tail_state_name(enum log_tail_state st);

#endif
