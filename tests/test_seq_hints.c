/*
 * test_seq_hints.c -- how read-range seeks (stream_read.c SEEKING) and the
 * (seq, offset) pairs it remembers: the bracket they give always still
 * holds the first line with seq >= from, they stay sorted and distinct, a
 * full set keeps a spread half, and read-range through the store stays
 * right while hints pile up, after appends and after a truncate replaces
 * the log. The seek lands within its window on logs of even and of skewed
 * seqs, in two probes on an even log of any size, and in a bounded number
 * on a skewed one.
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
#include <fcntl.h>

#include "fault.h"
#include "io.h"
#include "layout.h"
#include "seq_hints.h"
#include "stream_read.h"
#include "sxp.h"
#include "testutil.h"

/* The bracket [lo, hi] that seq_hints_bracket makes of [lo0, hi0]. */
static void bracket(const struct seq_hints *hs, int64_t from, uint64_t lo0, uint64_t hi0,
                    struct seq_hint *lo, struct seq_hint *hi)
{
    *lo = (struct seq_hint){SEQ_HINT_UNKNOWN, lo0};
    *hi = (struct seq_hint){SEQ_HINT_UNKNOWN, hi0};
    seq_hints_bracket(hs, from, lo, hi);
}

static void brackets_narrow_to_the_nearest_hints(void **state)
{
    (void)state;
    struct seq_hints *hs = NULL;
    struct seq_hint lo, hi;
    bracket(hs, 5, 0, 1000, &lo, &hi); /* none: unchanged */
    assert_true(lo.off == 0 && hi.off == 1000);
    assert_true(lo.seq == SEQ_HINT_UNKNOWN && hi.seq == SEQ_HINT_UNKNOWN);
    /* Lines of seq 10, 20, ... at offsets 100, 200, ... */
    struct seq_hint add[] = {{50, 500}, {10, 100}, {30, 300}, {30, 300}, {90, 900}};
    assert_int_equal(seq_hints_add(&hs, add, 5), 0);
    assert_int_equal(hs->n, 4);
    for (size_t i = 1; i < hs->n; i++)
        assert_true(hs->h[i - 1].seq < hs->h[i].seq && hs->h[i - 1].off < hs->h[i].off);
    bracket(hs, 35, 0, 1000, &lo, &hi);
    assert_true(lo.off == 300 && hi.off == 500);
    assert_true(lo.seq == 30 && hi.seq == 50); /* the ends it moved carry their seqs */
    bracket(hs, 30, 0, 1000, &lo, &hi);        /* a hint with seq == from is hi */
    assert_true(lo.off == 100 && hi.off == 300);
    bracket(hs, 5, 0, 1000, &lo, &hi);
    assert_true(lo.off == 0 && hi.off == 100);
    assert_true(lo.seq == SEQ_HINT_UNKNOWN && hi.seq == 10);
    bracket(hs, 95, 0, 1000, &lo, &hi);
    assert_true(lo.off == 900 && hi.off == 1000);
    assert_true(lo.seq == 90 && hi.seq == SEQ_HINT_UNKNOWN);
    /* Never widens a bracket the caller already has. */
    bracket(hs, 35, 400, 450, &lo, &hi);
    assert_true(lo.off == 400 && hi.off == 450);
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
    struct seq_hint lo, hi;
    bracket(hs, 7, 0, UINT64_MAX, &lo, &hi);
    assert_true(lo.off == 400 && hi.off == 700);
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

/* The line starts and seqs of a stream's log, read back from the file. */
struct log_lines {
    size_t n;
    uint64_t *off;
    int64_t *seq;
    uint64_t end;
};

static void log_lines_load(struct sxp_io *io, int fd, struct log_lines *ll)
{
    uint64_t size = 0;
    assert_int_equal(io->fsize(io, fd, &size), 0);
    char *b = malloc(size + 1);
    assert_non_null(b);
    assert_int_equal(io->pread(io, fd, b, size, 0), (ssize_t)size);
    b[size] = '\0';
    size_t cap = 1024;
    ll->n = 0;
    ll->off = tu_realloc(NULL, cap * sizeof(*ll->off));
    ll->seq = tu_realloc(NULL, cap * sizeof(*ll->seq));
    for (char *p = b; p < b + size;) {
        if (ll->n == cap) {
            cap *= 2;
            ll->off = tu_realloc(ll->off, cap * sizeof(*ll->off));
            ll->seq = tu_realloc(ll->seq, cap * sizeof(*ll->seq));
        }
        char *lf = memchr(p, '\n', (size_t)(b + size - p));
        assert_non_null(lf);
        *lf = '\0';
        const char *k = strstr(p, ":seq ");
        long long seq;
        assert_non_null(k);
        assert_int_equal(sscanf(k, ":seq %lld", &seq), 1);
        ll->off[ll->n] = (uint64_t)(p - b);
        ll->seq[ll->n++] = seq;
        p = lf + 1;
    }
    ll->end = size;
    free(b);
}

/* Seeks every 97th seq of the log (and around it) through a counting
 * wrapper; checks each landing against the lines and returns the largest
 * number of preads one seek took. */
static uint64_t seek_all(struct sxp_io *counted, int fd, const struct log_lines *ll, int64_t hw)
{
    uint64_t most = 0;
    for (size_t i = 0; i < ll->n; i += 97) {
        for (int64_t d = -1; d <= 1; d++) {
            int64_t from = ll->seq[i] + d;
            io_fault_reset_counts(counted);
            uint64_t off = UINT64_MAX;
            assert_int_equal(stream_find_seq(counted, fd, ll->end, hw, from, &off), 0);
            uint64_t calls = io_fault_calls(counted, IO_FAULT_BIT(IO_FK_PREAD));
            most = calls > most ? calls : most;
            /* The first line with seq >= from (or the end) ... */
            size_t t = 0;
            while (t < ll->n && ll->seq[t] < from)
                t++;
            uint64_t target = t < ll->n ? ll->off[t] : ll->end;
            /* ... is at or after a line start the seek gave, within the window. */
            size_t k = 0;
            while (k < ll->n && ll->off[k] < off)
                k++;
            assert_true(k < ll->n && ll->off[k] == off);
            assert_true(off <= target && target - off <= (64u << 10));
        }
    }
    return most;
}

static void seek_probes(const char *dir, const char *stream, int64_t hw, uint64_t *out_most)
{
    char path[PATH_MAX];
    struct sxp_io *io, *counted;
    assert_int_equal(io_sync_new(&io), 0);
    assert_int_equal(io_fault_new(io, &counted), 0);
    io_fault_own_inner(counted);
    assert_int_equal(layout_stream_path(dir, stream, strlen(stream), ".log", path), 0);
    int fd = counted->open(counted, path, O_RDONLY, 0);
    assert_true(fd >= 0);
    struct log_lines ll;
    log_lines_load(counted, fd, &ll);
    *out_most = seek_all(counted, fd, &ll, hw);
    assert_int_equal(counted->close(counted, fd), 0);
    counted->destroy(counted);
    free(ll.off);
    free(ll.seq);
}

static void seek_lands_in_two_probes_on_an_even_log_and_bounded_on_a_skewed_one(void **state)
{
    struct tu_store *c = *state;
    /* About 10 MB of even lines with consecutive seqs: halving would take
     * 8 probes (2 preads each) to come within 64 KiB. */
    tu_append_padded(c->s, "even", 1, 30000, 1, 300);
    /* A skewed log: 15,000 lines of seqs 1.., then 15,000 of 10^12 + 3k. */
    tu_append_padded(c->s, "skew", 1, 15000, 1, 300);
    for (int64_t k = 0; k < 15000; k += 500)
        tu_append_padded(c->s, "skew", 1000000000000 / 3 + k + 1, 500, 3, 300);
    struct sxp_err err;
    int64_t hw_even, hw_skew;
    assert_int_equal(sxp_stream_last_seq(c->s, "even", 4, &hw_even, &err), 0);
    assert_int_equal(sxp_stream_last_seq(c->s, "skew", 4, &hw_skew, &err), 0);
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    char root[PATH_MAX];
    snprintf(root, sizeof(root), "%s", c->dir);

    uint64_t most;
    seek_probes(root, "even", hw_even, &most);
    assert_true(most <= 5); /* the first line, two guesses; halving takes 16 preads */
    seek_probes(root, "skew", hw_skew, &most);
    /* The first line, halving's 8 probes, and the two guesses that missed. */
    assert_true(most <= 1 + 2 * (8 + 2));
    /* A truncated log starts far above the estimate 0 for its start. */
    assert_int_equal(sxp_store_open(root, NULL, &c->s, &err), 0);
    assert_int_equal(sxp_stream_truncate(c->s, "even", 4, 20000, &err), 0);
    assert_int_equal(sxp_store_close(c->s), 0);
    c->s = NULL;
    seek_probes(root, "even", hw_even, &most);
    assert_true(most <= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(brackets_narrow_to_the_nearest_hints),
        cmocka_unit_test(a_full_set_keeps_every_other_hint),
        cmocka_unit_test_setup_teardown(read_range_stays_right_as_hints_pile_up_and_after_truncate,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(
            seek_lands_in_two_probes_on_an_even_log_and_bounded_on_a_skewed_one, tu_store_setup,
            tu_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
