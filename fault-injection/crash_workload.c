/*
 * crash_workload.c -- the operations sxp-crash throws at a store: appends
 * and append-batches across many streams, truncates, kv puts and deletes,
 * blob puts, from several threads at once, each reported before it is
 * submitted and when it returns (crash_hist.c); and reads, checked as they
 * go (READS).
 *
 * Seqs: each stream has a next seq, taken (with an occasional gap) and
 * reported under the stream's mutex, so intents of one stream arrive in
 * seq order. The append itself runs unlocked; two threads racing on one
 * stream may arrive out of order, and the later seq wins while the other
 * gets -ERANGE (reported, and not counted as an error). Truncates mostly
 * cut at or just below the stream's last acknowledged seq, so streams stay
 * short and truncation is exercised at every size; three in ten cut
 * further back, keeping up to a few dozen lines, and one in ten past the
 * high-water mark.
 *
 * Some blob puts repeat one of four common blobs (put of what exists), and
 * with existing_only the workload creates no file at all: appends only to
 * streams already listed, deletes, and puts of the common blobs. After a
 * kill, that is the workload that finds an engine relying on directory
 * entries a dead process left in the page cache, since it syncs no
 * directory that would make them durable by accident.
 *
 * Payloads are random bytes of every value (NUL, LF, TAB, quotes and
 * backslashes included), mostly short, sometimes up to max_event bytes,
 * so lines cross sector and page boundaries.
 *
 * READS. Some ops read a stream and check, in the session, what a reader
 * may see (SPEC section 4): last-seq never below an acknowledged seq and
 * never going down; events in seq order, none above last-seq, none at or
 * below an acknowledged truncate's n that the truncate removed (any seq at
 * or below both n and the highest seq acknowledged when it began), none of
 * a failed append; and read-range giving what read gives from its
 * from-seq, whenever two reads around it agree (nothing changed
 * meanwhile). A violation counts in read_bad (and, with abort_bad_read,
 * aborts the process, so a killed workload still shows it).
 *
 * Checkpoints: a store checkpoints its journal inside a commit round once
 * the journal holds 4,096 logs (journal.c J-5), which 64 streams never
 * reach. In three runs of four (by seed) the workload lowers that bound to
 * 1, 2 or 3 logs, so rounds checkpoint while other writers queue and a
 * crash lands in a checkpoint as often as in a round.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "seqfile.h"
#include "store.h"

#define WL_FAILED_MAX 32

struct wl_stream {
    pthread_mutex_t mu;
    int listed;    /* in persist/streams when the workload began */
    int64_t next;  /* next seq to hand out */
    int64_t acked; /* highest acknowledged seq (or the hw at start) */
    /* READS: what a reader may no longer see */
    int64_t gone;                  /* no event at or below this (an acknowledged truncate) */
    int64_t seen_hw;               /* the highest last-seq a reader saw */
    int64_t failed[WL_FAILED_MAX]; /* seqs of failed appends (the last ones) */
    unsigned nfailed;              /* failed appends so far */
};

struct wl_shared {
    struct crash_workload *w;
    struct wl_stream *st;
    atomic_uint_fast64_t issued;
    atomic_uint_fast64_t done;
    atomic_uint_fast64_t errors;
    atomic_int stop;
    pthread_mutex_t err_mu;
    char names[64][128]; /* stream names */
    size_t name_lens[64];
};

struct wl_thread {
    struct wl_shared *sh;
    unsigned idx;
    uint64_t rng;
    uint64_t counter;
};

#define WL_MAX_STREAMS 64
#define WL_MAX_BATCH 8

void crash_stream_name(unsigned i, char *out, size_t *out_len)
{
    switch (i) {
    case 1:
        memcpy(out, "orders", 6);
        *out_len = 6;
        return;
    case 2: {
        /* Bytes a file name could not hold raw: slash, NUL, high bytes. */
        static const char odd[] = {'a', '/', 0, (char)0xff, ' ', '\t', (char)0xc3, (char)0xa9};
        memcpy(out, odd, sizeof(odd));
        *out_len = sizeof(odd);
        return;
    }
    case 3:
        memset(out, 'L', 125); /* the longest name */
        *out_len = 125;
        return;
    default:
        *out_len = (size_t)snprintf(out, 32, "s%u", i);
    }
}

void crash_key_name(unsigned i, char *out, size_t *out_len)
{
    switch (i) {
    case 1: {
        static const char odd[] = {'k', 0, '/', '.', '.', (char)0x80};
        memcpy(out, odd, sizeof(odd));
        *out_len = sizeof(odd);
        return;
    }
    case 2:
        memset(out, 'K', 127);
        *out_len = 127;
        return;
    default:
        *out_len = (size_t)snprintf(out, 32, "k%u", i);
    }
}

static uint64_t wl_below(struct wl_thread *t, uint64_t n)
{
    return n == 0 ? 0 : crash_rand(&t->rng) % n;
}

static void wl_fill(struct wl_thread *t, char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t r = crash_rand(&t->rng);
        /* Half printable, half any byte. */
        p[i] = (r & 0x100) ? (char)(' ' + (r % 95)) : (char)(r & 0xff);
    }
}

static size_t wl_payload_len(struct wl_thread *t)
{
    uint64_t r = wl_below(t, 100);
    unsigned max = t->sh->w->max_event ? t->sh->w->max_event : 1;
    if (r < 2)
        return (size_t)wl_below(t, max + 1);
    if (r < 12)
        return (size_t)wl_below(t, 2000 < max ? 2000 : max);
    return (size_t)wl_below(t, 200 < max ? 200 : max);
}

static int wl_dict_set(sxp_value *d, const char *k, sxp_value *v)
{
    if (v == NULL)
        return -ENOMEM;
    return sxp_value_dict_set(d, k, strlen(k), v);
}

/* A new event with :seq seq; its canonical text into *out_text. */
static int wl_event(struct wl_thread *t, int64_t seq, sxp_value **out, char **out_text,
                    size_t *out_len)
{
    sxp_value *ev = sxp_value_dict();
    char small[2048];
    char *payload = NULL;
    int rc = ev ? 0 : -ENOMEM;
    size_t plen = wl_payload_len(t);
    payload = plen > sizeof(small) ? malloc(plen) : small;
    if (payload == NULL)
        rc = -ENOMEM;
    if (rc == 0) {
        wl_fill(t, payload, plen);
        rc = wl_dict_set(ev, "seq", sxp_value_int(seq));
    }
    if (rc == 0)
        rc = wl_dict_set(ev, "t", sxp_value_int((int64_t)t->idx));
    if (rc == 0)
        rc = wl_dict_set(ev, "i", sxp_value_int((int64_t)t->counter++));
    if (rc == 0)
        rc = wl_dict_set(ev, "p", sxp_value_str(payload, plen));
    if (rc == 0 && wl_below(t, 8) == 0) {
        sxp_value *l = sxp_value_list();
        rc = l ? 0 : -ENOMEM;
        if (rc == 0)
            rc = sxp_value_list_push(l, sxp_value_num(-2.5));
        if (rc == 0)
            rc = sxp_value_list_push(l, sxp_value_kw("kw", 2));
        if (rc == 0)
            rc = sxp_value_list_push(l, sxp_value_sym("sym", 3));
        if (rc == 0)
            rc = sxp_value_list_push(l, sxp_value_bool(1));
        if (rc == 0)
            rc = sxp_value_list_push(l, sxp_value_nil());
        if (rc == 0)
            rc = wl_dict_set(ev, "l", l);
        else
            sxp_value_free(l);
    }
    if (payload != small)
        free(payload);
    if (rc == 0)
        rc = sxp_value_to_text(ev, out_text, out_len, NULL);
    if (rc < 0) {
        sxp_value_free(ev);
        return rc;
    }
    *out = ev;
    return 0;
}

/* Counts a failure; returns 1 when the thread should stop. */
static int wl_failed(struct wl_thread *t, int rc, const struct sxp_err *err, const char *what)
{
    struct crash_workload *w = t->sh->w;
    if (rc == -ERANGE)
        return 0;
    atomic_fetch_add(&t->sh->errors, 1);
    pthread_mutex_lock(&t->sh->err_mu);
    if (w->first_error == 0) {
        w->first_error = rc;
        snprintf(w->first_msg, sizeof(w->first_msg), "%s: %.200s", what,
                 err && err->msg[0] ? err->msg : strerror(-rc));
    }
    pthread_mutex_unlock(&t->sh->err_mu);
    return w->stop_on_error;
}

static int wl_append(struct wl_thread *t, int batch)
{
    struct crash_workload *w = t->sh->w;
    unsigned si = (unsigned)wl_below(t, w->nstreams);
    if (w->existing_only) {
        /* The first stream that exists at or after si, if any. */
        unsigned k = 0;
        while (k < w->nstreams && !t->sh->st[(si + k) % w->nstreams].listed)
            k++;
        if (k == w->nstreams)
            return 0;
        si = (si + k) % w->nstreams;
    }
    struct wl_stream *st = &t->sh->st[si];
    size_t n = batch ? 2 + (size_t)wl_below(t, WL_MAX_BATCH - 1) : 1;
    sxp_value *evs[WL_MAX_BATCH] = {NULL};
    char *texts[WL_MAX_BATCH] = {NULL};
    size_t lens[WL_MAX_BATCH] = {0};
    int64_t seqs[WL_MAX_BATCH];
    struct sxp_err err;
    int rc = 0, stop = 0;
    uint32_t id = 0;

    pthread_mutex_lock(&st->mu);
    int64_t seq = st->next + (wl_below(t, 8) == 0 ? (int64_t)wl_below(t, 5) : 0);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        seqs[i] = seq;
        rc = wl_event(t, seq, &evs[i], &texts[i], &lens[i]);
        seq += 1 + (wl_below(t, 6) == 0 ? (int64_t)wl_below(t, 3) : 0);
    }
    if (rc == 0) {
        st->next = seq;
        id = crash_report_intent(w->rep, batch ? CRASH_BATCH : CRASH_APPEND, t->sh->names[si],
                                 t->sh->name_lens[si], 0, n, seqs, (const char *const *)texts, lens,
                                 NULL, 0, NULL);
    }
    pthread_mutex_unlock(&st->mu);
    if (rc < 0 || id == 0) {
        stop = 1;
        goto out;
    }
    if (batch)
        rc = sxp_stream_append_batch(w->store, t->sh->names[si], t->sh->name_lens[si],
                                     (const sxp_value *const *)evs, n, &err);
    else
        rc = sxp_stream_append(w->store, t->sh->names[si], t->sh->name_lens[si], evs[0], &err);
    if (crash_report_done(w->rep, id, rc) < 0)
        stop = 1;
    pthread_mutex_lock(&st->mu);
    if (rc == 0 && seqs[n - 1] > st->acked)
        st->acked = seqs[n - 1];
    for (size_t i = 0; rc != 0 && i < n; i++)
        st->failed[st->nfailed++ % WL_FAILED_MAX] = seqs[i];
    pthread_mutex_unlock(&st->mu);
    if (rc != 0 && wl_failed(t, rc, &err, batch ? "append-batch" : "append"))
        stop = 1;
out:
    for (size_t i = 0; i < n; i++) {
        sxp_value_free(evs[i]);
        free(texts[i]);
    }
    return stop;
}

static int wl_truncate(struct wl_thread *t)
{
    struct crash_workload *w = t->sh->w;
    unsigned si = (unsigned)wl_below(t, w->nstreams);
    struct wl_stream *st = &t->sh->st[si];
    struct sxp_err err;
    uint64_t r = wl_below(t, 10);
    pthread_mutex_lock(&st->mu);
    /* Mostly at the end; sometimes further back, so that many lines are
     * copied to the new log; sometimes past the high-water mark, which
     * drops every event (and appends below n may follow). */
    int64_t n = r < 6   ? st->acked - (int64_t)wl_below(t, 4)
                : r < 9 ? st->acked - (int64_t)wl_below(t, 24)
                        : st->acked + 1 + (int64_t)wl_below(t, 4);
    if (n < 0)
        n = 0;
    /* Every seq up to here was acknowledged, is queued (the truncate waits
     * for it, then drops it) or will be refused: none is seen again. */
    int64_t gone = n < st->acked ? n : st->acked;
    uint32_t id = crash_report_intent(w->rep, CRASH_TRUNCATE, t->sh->names[si],
                                      t->sh->name_lens[si], n, 0, NULL, NULL, NULL, NULL, 0, NULL);
    pthread_mutex_unlock(&st->mu);
    if (id == 0)
        return 1;
    int rc = sxp_stream_truncate(w->store, t->sh->names[si], t->sh->name_lens[si], n, &err);
    if (rc == 0) {
        pthread_mutex_lock(&st->mu);
        if (gone > st->gone)
            st->gone = gone;
        pthread_mutex_unlock(&st->mu);
    }
    if (crash_report_done(w->rep, id, rc) < 0)
        return 1;
    return rc < 0 && wl_failed(t, rc, &err, "truncate");
}

static int wl_kv(struct wl_thread *t, int del)
{
    struct crash_workload *w = t->sh->w;
    char key[128];
    size_t key_len = 0;
    struct sxp_err err;
    char *text = NULL;
    size_t text_len = 0;
    sxp_value *v = NULL;
    int rc = 0, stop = 0;
    crash_key_name((unsigned)wl_below(t, w->nkeys), key, &key_len);
    if (!del) {
        char payload[300];
        size_t plen = (size_t)wl_below(t, sizeof(payload));
        wl_fill(t, payload, plen);
        v = sxp_value_dict();
        rc = v ? 0 : -ENOMEM;
        if (rc == 0)
            rc = wl_dict_set(v, "v", sxp_value_str(payload, plen));
        if (rc == 0)
            rc = wl_dict_set(v, "n", sxp_value_int((int64_t)t->counter++));
        if (rc == 0)
            rc = sxp_value_to_text(v, &text, &text_len, NULL);
        if (rc < 0) {
            stop = 1;
            goto out;
        }
    }
    uint32_t id = crash_report_intent(w->rep, del ? CRASH_KV_DEL : CRASH_KV_PUT, key, key_len, 0, 0,
                                      NULL, NULL, NULL, text, text_len, NULL);
    if (id == 0) {
        stop = 1;
        goto out;
    }
    rc = del ? sxp_kv_delete(w->store, key, key_len, &err)
             : sxp_kv_put(w->store, key, key_len, v, &err);
    if (crash_report_done(w->rep, id, rc) < 0)
        stop = 1;
    else if (rc < 0)
        stop = wl_failed(t, rc, &err, del ? "kv-delete" : "kv-put");
out:
    sxp_value_free(v);
    free(text);
    return stop;
}

static int wl_blob(struct wl_thread *t)
{
    struct crash_workload *w = t->sh->w;
    char cid[SXP_CID_LEN + 1], got[SXP_CID_LEN + 1];
    struct sxp_err err;
    size_t len;
    uint64_t r = wl_below(t, 100);
    uint64_t saved = t->rng;
    if (w->existing_only)
        r = 0;
    if (r < 30) {
        /* One of a few common blobs: puts of what is there already. */
        t->rng = crash_mix(w->seed, 1000 + wl_below(t, 4));
        len = 1000;
    } else if (r < 55) {
        len = (size_t)wl_below(t, 65);
    } else if (r < 97) {
        len = (size_t)wl_below(t, 8192);
    } else {
        len = (size_t)wl_below(t, 128 << 10);
    }
    char *bytes = malloc(len ? len : 1);
    if (bytes == NULL)
        return 1;
    wl_fill(t, bytes, len);
    if (r < 30)
        t->rng = saved + 1;
    sxp_cid_of(bytes, len, cid);
    uint32_t id =
        crash_report_intent(w->rep, CRASH_BLOB, "", 0, 0, 0, NULL, NULL, NULL, NULL, 0, cid);
    if (id == 0) {
        free(bytes);
        return 1;
    }
    int rc = sxp_blob_put(w->store, bytes, len, got, &err);
    if (rc == 0 && strcmp(got, cid) != 0)
        rc = -EPROTO; /* the engine named the blob wrongly */
    free(bytes);
    if (crash_report_done(w->rep, id, rc) < 0)
        return 1;
    return rc < 0 && wl_failed(t, rc, &err, "blob-put");
}

/* READS: a violation seen by a reader. */
static void wl_read_bad(struct wl_thread *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void wl_read_bad(struct wl_thread *t, const char *fmt, ...)
{
    struct crash_workload *w = t->sh->w;
    char msg[sizeof(w->read_msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&t->sh->err_mu);
    if (w->read_bad++ == 0)
        memcpy(w->read_msg, msg, sizeof(msg));
    pthread_mutex_unlock(&t->sh->err_mu);
    if (w->abort_bad_read) {
        fprintf(stderr, "sxp-crash: BAD: a reader saw: %s\n", msg);
        abort();
    }
}

static int64_t wl_seq_at(const sxp_value *list, size_t i)
{
    return sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(list, i), "seq", 3));
}

/* READS: reads a stream and checks what it shows; returns 1 when the
 * thread should stop. */
static int wl_read(struct wl_thread *t)
{
    struct crash_workload *w = t->sh->w;
    unsigned si = (unsigned)wl_below(t, w->nstreams);
    struct wl_stream *st = &t->sh->st[si];
    const char *name = t->sh->names[si];
    size_t len = t->sh->name_lens[si];
    char pname[32];
    sxp_value *list = NULL, *again = NULL, *range = NULL;
    struct sxp_err err;
    int64_t hw1 = 0, hw2 = 0, failed[WL_FAILED_MAX];
    snprintf(pname, sizeof(pname), "%u", si);

    pthread_mutex_lock(&st->mu);
    int64_t acked = st->acked, gone = st->gone, seen = st->seen_hw;
    unsigned nfailed = st->nfailed < WL_FAILED_MAX ? st->nfailed : WL_FAILED_MAX;
    memcpy(failed, st->failed, sizeof(failed));
    pthread_mutex_unlock(&st->mu);

    int rc = sxp_stream_last_seq(w->store, name, len, &hw1, &err);
    if (rc == 0)
        rc = sxp_stream_read(w->store, name, len, &list, &err);
    if (rc == 0)
        rc = sxp_stream_last_seq(w->store, name, len, &hw2, &err);
    if (rc < 0) {
        sxp_value_free(list);
        return wl_failed(t, rc, &err, "read");
    }
    if (hw1 < acked)
        wl_read_bad(t, "stream %s: last-seq %lld below acknowledged %lld", pname, (long long)hw1,
                    (long long)acked);
    if (hw1 < seen || hw2 < hw1)
        wl_read_bad(t, "stream %s: last-seq went down from %lld to %lld", pname,
                    (long long)(hw1 < seen ? seen : hw1), (long long)(hw1 < seen ? hw1 : hw2));
    int64_t prev = INT64_MIN;
    for (size_t i = 0; i < sxp_value_len(list); i++) {
        int64_t seq = wl_seq_at(list, i);
        if (seq <= prev)
            wl_read_bad(t, "stream %s: seq %lld after %lld", pname, (long long)seq,
                        (long long)prev);
        if (seq > hw2)
            wl_read_bad(t, "stream %s: seq %lld above last-seq %lld", pname, (long long)seq,
                        (long long)hw2);
        if (seq <= gone)
            wl_read_bad(t, "stream %s: seq %lld read after an acknowledged truncate removed it",
                        pname, (long long)seq);
        for (unsigned k = 0; k < nfailed; k++)
            if (failed[k] == seq)
                wl_read_bad(t, "stream %s: seq %lld of a failed append is visible", pname,
                            (long long)seq);
        prev = seq;
    }

    /* read-range against read, when nothing changed around it. */
    size_t nl = sxp_value_len(list);
    int64_t from = nl && wl_below(t, 4) ? wl_seq_at(list, (size_t)wl_below(t, nl))
                                        : (int64_t)wl_below(t, (uint64_t)(hw2 + 3));
    from += wl_below(t, 4) == 0; /* sometimes between two events */
    int64_t limit = 1 + (int64_t)wl_below(t, 5);
    rc = sxp_stream_read_range(w->store, name, len, from, limit, &range, &err);
    if (rc == 0)
        rc = sxp_stream_read(w->store, name, len, &again, &err);
    if (rc < 0) {
        sxp_value_free(list);
        sxp_value_free(range);
        return wl_failed(t, rc, &err, "read-range");
    }
    if (sxp_value_equal(list, again)) {
        size_t k = 0, j = 0;
        while (k < nl && wl_seq_at(list, k) < from)
            k++;
        for (; j < sxp_value_len(range); j++, k++)
            if (k >= nl ||
                !sxp_value_equal(sxp_value_list_get(range, j), sxp_value_list_get(list, k)))
                break;
        if (j != sxp_value_len(range) || (j < (size_t)limit && k < nl))
            wl_read_bad(t,
                        "stream %s: read-range from %lld limit %lld gave %zu events, not what "
                        "read gives from there",
                        pname, (long long)from, (long long)limit, sxp_value_len(range));
    }
    pthread_mutex_lock(&st->mu);
    if (hw2 > st->seen_hw)
        st->seen_hw = hw2;
    pthread_mutex_unlock(&st->mu);
    sxp_value_free(list);
    sxp_value_free(again);
    sxp_value_free(range);
    return 0;
}

static int wl_syncfs_seed(uint64_t seed)
{
    return (seed >> 10) & 1;
}

static int wl_journal_mix_seed(uint64_t seed)
{
    return (seed >> 12) & 1;
}

/* Under wl_journal_mix_seed, one op in eight turns every round's going
 * through JOURNAL on or off (store_set_journal_rounds): a busy log's
 * zeros, which only rounds of its own write, then take journaled lines
 * too, as rounds of several logs make them (journal.c J-12). */
static void wl_journal_turn(struct wl_thread *t)
{
    struct crash_workload *w = t->sh->w;
    if (wl_journal_mix_seed(w->seed) && wl_below(t, 8) == 0)
        store_set_journal_rounds(w->store, (int)wl_below(t, 2));
}

static void *wl_thread_main(void *arg)
{
    struct wl_thread *t = arg;
    struct wl_shared *sh = t->sh;
    struct crash_workload *w = sh->w;
    while (!atomic_load(&sh->stop)) {
        if (w->ops != 0 && atomic_fetch_add(&sh->issued, 1) >= w->ops)
            break;
        if (w->deadline_ns != 0 && crash_now_ns() >= w->deadline_ns)
            break;
        wl_journal_turn(t);
        uint64_t r = wl_below(t, 100);
        int stop;
        if (w->existing_only) /* append, batch, delete, blob, read */
            r = r < 35 ? 0 : r < 55 ? 50 : r < 75 ? 80 : r < 90 ? 88 : 95;
        else if (w->truncates) /* truncate, append, batch */
            r = r % 3 == 0 ? 60 : r % 3 == 1 ? 0 : 50;
        if (r < 46)
            stop = wl_append(t, 0);
        else if (r < 59)
            stop = wl_append(t, 1);
        else if (r < 64)
            stop = wl_truncate(t);
        else if (r < 78)
            stop = wl_kv(t, 0);
        else if (r < 83)
            stop = wl_kv(t, 1);
        else if (r < 93)
            stop = wl_blob(t);
        else
            stop = wl_read(t);
        atomic_fetch_add(&sh->done, 1);
        if (stop)
            break;
    }
    return NULL;
}

int crash_sync_each_log_by_seed(uint64_t seed)
{
    return ((seed >> 13) & 1) && !wl_syncfs_seed(seed);
}

void crash_syncfs_by_seed(uint64_t seed)
{
    store_set_open_syncfs(wl_syncfs_seed(seed) ? 1 : 0);
    /* Half the seeds write .seq files two at a time, so that a close of
     * a few streams reuses its temp files (engine/seqfile.c RECYCLING). */
    seqfile_set_chunk((seed >> 11) & 1 ? 2 : 0);
}

int crash_workload_run(struct crash_workload *w)
{
    struct wl_shared *sh = calloc(1, sizeof(*sh));
    struct wl_thread *th = NULL;
    pthread_t *tids = NULL;
    unsigned started = 0;
    int rc = 0;
    if (sh == NULL)
        return -ENOMEM;
    if (w->nstreams == 0 || w->nstreams > WL_MAX_STREAMS)
        w->nstreams = w->nstreams == 0 ? 8 : WL_MAX_STREAMS;
    if (w->nkeys == 0)
        w->nkeys = 8;
    if (w->threads == 0)
        w->threads = 1;
    unsigned ckpt_logs = (unsigned)((w->seed >> 8) % 4);
    if (ckpt_logs)
        store_set_checkpoint_logs(w->store, ckpt_logs);
    /* Half the seeds make every checkpoint one syncfs (journal.c J-11);
     * not a store opened with sync_each_log, whose bound this would lower
     * from SIZE_MAX again, silently (store.c). */
    if (wl_syncfs_seed(w->seed) && !w->sync_each_log)
        store_set_checkpoint_syncfs(w->store, 1);
    /* Half the seeds make a log busy at its 4th append of a session, so
     * that its zeros come early (commit.c PRE-ZEROING), and send its
     * rounds through the journal or not by turns (wl_journal_turn). */
    if (wl_journal_mix_seed(w->seed))
        store_set_zero_after(w->store, 4);
    w->errors = 0;
    w->first_error = 0;
    w->first_msg[0] = '\0';
    w->read_bad = 0;
    w->read_msg[0] = '\0';
    sh->w = w;
    pthread_mutex_init(&sh->err_mu, NULL);
    sh->st = calloc(w->nstreams, sizeof(*sh->st));
    th = calloc(w->threads, sizeof(*th));
    tids = calloc(w->threads, sizeof(*tids));
    if (sh->st == NULL || th == NULL || tids == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < w->nstreams; i++) {
        struct sxp_err err;
        int64_t hw = 0;
        pthread_mutex_init(&sh->st[i].mu, NULL);
        crash_stream_name(i, sh->names[i], &sh->name_lens[i]);
        if (rc == 0)
            rc = sxp_stream_last_seq(w->store, sh->names[i], sh->name_lens[i], &hw, &err);
        sh->st[i].next = hw + 1;
        sh->st[i].acked = hw;
        sh->st[i].seen_hw = hw;
    }
    if (rc == 0 && w->existing_only) {
        sxp_value *list = NULL;
        struct sxp_err err;
        rc = sxp_stream_list(w->store, &list, &err);
        for (unsigned i = 0; rc == 0 && i < w->nstreams; i++)
            for (size_t j = 0; j < sxp_value_len(list); j++) {
                size_t l = 0;
                const char *p = sxp_value_as_str(sxp_value_list_get(list, j), &l);
                if (l == sh->name_lens[i] && memcmp(p, sh->names[i], l) == 0)
                    sh->st[i].listed = 1;
            }
        sxp_value_free(list);
    }
    if (rc < 0)
        goto out;
    for (unsigned i = 0; i < w->threads; i++) {
        th[i].sh = sh;
        th[i].idx = i;
        th[i].rng = crash_mix(w->seed, i + 1);
    }
    if (w->threads == 1) {
        /* One thread: run it here, so the order of calls is deterministic
         * and no thread is left behind if the caller's process dies. */
        wl_thread_main(&th[0]);
    } else {
        for (; started < w->threads; started++)
            if (pthread_create(&tids[started], NULL, wl_thread_main, &th[started]) != 0) {
                atomic_store(&sh->stop, 1);
                rc = -EAGAIN;
                break;
            }
        for (unsigned i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
    }
    w->done_ops = atomic_load(&sh->done);
    w->errors = atomic_load(&sh->errors);
out:
    if (sh->st != NULL)
        for (unsigned i = 0; i < w->nstreams; i++)
            pthread_mutex_destroy(&sh->st[i].mu);
    pthread_mutex_destroy(&sh->err_mu);
    free(sh->st);
    free(th);
    free(tids);
    free(sh);
    return rc;
}
