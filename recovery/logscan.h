/*
 * logscan.h -- reading a log line by line and judging each line, shared by
 * recovery (recover.c, which reads only a log's tail window) and sxp-fsck
 * (which reads whole logs). The rule these pieces implement -- good lines,
 * torn tails, corruption -- is written once, at the top of recover.c.
 */
#ifndef SXP_LOGSCAN_H
#define SXP_LOGSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "io.h"

/* Lines longer than this are not held in memory: they are judged BAD
 * (LS_OVERLONG, or LS_INCOMPLETE at the end of the file) from a streaming
 * look for the LF and for NUL bytes. The engine never writes a line longer
 * than COMMIT_MAX_LINE; its reads hold the same bound (frame.h). */
#define LOGSCAN_LINE_MAX FRAME_LINE_READ_MAX

/* The reader's default chunk: logs are read in large preads. */
#define LOGSCAN_CHUNK ((size_t)1 << 20)

/* One line as read. */
struct logscan_line {
    uint64_t off;         /* file offset of its first byte */
    uint64_t len;         /* bytes, LF included */
    uint64_t no;          /* 1-based line number (counted from the reader's start) */
    const char *bytes;    /* the line's bytes in the reader's buffer (NULL if overlong) */
    struct frame_line fl; /* frame_next's view; payload points into the reader's
                             buffer, valid until the next call. NULL payload
                             for an overlong line. */
    int overlong;         /* longer than LOGSCAN_LINE_MAX */
    int has_nul;          /* overlong lines only: it holds a NUL byte */
};

struct logscan_reader {
    struct sxp_io *io;
    int fd;
    char *buf;
    size_t cap;         /* bytes allocated */
    size_t pos, len;    /* buf[pos..len) is read but not yet returned */
    size_t scanned;     /* buf[pos..scanned) holds no LF */
    uint64_t buf_off;   /* file offset of buf[0] */
    uint64_t end;       /* stop at this file offset */
    uint64_t line_no;   /* number of the last line returned */
    uint64_t *progress; /* if set, bytes read are added here (relaxed atomic) */
};

/* Prepares to read fd from off (a line start) to end; the first line
 * returned is numbered first_no. chunk 0: LOGSCAN_CHUNK. */
SXP_MUST_CHECK int logscan_reader_open(struct logscan_reader *r, struct sxp_io *io, int fd,
                                       uint64_t off, uint64_t end, uint64_t first_no, size_t chunk);
/* 1 and *out: the next line; 0 at the end; -errno on a read error. */
SXP_MUST_CHECK int logscan_reader_next(struct logscan_reader *r, struct logscan_line *out);
void logscan_reader_close(struct logscan_reader *r);

/* What a line is. */
enum logscan_verdict {
    LS_GOOD = 0,    /* framed or legacy, an event, seq above the last good one */
    LS_INCOMPLETE,  /* the last bytes of the file, with no LF */
    LS_BAD_SUM,     /* trailer well formed, checksum wrong */
    LS_BAD_TRAILER, /* a TAB but no well-formed trailer */
    LS_OVERLONG,    /* longer than LOGSCAN_LINE_MAX */
    LS_BLANK,       /* nothing but spaces */
    LS_UNPARSABLE,  /* the payload is not one SX value */
    LS_NO_SEQ,      /* a value, but not a dict with an integer :seq */
    LS_SEQ_ORDER,   /* an event whose seq is not above the last good seq */
    LS_NOMEM,       /* no verdict: judging it ran out of memory (sxcheck.h);
                     * never residue, and every reader fails with -ENOMEM */
};

struct logscan_class {
    enum logscan_verdict v;
    int legacy;  /* the line has no trailer (FRAME_LEGACY) */
    int residue; /* a bad line a crash can leave: LS_INCOMPLETE, or a NUL byte in a
                  * line whose checksum does not match or that has none */
    int has_seq; /* LS_GOOD and LS_SEQ_ORDER: seq is its :seq */
    int64_t seq;
};

/* Judges one line. have_prev/prev_seq: the last good seq before it. */
void logscan_classify(const struct logscan_line *l, int have_prev, int64_t prev_seq,
                      struct logscan_class *out);
/* A short phrase for a bad verdict ("checksum mismatch", ...). */
const char *logscan_verdict_name(enum logscan_verdict v);

/*
 * THE TAIL DECISION (rule R-3 of recover.c) as a state machine fed with the
 * lines of a log in order. Both recovery and fsck feed it; fsck feeds it
 * every line, recovery only the window's.
 */
enum logscan_tail_state {
    LT_NORMAL = 0, /* no bad line seen in the window yet */
    LT_CANDIDATE,  /* the first bad line of the window was residue: from x_off on
                      everything may be a torn tail */
    LT_SETTLED,    /* a bad line of the window was not residue: no torn tail */
};

/* What to do with the line just fed. */
enum logscan_tail_action {
    LTA_GOOD = 0, /* a good line: nothing to report */
    LTA_BAD,      /* a bad line outside any torn tail: report it */
    LTA_PENDING,  /* a bad line inside the candidate torn tail: hold it */
    LTA_FAILED,   /* a non-residue bad line ended the candidate: the lines held
                     since x_off are bad lines after all, and so is this one */
    LTA_DURABLE,  /* a good line whose seq the high-water mark covers ended the
                     candidate (R-3c): the lines held since x_off are bad lines
                     after all; this one is good */
};

struct logscan_tail {
    uint64_t window; /* W: lines ending after it are in the window */
    enum logscan_tail_state state;
    uint64_t x_off, x_no; /* the candidate's first line */
    uint64_t x_good;      /* good lines after it in the candidate (R-3 c) */
    int have_prev;        /* a good line has been seen */
    int64_t prev_seq;     /* the last good seq (the max, by INV-1) */
    int x_have_prev;      /* have_prev and prev_seq when the candidate began */
    int64_t x_prev_seq;
    int cut_last;      /* LT_SETTLED, but the last line is incomplete: it alone
                          is a torn tail (x_off, x_no name it) */
    uint64_t last_end; /* where the last line fed ends */
    int have_hw;       /* R-3c: the stream's .seq was read ... */
    int64_t hw;        /* ... and holds this high-water mark */
    int clean;         /* R-3d: the store was closed cleanly: nothing is torn */
    /* the first good line fed that the .seq does not cover (its seq
     * above hw, or no hw), or UINT64_MAX */
    uint64_t above_off;
};

/* Starts the machine for a log of size bytes; the window is its last
 * COMMIT_MAX_UNSYNCED bytes. have_prev/prev_seq: the good seq before the
 * first line to be fed (recovery's trusted line), if any. */
void logscan_tail_init(struct logscan_tail *t, uint64_t size, int have_prev, int64_t prev_seq);
/* R-3c: the high-water mark the stream's .seq holds. Every line whose seq it
 * covers was durable before the .seq was written. */
void logscan_tail_set_hw(struct logscan_tail *t, int64_t hw);
/* R-3d: LOCK read "clean\n", so every byte of the log was durable: no line
 * is a torn tail, an incomplete last line included. */
void logscan_tail_set_clean(struct logscan_tail *t);
/* Judges l (with logscan_classify, which uses and updates the last good
 * seq) and says what to do; *out gets the judgement. */
enum logscan_tail_action logscan_tail_feed(struct logscan_tail *t, const struct logscan_line *l,
                                           struct logscan_class *out);
/* Lines that a candidate torn tail held and R-3c proved bad. */
struct logscan_bad_range {
    uint64_t from, to; /* [from, to) */
    uint64_t no;       /* the line number at from */
    int have_prev;     /* the last good seq before from, if any */
    int64_t prev_seq;
};
/* After the last line, before logscan_tail_end: R-3c's second case. When
 * the candidate's first line follows a good line whose seq is below the
 * high-water mark, an event above that seq was durable and can only be in
 * the candidate: it is no torn tail, and since that event may be any of
 * its lines, an incomplete last line included, all of them are bad lines
 * (R-3b does not apply). Then 1 and *out; else 0. */
int logscan_tail_close(struct logscan_tail *t, struct logscan_bad_range *out);
/* After the last line: 1 when [x_off, EOF) is a torn tail to cut, else 0.
 * *out_have_max and *out_max: the max seq of what stays. */
int logscan_tail_end(const struct logscan_tail *t, int *out_have_max, int64_t *out_max);

/* The offset just after the last LF in [0, pos), or 0 when there is none:
 * for pos = W, the start of the line that holds byte W. Reads backwards in
 * chunks. */
SXP_MUST_CHECK int logscan_line_start(struct sxp_io *io, int fd, uint64_t pos, uint64_t *out);
/* Counts the LF bytes in [0, end) (for line numbers in messages). */
SXP_MUST_CHECK int logscan_count_lines(struct sxp_io *io, int fd, uint64_t end, uint64_t *out);

#endif
