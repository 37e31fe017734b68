/*
 * libcloudprotect - the provider backend interface, for people who write
 * backends. A backend is a versioned table of operations (think
 * sqlite3_vfs): new operations are appended, and the core calls an
 * operation only when the table's version says it is there. An operation
 * left NULL makes the public call fail with CP_EUNSUPPORTED.
 */
#ifndef CLOUDPROTECT_SYS_PROVIDER_H
#define CLOUDPROTECT_SYS_PROVIDER_H

#include "../provider.h"

CP_BEGIN_DECL

/**
 * A block reader. Backends embed this as the first member of their own
 * struct and fill it in; the core calls through it.
 */
struct cp_block_reader {
	unsigned int version;
	uint64_t size;
	uint32_t block_size;
	/** Read exactly len bytes at offset; must be thread-safe. */
	int (*read)(cp_block_reader *self, uint64_t offset, void *buf, size_t len);
	/** Ranges that may hold data; NULL means "all of it". */
	int (*allocated)(cp_block_reader *self, cp_block_range_cb cb, void *payload);
	void (*free)(cp_block_reader *self);

	/* Version 2. */
	/**
	 * How many reads the engine should keep in flight at once, for sources
	 * whose reads mostly wait (a cloud API far away); 0 = the engine's
	 * thread count. The engine still encodes on its own threads only.
	 */
	unsigned int reads_in_flight;
};

#define CP_BLOCK_READER_VERSION 2

/** A block writer; embedded like cp_block_reader. */
struct cp_block_writer {
	unsigned int version;
	uint64_t size;
	uint32_t block_size;
	unsigned int flags; /**< CP_BLOCK_WRITER_* */
	/** Write len bytes at offset; must be thread-safe. */
	int (*write)(cp_block_writer *self, uint64_t offset, const void *buf, size_t len);
	/** Finish; *id_out may receive a malloc'd id of what was made. */
	int (*commit)(cp_block_writer *self, char **id_out);
	/** Free; abort and clean up when commit was not called or failed. */
	void (*free)(cp_block_writer *self);
};

#define CP_BLOCK_WRITER_VERSION 1

/** One provider backend. All operations get the state that open made. */
typedef struct cp_provider_ops {
	unsigned int version;
	const char *name;	 /**< "local", "aws", ... */
	const char *description; /**< one line for `cloudprotect providers` */

	int (*open)(void **state, cp_ctx *ctx, const char *config_json);
	void (*close)(void *state);

	int (*inventory)(void *state, const cp_inventory_filter *filter, cp_resource_cb cb,
			 void *payload);

	int (*snapshot_create)(void *state, const char *resource_id,
			       const cp_snapshot_create_options *opts, cp_snapshot_cb cb,
			       void *payload);
	int (*snapshot_list)(void *state, const char *resource_id, cp_snapshot_cb cb,
			     void *payload);
	int (*snapshot_get)(void *state, const char *snapshot_id, cp_snapshot_cb cb, void *payload);
	int (*snapshot_delete)(void *state, const char *snapshot_id);
	int (*snapshot_copy)(void *state, const char *snapshot_id, const char *region,
			     cp_snapshot_cb cb, void *payload);
	int (*tag)(void *state, const char *id, const cp_tag *tags, size_t ntags);

	int (*snapshot_open)(void *state, const char *snapshot_id, cp_block_reader **out);
	int (*snapshot_changed_blocks)(void *state, const char *base_snapshot_id,
				       const char *snapshot_id, cp_block_range_cb cb,
				       void *payload);

	int (*disk_create)(void *state, const cp_disk_create_options *opts, cp_block_writer **out);

	/* Version 2. */
	int (*resource_restore)(void *state, const char *snapshot_id,
				const cp_resource_restore_options *opts, cp_resource_cb cb,
				void *payload);
	int (*worker_launch)(void *state, const cp_worker_options *opts, char **id_out);
	int (*worker_get)(void *state, const char *id, cp_worker_cb cb, void *payload);
	int (*worker_list)(void *state, cp_worker_cb cb, void *payload);
	int (*worker_terminate)(void *state, const char *id);
	int (*network_export)(void *state, const char *region, char **json_out);
	int (*network_apply)(void *state, const char *json, const cp_network_apply_options *opts);

	/* Version 3. */
	int (*untag)(void *state, const char *id, const char *const *keys, size_t nkeys);
} cp_provider_ops;

#define CP_PROVIDER_OPS_VERSION 3

/**
 * Register a backend under ops->name. ops must outlive the process (a
 * static table). Registering a name twice fails with CP_EEXISTS.
 */
CP_EXTERN(int) cp_provider_register(const cp_provider_ops *ops);

/** The state a backend's open() made, for backend-specific extensions. */
CP_EXTERN(void *) cp_provider_state(cp_provider *provider);
CP_EXTERN(cp_ctx *) cp_provider_ctx(cp_provider *provider);
CP_EXTERN(const cp_provider_ops *) cp_provider_get_ops(cp_provider *provider);

CP_END_DECL

#endif
