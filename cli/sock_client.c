/*
 * sock_client.c -- the client side of `serve --socket`, for `sxp op
 * --socket` and `sxp stat --socket`: one connection, one request line, one
 * answer line (the protocol atop serve_socket.c).
 *
 * The answer is taken apart here: "(ok VALUE)" gives VALUE's text exactly
 * as the server wrote it (canonical SX), "(error "KIND" "MESSAGE")" its two
 * strings. Anything else, or a connection closed before the LF, is an "io"
 * error naming the socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"

#define SOCK_CLIENT_CHUNK 65536

static int sock_client_connect(const char *path, int *out_fd, struct sxp_err *err)
{
    struct sockaddr_un addr;
    size_t plen = strlen(path);
    int fd, rc;

    if (plen == 0 || plen >= sizeof(addr.sun_path))
        return sock_err_set(err, -ENAMETOOLONG, "arg", "socket path must be 1 to %zu bytes: %s",
                            sizeof(addr.sun_path) - 1, path);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, plen);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        return sock_err_set(err, rc, "io", "socket: %s", strerror(-rc));
    }
    if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
        rc = -errno;
        close(fd);
        return sock_err_set(err, rc, "io", "connect %s: %s%s", path, strerror(-rc),
                            rc == -ENOENT || rc == -ECONNREFUSED ? " (is `sxp serve --socket` "
                                                                   "running?)"
                                                                 : "");
    }
    *out_fd = fd;
    return 0;
}

static int sock_client_send(int fd, const char *path, const char *p, size_t len,
                            struct sxp_err *err)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sock_err_set(err, -errno, "io", "sending to %s: %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads up to the first LF; *out (malloc'd, NUL-terminated) without it. */
static int sock_client_recv_line(int fd, const char *path, char **out, size_t *out_len,
                                 struct sxp_err *err)
{
    size_t cap = 0, len = 0;
    char *buf = NULL, *lf = NULL;
    int rc = 0;

    while (lf == NULL) {
        ssize_t n;

        if (cap - len < SOCK_CLIENT_CHUNK) {
            char *nb = realloc(buf, cap + SOCK_CLIENT_CHUNK * (cap == 0 ? 1 : 2));

            if (nb == NULL) {
                rc = sock_err_set(err, -ENOMEM, "nomem", "out of memory reading the answer");
                goto fail;
            }
            buf = nb;
            cap += SOCK_CLIENT_CHUNK * (cap == 0 ? 1 : 2);
        }
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sock_err_set(err, -errno, "io", "reading from %s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0) {
            rc =
                sock_err_set(err, -EPIPE, "io", "%s closed the connection without answering", path);
            goto fail;
        }
        lf = memchr(buf + len, '\n', (size_t)n);
        len += (size_t)n;
    }
    len = (size_t)(lf - buf);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
fail:
    free(buf);
    return rc;
}

/* Copies string value v into dst[0..cap) (NUL-terminated, cut if longer). */
static void sock_client_copy_str(const sxp_value *v, char *dst, size_t cap)
{
    size_t n = 0;
    const char *p = sxp_value_as_str(v, &n);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static int sock_client_parse(const char *path, char *line, size_t len, struct sock_reply *out,
                             struct sxp_err *err)
{
    struct sxp_err perr;
    sxp_value *v = NULL;
    const sxp_value *head, *k, *m;
    size_t hlen = 0;
    const char *h;

    if (len >= 5 && memcmp(line, "(ok ", 4) == 0 && line[len - 1] == ')') {
        out->ok = 1;
        memmove(line, line + 4, len - 5);
        line[len - 5] = '\0';
        out->value = line;
        out->value_len = len - 5;
        return 0;
    }
    memset(&perr, 0, sizeof(perr));
    if (sxp_value_parse(line, len, &v, &perr) == 0 && sxp_value_type(v) == SXP_LIST &&
        sxp_value_len(v) == 3) {
        head = sxp_value_list_get(v, 0);
        k = sxp_value_list_get(v, 1);
        m = sxp_value_list_get(v, 2);
        h = sxp_value_as_str(head, &hlen);
        if (sxp_value_type(head) == SXP_SYM && hlen == 5 && memcmp(h, "error", 5) == 0 &&
            sxp_value_type(k) == SXP_STR && sxp_value_type(m) == SXP_STR) {
            out->ok = 0;
            sock_client_copy_str(k, out->kind, sizeof(out->kind));
            sock_client_copy_str(m, out->msg, sizeof(out->msg));
            sxp_value_free(v);
            free(line);
            return 0;
        }
    }
    sxp_value_free(v);
    free(line);
    return sock_err_set(err, -EPROTO, "io", "%s answered something that is not an answer", path);
}

/* One request is one line. A request that spans lines is checked here,
 * then sent with its LFs taken out without changing a value: an LF in a
 * string becomes the escape \n, one between tokens a space. (Its
 * canonical text would not do: 1.0 prints as 1, so an argument the server
 * must refuse as no integer would arrive as one.) The text parsed, so a
 * backslash in a string is never followed by an LF. *out is malloc'd. */
static int sock_client_one_line(const char *text, size_t len, char **out, size_t *out_len,
                                struct sxp_err *err)
{
    sxp_value *v = NULL;
    int rc = sxp_value_parse(text, len, &v, err);
    sxp_value_free(v);
    if (rc)
        return rc;
    char *o = malloc(2 * len + 1);
    if (!o)
        return sock_err_set(err, -ENOMEM, "nomem", "out of memory");
    size_t n = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n') {
            if (in_str) {
                o[n++] = '\\';
                o[n++] = 'n';
            } else {
                o[n++] = ' ';
            }
            continue;
        }
        o[n++] = c;
        if (in_str && c == '\\' && i + 1 < len)
            o[n++] = text[++i]; /* an escape's second byte, never an LF */
        else if (c == '"')
            in_str = !in_str;
    }
    *out = o;
    *out_len = n;
    return 0;
}

int sock_client_request(const char *path, const char *text, size_t len, struct sock_reply *out,
                        struct sxp_err *err)
{
    char *canon = NULL, *line = NULL;
    size_t clen = 0, llen = 0;
    int fd = -1, rc;

    memset(out, 0, sizeof(*out));
    if (memchr(text, '\n', len) != NULL) {
        if ((rc = sock_client_one_line(text, len, &canon, &clen, err)) != 0)
            goto out;
        text = canon;
        len = clen;
    }
    if ((rc = sock_client_connect(path, &fd, err)) != 0)
        goto out;
    if ((rc = sock_client_send(fd, path, text, len, err)) != 0 ||
        (rc = sock_client_send(fd, path, "\n", 1, err)) != 0) {
        /* The server may answer before the request is all sent, and close:
         * a line over its --max-line gets (error "limit" ...) once max-line
         * bytes are in. That answer is queued here before the close that
         * broke the send, so it is read, and said instead of the EPIPE. */
        struct sxp_err rerr;
        if ((rc != -EPIPE && rc != -ECONNRESET) ||
            sock_client_recv_line(fd, path, &line, &llen, &rerr) != 0)
            goto out;
        if (err != NULL)
            memset(err, 0, sizeof(*err)); /* the send's error is not the outcome */
    } else if ((rc = sock_client_recv_line(fd, path, &line, &llen, err)) != 0) {
        goto out;
    }
    rc = sock_client_parse(path, line, llen, out, err); /* takes line */
out:
    if (fd >= 0)
        close(fd);
    free(canon);
    return rc;
}

void sock_reply_free(struct sock_reply *r)
{
    if (r == NULL)
        return;
    free(r->value);
    memset(r, 0, sizeof(*r));
}
