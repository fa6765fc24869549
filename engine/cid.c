/*
 * cid.c -- blob ids; the format and rule CID-1 are in cid.h.
 *
 * The 36 binary bytes (01 55 12 20, then the digest) are 288 bits; base32
 * spends 5 bits a character, so they take 58 characters, the last of which
 * carries 3 data bits and 2 pad bits that must be zero. With the prefix 'b'
 * that makes SXP_CID_LEN (59). The fixed header makes every cid start with
 * "bafkrei".
 */
#include "cid.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/sha.h>

#include "err.h"

#define CID_HEADER_LEN 4
#define CID_DIGEST_LEN 32
#define CID_BIN_LEN (CID_HEADER_LEN + CID_DIGEST_LEN)    /* 36 */
#define CID_B32_LEN (SXP_CID_LEN - 1)                    /* 58 */
#define CID_PAD_BITS (CID_B32_LEN * 5 - CID_BIN_LEN * 8) /* 2 */

_Static_assert(CID_B32_LEN * 5 >= CID_BIN_LEN * 8 && CID_PAD_BITS < 5,
               "SXP_CID_LEN must be the unpadded base32 length of 36 bytes");

/* CIDv1, codec raw, multihash sha2-256 of 32 bytes. */
static const unsigned char cid_header[CID_HEADER_LEN] = {0x01, 0x55, 0x12, 0x20};

/* RFC 4648 base32, lower case. */
static const char cid_b32_alphabet[32] = "abcdefghijklmnopqrstuvwxyz234567";

/* One more than a character's base32 value; 0 for any other byte. */
static const unsigned char cid_b32_value[256] = {
    ['a'] = 1,  ['b'] = 2,  ['c'] = 3,  ['d'] = 4,  ['e'] = 5,  ['f'] = 6,  ['g'] = 7,  ['h'] = 8,
    ['i'] = 9,  ['j'] = 10, ['k'] = 11, ['l'] = 12, ['m'] = 13, ['n'] = 14, ['o'] = 15, ['p'] = 16,
    ['q'] = 17, ['r'] = 18, ['s'] = 19, ['t'] = 20, ['u'] = 21, ['v'] = 22, ['w'] = 23, ['x'] = 24,
    ['y'] = 25, ['z'] = 26, ['2'] = 27, ['3'] = 28, ['4'] = 29, ['5'] = 30, ['6'] = 31, ['7'] = 32,
};

/* Base32 of the 36 bytes into out[0..58), most significant bits first. */
static void cid_b32_encode(const unsigned char in[CID_BIN_LEN], char out[CID_B32_LEN])
{
    uint32_t acc = 0; /* holds at most 12 pending bits */
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < CID_BIN_LEN; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = cid_b32_alphabet[(acc >> bits) & 31];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = cid_b32_alphabet[(acc << (5 - bits)) & 31];
}

/* Decodes 58 base32 characters into the 36 bytes; 0, or -EINVAL on a
 * character outside the alphabet or non-zero pad bits. */
static int cid_b32_decode(const char in[CID_B32_LEN], unsigned char out[CID_BIN_LEN])
{
    uint32_t acc = 0; /* holds at most 12 pending bits */
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < CID_B32_LEN; i++) {
        unsigned v = cid_b32_value[(unsigned char)in[i]];
        if (v == 0)
            return -EINVAL;
        acc = (acc << 5) | (v - 1);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* What is left is the pad: exactly CID_PAD_BITS bits, all zero. */
    if (o != CID_BIN_LEN || bits != CID_PAD_BITS || acc != 0)
        return -EINVAL;
    return 0;
}

void cid_of(const void *bytes, size_t len, char out[SXP_CID_LEN + 1])
{
    unsigned char bin[CID_BIN_LEN];
    memcpy(bin, cid_header, CID_HEADER_LEN);
    SHA256(bytes, len, bin + CID_HEADER_LEN);
    out[0] = 'b';
    cid_b32_encode(bin, out + 1);
    out[SXP_CID_LEN] = '\0';
}

/* Decodes a cid of len characters into its 36 bytes; 0 or -EINVAL (CID-1). */
static int cid_decode(const char *s, size_t len, unsigned char bin[CID_BIN_LEN])
{
    if (s == NULL || len != SXP_CID_LEN || s[0] != 'b')
        return -EINVAL;
    if (cid_b32_decode(s + 1, bin) != 0)
        return -EINVAL;
    if (memcmp(bin, cid_header, CID_HEADER_LEN) != 0)
        return -EINVAL;
    return 0;
}

int cid_valid(const char *s, size_t len)
{
    unsigned char bin[CID_BIN_LEN];
    return cid_decode(s, len, bin) == 0;
}

int cid_check(const char *cid, struct sxp_err *err)
{
    if (cid == NULL)
        return err_setk(err, -EINVAL, "cid", "no cid (NULL)");
    /* A string longer than a cid is as bad as a short one; look no further. */
    if (!cid_valid(cid, strnlen(cid, SXP_CID_LEN + 1)))
        return err_setk(err, -EINVAL, "cid", "not a well-formed cid: \"%.80s\"", cid);
    return 0;
}

int cid_digest(const char *cid, unsigned char out[32])
{
    unsigned char bin[CID_BIN_LEN];
    if (cid == NULL)
        return -EINVAL;
    /* A string longer than a cid is as bad as a short one; look no further. */
    if (cid_decode(cid, strnlen(cid, SXP_CID_LEN + 1), bin) != 0)
        return -EINVAL;
    memcpy(out, bin + CID_HEADER_LEN, CID_DIGEST_LEN);
    return 0;
}

SXP_API void sxp_cid_of(const void *bytes, size_t len, char out_cid[SXP_CID_LEN + 1])
{
    cid_of(bytes, len, out_cid);
}
