/*
 * report.c -- the words of a report: each finding's message and action,
 * the text and JSON forms, and the summary line.
 *
 * TEXT, one line per finding, then the summary:
 *   streams/6f72.log: line 17, byte 1234: checksum mismatch [checksum, corruption]
 *   streams/6f72.log: line 17, byte 1234: ... -> moved to lost+found/6f72.log.1
 *   sxp-fsck: DIR: 3 streams (1.2 MB of logs), 1 kv, 2 blobs checked in 0.01 s (120.0 MB/s):
 *     2 errors (1 residue, 1 corruption), 0 repaired, 2 left, 0 warnings; exit 4
 *
 * JSON, one object:
 *   {"store": DIR, "mode": "check"|"preen"|"yes", "status": N, "fatal": null|MSG,
 *    "findings": [{"code", "class", "file", "line" (null for a whole file),
 *                  "offset" (null for a whole file), "length", "message",
 *                  "action" (words), "moved_to" (null or "lost+found/...")}],
 *    "summary": {"streams", "kv", "blobs", "log_bytes", "bytes", "seconds",
 *                "mb_per_s", "errors", "residue", "corruption", "warnings",
 *                "upgraded", "repaired", "left"}}
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck_int.h"
#include "logscan.h"

static int fsck_finding_cmp(const void *a, const void *b)
{
    const struct fsck_finding *x = a, *y = b;
    int r = strcmp(x->file, y->file);
    if (r)
        return r;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (int)x->code - (int)y->code;
}

void fsck_findings_sort(struct fsck_finding *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), fsck_finding_cmp);
}

static int fsck_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Why a hw-behind or torn-tail under --force is an error (check_live.c). */
#define FSCK_MSG_NOT_LIVE                                                                          \
    "the live writer has not written this session (neither LOCK's dirty list nor JOURNAL "         \
    "names the log)"

/* "N thing" or "N things", after ", " unless first; appends to buf. */
static void fsck_count_words(char *buf, size_t size, int *first, int64_t n, const char *one,
                             const char *many)
{
    size_t len = strlen(buf);
    if (n <= 0 || len >= size)
        return;
    fsck_msgf(buf + len, size - len, "%s%" PRId64 " %s", *first ? "" : ", ", n,
              n == 1 ? one : many);
    *first = 0;
}

/* live-writer: the holder, and what its session explains (fsck_int.h). */

const char *fsck_foreign_kind(int detail)
{
    switch (detail) {
    case FSCK_FOREIGN_LINK:
        return "a symbolic link";
    case FSCK_FOREIGN_DIR:
        return "a directory";
    case FSCK_FOREIGN_SPECIAL:
        return "a FIFO, device or socket";
    default:
        return "a file";
    }
}

static void fsck_live_message(const struct fsck_finding *f, char *buf, size_t size)
{
    int first = 1;
    if (f->a > 0)
        fsck_msgf(buf, size, "pid %" PRId64 " holds the store: checked read-only (--force)", f->a);
    else
        fsck_msgf(buf, size, "another process holds the store: checked read-only (--force)");
    if (f->b <= 0 && f->c <= 0 && f->detail <= 0 && f->d <= 0 && f->e <= 0)
        return;
    size_t len = strlen(buf);
    fsck_msgf(buf + len, size - len, "; not counted as errors, as its session explains them: ");
    fsck_count_words(buf, size, &first, f->b, ".seq behind its log (written at close)",
                     ".seq files behind their logs (written at close)");
    fsck_count_words(buf, size, &first, f->d, "new stream (its .seq written at close)",
                     "new streams (their .seq written at close)");
    fsck_count_words(buf, size, &first, f->e,
                     "empty log of a stream being created (or whose first append failed)",
                     "empty logs of streams being created (or whose first append failed)");
    fsck_count_words(buf, size, &first, f->c, "log end being written", "log ends being written");
    fsck_count_words(buf, size, &first, f->detail, "temp file of a write in progress",
                     "temp files of writes in progress");
}

void fsck_finding_message(const struct fsck_finding *f, char *buf, size_t size)
{
    const char *nul = f->a ? " (holds NUL bytes)" : "";
    switch (f->code) {
    case FSCK_CHECKSUM:
        /* An incomplete last line is corruption for one of two reasons;
         * check_log.c puts in b the high-water mark that proved it (R-3c),
         * or INT64_MIN when LOCK read clean (R-3d). */
        if (f->detail == LS_INCOMPLETE && f->b != INT64_MIN) {
            fsck_msgf(buf, size,
                      "incomplete last line (no LF), not a torn tail: the high-water mark %" PRId64
                      " says an event after the last good line was durable%s",
                      f->b, nul);
            return;
        }
        fsck_msgf(buf, size, "%s%s",
                  f->detail == LS_BAD_TRAILER ? "bad trailer (no TAB and 16 hex digits at the end)"
                  : f->detail == LS_OVERLONG  ? "line longer than 64 MiB"
                  : f->detail == LS_INCOMPLETE
                      ? "incomplete last line (no LF), in a store closed cleanly"
                      : "checksum mismatch",
                  nul);
        return;
    case FSCK_SEQ_ORDER:
        /* check_log.c PASS 3: the events outside the longest increasing
         * run of the log's seqs; b is the seq of the kept event before. */
        if (f->b == INT64_MIN)
            fsck_msgf(buf, size,
                      "seq %" PRId64 " is out of order: the longest increasing run of the "
                      "log's seqs leaves it out (no kept event before it)",
                      f->a);
        else
            fsck_msgf(buf, size,
                      "seq %" PRId64 " is out of order: the longest increasing run of the "
                      "log's seqs leaves it out (the kept event before it has seq %" PRId64 ")",
                      f->a, f->b);
        return;
    case FSCK_EVENT_UNPARSABLE:
        fsck_msgf(buf, size, "event does not parse as SX%s", nul);
        return;
    case FSCK_EVENT_NO_SEQ:
        fsck_msgf(buf, size, "event is not a dict with an integer :seq");
        return;
    case FSCK_BLANK_LINE:
        fsck_msgf(buf, size, "blank line");
        return;
    case FSCK_TORN_TAIL:
        fsck_msgf(buf, size,
                  "torn tail: %" PRIu64 " bytes in %" PRId64 " line%s after the last good line, %s",
                  f->len, f->a, f->a == 1 ? "" : "s",
                  f->detail == FSCK_NOT_LIVE ? "in a log " FSCK_MSG_NOT_LIVE : "left by a crash");
        return;
    case FSCK_HW_BEHIND:
        fsck_msgf(buf, size, "high-water mark %" PRId64 " is below the log's max seq %" PRId64 "%s",
                  f->a, f->b, f->detail == FSCK_NOT_LIVE ? ", in a log " FSCK_MSG_NOT_LIVE : "");
        return;
    case FSCK_HW_LOWERED:
        fsck_msgf(buf, size,
                  "high-water mark %" PRId64 " is below the log's max seq %" PRId64
                  ", in a store closed cleanly (which writes every .seq): it was lowered, "
                  "by hand or by a restore",
                  f->a, f->b);
        return;
    case FSCK_SEQ_MISSING:
        if (f->a)
            fsck_msgf(buf, size,
                      "missing, and the log holds no event: a stream never appended to (its "
                      "first append failed or never became durable)");
        else
            fsck_msgf(buf, size, "missing: the log has no .seq (its max seq is %" PRId64 ")", f->b);
        if (f->c)
            fsck_msgf(buf + strlen(buf), size - strlen(buf),
                      "; JOURNAL's records, not written back, may still add lines to it: %s",
                      f->d ? "-p writes them back first" : "left for -y");
        if (f->detail == FSCK_NOT_LIVE)
            fsck_msgf(buf + strlen(buf), size - strlen(buf), ", in a log " FSCK_MSG_NOT_LIVE);
        return;
    case FSCK_SEQ_LOST:
        fsck_msgf(buf, size,
                  "missing in a store closed cleanly (which writes every .seq): it was removed, "
                  "and the high-water mark it held may have been above the log's max seq %" PRId64
                  " (a truncate keeps it)",
                  f->b);
        return;
    case FSCK_SEQ_UNREADABLE:
        fsck_msgf(buf, size, "high-water mark is not an integer%s",
                  f->a ? " (longer than 32 bytes)" : "");
        return;
    case FSCK_SEQ_TORN:
        fsck_msgf(buf, size,
                  "high-water mark is not an integer%s, after a session without syncs that "
                  "renamed it into place before its bytes were durable (the log's last event "
                  "is seq %" PRId64 ")",
                  f->a ? " (longer than 32 bytes)" : "", f->b);
        return;
    case FSCK_TEMP_FILE:
        fsck_msgf(
            buf, size, "leftover temp file of an interrupted write (%" PRIu64 " bytes)%s", f->len,
            f->detail == FSCK_NOT_LIVE ? ", not the live writer's (its name holds another pid)"
                                       : "");
        return;
    case FSCK_KV_CORRUPT:
        fsck_msgf(buf, size, "%s",
                  f->detail == LS_BAD_SUM       ? "checksum mismatch"
                  : f->detail == LS_BAD_TRAILER ? "not one framed line"
                  : f->detail == LS_BLANK       ? "empty value"
                  : f->detail == LS_OVERLONG    ? "larger than any value sxp writes (16 MiB)"
                                                : "value does not parse as SX");
        return;
    case FSCK_BLOB_HASH:
        fsck_msgf(buf, size, "its %" PRIu64 " bytes do not hash to the blob's name", f->len);
        return;
    case FSCK_BAD_NAME:
        if (fsck_starts(f->file, "streams/"))
            fsck_msgf(buf, size, "not <lowercase hex of a 1..125 byte name>.log or .seq");
        else if (fsck_starts(f->file, "kv/"))
            fsck_msgf(buf, size, "not the lowercase hex of a 1..127 byte key");
        else
            fsck_msgf(buf, size, "not a cid (CIDv1 raw sha2-256, base32 'b...')");
        return;
    case FSCK_FOREIGN_FILE:
        fsck_msgf(buf, size, "%s%s that is not the store's", fsck_foreign_kind(f->detail),
                  f->detail == FSCK_FOREIGN_LINK ? " (not followed)" : "");
        return;
    case FSCK_LEGACY_LINE:
        if (fsck_starts(f->file, "kv/"))
            fsck_msgf(buf, size, "value without a checksum (legacy)");
        else
            fsck_msgf(buf, size, "%" PRId64 " line%s without a checksum (legacy)", f->a,
                      f->a == 1 ? "" : "s");
        return;
    case FSCK_FORMAT_MISSING:
        fsck_msgf(buf, size, "%s",
                  f->a ? "no FORMAT file: a legacy store written by the reference"
                       : "no FORMAT file: a store nothing was written to yet");
        return;
    case FSCK_SETTLE_PENDING:
        fsck_msgf(buf, size,
                  "a syncfs of what the last session wrote without syncs failed: some of it "
                  "may not be durable until every file is written again");
        return;
    case FSCK_JOURNAL_PENDING:
        fsck_msgf(buf, size,
                  "%" PRId64 " record%s (%" PRIu64
                  " bytes) of acknowledged appends, not yet known to be in their logs",
                  f->a, f->a == 1 ? "" : "s", f->len);
        return;
    case FSCK_JOURNAL_ORPHAN:
        if (f->a < 0)
            fsck_msgf(buf, size,
                      "a JOURNAL record of %" PRIu64 " bytes at byte %" PRIu64
                      " of this log, which is %s",
                      f->len, f->off, f->a == -2 ? "a directory" : "missing");
        else
            fsck_msgf(buf, size,
                      "a JOURNAL record of %" PRIu64 " bytes at byte %" PRIu64
                      " of this log, which ends at byte %" PRId64,
                      f->len, f->off, f->a);
        return;
    case FSCK_JOURNAL_DAMAGED:
        fsck_msgf(buf, size,
                  "%" PRIu64 " bytes at byte %" PRIu64
                  " do not check, and a record of a later round follows at byte %" PRId64,
                  f->len, f->off, f->a);
        return;
    case FSCK_JOURNAL_HEADER:
        fsck_msgf(buf, size,
                  "the header does not check, and the %" PRIu64
                  "-byte file holds records after it: none can be written back",
                  f->len);
        return;
    case FSCK_LIVE_WRITER:
        fsck_live_message(f, buf, size);
        return;
    case FSCK_CODE_COUNT:
        break;
    }
    fsck_msgf(buf, size, "unknown finding");
}

void fsck_finding_action(const struct fsck_finding *f, char *buf, size_t size)
{
    switch (f->action) {
    case FSCK_ACT_NONE:
        fsck_msgf(buf, size, "none");
        return;
    case FSCK_ACT_CUT:
        if (f->moved_to)
            fsck_msgf(buf, size, "cut at byte %" PRId64 "; the bytes cut saved to %s", f->arg,
                      f->moved_to);
        else
            fsck_msgf(buf, size, "cut at byte %" PRId64, f->arg);
        return;
    case FSCK_ACT_MOVED:
        if (f->code == FSCK_SEQ_UNREADABLE || f->code == FSCK_HW_LOWERED ||
            f->code == FSCK_SEQ_TORN)
            fsck_msgf(buf, size, "moved to %s; recreated holding %" PRId64,
                      f->moved_to ? f->moved_to : "lost+found/", f->arg);
        else
            fsck_msgf(buf, size, "moved to %s", f->moved_to ? f->moved_to : "lost+found/");
        return;
    case FSCK_ACT_REMOVED:
        fsck_msgf(buf, size, f->code == FSCK_SEQ_MISSING ? "the empty log removed" : "removed");
        return;
    case FSCK_ACT_ROLLED:
        fsck_msgf(buf, size, "rolled forward to %" PRId64, f->arg);
        return;
    case FSCK_ACT_CREATED:
        if (f->code == FSCK_FORMAT_MISSING)
            fsck_msgf(buf, size, "written");
        else if (f->code == FSCK_SEQ_TORN)
            fsck_msgf(buf, size, "written again holding %" PRId64, f->arg);
        else
            fsck_msgf(buf, size, "created holding %" PRId64, f->arg);
        return;
    case FSCK_ACT_UPGRADED:
        fsck_msgf(buf, size, "%" PRId64 " trailer%s added", f->arg, f->arg == 1 ? "" : "s");
        return;
    case FSCK_ACT_REPLAYED:
        fsck_msgf(buf, size, "written back (%" PRId64 " bytes)", f->arg);
        return;
    case FSCK_ACT_SETTLED:
        fsck_msgf(buf, size, "every file written again and synced");
        return;
    case FSCK_ACT_FAILED:
        fsck_msgf(buf, size, "repair failed: %s", f->note ? f->note : "unknown error");
        return;
    }
    fsck_msgf(buf, size, "unknown");
}

static const char *fsck_mode_name(enum fsck_mode m)
{
    return m == FSCK_MODE_YES ? "yes" : m == FSCK_MODE_PREEN ? "preen" : "check";
}

/* A byte count for people: 512 B, 1.2 MB, 3.4 GB (powers of 1000). */
static void fsck_bytes(uint64_t n, char *buf, size_t size)
{
    if (n < 1000)
        fsck_msgf(buf, size, "%" PRIu64 " B", n);
    else if (n < 1000000)
        fsck_msgf(buf, size, "%.1f kB", (double)n / 1e3);
    else if (n < 1000000000)
        fsck_msgf(buf, size, "%.1f MB", (double)n / 1e6);
    else
        fsck_msgf(buf, size, "%.2f GB", (double)n / 1e9);
}

static double fsck_rate_mb(const struct fsck_report *r)
{
    double secs = (double)r->check_ns / 1e9;
    uint64_t bytes = r->log_bytes + r->kv_bytes + r->blob_bytes;
    return secs > 0 ? (double)bytes / 1e6 / secs : 0.0;
}

void fsck_report_summary(const struct fsck_report *r, const char *root, char *buf, size_t size)
{
    char logs[32], upgraded[48] = "";
    fsck_bytes(r->log_bytes, logs, sizeof(logs));
    if (r->upgraded)
        fsck_msgf(upgraded, sizeof(upgraded), " (%u upgraded)", r->upgraded);
    if (r->fatal[0]) {
        fsck_msgf(buf, size, "sxp-fsck: %s: could not check: %s; exit %d", root, r->fatal,
                  r->status);
        return;
    }
    fsck_msgf(buf, size,
              "sxp-fsck: %s: %u stream%s (%s of logs), %u kv, %u blob%s checked in %.2f s "
              "(%.1f MB/s): %u error%s (%u residue, %u corruption), %u repaired, %u left, "
              "%u warning%s%s; exit %d",
              root, r->streams, r->streams == 1 ? "" : "s", logs, r->kv_files, r->blobs,
              r->blobs == 1 ? "" : "s", (double)r->check_ns / 1e9, fsck_rate_mb(r), r->errors,
              r->errors == 1 ? "" : "s", r->residue, r->corruption, r->repaired, r->left,
              r->warnings, r->warnings == 1 ? "" : "s", upgraded, r->status);
}

/* s with its control bytes as \xHH, so that a finding stays one line
 * whatever a foreign file is called. */
static void fsck_text_str(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\x%02x", ch);
        else
            fputc(ch, out);
    }
}

void fsck_report_print_text(const struct fsck_report *r, const char *root, FILE *out)
{
    char msg[512], act[600], sum[1024];
    for (size_t i = 0; i < r->n; i++) {
        const struct fsck_finding *f = &r->f[i];
        fsck_finding_message(f, msg, sizeof(msg));
        fsck_text_str(out, f->file);
        fputs(": ", out);
        if (f->line)
            fprintf(out, "line %" PRIu64 ", byte %" PRIu64 ": ", f->line, f->off);
        fsck_text_str(out, msg);
        fprintf(out, " [%s, %s]", fsck_code_name(f->code),
                fsck_class_name(fsck_code_class(f->code)));
        if (f->action != FSCK_ACT_NONE) {
            fsck_finding_action(f, act, sizeof(act));
            fputs(" -> ", out);
            fsck_text_str(out, act);
        }
        fputc('\n', out);
    }
    fsck_report_summary(r, root, sum, sizeof(sum));
    fprintf(out, "%s\n", sum);
}

/* A JSON string; bytes >= 0x80 are written as \u00XX (so the output is
 * always valid UTF-8, whatever a foreign file is called). */
static void fsck_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void fsck_report_print_json(const struct fsck_report *r, const char *root, FILE *out)
{
    char msg[512], act[600];
    fprintf(out, "{\"store\": ");
    fsck_json_str(out, root);
    fprintf(out, ", \"mode\": \"%s\", \"status\": %d, \"fatal\": ", fsck_mode_name(r->mode),
            r->status);
    if (r->fatal[0])
        fsck_json_str(out, r->fatal);
    else
        fprintf(out, "null");
    fprintf(out, ",\n \"findings\": [");
    for (size_t i = 0; i < r->n; i++) {
        const struct fsck_finding *f = &r->f[i];
        fsck_finding_message(f, msg, sizeof(msg));
        fsck_finding_action(f, act, sizeof(act));
        fprintf(out, "%s\n  {\"code\": \"%s\", \"class\": \"%s\", \"file\": ", i ? "," : "",
                fsck_code_name(f->code), fsck_class_name(fsck_code_class(f->code)));
        fsck_json_str(out, f->file);
        if (f->line)
            fprintf(out, ", \"line\": %" PRIu64 ", \"offset\": %" PRIu64, f->line, f->off);
        else
            fprintf(out, ", \"line\": null, \"offset\": null");
        fprintf(out, ", \"length\": %" PRIu64 ", \"message\": ", f->len);
        fsck_json_str(out, msg);
        fprintf(out, ", \"action\": ");
        fsck_json_str(out, act);
        fprintf(out, ", \"moved_to\": ");
        if (f->moved_to)
            fsck_json_str(out, f->moved_to);
        else
            fprintf(out, "null");
        fputc('}', out);
    }
    fprintf(out,
            "%s],\n \"summary\": {\"streams\": %u, \"kv\": %u, \"blobs\": %u, "
            "\"log_bytes\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"seconds\": %.3f, "
            "\"mb_per_s\": %.1f, \"errors\": %u, \"residue\": %u, \"corruption\": %u, "
            "\"warnings\": %u, \"upgraded\": %u, \"repaired\": %u, \"left\": %u}}\n",
            r->n ? "\n " : "", r->streams, r->kv_files, r->blobs, r->log_bytes,
            r->log_bytes + r->kv_bytes + r->blob_bytes, (double)r->check_ns / 1e9, fsck_rate_mb(r),
            r->errors, r->residue, r->corruption, r->warnings, r->upgraded, r->repaired, r->left);
}
