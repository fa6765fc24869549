/*
 * test_io_fault.c -- the fault-injecting wrapper (fault-injection/io_fault.c):
 * rules that fail the nth call of a kind once or for good, short writes,
 * counters, dropped calls, hooks and the SXP_KILL_AT kill points (run in a
 * forked child that must die of SIGKILL at exactly the named call).
 *
 * The wrapper runs over the simulated disk, except for the kill points,
 * which need a disk that outlives the child: there it wraps io_sync.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault.h"
#include "io.h"
#include "testutil.h"

struct tf {
    struct sxp_io *sim;
    struct sxp_io *io; /* the wrapper over sim */
};

static int tf_setup(void **state)
{
    struct tf *t = calloc(1, sizeof(*t));
    if (t == NULL || io_sim_new(&t->sim) != 0 || io_sim_mkdirs(t->sim, "/d") != 0)
        return -1;
    if (io_fault_new(t->sim, &t->io) != 0)
        return -1;
    io_fault_own_inner(t->io);
    *state = t;
    return 0;
}

static int tf_teardown(void **state)
{
    struct tf *t = *state;
    t->io->destroy(t->io); /* destroys the sim too */
    free(t);
    return 0;
}

static int tf_create(struct sxp_io *io, const char *path)
{
    int fd = io->open(io, path, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    return fd;
}

static void nth_call_of_a_kind_fails_once(void **state)
{
    struct tf *t = *state;
    int fd = tf_create(t->io, "/d/a");
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 2, -EIO, 0), 0);
    assert_int_equal(t->io->fdatasync(t->io, fd), 0);
    assert_int_equal(t->io->fdatasync(t->io, fd), -EIO);
    assert_int_equal(t->io->fdatasync(t->io, fd), 0);
    assert_int_equal(io_fault_injected(t->io), 1);
    /* Other kinds are not counted by the rule. */
    assert_int_equal(t->io->pwrite(t->io, fd, "x", 1, 0), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);
}

static void persistent_rule_fails_the_nth_and_every_later_call(void **state)
{
    struct tf *t = *state;
    int fd = tf_create(t->io, "/d/a");
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_PWRITE, 3, -ENOSPC, 1), 0);
    assert_int_equal(t->io->pwrite(t->io, fd, "1", 1, 0), 0);
    assert_int_equal(t->io->pwrite(t->io, fd, "2", 1, 1), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(t->io->pwrite(t->io, fd, "3", 1, 2), -ENOSPC);
    uint64_t size = 0;
    assert_int_equal(t->io->fsize(t->io, fd, &size), 0);
    assert_int_equal(size, 2); /* failed writes never reached the disk */
    io_fault_clear(t->io);
    assert_int_equal(t->io->pwrite(t->io, fd, "3", 1, 2), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);
}

static void any_kind_rule_counts_every_call(void **state)
{
    struct tf *t = *state;
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_COUNT, 3, -EIO, 0), 0);
    int fd = tf_create(t->io, "/d/a");                        /* 1: open */
    assert_int_equal(t->io->pwrite(t->io, fd, "x", 1, 0), 0); /* 2 */
    assert_int_equal(t->io->fsync_dir(t->io, "/d"), -EIO);    /* 3 */
    assert_int_equal(t->io->fsync_dir(t->io, "/d"), 0);       /* 4 */
    assert_int_equal(t->io->close(t->io, fd), 0);
}

static void rule_is_refused_without_kind_count_or_error(void **state)
{
    struct tf *t = *state;
    struct io_fault_rule r = {0, 1, -EIO, 0, 0, 0};
    assert_int_equal(io_fault_add_rule(t->io, &r), -EINVAL);
    r.kinds = IO_FAULT_ALL;
    r.nth = 0;
    assert_int_equal(io_fault_add_rule(t->io, &r), -EINVAL);
    r.nth = 1;
    r.err = 0;
    assert_int_equal(io_fault_add_rule(t->io, &r), -EINVAL);
    r.err = -EIO;
    for (int i = 0; i < IO_FAULT_MAX_RULES; i++)
        assert_int_equal(io_fault_add_rule(t->io, &r), 0);
    assert_int_equal(io_fault_add_rule(t->io, &r), -ENOSPC);
}

static void short_write_leaves_a_prefix_and_reports_the_error(void **state)
{
    struct tf *t = *state;
    int fd = tf_create(t->io, "/d/a");
    struct io_fault_rule r = {IO_FAULT_BIT(IO_FK_PWRITE), 1, -EIO, 0, 1, 10};
    assert_int_equal(io_fault_add_rule(t->io, &r), 0);
    char buf[100];
    memset(buf, 'q', sizeof(buf));
    assert_int_equal(t->io->pwrite(t->io, fd, buf, sizeof(buf), 0), -EIO);
    uint64_t size = 0;
    assert_int_equal(t->io->fsize(t->io, fd, &size), 0);
    assert_int_equal(size, 10);
    /* A short write never writes it all: the prefix is capped at len - 1. */
    struct io_fault_rule big = {IO_FAULT_BIT(IO_FK_PWRITE), 1, -ENOSPC, 0, 1, 1000};
    assert_int_equal(io_fault_add_rule(t->io, &big), 0);
    assert_int_equal(t->io->pwrite(t->io, fd, buf, 50, 200), -ENOSPC);
    assert_int_equal(t->io->fsize(t->io, fd, &size), 0);
    assert_int_equal(size, 249);
    assert_int_equal(t->io->close(t->io, fd), 0);
}

static void write_sync_requests_meet_pwrite_and_fdatasync_rules(void **state)
{
    struct tf *t = *state;
    int a = tf_create(t->io, "/d/a");
    int b = tf_create(t->io, "/d/b");
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_FDATASYNC, 2, -EIO, 0), 0);
    struct io_wsync reqs[2] = {
        {a, "alpha", 5, 0, 1, 0, 0},
        {b, "beta", 4, 0, 1, 0, 0},
    };
    assert_int_equal(t->io->write_sync(t->io, reqs, 2), -EIO);
    assert_int_equal(reqs[0].res, 0);
    assert_int_equal(reqs[0].sync_failed, 0);
    assert_int_equal(reqs[1].res, -EIO);
    assert_int_equal(reqs[1].sync_failed, 1);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_WRITE_SYNC)), 1);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_PWRITE)), 2);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC)), 2);
    /* A rule on write_sync itself (counting from now) fails every request
     * before any write. */
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_WRITE_SYNC, 1, -ENOSPC, 0), 0);
    assert_int_equal(t->io->write_sync(t->io, reqs, 2), -ENOSPC);
    assert_int_equal(reqs[0].res, -ENOSPC);
    assert_int_equal(reqs[1].res, -ENOSPC);
    assert_int_equal(reqs[1].sync_failed, 0);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_PWRITE)), 2);
    assert_int_equal(t->io->close(t->io, a), 0);
    assert_int_equal(t->io->close(t->io, b), 0);
}

static void counters_count_calls_per_kind_and_reset(void **state)
{
    struct tf *t = *state;
    int fd = tf_create(t->io, "/d/a");
    char buf[4];
    assert_int_equal(t->io->pread(t->io, fd, buf, sizeof(buf), 0), 0);
    assert_int_equal(t->io->pread(t->io, fd, buf, sizeof(buf), 0), 0);
    assert_int_equal(t->io->rename(t->io, "/d/a", "/d/b"), 0);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_OPEN)), 1);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_BIT(IO_FK_PREAD)), 2);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_ALL), 4);
    assert_int_equal(io_fault_kill_count(t->io, IO_KILL_CREATE), 1);
    assert_int_equal(io_fault_kill_count(t->io, IO_KILL_RENAME), 1);
    assert_int_equal(io_fault_kill_count(t->io, IO_KILL_ANY), 2);
    io_fault_reset_counts(t->io);
    assert_int_equal(io_fault_calls(t->io, IO_FAULT_ALL), 0);
    assert_int_equal(io_fault_kill_count(t->io, IO_KILL_ANY), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);
}

static void close_fault_still_closes_the_descriptor(void **state)
{
    struct tf *t = *state;
    int fd = tf_create(t->io, "/d/a");
    assert_int_equal(io_fault_fail_nth(t->io, IO_FK_CLOSE, 1, -EIO, 0), 0);
    assert_int_equal(io_sim_open_fds(t->sim), 1);
    assert_int_equal(t->io->close(t->io, fd), -EIO);
    assert_int_equal(io_sim_open_fds(t->sim), 0);
}

static void dropped_fsync_dir_reports_success_but_syncs_nothing(void **state)
{
    struct tf *t = *state;
    io_fault_set_drop(t->io, IO_FAULT_BIT(IO_FK_FSYNC_DIR));
    int fd = tf_create(t->io, "/d/a");
    assert_int_equal(t->io->pwrite(t->io, fd, "x", 1, 0), 0);
    assert_int_equal(t->io->fdatasync(t->io, fd), 0);
    assert_int_equal(t->io->close(t->io, fd), 0);
    assert_int_equal(t->io->fsync_dir(t->io, "/d"), 0);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    assert_int_equal(t->io->stat(t->io, "/d/a", NULL, NULL), -ENOENT);
}

/* A drop suffix ending in '/' names a directory: the calls on what is
 * directly in it are skipped (the fdatasync of its file, the fsync of its
 * subdirectory), not those on the directory itself or on anything deeper
 * or elsewhere. */
static void drop_suffix_ending_in_a_slash_skips_the_calls_in_that_directory(void **state)
{
    struct tf *t = *state;
    assert_int_equal(io_sim_mkdirs(t->sim, "/d/lf/sub"), 0);
    assert_int_equal(io_sim_mkdirs(t->sim, "/d/xlf"), 0);
    io_fault_set_drop_path(t->io, IO_FAULT_BIT(IO_FK_FDATASYNC) | IO_FAULT_BIT(IO_FK_FSYNC_DIR),
                           "/lf/");
    const char *paths[] = {"/d/lf/a", "/d/lf/sub/b", "/d/xlf/c", "/d/lf.d"};
    for (size_t i = 0; i < 4; i++) {
        int fd = tf_create(t->io, paths[i]);
        assert_int_equal(t->io->pwrite(t->io, fd, "x", 1, 0), 0);
        assert_int_equal(t->io->fdatasync(t->io, fd), 0);
        assert_int_equal(t->io->close(t->io, fd), 0);
    }
    const char *dirs[] = {"/d/lf", "/d/lf/sub", "/d/xlf", "/d"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(t->io->fsync_dir(t->io, dirs[i]), 0);
    io_sim_crash(t->sim, 1, IO_SIM_LOSE_ALL);
    io_sim_restart(t->sim);
    uint64_t size = 9;
    /* /d/lf/a kept its name (the fsync of /d/lf ran), not its byte. */
    assert_int_equal(t->io->stat(t->io, paths[0], &size, NULL), 0);
    assert_int_equal(size, 0);
    /* /d/lf/sub is in /lf/: its fsync was skipped, so b's name is gone. */
    assert_int_equal(t->io->stat(t->io, paths[1], NULL, NULL), -ENOENT);
    for (size_t i = 2; i < 4; i++) {
        assert_int_equal(t->io->stat(t->io, paths[i], &size, NULL), 0);
        assert_int_equal(size, 1);
    }
}

struct tf_hook_log {
    int n;
    enum io_fault_kind kinds[16];
    int whens[16];
    uint64_t counts[16];
    int res[16];
    char paths[16][32];
};

static void tf_hook(void *arg, enum io_fault_kind kind, int when, uint64_t n, const char *path,
                    int res)
{
    struct tf_hook_log *l = arg;
    if (l->n < 16) {
        snprintf(l->paths[l->n], sizeof(l->paths[l->n]), "%s", path);
        l->kinds[l->n] = kind;
        l->whens[l->n] = when;
        l->counts[l->n] = n;
        l->res[l->n] = res;
        l->n++;
    }
}

static void hook_sees_each_call_before_and_after_with_the_disk_change_count(void **state)
{
    struct tf *t = *state;
    struct tf_hook_log l;
    memset(&l, 0, sizeof(l));
    io_fault_set_hook(t->io, tf_hook, &l);
    int fd = tf_create(t->io, "/d/a");                           /* change 1 */
    assert_int_equal(t->io->fsync_dir(t->io, "/nope"), -ENOENT); /* change 2 */
    uint64_t size;
    assert_int_equal(t->io->fsize(t->io, fd, &size), 0); /* no change */
    io_fault_set_hook(t->io, NULL, NULL);
    assert_int_equal(l.n, 6);
    assert_int_equal(l.kinds[0], IO_FK_OPEN);
    assert_int_equal(l.whens[0], 0);
    assert_int_equal(l.counts[0], 1);
    assert_int_equal(l.whens[1], 1);
    assert_int_equal(l.res[1], fd);
    assert_int_equal(l.kinds[2], IO_FK_FSYNC_DIR);
    assert_int_equal(l.counts[2], 2);
    assert_int_equal(l.res[3], -ENOENT);
    assert_int_equal(l.kinds[4], IO_FK_FSIZE);
    assert_int_equal(l.counts[4], 0);
    assert_string_equal(l.paths[0], "/d/a");
    assert_string_equal(l.paths[2], "/nope");
    assert_string_equal(l.paths[4], "/d/a"); /* the descriptor's path */
    assert_int_equal(t->io->close(t->io, fd), 0);
}

static void kill_spec_parses_kind_count_and_side(void **state)
{
    (void)state;
    struct io_kill_point kp;
    assert_int_equal(io_kill_parse("write:3", &kp), 0);
    assert_int_equal(kp.kind, IO_KILL_WRITE);
    assert_int_equal(kp.nth, 3);
    assert_int_equal(kp.after, 0);
    assert_int_equal(io_kill_parse("dirsync:12:after", &kp), 0);
    assert_int_equal(kp.kind, IO_KILL_DIRSYNC);
    assert_int_equal(kp.nth, 12);
    assert_int_equal(kp.after, 1);
    assert_int_equal(io_kill_parse("any:1:before", &kp), 0);
    assert_int_equal(kp.kind, IO_KILL_ANY);
    const char *bad[] = {"",         "write",        "write:",    "write:0", "write:x",
                         "writes:1", "sync:1:later", "rename:-1", "sync:1:"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(io_kill_parse(bad[i], &kp), -EINVAL);
    for (int k = 0; k < IO_KILL_COUNT; k++) {
        char spec[32];
        snprintf(spec, sizeof(spec), "%s:5", io_kill_kind_name((enum io_kill_kind)k));
        assert_int_equal(io_kill_parse(spec, &kp), 0);
        assert_int_equal(kp.kind, k);
    }
    for (int k = 0; k < IO_FK_COUNT; k++)
        assert_int_equal(io_fault_kind_parse(io_fault_kind_name((enum io_fault_kind)k)), k);
    assert_int_equal(io_fault_kind_parse("nope"), -EINVAL);
}

/* Forks a child that appends records "0\n", "1\n", ... to path with one
 * pwrite each through a wrapper armed by $SXP_KILL_AT, and a sync after
 * each. Returns the child's wait status. */
static int tf_run_killed_child(const char *path, const char *spec)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sxp_io *real = NULL, *io = NULL;
        if (setenv("SXP_KILL_AT", spec, 1) != 0 || io_sync_new(&real) != 0 ||
            io_fault_new(real, &io) != 0 || io_fault_kill_from_env(io) != 1)
            _exit(3);
        int fd = io->open(io, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(4);
        for (int i = 0; i < 5; i++) {
            char rec[2] = {(char)('0' + i), '\n'};
            if (io->pwrite(io, fd, rec, 2, (uint64_t)i * 2) != 0 || io->fdatasync(io, fd) != 0)
                _exit(5);
        }
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void kill_point_stops_the_process_before_or_after_the_nth_call(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[PATH_MAX];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/f", dir);

    int st = tf_run_killed_child(path, "write:3");
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    char *got = tu_read_file(path, &len);
    assert_int_equal(len, 4); /* records 0 and 1: the third write never ran */
    free(got);

    st = tf_run_killed_child(path, "write:3:after");
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    got = tu_read_file(path, &len);
    assert_int_equal(len, 6);
    free(got);

    st = tf_run_killed_child(path, "sync:5:after");
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    st = tf_run_killed_child(path, "sync:6");
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* never reached */
    got = tu_read_file(path, &len);
    assert_int_equal(len, 10);
    free(got);

    st = tf_run_killed_child(path, "write:x");
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3); /* refused, not ignored */

    tu_rmrf(dir);
    free(dir);
}

static void kill_from_env_is_off_when_unset(void **state)
{
    struct tf *t = *state;
    assert_int_equal(unsetenv("SXP_KILL_AT"), 0);
    assert_int_equal(io_fault_kill_from_env(t->io), 0);
    assert_int_equal(setenv("SXP_KILL_AT", "bogus", 1), 0);
    assert_int_equal(io_fault_kill_from_env(t->io), -EINVAL);
    assert_int_equal(unsetenv("SXP_KILL_AT"), 0);
}

/* The SQLite loop on a small workload: fail the 1st, 2nd, ... call until
 * the workload passes untouched. An atomic write must either fail with an
 * error, leaving the old content, or succeed with the new one. */
static void loop_over_failing_call_n_until_atomic_write_completes(void **state)
{
    struct tf *t = *state;
    for (int persist = 0; persist <= 1; persist++) {
        uint64_t n;
        for (n = 1; n < 100; n++) {
            assert_int_equal(io_write_atomic(t->io, "/d/kv", "/d/kv.0.tmp", "old", 3, 1), 0);
            io_fault_clear(t->io);
            io_fault_reset_counts(t->io);
            assert_int_equal(io_fault_fail_nth(t->io, IO_FK_COUNT, n, -EIO, persist), 0);
            int rc = io_write_atomic(t->io, "/d/kv", "/d/kv.1.tmp", "new", 3, 1);
            uint64_t injected = io_fault_injected(t->io);
            io_fault_clear(t->io);
            char *got = NULL;
            size_t len = 0;
            assert_int_equal(io_read_file(t->io, "/d/kv", 64, &got, &len), 0);
            if (rc == 0)
                assert_string_equal(got, "new");
            else
                assert_true(strcmp(got, "old") == 0 || strcmp(got, "new") == 0);
            free(got);
            if (injected == 0) {
                assert_int_equal(rc, 0);
                break;
            }
            assert_true(rc < 0 || injected > 0);
        }
        assert_true(n > 3 && n < 100);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, tf_setup, tf_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(nth_call_of_a_kind_fails_once),
        T(persistent_rule_fails_the_nth_and_every_later_call),
        T(any_kind_rule_counts_every_call),
        T(rule_is_refused_without_kind_count_or_error),
        T(short_write_leaves_a_prefix_and_reports_the_error),
        T(write_sync_requests_meet_pwrite_and_fdatasync_rules),
        T(counters_count_calls_per_kind_and_reset),
        T(close_fault_still_closes_the_descriptor),
        T(dropped_fsync_dir_reports_success_but_syncs_nothing),
        T(drop_suffix_ending_in_a_slash_skips_the_calls_in_that_directory),
        T(hook_sees_each_call_before_and_after_with_the_disk_change_count),
        T(kill_spec_parses_kind_count_and_side),
        T(kill_point_stops_the_process_before_or_after_the_nth_call),
        T(kill_from_env_is_off_when_unset),
        T(loop_over_failing_call_n_until_atomic_write_completes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
