/*
 * dispatch.c -- sxp_store_op and sxp_store_request: the C twin of the
 * reference's handle_op; and sxp_op_check and sxp_request_check, the same
 * checks without a store.
 *
 * A request is the SX text "(OP ARG...)": a list whose head is the symbol
 * naming an operation of SPEC.md section 4. Where the reference coerced
 * anything to a string and ignored extra or missing arguments, sxp checks:
 * wrong arity is an error (kind "arity"), a stream name, key, blob or cid
 * that is not a string is an error (kind "type"), an unknown op is an error
 * (kind "op"). Results are the reference's: nil, lists, integers, booleans,
 * strings.
 *
 * Each op of dispatch_ops has a check function, which judges its arguments
 * without a store, and a run function, which does the op on a store:
 *
 *   D-1  Every check of a request that needs no store is in the check
 *        functions (or in the engine functions they call: layout.c's name
 *        rule, cid.c's, append.c AP-1..AP-3, kv_encode, blob_check_len),
 *        in argument order: the op is known, the arity, then each argument
 *        in turn.
 *   D-2  sxp_store_op runs the op's check before its run function, and the
 *        engine functions a run function calls judge their arguments
 *        before the store's state (read-only, a fence). So a request that
 *        sxp_op_check refuses gets from sxp_store_op the same code, kind and
 *        message, whatever the store; and one it passes can fail only on
 *        what needs the store (a seq at or below the high-water mark, a
 *        read-only or fenced store, what is on the disk) or for memory.
 *   D-3  The size limits that need a value's text (an event's line, a
 *        batch, a kv value) are applied by the op itself as it writes that
 *        text (append_frame, kv_encode), so sxp_store_op's check leaves
 *        them out (encode 0) and a value is serialized once; sxp_op_check
 *        applies them (encode 1) through the same functions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "err.h"
#include "store_int.h"
#include "sx.h"

/* Judges the arguments a[0..arity) of op without a store (D-1); encode:
 * also the limits of D-3. */
typedef int (*dispatch_check_fn)(const char *op, const sxp_value *const *a, int encode,
                                 struct sxp_err *err);
/* Runs op on s with arguments that passed its check. */
typedef int (*dispatch_fn)(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                           struct sxp_err *err);

/* ---- argument checks (no store) ------------------------------------------ */

static int dispatch_str(const char *op, const sxp_value *v, const char *what, struct sxp_err *err)
{
    if (v->type != SXP_STR)
        return err_setk(err, -EINVAL, "type", "%s: %s must be a string", op, what);
    return 0;
}

static int dispatch_int(const char *op, const sxp_value *v, const char *what, struct sxp_err *err)
{
    if (v->type != SXP_INT)
        return err_setk(err, -EINVAL, "type", "%s: %s must be an integer", op, what);
    return 0;
}

/* A stream name or kv key: a string within the name rule of layout.h. */
static int dispatch_name(const char *op, const sxp_value *v, const char *what, size_t max,
                         struct sxp_err *err)
{
    int rc = dispatch_str(op, v, what, err);
    return rc ? rc : layout_check_name(what, v->u.s.p, v->u.s.len, max, err);
}

/* A cid: a string with no NUL in it, well-formed (CID-1). */
static int dispatch_cid(const char *op, const sxp_value *v, struct sxp_err *err)
{
    int rc = dispatch_str(op, v, "cid", err);
    if (rc)
        return rc;
    if (strlen(v->u.s.p) != v->u.s.len)
        return err_setk(err, -EINVAL, "cid", "%s: not a well-formed cid", op);
    return cid_check(v->u.s.p, err);
}

static int check_stream(const char *op, const sxp_value *const *a, int encode, struct sxp_err *err)
{
    (void)encode;
    return dispatch_name(op, a[0], "stream", LAYOUT_STREAM_MAX, err);
}

static int check_append(const char *op, const sxp_value *const *a, int encode, struct sxp_err *err)
{
    struct buf b = BUF_INIT;
    int64_t seq;
    int rc = dispatch_name(op, a[0], "stream", LAYOUT_STREAM_MAX, err);
    if (!rc)
        rc = append_check_seqs(&a[1], 1, 0, &seq, &seq, err);
    if (!rc && encode)
        rc = append_frame(&a[1], 1, 0, &b, err);
    buf_free(&b);
    return rc;
}

static int check_append_batch(const char *op, const sxp_value *const *a, int encode,
                              struct sxp_err *err)
{
    struct buf b = BUF_INIT;
    int64_t first, last;
    int rc = dispatch_name(op, a[0], "stream", LAYOUT_STREAM_MAX, err);
    if (rc)
        return rc;
    if (a[1]->type != SXP_LIST)
        return err_setk(err, -EINVAL, "type", "%s: events must be a list", op);
    const sxp_value *const *events = (const sxp_value *const *)a[1]->u.list.items;
    size_t n = a[1]->u.list.len;
    rc = append_check_seqs(events, n, 1, &first, &last, err);
    if (!rc && encode)
        rc = append_frame(events, n, 1, &b, err);
    buf_free(&b);
    return rc;
}

static int check_read_range(const char *op, const sxp_value *const *a, int encode,
                            struct sxp_err *err)
{
    (void)encode;
    int rc = dispatch_name(op, a[0], "stream", LAYOUT_STREAM_MAX, err);
    if (!rc)
        rc = dispatch_int(op, a[1], "from-seq", err);
    if (!rc)
        rc = dispatch_int(op, a[2], "limit", err);
    if (!rc && a[2]->u.i < 0)
        rc = err_setk(err, -EINVAL, "arg", "%s: limit must not be negative", op);
    return rc;
}

static int check_truncate(const char *op, const sxp_value *const *a, int encode,
                          struct sxp_err *err)
{
    (void)encode;
    int rc = dispatch_name(op, a[0], "stream", LAYOUT_STREAM_MAX, err);
    return rc ? rc : dispatch_int(op, a[1], "n", err);
}

static int check_key(const char *op, const sxp_value *const *a, int encode, struct sxp_err *err)
{
    (void)encode;
    return dispatch_name(op, a[0], "key", LAYOUT_KEY_MAX, err);
}

static int check_kv_put(const char *op, const sxp_value *const *a, int encode, struct sxp_err *err)
{
    struct buf b = BUF_INIT;
    int rc = dispatch_name(op, a[0], "key", LAYOUT_KEY_MAX, err);
    if (!rc && encode)
        rc = kv_encode(a[1], &b, err);
    buf_free(&b);
    return rc;
}

static int check_blob_put(const char *op, const sxp_value *const *a, int encode,
                          struct sxp_err *err)
{
    (void)encode;
    int rc = dispatch_str(op, a[0], "bytes", err);
    return rc ? rc : blob_check_len(a[0]->u.s.len, err);
}

static int check_cid(const char *op, const sxp_value *const *a, int encode, struct sxp_err *err)
{
    (void)encode;
    return dispatch_cid(op, a[0], err);
}

/* ---- running an op (its arguments checked) -------------------------------- */

static int dispatch_nil(sxp_value **out, struct sxp_err *err)
{
    *out = sxp_value_nil();
    return *out ? 0 : err_set(err, -ENOMEM, "out of memory");
}

static int dispatch_bool(int b, sxp_value **out, struct sxp_err *err)
{
    *out = sxp_value_bool(b);
    return *out ? 0 : err_set(err, -ENOMEM, "out of memory");
}

/* The bytes and the length of a string argument (its check made sure it
 * is one), as two arguments of an engine function. */
#define STR_OF(v) (v)->u.s.p, (v)->u.s.len

static int op_append(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    int rc = sxp_stream_append(s, STR_OF(a[0]), a[1], err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_append_batch(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                           struct sxp_err *err)
{
    int rc = sxp_stream_append_batch(s, STR_OF(a[0]), (const sxp_value *const *)a[1]->u.list.items,
                                     a[1]->u.list.len, err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_read(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    return sxp_stream_read(s, STR_OF(a[0]), out, err);
}

static int op_read_range(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                         struct sxp_err *err)
{
    return sxp_stream_read_range(s, STR_OF(a[0]), a[1]->u.i, a[2]->u.i, out, err);
}

static int op_last_seq(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                       struct sxp_err *err)
{
    int64_t hw;
    int rc = sxp_stream_last_seq(s, STR_OF(a[0]), &hw, err);
    if (rc)
        return rc;
    *out = sxp_value_int(hw);
    return *out ? 0 : err_set(err, -ENOMEM, "out of memory");
}

static int op_streams(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    (void)a;
    return sxp_stream_list(s, out, err);
}

static int op_truncate(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                       struct sxp_err *err)
{
    int rc = sxp_stream_truncate(s, STR_OF(a[0]), a[1]->u.i, err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_kv_get(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    return sxp_kv_get(s, STR_OF(a[0]), out, err);
}

static int op_kv_put(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    int rc = sxp_kv_put(s, STR_OF(a[0]), a[1], err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_kv_delete(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                        struct sxp_err *err)
{
    int rc = sxp_kv_delete(s, STR_OF(a[0]), err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_kv_has(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    int has = 0;
    int rc = sxp_kv_has(s, STR_OF(a[0]), &has, err);
    return rc ? rc : dispatch_bool(has, out, err);
}

static int op_kv_keys(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    (void)a;
    return sxp_kv_keys(s, out, err);
}

static int op_blob_put(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                       struct sxp_err *err)
{
    char cid[SXP_CID_LEN + 1];
    int rc = sxp_blob_put(s, STR_OF(a[0]), cid, err);
    if (rc)
        return rc;
    *out = sxp_value_str(cid, strlen(cid));
    return *out ? 0 : err_set(err, -ENOMEM, "out of memory");
}

static int op_blob_get(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                       struct sxp_err *err)
{
    void *bytes = NULL;
    size_t len = 0;
    int rc = sxp_blob_get(s, a[0]->u.s.p, &bytes, &len, err);
    if (rc)
        return rc;
    if (!bytes)
        return dispatch_nil(out, err);
    *out = sxp_value_str(bytes, len);
    free(bytes);
    return *out ? 0 : err_set(err, -ENOMEM, "out of memory");
}

static int op_blob_has(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                       struct sxp_err *err)
{
    int has = 0;
    int rc = sxp_blob_has(s, a[0]->u.s.p, &has, err);
    return rc ? rc : dispatch_bool(has, out, err);
}

/* ---- the table ------------------------------------------------------------- */

static const struct dispatch_op {
    const char *name;
    size_t arity;
    const char *usage;
    dispatch_check_fn check; /* NULL: no argument to judge */
    dispatch_fn fn;
} dispatch_ops[] = {
    {"persist/append", 2, "(persist/append STREAM EVENT)", check_append, op_append},
    {"persist/append-batch", 2, "(persist/append-batch STREAM (list EVENT...))", check_append_batch,
     op_append_batch},
    {"persist/read", 1, "(persist/read STREAM)", check_stream, op_read},
    {"persist/read-range", 3, "(persist/read-range STREAM FROM-SEQ LIMIT)", check_read_range,
     op_read_range},
    {"persist/last-seq", 1, "(persist/last-seq STREAM)", check_stream, op_last_seq},
    {"persist/streams", 0, "(persist/streams)", NULL, op_streams},
    {"persist/truncate", 2, "(persist/truncate STREAM N)", check_truncate, op_truncate},
    {"persist/kv-get", 1, "(persist/kv-get KEY)", check_key, op_kv_get},
    {"persist/kv-put", 2, "(persist/kv-put KEY VALUE)", check_kv_put, op_kv_put},
    {"persist/kv-delete", 1, "(persist/kv-delete KEY)", check_key, op_kv_delete},
    {"persist/kv-has?", 1, "(persist/kv-has? KEY)", check_key, op_kv_has},
    {"persist/kv-keys", 0, "(persist/kv-keys)", NULL, op_kv_keys},
    {"blob/put", 1, "(blob/put BYTES)", check_blob_put, op_blob_put},
    {"blob/get", 1, "(blob/get CID)", check_cid, op_blob_get},
    {"blob/has?", 1, "(blob/has? CID)", check_cid, op_blob_has},
};

/* D-1: finds op and judges args; *out: its table entry. encode: D-3. */
static int dispatch_check(const char *op, const sxp_value *args, int encode,
                          const struct dispatch_op **out, struct sxp_err *err)
{
    *out = NULL;
    err_clear(err);
    if (!op)
        return err_setk(err, -EINVAL, "op", "no operation (NULL)");
    if (!args || args->type != SXP_LIST)
        return err_setk(err, -EINVAL, "arity", "%s: arguments must be a list", op);
    for (size_t i = 0; i < sizeof(dispatch_ops) / sizeof(dispatch_ops[0]); i++) {
        const struct dispatch_op *d = &dispatch_ops[i];
        if (strcmp(d->name, op) != 0)
            continue;
        if (args->u.list.len != d->arity)
            return err_setk(err, -EINVAL, "arity", "%s takes %zu argument%s, not %zu: %s", op,
                            d->arity, d->arity == 1 ? "" : "s", args->u.list.len, d->usage);
        int rc =
            d->check ? d->check(op, (const sxp_value *const *)args->u.list.items, encode, err) : 0;
        if (!rc)
            *out = d;
        return rc;
    }
    return err_setk(err, -EINVAL, "op", "unknown operation \"%.100s\"", op);
}

int sxp_op_check(const char *op, const sxp_value *args, struct sxp_err *err)
{
    const struct dispatch_op *d;
    return dispatch_check(op, args, 1, &d, err);
}

int sxp_store_op(sxp_store *s, const char *op, const sxp_value *args, sxp_value **out,
                 struct sxp_err *err)
{
    const struct dispatch_op *d;
    *out = NULL;
    int rc = dispatch_check(op, args, 0, &d, err);
    if (rc)
        return rc;
    return d->fn(s, (const sxp_value *const *)args->u.list.items, out, err);
}

/* Parses a request "(OP ARG...)". *out_req: the parsed list, which the
 * caller frees; *out_op: its head's name; *out_args: a view of the list
 * without its head, valid while *out_req lives. */
static int dispatch_parse(const char *text, size_t len, sxp_value **out_req, const char **out_op,
                          struct sxp_value *out_args, struct sxp_err *err)
{
    sxp_value *req = NULL;
    *out_req = NULL;
    int rc = sx_parse(text, len, &req, err);
    if (rc)
        return rc;
    if (req->type != SXP_LIST || req->u.list.len == 0 || req->u.list.items[0]->type != SXP_SYM) {
        sxp_value_free(req);
        return err_setk(err, -EINVAL, "parse",
                        "a request is (OP ARG...), e.g. "
                        "(persist/read \"orders\")");
    }
    const struct sxp_value *head = req->u.list.items[0];
    if (memchr(head->u.s.p, '\0', head->u.s.len) != NULL) {
        /* The op goes on as a C string: "persist/kv-put\0junk" would run
         * persist/kv-put. No op's name holds a NUL. */
        sxp_value_free(req);
        return err_setk(err, -EINVAL, "op", "unknown operation (its name holds a NUL byte)");
    }
    *out_req = req;
    *out_op = head->u.s.p;
    *out_args = *req;
    out_args->u.list.items = req->u.list.items + 1;
    out_args->u.list.len = req->u.list.len - 1;
    return 0;
}

int sxp_request_check(const char *text, size_t len, struct sxp_err *err)
{
    sxp_value *req = NULL;
    const char *op = NULL;
    struct sxp_value args;
    int rc = dispatch_parse(text, len, &req, &op, &args, err);
    if (!rc)
        rc = sxp_op_check(op, &args, err);
    sxp_value_free(req);
    return rc;
}

int sxp_store_request(sxp_store *s, const char *text, size_t len, sxp_value **out,
                      struct sxp_err *err)
{
    sxp_value *req = NULL;
    const char *op = NULL;
    struct sxp_value args;
    *out = NULL;
    int rc = dispatch_parse(text, len, &req, &op, &args, err);
    if (!rc)
        rc = sxp_store_op(s, op, &args, out, err);
    sxp_value_free(req);
    return rc;
}
