/*
 * The first failure of a group of threads. Errors are thread-local, so a
 * worker that fails saves its error here and raises a flag the others
 * poll; the thread that started them restores the error after joining.
 */
#ifndef CP_FORMAT_FAILURE_H
#define CP_FORMAT_FAILURE_H

#include "error.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct cp_failure {
	pthread_mutex_t mu;
	atomic_int rc;
	cp_error_saved err;
} cp_failure;

void cp_failure_init(cp_failure *f);
void cp_failure_dispose(cp_failure *f);

/** Record rc and this thread's error unless a failure came first; returns rc. */
int cp_failure_set(cp_failure *f, int rc);

/** The recorded code, or 0; cheap enough to poll. */
static inline int cp_failure_get(cp_failure *f)
{
	return atomic_load_explicit(&f->rc, memory_order_relaxed);
}

/** Make the recorded error this thread's error; returns its code (0 if none). */
int cp_failure_raise(cp_failure *f);

#endif
