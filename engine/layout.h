/*
 * layout.h -- THE STORE'S TREE (SPEC.md section 1), names and paths.
 *
 *   ROOT/streams/<hex(name)>.log  append-only log, framed lines (frame.h)
 *   ROOT/streams/<hex(name)>.seq  high-water mark: decimal int64, no framing,
 *                                 no newline (surrounding spaces tolerated)
 *   ROOT/kv/<hex(key)>            one framed value
 *   ROOT/blobs/<cid>              raw bytes (cid.h)
 *   ROOT/FORMAT                   "sxp 2\n"; absent in a legacy store (see
 *                                 FORMAT VERSIONS)
 *   ROOT/LOCK                     lock file (engine/lock.c): "clean\n" after a
 *                                 clean close, "pid N\n" while open
 *   ROOT/lost+found/              where sxp-fsck -y moves what it removes
 *
 * NAMES. hex() is two lowercase digits per byte; upper case is a bad name.
 * Stream names are 1..125 bytes, kv keys 1..127, so a file name stays
 * within 255 bytes.
 *
 * TEMPORARY FILES. An atomic write goes through "tmp.<pid>.<n>.tmp" in the
 * folder of the file it replaces (never a hex name, always under 255 bytes).
 * Any name ending in ".tmp" in streams/, kv/ or blobs/ is leftover crash
 * residue that recovery removes.
 *
 * FORMAT VERSIONS. "sxp 1": JOURNAL records without round numbers
 * (engine/journal.c J-10). "sxp 2": JOURNAL version 2 (J-2). Both are read;
 * a read-write open writes "sxp 2" over "sxp 1" before its session writes
 * a version 2 journal, because an sxp that knows only "sxp 1" would take a
 * version 2 journal for an empty one and drop its records (acknowledged
 * appends, after a crash) where it now refuses the store.
 *
 * L-1  every name in streams/ is <hex>.log, <hex>.seq or a temp file
 * L-2  every name in kv/ is <hex> or a temp file
 * L-3  every name in blobs/ is a valid cid or a temp file
 */
#ifndef SXP_LAYOUT_H
#define SXP_LAYOUT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "sxp.h"

#define LAYOUT_STREAM_MAX 125
#define LAYOUT_KEY_MAX 127
#define LAYOUT_FORMAT_TEXT "sxp 2\n"
#define LAYOUT_FORMAT_TEXT_V1 "sxp 1\n"
#define LAYOUT_SEQ_MAX_TEXT 32 /* bytes of a .seq file we are willing to read */

/* 0, or -EINVAL (kind "name") naming what is wrong. what: "stream" or "key". */
int layout_check_name(const char *what, const char *name, size_t len, size_t max,
                      struct sxp_err *err);
/* out holds 2 * len + 1 bytes. */
void layout_hex_encode(const char *name, size_t len, char *out);
/* Decodes lowercase hex; -EINVAL on odd length, upper case or non-hex.
 * out holds hex_len / 2 bytes. */
int layout_hex_decode(const char *hex, size_t hex_len, char *out, size_t *out_len);

/* Paths; each returns 0 or -ENAMETOOLONG. out is PATH_MAX bytes. */
int layout_path(const char *root, const char *rel, char *out); /* ROOT/rel */
int layout_stream_path(const char *root, const char *name, size_t len, const char *suffix,
                       char *out); /* suffix ".log" or ".seq" */
int layout_kv_path(const char *root, const char *key, size_t len, char *out);
/* -EINVAL too when cid is not well-formed (CID-1): a last guard. */
int layout_blob_path(const char *root, const char *cid, char *out);
/* A fresh temp file name in dir (unique within this process). */
int layout_tmp_path(const char *dir, char *out);
/* 1 if a file name ends in ".tmp". */
int layout_is_tmp(const char *fname);
/* FORMAT VERSIONS: 2 or 1 when text[0..len) is a FORMAT this sxp reads,
 * 0 otherwise. */
int layout_format_version(const char *text, size_t len);

/* What a file name in streams/ is. */
enum layout_kind {
    LAYOUT_LOG,     /* <hex>.log */
    LAYOUT_SEQ,     /* <hex>.seq */
    LAYOUT_TMP,     /* *.tmp */
    LAYOUT_FOREIGN, /* anything else */
};
/* Classifies fname; for LOG and SEQ, decodes the stream name into out
 * (LAYOUT_STREAM_MAX bytes) and its length into *out_len. */
enum layout_kind layout_classify_stream_file(const char *fname, char *out, size_t *out_len);

/* Parses a .seq file's text: an int64 with optional surrounding whitespace.
 * -EINVAL otherwise. */
int layout_seq_parse(const char *text, size_t len, int64_t *out);
/* 1 when a .seq's text that does not parse is what a write of a mark a
 * crash tore can leave: nothing but digits, '-', NUL bytes and blanks
 * (bytes lost past the old end read as NUL). Any other byte no write of
 * sxp's explains: recovery and sxp-fsck -p save such a file in
 * lost+found/ before they write the mark again. */
int layout_seq_torn_only(const char *text, size_t len);
/* Formats n as a .seq file's text; returns its length. */
size_t layout_seq_format(int64_t n, char out[LAYOUT_SEQ_MAX_TEXT]);

#endif
