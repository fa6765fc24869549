/*
 * sxp.h -- the public interface of sxp, a crash-safe log-structured store.
 *
 * sxp answers the persist/... and blob/... operations of the SX language's
 * persist library (SPEC.md section 4) on the on-disk layout of SPEC.md
 * section 1, durably: every acknowledged operation survives a process kill
 * and a power loss.
 *
 * This is the only public header. Every type is opaque.
 *
 * ERRORS. A function that can fail returns 0 or a negative errno and, when
 * given a struct sxp_err, fills it with a stable kind word and a one-line
 * message naming the file and byte offset where that applies. The codes:
 *
 *   -EINVAL   bad argument: malformed SX, wrong arity, bad name, bad cid,
 *             a non-dict event, a missing or non-integer :seq
 *   -ERANGE   seq at or below the high-water mark, or not increasing
 *   -E2BIG    a request over a size limit
 *   -EBADMSG  checksum mismatch on a stored line or blob
 *   -EUCLEAN  corruption that recovery will not hide (run sxp-fsck)
 *   -EAGAIN   the store is locked by another read-write process
 *   -EROFS    a write to a store opened read-only
 *   -ENOTEMPTY  a read-write open of a directory that holds files but is
 *             not a store (kind "notstore"; nothing is written in it)
 *   -EIO, -ENOSPC, ...  the disk said no; nothing was acknowledged
 *   -ENOMEM   out of memory
 *
 * A failed fdatasync is never retried as if the data were safe: the stream
 * it belongs to refuses further writes (-EIO) until the store is reopened.
 * After a failed write (a full disk: -ENOSPC) the next append to the
 * stream cuts its log back to the acknowledged events and goes on, so
 * appends succeed again once there is room, with no reopen.
 */
#ifndef SXP_H
#define SXP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SXP_API __attribute__((visibility("default")))
#define SXP_MUST_CHECK __attribute__((warn_unused_result))
#else
#define SXP_API
#define SXP_MUST_CHECK
#endif

/* Error report. The caller owns it; filling it never allocates. */
struct sxp_err {
    int code;         /* 0 or a negative errno, as returned */
    const char *kind; /* stable word: "seq", "name", "cid", "parse", "arity",
                         "type", "arg", "op", "limit", "checksum", "corrupt",
                         "locked", "readonly", "notstore", "io", "nomem",
                         "stopped", "busy", "unrecovered"; "" when code is
                         0 */
    char msg[512];    /* one line, no trailing newline */
};

/* ---- SX values (SPEC.md section 2) -------------------------------------- */

typedef struct sxp_value sxp_value;

enum sxp_type {
    SXP_NIL,
    SXP_BOOL,
    SXP_INT,  /* int64 */
    SXP_NUM,  /* finite double */
    SXP_STR,  /* byte string with a length */
    SXP_SYM,  /* (quote name) */
    SXP_KW,   /* :name */
    SXP_LIST, /* (list a b c) */
    SXP_DICT, /* {:k v ...}, keys are byte strings */
};

/* Constructors return a new value owned by the caller, or NULL when out of
 * memory. sxp_value_list_push and sxp_value_dict_set take ownership of the
 * item (and free it on failure). */
SXP_API sxp_value *sxp_value_nil(void);
SXP_API sxp_value *sxp_value_bool(int b);
SXP_API sxp_value *sxp_value_int(int64_t i);
SXP_API sxp_value *sxp_value_num(double d);
SXP_API sxp_value *sxp_value_str(const void *bytes, size_t len);
SXP_API sxp_value *sxp_value_sym(const char *name, size_t len);
SXP_API sxp_value *sxp_value_kw(const char *name, size_t len);
SXP_API sxp_value *sxp_value_list(void);
SXP_API sxp_value *sxp_value_dict(void);
SXP_API SXP_MUST_CHECK int sxp_value_list_push(sxp_value *list, sxp_value *item);
/* Sets key to item, replacing an earlier item of the same key. */
SXP_API SXP_MUST_CHECK int sxp_value_dict_set(sxp_value *dict, const char *key, size_t key_len,
                                              sxp_value *item);
/* A deep copy of v; NULL when memory runs out, or when v nests deeper
 * than 4,096 levels (no SX text does: the reader and writer stop at 256). */
SXP_API sxp_value *sxp_value_copy(const sxp_value *v);
/* Frees v and all it holds, at any depth. Accepts NULL. */
SXP_API void sxp_value_free(sxp_value *v);

/* Accessors. They never fail; on a value of the wrong type they return 0,
 * NULL or an empty string. Returned pointers live as long as the value. */
SXP_API enum sxp_type sxp_value_type(const sxp_value *v);
SXP_API int sxp_value_as_bool(const sxp_value *v);
SXP_API int64_t sxp_value_as_int(const sxp_value *v);
SXP_API double sxp_value_as_num(const sxp_value *v);
/* Bytes of a string, symbol or keyword; *out_len gets the length. */
SXP_API const char *sxp_value_as_str(const sxp_value *v, size_t *out_len);
SXP_API size_t sxp_value_len(const sxp_value *v); /* items of a list or pairs of a dict */
SXP_API const sxp_value *sxp_value_list_get(const sxp_value *list, size_t i);
/* The i-th pair of a dict in insertion order. */
SXP_API const sxp_value *sxp_value_dict_at(const sxp_value *dict, size_t i, const char **out_key,
                                           size_t *out_key_len);
SXP_API const sxp_value *sxp_value_dict_get(const sxp_value *dict, const char *key, size_t key_len);
/* 1 when the two values are equal: the same type and contents (a NUM is
 * never equal to an INT; -0.0 equals 0.0), else 0. Two distinct values
 * that nest deeper than 4,096 levels are never equal. */
SXP_API int sxp_value_equal(const sxp_value *a, const sxp_value *b);

/* Parses exactly one SX value from text[0..len) (surrounding whitespace
 * allowed). *out is a new value owned by the caller. -EINVAL on malformed
 * text, an int64 overflow, a duplicate dict key or trailing data. */
SXP_API SXP_MUST_CHECK int sxp_value_parse(const char *text, size_t len, sxp_value **out,
                                           struct sxp_err *err);
/* Writes the canonical text of v into a new malloc'd NUL-terminated buffer
 * *out (length *out_len, the NUL not counted); the caller frees it. -EINVAL
 * for NaN or infinity, or a dict key that would not read back. */
SXP_API SXP_MUST_CHECK int sxp_value_to_text(const sxp_value *v, char **out, size_t *out_len,
                                             struct sxp_err *err);

/* ---- The store ---------------------------------------------------------- */

typedef struct sxp_store sxp_store;

/* When an operation is acknowledged. */
enum sxp_sync_mode {
    SXP_SYNC_ALWAYS = 0, /* durable: fdatasync and directory fsync before ack */
    SXP_SYNC_NONE = 1,   /* the reference's durability: survives a kill only */
};

/* How the store reaches the disk. */
enum sxp_io_kind {
    SXP_IO_AUTO = 0,  /* io_uring, else plain syscalls (said once on stderr);
                         under SXP_SYNC_NONE plain syscalls (nothing to
                         overlap); the environment variable
                         SXP_IO=sync|uring overrides */
    SXP_IO_URING = 1, /* io_uring or fail */
    SXP_IO_SYNC = 2,  /* plain syscalls */
};

struct sxp_options {
    enum sxp_sync_mode sync;
    enum sxp_io_kind io;
    int read_only;           /* no lock, no recovery, every write is -EROFS */
    unsigned max_open_files; /* log descriptors kept open; 0: a safe default */
    int quiet;               /* 1: no notices on stderr (recovery, fallback) */
    int sync_each_log;       /* 1: a journal checkpoint fdatasyncs each of its
                                logs, the close each .seq file, recovery
                                each file it repairs; 0: one syncfs(2)
                                serves 64 or more (docs/durability.md, on
                                a filesystem that other programs write
                                much to) */
};

/* The root a store opened on dir has: dir when it is neither NULL nor
 * empty, else $SX_PERSIST_DIR when that is set and not empty, else
 * "persist-data" (SPEC section 1). The string is dir, the environment's,
 * or static. */
SXP_API const char *sxp_store_resolve_dir(const char *dir);

/* Fills o with the defaults: durable, io_uring when available. */
SXP_API void sxp_options_init(struct sxp_options *o);

/* Opens (creating if needed) the store rooted at dir; NULL means
 * $SX_PERSIST_DIR, else ./persist-data. A read-write open takes the
 * exclusive LOCK (-EAGAIN naming dir and the holder's pid if taken) and runs
 * recovery unless the store was closed cleanly; -EUCLEAN if recovery finds
 * corruption it must not hide. o may be NULL for the defaults; a sync mode
 * or I/O kind not named above is -EINVAL, before anything is made. */
SXP_API SXP_MUST_CHECK int sxp_store_open(const char *dir, const struct sxp_options *o,
                                          sxp_store **out, struct sxp_err *err);
/* Waits for in-flight operations, syncs high-water marks, marks the store
 * clean and releases it. Returns the first error met; the store is freed
 * either way. Accepts NULL. A store where a write failed this session (a
 * kv or blob write, a truncate, a directory fsync) is left unclean, not an
 * error by itself: the next open's recovery removes what the failure
 * left. */
SXP_API int sxp_store_close(sxp_store *s);

/* The root directory the store was opened on. */
SXP_API const char *sxp_store_dir(const sxp_store *s);

/* Counters since open. */
struct sxp_stats {
    uint64_t appends;          /* events acknowledged */
    uint64_t batches;          /* group-commit rounds */
    uint64_t fdatasyncs;       /* fdatasync and fsync calls issued */
    uint64_t bytes;            /* bytes written to logs */
    uint64_t in_flight;        /* append calls queued or being committed now */
    uint64_t open_files;       /* log descriptors open now */
    uint64_t streams;          /* streams in memory: used (appended to, read, asked
                                  last-seq, truncated) since the open; not those on disk */
    const char *io_name;       /* "io_uring" or "sync" */
    int recovered;             /* 1 when open ran recovery; then: */
    unsigned rec_tails_cut;    /* torn log tails cut */
    uint64_t rec_bytes_cut;    /* bytes cut from them */
    unsigned rec_tails_saved;  /* of them, copied to lost+found/ first: they held
                                  whole lines, or bytes the .seq may cover
                                  (docs/recovery.md R-3) */
    unsigned rec_hw_rolled;    /* .seq files rolled forward */
    unsigned rec_seq_created;  /* .seq files recreated */
    unsigned rec_tmp_removed;  /* temp files removed */
    unsigned rec_unborn;       /* empty logs of streams never appended to, removed */
    unsigned rec_logs_scanned; /* logs whose tail recovery read */
    unsigned rec_logs_skipped; /* logs it did not read: not on the dirty list */
    uint64_t refusing;         /* streams refusing writes now, after an I/O failure */
    uint64_t revived;          /* streams that took writes again after a failed write */
};
SXP_API void sxp_store_stats(sxp_store *s, struct sxp_stats *out);

/* Stream names are byte strings of 1 to 125 bytes, kv keys 1 to 127. */

/* Appends event, a dict whose :seq is an integer above the stream's
 * high-water mark; returns once it is durable. Nothing is written on error. */
SXP_API SXP_MUST_CHECK int sxp_stream_append(sxp_store *s, const char *stream, size_t stream_len,
                                             const sxp_value *event, struct sxp_err *err);
/* Appends events[0..n) whose seqs strictly increase above the high-water
 * mark; all or, after a crash before the ack, a prefix. Validated whole
 * before anything is written. */
SXP_API SXP_MUST_CHECK int sxp_stream_append_batch(sxp_store *s, const char *stream,
                                                   size_t stream_len,
                                                   const sxp_value *const *events, size_t n,
                                                   struct sxp_err *err);
/* *out: a new list of the surviving events in append order. */
SXP_API SXP_MUST_CHECK int sxp_stream_read(sxp_store *s, const char *stream, size_t stream_len,
                                           sxp_value **out, struct sxp_err *err);
/* *out: a new list of at most limit events with seq >= from_seq; a
 * negative limit is no limit, as for sxp_stream_scan (the request form,
 * (persist/read-range S FROM LIMIT), refuses one: kind "arg"). */
SXP_API SXP_MUST_CHECK int sxp_stream_read_range(sxp_store *s, const char *stream,
                                                 size_t stream_len, int64_t from_seq, int64_t limit,
                                                 sxp_value **out, struct sxp_err *err);
/* Calls fn(ctx, event) for each surviving event with seq >= from_seq
 * (INT64_MIN: every event), at most limit of them (negative: no limit), in
 * append order, without building a list: memory stays bounded however long
 * the log. Every line's checksum is verified first, as for sxp_stream_read.
 * event is lent: it is valid only until fn returns and must not be freed.
 * fn returns 0 to go on; a positive value stops the scan, which returns it;
 * a negative errno stops it too, and is returned with err kind "stopped".
 * Events before a damaged line are visited; the scan then fails as
 * sxp_stream_read does: -EBADMSG for a line whose checksum or trailer is
 * wrong, -EUCLEAN (kind "corrupt") for one without a trailer that is no
 * event, such as the NUL bytes of a torn tail that only recovery cuts (a
 * line without a trailer reads as the reference's format). fn NULL is
 * -EINVAL. fn may call the store, but the scan holds the stream's log
 * until fn returns: a truncate of the scanned stream from fn is -EDEADLK
 * (kind "busy"), and so is any call of fn's on that stream that would
 * wait for another thread's truncate of it. */
typedef int (*sxp_event_fn)(void *ctx, const sxp_value *event);
SXP_API SXP_MUST_CHECK int sxp_stream_scan(sxp_store *s, const char *stream, size_t stream_len,
                                           int64_t from_seq, int64_t limit, sxp_event_fn fn,
                                           void *ctx, struct sxp_err *err);
SXP_API SXP_MUST_CHECK int sxp_stream_last_seq(sxp_store *s, const char *stream, size_t stream_len,
                                               int64_t *out, struct sxp_err *err);
/* *out: a new list of stream names (strings), sorted by bytes. */
SXP_API SXP_MUST_CHECK int sxp_stream_list(sxp_store *s, sxp_value **out, struct sxp_err *err);
/* Drops the events with seq <= n; the high-water mark is kept. */
SXP_API SXP_MUST_CHECK int sxp_stream_truncate(sxp_store *s, const char *stream, size_t stream_len,
                                               int64_t n, struct sxp_err *err);

/* *out: a new value, or a new nil when the key is absent. */
SXP_API SXP_MUST_CHECK int sxp_kv_get(sxp_store *s, const char *key, size_t key_len,
                                      sxp_value **out, struct sxp_err *err);
SXP_API SXP_MUST_CHECK int sxp_kv_put(sxp_store *s, const char *key, size_t key_len,
                                      const sxp_value *value, struct sxp_err *err);
SXP_API SXP_MUST_CHECK int sxp_kv_delete(sxp_store *s, const char *key, size_t key_len,
                                         struct sxp_err *err);
SXP_API SXP_MUST_CHECK int sxp_kv_has(sxp_store *s, const char *key, size_t key_len, int *out,
                                      struct sxp_err *err);
SXP_API SXP_MUST_CHECK int sxp_kv_keys(sxp_store *s, sxp_value **out, struct sxp_err *err);

/* A cid is 59 characters: "b" and the base32 of a CIDv1 raw sha2-256. */
#define SXP_CID_LEN 59
/* The largest blob sxp_blob_put takes: -E2BIG (kind "limit") beyond. */
#define SXP_BLOB_MAX ((size_t)1 << 30)

SXP_API SXP_MUST_CHECK int sxp_blob_put(sxp_store *s, const void *bytes, size_t len,
                                        char out_cid[SXP_CID_LEN + 1], struct sxp_err *err);
/* *out: malloc'd bytes the caller frees, or NULL with *out_len 0 when the
 * blob is absent. -EINVAL when cid is not a well-formed cid; -EBADMSG when
 * the stored bytes do not hash to cid. */
SXP_API SXP_MUST_CHECK int sxp_blob_get(sxp_store *s, const char *cid, void **out, size_t *out_len,
                                        struct sxp_err *err);
SXP_API SXP_MUST_CHECK int sxp_blob_has(sxp_store *s, const char *cid, int *out,
                                        struct sxp_err *err);

/* The C twin of the reference's handle_op: op is an operation name of SPEC
 * section 4, args a list of its arguments. *out: a new result value. */
SXP_API SXP_MUST_CHECK int sxp_store_op(sxp_store *s, const char *op, const sxp_value *args,
                                        sxp_value **out, struct sxp_err *err);
/* Parses one request "(OP ARG...)" and runs it through sxp_store_op. */
SXP_API SXP_MUST_CHECK int sxp_store_request(sxp_store *s, const char *text, size_t len,
                                             sxp_value **out, struct sxp_err *err);

/* Judges op and args as sxp_store_op does before it touches a store: the
 * op is known, its arity, the type of each argument, stream names and kv
 * keys, cids, each event a dict with an integer :seq and the seqs of a
 * batch increasing, and the size limits. Returns 0, or the code, kind and
 * message that sxp_store_op returns for the same request on any store. No
 * store is needed, so a caller can refuse a wrong request before it opens
 * (and perhaps creates) one. A request that passes can still fail on what
 * only a store knows: a seq at or below the high-water mark, a read-only
 * store, the disk. */
SXP_API SXP_MUST_CHECK int sxp_op_check(const char *op, const sxp_value *args, struct sxp_err *err);
/* sxp_op_check of a request "(OP ARG...)" parsed as sxp_store_request
 * parses it: malformed SX fails with the same error there and here. */
SXP_API SXP_MUST_CHECK int sxp_request_check(const char *text, size_t len, struct sxp_err *err);

/* The cid of bytes, without storing anything. */
SXP_API void sxp_cid_of(const void *bytes, size_t len, char out_cid[SXP_CID_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif /* SXP_H */
