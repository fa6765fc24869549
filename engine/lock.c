/* lock.c -- see lock.h for the LOCK file's format and rules K-1..K-3. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"
#include "layout.h"

#define LOCK_DEAD_WAIT_MS 5000
#define LOCK_DIRTY_MARK " +dirty"

long lock_holder_pid(struct sxp_io *io, const char *root)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    long pid = 0;
    if (layout_path(root, "LOCK", path) == 0 && io_read_file(io, path, 64, &text, &len) == 0) {
        if (sscanf(text, "pid %ld", &pid) != 1)
            pid = 0;
    }
    free(text);
    return pid;
}

static int lock_write(struct sxp_io *io, int fd, const char *text, int sync)
{
    size_t len = strlen(text);
    int rc = io->pwrite(io, fd, text, len, 0);
    if (!rc)
        rc = io->ftruncate(io, fd, len);
    if (!rc && sync)
        rc = io->fdatasync(io, fd);
    return rc;
}

int lock_mark_open(struct sxp_io *io, int fd, int sync, uint64_t *out_end)
{
    char text[48];
    snprintf(text, sizeof(text), "pid %ld" LOCK_DIRTY_MARK "\n", (long)getpid());
    *out_end = strlen(text);
    return lock_write(io, fd, text, sync);
}

int lock_append_dirty(struct sxp_io *io, int fd, uint64_t *off, const char *hex, size_t len,
                      int sync)
{
    char line[2 * LAYOUT_STREAM_MAX + FRAME_TRAILER_LEN];
    if (len == 0 || len > 2 * LAYOUT_STREAM_MAX)
        return -EINVAL;
    memcpy(line, hex, len);
    size_t n = frame_encode(line, len, line);
    int rc = io->pwrite(io, fd, line, n, *off);
    if (!rc && sync)
        rc = io->fdatasync(io, fd);
    if (!rc)
        *off += n;
    return rc;
}

static int lock_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void lock_dirty_free(struct lock_dirty *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->stems[i]);
    free(d->stems);
    d->stems = NULL;
    d->n = 0;
}

/* A whole dirty list is at most one line per stream a session can name;
 * past this, recovery reads every log instead. */
#define LOCK_DIRTY_MAX (256u << 20)

int lock_read_dirty(struct sxp_io *io, int fd, struct lock_dirty *out)
{
    uint64_t size = 0;
    out->stems = NULL;
    out->n = 0;
    int rc = io->fsize(io, fd, &size);
    if (rc)
        return rc;
    if (size > LOCK_DIRTY_MAX)
        return 0;
    char *text = malloc(size ? size : 1);
    if (!text)
        return -ENOMEM;
    ssize_t got = io->pread(io, fd, text, size, 0);
    if (got < 0) {
        free(text);
        return (int)got;
    }
    size_t len = (size_t)got, cap = 0;
    const char *lf = memchr(text, '\n', len);
    const char *mark = LOCK_DIRTY_MARK "\n";
    size_t ml = strlen(mark);
    int whole = lf != NULL && (size_t)(lf - text) + 1 >= ml && memcmp(lf + 1 - ml, mark, ml) == 0 &&
                strncmp(text, "pid ", 4) == 0;
    for (size_t off = whole ? (size_t)(lf - text) + 1 : len; whole && off < len;) {
        struct frame_line fl;
        char name[LAYOUT_STREAM_MAX];
        size_t nlen = 0;
        frame_next(text + off, len - off, &fl);
        if (fl.status != FRAME_OK || fl.payload_len == 0 ||
            fl.payload_len > 2 * LAYOUT_STREAM_MAX ||
            layout_hex_decode(fl.payload, fl.payload_len, name, &nlen) != 0) {
            whole = 0;
            break;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **nv = realloc(out->stems, ncap * sizeof(*nv));
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            out->stems = nv;
            cap = ncap;
        }
        if ((out->stems[out->n] = strndup(fl.payload, fl.payload_len)) == NULL) {
            rc = -ENOMEM;
            break;
        }
        out->n++;
        off += fl.line_len;
    }
    free(text);
    if (rc || !whole) {
        lock_dirty_free(out);
        return rc;
    }
    if (out->n > 1)
        qsort(out->stems, out->n, sizeof(*out->stems), lock_cmp);
    return 1;
}

int lock_mark_clean(struct sxp_io *io, int fd, int sync)
{
    return lock_write(io, fd, LOCK_CLEAN_TEXT, sync);
}

int lock_acquire(struct sxp_io *io, const char *root, int *out_fd, int *out_clean,
                 struct sxp_err *err)
{
    char path[PATH_MAX];
    char text[16];
    int rc = layout_path(root, "LOCK", path);
    if (rc)
        return err_set(err, rc, "store path too long: %s", root);
    int fd = io->open(io, path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set(err, fd, "open %s: %s", path, strerror(-fd));
    rc = io->lock(io, fd);
    long pid = 0;
    /* K-4: a process killed while it had io_uring set up may hold its lock
     * for a moment after it died (the kernel tears the ring down, and the
     * open files with it, asynchronously). When the pid in LOCK is gone,
     * wait for the release, up to LOCK_DEAD_WAIT_MS; a live holder is
     * refused at once. */
    for (int waited = 0; rc == -EAGAIN && waited < LOCK_DEAD_WAIT_MS; waited += 20) {
        pid = lock_holder_pid(io, root);
        if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        rc = io->lock(io, fd);
    }
    if (rc) {
        (void)io->close(io, fd);
        if (rc == -EAGAIN) {
            pid = lock_holder_pid(io, root);
            if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                return err_set(err, -EAGAIN,
                               "store %s is still locked by pid %ld, which has exited: try again",
                               root, pid);
            if (pid > 0)
                return err_set(err, -EAGAIN, "store %s is locked by another writer (pid %ld)", root,
                               pid);
            return err_set(err, -EAGAIN, "store %s is locked by another writer", root);
        }
        return err_set(err, rc, "lock %s: %s", path, strerror(-rc));
    }
    ssize_t n = io->pread(io, fd, text, sizeof(text) - 1, 0);
    *out_clean = n == (ssize_t)strlen(LOCK_CLEAN_TEXT) &&
                 memcmp(text, LOCK_CLEAN_TEXT, strlen(LOCK_CLEAN_TEXT)) == 0;
    *out_fd = fd;
    return 0;
}
