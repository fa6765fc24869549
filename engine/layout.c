/*
 * layout.c -- names, paths, temp files and .seq text; the tree, the naming
 * rules and L-1..L-3 are in layout.h.
 *
 * Sizes, worked once: a stream name of LAYOUT_STREAM_MAX (125) bytes is 250
 * hex digits, 254 bytes with ".log" or ".seq"; a kv key of LAYOUT_KEY_MAX
 * (127) bytes is 254 hex digits. A temp name "tmp.<pid>.<n>.tmp" is at most
 * 4 + 10 + 1 + 20 + 4 = 39 bytes. All stay within NAME_MAX (255).
 *
 * Every path builder checks the whole length before writing, so a path that
 * would not fit PATH_MAX (NUL included) is -ENAMETOOLONG and never a
 * truncated path that names some other file.
 */
#include "layout.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cid.h"
#include "err.h"

/* "00".."ff": two lowercase hex digits for each byte value. */
static const char layout_hex_pairs[512] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* One more than the value of a lowercase hex digit; 0 for any other byte. */
static const unsigned char layout_hex_value[256] = {
    ['0'] = 1, ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* Numbers the temp files of this process; with the pid, names are unique. */
static _Atomic uint64_t layout_tmp_counter;

int layout_check_name(const char *what, const char *name, size_t len, size_t max,
                      struct sxp_err *err)
{
    (void)name; /* any bytes are allowed; only the length is ruled */
    if (len == 0)
        return err_setk(err, -EINVAL, "name", "%s name is empty", what);
    if (len > max)
        return err_setk(err, -EINVAL, "name", "%s name is %zu bytes; the limit is %zu", what, len,
                        max);
    return 0;
}

void layout_hex_encode(const char *name, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        memcpy(out + 2 * i, layout_hex_pairs + (size_t)2 * (unsigned char)name[i], 2);
    out[2 * len] = '\0';
}

int layout_hex_decode(const char *hex, size_t hex_len, char *out, size_t *out_len)
{
    if (hex_len % 2 != 0)
        return -EINVAL;
    for (size_t i = 0; i < hex_len; i += 2) {
        unsigned hi = layout_hex_value[(unsigned char)hex[i]];
        unsigned lo = layout_hex_value[(unsigned char)hex[i + 1]];
        if (hi == 0 || lo == 0)
            return -EINVAL;
        out[i / 2] = (char)(((hi - 1) << 4) | (lo - 1));
    }
    *out_len = hex_len / 2;
    return 0;
}

/* A path under construction in a PATH_MAX buffer. */
struct layout_pb {
    char *out;
    size_t len; /* bytes written, the NUL not counted */
};

/* Appends n bytes; -ENAMETOOLONG if they and the NUL would not fit. */
static int layout_pb_add(struct layout_pb *pb, const char *s, size_t n)
{
    if (n >= PATH_MAX - pb->len)
        return -ENAMETOOLONG;
    memcpy(pb->out + pb->len, s, n);
    pb->len += n;
    pb->out[pb->len] = '\0';
    return 0;
}

/* Starts a path with root and a separating '/' (none after an empty root or
 * one that already ends in '/'). */
static int layout_pb_root(struct layout_pb *pb, const char *root, char *out)
{
    size_t n = strlen(root);
    pb->out = out;
    pb->len = 0;
    out[0] = '\0';
    int rc = layout_pb_add(pb, root, n);
    if (rc == 0 && n > 0 && root[n - 1] != '/')
        rc = layout_pb_add(pb, "/", 1);
    return rc;
}

/* Appends the hex of name[0..len). */
static int layout_pb_hex(struct layout_pb *pb, const char *name, size_t len)
{
    if (len >= PATH_MAX || 2 * len >= PATH_MAX - pb->len)
        return -ENAMETOOLONG;
    layout_hex_encode(name, len, pb->out + pb->len);
    pb->len += 2 * len;
    return 0;
}

int layout_path(const char *root, const char *rel, char *out)
{
    struct layout_pb pb;
    int rc = layout_pb_root(&pb, root, out);
    if (rc == 0)
        rc = layout_pb_add(&pb, rel, strlen(rel));
    return rc;
}

int layout_stream_path(const char *root, const char *name, size_t len, const char *suffix,
                       char *out)
{
    struct layout_pb pb;
    int rc = layout_pb_root(&pb, root, out);
    if (rc == 0)
        rc = layout_pb_add(&pb, "streams/", 8);
    if (rc == 0)
        rc = layout_pb_hex(&pb, name, len);
    if (rc == 0)
        rc = layout_pb_add(&pb, suffix, strlen(suffix));
    return rc;
}

int layout_kv_path(const char *root, const char *key, size_t len, char *out)
{
    struct layout_pb pb;
    int rc = layout_pb_root(&pb, root, out);
    if (rc == 0)
        rc = layout_pb_add(&pb, "kv/", 3);
    if (rc == 0)
        rc = layout_pb_hex(&pb, key, len);
    return rc;
}

/* CID-1 is enforced here as well as by the callers: a string that is not a
 * well-formed cid is -EINVAL and never becomes a path. */
int layout_blob_path(const char *root, const char *cid, char *out)
{
    size_t n = strnlen(cid, SXP_CID_LEN + 1);
    if (!cid_valid(cid, n))
        return -EINVAL;
    struct layout_pb pb;
    int rc = layout_pb_root(&pb, root, out);
    if (rc == 0)
        rc = layout_pb_add(&pb, "blobs/", 6);
    if (rc == 0)
        rc = layout_pb_add(&pb, cid, n);
    return rc;
}

int layout_tmp_path(const char *dir, char *out)
{
    char name[64];
    uint64_t n = atomic_fetch_add_explicit(&layout_tmp_counter, 1, memory_order_relaxed) + 1;
    int w = snprintf(name, sizeof(name), "tmp.%ld.%" PRIu64 ".tmp", (long)getpid(), n);
    if (w < 0 || (size_t)w >= sizeof(name))
        return -ENAMETOOLONG;
    return layout_path(dir, name, out);
}

int layout_is_tmp(const char *fname)
{
    size_t n = strlen(fname);
    return n >= 4 && memcmp(fname + n - 4, ".tmp", 4) == 0;
}

int layout_format_version(const char *text, size_t len)
{
    if (len == strlen(LAYOUT_FORMAT_TEXT) && memcmp(text, LAYOUT_FORMAT_TEXT, len) == 0)
        return 2;
    if (len == strlen(LAYOUT_FORMAT_TEXT_V1) && memcmp(text, LAYOUT_FORMAT_TEXT_V1, len) == 0)
        return 1;
    return 0;
}

enum layout_kind layout_classify_stream_file(const char *fname, char *out, size_t *out_len)
{
    size_t n = strlen(fname);
    *out_len = 0;
    if (layout_is_tmp(fname))
        return LAYOUT_TMP;
    if (n < 4)
        return LAYOUT_FOREIGN;
    enum layout_kind kind;
    if (memcmp(fname + n - 4, ".log", 4) == 0)
        kind = LAYOUT_LOG;
    else if (memcmp(fname + n - 4, ".seq", 4) == 0)
        kind = LAYOUT_SEQ;
    else
        return LAYOUT_FOREIGN;
    size_t stem = n - 4;
    if (stem < 2 || stem > (size_t)2 * LAYOUT_STREAM_MAX)
        return LAYOUT_FOREIGN;
    size_t len;
    if (layout_hex_decode(fname, stem, out, &len) != 0) {
        *out_len = 0;
        return LAYOUT_FOREIGN;
    }
    *out_len = len;
    return kind;
}

static int layout_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int layout_seq_torn_only(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!(c >= '0' && c <= '9') && c != '-' && c != '\0' && !layout_is_space(c))
            return 0;
    }
    return 1;
}

/* Decimal digits, an optional leading '-', nothing else: the text
 * layout_seq_format writes (and the reference's string_of_int). */
int layout_seq_parse(const char *text, size_t len, int64_t *out)
{
    size_t i = 0;
    while (i < len && layout_is_space(text[i]))
        i++;
    while (len > i && layout_is_space(text[len - 1]))
        len--;
    int neg = 0;
    if (i < len && text[i] == '-') {
        neg = 1;
        i++;
    }
    if (i == len)
        return -EINVAL;
    /* Accumulate the magnitude unsigned; INT64_MIN's is one past INT64_MAX. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; i < len; i++) {
        char c = text[i];
        if (c < '0' || c > '9')
            return -EINVAL;
        unsigned d = (unsigned)(c - '0');
        if (v > (limit - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

size_t layout_seq_format(int64_t n, char out[LAYOUT_SEQ_MAX_TEXT])
{
    int w = snprintf(out, LAYOUT_SEQ_MAX_TEXT, "%" PRId64, n);
    return (size_t)w; /* at most 20 characters, so it always fits */
}
