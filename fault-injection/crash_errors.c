/*
 * crash_errors.c -- injected I/O errors: --mode errors and --mode loop, on a
 * real directory through io_fault over the real backend.
 *
 * ERRORS. For each scenario (EIO on fdatasync or on a checkpoint's syncfs,
 * ENOSPC and EIO on write,
 * short writes, failures of write_sync, rename, open, directory fsync,
 * ftruncate, unlink) a run builds a store with some acknowledged data, arms
 * the fault for one of the next few calls of that kind (sometimes for
 * good), and runs ops one at a time, checking after each:
 *   E-1  an op during which a write, sync, rename or directory fsync failed
 *        returns an error, never an acknowledgement, unless the failure
 *        came after the op's lines were durable and the engine says it
 *        took it (a commit round's checkpoint or listing: commit.c C-5,
 *        store_absorbed_failures);
 *   E-2  after a failed fdatasync under an append the stream refuses
 *        writes (the fault cleared) until the store is reopened;
 *   E-4  after a failed write of its log (only), the next append to the
 *        stream, the fault cleared, revives it and is acknowledged
 *        (engine/revive.c); and once write faults (ENOSPC, EIO, short
 *        writes, of any file) are cleared, every stream takes an append;
 *   E-3  a failed append (no event of a batch), kv put, kv delete or
 *        (first) blob put is not visible to a reader, and a failed truncate
 *        removed no event a reader sees;
 * then closes (or abandons) the store, reopens it without faults and holds
 * it to G-1..G-8. One more scenario appends 512 to 4096 NUL bytes to a
 * closed log (crash residue, not corruption): the open must succeed, or
 * sxp-fsck -p must repair it (exit 1, then 0 on a second run).
 *
 * OPTIONS. Every open of a run, the check's included, takes its options
 * from one seed (ce_options; a scenario's run seed, or for the loop a
 * seed mixed from --seed): half the seeds make every checkpoint, close
 * and recovery sync by one syncfs (bit 10, crash_syncfs_by_seed), and a
 * quarter sync each file by itself instead (bit 13, sync_each_log, with
 * sxp-fsck run with --sync-each-log); half keep only 2 log descriptors
 * open (bit 14, max_open_files), and half reach the disk through plain
 * syscalls (bit 15, SXP_IO_SYNC), the others through io_uring
 * (SXP_IO_AUTO: plain syscalls where io_uring is refused), io_fault
 * wrapping either.
 *
 * LOOP. As SQLite's I/O-error tests do: fail the 1st, 2nd, 3rd ... call of
 * any kind of a short workload (the open and its recovery included) until
 * a pass runs without reaching the fault, once failing only that call and
 * once failing it and every later one; after each pass the store is
 * (sometimes) repaired by sxp-fsck -p, run twice (1 then 0, or 0 then 0),
 * reopened and checked as above.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "fault.h"
#include "store.h"

struct ce_scn {
    const char *name;
    unsigned kinds; /* 0: the zero-tail scenario */
    int err;
    int short_write;
    int must_fail; /* E-1 applies */
    int truncates; /* only truncates and appends, to 2 streams */
};

static const struct ce_scn ce_scns[] = {
    {"EIO on fdatasync", IO_FAULT_BIT(IO_FK_FDATASYNC), -EIO, 0, 1, 0},
    {"EIO on a checkpoint's syncfs", IO_FAULT_BIT(IO_FK_SYNCFS), -EIO, 0, 1, 0},
    {"ENOSPC on write", IO_FAULT_BIT(IO_FK_PWRITE), -ENOSPC, 0, 1, 0},
    {"EIO on write", IO_FAULT_BIT(IO_FK_PWRITE), -EIO, 0, 1, 0},
    {"short write", IO_FAULT_BIT(IO_FK_PWRITE), -EIO, 1, 1, 0},
    {"EIO on write_sync", IO_FAULT_BIT(IO_FK_WRITE_SYNC), -EIO, 0, 1, 0},
    {"EIO on rename", IO_FAULT_BIT(IO_FK_RENAME), -EIO, 0, 1, 0},
    {"EIO on open", IO_FAULT_BIT(IO_FK_OPEN), -EIO, 0, 0, 0},
    {"ENOSPC on open", IO_FAULT_BIT(IO_FK_OPEN), -ENOSPC, 0, 0, 0},
    {"EIO on directory fsync", IO_FAULT_BIT(IO_FK_FSYNC_DIR), -EIO, 0, 1, 0},
    {"EIO on directory fsync under truncates", IO_FAULT_BIT(IO_FK_FSYNC_DIR), -EIO, 0, 1, 1},
    {"EIO on ftruncate", IO_FAULT_BIT(IO_FK_FTRUNCATE), -EIO, 0, 0, 0},
    {"EIO on unlink", IO_FAULT_BIT(IO_FK_UNLINK), -EIO, 0, 0, 0},
    {"zero-filled tail", 0, 0, 0, 0, 0},
};

/* The options of every open of a run, by seed (OPTIONS at the top). */
static void ce_options(struct sxp_options *o, uint64_t seed)
{
    sxp_options_init(o);
    o->quiet = 1;
    o->sync_each_log = crash_sync_each_log_by_seed(seed);
    /* Half the seeds keep 2 log descriptors open (bit 14), so logs are
     * closed and reopened (and evicted with journaled lines, J-13) under
     * the faults; half go through plain syscalls (bit 15), the others
     * through io_uring where the machine has it. */
    o->max_open_files = (seed >> 14) & 1 ? 2 : 0;
    o->io = (seed >> 15) & 1 ? SXP_IO_SYNC : SXP_IO_AUTO;
}

/* sxp-fsck's arguments: mode ("-n", "-p") with the bound seed's opens use. */
static const char *ce_fsck_args(const char *mode, uint64_t seed)
{
    if (!crash_sync_each_log_by_seed(seed))
        return mode;
    return strcmp(mode, "-p") == 0 ? "-p --sync-each-log" : "-n --sync-each-log";
}

/* Opens dir through a new io_fault over the real backend, with the
 * options of seed. */
static int ce_open(const struct crash_params *p, uint64_t seed, struct sxp_io **out_fault,
                   sxp_store **out, struct sxp_err *err)
{
    struct sxp_options o;
    struct sxp_io *real = NULL, *fio = NULL;
    ce_options(&o, seed);
    int rc = io_backend_new(o.io, 1, &real, err);
    if (rc < 0)
        return rc;
    rc = io_fault_new(real, &fio);
    if (rc < 0) {
        real->destroy(real);
        return rc;
    }
    io_fault_own_inner(fio);
    *out_fault = fio;
    /* The caller keeps the wrapper (own_io 0) to arm and read it. */
    return store_open_io(p->dir, &o, fio, 0, out, err);
}

/* Runs ops ops on s, opened with the options of oseed; what its readers
 * saw that they must not (READS in crash_workload.c) is bad, reported as
 * what. */
static void ce_workload(sxp_store *s, uint64_t oseed, struct crash_reporter *rep, uint64_t seed,
                        unsigned ops, const struct crash_params *p, struct crash_workload *w,
                        struct crash_stats *st, const char *what, int truncates)
{
    memset(w, 0, sizeof(*w));
    w->store = s;
    w->rep = rep;
    w->seed = seed;
    w->sync_each_log = crash_sync_each_log_by_seed(oseed);
    w->threads = 1;
    w->ops = ops;
    w->nstreams = p->nstreams ? p->nstreams : 6;
    w->nkeys = p->nkeys ? p->nkeys : 4;
    w->max_event = 3000;
    w->truncates = truncates;
    if (truncates)
        w->nstreams = 2; /* streams with events to drop */
    (void)crash_workload_run(w);
    if (w->read_bad) {
        fprintf(p->out, "%s: BAD: a reader saw: %s (and %llu more)\n", what, w->read_msg,
                (unsigned long long)w->read_bad - 1);
        st->bad += w->read_bad;
    }
}

/* Reopens without faults, with the options of oseed, checks G-1..G-7,
 * closes and runs fsck -n (G-8). */
static void ce_check(const struct crash_params *p, uint64_t oseed, const struct crash_base *base,
                     const struct crash_hist *h, struct crash_stats *st, const char *what)
{
    struct sxp_options o;
    struct sxp_err err;
    struct crash_verdict v;
    sxp_store *s = NULL;
    memset(&v, 0, sizeof(v));
    ce_options(&o, oseed);
    int rc = sxp_store_open(p->dir, &o, &s, &err);
    if (rc < 0) {
        fprintf(p->out, "%s: BAD: open with the fault cleared failed: %s\n", what, err.msg);
        st->bad++;
        return;
    }
    crash_verify(s, base, h, &v, p->out, crash_print_budget(st), what);
    crash_verify_continue(s, base, h, 3, &v, p->out, crash_print_budget(st), what);
    rc = sxp_store_close(s);
    if (rc < 0) {
        fprintf(p->out, "%s: BAD: close failed: %s\n", what, strerror(-rc));
        v.bad++;
    } else if (p->fsck != NULL) {
        int fr = crash_fsck_run(p->fsck, ce_fsck_args("-n", oseed), p->dir, p->verbose);
        st->fsck_runs++;
        if (fr != 0) {
            fprintf(p->out, "%s: BAD: sxp-fsck -n exited %d after recovery\n", what, fr);
            v.bad++;
        }
    } else {
        st->fsck_skipped++;
    }
    st->acked += v.acked;
    st->lost += v.lost;
    st->bad += v.bad;
    st->printed += v.printed;
}

/* The :seq of the i-th event of list. */
static int64_t ce_seq_at(const sxp_value *list, size_t i)
{
    return sxp_value_as_int(sxp_value_dict_get(sxp_value_list_get(list, i), "seq", 3));
}

/* E-3 for a failed truncate: every acknowledged event of its stream with a
 * seq at or below its n that no earlier truncate may have removed is still
 * read back (a read that fails, refusing the stream, shows nothing). Ops
 * run one at a time here, so "earlier" is the history's order. */
static void ce_truncate_invisible(const struct crash_params *p, sxp_store *s,
                                  const struct crash_hist *h, const struct crash_op *op,
                                  struct crash_stats *st, const char *what)
{
    struct sxp_err err;
    sxp_value *got = NULL;
    if (sxp_stream_read(s, op->name, op->name_len, &got, &err) < 0)
        return;
    for (size_t i = 0; i < h->n && &h->ops[i] != op; i++) {
        const struct crash_op *a = &h->ops[i];
        if ((a->kind != CRASH_APPEND && a->kind != CRASH_BATCH) || a->done_at == 0 || a->rc != 0 ||
            a->name_len != op->name_len || memcmp(a->name, op->name, op->name_len) != 0)
            continue;
        for (size_t j = 0; j < a->nev; j++) {
            int64_t seq = a->seqs[j];
            int gone = seq > op->n, present = 0;
            for (size_t k = i + 1; k < h->n && &h->ops[k] != op && !gone; k++)
                gone = h->ops[k].kind == CRASH_TRUNCATE && h->ops[k].n >= seq &&
                       h->ops[k].name_len == op->name_len &&
                       memcmp(h->ops[k].name, op->name, op->name_len) == 0;
            for (size_t k = 0; k < sxp_value_len(got) && !gone && !present; k++)
                present = ce_seq_at(got, k) == seq;
            if (!gone && !present) {
                fprintf(p->out,
                        "%s: BAD: failed truncate %lld (%s) removed seq %lld as readers see it\n",
                        what, (long long)op->n, strerror(-op->rc), (long long)seq);
                st->bad++;
            }
        }
    }
    sxp_value_free(got);
}

/* E-3: a failed op left nothing a reader sees. keys_before: the kv keys
 * listed before the op ran. */
static void ce_invisible(const struct crash_params *p, sxp_store *s, const struct crash_hist *h,
                         const struct crash_op *op, const sxp_value *keys_before,
                         struct crash_stats *st, const char *what)
{
    struct sxp_err err;
    sxp_value *got = NULL;
    if (op->kind == CRASH_KV_DEL) {
        int was = 0, has = 0;
        for (size_t i = 0; i < sxp_value_len(keys_before); i++) {
            size_t l = 0;
            const char *k = sxp_value_as_str(sxp_value_list_get(keys_before, i), &l);
            was |= l == op->name_len && memcmp(k, op->name, l) == 0;
        }
        if (was && sxp_kv_has(s, op->name, op->name_len, &has, &err) == 0 && !has) {
            fprintf(p->out, "%s: BAD: failed kv delete (%s) is visible to readers\n", what,
                    strerror(-op->rc));
            st->bad++;
        }
        return;
    }
    if (op->kind == CRASH_BLOB) {
        int seen = 0, has = 0;
        for (size_t i = 0; i < h->n && &h->ops[i] != op; i++)
            seen |= h->ops[i].kind == CRASH_BLOB && strcmp(h->ops[i].cid, op->cid) == 0;
        if (!seen && sxp_blob_has(s, op->cid, &has, &err) == 0 && has) {
            fprintf(p->out, "%s: BAD: failed blob put (%s) is visible to readers\n", what,
                    strerror(-op->rc));
            st->bad++;
        }
        return;
    }
    if (op->kind == CRASH_APPEND || op->kind == CRASH_BATCH) {
        /* None of its events, the first or any later one of a batch. */
        if (sxp_stream_read_range(s, op->name, op->name_len, op->seqs[0], (int64_t)op->nev, &got,
                                  &err) == 0)
            for (size_t i = 0; i < sxp_value_len(got); i++) {
                int64_t seq = ce_seq_at(got, i);
                for (size_t j = 0; j < op->nev; j++)
                    if (seq == op->seqs[j]) {
                        fprintf(p->out,
                                "%s: BAD: failed append of seq %lld (%s) is visible to readers\n",
                                what, (long long)seq, strerror(-op->rc));
                        st->bad++;
                    }
            }
    } else if (op->kind == CRASH_TRUNCATE) {
        ce_truncate_invisible(p, s, h, op, st, what);
    } else if (op->kind == CRASH_KV_PUT) {
        char *text = NULL;
        size_t len = 0;
        if (sxp_kv_get(s, op->name, op->name_len, &got, &err) == 0 &&
            sxp_value_to_text(got, &text, &len, NULL) == 0 && len == op->value_len &&
            memcmp(text, op->value, len) == 0) {
            fprintf(p->out, "%s: BAD: failed kv put (%s) is visible to readers\n", what,
                    strerror(-op->rc));
            st->bad++;
        }
        free(text);
    }
    sxp_value_free(got);
}

/* 1 when path names a stream's log. */
static int ce_is_log(const char *path)
{
    size_t l = strlen(path);
    return l > 4 && strcmp(path + l - 4, ".log") == 0;
}

/* One more append to a stream, of seq, the fault gone, reported to the
 * history (an acknowledged one must survive). want_ok: it must be taken,
 * else refused; why names the rule for the message. */
static void ce_append_one(const struct crash_params *p, sxp_store *s, struct crash_reporter *rep,
                          const char *name, size_t name_len, int64_t seq, int want_ok,
                          const char *why, struct crash_stats *st, const char *what)
{
    struct sxp_err err;
    sxp_value *ev = sxp_value_dict();
    char *text = NULL;
    size_t len = 0;
    if (ev == NULL || sxp_value_dict_set(ev, "seq", 3, sxp_value_int(seq)) != 0 ||
        sxp_value_to_text(ev, &text, &len, NULL) != 0) {
        sxp_value_free(ev);
        return;
    }
    const char *texts[1] = {text};
    uint32_t id = crash_report_intent(rep, CRASH_APPEND, name, name_len, 0, 1, &seq, texts, &len,
                                      NULL, 0, NULL);
    int rc = sxp_stream_append(s, name, name_len, ev, &err);
    if (id != 0)
        (void)crash_report_done(rep, id, rc);
    if (want_ok != (rc == 0)) {
        fprintf(p->out, "%s: BAD: %s: %s\n", what, why, rc ? err.msg : "it took an append");
        st->bad++;
    } else if (p->verbose) {
        fprintf(p->out, "%s: %s: %s\n", what, why, rc ? err.msg : "it takes appends");
    }
    sxp_value_free(ev);
    free(text);
}

/* One more append to op's stream, past the failed op's seqs, the fault
 * gone. E-2 (revived 0): after a failed fdatasync of its log the stream
 * refuses it. E-4 (revived 1): after a failed write of its log only, the
 * stream is revived (engine/revive.c) and takes it. */
static void ce_append_after(const struct crash_params *p, sxp_store *s, struct crash_reporter *rep,
                            const struct crash_op *op, int revived, struct crash_stats *st,
                            const char *what)
{
    ce_append_one(p, s, rep, op->name, op->name_len, op->seqs[op->nev - 1] + 1000, revived,
                  revived ? "after a failed write of its log the stream must take an append"
                          : "after its fdatasync failed the stream must refuse an append",
                  st, what);
}

/* E-4 for every stream: once write faults (of any file; no sync failed)
 * are gone, each stream takes an append, whatever failed before: logs,
 * JOURNAL and LOCK are cut back and go on. */
static void ce_all_take_appends(const struct crash_params *p, sxp_store *s,
                                struct crash_reporter *rep, struct crash_stats *st,
                                const char *what)
{
    struct sxp_err err;
    sxp_value *names = NULL;
    if (sxp_stream_list(s, &names, &err) != 0) {
        fprintf(p->out, "%s: BAD: list the streams once the write faults are gone: %s\n", what,
                err.msg);
        st->bad++;
        return;
    }
    for (size_t i = 0; i < sxp_value_len(names); i++) {
        size_t len = 0;
        const char *name = sxp_value_as_str(sxp_value_list_get(names, i), &len);
        int64_t hw = 0;
        if (sxp_stream_last_seq(s, name, len, &hw, &err) != 0) {
            fprintf(p->out, "%s: BAD: last-seq once the write faults are gone: %s\n", what,
                    err.msg);
            st->bad++;
            continue;
        }
        ce_append_one(p, s, rep, name, len, hw + 1000, 1,
                      "once the write faults are gone every stream must take an append", st, what);
    }
    sxp_value_free(names);
}

/* Appends 512..4096 NUL bytes to one closed log of the store. */
static int ce_zero_tail(const struct crash_params *p, uint64_t *rng, char *out_path, size_t size)
{
    char dir[4096 + 16];
    snprintf(dir, sizeof(dir), "%s/streams", p->dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    struct dirent *de;
    unsigned n = 0;
    out_path[0] = '\0';
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".log") == 0 && crash_rand(rng) % ++n == 0)
            snprintf(out_path, size, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (out_path[0] == '\0')
        return -ENOENT;
    size_t zeros = 512 + (size_t)(crash_rand(rng) % (4096 - 512 + 1));
    char buf[4096];
    memset(buf, 0, sizeof(buf));
    int fd = open(out_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, buf, zeros);
    int rc = w == (ssize_t)zeros ? 0 : -EIO;
    if (fsync(fd) < 0 && rc == 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* Runs fsck -p twice on an unclean store, with the bound of oseed's
 * opens: 0 or 1, then 0. */
static void ce_fsck_twice(const struct crash_params *p, uint64_t oseed, struct crash_stats *st,
                          const char *what, int want_first)
{
    if (p->fsck == NULL) {
        st->fsck_skipped++;
        return;
    }
    const char *args = ce_fsck_args("-p", oseed);
    int a = crash_fsck_run(p->fsck, args, p->dir, p->verbose);
    int b = crash_fsck_run(p->fsck, args, p->dir, p->verbose);
    st->fsck_runs += 2;
    if ((want_first >= 0 ? a != want_first : (a != 0 && a != 1)) || b != 0) {
        fprintf(p->out, "%s: BAD: sxp-fsck -p exited %d then %d (want %s then 0)\n", what, a, b,
                want_first == 1 ? "1" : "0 or 1");
        st->bad++;
    }
}

static void ce_scenario(const struct crash_params *p, const struct ce_scn *sc, unsigned run,
                        struct crash_stats *st)
{
    struct crash_hist h;
    struct crash_reporter rep;
    struct crash_workload w;
    struct crash_base empty;
    struct sxp_io *fio = NULL;
    struct sxp_err err;
    sxp_store *s = NULL;
    char what[160];
    uint64_t rseed = crash_mix(p->seed, run * 64 + (uint64_t)(sc - ce_scns));
    uint64_t rng = rseed;
    snprintf(what, sizeof(what), "errors seed %llu run %u: %s", (unsigned long long)p->seed, run,
             sc->name);
    memset(&err, 0, sizeof(err));
    crash_base_init(&empty);
    crash_hist_init(&h);
    crash_reporter_init(&rep, -1, &h);
    st->runs++;
    crash_syncfs_by_seed(rseed); /* this run's opens, the check's included */
    if (crash_rmrf(p->dir) < 0 || ce_open(p, rseed, &fio, &s, &err) < 0) {
        fprintf(p->out, "%s: BAD: setup failed: %s\n", what, err.msg);
        st->bad++;
        goto out;
    }
    ce_workload(s, rseed, &rep, crash_mix(rseed, 1), 10, p, &w, st, what, sc->truncates);

    if (sc->kinds == 0) {
        /* The process dies (no clean close) and the filesystem leaves the
         * log longer than what was written, the new space zero-filled. */
        char log[8192];
        store_abandon(s);
        s = NULL;
        int rc = ce_zero_tail(p, &rng, log, sizeof(log));
        if (rc == -ENOENT)
            goto check; /* no log yet: nothing to damage */
        if (rc < 0) {
            fprintf(p->out, "%s: BAD: could not make the zero tail: %s\n", what, strerror(-rc));
            st->bad++;
            goto out;
        }
        if (crash_rand(&rng) & 1)
            ce_fsck_twice(p, rseed, st, what, 1);
        goto check;
    }

    struct io_fault_rule rule = {sc->kinds,       1 + crash_rand(&rng) % 4,
                                 sc->err,         (crash_rand(&rng) % 4) == 0,
                                 sc->short_write, (size_t)(crash_rand(&rng) % 100)};
    if (io_fault_add_rule(fio, &rule) < 0) {
        st->bad++;
        goto out;
    }
    for (unsigned i = 0; i < 16; i++) {
        uint64_t before = io_fault_injected(fio);
        uint64_t absorbed = store_absorbed_failures(s);
        size_t n0 = h.n;
        sxp_value *keys_before = NULL;
        /* The listing itself may meet the fault: then it lists nothing. */
        if (sxp_kv_keys(s, &keys_before, &err) < 0)
            keys_before = NULL;
        ce_workload(s, rseed, &rep, crash_mix(rseed, 100 + i), 1, p, &w, st, what, sc->truncates);
        uint64_t injected = io_fault_injected(fio) - before;
        st->faults += injected;
        if (h.n == n0) {
            sxp_value_free(keys_before);
            continue;
        }
        const struct crash_op *op = &h.ops[h.n - 1];
        /* E-1, but for a failure the round took after the op's lines were
         * durable (commit.c C-5), such as its checkpoint's. */
        absorbed = store_absorbed_failures(s) - absorbed;
        if (injected > 0 && op->rc == 0 && sc->must_fail && absorbed == 0) {
            fprintf(p->out, "%s: BAD: %s op %u was acknowledged although a %s failed under it\n",
                    what,
                    op->kind == CRASH_APPEND  ? "append"
                    : op->kind == CRASH_BATCH ? "append-batch"
                    : op->kind == CRASH_BLOB  ? "blob"
                                              : "kv/truncate",
                    op->id, sc->name);
            st->bad++;
        }
        if (op->rc != 0 && op->rc != -ERANGE)
            ce_invisible(p, s, &h, op, keys_before, st, what);
        sxp_value_free(keys_before);
        enum io_fault_kind fk;
        char fpath[4096];
        if (injected > 0 && op->rc != 0 && !rule.persist &&
            io_fault_last_injected(fio, &fk, fpath, sizeof(fpath)) == 0 && ce_is_log(fpath) &&
            (op->kind == CRASH_APPEND || op->kind == CRASH_BATCH)) {
            if (fk == IO_FK_FDATASYNC)
                ce_append_after(p, s, &rep, op, 0, st, what);
            else if (fk == IO_FK_PWRITE)
                ce_append_after(p, s, &rep, op, 1, st, what);
        }
    }
    io_fault_clear(fio);
    if (sc->kinds == IO_FAULT_BIT(IO_FK_PWRITE))
        ce_all_take_appends(p, s, &rep, st, what);
    if (crash_rand(&rng) & 1)
        (void)sxp_store_close(s);
    else
        store_abandon(s);
    s = NULL;
check:
    crash_reporter_destroy(&rep);
    crash_hist_cut(&h);
    ce_check(p, rseed, &empty, &h, st, what);
    crash_hist_free(&h);
    if (fio != NULL)
        fio->destroy(fio);
    return;
out:
    if (s != NULL)
        store_abandon(s);
    crash_reporter_destroy(&rep);
    crash_hist_free(&h);
    if (fio != NULL)
        fio->destroy(fio);
}

int crash_run_errors(const struct crash_params *p, struct crash_stats *st)
{
    for (unsigned r = 0; r < p->runs; r++)
        for (size_t i = 0; i < sizeof(ce_scns) / sizeof(ce_scns[0]); i++)
            ce_scenario(p, &ce_scns[i], r, st);
    (void)crash_rmrf(p->dir);
    return (st->lost || st->bad) ? 1 : 0;
}

/* Builds the loop's starting store in tpl, with the options of oseed;
 * dirty: needing recovery. */
static int ce_template(const struct crash_params *p, uint64_t oseed, const char *tpl, int dirty,
                       struct crash_base *base, struct crash_stats *st)
{
    struct crash_params q = *p;
    struct crash_hist h;
    struct crash_reporter rep;
    struct crash_workload w;
    struct sxp_io *fio = NULL;
    struct sxp_err err;
    sxp_store *s = NULL;
    q.dir = tpl;
    int rc = crash_rmrf(tpl);
    if (rc == 0)
        rc = ce_open(&q, oseed, &fio, &s, &err);
    if (rc < 0) {
        if (fio)
            fio->destroy(fio);
        return rc;
    }
    crash_hist_init(&h);
    crash_reporter_init(&rep, -1, &h);
    ce_workload(s, oseed, &rep, crash_mix(p->seed, 3), 10, p, &w, st, tpl, 0);
    rc = crash_base_capture(s, &h, base, &err);
    crash_reporter_destroy(&rep);
    crash_hist_free(&h);
    if (dirty)
        store_abandon(s);
    else if (sxp_store_close(s) < 0 && rc == 0)
        rc = -EIO;
    fio->destroy(fio);
    return rc;
}

int crash_run_loop(const struct crash_params *p, struct crash_stats *st)
{
    char tpl[2][4096 + 16];
    struct crash_base base[2];
    unsigned ops = p->ops ? p->ops : 12;
    int rc = 0;
    /* The options of every open of the run, the recovering ones among
     * them, by one seed mixed from p->seed, so that small seeds vary them
     * too (OPTIONS at the top): with the syncfs bound at 1 the loop fails
     * each of R-8's syncfs calls in turn. */
    uint64_t oseed = crash_mix(p->seed, 1);
    crash_syncfs_by_seed(oseed);
    for (int d = 0; d < 2; d++) {
        crash_base_init(&base[d]);
        snprintf(tpl[d], sizeof(tpl[d]), "%s.tpl-%s", p->dir, d ? "dirty" : "clean");
        if (rc == 0)
            rc = ce_template(p, oseed, tpl[d], d, &base[d], st);
    }
    for (int persist = 0; rc == 0 && persist <= 1; persist++) {
        for (uint64_t n = 1; n < 100000; n++) {
            int d = (int)(n & 1); /* alternate: a clean start, then one needing recovery */
            struct crash_hist h;
            struct crash_reporter rep;
            struct crash_workload w;
            struct sxp_io *fio = NULL;
            struct sxp_err err;
            sxp_store *s = NULL;
            char what[160];
            uint64_t injected = 0;
            int err_code = (n % 3 == 0) ? -ENOSPC : -EIO;
            snprintf(what, sizeof(what), "loop seed %llu: fail call %llu%s (%s, %s start)",
                     (unsigned long long)p->seed, (unsigned long long)n,
                     persist ? " and every later one" : " once", strerror(-err_code),
                     d ? "dirty" : "clean");
            rc = crash_rmrf(p->dir);
            if (rc == 0)
                rc = crash_copytree(tpl[d], p->dir);
            if (rc < 0)
                break;
            crash_hist_init(&h);
            crash_reporter_init(&rep, -1, &h);
            st->runs++;

            /* The open may be failed too: build the wrapper by hand. */
            struct sxp_options o;
            struct sxp_io *real = NULL;
            ce_options(&o, oseed);
            rc = io_backend_new(o.io, 1, &real, &err);
            if (rc == 0 && (rc = io_fault_new(real, &fio)) < 0)
                real->destroy(real);
            if (rc < 0) {
                crash_reporter_destroy(&rep);
                crash_hist_free(&h);
                break;
            }
            io_fault_own_inner(fio);
            if (io_fault_fail_nth(fio, IO_FK_COUNT, n, err_code, persist) < 0) {
                fio->destroy(fio);
                crash_reporter_destroy(&rep);
                crash_hist_free(&h);
                rc = -EINVAL;
                break;
            }
            if (store_open_io(p->dir, &o, fio, 0, &s, &err) == 0) {
                ce_workload(s, oseed, &rep, crash_mix(p->seed, 11), ops, p, &w, st, what, 0);
                if (n & 2)
                    (void)sxp_store_close(s);
                else
                    store_abandon(s);
            }
            injected = io_fault_injected(fio);
            st->faults += injected;
            fio->destroy(fio);
            crash_reporter_destroy(&rep);
            crash_hist_cut(&h);
            if (n % 4 == 1 && injected > 0)
                ce_fsck_twice(p, oseed, st, what, -1);
            ce_check(p, oseed, &base[d], &h, st, what);
            crash_hist_free(&h);
            if (injected == 0)
                break; /* the workload completed without reaching call n */
        }
    }
    for (int d = 0; d < 2; d++) {
        crash_base_free(&base[d]);
        (void)crash_rmrf(tpl[d]);
    }
    (void)crash_rmrf(p->dir);
    return rc < 0 ? rc : (st->lost || st->bad) ? 1 : 0;
}
