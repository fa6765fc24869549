/*
 * io.h -- the one door to the disk.
 *
 * Engine, recovery and fsck reach the filesystem only through a struct
 * sxp_io, a table of operations in the manner of SQLite's sqlite3_io_methods
 * and LevelDB's Env. Backends:
 *
 *   io_sync.c    plain syscalls (pwrite, fdatasync, rename, ...)
 *   io_uring.c   the same through io_uring (liburing); write+fdatasync
 *                pairs are submitted linked, many files in one submission
 *   fault-injection/io_fault.c  wraps another backend and fails chosen calls
 *   fault-injection/io_sim.c    a simulated disk with a page cache that a
 *                test can "power off"
 *
 * CONTRACT, for every backend:
 *   IO-1  Every function returns 0 (or a count / descriptor >= 0) or a
 *         negative errno. Nothing sets errno for the caller.
 *   IO-2  pwrite writes all len bytes or fails: EINTR and short writes are
 *         handled inside the backend, once.
 *   IO-3  Data written with pwrite is durable after fdatasync on that
 *         descriptor returns 0, and not before.
 *   IO-4  A file's directory entry (creation, rename, unlink) is durable
 *         after fsync_dir of its directory returns 0, and not before.
 *   IO-5  A failed fdatasync means the data may be lost; the caller must not
 *         call it again and treat the data as safe. Reads may go on showing
 *         it (a kernel marks the pages clean after a failed writeback), to
 *         this process and the next ones until a reboot, while no later
 *         fdatasync writes it unless it is written again (recover.c R-6).
 *   IO-6  Paths are full paths as the engine builds them (root + "/" + ...).
 *   IO-7  Descriptors are the backend's own small integers; only the backend
 *         that returned one may be given it.
 *
 * Thread safety: every function may be called from any thread at once,
 * except that calls on one descriptor are not ordered against each other.
 */
#ifndef SXP_IO_H
#define SXP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sxp.h"

/* One write followed by an fdatasync, as submitted by group commit. */
struct io_wsync {
    int fd;          /* descriptor to write and sync */
    const void *buf; /* bytes; owned by the caller until write_sync returns */
    size_t len;      /* may be 0: sync only */
    uint64_t off;    /* file offset of the write */
    int sync;        /* 1: fdatasync after the write; 0: write only */
    int res;         /* OUT: 0, or -errno of the write or of the sync */
    int sync_failed; /* OUT: 1 when the failure was the fdatasync (IO-5) */
};

/* Directory listing callback: return 0 to go on, non-zero to stop (and that
 * value is returned by list_dir). */
typedef int (*io_dir_fn)(void *arg, const char *name, int is_dir);

struct sxp_io {
    const char *name; /* "io_uring", "sync", "sim", "fault" */

    /* open(2) flags; O_CREAT honours mode. Returns a descriptor. */
    int (*open)(struct sxp_io *io, const char *path, int flags, mode_t mode);
    int (*close)(struct sxp_io *io, int fd);
    /* Full read of up to len bytes at off; returns the count (short at EOF). */
    ssize_t (*pread)(struct sxp_io *io, int fd, void *buf, size_t len, uint64_t off);
    /* IO-2: writes all of len or fails. Returns 0. */
    int (*pwrite)(struct sxp_io *io, int fd, const void *buf, size_t len, uint64_t off);
    int (*fdatasync)(struct sxp_io *io, int fd);
    int (*ftruncate)(struct sxp_io *io, int fd, uint64_t len);
    /* The size of a regular file; -EUCLEAN for a FIFO, device or socket
     * (a store holds none: see io_posix_open). */
    int (*fsize)(struct sxp_io *io, int fd, uint64_t *out);
    /* Runs reqs[0..n): each write, then its fdatasync when sync is set.
     * Requests on different descriptors may run in parallel; on one
     * descriptor they run in order, and once one of them fails the later
     * ones on that descriptor are not tried but get the same error (WS-1,
     * io_posix.h), so a sync never covers a hole. Fills each res; returns 0
     * when every request succeeded, else the first failure. */
    int (*write_sync)(struct sxp_io *io, struct io_wsync *reqs, size_t n);

    int (*fsync_dir)(struct sxp_io *io, const char *dir);
    /* syncfs(2) of the filesystem holding path: every file's data and every
     * directory's entries there made durable. For a store an unsynced
     * session wrote (lock.h K-6); never on a hot path. */
    int (*syncfs)(struct sxp_io *io, const char *path);
    /* syncfs(2) through the open descriptor fd, whose filesystem it syncs
     * as syncfs does. The kernel reports to fd every writeback error of the
     * filesystem since fd was opened (errseq), where a descriptor opened
     * for the call misses one that another syncfs has reported already: a
     * store makes it on a descriptor it holds from its open (journal.c
     * J-11). */
    int (*syncfs_fd)(struct sxp_io *io, int fd);
    /* The kernel's boot id (/proc/sys/kernel/random/boot_id), a new one at
     * every boot: a LOCK text carrying it tells whether the page cache that
     * holds a session's unsynced writes is still the same (lock.h K-6).
     * -errno when it cannot be read. Not a disk call. */
    int (*boot_id)(struct sxp_io *io, char *out, size_t size);
    int (*mkdir)(struct sxp_io *io, const char *path, mode_t mode); /* -EEXIST if there */
    int (*rename)(struct sxp_io *io, const char *from, const char *to);
    /* Swaps the two names of one directory at once, as renameat2(2) with
     * RENAME_EXCHANGE: a names what b named and b what a named, and no
     * inode is freed. Durable, as a rename, after fsync_dir (IO-4).
     * -ENOENT when either is missing; -EINVAL (or -ENOSYS, -EXDEV, ...)
     * when the filesystem cannot, and then the caller renames instead. */
    int (*rename_exchange)(struct sxp_io *io, const char *a, const char *b);
    int (*unlink)(struct sxp_io *io, const char *path);
    /* Size of the file at path; -ENOENT if absent. is_dir may be NULL. A
     * symbolic link as the last name is reported as itself (a name taken,
     * not a directory) unless it leads to a directory. */
    int (*stat)(struct sxp_io *io, const char *path, uint64_t *out_size, int *out_is_dir);
    /* 1 when path names the file open as fd, 0 when it names another or
     * nothing, -errno on an error. A reader that takes no lock reads a
     * .seq and then asks, since a syncing writer may exchange that file
     * away and write another stream's mark into it (seqfile.c
     * RECYCLING). A link at path is not followed. */
    int (*still_at)(struct sxp_io *io, int fd, const char *path);
    /* 1 when the directories a and b are on one filesystem (one syncfs
     * writes back both), 0 when not, -errno on an error. Links followed. */
    int (*same_fs)(struct sxp_io *io, const char *a, const char *b);
    /* Calls fn for each entry of dir but "." and "..", in no set order. */
    int (*list_dir)(struct sxp_io *io, const char *dir, io_dir_fn fn, void *arg);
    /* Takes an exclusive advisory lock on the open file fd without waiting:
     * -EAGAIN when another holder has it. */
    int (*lock)(struct sxp_io *io, int fd);

    void (*destroy)(struct sxp_io *io); /* frees the backend; accepts NULL io */
};

/* Plain syscalls. Never fails but for -ENOMEM. */
SXP_MUST_CHECK int io_sync_new(struct sxp_io **out);
/* io_uring with a ring of `entries`; -ENOSYS, -EPERM, ... when the kernel or
 * a seccomp filter forbids it. */
SXP_MUST_CHECK int io_uring_backend_new(unsigned entries, struct sxp_io **out);
/* The calling thread's io-wq worker limits for io's ring (an io_uring
 * backend): out[0] bounded (file I/O, fdatasync), out[1] unbounded. A
 * query; changes nothing. io_uring.c PARALLEL SYNCS; for tests. */
SXP_MUST_CHECK int io_uring_backend_workers(struct sxp_io *io, unsigned out[2]);
/* No notice on stderr when io's ring breaks (io_uring.c A BROKEN RING). */
void io_uring_backend_set_quiet(struct sxp_io *io, int quiet);
/* For tests: each sqe write_sync prepares for io's ring, in order, goes
 * into v (at most cap; *n counts them) until v is NULL again. */
struct io_sqe_note {
    int is_write, is_fsync, linked, datasync, fd;
};
void io_uring_backend_note_sqes(struct sxp_io *io, struct io_sqe_note *v, size_t cap, size_t *n);
/* For tests: the next count submissions to io's ring fail with err
 * (negative) without reaching the kernel; UINT_MAX: all of them. */
void io_uring_backend_fail_submit(struct sxp_io *io, int err, unsigned count);
/* Chooses per kind (and $SXP_IO): io_uring, else plain syscalls with one
 * notice on stderr unless quiet. */
SXP_MUST_CHECK int io_backend_new(enum sxp_io_kind kind, int quiet, struct sxp_io **out,
                                  struct sxp_err *err);

/* Helpers over any backend, in io_util.c. */

/* Reads the whole file at path into a new malloc'd buffer (NUL-terminated
 * for convenience; *out_len excludes it). -ENOENT if absent; -E2BIG if it is
 * larger than max_len. */
SXP_MUST_CHECK int io_read_file(struct sxp_io *io, const char *path, size_t max_len, char **out,
                                size_t *out_len);
/* Opens path O_RDONLY | flags; O_NOATIME is dropped when the file is not
 * ours (EPERM). Returns the descriptor or -errno. */
SXP_MUST_CHECK int io_open_read(struct sxp_io *io, const char *path, int flags);
/* io_read_file, opened with io_open_read(flags). */
SXP_MUST_CHECK int io_read_file_flags(struct sxp_io *io, const char *path, int flags,
                                      size_t max_len, char **out, size_t *out_len);
/* io_read_file_flags for a reader that takes no lock (a read-only open,
 * sxp-fsck --force): a file that was no longer at path once read (a
 * writer exchanged it away and may write into it: seqfile.c RECYCLING)
 * is read again, up to IO_READ_STILL_TRIES times, then -EAGAIN. */
#define IO_READ_STILL_TRIES 16
SXP_MUST_CHECK int io_read_file_still(struct sxp_io *io, const char *path, int flags,
                                      size_t max_len, char **out, size_t *out_len);
/* Atomically replaces path with bytes: write tmp_path, fdatasync, rename,
 * fsync the directory (when sync is set; otherwise write and rename only).
 * tmp_path is removed on failure. */
SXP_MUST_CHECK int io_write_atomic(struct sxp_io *io, const char *path, const char *tmp_path,
                                   const void *bytes, size_t len, int sync);
/* The same but the directory's fsync, which the caller does (the engine's
 * go through store_fsync_dir, ST-7): 0 once path names the new bytes,
 * which readers can then see; on failure path is as it was. *made (when
 * not NULL) is 1 once tmp_path was created: a failure after that removed
 * it, but no directory fsync made the removal durable. */
SXP_MUST_CHECK int io_write_replace(struct sxp_io *io, const char *path, const char *tmp_path,
                                    const void *bytes, size_t len, int sync, int *made);
/* 1 when a syncfs through a file of root writes back the files of dir:
 * they are on one filesystem (io->same_fs), or dir does not exist; 0 when
 * dir is on another (a link, a mount) or that cannot be told. The engine
 * and sxp-fsck then sync each file by itself (journal.c J-11). */
int io_syncfs_reaches(struct sxp_io *io, const char *root, const char *dir);
/* Cuts the file fd to len and, when sync, fdatasyncs the new size (a log
 * or LOCK cut back to its last whole line). 0 or the first error;
 * *sync_failed (may be NULL) is set to 1 when that was the fdatasync's
 * (IO-5), else 0. */
SXP_MUST_CHECK int io_cut(struct sxp_io *io, int fd, uint64_t len, int sync, int *sync_failed);
/* 1 when [off, off + len) of fd holds only NUL bytes (a pre-zeroed or
 * never-written tail), 0 when not, -errno on a read error (-EIO when the
 * file ends before off + len). */
SXP_MUST_CHECK int io_all_zero(struct sxp_io *io, int fd, uint64_t off, uint64_t len);
/* The directory part of path, into out (size PATH_MAX). */
void io_dirname(const char *path, char *out, size_t out_size);
/* How many descriptors one use may hold: the soft RLIMIT_NOFILE divided by
 * divisor, within [min, max]; unknown when there is no finite limit. */
size_t io_fd_share(unsigned divisor, size_t min, size_t max, size_t unknown);

#endif
