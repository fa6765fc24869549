/*
 * residue.c -- repairs of crash residue (residue.h); the rule deciding what
 * is residue is at the top of recover.c.
 *
 * Crash ordering. A removed temp file is made durable by the fsync of its
 * directory: without it, the name might be back after a power loss, which is
 * harmless (the next recovery removes it again). A cut tail is made durable
 * by fdatasync of the log, which covers the new size. A rewrite only
 * dirties pages; the fdatasync of the log that follows writes them. (The
 * .seq files recovery and sxp-fsck write go through engine/seqfile.h: each
 * temp file synced before its rename, streams/ fsynced after.)
 */
#include "residue.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "err.h"
#include "layout.h"

/* Names gathered from a directory listing. */
struct residue_names {
    char **v;
    size_t n, cap;
    int oom;
};

static int residue_collect_tmp(void *arg, const char *name, int is_dir)
{
    struct residue_names *ns = arg;
    if (is_dir || !layout_is_tmp(name))
        return 0;
    if (ns->n == ns->cap) {
        size_t ncap = ns->cap ? ns->cap * 2 : 8;
        char **nv = realloc(ns->v, ncap * sizeof(*nv));
        if (!nv) {
            ns->oom = 1;
            return 1;
        }
        ns->v = nv;
        ns->cap = ncap;
    }
    ns->v[ns->n] = strdup(name);
    if (!ns->v[ns->n]) {
        ns->oom = 1;
        return 1;
    }
    ns->n++;
    return 0;
}

int residue_remove_temps(struct sxp_io *io, const char *dir, int sync, unsigned *out_removed,
                         struct sxp_err *err)
{
    struct residue_names ns = {NULL, 0, 0, 0};
    char path[PATH_MAX];
    unsigned removed = 0;
    int rc = io->list_dir(io, dir, residue_collect_tmp, &ns);
    if (rc == -ENOENT) {
        rc = 0;
        goto out;
    }
    if (ns.oom)
        rc = -ENOMEM;
    if (rc < 0) {
        rc = err_set(err, rc, "list %s: %s", dir, strerror(-rc));
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < ns.n; i++) {
        rc = layout_path(dir, ns.v[i], path);
        if (rc) {
            rc = err_set(err, rc, "path too long in %s", dir);
            goto out;
        }
        rc = io->unlink(io, path);
        if (rc == -ENOENT) {
            rc = 0;
            continue;
        }
        if (rc) {
            rc = err_set(err, rc, "remove %s: %s", path, strerror(-rc));
            goto out;
        }
        removed++;
    }
    if (removed && sync) {
        rc = io->fsync_dir(io, dir);
        if (rc)
            rc = err_set(err, rc, "fsync %s: %s", dir, strerror(-rc));
    }
out:
    for (size_t i = 0; i < ns.n; i++)
        free(ns.v[i]);
    free(ns.v);
    if (out_removed)
        *out_removed = removed;
    return rc;
}

int residue_cut_tail(struct sxp_io *io, int fd, const char *path, uint64_t off, int sync,
                     struct sxp_err *err)
{
    int rc = io->ftruncate(io, fd, off);
    if (rc)
        return err_set(err, rc, "truncate %s to %llu bytes: %s", path, (unsigned long long)off,
                       strerror(-rc));
    if (sync) {
        rc = io->fdatasync(io, fd);
        if (rc)
            return err_set(err, rc, "fdatasync %s: %s", path, strerror(-rc));
    }
    return 0;
}

/* the bytes are copied in pieces of this size. */
#define RESIDUE_REWRITE_CHUNK ((size_t)1 << 20)

int residue_rewrite(struct sxp_io *io, int fd, const char *path, uint64_t from, uint64_t to,
                    uint64_t *out_bytes, struct sxp_err *err)
{
    if (out_bytes != NULL)
        *out_bytes = 0;
    if (to > COMMIT_MAX_UNSYNCED && from < to - COMMIT_MAX_UNSYNCED)
        from = to - COMMIT_MAX_UNSYNCED;
    int rc = residue_rewrite_all(io, fd, path, from, to, err);
    if (rc == 0 && out_bytes != NULL && from < to)
        *out_bytes = to - from;
    return rc;
}

int residue_rewrite_all(struct sxp_io *io, int fd, const char *path, uint64_t from, uint64_t to,
                        struct sxp_err *err)
{
    if (from >= to)
        return 0;
    size_t cap = to - from < RESIDUE_REWRITE_CHUNK ? (size_t)(to - from) : RESIDUE_REWRITE_CHUNK;
    char *buf = malloc(cap);
    int rc = 0;
    if (buf == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    for (uint64_t off = from; rc == 0 && off < to; off += cap) {
        size_t len = to - off < cap ? (size_t)(to - off) : cap;
        ssize_t n = io->pread(io, fd, buf, len, off);
        if (n >= 0 && (size_t)n != len)
            n = -EIO; /* the store is locked: nothing else can cut the file */
        if (n < 0)
            rc = err_set(err, (int)n, "read %s at byte %llu: %s", path, (unsigned long long)off,
                         strerror((int)-n));
        else if ((rc = io->pwrite(io, fd, buf, len, off)) < 0)
            rc = err_set(err, rc, "write %s at byte %llu: %s", path, (unsigned long long)off,
                         strerror(-rc));
    }
    free(buf);
    return rc;
}
