/* lock.c -- see lock.h for the LOCK file's format and rules K-1..K-3. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "err.h"
#include "frame.h"
#include "layout.h"
#include "residue.h"

#define LOCK_DEAD_WAIT_MS 5000
#define LOCK_DIRTY_MARK " +dirty"
#define LOCK_UNSYNCED_WORD " unsynced"

/* 1 when text (lf at its first LF, or NULL) starts with a session's
 * first line written without syncs: "pid N unsynced ..." (K-6). */
static int lock_line_unsynced(const char *text, const char *lf)
{
    return lf && strncmp(text, "pid ", 4) == 0 &&
           memmem(text, (size_t)(lf - text), LOCK_UNSYNCED_WORD, strlen(LOCK_UNSYNCED_WORD));
}

/* This boot's id into boot (LOCK_BOOT_ID_MAX), 0; -1 when the kernel gives
 * none that a LOCK line can carry (a word without spaces or '+'). */
static int lock_boot(struct sxp_io *io, char *boot)
{
    if (io->boot_id(io, boot, LOCK_BOOT_ID_MAX) != 0 || boot[0] == '\0')
        return -1;
    return strpbrk(boot, " +\n") == NULL ? 0 : -1;
}

/* K-8: 1 when the unsynced session's first line of text (lf at its LF;
 * lock_line_unsynced holds, the caller's test) names this boot:
 * "pid N unsynced B ...", B this boot's id. */
static int lock_line_this_boot(struct sxp_io *io, const char *text, const char *lf)
{
    char boot[LOCK_BOOT_ID_MAX];
    if (lock_boot(io, boot) != 0)
        return 0;
    const char *w =
        memmem(text, (size_t)(lf - text), LOCK_UNSYNCED_WORD " ", strlen(LOCK_UNSYNCED_WORD) + 1);
    if (w == NULL)
        return 0;
    w += strlen(LOCK_UNSYNCED_WORD) + 1;
    size_t n = 0;
    while (w + n < lf && w[n] != ' ')
        n++;
    return n == strlen(boot) && memcmp(w, boot, n) == 0;
}

long lock_holder_pid(struct sxp_io *io, const char *root)
{
    char path[PATH_MAX], text[64];
    long pid = 0;
    if (layout_path(root, "LOCK", path) != 0)
        return 0;
    int fd = io->open(io, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    /* Only the first line: the dirty list may follow (K-5). */
    ssize_t n = io->pread(io, fd, text, sizeof(text) - 1, 0);
    (void)io->close(io, fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    if (sscanf(text, "pid %ld", &pid) != 1)
        pid = 0;
    return pid;
}

static int lock_write(struct sxp_io *io, int fd, const char *text, int sync)
{
    size_t len = strlen(text);
    int rc = io->pwrite(io, fd, text, len, 0);
    if (!rc)
        rc = io->ftruncate(io, fd, len);
    if (!rc && sync)
        rc = io->fdatasync(io, fd);
    return rc;
}

/* The dirty list's space is written ahead in zeros, LOCK_DIRTY_CHUNK at a
 * time, so that appending a name and syncing it changes no file size: an
 * fdatasync inside the file's size costs no journal commit (as commit.c's
 * pre-zeroed logs). */
#define LOCK_DIRTY_CHUNK (64u * 1024u)

/* A session's first line, "pid N[ unsynced[ B]][ +dirty]\n" (K-5, K-6,
 * K-8), into buf; its length. */
static int lock_session_line(struct sxp_io *io, char *buf, size_t size, int sync, const char *mark)
{
    char boot[LOCK_BOOT_ID_MAX] = "";
    if (!sync && lock_boot(io, boot) != 0)
        boot[0] = '\0'; /* no boot named: the next open trusts nothing */
    return snprintf(buf, size, "pid %ld%s%s%s%s\n", (long)getpid(), sync ? "" : LOCK_UNSYNCED_WORD,
                    boot[0] ? " " : "", boot, mark);
}

int lock_mark_open(struct sxp_io *io, int fd, int sync, uint64_t *out_end, uint64_t *out_alloc)
{
    char *buf = calloc(1, LOCK_DIRTY_CHUNK);
    if (!buf)
        return -ENOMEM;
    int n = lock_session_line(io, buf, LOCK_DIRTY_CHUNK, sync, LOCK_DIRTY_MARK);
    int rc = io->pwrite(io, fd, buf, LOCK_DIRTY_CHUNK, 0);
    free(buf);
    if (!rc)
        rc = io->ftruncate(io, fd, LOCK_DIRTY_CHUNK);
    if (!rc) /* K-2 in every mode, K-6 */
        rc = io->fdatasync(io, fd);
    *out_end = (uint64_t)n;
    *out_alloc = LOCK_DIRTY_CHUNK;
    return rc;
}

unsigned lock_dirty_bucket(const char *hex, size_t len)
{
    return (unsigned)(XXH3_64bits(hex, len) & (LOCK_DIRTY_BUCKETS - 1));
}

int lock_append_dirty(struct sxp_io *io, int fd, uint64_t *off, uint64_t *alloc, unsigned b,
                      int sync)
{
    char line[3 + FRAME_TRAILER_LEN];
    char *buf = line;
    if (b >= LOCK_DIRTY_BUCKETS)
        return -EINVAL;
    snprintf(line, sizeof(line), "%03x", b);
    size_t n = frame_encode(line, 3, line), wlen = n;
    uint64_t nalloc = *alloc;
    if (*off + n > *alloc) {
        /* Past the zeros: write the line and the next chunk of zeros. */
        nalloc = *off + n + LOCK_DIRTY_CHUNK;
        wlen = (size_t)(nalloc - *off);
        buf = calloc(1, wlen);
        if (!buf)
            return -ENOMEM;
        memcpy(buf, line, n);
    }
    int rc = io->pwrite(io, fd, buf, wlen, *off);
    if (buf != line)
        free(buf);
    if (!rc && sync)
        rc = io->fdatasync(io, fd);
    if (!rc) {
        *off += n;
        *alloc = nalloc;
    }
    return rc;
}

/* A whole dirty list holds each bucket about once; past this size it is
 * not one a session wrote, and recovery reads every log instead. */
#define LOCK_DIRTY_MAX (16u << 20)

int lock_read_dirty(struct sxp_io *io, int fd, struct lock_dirty *out)
{
    uint64_t size = 0;
    memset(out->map, 0, sizeof(out->map));
    int rc = io->fsize(io, fd, &size);
    if (rc)
        return rc;
    if (size > LOCK_DIRTY_MAX)
        return 0;
    char *text = malloc(size ? size : 1);
    if (!text)
        return -ENOMEM;
    ssize_t got = io->pread(io, fd, text, size, 0);
    if (got < 0) {
        free(text);
        return (int)got;
    }
    size_t len = (size_t)got;
    const char *lf = memchr(text, '\n', len);
    const char *mark = LOCK_DIRTY_MARK "\n";
    size_t ml = strlen(mark);
    /* K-8: an unsynced session's list only in the boot that wrote it. */
    int whole = lf != NULL && (size_t)(lf - text) + 1 >= ml && memcmp(lf + 1 - ml, mark, ml) == 0 &&
                strncmp(text, "pid ", 4) == 0 &&
                (!lock_line_unsynced(text, lf) || lock_line_this_boot(io, text, lf));
    for (size_t off = whole ? (size_t)(lf - text) + 1 : len; whole && off < len;) {
        struct frame_line fl;
        if (text[off] == '\0') {
            /* The zeros written ahead: the list ends here, if all are. */
            for (; off < len && whole; off++)
                whole = text[off] == '\0';
            break;
        }
        frame_next(text + off, len - off, &fl);
        unsigned b = 0;
        whole = fl.status == FRAME_OK && fl.payload_len == 3;
        for (size_t k = 0; whole && k < 3; k++) {
            char ch = fl.payload[k];
            whole = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
            b = b * 16 + (unsigned)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
        }
        if (whole)
            lock_dirty_add(out, b);
        off += fl.line_len;
    }
    free(text);
    if (!whole)
        memset(out->map, 0, sizeof(out->map));
    return whole;
}

int lock_state(struct sxp_io *io, int fd)
{
    char text[160], boot[LOCK_BOOT_ID_MAX];
    ssize_t n = io->pread(io, fd, text, sizeof(text) - 1, 0);
    if (n <= 0)
        return 0;
    size_t len = (size_t)n, pl = strlen(LOCK_CLEAN_UNSYNCED_PREFIX);
    text[len] = '\0';
    if (len == strlen(LOCK_CLEAN_TEXT) && memcmp(text, LOCK_CLEAN_TEXT, len) == 0)
        return LOCK_CLEAN;
    if (len > pl && memcmp(text, LOCK_CLEAN_UNSYNCED_PREFIX, pl) == 0 && text[len - 1] == '\n') {
        /* Clean only in the boot that wrote it: after a reboot its unsynced
         * bytes may be torn or lost, and recovery must look (K-6). */
        text[len - 1] = '\0';
        int same = io->boot_id(io, boot, sizeof(boot)) == 0 && strcmp(text + pl, boot) == 0;
        return same ? LOCK_CLEAN | LOCK_UNSYNCED : LOCK_UNSYNCED;
    }
    if (len == strlen(LOCK_RESETTLE_TEXT) && memcmp(text, LOCK_RESETTLE_TEXT, len) == 0)
        return LOCK_UNSYNCED | LOCK_RESETTLE; /* K-6, A FAILED SETTLE */
    /* A session's first line says whether it syncs. Any other text is a
     * mark a power loss tore (K-7): taken as unsynced, so that the store
     * is settled (K-6) and recovered without trusting its .seq files. */
    const char *lf = memchr(text, '\n', len);
    if (lf != NULL && strncmp(text, "pid ", 4) == 0) {
        if (!lock_line_unsynced(text, lf))
            return 0;
        return LOCK_UNSYNCED | (lock_line_this_boot(io, text, lf) ? LOCK_THIS_BOOT : 0);
    }
    return LOCK_UNSYNCED;
}

int lock_forget_list(struct sxp_io *io, int fd, int sync)
{
    char text[64 + LOCK_BOOT_ID_MAX];
    (void)lock_session_line(io, text, sizeof(text), sync, "");
    return lock_write(io, fd, text, sync);
}

int lock_mark_resettle(struct sxp_io *io, int fd)
{
    return lock_write(io, fd, LOCK_RESETTLE_TEXT, 1);
}

int lock_mark_clean(struct sxp_io *io, int fd, int sync)
{
    char text[sizeof(LOCK_CLEAN_UNSYNCED_PREFIX) + LOCK_BOOT_ID_MAX + 1];
    char boot[LOCK_BOOT_ID_MAX] = "";
    if (sync)
        return lock_write(io, fd, LOCK_CLEAN_TEXT, 1);
    /* Without a boot id the text never reads clean: the next open recovers. */
    if (io->boot_id(io, boot, sizeof(boot)) != 0)
        boot[0] = '\0';
    snprintf(text, sizeof(text), "%s%s\n", LOCK_CLEAN_UNSYNCED_PREFIX, boot);
    return lock_write(io, fd, text, 0);
}

/* The names in one directory, for lock_rewrite_dir. */
struct lock_names {
    char **v;
    int *is_dir;
    size_t n, cap;
    int oom;
};

static int lock_names_add(void *arg, const char *name, int is_dir)
{
    struct lock_names *ns = arg;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 64;
        char **v = realloc(ns->v, cap * sizeof(*v));
        if (v)
            ns->v = v;
        int *d = v ? realloc(ns->is_dir, cap * sizeof(*d)) : NULL;
        if (d)
            ns->is_dir = d;
        if (!v || !d) {
            ns->oom = 1;
            return -ENOMEM;
        }
        ns->cap = cap;
    }
    if ((ns->v[ns->n] = strdup(name)) == NULL) {
        ns->oom = 1;
        return -ENOMEM;
    }
    ns->is_dir[ns->n++] = is_dir;
    return 0;
}

/* K-6, A FAILED SETTLE: path's bytes, written again where they are. */
static int lock_rewrite_file(struct sxp_io *io, const char *path)
{
    struct sxp_err err;
    uint64_t size = 0;
    int fd = io->open(io, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd == -ELOOP || fd == -ENOENT)
        return 0; /* a symbolic link is not the store's; a name gone meanwhile */
    if (fd < 0)
        return fd;
    int rc = io->fsize(io, fd, &size);
    if (rc == 0)
        rc = residue_rewrite_all(io, fd, path, 0, size, &err);
    (void)io->close(io, fd);
    return rc;
}

/* Writes every file under dir again (lock_rewrite_file), depth folders
 * deep at most, but for the entry named skip (ROOT/LOCK, which the settling
 * process writes itself). */
static int lock_rewrite_dir(struct sxp_io *io, const char *dir, int depth, const char *skip,
                            char *bad)
{
    struct lock_names ns = {0};
    int rc = io->list_dir(io, dir, lock_names_add, &ns);
    if (ns.oom)
        rc = -ENOMEM;
    if (rc == -ENOENT)
        rc = 0;
    if (rc)
        snprintf(bad, PATH_MAX, "%s", dir);
    for (size_t i = 0; i < ns.n && rc == 0; i++) {
        char path[PATH_MAX];
        if ((skip && strcmp(ns.v[i], skip) == 0) || (ns.is_dir[i] && depth == 0))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, ns.v[i]) >= (int)sizeof(path)) {
            rc = -ENAMETOOLONG;
        } else if (ns.is_dir[i]) {
            rc = lock_rewrite_dir(io, path, depth - 1, NULL, bad);
            continue; /* bad says where */
        } else {
            rc = lock_rewrite_file(io, path);
        }
        if (rc)
            snprintf(bad, PATH_MAX, "%s", path);
    }
    for (size_t i = 0; i < ns.n; i++)
        free(ns.v[i]);
    free(ns.v);
    free(ns.is_dir);
    return rc;
}

/* lock_settle; on a failure bad names the path and *what the step. */
static int lock_settle_at(struct sxp_io *io, const char *root, int lock_fd, char *bad,
                          const char **what)
{
    const char *sub[] = {NULL, "streams", "kv", "blobs", "lost+found"};
    int rc = 0;
    *what = "write again";
    if (lock_state(io, lock_fd) & LOCK_RESETTLE) {
        /* K-6, A FAILED SETTLE: dirty every page the failed syncfs may
         * have left clean. The store's own folders hold files only, but
         * lost+found/ holds a folder per save. */
        rc = lock_rewrite_dir(io, root, 0, "LOCK", bad);
        for (size_t i = 1; i < sizeof(sub) / sizeof(sub[0]) && rc == 0; i++) {
            char dir[PATH_MAX];
            rc = layout_path(root, sub[i], dir);
            if (rc)
                snprintf(bad, PATH_MAX, "%s", root);
            else
                rc = lock_rewrite_dir(io, dir, 2, NULL, bad);
        }
        if (rc)
            return rc;
    }
    /* One syncfs syncs the whole filesystem; one per folder still names
     * the one that failed. lost+found/ (last) is not a store folder. */
    *what = "syncfs";
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]) - 1; i++) {
        rc = sub[i] ? layout_path(root, sub[i], bad) : 0;
        if (rc)
            return rc;
        if (!sub[i])
            snprintf(bad, PATH_MAX, "%s", root);
        rc = io->syncfs(io, bad);
        /* A store being created may not have its directories yet. */
        if (rc == -ENOENT && sub[i])
            continue;
        if (rc) {
            /* A FAILED SETTLE: the next settle must write every file again. */
            (void)lock_write(io, lock_fd, LOCK_RESETTLE_TEXT, 1);
            return rc;
        }
    }
    bad[0] = '\0';
    return 0;
}

int lock_settle(struct sxp_io *io, const char *root, int lock_fd, struct sxp_err *err)
{
    char bad[PATH_MAX];
    const char *what = "";
    int rc = lock_settle_at(io, root, lock_fd, bad, &what);
    if (rc)
        return err_set(err, rc,
                       "%s %s: %s: the last session ran without syncs, and what it wrote "
                       "is not yet durable; the next syncing open writes the store's files "
                       "again first (engine/lock.h K-6)",
                       what, bad, strerror(-rc));
    return 0;
}

int lock_acquire(struct sxp_io *io, const char *root, int *out_fd, int *out_state,
                 struct sxp_err *err)
{
    char path[PATH_MAX];
    int rc = layout_path(root, "LOCK", path);
    if (rc)
        return err_set(err, rc, "store path too long: %s", root);
    int fd = io->open(io, path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -EROFS || fd == -EACCES || fd == -EPERM)
        return err_set(err, fd,
                       "open %s: %s: a writer cannot take the store here; a read-only open "
                       "reads it (sxp --read-only, sxp_options.read_only)",
                       path, strerror(-fd));
    if (fd < 0)
        return err_set(err, fd, "open %s: %s", path, strerror(-fd));
    uint64_t size = 0;
    if ((rc = io->fsize(io, fd, &size)) != 0) {
        (void)io->close(io, fd);
        if (rc == -EUCLEAN) /* io_posix_fsize: a FIFO, a device, a socket */
            return err_set(err, rc, "%s is not a regular file: run sxp-fsck", path);
        return err_set(err, rc, "stat %s: %s", path, strerror(-rc));
    }
    rc = io->lock(io, fd);
    long pid = 0;
    /* K-4: a process killed while it had io_uring set up may hold its lock
     * for a moment after it died (the kernel tears the ring down, and the
     * open files with it, asynchronously), and so may a store closed a
     * moment ago, in this process or another (its LOCK reads "clean").
     * When LOCK names no pid, or one that is gone, wait for the release,
     * up to LOCK_DEAD_WAIT_MS; a live holder named in LOCK (this process
     * too: the store is open here) is refused at once. */
    for (int waited = 0; rc == -EAGAIN && waited < LOCK_DEAD_WAIT_MS; waited += 20) {
        pid = lock_holder_pid(io, root);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        rc = io->lock(io, fd);
    }
    if (rc) {
        (void)io->close(io, fd);
        if (rc == -EAGAIN) {
            pid = lock_holder_pid(io, root);
            if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                return err_set(err, -EAGAIN,
                               "store %s is still locked by pid %ld, which has exited: try again",
                               root, pid);
            if (pid > 0)
                return err_set(err, -EAGAIN, "store %s is locked by another writer (pid %ld)", root,
                               pid);
            return err_set(err, -EAGAIN, "store %s is locked by another writer", root);
        }
        return err_set(err, rc, "lock %s: %s", path, strerror(-rc));
    }
    *out_state = lock_state(io, fd);
    *out_fd = fd;
    return 0;
}
