/*
 * protect_local - protect a disk of the embedded "local" cloud, end to end.
 *
 * This is how a third-party program uses libcloudprotect: it includes
 * only <cloudprotect.h> and links with what pkg-config says:
 *
 *     cc -std=c11 protect_local.c $(pkg-config --cflags --libs libcloudprotect)
 *     ./a.out [WORKDIR]
 *
 * The story, step by step:
 *   1. make a "cloud in a directory" with one instance and one disk;
 *   2. write some data to the disk through the provider, which tracks the
 *      blocks it changes (as EBS does);
 *   3. snapshot the instance and back the snapshot up into a new,
 *      encrypted file:// repository (a full backup);
 *   4. write a little more, snapshot again and back up again: the library
 *      picks the first backup as the parent and reads only changed blocks;
 *   5. restore the latest backup into a file and compare it, byte for
 *      byte, with the second snapshot.
 *
 * Without WORKDIR everything happens in a fresh temporary directory that
 * is removed at the end. Exit status 0 means every step worked.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */

#include <cloudprotect.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB	  (1024u * 1024u)
#define DISK_SIZE (32 * MiB)

/* Repository passwords belong in a secret store; this one is for show. */
static const char example_password[] = "correct horse battery staple";

/*
 * Every library call returns 0 or a negative CP_E* code; the details of
 * the failure (what went wrong and how to fix it) come from
 * cp_error_last(), which is per thread.
 */
static int report_failure(const char *what, int rc)
{
	const cp_error *err = cp_error_last();
	fprintf(stderr, "protect_local: %s failed (%s): %s\n", what, cp_error_code_name(rc),
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

/* The library never prints: it hands log lines to the program. */
static void log_line(cp_log_level level, const char *message, void *payload)
{
	static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
	(void)payload;
	fprintf(stderr, "  [%s] %s\n", level <= CP_LOG_TRACE ? names[level] : "?", message);
}

/* Long operations report progress; a terminal gets a percentage. */
static int show_progress(const cp_progress *p, void *payload)
{
	(void)payload;
	if (isatty(STDERR_FILENO) && p->total)
		fprintf(stderr, "\r  %-8s %3u%%", p->phase ? p->phase : "",
			(unsigned)(p->done * 100 / p->total));
	return 0; /* non-zero would cancel the operation */
}

static void end_progress(void)
{
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
}

/*
 * Snapshotting an instance calls back once per attached disk; strings in
 * the callback are borrowed, so keep a copy of the id.
 */
static int remember_snapshot(const cp_snapshot *snapshot, void *payload)
{
	char **id = payload;
	free(*id);
	*id = strdup(snapshot->id);
	return *id ? 0 : -1;
}

static int snapshot_instance(cp_provider *provider, const char *instance_id, char **snapshot_id)
{
	cp_snapshot_create_options opts = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
	opts.description = "taken by protect_local";
	opts.wait = 1; /* return once the snapshot can be read */
	return cp_snapshot_create(provider, instance_id, &opts, remember_snapshot, snapshot_id);
}

/* Deterministic data that compresses somewhat, like a real disk. */
static void fill_block(unsigned char *buf, size_t len, unsigned int seed)
{
	unsigned int x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (i % 64 < 48) ? (unsigned char)('a' + (i / 64 + seed) % 26)
				       : (unsigned char)(x >> 24);
	}
}

static int write_pattern(cp_provider *provider, const char *disk_id, uint64_t offset, size_t len,
			 unsigned int seed)
{
	unsigned char *buf = malloc(len);
	if (!buf) {
		fprintf(stderr, "protect_local: out of memory\n");
		return CP_ENOMEM;
	}
	fill_block(buf, len, seed);
	int rc = cp_local_disk_write(provider, disk_id, offset, buf, len);
	free(buf);
	return rc;
}

static int back_up(cp_repository *repo, cp_provider *provider, const char *disk_id,
		   const char *snapshot_id, char **backup_id, cp_backup_stats *stats)
{
	cp_backup_options opts = CP_BACKUP_OPTIONS_INIT;
	opts.source = disk_id; /* backups are grouped by what they protect */
	opts.parent_id = NULL; /* the latest backup of this disk, if any */
	opts.progress_cb = show_progress;
	int rc = cp_backup_snapshot(backup_id, stats, repo, provider, snapshot_id, &opts);
	end_progress();
	return rc;
}

/* Compare two block sources chunk by chunk; returns 1 when identical. */
static int same_bytes(cp_block_reader *a, cp_block_reader *b)
{
	uint64_t size = cp_block_reader_size(a);
	if (size != cp_block_reader_size(b))
		return 0;
	unsigned char *x = malloc(MiB), *y = malloc(MiB);
	int same = x && y;
	for (uint64_t off = 0; same && off < size; off += MiB) {
		size_t n = size - off < MiB ? (size_t)(size - off) : MiB;
		same = cp_block_reader_read(a, off, x, n) == 0 &&
		       cp_block_reader_read(b, off, y, n) == 0 && memcmp(x, y, n) == 0;
	}
	free(x);
	free(y);
	return same;
}

static void print_backup(const char *label, const char *id, const cp_backup_stats *s)
{
	printf("%-12s %.12s  read %6.2f MiB, stored %6.2f MiB new (%llu chunks new, %llu reused), "
	       "%.2f s\n",
	       label, id, (double)s->read_bytes / MiB, (double)s->new_stored_bytes / MiB,
	       (unsigned long long)s->new_chunks, (unsigned long long)s->reused_chunks, s->seconds);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	int status = 1;
	char tmpl[] = "/tmp/protect_local.XXXXXX";
	const char *workdir = argc > 1 ? argv[1] : NULL;
	char config[4200], url[4200], restored[4200];
	cp_ctx *ctx = NULL;
	cp_provider *provider = NULL;
	cp_repository *repo = NULL;
	cp_block_writer *target = NULL;
	cp_block_reader *snapshot_reader = NULL, *restored_reader = NULL;
	char *instance_id = NULL, *disk_id = NULL, *snap1 = NULL, *snap2 = NULL;
	char *backup1 = NULL, *backup2 = NULL;
	cp_backup_stats full = {0}, incremental = {0};

	if (!workdir && !(workdir = mkdtemp(tmpl))) {
		perror("protect_local: mkdtemp");
		return 1;
	}
	/* The provider config is JSON; keep the example free of escaping. */
	if (strlen(workdir) > 4000 || strpbrk(workdir, "\"\\") || workdir[0] != '/') {
		fprintf(stderr, "protect_local: WORKDIR must be an absolute path without quotes "
				"or backslashes\n");
		return 2;
	}
	snprintf(config, sizeof(config), "{\"root\": \"%s/cloud\"}", workdir);
	snprintf(url, sizeof(url), "file://%s/repo", workdir);
	snprintf(restored, sizeof(restored), "%s/restored.img", workdir);

	/* 1. A context (with our log callback) and a local cloud. */
	cp_ctx_options ctx_opts = CP_CTX_OPTIONS_INIT;
	ctx_opts.log_cb = log_line;
	ctx_opts.log_level = CP_LOG_WARN;
	TRY("creating the context", cp_ctx_new(&ctx, &ctx_opts));
	printf("libcloudprotect %s, working in %s\n", cp_version(), workdir);

	TRY("opening the local provider", cp_provider_open(&provider, ctx, "local", config));
	TRY("initialising the local cloud", cp_local_init(provider));

	cp_tag app_tag = {"app", "shop"};
	TRY("creating an instance",
	    cp_local_instance_create(&instance_id, provider, "web-1", &app_tag, 1));
	cp_local_disk_options disk_opts = CP_LOCAL_DISK_OPTIONS_INIT;
	disk_opts.name = "web-1-data";
	disk_opts.size = DISK_SIZE;
	disk_opts.attach_to = instance_id;
	TRY("creating a disk", cp_local_disk_create(&disk_id, provider, &disk_opts));
	printf("instance %s with disk %s (%u MiB)\n", instance_id, disk_id, DISK_SIZE / MiB);

	/* 2. Data written through the provider is tracked block by block. */
	TRY("writing to the disk", write_pattern(provider, disk_id, 0, 4 * MiB, 1));
	TRY("writing to the disk", write_pattern(provider, disk_id, 20 * MiB, 2 * MiB, 2));

	/* 3. Snapshot, then a full backup into a new encrypted repository. */
	TRY("snapshotting the instance", snapshot_instance(provider, instance_id, &snap1));
	cp_repository_create_options repo_opts = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	repo_opts.kdf_n = 1u << 12; /* a quick KDF for a demo; keep the default otherwise */
	TRY("creating the repository",
	    cp_repository_create(&repo, ctx, url, example_password, &repo_opts));
	TRY("backing up the first snapshot",
	    back_up(repo, provider, disk_id, snap1, &backup1, &full));
	print_backup("full", backup1, &full);

	/* 4. Change 1 MiB, snapshot again: the next backup is incremental. */
	TRY("writing to the disk", write_pattern(provider, disk_id, 8 * MiB, 1 * MiB, 3));
	TRY("snapshotting the instance again", snapshot_instance(provider, instance_id, &snap2));
	TRY("backing up the second snapshot",
	    back_up(repo, provider, disk_id, snap2, &backup2, &incremental));
	print_backup("incremental", backup2, &incremental);

	/* 5. Restore into a sparse file; only a committed target is kept. */
	cp_restore_options restore_opts = CP_RESTORE_OPTIONS_INIT;
	restore_opts.progress_cb = show_progress;
	TRY("opening the restore target", cp_block_writer_open_file(&target, restored, DISK_SIZE));
	TRY("restoring", cp_restore(repo, backup2, target, &restore_opts));
	end_progress();
	TRY("finishing the restore", cp_block_writer_commit(target, NULL));

	TRY("opening the second snapshot", cp_snapshot_open(&snapshot_reader, provider, snap2));
	TRY("opening the restored file", cp_block_reader_open_file(&restored_reader, restored));
	if (!same_bytes(snapshot_reader, restored_reader)) {
		fprintf(stderr, "protect_local: the restored disk differs from snapshot %s\n",
			snap2);
		goto out;
	}
	printf("restored     %s is identical to snapshot %s\n", restored, snap2);
	printf("the incremental backup read %.1f%% of what the full one read\n",
	       full.read_bytes ? 100.0 * (double)incremental.read_bytes / (double)full.read_bytes
			       : 0.0);
	status = 0;

out:
	/* Every handle has its own free; the context goes last. */
	cp_block_reader_free(restored_reader);
	cp_block_reader_free(snapshot_reader);
	cp_block_writer_free(target);
	cp_repository_close(repo);
	cp_free(backup2);
	cp_free(backup1);
	free(snap2);
	free(snap1);
	cp_free(disk_id);
	cp_free(instance_id);
	cp_provider_free(provider);
	cp_ctx_free(ctx);
	if (workdir == tmpl)
		nftw(tmpl, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return status;
}
