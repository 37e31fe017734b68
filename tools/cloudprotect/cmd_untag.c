/* cloudprotect untag ID KEY...: remove tags from a resource or snapshot. */
#include "cli.h"

#include <string.h>

#define MAX_KEYS 64

static const char usage_text[] =
	"usage: cloudprotect untag ID KEY...\n"
	"\n"
	"Remove tags from a resource or a snapshot of the provider (an id or ARN as\n"
	"`inventory` and `snapshot list` print it), whatever their values. Keys the\n"
	"resource does not carry are no error; its other tags stay as they are.\n";

int cmd_untag(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	if (argc < 3)
		return cli_usage_error("untag", "give an ID and at least one KEY");
	if (argc - 2 > MAX_KEYS)
		return cli_usage_error("untag", "at most %d keys at once", MAX_KEYS);
	const char *id = argv[1];
	const char *keys[MAX_KEYS];
	size_t nkeys = 0;
	for (int i = 2; i < argc; i++) {
		if (!*argv[i] || strchr(argv[i], '='))
			return cli_usage_error("untag",
					       "'%s' is not a tag KEY (give keys only, without "
					       "=VALUE)",
					       argv[i]);
		keys[nkeys++] = argv[i];
	}
	int status = cli_open_provider(c);
	if (status)
		return status;
	int rc = cp_provider_untag(c->provider, id, keys, nkeys);
	if (rc)
		return cli_fail(c, rc, "removing tags failed");
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", id);
		cli_json_key(c, "removed");
		cli_json_begin(c, 1);
		for (size_t i = 0; i < nkeys; i++)
			cli_json_str(c, NULL, keys[i]);
		cli_json_end(c, 1);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("removed %zu tag key%s from %s\n", nkeys, nkeys == 1 ? "" : "s", id);
	}
	return EXIT_OK;
}
