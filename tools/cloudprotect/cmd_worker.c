/* cloudprotect worker run|list|get|terminate|reap: temporary machines that run one job. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TAGS       64
#define MAX_USER_DATA  (16 * 1024) /* EC2's limit on user data, before base64 */
#define DEFAULT_POLL_S 5

static const char usage_text[] =
	"usage: cloudprotect worker run --image IMAGE --size-class TYPE [--subnet SUBNET]\n"
	"                               [--identity PROFILE] [--region REGION]\n"
	"                               [--user-data FILE | --script TEXT] [--job NAME]\n"
	"                               [--timeout SECONDS] [--ttl SECONDS] [--poll-ms MS]\n"
	"                               [--tag K=V]...\n"
	"       cloudprotect worker list\n"
	"       cloudprotect worker get WORKER_ID\n"
	"       cloudprotect worker terminate WORKER_ID...\n"
	"       cloudprotect worker reap\n"
	"\n"
	"run launches a worker whose user data is the job, waits until the job ends, and\n"
	"terminates the worker whatever happened (success, failure, timeout); if run itself\n"
	"is killed, `worker reap` terminates the worker once its ttl has passed. run fails\n"
	"when the job failed or outlived --timeout (default: the ttl, one hour). On aws a\n"
	"job ends by shutting the machine down, and reports failure by tagging its\n"
	"instance cloudprotect:result=failed first; on local it is a shell script and its\n"
	"exit status counts. list shows the workers not yet terminated; reap terminates\n"
	"those past their ttl (a crashed run leaves them behind).\n";

static int print_worker(const cp_worker_info *w, void *payload)
{
	cli *c = payload;
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", w->id);
		cli_json_str(c, "job", w->job);
		cli_json_str(c, "region", w->region);
		cli_json_str(c, "address", w->address);
		cli_json_str(c, "state", cp_worker_state_name(w->state));
		cli_json_int(c, "launched", w->launched);
		cli_json_int(c, "expires", w->expires);
		cli_json_end(c, 0);
		return 0;
	}
	char launched[32], expires[32];
	printf("%-28s %-20s %-10s %-19s  %-19s  %s\n", w->id, w->job ? w->job : "-",
	       cp_worker_state_name(w->state), cli_time(w->launched, launched, sizeof(launched)),
	       cli_time(w->expires, expires, sizeof(expires)), w->region ? w->region : "-");
	return 0;
}

static void header(cli *c)
{
	if (!c->json && !c->quiet)
		printf("%-28s %-20s %-10s %-19s  %-19s  %s\n", "WORKER", "JOB", "STATE", "LAUNCHED",
		       "EXPIRES", "REGION");
}

/* The whole file, NUL-terminated; NULL with a message on stderr. */
static char *read_user_data(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cloudprotect worker run: cannot open user data '%s': %s\n", path,
			strerror(errno));
		return NULL;
	}
	char *text = malloc(MAX_USER_DATA + 1);
	size_t n = text ? fread(text, 1, MAX_USER_DATA + 1, f) : 0;
	int bad = !text || ferror(f) || n > MAX_USER_DATA;
	fclose(f);
	if (bad) {
		fprintf(stderr,
			"cloudprotect worker run: user data '%s' cannot be read or is larger than "
			"%d bytes; keep the job small and let it fetch the rest\n",
			path, MAX_USER_DATA);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

static int parse_uint(const char *text, unsigned int *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || !*text || *end || v > 0xffffffffUL || text[0] == '-')
		return -1;
	*out = (unsigned int)v;
	return 0;
}

typedef struct run_watch {
	cli *c;
	char id[160];
	char phase[32];
} run_watch;

/* Say when the worker's state changes; no bar, as the units are seconds. */
static int watch_progress(const cp_progress *p, void *payload)
{
	run_watch *w = payload;
	if (p->item)
		snprintf(w->id, sizeof(w->id), "%s", p->item);
	if (p->phase && strcmp(w->phase, p->phase)) {
		snprintf(w->phase, sizeof(w->phase), "%s", p->phase);
		if (!w->c->quiet && (w->c->verbose || cli_progress_enabled(w->c)))
			fprintf(stderr, "cloudprotect: worker %s: %s after %llu s\n", w->id,
				p->phase, (unsigned long long)p->done);
	}
	return 0;
}

static int run(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"image", required_argument, NULL, 'i'},
		{"size-class", required_argument, NULL, 's'},
		{"subnet", required_argument, NULL, 'n'},
		{"identity", required_argument, NULL, 'I'},
		{"region", required_argument, NULL, 'r'},
		{"user-data", required_argument, NULL, 'u'},
		{"script", required_argument, NULL, 'S'},
		{"job", required_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 'T'},
		{"ttl", required_argument, NULL, 'L'},
		{"poll-ms", required_argument, NULL, 'p'},
		{"tag", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	cp_worker_options o = CP_WORKER_OPTIONS_INIT;
	cp_worker_run_options r = CP_WORKER_RUN_OPTIONS_INIT;
	cp_tag tags[MAX_TAGS];
	size_t ntags = 0;
	const char *user_data_file = NULL, *script = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'i': o.image = optarg; break;
		case 's': o.size_class = optarg; break;
		case 'n': o.subnet = optarg; break;
		case 'I': o.identity = optarg; break;
		case 'r': o.region = optarg; break;
		case 'u': user_data_file = optarg; break;
		case 'S': script = optarg; break;
		case 'j': o.job = optarg; break;
		case 'T':
			if (parse_uint(optarg, &r.timeout_seconds))
				return cli_usage_error("worker run", "--timeout wants seconds");
			break;
		case 'L':
			if (parse_uint(optarg, &o.ttl_seconds))
				return cli_usage_error("worker run", "--ttl wants seconds");
			break;
		case 'p':
			if (parse_uint(optarg, &r.poll_ms) || !r.poll_ms)
				return cli_usage_error("worker run",
						       "--poll-ms wants milliseconds");
			break;
		case 't':
			if (ntags == MAX_TAGS || cli_parse_tag(optarg, &tags[ntags]))
				return cli_usage_error("worker run", "--tag wants KEY=VALUE");
			ntags++;
			break;
		default: return cli_usage_error("worker run", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("worker run", "unexpected argument '%s'", argv[optind]);
	if (!o.image || !o.size_class)
		return cli_usage_error("worker run", "give --image and --size-class");
	if (user_data_file && script)
		return cli_usage_error("worker run", "give --user-data FILE or --script TEXT, "
						     "not both");
	char *data = NULL;
	if (user_data_file && !(data = read_user_data(user_data_file)))
		return EXIT_USAGE;
	o.user_data = data ? data : script;
	o.tags = tags;
	o.ntags = ntags;
	if (!r.poll_ms)
		r.poll_ms = DEFAULT_POLL_S * 1000;
	run_watch w = {c, "", ""};
	r.progress_cb = watch_progress;
	r.progress_payload = &w;
	int status = cli_open_provider(c);
	if (status) {
		free(data);
		return status;
	}
	int rc = cp_worker_run(c->provider, &o, &r);
	free(data);
	if (rc)
		return cli_fail(c, rc, "the worker's job did not finish");
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "worker", w.id);
		cli_json_str(c, "job", o.job);
		cli_json_str(c, "state", "finished");
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("job '%s' finished on worker %s; the worker is terminated\n",
		       o.job ? o.job : "(unnamed)", w.id);
	}
	return EXIT_OK;
}

static int terminate(cli *c, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("worker terminate", "give one or more WORKER_IDs");
	cli_json_begin(c, 1);
	for (int i = 1; i < argc; i++) {
		int rc = cp_worker_terminate(c->provider, argv[i]);
		if (rc) {
			cli_json_end(c, 1);
			return cli_fail(c, rc, "cannot terminate the worker");
		}
		if (c->json)
			cli_json_str(c, NULL, argv[i]);
		else if (!c->quiet)
			printf("terminated %s\n", argv[i]);
	}
	cli_json_end(c, 1);
	return EXIT_OK;
}

static int reap(cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cli_usage_error("worker reap", "takes no arguments");
	size_t count = 0;
	int rc = cp_worker_reap(c->provider, (int64_t)time(NULL), &count);
	if (rc)
		return cli_fail(c, rc, "reaping workers failed");
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_uint(c, "reaped", count);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("reaped %zu worker%s past their ttl\n", count, count == 1 ? "" : "s");
	}
	return EXIT_OK;
}

int cmd_worker(cli *c, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *sub = argv[1];
	if (!strcmp(sub, "run"))
		return run(c, argc - 1, argv + 1);
	if (strcmp(sub, "list") && strcmp(sub, "get") && strcmp(sub, "terminate") &&
	    strcmp(sub, "reap"))
		return cli_usage_error("worker", "unknown subcommand '%s'", sub);
	int status = cli_open_provider(c);
	if (status)
		return status;
	if (!strcmp(sub, "terminate"))
		return terminate(c, argc - 1, argv + 1);
	if (!strcmp(sub, "reap"))
		return reap(c, argc - 1, argv + 1);
	int rc;
	if (!strcmp(sub, "list")) {
		if (argc != 2)
			return cli_usage_error("worker list", "takes no arguments");
		header(c);
		cli_json_begin(c, 1);
		rc = cp_worker_list(c->provider, print_worker, c);
		cli_json_end(c, 1);
		return rc ? cli_fail(c, rc, "cannot list workers") : EXIT_OK;
	}
	if (argc != 3)
		return cli_usage_error("worker get", "give exactly one WORKER_ID");
	header(c);
	rc = cp_worker_get(c->provider, argv[2], print_worker, c);
	return rc ? cli_fail(c, rc, "cannot look up the worker") : EXIT_OK;
}
