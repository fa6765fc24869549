/*
 * test_frame.c -- line framing (engine/frame.h): F-1..F-3, legacy and blank
 * lines, kv files. The randomised tests print their seed; pass --seed N to
 * repeat a run.
 */
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
#include <xxhash.h>

#include "frame.h"

static uint64_t test_seed;

/* xorshift64*: a small generator whose sequence depends only on the seed. */
static uint64_t test_rand_state;
static uint64_t test_rand(void)
{
    uint64_t x = test_rand_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    test_rand_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* The trailer computed independently of frame.c: printf's hex of XXH3. */
static void test_expected_trailer(const char *payload, size_t len, char out[FRAME_TRAILER_LEN + 1])
{
    int n = snprintf(out, FRAME_TRAILER_LEN + 1, "\t%016" PRIx64 "\n",
                     (uint64_t)XXH3_64bits(payload, len));
    assert_int_equal(n, FRAME_TRAILER_LEN);
}

static void encoded_line_decodes_back_to_its_payload(void **state)
{
    (void)state;
    const char payload[] = "{:seq 1 :total 9.5}";
    size_t len = sizeof(payload) - 1;
    char line[sizeof(payload) + FRAME_TRAILER_LEN];
    char want[FRAME_TRAILER_LEN + 1];

    size_t n = frame_encode(payload, len, line);
    assert_int_equal(n, len + FRAME_TRAILER_LEN);
    assert_memory_equal(line, payload, len);
    test_expected_trailer(payload, len, want);
    assert_memory_equal(line + len, want, FRAME_TRAILER_LEN);

    struct frame_line fl;
    frame_next(line, n, &fl);
    assert_int_equal(fl.status, FRAME_OK);
    assert_ptr_equal(fl.payload, line);
    assert_int_equal(fl.payload_len, len);
    assert_int_equal(fl.line_len, n);
}

static void frame_sum_is_xxh3_with_seed_zero(void **state)
{
    (void)state;
    assert_true(frame_sum("abc", 3) == XXH3_64bits("abc", 3));
    assert_true(frame_sum("abc", 3) == XXH3_64bits_withSeed("abc", 3, 0));
    assert_true(frame_sum("", 0) == XXH3_64bits("", 0));
}

static void trailer_alone_equals_the_tail_of_an_encoded_line(void **state)
{
    (void)state;
    const char payload[] = "(list 1 2 3)";
    size_t len = sizeof(payload) - 1;
    char line[sizeof(payload) + FRAME_TRAILER_LEN];
    char trailer[FRAME_TRAILER_LEN];
    frame_encode(payload, len, line);
    frame_trailer(payload, len, trailer);
    assert_memory_equal(line + len, trailer, FRAME_TRAILER_LEN);
    assert_int_equal(trailer[0], '\t');
    assert_int_equal(trailer[FRAME_TRAILER_LEN - 1], '\n');
    for (int i = 1; i <= FRAME_SUM_HEX; i++)
        assert_true((trailer[i] >= '0' && trailer[i] <= '9') ||
                    (trailer[i] >= 'a' && trailer[i] <= 'f'));
}

static void encoding_in_place_appends_the_trailer_after_the_payload(void **state)
{
    (void)state;
    char buf[64] = "nil";
    char want[FRAME_TRAILER_LEN + 1];
    size_t n = frame_encode(buf, 3, buf);
    assert_int_equal(n, 3 + FRAME_TRAILER_LEN);
    assert_memory_equal(buf, "nil", 3);
    test_expected_trailer("nil", 3, want);
    assert_memory_equal(buf + 3, want, FRAME_TRAILER_LEN);
}

static void empty_payload_round_trips(void **state)
{
    (void)state;
    char line[FRAME_TRAILER_LEN];
    size_t n = frame_encode("", 0, line);
    assert_int_equal(n, FRAME_TRAILER_LEN);
    struct frame_line fl;
    frame_next(line, n, &fl);
    assert_int_equal(fl.status, FRAME_OK);
    assert_int_equal(fl.payload_len, 0);
    assert_int_equal(fl.line_len, FRAME_TRAILER_LEN);
}

static void payload_with_nul_bytes_round_trips(void **state)
{
    (void)state;
    const char payload[] = {'"', 'a', '\0', 'b', '\0', '\0', '"'};
    char line[sizeof(payload) + FRAME_TRAILER_LEN];
    size_t n = frame_encode(payload, sizeof(payload), line);
    struct frame_line fl;
    frame_next(line, n, &fl);
    assert_int_equal(fl.status, FRAME_OK);
    assert_int_equal(fl.payload_len, sizeof(payload));
    assert_memory_equal(fl.payload, payload, sizeof(payload));

    /* A NUL after the payload changes its checksum. */
    line[1] = '\0';
    frame_next(line, n, &fl);
    assert_int_equal(fl.status, FRAME_BAD_SUM);
}

static void flipped_payload_byte_is_a_checksum_mismatch(void **state)
{
    (void)state;
    const char payload[] = "{:seq 7 :x \"abc\"}";
    size_t len = sizeof(payload) - 1;
    char line[sizeof(payload) + FRAME_TRAILER_LEN];
    size_t n = frame_encode(payload, len, line);
    line[4] ^= 0x01; /* '7' becomes '6' */
    struct frame_line fl;
    frame_next(line, n, &fl);
    assert_int_equal(fl.status, FRAME_BAD_SUM);
    assert_int_equal(fl.payload_len, len);
    assert_int_equal(fl.line_len, n);
}

static void changed_trailer_digit_is_a_checksum_mismatch(void **state)
{
    (void)state;
    char line[64];
    size_t n = frame_encode("true", 4, line);
    char *d = line + 5; /* first digit */
    *d = *d == '0' ? '1' : '0';
    struct frame_line fl;
    frame_next(line, n, &fl);
    assert_int_equal(fl.status, FRAME_BAD_SUM);
}

static void uppercase_trailer_is_bad_format(void **state)
{
    (void)state;
    /* A payload whose checksum has a letter digit, so upper-casing changes
     * it; search a few payloads for one. */
    char line[64];
    size_t n = 0;
    int found = 0;
    for (char c = 'a'; c <= 'z' && !found; c++) {
        n = frame_encode(&c, 1, line);
        for (int i = 2; i < 2 + FRAME_SUM_HEX; i++) {
            if (line[i] >= 'a' && line[i] <= 'f') {
                line[i] = (char)(line[i] - 'a' + 'A');
                found = 1;
            }
        }
    }
    assert_true(found);
    struct frame_line fl;
    frame_next(line, n, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
    assert_int_equal(fl.line_len, n);
}

static void any_byte_but_lowercase_hex_in_the_trailer_is_bad_format(void **state)
{
    (void)state;
    char good[64];
    size_t n = frame_encode("(list)", 6, good);
    for (size_t pos = 7; pos < 7 + FRAME_SUM_HEX; pos++) {
        for (int c = 0; c < 256; c++) {
            char line[64];
            memcpy(line, good, n);
            line[pos] = (char)c;
            struct frame_line fl;
            frame_next(line, n, &fl);
            int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            enum frame_status want = !hex             ? FRAME_BAD_FORMAT
                                     : c == good[pos] ? FRAME_OK
                                                      : FRAME_BAD_SUM;
            if (fl.status != want)
                fail_msg("byte 0x%02x at %zu gave %s", c, pos, frame_status_name(fl.status));
        }
    }
}

static void malformed_trailers_are_bad_format(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "abc\t\n",                    /* no digits */
        "abc\tzz\n",                  /* not hex */
        "abc\t0123456789abcde\n",     /* 15 digits */
        "abc\t0123456789abcdef0\n",   /* 17 digits */
        "abc\t0123456789abcdeg\n",    /* 'g' */
        "abc\t0123456789abcdef \n",   /* a space before the LF */
        "abc\t0123456789abcdef\r\n",  /* CR LF */
        "abc\t 123456789abcdef\n",    /* a space inside */
        "abc\t0123456789abcdef\tx\n", /* the last TAB is not the trailer's */
        "\t\n",                       /* only a TAB */
        " \t \n",                     /* spaces and a TAB: not blank */
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct frame_line fl;
        frame_next(lines[i], strlen(lines[i]), &fl);
        if (fl.status != FRAME_BAD_FORMAT)
            fail_msg("line %zu (%s) gave %s", i, lines[i], frame_status_name(fl.status));
        assert_int_equal(fl.line_len, strlen(lines[i]));
    }
}

static void line_without_tab_is_legacy(void **state)
{
    (void)state;
    const char line[] = "{:seq 1 :total 9.5}\nnext";
    struct frame_line fl;
    frame_next(line, sizeof(line) - 1, &fl);
    assert_int_equal(fl.status, FRAME_LEGACY);
    assert_ptr_equal(fl.payload, line);
    assert_int_equal(fl.payload_len, 19);
    assert_int_equal(fl.line_len, 20);
}

static void empty_and_space_lines_are_blank(void **state)
{
    (void)state;
    struct frame_line fl;
    frame_next("\n", 1, &fl);
    assert_int_equal(fl.status, FRAME_BLANK);
    assert_int_equal(fl.line_len, 1);
    frame_next("   \nx", 5, &fl);
    assert_int_equal(fl.status, FRAME_BLANK);
    assert_int_equal(fl.line_len, 4);
    /* Only spaces count as blank. */
    frame_next(" \r\n", 3, &fl);
    assert_int_equal(fl.status, FRAME_LEGACY);
}

static void bytes_without_lf_are_incomplete(void **state)
{
    (void)state;
    char line[64];
    size_t n = frame_encode("42", 2, line);
    struct frame_line fl;
    /* Every proper prefix of a good line is incomplete and consumes all. */
    for (size_t cut = 1; cut < n; cut++) {
        frame_next(line, cut, &fl);
        assert_int_equal(fl.status, FRAME_INCOMPLETE);
        assert_int_equal(fl.line_len, cut);
        assert_int_equal(fl.payload_len, cut);
    }
}

/* Appends the characters of s (not its NUL) at buf + *off. */
static void test_put(char *buf, size_t *off, const char *s)
{
    while (*s)
        buf[(*off)++] = *s++;
}

static void lines_of_a_log_are_walked_in_order(void **state)
{
    (void)state;
    char log[256];
    size_t off = 0;
    off += frame_encode("{:seq 1}", 8, log + off);
    test_put(log, &off, "{:seq 2}\n"); /* a legacy line */
    test_put(log, &off, "\n");
    off += frame_encode("{:seq 3}", 8, log + off);
    size_t good_end = off;
    test_put(log, &off, "{:seq 4}\t01"); /* torn tail */

    static const enum frame_status want[] = {FRAME_OK, FRAME_LEGACY, FRAME_BLANK, FRAME_OK,
                                             FRAME_INCOMPLETE};
    size_t pos = 0;
    size_t k = 0;
    while (pos < off) {
        struct frame_line fl;
        frame_next(log + pos, off - pos, &fl);
        assert_true(k < 5);
        assert_int_equal(fl.status, want[k]);
        if (k == 3)
            assert_int_equal(pos + fl.line_len, good_end);
        if (fl.status == FRAME_OK || fl.status == FRAME_LEGACY)
            assert_memory_equal(fl.payload, "{:seq ", 6);
        pos += fl.line_len;
        k++;
    }
    assert_int_equal(k, 5);
    assert_int_equal(pos, off);
}

static void payload_holding_a_tab_is_checked_against_the_last_tab(void **state)
{
    (void)state;
    /* The serializer never writes a raw TAB, but the rule is about the
     * last TAB, so a line with one in its payload still verifies. */
    char line[64];
    size_t n = frame_encode("a\tb", 3, line);
    struct frame_line fl;
    frame_next(line, n, &fl);
    assert_int_equal(fl.status, FRAME_OK);
    assert_int_equal(fl.payload_len, 3);
}

static void kv_file_with_one_framed_line_is_ok(void **state)
{
    (void)state;
    char buf[64];
    size_t n = frame_encode("(list 1 2)", 10, buf);
    struct frame_line fl;
    frame_decode_whole(buf, n, &fl);
    assert_int_equal(fl.status, FRAME_OK);
    assert_int_equal(fl.payload_len, 10);
    assert_int_equal(fl.line_len, n);
    assert_memory_equal(fl.payload, "(list 1 2)", 10);
}

static void reference_kv_file_without_lf_is_legacy(void **state)
{
    (void)state;
    const char buf[] = "{:a 1 :b \"x y\"}";
    struct frame_line fl;
    frame_decode_whole(buf, sizeof(buf) - 1, &fl);
    assert_int_equal(fl.status, FRAME_LEGACY);
    assert_ptr_equal(fl.payload, buf);
    assert_int_equal(fl.payload_len, sizeof(buf) - 1);
    assert_int_equal(fl.line_len, sizeof(buf) - 1);

    /* The same with an LF is still one legacy line. */
    frame_decode_whole("nil\n", 4, &fl);
    assert_int_equal(fl.status, FRAME_LEGACY);
    assert_int_equal(fl.payload_len, 3);
}

static void kv_file_with_bytes_after_its_line_is_bad_format(void **state)
{
    (void)state;
    char buf[128];
    size_t n = frame_encode("1", 1, buf);
    buf[n] = 'x';
    struct frame_line fl;
    frame_decode_whole(buf, n + 1, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
    assert_int_equal(fl.line_len, n + 1);

    /* Two good lines are not a kv file either. */
    size_t m = frame_encode("2", 1, buf + n);
    frame_decode_whole(buf, n + m, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);

    frame_decode_whole("1\n2", 3, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
}

static void kv_file_with_tab_but_no_lf_is_bad_format(void **state)
{
    (void)state;
    char buf[64];
    size_t n = frame_encode("1", 1, buf);
    struct frame_line fl;
    frame_decode_whole(buf, n - 1, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
}

static void kv_file_checks_its_sum_and_trailer(void **state)
{
    (void)state;
    char buf[64];
    size_t n = frame_encode("true", 4, buf);
    struct frame_line fl;
    buf[0] = 'T';
    frame_decode_whole(buf, n, &fl);
    assert_int_equal(fl.status, FRAME_BAD_SUM);
    frame_decode_whole("true\tXYZ\n", 9, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
}

static void empty_kv_file_is_blank(void **state)
{
    (void)state;
    struct frame_line fl;
    frame_decode_whole("", 0, &fl);
    assert_int_equal(fl.status, FRAME_BLANK);
    assert_int_equal(fl.line_len, 0);
    frame_decode_whole("  ", 2, &fl);
    assert_int_equal(fl.status, FRAME_BLANK);
}

/* frame.h: a kv file of NULs (its name and size kept by a power loss, not
 * its bytes), or an unverified one that starts or ends with NULs (its
 * first or last sector lost), is BAD, never a value; a NUL inside a legacy
 * value's string, or inside a checksummed payload, is the writer's. */
static void unverified_kv_file_starting_or_ending_with_a_nul_is_bad_format(void **state)
{
    (void)state;
    struct frame_line fl;
    frame_decode_whole("\0\0\0\0", 4, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
    assert_int_equal(fl.line_len, 4);
    frame_decode_whole("\0\0{:v 1}", 8, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
    frame_decode_whole("{:v \"ab\0\0", 9, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
    frame_decode_whole("\0ab\n", 4, &fl);
    assert_int_equal(fl.status, FRAME_BAD_FORMAT);
    frame_decode_whole("\"a\0b\"", 5, &fl);
    assert_int_equal(fl.status, FRAME_LEGACY);
    frame_decode_whole("abc\n", 4, &fl);
    assert_int_equal(fl.status, FRAME_LEGACY);
    char buf[64];
    size_t n = frame_encode("\"a\0b\"", 5, buf);
    frame_decode_whole(buf, n, &fl);
    assert_int_equal(fl.status, FRAME_OK);
    assert_int_equal(fl.payload_len, 5);
}

static void every_status_has_its_name(void **state)
{
    (void)state;
    assert_string_equal(frame_status_name(FRAME_OK), "ok");
    assert_string_equal(frame_status_name(FRAME_LEGACY), "legacy");
    assert_string_equal(frame_status_name(FRAME_BLANK), "blank");
    assert_string_equal(frame_status_name(FRAME_BAD_FORMAT), "bad trailer");
    assert_string_equal(frame_status_name(FRAME_BAD_SUM), "checksum mismatch");
    assert_string_equal(frame_status_name(FRAME_INCOMPLETE), "incomplete line");
}

/* Random payloads without LF or TAB, as the serializer makes them. */
static size_t test_random_payload(char *buf, size_t max)
{
    size_t len = (size_t)(test_rand() % max);
    for (size_t i = 0; i < len; i++) {
        char c;
        do
            c = (char)(test_rand() & 0xff);
        while (c == '\n' || c == '\t');
        buf[i] = c;
    }
    return len;
}

static void random_payloads_round_trip_and_any_flipped_byte_is_caught(void **state)
{
    (void)state;
    printf("test_frame: seed %" PRIu64 "\n", test_seed);
    test_rand_state = test_seed | 1;
    char payload[300];
    char line[300 + FRAME_TRAILER_LEN];
    char want[FRAME_TRAILER_LEN + 1];
    for (int round = 0; round < 2000; round++) {
        size_t len = test_random_payload(payload, sizeof(payload));
        size_t n = frame_encode(payload, len, line);
        test_expected_trailer(payload, len, want);
        assert_memory_equal(line + len, want, FRAME_TRAILER_LEN);

        struct frame_line fl;
        frame_next(line, n, &fl);
        assert_int_equal(fl.status, FRAME_OK);
        assert_int_equal(fl.payload_len, len);
        assert_memory_equal(fl.payload, payload, len);

        size_t at = (size_t)(test_rand() % n);
        unsigned char x = (unsigned char)(1 + test_rand() % 255);
        line[at] = (char)(line[at] ^ x);
        frame_next(line, n, &fl);
        if (fl.status == FRAME_OK)
            fail_msg("seed %" PRIu64 " round %d: flip of byte %zu by 0x%02x not caught", test_seed,
                     round, at, x);
    }
}

int main(int argc, char **argv)
{
    test_seed = (uint64_t)time(NULL);
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--seed") == 0)
            test_seed = strtoull(argv[i + 1], NULL, 10);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoded_line_decodes_back_to_its_payload),
        cmocka_unit_test(frame_sum_is_xxh3_with_seed_zero),
        cmocka_unit_test(trailer_alone_equals_the_tail_of_an_encoded_line),
        cmocka_unit_test(encoding_in_place_appends_the_trailer_after_the_payload),
        cmocka_unit_test(empty_payload_round_trips),
        cmocka_unit_test(payload_with_nul_bytes_round_trips),
        cmocka_unit_test(flipped_payload_byte_is_a_checksum_mismatch),
        cmocka_unit_test(changed_trailer_digit_is_a_checksum_mismatch),
        cmocka_unit_test(uppercase_trailer_is_bad_format),
        cmocka_unit_test(any_byte_but_lowercase_hex_in_the_trailer_is_bad_format),
        cmocka_unit_test(malformed_trailers_are_bad_format),
        cmocka_unit_test(line_without_tab_is_legacy),
        cmocka_unit_test(empty_and_space_lines_are_blank),
        cmocka_unit_test(bytes_without_lf_are_incomplete),
        cmocka_unit_test(lines_of_a_log_are_walked_in_order),
        cmocka_unit_test(payload_holding_a_tab_is_checked_against_the_last_tab),
        cmocka_unit_test(kv_file_with_one_framed_line_is_ok),
        cmocka_unit_test(reference_kv_file_without_lf_is_legacy),
        cmocka_unit_test(kv_file_with_bytes_after_its_line_is_bad_format),
        cmocka_unit_test(kv_file_with_tab_but_no_lf_is_bad_format),
        cmocka_unit_test(kv_file_checks_its_sum_and_trailer),
        cmocka_unit_test(empty_kv_file_is_blank),
        cmocka_unit_test(unverified_kv_file_starting_or_ending_with_a_nul_is_bad_format),
        cmocka_unit_test(every_status_has_its_name),
        cmocka_unit_test(random_payloads_round_trip_and_any_flipped_byte_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
