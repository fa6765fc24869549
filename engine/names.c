/* names.c -- see names.h. */
#include "names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int names_add(struct names *ns, const char *bytes, size_t len)
{
    if (ns->n == ns->cap) {
        size_t ncap = ns->cap ? ns->cap * 2 : 64;
        char **np = realloc(ns->p, ncap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        ns->p = np;
        size_t *nl = realloc(ns->len, ncap * sizeof(*nl));
        if (!nl)
            return -ENOMEM;
        ns->len = nl;
        ns->cap = ncap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, bytes, len);
    copy[len] = '\0';
    ns->p[ns->n] = copy;
    ns->len[ns->n] = len;
    ns->n++;
    return 0;
}

struct names_item {
    const char *p;
    size_t len;
};

static int names_cmp(const void *a, const void *b)
{
    const struct names_item *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

int names_sort(struct names *ns)
{
    if (ns->n < 2)
        return 0;
    struct names_item *items = calloc(ns->n, sizeof(*items));
    if (!items)
        return -ENOMEM;
    for (size_t i = 0; i < ns->n; i++)
        items[i] = (struct names_item){ns->p[i], ns->len[i]};
    qsort(items, ns->n, sizeof(*items), names_cmp);
    for (size_t i = 0; i < ns->n; i++) {
        ns->p[i] = (char *)items[i].p;
        ns->len[i] = items[i].len;
    }
    free(items);
    return 0;
}

int names_has(const struct names *ns, const char *bytes, size_t len)
{
    size_t lo = 0, hi = ns->n;
    struct names_item key = {bytes, len};
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct names_item at = {ns->p[mid], ns->len[mid]};
        int c = names_cmp(&key, &at);
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

int names_to_list(struct names *ns, sxp_value **out, struct sxp_err *err)
{
    struct names_item *items = calloc(ns->n ? ns->n : 1, sizeof(*items));
    sxp_value *list = sxp_value_list();
    int rc = 0;
    if (!items || !list) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ns->n; i++) {
        items[i].p = ns->p[i];
        items[i].len = ns->len[i];
    }
    qsort(items, ns->n, sizeof(*items), names_cmp);
    for (size_t i = 0; i < ns->n && !rc; i++) {
        sxp_value *v = sxp_value_str(items[i].p, items[i].len);
        rc = v ? sxp_value_list_push(list, v) : -ENOMEM;
    }
out:
    free(items);
    if (rc) {
        sxp_value_free(list);
        return err_set(err, rc, "out of memory");
    }
    *out = list;
    return 0;
}

void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->p[i]);
    free(ns->p);
    free(ns->len);
    memset(ns, 0, sizeof(*ns));
}
