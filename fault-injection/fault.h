/*
 * fault.h -- test backends of the I/O table (engine/io.h): a wrapper that
 * fails chosen calls (io_fault.c) and a simulated disk that a test can power
 * off (io_sim.c). Both are for tests and the sxp-crash harness only; the
 * engine never names them.
 *
 * FAULT RULES (io_fault.c). A rule counts the calls whose kind is in its
 * mask, starting from zero when the rule is added, and fails the nth such
 * call with its errno: once, or that call and every later one (persist),
 * as SQLite's `test_syscall fault COUNT PERSIST` does. A rule for pwrite may
 * first write a prefix of the bytes (a short write) and then report its
 * error. A call that a rule fails does not reach the inner backend, except
 * for the prefix of a short write and for close (the descriptor is closed
 * anyway, as close(2) does).
 *
 * write_sync is counted once as IO_FK_WRITE_SYNC and then runs as a pwrite
 * and an fdatasync per request through this wrapper, so pwrite and
 * fdatasync rules and kill points reach the writes of group commit too.
 *
 * KILL POINTS. SXP_KILL_AT="<kind>:<N>[:after]" makes the wrapper send
 * itself SIGKILL just before (default) or just after the Nth call of that
 * kind, counted from when the wrapper is made. Kinds: write (pwrite, each
 * write of write_sync), sync (fdatasync, each sync of write_sync, syncfs_fd), rename,
 * dirsync (fsync_dir), unlink, truncate (ftruncate), create (open with
 * O_CREAT, mkdir), any (any of those: every call that changes the disk).
 */
#ifndef SXP_FAULT_H
#define SXP_FAULT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io.h"

/* The kinds of call, one per function of struct sxp_io. */
enum io_fault_kind {
    IO_FK_OPEN,
    IO_FK_CLOSE,
    IO_FK_PREAD,
    IO_FK_PWRITE,
    IO_FK_FDATASYNC,
    IO_FK_FTRUNCATE,
    IO_FK_FSIZE,
    IO_FK_WRITE_SYNC,
    IO_FK_FSYNC_DIR,
    IO_FK_MKDIR,
    IO_FK_RENAME,
    IO_FK_UNLINK,
    IO_FK_STAT,
    IO_FK_LIST_DIR,
    IO_FK_LOCK,
    IO_FK_SYNCFS, /* syncfs_fd; a syncfs by path counts as an IO_FK_FSYNC_DIR */
    IO_FK_COUNT
};

#define IO_FAULT_BIT(k) (1u << (k))
#define IO_FAULT_ALL ((1u << IO_FK_COUNT) - 1u)
/* The calls that can change what is on disk (open may create a file). */
#define IO_FAULT_MUTATING                                                                          \
    (IO_FAULT_BIT(IO_FK_OPEN) | IO_FAULT_BIT(IO_FK_PWRITE) | IO_FAULT_BIT(IO_FK_FDATASYNC) |       \
     IO_FAULT_BIT(IO_FK_FTRUNCATE) | IO_FAULT_BIT(IO_FK_WRITE_SYNC) |                              \
     IO_FAULT_BIT(IO_FK_FSYNC_DIR) | IO_FAULT_BIT(IO_FK_MKDIR) | IO_FAULT_BIT(IO_FK_RENAME) |      \
     IO_FAULT_BIT(IO_FK_UNLINK) | IO_FAULT_BIT(IO_FK_SYNCFS))

/* A short name for a kind: "open", "pwrite", "fdatasync", ... */
const char *io_fault_kind_name(enum io_fault_kind k);
/* The kind named s (as io_fault_kind_name writes it), or -EINVAL. */
int io_fault_kind_parse(const char *s);

struct io_fault_rule {
    unsigned kinds;   /* IO_FAULT_BIT mask of the kinds this rule counts */
    uint64_t nth;     /* fail the nth counted call, from 1 */
    int err;          /* negative errno the failed call returns */
    int persist;      /* 1: fail the nth call and every later counted one */
    int short_write;  /* 1: a failed pwrite first writes short_len bytes */
    size_t short_len; /* bytes of a short write (capped at len - 1) */
};

#define IO_FAULT_MAX_RULES 8

/* Wraps inner, which must outlive the wrapper unless io_fault_own_inner is
 * called. With no rule set the wrapper only counts. -ENOMEM. */
SXP_MUST_CHECK int io_fault_new(struct sxp_io *inner, struct sxp_io **out);
/* The wrapper's destroy also destroys inner. */
void io_fault_own_inner(struct sxp_io *io);
/* Adds a rule; its count starts now. -ENOSPC past IO_FAULT_MAX_RULES,
 * -EINVAL for a rule with no kind, nth 0 or err >= 0. */
SXP_MUST_CHECK int io_fault_add_rule(struct sxp_io *io, const struct io_fault_rule *r);
/* Shorthand: fail the nth call of kind k (IO_FK_COUNT: of any kind) with err. */
SXP_MUST_CHECK int io_fault_fail_nth(struct sxp_io *io, enum io_fault_kind k, uint64_t nth, int err,
                                     int persist);
/* Removes every rule (kill points and drops stay). */
void io_fault_clear(struct sxp_io *io);
/* Calls of the kinds in mask since the wrapper was made (or reset). */
uint64_t io_fault_calls(struct sxp_io *io, unsigned mask);
/* Calls that a rule failed so far. */
uint64_t io_fault_injected(struct sxp_io *io);
/* The kind of the last call a rule failed and its path (for a call on a
 * descriptor: the path the descriptor was opened with, or ""). -ENOENT
 * when no call failed yet. */
int io_fault_last_injected(struct sxp_io *io, enum io_fault_kind *out_kind, char *out_path,
                           size_t size);
void io_fault_reset_counts(struct sxp_io *io);
/* Makes every call of the kinds in mask return 0 without reaching the inner
 * backend: a deliberately broken backend (e.g. one that pretends to sync a
 * directory) for tests that must see the harness catch it. 0: none. */
void io_fault_set_drop(struct sxp_io *io, unsigned mask);
/* Like io_fault_set_drop, but only the calls whose path (for a call on a
 * descriptor: the path it was opened with) ends in suffix, so that one
 * sync the engine depends on can be taken away at a time. A suffix that
 * ends in '/' names a directory: the calls on what is directly in it
 * ("/lost+found/": its MANIFEST and items, not the directory itself). NULL
 * or "": every call of the kinds in mask. */
void io_fault_set_drop_path(struct sxp_io *io, unsigned mask, const char *suffix);

/* Prints every call (kind, path or descriptor, result) to out; NULL stops. */
void io_fault_set_trace(struct sxp_io *io, FILE *out);

/* Called around every call: when 0 just before it is passed on (after its
 * kind was counted), when 1 just after it returned with res. n is the
 * number of calls that change the disk so far, this one included (the kill
 * kind "any"), or 0 when this call changes nothing. path is the call's
 * path, or the path its descriptor was opened with ("" if unknown). A hook
 * may power off a simulated disk. */
typedef void (*io_fault_hook_fn)(void *arg, enum io_fault_kind kind, int when, uint64_t n,
                                 const char *path, int res);
void io_fault_set_hook(struct sxp_io *io, io_fault_hook_fn fn, void *arg);

/* A kill point as SXP_KILL_AT spells it. */
enum io_kill_kind {
    IO_KILL_WRITE,
    IO_KILL_SYNC,
    IO_KILL_RENAME,
    IO_KILL_DIRSYNC,
    IO_KILL_UNLINK,
    IO_KILL_TRUNCATE,
    IO_KILL_CREATE,
    IO_KILL_ANY,
    IO_KILL_COUNT
};
struct io_kill_point {
    enum io_kill_kind kind;
    uint64_t nth; /* from 1 */
    int after;    /* 1: kill after the call returned, 0: before it runs */
};
const char *io_kill_kind_name(enum io_kill_kind k);
/* Parses "<kind>:<N>[:after]". -EINVAL on anything else. */
SXP_MUST_CHECK int io_kill_parse(const char *spec, struct io_kill_point *out);
/* Arms a kill point (NULL disarms). The process gets SIGKILL there. */
void io_fault_set_kill(struct sxp_io *io, const struct io_kill_point *kp);
/* Arms the kill point named by $SXP_KILL_AT: 1 when armed, 0 when the
 * variable is unset or empty, -EINVAL when it does not parse. */
SXP_MUST_CHECK int io_fault_kill_from_env(struct sxp_io *io);
/* Calls of a kill kind counted so far (for a test of the counting). */
uint64_t io_fault_kill_count(struct sxp_io *io, enum io_kill_kind k);

/* ---- the simulated disk (io_sim.c; its model is written at the top) ----- */

/* What a power loss keeps of the data and directory entries that were not
 * yet made durable. */
enum io_sim_mode {
    IO_SIM_LOSE_ALL, /* every unsynced write and directory entry is lost */
    IO_SIM_KEEP_ALL, /* everything in the page cache reached the disk */
    IO_SIM_TORN,     /* each file keeps a prefix of its unsynced writes torn
                        at a random byte; directory entries survive at random */
    IO_SIM_SECTORS,  /* each file keeps a random subset of its unsynced
                        512-byte sectors, lost ones read as NUL past the old
                        end; directory entries survive at random */
    IO_SIM_RANDOM,   /* per file one of the four outcomes above, by seed */
    IO_SIM_MODE_COUNT
};
const char *io_sim_mode_name(enum io_sim_mode m);

#define IO_SIM_SECTOR 512
/* The page of the page cache: a failed fdatasync drops, and a later write
 * dirties again, whole pages (a failed file fdatasync, at the top of io_sim.c). */
#define IO_SIM_PAGE 4096

/* What a failed sync did with what the disk had pending (the model at the
 * top of io_sim.c): a directory fsync with the directory's entries
 * (io_sim_dir_sync_failed), a file fdatasync with the file's writes
 * (io_sim_file_sync_failed), a syncfs with every file's writes
 * (io_sim_fs_sync_failed). */
enum io_sim_syncfail {
    IO_SIM_SYNCFAIL_KEEP,    /* still pending: a later sync or a power loss
                                may yet make them durable */
    IO_SIM_SYNCFAIL_DROP,    /* dropped: seen until a power loss, which takes
                                them; no later sync makes them durable. A
                                file's: reads still see them, the pages a
                                later write dirties again are written whole,
                                truncates and sizes stay pending */
    IO_SIM_SYNCFAIL_PARTIAL, /* each entry, or each page piece of each write,
                                made durable before the error, or dropped; a
                                file's sizes and truncates made durable with
                                them */
    IO_SIM_SYNCFAIL_RANDOM,  /* one of the three above, by seed */
    IO_SIM_SYNCFAIL_COUNT
};
const char *io_sim_syncfail_name(enum io_sim_syncfail f);

/* A new empty disk with only "/" (the io table's destroy frees it). */
SXP_MUST_CHECK int io_sim_new(struct sxp_io **out);
/* Creates the directory path and its parents, durably (test setup). */
SXP_MUST_CHECK int io_sim_mkdirs(struct sxp_io *sim, const char *path);
/* Power loss now: the disk keeps what mode and seed choose of what was not
 * durable (see the model), every descriptor and lock is gone, and every
 * later call fails with -EIO until io_sim_restart. */
void io_sim_crash(struct sxp_io *sim, uint64_t seed, enum io_sim_mode mode);
/* The process using the disk dies (kill -9), the machine does not: every
 * descriptor and lock is gone and every call fails with -EIO until
 * io_sim_restart, but the page cache (what is not yet durable) stays, and
 * a later io_sim_crash may still lose it. */
void io_sim_kill(struct sxp_io *sim);
/* Powers the disk on again after io_sim_crash or io_sim_kill: a fresh
 * boot (or a fresh process) on the surviving state. */
void io_sim_restart(struct sxp_io *sim);
/* 1 between io_sim_crash and io_sim_restart. */
int io_sim_is_off(struct sxp_io *sim);
/* An fsync of the directory dir failed without reaching the disk (an
 * io_fault rule failed it): dir's pending entries take the outcome how
 * (RANDOM: chosen by seed). Returns the outcome taken, or -EIO while the
 * disk is off, -ENOENT or -ENOTDIR for a bad dir. */
SXP_MUST_CHECK int io_sim_dir_sync_failed(struct sxp_io *sim, const char *dir,
                                          enum io_sim_syncfail how, uint64_t seed);
/* An fdatasync of the file path failed without reaching the disk (an
 * io_fault rule failed it): the file's pending writes take the outcome how
 * (RANDOM: chosen by seed). Returns the outcome taken, or -EIO while the
 * disk is off, -ENOENT or -EISDIR for a bad path. */
SXP_MUST_CHECK int io_sim_file_sync_failed(struct sxp_io *sim, const char *path,
                                           enum io_sim_syncfail how, uint64_t seed);
/* A syncfs of the filesystem holding path failed without reaching the disk
 * (an io_fault rule failed it; io_fault counts a syncfs as an fsync_dir):
 * every file's pending writes take the outcome how, one for all of them
 * (RANDOM: chosen by seed), as io_sim_file_sync_failed gives it; directory
 * entries stay pending. Returns the outcome taken, or -EIO while the disk
 * is off, -ENOENT or -ENOTDIR for a bad path. */
SXP_MUST_CHECK int io_sim_fs_sync_failed(struct sxp_io *sim, const char *path,
                                         enum io_sim_syncfail how, uint64_t seed);
/* Makes everything durable, as a clean shutdown would (tests): every
 * pending write and directory entry, not the pages a failed fdatasync
 * dropped. */
void io_sim_sync_all(struct sxp_io *sim);
/* A copy of the whole disk, durable and pending state alike, without its
 * descriptors (it is powered off when sim is). The copy is destroyed
 * through its own table. */
SXP_MUST_CHECK int io_sim_clone(struct sxp_io *sim, struct sxp_io **out);
/* Descriptors open now. */
unsigned io_sim_open_fds(struct sxp_io *sim);
/* A digest of the whole disk: every name, the bytes reads see and the
 * durable ones, and every pending write and directory change (not the
 * descriptors and locks). Equal digests: nothing was written, renamed,
 * made durable or queued in between. */
uint64_t io_sim_digest(struct sxp_io *sim);
/* Copies the tree under sim_dir, as a reader sees it now, into real_dir
 * on the real filesystem (created if needed; files there are replaced), so
 * that sxp-fsck can check it. */
SXP_MUST_CHECK int io_sim_export(struct sxp_io *sim, const char *sim_dir, const char *real_dir);

#endif
