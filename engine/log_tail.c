/*
 * log_tail.c -- the last line of a log, read backwards from its end
 * (log_tail.h). A store's first use of a log reads it so that a clean open
 * does not trust a tail it never wrote (store_int.h ST-8, streams.c).
 *
 * The window starts at LOG_TAIL_WINDOW bytes and doubles while the line it
 * looks at starts before it, up to LOG_TAIL_MAX: a longer line than that
 * is LT_LONG and left unchecked (sxp writes none; a legacy log might).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "frame.h"
#include "log_tail.h"
#include "sx.h"

#define LOG_TAIL_WINDOW ((size_t)4096)
#define LOG_TAIL_MAX (2 * COMMIT_MAX_LINE)

const char *log_tail_state_name(enum log_tail_state st)
{
    switch (st) {
    case LT_EMPTY:
        return "holds no line";
    case LT_OK:
        return "ends in a valid line";
    case LT_TORN:
        return "ends in an unfinished line (no LF)";
    case LT_DAMAGED:
        return "ends in a damaged line (bad checksum or trailer, or no integer :seq)";
    case LT_LONG:
        return "ends in a line too long to check";
    }
    return "?";
}

/* Reads [end - want, end) (from 0 if want > end) into *buf. */
static int log_tail_fill(struct sxp_io *io, int fd, uint64_t end, size_t want, char **buf,
                         size_t *cap, uint64_t *lo)
{
    if (want > end)
        want = (size_t)end;
    if (want > *cap) {
        char *p = realloc(*buf, want);
        if (!p)
            return -ENOMEM;
        *buf = p;
        *cap = want;
    }
    *lo = end - want;
    for (size_t got = 0; got < want;) {
        ssize_t n = io->pread(io, fd, *buf + got, want - got, *lo + got);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO; /* shorter than its size: changed under us */
        got += (size_t)n;
    }
    return 0;
}

int log_tail(struct sxp_io *io, int fd, uint64_t size, enum log_tail_state *out_state,
             int64_t *out_seq, uint64_t *out_off)
{
    char *buf = NULL;
    size_t cap = 0, win = LOG_TAIL_WINDOW;
    uint64_t lo = 0, end = size; /* looking at the line that ends at end */
    int rc = 0;

    *out_state = LT_EMPTY;
    *out_seq = 0;
    *out_off = 0;
    if (size == 0)
        return 0;
    if ((rc = log_tail_fill(io, fd, end, win, &buf, &cap, &lo)))
        goto out;
    int torn = buf[end - 1 - lo] != '\n';
    for (;;) {
        /* The line's LF (if any) is at end - 1; its start follows the LF
         * before that, or is 0. */
        size_t in = (size_t)(end - lo) - (torn ? 0 : 1);
        const char *lf = memrchr(buf, '\n', in);
        if (!lf && lo > 0) {
            if (win >= LOG_TAIL_MAX) {
                *out_state = LT_LONG;
                *out_off = lo;
                goto out;
            }
            win *= 2;
            if ((rc = log_tail_fill(io, fd, end, win, &buf, &cap, &lo)))
                goto out;
            continue;
        }
        uint64_t start = lf ? lo + (uint64_t)(lf - buf) + 1 : 0;
        *out_off = start;
        if (torn) {
            *out_state = LT_TORN;
            goto out;
        }
        struct frame_line ln;
        frame_line_at(buf + (start - lo), (size_t)(end - 1 - start), &ln);
        if (ln.status == FRAME_BLANK) {
            if (start == 0)
                goto out; /* LT_EMPTY */
            end = start;
            continue;
        }
        if ((ln.status == FRAME_OK || ln.status == FRAME_LEGACY) &&
            sx_peek_seq(ln.payload, ln.payload_len, out_seq) == 0)
            *out_state = LT_OK;
        else
            *out_state = LT_DAMAGED;
        goto out;
    }
out:
    free(buf);
    return rc;
}
