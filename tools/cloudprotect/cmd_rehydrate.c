/* cloudprotect rehydrate: thaw a backup's packs from an archive storage class. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: cloudprotect rehydrate ID|latest [--tier Expedited|Standard|Bulk] [--days N]\n"
	"                              [--wait] [--poll SECONDS] [--dry-run]\n"
	"\n"
	"A backup whose packs sit in an archive storage class (S3 GLACIER or DEEP_ARCHIVE,\n"
	"GCS ARCHIVE) can be restored only after they are thawed. This says how many packs\n"
	"and bytes need it, requests a thaw of each with the retrieval tier (default\n"
	"Standard; Expedited is faster and dearer, Bulk slower and cheaper) for --days days\n"
	"(default 7), and with --wait polls (every --poll seconds, default 60) until all\n"
	"are readable. Run it again any time: packs already readable are skipped.\n";

/* What AWS documents for S3 GLACIER (Flexible Retrieval) and DEEP_ARCHIVE. */
static const char *typical_wait(const char *tier)
{
	if (!strcmp(tier, "Expedited"))
		return "1-5 minutes from GLACIER (DEEP_ARCHIVE has no Expedited tier)";
	if (!strcmp(tier, "Bulk"))
		return "5-12 hours from GLACIER, up to 48 hours from DEEP_ARCHIVE";
	return "3-5 hours from GLACIER, up to 12 hours from DEEP_ARCHIVE";
}

static int parse_uint(const char *text, unsigned int *out)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);
	if (!*text || *end || v == 0 || v > 36500)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

int cmd_rehydrate(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	cp_rehydrate_options o = CP_REHYDRATE_OPTIONS_INIT;
	const char *ref = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int has_value = i + 1 < argc;
		if (!strcmp(a, "--tier") && has_value) {
			o.tier = argv[++i];
		} else if (!strcmp(a, "--days") && has_value) {
			if (parse_uint(argv[++i], &o.days))
				return cli_usage_error("rehydrate", "--days wants 1 to 36500");
		} else if (!strcmp(a, "--poll") && has_value) {
			if (parse_uint(argv[++i], &o.poll_seconds))
				return cli_usage_error("rehydrate",
						       "--poll wants seconds (1 or more)");
		} else if (!strcmp(a, "--wait")) {
			o.wait = 1;
		} else if (!strcmp(a, "--dry-run")) {
			o.dry_run = 1;
		} else if (a[0] == '-' || ref) {
			return cli_usage_error("rehydrate", "unexpected argument '%s'", a);
		} else {
			ref = a;
		}
	}
	if (!ref)
		return cli_usage_error("rehydrate", "name the backup: an id, a prefix or 'latest'");
	if (o.tier && strcmp(o.tier, "Expedited") && strcmp(o.tier, "Standard") &&
	    strcmp(o.tier, "Bulk"))
		return cli_usage_error("rehydrate",
				       "--tier is Expedited, Standard or Bulk, not '%s'", o.tier);
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;

	/* Say what it takes before asking for it. */
	cp_rehydrate_stats plan, st;
	cp_rehydrate_options count = o;
	count.dry_run = 1;
	int rc = cp_backup_rehydrate(repo, ref, &count, &plan);
	char human[32];
	if (!rc && !c->json && !c->quiet)
		printf("%llu of %llu packs (%s) are archived%s\n",
		       (unsigned long long)plan.archived, (unsigned long long)plan.packs,
		       cli_human(plan.archived_bytes, human, sizeof(human)),
		       plan.archived && !o.dry_run ? "; requesting their thaw" : "");
	if (!rc && !o.dry_run && !c->json && !c->quiet && plan.archived)
		printf("tier %s (typically %s), readable for %u days\n",
		       o.tier ? o.tier : "Standard", typical_wait(o.tier ? o.tier : "Standard"),
		       o.days ? o.days : 7);
	fflush(stdout);
	st = plan;
	if (!rc && !o.dry_run && plan.archived) {
		o.progress_cb = cli_progress_cb;
		o.progress_payload = c;
		cli_cancel_on_signal(c, "cancelled; thaws already requested go on, the repository "
					"is unchanged; run rehydrate again to request the rest");
		rc = cp_backup_rehydrate(repo, ref, &o, &st);
		cli_progress_done(c);
	}
	cp_repository_close(repo);
	if (rc)
		return cli_fail(c, rc, "rehydrate failed");
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_uint(c, "packs", plan.packs);
		cli_json_uint(c, "archived", plan.archived);
		cli_json_uint(c, "archived_bytes", plan.archived_bytes);
		cli_json_uint(c, "requested", st.requested);
		cli_json_uint(c, "still_archived", o.dry_run ? plan.archived : st.still_archived);
		cli_json_end(c, 0);
	} else if (!c->quiet && plan.archived && !o.dry_run) {
		if (st.still_archived)
			printf("%llu packs are still thawing; run again with --wait, or restore "
			       "once they are readable\n",
			       (unsigned long long)st.still_archived);
		else
			printf("all packs are readable; the backup can be restored\n");
	}
	return EXIT_OK;
}
