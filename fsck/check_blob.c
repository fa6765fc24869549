/*
 * check_blob.c -- a blob's bytes hash (sha2-256) to the digest inside its
 * name (cid.h). The walk has already checked the name is a cid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cid.h"
#include "fsck_int.h"
#include "logscan.h"

int fsck_check_blob(struct fsck_ctx *c, struct fsck_item *it)
{
    char path[PATH_MAX];
    unsigned char want[32], got[EVP_MAX_MD_SIZE];
    unsigned got_len = 0;
    char *buf = NULL;
    EVP_MD_CTX *md = NULL;
    uint64_t size = 0, off = 0;
    int rc = 0, fd;

    if (fsck_path(c, it->rel, path) || cid_digest(it->name, want) != 0) {
        fsck_item_fail(it, -EINVAL, "check", it->rel);
        return -EINVAL;
    }
    fd = fsck_open_read(c, path);
    if (fd < 0) {
        fsck_item_fail(it, fd, "open", path);
        return fd;
    }
    buf = malloc(LOGSCAN_CHUNK);
    md = EVP_MD_CTX_new();
    if (!buf || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = -ENOMEM;
        fsck_item_fail(it, rc, "hash", path);
        goto out;
    }
    for (;;) {
        ssize_t n = c->io->pread(c->io, fd, buf, LOGSCAN_CHUNK, off);
        if (n < 0) {
            rc = (int)n;
            fsck_item_fail(it, rc, "read", path);
            goto out;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
            rc = -EIO;
            fsck_item_fail(it, rc, "hash", path);
            goto out;
        }
        off += (uint64_t)n;
        __atomic_fetch_add(&c->bytes_done, (uint64_t)n, __ATOMIC_RELAXED);
    }
    size = off;
    it->size = size;
    if (EVP_DigestFinal_ex(md, got, &got_len) != 1 || got_len != 32) {
        rc = -EIO;
        fsck_item_fail(it, rc, "hash", path);
        goto out;
    }
    if (memcmp(got, want, 32) != 0) {
        struct fsck_finding f = {.code = FSCK_BLOB_HASH, .file = it->rel, .len = size};
        rc = fsck_flist_add(&it->f, &f);
        if (rc)
            fsck_item_fail(it, rc, "check", path);
    }
out:
    EVP_MD_CTX_free(md);
    free(buf);
    (void)c->io->close(c->io, fd);
    return rc;
}
