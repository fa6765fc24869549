/*
 * fixtures.h -- stores built for tests, with plain files (not through the
 * engine), and the named ways to damage them, in the manner of LevelDB's
 * corruption_test.cc.
 *
 * THE GOOD STORE (fx_make_store) holds:
 *   FORMAT "sxp 1\n", LOCK "clean\n"
 *   streams "orders": FX_ORDERS events {:item "widget-N" :seq N}, N = 1..20,
 *           .seq 20
 *   streams "users":  FX_USERS events {:name "user-N" :seq N}, .seq 5
 *   kv "config" = {:retries 3 :verbose true}, kv "greeting" = "hello"
 *   blobs: the bytes "hello world" and "" under their cids
 * Every line framed (frame.h), every .seq without a newline.
 *
 * THE LEGACY STORE (fx_make_legacy_store) is a copy of tests/data/legacy/,
 * laid out as the OCaml reference writes it: no FORMAT, no LOCK, .seq
 * without newline, log lines and kv values without trailers.
 */
#ifndef SXP_TEST_FIXTURES_H
#define SXP_TEST_FIXTURES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define FX_ORDERS 20
#define FX_USERS 5
#define FX_ORDERS_LOG "streams/6f7264657273.log" /* hex("orders") */
#define FX_ORDERS_SEQ "streams/6f7264657273.seq"
#define FX_USERS_LOG "streams/7573657273.log"
#define FX_KV_CONFIG "kv/636f6e666967" /* hex("config") */
#define FX_KV_GREETING "kv/6772656574696e67"
#define FX_BLOB_HELLO_TEXT "hello world"

/* Makes a fresh empty directory under $TMPDIR (or /tmp) into root
 * (PATH_MAX bytes). Aborts the test on failure. */
void fx_tmpdir(char *root);
/* Makes the good store in a fresh directory; root gets its path. */
void fx_make_store(char *root);
/* Copies tests/data/legacy into a fresh directory. */
void fx_make_legacy_store(char *root);
/* Removes the tree (rm -rf). */
void fx_remove_tree(const char *root);

/* ROOT/rel into out (PATH_MAX); returns out. */
char *fx_join(char *out, const char *root, const char *rel);

/* The canonical text of order event n: {:item "widget-N" :seq N}. */
size_t fx_order_payload(int64_t n, char *out, size_t size);
/* The framed line of it into out (payload, TAB, checksum, LF). */
size_t fx_order_line(int64_t n, char *out, size_t size);

/* Damage, each on the file at path. The file must exist. */
void fx_flip_byte(const char *path, uint64_t off);            /* XOR 0x01 */
void fx_cut_tail(const char *path, uint64_t nbytes);          /* drop the last n bytes */
void fx_swap_lines(const char *path, unsigned i, unsigned j); /* 1-based line numbers */
void fx_append_zeros(const char *path, size_t n);
void fx_append(const char *path, const void *bytes, size_t len);
void fx_write_file(const char *path, const void *bytes, size_t len);
/* Malloc'd contents (NUL-terminated), *out_len its length. */
char *fx_read_file(const char *path, size_t *out_len);
uint64_t fx_file_size(const char *path);
int fx_exists(const char *path);
/* Byte offset of line no (1-based) in the file. */
uint64_t fx_line_offset(const char *path, unsigned no);

/* A snapshot of a tree: every path (sorted), its type, size, mode, mtime in
 * nanoseconds and a hash of its bytes, one line each. Malloc'd. Two
 * snapshots are equal iff nothing observable by name, content or mtime
 * changed. */
char *fx_snapshot(const char *root);
/* Fails the test unless root's snapshot is still before: nothing changed. */
void fx_assert_unchanged(const char *root, const char *before);

/* The seqs of the good lines of a log, read with frame_next and sx_parse
 * (not the engine's reader): fills seqs (up to max), returns the count,
 * or -1 if the file cannot be read. */
int fx_log_seqs(const char *path, int64_t *seqs, int max);

/* Longer than any kv value the engine writes or reads (commit.h
 * COMMIT_MAX_LINE, trailer included). */
#define FX_KV_OVERSIZED ((size_t)16 << 20)
/* Longer than any line may be (recovery/logscan.h LOGSCAN_LINE_MAX). */
#define FX_OVERLONG (((size_t)64 << 20) + 1)

/* The named damages of issue 3, each applied to a good store at root. */
void fxd_flip_mid(const char *root);      /* a byte of orders line 10's payload */
void fxd_flip_last(const char *root);     /* a byte of orders line 20's payload */
void fxd_swap_lines(const char *root);    /* orders lines 5 and 6 */
void fxd_half_line(const char *root);     /* a crash: half of event 21's line, no LF */
void fxd_zeros(const char *root);         /* a crash: 1000 NUL bytes after orders' last line */
void fxd_seq_below(const char *root);     /* a crash: orders .seq holds 15 */
void fxd_seq_lowered(const char *root);   /* orders .seq holds 15, LOCK clean */
void fxd_seq_deleted(const char *root);   /* a crash: orders .seq removed */
void fxd_seq_removed(const char *root);   /* orders .seq removed, LOCK clean */
void fxd_seq_garbage(const char *root);   /* orders .seq holds "garbage" */
void fxd_temp_file(const char *root);     /* streams/tmp.999.1.tmp */
void fxd_kv_damaged(const char *root);    /* a byte of kv config flipped */
void fxd_kv_oversized(const char *root);  /* kv config: a framed string of FX_KV_OVERSIZED bytes */
void fxd_blob_altered(const char *root);  /* a byte of the "hello world" blob flipped */
void fxd_blob_bad_name(const char *root); /* blobs/not-a-cid.bin */
void fxd_foreign_file(const char *root);  /* streams/notes.txt */
void fxd_foreign_dir(const char *root);   /* streams/old/, a directory with a file in it */
void fxd_bad_stream_name(const char *root); /* streams/not-hex.log */
void fxd_kv_temp_file(const char *root);    /* kv/tmp.999.1.tmp */
void fxd_blank_line(const char *root);      /* an LF alone before orders line 10 */
void fxd_overlong_tail(const char *root);   /* a crash: FX_OVERLONG bytes, no LF, at the end */
void fxd_overlong_line(const char *root);   /* FX_OVERLONG bytes and an LF at the end */
/* Makes the store look as a crash left it: LOCK holds "pid N" (a process
 * had it open), not "clean" (engine/lock.h K-1). The damages marked "a
 * crash" do this; every other damage leaves LOCK clean. */
void fx_mark_crashed(const char *root);
/* LOCK says a session without syncs did not close cleanly (engine/lock.h
 * K-6, K-7): text is one of its forms, e.g. "pid 4242 unsynced +dirty\n"
 * (no boot named, K-8). */
void fx_mark_unsynced(const char *root, const char *text);
/* Overwrites len bytes of orders line n, from byte from of it, with NULs
 * (a lost page in the middle of the log). */
void fx_zero_order_line(const char *root, unsigned n, size_t from, size_t len);
/* Offset of orders line n in the good store (before any damage). */
uint64_t fx_orders_offset(unsigned n);

#endif
