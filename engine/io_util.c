/*
 * io_util.c -- helpers over any struct sxp_io (declared in io.h): reading a
 * small file whole, replacing a file atomically, and the directory of a path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "io.h"

int io_read_file(struct sxp_io *io, const char *path, size_t max_len, char **out, size_t *out_len)
{
    return io_read_file_flags(io, path, 0, max_len, out, out_len);
}

int io_open_read(struct sxp_io *io, const char *path, int flags)
{
    int fd = io->open(io, path, O_RDONLY | flags, 0);
    if (fd == -EPERM && (flags & O_NOATIME))
        fd = io->open(io, path, O_RDONLY | (flags & ~O_NOATIME), 0); /* not the owner */
    return fd;
}

/* io_read_file_flags; with still, 1 (nothing returned) when the file was
 * no longer at path once read. */
static int io_read_file_in(struct sxp_io *io, const char *path, int flags, size_t max_len,
                           int still, char **out, size_t *out_len)
{
    int rc;
    char *data = NULL;
    uint64_t size;
    int fd = io_open_read(io, path, flags);
    if (fd < 0)
        return fd;
    rc = io->fsize(io, fd, &size);
    if (rc < 0)
        goto close_fd;
    if (size > max_len) {
        rc = -E2BIG;
        goto close_fd;
    }
    data = malloc((size_t)size + 1);
    if (!data) {
        rc = -ENOMEM;
        goto close_fd;
    }
    /* A file that shrank since fsize reads short; that is what it holds. */
    ssize_t got = io->pread(io, fd, data, (size_t)size, 0);
    if (got < 0) {
        rc = (int)got;
        goto free_data;
    }
    data[got] = '\0';
    if (still && (rc = io->still_at(io, fd, path)) != 1) {
        rc = rc == 0 ? 1 : rc;
        goto free_data;
    }
    rc = io->close(io, fd);
    fd = -1;
    if (rc < 0)
        goto free_data;
    *out = data;
    *out_len = (size_t)got;
    return 0;

free_data:
    free(data);
close_fd:
    if (fd >= 0) {
        int crc = io->close(io, fd);
        (void)crc; /* the first error is the one to report */
    }
    return rc;
}

int io_read_file_flags(struct sxp_io *io, const char *path, int flags, size_t max_len, char **out,
                       size_t *out_len)
{
    return io_read_file_in(io, path, flags, max_len, 0, out, out_len);
}

int io_syncfs_reaches(struct sxp_io *io, const char *root, const char *dir)
{
    int rc = io->same_fs(io, root, dir);
    return rc == 1 || rc == -ENOENT;
}

int io_read_file_still(struct sxp_io *io, const char *path, int flags, size_t max_len, char **out,
                       size_t *out_len)
{
    for (int tries = 0; tries < IO_READ_STILL_TRIES; tries++) {
        int rc = io_read_file_in(io, path, flags, max_len, 1, out, out_len);
        if (rc != 1)
            return rc;
    }
    return -EAGAIN;
}

int io_write_atomic(struct sxp_io *io, const char *path, const char *tmp_path, const void *bytes,
                    size_t len, int sync)
{
    char dir[PATH_MAX];
    int rc = io_write_replace(io, path, tmp_path, bytes, len, sync, NULL);
    if (rc == 0 && sync) {
        /* The rename lives in the directory: until the directory is synced
         * the new name may vanish at a power loss (IO-4). */
        io_dirname(path, dir, sizeof(dir));
        rc = io->fsync_dir(io, dir);
    }
    return rc;
}

int io_write_replace(struct sxp_io *io, const char *path, const char *tmp_path, const void *bytes,
                     size_t len, int sync, int *made)
{
    int rc;
    int fd = io->open(io, tmp_path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (made)
        *made = fd >= 0;
    if (fd < 0)
        return fd; /* nothing was created */
    rc = io->pwrite(io, fd, bytes, len, 0);
    if (rc < 0)
        goto close_tmp;
    if (sync) {
        /* The data must be durable before the rename: otherwise, after a
         * power loss, path could name a file whose bytes never reached the
         * disk, and the old content would be gone as well. */
        rc = io->fdatasync(io, fd);
        if (rc < 0)
            goto close_tmp;
    }
    rc = io->close(io, fd);
    if (rc < 0)
        goto unlink_tmp; /* the descriptor is gone either way */
    rc = io->rename(io, tmp_path, path);
    if (rc < 0)
        goto unlink_tmp;
    return 0;

close_tmp:
    if (fd >= 0) {
        int crc = io->close(io, fd);
        (void)crc; /* the first error is the one to report */
    }
unlink_tmp:;
    int urc = io->unlink(io, tmp_path);
    (void)urc; /* best effort: the caller gets the error that stopped us */
    return rc;
}

void io_dirname(const char *path, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    size_t len = strlen(path);
    /* Drop trailing slashes, then the last component, then the slashes
     * before it: "/a/b/" -> "/a", "a" -> ".", "/a" -> "/". */
    while (len > 1 && path[len - 1] == '/')
        len--;
    while (len > 0 && path[len - 1] != '/')
        len--;
    if (len == 0) {
        out[0] = out_size > 1 ? '.' : '\0';
        if (out_size > 1)
            out[1] = '\0';
        return;
    }
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len >= out_size)
        len = out_size - 1;
    memcpy(out, path, len);
    out[len] = '\0';
}

int io_all_zero(struct sxp_io *io, int fd, uint64_t off, uint64_t len)
{
    char buf[65536];
    for (uint64_t done = 0; done < len;) {
        size_t want = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
        ssize_t n = io->pread(io, fd, buf, want, off + done);
        if (n <= 0)
            return n < 0 ? (int)n : -EIO;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i])
                return 0;
        done += (uint64_t)n;
    }
    return 1;
}

int io_cut(struct sxp_io *io, int fd, uint64_t len, int sync, int *sync_failed)
{
    int rc = io->ftruncate(io, fd, len), failed = 0;
    if (!rc && sync) {
        rc = io->fdatasync(io, fd);
        failed = rc != 0;
    }
    if (sync_failed)
        *sync_failed = failed;
    return rc;
}

size_t io_fd_share(unsigned divisor, size_t min, size_t max, size_t unknown)
{
    struct rlimit rl;
    size_t n = unknown;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        n = rl.rlim_cur / divisor < max ? (size_t)(rl.rlim_cur / divisor) : max;
    return n < min ? min : n > max ? max : n;
}
