/*
 * test_recover.c -- recovery (recovery/recover.c, rules R-1..R-6) on every
 * fixture of fixtures.h, the rule's cases one by one, the fast event check
 * against sx_parse (SXC-1), and opens through the engine.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "commit.h"
#include "fixtures.h"
#include "frame.h"
#include "io.h"
#include "layout.h"
#include "lock.h"
#include "logscan.h"
#include "recover.h"
#include "store.h"
#include "sx.h"
#include "sxcheck.h"
#include "testutil.h"

/* Linked with -Wl,--wrap=malloc (tests/CMakeLists.txt): while set, every
 * malloc of the engine and of this file fails, as under memory pressure. */
void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
static _Atomic int tr_malloc_fail;

void *__wrap_malloc(size_t size)
{
    if (tr_malloc_fail) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(size);
}

/* Runs recover_store on root with the default backend. */
static int run_recover(const char *root, struct recover_report *rep, struct sxp_err *err)
{
    struct sxp_io *io = NULL;
    struct sxp_err e2;
    int rc = io_backend_new(SXP_IO_AUTO, 1, &io, &e2);
    assert_int_equal(rc, 0);
    memset(rep, 0, sizeof(*rep));
    memset(err, 0, sizeof(*err));
    err->kind = "";
    rc = recover_store(io, root, 1, rep, err);
    io->destroy(io);
    return rc;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* The orders log's seqs must be exactly 1..n. */
static void assert_orders_intact(const char *root, int n)
{
    char p[PATH_MAX];
    int64_t seqs[64];
    int got = fx_log_seqs(fx_join(p, root, FX_ORDERS_LOG), seqs, 64);
    assert_int_equal(got, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(seqs[i], i + 1);
}

static void assert_seq_file(const char *root, const char *want)
{
    char p[PATH_MAX];
    size_t len;
    char *text = fx_read_file(fx_join(p, root, FX_ORDERS_SEQ), &len);
    assert_string_equal(text, want);
    free(text);
}

/* A refusal: -EUCLEAN, the message names want_file and "byte want_off",
 * points to sxp-fsck, and the tree is unchanged. */
static void assert_refused(void (*damage)(const char *), const char *want_file, uint64_t want_off,
                           const char *want_more)
{
    char root[PATH_MAX], b[64];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    damage(root);
    char *before = fx_snapshot(root);
    assert_int_equal(run_recover(root, &rep, &err), -EUCLEAN);
    /* Every case damages a file of "orders": the message names the stream. */
    char named[PATH_MAX];
    snprintf(named, sizeof(named), "%s (stream \"orders\"): ", want_file);
    assert_contains(err.msg, named);
    snprintf(b, sizeof(b), "byte %" PRIu64, want_off);
    assert_contains(err.msg, b);
    assert_contains(err.msg, "sxp-fsck");
    if (want_more)
        assert_contains(err.msg, want_more);
    fx_assert_unchanged(root, before);
    free(before);
    fx_remove_tree(root);
}

/* A successful recovery: returns the report of the first run, checks the
 * second run is a no-op. */
static struct recover_report assert_recovers(void (*damage)(const char *), char *root)
{
    struct recover_report rep, rep2;
    struct sxp_err err;
    fx_make_store(root);
    damage(root);
    int rc = run_recover(root, &rep, &err);
    if (rc)
        fail_msg("recover_store: %d %s", rc, err.msg);
    char *before = fx_snapshot(root);
    assert_int_equal(run_recover(root, &rep2, &err), 0);
    fx_assert_unchanged(root, before);
    assert_int_equal(rep2.tmp_removed + rep2.tails_cut + rep2.hw_rolled + rep2.seq_created, 0);
    free(before);
    return rep;
}

/* ---- the fixtures of issue 3 ------------------------------------------- */

static void flipped_byte_mid_log_refuses_recovery_naming_file_and_offset(void **state)
{
    (void)state;
    assert_refused(fxd_flip_mid, FX_ORDERS_LOG, fx_orders_offset(10), "line 10");
}

static void flipped_byte_in_last_line_refuses_recovery_since_it_holds_no_nul(void **state)
{
    (void)state;
    assert_refused(fxd_flip_last, FX_ORDERS_LOG, fx_orders_offset(20), "line 20");
}

static void swapped_lines_refuse_recovery_as_seq_out_of_order(void **state)
{
    (void)state;
    assert_refused(fxd_swap_lines, FX_ORDERS_LOG, fx_orders_offset(6), "line 6");
}

static void half_line_at_end_is_cut_and_every_event_stays(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[256];
    struct recover_report rep = assert_recovers(fxd_half_line, root);
    assert_int_equal(rep.tails_cut, 1);
    assert_int_equal(rep.bytes_cut, fx_order_line(21, line, sizeof(line)) / 2);
    assert_int_equal(fx_file_size(fx_join(p, root, FX_ORDERS_LOG)), fx_orders_offset(21));
    assert_orders_intact(root, FX_ORDERS);
    assert_seq_file(root, "20");
    /* A torn line alone was never acknowledged: nothing to keep. */
    assert_int_equal(rep.tails_saved, 0);
    assert_false(fx_exists(fx_join(p, root, "lost+found")));
    fx_remove_tree(root);
}

static void blank_line_mid_log_refuses_recovery(void **state)
{
    (void)state;
    assert_refused(fxd_blank_line, FX_ORDERS_LOG, fx_orders_offset(10), "blank line");
}

/* a last line that never ends is a torn write, however long. */
static void overlong_tail_without_lf_is_cut(void **state)
{
    (void)state;
    assert_true(FX_OVERLONG > LOGSCAN_LINE_MAX);
    char root[PATH_MAX], p[PATH_MAX];
    struct recover_report rep = assert_recovers(fxd_overlong_tail, root);
    assert_int_equal(rep.tails_cut, 1);
    assert_int_equal(rep.bytes_cut, FX_OVERLONG);
    assert_int_equal(fx_file_size(fx_join(p, root, FX_ORDERS_LOG)), fx_orders_offset(21));
    assert_orders_intact(root, FX_ORDERS);
    fx_remove_tree(root);
}

/* ...but a whole line longer than any append wrote is damage. */
static void overlong_whole_line_refuses_recovery(void **state)
{
    (void)state;
    assert_refused(fxd_overlong_line, FX_ORDERS_LOG, fx_orders_offset(21), "line too long");
}

static void zero_bytes_appended_are_cut(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct recover_report rep = assert_recovers(fxd_zeros, root);
    assert_int_equal(rep.tails_cut, 1);
    assert_int_equal(rep.bytes_cut, 1000);
    assert_int_equal(fx_file_size(fx_join(p, root, FX_ORDERS_LOG)), fx_orders_offset(21));
    assert_orders_intact(root, FX_ORDERS);
    fx_remove_tree(root);
}

static void seq_below_max_is_rolled_forward(void **state)
{
    (void)state;
    char root[PATH_MAX];
    struct recover_report rep = assert_recovers(fxd_seq_below, root);
    assert_int_equal(rep.hw_rolled, 1);
    assert_seq_file(root, "20");
    fx_remove_tree(root);
}

static void deleted_seq_is_recreated_from_the_log(void **state)
{
    (void)state;
    char root[PATH_MAX];
    struct recover_report rep = assert_recovers(fxd_seq_deleted, root);
    assert_int_equal(rep.seq_created, 1);
    assert_seq_file(root, "20");
    fx_remove_tree(root);
}

/* the kept lines that the .seq does not cover are written again
 * before their sync (a failed fdatasync may have left them clean in the
 * page cache), and no other: none when the mark covers the log, seqs 16 to
 * 20 above a mark of 15, the whole log without a .seq. A log kept whole is
 * synced only for such lines: "users", whose .seq covers it, never is, and
 * "orders" with a torn tail is synced by its cut. */
static void only_lines_above_the_seq_are_written_again_before_their_sync(void **state)
{
    (void)state;
    char root[PATH_MAX];
    struct recover_report rep = assert_recovers(fxd_zeros, root);
    assert_int_equal(rep.bytes_rewritten, 0);
    assert_int_equal(rep.logs_synced, 0);
    fx_remove_tree(root);
    rep = assert_recovers(fxd_seq_below, root);
    assert_int_equal(rep.bytes_rewritten, fx_orders_offset(21) - fx_orders_offset(16));
    assert_int_equal(rep.logs_synced, 1);
    assert_orders_intact(root, FX_ORDERS);
    fx_remove_tree(root);
    rep = assert_recovers(fxd_seq_deleted, root);
    assert_int_equal(rep.bytes_rewritten, fx_orders_offset(21));
    assert_int_equal(rep.logs_synced, 1);
    assert_orders_intact(root, FX_ORDERS);
    fx_remove_tree(root);
}

static void garbage_seq_refuses_recovery_naming_it(void **state)
{
    (void)state;
    assert_refused(fxd_seq_garbage, FX_ORDERS_SEQ, 0, NULL);
}

/* A .seq longer than any high-water mark sxp writes. */
static void damage_seq_too_long(const char *root)
{
    char p[PATH_MAX], text[LAYOUT_SEQ_MAX_TEXT + 2];
    memset(text, '9', sizeof(text));
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), text, sizeof(text));
}

static void overlong_seq_refuses_recovery_naming_it(void **state)
{
    (void)state;
    assert_refused(damage_seq_too_long, FX_ORDERS_SEQ, 0, "longer than");
}

/* Damage in two logs: both are found; the message names the first and
 * counts the others. */
static void damage_two_logs(const char *root)
{
    char p[PATH_MAX];
    fxd_flip_mid(root);
    fx_join(p, root, FX_USERS_LOG);
    fx_flip_byte(p, fx_line_offset(p, 2) + 3);
}

static void damage_in_two_logs_is_refused_naming_one_and_counting_the_other(void **state)
{
    (void)state;
    assert_refused(damage_two_logs, FX_ORDERS_LOG, fx_orders_offset(10),
                   "(and 1 more corrupt files)");
}

static void temp_file_is_removed(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct recover_report rep = assert_recovers(fxd_temp_file, root);
    assert_int_equal(rep.tmp_removed, 1);
    assert_false(fx_exists(fx_join(p, root, "streams/tmp.999.1.tmp")));
    fx_remove_tree(root);
}

/* recovery reads no kv value and no blob, so their damage is fsck's. */
static void assert_untouched(void (*damage)(const char *))
{
    char root[PATH_MAX];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    damage(root);
    char *before = fx_snapshot(root);
    assert_int_equal(run_recover(root, &rep, &err), 0);
    fx_assert_unchanged(root, before);
    assert_int_equal(rep.tmp_removed + rep.tails_cut + rep.hw_rolled + rep.seq_created, 0);
    free(before);
    fx_remove_tree(root);
}

static void damaged_kv_file_is_left_to_fsck(void **state)
{
    (void)state;
    assert_untouched(fxd_kv_damaged);
}

static void altered_blob_is_left_to_fsck(void **state)
{
    (void)state;
    assert_untouched(fxd_blob_altered);
}

static void blob_with_non_cid_name_is_left_alone(void **state)
{
    (void)state;
    assert_untouched(fxd_blob_bad_name);
}

static void foreign_file_in_streams_is_left_alone(void **state)
{
    (void)state;
    assert_untouched(fxd_foreign_file);
}

static void legacy_store_recovers_without_a_change(void **state)
{
    (void)state;
    char root[PATH_MAX];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_legacy_store(root);
    char *before = fx_snapshot(root);
    assert_int_equal(run_recover(root, &rep, &err), 0);
    fx_assert_unchanged(root, before);
    assert_int_equal(rep.logs_scanned, 2);
    free(before);
    fx_remove_tree(root);
}

/* ---- the rule's cases -------------------------------------------------- */

/* R-3 (b) then (c): a lost page merged two lines into one holding NULs; a
 * later line of the same batch survived. Both go. */
static void lost_page_with_a_surviving_later_line_is_a_torn_tail(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[256];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    fx_join(p, root, FX_ORDERS_LOG);
    size_t n = fx_order_line(21, line, sizeof(line));
    memset(line, 0, n / 2); /* the first half of line 21 lost */
    fx_append(p, line, n);
    n = fx_order_line(22, line, sizeof(line));
    fx_append(p, line, n);
    size_t all_len = 0;
    char *all = fx_read_file(p, &all_len);
    assert_int_equal(run_recover(root, &rep, &err), 0);
    assert_int_equal(rep.tails_cut, 1);
    assert_int_equal(fx_file_size(p), fx_orders_offset(21));
    assert_orders_intact(root, FX_ORDERS);
    assert_seq_file(root, "20");
    /* Line 22 is whole: the cut bytes were copied to lost+found/ first,
     * as they were, and MANIFEST says where they came from. */
    assert_int_equal(rep.tails_saved, 1);
    char item[PATH_MAX], rel[PATH_MAX];
    const char *base = strrchr(FX_ORDERS_LOG, '/') + 1;
    snprintf(rel, sizeof(rel), "lost+found/%s.1", base);
    size_t saved_len = 0;
    char *saved = fx_read_file(fx_join(item, root, rel), &saved_len);
    assert_int_equal(saved_len, all_len - fx_orders_offset(21));
    assert_memory_equal(saved, all + fx_orders_offset(21), saved_len);
    char *manifest = fx_read_file(fx_join(item, root, "lost+found/MANIFEST"), &saved_len);
    char want[256];
    snprintf(want, sizeof(want), "%s.1\t%s\toffset=%llu\tline=21\t", base, FX_ORDERS_LOG,
             (unsigned long long)fx_orders_offset(21));
    assert_contains(manifest, want);
    assert_contains(manifest, "\tcode=torn-tail\n");
    free(manifest);
    free(saved);
    free(all);
    fx_remove_tree(root);
}

/* R-3c: a lost page in the middle of orders (line 15). With .seq at 20 the
 * lines after it were durable before the .seq was written: no crash
 * explains it, so recovery refuses and changes nothing. With .seq at 15,
 * event 15 was durable and can only be the damaged line: refused too. With
 * .seq at 14, lines 15..20 may be an unacknowledged batch whose first page
 * was lost: cut. */
static void lost_page_refused_or_cut_by_the_high_water_mark(const char *seq, const char *want)
{
    char root[PATH_MAX], p[PATH_MAX];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), seq, strlen(seq));
    fx_zero_order_line(root, 15, 2, 10);
    char *before = fx_snapshot(root);
    int rc = run_recover(root, &rep, &err);
    if (want) {
        assert_int_equal(rc, -EUCLEAN);
        assert_contains(err.msg, FX_ORDERS_LOG);
        assert_contains(err.msg, "line 15");
        assert_contains(err.msg, want);
        fx_assert_unchanged(root, before);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(rep.tails_cut, 1);
        assert_int_equal(fx_file_size(fx_join(p, root, FX_ORDERS_LOG)), fx_orders_offset(15));
        assert_orders_intact(root, 14);
        assert_seq_file(root, seq);
    }
    free(before);
    fx_remove_tree(root);
}

static void lost_page_before_durable_lines_is_refused(void **state)
{
    (void)state;
    lost_page_refused_or_cut_by_the_high_water_mark("20", "seq 16, which the high-water mark 20");
    lost_page_refused_or_cut_by_the_high_water_mark("15", "above seq 14 was durable");
}

static void lost_page_before_lines_above_the_high_water_mark_is_cut(void **state)
{
    (void)state;
    lost_page_refused_or_cut_by_the_high_water_mark("14", NULL);
}

/* a bad line without NUL after a NUL line is not crash residue. */
static void bad_checksum_after_a_nul_line_is_refused(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[256];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    fx_join(p, root, FX_ORDERS_LOG);
    size_t n = fx_order_line(21, line, sizeof(line));
    memset(line, 0, 8);
    fx_append(p, line, n);
    n = fx_order_line(22, line, sizeof(line));
    line[3] ^= 1;
    fx_append(p, line, n);
    char *before = fx_snapshot(root);
    assert_int_equal(run_recover(root, &rep, &err), -EUCLEAN);
    assert_contains(err.msg, "checksum mismatch");
    assert_contains(err.msg, "line 22");
    fx_assert_unchanged(root, before);
    free(before);
    fx_remove_tree(root);
}

/* a complete good line whose seq does not increase is corruption even
 * at the very end. */
static void repeated_seq_at_the_end_is_refused(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[256];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    size_t n = fx_order_line(20, line, sizeof(line));
    fx_append(fx_join(p, root, FX_ORDERS_LOG), line, n);
    assert_int_equal(run_recover(root, &rep, &err), -EUCLEAN);
    assert_contains(err.msg, "seq 20 not above");
    fx_remove_tree(root);
}

/* A repeated seq 20 holding a NUL in a string, under a checksum that
 * matches, then good lines 21 and 22. */
static void damage_repeated_seq_with_a_nul(const char *root)
{
    char p[PATH_MAX], line[256];
    static const char payload[] = "{:item \"a\0b\" :seq 20}";
    fx_join(p, root, FX_ORDERS_LOG);
    size_t n = frame_encode(payload, sizeof(payload) - 1, line);
    fx_append(p, line, n);
    for (int64_t seq = 21; seq <= 22; seq++) {
        n = fx_order_line(seq, line, sizeof(line));
        fx_append(p, line, n);
    }
}

/* a NUL under a checksum that matches is a string's byte, not a lost
 * page: a repeated seq holding one is corruption, and the good lines
 * after it are not cut as a torn tail (which would let seqs 21 and 22 be
 * taken again). */
static void repeated_seq_holding_a_nul_in_a_string_is_refused(void **state)
{
    (void)state;
    assert_refused(damage_repeated_seq_with_a_nul, FX_ORDERS_LOG, fx_orders_offset(21),
                   "seq 20 not above");
}

/* hw is never lowered (truncate leaves it above the log). */
static void seq_above_the_log_is_kept(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "100", 3);
    assert_int_equal(run_recover(root, &rep, &err), 0);
    assert_int_equal(rep.hw_rolled, 0);
    assert_seq_file(root, "100");
    fx_remove_tree(root);
}

/* R-4b: a log with no .seq that holds no event once its torn tail is
 * cut is an unborn stream's: removed, not given a .seq of 0 (persist/
 * streams would list it). An empty log with a .seq is a stream truncated
 * to nothing: kept. A lone .seq is fine when it parses, refused when not. */
static void unborn_logs_are_removed_and_lone_seq_must_parse(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    fx_write_file(fx_join(p, root, "streams/6e6577.log"), "", 0);
    fx_write_file(fx_join(p, root, "streams/746f726e.log"), "{:seq 1 :x", 10);
    fx_write_file(fx_join(p, root, "streams/6b657074.log"), "", 0);
    fx_write_file(fx_join(p, root, "streams/6b657074.seq"), "4", 1);
    fx_write_file(fx_join(p, root, "streams/6f6c64.seq"), "7", 1);
    assert_int_equal(run_recover(root, &rep, &err), 0);
    assert_int_equal(rep.seq_created, 0);
    assert_int_equal(rep.unborn_removed, 2);
    assert_int_equal(rep.tails_cut, 1);
    assert_false(fx_exists(fx_join(p, root, "streams/6e6577.log")));
    assert_false(fx_exists(fx_join(p, root, "streams/6e6577.seq")));
    assert_false(fx_exists(fx_join(p, root, "streams/746f726e.log")));
    assert_true(fx_exists(fx_join(p, root, "streams/6b657074.log")));
    size_t len;
    char *t = fx_read_file(fx_join(p, root, "streams/6b657074.seq"), &len);
    assert_string_equal(t, "4");
    free(t);
    /* Running it again changes nothing. */
    assert_int_equal(run_recover(root, &rep, &err), 0);
    assert_int_equal(rep.unborn_removed + rep.seq_created + rep.tails_cut, 0);
    fx_write_file(fx_join(p, root, "streams/6f6c64.seq"), "x7", 2);
    assert_int_equal(run_recover(root, &rep, &err), -EUCLEAN);
    assert_contains(err.msg, "streams/6f6c64.seq");
    fx_remove_tree(root);
}

/* R-1 in every folder, and only names ending in .tmp. */
static void temp_files_in_every_folder_are_removed_and_nothing_else(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    fx_write_file(fx_join(p, root, "kv/tmp.1.1.tmp"), "x", 1);
    fx_write_file(fx_join(p, root, "blobs/tmp.1.2.tmp"), "x", 1);
    fx_write_file(fx_join(p, root, "tmp.1.3.tmp"), "x", 1);
    fx_write_file(fx_join(p, root, "streams/6f7264657273.seq.tmp"), "x", 1); /* the reference's */
    fx_write_file(fx_join(p, root, "kv/tmpnot"), "x", 1);
    assert_int_equal(run_recover(root, &rep, &err), 0);
    assert_int_equal(rep.tmp_removed, 4);
    assert_false(fx_exists(fx_join(p, root, "kv/tmp.1.1.tmp")));
    assert_false(fx_exists(fx_join(p, root, "streams/6f7264657273.seq.tmp")));
    assert_true(fx_exists(fx_join(p, root, "kv/tmpnot")));
    fx_remove_tree(root);
}

/* Writes a log of at least min_bytes of good order events; returns the
 * count of events. */
static int64_t write_big_log(const char *path, uint64_t min_bytes)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    char line[256];
    uint64_t size = 0;
    int64_t n = 0;
    while (size < min_bytes) {
        size_t len = fx_order_line(++n, line, sizeof(line));
        assert_int_equal(fwrite(line, 1, len, f), len);
        size += len;
    }
    fclose(f);
    return n;
}

/* damage wholly before the window is not recovery's to see; recovery
 * reads about the window only. */
static void recovery_reads_only_the_window_and_trusts_what_is_before(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], text[32];
    struct recover_report rep;
    struct sxp_err err;
    fx_make_store(root);
    fx_join(p, root, FX_ORDERS_LOG);
    int64_t n = write_big_log(p, COMMIT_MAX_UNSYNCED + (4u << 20));
    fx_flip_byte(p, 5); /* line 1, far before the window */
    fx_append_zeros(p, 4096);
    snprintf(text, sizeof(text), "%" PRId64, n - 10);
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), text, strlen(text));
    assert_int_equal(run_recover(root, &rep, &err), 0);
    assert_int_equal(rep.tails_cut, 1);
    assert_int_equal(rep.bytes_cut, 4096);
    assert_int_equal(rep.hw_rolled, 1);
    assert_true(rep.bytes_read <= COMMIT_MAX_UNSYNCED + 4096 + 256);
    snprintf(text, sizeof(text), "%" PRId64, n);
    assert_seq_file(root, text);
    fx_remove_tree(root);
}

/* ---- SXC-1: the fast event check agrees with sx_parse ------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random value, depth-limited. */
static sxp_value *random_value(int depth)
{
    switch (rng() % (depth > 3 ? 6 : 9)) {
    case 0:
        return sxp_value_nil();
    case 1:
        return sxp_value_bool((int)(rng() & 1));
    case 2:
        return sxp_value_int((int64_t)(rng() % 2000000) - 1000000);
    case 3: {
        double d = (double)(int64_t)(rng() % 100000) / ((rng() % 7) + 1.5);
        if (rng() % 5 == 0)
            d *= 1e30;
        return sxp_value_num(d);
    }
    case 4: {
        char s[16];
        size_t n = rng() % sizeof(s);
        static const char alphabet[] = "ab \"\\\n\t\r\x01z\xff";
        for (size_t i = 0; i < n; i++)
            s[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
        return sxp_value_str(s, n);
    }
    case 5: {
        static const char *const kws[] = {"a", "seq", "b-c", "x?", "K9"};
        const char *k = kws[rng() % 5];
        return sxp_value_kw(k, strlen(k));
    }
    case 6: {
        sxp_value *l = sxp_value_list();
        size_t n = rng() % 4;
        for (size_t i = 0; i < n; i++)
            assert_int_equal(sxp_value_list_push(l, random_value(depth + 1)), 0);
        return l;
    }
    case 7:
        return sxp_value_sym("foo", 3);
    default: {
        sxp_value *d = sxp_value_dict();
        static const char *const keys[] = {"seq", "a", "item", "seq2", "z"};
        size_t n = rng() % 5;
        for (size_t i = 0; i < n; i++) {
            const char *k = keys[rng() % 5];
            sxp_value *v = (strcmp(k, "seq") == 0 && rng() % 2) ? sxp_value_int((int64_t)rng())
                                                                : random_value(depth + 1);
            assert_int_equal(sxp_value_dict_set(d, k, strlen(k), v), 0);
        }
        return d;
    }
    }
}

/* sx_parse's verdict on text, in sxcheck's terms. */
static enum sxcheck_verdict slow_verdict(const char *text, size_t len, int64_t *seq)
{
    sxp_value *v = NULL;
    if (sx_parse(text, len, &v, NULL) != 0)
        return SXCHECK_UNPARSABLE;
    enum sxcheck_verdict r = sx_event_seq(v, seq, NULL) == 0 ? SXCHECK_EVENT : SXCHECK_NOT_EVENT;
    sxp_value_free(v);
    return r;
}

static void assert_agree(const char *text, size_t len, unsigned *fast_hits)
{
    enum sxcheck_verdict fv;
    int64_t fs = 0, ss = 0;
    enum sxcheck_verdict sv = slow_verdict(text, len, &ss);
    if (sxcheck_fast(text, len, &fv, &fs)) {
        (*fast_hits)++;
        if (fv != sv || (fv == SXCHECK_EVENT && fs != ss))
            fail_msg("fast path says %d (seq %" PRId64 "), sx_parse %d (seq %" PRId64 ") on "
                     "\"%.*s\"",
                     (int)fv, fs, (int)sv, ss, (int)len, text);
    }
    int64_t es = 0;
    assert_int_equal(sxcheck_event(text, len, &es), sv);
    if (sv == SXCHECK_EVENT)
        assert_int_equal(es, ss);
}

/* A line that only the fallback parse judges (two spaces: not canonical),
 * judged while memory runs out: no verdict, never "unparsable", which
 * recovery would refuse as corruption and sxp-fsck -y move out. */
static void a_line_judged_out_of_memory_gets_no_verdict(void **state)
{
    (void)state;
    static const char text[] = "{:seq  7}";
    size_t len = strlen(text);
    enum sxcheck_verdict fv;
    int64_t seq = 0;
    struct logscan_line l;
    struct logscan_class cl;
    memset(&l, 0, sizeof(l));
    l.bytes = text;
    l.len = len;
    frame_decode_whole(text, len, &l.fl);
    assert_int_equal(l.fl.status, FRAME_LEGACY);
    assert_int_equal(sxcheck_fast(text, len, &fv, &seq), 0); /* the fallback's */
    assert_int_equal(sxcheck_event(text, len, &seq), SXCHECK_EVENT);
    assert_int_equal(seq, 7);
    tr_malloc_fail = 1;
    enum sxcheck_verdict v = sxcheck_event(text, len, &seq);
    int value = sxcheck_value(text, len);
    logscan_classify(&l, 0, 0, &cl);
    tr_malloc_fail = 0;
    assert_int_equal(v, SXCHECK_NOMEM);
    assert_int_equal(value, -ENOMEM);
    assert_int_equal(cl.v, LS_NOMEM);
    assert_int_equal(cl.residue, 0);
    logscan_classify(&l, 0, 0, &cl);
    assert_int_equal(cl.v, LS_GOOD);
}

static void fast_event_check_agrees_with_sx_parse(void **state)
{
    (void)state;
    const char *seed_env = getenv("SXP_TEST_SEED");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : (uint64_t)time(NULL);
    printf("fast_event_check_agrees_with_sx_parse: seed %" PRIu64 " (SXP_TEST_SEED)\n", seed);
    rng_state = seed * 2654435761u + 1;
    unsigned fast_hits = 0, total = 0, canonical_fast = 0;
    for (int i = 0; i < 20000; i++) {
        sxp_value *v = random_value(0);
        struct buf b = BUF_INIT;
        if (sx_serialize(v, &b, NULL) == 0) {
            assert_agree(b.p, b.len, &fast_hits);
            total++;
            enum sxcheck_verdict fv;
            int64_t fs;
            canonical_fast += sxcheck_fast(b.p, b.len, &fv, &fs);
            /* Damaged copies: a byte changed, a byte cut, a byte doubled. */
            for (int k = 0; k < 3 && b.len > 0; k++) {
                char *t = malloc(b.len + 1);
                memcpy(t, b.p, b.len);
                size_t at = rng() % b.len, len = b.len;
                static const char bytes[] = {' ',  ':', '{', '}', '(', ')', '"', '\\',
                                             '\0', '0', '-', '.', 'e', '9', 'a', '\t'};
                if (k == 0)
                    t[at] = bytes[rng() % sizeof(bytes)];
                else if (k == 1)
                    memmove(t + at, t + at + 1, --len - at);
                else
                    len = at;
                assert_agree(t, len, &fast_hits);
                free(t);
            }
        }
        buf_free(&b);
        sxp_value_free(v);
    }
    /* Hand-picked edge cases. */
    static const char *const edge[] = {
        "{:seq 1}",
        "{:seq -9223372036854775808}",
        "{:seq 9223372036854775808}",
        "{:seq 1 :seq 2}",
        "{:a 1 :a 2}",
        "{:b 1 :a 2}",
        "{:seq 1.5}",
        "{:seq 01}",
        "{:seq 1e+05}",
        "{:seq 1e+999}",
        " {:seq 1}",
        "{:seq 1} ",
        "{:seq  1}",
        "{:seq 1 }",
        "(list 1 2)",
        "(1 2)",
        "nil",
        "nilx",
        "\"a\\qb\"",
        "{:seq\t1}",
        "{:x (quote y) :seq 3}",
        "{:x :y :seq 4}",
        "{:a \"}\" :seq 5}",
        "{}",
        "",
        "{:seq 3",
        "{:seq 3}}",
        ":seq",
        "{:seq 2 :a 1}",
        "{:a 1e+30 :seq 7}",
        "{:a -0.5 :seq 8}",
        "{:a 1. :seq 8}",
        "{:a .5 :seq 8}",
        "{:a - :seq 8}",
    };
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        assert_agree(edge[i], strlen(edge[i]), &fast_hits);
    printf("  %u canonical texts (%u decided by the fast path) and %u damaged copies; "
           "%u decisions by the fast path in all\n",
           total, canonical_fast, 3 * total, fast_hits);
    /* The fast path must decide every canonical text: that is what makes
     * fsck fast. */
    assert_int_equal(canonical_fast, total);
}

/* ---- opening through the engine ---------------------------------------- */

/* Marks the store as not closed cleanly, so open runs recovery. */
static void make_unclean(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, "LOCK"), "pid 999999\n", 11);
}

static void open_after_torn_tail_succeeds_with_every_event(void **state)
{
    (void)state;
    char root[PATH_MAX];
    struct sxp_err err;
    sxp_value *list = NULL;
    fx_make_store(root);
    fxd_half_line(root);
    make_unclean(root);
    sxp_store *s = tu_open(root);
    assert_int_equal(sxp_stream_read(s, "orders", 6, &list, &err), 0);
    assert_int_equal(sxp_value_len(list), FX_ORDERS);
    sxp_value_free(list);
    int64_t hw = 0;
    assert_int_equal(sxp_stream_last_seq(s, "orders", 6, &hw, &err), 0);
    assert_int_equal(hw, FX_ORDERS);
    assert_int_equal(sxp_store_close(s), 0);
    assert_orders_intact(root, FX_ORDERS);
    fx_remove_tree(root);
}

/* ---- the dirty list (engine/lock.h K-5, R-2) ------------------------------ */

#define DL_STREAMS 40

static void dl_append(sxp_store *s, int stream, int64_t seq)
{
    char name[16], text[64];
    struct sxp_err err;
    sxp_value *v = NULL;
    snprintf(name, sizeof(name), "d%02d", stream);
    snprintf(text, sizeof(text), "{:n %d :seq %lld}", stream, (long long)seq);
    assert_int_equal(sxp_value_parse(text, strlen(text), &v, &err), 0);
    if (sxp_stream_append(s, name, strlen(name), v, &err) != 0)
        fail_msg("append %s %lld: %s", name, (long long)seq, err.msg);
    sxp_value_free(v);
}

/* A store of DL_STREAMS streams of 3 events, closed cleanly; then a session
 * in mode sync that appends to streams 7 and 23 only and dies
 * (store_abandon). A syncing session's appends go through JOURNAL (J-4),
 * which covers their logs; with checkpoint set, a checkpoint moves them to
 * LOCK's dirty list (J-5) before the last one. */
static void dl_crashed_store_at(char *root, int checkpoint, enum sxp_sync_mode sync)
{
    struct sxp_err err;
    fx_tmpdir(root);
    sxp_store *s = tu_open(root);
    for (int i = 0; i < DL_STREAMS; i++)
        for (int64_t q = 1; q <= 3; q++)
            dl_append(s, i, q);
    assert_int_equal(sxp_store_close(s), 0);
    s = tu_open_sync(root, sync);
    dl_append(s, 7, 4);
    dl_append(s, 23, 4);
    if (checkpoint)
        assert_int_equal(store_checkpoint(s, &err), 0);
    dl_append(s, 7, 5);
    store_abandon(s);
}

static void dl_crashed_store(char *root)
{
    dl_crashed_store_at(root, 1, SXP_SYNC_ALWAYS);
}

/* The crashed session's streams 7 and 23 read their acknowledged marks. */
static void dl_hw_after_crash_is_right(const char *root)
{
    sxp_store *s = tu_open(root);
    int64_t hw = 0;
    struct sxp_err err;
    assert_int_equal(sxp_stream_last_seq(s, "d07", 3, &hw, &err), 0);
    assert_int_equal(hw, 5);
    assert_int_equal(sxp_stream_last_seq(s, "d23", 3, &hw, &err), 0);
    assert_int_equal(hw, 4);
    assert_int_equal(sxp_store_close(s), 0);
}

static struct sxp_stats dl_reopen_stats(const char *root)
{
    struct sxp_stats st;
    sxp_store *s = tu_open(root);
    sxp_store_stats(s, &st);
    assert_int_equal(sxp_store_close(s), 0);
    return st;
}

/* The buckets of stream names d<k>, k < DL_STREAMS, that share a bucket
 * with any of the given streams: the logs recovery must read. */
static unsigned dl_expected_reads(const int *written, size_t n)
{
    unsigned count = 0;
    for (int k = 0; k < DL_STREAMS; k++) {
        char name[16], hex[40];
        snprintf(name, sizeof(name), "d%02d", k);
        layout_hex_encode(name, strlen(name), hex);
        unsigned b = lock_dirty_bucket(hex, strlen(hex));
        for (size_t i = 0; i < n; i++) {
            char wn[16], wh[40];
            snprintf(wn, sizeof(wn), "d%02d", written[i]);
            layout_hex_encode(wn, strlen(wn), wh);
            if (lock_dirty_bucket(wh, strlen(wh)) == b) {
                count++;
                break;
            }
        }
    }
    return count;
}

/* The crashed session's LOCK lists the buckets of exactly the streams it
 * wrote, and recovery reads only the logs in those buckets. */
static void recovery_after_a_crash_reads_only_the_logs_the_session_wrote(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], line[64];
    dl_crashed_store(root);
    size_t len = 0;
    char *lock = fx_read_file(fx_join(p, root, "LOCK"), &len);
    assert_non_null(strstr(lock, " +dirty\n"));
    /* Two lines after the first, in bucket order, then zeros. */
    const char *l1 = strchr(lock, '\n') + 1;
    const char *l2 = strchr(l1, '\n') + 1;
    const char *end = strchr(l2, '\n') + 1;
    assert_int_equal(*end, '\0');
    unsigned b7 = lock_dirty_bucket("643037", 6), b23 = lock_dirty_bucket("643233", 6);
    snprintf(line, sizeof(line), "%03x", b7 < b23 ? b7 : b23); /* hex("d07"), hex("d23") */
    size_t n = frame_encode(line, 3, line);
    line[n] = '\0';
    assert_int_equal(strncmp(l1, line, n), 0);
    snprintf(line, sizeof(line), "%03x", b7 < b23 ? b23 : b7);
    n = frame_encode(line, 3, line);
    line[n] = '\0';
    assert_int_equal(strncmp(l2, line, n), 0);
    free(lock);

    static const int written[] = {7, 23};
    unsigned want = dl_expected_reads(written, 2);
    assert_true(want >= 2);
    struct sxp_stats st = dl_reopen_stats(root);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.rec_logs_scanned, want);
    assert_int_equal(st.rec_logs_skipped, DL_STREAMS - want);
    dl_hw_after_crash_is_right(root);
    fx_remove_tree(root);
}

/* The store of dl_crashed_store, but the crashed session ran under
 * SXP_SYNC_NONE; with reboot, LOCK then names another boot than this one
 * (lock.h K-8), as after a power loss. */
static void dl_unsynced_crashed_store(char *root, int reboot)
{
    char p[PATH_MAX];
    dl_crashed_store_at(root, 0, SXP_SYNC_NONE);
    size_t len = 0;
    char *lock = fx_read_file(fx_join(p, root, "LOCK"), &len);
    char *boot = strstr(lock, " unsynced ");
    assert_non_null(boot);
    boot += strlen(" unsynced ");
    assert_true(*boot != '+'); /* the boot is named */
    if (reboot) {
        *boot = *boot == 'f' ? '0' : 'f';
        fx_write_file(p, lock, len);
    }
    free(lock);
}

/* K-8: a session under SXP_SYNC_NONE that dies lists the buckets of its
 * streams too, without syncs, and in the boot it ran in the next open
 * (after its settle) reads only the logs in them. When LOCK names another
 * boot (a power loss since, maybe) the list proves nothing: recovery reads
 * every log, whole. Either way the marks come out right. */
static void after_a_killed_unsynced_session_recovery_reads_only_its_logs(void **state)
{
    (void)state;
    static const int written[] = {7, 23};
    unsigned want = dl_expected_reads(written, 2);
    for (int reboot = 0; reboot < 2; reboot++) {
        char root[PATH_MAX];
        dl_unsynced_crashed_store(root, reboot);
        struct sxp_stats st = dl_reopen_stats(root);
        assert_int_equal(st.recovered, 1);
        assert_int_equal(st.rec_logs_scanned, reboot ? DL_STREAMS : want);
        assert_int_equal(st.rec_logs_skipped, reboot ? 0 : DL_STREAMS - want);
        dl_hw_after_crash_is_right(root);
        fx_remove_tree(root);
    }
}

/* K-8: in the boot the unsynced session ran in, its .seq files hold (the
 * page cache kept them), so a NUL-damaged line under d07's mark (3, from
 * the clean close) is damage the open refuses (R-3c). In another boot it
 * is what a power loss leaves, a torn tail cut from there on, its
 * good lines saved, and the mark kept. */
static void
a_lost_page_under_the_mark_is_refused_in_the_same_boot_and_cut_after_a_reboot(void **state)
{
    (void)state;
    for (int reboot = 0; reboot < 2; reboot++) {
        char root[PATH_MAX], p[PATH_MAX];
        struct sxp_options o;
        struct sxp_err err;
        sxp_store *s = NULL;
        dl_unsynced_crashed_store(root, reboot);
        fx_join(p, root, "streams/643037.log");
        size_t len = 0;
        char *log = fx_read_file(p, &len);
        uint64_t at = strcspn(log, "\n") + 1; /* line 2 */
        memset(log + at + 2, 0, 4);
        fx_write_file(p, log, len);
        free(log);
        sxp_options_init(&o);
        o.quiet = 1;
        int rc = sxp_store_open(root, &o, &s, &err);
        if (!reboot) {
            assert_int_equal(rc, -EUCLEAN);
            assert_non_null(strstr(err.msg, "643037.log"));
            assert_int_equal(fx_file_size(p), len); /* nothing changed */
        } else {
            if (rc)
                fail_msg("open: %d %s", rc, err.msg);
            int64_t hw = 0;
            assert_int_equal(sxp_stream_last_seq(s, "d07", 3, &hw, &err), 0);
            assert_int_equal(hw, 3);
            struct sxp_stats st;
            sxp_store_stats(s, &st);
            assert_int_equal(st.rec_tails_cut, 1);
            assert_int_equal(st.rec_tails_saved, 1);
            assert_int_equal(sxp_store_close(s), 0);
            assert_int_equal(fx_file_size(p), at);
        }
        fx_remove_tree(root);
    }
}

/* A session whose appends all went through JOURNAL lists nothing in LOCK
 * (the journal covers their logs, C-4); recovery reads the logs its
 * records name, and rolls their .seq forward. */
static void logs_only_the_journal_covers_are_read_by_recovery(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    dl_crashed_store_at(root, 0, SXP_SYNC_ALWAYS);
    size_t len = 0;
    char *lock = fx_read_file(fx_join(p, root, "LOCK"), &len);
    const char *l1 = strchr(lock, '\n') + 1;
    assert_int_equal(*l1, '\0'); /* an empty list */
    free(lock);
    static const int written[] = {7, 23};
    unsigned want = dl_expected_reads(written, 2);
    struct sxp_stats st = dl_reopen_stats(root);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.rec_logs_scanned, want);
    assert_int_equal(st.rec_hw_rolled, 2);
    dl_hw_after_crash_is_right(root);
    fx_remove_tree(root);
}

/* What a crash leaves in a listed log is repaired: its torn tail is cut. */
static void a_torn_tail_in_a_listed_log_is_cut(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    dl_crashed_store(root);
    fx_append(fx_join(p, root, "streams/643037.log"), "{:n 7 :se", 9);
    struct sxp_stats st = dl_reopen_stats(root);
    static const int written[] = {7, 23};
    assert_int_equal(st.rec_tails_cut, 1);
    assert_int_equal(st.rec_logs_scanned, dl_expected_reads(written, 2));
    fx_remove_tree(root);
}

/* A list that does not read whole (a damaged line), or a LOCK without one
 * (an older writer), makes recovery read every log. */
static void without_a_whole_list_recovery_reads_every_log(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    dl_crashed_store(root);
    fx_join(p, root, "LOCK");
    size_t len = 0;
    char *lock = fx_read_file(p, &len);
    const char *lf = memrchr(lock, '\n', len); /* the last name's LF; zeros follow */
    assert_non_null(lf);
    uint64_t last_lf = (uint64_t)(lf - lock);
    assert_true(last_lf + 1 < len && lock[last_lf + 1] == '\0');
    free(lock);
    fx_flip_byte(p, last_lf - 3); /* a digit of the last line's checksum */
    struct sxp_stats st = dl_reopen_stats(root);
    assert_int_equal(st.rec_logs_scanned, DL_STREAMS);
    assert_int_equal(st.rec_logs_skipped, 0);
    fx_remove_tree(root);

    /* A byte that is not NUL among the zeros after the list. */
    dl_crashed_store(root);
    fx_join(p, root, "LOCK");
    fx_flip_byte(p, fx_file_size(p) - 100);
    st = dl_reopen_stats(root);
    assert_int_equal(st.rec_logs_scanned, DL_STREAMS);
    fx_remove_tree(root);

    dl_crashed_store(root);
    make_unclean(root); /* "pid 999999\n": no list */
    st = dl_reopen_stats(root);
    assert_int_equal(st.rec_logs_scanned, DL_STREAMS);
    fx_remove_tree(root);
}

/* A list that outgrows the zeros written ahead for it writes more zeros
 * and still reads whole; a bucket written twice is fine. */
static void a_dirty_list_past_its_zeros_reads_whole(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    struct sxp_io *io = NULL;
    struct sxp_err err;
    struct lock_dirty d;
    uint64_t off = 0, alloc = 0;
    fx_tmpdir(root);
    assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &io, &err), 0);
    int fd = io->open(io, fx_join(p, root, "LOCK"), O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(lock_mark_open(io, fd, 1, &off, &alloc), 0);
    assert_int_equal(fx_file_size(p), alloc);
    alloc = off + 10; /* as if the zeros were nearly used up */
    static const unsigned buckets[] = {0, 4095, 7, 4095};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(lock_append_dirty(io, fd, &off, &alloc, buckets[i], 1), 0);
    assert_true(alloc > off);
    assert_int_equal(fx_file_size(p), alloc);
    assert_int_equal(lock_read_dirty(io, fd, &d), 1);
    for (unsigned b = 0; b < LOCK_DIRTY_BUCKETS; b++)
        assert_int_equal(lock_dirty_has(&d, b), b == 0 || b == 7 || b == 4095);
    assert_int_equal(lock_append_dirty(io, fd, &off, &alloc, LOCK_DIRTY_BUCKETS, 1), -EINVAL);
    assert_int_equal(lock_state(io, fd), 0);
    /* "clean\n" leaves no list. */
    assert_int_equal(lock_mark_clean(io, fd, 1), 0);
    assert_int_equal(fx_file_size(p), 6);
    assert_int_equal(lock_read_dirty(io, fd, &d), 0);
    assert_int_equal(lock_state(io, fd), LOCK_CLEAN);
    /* K-6, K-8: an unsynced session's list is trusted in the boot that
     * wrote it only, and both its texts say unsynced. */
    assert_int_equal(lock_mark_open(io, fd, 0, &off, &alloc), 0);
    assert_int_equal(lock_append_dirty(io, fd, &off, &alloc, 7, 0), 0);
    assert_int_equal(lock_state(io, fd), LOCK_UNSYNCED | LOCK_THIS_BOOT);
    assert_int_equal(lock_read_dirty(io, fd, &d), 1);
    for (unsigned b = 0; b < LOCK_DIRTY_BUCKETS; b++)
        assert_int_equal(lock_dirty_has(&d, b), b == 7);
    assert_int_equal(lock_holder_pid(io, root), (long)getpid());
    {
        /* Another boot's id in its place (a reboot since), or none (an
         * older writer): no list, R-7. The ids are the same length, so the
         * list stays where it was. */
        char text[256], boot[LOCK_BOOT_ID_MAX];
        assert_int_equal(io->boot_id(io, boot, sizeof(boot)), 0);
        assert_int_equal(io->pread(io, fd, text, sizeof(text) - 1, 0), (ssize_t)sizeof(text) - 1);
        char *at = strstr(text, boot);
        assert_non_null(at);
        at[0] = at[0] == 'f' ? '0' : 'f';
        assert_int_equal(io->pwrite(io, fd, text, sizeof(text) - 1, 0), 0);
        assert_int_equal(lock_state(io, fd), LOCK_UNSYNCED);
        assert_int_equal(lock_read_dirty(io, fd, &d), 0);
        static const char old[] = "pid 7 unsynced +dirty\n";
        assert_int_equal(io->pwrite(io, fd, old, strlen(old), 0), 0);
        assert_int_equal(io->ftruncate(io, fd, strlen(old)), 0);
        assert_int_equal(lock_state(io, fd), LOCK_UNSYNCED);
        assert_int_equal(lock_read_dirty(io, fd, &d), 0);
    }
    assert_int_equal(lock_mark_clean(io, fd, 0), 0);
    assert_int_equal(lock_state(io, fd), LOCK_CLEAN | LOCK_UNSYNCED);
    /* K-7: that text torn by a power loss, even at the byte, reads
     * unsynced and unclean; a session's first line still says which. */
    static const char *const torn[] = {"clean unsynced sim-+dirty\n", "clean unsyncenced +dirty\n",
                                       "cle", "\0\0\0\0"};
    for (size_t i = 0; i < sizeof(torn) / sizeof(torn[0]); i++) {
        size_t n = torn[i][0] ? strlen(torn[i]) : 4;
        assert_int_equal(io->pwrite(io, fd, torn[i], n, 0), 0);
        assert_int_equal(io->ftruncate(io, fd, n), 0);
        assert_int_equal(lock_state(io, fd), LOCK_UNSYNCED);
    }
    assert_int_equal(io->pwrite(io, fd, "pid 7 +dirty\n", 13, 0), 0);
    assert_int_equal(io->ftruncate(io, fd, 13), 0);
    assert_int_equal(lock_state(io, fd), 0);
    (void)io->close(io, fd);
    io->destroy(io);
    fx_remove_tree(root);
}

/* A log with no .seq is read even when the list does not name it. */
static void a_log_without_its_seq_is_read_though_not_listed(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    dl_crashed_store(root);
    assert_int_equal(unlink(fx_join(p, root, "streams/643130.seq")), 0); /* d10 */
    struct sxp_stats st = dl_reopen_stats(root);
    static const int written[] = {7, 23, 10};
    assert_int_equal(st.rec_logs_scanned, dl_expected_reads(written, 3));
    assert_int_equal(st.rec_seq_created, 1);
    size_t len;
    char *text = fx_read_file(p, &len);
    assert_string_equal(text, "3");
    free(text);
    fx_remove_tree(root);
}

static void open_after_flipped_byte_fails_naming_file_and_offset(void **state)
{
    (void)state;
    char root[PATH_MAX], b[64];
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = NULL;
    fx_make_store(root);
    fxd_flip_mid(root);
    make_unclean(root);
    sxp_options_init(&o);
    o.quiet = 1;
    assert_int_equal(sxp_store_open(root, &o, &s, &err), -EUCLEAN);
    assert_null(s);
    assert_contains(err.msg, FX_ORDERS_LOG);
    snprintf(b, sizeof(b), "byte %" PRIu64, fx_orders_offset(10));
    assert_contains(err.msg, b);
    assert_contains(err.msg, "sxp-fsck");
    fx_remove_tree(root);
}

static void open_of_legacy_store_reads_its_events(void **state)
{
    (void)state;
    char root[PATH_MAX];
    struct sxp_err err;
    sxp_value *list = NULL;
    fx_make_legacy_store(root);
    sxp_store *s = tu_open(root);
    assert_int_equal(sxp_stream_read(s, "orders", 6, &list, &err), 0);
    assert_int_equal(sxp_value_len(list), 3);
    sxp_value_free(list);
    assert_int_equal(sxp_store_close(s), 0);
    fx_remove_tree(root);
}

/* ---- what recovery keeps of a torn tail the mark may cover --------------- */

/* The orders log of an engine-made store holding only line 1, with part
 * of it replaced by data (NUL bytes or not); .seq as seq (NULL: none). */
static void one_damaged_line(const char *root, int zero_all, const char *seq, size_t *out_len,
                             char **out_bytes)
{
    char p[PATH_MAX], line[256];
    size_t n = fx_order_line(1, line, sizeof(line));
    if (zero_all)
        memset(line, 0, n);
    else
        memset(line + 2, 0, 10); /* a lost sector inside the line */
    fx_write_file(fx_join(p, root, FX_ORDERS_LOG), line, n);
    if (seq)
        fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), seq, strlen(seq));
    else
        unlink(fx_join(p, root, FX_ORDERS_SEQ));
    *out_len = n;
    *out_bytes = malloc(n);
    memcpy(*out_bytes, line, n);
}

/* R-3, the mark's doubt: a log damaged from its first byte has no line
 * before the damage for R-3c to judge by (a truncate may have emptied it
 * before a torn append), so it is cut; but the mark says event 1 may have
 * been acknowledged, so what is not NUL goes to lost+found/ first. Zeros,
 * or a log no mark covers, are cut without a copy. */
static void a_log_damaged_from_its_first_byte_under_its_mark_is_saved_before_the_cut(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], rel[PATH_MAX];
    struct recover_report rep;
    struct sxp_err err;
    size_t n = 0, saved_len = 0;
    char *bytes = NULL;
    const char *base = strrchr(FX_ORDERS_LOG, '/') + 1;

    fx_make_store(root);
    one_damaged_line(root, 0, "1", &n, &bytes);
    assert_int_equal(run_recover(root, &rep, &err), 0);
    assert_int_equal(rep.tails_cut, 1);
    assert_int_equal(rep.tails_saved, 1);
    assert_int_equal(fx_file_size(fx_join(p, root, FX_ORDERS_LOG)), 0);
    assert_seq_file(root, "1");
    snprintf(rel, sizeof(rel), "lost+found/%s.1", base);
    char *saved = fx_read_file(fx_join(p, root, rel), &saved_len);
    assert_int_equal(saved_len, n);
    assert_memory_equal(saved, bytes, n);
    char *manifest = fx_read_file(fx_join(p, root, "lost+found/MANIFEST"), &saved_len);
    assert_contains(manifest, "\toffset=0\tline=1\t");
    assert_contains(manifest, "\tcode=torn-tail\n");
    free(manifest);
    free(saved);
    free(bytes);
    fx_remove_tree(root);

    /* Only zeros: nothing to keep. No mark: an unborn stream's torn first
     * append (R-4b), never acknowledged. Either is cut without a copy. */
    for (int k = 0; k < 2; k++) {
        fx_make_store(root);
        one_damaged_line(root, k == 0, k == 0 ? "1" : NULL, &n, &bytes);
        assert_int_equal(run_recover(root, &rep, &err), 0);
        assert_int_equal(rep.tails_cut, 1);
        assert_int_equal(rep.tails_saved, 0);
        assert_int_equal(rep.unborn_removed, k);
        assert_false(fx_exists(fx_join(p, root, "lost+found")));
        free(bytes);
        fx_remove_tree(root);
    }
}

/* ---- a crashed reference store (engine/store.c A STORE WITHOUT FORMAT) ---- */

#define LEGACY_ORDERS_LOG "streams/6f7264657273.log"
#define LEGACY_ORDERS_SEQ "streams/6f7264657273.seq"

static void assert_orders_read(sxp_store *s, size_t n, int64_t last_seq)
{
    struct sxp_err err;
    sxp_value *list = NULL;
    int64_t hw = 0;
    assert_int_equal(sxp_stream_read(s, "orders", 6, &list, &err), 0);
    assert_int_equal(sxp_value_len(list), n);
    sxp_value_free(list);
    assert_int_equal(sxp_stream_last_seq(s, "orders", 6, &hw, &err), 0);
    assert_int_equal(hw, last_seq);
}

/* Opens the legacy store root, whose orders log recovery cuts once (saved
 * copies of the cut), checks orders holds 1..3 under the mark last, closes
 * it and removes it. */
static void legacy_opens_with_a_cut(const char *root, unsigned saved, int64_t last)
{
    struct sxp_stats st;
    sxp_store *s = tu_open(root);
    sxp_store_stats(s, &st);
    assert_int_equal(st.rec_tails_cut, 1);
    assert_int_equal(st.rec_tails_saved, saved);
    assert_orders_read(s, 3, last);
    assert_int_equal(sxp_store_close(s), 0);
    fx_remove_tree(root);
}

/* The reference writes a stream's .seq before its line, never syncing: a
 * crash of it leaves the mark above a torn line, or after a power loss an
 * empty .seq, or a tail of zeros. The first open by sxp takes each as
 * residue, not as corruption; the same shapes in a store sxp wrote
 * (with FORMAT) are refused, as R-3c says. */
static void a_crashed_reference_store_opens_and_keeps_its_marks(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX];
    static const char torn[] = "{:item \"widget-4\" :se";
    struct sxp_stats st;
    struct sxp_err err;

    /* A torn line 4 under the mark 4. */
    fx_make_legacy_store(root);
    fx_append(fx_join(p, root, LEGACY_ORDERS_LOG), torn, strlen(torn));
    fx_write_file(fx_join(p, root, LEGACY_ORDERS_SEQ), "4", 1);
    sxp_store *s = tu_open(root);
    sxp_store_stats(s, &st);
    assert_int_equal(st.rec_tails_cut, 1);
    assert_int_equal(st.rec_tails_saved, 1); /* the mark says 4 may have been acknowledged */
    assert_orders_read(s, 3, 4);             /* the mark is never lowered */
    sxp_value *ev = sxp_value_dict();
    assert_int_equal(sxp_value_dict_set(ev, "seq", 3, sxp_value_int(4)), 0);
    assert_int_equal(sxp_stream_append(s, "orders", 6, ev, &err), -ERANGE);
    assert_int_equal(sxp_value_dict_set(ev, "seq", 3, sxp_value_int(5)), 0);
    assert_int_equal(sxp_stream_append(s, "orders", 6, ev, &err), 0);
    sxp_value_free(ev);
    assert_int_equal(sxp_store_close(s), 0);
    assert_true(fx_exists(fx_join(p, root, "FORMAT")));
    fx_remove_tree(root);

    /* An empty .seq (its rename durable before its bytes) and a tail of
     * zeros: the mark is rebuilt from the log, the zeros cut. */
    fx_make_legacy_store(root);
    fx_write_file(fx_join(p, root, LEGACY_ORDERS_SEQ), "", 0);
    fx_append_zeros(fx_join(p, root, LEGACY_ORDERS_LOG), 100);
    legacy_opens_with_a_cut(root, 0, 3);

    /* An empty .seq over a torn line: the mark may have covered it (it is
     * unreadable, not absent), so the line is copied before the cut. */
    fx_make_legacy_store(root);
    fx_write_file(fx_join(p, root, LEGACY_ORDERS_SEQ), "", 0);
    fx_append(fx_join(p, root, LEGACY_ORDERS_LOG), torn, strlen(torn));
    legacy_opens_with_a_cut(root, 1, 3);

    /* A LOCK of an unsynced sxp session of this boot, killed before it
     * wrote FORMAT (its dirty list names nothing): the reference's damaged
     * line under its mark is still read and cut, every log being read
     * under R-7, not only the listed ones with R-3c (K-8). */
    static const char nul_line[] = "{:seq 4 :item \"w\"\0\0\0\0\n";
    char boot[64] = "", lock[128];
    FILE *bf = fopen("/proc/sys/kernel/random/boot_id", "r");
    assert_non_null(bf);
    assert_non_null(fgets(boot, sizeof(boot), bf));
    fclose(bf);
    boot[strcspn(boot, "\n")] = '\0';
    fx_make_legacy_store(root);
    snprintf(lock, sizeof(lock), "pid 999999 unsynced %s +dirty\n", boot);
    fx_write_file(fx_join(p, root, "LOCK"), lock, strlen(lock));
    fx_append(fx_join(p, root, LEGACY_ORDERS_LOG), nul_line, sizeof(nul_line) - 1);
    fx_write_file(fx_join(p, root, LEGACY_ORDERS_SEQ), "4", 1);
    legacy_opens_with_a_cut(root, 1, 4);

    /* The same torn line under its mark in a store with FORMAT: refused,
     * nothing changed. */
    fx_make_legacy_store(root);
    fx_write_file(fx_join(p, root, "FORMAT"), "sxp 2\n", 6);
    fx_write_file(fx_join(p, root, "LOCK"), "pid 999999\n", 11);
    fx_append(fx_join(p, root, LEGACY_ORDERS_LOG), nul_line, sizeof(nul_line) - 1);
    fx_write_file(fx_join(p, root, LEGACY_ORDERS_SEQ), "4", 1);
    char *before = fx_snapshot(root);
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    s = NULL;
    assert_int_equal(sxp_store_open(root, &o, &s, &err), -EUCLEAN);
    assert_contains(err.msg, "high-water mark 4");
    fx_assert_unchanged(root, before);
    free(before);
    fx_remove_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flipped_byte_mid_log_refuses_recovery_naming_file_and_offset),
        cmocka_unit_test(flipped_byte_in_last_line_refuses_recovery_since_it_holds_no_nul),
        cmocka_unit_test(swapped_lines_refuse_recovery_as_seq_out_of_order),
        cmocka_unit_test(half_line_at_end_is_cut_and_every_event_stays),
        cmocka_unit_test(blank_line_mid_log_refuses_recovery),
        cmocka_unit_test(overlong_seq_refuses_recovery_naming_it),
        cmocka_unit_test(damage_in_two_logs_is_refused_naming_one_and_counting_the_other),
        cmocka_unit_test(overlong_tail_without_lf_is_cut),
        cmocka_unit_test(overlong_whole_line_refuses_recovery),
        cmocka_unit_test(zero_bytes_appended_are_cut),
        cmocka_unit_test(seq_below_max_is_rolled_forward),
        cmocka_unit_test(deleted_seq_is_recreated_from_the_log),
        cmocka_unit_test(only_lines_above_the_seq_are_written_again_before_their_sync),
        cmocka_unit_test(garbage_seq_refuses_recovery_naming_it),
        cmocka_unit_test(temp_file_is_removed),
        cmocka_unit_test(damaged_kv_file_is_left_to_fsck),
        cmocka_unit_test(altered_blob_is_left_to_fsck),
        cmocka_unit_test(blob_with_non_cid_name_is_left_alone),
        cmocka_unit_test(foreign_file_in_streams_is_left_alone),
        cmocka_unit_test(legacy_store_recovers_without_a_change),
        cmocka_unit_test(lost_page_with_a_surviving_later_line_is_a_torn_tail),
        cmocka_unit_test(bad_checksum_after_a_nul_line_is_refused),
        cmocka_unit_test(repeated_seq_holding_a_nul_in_a_string_is_refused),
        cmocka_unit_test(lost_page_before_durable_lines_is_refused),
        cmocka_unit_test(lost_page_before_lines_above_the_high_water_mark_is_cut),
        cmocka_unit_test(repeated_seq_at_the_end_is_refused),
        cmocka_unit_test(seq_above_the_log_is_kept),
        cmocka_unit_test(unborn_logs_are_removed_and_lone_seq_must_parse),
        cmocka_unit_test(temp_files_in_every_folder_are_removed_and_nothing_else),
        cmocka_unit_test(recovery_reads_only_the_window_and_trusts_what_is_before),
        cmocka_unit_test(fast_event_check_agrees_with_sx_parse),
        cmocka_unit_test(a_line_judged_out_of_memory_gets_no_verdict),
        cmocka_unit_test(open_after_torn_tail_succeeds_with_every_event),
        cmocka_unit_test(recovery_after_a_crash_reads_only_the_logs_the_session_wrote),
        cmocka_unit_test(after_a_killed_unsynced_session_recovery_reads_only_its_logs),
        cmocka_unit_test(
            a_lost_page_under_the_mark_is_refused_in_the_same_boot_and_cut_after_a_reboot),
        cmocka_unit_test(logs_only_the_journal_covers_are_read_by_recovery),
        cmocka_unit_test(a_torn_tail_in_a_listed_log_is_cut),
        cmocka_unit_test(without_a_whole_list_recovery_reads_every_log),
        cmocka_unit_test(a_log_without_its_seq_is_read_though_not_listed),
        cmocka_unit_test(a_dirty_list_past_its_zeros_reads_whole),
        cmocka_unit_test(open_after_flipped_byte_fails_naming_file_and_offset),
        cmocka_unit_test(open_of_legacy_store_reads_its_events),
        cmocka_unit_test(a_log_damaged_from_its_first_byte_under_its_mark_is_saved_before_the_cut),
        cmocka_unit_test(a_crashed_reference_store_opens_and_keeps_its_marks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
