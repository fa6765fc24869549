/*
 * value.c -- SX value nodes: the public constructors, accessors, copy, free
 * and equality of sxp.h, and the node constructors the parser uses (sx.h).
 * The text format lives in sx.h; parsing and printing in sx.c.
 *
 * NODE MEMORY. Every node is one malloc, and its variable parts share it:
 *
 *   scalar      struct sxp_value
 *   STR/SYM/KW  struct sx_str_node: the value, then len bytes and a NUL
 *   LIST        struct sx_list_node: the value, n_inline, leaf_bytes, then
 *               n_inline item pointers, then leaf_bytes of LEAVES
 *   DICT        struct sx_dict_node: the value, n_inline, leaf_bytes, then
 *               n_inline pairs, then leaf_bytes of leaves, then the keys of
 *               those pairs (each NUL-terminated)
 *
 * A LEAF is a child node kept inside its container's allocation: a nil,
 * bool, int or num (a struct sxp_value), or a string, symbol or keyword (a
 * struct sx_str_node), each starting at a multiple of 8. The parser makes
 * its lists and dicts this way (sx_list_take, sx_dict_take), so reading
 * {:seq 1 :total 9.5 :user "ann"} costs one allocation, not seven.
 *
 * V-1  A list's items point to its inline slots until a push outgrows them,
 *      then to a separately malloc'd array; likewise a dict's pairs.
 * V-2  The keys of pairs [0, n_inline) live in the dict's node; later keys
 *      are malloc'd one by one. Pairs never move relative to each other and
 *      are never removed, so the index alone says where a key lives.
 * V-3  A child is freed, when its container is freed or when dict_set
 *      replaces it, unless it lies in the container's leaves.
 * V-4  Leaves own nothing: their bytes are inside them.
 * V-5  A parse given a struct sx_scratch (sx_parse_in) puts its outermost
 *      list or dict node there rather than in a malloc of its own; only
 *      sx_value_free_in knows not to free it. Its children are as above.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sx.h"

struct sx_str_node {
    struct sxp_value v;
    char bytes[]; /* len bytes and a NUL */
};

struct sx_list_node {
    struct sxp_value v;
    size_t n_inline;   /* item slots in this allocation */
    size_t leaf_bytes; /* bytes of leaves after the slots */
    sxp_value *inline_items[];
};

struct sx_dict_node {
    struct sxp_value v;
    size_t n_inline;   /* pairs (and their keys) in this allocation */
    size_t leaf_bytes; /* bytes of leaves after the pairs, before the keys */
    struct sx_pair inline_pairs[];
};

/* Above this many pairs, equality sorts the keys instead of searching. */
#define VALUE_EQUAL_LINEAR_MAX 16
/* Leaves start at multiples of this (the alignment of struct sxp_value). */
#define VALUE_ALIGN 8

static struct sx_list_node *value_list_node(const sxp_value *v)
{
    return (struct sx_list_node *)(uintptr_t)v;
}

static struct sx_dict_node *value_dict_node(const sxp_value *v)
{
    return (struct sx_dict_node *)(uintptr_t)v;
}

static char *value_list_leaves(const sxp_value *v)
{
    struct sx_list_node *n = value_list_node(v);
    return (char *)(n->inline_items + n->n_inline);
}

static char *value_dict_leaves(const sxp_value *v)
{
    struct sx_dict_node *n = value_dict_node(v);
    return (char *)(n->inline_pairs + n->n_inline);
}

/* 1 when child lies in the leaf_bytes at leaves (V-3). */
static int value_is_leaf(const char *leaves, size_t leaf_bytes, const sxp_value *child)
{
    return (uintptr_t)child - (uintptr_t)leaves < leaf_bytes;
}

/* V-1. A node with no inline slots has items NULL until its first push, and
 * a malloc'd array never starts where the node's own allocation ends. */
static int value_list_items_inline(const sxp_value *v)
{
    return v->u.list.items == value_list_node(v)->inline_items;
}

static int value_dict_pairs_inline(const sxp_value *v)
{
    return v->u.dict.pairs == value_dict_node(v)->inline_pairs;
}

/* memcpy for the short keys and strings of events: below 16 bytes, two
 * overlapping fixed-size copies (which compile to plain moves) instead of a
 * call. */
static void value_copy(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else {
        memcpy(d, s, n);
    }
}

/* Adds b to *a; 0, or -1 on overflow. */
static int value_add(size_t *a, size_t b)
{
    if (b > SIZE_MAX - *a)
        return -1;
    *a += b;
    return 0;
}

/* The bytes a leaf takes in its container, or 0 on overflow. */
static size_t value_leaf_size(const struct sxp_value *leaf)
{
    switch (leaf->type) {
    case SXP_STR:
    case SXP_SYM:
    case SXP_KW:
        if (leaf->u.s.len > SIZE_MAX - sizeof(struct sx_str_node) - VALUE_ALIGN)
            return 0;
        return (sizeof(struct sx_str_node) + leaf->u.s.len + 1 + VALUE_ALIGN - 1) &
               ~(size_t)(VALUE_ALIGN - 1);
    default:
        return sizeof(struct sxp_value);
    }
}

/* Writes leaf at at, its bytes included; returns the node. */
static sxp_value *value_leaf_place(char *at, const struct sxp_value *leaf)
{
    sxp_value *v = (sxp_value *)(void *)at;
    *v = *leaf;
    if (leaf->type == SXP_STR || leaf->type == SXP_SYM || leaf->type == SXP_KW) {
        struct sx_str_node *n = (struct sx_str_node *)(void *)at;
        value_copy(n->bytes, leaf->u.s.p, leaf->u.s.len);
        n->bytes[leaf->u.s.len] = '\0';
        v->u.s.p = n->bytes;
    }
    return v;
}

/* The leaf bytes items[0..n) need (stride step between items); 0 and *out,
 * or -1 on overflow. */
static int value_leaf_total(const struct sx_item *items, size_t n, size_t step, size_t *out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sx_item *it =
            (const struct sx_item *)(const void *)((const char *)items + i * step);
        if (it->node)
            continue;
        size_t sz = value_leaf_size(&it->leaf);
        if (sz == 0 || value_add(&total, sz))
            return -1;
    }
    *out = total;
    return 0;
}

static sxp_value *value_scalar(enum sxp_type type)
{
    sxp_value *v = malloc(sizeof(*v));
    if (!v)
        return NULL;
    memset(v, 0, sizeof(*v));
    v->type = type;
    return v;
}

sxp_value *sx_str_alloc(enum sxp_type type, size_t len)
{
    if (len > SIZE_MAX - sizeof(struct sx_str_node) - 1)
        return NULL;
    struct sx_str_node *n = malloc(sizeof(*n) + len + 1);
    if (!n)
        return NULL;
    n->v.type = type;
    n->v.u.s.p = n->bytes;
    n->v.u.s.len = len;
    n->bytes[len] = '\0';
    return &n->v;
}

static sxp_value *value_bytes(enum sxp_type type, const void *bytes, size_t len)
{
    sxp_value *v = sx_str_alloc(type, len);
    if (v && len)
        memcpy(v->u.s.p, bytes, len);
    return v;
}

sxp_value *sx_item_node(const struct sx_item *item)
{
    if (item->node)
        return item->node;
    const struct sxp_value *leaf = &item->leaf;
    if (leaf->type == SXP_STR || leaf->type == SXP_SYM || leaf->type == SXP_KW)
        return value_bytes(leaf->type, leaf->u.s.p, leaf->u.s.len);
    sxp_value *v = malloc(sizeof(*v));
    if (v)
        *v = *leaf;
    return v;
}

/* size bytes for a list or dict node: sc's buffer (grown to fit) when sc
 * is not NULL (V-5), else a malloc of its own. */
static void *value_node_alloc(struct sx_scratch *sc, size_t size)
{
    if (!sc)
        return malloc(size);
    if (size > sc->cap) {
        size_t ncap = sc->cap > size / 2 ? 2 * sc->cap : size;
        void *p = malloc(ncap);
        if (!p)
            return NULL;
        free(sc->buf);
        sc->buf = p;
        sc->cap = ncap;
    }
    return sc->buf;
}

/* A list node with room for n items and leaf_bytes of leaves inline, and
 * no item used. */
static sxp_value *value_list_alloc(size_t n, size_t leaf_bytes, struct sx_scratch *sc)
{
    size_t size = sizeof(struct sx_list_node);
    if (n > SIZE_MAX / sizeof(sxp_value *) || value_add(&size, n * sizeof(sxp_value *)) ||
        value_add(&size, leaf_bytes))
        return NULL;
    struct sx_list_node *node = value_node_alloc(sc, size);
    if (!node)
        return NULL;
    node->v.type = SXP_LIST;
    node->n_inline = n;
    node->leaf_bytes = leaf_bytes;
    node->v.u.list.items = n ? node->inline_items : NULL;
    node->v.u.list.len = 0;
    node->v.u.list.cap = n;
    return &node->v;
}

sxp_value *sx_list_take(const struct sx_item *items, size_t n, struct sx_scratch *sc)
{
    size_t leaf_bytes;
    if (value_leaf_total(items, n, sizeof(*items), &leaf_bytes))
        return NULL;
    sxp_value *v = value_list_alloc(n, leaf_bytes, sc);
    if (!v)
        return NULL;
    char *leaf = value_list_leaves(v);
    for (size_t i = 0; i < n; i++) {
        if (items[i].node) {
            v->u.list.items[i] = items[i].node;
        } else {
            v->u.list.items[i] = value_leaf_place(leaf, &items[i].leaf);
            leaf += value_leaf_size(&items[i].leaf);
        }
    }
    v->u.list.len = n;
    return v;
}

/* A dict node with room for n pairs, leaf_bytes of leaves and key_bytes of
 * keys (NULs included) inline, and no pair used. */
static sxp_value *value_dict_alloc(size_t n, size_t leaf_bytes, size_t key_bytes,
                                   struct sx_scratch *sc)
{
    size_t size = sizeof(struct sx_dict_node);
    if (n > SIZE_MAX / sizeof(struct sx_pair) || value_add(&size, n * sizeof(struct sx_pair)) ||
        value_add(&size, leaf_bytes) || value_add(&size, key_bytes))
        return NULL;
    struct sx_dict_node *node = value_node_alloc(sc, size);
    if (!node)
        return NULL;
    node->v.type = SXP_DICT;
    node->n_inline = n;
    node->leaf_bytes = leaf_bytes;
    node->v.u.dict.pairs = n ? node->inline_pairs : NULL;
    node->v.u.dict.len = 0;
    node->v.u.dict.cap = n;
    return &node->v;
}

/* Copies key into the node's key area at *keys and returns the copy. */
static char *value_place_key(char **keys, const char *key, size_t len)
{
    char *k = *keys;
    value_copy(k, key, len);
    k[len] = '\0';
    *keys += len + 1;
    return k;
}

sxp_value *sx_dict_take(const struct sx_entry *pairs, size_t n, struct sx_scratch *sc)
{
    size_t leaf_bytes, key_bytes = 0;
    if (value_leaf_total(n ? &pairs[0].item : NULL, n, sizeof(*pairs), &leaf_bytes))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (value_add(&key_bytes, pairs[i].key_len) || value_add(&key_bytes, 1))
            return NULL;
    sxp_value *v = value_dict_alloc(n, leaf_bytes, key_bytes, sc);
    if (!v)
        return NULL;
    char *leaf = value_dict_leaves(v);
    char *keys = leaf + leaf_bytes;
    for (size_t i = 0; i < n; i++) {
        struct sx_pair *dst = &v->u.dict.pairs[i];
        dst->key = value_place_key(&keys, pairs[i].key, pairs[i].key_len);
        dst->key_len = pairs[i].key_len;
        if (pairs[i].item.node) {
            dst->val = pairs[i].item.node;
        } else {
            dst->val = value_leaf_place(leaf, &pairs[i].item.leaf);
            leaf += value_leaf_size(&pairs[i].item.leaf);
        }
    }
    v->u.dict.len = n;
    return v;
}

sxp_value *sxp_value_nil(void)
{
    return value_scalar(SXP_NIL);
}

sxp_value *sxp_value_bool(int b)
{
    sxp_value *v = value_scalar(SXP_BOOL);
    if (v)
        v->u.b = b ? 1 : 0;
    return v;
}

sxp_value *sxp_value_int(int64_t i)
{
    sxp_value *v = value_scalar(SXP_INT);
    if (v)
        v->u.i = i;
    return v;
}

sxp_value *sxp_value_num(double d)
{
    sxp_value *v = value_scalar(SXP_NUM);
    if (v)
        v->u.d = d;
    return v;
}

sxp_value *sxp_value_str(const void *bytes, size_t len)
{
    return value_bytes(SXP_STR, bytes, len);
}

sxp_value *sxp_value_sym(const char *name, size_t len)
{
    return value_bytes(SXP_SYM, name, len);
}

sxp_value *sxp_value_kw(const char *name, size_t len)
{
    return value_bytes(SXP_KW, name, len);
}

sxp_value *sxp_value_list(void)
{
    return value_list_alloc(0, 0, NULL);
}

sxp_value *sxp_value_dict(void)
{
    return value_dict_alloc(0, 0, 0, NULL);
}

/* DEPTH. The constructors put no bound on nesting (a caller may build a
 * list a million levels deep, though no text of one is ever read or
 * written: SX_MAX_DEPTH), so nothing here recurses once per level without
 * a bound. sxp_value_free recurses VALUE_FREE_RECURSE levels at most, as
 * deep as any value read from text goes in practice; a node it meets below
 * that waits on a stack of nodes still to free (on the heap past
 * VALUE_FREE_LOCAL), and is freed from the top again. sxp_value_copy and
 * sxp_value_equal recurse, at most VALUE_MAX_DEPTH levels: a copy of a
 * deeper value is NULL, as when memory runs out, and such values are
 * never equal. */
#define VALUE_FREE_RECURSE 64
#define VALUE_FREE_LOCAL 16
#define VALUE_MAX_DEPTH 4096

struct value_free_stack {
    sxp_value *local[VALUE_FREE_LOCAL];
    sxp_value **v;
    size_t n, cap;
};

static void value_free_children(struct value_free_stack *st, sxp_value *v, unsigned depth);

/* Puts v on the stack; 0, or -ENOMEM when the stack cannot grow. */
static int value_free_push(struct value_free_stack *st, sxp_value *v)
{
    if (st->n == st->cap) {
        size_t ncap = st->cap * 2;
        sxp_value **nv =
            st->v == st->local ? malloc(ncap * sizeof(*nv)) : realloc(st->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        if (st->v == st->local)
            memcpy(nv, st->local, st->n * sizeof(*nv));
        st->v = nv;
        st->cap = ncap;
    }
    st->v[st->n++] = v;
    return 0;
}

/* Frees v, depth levels below where this round of recursion began, or
 * puts it on the stack at VALUE_FREE_RECURSE (frees it anyway, deeper,
 * when the stack cannot grow). */
static void value_free_node(struct value_free_stack *st, sxp_value *v, unsigned depth)
{
    if ((v->type == SXP_LIST || v->type == SXP_DICT) && depth >= VALUE_FREE_RECURSE &&
        value_free_push(st, v) == 0)
        return;
    value_free_children(st, v, depth + 1);
    free(v);
}

/* Frees what v owns, but not v's own node. */
static void value_free_children(struct value_free_stack *st, sxp_value *v, unsigned depth)
{
    switch (v->type) {
    case SXP_LIST: {
        const char *leaves = value_list_leaves(v);
        size_t leaf_bytes = value_list_node(v)->leaf_bytes;
        for (size_t i = 0; i < v->u.list.len; i++)
            if (v->u.list.items[i] && !value_is_leaf(leaves, leaf_bytes, v->u.list.items[i]))
                value_free_node(st, v->u.list.items[i], depth);
        if (!value_list_items_inline(v))
            free(v->u.list.items);
        break;
    }
    case SXP_DICT: {
        const char *leaves = value_dict_leaves(v);
        size_t n_inline = value_dict_node(v)->n_inline;
        size_t leaf_bytes = value_dict_node(v)->leaf_bytes;
        for (size_t i = 0; i < v->u.dict.len; i++) {
            sxp_value *val = v->u.dict.pairs[i].val;
            if (val && !value_is_leaf(leaves, leaf_bytes, val))
                value_free_node(st, val, depth);
            if (i >= n_inline)
                free(v->u.dict.pairs[i].key);
        }
        if (!value_dict_pairs_inline(v))
            free(v->u.dict.pairs);
        break;
    }
    default:
        break;
    }
}

/* Frees every node under v, and v's own node when free_node. */
static void value_free_tree(sxp_value *v, int free_node)
{
    struct value_free_stack st;
    st.v = st.local;
    st.n = 0;
    st.cap = VALUE_FREE_LOCAL;
    value_free_children(&st, v, 0);
    if (free_node)
        free(v);
    while (st.n > 0)
        value_free_node(&st, st.v[--st.n], 0);
    if (st.v != st.local)
        free(st.v);
}

void sxp_value_free(sxp_value *v)
{
    if (v)
        value_free_tree(v, 1);
}

void sx_value_free_in(sxp_value *v, const struct sx_scratch *sc)
{
    if (v)
        value_free_tree(v, !sc || (void *)v != sc->buf);
}

void sx_scratch_free(struct sx_scratch *sc)
{
    free(sc->buf);
    sc->buf = NULL;
    sc->cap = 0;
}

int sxp_value_list_push(sxp_value *list, sxp_value *item)
{
    if (!item)
        return -ENOMEM;
    if (!list || list->type != SXP_LIST) {
        sxp_value_free(item);
        return -EINVAL;
    }
    if (list->u.list.len == list->u.list.cap) {
        size_t cap = list->u.list.cap;
        if (cap > SIZE_MAX / 2 / sizeof(sxp_value *)) {
            sxp_value_free(item);
            return -ENOMEM;
        }
        cap = cap < 4 ? 4 : cap * 2;
        sxp_value **items;
        if (value_list_items_inline(list)) {
            items = malloc(cap * sizeof(*items));
            if (items)
                memcpy(items, list->u.list.items, list->u.list.len * sizeof(*items));
        } else {
            items = realloc(list->u.list.items, cap * sizeof(*items));
        }
        if (!items) {
            sxp_value_free(item);
            return -ENOMEM;
        }
        list->u.list.items = items;
        list->u.list.cap = cap;
    }
    list->u.list.items[list->u.list.len++] = item;
    return 0;
}

static struct sx_pair *value_dict_find(const sxp_value *dict, const char *key, size_t key_len)
{
    for (size_t i = 0; i < dict->u.dict.len; i++) {
        struct sx_pair *p = &dict->u.dict.pairs[i];
        if (p->key_len == key_len && (key_len == 0 || memcmp(p->key, key, key_len) == 0))
            return p;
    }
    return NULL;
}

int sxp_value_dict_set(sxp_value *dict, const char *key, size_t key_len, sxp_value *item)
{
    char *k = NULL;
    int rc = 0;

    if (!item)
        return -ENOMEM;
    if (!dict || dict->type != SXP_DICT || (!key && key_len)) {
        rc = -EINVAL;
        goto fail;
    }
    struct sx_pair *old = value_dict_find(dict, key, key_len);
    if (old) {
        if (old->val == item)
            return 0; /* already there: nothing to replace */
        if (!value_is_leaf(value_dict_leaves(dict), value_dict_node(dict)->leaf_bytes, old->val))
            sxp_value_free(old->val);
        old->val = item;
        return 0;
    }
    if (key_len == SIZE_MAX) {
        rc = -ENOMEM;
        goto fail;
    }
    k = malloc(key_len + 1);
    if (!k) {
        rc = -ENOMEM;
        goto fail;
    }
    if (key_len)
        memcpy(k, key, key_len);
    k[key_len] = '\0';
    if (dict->u.dict.len == dict->u.dict.cap) {
        size_t cap = dict->u.dict.cap;
        if (cap > SIZE_MAX / 2 / sizeof(struct sx_pair)) {
            rc = -ENOMEM;
            goto fail;
        }
        cap = cap < 4 ? 4 : cap * 2;
        struct sx_pair *pairs;
        if (value_dict_pairs_inline(dict)) {
            pairs = malloc(cap * sizeof(*pairs));
            if (pairs)
                memcpy(pairs, dict->u.dict.pairs, dict->u.dict.len * sizeof(*pairs));
        } else {
            pairs = realloc(dict->u.dict.pairs, cap * sizeof(*pairs));
        }
        if (!pairs) {
            rc = -ENOMEM;
            goto fail;
        }
        dict->u.dict.pairs = pairs;
        dict->u.dict.cap = cap;
    }
    struct sx_pair *p = &dict->u.dict.pairs[dict->u.dict.len++];
    p->key = k;
    p->key_len = key_len;
    p->val = item;
    return 0;

fail:
    free(k);
    sxp_value_free(item);
    return rc;
}

static sxp_value *value_copy_deep(const sxp_value *v, size_t depth)
{
    if (!v || depth > VALUE_MAX_DEPTH)
        return NULL;
    switch (v->type) {
    case SXP_NIL:
        return sxp_value_nil();
    case SXP_BOOL:
        return sxp_value_bool(v->u.b);
    case SXP_INT:
        return sxp_value_int(v->u.i);
    case SXP_NUM:
        return sxp_value_num(v->u.d);
    case SXP_STR:
    case SXP_SYM:
    case SXP_KW:
        return value_bytes(v->type, v->u.s.p, v->u.s.len);
    case SXP_LIST: {
        sxp_value *c = value_list_alloc(v->u.list.len, 0, NULL);
        if (!c)
            return NULL;
        for (size_t i = 0; i < v->u.list.len; i++) {
            sxp_value *item = value_copy_deep(v->u.list.items[i], depth + 1);
            if (!item) {
                sxp_value_free(c);
                return NULL;
            }
            c->u.list.items[c->u.list.len++] = item;
        }
        return c;
    }
    case SXP_DICT: {
        size_t n = v->u.dict.len, key_bytes = 0;
        for (size_t i = 0; i < n; i++)
            key_bytes += v->u.dict.pairs[i].key_len + 1;
        sxp_value *c = value_dict_alloc(n, 0, key_bytes, NULL);
        if (!c)
            return NULL;
        /* Copy the keys first with null values, so a failure halfway frees
         * cleanly: sxp_value_free accepts the NULLs. */
        char *keys = value_dict_leaves(c);
        for (size_t i = 0; i < n; i++) {
            struct sx_pair *dst = &c->u.dict.pairs[i];
            dst->key = value_place_key(&keys, v->u.dict.pairs[i].key, v->u.dict.pairs[i].key_len);
            dst->key_len = v->u.dict.pairs[i].key_len;
            dst->val = NULL;
        }
        c->u.dict.len = n;
        for (size_t i = 0; i < n; i++) {
            c->u.dict.pairs[i].val = value_copy_deep(v->u.dict.pairs[i].val, depth + 1);
            if (!c->u.dict.pairs[i].val) {
                sxp_value_free(c);
                return NULL;
            }
        }
        return c;
    }
    }
    return NULL;
}

sxp_value *sxp_value_copy(const sxp_value *v)
{
    return value_copy_deep(v, 1);
}

enum sxp_type sxp_value_type(const sxp_value *v)
{
    return v ? v->type : SXP_NIL;
}

int sxp_value_as_bool(const sxp_value *v)
{
    return v && v->type == SXP_BOOL ? v->u.b : 0;
}

int64_t sxp_value_as_int(const sxp_value *v)
{
    return v && v->type == SXP_INT ? v->u.i : 0;
}

double sxp_value_as_num(const sxp_value *v)
{
    /* An INT is a number too: the reader turns a whole 2.0 into INT 2. */
    if (v && v->type == SXP_NUM)
        return v->u.d;
    if (v && v->type == SXP_INT)
        return (double)v->u.i;
    return 0.0;
}

const char *sxp_value_as_str(const sxp_value *v, size_t *out_len)
{
    if (v && (v->type == SXP_STR || v->type == SXP_SYM || v->type == SXP_KW)) {
        if (out_len)
            *out_len = v->u.s.len;
        return v->u.s.p;
    }
    if (out_len)
        *out_len = 0;
    return "";
}

size_t sxp_value_len(const sxp_value *v)
{
    if (v && v->type == SXP_LIST)
        return v->u.list.len;
    if (v && v->type == SXP_DICT)
        return v->u.dict.len;
    return 0;
}

const sxp_value *sxp_value_list_get(const sxp_value *list, size_t i)
{
    if (!list || list->type != SXP_LIST || i >= list->u.list.len)
        return NULL;
    return list->u.list.items[i];
}

const sxp_value *sxp_value_dict_at(const sxp_value *dict, size_t i, const char **out_key,
                                   size_t *out_key_len)
{
    if (!dict || dict->type != SXP_DICT || i >= dict->u.dict.len) {
        if (out_key)
            *out_key = NULL;
        if (out_key_len)
            *out_key_len = 0;
        return NULL;
    }
    const struct sx_pair *p = &dict->u.dict.pairs[i];
    if (out_key)
        *out_key = p->key;
    if (out_key_len)
        *out_key_len = p->key_len;
    return p->val;
}

const sxp_value *sxp_value_dict_get(const sxp_value *dict, const char *key, size_t key_len)
{
    if (!dict || dict->type != SXP_DICT || (!key && key_len))
        return NULL;
    const struct sx_pair *p = value_dict_find(dict, key, key_len);
    return p ? p->val : NULL;
}

static int value_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t m = alen < blen ? alen : blen;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int value_pair_ptr_cmp(const void *x, const void *y)
{
    const struct sx_pair *a = *(const struct sx_pair *const *)x;
    const struct sx_pair *b = *(const struct sx_pair *const *)y;
    return value_key_cmp(a->key, a->key_len, b->key, b->key_len);
}

static int value_equal(const sxp_value *a, const sxp_value *b, size_t depth);

static int value_dict_equal(const sxp_value *a, const sxp_value *b, size_t depth)
{
    size_t n = a->u.dict.len;
    const struct sx_pair **sa = NULL, **sb = NULL;
    int eq = 0;

    if (n != b->u.dict.len)
        return 0;
    if (n > VALUE_EQUAL_LINEAR_MAX) {
        sa = malloc(n * sizeof(*sa));
        sb = malloc(n * sizeof(*sb));
    }
    if (!sa || !sb) {
        /* Small dicts, or no memory for the sorted views: search. */
        for (size_t i = 0; i < n; i++) {
            const struct sx_pair *p = &a->u.dict.pairs[i];
            const struct sx_pair *q = value_dict_find(b, p->key, p->key_len);
            if (!q || !value_equal(p->val, q->val, depth + 1))
                goto done;
        }
        eq = 1;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        sa[i] = &a->u.dict.pairs[i];
        sb[i] = &b->u.dict.pairs[i];
    }
    qsort(sa, n, sizeof(*sa), value_pair_ptr_cmp);
    qsort(sb, n, sizeof(*sb), value_pair_ptr_cmp);
    for (size_t i = 0; i < n; i++) {
        if (value_key_cmp(sa[i]->key, sa[i]->key_len, sb[i]->key, sb[i]->key_len) != 0 ||
            !value_equal(sa[i]->val, sb[i]->val, depth + 1))
            goto done;
    }
    eq = 1;

done:
    free(sa);
    free(sb);
    return eq;
}

static int value_equal(const sxp_value *a, const sxp_value *b, size_t depth)
{
    if (a == b)
        return 1;
    if (!a || !b || a->type != b->type || depth > VALUE_MAX_DEPTH)
        return 0;
    switch (a->type) {
    case SXP_NIL:
        return 1;
    case SXP_BOOL:
        return a->u.b == b->u.b;
    case SXP_INT:
        return a->u.i == b->u.i;
    case SXP_NUM:
        /* -0.0 equals 0.0 (both print 0); a NaN equals nothing. */
        return a->u.d == b->u.d;
    case SXP_STR:
    case SXP_SYM:
    case SXP_KW:
        return a->u.s.len == b->u.s.len &&
               (a->u.s.len == 0 || memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0);
    case SXP_LIST:
        if (a->u.list.len != b->u.list.len)
            return 0;
        for (size_t i = 0; i < a->u.list.len; i++)
            if (!value_equal(a->u.list.items[i], b->u.list.items[i], depth + 1))
                return 0;
        return 1;
    case SXP_DICT:
        return value_dict_equal(a, b, depth);
    }
    return 0;
}

int sxp_value_equal(const sxp_value *a, const sxp_value *b)
{
    return value_equal(a, b, 1);
}

int sxp_value_parse(const char *text, size_t len, sxp_value **out, struct sxp_err *err)
{
    return sx_parse(text, len, out, err);
}

int sxp_value_to_text(const sxp_value *v, char **out, size_t *out_len, struct sxp_err *err)
{
    struct buf b = BUF_INIT;
    int rc = sx_serialize(v, &b, err);
    if (rc) {
        buf_free(&b);
        return rc;
    }
    *out_len = b.len;
    *out = buf_steal(&b);
    return 0;
}
