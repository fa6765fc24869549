/*
 * sx.h -- SX values inside the engine (the public face is in sxp.h).
 *
 * TEXT FORMAT (SPEC.md section 2), read by sx_parse, written by
 * sx_serialize:
 *
 *   nil | true | false
 *   INT     -?[0-9]+ within int64 (outside: an error, never a double)
 *   NUM     a finite double: %.Ng with the smallest N (1..17) that reads
 *           back to the same double; whole numbers below 1e15 in magnitude
 *           print as plain digits (and so read back as INT); -0.0 prints 0.
 *           When that shortest text has no '.' and no exponent (a whole
 *           number from 1e15 to 1e17), it is written in %e form with the
 *           same digits (1234567890123456 -> 1.234567890123456e+15), so it
 *           reads back as a NUM. Read: a text outside a double's range is
 *           an error, too large (1e400) or too small (1e-400, a nonzero
 *           mantissa that would read as 0)
 *   STR     "..." with \" \\ \n \r \t escaped, every other byte raw (NUL and
 *           non-UTF-8 included); the reader takes no other escape
 *   SYM     (quote name); a bare name is read as a symbol too
 *   KW      :name
 *   LIST    (list a b c), (list); a plain (a b c) is read as a list
 *   DICT    {:k1 v1 :k2 v2}: pairs sorted by the bytes of their text ":k v";
 *           a key that would not read back as one keyword is an error, and
 *           so is a key given twice
 *
 * TOKENS. Whitespace is any of space \t \n \v \f \r. A DELIMITER is
 * whitespace or one of ( ) { } ". A keyword's name, and a bare token, run
 * from their first byte to the next delimiter or the end of the text. A bare
 * token is nil, true or false; else, when it starts with a digit (after an
 * optional '-') or with '.' and a digit, a number (INT when it is all digits,
 * else a strtod number holding '.', 'e' or 'E', else an error); else a
 * symbol. (quote x) with exactly one x reads as x, (list ...) as a list, any
 * other (...) as a list of its items. A dict key is :name, or a "string"
 * that would read back as one keyword.
 *
 * A NAME READS BACK (as a keyword, or as a dict key) when it is not empty
 * and holds no delimiter. A symbol's name must also read back as a symbol:
 * not nil/true/false, not starting with ':', not looking like a number. The
 * serializer refuses other names (-EINVAL, kind "type").
 *
 * Lists and dicts nest at most SX_MAX_DEPTH deep, counting every ( and { of
 * the text (a symbol's (quote ...) included); deeper is -E2BIG, kind "limit",
 * both ways.
 *
 * Example: {:b (list 1 2.5 "x\ty") :a (quote s)} serializes as
 *          {:a (quote s) :b (list 1 2.5 "x\ty")}
 *
 * INVARIANTS
 *   SX-1  serialize(parse(serialize(v))) == serialize(v)
 *   SX-2  a serialized text holds no raw LF and no raw TAB
 *   SX-3  parse accepts exactly one value, with whitespace around it
 */
#ifndef SXP_SX_H
#define SXP_SX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sxp.h"

#define SX_MAX_DEPTH 256 /* nesting of ( and { in a text */

struct sx_pair {
    char *key; /* keyword name without ':', NUL-terminated; memory owned
                  by the dict (see value.c), never freed by others */
    size_t key_len;
    sxp_value *val; /* owned */
};

/* Nodes are made only by the constructors of value.c and by the functions
 * below, and freed only by sxp_value_free: value.c owns their memory layout
 * (a string's bytes share its node's allocation; a parsed list or dict may
 * hold its items, pairs, keys and leaf children in its own). A child is
 * never freed on its own, only through its container. Pairs never change
 * order. */
struct sxp_value {
    enum sxp_type type;
    union {
        int b;     /* SXP_BOOL */
        int64_t i; /* SXP_INT */
        double d;  /* SXP_NUM */
        struct {
            char *p; /* NUL-terminated, inside the node's allocation */
            size_t len;
        } s; /* SXP_STR, SXP_SYM, SXP_KW */
        struct {
            sxp_value **items;
            size_t len, cap;
        } list; /* SXP_LIST */
        struct {
            struct sx_pair *pairs; /* insertion order */
            size_t len, cap;
        } dict; /* SXP_DICT */
    } u;
};

/* Same as sxp_value_parse. */
int sx_parse(const char *text, size_t len, sxp_value **out, struct sxp_err *err);

/* Memory a parse may put its outermost list or dict node in, instead of a
 * malloc of its own, so that a scan parsing one event after another makes
 * no allocation for a flat event. It holds one node at a time: release the
 * last one (sx_value_free_in) before the next parse. Zero-initialise it;
 * sx_scratch_free frees it. */
struct sx_scratch {
    void *buf;
    size_t cap;
};
/* sx_parse, with the outermost list or dict node in sc. */
int sx_parse_in(const char *text, size_t len, struct sx_scratch *sc, sxp_value **out,
                struct sxp_err *err);
/* sxp_value_free for a value that may lie in sc (which may be NULL). */
void sx_value_free_in(sxp_value *v, const struct sx_scratch *sc);
void sx_scratch_free(struct sx_scratch *sc);
/* Appends the canonical text of v to out. -EINVAL for NaN/inf or a bad key. */
int sx_serialize(const sxp_value *v, struct buf *out, struct sxp_err *err);
/* sx_serialize of a v that will sit inside `outer` open ( or { of another
 * text (an event inside a served read's (ok (list ...))): -E2BIG, kind
 * "limit", when that text would nest deeper than SX_MAX_DEPTH. The message
 * names v as `what` and says that `wrap` (the text around it, "... takes
 * the last 2") takes the outer levels; both NULL: sx_serialize's own. */
int sx_serialize_nested(const sxp_value *v, int outer, const char *what, const char *wrap,
                        struct buf *out, struct sxp_err *err);
/* The integer :seq of an event. -EINVAL (kind "type") when ev is not a dict
 * or has no :seq or a :seq that is not an integer. */
int sx_event_seq(const sxp_value *ev, int64_t *out, struct sxp_err *err);
/* Reads only the :seq of a serialized event, without building the value:
 * 0 and *out, or -EINVAL if the text is not a dict with an integer :seq at
 * the top level. Used by read-range's bisection and by recovery. */
int sx_peek_seq(const char *text, size_t len, int64_t *out);

/* Node constructors for the parser (value.c). Each returns NULL when out of
 * memory, and then ownership of what it was given stays with the caller. */

/* A child of a list or dict being read, before its container exists: a node
 * already built, or a LEAF that the container's own allocation will hold. */
struct sx_item {
    sxp_value *node;       /* a built node (owned), or NULL for the leaf */
    struct sxp_value leaf; /* nil, bool, int, num, or a str/sym/kw whose
                              u.s.p points at len bytes the caller keeps
                              until the container is made */
};

/* A pair of a dict being read. */
struct sx_entry {
    const char *key; /* the caller's bytes, copied into the dict */
    size_t key_len;
    struct sx_item item;
};

/* A new STR, SYM or KW node with room for len bytes (NUL at [len] already
 * written); the caller fills the bytes. */
sxp_value *sx_str_alloc(enum sxp_type type, size_t len);
/* A new node for one item: its node, or a standalone copy of its leaf. */
sxp_value *sx_item_node(const struct sx_item *item);
/* A new list holding items[0..n); their nodes move into it. Its node lies
 * in sc when sc is not NULL. */
sxp_value *sx_list_take(const struct sx_item *items, size_t n, struct sx_scratch *sc);
/* A new dict holding pairs[0..n) in that order; the keys are copied, the
 * nodes move into it. The caller guarantees the keys are distinct. Its
 * node lies in sc when sc is not NULL. */
sxp_value *sx_dict_take(const struct sx_entry *pairs, size_t n, struct sx_scratch *sc);

#endif
