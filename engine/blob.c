/*
 * blob.c -- the content-addressed blob store: blobs/<cid> holds raw bytes
 * whose sha2-256 is inside the cid (cid.h).
 *
 * A cid argument is validated (CID-1) before any path is built from it, so
 * "../../etc/passwd" is an error, never a path. blob/put writes through a
 * temp file, fdatasync, rename and fsync of blobs/, and is idempotent: a
 * blob already present with the same bytes is not rewritten (one whose
 * bytes changed on disk is: a put acknowledges bytes a get can return).
 * blob/get verifies the bytes against the cid; a mismatch is an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "err.h"
#include "store_int.h"

#define BLOB_MAX SXP_BLOB_MAX /* 1 GiB */
#define BLOB_CMP_CHUNK ((size_t)1 << 20)

/* 1 when the file at path holds exactly bytes[0..len), 0 when it holds
 * anything else or cannot be read (a rewrite replaces it either way). */
static int blob_same(sxp_store *s, const char *path, const void *bytes, size_t len)
{
    int same = 0;
    char *buf = malloc(len < BLOB_CMP_CHUNK ? len + 1 : BLOB_CMP_CHUNK);
    int fd = buf ? s->io->open(s->io, path, O_RDONLY | O_CLOEXEC, 0) : -ENOMEM;
    if (fd < 0)
        goto out;
    uint64_t size = 0;
    if (s->io->fsize(s->io, fd, &size) != 0 || size != len)
        goto close; /* another length, or not a regular file */
    size_t off = 0;
    while (off < len) {
        size_t want = len - off < BLOB_CMP_CHUNK ? len - off : BLOB_CMP_CHUNK;
        ssize_t n = s->io->pread(s->io, fd, buf, want, off);
        if (n <= 0 || memcmp(buf, (const char *)bytes + off, (size_t)n) != 0)
            goto close;
        off += (size_t)n;
    }
    same = s->io->pread(s->io, fd, buf, 1, off) == 0; /* and no byte more */
close:
    (void)s->io->close(s->io, fd);
out:
    free(buf);
    return same;
}

/* ST-7: after a failed directory fsync, blobs/ refuses access until reopen. */
static int blob_fence_check(sxp_store *s, struct sxp_err *err)
{
    return store_check_fence(&s->blobs_d, err);
}

/* The blob's path; the cid is checked before the fence (ST-7): an argument
 * is judged before the store's state, as dispatch.c's checks are. */
static int blob_path_of(sxp_store *s, const char *cid, char *out, struct sxp_err *err)
{
    int rc = cid_check(cid, err);
    if (rc)
        return rc;
    rc = blob_fence_check(s, err);
    if (rc)
        return rc;
    rc = layout_blob_path(s->root, cid, out);
    if (rc)
        return err_set(err, rc, "blob path too long");
    return 0;
}

int blob_check_len(size_t len, struct sxp_err *err)
{
    if (len > BLOB_MAX)
        return err_set(err, -E2BIG, "blob of %zu bytes is over the limit of %zu", len, BLOB_MAX);
    return 0;
}

int sxp_blob_put(sxp_store *s, const void *bytes, size_t len, char out_cid[SXP_CID_LEN + 1],
                 struct sxp_err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    uint64_t size = 0;
    int rc = blob_check_len(len, err);
    if (!rc)
        rc = store_check_writable(s, err);
    if (!rc)
        rc = blob_fence_check(s, err);
    if (rc)
        return rc;
    cid_of(bytes, len, out_cid);
    rc = layout_blob_path(s->root, out_cid, path);
    if (rc)
        return err_set(err, rc, "blob path too long");
    uint64_t mark = store_dir_mark(&s->blobs_d);
    rc = s->io->stat(s->io, path, &size, NULL);
    if (rc == 0 && size == len && blob_same(s, path, bytes, len)) {
        if (s->opt.sync != SXP_SYNC_ALWAYS)
            return 0;
        /* The file may be what a killed put left, its name not yet
         * durable: sync the folder before acknowledging. A failure fences
         * blobs/ (ST-7). */
        rc = store_fsync_dir(s, &s->blobs_d, mark);
        if (!rc)
            store_count_syncs(s, 1);
        return rc ? err_set(err, rc, "fsync %s: %s", s->blobs_dir, strerror(-rc)) : 0;
    }
    rc = layout_tmp_path(s->blobs_dir, tmp);
    if (!rc)
        rc = store_write_replace(s, path, tmp, bytes, len, s->opt.sync == SXP_SYNC_ALWAYS);
    if (!rc)
        rc = store_fsync_dir(s, &s->blobs_d, mark);
    if (rc)
        return err_set(err, rc, "write %s: %s", path, strerror(-rc));
    if (s->opt.sync == SXP_SYNC_ALWAYS)
        store_count_syncs(s, 2); /* the temp file's data, then blobs/ */
    return 0;
}

int sxp_blob_get(sxp_store *s, const char *cid, void **out, size_t *out_len, struct sxp_err *err)
{
    char path[PATH_MAX], got[SXP_CID_LEN + 1];
    char *bytes = NULL;
    size_t len = 0;
    *out = NULL;
    *out_len = 0;
    int rc = blob_path_of(s, cid, path, err);
    if (rc)
        return rc;
    rc = io_read_file(s->io, path, BLOB_MAX, &bytes, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return err_set(err, rc, "read %s: %s", path, strerror(-rc));
    cid_of(bytes, len, got);
    if (strcmp(got, cid) != 0) {
        free(bytes);
        return err_set(err, -EBADMSG, "%s: bytes do not hash to their cid; run sxp-fsck", path);
    }
    *out = bytes;
    *out_len = len;
    return 0;
}

int sxp_blob_has(sxp_store *s, const char *cid, int *out, struct sxp_err *err)
{
    char path[PATH_MAX];
    int rc = blob_path_of(s, cid, path, err);
    if (rc)
        return rc;
    rc = s->io->stat(s->io, path, NULL, NULL);
    if (rc == 0 || rc == -ENOENT) {
        *out = rc == 0;
        return 0;
    }
    return err_set(err, rc, "stat %s: %s", path, strerror(-rc));
}
