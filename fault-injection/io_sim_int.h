/*
 * io_sim_int.h -- the simulated disk's structures, shared by io_sim.c (the
 * model and the io table; the model is described at its top) and
 * io_sim_crash.c (power loss and export). Nothing else includes this.
 */
#ifndef SXP_IO_SIM_INT_H
#define SXP_IO_SIM_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"

struct sim_bytes {
    char *p;
    size_t len; /* file size */
    size_t cap;
};

/* One write or truncate not yet made durable by fdatasync. */
struct sim_op {
    int trunc; /* 1: ftruncate to off; 0: pwrite of len bytes at off */
    int ghost; /* write whose bytes a failed fdatasync dropped: it only
                  extends the file to off + len (io_sim.c) */
    uint64_t off;
    size_t len;
    char *data; /* copy of the written bytes; NULL for a ghost */
};

struct sim_node;

struct sim_dirent {
    char *name;
    struct sim_node *node;
};

struct sim_dirmap {
    struct sim_dirent *e;
    size_t n, cap;
};

struct sim_node {
    int is_dir;
    int reachable;            /* scratch for the sweep after a crash */
    size_t idx;               /* scratch: index in nodes, for io_sim_clone */
    int lock_fd;              /* descriptor holding the lock, or -1 */
    struct sim_bytes durable; /* file: the content a power loss keeps */
    struct sim_bytes cache;   /* file: the content reads see */
    struct sim_op *pend;      /* file: writes since the last fdatasync */
    size_t npend, cappend;
    unsigned char *dropped; /* file: 1 per IO_SIM_PAGE page whose cached bytes
                               a failed fdatasync dropped, until written again */
    size_t capdropped;      /* pages the map covers */
    size_t ndropped;        /* pages set */
    struct sim_dirmap cur;  /* dir: entries lookups see */
    struct sim_dirmap dur;  /* dir: entries a power loss keeps */
};

/* A directory change not yet made durable by fsync_dir. */
enum sim_dop_kind {
    SIM_DOP_SET,      /* dir/name -> node (create, mkdir) */
    SIM_DOP_REMOVE,   /* dir/name gone (unlink) */
    SIM_DOP_RENAME,   /* from_dir/from_name gone and dir/name -> node, at once */
    SIM_DOP_EXCHANGE, /* dir/name -> node and dir/from_name -> node2, at once */
};

struct sim_dop {
    enum sim_dop_kind kind;
    struct sim_node *dir; /* the directory whose fsync makes it durable */
    char *name;
    struct sim_node *node;
    struct sim_node *from_dir; /* rename and exchange (then dir) only */
    char *from_name;           /* rename and exchange only */
    struct sim_node *node2;    /* exchange only */
};

struct sim_fd {
    struct sim_node *node; /* NULL: slot free */
    int flags;
};

#define SIM_FD_BASE 1000  /* descriptors never look like real ones */
#define SIM_FD_SLOTS 4096 /* descriptors open at once */

struct io_sim {
    struct sxp_io io; /* first: the table */
    pthread_mutex_t mu;
    struct sim_node *root;
    struct sim_node **nodes; /* every node, in creation order */
    size_t nnodes, capnodes;
    struct sim_dop *dops; /* pending directory changes, oldest first */
    size_t ndops, capdops;
    struct sim_fd fds[SIM_FD_SLOTS];
    unsigned gen;      /* boot count: part of every descriptor number */
    unsigned powerups; /* power losses so far: the boot id (io->boot_id) */
    int off;           /* 1 between a crash and the restart */
};

/* io_sim.c */
int sim_bytes_set(struct sim_bytes *b, const struct sim_bytes *from);
int sim_bytes_write(struct sim_bytes *b, uint64_t off, const void *data, size_t len);
int sim_bytes_resize(struct sim_bytes *b, uint64_t len);
int sim_map_set(struct sim_dirmap *m, const char *name, struct sim_node *node);
void sim_map_remove(struct sim_dirmap *m, const char *name);
int sim_map_copy(struct sim_dirmap *to, const struct sim_dirmap *from);
void sim_map_free(struct sim_dirmap *m);
/* Applies d to the durable maps. */
int sim_dop_apply_durable(const struct sim_dop *d);
void sim_dop_free(struct sim_dop *d);
void sim_node_clear_pending(struct sim_node *n);
/* Applies len bytes of op (a ghost: the size only) to b. */
int sim_op_apply(struct sim_bytes *b, const struct sim_op *op, size_t len);
/* Makes n's pending ops durable and forgets them (fdatasync, syncfs, a
 * power loss that keeps everything): the cache, unless a failed fdatasync
 * dropped pages, which stay as the disk has them. */
int sim_node_settle(struct sim_node *n);
/* Marks the pages of [off, off + len) of n dropped. -ENOMEM. */
int sim_node_drop_pages(struct sim_node *n, uint64_t off, uint64_t len);
/* Forgets every dropped page (after a power loss the cache is the disk). */
void sim_node_clear_dropped(struct sim_node *n);
void sim_node_free(struct sim_node *n);
/* Looks path up in the current tree; NULL when absent. */
struct sim_node *sim_lookup(struct io_sim *s, const char *path);

/* io_sim_crash.c: called with s->mu held */
void sim_crash_locked(struct io_sim *s, uint64_t seed, enum io_sim_mode mode);
/* A failed fsync of dir: its pending ops take outcome how (RANDOM: one of
 * the others, by seed). Returns the outcome taken, or -ENOMEM. */
int sim_dir_fail_locked(struct io_sim *s, struct sim_node *dir, enum io_sim_syncfail how,
                        uint64_t seed);
/* A failed fdatasync of the file n: its pending ops take outcome how
 * (RANDOM: one of the others, by seed). Returns the outcome taken, or
 * -ENOMEM. */
int sim_file_fail_locked(struct sim_node *n, enum io_sim_syncfail how, uint64_t seed);
/* A failed syncfs: every file's pending ops take the one outcome how
 * (RANDOM: one of the others, by seed), as sim_file_fail_locked gives it;
 * directory entries stay pending. Returns the outcome taken, or -ENOMEM. */
int sim_fs_fail_locked(struct io_sim *s, enum io_sim_syncfail how, uint64_t seed);
void sim_sync_all_locked(struct io_sim *s);

#endif
