/*
 * frame.c -- line framing; the format and the validity rule are in frame.h.
 *
 * Logs are read at hundreds of megabytes a second, so the per-line work is
 * kept to one memchr for the LF, one XXH3 pass over the payload and a table
 * lookup per trailer digit. The common (valid) line never scans for a TAB:
 * when the byte 17 places before the LF is a TAB and the 16 bytes after it
 * are lowercase hex digits, that TAB is the line's last TAB (hex digits hold
 * no TAB), so F-2 holds. Only lines failing that fast test are scanned with
 * memrchr to tell LEGACY and BLANK from BAD_FORMAT.
 *
 * What frame_line.payload covers, by status:
 *   FRAME_OK, FRAME_BAD_SUM   the bytes before the trailer's TAB
 *   FRAME_LEGACY, FRAME_BLANK the whole line without its LF
 *   FRAME_BAD_FORMAT          the whole line without its LF (frame_next), or
 *                             the whole buffer (frame_decode_whole)
 *   FRAME_INCOMPLETE          all the remaining bytes
 */
#include "frame.h"

#include <assert.h>
#include <string.h>

#include <xxhash.h>

/* "00".."ff": two lowercase hex digits for each byte value. */
static const char frame_hex_pairs[512] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* One more than the value of a lowercase hex digit; 0 for any other byte. */
static const unsigned char frame_hex_value[256] = {
    ['0'] = 1, ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

uint64_t frame_sum(const void *bytes, size_t len)
{
    return XXH3_64bits(bytes, len);
}

void frame_hex_put(uint64_t v, int digits, char *out)
{
    for (int i = digits / 2; i-- > 0;) {
        memcpy(out + 2 * i, frame_hex_pairs + 2 * (v & 0xff), 2);
        v >>= 8;
    }
}

/* A bad digit's entry is 0, so entry - 1 wraps and sets bits above 0xf. */
int frame_hex_get(const char *in, int digits, uint64_t *out)
{
    uint64_t v = 0;
    unsigned bad = 0;
    for (int i = 0; i < digits; i++) {
        unsigned d = frame_hex_value[(unsigned char)in[i]] - 1u;
        bad |= d;
        v = (v << 4) | (d & 0x0fu);
    }
    if (bad & ~0x0fu)
        return -1;
    *out = v;
    return 0;
}

void frame_trailer(const char *payload, size_t len, char out[FRAME_TRAILER_LEN])
{
    out[0] = '\t';
    frame_hex_put(frame_sum(payload, len), FRAME_SUM_HEX, out + 1);
    out[FRAME_TRAILER_LEN - 1] = '\n';
}

size_t frame_encode(const char *payload, size_t len, char *out)
{
    char trailer[FRAME_TRAILER_LEN];
    /* The trailer is computed before the copy, so any overlap of payload
     * and out is safe. */
    frame_trailer(payload, len, trailer);
    if (out != payload)
        memmove(out, payload, len);
    memcpy(out + len, trailer, FRAME_TRAILER_LEN);
    return len + FRAME_TRAILER_LEN;
}

/* 1 if the n bytes are all spaces (or n is 0). */
static int frame_all_spaces(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ')
            return 0;
    return 1;
}

/* Classifies the line buf[0..n), whose LF is at buf[n]. */
static void frame_classify(const char *buf, size_t n, struct frame_line *out)
{
    out->payload = buf;
    out->payload_len = n;
    if (n >= FRAME_SUM_HEX + 1 && buf[n - FRAME_SUM_HEX - 1] == '\t') {
        /* The common case first: the digits we would write are the ones
         * there (cheaper than parsing them). Else tell a wrong sum from a
         * malformed trailer. */
        size_t plen = n - FRAME_SUM_HEX - 1;
        char hex[FRAME_SUM_HEX];
        uint64_t sum = frame_sum(buf, plen), want;
        frame_hex_put(sum, FRAME_SUM_HEX, hex);
        if (memcmp(hex, buf + plen + 1, FRAME_SUM_HEX) == 0) {
            out->payload_len = plen;
            out->status = FRAME_OK;
        } else if (frame_hex_get(buf + plen + 1, FRAME_SUM_HEX, &want) == 0) {
            out->payload_len = plen;
            out->status = FRAME_BAD_SUM;
        } else {
            out->status = FRAME_BAD_FORMAT;
        }
        return;
    }
    if (memrchr(buf, '\t', n) != NULL)
        out->status = FRAME_BAD_FORMAT;
    else if (frame_all_spaces(buf, n))
        out->status = FRAME_BLANK;
    else
        out->status = FRAME_LEGACY;
}

void frame_next(const char *buf, size_t len, struct frame_line *out)
{
    assert(len > 0);
    const char *lf = memchr(buf, '\n', len);
    if (lf == NULL) {
        out->payload = buf;
        out->payload_len = len;
        out->line_len = len;
        out->status = FRAME_INCOMPLETE;
        return;
    }
    frame_line_at(buf, (size_t)(lf - buf), out);
}

void frame_line_at(const char *buf, size_t n, struct frame_line *out)
{
    out->line_len = n + 1;
    frame_classify(buf, n, out);
}

/*
 * A kv file is replaced atomically (temp file, fdatasync, rename), so it is
 * never torn: this never returns FRAME_INCOMPLETE. Without an LF the file is
 * a reference-written value (LEGACY, or BLANK if it holds only spaces or
 * nothing) unless it holds a TAB, which no serializer writes raw
 * (BAD_FORMAT). With an LF it must be exactly one line. An unverified
 * (LEGACY) one that starts or ends with a NUL is BAD_FORMAT too (frame.h).
 * line_len is always len.
 */
void frame_decode_whole(const char *buf, size_t len, struct frame_line *out)
{
    const char *lf = len > 0 ? memchr(buf, '\n', len) : NULL;
    out->line_len = len;
    if (lf == NULL) {
        out->payload = buf;
        out->payload_len = len;
        if (len > 0 && memchr(buf, '\t', len) != NULL)
            out->status = FRAME_BAD_FORMAT;
        else if (frame_all_spaces(buf, len))
            out->status = FRAME_BLANK;
        else
            out->status = FRAME_LEGACY;
    } else if ((size_t)(lf - buf) + 1 != len) {
        out->payload = buf;
        out->payload_len = len;
        out->status = FRAME_BAD_FORMAT;
        return;
    } else {
        frame_classify(buf, (size_t)(lf - buf), out);
    }
    if (out->status == FRAME_LEGACY && out->payload_len > 0 &&
        (out->payload[0] == '\0' || out->payload[out->payload_len - 1] == '\0'))
        out->status = FRAME_BAD_FORMAT;
}

const char *frame_status_name(enum frame_status st)
{
    switch (st) {
    case FRAME_OK:
        return "ok";
    case FRAME_LEGACY:
        return "legacy";
    case FRAME_BLANK:
        return "blank";
    case FRAME_BAD_FORMAT:
        return "bad trailer";
    case FRAME_BAD_SUM:
        return "checksum mismatch";
    case FRAME_INCOMPLETE:
        return "incomplete line";
    }
    return "unknown";
}
