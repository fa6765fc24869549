/*
 * append.c -- persist/append and persist/append-batch: check, frame, and
 * hand the lines to group commit (commit.c).
 *
 * The checks come before anything is queued, so a rejected append writes
 * nothing. They run in this order, those about the arguments first:
 *
 *   AP-1  the stream name is 1..LAYOUT_STREAM_MAX bytes (layout.c);
 *   AP-2  each event is a dict with an integer :seq, and the seqs of a batch
 *         strictly increase (append_check_seqs);
 *   AP-3  each line is within COMMIT_MAX_LINE and nests no deeper than a
 *         read's reply can hold, and a batch is within COMMIT_MAX_UNSYNCED
 *         (append_frame);
 *   AP-4  the store is writable;
 *   AP-5  each seq is above the high-water mark: checked under the store
 *         lock in commit_append, so two racing appends cannot both take the
 *         same seq.
 *
 * AP-1..AP-3 judge the arguments alone and need no store, so a wrong
 * append gets their error on a read-only store too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "err.h"
#include "frame.h"
#include "store_int.h"
#include "sx.h"

/* Puts "batch event N: " before err's message, N counting from 1 as
 * `sxp append S -` counts its stdin lines; returns rc. */
static int append_batch_error(struct sxp_err *err, int rc, size_t i)
{
    char msg[sizeof(err->msg)];
    if (err) {
        memcpy(msg, err->msg, sizeof(msg));
        err_setk(err, rc, err->kind, "batch event %zu: %.480s", i + 1, msg);
    }
    return rc;
}

int append_check_seqs(const sxp_value *const *events, size_t n, int batch, int64_t *out_first,
                      int64_t *out_last, struct sxp_err *err)
{
    int64_t seq = 0, prev = 0;
    *out_first = 0;
    *out_last = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = sx_event_seq(events[i], &seq, err);
        if (rc)
            return batch ? append_batch_error(err, rc, i) : rc;
        if (i == 0)
            *out_first = seq;
        else if (seq <= prev)
            return err_set(err, -ERANGE, "batch event %zu: seq %lld does not increase (after %lld)",
                           i + 1, (long long)seq, (long long)prev);
        prev = seq;
    }
    *out_last = prev;
    return 0;
}

/* Serializes and frames one event onto out. */
static int append_frame_event(const sxp_value *ev, struct buf *out, struct sxp_err *err)
{
    size_t start = out->len;
    /* A served read answers (ok (list ev ...)), and a batch comes as
     * (persist/append-batch "s" (list ev ...)): the event must fit inside
     * both levels, or it would be stored and then refused by every client
     * that parses the answer. */
    int rc = sx_serialize_nested(ev, 2, "event", "a served read's (ok (list ...)) takes the last 2",
                                 out, err);
    if (rc)
        return rc;
    size_t plen = out->len - start;
    if (plen + FRAME_TRAILER_LEN > COMMIT_MAX_LINE)
        return err_setk(err, -E2BIG, "limit", "event of %zu bytes is over the limit of %zu", plen,
                        COMMIT_MAX_LINE - FRAME_TRAILER_LEN);
    rc = buf_reserve(out, FRAME_TRAILER_LEN);
    if (rc)
        return err_set(err, rc, "out of memory");
    frame_trailer(out->p + start, plen, out->p + out->len);
    out->len += FRAME_TRAILER_LEN;
    return 0;
}

int append_frame(const sxp_value *const *events, size_t n, int batch, struct buf *out,
                 struct sxp_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = append_frame_event(events[i], out, err);
        if (rc)
            return batch ? append_batch_error(err, rc, i) : rc;
        if (i == 0) {
            /* Room for n events the size of the first, so that a batch of
             * large events is not copied over and over as the buffer
             * doubles; a wrong guess only costs the doubling again. */
            size_t guess = out->len <= COMMIT_MAX_UNSYNCED / n ? out->len * n : COMMIT_MAX_UNSYNCED;
            rc = buf_reserve(out, guess - out->len);
            if (rc)
                return err_set(err, rc, "out of memory");
        }
        if (out->len > COMMIT_MAX_UNSYNCED)
            return err_set(err, -E2BIG, "batch is over the limit of %llu bytes",
                           (unsigned long long)COMMIT_MAX_UNSYNCED);
    }
    return 0;
}

int sxp_stream_append(sxp_store *s, const char *stream, size_t stream_len, const sxp_value *event,
                      struct sxp_err *err)
{
    struct buf b = BUF_INIT;
    int64_t seq;
    int rc = layout_check_name("stream", stream, stream_len, LAYOUT_STREAM_MAX, err);
    if (!rc)
        rc = append_check_seqs(&event, 1, 0, &seq, &seq, err);
    if (!rc)
        rc = append_frame(&event, 1, 0, &b, err);
    if (!rc)
        rc = store_check_writable(s, err);
    if (!rc)
        rc = commit_append(s, stream, stream_len, seq, seq, 1, b.p, b.len, err);
    buf_free(&b);
    return rc;
}

int sxp_stream_append_batch(sxp_store *s, const char *stream, size_t stream_len,
                            const sxp_value *const *events, size_t n, struct sxp_err *err)
{
    struct buf b = BUF_INIT;
    int64_t first, last;
    int rc = layout_check_name("stream", stream, stream_len, LAYOUT_STREAM_MAX, err);
    if (!rc)
        rc = append_check_seqs(events, n, 1, &first, &last, err);
    if (!rc)
        rc = append_frame(events, n, 1, &b, err);
    if (!rc)
        rc = store_check_writable(s, err);
    if (!rc && n > 0)
        rc = commit_append(s, stream, stream_len, first, last, n, b.p, b.len, err);
    buf_free(&b);
    return rc;
}
