/*
 * fuzz_names.c -- the readers of file names (engine/layout.h): every name
 * found in streams/ and kv/ is decoded back into a stream name or key, and
 * a directory can hold anything.
 *
 * PROPERTIES, for any input B (F = B up to its first NUL, at most 255
 * bytes, as a file name):
 *   FNM-1  layout_classify_stream_file(F) is TMP exactly when F ends in
 *          ".tmp"; LOG or SEQ exactly when F is the lowercase hex of 1..125
 *          bytes followed by ".log" or ".seq", and then the decoded name
 *          hex-encodes back to F's stem; FOREIGN otherwise.
 *   FNM-2  layout_hex_decode(B) succeeds exactly when |B| is even and every
 *          byte is [0-9a-f], and then layout_hex_encode gives B back.
 *   FNM-3  B as a stream name or key: layout_check_name accepts it exactly
 *          when 1 <= |B| <= the limit; then layout_stream_path and
 *          layout_kv_path build ROOT/streams/<hex>.log and ROOT/kv/<hex>,
 *          which classify (or hex-decode) back to B.
 */
#include "fuzz.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

static int fuzz_names_hexdigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int fuzz_names_is_hex(const char *p, size_t n)
{
    if (n % 2 != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!fuzz_names_hexdigit(p[i]))
            return 0;
    return 1;
}

/* FNM-1 */
static void fuzz_names_classify(const char *f, size_t n)
{
    char name[LAYOUT_STREAM_MAX + 8];
    size_t len = 999;
    enum layout_kind want = LAYOUT_FOREIGN;
    if (n >= 4 && memcmp(f + n - 4, ".tmp", 4) == 0)
        want = LAYOUT_TMP;
    else if (n >= 6 && n - 4 <= 2 * LAYOUT_STREAM_MAX && fuzz_names_is_hex(f, n - 4) &&
             (memcmp(f + n - 4, ".log", 4) == 0 || memcmp(f + n - 4, ".seq", 4) == 0))
        want = f[n - 3] == 'l' ? LAYOUT_LOG : LAYOUT_SEQ;
    enum layout_kind got = layout_classify_stream_file(f, name, &len);
    FUZZ_CHECKF(got == want, " classified %d, want %d", (int)got, (int)want);
    if (got == LAYOUT_LOG || got == LAYOUT_SEQ) {
        FUZZ_CHECK(len >= 1 && len <= LAYOUT_STREAM_MAX && len * 2 == n - 4);
        char hex[2 * LAYOUT_STREAM_MAX + 1];
        layout_hex_encode(name, len, hex);
        FUZZ_CHECK(memcmp(hex, f, n - 4) == 0);
    } else {
        FUZZ_CHECK(len == 0);
    }
}

/* FNM-2 */
static void fuzz_names_hex(const char *b, size_t size)
{
    char *out = malloc(size / 2 + 1);
    char *back = malloc(size + 1);
    FUZZ_CHECK(out && back);
    size_t len = 0;
    int rc = layout_hex_decode(b, size, out, &len);
    FUZZ_CHECK((rc == 0) == fuzz_names_is_hex(b, size));
    if (rc == 0) {
        FUZZ_CHECK(len == size / 2);
        layout_hex_encode(out, len, back);
        FUZZ_CHECK(memcmp(back, b, size) == 0 && back[size] == '\0');
    }
    free(out);
    free(back);
}

/* FNM-3 */
static void fuzz_names_paths(const char *b, size_t size)
{
    char path[PATH_MAX], name[LAYOUT_STREAM_MAX + 8];
    size_t len = 0;
    struct sxp_err err;
    int s_ok = layout_check_name("stream", b, size, LAYOUT_STREAM_MAX, &err) == 0;
    int k_ok = layout_check_name("key", b, size, LAYOUT_KEY_MAX, NULL) == 0;
    FUZZ_CHECK(s_ok == (size >= 1 && size <= LAYOUT_STREAM_MAX));
    FUZZ_CHECK(k_ok == (size >= 1 && size <= LAYOUT_KEY_MAX));
    if (s_ok) {
        FUZZ_CHECK(layout_stream_path("/root", b, size, ".log", path) == 0);
        FUZZ_CHECK(strncmp(path, "/root/streams/", 14) == 0);
        FUZZ_CHECK(strlen(path + 14) == 2 * size + 4 && strlen(path + 14) <= 255);
        FUZZ_CHECK(layout_classify_stream_file(path + 14, name, &len) == LAYOUT_LOG);
        FUZZ_CHECK(len == size && memcmp(name, b, size) == 0);
    }
    if (k_ok) {
        char *key = malloc(LAYOUT_KEY_MAX + 1);
        FUZZ_CHECK(key != NULL);
        FUZZ_CHECK(layout_kv_path("/root", b, size, path) == 0);
        FUZZ_CHECK(strncmp(path, "/root/kv/", 9) == 0);
        FUZZ_CHECK(strlen(path + 9) == 2 * size && strlen(path + 9) <= 255);
        FUZZ_CHECK(layout_hex_decode(path + 9, 2 * size, key, &len) == 0);
        FUZZ_CHECK(len == size && memcmp(key, b, size) == 0);
        free(key);
    }
}

int fuzz_names_one(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    size_t n = size > 0 ? strnlen(b, size) : 0;
    if (n > 255)
        n = 255;
    char f[256];
    if (n > 0)
        memcpy(f, b, n);
    f[n] = '\0';
    fuzz_names_classify(f, n);
    fuzz_names_hex(b, size);
    fuzz_names_paths(b, size);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_names_one(data, size);
}
#endif
