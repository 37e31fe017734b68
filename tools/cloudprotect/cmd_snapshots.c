/* cloudprotect snapshots: the backups in a repository. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static const char usage_text[] = "usage: cloudprotect snapshots [--source SOURCE]\n"
				 "\n"
				 "List the backups in the repository, oldest first.\n";

static void print_backup(cli *c, const cp_backup_info *b)
{
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", b->id);
		cli_json_str(c, "parent", b->parent_id);
		cli_json_str(c, "source", b->source);
		cli_json_str(c, "provider", b->provider);
		cli_json_str(c, "snapshot", b->snapshot_id);
		cli_json_str(c, "instance", b->instance_id);
		cli_json_str(c, "group", b->group_id);
		cli_json_str(c, "hostname", b->hostname);
		cli_json_int(c, "time", b->time);
		cli_json_uint(c, "size", b->size);
		cli_json_uint(c, "data_bytes", b->data_bytes);
		cli_json_uint(c, "new_bytes", b->new_bytes);
		cli_json_uint(c, "chunk_size", b->chunk_size);
		cli_json_tags(c, b->tags, b->ntags);
		cli_json_end(c, 0);
		return;
	}
	char when[32], size[32], added[32];
	printf("%.12s  %s  %10s  %10s  %-8.8s  %s\n", b->id, cli_time(b->time, when, sizeof(when)),
	       cli_human(b->size, size, sizeof(size)),
	       cli_human(b->new_bytes, added, sizeof(added)), b->parent_id ? b->parent_id : "-",
	       b->source);
}

int cmd_snapshots(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"source", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *source = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt != 's')
			return cli_usage_error("snapshots", "unknown option");
		source = optarg;
	}
	if (optind != argc)
		return cli_usage_error("snapshots", "unexpected argument '%s'", argv[optind]);
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	cp_backup_list list;
	int rc = cp_backup_list_get(&list, repo);
	if (rc) {
		cp_repository_close(repo);
		return cli_fail(c, rc, "cannot list backups");
	}
	if (!c->json && !c->quiet)
		printf("%-12s  %-19s  %10s  %10s  %-8s  %s\n", "ID", "TIME", "SIZE", "ADDED",
		       "PARENT", "SOURCE");
	cli_json_begin(c, 1);
	size_t shown = 0;
	for (size_t i = 0; i < list.count; i++) {
		if (source && strcmp(source, list.items[i].source))
			continue;
		print_backup(c, &list.items[i]);
		shown++;
	}
	cli_json_end(c, 1);
	if (!c->json && !c->quiet)
		printf("%zu backup%s\n", shown, shown == 1 ? "" : "s");
	cp_backup_list_dispose(&list);
	cp_repository_close(repo);
	return EXIT_OK;
}
