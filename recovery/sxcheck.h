/*
 * sxcheck.h -- is this payload an event? A fast, non-allocating check of a
 * log line's SX text, used where whole logs are read (recovery's tail scan,
 * sxp-fsck).
 *
 * The verdict is always sx_parse's (engine/sx.h): sxcheck only makes the
 * common case cheap. A fast path walks the canonical text that sx_serialize
 * writes (single spaces, dict pairs in sorted order, the escapes \" \\ \n
 * \r \t, plain keyword and symbol characters, integers without leading
 * zeros, doubles with at most two exponent digits) without building a
 * value. Whatever the fast path does not recognise, it hands to sx_parse and
 * sx_event_seq, so:
 *
 *   SXC-1  sxcheck_event returns SXCHECK_EVENT with seq s exactly when
 *          sx_parse accepts the text and sx_event_seq gives s;
 *   SXCHECK_NOT_EVENT exactly when sx_parse accepts it and sx_event_seq
 *          refuses it; SXCHECK_UNPARSABLE exactly when sx_parse refuses it.
 *
 * tests/test_recover.c checks SXC-1 against sx_parse on generated values
 * and on damaged texts.
 */
#ifndef SXP_SXCHECK_H
#define SXP_SXCHECK_H

#include <stddef.h>
#include <stdint.h>

enum sxcheck_verdict {
    SXCHECK_EVENT = 0,  /* a dict with an integer :seq */
    SXCHECK_NOT_EVENT,  /* a value, but not a dict with an integer :seq */
    SXCHECK_UNPARSABLE, /* not one SX value */
    SXCHECK_NOMEM,      /* the fallback ran out of memory: no verdict */
};

/* Classifies text[0..len); *out_seq is set for SXCHECK_EVENT. Never
 * allocates on the fast path; the fallback may, and out of memory it
 * says so (SXCHECK_NOMEM): a good line must never read as damage because
 * memory ran short, where recovery would refuse it and sxp-fsck -y move
 * it out. */
enum sxcheck_verdict sxcheck_event(const char *text, size_t len, int64_t *out_seq);

/* As sxcheck_event for any value (a kv file's payload): 1 when sx_parse
 * accepts it, 0 when it refuses it, -ENOMEM when it ran out of memory. */
int sxcheck_value(const char *text, size_t len);

/* Only the fast path: 1 when it recognised the text (and then *out_verdict
 * and *out_seq hold), 0 when it would defer to sx_parse. For tests. */
int sxcheck_fast(const char *text, size_t len, enum sxcheck_verdict *out_verdict, int64_t *out_seq);

#endif
