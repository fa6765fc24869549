/*
 * answer.c -- the answer line of one request, shared by `serve --stdio`
 * (cmd_serve.c) and `serve --socket` (sock_*.c), so both speak exactly the
 * same protocol (SPEC.md section 6).
 *
 * ANSWER LINES. Exactly one per request, ending in LF:
 *   (ok VALUE)                 VALUE the result's canonical SX text
 *   (error "CODE" "MESSAGE")   CODE the struct sxp_err kind word ("error"
 *                              when the engine gave none), MESSAGE its
 *                              message (strerror of the code when empty),
 *                              both written as SX strings
 * Canonical SX text escapes LF inside strings, so an answer never holds a
 * raw LF before its last byte: a reader may split answers on LF.
 *
 * Example:
 *   (persist/append "a" {:seq 1})   ->  (ok nil)
 *   (persist/append "a" {:seq 1})   ->  (error "seq" "seq 1 is not above ...")
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The answer used when not even an error answer could be built. */
static const char cli_answer_nomem[] = "(error \"nomem\" \"out of memory\")\n";

/* The canonical SX text of bytes[0..len) as a string: *out is malloc'd. */
static int cli_answer_str_text(const char *bytes, size_t len, char **out, size_t *out_len)
{
    struct sxp_err err;
    sxp_value *v = sxp_value_str(bytes, len);
    int rc;

    *out = NULL;
    if (v == NULL)
        return -ENOMEM;
    rc = sxp_value_to_text(v, out, out_len, &err);
    sxp_value_free(v);
    return rc;
}

/* Joins the n pieces into a new malloc'd answer. */
static int cli_answer_join(struct cli_answer *a, const char *const *piece, const size_t *len,
                           size_t n)
{
    size_t total = 0, off = 0;
    char *text;

    for (size_t i = 0; i < n; i++)
        total += len[i];
    text = malloc(total + 1);
    if (text == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(text + off, piece[i], len[i]);
        off += len[i];
    }
    text[off] = '\0';
    a->text = text;
    a->len = total;
    a->owned = 1;
    return 0;
}

/* Falls back to the fixed out-of-memory answer. */
static void cli_answer_set_nomem(struct cli_answer *a)
{
    a->text = (char *)cli_answer_nomem;
    a->len = sizeof(cli_answer_nomem) - 1;
    a->owned = 0;
    a->failed = 1;
    a->kind = "nomem";
}

void cli_answer_error(const char *kind, const char *msg, struct cli_answer *out)
{
    char *k = NULL, *m = NULL;
    size_t klen = 0, mlen = 0;

    memset(out, 0, sizeof(*out));
    if (kind == NULL || kind[0] == '\0')
        kind = "error";
    if (cli_answer_str_text(kind, strlen(kind), &k, &klen) != 0 ||
        cli_answer_str_text(msg, strlen(msg), &m, &mlen) != 0) {
        cli_answer_set_nomem(out);
    } else {
        const char *piece[] = {"(error ", k, " ", m, ")\n"};
        const size_t len[] = {7, klen, 1, mlen, 2};

        out->failed = 1;
        out->kind = kind;
        if (cli_answer_join(out, piece, len, 5) != 0)
            cli_answer_set_nomem(out);
    }
    free(k);
    free(m);
}

void cli_answer_of_err(const struct sxp_err *err, struct cli_answer *out)
{
    const char *msg = err->msg;

    if (msg[0] == '\0')
        msg = strerror(err->code < 0 ? -err->code : EIO);
    cli_answer_error(err->kind, msg, out);
}

void cli_answer_ok(const sxp_value *v, struct cli_answer *out)
{
    struct sxp_err err;
    char *text = NULL;
    size_t tlen = 0;

    memset(&err, 0, sizeof(err));
    memset(out, 0, sizeof(*out));
    if (sxp_value_to_text(v, &text, &tlen, &err) != 0) {
        cli_answer_of_err(&err, out);
        return;
    }
    const char *piece[] = {"(ok ", text, ")\n"};
    const size_t len[] = {4, tlen, 2};
    if (cli_answer_join(out, piece, len, 3) != 0)
        cli_answer_set_nomem(out);
    free(text);
}

void cli_answer_run(sxp_store *s, const char *line, size_t len, struct cli_answer *out)
{
    struct sxp_err err;
    sxp_value *result = NULL;

    memset(&err, 0, sizeof(err));
    if (sxp_store_request(s, line, len, &result, &err) != 0) {
        cli_answer_of_err(&err, out);
        return;
    }
    cli_answer_ok(result, out);
    sxp_value_free(result);
}

void cli_answer_free(struct cli_answer *a)
{
    if (a == NULL)
        return;
    if (a->owned)
        free(a->text);
    memset(a, 0, sizeof(*a));
}

int cli_answer_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\v' && c != '\f')
            return 0; /* the blanks of the SX reader (engine/sx.h), LF aside */
    }
    return 1;
}
