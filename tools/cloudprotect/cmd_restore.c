/* cloudprotect restore: a backup to a file, a block device or a new provider disk. */
#include "cli.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
	"usage: cloudprotect restore ID|latest PATH [--source SOURCE] [--format raw]\n"
	"       cloudprotect restore ID|latest --to-disk NAME [--attach INSTANCE_ID]\n"
	"\n"
	"Restore a backup. PATH is a file (written sparse, replaced only when the restore is\n"
	"complete and verified) or a block device at least as large as the disk. --to-disk\n"
	"makes a new disk in the provider. 'latest' picks the newest backup (of --source).\n";

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_restore(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"source", required_argument, NULL, 's'},
		{"format", required_argument, NULL, 'F'},
		{"to-disk", required_argument, NULL, 'd'},
		{"attach", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *source = NULL, *disk_name = NULL, *attach = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's': source = optarg; break;
		case 'd': disk_name = optarg; break;
		case 'a': attach = optarg; break;
		case 'F':
			if (strcmp(optarg, "raw"))
				return cli_usage_error("restore",
						       "format '%s' is not supported yet; "
						       "use raw",
						       optarg);
			break;
		default: return cli_usage_error("restore", "unknown option");
		}
	}
	int npos = argc - optind;
	if (npos != (disk_name ? 1 : 2))
		return cli_usage_error("restore", "give a backup ID and a target PATH, or an ID "
						  "with --to-disk NAME");
	const char *ref = argv[optind], *target = disk_name ? NULL : argv[optind + 1];

	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	char *id = NULL, *made = NULL;
	cp_block_writer *w = NULL;
	cp_backup_list list = {0};
	const cp_backup_info *info = NULL;
	int rc = cp_backup_resolve(&id, repo, ref, source);
	if (rc) {
		status = cli_fail(c, rc, "cannot find the backup");
		goto out;
	}
	if ((rc = cp_backup_list_get(&list, repo))) {
		status = cli_fail(c, rc, "cannot list backups");
		goto out;
	}
	for (size_t i = 0; i < list.count && !info; i++)
		if (!strcmp(list.items[i].id, id))
			info = &list.items[i];
	if (!info) {
		fprintf(stderr, "cloudprotect: error: backup %s vanished while restoring\n", id);
		status = EXIT_ERROR;
		goto out;
	}
	if (disk_name) {
		if ((status = cli_open_provider(c)))
			goto out;
		cp_disk_create_options d = CP_DISK_CREATE_OPTIONS_INIT;
		d.name = disk_name;
		d.size = info->size;
		d.attach_to = attach;
		rc = cp_disk_create(&w, c->provider, &d);
	} else {
		rc = cp_block_writer_open_file(&w, target, info->size);
	}
	if (rc) {
		status = cli_fail(c, rc, "cannot open the restore target");
		goto out;
	}
	cp_restore_options ro = CP_RESTORE_OPTIONS_INIT;
	ro.progress_cb = cli_progress_cb;
	ro.progress_payload = c;
	cli_cancel_on_signal(c, "cancelled; the repository is unchanged and the target was left "
				"untouched");
	double t0 = now_seconds();
	rc = cp_restore(repo, id, w, &ro);
	if (!rc)
		rc = cp_block_writer_commit(w, &made);
	double secs = now_seconds() - t0;
	cli_progress_done(c);
	if (rc) {
		status = cli_fail(c, rc, "restore failed; the target was left untouched");
		goto out;
	}
	char size[32], rate[32];
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "backup", id);
		cli_json_str(c, "target", made);
		cli_json_uint(c, "size", info->size);
		cli_json_double(c, "seconds", secs);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("restored backup %.12s (%s) to %s in %.2f s (%s/s)\n", id,
		       cli_human(info->size, size, sizeof(size)), made, secs,
		       cli_human(secs > 0 ? (uint64_t)((double)info->data_bytes / secs) : 0, rate,
				 sizeof(rate)));
	} else {
		printf("%s\n", made);
	}
out:
	cp_block_writer_free(w);
	cp_free(made);
	cp_free(id);
	if (list.items || list.priv_)
		cp_backup_list_dispose(&list);
	cp_repository_close(repo);
	return status;
}
