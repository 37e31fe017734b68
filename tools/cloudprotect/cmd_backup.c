/* cloudprotect backup: a file, a block device, a provider snapshot or a resource. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TAGS 64

static const char usage_text[] =
	"usage: cloudprotect backup PATH [--parent ID|latest] [--changed-blocks FILE] [--tag "
	"K=V]...\n"
	"       cloudprotect backup --snapshot SNAPSHOT_ID [--parent ID] [--tag K=V]...\n"
	"       cloudprotect backup --resource RESOURCE_ID [--tag K=V]...\n"
	"\n"
	"Back up a disk image into the repository and print the backup id.\n"
	"  PATH                  a file or block device\n"
	"  --snapshot ID         a provider snapshot; incremental to the latest backup of the\n"
	"                        same disk, reading only the blocks the provider says changed\n"
	"  --resource ID         snapshot an instance or disk now, then back up each disk\n"
	"  --parent ID|latest    the backup this one is incremental to (default: the latest\n"
	"                        backup of the same source)\n"
	"  --full                no parent: read everything (still deduplicated)\n"
	"  --changed-blocks FILE only these ranges changed since the parent: one 'OFFSET LENGTH'\n"
	"                        per line (bytes; 0x for hex; '#' starts a comment)\n";

typedef struct {
	cp_block_range *items;
	size_t count, cap;
} range_list;

static int load_changed_blocks(const char *path, range_list *out)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cloudprotect: error: cannot open changed-block file '%s': %s\n",
			path, strerror(errno));
		return EXIT_USAGE;
	}
	char line[256];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		char *end1 = NULL, *end2 = NULL;
		errno = 0;
		unsigned long long off = strtoull(p, &end1, 0);
		unsigned long long len = end1 ? strtoull(end1, &end2, 0) : 0;
		if (errno || end1 == p || end2 == end1 ||
		    *(end2 + strspn(end2, " \t\r\n")) != '\0' || strchr(p, '-')) {
			fclose(f);
			fprintf(stderr,
				"cloudprotect: error: %s line %u: expected 'OFFSET LENGTH' in "
				"bytes, got: "
				"%s",
				path, lineno, line);
			return EXIT_USAGE;
		}
		if (out->count == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64;
			cp_block_range *n = realloc(out->items, cap * sizeof(*n));
			if (!n) {
				fclose(f);
				return EXIT_ERROR;
			}
			out->items = n;
			out->cap = cap;
		}
		out->items[out->count].offset = off;
		out->items[out->count].length = len;
		out->count++;
	}
	fclose(f);
	return 0;
}

static void print_result(cli *c, const char *id, const char *source, const char *snapshot,
			 const cp_backup_stats *st, const char *parent)
{
	char a[32], b[32], d[32], rate[32];
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", id);
		cli_json_str(c, "source", source);
		cli_json_str(c, "snapshot", snapshot);
		cli_json_str(c, "parent", parent);
		cli_json_uint(c, "size", st->size);
		cli_json_uint(c, "read_bytes", st->read_bytes);
		cli_json_uint(c, "data_bytes", st->data_bytes);
		cli_json_uint(c, "new_chunks", st->new_chunks);
		cli_json_uint(c, "new_raw_bytes", st->new_raw_bytes);
		cli_json_uint(c, "new_stored_bytes", st->new_stored_bytes);
		cli_json_uint(c, "reused_chunks", st->reused_chunks);
		cli_json_double(c, "seconds", st->seconds);
		cli_json_end(c, 0);
		return;
	}
	if (c->quiet) {
		printf("%s\n", id);
		return;
	}
	printf("backup %s of %s%s%s\n", id, source, snapshot ? " from snapshot " : "",
	       snapshot ? snapshot : "");
	printf("  parent    %s\n", parent ? parent : "none (full)");
	printf("  disk      %s, %s holding data\n", cli_human(st->size, a, sizeof(a)),
	       cli_human(st->data_bytes, b, sizeof(b)));
	printf("  read      %s in %.2f s (%s/s)\n", cli_human(st->read_bytes, a, sizeof(a)),
	       st->seconds,
	       cli_human(st->seconds > 0 ? (uint64_t)((double)st->read_bytes / st->seconds) : 0,
			 rate, sizeof(rate)));
	printf("  new data  %s in %llu chunks, stored as %s; %llu chunks reused\n",
	       cli_human(st->new_raw_bytes, d, sizeof(d)), (unsigned long long)st->new_chunks,
	       cli_human(st->new_stored_bytes, b, sizeof(b)),
	       (unsigned long long)st->reused_chunks);
}

typedef struct {
	cli *c;
	cp_repository *repo;
	cp_backup_options *opts;
	int status;
	int count;
} snapshot_job;

/* The engine picks a snapshot backup's parent and records the disk as source: read them back. */
static void recorded(cp_repository *repo, const char *id, char **parent, char **source)
{
	cp_backup_list list;
	*parent = *source = NULL;
	if (cp_backup_list_get(&list, repo))
		return;
	for (size_t i = 0; i < list.count; i++) {
		if (strcmp(list.items[i].id, id))
			continue;
		*parent = list.items[i].parent_id ? strdup(list.items[i].parent_id) : NULL;
		*source = list.items[i].source ? strdup(list.items[i].source) : NULL;
		break;
	}
	cp_backup_list_dispose(&list);
}

static int backup_one_snapshot(snapshot_job *job, const char *snapshot_id)
{
	cp_backup_stats st;
	char *id = NULL;
	int rc = cp_backup_snapshot(&id, &st, job->repo, job->c->provider, snapshot_id, job->opts);
	cli_progress_done(job->c);
	if (rc)
		return cli_fail(job->c, rc, "backup failed");
	char *parent, *source;
	recorded(job->repo, id, &parent, &source);
	print_result(job->c, id, source ? source : snapshot_id, snapshot_id, &st, parent);
	free(parent);
	free(source);
	cp_free(id);
	return 0;
}

static int backup_each_disk(const cp_snapshot *s, void *payload)
{
	snapshot_job *job = payload;
	if (cli_interrupted())
		return 0; /* cancelled by a signal: the disks left are not backed up */
	cp_backup_options o = *job->opts;
	cp_backup_options *saved = job->opts;
	job->opts = &o;
	o.parent_id = NULL;
	int status = backup_one_snapshot(job, s->id);
	job->opts = saved;
	job->count++;
	if (status)
		job->status = status;
	return 0; /* one disk's failure does not stop the others */
}

int cmd_backup(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"parent", required_argument, NULL, 'p'},
		{"changed-blocks", required_argument, NULL, 'c'},
		{"tag", required_argument, NULL, 't'},
		{"snapshot", required_argument, NULL, 's'},
		{"resource", required_argument, NULL, 'R'},
		{"full", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *parent = NULL, *changed_file = NULL, *snapshot = NULL, *resource = NULL;
	cp_tag tags[MAX_TAGS];
	size_t ntags = 0;
	int full = 0, opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p': parent = optarg; break;
		case 'c': changed_file = optarg; break;
		case 's': snapshot = optarg; break;
		case 'R': resource = optarg; break;
		case 'f': full = 1; break;
		case 't':
			if (ntags == MAX_TAGS || cli_parse_tag(optarg, &tags[ntags]))
				return cli_usage_error("backup", "--tag wants KEY=VALUE");
			ntags++;
			break;
		default: return cli_usage_error("backup", "unknown option");
		}
	}
	int npaths = argc - optind;
	if ((snapshot != NULL) + (resource != NULL) + (npaths > 0) != 1 || npaths > 1)
		return cli_usage_error("backup",
				       "give exactly one of PATH, --snapshot or --resource");
	if (changed_file && !npaths)
		return cli_usage_error("backup", "--changed-blocks goes with a PATH; for snapshots "
						 "the provider reports changed blocks itself");
	if (full && (parent || changed_file))
		return cli_usage_error("backup", "--full cannot be combined with --parent or "
						 "--changed-blocks");

	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	o.tags = tags;
	o.ntags = ntags;
	o.progress_cb = cli_progress_cb;
	o.progress_payload = c;
	o.full = full;
	cli_cancel_on_signal(c, "cancelled; no backup was recorded (the repository stays valid; "
				"packs already uploaded are reused by the next backup or "
				"removed by prune)");
	char *parent_id = NULL, *source = NULL;
	range_list changed = {0};
	int rc;

	if (snapshot || resource) {
		if ((status = cli_open_provider(c)))
			goto out;
		if (parent && (rc = cp_backup_resolve(&parent_id, repo, parent, NULL))) {
			status = cli_fail(c, rc, "cannot find the parent backup");
			goto out;
		}
		o.parent_id = parent_id;
		snapshot_job job = {c, repo, &o, 0, 0};
		if (snapshot) {
			status = backup_one_snapshot(&job, snapshot);
		} else {
			cp_snapshot_create_options so = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
			so.description = "cloudprotect backup --resource";
			cli_json_begin(c, 1);
			rc = cp_snapshot_create(c->provider, resource, &so, backup_each_disk, &job);
			cli_json_end(c, 1);
			if (rc)
				status = cli_fail(c, rc, "snapshot failed");
			else
				status = job.status;
		}
		goto out;
	}

	source = realpath(argv[optind], NULL);
	if (!source) {
		fprintf(stderr, "cloudprotect: error: cannot back up '%s': %s\n", argv[optind],
			strerror(errno));
		status = EXIT_ERROR;
		goto out;
	}
	if (changed_file && (status = load_changed_blocks(changed_file, &changed)))
		goto out;
	if (!full) {
		rc = cp_backup_resolve(&parent_id, repo, parent ? parent : "latest", source);
		if (rc && (parent || changed_file)) {
			status = cli_fail(c, rc,
					  parent ? "cannot find the parent backup"
						 : "--changed-blocks needs a parent backup of the "
						   "same source");
			goto out;
		}
	}
	o.source = source;
	o.parent_id = parent_id;
	o.changed = changed.items;
	o.nchanged = changed.count;
	o.have_changed = changed_file != NULL;
	cp_block_reader *reader = NULL;
	if ((rc = cp_block_reader_open_file(&reader, source))) {
		status = cli_fail(c, rc, "cannot read the source");
		goto out;
	}
	cp_backup_stats st;
	char *id = NULL;
	rc = cp_backup_create(&id, &st, repo, reader, &o);
	cli_progress_done(c);
	cp_block_reader_free(reader);
	if (rc) {
		status = cli_fail(c, rc, "backup failed");
		goto out;
	}
	print_result(c, id, source, NULL, &st, parent_id);
	cp_free(id);
out:
	free(changed.items);
	free(source);
	cp_free(parent_id);
	cp_repository_close(repo);
	return status;
}
