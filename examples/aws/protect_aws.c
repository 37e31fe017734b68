/*
 * protect_aws - protect one EC2 instance end to end with libcloudprotect.
 *
 *     cc -std=c11 protect_aws.c $(pkg-config --cflags --libs libcloudprotect)
 *     ./a.out INSTANCE_ID REPOSITORY_URL
 *
 * The provider config comes from $CLOUDPROTECT_PROVIDER_CONFIG (e.g.
 * {"region": "us-east-1"}), credentials from the usual AWS chain, the
 * repository password from $CLOUDPROTECT_PASSWORD. The story:
 *   1. snapshot every volume of the instance at one point in time;
 *   2. back the first volume's snapshot up (a full backup, reading only the
 *      blocks EBS lists);
 *   3. snapshot again and back up again: an incremental that reads only
 *      the blocks EBS says changed;
 *   4. restore the latest backup into a new volume (through EBS direct),
 *      snapshot that volume and compare it byte for byte with the source.
 * At the end it prints the CLI commands that do the same against a real
 * account. Exit status 0 means every step worked.
 */
#include <cloudprotect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (512u * 1024u)

static int report_failure(const char *what, int rc)
{
	const cp_error *err = cp_error_last();
	fprintf(stderr, "protect_aws: %s failed (%s): %s\n", what, cp_error_code_name(rc),
		err ? err->message : "no details");
	return rc;
}

#define TRY(what, call)                                                                            \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ < 0) {                                                                     \
			report_failure(what, rc_);                                                 \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

/* The first disk snapshot a create call reports (one per volume). */
typedef struct first_snapshot {
	char id[64], disk[64], instance[64], group[64];
	unsigned int count;
} first_snapshot;

static int keep_first(const cp_snapshot *s, void *payload)
{
	first_snapshot *f = payload;
	if (f->count++ == 0) {
		snprintf(f->id, sizeof(f->id), "%s", s->id);
		snprintf(f->disk, sizeof(f->disk), "%s", s->resource_id);
		snprintf(f->instance, sizeof(f->instance), "%s",
			 s->instance_id ? s->instance_id : "");
		snprintf(f->group, sizeof(f->group), "%s", s->group_id ? s->group_id : "");
	}
	return 0;
}

static int backup(char **id, cp_backup_stats *st, cp_repository *repo, cp_provider *provider,
		  const first_snapshot *snap, const char *parent)
{
	cp_backup_options opts = CP_BACKUP_OPTIONS_INIT;
	opts.source = snap->disk;
	opts.provider = "aws";
	opts.snapshot_id = snap->id;
	opts.instance_id = snap->instance[0] ? snap->instance : NULL;
	opts.group_id = snap->group[0] ? snap->group : NULL;
	opts.parent_id = parent;
	return cp_backup_snapshot(id, st, repo, provider, snap->id, &opts);
}

/* 1 when both readers hold the same bytes. */
static int same_bytes(cp_block_reader *a, cp_block_reader *b)
{
	uint64_t size = cp_block_reader_size(a);
	if (size != cp_block_reader_size(b))
		return 0;
	unsigned char *x = malloc(CHUNK), *y = malloc(CHUNK);
	int same = x && y;
	for (uint64_t off = 0; same && off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		same = !cp_block_reader_read(a, off, x, n) && !cp_block_reader_read(b, off, y, n) &&
		       !memcmp(x, y, n);
	}
	free(x);
	free(y);
	return same;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: protect_aws INSTANCE_ID REPOSITORY_URL\n");
		return 2;
	}
	const char *instance = argv[1], *url = argv[2];
	const char *config = getenv("CLOUDPROTECT_PROVIDER_CONFIG");
	const char *password = getenv("CLOUDPROTECT_PASSWORD");
	int status = 1;
	cp_ctx *ctx = NULL;
	cp_provider *provider = NULL;
	cp_repository *repo = NULL;
	cp_block_writer *target = NULL;
	cp_block_reader *source = NULL, *restored = NULL;
	char *full = NULL, *incr = NULL, *volume = NULL;
	first_snapshot s1 = {0}, s2 = {0}, s3 = {0};
	cp_backup_stats st1 = {0}, st2 = {0};
	if (!password) {
		fprintf(stderr,
			"protect_aws: set CLOUDPROTECT_PASSWORD (the repository password)\n");
		return 2;
	}

	TRY("creating a context", cp_ctx_new(&ctx, NULL));
	TRY("opening the aws provider", cp_provider_open(&provider, ctx, "aws", config));

	cp_snapshot_create_options sopts = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
	sopts.description = "protect_aws example";
	TRY("snapshotting the instance",
	    cp_snapshot_create(provider, instance, &sopts, keep_first, &s1));
	printf("snapshot     %s of %s (%u volume(s), group %s)\n", s1.id, s1.disk, s1.count,
	       s1.group);

	cp_repository_create_options ropts = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	TRY("creating the repository", cp_repository_create(&repo, ctx, url, password, &ropts));
	TRY("the full backup", backup(&full, &st1, repo, provider, &s1, NULL));
	printf("full backup  %s read %llu bytes\n", full, (unsigned long long)st1.read_bytes);

	TRY("snapshotting the volume again",
	    cp_snapshot_create(provider, s1.disk, &sopts, keep_first, &s2));
	snprintf(s2.instance, sizeof(s2.instance), "%s", s1.instance);
	TRY("the incremental backup", backup(&incr, &st2, repo, provider, &s2, full));
	printf("incremental  %s of %s read %llu bytes\n", incr, s2.id,
	       (unsigned long long)st2.read_bytes);

	cp_disk_create_options dopts = CP_DISK_CREATE_OPTIONS_INIT;
	dopts.name = "protect_aws-restore";
	dopts.size = st2.size;
	TRY("starting the new volume", cp_disk_create(&target, provider, &dopts));
	cp_restore_options restore_opts = CP_RESTORE_OPTIONS_INIT;
	TRY("restoring", cp_restore(repo, incr, target, &restore_opts));
	TRY("finishing the new volume", cp_block_writer_commit(target, &volume));
	printf("restored     into new volume %s\n", volume);

	/* Snapshot the new volume to read it back and compare with the source. */
	TRY("snapshotting the restored volume",
	    cp_snapshot_create(provider, volume, &sopts, keep_first, &s3));
	TRY("opening the source snapshot", cp_snapshot_open(&source, provider, s2.id));
	TRY("opening the restored snapshot", cp_snapshot_open(&restored, provider, s3.id));
	if (!same_bytes(source, restored)) {
		fprintf(stderr, "protect_aws: volume %s differs from snapshot %s\n", volume, s2.id);
		goto out;
	}
	printf("verified     %s holds the same bytes as %s\n", volume, s2.id);

	printf("\nAgainst a real account, the CLI does the same with:\n"
	       "  export CLOUDPROTECT_REPOSITORY=%s CLOUDPROTECT_PROVIDER=aws\n"
	       "  cloudprotect repo init\n"
	       "  cloudprotect snapshot create %s\n"
	       "  cloudprotect backup --snapshot SNAPSHOT_ID      # full\n"
	       "  cloudprotect snapshot create %s\n"
	       "  cloudprotect backup --snapshot NEW_SNAPSHOT_ID  # incremental\n"
	       "  cloudprotect restore latest --source %s --to-disk restored [--attach %s]\n",
	       url, instance, s1.disk, s1.disk, instance);
	status = 0;
out:
	cp_block_reader_free(source);
	cp_block_reader_free(restored);
	cp_block_writer_free(target);
	cp_free(full);
	cp_free(incr);
	cp_free(volume);
	cp_repository_close(repo);
	cp_provider_free(provider);
	cp_ctx_free(ctx);
	return status;
}
