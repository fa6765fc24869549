/*
 * repair.c -- what -p, -y and --upgrade do about the findings (checks.h),
 * run in one thread after the check, with the LOCK held.
 *
 *   -p  crash residue, the way recovery repairs it (residue.h): temp files
 *       removed, torn tails cut, .seq files created or rolled forward. A
 *       torn tail that is not only zeros is first copied to lost+found/
 *       (code torn-tail), so fsck deletes no byte that was written.
 *   -y  also corruption: bad log lines are copied to lost+found/ and the log
 *       is rewritten without them (temp file, fdatasync, rename, fsync of
 *       streams/); bad files are moved to lost+found/ (lostfound.c); an
 *       unreadable or lowered .seq (check_seq.c) is moved there and
 *       recreated from its log. A .seq written from the log holds its max
 *       seq, which is below the lost mark (and lets seqs be taken again)
 *       when a truncate removed every event: docs/fsck.md says so.
 *   --upgrade  legacy lines and kv values get their trailers, FORMAT is
 *       written. A log is rewritten as under -y, but under -p its corrupt
 *       lines are kept as they are (and get no trailer).
 *
 * Every repair is durable before fsck_run returns (unless o->nosync), and
 * each is done once: a second run finds nothing to do. A repair that fails
 * is recorded (FSCK_ACT_FAILED with a note) and leaves that file as it was.
 *
 * SYNCFS (recovery/recover.c R-8, as recovery does it). When at least
 * c->syncfs_logs files (fsck_opts.syncfs_logs; 64 by default, never with
 * --sync-each-log) are to be made durable in one step, one syncfs through
 * LOCK's descriptor stands for their fdatasyncs. LOCK is opened before
 * fsck writes anything, so the kernel reports to it every writeback error
 * since then (errseq); the pages a crashed session's failed writeback left
 * clean are written again first, as for an fdatasync. The steps:
 *   - the journal's replay (fsck.c, journal.c J-6), from that many records;
 *   - R-6 on an unclean store: every log's lines above its .seq are
 *     written again, then one syncfs (fsck_sync_logs), before any log is
 *     cut or rewritten and before any .seq is written;
 *   - the .seq files, written last, all together (fsck_write_seqs): temp
 *     files, one syncfs per SEQFILE_CHUNK of them (or an fdatasync each,
 *     below the bound), renames, one fsync of streams/.
 * A failed syncfs fails every file it stood for: their findings are marked
 * failed, no .seq vouches for a line it was to make durable, and LOCK is
 * not marked clean, so the next open or run does it all again. Torn tails,
 * log rewrites and lost+found/ keep their own syncs: they are few, and
 * what lost+found/ keeps must be durable before the cut that follows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fsck_int.h"
#include "layout.h"
#include "logscan.h"
#include "residue.h"
#include "seqfile.h"

static void fsck_mark(struct fsck_finding *f, enum fsck_action a, int64_t arg)
{
    f->action = a;
    f->arg = arg;
}

static void fsck_mark_failed(struct fsck_finding *f, const char *msg)
{
    f->action = FSCK_ACT_FAILED;
    free(f->note);
    f->note = strdup(msg);
}

/* The tree finding about rel that is still in place after fsck_repair_tree
 * (a link or directory where a .seq belongs, that -p leaves or -y could not
 * move), or NULL. A .seq written there would be renamed over a link and
 * destroy it, though the report says it is left. */
static const struct fsck_finding *fsck_tree_left(const struct fsck_ctx *c, const char *rel)
{
    for (size_t i = 0; i < c->tree.n; i++)
        if (c->tree.v[i].action != FSCK_ACT_MOVED && strcmp(c->tree.v[i].file, rel) == 0)
            return &c->tree.v[i];
    return NULL;
}

/* A log line finding that -y moves. */
static int fsck_is_line_code(enum fsck_code code)
{
    return code == FSCK_CHECKSUM || code == FSCK_SEQ_ORDER || code == FSCK_EVENT_UNPARSABLE ||
           code == FSCK_EVENT_NO_SEQ || code == FSCK_BLANK_LINE;
}

/* A finding about a stream's .seq, which a failed log rewrite leaves. */
static int fsck_is_seq_code(enum fsck_code code)
{
    return code == FSCK_HW_BEHIND || code == FSCK_HW_LOWERED || code == FSCK_SEQ_MISSING ||
           code == FSCK_SEQ_LOST || code == FSCK_SEQ_UNREADABLE || code == FSCK_SEQ_TORN;
}

static int fsck_ptr_off_cmp(const void *a, const void *b)
{
    const struct fsck_finding *x = *(struct fsck_finding *const *)a;
    const struct fsck_finding *y = *(struct fsck_finding *const *)b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Buffered output to the new log. */
struct fsck_out {
    struct fsck_ctx *c;
    int fd;
    char *buf;
    size_t len;
    uint64_t off;
};

static int fsck_out_flush(struct fsck_out *o)
{
    if (o->len == 0)
        return 0;
    int rc = o->c->io->pwrite(o->c->io, o->fd, o->buf, o->len, o->off);
    if (rc == 0) {
        o->off += o->len;
        o->len = 0;
    }
    return rc;
}

static int fsck_out_add(struct fsck_out *o, const char *p, size_t n)
{
    while (n > 0) {
        if (o->len == LOGSCAN_CHUNK) {
            int rc = fsck_out_flush(o);
            if (rc)
                return rc;
        }
        size_t k = LOGSCAN_CHUNK - o->len < n ? LOGSCAN_CHUNK - o->len : n;
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
    }
    return 0;
}

/* Copies [off, off + len) of fd (a line not held in memory). */
static int fsck_out_range(struct fsck_out *o, int fd, uint64_t off, uint64_t len)
{
    char *tmp = malloc(LOGSCAN_CHUNK);
    int rc = tmp ? 0 : -ENOMEM;
    for (uint64_t done = 0; rc == 0 && done < len;) {
        size_t want = len - done < LOGSCAN_CHUNK ? (size_t)(len - done) : LOGSCAN_CHUNK;
        ssize_t n = o->c->io->pread(o->c->io, fd, tmp, want, off + done);
        if (n <= 0)
            rc = n < 0 ? (int)n : -EIO;
        else
            rc = fsck_out_add(o, tmp, (size_t)n);
        done += n > 0 ? (uint64_t)n : 0;
    }
    free(tmp);
    return rc;
}

/* Rewrites a log: without its torn tail, without its bad lines (moved to
 * lost+found when move_bad), with trailers on good legacy lines (when
 * upgrading). */
static int fsck_rewrite_log(struct fsck_ctx *c, struct lostfound *lf, struct fsck_item *it,
                            int move_bad, char *msg, size_t size)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    struct fsck_finding **bad = NULL;
    struct logscan_reader r;
    struct logscan_line l;
    struct fsck_out o = {c, -1, NULL, 0, 0};
    size_t nbad = 0, j = 0;
    uint64_t upgraded = 0;
    int fd = -1, reader_open = 0, tmp_made = 0, rc;
    const char *base = strrchr(it->rel, '/') + 1;
    uint64_t end = it->torn ? it->torn_off : it->log_size;

    tmp[0] = '\0';
    if (fsck_path(c, it->rel, path) || layout_tmp_path(c->streams_dir, tmp)) {
        fsck_msgf(msg, size, "path too long: %s", it->rel);
        return -ENAMETOOLONG;
    }
    bad = calloc(it->f.n + 1, sizeof(*bad));
    o.buf = malloc(LOGSCAN_CHUNK);
    if (!bad || !o.buf) {
        rc = -ENOMEM;
        fsck_msgf(msg, size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < it->f.n; i++)
        if (fsck_is_line_code(it->f.v[i].code))
            bad[nbad++] = &it->f.v[i];
    if (nbad > 1)
        qsort(bad, nbad, sizeof(*bad), fsck_ptr_off_cmp);

    fd = c->io->open(c->io, path, O_RDONLY, 0);
    if (fd < 0) {
        rc = fd;
        fsck_msgf(msg, size, "open %s: %s", path, strerror(-rc));
        goto out;
    }
    o.fd = c->io->open(c->io, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (o.fd < 0) {
        rc = o.fd;
        fsck_msgf(msg, size, "create %s: %s", tmp, strerror(-rc));
        goto out;
    }
    tmp_made = 1;
    rc = logscan_reader_open(&r, c->io, fd, 0, end, 1, 0);
    if (rc) {
        fsck_msgf(msg, size, "out of memory");
        goto out;
    }
    reader_open = 1;
    while ((rc = logscan_reader_next(&r, &l)) > 0) {
        while (j < nbad && bad[j]->off < l.off)
            j++;
        if (j < nbad && bad[j]->off == l.off) {
            struct fsck_finding *f = bad[j++];
            if (move_bad) {
                rc = lostfound_put_range(lf, base, fd, l.off, l.len, it->rel, l.no,
                                         fsck_code_name(f->code), &f->moved_to, msg, size);
                if (rc)
                    goto out;
                continue;
            }
        } else if (c->o->upgrade && !l.overlong && l.fl.status == FRAME_LEGACY) {
            char trailer[FRAME_TRAILER_LEN];
            frame_trailer(l.fl.payload, l.fl.payload_len, trailer);
            rc = fsck_out_add(&o, l.fl.payload, l.fl.payload_len);
            if (rc == 0)
                rc = fsck_out_add(&o, trailer, FRAME_TRAILER_LEN);
            upgraded++;
            if (rc)
                break;
            continue;
        }
        rc = l.overlong ? fsck_out_range(&o, fd, l.off, l.len)
                        : fsck_out_add(&o, l.bytes, (size_t)l.len);
        if (rc)
            break;
    }
    if (rc == 0)
        rc = fsck_out_flush(&o);
    if (rc == 0 && c->sync)
        rc = c->io->fdatasync(c->io, o.fd);
    if (rc) {
        fsck_msgf(msg, size, "write %s: %s", tmp, strerror(-rc));
        goto out;
    }
    /* Everything taken out is durable in lost+found/ before the log loses it. */
    rc = lostfound_commit(lf, msg, size);
    if (rc)
        goto out;
    rc = c->io->rename(c->io, tmp, path);
    if (rc) {
        fsck_msgf(msg, size, "rename %s to %s: %s", tmp, path, strerror(-rc));
        goto out;
    }
    tmp_made = 0;
    if (c->sync && (rc = c->io->fsync_dir(c->io, c->streams_dir)) != 0) {
        fsck_msgf(msg, size, "fsync %s: %s", c->streams_dir, strerror(-rc));
        goto out;
    }
    for (size_t i = 0; i < nbad; i++)
        if (move_bad && bad[i]->moved_to)
            fsck_mark(bad[i], FSCK_ACT_MOVED, 0);
    for (size_t i = 0; i < it->f.n; i++) {
        struct fsck_finding *f = &it->f.v[i];
        if (f->code == FSCK_TORN_TAIL)
            fsck_mark(f, FSCK_ACT_CUT, (int64_t)end);
        if (f->code == FSCK_LEGACY_LINE && c->o->upgrade)
            fsck_mark(f, FSCK_ACT_UPGRADED, (int64_t)upgraded);
    }
out:
    if (reader_open)
        logscan_reader_close(&r);
    if (o.fd >= 0)
        (void)c->io->close(c->io, o.fd);
    if (tmp_made)
        (void)c->io->unlink(c->io, tmp);
    if (fd >= 0)
        (void)c->io->close(c->io, fd);
    free(o.buf);
    free(bad);
    return rc;
}

/* Opens the item's log with flags into *fd; path gets its path. */
static int fsck_open_log(struct fsck_ctx *c, const struct fsck_item *it, int flags, char *path,
                         int *fd, char *msg, size_t size)
{
    if (fsck_path(c, it->rel, path)) {
        fsck_msgf(msg, size, "path too long: %s", it->rel);
        return -ENAMETOOLONG;
    }
    *fd = c->io->open(c->io, path, flags, 0);
    if (*fd < 0) {
        fsck_msgf(msg, size, "open %s: %s", path, strerror(-*fd));
        return *fd;
    }
    return 0;
}

static int fsck_cut_tail(struct fsck_ctx *c, struct fsck_item *it, char *msg, size_t size)
{
    char path[PATH_MAX];
    struct sxp_err err;
    int fd, rc = fsck_open_log(c, it, O_RDWR, path, &fd, msg, size);
    if (rc)
        return rc;
    rc = residue_cut_tail(c->io, fd, path, it->torn_off, c->sync, &err);
    (void)c->io->close(c->io, fd);
    if (rc)
        fsck_msgf(msg, size, "%s", err.msg);
    return rc;
}

/* the lines that stay and that the .seq does not cover are written
 * again (a failed fdatasync of the crashed session may have left their
 * pages clean in the page cache), then the log is synced, unless a syncfs
 * is to follow (SYNCFS above: by_fs). */
static int fsck_sync_log(struct fsck_ctx *c, const struct fsck_item *it, int by_fs, char *msg,
                         size_t size)
{
    char path[PATH_MAX];
    struct sxp_err err;
    int fd, rc = fsck_open_log(c, it, O_RDWR, path, &fd, msg, size);
    if (rc)
        return rc;
    rc = residue_rewrite(c->io, fd, path, it->above_off, it->torn ? it->torn_off : it->log_size,
                         NULL, &err);
    if (rc) {
        fsck_msgf(msg, size, "%s", err.msg);
    } else if (!by_fs && (rc = c->io->fdatasync(c->io, fd)) != 0) {
        fsck_msgf(msg, size, "fdatasync %s: %s", path, strerror(-rc));
    }
    (void)c->io->close(c->io, fd);
    return rc;
}

/* R-6 could not make an item's log durable: every finding of it fails, and LOCK
 * is not marked clean. */
static void fsck_sync_failed(struct fsck_ctx *c, struct fsck_item *it, const char *msg)
{
    if (!c->sync_failed)
        fsck_msgf(c->sync_msg, sizeof(c->sync_msg), "%s", msg);
    c->sync_failed = 1;
    for (size_t i = 0; i < it->f.n; i++)
        fsck_mark_failed(&it->f.v[i], msg);
}

/* The logs R-6 makes durable: every log, when the store was not closed
 * cleanly. */
static int fsck_needs_sync(const struct fsck_ctx *c, const struct fsck_item *it)
{
    return c->o->mode != FSCK_MODE_CHECK && it->kind == FSCK_ITEM_STREAM && it->has_log &&
           !c->store_clean && c->sync;
}

/* SYNCFS: R-6 for every log at once, from c->syncfs_logs logs: their
 * lines are written again, then one syncfs through LOCK makes them all
 * durable; it->log_synced says how it went. Below the bound each log is
 * synced on its own, in fsck_repair_stream. */
static void fsck_sync_logs(struct fsck_ctx *c)
{
    char msg[512];
    size_t n = 0;
    for (size_t i = 0; i < c->nitems; i++)
        n += fsck_needs_sync(c, &c->items[i]);
    if (n == 0 || n < c->syncfs_logs || c->lock_fd < 0)
        return;
    for (size_t i = 0; i < c->nitems; i++) {
        struct fsck_item *it = &c->items[i];
        if (!fsck_needs_sync(c, it))
            continue;
        uint64_t end = it->torn ? it->torn_off : it->log_size;
        if (it->above_off >= end) {
            it->log_synced = 1; /* nothing to write again: the syncfs is all */
        } else if (fsck_sync_log(c, it, 1, msg, sizeof(msg)) != 0) {
            fsck_sync_failed(c, it, msg);
            it->log_synced = -1;
        } else {
            it->log_synced = 1;
        }
    }
    int rc = c->io->syncfs_fd(c->io, c->lock_fd);
    if (rc == 0)
        return;
    fsck_msgf(msg, sizeof(msg), "syncfs of the %zu logs of %s: %s", n, c->streams_dir,
              strerror(-rc));
    for (size_t i = 0; i < c->nitems; i++) {
        struct fsck_item *it = &c->items[i];
        if (it->log_synced == 1) {
            fsck_sync_failed(c, it, msg);
            it->log_synced = -1;
        }
    }
}

/* -p on an unborn stream (check_seq.c MISSING): its log, empty once any
 * torn tail was cut above, is removed, as recovery does (R-4b), and the
 * unlink made durable. The finding names the .seq; the action says what
 * went. */
static void fsck_remove_unborn(struct fsck_ctx *c, struct fsck_item *it, struct fsck_finding *f)
{
    char path[PATH_MAX], msg[512];
    int rc = fsck_path(c, it->rel, path);
    if (rc == 0)
        rc = c->io->unlink(c->io, path);
    if (rc == -ENOENT)
        rc = 0;
    if (rc == 0 && c->sync)
        rc = c->io->fsync_dir(c->io, c->streams_dir);
    if (rc) {
        fsck_msgf(msg, sizeof(msg), "remove %s: %s", it->rel, strerror(-rc));
        fsck_mark_failed(f, msg);
    } else {
        fsck_mark(f, FSCK_ACT_REMOVED, 0);
    }
}

/* Before a torn tail is cut, its bytes go to lost+found/ (durably, code
 * torn-tail), unless they are only zeros: fsck never deletes a byte that
 * was written. */
static int fsck_save_tail(struct fsck_ctx *c, struct lostfound *lf, struct fsck_item *it,
                          struct fsck_finding *f, char *msg, size_t size)
{
    char path[PATH_MAX];
    int fd, rc = fsck_open_log(c, it, O_RDONLY, path, &fd, msg, size);
    if (rc)
        return rc;
    uint64_t len = it->log_size - it->torn_off;
    rc = io_all_zero(c->io, fd, it->torn_off, len);
    if (rc < 0) {
        fsck_msgf(msg, size, "read %s: %s", path, strerror(-rc));
    } else if (rc == 0) {
        rc = lostfound_put_range(lf, strrchr(it->rel, '/') + 1, fd, it->torn_off, len, it->rel,
                                 f->line, fsck_code_name(f->code), &f->moved_to, msg, size);
        if (rc == 0)
            rc = lostfound_commit(lf, msg, size);
    } else {
        rc = 0;
    }
    (void)c->io->close(c->io, fd);
    return rc;
}

/* The .seq files to write, all together once every log is repaired
 * (fsck_write_seqs), and the findings to mark once they are. */
struct fsck_seq_job {
    struct fsck_finding *f;
    enum fsck_action act; /* on success, with value as its arg */
    int64_t value;
    char *path;
};

struct fsck_seqs {
    struct fsck_seq_job *v;
    size_t n, cap;
};

static void fsck_queue_seq(struct fsck_seqs *q, struct fsck_finding *f, enum fsck_action act,
                           const char *path, int64_t value)
{
    char *copy = strdup(path);
    if (copy && q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        struct fsck_seq_job *nv = realloc(q->v, ncap * sizeof(*nv));
        if (nv) {
            q->v = nv;
            q->cap = ncap;
        }
    }
    if (!copy || q->n == q->cap) {
        free(copy);
        fsck_mark_failed(f, "out of memory");
        return;
    }
    struct fsck_seq_job *j = &q->v[q->n++];
    j->f = f;
    j->act = act;
    j->value = value;
    j->path = copy;
}

/* SYNCFS: writes the queued .seq files, SEQFILE_CHUNK at a time, each
 * chunk synced by one syncfs through LOCK from c->syncfs_logs files (an
 * fdatasync each below), renamed, then one fsync of streams/. A .seq is
 * marked repaired only once that fsync made its rename durable; the rest
 * fail with the error that stopped them. When the writing failed, the
 * ones already in place fail with it too, and streams/ is not fsynced
 * again: seqfile_write_many fsyncs it itself between chunks (seqfile.c
 * RECYCLING), and after a failed directory fsync one that succeeds
 * proves nothing of the entries written before (store_int.h ST-7).
 * Frees q. */
static void fsck_write_seqs(struct fsck_ctx *c, struct fsck_seqs *q)
{
    char msg[512] = "", dmsg[512] = "";
    struct seqfile_item *v = q->n ? calloc(q->n, sizeof(*v)) : NULL;
    int rc = 0, drc = 0, any = 0;
    if (q->n && !v) {
        rc = -ENOMEM;
        fsck_msgf(msg, sizeof(msg), "out of memory");
    }
    if (v) {
        for (size_t k = 0; k < q->n; k++)
            v[k] = (struct seqfile_item){.path = q->v[k].path, .value = q->v[k].value};
        int fs_fd = c->sync && q->n >= c->syncfs_logs ? c->lock_fd : -1;
        rc = seqfile_write_many(c->io, c->streams_dir, v, q->n, c->sync, fs_fd, NULL, NULL);
        if (rc)
            fsck_msgf(msg, sizeof(msg), "writing .seq files in %s%s: %s", c->streams_dir,
                      fs_fd >= 0 ? " (made durable by syncfs)" : "", strerror(-rc));
        for (size_t k = 0; k < q->n; k++)
            any |= v[k].done;
        if (!rc && any && c->sync && (drc = c->io->fsync_dir(c->io, c->streams_dir)) != 0)
            fsck_msgf(dmsg, sizeof(dmsg), "fsync %s: %s", c->streams_dir, strerror(-drc));
    }
    for (size_t k = 0; k < q->n; k++) {
        struct fsck_seq_job *j = &q->v[k];
        if (v && v[k].done && rc == 0 && drc == 0)
            fsck_mark(j->f, j->act, j->value);
        else
            fsck_mark_failed(j->f, rc ? msg : dmsg);
        free(j->path);
    }
    free(v);
    free(q->v);
}

static void fsck_repair_stream(struct fsck_ctx *c, struct lostfound *lf, struct fsck_seqs *q,
                               struct fsck_item *it)
{
    char msg[512], path[PATH_MAX];
    int yes = c->o->mode == FSCK_MODE_YES;
    int preen = c->o->mode != FSCK_MODE_CHECK;
    size_t nline = 0;
    int rc = 0;

    if (it->log_synced < 0)
        return; /* R-6 failed (fsck_sync_logs): its findings say so */
    if (it->log_synced == 0 && fsck_needs_sync(c, it)) {
        /* a killed writer's unsynced pages, read as good lines, are
         * made durable before a .seq vouches for them or LOCK reads clean;
         * those above the .seq are written again first (fsck_sync_log). */
        rc = fsck_sync_log(c, it, 0, msg, sizeof(msg));
        if (rc) {
            fsck_sync_failed(c, it, msg);
            return;
        }
    }
    if (it->torn && preen) {
        for (size_t i = 0; i < it->f.n; i++) {
            struct fsck_finding *f = &it->f.v[i];
            if (f->code != FSCK_TORN_TAIL)
                continue;
            rc = fsck_save_tail(c, lf, it, f, msg, sizeof(msg));
            if (rc) {
                fsck_mark_failed(f, msg);
                return; /* the log is as it was: its .seq is left too */
            }
        }
    }
    for (size_t i = 0; i < it->f.n; i++)
        nline += fsck_is_line_code(it->f.v[i].code);
    if (it->has_log && ((yes && nline) || (c->o->upgrade && it->legacy))) {
        rc = fsck_rewrite_log(c, lf, it, yes, msg, sizeof(msg));
        if (rc) {
            for (size_t i = 0; i < it->f.n; i++)
                if (!fsck_is_seq_code(it->f.v[i].code))
                    fsck_mark_failed(&it->f.v[i], msg);
            return; /* the log is as it was: its .seq is left too */
        }
    } else if (it->torn && preen) {
        rc = fsck_cut_tail(c, it, msg, sizeof(msg));
        for (size_t i = 0; i < it->f.n; i++)
            if (it->f.v[i].code == FSCK_TORN_TAIL) {
                if (rc)
                    fsck_mark_failed(&it->f.v[i], msg);
                else
                    fsck_mark(&it->f.v[i], FSCK_ACT_CUT, (int64_t)it->torn_off);
            }
        if (rc)
            return;
    }

    int64_t hw = it->have_max ? it->max : 0;
    const struct fsck_finding *stands;
    if (fsck_path(c, it->rel_seq, path))
        return;
    for (size_t i = 0; i < it->f.n; i++) {
        struct fsck_finding *f = &it->f.v[i];
        switch (f->code) {
        case FSCK_SEQ_UNREADABLE:
        case FSCK_HW_LOWERED:
            if (!yes)
                break;
            rc = lostfound_move(lf, it->rel_seq, f->len, fsck_code_name(f->code), &f->moved_to, msg,
                                sizeof(msg));
            if (rc)
                fsck_mark_failed(f, msg);
            else
                fsck_queue_seq(q, f, FSCK_ACT_MOVED, path, hw);
            break;
        case FSCK_SEQ_MISSING:
        case FSCK_SEQ_LOST:
        case FSCK_HW_BEHIND:
        case FSCK_SEQ_TORN: /* check_seq.c TORN: written again, as R-7 does */
            if (!preen || (f->code == FSCK_SEQ_LOST && !yes))
                break;
            if (f->code == FSCK_SEQ_MISSING && f->c)
                break; /* check_seq.c MISSING: a held record may name the log */
            if (f->code == FSCK_SEQ_MISSING && f->a) {
                fsck_remove_unborn(c, it, f); /* check_seq.c MISSING */
                break;
            }
            if (f->code == FSCK_SEQ_TORN && f->c &&
                lostfound_move(lf, it->rel_seq, f->len, fsck_code_name(f->code), &f->moved_to, msg,
                               sizeof(msg)) != 0) {
                fsck_mark_failed(f, msg); /* check_seq.c TORN: its text first */
                break;
            }
            if ((stands = fsck_tree_left(c, it->rel_seq)) != NULL) {
                fsck_msgf(msg, sizeof(msg), "not written: %s stands in its place (%s, left)",
                          fsck_foreign_kind(stands->detail), fsck_code_name(stands->code));
                fsck_mark_failed(f, msg);
            } else {
                fsck_queue_seq(q, f,
                               f->code == FSCK_HW_BEHIND ? FSCK_ACT_ROLLED
                               : f->moved_to             ? FSCK_ACT_MOVED
                                                         : FSCK_ACT_CREATED,
                               path, hw);
            }
            break;
        default:
            break;
        }
    }
}

/* Gives a legacy kv value its trailer (--upgrade). */
static int fsck_upgrade_kv(struct fsck_ctx *c, struct fsck_item *it, char *msg, size_t size)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    char *text = NULL, *out = NULL;
    size_t len = 0;
    struct frame_line fl;
    int rc;
    if (fsck_path(c, it->rel, path) || layout_tmp_path(c->kv_dir, tmp)) {
        fsck_msgf(msg, size, "path too long: %s", it->rel);
        return -ENAMETOOLONG;
    }
    rc = io_read_file(c->io, path, (size_t)1 << 30, &text, &len);
    if (rc) {
        fsck_msgf(msg, size, "read %s: %s", path, strerror(-rc));
        return rc;
    }
    frame_decode_whole(text, len, &fl);
    if (fl.status != FRAME_LEGACY) {
        free(text);
        return 0; /* changed since the check: leave it */
    }
    out = malloc(fl.payload_len + FRAME_TRAILER_LEN);
    if (!out) {
        free(text);
        fsck_msgf(msg, size, "out of memory");
        return -ENOMEM;
    }
    size_t n = frame_encode(fl.payload, fl.payload_len, out);
    rc = io_write_atomic(c->io, path, tmp, out, n, c->sync);
    if (rc)
        fsck_msgf(msg, size, "write %s: %s", path, strerror(-rc));
    free(out);
    free(text);
    return rc;
}

static void fsck_repair_file(struct fsck_ctx *c, struct lostfound *lf, struct fsck_item *it)
{
    char msg[512];
    for (size_t i = 0; i < it->f.n; i++) {
        struct fsck_finding *f = &it->f.v[i];
        int rc;
        if ((f->code == FSCK_KV_CORRUPT || f->code == FSCK_BLOB_HASH) &&
            c->o->mode == FSCK_MODE_YES) {
            rc = lostfound_move(lf, f->file, f->len, fsck_code_name(f->code), &f->moved_to, msg,
                                sizeof(msg));
            if (rc)
                fsck_mark_failed(f, msg);
            else
                fsck_mark(f, FSCK_ACT_MOVED, 0);
        } else if (f->code == FSCK_LEGACY_LINE && c->o->upgrade) {
            rc = fsck_upgrade_kv(c, it, msg, sizeof(msg));
            if (rc)
                fsck_mark_failed(f, msg);
            else
                fsck_mark(f, FSCK_ACT_UPGRADED, 1);
        }
    }
}

static void fsck_repair_tree(struct fsck_ctx *c, struct lostfound *lf)
{
    char msg[512], path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX];
    for (size_t i = 0; i < c->tree.n; i++) {
        struct fsck_finding *f = &c->tree.v[i];
        int rc = 0;
        switch (f->code) {
        case FSCK_TEMP_FILE:
            if (c->o->mode == FSCK_MODE_CHECK)
                break;
            rc = fsck_path(c, f->file, path);
            if (rc == 0)
                rc = c->io->unlink(c->io, path);
            if (rc == -ENOENT)
                rc = 0;
            if (rc == 0 && c->sync) {
                io_dirname(path, dir, sizeof(dir));
                rc = c->io->fsync_dir(c->io, dir);
            }
            if (rc) {
                fsck_msgf(msg, sizeof(msg), "remove %s: %s", f->file, strerror(-rc));
                fsck_mark_failed(f, msg);
            } else {
                fsck_mark(f, FSCK_ACT_REMOVED, 0);
            }
            break;
        case FSCK_BAD_NAME:
        case FSCK_FOREIGN_FILE:
            if (c->o->mode != FSCK_MODE_YES)
                break;
            rc = lostfound_move(lf, f->file, f->len, fsck_code_name(f->code), &f->moved_to, msg,
                                sizeof(msg));
            if (rc)
                fsck_mark_failed(f, msg);
            else
                fsck_mark(f, FSCK_ACT_MOVED, 0);
            break;
        case FSCK_FORMAT_MISSING:
            if (!c->o->upgrade)
                break;
            rc = fsck_path(c, "FORMAT", path);
            if (rc == 0)
                rc = layout_tmp_path(c->root, tmp);
            if (rc == 0)
                rc = io_write_atomic(c->io, path, tmp, LAYOUT_FORMAT_TEXT,
                                     strlen(LAYOUT_FORMAT_TEXT), c->sync);
            if (rc) {
                fsck_msgf(msg, sizeof(msg), "write FORMAT: %s", strerror(-rc));
                fsck_mark_failed(f, msg);
            } else {
                fsck_mark(f, FSCK_ACT_CREATED, 1);
            }
            break;
        default:
            break;
        }
    }
}

void fsck_repair(struct fsck_ctx *c)
{
    struct lostfound lf;
    struct fsck_seqs q = {NULL, 0, 0};
    lostfound_init(&lf, c->io, c->root, c->sync);
    /* Temp files and foreign names first: a log rewrite makes temp files of
     * its own, which must not be mistaken for leftovers. */
    fsck_repair_tree(c, &lf);
    fsck_sync_logs(c);
    for (size_t i = 0; i < c->nitems; i++) {
        struct fsck_item *it = &c->items[i];
        if (it->kind == FSCK_ITEM_STREAM)
            fsck_repair_stream(c, &lf, &q, it);
        else
            fsck_repair_file(c, &lf, it);
    }
    fsck_write_seqs(c, &q);
    lostfound_close(&lf);
}
