/* cloudprotect history: the runs that policies recorded in the state store. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: cloudprotect history [--policy NAME] [--state DIR] [--last N] [--failed]\n"
	"\n"
	"List what policy runs did: one line per action with its start, result, workload,\n"
	"snapshot or backup, bytes and error. --last N shows the N newest records.\n"
	"The state directory is --state, else CLOUDPROTECT_STATE_DIR, else beside the local\n"
	"cloud's root (ROOT-state) for the local provider, else $XDG_STATE_HOME/cloudprotect.\n";

char *cli_state_dir(cli *c, const char *given)
{
	char *dir = NULL;
	const char *env = getenv("CLOUDPROTECT_STATE_DIR");
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (given)
		return strdup(given);
	if (env && *env)
		return strdup(env);
	if (!strcmp(c->provider_name, "local") && c->local_root && !c->provider_config) {
		if (asprintf(&dir, "%s-state", c->local_root) < 0)
			dir = NULL;
		return dir;
	}
	if (xdg && *xdg) {
		if (asprintf(&dir, "%s/cloudprotect", xdg) < 0)
			dir = NULL;
	} else if (asprintf(&dir, "%s/.local/state/cloudprotect", home ? home : ".") < 0) {
		dir = NULL;
	}
	return dir;
}

typedef struct records {
	cli *c;
	int failed_only;
	size_t skip; /* print only after skipping this many */
	size_t seen;
} records;

static int count(const cp_run_record *r, void *payload)
{
	records *rs = payload;
	if (!rs->failed_only || r->result == CP_RUN_FAILED)
		rs->seen++;
	return 0;
}

static int print(const cp_run_record *r, void *payload)
{
	records *rs = payload;
	cli *c = rs->c;
	if (rs->failed_only && r->result != CP_RUN_FAILED)
		return 0;
	if (rs->skip) {
		rs->skip--;
		return 0;
	}
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "run", r->run_id);
		cli_json_str(c, "policy", r->policy);
		cli_json_str(c, "action", cp_action_kind_name(r->action));
		cli_json_str(c, "resource", r->resource_id);
		cli_json_str(c, "snapshot", r->snapshot_id);
		cli_json_str(c, "backup", r->backup_id);
		cli_json_int(c, "start", r->start);
		cli_json_int(c, "end", r->end);
		cli_json_int(c, "scheduled", r->scheduled);
		cli_json_uint(c, "bytes", r->bytes);
		cli_json_str(c, "result", cp_run_result_name(r->result));
		cli_json_str(c, "error", r->error);
		cli_json_end(c, 0);
		return 0;
	}
	char when[32], size[32], shortened[24];
	const char *target = r->backup_id ? r->backup_id : r->snapshot_id;
	if (target && strlen(target) > 22) {
		snprintf(shortened, sizeof(shortened), "%.16s", target); /* ids resolve by prefix */
		target = shortened;
	}
	printf("%s  %-12s %-15s %-7s %-22s %-22s %10s %4llds",
	       cli_time(r->start, when, sizeof(when)), r->policy ? r->policy : "-",
	       cp_action_kind_name(r->action), cp_run_result_name(r->result),
	       r->resource_id ? r->resource_id : "-", target ? target : "-",
	       cli_human(r->bytes, size, sizeof(size)), (long long)(r->end - r->start));
	if (r->error)
		printf("  %s", r->error);
	printf("\n");
	return 0;
}

int cmd_history(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"policy", required_argument, NULL, 'p'},
		{"state", required_argument, NULL, 's'},
		{"last", required_argument, NULL, 'n'},
		{"failed", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *policy = NULL, *state_arg = NULL;
	long last = -1;
	records rs = {c, 0, 0, 0};
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p': policy = optarg; break;
		case 's': state_arg = optarg; break;
		case 'f': rs.failed_only = 1; break;
		case 'n': {
			char *end = NULL;
			last = strtol(optarg, &end, 10);
			if (!end || *end || last < 0)
				return cli_usage_error("history", "--last wants a count, got '%s'",
						       optarg);
			break;
		}
		default: return cli_usage_error("history", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("history", "unexpected argument '%s'", argv[optind]);
	char *dir = cli_state_dir(c, state_arg);
	cp_state *state = NULL;
	int rc = dir ? cp_state_open(&state, dir) : CP_ENOMEM;
	if (rc) {
		free(dir);
		return cli_fail(c, rc, "cannot open the state directory");
	}
	if (last >= 0) {
		rc = cp_state_runs(state, policy, count, &rs);
		rs.skip = rs.seen > (size_t)last ? rs.seen - (size_t)last : 0;
	}
	if (!rc && !c->json && !c->quiet)
		printf("%-19s  %-12s %-15s %-7s %-22s %-22s %10s %5s\n", "STARTED", "POLICY",
		       "ACTION", "RESULT", "WORKLOAD", "SNAPSHOT/BACKUP", "BYTES", "TIME");
	cli_json_begin(c, 1);
	if (!rc)
		rc = cp_state_runs(state, policy, print, &rs);
	cli_json_end(c, 1);
	cp_state_free(state);
	free(dir);
	return rc ? cli_fail(c, rc, "cannot read the run history") : EXIT_OK;
}
