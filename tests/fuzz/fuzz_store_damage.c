/*
 * fuzz_store_damage.c -- random damage to a whole store, then recovery and
 * sxp-fsck (fsck/fsck.h) over it: a disk may flip bits, lose pages, and an
 * operator may copy a directory half-way or drop files into it.
 *
 * THE TEMPLATE. On first use a valid store is built once, with the engine,
 * in $TMPDIR/sxp-fuzz-damage-XXXXXX/template (see fuzz_damage_build): framed
 * streams of several sizes (one truncated, so its hw is above its log), a
 * stream of legacy lines, kv keys (one legacy), blobs. It is closed cleanly
 * and read into memory.
 *
 * THE INPUT IS A MUTATION SCRIPT. Byte 0 holds flags (bit 0: leave LOCK
 * clean, so open does not recover and fsck meets the damage first; else
 * bit 1: LOCK says a session without syncs crashed, naming no boot, so
 * recovery and fsck trust no .seq, recover.c R-7). Then,
 * until the input ends (at most FUZZ_DAMAGE_MAX_OPS), one op byte and its
 * arguments, each read as bytes (missing bytes read as 0); FILE is a byte
 * naming one of the files of the tree (modulo their count), OFF a 16-bit
 * offset (modulo the size):
 *   FLIP FILE OFF MASK          XOR one byte
 *   SET FILE OFF BYTE           overwrite one byte
 *   ZERO FILE OFF LEN           LEN+1 bytes become NUL (a lost page)
 *   TRUNC FILE OFF              cut the file at OFF
 *   CUT FILE OFF LEN            remove LEN+1 bytes from the middle
 *   DUP FILE OFF LEN OFF2       insert a copy of LEN+1 bytes at OFF2
 *   SWAP FILE OFF OFF2 LEN      exchange two equal, disjoint ranges
 *   INSERT FILE OFF N BYTES...  insert N%32 bytes taken from the input
 *   EXTEND FILE N16             append N16%4096 NUL bytes (a grown file)
 *   RENAME FILE HOW [BYTES]     onto another file, upper-cased hex, + ".tmp",
 *                               into another folder, .log <-> .seq, or a
 *                               junk name
 *   DELETE FILE                 unlink
 *   JUNK WHERE KIND N BYTES...  a new file (temp name, stream-like name,
 *                               key-like name, cid-like name, junk name) or
 *                               a directory, in ROOT, streams/, kv/, blobs/
 * FORMAT and LOCK are never touched: a damaged FORMAT is "a format this
 * sxp-fsck does not read", status 8 by design (checks.h).
 *
 * Every byte that was not written by a damage keeps its ORIGIN, its offset
 * in the template's file; bytes a damage wrote (or moved) have none. A
 * template log line is INTACT when its file kept its name, the line's bytes
 * all sit together with their origins in order, and the byte before them
 * is the start of the file or an LF.
 *
 * PROPERTIES, for any script:
 *   FSD-1  Open read-write (which recovers unless LOCK is clean) returns 0
 *          or -EUCLEAN; then close. Never a crash, a hang or a leak.
 *   FSD-2  If that open recovered and succeeded, recovery left no crash
 *          residue and no log corruption: fsck -n finds no torn-tail,
 *          hw-behind, hw-lowered, seq-missing, temp-file, checksum,
 *          seq-order, event-unparsable, event-no-seq, blank-line or
 *          seq-unreadable.
 *   FSD-3  fsck -n exits 0 or 4; then fsck -y exits 0 or 1 (every repair
 *          done; 4 would be a repair that failed in a writable temp
 *          directory); then fsck -n exits 0. Never 8.
 *   FSD-4  The store then opens read-write. Every intact line's event is in
 *          its stream's read (compared by canonical text), except
 *            - at most F lines of a log holding F good lines the damage
 *              forged (fsck keeps the longest increasing run of seqs; with
 *              forged seqs two runs can tie), and
 *            - lines after the first damaged line of a log that holds a NUL
 *              byte or is the unterminated last line, when LOCK was not
 *              left clean and the stream's .seq (as damaged) does not cover
 *              the line's seq: recover.c R-3 calls those a torn tail (a
 *              lost page and later pages that survived) and cuts them.
 *              Under a clean LOCK (R-3d) or a covering .seq (R-3c) they
 *              must survive; under bit 1 no .seq covers a line.
 *          Every stream's events have strictly increasing seqs and its
 *          last-seq is at least the last of them. Every intact kv file reads
 *          back its value, every intact blob its bytes.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cid.h"
#include "frame.h"
#include "fsck.h"
#include "layout.h"
#include "sx.h"

#define FUZZ_DAMAGE_MAX_OPS 16
#define FUZZ_DAMAGE_MAX_FILES 64
#define FUZZ_DAMAGE_NO_ORIGIN (-1)

/* One file of the tree being damaged. */
struct fz_file {
    char rel[512]; /* path under ROOT */
    int tmpl;      /* index in the template, or -1 for a junk file */
    int renamed;   /* it no longer has its template name */
    int alive;     /* 0 once deleted or renamed over */
    int is_dir;    /* a junk directory */
    unsigned char *b;
    int32_t *org; /* origin of each byte, or FUZZ_DAMAGE_NO_ORIGIN */
    size_t len, cap;
};

/* One line of a template log. */
struct fz_line {
    size_t off, len;
};

/* One file of the template. */
struct fz_tfile {
    char rel[512];
    unsigned char *b;
    size_t len;
    int is_log, is_kv, is_blob;
    char name[LAYOUT_KEY_MAX + 1]; /* stream name or key */
    size_t name_len;
    struct fz_line *lines;
    size_t nlines;
};

static struct {
    char dir[PATH_MAX];
    char tmpl[PATH_MAX];
    char work[PATH_MAX];
    struct fz_tfile *t;
    size_t nt;
    int built;
} fz;

/* ---- The template ------------------------------------------------------- */

static sxp_value *fz_val(const char *text)
{
    sxp_value *v = NULL;
    struct sxp_err err;
    int rc = sx_parse(text, strlen(text), &v, &err);
    FUZZ_CHECKF(rc == 0, " %s: %s", text, err.msg);
    return v;
}

static void fz_append(sxp_store *s, const char *stream, const char *event)
{
    struct sxp_err err;
    sxp_value *ev = fz_val(event);
    int rc = sxp_stream_append(s, stream, strlen(stream), ev, &err);
    FUZZ_CHECKF(rc == 0, " template append %s: %s", event, err.msg);
    sxp_value_free(ev);
}

static void fz_put(sxp_store *s, const char *key, const char *value)
{
    struct sxp_err err;
    sxp_value *v = fz_val(value);
    int rc = sxp_kv_put(s, key, strlen(key), v, &err);
    FUZZ_CHECKF(rc == 0, " template kv-put: %s", err.msg);
    sxp_value_free(v);
}

static void fz_blob(sxp_store *s, const void *bytes, size_t len)
{
    struct sxp_err err;
    char cid[SXP_CID_LEN + 1];
    int rc = sxp_blob_put(s, bytes, len, cid, &err);
    FUZZ_CHECKF(rc == 0, " template blob/put: %s", err.msg);
}

/* Writes the template store with the engine, then hand-written legacy files
 * (the reference's format: no trailers). */
static void fz_build(const char *root)
{
    struct sxp_options o;
    struct sxp_err err;
    sxp_store *s = NULL;
    char buf[256];
    sxp_options_init(&o);
    o.sync = SXP_SYNC_NONE;
    o.quiet = 1;
    int rc = sxp_store_open(root, &o, &s, &err);
    FUZZ_CHECKF(rc == 0, " template open: %s", err.msg);
    for (int i = 1; i <= 12; i++) {
        snprintf(buf, sizeof(buf), "{:item \"widget-%d\" :qty %d :seq %d}", i, i * 3, i * 2);
        fz_append(s, "orders", buf);
    }
    fz_append(s, "users", "{:name \"ann\" :seq 1 :tags (list :a :b)}");
    fz_append(s, "users", "{:name \"bob\\tthe \\\"2nd\\\"\" :seq 2}");
    fz_append(s, "users", "{:n 2.5 :seq 3 :x {:y nil :z true}}");
    fz_append(s, "users", "{:note \"line\\none\" :seq 40}");
    for (int i = 1; i <= 6; i++) {
        snprintf(buf, sizeof(buf), "{:seq %d :v (quote s%d)}", i, i);
        fz_append(s, "t", buf);
    }
    rc = sxp_stream_truncate(s, "t", 1, 3, &err);
    FUZZ_CHECKF(rc == 0, " template truncate: %s", err.msg);
    fz_append(s, "e", "{:seq 1}");
    rc = sxp_stream_truncate(s, "e", 1, 1, &err);
    FUZZ_CHECKF(rc == 0, " template truncate: %s", err.msg);
    fz_put(s, "config", "{:retries 3 :verbose true}");
    fz_put(s, "greeting", "\"hello\"");
    fz_put(s, "n", "-42");
    fz_blob(s, "hello world", 11);
    fz_blob(s, "", 0);
    fz_blob(s, "\0\x01\n\tbin", 8);
    rc = sxp_store_close(s);
    FUZZ_CHECKF(rc == 0, " template close: %d", rc);

    /* A stream and a key as the reference wrote them. */
    static const char legacy_log[] = "{:seq 1 :who \"ref\"}\n{:seq 2}\n{:seq 5 :x (list)}\n";
    char path[PATH_MAX];
    fuzz_fmt(path, sizeof(path), "%s/streams/6c6567616379.log", root); /* "legacy" */
    FUZZ_CHECK(fuzz_write_file(path, legacy_log, strlen(legacy_log)) == 0);
    fuzz_fmt(path, sizeof(path), "%s/streams/6c6567616379.seq", root);
    FUZZ_CHECK(fuzz_write_file(path, "5", 1) == 0);
    fuzz_fmt(path, sizeof(path), "%s/kv/6f6c64", root); /* "old" */
    FUZZ_CHECK(fuzz_write_file(path, "(list 1 \"two\")", 14) == 0);
}

static int fz_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir; returns the count. */
static size_t fz_list(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    char **v = NULL;
    size_t n = 0;
    FUZZ_CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        v = fuzz_realloc(v, (n + 1) * sizeof(*v));
        v[n] = strdup(e->d_name);
        FUZZ_CHECK(v[n] != NULL);
        n++;
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof(*v), fz_str_cmp);
    *out = v;
    return n;
}

/* Reads the template's files into fz.t, in a fixed order. */
static void fz_load(void)
{
    static const char *const dirs[] = {"streams", "kv", "blobs"};
    for (size_t d = 0; d < 3; d++) {
        char dir[PATH_MAX];
        char **names = NULL;
        fuzz_fmt(dir, sizeof(dir), "%s/%s", fz.tmpl, dirs[d]);
        size_t n = fz_list(dir, &names);
        for (size_t i = 0; i < n; i++) {
            fz.t = fuzz_realloc(fz.t, (fz.nt + 1) * sizeof(*fz.t));
            struct fz_tfile *t = &fz.t[fz.nt++];
            memset(t, 0, sizeof(*t));
            fuzz_fmt(t->rel, sizeof(t->rel), "%s/%s", dirs[d], names[i]);
            char path[PATH_MAX];
            fuzz_fmt(path, sizeof(path), "%s/%s", fz.tmpl, t->rel);
            t->b = (unsigned char *)fuzz_read_file(path, &t->len);
            FUZZ_CHECK(t->b != NULL);
            size_t nl = strlen(names[i]);
            if (d == 0 && nl > 4 && strcmp(names[i] + nl - 4, ".log") == 0) {
                t->is_log = 1;
                FUZZ_CHECK(layout_hex_decode(names[i], nl - 4, t->name, &t->name_len) == 0);
                for (size_t off = 0; off < t->len;) {
                    const unsigned char *lf = memchr(t->b + off, '\n', t->len - off);
                    FUZZ_CHECK(lf != NULL);
                    size_t len = (size_t)(lf - (t->b + off)) + 1;
                    t->lines = fuzz_realloc(t->lines, (t->nlines + 1) * sizeof(*t->lines));
                    t->lines[t->nlines].off = off;
                    t->lines[t->nlines].len = len;
                    t->nlines++;
                    off += len;
                }
            } else if (d == 1) {
                t->is_kv = 1;
                FUZZ_CHECK(layout_hex_decode(names[i], nl, t->name, &t->name_len) == 0);
            } else if (d == 2) {
                t->is_blob = 1;
            }
            free(names[i]);
        }
        free(names);
    }
    FUZZ_CHECK(fz.nt + 8 < FUZZ_DAMAGE_MAX_FILES);
}

static void fz_init(void)
{
    fuzz_tmpdir("damage", fz.dir);
    fuzz_fmt(fz.tmpl, sizeof(fz.tmpl), "%s/template", fz.dir);
    fuzz_fmt(fz.work, sizeof(fz.work), "%s/work", fz.dir);
    fz_build(fz.tmpl);
    fz_load();
    fz.built = 1;
    /* libFuzzer ends with exit(); the replay test resets first. */
    static int registered;
    if (!registered++)
        atexit(fuzz_store_damage_reset);
}

void fuzz_store_damage_reset(void)
{
    if (fz.dir[0])
        fuzz_rmrf(fz.dir);
    for (size_t i = 0; i < fz.nt; i++) {
        free(fz.t[i].b);
        free(fz.t[i].lines);
    }
    free(fz.t);
    memset(&fz, 0, sizeof(fz));
}

/* ---- The script --------------------------------------------------------- */

struct fz_tree {
    struct fz_file f[FUZZ_DAMAGE_MAX_FILES];
    size_t n;
};

static void fz_reserve(struct fz_file *f, size_t len)
{
    if (len <= f->cap)
        return;
    size_t cap = f->cap ? f->cap : 256;
    while (cap < len)
        cap *= 2;
    f->b = fuzz_realloc(f->b, cap);
    f->org = fuzz_realloc(f->org, cap * sizeof(*f->org));
    f->cap = cap;
}

/* Inserts n bytes (no origin) at off. */
static void fz_insert(struct fz_file *f, size_t off, const unsigned char *bytes, size_t n)
{
    fz_reserve(f, f->len + n + 1);
    memmove(f->b + off + n, f->b + off, f->len - off);
    memmove(f->org + off + n, f->org + off, (f->len - off) * sizeof(*f->org));
    memcpy(f->b + off, bytes, n);
    for (size_t i = 0; i < n; i++)
        f->org[off + i] = FUZZ_DAMAGE_NO_ORIGIN;
    f->len += n;
}

static void fz_remove(struct fz_file *f, size_t off, size_t n)
{
    memmove(f->b + off, f->b + off + n, f->len - off - n);
    memmove(f->org + off, f->org + off + n, (f->len - off - n) * sizeof(*f->org));
    f->len -= n;
}

static struct fz_file *fz_add(struct fz_tree *t, const char *rel, int is_dir)
{
    if (t->n >= FUZZ_DAMAGE_MAX_FILES)
        return NULL;
    struct fz_file *f = &t->f[t->n++];
    memset(f, 0, sizeof(*f));
    fuzz_fmt(f->rel, sizeof(f->rel), "%s", rel);
    f->tmpl = -1;
    f->alive = 1;
    f->is_dir = is_dir;
    return f;
}

/* The live file of that name, if any. */
static struct fz_file *fz_find(struct fz_tree *t, const char *rel)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->f[i].alive && strcmp(t->f[i].rel, rel) == 0)
            return &t->f[i];
    return NULL;
}

/* The file an op names: a live regular file, or NULL when there is none. */
static struct fz_file *fz_pick(struct fz_tree *t, struct fuzz_in *in)
{
    unsigned k = fuzz_u8(in);
    for (size_t tries = 0; tries < t->n; tries++) {
        struct fz_file *f = &t->f[(k + tries) % t->n];
        if (f->alive && !f->is_dir)
            return f;
    }
    return NULL;
}

/* Makes a name from input bytes: [a-z0-9._-], 1..24 characters. */
static void fz_junk_name(struct fuzz_in *in, char *out)
{
    static const char chars[] = "abcdef0123456789xyz._-ABCDEF";
    unsigned n = 1 + fuzz_u8(in) % 24;
    for (unsigned i = 0; i < n; i++)
        out[i] = chars[fuzz_u8(in) % (sizeof(chars) - 1)];
    out[n] = '\0';
    if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        out[0] = 'j';
}

/* The folder part of rel ("" for ROOT) and its base name. */
static void fz_split(const char *rel, char *dir, const char **base)
{
    const char *slash = strrchr(rel, '/');
    if (!slash) {
        dir[0] = '\0';
        *base = rel;
        return;
    }
    memcpy(dir, rel, (size_t)(slash - rel));
    dir[slash - rel] = '\0';
    *base = slash + 1;
}

/* Renames f to rel; a live file of that name is replaced. */
static void fz_rename_to(struct fz_tree *t, struct fz_file *f, const char *rel)
{
    if (strcmp(f->rel, rel) == 0 || strlen(rel) >= sizeof(f->rel))
        return;
    struct fz_file *old = fz_find(t, rel);
    if (old) {
        if (old->is_dir)
            return; /* rename(2) would refuse a file over a directory */
        old->alive = 0;
    }
    fuzz_fmt(f->rel, sizeof(f->rel), "%s", rel);
    f->renamed = 1;
}

static void fz_op_rename(struct fz_tree *t, struct fz_file *f, struct fuzz_in *in)
{
    static const char *const dirs[] = {"streams", "kv", "blobs"};
    char dir[512], rel[600], name[64];
    const char *base;
    fz_split(f->rel, dir, &base);
    switch (fuzz_u8(in) % 6) {
    case 0: { /* onto another file */
        struct fz_file *g = fz_pick(t, in);
        if (g && g != f) {
            fuzz_fmt(rel, sizeof(rel), "%s", g->rel);
            fz_rename_to(t, f, rel);
        }
        return;
    }
    case 1: { /* upper-case hex */
        fuzz_fmt(rel, sizeof(rel), "%s", f->rel);
        for (char *p = rel + strlen(dir); *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
        fz_rename_to(t, f, rel);
        return;
    }
    case 2:
        fuzz_fmt(rel, sizeof(rel), "%s.tmp", f->rel);
        fz_rename_to(t, f, rel);
        return;
    case 3:
        fuzz_fmt(rel, sizeof(rel), "%s/%s", dirs[fuzz_u8(in) % 3], base);
        fz_rename_to(t, f, rel);
        return;
    case 4: { /* .log <-> .seq */
        size_t n = strlen(f->rel);
        fuzz_fmt(rel, sizeof(rel), "%s", f->rel);
        if (n > 4 && strcmp(rel + n - 4, ".log") == 0)
            memcpy(rel + n - 4, ".seq", 4);
        else if (n > 4 && strcmp(rel + n - 4, ".seq") == 0)
            memcpy(rel + n - 4, ".log", 4);
        else
            return;
        fz_rename_to(t, f, rel);
        return;
    }
    default:
        fz_junk_name(in, name);
        fuzz_fmt(rel, sizeof(rel), "%s%s%s", dir, dir[0] ? "/" : "", name);
        fz_rename_to(t, f, rel);
        return;
    }
}

static void fz_op_junk(struct fz_tree *t, struct fuzz_in *in)
{
    static const char *const dirs[] = {"", "streams", "kv", "blobs"};
    const char *dir = dirs[fuzz_u8(in) % 4];
    unsigned kind = fuzz_u8(in) % 6;
    char name[300], rel[600];
    unsigned char bytes[64];
    switch (kind) {
    case 0:
        fuzz_fmt(name, sizeof(name), "tmp.%u.%u.tmp", fuzz_u8(in), fuzz_u8(in));
        break;
    case 1:   /* a stream file: hex of 1..4 bytes */
    case 2: { /* a key file */
        unsigned n = 1 + fuzz_u8(in) % 4;
        char raw[4];
        for (unsigned i = 0; i < n; i++)
            raw[i] = (char)fuzz_u8(in);
        layout_hex_encode(raw, n, name);
        if (kind == 1)
            strcat(name, fuzz_u8(in) & 1 ? ".seq" : ".log");
        break;
    }
    case 3: { /* a well-formed cid of the bytes that follow */
        unsigned char d[8];
        for (int i = 0; i < 8; i++)
            d[i] = (unsigned char)fuzz_u8(in);
        cid_of(d, sizeof(d), name);
        break;
    }
    default:
        fz_junk_name(in, name);
        break;
    }
    fuzz_fmt(rel, sizeof(rel), "%s%s%s", dir, dir[0] ? "/" : "", name);
    if (strcmp(rel, "FORMAT") == 0 || strcmp(rel, "LOCK") == 0 || fz_find(t, rel) ||
        strcmp(rel, "streams") == 0 || strcmp(rel, "kv") == 0 || strcmp(rel, "blobs") == 0 ||
        strcmp(rel, "lost+found") == 0)
        return;
    unsigned n = fuzz_u8(in);
    int is_dir = n == 255;
    struct fz_file *f = fz_add(t, rel, is_dir);
    if (!f || is_dir)
        return;
    n %= sizeof(bytes);
    fuzz_take(in, bytes, n);
    fz_insert(f, 0, bytes, n);
}

/* A short name of an op, for SXP_FUZZ_VERBOSE. */
static const char *const fz_op_names[] = {"flip", "set",    "zero",   "trunc",  "cut",    "dup",
                                          "swap", "insert", "extend", "rename", "delete", "junk"};

static void fz_apply(struct fz_tree *t, struct fuzz_in *in)
{
    unsigned op = fuzz_u8(in) % 12;
    if (op == 11) {
        if (fuzz_verbose())
            fprintf(stderr, "fuzz_store_damage: junk\n");
        fz_op_junk(t, in);
        return;
    }
    struct fz_file *f = fz_pick(t, in);
    if (!f)
        return;
    if (fuzz_verbose())
        fprintf(stderr, "fuzz_store_damage: %s %s\n", fz_op_names[op], f->rel);
    size_t len = f->len;
    size_t off = len ? fuzz_u16(in) % len : 0;
    switch (op) {
    case 0: /* flip */
        if (len) {
            f->b[off] ^= (unsigned char)(fuzz_u8(in) | 1);
            f->org[off] = FUZZ_DAMAGE_NO_ORIGIN;
        }
        break;
    case 1: /* set */
        if (len) {
            f->b[off] = (unsigned char)fuzz_u8(in);
            f->org[off] = FUZZ_DAMAGE_NO_ORIGIN;
        }
        break;
    case 2: { /* zero */
        size_t n = 1 + fuzz_u8(in);
        for (size_t i = off; i < len && i < off + n; i++) {
            f->b[i] = 0;
            f->org[i] = FUZZ_DAMAGE_NO_ORIGIN;
        }
        break;
    }
    case 3: /* trunc */
        f->len = off;
        break;
    case 4: { /* cut */
        size_t n = 1 + fuzz_u8(in);
        if (len)
            fz_remove(f, off, n < len - off ? n : len - off);
        break;
    }
    case 5: { /* dup */
        size_t n = 1 + fuzz_u8(in);
        size_t to = len ? fuzz_u16(in) % (len + 1) : 0;
        if (!len)
            break;
        if (n > len - off)
            n = len - off;
        unsigned char *copy = malloc(n);
        FUZZ_CHECK(copy != NULL);
        memcpy(copy, f->b + off, n);
        fz_insert(f, to, copy, n);
        free(copy);
        break;
    }
    case 6: { /* swap */
        size_t b = len ? fuzz_u16(in) % len : 0;
        size_t n = 1 + fuzz_u8(in);
        size_t a = off < b ? off : b, c = off < b ? b : off;
        if (a + n > c || c + n > len)
            break;
        for (size_t i = 0; i < n; i++) {
            unsigned char x = f->b[a + i];
            f->b[a + i] = f->b[c + i];
            f->b[c + i] = x;
            f->org[a + i] = f->org[c + i] = FUZZ_DAMAGE_NO_ORIGIN;
        }
        break;
    }
    case 7: { /* insert */
        unsigned char bytes[32];
        size_t n = fuzz_u8(in) % 32;
        fuzz_take(in, bytes, n);
        fz_insert(f, off, bytes, n);
        break;
    }
    case 8: { /* extend */
        size_t n = fuzz_u16(in) % 4096;
        fz_reserve(f, len + n);
        memset(f->b + len, 0, n);
        for (size_t i = 0; i < n; i++)
            f->org[len + i] = FUZZ_DAMAGE_NO_ORIGIN;
        f->len += n;
        break;
    }
    case 9:
        fz_op_rename(t, f, in);
        break;
    case 10:
        f->alive = 0;
        break;
    }
}

/* The tree at the start: every template file, every byte at its origin. */
static void fz_tree_init(struct fz_tree *t)
{
    t->n = 0;
    for (size_t i = 0; i < fz.nt; i++) {
        struct fz_file *f = fz_add(t, fz.t[i].rel, 0);
        f->tmpl = (int)i;
        fz_reserve(f, fz.t[i].len + 1);
        memcpy(f->b, fz.t[i].b, fz.t[i].len);
        for (size_t k = 0; k < fz.t[i].len; k++)
            f->org[k] = (int32_t)k;
        f->len = fz.t[i].len;
    }
}

static void fz_tree_free(struct fz_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->f[i].b);
        free(t->f[i].org);
    }
    t->n = 0;
}

/* Writes the damaged tree to fz.work. */
/* What LOCK says, from the input's flags (byte 0). */
enum fz_lock {
    FZ_LOCK_CRASHED = 0, /* a syncing session crashed */
    FZ_LOCK_CLEAN,       /* bit 0: closed cleanly (R-3d) */
    FZ_LOCK_UNSYNCED,    /* bit 1: a session without syncs crashed, no boot named */
};

static enum fz_lock fz_lock_of(unsigned flags)
{
    return (flags & 1) ? FZ_LOCK_CLEAN : (flags & 2) ? FZ_LOCK_UNSYNCED : FZ_LOCK_CRASHED;
}

static void fz_tree_write(const struct fz_tree *t, enum fz_lock lk)
{
    char path[PATH_MAX];
    static const char *const dirs[] = {"streams", "kv", "blobs"};
    fuzz_rmrf(fz.work);
    FUZZ_CHECK(mkdir(fz.work, 0755) == 0);
    for (size_t d = 0; d < 3; d++) {
        fuzz_fmt(path, sizeof(path), "%s/%s", fz.work, dirs[d]);
        FUZZ_CHECK(mkdir(path, 0755) == 0);
    }
    fuzz_fmt(path, sizeof(path), "%s/FORMAT", fz.work);
    FUZZ_CHECK(fuzz_write_file(path, LAYOUT_FORMAT_TEXT, strlen(LAYOUT_FORMAT_TEXT)) == 0);
    fuzz_fmt(path, sizeof(path), "%s/LOCK", fz.work);
    const char *lock = lk == FZ_LOCK_CLEAN      ? "clean\n"
                       : lk == FZ_LOCK_UNSYNCED ? "pid 999999999 unsynced\n"
                                                : "pid 999999999\n";
    FUZZ_CHECK(fuzz_write_file(path, lock, strlen(lock)) == 0);
    /* Directories first, so a junk file may be created in none of them. */
    for (size_t i = 0; i < t->n; i++) {
        const struct fz_file *f = &t->f[i];
        if (!f->alive || !f->is_dir)
            continue;
        fuzz_fmt(path, sizeof(path), "%s/%s", fz.work, f->rel);
        (void)mkdir(path, 0755);
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct fz_file *f = &t->f[i];
        if (!f->alive || f->is_dir)
            continue;
        fuzz_fmt(path, sizeof(path), "%s/%s", fz.work, f->rel);
        int rc = fuzz_write_file(path, f->b, f->len);
        FUZZ_CHECKF(rc == 0 || rc == -EISDIR, " write %s: %s", path, strerror(-rc));
    }
}

/* ---- What must survive ---------------------------------------------------- */

/* Where each line of template log tf sits in f, into pos[0..tf->nlines):
 * its offset, or -1 when it is not intact. Origins are unique (a damage
 * never copies one), so one inverse map finds every line. */
static void fz_line_positions(const struct fz_file *f, const struct fz_tfile *tf, long *pos)
{
    long *inv = malloc((tf->len + 1) * sizeof(*inv));
    FUZZ_CHECK(inv != NULL);
    for (size_t k = 0; k < tf->len; k++)
        inv[k] = -1;
    for (size_t p = 0; p < f->len; p++)
        if (f->org[p] >= 0 && (size_t)f->org[p] < tf->len)
            inv[f->org[p]] = (long)p;
    for (size_t i = 0; i < tf->nlines; i++) {
        const struct fz_line *ln = &tf->lines[i];
        long p = inv[ln->off];
        pos[i] = -1;
        if (p < 0 || (size_t)p + ln->len > f->len || (p > 0 && f->b[p - 1] != '\n'))
            continue;
        size_t k = 1;
        while (k < ln->len && f->org[(size_t)p + k] == (int32_t)(ln->off + k))
            k++;
        if (k == ln->len)
            pos[i] = p;
    }
    free(inv);
}

/* Facts about one damaged log: where its first residue-like damaged line
 * starts (a line holding a NUL, or the unterminated last line) and how many
 * good lines the damage forged. pos: fz_line_positions. */
struct fz_logfacts {
    size_t residue_at; /* offset, or SIZE_MAX */
    unsigned forged;
};

static void fz_log_facts(const struct fz_file *f, const struct fz_tfile *tf, const long *pos,
                         struct fz_logfacts *out)
{
    out->residue_at = SIZE_MAX;
    out->forged = 0;
    for (size_t off = 0; off < f->len;) {
        struct frame_line l;
        frame_next((const char *)f->b + off, f->len - off, &l);
        /* Is this exactly an intact template line? */
        int intact = 0;
        for (size_t i = 0; i < tf->nlines && !intact; i++)
            intact = pos[i] == (long)off && tf->lines[i].len == l.line_len;
        if (!intact) {
            int has_nul = memchr(f->b + off, 0, l.line_len) != NULL;
            if ((has_nul || l.status == FRAME_INCOMPLETE) && out->residue_at == SIZE_MAX)
                out->residue_at = off;
            if (l.status == FRAME_OK || l.status == FRAME_LEGACY) {
                sxp_value *v = NULL;
                int64_t seq;
                if (sx_parse(l.payload, l.payload_len, &v, NULL) == 0 &&
                    sx_event_seq(v, &seq, NULL) == 0)
                    out->forged++;
                sxp_value_free(v);
            }
        }
        off += l.line_len;
    }
}

static int fz_has_text(char **texts, size_t n, const char *p, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(texts[i]) == len && memcmp(texts[i], p, len) == 0)
            return 1;
    return 0;
}

/* The high-water mark in the damaged tree's .seq beside template log tf:
 * 1 and *out when that file is there and parses, else 0. */
static int fz_damaged_hw(const struct fz_tree *t, const struct fz_tfile *tf, int64_t *out)
{
    char rel[sizeof(tf->rel)];
    size_t len = strlen(tf->rel);
    if (len < 4)
        return 0;
    memcpy(rel, tf->rel, len - 4);
    memcpy(rel + len - 4, ".seq", 5);
    for (size_t i = 0; i < t->n; i++) {
        const struct fz_file *f = &t->f[i];
        if (f->alive && !f->is_dir && strcmp(f->rel, rel) == 0)
            return layout_seq_parse((const char *)f->b, f->len, out) == 0;
    }
    return 0;
}

/* The seq of template line ln, or INT64_MAX when it has none. */
static int64_t fz_line_seq(const struct fz_tfile *tf, const struct fz_line *ln)
{
    struct frame_line fl;
    sxp_value *v = NULL;
    int64_t seq = INT64_MAX;
    frame_next((const char *)tf->b + ln->off, ln->len, &fl);
    if (sx_parse(fl.payload, fl.payload_len, &v, NULL) == 0 && sx_event_seq(v, &seq, NULL) != 0)
        seq = INT64_MAX;
    sxp_value_free(v);
    return seq;
}

/* FSD-4 for one template log, lk what LOCK said. */
static void fz_check_log(sxp_store *s, const struct fz_tree *t, size_t ti, enum fz_lock lk)
{
    const struct fz_tfile *tf = &fz.t[ti];
    const struct fz_file *f = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (t->f[i].tmpl == (int)ti && t->f[i].alive && !t->f[i].renamed)
            f = &t->f[i];

    struct sxp_err err;
    sxp_value *list = NULL;
    int64_t hw = 0;
    int rc = sxp_stream_read(s, tf->name, tf->name_len, &list, &err);
    FUZZ_CHECKF(rc == 0, " read %s after fsck -y: %s", tf->rel, err.msg);
    rc = sxp_stream_last_seq(s, tf->name, tf->name_len, &hw, &err);
    FUZZ_CHECKF(rc == 0, " last-seq %s after fsck -y: %s", tf->rel, err.msg);
    size_t n = sxp_value_len(list);
    char **texts = calloc(n + 1, sizeof(*texts));
    FUZZ_CHECK(texts != NULL);
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t seq = 0;
        const sxp_value *ev = sxp_value_list_get(list, i);
        FUZZ_CHECK(sx_event_seq(ev, &seq, NULL) == 0);
        FUZZ_CHECKF(i == 0 || seq > prev, " %s: seq %lld after %lld", tf->rel, (long long)seq,
                    (long long)prev);
        prev = seq;
        texts[i] = fuzz_text(ev, NULL, NULL);
        FUZZ_CHECK(texts[i] != NULL);
    }
    FUZZ_CHECKF(n == 0 || hw >= prev, " %s: last-seq %lld below its last event %lld", tf->rel,
                (long long)hw, (long long)prev);

    if (f) {
        struct fz_logfacts facts;
        long *pos = malloc((tf->nlines + 1) * sizeof(*pos));
        FUZZ_CHECK(pos != NULL);
        fz_line_positions(f, tf, pos);
        fz_log_facts(f, tf, pos, &facts);
        int64_t dhw = 0;
        int have_dhw = fz_damaged_hw(t, tf, &dhw);
        unsigned lost = 0;
        for (size_t i = 0; i < tf->nlines; i++) {
            if (pos[i] < 0)
                continue;
            /* A crash explains a lost page and later lines that survived
             * unless the store was closed cleanly (R-3d) or the .seq
             * covers the line (R-3c), which after a session without syncs
             * proves nothing. */
            if (lk != FZ_LOCK_CLEAN && (size_t)pos[i] > facts.residue_at &&
                !(lk == FZ_LOCK_CRASHED && have_dhw && fz_line_seq(tf, &tf->lines[i]) <= dhw))
                continue;
            const struct fz_line *ln = &tf->lines[i];
            struct frame_line fl;
            frame_next((const char *)tf->b + ln->off, ln->len, &fl);
            if (fz_has_text(texts, n, fl.payload, fl.payload_len))
                continue;
            lost++;
            if (lost > facts.forged)
                fuzz_fail(__FILE__, __LINE__, "intact line survives",
                          " %s line %zu (%.*s) is gone after fsck -y; the damage forged %u "
                          "good lines",
                          tf->rel, i + 1, (int)fl.payload_len, fl.payload, facts.forged);
        }
        free(pos);
    }
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    sxp_value_free(list);
}

/* FSD-4 for a template kv file or blob: read back when untouched. */
static void fz_check_file(sxp_store *s, const struct fz_tree *t, size_t ti)
{
    const struct fz_tfile *tf = &fz.t[ti];
    const struct fz_file *f = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (t->f[i].tmpl == (int)ti && t->f[i].alive && !t->f[i].renamed)
            f = &t->f[i];
    if (!f || f->len != tf->len)
        return;
    for (size_t k = 0; k < f->len; k++)
        if (f->org[k] != (int32_t)k)
            return;
    struct sxp_err err;
    int rc;
    if (tf->is_kv) {
        sxp_value *v = NULL, *want = NULL;
        struct frame_line fl;
        frame_decode_whole((const char *)tf->b, tf->len, &fl);
        FUZZ_CHECK(sx_parse(fl.payload, fl.payload_len, &want, NULL) == 0);
        rc = sxp_kv_get(s, tf->name, tf->name_len, &v, &err);
        FUZZ_CHECKF(rc == 0 && fuzz_same_text(v, want), " untouched %s does not read back: %s",
                    tf->rel, rc ? err.msg : "another value");
        sxp_value_free(v);
        sxp_value_free(want);
    } else if (tf->is_blob) {
        void *bytes = NULL;
        size_t len = 0;
        rc = sxp_blob_get(s, tf->rel + 6, &bytes, &len, &err);
        FUZZ_CHECKF(rc == 0 && bytes != NULL && len == tf->len &&
                        (len == 0 || memcmp(bytes, tf->b, len) == 0),
                    " untouched %s does not read back: %s", tf->rel, rc ? err.msg : "bytes");
        free(bytes);
    }
}

/* ---- The run -------------------------------------------------------------- */

static int fz_fsck(enum fsck_mode mode, struct fsck_report *r)
{
    struct fsck_opts o;
    memset(&o, 0, sizeof(o));
    o.root = fz.work;
    o.mode = mode;
    o.threads = 1;
    o.nosync = 1;
    o.io_kind = SXP_IO_AUTO;
    return fsck_run(&o, r);
}

/* A one-line account of a report, for failure messages. */
static void fz_report_str(const struct fsck_report *r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    if (r->fatal[0])
        used += (size_t)snprintf(buf, size, "fatal: %s; ", r->fatal);
    for (size_t i = 0; i < r->n && used + 1 < size; i++) {
        char msg[256];
        fsck_finding_message(&r->f[i], msg, sizeof(msg));
        used += (size_t)snprintf(buf + used, size - used, "[%s %s] ", fsck_code_name(r->f[i].code),
                                 msg);
    }
}

static sxp_store *fz_open(int *rc, struct sxp_err *err)
{
    struct sxp_options o;
    sxp_store *s = NULL;
    sxp_options_init(&o);
    o.sync = SXP_SYNC_NONE;
    o.quiet = 1;
    *rc = sxp_store_open(fz.work, &o, &s, err);
    return *rc ? NULL : s;
}

int fuzz_store_damage_one(const uint8_t *data, size_t size)
{
    static struct fz_tree tree;
    struct fuzz_in in = {data, size, 0};
    struct fsck_report r;
    struct sxp_err err;
    char rep[4096];
    int rc, st;

    if (!fz.built)
        fz_init();
    unsigned flags = fuzz_u8(&in);
    fz_tree_init(&tree);
    for (int i = 0; i < FUZZ_DAMAGE_MAX_OPS && in.i < in.n; i++)
        fz_apply(&tree, &in);
    fz_tree_write(&tree, fz_lock_of(flags));

    /* FSD-1 */
    sxp_store *s = fz_open(&rc, &err);
    FUZZ_CHECKF(rc == 0 || rc == -EUCLEAN, " open of a damaged store: %d: %s", rc, err.msg);
    int recovered = 0;
    if (s) {
        struct sxp_stats stats;
        sxp_store_stats(s, &stats);
        recovered = stats.recovered;
        (void)sxp_store_close(s);
    }
    if (fuzz_verbose())
        fprintf(stderr, "fuzz_store_damage: open rc %d%s %s\n", rc, recovered ? " (recovered)" : "",
                rc ? err.msg : "");

    /* FSD-2, FSD-3 */
    st = fz_fsck(FSCK_MODE_CHECK, &r);
    fz_report_str(&r, rep, sizeof(rep));
    if (fuzz_verbose())
        fprintf(stderr, "fuzz_store_damage: fsck -n: %d: %s\n", st, rep);
    FUZZ_CHECKF(st == FSCK_EXIT_CLEAN || st == FSCK_EXIT_LEFT, " fsck -n exit %d: %s", st, rep);
    if (rc == 0 && recovered) {
        static const enum fsck_code after_recovery[] = {
            FSCK_TORN_TAIL,  FSCK_HW_BEHIND,      FSCK_SEQ_MISSING,      FSCK_TEMP_FILE,
            FSCK_CHECKSUM,   FSCK_SEQ_ORDER,      FSCK_EVENT_UNPARSABLE, FSCK_EVENT_NO_SEQ,
            FSCK_BLANK_LINE, FSCK_SEQ_UNREADABLE, FSCK_HW_LOWERED,       FSCK_SEQ_LOST,
            FSCK_SEQ_TORN,
        };
        for (size_t i = 0; i < sizeof(after_recovery) / sizeof(after_recovery[0]); i++)
            FUZZ_CHECKF(fsck_report_count(&r, after_recovery[i]) == 0,
                        " recovery succeeded but fsck -n finds %s: %s",
                        fsck_code_name(after_recovery[i]), rep);
    }
    fsck_report_free(&r);

    st = fz_fsck(FSCK_MODE_YES, &r);
    fz_report_str(&r, rep, sizeof(rep));
    if (fuzz_verbose())
        fprintf(stderr, "fuzz_store_damage: fsck -y: %d: %s\n", st, rep);
    FUZZ_CHECKF(st == FSCK_EXIT_CLEAN || st == FSCK_EXIT_REPAIRED, " fsck -y exit %d: %s", st, rep);
    fsck_report_free(&r);

    st = fz_fsck(FSCK_MODE_CHECK, &r);
    fz_report_str(&r, rep, sizeof(rep));
    FUZZ_CHECKF(st == FSCK_EXIT_CLEAN, " fsck -n after -y exit %d: %s", st, rep);
    fsck_report_free(&r);

    /* FSD-4 */
    s = fz_open(&rc, &err);
    FUZZ_CHECKF(rc == 0, " open after fsck -y: %d: %s", rc, err.msg);
    for (size_t i = 0; i < fz.nt; i++) {
        if (fz.t[i].is_log)
            fz_check_log(s, &tree, i, fz_lock_of(flags));
        else if (fz.t[i].is_kv || fz.t[i].is_blob)
            fz_check_file(s, &tree, i);
    }
    rc = sxp_store_close(s);
    FUZZ_CHECKF(rc == 0, " close after fsck -y: %d", rc);

    fz_tree_free(&tree);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_store_damage_one(data, size);
}
#endif
