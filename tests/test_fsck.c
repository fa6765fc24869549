/*
 * test_fsck.c -- sxp-fsck (fsck/) through fsck_run, on every fixture of
 * fixtures.h in every mode:
 *   -n  the right code, class and exit status; the tree unchanged byte for
 *       byte (names, contents, modes, mtimes) and no access time touched;
 *   -p  residue repaired (then -n exits 0), corruption left untouched;
 *   -y  everything repaired (then -n exits 0), every good event still in
 *       the log, what was taken out in lost+found/ with a MANIFEST line.
 * And the rest of checks.h: seq order by longest run, lock handling, the
 * window rule shared with recovery, JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "commit.h"
#include "fault.h"
#include "fixtures.h"
#include "frame.h"
#include "fsck.h"
#include "lock.h"
#include "recover.h"
#include "testutil.h"

static int run_fsck(const char *root, enum fsck_mode mode, int upgrade, struct fsck_report *r)
{
    struct fsck_opts o;
    memset(&o, 0, sizeof(o));
    o.root = root;
    o.mode = mode;
    o.upgrade = upgrade;
    o.io_kind = SXP_IO_AUTO;
    return fsck_run(&o, r);
}

/* Runs fsck and frees the report; returns the status. */
static int fsck_status(const char *root, enum fsck_mode mode)
{
    struct fsck_report r;
    int st = run_fsck(root, mode, 0, &r);
    if (st == FSCK_EXIT_FAILED)
        print_message("fsck: %s\n", r.fatal);
    fsck_report_free(&r);
    return st;
}

/* The finding of code about file, or NULL. */
static const struct fsck_finding *find_in(const struct fsck_report *r, enum fsck_code code,
                                          const char *file)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i].code == code && strcmp(r->f[i].file, file) == 0)
            return &r->f[i];
    return NULL;
}

static void print_report(const struct fsck_report *r, const char *root)
{
    fsck_report_print_text(r, root, stdout);
}

/* LOCK texts that say a session without syncs did not close cleanly. */
static const char *const unsynced_locks[] = {
    "pid 4242 unsynced +dirty\n",     /* no boot named (K-8): killed, or a power loss */
    "clean unsynced not-this-boot\n", /* closed, then a reboot (K-6) */
    "clean unsynced sim-+dirty",      /* the close's write torn by the power loss (K-7) */
};
#define N_UNSYNCED_LOCKS (sizeof(unsynced_locks) / sizeof(unsynced_locks[0]))

/* LOCK says an unsynced session of this boot was killed (lock.h K-8): the
 * page cache kept all it wrote, so R-7 does not apply. The boot is the one
 * the engine reads (io->boot_id). */
static void mark_unsynced_this_boot(const char *root)
{
    char p[PATH_MAX], boot[LOCK_BOOT_ID_MAX], text[256];
    struct sxp_io *io = NULL;
    struct sxp_err err;
    assert_int_equal(io_backend_new(SXP_IO_SYNC, 1, &io, &err), 0);
    assert_int_equal(io->boot_id(io, boot, sizeof(boot)), 0);
    io->destroy(io);
    assert_true(boot[0] != '\0');
    snprintf(text, sizeof(text), "pid 4242 unsynced %s\n", boot); /* no list: every log read */
    fx_write_file(fx_join(p, root, "LOCK"), text, strlen(text));
}

/* One fixture and what each mode must do with it. */
struct fx_case {
    void (*damage)(const char *root); /* NULL: the legacy store */
    enum fsck_code code;              /* the finding it must cause */
    const char *file;                 /* in this file */
    unsigned line;                    /* at this line (0: whole file) */
    int n_status;                     /* -n */
    int p_status;                     /* -p, and -n after it */
    int p_then_n;
    int y_status;       /* -y (then -n must exit 0) */
    int orders_after_y; /* events of "orders" in the log after -y */
    int lost;           /* items -y puts in lost+found */
};

static const struct fx_case case_flip_mid = {
    fxd_flip_mid, FSCK_CHECKSUM, FX_ORDERS_LOG, 10, 4, 4, 4, 1, 19, 1};
static const struct fx_case case_flip_last = {
    fxd_flip_last, FSCK_CHECKSUM, FX_ORDERS_LOG, 20, 4, 4, 4, 1, 19, 1};
static const struct fx_case case_swap = {
    fxd_swap_lines, FSCK_SEQ_ORDER, FX_ORDERS_LOG, 0, 4, 4, 4, 1, 19, 1};
static const struct fx_case case_half = {
    fxd_half_line, FSCK_TORN_TAIL, FX_ORDERS_LOG, 21, 4, 1, 0, 1, 20, 0};
static const struct fx_case case_zeros = {
    fxd_zeros, FSCK_TORN_TAIL, FX_ORDERS_LOG, 21, 4, 1, 0, 1, 20, 0};
static const struct fx_case case_seq_below = {
    fxd_seq_below, FSCK_HW_BEHIND, FX_ORDERS_SEQ, 0, 4, 1, 0, 1, 20, 0};
static const struct fx_case case_seq_lowered = {
    fxd_seq_lowered, FSCK_HW_LOWERED, FX_ORDERS_SEQ, 0, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_seq_deleted = {
    fxd_seq_deleted, FSCK_SEQ_MISSING, FX_ORDERS_SEQ, 0, 4, 1, 0, 1, 20, 0};
static const struct fx_case case_seq_removed = {
    fxd_seq_removed, FSCK_SEQ_LOST, FX_ORDERS_SEQ, 0, 4, 4, 4, 1, 20, 0};
static const struct fx_case case_seq_garbage = {
    fxd_seq_garbage, FSCK_SEQ_UNREADABLE, FX_ORDERS_SEQ, 0, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_temp = {
    fxd_temp_file, FSCK_TEMP_FILE, "streams/tmp.999.1.tmp", 0, 4, 1, 0, 1, 20, 0};
static const struct fx_case case_kv = {
    fxd_kv_damaged, FSCK_KV_CORRUPT, FX_KV_CONFIG, 0, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_blob = {
    fxd_blob_altered,
    FSCK_BLOB_HASH,
    "blobs/bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    0,
    4,
    4,
    4,
    1,
    20,
    1};
static const struct fx_case case_blob_name = {
    fxd_blob_bad_name, FSCK_BAD_NAME, "blobs/not-a-cid.bin", 0, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_foreign = {
    fxd_foreign_file, FSCK_FOREIGN_FILE, "streams/notes.txt", 0, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_blank = {
    fxd_blank_line, FSCK_BLANK_LINE, FX_ORDERS_LOG, 10, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_overlong_tail = {
    fxd_overlong_tail, FSCK_TORN_TAIL, FX_ORDERS_LOG, 21, 4, 1, 0, 1, 20, 0};
static const struct fx_case case_overlong_line = {
    fxd_overlong_line, FSCK_CHECKSUM, FX_ORDERS_LOG, 21, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_foreign_dir = {
    fxd_foreign_dir, FSCK_FOREIGN_FILE, "streams/old", 0, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_bad_stream_name = {
    fxd_bad_stream_name, FSCK_BAD_NAME, "streams/not-hex.log", 0, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_kv_temp = {
    fxd_kv_temp_file, FSCK_TEMP_FILE, "kv/tmp.999.1.tmp", 0, 4, 1, 0, 1, 20, 0};
static const struct fx_case case_kv_oversized = {
    fxd_kv_oversized, FSCK_KV_CORRUPT, FX_KV_CONFIG, 0, 4, 4, 4, 1, 20, 1};
static const struct fx_case case_legacy = {NULL, FSCK_LEGACY_LINE, FX_ORDERS_LOG, 1, 0, 0, 0, 0, 3,
                                           0};

static void make_case(const struct fx_case *c, char *root)
{
    if (c->damage) {
        fx_make_store(root);
        c->damage(root);
    } else {
        fx_make_legacy_store(root);
    }
}

/* The orders log's good seqs, count returned. */
static int orders_events(const char *root, int64_t *seqs)
{
    char p[PATH_MAX];
    return fx_log_seqs(fx_join(p, root, FX_ORDERS_LOG), seqs, 64);
}

/* The same, and they must strictly increase (INV-1). */
static int orders_seqs(const char *root, int64_t *seqs)
{
    int n = orders_events(root, seqs);
    for (int i = 1; i < n; i++)
        assert_true(seqs[i] > seqs[i - 1]);
    return n;
}

/* Sets every regular file's atime (not mtime) to 2001-09-09. */
static void age_atimes(const char *root, const char *const *rels)
{
    char p[PATH_MAX];
    struct timespec ts[2] = {{1000000000, 0}, {0, UTIME_OMIT}};
    for (; *rels; rels++)
        assert_int_equal(utimensat(AT_FDCWD, fx_join(p, root, *rels), ts, 0), 0);
}

static void assert_atimes_aged(const char *root, const char *const *rels)
{
    char p[PATH_MAX];
    struct stat st;
    for (; *rels; rels++) {
        assert_int_equal(stat(fx_join(p, root, *rels), &st), 0);
        if (st.st_atim.tv_sec != 1000000000)
            fail_msg("%s: access time changed by a check", *rels);
    }
}

/* -n: code, class, file, line, status; nothing changes. */
static void check_n(const struct fx_case *c)
{
    char root[PATH_MAX];
    struct fsck_report r;
    static const char *const files[] = {FX_ORDERS_LOG, FX_KV_CONFIG, NULL};
    make_case(c, root);
    char *before = fx_snapshot(root); /* reads every file: age atimes after it */
    if (c->damage)
        age_atimes(root, files);
    int st = run_fsck(root, FSCK_MODE_CHECK, 0, &r);
    print_report(&r, root);
    assert_int_equal(st, c->n_status);
    assert_int_equal(r.status, st);
    const struct fsck_finding *f = find_in(&r, c->code, c->file);
    assert_non_null(f);
    assert_string_equal(f->file, c->file);
    if (c->line)
        assert_int_equal(f->line, c->line);
    assert_int_equal(f->action, FSCK_ACT_NONE);
    /* Nothing but the expected finding is an error. */
    for (size_t i = 0; i < r.n; i++)
        if (fsck_code_is_error(r.f[i].code) && r.f[i].code != c->code)
            fail_msg("unexpected finding %s on %s", fsck_code_name(r.f[i].code), r.f[i].file);
    fsck_report_free(&r);
    if (c->damage)
        assert_atimes_aged(root, files);
    fx_assert_unchanged(root, before);
    free(before);
    fx_remove_tree(root);
}

/* -p: residue repaired; corruption left, and then the tree unchanged. */
static void check_p(const struct fx_case *c)
{
    char root[PATH_MAX];
    struct fsck_report r;
    make_case(c, root);
    char *before = fx_snapshot(root);
    int st = run_fsck(root, FSCK_MODE_PREEN, 0, &r);
    print_report(&r, root);
    assert_int_equal(st, c->p_status);
    const struct fsck_finding *f = find_in(&r, c->code, c->file);
    assert_non_null(f);
    int residue = fsck_code_class(c->code) == FSCK_RESIDUE;
    assert_int_equal(f->action != FSCK_ACT_NONE, residue);
    fsck_report_free(&r);
    if (!residue && c->damage) {
        fx_assert_unchanged(root, before);
    }
    free(before);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), c->p_then_n);
    /* Idempotent: a second -p has nothing more to do. */
    if (residue)
        assert_int_equal(fsck_status(root, FSCK_MODE_PREEN), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

/* Counts MANIFEST lines naming file. */
static int manifest_lines(const char *root, const char *file)
{
    char p[PATH_MAX];
    if (!fx_exists(fx_join(p, root, "lost+found/MANIFEST")))
        return 0;
    size_t len;
    char *m = fx_read_file(p, &len);
    int n = 0;
    for (char *s = m; (s = strstr(s, file)) != NULL; s++)
        n++;
    free(m);
    return n;
}

/* The number of "orders" events the engine reads, through a read-only
 * open. */
static int engine_read_orders(const char *root)
{
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *list = NULL;
    sxp_options_init(&o);
    o.read_only = 1;
    o.quiet = 1;
    int rc = sxp_store_open(root, &o, &s, &err);
    if (rc)
        fail_msg("open %s: %s", root, err.msg);
    rc = sxp_stream_read(s, "orders", 6, &list, &err);
    if (rc)
        fail_msg("read orders: %s", err.msg);
    int n = (int)sxp_value_len(list);
    sxp_value_free(list);
    (void)sxp_store_close(s);
    return n;
}

/* -y: all repaired, -n then exits 0, good events all there. */
static void check_y(const struct fx_case *c)
{
    char root[PATH_MAX], p[PATH_MAX];
    struct fsck_report r;
    int64_t seqs[64];
    make_case(c, root);
    int before_n = orders_events(root, seqs);
    size_t old_len;
    char *old_log = fx_read_file(fx_join(p, root, FX_ORDERS_LOG), &old_len);
    int st = run_fsck(root, FSCK_MODE_YES, 0, &r);
    print_report(&r, root);
    assert_int_equal(st, c->y_status);
    assert_int_equal(r.left, 0);
    const struct fsck_finding *f = find_in(&r, c->code, c->file);
    assert_non_null(f);
    if (c->lost) {
        assert_int_equal(f->action, FSCK_ACT_MOVED);
        assert_non_null(f->moved_to);
        assert_true(fx_exists(fx_join(p, root, f->moved_to)));
        assert_int_equal(manifest_lines(root, c->file), c->lost);
    } else if (c->code == FSCK_TORN_TAIL) {
        /* The bytes cut are saved first, unless they are only zeros. */
        assert_int_equal(f->action, FSCK_ACT_CUT);
        size_t cut = (size_t)f->arg, zeros = cut;
        while (zeros < old_len && old_log[zeros] == '\0')
            zeros++;
        if (zeros == old_len) {
            assert_null(f->moved_to);
            assert_false(fx_exists(fx_join(p, root, "lost+found")));
        } else {
            assert_non_null(f->moved_to);
            size_t len;
            char *saved = fx_read_file(fx_join(p, root, f->moved_to), &len);
            assert_int_equal(len, old_len - cut);
            assert_memory_equal(saved, old_log + cut, len);
            free(saved);
            assert_int_equal(manifest_lines(root, "code=torn-tail"), 1);
        }
    } else {
        assert_false(fx_exists(fx_join(p, root, "lost+found")));
    }
    free(old_log);
    fsck_report_free(&r);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    assert_int_equal(fsck_status(root, FSCK_MODE_YES), FSCK_EXIT_CLEAN);
    int n = orders_seqs(root, seqs);
    assert_int_equal(n, c->orders_after_y);
    /* The good events are those there before, less the one moved. */
    assert_true(n >= before_n - 1);
    /* And the engine reads them all (a read-only open changes nothing). */
    assert_int_equal(engine_read_orders(root), n);
    fx_remove_tree(root);
}

#define FX_TESTS(name, kase)                                                                       \
    static void name##_n_reports_it_and_changes_nothing(void **state)                              \
    {                                                                                              \
        (void)state;                                                                               \
        check_n(&(kase));                                                                          \
    }                                                                                              \
    static void name##_p_repairs_only_crash_residue(void **state)                                  \
    {                                                                                              \
        (void)state;                                                                               \
        check_p(&(kase));                                                                          \
    }                                                                                              \
    static void name##_y_leaves_a_clean_store_and_every_good_event(void **state)                   \
    {                                                                                              \
        (void)state;                                                                               \
        check_y(&(kase));                                                                          \
    }

FX_TESTS(flipped_byte_mid_log, case_flip_mid)
FX_TESTS(flipped_byte_last_line, case_flip_last)
FX_TESTS(two_lines_swapped, case_swap)
FX_TESTS(half_a_line_at_end, case_half)
FX_TESTS(zero_bytes_appended, case_zeros)
FX_TESTS(seq_below_max, case_seq_below)
FX_TESTS(seq_lowered_in_a_clean_store, case_seq_lowered)
FX_TESTS(seq_deleted, case_seq_deleted)
FX_TESTS(seq_removed_from_a_clean_store, case_seq_removed)
FX_TESTS(seq_garbage, case_seq_garbage)
FX_TESTS(temp_file_left_behind, case_temp)
FX_TESTS(kv_file_damaged, case_kv)
FX_TESTS(blob_bytes_altered, case_blob)
FX_TESTS(blob_with_non_cid_name, case_blob_name)
FX_TESTS(foreign_file_in_streams, case_foreign)
FX_TESTS(legacy_store, case_legacy)
FX_TESTS(blank_line_mid_log, case_blank)
FX_TESTS(overlong_tail_after_a_crash, case_overlong_tail)
FX_TESTS(overlong_whole_line, case_overlong_line)
FX_TESTS(foreign_directory_in_streams, case_foreign_dir)
FX_TESTS(log_name_that_is_not_hex, case_bad_stream_name)
FX_TESTS(temp_file_left_in_kv, case_kv_temp)
FX_TESTS(kv_value_over_the_size_limit, case_kv_oversized)

#define FX_ENTRIES(name)                                                                           \
    cmocka_unit_test(name##_n_reports_it_and_changes_nothing),                                     \
        cmocka_unit_test(name##_p_repairs_only_crash_residue),                                     \
        cmocka_unit_test(name##_y_leaves_a_clean_store_and_every_good_event)

/* ---- beyond the fixtures ----------------------------------------------- */

static void good_store_is_clean(void **state)
{
    (void)state;
    char root[PATH_MAX];
    struct fsck_report r;
    fx_make_store(root);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_CLEAN);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.streams, 2);
    assert_int_equal(r.kv_files, 2);
    assert_int_equal(r.blobs, 2);
    fsck_report_free(&r);
    fx_remove_tree(root);
}

/* checks.h seq-order: one wild seq blames that line, not all after it. */
static void one_wild_seq_is_the_only_line_blamed(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[256];
    struct fsck_report r;
    int64_t seqs[64];
    fx_make_store(root);
    /* Replace line 3 (seq 3) with seq 900: 1 2 900 4 5 ... 20. */
    fx_join(p, root, FX_ORDERS_LOG);
    size_t len;
    char *b = fx_read_file(p, &len);
    uint64_t o3 = fx_orders_offset(3), o4 = fx_orders_offset(4);
    size_t n = fx_order_line(900, line, sizeof(line));
    fx_write_file(p, b, o3);
    fx_append(p, line, n);
    fx_append(p, b + o4, len - o4);
    free(b);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
    assert_int_equal(fsck_report_count(&r, FSCK_SEQ_ORDER), 1);
    assert_int_equal(fsck_report_find(&r, FSCK_SEQ_ORDER)->line, 3);
    assert_int_equal(fsck_report_find(&r, FSCK_SEQ_ORDER)->a, 900);
    /* The message does not claim 900 is below the line before (2). */
    char msg[256];
    fsck_finding_message(fsck_report_find(&r, FSCK_SEQ_ORDER), msg, sizeof(msg));
    assert_string_equal(msg, "seq 900 is out of order: the longest increasing run of the log's "
                             "seqs leaves it out (the kept event before it has seq 2)");
    /* The log's max seq for INV-3 is 900, not 20: seq 900 was taken, and
     * moving its line must not let it be taken again. The store closed
     * cleanly (its .seq holds 20), so the mark was lowered. */
    assert_int_equal(fsck_report_count(&r, FSCK_HW_LOWERED), 1);
    assert_int_equal(fsck_report_find(&r, FSCK_HW_LOWERED)->b, 900);
    fsck_report_free(&r);
    assert_int_equal(fsck_status(root, FSCK_MODE_YES), FSCK_EXIT_REPAIRED);
    assert_int_equal(orders_seqs(root, seqs), FX_ORDERS - 1);
    size_t slen;
    char *mark = fx_read_file(fx_join(p, root, FX_ORDERS_SEQ), &slen);
    assert_string_equal(mark, "900");
    free(mark);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

/* R-3 shared with recovery: a NUL line followed by a bad line without NUL
 * is corruption (both lines), and an incomplete last line after it is
 * still a torn tail (R-3b). */
static void nul_line_before_corruption_is_not_a_torn_tail(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[256];
    struct fsck_report r;
    fx_make_store(root);
    fx_mark_crashed(root);
    fx_join(p, root, FX_ORDERS_LOG);
    size_t n = fx_order_line(21, line, sizeof(line));
    memset(line, 0, 8);
    fx_append(p, line, n);
    n = fx_order_line(22, line, sizeof(line));
    line[3] ^= 1;
    fx_append(p, line, n);
    n = fx_order_line(23, line, sizeof(line));
    fx_append(p, line, n - 5);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
    print_report(&r, root);
    assert_int_equal(fsck_report_count(&r, FSCK_TORN_TAIL), 1);
    assert_int_equal(fsck_report_find(&r, FSCK_TORN_TAIL)->line, 23);
    assert_int_equal(
        fsck_report_count(&r, FSCK_CHECKSUM) + fsck_report_count(&r, FSCK_EVENT_UNPARSABLE), 2);
    fsck_report_free(&r);
    /* -p cuts the incomplete line only; -y then moves the two bad lines. */
    assert_int_equal(fsck_status(root, FSCK_MODE_PREEN), FSCK_EXIT_LEFT);
    assert_int_equal(fx_file_size(p), fx_orders_offset(23));
    assert_int_equal(fsck_status(root, FSCK_MODE_YES), FSCK_EXIT_REPAIRED);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

/* fsck reads whole logs: damage before the window, which recovery trusts
 * is reported. A lost page there is corruption after a syncing
 * session (only the window can be torn), and a torn tail after one without
 * syncs, which had no bound on what it left unsynced. */
static void damage_before_the_window_is_found_though_recovery_trusts_it(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[256], text[32];
    struct fsck_report r;
    fx_make_store(root);
    fx_join(p, root, FX_ORDERS_LOG);
    FILE *f = fopen(p, "wb");
    uint64_t size = 0;
    int64_t n = 0;
    while (size < COMMIT_MAX_UNSYNCED + (1u << 20)) {
        size_t len = fx_order_line(++n, line, sizeof(line));
        assert_int_equal(fwrite(line, 1, len, f), len);
        size += len;
    }
    fclose(f);
    fx_flip_byte(p, 5);
    snprintf(text, sizeof(text), "%" PRId64, n);
    fx_write_file(fx_join(line, root, FX_ORDERS_SEQ), text, strlen(text));
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
    assert_int_equal(fsck_report_count(&r, FSCK_CHECKSUM), 1);
    assert_int_equal(fsck_report_find(&r, FSCK_CHECKSUM)->line, 1);
    assert_int_equal(r.log_bytes, size + fx_file_size(fx_join(line, root, FX_USERS_LOG)));
    fsck_report_free(&r);

    fx_flip_byte(p, 5);
    fx_zero_order_line(root, 2, 2, 8);
    for (int unsynced = 0; unsynced < 2; unsynced++) {
        if (unsynced)
            fx_mark_unsynced(root, unsynced_locks[0]);
        else
            fx_mark_crashed(root);
        assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
        const struct fsck_finding *found =
            fsck_report_find(&r, unsynced ? FSCK_TORN_TAIL : FSCK_CHECKSUM);
        assert_non_null(found);
        assert_int_equal(found->line, 2);
        assert_int_equal(r.n, 1);
        fsck_report_free(&r);
    }
    fx_remove_tree(root);
}

/* Recovery and fsck agree: after recovery every residue fixture is clean. */
static void after_recovery_fsck_finds_nothing(void **state)
{
    (void)state;
    void (*const damages[])(const char *) = {fxd_half_line, fxd_zeros, fxd_seq_below,
                                             fxd_seq_deleted, fxd_temp_file};
    for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
        char root[PATH_MAX];
        struct sxp_io *io = NULL;
        struct sxp_err err;
        struct recover_report rep;
        fx_make_store(root);
        damages[i](root);
        assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &io, &err), 0);
        assert_int_equal(recover_store(io, root, 1, &rep, &err), 0);
        io->destroy(io);
        assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
        fx_remove_tree(root);
    }
}

/* The lock: a live writer makes -n exit 8 naming its pid; --force checks
 * read-only with a warning; -p and -y never repair a live store. */
static void live_writer_stops_fsck_unless_forced_read_only(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], want[64];
    struct fsck_report r;
    struct fsck_opts o;
    fx_make_store(root);
    fxd_half_line(root);
    snprintf(want, sizeof(want), "pid %ld\n", (long)getpid());
    fx_write_file(fx_join(p, root, "LOCK"), want, strlen(want));
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);

    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_FAILED);
    snprintf(want, sizeof(want), "locked by pid %ld", (long)getpid());
    assert_non_null(strstr(r.fatal, want));
    fsck_report_free(&r);
    char *before = fx_snapshot(root);
    assert_int_equal(run_fsck(root, FSCK_MODE_PREEN, 0, &r), FSCK_EXIT_FAILED);
    fsck_report_free(&r);
    assert_int_equal(run_fsck(root, FSCK_MODE_YES, 0, &r), FSCK_EXIT_FAILED);
    fsck_report_free(&r);
    fx_assert_unchanged(root, before);

    /* LOCK holds no dirty list (check_live.c LV-4): any log may be the
     * writer's, so the half line may be one it is writing. */
    memset(&o, 0, sizeof(o));
    o.root = root;
    o.force = 1;
    assert_int_equal(fsck_run(&o, &r), FSCK_EXIT_CLEAN);
    const struct fsck_finding *lw = fsck_report_find(&r, FSCK_LIVE_WRITER);
    assert_non_null(lw);
    assert_int_equal(lw->a, getpid());
    assert_int_equal(lw->c, 1);
    assert_null(fsck_report_find(&r, FSCK_TORN_TAIL));
    fsck_report_free(&r);
    fx_assert_unchanged(root, before);
    free(before);
    close(fd);
    assert_int_equal(fsck_status(root, FSCK_MODE_PREEN), FSCK_EXIT_REPAIRED);
    fx_remove_tree(root);
}

/* Writes LOCK as a live session's, "pid N +dirty\n", listing the bucket of
 * each hex stream name in hexes (NULL-terminated), then zeros (K-5). */
static void write_live_lock(const char *root, const char *const *hexes)
{
    char p[PATH_MAX], text[4096], line[3 + FRAME_TRAILER_LEN];
    size_t n = (size_t)snprintf(text, sizeof(text), "pid %ld +dirty\n", (long)getpid());
    for (; *hexes; hexes++) {
        snprintf(line, sizeof(line), "%03x", lock_dirty_bucket(*hexes, strlen(*hexes)));
        n += frame_encode(line, 3, text + n);
    }
    memset(text + n, 0, 64);
    fx_write_file(fx_join(p, root, "LOCK"), text, n + 64);
}

/* check_live.c LV-4: with a dirty list in LOCK, a torn tail or a .seq
 * behind its log is the live session's only in a log the list (or
 * JOURNAL) names; in any other log it stays an error, which says why. */
static void live_writer_explains_only_the_logs_it_lists(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], msg[512];
    struct fsck_report r;
    struct fsck_opts o;
    const char *none[] = {NULL};
    const char *orders[] = {"6f7264657273", NULL};
    fx_make_store(root);
    fxd_zeros(root);
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "15", 2);
    memset(&o, 0, sizeof(o));
    o.root = root;
    o.force = 1;

    write_live_lock(root, none);
    int fd = open(fx_join(p, root, "LOCK"), O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(fsck_run(&o, &r), FSCK_EXIT_LEFT);
    const struct fsck_finding *f = find_in(&r, FSCK_TORN_TAIL, FX_ORDERS_LOG);
    assert_non_null(f);
    fsck_finding_message(f, msg, sizeof(msg));
    assert_non_null(strstr(msg, "in a log the live writer has not written this session"));
    f = find_in(&r, FSCK_HW_BEHIND, FX_ORDERS_SEQ);
    assert_non_null(f);
    fsck_finding_message(f, msg, sizeof(msg));
    assert_string_equal(msg, "high-water mark 15 is below the log's max seq 20, in a log the "
                             "live writer has not written this session (neither LOCK's dirty "
                             "list nor JOURNAL names the log)");
    assert_int_equal(fsck_report_find(&r, FSCK_LIVE_WRITER)->b, 0);
    fsck_report_free(&r);
    close(fd);

    write_live_lock(root, orders);
    fd = open(fx_join(p, root, "LOCK"), O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(fsck_run(&o, &r), FSCK_EXIT_CLEAN);
    assert_int_equal(r.errors, 0);
    f = fsck_report_find(&r, FSCK_LIVE_WRITER);
    assert_int_equal(f->b, 1);
    assert_int_equal(f->c, 1);
    fsck_finding_message(f, msg, sizeof(msg));
    assert_non_null(strstr(msg, "; not counted as errors, as its session explains them: 1 .seq "
                                "behind its log (written at close), 1 log end being written"));
    fsck_report_free(&r);
    close(fd);
    fx_remove_tree(root);
}

/* check_seq.c LOST: a stream truncated to nothing after a clean close has
 * an empty log and a .seq holding its mark. Its .seq removed, it is
 * seq-lost, not an unborn stream: -p changes nothing (removing the log
 * would lose the stream), -y writes the only mark it has (0) and keeps the
 * log. */
static void a_seq_removed_after_a_clean_close_is_corruption_even_for_an_empty_log(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct sxp_err err;
    struct fsck_report r;
    fx_make_store(root);
    sxp_store *s = tu_open(root);
    assert_int_equal(sxp_stream_truncate(s, "orders", 6, FX_ORDERS, &err), 0);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(fx_file_size(fx_join(p, root, FX_ORDERS_LOG)), 0);
    assert_int_equal(unlink(fx_join(p, root, FX_ORDERS_SEQ)), 0);
    char *before = fx_snapshot(root);
    for (int m = 0; m < 2; m++) {
        assert_int_equal(run_fsck(root, m ? FSCK_MODE_PREEN : FSCK_MODE_CHECK, 0, &r),
                         FSCK_EXIT_LEFT);
        const struct fsck_finding *f = find_in(&r, FSCK_SEQ_LOST, FX_ORDERS_SEQ);
        assert_non_null(f);
        assert_int_equal(f->b, 0);
        assert_int_equal(f->action, FSCK_ACT_NONE);
        assert_int_equal(r.corruption, 1);
        fsck_report_free(&r);
        fx_assert_unchanged(root, before);
    }
    free(before);
    assert_int_equal(run_fsck(root, FSCK_MODE_YES, 0, &r), FSCK_EXIT_REPAIRED);
    const struct fsck_finding *f = find_in(&r, FSCK_SEQ_LOST, FX_ORDERS_SEQ);
    assert_non_null(f);
    assert_int_equal(f->action, FSCK_ACT_CREATED);
    assert_int_equal(f->arg, 0);
    fsck_report_free(&r);
    assert_true(fx_exists(fx_join(p, root, FX_ORDERS_LOG)));
    size_t len = 0;
    char *seq = fx_read_file(fx_join(p, root, FX_ORDERS_SEQ), &len);
    assert_int_equal(len, 1);
    assert_memory_equal(seq, "0", 1);
    free(seq);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

/* Unborn streams (check_seq.c MISSING): an empty log and one holding only
 * a torn line, neither with a .seq, are seq-missing (residue, a = 1); -p
 * cuts the torn line and removes both logs, as recovery does (R-4b),
 * where it would give any other log a .seq; -n then finds nothing. */
static void unborn_streams_lose_their_logs_under_preen(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct fsck_report r;
    fx_make_store(root);
    fx_mark_crashed(root); /* else the incomplete line is corruption (R-3d) */
    fx_write_file(fx_join(p, root, "streams/7a.log"), "", 0);
    fx_write_file(fx_join(p, root, "streams/79.log"), "{:seq 1 :x", 10);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
    const struct fsck_finding *f = find_in(&r, FSCK_SEQ_MISSING, "streams/7a.seq");
    assert_non_null(f);
    assert_int_equal(f->a, 1);
    f = find_in(&r, FSCK_SEQ_MISSING, "streams/79.seq");
    assert_non_null(f);
    assert_int_equal(f->a, 1);
    fsck_report_free(&r);
    assert_int_equal(run_fsck(root, FSCK_MODE_PREEN, 0, &r), FSCK_EXIT_REPAIRED);
    print_report(&r, root);
    assert_int_equal(find_in(&r, FSCK_SEQ_MISSING, "streams/7a.seq")->action, FSCK_ACT_REMOVED);
    assert_int_equal(find_in(&r, FSCK_SEQ_MISSING, "streams/79.seq")->action, FSCK_ACT_REMOVED);
    fsck_report_free(&r);
    assert_false(fx_exists(fx_join(p, root, "streams/7a.log")));
    assert_false(fx_exists(fx_join(p, root, "streams/7a.seq")));
    assert_false(fx_exists(fx_join(p, root, "streams/79.log")));
    assert_false(fx_exists(fx_join(p, root, "streams/79.seq")));
    assert_true(fx_exists(fx_join(p, root, FX_ORDERS_SEQ)));
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

/* A healthy store that a session of the engine holds, as an operator meets
 * it: the .seq files lag behind the logs the session appended to (one
 * listed in LOCK; a new one, only named by JOURNAL, has none yet), a busy log ends in the zeros
 * written ahead of it, and an atomic write of the session is in progress.
 * -n --force exits 0 and counts them in the live-writer warning; what the
 * session does not explain (a .seq lowered before it, a temp file of
 * another pid) stays an error. Nothing is changed. */
static void healthy_live_store_checks_clean_under_force(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], name[64];
    struct sxp_options so;
    struct sxp_err err;
    struct fsck_report r;
    struct fsck_opts o;
    sxp_store *s = NULL;
    fx_make_store(root);
    /* "users" (.seq 5, log 1..5) lowered before the session, which does
     * not touch it. */
    fx_write_file(fx_join(p, root, "streams/7573657273.seq"), "3", 1);
    sxp_options_init(&so);
    so.quiet = 1;
    assert_int_equal(sxp_store_open(root, &so, &s, &err), 0);
    /* Past COMMIT_ZERO_AFTER appends: orders is written ahead in zeros,
     * outside the journal, so LOCK lists it. */
    for (int64_t seq = FX_ORDERS + 1; seq <= FX_ORDERS + COMMIT_ZERO_AFTER + 8; seq++) {
        char text[64];
        snprintf(text, sizeof(text), "{:seq %" PRId64 "}", seq);
        sxp_value *ev = tu_val(text);
        assert_int_equal(sxp_stream_append(s, "orders", 6, ev, &err), 0);
        sxp_value_free(ev);
    }
    /* A new stream's first small append goes through JOURNAL only. */
    sxp_value *ev = tu_val("{:seq 1}");
    assert_int_equal(sxp_stream_append(s, "quiet", 5, ev, &err), 0);
    sxp_value_free(ev);
    struct lock_dirty d;
    int fd = open(fx_join(p, root, "LOCK"), O_RDONLY);
    assert_true(fd >= 0);
    struct sxp_io *io = NULL;
    assert_int_equal(io_backend_new(SXP_IO_SYNC, 1, &io, &err), 0);
    assert_int_equal(lock_read_dirty(io, fd, &d), 1);
    io->destroy(io);
    close(fd);
    assert_true(lock_dirty_has(&d, lock_dirty_bucket("6f7264657273", 12)));
    assert_false(lock_dirty_has(&d, lock_dirty_bucket("7175696574", 10)));
    assert_false(lock_dirty_has(&d, lock_dirty_bucket("7573657273", 10)));
    snprintf(name, sizeof(name), "kv/tmp.%ld.999.tmp", (long)getpid());
    fx_write_file(fx_join(p, root, name), "1", 1);
    fx_write_file(fx_join(p, root, "kv/tmp.1.1.tmp"), "1", 1);
    /* A stream being created: its empty log, in a bucket not listed (LV-6). */
    assert_false(lock_dirty_has(&d, lock_dirty_bucket("7a", 2)));
    fx_write_file(fx_join(p, root, "streams/7a.log"), "", 0);

    memset(&o, 0, sizeof(o));
    o.root = root;
    o.force = 1;
    char *before = fx_snapshot(root);
    assert_int_equal(fsck_run(&o, &r), FSCK_EXIT_LEFT);
    print_report(&r, root);
    assert_int_equal(r.errors, 2);
    assert_int_equal(find_in(&r, FSCK_HW_BEHIND, "streams/7573657273.seq")->detail, FSCK_NOT_LIVE);
    assert_int_equal(find_in(&r, FSCK_TEMP_FILE, "kv/tmp.1.1.tmp")->detail, FSCK_NOT_LIVE);
    const struct fsck_finding *lw = fsck_report_find(&r, FSCK_LIVE_WRITER);
    assert_int_equal(lw->b, 1); /* orders */
    assert_int_equal(lw->d, 1); /* quiet: its .seq is written at close */
    assert_int_equal(lw->e, 1); /* 7a: unborn */
    assert_int_equal(lw->c, 1); /* orders' zeros */
    assert_int_equal(lw->detail, 1);
    fsck_report_free(&r);
    fx_assert_unchanged(root, before);
    free(before);

    fx_write_file(fx_join(p, root, "streams/7573657273.seq"), "5", 1);
    assert_int_equal(unlink(fx_join(p, root, "kv/tmp.1.1.tmp")), 0);
    assert_int_equal(fsck_run(&o, &r), FSCK_EXIT_CLEAN);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.warnings, 1);
    fsck_report_free(&r);

    assert_int_equal(unlink(fx_join(p, root, name)), 0);
    /* The session did not make 7a.log, so its close would not remove it. */
    assert_int_equal(unlink(fx_join(p, root, "streams/7a.log")), 0);
    assert_int_equal(sxp_store_close(s), 0);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

/* An io_fault hook: just before the open of the file arg names, the
 * "writer" deletes it (a kv-delete between fsck's walk and its check). */
static void delete_before_open(void *arg, enum io_fault_kind kind, int when, uint64_t n,
                               const char *path, int res)
{
    (void)n;
    (void)res;
    if (kind == IO_FK_OPEN && when == 0 && strcmp(path, arg) == 0)
        (void)unlink(path);
}

/* A check of root under --force while this process holds its LOCK as a
 * live writer would, through an io that deletes target just before fsck
 * opens it (delete_before_open). Close lock_fd and destroy o.io after. */
struct vanishing {
    struct fsck_opts o;
    int lock_fd;
};

static void vanishing_start(struct vanishing *v, const char *root, const char *target)
{
    char p[PATH_MAX], text[64];
    struct sxp_io *inner = NULL, *io = NULL;
    struct sxp_err err;
    snprintf(text, sizeof(text), "pid %ld\n", (long)getpid());
    fx_write_file(fx_join(p, root, "LOCK"), text, strlen(text));
    v->lock_fd = open(p, O_RDWR);
    assert_true(v->lock_fd >= 0);
    assert_int_equal(flock(v->lock_fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &inner, &err), 0);
    assert_int_equal(io_fault_new(inner, &io), 0);
    io_fault_own_inner(io);
    io_fault_set_hook(io, delete_before_open, (void *)target);
    memset(&v->o, 0, sizeof(v->o));
    v->o.root = root;
    v->o.force = 1;
    v->o.io = io;
}

/* check_live.c LV-5: under --force, a kv file the live writer deletes after
 * the walk is not checked and stops nothing; without a writer the same is
 * a failure to check (status 8). */
static void kv_file_a_live_writer_deletes_during_the_check_is_skipped(void **state)
{
    (void)state;
    char root[PATH_MAX], target[PATH_MAX];
    struct fsck_report r;
    struct vanishing v;
    fx_make_store(root);
    fx_join(target, root, FX_KV_CONFIG);
    size_t len;
    char *value = fx_read_file(target, &len);
    vanishing_start(&v, root, target);
    assert_int_equal(fsck_run(&v.o, &r), FSCK_EXIT_CLEAN);
    assert_int_equal(r.kv_files, 1);
    assert_false(fx_exists(target));
    fsck_report_free(&r);
    close(v.lock_fd);

    fx_write_file(target, value, len);
    v.o.force = 0;
    assert_int_equal(fsck_run(&v.o, &r), FSCK_EXIT_FAILED);
    assert_non_null(strstr(r.fatal, "No such file"));
    fsck_report_free(&r);
    v.o.io->destroy(v.o.io);
    free(value);
    fx_remove_tree(root);
}

/* LV-6 and the close (engine/streams.c UNBORN STREAMS): a live writer's
 * close removes the empty log of a stream whose first append failed. One
 * that goes between fsck's walk and its check is, like a kv-delete (LV-5),
 * no failure to check under --force: the store is what the writer left. */
static void unborn_log_a_live_writer_removes_during_the_check_is_skipped(void **state)
{
    (void)state;
    char root[PATH_MAX], target[PATH_MAX];
    struct fsck_report r;
    struct vanishing v;
    fx_make_store(root);
    fx_write_file(fx_join(target, root, "streams/7a.log"), "", 0);
    vanishing_start(&v, root, target);
    /* Fails: exit 8, "open ...7a.log: No such file or directory". */
    assert_int_equal(fsck_run(&v.o, &r), FSCK_EXIT_CLEAN);
    assert_false(fx_exists(target));
    fsck_report_free(&r);
    close(v.lock_fd);
    v.o.io->destroy(v.o.io);
    fx_remove_tree(root);
}

/* Symbolic links in the store's folders are foreign files, never
 * followed: a dangling one or one to a folder does not stop the check
 * (exit 8), one to a real log is not taken for the log, and -y moves the
 * links themselves, leaving their targets alone. */
static void symbolic_links_are_foreign_files_never_followed(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], t[PATH_MAX];
    static const char *const links[] = {"streams/61.log", "streams/62.log", "streams/63.log",
                                        "kv/6b"};
    struct fsck_report r;
    fx_make_store(root);
    size_t before_len;
    char *before = fx_read_file(fx_join(p, root, FX_ORDERS_LOG), &before_len);
    assert_int_equal(symlink("/nonexistent/sxp-target", fx_join(p, root, links[0])), 0);
    assert_int_equal(symlink(fx_join(t, root, "kv"), fx_join(p, root, links[1])), 0);
    assert_int_equal(symlink(fx_join(t, root, FX_ORDERS_LOG), fx_join(p, root, links[2])), 0);
    assert_int_equal(symlink(fx_join(t, root, FX_KV_CONFIG), fx_join(p, root, links[3])), 0);

    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
    for (size_t i = 0; i < 4; i++) {
        const struct fsck_finding *f = find_in(&r, FSCK_FOREIGN_FILE, links[i]);
        assert_non_null(f);
        char msg[256];
        fsck_finding_message(f, msg, sizeof(msg));
        assert_non_null(strstr(msg, "symbolic link"));
    }
    fsck_report_free(&r);

    assert_int_equal(run_fsck(root, FSCK_MODE_YES, 0, &r), FSCK_EXIT_REPAIRED);
    for (size_t i = 0; i < 4; i++) {
        const struct fsck_finding *f = find_in(&r, FSCK_FOREIGN_FILE, links[i]);
        assert_non_null(f);
        assert_int_equal(f->action, FSCK_ACT_MOVED);
        struct stat st;
        assert_int_equal(lstat(fx_join(p, root, f->moved_to), &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(lstat(fx_join(p, root, links[i]), &st), -1);
    }
    fsck_report_free(&r);
    size_t after_len;
    char *after = fx_read_file(fx_join(p, root, FX_ORDERS_LOG), &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    free(before);
    free(after);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

/* -n does not even touch JOURNAL's access time (it reads it with
 * O_NOATIME, as it reads every other file). */
static void check_leaves_the_journal_access_time_alone(void **state)
{
    (void)state;
    char root[PATH_MAX];
    static const char *const files[] = {"JOURNAL", NULL};
    fx_tmpdir(root);
    assert_int_equal(sxp_store_close(tu_open(root)), 0);
    age_atimes(root, files);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    assert_atimes_aged(root, files);
    fx_remove_tree(root);
}

static void missing_store_cannot_be_checked(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct fsck_report r;
    fx_tmpdir(root);
    assert_int_equal(run_fsck(fx_join(p, root, "nope"), FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_FAILED);
    assert_non_null(strstr(r.fatal, "nope"));
    fsck_report_free(&r);
    fx_write_file(fx_join(p, root, "FORMAT"), "sxp 9\n", 6);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_FAILED);
    assert_non_null(strstr(r.fatal, "FORMAT"));
    fsck_report_free(&r);
    fx_remove_tree(root);
}

/* --upgrade gives legacy lines trailers and leaves nothing to warn about. */
static void upgrade_gives_a_legacy_store_its_trailers(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct fsck_report r;
    int64_t seqs[64];
    fx_make_legacy_store(root);
    assert_int_equal(run_fsck(root, FSCK_MODE_PREEN, 1, &r), FSCK_EXIT_CLEAN);
    assert_int_equal(fsck_report_find(&r, FSCK_LEGACY_LINE)->action, FSCK_ACT_UPGRADED);
    fsck_report_free(&r);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_CLEAN);
    assert_int_equal(r.n, 0);
    fsck_report_free(&r);
    size_t len;
    char *text = fx_read_file(fx_join(p, root, FX_ORDERS_LOG), &len);
    struct frame_line fl;
    frame_next(text, len, &fl);
    assert_int_equal(fl.status, FRAME_OK);
    assert_int_equal(fl.payload_len, strlen("{:item \"widget-1\" :seq 1}"));
    free(text);
    assert_int_equal(orders_seqs(root, seqs), 3);
    text = fx_read_file(fx_join(p, root, FX_KV_CONFIG), &len);
    frame_decode_whole(text, len, &fl);
    assert_int_equal(fl.status, FRAME_OK);
    free(text);
    fx_remove_tree(root);
}

/* -y keeps each moved line's bytes and says where it came from. */
/* R-3d: a store closed cleanly (LOCK "clean") was wholly synced, so half
 * a line at its end is damage, not a crash: -p leaves it, -y moves it to
 * lost+found/ with its bytes, and nothing is cut. */
static void half_a_line_in_a_cleanly_closed_store_is_corruption(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[256];
    struct fsck_report r;
    int64_t seqs[64];
    fx_make_store(root);
    fx_join(p, root, FX_ORDERS_LOG);
    size_t n = fx_order_line(21, line, sizeof(line));
    fx_append(p, line, n / 2);
    uint64_t size = fx_file_size(p);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
    print_report(&r, root);
    assert_int_equal(fsck_report_count(&r, FSCK_TORN_TAIL), 0);
    assert_int_equal(fsck_report_count(&r, FSCK_CHECKSUM), 1);
    assert_int_equal(fsck_report_find(&r, FSCK_CHECKSUM)->line, 21);
    assert_int_equal(fsck_report_find(&r, FSCK_CHECKSUM)->off, fx_orders_offset(21));
    fsck_report_free(&r);
    assert_int_equal(fsck_status(root, FSCK_MODE_PREEN), FSCK_EXIT_LEFT);
    assert_int_equal(fx_file_size(p), size);
    assert_int_equal(run_fsck(root, FSCK_MODE_YES, 0, &r), FSCK_EXIT_REPAIRED);
    const struct fsck_finding *f = fsck_report_find(&r, FSCK_CHECKSUM);
    assert_non_null(f);
    assert_non_null(f->moved_to);
    size_t len;
    char *item = fx_read_file(fx_join(p, root, f->moved_to), &len);
    assert_int_equal(len, n / 2);
    assert_memory_equal(item, line, n / 2);
    free(item);
    fsck_report_free(&r);
    assert_int_equal(orders_seqs(root, seqs), FX_ORDERS);
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

/* The lost page in the middle of a log: with LOCK clean (R-3d), or after a
 * crash with the .seq covering the lines after it (R-3c), it is one
 * corrupt line, and -y keeps every other line. Only when the lines after
 * it are above the .seq -- an unacknowledged batch whose first page was
 * lost -- is it a torn tail, or after a session without syncs (crashed =
 * 2, R-7), whose .seq proves nothing; but not when that session ran in
 * this boot (crashed = 3, K-8). */
static void a_lost_page_mid_log(int crashed, const char *seq, int want_torn)
{
    char root[PATH_MAX], p[PATH_MAX];
    struct fsck_report r;
    int64_t seqs[64];
    fx_make_store(root);
    if (crashed == 1)
        fx_mark_crashed(root);
    else if (crashed == 2)
        fx_mark_unsynced(root, unsynced_locks[strlen(seq) % N_UNSYNCED_LOCKS]);
    else if (crashed == 3)
        mark_unsynced_this_boot(root);
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), seq, strlen(seq));
    fx_zero_order_line(root, 15, 2, 10);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
    print_report(&r, root);
    assert_int_equal(fsck_report_count(&r, FSCK_TORN_TAIL), want_torn);
    assert_int_equal(fsck_report_count(&r, FSCK_CHECKSUM), !want_torn);
    const struct fsck_finding *f = fsck_report_find(&r, want_torn ? FSCK_TORN_TAIL : FSCK_CHECKSUM);
    assert_int_equal(f->line, 15);
    assert_int_equal(f->off, fx_orders_offset(15));
    fsck_report_free(&r);
    assert_int_equal(fsck_status(root, FSCK_MODE_YES), FSCK_EXIT_REPAIRED);
    int n = orders_seqs(root, seqs);
    if (want_torn) {
        assert_int_equal(n, 14);
        assert_int_equal(seqs[13], 14);
    } else {
        assert_int_equal(n, FX_ORDERS - 1);
        for (int i = 0; i < n; i++)
            assert_int_equal(seqs[i], i < 14 ? i + 1 : i + 2);
    }
    assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
    fx_remove_tree(root);
}

static void lost_page_mid_log_in_a_clean_store_is_corruption(void **state)
{
    (void)state;
    a_lost_page_mid_log(0, "20", 0);
    a_lost_page_mid_log(0, "14", 0); /* clean wins even over a lagging .seq */
}

static void lost_page_before_lines_the_seq_covers_is_corruption(void **state)
{
    (void)state;
    a_lost_page_mid_log(1, "20", 0);
    a_lost_page_mid_log(1, "16", 0); /* line 16 is covered */
    /* Only the lost line is covered: event 15 was durable, and it can only
     * be the lost line (R-3c at the end of the log). */
    a_lost_page_mid_log(1, "15", 0);
}

static void lost_page_before_lines_above_the_seq_is_a_torn_tail(void **state)
{
    (void)state;
    a_lost_page_mid_log(1, "14", 1);
}

/* recover.c R-7: after a session without syncs the .seq proves nothing
 * (it was renamed into place before the log's bytes were durable), so the
 * lost page is a torn tail even under a mark that covers it. */
static void lost_page_under_the_seq_after_an_unsynced_session_is_a_torn_tail(void **state)
{
    (void)state;
    a_lost_page_mid_log(2, "20", 1);
    a_lost_page_mid_log(2, "15", 1);
    a_lost_page_mid_log(2, "14", 1);
    /* A session of this boot was killed: its .seq holds (K-8). */
    a_lost_page_mid_log(3, "20", 0);
    a_lost_page_mid_log(3, "14", 1);
}

/* Repairs the store at root, by an open (its settle and recovery, R-7
 * after a session without syncs) when by_open, else by sxp-fsck -p, which
 * must exit want_p (the open must refuse the store unless that is 1);
 * returns the orders .seq's text (malloc'd). */
static char *repair_unsynced(const char *root, int by_open, int want_p)
{
    char p[PATH_MAX];
    size_t len;
    if (by_open) {
        struct sxp_options o;
        struct sxp_err err;
        sxp_store *s = NULL;
        sxp_options_init(&o);
        o.quiet = 1;
        int rc = sxp_store_open(root, &o, &s, &err);
        if (want_p != FSCK_EXIT_REPAIRED) {
            assert_int_equal(rc, -EUCLEAN);
            return NULL;
        }
        if (rc)
            fail_msg("open: %d %s", rc, err.msg);
        assert_int_equal(sxp_store_close(s), 0);
    } else {
        assert_int_equal(fsck_status(root, FSCK_MODE_PREEN), want_p);
        if (want_p != FSCK_EXIT_REPAIRED)
            return NULL;
    }
    return fx_read_file(fx_join(p, root, FX_ORDERS_SEQ), &len);
}

/* check_seq.c TORN: a .seq of NULs (the rename kept, its bytes lost) after
 * a session without syncs is seq-torn, residue; -p writes it again from
 * the log's last event, as recovery does, and both leave the same
 * log and mark. After a syncing session, or with no event in the log to
 * rebuild it from, it stays seq-unreadable, corruption, which -p leaves
 * and recovery refuses. */
static void nul_seq_after_an_unsynced_session_is_rebuilt_from_the_log(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct fsck_report r;
    for (size_t k = 0; k < N_UNSYNCED_LOCKS; k++) {
        char *log[2], *seq[2];
        size_t loglen[2];
        for (int by_open = 0; by_open < 2; by_open++) {
            fx_make_store(root);
            fx_mark_unsynced(root, unsynced_locks[k]);
            fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "\0\0", 2);
            fx_zero_order_line(root, 18, 0, 30); /* a lost page too: cut at 18 */
            if (!by_open) {
                assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
                print_report(&r, root);
                const struct fsck_finding *f = find_in(&r, FSCK_SEQ_TORN, FX_ORDERS_SEQ);
                assert_non_null(f);
                assert_int_equal(f->b, 17);
                assert_int_equal(fsck_code_class(f->code), FSCK_RESIDUE);
                assert_int_equal(fsck_report_count(&r, FSCK_SEQ_UNREADABLE), 0);
                assert_int_equal(fsck_report_count(&r, FSCK_TORN_TAIL), 1);
                assert_int_equal(r.n, 2);
                fsck_report_free(&r);
            }
            seq[by_open] = repair_unsynced(root, by_open, FSCK_EXIT_REPAIRED);
            assert_string_equal(seq[by_open], "17");
            log[by_open] = fx_read_file(fx_join(p, root, FX_ORDERS_LOG), &loglen[by_open]);
            assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
            fx_remove_tree(root);
        }
        assert_int_equal(loglen[0], fx_orders_offset(18));
        assert_int_equal(loglen[0], loglen[1]);
        assert_memory_equal(log[0], log[1], loglen[0]);
        for (int i = 0; i < 2; i++) {
            free(log[i]);
            free(seq[i]);
        }
    }
    /* No event to rebuild it from, no session without syncs, or one killed
     * in this boot (K-8, no power loss): corruption. */
    for (int c = 0; c < 4; c++) {
        for (int by_open = 0; by_open < 2; by_open++) {
            fx_make_store(root);
            if (c < 2)
                fx_mark_unsynced(root, unsynced_locks[0]);
            else if (c == 2)
                fx_mark_crashed(root);
            else
                mark_unsynced_this_boot(root);
            if (c == 0)
                fx_write_file(fx_join(p, root, FX_ORDERS_LOG), "", 0);
            else if (c == 1)
                assert_int_equal(unlink(fx_join(p, root, FX_ORDERS_LOG)), 0);
            fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "\0\0", 2);
            if (!by_open) {
                assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
                assert_int_equal(fsck_report_count(&r, FSCK_SEQ_UNREADABLE), 1);
                assert_int_equal(fsck_report_count(&r, FSCK_SEQ_TORN), 0);
                fsck_report_free(&r);
            }
            assert_null(repair_unsynced(root, by_open, FSCK_EXIT_LEFT));
            size_t len;
            char *text = fx_read_file(fx_join(p, root, FX_ORDERS_SEQ), &len);
            assert_int_equal(len, 2);
            assert_memory_equal(text, "\0\0", 2);
            free(text);
            fx_remove_tree(root);
        }
    }
}

/* check_seq.c TORN: a torn .seq holding a byte no torn write of a mark
 * leaves is saved in lost+found/ before -p (or recovery, R-7) writes the
 * mark again: it may tell what the mark was. One of NULs, or of digits
 * and NULs, is written again without a copy. */
static void torn_seq_holding_text_is_saved_before_it_is_rebuilt(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    for (int by_open = 0; by_open < 2; by_open++) {
        /* Text no write of a mark leaves; NULs; a torn "123" (digits,
         * then the NULs of bytes lost past the old end). */
        for (int nuls = 0; nuls < 3; nuls++) {
            fx_make_store(root);
            fx_mark_unsynced(root, unsynced_locks[0]);
            if (nuls == 1)
                fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "\0\0\0", 3);
            else if (nuls == 2)
                fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "12\0", 3);
            else
                fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "1000 x", 6);
            char *seq = repair_unsynced(root, by_open, FSCK_EXIT_REPAIRED);
            assert_string_equal(seq, "20");
            free(seq);
            size_t len;
            char *saved = NULL;
            fx_join(p, root, "lost+found/6f7264657273.seq.1");
            if (nuls) {
                assert_false(fx_exists(p));
            } else {
                saved = fx_read_file(p, &len);
                assert_int_equal(len, 6);
                assert_memory_equal(saved, "1000 x", 6);
                char *manifest = fx_read_file(fx_join(p, root, "lost+found/MANIFEST"), &len);
                assert_non_null(manifest);
                assert_non_null(strstr(manifest, "6f7264657273.seq.1\tstreams/6f7264657273.seq"));
                assert_non_null(strstr(manifest, "code=seq-torn\n"));
                free(manifest);
            }
            free(saved);
            assert_int_equal(fsck_status(root, FSCK_MODE_CHECK), FSCK_EXIT_CLEAN);
            fx_remove_tree(root);
        }
    }
}

static void moved_line_keeps_its_bytes_and_origin(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], want[256], line[256];
    struct fsck_report r;
    fx_make_store(root);
    fxd_flip_mid(root);
    assert_int_equal(run_fsck(root, FSCK_MODE_YES, 0, &r), FSCK_EXIT_REPAIRED);
    const struct fsck_finding *f = fsck_report_find(&r, FSCK_CHECKSUM);
    assert_string_equal(f->moved_to, "lost+found/6f7264657273.log.1");
    size_t len, n = fx_order_line(10, line, sizeof(line));
    line[9] ^= 1;
    char *item = fx_read_file(fx_join(p, root, f->moved_to), &len);
    assert_int_equal(len, n);
    assert_memory_equal(item, line, n);
    free(item);
    char *m = fx_read_file(fx_join(p, root, "lost+found/MANIFEST"), &len);
    snprintf(want, sizeof(want),
             "6f7264657273.log.1\t" FX_ORDERS_LOG "\toffset=%" PRIu64 "\tline=10\tlen=%zu\t"
             "code=checksum\n",
             fx_orders_offset(10), n);
    assert_string_equal(m, want);
    free(m);
    fsck_report_free(&r);
    fx_remove_tree(root);
}

static void json_report_names_code_class_file_line_and_offset(void **state)
{
    (void)state;
    char root[PATH_MAX], want[128];
    struct fsck_report r;
    char *out = NULL;
    size_t outlen = 0;
    fx_make_store(root);
    fxd_flip_mid(root);
    assert_int_equal(run_fsck(root, FSCK_MODE_CHECK, 0, &r), FSCK_EXIT_LEFT);
    FILE *f = open_memstream(&out, &outlen);
    fsck_report_print_json(&r, root, f);
    fclose(f);
    assert_non_null(strstr(out, "\"code\": \"checksum\", \"class\": \"corruption\", "
                                "\"file\": \"" FX_ORDERS_LOG "\", \"line\": 10"));
    snprintf(want, sizeof(want), "\"offset\": %" PRIu64, fx_orders_offset(10));
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "\"status\": 4"));
    assert_non_null(strstr(out, "\"action\": \"none\""));
    free(out);
    fsck_report_free(&r);
    fx_remove_tree(root);
}

/* After -p or -y leaves no error LOCK says clean; with errors left it is
 * not touched. */
static void repair_leaving_no_error_marks_the_store_clean(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    size_t len;
    fx_make_store(root);
    fxd_half_line(root);
    fxd_flip_mid(root);
    fx_write_file(fx_join(p, root, "LOCK"), "pid 999999\n", 11);
    assert_int_equal(fsck_status(root, FSCK_MODE_PREEN), FSCK_EXIT_LEFT);
    char *text = fx_read_file(p, &len);
    assert_string_equal(text, "pid 999999\n");
    free(text);
    assert_int_equal(fsck_status(root, FSCK_MODE_YES), FSCK_EXIT_REPAIRED);
    text = fx_read_file(p, &len);
    assert_string_equal(text, "clean\n");
    free(text);
    fx_remove_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_ENTRIES(flipped_byte_mid_log),
        FX_ENTRIES(flipped_byte_last_line),
        FX_ENTRIES(two_lines_swapped),
        FX_ENTRIES(half_a_line_at_end),
        FX_ENTRIES(zero_bytes_appended),
        FX_ENTRIES(seq_below_max),
        FX_ENTRIES(seq_lowered_in_a_clean_store),
        FX_ENTRIES(seq_deleted),
        FX_ENTRIES(seq_removed_from_a_clean_store),
        FX_ENTRIES(seq_garbage),
        FX_ENTRIES(temp_file_left_behind),
        FX_ENTRIES(kv_file_damaged),
        FX_ENTRIES(blob_bytes_altered),
        FX_ENTRIES(blob_with_non_cid_name),
        FX_ENTRIES(foreign_file_in_streams),
        FX_ENTRIES(legacy_store),
        FX_ENTRIES(blank_line_mid_log),
        FX_ENTRIES(overlong_tail_after_a_crash),
        FX_ENTRIES(overlong_whole_line),
        FX_ENTRIES(foreign_directory_in_streams),
        FX_ENTRIES(log_name_that_is_not_hex),
        FX_ENTRIES(temp_file_left_in_kv),
        FX_ENTRIES(kv_value_over_the_size_limit),
        cmocka_unit_test(good_store_is_clean),
        cmocka_unit_test(one_wild_seq_is_the_only_line_blamed),
        cmocka_unit_test(nul_line_before_corruption_is_not_a_torn_tail),
        cmocka_unit_test(half_a_line_in_a_cleanly_closed_store_is_corruption),
        cmocka_unit_test(lost_page_mid_log_in_a_clean_store_is_corruption),
        cmocka_unit_test(lost_page_before_lines_the_seq_covers_is_corruption),
        cmocka_unit_test(lost_page_before_lines_above_the_seq_is_a_torn_tail),
        cmocka_unit_test(lost_page_under_the_seq_after_an_unsynced_session_is_a_torn_tail),
        cmocka_unit_test(nul_seq_after_an_unsynced_session_is_rebuilt_from_the_log),
        cmocka_unit_test(torn_seq_holding_text_is_saved_before_it_is_rebuilt),
        cmocka_unit_test(damage_before_the_window_is_found_though_recovery_trusts_it),
        cmocka_unit_test(after_recovery_fsck_finds_nothing),
        cmocka_unit_test(live_writer_stops_fsck_unless_forced_read_only),
        cmocka_unit_test(live_writer_explains_only_the_logs_it_lists),
        cmocka_unit_test(unborn_streams_lose_their_logs_under_preen),
        cmocka_unit_test(a_seq_removed_after_a_clean_close_is_corruption_even_for_an_empty_log),
        cmocka_unit_test(healthy_live_store_checks_clean_under_force),
        cmocka_unit_test(kv_file_a_live_writer_deletes_during_the_check_is_skipped),
        cmocka_unit_test(unborn_log_a_live_writer_removes_during_the_check_is_skipped),
        cmocka_unit_test(missing_store_cannot_be_checked),
        cmocka_unit_test(check_leaves_the_journal_access_time_alone),
        cmocka_unit_test(symbolic_links_are_foreign_files_never_followed),
        cmocka_unit_test(upgrade_gives_a_legacy_store_its_trailers),
        cmocka_unit_test(moved_line_keeps_its_bytes_and_origin),
        cmocka_unit_test(json_report_names_code_class_file_line_and_offset),
        cmocka_unit_test(repair_leaving_no_error_marks_the_store_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
