/*
 * crash_base.c -- the BASELINE: the state of a store as the verifier last
 * saw it (after a run was verified, or after building a template), which
 * the next run's checks start from (crash.h). Read through the public API
 * only, so it sees exactly what a user would. Blobs cannot be listed
 * through the API: the baseline keeps the cids known to be present.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"

void crash_base_init(struct crash_base *b)
{
    memset(b, 0, sizeof(*b));
}

static void crash_bstream_free(struct crash_bstream *bs)
{
    for (size_t i = 0; i < bs->nev; i++)
        free(bs->texts[i]);
    free(bs->texts);
    free(bs->seqs);
    free(bs->lens);
}

void crash_base_free(struct crash_base *b)
{
    for (size_t i = 0; i < b->nstreams; i++)
        crash_bstream_free(&b->streams[i]);
    free(b->streams);
    for (size_t i = 0; i < b->nkv; i++)
        free(b->kv[i].value);
    free(b->kv);
    free(b->blobs);
    memset(b, 0, sizeof(*b));
}

static int crash_capture_stream(sxp_store *s, const char *name, size_t len,
                                struct crash_bstream *bs, struct sxp_err *err)
{
    sxp_value *list = NULL;
    memset(bs, 0, sizeof(*bs));
    memcpy(bs->name, name, len);
    bs->name_len = len;
    int rc = sxp_stream_last_seq(s, name, len, &bs->hw, err);
    if (rc == 0)
        rc = sxp_stream_read(s, name, len, &list, err);
    if (rc < 0)
        return rc;
    size_t n = sxp_value_len(list);
    if (n > 0) {
        bs->seqs = calloc(n, sizeof(*bs->seqs));
        bs->texts = calloc(n, sizeof(*bs->texts));
        bs->lens = calloc(n, sizeof(*bs->lens));
        if (!bs->seqs || !bs->texts || !bs->lens)
            rc = -ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const sxp_value *ev = sxp_value_list_get(list, i);
        bs->seqs[i] = sxp_value_as_int(sxp_value_dict_get(ev, "seq", 3));
        rc = sxp_value_to_text(ev, &bs->texts[i], &bs->lens[i], err);
        if (rc == 0)
            bs->nev = i + 1;
    }
    sxp_value_free(list);
    return rc;
}

static int crash_base_add_blob(struct crash_base *b, const char *cid)
{
    for (size_t i = 0; i < b->nblobs; i++)
        if (strcmp(b->blobs[i], cid) == 0)
            return 0;
    char(*nb)[SXP_CID_LEN + 1] = realloc(b->blobs, (b->nblobs + 1) * sizeof(*nb));
    if (nb == NULL)
        return -ENOMEM;
    b->blobs = nb;
    memcpy(b->blobs[b->nblobs], cid, SXP_CID_LEN + 1);
    b->nblobs++;
    return 0;
}

int crash_base_capture(sxp_store *s, const struct crash_hist *h, struct crash_base *b,
                       struct sxp_err *err)
{
    struct crash_base nb;
    sxp_value *names = NULL, *keys = NULL;
    crash_base_init(&nb);
    int rc = sxp_stream_list(s, &names, err);
    if (rc == 0)
        rc = sxp_kv_keys(s, &keys, err);
    size_t ns = rc == 0 ? sxp_value_len(names) : 0;
    size_t nk = rc == 0 ? sxp_value_len(keys) : 0;
    if (rc == 0 && ns > 0 && (nb.streams = calloc(ns, sizeof(*nb.streams))) == NULL)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < ns; i++) {
        size_t len = 0;
        const char *name = sxp_value_as_str(sxp_value_list_get(names, i), &len);
        if (len == 0 || len >= sizeof(nb.streams[i].name)) {
            rc = -EINVAL;
            break;
        }
        rc = crash_capture_stream(s, name, len, &nb.streams[i], err);
        nb.nstreams = i + 1;
    }
    if (rc == 0 && nk > 0 && (nb.kv = calloc(nk, sizeof(*nb.kv))) == NULL)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < nk; i++) {
        size_t len = 0;
        sxp_value *v = NULL;
        const char *key = sxp_value_as_str(sxp_value_list_get(keys, i), &len);
        if (len == 0 || len >= sizeof(nb.kv[i].key)) {
            rc = -EINVAL;
            break;
        }
        memcpy(nb.kv[i].key, key, len);
        nb.kv[i].key_len = len;
        nb.nkv = i + 1;
        rc = sxp_kv_get(s, key, len, &v, err);
        if (rc == 0)
            rc = sxp_value_to_text(v, &nb.kv[i].value, &nb.kv[i].value_len, err);
        sxp_value_free(v);
    }
    /* Blobs cannot be listed through the API: keep those known present. */
    for (size_t i = 0; rc == 0 && i < b->nblobs; i++) {
        int has = 0;
        rc = sxp_blob_has(s, b->blobs[i], &has, err);
        if (rc == 0 && has)
            rc = crash_base_add_blob(&nb, b->blobs[i]);
    }
    for (size_t i = 0; rc == 0 && h != NULL && i < h->n; i++) {
        const struct crash_op *op = &h->ops[i];
        int has = 0;
        if (op->kind != CRASH_BLOB)
            continue;
        rc = sxp_blob_has(s, op->cid, &has, err);
        if (rc == 0 && has)
            rc = crash_base_add_blob(&nb, op->cid);
    }
    sxp_value_free(names);
    sxp_value_free(keys);
    if (rc < 0) {
        crash_base_free(&nb);
        return rc;
    }
    crash_base_free(b);
    *b = nb;
    return 0;
}

static int crash_cid_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

int crash_base_equal(const struct crash_base *a, const struct crash_base *b)
{
    if (a->nstreams != b->nstreams || a->nkv != b->nkv || a->nblobs != b->nblobs)
        return 0;
    for (size_t i = 0; i < a->nstreams; i++) {
        const struct crash_bstream *x = &a->streams[i], *y = &b->streams[i];
        if (x->name_len != y->name_len || memcmp(x->name, y->name, x->name_len) != 0 ||
            x->hw != y->hw || x->nev != y->nev)
            return 0;
        for (size_t j = 0; j < x->nev; j++)
            if (x->lens[j] != y->lens[j] || memcmp(x->texts[j], y->texts[j], x->lens[j]) != 0)
                return 0;
    }
    for (size_t i = 0; i < a->nkv; i++)
        if (a->kv[i].key_len != b->kv[i].key_len ||
            memcmp(a->kv[i].key, b->kv[i].key, a->kv[i].key_len) != 0 ||
            a->kv[i].value_len != b->kv[i].value_len ||
            memcmp(a->kv[i].value, b->kv[i].value, a->kv[i].value_len) != 0)
            return 0;
    if (a->nblobs == 0)
        return 1;
    size_t sz = a->nblobs * sizeof(*a->blobs);
    char(*x)[SXP_CID_LEN + 1] = malloc(sz);
    char(*y)[SXP_CID_LEN + 1] = malloc(sz);
    int eq = 0;
    if (x != NULL && y != NULL) {
        memcpy(x, a->blobs, sz);
        memcpy(y, b->blobs, sz);
        qsort(x, a->nblobs, sizeof(*x), crash_cid_cmp);
        qsort(y, a->nblobs, sizeof(*y), crash_cid_cmp);
        eq = memcmp(x, y, sz) == 0;
    }
    free(x);
    free(y);
    return eq;
}
