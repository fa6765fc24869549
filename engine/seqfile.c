/* seqfile.c -- see seqfile.h.
 *
 * RECYCLING. On a filesystem without a journal, ext4 frees the inode a
 * rename replaces (and discards its block on a disk mounted so), and
 * then passes over recently freed inodes when it creates the next file:
 * a .seq written by create + rename cost 280-360 us here, most of it in
 * the create and the free. So, when syncing, each temp file takes the
 * old .seq's place by RENAME_EXCHANGE instead of a rename, and the old
 * .seq, now at the temp name, is written over as the temp file of the
 * next chunk: no inode is created or freed after the first chunk (35 us
 * a file in a C loop, docs/performance.md). Two rules keep it safe:
 *   - the inode an exchange moves to the temp name is only written again
 *     once an fsync of dir made that exchange durable: until then a power
 *     loss may undo the exchange, and the .seq name would hold whatever
 *     was written into its inode, another stream's mark;
 *   - without sync no exchange is made (its temp file's bytes would not
 *     be durable before the .seq named them, so after a power loss a .seq
 *     could read another stream's old mark); plain renames leave an empty
 *     file there at worst, which recovery's R-7 handles. (The store's
 *     close always syncs, whatever its mode: ST-5 in store_int.h.)
 * A .seq that does not exist yet is renamed into place (the exchange
 * fails with ENOENT), and a filesystem that cannot exchange (EINVAL,
 * ENOSYS, EXDEV, EOPNOTSUPP) gets renames from then on. The temp names
 * left at the end, holding old marks, are removed after a last fsync of
 * dir, and only then: when a chunk fails, or that fsync does, those its
 * exchanges filled since the last fsync that succeeded stay where they
 * are (removing one could free the inode a .seq still names on disk), as
 * temp files, which the next open's recovery (R-1: the failed close or
 * recovery left the store unclean) and sxp-fsck remove; a crash leaves
 * them the same way. Something other than a file in a .seq's place (a
 * symbolic link, a directory, a FIFO), or a file the next chunk cannot
 * open for writing, is exchanged like one and so lands at the temp name,
 * where the next chunk's open refuses it (a backend never follows a link
 * or waits on a FIFO: io_sync.c): it is removed there, as a rename would
 * have replaced it (its exchange is durable by then), and a new temp file
 * takes its slot; a directory cannot be removed so and stays, which
 * sxp-fsck reports. A reader that takes no lock (a
 * read-only open, sxp-fsck --force) may hold an old .seq open when it is
 * written again: it reads .seq files with io_read_file_still, which
 * reads again one that was no longer at its name once read. */
#include "seqfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

/* The temp files of the chunk being written, kept from one chunk to the
 * next, and from one call to the next (RECYCLING). */
struct seqfile_tmps {
    char path[SEQFILE_CHUNK][PATH_MAX];
    int held[SEQFILE_CHUNK]; /* path names an old .seq that an exchange put there */
    int exchange;            /* exchanges are made (sync, and the filesystem can) */
    int exchanged;           /* one was made since the last fsync of dir */
};

static size_t seqfile_chunk_max = SEQFILE_CHUNK;

void seqfile_set_chunk(size_t n)
{
    __atomic_store_n(&seqfile_chunk_max, n && n < SEQFILE_CHUNK ? n : SEQFILE_CHUNK,
                     __ATOMIC_RELAXED);
}

static int seqfile_cannot_exchange(int rc)
{
    return rc == -EINVAL || rc == -ENOSYS || rc == -EXDEV || rc == -EOPNOTSUPP;
}

/* Puts tmp in path's place: by exchange when t allows (then tmp holds the
 * old .seq, *held 1), else by rename (*held 0). */
static int seqfile_place(struct sxp_io *io, struct seqfile_tmps *t, const char *tmp,
                         const char *path, int *held)
{
    *held = 0;
    if (t->exchange) {
        int rc = io->rename_exchange(io, tmp, path);
        if (rc == 0) {
            *held = 1;
            t->exchanged = 1;
            return 0;
        }
        if (seqfile_cannot_exchange(rc))
            t->exchange = 0;
        else if (rc != -ENOENT)
            return rc;
    }
    return io->rename(io, tmp, path);
}

/* One chunk of at most SEQFILE_CHUNK items; by_fs: synced by one syncfs
 * through fs_fd. */
static int seqfile_chunk(struct sxp_io *io, const char *dir, struct seqfile_item *v, size_t n,
                         int sync, int fs_fd, uint64_t *synced, struct seqfile_tmps *t)
{
    int by_fs = sync && fs_fd >= 0;
    struct io_wsync w[SEQFILE_CHUNK];
    char text[SEQFILE_CHUNK][LAYOUT_SEQ_MAX_TEXT];
    size_t opened = 0;
    int rc = 0;

    memset(w, 0, sizeof(w));
    for (size_t i = 0; i < n; i++) {
        size_t len = layout_seq_format(v[i].value, text[i]);
        int old = t->held[i], fd = -1;
        if (old) {
            fd = io->open(io, t->path[i], O_WRONLY | O_CLOEXEC, 0);
            /* Not a file we can write (a link is never followed: io.h):
             * it goes, as a rename would have replaced it, and a new
             * temp file takes the slot. */
            old = fd >= 0;
            if (!old)
                (void)io->unlink(io, t->path[i]);
        }
        if (!old) {
            rc = layout_tmp_path(dir, t->path[i]);
            if (rc)
                goto cleanup;
            fd = io->open(io, t->path[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        }
        if (fd < 0) {
            rc = fd;
            goto cleanup;
        }
        t->held[i] = 0; /* from here on a temp file like any other */
        opened++;
        w[i] = (struct io_wsync){.fd = fd, .buf = text[i], .len = len, .sync = sync && !by_fs};
        /* An old .seq is cut to the new mark's length first; the write
         * then covers what is left of it. */
        if (old && (rc = io->ftruncate(io, fd, len)) != 0)
            goto cleanup;
    }
    rc = io->write_sync(io, w, n);
    if (sync && !by_fs)
        *synced += n;
    if (!rc && by_fs) {
        rc = io->syncfs_fd(io, fs_fd);
        *synced += 1;
    }
cleanup:
    for (size_t i = 0; i < opened; i++) {
        int crc = io->close(io, w[i].fd);
        if (!rc)
            rc = crc;
    }
    for (size_t i = 0; i < opened; i++) {
        if (!rc)
            rc = seqfile_place(io, t, t->path[i], v[i].path, &t->held[i]);
        if (rc)
            (void)io->unlink(io, t->path[i]);
        else
            v[i].done = 1;
    }
    return rc;
}

struct seqfile_tmps *seqfile_tmps_new(int sync)
{
    struct seqfile_tmps *t = calloc(1, sizeof(*t));
    if (t)
        t->exchange = sync;
    return t;
}

void seqfile_tmps_free(struct sxp_io *io, struct seqfile_tmps *t)
{
    /* RECYCLING: not before the exchanges that filled them are durable. */
    for (size_t i = 0; t && !t->exchanged && i < SEQFILE_CHUNK; i++)
        if (t->held[i])
            (void)io->unlink(io, t->path[i]);
    free(t);
}

int seqfile_write_many(struct sxp_io *io, const char *dir, struct seqfile_item *v, size_t n,
                       int sync, int fs_fd, struct seqfile_tmps *keep, uint64_t *out_synced)
{
    struct seqfile_tmps *t = keep ? keep : seqfile_tmps_new(sync);
    uint64_t synced = 0;
    /* A chunk holds a descriptor per temp file at once: a quarter of
     * RLIMIT_NOFILE at most, as the journal's write-back takes, so that a
     * close under a low limit (64, say) still writes its marks. */
    size_t chunk = __atomic_load_n(&seqfile_chunk_max, __ATOMIC_RELAXED);
    size_t fds = io_fd_share(4, 1, SEQFILE_CHUNK, SEQFILE_CHUNK);
    if (chunk > fds)
        chunk = fds;
    int rc = t ? 0 : -ENOMEM;
    for (size_t at = 0; at < n && !rc; at += chunk) {
        size_t k = n - at < chunk ? n - at : chunk;
        rc = seqfile_chunk(io, dir, v + at, k, sync, fs_fd, &synced, t);
        /* RECYCLING: the exchanges are durable before their old .seq
         * inodes are written again, or removed. */
        if (!rc && t->exchanged && (rc = io->fsync_dir(io, dir)) == 0)
            t->exchanged = 0;
    }
    if (!keep)
        seqfile_tmps_free(io, t);
    if (out_synced)
        *out_synced = synced;
    return rc;
}
