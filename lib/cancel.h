/*
 * A thread's stop flag. A job points each of its threads at the flag that
 * stops it (its first-failure code), and slow waits underneath (HTTP
 * transfers in flight, a full packer) poll it: so a cancel, or another
 * thread's failure, also ends work that started before it.
 *
 * Only the job's calling thread runs the caller's progress callback, so a
 * step that may wait on the network runs on a worker watching the job's
 * flag while the caller ticks (job/workers.h): that includes the steps
 * after the data path (last pack uploads, index, manifest; cp_workers_run
 * with one worker), or a hung upload there would outlast a cancel.
 */
#ifndef CP_LIB_CANCEL_H
#define CP_LIB_CANCEL_H

#include <stdatomic.h>

/**
 * Stop this thread's waits once *flag is non-zero; NULL watches nothing.
 * Returns the flag watched before, to restore when the scope ends.
 */
const atomic_int *cp_cancel_watch(const atomic_int *flag);

/** 1 when the flag this thread watches is raised. */
int cp_cancel_requested(void);

#endif
