/*
 * sock_listen.c -- the socket file of `serve --socket`.
 *
 * RULES.
 *   L-1  Only AF_UNIX SOCK_STREAM; there is no TCP listener.
 *   L-2  The socket is created mode 0600 (the umask is 0177 around bind),
 *        so only the owner can connect. --mode widens it (--group alone
 *        means 0660) and --group sets its group. It is bound under a
 *        temporary name beside PATH ("PATH.PID.tmp"), given its mode and
 *        group, set listening, and only then renamed to PATH: a file at
 *        PATH made by this server always accepts, with the mode asked, so a
 *        client (or a test) may wait for the file to appear. When the
 *        temporary name would not fit a socket address (107 bytes), the
 *        socket is bound at PATH directly; it then exists, refusing, for the
 *        instant before listen().
 *   L-3  An existing file at PATH is probed: a socket on which connect()
 *        gives ECONNREFUSED belongs to a dead server and is replaced (by the
 *        rename, atomically); a socket that accepts (or whose backlog is
 *        full) belongs to a live server and is left alone, and so is any
 *        file that is not a socket: the server then exits 1 naming PATH.
 *   L-4  The file is removed last, after the store is closed, so a script
 *        that waits for it to vanish may open the store at once. It is
 *        removed only if it is still the one this server made (same device
 *        and inode), so a server never removes its successor's socket.
 *   L-5  PATH is checked before the store is opened (sock_listen_check):
 *        L-3, then its directory must exist and be writable. A bad PATH
 *        or a live server on it fails with nothing created, not even the
 *        store's directory. Every message names PATH, never the temporary
 *        name.
 * Two servers started at the same instant on one PATH can both find it
 * free; each then serves its own store, but only the last renamed is
 * reachable. (One store cannot have two servers: its LOCK refuses.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"

static void sock_listen_addr(const char *path, struct sockaddr_un *addr)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, path, strlen(path) + 1);
}

/* L-3. 0 when PATH is free: absent, or a stale socket (*out_stale = 1);
 * else an error naming it. */
static int sock_listen_probe(const char *path, int *out_stale, struct sxp_err *err)
{
    struct sockaddr_un addr;
    struct stat st;
    int fd, rc;

    *out_stale = 0;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        rc = -errno;
        return sock_err_set(err, rc, "io", "cannot create the socket %s: %s", path, strerror(-rc));
    }
    if (!S_ISSOCK(st.st_mode))
        return sock_err_set(err, -EEXIST, "io", "%s exists and is not a socket; not replacing it",
                            path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        rc = -errno;
        return sock_err_set(err, rc, "io", "socket: %s", strerror(-rc));
    }
    sock_listen_addr(path, &addr);
    rc = connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : -errno;
    close(fd);
    if (rc == 0 || rc == -EAGAIN || rc == -EINPROGRESS)
        return sock_err_set(err, -EADDRINUSE, "io",
                            "%s: another server is listening there; not replacing it", path);
    if (rc != -ECONNREFUSED)
        return sock_err_set(err, rc, "io", "%s: probing the existing socket: %s", path,
                            strerror(-rc));
    *out_stale = 1;
    return 0;
}

/* L-5: the directory that is to hold PATH exists, is a directory and may
 * be written. */
static int sock_listen_check_dir(const char *path, struct sxp_err *err)
{
    char dir[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
    const char *slash = strrchr(path, '/');
    struct stat st;
    int rc;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0)
        rc = -errno;
    else if (!S_ISDIR(st.st_mode))
        rc = -ENOTDIR;
    else if (access(dir, W_OK | X_OK) != 0)
        rc = -errno;
    else
        return 0;
    return sock_err_set(err, rc, "io", "cannot create the socket %s: %s: %s", path, dir,
                        strerror(-rc));
}

int sock_listen_check(const char *path, int *out_stale, struct sxp_err *err)
{
    size_t plen = strlen(path);
    int rc;

    *out_stale = 0;
    if (plen == 0 || plen > SOCK_PATH_MAX)
        return sock_err_set(err, -ENAMETOOLONG, "arg", "socket path must be 1 to %d bytes: %s",
                            SOCK_PATH_MAX, path);
    if ((rc = sock_listen_probe(path, out_stale, err)) != 0)
        return rc;
    return sock_listen_check_dir(path, err);
}

int sock_listen_open(const struct sock_opts *o, struct sock_listen *out, struct sxp_err *err)
{
    struct sockaddr_un addr;
    struct stat st;
    char tmp[sizeof(addr.sun_path) + 32];
    size_t plen = strlen(o->path);
    const char *bound;
    mode_t old_mask, mode;
    int fd = -1, rc, stale = 0, direct;

    out->fd = -1;
    out->path[0] = '\0';
    /* Checked again (sock_serve checked before opening the store), and
     * probed again before the rename, since a server may have started
     * meanwhile. */
    if ((rc = sock_listen_check(o->path, &stale, err)) != 0)
        return rc;
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", o->path, (long)getpid());
    direct = strlen(tmp) >= sizeof(addr.sun_path);
    bound = direct ? o->path : tmp;
    if (direct && stale && unlink(o->path) != 0 && errno != ENOENT) {
        rc = -errno;
        return sock_err_set(err, rc, "io", "%s: removing the stale socket: %s", o->path,
                            strerror(-rc));
    }
    if (!direct)
        unlink(tmp); /* a leftover of an earlier server with our pid */

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        rc = -errno;
        return sock_err_set(err, rc, "io", "socket: %s", strerror(-rc));
    }
    sock_listen_addr(bound, &addr);
    old_mask = umask(0177);
    rc = bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : -errno;
    umask(old_mask);
    if (rc != 0) {
        sock_err_set(err, rc, "io", "cannot create the socket %s: bind: %s", o->path,
                     strerror(-rc));
        goto fail_fd;
    }
    if (stat(bound, &st) != 0) {
        rc = -errno;
        sock_err_set(err, rc, "io", "cannot create the socket %s: stat: %s", o->path,
                     strerror(-rc));
        goto fail_file;
    }
    if (o->has_group && chown(bound, (uid_t)-1, o->gid) != 0) {
        rc = -errno;
        sock_err_set(err, rc, "io", "cannot give the socket %s to group %ld: %s", o->path,
                     (long)o->gid, strerror(-rc));
        goto fail_file;
    }
    mode = o->mode >= 0 ? (mode_t)o->mode : o->has_group ? 0660 : 0600;
    if (chmod(bound, mode) != 0) {
        rc = -errno;
        sock_err_set(err, rc, "io", "cannot set the mode of the socket %s: %s", o->path,
                     strerror(-rc));
        goto fail_file;
    }
    if (listen(fd, SOMAXCONN) != 0) {
        rc = -errno;
        sock_err_set(err, rc, "io", "cannot listen on the socket %s: %s", o->path, strerror(-rc));
        goto fail_file;
    }
    if (!direct) {
        if ((rc = sock_listen_probe(o->path, &stale, err)) != 0)
            goto fail_file;
        if (rename(tmp, o->path) != 0) {
            rc = -errno;
            sock_err_set(err, rc, "io", "cannot create the socket %s: rename: %s", o->path,
                         strerror(-rc));
            goto fail_file;
        }
    }
    if (stale)
        sock_log(SOCK_LOG_INFO, "replaced the stale socket %s (no server answered on it)", o->path);
    memcpy(out->path, o->path, plen + 1);
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    out->fd = fd;
    return 0;

fail_file:
    unlink(bound);
fail_fd:
    close(fd);
    return rc;
}

void sock_listen_stop(struct sock_listen *l)
{
    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
}

void sock_listen_close(struct sock_listen *l)
{
    struct stat st;

    if (l == NULL)
        return;
    sock_listen_stop(l);
    if (l->path[0] != '\0' && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
        st.st_ino == l->ino)
        unlink(l->path);
    l->path[0] = '\0';
}
