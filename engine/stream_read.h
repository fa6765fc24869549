/*
 * stream_read.h -- line-level helpers of stream_read.c shared with
 * truncate.c.
 */
#ifndef SXP_STREAM_READ_H
#define SXP_STREAM_READ_H

#include <stdint.h>

#include "frame.h"
#include "io.h"
#include "logread.h"
#include "store_int.h"

/* Reads the first line that starts at or after off (off itself when 0):
 * 1 with *out_start and *out_seq; 0 when none starts before end, or the
 * one that does has no LF before end (unfinished: FRAME_INCOMPLETE); -EBADMSG
 * when that line is damaged or has no :seq; -errno on a read error. */
int stream_probe(struct sxp_io *io, int fd, uint64_t off, uint64_t end, uint64_t *out_start,
                 int64_t *out_seq);
/* Searches [0, end) for the first line with seq >= from (SEEKING in
 * stream_read.c): *out_off is a line start at or before it, within a small
 * window (READ_BISECT_WINDOW). hw, the stream's high-water mark, only
 * guides the search. */
int stream_find_seq(struct sxp_io *io, int fd, uint64_t end, int64_t hw, int64_t from,
                    uint64_t *out_off);
/* The number of the line r returned last, counted from the log's first
 * line; 0 (not known) when r began after it, at a seek's offset. */
uint64_t stream_line_no(const struct logread *r);
/* Sets err for a damaged line of st (-EBADMSG) and returns the code.
 * line_no 0: not known (a read that began mid-log, after a seek), and the
 * message names the byte offset only. */
int stream_line_error(const struct stream *st, const struct frame_line *ln, uint64_t line_no,
                      uint64_t off, struct sxp_err *err);

#endif
