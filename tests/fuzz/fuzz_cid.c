/*
 * fuzz_cid.c -- the cid validator (engine/cid.h) on arbitrary bytes: a cid
 * comes from any client (blob/get, blob/has?) and from file names in
 * blobs/, and one that passes becomes part of a path.
 *
 * This file encodes cids on its own, from RFC 4648 section 6 (base32,
 * alphabet a-z 2-7, lower case here, 5 bits a character from the most
 * significant end, the last character's unused low bits zero, no '='), so
 * that cid.c is checked against a second reading of the rule.
 *
 * PROPERTIES, for any input B:
 *   FCI-1  cid_valid(B) accepts exactly what this file's own decoder
 *          accepts: 59 bytes, 'b', 58 base32 characters whose 290 bits are
 *          the header 01 55 12 20, 32 digest bytes and 2 zero pad bits.
 *   FCI-2  When it accepts: cid_digest succeeds on the NUL-terminated copy,
 *          and encoding the header and that digest here gives B back. No
 *          byte of B is '/', '.' or upper case (it can be a path).
 *   FCI-3  cid_digest on the NUL-terminated copy of B succeeds exactly when
 *          cid_valid accepts B's bytes up to its first NUL.
 *   FCI-4  Taking B's first 32 bytes (zero-padded) as a digest, the cid
 *          encoded here is accepted by cid_valid, cid_digest gives the
 *          digest back, and layout_blob_path accepts it; and cid_of of B
 *          gives a cid that cid_valid accepts.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "layout.h"

#define FUZZ_CID_BIN 36

static const unsigned char fuzz_cid_header[4] = {0x01, 0x55, 0x12, 0x20};

/* RFC 4648 base32 (lower case, unpadded) of header + digest, with 'b'. */
static void fuzz_cid_encode(const unsigned char digest[32], char out[SXP_CID_LEN + 1])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char bin[FUZZ_CID_BIN];
    memcpy(bin, fuzz_cid_header, 4);
    memcpy(bin + 4, digest, 32);
    out[0] = 'b';
    for (size_t c = 0; c < SXP_CID_LEN - 1; c++) {
        /* Character c holds bits [5c, 5c + 5) of the bit string. */
        unsigned v = 0;
        for (size_t k = 0; k < 5; k++) {
            size_t bit = 5 * c + k;
            unsigned b = bit < 8 * FUZZ_CID_BIN ? (bin[bit / 8] >> (7 - bit % 8)) & 1u : 0;
            v = (v << 1) | b;
        }
        out[1 + c] = alphabet[v];
    }
    out[SXP_CID_LEN] = '\0';
}

/* 1 and the digest when s[0..len) is a cid by this file's reading. */
static int fuzz_cid_decode(const char *s, size_t len, unsigned char digest[32])
{
    unsigned char bin[FUZZ_CID_BIN + 1];
    if (len != SXP_CID_LEN || s[0] != 'b')
        return 0;
    memset(bin, 0, sizeof(bin));
    for (size_t c = 0; c < SXP_CID_LEN - 1; c++) {
        char ch = s[1 + c];
        unsigned v;
        if (ch >= 'a' && ch <= 'z')
            v = (unsigned)(ch - 'a');
        else if (ch >= '2' && ch <= '7')
            v = (unsigned)(ch - '2') + 26;
        else
            return 0;
        for (size_t k = 0; k < 5; k++) {
            size_t bit = 5 * c + k;
            unsigned b = (v >> (4 - k)) & 1u;
            if (bit >= 8 * FUZZ_CID_BIN) {
                if (b)
                    return 0; /* a pad bit that is not zero */
                continue;
            }
            bin[bit / 8] |= (unsigned char)(b << (7 - bit % 8));
        }
    }
    if (memcmp(bin, fuzz_cid_header, 4) != 0)
        return 0;
    memcpy(digest, bin + 4, 32);
    return 1;
}

int fuzz_cid_one(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    unsigned char mine[32], theirs[32];
    char re[SXP_CID_LEN + 1];

    /* FCI-1 */
    int valid = cid_valid(s, size);
    int ref = fuzz_cid_decode(s, size, mine);
    FUZZ_CHECKF(valid == ref, " cid_valid says %d, RFC 4648 says %d", valid, ref);

    char *z = malloc(size + 1);
    FUZZ_CHECK(z != NULL);
    memcpy(z, s, size);
    z[size] = '\0';

    /* FCI-2 */
    if (valid) {
        FUZZ_CHECK(size == SXP_CID_LEN);
        FUZZ_CHECK(cid_digest(z, theirs) == 0);
        FUZZ_CHECK(memcmp(mine, theirs, 32) == 0);
        fuzz_cid_encode(theirs, re);
        FUZZ_CHECK(memcmp(re, s, SXP_CID_LEN) == 0);
        for (size_t i = 0; i < size; i++)
            FUZZ_CHECK(s[i] != '/' && s[i] != '.' && !(s[i] >= 'A' && s[i] <= 'Z'));
    }

    /* FCI-3 */
    size_t zlen = strlen(z);
    int dig = cid_digest(z, theirs) == 0;
    FUZZ_CHECKF(dig == cid_valid(z, zlen), " cid_digest %d, cid_valid of its C string %d", dig,
                cid_valid(z, zlen));
    free(z);

    /* FCI-4 */
    unsigned char digest[32];
    memset(digest, 0, sizeof(digest));
    if (size > 0)
        memcpy(digest, data, size < 32 ? size : 32);
    fuzz_cid_encode(digest, re);
    FUZZ_CHECKF(cid_valid(re, SXP_CID_LEN), " a well-formed cid refused: %s", re);
    FUZZ_CHECK(cid_digest(re, theirs) == 0 && memcmp(theirs, digest, 32) == 0);
    char path[PATH_MAX];
    FUZZ_CHECK(layout_blob_path("/r", re, path) == 0);
    FUZZ_CHECK(strcmp(path + 9, re) == 0 && memcmp(path, "/r/blobs/", 9) == 0);
    char of[SXP_CID_LEN + 1];
    cid_of(data, size, of);
    FUZZ_CHECK(strlen(of) == SXP_CID_LEN && cid_valid(of, SXP_CID_LEN));
    FUZZ_CHECK(strncmp(of, "bafkrei", 7) == 0);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_cid_one(data, size);
}
#endif
