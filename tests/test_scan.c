/*
 * test_scan.c -- sxp_stream_scan: it visits exactly the events that
 * sxp_stream_read and sxp_stream_read_range return, in the same order and
 * equal to them (nested values included, whose outermost node the scan
 * reuses), stops when its function says so, verifies checksums, and
 * refuses bad names. Its function may call the store, and the calls that
 * would wait for the scan itself fail with -EDEADLK instead of hanging.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sxp.h"
#include "testutil.h"

/* What a scan saw: a copy of every event lent to it, as a list. */
struct seen {
    sxp_value *list;
    size_t stop_after; /* 0: never stop; else stop after this many */
    int stop_with;     /* what to return then */
};

static int collect(void *ctx, const sxp_value *ev)
{
    struct seen *s = ctx;
    sxp_value *copy = sxp_value_copy(ev);
    assert_non_null(copy);
    assert_int_equal(sxp_value_list_push(s->list, copy), 0);
    if (s->stop_after && sxp_value_len(s->list) == s->stop_after)
        return s->stop_with;
    return 0;
}

static int scan(struct tu_store *c, const char *name, int64_t from, int64_t limit, struct seen *s,
                struct sxp_err *err)
{
    s->list = sxp_value_list();
    return sxp_stream_scan(c->s, name, strlen(name), from, limit, collect, s, err);
}

/* Events with nested lists and dicts, strings with escapes, and a flat one:
 * every shape whose outermost node the scan keeps in its scratch. */
static void append_mixed(struct tu_store *c, const char *name, int n)
{
    struct sxp_err err;
    for (int i = 1; i <= n; i++) {
        char t[512];
        switch (i % 4) {
        case 0:
            snprintf(t, sizeof(t), "{:seq %d}", i);
            break;
        case 1:
            snprintf(t, sizeof(t), "{:seq %d :items (list 1 \"two\" {:x (list 3)}) :n 2.5}", i);
            break;
        case 2:
            snprintf(t, sizeof(t), "{:seq %d :s \"tab\\there \\\"q\\\" %0*d\"}", i, i % 300, 7);
            break;
        default:
            snprintf(t, sizeof(t), "{:seq %d :who (quote ann) :k :kw :ok true :none nil}", i);
            break;
        }
        sxp_value *ev = tu_val(t);
        assert_int_equal(sxp_stream_append(c->s, name, strlen(name), ev, &err), 0);
        sxp_value_free(ev);
    }
}

static void scan_visits_what_read_returns_in_order(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    append_mixed(c, "mix", 401);
    sxp_value *want = NULL;
    assert_int_equal(sxp_stream_read(c->s, "mix", 3, &want, &err), 0);
    struct seen s = {0};
    assert_int_equal(scan(c, "mix", INT64_MIN, -1, &s, &err), 0);
    assert_int_equal(err.code, 0);
    assert_int_equal(sxp_value_len(s.list), 401);
    assert_true(sxp_value_equal(s.list, want));
    sxp_value_free(s.list);
    sxp_value_free(want);
}

static void scan_from_a_seq_with_a_limit_matches_read_range(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    append_mixed(c, "mix", 300);
    static const int64_t froms[] = {INT64_MIN, 1, 2, 150, 299, 300, 301, 100000};
    static const int64_t limits[] = {-1, 0, 1, 7, 1000};
    for (size_t f = 0; f < sizeof(froms) / sizeof(froms[0]); f++) {
        for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
            sxp_value *want = NULL;
            assert_int_equal(
                sxp_stream_read_range(c->s, "mix", 3, froms[f], limits[l], &want, &err), 0);
            struct seen s = {0};
            assert_int_equal(scan(c, "mix", froms[f], limits[l], &s, &err), 0);
            assert_true(sxp_value_equal(s.list, want));
            sxp_value_free(s.list);
            sxp_value_free(want);
        }
    }
    /* A negative limit is no limit (sxp.h), for both. */
    sxp_value *all = NULL;
    assert_int_equal(sxp_stream_read_range(c->s, "mix", 3, 1, -5, &all, &err), 0);
    assert_int_equal(sxp_value_len(all), 300);
    sxp_value_free(all);
}

static void the_function_stops_the_scan(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    append_mixed(c, "mix", 50);
    /* A positive value stops it and comes back as the result. */
    struct seen s = {.stop_after = 10, .stop_with = 42};
    assert_int_equal(scan(c, "mix", INT64_MIN, -1, &s, &err), 42);
    assert_int_equal(sxp_value_len(s.list), 10);
    assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(s.list, 9), "seq", 3)),
                     10);
    sxp_value_free(s.list);
    /* A negative errno stops it as an error of kind "stopped". */
    struct seen e = {.stop_after = 3, .stop_with = -ECANCELED};
    assert_int_equal(scan(c, "mix", 20, -1, &e, &err), -ECANCELED);
    assert_int_equal(err.code, -ECANCELED);
    assert_string_equal(err.kind, "stopped");
    assert_int_equal(sxp_value_len(e.list), 3);
    assert_int_equal(sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(e.list, 0), "seq", 3)),
                     20);
    sxp_value_free(e.list);
}

static void an_unknown_stream_has_no_events_and_a_bad_name_is_refused(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    struct seen s = {0};
    assert_int_equal(scan(c, "nobody", INT64_MIN, -1, &s, &err), 0);
    assert_int_equal(sxp_value_len(s.list), 0);
    sxp_value_free(s.list);
    s.list = sxp_value_list();
    assert_int_equal(sxp_stream_scan(c->s, "", 0, INT64_MIN, -1, collect, &s, &err), -EINVAL);
    assert_string_equal(err.kind, "name");
    assert_int_equal(sxp_stream_scan(c->s, "x", 1, INT64_MIN, -1, NULL, NULL, &err), -EINVAL);
    assert_string_equal(err.kind, "arg");
    assert_int_equal(sxp_value_len(s.list), 0);
    sxp_value_free(s.list);
}

static void a_damaged_line_stops_the_scan_with_a_checksum_error(void **state)
{
    struct tu_store *c = *state;
    struct sxp_err err;
    append_mixed(c, "d", 5);
    assert_int_equal(sxp_store_close(c->s), 0);
    char path[4096];
    snprintf(path, sizeof(path), "%s/streams/64.log", c->dir);
    size_t len;
    char *bytes = tu_read_file(path, &len);
    char *line3 = strchr(strchr(bytes, '\n') + 1, '\n') + 1;
    line3[3] ^= 0x01;
    tu_write_file(path, bytes, len);
    free(bytes);
    c->s = tu_open(c->dir);
    struct seen s = {0};
    assert_int_equal(scan(c, "d", INT64_MIN, -1, &s, &err), -EBADMSG);
    assert_string_equal(err.kind, "checksum");
    assert_non_null(strstr(err.msg, "line 3"));
    /* The two good lines before it were visited, nothing after it. */
    assert_int_equal(sxp_value_len(s.list), 2);
    sxp_value_free(s.list);
}

/* What a scan's function did when it called back into the store. */
struct reentry {
    sxp_store *s;
    int truncate_rc, other_rc, append_rc;
    const char *truncate_kind;
    int visits;
};

static int call_back_in(void *ctx, const sxp_value *ev)
{
    (void)ev;
    struct reentry *r = ctx;
    struct sxp_err err;
    if (r->visits++ > 0)
        return 0;
    r->truncate_rc = sxp_stream_truncate(r->s, "a", 1, 1, &err);
    r->truncate_kind = err.kind;
    r->other_rc = sxp_stream_truncate(r->s, "b", 1, 1, &err);
    sxp_value *e = tu_val("{:seq 10}");
    r->append_rc = sxp_stream_append(r->s, "a", 1, e, &err);
    sxp_value_free(e);
    return 0;
}

/* The scan holds its stream's log until its function returns, and a
 * truncate waits for every holder: a truncate of the scanned stream from
 * the function would wait for itself for ever. It is -EDEADLK, the scan
 * goes on, and everything else the function does works. */
static void a_truncate_of_the_scanned_stream_from_its_function_is_refused(void **state)
{
    struct tu_store *c = *state;
    char *r1 = tu_op(c->s, "(persist/append-batch \"a\" (list {:seq 1} {:seq 2} {:seq 3}))");
    char *r2 = tu_op(c->s, "(persist/append-batch \"b\" (list {:seq 1} {:seq 2}))");
    free(r1);
    free(r2);
    struct reentry r = {.s = c->s};
    struct sxp_err err;
    assert_int_equal(sxp_stream_scan(c->s, "a", 1, INT64_MIN, -1, call_back_in, &r, &err), 0);
    assert_int_equal(r.truncate_rc, -EDEADLK);
    assert_string_equal(r.truncate_kind, "busy");
    assert_int_equal(r.other_rc, 0);
    assert_int_equal(r.append_rc, 0);
    assert_int_equal(r.visits, 3); /* the scan's end was fixed when it began */
    char *got = tu_op(c->s, "(persist/read \"a\")");
    assert_string_equal(got, "(list {:seq 1} {:seq 2} {:seq 3} {:seq 10})");
    free(got);
    got = tu_op(c->s, "(persist/read \"b\")");
    assert_string_equal(got, "(list {:seq 2})");
    free(got);
    /* Once the scan is over the truncate works. */
    assert_int_equal(sxp_stream_truncate(c->s, "a", 1, 2, &err), 0);
    got = tu_op(c->s, "(persist/read \"a\")");
    assert_string_equal(got, "(list {:seq 3} {:seq 10})");
    free(got);
}

/* Another thread's truncate of the scanned stream waits for the scan; an
 * append to that stream from the scan's function would wait for the
 * truncate: it is -EDEADLK once the truncate has begun, and the truncate
 * finishes when the scan does. */
struct racer {
    sxp_store *s;
    int rc;
};

static void *truncate_a(void *arg)
{
    struct racer *t = arg;
    struct sxp_err err;
    t->rc = sxp_stream_truncate(t->s, "a", 1, 2, &err);
    return NULL;
}

struct appender {
    sxp_store *s;
    pthread_t th;
    struct racer racer;
    int64_t next_seq;
    int deadlock_rc;
    const char *kind;
};

static int append_until_refused(void *ctx, const sxp_value *ev)
{
    (void)ev;
    struct appender *a = ctx;
    if (a->deadlock_rc)
        return 0;
    a->racer.s = a->s;
    assert_int_equal(pthread_create(&a->th, NULL, truncate_a, &a->racer), 0);
    /* Until the truncate has begun, each append goes through; from then
     * on the stream is busy and an append would wait for it. */
    for (;;) {
        struct sxp_err err;
        char text[64];
        snprintf(text, sizeof(text), "{:seq %lld}", (long long)a->next_seq);
        sxp_value *e = tu_val(text);
        int rc = sxp_stream_append(a->s, "a", 1, e, &err);
        sxp_value_free(e);
        if (rc == 0) {
            a->next_seq++;
            continue;
        }
        a->deadlock_rc = rc;
        a->kind = err.kind;
        return 0;
    }
}

static void an_append_from_the_scan_that_would_wait_for_a_truncate_is_refused(void **state)
{
    struct tu_store *c = *state;
    char *r1 = tu_op(c->s, "(persist/append-batch \"a\" (list {:seq 1} {:seq 2} {:seq 3}))");
    free(r1);
    struct appender a = {.s = c->s, .next_seq = 4};
    struct sxp_err err;
    assert_int_equal(sxp_stream_scan(c->s, "a", 1, INT64_MIN, -1, append_until_refused, &a, &err),
                     0);
    assert_int_equal(a.deadlock_rc, -EDEADLK);
    assert_string_equal(a.kind, "busy");
    assert_int_equal(pthread_join(a.th, NULL), 0);
    assert_int_equal(a.racer.rc, 0);
    /* Seqs 1 and 2 went; every append the function got through stays. */
    char *got = tu_op(c->s, "(persist/last-seq \"a\")");
    char want[32];
    snprintf(want, sizeof(want), "%lld", (long long)a.next_seq - 1);
    assert_string_equal(got, want);
    free(got);
    got = tu_op(c->s, "(persist/read-range \"a\" 0 1)");
    assert_string_equal(got, "(list {:seq 3})");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(scan_visits_what_read_returns_in_order, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(scan_from_a_seq_with_a_limit_matches_read_range,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(the_function_stops_the_scan, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(an_unknown_stream_has_no_events_and_a_bad_name_is_refused,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_damaged_line_stops_the_scan_with_a_checksum_error,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(
            a_truncate_of_the_scanned_stream_from_its_function_is_refused, tu_store_setup,
            tu_store_teardown),
        cmocka_unit_test_setup_teardown(
            an_append_from_the_scan_that_would_wait_for_a_truncate_is_refused, tu_store_setup,
            tu_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
