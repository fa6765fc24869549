/*
 * names.h -- collecting names (stream names, kv keys) from a directory
 * listing and returning them as an SX list sorted by bytes.
 */
#ifndef SXP_NAMES_H
#define SXP_NAMES_H

#include <stddef.h>

#include "sxp.h"

struct names {
    char **p;
    size_t *len;
    size_t n, cap;
};

int names_add(struct names *ns, const char *bytes, size_t len);
/* Sorts ns in place, in names_to_list's order; -ENOMEM. */
int names_sort(struct names *ns);
/* 1 when ns, sorted, holds bytes[0..len). */
int names_has(const struct names *ns, const char *bytes, size_t len);
/* *out: a new list of strings sorted by bytes (shorter first on a tie). */
int names_to_list(struct names *ns, sxp_value **out, struct sxp_err *err);
void names_free(struct names *ns);

#endif
