/*
 * crash_verify.c -- holds a recovered store to the guarantees G-1..G-7 of
 * crash.h, given the state verified before the run (the baseline) and the
 * history of what the run submitted and what was acknowledged.
 *
 * ORDER. Reports are numbered by arrival (crash_hist.c). Op X "completed
 * before" op P began when X's DONE arrived before P's INTENT. Baseline
 * items completed at time 0, before everything. An op whose DONE never
 * came (the kill cut it off), or that failed, may or may not have taken
 * effect, and may have taken effect at any moment after its INTENT.
 *
 * What each check allows follows from that and nothing else:
 *   - an acknowledged event may be missing only if a truncate with n >= its
 *     seq was submitted and did not complete before the event's INTENT;
 *   - a present event at or below an acknowledged truncate's n must not
 *     have completed before the truncate began;
 *   - a key may show the result of any put or delete (or the baseline) that
 *     no acknowledged op of the key began after it completed;
 *   - an unpromised op (crash.h THE UNPROMISED) counts as one that failed,
 *     and a read of what it wrote may fail; a read that succeeds is held
 *     to the rest.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"

#define CV_NEVER UINT64_MAX

/* One event the verifier may find in a stream. */
struct cv_cand {
    int64_t seq;
    const char *text;
    size_t len;
    uint64_t intent_at; /* 0 for the baseline */
    uint64_t done_at;   /* 0 for the baseline; CV_NEVER if no answer came */
    int acked;
    const struct crash_op *op; /* NULL for the baseline */
    size_t index;              /* index in its batch */
    int present;
};

struct cv_ctx {
    struct crash_verdict *v;
    FILE *out;
    unsigned limit;
    const char *what;
};

static void cv_name(const char *name, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < size; i++) {
        unsigned char c = (unsigned char)name[i];
        if (isprint(c) && c != '\\' && c != '"')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
    }
    if (len > 0 && o + 5 >= size && o >= 3)
        memcpy(out + o - 3, "...", 3);
    out[o] = '\0';
}

static void cv_report(struct cv_ctx *c, int lost, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void crash_vreport(struct crash_verdict *v, FILE *out, unsigned limit, const char *what, int lost,
                   const char *fmt, va_list ap)
{
    if (lost)
        v->lost++;
    else
        v->bad++;
    if (out == NULL || v->printed >= limit)
        return;
    v->printed++;
    fprintf(out, "%s: %s: ", what, lost ? "LOST" : "BAD");
    vfprintf(out, fmt, ap);
    fputc('\n', out);
}

void crash_report_bad(struct crash_verdict *v, FILE *out, unsigned limit, const char *what,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    crash_vreport(v, out, limit, what, 0, fmt, ap);
    va_end(ap);
}

static void cv_report(struct cv_ctx *c, int lost, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    crash_vreport(c->v, c->out, c->limit, c->what, lost, fmt, ap);
    va_end(ap);
}

static uint64_t cv_done(const struct crash_op *op)
{
    return op->done_at ? op->done_at : CV_NEVER;
}

static int cv_acked(const struct crash_op *op)
{
    return op->done_at != 0 && op->rc == 0;
}

/* A validation failure: nothing was written (SPEC section 4). */
static int cv_rejected(int rc)
{
    return rc == -ERANGE || rc == -EINVAL || rc == -E2BIG;
}

static int cv_same_name(const struct crash_op *op, const char *name, size_t len)
{
    return op->name_len == len && memcmp(op->name, name, len) == 0;
}

/* 1 when some truncate of the stream with n >= seq may have removed an
 * event that began at intent_at. */
static int cv_truncated(const struct crash_hist *h, const char *name, size_t len, int64_t seq,
                        uint64_t intent_at)
{
    for (size_t i = 0; i < h->n; i++) {
        const struct crash_op *t = &h->ops[i];
        if (t->kind == CRASH_TRUNCATE && cv_same_name(t, name, len) && t->n >= seq &&
            cv_done(t) > intent_at)
            return 1;
    }
    return 0;
}

#define CV_STREAM_OPS ((1u << CRASH_APPEND) | (1u << CRASH_BATCH) | (1u << CRASH_TRUNCATE))
#define CV_KV_OPS ((1u << CRASH_KV_PUT) | (1u << CRASH_KV_DEL))

/* 1 when an unpromised op of a kind in mask wrote the stream or key name
 * (crash.h THE UNPROMISED): a read of it may fail, naming the damage. */
static int cv_unpromised(const struct crash_hist *h, unsigned mask, const char *name, size_t len)
{
    for (size_t i = 0; i < h->n; i++) {
        const struct crash_op *op = &h->ops[i];
        if (op->unpromised && (mask & (1u << op->kind)) && cv_same_name(op, name, len))
            return 1;
    }
    return 0;
}

/* sxp_stream_scan's callback: a copy of each event into the list ctx. */
static int cv_collect(void *ctx, const sxp_value *ev)
{
    sxp_value *copy = sxp_value_copy(ev);
    if (copy == NULL)
        return -ENOMEM;
    if (sxp_value_list_push(ctx, copy) != 0) {
        sxp_value_free(copy);
        return -ENOMEM;
    }
    return 0;
}

/* Holds one stream to G-1..G-4. ro: the store is open read-only and was
 * not recovered (crash_readonly.c RO-4): a damaged line (a torn tail only
 * recovery cuts) ends the events read, and last-seq is the higher of the
 * .seq file's mark and the log's last whole line (engine ST-9). */
static void cv_stream_at(sxp_store *s, const struct crash_bstream *bs, const char *name, size_t len,
                         const struct crash_hist *h, struct cv_ctx *c, int ro)
{
    char pname[300];
    struct cv_cand *cand = NULL;
    size_t ncand = 0, cap = 0;
    sxp_value *list = NULL;
    struct sxp_err err;
    int64_t hw = 0, hw_min = bs ? bs->hw : 0, hw_max = bs ? bs->hw : 0;
    cv_name(name, len, pname, sizeof(pname));

    /* Candidates: the baseline's events and every submitted event. */
    cap = (bs ? bs->nev : 0) + 16;
    cand = calloc(cap, sizeof(*cand));
    if (cand == NULL)
        goto nomem;
    for (size_t i = 0; bs && i < bs->nev; i++) {
        struct cv_cand *x = &cand[ncand++];
        x->seq = bs->seqs[i];
        x->text = bs->texts[i];
        x->len = bs->lens[i];
        x->acked = 1;
    }
    for (size_t i = 0; i < h->n; i++) {
        const struct crash_op *op = &h->ops[i];
        if ((op->kind != CRASH_APPEND && op->kind != CRASH_BATCH) || !cv_same_name(op, name, len))
            continue;
        for (size_t j = 0; j < op->nev; j++) {
            if (ncand == cap) {
                struct cv_cand *nc = realloc(cand, 2 * cap * sizeof(*nc));
                if (nc == NULL)
                    goto nomem;
                cand = nc;
                cap *= 2;
            }
            struct cv_cand *x = &cand[ncand++];
            memset(x, 0, sizeof(*x));
            x->seq = op->seqs[j];
            x->text = op->texts[j];
            x->len = op->lens[j];
            x->intent_at = op->intent_at;
            x->done_at = cv_done(op);
            x->acked = cv_acked(op);
            x->op = op;
            x->index = j;
            if (op->seqs[j] > hw_max)
                hw_max = op->seqs[j];
            if (x->acked && x->seq > hw_min)
                hw_min = x->seq;
        }
    }

    int rc;
    if (ro) {
        /* Events before a damaged line are visited, then the scan fails
         * (sxp.h, sxp_stream_scan): -EBADMSG for a bad checksum, and
         * -EUCLEAN for NUL bytes with no TAB, read as a legacy line that
         * does not parse. */
        list = sxp_value_list();
        rc = list ? sxp_stream_scan(s, name, len, INT64_MIN, -1, cv_collect, list, &err) : -ENOMEM;
        if (rc == -EBADMSG || rc == -EUCLEAN)
            rc = 0;
        else if (rc == -ENOMEM)
            snprintf(err.msg, sizeof(err.msg), "out of memory");
    } else {
        rc = sxp_stream_read(s, name, len, &list, &err);
    }
    if (rc == 0)
        rc = sxp_stream_last_seq(s, name, len, &hw, &err);
    if (rc < 0) {
        if (!cv_unpromised(h, CV_STREAM_OPS, name, len))
            cv_report(c, 0, "stream \"%s\": read failed: %s", pname, err.msg);
        goto out;
    }

    /* G-1 order, G-2 nothing never submitted, byte-identical. */
    int64_t prev = INT64_MIN, maxseq = 0;
    for (size_t i = 0; i < sxp_value_len(list); i++) {
        const sxp_value *ev = sxp_value_list_get(list, i);
        const sxp_value *sv = sxp_value_dict_get(ev, "seq", 3);
        char *text = NULL;
        size_t tlen = 0;
        if (sxp_value_type(sv) != SXP_INT || sxp_value_to_text(ev, &text, &tlen, NULL) != 0) {
            cv_report(c, 0, "stream \"%s\": event %zu has no integer :seq", pname, i);
            free(text);
            continue;
        }
        int64_t seq = sxp_value_as_int(sv);
        if (seq <= prev)
            cv_report(c, 0, "stream \"%s\": seq %lld after %lld (not increasing)", pname,
                      (long long)seq, (long long)prev);
        prev = seq;
        if (seq > maxseq)
            maxseq = seq;
        int seq_known = 0, matched = 0;
        for (size_t k = 0; k < ncand && !matched; k++) {
            if (cand[k].seq != seq)
                continue;
            seq_known = 1;
            if (cand[k].len == tlen && memcmp(cand[k].text, text, tlen) == 0) {
                cand[k].present = 1;
                matched = 1;
            }
        }
        if (!matched)
            cv_report(c, 0, "stream \"%s\": seq %lld %s: %.120s", pname, (long long)seq,
                      seq_known ? "differs from every event submitted with that seq"
                                : "was never submitted",
                      text);
        free(text);
    }

    /* G-1 every acknowledged event present, unless a truncate took it. */
    for (size_t k = 0; k < ncand; k++) {
        const struct cv_cand *x = &cand[k];
        if (x->present && x->op != NULL && x->op->done_at != 0 && cv_rejected(x->op->rc))
            cv_report(c, 0,
                      "stream \"%s\": seq %lld is present although its append was "
                      "rejected (%s)",
                      pname, (long long)x->seq, strerror(-x->op->rc));
        if (x->acked && !x->present && !cv_truncated(h, name, len, x->seq, x->intent_at)) {
            cv_report(c, 1, "stream \"%s\": acknowledged seq %lld (%s) is missing", pname,
                      (long long)x->seq,
                      x->op == NULL                ? "verified before this run"
                      : x->op->kind == CRASH_BATCH ? "append-batch"
                                                   : "append");
        }
    }

    /* G-2 an unacknowledged batch survives as a contiguous run. */
    for (size_t k = 0; k < ncand;) {
        const struct crash_op *op = cand[k].op;
        size_t end = k + 1;
        while (end < ncand && cand[end].op == op && op != NULL)
            end++;
        if (op != NULL && op->kind == CRASH_BATCH && !cand[k].acked) {
            size_t first = end, last = k;
            for (size_t j = k; j < end; j++)
                if (cand[j].present) {
                    if (first == end)
                        first = j;
                    last = j;
                }
            for (size_t j = first; first < end && j <= last; j++)
                if (!cand[j].present)
                    cv_report(c, 0,
                              "stream \"%s\": unacknowledged batch kept seq %lld but not seq "
                              "%lld before it",
                              pname, (long long)cand[last].seq, (long long)cand[j].seq);
            if (first < end && first > k &&
                !cv_truncated(h, name, len, cand[first - 1].seq, op->intent_at))
                cv_report(c, 0,
                          "stream \"%s\": unacknowledged batch kept seq %lld without its "
                          "first events",
                          pname, (long long)cand[first].seq);
        }
        k = end;
    }

    /* G-3 an acknowledged truncate removed what completed before it. */
    for (size_t i = 0; i < h->n; i++) {
        const struct crash_op *t = &h->ops[i];
        if (t->kind != CRASH_TRUNCATE || !cv_acked(t) || !cv_same_name(t, name, len))
            continue;
        for (size_t k = 0; k < ncand; k++) {
            const struct cv_cand *x = &cand[k];
            if (x->present && x->seq <= t->n && x->acked && x->done_at < t->intent_at)
                cv_report(c, 1, "stream \"%s\": seq %lld survived acknowledged truncate %lld",
                          pname, (long long)x->seq, (long long)t->n);
        }
    }

    /* G-4 the high-water mark; read-only, the .seq file's or the log's
     * last whole line's (never lower than the baseline's, which a clean
     * close or a truncate wrote, nor above what was submitted). */
    if (ro) {
        if (bs != NULL && hw < bs->hw)
            cv_report(c, 0, "stream \"%s\": last-seq %lld below the baseline's %lld", pname,
                      (long long)hw, (long long)bs->hw);
        if (hw > hw_max)
            cv_report(c, 0, "stream \"%s\": last-seq %lld above anything submitted (%lld)", pname,
                      (long long)hw, (long long)hw_max);
        goto out;
    }
    if (hw < hw_min)
        cv_report(c, 1, "stream \"%s\": last-seq %lld below acknowledged %lld", pname,
                  (long long)hw, (long long)hw_min);
    if (hw < maxseq)
        cv_report(c, 0, "stream \"%s\": last-seq %lld below its own event %lld", pname,
                  (long long)hw, (long long)maxseq);
    if (hw > hw_max)
        cv_report(c, 0, "stream \"%s\": last-seq %lld above anything submitted (%lld)", pname,
                  (long long)hw, (long long)hw_max);
    goto out;
nomem:
    cv_report(c, 0, "stream \"%s\": out of memory while verifying", pname);
out:
    sxp_value_free(list);
    free(cand);
}

/* ---- kv ------------------------------------------------------------------ */

static void cv_key(sxp_store *s, const struct crash_bkv *bk, const char *key, size_t len,
                   const struct crash_hist *h, struct cv_ctx *c)
{
    char pkey[300];
    struct sxp_err err;
    sxp_value *v = NULL;
    char *text = NULL;
    size_t tlen = 0;
    int has = 0;
    cv_name(key, len, pkey, sizeof(pkey));
    int rc = sxp_kv_has(s, key, len, &has, &err);
    if (rc == 0 && has)
        rc = sxp_kv_get(s, key, len, &v, &err);
    if (rc == 0 && has)
        rc = sxp_value_to_text(v, &text, &tlen, &err);
    sxp_value_free(v);
    if (rc < 0) {
        if (!cv_unpromised(h, CV_KV_OPS, key, len))
            cv_report(c, 0, "key \"%s\": read failed: %s", pkey, err.msg);
        return;
    }

    /* Does candidate X (NULL: the baseline) still count? Not when an
     * acknowledged op of the key began after X completed. */
    int allowed = 0, acked_live = 0;
    for (size_t i = 0; i <= h->n && !allowed; i++) {
        const struct crash_op *x = i < h->n ? &h->ops[i] : NULL;
        if (x != NULL &&
            ((x->kind != CRASH_KV_PUT && x->kind != CRASH_KV_DEL) || !cv_same_name(x, key, len)))
            continue;
        uint64_t x_done = x ? cv_done(x) : 0;
        int superseded = 0;
        for (size_t j = 0; j < h->n && !superseded; j++) {
            const struct crash_op *p = &h->ops[j];
            if (p != x && (p->kind == CRASH_KV_PUT || p->kind == CRASH_KV_DEL) &&
                cv_same_name(p, key, len) && cv_acked(p) && x_done < p->intent_at)
                superseded = 1;
        }
        if (superseded)
            continue;
        if (x == NULL || cv_acked(x))
            acked_live = 1;
        int x_has = x ? x->kind == CRASH_KV_PUT : bk != NULL;
        const char *x_text = x ? x->value : bk ? bk->value : NULL;
        size_t x_len = x ? x->value_len : bk ? bk->value_len : 0;
        if (x_has == has && (!has || (x_len == tlen && memcmp(x_text, text, tlen) == 0)))
            allowed = 1;
    }
    /* What an unpromised op wrote over was not promised either: what
     * shows instead was never submitted, and that is bad, not lost. */
    if (!allowed) {
        char ptext[160] = "";
        if (has)
            cv_name(text, tlen, ptext, sizeof(ptext));
        cv_report(c, acked_live && !cv_unpromised(h, CV_KV_OPS, key, len),
                  "key \"%s\": %s%s is not the result of any put or delete that may be last", pkey,
                  has ? "value " : "absent", ptext);
    }
    free(text);
}

/* ---- blobs --------------------------------------------------------------- */

/* must: an acknowledged blob; loose: an unpromised put of it (crash.h THE
 * UNPROMISED), whose get may fail. */
static void cv_blob(sxp_store *s, const char *cid, int must, int loose, struct cv_ctx *c)
{
    struct sxp_err err;
    void *bytes = NULL;
    size_t len = 0;
    char got[SXP_CID_LEN + 1];
    int rc = sxp_blob_get(s, cid, &bytes, &len, &err);
    if (rc < 0) {
        if (!loose)
            cv_report(c, 0, "blob %s: get failed: %s", cid, err.msg);
    } else if (bytes == NULL && len == 0) {
        /* Absent (an empty blob comes back as a non-NULL or the same;
         * ask has to be sure). */
        int has = 0;
        if (sxp_blob_has(s, cid, &has, &err) == 0 && has) {
            sxp_cid_of("", 0, got);
            if (strcmp(got, cid) != 0)
                cv_report(c, 0, "blob %s: present but read back empty", cid);
        } else if (must) {
            cv_report(c, 1, "blob %s: acknowledged blob is missing", cid);
        }
    } else {
        sxp_cid_of(bytes, len, got);
        if (strcmp(got, cid) != 0)
            cv_report(c, 0, "blob %s: bytes hash to %s", cid, got);
    }
    free(bytes);
}

/* Each blob once: the baseline's, then the history's. */
static void cv_each_blob(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                         struct cv_ctx *c)
{
    for (size_t i = 0; i < base->nblobs; i++)
        cv_blob(s, base->blobs[i], 1, 0, c);
    for (size_t i = 0; i < h->n; i++)
        if (h->ops[i].kind == CRASH_BLOB)
            cv_blob(s, h->ops[i].cid, cv_acked(&h->ops[i]), h->ops[i].unpromised, c);
}

/* ---- the whole store ----------------------------------------------------- */

static int cv_name_in(const sxp_value *list, const char *name, size_t len)
{
    for (size_t i = 0; i < sxp_value_len(list); i++) {
        size_t l = 0;
        const char *p = sxp_value_as_str(sxp_value_list_get(list, i), &l);
        if (l == len && memcmp(p, name, len) == 0)
            return 1;
    }
    return 0;
}

/* cv_stream_at (ro) for each stream of the baseline, then each other
 * stream h names. */
static void cv_each_stream(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                           struct cv_ctx *c, int ro)
{
    for (size_t i = 0; i < base->nstreams; i++)
        cv_stream_at(s, &base->streams[i], base->streams[i].name, base->streams[i].name_len, h, c,
                     ro);
    for (size_t i = 0; i < h->n; i++) {
        const struct crash_op *op = &h->ops[i];
        int seen = 0;
        if (op->kind != CRASH_APPEND && op->kind != CRASH_BATCH && op->kind != CRASH_TRUNCATE)
            continue;
        for (size_t j = 0; j < base->nstreams && !seen; j++)
            seen = cv_same_name(op, base->streams[j].name, base->streams[j].name_len);
        for (size_t j = 0; j < i && !seen; j++)
            seen = (h->ops[j].kind == CRASH_APPEND || h->ops[j].kind == CRASH_BATCH ||
                    h->ops[j].kind == CRASH_TRUNCATE) &&
                   cv_same_name(&h->ops[j], op->name, op->name_len);
        if (!seen)
            cv_stream_at(s, NULL, op->name, op->name_len, h, c, ro);
    }
}

/* cv_key for each key of the baseline, then each other key h names. */
static void cv_each_key(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                        struct cv_ctx *c)
{
    for (size_t i = 0; i < base->nkv; i++)
        cv_key(s, &base->kv[i], base->kv[i].key, base->kv[i].key_len, h, c);
    for (size_t i = 0; i < h->n; i++) {
        const struct crash_op *op = &h->ops[i];
        int seen = 0;
        if (op->kind != CRASH_KV_PUT && op->kind != CRASH_KV_DEL)
            continue;
        for (size_t j = 0; j < base->nkv && !seen; j++)
            seen = cv_same_name(op, base->kv[j].key, base->kv[j].key_len);
        for (size_t j = 0; j < i && !seen; j++)
            seen = (h->ops[j].kind == CRASH_KV_PUT || h->ops[j].kind == CRASH_KV_DEL) &&
                   cv_same_name(&h->ops[j], op->name, op->name_len);
        if (!seen)
            cv_key(s, NULL, op->name, op->name_len, h, c);
    }
}

void crash_verify(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                  struct crash_verdict *v, FILE *out, unsigned print_limit, const char *what)
{
    struct cv_ctx c = {v, out, print_limit, what};
    struct sxp_err err;
    sxp_value *names = NULL, *keys = NULL;

    for (size_t i = 0; i < h->n; i++)
        if (cv_acked(&h->ops[i]))
            v->acked++;

    /* Streams: the baseline's, then those only the history names. */
    cv_each_stream(s, base, h, &c, 0);
    if (sxp_stream_list(s, &names, &err) != 0) {
        cv_report(&c, 0, "persist/streams failed: %s", err.msg);
    } else {
        for (size_t i = 0; i < sxp_value_len(names); i++) {
            size_t l = 0;
            const char *p = sxp_value_as_str(sxp_value_list_get(names, i), &l);
            int known = 0;
            for (size_t j = 0; j < base->nstreams && !known; j++)
                known = base->streams[j].name_len == l && memcmp(base->streams[j].name, p, l) == 0;
            for (size_t j = 0; j < h->n && !known; j++)
                known = (h->ops[j].kind == CRASH_APPEND || h->ops[j].kind == CRASH_BATCH) &&
                        cv_same_name(&h->ops[j], p, l);
            if (!known) {
                char pn[300];
                cv_name(p, l, pn, sizeof(pn));
                cv_report(&c, 0, "stream \"%s\" is listed but was never appended to", pn);
            }
            /* Listed means an append became durable (engine/streams.c
             * UNBORN STREAMS): never a high-water mark of 0. */
            int64_t hw = 0;
            if (sxp_stream_last_seq(s, p, l, &hw, &err) == 0 && hw < 1) {
                char pn[300];
                cv_name(p, l, pn, sizeof(pn));
                cv_report(&c, 0,
                          "stream \"%s\" is listed with last-seq %lld: no append to it "
                          "became durable",
                          pn, (long long)hw);
            }
        }
        for (size_t j = 0; j < base->nstreams; j++)
            if (!cv_name_in(names, base->streams[j].name, base->streams[j].name_len))
                cv_report(&c, 1, "stream %zu of the baseline is not listed", j);
        for (size_t j = 0; j < h->n; j++) {
            const struct crash_op *op = &h->ops[j];
            if ((op->kind == CRASH_APPEND || op->kind == CRASH_BATCH) && cv_acked(op) &&
                !cv_name_in(names, op->name, op->name_len)) {
                char pn[300];
                cv_name(op->name, op->name_len, pn, sizeof(pn));
                cv_report(&c, 1, "stream \"%s\" had an acknowledged append but is not listed", pn);
            }
        }
    }

    /* Keys. */
    cv_each_key(s, base, h, &c);
    if (sxp_kv_keys(s, &keys, &err) != 0) {
        cv_report(&c, 0, "persist/kv-keys failed: %s", err.msg);
    } else {
        for (size_t i = 0; i < sxp_value_len(keys); i++) {
            size_t l = 0;
            const char *p = sxp_value_as_str(sxp_value_list_get(keys, i), &l);
            int known = 0;
            for (size_t j = 0; j < base->nkv && !known; j++)
                known = base->kv[j].key_len == l && memcmp(base->kv[j].key, p, l) == 0;
            for (size_t j = 0; j < h->n && !known; j++)
                known = h->ops[j].kind == CRASH_KV_PUT && cv_same_name(&h->ops[j], p, l);
            if (!known) {
                char pn[300];
                cv_name(p, l, pn, sizeof(pn));
                cv_report(&c, 0, "key \"%s\" is listed but was never put", pn);
            }
        }
    }

    /* Blobs. */
    cv_each_blob(s, base, h, &c);
    for (size_t i = 0; i < h->n; i++)
        if (h->ops[i].kind == CRASH_BLOB && h->ops[i].done_at && h->ops[i].rc == -EPROTO)
            cv_report(&c, 0, "blob %s: blob/put returned another cid", h->ops[i].cid);

    sxp_value_free(names);
    sxp_value_free(keys);
}

void crash_verify_continue(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                           unsigned max_streams, struct crash_verdict *v, FILE *out,
                           unsigned print_limit, const char *what)
{
    struct cv_ctx c = {v, out, print_limit, what};
    const char *names[64];
    size_t lens[64];
    unsigned n = 0;
    if (max_streams > 64)
        max_streams = 64;
    for (size_t i = 0; i < base->nstreams && n < max_streams; i++) {
        names[n] = base->streams[i].name;
        lens[n++] = base->streams[i].name_len;
    }
    for (size_t i = 0; i < h->n && n < max_streams; i++) {
        const struct crash_op *op = &h->ops[i];
        int dup = 0;
        if (op->kind != CRASH_APPEND && op->kind != CRASH_BATCH)
            continue;
        for (unsigned j = 0; j < n && !dup; j++)
            dup = lens[j] == op->name_len && memcmp(names[j], op->name, op->name_len) == 0;
        if (!dup) {
            names[n] = op->name;
            lens[n++] = op->name_len;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        char pn[300];
        struct sxp_err err;
        int64_t hw = 0, hw2 = 0;
        sxp_value *ev = sxp_value_dict(), *got = NULL;
        cv_name(names[i], lens[i], pn, sizeof(pn));
        int rc = sxp_stream_last_seq(s, names[i], lens[i], &hw, &err);
        if (rc == 0 && ev == NULL)
            rc = -ENOMEM;
        if (rc == 0)
            rc = sxp_value_dict_set(ev, "seq", 3, sxp_value_int(hw + 1));
        if (rc == 0)
            rc = sxp_value_dict_set(ev, "post", 4, sxp_value_str("recovered", 9));
        if (rc == 0)
            rc = sxp_stream_append(s, names[i], lens[i], ev, &err);
        if (rc == 0)
            rc = sxp_stream_last_seq(s, names[i], lens[i], &hw2, &err);
        if (rc == 0)
            rc = sxp_stream_read_range(s, names[i], lens[i], hw + 1, 1, &got, &err);
        if (rc < 0)
            cv_report(&c, 0, "stream \"%s\": append of seq %lld after recovery failed: %s", pn,
                      (long long)(hw + 1), err.msg);
        else if (hw2 != hw + 1 || sxp_value_len(got) != 1 ||
                 !sxp_value_equal(sxp_value_list_get(got, 0), ev))
            cv_report(&c, 0, "stream \"%s\": append of seq %lld after recovery did not read back",
                      pn, (long long)(hw + 1));
        sxp_value_free(ev);
        sxp_value_free(got);
    }
}

/* ---- a read-only open before recovery (crash_readonly.c) ------------------ */

void crash_verify_readonly(sxp_store *s, const struct crash_base *base, const struct crash_hist *h,
                           struct crash_verdict *v, FILE *out, unsigned print_limit,
                           const char *what)
{
    struct cv_ctx c = {.v = v, .out = out, .limit = print_limit, .what = what};

    for (size_t i = 0; i < h->n; i++)
        if (cv_acked(&h->ops[i]))
            v->acked++;
    /* Each stream, key and blob once: the baseline's, then the history's. */
    cv_each_stream(s, base, h, &c, 1);
    cv_each_key(s, base, h, &c);
    cv_each_blob(s, base, h, &c);
}
