/* checks.c -- the table of finding codes; its meaning is in checks.h. */
#include "checks.h"

const struct fsck_check_info fsck_checks[FSCK_CODE_COUNT] = {
    [FSCK_CHECKSUM] = {"checksum", FSCK_CORRUPTION, "a log line's checksum or trailer is wrong",
                       "-y moves the line to lost+found/"},
    [FSCK_SEQ_ORDER] = {"seq-order", FSCK_CORRUPTION,
                        "a line's :seq is not above the line kept before it",
                        "-y moves it to lost+found/, keeping the longest increasing run"},
    [FSCK_EVENT_UNPARSABLE] = {"event-unparsable", FSCK_CORRUPTION,
                               "a log line's payload is not one SX value",
                               "-y moves the line to lost+found/"},
    [FSCK_EVENT_NO_SEQ] = {"event-no-seq", FSCK_CORRUPTION,
                           "a log line is not a dict with an integer :seq",
                           "-y moves the line to lost+found/"},
    [FSCK_BLANK_LINE] = {"blank-line", FSCK_CORRUPTION, "a log line holds only spaces",
                         "-y moves the line to lost+found/"},
    [FSCK_TORN_TAIL] = {"torn-tail", FSCK_RESIDUE,
                        "the end of a log holds what a crash left of an unacknowledged write",
                        "-p saves its bytes to lost+found/ (unless only zeros) and cuts it off"},
    [FSCK_HW_BEHIND] = {"hw-behind", FSCK_RESIDUE,
                        "a stream's .seq is below the max seq of its log", "-p rolls it forward"},
    [FSCK_SEQ_MISSING] = {"seq-missing", FSCK_RESIDUE, "a .log has no .seq beside it",
                          "-p creates it from the log's max seq, or removes the log when it "
                          "holds no event (an unborn stream)"},
    [FSCK_SEQ_UNREADABLE] = {"seq-unreadable", FSCK_CORRUPTION,
                             "a .seq file does not hold an integer",
                             "-y moves it to lost+found/ and recreates it from the log"},
    [FSCK_SEQ_TORN] = {"seq-torn", FSCK_RESIDUE,
                       "a .seq file does not hold an integer after a session without syncs, "
                       "which renamed it into place before its bytes were durable",
                       "-p writes it again from the log's last event"},
    [FSCK_TEMP_FILE] = {"temp-file", FSCK_RESIDUE,
                        "a leftover temp file (*.tmp) of an interrupted atomic write",
                        "-p removes it"},
    [FSCK_KV_CORRUPT] = {"kv-corrupt", FSCK_CORRUPTION,
                         "a kv file is not one valid framed SX value",
                         "-y moves it to lost+found/"},
    [FSCK_BLOB_HASH] = {"blob-hash", FSCK_CORRUPTION, "a blob's bytes do not hash to its name",
                        "-y moves it to lost+found/"},
    [FSCK_BAD_NAME] = {"bad-name", FSCK_CORRUPTION,
                       "a file is named like a log, .seq, kv file or blob, but not validly",
                       "-y moves it to lost+found/"},
    [FSCK_FOREIGN_FILE] = {"foreign-file", FSCK_CORRUPTION,
                           "a file, directory or symbolic link (never followed) in streams/, "
                           "kv/ or blobs/ that is not the store's",
                           "-y moves it to lost+found/"},
    [FSCK_LEGACY_LINE] = {"legacy-line", FSCK_WARNING,
                          "log lines or kv values without a checksum (written by the "
                          "reference)",
                          "--upgrade adds their trailers"},
    [FSCK_FORMAT_MISSING] = {"format-missing", FSCK_WARNING,
                             "no FORMAT file: a store written by the reference",
                             "--upgrade writes it"},
    [FSCK_LIVE_WRITER] = {"live-writer", FSCK_WARNING,
                          "--force: checked while a writer held the store; what its session "
                          "explains (.seq files behind the logs it writes or not yet "
                          "written, their torn tails, unborn streams' logs, its temp files) is "
                          "counted here, not as errors",
                          "nothing to repair"},
    [FSCK_JOURNAL_PENDING] = {"journal-pending", FSCK_RESIDUE,
                              "JOURNAL holds acknowledged appends a crash kept out of their "
                              "logs (findings at the end of those logs may be that)",
                              "-p writes them back into their logs first"},
    [FSCK_JOURNAL_ORPHAN] = {"journal-orphan", FSCK_CORRUPTION,
                             "a JOURNAL record names a log that is missing, or that does not "
                             "reach the record's offset (bytes before it are lost)",
                             "-y moves its lines to lost+found/ and writes the other records "
                             "back"},
    [FSCK_JOURNAL_DAMAGED] = {"journal-damaged", FSCK_CORRUPTION,
                              "JOURNAL bytes that do not check, followed by a record of a "
                              "later round: acknowledged appends in them may be missing from "
                              "their logs",
                              "-y moves the bytes to lost+found/ and writes back the records "
                              "before and after them"},
    [FSCK_JOURNAL_HEADER] = {"journal-header", FSCK_CORRUPTION,
                             "JOURNAL's header does not check and records follow it: their "
                             "generation is unknown, so acknowledged appends in them may be "
                             "missing from their logs and none can be written back",
                             "-y moves the whole file to lost+found/ and starts an empty "
                             "journal"},
    [FSCK_HW_LOWERED] = {"hw-lowered", FSCK_CORRUPTION,
                         "a stream's .seq is below the max seq of its log in a store closed "
                         "cleanly, which writes every .seq: it was lowered (restored, edited)",
                         "-y moves it to lost+found/ and recreates it from the log"},
    [FSCK_SEQ_LOST] = {"seq-lost", FSCK_CORRUPTION,
                       "a .log has no .seq in a store closed cleanly, which writes every .seq: "
                       "it was removed, and the mark it held may have been above the log's max "
                       "seq (a truncate's)",
                       "-y recreates it from the log's max seq"},
    [FSCK_SETTLE_PENDING] = {"settle-pending", FSCK_RESIDUE,
                             "LOCK says a syncfs of what a session without syncs wrote failed "
                             "(engine/lock.h K-6): the kernel may have dropped some of it from "
                             "the disk's queue while reads still show it",
                             "-p writes every file of the store again and syncs, before any "
                             "other check"},
};

const char *fsck_class_name(enum fsck_class c)
{
    switch (c) {
    case FSCK_RESIDUE:
        return "residue";
    case FSCK_CORRUPTION:
        return "corruption";
    case FSCK_WARNING:
        return "warning";
    }
    return "unknown";
}

const char *fsck_code_name(enum fsck_code c)
{
    return c < FSCK_CODE_COUNT ? fsck_checks[c].name : "unknown";
}

enum fsck_class fsck_code_class(enum fsck_code c)
{
    return c < FSCK_CODE_COUNT ? fsck_checks[c].cls : FSCK_CORRUPTION;
}

int fsck_code_is_error(enum fsck_code c)
{
    return fsck_code_class(c) != FSCK_WARNING;
}
