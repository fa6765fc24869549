/*
 * fsutil.c -- scratch directories for the workloads.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

static int fsutil_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int fsutil_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    return nftw(path, fsutil_rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

int fsutil_mkdir_p(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int fsutil_fresh_dir(const struct bench_ctx *ctx, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", ctx->dir, name);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    for (char *p = out + strlen(ctx->dir) + 1; *p; p++)
        if (*p == '/')
            *p = '_';
    int rc = fsutil_rm_rf(out);
    if (rc != 0)
        return rc;
    return fsutil_mkdir_p(out);
}

int fsutil_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int fsutil_settle(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = syncfs(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}
