/*
 * test_layout.c -- names, paths, temp files and .seq text (engine/layout.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cid.h"
#include "layout.h"

/* The last component of a path. */
static const char *test_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void stream_names_of_one_to_125_bytes_are_accepted(void **state)
{
    (void)state;
    char name[LAYOUT_STREAM_MAX + 1];
    memset(name, 'x', sizeof(name));
    struct sxp_err err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(layout_check_name("stream", name, 1, LAYOUT_STREAM_MAX, &err), 0);
    assert_int_equal(layout_check_name("stream", name, 125, LAYOUT_STREAM_MAX, &err), 0);
    assert_int_equal(err.code, 0);
}

static void empty_stream_name_is_rejected_with_a_clear_message(void **state)
{
    (void)state;
    struct sxp_err err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(layout_check_name("stream", "", 0, LAYOUT_STREAM_MAX, &err), -EINVAL);
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.kind, "name");
    assert_string_equal(err.msg, "stream name is empty");
}

static void stream_name_of_126_bytes_is_rejected_with_its_length(void **state)
{
    (void)state;
    char name[126];
    memset(name, 'x', sizeof(name));
    struct sxp_err err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(layout_check_name("stream", name, 126, LAYOUT_STREAM_MAX, &err), -EINVAL);
    assert_string_equal(err.kind, "name");
    assert_string_equal(err.msg, "stream name is 126 bytes; the limit is 125");
    /* A NULL err is allowed. */
    assert_int_equal(layout_check_name("stream", name, 126, LAYOUT_STREAM_MAX, NULL), -EINVAL);
}

static void keys_of_127_bytes_pass_and_128_fail(void **state)
{
    (void)state;
    char key[128];
    memset(key, 0, sizeof(key)); /* any bytes, NUL included */
    struct sxp_err err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(layout_check_name("key", key, 127, LAYOUT_KEY_MAX, &err), 0);
    assert_int_equal(layout_check_name("key", key, 128, LAYOUT_KEY_MAX, &err), -EINVAL);
    assert_string_equal(err.kind, "name");
    assert_string_equal(err.msg, "key name is 128 bytes; the limit is 127");
}

static void hex_of_bytes_0x00_and_0xff_is_lowercase(void **state)
{
    (void)state;
    char out[5];
    layout_hex_encode("\x00\xff", 2, out);
    assert_string_equal(out, "00ff");
    char back[2];
    size_t n = 0;
    assert_int_equal(layout_hex_decode("00ff", 4, back, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal((unsigned char)back[0], 0x00);
    assert_int_equal((unsigned char)back[1], 0xff);
}

static void every_byte_value_round_trips_through_hex(void **state)
{
    (void)state;
    char bytes[256];
    char hex[513];
    char back[256];
    size_t n = 0;
    for (int i = 0; i < 256; i++)
        bytes[i] = (char)i;
    layout_hex_encode(bytes, 256, hex);
    assert_int_equal(strlen(hex), 512);
    for (size_t i = 0; i < 256; i++) {
        char want[3];
        assert_int_equal(snprintf(want, sizeof(want), "%02zx", i), 2);
        assert_memory_equal(hex + 2 * i, want, 2);
    }
    assert_int_equal(layout_hex_decode(hex, 512, back, &n), 0);
    assert_int_equal(n, 256);
    assert_memory_equal(back, bytes, 256);
}

static void hex_decode_rejects_upper_case_odd_length_and_non_hex(void **state)
{
    (void)state;
    char out[8];
    size_t n = 99;
    assert_int_equal(layout_hex_decode("6F", 2, out, &n), -EINVAL);
    assert_int_equal(layout_hex_decode("A0", 2, out, &n), -EINVAL);
    assert_int_equal(layout_hex_decode("abc", 3, out, &n), -EINVAL);
    assert_int_equal(layout_hex_decode("6", 1, out, &n), -EINVAL);
    assert_int_equal(layout_hex_decode("0g", 2, out, &n), -EINVAL);
    assert_int_equal(layout_hex_decode("6f 0", 4, out, &n), -EINVAL);
    static const char with_nul[4] = {'6', 'f', '\0', '0'};
    assert_int_equal(layout_hex_decode(with_nul, 4, out, &n), -EINVAL);
    assert_int_equal(n, 99);
    assert_int_equal(layout_hex_decode("", 0, out, &n), 0);
    assert_int_equal(n, 0);
}

static void paths_join_root_folder_and_hex_name(void **state)
{
    (void)state;
    char p[PATH_MAX];
    assert_int_equal(layout_stream_path("/r", "ab", 2, ".log", p), 0);
    assert_string_equal(p, "/r/streams/6162.log");
    assert_int_equal(layout_stream_path("/r/", "ab", 2, ".seq", p), 0);
    assert_string_equal(p, "/r/streams/6162.seq");
    assert_int_equal(layout_kv_path("data", "k\n", 2, p), 0);
    assert_string_equal(p, "data/kv/6b0a");
    assert_int_equal(layout_path("/r", "FORMAT", p), 0);
    assert_string_equal(p, "/r/FORMAT");
    assert_int_equal(layout_path("/", "LOCK", p), 0);
    assert_string_equal(p, "/LOCK");
}

static void stream_name_of_125_bytes_gives_a_file_name_of_254_bytes(void **state)
{
    (void)state;
    char name[LAYOUT_STREAM_MAX];
    memset(name, '\xff', sizeof(name));
    char p[PATH_MAX];
    assert_int_equal(layout_stream_path("/r", name, sizeof(name), ".log", p), 0);
    assert_int_equal(strlen(test_basename(p)), 254);
    assert_int_equal(layout_stream_path("/r", name, sizeof(name), ".seq", p), 0);
    assert_int_equal(strlen(test_basename(p)), 254);

    char key[LAYOUT_KEY_MAX];
    memset(key, 'k', sizeof(key));
    assert_int_equal(layout_kv_path("/r", key, sizeof(key), p), 0);
    assert_int_equal(strlen(test_basename(p)), 254);
}

static void blob_path_takes_only_a_valid_cid(void **state)
{
    (void)state;
    char cid[SXP_CID_LEN + 1];
    char p[PATH_MAX];
    char want[PATH_MAX];
    cid_of("hello", 5, cid);
    assert_int_equal(layout_blob_path("/r", cid, p), 0);
    assert_true(snprintf(want, sizeof(want), "/r/blobs/%s", cid) > 0);
    assert_string_equal(p, want);
    assert_int_equal(layout_blob_path("/r", "../../etc/passwd", p), -EINVAL);
}

static void path_that_would_not_fit_is_too_long(void **state)
{
    (void)state;
    static char root[PATH_MAX + 8];
    char p[PATH_MAX];
    /* "ROOT/rel" with exactly PATH_MAX - 1 characters fits; one more does not. */
    memset(root, 'r', PATH_MAX - 3);
    root[PATH_MAX - 3] = '\0';
    assert_int_equal(layout_path(root, "x", p), 0);
    assert_int_equal(strlen(p), PATH_MAX - 1);
    assert_int_equal(layout_path(root, "xy", p), -ENAMETOOLONG);

    /* 19 bytes are left after this root: "/streams/" and ".log" take 13,
     * so 3 name bytes (6 digits) fit with the NUL and 4 do not; "/kv/"
     * takes 4, so 7 key bytes fit and 8 do not. */
    memset(root, 'r', PATH_MAX - 20);
    root[PATH_MAX - 20] = '\0';
    assert_int_equal(layout_stream_path(root, "abc", 3, ".log", p), 0);
    assert_int_equal(strlen(p), PATH_MAX - 1);
    assert_int_equal(layout_stream_path(root, "abcd", 4, ".log", p), -ENAMETOOLONG);
    assert_int_equal(layout_kv_path(root, "abcdefg", 7, p), 0);
    assert_int_equal(strlen(p), PATH_MAX - 2);
    assert_int_equal(layout_kv_path(root, "abcdefgh", 8, p), -ENAMETOOLONG);
    char cid[SXP_CID_LEN + 1];
    cid_of("", 0, cid);
    assert_int_equal(layout_blob_path(root, cid, p), -ENAMETOOLONG);

    /* "/tmp.1.1.tmp" alone is 12 bytes, more than 8 leave room for. */
    memset(root, 'r', PATH_MAX - 9);
    root[PATH_MAX - 9] = '\0';
    assert_int_equal(layout_tmp_path(root, p), -ENAMETOOLONG);

    memset(root, 'r', PATH_MAX + 4);
    root[PATH_MAX + 4] = '\0';
    assert_int_equal(layout_path(root, "", p), -ENAMETOOLONG);
}

static void temp_name_fits_and_is_recognised(void **state)
{
    (void)state;
    char p[PATH_MAX];
    char q[PATH_MAX];
    assert_int_equal(layout_tmp_path("/r/streams", p), 0);
    assert_int_equal(layout_tmp_path("/r/streams", q), 0);
    assert_string_not_equal(p, q);
    assert_memory_equal(p, "/r/streams/", 11);

    const char *base = test_basename(p);
    char prefix[32];
    assert_true(snprintf(prefix, sizeof(prefix), "tmp.%ld.", (long)getpid()) > 0);
    assert_memory_equal(base, prefix, strlen(prefix));
    assert_true(strlen(base) < 255);
    assert_true(layout_is_tmp(base));
    assert_true(layout_is_tmp(p));

    char name[LAYOUT_STREAM_MAX];
    size_t n = 7;
    assert_int_equal(layout_classify_stream_file(base, name, &n), LAYOUT_TMP);
}

#define TEST_THREADS ((size_t)4)
#define TEST_NAMES_PER_THREAD ((size_t)500)

static char test_tmp_names[TEST_THREADS * TEST_NAMES_PER_THREAD][64];

static void *test_tmp_worker(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    char p[PATH_MAX];
    for (size_t i = 0; i < TEST_NAMES_PER_THREAD; i++) {
        if (layout_tmp_path("d", p) != 0 || strlen(p) >= sizeof(test_tmp_names[0]))
            return (void *)1;
        memcpy(test_tmp_names[t * TEST_NAMES_PER_THREAD + i], p, strlen(p) + 1);
    }
    return NULL;
}

static int test_cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void temp_names_from_many_threads_are_unique(void **state)
{
    (void)state;
    pthread_t th[TEST_THREADS];
    for (size_t t = 0; t < TEST_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, test_tmp_worker, (void *)(uintptr_t)t), 0);
    for (size_t t = 0; t < TEST_THREADS; t++) {
        void *rv = (void *)1;
        assert_int_equal(pthread_join(th[t], &rv), 0);
        assert_null(rv);
    }
    size_t total = (size_t)TEST_THREADS * TEST_NAMES_PER_THREAD;
    qsort(test_tmp_names, total, sizeof(test_tmp_names[0]), test_cmp_names);
    for (size_t i = 1; i < total; i++)
        if (strcmp(test_tmp_names[i - 1], test_tmp_names[i]) == 0)
            fail_msg("temp name %s made twice", test_tmp_names[i]);
}

static void names_ending_in_tmp_are_temp_files(void **state)
{
    (void)state;
    assert_true(layout_is_tmp("x.tmp"));
    assert_true(layout_is_tmp(".tmp"));
    assert_true(layout_is_tmp("6f.log.tmp"));
    assert_false(layout_is_tmp("tmp"));
    assert_false(layout_is_tmp("x.tmpx"));
    assert_false(layout_is_tmp("x.TMP"));
    assert_false(layout_is_tmp(""));
}

static void stream_files_are_classified_by_name(void **state)
{
    (void)state;
    char name[LAYOUT_STREAM_MAX];
    size_t n = 99;

    assert_int_equal(layout_classify_stream_file("6f.log", name, &n), LAYOUT_LOG);
    assert_int_equal(n, 1);
    assert_int_equal(name[0], 'o');

    n = 99;
    assert_int_equal(layout_classify_stream_file("6f.seq", name, &n), LAYOUT_SEQ);
    assert_int_equal(n, 1);
    assert_int_equal(name[0], 'o');

    assert_int_equal(layout_classify_stream_file("6F.log", name, &n), LAYOUT_FOREIGN);
    assert_int_equal(layout_classify_stream_file("6.log", name, &n), LAYOUT_FOREIGN);
    assert_int_equal(layout_classify_stream_file("x.tmp", name, &n), LAYOUT_TMP);
    assert_int_equal(layout_classify_stream_file("README", name, &n), LAYOUT_FOREIGN);
    assert_int_equal(layout_classify_stream_file(".log", name, &n), LAYOUT_FOREIGN);
    assert_int_equal(layout_classify_stream_file("log", name, &n), LAYOUT_FOREIGN);
    assert_int_equal(layout_classify_stream_file("6f.LOG", name, &n), LAYOUT_FOREIGN);
    assert_int_equal(layout_classify_stream_file("6f.log.bak", name, &n), LAYOUT_FOREIGN);
    assert_int_equal(layout_classify_stream_file("6f.log.tmp", name, &n), LAYOUT_TMP);
    assert_int_equal(layout_classify_stream_file("zz.seq", name, &n), LAYOUT_FOREIGN);
}

static void stream_file_of_the_longest_name_is_classified_and_one_more_is_foreign(void **state)
{
    (void)state;
    const size_t digits = (size_t)2 * LAYOUT_STREAM_MAX;
    char fname[2 * (LAYOUT_STREAM_MAX + 1) + 5];
    char name[LAYOUT_STREAM_MAX];
    size_t n = 0;
    memset(fname, 'a', digits);
    memcpy(fname + digits, ".log", 5);
    assert_int_equal(strlen(fname), 254);
    assert_int_equal(layout_classify_stream_file(fname, name, &n), LAYOUT_LOG);
    assert_int_equal(n, LAYOUT_STREAM_MAX);
    assert_int_equal((unsigned char)name[LAYOUT_STREAM_MAX - 1], 0xaa);

    memset(fname, 'a', digits + 2);
    memcpy(fname + digits + 2, ".log", 5);
    assert_int_equal(layout_classify_stream_file(fname, name, &n), LAYOUT_FOREIGN);
}

static void seq_text_parses_as_int64_with_surrounding_spaces(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(layout_seq_parse("42", 2, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(layout_seq_parse("  17\n", 5, &v), 0);
    assert_int_equal(v, 17);
    assert_int_equal(layout_seq_parse("\t-7 \r\n", 6, &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(layout_seq_parse("0", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(layout_seq_parse("9223372036854775807", 19, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(layout_seq_parse("-9223372036854775808", 20, &v), 0);
    assert_true(v == INT64_MIN);
    /* Only len bytes are read. */
    assert_int_equal(layout_seq_parse("123garbage", 3, &v), 0);
    assert_int_equal(v, 123);
}

static void seq_text_that_is_empty_garbage_or_too_big_is_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "   ",
        "-",
        "+5",
        "4 2",
        "42x",
        "x42",
        "0x10",
        "1e3",
        "--1",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 5;
        if (layout_seq_parse(bad[i], strlen(bad[i]), &v) != -EINVAL)
            fail_msg("\"%s\" was accepted as %" PRId64, bad[i], v);
    }
    int64_t v = 0;
    assert_int_equal(layout_seq_parse("4\0", 2, &v), -EINVAL);
}

static void seq_text_is_formatted_without_newline_and_reads_back(void **state)
{
    (void)state;
    char out[LAYOUT_SEQ_MAX_TEXT];
    assert_int_equal(layout_seq_format(42, out), 2);
    assert_memory_equal(out, "42", 2);
    static const int64_t values[] = {0, 1, -1, 1000000, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        size_t n = layout_seq_format(values[i], out);
        assert_true(n > 0 && n < LAYOUT_SEQ_MAX_TEXT);
        assert_null(memchr(out, '\n', n));
        int64_t back = 0;
        assert_int_equal(layout_seq_parse(out, n, &back), 0);
        assert_true(back == values[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_names_of_one_to_125_bytes_are_accepted),
        cmocka_unit_test(empty_stream_name_is_rejected_with_a_clear_message),
        cmocka_unit_test(stream_name_of_126_bytes_is_rejected_with_its_length),
        cmocka_unit_test(keys_of_127_bytes_pass_and_128_fail),
        cmocka_unit_test(hex_of_bytes_0x00_and_0xff_is_lowercase),
        cmocka_unit_test(every_byte_value_round_trips_through_hex),
        cmocka_unit_test(hex_decode_rejects_upper_case_odd_length_and_non_hex),
        cmocka_unit_test(paths_join_root_folder_and_hex_name),
        cmocka_unit_test(stream_name_of_125_bytes_gives_a_file_name_of_254_bytes),
        cmocka_unit_test(blob_path_takes_only_a_valid_cid),
        cmocka_unit_test(path_that_would_not_fit_is_too_long),
        cmocka_unit_test(temp_name_fits_and_is_recognised),
        cmocka_unit_test(temp_names_from_many_threads_are_unique),
        cmocka_unit_test(names_ending_in_tmp_are_temp_files),
        cmocka_unit_test(stream_files_are_classified_by_name),
        cmocka_unit_test(stream_file_of_the_longest_name_is_classified_and_one_more_is_foreign),
        cmocka_unit_test(seq_text_parses_as_int64_with_surrounding_spaces),
        cmocka_unit_test(seq_text_that_is_empty_garbage_or_too_big_is_invalid),
        cmocka_unit_test(seq_text_is_formatted_without_newline_and_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
