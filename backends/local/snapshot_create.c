/*
 * Taking snapshots. A disk is snapshotted under its lock, so no tracked
 * write lands half in and half out. An instance's disks are locked all
 * together, in id order, copied, and only then released: the snapshots
 * form one consistency group, a single point in time across the disks.
 */
#include "ctx.h"
#include "error.h"
#include "local_cloud.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	local_lock lock;
	local_disk disk;
	local_snapshot snap;
	int files_made, refresh_fingerprint;
} member;

typedef struct {
	local_cloud *cloud;
	const cp_snapshot_create_options *opts;
	member *members;
	size_t count;
	uint64_t total_bytes, done_bytes;
} snapshot_job;

static void job_dispose(snapshot_job *job, int failed)
{
	static const char *const exts[] = {".img", ".cbt"};
	for (size_t i = 0; i < job->count; i++) {
		member *m = &job->members[i];
		for (size_t e = 0; failed && m->files_made && e < 2; e++) {
			char *path = local_path(job->cloud, LOCAL_SNAPSHOT, m->snap.id, exts[e]);
			if (path)
				unlink(path);
			free(path);
		}
		local_lock_release(&m->lock);
		local_disk_dispose(&m->disk);
		local_snapshot_dispose(&m->snap);
	}
	free(job->members);
	job->members = NULL;
	job->count = 0;
}

/* Lock and load one disk; CP_ENOTFOUND when it went away. */
static int add_member(snapshot_job *job, const char *disk_id)
{
	member *m = &job->members[job->count];
	memset(m, 0, sizeof(*m));
	m->lock.fd = -1;
	int rc = local_lock_take(&m->lock, job->cloud, LOCAL_DISK, disk_id, 1, 0);
	if (!rc)
		rc = local_disk_load(&m->disk, job->cloud, disk_id);
	if (rc) {
		local_lock_release(&m->lock);
		return rc;
	}
	job->count++;
	job->total_bytes += m->disk.size;
	return 0;
}

/* Whether the map still tells every change; bumps the epoch when it does not. */
static int check_tracking(snapshot_job *job, member *m, const char *img)
{
	int same = local_fingerprint_matches(&m->disk.image, img);
	if (same < 0)
		return same;
	if (!same) {
		m->disk.tracking_epoch++;
		m->disk.tracking_lost = 1;
		m->refresh_fingerprint = 1;
	}
	m->snap.tracking_valid = !m->disk.tracking_lost;
	m->snap.tracking_epoch = m->disk.tracking_epoch;
	if (m->disk.tracking_lost)
		cp_log(job->cloud->ctx, CP_LOG_WARN,
		       "disk '%s' was written outside the provider; its snapshot will need a "
		       "full read",
		       m->disk.id);
	return 0;
}

static int fill_snapshot(snapshot_job *job, member *m, const char *instance_id,
			 const char *group_id, int64_t now_ns)
{
	char id[LOCAL_ID_LEN];
	local_snapshot *s = &m->snap;
	int rc = local_id_new(id, LOCAL_SNAPSHOT);
	if (rc)
		return rc;
	const char *desc = job->opts->description;
	s->id = strdup(id);
	s->disk_id = strdup(m->disk.id);
	s->instance_id = instance_id ? strdup(instance_id) : NULL;
	s->group_id = group_id ? strdup(group_id) : NULL;
	s->region = strdup(m->disk.region);
	s->description = desc ? strdup(desc) : NULL;
	s->size = m->disk.size;
	s->created_ns = now_ns;
	s->created = now_ns / 1000000000;
	if (!s->id || !s->disk_id || !s->region || (instance_id && !s->instance_id) ||
	    (group_id && !s->group_id) || (desc && !s->description))
		return cp_error_oom();
	return local_tags_copy(&s->tags, job->opts->tags, job->opts->ntags);
}

static int read_generation(uint64_t *out, const char *cbt_path)
{
	local_cbt cbt;
	int rc = local_cbt_open(&cbt, cbt_path, 0);
	if (rc)
		return rc;
	*out = cbt.counter;
	local_cbt_close(&cbt);
	return 0;
}

/* Copy one disk's image and map; the disk stays locked. */
static int copy_member(snapshot_job *job, member *m)
{
	const local_cloud *c = job->cloud;
	char *src_img = local_path(c, LOCAL_DISK, m->disk.id, ".img");
	char *src_cbt = local_path(c, LOCAL_DISK, m->disk.id, ".cbt");
	char *dst_img = local_path(c, LOCAL_SNAPSHOT, m->snap.id, ".img");
	char *dst_cbt = local_path(c, LOCAL_SNAPSHOT, m->snap.id, ".cbt");
	int rc = src_img && src_cbt && dst_img && dst_cbt ? 0 : cp_error_oom();
	if (!rc)
		rc = check_tracking(job, m, src_img);
	if (!rc) {
		m->files_made = 1;
		rc = local_copy_file(src_img, dst_img, m->disk.size, LOCAL_COPY_AUTO);
	}
	if (!rc)
		rc = local_copy_file(src_cbt, dst_cbt,
				     LOCAL_CBT_HEADER_SIZE + 8 * local_blocks_for(m->disk.size),
				     LOCAL_COPY_AUTO);
	if (!rc)
		rc = read_generation(&m->snap.generation, dst_cbt);
	if (rc)
		cp_error_prefix(rc, "snapshot of disk '%s': ", m->disk.id);
	free(src_img);
	free(src_cbt);
	free(dst_img);
	free(dst_cbt);
	return rc;
}

static int report(snapshot_job *job, const char *item)
{
	cp_progress p = {.phase = "snapshot",
			 .done = job->done_bytes,
			 .total = job->total_bytes,
			 .item = item};
	return cp_progress_report(job->opts->progress_cb, job->opts->progress_payload, &p);
}

/* The snapshot starts a new tracking interval: remember what the image is now. */
static int update_disk(snapshot_job *job, member *m)
{
	if (!m->refresh_fingerprint && !m->disk.tracking_lost)
		return 0;
	m->disk.tracking_lost = 0;
	if (m->refresh_fingerprint) {
		char *img = local_path(job->cloud, LOCAL_DISK, m->disk.id, ".img");
		int fd = img ? open(img, O_RDWR | O_CLOEXEC) : -1;
		int rc = !img	  ? cp_error_oom()
			 : fd < 0 ? cp_error_set_os(CP_EIO, errno, "cannot open '%s'", img)
				  : local_fingerprint_take(&m->disk.image, fd, img);
		if (fd >= 0)
			close(fd);
		free(img);
		if (rc)
			return rc;
	}
	return local_disk_save(job->cloud, &m->disk);
}

static int publish(snapshot_job *job, member *m)
{
	local_lock lock = LOCAL_LOCK_INIT;
	int rc = local_lock_take(&lock, job->cloud, LOCAL_SNAPSHOT, m->snap.id, 1, 1);
	if (rc)
		return rc;
	rc = local_snapshot_save(job->cloud, &m->snap);
	if (rc)
		local_lock_remove(&lock);
	local_lock_release(&lock);
	return rc;
}

/* Everything in the job is locked: copy, then record, then let go. */
static int take_all(snapshot_job *job, const char *instance_id, const char *group_id)
{
	int64_t now = local_now_ns();
	int rc = report(job, NULL);
	for (size_t i = 0; !rc && i < job->count; i++) {
		member *m = &job->members[i];
		rc = fill_snapshot(job, m, instance_id ? instance_id : m->disk.instance_id,
				   group_id, now);
		if (!rc)
			rc = copy_member(job, m);
		job->done_bytes += m->disk.size;
		if (!rc)
			rc = report(job, m->disk.id);
	}
	for (size_t i = 0; !rc && i < job->count; i++)
		rc = publish(job, &job->members[i]);
	if (rc) {
		/* Whatever got published goes again: a group is all or nothing. */
		static const char *const exts[] = {".json", ".lock"};
		for (size_t i = 0; i < job->count; i++) {
			const char *id = job->members[i].snap.id;
			for (size_t e = 0; id && e < 2; e++) {
				char *path = local_path(job->cloud, LOCAL_SNAPSHOT, id, exts[e]);
				if (path)
					unlink(path);
				free(path);
			}
		}
		return rc;
	}
	/* The snapshots stand; a failure to note it on the disk only costs exactness later. */
	for (size_t i = 0; i < job->count; i++)
		if (update_disk(job, &job->members[i]))
			cp_log(job->cloud->ctx, CP_LOG_WARN, "%s", cp_error_last()->message);
	return 0;
}

static int deliver(snapshot_job *job, cp_snapshot_cb cb, void *payload)
{
	for (size_t i = 0; cb && i < job->count; i++) {
		cp_snapshot pub;
		local_snapshot_to_public(&pub, &job->members[i].snap);
		int rc = cb(&pub, payload);
		if (rc)
			return rc;
	}
	return 0;
}

static int snapshot_instance(snapshot_job *job, const char *instance_id, cp_snapshot_cb cb,
			     void *payload)
{
	/* Shared: tagging or deleting the instance waits, other snapshots do not. */
	local_lock ilock = LOCAL_LOCK_INIT;
	int rc = local_lock_take(&ilock, job->cloud, LOCAL_INSTANCE, instance_id, 0, 0);
	if (rc)
		return rc;
	local_instance inst;
	char **ids = NULL;
	size_t nids = 0;
	char group[LOCAL_ID_LEN];
	rc = local_instance_load(&inst, job->cloud, instance_id);
	if (!rc) {
		local_instance_dispose(&inst);
		rc = local_attached_disks(&ids, &nids, job->cloud, instance_id);
	}
	if (!rc && !(job->members = calloc(nids ? nids : 1, sizeof(*job->members))))
		rc = cp_error_oom();
	/* In id order, as everyone does, so two group snapshots cannot deadlock. */
	for (size_t i = 0; !rc && i < nids; i++) {
		rc = add_member(job, ids[i]);
		if (rc == CP_ENOTFOUND) /* deleted since we listed it */
			rc = 0;
		else if (!rc &&
			 (!job->members[job->count - 1].disk.instance_id ||
			  strcmp(job->members[job->count - 1].disk.instance_id, instance_id))) {
			job->count--; /* detached since we listed it */
			local_lock_release(&job->members[job->count].lock);
			local_disk_dispose(&job->members[job->count].disk);
		}
	}
	local_ids_free(ids, nids);
	if (!rc && !job->count)
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_PROVIDER,
				  "instance '%s' has no disks attached, so there is nothing to "
				  "snapshot; attach one with `cloudprotect local create-disk "
				  "--attach %s`",
				  instance_id, instance_id);
	if (!rc)
		rc = local_group_id_new(group);
	if (!rc)
		rc = take_all(job, instance_id, group);
	int failed = rc != 0;
	for (size_t i = 0; i < job->count; i++)
		local_lock_release(&job->members[i].lock);
	local_lock_release(&ilock);
	if (!rc)
		rc = deliver(job, cb, payload);
	job_dispose(job, failed);
	return rc;
}

static int snapshot_disk(snapshot_job *job, const char *disk_id, cp_snapshot_cb cb, void *payload)
{
	int rc = (job->members = calloc(1, sizeof(*job->members))) ? 0 : cp_error_oom();
	if (!rc)
		rc = add_member(job, disk_id);
	if (!rc)
		rc = take_all(job, NULL, NULL);
	int failed = rc != 0;
	if (job->count)
		local_lock_release(&job->members[0].lock);
	if (!rc)
		rc = deliver(job, cb, payload);
	job_dispose(job, failed);
	return rc;
}

int local_snapshot_create(void *state, const char *resource_id,
			  const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload)
{
	snapshot_job job = {.cloud = state, .opts = opts};
	local_kind kind;
	int rc = local_require_init(job.cloud);
	if (!rc && (!opts || opts->version < 1))
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				  "snapshot options need a version; start from "
				  "CP_SNAPSHOT_CREATE_OPTIONS_INIT");
	if (!rc)
		rc = local_tags_check(opts->tags, opts->ntags);
	if (!rc)
		rc = local_id_kind(&kind, resource_id);
	if (!rc && kind == LOCAL_SNAPSHOT)
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				  "'%s' is a snapshot; snapshot an instance (i-...) or a disk "
				  "(vol-...), or copy a snapshot with `cloudprotect snapshot copy`",
				  resource_id);
	if (rc)
		return rc;
	if (kind == LOCAL_INSTANCE)
		return snapshot_instance(&job, resource_id, cb, payload);
	return snapshot_disk(&job, resource_id, cb, payload);
}
