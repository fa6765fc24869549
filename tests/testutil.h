/*
 * testutil.h -- small helpers shared by the cmocka suites: temp dirs, tree
 * snapshots (to prove a failed op changed nothing), values from SX text.
 */
#ifndef SXP_TESTUTIL_H
#define SXP_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "sxp.h"

/* A new empty directory under $TMPDIR (or /tmp); the returned path is
 * static per call site copy: the caller frees it. */
char *tu_tmpdir(void);
/* rm -rf path. */
void tu_rmrf(const char *path);
/* A digest of every file name, size and byte under root (recursive, sorted),
 * to compare before and after. LOCK is left out: it records the holder. */
uint64_t tu_tree_digest(const char *root);
/* Parses SX text or fails the test. */
sxp_value *tu_val(const char *text);
/* The canonical text of v (malloc'd) or fails the test. */
char *tu_text(const sxp_value *v);
/* Opens dir with the defaults (quiet) or fails the test. */
sxp_store *tu_open(const char *dir);
/* The same under sync mode sync. */
sxp_store *tu_open_sync(const char *dir, enum sxp_sync_mode sync);
/* A read-only view of dir, quiet; fails the test when the open fails. */
sxp_store *tu_open_read_only(const char *dir);
/* Runs a request and returns the result text (malloc'd) or fails. */
char *tu_op(sxp_store *s, const char *request);
/* Runs a request that must fail; returns its code; *kind gets the kind. */
int tu_op_fails(sxp_store *s, const char *request, const char **kind);
/* Writes bytes to path (creating or replacing) or fails the test. */
void tu_write_file(const char *path, const void *bytes, size_t len);
/* realloc(p, len), or fails the test when memory runs out (p is then
 * left to the test's exit). */
void *tu_realloc(void *p, size_t len);
/* Reads a whole file (malloc'd, NUL-terminated) or returns NULL. */
char *tu_read_file(const char *path, size_t *out_len);

/* A new event {:seq seq :pad "ppp..."} with pad bytes of padding, built
 * rather than parsed (pads run to MiBs); fails the test on ENOMEM. */
sxp_value *tu_padded_event(int64_t seq, size_t pad);

/* Appends events with seqs step * [first, first + n) to stream, each
 * {:seq S :pad "000...i"} with pad digits, in durable batches of up to
 * 500; fails the test on any error. A long log for read-range tests. */
void tu_append_padded(sxp_store *s, const char *stream, int64_t first, int64_t n, int64_t step,
                      int pad);

/* A cmocka fixture: a fresh store in a new temp dir. The teardown closes the
 * store (asserting a clean close) unless s is NULL, and removes the dir. */
struct tu_store {
    char *dir;
    sxp_store *s;
};
int tu_store_setup(void **state);
int tu_store_teardown(void **state);

#endif
