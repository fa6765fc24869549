/*
 * fuzz_sx.c -- the SX reader (engine/sx.h) on arbitrary bytes.
 *
 * PROPERTIES, for any input T:
 *   FSX-1  sx_parse(T) returns 0 with a value, or a negative errno that
 *          sxp.h lists, a kind word and no value. Never a crash or a leak.
 *   FSX-2  If sx_parse(T) gives V: sx_serialize(V) succeeds (whatever the
 *          reader accepts, the writer can write) giving S1, which holds no
 *          raw LF or TAB (SX-2); sx_parse(S1) gives V2, sx_serialize(V2)
 *          gives S2, S1 == S2 (SX-1); V2 equals V (sxp_value_equal) except
 *          that a whole double below 1e15 in V may be the same integer in V2
 *          (sx.h NUM); and V2 is a fixed point: sx_parse(S2) equals V2.
 *   FSX-3  sxp_value_copy(V) is equal to V and has the same text.
 *   FSX-4  sxcheck agrees with the reader (recovery/sxcheck.h SXC-1) on T
 *          and on S1: EVENT with seq s exactly when sx_parse accepts and
 *          sx_event_seq gives s; NOT_EVENT when it accepts and sx_event_seq
 *          refuses; UNPARSABLE when sx_parse refuses. sxcheck_value is 1
 *          exactly when sx_parse accepts.
 *   FSX-5  sx_peek_seq agrees with sx_event_seq on every text sx_parse
 *          accepts (T and S1): the same seq, or both refuse.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sx.h"
#include "sxcheck.h"

/* FSX-4 and FSX-5 for one text whose reading is known: v is sx_parse's
 * value, or NULL when it refused the text. */
static void fuzz_sx_agree(const char *text, size_t len, const sxp_value *v)
{
    int64_t seq = 0, cseq = 0, pseq = 0;
    int event = v != NULL && sx_event_seq(v, &seq, NULL) == 0;
    enum sxcheck_verdict want = v == NULL ? SXCHECK_UNPARSABLE
                                : event   ? SXCHECK_EVENT
                                          : SXCHECK_NOT_EVENT;
    enum sxcheck_verdict got = sxcheck_event(text, len, &cseq);
    FUZZ_CHECKF(got == want, " sxcheck_event says %d, sx_parse/sx_event_seq say %d", (int)got,
                (int)want);
    if (want == SXCHECK_EVENT)
        FUZZ_CHECKF(cseq == seq, " sxcheck seq %lld, sx_event_seq %lld", (long long)cseq,
                    (long long)seq);
    FUZZ_CHECK(sxcheck_value(text, len) == (v != NULL));
    if (v != NULL) {
        int prc = sx_peek_seq(text, len, &pseq);
        FUZZ_CHECKF((prc == 0) == event, " sx_peek_seq rc %d but sx_event_seq %s", prc,
                    event ? "accepts" : "refuses");
        if (event)
            FUZZ_CHECKF(pseq == seq, " sx_peek_seq %lld, sx_event_seq %lld", (long long)pseq,
                        (long long)seq);
    }
}

/* 1 when a and b differ only where a has a NUM whose value is a whole
 * number and b the INT of that value (sx.h NUM). */
static int fuzz_sx_num_int_only(const sxp_value *a, const sxp_value *b)
{
    enum sxp_type ta = sxp_value_type(a), tb = sxp_value_type(b);
    if (ta == SXP_NUM && tb == SXP_INT)
        return sxp_value_as_num(a) == (double)sxp_value_as_int(b) && sxp_value_as_num(a) < 1e15 &&
               sxp_value_as_num(a) > -1e15;
    if (ta != tb)
        return 0;
    if (ta == SXP_LIST) {
        if (sxp_value_len(a) != sxp_value_len(b))
            return 0;
        for (size_t i = 0; i < sxp_value_len(a); i++)
            if (!fuzz_sx_num_int_only(sxp_value_list_get(a, i), sxp_value_list_get(b, i)))
                return 0;
        return 1;
    }
    if (ta == SXP_DICT) {
        if (sxp_value_len(a) != sxp_value_len(b))
            return 0;
        for (size_t i = 0; i < sxp_value_len(a); i++) {
            const char *k = NULL;
            size_t kl = 0;
            const sxp_value *x = sxp_value_dict_at(a, i, &k, &kl);
            const sxp_value *y = sxp_value_dict_get(b, k, kl);
            if (!y || !fuzz_sx_num_int_only(x, y))
                return 0;
        }
        return 1;
    }
    return sxp_value_equal(a, b);
}

int fuzz_sx_one(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct sxp_err err;
    sxp_value *v = NULL, *v2 = NULL, *cp = NULL;
    char *s1 = NULL, *s2 = NULL, *s3 = NULL;
    size_t n1 = 0, n2 = 0, n3 = 0;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = sx_parse(text, size, &v, &err);
    /* FSX-1 */
    if (rc != 0) {
        FUZZ_CHECKF(rc < 0 && fuzz_known_errno(rc), " sx_parse returned %d", rc);
        FUZZ_CHECK(err.code == rc && err.kind && err.kind[0]);
        fuzz_sx_agree(text, size, NULL);
        /* The out-parameter must not hold a value to leak or free. */
        FUZZ_CHECK(v == NULL);
        return 0;
    }
    FUZZ_CHECK(v != NULL);

    /* FSX-2 */
    s1 = fuzz_text(v, &n1, &rc);
    FUZZ_CHECKF(s1 != NULL, " sx_serialize refused an accepted value: rc %d", rc);
    FUZZ_CHECK(memchr(s1, '\n', n1) == NULL && memchr(s1, '\t', n1) == NULL);
    rc = sx_parse(s1, n1, &v2, &err);
    FUZZ_CHECKF(rc == 0, " its own text does not parse: rc %d: %s: %.200s", rc, err.msg, s1);
    s2 = fuzz_text(v2, &n2, &rc);
    FUZZ_CHECKF(s2 != NULL, " sx_serialize of the re-read value failed: rc %d", rc);
    FUZZ_CHECKF(n1 == n2 && memcmp(s1, s2, n1) == 0, " not a fixed point: %.200s / %.200s", s1, s2);
    /* sxp.h: equal means the same type and contents. The one change a
     * round trip may make is sx.h's NUM rule: a whole double below 1e15
     * prints as digits and reads back as an INT of the same value. */
    if (!sxp_value_equal(v, v2))
        FUZZ_CHECKF(fuzz_sx_num_int_only(v, v2),
                    " parse(serialize(v)) differs from v beyond whole doubles: %.200s", s1);
    /* One round trip reaches the fixed point, types included. */
    sxp_value *v3 = NULL;
    FUZZ_CHECK(sx_parse(s2, n2, &v3, NULL) == 0);
    FUZZ_CHECK(sxp_value_equal(v2, v3));
    sxp_value_free(v3);

    /* FSX-3 */
    cp = sxp_value_copy(v);
    FUZZ_CHECK(cp != NULL);
    FUZZ_CHECK(sxp_value_equal(v, cp));
    s3 = fuzz_text(cp, &n3, &rc);
    FUZZ_CHECK(s3 != NULL && n3 == n1 && memcmp(s1, s3, n1) == 0);

    /* FSX-4, FSX-5 */
    fuzz_sx_agree(text, size, v);
    fuzz_sx_agree(s1, n1, v2);

    free(s1);
    free(s2);
    free(s3);
    sxp_value_free(v);
    sxp_value_free(v2);
    sxp_value_free(cp);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_sx_one(data, size);
}
#endif
