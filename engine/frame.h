/*
 * frame.h -- LINE FRAMING, the format of every log line and every kv file.
 *
 *     PAYLOAD TAB CHECKSUM LF
 *
 * PAYLOAD is the canonical SX text of one value (engine/sx.h); it never holds
 * a raw LF or a raw TAB, because the serializer escapes both. CHECKSUM is the
 * 16 lowercase hex digits of XXH3-64 (seed 0) over the PAYLOAD bytes only.
 * Example (the trailer here is illustrative):
 *
 *     {:seq 1 :total 9.5}\t6b0f0d9c4e21a7f3\n
 *
 * A line is VALID if and only if
 *   F-1  it ends in LF, and
 *   F-2  its last TAB is followed by exactly 16 lowercase hex digits and the
 *        LF, and
 *   F-3  those digits equal XXH3-64 of the bytes before that TAB.
 * A line with no TAB at all is a LEGACY line, as the reference adapter wrote
 * it: readable, but unverified. A line of only spaces is BLANK (the reference
 * skipped those). Anything else is BAD (a TAB with a malformed trailer:
 * FRAME_BAD_FORMAT; digits that do not match: FRAME_BAD_SUM). Bytes after
 * the last LF form an INCOMPLETE line.
 *
 * A kv file holds exactly one line. The reference wrote kv files with no
 * trailer and no LF; frame_decode_whole reads those as LEGACY, unless they
 * start or end with a NUL byte. SX text never does (a raw NUL is written
 * only inside a string's quotes), but a file whose name and size a power
 * loss kept without its bytes reads as NULs, whole or in its first or
 * last sector (after a session without syncs, lock.h K-6; a lost last
 * sector takes a framed file's trailer with it), so such a file is BAD
 * (FRAME_BAD_FORMAT), never a value.
 */
#ifndef SXP_FRAME_H
#define SXP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_SUM_HEX 16                          /* hex digits of the checksum */
#define FRAME_TRAILER_LEN (1 + FRAME_SUM_HEX + 1) /* TAB, digits, LF */

enum frame_status {
    FRAME_OK = 0,     /* F-1..F-3 hold */
    FRAME_LEGACY,     /* no TAB: unverified */
    FRAME_BLANK,      /* only spaces (or nothing) before the LF */
    FRAME_BAD_FORMAT, /* a TAB, but no well-formed trailer */
    FRAME_BAD_SUM,    /* well-formed trailer, wrong checksum */
    FRAME_INCOMPLETE, /* no LF before the end of the buffer */
};

/* The longest line a reader holds in memory, its LF included. sxp writes
 * none longer than COMMIT_MAX_LINE (commit.h), but a legacy log, the
 * reference's, may hold longer ones. The engine's reads (logread.c) and
 * the checks of recovery and sxp-fsck (recovery/logscan.h) take this one
 * bound, so a check never calls good a line that a read then refuses. */
#define FRAME_LINE_READ_MAX ((size_t)64 << 20)

struct frame_line {
    const char *payload; /* points into the buffer */
    size_t payload_len;
    size_t line_len; /* bytes consumed, LF included (all of the rest if INCOMPLETE) */
    enum frame_status status;
};

/* XXH3-64 of the bytes, seed 0. */
uint64_t frame_sum(const void *bytes, size_t len);
/* Writes v as digits (an even number) lowercase hex digits, most
 * significant first. */
void frame_hex_put(uint64_t v, int digits, char *out);
/* Parses digits lowercase hex digits into *out: 0, or -1 if any is not
 * one (upper case included). */
int frame_hex_get(const char *in, int digits, uint64_t *out);
/* Writes PAYLOAD TAB CHECKSUM LF into out, which holds len +
 * FRAME_TRAILER_LEN bytes; returns the bytes written. payload and out may
 * be the same pointer (the trailer goes after the payload). */
size_t frame_encode(const char *payload, size_t len, char *out);
/* Writes only the trailer (TAB, 16 digits, LF) for the payload into out. */
void frame_trailer(const char *payload, size_t len, char out[FRAME_TRAILER_LEN]);
/* Decodes the line that starts at buf[0]; len > 0. */
void frame_next(const char *buf, size_t len, struct frame_line *out);
/* Decodes the line buf[0..n] whose LF the caller already found at buf[n]. */
void frame_line_at(const char *buf, size_t n, struct frame_line *out);
/* Decodes a whole kv file: one line, or a legacy payload without LF. */
void frame_decode_whole(const char *buf, size_t len, struct frame_line *out);
/* A short word for a status: "ok", "legacy", "blank", "bad trailer",
 * "checksum mismatch", "incomplete line". */
const char *frame_status_name(enum frame_status st);

#endif
