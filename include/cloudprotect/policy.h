/*
 * libcloudprotect - policies: which workloads to protect, when to
 * snapshot and back them up, how long to keep what, and where old backups
 * go. A policy is a JSON document (doc/policy.md). Planning is a pure
 * function of (policy, inventory, history, now); running executes a plan
 * and records every action in a state store.
 */
#ifndef CLOUDPROTECT_POLICY_H
#define CLOUDPROTECT_POLICY_H

#include "backup.h"
#include "common.h"
#include "provider.h"
#include "repository.h"

CP_BEGIN_DECL

typedef struct cp_policy cp_policy;
typedef struct cp_plan cp_plan;
typedef struct cp_state cp_state;

/** Tag key the runner puts on the snapshots and backups it makes; the value is the policy name. */
#define CP_POLICY_TAG "cloudprotect-policy"

/**
 * Parse and validate a policy document. origin names it in error
 * messages (a file name; NULL: "policy"). Errors are CP_EINVALID with the
 * field path, what is wrong and what is allowed, e.g.
 * "policy.json: backups.retention.weekly: must be an integer 0..1000, got \"four\"".
 */
CP_EXTERN(int) cp_policy_parse(cp_policy **out, const char *json, const char *origin);

/** Read and parse a policy file. */
CP_EXTERN(int) cp_policy_load(cp_policy **out, const char *path);

CP_EXTERN(void) cp_policy_free(cp_policy *policy);

CP_EXTERN(const char *) cp_policy_name(const cp_policy *policy);
/** IANA time zone name the schedules are read in ("UTC" by default). */
CP_EXTERN(const char *) cp_policy_timezone(const cp_policy *policy);
/** The backup repository URL, or NULL when the policy only snapshots. */
CP_EXTERN(const char *) cp_policy_repository(const cp_policy *policy);
/** The archive repository URL, or NULL. */
CP_EXTERN(const char *) cp_policy_archive_repository(const cp_policy *policy);
/** Days objects stay locked in the repositories (0: off). */
CP_EXTERN(unsigned int) cp_policy_immutable_days(const cp_policy *policy);
/** How many workloads may be worked on at once (at least 1). */
CP_EXTERN(unsigned int) cp_policy_concurrency(const cp_policy *policy);

/** 1 when the policy's selection takes this resource, else 0. */
CP_EXTERN(int) cp_policy_selects(const cp_policy *policy, const cp_resource *resource);

/**
 * The first scheduled time (snapshot or backup) strictly after now, in
 * unix seconds. CP_ENOTFOUND when nothing is scheduled within a year.
 */
CP_EXTERN(int) cp_policy_next_run(const cp_policy *policy, int64_t now, int64_t *next);

typedef enum {
	CP_ACTION_SNAPSHOT = 0,	   /**< take a snapshot of resource_id */
	CP_ACTION_BACKUP,	   /**< back up snapshot_id (NULL: the one just taken) */
	CP_ACTION_ARCHIVE_COPY,	   /**< copy backup_id to the archive repository */
	CP_ACTION_EXPIRE_SNAPSHOT, /**< delete snapshot_id */
	CP_ACTION_FORGET_BACKUP,   /**< forget backup_id (in the archive when archive is set) */
	CP_ACTION_PRUNE,	   /**< free data no backup references (once, after forgets) */
} cp_action_kind;

/** "snapshot", "backup", "archive-copy", "expire-snapshot", "forget-backup", "prune". */
CP_EXTERN(const char *) cp_action_kind_name(cp_action_kind kind);
CP_EXTERN(int) cp_action_kind_parse(cp_action_kind *out, const char *name);

/** One planned action. Strings are owned by the plan. */
typedef struct cp_action {
	cp_action_kind kind;
	const char *resource_id; /**< the workload it serves (for backups: the disk) */
	const char *snapshot_id;
	const char *backup_id;
	int archive;	   /**< forget-backup: 1 in the archive repository, 0 in the primary */
	int64_t scheduled; /**< snapshot/backup: the schedule slot served; else 0 */
	const char
		*reason; /**< why, for people: "daily 02:30 Europe/Berlin", "older than 30 days" */
} cp_action;

/** What the planner knows of the past. Every array may be empty. */
typedef struct cp_run_record cp_run_record;
typedef struct cp_plan_history {
	unsigned int version;
	const cp_snapshot
		*snapshots; /**< snapshots the provider lists (any; only tagged ones count) */
	size_t nsnapshots;
	const cp_backup_info *backups; /**< backups in the policy's repository */
	size_t nbackups;
	const cp_backup_info *archived; /**< backups in the archive repository */
	size_t narchived;
	const cp_run_record *runs; /**< earlier attempts from the state store */
	size_t nruns;
} cp_plan_history;

#define CP_PLAN_HISTORY_VERSION 1
#define CP_PLAN_HISTORY_INIT                                                                       \
	{                                                                                          \
		CP_PLAN_HISTORY_VERSION, NULL, 0, NULL, 0, NULL, 0, NULL, 0                        \
	}

/**
 * Plan: what is due at now. Pure: reads nothing but its arguments (and
 * the time zone database). A run missed while nothing ran is caught up
 * once, not once per missed slot. Destructive actions never remove the
 * newest completed snapshot of a resource nor the newest backup of a
 * source, nor a backup still under its immutability lock.
 */
CP_EXTERN(int)
cp_policy_plan(cp_plan **out, const cp_policy *policy, const cp_resource *inventory,
	       size_t ninventory, const cp_plan_history *history, int64_t now);

CP_EXTERN(size_t) cp_plan_count(const cp_plan *plan);
/** The i-th action, in execution order; NULL past the end. */
CP_EXTERN(const cp_action *) cp_plan_action(const cp_plan *plan, size_t i);
CP_EXTERN(void) cp_plan_free(cp_plan *plan);

/* State store: one record per executed action, kept under a directory. */

typedef enum {
	CP_RUN_OK = 0,
	CP_RUN_FAILED,
	CP_RUN_SKIPPED, /**< not attempted, e.g. because an earlier step of the workload failed */
} cp_run_result;

CP_EXTERN(const char *) cp_run_result_name(cp_run_result result);

/** One executed (or skipped) action. Strings are borrowed. */
struct cp_run_record {
	const char *run_id; /**< shared by the records of one policy run */
	const char *policy;
	cp_action_kind action;
	const char *resource_id;
	const char *snapshot_id; /**< taken, read or expired */
	const char *backup_id;	 /**< made, copied or forgotten */
	int64_t start, end;	 /**< unix seconds */
	int64_t scheduled;	 /**< the slot served, or 0 */
	uint64_t bytes;		 /**< bytes read (backup) or stored */
	cp_run_result result;
	int error_code;	   /**< a cp_error_code when failed */
	const char *error; /**< the error message when failed, else NULL */
};

/**
 * Open (creating it if needed) the state directory. Records go to
 * DIR/runs.jsonl; writers serialise on DIR/lock with flock and replace
 * the file atomically, so concurrent processes never corrupt it.
 */
CP_EXTERN(int) cp_state_open(cp_state **out, const char *dir);
CP_EXTERN(void) cp_state_free(cp_state *state);
CP_EXTERN(const char *) cp_state_dir(const cp_state *state);

/** Append records in one atomic step. */
CP_EXTERN(int) cp_state_append(cp_state *state, const cp_run_record *records, size_t count);

typedef int (*cp_run_record_cb)(const cp_run_record *record, void *payload);

/** Call cb for each record, oldest first, of one policy or all (NULL). */
CP_EXTERN(int)
cp_state_runs(cp_state *state, const char *policy, cp_run_record_cb cb, void *payload);

/*
 * Running. The runner executes a plan's actions through an executor. The
 * built-in one (used when options.executor is NULL) calls the provider and
 * repository APIs, one call at a time per handle; tests and orchestrators
 * may supply their own, whose operations are called from up to
 * `concurrency` threads at once (one workload per thread).
 */

/** Receives each snapshot an executor's snapshot operation made. */
typedef int (*cp_policy_snapshot_made_cb)(const cp_snapshot *snapshot, void *payload);

typedef struct cp_policy_executor {
	unsigned int version;
	/** Take a snapshot of resource_id tagged with tags; report each disk snapshot through cb. */
	int (*snapshot)(void *state, const char *resource_id, const cp_tag *tags, size_t ntags,
			cp_policy_snapshot_made_cb cb, void *cb_payload);
	/** Back up one disk snapshot; *backup_id (cp_free) and *bytes_read out. */
	int (*backup)(void *state, const cp_snapshot *snapshot, const cp_tag *tags, size_t ntags,
		      char **backup_id, uint64_t *bytes_read);
	/** Look up the snapshots of a consistency group (or the one snapshot) by snapshot id. */
	int (*snapshot_group)(void *state, const char *snapshot_id, cp_policy_snapshot_made_cb cb,
			      void *cb_payload);
	int (*archive_copy)(void *state, const char *backup_id);
	int (*expire_snapshot)(void *state, const char *snapshot_id);
	int (*forget)(void *state, int archive, const char *const *backup_ids);
	int (*prune)(void *state, int archive); /**< may be NULL: no prune */
	void *state;
} cp_policy_executor;

#define CP_POLICY_EXECUTOR_VERSION 1

/** Receives each action's outcome as it finishes (from the worker's thread, serialised). */
typedef void (*cp_policy_run_cb)(const cp_action *action, const cp_run_record *record,
				 void *payload);

typedef struct cp_policy_run_options {
	unsigned int version;
	cp_provider *provider;		    /**< required unless executor is given */
	cp_repository *repository;	    /**< required when the policy backs up */
	cp_repository *archive;		    /**< required when the policy archives */
	cp_state *state;		    /**< where runs are recorded; NULL: nowhere */
	const cp_policy_executor *executor; /**< NULL: the built-in one */
	unsigned int concurrency;	    /**< 0: the policy's */
	int64_t now;			    /**< 0: the current time */
	int dry_run;			    /**< plan and report, change nothing */
	cp_policy_run_cb cb;
	void *payload;
} cp_policy_run_options;

#define CP_POLICY_RUN_OPTIONS_VERSION 1
#define CP_POLICY_RUN_OPTIONS_INIT                                                                 \
	{                                                                                          \
		CP_POLICY_RUN_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL   \
	}

typedef struct cp_policy_run_summary {
	char run_id[40];
	size_t workloads; /**< workloads that had something to do */
	size_t ok, failed, skipped;
	size_t unrecorded; /**< records the state store could not take (disk full, ...) */
	uint64_t bytes;
	int64_t start, end;
} cp_policy_run_summary;

/**
 * Gather inventory and history, plan, and execute what is due. One
 * workload's failure does not stop the others; after a failed snapshot or
 * backup, that workload's expiry and forget actions are skipped. Returns
 * 0 when every action succeeded, CP_ERROR when some failed (details in
 * the records and the summary), or another code when nothing could run
 * (CP_ELOCKED: another run of this policy holds the state lock).
 */
CP_EXTERN(int)
cp_policy_run(const cp_policy *policy, const cp_policy_run_options *opts,
	      cp_policy_run_summary *summary);

/** Execute a plan made elsewhere (cp_policy_plan) with the same options and rules. */
CP_EXTERN(int)
cp_policy_execute(const cp_policy *policy, const cp_plan *plan, const cp_policy_run_options *opts,
		  cp_policy_run_summary *summary);

CP_END_DECL

#endif
