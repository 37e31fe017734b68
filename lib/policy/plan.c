/* The plan container: actions in execution order, owning their strings. */
#include "plan.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

static char *keep_string(cp_plan *plan, const char *s, int *failed)
{
	if (!s)
		return NULL;
	if (plan->nstrings == plan->capstrings) {
		size_t cap = plan->capstrings ? plan->capstrings * 2 : 32;
		char **grown = realloc(plan->strings, cap * sizeof(*grown));
		if (!grown) {
			*failed = 1;
			return NULL;
		}
		plan->strings = grown;
		plan->capstrings = cap;
	}
	char *copy = strdup(s);
	if (!copy) {
		*failed = 1;
		return NULL;
	}
	plan->strings[plan->nstrings++] = copy;
	return copy;
}

int cp_plan_add(cp_plan *plan, const cp_action *a)
{
	if (plan->count == plan->cap) {
		size_t cap = plan->cap ? plan->cap * 2 : 16;
		cp_action *grown = realloc(plan->actions, cap * sizeof(*grown));
		if (!grown)
			return cp_error_oom();
		plan->actions = grown;
		plan->cap = cap;
	}
	int failed = 0;
	cp_action *dst = &plan->actions[plan->count];
	*dst = *a;
	dst->resource_id = keep_string(plan, a->resource_id, &failed);
	dst->snapshot_id = keep_string(plan, a->snapshot_id, &failed);
	dst->backup_id = keep_string(plan, a->backup_id, &failed);
	dst->reason = keep_string(plan, a->reason, &failed);
	if (failed)
		return cp_error_oom();
	plan->count++;
	return 0;
}

int cp_plan_new(cp_plan **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : cp_error_oom();
}

size_t cp_plan_count(const cp_plan *plan)
{
	return plan ? plan->count : 0;
}

const cp_action *cp_plan_action(const cp_plan *plan, size_t i)
{
	return plan && i < plan->count ? &plan->actions[i] : NULL;
}

void cp_plan_free(cp_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nstrings; i++)
		free(plan->strings[i]);
	free(plan->strings);
	free(plan->actions);
	free(plan);
}
