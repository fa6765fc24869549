/*
 * io_backend.c -- choosing a backend (io_backend_new in io.h).
 *
 *   SXP_IO_SYNC    plain syscalls
 *   SXP_IO_URING   io_uring, or the error that refused it
 *   SXP_IO_AUTO    decided by $SXP_IO:
 *                    "sync"            plain syscalls
 *                    "uring"           io_uring, or fail
 *                    unset, "", "auto" io_uring, else plain syscalls
 *                    anything else     -EINVAL
 *
 * When auto falls back, stderr says so once per process (not per store),
 * unless the caller asked for quiet. The fallback loses no guarantee: both
 * backends keep IO-1..IO-7; io_uring only makes group commit cheaper. A
 * ring that breaks later falls back by itself (io_uring.c A BROKEN RING).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "io.h"

/* Ring size of the backends this file makes. */
#define IO_BACKEND_URING_ENTRIES 256

/* Set once the fallback notice has been printed. */
static atomic_int io_backend_noticed;

static int io_backend_uring(int quiet, struct sxp_io **out, struct sxp_err *err)
{
    int rc = io_uring_backend_new(IO_BACKEND_URING_ENTRIES, out);
    if (rc < 0) {
        char msg[128];
        return err_set(err, rc, "io_uring unavailable: %s", strerror_r(-rc, msg, sizeof(msg)));
    }
    io_uring_backend_set_quiet(*out, quiet);
    return 0;
}

static int io_backend_sync(struct sxp_io **out, struct sxp_err *err)
{
    int rc = io_sync_new(out);
    if (rc < 0)
        return err_set(err, rc, "plain-syscall backend: out of memory");
    return 0;
}

static int io_backend_auto(int quiet, struct sxp_io **out, struct sxp_err *err)
{
    int rc = io_uring_backend_new(IO_BACKEND_URING_ENTRIES, out);
    if (rc == 0) {
        io_uring_backend_set_quiet(*out, quiet);
        return 0;
    }
    if (!quiet && atomic_exchange(&io_backend_noticed, 1) == 0) {
        char msg[128];
        (void)fprintf(stderr,
                      "sxp: io_uring unavailable (%s); using plain syscalls with the same "
                      "guarantees\n",
                      strerror_r(-rc, msg, sizeof(msg)));
    }
    return io_backend_sync(out, err);
}

int io_backend_new(enum sxp_io_kind kind, int quiet, struct sxp_io **out, struct sxp_err *err)
{
    switch (kind) {
    case SXP_IO_SYNC:
        return io_backend_sync(out, err);
    case SXP_IO_URING:
        return io_backend_uring(quiet, out, err);
    case SXP_IO_AUTO:
        break;
    default:
        return err_set(err, -EINVAL, "unknown I/O backend kind %d", (int)kind);
    }
    const char *env = getenv("SXP_IO");
    if (!env || !*env || strcmp(env, "auto") == 0)
        return io_backend_auto(quiet, out, err);
    if (strcmp(env, "sync") == 0)
        return io_backend_sync(out, err);
    if (strcmp(env, "uring") == 0)
        return io_backend_uring(quiet, out, err);
    return err_set(err, -EINVAL, "SXP_IO=%s: expected sync, uring or auto", env);
}
