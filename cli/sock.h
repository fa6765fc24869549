/*
 * sock.h -- `sxp serve --socket`: the store as a local service on a Unix
 * domain socket, and the small client behind `op --socket` and
 * `stat --socket`. The protocol and the server's guarantees are written once,
 * atop serve_socket.c; a connection's rules atop sock_conn.c.
 *
 * Files, one concept each:
 *   serve_socket.c  the server's life: open the store, listen, run the loop,
 *                   drain on SIGTERM, SIGINT or SIGHUP, close the store
 *   sock_listen.c   the socket file: live or stale, mode, group, removal
 *   sock_loop.c     the event loop: epoll over the listener, the signals,
 *                   the pool's completions and every connection
 *   sock_conn.c     one connection: framing its input into requests, its
 *                   queue, its output, backpressure
 *   sock_pool.c     the worker threads that run requests on the store
 *   sock_stat.c     the server's own request, (sxp/stat) (--stdio's too)
 *   sock_log.c      log lines on stderr, by level; error reports
 *   sock_client.c   the client: connect, send one request, read its answer
 *
 * THREADS. The loop thread owns every connection and every counter of
 * struct sock_server; worker threads only see struct sock_job (its line in,
 * its answer out) and the store, whose calls are thread-safe.
 */
#ifndef SXP_CLI_SOCK_H
#define SXP_CLI_SOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "clock.h"

/* ---- defaults and bounds -------------------------------------------------- */

#define SOCK_MAX_LINE_DEFAULT ((size_t)16 << 20) /* --max-line */
#define SOCK_WORKERS_DEFAULT 64u                 /* --workers */
#define SOCK_WORKERS_MAX 1024u
#define SOCK_MAX_CONNS_DEFAULT 1000u /* --max-conns */
#define SOCK_MAX_CONNS_MAX 1000000u
#define SOCK_DRAIN_MS_DEFAULT 10000u
#define SOCK_PATH_MAX                                                                              \
    107 /* bytes of a socket path (sun_path less its NUL) */ /* --drain-timeout, in ms */

/* Descriptors (serve_socket.c FD BUDGET): the store's log-descriptor cache
 * takes half of RLIMIT_NOFILE (SOCK_STORE_FDS_MIN to SOCK_STORE_FDS_MAX,
 * as the engine's own default), SOCK_FD_RESERVE stay free for the rest
 * (stdio, the listener, epoll, signalfd, eventfd, LOCK, the journal,
 * directories, io_uring, and the 64 temp files a close or checkpoint
 * writes at once: SEQFILE_CHUNK of engine/seqfile.h), and connections get
 * what is left: --max-conns is lowered to fit. */
#define SOCK_STORE_FDS_MIN 16u
#define SOCK_STORE_FDS_MAX 4096u
#define SOCK_FD_RESERVE 96u

/* Accepting (sock_loop.c): after accept fails for want of descriptors or
 * memory, the listener rests this long before it is tried again. */
#define SOCK_ACCEPT_RETRY_MS 100

/* Backpressure (sock_conn.c): a connection is not read while it has this
 * many requests waiting, or this many bytes of them, or this many answer
 * bytes unsent; and its next request is not started while its unsent
 * answers reach SOCK_CONN_OUT_HIGH. */
#define SOCK_CONN_QUEUE_MAX 128u
#define SOCK_CONN_QUEUE_BYTES ((size_t)1 << 20)
#define SOCK_CONN_OUT_HIGH ((size_t)1 << 20)
#define SOCK_CONN_READ_CHUNK ((size_t)64 << 10)

/* ---- sock_log.c --------------------------------------------------------- */

enum sock_log_level {
    SOCK_LOG_ERROR = 0,
    SOCK_LOG_WARN = 1,
    SOCK_LOG_INFO = 2,  /* the default: startup, each connection's open and close */
    SOCK_LOG_DEBUG = 3, /* also every request's outcome */
};

/* Parses "error", "warn", "info" or "debug"; 0 or -EINVAL. */
int sock_log_parse(const char *text, enum sock_log_level *out);
void sock_log_set_level(enum sock_log_level level);
int sock_log_enabled(enum sock_log_level level);
/* Writes "TIME sxp[PID] LEVEL: MESSAGE" on stderr when level is enabled. */
void sock_log(enum sock_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes p[0..len) into out (cap bytes, cap > 0) escaped as client text is
 * logged (sock_log.c CLIENT BYTES), NUL-terminated, stopping before an
 * escape that would not fit; returns the length written. */
size_t sock_log_escape(const char *p, size_t len, char *out, size_t cap);
/* Fills err (may be NULL) with code, kind and the message; returns code. */
int sock_err_set(struct sxp_err *err, int code, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- options (parsed by cmd_serve.c) -------------------------------------- */

struct sock_opts {
    const char *path;   /* --socket PATH */
    size_t max_line;    /* --max-line */
    unsigned workers;   /* --workers */
    unsigned max_conns; /* --max-conns */
    unsigned drain_ms;  /* --drain-timeout, in ms */
    int mode;           /* --mode, or -1: 0600, or 0660 with --group */
    int has_group;      /* --group was given */
    gid_t gid;          /* its group */
    uid_t *allow;       /* --allow-uid list, malloc'd; NULL: any uid */
    size_t nallow;
    enum sock_log_level level; /* --log-level */
};

/* serve_socket.c: runs the server until SIGTERM, SIGINT or SIGHUP; returns an exit
 * status of enum cli_exit. */
int sock_serve(struct cli_global *g, const struct sock_opts *o);

/* ---- sock_listen.c ------------------------------------------------------ */

struct sock_listen {
    int fd; /* listening, non-blocking; -1 when closed */
    char path[108];
    dev_t dev; /* device and inode of the socket file this server made, */
    ino_t ino; /* so that it removes only that file (L-4) */
};

/* L-5: 0 when a server may create its socket at path: no live server
 * answers there, no file that is not a socket is in the way (*out_stale = 1
 * when a dead server's socket is), and its directory exists and may be
 * written. Creates nothing. Else -errno and an error naming path. */
int sock_listen_check(const char *path, int *out_stale, struct sxp_err *err);
/* Creates the socket file o->path, listening, with o's mode and group. A
 * socket file no server answers on (connect gives ECONNREFUSED) is replaced;
 * a live one, or a file that is not a socket, is left alone and the call
 * fails. 0 or -errno; the message goes into err. */
int sock_listen_open(const struct sock_opts *o, struct sock_listen *out, struct sxp_err *err);
/* Closes the listening descriptor: new connections are refused
 * (ECONNREFUSED) while the file stays. Accepts a closed one. */
void sock_listen_stop(struct sock_listen *l);
/* sock_listen_stop, then removes the socket file if it is still the one
 * sock_listen_open made (L-4). Accepts NULL. */
void sock_listen_close(struct sock_listen *l);

/* ---- jobs and the pool (sock_pool.c) ---------------------------------------- */

enum sock_job_kind {
    SOCK_JOB_RUN,       /* a request for the store: runs on a worker */
    SOCK_JOB_STAT_ARGS, /* headed by sxp/stat with more after it: runs on a
                           worker too (sock_stat_answer_more), which parses
                           it; the loop never does */
    SOCK_JOB_STAT,      /* (sxp/stat): answered by the loop, in order */
    SOCK_JOB_FIXED,     /* an answer made in advance (the --max-line error) */
};

struct sock_conn;

/* One request of one connection: its line in, its answer out. */
struct sock_job {
    struct sock_job *next;
    struct sock_conn *conn; /* the owner; workers never touch it */
    enum sock_job_kind kind;
    int started;           /* a worker took it (under the pool's mu) */
    int cancelled;         /* its client left first: the worker frees it unrun */
    int close_after;       /* 1: the connection ends after this answer */
    struct cli_answer ans; /* filled by a worker or the loop */
    uint64_t t0_ns;        /* when the line was read (debug log) */
    size_t len;
    char line[]; /* len bytes and a NUL */
};

/* A new job for line[0..len); NULL when out of memory. */
struct sock_job *sock_job_new(struct sock_conn *c, enum sock_job_kind kind, const char *line,
                              size_t len);
void sock_job_free(struct sock_job *j); /* accepts NULL */

struct sock_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* signalled when todo gains a job or stop is set */
    struct sock_job *todo; /* FIFO of jobs to run */
    struct sock_job **todo_tail;
    struct sock_job *done; /* FIFO of jobs answered, for the loop */
    struct sock_job **done_tail;
    int efd; /* eventfd: readable when done is not empty */
    int stop;
    sxp_store *store;
    pthread_t *threads;
    unsigned nthreads;
    unsigned running; /* jobs a worker runs now (under mu) */
};

/* Starts n workers running jobs on s. 0 or -errno. */
int sock_pool_start(struct sock_pool *p, sxp_store *s, unsigned n);
/* Queues j (kind SOCK_JOB_RUN or SOCK_JOB_STAT_ARGS) for a worker. */
void sock_pool_submit(struct sock_pool *p, struct sock_job *j);
/* Withdraws j, submitted and not yet taken by a worker: 1, and j is then
 * the pool's (the worker that takes it frees it unrun, and it never comes
 * back through take_done); 0 when a worker has taken it: its completion
 * comes as usual. */
int sock_pool_cancel(struct sock_pool *p, struct sock_job *j);
/* The jobs workers run now, at most the number of workers. */
unsigned sock_pool_running(struct sock_pool *p);
/* Takes every answered job, in completion order (after the eventfd said so). */
struct sock_job *sock_pool_take_done(struct sock_pool *p);
/* Lets the workers finish the queued jobs, joins them and frees what the
 * loop never took. Accepts a pool that was never started. */
void sock_pool_stop(struct sock_pool *p);

/* ---- the server (sock_loop.c) -------------------------------------------------- */

struct sock_counters {
    uint64_t accepted; /* connections accepted and served */
    uint64_t refused;  /* connections turned away (uid, --max-conns) */
    uint64_t requests; /* requests answered (not those whose client left, C-6) */
    uint64_t errors;   /* of them, (error ...) answers */
};

struct sock_server {
    const struct sock_opts *o;
    sxp_store *store;
    int sync_none; /* the store runs under --sync none */
    struct sock_pool pool;
    struct sock_listen listen;
    int epfd;
    int sigfd;                /* signalfd of SIGTERM, SIGINT and SIGHUP */
    int listen_paused;        /* accept failed: resumes at a close or listen_retry_ns */
    uint64_t listen_retry_ns; /* when a resting listener is tried again */
    int accept_errno;         /* the failure last logged; 0 once an accept worked */
    unsigned max_conns;       /* --max-conns, lowered to the descriptor budget */
    struct sock_conn *conns;  /* every connection, open or waiting for its job */
    unsigned nopen;           /* connections open */
    unsigned inflight;        /* jobs handed to the pool: not back, not cancelled */
    uint64_t next_id;
    int draining; /* a signal came: no accepting, no reading */
    int forced;   /* drain deadline passed or second signal */
    uint64_t drain_deadline_ns;
    uint64_t t0_ns; /* start, for the uptime */
    struct sock_counters n;
};

/* Runs the loop until the drain ends. 0 or -errno (epoll failed). */
int sock_loop_run(struct sock_server *srv);
/* ---- sock_conn.c ------------------------------------------------------------ */

struct sock_conn {
    struct sock_conn *prev, *next; /* srv->conns */
    struct sock_server *srv;
    int fd; /* -1 once closed (then freed when !busy) */
    uint64_t id;
    pid_t pid; /* the peer, from SO_PEERCRED */
    uid_t uid;
    char *in; /* bytes read, not yet made requests */
    size_t in_start, in_len, in_cap;
    size_t scan;             /* in[in_start..scan) holds no LF */
    struct sock_job *q_head; /* requests waiting, in order */
    struct sock_job **q_tail;
    size_t q_count, q_bytes;
    struct sock_job *busy; /* its head request, on the pool; or NULL */
    char *out;             /* answers not yet sent */
    size_t out_off, out_len, out_cap;
    int eof;             /* 1: nothing more will be read */
    uint32_t events;     /* the epoll interest now */
    uint64_t nreq, nerr; /* answered, of them errors */
};

/* Makes a connection of the accepted fd and watches it. NULL when out of
 * memory or epoll refuses (fd is then closed). */
struct sock_conn *sock_conn_new(struct sock_server *srv, int fd, pid_t pid, uid_t uid);
/* Handles epoll events ev of c. */
void sock_conn_on_event(struct sock_conn *c, uint32_t ev);
/* Takes the answered job j of its connection. */
void sock_conn_complete(struct sock_job *j);
/* Stops reading c: what was read is still run and answered (the drain). */
void sock_conn_stop_reading(struct sock_conn *c);
/* Closes c's descriptor now, dropping its waiting requests, and its
 * request on the pool unless a worker has started it: that one completes
 * and is then dropped (C-6). why goes into the log. */
void sock_conn_close(struct sock_conn *c, const char *why);
/* 1 when c is closed and has no request on the pool: it may be freed. */
int sock_conn_reapable(const struct sock_conn *c);
/* Bytes srv's open connections hold now: input read and not yet run (a
 * line being read, whole lines waiting, requests queued) and answers not
 * yet sent; not the room their buffers keep (the loop thread's view;
 * (sxp/stat)'s `buffered`). */
uint64_t sock_conn_buffered(const struct sock_server *srv);
/* The room srv's open connections' buffers keep now, input and answers
 * ((sxp/stat)'s `room`; C-2 bounds it). */
uint64_t sock_conn_room(const struct sock_server *srv);
void sock_conn_free(struct sock_conn *c); /* accepts NULL */

/* ---- sock_stat.c ------------------------------------------------------------ */

/* What sock_stat_scan sees in a line, by looking at its head only. */
enum sock_stat_form {
    SOCK_STAT_NOT,  /* not headed by the symbol sxp/stat: the store's */
    SOCK_STAT_BARE, /* exactly (sxp/stat), whitespace as SX allows it */
    SOCK_STAT_MORE, /* headed by sxp/stat, more after it: arguments, or
                       malformed; sock_stat_is decides */
};

/* The cheap look the event loop takes at every line: it reads the
 * whitespace and the head, and for BARE the whitespace after the ')';
 * never more, never a parse (sock_stat.c says why). */
enum sock_stat_form sock_stat_scan(const char *line, size_t len);
/* 1 when the line is the server's own request: a list headed by the symbol
 * sxp/stat, whitespace allowed as SX allows it; *out_nargs gets the number
 * of arguments after the head (0 unless it returns 1). With any, the answer
 * is sock_stat_answer_arity's, never the store's "unknown operation".
 * Parses the line when the head is sxp/stat: not for the loop thread. */
int sock_stat_is(const char *line, size_t len, size_t *out_nargs);
/* On a worker, the answer of a SOCK_STAT_MORE line: the arity error when
 * it is (sxp/stat ARG...), else the store's answer (cli_answer_run): a
 * parse error, say. */
void sock_stat_answer_more(sxp_store *s, const char *line, size_t len, struct cli_answer *out);
/* The answer of (sxp/stat) given nargs arguments: (error "arity" ...). */
void sock_stat_answer_arity(size_t nargs, struct cli_answer *out);
/* The answer of (sxp/stat): (ok {:connections N ...}). */
void sock_stat_answer(struct sock_server *srv, struct cli_answer *out);
/* The answer of (sxp/stat) on `serve --stdio`: the same dict without the
 * socket figures, for store s (sync_none: it runs under --sync none), served
 * since t0_ns, having answered n->requests requests (n->errors errors). */
void sock_stat_answer_stdio(sxp_store *s, int sync_none, uint64_t t0_ns,
                            const struct sock_counters *n, struct cli_answer *out);

/* ---- sock_client.c ------------------------------------------------------ */

/* The answer to one request, taken apart. */
struct sock_reply {
    int ok;      /* 1: (ok VALUE); 0: (error "KIND" "MESSAGE") */
    char *value; /* ok: VALUE's text, malloc'd and NUL-terminated */
    size_t value_len;
    char kind[64]; /* error: KIND */
    char msg[512]; /* error: MESSAGE */
};

/* Connects to the server at path, sends the request text[0..len) as one
 * line and reads its answer into *out (free with sock_reply_free). A text
 * holding LF is sent as the canonical text of its value (one line). 0 or
 * -errno when no answer came; err says why (kind "io" or "parse"). */
int sock_client_request(const char *path, const char *text, size_t len, struct sock_reply *out,
                        struct sxp_err *err);
void sock_reply_free(struct sock_reply *r); /* accepts NULL */

#endif
