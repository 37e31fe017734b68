/* cloudprotect version | providers */
#include "cli.h"

#include <string.h>

int cmd_version(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv, "usage: cloudprotect version\n\nPrint the version.\n"))
		return EXIT_OK;
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "version", cp_version());
		cli_json_end(c, 0);
	} else {
		printf("cloudprotect %s\n", cp_version());
	}
	return EXIT_OK;
}

int cmd_providers(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv,
			   "usage: cloudprotect providers\n\nList the providers this build has.\n"))
		return EXIT_OK;
	const char *const *names = NULL;
	int rc = cp_provider_names(&names);
	if (rc)
		return cli_fail(c, rc, "cannot list providers");
	cli_json_begin(c, 1);
	for (size_t i = 0; names[i]; i++) {
		if (c->json)
			cli_json_str(c, NULL, names[i]);
		else
			printf("%s\n", names[i]);
	}
	cli_json_end(c, 1);
	return EXIT_OK;
}
