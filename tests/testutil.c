/* testutil.c -- see testutil.h. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmocka.h>

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/sxp-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

void tu_rmrf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char sub[4096];
                snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
                tu_rmrf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int tu_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void tu_digest_dir(XXH3_state_t *h, const char *root, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!*rel && !strcmp(e->d_name, "LOCK"))
            continue;
        names = tu_realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), tu_cmp_str);
    for (size_t i = 0; i < n; i++) {
        char sub[2048], full[4096];
        int m = snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);
        assert_true(m > 0 && (size_t)m < sizeof(sub));
        m = snprintf(full, sizeof(full), "%s/%s", root, sub);
        assert_true(m > 0 && (size_t)m < sizeof(full));
        XXH3_64bits_update(h, sub, strlen(sub) + 1);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            tu_digest_dir(h, root, sub);
        } else {
            size_t len = 0;
            char *bytes = tu_read_file(full, &len);
            XXH3_64bits_update(h, &len, sizeof(len));
            if (bytes)
                XXH3_64bits_update(h, bytes, len);
            free(bytes);
        }
        free(names[i]);
    }
    free(names);
}

uint64_t tu_tree_digest(const char *root)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    tu_digest_dir(h, root, "");
    uint64_t d = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return d;
}

sxp_value *tu_val(const char *text)
{
    sxp_value *v = NULL;
    struct sxp_err err;
    int rc = sxp_value_parse(text, strlen(text), &v, &err);
    if (rc)
        fail_msg("parse %s: %s", text, err.msg);
    return v;
}

char *tu_text(const sxp_value *v)
{
    char *t = NULL;
    size_t len;
    struct sxp_err err;
    if (sxp_value_to_text(v, &t, &len, &err))
        fail_msg("to_text: %s", err.msg);
    return t;
}

/* Opens dir quietly with sync mode sync, read-only when read_only;
 * fails the test when the open fails. */
static sxp_store *tu_open_as(const char *dir, enum sxp_sync_mode sync, int read_only)
{
    struct sxp_options o;
    sxp_options_init(&o);
    o.quiet = 1;
    o.sync = sync;
    o.read_only = read_only;
    sxp_store *s = NULL;
    struct sxp_err err;
    int rc = sxp_store_open(dir, &o, &s, &err);
    if (rc)
        fail_msg("%sopen %s: %d %s", read_only ? "read-only " : "", dir, rc, err.msg);
    return s;
}

sxp_store *tu_open_sync(const char *dir, enum sxp_sync_mode sync)
{
    return tu_open_as(dir, sync, 0);
}

sxp_store *tu_open_read_only(const char *dir)
{
    return tu_open_as(dir, SXP_SYNC_ALWAYS, 1);
}

sxp_store *tu_open(const char *dir)
{
    return tu_open_sync(dir, SXP_SYNC_ALWAYS);
}

char *tu_op(sxp_store *s, const char *request)
{
    sxp_value *out = NULL;
    struct sxp_err err;
    if (sxp_store_request(s, request, strlen(request), &out, &err))
        fail_msg("%s: %s: %s", request, err.kind, err.msg);
    char *t = tu_text(out);
    sxp_value_free(out);
    return t;
}

int tu_op_fails(sxp_store *s, const char *request, const char **kind)
{
    sxp_value *out = NULL;
    struct sxp_err err;
    int rc = sxp_store_request(s, request, strlen(request), &out, &err);
    if (rc == 0)
        fail_msg("%s: succeeded but must fail", request);
    assert_null(out);
    assert_int_equal(err.code, rc);
    assert_true(strlen(err.msg) > 0);
    if (kind)
        *kind = err.kind;
    return rc;
}

void tu_write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void *tu_realloc(void *p, size_t len)
{
    void *q = realloc(p, len);
    assert_non_null(q);
    return q;
}

char *tu_read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *b = malloc(cap + 1);
    size_t n;
    while ((n = fread(b + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            b = tu_realloc(b, cap + 1);
        }
    }
    fclose(f);
    b[len] = '\0';
    if (out_len)
        *out_len = len;
    return b;
}

int tu_store_setup(void **state)
{
    struct tu_store *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->dir = tu_tmpdir();
    c->s = tu_open(c->dir);
    *state = c;
    return 0;
}

int tu_store_teardown(void **state)
{
    struct tu_store *c = *state;
    if (c->s)
        assert_int_equal(sxp_store_close(c->s), 0);
    tu_rmrf(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

sxp_value *tu_padded_event(int64_t seq, size_t pad)
{
    char *p = malloc(pad + 1);
    assert_non_null(p);
    memset(p, 'p', pad);
    sxp_value *ev = sxp_value_dict();
    assert_non_null(ev);
    assert_int_equal(sxp_value_dict_set(ev, "seq", 3, sxp_value_int(seq)), 0);
    assert_int_equal(sxp_value_dict_set(ev, "pad", 3, sxp_value_str(p, pad)), 0);
    free(p);
    return ev;
}

void tu_append_padded(sxp_store *s, const char *stream, int64_t first, int64_t n, int64_t step,
                      int pad)
{
    enum { B = 500 };
    struct sxp_err err;
    sxp_value *evs[B];
    for (int64_t base = first; base < first + n; base += B) {
        int m = first + n - base < B ? (int)(first + n - base) : B;
        for (int i = 0; i < m; i++) {
            char t[512];
            snprintf(t, sizeof(t), "{:seq %lld :pad \"%0*d\"}", (long long)((base + i) * step), pad,
                     i);
            evs[i] = tu_val(t);
        }
        int rc = sxp_stream_append_batch(s, stream, strlen(stream), (const sxp_value *const *)evs,
                                         (size_t)m, &err);
        for (int i = 0; i < m; i++)
            sxp_value_free(evs[i]);
        if (rc)
            fail_msg("append to %s: %s", stream, err.msg);
    }
}
