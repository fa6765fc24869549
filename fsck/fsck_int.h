/*
 * fsck_int.h -- the pieces of sxp-fsck shared between its files.
 *
 * A run has three phases (fsck.c): the WALK lists the tree in one thread
 * and turns it into work items (one per stream, kv file and blob) plus the
 * findings about names (check_tree.c); the CHECK runs the items on
 * o->threads threads taking them from a shared index, biggest first, each
 * item filling only its own findings (check_log.c, check_seq.c,
 * check_kv.c, check_blob.c); the REPAIR (-p, -y, --upgrade) runs in one
 * thread over the items' findings (repair.c, lostfound.c), with the store's
 * LOCK held. Nothing in the check phase writes to the store.
 */
#ifndef SXP_FSCK_INT_H
#define SXP_FSCK_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "fsck.h"
#include "lock.h"
#include "lostfound.h"

/* Detail values of foreign-file. */
#define FSCK_FOREIGN_DIR 1
#define FSCK_FOREIGN_LINK 2    /* a symbolic link, not followed */
#define FSCK_FOREIGN_SPECIAL 3 /* a FIFO, device or socket: never opened */

/* What a foreign-file finding's detail says stands there: "a symbolic
 * link", "a directory", "a FIFO, device or socket" or "a file". */
const char *fsck_foreign_kind(int detail);

struct fsck_flist {
    struct fsck_finding *v;
    size_t n, cap;
};

enum fsck_item_kind {
    FSCK_ITEM_STREAM, /* a .log and/or a .seq */
    FSCK_ITEM_KV,
    FSCK_ITEM_BLOB,
};

struct fsck_item {
    enum fsck_item_kind kind;
    const char *name;    /* stream: hex stem; kv: file name; blob: cid */
    const char *rel;     /* "streams/<stem>.log", "kv/<name>", "blobs/<cid>" */
    const char *rel_seq; /* streams: "streams/<stem>.seq" */
    int has_log, has_seq;
    uint64_t size;       /* bytes of the log, kv file or blob (from the walk) */
    struct fsck_flist f; /* this item's findings */

    /* Results of the check, for the repair. */
    int have_max; /* the log holds events that stay ... */
    int64_t max;  /* ... and this is their max seq (INV-1) */
    int torn;     /* a torn tail starts at torn_off */
    uint64_t torn_off;
    uint64_t above_off; /* the first good line the .seq does not cover, or UINT64_MAX */
    uint64_t log_size;  /* the log's size when checked */
    uint64_t legacy;    /* good legacy lines (logs), 1 for a legacy kv value */
    int hw_state;       /* .seq: 0 absent, 1 read into hw, 2 unreadable */
    int64_t hw;
    size_t hw_len;  /* bytes of the .seq read into hw (what -y moves to lost+found) */
    int gone;       /* a kv file or unborn log the live writer removed after the walk (LV-5, 6) */
    int log_synced; /* R-6 done for all logs at once (repair.c SYNCFS): 1; -1 failed */
    int failed;     /* the item could not be checked (I/O error) */
    char failmsg[256];
};

struct fsck_ctx {
    const struct fsck_opts *o;
    struct sxp_io *io;
    char root[PATH_MAX];
    char streams_dir[PATH_MAX];
    char kv_dir[PATH_MAX];
    char blobs_dir[PATH_MAX];
    int sync;                 /* repairs are made durable */
    int lock_fd;              /* ROOT/LOCK while held, else -1 */
    int legacy_store;         /* no FORMAT file */
    int live;                 /* -n --force, and a writer holds LOCK (check_live.c) */
    int store_clean;          /* LOCK read "clean\n" (R-3d) */
    int store_unsynced;       /* LOCK says its last session ran without syncs (K-6) */
    int store_resettle;       /* ... and that a settle of it failed (K-6, settle-pending) */
    int store_after_unsynced; /* lock.h lock_after_unsynced: R-7 applies */
    int sync_failed;          /* a repair could not make a log durable: LOCK stays */
    size_t syncfs_logs;       /* fsck_opts.syncfs_logs, 0 resolved */
    /* JOURNAL records not written back (-n, or held for -y): the buckets
     * of their logs, which may be empty only for now (check_seq.c) */
    struct lock_dirty held;
    int held_all;   /* JOURNAL's header does not check: its records may name any log */
    int held_for_y; /* they wait for -y (journal damage, orphans), not just for -p */
    char sync_msg[256];

    struct fsck_item *items;
    size_t nitems, capitems;
    struct fsck_flist tree; /* findings of the walk */
    char **strs;            /* every file string findings point to */
    size_t nstrs, capstrs;

    /* Check phase, shared by the workers. */
    size_t next;         /* next item to take (atomic) */
    size_t items_done;   /* (atomic) */
    size_t streams_done; /* (atomic) */
    size_t nstreams;
    uint64_t bytes_done; /* (atomic) */
    uint64_t total_bytes;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned running; /* workers not yet finished (under mu) */
};

/* recover.c R-7: LOCK says a session without syncs did not close cleanly
 * (K-6; a torn mark, K-7, reads so too; never read with a live writer,
 * which has recovered what came before it), and not in the boot it ran in
 * (K-8: killed, not cut by a power loss, so nothing it wrote was lost):
 * lock.h lock_after_unsynced, the open's rule too. That session renamed
 * .seq files into place without its logs' syncs and its writes had no
 * bound, so after a power loss a .seq proves nothing: no window, no R-3c
 * (check_log.c), and a .seq that does not parse is residue when its log
 * has an event to rebuild it from (check_seq.c TORN). */
static inline int fsck_after_unsynced(const struct fsck_ctx *c)
{
    return c->store_after_unsynced;
}

/* fsck.c */
/* vsnprintf into a message buffer (a message may be cut, never overflow). */
void fsck_msgf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds a finding; -ENOMEM. */
int fsck_flist_add(struct fsck_flist *l, const struct fsck_finding *f);
/* A copy of s kept until the report is freed; NULL when out of memory. */
const char *fsck_str(struct fsck_ctx *c, const char *s);
/* Opens path read-only without touching its access time where the kernel
 * lets us (O_NOATIME needs ownership; without it, plain O_RDONLY). */
int fsck_open_read(struct fsck_ctx *c, const char *path);
/* Reads a whole small file (at most max bytes: -E2BIG beyond) into buf. */
int fsck_read_small(struct fsck_ctx *c, const char *path, char *buf, size_t max, size_t *out_len);
/* ROOT/rel into out (PATH_MAX). */
int fsck_path(const struct fsck_ctx *c, const char *rel, char *out);
/* Marks an item unreadable with a message. */
void fsck_item_fail(struct fsck_item *it, int rc, const char *what, const char *path);
/* The pid a LOCK file (open on fd) names, 0 if none. */
long fsck_lock_pid(struct fsck_ctx *c, int fd);

/* check_tree.c: 0 when ROOT is a store or empty (NOT A STORE there), else
 * -errno with msg set (the run exits 8). Creates nothing. */
int fsck_probe_store(struct fsck_ctx *c, char *msg, size_t msg_size);
/* check_tree.c: the walk. 0, or -errno with msg set (the run exits 8). */
int fsck_walk(struct fsck_ctx *c, char *msg, size_t msg_size);

/* The checks; each fills it->f and the result fields, never writes. */
int fsck_check_log(struct fsck_ctx *c, struct fsck_item *it);
int fsck_read_seq(struct fsck_ctx *c, struct fsck_item *it);
int fsck_check_seq(struct fsck_ctx *c, struct fsck_item *it);
int fsck_check_kv(struct fsck_ctx *c, struct fsck_item *it);
int fsck_check_blob(struct fsck_ctx *c, struct fsck_item *it);

/* check_live.c: under -n --force, after the check, takes what the live
 * writer's session (pid, as LOCK named it before the walk) explains out
 * of the findings and counts it in the live-writer finding, which must be
 * in c->tree: its a is the pid (0: none named), b the .seq files behind
 * their logs, c the torn tails, detail the temp files. */
void fsck_live_explain(struct fsck_ctx *c, long pid);

/* repair.c: runs the repairs the mode allows and records their actions. */
void fsck_repair(struct fsck_ctx *c);

/* progress.c */
/* Draws (or, when done, clears) the progress line on stderr. */
void fsck_progress_draw(const struct fsck_ctx *c, uint64_t elapsed_ns, int done);

/* report.c */
/* Sorts findings by file, then offset, then code. */
void fsck_findings_sort(struct fsck_finding *v, size_t n);

#endif
