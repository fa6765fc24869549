/*
 * test_io_sim.c -- the simulated disk (fault-injection/io_sim.c) against
 * its model (written at the top of io_sim.c) and the contract of
 * engine/io.h: what a power loss keeps, loses, tears and zero-fills.
 *
 * Randomised cases print their seed; SXP_TEST_SEED overrides it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault.h"
#include "io.h"
#include "testutil.h"

static uint64_t tsim_seed(void)
{
    const char *e = getenv("SXP_TEST_SEED");
    uint64_t seed = e ? strtoull(e, NULL, 0) : 0x5eed1234ull;
    printf("# seed %llu\n", (unsigned long long)seed);
    return seed;
}

static int tsim_setup(void **state)
{
    struct sxp_io *io = NULL;
    if (io_sim_new(&io) != 0)
        return -1;
    if (io_sim_mkdirs(io, "/d") != 0)
        return -1;
    *state = io;
    return 0;
}

static int tsim_teardown(void **state)
{
    struct sxp_io *io = *state;
    io->destroy(io);
    return 0;
}

/* Creates path with bytes; sync: fdatasync it; dsync: fsync its directory. */
static void tsim_put(struct sxp_io *io, const char *path, const char *bytes, int sync, int dsync)
{
    char dir[PATH_MAX];
    int fd = io->open(io, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(io->pwrite(io, fd, bytes, strlen(bytes), 0), 0);
    if (sync)
        assert_int_equal(io->fdatasync(io, fd), 0);
    assert_int_equal(io->close(io, fd), 0);
    if (dsync) {
        io_dirname(path, dir, sizeof(dir));
        assert_int_equal(io->fsync_dir(io, dir), 0);
    }
}

/* The content at path (malloc'd), or NULL when it does not exist. */
static char *tsim_get(struct sxp_io *io, const char *path, size_t *out_len)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = io_read_file(io, path, 1 << 20, &buf, &len);
    if (rc == -ENOENT)
        return NULL;
    assert_int_equal(rc, 0);
    if (out_len)
        *out_len = len;
    return buf;
}

/* path reads as want. */
static void tsim_expect(struct sxp_io *io, const char *path, const char *want)
{
    char *got = tsim_get(io, path, NULL);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void tsim_crash(struct sxp_io *io, uint64_t seed, enum io_sim_mode mode)
{
    io_sim_crash(io, seed, mode);
    assert_true(io_sim_is_off(io));
    io_sim_restart(io);
}

static void written_data_is_readable_before_any_sync(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "hello", 0, 0);
    char *got = tsim_get(io, "/d/a", NULL);
    assert_string_equal(got, "hello");
    free(got);
    uint64_t size = 0;
    int is_dir = 1;
    assert_int_equal(io->stat(io, "/d/a", &size, &is_dir), 0);
    assert_int_equal(size, 5);
    assert_int_equal(is_dir, 0);
}

static void synced_file_and_directory_survive_every_crash_mode(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "durable", 1, 1);
    for (int m = 0; m < IO_SIM_MODE_COUNT; m++) {
        tsim_crash(io, (uint64_t)m, (enum io_sim_mode)m);
        char *got = tsim_get(io, "/d/a", NULL);
        assert_non_null(got);
        assert_string_equal(got, "durable");
        free(got);
    }
}

static void unsynced_write_is_lost_in_lose_all_mode(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "old", 1, 1);
    int fd = io->open(io, "/d/a", O_RDWR, 0);
    assert_true(fd >= 0);
    assert_int_equal(io->pwrite(io, fd, "NEWER", 5, 3), 0);
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    char *got = tsim_get(io, "/d/a", NULL);
    assert_string_equal(got, "old");
    free(got);
}

static void file_synced_but_directory_not_synced_vanishes(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "data", 1, 0);
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    assert_null(tsim_get(io, "/d/a", NULL));
}

static void keep_all_mode_keeps_cache_and_entries(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "data", 0, 0);
    assert_int_equal(io->mkdir(io, "/d/sub", 0755), 0);
    tsim_put(io, "/d/sub/b", "bee", 0, 0);
    tsim_crash(io, 1, IO_SIM_KEEP_ALL);
    char *a = tsim_get(io, "/d/a", NULL);
    char *b = tsim_get(io, "/d/sub/b", NULL);
    assert_string_equal(a, "data");
    assert_string_equal(b, "bee");
    free(a);
    free(b);
}

/* An exchange is one directory op: until the directory is synced a power
 * loss keeps both names as they were or swaps both, never one; after the
 * fsync both stay swapped. Two directories are -EXDEV, a missing name
 * -ENOENT. still_at follows the file a descriptor holds. */
static void rename_exchange_swaps_both_names_or_neither(void **state)
{
    struct sxp_io *io = *state;
    uint64_t seed = tsim_seed();
    int saw_old = 0, saw_new = 0;
    for (uint64_t i = 0; i < 64; i++) {
        tsim_put(io, "/d/x", "ex", 1, 1);
        tsim_put(io, "/d/y", "why", 1, 1);
        assert_int_equal(io->rename_exchange(io, "/d/x", "/d/y"), 0);
        tsim_expect(io, "/d/x", "why");
        tsim_expect(io, "/d/y", "ex");
        tsim_crash(io, seed + i, i % 2 ? IO_SIM_RANDOM : IO_SIM_TORN);
        char *x = tsim_get(io, "/d/x", NULL), *y = tsim_get(io, "/d/y", NULL);
        assert_non_null(x);
        assert_non_null(y);
        if (strcmp(x, "ex") == 0 && strcmp(y, "why") == 0)
            saw_old = 1;
        else if (strcmp(x, "why") == 0 && strcmp(y, "ex") == 0)
            saw_new = 1;
        else
            fail_msg("an exchange left x %s and y %s", x, y);
        free(x);
        free(y);
    }
    assert_true(saw_old);
    assert_true(saw_new);
    tsim_put(io, "/d/x", "ex", 1, 1);
    tsim_put(io, "/d/y", "why", 1, 1);
    int held = io->open(io, "/d/x", O_RDONLY, 0);
    assert_true(held >= 0);
    assert_int_equal(io->still_at(io, held, "/d/x"), 1);
    assert_int_equal(io->rename_exchange(io, "/d/x", "/d/y"), 0);
    assert_int_equal(io->still_at(io, held, "/d/x"), 0);
    assert_int_equal(io->still_at(io, held, "/d/y"), 1);
    assert_int_equal(io->still_at(io, held, "/d/none"), 0);
    assert_int_equal(io->close(io, held), 0);
    /* One disk: one filesystem; a missing name is -ENOENT. */
    assert_int_equal(io->same_fs(io, "/d", "/"), 1);
    assert_int_equal(io->same_fs(io, "/d", "/none"), -ENOENT);
    assert_int_equal(io->fsync_dir(io, "/d"), 0);
    tsim_crash(io, seed, IO_SIM_LOSE_ALL);
    tsim_expect(io, "/d/x", "why");
    tsim_expect(io, "/d/y", "ex");
    assert_int_equal(io->mkdir(io, "/d/sub", 0755), 0);
    tsim_put(io, "/d/sub/z", "zed", 1, 1);
    assert_int_equal(io->rename_exchange(io, "/d/x", "/d/sub/z"), -EXDEV);
    assert_int_equal(io->rename_exchange(io, "/d/x", "/d/none"), -ENOENT);
    tsim_expect(io, "/d/x", "why");
}

static void rename_not_dir_synced_leaves_old_or_new_never_neither(void **state)
{
    struct sxp_io *io = *state;
    uint64_t seed = tsim_seed();
    int saw_old = 0, saw_new = 0;
    for (uint64_t i = 0; i < 64; i++) {
        tsim_put(io, "/d/k", "old", 1, 1);
        tsim_put(io, "/d/k.tmp", "new", 1, 0);
        assert_int_equal(io->rename(io, "/d/k.tmp", "/d/k"), 0);
        tsim_crash(io, seed + i, i % 2 ? IO_SIM_RANDOM : IO_SIM_TORN);
        char *got = tsim_get(io, "/d/k", NULL);
        assert_non_null(got);
        if (strcmp(got, "old") == 0)
            saw_old = 1;
        else if (strcmp(got, "new") == 0)
            saw_new = 1;
        else
            fail_msg("rename left %s", got);
        free(got);
        (void)io->unlink(io, "/d/k.tmp");
        assert_int_equal(io->fsync_dir(io, "/d"), 0);
    }
    assert_true(saw_old);
    assert_true(saw_new);
}

static void unlink_not_dir_synced_is_undone_by_lose_all(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "data", 1, 1);
    assert_int_equal(io->unlink(io, "/d/a"), 0);
    assert_null(tsim_get(io, "/d/a", NULL));
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    char *got = tsim_get(io, "/d/a", NULL);
    assert_non_null(got);
    assert_string_equal(got, "data");
    free(got);
}

/* syncfs makes every file's cache and every pending name durable: a new
 * directory, a file in it and an unsynced rewrite all outlive LOSE_ALL. */
static void syncfs_makes_every_file_and_name_durable(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "old", 1, 1);
    tsim_put(io, "/d/a", "new", 0, 0);
    assert_int_equal(io->mkdir(io, "/d/sub", 0755), 0);
    tsim_put(io, "/d/sub/b", "bee", 0, 0);
    assert_int_equal(io->syncfs(io, "/d/a"), -ENOTDIR);
    assert_int_equal(io->syncfs(io, "/nope"), -ENOENT);
    assert_int_equal(io->syncfs(io, "/d"), 0);
    tsim_put(io, "/d/c", "later", 0, 0); /* after it: not covered */
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    tsim_expect(io, "/d/a", "new");
    tsim_expect(io, "/d/sub/b", "bee");
    assert_null(tsim_get(io, "/d/c", NULL));
}

/* syncfs_fd does through any open descriptor what syncfs does: a file
 * other than the descriptor's, and a new name, outlive LOSE_ALL; a closed
 * descriptor is -EBADF, and a powered-off disk -EIO. */
static void syncfs_fd_syncs_every_file_through_any_descriptor(void **state)
{
    struct sxp_io *io = *state;
    int fd = io->open(io, "/d/j", O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(io->fsync_dir(io, "/d"), 0);
    tsim_put(io, "/d/a", "ay", 0, 0);
    tsim_put(io, "/d/b", "bee", 0, 0);
    assert_int_equal(io->syncfs_fd(io, fd + 1), -EBADF);
    assert_int_equal(io->syncfs_fd(io, fd), 0);
    assert_int_equal(io->close(io, fd), 0);
    assert_int_equal(io->syncfs_fd(io, fd), -EBADF);
    io_sim_crash(io, 1, IO_SIM_LOSE_ALL);
    assert_int_equal(io->syncfs_fd(io, fd), -EIO);
    io_sim_restart(io);
    tsim_expect(io, "/d/a", "ay");
    tsim_expect(io, "/d/b", "bee");
}

static void mkdir_not_dir_synced_vanishes_with_its_files(void **state)
{
    struct sxp_io *io = *state;
    assert_int_equal(io->mkdir(io, "/d/sub", 0755), 0);
    tsim_put(io, "/d/sub/b", "bee", 1, 1); /* b is durable in sub ... */
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);    /* ... but sub is not in /d */
    int is_dir = 0;
    assert_int_equal(io->stat(io, "/d/sub", NULL, &is_dir), -ENOENT);
    assert_null(tsim_get(io, "/d/sub/b", NULL));
}

static void torn_mode_keeps_a_prefix_of_the_unsynced_bytes(void **state)
{
    struct sxp_io *io = *state;
    uint64_t seed = tsim_seed();
    char full[4096];
    int saw_partial = 0;
    for (size_t i = 0; i < sizeof(full); i++)
        full[i] = (char)('a' + i % 26);
    for (uint64_t r = 0; r < 64; r++) {
        tsim_put(io, "/d/log", "HEAD\n", 1, 1);
        int fd = io->open(io, "/d/log", O_RDWR, 0);
        assert_true(fd >= 0);
        for (size_t off = 0; off < sizeof(full); off += 1000) {
            size_t n = sizeof(full) - off < 1000 ? sizeof(full) - off : 1000;
            assert_int_equal(io->pwrite(io, fd, full + off, n, 5 + off), 0);
        }
        tsim_crash(io, seed + r, IO_SIM_TORN);
        size_t len = 0;
        char *got = tsim_get(io, "/d/log", &len);
        assert_non_null(got);
        assert_true(len >= 5 && len <= 5 + sizeof(full));
        assert_memory_equal(got, "HEAD\n", 5);
        assert_memory_equal(got + 5, full, len - 5);
        if (len > 5 && len < 5 + sizeof(full))
            saw_partial = 1;
        free(got);
    }
    assert_true(saw_partial);
}

static void sector_mode_keeps_whole_sectors_and_zero_fills_lost_ones(void **state)
{
    struct sxp_io *io = *state;
    uint64_t seed = tsim_seed();
    char full[8 * IO_SIM_SECTOR];
    int saw_kept = 0, saw_nul = 0, saw_kept_after_nul = 0;
    memset(full, 'x', sizeof(full));
    for (uint64_t r = 0; r < 16; r++) {
        tsim_put(io, "/d/f", "", 1, 1);
        int fd = io->open(io, "/d/f", O_RDWR, 0);
        assert_true(fd >= 0);
        assert_int_equal(io->pwrite(io, fd, full, sizeof(full), 0), 0);
        tsim_crash(io, seed + r, IO_SIM_SECTORS);
        size_t len = 0;
        char *got = tsim_get(io, "/d/f", &len);
        assert_int_equal(len, sizeof(full));
        int nul_seen = 0;
        for (size_t s = 0; s < len; s += IO_SIM_SECTOR) {
            char c = got[s];
            assert_true(c == 'x' || c == '\0');
            for (size_t j = 0; j < IO_SIM_SECTOR; j++)
                assert_int_equal(got[s + j], c);
            if (c == 'x') {
                saw_kept = 1;
                if (nul_seen)
                    saw_kept_after_nul = 1;
            } else {
                saw_nul = nul_seen = 1;
            }
        }
        free(got);
    }
    assert_true(saw_kept);
    assert_true(saw_nul);
    assert_true(saw_kept_after_nul);
}

static void unsynced_truncate_is_undone_by_lose_all(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "0123456789", 1, 1);
    int fd = io->open(io, "/d/a", O_RDWR, 0);
    assert_int_equal(io->ftruncate(io, fd, 4), 0);
    uint64_t size = 0;
    assert_int_equal(io->fsize(io, fd, &size), 0);
    assert_int_equal(size, 4);
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    size_t len = 0;
    char *got = tsim_get(io, "/d/a", &len);
    assert_int_equal(len, 10);
    free(got);
}

static void calls_fail_while_off_and_old_descriptors_are_stale_after_restart(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "x", 1, 1);
    int fd = io->open(io, "/d/a", O_RDWR, 0);
    assert_true(fd >= 0);
    io_sim_crash(io, 1, IO_SIM_KEEP_ALL);
    assert_int_equal(io->pwrite(io, fd, "y", 1, 0), -EIO);
    assert_int_equal(io->open(io, "/d/a", O_RDONLY, 0), -EIO);
    assert_int_equal(io->fsync_dir(io, "/d"), -EIO);
    assert_int_equal(io->close(io, fd), 0); /* closing after power loss is harmless */
    io_sim_restart(io);
    assert_int_equal(io_sim_open_fds(io), 0);
    int fd2 = io->open(io, "/d/a", O_RDWR, 0);
    assert_true(fd2 >= 0);
    assert_true(fd2 != fd);
    assert_int_equal(io->pwrite(io, fd, "y", 1, 0), -EBADF);
    assert_int_equal(io->close(io, fd2), 0);
}

static void lock_is_exclusive_until_close_or_crash(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/LOCK", "", 1, 1);
    int a = io->open(io, "/d/LOCK", O_RDWR, 0);
    int b = io->open(io, "/d/LOCK", O_RDWR, 0);
    assert_int_equal(io->lock(io, a), 0);
    assert_int_equal(io->lock(io, a), 0);
    assert_int_equal(io->lock(io, b), -EAGAIN);
    assert_int_equal(io->close(io, a), 0);
    assert_int_equal(io->lock(io, b), 0);
    tsim_crash(io, 1, IO_SIM_KEEP_ALL);
    int c = io->open(io, "/d/LOCK", O_RDWR, 0);
    assert_int_equal(io->lock(io, c), 0);
    assert_int_equal(io->close(io, c), 0);
}

static void open_flags_follow_posix(void **state)
{
    struct sxp_io *io = *state;
    assert_int_equal(io->open(io, "/d/none", O_RDONLY, 0), -ENOENT);
    assert_int_equal(io->open(io, "/nodir/x", O_RDWR | O_CREAT, 0644), -ENOENT);
    tsim_put(io, "/d/a", "abc", 0, 0);
    assert_int_equal(io->open(io, "/d/a", O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
    assert_int_equal(io->open(io, "/d", O_RDWR, 0), -EISDIR);
    assert_int_equal(io->open(io, "/d/a/b", O_RDONLY, 0), -ENOTDIR);
    assert_int_equal(io->mkdir(io, "/d", 0755), -EEXIST);
    int ro = io->open(io, "/d/a", O_RDONLY, 0);
    assert_int_equal(io->pwrite(io, ro, "x", 1, 0), -EBADF);
    assert_int_equal(io->ftruncate(io, ro, 0), -EBADF);
    assert_int_equal(io->close(io, ro), 0);
    assert_int_equal(io->close(io, ro), -EBADF);
    int t = io->open(io, "/d/a", O_RDWR | O_TRUNC, 0);
    uint64_t size = 1;
    assert_int_equal(io->fsize(io, t, &size), 0);
    assert_int_equal(size, 0);
    assert_int_equal(io->close(io, t), 0);
    assert_int_equal(io->unlink(io, "/d"), -EISDIR);
    assert_int_equal(io->unlink(io, "/d/none"), -ENOENT);
    assert_int_equal(io->rename(io, "/d/none", "/d/x"), -ENOENT);
}

static void pread_is_short_at_end_of_file_and_writes_past_end_zero_fill(void **state)
{
    struct sxp_io *io = *state;
    int fd = io->open(io, "/d/a", O_RDWR | O_CREAT, 0644);
    assert_int_equal(io->pwrite(io, fd, "z", 1, 4), 0);
    char buf[16];
    assert_int_equal(io->pread(io, fd, buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "\0\0\0\0z", 5);
    assert_int_equal(io->pread(io, fd, buf, sizeof(buf), 9), 0);
    assert_int_equal(io->close(io, fd), 0);
}

static void write_sync_makes_each_synced_request_durable(void **state)
{
    struct sxp_io *io = *state;
    int a = io->open(io, "/d/a", O_RDWR | O_CREAT, 0644);
    int b = io->open(io, "/d/b", O_RDWR | O_CREAT, 0644);
    assert_int_equal(io->fsync_dir(io, "/d"), 0);
    struct io_wsync reqs[2] = {
        {a, "alpha", 5, 0, 1, 0, 0}, {b, "beta", 4, 0, 0, 0, 0}, /* written, not synced */
    };
    assert_int_equal(io->write_sync(io, reqs, 2), 0);
    assert_int_equal(reqs[0].res, 0);
    assert_int_equal(reqs[1].res, 0);
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    size_t la = 0, lb = 9;
    char *ga = tsim_get(io, "/d/a", &la);
    char *gb = tsim_get(io, "/d/b", &lb);
    assert_string_equal(ga, "alpha");
    assert_int_equal(lb, 0);
    free(ga);
    free(gb);
}

static void write_sync_on_a_bad_descriptor_reports_that_request(void **state)
{
    struct sxp_io *io = *state;
    int a = io->open(io, "/d/a", O_RDWR | O_CREAT, 0644);
    struct io_wsync reqs[2] = {
        {9999, "x", 1, 0, 1, 0, 0},
        {a, "y", 1, 0, 1, 0, 0},
    };
    assert_int_equal(io->write_sync(io, reqs, 2), -EBADF);
    assert_int_equal(reqs[0].res, -EBADF);
    assert_int_equal(reqs[0].sync_failed, 0);
    assert_int_equal(reqs[1].res, 0);
    assert_int_equal(io->close(io, a), 0);
}

static int tsim_unlink_each(void *arg, const char *name, int is_dir)
{
    struct sxp_io *io = arg;
    char path[PATH_MAX];
    assert_false(is_dir);
    snprintf(path, sizeof(path), "/d/%s", name);
    assert_int_equal(io->unlink(io, path), 0);
    return 0;
}

static int tsim_count(void *arg, const char *name, int is_dir)
{
    (void)name;
    (void)is_dir;
    (*(int *)arg)++;
    return 0;
}

static void list_dir_callback_may_unlink_what_it_is_shown(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "1", 0, 0);
    tsim_put(io, "/d/b", "2", 0, 0);
    tsim_put(io, "/d/c", "3", 0, 0);
    assert_int_equal(io->list_dir(io, "/d", tsim_unlink_each, io), 0);
    int n = 0;
    assert_int_equal(io->list_dir(io, "/d", tsim_count, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(io->list_dir(io, "/nope", tsim_count, &n), -ENOENT);
}

/* A digest of the whole tree, to compare two crashes. */
static uint64_t tsim_digest(struct sxp_io *io, const char *path);

struct tsim_dig {
    struct sxp_io *io;
    const char *dir;
    uint64_t sum;
};

static int tsim_dig_one(void *arg, const char *name, int is_dir)
{
    struct tsim_dig *d = arg;
    char path[PATH_MAX];
    uint64_t h = 1469598103934665603ull;
    snprintf(path, sizeof(path), "%s/%s", d->dir, name);
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    if (is_dir) {
        h ^= tsim_digest(d->io, path);
    } else {
        size_t len = 0;
        char *got = tsim_get(d->io, path, &len);
        for (size_t i = 0; i < len; i++)
            h = (h ^ (unsigned char)got[i]) * 1099511628211ull;
        h ^= len;
        free(got);
    }
    d->sum += h * 31 + 7; /* order-free */
    return 0;
}

static uint64_t tsim_digest(struct sxp_io *io, const char *path)
{
    struct tsim_dig d = {io, path, 0};
    assert_int_equal(io->list_dir(io, path, tsim_dig_one, &d), 0);
    return d.sum;
}

static uint64_t tsim_workload_then_crash(uint64_t seed)
{
    struct sxp_io *io = NULL;
    assert_int_equal(io_sim_new(&io), 0);
    assert_int_equal(io_sim_mkdirs(io, "/d"), 0);
    for (int i = 0; i < 20; i++) {
        char path[64], data[64];
        snprintf(path, sizeof(path), "/d/f%d", i % 7);
        snprintf(data, sizeof(data), "record %d with some bytes\n", i);
        tsim_put(io, path, data, i % 3 == 0, i % 4 == 0);
    }
    tsim_crash(io, seed, IO_SIM_RANDOM);
    uint64_t dig = tsim_digest(io, "/d");
    io->destroy(io);
    return dig;
}

static void crash_outcome_is_a_function_of_the_seed(void **state)
{
    (void)state;
    uint64_t seed = tsim_seed();
    assert_true(tsim_workload_then_crash(seed) == tsim_workload_then_crash(seed));
    int differ = 0;
    for (uint64_t i = 1; i < 8 && !differ; i++)
        differ = tsim_workload_then_crash(seed) != tsim_workload_then_crash(seed + i);
    assert_true(differ);
}

static void atomic_write_through_the_sim_survives_lose_all(void **state)
{
    struct sxp_io *io = *state;
    const char *v1 = "first", *v2 = "second";
    assert_int_equal(io_write_atomic(io, "/d/kv", "/d/kv.1.tmp", v1, strlen(v1), 1), 0);
    assert_int_equal(io_write_atomic(io, "/d/kv", "/d/kv.2.tmp", v2, strlen(v2), 1), 0);
    tsim_crash(io, 7, IO_SIM_LOSE_ALL);
    char *got = tsim_get(io, "/d/kv", NULL);
    assert_string_equal(got, "second");
    free(got);
}

static void export_copies_the_tree_to_a_real_directory(void **state)
{
    struct sxp_io *io = *state;
    char *real = tu_tmpdir();
    char path[PATH_MAX];
    assert_int_equal(io->mkdir(io, "/d/sub", 0755), 0);
    tsim_put(io, "/d/sub/b", "bee", 0, 0);
    tsim_put(io, "/d/a", "a\0z", 0, 0);
    assert_int_equal(io_sim_export(io, "/d", real), 0);
    snprintf(path, sizeof(path), "%s/sub/b", real);
    size_t len = 0;
    char *got = tu_read_file(path, &len);
    assert_non_null(got);
    assert_string_equal(got, "bee");
    free(got);
    snprintf(path, sizeof(path), "%s/a", real);
    got = tu_read_file(path, &len);
    assert_int_equal(len, 1); /* tsim_put writes up to the NUL */
    free(got);
    assert_int_equal(io_sim_export(io, "/none", real), -ENOENT);
    tu_rmrf(real);
    free(real);
}

static void sync_all_makes_everything_durable(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "data", 0, 0);
    io_sim_sync_all(io);
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    char *got = tsim_get(io, "/d/a", NULL);
    assert_non_null(got);
    assert_string_equal(got, "data");
    free(got);
}

static void kill_keeps_the_page_cache_that_a_later_power_loss_may_drop(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "cached", 0, 0);
    int fd = io->open(io, "/d/a", O_RDONLY, 0);
    io_sim_kill(io);
    assert_true(io_sim_is_off(io));
    io_sim_restart(io);
    char buf[8];
    assert_int_equal(io->pread(io, fd, buf, sizeof(buf), 0), -EBADF);
    char *got = tsim_get(io, "/d/a", NULL);
    assert_string_equal(got, "cached"); /* the kill kept it ... */
    free(got);
    tsim_crash(io, 1, IO_SIM_LOSE_ALL); /* ... the power loss does not */
    assert_null(tsim_get(io, "/d/a", NULL));
}

static void clone_is_an_independent_copy_with_pending_state(void **state)
{
    struct sxp_io *io = *state;
    struct sxp_io *copy = NULL;
    tsim_put(io, "/d/durable", "yes", 1, 1);
    tsim_put(io, "/d/pending", "maybe", 0, 0);
    assert_int_equal(io_sim_clone(io, &copy), 0);
    assert_int_equal(io_sim_open_fds(copy), 0);
    /* The copy's pending state is its own: crash it both ways. */
    tsim_crash(copy, 1, IO_SIM_LOSE_ALL);
    assert_null(tsim_get(copy, "/d/pending", NULL));
    char *got = tsim_get(copy, "/d/durable", NULL);
    assert_string_equal(got, "yes");
    free(got);
    tsim_put(copy, "/d/durable", "changed", 1, 1);
    tsim_crash(io, 1, IO_SIM_KEEP_ALL);
    got = tsim_get(io, "/d/pending", NULL);
    assert_string_equal(got, "maybe");
    free(got);
    got = tsim_get(io, "/d/durable", NULL);
    assert_string_equal(got, "yes");
    free(got);
    copy->destroy(copy);
}

/* The digest changes with every write, sync, name change or pending op,
 * and not with reads, opens, locks or closes. */
static void digest_sees_every_change_and_no_read(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "hello", 1, 1);
    uint64_t d0 = io_sim_digest(io);
    int fd = io->open(io, "/d/a", O_RDONLY, 0);
    assert_true(fd >= 0);
    char buf[8];
    assert_int_equal(io->pread(io, fd, buf, sizeof(buf), 0), 5);
    assert_int_equal(io->lock(io, fd), 0);
    assert_int_equal(io->close(io, fd), 0);
    assert_int_equal(io->stat(io, "/d/a", NULL, NULL), 0);
    assert_true(io_sim_digest(io) == d0);
    /* The same bytes written again: a pending op, then its sync. */
    fd = io->open(io, "/d/a", O_RDWR, 0);
    assert_int_equal(io->pwrite(io, fd, "h", 1, 0), 0);
    uint64_t d1 = io_sim_digest(io);
    assert_true(d1 != d0);
    assert_int_equal(io->fdatasync(io, fd), 0);
    assert_true(io_sim_digest(io) != d1);
    assert_int_equal(io->close(io, fd), 0);
    uint64_t d2 = io_sim_digest(io);
    assert_int_equal(io->rename(io, "/d/a", "/d/b"), 0);
    uint64_t d3 = io_sim_digest(io);
    assert_true(d3 != d2);
    assert_int_equal(io->fsync_dir(io, "/d"), 0);
    assert_true(io_sim_digest(io) != d3);
}

/* io_sim_dir_sync_failed, io_sim_file_sync_failed or io_sim_fs_sync_failed. */
typedef int (*tsim_fail_fn)(struct sxp_io *sim, const char *path, enum io_sim_syncfail how,
                            uint64_t seed);

/* The outcome RANDOM takes for seed at path, drawn on two copies of base:
 * one of the three others, and the same both times. */
static int tsim_random_outcome(struct sxp_io *base, tsim_fail_fn fail_with, const char *path,
                               uint64_t seed)
{
    int how = -1;
    for (int k = 0; k < 2; k++) {
        struct sxp_io *io = NULL;
        assert_int_equal(io_sim_clone(base, &io), 0);
        int got = fail_with(io, path, IO_SIM_SYNCFAIL_RANDOM, seed);
        assert_true(got >= 0 && got < IO_SIM_SYNCFAIL_RANDOM);
        if (k == 1)
            assert_int_equal(got, how);
        how = got;
        io->destroy(io);
    }
    return how;
}

/* What each PARTIAL-and-RANDOM case asserts over its seeds: PARTIAL both
 * kept something and lost something, and RANDOM took each outcome. */
static void tsim_assert_every_outcome(int seen_kept, int seen_lost,
                                      const int seen[IO_SIM_SYNCFAIL_RANDOM])
{
    assert_true(seen_kept && seen_lost);
    for (int k = 0; k < IO_SIM_SYNCFAIL_RANDOM; k++)
        assert_true(seen[k]);
}

/* ---- a failed directory fsync (io_sim_dir_sync_failed) ------------------ */

/* KEEP: the entries stay pending, and a later fsync makes them durable. */
static void failed_dir_fsync_kept_leaves_the_entries_to_a_later_fsync(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "a", 1, 0);
    assert_int_equal(io_sim_dir_sync_failed(io, "/d", IO_SIM_SYNCFAIL_KEEP, 1),
                     IO_SIM_SYNCFAIL_KEEP);
    assert_int_equal(io->fsync_dir(io, "/d"), 0);
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    char *got = tsim_get(io, "/d/a", NULL);
    assert_string_equal(got, "a");
    free(got);
}

/* DROP: the entries are still seen, but a later fsync that succeeds does
 * not make them durable, and a power loss takes them; what was pending in
 * another directory, or came after the failure, is not touched. */
static void failed_dir_fsync_dropped_entries_no_later_fsync_makes_durable(void **state)
{
    struct sxp_io *io = *state;
    assert_int_equal(io_sim_mkdirs(io, "/e"), 0);
    tsim_put(io, "/d/old", "old", 1, 1);
    tsim_put(io, "/d/a", "a", 1, 0);
    assert_int_equal(io->unlink(io, "/d/old"), 0);
    tsim_put(io, "/e/c", "c", 1, 0);
    assert_int_equal(io_sim_dir_sync_failed(io, "/d", IO_SIM_SYNCFAIL_DROP, 1),
                     IO_SIM_SYNCFAIL_DROP);
    char *got = tsim_get(io, "/d/a", NULL);
    assert_string_equal(got, "a");
    free(got);
    assert_null(tsim_get(io, "/d/old", NULL));
    tsim_put(io, "/d/b", "b", 1, 1); /* this fsync succeeds */
    assert_int_equal(io->fsync_dir(io, "/e"), 0);
    tsim_crash(io, 1, IO_SIM_KEEP_ALL);
    assert_null(tsim_get(io, "/d/a", NULL));
    got = tsim_get(io, "/d/old", NULL); /* the unlink was dropped too */
    assert_string_equal(got, "old");
    free(got);
    got = tsim_get(io, "/d/b", NULL);
    assert_string_equal(got, "b");
    free(got);
    got = tsim_get(io, "/e/c", NULL);
    assert_string_equal(got, "c");
    free(got);
}

/* PARTIAL: each entry is made durable or forgotten, never half of a
 * rename; over seeds both happen, and a seed gives the same disk. RANDOM
 * picks each of the three outcomes, by seed. */
static void failed_dir_fsync_partial_keeps_each_entry_or_none_by_seed(void **state)
{
    struct sxp_io *base = *state;
    int seen_kept = 0, seen_lost = 0, seen[IO_SIM_SYNCFAIL_RANDOM] = {0};
    uint64_t seed0 = tsim_seed();
    tsim_put(base, "/d/r", "old", 1, 1);
    for (uint64_t i = 0; i < 32; i++) {
        uint64_t seed = seed0 + i;
        int kept[2][3];
        for (int round = 0; round < 2; round++) {
            struct sxp_io *io = NULL;
            assert_int_equal(io_sim_clone(base, &io), 0);
            tsim_put(io, "/d/a", "a", 1, 0);
            tsim_put(io, "/d/b", "b", 1, 0);
            tsim_put(io, "/d/r.tmp", "new", 1, 0);
            assert_int_equal(io->rename(io, "/d/r.tmp", "/d/r"), 0);
            assert_int_equal(io_sim_dir_sync_failed(io, "/d", IO_SIM_SYNCFAIL_PARTIAL, seed),
                             IO_SIM_SYNCFAIL_PARTIAL);
            assert_int_equal(io->fsync_dir(io, "/d"), 0);
            tsim_crash(io, seed, IO_SIM_KEEP_ALL);
            const char *names[] = {"/d/a", "/d/b"};
            for (int k = 0; k < 2; k++) {
                char *got = tsim_get(io, names[k], NULL);
                kept[round][k] = got != NULL;
                free(got);
            }
            char *r = tsim_get(io, "/d/r", NULL);
            assert_non_null(r); /* old or new, never neither */
            assert_true(strcmp(r, "old") == 0 || strcmp(r, "new") == 0);
            kept[round][2] = strcmp(r, "new") == 0;
            free(r);
            for (int k = 0; k < 3; k++) {
                seen_kept |= kept[round][k];
                seen_lost |= !kept[round][k];
            }
            io->destroy(io);
        }
        assert_memory_equal(kept[0], kept[1], sizeof(kept[0]));
        seen[tsim_random_outcome(base, io_sim_dir_sync_failed, "/d", seed)] = 1;
    }
    tsim_assert_every_outcome(seen_kept, seen_lost, seen);
}

static void failed_dir_fsync_of_no_directory_or_while_off_is_an_error(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "a", 1, 1);
    assert_int_equal(io_sim_dir_sync_failed(io, "/nope", IO_SIM_SYNCFAIL_DROP, 1), -ENOENT);
    assert_int_equal(io_sim_dir_sync_failed(io, "/d/a", IO_SIM_SYNCFAIL_DROP, 1), -ENOTDIR);
    assert_int_equal(io_sim_dir_sync_failed(io, "/d", IO_SIM_SYNCFAIL_COUNT, 1), -EINVAL);
    io_sim_crash(io, 1, IO_SIM_LOSE_ALL);
    assert_int_equal(io_sim_dir_sync_failed(io, "/d", IO_SIM_SYNCFAIL_DROP, 1), -EIO);
    io_sim_restart(io);
}

/* ---- a failed file fdatasync (io_sim_file_sync_failed) ------------------ */

/* Writes len bytes of c at off to path (opened, written, closed). */
static void tsim_fill(struct sxp_io *io, const char *path, char c, size_t len, uint64_t off)
{
    char *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, c, len);
    int fd = io->open(io, path, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(io->pwrite(io, fd, buf, len, off), 0);
    assert_int_equal(io->close(io, fd), 0);
    free(buf);
}

static void tsim_fdatasync(struct sxp_io *io, const char *path)
{
    int fd = io->open(io, path, O_RDWR, 0);
    assert_true(fd >= 0);
    assert_int_equal(io->fdatasync(io, fd), 0);
    assert_int_equal(io->close(io, fd), 0);
}

/* Asserts got[from, to) are all c. */
static void tsim_all(const char *got, size_t from, size_t to, char c)
{
    for (size_t i = from; i < to; i++)
        if (got[i] != c)
            fail_msg("byte %zu is 0x%02x, not 0x%02x", i, (unsigned char)got[i], (unsigned char)c);
}

/* "/d/a": 100 durable bytes 'a', then 'B' over 10..60 and 'C' from 100
 * to 5100 written, not synced (pages 0 and 1). */
static void tsim_old_and_new(struct sxp_io *io)
{
    tsim_put(io, "/d/a", "", 0, 1);
    tsim_fill(io, "/d/a", 'a', 100, 0);
    tsim_fdatasync(io, "/d/a");
    tsim_fill(io, "/d/a", 'B', 50, 10);
    tsim_fill(io, "/d/a", 'C', 5000, 100);
}

/* KEEP: the writes stay pending, and a later fdatasync makes them durable. */
static void failed_fdatasync_kept_leaves_the_writes_to_a_later_fdatasync(void **state)
{
    struct sxp_io *io = *state;
    tsim_old_and_new(io);
    assert_int_equal(io_sim_file_sync_failed(io, "/d/a", IO_SIM_SYNCFAIL_KEEP, 1),
                     IO_SIM_SYNCFAIL_KEEP);
    tsim_fdatasync(io, "/d/a");
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    size_t len = 0;
    char *got = tsim_get(io, "/d/a", &len);
    assert_int_equal(len, 5100);
    tsim_all(got, 0, 10, 'a');
    tsim_all(got, 10, 60, 'B');
    tsim_all(got, 60, 100, 'a');
    tsim_all(got, 100, 5100, 'C');
    free(got);
}

/* DROP: reads still see the writes, but a later fdatasync that succeeds
 * (or syncfs, or a clean shutdown) does not write them: the disk keeps
 * the old bytes, and the new size with NUL past the old end. Another
 * file's pending write is not touched. */
static void failed_fdatasync_dropped_writes_no_later_sync_makes_durable(void **state)
{
    struct sxp_io *base = *state;
    tsim_old_and_new(base);
    tsim_put(base, "/d/other", "other", 0, 1);
    assert_int_equal(io_sim_file_sync_failed(base, "/d/a", IO_SIM_SYNCFAIL_DROP, 1),
                     IO_SIM_SYNCFAIL_DROP);
    for (int how = 0; how < 3; how++) {
        struct sxp_io *io = NULL;
        assert_int_equal(io_sim_clone(base, &io), 0);
        size_t len = 0;
        char *got = tsim_get(io, "/d/a", &len);
        assert_int_equal(len, 5100); /* the cache still shows them */
        tsim_all(got, 10, 60, 'B');
        tsim_all(got, 100, 5100, 'C');
        free(got);
        if (how == 0)
            tsim_fdatasync(io, "/d/a");
        else if (how == 1)
            assert_int_equal(io->syncfs(io, "/d"), 0);
        else
            io_sim_sync_all(io);
        tsim_crash(io, 1, IO_SIM_LOSE_ALL);
        got = tsim_get(io, "/d/a", &len);
        assert_int_equal(len, 5100);
        tsim_all(got, 0, 100, 'a');
        tsim_all(got, 100, 5100, '\0');
        free(got);
        got = tsim_get(io, "/d/other", NULL); /* pending, unless synced */
        assert_string_equal(got, how == 0 ? "" : "other");
        free(got);
        io->destroy(io);
    }
}

/* DROP, then a power loss in any mode: the dropped bytes never reach the
 * disk (only, at most, the size they gave the file). */
static void power_loss_after_a_dropped_fdatasync_keeps_no_dropped_byte(void **state)
{
    struct sxp_io *base = *state;
    uint64_t seed = tsim_seed();
    tsim_old_and_new(base);
    assert_int_equal(io_sim_file_sync_failed(base, "/d/a", IO_SIM_SYNCFAIL_DROP, 1),
                     IO_SIM_SYNCFAIL_DROP);
    int saw_size = 0, saw_old_size = 0;
    for (uint64_t i = 0; i < 40; i++) {
        struct sxp_io *io = NULL;
        assert_int_equal(io_sim_clone(base, &io), 0);
        tsim_crash(io, seed + i, (enum io_sim_mode)(i % IO_SIM_MODE_COUNT));
        size_t len = 0;
        char *got = tsim_get(io, "/d/a", &len);
        assert_true(len >= 100 && len <= 5100);
        saw_size |= len == 5100;
        saw_old_size |= len == 100;
        tsim_all(got, 0, 100, 'a');
        tsim_all(got, 100, len, '\0');
        free(got);
        io->destroy(io);
    }
    assert_true(saw_size && saw_old_size);
}

/* A write after the failure into a dropped page dirties the whole page
 * again: the next fdatasync writes it as the cache holds it, dropped bytes
 * included, and no other dropped page. */
static void write_into_a_dropped_page_makes_the_whole_page_durable_again(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "", 0, 1);
    tsim_fill(io, "/d/a", 'a', 100, 0);
    tsim_fdatasync(io, "/d/a");
    tsim_fill(io, "/d/a", 'C', 8000, 100); /* pages 0 and 1 */
    assert_int_equal(io_sim_file_sync_failed(io, "/d/a", IO_SIM_SYNCFAIL_DROP, 1),
                     IO_SIM_SYNCFAIL_DROP);
    tsim_fdatasync(io, "/d/a"); /* writes nothing of them */
    tsim_fill(io, "/d/a", 'Z', 1, 5000);
    tsim_fill(io, "/d/a", 'e', 100, 8100); /* a new page, not dropped */
    tsim_fdatasync(io, "/d/a");
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    size_t len = 0;
    char *got = tsim_get(io, "/d/a", &len);
    assert_int_equal(len, 8200);
    tsim_all(got, 0, 100, 'a');
    tsim_all(got, 100, 4096, '\0'); /* page 0 is still dropped */
    tsim_all(got, 4096, 5000, 'C'); /* page 1 was written again, whole */
    tsim_all(got, 5000, 5001, 'Z');
    tsim_all(got, 5001, 8100, 'C');
    tsim_all(got, 8100, 8200, 'e');
    free(got);
}

/* A cut inside a dropped page zeroes its tail and so dirties it again; a
 * dropped page wholly past the cut is gone. */
static void cut_inside_a_dropped_page_makes_it_durable_again(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "", 0, 1);
    tsim_fdatasync(io, "/d/a");
    tsim_fill(io, "/d/a", 'C', 10000, 0); /* pages 0, 1, 2 */
    assert_int_equal(io_sim_file_sync_failed(io, "/d/a", IO_SIM_SYNCFAIL_DROP, 1),
                     IO_SIM_SYNCFAIL_DROP);
    int fd = io->open(io, "/d/a", O_RDWR, 0);
    assert_true(fd >= 0);
    assert_int_equal(io->ftruncate(io, fd, 6000), 0);
    assert_int_equal(io->ftruncate(io, fd, 9000), 0); /* page 2 holds zeros now */
    assert_int_equal(io->fdatasync(io, fd), 0);
    assert_int_equal(io->close(io, fd), 0);
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    size_t len = 0;
    char *got = tsim_get(io, "/d/a", &len);
    assert_int_equal(len, 9000);
    tsim_all(got, 0, 4096, '\0');
    tsim_all(got, 4096, 6000, 'C');
    tsim_all(got, 6000, 9000, '\0');
    free(got);
}

/* An ftruncate that grows a file whose old end lies inside a dropped page
 * zeroes the page past that end and so dirties it again, whole; a file
 * whose old end is on a page boundary has no page to zero, and its
 * dropped pages stay dropped. */
static void growing_ftruncate_from_inside_a_dropped_page_makes_it_durable_again(void **state)
{
    struct sxp_io *io = *state;
    const char *names[] = {"/d/a", "/d/b"};
    const size_t ends[] = {6000, 2 * IO_SIM_PAGE};
    for (int k = 0; k < 2; k++) {
        tsim_put(io, names[k], "", 0, 1);
        tsim_fdatasync(io, names[k]);
        tsim_fill(io, names[k], 'C', ends[k], 0); /* pages 0 and 1 */
        assert_int_equal(io_sim_file_sync_failed(io, names[k], IO_SIM_SYNCFAIL_DROP, 1),
                         IO_SIM_SYNCFAIL_DROP);
        int fd = io->open(io, names[k], O_RDWR, 0);
        assert_true(fd >= 0);
        assert_int_equal(io->ftruncate(io, fd, 10000), 0);
        assert_int_equal(io->fdatasync(io, fd), 0);
        assert_int_equal(io->close(io, fd), 0);
    }
    tsim_crash(io, 1, IO_SIM_LOSE_ALL);
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        char *got = tsim_get(io, names[k], &len);
        assert_int_equal(len, 10000);
        tsim_all(got, 0, IO_SIM_PAGE, '\0');                      /* page 0 is still dropped */
        tsim_all(got, IO_SIM_PAGE, ends[k], k == 0 ? 'C' : '\0'); /* page 1: written again */
        tsim_all(got, ends[k], 10000, '\0');
        free(got);
    }
}

/* PARTIAL: each page of the writes is made durable now or dropped (a
 * later fdatasync does not write it); over seeds both happen, and a seed
 * gives the same disk. RANDOM picks each of the three outcomes, by seed. */
static void failed_fdatasync_partial_keeps_each_page_or_none_by_seed(void **state)
{
    struct sxp_io *base = *state;
    int seen_kept = 0, seen_lost = 0, seen[IO_SIM_SYNCFAIL_RANDOM] = {0};
    uint64_t seed0 = tsim_seed();
    tsim_put(base, "/d/a", "", 0, 1);
    tsim_fdatasync(base, "/d/a");
    for (char k = 0; k < 4; k++)
        tsim_fill(base, "/d/a", (char)('A' + k), IO_SIM_PAGE, (uint64_t)k * IO_SIM_PAGE);
    for (uint64_t i = 0; i < 32; i++) {
        uint64_t seed = seed0 + i;
        int kept[2][4];
        for (int round = 0; round < 2; round++) {
            struct sxp_io *io = NULL;
            assert_int_equal(io_sim_clone(base, &io), 0);
            assert_int_equal(io_sim_file_sync_failed(io, "/d/a", IO_SIM_SYNCFAIL_PARTIAL, seed),
                             IO_SIM_SYNCFAIL_PARTIAL);
            if (round == 1)
                tsim_fdatasync(io, "/d/a");
            tsim_crash(io, seed, IO_SIM_LOSE_ALL);
            size_t len = 0;
            char *got = tsim_get(io, "/d/a", &len);
            assert_int_equal(len, 4 * IO_SIM_PAGE);
            for (int k = 0; k < 4; k++) {
                size_t from = (size_t)k * IO_SIM_PAGE, to = from + IO_SIM_PAGE;
                kept[round][k] = got[from] != '\0';
                tsim_all(got, from, to, kept[round][k] ? (char)('A' + k) : '\0');
                seen_kept |= kept[round][k];
                seen_lost |= !kept[round][k];
            }
            free(got);
            io->destroy(io);
        }
        assert_memory_equal(kept[0], kept[1], sizeof(kept[0]));
        seen[tsim_random_outcome(base, io_sim_file_sync_failed, "/d/a", seed)] = 1;
    }
    tsim_assert_every_outcome(seen_kept, seen_lost, seen);
}

/* ---- a failed syncfs (io_sim_fs_sync_failed) ----------------------------- */

/* A failed syncfs does to every file's pending writes what a failed
 * fdatasync of it does, one outcome for all: dropped, a later syncfs that
 * succeeds writes none of them (only the sizes they gave the files), and
 * the directory entries, left pending, it makes durable; kept, it writes
 * them all. */
static void failed_syncfs_drops_or_keeps_every_files_writes(void **state)
{
    struct sxp_io *base = *state;
    tsim_old_and_new(base); /* "/d/a" */
    assert_int_equal(base->mkdir(base, "/d/sub", 0755), 0);
    tsim_put(base, "/d/sub/b", "bee", 0, 0);
    for (int how = IO_SIM_SYNCFAIL_KEEP; how <= IO_SIM_SYNCFAIL_DROP; how++) {
        struct sxp_io *io = NULL;
        assert_int_equal(io_sim_clone(base, &io), 0);
        assert_int_equal(io_sim_fs_sync_failed(io, "/d", (enum io_sim_syncfail)how, 1), how);
        char *got = tsim_get(io, "/d/sub/b", NULL); /* the cache still shows them */
        assert_string_equal(got, "bee");
        free(got);
        assert_int_equal(io->syncfs(io, "/d"), 0);
        tsim_crash(io, 1, IO_SIM_LOSE_ALL);
        size_t len = 0;
        got = tsim_get(io, "/d/a", &len);
        assert_int_equal(len, 5100);
        tsim_all(got, 0, 10, 'a');
        tsim_all(got, 10, 60, how == IO_SIM_SYNCFAIL_DROP ? 'a' : 'B');
        tsim_all(got, 100, 5100, how == IO_SIM_SYNCFAIL_DROP ? '\0' : 'C');
        free(got);
        got = tsim_get(io, "/d/sub/b", &len);
        assert_non_null(got);
        assert_int_equal(len, 3);
        if (how == IO_SIM_SYNCFAIL_DROP)
            tsim_all(got, 0, 3, '\0');
        else
            assert_memory_equal(got, "bee", 3);
        free(got);
        io->destroy(io);
    }
}

/* PARTIAL writes some pages of each file and drops the others, by seed;
 * RANDOM takes each outcome over seeds, the same for a seed; a path that
 * is no directory, or a disk that is off, is an error. */
static void failed_syncfs_partial_and_random_go_by_seed(void **state)
{
    struct sxp_io *base = *state;
    int seen_kept = 0, seen_lost = 0, seen[IO_SIM_SYNCFAIL_RANDOM] = {0};
    const char *names[] = {"/d/a", "/d/b"};
    for (int f = 0; f < 2; f++) {
        tsim_put(base, names[f], "", 0, 1);
        tsim_fill(base, names[f], 'A', 4 * IO_SIM_PAGE, 0);
    }
    for (uint64_t seed = 1; seed <= 16; seed++) {
        struct sxp_io *io = NULL;
        assert_int_equal(io_sim_clone(base, &io), 0);
        assert_int_equal(io_sim_fs_sync_failed(io, "/d", IO_SIM_SYNCFAIL_PARTIAL, seed),
                         IO_SIM_SYNCFAIL_PARTIAL);
        assert_int_equal(io->syncfs(io, "/d"), 0);
        tsim_crash(io, seed, IO_SIM_LOSE_ALL);
        for (int f = 0; f < 2; f++) {
            size_t len = 0;
            char *got = tsim_get(io, names[f], &len);
            assert_int_equal(len, 4 * IO_SIM_PAGE);
            for (size_t p = 0; p < 4; p++) {
                int kept = got[p * IO_SIM_PAGE] == 'A';
                tsim_all(got, p * IO_SIM_PAGE, (p + 1) * IO_SIM_PAGE, kept ? 'A' : '\0');
                seen_kept |= kept;
                seen_lost |= !kept;
            }
            free(got);
        }
        io->destroy(io);
        seen[tsim_random_outcome(base, io_sim_fs_sync_failed, "/d", seed)] = 1;
    }
    tsim_assert_every_outcome(seen_kept, seen_lost, seen);
    assert_int_equal(io_sim_fs_sync_failed(base, "/nope", IO_SIM_SYNCFAIL_DROP, 1), -ENOENT);
    assert_int_equal(io_sim_fs_sync_failed(base, "/d/a", IO_SIM_SYNCFAIL_DROP, 1), -ENOTDIR);
    assert_int_equal(io_sim_fs_sync_failed(base, "/d", IO_SIM_SYNCFAIL_COUNT, 1), -EINVAL);
    io_sim_crash(base, 1, IO_SIM_LOSE_ALL);
    assert_int_equal(io_sim_fs_sync_failed(base, "/d", IO_SIM_SYNCFAIL_DROP, 1), -EIO);
    io_sim_restart(base);
}

/* A copy holds the dropped pages too, and the digest tells them apart. */
static void clone_and_digest_carry_the_dropped_pages(void **state)
{
    struct sxp_io *io = *state;
    tsim_old_and_new(io);
    uint64_t d0 = io_sim_digest(io);
    assert_int_equal(io_sim_file_sync_failed(io, "/d/a", IO_SIM_SYNCFAIL_DROP, 1),
                     IO_SIM_SYNCFAIL_DROP);
    assert_true(io_sim_digest(io) != d0);
    tsim_fdatasync(io, "/d/a");
    struct sxp_io *copy = NULL;
    assert_int_equal(io_sim_clone(io, &copy), 0);
    assert_true(io_sim_digest(copy) == io_sim_digest(io));
    tsim_fill(copy, "/d/a", 'x', 1, 0); /* page 0 dirty again, not page 1 */
    tsim_fdatasync(copy, "/d/a");
    tsim_crash(copy, 1, IO_SIM_LOSE_ALL);
    size_t len = 0;
    char *got = tsim_get(copy, "/d/a", &len);
    assert_int_equal(len, 5100);
    tsim_all(got, 0, 1, 'x');
    tsim_all(got, 10, 60, 'B');
    tsim_all(got, 100, 4096, 'C');
    tsim_all(got, 4096, 5100, '\0');
    free(got);
    copy->destroy(copy);
}

static void failed_fdatasync_of_no_file_or_while_off_is_an_error(void **state)
{
    struct sxp_io *io = *state;
    tsim_put(io, "/d/a", "a", 1, 1);
    assert_int_equal(io_sim_file_sync_failed(io, "/nope", IO_SIM_SYNCFAIL_DROP, 1), -ENOENT);
    assert_int_equal(io_sim_file_sync_failed(io, "/d", IO_SIM_SYNCFAIL_DROP, 1), -EISDIR);
    assert_int_equal(io_sim_file_sync_failed(io, "/d/a", IO_SIM_SYNCFAIL_COUNT, 1), -EINVAL);
    io_sim_crash(io, 1, IO_SIM_LOSE_ALL);
    assert_int_equal(io_sim_file_sync_failed(io, "/d/a", IO_SIM_SYNCFAIL_DROP, 1), -EIO);
    io_sim_restart(io);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tsim_setup, tsim_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(written_data_is_readable_before_any_sync),
        T(synced_file_and_directory_survive_every_crash_mode),
        T(unsynced_write_is_lost_in_lose_all_mode),
        T(file_synced_but_directory_not_synced_vanishes),
        T(keep_all_mode_keeps_cache_and_entries),
        T(rename_not_dir_synced_leaves_old_or_new_never_neither),
        T(rename_exchange_swaps_both_names_or_neither),
        T(unlink_not_dir_synced_is_undone_by_lose_all),
        T(syncfs_makes_every_file_and_name_durable),
        T(syncfs_fd_syncs_every_file_through_any_descriptor),
        T(mkdir_not_dir_synced_vanishes_with_its_files),
        T(torn_mode_keeps_a_prefix_of_the_unsynced_bytes),
        T(sector_mode_keeps_whole_sectors_and_zero_fills_lost_ones),
        T(unsynced_truncate_is_undone_by_lose_all),
        T(calls_fail_while_off_and_old_descriptors_are_stale_after_restart),
        T(lock_is_exclusive_until_close_or_crash),
        T(open_flags_follow_posix),
        T(pread_is_short_at_end_of_file_and_writes_past_end_zero_fill),
        T(write_sync_makes_each_synced_request_durable),
        T(write_sync_on_a_bad_descriptor_reports_that_request),
        T(list_dir_callback_may_unlink_what_it_is_shown),
        T(crash_outcome_is_a_function_of_the_seed),
        T(atomic_write_through_the_sim_survives_lose_all),
        T(export_copies_the_tree_to_a_real_directory),
        T(sync_all_makes_everything_durable),
        T(kill_keeps_the_page_cache_that_a_later_power_loss_may_drop),
        T(clone_is_an_independent_copy_with_pending_state),
        T(digest_sees_every_change_and_no_read),
        T(failed_dir_fsync_kept_leaves_the_entries_to_a_later_fsync),
        T(failed_dir_fsync_dropped_entries_no_later_fsync_makes_durable),
        T(failed_dir_fsync_partial_keeps_each_entry_or_none_by_seed),
        T(failed_dir_fsync_of_no_directory_or_while_off_is_an_error),
        T(failed_fdatasync_kept_leaves_the_writes_to_a_later_fdatasync),
        T(failed_fdatasync_dropped_writes_no_later_sync_makes_durable),
        T(power_loss_after_a_dropped_fdatasync_keeps_no_dropped_byte),
        T(write_into_a_dropped_page_makes_the_whole_page_durable_again),
        T(cut_inside_a_dropped_page_makes_it_durable_again),
        T(growing_ftruncate_from_inside_a_dropped_page_makes_it_durable_again),
        T(failed_syncfs_drops_or_keeps_every_files_writes),
        T(failed_syncfs_partial_and_random_go_by_seed),
        T(failed_fdatasync_partial_keeps_each_page_or_none_by_seed),
        T(clone_and_digest_carry_the_dropped_pages),
        T(failed_fdatasync_of_no_file_or_while_off_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
