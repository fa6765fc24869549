/*
 * fuzz_frame.c -- the line framing reader (engine/frame.h) on arbitrary
 * buffers, read the way a log is read (frame_next, line after line) and the
 * way a kv file is read (frame_decode_whole).
 *
 * PROPERTIES, for any buffer B (libFuzzer's copy of the input is exactly
 * its size, so AddressSanitizer sees any read past the end):
 *   FFR-1  Iterating frame_next from B[0]: every line has 0 < line_len <=
 *          the bytes remaining, so the walk ends; its payload lies within
 *          the line; only the last line may be INCOMPLETE, and it is exactly
 *          when no LF is left.
 *   FFR-2  The status matches F-1..F-3 recomputed here: OK exactly when the
 *          byte 17 before the LF is a TAB, the 16 after it are lowercase hex
 *          and equal frame_sum of the payload (then the payload is the bytes
 *          before that TAB, and frame_encode of it gives the line back);
 *          BAD_SUM when the trailer is well formed but the sum differs;
 *          LEGACY when there is no TAB and not only spaces; BLANK when only
 *          spaces; BAD_FORMAT otherwise.
 *   FFR-3  frame_decode_whole(B): line_len == |B|, never INCOMPLETE, payload
 *          within B; OK exactly when B is one valid line; an unverified
 *          (LEGACY) B that starts or ends with a NUL is BAD_FORMAT (frame.h).
 *   FFR-4  Any B without an LF, framed with frame_encode, reads back with
 *          frame_next and frame_decode_whole as one OK line whose payload
 *          is B.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* 1 and *out when the 16 bytes are lowercase hex. */
static int fuzz_frame_hex(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < FRAME_SUM_HEX; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return 0;
        v = (v << 4) | d;
    }
    *out = v;
    return 1;
}

/* FFR-2 for the line line[0..n) whose LF (if any) is at line[n]. */
static void fuzz_frame_expect(const char *line, size_t n, const struct frame_line *l)
{
    uint64_t want = 0;
    int trailer = n >= FRAME_SUM_HEX + 1 && line[n - FRAME_SUM_HEX - 1] == '\t' &&
                  fuzz_frame_hex(line + n - FRAME_SUM_HEX, &want);
    int has_tab = memchr(line, '\t', n) != NULL;
    int spaces = 1;
    for (size_t i = 0; i < n; i++)
        spaces &= line[i] == ' ';

    if (trailer) {
        size_t plen = n - FRAME_SUM_HEX - 1;
        int ok = frame_sum(line, plen) == want;
        FUZZ_CHECKF(l->status == (ok ? FRAME_OK : FRAME_BAD_SUM), " status %d, want %s",
                    (int)l->status, ok ? "ok" : "bad sum");
        FUZZ_CHECK(l->payload == line && l->payload_len == plen);
        if (ok) {
            char *re = malloc(plen + FRAME_TRAILER_LEN);
            FUZZ_CHECK(re != NULL);
            FUZZ_CHECK(frame_encode(line, plen, re) == n + 1);
            FUZZ_CHECK(memcmp(re, line, n) == 0 && re[n] == '\n');
            free(re);
        }
    } else if (has_tab) {
        FUZZ_CHECKF(l->status == FRAME_BAD_FORMAT, " status %d, want bad format", (int)l->status);
    } else if (spaces) {
        FUZZ_CHECKF(l->status == FRAME_BLANK, " status %d, want blank", (int)l->status);
    } else {
        FUZZ_CHECKF(l->status == FRAME_LEGACY, " status %d, want legacy", (int)l->status);
    }
    if (l->status != FRAME_OK && l->status != FRAME_BAD_SUM)
        FUZZ_CHECK(l->payload == line && l->payload_len == n);
}

/* FFR-1, FFR-2 */
static void fuzz_frame_lines(const char *buf, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct frame_line l;
        size_t rest = size - off;
        memset(&l, 0xa5, sizeof(l));
        frame_next(buf + off, rest, &l);
        FUZZ_CHECKF(l.line_len > 0 && l.line_len <= rest, " line_len %zu of %zu", l.line_len, rest);
        FUZZ_CHECK(l.payload >= buf + off && l.payload_len <= l.line_len);
        FUZZ_CHECK(l.payload + l.payload_len <= buf + off + l.line_len);
        const char *lf = memchr(buf + off, '\n', rest);
        if (lf == NULL) {
            FUZZ_CHECK(l.status == FRAME_INCOMPLETE);
            FUZZ_CHECK(l.line_len == rest && l.payload == buf + off && l.payload_len == rest);
        } else {
            size_t n = (size_t)(lf - (buf + off));
            FUZZ_CHECK(l.line_len == n + 1);
            FUZZ_CHECK(l.status != FRAME_INCOMPLETE);
            fuzz_frame_expect(buf + off, n, &l);
        }
        FUZZ_CHECK(frame_status_name(l.status) != NULL);
        off += l.line_len;
    }
}

/* FFR-3 */
static void fuzz_frame_whole(const char *buf, size_t size)
{
    struct frame_line l;
    memset(&l, 0xa5, sizeof(l));
    frame_decode_whole(buf, size, &l);
    FUZZ_CHECK(l.line_len == size);
    FUZZ_CHECK(l.status != FRAME_INCOMPLETE);
    FUZZ_CHECK(l.payload == buf && l.payload_len <= size);
    const char *lf = size ? memchr(buf, '\n', size) : NULL;
    if (lf == NULL) {
        FUZZ_CHECK(l.status == FRAME_BAD_FORMAT || l.status == FRAME_BLANK ||
                   l.status == FRAME_LEGACY);
        FUZZ_CHECK(l.payload_len == size);
        int has_tab = size && memchr(buf, '\t', size) != NULL;
        int nul_end = size && (buf[0] == '\0' || buf[size - 1] == '\0');
        FUZZ_CHECK((has_tab || nul_end) == (l.status == FRAME_BAD_FORMAT));
        return;
    }
    size_t n = (size_t)(lf - buf);
    if (n + 1 != size) {
        FUZZ_CHECK(l.status == FRAME_BAD_FORMAT);
        return;
    }
    /* One line: as frame_next judges it, but a LEGACY one that starts or
     * ends with a NUL. */
    struct frame_line one;
    frame_next(buf, size, &one);
    if (one.status == FRAME_LEGACY && n > 0 && (buf[0] == '\0' || buf[n - 1] == '\0')) {
        FUZZ_CHECK(l.status == FRAME_BAD_FORMAT);
        return;
    }
    fuzz_frame_expect(buf, n, &l);
}

/* FFR-4 */
static void fuzz_frame_encode(const char *buf, size_t size)
{
    if (size > 0 && memchr(buf, '\n', size) != NULL)
        return;
    char *line = malloc(size + FRAME_TRAILER_LEN);
    FUZZ_CHECK(line != NULL);
    size_t n = frame_encode(buf, size, line);
    FUZZ_CHECK(n == size + FRAME_TRAILER_LEN);
    struct frame_line l;
    frame_next(line, n, &l);
    FUZZ_CHECK(l.status == FRAME_OK && l.line_len == n);
    FUZZ_CHECK(l.payload == line && l.payload_len == size && memcmp(line, buf, size) == 0);
    frame_decode_whole(line, n, &l);
    FUZZ_CHECK(l.status == FRAME_OK && l.payload_len == size);
    char trailer[FRAME_TRAILER_LEN];
    frame_trailer(buf, size, trailer);
    FUZZ_CHECK(memcmp(trailer, line + size, FRAME_TRAILER_LEN) == 0);
    free(line);
}

int fuzz_frame_one(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    fuzz_frame_lines(buf, size);
    fuzz_frame_whole(buf, size);
    fuzz_frame_encode(buf, size);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_frame_one(data, size);
}
#endif
