/*
 * sock_log.c -- the server's log: one line per event on stderr.
 *
 * FORMAT. "TIME sxp[PID] LEVEL: MESSAGE", TIME in UTC with milliseconds:
 *   2025-01-31T12:00:00.123Z sxp[4242] info: conn 7 open: pid 4250 uid 1000
 * Each line goes out in one write, so lines of concurrent threads never mix.
 * A line is logged when its level is at or above --log-level (error < warn
 * < info < debug).
 *
 * CLIENT BYTES. Text a client sent (a request at debug) is logged through
 * sock_log_escape: each byte outside printable ASCII (0x20..0x7e) is
 * written \xHH and a backslash \\, so one event stays one line and what
 * a client sends can never look like a line of its own (a CR and a forged
 * timestamp), drive the terminal of whoever reads the log (ESC), or hide
 * the rest of itself (a NUL):
 *   conn 7: (persist/read "a\x0d\x1b[2K") -> error name (12 us)
 *
 * Errors meant for a person go into a struct sxp_err (sock_err_set), as the
 * engine's do, and the command prints them the same way (cli_report).
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

static enum sock_log_level sock_log_level_now = SOCK_LOG_INFO;

static const char *const sock_log_names[] = {"error", "warn", "info", "debug"};

int sock_log_parse(const char *text, enum sock_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, sock_log_names[i]) == 0) {
            *out = (enum sock_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void sock_log_set_level(enum sock_log_level level)
{
    sock_log_level_now = level;
}

int sock_log_enabled(enum sock_log_level level)
{
    return level <= sock_log_level_now;
}

void sock_log(enum sock_log_level level, const char *fmt, ...)
{
    char line[1024];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int k;
    va_list ap;

    if (!sock_log_enabled(level))
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    k = snprintf(line + n, sizeof(line) - n, ".%03ldZ sxp[%ld] %s: ", (long)(tv.tv_usec / 1000),
                 (long)getpid(), sock_log_names[level]);
    if (k > 0)
        n += (size_t)k;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (k > 0)
        n += (size_t)k;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* A log line is best effort: stderr may be gone, and nothing is lost. */
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}

size_t sock_log_escape(const char *p, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    assert(cap > 0);
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)p[i];

        if (b >= 0x20 && b < 0x7f && b != '\\') {
            if (cap - n < 2)
                break;
            out[n++] = (char)b;
        } else if (b == '\\') {
            if (cap - n < 3)
                break;
            out[n++] = '\\';
            out[n++] = '\\';
        } else {
            if (cap - n < 5)
                break;
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[b >> 4];
            out[n++] = hex[b & 15];
        }
    }
    out[n] = '\0';
    return n;
}

int sock_err_set(struct sxp_err *err, int code, const char *kind, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    err->kind = kind;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}
