/*
 * sock_conn.c -- one connection of `serve --socket`: its bytes in become
 * requests, its requests become answers, its answers go out in order.
 *
 * STATE. Bytes read wait in `in` until an LF makes them a line; each line
 * that is not blank becomes a job on the connection's queue; the head job
 * runs (on the pool, or in the loop for (sxp/stat) and prepared answers:
 * the loop looks at a line only through cheap scans, never parses it);
 * its answer is appended to `out`, which is sent as the socket accepts it.
 *
 * RULES.
 *   C-1  At most one request of a connection runs at a time, and answers
 *        are appended in request order: answers come back in order however
 *        many requests a client pipelines.
 *   C-2  Backpressure, not unbounded buffering: the connection is not read
 *        while it has SOCK_CONN_QUEUE_MAX requests waiting, or
 *        SOCK_CONN_QUEUE_BYTES bytes of them, or SOCK_CONN_OUT_HIGH answer
 *        bytes unsent, or while `in` still holds a whole line not yet made
 *        a request (the queue had no room for it); and its next request is
 *        not started while its unsent answers reach SOCK_CONN_OUT_HIGH. So
 *        `in` holds either one line being read (up to max-line + 1 bytes,
 *        C-3) or at most one read (SOCK_CONN_READ_CHUNK) of lines waiting
 *        for room in the queue, never a pipelining client's input read
 *        ahead up to max-line. A client that stops reading its
 *        answers thus stops itself (its sends block) and nobody else: the
 *        loop never blocks on a socket. Memory per connection stays below
 *        max-line + READ_CHUNK + QUEUE_BYTES + OUT_HIGH + one answer (the
 *        input buffer grows by doubling but never past max-line + 1), and
 *        a long line's room is given back once it is read (SOCK_CONN_IN_HIGH,
 *        as a big answer's is once sent): a thousand idle connections that
 *        each once sent a 16 MiB line do not keep 16 GiB.
 *   C-3  A line longer than --max-line is never held whole: once max-line
 *        + 1 bytes hold no LF, the requests before it are still answered,
 *        then (error "limit" ...), then the connection is closed. Other
 *        connections are not affected.
 *   C-4  Only a whole line (ending in LF) is a request. Bytes after the last
 *        LF when the client ends its input or disconnects are dropped: a
 *        client killed mid-line changes nothing.
 *   C-5  A client that shuts down only its sending side (read returns 0)
 *        still gets every answer; the connection closes after the last.
 *   C-6  When the client disconnects (EPOLLHUP, EPOLLERR, a failed send),
 *        its waiting requests are dropped unrun, and so is one handed to
 *        the pool that no worker has started (sock_pool.c CANCELLING): work
 *        for clients that left never piles up. A request already running
 *        completes (and is durable if it succeeded) and its answer is
 *        dropped: it is not counted as answered ((sxp/stat) `requests`).
 *        Until then the struct stays, closed, on srv->conns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

#define SOCK_CONN_IN_MIN ((size_t)16 << 10)
/* Bytes of a request the debug log shows, escaped (sock_log.c). */
#define SOCK_CONN_LOG_TEXT 200
/* Input room kept after the lines in it are taken out (C-2). */
#define SOCK_CONN_IN_HIGH ((size_t)256 << 10)

struct sock_conn *sock_conn_new(struct sock_server *srv, int fd, pid_t pid, uid_t uid)
{
    struct sock_conn *c = calloc(1, sizeof(*c));
    struct epoll_event ev;

    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->srv = srv;
    c->fd = fd;
    c->id = ++srv->next_id;
    c->pid = pid;
    c->uid = uid;
    c->q_tail = &c->q_head;
    c->events = EPOLLIN;
    memset(&ev, 0, sizeof(ev));
    ev.events = c->events;
    ev.data.ptr = c;
    if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        sock_log(SOCK_LOG_ERROR, "epoll_ctl add: %s", strerror(errno));
        close(fd);
        free(c);
        return NULL;
    }
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nopen++;
    srv->n.accepted++;
    sock_log(SOCK_LOG_INFO, "conn %llu open: pid %ld uid %ld (%u open)", (unsigned long long)c->id,
             (long)pid, (long)uid, srv->nopen);
    return c;
}

static size_t sock_conn_unsent(const struct sock_conn *c)
{
    return c->out_len - c->out_off;
}

static void sock_conn_push(struct sock_conn *c, struct sock_job *j)
{
    *c->q_tail = j;
    c->q_tail = &j->next;
    c->q_count++;
    c->q_bytes += j->len;
}

static struct sock_job *sock_conn_pop(struct sock_conn *c)
{
    struct sock_job *j = c->q_head;

    c->q_head = j->next;
    if (c->q_head == NULL)
        c->q_tail = &c->q_head;
    c->q_count--;
    c->q_bytes -= j->len;
    j->next = NULL;
    return j;
}

static void sock_conn_drop_queue(struct sock_conn *c)
{
    while (c->q_head != NULL)
        sock_job_free(sock_conn_pop(c));
}

/* C-3: the line being read is too long. Queues the limit answer, which
 * closes the connection once sent, and reads nothing more. */
static void sock_conn_overlong(struct sock_conn *c)
{
    struct sock_job *j = sock_job_new(c, SOCK_JOB_FIXED, "", 0);
    char msg[128];

    sock_log(SOCK_LOG_WARN, "conn %llu: request line longer than %zu bytes (--max-line); closing",
             (unsigned long long)c->id, c->srv->o->max_line);
    c->eof = 1;
    c->in_start = c->in_len = c->scan = 0;
    if (j == NULL) {
        sock_conn_close(c, "out of memory");
        return;
    }
    snprintf(msg, sizeof(msg), "request line longer than %zu bytes (--max-line)",
             c->srv->o->max_line);
    cli_answer_error("limit", msg, &j->ans);
    j->close_after = 1;
    sock_conn_push(c, j);
}

/* Gives back the room of a long line once it is read (C-2): `in` keeps
 * what it still holds in the smallest power of two that fits, or nothing.
 * A failed shrink keeps the old buffer, which is still good. */
static void sock_conn_shrink_in(struct sock_conn *c)
{
    size_t cap = SOCK_CONN_IN_MIN;
    char *nb;

    if (c->in_len == 0) {
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
        return;
    }
    while (cap < c->in_len)
        cap *= 2;
    nb = realloc(c->in, cap);
    if (nb != NULL) {
        c->in = nb;
        c->in_cap = cap;
    }
}

/* Turns the whole lines of `in` into jobs while the queue has room (C-2). */
static void sock_conn_extract(struct sock_conn *c)
{
    while (c->q_count < SOCK_CONN_QUEUE_MAX && c->q_bytes < SOCK_CONN_QUEUE_BYTES) {
        /* in is NULL before the first read and after sock_conn_close,
         * which sock_conn_pump may follow with this call: no pointer is
         * made from it before a line end was found in it. */
        char *lf = c->in_len > c->scan ? memchr(c->in + c->scan, '\n', c->in_len - c->scan) : NULL;
        char *line;
        size_t len;
        struct sock_job *j;

        if (lf == NULL) {
            c->scan = c->in_len;
            if (!c->eof && c->in_len - c->in_start > c->srv->o->max_line) {
                sock_conn_overlong(c);
                return;
            }
            break;
        }
        line = c->in + c->in_start;
        len = (size_t)(lf - line);
        c->in_start = c->scan = (size_t)(lf - c->in) + 1;
        if (cli_answer_blank(line, len))
            continue;
        enum sock_stat_form form = sock_stat_scan(line, len);
        j = sock_job_new(c,
                         form == SOCK_STAT_BARE   ? SOCK_JOB_STAT
                         : form == SOCK_STAT_MORE ? SOCK_JOB_STAT_ARGS
                                                  : SOCK_JOB_RUN,
                         line, len);
        if (j == NULL) {
            sock_conn_close(c, "out of memory");
            return;
        }
        j->t0_ns = clock_now_ns();
        sock_conn_push(c, j);
    }
    if (c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
        c->in_len -= c->in_start;
        c->scan -= c->in_start;
        c->in_start = 0;
    }
    if (c->in_cap > SOCK_CONN_IN_HIGH && c->in_len <= SOCK_CONN_IN_HIGH / 2)
        sock_conn_shrink_in(c);
}

/* Appends an answer to `out`. */
static int sock_conn_put(struct sock_conn *c, const struct cli_answer *a)
{
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_cap - c->out_len < a->len) {
        size_t cap = c->out_cap != 0 ? c->out_cap : 4096;
        char *nb;

        if (c->out_off > 0) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        while (cap - c->out_len < a->len)
            cap *= 2;
        if (cap != c->out_cap) {
            nb = realloc(c->out, cap);
            if (nb == NULL)
                return -ENOMEM;
            c->out = nb;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, a->text, a->len);
    c->out_len += a->len;
    return 0;
}

/* Records the answer of j in order and frees j. */
static void sock_conn_answer(struct sock_conn *c, struct sock_job *j)
{
    struct sock_server *srv = c->srv;

    srv->n.requests++;
    c->nreq++;
    if (j->ans.failed) {
        srv->n.errors++;
        c->nerr++;
    }
    if (sock_log_enabled(SOCK_LOG_DEBUG) && j->len > 0) { /* the --max-line answer has none */
        char text[SOCK_CONN_LOG_TEXT * 4 + 1];            /* every byte may take 4 */

        sock_log_escape(j->line, j->len > SOCK_CONN_LOG_TEXT ? SOCK_CONN_LOG_TEXT : j->len, text,
                        sizeof(text));
        sock_log(SOCK_LOG_DEBUG, "conn %llu: %s -> %s%s (%llu us)", (unsigned long long)c->id, text,
                 j->ans.failed ? "error " : "ok", j->ans.failed ? j->ans.kind : "",
                 (unsigned long long)((clock_now_ns() - j->t0_ns) / 1000));
    }
    if (sock_conn_put(c, &j->ans) != 0) {
        sock_job_free(j);
        sock_conn_close(c, "out of memory");
        return;
    }
    if (j->close_after) {
        c->eof = 1;
        sock_conn_drop_queue(c);
    }
    sock_job_free(j);
}

/* Starts queued requests in order while C-1 and C-2 allow. */
static void sock_conn_pump(struct sock_conn *c)
{
    for (;;) {
        struct sock_job *j;

        sock_conn_extract(c);
        if (c->fd < 0 || c->busy || c->q_head == NULL || sock_conn_unsent(c) >= SOCK_CONN_OUT_HIGH)
            return;
        j = sock_conn_pop(c);
        switch (j->kind) {
        case SOCK_JOB_RUN:
        case SOCK_JOB_STAT_ARGS:
            c->busy = j;
            c->srv->inflight++;
            sock_pool_submit(&c->srv->pool, j);
            return;
        case SOCK_JOB_STAT:
            sock_stat_answer(c->srv, &j->ans);
            sock_conn_answer(c, j);
            break;
        case SOCK_JOB_FIXED:
            sock_conn_answer(c, j);
            break;
        }
        if (c->fd < 0)
            return;
    }
}

/* Sends what the socket takes now. */
static void sock_conn_flush(struct sock_conn *c)
{
    while (c->fd >= 0 && c->out_off < c->out_len) {
        ssize_t n =
            send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        sock_conn_close(c,
                        errno == EPIPE || errno == ECONNRESET ? "client went away" : "send failed");
        return;
    }
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        if (c->out_cap > SOCK_CONN_OUT_HIGH) { /* after a big answer */
            free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
    }
}

/* C-2 (and C-3: never more than max-line + 1 bytes of one line). Called
 * after sock_conn_extract, which leaves scan == in_len exactly when `in`
 * holds no whole line: only then is more read. */
static int sock_conn_may_read(const struct sock_conn *c)
{
    return !c->eof && c->q_count < SOCK_CONN_QUEUE_MAX && c->q_bytes < SOCK_CONN_QUEUE_BYTES &&
           sock_conn_unsent(c) < SOCK_CONN_OUT_HIGH && c->scan == c->in_len &&
           c->in_len <= c->srv->o->max_line;
}

/* Reads once (the epoll interest is level-triggered, so more comes with
 * the next event). */
static void sock_conn_read(struct sock_conn *c)
{
    size_t room = c->srv->o->max_line + 1 - c->in_len; /* C-3: in_len <= max_line here */
    ssize_t n;

    if (room > SOCK_CONN_READ_CHUNK)
        room = SOCK_CONN_READ_CHUNK;
    if (c->in_cap - c->in_len < room) {
        size_t cap = c->in_cap != 0 ? c->in_cap : SOCK_CONN_IN_MIN;
        char *nb;

        while (cap < c->in_len + room)
            cap *= 2;
        /* A line of max-line bytes takes max-line + 1 of room, not the
         * next power of two (C-2): in_len + room never exceeds it. */
        if (cap > c->srv->o->max_line + 1)
            cap = c->srv->o->max_line + 1;
        nb = realloc(c->in, cap);
        if (nb == NULL) {
            sock_conn_close(c, "out of memory");
            return;
        }
        c->in = nb;
        c->in_cap = cap;
    }
    n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
    if (n > 0) {
        c->in_len += (size_t)n;
    } else if (n == 0) {
        c->eof = 1; /* C-5; C-4 drops a partial last line */
        sock_log(SOCK_LOG_DEBUG, "conn %llu: the client ended its input",
                 (unsigned long long)c->id);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        sock_conn_close(c, errno == ECONNRESET ? "client went away" : "recv failed");
    }
}

/* The epoll interest C-2 allows now. */
static void sock_conn_watch(struct sock_conn *c)
{
    uint32_t want = 0;
    struct epoll_event ev;

    if (sock_conn_may_read(c))
        want |= EPOLLIN;
    if (sock_conn_unsent(c) > 0)
        want |= EPOLLOUT;
    if (want == c->events)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.events = want;
    ev.data.ptr = c;
    if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
        sock_log(SOCK_LOG_ERROR, "conn %llu: epoll_ctl: %s", (unsigned long long)c->id,
                 strerror(errno));
        sock_conn_close(c, "epoll failed");
        return;
    }
    c->events = want;
}

/* Moves c as far as it can go now, then sets its epoll interest. */
static void sock_conn_step(struct sock_conn *c)
{
    if (c->fd < 0)
        return;
    sock_conn_flush(c);
    if (c->fd >= 0)
        sock_conn_pump(c);
    if (c->fd >= 0)
        sock_conn_flush(c);
    if (c->fd < 0)
        return;
    if (c->eof && !c->busy && c->q_head == NULL && sock_conn_unsent(c) == 0) {
        /* Whole lines still in `in` were made jobs by the pump, so none is
         * left: the client ended, or the server stopped reading. */
        sock_conn_close(c, c->srv->draining ? "server draining" : "client finished");
        return;
    }
    sock_conn_watch(c);
}

void sock_conn_on_event(struct sock_conn *c, uint32_t ev)
{
    if (c->fd < 0)
        return;
    if (ev & EPOLLERR) {
        sock_conn_close(c, "socket error");
        return;
    }
    if (ev & EPOLLHUP) {
        sock_conn_close(c, "client closed the connection");
        return;
    }
    if ((ev & EPOLLIN) && sock_conn_may_read(c))
        sock_conn_read(c);
    sock_conn_step(c);
}

void sock_conn_complete(struct sock_job *j)
{
    struct sock_conn *c = j->conn;

    c->busy = NULL;
    c->srv->inflight--;
    if (c->fd < 0) {
        /* C-6: the client left while it ran: not answered, not counted. */
        sock_job_free(j);
        return;
    }
    sock_conn_answer(c, j);
    sock_conn_step(c);
}

void sock_conn_stop_reading(struct sock_conn *c)
{
    if (c->fd < 0)
        return;
    c->eof = 1;
    sock_conn_step(c);
}

void sock_conn_close(struct sock_conn *c, const char *why)
{
    struct sock_server *srv = c->srv;

    if (c->fd < 0)
        return;
    if (epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL) != 0)
        sock_log(SOCK_LOG_WARN, "conn %llu: epoll_ctl del: %s", (unsigned long long)c->id,
                 strerror(errno));
    close(c->fd);
    c->fd = -1;
    sock_conn_drop_queue(c);
    if (c->busy != NULL && sock_pool_cancel(&srv->pool, c->busy)) {
        c->busy = NULL; /* the pool's now: freed unrun */
        srv->inflight--;
    }
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
    c->in_start = c->in_len = c->in_cap = c->scan = 0;
    c->out_off = c->out_len = c->out_cap = 0;
    srv->nopen--;
    sock_log(SOCK_LOG_INFO, "conn %llu closed: %s; %llu requests, %llu errors%s (%u open)",
             (unsigned long long)c->id, why, (unsigned long long)c->nreq,
             (unsigned long long)c->nerr, c->busy ? "; one still running" : "", srv->nopen);
}

int sock_conn_reapable(const struct sock_conn *c)
{
    return c->fd < 0 && !c->busy;
}

uint64_t sock_conn_buffered(const struct sock_server *srv)
{
    uint64_t n = 0;

    /* Bytes held, not the room kept for them: an idle connection holds 0. */
    for (const struct sock_conn *c = srv->conns; c != NULL; c = c->next)
        n += (c->in_len - c->in_start) + c->q_bytes + sock_conn_unsent(c);
    return n;
}

uint64_t sock_conn_room(const struct sock_server *srv)
{
    uint64_t n = 0;

    for (const struct sock_conn *c = srv->conns; c != NULL; c = c->next)
        n += c->in_cap + c->out_cap;
    return n;
}

void sock_conn_free(struct sock_conn *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        sock_conn_close(c, "freed");
    sock_conn_drop_queue(c);
    free(c->in);
    free(c->out);
    free(c);
}
