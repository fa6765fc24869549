/*
 * crash_lostfound.c -- what recovery saves in lost+found/ must survive a
 * later power loss (recovery/recover.c, recovery/lostfound.c).
 *
 * Before recovery cuts a torn tail that holds a good line, it copies the
 * tail to lost+found/<hex>.log.<n>, adds a torn-tail line to
 * lost+found/MANIFEST, and syncs the item, MANIFEST and the folder: the
 * tail may hold acknowledged events. The recovered store shows nothing of
 * it, so the guarantees G-1..G-8 cannot see a sync missing there. The sim
 * harness notes MANIFEST's length before every recovering open
 * (crash_lostfound_mark) and, when the open reports saved tails or
 * MANIFEST grew, holds the disk to:
 *   LF-1  MANIFEST gained one whole line per tail the open reports saved
 *         (sxp_stats.rec_tails_saved), each naming an item that holds the
 *         len bytes the line gives;
 *   LF-2  after a power loss just after the open that loses everything
 *         not durable (on a copy of the disk), MANIFEST holds the same bytes
 *         up to its length after the open, and each new item its bytes.
 * A violation is BAD: the history says whether the events were acknowledged
 * (they would be LOST from the store otherwise), and none of a tail
 * recovery saves ever was in a run that passes; what is checked here is
 * that recovery keeps its own promise not to delete what may have been.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "fault.h"
#include "io.h"

#define CL_FILE_MAX ((size_t)256 << 20)

struct cl_item {
    char name[256]; /* the item's name in lost+found/ */
    char *bytes;    /* what it held after the open */
    size_t len;
};

static void cl_path(const char *root, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/lost+found/%s", root, name);
}

uint64_t crash_lostfound_mark(struct sxp_io *sim, const char *root)
{
    char path[4096];
    uint64_t size = 0;
    cl_path(root, "MANIFEST", path, sizeof(path));
    return sim->stat(sim, path, &size, NULL) == 0 ? size : 0;
}

/* The MANIFEST name field [p, end) without its %XX escapes, into out. */
static int cl_unescape(const char *p, const char *end, char *out, size_t size)
{
    size_t o = 0;
    while (p < end) {
        unsigned ch = (unsigned char)*p;
        if (ch == '%' && end - p >= 3 && sscanf(p + 1, "%2x", &ch) == 1)
            p += 3;
        else
            p++;
        if (o + 1 >= size)
            return -ENAMETOOLONG;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return o > 0 && strchr(out, '/') == NULL ? 0 : -EINVAL;
}

/* LF-1 for one MANIFEST line [p, end) (no LF): fills it. */
static int cl_read_item(struct sxp_io *sim, const char *root, const char *p, const char *end,
                        struct cl_item *it, char *msg, size_t size)
{
    char path[4096];
    const char *tab = memchr(p, '\t', (size_t)(end - p));
    const char *lenf = NULL;
    for (const char *q = p; q + 5 <= end && lenf == NULL; q++)
        if (memcmp(q, "\tlen=", 5) == 0)
            lenf = q + 5;
    if (tab == NULL || lenf == NULL || cl_unescape(p, tab, it->name, sizeof(it->name)) < 0) {
        snprintf(msg, size, "a line it does not read: %.*s", (int)(end - p), p);
        return -EINVAL;
    }
    unsigned long long want = strtoull(lenf, NULL, 10);
    cl_path(root, it->name, path, sizeof(path));
    int rc = io_read_file(sim, path, CL_FILE_MAX, &it->bytes, &it->len);
    if (rc < 0) {
        snprintf(msg, size, "its item %s: %s", it->name, strerror(-rc));
        return rc;
    }
    if (it->len != want) {
        snprintf(msg, size, "its item %s holds %zu bytes, not len=%llu", it->name, it->len, want);
        return -EINVAL;
    }
    return 0;
}

/* LF-2 on a copy of sim: a power loss that keeps only what is durable. */
static void cl_power_loss(struct sxp_io *sim, const char *root, const char *manifest,
                          size_t manifest_len, const struct cl_item *items, size_t n,
                          struct crash_verdict *v, FILE *out, unsigned limit, const char *what)
{
    struct sxp_io *c = NULL;
    char path[4096];
    char *got = NULL;
    size_t got_len = 0;
    int rc = io_sim_clone(sim, &c);
    if (rc < 0) {
        crash_report_bad(v, out, limit, what, "copying the disk for the lost+found check: %s",
                         strerror(-rc));
        return;
    }
    io_sim_crash(c, 0, IO_SIM_LOSE_ALL);
    io_sim_restart(c);
    cl_path(root, "MANIFEST", path, sizeof(path));
    rc = io_read_file(c, path, CL_FILE_MAX, &got, &got_len);
    if (rc < 0)
        crash_report_bad(
            v, out, limit, what,
            "lost+found/MANIFEST, %zu bytes after recovery, is gone after a power loss "
            "(LF-2: %s)",
            manifest_len, strerror(-rc));
    else if (got_len < manifest_len || memcmp(got, manifest, manifest_len) != 0)
        crash_report_bad(
            v, out, limit, what,
            "lost+found/MANIFEST held %zu bytes after recovery, and %zu others after a power "
            "loss (LF-2: not synced)",
            manifest_len, got_len);
    free(got);
    for (size_t i = 0; i < n; i++) {
        got = NULL;
        cl_path(root, items[i].name, path, sizeof(path));
        rc = io_read_file(c, path, CL_FILE_MAX, &got, &got_len);
        if (rc < 0)
            crash_report_bad(
                v, out, limit, what,
                "lost+found/%s, the %zu bytes of a torn tail recovery saved, is gone after a "
                "power loss (LF-2: %s)",
                items[i].name, items[i].len, strerror(-rc));
        else if (got_len != items[i].len || memcmp(got, items[i].bytes, got_len) != 0)
            crash_report_bad(
                v, out, limit, what,
                "lost+found/%s held %zu bytes after recovery and %zu other ones after a power "
                "loss (LF-2: not synced)",
                items[i].name, items[i].len, got_len);
        free(got);
    }
    c->destroy(c);
}

int crash_lostfound_check(struct sxp_io *sim, const char *root, uint64_t mark, unsigned saved,
                          struct crash_verdict *v, FILE *out, unsigned limit, const char *what)
{
    char path[4096], msg[512];
    char *m = NULL;
    size_t mlen = 0, n = 0;
    struct cl_item *items = NULL;
    if (saved == 0 && crash_lostfound_mark(sim, root) == mark)
        return 0;
    cl_path(root, "MANIFEST", path, sizeof(path));
    int rc = io_read_file(sim, path, CL_FILE_MAX, &m, &mlen);
    if (rc < 0 || mlen < mark) {
        crash_report_bad(v, out, limit, what,
                         "recovery reports %u torn tails saved, but lost+found/MANIFEST %s (LF-1)",
                         saved, rc < 0 ? strerror(-rc) : "shrank");
        free(m);
        return 1;
    }
    items = calloc(saved + 1, sizeof(*items));
    if (items == NULL) {
        crash_report_bad(v, out, limit, what, "out of memory");
        free(m);
        return 1;
    }
    int broken = 0;
    const char *p = m + mark, *end = m + mlen;
    /* A record an earlier power loss tore has no LF: the open puts one
     * before its first record (lostfound.c), which starts after it. */
    if (mark > 0 && m[mark - 1] != '\n' && p < end && *p == '\n')
        p++;
    while (p < end && !broken) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (lf == NULL) {
            crash_report_bad(v, out, limit, what, "lost+found/MANIFEST ends in a cut line (LF-1)");
            broken = 1;
        } else if (n == saved) {
            n++; /* one line too many: said below */
            break;
        } else if (cl_read_item(sim, root, p, lf, &items[n], msg, sizeof(msg)) < 0) {
            crash_report_bad(v, out, limit, what, "lost+found/MANIFEST: %s (LF-1)", msg);
            free(items[n].bytes);
            items[n].bytes = NULL;
            broken = 1;
        } else {
            n++;
            p = lf + 1;
        }
    }
    if (!broken && n != saved)
        crash_report_bad(
            v, out, limit, what,
            "recovery reports %u torn tails saved, and lost+found/MANIFEST gained %s%zu lines "
            "(LF-1)",
            saved, n > saved ? "more than " : "", n > saved ? (size_t)saved : n);
    else if (!broken)
        cl_power_loss(sim, root, m, mlen, items, n, v, out, limit, what);
    for (size_t i = 0; i < n && i < saved; i++)
        free(items[i].bytes);
    free(items);
    free(m);
    return 1;
}
