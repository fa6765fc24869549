/*
 * fuzz_journal.c -- ROOT/JOURNAL's replay (engine/journal.c J-3, J-9) on
 * journals of any shape, damaged anywhere: what a power loss or a failing
 * disk leaves, and the rule that tells the two apart.
 *
 * THE TEMPLATE. On first use a store is built in
 * $TMPDIR/sxp-fuzz-journal-XXXXXX/template: streams "a", "b", "c" at seq
 * 1, closed cleanly, then opened and abandoned (store_abandon), so LOCK is
 * unclean and JOURNAL is a header of generation GEN. Each input gets a copy
 * of it, with the records the script builds written after that header.
 *
 * THE INPUT IS A SCRIPT, one op byte and its arguments at a time (missing
 * bytes read as 0), at most FJ_MAX_RECS records:
 *   op & 7 = 0, 1, 2   a record of stream "a", "b" or "c" in the current
 *                      round; bit 3: it is the round's last (KIND 'E'),
 *                      and the next record starts the next round; bit 4:
 *                      skip (op >> 5) + 1 round numbers first
 *   3 POS16 MASK       FLIP: XOR a byte of the records (MASK | 1)
 *   4 POS16 LEN        ZERO: LEN + 1 bytes of the records become NUL
 *   5 (op >> 3) BYTES  JUNK: op >> 3 bytes from the input, between records
 *   6 POS16            CUT: the file ends there (a torn end)
 *   7                  as 0-2, for stream (op >> 3) % 3, round (op >> 5) + 1
 * Each record holds its stream's next seq at the offset its log reaches
 * once the records before it are written, as the engine writes them. The
 * damages are applied after the records are built, in script order; the
 * header is never touched. The script keeps the TRUTH: which records are
 * intact (no damaged byte, not cut) and where the junk is.
 *
 * THE MODEL (J-9). P is where the first bad byte of the records is (a
 * damaged record's start, or junk's); p is the round of the intact record
 * before P, one more when that record ends its round, 1 when there is none.
 * The journal is damaged when an intact record after P is of a round above
 * p.
 *
 * PROPERTIES, for any script:
 *   FJ-1  journal_replay only looking, with no orphan handler: -EUCLEAN
 *         ("JOURNAL is damaged", naming P) exactly when the model says
 *         damaged; otherwise 0, and the records it counts are the intact
 *         ones before P.
 *   FJ-2  With an orphan handler (sxp-fsck's way): 0, damaged_at is P when
 *         damaged (else 0), and it counts the intact records before P, and
 *         when damaged every intact one after P as well.
 *   FJ-3  The read-write open returns -EUCLEAN when damaged and 0 otherwise;
 *         then every stream holds seq 1 and one event per intact record of
 *         it before P, in order.
 *   FJ-4  When damaged: sxp-fsck -y exits 1, then -n exits 0, and every
 *         stream holds seq 1 and its intact records up to its first record
 *         that is not intact (the later ones lie past its log's end: their
 *         lines go to lost+found/, as journal-orphan).
 */
#include "fuzz.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fsck.h"
#include "io.h"
#include "journal.h"
#include "store.h"

#define FJ_MAX_RECS 48
#define FJ_MAX_JUNK 16
#define FJ_MAX_BYTES 65536

struct fj_rec {
    int stream; /* 0..2 */
    uint32_t rnd;
    int last;
    size_t start, end; /* in the journal */
    int intact;
};

struct fj_junk {
    size_t start, end;
};

static char fj_root[PATH_MAX];     /* $TMPDIR/sxp-fuzz-journal-XXXXXX */
static char fj_template[PATH_MAX]; /* fj_root/template */
static char fj_work[PATH_MAX];     /* fj_root/work */
static uint64_t fj_gen;
static struct sxp_io *fj_io; /* plain syscalls, for journal_replay */
static uint64_t fj_log_size[3];

void fuzz_journal_reset(void)
{
    if (fj_root[0])
        fuzz_rmrf(fj_root);
    fj_root[0] = '\0';
    if (fj_io)
        fj_io->destroy(fj_io);
    fj_io = NULL;
}

static sxp_store *fj_open(const char *dir, int *rc, struct sxp_err *err)
{
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    sxp_store *s = NULL;
    *rc = sxp_store_open(dir, &o, &s, err);
    return *rc ? NULL : s;
}

static void fj_init(void)
{
    if (fj_root[0])
        return;
    struct sxp_err err;
    int rc;
    FUZZ_CHECK(io_backend_new(SXP_IO_SYNC, 1, &fj_io, &err) == 0);
    fuzz_tmpdir("journal", fj_root);
    fuzz_fmt(fj_template, sizeof(fj_template), "%s/template", fj_root);
    fuzz_fmt(fj_work, sizeof(fj_work), "%s/work", fj_root);
    sxp_store *s = fj_open(fj_template, &rc, &err);
    FUZZ_CHECKF(s != NULL, "open %s: %s", fj_template, err.msg);
    for (int k = 0; k < 3; k++) {
        char name[2] = {(char)('a' + k), 0};
        sxp_value *ev = NULL;
        FUZZ_CHECK(sxp_value_parse("{:seq 1 :x \"v\"}", 15, &ev, &err) == 0);
        FUZZ_CHECKF(sxp_stream_append(s, name, 1, ev, &err) == 0, "append: %s", err.msg);
        sxp_value_free(ev);
    }
    FUZZ_CHECK(sxp_store_close(s) == 0);
    s = fj_open(fj_template, &rc, &err);
    FUZZ_CHECKF(s != NULL, "reopen %s: %s", fj_template, err.msg);
    store_abandon(s);
    char path[PATH_MAX];
    size_t len = 0;
    fuzz_fmt(path, sizeof(path), "%s/JOURNAL", fj_template);
    char *j = fuzz_read_file(path, &len);
    FUZZ_CHECK(j != NULL && len == JOURNAL_HDR_LEN);
    FUZZ_CHECK(frame_hex_get(j + 12, 16, &fj_gen) == 0);
    free(j);
    for (int k = 0; k < 3; k++) {
        fuzz_fmt(path, sizeof(path), "%s/streams/%02x.log", fj_template, 'a' + k);
        char *log = fuzz_read_file(path, &len);
        FUZZ_CHECK(log != NULL);
        free(log);
        fj_log_size[k] = len;
    }
}

struct fj_journal {
    char *buf; /* the whole file, header first */
    size_t len;
    struct fj_rec rec[FJ_MAX_RECS];
    size_t nrec;
    struct fj_junk junk[FJ_MAX_JUNK];
    size_t njunk;
};

static void fj_add_record(struct fj_journal *jr, int stream, uint32_t rnd, int last, int64_t *seq,
                          uint64_t *log_end)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "{:seq %lld :x \"v\"}", (long long)seq[stream]++);
    size_t framed = frame_encode(line, (size_t)n, line);
    struct fj_rec *r = &jr->rec[jr->nrec++];
    char name[2] = {(char)('a' + stream), 0};
    *r = (struct fj_rec){.stream = stream, .rnd = rnd, .last = last, .start = jr->len, .intact = 1};
    jr->len += journal_record_format(jr->buf + jr->len, fj_gen, rnd, last, name, 1, log_end[stream],
                                     line, framed);
    r->end = jr->len;
    log_end[stream] += framed;
}

/* Builds the journal the script describes, and its truth. */
static void fj_build(struct fuzz_in *in, struct fj_journal *jr)
{
    int64_t seq[3] = {2, 2, 2};
    uint64_t log_end[3] = {fj_log_size[0], fj_log_size[1], fj_log_size[2]};
    uint32_t round = 1;
    struct {
        unsigned kind, pos, arg;
    } dmg[64];
    size_t ndmg = 0;
    /* The header, from the template's JOURNAL. */
    char path[PATH_MAX];
    size_t hlen = 0;
    fuzz_fmt(path, sizeof(path), "%s/JOURNAL", fj_template);
    char *h = fuzz_read_file(path, &hlen);
    FUZZ_CHECK(h != NULL && hlen == JOURNAL_HDR_LEN);
    jr->buf = malloc(FJ_MAX_BYTES);
    FUZZ_CHECK(jr->buf != NULL);
    memcpy(jr->buf, h, JOURNAL_HDR_LEN);
    free(h);
    jr->len = JOURNAL_HDR_LEN;
    while (in->i < in->n && jr->nrec < FJ_MAX_RECS) {
        unsigned op = fuzz_u8(in);
        switch (op & 7) {
        case 0:
        case 1:
        case 2:
            if (op & 16)
                round += (op >> 5) + 1;
            fj_add_record(jr, (int)(op & 7), round, (op >> 3) & 1, seq, log_end);
            if ((op >> 3) & 1)
                round++;
            break;
        case 7:
            fj_add_record(jr, (int)((op >> 3) % 3), (op >> 5) + 1, 0, seq, log_end);
            break;
        case 5: {
            size_t n = op >> 3;
            if (jr->njunk == FJ_MAX_JUNK || n == 0)
                break;
            jr->junk[jr->njunk++] = (struct fj_junk){jr->len, jr->len + n};
            for (size_t k = 0; k < n; k++)
                jr->buf[jr->len++] = (char)fuzz_u8(in);
            break;
        }
        default: /* FLIP, ZERO, CUT: applied once the records are built */
            if (ndmg < sizeof(dmg) / sizeof(dmg[0])) {
                dmg[ndmg].kind = op & 7;
                dmg[ndmg].pos = fuzz_u16(in);
                dmg[ndmg].arg = (op & 7) == 6 ? 0 : fuzz_u8(in);
                ndmg++;
            }
            break;
        }
    }
    char *orig = malloc(jr->len);
    FUZZ_CHECK(orig != NULL);
    memcpy(orig, jr->buf, jr->len);
    for (size_t i = 0; i < ndmg && jr->len > JOURNAL_HDR_LEN; i++) {
        size_t pos = JOURNAL_HDR_LEN + dmg[i].pos % (jr->len - JOURNAL_HDR_LEN);
        if (dmg[i].kind == 3) {
            jr->buf[pos] ^= (char)(dmg[i].arg | 1);
        } else if (dmg[i].kind == 4) {
            size_t end = pos + dmg[i].arg + 1 < jr->len ? pos + dmg[i].arg + 1 : jr->len;
            memset(jr->buf + pos, 0, end - pos);
        } else {
            jr->len = pos;
        }
    }
    /* Intact: every byte still there and as built (two flips of one byte
     * undo each other). */
    for (size_t i = 0; i < jr->nrec; i++) {
        struct fj_rec *r = &jr->rec[i];
        r->intact = r->end <= jr->len &&
                    memcmp(orig + r->start, jr->buf + r->start, r->end - r->start) == 0;
    }
    free(orig);
}

/* The model (J-9): P (jr->len when nothing is bad), and whether the
 * journal is damaged. */
static size_t fj_model(const struct fj_journal *jr, int *damaged)
{
    size_t bad = jr->len;
    for (size_t i = 0; i < jr->nrec; i++)
        if (!jr->rec[i].intact && jr->rec[i].start < bad)
            bad = jr->rec[i].start;
    for (size_t i = 0; i < jr->njunk; i++)
        if (jr->junk[i].start < bad) /* junk cut away starts at or past len */
            bad = jr->junk[i].start;
    const struct fj_rec *prev = NULL;
    for (size_t i = 0; i < jr->nrec; i++)
        if (jr->rec[i].end <= bad)
            prev = &jr->rec[i];
    uint32_t p = !prev ? 1 : prev->last ? prev->rnd + 1 : prev->rnd;
    *damaged = 0;
    for (size_t i = 0; i < jr->nrec; i++)
        if (jr->rec[i].intact && jr->rec[i].start > bad && jr->rec[i].rnd > p)
            *damaged = 1;
    return bad;
}

static int fj_count_orphan(void *arg, const struct journal_orphan *o)
{
    (void)o;
    (*(unsigned *)arg)++;
    return 0;
}

/* Checks that each stream holds seq 1 and then want[k] more, in order. */
static void fj_check_streams(const size_t *want)
{
    struct sxp_err err;
    int rc;
    sxp_store *s = fj_open(fj_work, &rc, &err);
    FUZZ_CHECKF(s != NULL, "open after replay: %s", err.msg);
    for (int k = 0; k < 3; k++) {
        char name[2] = {(char)('a' + k), 0};
        sxp_value *out = NULL;
        FUZZ_CHECKF(sxp_stream_read(s, name, 1, &out, &err) == 0, "read %s: %s", name, err.msg);
        size_t n = sxp_value_len(out);
        FUZZ_CHECKF(n == 1 + want[k], "stream %s holds %zu events, the model %zu", name, n,
                    1 + want[k]);
        for (size_t i = 0; i < n; i++) {
            const sxp_value *seq = sxp_value_dict_get(sxp_value_list_get(out, i), "seq", 3);
            FUZZ_CHECK(seq != NULL && sxp_value_as_int(seq) == (int64_t)i + 1);
        }
        sxp_value_free(out);
    }
    FUZZ_CHECK(sxp_store_close(s) == 0);
}

static int fj_fsck(enum fsck_mode mode)
{
    struct fsck_opts o;
    struct fsck_report r;
    memset(&o, 0, sizeof(o));
    o.root = fj_work;
    o.mode = mode;
    int rc = fsck_run(&o, &r);
    fsck_report_free(&r);
    return rc;
}

int fuzz_journal_one(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size, 0};
    struct fj_journal jr;
    struct journal_replay_report rep;
    struct sxp_err err;
    char path[PATH_MAX];
    int damaged, rc;
    memset(&jr, 0, sizeof(jr));
    fj_init();
    fj_build(&in, &jr);
    size_t bad = fj_model(&jr, &damaged);
    fuzz_rmrf(fj_work);
    fuzz_copy_tree(fj_template, fj_work);
    fuzz_fmt(path, sizeof(path), "%s/JOURNAL", fj_work);
    FUZZ_CHECK(fuzz_write_file(path, jr.buf, jr.len) == 0);

    unsigned before = 0, after = 0;
    size_t before_of[3] = {0}, upto[3] = {0};
    int broken[3] = {0};
    for (size_t i = 0; i < jr.nrec; i++) {
        const struct fj_rec *r = &jr.rec[i];
        if (r->end <= bad) {
            before++;
            before_of[r->stream]++;
        } else if (r->intact) {
            after++;
        }
        if (!r->intact)
            broken[r->stream] = 1;
        else if (!broken[r->stream])
            upto[r->stream]++;
    }
    if (fuzz_verbose())
        fprintf(stderr, "fuzz_journal: %zu records, %zu junk, %zu bytes, P %zu, %s\n", jr.nrec,
                jr.njunk, jr.len, bad, damaged ? "damaged" : "not damaged");

    /* FJ-1 */
    rc = journal_replay(fj_io, fj_work, 0, 0, -1, NULL, NULL, NULL, &rep, &err);
    if (damaged) {
        char want[96];
        fuzz_fmt(want, sizeof(want), "the record at byte %zu does not check", bad);
        FUZZ_CHECKF(rc == -EUCLEAN && strstr(err.msg, "JOURNAL is damaged") &&
                        strstr(err.msg, want),
                    "rc %d, %s", rc, rc ? err.msg : "no error");
    } else {
        FUZZ_CHECKF(rc == 0, "rc %d: %s", rc, err.msg);
        FUZZ_CHECKF(rep.records == before, "%u records, the model %u", rep.records, before);
    }
    /* FJ-2 */
    unsigned orphans = 0;
    rc = journal_replay(fj_io, fj_work, 0, 0, -1, NULL, fj_count_orphan, &orphans, &rep, &err);
    FUZZ_CHECKF(rc == 0, "rc %d: %s", rc, err.msg);
    FUZZ_CHECKF(rep.damaged_at == (damaged ? bad : 0), "damaged at %llu, the model %zu (%s)",
                (unsigned long long)rep.damaged_at, damaged ? bad : 0,
                damaged ? "damaged" : "not damaged");
    FUZZ_CHECKF(rep.records == before + (damaged ? after : 0), "%u records, the model %u",
                rep.records, before + (damaged ? after : 0));
    /* FJ-3 */
    int orc;
    sxp_store *s = fj_open(fj_work, &orc, &err);
    if (s)
        FUZZ_CHECK(sxp_store_close(s) == 0);
    FUZZ_CHECKF(orc == (damaged ? -EUCLEAN : 0), "open: %d %s", orc, orc ? err.msg : "");
    if (!damaged) {
        fj_check_streams(before_of);
    } else {
        /* FJ-4 */
        FUZZ_CHECKF((rc = fj_fsck(FSCK_MODE_YES)) == FSCK_EXIT_REPAIRED, "fsck -y exit %d", rc);
        FUZZ_CHECKF((rc = fj_fsck(FSCK_MODE_CHECK)) == FSCK_EXIT_CLEAN, "fsck -n exit %d", rc);
        fj_check_streams(upto);
    }
    free(jr.buf);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_journal_one(data, size);
}
#endif
