/*
 * A thread's stop flag. A job points each of its threads at the flag that
 * stops it (its first-failure code), and slow waits underneath (HTTP
 * transfers in flight, a full packer) poll it: so a cancel, or another
 * thread's failure, also ends work that started before it.
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
