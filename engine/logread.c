/* logread.c -- see logread.h. */
#include "logread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The first read is small, and each later one twice the last, up to
 * LOGREAD_CHUNK: a read-range of 100 events reads a few KiB past its seq,
 * not a MiB, while a whole-log scan soon reads a MiB at a time. */
#define LOGREAD_FIRST ((size_t)64 << 10)
#define LOGREAD_CHUNK ((size_t)1 << 20)

int logread_open(struct logread *r, struct sxp_io *io, int fd, uint64_t off, uint64_t end,
                 uint64_t start_line)
{
    memset(r, 0, sizeof(*r));
    r->io = io;
    r->fd = fd;
    r->end = end;
    r->buf_off = off;
    r->start = off;
    r->line_no = start_line;
    r->cap = LOGREAD_FIRST;
    r->buf = malloc(r->cap);
    return r->buf ? 0 : -ENOMEM;
}

/* Moves the unread bytes to the front and reads more after them. */
static int logread_fill(struct logread *r)
{
    if (r->pos) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->buf_off += r->pos;
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap || (r->cap < LOGREAD_CHUNK && r->buf_off + r->len > r->start)) {
        /* One line longer than the buffer, or a scan past its first read:
         * grow, within reason. */
        if (r->cap >= FRAME_LINE_READ_MAX)
            return -E2BIG;
        size_t ncap = r->cap * 2 < FRAME_LINE_READ_MAX ? r->cap * 2 : FRAME_LINE_READ_MAX;
        char *nb = realloc(r->buf, ncap);
        if (!nb)
            return -ENOMEM;
        r->buf = nb;
        r->cap = ncap;
    }
    uint64_t at = r->buf_off + r->len;
    size_t want = r->cap - r->len;
    if (at + want > r->end)
        want = (size_t)(r->end - at);
    if (want == 0)
        return 0;
    ssize_t n = r->io->pread(r->io, r->fd, r->buf + r->len, want, at);
    if (n < 0)
        return (int)n;
    if (n == 0)
        r->end = at; /* the file is shorter than we were told */
    r->len += (size_t)n;
    return 1;
}

int logread_next(struct logread *r, struct frame_line *out, uint64_t *out_off)
{
    const char *lf;
    for (;;) {
        lf = r->pos < r->len ? memchr(r->buf + r->pos, '\n', r->len - r->pos) : NULL;
        if (lf)
            break;
        if (r->buf_off + r->len >= r->end) {
            if (r->pos >= r->len)
                return 0;
            break; /* an incomplete last line */
        }
        int rc = logread_fill(r);
        if (rc < 0)
            return rc;
    }
    if (lf)
        frame_line_at(r->buf + r->pos, (size_t)(lf - (r->buf + r->pos)), out);
    else
        frame_next(r->buf + r->pos, r->len - r->pos, out);
    *out_off = r->buf_off + r->pos;
    r->pos += out->line_len;
    r->line_no++;
    return 1;
}

void logread_close(struct logread *r)
{
    free(r->buf);
    r->buf = NULL;
}
