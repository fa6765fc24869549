/*
 * test_store.c -- the engine through its public API: every operation and its
 * result text, every seq rule, every bad input (each leaving the store
 * unchanged), framing on disk, a legacy store, concurrency, the lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmocka.h>

#include "sxp.h"
#include "testutil.h"

static void reopen(struct tu_store *c)
{
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = tu_open(c->dir);
}

/* Runs req, which must answer want; the check without a store passes it. */
#define OP_IS(c, req, want)                                                                        \
    do {                                                                                           \
        struct sxp_err cerr_;                                                                      \
        assert_int_equal(sxp_request_check(req, strlen(req), &cerr_), 0);                          \
        char *got_ = tu_op((c)->s, req);                                                           \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

/* dispatch.c D-2: the check without a store either passes what the store
 * refused (rc, err) or refuses it with the same code, kind and message. */
static void assert_check_agrees(const char *req, int rc, const struct sxp_err *err)
{
    struct sxp_err cerr;
    int crc = sxp_request_check(req, strlen(req), &cerr);
    if (crc == 0)
        return;
    assert_int_equal(crc, rc);
    assert_int_equal(cerr.code, rc);
    assert_string_equal(cerr.kind, err->kind);
    assert_string_equal(cerr.msg, err->msg);
}

/* Asserts that req fails with code and kind and that the tree is unchanged,
 * and that the check without a store agrees (D-2). */
static void fails_unchanged(struct tu_store *c, const char *req, int code, const char *kind)
{
    uint64_t before = tu_tree_digest(c->dir);
    sxp_value *out = NULL;
    struct sxp_err err;
    int rc = sxp_store_request(c->s, req, strlen(req), &out, &err);
    assert_int_equal(rc, code);
    assert_null(out);
    assert_int_equal(err.code, rc);
    assert_true(strlen(err.msg) > 0);
    if (kind)
        assert_string_equal(err.kind, kind);
    assert_check_agrees(req, rc, &err);
    assert_true(tu_tree_digest(c->dir) == before);
}

static void append_then_read_returns_the_event(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append \"orders\" {:total 9.5 :seq 1})", "nil");
    OP_IS(c, "(persist/append \"orders\" {:seq 2 :items (list \"a\" :b (quote c))})", "nil");
    OP_IS(c, "(persist/read \"orders\")",
          "(list {:seq 1 :total 9.5} {:items (list \"a\" :b (quote c)) :seq 2})");
    OP_IS(c, "(persist/last-seq \"orders\")", "2");
    OP_IS(c, "(persist/read \"nobody\")", "(list)");
    OP_IS(c, "(persist/last-seq \"nobody\")", "0");
}

static void reading_unknown_streams_leaves_no_trace_in_memory(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append \"known\" {:seq 1})", "nil");
    struct sxp_stats before, after;
    sxp_store_stats(c->s, &before);
    for (int i = 0; i < 1000; i++) {
        char req[128];
        snprintf(req, sizeof(req), "(persist/read \"ghost-%d\")", i);
        OP_IS(c, req, "(list)");
        snprintf(req, sizeof(req), "(persist/last-seq \"ghost-%d\")", i);
        OP_IS(c, req, "0");
        snprintf(req, sizeof(req), "(persist/truncate \"ghost-%d\" 5)", i);
        OP_IS(c, req, "nil");
    }
    sxp_store_stats(c->s, &after);
    assert_int_equal(after.streams, before.streams);
    OP_IS(c, "(persist/streams)", "(list \"known\")");
}

static void every_operation_answers_as_the_reference(void **state)
{
    struct tu_store *c = *state;
    /* A store this open made is not reported as recovered. */
    struct sxp_stats st;
    sxp_store_stats(c->s, &st);
    assert_int_equal(st.recovered, 0);
    OP_IS(c, "(persist/streams)", "(list)");
    OP_IS(c, "(persist/append \"b\" {:seq 5})", "nil");
    OP_IS(c, "(persist/append \"a\" {:seq 1})", "nil");
    OP_IS(c, "(persist/append \"ab\" {:seq 1})", "nil");
    OP_IS(c, "(persist/streams)", "(list \"a\" \"ab\" \"b\")");
    OP_IS(c, "(persist/append-batch \"b\" (list {:seq 6} {:seq 9} {:seq 10}))", "nil");
    OP_IS(c, "(persist/read-range \"b\" 6 2)", "(list {:seq 6} {:seq 9})");
    OP_IS(c, "(persist/read-range \"b\" 7 10)", "(list {:seq 9} {:seq 10})");
    OP_IS(c, "(persist/read-range \"b\" 11 10)", "(list)");
    OP_IS(c, "(persist/read-range \"b\" 0 0)", "(list)");
    OP_IS(c, "(persist/truncate \"b\" 6)", "nil");
    OP_IS(c, "(persist/read \"b\")", "(list {:seq 9} {:seq 10})");
    OP_IS(c, "(persist/last-seq \"b\")", "10");
    OP_IS(c, "(persist/truncate \"b\" 100)", "nil");
    OP_IS(c, "(persist/read \"b\")", "(list)");
    OP_IS(c, "(persist/last-seq \"b\")", "10");
    OP_IS(c, "(persist/streams)", "(list \"a\" \"ab\" \"b\")");
    OP_IS(c, "(persist/truncate \"nobody\" 3)", "nil");
    /* The largest n drops everything; n + 1 must not overflow. */
    OP_IS(c, "(persist/truncate \"a\" 9223372036854775807)", "nil");
    OP_IS(c, "(persist/read \"a\")", "(list)");
    OP_IS(c, "(persist/last-seq \"a\")", "1");

    OP_IS(c, "(persist/kv-get \"k\")", "nil");
    OP_IS(c, "(persist/kv-has? \"k\")", "false");
    OP_IS(c, "(persist/kv-put \"k\" {:a 1})", "nil");
    OP_IS(c, "(persist/kv-put \"j\" (list 1 2))", "nil");
    OP_IS(c, "(persist/kv-get \"k\")", "{:a 1}");
    OP_IS(c, "(persist/kv-has? \"k\")", "true");
    OP_IS(c, "(persist/kv-keys)", "(list \"j\" \"k\")");
    OP_IS(c, "(persist/kv-put \"k\" \"replaced\")", "nil");
    OP_IS(c, "(persist/kv-get \"k\")", "\"replaced\"");
    OP_IS(c, "(persist/kv-delete \"k\")", "nil");
    OP_IS(c, "(persist/kv-delete \"k\")", "nil");
    OP_IS(c, "(persist/kv-keys)", "(list \"j\")");

    OP_IS(c, "(blob/put \"\")", "\"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\"");
    OP_IS(c, "(blob/has? \"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\")", "true");
    OP_IS(c, "(blob/get \"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\")", "\"\"");
    char *cid = tu_op(c->s, "(blob/put \"hello\\nworld\")");
    char *cid2 = tu_op(c->s, "(blob/put \"hello\\nworld\")");
    assert_string_equal(cid, cid2); /* idempotent */
    char req[256];
    snprintf(req, sizeof(req), "(blob/get %s)", cid);
    OP_IS(c, req, "\"hello\\nworld\"");
    free(cid);
    free(cid2);
    /* A well-formed cid that is not stored. */
    OP_IS(c, "(blob/get \"bafkreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe\")", "nil");
}

static void seq_at_or_below_high_water_is_rejected_and_nothing_written(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append \"s\" {:seq 5})", "nil");
    fails_unchanged(c, "(persist/append \"s\" {:seq 5})", -ERANGE, "seq");
    fails_unchanged(c, "(persist/append \"s\" {:seq 4})", -ERANGE, "seq");
    fails_unchanged(c, "(persist/append \"s\" {:seq -9223372036854775808})", -ERANGE, "seq");
    fails_unchanged(c, "(persist/append-batch \"s\" (list {:seq 6} {:seq 6}))", -ERANGE, "seq");
    fails_unchanged(c, "(persist/append-batch \"s\" (list {:seq 7} {:seq 6}))", -ERANGE, "seq");
    fails_unchanged(c, "(persist/append-batch \"s\" (list {:seq 5} {:seq 6}))", -ERANGE, "seq");
    /* After a truncate the high-water mark still rules. */
    OP_IS(c, "(persist/truncate \"s\" 10)", "nil");
    fails_unchanged(c, "(persist/append \"s\" {:seq 5})", -ERANGE, "seq");
    OP_IS(c, "(persist/append \"s\" {:seq 6})", "nil");
    OP_IS(c, "(persist/read \"s\")", "(list {:seq 6})");
}

static void events_that_are_not_dicts_with_integer_seq_are_rejected(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append \"s\" {:seq 1})", "nil");
    fails_unchanged(c, "(persist/append \"s\" (list 1 2))", -EINVAL, "type");
    fails_unchanged(c, "(persist/append \"s\" {:n 2})", -EINVAL, "type");
    fails_unchanged(c, "(persist/append \"s\" {:seq 2.5})", -EINVAL, "type");
    fails_unchanged(c, "(persist/append \"s\" {:seq \"2\"})", -EINVAL, "type");
    fails_unchanged(c, "(persist/append \"s\" nil)", -EINVAL, "type");
    /* One bad event spoils the whole batch: nothing is written. */
    fails_unchanged(c, "(persist/append-batch \"s\" (list {:seq 2} {:x 1} {:seq 4}))", -EINVAL,
                    "type");
    fails_unchanged(c, "(persist/append-batch \"s\" {:seq 2})", -EINVAL, "type");
    /* A brand-new stream is not created by a rejected append. */
    fails_unchanged(c, "(persist/append \"fresh\" {:no 1})", -EINVAL, "type");
    OP_IS(c, "(persist/streams)", "(list \"s\")");
}

static void malformed_requests_unknown_ops_and_wrong_arity_are_errors(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append \"s\" {:seq 1})", "nil");
    fails_unchanged(c, "(persist/append \"s\" {:seq 2}", -EINVAL, "parse");
    fails_unchanged(c, "(persist/append \"s {:seq 2})", -EINVAL, "parse");
    fails_unchanged(c, "", -EINVAL, "parse");
    fails_unchanged(c, "42", -EINVAL, "parse");
    fails_unchanged(c, "(persist/append \"s\" {:seq 99999999999999999999})", -EINVAL, "parse");
    fails_unchanged(c, "(persist/append \"s\" {:seq 2 :seq 3})", -EINVAL, "parse");
    fails_unchanged(c, "(persist/frobnicate \"s\")", -EINVAL, "op");
    fails_unchanged(c, "(persist/append \"s\")", -EINVAL, "arity");
    fails_unchanged(c, "(persist/append \"s\" {:seq 2} {:seq 3})", -EINVAL, "arity");
    fails_unchanged(c, "(persist/read)", -EINVAL, "arity");
    fails_unchanged(c, "(persist/streams 1)", -EINVAL, "arity");
    fails_unchanged(c, "(persist/append 7 {:seq 2})", -EINVAL, "type");
    fails_unchanged(c, "(persist/truncate \"s\" \"1\")", -EINVAL, "type");
    fails_unchanged(c, "(persist/read-range \"s\" 1 -1)", -EINVAL, "arg");
    /* An op whose name holds a NUL after a real op's name is no op. */
    static const char nul_op[] = "(persist/append\0junk \"s\" {:seq 2})";
    uint64_t before = tu_tree_digest(c->dir);
    sxp_value *out = NULL;
    struct sxp_err err;
    assert_int_equal(sxp_store_request(c->s, nul_op, sizeof(nul_op) - 1, &out, &err), -EINVAL);
    assert_null(out);
    assert_string_equal(err.kind, "op");
    assert_int_equal(sxp_request_check(nul_op, sizeof(nul_op) - 1, &err), -EINVAL);
    assert_string_equal(err.kind, "op");
    assert_true(tu_tree_digest(c->dir) == before);
    OP_IS(c, "(persist/read \"s\")", "(list {:seq 1})");
}

/* Wrong requests are refused by the check without a store (dispatch.c
 * D-1), with the code, kind and message the store gives (D-2), so a caller
 * can refuse them before it opens, and so creates, a store. */
static void a_wrong_request_is_refused_without_a_store_as_by_the_store(void **state)
{
    struct tu_store *c = *state;
    static const struct {
        const char *req;
        int code;
        const char *kind;
    } wrong[] = {
        {"(persist/raed \"x\")", -EINVAL, "op"},
        {"(persist/append \"s\")", -EINVAL, "arity"},
        {"(persist/streams 1)", -EINVAL, "arity"},
        {"(persist/read 5)", -EINVAL, "type"},
        {"(persist/read \"\")", -EINVAL, "name"},
        {"(persist/last-seq \"\")", -EINVAL, "name"},
        {"(persist/append \"\" {:seq 1})", -EINVAL, "name"},
        {"(persist/append \"s\" {:x 1})", -EINVAL, "type"},
        {"(persist/append \"s\" {:seq 1.5})", -EINVAL, "type"},
        {"(persist/append \"s\" (list 1))", -EINVAL, "type"},
        {"(persist/append-batch \"s\" {:seq 1})", -EINVAL, "type"},
        {"(persist/append-batch \"s\" (list {:seq 1} {:x 2}))", -EINVAL, "type"},
        {"(persist/append-batch \"s\" (list {:seq 2} {:seq 2}))", -ERANGE, "seq"},
        {"(persist/read-range \"s\" 1 -1)", -EINVAL, "arg"},
        {"(persist/read-range \"s\" \"1\" 1)", -EINVAL, "type"},
        {"(persist/truncate \"s\" \"x\")", -EINVAL, "type"},
        {"(persist/truncate \"\" 1)", -EINVAL, "name"},
        {"(persist/kv-get \"\")", -EINVAL, "name"},
        {"(persist/kv-put \"\" 1)", -EINVAL, "name"},
        {"(persist/kv-delete 1)", -EINVAL, "type"},
        {"(persist/kv-has? \"\")", -EINVAL, "name"},
        {"(blob/put 1)", -EINVAL, "type"},
        {"(blob/get \"zz\")", -EINVAL, "cid"},
        {"(blob/has? \"../../etc/passwd\")", -EINVAL, "cid"},
        {"(blob/get \"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\\n\")", -EINVAL,
         "cid"},
        {"(persist/read \"s\"", -EINVAL, "parse"},
        {"42", -EINVAL, "parse"},
    };
    OP_IS(c, "(persist/append \"s\" {:seq 1})", "nil");
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        struct sxp_err err;
        const char *req = wrong[i].req;
        int rc = sxp_request_check(req, strlen(req), &err);
        if (rc != wrong[i].code || strcmp(err.kind, wrong[i].kind) != 0)
            fail_msg("%s: check gave %d %s: %s", req, rc, err.kind, err.msg);
        fails_unchanged(c, req, wrong[i].code, wrong[i].kind); /* the same message */
    }
    /* The same through sxp_op_check, with the arguments as values. */
    struct sxp_err err;
    sxp_value *args = tu_val("(list \"s\")");
    assert_int_equal(sxp_op_check("persist/append", args, &err), -EINVAL);
    assert_string_equal(err.kind, "arity");
    assert_int_equal(sxp_op_check("persist/read", args, &err), 0);
    assert_int_equal(sxp_op_check("persist/raed", args, &err), -EINVAL);
    assert_string_equal(err.msg, "unknown operation \"persist/raed\"");
    /* No op, or no text for a length, is an error, never a read of memory
     * the caller did not give. */
    assert_int_equal(sxp_op_check(NULL, args, &err), -EINVAL);
    assert_string_equal(err.kind, "op");
    sxp_value *none = (sxp_value *)args;
    assert_int_equal(sxp_store_op(c->s, NULL, args, &none, &err), -EINVAL);
    assert_null(none);
    assert_int_equal(sxp_request_check(NULL, 8, &err), -EINVAL);
    assert_string_equal(err.kind, "arg");
    assert_int_equal(sxp_store_request(c->s, NULL, 8, &none, &err), -EINVAL);
    assert_string_equal(err.kind, "arg");
    assert_int_equal(sxp_value_parse(NULL, 1, &none, &err), -EINVAL);
    assert_null(none);
    assert_int_equal(sxp_value_parse(NULL, 0, &none, &err), -EINVAL);
    assert_string_equal(err.kind, "parse"); /* no value: empty text */
    sxp_value_free(args);
    args = tu_val("\"s\"");
    assert_int_equal(sxp_op_check("persist/read", args, &err), -EINVAL);
    assert_string_equal(err.kind, "arity");
    sxp_value_free(args);
}

/* What only a store can tell passes the check: a seq at or below the
 * high-water mark, a write to a read-only store. */
static void what_needs_the_store_passes_the_check(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    OP_IS(c, "(persist/append \"s\" {:seq 2})", "nil");
    static const char *const reqs[] = {
        "(persist/append \"s\" {:seq 2})",
        "(persist/append \"s\" {:seq 1})",
        "(persist/append-batch \"s\" (list {:seq 1} {:seq 3}))",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        assert_int_equal(sxp_request_check(reqs[i], strlen(reqs[i]), &err), 0);
        fails_unchanged(c, reqs[i], -ERANGE, "seq");
    }
    assert_int_equal(sxp_store_close(c->s), 0);
    struct sxp_options o;
    sxp_options_init(&o);
    o.read_only = 1;
    o.quiet = 1;
    assert_int_equal(sxp_store_open(c->dir, &o, &c->s, &err), 0);
    fails_unchanged(c, "(persist/kv-put \"k\" 1)", -EROFS, "readonly");
    /* A wrong argument is judged first, on a read-only store too. */
    fails_unchanged(c, "(persist/kv-put \"\" 1)", -EINVAL, "name");
}

/* A name's NUL, quote or newline cannot cut or fake a message: names are
 * shown escaped. */
static void messages_show_names_escaped(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    const char name[] = {'a', '\0', '"', '\n', 'b', '\\'};
    sxp_value *ev = tu_val("{:seq 1}");
    assert_int_equal(sxp_stream_append(c->s, name, sizeof(name), ev, &err), 0);
    assert_int_equal(sxp_stream_append(c->s, name, sizeof(name), ev, &err), -ERANGE);
    sxp_value_free(ev);
    if (!strstr(err.msg, "of stream \"a\\x00\\\"\\nb\\\\\""))
        fail_msg("name not escaped in: %s", err.msg);
}

static void bad_names_are_rejected(void **state)
{
    struct tu_store *c = *state;
    char req[1024];
    char name[200];
    fails_unchanged(c, "(persist/append \"\" {:seq 1})", -EINVAL, "name");
    fails_unchanged(c, "(persist/kv-put \"\" 1)", -EINVAL, "name");
    memset(name, 'x', 126);
    name[126] = '\0';
    snprintf(req, sizeof(req), "(persist/append \"%s\" {:seq 1})", name);
    fails_unchanged(c, req, -EINVAL, "name");
    name[125] = '\0';
    snprintf(req, sizeof(req), "(persist/append \"%s\" {:seq 1})", name);
    OP_IS(c, req, "nil"); /* 125 bytes is the limit, and fine */
    memset(name, 'k', 128);
    name[128] = '\0';
    snprintf(req, sizeof(req), "(persist/kv-put \"%s\" 1)", name);
    fails_unchanged(c, req, -EINVAL, "name");
    name[127] = '\0';
    snprintf(req, sizeof(req), "(persist/kv-put \"%s\" 1)", name);
    OP_IS(c, req, "nil");
    /* ... and kv-keys lists a key of the longest length (and of the
     * longest stream name, persist/streams: both from their file names). */
    char want[512];
    snprintf(want, sizeof(want), "(list \"%s\")", name);
    OP_IS(c, "(persist/kv-keys)", want);
    char longest[126];
    memset(longest, 'x', 125);
    longest[125] = '\0';
    snprintf(want, sizeof(want), "(list \"%s\")", longest);
    reopen(c);
    OP_IS(c, "(persist/streams)", want);
    /* Names are bytes: a slash or dots are just bytes, hex-encoded. */
    OP_IS(c, "(persist/append \"../../x\" {:seq 1})", "nil");
    OP_IS(c, "(persist/read \"../../x\")", "(list {:seq 1})");
    struct stat st;
    char path[4096];
    snprintf(path, sizeof(path), "%s/streams/2e2e2f2e2e2f78.log", c->dir);
    assert_int_equal(stat(path, &st), 0);
}

/* Names sort by bytes, a prefix first: persist/streams merges the streams
 * on disk with those made this session (whose .seq comes at the close),
 * and kv-keys sorts the kv/ file names (engine/names.c). */
static void names_sort_by_bytes_a_prefix_first(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append \"ab\" {:seq 1})", "nil");
    reopen(c);
    OP_IS(c, "(persist/append \"a\" {:seq 1})", "nil");
    OP_IS(c, "(persist/append \"b\" {:seq 1})", "nil");
    OP_IS(c, "(persist/streams)", "(list \"a\" \"ab\" \"b\")");
    reopen(c);
    OP_IS(c, "(persist/streams)", "(list \"a\" \"ab\" \"b\")");
    OP_IS(c, "(persist/kv-put \"b\" 1)", "nil");
    OP_IS(c, "(persist/kv-put \"ab\" 1)", "nil");
    OP_IS(c, "(persist/kv-put \"a\" 1)", "nil");
    OP_IS(c, "(persist/kv-keys)", "(list \"a\" \"ab\" \"b\")");
}

static void blob_ids_that_are_not_cids_are_errors_never_paths(void **state)
{
    struct tu_store *c = *state;
    fails_unchanged(c, "(blob/get \"../../etc/passwd\")", -EINVAL, "cid");
    fails_unchanged(c, "(blob/has? \"../../etc/passwd\")", -EINVAL, "cid");
    fails_unchanged(c, "(blob/get \"BAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU\")",
                    -EINVAL, "cid");
    fails_unchanged(c, "(blob/get \"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk\")",
                    -EINVAL, "cid");
    fails_unchanged(c,
                    "(blob/get \"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\\n\")",
                    -EINVAL, "cid");
    fails_unchanged(c, "(blob/get 12)", -EINVAL, "type");
    /* The C API takes a C string: NULL is no cid either. */
    struct sxp_err err;
    void *out = NULL;
    size_t out_len = 0;
    int has = -1;
    assert_int_equal(sxp_blob_get(c->s, NULL, &out, &out_len, &err), -EINVAL);
    assert_string_equal(err.kind, "cid");
    assert_null(out);
    assert_int_equal(sxp_blob_has(c->s, NULL, &has, &err), -EINVAL);
    assert_string_equal(err.kind, "cid");
}

static void values_round_trip_through_the_store(void **state)
{
    struct tu_store *c = *state;
    const char *texts[] = {
        "{:s \"tab\\there \\\"q\\\" back\\\\slash\\nline\\rcr\" :seq 1}",
        "{:max 9223372036854775807 :min -9223372036854775808 :seq 2}",
        "{:a 0.1 :b -2.5 :c 1e+300 :d 5e-324 :seq 3}",
        "{:a {:b {:c (list {} (list) nil true false :kw (quote sym))}} :seq 4}",
    };
    for (size_t i = 0; i < 4; i++) {
        char req[512];
        snprintf(req, sizeof(req), "(persist/append \"rt\" %s)", texts[i]);
        OP_IS(c, req, "nil");
    }
    /* NUL and non-UTF-8 bytes go through the C API. */
    sxp_value *ev = sxp_value_dict();
    static const char raw[] = {'a', 0, (char)0xff, (char)0x80, 'z'};
    assert_int_equal(sxp_value_dict_set(ev, "seq", 3, sxp_value_int(5)), 0);
    assert_int_equal(sxp_value_dict_set(ev, "raw", 3, sxp_value_str(raw, sizeof(raw))), 0);
    struct sxp_err err;
    assert_int_equal(sxp_stream_append(c->s, "rt", 2, ev, &err), 0);
    reopen(c);
    sxp_value *list = NULL;
    assert_int_equal(sxp_stream_read(c->s, "rt", 2, &list, &err), 0);
    assert_int_equal(sxp_value_len(list), 5);
    for (size_t i = 0; i < 4; i++) {
        char *t = tu_text(sxp_value_list_get(list, i));
        assert_string_equal(t, texts[i]);
        free(t);
    }
    assert_true(sxp_value_equal(sxp_value_list_get(list, 4), ev));
    size_t len = 0;
    const char *bytes =
        sxp_value_as_str(sxp_value_dict_get(sxp_value_list_get(list, 4), "raw", 3), &len);
    assert_int_equal(len, sizeof(raw));
    assert_memory_equal(bytes, raw, sizeof(raw));
    sxp_value_free(list);
    sxp_value_free(ev);
}

static void unserializable_values_are_rejected_and_nothing_written(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    OP_IS(c, "(persist/append \"n\" {:seq 1})", "nil");
    uint64_t before = tu_tree_digest(c->dir);
    sxp_value *ev = sxp_value_dict();
    assert_int_equal(sxp_value_dict_set(ev, "seq", 3, sxp_value_int(2)), 0);
    assert_int_equal(sxp_value_dict_set(ev, "x", 1, sxp_value_num(NAN)), 0);
    assert_int_equal(sxp_stream_append(c->s, "n", 1, ev, &err), -EINVAL);
    sxp_value_free(ev);
    ev = sxp_value_dict();
    assert_int_equal(sxp_value_dict_set(ev, "seq", 3, sxp_value_int(2)), 0);
    assert_int_equal(sxp_value_dict_set(ev, "a b", 3, sxp_value_int(1)), 0);
    assert_int_equal(sxp_stream_append(c->s, "n", 1, ev, &err), -EINVAL);
    assert_int_equal(sxp_kv_put(c->s, "k", 1, ev, &err), -EINVAL);
    sxp_value_free(ev);
    assert_true(tu_tree_digest(c->dir) == before);
}

static void every_line_on_disk_carries_its_xxh3_trailer(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append \"f\" {:seq 1 :v \"x\"})", "nil");
    OP_IS(c, "(persist/kv-put \"f\" (list 1))", "nil");
    char path[4096], want[256];
    const char *payload = "{:seq 1 :v \"x\"}";
    snprintf(want, sizeof(want), "%s\t%016llx\n", payload,
             (unsigned long long)XXH3_64bits(payload, strlen(payload)));
    snprintf(path, sizeof(path), "%s/streams/66.log", c->dir);
    size_t len;
    char *got = tu_read_file(path, &len);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    snprintf(want, sizeof(want), "(list 1)\t%016llx\n",
             (unsigned long long)XXH3_64bits("(list 1)", 8));
    snprintf(path, sizeof(path), "%s/kv/66", c->dir);
    got = tu_read_file(path, &len);
    assert_string_equal(got, want);
    free(got);
    snprintf(path, sizeof(path), "%s/FORMAT", c->dir);
    got = tu_read_file(path, &len);
    assert_string_equal(got, "sxp 2\n");
    free(got);
}

/* Closes the store and reads the log of stream "d", whose path it leaves
 * in path. */
static char *close_and_read_log_d(struct tu_store *c, char *path, size_t size, size_t *len)
{
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    snprintf(path, size, "%s/streams/64.log", c->dir);
    return tu_read_file(path, len);
}

static void a_damaged_line_is_an_error_naming_stream_line_and_offset(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append-batch \"d\" (list {:seq 1} {:seq 2} {:seq 3}))", "nil");
    OP_IS(c, "(persist/kv-put \"k\" 1)", "nil");
    char path[4096];
    size_t len;
    char *bytes = close_and_read_log_d(c, path, sizeof(path), &len);
    size_t line2 = (size_t)(strchr(bytes, '\n') - bytes) + 1;
    bytes[line2 + 2] ^= 0x01; /* flips a byte of line 2's payload */
    tu_write_file(path, bytes, len);
    free(bytes);
    snprintf(path, sizeof(path), "%s/kv/6b", c->dir);
    bytes = tu_read_file(path, &len);
    bytes[0] = '[';
    tu_write_file(path, bytes, len);
    free(bytes);

    struct sxp_options o;
    sxp_options_init(&o);
    o.read_only = 1;
    o.quiet = 1;
    struct sxp_err err;
    assert_int_equal(sxp_store_open(c->dir, &o, &c->s, &err), 0);
    sxp_value *out = NULL;
    assert_int_equal(sxp_stream_read(c->s, "d", 1, &out, &err), -EBADMSG);
    assert_null(out);
    char want[128];
    snprintf(want, sizeof(want), "line 2, byte %zu", line2);
    assert_non_null(strstr(err.msg, "\"d\""));
    assert_non_null(strstr(err.msg, want));
    assert_string_equal(err.kind, "checksum");
    assert_int_equal(sxp_kv_get(c->s, "k", 1, &out, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "kv/6b"));
    /* An empty value file has no checksum to fail: it is corrupt. */
    snprintf(path, sizeof(path), "%s/kv/6b", c->dir);
    for (int blank = 0; blank < 2; blank++) {
        tu_write_file(path, "\n", (size_t)blank);
        assert_int_equal(sxp_kv_get(c->s, "k", 1, &out, &err), -EUCLEAN);
        assert_null(out);
        assert_string_equal(err.kind, "corrupt");
        assert_non_null(strstr(err.msg, "empty value"));
    }
    /* Writes to a read-only store are refused. */
    sxp_value *ev = tu_val("{:seq 9}");
    assert_int_equal(sxp_stream_append(c->s, "d", 1, ev, &err), -EROFS);
    sxp_value_free(ev);
}

static int64_t ro_last_seq(const char *dir, const char *stream)
{
    struct sxp_options o;
    sxp_options_init(&o);
    o.read_only = 1;
    o.quiet = 1;
    struct sxp_err err;
    sxp_store *r = NULL;
    int64_t hw = -1;
    assert_int_equal(sxp_store_open(dir, &o, &r, &err), 0);
    assert_int_equal(sxp_stream_last_seq(r, stream, strlen(stream), &hw, &err), 0);
    assert_int_equal(sxp_store_close(r), 0);
    return hw;
}

/* ST-9: a writer writes .seq files at its close, so while it runs they lag
 * its logs (or are missing); a read-only view's last-seq is the log's last
 * seq all the same, as its reads show the events, and bytes after the last
 * LF (a line being written, zeros written ahead) do not count. */
static void a_read_only_view_of_a_live_store_says_the_logs_last_seq(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append \"e\" {:seq 1})", "nil");
    reopen(c); /* e.seq holds 1 */
    OP_IS(c, "(persist/append-batch \"d\" (list {:seq 1} {:seq 2} {:seq 3}))", "nil");
    OP_IS(c, "(persist/append \"e\" {:seq 5})", "nil");
    OP_IS(c, "(persist/append \"e\" {:seq 6})", "nil");
    assert_int_equal(ro_last_seq(c->dir, "d"), 3);
    assert_int_equal(ro_last_seq(c->dir, "e"), 6);
    assert_int_equal(ro_last_seq(c->dir, "none"), 0);

    char path[4096];
    snprintf(path, sizeof(path), "%s/streams/65.log", c->dir);
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    static const char tail[] = "{:seq 7}\t0123\0\0\0\0";
    assert_int_equal(fwrite(tail, 1, sizeof(tail), f), sizeof(tail));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(ro_last_seq(c->dir, "e"), 6);

    /* Damaged whole lines at the end (a crash's torn tail, zeros under a
     * trailer, which only recovery cuts) are passed over too: e.seq holds
     * 1, and a read shows seq 6 before it reports the damage. */
    f = fopen(path, "ab");
    assert_non_null(f);
    static const char zeros[] = "\n\0\0\0\0\0\0\0\0\t0123456789abcdef\n";
    assert_int_equal(fwrite(zeros, 1, sizeof(zeros) - 1, f), sizeof(zeros) - 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(ro_last_seq(c->dir, "e"), 6);
}

/* msg names byte off, and a line only as the log's own line number. */
static void assert_names_line_of_log(const char *msg, unsigned line, size_t off)
{
    char want[64];
    snprintf(want, sizeof(want), "byte %zu", off);
    if (!strstr(msg, want))
        fail_msg("\"%s\" does not say \"%s\"", msg, want);
    const char *l = strstr(msg, "line ");
    snprintf(want, sizeof(want), "line %u, byte", line);
    if (l && strncmp(l, want, strlen(want)) != 0)
        fail_msg("\"%s\" names another line than %u", msg, line);
}

/* A read that seeks (read-range, truncate) counts lines from where it
 * began, so its errors must not call that count the log's line number:
 * the damaged line 2500 of a long log was "line 658" to read-range. */
static void a_damaged_line_met_after_a_seek_is_named_by_its_offset(void **state)
{
    struct tu_store *c = *state;
    tu_append_padded(c->s, "d", 1, 3000, 1, 40);
    char path[4096];
    size_t len;
    char *bytes = close_and_read_log_d(c, path, sizeof(path), &len);
    size_t off = 0;
    for (int line = 1; line < 2500; line++)
        off += (size_t)(strchr(bytes + off, '\n') - (bytes + off)) + 1;
    bytes[off + 2] ^= 0x01;
    tu_write_file(path, bytes, len);
    free(bytes);
    c->s = tu_open(c->dir);

    struct sxp_err err;
    sxp_value *out = NULL;
    assert_int_equal(sxp_stream_read(c->s, "d", 1, &out, &err), -EBADMSG);
    assert_names_line_of_log(err.msg, 2500, off);
    assert_non_null(strstr(err.msg, "line 2500"));
    assert_int_equal(sxp_stream_read_range(c->s, "d", 1, 2400, 200, &out, &err), -EBADMSG);
    assert_null(out);
    assert_names_line_of_log(err.msg, 2500, off);
    assert_int_equal(sxp_stream_truncate(c->s, "d", 1, 2400, &err), -EBADMSG);
    assert_names_line_of_log(err.msg, 2500, off);
}

/* A line that is framed well (legacy: no trailer) but is no event in
 * order is refused by read and read-range alike, naming its line: never
 * served as if it were an event. */
static void a_line_that_is_no_event_in_order_is_never_served(void **state)
{
    struct tu_store *c = *state;
    static const char *const bad[] = {"{:x 1}", "{:seq \"7\"}", "(list 1 2)", "{:seq 1}", "\0\0\0"};
    static const size_t bad_len[] = {6, 11, 10, 8, 3};
    assert_int_equal(sxp_store_close(c->s), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[4096], text[64];
        tu_rmrf(c->dir);
        c->s = tu_open(c->dir);
        OP_IS(c, "(persist/append \"a\" {:seq 9})", "nil");
        assert_int_equal(sxp_store_close(c->s), 0);
        size_t n = 0;
        memcpy(text, "{:seq 1}\n", 9);
        n = 9;
        memcpy(text + n, bad[i], bad_len[i]);
        n += bad_len[i];
        memcpy(text + n, "\n{:seq 9}\n", 10);
        n += 10;
        snprintf(path, sizeof(path), "%s/streams/61.log", c->dir);
        tu_write_file(path, text, n);
        c->s = tu_open(c->dir);
        struct sxp_err err;
        sxp_value *out = NULL;
        assert_int_equal(sxp_stream_read(c->s, "a", 1, &out, &err), -EUCLEAN);
        assert_null(out);
        assert_non_null(strstr(err.msg, "line 2, byte 9"));
        assert_non_null(strstr(err.msg, "run sxp-fsck"));
        assert_int_equal(sxp_stream_read_range(c->s, "a", 1, 1, 10, &out, &err), -EUCLEAN);
        assert_null(out);
        assert_non_null(strstr(err.msg, "line 2, byte 9"));
        assert_int_equal(sxp_store_close(c->s), 0);
    }
    c->s = tu_open(c->dir);
}

/* Damage met by a write is refused and changes nothing: a truncate that
 * must copy a damaged line, a kv value whose checksum holds but which is no
 * SX, a kv file larger than any value sxp writes. */
static void damage_under_a_truncate_or_a_kv_get_is_refused_and_kept(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append-batch \"d\" (list {:seq 1} {:seq 2} {:seq 3} {:seq 4} {:seq 5}))",
          "nil");
    OP_IS(c, "(persist/kv-put \"k\" 1)", "nil");
    OP_IS(c, "(persist/kv-put \"b\" 2)", "nil");
    char path[4096];
    size_t len;
    char *bytes = close_and_read_log_d(c, path, sizeof(path), &len);
    char *line4 = bytes;
    for (int i = 0; i < 3; i++)
        line4 = strchr(line4, '\n') + 1;
    line4[2] ^= 0x01; /* a byte of line 4's payload */
    tu_write_file(path, bytes, len);
    free(bytes);
    char kv[64];
    const char *junk = "{:seq";
    int n = snprintf(kv, sizeof(kv), "%s\t%016llx\n", junk,
                     (unsigned long long)XXH3_64bits(junk, strlen(junk)));
    snprintf(path, sizeof(path), "%s/kv/6b", c->dir);
    tu_write_file(path, kv, (size_t)n);
    size_t big = ((size_t)16 << 20) + 1; /* COMMIT_MAX_LINE + 1 */
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, 'x', big);
    snprintf(path, sizeof(path), "%s/kv/62", c->dir);
    tu_write_file(path, huge, big);
    free(huge);

    c->s = tu_open(c->dir);
    uint64_t before = tu_tree_digest(c->dir);
    struct sxp_err err;
    assert_int_equal(sxp_stream_truncate(c->s, "d", 1, 2, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "\"d\""));
    assert_non_null(strstr(err.msg, "line 4"));
    sxp_value *out = NULL;
    assert_int_equal(sxp_kv_get(c->s, "k", 1, &out, &err), -EUCLEAN);
    assert_non_null(strstr(err.msg, "kv/6b: unparsable value"));
    assert_int_equal(sxp_kv_get(c->s, "b", 1, &out, &err), -EUCLEAN);
    assert_non_null(strstr(err.msg, "kv/62: larger than any value"));
    assert_null(out);
    assert_true(tu_tree_digest(c->dir) == before);
    OP_IS(c, "(persist/last-seq \"d\")", "5");
}

/* An open with default options that must fail: its code; err filled. */
static int open_fails(const char *dir, int read_only, struct sxp_err *err)
{
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    o.read_only = read_only;
    sxp_store *s = NULL;
    int rc = sxp_store_open(dir, &o, &s, err);
    assert_null(s);
    return rc;
}

/* What this sxp cannot read it refuses, and changes nothing: a FORMAT of
 * another version or none it knows, a .seq that holds no number (met at
 * the stream's first use in a clean store, where no recovery runs), a
 * root that is a file. */
static void a_store_this_sxp_cannot_read_is_refused_unchanged(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    char path[4096];
    OP_IS(c, "(persist/append \"s\" {:seq 1})", "nil");
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    snprintf(path, sizeof(path), "%s/FORMAT", c->dir);
    static const char *const formats[] = {"sxp 3\n", "sxp 1", "sxp 2", "hello, world\n"};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        tu_write_file(path, formats[i], strlen(formats[i]));
        uint64_t before = tu_tree_digest(c->dir);
        for (int ro = 0; ro <= 1; ro++) {
            assert_int_equal(open_fails(c->dir, ro, &err), -EUCLEAN);
            assert_non_null(strstr(err.msg, "not a store format this sxp reads"));
            assert_true(tu_tree_digest(c->dir) == before);
        }
    }
    /* "sxp 1" (layout.h FORMAT VERSIONS) is read; a read-only open leaves
     * it, a read-write one writes "sxp 2" before its version 2 journal. */
    tu_write_file(path, "sxp 1\n", 6);
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    o.read_only = 1;
    sxp_store *ro = NULL;
    assert_int_equal(sxp_store_open(c->dir, &o, &ro, &err), 0);
    assert_int_equal(sxp_store_close(ro), 0);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    assert_string_equal(text, "sxp 1\n");
    free(text);
    ro = tu_open(c->dir);
    text = tu_read_file(path, &len);
    assert_string_equal(text, "sxp 2\n");
    free(text);
    assert_int_equal(sxp_store_close(ro), 0);

    snprintf(path, sizeof(path), "%s/streams/73.seq", c->dir);
    tu_write_file(path, "many", 4);
    c->s = tu_open(c->dir);
    uint64_t before = tu_tree_digest(c->dir);
    sxp_value *ev = tu_val("{:seq 2}");
    assert_int_equal(sxp_stream_append(c->s, "s", 1, ev, &err), -EUCLEAN);
    sxp_value_free(ev);
    assert_non_null(strstr(err.msg, "streams/73.seq: unreadable high-water mark: run sxp-fsck"));
    assert_true(tu_tree_digest(c->dir) == before);

    snprintf(path, sizeof(path), "%s/FORMAT", c->dir);
    assert_int_equal(open_fails(path, 1, &err), -ENOTDIR);
}

/* blob/get verifies the bytes against their cid: a changed byte is
 * -EBADMSG naming the file, never the wrong bytes. */
static void a_blob_whose_bytes_changed_is_refused_on_get(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    char cid[SXP_CID_LEN + 1], path[4096];
    assert_int_equal(sxp_blob_put(c->s, "hello world", 11, cid, &err), 0);
    snprintf(path, sizeof(path), "%s/blobs/%s", c->dir, cid);
    size_t len;
    char *bytes = tu_read_file(path, &len);
    assert_int_equal(len, 11);
    bytes[0] ^= 0x01;
    tu_write_file(path, bytes, len);
    free(bytes);
    void *out = NULL;
    size_t out_len = 0;
    assert_int_equal(sxp_blob_get(c->s, cid, &out, &out_len, &err), -EBADMSG);
    assert_null(out);
    assert_non_null(strstr(err.msg, cid));
    assert_non_null(strstr(err.msg, "do not hash to their cid"));
}

/* A put acknowledges bytes a get can return: putting the bytes of a blob
 * whose file changed on disk (same size, another byte) writes them again,
 * where a check of the size alone had kept the bad file. */
static void a_blob_whose_bytes_changed_is_written_again_by_its_put(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    char cid[SXP_CID_LEN + 1], cid2[SXP_CID_LEN + 1], path[4096];
    assert_int_equal(sxp_blob_put(c->s, "hello world", 11, cid, &err), 0);
    snprintf(path, sizeof(path), "%s/blobs/%s", c->dir, cid);
    tu_write_file(path, "hello World", 11);
    assert_int_equal(sxp_blob_put(c->s, "hello world", 11, cid2, &err), 0);
    assert_string_equal(cid, cid2);
    void *out = NULL;
    size_t out_len = 0;
    assert_int_equal(sxp_blob_get(c->s, cid, &out, &out_len, &err), 0);
    assert_int_equal(out_len, 11);
    assert_memory_equal(out, "hello world", 11);
    free(out);
}

static void assert_over_the_limit(int rc, const struct sxp_err *err, const char *what)
{
    assert_int_equal(rc, -E2BIG);
    assert_string_equal(err->kind, "limit");
    if (!strstr(err->msg, what))
        fail_msg("\"%s\" does not say \"%s\"", err->msg, what);
}

/* blob/put of 1 GiB + 1 byte is refused as over the limit. Never read: the
 * length is refused first, and untouched pages cost nothing. */
static void assert_blob_over_the_limit(sxp_store *s)
{
    struct sxp_err err;
    size_t blen = ((size_t)1 << 30) + 1;
    void *blob = mmap(NULL, blen, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(blob != MAP_FAILED);
    char cid[SXP_CID_LEN + 1];
    assert_over_the_limit(sxp_blob_put(s, blob, blen, cid, &err), &err, "blob of");
    assert_int_equal(munmap(blob, blen), 0);
}

/* Oversized requests: an event over the line limit (16 MiB), a batch over
 * what one round may leave unsynced (32 MiB), a kv value over the line
 * limit, a blob over 1 GiB. Each is refused before anything is written. */
static void oversized_requests_are_refused_and_change_nothing(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    OP_IS(c, "(persist/append \"s\" {:seq 1})", "nil");
    uint64_t before = tu_tree_digest(c->dir);

    sxp_value *ev = tu_padded_event(2, (size_t)16 << 20);
    assert_over_the_limit(sxp_stream_append(c->s, "s", 1, ev, &err), &err, "event of");
    sxp_value_free(ev);

    sxp_value *batch[3];
    for (int i = 0; i < 3; i++)
        batch[i] = tu_padded_event(2 + i, (size_t)11 << 20);
    assert_over_the_limit(
        sxp_stream_append_batch(c->s, "s", 1, (const sxp_value *const *)batch, 3, &err), &err,
        "batch is over the limit");
    for (int i = 0; i < 3; i++)
        sxp_value_free(batch[i]);

    sxp_value *v = tu_padded_event(1, (size_t)16 << 20);
    assert_over_the_limit(sxp_kv_put(c->s, "k", 1, v, &err), &err, "value of");
    sxp_value_free(v);

    assert_blob_over_the_limit(c->s);

    assert_true(tu_tree_digest(c->dir) == before);
    OP_IS(c, "(persist/last-seq \"s\")", "1");
    OP_IS(c, "(persist/kv-get \"k\")", "nil");
}

/* A write judges its arguments before the store (append.c AP-1..AP-4): on
 * a read-only store a wrong argument gets its own error, not "readonly". */
static void a_wrong_argument_gets_its_own_error_on_a_read_only_store(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    struct sxp_options o;
    assert_int_equal(sxp_store_close(c->s), 0);
    sxp_options_init(&o);
    o.read_only = 1;
    o.quiet = 1;
    assert_int_equal(sxp_store_open(c->dir, &o, &c->s, &err), 0);

    sxp_value *ev = tu_val("{:seq 1}");
    assert_int_equal(sxp_stream_append(c->s, "", 0, ev, &err), -EINVAL);
    assert_string_equal(err.kind, "name");
    assert_int_equal(sxp_stream_truncate(c->s, "", 0, 1, &err), -EINVAL);
    assert_string_equal(err.kind, "name");
    assert_int_equal(sxp_kv_put(c->s, "", 0, ev, &err), -EINVAL);
    assert_string_equal(err.kind, "name");
    assert_int_equal(sxp_kv_delete(c->s, "", 0, &err), -EINVAL);
    assert_string_equal(err.kind, "name");
    assert_int_equal(sxp_stream_append(c->s, "s", 1, ev, &err), -EROFS);
    sxp_value_free(ev);
    ev = tu_val("{:x 1}");
    assert_int_equal(sxp_stream_append(c->s, "s", 1, ev, &err), -EINVAL);
    assert_string_equal(err.kind, "type");
    sxp_value_free(ev);
    sxp_value *batch[2] = {tu_val("{:seq 2}"), tu_val("{:seq 1}")};
    assert_int_equal(
        sxp_stream_append_batch(c->s, "s", 1, (const sxp_value *const *)batch, 2, &err), -ERANGE);
    assert_string_equal(err.kind, "seq");
    sxp_value_free(batch[0]);
    sxp_value_free(batch[1]);

    ev = tu_padded_event(2, (size_t)16 << 20);
    assert_over_the_limit(sxp_stream_append(c->s, "s", 1, ev, &err), &err, "event of");
    assert_over_the_limit(sxp_kv_put(c->s, "k", 1, ev, &err), &err, "value of");
    sxp_value_free(ev);
    assert_blob_over_the_limit(c->s);
}

/* {:seq seq :v (list (list ... (quote x)))} with `lists` lists: it
 * serializes 1 + lists + 1 levels deep. */
static sxp_value *deep_event(int64_t seq, int lists)
{
    sxp_value *v = sxp_value_sym("x", 1);
    for (int i = 0; i < lists; i++) {
        sxp_value *l = sxp_value_list();
        assert_int_equal(sxp_value_list_push(l, v), 0);
        v = l;
    }
    sxp_value *ev = sxp_value_dict();
    assert_int_equal(sxp_value_dict_set(ev, "seq", 3, sxp_value_int(seq)), 0);
    assert_int_equal(sxp_value_dict_set(ev, "v", 1, v), 0);
    return ev;
}

/* An event is stored only if a served read's answer, (ok (list ev ...)),
 * can hold it: 254 levels go in and read back, and that answer parses;
 * 255 are refused and nothing is written. A kv value likewise fits in
 * (ok value): 255 levels, not 256 (SX_MAX_DEPTH, the parse limit). */
static void an_event_too_deep_for_a_read_is_refused(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    sxp_value *ev = deep_event(1, 252);
    assert_int_equal(sxp_stream_append(c->s, "d", 1, ev, &err), 0);
    sxp_value_free(ev);
    uint64_t before = tu_tree_digest(c->dir);
    ev = deep_event(2, 253);
    assert_over_the_limit(sxp_stream_append(c->s, "d", 1, ev, &err), &err, "nests deeper");
    sxp_value_free(ev);
    assert_true(tu_tree_digest(c->dir) == before);
    char *got = tu_op(c->s, "(persist/read \"d\")");
    assert_int_equal(strncmp(got, "(list {:seq 1 :v (list (list", 28), 0);
    /* The answer serve would send reads back. */
    size_t len = strlen(got);
    char *answer = malloc(len + 6);
    memcpy(answer, "(ok ", 4);
    memcpy(answer + 4, got, len);
    memcpy(answer + 4 + len, ")", 2);
    sxp_value *back = NULL;
    assert_int_equal(sxp_value_parse(answer, len + 5, &back, &err), 0);
    sxp_value_free(back);
    free(answer);
    free(got);
    OP_IS(c, "(persist/last-seq \"d\")", "1");

    sxp_value *v = deep_event(1, 253); /* 255 levels */
    assert_int_equal(sxp_kv_put(c->s, "k", 1, v, &err), 0);
    sxp_value_free(v);
    before = tu_tree_digest(c->dir);
    v = deep_event(1, 254);
    assert_over_the_limit(sxp_kv_put(c->s, "k", 1, v, &err), &err, "nests deeper");
    sxp_value_free(v);
    assert_true(tu_tree_digest(c->dir) == before);
}

/* Runs op with args through sxp_op_check and on s: both refuse it with the
 * same code, kind and message, which says what. */
static void op_refused_alike(sxp_store *s, const char *op, sxp_value *args, int code,
                             const char *what)
{
    struct sxp_err cerr, err;
    sxp_value *out = NULL;
    assert_int_equal(sxp_op_check(op, args, &cerr), code);
    assert_int_equal(sxp_store_op(s, op, args, &out, &err), code);
    assert_null(out);
    assert_string_equal(cerr.kind, err.kind);
    assert_string_equal(cerr.msg, err.msg);
    if (!strstr(err.msg, what))
        fail_msg("\"%s\" does not say \"%s\"", err.msg, what);
    sxp_value_free(args);
}

/* A list of the values given, taking them. */
static sxp_value *args_of(size_t n, ...)
{
    va_list ap;
    sxp_value *list = sxp_value_list();
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sxp_value_list_push(list, va_arg(ap, sxp_value *)), 0);
    va_end(ap);
    return list;
}

/* The size limits are the check's too (dispatch.c D-3): an event over the
 * line limit or too deep for a read, a batch over the limit, a kv value
 * over the line limit, a value that has no text. */
static void oversized_requests_are_refused_without_a_store_as_by_the_store(void **state)
{
    struct tu_store *c = *state;
    uint64_t before = tu_tree_digest(c->dir);
    op_refused_alike(c->s, "persist/append",
                     args_of(2, sxp_value_str("s", 1), tu_padded_event(1, (size_t)16 << 20)),
                     -E2BIG, "event of");
    op_refused_alike(c->s, "persist/append", args_of(2, sxp_value_str("s", 1), deep_event(1, 254)),
                     -E2BIG, "nests deeper");
    sxp_value *batch =
        args_of(3, tu_padded_event(1, (size_t)11 << 20), tu_padded_event(2, (size_t)11 << 20),
                tu_padded_event(3, (size_t)11 << 20));
    op_refused_alike(c->s, "persist/append-batch", args_of(2, sxp_value_str("s", 1), batch), -E2BIG,
                     "batch is over the limit");
    op_refused_alike(c->s, "persist/kv-put",
                     args_of(2, sxp_value_str("k", 1), tu_padded_event(1, (size_t)16 << 20)),
                     -E2BIG, "value of");
    sxp_value *nan = sxp_value_dict();
    assert_int_equal(sxp_value_dict_set(nan, "seq", 3, sxp_value_int(1)), 0);
    assert_int_equal(sxp_value_dict_set(nan, "x", 1, sxp_value_num(NAN)), 0);
    op_refused_alike(c->s, "persist/kv-put", args_of(2, sxp_value_str("k", 1), sxp_value_copy(nan)),
                     -EINVAL, "");
    op_refused_alike(c->s, "persist/append", args_of(2, sxp_value_str("s", 1), nan), -EINVAL, "");
    assert_true(tu_tree_digest(c->dir) == before);
}

/* Closes c's store, runs damage(path of stream "a"'s file with suffix),
 * and opens it again: a clean open, no recovery. */
static void reopen_after(struct tu_store *c, const char *suffix, void (*damage)(const char *path))
{
    char path[4096];
    assert_int_equal(sxp_store_close(c->s), 0);
    snprintf(path, sizeof(path), "%s/streams/61%s", c->dir, suffix);
    damage(path);
    c->s = tu_open(c->dir);
}

/* Adds n bytes at the end of the file at path. */
static void append_bytes(const char *path, const char *bytes, size_t n)
{
    size_t len;
    char *old = tu_read_file(path, &len);
    char *p = malloc(len + n);
    memcpy(p, old, len);
    memcpy(p + len, bytes, n);
    tu_write_file(path, p, len + n);
    free(old);
    free(p);
}

static void add_unfinished_line(const char *path)
{
    append_bytes(path, "{:seq 4", 7);
}

static void flip_last_line(const char *path)
{
    size_t len;
    char *p = tu_read_file(path, &len);
    p[len - 5] ^= 0x01; /* a checksum digit of the last line */
    tu_write_file(path, p, len);
    free(p);
}

static void lower_seq(const char *path)
{
    tu_write_file(path, "1\n", 2);
}

static void remove_seq(const char *path)
{
    assert_int_equal(unlink(path), 0);
}

static void a_store(struct tu_store *c)
{
    OP_IS(c, "(persist/append-batch \"a\" (list {:seq 1} {:seq 2} {:seq 3}))", "nil");
}

/* ST-8: a cleanly closed store whose log ends in bytes sxp never finished
 * (or in a damaged line) is not written to, read as if whole, or glued
 * onto: the stream is refused, "run sxp-fsck", and nothing changes. */
static void a_clean_store_refuses_a_log_with_a_bad_tail(void **state)
{
    struct tu_store *c = *state;
    void (*damages[])(const char *) = {add_unfinished_line, flip_last_line};
    for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
        a_store(c);
        reopen_after(c, ".log", damages[i]);
        uint64_t before = tu_tree_digest(c->dir);
        struct sxp_err err;
        sxp_value *ev = tu_val("{:seq 5}");
        assert_int_equal(sxp_stream_append(c->s, "a", 1, ev, &err), -EUCLEAN);
        sxp_value_free(ev);
        assert_string_equal(err.kind, "corrupt");
        assert_non_null(strstr(err.msg, "run sxp-fsck"));
        assert_non_null(strstr(err.msg, i == 0 ? "unfinished line" : "damaged line"));
        fails_unchanged(c, "(persist/read \"a\")", -EUCLEAN, "corrupt");
        assert_true(tu_tree_digest(c->dir) == before);
        /* Other streams are not affected. */
        OP_IS(c, "(persist/append \"b\" {:seq 1})", "nil");
        assert_int_equal(sxp_store_close(c->s), 0);
        tu_rmrf(c->dir);
        c->s = tu_open(c->dir);
    }
    /* A read-only open may meet a writer's unfinished line: it reads the
     * finished ones. */
    a_store(c);
    reopen_after(c, ".log", add_unfinished_line);
    assert_int_equal(sxp_store_close(c->s), 0);
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    o.read_only = 1;
    struct sxp_err err;
    assert_int_equal(sxp_store_open(c->dir, &o, &c->s, &err), 0);
    OP_IS(c, "(persist/read \"a\")", "(list {:seq 1} {:seq 2} {:seq 3})");
}

/* ST-8: a .seq lowered or removed by hand does not let a seq be taken
 * twice: the last line's seq raises the high-water mark, and close writes
 * it back. */
static void a_lagging_or_missing_seq_file_never_reissues_a_seq(void **state)
{
    struct tu_store *c = *state;
    void (*damages[])(const char *) = {lower_seq, remove_seq};
    for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
        a_store(c);
        reopen_after(c, ".seq", damages[i]);
        fails_unchanged(c, "(persist/append \"a\" {:seq 2})", -ERANGE, "seq");
        OP_IS(c, "(persist/last-seq \"a\")", "3");
        OP_IS(c, "(persist/append \"a\" {:seq 4})", "nil");
        assert_int_equal(sxp_store_close(c->s), 0);
        char path[4096];
        snprintf(path, sizeof(path), "%s/streams/61.seq", c->dir);
        size_t len;
        char *text = tu_read_file(path, &len);
        assert_true(len >= 1 && text[0] == '4');
        free(text);
        c->s = tu_open(c->dir);
        OP_IS(c, "(persist/streams)", "(list \"a\")");
        OP_IS(c, "(persist/read \"a\")", "(list {:seq 1} {:seq 2} {:seq 3} {:seq 4})");
        assert_int_equal(sxp_store_close(c->s), 0);
        tu_rmrf(c->dir);
        c->s = tu_open(c->dir);
    }
}

/* ST-8: a stream whose every event was truncated keeps only its mark, in
 * its .seq beside an empty log. With that .seq removed, its mark is lost:
 * every use of the stream is refused, "run sxp-fsck", and nothing changes,
 * at the close either (which once removed the empty log as an unborn
 * stream's: the evidence gone, and seq 1 taken a second time after). */
static void an_empty_log_whose_seq_was_removed_is_refused_and_kept(void **state)
{
    struct tu_store *c = *state;
    static const char *const uses[] = {"(persist/read \"a\")", "(persist/last-seq \"a\")",
                                       "(persist/append \"a\" {:seq 1})",
                                       "(persist/truncate \"a\" 5)"};
    char log[4096];
    struct stat st;
    a_store(c);
    OP_IS(c, "(persist/truncate \"a\" 3)", "nil");
    reopen_after(c, ".seq", remove_seq);
    for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
        fails_unchanged(c, uses[i], -EUCLEAN, "corrupt");
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    snprintf(log, sizeof(log), "%s/streams/61.log", c->dir);
    assert_int_equal(stat(log, &st), 0);
    assert_int_equal(st.st_size, 0);
    c->s = tu_open(c->dir);
    struct sxp_err err;
    sxp_value *out = NULL;
    assert_int_equal(sxp_stream_read(c->s, "a", 1, &out, &err), -EUCLEAN);
    assert_non_null(strstr(err.msg, "run sxp-fsck"));
    assert_non_null(strstr(err.msg, "no .seq"));
    snprintf(log, sizeof(log), "%s/streams/61.seq", c->dir);
    assert_int_equal(stat(log, &st), -1); /* no mark made up either */
}

static void add_blank_lines(const char *path)
{
    append_bytes(path, "\n  \n\n", 5);
}

/* The last line is found behind blank lines and across windows: a
 * 100 KB event, then blank lines, with the .seq lowered to 1. */
static void the_last_line_is_found_behind_blank_lines_and_a_long_event(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    OP_IS(c, "(persist/append \"a\" {:seq 1})", "nil");
    sxp_value *ev = tu_padded_event(7, 100000);
    assert_int_equal(sxp_stream_append(c->s, "a", 1, ev, &err), 0);
    sxp_value_free(ev);
    reopen_after(c, ".log", add_blank_lines);
    reopen_after(c, ".seq", lower_seq);
    fails_unchanged(c, "(persist/append \"a\" {:seq 7})", -ERANGE, "seq");
    OP_IS(c, "(persist/last-seq \"a\")", "7");
}

/* A line of spaces after each of lines 101 to 299. */
static void add_blank_lines_between(const char *path)
{
    size_t len, at = 0, lines = 0;
    char *old = tu_read_file(path, &len);
    char *p = malloc(len * 2);
    for (size_t i = 0; i < len; i++) {
        p[at++] = old[i];
        if (old[i] == '\n' && ++lines > 100 && lines < 300)
            for (const char *b = "    \n"; *b; b++)
                p[at++] = *b;
    }
    tu_write_file(path, p, at);
    free(old);
    free(p);
}

/* Blank lines (a legacy store's, say) are stepped over alike by a read,
 * a range read's seek and a truncate's: all three serve the same events. */
static void blank_lines_are_stepped_over_by_every_reader(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    tu_append_padded(c->s, "a", 1, 400, 1, 300); /* ~130 KB: the seek probes */
    reopen_after(c, ".log", add_blank_lines_between);
    sxp_value *all = NULL;
    assert_int_equal(sxp_stream_read(c->s, "a", 1, &all, &err), 0);
    assert_int_equal(sxp_value_len(all), 400);
    sxp_value_free(all);
    for (int64_t from = 90; from <= 320; from += 7) {
        sxp_value *out = NULL;
        assert_int_equal(sxp_stream_read_range(c->s, "a", 1, from, 3, &out, &err), 0);
        assert_int_equal(sxp_value_len(out), 3);
        for (size_t i = 0; i < 3; i++)
            assert_int_equal(
                sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, i), "seq", 3)),
                from + (int64_t)i);
        sxp_value_free(out);
    }
    assert_int_equal(sxp_stream_truncate(c->s, "a", 1, 150, &err), 0);
    assert_int_equal(sxp_stream_read(c->s, "a", 1, &all, &err), 0);
    assert_int_equal(sxp_value_len(all), 250);
    assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(all, 0), "seq", 3)),
                     151);
    sxp_value_free(all);
}

/* Closes the fixture's store and leaves c->dir an empty directory. */
static void empty_dir(struct tu_store *c)
{
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    tu_rmrf(c->dir);
    assert_int_equal(mkdir(c->dir, 0755), 0);
}

static void a_legacy_store_reads_and_takes_new_appends(void **state)
{
    struct tu_store *c = *state;
    empty_dir(c);
    char path[4096];
    snprintf(path, sizeof(path), "%s/streams", c->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/kv", c->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    /* As the reference writes them: no trailers, .seq without newline,
     * kv values without newline. "orders" = 6f7264657273. */
    snprintf(path, sizeof(path), "%s/streams/6f7264657273.log", c->dir);
    const char *log = "{:seq 1 :total 9.5}\n{:seq 2 :total 3}\n";
    tu_write_file(path, log, strlen(log));
    snprintf(path, sizeof(path), "%s/streams/6f7264657273.seq", c->dir);
    tu_write_file(path, "2", 1);
    snprintf(path, sizeof(path), "%s/kv/6b", c->dir);
    tu_write_file(path, "{:a (list 1 2)}", 15);
    /* A raw NUL inside a string, as the reference writes it ("k2"). */
    snprintf(path, sizeof(path), "%s/kv/6b32", c->dir);
    tu_write_file(path, "{:s \"a\0b\"}", 10);

    c->s = tu_open(c->dir);
    OP_IS(c, "(persist/read \"orders\")", "(list {:seq 1 :total 9.5} {:seq 2 :total 3})");
    OP_IS(c, "(persist/last-seq \"orders\")", "2");
    OP_IS(c, "(persist/kv-get \"k\")", "{:a (list 1 2)}");
    struct sxp_err err;
    sxp_value *v = NULL;
    size_t slen = 0;
    if (sxp_kv_get(c->s, "k2", 2, &v, &err) != 0)
        fail_msg("%s", err.msg);
    const char *str = sxp_value_as_str(sxp_value_dict_get(v, "s", 1), &slen);
    assert_int_equal(slen, 3);
    assert_memory_equal(str, "a\0b", 3);
    sxp_value_free(v);
    OP_IS(c, "(persist/streams)", "(list \"orders\")");
    OP_IS(c, "(persist/append \"orders\" {:seq 3})", "nil");
    reopen(c);
    OP_IS(c, "(persist/read \"orders\")", "(list {:seq 1 :total 9.5} {:seq 2 :total 3} {:seq 3})");
    OP_IS(c, "(persist/read-range \"orders\" 2 5)", "(list {:seq 2 :total 3} {:seq 3})");
}

/* store.c STORE OR NOT: a directory of somebody's files is not made a
 * store; one with only lost+found/ (a filesystem's root) is. */
static void a_directory_of_other_files_is_not_made_a_store(void **state)
{
    struct tu_store *c = *state;
    empty_dir(c);
    char path[4096];
    snprintf(path, sizeof(path), "%s/notes.txt", c->dir);
    tu_write_file(path, "mine", 4);
    uint64_t before = tu_tree_digest(c->dir);

    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    struct sxp_err err;
    sxp_store *s = NULL;
    assert_int_equal(sxp_store_open(c->dir, &o, &s, &err), -ENOTEMPTY);
    assert_null(s);
    assert_string_equal(err.kind, "notstore");
    assert_non_null(strstr(err.msg, "is not a store"));
    assert_int_equal(tu_tree_digest(c->dir), before);
    snprintf(path, sizeof(path), "%s/LOCK", c->dir);
    assert_int_equal(access(path, F_OK), -1);

    /* The same directory with only lost+found/ in it opens as a new store. */
    snprintf(path, sizeof(path), "%s/notes.txt", c->dir);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/lost+found", c->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    c->s = tu_open(c->dir);
    OP_IS(c, "(persist/append \"a\" {:seq 1})", "nil");
}

/* A sync mode the header does not define is refused before anything is
 * made: read as "not SXP_SYNC_ALWAYS", it would acknowledge every
 * operation without an fdatasync. */
static void an_unknown_sync_mode_is_refused(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char root[4096];
    snprintf(root, sizeof(root), "%s/store", dir);
    const int bad[] = {2, -1, 1000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sxp_options o;
        sxp_options_init(&o);
        o.quiet = 1;
        o.sync = (enum sxp_sync_mode)bad[i];
        sxp_store *s = (sxp_store *)&o; /* must be set to NULL */
        struct sxp_err err;
        assert_int_equal(sxp_store_open(root, &o, &s, &err), -EINVAL);
        assert_null(s);
        assert_non_null(strstr(err.msg, "unknown sync mode"));
        assert_string_equal(err.kind, "arg");
        struct stat sb;
        assert_int_equal(stat(root, &sb), -1); /* nothing made */
    }
    tu_rmrf(dir);
    free(dir);
}

/* SPEC section 1: --dir, else $SX_PERSIST_DIR, else ./persist-data, an
 * empty string counting as none; the engine, sxp and sxp-fsck all ask. */
static void the_store_root_is_the_dir_else_the_environment_else_persist_data(void **state)
{
    (void)state;
    const char *saved = getenv("SX_PERSIST_DIR");
    char *keep = saved ? strdup(saved) : NULL;
    assert_int_equal(unsetenv("SX_PERSIST_DIR"), 0);
    assert_string_equal(sxp_store_resolve_dir(NULL), "persist-data");
    assert_string_equal(sxp_store_resolve_dir(""), "persist-data");
    assert_int_equal(setenv("SX_PERSIST_DIR", "", 1), 0);
    assert_string_equal(sxp_store_resolve_dir(NULL), "persist-data");
    assert_int_equal(setenv("SX_PERSIST_DIR", "/srv/env-store", 1), 0);
    assert_string_equal(sxp_store_resolve_dir(NULL), "/srv/env-store");
    assert_string_equal(sxp_store_resolve_dir(""), "/srv/env-store");
    assert_string_equal(sxp_store_resolve_dir("/srv/given"), "/srv/given");
    if (keep)
        assert_int_equal(setenv("SX_PERSIST_DIR", keep, 1), 0);
    else
        assert_int_equal(unsetenv("SX_PERSIST_DIR"), 0);
    free(keep);
}

static void state_survives_close_and_reopen(void **state)
{
    struct tu_store *c = *state;
    OP_IS(c, "(persist/append-batch \"r\" (list {:seq 1} {:seq 2} {:seq 3}))", "nil");
    OP_IS(c, "(persist/truncate \"r\" 3)", "nil");
    OP_IS(c, "(persist/kv-put \"k\" 7)", "nil");
    reopen(c);
    OP_IS(c, "(persist/last-seq \"r\")", "3");
    OP_IS(c, "(persist/read \"r\")", "(list)");
    OP_IS(c, "(persist/streams)", "(list \"r\")");
    OP_IS(c, "(persist/kv-get \"k\")", "7");
    const char *kind;
    assert_int_equal(tu_op_fails(c->s, "(persist/append \"r\" {:seq 3})", &kind), -ERANGE);
    OP_IS(c, "(persist/append \"r\" {:seq 4})", "nil");
    /* The .seq file says 4 after a clean close. */
    reopen(c);
    char path[4096];
    snprintf(path, sizeof(path), "%s/streams/72.seq", c->dir);
    char *t = tu_read_file(path, NULL);
    assert_string_equal(t, "4");
    free(t);
    snprintf(path, sizeof(path), "%s/LOCK", c->dir);
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    t = tu_read_file(path, NULL);
    assert_string_equal(t, "clean\n");
    free(t);
}

/* The log's size on disk, and the length of its lines (up to the last LF). */
static void log_sizes(const char *dir, const char *hexname, off_t *size, size_t *lines)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/streams/%s.log", dir, hexname);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    *size = sb.st_size;
    size_t len = 0;
    char *t = tu_read_file(path, &len);
    assert_non_null(t);
    size_t end = len;
    while (end > 0 && t[end - 1] != '\n')
        end--;
    for (size_t i = end; i < len; i++)
        assert_int_equal(t[i], 0); /* past the lines: only pre-zeroed space */
    free(t);
    *lines = end;
}

static void a_busy_log_is_pre_zeroed_and_a_clean_close_cuts_the_zeros(void **state)
{
    struct tu_store *c = *state;
    off_t size;
    size_t lines;
    /* Past the first appends of a session, small appends land in zeros
     * written ahead of them. */
    for (int i = 1; i <= 200; i++) {
        char req[64];
        snprintf(req, sizeof(req), "(persist/append \"z\" {:seq %d})", i);
        OP_IS(c, req, "nil");
    }
    log_sizes(c->dir, "7a", &size, &lines);
    assert_true((size_t)size > lines);
    OP_IS(c, "(persist/last-seq \"z\")", "200");
    /* A batch of more than an eighth of the run grows the file with no
     * zeros after it: writing them would cost more than the journal. */
    tu_append_padded(c->s, "z", 201, 500, 1, 400); /* about 210 KB */
    log_sizes(c->dir, "7a", &size, &lines);
    assert_true((size_t)size == lines);
    /* Small appends after it are pre-zeroed again. */
    OP_IS(c, "(persist/append \"z\" {:seq 701})", "nil");
    log_sizes(c->dir, "7a", &size, &lines);
    assert_true((size_t)size > lines);
    /* Batches of more than COMMIT_BIG_ROUND (32 KiB) write no zeros either,
     * however long the run has grown (an eighth of it passes 42 KB here
     * after the second batch): once they have used up the zeros ahead, each
     * grows the file, and the file stays exactly its lines. */
    int64_t seq = 702;
    int grown = 0;
    for (int k = 0; k < 40 && !grown; k++, seq += 100) {
        tu_append_padded(c->s, "z", seq, 100, 1, 400); /* about 42 KB */
        log_sizes(c->dir, "7a", &size, &lines);
        grown = (size_t)size == lines;
    }
    assert_true(grown);
    tu_append_padded(c->s, "z", seq, 100, 1, 400);
    seq += 100;
    log_sizes(c->dir, "7a", &size, &lines);
    assert_true((size_t)size == lines);
    char req[64];
    snprintf(req, sizeof(req), "(persist/append \"z\" {:seq %lld})", (long long)seq);
    OP_IS(c, req, "nil");
    log_sizes(c->dir, "7a", &size, &lines);
    assert_true((size_t)size > lines);
    /* A clean close leaves exactly the lines (SPEC section 3). */
    reopen(c);
    log_sizes(c->dir, "7a", &size, &lines);
    assert_true((size_t)size == lines);
    snprintf(req, sizeof(req), "%lld", (long long)seq);
    OP_IS(c, "(persist/last-seq \"z\")", req);
}

static void read_range_finds_the_middle_of_a_long_log(void **state)
{
    struct tu_store *c = *state;
    /* About 3 MB: enough for the bisection to take many steps. */
    enum { N = 30000 };
    struct sxp_err err;
    tu_append_padded(c->s, "big", 1, N, 2, 80);
    int64_t froms[] = {1, 2, 3, 12345, 30001, 59999, 60000, 60001, 40000};
    for (size_t k = 0; k < sizeof(froms) / sizeof(froms[0]); k++) {
        sxp_value *out = NULL;
        assert_int_equal(sxp_stream_read_range(c->s, "big", 3, froms[k], 3, &out, &err), 0);
        int64_t first = froms[k] % 2 ? froms[k] + 1 : froms[k];
        if (first < 2)
            first = 2;
        size_t want = first > 2 * N ? 0 : (size_t)((2 * N - first) / 2 + 1);
        if (want > 3)
            want = 3;
        assert_int_equal(sxp_value_len(out), want);
        for (size_t i = 0; i < want; i++) {
            const sxp_value *ev = sxp_value_list_get(out, i);
            assert_int_equal(sxp_value_as_int(sxp_value_dict_get(ev, "seq", 3)),
                             first + 2 * (int64_t)i);
        }
        sxp_value_free(out);
    }
    /* Truncate to the middle, then read the rest. */
    assert_int_equal(sxp_stream_truncate(c->s, "big", 3, 50000, &err), 0);
    sxp_value *out = NULL;
    assert_int_equal(sxp_stream_read(c->s, "big", 3, &out, &err), 0);
    assert_int_equal(sxp_value_len(out), 5000);
    assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, 0), "seq", 3)),
                     50002);
    sxp_value_free(out);
}

/* Seqs at the top of int64, where doubles are 1024 apart: the seek's
 * interpolation must not divide two differences that round to 0 (UBSan's
 * float-divide-by-zero and float-cast-overflow catch it), and finds the
 * same events as at small seqs. */
static void read_range_and_truncate_work_at_the_top_of_int64(void **state)
{
    struct tu_store *c = *state;
    enum { N = 500 };
    const int64_t first = INT64_MAX - N;
    struct sxp_err err;
    tu_append_padded(c->s, "top", first, N, 1, 300); /* ~150 KB: the seek probes */
    int64_t froms[] = {first + 100, INT64_MAX - 1, first + 1, INT64_MAX};
    for (size_t k = 0; k < sizeof(froms) / sizeof(froms[0]); k++) {
        sxp_value *out = NULL;
        assert_int_equal(sxp_stream_read_range(c->s, "top", 3, froms[k], 2, &out, &err), 0);
        size_t want = froms[k] == INT64_MAX ? 0 : froms[k] == INT64_MAX - 1 ? 1 : 2;
        assert_int_equal(sxp_value_len(out), want);
        for (size_t i = 0; i < want; i++)
            assert_true(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, i), "seq",
                                                            3)) == froms[k] + (int64_t)i);
        sxp_value_free(out);
    }
    assert_int_equal(sxp_stream_truncate(c->s, "top", 3, INT64_MAX - 3, &err), 0);
    sxp_value *out = NULL;
    assert_int_equal(sxp_stream_read(c->s, "top", 3, &out, &err), 0);
    assert_int_equal(sxp_value_len(out), 2);
    assert_true(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, 0), "seq", 3)) ==
                INT64_MAX - 2);
    sxp_value_free(out);
}

/* The first seq read-range from from returns (limit 1) in a read-only
 * view of c's store, -1 when it returns none; the read must succeed. */
static int64_t ro_first_from(struct tu_store *c, int64_t from)
{
    struct sxp_err err;
    sxp_value *out = NULL;
    sxp_store *ro = tu_open_read_only(c->dir);
    int rc = sxp_stream_read_range(ro, "a", 1, from, 1, &out, &err);
    if (rc != 0)
        fail_msg("read-range from %lld: %s", (long long)from, err.msg);
    int64_t seq = sxp_value_len(out) == 0
                      ? -1
                      : sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, 0), "seq", 3));
    sxp_value_free(out);
    assert_int_equal(sxp_store_close(ro), 0);
    return seq;
}

/* A read-only view reads a log to its size, so it sees what follows the
 * last LF: a live writer's zeros (commit.c PRE-ZEROING) or a line being
 * written. read-range's seek probes there when the log's last line is long
 * and lands in it; the bytes are no line, not damage (a whole read skips
 * them too). */
static void read_range_in_a_read_only_view_skips_an_unfinished_last_line(void **state)
{
    struct tu_store *c = *state;
    static const char zeros[100];
    const char *half = "{:p \"half a line";
    char path[4096];
    tu_append_padded(c->s, "a", 1, 3000, 1, 100); /* about 330 KB */
    struct sxp_err err;
    sxp_value *big = tu_padded_event(3001, 20000); /* a last line past a probe's read */
    assert_int_equal(sxp_stream_append(c->s, "a", 1, big, &err), 0);
    sxp_value_free(big);
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    snprintf(path, sizeof(path), "%s/streams/61.log", c->dir);
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(path, "ab");
        assert_non_null(f);
        if (k == 0)
            assert_int_equal(fwrite(zeros, 1, sizeof(zeros), f), sizeof(zeros));
        else
            assert_int_equal(fwrite(half, 1, strlen(half), f), strlen(half));
        assert_int_equal(fclose(f), 0);
        assert_int_equal(ro_first_from(c, 3001), 3001);
        assert_int_equal(ro_first_from(c, 3002), -1);
        assert_int_equal(ro_first_from(c, 5000), -1);
        assert_int_equal(ro_first_from(c, 2999), 2999);
    }
}

/* ---- concurrency ---- */

enum { THREADS = 8, PER_THREAD = 150 };

struct worker {
    sxp_store *s;
    int id;
    atomic_llong *shared_seq;
    int64_t accepted[PER_THREAD];
    int naccepted;
    int errors;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    char name[16];
    snprintf(name, sizeof(name), "own-%d", w->id);
    for (int i = 1; i <= PER_THREAD; i++) {
        char t[64];
        struct sxp_err err;
        sxp_value *ev = NULL;
        snprintf(t, sizeof(t), "{:seq %d :w %d}", i, w->id);
        if (sxp_value_parse(t, strlen(t), &ev, &err) ||
            sxp_stream_append(w->s, name, strlen(name), ev, &err))
            w->errors++;
        sxp_value_free(ev);
        long long seq = atomic_fetch_add(w->shared_seq, 1) + 1;
        snprintf(t, sizeof(t), "{:seq %lld :w %d}", seq, w->id);
        if (sxp_value_parse(t, strlen(t), &ev, &err))
            w->errors++;
        int rc = sxp_stream_append(w->s, "shared", 6, ev, &err);
        if (rc == 0)
            w->accepted[w->naccepted++] = seq;
        else if (rc != -ERANGE)
            w->errors++; /* only a lost race on the seq may fail */
        sxp_value_free(ev);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void eight_threads_append_each_event_once_in_seq_order(void **state)
{
    struct tu_store *c = *state;
    static struct worker w[THREADS];
    pthread_t th[THREADS];
    atomic_llong shared = 0;
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].s = c->s;
        w[i].id = i;
        w[i].shared_seq = &shared;
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    struct sxp_stats st;
    sxp_store_stats(c->s, &st);
    reopen(c);
    int64_t all[THREADS * PER_THREAD] = {0};
    size_t n = 0;
    struct sxp_err err;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].errors, 0);
        for (int k = 0; k < w[i].naccepted; k++)
            all[n++] = w[i].accepted[k];
        char name[16];
        snprintf(name, sizeof(name), "own-%d", i);
        sxp_value *out = NULL;
        assert_int_equal(sxp_stream_read(c->s, name, strlen(name), &out, &err), 0);
        assert_int_equal(sxp_value_len(out), PER_THREAD);
        for (size_t k = 0; k < PER_THREAD; k++)
            assert_int_equal(
                sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, k), "seq", 3)),
                (int64_t)k + 1);
        sxp_value_free(out);
    }
    qsort(all, n, sizeof(all[0]), cmp_i64);
    sxp_value *out = NULL;
    assert_int_equal(sxp_stream_read(c->s, "shared", 6, &out, &err), 0);
    assert_int_equal(sxp_value_len(out), n);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, k), "seq", 3)),
                         all[k]);
    sxp_value_free(out);
    /* Every acknowledged append was counted, each in some round. Whether
     * rounds were shared depends on scheduling (not under valgrind, which
     * runs one thread at a time): test_group_commit.c proves that part
     * deterministically. */
    assert_true(st.appends == THREADS * PER_THREAD + n);
    assert_true(st.batches >= 1 && st.batches <= st.appends);
    assert_int_equal(st.in_flight, 0);
}

/* ---- a truncate waits for a scan that holds the log ---- */

/* T-1 (engine/truncate.c): a scan pins the stream's log descriptor while
 * its callback runs, and a truncate of that stream from another thread
 * waits until the scan is done: closing the descriptor under it would
 * make the scan's next read fail, or read whatever file took the number.
 * The scan parks in its first event; the truncate starts and is given a
 * while to finish, which it must not (the wait proves nothing on a slow
 * machine, but a truncate that does not wait finishes within it); then
 * the scan goes on and sees every event, and the truncate completes. */
struct held_scan {
    sxp_store *s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int parked, release, truncated, truncate_rc;
    int64_t seen[64];
    size_t nseen;
};

static int held_scan_event(void *ctx, const sxp_value *ev)
{
    struct held_scan *h = ctx;
    pthread_mutex_lock(&h->mu);
    if (h->nseen < 64)
        h->seen[h->nseen] = sxp_value_as_int(sxp_value_dict_get(ev, "seq", 3));
    if (h->nseen++ == 0) {
        h->parked = 1;
        pthread_cond_broadcast(&h->cv);
        while (!h->release)
            pthread_cond_wait(&h->cv, &h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return 0;
}

static void *held_scan_truncate(void *arg)
{
    struct held_scan *h = arg;
    struct sxp_err err;
    int rc = sxp_stream_truncate(h->s, "a", 1, 20, &err);
    pthread_mutex_lock(&h->mu);
    h->truncated = 1;
    h->truncate_rc = rc;
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void *held_scan_run(void *arg)
{
    struct held_scan *h = arg;
    struct sxp_err err;
    intptr_t rc = sxp_stream_scan(h->s, "a", 1, 1, -1, held_scan_event, h, &err);
    return (void *)rc;
}

static void a_truncate_waits_for_a_scan_that_holds_the_log(void **state)
{
    struct tu_store *c = *state;
    static struct held_scan h;
    memset(&h, 0, sizeof(h));
    h.s = c->s;
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    for (int i = 1; i <= 40; i++) {
        char req[64];
        snprintf(req, sizeof(req), "(persist/append \"a\" {:seq %d})", i);
        OP_IS(c, req, "nil");
    }
    pthread_t scanner, truncator;
    assert_int_equal(pthread_create(&scanner, NULL, held_scan_run, &h), 0);
    pthread_mutex_lock(&h.mu);
    while (!h.parked)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    assert_int_equal(pthread_create(&truncator, NULL, held_scan_truncate, &h), 0);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 200 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&h.mu);
    while (!h.truncated && pthread_cond_timedwait(&h.cv, &h.mu, &deadline) == 0)
        ;
    int finished_early = h.truncated;
    h.release = 1;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    void *scan_rc = NULL;
    pthread_join(scanner, &scan_rc);
    pthread_join(truncator, NULL);
    assert_false(finished_early);
    assert_int_equal((intptr_t)scan_rc, 0);
    assert_int_equal(h.nseen, 40);
    for (size_t i = 0; i < 40; i++)
        assert_int_equal(h.seen[i], (int64_t)i + 1);
    assert_int_equal(h.truncate_rc, 0);
    OP_IS(c, "(persist/read-range \"a\" 1 1)", "(list {:seq 21})");
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.mu);
}

/* ---- truncate racing appends and reads ---- */

#define RACE_APPENDS 2000

struct race {
    sxp_store *s;
    atomic_int done;
    atomic_llong truncated_to; /* the largest n a truncate was acknowledged for */
    int errors;
};

static void *race_appender(void *arg)
{
    struct race *r = arg;
    struct sxp_err err;
    for (int i = 1; i <= RACE_APPENDS; i++) {
        char t[64];
        snprintf(t, sizeof(t), "{:seq %d}", i);
        sxp_value *ev = NULL;
        if (sxp_value_parse(t, strlen(t), &ev, &err) || sxp_stream_append(r->s, "t", 1, ev, &err))
            r->errors++;
        sxp_value_free(ev);
    }
    atomic_store(&r->done, 1);
    return NULL;
}

static void *race_truncater(void *arg)
{
    struct race *r = arg;
    struct sxp_err err;
    int64_t last = 0;
    while (!atomic_load(&r->done)) {
        int64_t hw = 0;
        if (sxp_stream_last_seq(r->s, "t", 1, &hw, &err))
            r->errors++;
        /* Every few appends, not in a tight loop: a truncate waits for the
         * stream to be idle, and appends for the truncate. */
        if (hw < last + 5) {
            sched_yield();
            continue;
        }
        last = hw;
        if (hw > 10) {
            if (sxp_stream_truncate(r->s, "t", 1, hw - 10, &err))
                r->errors++;
            else if (hw - 10 > atomic_load(&r->truncated_to))
                atomic_store(&r->truncated_to, hw - 10);
        }
    }
    return NULL;
}

static void *race_reader(void *arg)
{
    struct race *r = arg;
    struct sxp_err err;
    while (!atomic_load(&r->done)) {
        sxp_value *out = NULL;
        if (sxp_stream_read(r->s, "t", 1, &out, &err)) {
            r->errors++;
            continue;
        }
        int64_t prev = 0;
        for (size_t i = 0; i < sxp_value_len(out); i++) {
            int64_t seq =
                sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, i), "seq", 3));
            if (seq <= prev)
                r->errors++;
            prev = seq;
        }
        sxp_value_free(out);
    }
    return NULL;
}

static void truncate_racing_appends_and_reads_keeps_every_later_event(void **state)
{
    struct tu_store *c = *state;
    struct race r = {.s = c->s};
    pthread_t a, t, rd;
    assert_int_equal(pthread_create(&a, NULL, race_appender, &r), 0);
    assert_int_equal(pthread_create(&t, NULL, race_truncater, &r), 0);
    assert_int_equal(pthread_create(&rd, NULL, race_reader, &r), 0);
    pthread_join(a, NULL);
    pthread_join(t, NULL);
    pthread_join(rd, NULL);
    assert_int_equal(r.errors, 0);
    reopen(c);
    int64_t hw = 0, n = atomic_load(&r.truncated_to);
    struct sxp_err err;
    assert_int_equal(sxp_stream_last_seq(c->s, "t", 1, &hw, &err), 0);
    assert_int_equal(hw, RACE_APPENDS);
    sxp_value *out = NULL;
    assert_int_equal(sxp_stream_read(c->s, "t", 1, &out, &err), 0);
    /* Exactly the events above the last acknowledged truncate remain. */
    assert_int_equal(sxp_value_len(out), (size_t)(RACE_APPENDS - n));
    for (size_t i = 0; i < sxp_value_len(out); i++)
        assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, i), "seq", 3)),
                         n + 1 + (int64_t)i);
    sxp_value_free(out);
}

/* K-4 (engine/lock.h): a store closed a moment ago may still be locked
 * (io_uring's teardown holds its LOCK file a moment after the close, in
 * this process too): an open that finds LOCK reading "clean" but locked
 * waits for the release instead of failing with "locked by another
 * writer" (a close and reopen in one process failed so under load). A
 * descriptor of this test holds the lock, as the ring would, and lets it
 * go while the open waits. */
struct lingering_lock {
    int fd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int opening;
};

static void *lingering_lock_release(void *arg)
{
    struct lingering_lock *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->opening)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    struct timespec ts = {0, 100 * 1000 * 1000}; /* the open is waiting by then, or fails */
    nanosleep(&ts, NULL);
    close(l->fd);
    return NULL;
}

static void a_lock_that_lingers_after_a_clean_close_is_waited_for(void **state)
{
    struct tu_store *c = *state;
    char path[4096];
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    snprintf(path, sizeof(path), "%s/LOCK", c->dir);
    static struct lingering_lock l;
    memset(&l, 0, sizeof(l));
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    l.fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(l.fd >= 0);
    assert_int_equal(flock(l.fd, LOCK_EX | LOCK_NB), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, lingering_lock_release, &l), 0);
    pthread_mutex_lock(&l.mu);
    l.opening = 1;
    pthread_cond_broadcast(&l.cv);
    pthread_mutex_unlock(&l.mu);
    struct sxp_options o;
    struct sxp_err err;
    sxp_options_init(&o);
    o.quiet = 1;
    int rc = sxp_store_open(c->dir, &o, &c->s, &err);
    pthread_join(th, NULL);
    if (rc != 0)
        fail_msg("the open after a clean close failed: %s", err.msg);
    OP_IS(c, "(persist/append \"a\" {:seq 1})", "nil");
    pthread_cond_destroy(&l.cv);
    pthread_mutex_destroy(&l.mu);
}

static void a_second_writer_is_refused_naming_dir_and_pid(void **state)
{
    struct tu_store *c = *state;
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    sxp_store *s2 = NULL;
    struct sxp_err err;
    assert_int_equal(sxp_store_open(c->dir, &o, &s2, &err), -EAGAIN);
    assert_null(s2);
    char pid[32];
    snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
    assert_non_null(strstr(err.msg, pid));
    assert_non_null(strstr(err.msg, c->dir));
    assert_string_equal(err.kind, "locked");
    /* A read-only open is allowed alongside. */
    o.read_only = 1;
    assert_int_equal(sxp_store_open(c->dir, &o, &s2, &err), 0);
    assert_int_equal(sxp_store_close(s2), 0);
}

static void many_streams_work_with_a_small_descriptor_cache(void **state)
{
    struct tu_store *c = *state;
    assert_int_equal(sxp_store_close(c->s), 0);
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    o.max_open_files = 4;
    struct sxp_err err;
    assert_int_equal(sxp_store_open(c->dir, &o, &c->s, &err), 0);
    for (int round = 1; round <= 3; round++)
        for (int i = 0; i < 40; i++) {
            char req[128];
            snprintf(req, sizeof(req), "(persist/append \"s%d\" {:seq %d})", i, round);
            OP_IS(c, req, "nil");
        }
    struct sxp_stats st;
    sxp_store_stats(c->s, &st);
    assert_true(st.open_files <= 4);
    for (int i = 0; i < 40; i++) {
        char req[128];
        snprintf(req, sizeof(req), "(persist/read \"s%d\")", i);
        OP_IS(c, req, "(list {:seq 1} {:seq 2} {:seq 3})");
    }
}

/* kv and blob writes count their syncs: the temp file's data and the
 * folder (a put), the folder (a delete, a blob already there). */
static void kv_and_blob_writes_count_their_syncs(void **state)
{
    struct tu_store *c = *state;
    struct sxp_stats a, b;
    sxp_store_stats(c->s, &a);
    OP_IS(c, "(persist/kv-put \"k\" 1)", "nil");
    sxp_store_stats(c->s, &b);
    assert_int_equal(b.fdatasyncs - a.fdatasyncs, 2);
    OP_IS(c, "(persist/kv-delete \"k\")", "nil");
    sxp_store_stats(c->s, &a);
    assert_int_equal(a.fdatasyncs - b.fdatasyncs, 1);
    char cid[SXP_CID_LEN + 1];
    struct sxp_err err;
    assert_int_equal(sxp_blob_put(c->s, "abc", 3, cid, &err), 0);
    sxp_store_stats(c->s, &b);
    assert_int_equal(b.fdatasyncs - a.fdatasyncs, 2);
    assert_int_equal(sxp_blob_put(c->s, "abc", 3, cid, &err), 0);
    sxp_store_stats(c->s, &a);
    assert_int_equal(a.fdatasyncs - b.fdatasyncs, 1);
}

static void no_sync_mode_keeps_the_same_meaning(void **state)
{
    struct tu_store *c = *state;
    assert_int_equal(sxp_store_close(c->s), 0);
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    o.sync = SXP_SYNC_NONE;
    struct sxp_err err;
    assert_int_equal(sxp_store_open(c->dir, &o, &c->s, &err), 0);
    OP_IS(c, "(persist/append \"q\" {:seq 1})", "nil");
    OP_IS(c, "(persist/append \"q\" {:seq 2})", "nil");
    struct sxp_stats st;
    sxp_store_stats(c->s, &st);
    assert_int_equal(st.fdatasyncs, 0);
    reopen(c);
    OP_IS(c, "(persist/read \"q\")", "(list {:seq 1} {:seq 2})");
}

/* A symbolic link in a log's place is refused, never followed: an append
 * acknowledged into a file outside the store would be out of sxp-fsck's
 * sight (it reports links as foreign files). The file it names is left as
 * it was. */
static void a_link_in_a_logs_place_is_refused_not_followed(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    free(tu_op(c->s, "(persist/append \"a\" {:seq 1})"));
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    char log[4096], outside[4096];
    snprintf(log, sizeof(log), "%s/streams/61.log", c->dir);
    snprintf(outside, sizeof(outside), "%s/outside.log", c->dir);
    assert_int_equal(rename(log, outside), 0);
    assert_int_equal(symlink(outside, log), 0);
    size_t before_len = 0, after_len = 0;
    char *before = tu_read_file(outside, &before_len);
    c->s = tu_open(c->dir);
    sxp_value *ev = tu_val("{:seq 2}");
    assert_int_equal(sxp_stream_append(c->s, "a", 1, ev, &err), -ELOOP);
    sxp_value_free(ev);
    sxp_value *list = NULL;
    assert_int_equal(sxp_stream_read(c->s, "a", 1, &list, &err), -ELOOP);
    char *after = tu_read_file(outside, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    free(before);
    free(after);
    assert_int_equal(unlink(log), 0);
    assert_int_equal(rename(outside, log), 0);
}

/* The names in dir that end in ".tmp" (layout.c): temp files. */
static int count_tmp_names(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        n += len >= 4 && strcmp(e->d_name + len - 4, ".tmp") == 0;
    }
    closedir(d);
    return n;
}

/* Symbolic links put in the .seq files' places during a session (an open
 * refuses one it reads), all to one file outside the store: the close
 * that writes the 70 marks (two chunks, the second reusing the first's
 * temp files, engine/seqfile.c RECYCLING) never writes through one, the
 * file they name is left as it was, every stream's .seq is then a file
 * holding its mark, and no link is left at a temp name (the six the
 * second chunk could not reuse are removed, as a rename would have
 * replaced them). */
static void links_in_seq_places_are_never_written_through(void **state)
{
    struct tu_store *c = *state;
    char seq[4096], outside[4096], op[128];
    for (int i = 0; i < 70; i++) {
        snprintf(op, sizeof(op), "(persist/append \"s%02d\" {:seq 1})", i);
        free(tu_op(c->s, op));
    }
    int rc = sxp_store_close(c->s);
    c->s = NULL; /* closed, whatever rc says */
    assert_int_equal(rc, 0);
    snprintf(outside, sizeof(outside), "%s/outside.seq", c->dir);
    FILE *f = fopen(outside, "w");
    assert_non_null(f);
    fputs("7\n", f);
    assert_int_equal(fclose(f), 0);
    c->s = tu_open(c->dir);
    for (int i = 0; i < 70; i++) {
        snprintf(op, sizeof(op), "(persist/append \"s%02d\" {:seq 9})", i);
        free(tu_op(c->s, op));
    }
    for (int i = 0; i < 70; i++) {
        snprintf(seq, sizeof(seq), "%s/streams/73%02x%02x.seq", c->dir, '0' + i / 10, '0' + i % 10);
        assert_int_equal(unlink(seq), 0);
        assert_int_equal(symlink(outside, seq), 0);
    }
    rc = sxp_store_close(c->s);
    c->s = NULL;
    assert_int_equal(rc, 0);
    size_t len = 0;
    char *text = tu_read_file(outside, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(text, "7\n", 2);
    free(text);
    snprintf(seq, sizeof(seq), "%s/streams", c->dir);
    assert_int_equal(count_tmp_names(seq), 0);
    for (int i = 0; i < 70; i++) {
        struct stat sb;
        snprintf(seq, sizeof(seq), "%s/streams/73%02x%02x.seq", c->dir, '0' + i / 10, '0' + i % 10);
        assert_int_equal(lstat(seq, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
    }
    c->s = tu_open(c->dir);
    OP_IS(c, "(persist/last-seq \"s00\")", "9");
    OP_IS(c, "(persist/last-seq \"s69\")", "9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_unknown_sync_mode_is_refused),
        cmocka_unit_test(the_store_root_is_the_dir_else_the_environment_else_persist_data),
        cmocka_unit_test_setup_teardown(append_then_read_returns_the_event, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(links_in_seq_places_are_never_written_through,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(reading_unknown_streams_leaves_no_trace_in_memory,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(every_operation_answers_as_the_reference, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(seq_at_or_below_high_water_is_rejected_and_nothing_written,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(events_that_are_not_dicts_with_integer_seq_are_rejected,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(malformed_requests_unknown_ops_and_wrong_arity_are_errors,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(bad_names_are_rejected, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(names_sort_by_bytes_a_prefix_first, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_wrong_request_is_refused_without_a_store_as_by_the_store,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(what_needs_the_store_passes_the_check, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(
            oversized_requests_are_refused_without_a_store_as_by_the_store, tu_store_setup,
            tu_store_teardown),
        cmocka_unit_test_setup_teardown(blob_ids_that_are_not_cids_are_errors_never_paths,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(values_round_trip_through_the_store, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(unserializable_values_are_rejected_and_nothing_written,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(every_line_on_disk_carries_its_xxh3_trailer, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_damaged_line_is_an_error_naming_stream_line_and_offset,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_read_only_view_of_a_live_store_says_the_logs_last_seq,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_damaged_line_met_after_a_seek_is_named_by_its_offset,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(damage_under_a_truncate_or_a_kv_get_is_refused_and_kept,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_store_this_sxp_cannot_read_is_refused_unchanged,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_blob_whose_bytes_changed_is_refused_on_get,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_blob_whose_bytes_changed_is_written_again_by_its_put,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_line_that_is_no_event_in_order_is_never_served,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_clean_store_refuses_a_log_with_a_bad_tail, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(an_empty_log_whose_seq_was_removed_is_refused_and_kept,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_lagging_or_missing_seq_file_never_reissues_a_seq,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(the_last_line_is_found_behind_blank_lines_and_a_long_event,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(blank_lines_are_stepped_over_by_every_reader,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(messages_show_names_escaped, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(an_event_too_deep_for_a_read_is_refused, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(oversized_requests_are_refused_and_change_nothing,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_wrong_argument_gets_its_own_error_on_a_read_only_store,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_legacy_store_reads_and_takes_new_appends, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(state_survives_close_and_reopen, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_busy_log_is_pre_zeroed_and_a_clean_close_cuts_the_zeros,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(
            read_range_in_a_read_only_view_skips_an_unfinished_last_line, tu_store_setup,
            tu_store_teardown),
        cmocka_unit_test_setup_teardown(read_range_finds_the_middle_of_a_long_log, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(read_range_and_truncate_work_at_the_top_of_int64,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_truncate_waits_for_a_scan_that_holds_the_log,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(eight_threads_append_each_event_once_in_seq_order,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(truncate_racing_appends_and_reads_keeps_every_later_event,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_lock_that_lingers_after_a_clean_close_is_waited_for,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_second_writer_is_refused_naming_dir_and_pid,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(many_streams_work_with_a_small_descriptor_cache,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(kv_and_blob_writes_count_their_syncs, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(no_sync_mode_keeps_the_same_meaning, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_directory_of_other_files_is_not_made_a_store,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_link_in_a_logs_place_is_refused_not_followed,
                                        tu_store_setup, tu_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
