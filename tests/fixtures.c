/*
 * fixtures.c -- test stores and their damage; the stores are described in
 * fixtures.h. Plain POSIX file calls: fixtures must not depend on the
 * engine they are used to test, only on the format (frame.h, cid.h).
 */
#include "fixtures.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cid.h"
#include "frame.h"
#include "sx.h"
#include "testutil.h"

/* Fails the running test with a message. */
static void fx_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fx_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fail_msg("fixture: %s", msg);
    abort(); /* fail_msg does not return; this tells the compiler so */
}

char *fx_join(char *out, const char *root, const char *rel)
{
    if (snprintf(out, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX)
        fx_fail("path too long: %s/%s", root, rel);
    return out;
}

void fx_tmpdir(char *root)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(root, PATH_MAX, "%s/sxp-fx-XXXXXX", base);
    if (!mkdtemp(root))
        fx_fail("mkdtemp %s: %s", root, strerror(errno));
}

void fx_write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fx_fail("open %s: %s", path, strerror(errno));
    if (len && fwrite(bytes, 1, len, f) != len)
        fx_fail("write %s", path);
    if (fclose(f) != 0)
        fx_fail("close %s", path);
}

void fx_append(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "ab");
    if (!f)
        fx_fail("open %s: %s", path, strerror(errno));
    if (len && fwrite(bytes, 1, len, f) != len)
        fx_fail("write %s", path);
    if (fclose(f) != 0)
        fx_fail("close %s", path);
}

char *fx_read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fx_fail("open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        fx_fail("stat %s", path);
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        fx_fail("out of memory");
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    buf[n] = '\0';
    if (out_len)
        *out_len = n;
    return buf;
}

uint64_t fx_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fx_fail("stat %s: %s", path, strerror(errno));
    return (uint64_t)st.st_size;
}

int fx_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void fx_mkdir(const char *root, const char *rel)
{
    char p[PATH_MAX];
    if (mkdir(fx_join(p, root, rel), 0755) != 0 && errno != EEXIST)
        fx_fail("mkdir %s: %s", p, strerror(errno));
}

size_t fx_order_payload(int64_t n, char *out, size_t size)
{
    int w = snprintf(out, size, "{:item \"widget-%" PRId64 "\" :seq %" PRId64 "}", n, n);
    return (size_t)w;
}

size_t fx_order_line(int64_t n, char *out, size_t size)
{
    char payload[128];
    size_t len = fx_order_payload(n, payload, sizeof(payload));
    if (size < len + FRAME_TRAILER_LEN)
        fx_fail("buffer too small");
    return frame_encode(payload, len, out);
}

/* A framed line of payload appended to path. */
static void fx_append_framed(const char *path, const char *payload)
{
    char line[512];
    size_t n = frame_encode(payload, strlen(payload), line);
    fx_append(path, line, n);
}

static void fx_put_blob(const char *root, const char *bytes, size_t len)
{
    char cid[SXP_CID_LEN + 1], rel[128], p[PATH_MAX];
    cid_of(bytes, len, cid);
    snprintf(rel, sizeof(rel), "blobs/%s", cid);
    fx_write_file(fx_join(p, root, rel), bytes, len);
}

void fx_make_store(char *root)
{
    char p[PATH_MAX], line[256];
    fx_tmpdir(root);
    fx_mkdir(root, "streams");
    fx_mkdir(root, "kv");
    fx_mkdir(root, "blobs");
    fx_write_file(fx_join(p, root, "FORMAT"), "sxp 1\n", 6);
    fx_write_file(fx_join(p, root, "LOCK"), "clean\n", 6);

    fx_write_file(fx_join(p, root, FX_ORDERS_LOG), "", 0);
    for (int64_t n = 1; n <= FX_ORDERS; n++) {
        size_t len = fx_order_line(n, line, sizeof(line));
        fx_append(p, line, len);
    }
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "20", 2);

    fx_write_file(fx_join(p, root, FX_USERS_LOG), "", 0);
    for (int n = 1; n <= FX_USERS; n++) {
        char payload[128];
        snprintf(payload, sizeof(payload), "{:name \"user-%d\" :seq %d}", n, n);
        fx_append_framed(p, payload);
    }
    fx_write_file(fx_join(p, root, "streams/7573657273.seq"), "5", 1);

    fx_write_file(fx_join(p, root, FX_KV_CONFIG), "", 0);
    fx_append_framed(p, "{:retries 3 :verbose true}");
    fx_write_file(fx_join(p, root, FX_KV_GREETING), "", 0);
    fx_append_framed(p, "\"hello\"");

    fx_put_blob(root, FX_BLOB_HELLO_TEXT, strlen(FX_BLOB_HELLO_TEXT));
    fx_put_blob(root, "", 0);
}

/* Copies the tree src into dst (which exists), files and directories only. */
static void fx_copy_tree(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    struct dirent *e;
    if (!d)
        fx_fail("opendir %s: %s", src, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char s[PATH_MAX], t[PATH_MAX];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        fx_join(s, src, e->d_name);
        fx_join(t, dst, e->d_name);
        if (lstat(s, &st) != 0)
            fx_fail("stat %s", s);
        if (S_ISDIR(st.st_mode)) {
            if (mkdir(t, 0755) != 0)
                fx_fail("mkdir %s", t);
            fx_copy_tree(s, t);
        } else {
            size_t len;
            char *bytes = fx_read_file(s, &len);
            fx_write_file(t, bytes, len);
            free(bytes);
        }
    }
    closedir(d);
}

void fx_make_legacy_store(char *root)
{
    char src[PATH_MAX];
    const char *here = __FILE__;
    const char *slash = strrchr(here, '/');
    snprintf(src, sizeof(src), "%.*s/data/legacy", slash ? (int)(slash - here) : 1,
             slash ? here : ".");
    fx_tmpdir(root);
    fx_copy_tree(src, root);
}

static int fx_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void fx_remove_tree(const char *root)
{
    if (root && *root)
        nftw(root, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fx_flip_byte(const char *path, uint64_t off)
{
    size_t len;
    char *b = fx_read_file(path, &len);
    if (off >= len)
        fx_fail("flip at %" PRIu64 " past the end of %s (%zu bytes)", off, path, len);
    b[off] ^= 0x01;
    fx_write_file(path, b, len);
    free(b);
}

void fx_cut_tail(const char *path, uint64_t nbytes)
{
    uint64_t size = fx_file_size(path);
    if (nbytes > size)
        fx_fail("cut %" PRIu64 " bytes of %s (%" PRIu64 ")", nbytes, path, size);
    if (truncate(path, (off_t)(size - nbytes)) != 0)
        fx_fail("truncate %s: %s", path, strerror(errno));
}

void fx_append_zeros(const char *path, size_t n)
{
    char *z = calloc(1, n ? n : 1);
    if (!z)
        fx_fail("out of memory");
    fx_append(path, z, n);
    free(z);
}

uint64_t fx_line_offset(const char *path, unsigned no)
{
    size_t len;
    char *b = fx_read_file(path, &len);
    uint64_t off = 0;
    for (unsigned i = 1; i < no; i++) {
        char *lf = memchr(b + off, '\n', len - off);
        if (!lf)
            fx_fail("%s has fewer than %u lines", path, no);
        off = (uint64_t)(lf - b) + 1;
    }
    free(b);
    return off;
}

void fx_swap_lines(const char *path, unsigned i, unsigned j)
{
    if (i > j) {
        unsigned t = i;
        i = j;
        j = t;
    }
    size_t len;
    char *b = fx_read_file(path, &len);
    uint64_t oi = fx_line_offset(path, i), oi2 = fx_line_offset(path, i + 1);
    uint64_t oj = fx_line_offset(path, j), oj2 = fx_line_offset(path, j + 1);
    char *out = malloc(len ? len : 1);
    size_t w = 0;
    if (!out)
        fx_fail("out of memory");
    memcpy(out + w, b, oi), w += oi;
    memcpy(out + w, b + oj, oj2 - oj), w += oj2 - oj;
    memcpy(out + w, b + oi2, oj - oi2), w += oj - oi2;
    memcpy(out + w, b + oi, oi2 - oi), w += oi2 - oi;
    memcpy(out + w, b + oj2, len - oj2), w += len - oj2;
    fx_write_file(path, out, w);
    free(out);
    free(b);
}

/* Snapshot entries. */
struct fx_snap {
    char **lines;
    size_t n, cap;
    size_t root_len;
};
static struct fx_snap *fx_snap_cur;

static int fx_snap_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    struct fx_snap *s = fx_snap_cur;
    char line[PATH_MAX + 256];
    uint64_t sum = 0;
    if (S_ISREG(st->st_mode)) {
        size_t len;
        char *b = fx_read_file(path, &len);
        sum = frame_sum(b, len);
        free(b);
    }
    snprintf(line, sizeof(line), "%s %c %lld %o %lld.%09ld %016" PRIx64, path + s->root_len,
             S_ISDIR(st->st_mode)   ? 'd'
             : S_ISREG(st->st_mode) ? 'f'
                                    : '?',
             (long long)st->st_size, (unsigned)st->st_mode, (long long)st->st_mtim.tv_sec,
             st->st_mtim.tv_nsec, sum);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->lines = tu_realloc(s->lines, s->cap * sizeof(*s->lines));
    }
    s->lines[s->n++] = strdup(line);
    return 0;
}

static int fx_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fx_snapshot(const char *root)
{
    struct fx_snap s = {NULL, 0, 0, strlen(root)};
    fx_snap_cur = &s;
    if (nftw(root, fx_snap_one, 16, FTW_PHYS) != 0)
        fx_fail("snapshot %s: %s", root, strerror(errno));
    qsort(s.lines, s.n, sizeof(*s.lines), fx_strcmp_p);
    size_t total = 1;
    for (size_t i = 0; i < s.n; i++)
        total += strlen(s.lines[i]) + 1;
    char *out = malloc(total), *w = out;
    for (size_t i = 0; i < s.n; i++) {
        size_t n = strlen(s.lines[i]);
        memcpy(w, s.lines[i], n);
        w[n] = '\n';
        w += n + 1;
        free(s.lines[i]);
    }
    *w = '\0';
    free(s.lines);
    return out;
}

void fx_assert_unchanged(const char *root, const char *before)
{
    char *after = fx_snapshot(root);
    assert_string_equal(before, after);
    free(after);
}

int fx_log_seqs(const char *path, int64_t *seqs, int max)
{
    size_t len;
    if (!fx_exists(path))
        return -1;
    char *b = fx_read_file(path, &len);
    int n = 0;
    size_t off = 0;
    while (off < len) {
        struct frame_line fl;
        frame_next(b + off, len - off, &fl);
        off += fl.line_len;
        if (fl.status != FRAME_OK && fl.status != FRAME_LEGACY)
            continue;
        sxp_value *v = NULL;
        int64_t seq;
        if (sx_parse(fl.payload, fl.payload_len, &v, NULL) == 0 &&
            sx_event_seq(v, &seq, NULL) == 0 && n < max)
            seqs[n++] = seq;
        sxp_value_free(v);
    }
    free(b);
    return n;
}

uint64_t fx_orders_offset(unsigned n)
{
    char line[256];
    uint64_t off = 0;
    for (unsigned i = 1; i < n; i++)
        off += fx_order_line(i, line, sizeof(line));
    return off;
}

void fxd_flip_mid(const char *root)
{
    char p[PATH_MAX];
    fx_flip_byte(fx_join(p, root, FX_ORDERS_LOG), fx_orders_offset(10) + 9);
}

void fxd_flip_last(const char *root)
{
    char p[PATH_MAX];
    fx_flip_byte(fx_join(p, root, FX_ORDERS_LOG), fx_orders_offset(20) + 9);
}

void fxd_swap_lines(const char *root)
{
    char p[PATH_MAX];
    fx_swap_lines(fx_join(p, root, FX_ORDERS_LOG), 5, 6);
}

void fx_mark_crashed(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, "LOCK"), "pid 4242\n", 9);
}

void fx_mark_unsynced(const char *root, const char *text)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, "LOCK"), text, strlen(text));
}

void fx_zero_order_line(const char *root, unsigned n, size_t from, size_t len)
{
    char p[PATH_MAX];
    size_t size = 0;
    char *b = fx_read_file(fx_join(p, root, FX_ORDERS_LOG), &size);
    uint64_t off = fx_orders_offset(n) + from;
    if (off + len > size)
        fx_fail("zero_order_line: line %u + %zu is past the end", n, from + len);
    memset(b + off, 0, len);
    fx_write_file(p, b, size);
    free(b);
}

void fxd_half_line(const char *root)
{
    char p[PATH_MAX], line[256];
    size_t n = fx_order_line(21, line, sizeof(line));
    fx_append(fx_join(p, root, FX_ORDERS_LOG), line, n / 2);
    fx_mark_crashed(root);
}

void fxd_zeros(const char *root)
{
    char p[PATH_MAX];
    fx_append_zeros(fx_join(p, root, FX_ORDERS_LOG), 1000);
    fx_mark_crashed(root);
}

void fxd_blank_line(const char *root)
{
    char p[PATH_MAX];
    size_t len;
    char *log = fx_read_file(fx_join(p, root, FX_ORDERS_LOG), &len);
    uint64_t at = fx_orders_offset(10);
    char *out = malloc(len + 1);
    assert_non_null(out);
    memcpy(out, log, at);
    out[at] = '\n';
    memcpy(out + at + 1, log + at, len - at);
    fx_write_file(p, out, len + 1);
    free(out);
    free(log);
}

/* FX_OVERLONG bytes of 'x' after orders' last line, then an LF if lf. */
static void fx_append_overlong(const char *root, int lf)
{
    char p[PATH_MAX];
    char *junk = malloc(FX_OVERLONG + 1);
    assert_non_null(junk);
    memset(junk, 'x', FX_OVERLONG);
    junk[FX_OVERLONG] = '\n';
    fx_append(fx_join(p, root, FX_ORDERS_LOG), junk, FX_OVERLONG + (lf ? 1 : 0));
    free(junk);
}

void fxd_overlong_tail(const char *root)
{
    fx_append_overlong(root, 0);
    fx_mark_crashed(root);
}

void fxd_overlong_line(const char *root)
{
    fx_append_overlong(root, 1);
}

void fxd_seq_lowered(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "15", 2);
}

void fxd_seq_below(const char *root)
{
    fxd_seq_lowered(root);
    fx_mark_crashed(root);
}

void fxd_seq_removed(const char *root)
{
    char p[PATH_MAX];
    if (unlink(fx_join(p, root, FX_ORDERS_SEQ)) != 0)
        fx_fail("unlink %s", p);
}

void fxd_seq_deleted(const char *root)
{
    fxd_seq_removed(root);
    fx_mark_crashed(root);
}

void fxd_seq_garbage(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, FX_ORDERS_SEQ), "garbage", 7);
}

void fxd_temp_file(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, "streams/tmp.999.1.tmp"), "20", 2);
}

void fxd_kv_damaged(const char *root)
{
    char p[PATH_MAX];
    fx_flip_byte(fx_join(p, root, FX_KV_CONFIG), 3);
}

void fxd_kv_oversized(const char *root)
{
    char p[PATH_MAX];
    size_t n = FX_KV_OVERSIZED;
    char *v = malloc(n + FRAME_TRAILER_LEN);
    assert_non_null(v);
    memset(v, 'x', n);
    v[0] = v[n - 1] = '"'; /* a string: well-formed SX, framed and summed */
    frame_trailer(v, n, v + n);
    fx_write_file(fx_join(p, root, FX_KV_CONFIG), v, n + FRAME_TRAILER_LEN);
    free(v);
}

void fxd_blob_altered(const char *root)
{
    char p[PATH_MAX], cid[SXP_CID_LEN + 1], rel[128];
    cid_of(FX_BLOB_HELLO_TEXT, strlen(FX_BLOB_HELLO_TEXT), cid);
    snprintf(rel, sizeof(rel), "blobs/%s", cid);
    fx_flip_byte(fx_join(p, root, rel), 0);
}

void fxd_blob_bad_name(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, "blobs/not-a-cid.bin"), "x", 1);
}

void fxd_foreign_file(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, "streams/notes.txt"), "remember the milk\n", 18);
}

void fxd_foreign_dir(const char *root)
{
    char p[PATH_MAX];
    assert_int_equal(mkdir(fx_join(p, root, "streams/old"), 0755), 0);
    fx_write_file(fx_join(p, root, "streams/old/notes.txt"), "x\n", 2);
}

void fxd_bad_stream_name(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, "streams/not-hex.log"), "", 0);
}

void fxd_kv_temp_file(const char *root)
{
    char p[PATH_MAX];
    fx_write_file(fx_join(p, root, "kv/tmp.999.1.tmp"), "1", 1);
}
