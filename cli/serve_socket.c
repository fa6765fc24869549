/*
 * serve_socket.c -- `sxp serve --socket PATH`: the store as a local service.
 *
 * PROTOCOL (SPEC.md section 6), per connection, the same as `serve --stdio`
 * (answer.c writes both):
 *   request  one SX text "(OP ARG...)" per line, ending in LF; a line of
 *            only spaces, TABs or CRs gets no answer
 *   answer   one line per request, in request order: (ok VALUE) or
 *            (error "CODE" "MESSAGE"); after an error the connection goes on
 *   pipeline a client may send many requests before reading any answer
 *   limit    a line over --max-line bytes is answered (error "limit" ...)
 *            after the answers of the lines before it, and the connection
 *            is closed; other connections are not affected (sock_conn.c C-3)
 *   server   (sxp/stat) is answered by the server itself (sock_stat.c)
 *   refusal  a peer uid outside --allow-uid gets (error "denied" ...), a
 *            connection beyond --max-conns (error "limit" ...); then close
 * Differences from --stdio: a last line without LF is not a request
 * (sock_conn.c C-4), and a request is only run while its client is
 * connected (C-6).
 *
 * FD BUDGET. Every connection holds a descriptor, and so does every log
 * in the store's descriptor cache. The server raises RLIMIT_NOFILE to the
 * hard limit, gives the store half of it (SOCK_STORE_FDS_MIN to
 * SOCK_STORE_FDS_MAX, as the engine would), keeps SOCK_FD_RESERVE free,
 * and lowers --max-conns to what is left, saying so in one warning line.
 * So connections can never take the descriptors the store needs (its
 * appends would fail with EMFILE for everyone), and a client beyond the
 * budget gets (error "limit" ...) at once instead of waiting unaccepted.
 *
 * DURABILITY. An (ok ...) answer is sent only after sxp_store_request
 * returned, so every acknowledged request is as durable as the store's
 * sync mode makes it, whatever happens to the server afterwards. Requests
 * from all connections run on --workers threads at once, so concurrent
 * appends share fdatasyncs (engine/commit.c).
 *
 * LIFE.
 *   1. Block SIGTERM, SIGINT and SIGHUP (every thread inherits the mask)
 *      and take them through a signalfd: each drains (sock_loop.c DRAIN).
 *      SIGHUP, which comes when the terminal or session that started the
 *      server goes away, would otherwise kill it with the store's LOCK
 *      dirty and the socket file left. A SIGHUP ignored when the server
 *      starts (nohup) stays ignored: it is not taken.
 *   2. Check PATH (sock_listen.c L-5): a live server there, a file that is
 *      not a socket, or a directory that is missing or not writable fails
 *      here, before the store (or its directory) is created.
 *   3. Open the store (a held LOCK fails here, before any socket exists),
 *      then create the socket file (sock_listen.c: mode 0600, stale or
 *      live).
 *   4. Start the workers, run the loop (sock_loop.c) until the drain ends.
 *   5. Stop the workers (every request they took is finished), close the
 *      store cleanly (so the next open needs no recovery: LOCK reads
 *      "clean"), then remove the socket file: once it is gone the store is
 *      free. Exit 0 when all of that worked.
 *
 * Example:
 *   $ sxp --dir /var/lib/app serve --socket /run/app/sxp.sock &
 *   $ sxp op --socket /run/app/sxp.sock '(persist/append "a" {:seq 1})'
 *   nil
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "sock.h"

/* Connections each hold a descriptor: take every descriptor the hard limit
 * allows, so --max-conns rather than the soft limit decides. */
static void sock_serve_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            sock_log(SOCK_LOG_DEBUG, "setrlimit NOFILE: %s", strerror(errno));
    }
}

/* FD BUDGET: sets the store's share of descriptors in *so (unless set
 * already) and returns the connections the rest allows: o->max_conns, or
 * fewer (at least 1, so that the server can be reached at all). */
static unsigned sock_serve_fd_budget(const struct sock_opts *o, struct sxp_options *so)
{
    struct rlimit rl;
    uint64_t limit, store, left;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return o->max_conns; /* the engine then takes its own default */
    limit = rl.rlim_cur;
    if (so->max_open_files == 0) {
        store = limit / 2;
        store = store < SOCK_STORE_FDS_MIN   ? SOCK_STORE_FDS_MIN
                : store > SOCK_STORE_FDS_MAX ? SOCK_STORE_FDS_MAX
                                             : store;
        so->max_open_files = (unsigned)store;
    }
    store = so->max_open_files;
    left = limit > store + SOCK_FD_RESERVE ? limit - store - SOCK_FD_RESERVE : 0;
    if (left >= o->max_conns)
        return o->max_conns;
    left = left > 0 ? left : 1;
    sock_log(SOCK_LOG_WARN,
             "--max-conns %u lowered to %llu: RLIMIT_NOFILE %llu less %llu for the store's "
             "logs and %u in reserve",
             o->max_conns, (unsigned long long)left, (unsigned long long)limit,
             (unsigned long long)store, SOCK_FD_RESERVE);
    return (unsigned)left;
}

int sock_serve(struct cli_global *g, const struct sock_opts *o)
{
    struct sock_server srv;
    struct sxp_err err;
    sigset_t mask, old_mask;
    int status = CLI_EXIT_FAIL, rc, pool_started = 0, stale;

    memset(&srv, 0, sizeof(srv));
    memset(&err, 0, sizeof(err));
    srv.o = o;
    srv.epfd = srv.sigfd = srv.listen.fd = -1;
    srv.sync_none = g->opts.sync == SXP_SYNC_NONE;
    srv.t0_ns = clock_now_ns();
    sock_log_set_level(o->level);
    sock_serve_raise_nofile();
    srv.max_conns = sock_serve_fd_budget(o, &g->opts);

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (!cli_signal_ignored(SIGHUP))
        sigaddset(&mask, SIGHUP);
    if ((rc = pthread_sigmask(SIG_BLOCK, &mask, &old_mask)) != 0)
        return cli_fail("io", "pthread_sigmask: %s", strerror(rc));
    srv.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (srv.sigfd < 0) {
        cli_fail("io", "signalfd: %s", strerror(errno));
        goto out_mask;
    }
    if (sock_listen_check(o->path, &stale, &err) != 0) {
        cli_report(&err);
        goto out_sigfd;
    }
    if (cli_store_open(g, 0, &srv.store) != 0)
        goto out_sigfd;
    if (sock_listen_open(o, &srv.listen, &err) != 0) {
        cli_report(&err);
        goto out_store;
    }
    srv.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (srv.epfd < 0) {
        cli_fail("io", "epoll_create1: %s", strerror(errno));
        goto out_listen;
    }
    pool_started = 1;
    if ((rc = sock_pool_start(&srv.pool, srv.store, o->workers)) != 0) {
        cli_fail("io", "starting %u workers: %s", o->workers, strerror(-rc));
        goto out_pool;
    }
    sock_log(SOCK_LOG_INFO, "serving %s on %s (%u workers, max-line %zu, max-conns %u)",
             sxp_store_dir(srv.store), o->path, o->workers, o->max_line, srv.max_conns);
    rc = sock_loop_run(&srv);
    status = rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    if (rc != 0)
        cli_fail("io", "event loop: %s", strerror(-rc));

out_pool:
    /* After a failed loop connections may remain: close them, let the
     * workers finish what they hold, then free everything. */
    for (struct sock_conn *c = srv.conns; c != NULL; c = c->next)
        sock_conn_close(c, "server stopping");
    if (pool_started)
        sock_pool_stop(&srv.pool);
    while (srv.conns != NULL) {
        struct sock_conn *next = srv.conns->next;

        sock_conn_free(srv.conns);
        srv.conns = next;
    }
    close(srv.epfd);
out_listen:
    sock_listen_stop(&srv.listen);
out_store:
    if (srv.store != NULL) {
        struct sxp_stats st;

        sxp_store_stats(srv.store, &st);
        if (cli_store_close(srv.store) != 0) {
            status = CLI_EXIT_FAIL;
        } else {
            sock_log(SOCK_LOG_INFO,
                     "store closed cleanly: %llu requests (%llu errors), %llu appends, "
                     "%llu batches, %llu fsyncs",
                     (unsigned long long)srv.n.requests, (unsigned long long)srv.n.errors,
                     (unsigned long long)st.appends, (unsigned long long)st.batches,
                     (unsigned long long)st.fdatasyncs);
        }
    }
    sock_listen_close(&srv.listen); /* L-4: after the store */
out_sigfd:
    close(srv.sigfd);
out_mask:
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    return status;
}
