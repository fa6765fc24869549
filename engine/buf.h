/*
 * buf.h -- a growable byte buffer. The bytes are always NUL-terminated so
 * they can be printed, but len does not count the NUL.
 */
#ifndef SXP_BUF_H
#define SXP_BUF_H

#include <stddef.h>

struct buf {
    char *p;    /* malloc'd, or NULL while empty */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Makes room for extra more bytes; -ENOMEM. */
int buf_reserve(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *bytes, size_t len);
int buf_addc(struct buf *b, char c);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Gives up ownership: returns p and resets b. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

#endif
