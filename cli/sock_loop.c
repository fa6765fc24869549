/*
 * sock_loop.c -- the event loop of `serve --socket`: one thread, one epoll
 * set (level-triggered) holding the listener, a signalfd for SIGTERM,
 * SIGINT and SIGHUP, the pool's eventfd and every connection.
 *
 * An iteration handles each ready descriptor and then frees the connections
 * that are closed and have no request running (a connection is never freed
 * while a later event of the same batch may still name it).
 *
 * ACCEPTING. Each new connection's peer is read with SO_PEERCRED. A uid
 * outside --allow-uid gets (error "denied" ...), one beyond --max-conns
 * (as lowered to the descriptor budget, serve_socket.c) gets (error
 * "limit" ...); either is then closed. When accept fails for want of
 * descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the listener
 * rests, rather than spinning while it stays ready, and is tried again
 * after SOCK_ACCEPT_RETRY_MS or at the next close, whichever comes first:
 * never only at a close, since with no connection open none would come and
 * every new client would wait forever. The failure is logged once, until
 * an accept works again.
 *
 * DRAIN. The first SIGTERM, SIGINT or SIGHUP closes the listener (new clients get
 * ECONNREFUSED; the file goes once the store is closed), and stops reading every
 * connection: each request whose whole line the server has read, running
 * or waiting, is still run and answered, then the connection is closed.
 * When every connection is closed the loop returns. --drain-timeout bounds
 * the whole drain, so that a stop takes a known time: the connections
 * still open when it ends, whether or not their clients still read, are
 * closed at once, as they are at a second signal (C-6: requests not started
 * are dropped, requests already running still complete). The caller then
 * stops the pool and closes the store.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

#define SOCK_LOOP_EVENTS 256
#define SOCK_LOOP_ACCEPTS 64 /* accepts per wake-up, so connections cannot starve requests */

/* epoll_data.ptr of the descriptors that are not connections. */
static char sock_loop_tag_listen, sock_loop_tag_signal, sock_loop_tag_pool;

static int sock_loop_add(struct sock_server *srv, int fd, void *tag)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = tag;
    return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

/* Answers one line and closes a connection the server will not serve. */
static void sock_loop_refuse(struct sock_server *srv, int fd, const char *kind, const char *msg)
{
    struct cli_answer a;

    cli_answer_error(kind, msg, &a);
    /* Best effort: the socket is new, so its buffer has room for a line. */
    if (send(fd, a.text, a.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        sock_log(SOCK_LOG_DEBUG, "refused connection: send: %s", strerror(errno));
    cli_answer_free(&a);
    close(fd);
    srv->n.refused++;
}

static int sock_loop_allowed(const struct sock_opts *o, uid_t uid)
{
    if (o->allow == NULL)
        return 1;
    for (size_t i = 0; i < o->nallow; i++) {
        if (o->allow[i] == uid)
            return 1;
    }
    return 0;
}

static void sock_loop_pause_listen(struct sock_server *srv, int pause)
{
    struct epoll_event ev;

    if (srv->listen.fd < 0 || srv->listen_paused == pause)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.events = pause ? 0 : EPOLLIN;
    ev.data.ptr = &sock_loop_tag_listen;
    if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, srv->listen.fd, &ev) != 0) {
        sock_log(SOCK_LOG_ERROR, "epoll_ctl listener: %s", strerror(errno));
        return;
    }
    srv->listen_paused = pause;
}

/* Accepting failed with errno e: the listener rests (module comment). */
static void sock_loop_accept_failed(struct sock_server *srv, int e)
{
    if (srv->accept_errno != e)
        sock_log(SOCK_LOG_WARN,
                 "accept: %s; accepting again in %d ms or when a connection closes "
                 "(logged once until it works)",
                 strerror(e), SOCK_ACCEPT_RETRY_MS);
    srv->accept_errno = e;
    srv->listen_retry_ns = clock_now_ns() + (uint64_t)SOCK_ACCEPT_RETRY_MS * 1000000u;
    sock_loop_pause_listen(srv, 1);
}

static void sock_loop_accept(struct sock_server *srv)
{
    for (int k = 0; k < SOCK_LOOP_ACCEPTS && srv->listen.fd >= 0; k++) {
        struct ucred cred;
        socklen_t clen = sizeof(cred);
        char msg[160];
        int fd = accept4(srv->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                sock_loop_accept_failed(srv, errno);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                sock_log(SOCK_LOG_ERROR, "accept: %s", strerror(errno));
            }
            return;
        }
        if (srv->accept_errno != 0) {
            sock_log(SOCK_LOG_INFO, "accepting again");
            srv->accept_errno = 0;
        }
        memset(&cred, 0, sizeof(cred));
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
            sock_log(SOCK_LOG_WARN, "SO_PEERCRED: %s; connection closed", strerror(errno));
            close(fd);
            srv->n.refused++;
            continue;
        }
        if (!sock_loop_allowed(srv->o, cred.uid)) {
            sock_log(SOCK_LOG_WARN, "refused pid %ld uid %ld: uid not in --allow-uid",
                     (long)cred.pid, (long)cred.uid);
            snprintf(msg, sizeof(msg), "uid %ld may not use this server (--allow-uid)",
                     (long)cred.uid);
            sock_loop_refuse(srv, fd, "denied", msg);
            continue;
        }
        if (srv->nopen >= srv->max_conns) {
            sock_log(SOCK_LOG_WARN, "refused pid %ld uid %ld: %u connections open (--max-conns)",
                     (long)cred.pid, (long)cred.uid, srv->nopen);
            snprintf(msg, sizeof(msg), "too many connections: %u open (--max-conns)", srv->nopen);
            sock_loop_refuse(srv, fd, "limit", msg);
            continue;
        }
        sock_conn_new(srv, fd, cred.pid, cred.uid);
    }
}

static void sock_loop_force(struct sock_server *srv, const char *why)
{
    srv->forced = 1;
    for (struct sock_conn *c = srv->conns; c != NULL; c = c->next)
        sock_conn_close(c, why);
}

static void sock_loop_drain(struct sock_server *srv, const char *why)
{
    if (srv->draining) {
        sock_log(SOCK_LOG_WARN, "%s again: closing every connection now", why);
        sock_loop_force(srv, "second signal");
        return;
    }
    srv->draining = 1;
    srv->drain_deadline_ns = clock_now_ns() + (uint64_t)srv->o->drain_ms * 1000000u;
    sock_log(SOCK_LOG_INFO,
             "%s: draining: %u connections open, %u requests running; no new connections", why,
             srv->nopen, sock_pool_running(&srv->pool));
    if (srv->listen.fd >= 0 && epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->listen.fd, NULL) != 0)
        sock_log(SOCK_LOG_WARN, "epoll_ctl del listener: %s", strerror(errno));
    sock_listen_stop(&srv->listen);
    for (struct sock_conn *c = srv->conns; c != NULL; c = c->next)
        sock_conn_stop_reading(c);
}

static void sock_loop_signal(struct sock_server *srv)
{
    struct signalfd_siginfo si;

    while (read(srv->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        sock_loop_drain(srv, si.ssi_signo == SIGINT   ? "SIGINT"
                             : si.ssi_signo == SIGHUP ? "SIGHUP"
                                                      : "SIGTERM");
}

static void sock_loop_completions(struct sock_server *srv)
{
    struct sock_job *j = sock_pool_take_done(&srv->pool);

    while (j != NULL) {
        struct sock_job *next = j->next;

        j->next = NULL;
        sock_conn_complete(j);
        j = next;
    }
}

/* Frees the closed connections with nothing running. */
static void sock_loop_reap(struct sock_server *srv)
{
    struct sock_conn *c = srv->conns;
    int freed = 0;

    while (c != NULL) {
        struct sock_conn *next = c->next;

        if (sock_conn_reapable(c)) {
            if (c->prev != NULL)
                c->prev->next = c->next;
            else
                srv->conns = c->next;
            if (c->next != NULL)
                c->next->prev = c->prev;
            sock_conn_free(c);
            freed = 1;
        }
        c = next;
    }
    if (freed && srv->listen_paused)
        sock_loop_pause_listen(srv, 0);
}

/* epoll_wait's timeout until deadline_ns: 0 once it has passed. */
static int sock_loop_ms_until(uint64_t deadline_ns)
{
    uint64_t now = clock_now_ns();

    return now >= deadline_ns ? 0 : (int)((deadline_ns - now + 999999u) / 1000000u);
}

int sock_loop_run(struct sock_server *srv)
{
    struct epoll_event *evs = calloc(SOCK_LOOP_EVENTS, sizeof(*evs));
    int rc = 0;

    if (evs == NULL)
        return -ENOMEM;
    if ((rc = sock_loop_add(srv, srv->listen.fd, &sock_loop_tag_listen)) != 0 ||
        (rc = sock_loop_add(srv, srv->sigfd, &sock_loop_tag_signal)) != 0 ||
        (rc = sock_loop_add(srv, srv->pool.efd, &sock_loop_tag_pool)) != 0)
        goto out;
    while (!srv->draining || srv->conns != NULL) {
        int timeout = -1, n;

        if (srv->draining && !srv->forced)
            timeout = sock_loop_ms_until(srv->drain_deadline_ns);
        else if (srv->listen_paused)
            timeout = sock_loop_ms_until(srv->listen_retry_ns);
        n = epoll_wait(srv->epfd, evs, SOCK_LOOP_EVENTS, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            sock_log(SOCK_LOG_ERROR, "epoll_wait: %s", strerror(errno));
            goto out;
        }
        if (srv->draining && !srv->forced && clock_now_ns() >= srv->drain_deadline_ns) {
            sock_log(SOCK_LOG_WARN,
                     "drain: %u connections still open when --drain-timeout (%u ms) ended; "
                     "closing them",
                     srv->nopen, srv->o->drain_ms);
            sock_loop_force(srv, "drain timeout");
        }
        if (srv->listen_paused && !srv->draining && clock_now_ns() >= srv->listen_retry_ns)
            sock_loop_pause_listen(srv, 0);
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;

            if (tag == &sock_loop_tag_listen)
                sock_loop_accept(srv);
            else if (tag == &sock_loop_tag_signal)
                sock_loop_signal(srv);
            else if (tag == &sock_loop_tag_pool)
                sock_loop_completions(srv);
            else
                sock_conn_on_event(tag, evs[i].events);
        }
        sock_loop_reap(srv);
    }
out:
    free(evs);
    return rc;
}
