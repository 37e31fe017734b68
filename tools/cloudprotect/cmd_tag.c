/* cloudprotect tag ID KEY=VALUE...: add or overwrite tags on a resource or snapshot. */
#include "cli.h"

#include <string.h>

#define MAX_TAGS 64

static const char usage_text[] =
	"usage: cloudprotect tag ID KEY=VALUE...\n"
	"\n"
	"Set tags on a resource or a snapshot of the provider (an id or ARN as `inventory`\n"
	"and `snapshot list` print it). The keys given get the values given; the\n"
	"resource's other tags stay as they are (`untag` removes keys). An empty VALUE\n"
	"(KEY=) is a valid tag.\n";

int cmd_tag(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	if (argc < 3)
		return cli_usage_error("tag", "give an ID and at least one KEY=VALUE");
	if (argc - 2 > MAX_TAGS)
		return cli_usage_error("tag", "at most %d tags at once", MAX_TAGS);
	const char *id = argv[1];
	cp_tag tags[MAX_TAGS];
	size_t ntags = 0;
	for (int i = 2; i < argc; i++) {
		if (cli_parse_tag(argv[i], &tags[ntags]))
			return cli_usage_error("tag", "'%s' is not KEY=VALUE", argv[i]);
		ntags++;
	}
	int status = cli_open_provider(c);
	if (status)
		return status;
	int rc = cp_provider_tag(c->provider, id, tags, ntags);
	if (rc)
		return cli_fail(c, rc, "tagging failed");
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", id);
		cli_json_tags(c, tags, ntags);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("tagged %s with %zu tag%s\n", id, ntags, ntags == 1 ? "" : "s");
	}
	return EXIT_OK;
}
