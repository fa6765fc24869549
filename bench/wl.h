/*
 * wl.h -- helpers shared by the sxp workloads (wl_sxp.c, wl_big.c, wl_server.c). They use
 * the public interface include/sxp.h only.
 */
#ifndef SXP_BENCH_WL_H
#define SXP_BENCH_WL_H

#include <stdint.h>

#include "bench.h"
#include "sxp.h"

/* One reusable event {:data "..." :seq N} of a fixed payload size; setting
 * a new seq keeps the SX text exactly `size` bytes long. */
struct wl_event {
    sxp_value *v;
    size_t size;
    int digits; /* of the seq the :data string was sized for */
};

int wl_event_init(struct wl_event *e, size_t size);
int wl_event_set_seq(struct wl_event *e, int64_t seq);
void wl_event_free(struct wl_event *e);

/* Opens dir with the given sync mode, quietly. On failure the message goes
 * into row->note. */
int wl_open(const char *dir, int nosync, struct bench_row *row, sxp_store **out);
/* The same on a chosen backend (enum sxp_io_kind). */
int wl_open_io(const char *dir, int nosync, int io, struct bench_row *row, sxp_store **out);
/* fdatasyncs counted by the store so far. */
uint64_t wl_fdatasyncs(sxp_store *s);
/* A durable write workload for which the store counted no sync at all
 * (row->fdatasyncs == 0) gets "unknown" (-1) and a note, not a false 0. */
void wl_syncs_checked(struct bench_row *row, const struct bench_param *p);
/* Closes s just after a timed region, its wall time into row->close_s
 * (bench.h R-6); returns what sxp_store_close returned. */
int wl_close_timed(sxp_store *s, struct bench_row *row);
/* Notes an sxp error in row->note (first one wins) and returns rc. */
int wl_fail(struct bench_row *row, int rc, const struct sxp_err *err, const char *what);

#endif
