/* cloudprotect forget | prune: retention and space reclamation. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char forget_usage[] =
	"usage: cloudprotect forget [ID...] [--keep-last N] [--keep-hourly N] [--keep-daily N]\n"
	"                           [--keep-weekly N] [--keep-monthly N] [--keep-yearly N]\n"
	"                           [--source SOURCE] [--dry-run] [--prune]\n"
	"\n"
	"Remove backups: the ones named, or all that no keep rule keeps (per source, GFS as in\n"
	"restic). Data is freed only by 'prune' (or --prune).\n";

static const char prune_usage[] =
	"usage: cloudprotect prune [--dry-run]\n"
	"\n"
	"Remove data that no backup references and repack sparse packs.\n"
	"Waits for no one: fails with exit status 11 while a backup runs.\n";

static void print_decision(const cp_backup_info *b, int keep, const char *reason, void *payload)
{
	cli *c = payload;
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", b->id);
		cli_json_str(c, "source", b->source);
		cli_json_int(c, "time", b->time);
		cli_json_bool(c, "keep", keep);
		cli_json_str(c, "reason", reason);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		char when[32];
		printf("%-6s %.12s  %s  %s  %s\n", keep ? "keep" : "remove", b->id,
		       cli_time(b->time, when, sizeof(when)), b->source, reason ? reason : "");
	}
}

int cli_run_prune(cli *c, cp_repository *repo, int dry_run)
{
	cp_prune_options o = CP_PRUNE_OPTIONS_INIT;
	o.dry_run = dry_run;
	o.progress_cb = cli_progress_cb;
	o.progress_payload = c;
	cp_prune_stats st;
	memset(&st, 0, sizeof(st));
	int rc = cp_prune(repo, &o, &st);
	cli_progress_done(c);
	if (rc)
		return cli_fail(c, rc, "prune failed");
	char freed[32];
	if (c->json) {
		cli_json_key(c, "prune");
		cli_json_begin(c, 0);
		cli_json_bool(c, "dry_run", dry_run);
		cli_json_uint(c, "packs_removed", st.packs_removed);
		cli_json_uint(c, "packs_rewritten", st.packs_rewritten);
		cli_json_uint(c, "packs_kept_locked", st.packs_kept_locked);
		cli_json_uint(c, "indexes_removed", st.indexes_removed);
		cli_json_uint(c, "bytes_freed", st.bytes_freed);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("%s %llu packs, repacked %llu, freed %s%s\n",
		       dry_run ? "would remove" : "removed", (unsigned long long)st.packs_removed,
		       (unsigned long long)st.packs_rewritten,
		       cli_human(st.bytes_freed, freed, sizeof(freed)),
		       dry_run ? " (dry run)" : "");
		if (st.packs_kept_locked)
			printf("%llu packs are still locked (immutability) and were kept\n",
			       (unsigned long long)st.packs_kept_locked);
	}
	return EXIT_OK;
}

int cmd_forget(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"keep-last", required_argument, NULL, 'l'},
		{"keep-hourly", required_argument, NULL, 'H'},
		{"keep-daily", required_argument, NULL, 'd'},
		{"keep-weekly", required_argument, NULL, 'w'},
		{"keep-monthly", required_argument, NULL, 'm'},
		{"keep-yearly", required_argument, NULL, 'y'},
		{"source", required_argument, NULL, 's'},
		{"dry-run", no_argument, NULL, 'n'},
		{"prune", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, forget_usage))
		return EXIT_OK;
	cp_forget_options o = CP_FORGET_OPTIONS_INIT;
	int prune = 0, opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		unsigned *target = NULL;
		switch (opt) {
		case 'l': target = &o.keep_last; break;
		case 'H': target = &o.keep_hourly; break;
		case 'd': target = &o.keep_daily; break;
		case 'w': target = &o.keep_weekly; break;
		case 'm': target = &o.keep_monthly; break;
		case 'y': target = &o.keep_yearly; break;
		case 's': o.source = optarg; break;
		case 'n': o.dry_run = 1; break;
		case 'p': prune = 1; break;
		default: return cli_usage_error("forget", "unknown option");
		}
		if (target) {
			char *end = NULL;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 1000000)
				return cli_usage_error("forget", "'%s' is not a count", optarg);
			*target = (unsigned)v;
		}
	}
	int nids = argc - optind;
	int has_rules = o.keep_last || o.keep_hourly || o.keep_daily || o.keep_weekly ||
			o.keep_monthly || o.keep_yearly;
	if (nids && has_rules)
		return cli_usage_error("forget", "give backup ids or keep rules, not both");
	if (!nids && !has_rules)
		return cli_usage_error("forget", "give backup ids or at least one --keep-* rule");
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	const char **ids = NULL;
	if (nids) {
		ids = calloc((size_t)nids + 1, sizeof(*ids));
		for (int i = 0; ids && i < nids; i++)
			ids[i] = argv[optind + i];
	}
	cli_json_begin(c, 0);
	cli_json_key(c, "backups");
	cli_json_begin(c, 1);
	int rc = cp_forget(repo, &o, ids, print_decision, c);
	cli_json_end(c, 1);
	free(ids);
	if (rc)
		status = cli_fail(c, rc, "forget failed");
	else if (prune)
		status = cli_run_prune(c, repo, o.dry_run);
	cli_json_end(c, 0);
	cp_repository_close(repo);
	return status;
}

int cmd_prune(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv, prune_usage))
		return EXIT_OK;
	int dry_run = argc == 2 && !strcmp(argv[1], "--dry-run");
	if (argc > 2 || (argc == 2 && !dry_run))
		return cli_usage_error("prune", "the only option is --dry-run");
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	cli_json_begin(c, 0);
	status = cli_run_prune(c, repo, dry_run);
	cli_json_end(c, 0);
	cp_repository_close(repo);
	return status;
}
