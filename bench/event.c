/*
 * event.c -- the events every engine is given.
 *
 * An event of SIZE bytes is the SX text
 *
 *     {:data "abq...zk" :seq 42}
 *
 * (the canonical text sxp writes for that dict: keys sorted) whose length is
 * SIZE: the :data string takes SIZE - 16 - digits(seq) bytes of
 * pseudo-random lowercase letters, which need no escaping and do not
 * compress to nothing. sxp writes the line PAYLOAD TAB 16-hex-digits LF;
 * the hand-written loops write lines of the same length (event_line), so
 * every engine moves the same bytes per event.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define EVENT_FILLER_LEN ((size_t)2 << 20)

static char *event_filler_buf;

int event_digits(int64_t v)
{
    int d = v < 0 ? 2 : 1;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (u >= 10) {
        u /= 10;
        d++;
    }
    return d;
}

size_t event_data_len(size_t size, int seq_digits)
{
    size_t fixed = 16 + (size_t)seq_digits;
    return size > fixed ? size - fixed : 1;
}

const char *event_filler(void)
{
    if (event_filler_buf == NULL) {
        char *b = malloc(EVENT_FILLER_LEN + 1);
        if (b == NULL) {
            fprintf(stderr, "sxp-bench: out of memory\n");
            exit(1);
        }
        uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64: fixed, repeatable */
        for (size_t i = 0; i < EVENT_FILLER_LEN; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b[i] = (char)('a' + (x % 26));
        }
        b[EVENT_FILLER_LEN] = '\0';
        event_filler_buf = b;
    }
    return event_filler_buf;
}

size_t event_text(char *out, size_t cap, size_t size, int64_t seq)
{
    size_t dl = event_data_len(size, event_digits(seq));
    if (dl > EVENT_FILLER_LEN)
        dl = EVENT_FILLER_LEN;
    if (cap < dl + 48)
        return 0;
    const char *fill = event_filler() + (size_t)(seq % 1024);
    size_t n = 0;
    memcpy(out + n, "{:data \"", 8);
    n += 8;
    memcpy(out + n, fill, dl);
    n += dl;
    n += (size_t)snprintf(out + n, cap - n, "\" :seq %lld}", (long long)seq);
    return n;
}

size_t event_line(char *out, size_t cap, size_t size, int64_t seq)
{
    size_t n = event_text(out, cap, size, seq);
    if (n == 0 || cap < n + 19)
        return 0;
    out[n++] = '\t';
    memset(out + n, '0', 16);
    n += 16;
    out[n++] = '\n';
    out[n] = '\0';
    return n;
}
