/*
 * check_seq.c -- a stream's .seq: readable, present beside its log
 * (INV-4) and not below the log's max seq (INV-3). fsck_read_seq runs
 * before the log's check (which uses the mark for R-3c), fsck_check_seq
 * after it, since it needs the max the log's check found.
 *
 * BEHIND OR LOWERED. A .seq below its log's max seq is hw-behind, crash
 * residue, when LOCK does not read clean: a session writes a stream's
 * .seq only at its close (and truncate), so a crash leaves it behind the
 * appends of that session, and recovery or -p rolls it forward. When
 * LOCK reads clean (K-3 in engine/lock.h: the close wrote every .seq, or
 * -p/-y left the store so) no crash explains it: the file was lowered, an
 * old .seq restored from a backup or edited. That is hw-lowered,
 * corruption: -p leaves it, -y moves the file to lost+found/ (the number
 * it held is evidence) and writes the log's max seq in its place. The
 * engine takes no seq twice meanwhile: the first use of the stream in a
 * read-write session reads the log's last seq and raises the mark to it
 * (engine/store_int.h ST-8), as R-4 would; a read-only open reports that
 * mark too (ST-9), without writing it.
 *
 * MISSING. A .log without a .seq is seq-missing, residue: a session writes
 * a new stream's .seq at its first truncate or its close (engine/streams.c
 * CREATION ORDER). When the log holds no event once its torn tail is cut,
 * the stream is UNBORN (a = 1): its first append failed or never became
 * durable, and -p removes the empty log as recovery does (R-4b), where it
 * creates the .seq of any other log. Not while a JOURNAL record that
 * was not written back (-n; -p holding them for -y) may name the log (c =
 * 1): its lines are still to come, as recovery writes records back first
 * so -p neither removes the log nor writes a .seq from it; -y,
 * which writes the records back (or saves them in lost+found/) before the
 * checks, judges it. When JOURNAL's header does not check (journal-header),
 * its records cannot be read to say which logs they name: every log
 * without a .seq is held so.
 *
 * LOST. In a store whose LOCK reads clean (R-3d) no crash explains a
 * missing .seq: a clean close writes every stream's .seq and removes the
 * logs of unborn streams (engine/streams.c). So the file was removed (by
 * hand, a restore), and the mark it held may have been above the log's
 * max seq: a truncate keeps the mark, and a .seq written from the log
 * would let seqs already taken be taken again. It is seq-lost, corruption,
 * as hw-lowered is: -p leaves it, -y writes the log's max seq, which the
 * operator asked for (docs/fsck.md). An empty log is kept then: it may be
 * a stream every event of which was truncated.
 *
 * TORN. A .seq that does not parse is seq-unreadable, corruption: it is
 * replaced by an atomic rename, which no crash of a syncing session tears.
 * A session without syncs renamed .seq files into place before their
 * bytes were durable, so after it (fsck_after_unsynced: LOCK says it did
 * not close cleanly) a power loss explains one empty or full of NULs, or
 * any unparsable text. There it is seq-torn, residue, when its log keeps
 * an event once its torn tail is cut: -p writes the mark again from that
 * event's seq, as recovery does. When it holds a byte no torn
 * write of a mark explains (c = 1, layout_seq_torn_only: stale bytes of
 * another file, say) -p first moves it to lost+found/: nothing is
 * deleted that may tell what the mark was. With no event left to rebuild it
 * from (an empty log, or no log) it stays seq-unreadable: the mark may
 * have been above every event, and recovery refuses it too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fsck_int.h"
#include "layout.h"

int fsck_read_seq(struct fsck_ctx *c, struct fsck_item *it)
{
    char path[PATH_MAX], text[LAYOUT_SEQ_MAX_TEXT + 1];
    size_t len = 0;
    int rc = 0;
    if (it->has_seq) {
        if (fsck_path(c, it->rel_seq, path)) {
            fsck_item_fail(it, -ENAMETOOLONG, "open", it->rel_seq);
            return -ENAMETOOLONG;
        }
        rc = fsck_read_small(c, path, text, LAYOUT_SEQ_MAX_TEXT, &len);
        if (rc == 0 && layout_seq_parse(text, len, &it->hw) == 0) {
            it->hw_state = 1;
            it->hw_len = len;
        } else if (rc == 0 || rc == -E2BIG) {
            uint64_t whole = len; /* what -y moves, and MANIFEST says */
            if (rc == -E2BIG && c->io->stat(c->io, path, &whole, NULL) != 0)
                whole = 0;
            it->hw_state = 2;
            /* c: a byte no torn write of a mark explains, which -p
             * saves before it writes the mark again (TORN, below). */
            struct fsck_finding f = {.code = FSCK_SEQ_UNREADABLE,
                                     .file = it->rel_seq,
                                     .len = whole,
                                     .a = rc == -E2BIG,
                                     .c = rc == -E2BIG || !layout_seq_torn_only(text, len)};
            rc = fsck_flist_add(&it->f, &f);
        } else {
            fsck_item_fail(it, rc, "read", path);
            return rc;
        }
    }
    return rc;
}

int fsck_check_seq(struct fsck_ctx *c, struct fsck_item *it)
{
    int rc = 0;
    if (!it->has_log || it->failed)
        return rc;
    int64_t max = it->have_max ? it->max : 0;
    if (it->hw_state == 2 && fsck_after_unsynced(c) && it->have_max) {
        /* TORN: fsck_read_seq found it unreadable; the log rebuilds it. */
        for (size_t i = 0; i < it->f.n; i++)
            if (it->f.v[i].code == FSCK_SEQ_UNREADABLE) {
                it->f.v[i].code = FSCK_SEQ_TORN;
                it->f.v[i].b = max;
            }
    }
    if (!it->has_seq) {
        /* UNBORN (recover.c R-4b): no event stays once a torn tail is cut. */
        int unborn = it->log_size == 0 || (it->torn && it->torn_off == 0);
        int held =
            c->held_all || lock_dirty_has(&c->held, lock_dirty_bucket(it->name, strlen(it->name)));
        struct fsck_finding f = {.code = c->store_clean ? FSCK_SEQ_LOST : FSCK_SEQ_MISSING,
                                 .file = it->rel_seq,
                                 .a = unborn && !held && !c->store_clean,
                                 .b = max,
                                 /* a pending record may name it: left for -y,
                                  * or (d) only for -p's replay, under -n */
                                 .c = held,
                                 .d = held && !c->held_for_y};
        rc = fsck_flist_add(&it->f, &f);
    } else if (it->hw_state == 1 && it->hw < max) {
        struct fsck_finding f = {.code = c->store_clean ? FSCK_HW_LOWERED : FSCK_HW_BEHIND,
                                 .file = it->rel_seq,
                                 .len = it->hw_len,
                                 .a = it->hw,
                                 .b = max};
        rc = fsck_flist_add(&it->f, &f);
    }
    return rc;
}
