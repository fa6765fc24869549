/*
 * check_kv.c -- a kv file holds one framed SX value (frame.h; a legacy file
 * holds the value alone, no trailer, no LF), of at most COMMIT_MAX_LINE
 * bytes, the most the engine writes (kv.c) and reads. Anything else is
 * kv-corrupt: kv files are replaced atomically, so a crash cannot tear one.
 */
#include <errno.h>
#include <stdlib.h>

#include "commit.h"
#include "frame.h"
#include "fsck_int.h"
#include "logscan.h"
#include "sxcheck.h"

/* Larger kv files are not read, and reported corrupt: kv-get refuses them
 * too ("larger than any value sxp writes; run sxp-fsck"). */
#define FSCK_KV_MAX ((uint64_t)COMMIT_MAX_LINE)

int fsck_check_kv(struct fsck_ctx *c, struct fsck_item *it)
{
    char path[PATH_MAX];
    char *buf = NULL;
    uint64_t size = 0;
    int rc, fd;
    if (fsck_path(c, it->rel, path)) {
        fsck_item_fail(it, -ENAMETOOLONG, "open", it->rel);
        return -ENAMETOOLONG;
    }
    fd = fsck_open_read(c, path);
    if (fd == -ENOENT && c->live) {
        it->gone = 1; /* check_live.c LV-5: a kv-delete since the walk */
        return 0;
    }
    if (fd < 0) {
        fsck_item_fail(it, fd, "open", path);
        return fd;
    }
    rc = c->io->fsize(c->io, fd, &size);
    if (rc) {
        fsck_item_fail(it, rc, "stat", path);
        goto out;
    }
    it->size = size;
    struct fsck_finding f = {.code = FSCK_KV_CORRUPT, .file = it->rel, .len = size};
    if (size > FSCK_KV_MAX) {
        f.detail = LS_OVERLONG;
        rc = fsck_flist_add(&it->f, &f);
        goto out;
    }
    buf = malloc(size ? size : 1);
    if (!buf) {
        rc = -ENOMEM;
        fsck_item_fail(it, rc, "read", path);
        goto out;
    }
    ssize_t n = c->io->pread(c->io, fd, buf, size, 0);
    if (n < 0 || (uint64_t)n != size) {
        rc = n < 0 ? (int)n : -EIO;
        fsck_item_fail(it, rc, "read", path);
        goto out;
    }
    __atomic_fetch_add(&c->bytes_done, size, __ATOMIC_RELAXED);
    struct frame_line fl;
    frame_decode_whole(buf, size, &fl);
    switch (fl.status) {
    case FRAME_OK:
    case FRAME_LEGACY:
        /* < 0: out of memory, no verdict (sxcheck.h): the check fails below */
        rc = sxcheck_value(fl.payload, fl.payload_len);
        if (rc == 0) {
            f.detail = LS_UNPARSABLE;
            rc = fsck_flist_add(&it->f, &f);
        } else if (rc > 0) {
            rc = 0;
            if (fl.status == FRAME_LEGACY) {
                it->legacy = 1;
                struct fsck_finding w = {
                    .code = FSCK_LEGACY_LINE, .file = it->rel, .line = 1, .len = size, .a = 1};
                rc = fsck_flist_add(&it->f, &w);
            }
        }
        break;
    case FRAME_BAD_SUM:
        f.detail = LS_BAD_SUM;
        rc = fsck_flist_add(&it->f, &f);
        break;
    case FRAME_BLANK:
        f.detail = LS_BLANK;
        rc = fsck_flist_add(&it->f, &f);
        break;
    case FRAME_BAD_FORMAT:
    case FRAME_INCOMPLETE:
        f.detail = LS_BAD_TRAILER;
        rc = fsck_flist_add(&it->f, &f);
        break;
    }
    if (rc)
        fsck_item_fail(it, rc, "check", path);
out:
    free(buf);
    (void)c->io->close(c->io, fd);
    return rc;
}
