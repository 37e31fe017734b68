/* cloudprotect cost: what a policy costs a month, per workload and in total. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static const char usage_text[] =
	"usage: cloudprotect cost --policy FILE [--inventory FILE] [--prices FILE] [--compare]\n"
	"                         [--cloud NAME --region NAME] [--change-rate F] [--used F]\n"
	"                         [--stored-ratio F] [--throughput MIBS] [--restores-per-year N]\n"
	"                         [--state DIR] [--no-measure]\n"
	"\n"
	"Estimate the monthly cost of a policy: snapshot storage, backup storage after dedup\n"
	"and compression, archive storage with minimum durations and retrieval, requests,\n"
	"worker time and transfer, per workload and in total (doc/cost.md has the model).\n"
	"Workloads come from --inventory (a JSON array like 'cloudprotect --json inventory'\n"
	"prints, with optional cloud, used, size_gb, used_gb, daily_change_rate) or from the\n"
	"provider. Built-in price tables are overridden region by region by --prices. With\n"
	"the policy's repository readable, dedup and change rates are measured from it,\n"
	"and worker throughput from the backup runs recorded in the state directory\n"
	"(--state, as for `cloudprotect history`) that took at least 10 s each.\n"
	"--compare answers the usual design questions side by side. Workloads on clouds\n"
	"without a price table (local) are priced as --cloud/--region (default aws).\n";

#define MAX_WORKLOADS 4096

typedef struct workloads {
	cp_cost_workload items[MAX_WORKLOADS];
	size_t count;
	char *strings[4 * MAX_WORKLOADS];
	size_t nstrings;
	const cp_policy *policy;
	const char *cloud; /* of the provider, for its inventory */
	int full;
} workloads;

static const char *keep(workloads *w, const char *s)
{
	if (!s || w->nstrings == sizeof(w->strings) / sizeof(w->strings[0]))
		return NULL;
	return w->strings[w->nstrings++] = strdup(s);
}

static void add_workload(workloads *w, const cp_resource *r, const char *cloud, uint64_t used,
			 double rate)
{
	if (!cp_policy_selects(w->policy, r))
		return;
	if (w->count == MAX_WORKLOADS) {
		w->full = 1;
		return;
	}
	cp_cost_workload *x = &w->items[w->count++];
	x->id = keep(w, r->id);
	x->cloud = keep(w, cloud);
	x->region = keep(w, r->region);
	x->size = r->size;
	x->used = used;
	x->daily_change_rate = rate;
}

static int from_provider(const cp_resource *r, void *payload)
{
	workloads *w = payload;
	add_workload(w, r, w->cloud, 0, -1);
	return 0;
}

static const char *jstr(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : NULL;
}

static int jnum(yajl_val obj, const char *key, double *out)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(obj, path, yajl_t_number);
	if (v)
		*out = YAJL_GET_DOUBLE(v);
	return v != NULL;
}

static int from_file(workloads *w, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cloudprotect: error: cannot read inventory file %s: %s\n", path,
			strerror(errno));
		return EXIT_USAGE;
	}
	size_t cap = 1 << 16, n = 0, got;
	char *text = malloc(cap);
	while (text && (got = fread(text + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			char *grown = realloc(text, cap *= 2);
			if (!grown)
				free(text);
			text = grown;
		}
	}
	fclose(f);
	if (!text)
		return EXIT_ERROR;
	text[n] = '\0';
	char err[256] = "";
	yajl_val doc = yajl_tree_parse(text, err, sizeof(err));
	free(text);
	if (!doc || !YAJL_IS_ARRAY(doc)) {
		err[strcspn(err, "\n")] = '\0';
		fprintf(stderr,
			"cloudprotect: error: inventory file %s: want a JSON array of "
			"workloads%s%s\n",
			path, err[0] ? ": " : "", err);
		yajl_tree_free(doc);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < doc->u.array.len; i++) {
		yajl_val v = doc->u.array.values[i];
		cp_resource r;
		memset(&r, 0, sizeof(r));
		r.id = jstr(v, "id");
		const char *kind = jstr(v, "kind");
		cp_resource_kind k = CP_RESOURCE_DISK;
		if (!r.id || (kind && cp_resource_kind_parse(&k, kind))) {
			fprintf(stderr,
				"cloudprotect: error: inventory file %s: item %zu needs an "
				"\"id\" and a known \"kind\" (vm, disk, db, ...)\n",
				path, i);
			yajl_tree_free(doc);
			return EXIT_USAGE;
		}
		r.kind = k;
		r.region = jstr(v, "region");
		r.account = jstr(v, "account");
		double size = 0, used = 0, rate = -1;
		if (jnum(v, "size_gb", &size))
			size *= 1073741824.0;
		else
			jnum(v, "size", &size);
		if (jnum(v, "used_gb", &used))
			used *= 1073741824.0;
		else
			jnum(v, "used", &used);
		jnum(v, "daily_change_rate", &rate);
		r.size = (uint64_t)size;
		const char *tpath[] = {"tags", NULL};
		yajl_val tags = yajl_tree_get(v, tpath, yajl_t_object);
		cp_tag t[64];
		for (size_t j = 0; tags && j < tags->u.object.len && j < 64; j++) {
			t[j].key = tags->u.object.keys[j];
			t[j].value = YAJL_IS_STRING(tags->u.object.values[j])
					     ? YAJL_GET_STRING(tags->u.object.values[j])
					     : "";
			r.ntags = j + 1;
		}
		r.tags = t;
		const char *cloud = jstr(v, "cloud");
		add_workload(w, &r, cloud ? cloud : jstr(v, "provider"), (uint64_t)used, rate);
	}
	yajl_tree_free(doc);
	return 0;
}

/* Measure dedup and change from the policy's repository when it can be read. */
static void measure(cli *c, const cp_policy *p, cp_cost_assumptions *a)
{
	const char *url = cp_policy_repository(p);
	const char *pw = getenv("CLOUDPROTECT_PASSWORD");
	if (!url || (!c->password_file && !(pw && *pw)))
		return;
	if (cli_password(c, NULL, &pw))
		return;
	cp_repository *repo = NULL;
	cp_backup_list list;
	memset(&list, 0, sizeof(list));
	int rc = cp_repository_open(&repo, c->ctx, url, pw);
	if (!rc)
		rc = cp_backup_list_get(&list, repo);
	if (!rc) {
		cp_cost_measure_backups(&list, a);
		cp_backup_list_dispose(&list);
	} else if (!c->quiet) {
		const cp_error *e = cp_error_last();
		fprintf(stderr, "cloudprotect: warning: not measuring %s (%s); using assumptions\n",
			url, e ? e->message : cp_error_code_name(rc));
	}
	cp_repository_close(repo);
}

/* Worker throughput from the policy's recorded backups, when there are any. */
static void measure_throughput(cli *c, const cp_policy *p, const char *state_arg,
			       cp_cost_assumptions *a)
{
	char *dir = cli_state_dir(c, state_arg);
	cp_state *state = NULL;
	if (dir && !access(dir, F_OK) && !cp_state_open(&state, dir))
		cp_cost_measure_runs(state, cp_policy_name(p), a);
	cp_state_free(state);
	free(dir);
}

static void json_breakdown(cli *c, const char *key, const cp_cost_breakdown *b)
{
	cli_json_key(c, key);
	cli_json_begin(c, 0);
	cli_json_double(c, "snapshot_storage", b->snapshot_storage);
	cli_json_double(c, "backup_storage", b->backup_storage);
	cli_json_double(c, "archive_storage", b->archive_storage);
	cli_json_double(c, "archive_min_duration", b->archive_min_duration);
	cli_json_double(c, "archive_retrieval", b->archive_retrieval);
	cli_json_double(c, "requests", b->requests);
	cli_json_double(c, "compute", b->compute);
	cli_json_double(c, "transfer", b->transfer);
	cli_json_double(c, "total", b->total);
	cli_json_end(c, 0);
}

static void print_report(cli *c, const cp_cost_report *r)
{
	if (c->json) {
		cli_json_str(c, "currency", r->currency);
		cli_json_key(c, "workloads");
		cli_json_begin(c, 1);
		for (size_t i = 0; i < r->count; i++) {
			const cp_cost_line *l = &r->lines[i];
			cli_json_begin(c, 0);
			cli_json_str(c, "id", l->workload_id);
			cli_json_str(c, "priced_as", l->cloud);
			cli_json_str(c, "region", l->region);
			cli_json_double(c, "used_gib", l->used_gib);
			cli_json_double(c, "snapshot_gib", l->snapshot_gib);
			cli_json_double(c, "backup_gib", l->backup_gib);
			cli_json_double(c, "archive_gib", l->archive_gib);
			cli_json_double(c, "worker_hours", l->worker_hours);
			cli_json_double(c, "retrieval_per_restore", l->retrieval_per_restore);
			json_breakdown(c, "monthly", &l->cost);
			cli_json_end(c, 0);
		}
		cli_json_end(c, 1);
		json_breakdown(c, "total", &r->total);
		cli_json_key(c, "notes");
		cli_json_begin(c, 1);
		for (size_t i = 0; i < r->nnotes; i++)
			cli_json_str(c, NULL, r->notes[i]);
		cli_json_end(c, 1);
		return;
	}
	printf("%-22s %8s %10s %10s %10s %9s %9s %9s %11s\n", "WORKLOAD", "USED GiB", "SNAPSHOTS",
	       "BACKUPS", "ARCHIVE", "REQUESTS", "COMPUTE", "TRANSFER", "TOTAL/MONTH");
	double used = 0;
	for (size_t i = 0; i < r->count; i++)
		used += r->lines[i].used_gib;
	for (size_t i = 0; i <= r->count; i++) {
		const cp_cost_line *l = i < r->count ? &r->lines[i] : NULL;
		const cp_cost_breakdown *b = l ? &l->cost : &r->total;
		printf("%-22s %8.1f %10.2f %10.2f %10.2f %9.2f %9.2f %9.2f %7.2f %s\n",
		       l ? l->workload_id : "TOTAL", l ? l->used_gib : used, b->snapshot_storage,
		       b->backup_storage,
		       b->archive_storage + b->archive_min_duration + b->archive_retrieval,
		       b->requests, b->compute, b->transfer, b->total, r->currency);
	}
	if (!c->quiet)
		for (size_t i = 0; i < r->nnotes; i++)
			printf("note: %s\n", r->notes[i]);
}

typedef struct variant {
	const char *name;
	int snapshots_only, keep_days, archive_days;
} variant;

static int compare(cli *c, const cp_policy *p, const workloads *w, cp_cost_options *base)
{
	static const variant variants[] = {
		{"as written", 0, -1, -1},
		{"snapshots only", 1, -1, 0},
		{"snapshots kept 30 days", 0, 30, -1},
		{"snapshots kept 90 days", 0, 90, -1},
		{"backups all in the standard tier", 0, -1, 0},
		{"archive after 30 days", 0, -1, 30},
		{"archive after 90 days", 0, -1, 90},
	};
	if (!c->json)
		printf("%-34s %10s %10s %10s %11s\n", "DESIGN", "SNAPSHOTS", "BACKUPS", "ARCHIVE",
		       "TOTAL/MONTH");
	cli_json_begin(c, 1);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		cp_cost_options o = *base;
		o.snapshots_only = variants[i].snapshots_only;
		o.snapshot_keep_days = variants[i].keep_days;
		o.archive_after_days = variants[i].archive_days;
		if (variants[i].archive_days > 0 && !cp_policy_repository(p))
			continue;
		cp_cost_report r;
		int rc = cp_cost_estimate(&r, p, w->items, w->count, &o);
		if (rc) {
			cli_json_end(c, 1);
			return cli_fail(c, rc, "cannot estimate");
		}
		const cp_cost_breakdown *b = &r.total;
		double archive =
			b->archive_storage + b->archive_min_duration + b->archive_retrieval;
		if (c->json) {
			cli_json_begin(c, 0);
			cli_json_str(c, "design", variants[i].name);
			cli_json_str(c, "currency", r.currency);
			json_breakdown(c, "total", b);
			cli_json_end(c, 0);
		} else {
			printf("%-34s %10.2f %10.2f %10.2f %7.2f %s\n", variants[i].name,
			       b->snapshot_storage, b->backup_storage, archive, b->total,
			       r.currency);
		}
		cp_cost_report_dispose(&r);
	}
	cli_json_end(c, 1);
	return EXIT_OK;
}

static int parse_fraction(const char *text, double lo, double hi, double *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || !end || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int cmd_cost(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"policy", required_argument, NULL, 'p'},
		{"inventory", required_argument, NULL, 'i'},
		{"prices", required_argument, NULL, 'P'},
		{"compare", no_argument, NULL, 'C'},
		{"cloud", required_argument, NULL, 'c'},
		{"region", required_argument, NULL, 'g'},
		{"change-rate", required_argument, NULL, 'r'},
		{"used", required_argument, NULL, 'u'},
		{"stored-ratio", required_argument, NULL, 's'},
		{"throughput", required_argument, NULL, 't'},
		{"restores-per-year", required_argument, NULL, 'R'},
		{"no-measure", no_argument, NULL, 'n'},
		{"state", required_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	const char *policy_file = NULL, *inventory = NULL, *price_file = NULL, *state_dir = NULL;
	int do_compare = 0, no_measure = 0, opt;
	cp_cost_options o = CP_COST_OPTIONS_INIT;
	cp_cost_assumptions given = o.assumptions;
	unsigned int overridden = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int bad = 0;
		switch (opt) {
		case 'p': policy_file = optarg; break;
		case 'i': inventory = optarg; break;
		case 'P': price_file = optarg; break;
		case 'C': do_compare = 1; break;
		case 'n': no_measure = 1; break;
		case 'S': state_dir = optarg; break;
		case 'c': o.default_cloud = optarg; break;
		case 'g': o.default_region = optarg; break;
		case 'r':
			bad = parse_fraction(optarg, 0, 1, &given.daily_change_rate);
			overridden |= 1;
			break;
		case 'u': bad = parse_fraction(optarg, 0.001, 1, &given.used_fraction); break;
		case 's':
			bad = parse_fraction(optarg, 0.001, 2, &given.stored_ratio);
			overridden |= 2;
			break;
		case 't':
			bad = parse_fraction(optarg, 0.001, 1e6, &given.throughput_mib_s);
			overridden |= 4;
			break;
		case 'R':
			bad = parse_fraction(optarg, 0, 1e6, &given.archive_restores_per_year);
			break;
		default: return cli_usage_error("cost", "unknown option");
		}
		if (bad)
			return cli_usage_error("cost",
					       "bad value '%s' (rates and fractions 0..1, stored "
					       "ratio up to 2, throughput and restores > 0)",
					       optarg);
	}
	if (!policy_file)
		return cli_usage_error("cost", "--policy FILE is required");
	if (optind != argc)
		return cli_usage_error("cost", "unexpected argument '%s'", argv[optind]);

	cp_policy *p = NULL;
	cp_prices *prices = NULL;
	workloads *w = calloc(1, sizeof(*w));
	int status = EXIT_OK;
	int rc = w ? cp_policy_load(&p, policy_file) : CP_ENOMEM;
	if (rc) {
		status = cli_fail(c, rc, "invalid policy");
		goto out;
	}
	rc = cp_prices_load_default(&prices);
	if (rc && price_file) {
		rc = cp_prices_new(&prices); /* the user's file alone will do */
	}
	if (!rc && price_file)
		rc = cp_prices_add_file(prices, price_file);
	if (rc) {
		status = cli_fail(c, rc, "cannot load price tables");
		goto out;
	}
	w->policy = p;
	if (inventory) {
		status = from_file(w, inventory);
	} else if (!(status = cli_open_provider(c))) {
		w->cloud = cp_provider_name(c->provider);
		rc = cp_provider_inventory(c->provider, NULL, from_provider, w);
		if (rc)
			status = cli_fail(c, rc, "cannot list the workloads");
	}
	if (status)
		goto out;
	if (w->full)
		fprintf(stderr, "cloudprotect: warning: only the first %d workloads are priced\n",
			MAX_WORKLOADS);
	if (!no_measure) {
		measure(c, p, &o.assumptions);
		measure_throughput(c, p, state_dir, &o.assumptions);
	}
	/* What the user says wins over what was measured. */
	if (overridden & 1)
		o.assumptions.daily_change_rate = given.daily_change_rate;
	if (overridden & 2)
		o.assumptions.stored_ratio = given.stored_ratio;
	o.assumptions.used_fraction = given.used_fraction;
	if (overridden & 4)
		o.assumptions.throughput_mib_s = given.throughput_mib_s;
	o.assumptions.archive_restores_per_year = given.archive_restores_per_year;
	o.prices = prices;
	if (do_compare) {
		status = compare(c, p, w, &o);
		goto out;
	}
	cp_cost_report r;
	rc = cp_cost_estimate(&r, p, w->items, w->count, &o);
	if (rc) {
		status = cli_fail(c, rc, "cannot estimate");
		goto out;
	}
	cli_json_begin(c, 0);
	cli_json_str(c, "policy", cp_policy_name(p));
	print_report(c, &r);
	cli_json_end(c, 0);
	cp_cost_report_dispose(&r);
out:
	if (w)
		for (size_t i = 0; i < w->nstrings; i++)
			free(w->strings[i]);
	free(w);
	cp_prices_free(prices);
	cp_policy_free(p);
	return status;
}
