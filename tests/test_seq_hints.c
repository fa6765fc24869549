/*
 * test_seq_hints.c -- the remembered (seq, offset) pairs of read-range: the
 * bracket they give always still holds the first line with seq >= from,
 * they stay sorted and distinct, a full set keeps a spread half, and
 * read-range through the store stays right while hints pile up, after
 * appends and after a truncate replaces the log.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seq_hints.h"
#include "sxp.h"
#include "testutil.h"

static void brackets_narrow_to_the_nearest_hints(void **state)
{
    (void)state;
    struct seq_hints *hs = NULL;
    uint64_t lo = 0, hi = 1000;
    seq_hints_bracket(hs, 5, &lo, &hi); /* none: unchanged */
    assert_true(lo == 0 && hi == 1000);
    /* Lines of seq 10, 20, ... at offsets 100, 200, ... */
    struct seq_hint add[] = {{50, 500}, {10, 100}, {30, 300}, {30, 300}, {90, 900}};
    assert_int_equal(seq_hints_add(&hs, add, 5), 0);
    assert_int_equal(hs->n, 4);
    for (size_t i = 1; i < hs->n; i++)
        assert_true(hs->h[i - 1].seq < hs->h[i].seq && hs->h[i - 1].off < hs->h[i].off);
    lo = 0, hi = 1000;
    seq_hints_bracket(hs, 35, &lo, &hi);
    assert_true(lo == 300 && hi == 500);
    lo = 0, hi = 1000;
    seq_hints_bracket(hs, 30, &lo, &hi); /* a hint with seq == from is hi */
    assert_true(lo == 100 && hi == 300);
    lo = 0, hi = 1000;
    seq_hints_bracket(hs, 5, &lo, &hi);
    assert_true(lo == 0 && hi == 100);
    lo = 0, hi = 1000;
    seq_hints_bracket(hs, 95, &lo, &hi);
    assert_true(lo == 900 && hi == 1000);
    /* Never widens a bracket the caller already has. */
    lo = 400, hi = 450;
    seq_hints_bracket(hs, 35, &lo, &hi);
    assert_true(lo == 400 && hi == 450);
    seq_hints_free(&hs);
    assert_null(hs);
}

static void a_full_set_keeps_every_other_hint(void **state)
{
    (void)state;
    struct seq_hints *hs = NULL;
    for (int64_t i = 0; i < SEQ_HINTS_MAX; i++) {
        struct seq_hint h = {i * 2, (uint64_t)i * 200};
        assert_int_equal(seq_hints_add(&hs, &h, 1), 0);
    }
    assert_int_equal(hs->n, SEQ_HINTS_MAX);
    struct seq_hint h = {7, 700};
    assert_int_equal(seq_hints_add(&hs, &h, 1), 0);
    assert_int_equal(hs->n, SEQ_HINTS_MAX / 2 + 1);
    for (size_t i = 1; i < hs->n; i++)
        assert_true(hs->h[i - 1].seq < hs->h[i].seq);
    assert_int_equal(hs->h[0].seq, 0);
    assert_int_equal(hs->h[hs->n - 1].seq, (SEQ_HINTS_MAX - 2) * 2);
    uint64_t lo = 0, hi = UINT64_MAX;
    seq_hints_bracket(hs, 7, &lo, &hi);
    assert_true(lo == 400 && hi == 700);
    seq_hints_free(&hs);
}

/* The seq of the first event read-range returns from `from`, or -1. */
static int64_t first_from(sxp_store *s, int64_t from)
{
    struct sxp_err err;
    sxp_value *out = NULL;
    assert_int_equal(sxp_stream_read_range(s, "big", 3, from, 2, &out, &err), 0);
    int64_t seq = sxp_value_len(out)
                      ? sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(out, 0), "seq", 3))
                      : -1;
    sxp_value_free(out);
    return seq;
}

static void read_range_stays_right_as_hints_pile_up_and_after_truncate(void **state)
{
    struct tu_store *c = *state;
    /* Events with seqs 3, 6, 9, ...: about 3.5 MB, many bisection steps. */
    tu_append_padded(c->s, "big", 1, 20000, 3, 150);
    uint64_t x = 88172645463325252u;
    for (int k = 0; k < 3000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t from = (int64_t)(x % 60010);
        int64_t want = from <= 3 ? 3 : ((from + 2) / 3) * 3;
        assert_int_equal(first_from(c->s, from), want > 60000 ? -1 : want);
    }
    /* Appends move nothing: old hints still hold, new lines are found. */
    tu_append_padded(c->s, "big", 20001, 5000, 3, 150);
    assert_int_equal(first_from(c->s, 70001), 70002);
    assert_int_equal(first_from(c->s, 30000), 30000);
    /* A truncate replaces the log: every offset moved. */
    struct sxp_err err;
    assert_int_equal(sxp_stream_truncate(c->s, "big", 3, 45000, &err), 0);
    for (int64_t from = 1; from < 75010; from += 997) {
        int64_t want = from <= 45003 ? 45003 : ((from + 2) / 3) * 3;
        assert_int_equal(first_from(c->s, from), want > 75000 ? -1 : want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(brackets_narrow_to_the_nearest_hints),
        cmocka_unit_test(a_full_set_keeps_every_other_hint),
        cmocka_unit_test_setup_teardown(read_range_stays_right_as_hints_pile_up_and_after_truncate,
                                        tu_store_setup, tu_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
