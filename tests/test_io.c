/*
 * test_io.c -- the real I/O backends (engine/io_sync.c, engine/io_uring.c)
 * against the contract of engine/io.h, and the helpers of engine/io_util.c.
 *
 * Every backend test runs twice, once per backend, whatever $SXP_IO says:
 * "[sync]" on io_sync_new and "[io_uring]" on io_uring_backend_new. Where the
 * kernel refuses io_uring the "[io_uring]" cases are skipped, never passed.
 * Each case works in a fresh mkdtemp directory under /tmp, removed after.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io.h"

/* A small ring, so that write_sync must split 100 requests into chunks. */
#define TIO_RING_ENTRIES 16

enum tio_kind { TIO_SYNC, TIO_URING };

struct tio {
    enum tio_kind kind;
    struct sxp_io *io; /* NULL when the backend is unavailable */
    int unavailable;   /* why io_uring_backend_new failed, or 0 */
    char dir[64];      /* the case's temp directory */
};

static struct tio tio_sync = {TIO_SYNC, NULL, 0, ""};
static struct tio tio_uring = {TIO_URING, NULL, 0, ""};

static int tio_setup(void **state)
{
    struct tio *t = *state;
    t->io = NULL;
    t->unavailable = 0;
    if (t->kind == TIO_SYNC) {
        if (io_sync_new(&t->io) != 0)
            return -1;
    } else {
        int rc = io_uring_backend_new(TIO_RING_ENTRIES, &t->io);
        if (rc < 0) {
            t->io = NULL;
            t->unavailable = rc;
        }
    }
    strcpy(t->dir, "/tmp/sxp-test-io-XXXXXX");
    if (!mkdtemp(t->dir)) {
        if (t->io)
            t->io->destroy(t->io);
        t->io = NULL;
        return -1;
    }
    return 0;
}

static int tio_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int tio_teardown(void **state)
{
    struct tio *t = *state;
    int rc = nftw(t->dir, tio_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (t->io)
        t->io->destroy(t->io);
    t->io = NULL;
    return rc;
}

/* The case's backend, or a skip when the kernel refuses io_uring. */
static struct sxp_io *tio_io(void **state)
{
    struct tio *t = *state;
    if (!t->io) {
        print_message("io_uring unavailable (%s): skipped\n", strerror(-t->unavailable));
        skip();
    }
    return t->io;
}

/* dir/name into out (PATH_MAX). */
static char *tio_path(void **state, const char *name, char *out)
{
    struct tio *t = *state;
    int n = snprintf(out, PATH_MAX, "%s/%s", t->dir, name);
    assert_true(n > 0 && n < PATH_MAX);
    return out;
}

/* Reads a file with plain syscalls, independently of the backend under test.
 * Returns its length; *out is malloc'd. */
static size_t tio_slurp(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    char *p = malloc((size_t)size + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)size, f), (size_t)size);
    assert_int_equal(fclose(f), 0);
    *out = p;
    return (size_t)size;
}

static int tio_open_rw(struct sxp_io *io, const char *path)
{
    int fd = io->open(io, path, O_CREAT | O_RDWR, 0644);
    assert_true(fd >= 0);
    return fd;
}

/* Creates path and opens it read-only: a descriptor every write fails on
 * with EBADF. */
static int tio_open_ro(struct sxp_io *io, const char *path)
{
    assert_int_equal(io->close(io, tio_open_rw(io, path)), 0);
    int fd = io->open(io, path, O_RDONLY, 0);
    assert_true(fd >= 0);
    return fd;
}

/* ---- pwrite, pread, fdatasync, ftruncate, fsize ---------------------- */

static void pwrite_then_pread_returns_the_bytes_at_each_offset(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX], buf[16];
    int fd = tio_open_rw(io, tio_path(state, "f", path));
    const uint64_t offs[] = {0, 4093, (uint64_t)1 << 20};
    for (size_t i = 0; i < 3; i++) {
        char word[8];
        (void)snprintf(word, sizeof(word), "word%zu", i);
        assert_int_equal(io->pwrite(io, fd, word, 5, offs[i]), 0);
    }
    assert_int_equal(io->fdatasync(io, fd), 0);
    for (size_t i = 0; i < 3; i++) {
        char word[8];
        (void)snprintf(word, sizeof(word), "word%zu", i);
        assert_int_equal(io->pread(io, fd, buf, 5, offs[i]), 5);
        assert_memory_equal(buf, word, 5);
    }
    /* A hole reads as zeros; a read across the end is short. */
    assert_int_equal(io->pread(io, fd, buf, 4, 100), 4);
    assert_memory_equal(buf, "\0\0\0\0", 4);
    assert_int_equal(io->pread(io, fd, buf, 16, ((uint64_t)1 << 20) + 2), 3);
    assert_memory_equal(buf, "rd2", 3);
    assert_int_equal(io->pread(io, fd, buf, 16, (uint64_t)1 << 30), 0);
    uint64_t size = 0;
    assert_int_equal(io->fsize(io, fd, &size), 0);
    assert_int_equal(size, ((uint64_t)1 << 20) + 5);
    assert_int_equal(io->ftruncate(io, fd, 4096), 0);
    assert_int_equal(io->fsize(io, fd, &size), 0);
    assert_int_equal(size, 4096);
    assert_int_equal(io->close(io, fd), 0);
}

static void a_large_pwrite_lands_whole(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX], *got;
    size_t len = (size_t)8 << 20;
    char *big = malloc(len);
    assert_non_null(big);
    for (size_t i = 0; i < len; i++)
        big[i] = (char)(i * 31 + (i >> 12));
    int fd = tio_open_rw(io, tio_path(state, "big", path));
    assert_int_equal(io->pwrite(io, fd, big, len, 3), 0);
    assert_int_equal(io->fdatasync(io, fd), 0);
    assert_int_equal(io->close(io, fd), 0);
    assert_int_equal(tio_slurp(path, &got), len + 3);
    assert_memory_equal(got + 3, big, len);
    free(got);
    free(big);
}

static void pwrite_on_a_read_only_descriptor_is_ebadf(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX];
    int fd = tio_open_rw(io, tio_path(state, "f", path));
    assert_int_equal(io->close(io, fd), 0);
    fd = io->open(io, path, O_RDONLY, 0);
    assert_true(fd >= 0);
    assert_int_equal(io->pwrite(io, fd, "x", 1, 0), -EBADF);
    assert_int_equal(io->close(io, fd), 0);
}

/* 0, 1 and 2 are the process's stdin, stdout and stderr even when closed:
 * a store file opened there would take what the process prints. With
 * stdout and stderr closed, the next open still lands above 2. */
static void a_file_never_takes_descriptors_0_to_2(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX];
    tio_path(state, "f", path);
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2);
    assert_true(out > 2 && err > 2);
    (void)close(1);
    (void)close(2);
    int fd = io->open(io, path, O_RDWR | O_CREAT, 0644);
    int fd2 = io->open(io, path, O_RDONLY, 0);
    int low = fcntl(1, F_GETFD) == -1 && fcntl(2, F_GETFD) == -1; /* still closed */
    assert_int_equal(dup2(out, 1), 1);
    assert_int_equal(dup2(err, 2), 2);
    (void)close(out);
    (void)close(err);
    assert_true(fd > 2);
    assert_true(fd2 > 2);
    assert_true(low);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(io->close(io, fd), 0);
    assert_int_equal(io->close(io, fd2), 0);
}

static void fdatasync_of_a_device_without_fsync_is_einval(void **state)
{
    struct sxp_io *io = tio_io(state);
    int fd = io->open(io, "/dev/null", O_WRONLY, 0);
    assert_true(fd >= 0);
    assert_int_equal(io->fdatasync(io, fd), -EINVAL);
    assert_int_equal(io->close(io, fd), 0);
}

/* ---- write_sync ------------------------------------------------------- */

#define TIO_FILES 10
#define TIO_REQS 100
#define TIO_REQ_LEN 64

static void write_sync_of_100_requests_over_10_files_lands_every_byte(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX], name[16];
    int fds[TIO_FILES];
    static char data[TIO_REQS][TIO_REQ_LEN];
    struct io_wsync reqs[TIO_REQS + 1];
    for (int f = 0; f < TIO_FILES; f++) {
        (void)snprintf(name, sizeof(name), "log%d", f);
        fds[f] = tio_open_rw(io, tio_path(state, name, path));
    }
    /* Request k goes to file k % 10 at slot k / 10, written back to front
     * so that offsets do not simply follow the submission order. */
    for (int k = 0; k < TIO_REQS; k++) {
        for (int b = 0; b < TIO_REQ_LEN; b++)
            data[k][b] = (char)('A' + (k * 7 + b) % 26);
        reqs[k] = (struct io_wsync){.fd = fds[k % TIO_FILES],
                                    .buf = data[k],
                                    .len = TIO_REQ_LEN,
                                    .off = (uint64_t)(9 - k / TIO_FILES) * TIO_REQ_LEN,
                                    .sync = k % 3 != 0,
                                    .res = 12345,
                                    .sync_failed = 7};
    }
    /* One sync-only request. */
    reqs[TIO_REQS] = (struct io_wsync){.fd = fds[0], .sync = 1, .res = 1, .sync_failed = 1};
    assert_int_equal(io->write_sync(io, reqs, TIO_REQS + 1), 0);
    for (int k = 0; k <= TIO_REQS; k++) {
        assert_int_equal(reqs[k].res, 0);
        assert_int_equal(reqs[k].sync_failed, 0);
    }
    for (int f = 0; f < TIO_FILES; f++) {
        char *got;
        (void)snprintf(name, sizeof(name), "log%d", f);
        assert_int_equal(tio_slurp(tio_path(state, name, path), &got),
                         TIO_REQS / TIO_FILES * TIO_REQ_LEN);
        for (int k = f; k < TIO_REQS; k += TIO_FILES)
            assert_memory_equal(got + (size_t)(9 - k / TIO_FILES) * TIO_REQ_LEN, data[k],
                                TIO_REQ_LEN);
        free(got);
        assert_int_equal(io->close(io, fds[f]), 0);
    }
}

static void write_sync_on_one_descriptor_runs_in_order(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX], *got;
    static char data[50][4096];
    struct io_wsync reqs[50];
    int fd = tio_open_rw(io, tio_path(state, "f", path));
    /* Every request overwrites the same bytes: only in-order execution
     * leaves the last one there. */
    for (int k = 0; k < 50; k++) {
        memset(data[k], 'a' + k % 26, sizeof(data[k]));
        reqs[k] = (struct io_wsync){
            .fd = fd, .buf = data[k], .len = sizeof(data[k]), .off = 0, .sync = k % 2};
    }
    assert_int_equal(io->write_sync(io, reqs, 50), 0);
    assert_int_equal(tio_slurp(path, &got), 4096);
    assert_memory_equal(got, data[49], 4096);
    free(got);
    assert_int_equal(io->close(io, fd), 0);
}

static void write_sync_reports_ebadf_for_a_read_only_fd_and_runs_the_others(void **state)
{
    struct sxp_io *io = tio_io(state);
    char pa[PATH_MAX], pb[PATH_MAX], pc[PATH_MAX], *got;
    int a = tio_open_rw(io, tio_path(state, "a", pa));
    int b = tio_open_ro(io, tio_path(state, "b", pb));
    int c = tio_open_rw(io, tio_path(state, "c", pc));
    struct io_wsync reqs[3] = {
        {.fd = a, .buf = "alpha", .len = 5, .off = 0, .sync = 1},
        {.fd = b, .buf = "bravo", .len = 5, .off = 0, .sync = 1},
        {.fd = c, .buf = "charlie", .len = 7, .off = 2, .sync = 1},
    };
    assert_int_equal(io->write_sync(io, reqs, 3), -EBADF);
    assert_int_equal(reqs[0].res, 0);
    assert_int_equal(reqs[1].res, -EBADF);
    assert_int_equal(reqs[1].sync_failed, 0); /* the write failed, not a sync */
    assert_int_equal(reqs[2].res, 0);
    assert_int_equal(tio_slurp(pa, &got), 5);
    assert_memory_equal(got, "alpha", 5);
    free(got);
    assert_int_equal(tio_slurp(pb, &got), 0);
    free(got);
    assert_int_equal(tio_slurp(pc, &got), 9);
    assert_memory_equal(got + 2, "charlie", 7);
    free(got);
    assert_int_equal(io->close(io, a), 0);
    assert_int_equal(io->close(io, b), 0);
    assert_int_equal(io->close(io, c), 0);
}

/* A write with no sync after it (written as plain pwrite by io_uring.c,
 * WRITES ALONE) fails on its own descriptor only, and WS-1 carries its
 * failure to the later sync of that descriptor, which would succeed on a
 * read-only descriptor if it ran. */
static void write_sync_a_failed_write_alone_stops_its_descriptor_only(void **state)
{
    struct sxp_io *io = tio_io(state);
    char pa[PATH_MAX], pb[PATH_MAX], *got;
    int a = tio_open_rw(io, tio_path(state, "a", pa));
    int b = tio_open_ro(io, tio_path(state, "b", pb));
    struct io_wsync reqs[4] = {
        {.fd = b, .buf = "bravo", .len = 5, .off = 0, .sync = 0},
        {.fd = a, .buf = "al", .len = 2, .off = 0, .sync = 0},
        {.fd = b, .buf = NULL, .len = 0, .off = 0, .sync = 1},
        {.fd = a, .buf = "pha", .len = 3, .off = 2, .sync = 1},
    };
    assert_int_equal(io->write_sync(io, reqs, 4), -EBADF);
    assert_int_equal(reqs[0].res, -EBADF);
    assert_int_equal(reqs[1].res, 0);
    assert_int_equal(reqs[2].res, -EBADF);
    assert_int_equal(reqs[2].sync_failed, 0);
    assert_int_equal(reqs[3].res, 0);
    assert_int_equal(tio_slurp(pa, &got), 5);
    assert_memory_equal(got, "alpha", 5);
    free(got);
    assert_int_equal(io->close(io, a), 0);
    assert_int_equal(io->close(io, b), 0);
}

static void write_sync_reports_a_failed_sync_as_sync_failed(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX];
    /* /dev/null takes any write but has no fsync: -EINVAL from the sync. */
    int dn = io->open(io, "/dev/null", O_WRONLY, 0);
    assert_true(dn >= 0);
    int fd = tio_open_rw(io, tio_path(state, "f", path));
    struct io_wsync reqs[4] = {
        {.fd = dn, .buf = "0123456789", .len = 10, .off = 0, .sync = 1},
        {.fd = fd, .buf = "ok", .len = 2, .off = 0, .sync = 1},
        {.fd = dn, .buf = "later", .len = 5, .off = 10, .sync = 0},
        {.fd = dn, .len = 0, .sync = 1},
    };
    assert_int_equal(io->write_sync(io, reqs, 4), -EINVAL);
    assert_int_equal(reqs[0].res, -EINVAL);
    assert_int_equal(reqs[0].sync_failed, 1);
    assert_int_equal(reqs[1].res, 0);
    /* WS-1: once a descriptor's sync failed, nothing later on it counts as
     * done, not even a write that needs no sync. */
    assert_int_equal(reqs[2].res, -EINVAL);
    assert_int_equal(reqs[2].sync_failed, 1);
    assert_int_equal(reqs[3].res, -EINVAL);
    assert_int_equal(reqs[3].sync_failed, 1);
    assert_int_equal(io->close(io, dn), 0);
    assert_int_equal(io->close(io, fd), 0);
}

/* Runs write_sync with a file size limit of limit bytes, so that a write
 * across it is cut short and the rest fails with EFBIG. */
static int tio_write_sync_under_fsize_limit(struct sxp_io *io, struct io_wsync *reqs, size_t n,
                                            rlim_t limit)
{
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = limit;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_true(old_sig != SIG_ERR);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = io->write_sync(io, reqs, n);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_true(signal(SIGXFSZ, old_sig) != SIG_ERR);
    return rc;
}

static void write_sync_after_a_short_write_neither_syncs_nor_writes_that_fd_again(void **state)
{
    struct sxp_io *io = tio_io(state);
    char pa[PATH_MAX], pb[PATH_MAX], *got;
    char tail[400];
    memset(tail, 'T', sizeof(tail));
    int a = tio_open_rw(io, tio_path(state, "a", pa));
    int b = tio_open_rw(io, tio_path(state, "b", pb));
    struct io_wsync reqs[3] = {
        /* Crosses the 8192-byte limit: 192 bytes land, then EFBIG. */
        {.fd = a, .buf = tail, .len = sizeof(tail), .off = 8000, .sync = 1},
        /* Would succeed on its own, but its descriptor already failed. */
        {.fd = a, .buf = "head", .len = 4, .off = 0, .sync = 1},
        {.fd = b, .buf = "bravo", .len = 5, .off = 0, .sync = 1},
    };
    assert_int_equal(tio_write_sync_under_fsize_limit(io, reqs, 3, 8192), -EFBIG);
    assert_int_equal(reqs[0].res, -EFBIG);
    assert_int_equal(reqs[0].sync_failed, 0);
    assert_int_equal(reqs[1].res, -EFBIG);
    assert_int_equal(reqs[2].res, 0);
    assert_int_equal(tio_slurp(pa, &got), 8192);
    assert_memory_equal(got, "\0\0\0\0", 4); /* request 1 never ran */
    assert_memory_equal(got + 8000, tail, 192);
    free(got);
    assert_int_equal(tio_slurp(pb, &got), 5);
    assert_memory_equal(got, "bravo", 5);
    free(got);
    assert_int_equal(io->close(io, a), 0);
    assert_int_equal(io->close(io, b), 0);
}

/* A lone request of 64 KiB, which io_uring.c writes with plain pwrite and
 * then syncs through the ring (MID-SIZED WRITES), keeps every rule of the
 * small ones: the bytes land, a failed write is not synced (sync_failed 0),
 * a failed sync is reported as one (so the sync ran after the write), and a
 * write cut short by the file size limit fails. The same five requests in
 * one call (each a linked WRITE and FSYNC) end the same way. */
#define TIO_MID (64 << 10)

static void write_sync_of_mid_sized_requests_keeps_the_same_rules(void **state)
{
    struct sxp_io *io = tio_io(state);
    static char big[4][TIO_MID];
    for (int k = 0; k < 4; k++)
        for (size_t b = 0; b < TIO_MID; b++)
            big[k][b] = (char)('a' + (k * 5 + (int)(b % 23)) % 26);
    int dn = io->open(io, "/dev/null", O_WRONLY, 0);
    assert_true(dn >= 0);
    for (int alone = 1; alone >= 0; alone--) {
        char pa[PATH_MAX], pb[PATH_MAX], pc[PATH_MAX], *got;
        int a = tio_open_rw(io, tio_path(state, alone ? "a1" : "a5", pa));
        int b = tio_open_ro(io, tio_path(state, alone ? "b1" : "b5", pb));
        int c = tio_open_rw(io, tio_path(state, alone ? "c1" : "c5", pc));
        struct io_wsync reqs[5] = {
            {.fd = a, .buf = big[0], .len = TIO_MID, .off = 0, .sync = 1},
            {.fd = b, .buf = big[1], .len = TIO_MID, .off = 0, .sync = 1},
            {.fd = dn, .buf = big[2], .len = TIO_MID, .off = 0, .sync = 1},
            {.fd = a, .buf = big[3], .len = TIO_MID, .off = TIO_MID, .sync = 1},
            /* Crosses the limit below: 4096 bytes land, then EFBIG. */
            {.fd = c, .buf = big[1], .len = TIO_MID, .off = 3 * TIO_MID - 4096, .sync = 1},
        };
        if (alone)
            for (size_t k = 0; k < 5; k++)
                (void)tio_write_sync_under_fsize_limit(io, &reqs[k], 1, 3 * TIO_MID);
        else
            assert_int_equal(tio_write_sync_under_fsize_limit(io, reqs, 5, 3 * TIO_MID), -EBADF);
        assert_int_equal(reqs[0].res, 0);
        assert_int_equal(reqs[1].res, -EBADF);
        assert_int_equal(reqs[1].sync_failed, 0);
        assert_int_equal(reqs[2].res, -EINVAL); /* /dev/null has no fsync */
        assert_int_equal(reqs[2].sync_failed, 1);
        assert_int_equal(reqs[3].res, 0);
        assert_int_equal(reqs[4].res, -EFBIG);
        assert_int_equal(reqs[4].sync_failed, 0);
        assert_int_equal(tio_slurp(pa, &got), 2 * TIO_MID);
        assert_memory_equal(got, big[0], TIO_MID);
        assert_memory_equal(got + TIO_MID, big[3], TIO_MID);
        free(got);
        assert_int_equal(tio_slurp(pb, &got), 0);
        free(got);
        assert_int_equal(tio_slurp(pc, &got), 3 * TIO_MID);
        assert_memory_equal(got + 3 * TIO_MID - 4096, big[1], 4096);
        free(got);
        assert_int_equal(io->close(io, a), 0);
        assert_int_equal(io->close(io, b), 0);
        assert_int_equal(io->close(io, c), 0);
    }
    assert_int_equal(io->close(io, dn), 0);
}

/* ---- concurrency -------------------------------------------------------- */

#define TIO_THREADS 4
#define TIO_THREAD_WRITES 200

struct tio_worker {
    struct sxp_io *io;
    int fd;
    int rc;
    pthread_t tid;
};

static void *tio_worker_run(void *arg)
{
    struct tio_worker *w = arg;
    char rec[32];
    for (int i = 0; i < TIO_THREAD_WRITES && w->rc == 0; i++) {
        memset(rec, 'a' + i % 26, sizeof(rec));
        w->rc = w->io->pwrite(w->io, w->fd, rec, sizeof(rec), (uint64_t)i * sizeof(rec));
        if (w->rc == 0 && i % 10 == 9)
            w->rc = w->io->fdatasync(w->io, w->fd);
        if (w->rc == 0 && i % 50 == 49) {
            struct io_wsync r = {.fd = w->fd, .buf = "!", .len = 1, .off = 0, .sync = 1};
            w->rc = w->io->write_sync(w->io, &r, 1);
            memset(rec, 'a', 1);
            if (w->rc == 0)
                w->rc = w->io->pwrite(w->io, w->fd, rec, 1, 0);
        }
    }
    return NULL;
}

static void threads_writing_at_once_each_land_every_byte(void **state)
{
    struct sxp_io *io = tio_io(state);
    struct tio_worker w[TIO_THREADS];
    char path[PATH_MAX], name[16], *got;
    for (int t = 0; t < TIO_THREADS; t++) {
        (void)snprintf(name, sizeof(name), "t%d", t);
        w[t] = (struct tio_worker){.io = io, .fd = tio_open_rw(io, tio_path(state, name, path))};
    }
    for (int t = 0; t < TIO_THREADS; t++)
        assert_int_equal(pthread_create(&w[t].tid, NULL, tio_worker_run, &w[t]), 0);
    for (int t = 0; t < TIO_THREADS; t++)
        assert_int_equal(pthread_join(w[t].tid, NULL), 0);
    for (int t = 0; t < TIO_THREADS; t++) {
        assert_int_equal(w[t].rc, 0);
        (void)snprintf(name, sizeof(name), "t%d", t);
        assert_int_equal(tio_slurp(tio_path(state, name, path), &got), TIO_THREAD_WRITES * 32);
        for (int i = 0; i < TIO_THREAD_WRITES; i++)
            for (int b = 0; b < 32; b++)
                assert_int_equal(got[i * 32 + b], 'a' + i % 26);
        free(got);
        assert_int_equal(io->close(io, w[t].fd), 0);
    }
}

/* ---- directories, names, locks -------------------------------------- */

struct tio_listing {
    char names[8][16];
    int is_dir[8];
    int n;
    int stop_after; /* return 99 after this many entries; 0: never */
};

static int tio_collect(void *arg, const char *name, int is_dir)
{
    struct tio_listing *l = arg;
    if (l->n >= 8)
        return -1;
    (void)snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
    l->is_dir[l->n] = is_dir;
    l->n++;
    return l->stop_after && l->n >= l->stop_after ? 99 : 0;
}

/* The is_dir flag listed for name, or -1 if name was not listed. */
static int tio_listed(const struct tio_listing *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0)
            return l->is_dir[i];
    return -1;
}

static void list_dir_lists_exactly_the_created_names(void **state)
{
    struct sxp_io *io = tio_io(state);
    struct tio *t = *state;
    char path[PATH_MAX];
    struct tio_listing l = {0};
    assert_int_equal(io->list_dir(io, t->dir, tio_collect, &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(io->close(io, tio_open_rw(io, tio_path(state, "alpha", path))), 0);
    assert_int_equal(io->close(io, tio_open_rw(io, tio_path(state, ".hidden", path))), 0);
    assert_int_equal(io->mkdir(io, tio_path(state, "sub", path), 0755), 0);
    assert_int_equal(io->mkdir(io, path, 0755), -EEXIST);
    assert_int_equal(io->fsync_dir(io, t->dir), 0);
    assert_int_equal(io->list_dir(io, t->dir, tio_collect, &l), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(tio_listed(&l, "alpha"), 0);
    assert_int_equal(tio_listed(&l, ".hidden"), 0);
    assert_int_equal(tio_listed(&l, "sub"), 1);
    /* A non-zero return from the callback stops the walk and is returned. */
    struct tio_listing stop = {.stop_after = 1};
    assert_int_equal(io->list_dir(io, t->dir, tio_collect, &stop), 99);
    assert_int_equal(stop.n, 1);
    struct tio_listing none = {0};
    assert_int_equal(io->list_dir(io, tio_path(state, "missing", path), tio_collect, &none),
                     -ENOENT);
}

static void stat_reports_size_and_kind_and_enoent_when_missing(void **state)
{
    struct sxp_io *io = tio_io(state);
    struct tio *t = *state;
    char path[PATH_MAX];
    uint64_t size = 77;
    int is_dir = 77;
    assert_int_equal(io->stat(io, tio_path(state, "missing", path), &size, &is_dir), -ENOENT);
    int fd = tio_open_rw(io, tio_path(state, "f", path));
    assert_int_equal(io->pwrite(io, fd, "12345", 5, 0), 0);
    assert_int_equal(io->close(io, fd), 0);
    assert_int_equal(io->stat(io, path, &size, &is_dir), 0);
    assert_int_equal(size, 5);
    assert_int_equal(is_dir, 0);
    assert_int_equal(io->stat(io, path, &size, NULL), 0);
    assert_int_equal(io->stat(io, t->dir, NULL, &is_dir), 0);
    assert_int_equal(is_dir, 1);
}

static void rename_and_unlink_move_and_remove_names(void **state)
{
    struct sxp_io *io = tio_io(state);
    struct tio *t = *state;
    char a[PATH_MAX], b[PATH_MAX];
    assert_int_equal(io->close(io, tio_open_rw(io, tio_path(state, "a", a))), 0);
    assert_int_equal(io->rename(io, a, tio_path(state, "b", b)), 0);
    assert_int_equal(io->stat(io, a, NULL, NULL), -ENOENT);
    assert_int_equal(io->stat(io, b, NULL, NULL), 0);
    assert_int_equal(io->unlink(io, b), 0);
    assert_int_equal(io->unlink(io, b), -ENOENT);
    assert_int_equal(io->rename(io, a, b), -ENOENT);
    assert_int_equal(io->fsync_dir(io, t->dir), 0);
    assert_int_equal(io->fsync_dir(io, a), -ENOENT);
}

/* same_fs: a directory and itself, and two of one tree, are on one
 * filesystem; a tmpfs apart from it (/dev/shm, where the machine has one)
 * is not; a missing directory is -ENOENT. */
static void same_fs_tells_filesystems_apart(void **state)
{
    struct tio *t = *state;
    struct sxp_io *io = tio_io(state);
    char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
    assert_int_equal(io->mkdir(io, tio_path(state, "a", a), 0755), 0);
    assert_int_equal(io->mkdir(io, tio_path(state, "b", b), 0755), 0);
    assert_int_equal(io->same_fs(io, t->dir, t->dir), 1);
    assert_int_equal(io->same_fs(io, a, b), 1);
    assert_int_equal(io->same_fs(io, a, tio_path(state, "none", c)), -ENOENT);
    struct stat shm, here;
    if (stat("/dev/shm", &shm) != 0 || stat(t->dir, &here) != 0 || shm.st_dev == here.st_dev)
        skip(); /* no filesystem apart from the test's */
    assert_int_equal(io->same_fs(io, a, "/dev/shm"), 0);
}

/* rename_exchange swaps two names of a directory: each then reads the
 * other's bytes; with either missing it is -ENOENT and changes nothing.
 * still_at follows the file a descriptor holds: at a's name before, at
 * b's after, at no missing name. */
static void rename_exchange_swaps_two_names(void **state)
{
    struct sxp_io *io = tio_io(state);
    char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], buf[8];
    int fd = tio_open_rw(io, tio_path(state, "a", a));
    assert_int_equal(io->pwrite(io, fd, "aa", 2, 0), 0);
    assert_int_equal(io->close(io, fd), 0);
    fd = tio_open_rw(io, tio_path(state, "b", b));
    assert_int_equal(io->pwrite(io, fd, "bbb", 3, 0), 0);
    assert_int_equal(io->close(io, fd), 0);
    int held = io->open(io, a, O_RDONLY, 0);
    assert_true(held >= 0);
    assert_int_equal(io->still_at(io, held, a), 1);
    assert_int_equal(io->still_at(io, held, b), 0);
    int rc = io->rename_exchange(io, a, b);
    if (rc == -EINVAL || rc == -ENOSYS || rc == -EOPNOTSUPP) {
        assert_int_equal(io->close(io, held), 0);
        skip(); /* this filesystem cannot: the engine renames instead */
    }
    assert_int_equal(rc, 0);
    assert_int_equal(io->still_at(io, held, a), 0);
    assert_int_equal(io->still_at(io, held, b), 1);
    assert_int_equal(io->still_at(io, held, tio_path(state, "none", c)), 0);
    assert_int_equal(io->close(io, held), 0);
    uint64_t size = 0;
    assert_int_equal(io->stat(io, a, &size, NULL), 0);
    assert_int_equal(size, 3);
    fd = io->open(io, b, O_RDONLY, 0);
    assert_true(fd >= 0);
    assert_int_equal(io->pread(io, fd, buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "aa", 2);
    assert_int_equal(io->close(io, fd), 0);
    assert_int_equal(io->rename_exchange(io, a, tio_path(state, "c", c)), -ENOENT);
    assert_int_equal(io->rename_exchange(io, c, a), -ENOENT);
    assert_int_equal(io->stat(io, a, &size, NULL), 0);
    assert_int_equal(size, 3);
}

/* syncfs of a directory works and of a missing one is -ENOENT; through an
 * open file's descriptor it works, and through a closed one is -EBADF; the
 * boot id is the kernel's, the same on every call. */
static void syncfs_and_the_boot_id(void **state)
{
    struct sxp_io *io = tio_io(state);
    struct tio *t = *state;
    char a[PATH_MAX], id1[64], id2[64];
    assert_int_equal(io->syncfs(io, t->dir), 0);
    assert_int_equal(io->syncfs(io, tio_path(state, "missing", a)), -ENOENT);
    int fd = io->open(io, tio_path(state, "f", a), O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(io->syncfs_fd(io, fd), 0);
    assert_int_equal(io->close(io, fd), 0);
    assert_int_equal(io->syncfs_fd(io, fd), -EBADF);
    assert_int_equal(io->boot_id(io, id1, sizeof(id1)), 0);
    assert_int_equal(strlen(id1), 36); /* a UUID */
    assert_int_equal(io->boot_id(io, id2, sizeof(id2)), 0);
    assert_string_equal(id1, id2);
}

static void lock_on_a_second_open_of_the_same_file_is_eagain(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX];
    int a = tio_open_rw(io, tio_path(state, "LOCK", path));
    int b = tio_open_rw(io, path);
    assert_int_equal(io->lock(io, a), 0);
    assert_int_equal(io->lock(io, b), -EAGAIN);
    assert_int_equal(io->close(io, a), 0);
    /* Closing the holder releases it. */
    assert_int_equal(io->lock(io, b), 0);
    assert_int_equal(io->close(io, b), 0);
}

/* ---- io_util.c ------------------------------------------------------- */

static void write_atomic_replaces_content_and_leaves_no_tmp(void **state)
{
    struct sxp_io *io = tio_io(state);
    struct tio *t = *state;
    char path[PATH_MAX], tmp[PATH_MAX], *got;
    size_t len;
    tio_path(state, "target", path);
    tio_path(state, "tmp.1.1.tmp", tmp);
    assert_int_equal(io_write_atomic(io, path, tmp, "old content", 11, 1), 0);
    assert_int_equal(io_read_file(io, path, 100, &got, &len), 0);
    assert_int_equal(len, 11);
    assert_string_equal(got, "old content");
    free(got);
    assert_int_equal(io_write_atomic(io, path, tmp, "new", 3, 1), 0);
    assert_int_equal(io_read_file(io, path, 100, &got, &len), 0);
    assert_int_equal(len, 3);
    assert_string_equal(got, "new");
    free(got);
    assert_int_equal(io_write_atomic(io, path, tmp, "", 0, 0), 0);
    assert_int_equal(io_read_file(io, path, 100, &got, &len), 0);
    assert_int_equal(len, 0);
    assert_string_equal(got, "");
    free(got);
    struct tio_listing l = {0};
    assert_int_equal(io->list_dir(io, t->dir, tio_collect, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(tio_listed(&l, "target"), 0);
}

static void write_atomic_into_a_missing_directory_fails_and_leaves_nothing(void **state)
{
    struct sxp_io *io = tio_io(state);
    struct tio *t = *state;
    char path[PATH_MAX], tmp[PATH_MAX];
    tio_path(state, "nodir/target", path);
    tio_path(state, "nodir/tmp.1.1.tmp", tmp);
    assert_int_equal(io_write_atomic(io, path, tmp, "x", 1, 1), -ENOENT);
    struct tio_listing l = {0};
    assert_int_equal(io->list_dir(io, t->dir, tio_collect, &l), 0);
    assert_int_equal(l.n, 0);
}

static void write_atomic_removes_its_tmp_when_the_rename_fails(void **state)
{
    struct sxp_io *io = tio_io(state);
    struct tio *t = *state;
    char path[PATH_MAX], tmp[PATH_MAX], inner[PATH_MAX];
    /* The target is a non-empty directory, which a file cannot replace. */
    assert_int_equal(io->mkdir(io, tio_path(state, "target", path), 0755), 0);
    assert_int_equal(io->mkdir(io, tio_path(state, "target/inner", inner), 0755), 0);
    tio_path(state, "tmp.1.1.tmp", tmp);
    int rc = io_write_atomic(io, path, tmp, "x", 1, 1);
    assert_true(rc == -EISDIR || rc == -ENOTEMPTY);
    assert_int_equal(io->stat(io, tmp, NULL, NULL), -ENOENT);
    struct tio_listing l = {0};
    assert_int_equal(io->list_dir(io, t->dir, tio_collect, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(tio_listed(&l, "target"), 1);
}

static void read_file_over_max_len_is_e2big_and_missing_is_enoent(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX], tmp[PATH_MAX], *got = NULL;
    size_t len = 0;
    assert_int_equal(io_read_file(io, tio_path(state, "f", path), 10, &got, &len), -ENOENT);
    assert_int_equal(io_write_atomic(io, path, tio_path(state, "f.tmp", tmp), "0123456789A", 11, 0),
                     0);
    assert_int_equal(io_read_file(io, path, 10, &got, &len), -E2BIG);
    assert_null(got);
    assert_int_equal(io_read_file(io, path, 11, &got, &len), 0);
    assert_int_equal(len, 11);
    assert_string_equal(got, "0123456789A");
    free(got);
}

static void dirname_takes_the_directory_part_of_a_path(void **state)
{
    (void)state;
    char out[PATH_MAX], small[4];
    io_dirname("/a/b/c", out, sizeof(out));
    assert_string_equal(out, "/a/b");
    io_dirname("/a/b/", out, sizeof(out));
    assert_string_equal(out, "/a");
    io_dirname("/a//b", out, sizeof(out));
    assert_string_equal(out, "/a");
    io_dirname("/a", out, sizeof(out));
    assert_string_equal(out, "/");
    io_dirname("/", out, sizeof(out));
    assert_string_equal(out, "/");
    io_dirname("name", out, sizeof(out));
    assert_string_equal(out, ".");
    io_dirname("rel/name", out, sizeof(out));
    assert_string_equal(out, "rel");
    io_dirname("/long/dir/x", small, sizeof(small));
    assert_string_equal(small, "/lo");
}

/* ---- io_backend_new -------------------------------------------------- */

static void backend_new_follows_sxp_io_and_rejects_an_unknown_value(void **state)
{
    (void)state;
    struct sxp_io *io = NULL;
    struct sxp_err err;
    const char *old = getenv("SXP_IO");
    char *saved = old ? strdup(old) : NULL;

    assert_int_equal(setenv("SXP_IO", "sync", 1), 0);
    assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &io, &err), 0);
    assert_string_equal(io->name, "sync");
    io->destroy(io);

    io = NULL;
    err.code = 0;
    assert_int_equal(setenv("SXP_IO", "bogus", 1), 0);
    assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &io, &err), -EINVAL);
    assert_null(io);
    assert_int_equal(err.code, -EINVAL);
    assert_non_null(strstr(err.msg, "bogus"));

    /* An explicit kind does not consult the environment. */
    assert_int_equal(io_backend_new(SXP_IO_SYNC, 1, &io, &err), 0);
    assert_string_equal(io->name, "sync");
    io->destroy(io);

    struct sxp_io *probe = NULL;
    int uring_rc = io_uring_backend_new(8, &probe);
    if (probe)
        probe->destroy(probe);
    assert_int_equal(setenv("SXP_IO", "uring", 1), 0);
    io = NULL;
    assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &io, &err), uring_rc);
    if (uring_rc == 0) {
        assert_string_equal(io->name, "io_uring");
        io->destroy(io);
    } else {
        assert_int_equal(err.code, uring_rc);
    }

    /* Auto never fails for want of io_uring. */
    assert_int_equal(setenv("SXP_IO", "auto", 1), 0);
    io = NULL;
    assert_int_equal(io_backend_new(SXP_IO_AUTO, 1, &io, &err), 0);
    assert_string_equal(io->name, uring_rc == 0 ? "io_uring" : "sync");
    io->destroy(io);

    if (saved)
        assert_int_equal(setenv("SXP_IO", saved, 1), 0);
    else
        assert_int_equal(unsetenv("SXP_IO"), 0);
    free(saved);
}

/* The child of the fallback test: io_uring_setup is refused with EPERM, as a
 * container's seccomp profile does. Returns 0, or the number of the check
 * that failed. */
static int tio_fallback_child(int err_fd)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
    struct sxp_io *io = NULL;
    struct sxp_err err;
    if (dup2(err_fd, STDERR_FILENO) < 0 || unsetenv("SXP_IO") != 0)
        return 1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return 77; /* no seccomp here: nothing to show */
    if (io_uring_backend_new(8, &io) != -EPERM)
        return 2;
    if (io_backend_new(SXP_IO_URING, 0, &io, &err) != -EPERM || err.code != -EPERM)
        return 3;
    /* Quiet first: it must neither print nor use up the one notice. */
    for (int i = 0; i < 4; i++) {
        io = NULL;
        if (io_backend_new(SXP_IO_AUTO, i == 0, &io, &err) != 0 || !io)
            return 4;
        if (strcmp(io->name, "sync") != 0)
            return 5;
        io->destroy(io);
    }
    return 0;
}

static void auto_falls_back_to_sync_with_one_notice_when_io_uring_is_forbidden(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    (void)fflush(stdout);
    (void)fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)close(fds[0]);
        _exit(tio_fallback_child(fds[1]));
    }
    assert_int_equal(close(fds[1]), 0);
    char out[1024];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], out + len, sizeof(out) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        if (n == 0 || len + (size_t)n == sizeof(out) - 1) {
            len += (size_t)n;
            break;
        }
        len += (size_t)n;
    }
    out[len] = '\0';
    assert_int_equal(close(fds[0]), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(out, "sxp: io_uring unavailable (Operation not permitted); using plain "
                             "syscalls with the same guarantees\n");
}

/* io_uring.c PARALLEL SYNCS: a chunk of several fdatasyncs lets the
 * submitting thread run at least 32 io-wq workers at once. The default
 * (4 per CPU, at most the ring's 16 entries here) is below that, so this
 * test fails if the widening is gone. It runs in a thread of its own, whose
 * io-wq no earlier case has widened. */
struct tio_widen {
    struct sxp_io *io;
    int fds[4];
    unsigned before[2], one[2], after[2]; /* before: a query works */
    int rc_query, rc_one, rc_many;
};

static void *tio_widen_run(void *arg)
{
    struct tio_widen *w = arg;
    struct io_wsync reqs[4];
    for (int f = 0; f < 4; f++)
        reqs[f] = (struct io_wsync){.fd = w->fds[f], .buf = "line\n", .len = 5, .sync = 1};
    w->rc_query = io_uring_backend_workers(w->io, w->before);
    w->rc_one = w->io->write_sync(w->io, reqs, 1); /* one sync: nothing to run at once */
    if (io_uring_backend_workers(w->io, w->one) != 0)
        w->rc_one = -1;
    w->rc_many = w->io->write_sync(w->io, reqs + 1, 3);
    if (io_uring_backend_workers(w->io, w->after) != 0)
        w->rc_many = -1;
    return NULL;
}

static void uring_a_chunk_of_syncs_widens_the_threads_io_wq(void **state)
{
    struct tio_widen w = {.io = tio_io(state)};
    char path[PATH_MAX], name[16];
    pthread_t th;
    for (int f = 0; f < 4; f++) {
        (void)snprintf(name, sizeof(name), "log%d", f);
        w.fds[f] = tio_open_rw(w.io, tio_path(state, name, path));
    }
    assert_int_equal(pthread_create(&th, NULL, tio_widen_run, &w), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (w.rc_query == -EINVAL) {
        print_message("no IORING_REGISTER_IOWQ_MAX_WORKERS: skipped\n");
        skip();
    }
    assert_int_equal(w.rc_query, 0);
    assert_int_equal(w.rc_one, 0);
    assert_int_equal(w.rc_many, 0);
    /* A thread has its io-wq from its first submission on. */
    assert_true(w.one[0] > 0 && w.one[0] < 32);
    assert_int_equal(w.after[0], 32);
    assert_int_equal(w.after[1], w.one[1]); /* unbounded untouched */
    for (int f = 0; f < 4; f++)
        assert_int_equal(w.io->close(w.io, w.fds[f]), 0);
}

/* A BROKEN RING (io_uring.c): a submission the kernel refuses for a while
 * (-EBUSY, -EAGAIN) is tried again, and the writes land. */
static void uring_a_refused_submission_is_tried_again(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX], *got = NULL;
    int fd = tio_open_rw(io, tio_path(state, "log", path));
    io_uring_backend_fail_submit(io, -EBUSY, 3);
    struct io_wsync w = {.fd = fd, .buf = "hello\n", .len = 6, .off = 0, .sync = 1};
    assert_int_equal(io->write_sync(io, &w, 1), 0);
    assert_int_equal(w.res, 0);
    assert_int_equal(tio_slurp(path, &got), 6);
    assert_memory_equal(got, "hello\n", 6);
    free(got);
    assert_int_equal(io->close(io, fd), 0);
}

/* WS-1 on the ring: a synced write's FSYNC (DATASYNC) is the sqe right
 * after its WRITE, on the same file, and linked to it, so that it runs only
 * once the write completed; without the link the two may run at once and
 * the sync miss the bytes (nothing else shows it: io_sim and io_fault
 * stand in for the backend's write_sync). A sync alone has no write. */
static void uring_each_synced_write_is_linked_to_its_fsync(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX];
    int fd[3];
    static char bytes[200];
    memset(bytes, 'x', sizeof(bytes));
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", i);
        fd[i] = tio_open_rw(io, tio_path(state, name, path));
    }
    struct io_wsync w[] = {
        {.fd = fd[0], .buf = bytes, .len = 100, .off = 0, .sync = 1},
        {.fd = fd[1], .buf = bytes, .len = 200, .off = 0, .sync = 1},
        {.fd = fd[2], .buf = bytes, .len = 0, .off = 0, .sync = 1},
    };
    struct io_sqe_note v[16];
    size_t n = 0;
    io_uring_backend_note_sqes(io, v, 16, &n);
    assert_int_equal(io->write_sync(io, w, 3), 0);
    io_uring_backend_note_sqes(io, NULL, 0, NULL);
    assert_int_equal(n, 5); /* two writes, three syncs */
    size_t writes = 0, syncs = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].is_fsync) {
            assert_true(v[i].datasync);
            syncs++;
            continue;
        }
        assert_true(v[i].is_write);
        writes++;
        assert_true(v[i].linked);
        assert_true(i + 1 < n && v[i + 1].is_fsync && v[i + 1].fd == v[i].fd);
    }
    assert_int_equal(writes, 2);
    assert_int_equal(syncs, 3);
    for (int i = 0; i < 3; i++) {
        uint64_t size = 0;
        assert_int_equal(io->fsize(io, fd[i], &size), 0);
        assert_int_equal(size, w[i].len);
        assert_int_equal(io->close(io, fd[i]), 0);
    }
}

/* A ring the kernel refuses for good fails the requests it had in hand,
 * each sync among them as failed (US-5, IO-5), and the backend goes on
 * with plain syscalls: later writes and syncs land. */
static void uring_a_broken_ring_fails_what_it_had_and_goes_on_with_syscalls(void **state)
{
    struct sxp_io *io = tio_io(state);
    char path[PATH_MAX], path2[PATH_MAX], *got = NULL;
    int fd = tio_open_rw(io, tio_path(state, "log", path));
    int fd2 = tio_open_rw(io, tio_path(state, "log2", path2));
    io_uring_backend_set_quiet(io, 1);
    io_uring_backend_fail_submit(io, -ENOMEM, UINT_MAX);
    struct io_wsync w[2] = {{.fd = fd, .buf = "lost\n", .len = 5, .off = 0, .sync = 1},
                            {.fd = fd2, .sync = 1}};
    assert_int_equal(io->write_sync(io, w, 2), -ENOMEM);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(w[k].res, -ENOMEM);
        assert_int_equal(w[k].sync_failed, 1);
    }
    struct io_wsync again = {.fd = fd, .buf = "kept\n", .len = 5, .off = 0, .sync = 1};
    assert_int_equal(io->write_sync(io, &again, 1), 0);
    assert_int_equal(again.res, 0);
    assert_int_equal(io->fdatasync(io, fd2), 0);
    assert_int_equal(tio_slurp(path, &got), 5);
    assert_memory_equal(got, "kept\n", 5);
    free(got);
    assert_int_equal(io->close(io, fd), 0);
    assert_int_equal(io->close(io, fd2), 0);
}

/* Every case, once per backend. */
#define TIO_CASE(fn, tag, fx)                                                                      \
    {                                                                                              \
        .name = #fn " [" tag "]", .test_func = (fn), .setup_func = tio_setup,                      \
        .teardown_func = tio_teardown, .initial_state = &(fx)                                      \
    }
#define TIO_BOTH(fn) TIO_CASE(fn, "sync", tio_sync), TIO_CASE(fn, "io_uring", tio_uring)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TIO_BOTH(pwrite_then_pread_returns_the_bytes_at_each_offset),
        TIO_BOTH(a_large_pwrite_lands_whole),
        TIO_BOTH(pwrite_on_a_read_only_descriptor_is_ebadf),
        TIO_BOTH(a_file_never_takes_descriptors_0_to_2),
        TIO_BOTH(fdatasync_of_a_device_without_fsync_is_einval),
        TIO_BOTH(write_sync_of_100_requests_over_10_files_lands_every_byte),
        TIO_BOTH(write_sync_on_one_descriptor_runs_in_order),
        TIO_BOTH(write_sync_reports_ebadf_for_a_read_only_fd_and_runs_the_others),
        TIO_BOTH(write_sync_a_failed_write_alone_stops_its_descriptor_only),
        TIO_BOTH(write_sync_reports_a_failed_sync_as_sync_failed),
        TIO_BOTH(write_sync_after_a_short_write_neither_syncs_nor_writes_that_fd_again),
        TIO_BOTH(write_sync_of_mid_sized_requests_keeps_the_same_rules),
        TIO_BOTH(threads_writing_at_once_each_land_every_byte),
        TIO_BOTH(list_dir_lists_exactly_the_created_names),
        TIO_BOTH(stat_reports_size_and_kind_and_enoent_when_missing),
        TIO_BOTH(rename_and_unlink_move_and_remove_names),
        TIO_BOTH(rename_exchange_swaps_two_names),
        TIO_BOTH(same_fs_tells_filesystems_apart),
        TIO_BOTH(syncfs_and_the_boot_id),
        TIO_BOTH(lock_on_a_second_open_of_the_same_file_is_eagain),
        TIO_BOTH(write_atomic_replaces_content_and_leaves_no_tmp),
        TIO_BOTH(write_atomic_into_a_missing_directory_fails_and_leaves_nothing),
        TIO_BOTH(write_atomic_removes_its_tmp_when_the_rename_fails),
        TIO_BOTH(read_file_over_max_len_is_e2big_and_missing_is_enoent),
        TIO_CASE(uring_a_chunk_of_syncs_widens_the_threads_io_wq, "io_uring", tio_uring),
        TIO_CASE(uring_a_refused_submission_is_tried_again, "io_uring", tio_uring),
        TIO_CASE(uring_each_synced_write_is_linked_to_its_fsync, "io_uring", tio_uring),
        TIO_CASE(uring_a_broken_ring_fails_what_it_had_and_goes_on_with_syscalls, "io_uring",
                 tio_uring),
        cmocka_unit_test(dirname_takes_the_directory_part_of_a_path),
        cmocka_unit_test(backend_new_follows_sxp_io_and_rejects_an_unknown_value),
        cmocka_unit_test(auto_falls_back_to_sync_with_one_notice_when_io_uring_is_forbidden),
    };
    return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
