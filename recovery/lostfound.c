/*
 * lostfound.c -- ROOT/lost+found/, where sxp-fsck puts what it takes out of
 * the store, and recovery the torn tails it cuts that held whole lines
 * (recover.c). Nothing is ever deleted: a bad log line is copied into an
 * item file of its own before the log is rewritten without it, and a bad
 * file is renamed into the folder.
 *
 * NAMES. An item is lost+found/<base>.<n>: <base> is the name of the file it
 * came from (cut to 240 bytes so the item's name stays within NAME_MAX), <n>
 * the smallest number >= 1 not taken.
 *
 * MANIFEST. lost+found/MANIFEST gets one line per item, TAB-separated:
 *
 *     <item>  <from>  offset=<byte>  line=<n>  len=<bytes>  code=<code>
 *
 * <from> is the path relative to ROOT the item came from; line is 0 for a
 * whole file. Bytes below 0x21, 0x7f, '%' and '\' in names are written as
 * %XX, so a line is always one line. A line a crash cut short (no LF)
 * stays; the next session's first line starts after an LF of its own.
 *
 * CRASH ORDERING. A copied line: the item's data is synced, its MANIFEST
 * line written; lostfound_commit syncs MANIFEST and the folder; only then is
 * the log replaced (repair.c). A moved file: its MANIFEST line is synced
 * first, then the rename, then both folders are fsynced. A crash at any
 * point leaves every byte in the store or in lost+found (possibly both).
 *
 * THE FOLDER'S NAME. The folder must be a directory of the store's own:
 * a symbolic link in its place is refused, not followed. The first use of
 * the folder in a session fsyncs ROOT, whether this session's mkdir made
 * the folder or found it there: a process killed between its mkdir and
 * that fsync leaves a folder whose name a power loss may still take, with
 * every item put in it since.
 *
 * LF-F, THE FENCE. A failed sync (an item's or MANIFEST's fdatasync, an
 * fsync of the folder or of ROOT) may have dropped what it was to make
 * durable, and a later sync that succeeds proves nothing of it. So the
 * first failure fences the folder for the rest of the session: every later
 * put, move and commit fails with that error, and no caller goes on to cut
 * or remove the source of an item (the engine fences a directory the same
 * way, store.c). A new session starts unfenced and syncs ROOT again.
 */
#include "lostfound.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "layout.h"
#include "logscan.h"

#define LOSTFOUND_BASE_MAX 240

static void lostfound_msgf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void lostfound_msgf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

void lostfound_init(struct lostfound *lf, struct sxp_io *io, const char *root, int sync)
{
    memset(lf, 0, sizeof(*lf));
    lf->io = io;
    lf->sync = sync;
    lf->manifest_fd = -1;
    (void)snprintf(lf->root, sizeof(lf->root), "%s", root);
    (void)layout_path(root, "lost+found", lf->dir);
}

void lostfound_close(struct lostfound *lf)
{
    if (lf->manifest_fd >= 0)
        (void)lf->io->close(lf->io, lf->manifest_fd);
    lf->manifest_fd = -1;
}

/* Fails with the fence's error when a sync failed earlier (LF-F). */
static int lostfound_check_fence(const struct lostfound *lf, char *msg, size_t size)
{
    if (lf->fenced)
        lostfound_msgf(msg, size, "%s refuses new items after a failed sync (%s)", lf->dir,
                       strerror(-lf->fenced));
    return lf->fenced;
}

/* Sets the fence after a failed sync; returns rc. */
static int lostfound_fence(struct lostfound *lf, int rc)
{
    if (rc && !lf->fenced)
        lf->fenced = rc;
    return rc;
}

/* Creates the folder (or finds it), makes its name durable, and opens
 * MANIFEST on first use. */
static int lostfound_ready(struct lostfound *lf, char *msg, size_t size)
{
    char path[PATH_MAX];
    int rc = lostfound_check_fence(lf, msg, size);
    if (rc || lf->manifest_fd >= 0)
        return rc;
    rc = lf->io->mkdir(lf->io, lf->dir, 0755);
    if (rc == -EEXIST) {
        /* Found there: a directory, not a link to one, which would take
         * what the store puts aside out of it. */
        int dfd = lf->io->open(lf->io, lf->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        rc = dfd < 0 ? dfd : lf->io->close(lf->io, dfd);
        if (rc == -ELOOP || rc == -ENOTDIR) {
            lostfound_msgf(msg, size,
                           "%s is not a directory (a file, or a symbolic link, which is not "
                           "followed out of the store): move it away",
                           lf->dir);
            return -ENOTDIR;
        }
    }
    if (rc) {
        lostfound_msgf(msg, size, "create %s: %s", lf->dir, strerror(-rc));
        return rc;
    }
    if (lf->sync && (rc = lostfound_fence(lf, lf->io->fsync_dir(lf->io, lf->root))) != 0) {
        lostfound_msgf(msg, size, "fsync %s after creating %s: %s", lf->root, lf->dir,
                       strerror(-rc));
        return rc;
    }
    if (snprintf(path, sizeof(path), "%s/MANIFEST", lf->dir) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    int fd = lf->io->open(lf->io, path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) {
        lostfound_msgf(msg, size, "open %s: %s", path, strerror(-fd));
        return fd;
    }
    rc = lf->io->fsize(lf->io, fd, &lf->manifest_off);
    if (rc) {
        (void)lf->io->close(lf->io, fd);
        lostfound_msgf(msg, size, "stat %s: %s", path, strerror(-rc));
        return rc;
    }
    /* A crash can tear the last record (records are written before their
     * sync): one without its LF gets one before the next record, which so
     * starts a line of its own. */
    lf->manifest_lf = 0;
    if (lf->manifest_off > 0) {
        char last = '\n';
        ssize_t n = lf->io->pread(lf->io, fd, &last, 1, lf->manifest_off - 1);
        if (n < 0) {
            (void)lf->io->close(lf->io, fd);
            lostfound_msgf(msg, size, "read %s: %s", path, strerror((int)-n));
            return (int)n;
        }
        lf->manifest_lf = last != '\n';
    }
    lf->manifest_fd = fd;
    lf->dirty = 1; /* MANIFEST may be new: the folder needs its fsync */
    return 0;
}

/* Picks a free name <base>.<n> into out (NAME_MAX + 1 bytes). */
static int lostfound_pick(struct lostfound *lf, const char *base, char *out)
{
    char path[PATH_MAX];
    int blen = (int)strlen(base);
    if (blen > LOSTFOUND_BASE_MAX)
        blen = LOSTFOUND_BASE_MAX;
    unsigned long n = 1;
    if (strncmp(lf->last_base, base, sizeof(lf->last_base)) == 0)
        n = lf->last_n + 1;
    for (; n < 1000000000UL; n++) {
        lostfound_msgf(out, NAME_MAX + 1, "%.*s.%lu", blen, base, n);
        if (snprintf(path, sizeof(path), "%s/%s", lf->dir, out) >= (int)sizeof(path))
            return -ENAMETOOLONG;
        int rc = lf->io->stat(lf->io, path, NULL, NULL);
        if (rc == -ENOENT) {
            lostfound_msgf(lf->last_base, sizeof(lf->last_base), "%s", base);
            lf->last_n = n;
            return 0;
        }
        if (rc)
            return rc;
    }
    return -EEXIST;
}

/* lostfound_ready, then lostfound_pick, with a message. */
static int lostfound_claim(struct lostfound *lf, const char *base, char *name, char *msg,
                           size_t msg_size)
{
    int rc = lostfound_ready(lf, msg, msg_size);
    if (rc)
        return rc;
    rc = lostfound_pick(lf, base, name);
    if (rc)
        lostfound_msgf(msg, msg_size, "no free name for %s in %s: %s", base, lf->dir,
                       strerror(-rc));
    return rc;
}

/* Appends s to b with the MANIFEST escapes. */
static void lostfound_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x21 || ch == 0x7f || ch == '%' || ch == '\\')
            (void)buf_printf(b, "%%%02X", ch);
        else
            (void)buf_addc(b, (char)ch);
    }
}

static int lostfound_record(struct lostfound *lf, const char *item, const char *from, uint64_t off,
                            uint64_t line, uint64_t len, const char *code, char *msg, size_t size)
{
    struct buf b = BUF_INIT;
    if (lf->manifest_lf)
        (void)buf_addc(&b, '\n');
    lostfound_escape(&b, item);
    (void)buf_addc(&b, '\t');
    lostfound_escape(&b, from);
    int rc =
        buf_printf(&b, "\toffset=%llu\tline=%llu\tlen=%llu\tcode=%s\n", (unsigned long long)off,
                   (unsigned long long)line, (unsigned long long)len, code);
    if (rc == 0)
        rc = lf->io->pwrite(lf->io, lf->manifest_fd, b.p, b.len, lf->manifest_off);
    if (rc == 0) {
        lf->manifest_off += b.len;
        lf->manifest_lf = 0;
        lf->dirty = 1;
    } else {
        lostfound_msgf(msg, size, "write %s/MANIFEST: %s", lf->dir, strerror(-rc));
    }
    buf_free(&b);
    return rc;
}

/* "lost+found/<name>", malloc'd. */
static char *lostfound_rel(const char *name)
{
    size_t n = strlen(name);
    char *s = malloc(n + 12);
    if (s)
        lostfound_msgf(s, n + 12, "lost+found/%s", name);
    return s;
}

int lostfound_put_range(struct lostfound *lf, const char *base, int fd, uint64_t off, uint64_t len,
                        const char *rel, uint64_t line, const char *code, char **out_name,
                        char *msg, size_t msg_size)
{
    char name[NAME_MAX + 1], path[PATH_MAX];
    char *buf = NULL;
    int out = -1;
    int rc = lostfound_claim(lf, base, name, msg, msg_size);
    if (rc)
        return rc;
    if (snprintf(path, sizeof(path), "%s/%s", lf->dir, name) >= (int)sizeof(path)) {
        lostfound_msgf(msg, msg_size, "path too long in %s", lf->dir);
        return -ENAMETOOLONG;
    }
    out = lf->io->open(lf->io, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (out < 0) {
        lostfound_msgf(msg, msg_size, "create %s: %s", path, strerror(-out));
        return out;
    }
    size_t chunk = len < LOGSCAN_CHUNK ? (size_t)(len ? len : 1) : LOGSCAN_CHUNK;
    buf = malloc(chunk);
    if (!buf) {
        rc = -ENOMEM;
        lostfound_msgf(msg, msg_size, "out of memory");
        goto out;
    }
    for (uint64_t done = 0; done < len;) {
        size_t want = len - done < chunk ? (size_t)(len - done) : chunk;
        ssize_t n = lf->io->pread(lf->io, fd, buf, want, off + done);
        if (n <= 0) {
            rc = n < 0 ? (int)n : -EIO;
            lostfound_msgf(msg, msg_size, "read %s: %s", rel, strerror(-rc));
            goto out;
        }
        rc = lf->io->pwrite(lf->io, out, buf, (size_t)n, done);
        if (rc) {
            lostfound_msgf(msg, msg_size, "write %s: %s", path, strerror(-rc));
            goto out;
        }
        done += (uint64_t)n;
    }
    if (lf->sync && (rc = lostfound_fence(lf, lf->io->fdatasync(lf->io, out))) != 0) {
        lostfound_msgf(msg, msg_size, "fdatasync %s: %s", path, strerror(-rc));
        goto out;
    }
    rc = lostfound_record(lf, name, rel, off, line, len, code, msg, msg_size);
    if (rc == 0) {
        *out_name = lostfound_rel(name);
        if (!*out_name)
            rc = -ENOMEM;
    }
out:
    free(buf);
    (void)lf->io->close(lf->io, out);
    return rc;
}

int lostfound_commit(struct lostfound *lf, char *msg, size_t msg_size)
{
    int rc = lostfound_check_fence(lf, msg, msg_size);
    if (rc || !lf->dirty || lf->manifest_fd < 0)
        return rc;
    if (lf->sync) {
        rc = lf->io->fdatasync(lf->io, lf->manifest_fd);
        if (rc == 0)
            rc = lf->io->fsync_dir(lf->io, lf->dir);
        (void)lostfound_fence(lf, rc);
    }
    if (rc)
        lostfound_msgf(msg, msg_size, "sync %s: %s", lf->dir, strerror(-rc));
    else
        lf->dirty = 0;
    return rc;
}

int lostfound_move(struct lostfound *lf, const char *rel, uint64_t size, const char *code,
                   char **out_name, char *msg, size_t msg_size)
{
    char name[NAME_MAX + 1], from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX];
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    int rc = lostfound_claim(lf, base, name, msg, msg_size);
    if (rc)
        return rc;
    if (layout_path(lf->root, rel, from) ||
        snprintf(to, sizeof(to), "%s/%s", lf->dir, name) >= (int)sizeof(to)) {
        lostfound_msgf(msg, msg_size, "path too long: %s", rel);
        return -ENAMETOOLONG;
    }
    rc = lostfound_record(lf, name, rel, 0, 0, size, code, msg, msg_size);
    if (rc == 0)
        rc = lostfound_commit(lf, msg, msg_size);
    if (rc)
        return rc;
    rc = lf->io->rename(lf->io, from, to);
    if (rc) {
        lostfound_msgf(msg, msg_size, "rename %s to %s: %s", from, to, strerror(-rc));
        return rc;
    }
    io_dirname(from, dir, sizeof(dir));
    if (lf->sync) {
        rc = lf->io->fsync_dir(lf->io, lf->dir);
        if (rc == 0)
            rc = lf->io->fsync_dir(lf->io, dir);
        if (lostfound_fence(lf, rc)) {
            lostfound_msgf(msg, msg_size, "fsync after moving %s: %s", rel, strerror(-rc));
            return rc;
        }
    }
    *out_name = lostfound_rel(name);
    return *out_name ? 0 : -ENOMEM;
}
