/*
 * journal.c -- ROOT/JOURNAL: one fdatasync makes the appends of many logs
 * durable.
 *
 * Every log needs an fdatasync of its own, so group commit (commit.c) cannot
 * share a sync between writers of different streams, and the first append
 * to a log that has no pre-zeroed space pays a journal commit of ext4 for
 * the new file size. A round of that kind (J-4) writes its lines to the
 * journal first, one record per log, with one fdatasync of the journal; then
 * to the logs, without a sync. The logs are synced later, all together, at a
 * checkpoint. After a crash, recovery writes the records back (J-6).
 *
 * FORMAT.
 *   J-1  The file starts with a HEADER of JOURNAL_HDR_LEN bytes:
 *          "sxpjournal2 " GEN " " SUM "\n"
 *        GEN: the generation, 16 lowercase hex digits; SUM: XXH3-64 of the
 *        28 bytes before it, 16 lowercase hex digits.
 *   J-2  RECORDS follow it, back to back, each a header line and a payload:
 *          KIND " " GEN " " RND " " OFF " " LEN " " NAME " " SUM "\n" PAYLOAD
 *        KIND is 'E' for the last record of its round and 'R' for the
 *        others; GEN 16 hex digits; RND the round's number in its
 *        generation (8 hex digits: 1 for the generation's first round that
 *        goes through the journal, and one more for each next); OFF the
 *        payload's offset in the log (16 hex digits), LEN its length (8 hex
 *        digits), NAME the stream's file name without ".log" (the hex of
 *        SPEC section 1), SUM 16 hex digits: XXH3-64, seeded with the
 *        XXH3-64 of the payload, of the header line up to and including the
 *        space before SUM. PAYLOAD is LEN bytes of framed lines, exactly as
 *        they go into the log. A round's records are written together, in
 *        one write, right after the previous round's.
 *   J-3  The valid records are those from JOURNAL_HDR_LEN on, up to the
 *        first that is not whole, does not check, or has another GEN than
 *        the header's. Bytes after it (zeros written ahead, as for logs in
 *        commit.c, or records of an older generation) mean nothing, unless
 *        J-9 finds damage in them.
 *
 * RULES.
 *   J-4  A commit round goes through the journal when the store syncs
 *        (SXP_SYNC_ALWAYS), its lines are at most JOURNAL_ROUND_MAX bytes,
 *        and it writes several logs, or one log whose write would change the
 *        file's size and is at most COMMIT_BIG_ROUND bytes (commit.c BIG
 *        ROUNDS). Other rounds write and fdatasync their log
 *        as before; their fdatasync also covers the journaled lines before
 *        them in that log.
 *   J-5  ORDER. A round's records are written and the journal fdatasynced
 *        before any of its lines is written to a log that LOCK's dirty list
 *        does not name, and the round is acknowledged after both. So every
 *        log byte written since the last checkpoint that no log fdatasync
 *        covers is in a synced record or in a listed log, and a log only
 *        journaled rounds wrote needs no entry in LOCK's dirty list
 *        (commit.c C-4). A listed log's lines go out beside the records, in
 *        the same write_sync, and are written while the journal syncs: a
 *        crash in between leaves lines no synced record holds, at the end
 *        of a log that recovery scans, which cuts or keeps them as it
 *        does any log's unsynced tail. A CHECKPOINT fdatasyncs every
 *        log with such bytes (or syncs them all at once, J-11), puts
 *        those logs on the dirty list with one sync of LOCK (their .seq
 *        files still lag behind them), then writes a new header with
 *        GEN + 1 and fdatasyncs it: that empties the journal (J-3). A
 *        checkpoint runs when the journal passes JOURNAL_CKPT_BYTES or
 *        JOURNAL_CKPT_LOGS logs (s->j_ckpt_logs, which tests and the crash
 *        harness lower: store.h), before a truncate rewrites a log that has
 *        records (truncate.c), and at a clean close, which also cuts the
 *        file back to its header.
 *   J-6  REPLAY. Recovery (recovery/recover.c) writes each valid record's
 *        payload at its offset in its log, in journal order, fdatasyncs
 *        those logs (JOURNAL_SYNC_CHUNK at once, which io_uring runs in
 *        parallel; with no more logs open at once than a quarter of
 *        RLIMIT_NOFILE, syncing and closing them to open more), or, from
 *        a bound of records, syncs them all by one syncfs (J-11), makes LOCK
 *        forget its dirty list (a recovery cut short
 *        after this point must read every log: the list may not name the
 *        records' logs), empties the journal only once all of that is
 *        synced, and only then scans the logs, those the records named
 *        among them. Writing the same bytes
 *        twice is harmless, so a crash during replay is repaired by the next
 *        one; the open that follows starts a new generation (journal_start).
 *        A record whose log is missing (or a directory), or shorter than its
 *        offset once the records before it are written, is corruption: J-5
 *        and the creation rule (commit.c C-3) make both impossible after a
 *        crash. Recovery refuses it; sxp-fsck reports it (journal-orphan)
 *        and under -y copies its lines to lost+found/ before writing the
 *        others back.
 *   J-7  A record's log bytes are never changed while the record is valid:
 *        logs are only appended to, and a truncate checkpoints first.
 *   J-8  A torn header cannot hide records: a header is only written after
 *        a checkpoint synced every log its records wrote, or on a new file.
 *        So a header that does not check holds nothing pending when it is
 *        what a crash can leave: (a) a torn creation, with nothing but
 *        zeros after it (records are written only after a header was
 *        synced); or (b) a rewrite in place of GEN g to g + 1 torn at some
 *        byte, the new header's first bytes over the old one's last: every
 *        rewrite (a checkpoint, journal_start, a replay's reset) happens
 *        when nothing in the file is pending. Anything else is DAMAGE:
 *        records of an unknown generation, maybe acknowledged appends
 *        missing from their logs. Recovery refuses the store; sxp-fsck
 *        reports journal-header and under -y moves the whole file to
 *        lost+found/ and starts an empty journal (no record can be written
 *        back: its generation is what tells a pending record from a stale
 *        one).
 *   J-9  DAMAGE. A round's records are written only once the previous
 *        round's fdatasync succeeded (commit.c; a failed one stops the
 *        journal for the session). Say the first record that does not
 *        check starts at byte P, and belongs to round p: the round of the
 *        valid record before it, or the next round when that record ends
 *        its round (KIND 'E') or there is none. A power loss in the middle
 *        of round p's write can leave valid records of round p after P, and
 *        nothing of a later round. A valid record of GEN after P from a
 *        round above p proves that round p was synced, and so acknowledged,
 *        before its bytes went bad: the journal is DAMAGED. Recovery refuses
 *        to open such a store (its lines may be missing from their logs);
 *        sxp-fsck reports it (journal-damaged) and under -y copies the bytes
 *        from P to the next valid record to lost+found/, then writes back
 *        every valid record of GEN after them as well (the valid records of
 *        GEN in the bad bytes are found by their "KIND GEN " start).
 *        Damage to round p's own last records, with nothing valid of a
 *        later round after them, looks exactly like a power loss and is
 *        not found.
 *   J-10 VERSION 1 ("sxpjournal1 " headers, written before rounds were
 *        numbered) had records without KIND and RND:
 *          "R " GEN " " OFF " " LEN " " NAME " " SUM "\n" PAYLOAD
 *        A replay reads them (a crash of an older build), without J-9; the
 *        next open writes a version 2 header, which voids them (J-3).
 *   J-11 SYNCFS. A checkpoint of at least s->j_syncfs_logs logs
 *        (JOURNAL_SYNCFS_LOGS, 64; never with sxp_options.sync_each_log)
 *        makes them durable with one syncfs(2) instead of an fdatasync
 *        each: one writeback of the filesystem and one cache flush, where
 *        each fdatasync flushes on its own (docs/performance.md: 4,096 logs
 *        in 10 us each instead of 90). The call goes through JOURNAL's
 *        descriptor, open since the store's open, since the kernel reports
 *        to a descriptor every writeback error of the filesystem since the
 *        descriptor was opened (errseq), even one another syncfs or a
 *        descriptor opened later has seen. A failed syncfs is IO-5 for
 *        every log of the checkpoint, as if each one's fdatasync had
 *        failed: the kernel may have dropped any of their pages, so each
 *        stays dead until the store is reopened (revive.c RV-1), and the
 *        header is not rewritten, so the next open writes the records
 *        back (J-6). An error that was another file's costs those
 *        streams a reopen, nothing acknowledged. A clean close writes its
 *        .seq files the same way, one syncfs per chunk of them before
 *        their renames (streams.c, seqfile.h), and so does recovery with
 *        what it writes back and keeps, through LOCK's descriptor
 *        (recovery/recover.c R-8; J-6's replay, struct journal_syncfs).
 *        A syncfs writes back one filesystem, JOURNAL's and LOCK's: when
 *        streams/ is not on it (a link, a mount), the open makes
 *        j_syncfs_logs SIZE_MAX, as sync_each_log does (store.c, io
 *        same_fs), and sxp-fsck its own bound (fsck.c).
 *   J-12 A checkpoint empties the journal only when every log it covers
 *        is alive and synced, or dead from a failed write and cut back and
 *        synced (revive.c RV-2). A log can die during the checkpoint
 *        itself, after the dead ones were cut: the checkpoint lets go of
 *        mu around its syncs, and a pin (its own, or a reader's) that
 *        evicts the log's descriptor trims its zeros (streams.c), which
 *        may fail. Its lines are then in the journal alone, so the
 *        checkpoint fails and keeps the records (journal_dead_uncut).
 *   J-13 AN EVICTED LOG. The kernel tells a writeback error of a file to
 *        the descriptors open on it, and to one opened later only while
 *        the file stays in memory: once its last descriptor is closed, its
 *        inode may be reclaimed, error and all, and a later fdatasync
 *        through a new descriptor succeeds over pages the failed writeback
 *        dropped (IO-5). The descriptor cache closes logs (streams.c), and
 *        a journaled round's log may hold lines no fdatasync of the log has
 *        covered yet (j_unsynced). When such a descriptor is closed with
 *        no trim of zeros syncing it first, either the next checkpoint
 *        makes its logs durable by one syncfs through JOURNAL's
 *        descriptor, open since the store's open, which hears of every
 *        writeback error of the filesystem (J-11), however few its logs
 *        (j_evicted; again after its fdatasyncs when a log was evicted
 *        during them), or, where syncfs is ruled out (j_syncfs_logs
 *        SIZE_MAX: sync_each_log, streams/ on another filesystem), the log
 *        is fdatasynced before its descriptor is closed, and a failure
 *        makes it dead for good (IO-5).
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "err.h"
#include "frame.h"
#include "layout.h"
#include "revive.h"
#include "store_int.h"

#define JOURNAL_MAGIC "sxpjournal2 "
#define JOURNAL_MAGIC_V1 "sxpjournal1 "
#define JOURNAL_MAGIC_LEN 12
#define JOURNAL_FILE_MAX ((size_t)256 << 20)
#define JOURNAL_SYNC_CHUNK 256

/* KIND " " GEN " " RND " " OFF " " LEN " " NAME " " SUM "\n" (J-2) */
#define JOURNAL_REC_FIXED (2 + 16 + 1 + 8 + 1 + 16 + 1 + 8 + 1 + 1 + 16 + 1)
/* Where NAME starts: after "R " GEN " " OFF " " LEN " " in version 1 (J-10),
 * after KIND " " GEN " " RND " " OFF " " LEN " " in version 2. */
#define JOURNAL_NAME_AT_V1 45
#define JOURNAL_NAME_AT 54

static void journal_header_format(char out[JOURNAL_HDR_LEN], uint64_t gen)
{
    memcpy(out, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN);
    frame_hex_put(gen, 16, out + JOURNAL_MAGIC_LEN);
    out[28] = ' ';
    frame_hex_put(XXH3_64bits(out, 28), 16, out + 29);
    out[45] = '\n';
}

/* The header's version (1 or 2) and *gen when buf holds a valid header
 * (J-1, J-10); 0 otherwise. */
static int journal_header_parse(const char *buf, size_t len, uint64_t *gen)
{
    uint64_t sum;
    int version = 0;
    if (len >= JOURNAL_HDR_LEN)
        version = memcmp(buf, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN) == 0      ? 2
                  : memcmp(buf, JOURNAL_MAGIC_V1, JOURNAL_MAGIC_LEN) == 0 ? 1
                                                                          : 0;
    if (!version || buf[28] != ' ' || buf[45] != '\n' ||
        frame_hex_get(buf + JOURNAL_MAGIC_LEN, 16, gen) || frame_hex_get(buf + 29, 16, &sum) ||
        sum != XXH3_64bits(buf, 28))
        return 0;
    return version;
}

size_t journal_record_size(size_t name_len, size_t payload_len)
{
    return JOURNAL_REC_FIXED + 2 * name_len + payload_len;
}

size_t journal_record_format(char *out, uint64_t gen, uint32_t rnd, int last, const char *name,
                             size_t name_len, uint64_t off, const char *payload, size_t payload_len)
{
    char *p = out;
    *p++ = last ? 'E' : 'R';
    *p++ = ' ';
    frame_hex_put(gen, 16, p);
    p += 16;
    *p++ = ' ';
    frame_hex_put(rnd, 8, p);
    p += 8;
    *p++ = ' ';
    frame_hex_put(off, 16, p);
    p += 16;
    *p++ = ' ';
    frame_hex_put(payload_len, 8, p);
    p += 8;
    *p++ = ' ';
    layout_hex_encode(name, name_len, p);
    p += 2 * name_len;
    *p++ = ' ';
    uint64_t sum = XXH3_64bits_withSeed(out, (size_t)(p - out), XXH3_64bits(payload, payload_len));
    frame_hex_put(sum, 16, p);
    p += 16;
    *p++ = '\n';
    memcpy(p, payload, payload_len);
    return (size_t)(p - out) + payload_len;
}

/* One parsed record (J-2), pointing into the journal's bytes. */
struct journal_rec {
    const char *hex; /* the log's file name without ".log" */
    size_t hex_len;
    uint64_t off;
    const char *payload;
    size_t len;
    uint32_t rnd; /* 0 in version 1 */
    int last;     /* KIND 'E' */
    size_t size;  /* the whole record's bytes */
};

/* Parses the record at buf[0..avail) of a version's journal: its total
 * size, or 0 when it is not a valid record of generation gen (J-3). */
static size_t journal_record_parse(const char *buf, size_t avail, int version, uint64_t gen,
                                   struct journal_rec *out)
{
    uint64_t g, rnd = 0, off, len, sum;
    size_t name_at = version == 1 ? JOURNAL_NAME_AT_V1 : JOURNAL_NAME_AT;
    const char *p = buf + 19;
    if (avail < name_at + 2 + 16 + 1 || (buf[0] != 'R' && (version == 1 || buf[0] != 'E')) ||
        buf[1] != ' ' || frame_hex_get(buf + 2, 16, &g) || g != gen || buf[18] != ' ')
        return 0;
    if (version != 1) {
        if (frame_hex_get(p, 8, &rnd) || p[8] != ' ' || rnd == 0)
            return 0;
        p += 9;
    }
    if (frame_hex_get(p, 16, &off) || p[16] != ' ' || frame_hex_get(p + 17, 8, &len) ||
        p[25] != ' ')
        return 0;
    size_t max_hex = 2 * LAYOUT_STREAM_MAX;
    const char *name = buf + name_at;
    size_t room = avail - name_at;
    const char *sp = memchr(name, ' ', room < max_hex + 1 ? room : max_hex + 1);
    if (!sp || sp == name || (size_t)(sp - name) % 2 != 0)
        return 0;
    size_t hex_len = (size_t)(sp - name);
    size_t hdr = name_at + hex_len + 1 + 16 + 1;
    if (avail < hdr || buf[hdr - 1] != '\n' || len > avail - hdr || frame_hex_get(sp + 1, 16, &sum))
        return 0;
    for (size_t i = 0; i < hex_len; i++) {
        uint64_t d;
        if (frame_hex_get(name + i, 1, &d))
            return 0;
    }
    const char *payload = buf + hdr;
    if (sum != XXH3_64bits_withSeed(buf, hdr - 17, XXH3_64bits(payload, (size_t)len)))
        return 0;
    out->hex = name;
    out->hex_len = hex_len;
    out->off = off;
    out->payload = payload;
    out->len = (size_t)len;
    out->rnd = (uint32_t)rnd;
    out->last = buf[0] == 'E';
    out->size = hdr + (size_t)len;
    return out->size;
}

/* The first valid record of generation gen (J-2) that starts in
 * buf[from..len): its start, or len when there is none. A record starts
 * with KIND " " GEN " ", which is what is looked for. */
static size_t journal_next_valid(const char *buf, size_t len, size_t from, int version,
                                 uint64_t gen, struct journal_rec *out)
{
    char needle[1 + 16 + 1];
    needle[0] = ' ';
    frame_hex_put(gen, 16, needle + 1);
    needle[17] = ' ';
    for (size_t at = from + 1; at < len;) {
        const char *hit = memmem(buf + at, len - at, needle, sizeof(needle));
        if (!hit)
            break;
        size_t start = (size_t)(hit - buf) - 1;
        if (journal_record_parse(buf + start, len - start, version, gen, out))
            return start;
        at = (size_t)(hit - buf) + 1;
    }
    return len;
}

/* J-9: when the records from the first one that does not check (at bad)
 * on hold a valid one of a round above that record's, its position; 0
 * otherwise. prev is the valid record before bad, NULL when none. */
static size_t journal_damage(const char *buf, size_t len, size_t bad, int version, uint64_t gen,
                             const struct journal_rec *prev)
{
    struct journal_rec r;
    uint32_t p = !prev ? 1 : prev->last ? prev->rnd + 1 : prev->rnd;
    if (version == 1)
        return 0;
    for (size_t at = bad + 1; (at = journal_next_valid(buf, len, at, version, gen, &r)) < len;
         at += r.size)
        if (r.rnd > p)
            return at;
    return 0;
}

/* The logs a replay has met. At most max_open are open at once (a session
 * over thousands of streams leaves up to JOURNAL_CKPT_LOGS of them, more
 * than a default RLIMIT_NOFILE of 1,024 allows): to open another, the open
 * ones are synced (when sync) and closed, and a log met again is opened
 * again. max_open is a quarter of RLIMIT_NOFILE, 16 to JOURNAL_SYNC_CHUNK. */
struct journal_logs {
    struct {
        char hex[2 * LAYOUT_STREAM_MAX + 1];
        int fd;          /* -1: closed, its writes synced */
        uint64_t size;   /* once the records so far are written */
        uint64_t lo, hi; /* the records' bytes so far, when run is 1 */
        int run;         /* 0: no record yet; 1: lo..hi unbroken; -1: broken */
    } * v;
    size_t n, cap;
    size_t nopen, max_open;
    int flags; /* for open(2): O_RDWR to write, O_RDONLY to look */
    int sync;  /* make each log durable: its own fdatasync, or fs_fd's */
    int fs_fd; /* >= 0: no fdatasync per log; one syncfs through it (J-6) */
};

/* J-6: fdatasyncs (when ls->sync, unless one syncfs is to come) the open
 * logs, JOURNAL_SYNC_CHUNK at once (io_uring runs them in parallel), and
 * closes them. */
static int journal_flush_logs(struct sxp_io *io, struct journal_logs *ls, struct sxp_err *err)
{
    struct io_wsync w[JOURNAL_SYNC_CHUNK];
    size_t at[JOURNAL_SYNC_CHUNK];
    size_t n = 0;
    for (size_t i = 0; i <= ls->n; i++) {
        if (i < ls->n && ls->v[i].fd >= 0) {
            at[n] = i;
            w[n++] = (struct io_wsync){.fd = ls->v[i].fd, .sync = 1};
        }
        if (n == 0 || (n < JOURNAL_SYNC_CHUNK && i < ls->n))
            continue;
        if (ls->sync && ls->fs_fd < 0 && io->write_sync(io, w, n) != 0)
            for (size_t k = 0; k < n; k++)
                if (w[k].res)
                    return err_set(err, w[k].res, "fdatasync streams/%s.log: %s", ls->v[at[k]].hex,
                                   strerror(-w[k].res));
        for (size_t k = 0; k < n; k++) {
            (void)io->close(io, ls->v[at[k]].fd);
            ls->v[at[k]].fd = -1;
            ls->nopen--;
        }
        n = 0;
    }
    return 0;
}

/* The index in ls of r's log, open; -errno otherwise, -ENOENT or -EISDIR
 * with no message when the log is missing or a directory stands in its
 * place and quiet. */
static int journal_log_at(struct sxp_io *io, const char *root, struct journal_logs *ls,
                          const struct journal_rec *r, int quiet, struct sxp_err *err)
{
    size_t at = ls->n;
    for (size_t i = ls->n; i-- > 0;)
        if (strlen(ls->v[i].hex) == r->hex_len && memcmp(ls->v[i].hex, r->hex, r->hex_len) == 0) {
            if (ls->v[i].fd >= 0)
                return (int)i;
            at = i;
            break;
        }
    if (ls->nopen >= ls->max_open) {
        int rc = journal_flush_logs(io, ls, err);
        if (rc)
            return rc;
    }
    if (at == ls->n && ls->n == ls->cap) {
        size_t cap = ls->cap ? 2 * ls->cap : 16;
        void *p = realloc(ls->v, cap * sizeof(*ls->v));
        if (!p)
            return err_set(err, -ENOMEM, "out of memory");
        ls->v = p;
        ls->cap = cap;
    }
    char rel[2 * LAYOUT_STREAM_MAX + 16], path[PATH_MAX];
    snprintf(rel, sizeof(rel), "streams/%.*s.log", (int)r->hex_len, r->hex);
    if (layout_path(root, rel, path))
        return err_set(err, -ENAMETOOLONG, "store path too long: %s", root);
    int fd = io->open(io, path, ls->flags | O_CLOEXEC, 0), is_dir = 0;
    if (fd >= 0 && !(ls->flags & O_RDWR) && io->stat(io, path, NULL, &is_dir) == 0 && is_dir) {
        (void)io->close(io, fd); /* read-only, a directory opens */
        fd = -EISDIR;
    }
    if ((fd == -ENOENT || fd == -EISDIR) && quiet)
        return fd;
    if (fd < 0)
        return err_set(err, fd == -ENOENT || fd == -EISDIR ? -EUCLEAN : fd,
                       "%s/JOURNAL names %s, which %s (%s); run sxp-fsck", root, path,
                       fd == -ENOENT ? "is missing" : "cannot be opened", strerror(-fd));
    ls->nopen++;
    if (at < ls->n) {
        ls->v[at].fd = fd; /* met again: its size is known */
        return (int)at;
    }
    uint64_t size = 0;
    int rc = io->fsize(io, fd, &size);
    if (rc) {
        (void)io->close(io, fd);
        ls->nopen--;
        return err_set(err, rc, "size of %s: %s", path, strerror(-rc));
    }
    memcpy(ls->v[ls->n].hex, r->hex, r->hex_len);
    ls->v[ls->n].hex[r->hex_len] = '\0';
    ls->v[ls->n].fd = fd;
    ls->v[ls->n].size = size;
    ls->v[ls->n].run = 0;
    return (int)ls->n++;
}

/* J-6: once the records are in their synced logs, a header of the next
 * generation empties the journal, so no later replay writes them again over
 * a log that recovery or sxp-fsck has changed since. */
static int journal_reset(struct sxp_io *io, const char *path, uint64_t gen, int sync,
                         struct sxp_err *err)
{
    char hdr[JOURNAL_HDR_LEN];
    journal_header_format(hdr, gen);
    int fd = io->open(io, path, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return err_set(err, fd, "open %s: %s", path, strerror(-fd));
    int rc = io->pwrite(io, fd, hdr, sizeof(hdr), 0);
    if (!rc)
        rc = io->ftruncate(io, fd, JOURNAL_HDR_LEN);
    if (!rc && sync)
        rc = io->fdatasync(io, fd);
    (void)io->close(io, fd);
    if (rc)
        return err_set(err, rc, "write %s: %s", path, strerror(-rc));
    return 0;
}

/* J-8 (b): 1 when buf's header is a rewrite of some generation g to g + 1
 * torn at some byte k: the new header's first k bytes over the old one's
 * last. Each k names g: GEN's digits before k are g + 1's, those from k on
 * are g's, and g + 1 carried into the digits before k exactly when g's
 * digits from k on are all 'f'. */
static int journal_torn_rewrite(const char *buf, size_t len)
{
    const size_t gen_at = JOURNAL_MAGIC_LEN, gen_end = JOURNAL_MAGIC_LEN + 16;
    char old[JOURNAL_HDR_LEN], neu[JOURNAL_HDR_LEN];
    if (len < JOURNAL_HDR_LEN)
        return 0;
    for (size_t k = 0; k <= JOURNAL_HDR_LEN; k++) {
        size_t cut = k < gen_at ? gen_at : k > gen_end ? gen_end : k;
        uint64_t hi = 0, lo = 0, g;
        size_t m = gen_end - cut; /* g's own low digits */
        if ((cut > gen_at && frame_hex_get(buf + gen_at, cut - gen_at, &hi)) ||
            (m && frame_hex_get(buf + cut, m, &lo)))
            continue;
        if (m == 16) {
            g = lo;
        } else {
            /* g + 1 carried into hi when g's low digits are all 'f' (or
             * there are none: then hi is all of g + 1) */
            if (m == 0 || lo == ((uint64_t)1 << (4 * m)) - 1) {
                if (hi == 0)
                    continue;
                hi--;
            }
            g = (hi << (4 * m)) | lo;
        }
        if (g == UINT64_MAX)
            continue;
        journal_header_format(old, g);
        journal_header_format(neu, g + 1);
        if (memcmp(buf, neu, k) == 0 && memcmp(buf + k, old + k, JOURNAL_HDR_LEN - k) == 0)
            return 1;
    }
    return 0;
}

/* Adds a record's bytes off..end to its log's run (struct journal_written). */
static void journal_run_add(struct journal_logs *ls, size_t i, uint64_t off, uint64_t end)
{
    if (ls->v[i].run == 0) {
        ls->v[i].lo = off;
        ls->v[i].hi = end;
        ls->v[i].run = 1;
    } else if (ls->v[i].run == 1 && off >= ls->v[i].lo && off <= ls->v[i].hi) {
        if (end > ls->v[i].hi)
            ls->v[i].hi = end;
    } else {
        ls->v[i].run = -1;
    }
}

static int journal_written_cmp(const void *a, const void *b)
{
    return strcmp(((const struct journal_written *)a)->hex,
                  ((const struct journal_written *)b)->hex);
}

static int journal_written_key_cmp(const void *key, const void *w)
{
    return strcmp(key, ((const struct journal_written *)w)->hex);
}

const struct journal_written *journal_written_find(const struct journal_written_list *l,
                                                   const char *hex)
{
    return l->n ? bsearch(hex, l->v, l->n, sizeof(*l->v), journal_written_key_cmp) : NULL;
}

/* The unbroken runs of ls, sorted, into *out. */
static int journal_written_list(const struct journal_logs *ls, struct journal_written_list *out,
                                struct sxp_err *err)
{
    out->v = calloc(ls->n ? ls->n : 1, sizeof(*out->v));
    out->n = 0;
    if (!out->v)
        return err_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < ls->n; i++) {
        if (ls->v[i].run != 1)
            continue;
        struct journal_written *w = &out->v[out->n++];
        memcpy(w->hex, ls->v[i].hex, sizeof(w->hex));
        w->lo = ls->v[i].lo;
        w->hi = ls->v[i].hi;
    }
    qsort(out->v, out->n, sizeof(*out->v), journal_written_cmp);
    return 0;
}

static int journal_replay_in(struct sxp_io *io, const char *root, int sync, int apply, int lock_fd,
                             const struct journal_syncfs *fs, journal_orphan_fn orphan, void *arg,
                             struct journal_replay_report *out,
                             struct journal_written_list *written, struct sxp_err *err)
{
    char path[PATH_MAX];
    char *buf = NULL;
    size_t len = 0;
    struct journal_logs ls = {
        .flags = apply ? O_RDWR : O_RDONLY, .sync = apply && sync, .fs_fd = -1};
    ls.max_open = io_fd_share(4, 16, JOURNAL_SYNC_CHUNK, JOURNAL_SYNC_CHUNK);
    uint64_t gen;
    int rc;

    memset(out, 0, sizeof(*out));
    if (layout_path(root, "JOURNAL", path))
        return err_set(err, -ENAMETOOLONG, "store path too long: %s", root);
    /* Only looking (sxp-fsck -n, a read-only open): not even its access
     * time changes. */
    rc = io_read_file_flags(io, path, apply ? 0 : O_NOATIME, JOURNAL_FILE_MAX, &buf, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return err_set(err, rc, "read %s: %s", path, strerror(-rc));
    int version = journal_header_parse(buf, len, &gen);
    if (!version) {
        /* J-8: a torn creation holds nothing pending; bytes after a header
         * that does not check are damage. */
        size_t at = JOURNAL_HDR_LEN;
        while (at < len && buf[at] == '\0')
            at++;
        if (at < len && !journal_torn_rewrite(buf, len)) {
            out->header_damaged = 1;
            out->damaged_len = len;
            if (!orphan)
                rc = err_set(err, -EUCLEAN,
                             "%s/JOURNAL is damaged: its header does not check, and %zu bytes "
                             "of records follow it (from byte %zu), so appends acknowledged "
                             "in them may be missing from their logs; run sxp-fsck",
                             root, len - JOURNAL_HDR_LEN, at);
        }
        goto out;
    }

    /* J-9 first, so that a refusal writes nothing. */
    size_t at = JOURNAL_HDR_LEN, n, nrec = 0;
    struct journal_rec r, prev = {0};
    int have_prev = 0;
    for (; (n = journal_record_parse(buf + at, len - at, version, gen, &r)) != 0; at += n) {
        prev = r;
        have_prev = 1;
        nrec++;
    }
    /* J-6: enough records for one syncfs to be worth its cost. */
    if (ls.sync && fs && fs->fd >= 0 && nrec >= fs->min_records)
        ls.fs_fd = fs->fd;
    size_t later = journal_damage(buf, len, at, version, gen, have_prev ? &prev : NULL);
    if (later) {
        out->damaged_at = at;
        out->damaged_later = later;
        out->damaged_len = journal_next_valid(buf, len, at + 1, version, gen, &r) - at;
        if (!orphan) {
            rc = err_set(err, -EUCLEAN,
                         "%s/JOURNAL is damaged: the record at byte %zu does not check, and a "
                         "record of a later round follows it (byte %zu), so appends "
                         "acknowledged in its bytes may be missing from their logs; run "
                         "sxp-fsck",
                         root, at, later);
            goto out;
        }
    }

    for (at = JOURNAL_HDR_LEN;; at += n) {
        n = journal_record_parse(buf + at, len - at, version, gen, &r);
        if (n == 0 && !later)
            break; /* J-3 */
        if (n == 0) {
            /* J-9: past damage, every valid record of GEN counts. */
            if ((at = journal_next_valid(buf, len, at + 1, version, gen, &r)) >= len)
                break;
            n = r.size;
        }
        out->records++;
        out->bytes += r.len;
        lock_dirty_add(&out->named, lock_dirty_bucket(r.hex, r.hex_len));
        if (!apply && !orphan)
            continue;
        size_t before = ls.n;
        int i = journal_log_at(io, root, &ls, &r, orphan != NULL, err);
        if (i < 0 && i != -ENOENT && i != -EISDIR) {
            rc = i;
            goto out;
        }
        if (ls.n != before)
            out->logs++;
        uint64_t size = i < 0 ? 0 : ls.v[i].size;
        if (i < 0 || size < r.off) {
            struct journal_orphan o = {.hex = r.hex,
                                       .hex_len = r.hex_len,
                                       .off = r.off,
                                       .jpos = (uint64_t)(r.payload - buf),
                                       .len = r.len,
                                       .log_size = size};
            if (i == -ENOENT || i == -EISDIR)
                o.missing = i == -ENOENT ? JOURNAL_LOG_MISSING : JOURNAL_LOG_DIR;
            if (!orphan)
                rc =
                    err_set(err, -EUCLEAN,
                            "%s/JOURNAL: streams/%s.log is %llu bytes, shorter than the record "
                            "for offset %llu; run sxp-fsck",
                            root, ls.v[i].hex, (unsigned long long)size, (unsigned long long)r.off);
            else if ((rc = orphan(arg, &o)) == 0) {
                out->orphans++;
                out->orphan_bytes += r.len;
            }
            if (rc)
                goto out;
            continue;
        }
        if (apply) {
            rc = io->pwrite(io, ls.v[i].fd, r.payload, r.len, r.off);
            if (rc) {
                err_set(err, rc, "write streams/%.*s.log: %s", (int)r.hex_len, r.hex,
                        strerror(-rc));
                goto out;
            }
            journal_run_add(&ls, (size_t)i, r.off, r.off + r.len);
        }
        if (r.off + r.len > size)
            ls.v[i].size = r.off + r.len;
    }
    rc = journal_flush_logs(io, &ls, err);
    if (rc == 0 && ls.fs_fd >= 0 && out->records) {
        rc = io->syncfs_fd(io, ls.fs_fd);
        if (rc)
            err_set(err, rc, "syncfs of the %zu logs %s/JOURNAL wrote: %s", ls.n, root,
                    strerror(-rc));
        else
            out->by_syncfs = 1;
    }
    if (rc)
        goto out;
    /* J-6: the records' logs may be on no dirty list (J-5: the checkpoint
     * that drops records lists their logs); once the records are gone, a
     * recovery cut short must read every log. */
    if (apply && out->records && lock_fd >= 0) {
        rc = lock_forget_list(io, lock_fd, sync);
        if (rc) {
            err_set(err, rc, "write %s/LOCK: %s", root, strerror(-rc));
            goto out;
        }
    }
    if (apply && out->records)
        rc = journal_reset(io, path, gen + 1, sync, err);
    if (rc == 0 && written)
        rc = journal_written_list(&ls, written, err);
out:
    for (size_t i = 0; i < ls.n; i++)
        if (ls.v[i].fd >= 0)
            (void)io->close(io, ls.v[i].fd);
    free(ls.v);
    free(buf);
    return rc;
}

int journal_replay(struct sxp_io *io, const char *root, int sync, int apply, int lock_fd,
                   const struct journal_syncfs *fs, journal_orphan_fn orphan, void *arg,
                   struct journal_replay_report *out, struct sxp_err *err)
{
    return journal_replay_in(io, root, sync, apply, lock_fd, fs, orphan, arg, out, NULL, err);
}

int journal_replay_written(struct sxp_io *io, const char *root, int lock_fd,
                           const struct journal_syncfs *fs, struct journal_replay_report *out,
                           struct journal_written_list *written, struct sxp_err *err)
{
    written->v = NULL;
    written->n = 0;
    return journal_replay_in(io, root, 1, 1, lock_fd, fs, NULL, NULL, out, written, err);
}

int journal_reset_damaged(struct sxp_io *io, const char *root, int sync, struct sxp_err *err)
{
    char path[PATH_MAX];
    if (layout_path(root, "JOURNAL", path))
        return err_set(err, -ENAMETOOLONG, "store path too long: %s", root);
    return journal_reset(io, path, 1, sync, err);
}

int journal_check_readonly(struct sxp_io *io, const char *root, struct sxp_err *err)
{
    struct journal_replay_report jr;
    char path[PATH_MAX];
    int rc = journal_replay(io, root, 0, 0, -1, NULL, NULL, NULL, &jr, err);
    if (rc || jr.records == 0)
        return rc;
    if (layout_path(root, "LOCK", path))
        return err_set(err, -ENAMETOOLONG, "store path too long: %s", root);
    int fd = io->open(io, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return err_set(err, fd, "open %s: %s", path, strerror(-fd));
    rc = io->lock(io, fd); /* released by the close */
    (void)io->close(io, fd);
    if (rc == -EAGAIN)
        return 0; /* a live writer: its page cache holds what the records hold */
    if (rc)
        return err_set(err, rc, "lock %s: %s", path, strerror(-rc));
    /* Crash residue, not corruption: kind "unrecovered", not "corrupt". */
    return err_setk(err, -EUCLEAN, "unrecovered",
                    "%s/JOURNAL holds %u appends a crash kept out of their logs: open the store "
                    "read-write (recovery writes them back) or run sxp-fsck -p",
                    root, jr.records);
}

/* ---- the store's side ----------------------------------------------------- */

/* Writes a header of generation gen and syncs it. */
static int journal_write_header(sxp_store *s, uint64_t gen)
{
    char hdr[JOURNAL_HDR_LEN];
    journal_header_format(hdr, gen);
    int rc = s->io->pwrite(s->io, s->j_fd, hdr, sizeof(hdr), 0);
    if (!rc && s->opt.sync == SXP_SYNC_ALWAYS)
        rc = s->io->fdatasync(s->io, s->j_fd);
    return rc;
}

int journal_start(sxp_store *s, struct sxp_err *err)
{
    char path[PATH_MAX], hdr[JOURNAL_HDR_LEN];
    uint64_t gen = 0, size = 0;
    if (layout_path(s->root, "JOURNAL", path))
        return err_set(err, -ENAMETOOLONG, "store path too long: %s", s->root);
    int created = s->io->stat(s->io, path, NULL, NULL) == -ENOENT;
    int fd = s->io->open(s->io, path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set(err, fd, "open %s: %s", path, strerror(-fd));
    s->j_fd = fd;
    ssize_t n = s->io->pread(s->io, fd, hdr, sizeof(hdr), 0);
    int rc = 0;
    if (n != (ssize_t)sizeof(hdr) || !journal_header_parse(hdr, sizeof(hdr), &gen)) {
        /* J-8: without a header, old records could carry any generation,
         * the new one too: drop them before writing one. */
        gen = 0;
        rc = s->io->ftruncate(s->io, fd, 0);
    }
    if (!rc)
        rc = journal_write_header(s, gen + 1);
    if (!rc)
        rc = s->io->fsize(s->io, fd, &size);
    if (!rc && created && s->opt.sync == SXP_SYNC_ALWAYS)
        rc = s->io->fsync_dir(s->io, s->root); /* IO-4 */
    if (rc)
        return err_set(err, rc, "write %s: %s", path, strerror(-rc));
    s->j_gen = gen + 1;
    s->j_round = 0;
    s->j_end = JOURNAL_HDR_LEN;
    s->j_alloc = size;
    return 0;
}

int journal_note_dirty(sxp_store *s, struct stream *st)
{
    st->j_unsynced = 1; /* J-13 */
    if (st->jdirty)
        return 0;
    if (s->j_ndirty == s->j_cap) {
        size_t cap = s->j_cap ? 2 * s->j_cap : 64;
        void *p = realloc(s->j_dirty, cap * sizeof(*s->j_dirty));
        if (!p)
            return -ENOMEM;
        s->j_dirty = p;
        s->j_cap = cap;
    }
    s->j_dirty[s->j_ndirty++] = st;
    st->jdirty = 1;
    return 0;
}

/* J-5: fdatasyncs each live log the journal covers (journal_cut_dead took
 * the dead ones), JOURNAL_SYNC_CHUNK at once (io_uring runs them in
 * parallel). Under mu; returns the first failure. */
static int journal_sync_each(sxp_store *s)
{
    struct io_wsync w[JOURNAL_SYNC_CHUNK];
    struct stream *sts[JOURNAL_SYNC_CHUNK];
    int first = 0;
    /* Pinned descriptors stay open past the cache's bound: keep a chunk
     * within half of it. */
    size_t chunk =
        s->max_open_fds / 2 < JOURNAL_SYNC_CHUNK ? s->max_open_fds / 2 : JOURNAL_SYNC_CHUNK;
    chunk = chunk ? chunk : 1;
    for (size_t at = 0; at < s->j_ndirty;) {
        size_t n = 0;
        for (; at < s->j_ndirty && n < chunk; at++) {
            struct stream *st = s->j_dirty[at];
            if (st->dead)
                continue; /* journal_cut_dead's */
            int rc = streams_pin_fd(s, st, NULL);
            if (rc) {
                first = first ? first : rc;
                continue;
            }
            streams_sync_req(w, sts, &n, st);
        }
        if (n) {
            pthread_mutex_unlock(&s->mu);
            (void)s->io->write_sync(s->io, w, n);
            pthread_mutex_lock(&s->mu);
            s->st_syncs += n;
        }
        for (size_t k = 0; k < n; k++) {
            if (w[k].res) {
                streams_set_dead(s, sts[k], w[k].res); /* IO-5 */
                first = first ? first : w[k].res;
            } else {
                sts[k]->j_unsynced = 0;
            }
            streams_unpin_fd(s, sts[k]);
        }
    }
    return first;
}

/* A log dead from a failed write is cut back and synced (revive.c RV-2,
 * RV-3): all a checkpoint needs of it. Cuts each such log the journal
 * covers; under mu; returns the first failure (a dead log that cannot be
 * cut, or stays dead for good, RV-1). */
static int journal_cut_dead(sxp_store *s)
{
    int first = 0;
    for (size_t i = 0; i < s->j_ndirty; i++) {
        struct stream *st = s->j_dirty[i];
        if (st->dead && revive_cut(s, st) != 0)
            first = first ? first : st->dead;
    }
    return first;
}

/* J-11: one syncfs through JOURNAL's descriptor for all the logs. Under
 * mu; returns the first failure. */
static int journal_syncfs_logs(sxp_store *s)
{
    int fd = s->j_fd;
    pthread_mutex_unlock(&s->mu);
    int rc = s->io->syncfs_fd(s->io, fd);
    pthread_mutex_lock(&s->mu);
    s->st_syncs++;
    if (rc == 0)
        return 0;
    for (size_t i = 0; i < s->j_ndirty; i++) {
        struct stream *st = s->j_dirty[i];
        streams_set_dead(s, st, rc); /* IO-5, for each (a dead one keeps its error) */
        /* A dead log not yet cut back: its revival's own sync would
         * vouch for pages the failed syncfs may have dropped (RV-1). */
        if (!st->revive_cut)
            st->revive = 0;
    }
    return rc;
}

/* J-12: a log the journal covers that died during the checkpoint, after
 * journal_cut_dead passed it (its descriptor evicted from the cache by a
 * pin of the checkpoint's own or a reader's while mu was let go, and the
 * trim of its zeros failed, streams.c), was neither cut back and synced
 * nor synced by the checkpoint: its lines may be only in the journal.
 * Returns its error, so that the checkpoint keeps the records; 0 when
 * every dead log was cut back and synced (revive.c RV-2). Under mu. */
static int journal_dead_uncut(const sxp_store *s)
{
    for (size_t i = 0; i < s->j_ndirty; i++) {
        const struct stream *st = s->j_dirty[i];
        if (st->dead && !(st->revive && st->revive_cut))
            return st->dead;
    }
    return 0;
}

int journal_checkpoint(sxp_store *s, struct sxp_err *err)
{
    int first = 0, sync = s->opt.sync == SXP_SYNC_ALWAYS;

    if (s->j_fd < 0)
        return 0;
    /* Empty, unless a failed round left records past j_end (j_dead):
     * those a new header makes void (revive.c RV-3). */
    if (s->j_ndirty == 0 && s->j_end == JOURNAL_HDR_LEN && !s->j_dead)
        return 0;
    int by_fs = sync && (s->j_ndirty >= s->j_syncfs_logs || s->j_evicted);
    first = journal_cut_dead(s);
    if (sync) {
        int rc = by_fs ? journal_syncfs_logs(s) : journal_sync_each(s);
        if (!rc && !by_fs && s->j_evicted) { /* J-13: a log evicted meanwhile */
            by_fs = 1;
            rc = journal_syncfs_logs(s);
        }
        first = first ? first : rc;
    }
    first = first ? first : journal_dead_uncut(s);
    if (first)
        return err_set(err, first, "checkpoint of %s/JOURNAL: %s failed: %s", s->root,
                       by_fs ? "the syncfs of its logs" : "a log's fdatasync", strerror(-first));
    /* J-5: the logs leave the journal's cover for the dirty list's. */
    int rc = streams_list_dirty(s, s->j_dirty, s->j_ndirty);
    if (rc)
        return err_set(err, rc, "checkpoint of %s/JOURNAL: write %s/LOCK: %s", s->root, s->root,
                       strerror(-rc));
    pthread_mutex_unlock(&s->mu);
    rc = journal_write_header(s, s->j_gen + 1);
    pthread_mutex_lock(&s->mu);
    if (rc)
        return err_set(err, rc, "write %s/JOURNAL: %s", s->root, strerror(-rc));
    if (sync)
        s->st_syncs++;
    for (size_t i = 0; i < s->j_ndirty; i++)
        s->j_dirty[i]->jdirty = s->j_dirty[i]->j_unsynced = 0;
    s->j_ndirty = 0;
    s->j_evicted = 0;
    s->j_gen++;
    s->j_round = 0;
    s->j_end = JOURNAL_HDR_LEN;
    return 0;
}

int journal_close(sxp_store *s)
{
    if (s->j_fd < 0)
        return 0;
    int rc = s->io->ftruncate(s->io, s->j_fd, JOURNAL_HDR_LEN);
    if (!rc && s->opt.sync == SXP_SYNC_ALWAYS)
        rc = s->io->fdatasync(s->io, s->j_fd);
    if (!rc)
        s->j_alloc = JOURNAL_HDR_LEN;
    return rc;
}

void journal_free(sxp_store *s)
{
    if (s->j_fd >= 0)
        (void)s->io->close(s->io, s->j_fd);
    s->j_fd = -1;
    free(s->j_dirty);
    s->j_dirty = NULL;
    s->j_ndirty = s->j_cap = 0;
}
