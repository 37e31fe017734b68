/* cloudprotect snapshot create|list|delete|copy|restore: cloud-native snapshots. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

#define MAX_TAGS	   64
#define MAX_DATA_SNAPSHOTS 64

static const char usage_text[] =
	"usage: cloudprotect snapshot create RESOURCE_ID [--tag K=V]... [--description TEXT]\n"
	"                [--no-wait]\n"
	"       cloudprotect snapshot list [RESOURCE_ID]\n"
	"       cloudprotect snapshot delete SNAPSHOT_ID...\n"
	"       cloudprotect snapshot copy SNAPSHOT_ID --region REGION\n"
	"       cloudprotect snapshot restore SNAPSHOT_ID [--name NAME] [--region R]\n"
	"                [--size-class C] [--subnet S] [--data-snapshot ID]... [--launch]\n"
	"                [--architecture x86_64|arm64] [--no-wait] [--tag K=V]...\n"
	"\n"
	"Snapshots stay in the provider (cloud-native). Snapshotting an instance takes every\n"
	"attached disk at one point in time (one consistency group) and prints one id per disk.\n"
	"Restore makes a new resource from a snapshot: a DB instance or cluster from a database\n"
	"snapshot (--size-class: instance class or node type; --subnet: DB subnet group), or a\n"
	"machine image from a disk snapshot plus --data-snapshot disks (--launch: also start an\n"
	"instance). The image is --architecture, else what the --launch size class runs, else\n"
	"x86_64; a size class that cannot run it is refused before anything is made.\n"
	"It waits until the new resource is available unless --no-wait.\n";

static int print_snapshot(const cp_snapshot *s, void *payload)
{
	cli *c = payload;
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", s->id);
		cli_json_str(c, "resource", s->resource_id);
		cli_json_str(c, "instance", s->instance_id);
		cli_json_str(c, "group", s->group_id);
		cli_json_str(c, "region", s->region);
		cli_json_uint(c, "size", s->size);
		cli_json_int(c, "created", s->created);
		cli_json_str(c, "state", cp_snapshot_state_name(s->state));
		cli_json_str(c, "kind", cp_resource_kind_name(s->kind));
		cli_json_tags(c, s->tags, s->ntags);
		cli_json_end(c, 0);
		return 0;
	}
	char size[32], when[32];
	const char *kind = cp_resource_kind_name(s->kind);
	printf("%-22s %-9s %-22s %-20s %10s  %s  %-9s %s\n", s->id, kind ? kind : "-",
	       s->resource_id ? s->resource_id : "-", s->instance_id ? s->instance_id : "-",
	       cli_human(s->size, size, sizeof(size)), cli_time(s->created, when, sizeof(when)),
	       cp_snapshot_state_name(s->state), s->region ? s->region : "-");
	return 0;
}

static void header(cli *c)
{
	if (!c->json && !c->quiet)
		printf("%-22s %-9s %-22s %-20s %10s  %-19s  %-9s %s\n", "SNAPSHOT", "KIND",
		       "RESOURCE", "INSTANCE", "SIZE", "CREATED", "STATE", "REGION");
}

static int print_made(const cp_resource *r, void *payload)
{
	cli *c = payload;
	const char *kind = cp_resource_kind_name(r->kind);
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", r->id);
		cli_json_str(c, "kind", kind);
		cli_json_str(c, "name", r->name);
		cli_json_str(c, "region", r->region);
		cli_json_str(c, "account", r->account);
		cli_json_str(c, "parent", r->parent_id);
		cli_json_uint(c, "size", r->size);
		cli_json_tags(c, r->tags, r->ntags);
		cli_json_end(c, 0);
		return 0;
	}
	char size[32];
	printf("%-22s %-9s %-20s %10s  %s\n", r->id, kind ? kind : "-", r->name ? r->name : "-",
	       cli_human(r->size, size, sizeof(size)), r->region ? r->region : "-");
	return 0;
}

static int restore(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"name", required_argument, NULL, 'n'},
		{"region", required_argument, NULL, 'r'},
		{"size-class", required_argument, NULL, 'c'},
		{"subnet", required_argument, NULL, 's'},
		{"data-snapshot", required_argument, NULL, 'd'},
		{"launch", no_argument, NULL, 'l'},
		{"architecture", required_argument, NULL, 'a'},
		{"no-wait", no_argument, NULL, 'W'},
		{"tag", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	cp_resource_restore_options o = CP_RESOURCE_RESTORE_OPTIONS_INIT;
	cp_tag tags[MAX_TAGS];
	const char *data[MAX_DATA_SNAPSHOTS];
	size_t ntags = 0, ndata = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n': o.name = optarg; break;
		case 'r': o.region = optarg; break;
		case 'c': o.size_class = optarg; break;
		case 's': o.subnet = optarg; break;
		case 'l': o.launch = 1; break;
		case 'a': o.architecture = optarg; break;
		case 'W': o.wait = 0; break;
		case 'd':
			if (ndata == MAX_DATA_SNAPSHOTS)
				return cli_usage_error("snapshot restore",
						       "at most %d --data-snapshot options",
						       MAX_DATA_SNAPSHOTS);
			data[ndata++] = optarg;
			break;
		case 't':
			if (ntags < MAX_TAGS && !cli_parse_tag(optarg, &tags[ntags])) {
				ntags++;
				break;
			}
			return cli_usage_error("snapshot restore", "--tag wants KEY=VALUE");
		default: return cli_usage_error("snapshot restore", "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("snapshot restore", "give exactly one SNAPSHOT_ID");
	o.data_snapshot_ids = ndata ? data : NULL;
	o.ndata_snapshots = ndata;
	o.tags = tags;
	o.ntags = ntags;
	o.progress_cb = cli_progress_cb;
	o.progress_payload = c;
	int status = cli_open_provider(c);
	if (status)
		return status;
	if (!c->json && !c->quiet)
		printf("%-22s %-9s %-20s %10s  %s\n", "RESOURCE", "KIND", "NAME", "SIZE", "REGION");
	cli_json_begin(c, 1);
	int rc = cp_resource_restore(c->provider, argv[optind], &o, print_made, c);
	cli_json_end(c, 1);
	cli_progress_done(c);
	return rc ? cli_fail(c, rc, "restore failed") : EXIT_OK;
}

static int create(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"tag", required_argument, NULL, 't'},
		{"description", required_argument, NULL, 'd'},
		{"no-wait", no_argument, NULL, 'W'},
		{NULL, 0, NULL, 0},
	};
	cp_snapshot_create_options o = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
	cp_tag tags[MAX_TAGS];
	size_t ntags = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'd') {
			o.description = optarg;
		} else if (opt == 'W') {
			o.wait = 0;
		} else if (opt == 't' && ntags < MAX_TAGS && !cli_parse_tag(optarg, &tags[ntags])) {
			ntags++;
		} else {
			return cli_usage_error("snapshot create",
					       "bad option (--tag wants KEY=VALUE)");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("snapshot create", "give exactly one RESOURCE_ID");
	o.tags = tags;
	o.ntags = ntags;
	o.progress_cb = cli_progress_cb;
	o.progress_payload = c;
	int status = cli_open_provider(c);
	if (status)
		return status;
	header(c);
	cli_json_begin(c, 1);
	int rc = cp_snapshot_create(c->provider, argv[optind], &o, print_snapshot, c);
	cli_json_end(c, 1);
	cli_progress_done(c);
	return rc ? cli_fail(c, rc, "snapshot failed") : EXIT_OK;
}

int cmd_snapshot(cli *c, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *sub = argv[1];
	if (!strcmp(sub, "create"))
		return create(c, argc - 1, argv + 1);
	if (!strcmp(sub, "restore"))
		return restore(c, argc - 1, argv + 1);
	int status = cli_open_provider(c);
	if (status)
		return status;
	int rc = 0;
	if (!strcmp(sub, "list")) {
		if (argc > 3)
			return cli_usage_error("snapshot list", "give at most one RESOURCE_ID");
		header(c);
		cli_json_begin(c, 1);
		rc = cp_snapshot_list(c->provider, argc == 3 ? argv[2] : NULL, print_snapshot, c);
		cli_json_end(c, 1);
		return rc ? cli_fail(c, rc, "cannot list snapshots") : EXIT_OK;
	}
	if (!strcmp(sub, "delete")) {
		if (argc < 3)
			return cli_usage_error("snapshot delete", "give one or more SNAPSHOT_IDs");
		cli_json_begin(c, 1);
		for (int i = 2; i < argc; i++) {
			rc = cp_snapshot_delete(c->provider, argv[i]);
			if (rc) {
				cli_json_end(c, 1);
				return cli_fail(c, rc, "cannot delete the snapshot");
			}
			if (c->json)
				cli_json_str(c, NULL, argv[i]);
			else if (!c->quiet)
				printf("deleted %s\n", argv[i]);
		}
		cli_json_end(c, 1);
		return EXIT_OK;
	}
	if (!strcmp(sub, "copy")) {
		if (argc != 5 || strcmp(argv[3], "--region"))
			return cli_usage_error("snapshot copy", "usage: snapshot copy SNAPSHOT_ID "
								"--region REGION");
		header(c);
		cli_json_begin(c, 1);
		rc = cp_snapshot_copy(c->provider, argv[2], argv[4], print_snapshot, c);
		cli_json_end(c, 1);
		return rc ? cli_fail(c, rc, "cannot copy the snapshot") : EXIT_OK;
	}
	return cli_usage_error("snapshot", "unknown subcommand '%s'", sub);
}
