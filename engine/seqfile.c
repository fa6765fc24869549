/* seqfile.c -- see seqfile.h. */
#include "seqfile.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include "layout.h"

/* One chunk of at most SEQFILE_CHUNK items; by_fs: synced by one syncfs
 * through fs_fd. */
static int seqfile_chunk(struct sxp_io *io, const char *dir, struct seqfile_item *v, size_t n,
                         int sync, int fs_fd, uint64_t *synced)
{
    int by_fs = sync && fs_fd >= 0;
    struct io_wsync w[SEQFILE_CHUNK];
    char tmp[SEQFILE_CHUNK][PATH_MAX];
    char text[SEQFILE_CHUNK][LAYOUT_SEQ_MAX_TEXT];
    size_t opened = 0;
    int rc = 0;

    memset(w, 0, sizeof(w));
    for (size_t i = 0; i < n; i++) {
        size_t len = layout_seq_format(v[i].value, text[i]);
        rc = layout_tmp_path(dir, tmp[i]);
        if (rc)
            goto cleanup;
        int fd = io->open(io, tmp[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = fd;
            goto cleanup;
        }
        opened++;
        w[i] = (struct io_wsync){.fd = fd, .buf = text[i], .len = len, .sync = sync && !by_fs};
    }
    rc = io->write_sync(io, w, n);
    if (sync && !by_fs)
        *synced += n;
    if (!rc && by_fs) {
        rc = io->syncfs_fd(io, fs_fd);
        *synced += 1;
    }
cleanup:
    for (size_t i = 0; i < opened; i++) {
        int crc = io->close(io, w[i].fd);
        if (!rc)
            rc = crc;
    }
    for (size_t i = 0; i < opened; i++) {
        if (!rc)
            rc = io->rename(io, tmp[i], v[i].path);
        if (rc)
            (void)io->unlink(io, tmp[i]);
        else
            v[i].done = 1;
    }
    return rc;
}

int seqfile_write_many(struct sxp_io *io, const char *dir, struct seqfile_item *v, size_t n,
                       int sync, int fs_fd, uint64_t *out_synced)
{
    uint64_t synced = 0;
    int rc = 0;
    for (size_t at = 0; at < n && !rc; at += SEQFILE_CHUNK) {
        size_t k = n - at < SEQFILE_CHUNK ? n - at : SEQFILE_CHUNK;
        rc = seqfile_chunk(io, dir, v + at, k, sync, fs_fd, &synced);
    }
    if (out_synced)
        *out_synced = synced;
    return rc;
}
