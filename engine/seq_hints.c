/* seq_hints.c -- see seq_hints.h. */
#include "seq_hints.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The index of the first hint with seq >= from (n when none). */
static size_t seq_hints_lower(const struct seq_hints *hs, int64_t from)
{
    size_t a = 0, b = hs->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (hs->h[m].seq < from)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

void seq_hints_bracket(const struct seq_hints *hs, int64_t from, struct seq_hint *lo,
                       struct seq_hint *hi)
{
    if (!hs || hs->n == 0)
        return;
    size_t i = seq_hints_lower(hs, from);
    if (i > 0 && hs->h[i - 1].off > lo->off && hs->h[i - 1].off < hi->off)
        *lo = hs->h[i - 1];
    if (i < hs->n && hs->h[i].off < hi->off && hs->h[i].off >= lo->off)
        *hi = hs->h[i];
}

int seq_hints_add(struct seq_hints **hsp, const struct seq_hint *add, size_t n)
{
    if (n == 0)
        return 0;
    if (!*hsp) {
        *hsp = calloc(1, sizeof(**hsp));
        if (!*hsp)
            return -ENOMEM;
    }
    struct seq_hints *hs = *hsp;
    for (size_t k = 0; k < n; k++) {
        size_t i = seq_hints_lower(hs, add[k].seq);
        if (i < hs->n && hs->h[i].seq == add[k].seq)
            continue; /* known */
        if (hs->n == SEQ_HINTS_MAX) {
            /* SH-2: keep every other one, then find the place again. */
            size_t j = 0;
            for (size_t m = 0; m < hs->n; m += 2)
                hs->h[j++] = hs->h[m];
            hs->n = j;
            i = seq_hints_lower(hs, add[k].seq);
        }
        memmove(&hs->h[i + 1], &hs->h[i], (hs->n - i) * sizeof(hs->h[0]));
        hs->h[i] = add[k];
        hs->n++;
    }
    return 0;
}

void seq_hints_free(struct seq_hints **hs)
{
    free(*hs);
    *hs = NULL;
}
