/*
 * check_tree.c -- the walk: FORMAT, and every name in ROOT, streams/, kv/
 * and blobs/ (layout.h L-1..L-3). Names become work items or findings:
 *
 *   streams/<hex>.log, <hex>.seq   one stream item per hex name
 *   kv/<hex>                       a kv item (hex of 1..127 bytes)
 *   blobs/<cid>                    a blob item (cid.h CID-1)
 *   *.tmp (here and in ROOT)       temp-file
 *   streams/ *.log, *.seq with a stem that is not lowercase hex of 1..125
 *     bytes; kv/ names of hex digits that are not a valid key's hex (upper
 *     case, odd length, too long); any other name in blobs/   bad-name
 *   anything else, directories included                      foreign-file
 *   a symbolic link, whatever its name or target (never followed: sxp
 *     makes none, and a rewrite by rename would replace it)  foreign-file
 *
 * ROOT's other entries (FORMAT, LOCK, lost+found/, and whatever an operator
 * keeps there) are not the walk's business, except temp files.
 *
 * NOT A STORE. Before anything is locked or created, ROOT must be a store
 * by the rule sxp_store_open applies (engine/store.c STORE OR NOT: one of
 * FORMAT, LOCK, streams/, kv/, blobs/, or nothing but lost+found/). Any
 * other directory exits 8, so that -p, -y and --upgrade never make a store
 * of it with LOCK and FORMAT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cid.h"
#include "fsck_int.h"
#include "layout.h"
#include "store.h"

struct fsck_ent {
    char *name;
    int is_dir;
    int is_link;    /* a symbolic link (lstat), dangling or not */
    int is_special; /* a FIFO, device or socket (lstat): never opened */
};

struct fsck_ents {
    struct fsck_ent *v;
    size_t n, cap;
    int oom;
};

static int fsck_ents_add(void *arg, const char *name, int is_dir)
{
    struct fsck_ents *e = arg;
    if (e->n == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 64;
        struct fsck_ent *nv = realloc(e->v, ncap * sizeof(*nv));
        if (!nv) {
            e->oom = 1;
            return 1;
        }
        e->v = nv;
        e->cap = ncap;
    }
    e->v[e->n].name = strdup(name);
    if (!e->v[e->n].name) {
        e->oom = 1;
        return 1;
    }
    e->v[e->n].is_link = 0;
    e->v[e->n].is_special = 0;
    e->v[e->n++].is_dir = is_dir;
    return 0;
}

static int fsck_ent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fsck_ent *)a)->name, ((const struct fsck_ent *)b)->name);
}

static void fsck_ents_free(struct fsck_ents *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].name);
    free(e->v);
    memset(e, 0, sizeof(*e));
}

/* Lists dir sorted by name; a missing dir is empty. Only a name that is
 * not there at all is missing: a link whose target is gone (a volume not
 * mounted) cannot be listed, and a check that took it for empty would find
 * the store clean, and -p would mark it so (the engine's store_probe
 * refuses it alike). */
static int fsck_list(struct fsck_ctx *c, const char *dir, struct fsck_ents *out, char *msg,
                     size_t size)
{
    memset(out, 0, sizeof(*out));
    int rc = c->io->list_dir(c->io, dir, fsck_ents_add, out);
    if (out->oom)
        rc = -ENOMEM;
    if (rc == -ENOENT && c->io->stat(c->io, dir, NULL, NULL) == 0) {
        fsck_msgf(msg, size,
                  "cannot list %s: a name there leads to no directory (a dangling link?)", dir);
        fsck_ents_free(out);
        return -ENOTDIR;
    }
    if (rc == -ENOENT)
        rc = 0;
    if (rc < 0) {
        fsck_msgf(msg, size, "cannot list %s: %s", dir, strerror(-rc));
        fsck_ents_free(out);
        return rc;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), fsck_ent_cmp);
    /* The backend's listing follows no link but does not tell one, nor a
     * FIFO, device or socket, which a store file's checks would open and
     * read (a FIFO's open waits for a writer forever): lstat. (A simulated
     * filesystem has none: its names do not lstat.) */
    for (size_t i = 0; i < out->n; i++) {
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof(path), "%s/%s", dir, out->v[i].name) >= (int)sizeof(path) ||
            lstat(path, &st) != 0)
            continue;
        out->v[i].is_link = S_ISLNK(st.st_mode);
        out->v[i].is_special = !S_ISLNK(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
    }
    return 0;
}

/* A finding about a whole file ROOT/sub/name. */
static int fsck_tree_finding(struct fsck_ctx *c, enum fsck_code code, const char *sub,
                             const char *name, int detail)
{
    char rel[PATH_MAX], path[PATH_MAX];
    uint64_t size = 0;
    int is_dir = 0;
    if (snprintf(rel, sizeof(rel), "%s%s%s", sub, *sub ? "/" : "", name) >= (int)sizeof(rel))
        return -ENAMETOOLONG;
    if (detail != FSCK_FOREIGN_LINK && fsck_path(c, rel, path) == 0)
        (void)c->io->stat(c->io, path, &size, &is_dir);
    struct fsck_finding f = {.code = code, .detail = detail, .len = is_dir ? 0 : size};
    f.file = fsck_str(c, rel);
    if (!f.file)
        return -ENOMEM;
    return fsck_flist_add(&c->tree, &f);
}

static int fsck_add_item(struct fsck_ctx *c, struct fsck_item **out)
{
    if (c->nitems == c->capitems) {
        size_t ncap = c->capitems ? c->capitems * 2 : 64;
        struct fsck_item *nv = realloc(c->items, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        c->items = nv;
        c->capitems = ncap;
    }
    *out = &c->items[c->nitems++];
    memset(*out, 0, sizeof(**out));
    return 0;
}

/* Size of ROOT/rel, 0 if it cannot be read (the check will say why). */
static uint64_t fsck_size_of(struct fsck_ctx *c, const char *rel)
{
    char path[PATH_MAX];
    uint64_t size = 0;
    if (fsck_path(c, rel, path) == 0 && c->io->stat(c->io, path, &size, NULL) == 0)
        return size;
    return 0;
}

static int fsck_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* 1 if every byte of s is a hex digit of either case. */
static int fsck_all_hex(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
            return 0;
    return 1;
}

static int fsck_walk_streams(struct fsck_ctx *c, char *msg, size_t size)
{
    struct fsck_ents e;
    const char **logs = NULL, **seqs = NULL;
    size_t nlogs = 0, nseqs = 0;
    char decoded[LAYOUT_STREAM_MAX];
    char rel[PATH_MAX];
    int rc = fsck_list(c, c->streams_dir, &e, msg, size);
    if (rc)
        return rc;
    logs = calloc(e.n + 1, sizeof(*logs));
    seqs = calloc(e.n + 1, sizeof(*seqs));
    if (!logs || !seqs) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < e.n && rc == 0; i++) {
        const char *name = e.v[i].name;
        size_t dlen = 0;
        if (e.v[i].is_link) {
            rc = fsck_tree_finding(c, FSCK_FOREIGN_FILE, "streams", name, FSCK_FOREIGN_LINK);
            continue;
        }
        if (e.v[i].is_special) {
            rc = fsck_tree_finding(c, FSCK_FOREIGN_FILE, "streams", name, FSCK_FOREIGN_SPECIAL);
            continue;
        }
        if (e.v[i].is_dir) {
            rc = fsck_tree_finding(c, FSCK_FOREIGN_FILE, "streams", name, FSCK_FOREIGN_DIR);
            continue;
        }
        switch (layout_classify_stream_file(name, decoded, &dlen)) {
        case LAYOUT_TMP:
            rc = fsck_tree_finding(c, FSCK_TEMP_FILE, "streams", name, 0);
            break;
        case LAYOUT_LOG:
            logs[nlogs++] = name; /* e is sorted, so logs and seqs are too */
            break;
        case LAYOUT_SEQ:
            seqs[nseqs++] = name;
            break;
        case LAYOUT_FOREIGN:
            if (fsck_has_suffix(name, ".log") || fsck_has_suffix(name, ".seq"))
                rc = fsck_tree_finding(c, FSCK_BAD_NAME, "streams", name, 0);
            else
                rc = fsck_tree_finding(c, FSCK_FOREIGN_FILE, "streams", name, 0);
            break;
        }
    }
    /* Merge the sorted stems of logs and seqs into stream items. */
    size_t i = 0, j = 0;
    while (rc == 0 && (i < nlogs || j < nseqs)) {
        size_t li = i < nlogs ? strlen(logs[i]) - 4 : 0;
        size_t sj = j < nseqs ? strlen(seqs[j]) - 4 : 0;
        int cmp;
        if (i >= nlogs)
            cmp = 1;
        else if (j >= nseqs)
            cmp = -1;
        else {
            size_t m = li < sj ? li : sj;
            cmp = memcmp(logs[i], seqs[j], m);
            if (cmp == 0)
                cmp = li < sj ? -1 : li > sj;
        }
        struct fsck_item *it;
        rc = fsck_add_item(c, &it);
        if (rc)
            break;
        it->kind = FSCK_ITEM_STREAM;
        const char *stem_src = cmp <= 0 ? logs[i] : seqs[j];
        size_t stem_len = cmp <= 0 ? li : sj;
        fsck_msgf(rel, sizeof(rel), "%.*s", (int)stem_len, stem_src);
        it->name = fsck_str(c, rel);
        fsck_msgf(rel, sizeof(rel), "streams/%.*s.log", (int)stem_len, stem_src);
        it->rel = fsck_str(c, rel);
        fsck_msgf(rel, sizeof(rel), "streams/%.*s.seq", (int)stem_len, stem_src);
        it->rel_seq = fsck_str(c, rel);
        if (!it->name || !it->rel || !it->rel_seq) {
            rc = -ENOMEM;
            break;
        }
        if (cmp <= 0) {
            it->has_log = 1;
            it->size = fsck_size_of(c, it->rel);
            i++;
        }
        if (cmp >= 0) {
            it->has_seq = 1;
            j++;
        }
    }
out:
    if (rc == -ENOMEM)
        fsck_msgf(msg, size, "out of memory");
    else if (rc)
        fsck_msgf(msg, size, "cannot walk %s: %s", c->streams_dir, strerror(-rc));
    free(logs);
    free(seqs);
    fsck_ents_free(&e);
    return rc;
}

/* kv/ and blobs/. */
static int fsck_walk_files(struct fsck_ctx *c, int blobs, char *msg, size_t size)
{
    struct fsck_ents e;
    const char *sub = blobs ? "blobs" : "kv";
    char rel[PATH_MAX];
    int rc = fsck_list(c, blobs ? c->blobs_dir : c->kv_dir, &e, msg, size);
    if (rc)
        return rc;
    for (size_t i = 0; i < e.n && rc == 0; i++) {
        const char *name = e.v[i].name;
        size_t n = strlen(name);
        if (e.v[i].is_link) {
            rc = fsck_tree_finding(c, FSCK_FOREIGN_FILE, sub, name, FSCK_FOREIGN_LINK);
            continue;
        }
        if (e.v[i].is_special) {
            rc = fsck_tree_finding(c, FSCK_FOREIGN_FILE, sub, name, FSCK_FOREIGN_SPECIAL);
            continue;
        }
        if (e.v[i].is_dir) {
            rc = fsck_tree_finding(c, FSCK_FOREIGN_FILE, sub, name, FSCK_FOREIGN_DIR);
            continue;
        }
        if (layout_is_tmp(name)) {
            rc = fsck_tree_finding(c, FSCK_TEMP_FILE, sub, name, 0);
            continue;
        }
        int valid;
        if (blobs) {
            valid = cid_valid(name, n);
        } else {
            char key[LAYOUT_KEY_MAX];
            size_t klen = 0;
            valid = n >= 2 && n <= (size_t)2 * LAYOUT_KEY_MAX &&
                    layout_hex_decode(name, n, key, &klen) == 0;
        }
        if (!valid) {
            enum fsck_code code = blobs || fsck_all_hex(name) ? FSCK_BAD_NAME : FSCK_FOREIGN_FILE;
            rc = fsck_tree_finding(c, code, sub, name, 0);
            continue;
        }
        struct fsck_item *it;
        rc = fsck_add_item(c, &it);
        if (rc)
            break;
        it->kind = blobs ? FSCK_ITEM_BLOB : FSCK_ITEM_KV;
        fsck_msgf(rel, sizeof(rel), "%s/%s", sub, name);
        it->name = fsck_str(c, name);
        it->rel = fsck_str(c, rel);
        if (!it->name || !it->rel) {
            rc = -ENOMEM;
            break;
        }
        it->size = fsck_size_of(c, it->rel);
    }
    if (rc == -ENOMEM)
        fsck_msgf(msg, size, "out of memory");
    else if (rc)
        fsck_msgf(msg, size, "cannot walk %s/%s: %s", c->root, sub, strerror(-rc));
    fsck_ents_free(&e);
    return rc;
}

static int fsck_walk_root(struct fsck_ctx *c, char *msg, size_t size)
{
    char path[PATH_MAX], text[64];
    size_t len = 0;
    struct fsck_ents e;
    int rc;

    if (fsck_path(c, "FORMAT", path)) {
        fsck_msgf(msg, size, "store path too long: %s", c->root);
        return -ENAMETOOLONG;
    }
    rc = fsck_read_small(c, path, text, sizeof(text) - 1, &len);
    if (rc == -ENOENT) {
        c->legacy_store = 1;
        rc = fsck_tree_finding(c, FSCK_FORMAT_MISSING, "", "FORMAT", 0);
        if (rc) {
            fsck_msgf(msg, size, "out of memory");
            return rc;
        }
        /* a: the reference's store (folders), or one nothing was written to */
        c->tree.v[c->tree.n - 1].a = store_legacy(c->io, c->root);
    } else if (rc == -E2BIG || (rc == 0 && !layout_format_version(text, len))) {
        fsck_msgf(msg, size,
                  "%s: not a store format this sxp-fsck reads (want \"sxp 2\" or \"sxp 1\")", path);
        return -EUCLEAN;
    } else if (rc) {
        fsck_msgf(msg, size, "cannot read %s: %s", path, strerror(-rc));
        return rc;
    }

    rc = fsck_list(c, c->root, &e, msg, size);
    if (rc)
        return rc;
    for (size_t i = 0; i < e.n && rc == 0; i++)
        if (!e.v[i].is_dir && layout_is_tmp(e.v[i].name))
            rc = fsck_tree_finding(c, FSCK_TEMP_FILE, "", e.v[i].name, 0);
    fsck_ents_free(&e);
    if (rc)
        fsck_msgf(msg, size, "out of memory");
    return rc;
}

int fsck_probe_store(struct fsck_ctx *c, char *msg, size_t size)
{
    int rc = store_probe(c->io, c->root);
    if (rc == 0)
        return 0; /* a store, or one nothing was written to yet */
    if (rc == -ENOTEMPTY)
        fsck_msgf(msg, size,
                  "cannot check %.400s: not a store (no FORMAT, LOCK, streams/, kv/ or blobs/)",
                  c->root);
    else if (rc == -ENAMETOOLONG)
        fsck_msgf(msg, size, "store path too long: %s", c->root);
    else
        fsck_msgf(msg, size, "cannot list %.400s: %s", c->root, strerror(-rc));
    return rc == -ENOTEMPTY ? -ENOTDIR : rc;
}

int fsck_walk(struct fsck_ctx *c, char *msg, size_t size)
{
    int rc = fsck_walk_root(c, msg, size);
    if (!rc)
        rc = fsck_walk_streams(c, msg, size);
    if (!rc)
        rc = fsck_walk_files(c, 0, msg, size);
    if (!rc)
        rc = fsck_walk_files(c, 1, msg, size);
    return rc;
}
