/*
 * checks.h -- WHAT sxp-fsck REPORTS: the finding codes, their class, what
 * each repair does, and the exit statuses. This is the one place they are
 * defined; `sxp-fsck --help` and docs/fsck.md are printed from / retell this
 * table. The codes are stable: scripts match on them (--json).
 *
 * CLASSES (SPEC.md section 6):
 *   residue     crash residue: a crash of this engine leaves it, recovery
 *               (recovery/recover.c, rules R-1..R-4) and -p repair it.
 *   corruption  anything a crash of this engine cannot explain; -y moves the
 *               bad line or file into lost+found/ (never deletes it).
 *   warning     worth knowing, not an error: exit status stays 0.
 *
 *   code              class       what                          -p / -y repair
 *   checksum          corruption  a log line's trailer is wrong  -y: line to lost+found
 *                                 (checksum mismatch, bad
 *                                 trailer, overlong line)
 *   seq-order         corruption  a line's :seq is not above      -y: line to lost+found
 *                                 the previous kept line's (the   (keeping the longest
 *                                 longest increasing run is       increasing run)
 *                                 kept, INV-1)
 *   event-unparsable  corruption  a line's payload is not SX      -y: line to lost+found
 *   event-no-seq      corruption  not a dict with integer :seq    -y: line to lost+found
 *   blank-line        corruption  a log line of only spaces       -y: line to lost+found
 *   torn-tail         residue     bad lines at the end that a     -p: cut, its
 *                                 crash explains (R-3, R-3b)      bytes first saved to
 *                                                                 lost+found (not zeros)
 *   hw-behind         residue     .seq below the log's max seq,   -p: rolled forward
 *                                 LOCK not clean (check_seq.c)
 *   hw-lowered        corruption  the same in a store LOCK says   -y: to lost+found, then
 *                                 was closed cleanly: a clean     recreated from the log
 *                                 close writes every .seq (lock.h
 *                                 K-3), so it was lowered
 *                                 (check_seq.c)
 *   seq-missing       residue     a .log with no .seq (INV-4);    -p: created; an
 *                                 unborn when the log holds no    unborn stream's empty
 *                                 event (check_seq.c MISSING)     log removed (R-4b)
 *   seq-lost          corruption  the same in a store LOCK says   -y: created from the log
 *                                 was closed cleanly: a clean     (the mark it held may
 *                                 close writes every .seq and     have been higher)
 *                                 removes unborn logs, so the
 *                                 file was removed (check_seq.c)
 *   seq-unreadable    corruption  a .seq that does not parse      -y: to lost+found, then
 *                                                                 recreated from the log
 *   seq-torn          residue     the same after a session        -p: written again from
 *                                 without syncs of another boot   the log's last event
 *                                 (LOCK, K-6..K-8) when its log  ; the bytes are
 *                                 has an event to rebuild it      what a power loss left
 *                                 from (R-7; check_seq.c TORN)
 *   temp-file         residue     leftover "*.tmp" (INV-5)        -p: removed
 *   kv-corrupt        corruption  a kv file that is not one       -y: file to lost+found
 *                                 valid framed SX value
 *   blob-hash         corruption  a blob whose bytes do not hash  -y: file to lost+found
 *                                 to its name
 *   bad-name          corruption  a file named like one of ours   -y: file to lost+found
 *                                 but not validly (upper-case or
 *                                 odd hex, a key too long, not a
 *                                 cid in blobs/)
 *   foreign-file      corruption  anything else in streams/, kv/, -y: to lost+found
 *                                 blobs/ (directories included),
 *                                 and every symbolic link there
 *                                 (not followed)
 *   legacy-line       warning     lines or kv values without a    --upgrade: trailers
 *                                 checksum (the reference's)      added
 *   format-missing    warning     no FORMAT file (a legacy store) --upgrade: written
 *   live-writer       warning     --force: checked while a writer none
 *                                 held the store; counts what its
 *                                 session explains, which is then
 *                                 no error: .seq files behind the
 *                                 logs it writes or not yet
 *                                 written, their torn tails,
 *                                 unborn streams' logs, its temp
 *                                 files (check_live.c LV-1..LV-6)
 *   journal-pending   residue     JOURNAL holds records of        -p: written back into
 *                                 acknowledged appends (J-6)      their logs first
 *   journal-orphan    corruption  a record's log is missing, or   -y: its lines to
 *                                 ends before its offset (J-6)    lost+found, the others
 *                                                                 written back
 *   journal-damaged   corruption  bytes that do not check, before -y: them to lost+found,
 *                                 a later round's record (J-9)    the records around
 *                                                                 them written back
 *   journal-header    corruption  JOURNAL's header does not       -y: the file to
 *                                 check, and records follow it    lost+found, then an
 *                                 (J-8)                           empty journal
 *   settle-pending    residue     LOCK says a syncfs of what a    -p: every file written
 *                                 session without syncs wrote     again and synced, before
 *                                 failed (engine/lock.h K-6)      any other check
 * (J-n: engine/journal.c.)
 *
 * EXIT STATUS (as e2fsck's, SPEC.md section 6):
 *   0   no errors (warnings allowed), or nothing left to repair
 *   1   errors were found and all of them were repaired
 *   4   errors are left: under -n any residue or corruption found; under -p
 *       any corruption; under -y a repair that failed
 *   8   the store could not be checked: not a store, unreadable, an unknown
 *       FORMAT, an I/O error, or locked by a live writer (without --force)
 *   16  bad usage
 * Unlike e2fsck the statuses are not summed: 4 wins over 1.
 */
#ifndef SXP_FSCK_CHECKS_H
#define SXP_FSCK_CHECKS_H

enum fsck_class {
    FSCK_RESIDUE = 0,
    FSCK_CORRUPTION,
    FSCK_WARNING,
};

enum fsck_code {
    FSCK_CHECKSUM = 0,
    FSCK_SEQ_ORDER,
    FSCK_EVENT_UNPARSABLE,
    FSCK_EVENT_NO_SEQ,
    FSCK_BLANK_LINE,
    FSCK_TORN_TAIL,
    FSCK_HW_BEHIND,
    FSCK_SEQ_MISSING,
    FSCK_SEQ_UNREADABLE,
    FSCK_TEMP_FILE,
    FSCK_KV_CORRUPT,
    FSCK_BLOB_HASH,
    FSCK_BAD_NAME,
    FSCK_FOREIGN_FILE,
    FSCK_LEGACY_LINE,
    FSCK_FORMAT_MISSING,
    FSCK_LIVE_WRITER,
    FSCK_JOURNAL_PENDING,
    FSCK_JOURNAL_ORPHAN,
    FSCK_JOURNAL_DAMAGED,
    FSCK_JOURNAL_HEADER,
    FSCK_HW_LOWERED,
    FSCK_SEQ_LOST,
    FSCK_SETTLE_PENDING,
    FSCK_SEQ_TORN,
    FSCK_CODE_COUNT,
};

#define FSCK_EXIT_CLEAN 0
#define FSCK_EXIT_REPAIRED 1
#define FSCK_EXIT_LEFT 4
#define FSCK_EXIT_FAILED 8
#define FSCK_EXIT_USAGE 16

struct fsck_check_info {
    const char *name; /* the stable code */
    enum fsck_class cls;
    const char *what;   /* one line for --help */
    const char *repair; /* what -p, -y or --upgrade does, for --help */
};

/* Indexed by enum fsck_code. */
extern const struct fsck_check_info fsck_checks[FSCK_CODE_COUNT];

/* "residue", "corruption", "warning". */
const char *fsck_class_name(enum fsck_class c);
const char *fsck_code_name(enum fsck_code c);
enum fsck_class fsck_code_class(enum fsck_code c);
/* 1 for residue and corruption (errors), 0 for warnings. */
int fsck_code_is_error(enum fsck_code c);

#endif
