/* The plan container shared by the planner and the runner. */
#ifndef CP_LIB_POLICY_PLAN_H
#define CP_LIB_POLICY_PLAN_H

#include "policy_internal.h"

struct cp_plan {
	cp_action *actions;
	size_t count, cap;
	char **strings;
	size_t nstrings, capstrings;
};

int cp_plan_new(cp_plan **out);
/** Append a copy of a (strings copied). */
int cp_plan_add(cp_plan *plan, const cp_action *a);

#endif
