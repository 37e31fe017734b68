/*
 * libcloudprotect - providers: inventory, snapshots, block access to
 * snapshots, restore targets.
 */
#ifndef CLOUDPROTECT_PROVIDER_H
#define CLOUDPROTECT_PROVIDER_H

#include "common.h"

CP_BEGIN_DECL

typedef struct cp_provider cp_provider;
typedef struct cp_block_reader cp_block_reader;
typedef struct cp_block_writer cp_block_writer;

typedef enum {
	CP_RESOURCE_VM = 0,
	CP_RESOURCE_DISK,
	CP_RESOURCE_DB,
	CP_RESOURCE_NOSQL,
	CP_RESOURCE_WAREHOUSE,
	CP_RESOURCE_FILESHARE,
	CP_RESOURCE_NETWORK,
} cp_resource_kind;

/** "vm", "disk", ...; NULL for an unknown kind. */
CP_EXTERN(const char *) cp_resource_kind_name(cp_resource_kind kind);
/** Parse a kind name; returns CP_EINVALID for an unknown name. */
CP_EXTERN(int) cp_resource_kind_parse(cp_resource_kind *out, const char *name);

typedef struct cp_tag {
	const char *key;
	const char *value;
} cp_tag;

/** One workload. Strings are borrowed from whoever hands it out. */
typedef struct cp_resource {
	cp_resource_kind kind;
	const char *id;
	const char *name;
	const char *region;
	const char *account;
	const char *parent_id; /**< instance a disk is attached to, or NULL */
	uint64_t size;	       /**< bytes (disks: capacity; vms: sum of disks) */
	const cp_tag *tags;
	size_t ntags;
} cp_resource;

/** Called once per resource; return non-zero to stop (that value is returned). */
typedef int (*cp_resource_cb)(const cp_resource *resource, void *payload);

typedef struct cp_inventory_filter {
	unsigned int version;
	const char *const *ids; /**< NULL-terminated, or NULL for any */
	const char *const *regions;
	const cp_tag *tags; /**< all must match; value NULL matches any */
	size_t ntags;
	int kind; /**< a cp_resource_kind, or -1 for any */
} cp_inventory_filter;

#define CP_INVENTORY_FILTER_VERSION 1
#define CP_INVENTORY_FILTER_INIT                                                                   \
	{                                                                                          \
		CP_INVENTORY_FILTER_VERSION, NULL, NULL, NULL, 0, -1                               \
	}

typedef enum {
	CP_SNAPSHOT_PENDING = 0,
	CP_SNAPSHOT_COMPLETED,
	CP_SNAPSHOT_ERROR,
} cp_snapshot_state;

CP_EXTERN(const char *) cp_snapshot_state_name(cp_snapshot_state state);

/** A cloud-native snapshot of one disk. */
typedef struct cp_snapshot {
	const char *id;
	const char *resource_id; /**< the disk it was taken of */
	const char *instance_id; /**< the instance the disk belonged to, or NULL */
	const char *group_id;	 /**< snapshots taken together share it, or NULL */
	const char *region;
	uint64_t size;	     /**< bytes */
	uint32_t block_size; /**< granularity of block listing, bytes */
	int64_t created;     /**< unix seconds */
	cp_snapshot_state state;
	const cp_tag *tags;
	size_t ntags;
	/**
	 * What was snapshotted: CP_RESOURCE_DISK for block snapshots (the
	 * only ones cp_snapshot_open can read); CP_RESOURCE_DB, _WAREHOUSE,
	 * _NOSQL or _FILESHARE for provider-native snapshots and recovery
	 * points, which come back through cp_resource_restore.
	 */
	cp_resource_kind kind;
} cp_snapshot;

typedef int (*cp_snapshot_cb)(const cp_snapshot *snapshot, void *payload);

/** A byte range of a disk. */
typedef struct cp_block_range {
	uint64_t offset;
	uint64_t length;
} cp_block_range;

/**
 * Receives one page of ranges, sorted by offset, not overlapping.
 * Return non-zero to stop.
 */
typedef int (*cp_block_range_cb)(const cp_block_range *ranges, size_t count, void *payload);

/** Names of the built-in and registered providers, NULL-terminated. */
CP_EXTERN(int) cp_provider_names(const char *const **out);

/**
 * Open a provider by name ("local", "aws", ...). config is a JSON object
 * whose fields the provider documents (NULL or "" for defaults).
 */
CP_EXTERN(int)
cp_provider_open(cp_provider **out, cp_ctx *ctx, const char *name, const char *config_json);
CP_EXTERN(void) cp_provider_free(cp_provider *provider);
CP_EXTERN(const char *) cp_provider_name(const cp_provider *provider);

/** Stream the inventory through cb. filter may be NULL. */
CP_EXTERN(int)
cp_provider_inventory(cp_provider *provider, const cp_inventory_filter *filter, cp_resource_cb cb,
		      void *payload);

typedef struct cp_snapshot_create_options {
	unsigned int version;
	const char *description;
	const cp_tag *tags;
	size_t ntags;
	int wait; /**< return only once the snapshot is readable */
	cp_progress_cb progress_cb;
	void *progress_payload;
} cp_snapshot_create_options;

#define CP_SNAPSHOT_CREATE_OPTIONS_VERSION 1
#define CP_SNAPSHOT_CREATE_OPTIONS_INIT                                                            \
	{                                                                                          \
		CP_SNAPSHOT_CREATE_OPTIONS_VERSION, NULL, NULL, 0, 1, NULL, NULL                   \
	}

/**
 * Snapshot a resource. For an instance, every attached disk is
 * snapshotted at one point in time (one consistency group) and cb is
 * called once per disk snapshot; for a disk, once.
 */
CP_EXTERN(int)
cp_snapshot_create(cp_provider *provider, const char *resource_id,
		   const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload);

/** List snapshots, of one resource (disk or instance) or all (NULL). */
CP_EXTERN(int)
cp_snapshot_list(cp_provider *provider, const char *resource_id, cp_snapshot_cb cb, void *payload);

/** Look up one snapshot. */
CP_EXTERN(int)
cp_snapshot_get(cp_provider *provider, const char *snapshot_id, cp_snapshot_cb cb, void *payload);

CP_EXTERN(int) cp_snapshot_delete(cp_provider *provider, const char *snapshot_id);

/** Copy a snapshot to another region; cb receives the copy. */
CP_EXTERN(int)
cp_snapshot_copy(cp_provider *provider, const char *snapshot_id, const char *region,
		 cp_snapshot_cb cb, void *payload);

/**
 * Set tags on a resource or snapshot: each key given gets the value given
 * and the other keys stay as they are (as EC2 CreateTags does).
 */
CP_EXTERN(int)
cp_provider_tag(cp_provider *provider, const char *id, const cp_tag *tags, size_t ntags);

/**
 * Remove tags from a resource or snapshot by key, whatever their values;
 * keys it does not carry are no error (as EC2 DeleteTags). The other keys
 * stay. Needs a backend table of version 3 or later (CP_EUNSUPPORTED).
 */
CP_EXTERN(int)
cp_provider_untag(cp_provider *provider, const char *id, const char *const *keys, size_t nkeys);

/** Open a snapshot's blocks for reading. */
CP_EXTERN(int)
cp_snapshot_open(cp_block_reader **out, cp_provider *provider, const char *snapshot_id);

/**
 * Ranges that differ between base and snapshot (both of one disk
 * lineage), as EBS ListChangedBlocks reports them. CP_EUNSUPPORTED when
 * the provider cannot tell exactly; callers then read everything.
 */
CP_EXTERN(int)
cp_snapshot_changed_blocks(cp_provider *provider, const char *base_snapshot_id,
			   const char *snapshot_id, cp_block_range_cb cb, void *payload);

typedef struct cp_disk_create_options {
	unsigned int version;
	const char *name;
	const char *region; /**< NULL: the provider's default */
	uint64_t size;	    /**< bytes */
	const cp_tag *tags;
	size_t ntags;
	const char *attach_to; /**< instance id to attach the new disk to, or NULL */
} cp_disk_create_options;

#define CP_DISK_CREATE_OPTIONS_VERSION 1
#define CP_DISK_CREATE_OPTIONS_INIT                                                                \
	{                                                                                          \
		CP_DISK_CREATE_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0, NULL                       \
	}

/** Start a new disk to be filled with blocks (a restore target). */
CP_EXTERN(int)
cp_disk_create(cp_block_writer **out, cp_provider *provider, const cp_disk_create_options *opts);

typedef struct cp_resource_restore_options {
	unsigned int version;
	const char *name;	/**< name or identifier of the new resource; NULL: derived */
	const char *region;	/**< NULL: the snapshot's region */
	const char *size_class; /**< instance class / node type / VM size; NULL: as source */
	const char *subnet;	/**< subnet, or DB subnet group; NULL: default */
	/** vm: snapshots of further disks, attached in this order after the root */
	const char *const *data_snapshot_ids;
	size_t ndata_snapshots;
	int launch; /**< vm: also launch an instance from the image made */
	const cp_tag *tags;
	size_t ntags;
	int wait; /**< return only once the new resource is available */
	cp_progress_cb progress_cb;
	void *progress_payload;

	/* Version 2. */
	/**
	 * vm: the processor architecture of the image made, "x86_64" or
	 * "arm64" (anything else is CP_EINVALID). NULL: what the launch
	 * size class runs (x86_64 when it runs both), or x86_64 without
	 * launch. Given together with launch, a size class that cannot run
	 * it is refused before anything is made.
	 */
	const char *architecture;
} cp_resource_restore_options;

#define CP_RESOURCE_RESTORE_OPTIONS_VERSION 2
#define CP_RESOURCE_RESTORE_OPTIONS_INIT                                                           \
	{                                                                                          \
		CP_RESOURCE_RESTORE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, 0,  \
			1, NULL, NULL, NULL                                                        \
	}

/**
 * Restore a provider-native snapshot to a new resource: a database or
 * cluster snapshot to a new instance or cluster, a recovery point to a
 * new table or file system, or a disk snapshot (plus data_snapshot_ids)
 * to a machine image and, with launch, an instance. cb receives every
 * resource made, the image before the instance. opts of version 1 (built
 * before architecture existed) still work; a version this library does
 * not know is CP_EINVALID.
 */
CP_EXTERN(int)
cp_resource_restore(cp_provider *provider, const char *snapshot_id,
		    const cp_resource_restore_options *opts, cp_resource_cb cb, void *payload);

/* Workers: temporary machines in the account for paths that need one. */

typedef struct cp_worker_options {
	unsigned int version;
	const char *region;	  /**< NULL: the provider's default */
	const char *image;	  /**< machine image to boot; required */
	const char *size_class;	  /**< instance type / VM size; required */
	const char *subnet;	  /**< NULL: the default network */
	const char *identity;	  /**< instance profile / managed identity / service account */
	const char *user_data;	  /**< the job: a script run at boot */
	const char *job;	  /**< short job name, tagged on the worker */
	unsigned int ttl_seconds; /**< reapable after this long; 0: one hour */
	const cp_tag *tags;
	size_t ntags;
} cp_worker_options;

#define CP_WORKER_OPTIONS_VERSION 1
#define CP_WORKER_OPTIONS_INIT                                                                     \
	{                                                                                          \
		CP_WORKER_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0    \
	}

typedef enum {
	CP_WORKER_STARTING = 0,
	CP_WORKER_RUNNING,
	CP_WORKER_FINISHED, /**< the job ended (the machine stopped itself) */
	CP_WORKER_TERMINATED,
	CP_WORKER_FAILED,
} cp_worker_state;

CP_EXTERN(const char *) cp_worker_state_name(cp_worker_state state);

typedef struct cp_worker_info {
	const char *id;
	const char *region;
	const char *job;
	const char *address; /**< private address, or NULL */
	cp_worker_state state;
	int64_t launched; /**< unix seconds */
	int64_t expires;  /**< unix seconds after which cp_worker_reap terminates it */
} cp_worker_info;

typedef int (*cp_worker_cb)(const cp_worker_info *worker, void *payload);

/** Launch a worker; *id_out gets its id (free with cp_free). */
CP_EXTERN(int)
cp_worker_launch(char **id_out, cp_provider *provider, const cp_worker_options *opts);
CP_EXTERN(int) cp_worker_get(cp_provider *provider, const char *id, cp_worker_cb cb, void *payload);
/** Workers this library launched (tagged as ours) that are not terminated. */
CP_EXTERN(int) cp_worker_list(cp_provider *provider, cp_worker_cb cb, void *payload);
/** Terminate; terminating a terminated or unknown worker is not an error. */
CP_EXTERN(int) cp_worker_terminate(cp_provider *provider, const char *id);

typedef struct cp_worker_run_options {
	unsigned int version;
	unsigned int timeout_seconds; /**< terminate and fail after this; 0: ttl of the worker */
	unsigned int poll_ms;	      /**< 0: 5000 */
	cp_progress_cb progress_cb;
	void *progress_payload;
} cp_worker_run_options;

#define CP_WORKER_RUN_OPTIONS_VERSION 1
#define CP_WORKER_RUN_OPTIONS_INIT                                                                 \
	{                                                                                          \
		CP_WORKER_RUN_OPTIONS_VERSION, 0, 0, NULL, NULL                                    \
	}

/**
 * Launch a worker, wait until its job finishes, and terminate it on every
 * path (success, failure, timeout, cancel from the progress callback, an
 * error while watching it). Fails when the job failed (CP_ERROR), timed
 * out (CP_ETIMEOUT) or was cancelled (CP_ECANCELLED). Progress reports
 * phase "launch", then the worker's state ("starting", "running") at
 * every poll and "terminate" at the end, with item = the worker id and
 * done/total = seconds elapsed / the timeout.
 */
CP_EXTERN(int)
cp_worker_run(cp_provider *provider, const cp_worker_options *opts,
	      const cp_worker_run_options *run_opts);

/** Terminate every worker of ours whose ttl has passed; *count_out (may be NULL) gets how many. */
CP_EXTERN(int) cp_worker_reap(cp_provider *provider, int64_t now, size_t *count_out);

/* Network configuration (VPCs, VNets): export and re-apply. */

/**
 * Export the network configuration of a region as a versioned JSON
 * document (malloc'd into *json_out), for cp_document_backup.
 */
CP_EXTERN(int)
cp_network_export(char **json_out, cp_provider *provider, const char *region);

/** One step of applying a network document. */
typedef struct cp_network_step {
	const char *action;    /**< "create", "associate", "authorize", "skip", ... */
	const char *type;      /**< "vpc", "subnet", "route-table", "security-group", ... */
	const char *source_id; /**< id in the document */
	const char *new_id;    /**< id made, or NULL in a dry run */
	const char *detail;    /**< human-readable summary */
} cp_network_step;

typedef int (*cp_network_step_cb)(const cp_network_step *step, void *payload);

typedef struct cp_network_apply_options {
	unsigned int version;
	const char *region; /**< target region; NULL: the document's */
	int dry_run;	    /**< only report the plan */
	cp_network_step_cb step_cb;
	void *step_payload;
} cp_network_apply_options;

#define CP_NETWORK_APPLY_OPTIONS_VERSION 1
#define CP_NETWORK_APPLY_OPTIONS_INIT                                                              \
	{                                                                                          \
		CP_NETWORK_APPLY_OPTIONS_VERSION, NULL, 0, NULL, NULL                              \
	}

/**
 * Re-create an exported configuration in an empty region or account,
 * mapping the document's ids to new ones. Refuses a target that already
 * holds non-default networks, unless the plan only skips.
 */
CP_EXTERN(int)
cp_network_apply(cp_provider *provider, const char *json, const cp_network_apply_options *opts);

/* Block readers and writers: sources and targets of image data. */

/** Open a file or block device as a source. */
CP_EXTERN(int) cp_block_reader_open_file(cp_block_reader **out, const char *path);
CP_EXTERN(uint64_t) cp_block_reader_size(const cp_block_reader *reader);
CP_EXTERN(uint32_t) cp_block_reader_block_size(const cp_block_reader *reader);
/** Read exactly len bytes at offset; safe to call from several threads. */
CP_EXTERN(int)
cp_block_reader_read(cp_block_reader *reader, uint64_t offset, void *buf, size_t len);
/** Ranges that may hold data (others read as zeros); all of it when unknown. */
CP_EXTERN(int)
cp_block_reader_allocated(cp_block_reader *reader, cp_block_range_cb cb, void *payload);
CP_EXTERN(void) cp_block_reader_free(cp_block_reader *reader);

/** Writer flags. */
#define CP_BLOCK_WRITER_MUST_WRITE_ZEROS 0x1u /**< unwritten blocks do not read as zero */

/**
 * Open a file or block device as a restore target of size bytes. A
 * regular file is created (or truncated) and written sparse; a block
 * device must be at least size bytes and gets zeros written into holes.
 */
CP_EXTERN(int) cp_block_writer_open_file(cp_block_writer **out, const char *path, uint64_t size);
CP_EXTERN(uint64_t) cp_block_writer_size(const cp_block_writer *writer);
CP_EXTERN(unsigned int) cp_block_writer_flags(const cp_block_writer *writer);
/** Write len bytes at offset; safe to call from several threads. */
CP_EXTERN(int)
cp_block_writer_write(cp_block_writer *writer, uint64_t offset, const void *buf, size_t len);
/** Make the written data durable; *id_out (may be NULL) gets the new resource id (cp_free). */
CP_EXTERN(int) cp_block_writer_commit(cp_block_writer *writer, char **id_out);
/** Free; a writer not committed is aborted and what it made is removed. */
CP_EXTERN(void) cp_block_writer_free(cp_block_writer *writer);

CP_END_DECL

#endif
