/*
 * logscan.c -- the line reader, the line judge and the tail machine of
 * logscan.h. The rule they implement is at the top of recover.c.
 *
 * The reader keeps one buffer: preads of a chunk (1 MiB) are appended after
 * the bytes of the line not yet finished, and lines are returned as
 * pointers into it. A line that does not fit grows the buffer, up to
 * LOGSCAN_LINE_MAX; a longer one is streamed through to its LF without
 * being kept, noting only whether it holds a NUL.
 */
#include "logscan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "sxcheck.h"

#define LOGSCAN_BACK_CHUNK ((size_t)64 << 10)

int logscan_reader_open(struct logscan_reader *r, struct sxp_io *io, int fd, uint64_t off,
                        uint64_t end, uint64_t first_no, size_t chunk)
{
    memset(r, 0, sizeof(*r));
    r->io = io;
    r->fd = fd;
    r->buf_off = off;
    r->end = end;
    r->line_no = first_no ? first_no - 1 : 0;
    r->cap = chunk ? chunk : LOGSCAN_CHUNK;
    r->buf = malloc(r->cap);
    return r->buf ? 0 : -ENOMEM;
}

void logscan_reader_close(struct logscan_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    r->buf = NULL;
}

/* Reads up to cap - len more bytes after the buffered ones. Returns the
 * count (0 at the end), or -errno. */
static ssize_t logscan_fill(struct logscan_reader *r)
{
    uint64_t at = r->buf_off + r->len;
    if (at >= r->end)
        return 0;
    size_t want = r->cap - r->len;
    if (want > r->end - at)
        want = (size_t)(r->end - at);
    ssize_t n = r->io->pread(r->io, r->fd, r->buf + r->len, want, at);
    if (n < 0)
        return n;
    if (n == 0)
        r->end = at; /* the file is shorter than we were told */
    r->len += (size_t)n;
    if (r->progress && n > 0)
        __atomic_fetch_add(r->progress, (uint64_t)n, __ATOMIC_RELAXED);
    return n;
}

/* Moves the unreturned bytes to the front of the buffer. */
static void logscan_compact(struct logscan_reader *r)
{
    if (r->pos == 0)
        return;
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->buf_off += r->pos;
    r->len -= r->pos;
    r->scanned -= r->pos;
    r->pos = 0;
}

/* The buffer holds LOGSCAN_LINE_MAX bytes of one line and no LF: streams
 * through the rest of it. On return the buffer holds whatever follows the
 * line's LF. */
static int logscan_overlong(struct logscan_reader *r, struct logscan_line *out)
{
    uint64_t start = r->buf_off;
    int has_nul = memchr(r->buf, '\0', r->len) != NULL;
    for (;;) {
        /* Drop what was looked at and read the next chunk in its place. */
        r->buf_off += r->len;
        r->len = r->pos = r->scanned = 0;
        ssize_t n = logscan_fill(r);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            out->fl.status = FRAME_INCOMPLETE;
            break;
        }
        const char *lf = memchr(r->buf, '\n', r->len);
        size_t upto = lf ? (size_t)(lf - r->buf) : r->len;
        if (!has_nul && memchr(r->buf, '\0', upto) != NULL)
            has_nul = 1;
        if (lf) {
            r->pos = upto + 1;
            r->scanned = r->pos;
            out->fl.status = FRAME_BAD_FORMAT;
            break;
        }
    }
    out->off = start;
    out->len = r->buf_off + r->pos - start;
    out->bytes = NULL;
    out->fl.payload = NULL;
    out->fl.payload_len = 0;
    out->fl.line_len = (size_t)out->len;
    out->overlong = 1;
    out->has_nul = has_nul;
    out->no = ++r->line_no;
    return 1;
}

int logscan_reader_next(struct logscan_reader *r, struct logscan_line *out)
{
    for (;;) {
        if (r->scanned < r->pos)
            r->scanned = r->pos;
        if (r->scanned < r->len) {
            const char *lf = memchr(r->buf + r->scanned, '\n', r->len - r->scanned);
            if (lf) {
                size_t n = (size_t)(lf - (r->buf + r->pos)) + 1;
                memset(out, 0, sizeof(*out));
                out->off = r->buf_off + r->pos;
                out->len = n;
                out->bytes = r->buf + r->pos;
                frame_next(out->bytes, n, &out->fl);
                out->no = ++r->line_no;
                r->pos += n;
                r->scanned = r->pos;
                return 1;
            }
            r->scanned = r->len;
        }
        if (r->buf_off + r->len >= r->end) {
            if (r->pos >= r->len)
                return 0;
            /* The last bytes of the file, with no LF. */
            size_t n = r->len - r->pos;
            memset(out, 0, sizeof(*out));
            out->off = r->buf_off + r->pos;
            out->len = n;
            out->bytes = r->buf + r->pos;
            frame_next(out->bytes, n, &out->fl);
            out->no = ++r->line_no;
            r->pos = r->len;
            return 1;
        }
        logscan_compact(r);
        if (r->len == r->cap) {
            if (r->cap >= LOGSCAN_LINE_MAX)
                return logscan_overlong(r, out);
            size_t ncap = r->cap * 2 < LOGSCAN_LINE_MAX ? r->cap * 2 : LOGSCAN_LINE_MAX;
            char *nb = realloc(r->buf, ncap);
            if (!nb)
                return -ENOMEM;
            r->buf = nb;
            r->cap = ncap;
        }
        ssize_t got = logscan_fill(r);
        if (got < 0)
            return (int)got;
    }
}

void logscan_classify(const struct logscan_line *l, int have_prev, int64_t prev_seq,
                      struct logscan_class *out)
{
    memset(out, 0, sizeof(*out));
    if (l->overlong) {
        out->v = l->fl.status == FRAME_INCOMPLETE ? LS_INCOMPLETE : LS_OVERLONG;
        out->residue = out->v == LS_INCOMPLETE || l->has_nul;
        return;
    }
    switch (l->fl.status) {
    case FRAME_INCOMPLETE:
        out->v = LS_INCOMPLETE;
        out->residue = 1;
        return;
    case FRAME_BAD_SUM:
        out->v = LS_BAD_SUM;
        break;
    case FRAME_BAD_FORMAT:
        out->v = LS_BAD_TRAILER;
        break;
    case FRAME_BLANK:
        out->v = LS_BLANK;
        break;
    case FRAME_OK:
    case FRAME_LEGACY: {
        out->legacy = l->fl.status == FRAME_LEGACY;
        int64_t seq = 0;
        switch (sxcheck_event(l->fl.payload, l->fl.payload_len, &seq)) {
        case SXCHECK_EVENT:
            out->has_seq = 1;
            out->seq = seq;
            out->v = have_prev && seq <= prev_seq ? LS_SEQ_ORDER : LS_GOOD;
            break;
        case SXCHECK_NOT_EVENT:
            out->v = LS_NO_SEQ;
            break;
        case SXCHECK_UNPARSABLE:
            out->v = LS_UNPARSABLE;
            break;
        case SXCHECK_NOMEM:
            out->v = LS_NOMEM;
            return;
        }
        break;
    }
    }
    /* A NUL byte is what a lost page leaves (R-3b), but not under a
     * checksum that matches: NUL bytes are legal in strings, and a crash
     * cannot make a sum match. A line that frames but parses to no event,
     * or repeats a seq, is corruption whatever it holds. A line without a
     * trailer may be a framed one whose trailer a lost page took. */
    if (out->v != LS_GOOD && l->fl.status != FRAME_OK)
        out->residue = memchr(l->bytes, '\0', (size_t)l->len) != NULL;
}

const char *logscan_verdict_name(enum logscan_verdict v)
{
    switch (v) {
    case LS_GOOD:
        return "good line";
    case LS_INCOMPLETE:
        return "incomplete last line";
    case LS_BAD_SUM:
        return "checksum mismatch";
    case LS_BAD_TRAILER:
        return "bad trailer";
    case LS_OVERLONG:
        return "line too long";
    case LS_BLANK:
        return "blank line";
    case LS_UNPARSABLE:
        return "unparsable event";
    case LS_NO_SEQ:
        return "event without an integer :seq";
    case LS_SEQ_ORDER:
        return "seq not above the previous line's";
    case LS_NOMEM:
        return "out of memory judging a line";
    }
    return "bad line";
}

void logscan_tail_init(struct logscan_tail *t, uint64_t size, int have_prev, int64_t prev_seq)
{
    memset(t, 0, sizeof(*t));
    t->window = size > COMMIT_MAX_UNSYNCED ? size - COMMIT_MAX_UNSYNCED : 0;
    t->have_prev = have_prev;
    t->prev_seq = prev_seq;
    t->above_off = UINT64_MAX;
}

void logscan_tail_set_hw(struct logscan_tail *t, int64_t hw)
{
    t->have_hw = 1;
    t->hw = hw;
}

void logscan_tail_set_clean(struct logscan_tail *t)
{
    t->clean = 1;
}

enum logscan_tail_action logscan_tail_feed(struct logscan_tail *t, const struct logscan_line *l,
                                           struct logscan_class *out)
{
    logscan_classify(l, t->have_prev, t->prev_seq, out);
    t->last_end = l->off + l->len;
    if (out->v == LS_GOOD) {
        t->have_prev = 1;
        t->prev_seq = out->seq;
        if (t->above_off == UINT64_MAX && (!t->have_hw || out->seq > t->hw))
            t->above_off = l->off;
        if (t->state == LT_CANDIDATE && t->have_hw && out->seq <= t->hw) {
            t->state = LT_SETTLED; /* R-3c */
            return LTA_DURABLE;
        }
        if (t->state == LT_CANDIDATE)
            t->x_good++;
        return LTA_GOOD;
    }
    int in_window = !t->clean && l->off + l->len > t->window;
    switch (t->state) {
    case LT_NORMAL:
        if (!in_window)
            return LTA_BAD;
        if (out->residue) {
            t->state = LT_CANDIDATE;
            t->x_off = l->off;
            t->x_no = l->no;
            t->x_have_prev = t->have_prev;
            t->x_prev_seq = t->prev_seq;
            return LTA_PENDING;
        }
        t->state = LT_SETTLED;
        return LTA_BAD;
    case LT_CANDIDATE:
        if (out->residue)
            return LTA_PENDING;
        t->state = LT_SETTLED;
        return LTA_FAILED;
    case LT_SETTLED:
        break;
    }
    /* R-3b: an incomplete last line is never acknowledged data. */
    if (out->v == LS_INCOMPLETE && !t->clean) {
        t->cut_last = 1;
        t->x_off = l->off;
        t->x_no = l->no;
        t->x_have_prev = t->have_prev;
        t->x_prev_seq = t->prev_seq;
        return LTA_PENDING;
    }
    return LTA_BAD;
}

int logscan_tail_close(struct logscan_tail *t, struct logscan_bad_range *out)
{
    if (t->state != LT_CANDIDATE || !t->have_hw || !t->x_have_prev || t->hw <= t->x_prev_seq)
        return 0;
    out->from = t->x_off;
    out->to = t->last_end;
    out->no = t->x_no;
    out->have_prev = t->x_have_prev;
    out->prev_seq = t->x_prev_seq;
    t->state = LT_SETTLED;
    return 1;
}

int logscan_tail_end(const struct logscan_tail *t, int *out_have_max, int64_t *out_max)
{
    if (t->state == LT_CANDIDATE || t->cut_last) {
        *out_have_max = t->x_have_prev;
        *out_max = t->x_prev_seq;
        return 1;
    }
    *out_have_max = t->have_prev;
    *out_max = t->prev_seq;
    return 0;
}

int logscan_line_start(struct sxp_io *io, int fd, uint64_t pos, uint64_t *out)
{
    char *buf = NULL;
    int rc = 0;
    *out = 0;
    if (pos == 0)
        return 0;
    buf = malloc(LOGSCAN_BACK_CHUNK);
    if (!buf)
        return -ENOMEM;
    while (pos > 0) {
        uint64_t from = pos > LOGSCAN_BACK_CHUNK ? pos - LOGSCAN_BACK_CHUNK : 0;
        size_t want = (size_t)(pos - from);
        ssize_t n = io->pread(io, fd, buf, want, from);
        if (n < 0) {
            rc = (int)n;
            goto out;
        }
        if ((size_t)n != want) {
            rc = -EIO; /* the file shrank under us */
            goto out;
        }
        const char *lf = memrchr(buf, '\n', want);
        if (lf) {
            *out = from + (uint64_t)(lf - buf) + 1;
            goto out;
        }
        pos = from;
    }
out:
    free(buf);
    return rc;
}

int logscan_count_lines(struct sxp_io *io, int fd, uint64_t end, uint64_t *out)
{
    char *buf = malloc(LOGSCAN_CHUNK);
    uint64_t n = 0, off = 0;
    int rc = 0;
    if (!buf)
        return -ENOMEM;
    while (off < end) {
        size_t want = end - off < LOGSCAN_CHUNK ? (size_t)(end - off) : LOGSCAN_CHUNK;
        ssize_t got = io->pread(io, fd, buf, want, off);
        if (got < 0) {
            rc = (int)got;
            break;
        }
        if (got == 0)
            break;
        for (const char *p = buf, *e = buf + got; (p = memchr(p, '\n', (size_t)(e - p))); p++)
            n++;
        off += (uint64_t)got;
    }
    free(buf);
    *out = n;
    return rc;
}
