/*
 * check_log.c -- checks one whole log: INV-1 and INV-2 of recover.c for
 * every line, and the torn-tail rule (R-3, R-3b) for its end.
 *
 * PASS 1 reads the log once, in 1 MiB preads, and feeds every line to the
 * tail machine of recovery/logscan.h, the same one recovery uses, so fsck
 * and recovery agree on what is a torn tail. A bad line outside any
 * candidate torn tail is reported at once. Bad lines inside a candidate are
 * not held in memory: if a later line ends the candidate, the stretch from
 * the candidate's start is read again (at most the window, 32 MiB) and its
 * bad lines reported then.
 *
 * WHAT MAY BE TORN. The stream's .seq is read before its log (check_seq.c),
 * so R-3c applies: a good line whose seq the .seq covers ends a candidate.
 * When LOCK reads "clean\n" (engine/lock.h K-3: everything was synced at
 * close) R-3d applies: no line is a torn tail, so a NUL-damaged line or an
 * incomplete last line is corruption that -p leaves and -y moves to
 * lost+found/, never residue that -p would cut. After a session without
 * syncs that did not close cleanly (fsck_after_unsynced, recover.c R-7)
 * the .seq proves nothing and a lost page can sit anywhere: R-3c is not
 * applied and the candidate may start at any line, not only in the
 * window, as recovery reads such a log.
 *
 * SEQ ORDER. Pass 1 compares each line with the last good seq, which would
 * blame every line after one wild seq (1 2 900 3 4 5 blames 3, 4 and 5). So
 * when pass 1 finds any seq out of order, PASS 2 collects the seqs of all
 * lines that are events and keeps the longest strictly increasing run of
 * them (patience sorting, n log n), and PASS 3 reports as seq-order exactly
 * the events outside it (here: 900). -y moves those, so the fewest events
 * leave the log and INV-1 holds afterwards. The log's max seq stays the
 * highest of all its events (900): a .seq below it is behind, and every
 * mark fsck writes is at least that, so no seq a reader saw is taken
 * again once its line is in lost+found/.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsck_int.h"
#include "logscan.h"

/* The finding for a bad line. */
static int fsck_line_finding(const struct fsck_ctx *c, struct fsck_item *it,
                             const struct logscan_line *l, const struct logscan_class *cl,
                             int64_t prev)
{
    struct fsck_finding f = {
        .file = it->rel, .line = l->no, .off = l->off, .len = l->len, .detail = (int)cl->v};
    switch (cl->v) {
    case LS_NOMEM:
        return -ENOMEM; /* no verdict (sxcheck.h): the item fails, nothing is found */
    case LS_BAD_SUM:
    case LS_BAD_TRAILER:
    case LS_OVERLONG:
    case LS_INCOMPLETE:
        f.code = FSCK_CHECKSUM;
        f.a = l->overlong ? l->has_nul : memchr(l->bytes, '\0', (size_t)l->len) != NULL;
        /* Outside a torn tail an incomplete last line is either under R-3d
         * (a clean LOCK), or in a candidate the .seq proved durable (R-3c:
         * the mark is above every good seq before it, so never INT64_MIN).
         * b tells the report which, so it names the real reason. */
        if (cl->v == LS_INCOMPLETE)
            f.b = !c->store_clean && it->hw_state == 1 ? it->hw : INT64_MIN;
        break;
    case LS_BLANK:
        f.code = FSCK_BLANK_LINE;
        break;
    case LS_UNPARSABLE:
        f.code = FSCK_EVENT_UNPARSABLE;
        f.a = cl->residue;
        break;
    case LS_NO_SEQ:
        f.code = FSCK_EVENT_NO_SEQ;
        break;
    case LS_SEQ_ORDER:
        f.code = FSCK_SEQ_ORDER;
        f.a = cl->seq;
        f.b = prev;
        break;
    case LS_GOOD:
        f.code = FSCK_TORN_TAIL;
        break;
    }
    return fsck_flist_add(&it->f, &f);
}

/* Reports the bad lines of [from, to), a candidate torn tail that a later
 * line proved not to be one. */
static int fsck_rescan(struct fsck_ctx *c, struct fsck_item *it, int fd, uint64_t from, uint64_t to,
                       uint64_t first_no, int have_prev, int64_t prev)
{
    struct logscan_reader r;
    struct logscan_line l;
    struct logscan_class cl;
    int rc = logscan_reader_open(&r, c->io, fd, from, to, first_no, 0);
    if (rc)
        return rc;
    while ((rc = logscan_reader_next(&r, &l)) > 0) {
        logscan_classify(&l, have_prev, prev, &cl);
        if (cl.v == LS_GOOD) {
            have_prev = 1;
            prev = cl.seq;
            continue;
        }
        rc = fsck_line_finding(c, it, &l, &cl, prev);
        if (rc)
            break;
    }
    logscan_reader_close(&r);
    return rc;
}

/* Growable array of seqs. */
struct fsck_seqs {
    int64_t *v;
    size_t n, cap;
};

static int fsck_seqs_add(struct fsck_seqs *s, int64_t seq)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        int64_t *nv = realloc(s->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        s->v = nv;
        s->cap = ncap;
    }
    s->v[s->n++] = seq;
    return 0;
}

/* Marks in keep[] (n bytes) a longest strictly increasing subsequence of
 * seq[0..n). Returns the index of its last element (n when n is 0). */
static size_t fsck_lis(const int64_t *seq, size_t n, unsigned char *keep)
{
    size_t *tails = malloc((n + 1) * sizeof(*tails)); /* index of the smallest tail per length */
    size_t *parent = malloc((n + 1) * sizeof(*parent));
    size_t len = 0, last = n;
    if (!tails || !parent) {
        free(tails);
        free(parent);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++) {
        /* The first length whose tail is >= seq[i]. */
        size_t lo = 0, hi = len;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (seq[tails[mid]] < seq[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        parent[i] = lo > 0 ? tails[lo - 1] : (size_t)-1;
        tails[lo] = i;
        if (lo == len)
            len++;
    }
    memset(keep, 0, n);
    if (len > 0) {
        last = tails[len - 1];
        for (size_t i = last; i != (size_t)-1; i = parent[i])
            keep[i] = 1;
    }
    free(tails);
    free(parent);
    return last;
}

/* Passes 2 and 3 (see the top of this file) over [0, end). */
static int fsck_seq_order(struct fsck_ctx *c, struct fsck_item *it, int fd, uint64_t end)
{
    struct logscan_reader r;
    struct logscan_line l;
    struct logscan_class cl;
    struct fsck_seqs s = {NULL, 0, 0};
    unsigned char *keep = NULL;
    int rc = logscan_reader_open(&r, c->io, fd, 0, end, 1, 0);
    if (rc)
        return rc;
    while ((rc = logscan_reader_next(&r, &l)) > 0) {
        logscan_classify(&l, 0, 0, &cl);
        if (cl.v == LS_NOMEM) {
            rc = -ENOMEM;
            break;
        }
        if (cl.has_seq && (rc = fsck_seqs_add(&s, cl.seq)) != 0)
            break;
    }
    logscan_reader_close(&r);
    if (rc)
        goto out;
    keep = malloc(s.n ? s.n : 1);
    if (!keep) {
        rc = -ENOMEM;
        goto out;
    }
    size_t last = fsck_lis(s.v, s.n, keep);
    if (last == (size_t)-1) {
        rc = -ENOMEM;
        goto out;
    }
    /* The log's max seq (INV-3, and every mark fsck writes) counts every
     * intact event, those outside the run included: a seq that was in
     * the log was taken, and readers may have seen it, so -y moving its
     * line out must not let it be taken again. */
    it->have_max = s.n > 0;
    it->max = s.n > 0 ? s.v[0] : 0;
    for (size_t i = 1; i < s.n; i++)
        if (s.v[i] > it->max)
            it->max = s.v[i];

    /* Drop pass 1's seq-order findings; report the events outside the run. */
    size_t w = 0;
    for (size_t i = 0; i < it->f.n; i++)
        if (it->f.v[i].code != FSCK_SEQ_ORDER)
            it->f.v[w++] = it->f.v[i];
    it->f.n = w;
    rc = logscan_reader_open(&r, c->io, fd, 0, end, 1, 0);
    if (rc)
        goto out;
    size_t k = 0;
    int64_t kept = INT64_MIN;
    while ((rc = logscan_reader_next(&r, &l)) > 0) {
        logscan_classify(&l, 0, 0, &cl);
        if (!cl.has_seq)
            continue;
        if (k >= s.n)
            break; /* the log grew since pass 2 (--force on a live store) */
        if (keep[k]) {
            kept = cl.seq;
        } else {
            cl.v = LS_SEQ_ORDER;
            rc = fsck_line_finding(c, it, &l, &cl, kept);
            if (rc)
                break;
        }
        k++;
    }
    logscan_reader_close(&r);
out:
    free(s.v);
    free(keep);
    return rc;
}

int fsck_check_log(struct fsck_ctx *c, struct fsck_item *it)
{
    char path[PATH_MAX];
    struct logscan_reader r;
    struct logscan_tail t;
    struct logscan_line l;
    struct logscan_class cl;
    uint64_t size = 0, legacy = 0, legacy_at_x = 0, first_legacy_no = 0, first_legacy_off = 0;
    uint64_t last_no = 0;
    int seq_order = 0, reader_open = 0, rc;
    int fd = -1;

    if (fsck_path(c, it->rel, path)) {
        fsck_item_fail(it, -ENAMETOOLONG, "open", it->rel);
        return -ENAMETOOLONG;
    }
    fd = fsck_open_read(c, path);
    if (fd == -ENOENT && c->live && !it->has_seq) {
        it->gone = 1; /* check_live.c LV-6: the close removed an unborn log */
        it->has_log = 0;
        return 0;
    }
    if (fd < 0) {
        fsck_item_fail(it, fd, "open", path);
        return fd;
    }
    rc = c->io->fsize(c->io, fd, &size);
    if (rc) {
        fsck_item_fail(it, rc, "stat", path);
        goto out;
    }
    it->log_size = size;
    it->above_off = UINT64_MAX; /* set from the scan below, when it ends */
    /* after a session without syncs, the whole log, and no R-3c. */
    int unsynced = fsck_after_unsynced(c);
    logscan_tail_init(&t, unsynced ? 0 : size, 0, 0);
    if (it->hw_state == 1 && !unsynced)
        logscan_tail_set_hw(&t, it->hw);
    if (c->store_clean)
        logscan_tail_set_clean(&t);
    rc = logscan_reader_open(&r, c->io, fd, 0, size, 1, 0);
    if (rc) {
        fsck_item_fail(it, rc, "read", path);
        goto out;
    }
    reader_open = 1;
    r.progress = &c->bytes_done;

    while ((rc = logscan_reader_next(&r, &l)) > 0) {
        enum logscan_tail_state before = t.state;
        int64_t prev = t.prev_seq;
        enum logscan_tail_action a = logscan_tail_feed(&t, &l, &cl);
        last_no = l.no;
        switch (a) {
        case LTA_GOOD:
            if (cl.legacy && legacy++ == 0) {
                first_legacy_no = l.no;
                first_legacy_off = l.off;
            }
            break;
        case LTA_PENDING:
            if (before == LT_NORMAL)
                legacy_at_x = legacy;
            break;
        case LTA_FAILED:
            /* The held lines were bad lines after all, and so is this one. */
            rc = fsck_rescan(c, it, fd, t.x_off, l.off, t.x_no, t.x_have_prev, t.x_prev_seq);
            if (rc == 0)
                rc = fsck_line_finding(c, it, &l, &cl, prev);
            break;
        case LTA_DURABLE:
            /* R-3c: the held lines were bad lines after all; this one is
             * good (and was counted as legacy, if it is, while held). */
            rc = fsck_rescan(c, it, fd, t.x_off, l.off, t.x_no, t.x_have_prev, t.x_prev_seq);
            if (rc == 0 && cl.legacy && legacy++ == 0) {
                first_legacy_no = l.no;
                first_legacy_off = l.off;
            }
            break;
        case LTA_BAD:
            rc = fsck_line_finding(c, it, &l, &cl, prev);
            break;
        }
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        fsck_item_fail(it, rc, "read", path);
        goto out;
    }
    for (size_t i = 0; i < it->f.n; i++)
        seq_order |= it->f.v[i].code == FSCK_SEQ_ORDER;

    struct logscan_bad_range bad;
    if (logscan_tail_close(&t, &bad)) {
        /* R-3c: an event the .seq covers is in the candidate. */
        rc = fsck_rescan(c, it, fd, bad.from, bad.to, bad.no, bad.have_prev, bad.prev_seq);
        if (rc < 0) {
            fsck_item_fail(it, rc, "read", path);
            goto out;
        }
    }
    it->above_off = t.above_off;
    it->torn = logscan_tail_end(&t, &it->have_max, &it->max);
    if (it->torn) {
        it->torn_off = t.x_off;
        if (t.state == LT_CANDIDATE)
            legacy = legacy_at_x;
        struct fsck_finding f = {.code = FSCK_TORN_TAIL,
                                 .file = it->rel,
                                 .line = t.x_no,
                                 .off = t.x_off,
                                 .len = size - t.x_off,
                                 .a = (int64_t)(last_no - t.x_no + 1)};
        rc = fsck_flist_add(&it->f, &f);
    }
    if (rc == 0 && seq_order)
        rc = fsck_seq_order(c, it, fd, it->torn ? it->torn_off : size);
    if (rc == 0 && legacy > 0) {
        struct fsck_finding f = {.code = FSCK_LEGACY_LINE,
                                 .file = it->rel,
                                 .line = first_legacy_no,
                                 .off = first_legacy_off,
                                 .a = (int64_t)legacy};
        rc = fsck_flist_add(&it->f, &f);
    }
    it->legacy = legacy;
    if (rc)
        fsck_item_fail(it, rc, "check", path);
out:
    if (reader_open)
        logscan_reader_close(&r);
    (void)c->io->close(c->io, fd);
    return rc;
}
