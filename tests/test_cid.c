/*
 * test_cid.c -- blob ids (engine/cid.h): the known empty-input cid, cids
 * checked against an independent computation (OpenSSL's EVP interface and
 * a bit-by-bit base32 encoder written here), and CID-1's strictness. The
 * randomised test prints its seed; pass --seed N to repeat a run.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cid.h"

#define TEST_EMPTY_CID "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

static uint64_t test_seed;

/* SHA-256 through EVP, not the SHA256() call cid.c uses. */
static void test_sha256(const void *bytes, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(bytes, len, out, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
}

/* RFC 4648 base32, lower case, no padding, one bit at a time. */
static void test_base32(const unsigned char *in, size_t len, char *out)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t nbits = len * 8;
    size_t o = 0;
    for (size_t bit = 0; bit < nbits; bit += 5) {
        unsigned v = 0;
        for (size_t k = 0; k < 5; k++) {
            size_t b = bit + k;
            unsigned one = b < nbits ? (in[b / 8] >> (7 - b % 8)) & 1u : 0u;
            v = (v << 1) | one;
        }
        out[o++] = alphabet[v];
    }
    out[o] = '\0';
}

/* "b" and the base32 of the four header bytes and a digest. */
static void test_cid_from(const unsigned char header[4], const unsigned char digest[32],
                          char out[SXP_CID_LEN + 1])
{
    unsigned char bin[36];
    memcpy(bin, header, 4);
    memcpy(bin + 4, digest, 32);
    out[0] = 'b';
    test_base32(bin, sizeof(bin), out + 1);
    assert_int_equal(strlen(out), SXP_CID_LEN);
}

static const unsigned char test_header[4] = {0x01, 0x55, 0x12, 0x20};

static void test_expected_cid(const void *bytes, size_t len, char out[SXP_CID_LEN + 1])
{
    unsigned char digest[32];
    test_sha256(bytes, len, digest);
    test_cid_from(test_header, digest, out);
}

static void empty_input_has_the_known_cid(void **state)
{
    (void)state;
    char cid[SXP_CID_LEN + 1];
    cid_of("", 0, cid);
    assert_string_equal(cid, TEST_EMPTY_CID);
    cid_of(NULL, 0, cid);
    assert_string_equal(cid, TEST_EMPTY_CID);
    /* The independent computation agrees, which checks the test itself. */
    char want[SXP_CID_LEN + 1];
    test_expected_cid("", 0, want);
    assert_string_equal(want, TEST_EMPTY_CID);
}

static void cid_of_hello_matches_an_independent_computation(void **state)
{
    (void)state;
    char cid[SXP_CID_LEN + 1];
    char want[SXP_CID_LEN + 1];
    cid_of("hello", 5, cid);
    test_expected_cid("hello", 5, want);
    assert_string_equal(cid, want);
    assert_int_equal(strlen(cid), SXP_CID_LEN);
    assert_memory_equal(cid, "bafkrei", 7);
}

static void public_cid_of_equals_the_internal_one(void **state)
{
    (void)state;
    char a[SXP_CID_LEN + 1];
    char b[SXP_CID_LEN + 1];
    cid_of("x\0y", 3, a);
    sxp_cid_of("x\0y", 3, b);
    assert_string_equal(a, b);
}

static void random_inputs_match_the_independent_computation(void **state)
{
    (void)state;
    printf("test_cid: seed %" PRIu64 "\n", test_seed);
    srand((unsigned)test_seed);
    unsigned char buf[1000];
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)rand() % sizeof(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)rand();
        char cid[SXP_CID_LEN + 1];
        char want[SXP_CID_LEN + 1];
        cid_of(buf, len, cid);
        test_expected_cid(buf, len, want);
        if (strcmp(cid, want) != 0)
            fail_msg("seed %" PRIu64 " round %d: %s != %s", test_seed, round, cid, want);
        assert_true(cid_valid(cid, SXP_CID_LEN));
    }
}

static void cid_valid_accepts_what_cid_of_makes(void **state)
{
    (void)state;
    char cid[SXP_CID_LEN + 1];
    cid_of("hello", 5, cid);
    assert_true(cid_valid(cid, strlen(cid)));
    assert_true(cid_valid(TEST_EMPTY_CID, SXP_CID_LEN));
    /* Any digest is fine, all zeros and all ones included. */
    unsigned char digest[32];
    memset(digest, 0, sizeof(digest));
    test_cid_from(test_header, digest, cid);
    assert_true(cid_valid(cid, SXP_CID_LEN));
    memset(digest, 0xff, sizeof(digest));
    test_cid_from(test_header, digest, cid);
    assert_true(cid_valid(cid, SXP_CID_LEN));
}

static void cid_valid_rejects_a_path(void **state)
{
    (void)state;
    const char *s = "../../etc/passwd";
    assert_false(cid_valid(s, strlen(s)));
    /* A path of exactly cid length, with the right prefix. */
    char p[SXP_CID_LEN + 1];
    memcpy(p, TEST_EMPTY_CID, sizeof(p));
    p[10] = '/';
    p[11] = '.';
    p[12] = '.';
    p[13] = '/';
    assert_false(cid_valid(p, SXP_CID_LEN));
    memcpy(p, TEST_EMPTY_CID, sizeof(p));
    p[SXP_CID_LEN - 1] = '.';
    assert_false(cid_valid(p, SXP_CID_LEN));
}

static void cid_valid_rejects_upper_case(void **state)
{
    (void)state;
    char up[SXP_CID_LEN + 1];
    for (size_t i = 0; i <= SXP_CID_LEN; i++)
        up[i] = TEST_EMPTY_CID[i] >= 'a' && TEST_EMPTY_CID[i] <= 'z'
                    ? (char)(TEST_EMPTY_CID[i] - 'a' + 'A')
                    : TEST_EMPTY_CID[i];
    assert_false(cid_valid(up, SXP_CID_LEN));
    /* One upper-case letter is enough. */
    char one[SXP_CID_LEN + 1];
    memcpy(one, TEST_EMPTY_CID, sizeof(one));
    one[20] = (char)(one[20] - 'a' + 'A');
    assert_true(one[20] >= 'A' && one[20] <= 'Z');
    assert_false(cid_valid(one, SXP_CID_LEN));
}

static void cid_valid_rejects_a_wrong_length(void **state)
{
    (void)state;
    char longer[SXP_CID_LEN + 2];
    memcpy(longer, TEST_EMPTY_CID, SXP_CID_LEN);
    longer[SXP_CID_LEN] = 'a';
    longer[SXP_CID_LEN + 1] = '\0';
    assert_false(cid_valid(TEST_EMPTY_CID, SXP_CID_LEN - 1));
    assert_false(cid_valid(longer, SXP_CID_LEN + 1));
    assert_false(cid_valid("", 0));
    assert_false(cid_valid(NULL, 0));
    assert_false(cid_valid("b", 1));
}

static void cid_valid_rejects_a_wrong_prefix(void **state)
{
    (void)state;
    char s[SXP_CID_LEN + 1];
    memcpy(s, TEST_EMPTY_CID, sizeof(s));
    s[0] = 'B';
    assert_false(cid_valid(s, SXP_CID_LEN));
    s[0] = 'z';
    assert_false(cid_valid(s, SXP_CID_LEN));
    s[0] = 'a';
    assert_false(cid_valid(s, SXP_CID_LEN));
}

static void cid_valid_rejects_characters_outside_base32(void **state)
{
    (void)state;
    static const char bad[] = {'0', '1', '8', '9', '=', '/', '.', ' ', '\0', '\n', 'A', '\xff'};
    for (size_t i = 0; i < sizeof(bad); i++) {
        char s[SXP_CID_LEN + 1];
        memcpy(s, TEST_EMPTY_CID, sizeof(s));
        s[30] = bad[i];
        if (cid_valid(s, SXP_CID_LEN))
            fail_msg("byte 0x%02x accepted", (unsigned char)bad[i]);
    }
}

static void cid_valid_rejects_another_codec(void **state)
{
    (void)state;
    /* dag-pb (0x70) instead of raw: well-formed base32, 59 characters. */
    static const unsigned char dag_pb[4] = {0x01, 0x70, 0x12, 0x20};
    unsigned char digest[32];
    char s[SXP_CID_LEN + 1];
    test_sha256("", 0, digest);
    test_cid_from(dag_pb, digest, s);
    assert_int_equal(s[0], 'b');
    assert_false(cid_valid(s, SXP_CID_LEN));
    /* Another hash function (sha2-512's code 0x13) and another version. */
    static const unsigned char sha512[4] = {0x01, 0x55, 0x13, 0x20};
    test_cid_from(sha512, digest, s);
    assert_false(cid_valid(s, SXP_CID_LEN));
    static const unsigned char v0[4] = {0x00, 0x55, 0x12, 0x20};
    test_cid_from(v0, digest, s);
    assert_false(cid_valid(s, SXP_CID_LEN));
}

static void cid_valid_rejects_nonzero_pad_bits(void **state)
{
    (void)state;
    /* The last character carries 3 data bits and 2 pad bits. The empty
     * cid ends in 'u' (20 = 0b10100); 'v' (21) and 'w' (22) set a pad bit
     * and decode to the same 36 bytes otherwise. */
    char s[SXP_CID_LEN + 1];
    memcpy(s, TEST_EMPTY_CID, sizeof(s));
    assert_int_equal(s[SXP_CID_LEN - 1], 'u');
    s[SXP_CID_LEN - 1] = 'v';
    assert_false(cid_valid(s, SXP_CID_LEN));
    s[SXP_CID_LEN - 1] = 'w';
    assert_false(cid_valid(s, SXP_CID_LEN));
    s[SXP_CID_LEN - 1] = 'x';
    assert_false(cid_valid(s, SXP_CID_LEN));
}

static void cid_digest_returns_the_sha256(void **state)
{
    (void)state;
    char cid[SXP_CID_LEN + 1];
    unsigned char got[32];
    unsigned char want[32];
    cid_of("hello", 5, cid);
    test_sha256("hello", 5, want);
    assert_int_equal(cid_digest(cid, got), 0);
    assert_memory_equal(got, want, 32);
}

static void cid_digest_refuses_a_bad_cid(void **state)
{
    (void)state;
    unsigned char got[32];
    char longer[SXP_CID_LEN + 2];
    memcpy(longer, TEST_EMPTY_CID, SXP_CID_LEN);
    longer[SXP_CID_LEN] = 'a';
    longer[SXP_CID_LEN + 1] = '\0';
    assert_int_equal(cid_digest("../../etc/passwd", got), -EINVAL);
    assert_int_equal(cid_digest(longer, got), -EINVAL);
    assert_int_equal(cid_digest("", got), -EINVAL);
    assert_int_equal(cid_digest(NULL, got), -EINVAL);
}

int main(int argc, char **argv)
{
    test_seed = (uint64_t)time(NULL);
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--seed") == 0)
            test_seed = strtoull(argv[i + 1], NULL, 10);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_input_has_the_known_cid),
        cmocka_unit_test(cid_of_hello_matches_an_independent_computation),
        cmocka_unit_test(public_cid_of_equals_the_internal_one),
        cmocka_unit_test(random_inputs_match_the_independent_computation),
        cmocka_unit_test(cid_valid_accepts_what_cid_of_makes),
        cmocka_unit_test(cid_valid_rejects_a_path),
        cmocka_unit_test(cid_valid_rejects_upper_case),
        cmocka_unit_test(cid_valid_rejects_a_wrong_length),
        cmocka_unit_test(cid_valid_rejects_a_wrong_prefix),
        cmocka_unit_test(cid_valid_rejects_characters_outside_base32),
        cmocka_unit_test(cid_valid_rejects_another_codec),
        cmocka_unit_test(cid_valid_rejects_nonzero_pad_bits),
        cmocka_unit_test(cid_digest_returns_the_sha256),
        cmocka_unit_test(cid_digest_refuses_a_bad_cid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
