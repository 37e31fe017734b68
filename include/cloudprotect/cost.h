/*
 * libcloudprotect - the cost estimator: what a policy costs per month,
 * per workload and in total, from price tables (data/prices/CLOUD.json, or a
 * user's file) and stated assumptions or measurements. doc/cost.md has
 * the model, formula by formula.
 */
#ifndef CLOUDPROTECT_COST_H
#define CLOUDPROTECT_COST_H

#include "backup.h"
#include "common.h"
#include "policy.h"

CP_BEGIN_DECL

/** A set of price tables, one per cloud and region. */
typedef struct cp_prices cp_prices;

/**
 * The directory holding prices/: $CLOUDPROTECT_DATA_DIR when set, else
 * the data directory compiled in at build time.
 */
CP_EXTERN(const char *) cp_data_dir(void);

/** An empty set of price tables. */
CP_EXTERN(int) cp_prices_new(cp_prices **out);

/** The built-in tables: prices/aws.json, azure.json, gcp.json in cp_data_dir(). */
CP_EXTERN(int) cp_prices_load_default(cp_prices **out);

/**
 * Add the tables of a price file. A region already present (same cloud
 * and region) is replaced, so a user's file overrides the built-in one.
 */
CP_EXTERN(int) cp_prices_add_file(cp_prices *prices, const char *path);
/** As cp_prices_add_file, from text; origin names it in errors. */
CP_EXTERN(int) cp_prices_add_json(cp_prices *prices, const char *json, const char *origin);

CP_EXTERN(void) cp_prices_free(cp_prices *prices);

/** One workload to price. */
typedef struct cp_cost_workload {
	const char *id;
	const char *cloud;  /**< "aws", "azure", "gcp"; another (e.g. "local") uses the default */
	const char *region; /**< NULL: the default region */
	uint64_t size;	    /**< provisioned bytes */
	uint64_t used;	    /**< bytes holding data; 0: size * used_fraction */
	double daily_change_rate; /**< fraction of used bytes changed per day; < 0: assumed */
} cp_cost_workload;

/** What is assumed where nothing is measured; every value is reported back. */
typedef struct cp_cost_assumptions {
	double daily_change_rate; /**< default 0.02 (2% of used data a day) */
	double used_fraction;	  /**< default 0.6 */
	double stored_ratio;	  /**< stored bytes per byte read, after dedup and zstd; 0.5 */
	double throughput_mib_s;  /**< worker read throughput; default 200 */
	double pack_mib;	  /**< pack object size; default 16 */
	double archive_restores_per_year; /**< full restores from the archive; default 0 */
	int measured;		 /**< set by cp_cost_measure_backups when it used repository data */
	int throughput_measured; /**< set by cp_cost_measure_runs when it used run history */
} cp_cost_assumptions;

#define CP_COST_ASSUMPTIONS_INIT                                                                   \
	{                                                                                          \
		0.02, 0.6, 0.5, 200.0, 16.0, 0.0, 0, 0                                             \
	}

/**
 * Replace the assumed stored ratio and change rate by what a repository's
 * backups show: first backups of each source give stored/read, later ones
 * the share of data new per day. Leaves a at its values (and returns 0)
 * when the list has too little to measure.
 */
CP_EXTERN(int) cp_cost_measure_backups(const cp_backup_list *list, cp_cost_assumptions *a);

/**
 * Replace the assumed worker throughput by what recorded backups achieved:
 * bytes read over seconds taken, of the successful backups of policy (NULL:
 * any) that ran at least CP_COST_MIN_MEASURED_SECONDS each, since run
 * records keep whole seconds. Leaves a unchanged (and returns 0) when no
 * record qualifies.
 */
CP_EXTERN(int)
cp_cost_measure_runs(cp_state *state, const char *policy, cp_cost_assumptions *a);

#define CP_COST_MIN_MEASURED_SECONDS 10

typedef struct cp_cost_options {
	unsigned int version;
	const cp_prices *prices; /**< required */
	cp_cost_assumptions assumptions;
	const char *default_cloud;  /**< for workloads on clouds without tables; NULL: "aws" */
	const char *default_region; /**< NULL: the first region of that cloud's table */
	/* What-if overrides of the policy, to compare designs. */
	int snapshots_only;	/**< price the snapshots alone, as if there were no backups */
	int snapshot_keep_days; /**< -1: the policy's; else keep snapshots this many days */
	int archive_after_days; /**< -1: the policy's; 0: no archive; else move after N days */
} cp_cost_options;

#define CP_COST_OPTIONS_VERSION 1
#define CP_COST_OPTIONS_INIT                                                                       \
	{                                                                                          \
		CP_COST_OPTIONS_VERSION, NULL, CP_COST_ASSUMPTIONS_INIT, NULL, NULL, 0, -1, -1     \
	}

/** Monthly amounts in the tables' currency. */
typedef struct cp_cost_breakdown {
	double snapshot_storage;
	double backup_storage;
	double archive_storage;
	double archive_min_duration; /**< charge for leaving the archive before its minimum */
	double archive_retrieval;    /**< restores_per_year / 12 full restores */
	double requests;
	double compute;
	double transfer;
	double total;
} cp_cost_breakdown;

typedef struct cp_cost_line {
	const char *workload_id;
	const char *cloud, *region; /**< the price table used */
	double used_gib;
	double snapshot_gib, backup_gib, archive_gib; /**< stored in steady state */
	double worker_hours;			      /**< a month */
	double retrieval_per_restore;		      /**< one full restore from the archive */
	cp_cost_breakdown cost;
} cp_cost_line;

typedef struct cp_cost_report {
	const char *currency;
	cp_cost_line *lines;
	size_t count;
	cp_cost_breakdown total;
	cp_cost_assumptions assumptions; /**< as used */
	const char *const *notes; /**< price sources and assumptions, for people; count in nnotes */
	size_t nnotes;
	void *priv_;
} cp_cost_report;

/**
 * Estimate the monthly cost of protecting workloads by policy: every
 * workload given is priced (select them first with cp_policy_selects). The
 * report's strings stay valid until it is disposed. Errors:
 * CP_ENOTFOUND when a workload's cloud and region have no table (the
 * message lists those there are), CP_EINVALID for bad options.
 */
CP_EXTERN(int)
cp_cost_estimate(cp_cost_report *out, const cp_policy *policy, const cp_cost_workload *workloads,
		 size_t count, const cp_cost_options *opts);

CP_EXTERN(void) cp_cost_report_dispose(cp_cost_report *report);

CP_END_DECL

#endif
