/*
 * buf.h -- a growable byte buffer. The bytes are always NUL-terminated so
 * they can be printed, but len does not count the NUL.
 */
#ifndef SXP_BUF_H
#define SXP_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
    char *p;    /* malloc'd, or NULL while empty */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* The slow path of buf_reserve: reallocates. */
int buf_grow(struct buf *b, size_t extra);

/* Makes room for extra more bytes (and the NUL); -ENOMEM. The fast paths
 * are inline: the serializer calls these for every token. cap > len always
 * holds once p is allocated (the NUL), and both are 0 before. */
static inline int buf_reserve(struct buf *b, size_t extra)
{
    return b->cap - b->len > extra ? 0 : buf_grow(b, extra);
}

static inline int buf_add(struct buf *b, const void *bytes, size_t len)
{
    int rc = buf_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->p + b->len, bytes, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

static inline int buf_addc(struct buf *b, char c)
{
    int rc = buf_reserve(b, 1);
    if (rc)
        return rc;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
    return 0;
}
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Gives up ownership: returns p and resets b. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

#endif
