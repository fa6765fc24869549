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
#include "layout.h"

#define LOCK_DEAD_WAIT_MS 5000

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

int lock_mark_open(struct sxp_io *io, int fd, int sync)
{
    char text[32];
    snprintf(text, sizeof(text), "pid %ld\n", (long)getpid());
    return lock_write(io, fd, text, sync);
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
