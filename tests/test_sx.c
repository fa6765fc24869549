/*
 * test_sx.c -- SX values (engine/sx.h, SPEC.md section 2): the reader, the
 * canonical writer (SX-1, SX-2, SX-3), sx_event_seq, sx_peek_seq and the
 * public sxp_value_* functions.
 *
 * The canonical text is checked against an independent writer kept in this
 * file (test_ref_text), which sorts dict pairs by their full texts the way
 * the reference's String.compare does. The randomised tests print their
 * seed; pass --seed N to repeat a run.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sx.h"
#include "testutil.h"

static uint64_t test_seed;

/* xorshift64*: a small generator whose sequence depends only on the seed. */
static uint64_t test_rand_state;
static uint64_t test_rand(void)
{
    uint64_t x = test_rand_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    test_rand_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static size_t test_below(size_t n)
{
    return (size_t)(test_rand() % n);
}

static void test_reseed(unsigned salt)
{
    test_rand_state = (test_seed ^ (0x9E3779B97F4A7C15ULL * (salt + 1))) | 1;
}

/* ---- a small string builder, independent of engine/buf.c ----------------- */

struct tstr {
    char *p;
    size_t len, cap;
};

static void tstr_add(struct tstr *s, const void *bytes, size_t len)
{
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + len + 1)
            cap *= 2;
        s->p = tu_realloc(s->p, cap);
        s->cap = cap;
    }
    if (len)
        memcpy(s->p + s->len, bytes, len);
    s->len += len;
    s->p[s->len] = '\0';
}

static void tstr_adds(struct tstr *s, const char *z)
{
    tstr_add(s, z, strlen(z));
}

static void tstr_addc(struct tstr *s, char c)
{
    tstr_add(s, &c, 1);
}

/* ---- helpers ---------------------------------------------------------------- */

static char *test_text(const sxp_value *v, size_t *out_len)
{
    char *t = NULL;
    size_t len = 0;
    struct sxp_err err = {0};
    int rc = sxp_value_to_text(v, &t, &len, &err);
    if (rc)
        fail_msg("to_text failed: %d %s: %s", rc, err.kind, err.msg);
    assert_non_null(t);
    assert_int_equal(t[len], '\0');
    if (out_len)
        *out_len = len;
    return t;
}

static sxp_value *test_parse_n(const char *text, size_t len)
{
    sxp_value *v = NULL;
    struct sxp_err err = {0};
    int rc = sxp_value_parse(text, len, &v, &err);
    if (rc)
        fail_msg("parse of \"%.*s\" failed: %d %s: %s", (int)len, text, rc, err.kind, err.msg);
    assert_non_null(v);
    return v;
}

static sxp_value *test_parse(const char *text)
{
    return test_parse_n(text, strlen(text));
}

/* text parses, and its value serializes as want. */
/* v's text reads back as a value equal to v (SX-1, the value side). */
static void test_reads_back_equal(const sxp_value *v)
{
    size_t len;
    char *t = test_text(v, &len);
    sxp_value *back = test_parse_n(t, len);
    assert_true(sxp_value_equal(v, back));
    sxp_value_free(back);
    free(t);
}

static void test_reads_as(const char *text, const char *want)
{
    sxp_value *v = test_parse(text);
    size_t len;
    char *got = test_text(v, &len);
    if (len != strlen(want) || memcmp(got, want, len) != 0)
        fail_msg("\"%s\" re-serialized as \"%s\", want \"%s\"", text, got, want);
    free(got);
    sxp_value_free(v);
}

static void test_parse_fails_n(const char *text, size_t len, int code, const char *kind,
                               const char *msg_part)
{
    sxp_value *v = (sxp_value *)1;
    struct sxp_err err = {0};
    int rc = sxp_value_parse(text, len, &v, &err);
    if (rc != code)
        fail_msg("parse of \"%.*s\" gave %d, want %d", (int)len, text, rc, code);
    assert_null(v);
    assert_int_equal(err.code, code);
    assert_string_equal(err.kind, kind);
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("parse of \"%.*s\": message \"%s\" lacks \"%s\"", (int)len, text, err.msg,
                 msg_part);
}

static void test_parse_fails(const char *text, const char *msg_part)
{
    test_parse_fails_n(text, strlen(text), -EINVAL, "parse", msg_part);
}

static void test_text_fails(const sxp_value *v, int code, const char *kind, const char *msg_part)
{
    char *t = (char *)1;
    size_t len = 7;
    struct sxp_err err = {0};
    struct buf b = BUF_INIT;
    assert_int_equal(buf_adds(&b, "keep"), 0);
    int rc = sx_serialize(v, &b, &err);
    assert_int_equal(rc, code);
    assert_string_equal(err.kind, kind);
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
    /* A failed serialize leaves the buffer as it was. */
    assert_int_equal(b.len, 4);
    assert_string_equal(b.p, "keep");
    buf_free(&b);
    rc = sxp_value_to_text(v, &t, &len, NULL);
    assert_int_equal(rc, code);
}

/* ---- an independent canonical writer ----------------------------------------- */

static void test_ref_num(struct tstr *s, double d)
{
    char tmp[64];
    assert_true(isfinite(d));
    if (d == 0) {
        tstr_adds(s, "0");
        return;
    }
    if (fabs(d) < 1e15 && floor(d) == d) {
        (void)snprintf(tmp, sizeof(tmp), "%.0f", d);
        tstr_adds(s, tmp);
        return;
    }
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        (void)snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    assert_true(prec <= 17);
    if (!strchr(tmp, '.') && !strchr(tmp, 'e'))
        (void)snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
    tstr_adds(s, tmp);
}

static int test_bytes_cmp(const struct tstr *a, const struct tstr *b)
{
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->p, b->p, m);
    if (c)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int test_tstr_qcmp(const void *x, const void *y)
{
    return test_bytes_cmp(x, y);
}

static void test_ref_text(struct tstr *s, const sxp_value *v)
{
    switch (sxp_value_type(v)) {
    case SXP_NIL:
        tstr_adds(s, "nil");
        break;
    case SXP_BOOL:
        tstr_adds(s, sxp_value_as_bool(v) ? "true" : "false");
        break;
    case SXP_INT: {
        char tmp[32];
        (void)snprintf(tmp, sizeof(tmp), "%" PRId64, sxp_value_as_int(v));
        tstr_adds(s, tmp);
        break;
    }
    case SXP_NUM:
        test_ref_num(s, sxp_value_as_num(v));
        break;
    case SXP_STR: {
        size_t len;
        const char *p = sxp_value_as_str(v, &len);
        tstr_addc(s, '"');
        for (size_t i = 0; i < len; i++) {
            switch (p[i]) {
            case '"':
                tstr_adds(s, "\\\"");
                break;
            case '\\':
                tstr_adds(s, "\\\\");
                break;
            case '\n':
                tstr_adds(s, "\\n");
                break;
            case '\r':
                tstr_adds(s, "\\r");
                break;
            case '\t':
                tstr_adds(s, "\\t");
                break;
            default:
                tstr_addc(s, p[i]);
            }
        }
        tstr_addc(s, '"');
        break;
    }
    case SXP_SYM: {
        size_t len;
        const char *p = sxp_value_as_str(v, &len);
        tstr_adds(s, "(quote ");
        tstr_add(s, p, len);
        tstr_addc(s, ')');
        break;
    }
    case SXP_KW: {
        size_t len;
        const char *p = sxp_value_as_str(v, &len);
        tstr_addc(s, ':');
        tstr_add(s, p, len);
        break;
    }
    case SXP_LIST:
        tstr_adds(s, "(list");
        for (size_t i = 0; i < sxp_value_len(v); i++) {
            tstr_addc(s, ' ');
            test_ref_text(s, sxp_value_list_get(v, i));
        }
        tstr_addc(s, ')');
        break;
    case SXP_DICT: {
        size_t n = sxp_value_len(v);
        struct tstr *pairs = calloc(n ? n : 1, sizeof(*pairs));
        assert_non_null(pairs);
        for (size_t i = 0; i < n; i++) {
            const char *k;
            size_t klen;
            const sxp_value *item = sxp_value_dict_at(v, i, &k, &klen);
            tstr_addc(&pairs[i], ':');
            tstr_add(&pairs[i], k, klen);
            tstr_addc(&pairs[i], ' ');
            test_ref_text(&pairs[i], item);
        }
        qsort(pairs, n, sizeof(*pairs), test_tstr_qcmp);
        tstr_addc(s, '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                tstr_addc(s, ' ');
            tstr_add(s, pairs[i].p, pairs[i].len);
            free(pairs[i].p);
        }
        tstr_addc(s, '}');
        free(pairs);
        break;
    }
    }
}

/* ---- random values ---------------------------------------------------------- */

/* Bytes a name may hold: no delimiter, some unusual ones included. */
static const char test_name_bytes[] =
    "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_?!*+/<>=.:'`;#&%$@^~|[],"
    "\x01\x02\x1f\x7f\x80\xa0\xfe\xff\\";

static size_t test_rand_name(char *out, size_t cap, int for_symbol)
{
    static const char *const common[] = {"a", "ab", "a-b", "seq", "seq2", "se", "b", "id", "x"};
    size_t len;
    if (test_below(3) == 0) {
        const char *c = common[test_below(sizeof(common) / sizeof(common[0]))];
        len = strlen(c);
        memcpy(out, c, len);
    } else {
        len = 1 + test_below(cap - 1 < 12 ? cap - 1 : 12);
        for (size_t i = 0; i < len; i++)
            out[i] = test_name_bytes[test_below(sizeof(test_name_bytes) - 1)];
        if (test_below(20) == 0)
            out[test_below(len)] = '\0'; /* a NUL is not a delimiter */
    }
    if (for_symbol) {
        /* A symbol must read back as one: start it with a letter, and keep
         * it apart from nil, true and false. */
        out[0] = (char)('a' + test_below(26));
        if ((len == 3 && memcmp(out, "nil", 3) == 0) || (len == 4 && memcmp(out, "true", 4) == 0) ||
            (len == 5 && memcmp(out, "false", 5) == 0))
            out[0] = 'Q';
    }
    return len;
}

static double test_rand_double(void)
{
    double d;
    for (;;) {
        switch (test_below(6)) {
        case 0: {
            uint64_t bits = test_rand();
            memcpy(&d, &bits, sizeof(d));
            break;
        }
        case 1:
            d = (double)(int64_t)(test_rand() % 2000001 - 1000000) / 1000.0;
            break;
        case 2: /* whole numbers from 1e15 to 1e17: they need an exponent */
            d = (double)(1000000000000000LL + (int64_t)(test_rand() % 99000000000000000ULL));
            break;
        case 3:
            d = ldexp((double)(test_rand() % 1000 + 1), -1074 + (int)test_below(60));
            break;
        case 4:
            d = (double)(test_rand() % 1000000) / 7.0 * (test_below(2) ? 1 : -1);
            break;
        default:
            d = (double)(test_rand() % 100 + 1) * pow(10.0, (double)((int)test_below(600) - 300));
            break;
        }
        if (test_below(2))
            d = -d;
        /* Whole numbers below 1e15 read back as INT, by design. */
        if (isfinite(d) && !(fabs(d) < 1e15 && floor(d) == d))
            return d;
    }
}

static sxp_value *test_rand_value(int depth);

static sxp_value *test_rand_str(void)
{
    static const char *const pieces[] = {":seq 5", "\"", "\\", "\n", "\t", "\r", "{",
                                         "}",      "(",  ")",  " ",  ":",  "seq"};
    char tmp[48];
    size_t len = test_below(sizeof(tmp));
    for (size_t i = 0; i < len; i++)
        tmp[i] = (char)test_rand();
    struct tstr s = {0};
    tstr_add(&s, tmp, len);
    if (test_below(2))
        tstr_adds(&s, pieces[test_below(sizeof(pieces) / sizeof(pieces[0]))]);
    sxp_value *v = sxp_value_str(s.p ? s.p : "", s.len);
    free(s.p);
    return v;
}

static sxp_value *test_rand_dict(int depth, int with_seq)
{
    sxp_value *d = sxp_value_dict();
    assert_non_null(d);
    size_t n = test_below(depth > 0 ? 6 : 3);
    if (test_below(10) == 0)
        n = 17 + test_below(10); /* big enough to be sorted the long way */
    for (size_t i = 0; i < n; i++) {
        char name[16];
        size_t len = test_rand_name(name, sizeof(name), 0);
        assert_int_equal(sxp_value_dict_set(d, name, len, test_rand_value(depth - 1)), 0);
    }
    if (with_seq) {
        sxp_value *seq;
        switch (test_below(8)) {
        case 0:
            seq = test_rand_value(depth - 1);
            break;
        case 1:
            seq = sxp_value_int(test_below(2) ? INT64_MIN : INT64_MAX);
            break;
        default:
            seq = sxp_value_int((int64_t)test_rand() >> test_below(64));
            break;
        }
        assert_int_equal(sxp_value_dict_set(d, "seq", 3, seq), 0);
    }
    return d;
}

static sxp_value *test_rand_value(int depth)
{
    char name[16];
    size_t len;
    int pick = (int)test_below(depth > 0 ? 11 : 8);
    switch (pick) {
    case 0:
        return sxp_value_nil();
    case 1:
        return sxp_value_bool((int)test_below(2));
    case 2:
        if (test_below(4) == 0)
            return sxp_value_int(test_below(2) ? INT64_MIN : INT64_MAX);
        return sxp_value_int((int64_t)test_rand() >> test_below(64));
    case 3:
        return sxp_value_num(test_rand_double());
    case 4:
        return test_rand_str();
    case 5:
        len = test_rand_name(name, sizeof(name), 1);
        return sxp_value_sym(name, len);
    case 6:
    case 7:
        len = test_rand_name(name, sizeof(name), 0);
        return sxp_value_kw(name, len);
    case 8:
    case 9: {
        sxp_value *l = sxp_value_list();
        assert_non_null(l);
        size_t n = test_below(6);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(sxp_value_list_push(l, test_rand_value(depth - 1)), 0);
        return l;
    }
    default:
        return test_rand_dict(depth, test_below(3) == 0);
    }
}

/* ---- a lenient writer: another text of the same value ------------------------ */

static void test_noise_ws(struct tstr *s, int need)
{
    static const char *const ws[] = {" ", "  ", "\t", "\n", "\r\n", "\f", "\v", " \n\t "};
    if (need || test_below(3) == 0)
        tstr_adds(s, ws[test_below(sizeof(ws) / sizeof(ws[0]))]);
}

static int test_bare_symbol_ok(const char *p, size_t len)
{
    /* Generated symbols start with a letter and hold no delimiter; list
     * and quote must not be read as a list head. */
    return !(len == 4 && memcmp(p, "list", 4) == 0) && !(len == 5 && memcmp(p, "quote", 5) == 0);
}

static void test_noisy_text(struct tstr *s, const sxp_value *v, int depth)
{
    char tmp[64];
    if (depth < 4 && test_below(12) == 0 && sxp_value_type(v) != SXP_SYM) {
        /* (quote x) reads as x. */
        tstr_adds(s, "(quote");
        test_noise_ws(s, 1);
        test_noisy_text(s, v, depth + 1);
        test_noise_ws(s, 0);
        tstr_addc(s, ')');
        return;
    }
    switch (sxp_value_type(v)) {
    case SXP_INT:
        if (test_below(4) == 0 && sxp_value_as_int(v) >= 0)
            tstr_adds(s, "00"); /* leading zeros are fine */
        (void)snprintf(tmp, sizeof(tmp), "%" PRId64, sxp_value_as_int(v));
        tstr_adds(s, tmp);
        break;
    case SXP_NUM:
        (void)snprintf(tmp, sizeof(tmp), test_below(2) ? "%.17e" : "%.17E", sxp_value_as_num(v));
        tstr_adds(s, tmp);
        break;
    case SXP_STR: {
        size_t len;
        const char *p = sxp_value_as_str(v, &len);
        tstr_addc(s, '"');
        for (size_t i = 0; i < len; i++) {
            if (p[i] == '"' || p[i] == '\\') {
                tstr_addc(s, '\\');
                tstr_addc(s, p[i]);
            } else if ((p[i] == '\n' || p[i] == '\t' || p[i] == '\r') && test_below(2)) {
                tstr_addc(s, '\\');
                tstr_adds(s, p[i] == '\n' ? "n" : p[i] == '\t' ? "t" : "r");
            } else {
                tstr_addc(s, p[i]); /* raw LF, TAB and CR read fine */
            }
        }
        tstr_addc(s, '"');
        break;
    }
    case SXP_SYM: {
        size_t len;
        const char *p = sxp_value_as_str(v, &len);
        if (test_below(2) && test_bare_symbol_ok(p, len)) {
            tstr_add(s, p, len);
        } else {
            tstr_adds(s, "(");
            test_noise_ws(s, 0);
            tstr_adds(s, "quote");
            test_noise_ws(s, 1);
            tstr_add(s, p, len);
            test_noise_ws(s, 0);
            tstr_adds(s, ")");
        }
        break;
    }
    case SXP_LIST: {
        size_t n = sxp_value_len(v);
        int plain = test_below(2) == 0;
        if (plain && n > 0 && sxp_value_type(sxp_value_list_get(v, 0)) == SXP_SYM)
            plain = 0; /* a bare first symbol could be taken for a head */
        tstr_addc(s, '(');
        test_noise_ws(s, 0);
        if (!plain)
            tstr_adds(s, "list");
        for (size_t i = 0; i < n; i++) {
            test_noise_ws(s, !plain || i > 0);
            test_noisy_text(s, sxp_value_list_get(v, i), depth + 1);
        }
        test_noise_ws(s, 0);
        tstr_addc(s, ')');
        break;
    }
    case SXP_DICT: {
        size_t n = sxp_value_len(v);
        size_t *order = malloc((n ? n : 1) * sizeof(*order));
        assert_non_null(order);
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        for (size_t i = n; i > 1; i--) {
            size_t j = test_below(i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        tstr_addc(s, '{');
        for (size_t i = 0; i < n; i++) {
            const char *k;
            size_t klen;
            const sxp_value *item = sxp_value_dict_at(v, order[i], &k, &klen);
            test_noise_ws(s, i > 0);
            if (test_below(4) == 0) {
                tstr_addc(s, '"');
                for (size_t j = 0; j < klen; j++) {
                    if (k[j] == '\\')
                        tstr_addc(s, '\\');
                    tstr_addc(s, k[j]);
                }
                tstr_addc(s, '"');
                test_noise_ws(s, 0);
            } else {
                tstr_addc(s, ':');
                tstr_add(s, k, klen);
                test_noise_ws(s, 1);
            }
            test_noisy_text(s, item, depth + 1);
        }
        test_noise_ws(s, 0);
        tstr_addc(s, '}');
        free(order);
        break;
    }
    default: {
        /* nil, booleans and keywords have one spelling. */
        size_t len;
        char *t = test_text(v, &len);
        tstr_add(s, t, len);
        free(t);
        break;
    }
    }
}

/* ---- the tests ---------------------------------------------------------------- */

static void scalars_round_trip_canonically(void **state)
{
    (void)state;
    test_reads_as("nil", "nil");
    test_reads_as("true", "true");
    test_reads_as("false", "false");
    test_reads_as("0", "0");
    test_reads_as("-12", "-12");
    test_reads_as("007", "7");
    test_reads_as("-0", "0");
    test_reads_as(":k", ":k");
    test_reads_as("::k", "::k");
    test_reads_as("sym", "(quote sym)");
    test_reads_as("(quote sym)", "(quote sym)");
    test_reads_as("\"\"", "\"\"");
    test_reads_as("\"a b\"", "\"a b\"");
    test_reads_as("(list)", "(list)");
    test_reads_as("()", "(list)");
    test_reads_as("{}", "{}");
    test_reads_as("  \n\t 42 \r\n ", "42");
}

static void int64_extremes_round_trip_and_overflow_is_an_error(void **state)
{
    (void)state;
    test_reads_as("9223372036854775807", "9223372036854775807");
    test_reads_as("-9223372036854775808", "-9223372036854775808");

    sxp_value *v = test_parse("-9223372036854775808");
    assert_int_equal(sxp_value_type(v), SXP_INT);
    assert_true(sxp_value_as_int(v) == INT64_MIN);
    sxp_value_free(v);
    v = sxp_value_int(INT64_MIN);
    char *t = test_text(v, NULL);
    assert_string_equal(t, "-9223372036854775808");
    free(t);
    sxp_value_free(v);

    test_parse_fails("9223372036854775808", "at byte 0: integer out of int64 range");
    test_parse_fails("-9223372036854775809", "integer out of int64 range");
    test_parse_fails("(list 1 99999999999999999999999)", "at byte 8: integer out of int64 range");
}

static void doubles_print_the_shortest_text_that_reads_back(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *text;
        enum sxp_type back; /* the type the text reads back as */
    } cases[] = {
        {0.1, "0.1", SXP_NUM},
        {-2.5, "-2.5", SXP_NUM},
        {2.5, "2.5", SXP_NUM},
        {1e300, "1e+300", SXP_NUM},
        {1e15, "1e+15", SXP_NUM},
        {-1e15, "-1e+15", SXP_NUM},
        {123456789.125, "123456789.125", SXP_NUM},
        {5e-324, "5e-324", SXP_NUM},
        {DBL_MAX, "1.7976931348623157e+308", SXP_NUM},
        {-DBL_MAX, "-1.7976931348623157e+308", SXP_NUM},
        {1.0 / 3.0, "0.3333333333333333", SXP_NUM},
        {0.30000000000000004, "0.30000000000000004", SXP_NUM},
        {1e-5, "1e-05", SXP_NUM},
        /* Whole numbers from 1e15 whose %g has no exponent get one. */
        {1234567890123456.0, "1.234567890123456e+15", SXP_NUM},
        {1000000000000001.0, "1.000000000000001e+15", SXP_NUM},
        {12345678901234568.0, "1.2345678901234568e+16", SXP_NUM},
        {999999999999999.5, "999999999999999.5", SXP_NUM},
        /* Whole numbers below 1e15 print as digits and read back as INT. */
        {2.0, "2", SXP_INT},
        {-7.0, "-7", SXP_INT},
        {999999999999999.0, "999999999999999", SXP_INT},
        {-0.0, "0", SXP_INT},
        {0.0, "0", SXP_INT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sxp_value *v = sxp_value_num(cases[i].d);
        size_t len;
        char *t = test_text(v, &len);
        if (strcmp(t, cases[i].text) != 0)
            fail_msg("%.17g printed as \"%s\", want \"%s\"", cases[i].d, t, cases[i].text);
        sxp_value *back = test_parse_n(t, len);
        assert_int_equal(sxp_value_type(back), cases[i].back);
        if (cases[i].back == SXP_NUM) {
            assert_true(sxp_value_as_num(back) == cases[i].d);
            assert_true(sxp_value_equal(back, v));
        }
        char *t2 = test_text(back, NULL);
        assert_string_equal(t2, t); /* SX-1 */
        free(t2);
        free(t);
        sxp_value_free(back);
        sxp_value_free(v);
    }
    /* The reader's number forms. */
    test_reads_as("1.5e3", "1500");
    test_reads_as("-.5", "-0.5");
    test_reads_as(".25", "0.25");
    test_reads_as("1E+300", "1e+300");
    test_reads_as("2.0", "2");
    test_reads_as("-0.0", "0");
}

static void short_decimals_print_as_snprintf_would(void **state)
{
    (void)state;
    /* The writer prints short decimals without snprintf; the independent
     * writer here always uses it. They must agree everywhere, the edges of
     * the fixed range and 15-digit values included. */
    static const double edges[] = {1e-4,
                                   -1e-4,
                                   0.00012,
                                   9.99e-5,
                                   0.1,
                                   0.2,
                                   0.3,
                                   1.5,
                                   123456789012.345,
                                   99999999999999.9,
                                   999999999999999.5,
                                   12345678901234.56,
                                   0.123456789012345,
                                   0.1234567890123456,
                                   3.14159,
                                   1e14 + 0.5,
                                   4503599627370495.5};
    test_reseed(4);
    for (size_t i = 0; i < 20000; i++) {
        double d;
        if (i < sizeof(edges) / sizeof(edges[0]))
            d = edges[i];
        else if (i % 3 == 0)
            d = (double)(int64_t)(test_rand() % 2000000001 - 1000000000) /
                pow(10.0, (double)(1 + test_below(12)));
        else if (i % 3 == 1)
            d = (double)(int64_t)(test_rand() >> test_below(64)) /
                pow(10.0, (double)test_below(23));
        else
            d = ldexp((double)(test_rand() >> 11), -(int)test_below(70));
        if (!isfinite(d) || d == 0 || (fabs(d) < 1e15 && floor(d) == d))
            continue;
        sxp_value *v = sxp_value_num(d);
        size_t len;
        char *t = test_text(v, &len);
        struct tstr want = {0};
        test_ref_num(&want, d);
        if (len != want.len || memcmp(t, want.p, len) != 0)
            fail_msg("seed %" PRIu64 ": %.17g printed as \"%s\", want \"%s\"", test_seed, d, t,
                     want.p);
        free(want.p);
        free(t);
        sxp_value_free(v);
    }
}

static void nan_and_infinity_are_refused_with_kind_type(void **state)
{
    (void)state;
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        sxp_value *v = sxp_value_num(bad[i]);
        test_text_fails(v, -EINVAL, "type", "would not read back");
        sxp_value *l = sxp_value_list();
        assert_int_equal(sxp_value_list_push(l, sxp_value_int(1)), 0);
        assert_int_equal(sxp_value_list_push(l, v), 0);
        test_text_fails(l, -EINVAL, "type", NULL);
        sxp_value_free(l);
    }
    test_parse_fails("1e400", "number out of double range");
    test_parse_fails("-1e999", "number out of double range");
}

static void odd_bare_tokens_read_as_symbols_or_fail_as_bad_numbers(void **state)
{
    (void)state;
    test_reads_as("nan", "(quote nan)");
    test_reads_as("inf", "(quote inf)");
    test_reads_as("-", "(quote -)");
    test_reads_as("+5", "(quote +5)");
    test_reads_as("-a", "(quote -a)");
    test_reads_as("e5", "(quote e5)");
    test_reads_as("a:b", "(quote a:b)");
    test_reads_as(".", "(quote .)");
    test_parse_fails("1abc", "at byte 0: bad number");
    test_parse_fails("0x10", "bad number");
    test_parse_fails("0x1.8p1", "bad number");
    test_parse_fails("1.5.5", "bad number");
    test_parse_fails("1-2", "bad number");
    test_parse_fails("1e", "bad number");
}

static void string_escapes_round_trip(void **state)
{
    (void)state;
    const char raw[] = "q\" b\\ n\n r\r t\t end";
    sxp_value *v = sxp_value_str(raw, sizeof(raw) - 1);
    char *t = test_text(v, NULL);
    assert_string_equal(t, "\"q\\\" b\\\\ n\\n r\\r t\\t end\"");
    sxp_value *back = test_parse(t);
    assert_true(sxp_value_equal(v, back));
    free(t);
    sxp_value_free(back);
    sxp_value_free(v);

    /* Raw LF, TAB and CR inside a string are read as themselves. */
    v = test_parse("\"a\nb\tc\rd\"");
    size_t len;
    const char *p = sxp_value_as_str(v, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(p, "a\nb\tc\rd", 7);
    sxp_value_free(v);
    test_reads_as("\"a\nb\"", "\"a\\nb\"");

    test_parse_fails("\"a\\qb\"", "at byte 2: bad escape");
    test_parse_fails("\"\\u0041\"", "bad escape");
    test_parse_fails("\"abc", "at byte 0: unterminated string");
    test_parse_fails("\"abc\\\"", "at byte 0: unterminated string");
    test_parse_fails("(list \"a)", "at byte 6: unterminated string");
    /* The same past the first 16 bytes, and a backslash as the last byte. */
    test_parse_fails("\"0123456789abcdefghij\\qb\"", "at byte 21: bad escape");
    test_parse_fails("\"0123456789abcdefghij\\", "at byte 0: unterminated string");
    test_parse_fails("\"\\", "at byte 0: unterminated string");
    test_parse_fails("\"0123456789abcdefghijklmnopqrstuvwxyz", "at byte 0: unterminated string");
}

static void nul_and_non_utf8_bytes_in_strings_round_trip(void **state)
{
    (void)state;
    const char raw[] = {'a', 0x00, (char)0xff, (char)0x80, 0x00, 'z', (char)0xc3};
    sxp_value *v = sxp_value_str(raw, sizeof(raw));
    size_t len;
    char *t = test_text(v, &len);
    assert_int_equal(len, sizeof(raw) + 2);
    assert_int_equal(t[0], '"');
    assert_memory_equal(t + 1, raw, sizeof(raw));
    assert_int_equal(t[len - 1], '"');
    sxp_value *back = test_parse_n(t, len);
    size_t blen;
    const char *b = sxp_value_as_str(back, &blen);
    assert_int_equal(blen, sizeof(raw));
    assert_memory_equal(b, raw, sizeof(raw));
    assert_int_equal(b[blen], '\0');
    assert_true(sxp_value_equal(v, back));
    free(t);
    sxp_value_free(back);
    sxp_value_free(v);

    /* Every byte value survives. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    v = sxp_value_str(all, sizeof(all));
    test_reads_back_equal(v);
    sxp_value_free(v);
}

static void serialized_text_holds_no_raw_newline_or_tab(void **state)
{
    (void)state;
    sxp_value *d = sxp_value_dict();
    assert_int_equal(sxp_value_dict_set(d, "a", 1, sxp_value_str("x\ny\tz\r", 6)), 0);
    sxp_value *l = sxp_value_list();
    assert_int_equal(sxp_value_list_push(l, sxp_value_str("\t\t\n\n", 4)), 0);
    assert_int_equal(sxp_value_dict_set(d, "b", 1, l), 0);
    size_t len;
    char *t = test_text(d, &len);
    assert_null(memchr(t, '\n', len));
    assert_null(memchr(t, '\t', len));
    assert_string_equal(t, "{:a \"x\\ny\\tz\\r\" :b (list \"\\t\\t\\n\\n\")}");
    free(t);
    sxp_value_free(d);
}

static void dict_pairs_are_sorted_by_their_full_text(void **state)
{
    (void)state;
    test_reads_as("{:b 1 :a 2}", "{:a 2 :b 1}");
    /* ":a 1" < ":a-b 1" < ":ab 1": the space after a key sorts before '-'
     * and 'b', so a key sorts before the longer keys it prefixes... */
    test_reads_as("{:ab 1 :a-b 1 :a 1}", "{:a 1 :a-b 1 :ab 1}");
    /* ...but after those whose next byte is below the space. */
    test_reads_as("{:a 1 :a\x01 2 :a\x1f 3 :a! 4}", "{:a\x01 2 :a\x1f 3 :a 1 :a! 4}");
    test_reads_as("{:b {:z 1 :y 2} :a (list {:d 1 :c 2})}",
                  "{:a (list {:c 2 :d 1}) :b {:y 2 :z 1}}");
    /* Bytes compare unsigned. */
    test_reads_as("{:\xff 1 :\x7f 2 :\x80 3}", "{:\x7f 2 :\x80 3 :\xff 1}");

    /* A big dict (sorted the long way) agrees with the independent writer. */
    sxp_value *d = sxp_value_dict();
    for (int i = 0; i < 300; i++) {
        char k[16];
        int n = snprintf(k, sizeof(k), "%c%d", "ab-"[i % 3], (i * 7919) % 1000);
        assert_int_equal(sxp_value_dict_set(d, k, (size_t)n, sxp_value_int(i)), 0);
    }
    assert_int_equal(sxp_value_dict_set(d, "a", 1, sxp_value_nil()), 0);
    size_t len;
    char *t = test_text(d, &len);
    struct tstr want = {0};
    test_ref_text(&want, d);
    assert_int_equal(len, want.len);
    assert_memory_equal(t, want.p, len);
    free(want.p);
    free(t);
    sxp_value_free(d);
}

static void a_key_given_twice_is_rejected(void **state)
{
    (void)state;
    test_parse_fails("{:a 1 :a 2}", "at byte 0: duplicate key :a");
    test_parse_fails("{:a 1 \"a\" 2}", "duplicate key :a");
    test_parse_fails("(list 1 {:b 2 :c 3 :b 4})", "at byte 8: duplicate key :b");

    /* The same in a dict big enough to be checked by sorting. */
    struct tstr s = {0};
    tstr_addc(&s, '{');
    for (int i = 0; i < 40; i++) {
        char pair[32];
        (void)snprintf(pair, sizeof(pair), ":k%d %d ", i, i);
        tstr_adds(&s, pair);
    }
    tstr_adds(&s, ":k17 0}");
    test_parse_fails(s.p, "duplicate key :k17");
    s.len -= strlen(":k17 0}");
    tstr_adds(&s, ":k40 0}");
    sxp_value *v = test_parse(s.p);
    assert_int_equal(sxp_value_len(v), 41);
    sxp_value_free(v);
    free(s.p);
}

static void dict_keys_that_would_not_read_back_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"",     "a b",  "a(b",  "a)",   "{",    "}b", "a\"b",
                                      "a\tb", "a\nb", "a\rb", "a\vb", "a\fb", " "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sxp_value *d = sxp_value_dict();
        assert_int_equal(sxp_value_dict_set(d, "ok", 2, sxp_value_int(1)), 0);
        assert_int_equal(sxp_value_dict_set(d, bad[i], strlen(bad[i]), sxp_value_int(2)), 0);
        test_text_fails(d, -EINVAL, "type", "would not read back as one keyword");
        sxp_value_free(d);
    }
    /* Odd but fine: a NUL, a colon, a backslash, high bytes. */
    sxp_value *d = sxp_value_dict();
    assert_int_equal(sxp_value_dict_set(d, "a\0b", 3, sxp_value_int(1)), 0);
    assert_int_equal(sxp_value_dict_set(d, ":x", 2, sxp_value_int(2)), 0);
    assert_int_equal(sxp_value_dict_set(d, "\\\xff", 2, sxp_value_int(3)), 0);
    test_reads_back_equal(d);
    sxp_value_free(d);

    /* The reader refuses such keys as well. */
    test_parse_fails("{\"a b\" 1}", "at byte 1: dict key would not read back as a keyword");
    test_parse_fails("{\"\" 1}", "dict key would not read back");
    test_parse_fails("{1 2}", "at byte 1: dict key is not a keyword");
    test_parse_fails("{(quote a) 2}", "dict key is not a keyword");
    test_parse_fails("{: 1}", "at byte 1: empty keyword");
    test_reads_as("{\"a\\\\b\" 1 \"c\" 2}", "{:a\\b 1 :c 2}");
}

static void symbols_and_keywords_that_would_not_read_back_are_refused(void **state)
{
    (void)state;
    static const char *const bad_sym[] = {"",   "a b", "nil", "true", "false", ":a",
                                          "1a", "-1",  ".5",  "a)",   "a\"",   "a\n"};
    for (size_t i = 0; i < sizeof(bad_sym) / sizeof(bad_sym[0]); i++) {
        sxp_value *v = sxp_value_sym(bad_sym[i], strlen(bad_sym[i]));
        test_text_fails(v, -EINVAL, "type", "symbol");
        sxp_value_free(v);
    }
    static const char *const bad_kw[] = {"", "a b", "a(", "a}", "\"", "\t"};
    for (size_t i = 0; i < sizeof(bad_kw) / sizeof(bad_kw[0]); i++) {
        sxp_value *v = sxp_value_kw(bad_kw[i], strlen(bad_kw[i]));
        test_text_fails(v, -EINVAL, "type", "keyword");
        sxp_value_free(v);
    }
    /* list and quote are fine symbols: only a head is special. */
    test_reads_as("(list list quote)", "(list (quote list) (quote quote))");
    test_reads_as("(quote quote)", "(quote quote)");
    test_reads_as("(quote list)", "(quote list)");
    test_parse_fails(":", "at byte 0: empty keyword");
    test_parse_fails("(list : 1)", "at byte 6: empty keyword");
}

static void trailing_data_and_unbalanced_text_are_rejected(void **state)
{
    (void)state;
    test_parse_fails("", "at byte 0: no value");
    test_parse_fails(" \n\t", "at byte 3: no value");
    test_parse_fails("1 2", "at byte 2: trailing data");
    test_parse_fails("{:a 1} x", "at byte 7: trailing data");
    test_parse_fails("(list 1))", "at byte 8: trailing data");
    test_parse_fails("\"a\"b", "at byte 3: trailing data");
    test_parse_fails("(list 1 2", "at byte 0: unterminated list (the input ends at byte 9)");
    /* Underflow is refused, not stored as 0; a written zero is a zero. */
    test_parse_fails("1e-400", "at byte 0: number out of double range (too small: reads as 0)");
    test_parse_fails("-0.5e-999", "number out of double range");
    test_reads_as("0e-400", "0");
    test_reads_as("4.9e-324", "5e-324"); /* the smallest subnormal: not 0 */
    test_parse_fails("(list (list 1) ", "at byte 0: unterminated list");
    test_parse_fails("{:a 1", "at byte 0: unterminated dict");
    test_parse_fails("{:a 1 :b}", "at byte 8: dict key without a value");
    test_parse_fails("{:a", "at byte 3: dict key without a value");
    test_parse_fails(")", "at byte 0: unexpected ')'");
    test_parse_fails("(list 1 })", "at byte 8: unexpected '}'");
    test_parse_fails("{:a )}", "unexpected ')'");
    /* The length is the length: bytes past it are not read, and a NUL
     * inside it is data. */
    sxp_value *v = test_parse_n("12", 1);
    assert_true(sxp_value_as_int(v) == 1);
    sxp_value_free(v);
    test_parse_fails_n("\"a\"\0", 4, -EINVAL, "parse", "at byte 3: trailing data");
    /* A NUL is not a delimiter: it is part of the token. */
    test_parse_fails_n("1\0", 2, -EINVAL, "parse", "at byte 0: bad number");
}

static void nesting_deeper_than_the_limit_is_refused(void **state)
{
    (void)state;
    struct tstr s = {0};
    for (int i = 0; i < SX_MAX_DEPTH; i++)
        tstr_adds(&s, "(list ");
    for (int i = 0; i < SX_MAX_DEPTH; i++)
        tstr_addc(&s, ')');
    sxp_value *v = test_parse(s.p);
    size_t len;
    char *t = test_text(v, &len);
    assert_int_equal(len, s.len - 1); /* no space before the innermost ) */
    free(t);

    /* One more list around it is too deep, both ways. */
    sxp_value *outer = sxp_value_list();
    assert_int_equal(sxp_value_list_push(outer, v), 0);
    test_text_fails(outer, -E2BIG, "limit", "nesting deeper than 256");
    sxp_value_free(outer);
    struct tstr deeper = {0};
    tstr_addc(&deeper, '{');
    tstr_adds(&deeper, ":a ");
    tstr_add(&deeper, s.p, s.len);
    tstr_addc(&deeper, '}');
    /* The 256th "(list " of s opens the 257th level. */
    char where[64];
    (void)snprintf(where, sizeof(where), "at byte %d: nesting deeper than 256",
                   4 + 6 * (SX_MAX_DEPTH - 1));
    test_parse_fails_n(deeper.p, deeper.len, -E2BIG, "limit", where);
    free(deeper.p);

    /* A symbol's (quote ...) counts: 255 lists and a symbol fit, 256 not. */
    v = sxp_value_sym("s", 1);
    for (int i = 0; i < SX_MAX_DEPTH - 1; i++) {
        sxp_value *l = sxp_value_list();
        assert_int_equal(sxp_value_list_push(l, v), 0);
        v = l;
    }
    test_reads_back_equal(v);
    outer = sxp_value_list();
    assert_int_equal(sxp_value_list_push(outer, v), 0);
    test_text_fails(outer, -E2BIG, "limit", NULL);
    sxp_value_free(outer);

    /* Reading counts it the same, so that whatever reads writes (the fuzzer
     * found 256 "(" around bare symbols read, then refused when written):
     * at the 256th level a bare symbol, in a list or as a dict value, or
     * the head of a (quote a b), is too deep; the one item of a (quote x)
     * is not, since it writes as that (quote x); 255 levels around a bare
     * symbol read and write back. */
    static const struct {
        const char *inner;
        int lists; /* "(" around it */
        int reads; /* 1: reads and writes back; 0: -E2BIG */
    } at_limit[] = {
        {"s", SX_MAX_DEPTH, 0},
        {"1 s", SX_MAX_DEPTH, 0},
        {"{:a s}", SX_MAX_DEPTH - 1, 0},
        {"(quote a b)", SX_MAX_DEPTH - 1, 0},
        {"(quote s)", SX_MAX_DEPTH - 1, 1},
        {"s", SX_MAX_DEPTH - 1, 1},
    };
    for (size_t k = 0; k < sizeof(at_limit) / sizeof(at_limit[0]); k++) {
        struct tstr q = {0};
        for (int i = 0; i < at_limit[k].lists; i++)
            tstr_addc(&q, '(');
        tstr_adds(&q, at_limit[k].inner);
        for (int i = 0; i < at_limit[k].lists; i++)
            tstr_addc(&q, ')');
        if (at_limit[k].reads) {
            v = test_parse_n(q.p, q.len);
            test_reads_back_equal(v);
            sxp_value_free(v);
        } else {
            test_parse_fails_n(q.p, q.len, -E2BIG, "limit", "a symbol in the list or dict");
        }
        free(q.p);
    }

    /* A hostile text does not exhaust the C stack. */
    size_t n = 1000000;
    char *deep = malloc(n);
    assert_non_null(deep);
    memset(deep, '(', n / 2);
    memset(deep + n / 2, '{', n / 2);
    test_parse_fails_n(deep, n, -E2BIG, "limit", "nesting deeper");
    free(deep);
    free(s.p);
}

static void reference_texts_re_serialize_identically(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{:seq 1 :total 9.5}",
        "(list 1 \"a\" :k (quote s) nil true false)",
        "{:a (list) :b {}}",
        "\"tab\\there\"",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        test_reads_as(texts[i], texts[i]);

    sxp_value *v = test_parse("(list 1 \"a\" :k (quote s) nil true false)");
    assert_int_equal(sxp_value_type(v), SXP_LIST);
    assert_int_equal(sxp_value_len(v), 7);
    static const enum sxp_type types[] = {SXP_INT, SXP_STR,  SXP_KW,  SXP_SYM,
                                          SXP_NIL, SXP_BOOL, SXP_BOOL};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(sxp_value_type(sxp_value_list_get(v, i)), types[i]);
    sxp_value_free(v);
    v = test_parse("\"tab\\there\"");
    size_t len;
    assert_memory_equal(sxp_value_as_str(v, &len), "tab\there", 8);
    assert_int_equal(len, 8);
    sxp_value_free(v);
}

static void the_reader_takes_lenient_forms(void **state)
{
    (void)state;
    test_reads_as("(1 2 3)", "(list 1 2 3)");
    test_reads_as("(a b)", "(list (quote a) (quote b))");
    test_reads_as("((list 1) (2))", "(list (list 1) (list 2))");
    test_reads_as("(quote)", "(list (quote quote))");
    test_reads_as("(quote a b)", "(list (quote quote) (quote a) (quote b))");
    test_reads_as("(quote 5)", "5");
    test_reads_as("(quote \"s\")", "\"s\"");
    test_reads_as("(quote (list 1))", "(list 1)");
    test_reads_as("(quote nil)", "nil");
    test_reads_as("( list\t1\n2 )", "(list 1 2)");
    test_reads_as("(list\"a\"\"b\")", "(list \"a\" \"b\")");
    test_reads_as("(listx 1)", "(list (quote listx) 1)");
    test_reads_as("{ :b\n1\t:a \"x\" }", "{:a \"x\" :b 1}");
    test_reads_as("{\"seq\" 1}", "{:seq 1}");
    test_reads_as("{:a:b 1}", "{:a:b 1}");
    test_reads_as("{:a\"x\"}", "{:a \"x\"}");
    test_reads_as("\v\f 1 \v\f", "1");
}

static void event_seq_reports_clear_type_errors(void **state)
{
    (void)state;
    struct sxp_err err = {0};
    int64_t seq = 0;
    sxp_value *v = test_parse("{:seq 42 :a 1}");
    assert_int_equal(sx_event_seq(v, &seq, &err), 0);
    assert_true(seq == 42);
    sxp_value_free(v);

    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"(list :seq 1)", "event is not a dict"},
        {"42", "event is not a dict"},
        {"{:a 1}", "event has no :seq"},
        {"{}", "event has no :seq"},
        {"{:seq 1.5}", "event :seq is not an integer"},
        {"{:seq \"1\"}", "event :seq is not an integer"},
        {"{:seq nil}", "event :seq is not an integer"},
        {"{:a {:seq 1}}", "event has no :seq"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = test_parse(bad[i].text);
        assert_int_equal(sx_event_seq(v, &seq, &err), -EINVAL);
        assert_int_equal(err.code, -EINVAL);
        assert_string_equal(err.kind, "type");
        assert_string_equal(err.msg, bad[i].msg);
        assert_int_equal(sx_event_seq(v, &seq, NULL), -EINVAL);
        sxp_value_free(v);
    }
    assert_int_equal(sx_event_seq(NULL, &seq, &err), -EINVAL);
    assert_string_equal(err.msg, "event is not a dict");
}

/* On a text that parses, sx_peek_seq and sx_event_seq give the same answer.
 * (On one that does not, peek may still find a :seq before the damage: it
 * reads only as far as it must.) */
static void test_peek_agrees(const char *text, size_t len, const char *why)
{
    int64_t peeked = 0, parsed = 0;
    int prc = sx_peek_seq(text, len, &peeked);
    sxp_value *v = NULL;
    if (sx_parse(text, len, &v, NULL) != 0)
        return;
    int rc = sx_event_seq(v, &parsed, NULL);
    sxp_value_free(v);
    if (rc == -EINVAL && prc == -EINVAL)
        return;
    if (rc != 0 || prc != 0 || peeked != parsed)
        fail_msg("%s: peek gave %d/%" PRId64 ", parse %d/%" PRId64 " on \"%.*s\"", why, prc, peeked,
                 rc, parsed, (int)len, text);
}

static void peek_seq_finds_the_top_level_seq_only(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        int64_t seq;
    } cases[] = {
        {"{:seq 5}", 0, 5},
        {"{:seq 1 :total 9.5}", 0, 1},
        {"  {:total 9.5   :seq\n-3}  ", 0, -3},
        {"{:a \":seq 7\" :seq 5}", 0, 5},
        {"{:a {:seq 7} :seq 5}", 0, 5},
        {"{:a {:seq 7}}", -EINVAL, 0},
        {"{:a (list {:seq 1} \")\" \"}\") :seq 2}", 0, 2},
        {"{:a \"x\\\" :seq 7\" :seq 5}", 0, 5},
        {"{:a \"\\\\\" :seq 5}", 0, 5},
        {"{:a \"\\\\\\\" :seq 6\" :seq 5}", 0, 5},
        {"{:seqx 1 :seq 2}", 0, 2},
        {"{:se 1 :seqq 2}", -EINVAL, 0},
        {"{\"seq\" 3}", 0, 3},
        {"{:a :seq :seq 4}", 0, 4},
        {"{:a (quote seq) :seq 4}", 0, 4},
        {"{:seq (quote 5)}", 0, 5},
        {"{:seq ( quote (quote 6 ) )}", 0, 6},
        {"{:seq (quote 5 6)}", -EINVAL, 0},
        {"{:seq (list 5)}", -EINVAL, 0},
        {"{:seq 5.0}", -EINVAL, 0},
        {"{:seq 5e0}", -EINVAL, 0},
        {"{:seq \"5\"}", -EINVAL, 0},
        {"{:seq :5}", -EINVAL, 0},
        {"{:seq 5x}", -EINVAL, 0},
        {"{:seq -9223372036854775808}", 0, INT64_MIN},
        {"{:seq 9223372036854775807}", 0, INT64_MAX},
        {"{:seq 9223372036854775808}", -EINVAL, 0},
        {"{:seq}", -EINVAL, 0},
        {"{}", -EINVAL, 0},
        {"(list :seq 1)", -EINVAL, 0},
        {":seq 1", -EINVAL, 0},
        {"", -EINVAL, 0},
        {"{:a \"unterminated :seq 1}", -EINVAL, 0},
        {"{:a (list :seq 1", -EINVAL, 0},
        {"(quote {:a 1 :seq 7})", 0, 7},
        {"( quote\n(quote {:seq 7 :b (list 1)} ) )", 0, 7},
        {"(quote {:seq 7} 2)", -EINVAL, 0},
        {"(quote {:seq 7 :b 1}", -EINVAL, 0},
        {"(list {:seq 7})", -EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t seq = 12345;
        int rc = sx_peek_seq(cases[i].text, strlen(cases[i].text), &seq);
        if (rc != cases[i].rc || (rc == 0 && seq != cases[i].seq))
            fail_msg("peek on \"%s\" gave %d/%" PRId64 ", want %d/%" PRId64, cases[i].text, rc, seq,
                     cases[i].rc, cases[i].seq);
        test_peek_agrees(cases[i].text, strlen(cases[i].text), "hand-written");
    }
    /* A NUL inside a string is data; the length bounds the scan. */
    const char nul[] = "{:a \"\0:seq 9\" :seq 3}";
    test_peek_agrees(nul, sizeof(nul) - 1, "NUL in a string");
    int64_t seq;
    assert_int_equal(sx_peek_seq(nul, sizeof(nul) - 1, &seq), 0);
    assert_true(seq == 3);
    assert_int_equal(sx_peek_seq("{:seq 12}", 8, &seq), 0);
    assert_true(seq == 12);
    assert_int_equal(sx_peek_seq(NULL, 0, &seq), -EINVAL);
}

static void peek_seq_agrees_with_parse_on_random_events(void **state)
{
    (void)state;
    test_reseed(1);
    for (int round = 0; round < 4000; round++) {
        sxp_value *ev = test_rand_dict(3, test_below(5) != 0);
        size_t len;
        char *t = test_text(ev, &len);
        char why[64];
        (void)snprintf(why, sizeof(why), "seed %" PRIu64 " round %d canonical", test_seed, round);
        test_peek_agrees(t, len, why);
        free(t);

        struct tstr noisy = {0};
        test_noise_ws(&noisy, 0);
        test_noisy_text(&noisy, ev, 0);
        test_noise_ws(&noisy, 0);
        (void)snprintf(why, sizeof(why), "seed %" PRIu64 " round %d lenient", test_seed, round);
        test_peek_agrees(noisy.p, noisy.len, why);
        free(noisy.p);
        sxp_value_free(ev);
    }
}

static void random_values_round_trip_canonically(void **state)
{
    (void)state;
    test_reseed(2);
    for (int round = 0; round < 3000; round++) {
        sxp_value *v = test_rand_value(4);
        assert_non_null(v);
        size_t len;
        char *t = test_text(v, &len);

        /* The text is what the independent writer says. */
        struct tstr want = {0};
        test_ref_text(&want, v);
        if (want.len != len || memcmp(want.p, t, len) != 0)
            fail_msg("seed %" PRIu64 " round %d: wrote \"%s\", want \"%s\"", test_seed, round, t,
                     want.p);
        free(want.p);

        /* SX-2 */
        if (memchr(t, '\n', len) || memchr(t, '\t', len))
            fail_msg("seed %" PRIu64 " round %d: raw LF or TAB in \"%s\"", test_seed, round, t);

        /* SX-1, and the value comes back. */
        sxp_value *back = test_parse_n(t, len);
        if (!sxp_value_equal(v, back))
            fail_msg("seed %" PRIu64 " round %d: \"%s\" read back as another value", test_seed,
                     round, t);
        size_t len2;
        char *t2 = test_text(back, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(t2, t, len);
        free(t2);
        sxp_value_free(back);

        /* A lenient spelling of it reads back as the same value. */
        struct tstr noisy = {0};
        test_noise_ws(&noisy, 0);
        test_noisy_text(&noisy, v, 0);
        test_noise_ws(&noisy, 0);
        sxp_value *nb = NULL;
        struct sxp_err err = {0};
        int rc = sxp_value_parse(noisy.p, noisy.len, &nb, &err);
        if (rc)
            fail_msg("seed %" PRIu64 " round %d: \"%s\" failed: %s", test_seed, round, noisy.p,
                     err.msg);
        if (!sxp_value_equal(v, nb))
            fail_msg("seed %" PRIu64 " round %d: \"%s\" read as another value than \"%s\"",
                     test_seed, round, noisy.p, t);
        sxp_value_free(nb);
        free(noisy.p);

        /* A copy is equal and serializes the same. */
        sxp_value *c = sxp_value_copy(v);
        assert_true(sxp_value_equal(v, c));
        t2 = test_text(c, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(t2, t, len);
        free(t2);
        sxp_value_free(c);

        free(t);
        sxp_value_free(v);
    }
}

static void random_bytes_never_break_the_reader(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "(",      ")",      "{",      "}",    "\"",
        "\\",     ":",      "seq",    " ",    "1",
        "-",      ".",      "e",      "list", "quote",
        "\n",     "\t",     "a",      "nil",  "\"x\"",
        ":seq 1", "{:seq ", "(list ", "\\\"", "9223372036854775808"};
    test_reseed(3);
    size_t accepted = 0;
    for (int round = 0; round < 30000; round++) {
        struct tstr s = {0};
        size_t n = test_below(12);
        if (test_below(2))
            tstr_adds(&s, "{");
        for (size_t i = 0; i < n; i++) {
            if (test_below(8) == 0)
                tstr_addc(&s, (char)test_rand());
            else
                tstr_adds(&s, pieces[test_below(sizeof(pieces) / sizeof(pieces[0]))]);
        }
        if (s.len && s.p[0] == '{' && test_below(2))
            tstr_addc(&s, '}');
        const char *text = s.p ? s.p : "";
        sxp_value *v = NULL;
        struct sxp_err err = {0};
        int rc = sxp_value_parse(text, s.len, &v, &err);
        char why[64];
        (void)snprintf(why, sizeof(why), "seed %" PRIu64 " round %d fuzz", test_seed, round);
        test_peek_agrees(text, s.len, why);
        if (rc) {
            assert_null(v);
            assert_true(rc == -EINVAL || rc == -E2BIG);
            assert_true(strncmp(err.msg, "parse error at byte ", 20) == 0);
            free(s.p);
            continue;
        }
        accepted++;
        /* Whatever reads, writes; and the writing is canonical (SX-1). */
        size_t len, len2;
        char *t = test_text(v, &len);
        sxp_value *back = test_parse_n(t, len);
        char *t2 = test_text(back, &len2);
        if (len != len2 || memcmp(t, t2, len) != 0)
            fail_msg("%s: \"%s\" then \"%s\"", why, t, t2);
        free(t);
        free(t2);
        sxp_value_free(back);
        sxp_value_free(v);
        free(s.p);
    }
    /* The pieces are chosen so that a fair share parses. */
    assert_true(accepted > 1000);
}

static void constructors_and_accessors_follow_the_public_contract(void **state)
{
    (void)state;
    sxp_value *l = sxp_value_list();
    assert_int_equal(sxp_value_type(l), SXP_LIST);
    assert_int_equal(sxp_value_len(l), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sxp_value_list_push(l, sxp_value_int(i)), 0);
    assert_int_equal(sxp_value_len(l), 100);
    assert_true(sxp_value_as_int(sxp_value_list_get(l, 99)) == 99);
    assert_null(sxp_value_list_get(l, 100));
    /* A NULL item (a failed constructor) is -ENOMEM; a wrong container
     * frees the item (ASan would see a leak otherwise). */
    assert_int_equal(sxp_value_list_push(l, NULL), -ENOMEM);
    sxp_value *notlist = sxp_value_int(1);
    assert_int_equal(sxp_value_list_push(notlist, sxp_value_str("x", 1)), -EINVAL);
    assert_int_equal(sxp_value_dict_set(notlist, "k", 1, sxp_value_str("x", 1)), -EINVAL);
    assert_int_equal(sxp_value_list_push(NULL, sxp_value_nil()), -EINVAL);

    sxp_value *d = sxp_value_dict();
    assert_int_equal(sxp_value_dict_set(d, "b", 1, sxp_value_int(1)), 0);
    assert_int_equal(sxp_value_dict_set(d, "a", 1, sxp_value_int(2)), 0);
    assert_int_equal(sxp_value_dict_set(d, "b", 1, sxp_value_str("new", 3)), 0);
    assert_int_equal(sxp_value_dict_set(d, "c", 1, NULL), -ENOMEM);
    assert_int_equal(sxp_value_len(d), 2);
    const char *k;
    size_t klen;
    const sxp_value *item = sxp_value_dict_at(d, 0, &k, &klen);
    assert_int_equal(klen, 1);
    assert_memory_equal(k, "b", 1);
    assert_int_equal(sxp_value_type(item), SXP_STR);
    assert_null(sxp_value_dict_at(d, 2, &k, &klen));
    assert_null(k);
    assert_int_equal(klen, 0);
    assert_null(sxp_value_dict_get(d, "c", 1));
    assert_null(sxp_value_dict_get(d, "bb", 2));
    assert_true(sxp_value_as_int(sxp_value_dict_get(d, "a", 1)) == 2);
    char *t = test_text(d, NULL);
    assert_string_equal(t, "{:a 2 :b \"new\"}");
    free(t);

    /* Wrong types give 0, NULL or "". */
    size_t len = 9;
    assert_string_equal(sxp_value_as_str(notlist, &len), "");
    assert_int_equal(len, 0);
    assert_int_equal(sxp_value_as_bool(notlist), 0);
    assert_true(sxp_value_as_int(d) == 0);
    assert_true(sxp_value_as_num(d) == 0.0);
    assert_true(sxp_value_as_num(notlist) == 1.0); /* an INT is a number */
    assert_int_equal(sxp_value_len(notlist), 0);
    assert_null(sxp_value_list_get(d, 0));
    assert_null(sxp_value_dict_get(l, "a", 1));
    assert_int_equal(sxp_value_type(NULL), SXP_NIL);
    sxp_value *b = sxp_value_bool(42);
    assert_int_equal(sxp_value_as_bool(b), 1);
    sxp_value *kw = sxp_value_kw("name", 4);
    assert_string_equal(sxp_value_as_str(kw, &len), "name");
    assert_int_equal(len, 4);

    sxp_value_free(b);
    sxp_value_free(kw);
    sxp_value_free(notlist);
    sxp_value_free(d);
    sxp_value_free(l);
    sxp_value_free(NULL);
}

static void buffers_grow_and_refuse_sizes_that_would_wrap(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(buf_addc(&b, 'x'), 0);
    assert_int_equal(buf_add(&b, "yz", 2), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_addc(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(b.len, 1003);
    assert_true(b.cap > b.len);
    assert_int_equal(b.p[b.len], '\0');
    assert_memory_equal(b.p, "xyzabc", 6);
    /* len + extra + 1 past SIZE_MAX must not wrap into "enough room". */
    char *before = b.p;
    size_t cap = b.cap;
    assert_int_equal(buf_reserve(&b, SIZE_MAX), -ENOMEM);
    assert_int_equal(buf_reserve(&b, SIZE_MAX - b.len), -ENOMEM);
    assert_ptr_equal(b.p, before);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 1003);
    buf_free(&b);
}

static void escapes_are_written_at_every_position_of_long_strings(void **state)
{
    (void)state;
    /* The writer counts escapes 16 bytes at a time: put each escaped byte
     * (and two at once, and a byte that must not be escaped) at every
     * offset of strings across several 16-byte blocks and the tail. */
    static const char esc[] = {'"', '\\', '\n', '\r', '\t'};
    static const char as[] = {'"', '\\', 'n', 'r', 't'};
    for (size_t len = 1; len <= 50; len++) {
        for (size_t at = 0; at < len; at++) {
            for (size_t e = 0; e <= sizeof(esc); e++) {
                char str[64], want[160];
                memset(str, 'a', len);
                /* e == sizeof(esc): a byte next to the escapes that is not one. */
                str[at] = e < sizeof(esc) ? esc[e] : '\v';
                if (at + 5 < len)
                    str[at + 5] = '\\';
                size_t w = 0;
                want[w++] = '"';
                for (size_t i = 0; i < len; i++) {
                    const char *hit = memchr(esc, str[i], sizeof(esc));
                    if (hit) {
                        want[w++] = '\\';
                        want[w++] = as[hit - esc];
                    } else {
                        want[w++] = str[i];
                    }
                }
                want[w++] = '"';
                sxp_value *v = sxp_value_str(str, len);
                size_t got_len = 0;
                char *got = test_text(v, &got_len);
                assert_int_equal(got_len, w);
                assert_memory_equal(got, want, w);
                sxp_value *back = test_parse_n(got, got_len);
                assert_true(sxp_value_equal(back, v));
                sxp_value_free(back);
                sxp_value_free(v);
                free(got);
            }
        }
    }
}

static void parsing_into_scratch_gives_equal_values_and_reuses_one_node(void **state)
{
    (void)state;
    /* Texts of every outermost shape, short and long (the scratch grows),
     * and failures after the outermost node is built (trailing data). */
    static const char *const texts[] = {
        "{:seq 1 :a \"x\"}",
        "(list 1 (list 2 {:k \"v\"}) \"s\\tt\")",
        "{:seq 2 :nested {:deeper (list 1 2 3) :s \"q\\\"q\"} :f 1.5}",
        "(quote a b)",
        "(quote (list 1 2))",
        "42",
        "\"just a string\"",
        "{}",
        "(list)",
    };
    struct sx_scratch sc = {0};
    void *first = NULL;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
            sxp_value *want = test_parse(texts[i]);
            sxp_value *got = NULL;
            assert_int_equal(sx_parse_in(texts[i], strlen(texts[i]), &sc, &got, NULL), 0);
            assert_true(sxp_value_equal(got, want));
            if (i == 0 && round == 0)
                first = sc.buf;
            sx_value_free_in(got, &sc);
            sxp_value_free(want);
        }
    }
    assert_non_null(first);
    /* A dict of many pairs outgrows the scratch, which then holds it. */
    char big[8192];
    size_t n = (size_t)snprintf(big, sizeof(big), "{");
    for (int k = 0; k < 300; k++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, ":k%03d %d ", k, k);
    snprintf(big + n, sizeof(big) - n, "}");
    size_t cap_before = sc.cap;
    sxp_value *got = NULL;
    assert_int_equal(sx_parse_in(big, strlen(big), &sc, &got, NULL), 0);
    assert_true(sc.cap > cap_before);
    assert_ptr_equal(got, sc.buf);
    assert_int_equal(sxp_value_len(got), 300);
    sx_value_free_in(got, &sc);
    /* Errors free what they built and leave the scratch usable. */
    static const char *const bad[] = {"{:a 1} extra", "(list 1 2) )", "{:a 1 :a 2}",
                                      "{:a (list 1 \"x\") :b", "(list {:a 1} oops\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sxp_err err;
        got = NULL;
        assert_int_equal(sx_parse_in(bad[i], strlen(bad[i]), &sc, &got, &err), -EINVAL);
        assert_null(got);
    }
    assert_int_equal(sx_parse_in("{:ok 1}", 7, &sc, &got, NULL), 0);
    assert_int_equal(sxp_value_as_int(sxp_value_dict_get(got, "ok", 2)), 1);
    sx_value_free_in(got, &sc);
    sx_scratch_free(&sc);
    assert_null(sc.buf);
}

static void parsed_values_grow_and_free_like_built_ones(void **state)
{
    (void)state;
    /* A parsed list and dict hold their items in their own node; pushing
     * and setting past that must move them out cleanly. */
    sxp_value *l = test_parse("(list 1 2)");
    for (int i = 0; i < 20; i++)
        assert_int_equal(sxp_value_list_push(l, sxp_value_int(i)), 0);
    assert_int_equal(sxp_value_len(l), 22);
    assert_true(sxp_value_as_int(sxp_value_list_get(l, 1)) == 2);

    sxp_value *d = test_parse("{:k1 1 :k2 \"two\" :n (list 1 \"x\") :m {:a :b}}");
    /* Replacing a child kept in the dict's own memory, and one that is not
     * (ASan sees a bad free or a leak if either is handled wrongly). */
    assert_int_equal(sxp_value_dict_set(d, "k2", 2, sxp_value_int(22)), 0);
    assert_int_equal(sxp_value_dict_set(d, "n", 1, sxp_value_nil()), 0);
    assert_int_equal(sxp_value_dict_set(d, "n", 1, sxp_value_str("y", 1)), 0);
    assert_int_equal(sxp_value_dict_set(d, "m", 1, sxp_value_kw("z", 1)), 0);
    char *mid = test_text(d, NULL);
    assert_string_equal(mid, "{:k1 1 :k2 22 :m :z :n \"y\"}");
    free(mid);
    for (int i = 3; i < 30; i++) {
        char key[8];
        int n = snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(sxp_value_dict_set(d, key, (size_t)n, sxp_value_int(i)), 0);
    }
    assert_int_equal(sxp_value_dict_set(d, "l", 1, l), 0);
    assert_int_equal(sxp_value_len(d), 32);
    assert_true(sxp_value_as_int(sxp_value_dict_get(d, "k2", 2)) == 22);
    const char *k;
    size_t klen;
    sxp_value_dict_at(d, 0, &k, &klen);
    assert_string_equal(k, "k1");

    sxp_value *c = sxp_value_copy(d);
    assert_true(sxp_value_equal(c, d));
    assert_int_equal(sxp_value_dict_set(c, "k1", 2, sxp_value_int(-1)), 0);
    assert_false(sxp_value_equal(c, d));
    assert_true(sxp_value_as_int(sxp_value_dict_get(d, "k1", 2)) == 1);
    sxp_value_free(c);
    sxp_value_free(d);
}

static void equality_compares_structure(void **state)
{
    (void)state;
    sxp_value *two_num = sxp_value_num(2.0), *two_int = sxp_value_int(2);
    assert_false(sxp_value_equal(two_num, two_int));
    sxp_value *z = sxp_value_num(0.0), *nz = sxp_value_num(-0.0);
    assert_true(sxp_value_equal(z, nz));
    sxp_value *nan1 = sxp_value_num(NAN), *nan2 = sxp_value_num(NAN);
    assert_false(sxp_value_equal(nan1, nan2));
    sxp_value *s1 = sxp_value_str("a\0b", 3), *s2 = sxp_value_str("a\0c", 3);
    sxp_value *sym = sxp_value_sym("a", 1), *kw = sxp_value_kw("a", 1),
              *str = sxp_value_str("a", 1);
    assert_false(sxp_value_equal(s1, s2));
    assert_false(sxp_value_equal(sym, kw));
    assert_false(sxp_value_equal(kw, str));
    assert_false(sxp_value_equal(sym, NULL));
    assert_true(sxp_value_equal(NULL, NULL));

    sxp_value *a = test_parse("{:x 1 :y (list 1 2) :z {:q nil}}");
    sxp_value *b = test_parse("{:z {:q nil} :y (1 2) :x 1}");
    sxp_value *c = test_parse("{:z {:q nil} :y (list 1 2 3) :x 1}");
    sxp_value *e = test_parse("{:z {:q nil} :y (list 1 2) :w 1}");
    assert_true(sxp_value_equal(a, b));
    assert_false(sxp_value_equal(a, c));
    assert_false(sxp_value_equal(a, e));

    /* Big dicts in different insertion orders. */
    sxp_value *big1 = sxp_value_dict(), *big2 = sxp_value_dict();
    for (int i = 0; i < 50; i++) {
        char key[8];
        int n = snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(sxp_value_dict_set(big1, key, (size_t)n, sxp_value_int(i)), 0);
        n = snprintf(key, sizeof(key), "k%d", 49 - i);
        assert_int_equal(sxp_value_dict_set(big2, key, (size_t)n, sxp_value_int(49 - i)), 0);
    }
    assert_true(sxp_value_equal(big1, big2));
    assert_int_equal(sxp_value_dict_set(big2, "k7", 2, sxp_value_int(0)), 0);
    assert_false(sxp_value_equal(big1, big2));

    sxp_value *all[] = {two_num, two_int, z, nz, nan1, nan2, s1,   s2,  sym,
                        kw,      str,     a, b,  c,    e,    big1, big2};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sxp_value_free(all[i]);
}

/* A list n levels deep, built with the public constructors; the innermost
 * holds a dict holding one int, so both kinds of node are nested. */
static sxp_value *deep_list(size_t n)
{
    sxp_value *v = sxp_value_dict();
    assert_non_null(v);
    assert_int_equal(sxp_value_dict_set(v, "k", 1, sxp_value_int(7)), 0);
    for (size_t i = 0; i < n; i++) {
        sxp_value *outer = sxp_value_list();
        assert_non_null(outer);
        assert_int_equal(sxp_value_list_push(outer, sxp_value_str("leaf", 4)), 0);
        assert_int_equal(sxp_value_list_push(outer, v), 0);
        v = outer;
    }
    return v;
}

/* The constructors bound no depth, so free, copy and equal must not
 * recurse once per level without a bound: 200,000 levels overflowed the
 * stack of each. Free frees any depth; copy and equal stop at 4,096. */
static void values_of_any_depth_free_and_deep_ones_neither_copy_nor_compare(void **state)
{
    (void)state;
    sxp_value *a = deep_list(200000), *b = deep_list(200000);
    assert_null(sxp_value_copy(a));
    assert_int_equal(sxp_value_equal(a, b), 0);
    assert_int_equal(sxp_value_equal(a, a), 1); /* the same value */
    char *t = NULL;
    size_t len = 0;
    struct sxp_err err;
    assert_int_equal(sxp_value_to_text(a, &t, &len, &err), -E2BIG);
    sxp_value_free(a);
    sxp_value_free(b);
    /* Within the bound, as before. */
    a = deep_list(4000);
    b = sxp_value_copy(a);
    assert_non_null(b);
    assert_int_equal(sxp_value_equal(a, b), 1);
    sxp_value_free(a);
    sxp_value_free(b);
}

static void to_text_returns_a_nul_terminated_copy(void **state)
{
    (void)state;
    sxp_value *v = sxp_value_str("a\0b", 3);
    char *t = NULL;
    size_t len = 0;
    struct sxp_err err = {0};
    assert_int_equal(sxp_value_to_text(v, &t, &len, &err), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(t, "\"a\0b\"", 6);
    free(t);
    sxp_value_free(v);

    /* sx_serialize appends. */
    struct buf b = BUF_INIT;
    assert_int_equal(buf_adds(&b, "x="), 0);
    v = test_parse("(list 1 :a)");
    assert_int_equal(sx_serialize(v, &b, &err), 0);
    assert_string_equal(b.p, "x=(list 1 :a)");
    buf_free(&b);
    sxp_value_free(v);
}

int main(int argc, char **argv)
{
    test_seed = (uint64_t)time(NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            test_seed = strtoull(argv[++i], NULL, 10);
    }
    printf("test_sx: seed %" PRIu64 "\n", test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scalars_round_trip_canonically),
        cmocka_unit_test(int64_extremes_round_trip_and_overflow_is_an_error),
        cmocka_unit_test(doubles_print_the_shortest_text_that_reads_back),
        cmocka_unit_test(short_decimals_print_as_snprintf_would),
        cmocka_unit_test(nan_and_infinity_are_refused_with_kind_type),
        cmocka_unit_test(odd_bare_tokens_read_as_symbols_or_fail_as_bad_numbers),
        cmocka_unit_test(string_escapes_round_trip),
        cmocka_unit_test(nul_and_non_utf8_bytes_in_strings_round_trip),
        cmocka_unit_test(serialized_text_holds_no_raw_newline_or_tab),
        cmocka_unit_test(dict_pairs_are_sorted_by_their_full_text),
        cmocka_unit_test(a_key_given_twice_is_rejected),
        cmocka_unit_test(dict_keys_that_would_not_read_back_are_refused),
        cmocka_unit_test(symbols_and_keywords_that_would_not_read_back_are_refused),
        cmocka_unit_test(trailing_data_and_unbalanced_text_are_rejected),
        cmocka_unit_test(nesting_deeper_than_the_limit_is_refused),
        cmocka_unit_test(reference_texts_re_serialize_identically),
        cmocka_unit_test(the_reader_takes_lenient_forms),
        cmocka_unit_test(event_seq_reports_clear_type_errors),
        cmocka_unit_test(peek_seq_finds_the_top_level_seq_only),
        cmocka_unit_test(peek_seq_agrees_with_parse_on_random_events),
        cmocka_unit_test(random_values_round_trip_canonically),
        cmocka_unit_test(random_bytes_never_break_the_reader),
        cmocka_unit_test(constructors_and_accessors_follow_the_public_contract),
        cmocka_unit_test(parsed_values_grow_and_free_like_built_ones),
        cmocka_unit_test(parsing_into_scratch_gives_equal_values_and_reuses_one_node),
        cmocka_unit_test(escapes_are_written_at_every_position_of_long_strings),
        cmocka_unit_test(buffers_grow_and_refuse_sizes_that_would_wrap),
        cmocka_unit_test(equality_compares_structure),
        cmocka_unit_test(values_of_any_depth_free_and_deep_ones_neither_copy_nor_compare),
        cmocka_unit_test(to_text_returns_a_nul_terminated_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
