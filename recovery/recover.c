/*
 * recover.c -- RECOVERY: what a crash may leave in a store, what is repaired
 * and what is refused. This comment is the rule; docs/recovery.md retells it
 * and sxp-fsck (fsck/) applies the same rule to whole logs.
 *
 * INVARIANTS of a store at rest. Recovery restores those a crash can break;
 * sxp-fsck checks all of them.
 *   INV-1  Within a log, each line's :seq is strictly greater than the :seq
 *          of the line before it (so the last line holds the max seq).
 *   INV-2  Every line of a log is a GOOD line: framed and valid (frame.h
 *          FRAME_OK) or legacy (FRAME_LEGACY), its payload one SX dict with
 *          an integer :seq; the log ends in LF (or is empty).
 *   INV-3  A stream's high-water mark (its .seq) is >= the max seq of its log.
 *   INV-4  Every .log has a .seq beside it.
 *   INV-5  No temporary file ("*.tmp") is left in ROOT, streams/, kv/, blobs/.
 *
 * WHEN. engine/store.c calls recover_store on every read-write open whose
 * LOCK does not read "clean\n" (engine/lock.h K-1), before the store serves
 * anything; `sxp recover` calls it always. After a clean close it is not
 * called, so that open reads no log data. The open passes sync = 1 in every
 * mode: what recovery repairs may be a syncing session's acknowledged data.
 *
 * THE CRASH MODEL. The engine acknowledges an append only after the bytes of
 * its line, LF included, are covered by a completed fdatasync, and it never
 * has more than COMMIT_MAX_UNSYNCED bytes of one log written but not synced
 * (engine/commit.h). A crash (process kill or power loss) may leave of the
 * unsynced writes: a prefix; some pages lost, reading back as NUL bytes,
 * while later pages survive; the file extended with NUL bytes. It never
 * flips bits and never writes non-NUL bytes that were not written.
 *
 * THE RULES.
 *   R-0  The journal. First, every valid record of ROOT/JOURNAL's current
 *        generation is written back into its log and those logs are
 *        fdatasynced (engine/journal.c J-6): a round acknowledged through the
 *        journal may have lost its unsynced log pages. After that, what the
 *        crash model above says holds for every log.
 *   R-1  Temp files. Every regular file whose name ends in ".tmp" in ROOT,
 *        streams/, kv/ and blobs/ is an interrupted atomic write (the target
 *        was never replaced): it is removed, then its directory fsynced.
 *   R-2  The logs. When LOCK holds the crashed session's dirty list
 *        (engine/lock.h K-5), only the logs whose bucket it names or a
 *        JOURNAL record names, and logs without a .seq, are read:
 *        every other log was consistent when the session began (a clean
 *        close, or an earlier recovery) and was not written since. Without
 *        a list (an older LOCK, a list cut short, one a replay forgot) every
 *        log is read.
 *        The window. Of each streams/<hex>.log only the tail is read: its
 *        last COMMIT_MAX_UNSYNCED bytes, extended back to the start of the
 *        line holding the window's first byte. A line wholly before the
 *        window was synced before anything in the window was written, so it
 *        is trusted here (reads and sxp-fsck verify it); only its :seq is
 *        read, as the seq the window's first line must exceed. The work is
 *        proportional to what could be unsynced, not to the log's size.
 *        Logs are independent, so RECOVER_THREADS of them are scanned at a
 *        time; the verdict does not depend on the order.
 *   R-3  Torn tail or corruption. A line is GOOD when it is FRAME_OK or
 *        FRAME_LEGACY, its payload parses (sx_parse, made fast by
 *        sxcheck.h) as a dict with an integer :seq, and that seq is strictly
 *        greater than the last good line's. Let X be the offset of the first
 *        line of the window that is not good. The bytes from X to the end of
 *        the file are a TORN TAIL when
 *          - the line at X is (a) INCOMPLETE (the last bytes, no LF), or
 *            (b) a bad line holding at least one NUL byte whose checksum
 *            does not match or that has no trailer (under a matching
 *            checksum a NUL is a string's byte: a crash makes no sum
 *            match); and
 *          - every later line is (a), (b), or (c) a good line (a page of the
 *            same unacknowledged batch that survived while an earlier one
 *            was lost; its seq still has to exceed the last good seq).
 *        A torn tail is cut: ftruncate to X, fdatasync (or R-8), reported. A
 *        zero-filled tail (NUL bytes after the last LF) is case (a). A tail
 *        holding a (c) line is first copied to lost+found/ (MANIFEST code
 *        torn-tail, lostfound.c) and synced: a sector lost under
 *        acknowledged events, while the .seq lags, looks the same. So is a
 *        tail holding any byte that is not NUL when the .seq is above the
 *        seq of the last good line before X (0 when there is none) and
 *        R-3c could not judge it: no good line precedes X (a log damaged
 *        from its first byte, which a truncate that emptied the log makes
 *        look like a torn first append), or R-7. The mark then says what
 *        was there may have been acknowledged: it is kept, not deleted.
 *        Any other bad line -- a checksum mismatch or a bad trailer without
 *        a NUL byte, an unparsable event under a valid checksum, a missing
 *        or non-integer :seq, a seq not above the one before, a blank line,
 *        a line longer than LOGSCAN_LINE_MAX without a NUL -- is CORRUPTION,
 *        which no crash of this engine explains: recover_store returns
 *        -EUCLEAN with a message naming the file, the byte offset and the
 *        line and pointing to sxp-fsck, and changes nothing of that log or
 *        its .seq. Other logs are still recovered.
 *   R-3b An INCOMPLETE last line is never acknowledged data (no LF, no ack).
 *        sxp-fsck reports it as a torn tail, and -p cuts it, even when the
 *        log also holds corruption; recovery refuses such a log whole.
 *   R-3c The high-water mark proves what was durable. A .seq is written
 *        only with a mark whose events are all durable (engine/streams.c at
 *        close and truncate, R-4 after a cut), and later appends are above
 *        it. So a candidate torn tail is CORRUPTION when a good line after
 *        X has a seq the .seq covers, or when the .seq is above the seq of
 *        the last good line before X (that durable event can only be at X
 *        or later: a truncate removes whole prefixes). logscan.c applies
 *        both (logscan_tail_feed, logscan_tail_close).
 *   R-3d After a clean close nothing is torn: every byte was synced (lock.h
 *        K-3). Open does not recover then; sxp-fsck, reading LOCK "clean",
 *        calls no line a torn tail (logscan_tail_set_clean).
 *   R-4  High-water marks. For each log, the max seq of what stays (the last
 *        good line's, INV-1; 0 for an empty log) is compared with its .seq:
 *        a missing .seq is created holding it, a lower one is rolled forward
 *        to it, a higher one is kept (truncate leaves hw above the log; hw
 *        is never lowered). Each write is atomic (temp file, fdatasync,
 *        rename). They are done after every log's scan, SEQFILE_CHUNK
 *        temp files synced at once (engine/seqfile.h), and one fsync of
 *        streams/ makes all the renames durable. A .seq that does not parse
 *        (layout_seq_parse) is corruption, since atomic writes cannot tear
 *        it: -EUCLEAN naming it. A .seq with no .log is a stream whose
 *        events were all truncated away: fine, but it must parse.
 *   R-4b UNBORN STREAMS. A log with no .seq that is empty once its torn
 *        tail is cut is an unborn stream's (engine/streams.c): its first
 *        append failed or never became durable. The log is removed, not
 *        given a .seq of 0, so persist/streams lists no stream that never
 *        had an append. The unlinks come after R-0 emptied the journal (no
 *        record can name a log taken away) and share R-4's fsync of
 *        streams/.
 *   R-7  AFTER AN UNSYNCED SESSION (LOCK read unsynced, engine/lock.h
 *        K-6, K-7, or a store without FORMAT, which the reference wrote
 *        without syncs, engine/store.c; and not in the boot the session
 *        ran in, K-8: in that boot it was killed and the page cache kept
 *        all it wrote, so the rules above hold as after a syncing session,
 *        its dirty list included; the open settled the store first): that
 *        session wrote .seq files by renames without syncing its logs, and
 *        wrote without COMMIT_MAX_UNSYNCED's bound, so after a power loss
 *        a .seq proves nothing and a lost page can sit anywhere in a log.
 *        So every log is read whole (no window), R-3c is not applied (a
 *        damaged line holding a NUL under the mark is a torn tail, cut
 *        from there on, its good lines saved to lost+found/ as in R-3),
 *        and a .seq that does not parse is written again from its log's
 *        last event (its bytes first copied to lost+found/, code
 *        seq-torn, when a torn write of a mark does not explain them)
 *        instead of
 *        refused (still refused when no event is
 *        left to rebuild it from: the mark may have been above them all,
 *        and a mark is never lowered by a guess). R-4 still never lowers
 *        a mark that parses. Corruption no crash explains (a bad checksum
 *        without a NUL, a seq out of order) is still refused. sxp-fsck
 *        judges such a store the same way (fsck_after_unsynced in
 *        fsck/fsck_int.h): the torn tail is residue that -p cuts, and the
 *        unparsable .seq is seq-torn, which -p writes again.
 *   R-5  Recovery reads no kv values and no blobs: they are replaced
 *        atomically, so a crash leaves at most a temp file. sxp-fsck
 *        reads them.
 *   R-6  Recovery never removes a file that is not a temp file, but for
 *        R-4b's empty logs. Every repair
 *        is durable before recover_store returns when sync is set (data
 *        fdatasync, then directory fsync), and so is every log it keeps: a
 *        process killed mid-write leaves written but unsynced pages in the
 *        page cache, which recovery reads as good lines, so each log is
 *        fdatasynced before its .seq is written (R-3c, R-3d depend on it):
 *        each thread syncs the logs it kept RECOVER_SYNC_CHUNK at a time in
 *        one write_sync (or R-8's one syncfs follows every thread), and R-4
 *        writes .seq files only after all threads and that sync.
 *        An fdatasync alone is not enough: when the crashed session's
 *        fdatasync of a log failed, in this boot, the kernel marked the
 *        failed round's pages clean all the same (io.h IO-5), so they read
 *        as good lines that no fdatasync writes. So every kept line of the
 *        window that the .seq does not cover (its seq above the mark, or no
 *        .seq) is first written again, the same bytes at the same offset
 *        (residue_rewrite), which dirties its pages; lines the .seq covers
 *        were durable when it was written (R-3c). That is at most what the
 *        crashed session appended since the stream's last close, truncate
 *        or recovery, and never more than the window. Lines R-0 has just
 *        written and synced are durable too: when one unbroken run of the
 *        log's records holds every kept line above the .seq (struct
 *        journal_written), they are not written again. A log kept whole is
 *        synced only when some line stays that neither vouches for.
 *        Running it twice changes nothing the second time.
 *   R-8  ONE SYNCFS FOR MANY FILES (engine/journal.c J-11). Given LOCK's
 *        descriptor (the store's open passes it), recovery makes many
 *        files durable with one syncfs(2) through it instead of an
 *        fdatasync each, at a bound of syncfs_logs (JOURNAL_SYNCFS_LOGS;
 *        never under sxp_options.sync_each_log): R-0's logs when the
 *        journal holds that many records (J-6); R-6's kept logs when that
 *        many logs are read, by one syncfs after every scan and before R-4
 *        writes a .seq; R-4's .seq files when that many are written, by
 *        one syncfs per SEQFILE_CHUNK before their renames. LOCK was opened
 *        before recovery wrote anything, so the kernel reports to it every
 *        writeback error since (errseq). Pages that a crashed session's
 *        failed writeback left clean are dirtied again first (R-0 writes
 *        its records, R-6 rewrites its lines), as for an fdatasync. A
 *        failed syncfs fails every file it was to sync, as their
 *        fdatasyncs would: the open fails, no .seq vouches for an unsynced
 *        line, and the journal is not emptied. A torn tail's cut
 *        waits for R-6's syncfs too, in place of its own fdatasync; the
 *        copy that R-3 saves to lost+found/ first keeps its own syncs,
 *        since it must be durable before the cut can be.
 *
 * EXAMPLES (each a log after a crash; W the window's start):
 *   {:seq 1}⏎ {:seq 2}⏎ {:seq 3 :x          -> cut at line 3 (a)
 *   {:seq 1}⏎ {:seq 2}⏎ NUL NUL NUL ...     -> cut at the NULs (a)
 *   {:seq 1}⏎ NUL..NUL{:seq 3}⏎ {:seq 4}⏎   -> cut at line 2 (b), line 3 (c)
 *   {:seq 1}⏎ {:sex 2}⏎ {:seq 3}⏎           -> checksum mismatch at line 2:
 *                                              refused
 *   {:seq 1}⏎ {:seq 3}⏎ {:seq 2}⏎           -> seq not increasing: refused
 *   {:seq 1}⏎ NUL..⏎ {:seq 3 :x badsum⏎     -> line 3 has no NUL and a bad
 *                                              checksum: refused
 *   {:seq 1}⏎ NUL..NUL⏎ {:seq 3}⏎, .seq 3   -> line 3 covered: refused (R-3c)
 *   {:seq 1}⏎ NUL..NUL⏎, .seq 2             -> event 2 durable: refused (R-3c)
 */
#include "recover.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "journal.h"
#include "layout.h"
#include "lock.h"
#include "logscan.h"
#include "lostfound.h"
#include "residue.h"
#include "seqfile.h"
#include "sxcheck.h"

/* Recovery runs logs on this many threads: the scan of each window is
 * CPU-bound (checksums, syntax), and logs are independent. */
#define RECOVER_THREADS 2
/* each thread fdatasyncs the logs it keeps this many at a time, in one
 * write_sync (io_uring runs them in parallel); their descriptors stay open
 * until then. Fewer under a low RLIMIT_NOFILE: an eighth of it per thread,
 * at least 8 (io_fd_share). */
#define RECOVER_SYNC_CHUNK 128

/* lost+found/, where a torn tail that held good lines goes before it
 * is cut; the workers share it. */
struct recover_saved {
    pthread_mutex_t mu;
    struct lostfound lf;
};

/* One recovery run; read-only once the workers start (saved is shared
 * under its own lock). */
struct recover_ctx {
    struct sxp_io *io;
    const char *root;
    char streams_dir[PATH_MAX];
    int sync;
    int unsynced; /* the crashed session ran without syncs */
    struct recover_saved *saved;
    struct recover_job *jobs;
    size_t njobs;
    size_t next;        /* next job to take (atomic) */
    size_t sync_chunk;  /* kept logs synced at once, per thread */
    int fs_fd;          /* LOCK's descriptor, or -1 */
    size_t syncfs_logs; /* the bound */
    int by_fs;          /* kept logs wait for one syncfs, not an fdatasync each */
    struct journal_written_list written; /* R-0's synced runs */
};

/* One stream: its log (R-2..R-4) or a .seq without a log. Each job
 * writes only its own fields, so workers share nothing else. */
struct recover_job {
    const char *stem;          /* hex name */
    int is_log;                /* 1: <stem>.log exists */
    int rc;                    /* 0, -EUCLEAN (refused), or another -errno */
    struct sxp_err err;        /* the message for rc */
    struct recover_report rep; /* what this job did */
    int seq_write;             /* 1 when the .seq is to be written */
    int seq_had;               /* 1: it existed (rolled forward), 0: created */
    int64_t seq_value;         /* what it is to hold */
    int unborn;                /* R-4b: its empty log is to be removed */
    int fs_wait;               /* its kept lines wait for the syncfs */
};

/* one thread's kept logs waiting for their fdatasync. */
struct recover_pending {
    struct recover_job *job[RECOVER_SYNC_CHUNK];
    int fd[RECOVER_SYNC_CHUNK];
    size_t n;
};

/* The names in streams/ that recovery looks at. */
struct recover_names {
    char **logs; /* hex stems of <hex>.log */
    size_t nlogs, caplogs;
    char **seqs; /* hex stems of <hex>.seq */
    size_t nseqs, capseqs;
    int oom;
};

static int recover_push(char ***v, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        char **nv = realloc(*v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    char *d = strndup(s, len);
    if (!d)
        return -ENOMEM;
    (*v)[(*n)++] = d;
    return 0;
}

static int recover_collect(void *arg, const char *name, int is_dir)
{
    struct recover_names *ns = arg;
    char decoded[LAYOUT_STREAM_MAX];
    size_t dlen = 0;
    if (is_dir)
        return 0;
    enum layout_kind k = layout_classify_stream_file(name, decoded, &dlen);
    int rc = 0;
    if (k == LAYOUT_LOG)
        rc = recover_push(&ns->logs, &ns->nlogs, &ns->caplogs, name, strlen(name) - 4);
    else if (k == LAYOUT_SEQ)
        rc = recover_push(&ns->seqs, &ns->nseqs, &ns->capseqs, name, strlen(name) - 4);
    if (rc) {
        ns->oom = 1;
        return 1;
    }
    return 0;
}

static int recover_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void recover_names_free(struct recover_names *ns)
{
    for (size_t i = 0; i < ns->nlogs; i++)
        free(ns->logs[i]);
    for (size_t i = 0; i < ns->nseqs; i++)
        free(ns->seqs[i]);
    free(ns->logs);
    free(ns->seqs);
}

/* Records j's stream as refused, corrupt: the message is
 * "streams/STEM.SUFFIX (stream NAME): " and fmt's text, NAME the stream's
 * name decoded from STEM and quoted, so that the operator sees which stream
 * of theirs it is. Returns -EUCLEAN. */
static int recover_refuse(struct recover_job *j, const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int recover_refuse(struct recover_job *j, const char *suffix, const char *fmt, ...)
{
    char name[LAYOUT_STREAM_MAX + 1], quoted[ERR_QUOTED_MAX];
    size_t nlen = 0, at;
    va_list ap;
    if (layout_hex_decode(j->stem, strlen(j->stem), name, &nlen) == 0 && nlen <= LAYOUT_STREAM_MAX)
        err_quote(name, nlen, quoted, ERR_QUOTED_MAX);
    else
        snprintf(quoted, sizeof(quoted), "?");
    at = (size_t)snprintf(j->err.msg, sizeof(j->err.msg), "streams/%s.%s (stream %s): ", j->stem,
                          suffix, quoted);
    if (at < sizeof(j->err.msg)) {
        va_start(ap, fmt);
        vsnprintf(j->err.msg + at, sizeof(j->err.msg) - at, fmt, ap);
        va_end(ap);
    }
    j->err.code = -EUCLEAN;
    j->err.kind = "corrupt";
    return -EUCLEAN;
}

/* Reads the seq of the line [start, end) before the window: 1 and
 * *out when it is a framed or legacy event, 0 when it is not (sxp-fsck will
 * say what is wrong with it), -errno on a read error or out of memory. */
static int recover_trusted_seq(struct sxp_io *io, int fd, uint64_t start, uint64_t end,
                               int64_t *out)
{
    if (end - start > LOGSCAN_LINE_MAX)
        return 0;
    size_t len = (size_t)(end - start);
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return -ENOMEM;
    int rc = 0;
    ssize_t n = io->pread(io, fd, buf, len, start);
    if (n < 0) {
        rc = (int)n;
    } else if ((size_t)n == len && len > 0) {
        struct frame_line fl;
        frame_next(buf, len, &fl);
        enum sxcheck_verdict v = fl.status == FRAME_OK || fl.status == FRAME_LEGACY
                                     ? sxcheck_event(fl.payload, fl.payload_len, out)
                                     : SXCHECK_UNPARSABLE;
        rc = v == SXCHECK_EVENT ? 1 : v == SXCHECK_NOMEM ? -ENOMEM : 0;
    }
    free(buf);
    return rc;
}

/* streams/<stem>.seq into path (PATH_MAX). */
static int recover_seq_path(const struct recover_ctx *c, struct recover_job *j, const char *stem,
                            char *path)
{
    if (snprintf(path, PATH_MAX, "%s/%s.seq", c->streams_dir, stem) >= PATH_MAX)
        return err_set(&j->err, -ENAMETOOLONG, "path too long in %s", c->streams_dir);
    return 0;
}

static int recover_refuse_seq(struct recover_job *j)
{
    return recover_refuse(j, "seq", "unreadable high-water mark at byte 0: run sxp-fsck");
}

/* Copies [off, off + len) of fd, from streams/<stem>.<suffix>, to
 * lost+found/ with its MANIFEST line, durably; the jobs share the folder. */
static int recover_save(const struct recover_ctx *c, const struct recover_job *j,
                        const char *suffix, int fd, uint64_t off, uint64_t len, uint64_t line,
                        const char *code, char *msg, size_t msg_size)
{
    char base[PATH_MAX], rel[PATH_MAX];
    char *name = NULL;
    snprintf(base, sizeof(base), "%s.%s", j->stem, suffix);
    snprintf(rel, sizeof(rel), "streams/%s.%s", j->stem, suffix);
    pthread_mutex_lock(&c->saved->mu);
    int rc = lostfound_put_range(&c->saved->lf, base, fd, off, len, rel, line, code, &name, msg,
                                 msg_size);
    if (rc == 0)
        rc = lostfound_commit(&c->saved->lf, msg, msg_size);
    pthread_mutex_unlock(&c->saved->mu);
    free(name);
    return rc;
}

/* a .seq that does not parse after an unsynced session is written
 * again from its log; when it holds a byte no torn write of a mark
 * explains (layout_seq_torn_only), its bytes first go to lost+found/ (code
 * seq-torn, as sxp-fsck -p saves them): nothing is deleted that may tell
 * what the mark was. */
static int recover_save_seq(const struct recover_ctx *c, struct recover_job *j, const char *path,
                            const char *text, size_t len, int longer)
{
    if (!longer && layout_seq_torn_only(text, len))
        return 0;
    char msg[512];
    uint64_t size = 0;
    int fd = c->io->open(c->io, path, O_RDONLY, 0);
    if (fd < 0)
        return err_set(&j->err, fd, "open %s: %s", path, strerror(-fd));
    int rc = c->io->fsize(c->io, fd, &size);
    if (rc == 0) {
        rc = recover_save(c, j, "seq", fd, 0, size, 0, "seq-torn", msg, sizeof(msg));
        if (rc)
            rc = err_set(&j->err, rc, "saving the unreadable streams/%s.seq: %s", j->stem, msg);
    } else {
        rc = err_set(&j->err, rc, "stat %s: %s", path, strerror(-rc));
    }
    (void)c->io->close(c->io, fd);
    return rc;
}

/* Reads streams/<stem>.seq: 1 and *out when it holds a mark, 0 when it is
 * absent, -EUCLEAN (refused, R-4) when it does not parse, -errno. After an
 * unsynced session a mark that does not parse reads as 1 and -1: it
 * is below every max, so R-4 writes it again, from the log's events. */
static int recover_read_hw(const struct recover_ctx *c, struct recover_job *j, const char *stem,
                           int64_t *out)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    int rc = recover_seq_path(c, j, stem, path);
    if (rc)
        return rc;
    rc = io_read_file(c->io, path, LAYOUT_SEQ_MAX_TEXT, &text, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc && rc != -E2BIG)
        return err_set(&j->err, rc, "read %s: %s", path, strerror(-rc));
    int parsed = rc == 0 && layout_seq_parse(text, len, out) == 0;
    if (!parsed && c->unsynced) {
        int src = recover_save_seq(c, j, path, text, len, rc == -E2BIG);
        free(text);
        if (src)
            return src;
        *out = -1; /* */
        return 1;
    }
    free(text);
    if (parsed)
        return 1;
    if (rc == -E2BIG)
        return recover_refuse(j, "seq",
                              "unreadable high-water mark (longer than %d bytes) at byte 0: run "
                              "sxp-fsck",
                              LAYOUT_SEQ_MAX_TEXT);
    return recover_refuse_seq(j);
}

/* R-4 for one stream whose log's max seq is max and that ends empty or
 * not (empty); have_hw and hw: what recover_read_hw found. The write
 * itself is left to recover_write_seqs, which does all of them at once
 * after the scans, and so is R-4b's unlink of an unborn stream's log. */
static void recover_seq(struct recover_job *j, int have_hw, int64_t hw, int64_t max, int empty)
{
    if (!have_hw && empty) {
        j->unborn = 1; /* R-4b */
        return;
    }
    if (have_hw && hw >= max)
        return;
    j->seq_write = 1;
    j->seq_had = have_hw;
    j->seq_value = max;
}

/* The number of lines before the window's start, for messages: only a
 * refusal pays for counting them (0 when they cannot be read). */
static uint64_t recover_lines_before(const struct recover_ctx *c, int fd, uint64_t start)
{
    uint64_t before = 0;
    if (start > 0 && logscan_count_lines(c->io, fd, start, &before) != 0)
        before = 0;
    return before;
}

/* a torn tail with good lines after its first bad one (case c) is
 * what a crash leaves when a later page of an unacknowledged batch reached
 * the disk before an earlier one; or, when a lost sector is the bad line,
 * events that were acknowledged. The two look alike, so its bytes go to
 * lost+found/ (code torn-tail, as sxp-fsck -p saves them), durably, before
 * the cut: nothing that may have been acknowledged is deleted. */
static int recover_save_tail(const struct recover_ctx *c, struct recover_job *j, int fd,
                             uint64_t start, const struct logscan_tail *t, uint64_t size)
{
    char msg[512];
    uint64_t line = recover_lines_before(c, fd, start) + t->x_no;
    int rc = recover_save(c, j, "log", fd, t->x_off, size - t->x_off, line, "torn-tail", msg,
                          sizeof(msg));
    if (rc)
        return err_set(&j->err, rc, "saving the torn tail of streams/%s.log: %s", j->stem, msg);
    j->rep.tails_saved++;
    return 0;
}

/* R-3, THE MARK'S DOUBT: a torn tail without a good line is saved too when
 * the high-water mark may cover what it held (the mark is above the seq
 * of the last good line before X, 0 when there is none, or unreadable
 * under R-7) and R-3c, which would have refused it, could not judge: no
 * good line precedes X (a log damaged from its first line: a truncate can
 * empty a log, so this is not proof) or R-7 does not apply R-3c. Only a
 * tail holding a byte that is not NUL is worth a copy. 1 in *out: save. */
static int recover_tail_doubted(const struct recover_ctx *c, int fd, const struct logscan_tail *t,
                                int have_hw, int64_t hw, uint64_t size, int *out)
{
    int64_t prev = t->x_have_prev ? t->x_prev_seq : 0;
    *out = 0;
    if (!have_hw || (hw >= 0 && hw <= prev))
        return 0;
    int rc = io_all_zero(c->io, fd, t->x_off, size - t->x_off);
    if (rc < 0)
        return rc;
    *out = !rc;
    return 0;
}

/* Names a corrupt line: file, byte offset and line number. */
static int recover_refuse_line(const struct recover_ctx *c, struct recover_job *j, int fd,
                               uint64_t start, const struct logscan_line *l,
                               const struct logscan_class *cl)
{
    if (cl->v == LS_NOMEM) /* no verdict: not corruption (sxcheck.h) */
        return err_set(&j->err, -ENOMEM,
                       "streams/%s.log: out of memory judging the line at byte %" PRIu64, j->stem,
                       l->off);
    uint64_t before = recover_lines_before(c, fd, start);
    if (cl->v == LS_SEQ_ORDER)
        return recover_refuse(j, "log",
                              "seq %" PRId64 " not above the previous line's at byte %" PRIu64
                              " (line %" PRIu64 "): run sxp-fsck",
                              cl->seq, l->off, before + l->no);
    return recover_refuse(j, "log", "%s at byte %" PRIu64 " (line %" PRIu64 "): run sxp-fsck",
                          logscan_verdict_name(cl->v), l->off, before + l->no);
}

/* Names the first line of a candidate torn tail that R-3c proved is not
 * one: a later good line's seq is covered by the high-water mark. */
static int recover_refuse_durable(const struct recover_ctx *c, struct recover_job *j, int fd,
                                  uint64_t start, const struct logscan_tail *t, int64_t seq)
{
    uint64_t before = recover_lines_before(c, fd, start);
    return recover_refuse(j, "log",
                          "damaged line at byte %" PRIu64 " (line %" PRIu64
                          ") is followed by seq %" PRId64 ", which the high-water mark %" PRId64
                          " says was durable: not a torn tail: run sxp-fsck",
                          t->x_off, before + t->x_no, seq, t->hw);
}

/* fdatasyncs the pending logs in one write_sync and closes them. A
 * failed sync fails its job, which then writes no .seq. */
static void recover_flush(const struct recover_ctx *c, struct recover_pending *p)
{
    struct io_wsync w[RECOVER_SYNC_CHUNK];
    for (size_t k = 0; k < p->n; k++)
        w[k] = (struct io_wsync){.fd = p->fd[k], .sync = 1};
    if (p->n)
        (void)c->io->write_sync(c->io, w, p->n);
    for (size_t k = 0; k < p->n; k++) {
        struct recover_job *j = p->job[k];
        if (w[k].res && j->rc == 0) {
            j->rc = err_set(&j->err, w[k].res, "fdatasync %s/%s.log: %s", c->streams_dir, j->stem,
                            strerror(-w[k].res));
            j->seq_write = 0;
        }
        (void)c->io->close(c->io, p->fd[k]);
    }
    p->n = 0;
}

/* R-0 wrote bytes from..to of streams/<stem>.log and synced them. */
static int recover_written(const struct recover_ctx *c, const char *stem, uint64_t from,
                           uint64_t to)
{
    const struct journal_written *w = journal_written_find(&c->written, stem);
    return w && w->lo <= from && to <= w->hi;
}

/* for streams/<stem>.log. A log kept whole is left open in
 * p for its fdatasync when lines no .seq vouches for stay. */
static int recover_log(const struct recover_ctx *c, struct recover_job *j,
                       struct recover_pending *p)
{
    const char *stem = j->stem;
    char path[PATH_MAX];
    struct logscan_reader rd;
    struct logscan_tail t;
    struct logscan_line l;
    struct logscan_class cl;
    uint64_t size = 0, start = 0;
    int64_t prev = 0, max = 0, hw = 0;
    int have_prev = 0, have_max = 0, have_hw = 0, fd = -1, rc;
    int reader_open = 0;

    if (snprintf(path, sizeof(path), "%s/%s.log", c->streams_dir, stem) >= (int)sizeof(path))
        return err_set(&j->err, -ENAMETOOLONG, "path too long in %s", c->streams_dir);
    fd = c->io->open(c->io, path, O_RDWR, 0);
    if (fd < 0)
        return err_set(&j->err, fd, "open %s: %s", path, strerror(-fd));
    rc = c->io->fsize(c->io, fd, &size);
    if (rc) {
        rc = err_set(&j->err, rc, "stat %s: %s", path, strerror(-rc));
        goto out;
    }
    j->rep.logs_scanned++;

    /* R-3c needs the high-water mark before the scan. */
    rc = recover_read_hw(c, j, stem, &hw);
    if (rc < 0)
        goto out;
    have_hw = rc;

    /* the window, back to a line start, and the trusted line's seq. */
    logscan_tail_init(&t, c->unsynced ? 0 : size, 0, 0);
    rc = logscan_line_start(c->io, fd, t.window, &start);
    if (rc == 0 && start > 0) {
        uint64_t pstart = 0;
        rc = logscan_line_start(c->io, fd, start - 1, &pstart);
        if (rc == 0) {
            rc = recover_trusted_seq(c->io, fd, pstart, start, &prev);
            if (rc > 0)
                have_prev = 1;
            rc = rc < 0 ? rc : 0;
        }
    }
    if (rc) {
        rc = err_set(&j->err, rc, "read %s: %s", path, strerror(-rc));
        goto out;
    }
    t.have_prev = have_prev;
    t.prev_seq = prev;
    if (have_hw && !c->unsynced)
        logscan_tail_set_hw(&t, hw);

    /* judge every line of the window. */
    rc = logscan_reader_open(&rd, c->io, fd, start, size, 1, 0);
    if (rc) {
        rc = err_set(&j->err, rc, "out of memory");
        goto out;
    }
    reader_open = 1;
    while ((rc = logscan_reader_next(&rd, &l)) > 0) {
        enum logscan_tail_action a = logscan_tail_feed(&t, &l, &cl);
        if (a == LTA_BAD || a == LTA_FAILED) {
            rc = recover_refuse_line(c, j, fd, start, &l, &cl);
            goto out;
        }
        if (a == LTA_DURABLE) {
            rc = recover_refuse_durable(c, j, fd, start, &t, cl.seq);
            goto out;
        }
    }
    if (rc < 0) {
        rc = err_set(&j->err, rc, "read %s: %s", path, strerror(-rc));
        goto out;
    }
    j->rep.bytes_read += size - start;
    struct logscan_bad_range bad;
    if (logscan_tail_close(&t, &bad)) {
        uint64_t before = recover_lines_before(c, fd, start);
        rc = recover_refuse(
            j, "log",
            "damaged line at byte %" PRIu64 " (line %" PRIu64 ") where the high-water mark %" PRId64
            " says an event above seq %" PRId64 " was durable: not a torn tail: run sxp-fsck",
            bad.from, before + bad.no, t.hw, bad.prev_seq);
        goto out;
    }
    uint64_t kept = size; /* the log's size once repaired */
    int torn = logscan_tail_end(&t, &have_max, &max);
    if (have_hw && hw < 0 && !have_max) {
        /* an unreadable mark, and no event left to rebuild it from. */
        rc = recover_refuse_seq(j);
        goto out;
    }
    if (torn)
        kept = t.x_off;
    /* the lines no .seq vouches for, unless R-0 has just written and
     * synced every one of them. */
    int unvouched = t.above_off < kept && !recover_written(c, stem, t.above_off, kept);
    if (c->sync && unvouched) {
        /* they are written again before the sync that makes them
         * durable (the cut's, recover_flush's or R-8's). */
        uint64_t bytes = 0;
        rc = residue_rewrite(c->io, fd, path, t.above_off, kept, &bytes, &j->err);
        if (rc)
            goto out;
        j->rep.bytes_rewritten += bytes;
    }
    if (torn) {
        int save = t.x_good > 0;
        if (!save && (rc = recover_tail_doubted(c, fd, &t, have_hw, hw, size, &save)) != 0) {
            rc = err_set(&j->err, rc, "read %s: %s", path, strerror(-rc));
            goto out;
        }
        rc = save ? recover_save_tail(c, j, fd, start, &t, size) : 0;
        if (rc)
            goto out;
        /* by the syncfs after every scan, or its own fdatasync. */
        rc = residue_cut_tail(c->io, fd, path, t.x_off, c->sync && !c->by_fs, &j->err);
        if (rc)
            goto out;
        j->fs_wait = c->sync && c->by_fs;
        j->rep.tails_cut++;
        j->rep.bytes_cut += size - t.x_off;
    } else if (c->sync && unvouched) {
        /* what stays may be a killed writer's unsynced pages, still in
         * the page cache. Sync them before R-4 vouches for them in a .seq
         * (R-3c) and before LOCK can read clean again (R-3d): the worker
         * does, in chunks, or R-8's syncfs, before recover_write_seqs runs. */
        if (c->by_fs) {
            j->fs_wait = 1;
        } else {
            p->job[p->n] = j;
            p->fd[p->n++] = fd;
            fd = -1;
        }
        j->rep.logs_synced++;
    }

    /* */
    recover_seq(j, have_hw, hw, have_max ? max : 0, kept == 0);
    rc = 0;
out:
    if (reader_open)
        logscan_reader_close(&rd);
    if (fd >= 0)
        (void)c->io->close(c->io, fd);
    return rc;
}

/* R-4's last sentence: a .seq with no .log must still parse. */
static int recover_lone_seq(const struct recover_ctx *c, struct recover_job *j)
{
    int64_t hw;
    int rc = recover_read_hw(c, j, j->stem, &hw);
    if (rc > 0 && hw < 0)
        rc = recover_refuse_seq(j); /* no log to rebuild it from */
    return rc < 0 ? rc : 0;
}

static int recover_has(char *const *v, size_t n, const char *s)
{
    return n > 0 && bsearch(&s, v, n, sizeof(*v), recover_cmp) != NULL;
}

/* The dirty list names stem's bucket (engine/lock.h K-5). */
static int recover_listed(const struct lock_dirty *only, const char *stem)
{
    return lock_dirty_has(only, lock_dirty_bucket(stem, strlen(stem)));
}

static void *recover_worker(void *arg)
{
    struct recover_ctx *c = arg;
    struct recover_pending p = {.n = 0};
    for (;;) {
        size_t i = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED);
        if (i >= c->njobs)
            break;
        struct recover_job *j = &c->jobs[i];
        j->rc = j->is_log ? recover_log(c, j, &p) : recover_lone_seq(c, j);
        if (p.n >= c->sync_chunk)
            recover_flush(c, &p);
    }
    recover_flush(c, &p);
    return NULL;
}

/* Runs every job on up to RECOVER_THREADS threads (this one included). */
static void recover_run_jobs(struct recover_ctx *c)
{
    pthread_t tids[RECOVER_THREADS - 1];
    size_t started = 0;
    for (size_t i = 0; i + 1 < RECOVER_THREADS && i + 1 < c->njobs; i++) {
        if (pthread_create(&tids[i], NULL, recover_worker, c) != 0)
            break;
        started++;
    }
    recover_worker(c);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
}

/* one syncfs for every kept log that waits for it, after all scans.
 * A failure fails each of their jobs, as their fdatasyncs would have. */
static void recover_syncfs_kept(const struct recover_ctx *c, struct recover_report *rep)
{
    size_t n = 0;
    for (size_t i = 0; i < c->njobs; i++)
        n += c->jobs[i].rc == 0 && c->jobs[i].fs_wait;
    if (n == 0)
        return;
    int rc = c->io->syncfs_fd(c->io, c->fs_fd);
    rep->syncfs_calls++;
    for (size_t i = 0; i < c->njobs && rc; i++) {
        struct recover_job *j = &c->jobs[i];
        if (j->rc == 0 && j->fs_wait) {
            j->rc = err_set(&j->err, rc, "syncfs for %s/%s.log: %s", c->streams_dir, j->stem,
                            strerror(-rc));
            j->seq_write = 0;
        }
    }
}

/* R-4's writes, for every job that asked for one: SEQFILE_CHUNK temp files
 * synced at once (R-8: by one syncfs a chunk); then R-4b's unlinks of
 * unborn logs; and one fsync of streams/ for all the renames and unlinks.
 * Every log kept was synced (R-6, recover_flush or R-8) before this runs. */
static int recover_write_seqs(struct recover_ctx *c, struct recover_report *rep,
                              struct sxp_err *err)
{
    size_t n = 0, unborn = 0;
    for (size_t i = 0; i < c->njobs; i++) {
        n += c->jobs[i].rc == 0 && c->jobs[i].seq_write;
        unborn += c->jobs[i].rc == 0 && c->jobs[i].unborn;
    }
    if (n == 0 && unborn == 0)
        return 0;
    /* Paths are packed end to end: a store may have 100,000 of them. */
    size_t bytes = 0;
    for (size_t i = 0; i < c->njobs; i++)
        if (c->jobs[i].rc == 0 && c->jobs[i].seq_write)
            bytes += strlen(c->streams_dir) + 1 + strlen(c->jobs[i].stem) + sizeof(".seq");
    struct seqfile_item *v = calloc(n + 1, sizeof(*v));
    char *paths = malloc(bytes + 1);
    struct recover_job **js = calloc(n + 1, sizeof(*js));
    int rc = 0;
    if (!v || !paths || !js) {
        rc = err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    n = 0;
    char *at = paths;
    for (size_t i = 0; i < c->njobs; i++) {
        struct recover_job *j = &c->jobs[i];
        char path[PATH_MAX];
        if (j->rc || !j->seq_write)
            continue;
        rc = recover_seq_path(c, j, j->stem, path);
        if (rc) {
            rc = err_set(err, rc, "%s", j->err.msg);
            goto out;
        }
        size_t len = strlen(path) + 1;
        memcpy(at, path, len);
        v[n] = (struct seqfile_item){.path = at, .value = j->seq_value};
        at += len;
        js[n++] = j;
    }
    int fs_fd = c->sync && n >= c->syncfs_logs ? c->fs_fd : -1;
    uint64_t synced = 0;
    rc = n ? seqfile_write_many(c->io, c->streams_dir, v, n, c->sync, fs_fd, NULL, &synced) : 0;
    if (fs_fd >= 0)
        rep->syncfs_calls += (unsigned)synced;
    /* R-4b: the same fsync of streams/ makes the unlinks durable. */
    for (size_t i = 0; i < c->njobs && rc == 0; i++) {
        struct recover_job *j = &c->jobs[i];
        char path[PATH_MAX];
        if (j->rc || !j->unborn)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s.log", c->streams_dir, j->stem) >=
            (int)sizeof(path)) {
            rc = -ENAMETOOLONG;
            break;
        }
        rc = c->io->unlink(c->io, path);
        if (rc == 0)
            j->rep.unborn_removed++;
    }
    if (rc == 0 && c->sync)
        rc = c->io->fsync_dir(c->io, c->streams_dir);
    for (size_t k = 0; k < n; k++) {
        if (rc || !v[k].done)
            continue;
        if (js[k]->seq_had)
            js[k]->rep.hw_rolled++;
        else
            js[k]->rep.seq_created++;
    }
    if (rc)
        rc = err_set(err, rc, "writing high-water marks in %s: %s", c->streams_dir, strerror(-rc));
out:
    free(js);
    free(paths);
    free(v);
    return rc;
}

static void recover_add(struct recover_report *to, const struct recover_report *r)
{
    to->tmp_removed += r->tmp_removed;
    to->tails_cut += r->tails_cut;
    to->bytes_cut += r->bytes_cut;
    to->hw_rolled += r->hw_rolled;
    to->seq_created += r->seq_created;
    to->unborn_removed += r->unborn_removed;
    to->tails_saved += r->tails_saved;
    to->logs_scanned += r->logs_scanned;
    to->logs_skipped += r->logs_skipped;
    to->bytes_read += r->bytes_read;
    to->bytes_rewritten += r->bytes_rewritten;
    to->logs_synced += r->logs_synced;
    to->syncfs_calls += r->syncfs_calls;
}

int recover_store(struct sxp_io *io, const char *root, int sync, struct recover_report *out,
                  struct sxp_err *err)
{
    struct recover_args a = {.sync = sync, .lock_fd = -1, .syncfs_logs = SIZE_MAX};
    return recover_store_only(io, root, &a, out, err);
}

int recover_store_only(struct sxp_io *io, const char *root, const struct recover_args *a,
                       struct recover_report *out, struct sxp_err *err)
{
    int sync = a->sync, lock_fd = a->lock_fd;
    const struct lock_dirty *only = a->only;
    struct recover_ctx c;
    struct recover_names ns;
    struct recover_report rep;
    char dir[PATH_MAX];
    static const char *const tmp_dirs[] = {"", "streams", "kv", "blobs"};
    int rc = 0;

    memset(&c, 0, sizeof(c));
    memset(&ns, 0, sizeof(ns));
    memset(&rep, 0, sizeof(rep));
    c.io = io;
    c.root = root;
    c.sync = sync;
    c.unsynced = a->unsynced;
    c.fs_fd = sync ? lock_fd : -1;
    c.syncfs_logs = a->syncfs_logs;
    /* RECOVER_THREADS threads hold that many descriptors each. */
    c.sync_chunk = io_fd_share(8, 8, RECOVER_SYNC_CHUNK, RECOVER_SYNC_CHUNK);
    if (layout_path(root, "streams", c.streams_dir))
        return err_set(err, -ENAMETOOLONG, "store path too long: %s", root);

    /* */
    struct journal_replay_report jr;
    struct journal_syncfs fs = {.fd = c.fs_fd, .min_records = c.syncfs_logs};
    if (sync)
        rc = journal_replay_written(io, root, only ? lock_fd : -1, &fs, &jr, &c.written, err);
    else
        rc = journal_replay(io, root, sync, 1, only ? lock_fd : -1, NULL, NULL, NULL, &jr, err);
    if (rc)
        goto out;
    /* the logs the records wrote, which the list may not name. */
    struct lock_dirty listed;
    if (only) {
        listed = *only;
        lock_dirty_merge(&listed, &jr.named);
        only = &listed;
    }
    rep.journal_records = jr.records;
    rep.journal_bytes = jr.bytes;
    rep.syncfs_calls += (unsigned)jr.by_syncfs;

    /* */
    for (size_t i = 0; i < sizeof(tmp_dirs) / sizeof(tmp_dirs[0]); i++) {
        unsigned removed = 0;
        int w = tmp_dirs[i][0] ? layout_path(root, tmp_dirs[i], dir)
                               : (snprintf(dir, sizeof(dir), "%s", root) >= (int)sizeof(dir));
        if (w) {
            rc = err_set(err, -ENAMETOOLONG, "store path too long: %s", root);
            goto out;
        }
        rc = residue_remove_temps(io, dir, sync, &removed, err);
        rep.tmp_removed += removed;
        if (rc)
            goto out;
    }

    rc = io->list_dir(io, c.streams_dir, recover_collect, &ns);
    if (rc == -ENOENT)
        rc = 0;
    if (ns.oom)
        rc = -ENOMEM;
    if (rc < 0) {
        rc = err_set(err, rc, "list %s: %s", c.streams_dir, strerror(-rc));
        goto out;
    }
    rc = 0;
    /* qsort wants a non-NULL array even when it is empty. */
    if (ns.nlogs > 1)
        qsort(ns.logs, ns.nlogs, sizeof(*ns.logs), recover_cmp);
    if (ns.nseqs > 1)
        qsort(ns.seqs, ns.nseqs, sizeof(*ns.seqs), recover_cmp);

    /* One job per log and per .seq without a log, in name order. */
    c.jobs = calloc(ns.nlogs + ns.nseqs + 1, sizeof(*c.jobs));
    if (!c.jobs) {
        rc = err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ns.nlogs; i++) {
        /* a log the crashed session never wrote, with its .seq, was
         * left consistent by the session before (clean close or recovery). */
        if (only && !recover_listed(only, ns.logs[i]) &&
            recover_has(ns.seqs, ns.nseqs, ns.logs[i])) {
            rep.logs_skipped++;
            continue;
        }
        c.jobs[c.njobs].stem = ns.logs[i];
        c.jobs[c.njobs++].is_log = 1;
    }
    for (size_t i = 0; i < ns.nseqs; i++)
        if (!recover_has(ns.logs, ns.nlogs, ns.seqs[i]) &&
            (!only || recover_listed(only, ns.seqs[i])))
            c.jobs[c.njobs++].stem = ns.seqs[i];

    /* R-2..R-4; corruption in one log does not stop the others. */
    struct recover_saved saved;
    pthread_mutex_init(&saved.mu, NULL);
    lostfound_init(&saved.lf, io, root, sync);
    c.saved = &saved;
    c.by_fs = c.fs_fd >= 0 && c.njobs >= c.syncfs_logs;
    recover_run_jobs(&c);
    lostfound_close(&saved.lf);
    pthread_mutex_destroy(&saved.mu);
    recover_syncfs_kept(&c, &rep);
    int wrc = recover_write_seqs(&c, &rep, err);

    /* The first failure in job order wins: an I/O error over corruption. */
    unsigned corrupt = 0;
    const struct recover_job *first = NULL;
    for (size_t i = 0; i < c.njobs; i++) {
        const struct recover_job *j = &c.jobs[i];
        recover_add(&rep, &j->rep);
        if (j->rc && j->rc != -EUCLEAN && rc == 0) {
            rc = err_set(err, j->rc, "%s", j->err.msg);
        } else if (j->rc == -EUCLEAN) {
            if (corrupt++ == 0)
                first = j;
        }
    }
    if (rc == 0 && wrc)
        rc = wrc; /* err says which */
    else if (rc == 0 && corrupt == 1)
        rc = err_setk(err, -EUCLEAN, "corrupt", "%s", first->err.msg);
    else if (rc == 0 && corrupt > 1)
        rc = err_setk(err, -EUCLEAN, "corrupt", "%s (and %u more corrupt files)", first->err.msg,
                      corrupt - 1);
out:
    free(c.jobs);
    free(c.written.v);
    recover_names_free(&ns);
    if (out)
        *out = rep;
    return rc;
}
