/* err.c -- see err.h. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *err_kind_of(int code)
{
    switch (code) {
    case 0:
        return "";
    case -EBADMSG:
        return "checksum";
    case -EUCLEAN:
        return "corrupt";
    case -EAGAIN:
        return "locked";
    case -E2BIG:
        return "limit";
    case -ERANGE:
        return "seq";
    case -EINVAL:
        return "arg";
    case -ENOMEM:
        return "nomem";
    case -EROFS:
        return "readonly";
    case -EDEADLK:
        return "busy";
    default:
        return "io";
    }
}

const char *err_quote(const char *name, size_t len, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (size < 8) {
        if (size)
            out[0] = '\0';
        return out;
    }
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        char esc[4];
        size_t n = 0;
        switch (c) {
        case '"':
        case '\\':
            esc[n++] = '\\';
            esc[n++] = (char)c;
            break;
        case '\n':
            esc[n++] = '\\';
            esc[n++] = 'n';
            break;
        case '\r':
            esc[n++] = '\\';
            esc[n++] = 'r';
            break;
        case '\t':
            esc[n++] = '\\';
            esc[n++] = 't';
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                esc[n++] = '\\';
                esc[n++] = 'x';
                esc[n++] = hex[c >> 4];
                esc[n++] = hex[c & 15];
            } else {
                esc[n++] = (char)c;
            }
        }
        if (o + n + 5 > size) { /* room for ...", the quote and the NUL */
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, esc, n);
        o += n;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

__attribute__((format(printf, 4, 0))) static void
err_vfill(struct sxp_err *err, int code, const char *kind, const char *fmt, va_list ap)
{
    err->code = code;
    err->kind = kind;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    /* A message is one line: a name with a newline in it must not split it. */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

int err_set(struct sxp_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err_vfill(err, code, err_kind_of(code), fmt, ap);
    va_end(ap);
    return code;
}

int err_setk(struct sxp_err *err, int code, const char *kind, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err_vfill(err, code, kind, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(struct sxp_err *err)
{
    if (!err)
        return;
    err->code = 0;
    err->kind = "";
    err->msg[0] = '\0';
}
