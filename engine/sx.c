/*
 * sx.c -- the SX text reader and writer: sx_parse, sx_serialize,
 * sx_event_seq and sx_peek_seq. The format, the token rules and SX-1..SX-3
 * are written once, in sx.h; node memory belongs to value.c.
 *
 * SPEED. Logs are read at hundreds of MB/s, so the reader does no work per
 * byte beyond a table lookup: strings are found with memchr, tokens and
 * whitespace with a class table, and nothing is allocated per byte. The
 * items of an open list or dict wait on a stack shared by the whole parse
 * (its first slots on the C stack) and move into their node at the close,
 * in one allocation of the exact size that also holds the leaf children
 * (scalars, and strings, keywords and symbols without escapes: value.c).
 * So a list or dict costs one allocation, as does a string with escapes;
 * other values cost none of their own.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sx.h"

#define SX_WS 1    /* whitespace */
#define SX_DELIM 2 /* ends a token: whitespace, ( ) { } " */
#define SX_ESC 4   /* escaped inside a string: " \ LF CR TAB */

static const unsigned char sx_class[256] = {
    [' '] = SX_WS | SX_DELIM,
    ['\t'] = SX_WS | SX_DELIM | SX_ESC,
    ['\n'] = SX_WS | SX_DELIM | SX_ESC,
    ['\r'] = SX_WS | SX_DELIM | SX_ESC,
    ['\v'] = SX_WS | SX_DELIM,
    ['\f'] = SX_WS | SX_DELIM,
    ['('] = SX_DELIM,
    [')'] = SX_DELIM,
    ['{'] = SX_DELIM,
    ['}'] = SX_DELIM,
    ['"'] = SX_DELIM | SX_ESC,
    ['\\'] = SX_ESC,
};

/* The letter after the backslash, for each byte marked SX_ESC. */
static const char sx_escape_as[256] = {
    ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

/* Items kept on the C stack before the shared stacks move to the heap. */
#define SX_STACK_LOCAL 64
/* At most this many pairs, a dict's keys are checked for repeats pairwise. */
#define SX_DUP_LINEAR_MAX 8
/* Numbers this long are copied to the heap for strtod. */
#define SX_NUM_LOCAL 128

static int sx_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static const char *sx_skip_ws(const char *p, const char *end)
{
    while (p < end && (sx_class[(unsigned char)*p] & SX_WS))
        p++;
    return p;
}

static const char *sx_token_end(const char *p, const char *end)
{
    /* Unrolled: most tokens are short, but this runs over every one. */
    while (end - p >= 4) {
        if (sx_class[(unsigned char)p[0]] & SX_DELIM)
            return p;
        if (sx_class[(unsigned char)p[1]] & SX_DELIM)
            return p + 1;
        if (sx_class[(unsigned char)p[2]] & SX_DELIM)
            return p + 2;
        if (sx_class[(unsigned char)p[3]] & SX_DELIM)
            return p + 3;
        p += 4;
    }
    while (p < end && !(sx_class[(unsigned char)*p] & SX_DELIM))
        p++;
    return p;
}

/* 1 when the bare token [p, end) starts like a number (sx.h TOKENS). */
static int sx_looks_numeric(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return 0;
    if (sx_is_digit((unsigned char)*p))
        return 1;
    return *p == '.' && p + 1 < end && sx_is_digit((unsigned char)p[1]);
}

/* Reads -?[0-9]+ in [p, end) as an int64: 0, -EINVAL when the token is not
 * all digits, -ERANGE when it is but does not fit. */
static int sx_read_int(const char *p, const char *end, int64_t *out)
{
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    size_t len = (size_t)(end - p);
    if (len == 0)
        return -EINVAL;
    /* Eighteen digits cannot overflow; only longer runs need a check. */
    uint64_t n = 0;
    size_t fast = len < 18 ? len : 18;
    for (size_t i = 0; i < fast; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9)
            return -EINVAL;
        n = n * 10 + d;
    }
    int range = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = fast; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9)
            return -EINVAL;
        if (n > (limit - d) / 10)
            range = 1;
        else
            n = n * 10 + d;
    }
    if (range)
        return -ERANGE;
    /* Negated as n - 1, so that 2^63 reaches INT64_MIN without overflow. */
    *out = neg && n ? -(int64_t)(n - 1) - 1 : (int64_t)n;
    return 0;
}

/* 1 when name reads back as one keyword or dict key (sx.h A NAME READS
 * BACK). */
static int sx_name_reads_back(const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (sx_class[(unsigned char)name[i]] & SX_DELIM)
            return 0;
    return 1;
}

/* 1 when "(quote name)" reads back as this symbol. */
static int sx_sym_reads_back(const char *name, size_t len)
{
    if (!sx_name_reads_back(name, len) || name[0] == ':' || sx_looks_numeric(name, name + len))
        return 0;
    if ((len == 3 && memcmp(name, "nil", 3) == 0) || (len == 4 && memcmp(name, "true", 4) == 0) ||
        (len == 5 && memcmp(name, "false", 5) == 0))
        return 0;
    return 1;
}

/* Orders keys as the pair texts ":k v" that hold them (memcmp, then shorter
 * first). Comparing k + " " is enough: keys hold no space, so for distinct
 * keys k1 + " " and k2 + " " differ at a byte before either ends, and the
 * two pair texts differ at that same byte. 0 only for equal keys. */
static int sx_key_text_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t m = alen < blen ? alen : blen;
    /* Keys are short: a byte loop beats a call to memcmp. */
    for (size_t i = 0; i < m; i++)
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
    if (alen == blen)
        return 0;
    if (alen < blen)
        return ' ' < (unsigned char)b[m] ? -1 : 1;
    return (unsigned char)a[m] < ' ' ? -1 : 1;
}

/* ---- reader --------------------------------------------------------------- */

struct sx_parser {
    const char *text; /* start, for byte offsets in messages */
    const char *p;    /* next byte */
    const char *end;
    struct sxp_err *err;
    int depth;                  /* ( and { open around p */
    struct sx_scratch *scratch; /* for the outermost list or dict, or NULL */
    struct sx_item *items;      /* items of the open lists */
    size_t n_items, cap_items;
    struct sx_entry *pairs; /* pairs of the open dicts */
    size_t n_pairs, cap_pairs;
    sxp_value **keys; /* escaped "string" keys of the open dicts */
    size_t n_keys, cap_keys;
    struct sx_item local_items[SX_STACK_LOCAL];
    struct sx_entry local_pairs[SX_STACK_LOCAL];
};

static int sx_parse_value(struct sx_parser *P, struct sx_item *out);

static int sx_perr(struct sx_parser *P, const char *at, const char *what)
{
    return err_setk(P->err, -EINVAL, "parse", "parse error at byte %zu: %s", (size_t)(at - P->text),
                    what);
}

/* An unterminated string, list or dict: where it opened, and where the
 * input ended without closing it. */
static int sx_perr_open(struct sx_parser *P, const char *open, const char *what)
{
    return err_setk(P->err, -EINVAL, "parse",
                    "parse error at byte %zu: unterminated %s (the input ends at byte %zu)",
                    (size_t)(open - P->text), what, (size_t)(P->end - P->text));
}

static int sx_nomem(struct sx_parser *P)
{
    return err_set(P->err, -ENOMEM, "out of memory parsing SX text at byte %zu",
                   (size_t)(P->p - P->text));
}

/* Makes room for one more element in the stack of n elements of size
 * bytes at stack, which starts out as local (or NULL). Returns the stack,
 * perhaps moved, with *cap updated; or NULL when out of memory, the stack
 * left as it was. */
static void *sx_grow_slow(void *stack, size_t *cap, size_t n, size_t size, const void *local);

static inline void *sx_grow(void *stack, size_t *cap, size_t n, size_t size, const void *local)
{
    return n < *cap ? stack : sx_grow_slow(stack, cap, n, size, local);
}

static void *sx_grow_slow(void *stack, size_t *cap, size_t n, size_t size, const void *local)
{
    size_t ncap = *cap ? *cap * 2 : SX_STACK_LOCAL;
    if (ncap > SIZE_MAX / size)
        return NULL;
    void *p;
    if (stack == local || !stack) {
        p = malloc(ncap * size);
        if (p && stack && n)
            memcpy(p, stack, n * size);
    } else {
        p = realloc(stack, ncap * size);
    }
    if (p)
        *cap = ncap;
    return p;
}

static void sx_leaf(struct sx_item *out, enum sxp_type type)
{
    out->node = NULL;
    memset(&out->leaf, 0, sizeof(out->leaf));
    out->leaf.type = type;
}

/* A leaf whose bytes stay in the text (or in static memory). */
static void sx_leaf_bytes(struct sx_item *out, enum sxp_type type, const char *p, size_t len)
{
    sx_leaf(out, type);
    out->leaf.u.s.p = (char *)(uintptr_t)p; /* only read, then copied */
    out->leaf.u.s.len = len;
}

/* The first '"' or '\\' in [p, end), or NULL. Strings are the bulk of
 * events, so 16 bytes are looked at a time where the vector extension and
 * a little-endian layout (lane i in byte i of the words) allow. */
static const char *sx_find_quote_or_backslash(const char *p, const char *end)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    typedef unsigned char v16 __attribute__((vector_size(16)));
    for (; end - p >= 16; p += 16) {
        v16 v;
        memcpy(&v, p, 16);
        v16 m = (v16)((v == '"') | (v == '\\'));
        uint64_t half[2];
        memcpy(half, &m, 16);
        if (half[0])
            return p + (__builtin_ctzll(half[0]) >> 3);
        if (half[1])
            return p + 8 + (__builtin_ctzll(half[1]) >> 3);
    }
#endif
    for (; p < end; p++)
        if (*p == '"' || *p == '\\')
            return p;
    return NULL;
}

/* A string at P->p (the opening quote). The first pass finds the end and
 * the unescaped length. Without escapes the string is a leaf on
 * the text's bytes; with them, the second pass unescapes straight into a
 * new node. */
static int sx_parse_string(struct sx_parser *P, struct sx_item *out)
{
    const char *open = P->p;
    const char *s = open + 1, *end = P->end;
    const char *pos = s, *close;
    size_t n_esc = 0;

    for (;;) {
        const char *q = sx_find_quote_or_backslash(pos, end);
        if (!q || (*q == '\\' && q + 1 == end))
            return sx_perr_open(P, open, "string");
        if (*q == '"') {
            close = q;
            break;
        }
        char c = q[1];
        if (c != '"' && c != '\\' && c != 'n' && c != 'r' && c != 't')
            return sx_perr(P, q, "bad escape in string (only \\\" \\\\ \\n \\r \\t)");
        n_esc++;
        pos = q + 2;
    }
    P->p = close + 1;
    if (n_esc == 0) {
        sx_leaf_bytes(out, SXP_STR, s, (size_t)(close - s));
        return 0;
    }
    sxp_value *v = sx_str_alloc(SXP_STR, (size_t)(close - s) - n_esc);
    if (!v)
        return sx_nomem(P);
    char *d = v->u.s.p;
    const char *q = s;
    while (q < close) {
        const char *bs = memchr(q, '\\', (size_t)(close - q));
        size_t run = (size_t)((bs ? bs : close) - q);
        memcpy(d, q, run);
        d += run;
        if (!bs)
            break;
        switch (bs[1]) {
        case 'n':
            *d++ = '\n';
            break;
        case 'r':
            *d++ = '\r';
            break;
        case 't':
            *d++ = '\t';
            break;
        default: /* '"' or '\\', checked above */
            *d++ = bs[1];
            break;
        }
        q = bs + 2;
    }
    out->node = v;
    return 0;
}

/* Reads the decimal [p, end) exactly when it is simple: at most 19
 * significant digits forming an integer m <= 2^53, and a power of ten
 * 10^e with |e| <= 22, both exact in a double, so that one multiplication
 * or division rounds once, as strtod would (Clinger's fast path). 0 and
 * *out, or -1 to leave the token to strtod. */
static int sx_fast_double(const char *p, const char *end, double *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int neg = 0, digits = 0, any = 0;
    uint64_t m = 0;
    long e = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    for (; p < end && sx_is_digit((unsigned char)*p); p++, any = 1) {
        if (m == 0 && *p == '0')
            continue;
        if (++digits > 19)
            return -1;
        m = m * 10 + (uint64_t)(*p - '0');
    }
    if (p < end && *p == '.') {
        for (p++; p < end && sx_is_digit((unsigned char)*p); p++, any = 1) {
            if (m == 0 && *p == '0') {
                e--;
                continue;
            }
            if (++digits > 19)
                return -1;
            m = m * 10 + (uint64_t)(*p - '0');
            e--;
        }
    }
    if (!any)
        return -1;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        long x = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end)
            return -1;
        for (; p < end && sx_is_digit((unsigned char)*p); p++) {
            if (x > 1000)
                return -1;
            x = x * 10 + (*p - '0');
        }
        e += eneg ? -x : x;
    }
    if (p != end || m > ((uint64_t)1 << 53) || e < -22 || e > 22)
        return -1;
    double d = (double)m;
    d = e < 0 ? d / pow10[-e] : d * pow10[e];
    *out = neg ? -d : d;
    return 0;
#else
    (void)p;
    (void)end;
    (void)out;
    return -1;
#endif
}

static int sx_parse_number(struct sx_parser *P, const char *tok, const char *tend,
                           struct sx_item *out)
{
    int64_t i;
    int rc = sx_read_int(tok, tend, &i);
    if (rc == 0) {
        sx_leaf(out, SXP_INT);
        out->leaf.u.i = i;
        return 0;
    }
    if (rc == -ERANGE)
        return sx_perr(P, tok, "integer out of int64 range");

    /* Not all digits: a double, if it has the characters of one. strtod
     * alone would also take hex, "inf" and "nan". */
    int mark = 0;
    for (const char *q = tok; q < tend; q++) {
        char c = *q;
        if (c == '.' || c == 'e' || c == 'E')
            mark = 1;
        else if (!sx_is_digit((unsigned char)c) && c != '+' && c != '-')
            return sx_perr(P, tok, "bad number");
    }
    if (!mark)
        return sx_perr(P, tok, "bad number");

    double d;
    if (sx_fast_double(tok, tend, &d) != 0) {
        size_t len = (size_t)(tend - tok);
        char local[SX_NUM_LOCAL];
        char *copy = len < sizeof(local) ? local : malloc(len + 1);
        if (!copy)
            return sx_nomem(P);
        memcpy(copy, tok, len);
        copy[len] = '\0';
        char *stop;
        d = strtod(copy, &stop);
        int whole = stop == copy + len;
        if (copy != local)
            free(copy);
        if (!whole)
            return sx_perr(P, tok, "bad number");
        if (!isfinite(d))
            return sx_perr(P, tok, "number out of double range");
        if (d == 0) {
            /* Underflow: a nonzero mantissa read as 0 (1e-400) would be
             * stored as a different number. */
            for (const char *q = tok; q < tend && *q != 'e' && *q != 'E'; q++)
                if (*q >= '1' && *q <= '9')
                    return sx_perr(P, tok, "number out of double range (too small: reads as 0)");
        }
    }
    sx_leaf(out, SXP_NUM);
    out->leaf.u.d = d;
    return 0;
}

/* A bare token at P->p: nil, true, false, a number or a symbol. */
static int sx_parse_bare(struct sx_parser *P, struct sx_item *out)
{
    const char *tok = P->p;
    const char *tend = sx_token_end(tok, P->end);
    size_t len = (size_t)(tend - tok);

    P->p = tend;
    if (len == 3 && memcmp(tok, "nil", 3) == 0) {
        sx_leaf(out, SXP_NIL);
    } else if (len == 4 && memcmp(tok, "true", 4) == 0) {
        sx_leaf(out, SXP_BOOL);
        out->leaf.u.b = 1;
    } else if (len == 5 && memcmp(tok, "false", 5) == 0) {
        sx_leaf(out, SXP_BOOL);
    } else if (sx_looks_numeric(tok, tend)) {
        return sx_parse_number(P, tok, tend, out);
    } else {
        sx_leaf_bytes(out, SXP_SYM, tok, len);
    }
    return 0;
}

static void sx_drop_items(struct sx_parser *P, size_t base)
{
    while (P->n_items > base)
        sxp_value_free(P->items[--P->n_items].node);
}

static int sx_push_item(struct sx_parser *P, const struct sx_item *it)
{
    struct sx_item *items =
        sx_grow(P->items, &P->cap_items, P->n_items, sizeof(*P->items), P->local_items);
    if (!items) {
        sxp_value_free(it->node);
        return sx_nomem(P);
    }
    P->items = items;
    P->items[P->n_items++] = *it;
    return 0;
}

/* 1 when an item read is a symbol, which writes as (quote name). */
static int sx_item_is_sym(const struct sx_item *it)
{
    return (it->node ? it->node->type : it->leaf.type) == SXP_SYM;
}

/* A symbol writes as (quote name), one level more than where it sits
 * (sx.h): at the last level, inside (...) or {...} opened at open, none
 * may sit, but for the one item of a (quote x), which writes at the level
 * of the (quote itself. -E2BIG then, as the serializer's. */
static int sx_sym_too_deep(struct sx_parser *P, const char *open)
{
    return err_setk(P->err, -E2BIG, "limit",
                    "parse error at byte %zu: nesting deeper than %d (a symbol in the list or "
                    "dict opened here writes as (quote name))",
                    (size_t)(open - P->text), SX_MAX_DEPTH);
}

static int sx_enter(struct sx_parser *P)
{
    if (P->depth >= SX_MAX_DEPTH)
        return err_setk(P->err, -E2BIG, "limit", "parse error at byte %zu: nesting deeper than %d",
                        (size_t)(P->p - P->text), SX_MAX_DEPTH);
    P->depth++;
    P->p++;
    return 0;
}

/* 1 when the bare token at p is exactly word. */
static int sx_head_is(const char *p, const char *end, const char *word, size_t len)
{
    return (size_t)(end - p) >= len && memcmp(p, word, len) == 0 &&
           (p + len == end || (sx_class[(unsigned char)p[len]] & SX_DELIM));
}

/* ( ... ) at P->p: (list ...), (quote x), or a plain list. */
static int sx_parse_paren(struct sx_parser *P, struct sx_item *out)
{
    const char *open = P->p;
    size_t base = P->n_items;
    int quote = 0;
    int rc = sx_enter(P);
    if (rc)
        return rc;

    P->p = sx_skip_ws(P->p, P->end);
    if (sx_head_is(P->p, P->end, "list", 4)) {
        P->p += 4;
    } else if (sx_head_is(P->p, P->end, "quote", 5)) {
        P->p += 5;
        quote = 1;
    }
    for (;;) {
        P->p = sx_skip_ws(P->p, P->end);
        if (P->p >= P->end) {
            rc = sx_perr_open(P, open, "list");
            goto fail;
        }
        if (*P->p == ')') {
            P->p++;
            break;
        }
        struct sx_item item = {0};
        rc = sx_parse_value(P, &item);
        if (rc)
            goto fail;
        rc = sx_push_item(P, &item);
        if (rc)
            goto fail;
    }
    size_t n = P->n_items - base;
    if (P->depth >= SX_MAX_DEPTH && !(quote && n == 1)) {
        int sym = quote; /* (quote) and (quote a b) keep the symbol quote */
        for (size_t i = 0; i < n && !sym; i++)
            sym = sx_item_is_sym(&P->items[base + i]);
        if (sym) {
            rc = sx_sym_too_deep(P, open);
            goto fail;
        }
    }
    P->depth--;

    if (quote && n == 1) {
        *out = P->items[base];
        P->n_items = base;
        return 0;
    }
    if (quote) {
        /* (quote), (quote a b): a plain list whose head is the symbol. */
        struct sx_item head;
        sx_leaf_bytes(&head, SXP_SYM, "quote", 5);
        rc = sx_push_item(P, &head);
        if (rc)
            goto fail;
        memmove(&P->items[base + 1], &P->items[base], n * sizeof(*P->items));
        P->items[base] = head;
        n++;
    }
    out->node = sx_list_take(&P->items[base], n, P->depth == 0 ? P->scratch : NULL);
    if (!out->node) {
        rc = sx_nomem(P);
        goto fail;
    }
    P->n_items = base;
    return 0;

fail:
    sx_drop_items(P, base);
    return rc;
}

static int sx_entry_ptr_cmp(const void *x, const void *y)
{
    const struct sx_entry *a = *(const struct sx_entry *const *)x;
    const struct sx_entry *b = *(const struct sx_entry *const *)y;
    return sx_key_text_cmp(a->key, a->key_len, b->key, b->key_len);
}

/* Whether two of pairs[0..n) have the same key: 1 and *out the later one,
 * 0, or -ENOMEM. */
static int sx_find_repeat(const struct sx_entry *pairs, size_t n, const struct sx_entry **out)
{
    /* Canonical text lists its keys in order: then none repeats. */
    size_t i = 1;
    while (i < n && sx_key_text_cmp(pairs[i - 1].key, pairs[i - 1].key_len, pairs[i].key,
                                    pairs[i].key_len) < 0)
        i++;
    if (i >= n)
        return 0;
    if (n <= SX_DUP_LINEAR_MAX) {
        for (i = 1; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                if (pairs[i].key_len == pairs[j].key_len &&
                    memcmp(pairs[i].key, pairs[j].key, pairs[i].key_len) == 0) {
                    *out = &pairs[i];
                    return 1;
                }
            }
        }
        return 0;
    }
    const struct sx_entry **sorted = malloc(n * sizeof(*sorted));
    if (!sorted)
        return -ENOMEM;
    for (i = 0; i < n; i++)
        sorted[i] = &pairs[i];
    qsort(sorted, n, sizeof(*sorted), sx_entry_ptr_cmp);
    int found = 0;
    for (i = 1; i < n && !found; i++) {
        if (sx_entry_ptr_cmp(&sorted[i - 1], &sorted[i]) == 0) {
            *out = sorted[i];
            found = 1;
        }
    }
    free(sorted);
    return found;
}

static void sx_drop_pairs(struct sx_parser *P, size_t base, size_t kbase)
{
    while (P->n_pairs > base)
        sxp_value_free(P->pairs[--P->n_pairs].item.node);
    while (P->n_keys > kbase)
        sxp_value_free(P->keys[--P->n_keys]);
}

/* A dict key at P->p: :name, or a "string" that reads back as a keyword.
 * The key's bytes stay in the text, or for an escaped string in a node kept
 * in P->keys until the dict closes. */
static int sx_parse_key(struct sx_parser *P, const char **key, size_t *key_len)
{
    const char *at = P->p;
    if (*at == ':') {
        const char *kend = sx_token_end(at + 1, P->end);
        if (kend == at + 1)
            return sx_perr(P, at, "empty keyword");
        *key = at + 1;
        *key_len = (size_t)(kend - at - 1);
        P->p = kend;
        return 0;
    }
    if (*at != '"')
        return sx_perr(P, at, "dict key is not a keyword");
    struct sx_item s = {0};
    int rc = sx_parse_string(P, &s);
    if (rc)
        return rc;
    const struct sxp_value *sv = s.node ? s.node : &s.leaf;
    if (!sx_name_reads_back(sv->u.s.p, sv->u.s.len)) {
        sxp_value_free(s.node);
        return sx_perr(P, at, "dict key would not read back as a keyword");
    }
    if (s.node) {
        sxp_value **keys = sx_grow(P->keys, &P->cap_keys, P->n_keys, sizeof(*P->keys), NULL);
        if (!keys) {
            sxp_value_free(s.node);
            return sx_nomem(P);
        }
        P->keys = keys;
        P->keys[P->n_keys++] = s.node;
    }
    *key = sv->u.s.p;
    *key_len = sv->u.s.len;
    return 0;
}

/* { ... } at P->p. */
static int sx_parse_dict(struct sx_parser *P, struct sx_item *out)
{
    const char *open = P->p;
    size_t base = P->n_pairs, kbase = P->n_keys;
    int rc = sx_enter(P);
    if (rc)
        return rc;

    for (;;) {
        P->p = sx_skip_ws(P->p, P->end);
        if (P->p >= P->end) {
            rc = sx_perr_open(P, open, "dict");
            goto fail;
        }
        if (*P->p == '}') {
            P->p++;
            break;
        }
        const char *key = NULL;
        size_t key_len = 0;
        rc = sx_parse_key(P, &key, &key_len);
        if (rc)
            goto fail;
        P->p = sx_skip_ws(P->p, P->end);
        if (P->p >= P->end || *P->p == '}') {
            rc = sx_perr(P, P->p, "dict key without a value");
            goto fail;
        }
        struct sx_item val = {0};
        rc = sx_parse_value(P, &val);
        if (rc)
            goto fail;
        struct sx_entry *pairs =
            sx_grow(P->pairs, &P->cap_pairs, P->n_pairs, sizeof(*P->pairs), P->local_pairs);
        if (!pairs) {
            sxp_value_free(val.node);
            rc = sx_nomem(P);
            goto fail;
        }
        P->pairs = pairs;
        struct sx_entry *e = &P->pairs[P->n_pairs++];
        e->key = key;
        e->key_len = key_len;
        e->item = val;
    }
    for (size_t i = base; P->depth >= SX_MAX_DEPTH && i < P->n_pairs; i++) {
        if (sx_item_is_sym(&P->pairs[i].item)) {
            rc = sx_sym_too_deep(P, open);
            goto fail;
        }
    }
    P->depth--;

    size_t n = P->n_pairs - base;
    const struct sx_entry *rep = NULL;
    rc = sx_find_repeat(&P->pairs[base], n, &rep);
    if (rc < 0) {
        rc = sx_nomem(P);
        goto fail;
    }
    if (rc) {
        int shown = rep->key_len > 64 ? 64 : (int)rep->key_len;
        rc = err_setk(P->err, -EINVAL, "parse",
                      "parse error at byte %zu: duplicate key :%.*s in the dict opened here",
                      (size_t)(open - P->text), shown, rep->key);
        goto fail;
    }
    out->node = sx_dict_take(&P->pairs[base], n, P->depth == 0 ? P->scratch : NULL);
    if (!out->node) {
        rc = sx_nomem(P);
        goto fail;
    }
    P->n_pairs = base;
    while (P->n_keys > kbase)
        sxp_value_free(P->keys[--P->n_keys]);
    return 0;

fail:
    sx_drop_pairs(P, base, kbase);
    return rc;
}

/* One value at P->p, which is not whitespace. */
static int sx_parse_value(struct sx_parser *P, struct sx_item *out)
{
    if (P->p >= P->end)
        return sx_perr(P, P->p, "expected a value, found the end of the text");
    switch (*P->p) {
    case '"':
        return sx_parse_string(P, out);
    case '(':
        return sx_parse_paren(P, out);
    case '{':
        return sx_parse_dict(P, out);
    case ')':
        return sx_perr(P, P->p, "unexpected ')'");
    case '}':
        return sx_perr(P, P->p, "unexpected '}'");
    case ':': {
        const char *at = P->p;
        const char *kend = sx_token_end(at + 1, P->end);
        if (kend == at + 1)
            return sx_perr(P, at, "empty keyword");
        sx_leaf_bytes(out, SXP_KW, at + 1, (size_t)(kend - at - 1));
        P->p = kend;
        return 0;
    }
    default:
        return sx_parse_bare(P, out);
    }
}

int sx_parse(const char *text, size_t len, sxp_value **out, struct sxp_err *err)
{
    return sx_parse_in(text, len, NULL, out, err);
}

int sx_parse_in(const char *text, size_t len, struct sx_scratch *sc, sxp_value **out,
                struct sxp_err *err)
{
    struct sx_parser P;
    struct sx_item item = {0};
    int rc;

    *out = NULL;
    if (!text && len)
        return err_setk(err, -EINVAL, "arg", "no text (NULL) of %zu bytes to parse", len);
    if (!text)
        text = "";
    P.text = text;
    P.end = text + len;
    P.err = err;
    P.scratch = sc;
    P.depth = 0;
    P.items = P.local_items;
    P.n_items = 0;
    P.cap_items = SX_STACK_LOCAL;
    P.pairs = P.local_pairs;
    P.n_pairs = 0;
    P.cap_pairs = SX_STACK_LOCAL;
    P.keys = NULL;
    P.n_keys = P.cap_keys = 0;

    P.p = sx_skip_ws(text, P.end);
    if (P.p >= P.end) {
        rc = sx_perr(&P, P.p, "no value (empty text)");
        goto cleanup;
    }
    rc = sx_parse_value(&P, &item);
    if (rc)
        goto cleanup;
    P.p = sx_skip_ws(P.p, P.end);
    if (P.p < P.end) {
        rc = sx_perr(&P, P.p, "trailing data after the value");
        sx_value_free_in(item.node, sc);
        goto cleanup;
    }
    *out = sx_item_node(&item);
    if (!*out)
        rc = sx_nomem(&P);

cleanup:
    if (P.items != P.local_items)
        free(P.items);
    if (P.pairs != P.local_pairs)
        free(P.pairs);
    free(P.keys);
    return rc;
}

/* ---- writer --------------------------------------------------------------- */

/* At most this many pairs, a dict is sorted in place on the C stack. */
#define SX_SORT_LOCAL 16

static int sx_put_int(struct buf *out, int64_t i)
{
    char tmp[24];
    char *e = tmp + sizeof(tmp), *p = e;
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--p = '-';
    return buf_add(out, p, (size_t)(e - p));
}

/* The text of d when it is a short decimal in %g's fixed range: 1e-4 <=
 * |d| < 1e15 and d == m / 10^k for a whole m of at most 15 digits and
 * 1 <= k <= 22 (the division exact in its inputs, so it rounds once, and
 * the decimal m / 10^k reads back as d). That decimal is the shortest text
 * of d, the one the %.Ng loop of sx_put_num finds: two decimals of at most
 * 15 digits that both read back as d lie within one ulp (2^-52 of d) of
 * each other, closer than neighbouring 15-digit decimals ever are (10^-15
 * of d or more), so no other decimal of as few digits reads back; and %.Ng,
 * N the digits of m, prints m, the N-digit decimal nearest d. This skips
 * snprintf and strtod in the common case. Returns the length, or 0 to take
 * the long way. */
static size_t sx_fast_num(double d, char *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e15))
        return 0;
    for (int k = 1; k <= 22; k++) {
        double t = a * pow10[k];
        if (t >= 1e15)
            return 0; /* m would need more than 15 digits */
        if (t != floor(t) || t / pow10[k] != a)
            continue;
        uint64_t m = (uint64_t)t;
        while (k > 0 && m % 10 == 0) { /* no trailing zeros after the point */
            m /= 10;
            k--;
        }
        if (k == 0)
            return 0; /* cannot happen: d is not whole */
        char digits[24];
        int n = 0;
        for (; m; m /= 10)
            digits[n++] = (char)('0' + m % 10); /* reversed */
        size_t len = 0;
        if (d < 0)
            out[len++] = '-';
        if (n <= k) {
            out[len++] = '0';
            out[len++] = '.';
            for (int z = 0; z < k - n; z++)
                out[len++] = '0';
            while (n > 0)
                out[len++] = digits[--n];
        } else {
            while (n > k)
                out[len++] = digits[--n];
            out[len++] = '.';
            while (n > 0)
                out[len++] = digits[--n];
        }
        return len;
    }
    return 0;
#else
    (void)d;
    (void)out;
    return 0;
#endif
}

static int sx_put_num(struct buf *out, double d, struct sxp_err *err)
{
    char tmp[40];
    int n = 0;
    if (!isfinite(d))
        return err_setk(err, -EINVAL, "type", "cannot serialize %s: it would not read back",
                        isnan(d) ? "NaN" : "an infinity");
    if (d == 0)
        return buf_addc(out, '0');
    if (fabs(d) < 1e15 && d == trunc(d))
        return sx_put_int(out, (int64_t)d);
    size_t fast = sx_fast_num(d, tmp);
    if (fast)
        return buf_add(out, tmp, fast);
    /* The shortest text: the fewest significant digits that read back to
     * the same double (5e-324, not 4.94065645841247e-324). %.17g always
     * reads back, so the loop ends with prec at most 17. */
    int prec = 1;
    for (; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (n < 0 || (size_t)n >= sizeof(tmp) || strtod(tmp, NULL) == d)
            break;
    }
    /* A whole number from 1e15 to 1e17 can come out as bare digits, which
     * would read back as an INT: write the same digits in %e form. */
    if (n > 0 && (size_t)n < sizeof(tmp) && !strpbrk(tmp, ".eE"))
        n = snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
    if (n <= 0 || (size_t)n >= sizeof(tmp) || prec > 17)
        return err_setk(err, -EINVAL, "type", "cannot format the number %a", d);
    return buf_add(out, tmp, (size_t)n);
}

/* How many bytes of s[0..len) the writer escapes (" \\ LF CR TAB). Long
 * strings are the payload of big events, so 16 bytes are looked at a time:
 * each lane that matches becomes 0xff, and the low bit of each byte of the
 * two halves counts the matches. */
static size_t sx_count_escapes(const char *s, size_t len)
{
    size_t n = 0, i = 0;
#if defined(__GNUC__)
    typedef unsigned char v16 __attribute__((vector_size(16)));
    const uint64_t low_bits = 0x0101010101010101u;
    for (; i + 16 <= len; i += 16) {
        v16 v;
        memcpy(&v, s + i, 16);
        v16 m = (v16)((v == '"') | (v == '\\') | (v == '\n') | (v == '\r') | (v == '\t'));
        uint64_t half[2];
        memcpy(half, &m, 16);
        if (half[0] | half[1])
            n += (size_t)__builtin_popcountll(half[0] & low_bits) +
                 (size_t)__builtin_popcountll(half[1] & low_bits);
    }
#endif
    for (; i < len; i++)
        n += (sx_class[(unsigned char)s[i]] & SX_ESC) != 0;
    return n;
}

static int sx_put_str(struct buf *out, const char *s, size_t len)
{
    size_t n_esc = sx_count_escapes(s, len);
    int rc = buf_reserve(out, len + n_esc + 2);
    if (rc)
        return rc;
    char *d = out->p + out->len;
    *d++ = '"';
    if (n_esc == 0) {
        memcpy(d, s, len);
        d += len;
    } else {
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!(sx_class[c] & SX_ESC)) {
                *d++ = (char)c;
                continue;
            }
            *d++ = '\\';
            *d++ = sx_escape_as[c];
        }
    }
    *d++ = '"';
    out->len = (size_t)(d - out->p);
    out->p[out->len] = '\0';
    return 0;
}

static int sx_pair_text_cmp(const struct sx_pair *a, const struct sx_pair *b)
{
    return sx_key_text_cmp(a->key, a->key_len, b->key, b->key_len);
}

static int sx_pair_text_qcmp(const void *x, const void *y)
{
    return sx_pair_text_cmp(*(const struct sx_pair *const *)x, *(const struct sx_pair *const *)y);
}

static int sx_ser(const sxp_value *v, struct buf *out, int depth, struct sxp_err *err);

static int sx_ser_depth(int depth, struct sxp_err *err)
{
    if (depth >= SX_MAX_DEPTH)
        return err_setk(err, -E2BIG, "limit", "cannot serialize: nesting deeper than %d",
                        SX_MAX_DEPTH);
    return 0;
}

static int sx_ser_dict(const sxp_value *v, struct buf *out, int depth, struct sxp_err *err)
{
    size_t n = v->u.dict.len;
    const struct sx_pair *local[SX_SORT_LOCAL];
    const struct sx_pair **order = local;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        const struct sx_pair *p = &v->u.dict.pairs[i];
        if (!sx_name_reads_back(p->key, p->key_len)) {
            char q[80];
            return err_setk(err, -EINVAL, "type",
                            "cannot serialize dict key %s: it would not read back as one keyword",
                            err_quote(p->key, p->key_len, q, sizeof(q)));
        }
    }
    if (n > SX_SORT_LOCAL) {
        order = malloc(n * sizeof(*order));
        if (!order)
            return err_set(err, -ENOMEM, "out of memory serializing a dict");
    }
    for (size_t i = 0; i < n; i++)
        order[i] = &v->u.dict.pairs[i];
    if (n > SX_SORT_LOCAL) {
        qsort(order, n, sizeof(*order), sx_pair_text_qcmp);
    } else {
        for (size_t i = 1; i < n; i++) {
            const struct sx_pair *x = order[i];
            size_t j = i;
            for (; j > 0 && sx_pair_text_cmp(order[j - 1], x) > 0; j--)
                order[j] = order[j - 1];
            order[j] = x;
        }
    }
    for (size_t i = 1; i < n; i++) {
        if (sx_pair_text_cmp(order[i - 1], order[i]) == 0) {
            int shown = order[i]->key_len > 64 ? 64 : (int)order[i]->key_len;
            rc = err_setk(err, -EINVAL, "type", "cannot serialize dict: key :%.*s twice", shown,
                          order[i]->key);
            goto cleanup;
        }
    }
    if ((rc = buf_addc(out, '{')))
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        if (i && (rc = buf_addc(out, ' ')))
            goto nomem;
        if ((rc = buf_addc(out, ':')) || (rc = buf_add(out, order[i]->key, order[i]->key_len)) ||
            (rc = buf_addc(out, ' ')))
            goto nomem;
        if ((rc = sx_ser(order[i]->val, out, depth + 1, err)))
            goto cleanup;
    }
    if ((rc = buf_addc(out, '}')))
        goto nomem;
    goto cleanup;

nomem:
    rc = err_set(err, rc, "out of memory serializing SX text");
cleanup:
    if (order != local)
        free(order);
    return rc;
}

/* Appends v, which sits inside depth open ( or {. */
static int sx_ser(const sxp_value *v, struct buf *out, int depth, struct sxp_err *err)
{
    int rc;

    if (!v)
        return err_setk(err, -EINVAL, "type", "cannot serialize a NULL value");
    switch (v->type) {
    case SXP_NIL:
        rc = buf_add(out, "nil", 3);
        break;
    case SXP_BOOL:
        rc = v->u.b ? buf_add(out, "true", 4) : buf_add(out, "false", 5);
        break;
    case SXP_INT:
        rc = sx_put_int(out, v->u.i);
        break;
    case SXP_NUM:
        rc = sx_put_num(out, v->u.d, err);
        if (rc && rc != -ENOMEM)
            return rc;
        break;
    case SXP_STR:
        rc = sx_put_str(out, v->u.s.p, v->u.s.len);
        break;
    case SXP_SYM:
        if (!sx_sym_reads_back(v->u.s.p, v->u.s.len)) {
            char q[80];
            return err_setk(err, -EINVAL, "type",
                            "cannot serialize symbol %s: it would not read back",
                            err_quote(v->u.s.p, v->u.s.len, q, sizeof(q)));
        }
        if ((rc = sx_ser_depth(depth, err)))
            return rc;
        if (!(rc = buf_add(out, "(quote ", 7)) && !(rc = buf_add(out, v->u.s.p, v->u.s.len)))
            rc = buf_addc(out, ')');
        break;
    case SXP_KW:
        if (!sx_name_reads_back(v->u.s.p, v->u.s.len)) {
            char q[80];
            return err_setk(err, -EINVAL, "type",
                            "cannot serialize keyword %s: it would not read back",
                            err_quote(v->u.s.p, v->u.s.len, q, sizeof(q)));
        }
        if (!(rc = buf_addc(out, ':')))
            rc = buf_add(out, v->u.s.p, v->u.s.len);
        break;
    case SXP_LIST:
        if ((rc = sx_ser_depth(depth, err)))
            return rc;
        if ((rc = buf_add(out, "(list", 5)))
            break;
        for (size_t i = 0; i < v->u.list.len; i++) {
            if ((rc = buf_addc(out, ' ')))
                break;
            if ((rc = sx_ser(v->u.list.items[i], out, depth + 1, err)))
                return rc;
        }
        if (!rc)
            rc = buf_addc(out, ')');
        break;
    case SXP_DICT:
        if ((rc = sx_ser_depth(depth, err)))
            return rc;
        return sx_ser_dict(v, out, depth, err);
    default:
        return err_setk(err, -EINVAL, "type", "cannot serialize a value of unknown type %d",
                        (int)v->type);
    }
    if (rc)
        return err_set(err, rc, "out of memory serializing SX text");
    return 0;
}

int sx_serialize(const sxp_value *v, struct buf *out, struct sxp_err *err)
{
    return sx_serialize_nested(v, 0, NULL, NULL, out, err);
}

int sx_serialize_nested(const sxp_value *v, int outer, const char *what, const char *wrap,
                        struct buf *out, struct sxp_err *err)
{
    size_t start = out->len;
    int rc = sx_ser(v, out, outer, err);
    if (rc == -E2BIG && what != NULL)
        err_setk(err, rc, "limit",
                 "%s nests deeper than %d levels of ( and { (a symbol's (quote ...) counts; %s of "
                 "%d)",
                 what, SX_MAX_DEPTH - outer, wrap, SX_MAX_DEPTH);
    if (rc && out->p) {
        /* Leave out as it was: no half value. */
        out->len = start;
        out->p[start] = '\0';
    }
    return rc;
}

/* ---- events --------------------------------------------------------------- */

int sx_event_seq(const sxp_value *ev, int64_t *out, struct sxp_err *err)
{
    if (!ev || ev->type != SXP_DICT)
        return err_setk(err, -EINVAL, "type", "event is not a dict");
    const sxp_value *seq = sxp_value_dict_get(ev, "seq", 3);
    if (!seq)
        return err_setk(err, -EINVAL, "type", "event has no :seq");
    if (seq->type != SXP_INT)
        return err_setk(err, -EINVAL, "type", "event :seq is not an integer");
    *out = seq->u.i;
    return 0;
}

/* The end of the string opening at p (just past its closing quote), or
 * NULL when it does not close. */
static const char *sx_peek_skip_string(const char *p, const char *end)
{
    for (p++;;) {
        const char *q = sx_find_quote_or_backslash(p, end);
        if (!q || (*q == '\\' && q + 1 == end))
            return NULL;
        if (*q == '"')
            return q + 1;
        p = q + 2;
    }
}

/* The end of the value starting at p (not whitespace), or NULL. Brackets
 * are only counted, not matched by kind: the text is trusted to be SX,
 * and a text that is not still ends the scan within [p, end). */
static const char *sx_peek_skip_value(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    if (c == '"')
        return sx_peek_skip_string(p, end);
    if (c == ')' || c == '}')
        return NULL;
    if (c != '(' && c != '{') {
        const char *t = sx_token_end(p, end);
        return t > p ? t : NULL;
    }
    size_t depth = 0;
    while (p < end) {
        c = (unsigned char)*p;
        if (c == '"') {
            p = sx_peek_skip_string(p, end);
            if (!p)
                return NULL;
            continue;
        }
        if (c == '(' || c == '{') {
            depth++;
        } else if (c == ')' || c == '}') {
            if (--depth == 0)
                return p + 1;
        }
        p++;
    }
    return NULL;
}

/* Skips "(quote" and whitespace wrapped around a value: the number of
 * wrappers, with *p moved to the value. */
static size_t sx_peek_unquote(const char **p, const char *end)
{
    size_t wraps = 0;
    const char *q = sx_skip_ws(*p, end);
    while (q < end && *q == '(') {
        const char *h = sx_skip_ws(q + 1, end);
        if (!sx_head_is(h, end, "quote", 5))
            break;
        q = sx_skip_ws(h + 5, end);
        wraps++;
    }
    *p = q;
    return wraps;
}

/* The end of wraps closing parens (with whitespace) at p, or NULL. */
static const char *sx_peek_close(const char *p, const char *end, size_t wraps)
{
    for (; wraps > 0; wraps--) {
        p = sx_skip_ws(p, end);
        if (p >= end || *p != ')')
            return NULL;
        p++;
    }
    return p;
}

/* The integer at p, as the reader would make it: a token of digits, maybe
 * wrapped in (quote ...); *after is the end of the value. */
static int sx_peek_int(const char *p, const char *end, int64_t *out, const char **after)
{
    size_t wraps = sx_peek_unquote(&p, end);
    const char *t = sx_token_end(p, end);
    if (t == p || sx_read_int(p, t, out) != 0)
        return -EINVAL;
    *after = sx_peek_close(t, end, wraps);
    return *after ? 0 : -EINVAL;
}

int sx_peek_seq(const char *text, size_t len, int64_t *out)
{
    if (!text)
        return -EINVAL;
    const char *end = text + len;
    const char *p = text;
    /* The reader takes (quote {...}) as the dict itself. */
    size_t wraps = sx_peek_unquote(&p, end);
    if (p >= end || *p != '{')
        return -EINVAL;
    p++;
    int found = 0;
    int64_t seq = 0;
    for (;;) {
        p = sx_skip_ws(p, end);
        if (p >= end)
            return -EINVAL;
        if (*p == '}')
            break;
        int is_seq;
        if (*p == ':') {
            const char *t = sx_token_end(p + 1, end);
            is_seq = t - p == 4 && memcmp(p + 1, "seq", 3) == 0;
            p = t;
        } else if (*p == '"') {
            /* No escape yields s, e or q: the raw bytes must be "seq". */
            const char *t = sx_peek_skip_string(p, end);
            if (!t)
                return -EINVAL;
            is_seq = t - p == 5 && memcmp(p + 1, "seq", 3) == 0;
            p = t;
        } else {
            return -EINVAL;
        }
        p = sx_skip_ws(p, end);
        if (p >= end || *p == '}')
            return -EINVAL;
        if (is_seq && !found) {
            if (sx_peek_int(p, end, &seq, &p) != 0)
                return -EINVAL;
            found = 1;
            /* The usual case ends the scan here. Inside (quote ...), the
             * rest must be read to see that the quote holds only the dict. */
            if (wraps == 0)
                break;
            continue;
        }
        p = sx_peek_skip_value(p, end);
        if (!p)
            return -EINVAL;
    }
    if (!found)
        return -EINVAL;
    if (wraps && !sx_peek_close(p + 1, end, wraps))
        return -EINVAL;
    *out = seq;
    return 0;
}
