/*
 * io_fault.c -- a backend that wraps another and fails chosen calls, in
 * the manner of LevelDB's FaultInjectionTestEnv over EnvWrapper and
 * SQLite's test_syscall. The rules, kill points and the way write_sync is
 * split are described in fault.h.
 *
 * Every call goes through fault_enter, which under one mutex counts the
 * call, decides whether a rule fails it, and whether a kill point falls
 * before or after it; fault_leave runs the "after" half. Nothing here
 * changes what the inner backend does to the calls that pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

struct fault_rule_state {
    struct io_fault_rule r;
    uint64_t count; /* counted calls since the rule was added */
};

struct io_fault {
    struct sxp_io io; /* first: the table the engine is given */
    struct sxp_io *inner;
    int own_inner;
    pthread_mutex_t mu; /* guards everything below */
    struct fault_rule_state rules[IO_FAULT_MAX_RULES];
    size_t nrules;
    uint64_t calls[IO_FK_COUNT];
    uint64_t kill_counts[IO_KILL_COUNT];
    uint64_t injected;
    unsigned drop;
    char drop_end[256]; /* only calls whose path ends so ("": all) */
    io_fault_hook_fn hook;
    void *hook_arg;
    struct io_kill_point kill;
    int kill_armed;
    FILE *trace;              /* every call is printed here when set */
    struct fault_fdpath *fds; /* path of each open descriptor */
    size_t nfds, capfds;
    enum io_fault_kind last_kind; /* the last call a rule failed */
    char last_path[4096];         /* its path, or its descriptor's */
};

struct fault_fdpath {
    int fd;
    char *path;
};

/* What fault_enter decided for one call. */
struct fault_call {
    enum io_fault_kind kind;
    uint64_t n;      /* disk-changing calls so far, or 0 */
    int inject;      /* negative errno to return instead, or 0 */
    int short_write; /* write a prefix before failing */
    size_t short_len;
    int drop;          /* return 0 without passing the call on */
    int kill_after;    /* SIGKILL once the call returned */
    const char *path;  /* for the trace: path (or NULL) */
    const char *path2; /* rename target */
    int fd;            /* descriptor, or -1 */
    size_t len;
    uint64_t off;
    char fdpath[4096]; /* the path fd was opened with, or "" */
};

static const char *const fault_kind_names[IO_FK_COUNT] = {
    "open",      "close", "pread",  "pwrite", "fdatasync", "ftruncate", "fsize", "write_sync",
    "fsync_dir", "mkdir", "rename", "unlink", "stat",      "list_dir",  "lock",  "syncfs",
};

static const char *const fault_kill_names[IO_KILL_COUNT] = {
    "write", "sync", "rename", "dirsync", "unlink", "truncate", "create", "any",
};

const char *io_fault_kind_name(enum io_fault_kind k)
{
    if ((unsigned)k >= IO_FK_COUNT)
        return "?";
    return fault_kind_names[k];
}

int io_fault_kind_parse(const char *s)
{
    for (int k = 0; k < IO_FK_COUNT; k++)
        if (strcmp(s, fault_kind_names[k]) == 0)
            return k;
    return -EINVAL;
}

const char *io_kill_kind_name(enum io_kill_kind k)
{
    if ((unsigned)k >= IO_KILL_COUNT)
        return "?";
    return fault_kill_names[k];
}

int io_kill_parse(const char *spec, struct io_kill_point *out)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL)
        return -EINVAL;
    size_t klen = (size_t)(colon - spec);
    int kind = -1;
    for (int k = 0; k < IO_KILL_COUNT; k++)
        if (strlen(fault_kill_names[k]) == klen && memcmp(spec, fault_kill_names[k], klen) == 0)
            kind = k;
    if (kind < 0)
        return -EINVAL;
    const char *p = colon + 1;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(p, &end, 10);
    if (errno != 0 || n == 0)
        return -EINVAL;
    int after = 0;
    if (strcmp(end, ":after") == 0)
        after = 1;
    else if (strcmp(end, ":before") != 0 && *end != '\0')
        return -EINVAL;
    out->kind = (enum io_kill_kind)kind;
    out->nth = n;
    out->after = after;
    return 0;
}

static struct io_fault *fault_of(struct sxp_io *io)
{
    return (struct io_fault *)io;
}

/* The path a descriptor was opened with, or NULL. f->mu held. */
static const char *fault_fd_path(const struct io_fault *f, int fd)
{
    for (size_t i = 0; i < f->nfds; i++)
        if (f->fds[i].fd == fd)
            return f->fds[i].path;
    return NULL;
}

static void fault_fd_add(struct io_fault *f, int fd, const char *path)
{
    pthread_mutex_lock(&f->mu);
    if (f->nfds == f->capfds) {
        size_t cap = f->capfds ? f->capfds * 2 : 32;
        struct fault_fdpath *n = realloc(f->fds, cap * sizeof(*n));
        if (n != NULL) {
            f->fds = n;
            f->capfds = cap;
        }
    }
    char *copy = strdup(path);
    if (f->nfds < f->capfds && copy != NULL) {
        f->fds[f->nfds].fd = fd;
        f->fds[f->nfds].path = copy;
        f->nfds++;
    } else {
        free(copy); /* only the trace and messages lose the name */
    }
    pthread_mutex_unlock(&f->mu);
}

static void fault_fd_remove(struct io_fault *f, int fd)
{
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nfds; i++)
        if (f->fds[i].fd == fd) {
            free(f->fds[i].path);
            f->fds[i] = f->fds[--f->nfds];
            break;
        }
    pthread_mutex_unlock(&f->mu);
}

/* Which kill kinds a call counts toward; 0 when it changes nothing. */
static unsigned fault_kill_mask(enum io_fault_kind kind, int flags)
{
    switch (kind) {
    case IO_FK_PWRITE:
        return 1u << IO_KILL_WRITE;
    case IO_FK_FDATASYNC:
    case IO_FK_SYNCFS:
        return 1u << IO_KILL_SYNC;
    case IO_FK_RENAME:
        return 1u << IO_KILL_RENAME;
    case IO_FK_FSYNC_DIR:
        return 1u << IO_KILL_DIRSYNC;
    case IO_FK_UNLINK:
        return 1u << IO_KILL_UNLINK;
    case IO_FK_FTRUNCATE:
        return 1u << IO_KILL_TRUNCATE;
    case IO_FK_MKDIR:
        return 1u << IO_KILL_CREATE;
    case IO_FK_OPEN:
        return (flags & (O_CREAT | O_TRUNC)) ? 1u << IO_KILL_CREATE : 0;
    default:
        return 0;
    }
}

static int fault_ends_with(const char *path, const char *suffix)
{
    size_t pl = strlen(path), sl = strlen(suffix);
    return pl >= sl && strcmp(path + pl - sl, suffix) == 0;
}

/* Whether a drop applies to path: it ends in suffix, or, for a suffix that
 * ends in '/' (a directory), it names a file directly in that directory. */
static int fault_drop_matches(const char *path, const char *suffix)
{
    size_t sl = strlen(suffix);
    if (sl == 0 || suffix[sl - 1] != '/')
        return fault_ends_with(path, suffix);
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash[1] == '\0')
        return 0;
    size_t dl = (size_t)(slash - path) + 1; /* the directory, its '/' included */
    return dl >= sl && memcmp(slash + 1 - sl, suffix, sl) == 0;
}

static void fault_die(void)
{
    /* SIGKILL cannot be caught: the process ends here, as a kill -9 would
     * end it, with whatever the page cache holds. */
    (void)raise(SIGKILL);
    abort();
}

/* Counts the call and decides its fate. flags: open(2) flags for open. */
static void fault_enter(struct io_fault *f, enum io_fault_kind kind, int flags, const char *path,
                        int fd, struct fault_call *c)
{
    int kill_before = 0;
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->fd = fd;
    c->path = path;
    unsigned km = fault_kill_mask(kind, flags);

    pthread_mutex_lock(&f->mu);
    if (fd >= 0) {
        const char *fp = fault_fd_path(f, fd);
        snprintf(c->fdpath, sizeof(c->fdpath), "%s", fp ? fp : "");
    }
    f->calls[kind]++;
    if (km != 0) {
        km |= 1u << IO_KILL_ANY;
        for (int k = 0; k < IO_KILL_COUNT; k++)
            if (km & (1u << k))
                f->kill_counts[k]++;
        c->n = f->kill_counts[IO_KILL_ANY];
        if (f->kill_armed && (km & (1u << f->kill.kind)) &&
            f->kill_counts[f->kill.kind] == f->kill.nth) {
            if (f->kill.after)
                c->kill_after = 1;
            else
                kill_before = 1;
        }
    }
    for (size_t i = 0; i < f->nrules; i++) {
        struct fault_rule_state *rs = &f->rules[i];
        if (!(rs->r.kinds & IO_FAULT_BIT(kind)))
            continue;
        rs->count++;
        if (c->inject == 0 &&
            (rs->count == rs->r.nth || (rs->r.persist && rs->count > rs->r.nth))) {
            c->inject = rs->r.err;
            c->short_write = rs->r.short_write;
            c->short_len = rs->r.short_len;
        }
    }
    if (c->inject != 0)
        f->injected++;
    else if ((f->drop & IO_FAULT_BIT(kind)) &&
             fault_drop_matches(path ? path : c->fdpath, f->drop_end))
        c->drop = 1;
    io_fault_hook_fn hook = f->hook;
    void *hook_arg = f->hook_arg;
    pthread_mutex_unlock(&f->mu);

    if (kill_before)
        fault_die();
    if (hook != NULL)
        hook(hook_arg, kind, 0, c->n, path ? path : c->fdpath, 0);
}

static void fault_leave(struct io_fault *f, const struct fault_call *c, int res)
{
    pthread_mutex_lock(&f->mu);
    io_fault_hook_fn hook = f->hook;
    void *hook_arg = f->hook_arg;
    const char *fdpath = c->fdpath[0] ? c->fdpath : NULL;
    if (c->inject) {
        f->last_kind = c->kind;
        snprintf(f->last_path, sizeof(f->last_path), "%s",
                 c->path  ? c->path
                 : fdpath ? fdpath
                          : "");
    }
    if (f->trace != NULL) {
        fprintf(f->trace, "io %4llu %-10s", (unsigned long long)c->n, fault_kind_names[c->kind]);
        if (c->path)
            fprintf(f->trace, " %s", c->path);
        if (c->path2)
            fprintf(f->trace, " -> %s", c->path2);
        if (c->fd >= 0)
            fprintf(f->trace, " fd %d%s%s", c->fd, fdpath ? " " : "", fdpath ? fdpath : "");
        if (c->kind == IO_FK_PWRITE || c->kind == IO_FK_PREAD || c->kind == IO_FK_FTRUNCATE)
            fprintf(f->trace, " len %zu off %llu", c->len, (unsigned long long)c->off);
        fprintf(f->trace, " = %d%s%s\n", res, c->inject ? " (injected)" : "",
                c->drop ? " (dropped)" : "");
    }
    pthread_mutex_unlock(&f->mu);
    if (hook != NULL)
        hook(hook_arg, c->kind, 1, c->n, c->path ? c->path : c->fdpath, res);
    if (c->kill_after)
        fault_die();
}

/* ---- the table ---------------------------------------------------------- */

static int fault_open(struct sxp_io *io, const char *path, int flags, mode_t mode)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_OPEN, flags, path, -1, &c);
    int res = c.inject ? c.inject : f->inner->open(f->inner, path, flags, mode);
    if (res >= 0)
        fault_fd_add(f, res, path);
    fault_leave(f, &c, res);
    return res;
}

static int fault_close(struct sxp_io *io, int fd)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_CLOSE, 0, NULL, fd, &c);
    /* close(2) releases the descriptor even when it reports an error. */
    int res = f->inner->close(f->inner, fd);
    fault_leave(f, &c, c.inject ? c.inject : res);
    fault_fd_remove(f, fd);
    return c.inject ? c.inject : res;
}

static ssize_t fault_pread(struct sxp_io *io, int fd, void *buf, size_t len, uint64_t off)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_PREAD, 0, NULL, fd, &c);
    c.len = len;
    c.off = off;
    ssize_t res = c.inject ? c.inject : c.drop ? 0 : f->inner->pread(f->inner, fd, buf, len, off);
    fault_leave(f, &c, (int)(res < 0 ? res : 0));
    return res;
}

static int fault_pwrite(struct sxp_io *io, int fd, const void *buf, size_t len, uint64_t off)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    int res;
    fault_enter(f, IO_FK_PWRITE, 0, NULL, fd, &c);
    c.len = len;
    c.off = off;
    if (c.inject) {
        res = c.inject;
        size_t part = c.short_len < len ? c.short_len : (len > 0 ? len - 1 : 0);
        if (c.short_write && part > 0)
            (void)f->inner->pwrite(f->inner, fd, buf, part, off);
    } else if (c.drop) {
        res = 0;
    } else {
        res = f->inner->pwrite(f->inner, fd, buf, len, off);
    }
    fault_leave(f, &c, res);
    return res;
}

static int fault_fdatasync(struct sxp_io *io, int fd)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_FDATASYNC, 0, NULL, fd, &c);
    int res = c.inject ? c.inject : c.drop ? 0 : f->inner->fdatasync(f->inner, fd);
    fault_leave(f, &c, res);
    return res;
}

static int fault_ftruncate(struct sxp_io *io, int fd, uint64_t len)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_FTRUNCATE, 0, NULL, fd, &c);
    c.off = len;
    int res = c.inject ? c.inject : c.drop ? 0 : f->inner->ftruncate(f->inner, fd, len);
    fault_leave(f, &c, res);
    return res;
}

static int fault_fsize(struct sxp_io *io, int fd, uint64_t *out)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_FSIZE, 0, NULL, fd, &c);
    int res = c.inject ? c.inject : f->inner->fsize(f->inner, fd, out);
    fault_leave(f, &c, res);
    return res;
}

static int fault_write_sync(struct sxp_io *io, struct io_wsync *reqs, size_t n)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    int first = 0;
    fault_enter(f, IO_FK_WRITE_SYNC, 0, NULL, -1, &c);
    for (size_t i = 0; i < n; i++) {
        struct io_wsync *r = &reqs[i];
        r->sync_failed = 0;
        r->res = 0;
        if (c.inject) {
            r->res = c.inject;
        } else if (!c.drop) {
            /* Each request is one pwrite and one fdatasync through this
             * wrapper, so their own rules and kill points apply. */
            if (r->len > 0)
                r->res = fault_pwrite(io, r->fd, r->buf, r->len, r->off);
            if (r->res == 0 && r->sync) {
                r->res = fault_fdatasync(io, r->fd);
                r->sync_failed = r->res < 0;
            }
        }
        if (r->res < 0 && first == 0)
            first = r->res;
    }
    if (c.inject && n == 0)
        first = c.inject;
    fault_leave(f, &c, first);
    return first;
}

/* fsync_dir, or syncfs (whole_fs): counted, failed, dropped and killed at
 * alike (kind fsync_dir, kill kind dirsync), since syncfs is a directory
 * fsync of every directory at once. */
static int fault_dir_sync(struct sxp_io *io, const char *dir, int whole_fs)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_FSYNC_DIR, 0, dir, -1, &c);
    int res = c.inject   ? c.inject
              : c.drop   ? 0
              : whole_fs ? f->inner->syncfs(f->inner, dir)
                         : f->inner->fsync_dir(f->inner, dir);
    fault_leave(f, &c, res);
    return res;
}

static int fault_fsync_dir(struct sxp_io *io, const char *dir)
{
    return fault_dir_sync(io, dir, 0);
}

static int fault_syncfs(struct sxp_io *io, const char *path)
{
    return fault_dir_sync(io, path, 1);
}

/* A sync of every file: counted, failed, dropped and killed at as a sync
 * (kill kind sync), on the path fd was opened with. */
static int fault_syncfs_fd(struct sxp_io *io, int fd)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_SYNCFS, 0, NULL, fd, &c);
    int res = c.inject ? c.inject : c.drop ? 0 : f->inner->syncfs_fd(f->inner, fd);
    fault_leave(f, &c, res);
    return res;
}

/* Not a disk call: passed on, never counted or failed. */
static int fault_boot_id(struct sxp_io *io, char *out, size_t size)
{
    struct io_fault *f = fault_of(io);
    return f->inner->boot_id(f->inner, out, size);
}

static int fault_mkdir(struct sxp_io *io, const char *path, mode_t mode)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_MKDIR, 0, path, -1, &c);
    int res = c.inject ? c.inject : c.drop ? 0 : f->inner->mkdir(f->inner, path, mode);
    fault_leave(f, &c, res);
    return res;
}

/* A rename, or with exchange a rename_exchange, which counts, fails and
 * kills as a rename (IO_FK_RENAME). */
static int fault_rename_call(struct sxp_io *io, const char *from, const char *to, int exchange)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_RENAME, 0, from, -1, &c);
    c.path2 = to;
    int res = c.inject   ? c.inject
              : c.drop   ? 0
              : exchange ? f->inner->rename_exchange(f->inner, from, to)
                         : f->inner->rename(f->inner, from, to);
    fault_leave(f, &c, res);
    return res;
}

static int fault_rename(struct sxp_io *io, const char *from, const char *to)
{
    return fault_rename_call(io, from, to, 0);
}

static int fault_rename_exchange(struct sxp_io *io, const char *a, const char *b)
{
    return fault_rename_call(io, a, b, 1);
}

static int fault_unlink(struct sxp_io *io, const char *path)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_UNLINK, 0, path, -1, &c);
    int res = c.inject ? c.inject : c.drop ? 0 : f->inner->unlink(f->inner, path);
    fault_leave(f, &c, res);
    return res;
}

static int fault_stat(struct sxp_io *io, const char *path, uint64_t *out_size, int *out_is_dir)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_STAT, 0, path, -1, &c);
    int res = c.inject ? c.inject : f->inner->stat(f->inner, path, out_size, out_is_dir);
    fault_leave(f, &c, res);
    return res;
}

/* Counts and fails as a stat (IO_FK_STAT). */
static int fault_still_at(struct sxp_io *io, int fd, const char *path)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_STAT, 0, path, fd, &c);
    int res = c.inject ? c.inject : f->inner->still_at(f->inner, fd, path);
    fault_leave(f, &c, res);
    return res;
}

/* Counts and fails as a stat (IO_FK_STAT). */
static int fault_same_fs(struct sxp_io *io, const char *a, const char *b)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_STAT, 0, a, -1, &c);
    int res = c.inject ? c.inject : f->inner->same_fs(f->inner, a, b);
    fault_leave(f, &c, res);
    return res;
}

static int fault_list_dir(struct sxp_io *io, const char *dir, io_dir_fn fn, void *arg)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_LIST_DIR, 0, dir, -1, &c);
    int res = c.inject ? c.inject : f->inner->list_dir(f->inner, dir, fn, arg);
    fault_leave(f, &c, res);
    return res;
}

static int fault_lock(struct sxp_io *io, int fd)
{
    struct io_fault *f = fault_of(io);
    struct fault_call c;
    fault_enter(f, IO_FK_LOCK, 0, NULL, fd, &c);
    int res = c.inject ? c.inject : c.drop ? 0 : f->inner->lock(f->inner, fd);
    fault_leave(f, &c, res);
    return res;
}

static void fault_destroy(struct sxp_io *io)
{
    if (io == NULL)
        return;
    struct io_fault *f = fault_of(io);
    if (f->own_inner && f->inner != NULL)
        f->inner->destroy(f->inner);
    for (size_t i = 0; i < f->nfds; i++)
        free(f->fds[i].path);
    free(f->fds);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* ---- configuration ------------------------------------------------------ */

int io_fault_new(struct sxp_io *inner, struct sxp_io **out)
{
    struct io_fault *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    if (pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f);
        return -ENOMEM;
    }
    f->inner = inner;
    f->io.name = "fault";
    f->io.open = fault_open;
    f->io.close = fault_close;
    f->io.pread = fault_pread;
    f->io.pwrite = fault_pwrite;
    f->io.fdatasync = fault_fdatasync;
    f->io.ftruncate = fault_ftruncate;
    f->io.fsize = fault_fsize;
    f->io.write_sync = fault_write_sync;
    f->io.fsync_dir = fault_fsync_dir;
    f->io.syncfs = fault_syncfs;
    f->io.syncfs_fd = fault_syncfs_fd;
    f->io.boot_id = fault_boot_id;
    f->io.mkdir = fault_mkdir;
    f->io.rename = fault_rename;
    f->io.rename_exchange = fault_rename_exchange;
    f->io.unlink = fault_unlink;
    f->io.stat = fault_stat;
    f->io.still_at = fault_still_at;
    f->io.same_fs = fault_same_fs;
    f->io.list_dir = fault_list_dir;
    f->io.lock = fault_lock;
    f->io.destroy = fault_destroy;
    *out = &f->io;
    return 0;
}

void io_fault_own_inner(struct sxp_io *io)
{
    fault_of(io)->own_inner = 1;
}

int io_fault_add_rule(struct sxp_io *io, const struct io_fault_rule *r)
{
    struct io_fault *f = fault_of(io);
    int rc = 0;
    if ((r->kinds & IO_FAULT_ALL) == 0 || r->nth == 0 || r->err >= 0)
        return -EINVAL;
    pthread_mutex_lock(&f->mu);
    if (f->nrules == IO_FAULT_MAX_RULES) {
        rc = -ENOSPC;
    } else {
        f->rules[f->nrules].r = *r;
        f->rules[f->nrules].count = 0;
        f->nrules++;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int io_fault_fail_nth(struct sxp_io *io, enum io_fault_kind k, uint64_t nth, int err, int persist)
{
    struct io_fault_rule r;
    memset(&r, 0, sizeof(r));
    r.kinds = k == IO_FK_COUNT ? IO_FAULT_ALL : IO_FAULT_BIT(k);
    r.nth = nth;
    r.err = err;
    r.persist = persist;
    return io_fault_add_rule(io, &r);
}

void io_fault_clear(struct sxp_io *io)
{
    struct io_fault *f = fault_of(io);
    pthread_mutex_lock(&f->mu);
    f->nrules = 0;
    pthread_mutex_unlock(&f->mu);
}

uint64_t io_fault_calls(struct sxp_io *io, unsigned mask)
{
    struct io_fault *f = fault_of(io);
    uint64_t n = 0;
    pthread_mutex_lock(&f->mu);
    for (int k = 0; k < IO_FK_COUNT; k++)
        if (mask & IO_FAULT_BIT(k))
            n += f->calls[k];
    pthread_mutex_unlock(&f->mu);
    return n;
}

int io_fault_last_injected(struct sxp_io *io, enum io_fault_kind *out_kind, char *out_path,
                           size_t size)
{
    struct io_fault *f = fault_of(io);
    int rc = 0;
    pthread_mutex_lock(&f->mu);
    if (f->injected == 0) {
        rc = -ENOENT;
    } else {
        *out_kind = f->last_kind;
        snprintf(out_path, size, "%s", f->last_path);
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

uint64_t io_fault_injected(struct sxp_io *io)
{
    struct io_fault *f = fault_of(io);
    pthread_mutex_lock(&f->mu);
    uint64_t n = f->injected;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void io_fault_reset_counts(struct sxp_io *io)
{
    struct io_fault *f = fault_of(io);
    pthread_mutex_lock(&f->mu);
    memset(f->calls, 0, sizeof(f->calls));
    memset(f->kill_counts, 0, sizeof(f->kill_counts));
    f->injected = 0;
    pthread_mutex_unlock(&f->mu);
}

void io_fault_set_drop(struct sxp_io *io, unsigned mask)
{
    io_fault_set_drop_path(io, mask, NULL);
}

void io_fault_set_drop_path(struct sxp_io *io, unsigned mask, const char *suffix)
{
    struct io_fault *f = fault_of(io);
    pthread_mutex_lock(&f->mu);
    f->drop = mask;
    snprintf(f->drop_end, sizeof(f->drop_end), "%s", suffix ? suffix : "");
    pthread_mutex_unlock(&f->mu);
}

void io_fault_set_hook(struct sxp_io *io, io_fault_hook_fn fn, void *arg)
{
    struct io_fault *f = fault_of(io);
    pthread_mutex_lock(&f->mu);
    f->hook = fn;
    f->hook_arg = arg;
    pthread_mutex_unlock(&f->mu);
}

void io_fault_set_kill(struct sxp_io *io, const struct io_kill_point *kp)
{
    struct io_fault *f = fault_of(io);
    pthread_mutex_lock(&f->mu);
    f->kill_armed = kp != NULL;
    if (kp != NULL)
        f->kill = *kp;
    pthread_mutex_unlock(&f->mu);
}

int io_fault_kill_from_env(struct sxp_io *io)
{
    const char *spec = getenv("SXP_KILL_AT");
    struct io_kill_point kp;
    if (spec == NULL || *spec == '\0')
        return 0;
    int rc = io_kill_parse(spec, &kp);
    if (rc < 0)
        return rc;
    io_fault_set_kill(io, &kp);
    return 1;
}

void io_fault_set_trace(struct sxp_io *io, FILE *out)
{
    struct io_fault *f = fault_of(io);
    pthread_mutex_lock(&f->mu);
    f->trace = out;
    pthread_mutex_unlock(&f->mu);
}

uint64_t io_fault_kill_count(struct sxp_io *io, enum io_kill_kind k)
{
    struct io_fault *f = fault_of(io);
    pthread_mutex_lock(&f->mu);
    uint64_t n = (unsigned)k < IO_KILL_COUNT ? f->kill_counts[k] : 0;
    pthread_mutex_unlock(&f->mu);
    return n;
}
