/*
 * crash_hist.c -- what the workload reports, and the history the verifier
 * reads it into.
 *
 * REPORT WIRE FORMAT (one process, one machine: native byte order). Every
 * report is a header followed by its variable part:
 *
 *   header  u32 magic "SXPR", u32 total bytes (header included), u8 phase
 *           (1 INTENT, 2 DONE), u8 kind, u16 name_len, u32 id, i32 rc,
 *           u32 nev, i64 n, u32 value_len, u32 has_cid
 *   INTENT  name, then nev times (i64 seq, u32 len, len bytes of event
 *           text), then value_len bytes of kv value text, then 59 bytes
 *           of cid when has_cid
 *   DONE    nothing more: id and rc say which op returned what
 *
 * An INTENT is sent before the operation is submitted and a DONE after it
 * returned, each under the reporter's mutex, so reports arrive in an order
 * consistent with real time: when op A's DONE precedes op B's INTENT, A
 * completed before B began. The history numbers reports by arrival (its
 * clock) and the verifier reasons with those numbers. A kill may cut the
 * last report short: the reader leaves a partial report unread, which at
 * worst turns an acknowledged op into one whose answer never came, and the
 * verifier only ever relaxes its demands for those.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"

#define CRASH_MAGIC 0x52505853u /* "SXPR" */
#define CRASH_PHASE_INTENT 1
#define CRASH_PHASE_DONE 2

struct crash_wire {
    uint32_t magic;
    uint32_t total;
    uint8_t phase;
    uint8_t kind;
    uint16_t name_len;
    uint32_t id;
    int32_t rc;
    uint32_t nev;
    int64_t n;
    uint32_t value_len;
    uint32_t has_cid;
};

/* ---- helpers ------------------------------------------------------------ */

uint64_t crash_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t crash_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t crash_mix(uint64_t a, uint64_t b)
{
    uint64_t st = a ^ (b * 0xd1342543de82ef95ull);
    (void)crash_rand(&st);
    return crash_rand(&st);
}

int crash_rmrf(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path) < 0 ? -errno : 0;
    DIR *d = opendir(path);
    if (d == NULL)
        return -errno;
    int rc = 0;
    struct dirent *de;
    char sub[PATH_MAX];
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
            rc = -ENAMETOOLONG;
        else
            rc = crash_rmrf(sub);
    }
    closedir(d);
    if (rc == 0 && rmdir(path) < 0)
        rc = -errno;
    return rc;
}

static int crash_copyfile(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = -errno;
        close(in);
        return e;
    }
    char buf[65536];
    int rc = 0;
    for (;;) {
        ssize_t r = read(in, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? -errno : 0;
            break;
        }
        for (ssize_t done = 0; done < r;) {
            ssize_t w = write(out, buf + done, (size_t)(r - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -errno;
                break;
            }
            done += w;
        }
        if (rc < 0)
            break;
    }
    close(in);
    if (close(out) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int crash_copytree(const char *from, const char *to)
{
    struct stat sb;
    if (lstat(from, &sb) < 0)
        return -errno;
    if (!S_ISDIR(sb.st_mode))
        return crash_copyfile(from, to);
    if (mkdir(to, 0755) < 0 && errno != EEXIST)
        return -errno;
    DIR *d = opendir(from);
    if (d == NULL)
        return -errno;
    int rc = 0;
    struct dirent *de;
    char a[PATH_MAX], b[PATH_MAX];
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((size_t)snprintf(a, sizeof(a), "%s/%s", from, de->d_name) >= sizeof(a) ||
            (size_t)snprintf(b, sizeof(b), "%s/%s", to, de->d_name) >= sizeof(b))
            rc = -ENAMETOOLONG;
        else
            rc = crash_copytree(a, b);
    }
    closedir(d);
    return rc;
}

void crash_params_defaults(struct crash_params *p)
{
    memset(p, 0, sizeof(*p));
    p->mode = CRASH_MODE_KILL;
    p->seed = 1;
    p->runs = 100;
    p->duration_ms = 200;
    p->threads = 4;
    p->nstreams = 8;
    p->nkeys = 8;
    p->fresh_every = 200;
    p->max_points = 0;
    p->only_run = -1;
    p->only_point = -1;
    p->out = stderr;
}

unsigned crash_print_budget(const struct crash_stats *st)
{
    if (st->printed >= CRASH_PRINT_MAX)
        return 0;
    return CRASH_PRINT_MAX - st->printed < 10 ? (unsigned)(CRASH_PRINT_MAX - st->printed) : 10;
}

/* ---- history ------------------------------------------------------------ */

void crash_hist_init(struct crash_hist *h)
{
    memset(h, 0, sizeof(*h));
}

static void crash_op_free(struct crash_op *op)
{
    for (size_t i = 0; i < op->nev; i++)
        free(op->texts[i]);
    free(op->texts);
    free(op->seqs);
    free(op->lens);
    free(op->value);
}

void crash_hist_free(struct crash_hist *h)
{
    for (size_t i = 0; i < h->n; i++)
        crash_op_free(&h->ops[i]);
    free(h->ops);
    memset(h, 0, sizeof(*h));
}

struct crash_op *crash_hist_find(struct crash_hist *h, uint32_t id)
{
    /* Intents arrive in id order, so op id sits at id - 1 unless ids of an
     * earlier reporter were used; then search. */
    if (id >= 1 && id <= h->n && h->ops[id - 1].id == id)
        return &h->ops[id - 1];
    for (size_t i = 0; i < h->n; i++)
        if (h->ops[i].id == id)
            return &h->ops[i];
    return NULL;
}

static int crash_take(const char **p, const char *end, void *out, size_t len)
{
    if ((size_t)(end - *p) < len)
        return -EPROTO;
    memcpy(out, *p, len);
    *p += len;
    return 0;
}

static int crash_hist_add_intent(struct crash_hist *h, const struct crash_wire *w, const char *p,
                                 const char *end)
{
    if (w->kind >= CRASH_KIND_COUNT || w->name_len >= sizeof(((struct crash_op *)0)->name))
        return -EPROTO;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        struct crash_op *ops = realloc(h->ops, cap * sizeof(*ops));
        if (ops == NULL)
            return -ENOMEM;
        h->ops = ops;
        h->cap = cap;
    }
    struct crash_op *op = &h->ops[h->n];
    memset(op, 0, sizeof(*op));
    op->id = w->id;
    op->kind = (enum crash_kind)w->kind;
    op->n = w->n;
    int rc = crash_take(&p, end, op->name, w->name_len);
    op->name_len = w->name_len;
    if (rc == 0 && w->nev > 0) {
        if (w->nev > 1u << 20)
            rc = -EPROTO;
        op->seqs = rc ? NULL : calloc(w->nev, sizeof(*op->seqs));
        op->texts = rc ? NULL : calloc(w->nev, sizeof(*op->texts));
        op->lens = rc ? NULL : calloc(w->nev, sizeof(*op->lens));
        if (rc == 0 && (!op->seqs || !op->texts || !op->lens))
            rc = -ENOMEM;
        for (uint32_t i = 0; rc == 0 && i < w->nev; i++) {
            uint32_t len = 0;
            rc = crash_take(&p, end, &op->seqs[i], sizeof(int64_t));
            if (rc == 0)
                rc = crash_take(&p, end, &len, sizeof(len));
            if (rc == 0 && (size_t)(end - p) < len)
                rc = -EPROTO;
            if (rc == 0) {
                op->texts[i] = malloc((size_t)len + 1);
                if (op->texts[i] == NULL) {
                    rc = -ENOMEM;
                } else {
                    memcpy(op->texts[i], p, len);
                    op->texts[i][len] = '\0';
                    op->lens[i] = len;
                    p += len;
                    op->nev = i + 1;
                }
            }
        }
    }
    if (rc == 0 && w->value_len > 0) {
        if ((size_t)(end - p) < w->value_len) {
            rc = -EPROTO;
        } else {
            op->value = malloc((size_t)w->value_len + 1);
            if (op->value == NULL) {
                rc = -ENOMEM;
            } else {
                memcpy(op->value, p, w->value_len);
                op->value[w->value_len] = '\0';
                op->value_len = w->value_len;
                p += w->value_len;
            }
        }
    }
    if (rc == 0 && w->has_cid)
        rc = crash_take(&p, end, op->cid, SXP_CID_LEN);
    if (rc < 0) {
        crash_op_free(op);
        return rc;
    }
    op->intent_at = ++h->clock;
    h->n++;
    return 0;
}

int crash_hist_ingest(struct crash_hist *h, const void *msg, size_t len)
{
    struct crash_wire w;
    if (len < sizeof(w))
        return -EPROTO;
    memcpy(&w, msg, sizeof(w));
    if (w.magic != CRASH_MAGIC || w.total != len)
        return -EPROTO;
    const char *p = (const char *)msg + sizeof(w), *end = (const char *)msg + len;
    if (w.phase == CRASH_PHASE_INTENT)
        return crash_hist_add_intent(h, &w, p, end);
    if (w.phase != CRASH_PHASE_DONE)
        return -EPROTO;
    struct crash_op *op = crash_hist_find(h, w.id);
    if (op == NULL || op->done_at != 0)
        return -EPROTO;
    op->done_at = ++h->clock;
    op->rc = w.rc;
    if (w.rc == 0)
        h->acked++;
    else
        h->failed++;
    return 0;
}

void crash_hist_cut(struct crash_hist *h)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->ops[i].done_at == 0) {
            h->ops[i].done_at = ++h->clock;
            h->ops[i].rc = CRASH_RC_KILLED;
            h->failed++;
        }
}

void crash_hist_unack(struct crash_hist *h)
{
    h->unpromised = 1;
    for (size_t i = 0; i < h->n; i++) {
        struct crash_op *op = &h->ops[i];
        op->unpromised = 1;
        if (op->done_at != 0 && op->rc == 0) {
            op->rc = CRASH_RC_UNPROMISED;
            h->acked--;
            h->failed++;
        }
    }
}

size_t crash_hist_ingest_stream(struct crash_hist *h, const char *bytes, size_t len)
{
    size_t off = 0;
    while (len - off >= sizeof(struct crash_wire)) {
        struct crash_wire w;
        memcpy(&w, bytes + off, sizeof(w));
        if (w.magic != CRASH_MAGIC || w.total < sizeof(w))
            return len; /* garbage: nothing more can be trusted */
        if (w.total > len - off)
            break;
        (void)crash_hist_ingest(h, bytes + off, w.total);
        off += w.total;
    }
    return off;
}

/* ---- reporter ----------------------------------------------------------- */

void crash_reporter_init(struct crash_reporter *r, int fd, struct crash_hist *hist)
{
    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->hist = hist;
    pthread_mutex_init(&r->mu, NULL);
}

void crash_reporter_destroy(struct crash_reporter *r)
{
    pthread_mutex_destroy(&r->mu);
}

static int crash_write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Sends msg (with its id field patched in) under the mutex. */
static int crash_send(struct crash_reporter *r, struct buf *msg, uint32_t *io_id)
{
    int rc;
    pthread_mutex_lock(&r->mu);
    if (*io_id == 0)
        *io_id = ++r->next_id;
    memcpy(msg->p + offsetof(struct crash_wire, id), io_id, sizeof(*io_id));
    if (r->fd >= 0)
        rc = crash_write_all(r->fd, msg->p, msg->len);
    else
        rc = crash_hist_ingest(r->hist, msg->p, msg->len);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

uint32_t crash_report_intent(struct crash_reporter *r, enum crash_kind kind, const char *name,
                             size_t name_len, int64_t n, size_t nev, const int64_t *seqs,
                             const char *const *texts, const size_t *lens, const char *value,
                             size_t value_len, const char *cid)
{
    struct crash_wire w;
    struct buf msg = BUF_INIT;
    uint32_t id = 0;
    memset(&w, 0, sizeof(w));
    w.magic = CRASH_MAGIC;
    w.phase = CRASH_PHASE_INTENT;
    w.kind = (uint8_t)kind;
    w.name_len = (uint16_t)name_len;
    w.nev = (uint32_t)nev;
    w.n = n;
    w.value_len = (uint32_t)value_len;
    w.has_cid = cid != NULL;
    int rc = buf_add(&msg, &w, sizeof(w));
    if (rc == 0)
        rc = buf_add(&msg, name, name_len);
    for (size_t i = 0; rc == 0 && i < nev; i++) {
        uint32_t len = (uint32_t)lens[i];
        rc = buf_add(&msg, &seqs[i], sizeof(seqs[i]));
        if (rc == 0)
            rc = buf_add(&msg, &len, sizeof(len));
        if (rc == 0)
            rc = buf_add(&msg, texts[i], lens[i]);
    }
    if (rc == 0 && value_len > 0)
        rc = buf_add(&msg, value, value_len);
    if (rc == 0 && cid != NULL)
        rc = buf_add(&msg, cid, SXP_CID_LEN);
    if (rc == 0) {
        uint32_t total = (uint32_t)msg.len;
        memcpy(msg.p + offsetof(struct crash_wire, total), &total, sizeof(total));
        rc = crash_send(r, &msg, &id);
    }
    buf_free(&msg);
    return rc == 0 ? id : 0;
}

int crash_report_done(struct crash_reporter *r, uint32_t id, int rc)
{
    struct crash_wire w;
    struct buf msg = BUF_INIT;
    memset(&w, 0, sizeof(w));
    w.magic = CRASH_MAGIC;
    w.total = sizeof(w);
    w.phase = CRASH_PHASE_DONE;
    w.rc = rc;
    int ret = buf_add(&msg, &w, sizeof(w));
    if (ret == 0)
        ret = crash_send(r, &msg, &id);
    buf_free(&msg);
    return ret;
}
