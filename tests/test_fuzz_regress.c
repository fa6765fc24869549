/*
 * test_fuzz_regress.c -- replays every fuzz input kept in the tree through
 * the fuzz targets, without libFuzzer, so the ordinary (gcc) suite checks
 * them too: the seed corpora tests/fuzz/corpus/<target>/ and the crash
 * reproducers tests/fuzz/regress/<target>/ (issue 7; docs/fuzzing.md).
 *
 * The targets are included as source: each tests/fuzz/fuzz_<target>.c
 * defines fuzz_<target>_one (tests/fuzz/fuzz.h), and LLVMFuzzerTestOneInput
 * only under FUZZ_LIBFUZZER, which this file does not define. A broken
 * property aborts with the input's path on stderr.
 *
 * The folder is found next to this file (__FILE__), or in $SXP_FUZZ_DIR.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz/fuzz_common.c"

#include "fuzz/fuzz_cid.c"
#include "fuzz/fuzz_frame.c"
#include "fuzz/fuzz_journal.c"
#include "fuzz/fuzz_names.c"
#include "fuzz/fuzz_request.c"
#include "fuzz/fuzz_seq.c"
#include "fuzz/fuzz_store_damage.c"
#include "fuzz/fuzz_sx.c"

typedef int (*regress_fn)(const uint8_t *data, size_t size);

/* tests/fuzz, from $SXP_FUZZ_DIR or beside this file. */
static void regress_fuzz_dir(char *out)
{
    const char *env = getenv("SXP_FUZZ_DIR");
    if (env && *env) {
        snprintf(out, PATH_MAX, "%s", env);
        return;
    }
    const char *here = __FILE__;
    const char *slash = strrchr(here, '/');
    if (slash)
        snprintf(out, PATH_MAX, "%.*s/fuzz", (int)(slash - here), here);
    else
        snprintf(out, PATH_MAX, "fuzz");
}

static int regress_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs fn on every file of dir (sorted by name); returns how many. A
 * missing folder counts 0. */
static size_t regress_replay_dir(const char *dir, regress_fn fn)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = fuzz_realloc(names, (n + 1) * sizeof(*names));
        names[n] = strdup(e->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), regress_name_cmp);
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        char *text = fuzz_read_file(path, &len);
        free(names[i]);
        if (!text)
            continue; /* a folder, or unreadable: not an input */
        /* An exact-size copy, as libFuzzer passes it. */
        uint8_t *data = malloc(len ? len : 1);
        assert_non_null(data);
        memcpy(data, text, len);
        free(text);
        fuzz_input_name = path;
        assert_int_equal(fn(data, len), 0);
        fuzz_input_name = NULL;
        free(data);
        done++;
    }
    free(names);
    return done;
}

/* Replays corpus/<target>/ and regress/<target>/; the corpus must exist. */
static void regress_target(const char *target, regress_fn fn)
{
    char base[PATH_MAX], dir[PATH_MAX + 64];
    regress_fuzz_dir(base);
    snprintf(dir, sizeof(dir), "%s/corpus/%s", base, target);
    size_t seeds = regress_replay_dir(dir, fn);
    snprintf(dir, sizeof(dir), "%s/regress/%s", base, target);
    size_t crashes = regress_replay_dir(dir, fn);
    print_message("%s: %zu corpus inputs, %zu regression inputs\n", target, seeds, crashes);
    assert_true(seeds > 0);
}

static void every_sx_input_round_trips_and_agrees_with_sxcheck(void **state)
{
    (void)state;
    regress_target("sx", fuzz_sx_one);
}

static void every_frame_input_reads_within_its_buffer_with_the_right_status(void **state)
{
    (void)state;
    regress_target("frame", fuzz_frame_one);
}

static void every_seq_input_reads_as_the_reference_reader_reads_it(void **state)
{
    (void)state;
    regress_target("seq", fuzz_seq_one);
}

static void every_cid_input_is_judged_as_rfc4648_judges_it(void **state)
{
    (void)state;
    regress_target("cid", fuzz_cid_one);
}

static void every_file_name_input_classifies_and_round_trips(void **state)
{
    (void)state;
    regress_target("names", fuzz_names_one);
}

static void every_request_input_answers_and_leaves_other_data_alone(void **state)
{
    (void)state;
    regress_target("request", fuzz_request_one);
    fuzz_request_reset();
}

static void every_store_damage_script_is_recovered_and_repaired_by_fsck(void **state)
{
    (void)state;
    regress_target("store_damage", fuzz_store_damage_one);
    fuzz_store_damage_reset();
}

static void every_journal_script_is_replayed_or_refused_as_rule_j9_says(void **state)
{
    (void)state;
    regress_target("journal", fuzz_journal_one);
    fuzz_journal_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_sx_input_round_trips_and_agrees_with_sxcheck),
        cmocka_unit_test(every_frame_input_reads_within_its_buffer_with_the_right_status),
        cmocka_unit_test(every_seq_input_reads_as_the_reference_reader_reads_it),
        cmocka_unit_test(every_cid_input_is_judged_as_rfc4648_judges_it),
        cmocka_unit_test(every_file_name_input_classifies_and_round_trips),
        cmocka_unit_test(every_request_input_answers_and_leaves_other_data_alone),
        cmocka_unit_test(every_store_damage_script_is_recovered_and_repaired_by_fsck),
        cmocka_unit_test(every_journal_script_is_replayed_or_refused_as_rule_j9_says),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
