/*
 * logread.h -- reading a log's lines in order, in large chunks, with their
 * byte offsets (the line format is frame.h's).
 */
#ifndef SXP_LOGREAD_H
#define SXP_LOGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "io.h"

struct logread {
    struct sxp_io *io;
    int fd;
    uint64_t end;     /* read up to here */
    uint64_t start;   /* where reading began */
    uint64_t buf_off; /* file offset of buf[0] */
    char *buf;
    size_t cap, len, pos; /* buffer capacity, bytes held, next line */
    uint64_t line_no;     /* 1-based number of the line last returned (counted
                             from start_line) */
};

/* Reads lines of fd from off to end; line numbers start after start_line. */
int logread_open(struct logread *r, struct sxp_io *io, int fd, uint64_t off, uint64_t end,
                 uint64_t start_line);
/* Next line: 1 and *out (payload pointers valid until the next call) with
 * *out_off its file offset; 0 at end; -errno on a read error. A last line
 * with no LF comes back as FRAME_INCOMPLETE. */
int logread_next(struct logread *r, struct frame_line *out, uint64_t *out_off);
void logread_close(struct logread *r);

#endif
