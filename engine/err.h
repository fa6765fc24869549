/*
 * err.h -- filling a struct sxp_err (see include/sxp.h for the code table).
 *
 * err_set(err, -EIO, "fdatasync %s", path) sets the code, a kind word derived
 * from the code, and the message, and returns the code, so a failure path is
 * one line: `return err_set(err, rc, "...")`. err may be NULL. Nothing here
 * allocates.
 */
#ifndef SXP_ERR_H
#define SXP_ERR_H

#include "sxp.h"

/* The kind word for a code when the caller names none: -EBADMSG "checksum",
 * -EUCLEAN "corrupt", -EAGAIN "locked", -E2BIG "limit", -ERANGE "seq",
 * -EINVAL "arg", -ENOMEM "nomem", -EROFS "readonly", anything else "io". */
const char *err_kind_of(int code);

/* Sets err from code and a printf message; returns code. */
int err_set(struct sxp_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with an explicit kind word (a string literal). */
int err_setk(struct sxp_err *err, int code, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Room for err_quote of a name of up to 127 bytes. */
#define ERR_QUOTED_MAX (4 * 127 + 3)
/* name (len bytes, any of them) as a message shows it, into out: in double
 * quotes, with \" \\ \n \r \t and \xNN for every other byte below 0x20
 * or 0x7f, so a NUL, a quote or a newline in a name cannot cut or fake the
 * message. Cut with "..." when out is too small. Returns out. */
const char *err_quote(const char *name, size_t len, char *out, size_t size);
/* Clears err to code 0. */
void err_clear(struct sxp_err *err);

#endif
