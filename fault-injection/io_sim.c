/*
 * io_sim.c -- a simulated disk behind the io table, with a page cache that a
 * test can power off (io_sim_crash). It is what proves that the engine's
 * fdatasync and directory-fsync ordering is right: a process kill keeps the
 * page cache, a power loss keeps only what was made durable.
 *
 * THE MODEL
 *
 *   Files. Each file (an inode, a struct sim_node) has two contents: the
 *   CACHE, which every read and fsize sees, and the DURABLE content, what
 *   the platter holds. pwrite and ftruncate change the cache and are
 *   remembered, in order, as PENDING ops of the file. fdatasync (and the
 *   sync half of write_sync) applies the pending ops to the durable
 *   content and forgets them: IO-3. Unless a failed fdatasync dropped some
 *   (below), the durable content is then the cache.
 *
 *   Directories. Each directory has CURRENT entries (what lookups, stat and
 *   list_dir see) and DURABLE entries. create (open with O_CREAT), mkdir,
 *   rename and unlink change the current entries at once and are queued,
 *   in order, as PENDING directory ops of the directory they change (a
 *   rename belongs to its target's directory and is atomic: the name moves,
 *   never vanishes from both places or shows in both). fsync_dir of a
 *   directory applies its pending ops to its durable entries: IO-4. A file
 *   that was created and fdatasync'ed but whose directory was never fsync'ed
 *   has durable data and no durable name, and vanishes at a crash. syncfs
 *   makes every file's cache and every pending directory op durable.
 *
 *   A failed directory fsync. The disk fails no call itself (but every one
 *   while it is off): a test fails an fsync_dir through io_fault, before it
 *   reaches the disk, and tells the disk with io_sim_dir_sync_failed. A
 *   kernel reports such a writeback error once; it may have written some of
 *   the directory's changes, or none, and dropped the rest, so that a later
 *   fsync succeeds without them. The directory's pending ops take one
 *   outcome: KEEP (still pending, as if nothing had been tried), DROP
 *   (forgotten: lookups still see them until a power loss takes them, and
 *   no fsync makes them durable), or PARTIAL (each made durable or
 *   forgotten).
 *
 *   A failed file fdatasync. Likewise a test fails an fdatasync through
 *   io_fault and tells the disk with io_sim_file_sync_failed. A kernel
 *   whose writeback of a file fails marks the dirty pages clean all the
 *   same: reads still see the new bytes, but no later fsync writes them,
 *   unless a write dirties their page again, and a power loss (or the page
 *   leaving the cache) loses them. So a later fdatasync that succeeds
 *   proves nothing of the writes before the failure (IO-5). The file's
 *   pending ops take one outcome:
 *     KEEP     still pending, as if nothing had been tried.
 *     DROP     every pending write becomes a GHOST: its bytes are
 *              forgotten, the IO_SIM_PAGE (4 KiB) pages it touched are
 *              marked DROPPED, and it keeps only the size it gave the file
 *              (metadata the filesystem may still commit), so that it,
 *              like a pending truncate, still reaches the disk or not
 *              with the next fdatasync or power loss. Where a ghost's
 *              bytes reach the disk only as size, they read as NUL past
 *              the old end and as the old bytes within it.
 *     PARTIAL  every pending op is applied to the durable content now, in
 *              order, but each page piece of each write is written or
 *              dropped by seed (a dropped piece past the old end reads as
 *              NUL, and its page is marked DROPPED).
 *   A later pwrite that touches a dropped page dirties it again, and so
 *   does an ftruncate whose lower end (the new end of a cut, the old end
 *   of a growing ftruncate) lies inside the page, since the kernel zeroes
 *   the page past that end: the whole page, as the cache holds it then,
 *   is queued as a pending write and leaves the dropped set. A cut past a
 *   dropped page takes it away. While a file has
 *   dropped pages, fdatasync, syncfs and a power loss that keeps everything
 *   apply its pending ops to the durable content one by one (ghosts as
 *   sizes), so the dropped bytes stay as the disk has them; the cache keeps
 *   showing them until a power loss (io_sim_crash.c) makes the cache the
 *   durable content again. A write that races the failed call on the same
 *   file before the test tells the disk is dropped with it (the engine
 *   serialises a file's writes and syncs).
 *
 *   A failed syncfs. syncfs is a writeback of every dirty page of the
 *   filesystem, and its failure one that the kernel reports once (a later
 *   syncfs from a new descriptor succeeds) after marking the pages clean
 *   all the same. A test fails a syncfs through io_fault (which counts it
 *   as an fsync_dir) and tells the disk with io_sim_fs_sync_failed: every
 *   file's pending ops take one outcome, KEEP, DROP or PARTIAL, each file
 *   as a failed fdatasync of it would (above). Directory entries stay
 *   pending; a directory's own failure is io_sim_dir_sync_failed's.
 *
 *   Power loss (io_sim_crash.c). For each file with pending ops, the mode
 *   and the seed choose one outcome: (a) LOST: the durable content stays as
 *   it was; (b) TORN: the first k pending ops reach the disk and op k+1 only
 *   as a prefix torn at any byte; (c) SECTORS: each 512-byte sector piece of
 *   each pending write reaches the disk or not, independently, out of order;
 *   a lost piece past the old end of the file reads as NUL (the size made
 *   it, the data did not: a zero-filled tail); (d) KEPT: every pending op
 *   reaches the disk (the whole cache, but for dropped pages). A ghost
 *   reaches it as its size only, in each of them. Each pending directory
 *   op survives or vanishes on its own (or, in some crashes, a random
 *   prefix of them survives, as a journal would keep them). Then the
 *   durable contents and entries become what reads and lookups see (no
 *   page is dropped any more), nodes no name reaches are freed, every
 *   descriptor and lock is gone, and every call fails with -EIO until
 *   io_sim_restart boots the disk again. Descriptor numbers carry the boot
 *   count, so a descriptor from before the crash is -EBADF afterwards,
 *   never someone else's file.
 *
 *   A process kill (io_sim_kill) drops the descriptors and locks and keeps
 *   everything else, pending ops included: the page cache outlives the
 *   process, and a later power loss may still take what it holds.
 *
 *   Paths are absolute ("/a/b"); a relative path is read from "/". One
 *   mutex guards the whole disk; list_dir copies the names out and calls
 *   its callback without it, so the callback may change the directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_sim_int.h"

#define SIM_MAX_DEPTH 64

/* ---- bytes -------------------------------------------------------------- */

static int sim_bytes_reserve(struct sim_bytes *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int sim_bytes_resize(struct sim_bytes *b, uint64_t len)
{
    if (len > SIZE_MAX / 2)
        return -EFBIG;
    int rc = sim_bytes_reserve(b, (size_t)len);
    if (rc < 0)
        return rc;
    if (len > b->len)
        memset(b->p + b->len, 0, (size_t)len - b->len);
    b->len = (size_t)len;
    return 0;
}

int sim_bytes_write(struct sim_bytes *b, uint64_t off, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (off > SIZE_MAX / 2 || len > SIZE_MAX / 2)
        return -EFBIG;
    if (off + len > b->len) {
        int rc = sim_bytes_resize(b, off + len);
        if (rc < 0)
            return rc;
    }
    memcpy(b->p + off, data, len);
    return 0;
}

int sim_bytes_set(struct sim_bytes *b, const struct sim_bytes *from)
{
    int rc = sim_bytes_reserve(b, from->len);
    if (rc < 0)
        return rc;
    if (from->len > 0)
        memcpy(b->p, from->p, from->len);
    b->len = from->len;
    return 0;
}

/* ---- directory maps ----------------------------------------------------- */

static struct sim_dirent *sim_map_find(const struct sim_dirmap *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].name, name) == 0)
            return &m->e[i];
    return NULL;
}

int sim_map_set(struct sim_dirmap *m, const char *name, struct sim_node *node)
{
    struct sim_dirent *e = sim_map_find(m, name);
    if (e != NULL) {
        e->node = node;
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        struct sim_dirent *ne = realloc(m->e, cap * sizeof(*ne));
        if (ne == NULL)
            return -ENOMEM;
        m->e = ne;
        m->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return -ENOMEM;
    m->e[m->n].name = copy;
    m->e[m->n].node = node;
    m->n++;
    return 0;
}

void sim_map_remove(struct sim_dirmap *m, const char *name)
{
    struct sim_dirent *e = sim_map_find(m, name);
    if (e == NULL)
        return;
    free(e->name);
    *e = m->e[m->n - 1];
    m->n--;
}

void sim_map_free(struct sim_dirmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].name);
    free(m->e);
    memset(m, 0, sizeof(*m));
}

int sim_map_copy(struct sim_dirmap *to, const struct sim_dirmap *from)
{
    struct sim_dirmap m = {NULL, 0, 0};
    for (size_t i = 0; i < from->n; i++) {
        int rc = sim_map_set(&m, from->e[i].name, from->e[i].node);
        if (rc < 0) {
            sim_map_free(&m);
            return rc;
        }
    }
    sim_map_free(to);
    *to = m;
    return 0;
}

/* ---- nodes and pending ops ---------------------------------------------- */

void sim_node_clear_pending(struct sim_node *n)
{
    for (size_t i = 0; i < n->npend; i++)
        free(n->pend[i].data);
    n->npend = 0;
}

void sim_node_free(struct sim_node *n)
{
    if (n == NULL)
        return;
    sim_node_clear_pending(n);
    free(n->pend);
    free(n->dropped);
    free(n->durable.p);
    free(n->cache.p);
    sim_map_free(&n->cur);
    sim_map_free(&n->dur);
    free(n);
}

static struct sim_node *sim_node_new(struct io_sim *s, int is_dir)
{
    if (s->nnodes == s->capnodes) {
        size_t cap = s->capnodes ? s->capnodes * 2 : 64;
        struct sim_node **nn = realloc(s->nodes, cap * sizeof(*nn));
        if (nn == NULL)
            return NULL;
        s->nodes = nn;
        s->capnodes = cap;
    }
    struct sim_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->is_dir = is_dir;
    n->lock_fd = -1;
    s->nodes[s->nnodes++] = n;
    return n;
}

static int sim_node_add_op(struct sim_node *n, int trunc, uint64_t off, const void *data,
                           size_t len)
{
    if (n->npend == n->cappend) {
        size_t cap = n->cappend ? n->cappend * 2 : 8;
        struct sim_op *np = realloc(n->pend, cap * sizeof(*np));
        if (np == NULL)
            return -ENOMEM;
        n->pend = np;
        n->cappend = cap;
    }
    struct sim_op *op = &n->pend[n->npend];
    memset(op, 0, sizeof(*op));
    op->trunc = trunc;
    op->off = off;
    op->len = len;
    if (len > 0) {
        op->data = malloc(len);
        if (op->data == NULL)
            return -ENOMEM;
        memcpy(op->data, data, len);
    }
    n->npend++;
    return 0;
}

int sim_op_apply(struct sim_bytes *b, const struct sim_op *op, size_t len)
{
    if (op->trunc)
        return sim_bytes_resize(b, op->off);
    if (op->ghost)
        return op->off + len > b->len ? sim_bytes_resize(b, op->off + len) : 0;
    return sim_bytes_write(b, op->off, op->data, len);
}

int sim_node_settle(struct sim_node *n)
{
    int rc = 0;
    if (n->ndropped == 0) {
        /* Nothing dropped: the pending ops lead from the durable content
         * to the cache. */
        rc = sim_bytes_set(&n->durable, &n->cache);
    } else {
        for (size_t i = 0; rc == 0 && i < n->npend; i++)
            rc = sim_op_apply(&n->durable, &n->pend[i], n->pend[i].len);
    }
    if (rc == 0)
        sim_node_clear_pending(n);
    return rc;
}

int sim_node_drop_pages(struct sim_node *n, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    uint64_t last = (off + len - 1) / IO_SIM_PAGE;
    if (last >= SIZE_MAX / 2)
        return -EFBIG;
    if (last >= n->capdropped) {
        size_t cap = n->capdropped ? n->capdropped : 16;
        while (cap <= last)
            cap *= 2;
        unsigned char *d = realloc(n->dropped, cap);
        if (d == NULL)
            return -ENOMEM;
        memset(d + n->capdropped, 0, cap - n->capdropped);
        n->dropped = d;
        n->capdropped = cap;
    }
    for (uint64_t p = off / IO_SIM_PAGE; p <= last; p++) {
        n->ndropped += !n->dropped[p];
        n->dropped[p] = 1;
    }
    return 0;
}

void sim_node_clear_dropped(struct sim_node *n)
{
    if (n->ndropped > 0)
        memset(n->dropped, 0, n->capdropped);
    n->ndropped = 0;
}

/* A write (or a truncate's zeroing) touched [off, off + len) of n: every
 * dropped page there is dirty again, and the next fdatasync writes the
 * whole of it as the cache holds it, a pending write of the page. */
static int sim_node_redirty(struct sim_node *n, uint64_t off, uint64_t len)
{
    if (n->ndropped == 0 || len == 0)
        return 0;
    int rc = 0;
    for (uint64_t p = off / IO_SIM_PAGE; rc == 0 && p <= (off + len - 1) / IO_SIM_PAGE; p++) {
        if (p >= n->capdropped)
            break;
        if (!n->dropped[p])
            continue;
        n->dropped[p] = 0;
        n->ndropped--;
        uint64_t start = p * IO_SIM_PAGE, end = start + IO_SIM_PAGE;
        if (end > n->cache.len)
            end = n->cache.len;
        if (start < end)
            rc = sim_node_add_op(n, 0, start, n->cache.p + start, (size_t)(end - start));
    }
    return rc;
}

/* n's cache was cut or extended from old_len to len: the dropped pages
 * past the end are gone, and the page holding the lower of the two ends,
 * unless that end is on a page boundary, is zeroed past it (a cut zeroes
 * its tail, a growing ftruncate what lies past the old end), which
 * dirties it again. */
static int sim_node_truncated(struct sim_node *n, uint64_t len, uint64_t old_len)
{
    uint64_t edge = len < old_len ? len : old_len;
    if (n->ndropped == 0)
        return 0;
    for (uint64_t p = (len + IO_SIM_PAGE - 1) / IO_SIM_PAGE; p < n->capdropped; p++) {
        n->ndropped -= n->dropped[p];
        n->dropped[p] = 0;
    }
    if (len != old_len && edge % IO_SIM_PAGE != 0)
        return sim_node_redirty(n, edge, 1);
    return 0;
}

void sim_dop_free(struct sim_dop *d)
{
    free(d->name);
    free(d->from_name);
    memset(d, 0, sizeof(*d));
}

static int sim_dop_add(struct io_sim *s, enum sim_dop_kind kind, struct sim_node *dir,
                       const char *name, struct sim_node *node, struct sim_node *from_dir,
                       const char *from_name)
{
    if (s->ndops == s->capdops) {
        size_t cap = s->capdops ? s->capdops * 2 : 64;
        struct sim_dop *nd = realloc(s->dops, cap * sizeof(*nd));
        if (nd == NULL)
            return -ENOMEM;
        s->dops = nd;
        s->capdops = cap;
    }
    struct sim_dop *d = &s->dops[s->ndops];
    memset(d, 0, sizeof(*d));
    d->kind = kind;
    d->dir = dir;
    d->node = node;
    d->from_dir = from_dir;
    d->name = strdup(name);
    d->from_name = from_name ? strdup(from_name) : NULL;
    if (d->name == NULL || (from_name != NULL && d->from_name == NULL)) {
        sim_dop_free(d);
        return -ENOMEM;
    }
    s->ndops++;
    return 0;
}

int sim_dop_apply_durable(const struct sim_dop *d)
{
    switch (d->kind) {
    case SIM_DOP_SET:
        return sim_map_set(&d->dir->dur, d->name, d->node);
    case SIM_DOP_REMOVE:
        sim_map_remove(&d->dir->dur, d->name);
        return 0;
    case SIM_DOP_RENAME:
        sim_map_remove(&d->from_dir->dur, d->from_name);
        return sim_map_set(&d->dir->dur, d->name, d->node);
    case SIM_DOP_EXCHANGE: {
        int rc = sim_map_set(&d->dir->dur, d->name, d->node);
        return rc ? rc : sim_map_set(&d->dir->dur, d->from_name, d->node2);
    }
    }
    return -EINVAL;
}

/* ---- paths -------------------------------------------------------------- */

/* Splits path into its parent directory (which must exist) and last name.
 * name gets at most NAME_MAX + 1 bytes. A path naming "/" itself gives
 * *out_parent NULL and an empty name. */
static int sim_resolve_parent(struct io_sim *s, const char *path, struct sim_node **out_parent,
                              char *name, size_t name_size)
{
    struct sim_node *stack[SIM_MAX_DEPTH];
    size_t depth = 0;
    char comp[256];
    const char *p = path;
    int have_last = 0;
    stack[0] = s->root;
    comp[0] = '\0';
    for (;;) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p != '\0' && *p != '/')
            p++;
        size_t len = (size_t)(p - start);
        if (len >= sizeof(comp))
            return -ENAMETOOLONG;
        if (have_last) {
            /* The previous component is a directory on the way. */
            struct sim_node *cur = stack[depth];
            if (strcmp(comp, "..") == 0) {
                if (depth > 0)
                    depth--;
            } else if (strcmp(comp, ".") != 0) {
                struct sim_dirent *e = sim_map_find(&cur->cur, comp);
                if (e == NULL)
                    return -ENOENT;
                if (!e->node->is_dir)
                    return -ENOTDIR;
                if (depth + 1 >= SIM_MAX_DEPTH)
                    return -ELOOP;
                stack[++depth] = e->node;
            }
        }
        memcpy(comp, start, len);
        comp[len] = '\0';
        have_last = 1;
    }
    /* The last component may be "." or ".."; fold those into the parent. */
    while (have_last && (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)) {
        if (strcmp(comp, "..") == 0 && depth > 0)
            depth--;
        have_last = 0;
    }
    if (!have_last) {
        if (depth == 0) {
            *out_parent = NULL;
            name[0] = '\0';
            return 0;
        }
        /* Name the directory through its own parent. */
        struct sim_node *dir = stack[depth];
        struct sim_node *parent = stack[depth - 1];
        for (size_t i = 0; i < parent->cur.n; i++)
            if (parent->cur.e[i].node == dir) {
                snprintf(name, name_size, "%s", parent->cur.e[i].name);
                *out_parent = parent;
                return 0;
            }
        return -ENOENT;
    }
    if (strlen(comp) + 1 > name_size)
        return -ENAMETOOLONG;
    memcpy(name, comp, strlen(comp) + 1);
    *out_parent = stack[depth];
    return 0;
}

/* The node at path: 0 and *out, or -ENOENT, -ENOTDIR, ... */
static int sim_resolve(struct io_sim *s, const char *path, struct sim_node **out)
{
    struct sim_node *parent;
    char name[256];
    int rc = sim_resolve_parent(s, path, &parent, name, sizeof(name));
    if (rc < 0)
        return rc;
    if (parent == NULL) {
        *out = s->root;
        return 0;
    }
    struct sim_dirent *e = sim_map_find(&parent->cur, name);
    if (e == NULL)
        return -ENOENT;
    *out = e->node;
    return 0;
}

struct sim_node *sim_lookup(struct io_sim *s, const char *path)
{
    struct sim_node *n = NULL;
    return sim_resolve(s, path, &n) == 0 ? n : NULL;
}

/* ---- descriptors -------------------------------------------------------- */

static struct io_sim *sim_of(struct sxp_io *io)
{
    return (struct io_sim *)io;
}

static int sim_fd_number(const struct io_sim *s, size_t slot)
{
    return SIM_FD_BASE + (int)((s->gen % 256u) * SIM_FD_SLOTS + slot);
}

static struct sim_fd *sim_fd_get(struct io_sim *s, int fd)
{
    if (fd < SIM_FD_BASE)
        return NULL;
    unsigned v = (unsigned)(fd - SIM_FD_BASE);
    if (v / SIM_FD_SLOTS != s->gen % 256u)
        return NULL;
    struct sim_fd *f = &s->fds[v % SIM_FD_SLOTS];
    return f->node != NULL ? f : NULL;
}

static int sim_fd_writable(const struct sim_fd *f)
{
    int acc = f->flags & O_ACCMODE;
    return acc == O_WRONLY || acc == O_RDWR;
}

/* ---- the table ---------------------------------------------------------- */

static int sim_open(struct sxp_io *io, const char *path, int flags, mode_t mode)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *parent, *node = NULL;
    char name[256];
    int rc;
    (void)mode;
    pthread_mutex_lock(&s->mu);
    if (s->off) {
        rc = -EIO;
        goto out;
    }
    rc = sim_resolve_parent(s, path, &parent, name, sizeof(name));
    if (rc < 0)
        goto out;
    if (parent == NULL) {
        node = s->root;
    } else {
        struct sim_dirent *e = sim_map_find(&parent->cur, name);
        if (e != NULL)
            node = e->node;
    }
    if (node != NULL) {
        if ((flags & O_CREAT) && (flags & O_EXCL)) {
            rc = -EEXIST;
            goto out;
        }
        if (node->is_dir && (flags & O_ACCMODE) != O_RDONLY) {
            rc = -EISDIR;
            goto out;
        }
        if ((flags & O_DIRECTORY) && !node->is_dir) {
            rc = -ENOTDIR;
            goto out;
        }
        if ((flags & O_TRUNC) && !node->is_dir && (flags & O_ACCMODE) != O_RDONLY &&
            node->cache.len > 0) {
            uint64_t old_len = node->cache.len;
            rc = sim_node_add_op(node, 1, 0, NULL, 0);
            if (rc < 0)
                goto out;
            node->cache.len = 0;
            rc = sim_node_truncated(node, 0, old_len);
            if (rc < 0)
                goto out;
        }
    } else {
        if (!(flags & O_CREAT)) {
            rc = -ENOENT;
            goto out;
        }
        if (flags & O_DIRECTORY) {
            rc = -EINVAL;
            goto out;
        }
        node = sim_node_new(s, 0);
        if (node == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        rc = sim_map_set(&parent->cur, name, node);
        if (rc == 0)
            rc = sim_dop_add(s, SIM_DOP_SET, parent, name, node, NULL, NULL);
        if (rc < 0)
            goto out;
    }
    rc = -EMFILE;
    for (size_t i = 0; i < SIM_FD_SLOTS; i++) {
        if (s->fds[i].node == NULL) {
            s->fds[i].node = node;
            s->fds[i].flags = flags;
            rc = sim_fd_number(s, i);
            break;
        }
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sim_close(struct sxp_io *io, int fd)
{
    struct io_sim *s = sim_of(io);
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    struct sim_fd *f = sim_fd_get(s, fd);
    if (f == NULL) {
        /* After a power loss every old descriptor is gone: closing one is
         * harmless, as it would be after a reboot. */
        rc = s->off ? 0 : -EBADF;
    } else {
        if (f->node->lock_fd == fd)
            f->node->lock_fd = -1;
        f->node = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static ssize_t sim_pread(struct sxp_io *io, int fd, void *buf, size_t len, uint64_t off)
{
    struct io_sim *s = sim_of(io);
    ssize_t rc;
    pthread_mutex_lock(&s->mu);
    struct sim_fd *f = sim_fd_get(s, fd);
    if (s->off) {
        rc = -EIO;
    } else if (f == NULL || (f->flags & O_ACCMODE) == O_WRONLY) {
        rc = -EBADF;
    } else if (f->node->is_dir) {
        rc = -EISDIR;
    } else if (off >= f->node->cache.len) {
        rc = 0;
    } else {
        size_t n = f->node->cache.len - (size_t)off;
        if (n > len)
            n = len;
        if (n > SSIZE_MAX)
            n = SSIZE_MAX;
        memcpy(buf, f->node->cache.p + off, n);
        rc = (ssize_t)n;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sim_pwrite_locked(struct io_sim *s, int fd, const void *buf, size_t len, uint64_t off)
{
    struct sim_fd *f = sim_fd_get(s, fd);
    if (s->off)
        return -EIO;
    if (f == NULL || !sim_fd_writable(f))
        return -EBADF;
    if (f->node->is_dir)
        return -EISDIR;
    if (len == 0)
        return 0;
    int rc = sim_node_add_op(f->node, 0, off, buf, len);
    if (rc < 0)
        return rc;
    rc = sim_bytes_write(&f->node->cache, off, buf, len);
    if (rc < 0) {
        /* Keep the pending ops equal to what the cache holds. */
        f->node->npend--;
        free(f->node->pend[f->node->npend].data);
        return rc;
    }
    return sim_node_redirty(f->node, off, len);
}

static int sim_pwrite(struct sxp_io *io, int fd, const void *buf, size_t len, uint64_t off)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    int rc = sim_pwrite_locked(s, fd, buf, len, off);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Makes a directory's pending entries durable, oldest first. */
static int sim_fsync_dir_node(struct io_sim *s, struct sim_node *dir)
{
    size_t keep = 0;
    int rc = 0;
    for (size_t i = 0; i < s->ndops; i++) {
        struct sim_dop *d = &s->dops[i];
        if (d->dir == dir && rc == 0) {
            rc = sim_dop_apply_durable(d);
            sim_dop_free(d);
        } else {
            s->dops[keep++] = *d;
        }
    }
    s->ndops = keep;
    return rc;
}

static int sim_fdatasync_locked(struct io_sim *s, int fd)
{
    struct sim_fd *f = sim_fd_get(s, fd);
    if (s->off)
        return -EIO;
    if (f == NULL)
        return -EBADF;
    if (f->node->is_dir)
        return sim_fsync_dir_node(s, f->node);
    return sim_node_settle(f->node);
}

static int sim_fdatasync(struct sxp_io *io, int fd)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    int rc = sim_fdatasync_locked(s, fd);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sim_ftruncate(struct sxp_io *io, int fd, uint64_t len)
{
    struct io_sim *s = sim_of(io);
    int rc;
    pthread_mutex_lock(&s->mu);
    struct sim_fd *f = sim_fd_get(s, fd);
    if (s->off) {
        rc = -EIO;
    } else if (f == NULL || !sim_fd_writable(f)) {
        rc = -EBADF;
    } else if (f->node->is_dir) {
        rc = -EISDIR;
    } else {
        uint64_t old_len = f->node->cache.len;
        rc = sim_node_add_op(f->node, 1, len, NULL, 0);
        if (rc == 0) {
            rc = sim_bytes_resize(&f->node->cache, len);
            if (rc < 0)
                f->node->npend--;
            else
                rc = sim_node_truncated(f->node, len, old_len);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sim_fsize(struct sxp_io *io, int fd, uint64_t *out)
{
    struct io_sim *s = sim_of(io);
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    struct sim_fd *f = sim_fd_get(s, fd);
    if (s->off)
        rc = -EIO;
    else if (f == NULL)
        rc = -EBADF;
    else
        *out = f->node->is_dir ? 0 : f->node->cache.len;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sim_write_sync(struct sxp_io *io, struct io_wsync *reqs, size_t n)
{
    struct io_sim *s = sim_of(io);
    int first = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        struct io_wsync *r = &reqs[i];
        r->sync_failed = 0;
        r->res = sim_pwrite_locked(s, r->fd, r->buf, r->len, r->off);
        if (r->res == 0 && r->sync) {
            r->res = sim_fdatasync_locked(s, r->fd);
            r->sync_failed = r->res < 0;
        }
        if (r->res < 0 && first == 0)
            first = r->res;
    }
    pthread_mutex_unlock(&s->mu);
    return first;
}

/* The directory at path, with the disk powered: 0 and *out, or -errno. */
static int sim_resolve_dir(struct io_sim *s, const char *path, struct sim_node **out)
{
    if (s->off)
        return -EIO;
    int rc = sim_resolve(s, path, out);
    return rc ? rc : (*out)->is_dir ? 0 : -ENOTDIR;
}

static int sim_fsync_dir(struct sxp_io *io, const char *dir)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *n = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = sim_resolve_dir(s, dir, &n);
    if (rc == 0)
        rc = sim_fsync_dir_node(s, n);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* syncfs: every file's cache and every directory's pending entries made
 * durable, as if each file were fdatasync'ed and each directory fsync'ed. */
static int sim_syncfs_locked(struct io_sim *s)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->nnodes; i++) {
        struct sim_node *f = s->nodes[i];
        if (!f->is_dir)
            rc = sim_node_settle(f);
    }
    size_t done = 0;
    for (; rc == 0 && done < s->ndops; done++) {
        rc = sim_dop_apply_durable(&s->dops[done]);
        sim_dop_free(&s->dops[done]);
    }
    if (done > 0) {
        memmove(s->dops, s->dops + done, (s->ndops - done) * sizeof(*s->dops));
        s->ndops -= done;
    }
    return rc;
}

/* path only has to resolve to a directory. */
static int sim_syncfs(struct sxp_io *io, const char *path)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *n = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = sim_resolve_dir(s, path, &n);
    if (rc == 0)
        rc = sim_syncfs_locked(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* fd only has to be open. The disk reports a failed syncfs through
 * io_fault, not itself (a failed syncfs, above), so every descriptor sees
 * the same. */
static int sim_syncfs_fd(struct sxp_io *io, int fd)
{
    struct io_sim *s = sim_of(io);
    int rc;
    pthread_mutex_lock(&s->mu);
    if (s->off)
        rc = -EIO;
    else if (sim_fd_get(s, fd) == NULL)
        rc = -EBADF;
    else
        rc = sim_syncfs_locked(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* A new boot id after every power loss, the same across a process kill. */
static int sim_boot_id(struct sxp_io *io, char *out, size_t size)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    snprintf(out, size, "sim-boot-%u", s->powerups);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static int sim_mkdir_locked(struct io_sim *s, const char *path)
{
    struct sim_node *parent;
    char name[256];
    int rc = sim_resolve_parent(s, path, &parent, name, sizeof(name));
    if (rc < 0)
        return rc;
    if (parent == NULL || sim_map_find(&parent->cur, name) != NULL)
        return -EEXIST;
    struct sim_node *node = sim_node_new(s, 1);
    if (node == NULL)
        return -ENOMEM;
    rc = sim_map_set(&parent->cur, name, node);
    if (rc == 0)
        rc = sim_dop_add(s, SIM_DOP_SET, parent, name, node, NULL, NULL);
    return rc;
}

static int sim_mkdir(struct sxp_io *io, const char *path, mode_t mode)
{
    struct io_sim *s = sim_of(io);
    (void)mode;
    pthread_mutex_lock(&s->mu);
    int rc = s->off ? -EIO : sim_mkdir_locked(s, path);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* The parents and last names (256 bytes each) of the two paths of a
 * rename or an exchange; -EBUSY when either is "/". */
static int sim_resolve_two(struct io_sim *s, const char *a, const char *b,
                           struct sim_node **aparent, char *aname, struct sim_node **bparent,
                           char *bname)
{
    int rc = sim_resolve_parent(s, a, aparent, aname, 256);
    if (rc == 0)
        rc = sim_resolve_parent(s, b, bparent, bname, 256);
    if (rc == 0 && (*aparent == NULL || *bparent == NULL))
        rc = -EBUSY;
    return rc;
}

static int sim_rename_locked(struct io_sim *s, const char *from, const char *to)
{
    struct sim_node *fparent, *tparent;
    char fname[256], tname[256];
    int rc = sim_resolve_two(s, from, to, &fparent, fname, &tparent, tname);
    if (rc < 0)
        return rc;
    struct sim_dirent *fe = sim_map_find(&fparent->cur, fname);
    if (fe == NULL)
        return -ENOENT;
    struct sim_node *node = fe->node;
    struct sim_dirent *te = sim_map_find(&tparent->cur, tname);
    if (te != NULL) {
        if (te->node == node)
            return 0;
        if (node->is_dir && !te->node->is_dir)
            return -ENOTDIR;
        if (!node->is_dir && te->node->is_dir)
            return -EISDIR;
        if (te->node->is_dir && te->node->cur.n > 0)
            return -ENOTEMPTY;
    }
    /* Moving a directory below itself is not checked: nodes keep no
     * parent pointer, and the engine never renames directories. */
    rc = sim_dop_add(s, SIM_DOP_RENAME, tparent, tname, node, fparent, fname);
    if (rc < 0)
        return rc;
    sim_map_remove(&fparent->cur, fname);
    return sim_map_set(&tparent->cur, tname, node);
}

static int sim_rename(struct sxp_io *io, const char *from, const char *to)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    int rc = s->off ? -EIO : sim_rename_locked(s, from, to);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* RENAME_EXCHANGE within one directory (the only kind the engine asks
 * for; two directories are -EXDEV here). */
static int sim_rename_exchange_locked(struct io_sim *s, const char *a, const char *b)
{
    struct sim_node *aparent, *bparent;
    char aname[256], bname[256];
    int rc = sim_resolve_two(s, a, b, &aparent, aname, &bparent, bname);
    if (rc < 0)
        return rc;
    if (aparent != bparent)
        return -EXDEV;
    struct sim_dirent *ae = sim_map_find(&aparent->cur, aname);
    struct sim_dirent *be = sim_map_find(&bparent->cur, bname);
    if (ae == NULL || be == NULL)
        return -ENOENT;
    struct sim_node *an = ae->node, *bn = be->node;
    if (an == bn)
        return 0;
    /* b gets a's node, a gets b's: one op, durable as one. */
    rc = sim_dop_add(s, SIM_DOP_EXCHANGE, bparent, bname, an, aparent, aname);
    if (rc < 0)
        return rc;
    s->dops[s->ndops - 1].node2 = bn;
    rc = sim_map_set(&bparent->cur, bname, an);
    return rc ? rc : sim_map_set(&aparent->cur, aname, bn);
}

static int sim_rename_exchange(struct sxp_io *io, const char *a, const char *b)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    int rc = s->off ? -EIO : sim_rename_exchange_locked(s, a, b);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sim_unlink_locked(struct io_sim *s, const char *path)
{
    struct sim_node *parent;
    char name[256];
    int rc = sim_resolve_parent(s, path, &parent, name, sizeof(name));
    if (rc < 0)
        return rc;
    if (parent == NULL)
        return -EISDIR;
    struct sim_dirent *e = sim_map_find(&parent->cur, name);
    if (e == NULL)
        return -ENOENT;
    if (e->node->is_dir)
        return -EISDIR;
    rc = sim_dop_add(s, SIM_DOP_REMOVE, parent, name, e->node, NULL, NULL);
    if (rc < 0)
        return rc;
    sim_map_remove(&parent->cur, name);
    return 0;
}

static int sim_unlink(struct sxp_io *io, const char *path)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    int rc = s->off ? -EIO : sim_unlink_locked(s, path);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sim_stat(struct sxp_io *io, const char *path, uint64_t *out_size, int *out_is_dir)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *n = NULL;
    int rc;
    pthread_mutex_lock(&s->mu);
    if (s->off) {
        rc = -EIO;
    } else if ((rc = sim_resolve(s, path, &n)) == 0) {
        if (out_size != NULL)
            *out_size = n->is_dir ? 0 : n->cache.len;
        if (out_is_dir != NULL)
            *out_is_dir = n->is_dir;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sim_still_at(struct sxp_io *io, int fd, const char *path)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *n = NULL;
    pthread_mutex_lock(&s->mu);
    struct sim_fd *f = sim_fd_get(s, fd);
    int rc = s->off ? -EIO : f == NULL ? -EBADF : sim_resolve(s, path, &n);
    if (rc == 0)
        rc = n == f->node;
    else if (rc == -ENOENT)
        rc = 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* The simulated disk is one filesystem. */
static int sim_same_fs(struct sxp_io *io, const char *a, const char *b)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *n = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = s->off ? -EIO : sim_resolve(s, a, &n);
    if (rc == 0)
        rc = sim_resolve(s, b, &n);
    pthread_mutex_unlock(&s->mu);
    return rc == 0 ? 1 : rc;
}

static int sim_list_dir(struct sxp_io *io, const char *dir, io_dir_fn fn, void *arg)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *n = NULL;
    char **names = NULL;
    int *isdir = NULL;
    size_t count = 0;
    int rc;
    pthread_mutex_lock(&s->mu);
    if (s->off) {
        rc = -EIO;
    } else if ((rc = sim_resolve(s, dir, &n)) == 0 && !n->is_dir) {
        rc = -ENOTDIR;
    } else if (rc == 0 && n->cur.n > 0) {
        names = calloc(n->cur.n, sizeof(*names));
        isdir = calloc(n->cur.n, sizeof(*isdir));
        if (names == NULL || isdir == NULL)
            rc = -ENOMEM;
        for (size_t i = 0; rc == 0 && i < n->cur.n; i++) {
            names[i] = strdup(n->cur.e[i].name);
            isdir[i] = n->cur.e[i].node->is_dir;
            if (names[i] == NULL)
                rc = -ENOMEM;
            count = i + 1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    /* The callback runs unlocked: it may unlink what it is shown. */
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = fn(arg, names[i], isdir[i]);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    free(isdir);
    return rc;
}

static int sim_lock(struct sxp_io *io, int fd)
{
    struct io_sim *s = sim_of(io);
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    struct sim_fd *f = sim_fd_get(s, fd);
    if (s->off)
        rc = -EIO;
    else if (f == NULL)
        rc = -EBADF;
    else if (f->node->lock_fd >= 0 && f->node->lock_fd != fd)
        rc = -EAGAIN;
    else
        f->node->lock_fd = fd;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void sim_destroy(struct sxp_io *io)
{
    if (io == NULL)
        return;
    struct io_sim *s = sim_of(io);
    for (size_t i = 0; i < s->nnodes; i++)
        sim_node_free(s->nodes[i]);
    free(s->nodes);
    for (size_t i = 0; i < s->ndops; i++)
        sim_dop_free(&s->dops[i]);
    free(s->dops);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- the public face ---------------------------------------------------- */

int io_sim_new(struct sxp_io **out)
{
    struct io_sim *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return -ENOMEM;
    }
    s->root = sim_node_new(s, 1);
    if (s->root == NULL) {
        sim_destroy(&s->io);
        return -ENOMEM;
    }
    s->io.name = "sim";
    s->io.open = sim_open;
    s->io.close = sim_close;
    s->io.pread = sim_pread;
    s->io.pwrite = sim_pwrite;
    s->io.fdatasync = sim_fdatasync;
    s->io.ftruncate = sim_ftruncate;
    s->io.fsize = sim_fsize;
    s->io.write_sync = sim_write_sync;
    s->io.fsync_dir = sim_fsync_dir;
    s->io.syncfs = sim_syncfs;
    s->io.syncfs_fd = sim_syncfs_fd;
    s->io.boot_id = sim_boot_id;
    s->io.mkdir = sim_mkdir;
    s->io.rename = sim_rename;
    s->io.rename_exchange = sim_rename_exchange;
    s->io.unlink = sim_unlink;
    s->io.stat = sim_stat;
    s->io.still_at = sim_still_at;
    s->io.same_fs = sim_same_fs;
    s->io.list_dir = sim_list_dir;
    s->io.lock = sim_lock;
    s->io.destroy = sim_destroy;
    *out = &s->io;
    return 0;
}

int io_sim_mkdirs(struct sxp_io *io, const char *path)
{
    struct io_sim *s = sim_of(io);
    char buf[4096];
    int rc = 0;
    if (strlen(path) >= sizeof(buf))
        return -ENAMETOOLONG;
    pthread_mutex_lock(&s->mu);
    if (s->off) {
        rc = -EIO;
        goto out;
    }
    size_t first = s->ndops;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; rc == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        struct sim_node *n = sim_lookup(s, buf);
        if (n == NULL)
            rc = sim_mkdir_locked(s, buf);
        else if (!n->is_dir)
            rc = -ENOTDIR;
        *p = saved;
        if (saved == '\0')
            break;
    }
    /* Test setup: the directories made here are durable at once (they are
     * the newest pending ops, so they sit at the end of the queue). */
    for (size_t i = first; i < s->ndops; i++) {
        if (rc == 0)
            rc = sim_dop_apply_durable(&s->dops[i]);
        sim_dop_free(&s->dops[i]);
    }
    s->ndops = first;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void io_sim_crash(struct sxp_io *io, uint64_t seed, enum io_sim_mode mode)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    if (!s->off) {
        sim_crash_locked(s, seed, mode);
        s->powerups++;
    }
    pthread_mutex_unlock(&s->mu);
}

void io_sim_kill(struct sxp_io *io)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    if (!s->off) {
        for (size_t i = 0; i < s->nnodes; i++)
            s->nodes[i]->lock_fd = -1;
        memset(s->fds, 0, sizeof(s->fds));
        s->gen++;
        s->off = 1;
    }
    pthread_mutex_unlock(&s->mu);
}

void io_sim_restart(struct sxp_io *io)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    s->off = 0;
    pthread_mutex_unlock(&s->mu);
}

int io_sim_is_off(struct sxp_io *io)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    int off = s->off;
    pthread_mutex_unlock(&s->mu);
    return off;
}

/* A failed fsync of the directory dir (whole_fs 0) or syncfs of its
 * filesystem (1): io_sim_dir_sync_failed, io_sim_fs_sync_failed. */
static int sim_dir_or_fs_sync_failed(struct sxp_io *io, const char *dir, enum io_sim_syncfail how,
                                     uint64_t seed, int whole_fs)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *n = NULL;
    if ((unsigned)how >= IO_SIM_SYNCFAIL_COUNT)
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = sim_resolve_dir(s, dir, &n);
    if (rc == 0)
        rc = whole_fs ? sim_fs_fail_locked(s, how, seed) : sim_dir_fail_locked(s, n, how, seed);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int io_sim_dir_sync_failed(struct sxp_io *io, const char *dir, enum io_sim_syncfail how,
                           uint64_t seed)
{
    return sim_dir_or_fs_sync_failed(io, dir, how, seed, 0);
}

int io_sim_file_sync_failed(struct sxp_io *io, const char *path, enum io_sim_syncfail how,
                            uint64_t seed)
{
    struct io_sim *s = sim_of(io);
    struct sim_node *n = NULL;
    if ((unsigned)how >= IO_SIM_SYNCFAIL_COUNT)
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = s->off ? -EIO : sim_resolve(s, path, &n);
    if (rc == 0)
        rc = n->is_dir ? -EISDIR : sim_file_fail_locked(n, how, seed);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int io_sim_fs_sync_failed(struct sxp_io *io, const char *path, enum io_sim_syncfail how,
                          uint64_t seed)
{
    return sim_dir_or_fs_sync_failed(io, path, how, seed, 1);
}

void io_sim_sync_all(struct sxp_io *io)
{
    struct io_sim *s = sim_of(io);
    pthread_mutex_lock(&s->mu);
    sim_sync_all_locked(s);
    pthread_mutex_unlock(&s->mu);
}

unsigned io_sim_open_fds(struct sxp_io *io)
{
    struct io_sim *s = sim_of(io);
    unsigned n = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < SIM_FD_SLOTS; i++)
        n += s->fds[i].node != NULL;
    pthread_mutex_unlock(&s->mu);
    return n;
}
