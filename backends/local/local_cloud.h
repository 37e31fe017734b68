/*
 * The local provider's internals, shared by the files of backends/local/.
 * provider.c documents the on-disk layout.
 */
#ifndef CP_LOCAL_CLOUD_H
#define CP_LOCAL_CLOUD_H

#include "cloudprotect/local.h"
#include "cloudprotect/sys/provider.h"

#include <stddef.h>
#include <stdint.h>

/* EBS direct's block size: changed blocks are tracked at this granularity. */
#define LOCAL_BLOCK_SIZE     (512u * 1024u)
#define LOCAL_DEFAULT_REGION "local-1"
#define LOCAL_FORMAT_MARKER  "cloudprotect-local"
#define LOCAL_FORMAT_VERSION 1

/* The state open() makes; every operation gets it. */
typedef struct local_cloud {
	cp_ctx *ctx;
	char *root;
	char *region;
	int garbage_unwritten; /* "unwritten_blocks": "garbage" */
} local_cloud;

/* provider.c */
/** The local cloud behind a public handle; CP_EINVALID for another provider. */
int local_from_provider(local_cloud **out, cp_provider *provider);
/** CP_ENOTFOUND (saying to run `cloudprotect local init`) when root has no local cloud. */
int local_require_init(const local_cloud *cloud);

/* ids.c: AWS-like ids, "i-", "vol-" or "snap-" and 16 random hex digits. */
#define LOCAL_ID_LEN 32
typedef enum {
	LOCAL_INSTANCE,
	LOCAL_DISK,
	LOCAL_SNAPSHOT,
} local_kind;
int local_id_new(char out[LOCAL_ID_LEN], local_kind kind);
/** The id shared by the snapshots of one instance taken together ("snapgroup-" + 16 hex). */
int local_group_id_new(char out[LOCAL_ID_LEN]);
/** 1 when id has the form of kind's ids (so it is safe in a path). */
int local_id_is(const char *id, local_kind kind);
/** Which kind an id names; CP_EINVALID naming the id when none. */
int local_id_kind(local_kind *out, const char *id);
/** CP_EINVALID naming what and the expected form when id is not a kind id. */
int local_id_check(const char *id, local_kind kind);
const char *local_kind_noun(local_kind kind); /* "instance", "disk", "snapshot" */
const char *local_kind_dir(local_kind kind);  /* "instances", "disks", "snapshots" */

/* paths.c: where each file of a record lives. malloc'd; NULL when out of memory. */
char *local_path(const local_cloud *cloud, local_kind kind, const char *id, const char *ext);
/** CP_ENOTFOUND naming the id and how to find existing ones. */
int local_not_found(const local_cloud *cloud, local_kind kind, const char *id);

/* lock.c: flock on "<dir>/<id>.lock", one per record. */
typedef struct local_lock {
	int fd;
	char *path;
} local_lock;
#define LOCAL_LOCK_INIT                                                                            \
	{                                                                                          \
		-1, NULL                                                                           \
	}
/**
 * Lock a record, shared or exclusive. create: make the lock file (new
 * records only); otherwise a missing lock file means the record does not
 * exist (CP_ENOTFOUND). Callers re-read the record after locking.
 */
int local_lock_take(local_lock *lock, const local_cloud *cloud, local_kind kind, const char *id,
		    int exclusive, int create);
/** Delete the lock file while still holding it (the record is gone). */
void local_lock_remove(local_lock *lock);
void local_lock_release(local_lock *lock);

/* tags.c */
typedef struct local_tags {
	cp_tag *items; /* keys and values owned */
	size_t count;
} local_tags;
int local_tags_copy(local_tags *out, const cp_tag *tags, size_t ntags);
void local_tags_dispose(local_tags *tags);
/** Every filter tag present (value NULL matches any value). */
int local_tags_match(const local_tags *have, const cp_tag *want, size_t nwant);
/** Reject empty or NULL keys with a clear message. */
int local_tags_check(const cp_tag *tags, size_t ntags);
/** Set the keys given (others stay). */
int local_tag(void *state, const char *id, const cp_tag *tags, size_t ntags);
/** Remove the keys given (absent ones are no error). */
int local_untag(void *state, const char *id, const char *const *keys, size_t nkeys);

/* records.c: records as JSON, written atomically. */
typedef struct local_fingerprint {
	uint64_t size;
	int64_t mtime_ns;
} local_fingerprint;

typedef struct local_instance {
	char *id, *name, *region;
	int64_t created;
	local_tags tags;
} local_instance;

typedef struct local_disk {
	char *id, *name, *region;
	char *instance_id; /* NULL when detached */
	uint64_t size;
	int64_t created;
	local_tags tags;
	local_fingerprint image; /* the image as the last tracked change left it */
	uint64_t tracking_epoch; /* bumped whenever a change bypassed tracking */
	int tracking_lost;	 /* a bypass since the last snapshot */
} local_disk;

typedef struct local_snapshot {
	char *id, *disk_id, *instance_id, *group_id, *region, *description, *copied_from;
	uint64_t size;
	int64_t created, created_ns;
	uint64_t generation; /* the disk's write counter when taken */
	uint64_t tracking_epoch;
	int tracking_valid;
	local_tags tags;
} local_snapshot;

int local_instance_load(local_instance *out, const local_cloud *cloud, const char *id);
int local_instance_save(const local_cloud *cloud, const local_instance *rec);
void local_instance_dispose(local_instance *rec);
int local_disk_load(local_disk *out, const local_cloud *cloud, const char *id);
int local_disk_save(const local_cloud *cloud, const local_disk *rec);
void local_disk_dispose(local_disk *rec);
int local_snapshot_load(local_snapshot *out, const local_cloud *cloud, const char *id);
int local_snapshot_save(const local_cloud *cloud, const local_snapshot *rec);
void local_snapshot_dispose(local_snapshot *rec);
void local_snapshot_to_public(cp_snapshot *out, const local_snapshot *rec);
/** Ids of every record of a kind, sorted; free with local_ids_free. */
int local_list_ids(char ***out, size_t *count, const local_cloud *cloud, local_kind kind);
void local_ids_free(char **ids, size_t count);
/** Every disk record, sorted by id; records deleted while listing are skipped. */
int local_load_disks(local_disk **out, size_t *count, const local_cloud *cloud);
void local_disks_free(local_disk *disks, size_t count);
int64_t local_now_ns(void);

/* fingerprint.c: detecting writes that bypassed the provider. */
/** Pin the image's mtime to a value no later write can produce, and record it. */
int local_fingerprint_take(local_fingerprint *out, int fd, const char *path);
/** 1 when the image is as the fingerprint says, 0 when it changed, <0 on error. */
int local_fingerprint_matches(const local_fingerprint *fp, const char *path);

/* cbt.c: the generation map ("changed-block tracking") of a disk or snapshot. */
typedef struct local_cbt {
	int fd;
	char *path;
	uint32_t block_size;
	uint64_t nblocks;
	uint64_t counter; /* generation of the last tracked write */
} local_cbt;
#define LOCAL_CBT_HEADER_SIZE 32
uint64_t local_blocks_for(uint64_t disk_size);
int local_cbt_create(const char *path, uint64_t disk_size);
int local_cbt_open(local_cbt *cbt, const char *path, int writable);
void local_cbt_close(local_cbt *cbt);
/** Bump the counter and stamp blocks [first, first + count) with it. */
int local_cbt_stamp(local_cbt *cbt, uint64_t first, uint64_t count);
/** Read count generations starting at block first. */
int local_cbt_read(local_cbt *cbt, uint64_t first, uint64_t count, uint64_t *out);

/* copy.c: reflink where the filesystem can, else a sparse-aware copy. */
typedef enum {
	LOCAL_COPY_AUTO = 0,   /* FICLONE, then copy_file_range, then read/write */
	LOCAL_COPY_NO_REFLINK, /* skip FICLONE (tests the fallback) */
	LOCAL_COPY_READ_WRITE, /* plain pread/pwrite over data ranges only */
} local_copy_mode;
/** Copy src into a new file dst (size bytes; longer than src means a hole at the end). */
int local_copy_file(const char *src, const char *dst, uint64_t size, local_copy_mode mode);

/* instances.c, disks.c, disk_write.c: the calls of cloudprotect/local.h. */
/** The ids of the disks attached to an instance, sorted. */
int local_attached_disks(char ***out, size_t *count, const local_cloud *cloud,
			 const char *instance_id);
/** Create a disk record and its lock file; the image and map must exist. */
int local_disk_publish(const local_cloud *cloud, local_disk *rec, int image_fd,
		       const char *image_path);
/** Shared-lock an instance that a disk is being attached to, checking it exists. */
int local_lock_instance_for_attach(local_lock *lock, const local_cloud *cloud,
				   const char *instance_id);

/* The operations of cp_local_provider_ops, one file each. */
int local_inventory(void *state, const cp_inventory_filter *filter, cp_resource_cb cb,
		    void *payload);
int local_snapshot_create(void *state, const char *resource_id,
			  const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload);
int local_snapshot_list(void *state, const char *resource_id, cp_snapshot_cb cb, void *payload);
int local_snapshot_get(void *state, const char *snapshot_id, cp_snapshot_cb cb, void *payload);
int local_snapshot_delete(void *state, const char *snapshot_id);
int local_snapshot_copy(void *state, const char *snapshot_id, const char *region, cp_snapshot_cb cb,
			void *payload);
int local_snapshot_open(void *state, const char *snapshot_id, cp_block_reader **out);
int local_changed_blocks(void *state, const char *base_snapshot_id, const char *snapshot_id,
			 cp_block_range_cb cb, void *payload);
int local_disk_create_writer(void *state, const cp_disk_create_options *opts,
			     cp_block_writer **out);

/* workers.c: workers as process groups on this machine. */
int local_worker_launch(void *state, const cp_worker_options *opts, char **id_out);
int local_worker_get(void *state, const char *id, cp_worker_cb cb, void *payload);
int local_worker_list(void *state, cp_worker_cb cb, void *payload);
int local_worker_terminate(void *state, const char *id);

#endif
