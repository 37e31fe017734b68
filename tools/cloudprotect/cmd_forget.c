/* cloudprotect forget | prune: retention and space reclamation. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char forget_usage[] =
	"usage: cloudprotect forget [ID...] [--keep-last N] [--keep-hourly N] [--keep-daily N]\n"
	"                           [--keep-weekly N] [--keep-monthly N] [--keep-yearly N]\n"
	"                           [--source SOURCE] [--dry-run] [--prune [--early-delete]\n"
	"                           [--stale-uploads AGE]]\n"
	"\n"
	"Remove backups: the ones named, or all that no keep rule keeps (per source, GFS as in\n"
	"restic). Data is freed only by 'prune' (or --prune).\n";

static const char prune_usage[] =
	"usage: cloudprotect prune [--dry-run] [--early-delete] [--stale-uploads AGE]\n"
	"\n"
	"Remove data that no backup references and repack sparse packs.\n"
	"Waits for no one: fails with exit status 11 while a backup runs.\n"
	"Packs still locked (--immutable-days) are kept and reported. Packs younger than\n"
	"their storage class's minimum storage duration (S3 GLACIER 90 days, DEEP_ARCHIVE\n"
	"180, Azure Cool 30, GCS ARCHIVE 365) are kept too, since the cloud bills those\n"
	"days anyway; --early-delete deletes them regardless.\n"
	"Unfinished uploads left by killed backups (invisible, but billed) are aborted\n"
	"once older than AGE: seconds, or with s, m, h or d; default 24h; 'never' keeps\n"
	"them.\n";

/* "90", "90s", "15m", "24h", "7d" or "never" as seconds; -2 when unreadable. */
static int64_t parse_age(const char *text)
{
	if (!strcmp(text, "never"))
		return CP_PRUNE_STALE_UPLOADS_NEVER;
	char *end = NULL;
	long long v = strtoll(text, &end, 10);
	if (end == text || v < 0 || v > 100LL * 365 * 86400)
		return -2;
	int64_t unit = !*end || !strcmp(end, "s") ? 1
		       : !strcmp(end, "m")	  ? 60
		       : !strcmp(end, "h")	  ? 3600
		       : !strcmp(end, "d")	  ? 86400
						  : 0;
	return unit ? (int64_t)v * unit : -2;
}

static const char *day(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
	return out;
}

static void print_charges(const cp_prune_stats *st, char *out, size_t len)
{
	if (st->early_delete_cost >= 0)
		snprintf(out, len, "~$%.2f", st->early_delete_cost);
	else
		snprintf(out, len, "%.1f GB-days of storage", st->byte_days / 1e9);
}

/* Why some packs stay, in the words of the issue: when they can go, what deleting costs. */
static void print_held(const cp_prune_stats *st, int dry_run)
{
	char size[32], when[16], charges[64];
	print_charges(st, charges, sizeof(charges));
	if (st->packs_kept_young)
		printf("%llu packs (%s) kept until %s to avoid early-deletion charges of %s "
		       "(prune --early-delete deletes them anyway)\n",
		       (unsigned long long)st->packs_kept_young,
		       cli_human(st->bytes_kept_young, size, sizeof(size)),
		       day(st->young_until, when), charges);
	if (st->packs_deleted_early)
		printf("%llu packs (%s) %s before their minimum storage duration: "
		       "early-deletion charges of %s\n",
		       (unsigned long long)st->packs_deleted_early,
		       cli_human(st->bytes_deleted_early, size, sizeof(size)),
		       dry_run ? "would be deleted" : "deleted", charges);
	if (st->packs_kept_locked && st->locked_until)
		printf("%llu packs (%s) locked until %s; prune again after then\n",
		       (unsigned long long)st->packs_kept_locked,
		       cli_human(st->bytes_kept_locked, size, sizeof(size)),
		       day(st->locked_until, when));
	else if (st->packs_kept_locked)
		printf("%llu packs are still locked (immutability) and were kept\n",
		       (unsigned long long)st->packs_kept_locked);
	if (st->uploads_aborted)
		printf("aborted %llu unfinished upload(s) left by killed backups\n",
		       (unsigned long long)st->uploads_aborted);
}

typedef struct decisions {
	cli *c;
	char **removed; /* ids, NULL-terminated: a dry-run prune counts them as gone */
	size_t n, cap;
} decisions;

static void remember(decisions *d, const char *id)
{
	if (d->n + 2 > d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		char **v = realloc(d->removed, cap * sizeof(*v));
		if (!v)
			return; /* the dry-run estimate only gets less precise */
		d->removed = v;
		d->cap = cap;
	}
	if ((d->removed[d->n] = strdup(id)))
		d->n++;
	d->removed[d->n] = NULL;
}

static void print_decision(const cp_backup_info *b, int keep, const char *reason, void *payload)
{
	decisions *d = payload;
	cli *c = d->c;
	if (!keep)
		remember(d, b->id);
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

int cli_run_prune(cli *c, cp_repository *repo, const cp_prune_options *opts)
{
	cp_prune_options o = *opts;
	int dry_run = o.dry_run;
	o.progress_cb = cli_progress_cb;
	o.progress_payload = c;
	cli_cancel_on_signal(c, "cancelled; the repository stays valid (prune changes it in a "
				"crash-safe order); run prune again to finish");
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
		cli_json_uint(c, "bytes_kept_locked", st.bytes_kept_locked);
		cli_json_int(c, "locked_until", st.locked_until);
		cli_json_uint(c, "packs_kept_young", st.packs_kept_young);
		cli_json_uint(c, "bytes_kept_young", st.bytes_kept_young);
		cli_json_int(c, "young_until", st.young_until);
		cli_json_uint(c, "packs_deleted_early", st.packs_deleted_early);
		cli_json_uint(c, "bytes_deleted_early", st.bytes_deleted_early);
		if (st.early_delete_cost >= 0)
			cli_json_double(c, "early_delete_cost", st.early_delete_cost);
		cli_json_double(c, "early_delete_byte_days", st.byte_days);
		cli_json_uint(c, "uploads_aborted", st.uploads_aborted);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("%s %llu packs, repacked %llu, freed %s%s\n",
		       dry_run ? "would remove" : "removed", (unsigned long long)st.packs_removed,
		       (unsigned long long)st.packs_rewritten,
		       cli_human(st.bytes_freed, freed, sizeof(freed)),
		       dry_run ? " (dry run)" : "");
		print_held(&st, dry_run);
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
		{"early-delete", no_argument, NULL, 'E'},
		{"stale-uploads", required_argument, NULL, 'U'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, forget_usage))
		return EXIT_OK;
	cp_forget_options o = CP_FORGET_OPTIONS_INIT;
	cp_prune_options po = CP_PRUNE_OPTIONS_INIT;
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
		case 'E': po.early_delete = 1; break;
		case 'U':
			po.stale_upload_age = parse_age(optarg);
			if (po.stale_upload_age == -2)
				return cli_usage_error("forget",
						       "'%s' is not an age (24h, 30m, 0, never)",
						       optarg);
			break;
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
	decisions d = {c, NULL, 0, 0};
	int rc = cp_forget(repo, &o, ids, print_decision, &d);
	cli_json_end(c, 1);
	free(ids);
	if (rc)
		status = cli_fail(c, rc, "forget failed");
	else if (prune) {
		po.dry_run = o.dry_run;
		po.forgotten = (const char *const *)d.removed;
		status = cli_run_prune(c, repo, &po);
	}
	for (size_t i = 0; i < d.n; i++)
		free(d.removed[i]);
	free(d.removed);
	cli_json_end(c, 0);
	cp_repository_close(repo);
	return status;
}

int cmd_prune(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"early-delete", no_argument, NULL, 'E'},
		{"stale-uploads", required_argument, NULL, 'U'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, prune_usage))
		return EXIT_OK;
	cp_prune_options po = CP_PRUNE_OPTIONS_INIT;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n': po.dry_run = 1; break;
		case 'E': po.early_delete = 1; break;
		case 'U':
			po.stale_upload_age = parse_age(optarg);
			if (po.stale_upload_age == -2)
				return cli_usage_error(
					"prune", "'%s' is not an age (24h, 30m, 0, never)", optarg);
			break;
		default: return cli_usage_error("prune", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("prune", "unexpected argument '%s'", argv[optind]);
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	cli_json_begin(c, 0);
	status = cli_run_prune(c, repo, &po);
	cli_json_end(c, 0);
	cp_repository_close(repo);
	return status;
}
