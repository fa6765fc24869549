/*
 * lostfound.c -- ROOT/lost+found/, where sxp-fsck -y puts what it takes out
 * of the store. Nothing is ever deleted: a bad log line is copied into an
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
 * %XX, so a line is always one line.
 *
 * CRASH ORDERING. A copied line: the item's data is synced, its MANIFEST
 * line written; fsck_lf_commit syncs MANIFEST and the folder; only then is
 * the log replaced (repair.c). A moved file: its MANIFEST line is synced
 * first, then the rename, then both folders are fsynced. A crash at any
 * point leaves every byte in the store or in lost+found (possibly both).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsck_int.h"
#include "logscan.h"

#define FSCK_LF_BASE_MAX 240

void fsck_lf_init(struct fsck_lf *lf, struct fsck_ctx *c)
{
    memset(lf, 0, sizeof(*lf));
    lf->c = c;
    lf->manifest_fd = -1;
    (void)fsck_path(c, "lost+found", lf->dir);
}

void fsck_lf_close(struct fsck_lf *lf)
{
    if (lf->manifest_fd >= 0)
        (void)lf->c->io->close(lf->c->io, lf->manifest_fd);
    lf->manifest_fd = -1;
}

/* Creates the folder and opens MANIFEST on first use. */
static int fsck_lf_ready(struct fsck_lf *lf, char *msg, size_t size)
{
    struct fsck_ctx *c = lf->c;
    char path[PATH_MAX];
    if (lf->manifest_fd >= 0)
        return 0;
    int rc = c->io->mkdir(c->io, lf->dir, 0755);
    if (rc == 0 && c->sync)
        rc = c->io->fsync_dir(c->io, c->root);
    if (rc == -EEXIST) {
        int is_dir = 0;
        rc = c->io->stat(c->io, lf->dir, NULL, &is_dir);
        if (rc == 0 && !is_dir)
            rc = -ENOTDIR;
    }
    if (rc) {
        fsck_msgf(msg, size, "create %s: %s", lf->dir, strerror(-rc));
        return rc;
    }
    if (snprintf(path, sizeof(path), "%s/MANIFEST", lf->dir) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    int fd = c->io->open(c->io, path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) {
        fsck_msgf(msg, size, "open %s: %s", path, strerror(-fd));
        return fd;
    }
    rc = c->io->fsize(c->io, fd, &lf->manifest_off);
    if (rc) {
        (void)c->io->close(c->io, fd);
        fsck_msgf(msg, size, "stat %s: %s", path, strerror(-rc));
        return rc;
    }
    lf->manifest_fd = fd;
    lf->dirty = 1; /* MANIFEST may be new: the folder needs its fsync */
    return 0;
}

/* Picks a free name <base>.<n> into out (NAME_MAX + 1 bytes). */
static int fsck_lf_pick(struct fsck_lf *lf, const char *base, char *out)
{
    char path[PATH_MAX];
    int blen = (int)strlen(base);
    if (blen > FSCK_LF_BASE_MAX)
        blen = FSCK_LF_BASE_MAX;
    unsigned long n = 1;
    if (strncmp(lf->last_base, base, sizeof(lf->last_base)) == 0)
        n = lf->last_n + 1;
    for (; n < 1000000000UL; n++) {
        fsck_msgf(out, NAME_MAX + 1, "%.*s.%lu", blen, base, n);
        if (snprintf(path, sizeof(path), "%s/%s", lf->dir, out) >= (int)sizeof(path))
            return -ENAMETOOLONG;
        int rc = lf->c->io->stat(lf->c->io, path, NULL, NULL);
        if (rc == -ENOENT) {
            fsck_msgf(lf->last_base, sizeof(lf->last_base), "%s", base);
            lf->last_n = n;
            return 0;
        }
        if (rc)
            return rc;
    }
    return -EEXIST;
}

/* Appends s to b with the MANIFEST escapes. */
static void fsck_lf_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x21 || ch == 0x7f || ch == '%' || ch == '\\')
            (void)buf_printf(b, "%%%02X", ch);
        else
            (void)buf_addc(b, (char)ch);
    }
}

static int fsck_lf_record(struct fsck_lf *lf, const char *item, const char *from, uint64_t off,
                          uint64_t line, uint64_t len, const char *code, char *msg, size_t size)
{
    struct buf b = BUF_INIT;
    fsck_lf_escape(&b, item);
    (void)buf_addc(&b, '\t');
    fsck_lf_escape(&b, from);
    int rc =
        buf_printf(&b, "\toffset=%llu\tline=%llu\tlen=%llu\tcode=%s\n", (unsigned long long)off,
                   (unsigned long long)line, (unsigned long long)len, code);
    if (rc == 0)
        rc = lf->c->io->pwrite(lf->c->io, lf->manifest_fd, b.p, b.len, lf->manifest_off);
    if (rc == 0) {
        lf->manifest_off += b.len;
        lf->dirty = 1;
    } else {
        fsck_msgf(msg, size, "write %s/MANIFEST: %s", lf->dir, strerror(-rc));
    }
    buf_free(&b);
    return rc;
}

/* "lost+found/<name>", malloc'd. */
static char *fsck_lf_rel(const char *name)
{
    size_t n = strlen(name);
    char *s = malloc(n + 12);
    if (s)
        fsck_msgf(s, n + 12, "lost+found/%s", name);
    return s;
}

int fsck_lf_put_range(struct fsck_lf *lf, const char *base, int fd, uint64_t off, uint64_t len,
                      const char *rel, uint64_t line, const char *code, char **out_name, char *msg,
                      size_t msg_size)
{
    struct fsck_ctx *c = lf->c;
    char name[NAME_MAX + 1], path[PATH_MAX];
    char *buf = NULL;
    int out = -1;
    int rc = fsck_lf_ready(lf, msg, msg_size);
    if (rc)
        return rc;
    rc = fsck_lf_pick(lf, base, name);
    if (rc) {
        fsck_msgf(msg, msg_size, "no free name for %s in %s: %s", base, lf->dir, strerror(-rc));
        return rc;
    }
    if (snprintf(path, sizeof(path), "%s/%s", lf->dir, name) >= (int)sizeof(path)) {
        fsck_msgf(msg, msg_size, "path too long in %s", lf->dir);
        return -ENAMETOOLONG;
    }
    out = c->io->open(c->io, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (out < 0) {
        fsck_msgf(msg, msg_size, "create %s: %s", path, strerror(-out));
        return out;
    }
    size_t chunk = len < LOGSCAN_CHUNK ? (size_t)(len ? len : 1) : LOGSCAN_CHUNK;
    buf = malloc(chunk);
    if (!buf) {
        rc = -ENOMEM;
        fsck_msgf(msg, msg_size, "out of memory");
        goto out;
    }
    for (uint64_t done = 0; done < len;) {
        size_t want = len - done < chunk ? (size_t)(len - done) : chunk;
        ssize_t n = c->io->pread(c->io, fd, buf, want, off + done);
        if (n <= 0) {
            rc = n < 0 ? (int)n : -EIO;
            fsck_msgf(msg, msg_size, "read %s: %s", rel, strerror(-rc));
            goto out;
        }
        rc = c->io->pwrite(c->io, out, buf, (size_t)n, done);
        if (rc) {
            fsck_msgf(msg, msg_size, "write %s: %s", path, strerror(-rc));
            goto out;
        }
        done += (uint64_t)n;
    }
    if (c->sync && (rc = c->io->fdatasync(c->io, out)) != 0) {
        fsck_msgf(msg, msg_size, "fdatasync %s: %s", path, strerror(-rc));
        goto out;
    }
    rc = fsck_lf_record(lf, name, rel, off, line, len, code, msg, msg_size);
    if (rc == 0) {
        *out_name = fsck_lf_rel(name);
        if (!*out_name)
            rc = -ENOMEM;
    }
out:
    free(buf);
    (void)c->io->close(c->io, out);
    return rc;
}

int fsck_lf_commit(struct fsck_lf *lf, char *msg, size_t msg_size)
{
    struct fsck_ctx *c = lf->c;
    int rc = 0;
    if (!lf->dirty || lf->manifest_fd < 0)
        return 0;
    if (c->sync) {
        rc = c->io->fdatasync(c->io, lf->manifest_fd);
        if (rc == 0)
            rc = c->io->fsync_dir(c->io, lf->dir);
    }
    if (rc)
        fsck_msgf(msg, msg_size, "sync %s: %s", lf->dir, strerror(-rc));
    else
        lf->dirty = 0;
    return rc;
}

int fsck_lf_move(struct fsck_lf *lf, const char *rel, uint64_t size, const char *code,
                 char **out_name, char *msg, size_t msg_size)
{
    struct fsck_ctx *c = lf->c;
    char name[NAME_MAX + 1], from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX];
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    int rc = fsck_lf_ready(lf, msg, msg_size);
    if (rc)
        return rc;
    rc = fsck_lf_pick(lf, base, name);
    if (rc) {
        fsck_msgf(msg, msg_size, "no free name for %s in %s: %s", base, lf->dir, strerror(-rc));
        return rc;
    }
    if (fsck_path(c, rel, from) ||
        snprintf(to, sizeof(to), "%s/%s", lf->dir, name) >= (int)sizeof(to)) {
        fsck_msgf(msg, msg_size, "path too long: %s", rel);
        return -ENAMETOOLONG;
    }
    rc = fsck_lf_record(lf, name, rel, 0, 0, size, code, msg, msg_size);
    if (rc == 0)
        rc = fsck_lf_commit(lf, msg, msg_size);
    if (rc)
        return rc;
    rc = c->io->rename(c->io, from, to);
    if (rc) {
        fsck_msgf(msg, msg_size, "rename %s to %s: %s", from, to, strerror(-rc));
        return rc;
    }
    io_dirname(from, dir, sizeof(dir));
    if (c->sync) {
        rc = c->io->fsync_dir(c->io, lf->dir);
        if (rc == 0)
            rc = c->io->fsync_dir(c->io, dir);
        if (rc) {
            fsck_msgf(msg, msg_size, "fsync after moving %s: %s", rel, strerror(-rc));
            return rc;
        }
    }
    *out_name = fsck_lf_rel(name);
    return *out_name ? 0 : -ENOMEM;
}
