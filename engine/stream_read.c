/*
 * stream_read.c -- persist/read, persist/read-range, persist/last-seq and
 * persist/streams.
 *
 * Readers see only acknowledged lines: they read [0, size_durable) of the
 * log (ST-2), through a pinned descriptor, without holding the store lock.
 * Every line's checksum is verified (frame.h) and the trailer stripped; a
 * mismatch is an error naming the stream, the line and the byte offset,
 * never a skipped line. Legacy lines (no trailer) are read unverified.
 *
 * READ-RANGE never reads the whole log: lines are in strictly increasing
 * seq order (INV-1 of recovery/recover.c), so it searches by byte offset,
 * resynchronising on the next LF and reading only that line's :seq
 * (sx_peek_seq), until the window left is small, then scans forward.
 *
 * SEEKING. The search keeps a bracket [lo, hi] of line starts (hi perhaps
 * the end) holding the first line with seq >= from, and the seqs of its
 * ends: from a hint or a probe, and for the log's end an estimate (the
 * high-water mark + 1); a start whose seq is not known is read first (one
 * small read at its offset). It then interpolates: it guesses where `from`
 * falls between the ends by its seq, and probes a quarter window short of
 * the guess after a probe that moved hi, a quarter window past it after
 * one that moved lo, so that on a log of even lines and consecutive seqs
 * two guesses close the window from both sides, whatever the log's size.
 * A guess that lands on hi's line, or two that together did not cut the
 * bracket to a quarter, is a miss, and after SEEK_MISSES_MAX misses the
 * search only halves, so a skewed log costs at most three probes more than
 * halving from the start (its first line and two guesses). The lines
 * probed are remembered (seq_hints.h) and bracket the next search of that
 * log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logread.h"
#include "names.h"
#include "store_int.h"
#include "stream_read.h"
#include "sx.h"

#define READ_BISECT_WINDOW ((uint64_t)64 << 10)
#define READ_PROBE_BYTES 4096
/* Probes of one search that are remembered as hints, at most. */
#define STREAM_PROBES_MAX 64
/* Misses (SEEKING) before a search only halves. */
#define SEEK_MISSES_MAX 1

/* "line N, byte B", or "byte B" when the line's number is not known
 * (line_no 0: a read that began at a seek's offset counts its lines from
 * there, not from the log's start). */
static const char *stream_where(uint64_t line_no, uint64_t off, char *out, size_t size)
{
    if (line_no)
        snprintf(out, size, "line %llu, byte %llu", (unsigned long long)line_no,
                 (unsigned long long)off);
    else
        snprintf(out, size, "byte %llu", (unsigned long long)off);
    return out;
}

uint64_t stream_line_no(const struct logread *r)
{
    return r->start == 0 ? r->line_no : 0;
}

int stream_line_error(const struct stream *st, const struct frame_line *ln, uint64_t line_no,
                      uint64_t off, struct sxp_err *err)
{
    char q[STREAMS_LABEL_MAX], w[64];
    return err_set(err, -EBADMSG, "stream %s: %s at %s; run sxp-fsck", streams_label(st, q),
                   frame_status_name(ln->status), stream_where(line_no, off, w, sizeof(w)));
}

/* An event line that is framed well but is not an event in order. */
static int stream_event_error(const struct stream *st, const char *what, uint64_t line_no,
                              uint64_t off, struct sxp_err *err)
{
    char q[STREAMS_LABEL_MAX], w[64];
    return err_set(err, -EUCLEAN, "stream %s: the event at %s %s; run sxp-fsck",
                   streams_label(st, q), stream_where(line_no, off, w, sizeof(w)), what);
}

/* What is wrong with an event whose :seq (when has_seq) follows *prev: NULL
 * when nothing is, and *prev becomes seq. */
static const char *stream_seq_bad(int has_seq, int64_t seq, int64_t *prev)
{
    if (!has_seq)
        return "has no integer :seq";
    if (seq <= *prev)
        return "is out of seq order";
    *prev = seq;
    return NULL;
}

/* Pins the stream's descriptor for reading. *out_end: bytes acknowledged.
 * Returns 1 when there is a log to read, 0 when there is none. */
static int stream_read_begin(sxp_store *s, const char *name, size_t len, struct stream **out,
                             uint64_t *out_end, struct sxp_err *err)
{
    int rc = layout_check_name("stream", name, len, LAYOUT_STREAM_MAX, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->mu);
    rc = streams_find_existing(s, name, len, out, err);
    if (rc == 0 && *out && (*out)->fenced) {
        char q[ERR_QUOTED_MAX];
        rc = err_set(err, (*out)->fenced,
                     "stream %s refuses reads after its truncate failed (%s) until the store "
                     "is reopened",
                     err_quote((*out)->name, (*out)->name_len, q, sizeof(q)),
                     strerror(-(*out)->fenced));
    }
    if (rc == 0 && *out && (*out)->log_exists && (*out)->size_durable > 0) {
        rc = streams_pin_fd(s, *out, err);
        if (rc == 0) {
            *out_end = (*out)->size_durable;
            rc = 1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void stream_read_end(sxp_store *s, struct stream *st)
{
    pthread_mutex_lock(&s->mu);
    streams_unpin_fd(s, st);
    pthread_mutex_unlock(&s->mu);
}

/* What a scan does with each event it parsed: takes ownership of ev.
 * Nonzero stops the scan and is its result. */
typedef int (*stream_take_fn)(void *ctx, sxp_value *ev, struct sxp_err *err);

/* How a scan hands on events: to take, parsed into sc when sc is not NULL
 * (then take must release each before it returns: sx_value_free_in). */
struct stream_sink {
    stream_take_fn take;
    void *ctx;
    struct sx_scratch *sc;
};

/* Reads lines from off to end, handing events with seq >= from (all when
 * all is set) to the sink, at most limit of them (limit < 0: no limit). */
static int stream_scan(sxp_store *s, struct stream *st, uint64_t off, uint64_t end, int all,
                       int64_t from, int64_t limit, const struct stream_sink *sink,
                       struct sxp_err *err)
{
    struct logread r;
    struct frame_line ln;
    uint64_t at;
    int64_t taken = 0, seq = 0, prev = INT64_MIN;
    char q[ERR_QUOTED_MAX];
    int rc = logread_open(&r, s->io, st->fd, off, end, 0);
    if (rc)
        return err_set(err, rc, "out of memory");
    while ((limit < 0 || taken < limit) && (rc = logread_next(&r, &ln, &at)) == 1) {
        if (ln.status == FRAME_BLANK)
            continue;
        if (ln.status == FRAME_INCOMPLETE)
            break; /* not acknowledged: only a read-only open sees one */
        if (ln.status != FRAME_OK && ln.status != FRAME_LEGACY) {
            rc = stream_line_error(st, &ln, stream_line_no(&r), at, err);
            goto out;
        }
        /* Every line served is an event: a dict with an integer :seq above
         * the one before it (INV-1). A range read peeks at the :seq to skip
         * lines below from unparsed; a whole read takes it from the value. */
        const char *bad;
        int has_seq;
        if (!all) {
            has_seq = sx_peek_seq(ln.payload, ln.payload_len, &seq) == 0;
            if ((bad = stream_seq_bad(has_seq, seq, &prev))) {
                rc = stream_event_error(st, bad, stream_line_no(&r), at, err);
                goto out;
            }
            if (seq < from)
                continue;
        }
        sxp_value *v = NULL;
        rc = sx_parse_in(ln.payload, ln.payload_len, sink->sc, &v, NULL);
        if (rc) {
            rc = stream_event_error(st, "does not parse", stream_line_no(&r), at, err);
            goto out;
        }
        if (all) {
            has_seq = sx_event_seq(v, &seq, NULL) == 0;
            if ((bad = stream_seq_bad(has_seq, seq, &prev))) {
                sx_value_free_in(v, sink->sc);
                rc = stream_event_error(st, bad, stream_line_no(&r), at, err);
                goto out;
            }
        }
        rc = sink->take(sink->ctx, v, err);
        if (rc)
            goto out;
        taken++;
    }
    if (rc < 0)
        err_set(err, rc, "read stream %s: %s", err_quote(st->name, st->name_len, q, sizeof(q)),
                strerror(-rc));
    else
        rc = 0;
out:
    logread_close(&r);
    return rc;
}

/* 1 and the seq of a probed line, or -EBADMSG when it is damaged. */
static int stream_probe_line(const struct frame_line *ln, int64_t *out_seq)
{
    if ((ln->status != FRAME_OK && ln->status != FRAME_LEGACY) ||
        sx_peek_seq(ln->payload, ln->payload_len, out_seq) != 0)
        return -EBADMSG;
    return 1;
}

int stream_probe(struct sxp_io *io, int fd, uint64_t off, uint64_t end, uint64_t *out_start,
                 int64_t *out_seq)
{
    char small[READ_PROBE_BYTES];
    struct logread r;
    struct frame_line ln;
    uint64_t start = off;
    int rc;

    if (off > 0) {
        /* Resynchronise: the line after the first LF at or after off - 1. */
        for (uint64_t at = off - 1;; at += sizeof(small)) {
            if (at >= end)
                return 0;
            size_t want = sizeof(small);
            if (at + want > end)
                want = (size_t)(end - at);
            ssize_t n = io->pread(io, fd, small, want, at);
            if (n <= 0)
                return n < 0 ? (int)n : 0;
            char *lf = memchr(small, '\n', (size_t)n);
            if (lf) {
                start = at + (uint64_t)(lf - small) + 1;
                break;
            }
        }
    }
    /* Most lines fit in one small read; a long one goes through logread,
     * whose buffer grows to hold it. A blank line is stepped over, as the
     * scan steps over it. */
    for (;;) {
        if (start >= end)
            return 0;
        size_t want = sizeof(small);
        if (start + want > end)
            want = (size_t)(end - start);
        ssize_t n = io->pread(io, fd, small, want, start);
        if (n < 0)
            return (int)n;
        if (n == 0 || !memchr(small, '\n', (size_t)n))
            break;
        frame_next(small, (size_t)n, &ln);
        if (ln.status != FRAME_BLANK) {
            *out_start = start;
            return stream_probe_line(&ln, out_seq);
        }
        start += ln.line_len;
    }
    rc = logread_open(&r, io, fd, start, end, 0);
    if (rc)
        return rc;
    while ((rc = logread_next(&r, &ln, &start)) == 1 && ln.status == FRAME_BLANK)
        ;
    if (rc == 1 && ln.status == FRAME_INCOMPLETE) {
        /* No LF before end: a line still being written, a torn tail or a
         * live writer's zeros (commit.c PRE-ZEROING), which only a
         * read-only open sees and the scan stops at. No line starts. */
        rc = 0;
    } else if (rc == 1) {
        *out_start = start;
        rc = stream_probe_line(&ln, out_seq);
    }
    logread_close(&r);
    return rc;
}

/* SEEKING: where to probe in (lo, hi), both ends' seqs known and
 * lo->seq < hi->seq. below: aim short of the guess. */
static uint64_t stream_seek_guess(const struct seq_hint *lo, const struct seq_hint *hi,
                                  int64_t from, int below)
{
    /* The differences are taken exactly, as unsigned: seqs near the ends
     * of int64 are as close in double as 1024 apart, and a quotient of two
     * doubles that round to 0 is not a number. */
    double f = 0;
    if (from > lo->seq) {
        uint64_t num = (uint64_t)from - (uint64_t)lo->seq,
                 den = (uint64_t)hi->seq - (uint64_t)lo->seq;
        f = num >= den ? 1 : (double)num / (double)den; /* beyond an estimated end: 1 */
    }
    uint64_t span = hi->off - lo->off, margin = READ_BISECT_WINDOW / 4;
    uint64_t guess = lo->off + (uint64_t)(f * (double)span);
    uint64_t at = below ? (guess > lo->off + margin ? guess - margin : lo->off + 1)
                        : (guess + margin < hi->off ? guess + margin : hi->off - 1);
    return at > lo->off ? at : lo->off + 1;
}

/* Searches [lo, hi] for the first line with seq >= from, as
 * stream_find_seq (SEEKING); each probed line goes into
 * probes[0..*nprobes) when probes is not NULL (room for STREAM_PROBES_MAX). */
static int stream_seek(struct sxp_io *io, int fd, struct seq_hint lo, struct seq_hint hi,
                       uint64_t end, int64_t from, uint64_t *out_off, struct seq_hint *probes,
                       size_t *nprobes)
{
    int moved_lo = 0, interp_steps = 0, halve = 0, misses = 0;
    uint64_t pair_span = hi.off - lo.off;
    /* Invariant: the first line with seq >= from starts in [lo.off, hi.off];
     * both are line starts (or end). */
    while (hi.off - lo.off > READ_BISECT_WINDOW) {
        int first = lo.seq == SEQ_HINT_UNKNOWN; /* read lo's own line first */
        int interp = !first && !halve && misses < SEEK_MISSES_MAX && hi.seq != SEQ_HINT_UNKNOWN &&
                     lo.seq < hi.seq;
        uint64_t at = first    ? lo.off
                      : interp ? stream_seek_guess(&lo, &hi, from, !moved_lo)
                               : lo.off + (hi.off - lo.off) / 2;
        uint64_t p;
        int64_t seq;
        int rc = stream_probe(io, fd, at, end, &p, &seq);
        if (rc < 0)
            return rc;
        if (rc == 0 || p >= hi.off) {
            if (!interp)
                break; /* one long line spans the rest of the window: scan it */
            halve = 1; /* the guess overshot into hi's line: a miss */
            misses++;
            continue;
        }
        if (probes && *nprobes < STREAM_PROBES_MAX)
            probes[(*nprobes)++] = (struct seq_hint){seq, p};
        if (first) {
            lo.seq = seq;
            if (seq >= from)
                break; /* lo's line is the one */
            continue;
        }
        moved_lo = seq < from;
        if (moved_lo)
            lo = (struct seq_hint){seq, p};
        else
            hi = (struct seq_hint){seq, p};
        if (!interp) {
            halve = 0;
            interp_steps = 0;
            pair_span = hi.off - lo.off;
        } else if (++interp_steps == 2) {
            halve = hi.off - lo.off > pair_span / 4;
            misses += halve;
            interp_steps = 0;
            pair_span = hi.off - lo.off;
        }
    }
    *out_off = lo.off;
    return 0;
}

/* SEEKING: the bracket of a whole log, its end's seq estimated from hw. */
static void stream_seek_whole(uint64_t end, int64_t hw, struct seq_hint *lo, struct seq_hint *hi)
{
    *lo = (struct seq_hint){SEQ_HINT_UNKNOWN, 0};
    *hi = (struct seq_hint){hw < INT64_MAX ? hw + 1 : hw, end};
}

int stream_find_seq(struct sxp_io *io, int fd, uint64_t end, int64_t hw, int64_t from,
                    uint64_t *out_off)
{
    struct seq_hint lo, hi;
    stream_seek_whole(end, hw, &lo, &hi);
    return stream_seek(io, fd, lo, hi, end, from, out_off, NULL, NULL);
}

/* stream_find_seq from the bracket st's hints give, remembering the lines
 * it probed (seq_hints.h). st's descriptor is pinned (SH-3). */
static int stream_find_seq_hinted(sxp_store *s, struct stream *st, uint64_t end, int64_t from,
                                  uint64_t *out_off)
{
    struct seq_hint probes[STREAM_PROBES_MAX];
    size_t nprobes = 0;
    struct seq_hint lo, hi;
    pthread_mutex_lock(&s->mu);
    stream_seek_whole(end, st->hw, &lo, &hi);
    seq_hints_bracket(st->hints, from, &lo, &hi);
    pthread_mutex_unlock(&s->mu);
    int rc = stream_seek(s->io, st->fd, lo, hi, end, from, out_off, probes, &nprobes);
    if (rc == 0 && nprobes) {
        pthread_mutex_lock(&s->mu);
        /* Out of memory only costs the hints. */
        (void)seq_hints_add(&st->hints, probes, nprobes);
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

/* The scans this thread is inside (store_int.h SCANS ON THIS THREAD),
 * innermost first: one mark per scan, on its caller's stack. */
struct stream_scan_mark {
    const struct stream *st;
    struct stream_scan_mark *up;
};
static __thread struct stream_scan_mark *stream_scan_marks;

int stream_scanning(const struct stream *st)
{
    for (const struct stream_scan_mark *m = stream_scan_marks; m; m = m->up)
        if (m->st == st)
            return 1;
    return 0;
}

int stream_scan_deadlock(const struct stream *st, const char *what, struct sxp_err *err)
{
    char q[ERR_QUOTED_MAX];
    return err_set(err, -EDEADLK,
                   "%s of stream %s from inside a scan of it: the scan holds the log until "
                   "its function returns, so that would wait for itself",
                   what, err_quote(st->name, st->name_len, q, sizeof(q)));
}

/* Bisects to from_seq (unless from_seq is INT64_MIN: every event) and
 * scans from there; a stream without a log has no events. The pinned
 * stream is marked for this thread while the scan runs. */
static int stream_read_events(sxp_store *s, const char *stream, size_t stream_len, int64_t from_seq,
                              int64_t limit, const struct stream_sink *sink, struct sxp_err *err)
{
    struct stream *st;
    uint64_t end = 0, off = 0;
    int rc = stream_read_begin(s, stream, stream_len, &st, &end, err);
    if (rc <= 0)
        return rc;
    int all = from_seq == INT64_MIN;
    if (!all) {
        rc = stream_find_seq_hinted(s, st, end, from_seq, &off);
        if (rc) {
            char q[ERR_QUOTED_MAX];
            err_quote(st->name, st->name_len, q, sizeof(q));
            rc = rc == -EBADMSG
                     ? err_set(err, -EBADMSG,
                               "stream %s: damaged line met while seeking seq %lld; run sxp-fsck",
                               q, (long long)from_seq)
                     : err_set(err, rc, "read stream %s: %s", q, strerror(-rc));
            stream_read_end(s, st);
            return rc;
        }
    }
    struct stream_scan_mark mark = {st, stream_scan_marks};
    stream_scan_marks = &mark;
    rc = stream_scan(s, st, off, end, all, from_seq, limit, sink, err);
    stream_scan_marks = mark.up;
    stream_read_end(s, st);
    return rc;
}

static int stream_take_push(void *ctx, sxp_value *ev, struct sxp_err *err)
{
    int rc = sxp_value_list_push(ctx, ev);
    return rc ? err_set(err, rc, "out of memory") : 0;
}

int sxp_stream_read(sxp_store *s, const char *stream, size_t stream_len, sxp_value **out,
                    struct sxp_err *err)
{
    return sxp_stream_read_range(s, stream, stream_len, INT64_MIN, -1, out, err);
}

int sxp_stream_read_range(sxp_store *s, const char *stream, size_t stream_len, int64_t from_seq,
                          int64_t limit, sxp_value **out, struct sxp_err *err)
{
    *out = NULL;
    sxp_value *list = sxp_value_list();
    if (!list)
        return err_set(err, -ENOMEM, "out of memory");
    struct stream_sink sink = {stream_take_push, list, NULL};
    int rc = stream_read_events(s, stream, stream_len, from_seq, limit, &sink, err);
    if (rc) {
        sxp_value_free(list);
        return rc;
    }
    *out = list;
    return 0;
}

struct stream_visit {
    sxp_event_fn fn;
    void *ctx;
    struct sx_scratch sc; /* each event's node, reused */
};

/* Lends ev to the caller's function, then releases it. */
static int stream_take_visit(void *ctx, sxp_value *ev, struct sxp_err *err)
{
    struct stream_visit *v = ctx;
    int rc = v->fn(v->ctx, ev);
    sx_value_free_in(ev, &v->sc);
    if (rc < 0)
        return err_setk(err, rc, "stopped", "the scan's function stopped it: %s", strerror(-rc));
    return rc;
}

int sxp_stream_scan(sxp_store *s, const char *stream, size_t stream_len, int64_t from_seq,
                    int64_t limit, sxp_event_fn fn, void *ctx, struct sxp_err *err)
{
    if (!fn)
        return err_set(err, -EINVAL, "scan of stream without a function to call");
    struct stream_visit v = {fn, ctx, {NULL, 0}};
    struct stream_sink sink = {stream_take_visit, &v, &v.sc};
    err_clear(err);
    int rc = stream_read_events(s, stream, stream_len, from_seq, limit, &sink, err);
    sx_scratch_free(&v.sc);
    return rc;
}

int sxp_stream_last_seq(sxp_store *s, const char *stream, size_t stream_len, int64_t *out,
                        struct sxp_err *err)
{
    struct stream *st;
    int rc = layout_check_name("stream", stream, stream_len, LAYOUT_STREAM_MAX, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->mu);
    rc = streams_find_existing(s, stream, stream_len, &st, err);
    if (!rc)
        *out = st ? st->hw : 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* LISTING. persist/streams lists every stream that ever had an append
 * (SPEC section 2, keyed off .seq): each name with a .seq file, and each
 * name with only a .log whose stream holds an acknowledged event (a stream
 * created this session, whose .seq comes at its first truncate or the
 * close: streams.c CREATION ORDER). An unborn stream is not listed. */
struct stream_listing {
    struct names seqs;
    struct names logs; /* names with a .log, a .seq or not */
    struct names born; /* names with only a .log, listed */
};

static int stream_list_add(void *arg, const char *fname, int is_dir)
{
    struct stream_listing *l = arg;
    char name[LAYOUT_STREAM_MAX];
    size_t len;
    if (is_dir)
        return 0;
    switch (layout_classify_stream_file(fname, name, &len)) {
    case LAYOUT_SEQ:
        return names_add(&l->seqs, name, len);
    case LAYOUT_LOG:
        return names_add(&l->logs, name, len);
    default:
        return 0;
    }
}

int sxp_stream_list(sxp_store *s, sxp_value **out, struct sxp_err *err)
{
    struct stream_listing l;
    memset(&l, 0, sizeof(l));
    *out = NULL;
    int rc = s->io->list_dir(s->io, s->streams_dir, stream_list_add, &l);
    if (rc == -ENOENT)
        rc = 0;
    if (rc) {
        err_set(err, rc, "list %s: %s", s->streams_dir, strerror(-rc));
        goto out;
    }
    rc = names_sort(&l.seqs);
    if (rc) {
        err_set(err, rc, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < l.logs.n && !rc; i++) {
        if (names_has(&l.seqs, l.logs.p[i], l.logs.len[i]))
            continue;
        rc = streams_born(s, l.logs.p[i], l.logs.len[i], err);
        if (rc > 0) {
            rc = names_add(&l.born, l.logs.p[i], l.logs.len[i]);
            if (rc)
                err_set(err, rc, "out of memory");
        }
    }
    for (size_t i = 0; i < l.born.n && !rc; i++) {
        rc = names_add(&l.seqs, l.born.p[i], l.born.len[i]);
        if (rc)
            err_set(err, rc, "out of memory");
    }
    if (!rc)
        rc = names_to_list(&l.seqs, out, err);
out:
    names_free(&l.seqs);
    names_free(&l.logs);
    names_free(&l.born);
    return rc;
}
