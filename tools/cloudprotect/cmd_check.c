/* cloudprotect check: verify the repository's structure, or every byte. */
#include "cli.h"

#include <string.h>

static const char usage_text[] =
	"usage: cloudprotect check [--read-data]\n"
	"\n"
	"Check that every backup can be restored: manifests decode, every chunk they need is\n"
	"indexed, every indexed pack exists with the right size. --read-data also downloads\n"
	"every pack and verifies every chunk's checksum and encryption tag.\n"
	"Exit status 13 when problems were found.\n";

static void report_problem(const char *key, const char *problem, void *payload)
{
	cli *c = payload;
	cli_progress_done(c);
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "object", key);
		cli_json_str(c, "problem", problem);
		cli_json_end(c, 0);
	} else {
		fprintf(stderr, "problem: %s: %s\n", key ? key : "-", problem);
	}
}

int cmd_check(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	cp_check_options o = CP_CHECK_OPTIONS_INIT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--read-data"))
			return cli_usage_error("check", "unknown argument '%s'", argv[i]);
		o.read_data = 1;
	}
	o.progress_cb = cli_progress_cb;
	o.progress_payload = c;
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	cp_check_result r;
	memset(&r, 0, sizeof(r));
	cli_cancel_on_signal(c, "cancelled; check only reads, the repository is unchanged");
	cli_json_begin(c, 0);
	cli_json_key(c, "problems");
	cli_json_begin(c, 1);
	int rc = cp_check(repo, &o, report_problem, c, &r);
	cli_json_end(c, 1);
	cli_progress_done(c);
	cp_repository_close(repo);
	if (rc && rc != CP_ECORRUPT)
		return cli_fail(c, rc, "check could not run");
	if (c->json) {
		cli_json_uint(c, "backups", r.backups);
		cli_json_uint(c, "indexes", r.indexes);
		cli_json_uint(c, "packs", r.packs);
		cli_json_uint(c, "chunks", r.chunks);
		cli_json_uint(c, "problem_count", r.problems);
		cli_json_uint(c, "unreferenced_packs", r.unreferenced_packs);
		cli_json_bool(c, "read_data", o.read_data);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("checked %llu backups, %llu indexes, %llu packs, %llu chunks%s\n",
		       (unsigned long long)r.backups, (unsigned long long)r.indexes,
		       (unsigned long long)r.packs, (unsigned long long)r.chunks,
		       o.read_data ? " (all data read)" : "");
		if (r.unreferenced_packs)
			printf("%llu packs are not referenced (left by interrupted backups); "
			       "'prune' "
			       "removes them\n",
			       (unsigned long long)r.unreferenced_packs);
		printf(r.problems ? "%llu problems found\n" : "no problems found\n",
		       (unsigned long long)r.problems);
	}
	if (rc == CP_ECORRUPT || r.problems) {
		if (!c->json)
			fprintf(stderr,
				"cloudprotect: error: the repository has %llu problems; backups "
				"that need the damaged objects cannot be fully restored\n",
				(unsigned long long)r.problems);
		return EXIT_CORRUPT;
	}
	return EXIT_OK;
}
