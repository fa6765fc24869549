/*
 * fuzz_common.c -- helpers shared by the fuzz targets (see fuzz.h): failure
 * reports, temp directories, whole-file reads and writes, value text.
 *
 * These run on plain syscalls, not through struct sxp_io: they build and
 * inspect the trees the targets feed to sxp, and must not share its bugs.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "sx.h"

const char *fuzz_input_name;

/* See fuzz.h; each ID is described in docs/fuzzing.md ("Findings"). */
static const char *const fuzz_open_findings[] = {
    NULL,
};

int fuzz_open_finding(const char *id)
{
    const char *strict = getenv("SXP_FUZZ_STRICT");
    if (strict && strcmp(strict, "1") == 0)
        return 0;
    for (size_t i = 0; fuzz_open_findings[i]; i++)
        if (strcmp(fuzz_open_findings[i], id) == 0)
            return 1;
    return 0;
}

int fuzz_verbose(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("SXP_FUZZ_VERBOSE");
        v = e && *e && strcmp(e, "0") != 0;
    }
    return v;
}

void fuzz_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz: %s:%d: property broken: %s:", file, line, what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (fuzz_input_name)
        fprintf(stderr, "fuzz: input: %s\n", fuzz_input_name);
    fflush(stderr);
    abort();
}

void *fuzz_realloc(void *p, size_t len)
{
    void *q = realloc(p, len);
    FUZZ_CHECKF(q != NULL, "realloc of %zu bytes", len);
    return q;
}

void fuzz_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    FUZZ_CHECKF(n >= 0 && (size_t)n < size, " %zu bytes do not hold \"%.100s\"", size, out);
}

void fuzz_tmpdir(const char *tag, char *out)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    fuzz_fmt(out, PATH_MAX, "%s/sxp-fuzz-%s-XXXXXX", base, tag);
    FUZZ_CHECKF(mkdtemp(out) != NULL, " mkdtemp %s: %s", out, strerror(errno));
}

static int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0;
}

void fuzz_rmrf(const char *path)
{
    (void)nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int fuzz_copy_file(const char *src, const char *dst, mode_t mode)
{
    size_t len = 0;
    char *bytes = fuzz_read_file(src, &len);
    if (!bytes)
        return -EIO;
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
    int rc = fd < 0 ? -errno : 0;
    size_t done = 0;
    while (rc == 0 && done < len) {
        ssize_t w = write(fd, bytes + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = -EIO;
        else
            done += (size_t)w;
    }
    if (fd >= 0)
        (void)close(fd);
    free(bytes);
    return rc;
}

void fuzz_copy_tree(const char *src, const char *dst)
{
    struct stat st;
    FUZZ_CHECKF(lstat(src, &st) == 0, " stat %s: %s", src, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (S_ISREG(st.st_mode)) {
            int rc = fuzz_copy_file(src, dst, st.st_mode);
            FUZZ_CHECKF(rc == 0, " copy %s to %s: %s", src, dst, strerror(-rc));
        }
        return;
    }
    FUZZ_CHECKF(mkdir(dst, st.st_mode & 07777) == 0, " mkdir %s: %s", dst, strerror(errno));
    DIR *d = opendir(src);
    FUZZ_CHECKF(d != NULL, " opendir %s: %s", src, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char s[PATH_MAX], t[PATH_MAX];
        fuzz_fmt(s, sizeof(s), "%s/%s", src, e->d_name);
        fuzz_fmt(t, sizeof(t), "%s/%s", dst, e->d_name);
        fuzz_copy_tree(s, t);
    }
    closedir(d);
}

char *fuzz_read_file(const char *path, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        (void)close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *p = malloc(cap);
    while (p) {
        if (len + 1 >= cap) {
            char *np = realloc(p, cap * 2);
            if (!np) {
                free(p);
                p = NULL;
                break;
            }
            p = np;
            cap *= 2;
        }
        ssize_t r = read(fd, p + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(p);
            p = NULL;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    (void)close(fd);
    if (!p)
        return NULL;
    p[len] = '\0';
    if (out_len)
        *out_len = len;
    return p;
}

int fuzz_write_file(const char *path, const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = 0;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)bytes + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

char *fuzz_text(const sxp_value *v, size_t *out_len, int *rc)
{
    struct buf b = BUF_INIT;
    int r = sx_serialize(v, &b, NULL);
    if (rc)
        *rc = r;
    if (r != 0) {
        buf_free(&b);
        return NULL;
    }
    if (out_len)
        *out_len = b.len;
    if (!b.p) {
        /* Nothing was written: no value has an empty text. */
        return strdup("");
    }
    return buf_steal(&b);
}

int fuzz_same_text(const sxp_value *a, const sxp_value *b)
{
    size_t na = 0, nb = 0;
    char *ta = fuzz_text(a, &na, NULL), *tb = fuzz_text(b, &nb, NULL);
    int same = ta && tb && na == nb && memcmp(ta, tb, na) == 0;
    free(ta);
    free(tb);
    return same;
}

int fuzz_known_errno(int rc)
{
    switch (rc) {
    case 0:
    case -EINVAL:
    case -ERANGE:
    case -E2BIG:
    case -EBADMSG:
    case -EUCLEAN:
    case -EAGAIN:
    case -EROFS:
    case -EIO:
    case -ENOSPC:
    case -ENOMEM:
        return 1;
    }
    return 0;
}

unsigned fuzz_u8(struct fuzz_in *in)
{
    return in->i < in->n ? in->p[in->i++] : 0;
}

unsigned fuzz_u16(struct fuzz_in *in)
{
    unsigned hi = fuzz_u8(in);
    return (hi << 8) | fuzz_u8(in);
}

void fuzz_take(struct fuzz_in *in, unsigned char *out, size_t n)
{
    size_t have = in->n - in->i < n ? in->n - in->i : n;
    memcpy(out, in->p + in->i, have);
    memset(out + have, 0, n - have);
    in->i += have;
}
