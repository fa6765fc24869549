/*
 * reference.c -- the seed's design (shared/seed/sx_persist_store.ml) in C,
 * one persist/append at a time, exactly as do_append does it:
 *
 *   1. ensure_dir streams/                  stat
 *   2. read_seq: if streams/<hex>.seq exists, read it whole and parse it
 *                                           stat, open, fstat, read, close
 *   3. write_seq max(hw, seq): write <hex>.seq.tmp, rename it over .seq
 *                                           stat, open, write, close, rename
 *   4. append_line: open <hex>.log for append, write the line, close
 *                                           stat, open, write, close
 *
 * No fsync anywhere (p->nosync = 1): that is the reference's durability, a
 * process kill is survived, a power loss is not. The durable variant
 * (p->nosync = 0) adds what the SPEC demands of the same steps: fdatasync of
 * the temp file before the rename, fsync of the directory after it, and
 * fdatasync of the log before it is closed (plus a directory fsync when the
 * log is created). The line is the event's SX text and LF, no trailer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define REFERENCE_MAX_LINE ((size_t)17 << 10)

struct reference_store {
    char streams[4200];
    char seq_path[4300];
    char tmp_path[4300];
    char log_path[4300];
    int durable;
    uint64_t fsyncs;
};

static int reference_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static int reference_ensure_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return 0;
    return fsutil_mkdir_p(dir);
}

static int reference_read_seq(struct reference_store *rs, int64_t *out)
{
    struct stat st;
    char buf[64];
    *out = 0;
    if (stat(rs->seq_path, &st) != 0)
        return 0;
    int fd = open(rs->seq_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || st.st_size >= (off_t)sizeof(buf)) {
        close(fd);
        return -EIO;
    }
    ssize_t n = read(fd, buf, (size_t)st.st_size);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    *out = strtoll(buf, NULL, 10);
    return 0;
}

static int reference_write_seq(struct reference_store *rs, int64_t hw)
{
    char buf[32];
    int rc = reference_ensure_dir(rs->streams);
    if (rc != 0)
        return rc;
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)hw);
    int fd = open(rs->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    rc = reference_write_all(fd, buf, (size_t)n);
    if (rc == 0 && rs->durable) {
        rc = fdatasync(fd) == 0 ? 0 : -errno;
        rs->fsyncs++;
    }
    close(fd);
    if (rc != 0)
        return rc;
    if (rename(rs->tmp_path, rs->seq_path) != 0)
        return -errno;
    if (rs->durable) {
        rs->fsyncs++;
        return fsutil_fsync_dir(rs->streams);
    }
    return 0;
}

static int reference_append_line(struct reference_store *rs, const char *line, size_t len)
{
    struct stat st;
    int rc = reference_ensure_dir(rs->streams);
    if (rc != 0)
        return rc;
    int created = rs->durable && stat(rs->log_path, &st) != 0;
    int fd = open(rs->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    rc = reference_write_all(fd, line, len);
    if (rc == 0 && rs->durable) {
        rc = fdatasync(fd) == 0 ? 0 : -errno;
        rs->fsyncs++;
    }
    close(fd);
    if (rc == 0 && created) {
        rs->fsyncs++;
        rc = fsutil_fsync_dir(rs->streams);
    }
    return rc;
}

/* do_append stream ev, with ev's SX text already made (the reference
 * serializes in OCaml; formatting the text is counted, see the loop). */
static int reference_do_append(struct reference_store *rs, int64_t seq, const char *line,
                               size_t len)
{
    int64_t hw;
    int rc = reference_ensure_dir(rs->streams);
    if (rc == 0)
        rc = reference_read_seq(rs, &hw);
    if (rc == 0)
        rc = reference_write_seq(rs, hw > seq ? hw : seq);
    if (rc == 0)
        rc = reference_append_line(rs, line, len);
    return rc;
}

int reference_append(const struct bench_ctx *ctx, const struct bench_param *p,
                     struct bench_row *row)
{
    char dir[4096], *line = NULL;
    struct reference_store rs;
    uint64_t count = bench_count(ctx, p), i;
    int rc = fsutil_fresh_dir(ctx, row->name, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    memset(&rs, 0, sizeof(rs));
    rs.durable = !p->nosync;
    snprintf(rs.streams, sizeof(rs.streams), "%s/streams", dir);
    /* hex("bench") */
    snprintf(rs.seq_path, sizeof(rs.seq_path), "%s/62656e6368.seq", rs.streams);
    snprintf(rs.tmp_path, sizeof(rs.tmp_path), "%s/62656e6368.seq.tmp", rs.streams);
    snprintf(rs.log_path, sizeof(rs.log_path), "%s/62656e6368.log", rs.streams);
    line = malloc(REFERENCE_MAX_LINE);
    if (line == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t deadline = stats_now_ns() + (uint64_t)(ctx->seconds * 1e9);
    struct bench_region r;
    bench_region_begin(&r);
    for (i = 0; i < count; i++) {
        int64_t seq = (int64_t)i + 1;
        uint64_t t0 = stats_now_ns();
        size_t len = event_text(line, REFERENCE_MAX_LINE - 1, p->size, seq);
        line[len] = '\n';
        rc = reference_do_append(&rs, seq, line, len + 1);
        uint64_t t1 = stats_now_ns();
        if (rc != 0)
            break;
        stats_hist_add(row->lat, t1 - t0);
        row->bytes += len;
        atomic_fetch_add_explicit(&progress_events, 1, memory_order_relaxed);
        if (t1 > deadline) {
            i++;
            break;
        }
    }
    bench_region_end(&r, row);
    row->events = i;
    row->fdatasyncs = (double)rs.fsyncs;
out:
    free(line);
    fsutil_rm_rf(dir);
    return rc;
}
