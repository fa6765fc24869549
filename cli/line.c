/*
 * line.c -- reading request lines of bounded length for `serve`.
 *
 * A line is the bytes up to an LF (the LF is dropped) or up to the end of
 * input. Every byte is kept, NUL included, because SX strings hold raw
 * bytes. A line longer than max bytes is read to its LF and discarded
 * without ever holding more than max + 1 bytes, so an endless line cannot
 * exhaust memory; the caller sees too_long and answers an error.
 */
#include <errno.h>
#include <stdlib.h>

#include "cli.h"

/* Makes room for one more byte and the NUL. */
static int cli_line_grow(struct cli_line *l)
{
    size_t cap;
    char *nb;

    if (l->len + 2 <= l->cap)
        return 0;
    cap = l->cap != 0 ? l->cap * 2 : 4096;
    if (cap > l->max + 2)
        cap = l->max + 2;
    nb = realloc(l->buf, cap);
    if (nb == NULL)
        return -ENOMEM;
    l->buf = nb;
    l->cap = cap;
    return 0;
}

int cli_line_read(FILE *f, struct cli_line *l)
{
    int c, got = 0, rc;

    l->len = 0;
    l->too_long = 0;
    l->ended = 0;
    if ((rc = cli_line_grow(l)) != 0)
        return rc;
    while ((c = getc_unlocked(f)) != EOF) {
        got = 1;
        if (c == '\n') {
            l->ended = 1;
            break;
        }
        if (l->too_long)
            continue;
        if (l->len >= l->max) {
            l->too_long = 1;
            l->len = 0;
            continue;
        }
        if ((rc = cli_line_grow(l)) != 0)
            return rc;
        l->buf[l->len++] = (char)c;
    }
    l->buf[l->len] = '\0';
    if (c == EOF && ferror(f))
        return -EIO;
    return got;
}

void cli_line_free(struct cli_line *l)
{
    if (l == NULL)
        return;
    free(l->buf);
    l->buf = NULL;
    l->len = l->cap = 0;
}
