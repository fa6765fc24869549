/*
 * dispatch.c -- sxp_store_op and sxp_store_request: the C twin of the
 * reference's handle_op.
 *
 * A request is the SX text "(OP ARG...)": a list whose head is the symbol
 * naming an operation of SPEC.md section 4. Where the reference coerced
 * anything to a string and ignored extra or missing arguments, sxp checks:
 * wrong arity is an error (kind "arity"), a stream name, key, blob or cid
 * that is not a string is an error (kind "type"), an unknown op is an error
 * (kind "op"). Results are the reference's: nil, lists, integers, booleans,
 * strings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_int.h"
#include "sx.h"

typedef int (*dispatch_fn)(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                           struct sxp_err *err);

/* The string bytes of argument i, or a "type" error naming the op. */
static int dispatch_str(const char *op, const sxp_value *v, const char *what, const char **out,
                        size_t *out_len, struct sxp_err *err)
{
    if (v->type != SXP_STR)
        return err_setk(err, -EINVAL, "type", "%s: %s must be a string", op, what);
    *out = v->u.s.p;
    *out_len = v->u.s.len;
    return 0;
}

static int dispatch_int(const char *op, const sxp_value *v, const char *what, int64_t *out,
                        struct sxp_err *err)
{
    if (v->type != SXP_INT)
        return err_setk(err, -EINVAL, "type", "%s: %s must be an integer", op, what);
    *out = v->u.i;
    return 0;
}

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

#define STR_ARG(op, i, what, p, n)                                                                 \
    const char *p = NULL;                                                                          \
    size_t n = 0;                                                                                  \
    int rc = dispatch_str(op, a[i], what, &p, &n, err);                                            \
    if (rc)                                                                                        \
    return rc

static int op_append(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    STR_ARG("persist/append", 0, "stream", name, len);
    rc = sxp_stream_append(s, name, len, a[1], err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_append_batch(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                           struct sxp_err *err)
{
    STR_ARG("persist/append-batch", 0, "stream", name, len);
    if (a[1]->type != SXP_LIST)
        return err_setk(err, -EINVAL, "type", "persist/append-batch: events must be a list");
    rc = sxp_stream_append_batch(s, name, len, (const sxp_value *const *)a[1]->u.list.items,
                                 a[1]->u.list.len, err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_read(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    STR_ARG("persist/read", 0, "stream", name, len);
    return sxp_stream_read(s, name, len, out, err);
}

static int op_read_range(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                         struct sxp_err *err)
{
    int64_t from = 0, limit = 0;
    STR_ARG("persist/read-range", 0, "stream", name, len);
    rc = dispatch_int("persist/read-range", a[1], "from-seq", &from, err);
    if (!rc)
        rc = dispatch_int("persist/read-range", a[2], "limit", &limit, err);
    if (rc)
        return rc;
    if (limit < 0)
        return err_setk(err, -EINVAL, "arg", "persist/read-range: limit must not be negative");
    return sxp_stream_read_range(s, name, len, from, limit, out, err);
}

static int op_last_seq(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                       struct sxp_err *err)
{
    int64_t hw;
    STR_ARG("persist/last-seq", 0, "stream", name, len);
    rc = sxp_stream_last_seq(s, name, len, &hw, err);
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
    int64_t n = 0;
    STR_ARG("persist/truncate", 0, "stream", name, len);
    rc = dispatch_int("persist/truncate", a[1], "n", &n, err);
    if (!rc)
        rc = sxp_stream_truncate(s, name, len, n, err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_kv_get(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    STR_ARG("persist/kv-get", 0, "key", key, len);
    return sxp_kv_get(s, key, len, out, err);
}

static int op_kv_put(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    STR_ARG("persist/kv-put", 0, "key", key, len);
    rc = sxp_kv_put(s, key, len, a[1], err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_kv_delete(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                        struct sxp_err *err)
{
    STR_ARG("persist/kv-delete", 0, "key", key, len);
    rc = sxp_kv_delete(s, key, len, err);
    return rc ? rc : dispatch_nil(out, err);
}

static int op_kv_has(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    int has = 0;
    STR_ARG("persist/kv-has?", 0, "key", key, len);
    rc = sxp_kv_has(s, key, len, &has, err);
    return rc ? rc : dispatch_bool(has, out, err);
}

static int op_kv_keys(sxp_store *s, const sxp_value *const *a, sxp_value **out, struct sxp_err *err)
{
    (void)a;
    return sxp_kv_keys(s, out, err);
}

/* A cid argument: a string with no NUL in it (then cid.c validates it). */
static int dispatch_cid(const char *op, const sxp_value *v, const char **out, struct sxp_err *err)
{
    const char *p = NULL;
    size_t n = 0;
    int rc = dispatch_str(op, v, "cid", &p, &n, err);
    if (rc)
        return rc;
    if (strlen(p) != n)
        return err_setk(err, -EINVAL, "cid", "%s: not a well-formed cid", op);
    *out = p;
    return 0;
}

static int op_blob_put(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                       struct sxp_err *err)
{
    char cid[SXP_CID_LEN + 1];
    STR_ARG("blob/put", 0, "bytes", bytes, len);
    rc = sxp_blob_put(s, bytes, len, cid, err);
    if (rc)
        return rc;
    *out = sxp_value_str(cid, strlen(cid));
    return *out ? 0 : err_set(err, -ENOMEM, "out of memory");
}

static int op_blob_get(sxp_store *s, const sxp_value *const *a, sxp_value **out,
                       struct sxp_err *err)
{
    const char *cid = NULL;
    void *bytes = NULL;
    size_t len = 0;
    int rc = dispatch_cid("blob/get", a[0], &cid, err);
    if (!rc)
        rc = sxp_blob_get(s, cid, &bytes, &len, err);
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
    const char *cid = NULL;
    int has = 0;
    int rc = dispatch_cid("blob/has?", a[0], &cid, err);
    if (!rc)
        rc = sxp_blob_has(s, cid, &has, err);
    return rc ? rc : dispatch_bool(has, out, err);
}

static const struct dispatch_op {
    const char *name;
    size_t arity;
    const char *usage;
    dispatch_fn fn;
} dispatch_ops[] = {
    {"persist/append", 2, "(persist/append STREAM EVENT)", op_append},
    {"persist/append-batch", 2, "(persist/append-batch STREAM (list EVENT...))", op_append_batch},
    {"persist/read", 1, "(persist/read STREAM)", op_read},
    {"persist/read-range", 3, "(persist/read-range STREAM FROM-SEQ LIMIT)", op_read_range},
    {"persist/last-seq", 1, "(persist/last-seq STREAM)", op_last_seq},
    {"persist/streams", 0, "(persist/streams)", op_streams},
    {"persist/truncate", 2, "(persist/truncate STREAM N)", op_truncate},
    {"persist/kv-get", 1, "(persist/kv-get KEY)", op_kv_get},
    {"persist/kv-put", 2, "(persist/kv-put KEY VALUE)", op_kv_put},
    {"persist/kv-delete", 1, "(persist/kv-delete KEY)", op_kv_delete},
    {"persist/kv-has?", 1, "(persist/kv-has? KEY)", op_kv_has},
    {"persist/kv-keys", 0, "(persist/kv-keys)", op_kv_keys},
    {"blob/put", 1, "(blob/put BYTES)", op_blob_put},
    {"blob/get", 1, "(blob/get CID)", op_blob_get},
    {"blob/has?", 1, "(blob/has? CID)", op_blob_has},
};

int sxp_store_op(sxp_store *s, const char *op, const sxp_value *args, sxp_value **out,
                 struct sxp_err *err)
{
    *out = NULL;
    err_clear(err);
    if (!args || args->type != SXP_LIST)
        return err_setk(err, -EINVAL, "arity", "%s: arguments must be a list", op);
    for (size_t i = 0; i < sizeof(dispatch_ops) / sizeof(dispatch_ops[0]); i++) {
        const struct dispatch_op *d = &dispatch_ops[i];
        if (strcmp(d->name, op) != 0)
            continue;
        if (args->u.list.len != d->arity)
            return err_setk(err, -EINVAL, "arity", "%s takes %zu argument%s, not %zu: %s", op,
                            d->arity, d->arity == 1 ? "" : "s", args->u.list.len, d->usage);
        return d->fn(s, (const sxp_value *const *)args->u.list.items, out, err);
    }
    return err_setk(err, -EINVAL, "op", "unknown operation \"%.100s\"", op);
}

int sxp_store_request(sxp_store *s, const char *text, size_t len, sxp_value **out,
                      struct sxp_err *err)
{
    sxp_value *req = NULL;
    *out = NULL;
    int rc = sx_parse(text, len, &req, err);
    if (rc)
        return rc;
    if (req->type != SXP_LIST || req->u.list.len == 0 || req->u.list.items[0]->type != SXP_SYM) {
        sxp_value_free(req);
        return err_setk(err, -EINVAL, "parse",
                        "a request is (OP ARG...), e.g. "
                        "(persist/read \"orders\")");
    }
    /* The arguments are the list without its head. */
    sxp_value *head = req->u.list.items[0];
    struct sxp_value args = *req;
    args.u.list.items = req->u.list.items + 1;
    args.u.list.len = req->u.list.len - 1;
    rc = sxp_store_op(s, head->u.s.p, &args, out, err);
    sxp_value_free(req);
    return rc;
}
