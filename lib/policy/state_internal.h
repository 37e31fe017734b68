/* State store internals the runner uses. */
#ifndef CP_LIB_POLICY_STATE_INTERNAL_H
#define CP_LIB_POLICY_STATE_INTERNAL_H

#include "policy_internal.h"

/**
 * Take the per-policy run lock (DIR/policy-NAME.lock) without waiting.
 * CP_ELOCKED when another process holds it. *fd_out is closed to release.
 */
int cp_state_lock_policy(cp_state *state, const char *policy, int *fd_out);

#endif
