/*
 * fuzz_request.c -- the request dispatcher (sxp_store_request, include/
 * sxp.h) on arbitrary request text: any local process may send any line.
 *
 * One store is made per process in $TMPDIR/sxp-fuzz-request-XXXXXX/store, opened
 * with SXP_SYNC_NONE (speed; durability is not the question here) and
 * reused by every input; it is remade from scratch every
 * FUZZ_REQUEST_RESET inputs so it stays small. At its making, SENTINELS are
 * written under names no request is likely to hold (they contain the bytes
 * FUZZ_SENTINEL_MARK): a stream of three events, a kv key, a blob.
 *
 * PROPERTIES, for any request text R:
 *   FRQ-1  sxp_store_request(R) returns 0 with a result whose text
 *          serializes, or a negative errno that sxp.h lists with a kind word
 *          and no result. Never a crash, a hang or a leak.
 *   FRQ-2  The sentinels read back exactly as written (unless R holds
 *          FUZZ_SENTINEL_MARK; then the store is remade after R).
 *   FRQ-3  A failed request, and any request whose op only reads (read,
 *          read-range, last-seq, streams, kv-get, kv-has?, kv-keys,
 *          blob/get, blob/has?), changes nothing on disk: the name, size and
 *          mtime of every file under the store but LOCK are the same after.
 *   FRQ-4  A request that succeeds did what its op says, as read back
 *          through the C API (values compared by canonical text): after
 *          append or append-batch the stream's last-seq is the (last)
 *          event's :seq and its read ends with that event; after kv-put
 *          kv-get gives the value; after kv-delete
 *          kv-has? is false; after blob/put the result is cid_of(bytes) and
 *          blob/get gives the bytes; after truncate N no event of the stream
 *          has seq <= N and last-seq did not go down. Every read result holds
 *          events with strictly increasing :seq.
 *   FRQ-5  sxp_request_check(R), which needs no store, refuses R with the
 *          code, kind and message sxp_store_request gave; or passes it, and
 *          then R succeeded or failed on what only the store knows, never
 *          with a kind of a wrong argument (dispatch.c D-2).
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cid.h"
#include "sx.h"

#define FUZZ_REQUEST_RESET 2000
#define FUZZ_SENTINEL_MARK "SXPSENTINEL"

static const char fuzz_sentinel_stream[] = "\x01" FUZZ_SENTINEL_MARK "\x02stream\x7f";
static const char fuzz_sentinel_key[] = "\x01" FUZZ_SENTINEL_MARK "\x02key\x7f";
static const char fuzz_sentinel_blob[] = "\x01" FUZZ_SENTINEL_MARK "\x02blob bytes\x7f";
static const char *const fuzz_sentinel_events[] = {
    "{:a \"x\\ty\" :seq 7}",
    "{:b (list 1 2.5 nil) :seq 8}",
    "{:c {:d :e} :seq 30}",
};
static const char fuzz_sentinel_value[] = "{:k (list true false \"\\n\") :n -3}";

static struct {
    char dir[PATH_MAX];  /* the temp directory */
    char root[PATH_MAX]; /* the store inside it */
    sxp_store *s;
    unsigned inputs;  /* since the store was made */
    char *sent_read;  /* canonical text of the sentinel stream's read */
    char *sent_value; /* canonical text of the sentinel kv value */
    char sent_cid[SXP_CID_LEN + 1];
} fuzz_rq;

/* Parses text that this file wrote, or aborts. */
static sxp_value *fuzz_request_val(const char *text)
{
    sxp_value *v = NULL;
    struct sxp_err err;
    int rc = sx_parse(text, strlen(text), &v, &err);
    FUZZ_CHECKF(rc == 0, " %s: %s", text, err.msg);
    return v;
}

static char *fuzz_request_text(const sxp_value *v)
{
    char *t = fuzz_text(v, NULL, NULL);
    FUZZ_CHECK(t != NULL);
    return t;
}

static void fuzz_request_open(void)
{
    struct sxp_options o;
    struct sxp_err err;
    sxp_options_init(&o);
    o.sync = SXP_SYNC_NONE;
    o.quiet = 1;
    int rc = sxp_store_open(fuzz_rq.root, &o, &fuzz_rq.s, &err);
    FUZZ_CHECKF(rc == 0, " open %s: %s", fuzz_rq.root, err.msg);
}

/* Makes the store and writes the sentinels. */
static void fuzz_request_init(void)
{
    struct sxp_err err;
    int rc;
    fuzz_tmpdir("request", fuzz_rq.dir);
    fuzz_fmt(fuzz_rq.root, sizeof(fuzz_rq.root), "%s/store", fuzz_rq.dir);
    fuzz_request_open();
    sxp_store *s = fuzz_rq.s;
    for (size_t i = 0; i < sizeof(fuzz_sentinel_events) / sizeof(fuzz_sentinel_events[0]); i++) {
        sxp_value *ev = fuzz_request_val(fuzz_sentinel_events[i]);
        rc = sxp_stream_append(s, fuzz_sentinel_stream, sizeof(fuzz_sentinel_stream) - 1, ev, &err);
        FUZZ_CHECKF(rc == 0, " sentinel append: %s", err.msg);
        sxp_value_free(ev);
    }
    sxp_value *v = fuzz_request_val(fuzz_sentinel_value);
    rc = sxp_kv_put(s, fuzz_sentinel_key, sizeof(fuzz_sentinel_key) - 1, v, &err);
    FUZZ_CHECKF(rc == 0, " sentinel kv-put: %s", err.msg);
    fuzz_rq.sent_value = fuzz_request_text(v);
    sxp_value_free(v);
    rc =
        sxp_blob_put(s, fuzz_sentinel_blob, sizeof(fuzz_sentinel_blob) - 1, fuzz_rq.sent_cid, &err);
    FUZZ_CHECKF(rc == 0, " sentinel blob/put: %s", err.msg);
    sxp_value *list = NULL;
    rc = sxp_stream_read(s, fuzz_sentinel_stream, sizeof(fuzz_sentinel_stream) - 1, &list, &err);
    FUZZ_CHECKF(rc == 0, " sentinel read: %s", err.msg);
    fuzz_rq.sent_read = fuzz_request_text(list);
    sxp_value_free(list);
    fuzz_rq.inputs = 0;
    /* libFuzzer ends with exit(); the replay test resets first. */
    static int registered;
    if (!registered++)
        atexit(fuzz_request_reset);
}

void fuzz_request_reset(void)
{
    if (fuzz_rq.s)
        (void)sxp_store_close(fuzz_rq.s);
    fuzz_rq.s = NULL;
    if (fuzz_rq.dir[0])
        fuzz_rmrf(fuzz_rq.dir);
    fuzz_rq.dir[0] = '\0';
    free(fuzz_rq.sent_read);
    free(fuzz_rq.sent_value);
    fuzz_rq.sent_read = fuzz_rq.sent_value = NULL;
}

/* FRQ-2 */
static void fuzz_request_sentinels(void)
{
    struct sxp_err err;
    sxp_value *v = NULL;
    int64_t hw = 0;
    int rc = sxp_stream_read(fuzz_rq.s, fuzz_sentinel_stream, sizeof(fuzz_sentinel_stream) - 1, &v,
                             &err);
    FUZZ_CHECKF(rc == 0, " sentinel read: %s", err.msg);
    char *t = fuzz_request_text(v);
    FUZZ_CHECKF(strcmp(t, fuzz_rq.sent_read) == 0, " sentinel stream now reads %.300s", t);
    free(t);
    sxp_value_free(v);
    rc = sxp_stream_last_seq(fuzz_rq.s, fuzz_sentinel_stream, sizeof(fuzz_sentinel_stream) - 1, &hw,
                             &err);
    FUZZ_CHECKF(rc == 0 && hw == 30, " sentinel last-seq rc %d hw %lld", rc, (long long)hw);
    rc = sxp_kv_get(fuzz_rq.s, fuzz_sentinel_key, sizeof(fuzz_sentinel_key) - 1, &v, &err);
    FUZZ_CHECKF(rc == 0, " sentinel kv-get: %s", err.msg);
    t = fuzz_request_text(v);
    FUZZ_CHECKF(strcmp(t, fuzz_rq.sent_value) == 0, " sentinel key now holds %.300s", t);
    free(t);
    sxp_value_free(v);
    void *bytes = NULL;
    size_t len = 0;
    rc = sxp_blob_get(fuzz_rq.s, fuzz_rq.sent_cid, &bytes, &len, &err);
    FUZZ_CHECKF(rc == 0 && len == sizeof(fuzz_sentinel_blob) - 1 &&
                    memcmp(bytes, fuzz_sentinel_blob, len) == 0,
                " sentinel blob rc %d len %zu", rc, len);
    free(bytes);
}

/* ---- FRQ-3: a cheap picture of the tree -------------------------------- */

struct fuzz_snap {
    char *p;
    size_t len, cap;
};

static void fuzz_snap_add(struct fuzz_snap *sn, const char *s, size_t n)
{
    if (sn->len + n + 1 > sn->cap) {
        size_t ncap = sn->cap ? sn->cap : 4096;
        while (ncap < sn->len + n + 1)
            ncap *= 2;
        char *np = realloc(sn->p, ncap);
        FUZZ_CHECK(np != NULL);
        sn->p = np;
        sn->cap = ncap;
    }
    memcpy(sn->p + sn->len, s, n);
    sn->len += n;
    sn->p[sn->len] = '\0';
}

static int fuzz_snap_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per entry of dir (sorted): name, type, size, mtime. */
static void fuzz_snap_dir(struct fuzz_snap *sn, const char *rel)
{
    char path[PATH_MAX];
    fuzz_fmt(path, sizeof(path), "%s/%s", fuzz_rq.root, rel);
    DIR *d = opendir(path);
    if (!d) {
        fuzz_snap_add(sn, "-\n", 2);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            (rel[0] == '\0' && strcmp(e->d_name, "LOCK") == 0))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = fuzz_realloc(names, cap * sizeof(*names));
        }
        names[n] = strdup(e->d_name);
        FUZZ_CHECK(names[n] != NULL);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), fuzz_snap_cmp);
    for (size_t i = 0; i < n; i++) {
        char line[PATH_MAX + 128];
        struct stat st;
        fuzz_fmt(path, sizeof(path), "%s/%s/%s", fuzz_rq.root, rel, names[i]);
        int w;
        if (lstat(path, &st) != 0)
            w = snprintf(line, sizeof(line), "%s/%s ?\n", rel, names[i]);
        else
            w = snprintf(line, sizeof(line), "%s/%s %o %lld %lld.%09ld\n", rel, names[i],
                         (unsigned)st.st_mode, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                         st.st_mtim.tv_nsec);
        fuzz_snap_add(sn, line, (size_t)w < sizeof(line) ? (size_t)w : sizeof(line) - 1);
        free(names[i]);
    }
    free(names);
}

static char *fuzz_snap_take(void)
{
    struct fuzz_snap sn = {NULL, 0, 0};
    fuzz_snap_dir(&sn, "");
    fuzz_snap_dir(&sn, "streams");
    fuzz_snap_dir(&sn, "kv");
    fuzz_snap_dir(&sn, "blobs");
    return sn.p;
}

/* ---- FRQ-4 -------------------------------------------------------------- */

static int fuzz_request_op_is(const char *op, const char *name)
{
    return strcmp(op, name) == 0;
}

/* 1 for the ops that only read. */
static int fuzz_request_readonly(const char *op)
{
    static const char *const ro[] = {
        "persist/read",    "persist/read-range", "persist/last-seq",
        "persist/streams", "persist/kv-get",     "persist/kv-has?",
        "persist/kv-keys", "blob/get",           "blob/has?",
    };
    for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
        if (strcmp(op, ro[i]) == 0)
            return 1;
    return 0;
}

/* 1 for the kinds of error that judge a request's text or arguments, which
 * sxp_request_check gives without a store (FRQ-5). */
static int fuzz_request_argument_kind(const char *kind)
{
    static const char *const args[] = {
        "parse", "op", "arity", "type", "name", "cid", "arg", "limit",
    };
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
        if (strcmp(kind, args[i]) == 0)
            return 1;
    return 0;
}

/* Events of a read result have strictly increasing :seq. */
static void fuzz_request_increasing(const sxp_value *list)
{
    FUZZ_CHECK(sxp_value_type(list) == SXP_LIST);
    int64_t prev = 0;
    for (size_t i = 0; i < sxp_value_len(list); i++) {
        int64_t seq = 0;
        FUZZ_CHECK(sx_event_seq(sxp_value_list_get(list, i), &seq, NULL) == 0);
        FUZZ_CHECKF(i == 0 || seq > prev, " seq %lld after %lld", (long long)seq, (long long)prev);
        prev = seq;
    }
}

/* The stream's read result (checked increasing); the caller frees it. */
static sxp_value *fuzz_request_read(const char *name, size_t len)
{
    sxp_value *list = NULL;
    struct sxp_err err;
    int rc = sxp_stream_read(fuzz_rq.s, name, len, &list, &err);
    FUZZ_CHECKF(rc == 0, " read after a successful op: %s", err.msg);
    fuzz_request_increasing(list);
    return list;
}

static int64_t fuzz_request_hw(const char *name, size_t len)
{
    int64_t hw = 0;
    struct sxp_err err;
    int rc = sxp_stream_last_seq(fuzz_rq.s, name, len, &hw, &err);
    FUZZ_CHECKF(rc == 0, " last-seq after a successful op: %s", err.msg);
    return hw;
}

/* Checks that the stream ends with ev and its last-seq is ev's seq. */
static void fuzz_request_ends_with(const char *name, size_t len, const sxp_value *ev)
{
    int64_t seq = 0;
    FUZZ_CHECK(sx_event_seq(ev, &seq, NULL) == 0);
    FUZZ_CHECK(fuzz_request_hw(name, len) == seq);
    sxp_value *list = fuzz_request_read(name, len);
    size_t n = sxp_value_len(list);
    FUZZ_CHECK(n > 0 && fuzz_same_text(sxp_value_list_get(list, n - 1), ev));
    sxp_value_free(list);
}

/* What the request did, read back. req is the parsed request, res its result;
 * hw_before is the last-seq of its stream argument before it ran. */
static void fuzz_request_effect(const sxp_value *req, const sxp_value *res, int64_t hw_before)
{
    const char *op = sxp_value_as_str(sxp_value_list_get(req, 0), NULL);
    const sxp_value *a0 = sxp_value_len(req) > 1 ? sxp_value_list_get(req, 1) : NULL;
    const sxp_value *a1 = sxp_value_len(req) > 2 ? sxp_value_list_get(req, 2) : NULL;
    size_t len = 0;
    const char *name = a0 ? sxp_value_as_str(a0, &len) : NULL;
    struct sxp_err err;
    sxp_value *v = NULL;
    int rc;

    if (fuzz_request_op_is(op, "persist/append")) {
        fuzz_request_ends_with(name, len, a1);
    } else if (fuzz_request_op_is(op, "persist/append-batch")) {
        size_t n = sxp_value_len(a1);
        if (n > 0)
            fuzz_request_ends_with(name, len, sxp_value_list_get(a1, n - 1));
        else
            FUZZ_CHECK(fuzz_request_hw(name, len) == hw_before);
    } else if (fuzz_request_op_is(op, "persist/read") ||
               fuzz_request_op_is(op, "persist/read-range")) {
        fuzz_request_increasing(res);
        if (fuzz_request_op_is(op, "persist/read-range")) {
            int64_t from = sxp_value_as_int(a1);
            int64_t limit = sxp_value_as_int(sxp_value_list_get(req, 3));
            FUZZ_CHECK((int64_t)sxp_value_len(res) <= limit);
            for (size_t i = 0; i < sxp_value_len(res); i++) {
                int64_t seq = 0;
                FUZZ_CHECK(sx_event_seq(sxp_value_list_get(res, i), &seq, NULL) == 0);
                FUZZ_CHECK(seq >= from);
            }
        }
    } else if (fuzz_request_op_is(op, "persist/truncate")) {
        int64_t n = sxp_value_as_int(a1);
        sxp_value *list = fuzz_request_read(name, len);
        for (size_t i = 0; i < sxp_value_len(list); i++) {
            int64_t seq = 0;
            FUZZ_CHECK(sx_event_seq(sxp_value_list_get(list, i), &seq, NULL) == 0);
            FUZZ_CHECKF(seq > n, " event %lld survived truncate %lld", (long long)seq,
                        (long long)n);
        }
        sxp_value_free(list);
        FUZZ_CHECK(fuzz_request_hw(name, len) == hw_before);
    } else if (fuzz_request_op_is(op, "persist/kv-put")) {
        rc = sxp_kv_get(fuzz_rq.s, name, len, &v, &err);
        FUZZ_CHECKF(rc == 0 && fuzz_same_text(v, a1), " kv-get after kv-put: rc %d", rc);
        sxp_value_free(v);
    } else if (fuzz_request_op_is(op, "persist/kv-delete")) {
        int has = 1;
        rc = sxp_kv_has(fuzz_rq.s, name, len, &has, &err);
        FUZZ_CHECK(rc == 0 && has == 0);
    } else if (fuzz_request_op_is(op, "blob/put")) {
        char cid[SXP_CID_LEN + 1];
        size_t clen = 0;
        const char *got = sxp_value_as_str(res, &clen);
        cid_of(name, len, cid);
        FUZZ_CHECK(sxp_value_type(res) == SXP_STR && clen == SXP_CID_LEN &&
                   memcmp(got, cid, SXP_CID_LEN) == 0);
        void *bytes = NULL;
        size_t blen = 0;
        rc = sxp_blob_get(fuzz_rq.s, cid, &bytes, &blen, &err);
        FUZZ_CHECK(rc == 0 && blen == len && (len == 0 || memcmp(bytes, name, len) == 0));
        free(bytes);
    } else if (fuzz_request_op_is(op, "blob/get")) {
        if (sxp_value_type(res) == SXP_STR) {
            char cid[SXP_CID_LEN + 1];
            size_t blen = 0;
            const char *bytes = sxp_value_as_str(res, &blen);
            cid_of(bytes, blen, cid);
            FUZZ_CHECK(len == SXP_CID_LEN && memcmp(cid, name, SXP_CID_LEN) == 0);
        } else {
            FUZZ_CHECK(sxp_value_type(res) == SXP_NIL);
        }
    } else if (fuzz_request_op_is(op, "persist/kv-keys") ||
               fuzz_request_op_is(op, "persist/streams")) {
        /* Sorted by bytes, each a non-empty string. */
        FUZZ_CHECK(sxp_value_type(res) == SXP_LIST);
        size_t plen = 0;
        const char *prev = NULL;
        for (size_t i = 0; i < sxp_value_len(res); i++) {
            size_t l = 0;
            const sxp_value *it = sxp_value_list_get(res, i);
            const char *p = sxp_value_as_str(it, &l);
            FUZZ_CHECK(sxp_value_type(it) == SXP_STR && l > 0);
            if (prev) {
                size_t m = l < plen ? l : plen;
                int c = memcmp(prev, p, m);
                FUZZ_CHECK(c < 0 || (c == 0 && plen < l));
            }
            prev = p;
            plen = l;
        }
    }
}

int fuzz_request_one(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct sxp_err err;
    sxp_value *res = NULL, *req = NULL;
    char *before = NULL, *after = NULL;
    int64_t hw_before = 0;
    const char *op = NULL;

    if (!fuzz_rq.s)
        fuzz_request_init();

    /* The request as this file reads it, to know its op and arguments. */
    if (sx_parse(text, size, &req, NULL) == 0 && sxp_value_type(req) == SXP_LIST &&
        sxp_value_len(req) > 0 && sxp_value_type(sxp_value_list_get(req, 0)) == SXP_SYM) {
        op = sxp_value_as_str(sxp_value_list_get(req, 0), NULL);
        const sxp_value *a0 = sxp_value_len(req) > 1 ? sxp_value_list_get(req, 1) : NULL;
        if (a0 && sxp_value_type(a0) == SXP_STR) {
            size_t len = 0;
            const char *name = sxp_value_as_str(a0, &len);
            if (len >= 1 && len <= 125 &&
                sxp_stream_last_seq(fuzz_rq.s, name, len, &hw_before, NULL) != 0)
                hw_before = 0;
        }
    }
    before = fuzz_snap_take();

    memset(&err, 0, sizeof(err));
    int rc = sxp_store_request(fuzz_rq.s, text, size, &res, &err);
    if (fuzz_verbose())
        fprintf(stderr, "fuzz_request: rc %d %s %s\n", rc, err.kind ? err.kind : "", err.msg);

    /* FRQ-1 */
    if (rc == 0) {
        FUZZ_CHECK(res != NULL);
        char *t = fuzz_text(res, NULL, &rc);
        FUZZ_CHECKF(t != NULL, " the result does not serialize: rc %d", rc);
        free(t);
        /* FRQ-4 (what the dispatcher ran is what this file parsed). */
        FUZZ_CHECK(op != NULL);
        fuzz_request_effect(req, res, hw_before);
    } else {
        FUZZ_CHECKF(rc < 0 && fuzz_known_errno(rc), " sxp_store_request returned %d: %s", rc,
                    err.msg);
        FUZZ_CHECK(res == NULL);
        FUZZ_CHECK(err.code == rc && err.kind && err.kind[0]);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
    }

    /* FRQ-5 */
    struct sxp_err cerr;
    memset(&cerr, 0, sizeof(cerr));
    int crc = sxp_request_check(text, size, &cerr);
    if (crc != 0)
        FUZZ_CHECKF(crc == rc && strcmp(cerr.kind, err.kind) == 0 && strcmp(cerr.msg, err.msg) == 0,
                    " the check gave %d %s: %s; the store %d %s: %s", crc, cerr.kind, cerr.msg, rc,
                    err.kind, err.msg);
    else if (rc != 0)
        FUZZ_CHECKF(!fuzz_request_argument_kind(err.kind),
                    " the check passed what the store refused as %s: %s", err.kind, err.msg);

    /* FRQ-3 */
    after = fuzz_snap_take();
    if (rc != 0 || (op && fuzz_request_readonly(op)))
        FUZZ_CHECKF(strcmp(before, after) == 0, " %s changed the tree:\n%s\n--- became ---\n%s",
                    rc ? "a failed request" : op, before, after);

    /* FRQ-2 */
    int named = size >= strlen(FUZZ_SENTINEL_MARK) &&
                memmem(text, size, FUZZ_SENTINEL_MARK, strlen(FUZZ_SENTINEL_MARK)) != NULL;
    if (!named)
        fuzz_request_sentinels();

    sxp_value_free(res);
    sxp_value_free(req);
    free(before);
    free(after);
    if (named || ++fuzz_rq.inputs >= FUZZ_REQUEST_RESET)
        fuzz_request_reset();
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_request_one(data, size);
}
#endif
