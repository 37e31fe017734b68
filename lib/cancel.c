#include "cancel.h"

#include <stddef.h>

static _Thread_local const atomic_int *watched;

const atomic_int *cp_cancel_watch(const atomic_int *flag)
{
	const atomic_int *prev = watched;
	watched = flag;
	return prev;
}

int cp_cancel_requested(void)
{
	return watched && atomic_load_explicit(watched, memory_order_relaxed) != 0;
}
