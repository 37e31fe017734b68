/* cloudprotect policy validate|plan|run|schedule: protect workloads by policy. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
	"usage: cloudprotect policy validate FILE\n"
	"       cloudprotect policy plan FILE [--now UNIXTIME] [--state DIR]\n"
	"       cloudprotect policy run FILE [--once] [--dry-run] [--create] [--state DIR]\n"
	"                                    [--concurrency N] [--now UNIXTIME]\n"
	"       cloudprotect policy schedule FILE [--create] [--state DIR] [--concurrency N]\n"
	"\n"
	"A policy (doc/policy.md) says which workloads to snapshot and back up, when, and how\n"
	"long to keep what. 'validate' checks the file; 'plan' shows what is due now; 'run'\n"
	"does it once (--once says so explicitly) and records each action in the state store\n"
	"('cloudprotect history' lists them); 'schedule' stays in the foreground, runs what\n"
	"is due as it comes due and exits cleanly on SIGTERM or SIGINT.\n"
	"\n"
	"The repositories are the policy's; their password comes from --password-file,\n"
	"CLOUDPROTECT_PASSWORD or CLOUDPROTECT_PASSWORD_FILE (the archive's from\n"
	"CLOUDPROTECT_ARCHIVE_PASSWORD, else the same). --create makes missing repositories.\n"
	"--now plans as if it were that time (for rehearsals and tests).\n";

typedef struct policy_args {
	const char *file;
	const char *state_dir;
	int64_t now;
	int dry_run, create;
	unsigned int concurrency;
} policy_args;

static int parse_args(const char *sub, int argc, char **argv, policy_args *a)
{
	static const struct option options[] = {
		{"state", required_argument, NULL, 's'},
		{"now", required_argument, NULL, 'n'},
		{"once", no_argument, NULL, 'o'},
		{"dry-run", no_argument, NULL, 'd'},
		{"create", no_argument, NULL, 'c'},
		{"concurrency", required_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "policy %s", sub);
	memset(a, 0, sizeof(*a));
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char *end = NULL;
		switch (opt) {
		case 's': a->state_dir = optarg; break;
		case 'o': break; /* run does one pass anyway */
		case 'd': a->dry_run = 1; break;
		case 'c': a->create = 1; break;
		case 'n':
			errno = 0;
			a->now = strtoll(optarg, &end, 10);
			if (errno || !end || *end || a->now <= 0)
				return cli_usage_error(cmd, "--now wants unix seconds, got '%s'",
						       optarg);
			break;
		case 'j': {
			long n = strtol(optarg, &end, 10);
			if (!end || *end || n < 1 || n > 256)
				return cli_usage_error(cmd, "--concurrency wants 1..256, got '%s'",
						       optarg);
			a->concurrency = (unsigned int)n;
			break;
		}
		default: return cli_usage_error(cmd, "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd, "give exactly one policy FILE");
	a->file = argv[optind];
	return 0;
}

static int validate(cli *c, const policy_args *a)
{
	cp_policy *p = NULL;
	int rc = cp_policy_load(&p, a->file);
	if (rc)
		return cli_fail(c, rc, "invalid policy");
	int64_t next = 0;
	int have_next = cp_policy_next_run(p, (int64_t)time(NULL), &next) == 0;
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_bool(c, "valid", 1);
		cli_json_str(c, "name", cp_policy_name(p));
		cli_json_str(c, "timezone", cp_policy_timezone(p));
		cli_json_str(c, "repository", cp_policy_repository(p));
		cli_json_str(c, "archive", cp_policy_archive_repository(p));
		if (have_next)
			cli_json_int(c, "next_run", next);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		char when[32];
		printf("policy %s is valid (time zone %s)\n", cp_policy_name(p),
		       cp_policy_timezone(p));
		if (cp_policy_repository(p))
			printf("  backups to   %s\n", cp_policy_repository(p));
		if (cp_policy_archive_repository(p))
			printf("  archive to   %s\n", cp_policy_archive_repository(p));
		if (have_next)
			printf("  next run     %s\n", cli_time(next, when, sizeof(when)));
	}
	cp_policy_free(p);
	return EXIT_OK;
}

/* Open (or with --create, create) a repository of the policy. */
static int open_repo(cli *c, const cp_policy *p, const char *url, int archive, int create,
		     cp_repository **out)
{
	const char *pw = NULL;
	const char *archive_pw = archive ? getenv("CLOUDPROTECT_ARCHIVE_PASSWORD") : NULL;
	if (archive_pw && *archive_pw) {
		pw = archive_pw;
	} else {
		int status = cli_password(c, NULL, &pw);
		if (status)
			return status;
	}
	int rc = cp_repository_open(out, c->ctx, url, pw);
	if (rc == CP_ENOTFOUND && create == -1) {
		*out = NULL; /* planning: a repository not made yet holds no backups */
		cp_error_clear();
		return 0;
	}
	if (rc == CP_ENOTFOUND && create == 1) {
		cp_repository_create_options o = CP_REPOSITORY_CREATE_OPTIONS_INIT;
		o.immutable_days = cp_policy_immutable_days(p);
		rc = cp_repository_create(out, c->ctx, url, pw, &o);
		if (!rc && !c->quiet && !c->json)
			fprintf(stderr, "cloudprotect: created repository %s\n", url);
	}
	if (rc) {
		char what[600];
		snprintf(what, sizeof(what), "cannot open %s repository %s%s",
			 archive ? "the archive" : "the backup", url,
			 rc == CP_ENOTFOUND && !create ? " (pass --create to make it)" : "");
		int status = cli_fail(c, rc, what);
		return rc == CP_ENOTFOUND ? EXIT_NO_REPOSITORY : status;
	}
	return 0;
}

typedef struct session {
	cli *c;
	cp_policy *policy;
	cp_repository *repo, *archive;
	cp_state *state;
	char *state_dir;
	int plan_only;
	size_t printed;
} session;

static void session_close(session *s)
{
	cp_repository_close(s->repo);
	cp_repository_close(s->archive);
	cp_state_free(s->state);
	free(s->state_dir);
	cp_policy_free(s->policy);
}

static int session_open(session *s, cli *c, const policy_args *a, int planning)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	int rc = cp_policy_load(&s->policy, a->file);
	if (rc)
		return cli_fail(c, rc, "invalid policy");
	int status = cli_open_provider(c);
	if (status)
		return status;
	int create = planning ? -1 : a->create;
	const char *url = cp_policy_repository(s->policy);
	if (url && (status = open_repo(c, s->policy, url, 0, create, &s->repo)))
		return status;
	url = cp_policy_archive_repository(s->policy);
	if (url && (status = open_repo(c, s->policy, url, 1, create, &s->archive)))
		return status;
	s->state_dir = cli_state_dir(c, a->state_dir);
	rc = s->state_dir ? cp_state_open(&s->state, s->state_dir) : CP_ENOMEM;
	if (rc)
		return cli_fail(c, rc, "cannot open the state directory");
	return 0;
}

/* Backup ids are 64 hex digits: show a prefix, as 'cloudprotect snapshots' resolves them. */
static const char *short_id(const char *id, char *buf, size_t len)
{
	if (!id || strlen(id) <= 22)
		return id;
	snprintf(buf, len, "%.16s", id);
	return buf;
}

static void print_action(const cp_action *act, const cp_run_record *r, void *payload)
{
	char shortened[24];
	session *s = payload;
	cli *c = s->c;
	s->printed++;
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "action", cp_action_kind_name(act->kind));
		cli_json_str(c, "resource", act->resource_id);
		cli_json_str(c, "snapshot", r->snapshot_id);
		cli_json_str(c, "backup", r->backup_id);
		cli_json_bool(c, "archive", act->archive);
		if (act->scheduled)
			cli_json_int(c, "scheduled", act->scheduled);
		cli_json_str(c, "reason", act->reason);
		if (!s->plan_only) {
			cli_json_str(c, "result", cp_run_result_name(r->result));
			cli_json_uint(c, "bytes", r->bytes);
			cli_json_int(c, "seconds", r->end - r->start);
			cli_json_str(c, "error", r->result == CP_RUN_FAILED ? r->error : NULL);
		}
		cli_json_end(c, 0);
		return;
	}
	if (c->quiet && (s->plan_only || r->result != CP_RUN_FAILED))
		return;
	const char *target = short_id(r->backup_id ? r->backup_id : r->snapshot_id, shortened,
				      sizeof(shortened));
	if (s->plan_only) {
		printf("%-15s %-22s %-22s %s%s\n", cp_action_kind_name(act->kind),
		       act->resource_id ? act->resource_id : "-", target ? target : "-",
		       act->archive ? "(archive) " : "", act->reason ? act->reason : "");
		return;
	}
	char size[32];
	printf("%-7s %-15s %-22s %-22s %10s %4llds", cp_run_result_name(r->result),
	       cp_action_kind_name(act->kind), act->resource_id ? act->resource_id : "-",
	       target ? target : "-", cli_human(r->bytes, size, sizeof(size)),
	       (long long)(r->end - r->start));
	if (r->result != CP_RUN_OK && r->error)
		printf("  %s", r->error);
	printf("\n");
	fflush(stdout);
}

static int run_once(session *s, const policy_args *a, int plan_only)
{
	cli *c = s->c;
	cp_policy_run_options o = CP_POLICY_RUN_OPTIONS_INIT;
	o.provider = c->provider;
	o.repository = s->repo;
	o.archive = s->archive;
	o.state = s->state; /* a plan reads earlier attempts; a dry run writes nothing */
	o.now = a->now;
	o.dry_run = plan_only || a->dry_run;
	o.concurrency = plan_only ? 1 : a->concurrency;
	o.cb = print_action;
	o.payload = s;
	s->plan_only = plan_only;
	s->printed = 0;
	if (plan_only && !c->json && !c->quiet)
		printf("%-15s %-22s %-22s %s\n", "ACTION", "WORKLOAD", "SNAPSHOT/BACKUP", "WHY");
	else if (!c->json && !c->quiet)
		printf("%-7s %-15s %-22s %-22s %10s %5s\n", "RESULT", "ACTION", "WORKLOAD",
		       "SNAPSHOT/BACKUP", "BYTES", "TIME");
	cp_policy_run_summary sum;
	cli_json_begin(c, 0);
	cli_json_key(c, "actions");
	cli_json_begin(c, 1);
	int rc = cp_policy_run(s->policy, &o, &sum);
	cli_json_end(c, 1);
	int failed_run = rc == CP_ERROR && sum.failed;
	if (rc && !failed_run) {
		cli_json_end(c, 0);
		return cli_fail(c, rc, plan_only ? "cannot plan" : "cannot run the policy");
	}
	char size[32];
	if (c->json) {
		cli_json_str(c, "policy", cp_policy_name(s->policy));
		if (!plan_only) {
			cli_json_str(c, "run", sum.run_id);
			cli_json_uint(c, "ok", sum.ok);
			cli_json_uint(c, "failed", sum.failed);
			cli_json_uint(c, "skipped", sum.skipped);
			cli_json_uint(c, "bytes", sum.bytes);
			cli_json_str(c, "state", s->state_dir);
		}
		cli_json_end(c, 0);
		cli_json_flush(c);
	} else if (plan_only) {
		if (!s->printed && !c->quiet)
			printf("(nothing is due)\n");
	} else if (!c->quiet && !sum.ok && !sum.failed && !sum.skipped) {
		printf("policy %s: nothing is due\n", cp_policy_name(s->policy));
	} else if (!c->quiet) {
		printf("policy %s: %zu workload%s, %zu ok, %zu failed, %zu skipped, %s read; run "
		       "%s "
		       "recorded in %s\n",
		       cp_policy_name(s->policy), sum.workloads, sum.workloads == 1 ? "" : "s",
		       sum.ok, sum.failed, sum.skipped, cli_human(sum.bytes, size, sizeof(size)),
		       sum.run_id, s->state_dir);
	}
	if (failed_run) {
		fprintf(stderr, "cloudprotect: error: %s\n", cp_error_last()->message);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int schedule(session *s, const policy_args *a)
{
	cli *c = s->c;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: the sleep below ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int status = EXIT_OK;
	while (!stop_requested) {
		policy_args once = *a;
		once.now = 0;
		int st = run_once(s, &once, 0);
		if (st != EXIT_OK && st != EXIT_ERROR)
			return st; /* cannot run at all (locked, unreadable): stop */
		status = st;
		int64_t now = (int64_t)time(NULL), next = 0;
		if (cp_policy_next_run(s->policy, now, &next))
			return cli_fail(c, CP_ENOTFOUND, "nothing to schedule");
		if (!c->quiet && !c->json) {
			char when[32];
			printf("next run at %s\n", cli_time(next, when, sizeof(when)));
			fflush(stdout);
		}
		while (!stop_requested && (int64_t)time(NULL) < next) {
			int64_t left = next - (int64_t)time(NULL);
			struct timespec ts = {left > 60 ? 60 : left, 0};
			nanosleep(&ts, NULL); /* wakes early on a signal */
		}
	}
	if (!c->quiet && !c->json)
		printf("stopped\n");
	return status;
}

int cmd_policy(cli *c, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *sub = argv[1];
	policy_args a;
	int status = parse_args(sub, argc - 1, argv + 1, &a);
	if (status)
		return status;
	if (!strcmp(sub, "validate"))
		return validate(c, &a);
	if (strcmp(sub, "plan") && strcmp(sub, "run") && strcmp(sub, "schedule"))
		return cli_usage_error("policy",
				       "unknown subcommand '%s' (validate, plan, run, "
				       "schedule)",
				       sub);
	session s;
	status = session_open(&s, c, &a, !strcmp(sub, "plan") || a.dry_run);
	if (!status) {
		if (!strcmp(sub, "plan"))
			status = run_once(&s, &a, 1);
		else if (!strcmp(sub, "run"))
			status = run_once(&s, &a, 0);
		else
			status = schedule(&s, &a);
	}
	cli_progress_done(c);
	session_close(&s);
	return status;
}
