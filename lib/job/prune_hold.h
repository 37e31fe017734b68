/*
 * Why prune keeps a pack it could otherwise delete: a lock (immutability)
 * still in force, or a storage class's minimum storage duration not yet
 * reached (deleting sooner is billed anyway), and what deleting early
 * would cost.
 */
#ifndef CP_JOB_PRUNE_HOLD_H
#define CP_JOB_PRUNE_HOLD_H

#include "cloudprotect/backup.h"
#include "cloudprotect/cost.h"
#include "format/repository.h"

typedef struct cp_prune_hold {
	cp_repository *repo;
	const cp_prune_options *opts; /* a full version 2 copy */
	cp_prune_stats *stats;	      /* accumulates the hold counters */
	int64_t now;
	cp_prices *prices; /* loaded on first need; NULL when none could be */
	int prices_tried;
} cp_prune_hold;

void cp_prune_hold_init(cp_prune_hold *h, cp_repository *repo, const cp_prune_options *opts,
			cp_prune_stats *stats);
void cp_prune_hold_dispose(cp_prune_hold *h);

/**
 * 1 when the object at key must stay for now: locked, or (without
 * opts->early_delete) younger than its class's minimum storage duration.
 * listed: what the listing said of it (mtime, class), or NULL. Counts it
 * in the stats either way.
 */
int cp_prune_hold_pack(cp_prune_hold *h, const char *key, const cp_object_info *listed);

/** 1 when the object at key is locked now (metadata: no duration rules apply). */
int cp_prune_hold_locked(cp_prune_hold *h, const char *key, int64_t *until);

/** Log what was kept and why, the way the CLI prints it. */
void cp_prune_hold_report(cp_prune_hold *h);

#endif
