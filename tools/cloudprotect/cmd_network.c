/* cloudprotect network export|restore: a region's network configuration as a document backup. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_tree.h>

#define MAX_TAGS      64
#define CONTENT_TYPE  "application/vnd.cloudprotect.network+json"
#define MAX_DOC_BYTES (64u << 20)

static const char usage_text[] =
	"usage: cloudprotect network export [--region R] [--repo URL] [--tag K=V]...\n"
	"       cloudprotect network restore BACKUP_ID|FILE [--region R] [--dry-run]\n"
	"\n"
	"export   print the network configuration of a region (VPCs, subnets, gateways, route\n"
	"         tables, security groups, network ACLs, endpoints, DHCP options, tags) as a\n"
	"         JSON document; with a repository (--repo here or globally), store it as a\n"
	"         backup of source network:PROVIDER:REGION instead and print the backup id\n"
	"restore  re-create a document (a backup id in the repository, or a file) in a\n"
	"         region (default: the one it came from), printing every step; with --dry-run\n"
	"         only print the plan. A region that already holds overlapping networks is\n"
	"         refused. The format is in doc/network.md.\n";

/* The document's top-level string member, malloc'd, or NULL. */
static char *doc_field(const char *json, const char *key)
{
	yajl_val v = yajl_tree_parse(json, NULL, 0);
	const char *path[] = {key, NULL};
	yajl_val f = v ? yajl_tree_get(v, path, yajl_t_string) : NULL;
	const char *text = f ? YAJL_GET_STRING(f) : NULL;
	char *out = text ? strdup(text) : NULL;
	yajl_tree_free(v);
	return out;
}

static int export(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"region", required_argument, NULL, 'g'},
		{"repo", required_argument, NULL, 'r'},
		{"tag", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *region = NULL;
	cp_tag tags[MAX_TAGS];
	size_t ntags = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'g')
			region = optarg;
		else if (opt == 'r')
			c->repo_url = optarg;
		else if (opt == 't' && ntags < MAX_TAGS && !cli_parse_tag(optarg, &tags[ntags]))
			ntags++;
		else
			return cli_usage_error("network export",
					       "bad option (--tag wants KEY=VALUE)");
	}
	if (optind != argc)
		return cli_usage_error("network export", "unexpected argument '%s'", argv[optind]);
	int status = cli_open_provider(c);
	if (status)
		return status;
	char *json = NULL;
	int rc = cp_network_export(&json, c->provider, region);
	if (rc)
		return cli_fail(c, rc, "cannot export the network configuration");
	if (!c->repo_url) {
		fputs(json, stdout);
		cp_free(json);
		return EXIT_OK;
	}
	cp_repository *repo = NULL;
	status = cli_open_repository(c, &repo, 0);
	if (status) {
		cp_free(json);
		return status;
	}
	char *doc_region = doc_field(json, "region");
	char source[300];
	snprintf(source, sizeof(source), "network:%s:%s", cp_provider_name(c->provider),
		 doc_region ? doc_region : (region ? region : "default"));
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	o.source = source;
	o.provider = cp_provider_name(c->provider);
	o.tags = tags;
	o.ntags = ntags;
	char *id = NULL;
	size_t len = strlen(json);
	rc = cp_document_backup(&id, repo, CONTENT_TYPE, json, len, &o);
	if (rc) {
		status = cli_fail(c, rc, "cannot store the network document");
	} else if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", id);
		cli_json_str(c, "source", source);
		cli_json_uint(c, "bytes", len);
		cli_json_end(c, 0);
	} else {
		printf("%s\n", id);
	}
	cp_free(id);
	free(doc_region);
	cp_free(json);
	cp_repository_close(repo);
	return status;
}

static int print_step(const cp_network_step *s, void *payload)
{
	cli *c = payload;
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "action", s->action);
		cli_json_str(c, "type", s->type);
		cli_json_str(c, "source_id", s->source_id);
		cli_json_str(c, "new_id", s->new_id);
		cli_json_str(c, "detail", s->detail);
		cli_json_end(c, 0);
		return 0;
	}
	printf("%-9s %-28s %-26s %-26s %s\n", s->action, s->type, s->source_id ? s->source_id : "-",
	       s->new_id ? s->new_id : "-", s->detail);
	fflush(stdout);
	return 0;
}

/* A path to an existing file is read; anything else is a backup id. */
static int load_document(cli *c, const char *ref, char **out)
{
	struct stat st;
	if (!stat(ref, &st) && S_ISREG(st.st_mode)) {
		if (st.st_size > MAX_DOC_BYTES) {
			fprintf(stderr,
				"cloudprotect: error: %s is larger than a network document "
				"can be (64 MiB)\n",
				ref);
			return EXIT_USAGE;
		}
		FILE *f = fopen(ref, "rb");
		char *buf = f ? malloc((size_t)st.st_size + 1) : NULL;
		size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
		if (f)
			fclose(f);
		if (!buf || n != (size_t)st.st_size) {
			free(buf);
			fprintf(stderr, "cloudprotect: error: cannot read %s\n", ref);
			return EXIT_ERROR;
		}
		buf[n] = '\0';
		*out = buf;
		return 0;
	}
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	void *data = NULL;
	size_t len = 0;
	int rc = cp_document_restore(&data, &len, repo, ref);
	cp_repository_close(repo);
	if (rc)
		return cli_fail(c, rc, "cannot read the network document backup");
	*out = data;
	return 0;
}

static int restore(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"region", required_argument, NULL, 'g'},
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	cp_network_apply_options o = CP_NETWORK_APPLY_OPTIONS_INIT;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'g')
			o.region = optarg;
		else if (opt == 'n')
			o.dry_run = 1;
		else
			return cli_usage_error("network restore", "unknown option");
	}
	if (argc - optind != 1)
		return cli_usage_error("network restore", "give one BACKUP_ID or FILE");
	char *json = NULL;
	int status = load_document(c, argv[optind], &json);
	if (status)
		return status;
	/* Say which provider the document needs rather than failing on its contents. */
	char *provider = doc_field(json, "provider");
	if (provider && strcmp(provider, c->provider_name)) {
		fprintf(stderr,
			"cloudprotect: error: the document describes a '%s' network; run with "
			"--provider %s\n",
			provider, provider);
		free(provider);
		free(json);
		return EXIT_USAGE;
	}
	free(provider);
	status = cli_open_provider(c);
	if (status) {
		free(json);
		return status;
	}
	o.step_cb = print_step;
	o.step_payload = c;
	if (!c->json && !c->quiet)
		printf("%-9s %-28s %-26s %-26s %s\n", "ACTION", "TYPE", "SOURCE", "NEW", "DETAIL");
	cli_json_begin(c, 1);
	int rc = cp_network_apply(c->provider, json, &o);
	cli_json_end(c, 1);
	free(json);
	return rc ? cli_fail(c, rc, "network restore failed") : EXIT_OK;
}

int cmd_network(cli *c, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	if (!strcmp(argv[1], "export"))
		return export(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "restore"))
		return restore(c, argc - 1, argv + 1);
	return cli_usage_error("network", "unknown subcommand '%s' (export or restore)", argv[1]);
}
