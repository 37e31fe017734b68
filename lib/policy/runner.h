/* The runner's internals: executing plans, and the built-in executor. */
#ifndef CP_LIB_POLICY_RUNNER_H
#define CP_LIB_POLICY_RUNNER_H

#include "policy_internal.h"

/** Execute plan through ex; summary must be zeroed with run_id and start set. */
int cp_runner_execute(const cp_policy *policy, const cp_plan *plan,
		      const cp_policy_run_options *opts, const cp_policy_executor *ex,
		      cp_policy_run_summary *summary);

/** A run id: UTC time stamp, process id and a counter. */
void cp_run_id_make(char *buf, size_t len, int64_t now);

/** The built-in executor over a provider and repositories; free with cp_builtin_executor_free. */
int cp_builtin_executor_new(cp_policy_executor **out, const cp_policy_run_options *opts);
void cp_builtin_executor_free(cp_policy_executor *ex);

#endif
