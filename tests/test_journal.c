/*
 * test_journal.c -- ROOT/JOURNAL's rounds (engine/journal.c J-2, J-9,
 * J-10), on journals written record by record:
 *
 *   - bytes that do not check end the journal when nothing of a later
 *     round follows them (what a power loss in the middle of a round's
 *     write leaves), and the open goes on;
 *   - a valid record of a later round after them is damage: the open and a
 *     read-only open refuse the store, sxp-fsck -n and -p report
 *     journal-damaged and write nothing back, -y saves the bytes to
 *     lost+found/ and writes back the records before and after them;
 *   - a version 1 journal (no rounds) is still written back.
 *
 * Each case starts from a store whose streams "a", "b" and "c" hold seq 1,
 * and a session that died without appending: LOCK unclean, JOURNAL a
 * header. The records written after that header are what the session
 * would have journaled before a power loss took the logs' pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmocka.h>

#include "frame.h"
#include "fsck.h"
#include "journal.h"
#include "recover.h"
#include "store.h"
#include "testutil.h"

/* One record to write: its stream, round, kind, and whether its payload
 * is spoiled (one byte changed, so it does not check). */
struct tj_rec {
    const char *stream;
    uint32_t rnd;
    int last;
    int bad;
};

struct tj {
    char *dir;
    uint64_t start[128]; /* where each record starts in JOURNAL */
    uint64_t size[128];  /* and its bytes */
};

static int tj_setup(void **state)
{
    struct tj *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->dir = tu_tmpdir();
    sxp_store *s = tu_open(t->dir);
    free(tu_op(s, "(persist/append \"a\" {:seq 1 :x \"v\"})"));
    free(tu_op(s, "(persist/append \"b\" {:seq 1 :x \"v\"})"));
    free(tu_op(s, "(persist/append \"c\" {:seq 1 :x \"v\"})"));
    assert_int_equal(sxp_store_close(s), 0);
    store_abandon(tu_open(t->dir)); /* LOCK unclean, JOURNAL a new header */
    *state = t;
    return 0;
}

static int tj_teardown(void **state)
{
    struct tj *t = *state;
    tu_rmrf(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

static char *tj_path(const struct tj *t, const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
    return path;
}

static uint64_t tj_size(const struct tj *t, const char *rel)
{
    struct stat st;
    assert_int_equal(stat(tj_path(t, rel), &st), 0);
    return (uint64_t)st.st_size;
}

/* The log of a one-letter stream ("a" is 61 in hex). */
static const char *tj_log(const char *stream)
{
    static char rel[32];
    snprintf(rel, sizeof(rel), "streams/%02x.log", (unsigned char)stream[0]);
    return rel;
}

/* A version 1 record (J-10), for the journals older builds left. */
static size_t tj_format_v1(char *out, uint64_t gen, const char *hex, uint64_t off,
                           const char *payload, size_t len)
{
    int n = sprintf(out, "R %016llx %016llx %08llx %s ", (unsigned long long)gen,
                    (unsigned long long)off, (unsigned long long)len, hex);
    uint64_t sum = XXH3_64bits_withSeed(out, (size_t)n, XXH3_64bits(payload, len));
    n += sprintf(out + n, "%016llx\n", (unsigned long long)sum);
    memcpy(out + n, payload, len);
    return (size_t)n + len;
}

/* Writes recs after JOURNAL's header (version 1 records when v1, with a
 * version 1 header). Each record carries the next seq of its stream, at
 * the offset its log reaches once the records before it are written. */
static void tj_write(struct tj *t, const struct tj_rec *recs, size_t n, int v1)
{
    size_t jlen = 0;
    char *j = tu_read_file(tj_path(t, "JOURNAL"), &jlen);
    assert_int_equal(jlen, JOURNAL_HDR_LEN);
    uint64_t gen = 0;
    assert_int_equal(frame_hex_get(j + 12, 16, &gen), 0);
    if (v1) {
        memcpy(j, "sxpjournal1 ", 12);
        char sum[17];
        snprintf(sum, sizeof(sum), "%016llx", (unsigned long long)XXH3_64bits(j, 28));
        memcpy(j + 29, sum, 16);
    }
    size_t cap = JOURNAL_HDR_LEN + n * 512;
    j = tu_realloc(j, cap);
    uint64_t end[3] = {tj_size(t, tj_log("a")), tj_size(t, tj_log("b")), tj_size(t, tj_log("c"))};
    int64_t seq[3] = {2, 2, 2};
    size_t at = JOURNAL_HDR_LEN;
    for (size_t i = 0; i < n; i++) {
        int k = recs[i].stream[0] - 'a';
        char line[128];
        int len = snprintf(line, sizeof(line), "{:seq %lld :x \"v\"}", (long long)seq[k]++);
        size_t framed = frame_encode(line, (size_t)len, line);
        char hex[3];
        snprintf(hex, sizeof(hex), "%02x", (unsigned char)recs[i].stream[0]);
        t->start[i] = at;
        size_t rec = v1 ? tj_format_v1(j + at, gen, hex, end[k], line, framed)
                        : journal_record_format(j + at, gen, recs[i].rnd, recs[i].last,
                                                recs[i].stream, 1, end[k], line, framed);
        if (recs[i].bad)
            j[at + rec - 4] ^= 1; /* in the payload: the record no longer checks */
        t->size[i] = rec;
        at += rec;
        end[k] += framed;
    }
    tu_write_file(tj_path(t, "JOURNAL"), j, at);
    free(j);
}

static int tj_open_rc(const struct tj *t, int read_only, struct sxp_err *err)
{
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    o.read_only = read_only;
    sxp_store *s = NULL;
    int rc = sxp_store_open(t->dir, &o, &s, err);
    if (rc == 0)
        assert_int_equal(sxp_store_close(s), 0);
    return rc;
}

/* The events of each stream, as "a,b,c" counts: "2,1,1". */
static void tj_assert_counts(const struct tj *t, const char *want)
{
    sxp_store *s = tu_open(t->dir);
    char got[32];
    size_t n[3];
    for (int k = 0; k < 3; k++) {
        char req[64];
        snprintf(req, sizeof(req), "(persist/read \"%c\")", 'a' + k);
        char *text = tu_op(s, req);
        n[k] = 0;
        for (const char *p = text; (p = strstr(p, ":seq")) != NULL; p++)
            n[k]++;
        free(text);
    }
    assert_int_equal(sxp_store_close(s), 0);
    snprintf(got, sizeof(got), "%zu,%zu,%zu", n[0], n[1], n[2]);
    assert_string_equal(got, want);
}

static int tj_fsck(const struct tj *t, enum fsck_mode mode, struct fsck_report *r)
{
    struct fsck_opts fo;
    memset(&fo, 0, sizeof(fo));
    fo.root = t->dir;
    fo.mode = mode;
    return fsck_run(&fo, r);
}

/* Writes recs (tj_write), and checks that the store opens and then holds
 * counts (tj_assert_counts). */
static void tj_assert_opens(struct tj *t, const struct tj_rec *recs, size_t n, int v1,
                            const char *counts)
{
    struct sxp_err err;
    tj_write(t, recs, n, v1);
    int rc = tj_open_rc(t, 0, &err);
    if (rc)
        fail_msg("open: %s", err.msg);
    tj_assert_counts(t, counts);
}

/* J-3: a record that does not check, followed only by records of its own
 * round, is what a power loss in the middle of the round's write leaves:
 * the journal ends there, and the open goes on. */
static void a_torn_round_ends_the_journal(void **state)
{
    struct tj *t = *state;
    const struct tj_rec recs[] = {{"a", 1, 0, 1}, {"b", 1, 1, 0}};
    tj_assert_opens(t, recs, 2, 0, "1,1,1");
}

/* J-9: after the last record of round 1 (KIND 'E'), a bad record starts
 * round 2; more of round 2 after it is a torn round, not damage. */
static void a_torn_round_after_a_whole_one_is_not_damage(void **state)
{
    struct tj *t = *state;
    const struct tj_rec recs[] = {{"a", 1, 1, 0}, {"b", 2, 0, 1}, {"c", 2, 1, 0}};
    tj_assert_opens(t, recs, 3, 0, "2,1,1");
}

/* J-9: the last round's own records can go bad unseen (nothing later
 * proves the round was synced): the documented limit. */
static void damage_to_the_last_round_looks_like_a_power_loss(void **state)
{
    struct tj *t = *state;
    const struct tj_rec recs[] = {{"a", 1, 1, 0}, {"b", 2, 1, 1}};
    tj_assert_opens(t, recs, 2, 0, "2,1,1");
}

/* J-9: a record of a later round after bad bytes proves the bad round was
 * synced: the open and a read-only open refuse the store, and change
 * nothing. recs[bad] is the first bad record, recs[later] the proof. */
static void tj_assert_damage_refused(struct tj *t, const struct tj_rec *recs, size_t n, size_t bad,
                                     size_t later)
{
    tj_write(t, recs, n, 0);
    uint64_t a = tj_size(t, tj_log("a")), jsize = tj_size(t, "JOURNAL");
    struct sxp_err err;
    char want[128];
    snprintf(want, sizeof(want), "the record at byte %llu does not check",
             (unsigned long long)t->start[bad]);
    for (int ro = 0; ro < 2; ro++) {
        assert_int_equal(tj_open_rc(t, ro, &err), -EUCLEAN);
        assert_non_null(strstr(err.msg, "JOURNAL is damaged"));
        assert_non_null(strstr(err.msg, want));
        snprintf(want, sizeof(want), "follows it (byte %llu)", (unsigned long long)t->start[later]);
        assert_non_null(strstr(err.msg, want));
        assert_non_null(strstr(err.msg, "run sxp-fsck"));
        snprintf(want, sizeof(want), "the record at byte %llu does not check",
                 (unsigned long long)t->start[bad]);
    }
    assert_int_equal(tj_size(t, tj_log("a")), a);
    assert_int_equal(tj_size(t, "JOURNAL"), jsize);
}

static void a_later_round_after_a_bad_first_record_is_damage(void **state)
{
    const struct tj_rec recs[] = {{"a", 1, 1, 1}, {"b", 2, 1, 0}};
    tj_assert_damage_refused(*state, recs, 2, 0, 1);
}

static void a_later_round_after_a_torn_looking_round_is_damage(void **state)
{
    /* Round 1's b looks like a torn round's tail, until round 2's c. */
    const struct tj_rec recs[] = {{"a", 1, 0, 1}, {"b", 1, 1, 0}, {"c", 2, 1, 0}};
    tj_assert_damage_refused(*state, recs, 3, 0, 2);
}

static void the_next_round_after_a_bad_middle_record_is_damage(void **state)
{
    /* b is in the middle of round 1 (a is not its last record). */
    const struct tj_rec recs[] = {{"a", 1, 0, 0}, {"b", 1, 1, 1}, {"c", 2, 1, 0}};
    tj_assert_damage_refused(*state, recs, 3, 1, 2);
}

/* sxp-fsck on a damaged journal: -n and -p report journal-damaged and
 * write nothing back; -y saves the bad bytes to lost+found/, writes back
 * the records before and after them (a record whose log no longer reaches
 * its offset is a journal-orphan, saved too), and the store opens. */
static void fsck_reports_a_damaged_journal_and_y_saves_it(void **state)
{
    struct tj *t = *state;
    /* b's seq 2 goes bad; b's seq 3 then lies past its log's end. */
    const struct tj_rec recs[] = {{"a", 1, 1, 0}, {"b", 2, 1, 1}, {"c", 3, 1, 0}, {"b", 4, 1, 0}};
    tj_write(t, recs, 4, 0);
    uint64_t a = tj_size(t, tj_log("a"));
    struct fsck_report r;
    for (int m = 0; m < 2; m++) {
        assert_int_equal(tj_fsck(t, m ? FSCK_MODE_PREEN : FSCK_MODE_CHECK, &r), FSCK_EXIT_LEFT);
        const struct fsck_finding *f = fsck_report_find(&r, FSCK_JOURNAL_DAMAGED);
        assert_non_null(f);
        assert_string_equal(f->file, "JOURNAL");
        assert_int_equal(f->off, t->start[1]);
        assert_int_equal(f->len, t->size[1]);
        assert_int_equal(f->a, (int64_t)t->start[2]);
        assert_int_equal(f->action, FSCK_ACT_NONE);
        f = fsck_report_find(&r, FSCK_JOURNAL_PENDING);
        assert_non_null(f);
        assert_int_equal(f->a, 3); /* a, c, and b's seq 3 */
        assert_int_equal(f->action, FSCK_ACT_NONE);
        fsck_report_free(&r);
        assert_int_equal(tj_size(t, tj_log("a")), a);
    }

    assert_int_equal(tj_fsck(t, FSCK_MODE_YES, &r), FSCK_EXIT_REPAIRED);
    const struct fsck_finding *f = fsck_report_find(&r, FSCK_JOURNAL_DAMAGED);
    assert_non_null(f);
    assert_int_equal(f->action, FSCK_ACT_MOVED);
    assert_non_null(f->moved_to);
    /* lost+found holds the bad record's bytes, as they were. */
    size_t len = 0;
    char *saved = tu_read_file(tj_path(t, f->moved_to), &len);
    assert_int_equal(len, t->size[1]);
    assert_memory_equal(saved, "E ", 2);
    free(saved);
    f = fsck_report_find(&r, FSCK_JOURNAL_ORPHAN);
    assert_non_null(f);
    assert_string_equal(f->file, "streams/62.log");
    assert_int_equal(f->action, FSCK_ACT_MOVED);
    fsck_report_free(&r);

    assert_int_equal(tj_fsck(t, FSCK_MODE_CHECK, &r), FSCK_EXIT_CLEAN);
    fsck_report_free(&r);
    tj_assert_counts(t, "2,1,2");
}

/* J-8: a header that does not check, with records after it, is damage:
 * the records' generation is unknown, and they may be acknowledged
 * appends their logs lack. The open and a read-only open refuse the store
 * and change nothing; sxp-fsck -n and -p report journal-header; -y saves
 * the whole file to lost+found/ and starts an empty journal. */
static void a_damaged_header_before_records_is_refused(void **state)
{
    struct tj *t = *state;
    const struct tj_rec recs[] = {{"a", 1, 0, 0}, {"b", 1, 1, 0}};
    tj_write(t, recs, 2, 0);
    size_t len = 0;
    char *j = tu_read_file(tj_path(t, "JOURNAL"), &len);
    j[5] ^= 0x20; /* "sxpjOurnal2": the header no longer checks */
    tu_write_file(tj_path(t, "JOURNAL"), j, len);
    uint64_t a = tj_size(t, tj_log("a"));
    struct sxp_err err;
    for (int ro = 0; ro < 2; ro++) {
        assert_int_equal(tj_open_rc(t, ro, &err), -EUCLEAN);
        assert_non_null(strstr(err.msg, "header does not check"));
        assert_non_null(strstr(err.msg, "sxp-fsck"));
    }
    size_t now_len = 0;
    char *now = tu_read_file(tj_path(t, "JOURNAL"), &now_len);
    assert_int_equal(now_len, len);
    assert_memory_equal(now, j, len);
    free(now);
    assert_int_equal(tj_size(t, tj_log("a")), a);

    struct fsck_report r;
    for (int m = 0; m < 2; m++) {
        assert_int_equal(tj_fsck(t, m ? FSCK_MODE_PREEN : FSCK_MODE_CHECK, &r), FSCK_EXIT_LEFT);
        const struct fsck_finding *f = fsck_report_find(&r, FSCK_JOURNAL_HEADER);
        assert_non_null(f);
        assert_string_equal(f->file, "JOURNAL");
        assert_int_equal(f->len, len);
        assert_int_equal(f->action, FSCK_ACT_NONE);
        fsck_report_free(&r);
        assert_int_equal(tj_size(t, "JOURNAL"), len);
    }
    assert_int_equal(tj_fsck(t, FSCK_MODE_YES, &r), FSCK_EXIT_REPAIRED);
    const struct fsck_finding *f = fsck_report_find(&r, FSCK_JOURNAL_HEADER);
    assert_non_null(f);
    assert_int_equal(f->action, FSCK_ACT_MOVED);
    assert_non_null(f->moved_to);
    size_t saved_len = 0;
    char *saved = tu_read_file(tj_path(t, f->moved_to), &saved_len);
    assert_int_equal(saved_len, len);
    assert_memory_equal(saved, j, len);
    free(saved);
    fsck_report_free(&r);
    free(j);
    assert_int_equal(tj_size(t, "JOURNAL"), JOURNAL_HDR_LEN);
    assert_int_equal(tj_fsck(t, FSCK_MODE_CHECK, &r), FSCK_EXIT_CLEAN);
    fsck_report_free(&r);
    tj_assert_counts(t, "1,1,1"); /* the records were not written back */
}

/* J-8: a header that does not check with only zeros after it (a creation
 * a crash tore, or its zeroed space) holds nothing: the open goes on. */
static void a_bad_header_with_only_zeros_after_it_is_a_torn_creation(void **state)
{
    struct tj *t = *state;
    char j[JOURNAL_HDR_LEN + 4096];
    memset(j, 0, sizeof(j));
    memcpy(j, "sxpjour", 7); /* a torn header */
    tu_write_file(tj_path(t, "JOURNAL"), j, sizeof(j));
    struct sxp_err err;
    int rc = tj_open_rc(t, 0, &err);
    if (rc)
        fail_msg("open: %s", err.msg);
    tj_assert_counts(t, "1,1,1");
}

/* The header of generation gen (J-1). */
static void tj_header(char out[JOURNAL_HDR_LEN], uint64_t gen)
{
    char text[JOURNAL_HDR_LEN + 1];
    int n = snprintf(text, sizeof(text), "sxpjournal2 %016llx ", (unsigned long long)gen);
    snprintf(text + n, sizeof(text) - (size_t)n, "%016llx\n",
             (unsigned long long)XXH3_64bits(text, 28));
    memcpy(out, text, JOURNAL_HDR_LEN);
}

/* JOURNAL as body (a header, then records) but for its header: a rewrite
 * of generation g to g + step torn at byte k, the new header's first k
 * bytes over the old one's last. The store is left unclean. */
static void tj_torn_header(struct tj *t, const char *body, size_t len, uint64_t g, uint64_t step,
                           size_t k)
{
    store_abandon(tu_open(t->dir)); /* LOCK unclean */
    char *j = malloc(len);
    assert_non_null(j);
    memcpy(j, body, len);
    char neu[JOURNAL_HDR_LEN];
    tj_header(j, g);
    tj_header(neu, g + step);
    memcpy(j, neu, k);
    tu_write_file(tj_path(t, "JOURNAL"), j, len);
    free(j);
}

/* J-8 (b): a header rewrite torn by a power loss, at any byte, and whatever
 * the generations (0xff to 0x100 carries into GEN's higher digits), holds
 * nothing pending: every rewrite happens when nothing in the file is. The
 * open goes on without writing the records back. A header no such tear
 * explains (g to g + 2) is damage. */
static void a_torn_header_rewrite_holds_nothing_pending(void **state)
{
    struct tj *t = *state;
    const struct tj_rec recs[] = {{"a", 1, 1, 0}, {"b", 2, 1, 0}};
    tj_write(t, recs, 2, 0);
    size_t len = 0;
    char *body = tu_read_file(tj_path(t, "JOURNAL"), &len);
    tu_write_file(tj_path(t, "JOURNAL"), body, JOURNAL_HDR_LEN); /* none pending */
    /* Not the records' generation, so that no header here is theirs. */
    const uint64_t gens[] = {0x10, 0xff, 0xfffffffffULL};
    struct sxp_err err;
    for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
        for (size_t k = 0; k <= JOURNAL_HDR_LEN; k++) {
            tj_torn_header(t, body, len, gens[i], 1, k);
            int rc = tj_open_rc(t, 0, &err);
            if (rc)
                fail_msg("gen %llx torn at byte %zu: %s", (unsigned long long)gens[i], k, err.msg);
        }
    }
    tj_assert_counts(t, "1,1,1");
    tj_torn_header(t, body, len, 0xff, 2, 35); /* in SUM */
    assert_int_equal(tj_open_rc(t, 0, &err), -EUCLEAN);
    assert_non_null(strstr(err.msg, "header does not check"));
    free(body);
}

/* J-10: a journal an older build left (version 1: no rounds) is written
 * back; bad bytes end it, whatever follows (it cannot tell rounds apart). */
static void a_version_1_journal_is_written_back(void **state)
{
    struct tj *t = *state;
    const struct tj_rec recs[] = {{"a", 0, 0, 0}, {"b", 0, 0, 1}, {"c", 0, 0, 0}};
    tj_assert_opens(t, recs, 3, 1, "2,1,1");
    /* The open after it wrote a version 2 header. */
    size_t len = 0;
    char *j = tu_read_file(tj_path(t, "JOURNAL"), &len);
    assert_true(len >= JOURNAL_HDR_LEN);
    assert_memory_equal(j, "sxpjournal2 ", 12);
    free(j);
}

/* recovery neither writes again nor syncs the lines that R-0 has just
 * written back and synced; a log with a line above its .seq that no record
 * holds (a round that did not go through the journal) gets both. */
static void recovery_leaves_what_the_replay_synced(void **state)
{
    struct tj *t = *state;
    const struct tj_rec recs[] = {{"a", 1, 0, 0}, {"b", 1, 1, 0}, {"a", 2, 1, 0}};
    tj_write(t, recs, 3, 0);
    char line[128];
    int len = snprintf(line, sizeof(line), "{:seq 2 :x \"w\"}");
    size_t framed = frame_encode(line, (size_t)len, line);
    size_t clen = 0;
    char *c = tu_read_file(tj_path(t, tj_log("c")), &clen);
    c = tu_realloc(c, clen + framed);
    memcpy(c + clen, line, framed);
    tu_write_file(tj_path(t, tj_log("c")), c, clen + framed);
    free(c);

    struct sxp_io *io = NULL;
    struct sxp_err err;
    struct recover_report rep;
    assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &io, &err), 0);
    int rc = recover_store(io, t->dir, 1, &rep, &err);
    io->destroy(io);
    if (rc)
        fail_msg("recover_store: %s", err.msg);
    assert_int_equal(rep.journal_records, 3);
    assert_int_equal(rep.logs_scanned, 3);
    assert_int_equal(rep.hw_rolled, 3);
    assert_int_equal(rep.bytes_rewritten, framed); /* c's line alone */
    assert_int_equal(rep.logs_synced, 1);          /* c */
    tj_assert_counts(t, "3,2,2");
}

/* JOURNAL's generation, read off its header. */
static uint64_t tj_gen(const struct tj *t)
{
    size_t len = 0;
    uint64_t gen = 0;
    char *j = tu_read_file(tj_path(t, "JOURNAL"), &len);
    assert_true(len >= JOURNAL_HDR_LEN);
    assert_int_equal(frame_hex_get(j + 12, 16, &gen), 0);
    free(j);
    return gen;
}

/* J-1, J-5: every open starts a generation above the header's, of either
 * version; a header it could not read would start over at 1 and drop the
 * file's zeros ahead. */
static void each_open_starts_a_higher_generation(void **state)
{
    struct tj *t = *state;
    for (int v1 = 0; v1 < 2; v1++) {
        struct sxp_err err;
        if (v1)
            tj_write(t, NULL, 0, 1); /* a version 1 header, no record */
        uint64_t before = tj_gen(t);
        assert_true(before > 1);
        assert_int_equal(tj_open_rc(t, 0, &err), 0); /* open, then close */
        assert_true(tj_gen(t) > before);
        store_abandon(tu_open(t->dir)); /* for the next round: a header alone */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_torn_round_ends_the_journal, tj_setup, tj_teardown),
        cmocka_unit_test_setup_teardown(a_torn_round_after_a_whole_one_is_not_damage, tj_setup,
                                        tj_teardown),
        cmocka_unit_test_setup_teardown(damage_to_the_last_round_looks_like_a_power_loss, tj_setup,
                                        tj_teardown),
        cmocka_unit_test_setup_teardown(a_later_round_after_a_bad_first_record_is_damage, tj_setup,
                                        tj_teardown),
        cmocka_unit_test_setup_teardown(a_later_round_after_a_torn_looking_round_is_damage,
                                        tj_setup, tj_teardown),
        cmocka_unit_test_setup_teardown(the_next_round_after_a_bad_middle_record_is_damage,
                                        tj_setup, tj_teardown),
        cmocka_unit_test_setup_teardown(fsck_reports_a_damaged_journal_and_y_saves_it, tj_setup,
                                        tj_teardown),
        cmocka_unit_test_setup_teardown(a_damaged_header_before_records_is_refused, tj_setup,
                                        tj_teardown),
        cmocka_unit_test_setup_teardown(recovery_leaves_what_the_replay_synced, tj_setup,
                                        tj_teardown),
        cmocka_unit_test_setup_teardown(a_bad_header_with_only_zeros_after_it_is_a_torn_creation,
                                        tj_setup, tj_teardown),
        cmocka_unit_test_setup_teardown(a_torn_header_rewrite_holds_nothing_pending, tj_setup,
                                        tj_teardown),
        cmocka_unit_test_setup_teardown(a_version_1_journal_is_written_back, tj_setup, tj_teardown),
        cmocka_unit_test_setup_teardown(each_open_starts_a_higher_generation, tj_setup,
                                        tj_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
