/*
 * Running a data path on N threads. The calling thread does not work:
 * it wakes every CP_TICK_MS to report progress through the caller's
 * callback, so callbacks always run on the caller's own thread and can
 * cancel. The first failure stops everyone (see format/failure.h).
 */
#ifndef CP_JOB_WORKERS_H
#define CP_JOB_WORKERS_H

#include "format/failure.h"

#define CP_TICK_MS 100

/** One worker's loop; returns 0 or an error code (its error set). */
typedef int (*cp_worker_fn)(void *arg, unsigned int index);
/** Called on the caller's thread every tick and once at the end; non-zero cancels. */
typedef int (*cp_tick_fn)(void *arg);

/** Run fn on n threads until all return; returns the first failure (its error set). */
int cp_workers_run(unsigned int n, cp_worker_fn fn, cp_tick_fn tick, void *arg,
		   cp_failure *failure);

/** Clamp a thread count for a data path. */
unsigned int cp_workers_clamp(unsigned int n);

/**
 * Workers for a path that mostly waits on reads (restore, copy): two per
 * thread when the caller did not choose, so that while one waits for
 * its ranged read the other decodes.
 */
unsigned int cp_workers_for_fetching(cp_ctx *ctx, unsigned int wanted);

#endif
