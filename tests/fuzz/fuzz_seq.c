/*
 * fuzz_seq.c -- the .seq reader (layout_seq_parse, engine/layout.h) on
 * arbitrary bytes: a .seq file may be edited by hand or damaged.
 *
 * PROPERTIES, for any text T:
 *   FSQ-1  layout_seq_parse(T) accepts exactly what this file's reference
 *          reader accepts: optional whitespace (space \t \n \v \f \r), an
 *          optional '-', one or more decimal digits whose value fits int64,
 *          optional whitespace; and both read the same value. It never reads
 *          past T (the input is exactly its size under AddressSanitizer).
 *   FSQ-2  Whatever it accepts formats back (layout_seq_format) to a text of
 *          at most 20 bytes that holds only '-' and digits, that parses to
 *          the same value, and that is the shortest such text (no leading
 *          zeros, no "-0").
 */
#include "fuzz.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"

static int fuzz_seq_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The reference reader: 0 and *out, or -EINVAL. Works on the magnitude as
 * decimal text compared with the limits' text, not with arithmetic. */
static int fuzz_seq_reference(const char *t, size_t len, int64_t *out)
{
    size_t i = 0;
    while (i < len && fuzz_seq_space(t[i]))
        i++;
    while (len > i && fuzz_seq_space(t[len - 1]))
        len--;
    int neg = i < len && t[i] == '-';
    if (neg)
        i++;
    if (i == len)
        return -EINVAL;
    for (size_t k = i; k < len; k++)
        if (t[k] < '0' || t[k] > '9')
            return -EINVAL;
    while (len - i > 1 && t[i] == '0')
        i++;
    const char *limit = neg ? "9223372036854775808" : "9223372036854775807";
    size_t n = len - i, ln = strlen(limit);
    if (n > ln || (n == ln && memcmp(t + i, limit, ln) > 0))
        return -EINVAL;
    uint64_t v = 0;
    for (size_t k = i; k < len; k++)
        v = v * 10 + (uint64_t)(t[k] - '0');
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

int fuzz_seq_one(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int64_t got = 0x5a5a, want = 0x5a5a, again = 0;
    int rc = layout_seq_parse(text, size, &got);
    int ref = fuzz_seq_reference(text, size, &want);

    /* FSQ-1 */
    FUZZ_CHECKF(rc == 0 || rc == -EINVAL, " layout_seq_parse returned %d", rc);
    FUZZ_CHECKF((rc == 0) == (ref == 0), " layout_seq_parse %s, the reference %s",
                rc ? "refuses" : "accepts", ref ? "refuses" : "accepts");
    if (rc != 0)
        return 0;
    FUZZ_CHECKF(got == want, " read %lld, the reference %lld", (long long)got, (long long)want);

    /* FSQ-2 */
    char out[LAYOUT_SEQ_MAX_TEXT];
    memset(out, 0x5a, sizeof(out));
    size_t n = layout_seq_format(got, out);
    FUZZ_CHECK(n > 0 && n <= 20 && n < LAYOUT_SEQ_MAX_TEXT && out[n] == '\0');
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((out[i] >= '0' && out[i] <= '9') || (i == 0 && out[i] == '-'));
    FUZZ_CHECK(!(out[0] == '0' && n > 1));
    FUZZ_CHECK(!(out[0] == '-' && (n == 1 || out[1] == '0')));
    FUZZ_CHECK(layout_seq_parse(out, n, &again) == 0 && again == got);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_seq_one(data, size);
}
#endif
