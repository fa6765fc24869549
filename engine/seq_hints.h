/*
 * seq_hints.h -- (seq, byte offset) pairs of a log's lines, remembered
 * from read-range's searches (stream_read.c SEEKING), so that the next
 * search of that log starts from the narrowest bracket they give, with the
 * seqs of its ends, instead of the whole log.
 *
 * SH-1  Every hint names the start of a line of the stream's current log
 *       file, whose seq is the hint's seq. Lines are never moved while the
 *       file lives (appends only add after them), so a hint stays true
 *       until the file is replaced: truncate drops the stream's hints when
 *       it renames a new log over the old one (truncate.c), and so does
 *       every new descriptor of the log (streams.c), since a read-only open
 *       may see another process's truncate only then.
 * SH-2  Hints are kept sorted by seq, which (INV-1 of recovery/recover.c)
 *       sorts them by offset too. At most SEQ_HINTS_MAX are kept; when
 *       full, every other one is dropped, which keeps them spread.
 * SH-3  They are read and changed under s->mu, and added by a reader only
 *       while it still pins the log's descriptor, so a truncate (which waits
 *       for the pins) cannot come between the probes and their recording.
 * Only logs long enough to be searched get a hint array (about 8 KiB), so
 * 100,000 small streams cost nothing.
 */
#ifndef SXP_SEQ_HINTS_H
#define SXP_SEQ_HINTS_H

#include <stddef.h>
#include <stdint.h>

#define SEQ_HINTS_MAX 512

struct seq_hint {
    int64_t seq;
    uint64_t off;
};

struct seq_hints {
    size_t n;
    struct seq_hint h[SEQ_HINTS_MAX];
};

/* A seq not known (of the log's start or end, before any line there was
 * read): the bracket's ends start so. */
#define SEQ_HINT_UNKNOWN INT64_MIN

/* Narrows [lo->off, hi->off] (line starts, hi->off perhaps the end) so that
 * it still holds the first line with seq >= from: *lo becomes the last hint
 * with seq < from, *hi the first hint with seq >= from, where those are
 * tighter; an end it moves gets the hint's seq. hs may be NULL. */
void seq_hints_bracket(const struct seq_hints *hs, int64_t from, struct seq_hint *lo,
                       struct seq_hint *hi);
/* Adds add[0..n) (allocating *hs on first use); -ENOMEM. */
int seq_hints_add(struct seq_hints **hs, const struct seq_hint *add, size_t n);
void seq_hints_free(struct seq_hints **hs);

#endif
