/*
 * io_posix.h -- the plain-syscall operations of struct sxp_io, shared by the
 * backends. io_sync.c implements them; io_uring.c takes the ones it does not
 * send through the ring (open, close, pread, ftruncate, fsize, fsync_dir,
 * mkdir, rename, unlink, stat, list_dir, lock) from here, so each syscall
 * loop is written once.
 *
 * Each function has the signature of its slot in struct sxp_io, keeps the
 * contract IO-1..IO-7 of io.h and ignores its io argument, so it may also be
 * called with io NULL on a real file descriptor.
 */
#ifndef SXP_IO_POSIX_H
#define SXP_IO_POSIX_H

#include "io.h"

/* Adds O_CLOEXEC to flags, so no descriptor leaks into a child process. */
int io_posix_open(struct sxp_io *io, const char *path, int flags, mode_t mode);
/* An EINTR from close(2) counts as success: Linux has freed the descriptor. */
int io_posix_close(struct sxp_io *io, int fd);
ssize_t io_posix_pread(struct sxp_io *io, int fd, void *buf, size_t len, uint64_t off);
int io_posix_pwrite(struct sxp_io *io, int fd, const void *buf, size_t len, uint64_t off);
int io_posix_fdatasync(struct sxp_io *io, int fd);
int io_posix_ftruncate(struct sxp_io *io, int fd, uint64_t len);
int io_posix_fsize(struct sxp_io *io, int fd, uint64_t *out);
int io_posix_write_sync(struct sxp_io *io, struct io_wsync *reqs, size_t n);
int io_posix_fsync_dir(struct sxp_io *io, const char *dir);
int io_posix_syncfs(struct sxp_io *io, const char *path);
int io_posix_syncfs_fd(struct sxp_io *io, int fd);
int io_posix_boot_id(struct sxp_io *io, char *out, size_t size);
int io_posix_mkdir(struct sxp_io *io, const char *path, mode_t mode);
int io_posix_rename(struct sxp_io *io, const char *from, const char *to);
int io_posix_rename_exchange(struct sxp_io *io, const char *a, const char *b);
int io_posix_unlink(struct sxp_io *io, const char *path);
int io_posix_stat(struct sxp_io *io, const char *path, uint64_t *out_size, int *out_is_dir);
int io_posix_still_at(struct sxp_io *io, int fd, const char *path);
int io_posix_same_fs(struct sxp_io *io, const char *a, const char *b);
int io_posix_list_dir(struct sxp_io *io, const char *dir, io_dir_fn fn, void *arg);
int io_posix_lock(struct sxp_io *io, int fd);

/* Fills every slot of io with the io_posix_* functions; name and destroy
 * are left for the backend to set. */
void io_posix_fill(struct sxp_io *io);

/*
 * WS-1  A write_sync request whose descriptor already failed earlier in the
 *       same call is not attempted: it gets the earlier request's res and
 *       sync_failed. Writing or syncing later bytes of a file whose earlier
 *       write was lost would make a hole durable, and a second fdatasync
 *       after a failed one would report success for data that may be gone
 *       (IO-5).
 *
 * Applies WS-1 to reqs[i], looking at reqs[0..i) (whose res are final):
 * returns 1 when it filled reqs[i] from an earlier failure, else 0.
 */
int io_wsync_inherit_failure(struct io_wsync *reqs, size_t i);
/* The first non-zero res of reqs[0..n), or 0. */
int io_wsync_first_failure(const struct io_wsync *reqs, size_t n);

#endif
