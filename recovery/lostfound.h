/* lostfound.h -- ROOT/lost+found/ and its MANIFEST (format at the top of
 * lostfound.c). */
#ifndef SXP_LOSTFOUND_H
#define SXP_LOSTFOUND_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"

struct lostfound {
    struct sxp_io *io;
    int sync; /* fdatasync and fsync what it writes */
    char root[PATH_MAX];
    char dir[PATH_MAX];
    int manifest_fd; /* -1 until opened */
    uint64_t manifest_off;
    int manifest_lf;      /* 1: MANIFEST's last record lacks its LF (torn) */
    int dirty;            /* items written since the last lostfound_commit */
    int fenced;           /* 0, or the error of a failed sync: LF-F */
    char last_base[256];  /* the base last given a number ... */
    unsigned long last_n; /* ... and that number: the next search starts above it */
};

/* Nothing is created before the first item. */
void lostfound_init(struct lostfound *lf, struct sxp_io *io, const char *root, int sync);
/* Copies bytes [off, off + len) of fd into a new item lost+found/<base>.<n>
 * and records it in MANIFEST as coming from rel at that offset and line.
 * *out_name gets "lost+found/<base>.<n>" (malloc'd). The item is durable
 * only after lostfound_commit. */
int lostfound_put_range(struct lostfound *lf, const char *base, int fd, uint64_t off, uint64_t len,
                        const char *rel, uint64_t line, const char *code, char **out_name,
                        char *msg, size_t msg_size);
/* Moves the file or directory at ROOT/rel into lost+found/ (rename), records
 * it, and makes both directories durable. */
int lostfound_move(struct lostfound *lf, const char *rel, uint64_t size, const char *code,
                   char **out_name, char *msg, size_t msg_size);
/* Makes every item written so far durable (MANIFEST fdatasync, directory
 * fsync). Must return 0 before the source of a copied item is rewritten. */
int lostfound_commit(struct lostfound *lf, char *msg, size_t msg_size);
void lostfound_close(struct lostfound *lf);

#endif
