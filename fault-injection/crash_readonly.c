/*
 * crash_readonly.c -- a read-only open of a crashed store, before the
 * read-write open that recovers it. What it may do is written in sxp.h
 * (sxp_options.read_only: "no lock, no recovery, every write is -EROFS"),
 * engine/store.c (OPEN: "A read-only open takes no lock, runs no recovery
 * and writes nothing"), docs/recovery.md R-0 (a JOURNAL holding records
 * refuses it) and stream_read.c (every line is verified; an unfinished
 * last line ends a read; a damaged one is an error, never skipped). The
 * sim harness holds every crashed disk, before it recovers it, to:
 *   RO-1  the open, the reads and the close change nothing: no call that
 *         changes the disk reaches it, and its digest (io_sim_digest:
 *         names, bytes, durable state, pending writes) is the same after;
 *   RO-2  the open succeeds, or is refused with -EUCLEAN naming JOURNAL
 *         (records that only recovery writes back); a store whose root
 *         never became durable is -ENOENT, when nothing was promised; and
 *         when nothing was, but an unpromised session wrote the store
 *         (crash.h THE UNPROMISED), any refusal: its FORMAT may be empty,
 *         its LOCK and folders never named;
 *   RO-3  writes fail with -EROFS (kind "readonly");
 *   RO-4  a stream's events up to its first damaged line (a torn tail only
 *         recovery cuts: the scan then fails, with -EBADMSG for a bad
 *         checksum as sxp.h says, but with -EUCLEAN "corrupt" for a line of
 *         NUL bytes with no TAB, which reads as a legacy line) hold every
 *         acknowledged event that no truncate may have removed, nothing
 *         never submitted, nothing an acknowledged truncate removed (G-1..
 *         G-3); last-seq is the higher of the .seq file's mark, which
 *         recovery has not rolled forward yet, and the seq of the log's
 *         last whole valid line (engine ST-9): never above what was submitted
 *         nor below the baseline's; keys and blobs are held to G-5 and G-6 as after
 *         recovery (they are replaced atomically; recovery reads neither).
 * Violations count in the verdict (an acknowledged op the open cannot show
 * as lost, the rest as bad), each message naming the read-only open.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crash.h"
#include "fault.h"
#include "store.h"

/* 1 when base or h promised anything: a baseline, or an acknowledged op. */
static int cr_promised(const struct crash_base *base, const struct crash_hist *h)
{
    return base->nstreams || base->nkv || base->nblobs || h->acked;
}

/* RO-3: a write of each kind is refused. */
static void cr_writes(sxp_store *s, struct crash_verdict *v, FILE *out, unsigned limit,
                      const char *what)
{
    struct sxp_err err;
    char cid[SXP_CID_LEN + 1];
    sxp_value *ev = sxp_value_dict();
    int rc[3];
    const char *names[3] = {"append", "kv-put", "blob/put"};
    if (ev == NULL || sxp_value_dict_set(ev, "seq", 3, sxp_value_int(1)) != 0) {
        sxp_value_free(ev);
        crash_report_bad(v, out, limit, what, "out of memory");
        return;
    }
    rc[0] = sxp_stream_append(s, "ro", 2, ev, &err);
    rc[1] = sxp_kv_put(s, "ro", 2, ev, &err);
    rc[2] = sxp_blob_put(s, "ro", 2, cid, &err);
    sxp_value_free(ev);
    for (int i = 0; i < 3; i++)
        if (rc[i] != -EROFS)
            crash_report_bad(v, out, limit, what, "%s returned %d (%s), not -EROFS (RO-3)",
                             names[i], rc[i], strerror(rc[i] < 0 ? -rc[i] : 0));
}

int crash_readonly_check(struct sxp_io *sim, struct sxp_io *io, const char *root,
                         const struct crash_base *base, const struct crash_hist *h,
                         struct crash_verdict *v, FILE *out, unsigned limit, const char *what)
{
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = NULL;
    char w[256];
    snprintf(w, sizeof(w), "%s, read-only open", what);
    sxp_options_init(&o);
    o.quiet = 1;
    o.read_only = 1;
    uint64_t digest = io_sim_digest(sim);
    uint64_t calls = io_fault_kill_count(io, IO_KILL_ANY);
    int opened = 0;
    int rc = store_open_io(root, &o, io, 0, &s, &err);
    if (rc == 0) {
        opened = 1;
        crash_verify_readonly(s, base, h, v, out, limit, w);
        cr_writes(s, v, out, limit, w);
        rc = sxp_store_close(s);
        if (rc < 0)
            crash_report_bad(v, out, limit, w, "close failed: %s", strerror(-rc));
    } else if (rc == -EUCLEAN && strstr(err.msg, "JOURNAL holds") != NULL) {
        /* RO-2: records recovery writes back; the open after says. */
    } else if ((rc == -ENOENT || h->unpromised) && !cr_promised(base, h)) {
        /* RO-2: the crash came before the store's root was durable, or
         * before an unpromised session's store was whole. */
    } else {
        crash_report_bad(v, out, limit, w, "refused: %s (RO-2)", err.msg);
    }
    uint64_t changed = io_fault_kill_count(io, IO_KILL_ANY) - calls;
    if (changed != 0)
        crash_report_bad(v, out, limit, w, "made %llu calls that change the disk (RO-1)",
                         (unsigned long long)changed);
    else if (io_sim_digest(sim) != digest)
        crash_report_bad(v, out, limit, w, "the disk changed under it (RO-1)");
    return opened;
}
