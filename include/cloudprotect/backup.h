/*
 * libcloudprotect - image backups: backup, restore, list, forget, prune,
 * check, copy.
 */
#ifndef CLOUDPROTECT_BACKUP_H
#define CLOUDPROTECT_BACKUP_H

#include "common.h"
#include "provider.h"
#include "repository.h"

CP_BEGIN_DECL

/** One backup as listed. Strings are owned by the list it came in. */
typedef struct cp_backup_info {
	const char *id;		 /**< hex manifest id */
	const char *parent_id;	 /**< backup this one is incremental to, or NULL */
	const char *source;	 /**< what was backed up: path or resource id */
	const char *provider;	 /**< provider name, or NULL for a file/device */
	const char *snapshot_id; /**< provider snapshot it was read from, or NULL */
	const char *instance_id; /**< instance the disk belonged to, or NULL */
	const char *group_id;	 /**< consistency group, or NULL */
	const char *hostname;
	int64_t time;	     /**< unix seconds the backup started */
	uint64_t size;	     /**< disk size, bytes */
	uint64_t data_bytes; /**< bytes not holes */
	uint64_t new_bytes;  /**< bytes this backup added to the repository (stored) */
	uint32_t chunk_size;
	const cp_tag *tags;
	size_t ntags;
} cp_backup_info;

typedef struct cp_backup_list {
	cp_backup_info *items; /**< sorted by time, oldest first */
	size_t count;
	void *priv_;
} cp_backup_list;

CP_EXTERN(int) cp_backup_list_get(cp_backup_list *out, cp_repository *repo);
CP_EXTERN(void) cp_backup_list_dispose(cp_backup_list *list);

/** Resolve "latest", a unique id prefix, or a full id to a full id (cp_free). */
CP_EXTERN(int)
cp_backup_resolve(char **id_out, cp_repository *repo, const char *ref, const char *source_filter);

typedef struct cp_backup_options {
	unsigned int version;
	const char *source;   /**< what is backed up (path or resource id); required */
	const char *provider; /**< provider name for provider snapshots, or NULL */
	const char *snapshot_id;
	const char *instance_id;
	const char *group_id;
	const char *parent_id; /**< incremental to this backup; NULL: full */
	/**
	 * Ranges changed since the parent's data (sorted or not). With a
	 * parent and have_changed set, only these are read; the rest is taken
	 * from the parent. Without, everything allocated is read and only new
	 * chunks are stored.
	 */
	const cp_block_range *changed;
	size_t nchanged;
	int have_changed;
	const cp_tag *tags;
	size_t ntags;
	unsigned int threads; /**< 0: the context's setting */
	cp_progress_cb progress_cb;
	void *progress_payload;
	int full; /**< cp_backup_snapshot: no parent, read everything (still deduplicated) */
} cp_backup_options;

#define CP_BACKUP_OPTIONS_VERSION 1
#define CP_BACKUP_OPTIONS_INIT                                                                     \
	{                                                                                          \
		CP_BACKUP_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL,   \
			0, 0, NULL, NULL, 0                                                        \
	}

typedef struct cp_backup_stats {
	uint64_t size;	     /**< disk size */
	uint64_t read_bytes; /**< bytes read from the source */
	uint64_t data_bytes; /**< bytes not holes in the result */
	uint64_t new_chunks;
	uint64_t new_raw_bytes;	   /**< raw bytes of chunks new to the repository */
	uint64_t new_stored_bytes; /**< those after compression and encryption */
	uint64_t reused_chunks;
	double seconds;
} cp_backup_stats;

/** Back up a block source; *id_out receives the new backup id (cp_free). stats may be NULL. */
CP_EXTERN(int)
cp_backup_create(char **id_out, cp_backup_stats *stats, cp_repository *repo,
		 cp_block_reader *source, const cp_backup_options *opts);

/**
 * Back up a provider snapshot. With parent_id set and the parent made from
 * an earlier snapshot of the same disk, only the blocks the provider
 * reports changed are read.
 */
CP_EXTERN(int)
cp_backup_snapshot(char **id_out, cp_backup_stats *stats, cp_repository *repo,
		   cp_provider *provider, const char *snapshot_id, const cp_backup_options *opts);

/**
 * Back up a small document (a network configuration, say) as a backup of
 * its own: opts->source names what it describes, and the bytes are
 * chunked, deduplicated, compressed and encrypted like any image. Its
 * manifest carries a "content-type" tag with content_type.
 */
CP_EXTERN(int)
cp_document_backup(char **backup_id, cp_repository *repo, const char *content_type,
		   const void *data, size_t len, const cp_backup_options *opts);

/** Read a document backup back into a malloc'd buffer (NUL-terminated for convenience). */
CP_EXTERN(int)
cp_document_restore(void **data, size_t *len, cp_repository *repo, const char *backup_id);

typedef struct cp_restore_options {
	unsigned int version;
	unsigned int threads;
	int verify; /**< re-read nothing, but check every chunk id (always on) */
	cp_progress_cb progress_cb;
	void *progress_payload;
} cp_restore_options;

#define CP_RESTORE_OPTIONS_VERSION 1
#define CP_RESTORE_OPTIONS_INIT                                                                    \
	{                                                                                          \
		CP_RESTORE_OPTIONS_VERSION, 0, 1, NULL, NULL                                       \
	}

/** Restore a backup into a block writer (which the caller commits). */
CP_EXTERN(int)
cp_restore(cp_repository *repo, const char *backup_id, cp_block_writer *target,
	   const cp_restore_options *opts);

typedef struct cp_check_options {
	unsigned int version;
	int read_data; /**< download and verify every chunk */
	cp_progress_cb progress_cb;
	void *progress_payload;
} cp_check_options;

#define CP_CHECK_OPTIONS_VERSION 1
#define CP_CHECK_OPTIONS_INIT                                                                      \
	{                                                                                          \
		CP_CHECK_OPTIONS_VERSION, 0, NULL, NULL                                            \
	}

/** Receives one problem found by check. */
typedef void (*cp_check_problem_cb)(const char *object_key, const char *problem, void *payload);

typedef struct cp_check_result {
	uint64_t backups, indexes, packs, chunks;
	uint64_t problems;	     /**< 0 means the repository is sound */
	uint64_t unreferenced_packs; /**< harmless; prune removes them */
} cp_check_result;

/** Check the repository; returns CP_ECORRUPT when problems were found. */
CP_EXTERN(int)
cp_check(cp_repository *repo, const cp_check_options *opts, cp_check_problem_cb problem_cb,
	 void *payload, cp_check_result *result);

typedef struct cp_forget_options {
	unsigned int version;
	unsigned int keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly;
	const char *source; /**< only backups of this source; NULL: group by source */
	int dry_run;
	int64_t now; /**< 0: the current time (for tests) */
} cp_forget_options;

#define CP_FORGET_OPTIONS_VERSION 1
#define CP_FORGET_OPTIONS_INIT                                                                     \
	{                                                                                          \
		CP_FORGET_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, NULL, 0, 0                            \
	}

/** Receives each backup with the decision: keep (with the reason) or remove. */
typedef void (*cp_forget_cb)(const cp_backup_info *backup, int keep, const char *reason,
			     void *payload);

/** Forget backups by GFS rules, or exactly the ids given (ids non-NULL). */
CP_EXTERN(int)
cp_forget(cp_repository *repo, const cp_forget_options *opts, const char *const *ids,
	  cp_forget_cb cb, void *payload);

typedef struct cp_prune_options {
	unsigned int version;
	int dry_run;
	cp_progress_cb progress_cb;
	void *progress_payload;
	/* Version 2. */
	/**
	 * Delete unreferenced packs even while younger than their storage
	 * class's minimum storage duration (S3 GLACIER 90 days, Azure Cool 30,
	 * GCS ARCHIVE 365, ...). The cloud bills the remaining days anyway, so
	 * by default such packs are kept until then and reported.
	 */
	int early_delete;
	/**
	 * Abort unfinished uploads (left by killed backups: invisible, but
	 * billed) older than this many seconds; CP_PRUNE_STALE_UPLOADS_NEVER
	 * leaves them alone. Dry runs never abort.
	 */
	int64_t stale_upload_age;
	int64_t now; /**< 0: the current time (for tests) */
	/**
	 * Dry runs only: backup ids (NULL-terminated) to treat as already
	 * forgotten, so that `forget --dry-run --prune` shows what the real
	 * pair would do.
	 */
	const char *const *forgotten;
} cp_prune_options;

#define CP_PRUNE_STALE_UPLOAD_AGE    (24 * 3600)
#define CP_PRUNE_STALE_UPLOADS_NEVER (-1)

#define CP_PRUNE_OPTIONS_VERSION 2
#define CP_PRUNE_OPTIONS_INIT                                                                      \
	{                                                                                          \
		CP_PRUNE_OPTIONS_VERSION, 0, NULL, NULL, 0, CP_PRUNE_STALE_UPLOAD_AGE, 0, NULL     \
	}

typedef struct cp_prune_stats {
	uint64_t packs_removed, packs_rewritten, packs_kept_locked;
	uint64_t bytes_freed;
	uint64_t indexes_removed;
	/* Filled only for cp_prune_options version 2 and later. */
	uint64_t bytes_kept_locked;
	int64_t locked_first, locked_until; /**< earliest and latest lock end of those packs */
	uint64_t packs_kept_young, bytes_kept_young; /**< kept for their minimum storage duration */
	int64_t young_first, young_until; /**< earliest and latest end of those durations */
	uint64_t packs_deleted_early, bytes_deleted_early; /**< with early_delete */
	/**
	 * Estimated early-deletion charge, in the price tables' currency
	 * (USD): avoided for the packs kept, or incurred for those deleted
	 * early; negative when no price is known (then see byte_days).
	 */
	double early_delete_cost;
	double byte_days;	  /**< bytes x days left of their minimum durations, summed */
	uint64_t uploads_aborted; /**< stale unfinished uploads aborted */
} cp_prune_stats;

/** Remove data no backup references. CP_ELOCKED while a backup runs. */
CP_EXTERN(int) cp_prune(cp_repository *repo, const cp_prune_options *opts, cp_prune_stats *stats);

/** Copy backups (ids, or all when NULL) to another repository, deduplicating. */
CP_EXTERN(int)
cp_backup_copy(cp_repository *dst, cp_repository *src, const char *const *ids,
	       cp_progress_cb progress_cb, void *payload);

typedef struct cp_rehydrate_options {
	unsigned int version;
	const char *tier;  /**< retrieval tier: "Expedited", "Standard", "Bulk"; NULL = Standard */
	unsigned int days; /**< keep thawed copies this long; 0 = 7 */
	int dry_run;	   /**< only count what would be thawed */
	int wait;	   /**< poll until every pack is readable */
	unsigned int poll_seconds;  /**< between polls when waiting; 0 = 60 */
	cp_progress_cb progress_cb; /**< phase "rehydrate": packs readable of all; may cancel */
	void *progress_payload;
} cp_rehydrate_options;

#define CP_REHYDRATE_OPTIONS_VERSION 1
#define CP_REHYDRATE_OPTIONS_INIT                                                                  \
	{                                                                                          \
		CP_REHYDRATE_OPTIONS_VERSION, NULL, 0, 0, 0, 0, NULL, NULL                         \
	}

typedef struct cp_rehydrate_stats {
	uint64_t packs;		 /**< packs the backup needs */
	uint64_t archived;	 /**< of those, not readable when asked */
	uint64_t archived_bytes; /**< their size */
	uint64_t requested;	 /**< restore requests sent */
	uint64_t still_archived; /**< not readable yet at return */
} cp_rehydrate_stats;

/**
 * Make the packs a backup needs readable again when they sit in an archive
 * storage class (S3 GLACIER / DEEP_ARCHIVE, GCS ARCHIVE): request a thaw
 * for each, and with wait poll until all can be read. Metadata stays in
 * the hot tier, so this needs no thaw itself.
 */
CP_EXTERN(int)
cp_backup_rehydrate(cp_repository *repo, const char *backup_id, const cp_rehydrate_options *opts,
		    cp_rehydrate_stats *stats);

CP_END_DECL

#endif
