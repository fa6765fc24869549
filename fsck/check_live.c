/*
 * check_live.c -- what a live writer's session explains, when -n --force
 * checks a store that a writer holds (fsck.c LOCKING).
 *
 * A session in progress leaves, until it closes, what would be crash
 * residue in a store at rest:
 *   LV-1  a .seq behind its log (hw-behind): a session writes a stream's
 *         .seq at its close (and truncate), not at each append, so every
 *         log it appended to has seqs above its .seq while it runs; and
 *         for the same reason no .seq beside the log of a stream it created
 *         (seq-missing, engine/streams.c CREATION ORDER);
 *   LV-2  a torn tail at the end of a log (torn-tail): the zeros it writes
 *         ahead of a busy log's lines (engine/commit.c PRE-ZEROING), and a
 *         line it is writing as fsck reads it;
 *   LV-3  temp files of its atomic writes (temp-file), named
 *         "tmp.<pid>.<n>.tmp" (engine/layout.h) with the pid LOCK names.
 *   LV-4  WHICH LOGS. LV-1 and LV-2 are explained only for a log the
 *         session writes: one whose bucket LOCK's dirty list names
 *         (engine/lock.h K-5), or that a JOURNAL record names
 *         (engine/journal.c J-5). The session lists a log, or syncs a record
 *         of its lines, before it writes the log, and lists it before a
 *         checkpoint drops the record; so once the logs are checked, JOURNAL
 *         read first and LOCK after it name every log in which the check saw
 *         bytes of the session. Every log counts as the session's when that
 *         cannot be told: LOCK holds no whole list (a session that runs
 *         without syncs, which keeps none; one that is starting, recovering
 *         or closing; a listing cut short), JOURNAL does not read whole (a
 *         round being written), or LOCK names another pid than before the
 *         walk (sessions changed).
 *   LV-5  A kv file that the walk listed and that is gone when its check
 *         opens it was deleted by the session (kv-delete): it is not
 *         checked or counted, and stops nothing (check_kv.c). Without a
 *         writer that stays a failure to check (status 8): nothing else
 *         removes a file while fsck holds LOCK.
 *   LV-6  An unborn stream's empty log (seq-missing, check_seq.c MISSING)
 *         in any bucket: a stream being created, whose log the session
 *         makes before it lists or journals it, or one whose first append
 *         failed, whose log the close removes. Recovery removed those that
 *         an earlier session left (R-4b), before this session began. One
 *         that the close removes after the walk is, as in LV-5, not checked
 *         or counted and stops nothing (check_log.c).
 * JOURNAL holds the session's pending records too: fsck.c does not read it
 * under --force for findings (no journal-pending), only here for names.
 *
 * Findings so explained are not errors: they are taken out of the report
 * and counted in the live-writer warning, so a healthy live store exits 0.
 * Everything else stays as it was, an error: hw-behind and torn-tail of a
 * log the session has not written (a .seq lowered before it began, a tail
 * torn before it), their messages saying so; temp files of another pid; and
 * every corruption finding. A session that closes and another of the same
 * process that opens while the check runs can leave such an error that is
 * not one: a second run tells.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fsck_int.h"
#include "journal.h"
#include "lock.h"

/* The pid in a temp file's name "tmp.<pid>.<n>.tmp" (file is "DIR/name"
 * or "name"), or -1. */
static long fsck_live_tmp_pid(const char *file)
{
    const char *name = strrchr(file, '/');
    char *end;
    name = name ? name + 1 : file;
    if (strncmp(name, "tmp.", 4) != 0)
        return -1;
    long pid = strtol(name + 4, &end, 10);
    return end != name + 4 && *end == '.' ? pid : -1;
}

/* The logs the session writes into *w (LV-4); 1 in *all when every log
 * counts, and *out_pid the pid LOCK names now. */
static void fsck_live_logs(struct fsck_ctx *c, long pid, struct lock_dirty *w, int *all,
                           long *out_pid)
{
    struct journal_replay_report jr;
    struct sxp_err err;
    char path[PATH_MAX];
    int fd;
    memset(w, 0, sizeof(*w));
    *all = 0;
    *out_pid = pid;
    /* JOURNAL first: a checkpoint lists a record's log before it drops
     * the record. Counting reads no log and writes nothing. */
    if (journal_replay(c->io, c->root, 0, 0, -1, NULL, NULL, NULL, &jr, &err) != 0)
        *all = 1;
    if (fsck_path(c, "LOCK", path) != 0 || (fd = fsck_open_read(c, path)) < 0) {
        *all = 1;
        return;
    }
    *out_pid = fsck_lock_pid(c, fd);
    if (lock_read_dirty(c->io, fd, w) != 1 || *out_pid != pid)
        *all = 1;
    (void)c->io->close(c->io, fd);
    lock_dirty_merge(w, &jr.named);
}

void fsck_live_explain(struct fsck_ctx *c, long pid)
{
    struct lock_dirty w;
    struct fsck_finding *lw = NULL;
    int64_t seqs = 0, news = 0, unborn = 0, tails = 0, temps = 0;
    int all;
    long pid_now;
    fsck_live_logs(c, pid, &w, &all, &pid_now);
    for (size_t i = 0; i < c->nitems; i++) {
        struct fsck_item *it = &c->items[i];
        if (it->kind != FSCK_ITEM_STREAM)
            continue;
        int mine = all || lock_dirty_has(&w, lock_dirty_bucket(it->name, strlen(it->name)));
        size_t k = 0;
        for (size_t j = 0; j < it->f.n; j++) {
            struct fsck_finding *f = &it->f.v[j];
            if (f->code == FSCK_SEQ_MISSING && f->a) {
                unborn++;
                continue; /* LV-6 */
            }
            if (f->code == FSCK_HW_BEHIND || f->code == FSCK_TORN_TAIL ||
                f->code == FSCK_SEQ_MISSING) {
                if (mine) {
                    seqs += f->code == FSCK_HW_BEHIND;
                    news += f->code == FSCK_SEQ_MISSING;
                    tails += f->code == FSCK_TORN_TAIL;
                    continue; /* LV-1, LV-2 */
                }
                f->detail = FSCK_NOT_LIVE;
            }
            it->f.v[k++] = *f;
        }
        it->f.n = k;
    }
    size_t k = 0;
    for (size_t j = 0; j < c->tree.n; j++) {
        struct fsck_finding *f = &c->tree.v[j];
        if (f->code == FSCK_TEMP_FILE) {
            long tp = fsck_live_tmp_pid(f->file);
            if (pid <= 0 || (tp > 0 && (tp == pid || tp == pid_now))) {
                temps++;
                continue; /* LV-3 */
            }
            f->detail = FSCK_NOT_LIVE;
        }
        c->tree.v[k++] = *f;
    }
    c->tree.n = k;
    for (size_t j = 0; j < c->tree.n && !lw; j++)
        if (c->tree.v[j].code == FSCK_LIVE_WRITER)
            lw = &c->tree.v[j];
    assert(lw != NULL); /* fsck_run adds it before the walk */
    if (!lw)
        return;
    lw->b = seqs;
    lw->d = news;
    lw->e = unborn;
    lw->c = tails;
    lw->detail = (int)temps;
}
