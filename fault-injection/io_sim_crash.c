/*
 * io_sim_crash.c -- power loss on the simulated disk, a failed directory
 * fsync, file fdatasync or syncfs, and export, digest and clone of the
 * disk. The outcomes are those
 * of the model at the top of io_sim.c; every choice comes from one
 * generator seeded by the caller, and nodes are visited in creation order,
 * so a seed and a call sequence give the same disk every time.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "io_sim_int.h"

/* What a power loss keeps of one file's pending ops. */
enum sim_outcome {
    SIM_OUT_LOST,
    SIM_OUT_TORN,
    SIM_OUT_SECTORS,
    SIM_OUT_KEPT,
};

static const char *const sim_mode_names[IO_SIM_MODE_COUNT] = {
    "lose-all", "keep-all", "torn", "sectors", "random",
};

const char *io_sim_mode_name(enum io_sim_mode m)
{
    if ((unsigned)m >= IO_SIM_MODE_COUNT)
        return "?";
    return sim_mode_names[m];
}

/* splitmix64: small, and good enough to pick outcomes. */
static uint64_t sim_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t sim_below(uint64_t *state, uint64_t n)
{
    return n == 0 ? 0 : sim_rand(state) % n;
}

/* SECTORS: each sector piece of each write is kept or lost on its own. A
 * lost piece past the end reads as NUL. */
static int sim_apply_sectors(struct sim_bytes *b, const struct sim_op *op, uint64_t *rng)
{
    if (op->trunc || op->ghost)
        return sim_op_apply(b, op, op->len);
    uint64_t pos = op->off, end = op->off + op->len;
    while (pos < end) {
        uint64_t stop = (pos / IO_SIM_SECTOR + 1) * IO_SIM_SECTOR;
        if (stop > end)
            stop = end;
        int rc;
        if (sim_rand(rng) & 1)
            rc = sim_bytes_write(b, pos, op->data + (pos - op->off), (size_t)(stop - pos));
        else
            rc = stop > b->len ? sim_bytes_resize(b, stop) : 0;
        if (rc < 0)
            return rc;
        pos = stop;
    }
    return 0;
}

static int sim_crash_file(struct sim_node *n, enum sim_outcome out, uint64_t *rng)
{
    int rc = 0;
    switch (out) {
    case SIM_OUT_LOST:
        break;
    case SIM_OUT_KEPT:
        rc = sim_node_settle(n);
        break;
    case SIM_OUT_TORN: {
        size_t k = (size_t)sim_below(rng, n->npend + 1);
        for (size_t i = 0; rc == 0 && i < k; i++)
            rc = sim_op_apply(&n->durable, &n->pend[i], n->pend[i].len);
        if (rc == 0 && k < n->npend) {
            const struct sim_op *op = &n->pend[k];
            if (op->trunc) {
                if (sim_rand(rng) & 1)
                    rc = sim_op_apply(&n->durable, op, 0);
            } else {
                rc = sim_op_apply(&n->durable, op, (size_t)sim_below(rng, op->len));
            }
        }
        break;
    }
    case SIM_OUT_SECTORS:
        for (size_t i = 0; rc == 0 && i < n->npend; i++)
            rc = sim_apply_sectors(&n->durable, &n->pend[i], rng);
        break;
    }
    sim_node_clear_pending(n);
    return rc;
}

static void sim_mark(struct sim_node *n)
{
    if (n->reachable)
        return;
    n->reachable = 1;
    if (n->is_dir)
        for (size_t i = 0; i < n->dur.n; i++)
            sim_mark(n->dur.e[i].node);
}

/* Frees the nodes no durable name reaches. */
static void sim_sweep(struct io_sim *s)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->nnodes; i++)
        s->nodes[i]->reachable = 0;
    sim_mark(s->root);
    for (size_t i = 0; i < s->nnodes; i++) {
        if (s->nodes[i]->reachable)
            s->nodes[keep++] = s->nodes[i];
        else
            sim_node_free(s->nodes[i]);
    }
    s->nnodes = keep;
}

void sim_crash_locked(struct io_sim *s, uint64_t seed, enum io_sim_mode mode)
{
    uint64_t rng = seed ^ 0x5358505f43524153ull; /* "SXP_CRAS" */
    int rc = 0;

    for (size_t i = 0; i < s->nnodes; i++) {
        struct sim_node *n = s->nodes[i];
        if (n->is_dir || n->npend == 0)
            continue;
        enum sim_outcome out;
        switch (mode) {
        case IO_SIM_LOSE_ALL:
            out = SIM_OUT_LOST;
            break;
        case IO_SIM_KEEP_ALL:
            out = SIM_OUT_KEPT;
            break;
        case IO_SIM_TORN:
            out = SIM_OUT_TORN;
            break;
        case IO_SIM_SECTORS:
            out = SIM_OUT_SECTORS;
            break;
        default:
            out = (enum sim_outcome)sim_below(&rng, 4);
            break;
        }
        if (rc == 0)
            rc = sim_crash_file(n, out, &rng);
    }

    /* Directory ops: each on its own, or (sometimes, in random mode) a
     * prefix, as a journal would keep them. */
    size_t prefix = s->ndops;
    int independent = 0;
    if (mode == IO_SIM_LOSE_ALL)
        prefix = 0;
    else if (mode == IO_SIM_RANDOM && (sim_rand(&rng) & 1))
        prefix = (size_t)sim_below(&rng, s->ndops + 1);
    else if (mode != IO_SIM_KEEP_ALL)
        independent = 1;
    for (size_t i = 0; i < s->ndops; i++) {
        int survives = independent ? (int)(sim_rand(&rng) & 1) : i < prefix;
        if (survives && rc == 0)
            rc = sim_dop_apply_durable(&s->dops[i]);
        sim_dop_free(&s->dops[i]);
    }
    s->ndops = 0;

    /* The disk after the boot: what was durable is all there is. */
    for (size_t i = 0; i < s->nnodes; i++) {
        struct sim_node *n = s->nodes[i];
        n->lock_fd = -1;
        if (rc < 0)
            break;
        if (n->is_dir) {
            rc = sim_map_copy(&n->cur, &n->dur);
        } else {
            rc = sim_bytes_set(&n->cache, &n->durable);
            sim_node_clear_dropped(n);
        }
    }
    if (rc < 0) {
        /* Out of memory in a test backend: nothing sensible to go on with. */
        fprintf(stderr, "io_sim: out of memory during a simulated crash\n");
        abort();
    }
    memset(s->fds, 0, sizeof(s->fds));
    sim_sweep(s);
    s->gen++;
    s->off = 1;
}

static const char *const sim_syncfail_names[IO_SIM_SYNCFAIL_COUNT] = {
    "keep",
    "drop",
    "partial",
    "random",
};

const char *io_sim_syncfail_name(enum io_sim_syncfail f)
{
    if ((unsigned)f >= IO_SIM_SYNCFAIL_COUNT)
        return "?";
    return sim_syncfail_names[f];
}

int sim_dir_fail_locked(struct io_sim *s, struct sim_node *dir, enum io_sim_syncfail how,
                        uint64_t seed)
{
    uint64_t rng = seed ^ 0x5358505f44495246ull; /* "SXP_DIRF" */
    size_t keep = 0;
    int rc = 0;
    if (how == IO_SIM_SYNCFAIL_RANDOM)
        how = (enum io_sim_syncfail)sim_below(&rng, IO_SIM_SYNCFAIL_RANDOM);
    if (how == IO_SIM_SYNCFAIL_KEEP)
        return (int)how;
    for (size_t i = 0; i < s->ndops; i++) {
        struct sim_dop *d = &s->dops[i];
        if (d->dir != dir) {
            s->dops[keep++] = *d;
            continue;
        }
        if (how == IO_SIM_SYNCFAIL_PARTIAL && (sim_rand(&rng) & 1) && rc == 0)
            rc = sim_dop_apply_durable(d);
        sim_dop_free(d);
    }
    s->ndops = keep;
    return rc < 0 ? rc : (int)how;
}

/* PARTIAL, one write: each page piece reaches the disk, or only the size
 * it gives the file does and its page is dropped. */
static int sim_file_fail_partial(struct sim_node *n, const struct sim_op *op, uint64_t *rng)
{
    uint64_t pos = op->off, end = op->off + op->len;
    int rc = 0;
    while (rc == 0 && pos < end) {
        uint64_t stop = (pos / IO_SIM_PAGE + 1) * IO_SIM_PAGE;
        if (stop > end)
            stop = end;
        if (sim_rand(rng) & 1) {
            rc =
                sim_bytes_write(&n->durable, pos, op->data + (pos - op->off), (size_t)(stop - pos));
        } else {
            rc = stop > n->durable.len ? sim_bytes_resize(&n->durable, stop) : 0;
            if (rc == 0)
                rc = sim_node_drop_pages(n, pos, stop - pos);
        }
        pos = stop;
    }
    return rc;
}

int sim_file_fail_locked(struct sim_node *n, enum io_sim_syncfail how, uint64_t seed)
{
    uint64_t rng = seed ^ 0x5358505f46494c46ull; /* "SXP_FILF" */
    int rc = 0;
    if (how == IO_SIM_SYNCFAIL_RANDOM)
        how = (enum io_sim_syncfail)sim_below(&rng, IO_SIM_SYNCFAIL_RANDOM);
    if (how == IO_SIM_SYNCFAIL_KEEP)
        return (int)how;
    for (size_t i = 0; rc == 0 && i < n->npend; i++) {
        struct sim_op *op = &n->pend[i];
        if (how == IO_SIM_SYNCFAIL_PARTIAL) {
            /* In order, truncates and sizes included: the disk holds what
             * the writeback did before the error. */
            if (op->trunc || op->ghost)
                rc = sim_op_apply(&n->durable, op, op->len);
            else
                rc = sim_file_fail_partial(n, op, &rng);
        } else if (!op->trunc && !op->ghost) {
            /* DROP: the bytes are forgotten; the size they give the file
             * stays pending, as the truncates do. */
            rc = sim_node_drop_pages(n, op->off, op->len);
            if (rc == 0) {
                free(op->data);
                op->data = NULL;
                op->ghost = 1;
            }
        }
    }
    if (rc == 0 && how == IO_SIM_SYNCFAIL_PARTIAL)
        sim_node_clear_pending(n);
    return rc < 0 ? rc : (int)how;
}

int sim_fs_fail_locked(struct io_sim *s, enum io_sim_syncfail how, uint64_t seed)
{
    uint64_t rng = seed ^ 0x5358505f46535946ull; /* "SXP_FSYF" */
    int rc = 0;
    if (how == IO_SIM_SYNCFAIL_RANDOM)
        how = (enum io_sim_syncfail)sim_below(&rng, IO_SIM_SYNCFAIL_RANDOM);
    /* One outcome for the whole filesystem; PARTIAL's pages by file. */
    for (size_t i = 0; rc >= 0 && i < s->nnodes; i++) {
        uint64_t fseed = sim_rand(&rng);
        if (!s->nodes[i]->is_dir && s->nodes[i]->npend > 0)
            rc = sim_file_fail_locked(s->nodes[i], how, fseed);
    }
    return rc < 0 ? rc : (int)how;
}

void sim_sync_all_locked(struct io_sim *s)
{
    int rc = 0;
    for (size_t i = 0; i < s->ndops; i++) {
        if (rc == 0)
            rc = sim_dop_apply_durable(&s->dops[i]);
        sim_dop_free(&s->dops[i]);
    }
    s->ndops = 0;
    for (size_t i = 0; rc == 0 && i < s->nnodes; i++) {
        struct sim_node *n = s->nodes[i];
        if (!n->is_dir)
            rc = sim_node_settle(n);
    }
    if (rc < 0) {
        fprintf(stderr, "io_sim: out of memory during sync_all\n");
        abort();
    }
}

/* ---- export ------------------------------------------------------------- */

static int sim_export_file(const struct sim_node *n, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0)
        return -errno;
    size_t done = 0;
    while (done < n->cache.len) {
        ssize_t w = write(fd, n->cache.p + done, n->cache.len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

static int sim_export_dir(const struct sim_node *dir, const char *real)
{
    char path[PATH_MAX];
    int rc = 0;
    if (mkdir(real, 0755) < 0 && errno != EEXIST)
        return -errno;
    for (size_t i = 0; rc == 0 && i < dir->cur.n; i++) {
        const struct sim_dirent *e = &dir->cur.e[i];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", real, e->name) >= sizeof(path))
            return -ENAMETOOLONG;
        rc = e->node->is_dir ? sim_export_dir(e->node, path) : sim_export_file(e->node, path);
    }
    return rc;
}

int io_sim_export(struct sxp_io *io, const char *sim_dir, const char *real_dir)
{
    struct io_sim *s = (struct io_sim *)io;
    int rc;
    pthread_mutex_lock(&s->mu);
    struct sim_node *n = sim_lookup(s, sim_dir);
    if (n == NULL)
        rc = -ENOENT;
    else if (!n->is_dir)
        rc = -ENOTDIR;
    else
        rc = sim_export_dir(n, real_dir);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- digest ------------------------------------------------------------- */

static void sim_digest_map(XXH3_state_t *x, const struct sim_dirmap *m)
{
    uint64_t n = m->n;
    XXH3_64bits_update(x, &n, sizeof(n));
    for (size_t i = 0; i < m->n; i++) {
        uint64_t idx = m->e[i].node->idx;
        XXH3_64bits_update(x, m->e[i].name, strlen(m->e[i].name) + 1);
        XXH3_64bits_update(x, &idx, sizeof(idx));
    }
}

static void sim_digest_bytes(XXH3_state_t *x, const struct sim_bytes *b)
{
    uint64_t n = b->len;
    XXH3_64bits_update(x, &n, sizeof(n));
    if (b->len > 0)
        XXH3_64bits_update(x, b->p, b->len);
}

uint64_t io_sim_digest(struct sxp_io *io)
{
    struct io_sim *s = (struct io_sim *)io;
    XXH3_state_t *x = XXH3_createState();
    if (x == NULL) {
        fprintf(stderr, "io_sim: out of memory in a digest\n");
        abort();
    }
    XXH3_64bits_reset(x);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nnodes; i++)
        s->nodes[i]->idx = i;
    uint64_t hdr[3] = {s->nnodes, s->ndops, s->root->idx};
    XXH3_64bits_update(x, hdr, sizeof(hdr));
    for (size_t i = 0; i < s->nnodes; i++) {
        const struct sim_node *n = s->nodes[i];
        uint64_t head[3] = {(uint64_t)n->is_dir, n->npend, n->ndropped};
        XXH3_64bits_update(x, head, sizeof(head));
        for (size_t p = 0; n->ndropped > 0 && p < n->capdropped; p++)
            if (n->dropped[p]) {
                uint64_t page = p;
                XXH3_64bits_update(x, &page, sizeof(page));
            }
        sim_digest_map(x, &n->cur);
        sim_digest_map(x, &n->dur);
        sim_digest_bytes(x, &n->cache);
        sim_digest_bytes(x, &n->durable);
        for (size_t k = 0; k < n->npend; k++) {
            const struct sim_op *op = &n->pend[k];
            uint64_t o[4] = {(uint64_t)op->trunc, (uint64_t)op->ghost, op->off, op->len};
            XXH3_64bits_update(x, o, sizeof(o));
            if (op->data != NULL)
                XXH3_64bits_update(x, op->data, op->len);
        }
    }
    for (size_t i = 0; i < s->ndops; i++) {
        const struct sim_dop *d = &s->dops[i];
        uint64_t o[5] = {(uint64_t)d->kind, d->dir->idx, d->node->idx,
                         d->from_dir ? d->from_dir->idx + 1 : 0, d->node2 ? d->node2->idx + 1 : 0};
        XXH3_64bits_update(x, o, sizeof(o));
        XXH3_64bits_update(x, d->name, strlen(d->name) + 1);
        if (d->from_name != NULL)
            XXH3_64bits_update(x, d->from_name, strlen(d->from_name) + 1);
    }
    pthread_mutex_unlock(&s->mu);
    uint64_t h = XXH3_64bits_digest(x);
    XXH3_freeState(x);
    return h;
}

/* ---- clone -------------------------------------------------------------- */

static int sim_clone_map(struct sim_dirmap *to, const struct sim_dirmap *from,
                         struct sim_node **nodes)
{
    for (size_t i = 0; i < from->n; i++) {
        int rc = sim_map_set(to, from->e[i].name, nodes[from->e[i].node->idx]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int sim_clone_node(const struct sim_node *n, struct sim_node *c)
{
    int rc = sim_bytes_set(&c->durable, &n->durable);
    if (rc == 0)
        rc = sim_bytes_set(&c->cache, &n->cache);
    if (rc == 0 && n->capdropped > 0) {
        c->dropped = malloc(n->capdropped);
        if (c->dropped == NULL)
            return -ENOMEM;
        memcpy(c->dropped, n->dropped, n->capdropped);
        c->capdropped = n->capdropped;
        c->ndropped = n->ndropped;
    }
    if (rc == 0 && n->npend > 0) {
        c->pend = calloc(n->npend, sizeof(*c->pend));
        if (c->pend == NULL)
            return -ENOMEM;
        c->cappend = n->npend;
        for (size_t i = 0; i < n->npend; i++) {
            c->pend[i] = n->pend[i];
            c->pend[i].data = NULL;
            if (n->pend[i].data != NULL) {
                c->pend[i].data = malloc(n->pend[i].len);
                if (c->pend[i].data == NULL)
                    return -ENOMEM;
                memcpy(c->pend[i].data, n->pend[i].data, n->pend[i].len);
            }
            c->npend = i + 1;
        }
    }
    return rc;
}

static int sim_clone_locked(struct io_sim *s, struct io_sim *c)
{
    int rc = 0;
    c->nodes = calloc(s->nnodes, sizeof(*c->nodes));
    if (c->nodes == NULL)
        return -ENOMEM;
    c->capnodes = s->nnodes;
    for (size_t i = 0; i < s->nnodes; i++) {
        s->nodes[i]->idx = i;
        c->nodes[i] = calloc(1, sizeof(struct sim_node));
        if (c->nodes[i] == NULL)
            return -ENOMEM;
        c->nnodes = i + 1;
        c->nodes[i]->is_dir = s->nodes[i]->is_dir;
        c->nodes[i]->lock_fd = -1;
    }
    for (size_t i = 0; rc == 0 && i < s->nnodes; i++) {
        const struct sim_node *n = s->nodes[i];
        struct sim_node *cn = c->nodes[i];
        rc = sim_clone_node(n, cn);
        if (rc == 0)
            rc = sim_clone_map(&cn->cur, &n->cur, c->nodes);
        if (rc == 0)
            rc = sim_clone_map(&cn->dur, &n->dur, c->nodes);
    }
    if (rc < 0)
        return rc;
    c->root = c->nodes[s->root->idx];
    if (s->ndops > 0) {
        c->dops = calloc(s->ndops, sizeof(*c->dops));
        if (c->dops == NULL)
            return -ENOMEM;
        c->capdops = s->ndops;
    }
    for (size_t i = 0; i < s->ndops; i++) {
        const struct sim_dop *d = &s->dops[i];
        struct sim_dop *cd = &c->dops[i];
        cd->kind = d->kind;
        cd->dir = c->nodes[d->dir->idx];
        cd->node = c->nodes[d->node->idx];
        cd->from_dir = d->from_dir ? c->nodes[d->from_dir->idx] : NULL;
        cd->node2 = d->node2 ? c->nodes[d->node2->idx] : NULL;
        cd->name = strdup(d->name);
        cd->from_name = d->from_name ? strdup(d->from_name) : NULL;
        c->ndops = i + 1;
        if (cd->name == NULL || (d->from_name != NULL && cd->from_name == NULL))
            return -ENOMEM;
    }
    c->gen = s->gen + 1;
    c->off = s->off;
    return 0;
}

int io_sim_clone(struct sxp_io *io, struct sxp_io **out)
{
    struct io_sim *s = (struct io_sim *)io;
    struct sxp_io *cio = NULL;
    int rc = io_sim_new(&cio);
    if (rc < 0)
        return rc;
    struct io_sim *c = (struct io_sim *)cio;
    /* Drop the fresh root: the copy brings its own. */
    sim_node_free(c->root);
    c->root = NULL;
    free(c->nodes);
    c->nodes = NULL;
    c->nnodes = c->capnodes = 0;
    pthread_mutex_lock(&s->mu);
    rc = sim_clone_locked(s, c);
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) {
        cio->destroy(cio);
        return rc;
    }
    *out = cio;
    return 0;
}
