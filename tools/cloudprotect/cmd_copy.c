/* cloudprotect copy: backups to another repository (offsite copies). */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: cloudprotect copy --to URL [--to-password-file FILE] [ID...]\n"
	"\n"
	"Copy backups (all, or the ids given) into another repository, storing only the data\n"
	"it lacks. The target's password comes from --to-password-file or\n"
	"CLOUDPROTECT_TO_PASSWORD.\n";

int cmd_copy(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"to", required_argument, NULL, 't'},
		{"to-password-file", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *to = NULL, *to_pw_file = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 't')
			to = optarg;
		else if (opt == 'p')
			to_pw_file = optarg;
		else
			return cli_usage_error("copy", "unknown option");
	}
	if (!to)
		return cli_usage_error("copy", "--to URL is required");
	cp_repository *src = NULL, *dst = NULL;
	int status = cli_open_repository(c, &src, 0);
	if (status)
		return status;
	const char *to_pw = NULL;
	char *owned_pw = NULL;
	if (to_pw_file) {
		if ((status = cli_password(c, to_pw_file, &to_pw)))
			goto out;
		owned_pw = (char *)to_pw;
	} else {
		to_pw = getenv("CLOUDPROTECT_TO_PASSWORD");
		if (!to_pw || !*to_pw) {
			status = cli_usage_error("copy",
						 "no password for the target; use "
						 "--to-password-file or CLOUDPROTECT_TO_PASSWORD");
			goto out;
		}
	}
	int rc = cp_repository_open(&dst, c->ctx, to, to_pw);
	if (rc) {
		status = cli_fail(c, rc, "cannot open the target repository");
		goto out;
	}
	const char **ids = NULL;
	int nids = argc - optind;
	if (nids) {
		ids = calloc((size_t)nids + 1, sizeof(*ids));
		for (int i = 0; ids && i < nids; i++)
			ids[i] = argv[optind + i];
	}
	cli_cancel_on_signal(c, "cancelled; backups copied before stay complete, the one in "
				"progress was not recorded, and the source is unchanged");
	rc = cp_backup_copy(dst, src, ids, cli_progress_cb, c);
	cli_progress_done(c);
	free(ids);
	if (rc) {
		status = cli_fail(c, rc, "copy failed");
		goto out;
	}
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "to", to);
		cli_json_int(c, "backups", nids);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("copied %s to %s\n", nids ? "the given backups" : "all backups", to);
	}
out:
	free(owned_pw);
	cp_repository_close(dst);
	cp_repository_close(src);
	return status;
}
