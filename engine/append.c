/*
 * append.c -- persist/append and persist/append-batch: validate, frame, and
 * hand the lines to group commit (commit.c).
 *
 * Validation happens before anything is queued, so a rejected append writes
 * nothing: the stream name (layout.c), each event being a dict with an
 * integer :seq, the seqs of a batch strictly increasing, and each line and
 * the whole request within the size limits of commit.h. The check against
 * the high-water mark is made under the store lock in commit_append, so two
 * racing appends cannot both take the same seq.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "err.h"
#include "frame.h"
#include "store_int.h"
#include "sx.h"

/* Serializes and frames one event onto out; *out_seq gets its :seq. */
static int append_frame_event(const sxp_value *ev, struct buf *out, int64_t *out_seq,
                              struct sxp_err *err)
{
    int rc = sx_event_seq(ev, out_seq, err);
    if (rc)
        return rc;
    size_t start = out->len;
    /* A read answers (list ev ...): the event must fit inside that list,
     * or it would be stored and then refused by every read. */
    rc = sx_serialize_nested(ev, 1, out, err);
    if (rc == -E2BIG)
        return err_setk(err, rc, "limit",
                        "event nests deeper than %d levels of ( and { (a symbol's (quote ...) "
                        "counts; a read's reply list takes the last of %d)",
                        SX_MAX_DEPTH - 1, SX_MAX_DEPTH);
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

static int append_check(sxp_store *s, const char *stream, size_t len, struct sxp_err *err)
{
    int rc = store_check_writable(s, err);
    if (rc)
        return rc;
    return layout_check_name("stream", stream, len, LAYOUT_STREAM_MAX, err);
}

int sxp_stream_append(sxp_store *s, const char *stream, size_t stream_len, const sxp_value *event,
                      struct sxp_err *err)
{
    struct buf b = BUF_INIT;
    int64_t seq;
    int rc = append_check(s, stream, stream_len, err);
    if (rc)
        return rc;
    rc = append_frame_event(event, &b, &seq, err);
    if (!rc)
        rc = commit_append(s, stream, stream_len, seq, seq, 1, b.p, b.len, err);
    buf_free(&b);
    return rc;
}

int sxp_stream_append_batch(sxp_store *s, const char *stream, size_t stream_len,
                            const sxp_value *const *events, size_t n, struct sxp_err *err)
{
    struct buf b = BUF_INIT;
    int64_t first = 0, prev = 0, seq;
    int rc = append_check(s, stream, stream_len, err);
    if (rc)
        return rc;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        rc = append_frame_event(events[i], &b, &seq, err);
        if (rc) {
            char msg[sizeof(err->msg)];
            if (err) {
                memcpy(msg, err->msg, sizeof(msg));
                err_setk(err, rc, err->kind, "batch event %zu: %.480s", i, msg);
            }
            goto out;
        }
        if (i == 0) {
            first = seq;
            /* Room for n events the size of the first, so that a batch of
             * large events is not copied over and over as the buffer
             * doubles; a wrong guess only costs the doubling again. */
            size_t guess = b.len <= COMMIT_MAX_UNSYNCED / n ? b.len * n : COMMIT_MAX_UNSYNCED;
            rc = buf_reserve(&b, guess - b.len);
            if (rc) {
                rc = err_set(err, rc, "out of memory");
                goto out;
            }
        } else if (seq <= prev) {
            rc = err_set(err, -ERANGE, "batch event %zu: seq %lld does not increase (after %lld)",
                         i, (long long)seq, (long long)prev);
            goto out;
        }
        prev = seq;
        if (b.len > COMMIT_MAX_UNSYNCED) {
            rc = err_set(err, -E2BIG, "batch is over the limit of %llu bytes",
                         (unsigned long long)COMMIT_MAX_UNSYNCED);
            goto out;
        }
    }
    rc = commit_append(s, stream, stream_len, first, prev, n, b.p, b.len, err);
out:
    buf_free(&b);
    return rc;
}
