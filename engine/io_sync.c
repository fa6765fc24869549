/*
 * io_sync.c -- the plain-syscall backend of struct sxp_io (io.h).
 *
 * Descriptors are the kernel's own file descriptors. Every loop that deals
 * with EINTR or a short transfer lives here, once (IO-2); io_uring.c reuses
 * these functions through io_posix.h for the operations it does not send
 * through its ring.
 *
 * write_sync runs the requests one after another: pwrite, then fdatasync
 * when asked. A failure fills that request's res and the others still run,
 * except later requests on the same descriptor (WS-1 in io_posix.h).
 */
#include "io_posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Offsets past this do not fit in off_t. */
#define IO_SYNC_OFF_MAX ((uint64_t)INT64_MAX)

int io_posix_open(struct sxp_io *io, const char *path, int flags, mode_t mode)
{
    (void)io;
    int fd, clear_nonblock = 0;
    /* A store's files are never symbolic links (sxp makes none, and
     * sxp-fsck reports one as foreign): a link in a file's place is
     * refused (ELOOP), never followed out of the store. Directories are
     * followed: the store's own path may be a link.
     * Nor are they FIFOs, devices or sockets, and a FIFO in a file's place
     * would hold a read-only or write-only open(2) until a peer came,
     * forever: such opens go O_NONBLOCK (a read-only FIFO opens at once, a
     * write-only one fails ENXIO), and io_posix_fsize, which every reader
     * calls before it reads, refuses what is not a regular file. The flag
     * stays on a read-only descriptor (pread(2) of a regular file ignores
     * it) and is cleared from a write-only one, whose writes io_uring would
     * fail with EAGAIN instead of waiting. An O_RDWR open of a FIFO does
     * not wait on Linux. */
    if (!(flags & O_DIRECTORY)) {
        flags |= O_NOFOLLOW;
        if ((flags & O_ACCMODE) != O_RDWR) {
            flags |= O_NONBLOCK;
            clear_nonblock = (flags & O_ACCMODE) == O_WRONLY;
        }
    }
    do {
        fd = open(path, flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    if (fd <= 2) {
        /* 0, 1 and 2 are the process's stdin, stdout and stderr, closed or
         * not: a store file there would take whatever it prints (LOCK
         * overwritten by a command's output). */
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int e = errno;
        (void)close(fd);
        if (hi < 0)
            return -e;
        fd = hi;
    }
    if (clear_nonblock && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        int rc = -errno;
        (void)close(fd);
        return rc;
    }
    return fd;
}

int io_posix_close(struct sxp_io *io, int fd)
{
    (void)io;
    if (close(fd) == 0 || errno == EINTR)
        return 0;
    return -errno;
}

ssize_t io_posix_pread(struct sxp_io *io, int fd, void *buf, size_t len, uint64_t off)
{
    (void)io;
    if (off > IO_SYNC_OFF_MAX || len > SSIZE_MAX)
        return -EINVAL;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break; /* end of file */
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int io_posix_pwrite(struct sxp_io *io, int fd, const void *buf, size_t len, uint64_t off)
{
    (void)io;
    if (len > IO_SYNC_OFF_MAX || off > IO_SYNC_OFF_MAX - len)
        return -EINVAL;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        /* A regular file never takes zero bytes without an error; do not
         * spin on one that does. */
        if (n == 0)
            return -EIO;
        done += (size_t)n;
    }
    return 0;
}

/* sync(fd), one of fdatasync, fsync and syncfs, tried again on EINTR:
 * EINTR is not a writeback error (the kernel has not consumed one), so
 * trying again cannot hide a lost page (IO-5). */
static int io_posix_sync_call(int (*sync)(int), int fd)
{
    int rc;
    do {
        rc = sync(fd);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
}

int io_posix_fdatasync(struct sxp_io *io, int fd)
{
    (void)io;
    return io_posix_sync_call(fdatasync, fd);
}

int io_posix_ftruncate(struct sxp_io *io, int fd, uint64_t len)
{
    (void)io;
    if (len > IO_SYNC_OFF_MAX)
        return -EINVAL;
    int rc;
    do {
        rc = ftruncate(fd, (off_t)len);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
}

int io_posix_fsize(struct sxp_io *io, int fd, uint64_t *out)
{
    (void)io;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EUCLEAN; /* a FIFO, device or socket (io_posix_open) */
    *out = (uint64_t)st.st_size;
    return 0;
}

int io_wsync_inherit_failure(struct io_wsync *reqs, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (reqs[j].fd == reqs[i].fd && reqs[j].res != 0) {
            reqs[i].res = reqs[j].res;
            reqs[i].sync_failed = reqs[j].sync_failed;
            return 1;
        }
    }
    return 0;
}

int io_wsync_first_failure(const struct io_wsync *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (reqs[i].res != 0)
            return reqs[i].res;
    return 0;
}

int io_posix_write_sync(struct sxp_io *io, struct io_wsync *reqs, size_t n)
{
    int failed = 0; /* WS-1 needs a scan only once something has failed */
    for (size_t i = 0; i < n; i++) {
        struct io_wsync *r = &reqs[i];
        r->res = 0;
        r->sync_failed = 0;
        if (failed && io_wsync_inherit_failure(reqs, i))
            continue;
        if (r->len > 0) {
            int rc = io_posix_pwrite(io, r->fd, r->buf, r->len, r->off);
            if (rc < 0) {
                /* The write failed: never sync this descriptor now, since
                 * success would vouch for bytes that are not there. */
                r->res = rc;
                failed = 1;
                continue;
            }
        }
        if (r->sync) {
            int rc = io_posix_fdatasync(io, r->fd);
            if (rc < 0) {
                r->res = rc;
                r->sync_failed = 1; /* IO-5: the data may be lost */
                failed = 1;
            }
        }
    }
    return io_wsync_first_failure(reqs, n);
}

int io_posix_syncfs_fd(struct sxp_io *io, int fd)
{
    (void)io;
    return io_posix_sync_call(syncfs, fd);
}

/* fsync(2) (whole_fs 0) or syncfs(2) of the directory at dir. */
static int io_posix_dir_sync(struct sxp_io *io, const char *dir, int whole_fs)
{
    int fd = io_posix_open(io, dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    int rc = io_posix_sync_call(whole_fs ? syncfs : fsync, fd);
    int crc = io_posix_close(io, fd);
    return rc ? rc : crc;
}

int io_posix_fsync_dir(struct sxp_io *io, const char *dir)
{
    /* fsync, not fdatasync: the directory's entries are what must last. */
    return io_posix_dir_sync(io, dir, 0);
}

int io_posix_syncfs(struct sxp_io *io, const char *path)
{
    return io_posix_dir_sync(io, path, 1);
}

int io_posix_boot_id(struct sxp_io *io, char *out, size_t size)
{
    (void)io;
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n;
    do {
        n = read(fd, out, size - 1);
    } while (n < 0 && errno == EINTR);
    int rc = n < 0 ? -errno : 0;
    (void)close(fd);
    if (rc)
        return rc;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        n--;
    out[n] = '\0';
    return n > 0 ? 0 : -ENODATA;
}

int io_posix_mkdir(struct sxp_io *io, const char *path, mode_t mode)
{
    (void)io;
    return mkdir(path, mode) < 0 ? -errno : 0;
}

int io_posix_rename(struct sxp_io *io, const char *from, const char *to)
{
    (void)io;
    return rename(from, to) < 0 ? -errno : 0;
}

int io_posix_rename_exchange(struct sxp_io *io, const char *a, const char *b)
{
    (void)io;
    return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) < 0 ? -errno : 0;
}

int io_posix_still_at(struct sxp_io *io, int fd, const char *path)
{
    struct stat a, b;
    (void)io;
    if (fstat(fd, &a) < 0)
        return -errno;
    if (fstatat(AT_FDCWD, path, &b, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int io_posix_same_fs(struct sxp_io *io, const char *a, const char *b)
{
    struct stat sa, sb;
    (void)io;
    if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
        return -errno;
    return sa.st_dev == sb.st_dev;
}

int io_posix_unlink(struct sxp_io *io, const char *path)
{
    (void)io;
    return unlink(path) < 0 ? -errno : 0;
}

int io_posix_stat(struct sxp_io *io, const char *path, uint64_t *out_size, int *out_is_dir)
{
    (void)io;
    struct stat st;
    /* As io_posix_open: a symbolic link in a file's place is not followed
     * but is a name taken (lost+found/ must not pick a dangling one as
     * free, and overwrite it); one that leads to a directory is followed,
     * as the store's own path may be a link. */
    if (lstat(path, &st) < 0)
        return -errno;
    if (S_ISLNK(st.st_mode)) {
        struct stat target;
        if (stat(path, &target) == 0 && S_ISDIR(target.st_mode))
            st = target;
    }
    if (out_size)
        *out_size = (uint64_t)st.st_size;
    if (out_is_dir)
        *out_is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
    return 0;
}

int io_posix_list_dir(struct sxp_io *io, const char *dir, io_dir_fn fn, void *arg)
{
    (void)io;
    int rc = 0;
    /* Reading a directory sets its access time, and sxp-fsck -n promises to
     * change nothing, not even that (docs/fsck.md); nothing in sxp reads a
     * directory's atime, so every listing goes without it. O_NOATIME needs
     * the owner (or CAP_FOWNER): otherwise list as opendir(3) would. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM)
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        rc = -errno;
        close(fd);
        return rc;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            rc = errno ? -errno : 0;
            break;
        }
        const char *name = e->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        int is_dir;
        if (e->d_type == DT_UNKNOWN) {
            /* Some filesystems leave d_type empty; ask the inode. */
            struct stat st;
            if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                    continue; /* removed since readdir saw it */
                rc = -errno;
                break;
            }
            is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
        } else {
            is_dir = e->d_type == DT_DIR ? 1 : 0;
        }
        rc = fn(arg, name, is_dir);
        if (rc != 0)
            break;
    }
    closedir(d);
    return rc;
}

int io_posix_lock(struct sxp_io *io, int fd)
{
    (void)io;
    int rc;
    do {
        rc = flock(fd, LOCK_EX | LOCK_NB);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return 0;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

void io_posix_fill(struct sxp_io *io)
{
    io->open = io_posix_open;
    io->close = io_posix_close;
    io->pread = io_posix_pread;
    io->pwrite = io_posix_pwrite;
    io->fdatasync = io_posix_fdatasync;
    io->ftruncate = io_posix_ftruncate;
    io->fsize = io_posix_fsize;
    io->write_sync = io_posix_write_sync;
    io->fsync_dir = io_posix_fsync_dir;
    io->syncfs = io_posix_syncfs;
    io->syncfs_fd = io_posix_syncfs_fd;
    io->boot_id = io_posix_boot_id;
    io->mkdir = io_posix_mkdir;
    io->rename = io_posix_rename;
    io->rename_exchange = io_posix_rename_exchange;
    io->unlink = io_posix_unlink;
    io->stat = io_posix_stat;
    io->still_at = io_posix_still_at;
    io->same_fs = io_posix_same_fs;
    io->list_dir = io_posix_list_dir;
    io->lock = io_posix_lock;
}

static void io_sync_destroy(struct sxp_io *io)
{
    free(io);
}

int io_sync_new(struct sxp_io **out)
{
    struct sxp_io *io = calloc(1, sizeof(*io));
    if (!io)
        return -ENOMEM;
    io_posix_fill(io);
    io->name = "sync";
    io->destroy = io_sync_destroy;
    *out = io;
    return 0;
}
