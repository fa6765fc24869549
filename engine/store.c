/*
 * store.c -- opening and closing a store.
 *
 * OPEN (read-write):
 *   0. refuse a ROOT that is not a store (STORE OR NOT, below), so that a
 *      mistyped --dir never scatters FORMAT, LOCK and folders among
 *      somebody's files;
 *   1. create ROOT (and missing parents), take the LOCK (lock.h);
 *   2. create streams/, kv/, blobs/ if missing, and fsync ROOT so they stay;
 *   3. unless LOCK read "clean\n" (K-1), run recovery (recovery/recover.c):
 *      afterwards every log ends in a whole line and every .seq is at least
 *      its log's max seq, so streams.c can trust .seq files and log sizes
 *      and open reads no log data;
 *   4. write "pid N\n" to LOCK durably (K-2), and FORMAT if missing.
 * A read-only open takes no lock, runs no recovery and writes nothing; the
 * store must exist.
 *
 * STORE OR NOT. A directory is a store when it holds any of FORMAT, LOCK,
 * streams/, kv/ and blobs/ (a store the reference wrote has its folders and
 * no FORMAT), or nothing but lost+found/ (a new filesystem's root): a store
 * nothing was written to yet. A directory that holds anything else is not a
 * store, and neither the engine nor sxp-fsck (fsck/check_tree.c) writes in
 * it. A ROOT that does not exist is created.
 *
 * A STORE WITHOUT FORMAT. The reference writes no FORMAT and no LOCK, and
 * never syncs: it writes a stream's .seq before its line, by a rename, and
 * a crash of it can leave a mark above a torn or missing line, or after a
 * power loss an empty .seq. Such a store (store_legacy: FORMAT missing,
 * streams/, kv/ or blobs/ present) is opened as after an unsynced session
 * that did not close cleanly (lock.h K-6, recovery/recover.c R-7): settled
 * by one syncfs, every log read whole (a dirty list in LOCK, of an sxp
 * session that did not get to write FORMAT, names only what that session
 * wrote), its marks proving nothing. Its first open then writes FORMAT
 * (step 4), once, so only that open pays.
 * sxp-fsck judges it the same way.
 *
 * CLOSE: wait for group commit to drain, write every .seq that lags its
 * stream (temp files synced, in every mode: ST-5; renames; an fsync of
 * streams/), then write "clean\n" to LOCK (K-3), unless a write failed this
 * session (a dead stream, a failed atomic write, a fenced folder:
 * store_left_residue), in which case the store stays unclean and the next
 * open recovers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "err.h"
#include "journal.h"
#include "lock.h"
#include "recover.h"
#include "revive.h"
#include "store.h"
#include "store_int.h"

void sxp_options_init(struct sxp_options *o)
{
    memset(o, 0, sizeof(*o));
    o->sync = SXP_SYNC_ALWAYS;
    o->io = SXP_IO_AUTO;
}

int store_check_writable(const sxp_store *s, struct sxp_err *err)
{
    if (s->lock_fd < 0)
        return err_set(err, -EROFS, "store %s is open read-only", s->root);
    return 0;
}

int store_check_fence(const struct store_dir *d, struct sxp_err *err)
{
    int fence = __atomic_load_n(&d->fenced, __ATOMIC_ACQUIRE);
    if (!fence)
        return 0;
    return err_set(err, fence,
                   "%s refuses access after a failed directory fsync (%s) until the store is "
                   "reopened",
                   d->path, strerror(-fence));
}

void store_note_residue(sxp_store *s)
{
    __atomic_store_n(&s->residue, 1, __ATOMIC_RELEASE);
}

int store_write_replace(sxp_store *s, const char *path, const char *tmp, const void *bytes,
                        size_t len, int sync)
{
    int made = 0;
    int rc = io_write_replace(s->io, path, tmp, bytes, len, sync, &made);
    if (rc && made)
        store_note_residue(s); /* K-3: the temp file's removal is not durable */
    return rc;
}

/* K-3: what a failed write of this session may have left for recovery: a
 * temp file (or its removal) never made durable, which a power loss
 * brings back; a folder fenced by a failed directory fsync (ST-7), whose
 * entries are unknown. A clean mark would make the next open skip the
 * recovery that removes them, and leave them to sxp-fsck. */
static int store_left_residue(sxp_store *s)
{
    return __atomic_load_n(&s->residue, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&s->kv_d.fenced, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&s->blobs_d.fenced, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&s->streams_d.fenced, __ATOMIC_ACQUIRE);
}

int store_fsync_dir(sxp_store *s, struct store_dir *d, uint64_t mark)
{
    if (s->opt.sync != SXP_SYNC_ALWAYS)
        return 0;
    pthread_mutex_lock(&d->mu);
    int rc;
    if (__atomic_load_n(&d->fails, __ATOMIC_ACQUIRE) != mark) {
        rc = __atomic_load_n(&d->fenced, __ATOMIC_ACQUIRE); /* ST-7: the entry may be gone */
    } else {
        rc = s->io->fsync_dir(s->io, d->path);
        if (rc) {
            if (!__atomic_load_n(&d->fenced, __ATOMIC_ACQUIRE))
                __atomic_store_n(&d->fenced, rc, __ATOMIC_RELEASE);
            __atomic_add_fetch(&d->fails, 1, __ATOMIC_ACQ_REL);
        }
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static void store_dir_init(struct store_dir *d, const char *path)
{
    pthread_mutex_init(&d->mu, NULL);
    d->path = path;
}

static unsigned store_default_max_fds(void)
{
    return (unsigned)io_fd_share(2, 16, 4096, 512);
}

/* mkdir that is fine with an existing directory; *created set when made. */
static int store_mkdir(struct sxp_io *io, const char *path, int *created)
{
    int rc = io->mkdir(io, path, 0755);
    if (rc == 0) {
        *created = 1;
        return 0;
    }
    if (rc != -EEXIST)
        return rc;
    int is_dir = 0;
    rc = io->stat(io, path, NULL, &is_dir);
    if (rc)
        return rc;
    return is_dir ? 0 : -ENOTDIR;
}

/* Creates root and any missing parents, fsyncing each parent that gained
 * an entry. */
static int store_make_root(struct sxp_io *io, const char *root, int sync)
{
    char path[PATH_MAX], parent[PATH_MAX];
    size_t len = strlen(root);
    if (len >= sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, root, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char save = path[i];
        path[i] = '\0';
        int created = 0;
        int rc = store_mkdir(io, path, &created);
        if (rc)
            return rc;
        if (created && sync) {
            io_dirname(path, parent, sizeof(parent));
            rc = io->fsync_dir(io, parent);
            if (rc)
                return rc;
        }
        path[i] = save;
    }
    return 0;
}

/* list_dir callback: any entry but lost+found/ makes the directory not
 * empty. */
static int store_probe_entry(void *arg, const char *name, int is_dir)
{
    (void)arg;
    return is_dir && strcmp(name, "lost+found") == 0 ? 0 : 1;
}

int store_probe(struct sxp_io *io, const char *root)
{
    static const char *const marks[] = {"FORMAT", "LOCK", "streams", "kv", "blobs"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        int rc = layout_path(root, marks[i], path);
        if (rc)
            return rc;
        /* Anything but "absent" (EACCES, a dangling link...) counts as a
         * mark: what it is, the open or the checks find out. */
        if (io->stat(io, path, NULL, NULL) != -ENOENT)
            return 0;
    }
    int rc = io->list_dir(io, root, store_probe_entry, NULL);
    return rc > 0 ? -ENOTEMPTY : rc;
}

int store_legacy(struct sxp_io *io, const char *root)
{
    static const char *const dirs[] = {"streams", "kv", "blobs"};
    char path[PATH_MAX];
    if (layout_path(root, "FORMAT", path) || io->stat(io, path, NULL, NULL) != -ENOENT)
        return 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        if (layout_path(root, dirs[i], path) == 0 && io->stat(io, path, NULL, NULL) != -ENOENT)
            return 1;
    }
    return 0;
}

static int store_check_format(sxp_store *s, struct sxp_err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    int rc = layout_path(s->root, "FORMAT", path);
    if (rc)
        return err_set(err, rc, "store path too long");
    rc = io_read_file(s->io, path, 64, &text, &len);
    if (rc == 0) {
        int version = layout_format_version(text, len);
        free(text);
        if (!version)
            return err_set(err, -EUCLEAN,
                           "%s: not a store format this sxp reads (want \"sxp 2\" or \"sxp 1\")",
                           path);
        if (version == 2 || s->lock_fd < 0)
            return 0;
        /* layout.h FORMAT VERSIONS: "sxp 2" before a version 2 journal. */
    } else if (rc != -ENOENT && rc != -E2BIG) {
        return err_set(err, rc, "read %s: %s", path, strerror(-rc));
    } else if (rc == -E2BIG) {
        return err_set(err, -EUCLEAN, "%s: not a store format this sxp reads", path);
    } else if (s->lock_fd < 0) {
        return 0; /* a legacy store, read-only */
    }
    rc = layout_tmp_path(s->root, tmp);
    if (!rc)
        rc = io_write_atomic(s->io, path, tmp, LAYOUT_FORMAT_TEXT, strlen(LAYOUT_FORMAT_TEXT),
                             s->opt.sync == SXP_SYNC_ALWAYS);
    if (rc)
        return err_set(err, rc, "write %s: %s", path, strerror(-rc));
    return 0;
}

/* A directory that holds files but none of a store's is refused by every
 * open, read-only too (a mistyped --dir must not read as an empty store).
 * Any other failure of the probe (ENOENT above all) is the next step's to
 * report: 0. */
static int store_refuse_foreign(sxp_store *s, struct sxp_err *err)
{
    int rc = store_probe(s->io, s->root);
    if (rc == -ENOTEMPTY)
        return err_setk(err, rc, "notstore",
                        "%s is not a store: it holds files but no FORMAT, LOCK, streams/, kv/ or "
                        "blobs/ (give a new or empty directory)",
                        s->root);
    return 0;
}

static int store_open_rw(sxp_store *s, struct sxp_err *err)
{
    int sync = s->opt.sync == SXP_SYNC_ALWAYS;
    int lstate = 0, created = 0;
    int rc = store_refuse_foreign(s, err);
    if (rc)
        return rc;
    rc = store_make_root(s->io, s->root, sync);
    if (rc)
        return err_set(err, rc, "create %s: %s", s->root, strerror(-rc));
    rc = lock_acquire(s->io, s->root, &s->lock_fd, &lstate, err);
    if (rc)
        return rc;
    int clean = (lstate & LOCK_CLEAN) != 0;
    int legacy = !clean && store_legacy(s->io, s->root);
    if (legacy)
        lstate = (lstate | LOCK_UNSYNCED) & ~LOCK_THIS_BOOT; /* A STORE WITHOUT FORMAT */
    if ((lstate & LOCK_UNSYNCED) && sync) {
        /* K-6: what the unsynced session wrote, durable before any of our
         * directory fsyncs can vouch for its names. */
        rc = lock_settle(s->io, s->root, s->lock_fd, err);
        if (rc)
            return rc;
    }
    const char *dirs[] = {s->streams_dir, s->kv_dir, s->blobs_dir};
    int new_store = 0; /* streams/ made now: no log for recovery to look at */
    for (size_t i = 0; i < 3; i++) {
        rc = store_mkdir(s->io, dirs[i], &created);
        if (rc)
            return err_set(err, rc, "create %s: %s", dirs[i], strerror(-rc));
        if (i == 0)
            new_store = created;
    }
    /* J-11: a syncfs through a file of the root (JOURNAL, LOCK) writes
     * back the root's filesystem only. With streams/ on another (a link,
     * a mount), each log and .seq file is synced by itself, as under
     * sync_each_log, and recovery's R-8 too. */
    if (s->j_syncfs_logs != SIZE_MAX && !io_syncfs_reaches(s->io, s->root, s->streams_dir)) {
        s->j_syncfs_logs = SIZE_MAX;
        if (!s->opt.quiet)
            fprintf(stderr,
                    "sxp: %s is not on the filesystem of %s (or that cannot be told): each "
                    "file is synced by itself, never the filesystem at once\n",
                    s->streams_dir, s->root);
    }
    if ((created || !clean) && sync) {
        rc = s->io->fsync_dir(s->io, s->root);
        if (rc)
            return err_set(err, rc, "fsync %s: %s", s->root, strerror(-rc));
    }
    if (!clean && sync) {
        char parent[PATH_MAX];
        io_dirname(s->root, parent, sizeof(parent));
        const char *all[] = {parent, s->streams_dir, s->kv_dir, s->blobs_dir};
        for (size_t i = 0; i < 4; i++) {
            rc = s->io->fsync_dir(s->io, all[i]);
            if (rc)
                return err_set(err, rc, "fsync %s: %s", all[i], strerror(-rc));
        }
    }
    if (!clean) {
        struct recover_report rep;
        struct lock_dirty dirty;
        memset(&rep, 0, sizeof(rep));
        rc = lock_read_dirty(s->io, s->lock_fd, &dirty);
        if (rc < 0)
            return err_set(err, rc, "read %s/LOCK: %s", s->root, strerror(-rc));
        /* Recovery's own writes are durable in every mode: what it
         * writes back (JOURNAL's records, R-0), rolls forward (.seq) and
         * cuts stands for what a crashed session, syncing or not, made
         * durable, and an open under SXP_SYNC_NONE must not trade that for
         * pages a power loss may drop. It costs syncs at an open after a
         * crash only. */
        /* R-7 after an unsynced session, unless it ran in this boot (K-8:
         * killed, its bytes all in the page cache, its dirty list too). */
        struct recover_args ra = {.sync = 1,
                                  /* a list names what sxp wrote, not what
                                   * the reference did: every log is read */
                                  .only = rc && !legacy ? &dirty : NULL,
                                  .lock_fd = s->lock_fd,
                                  .unsynced = lock_after_unsynced(lstate),
                                  .syncfs_logs = s->j_syncfs_logs};
        rc = recover_store_only(s->io, s->root, &ra, &rep, err);
        if (rc)
            return rc;
        s->rec_logs_scanned = rep.logs_scanned;
        s->rec_logs_skipped = rep.logs_skipped;
        /* A store this open made has nothing a crash left: not reported
         * as recovered (its recovery only tidied an empty tree). */
        s->recovered = !new_store;
        s->rec_tails_cut = rep.tails_cut;
        s->rec_tails_saved = rep.tails_saved;
        s->rec_bytes_cut = rep.bytes_cut;
        s->rec_hw_rolled = rep.hw_rolled;
        s->rec_seq_created = rep.seq_created;
        s->rec_tmp_removed = rep.tmp_removed;
        s->rec_unborn = rep.unborn_removed;
        if (!s->opt.quiet && (rep.tmp_removed || rep.tails_cut || rep.hw_rolled ||
                              rep.seq_created || rep.journal_records || rep.unborn_removed))
            fprintf(stderr,
                    "sxp: recovered %s: %u journal record%s written back (%llu bytes), %u torn "
                    "tail%s cut (%llu bytes), %u high-water mark%s rolled forward, %u .seq "
                    "file%s recreated, %u temp file%s removed, %u empty log%s of streams never "
                    "appended to removed\n",
                    s->root, rep.journal_records, rep.journal_records == 1 ? "" : "s",
                    (unsigned long long)rep.journal_bytes, rep.tails_cut,
                    rep.tails_cut == 1 ? "" : "s", (unsigned long long)rep.bytes_cut, rep.hw_rolled,
                    rep.hw_rolled == 1 ? "" : "s", rep.seq_created, rep.seq_created == 1 ? "" : "s",
                    rep.tmp_removed, rep.tmp_removed == 1 ? "" : "s", rep.unborn_removed,
                    rep.unborn_removed == 1 ? "" : "s");
        if (!s->opt.quiet && rep.tails_saved)
            fprintf(stderr,
                    "sxp: %u of the torn tails held whole lines after a damaged one, or bytes the "
                    "high-water mark says may have been acknowledged: copied to "
                    "%s/lost+found/ (see its MANIFEST) before the cut\n",
                    rep.tails_saved, s->root);
    }
    rc = lock_mark_open(s->io, s->lock_fd, sync, &s->lock_off, &s->lock_alloc);
    if (rc)
        return err_set(err, rc, "write %s/LOCK: %s", s->root, strerror(-rc));
    rc = store_check_format(s, err);
    if (!rc)
        rc = journal_start(s, err);
    return rc;
}

static void store_free(sxp_store *s)
{
    if (!s)
        return;
    streams_free_all(s);
    journal_free(s);
    if (s->lock_fd >= 0)
        (void)s->io->close(s->io, s->lock_fd);
    if (s->own_io && s->io)
        s->io->destroy(s->io);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->lock_mu);
    pthread_mutex_destroy(&s->kv_d.mu);
    pthread_mutex_destroy(&s->blobs_d.mu);
    pthread_mutex_destroy(&s->streams_d.mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

const char *sxp_store_resolve_dir(const char *dir)
{
    if (!dir || !*dir)
        dir = getenv("SX_PERSIST_DIR");
    return dir && *dir ? dir : "persist-data";
}

/* A sync mode the header does not define is refused, never read as
 * another: the engine syncs only where the mode is SXP_SYNC_ALWAYS, so any
 * other value would acknowledge every operation without an fdatasync. */
static int store_check_options(const struct sxp_options *o, struct sxp_err *err)
{
    if (o && o->sync != SXP_SYNC_ALWAYS && o->sync != SXP_SYNC_NONE)
        return err_set(err, -EINVAL, "unknown sync mode %d (SXP_SYNC_ALWAYS or SXP_SYNC_NONE)",
                       (int)o->sync);
    return 0;
}

/* store_set_open_syncfs's bound for the stores opened next. */
static size_t store_open_syncfs = JOURNAL_SYNCFS_LOGS;

int store_open_io(const char *dir, const struct sxp_options *o, struct sxp_io *io, int own_io,
                  sxp_store **out, struct sxp_err *err)
{
    int rc;
    *out = NULL;
    err_clear(err);
    rc = store_check_options(o, err);
    if (rc) {
        if (own_io)
            io->destroy(io);
        return rc;
    }
    dir = sxp_store_resolve_dir(dir);
    sxp_store *s = calloc(1, sizeof(*s));
    if (!s) {
        if (own_io)
            io->destroy(io);
        return err_set(err, -ENOMEM, "out of memory");
    }
    s->io = io;
    s->own_io = own_io;
    s->lock_fd = -1;
    s->j_fd = -1;
    s->j_ckpt_logs = JOURNAL_CKPT_LOGS;
    s->j_syncfs_logs = __atomic_load_n(&store_open_syncfs, __ATOMIC_RELAXED);
    s->zero_after = COMMIT_ZERO_AFTER;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->lock_mu, NULL);
    store_dir_init(&s->kv_d, s->kv_dir);
    store_dir_init(&s->blobs_d, s->blobs_dir);
    store_dir_init(&s->streams_d, s->streams_dir);
    pthread_cond_init(&s->cv, NULL);
    if (o)
        s->opt = *o;
    else
        sxp_options_init(&s->opt);
    s->max_open_fds = s->opt.max_open_files ? s->opt.max_open_files : store_default_max_fds();
    if (s->opt.sync_each_log)
        s->j_syncfs_logs = SIZE_MAX;

    /* Strip trailing slashes so messages and paths read well. */
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len >= sizeof(s->root) - 16) {
        rc = err_set(err, -ENAMETOOLONG, "store path too long: %s", dir);
        goto fail;
    }
    memcpy(s->root, dir, len);
    s->root[len] = '\0';
    if (layout_path(s->root, "streams", s->streams_dir) || layout_path(s->root, "kv", s->kv_dir) ||
        layout_path(s->root, "blobs", s->blobs_dir)) {
        rc = err_set(err, -ENAMETOOLONG, "store path too long: %s", dir);
        goto fail;
    }

    if (s->opt.read_only) {
        int is_dir = 0;
        rc = io->stat(io, s->root, NULL, &is_dir);
        if (rc || !is_dir) {
            rc = err_set(err, rc ? rc : -ENOTDIR, "open %s: %s", s->root,
                         strerror(rc ? -rc : ENOTDIR));
            goto fail;
        }
        rc = store_refuse_foreign(s, err);
        if (!rc)
            rc = store_check_format(s, err);
        if (!rc)
            rc = journal_check_readonly(io, s->root, err);
    } else {
        rc = store_open_rw(s, err);
    }
    if (rc)
        goto fail;
    *out = s;
    return 0;
fail:
    store_free(s);
    return rc;
}

int sxp_store_open(const char *dir, const struct sxp_options *o, sxp_store **out,
                   struct sxp_err *err)
{
    struct sxp_options def;
    struct sxp_io *io = NULL;
    if (!o) {
        sxp_options_init(&def);
        o = &def;
    }
    *out = NULL;
    err_clear(err);
    int rc = store_check_options(o, err);
    if (rc)
        return rc;
    enum sxp_io_kind kind = o->io;
    /* Without fdatasync there is nothing for io_uring to overlap, and a
     * small buffered write through the ring is handed to a kernel worker:
     * plain pwrite is about five times faster (docs/performance.md). So
     * SXP_SYNC_NONE chooses plain syscalls unless asked otherwise, with
     * the same AUTO rules for $SXP_IO. */
    if (kind == SXP_IO_AUTO && o->sync == SXP_SYNC_NONE) {
        const char *env = getenv("SXP_IO");
        if (!env || !*env || strcmp(env, "auto") == 0)
            kind = SXP_IO_SYNC;
    }
    rc = io_backend_new(kind, o->quiet, &io, err);
    if (rc)
        return rc;
    return store_open_io(dir, o, io, 1, out, err);
}

int sxp_store_close(sxp_store *s)
{
    int rc = 0;
    if (!s)
        return 0;
    if (s->lock_fd >= 0) {
        commit_drain(s);
        pthread_mutex_lock(&s->mu);
        rc = streams_trim_tails(s, NULL);
        /* J-5: the logs hold everything before a .seq says so. It cuts
         * the logs of streams dead from a failed write that a record
         * covers; revive_all cuts the others (revive.c). */
        int jrc = journal_checkpoint(s, NULL);
        rc = rc ? rc : jrc;
        revive_all(s);
        int dead = 0;
        for (size_t i = 0; i < s->table_size; i++)
            for (struct stream *st = s->table[i]; st; st = st->hnext)
                if (st->dead && !dead)
                    dead = st->dead;
        if (!rc) {
            rc = streams_flush_seqfiles(s, NULL);
            /* ST-5: under SXP_SYNC_NONE these syncs are the first over what
             * the session wrote, and a failed one may have left its pages
             * clean but unwritten (IO-5): a later syncfs would succeed
             * without them. So the next settle writes every file again
             * first (lock.h K-6, A FAILED SETTLE). */
            if (rc && s->opt.sync != SXP_SYNC_ALWAYS)
                (void)lock_mark_resettle(s->io, s->lock_fd);
        }
        pthread_mutex_unlock(&s->mu);
        if (!rc)
            rc = journal_close(s);
        if (!rc)
            rc = dead;
        /* K-3: only a store with nothing left to repair is marked clean;
         * residue alone is not an error: the failed write said so. */
        if (!rc && !store_left_residue(s))
            rc = lock_mark_clean(s->io, s->lock_fd, s->opt.sync == SXP_SYNC_ALWAYS);
    }
    store_free(s);
    return rc;
}

void store_abandon(sxp_store *s)
{
    if (!s)
        return;
    commit_drain(s);
    store_free(s);
}

int store_checkpoint(sxp_store *s, struct sxp_err *err)
{
    pthread_mutex_lock(&s->mu);
    int rc = commit_checkpoint(s, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void store_set_checkpoint_logs(sxp_store *s, size_t nlogs)
{
    pthread_mutex_lock(&s->mu);
    s->j_ckpt_logs = nlogs ? nlogs : 1;
    pthread_mutex_unlock(&s->mu);
}

void store_set_journal_rounds(sxp_store *s, int on)
{
    pthread_mutex_lock(&s->mu);
    s->j_every_round = on;
    pthread_mutex_unlock(&s->mu);
}

void store_set_zero_after(sxp_store *s, unsigned n)
{
    pthread_mutex_lock(&s->mu);
    s->zero_after = n ? n : COMMIT_ZERO_AFTER;
    pthread_mutex_unlock(&s->mu);
}

void store_set_open_syncfs(size_t nlogs)
{
    __atomic_store_n(&store_open_syncfs, nlogs ? nlogs : JOURNAL_SYNCFS_LOGS, __ATOMIC_RELAXED);
}

size_t store_open_syncfs_bound(void)
{
    return __atomic_load_n(&store_open_syncfs, __ATOMIC_RELAXED);
}

void store_set_checkpoint_syncfs(sxp_store *s, size_t nlogs)
{
    pthread_mutex_lock(&s->mu);
    s->j_syncfs_logs = nlogs ? nlogs : 1;
    pthread_mutex_unlock(&s->mu);
}

uint64_t store_absorbed_failures(sxp_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->st_absorbed;
    pthread_mutex_unlock(&s->mu);
    return n;
}

uint64_t store_revived(sxp_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->st_revived;
    pthread_mutex_unlock(&s->mu);
    return n;
}

const char *sxp_store_dir(const sxp_store *s)
{
    return s->root;
}

void sxp_store_stats(sxp_store *s, struct sxp_stats *out)
{
    pthread_mutex_lock(&s->mu);
    out->appends = s->st_appends;
    out->batches = s->st_batches;
    out->fdatasyncs = s->st_syncs;
    out->bytes = s->st_bytes;
    out->in_flight = s->st_in_flight;
    out->open_files = s->open_fds;
    out->streams = s->nstreams;
    out->io_name = s->io->name;
    out->recovered = s->recovered;
    out->rec_tails_cut = s->rec_tails_cut;
    out->rec_tails_saved = s->rec_tails_saved;
    out->rec_bytes_cut = s->rec_bytes_cut;
    out->rec_hw_rolled = s->rec_hw_rolled;
    out->rec_seq_created = s->rec_seq_created;
    out->rec_unborn = s->rec_unborn;
    out->rec_tmp_removed = s->rec_tmp_removed;
    out->rec_logs_scanned = s->rec_logs_scanned;
    out->rec_logs_skipped = s->rec_logs_skipped;
    out->refusing = s->n_dead;
    out->revived = s->st_revived;
    pthread_mutex_unlock(&s->mu);
}
