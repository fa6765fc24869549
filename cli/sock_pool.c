/*
 * sock_pool.c -- the worker threads of `serve --socket`.
 *
 * Each request runs on a worker through sxp_store_request, which for a
 * write returns only once the write is durable. So a worker is busy for
 * about one fdatasync per write, and with many workers many writes wait at
 * once: the engine's group commit (engine/commit.c) then serves all of them
 * with one fdatasync per log. --workers bounds how many requests run at
 * once; the loop never gives a worker two requests of one connection at a
 * time (sock_conn.c, C-1).
 *
 * WORKERS are threads named "sxp-worker" (ps -L, top -H; test_socket.c
 * finds one so to hold it).
 *
 * HAND-OFF. The loop appends a job to `todo` and signals `cv`; a worker
 * takes the oldest, runs it with no lock held, appends it to `done` and
 * writes the eventfd when `done` was empty. The loop, woken by the eventfd,
 * reads it first and then takes the whole of `done`, so a job appended
 * after that read finds `done` empty and writes the eventfd again: no
 * completion is ever left unseen.
 *
 * CANCELLING. A job whose client left before a worker took it is not run
 * (sock_conn.c C-6): the loop marks it cancelled under mu, and from then
 * on it belongs to the pool; the worker that takes it frees it unrun. So
 * work for departed clients does not pile up ahead of live ones, and
 * `running` counts only jobs on workers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sock.h"

struct sock_job *sock_job_new(struct sock_conn *c, enum sock_job_kind kind, const char *line,
                              size_t len)
{
    struct sock_job *j = malloc(sizeof(*j) + len + 1);

    if (j == NULL)
        return NULL;
    memset(j, 0, sizeof(*j));
    j->conn = c;
    j->kind = kind;
    j->len = len;
    if (len > 0)
        memcpy(j->line, line, len);
    j->line[len] = '\0';
    return j;
}

void sock_job_free(struct sock_job *j)
{
    if (j == NULL)
        return;
    cli_answer_free(&j->ans);
    free(j);
}

static void *sock_pool_main(void *arg)
{
    struct sock_pool *p = arg;
    uint64_t one = 1;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct sock_job *j;
        int was_empty;

        while (p->todo == NULL && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->todo == NULL)
            break; /* stop, and nothing left to run */
        j = p->todo;
        p->todo = j->next;
        if (p->todo == NULL)
            p->todo_tail = &p->todo;
        j->next = NULL;
        if (j->cancelled) {
            pthread_mutex_unlock(&p->mu);
            sock_job_free(j);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        j->started = 1;
        p->running++;
        pthread_mutex_unlock(&p->mu);

        if (j->kind == SOCK_JOB_STAT_ARGS)
            sock_stat_answer_more(p->store, j->line, j->len, &j->ans);
        else
            cli_answer_run(p->store, j->line, j->len, &j->ans);

        pthread_mutex_lock(&p->mu);
        p->running--;
        was_empty = p->done == NULL;
        *p->done_tail = j;
        p->done_tail = &j->next;
        /* The eventfd counter cannot overflow here (one write per empty
         * list), so the write only fails if the loop is gone. */
        if (was_empty && write(p->efd, &one, sizeof(one)) < 0)
            sock_log(SOCK_LOG_ERROR, "worker: eventfd write: %s", strerror(errno));
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int sock_pool_start(struct sock_pool *p, sxp_store *s, unsigned n)
{
    int rc;

    memset(p, 0, sizeof(*p));
    p->todo_tail = &p->todo;
    p->done_tail = &p->done;
    p->store = s;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->efd < 0)
        return -errno;
    p->threads = calloc(n, sizeof(*p->threads));
    if (p->threads == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        rc = pthread_create(&p->threads[i], NULL, sock_pool_main, p);
        if (rc != 0)
            return -rc;
        (void)pthread_setname_np(p->threads[i], "sxp-worker"); /* WORKERS */
        p->nthreads++;
    }
    return 0;
}

void sock_pool_submit(struct sock_pool *p, struct sock_job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    *p->todo_tail = j;
    p->todo_tail = &j->next;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int sock_pool_cancel(struct sock_pool *p, struct sock_job *j)
{
    int cancelled;

    pthread_mutex_lock(&p->mu);
    cancelled = !j->started;
    if (cancelled) {
        j->cancelled = 1;
        j->conn = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    return cancelled;
}

unsigned sock_pool_running(struct sock_pool *p)
{
    unsigned n;

    pthread_mutex_lock(&p->mu);
    n = p->running;
    pthread_mutex_unlock(&p->mu);
    return n;
}

struct sock_job *sock_pool_take_done(struct sock_pool *p)
{
    struct sock_job *list;
    uint64_t v;

    /* Read first (module comment): a job done after this read writes the
     * eventfd again. EAGAIN only means there was nothing to reset. */
    if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        sock_log(SOCK_LOG_ERROR, "eventfd read: %s", strerror(errno));
    pthread_mutex_lock(&p->mu);
    list = p->done;
    p->done = NULL;
    p->done_tail = &p->done;
    pthread_mutex_unlock(&p->mu);
    return list;
}

void sock_pool_stop(struct sock_pool *p)
{
    struct sock_job *j;

    if (p->todo_tail == NULL)
        return; /* never started */
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* Workers run (or, when cancelled, free) every queued job before they
     * exit, and the loop has taken every answer before it stops the pool;
     * this frees leftovers. */
    while ((j = p->todo) != NULL) {
        p->todo = j->next;
        sock_job_free(j);
    }
    while ((j = p->done) != NULL) {
        p->done = j->next;
        sock_job_free(j);
    }
    free(p->threads);
    p->threads = NULL;
    p->nthreads = 0;
    if (p->efd >= 0)
        close(p->efd);
    p->efd = -1;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    p->todo_tail = NULL;
}
