/* cloudprotect inventory: the workloads a provider sees. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

#define MAX_FILTERS 64

static const char usage_text[] =
	"usage: cloudprotect inventory [--kind KIND] [--id ID]... [--tag K=V|K]... [--region "
	"R]...\n"
	"\n"
	"List instances, disks and other workloads. KIND is one of vm, disk, db, nosql,\n"
	"warehouse, fileshare, network. A --tag without '=' matches any value.\n";

static int print_resource(const cp_resource *r, void *payload)
{
	cli *c = payload;
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", r->id);
		cli_json_str(c, "kind", cp_resource_kind_name(r->kind));
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
	printf("%-22s %-5s %-20s %-10s %10s  %s", r->id, cp_resource_kind_name(r->kind),
	       r->name ? r->name : "-", r->region ? r->region : "-",
	       cli_human(r->size, size, sizeof(size)), r->parent_id ? r->parent_id : "-");
	for (size_t i = 0; i < r->ntags; i++)
		printf("%s%s=%s", i ? "," : "  ", r->tags[i].key, r->tags[i].value);
	printf("\n");
	return 0;
}

int cmd_inventory(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"kind", required_argument, NULL, 'k'},
		{"id", required_argument, NULL, 'i'},
		{"tag", required_argument, NULL, 't'},
		{"region", required_argument, NULL, 'g'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	cp_inventory_filter f = CP_INVENTORY_FILTER_INIT;
	const char *ids[MAX_FILTERS + 1] = {0}, *regions[MAX_FILTERS + 1] = {0};
	cp_tag tags[MAX_FILTERS];
	size_t nids = 0, nregions = 0, ntags = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'k': {
			cp_resource_kind kind;
			if (cp_resource_kind_parse(&kind, optarg))
				return cli_usage_error("inventory", "%s", cp_error_last()->message);
			f.kind = (int)kind;
			break;
		}
		case 'i':
			if (nids == MAX_FILTERS)
				return cli_usage_error("inventory", "too many --id");
			ids[nids++] = optarg;
			break;
		case 'g':
			if (nregions == MAX_FILTERS)
				return cli_usage_error("inventory", "too many --region");
			regions[nregions++] = optarg;
			break;
		case 't':
			if (ntags == MAX_FILTERS)
				return cli_usage_error("inventory", "too many --tag");
			if (cli_parse_tag(optarg, &tags[ntags])) {
				tags[ntags].key = optarg;
				tags[ntags].value = NULL;
			}
			ntags++;
			break;
		default: return cli_usage_error("inventory", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("inventory", "unexpected argument '%s'", argv[optind]);
	f.ids = nids ? ids : NULL;
	f.regions = nregions ? regions : NULL;
	f.tags = ntags ? tags : NULL;
	f.ntags = ntags;
	int status = cli_open_provider(c);
	if (status)
		return status;
	if (!c->json && !c->quiet)
		printf("%-22s %-5s %-20s %-10s %10s  %s\n", "ID", "KIND", "NAME", "REGION", "SIZE",
		       "PARENT / TAGS");
	cli_json_begin(c, 1);
	int rc = cp_provider_inventory(c->provider, &f, print_resource, c);
	cli_json_end(c, 1);
	if (rc)
		return cli_fail(c, rc, "inventory failed");
	return EXIT_OK;
}
