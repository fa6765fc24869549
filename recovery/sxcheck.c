/*
 * sxcheck.c -- the fast event check; the contract (SXC-1) is in sxcheck.h.
 *
 * THE FAST PATH accepts only this subset of SX text, the one sx_serialize
 * writes, and returns "defer" (0) at the first byte outside it:
 *
 *   value   nil | true | false | INT | NUM | STR | KW | SYM | LIST | DICT
 *   INT     -?(0|[1-9][0-9]*) whose magnitude fits int64
 *   NUM     INT then .[0-9]+ and/or e[+-][0-9][0-9]
 *   STR     "..." whose backslashes are followed by one of " \ n r t
 *   KW      :[A-Za-z_][A-Za-z0-9_?!*+/<>=.-]*
 *   SYM     (quote NAME) with NAME as a keyword's name
 *   LIST    (list) | (list value( value)*)
 *   DICT    {} | {KW value( KW value)*} with each pair's text ":k v"
 *           strictly greater, bytewise, than the pair before it, and no
 *           key equal to the one before it
 *   nesting at most SXC_DEPTH_MAX deep; no whitespace before or after
 *
 * Why the dict rule is enough to rule out duplicate keys without a table:
 * every pair of key k starts with ":k " and keys hold no space, so in a
 * sorted dict all pairs of one key are adjacent; comparing each key with the
 * one before it finds any repeat.
 *
 * Everything accepted here is accepted by sx_parse (the subset is a part of
 * the grammar in engine/sx.h, with the limits sx_parse applies: int64
 * range, finite doubles, distinct keys), and sx_event_seq's answer is the
 * top-level :seq seen here. Anything else goes to sx_parse.
 */
#include "sxcheck.h"

#include <errno.h>
#include <string.h>

#include "sx.h"

#define SXC_DEPTH_MAX 48

/* The scan of one text. */
struct sxc {
    const char *p;   /* next byte */
    const char *end; /* one past the last byte */
    int top_dict;    /* the top-level value is a dict */
    int have_seq;    /* it has a :seq whose value is an integer */
    int64_t seq;
};

/* Characters allowed in a keyword or symbol name after its first. */
static const unsigned char sxc_name_char[256] = {
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['_'] = 1, ['0'] = 2, ['1'] = 2, ['2'] = 2,
    ['3'] = 2, ['4'] = 2, ['5'] = 2, ['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2, ['?'] = 2,
    ['!'] = 2, ['*'] = 2, ['+'] = 2, ['/'] = 2, ['<'] = 2, ['>'] = 2, ['='] = 2, ['.'] = 2,
    ['-'] = 2,
};

static int sxc_value(struct sxc *c, int depth);

/* 1 if the next bytes are the literal s (which has n bytes); consumes them. */
static int sxc_lit(struct sxc *c, const char *s, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return 0;
    for (size_t i = 0; i < n; i++) /* literals are short: no memcmp call */
        if (c->p[i] != s[i])
            return 0;
    c->p += n;
    return 1;
}

/* A name: a letter or '_', then name characters. */
static int sxc_name(struct sxc *c)
{
    if (c->p >= c->end || sxc_name_char[(unsigned char)*c->p] != 1)
        return 0;
    c->p++;
    while (c->p < c->end && sxc_name_char[(unsigned char)*c->p])
        c->p++;
    return 1;
}

#define SXC_NUM_DIGITS 200

/* A digit run; returns how many digits. */
static size_t sxc_digits(struct sxc *c)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return (size_t)(c->p - s);
}

/* INT or NUM. *out_is_int and *out_int tell an integer's value. */
static int sxc_number(struct sxc *c, int *out_is_int, int64_t *out_int)
{
    int neg = 0;
    if (*c->p == '-') {
        neg = 1;
        c->p++;
    }
    const char *digits = c->p;
    size_t n = sxc_digits(c);
    if (n == 0 || (n > 1 && digits[0] == '0'))
        return 0;
    int is_int = 1;
    size_t frac = 0;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if ((frac = sxc_digits(c)) == 0)
            return 0;
        is_int = 0;
    }
    /* With at most SXC_NUM_DIGITS digits and a two-digit exponent a double
     * stays within 1e-300..1e300; more may overflow to infinity or read
     * as 0, which sx_parse refuses: defer. */
    if (n + frac > SXC_NUM_DIGITS)
        return 0;
    if (c->p < c->end && *c->p == 'e') {
        c->p++;
        if (c->p >= c->end || (*c->p != '+' && *c->p != '-'))
            return 0;
        c->p++;
        if (sxc_digits(c) != 2)
            return 0; /* three digits may overflow to infinity: defer */
        is_int = 0;
    }
    *out_is_int = is_int;
    if (!is_int)
        return 1;
    /* Magnitude with overflow check; INT64_MIN's is one past INT64_MAX. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(digits[i] - '0');
        if (v > (limit - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (neg)
        *out_int = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out_int = (int64_t)v;
    return 1;
}

static int sxc_string(struct sxc *c)
{
    c->p++; /* the opening quote */
    while (c->p < c->end) {
        /* Most strings hold no backslash: find the closing quote with
         * memchr and check the span for one. */
        const char *q = memchr(c->p, '"', (size_t)(c->end - c->p));
        if (!q)
            return 0;
        const char *bs = memchr(c->p, '\\', (size_t)(q - c->p));
        if (!bs) {
            c->p = q + 1;
            return 1;
        }
        if (bs + 1 >= c->end)
            return 0;
        char e = bs[1];
        if (e != '"' && e != '\\' && e != 'n' && e != 'r' && e != 't')
            return 0;
        c->p = bs + 2;
    }
    return 0;
}

static int sxc_list_or_quote(struct sxc *c, int depth)
{
    if (sxc_lit(c, "(quote ", 7))
        return sxc_name(c) && sxc_lit(c, ")", 1);
    if (!sxc_lit(c, "(list", 5))
        return 0;
    while (c->p < c->end && *c->p == ' ') {
        c->p++;
        if (!sxc_value(c, depth + 1))
            return 0;
    }
    return sxc_lit(c, ")", 1);
}

/* Compares two byte strings as memcmp would order them, shorter first on a
 * common prefix. */
static int sxc_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++) /* pairs differ early: no memcmp call */
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

static int sxc_dict(struct sxc *c, int depth)
{
    const char *prev = NULL, *prev_key = NULL;
    size_t prev_len = 0, prev_key_len = 0;
    c->p++; /* '{' */
    if (sxc_lit(c, "}", 1))
        return 1;
    for (;;) {
        const char *pair = c->p;
        if (!sxc_lit(c, ":", 1))
            return 0;
        const char *key = c->p;
        if (!sxc_name(c))
            return 0;
        size_t key_len = (size_t)(c->p - key);
        if (!sxc_lit(c, " ", 1))
            return 0;
        int is_seq = depth == 0 && key_len == 3 && memcmp(key, "seq", 3) == 0;
        if (is_seq && c->p < c->end && (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))) {
            int is_int = 0;
            int64_t v = 0;
            if (!sxc_number(c, &is_int, &v))
                return 0;
            if (is_int) {
                c->have_seq = 1;
                c->seq = v;
            }
        } else if (!sxc_value(c, depth + 1)) {
            return 0;
        }
        size_t pair_len = (size_t)(c->p - pair);
        if (prev) {
            if (sxc_cmp(prev, prev_len, pair, pair_len) >= 0)
                return 0;
            if (sxc_cmp(prev_key, prev_key_len, key, key_len) == 0)
                return 0;
        }
        prev = pair;
        prev_len = pair_len;
        prev_key = key;
        prev_key_len = key_len;
        if (sxc_lit(c, "}", 1))
            return 1;
        if (!sxc_lit(c, " ", 1))
            return 0;
    }
}

static int sxc_value(struct sxc *c, int depth)
{
    if (c->p >= c->end || depth > SXC_DEPTH_MAX)
        return 0;
    int is_int;
    int64_t v;
    switch (*c->p) {
    case 'n':
        return sxc_lit(c, "nil", 3);
    case 't':
        return sxc_lit(c, "true", 4);
    case 'f':
        return sxc_lit(c, "false", 5);
    case '"':
        return sxc_string(c);
    case ':':
        c->p++;
        return sxc_name(c);
    case '(':
        return sxc_list_or_quote(c, depth);
    case '{':
        if (depth == 0)
            c->top_dict = 1;
        return sxc_dict(c, depth);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return sxc_number(c, &is_int, &v);
    default:
        return 0;
    }
}

/* After a value, the fast path wants the end of the text. Atoms stop at the
 * first byte that is not theirs ("nilx", "12a"), so this also rules out
 * run-on tokens at the top level; inside lists and dicts the next byte must
 * be a space or the closing bracket. */
static int sxc_run(const char *text, size_t len, struct sxc *c)
{
    memset(c, 0, sizeof(*c));
    c->p = text;
    c->end = text + len;
    return sxc_value(c, 0) && c->p == c->end;
}

int sxcheck_fast(const char *text, size_t len, enum sxcheck_verdict *out_verdict, int64_t *out_seq)
{
    struct sxc c;
    if (!sxc_run(text, len, &c))
        return 0;
    if (c.top_dict && c.have_seq) {
        *out_verdict = SXCHECK_EVENT;
        *out_seq = c.seq;
    } else {
        *out_verdict = SXCHECK_NOT_EVENT;
    }
    return 1;
}

enum sxcheck_verdict sxcheck_event(const char *text, size_t len, int64_t *out_seq)
{
    enum sxcheck_verdict v;
    if (sxcheck_fast(text, len, &v, out_seq))
        return v;
    sxp_value *val = NULL;
    int rc = sx_parse(text, len, &val, NULL);
    if (rc != 0)
        return rc == -ENOMEM ? SXCHECK_NOMEM : SXCHECK_UNPARSABLE;
    int64_t seq = 0;
    v = sx_event_seq(val, &seq, NULL) == 0 ? SXCHECK_EVENT : SXCHECK_NOT_EVENT;
    if (v == SXCHECK_EVENT)
        *out_seq = seq;
    sxp_value_free(val);
    return v;
}

int sxcheck_value(const char *text, size_t len)
{
    struct sxc c;
    if (sxc_run(text, len, &c))
        return 1;
    sxp_value *val = NULL;
    int rc = sx_parse(text, len, &val, NULL);
    if (rc != 0)
        return rc == -ENOMEM ? -ENOMEM : 0;
    sxp_value_free(val);
    return 1;
}
